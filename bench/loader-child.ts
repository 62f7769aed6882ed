/**
 * One loader measurement in a fresh process, so timings and peak memory are
 * not mixed with other work. Run by bench/loader.ts as
 *   node --expose-gc --import tsx bench/loader-child.ts time <object> <warmup> <runs>
 *   node --expose-gc --import tsx bench/loader-child.ts memory <object> load|baseline
 * and prints one JSON line. The `baseline` memory run does everything the `load`
 * run does (start, import the loader, read the file, collect garbage) except
 * the load itself, so the difference is what loading costs.
 */
import { readFileSync } from 'node:fs';
import { loadObject } from '../src/ebpf/load-object.js';
import { measureChildMemory, printAnswer, timeRuns, type ChildMemoryAnswer } from './bench-child.js';

export interface LoaderTimeAnswer {
  mode: 'time';
  /** Milliseconds per load, one entry per timed run, after the warm-up loads. */
  loadMs: number[];
  /** Programs seen over all loads: uses every result, so no load can be optimised away. */
  programsSeen: number;
}

export interface LoaderMemoryAnswer extends ChildMemoryAnswer {
  mode: 'memory';
  loaded: boolean;
  /** The single cold load's duration; absent for the baseline. */
  coldLoadMs?: number;
}

function timeLoads(path: string, warmup: number, runs: number): LoaderTimeAnswer {
  const bytes = readFileSync(path);
  let programsSeen = 0;
  const loadMs = timeRuns(warmup, runs, () => loadObject(bytes, { path }), (obj) => {
    programsSeen += obj.programs.length;
  });
  return { mode: 'time', loadMs, programsSeen };
}

function measureMemory(path: string, load: boolean): LoaderMemoryAnswer {
  const bytes = readFileSync(path);
  const m = measureChildMemory(load ? () => loadObject(bytes, { path }) : undefined);
  const answer: LoaderMemoryAnswer = {
    mode: 'memory',
    loaded: m.result !== undefined,
    maxRssKiB: m.maxRssKiB,
    heapUsedBefore: m.heapUsedBefore,
    heapUsedAfter: m.heapUsedAfter,
  };
  if (m.workMs !== undefined) answer.coldLoadMs = m.workMs;
  return answer;
}

const [mode, path, a, b] = process.argv.slice(2);
if (mode === 'time' && path) {
  printAnswer(timeLoads(path, Number(a), Number(b)));
} else if (mode === 'memory' && path && (a === 'load' || a === 'baseline')) {
  printAnswer(measureMemory(path, a === 'load'));
} else {
  process.stderr.write('usage: loader-child.ts time <object> <warmup> <runs> | memory <object> load|baseline\n');
  process.exitCode = 2;
}
