/**
 * One verifier measurement in a fresh process, so timings and peak memory are
 * not mixed with other work. Run by bench/verifier.ts as
 *   node --expose-gc --import tsx bench/verifier-child.ts time <file> <program|-> <warmup> <runs>
 *   node --expose-gc --import tsx bench/verifier-child.ts memory <file> <program|-> verify|baseline
 * where <file> is an object (*.o; <program> names one of its programs) or a
 * corpus case (*.bpf; <program> is `-`). Prints one JSON line. The `baseline`
 * memory run does everything the `verify` run does (start, import, load the
 * program, collect garbage) except the verification.
 */
import { readFileSync } from 'node:fs';
import { loadObject } from '../src/ebpf/load-object.js';
import { parseCorpusCase } from '../src/verifier/corpus-file.js';
import { verifyInputFromCorpus, verifyInputFromObject } from '../src/verifier/program-input.js';
import { verifyProgram } from '../src/verifier/verify-program.js';
import type { VerifyInput, VerifyResult } from '../src/verifier/verify-types.js';
import { measureChildMemory, printAnswer, timeRuns, type ChildMemoryAnswer } from './bench-child.js';

export interface VerifierTimeAnswer {
  mode: 'time';
  ok: boolean;
  /** Milliseconds per verification, one entry per timed run, after the warm-up runs. */
  verifyMs: number[];
  processedInsns: number;
  peakStates: number;
  totalStates: number;
}

export interface VerifierMemoryAnswer extends ChildMemoryAnswer {
  mode: 'memory';
  verified: boolean;
}

function benchInput(path: string, program: string): VerifyInput {
  if (path.endsWith('.bpf')) return verifyInputFromCorpus(parseCorpusCase(readFileSync(path, 'utf8'), path));
  const obj = loadObject(new Uint8Array(readFileSync(path)), { path });
  const prog = obj.programs.find((p) => p.name === program);
  if (!prog) throw new Error(`${path} has no program ${program}`);
  return verifyInputFromObject(obj, prog);
}

function timeVerification(input: VerifyInput, warmup: number, runs: number): VerifierTimeAnswer {
  let last: VerifyResult | undefined;
  const verifyMs = timeRuns(warmup, runs, () => verifyProgram(input, { target: 'host' }), (r) => {
    last = r;
  });
  const stats = last!.stats;
  return { mode: 'time', ok: last!.ok, verifyMs, processedInsns: stats.processedInsns, peakStates: stats.peakStates, totalStates: stats.totalStates };
}

function measureMemory(input: VerifyInput, verify: boolean): VerifierMemoryAnswer {
  const m = measureChildMemory(verify ? () => verifyProgram(input, { target: 'host' }) : undefined);
  return {
    mode: 'memory',
    verified: m.result !== undefined,
    maxRssKiB: m.maxRssKiB,
    heapUsedBefore: m.heapUsedBefore,
    heapUsedAfter: m.heapUsedAfter,
  };
}

const [mode, path, program, a, b] = process.argv.slice(2);
if (mode === 'time' && path && program) {
  printAnswer(timeVerification(benchInput(path, program), Number(a), Number(b)));
} else if (mode === 'memory' && path && program && (a === 'verify' || a === 'baseline')) {
  printAnswer(measureMemory(benchInput(path, program), a === 'verify'));
} else {
  process.stderr.write('usage: verifier-child.ts time <file> <program|-> <warmup> <runs> | memory <file> <program|-> verify|baseline\n');
  process.exitCode = 2;
}
