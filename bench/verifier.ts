/**
 * Group `verifier`: nicoff's verification time and memory on every example
 * program, on the largest kernel-accepted corpus case and on the one the
 * kernel processes most instructions for (a bounded loop), beside the running
 * kernel's own verification time for the same program ("verification time N
 * usec", log level 4 = BPF_LOG_STATS) measured in the same run and quoted as
 * a ratio, with both sides' processed-instruction counts; then the mutation
 * fuzzer (src/verifier/mutate.ts) at 10,000 mutants against the kernel.
 *
 * nicoff timings and memory run in their own child processes
 * (bench/verifier-child.ts); kernel loads go through the kernel runner.
 */
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { isKernelRunnerAvailable, runInKernelSync } from '../src/ebpf/kernel/kernel-runner.js';
import {
  collectCases,
  describeMutant,
  kernelVerdictsAll,
  runMutationCampaign,
  selectMutationParents,
  type DifferentialCase,
} from '../src/verifier/differential.js';
import { runBenchChild, runMemoryPairs } from './bench-child.js';
import { REPO_ROOT, type BenchFigure, type GroupResult } from './group-result.js';
import { machineFacts } from './machine-facts.js';
import { median, significant, spread } from './statistics.js';
import type { VerifierMemoryAnswer, VerifierTimeAnswer } from './verifier-child.js';

const COMMAND = 'npm run bench -- verifier';
const KERNEL_LOADS = 15;
const MEMORY_PAIRS = 3;
const FUZZ_MUTANTS = 10_000;
const FUZZ_FIRST_SEED = 1;
/** Same rule as test/verifier/mutation-fuzz.test.ts: bounded-loop parents make every mutant take seconds. */
const PARENT_MAX_PROCESSED_INSNS = 20_000;

interface Subject {
  label: string;
  /** Repository-relative file, and the program in it ('-' for a corpus case). */
  file: string;
  program: string;
  case: DifferentialCase;
}

function log(message: string): void {
  process.stderr.write(`[verifier] ${message}\n`);
}

const ms = (v: number): string => (v >= 100 ? `${v.toFixed(0)} ms` : `${v.toPrecision(3)} ms`);
const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;

/** The kernel's own figure from a log-level-4 load: "verification time N usec". */
function kernelVerification(c: DifferentialCase): { usec: number[]; processedInsns?: number; loaded: boolean } {
  const usec: number[] = [];
  let processedInsns: number | undefined;
  let loaded = false;
  for (let i = 0; i < KERNEL_LOADS; i++) {
    const r = runInKernelSync({ ...c.request, logLevel: 4 });
    const m = /verification time (\d+) usec/.exec(r.log);
    if (!m) throw new Error(`${c.name}: no "verification time" in the kernel log: ${r.log.slice(-300)}`);
    usec.push(Number(m[1]));
    processedInsns = r.processedInsns;
    loaded = r.loaded;
  }
  return { usec, processedInsns, loaded };
}

function measureSubject(s: Subject) {
  const path = join(REPO_ROOT, s.file);
  // One probe run after a short warm-up (a cold first run is many times slower) sizes the repetitions: slow programs get fewer.
  const probe = runBenchChild<VerifierTimeAnswer>('verifier-child.ts', ['time', path, s.program, '3', '1']);
  const slow = probe.verifyMs[0] > 1000;
  const warmup = slow ? 1 : 20;
  const runs = slow ? 5 : 51;
  log(`${s.label}: ${runs} timed verifications after ${warmup} warm-up`);
  const timing = runBenchChild<VerifierTimeAnswer>('verifier-child.ts', ['time', path, s.program, String(warmup), String(runs)]);
  const { rssGrowthKiB, baselineRssSpreadKiB, heapGrowth } = runMemoryPairs<VerifierMemoryAnswer>(
    'verifier-child.ts',
    (verify) => ['memory', path, s.program, verify ? 'verify' : 'baseline'],
    MEMORY_PAIRS,
  );
  log(`${s.label}: ${KERNEL_LOADS} kernel loads at log level 4`);
  const kernel = kernelVerification(s.case);
  const nicoffMs = median(timing.verifyMs);
  const kernelMs = median(kernel.usec) / 1000;
  const { min, max } = spread(timing.verifyMs);
  return {
    label: s.label,
    file: s.file,
    program: s.program,
    nicoff: {
      ok: timing.ok,
      medianMs: significant(nicoffMs),
      minMs: significant(min),
      maxMs: significant(max),
      runs,
      warmup,
      processedInsns: timing.processedInsns,
      totalStates: timing.totalStates,
      peakStates: timing.peakStates,
      peakRssGrowthKiB: median(rssGrowthKiB),
      baselineRssSpreadKiB,
      retainedHeapBytes: median(heapGrowth),
    },
    kernel: { loaded: kernel.loaded, medianUsec: median(kernel.usec), loads: KERNEL_LOADS, processedInsns: kernel.processedInsns },
    ratio: significant(nicoffMs / kernelMs, 3),
  };
}

type SubjectMeasurement = ReturnType<typeof measureSubject>;

function subjectFigures(m: SubjectMeasurement): BenchFigure[] {
  const name = m.program === '-' ? m.file : `${m.file}:${m.program}`;
  const n = m.nicoff;
  // Growth within the spread of the baseline children's own peaks (or negative) is noise, not memory use.
  const rss = n.peakRssGrowthKiB <= n.baselineRssSpreadKiB ? `below noise (baseline children differ by ${mib(n.baselineRssSpreadKiB)})` : mib(n.peakRssGrowthKiB);
  const retained = `${(Math.max(0, n.retainedHeapBytes) / 1024).toFixed(0)} KiB`;
  const verdicts = n.ok === m.kernel.loaded ? (n.ok ? 'both accept' : 'both refuse') : `nicoff ${n.ok ? 'accepts' : 'refuses'}, kernel ${m.kernel.loaded ? 'accepts' : 'refuses'}`;
  return [
    {
      figure: `${name}: verification time, nicoff (median of ${n.runs} after ${n.warmup} warm-up) / kernel (median of ${m.kernel.loads} loads)`,
      value: `${ms(n.medianMs)} (${ms(n.minMs)}–${ms(n.maxMs)}) / ${m.kernel.medianUsec} µs = ${m.ratio}x`,
      command: COMMAND,
    },
    {
      figure: `${name}: processed instructions nicoff / kernel; nicoff states (peak); peak RSS added by one verification; heap the result keeps; verdicts`,
      value: `${n.processedInsns} / ${m.kernel.processedInsns ?? '?'}; ${n.totalStates} (${n.peakStates}); ${rss}; ${retained}; ${verdicts}`,
      command: COMMAND,
    },
  ];
}

async function fuzz(all: DifferentialCase[]) {
  const parents = await selectMutationParents(all, { maxProcessedInsns: PARENT_MAX_PROCESSED_INSNS, concurrency: availableParallelism() * 2 });
  log(`fuzzer: ${FUZZ_MUTANTS} mutants of ${parents.length} parents`);
  const campaign = await runMutationCampaign(parents, {
    mutants: FUZZ_MUTANTS,
    firstSeed: FUZZ_FIRST_SEED,
    concurrency: availableParallelism() * 2,
    onOutcome: (_o, done, total) => {
      if (done % 1000 === 0) log(`fuzzer: ${done}/${total}`);
    },
  });
  return { parents: parents.length, ...campaign };
}

export async function runVerifierGroup(): Promise<GroupResult> {
  const kernel = isKernelRunnerAvailable();
  if (!kernel.ok) throw new Error(`the verifier group compares with the kernel, which cannot be used: ${kernel.reason}`);
  const loadAtStart = loadavg()[0];
  const examples = collectCases(join(REPO_ROOT, 'examples'), REPO_ROOT).cases;
  const corpus = collectCases(join(REPO_ROOT, 'test', 'verifier', 'corpus'), REPO_ROOT).cases;
  const largest = corpus
    .filter((c) => c.recordedVerdict === 'accept')
    .reduce((a, b) => (b.input.insns.length > a.input.insns.length ? b : a));
  // The heaviest to verify: most instructions processed by the kernel among the accepted cases.
  const accepted = corpus.filter((c) => c.recordedVerdict === 'accept');
  const processed = await kernelVerdictsAll(accepted, availableParallelism() * 2);
  const heaviest = accepted[processed.reduce((best, v, i) => ((v?.processedInsns ?? 0) > (processed[best]?.processedInsns ?? 0) ? i : best), 0)];
  const subjects: Subject[] = [
    ...examples.map((c) => {
      const [file, program] = c.name.split(':');
      return { label: c.name, file, program, case: c };
    }),
    { label: `largest accepted corpus case (${largest.input.insns.length} slots)`, file: largest.name, program: '-', case: largest },
    { label: 'corpus case the kernel processes most instructions for', file: heaviest.name, program: '-', case: heaviest },
  ];
  const measured = subjects.map(measureSubject);
  const figures = measured.flatMap(subjectFigures);
  const ratios = measured.map((m) => m.ratio);
  figures.push({
    figure: `nicoff / kernel verification time over the ${measured.length} programs above: median (range)`,
    value: `${significant(median(ratios), 3)}x (${Math.min(...ratios)}x–${Math.max(...ratios)}x)`,
    command: COMMAND,
  });

  const campaign = await fuzz([...examples, ...corpus]);
  const s = campaign.summary;
  const unsound = campaign.outcomes.filter((o) => o.class === 'unsound');
  const crashed = campaign.outcomes.filter((o) => o.nicoff?.crashed);
  const rate = s.kernelAccepted ? (100 * s.counts.imprecise) / s.kernelAccepted : 0;
  figures.push(
    {
      figure: `mutation fuzzer: ${FUZZ_MUTANTS} mutants of ${campaign.parents} kernel-accepted parents (seeds ${FUZZ_FIRST_SEED}..${FUZZ_FIRST_SEED + FUZZ_MUTANTS - 1}): unsound accepts (must be 0)`,
      value: String(s.counts.unsound),
      command: COMMAND,
    },
    {
      figure: 'mutation fuzzer: imprecise refusals (nicoff refuses, kernel accepts) / kernel-accepted mutants',
      value: `${s.counts.imprecise} / ${s.kernelAccepted} (${rate.toFixed(1)}%)`,
      command: COMMAND,
    },
    {
      figure: 'mutation fuzzer: verdict classes (both accept / both reject / unsound / imprecise / not comparable)',
      value: `${s.counts['both-accept']} / ${s.counts['both-reject']} / ${s.counts.unsound} / ${s.counts.imprecise} / ${s.counts['not-comparable']}`,
      command: COMMAND,
    },
    {
      figure: `mutation fuzzer: mutants per second, end to end (nicoff plus kernel loads in ${availableParallelism() * 2} runner processes) / nicoff alone`,
      value: `${(FUZZ_MUTANTS / (campaign.wallMs / 1000)).toFixed(0)} / ${(FUZZ_MUTANTS / (campaign.nicoffMs / 1000)).toFixed(0)}`,
      command: COMMAND,
    },
  );
  const notes = [
    `1-minute load average: ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end, on ${machineFacts().cpus} CPUs`,
    ...unsound.map((o) => `UNSOUND mutant: ${describeMutant(o)}`),
    ...crashed.slice(0, 20).map((o) => `nicoff crashed on mutant: ${describeMutant(o)}: ${o.nicoff?.message}`),
  ];
  return {
    group: 'verifier',
    date: new Date().toISOString(),
    machine: machineFacts(),
    method:
      'nicoff: each program is verified (target host) in its own child process (`node --import tsx bench/verifier-child.ts`), warm-up runs then the median of timed runs; ' +
      'memory is a child that verifies once against a child that does everything else (peak RSS difference, `process.resourceUsage().maxRSS`). ' +
      `Kernel: the same instructions and maps loaded ${KERNEL_LOADS} times through the kernel runner at log level 4 (BPF_LOG_STATS); its "verification time N usec" line is the kernel's own measurement, median quoted. ` +
      'The ratio divides the two medians from the same run. Processed instructions: nicoff\'s stats against the kernel\'s "processed N insns". ' +
      `Fuzzer: mutants of every example and corpus case the live kernel accepts (parents processing at most ${PARENT_MAX_PROCESSED_INSNS} instructions, of the program types nicoff verifies), each judged by nicoff and by the kernel; imprecise = nicoff refuses a mutant the kernel accepts; a mutant is replayed by mutateProgram(parent, seed).`,
    figures,
    notes,
    raw: {
      programs: measured,
      fuzzer: {
        mutants: FUZZ_MUTANTS,
        parents: campaign.parents,
        counts: s.counts,
        kernelAccepted: s.kernelAccepted,
        wallMs: Math.round(campaign.wallMs),
        nicoffMs: Math.round(campaign.nicoffMs),
        unsound: unsound.map(describeMutant),
        crashed: crashed.length,
      },
    },
  };
}
