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

export interface VerifierTimeAnswer {
  mode: 'time';
  ok: boolean;
  /** Milliseconds per verification, one entry per timed run, after the warm-up runs. */
  verifyMs: number[];
  processedInsns: number;
  peakStates: number;
  totalStates: number;
}

export interface VerifierMemoryAnswer {
  mode: 'memory';
  verified: boolean;
  /** process.resourceUsage().maxRSS: peak resident set, KiB. */
  maxRssKiB: number;
  heapUsedBefore: number;
  /** After the verification with its result still referenced, after a full collection. */
  heapUsedAfter: number;
}

function benchInput(path: string, program: string): VerifyInput {
  if (path.endsWith('.bpf')) return verifyInputFromCorpus(parseCorpusCase(readFileSync(path, 'utf8'), path));
  const obj = loadObject(new Uint8Array(readFileSync(path)), { path });
  const prog = obj.programs.find((p) => p.name === program);
  if (!prog) throw new Error(`${path} has no program ${program}`);
  return verifyInputFromObject(obj, prog);
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
}

function timeVerification(input: VerifyInput, warmup: number, runs: number): VerifierTimeAnswer {
  let last: VerifyResult | undefined;
  for (let i = 0; i < warmup; i++) last = verifyProgram(input, { target: 'host' });
  const verifyMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    last = verifyProgram(input, { target: 'host' });
    verifyMs.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const stats = last!.stats;
  return { mode: 'time', ok: last!.ok, verifyMs, processedInsns: stats.processedInsns, peakStates: stats.peakStates, totalStates: stats.totalStates };
}

function measureMemory(input: VerifyInput, verify: boolean): VerifierMemoryAnswer {
  collectGarbage();
  const heapUsedBefore = process.memoryUsage().heapUsed;
  let retained: VerifyResult | undefined;
  if (verify) retained = verifyProgram(input, { target: 'host' });
  collectGarbage();
  return {
    mode: 'memory',
    verified: retained !== undefined,
    maxRssKiB: process.resourceUsage().maxRSS,
    heapUsedBefore,
    heapUsedAfter: process.memoryUsage().heapUsed,
  };
}

const [mode, path, program, a, b] = process.argv.slice(2);
if (mode === 'time' && path && program) {
  process.stdout.write(`${JSON.stringify(timeVerification(benchInput(path, program), Number(a), Number(b)))}\n`);
} else if (mode === 'memory' && path && program && (a === 'verify' || a === 'baseline')) {
  process.stdout.write(`${JSON.stringify(measureMemory(benchInput(path, program), a === 'verify'))}\n`);
} else {
  process.stderr.write('usage: verifier-child.ts time <file> <program|-> <warmup> <runs> | memory <file> <program|-> verify|baseline\n');
  process.exitCode = 2;
}
