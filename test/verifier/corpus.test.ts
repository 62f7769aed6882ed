/**
 * The verifier corpus against the live kernel: every case's recorded
 * `kernel:` verdict (a cache written by `npm run corpus:record`) must still be
 * what the running kernel says, and a reject's `kernel-error` must be a
 * substring of the kernel's error line.
 */
import { describe, test, expect } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kernelOracleOrSkip, runInKernelSync } from '../../src/ebpf/kernel/kernel-runner.js';
import {
  corpusRequest,
  kernelErrorLine,
  parseCorpusCase,
  verdictFromKernel,
  withRecordedVerdict,
} from '../../src/verifier/corpus-file.js';

const CORPUS_DIR = join(import.meta.dirname, 'corpus');
const cases = readdirSync(CORPUS_DIR)
  .filter((f) => f.endsWith('.bpf'))
  .sort()
  .map((f) => parseCorpusCase(readFileSync(join(CORPUS_DIR, f), 'utf8'), f));

describe('verifier corpus files', () => {
  test('there are cases, each with a rule and a recorded verdict', () => {
    expect(cases.length).toBeGreaterThanOrEqual(300);
    for (const c of cases) {
      expect({ file: c.file, rule: c.rule !== '', kernel: c.kernel !== undefined }).toEqual({ file: c.file, rule: true, kernel: true });
      if (c.kernel === 'reject') expect({ file: c.file, hasError: !!c.kernelError }).toEqual({ file: c.file, hasError: true });
    }
  });

  test('file names ending -ok / -bad agree with the recorded verdict', () => {
    for (const c of cases) {
      if (c.file.endsWith('-ok.bpf')) expect({ file: c.file, kernel: c.kernel }).toEqual({ file: c.file, kernel: 'accept' });
      if (c.file.endsWith('-bad.bpf')) expect({ file: c.file, kernel: c.kernel }).toEqual({ file: c.file, kernel: 'reject' });
    }
  });

  test('withRecordedVerdict replaces the verdict lines and keeps the rest', () => {
    const text = '// rule: r\n// type: xdp\n// kernel: accept\n\nr0 = 0x0\nexit\n';
    const rewritten = withRecordedVerdict(text, { kernel: 'reject', kernelError: 'R0 !read_ok' });
    expect(rewritten).toBe('// rule: r\n// type: xdp\n// kernel: reject\n// kernel-error: R0 !read_ok\n\nr0 = 0x0\nexit\n');
    expect(withRecordedVerdict(rewritten, { kernel: 'accept' })).toBe(text);
  });

  test('the error line skips the statistics and the loop state dump', () => {
    const log = 'infinite loop detected at insn 1\ncur state: R0=0\nold state: R0=0\nprocessed 3 insns (limit 1000000)\n';
    expect(kernelErrorLine(log)).toBe('infinite loop detected at insn 1');
    // A message the kernel prints without a newline runs into the statistics.
    const glued = 'expected prog array map for tail callprocessed 3 insns (limit 1000000) max_states_per_insn 0 total_states 0\n';
    expect(kernelErrorLine(glued)).toBe('expected prog array map for tail call');
  });

  test('the license header reaches the kernel request (default GPL)', () => {
    const mit = parseCorpusCase('// type: sched_act\n// license: Dual BSD/GPL\nr0 = 0x0\nexit\n', 'lic.bpf');
    expect(mit.license).toBe('Dual BSD/GPL');
    expect(corpusRequest(mit).license).toBe('Dual BSD/GPL');
    expect(corpusRequest(parseCorpusCase('// type: xdp\nr0 = 0x0\nexit\n', 'gpl.bpf')).license).toBe('GPL');
  });
});

const kernel = kernelOracleOrSkip();

describe('verifier corpus against the live kernel', () => {
  const live = kernel.ok ? test.each(cases.map((c) => [c.file, c] as const)) : test.skip.each(cases.map((c) => [c.file, c] as const));
  live('%s', (_file, c) => {
    const result = runInKernelSync(corpusRequest(c));
    const verdict = verdictFromKernel(result);
    expect({ kernel: verdict.kernel }).toEqual({ kernel: c.kernel });
    if (c.kernel === 'reject') expect(kernelErrorLine(result.log) || verdict.kernelError).toContain(c.kernelError);
  });
});
