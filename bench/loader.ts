/**
 * Group `loader`: loadObject's time per load and memory on the largest
 * committed example object and on a generated object of at least 100,000
 * instructions (bench/gen/large-xdp-source.ts, compiled at bench time into a
 * temporary directory). Every measurement runs in its own child process
 * (bench/loader-child.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { loadObject } from '../src/ebpf/load-object.js';
import type { BpfObject } from '../src/ebpf/bpf-object.js';
import { runBenchChild, runMemoryPairs } from './bench-child.js';
import { largeXdpSource, type LargeXdpShape } from './gen/large-xdp-source.js';
import { REPO_ROOT, type BenchFigure, type GroupResult } from './group-result.js';
import type { LoaderMemoryAnswer, LoaderTimeAnswer } from './loader-child.js';
import { machineFacts } from './machine-facts.js';
import { median, significant, spread } from './statistics.js';

const COMMAND = 'npm run bench -- loader';
const MIN_GENERATED_INSNS = 100_000;
/** 64 functions x 225 statements: about 112k instructions with clang 14 -O2 (about 7 s to compile). */
const FIRST_SHAPE: LargeXdpShape = { functions: 64, statementsPerFunction: 225, statementsPerLine: 3 };
const MEMORY_PAIRS = 3;
const CLANG = process.env.CLANG || 'clang';

interface ObjectUnderTest {
  label: string;
  path: string;
  /** How to name the file in the doc (repository-relative, or how it was made). */
  shownAs: string;
  warmup: number;
  runs: number;
}

function log(message: string): void {
  process.stderr.write(`[loader] ${message}\n`);
}

/** Instructions, counting an ld_imm64 once, over all programs; and the slots they fill. */
function instructionCounts(obj: BpfObject): { instructions: number; slots: number } {
  let instructions = 0;
  let slots = 0;
  for (const p of obj.programs) {
    slots += p.insns.length;
    instructions += p.insns.length - p.insns.filter((i) => i.slots === 2).length;
  }
  return { instructions, slots };
}

function largestObjectIn(dir: string): string | undefined {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.o'));
  } catch {
    return undefined;
  }
  const sized = names.map((n) => ({ path: join(dir, n), size: statSync(join(dir, n)).size }));
  sized.sort((a, b) => b.size - a.size);
  return sized[0]?.path;
}

function compileLargeObject(dir: string): { path: string; shape: LargeXdpShape; compileSeconds: number } {
  let shape = FIRST_SHAPE;
  for (let attempt = 0; attempt < 3; attempt++) {
    const source = join(dir, 'large-xdp.c');
    const object = join(dir, 'large-xdp.o');
    writeFileSync(source, largeXdpSource(shape));
    const start = performance.now();
    const include = `-I/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
    const clang = spawnSync(CLANG, ['-O2', '-g', '-Wall', '-target', 'bpf', include, '-c', source, '-o', object], {
      encoding: 'utf8',
    });
    if (clang.error) throw new Error(`cannot run ${CLANG}: ${clang.error.message}`);
    if (clang.status !== 0) throw new Error(`${CLANG} failed: ${clang.stderr.slice(-800)}`);
    const compileSeconds = (performance.now() - start) / 1000;
    const { instructions } = instructionCounts(loadObject(readFileSync(object), { path: object }));
    log(`generated ${shape.functions}x${shape.statementsPerFunction} statements: ${instructions} instructions, clang ${compileSeconds.toFixed(1)} s`);
    if (instructions >= MIN_GENERATED_INSNS) return { path: object, shape, compileSeconds };
    const grow = Math.ceil(((MIN_GENERATED_INSNS * 1.05) / Math.max(instructions, 1)) * shape.functions);
    shape = { ...shape, functions: grow };
  }
  throw new Error(`could not generate an object of ${MIN_GENERATED_INSNS} instructions`);
}

const mib = (bytes: number): string => `${(bytes / (1 << 20)).toFixed(1)} MiB`;
const fileSize = (bytes: number): string => (bytes >= 1 << 20 ? mib(bytes) : `${(bytes / 1024).toFixed(1)} KiB`);
const ms = (value: number): string => (value >= 100 ? `${value.toFixed(0)} ms` : `${value.toPrecision(3)} ms`);

function measureObject(target: ObjectUnderTest) {
  const bytes = readFileSync(target.path);
  const counts = instructionCounts(loadObject(bytes, { path: target.path }));
  log(`${target.label}: timing ${target.runs} loads after ${target.warmup} warm-up loads`);
  const timing = runBenchChild<LoaderTimeAnswer>('loader-child.ts', ['time', target.path, String(target.warmup), String(target.runs)]);
  const { rssGrowthKiB, baselineRssSpreadKiB, heapGrowth, worked } = runMemoryPairs<LoaderMemoryAnswer>(
    'loader-child.ts',
    (load) => ['memory', target.path, load ? 'load' : 'baseline'],
    MEMORY_PAIRS,
    (i) => log(`${target.label}: memory pair ${i + 1}/${MEMORY_PAIRS}`),
  );
  const coldMs = worked.flatMap((loaded) => (loaded.coldLoadMs !== undefined ? [loaded.coldLoadMs] : []));
  return {
    label: target.label,
    file: target.shownAs,
    fileBytes: bytes.length,
    instructions: counts.instructions,
    slots: counts.slots,
    warmLoadMs: { median: significant(median(timing.loadMs)), ...roundSpread(timing.loadMs), runs: target.runs, warmup: target.warmup },
    coldLoadMs: { median: significant(median(coldMs)), ...roundSpread(coldMs), runs: coldMs.length },
    peakRssGrowthKiB: { median: median(rssGrowthKiB), samples: rssGrowthKiB },
    /** How much the baseline children's own peaks differ: growth below this is noise. */
    baselineRssSpreadKiB,
    retainedHeapBytes: { median: median(heapGrowth), samples: heapGrowth },
  };
}

function roundSpread(values: number[]): { min: number; max: number } {
  const s = spread(values);
  return { min: significant(s.min), max: significant(s.max) };
}

type ObjectMeasurement = ReturnType<typeof measureObject>;

function figuresFor(m: ObjectMeasurement): BenchFigure[] {
  const name = `${m.label} (${m.file})`;
  return [
    { figure: `${name}: size, instructions`, value: `${fileSize(m.fileBytes)} (${m.fileBytes} B), ${m.instructions} instructions in ${m.slots} slots`, command: COMMAND },
    {
      figure: `${name}: loadObject time per load, warm (median of ${m.warmLoadMs.runs} after ${m.warmLoadMs.warmup} warm-up)`,
      value: `${ms(m.warmLoadMs.median)} (${ms(m.warmLoadMs.min)}–${ms(m.warmLoadMs.max)})`,
      command: COMMAND,
    },
    {
      figure: `${name}: first load in a fresh process (median of ${m.coldLoadMs.runs})`,
      value: `${ms(m.coldLoadMs.median)}`,
      command: COMMAND,
    },
    {
      figure: `${name}: peak RSS added by one load (maxRSS minus a child doing all but the load; median of ${MEMORY_PAIRS} pairs)`,
      value:
        Math.abs(m.peakRssGrowthKiB.median) <= m.baselineRssSpreadKiB
          ? `below noise (${mib(m.peakRssGrowthKiB.median * 1024)}; baseline children differ by up to ${mib(m.baselineRssSpreadKiB * 1024)})`
          : mib(m.peakRssGrowthKiB.median * 1024),
      command: COMMAND,
    },
    {
      figure: `${name}: heap retained by the loaded object (heapUsed growth after GC)`,
      value: mib(m.retainedHeapBytes.median),
      command: COMMAND,
    },
  ];
}

export function runLoaderGroup(): GroupResult {
  const examples = largestObjectIn(join(REPO_ROOT, 'examples'));
  const committed = examples ?? largestObjectIn(join(REPO_ROOT, 'test', 'fixtures', 'objects'));
  const targets: ObjectUnderTest[] = [];
  if (committed) {
    targets.push({
      label: examples ? 'largest example' : 'largest test object',
      path: committed,
      shownAs: relative(REPO_ROOT, committed),
      warmup: 50,
      runs: 300,
    });
  }
  const tempDir = mkdtempSync(join(tmpdir(), 'nicoff-bench-loader-'));
  try {
    const large = compileLargeObject(tempDir);
    targets.push({
      label: 'generated',
      path: large.path,
      shownAs: `${basename(large.path)}: ${large.shape.functions} noinline functions x ${large.shape.statementsPerFunction} statements, ${CLANG} -O2 -g`,
      warmup: 2,
      runs: 9,
    });
    const measured = targets.map(measureObject);
    const ratio = measured.length === 2 ? measured[1].warmLoadMs.median / measured[0].warmLoadMs.median : undefined;
    const perInsn = measured.map((m) => ({ label: m.label, nsPerInstruction: significant((m.warmLoadMs.median * 1e6) / m.instructions, 3) }));
    const figures = measured.flatMap(figuresFor);
    for (const p of perInsn) {
      figures.push({ figure: `${p.label}: warm load time per instruction`, value: `${p.nsPerInstruction} ns`, command: COMMAND });
    }
    if (ratio !== undefined) {
      figures.push({ figure: 'generated vs committed object: warm load time ratio', value: `${ratio.toFixed(0)}x`, command: COMMAND });
    }
    return {
      group: 'loader',
      date: new Date().toISOString(),
      machine: machineFacts(),
      method:
        'Each timing runs in its own child process (`node --import tsx bench/loader-child.ts`): warm-up loads, then the median of timed loads of the same bytes (file read excluded). ' +
        'Memory: a child that loads once against a child that does everything else (start, import, read the file, GC); peak RSS is the difference of `process.resourceUsage().maxRSS`, retained heap is `heapUsed` growth after a forced GC with the object still referenced. ' +
        `The generated object is C from bench/gen/large-xdp-source.ts compiled at bench time (clang ${large.compileSeconds.toFixed(1)} s), not committed.`,
      figures,
      notes: [],
      raw: { objects: measured, generatedShape: large.shape, clangSeconds: significant(large.compileSeconds, 3) },
    };
  } finally {
    rmSync(tempDir, { recursive: true, force: true });
  }
}
