/**
 * nicoff's verifier against the live kernel's on every example program and
 * every corpus case: no program may be accepted by nicoff and refused by the
 * kernel (unsound), and fewer than 5% of the programs the kernel accepts may
 * be refused by nicoff (imprecise). The class table is printed.
 *
 * NICOFF_NO_KERNEL=1 skips the kernel part; otherwise a kernel that cannot be
 * used fails the suite (kernelOracleOrSkip).
 */
import { describe, test, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kernelOracleOrSkip, runInKernelSync } from '../../src/ebpf/kernel/kernel-runner.js';
import { parseCorpusCase } from '../../src/verifier/corpus-file.js';
import {
  caseFromCorpus,
  classify,
  collectCases,
  formatDifferentialTable,
  kernelVerdict,
  notComparableBeforehand,
  runDifferentialAll,
  summarizeDifferential,
  type DifferentialOutcome,
} from '../../src/verifier/differential.js';
import { assembleProgram } from '../../src/ebpf/assemble.js';
import { verifyInputFromCorpus } from '../../src/verifier/program-input.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MAX_IMPRECISE_SHARE = 0.05;

describe('classification', () => {
  test('the four verdict pairs', () => {
    expect(classify({ accepted: true }, { accepted: true })).toBe('both-accept');
    expect(classify({ accepted: false }, { accepted: false })).toBe('both-reject');
    expect(classify({ accepted: true }, { accepted: false })).toBe('unsound');
    expect(classify({ accepted: false }, { accepted: true })).toBe('imprecise');
  });

  test('kfunc calls and fd_array map references are not comparable before anything runs', () => {
    const corpus = (body: string) => verifyInputFromCorpus(parseCorpusCase(`// type: xdp\n${body}`, 'inline.bpf'));
    expect(notComparableBeforehand(corpus('r0 = 0x0\nexit\n'))).toBeUndefined();
    const kfunc = corpus('r0 = 0x0\nexit\n');
    kfunc.insns = [{ code: 0x85, dst: 0, src: 2, off: 0, imm: 1234, slots: 1 }, ...assembleProgram('r0 = 0x0\nexit\n')];
    expect(notComparableBeforehand(kfunc)).toMatch(/kfunc/);
  });
});

const kernel = kernelOracleOrSkip();

(kernel.ok ? describe : describe.skip)('examples and corpus against the live kernel', () => {
  test('the harness calls a kernel refusal that nicoff accepted unsound', () => {
    // A corpus case the kernel refuses, with nicoff's verdict forced to accept: the plumbing must say unsound.
    const file = join(ROOT, 'test', 'verifier', 'corpus', 'call-clobbers-r1-bad.bpf');
    const c = caseFromCorpus(parseCorpusCase(readFileSync(file, 'utf8'), file));
    const k = kernelVerdict(runInKernelSync(c.request));
    expect(k.accepted).toBe(false);
    expect(classify({ accepted: true }, k)).toBe('unsound');
  });

  test('zero unsound, imprecise under 5% of kernel-accepted programs', async () => {
    const outcomes: DifferentialOutcome[] = [];
    let cases = 0;
    for (const dir of ['examples', join('test', 'verifier', 'corpus')]) {
      const collected = collectCases(join(ROOT, dir), ROOT);
      cases += collected.cases.length;
      outcomes.push(...collected.unreadable, ...(await runDifferentialAll(collected.cases, { concurrency: 4 })));
    }
    const summary = summarizeDifferential(outcomes);
    console.log(`verifier vs kernel, examples + corpus\n${formatDifferentialTable(summary)}`);
    expect(cases).toBeGreaterThanOrEqual(300);
    // Crashes hide in not-comparable; they are bugs, not limits of the comparison.
    expect(summary.notComparable.filter((n) => /nicoff crashed|cannot read/.test(n))).toEqual([]);
    expect(summary.unsound).toEqual([]);
    expect(summary.kernelAccepted).toBeGreaterThan(100);
    expect(summary.counts.imprecise).toBeLessThan(MAX_IMPRECISE_SHARE * summary.kernelAccepted);
  }, 900_000);
});
