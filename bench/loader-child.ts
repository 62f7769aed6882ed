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
import type { BpfObject } from '../src/ebpf/bpf-object.js';

export interface LoaderTimeAnswer {
  mode: 'time';
  /** Milliseconds per load, one entry per timed run, after the warm-up loads. */
  loadMs: number[];
  /** Programs seen over all loads: uses every result, so no load can be optimised away. */
  programsSeen: number;
}

export interface LoaderMemoryAnswer {
  mode: 'memory';
  loaded: boolean;
  /** process.resourceUsage().maxRSS: peak resident set, KiB. */
  maxRssKiB: number;
  heapUsedBefore: number;
  /** After the load with the object still referenced, after a full collection. */
  heapUsedAfter: number;
  /** The single cold load's duration; absent for the baseline. */
  coldLoadMs?: number;
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
}

function timeLoads(path: string, warmup: number, runs: number): LoaderTimeAnswer {
  const bytes = readFileSync(path);
  let programsSeen = 0;
  for (let i = 0; i < warmup; i++) programsSeen += loadObject(bytes, { path }).programs.length;
  const loadMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const obj = loadObject(bytes, { path });
    loadMs.push(Number(process.hrtime.bigint() - start) / 1e6);
    programsSeen += obj.programs.length;
  }
  return { mode: 'time', loadMs, programsSeen };
}

function measureMemory(path: string, load: boolean): LoaderMemoryAnswer {
  const bytes = readFileSync(path);
  collectGarbage();
  const heapUsedBefore = process.memoryUsage().heapUsed;
  let retained: BpfObject | undefined;
  let coldLoadMs: number | undefined;
  if (load) {
    const start = process.hrtime.bigint();
    retained = loadObject(bytes, { path });
    coldLoadMs = Number(process.hrtime.bigint() - start) / 1e6;
  }
  collectGarbage();
  const heapUsedAfter = process.memoryUsage().heapUsed;
  const answer: LoaderMemoryAnswer = {
    mode: 'memory',
    loaded: retained !== undefined,
    maxRssKiB: process.resourceUsage().maxRSS,
    heapUsedBefore,
    heapUsedAfter,
  };
  if (coldLoadMs !== undefined) answer.coldLoadMs = coldLoadMs;
  return answer;
}

const [mode, path, a, b] = process.argv.slice(2);
if (mode === 'time' && path) {
  process.stdout.write(`${JSON.stringify(timeLoads(path, Number(a), Number(b)))}\n`);
} else if (mode === 'memory' && path && (a === 'load' || a === 'baseline')) {
  process.stdout.write(`${JSON.stringify(measureMemory(path, a === 'load'))}\n`);
} else {
  process.stderr.write('usage: loader-child.ts time <object> <warmup> <runs> | memory <object> load|baseline\n');
  process.exitCode = 2;
}
