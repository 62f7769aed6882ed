/**
 * Group `compiler`: what `nicoff compile` produces and what it costs.
 * - Per NFP-accepted example: NFP words and static worst-path cycles in the
 *   optimizing and kernel-compatible modes, their ratio, and the totals the
 *   issue's targets are stated on (every word of the image counted).
 * - Each pass alone: the totals with only that pass switched off.
 * - Compile time (median of several runs, in process) and peak heap for each
 *   example and for generated straight-line programs of 500, 1,000, 2,000 and
 *   4,000 eBPF instructions, so the growth with size shows.
 * - End-to-end `nicoff compile` of the largest example as a process, beside
 *   an empty Node start.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileProgram, type CompiledProgram } from '../src/compiler/compile-program.js';
import { PASS_NAMES, type PassName } from '../src/compiler/optimize/passes.js';
import { NicoffError } from '../src/diagnostics/diagnostic.js';
import { singleProgramObject, type BpfObject, type BpfProgram } from '../src/ebpf/bpf-object.js';
import { assembleProgram } from '../src/ebpf/assemble.js';
import { loadObject } from '../src/ebpf/load-object.js';
import { decodeProgram } from '../src/ebpf/decode.js';
import { REPO_ROOT, type BenchFigure, type GroupResult } from './group-result.js';
import { machineFacts } from './machine-facts.js';
import { median } from './statistics.js';

const COMMAND = 'npm run bench -- compiler';
const EXAMPLES = join(REPO_ROOT, 'examples');
const GENERATED_SIZES = [500, 1000, 2000, 4000];

interface Unit {
  name: string;
  obj: BpfObject;
  prog: BpfProgram;
}

const GOLDEN_DIR = join(REPO_ROOT, '..', 'shared', 'nfp-golden');

/** A golden program that is not an example (tc_shot), rebuilt from the eBPF bytes its listing header shows. */
function goldenOnly(name: string, type: 'xdp' | 'sched_cls'): Unit | undefined {
  if (!existsSync(join(GOLDEN_DIR, `${name}.txt`))) return undefined;
  const hexWords = [...readFileSync(join(GOLDEN_DIR, `${name}.txt`), 'utf8').matchAll(/^#\s+bpf#\d+\s+([0-9a-f]{16})/gm)].map((m) => m[1]!);
  const bytes = Uint8Array.from(Buffer.from(hexWords.join(''), 'hex'));
  const { obj, prog } = singleProgramObject(name, type, decodeProgram(bytes, 'le'), { bytes });
  return { name: `${name} (golden)`, obj, prog };
}

function acceptedExamples(): Unit[] {
  const out: Unit[] = [];
  const tc = goldenOnly('tc_shot', 'sched_cls');
  if (tc) out.push(tc);
  for (const file of readdirSync(EXAMPLES).filter((f) => f.endsWith('.o')).sort()) {
    const obj = loadObject(readFileSync(join(EXAMPLES, file)), { path: file });
    for (const prog of obj.programs) {
      try {
        compileProgram(obj, prog, { mode: 'kernel-compat' });
        out.push({ name: file.replace(/\.o$/, ''), obj, prog });
      } catch (e) {
        if (!(e instanceof NicoffError)) throw e;
      }
    }
  }
  return out;
}

/**
 * A straight-line packet-free XDP program of about `n` instructions: blocks of
 * 64-bit and 32-bit arithmetic on r2-r5 with a forward compare to the exit,
 * the shape of a long classifier.
 */
function generatedProgram(n: number): Unit {
  // R2 and R3 start unknown (bpf_get_prandom_u32), so the verifier decides no branch and the code stays.
  const lines = ['call 7', 'r2 = r0', 'r3 = r0', 'r4 = 3', 'r5 = 4'];
  const blocks = Math.floor((n - 7) / 6);
  for (let b = 0; b < blocks; b++) {
    const k = (b * 2654435761) % 4096;
    lines.push(`r2 += ${k}`, 'r3 ^= r2', 'w4 = w3', 'r4 &= 0xfff', `r5 |= ${b & 0xff}`, `if r4 == ${k} goto +${6 * (blocks - b - 1) + 1}`);
  }
  lines.push('r0 = 2', 'exit');
  const insns = assembleProgram(lines.join('\n'));
  const { obj, prog } = singleProgramObject(`generated_${n}`, 'xdp', insns);
  return { name: `generated ${insns.length} insns`, obj, prog };
}

/** Generated programs outgrow the default 2,560-word vNIC slot: they are compiled for a whole code store. */
const WHOLE_CODE_STORE = { startPc: 0, maxProgramLength: 8192 };

function compileTime(u: Unit, runs: number): { ms: number; peakHeapMb: number; words: number } {
  const times: number[] = [];
  let words = 0;
  let peak = 0;
  for (let r = 0; r < runs; r++) {
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    const t = performance.now();
    const c = compileProgram(u.obj, u.prog, u.name.startsWith('generated') ? WHOLE_CODE_STORE : {});
    times.push(performance.now() - t);
    peak = Math.max(peak, process.memoryUsage().heapUsed - before);
    words = c.image.words.length;
  }
  return { ms: median(times), peakHeapMb: peak / 1e6, words };
}

const pct = (a: number, b: number): string => `${((1 - a / b) * 100).toFixed(1)}%`;

export function runCompilerGroup(): GroupResult {
  const units = acceptedExamples();
  const figures: BenchFigure[] = [];
  const perProgram: Record<string, unknown>[] = [];
  const totals = { optimize: { words: 0, cycles: 0 }, kernel: { words: 0, cycles: 0 } };
  const compileBoth = (u: Unit, disabled: PassName[] = []): { o: CompiledProgram; k: CompiledProgram } => ({
    o: compileProgram(u.obj, u.prog, { disabledPasses: disabled }),
    k: compileProgram(u.obj, u.prog, { mode: 'kernel-compat' }),
  });
  for (const u of units) {
    const { o, k } = compileBoth(u);
    const ow = o.image.words.length;
    const kw = k.image.words.length;
    const oc = o.cycles.worst!.cycles;
    const kc = k.cycles.worst!.cycles;
    totals.optimize.words += ow;
    totals.kernel.words += kw;
    totals.optimize.cycles += oc;
    totals.kernel.cycles += kc;
    perProgram.push({ program: u.name, optimizeWords: ow, kernelWords: kw, optimizeWorstCycles: oc, kernelWorstCycles: kc, worstSleep: o.cycles.worst!.sleep });
    figures.push({
      figure: `${u.name}: NFP words / worst-path cycles, optimize vs kernel-compat`,
      value: `${ow} / ${oc} vs ${kw} / ${kc} (words ${(ow / kw).toFixed(2)}x, cycles ${(oc / kc).toFixed(2)}x; ${o.cycles.worst!.sleep} of the ${oc} cycles asleep on memory or helpers)`,
      command: COMMAND,
    });
  }
  figures.push({
    figure: `total over the ${units.length} NFP-accepted examples and golden programs (tc_shot, and the five that are examples): words, worst-path cycles`,
    value: `words ${totals.optimize.words} vs ${totals.kernel.words} (${pct(totals.optimize.words, totals.kernel.words)} fewer; target 25%), cycles ${totals.optimize.cycles} vs ${totals.kernel.cycles} (${pct(totals.optimize.cycles, totals.kernel.cycles)} fewer; target 20%)`,
    command: COMMAND,
  });
  // The array-addresses pass needs firmware that keeps array values flat (the software NFP); the published nic-firmware does not.
  const published = { words: 0, cycles: 0 };
  for (const u of units) {
    const c = compileProgram(u.obj, u.prog, { firmware: 'nic-firmware' });
    published.words += c.image.words.length;
    published.cycles += c.cycles.worst!.cycles;
  }
  figures.push({
    figure: 'the same totals for the published nic-firmware (--firmware nic-firmware: every array lookup calls the firmware)',
    value: `words ${published.words} vs ${totals.kernel.words} (${pct(published.words, totals.kernel.words)} fewer), cycles ${published.cycles} vs ${totals.kernel.cycles} (${pct(published.cycles, totals.kernel.cycles)} fewer)`,
    command: COMMAND,
  });
  const passEffect: Record<string, unknown> = {};
  for (const pass of PASS_NAMES) {
    let words = 0;
    let cycles = 0;
    for (const u of units) {
      const c = compileProgram(u.obj, u.prog, { disabledPasses: [pass] });
      words += c.image.words.length;
      cycles += c.cycles.worst!.cycles;
    }
    passEffect[pass] = { words, cycles };
    figures.push({
      figure: `pass ${pass}: totals with only it switched off (--no-pass ${pass})`,
      value: `words ${words} (+${words - totals.optimize.words}), worst cycles ${cycles} (+${cycles - totals.optimize.cycles})`,
      command: COMMAND,
    });
  }
  const timing: Record<string, unknown>[] = [];
  for (const u of [...units, ...GENERATED_SIZES.map(generatedProgram)]) {
    compileTime(u, 2); // warm-up
    const t = compileTime(u, 7);
    timing.push({ unit: u.name, ebpfSlots: u.prog.insns.length, ...t });
    figures.push({
      figure: `compile time (verify + lower + passes + image), ${u.name}, ${u.prog.insns.length} eBPF slots`,
      value: `${t.ms.toFixed(2)} ms median of 7, ${t.words} NFP words, heap growth ${t.peakHeapMb.toFixed(1)} MB`,
      command: COMMAND,
    });
  }
  const largest = units.filter((u) => !u.name.endsWith('(golden)')).reduce((a, b) => (b.prog.insns.length > a.prog.insns.length ? b : a));
  const proc = (args: string[]): number => {
    const runs: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t = performance.now();
      spawnSync(process.execPath, args, { cwd: REPO_ROOT, stdio: 'ignore' });
      runs.push(performance.now() - t);
    }
    return median(runs);
  };
  const cli = proc([join(REPO_ROOT, 'dist', 'cli', 'main.js'), 'compile', join(EXAMPLES, `${largest.name}.o`), '-o', '/tmp/nicoff-bench-compile.nfp']);
  const empty = proc(['-e', '0']);
  figures.push({
    figure: `end-to-end nicoff compile of the largest example (${largest.name}) as a process, beside an empty Node start`,
    value: `${cli.toFixed(0)} ms vs ${empty.toFixed(0)} ms (median of 5; needs npm run build)`,
    command: COMMAND,
  });
  return {
    group: 'compiler',
    date: new Date().toISOString(),
    machine: machineFacts(),
    method:
      'Generated programs are compiled for a whole code store (start 0, 8,192 words), as the largest outgrow the default 2,560-word slot. Words count every word of the image (prologue, outro, trampolines, nop tail). Cycles are the static worst path of src/compiler/static-cycles.ts under the reference latency model v1 (a model, not a card). Compile times are medians of 7 in-process runs after 2 warm-ups; heap growth is heapUsed after minus before one compile (approximate).',
    figures,
    notes: [
      'Most of the remaining worst-path cycles are sleeps the passes do not touch yet (CTM packet reads after each jump target, hash-map helpers, EMEM atomics); see the per-program "asleep" share.',
      'The default firmware is the software NFP, which keeps array values flat, so array lookups become address computations (pass array-addresses); the nic-firmware line shows the totals for the published firmware, whose arrays sit behind the lookup helper.',
    ],
    raw: { perProgram, totals, nicFirmwareTotals: published, passEffect, timing },
  };
}
