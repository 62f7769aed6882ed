/**
 * Child-process plumbing shared by the loader and verifier groups: the parent
 * side runs bench/*-child.ts scripts (tsx) and parses their one JSON answer
 * line; the child side times runs and measures memory.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BENCH_DIR, REPO_ROOT } from './group-result.js';

export function runBenchChild<T>(script: string, args: string[], nodeFlags: string[] = []): T {
  const child = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', join(BENCH_DIR, script), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (child.error) throw child.error;
  const lastLine = child.stdout.trim().split('\n').pop() ?? '';
  if (child.status !== 0 || !lastLine.startsWith('{')) {
    throw new Error(`${script} ${args.join(' ')} failed (status ${child.status}): ${child.stderr.trim().slice(-600)}`);
  }
  return JSON.parse(lastLine) as T;
}

/** What every memory child reports. */
export interface ChildMemoryAnswer {
  /** process.resourceUsage().maxRSS: peak resident set, KiB. */
  maxRssKiB: number;
  heapUsedBefore: number;
  /** After the work with its result still referenced, after a full collection. */
  heapUsedAfter: number;
}

/**
 * `pairs` times, a baseline child (all but the work) then one doing the work;
 * argsFor(work) gives their arguments. baselineRssSpreadKiB is how much the
 * baselines' own peaks differ: RSS growth below it is noise.
 */
export function runMemoryPairs<T extends ChildMemoryAnswer>(
  script: string,
  argsFor: (work: boolean) => string[],
  pairs: number,
  beforePair?: (pair: number) => void,
): { rssGrowthKiB: number[]; baselineRssSpreadKiB: number; heapGrowth: number[]; worked: T[] } {
  const rssGrowthKiB: number[] = [];
  const baselineRssKiB: number[] = [];
  const heapGrowth: number[] = [];
  const worked: T[] = [];
  const flags = ['--expose-gc'];
  for (let i = 0; i < pairs; i++) {
    beforePair?.(i);
    const baseline = runBenchChild<T>(script, argsFor(false), flags);
    const answer = runBenchChild<T>(script, argsFor(true), flags);
    rssGrowthKiB.push(answer.maxRssKiB - baseline.maxRssKiB);
    baselineRssKiB.push(baseline.maxRssKiB);
    heapGrowth.push(answer.heapUsedAfter - answer.heapUsedBefore);
    worked.push(answer);
  }
  return { rssGrowthKiB, baselineRssSpreadKiB: Math.max(...baselineRssKiB) - Math.min(...baselineRssKiB), heapGrowth, worked };
}

export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
}

/** Milliseconds of `runs` timed calls after `warmup` untimed ones; `use` sees every result, untimed, so none is optimised away. */
export function timeRuns<R>(warmup: number, runs: number, run: () => R, use: (result: R) => void): number[] {
  for (let i = 0; i < warmup; i++) use(run());
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const result = run();
    ms.push(Number(process.hrtime.bigint() - start) / 1e6);
    use(result);
  }
  return ms;
}

/** Heap and peak RSS around one call of `work` (none for the baseline); its result stays referenced through the last GC. */
export function measureChildMemory<R>(work: (() => R) | undefined): ChildMemoryAnswer & { result?: R; workMs?: number } {
  collectGarbage();
  const heapUsedBefore = process.memoryUsage().heapUsed;
  let result: R | undefined;
  let workMs: number | undefined;
  if (work) {
    const start = process.hrtime.bigint();
    result = work();
    workMs = Number(process.hrtime.bigint() - start) / 1e6;
  }
  collectGarbage();
  const heapUsedAfter = process.memoryUsage().heapUsed;
  return { maxRssKiB: process.resourceUsage().maxRSS, heapUsedBefore, heapUsedAfter, result, workMs };
}

/** A child's answer: one JSON line on stdout, the last line runBenchChild reads. */
export function printAnswer(answer: object): void {
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
