/**
 * Kernel-compatible lowering against the Linux nfp JIT's own output
 * (../shared/nfp-golden, read in place): the six golden programs word for
 * word in both forms, and every lowering-catalogue case's words. Facts are
 * injected from the golden annotations (nfp-microcode.md G.2); the
 * verifier-derived facts of the clang programs are checked elsewhere.
 *
 * Catalogue cases the compiler does not lower yet are listed in NOT_LOWERED:
 * each must still fail with a LoweringGap, so a case that starts to lower
 * has to move to the checked set (and match) rather than pass unnoticed.
 */
import { describe, expect, test } from '@jest/globals';
import { decodeProgram } from '../../src/ebpf/decode.js';
import { disassembleWord } from '../../src/nfp-backend/isa/disassembler.js';
import { factsFromGoldenAnnotations } from '../../src/compiler/lowering-facts.js';
import { LoweringGap } from '../../src/compiler/lowering-context.js';
import { lowerProgram, type LoweredProgram } from '../../src/compiler/lower-program.js';
import { GOLDEN_PROGRAM_NAMES, goldenListingText, goldenOrSkip, readGoldenTable } from '../support/golden-word-table.js';
import { catalogueAvailable, parseCatalogue, type CatalogueCase } from '../support/lowering-catalogue.js';
import { NOT_LOWERED } from './not-lowered.js';

const run = goldenOrSkip('kernel-compat golden');
const d = run ? describe : describe.skip;

function hexBytes(hex: readonly string[]): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.join(''), 'hex'));
}

function goldenAnnotations(text: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  let inFacts = false;
  for (const line of text.split('\n')) {
    if (/^# verifier facts assumed/.test(line)) {
      inFacts = true;
      continue;
    }
    if (!inFacts) continue;
    const m = /^#\s+(\d+)\s+(.*)$/.exec(line);
    if (!m) break;
    out.set(Number(m[1]), m[2]!.trim().split(/\s+/));
  }
  return out;
}

function word(w: bigint): string {
  return w.toString(16).padStart(16, '0');
}

/** Rows that differ, as `pc: ours (text) vs golden (text)`, the first few. */
function differences(ours: readonly bigint[], golden: readonly { pc: number; word: bigint }[]): string[] {
  const out: string[] = [];
  for (const g of golden) {
    const o = ours[g.pc];
    if (o !== g.word) out.push(`pc ${g.pc}: ours ${o === undefined ? '(none)' : `${word(o)} ${safeText(o)}`} vs kernel ${word(g.word)} ${safeText(g.word)}`);
  }
  return out.slice(0, 12);
}

function safeText(w: bigint): string {
  try {
    return disassembleWord(w & ((1n << 56n) - 1n));
  } catch {
    return '?';
  }
}

d('kernel-compatible lowering: the six golden programs', () => {
  test.each([...GOLDEN_PROGRAM_NAMES])('%s: raw and loaded words equal the kernel JIT', (name) => {
    const table = readGoldenTable(name);
    const insns = decodeProgram(hexBytes(table.ebpfHex), 'le');
    const facts = factsFromGoldenAnnotations(goldenAnnotations(goldenListingText(name)), insns.length, [table.stackDepth]);
    const lowered = lowerProgram({ insns, programType: table.programType as 'xdp' | 'tc', facts, startPc: table.startPc, donePc: table.donePc });
    expect(differences(lowered.loaded, table.rows.map((r) => ({ pc: r.pc, word: r.loaded })))).toEqual([]);
    expect(differences(lowered.raw, table.rows.map((r) => ({ pc: r.pc, word: r.raw })))).toEqual([]);
    expect(lowered.loaded.length).toBe(table.len);
    expect(lowered.exit).toBe(table.tgtOut);
    expect(lowered.abort).toBe(table.tgtAbort);
  });
});

const cases: CatalogueCase[] = run && catalogueAvailable() ? parseCatalogue() : [];

function lowerCase(c: CatalogueCase): LoweredProgram {
  const insns = decodeProgram(hexBytes(c.ebpf), 'le');
  const depths = c.stackDepth.split(',').map(Number);
  const annotations = new Map([...c.facts].map(([i, m]) => [i, [...m].map(([k, v]) => (v === '' ? k : `${k}=${v}`))]));
  const facts = factsFromGoldenAnnotations(annotations, insns.length, depths);
  return lowerProgram({ insns, programType: c.programType as 'xdp' | 'tc', facts });
}

d('kernel-compatible lowering: the lowering catalogue', () => {
  test('the not-lowered list names catalogue cases only', () => {
    const titles = new Set(cases.map((c) => c.title));
    expect([...NOT_LOWERED].filter((t) => !titles.has(t))).toEqual([]);
  });
  test.each(cases.filter((c) => !NOT_LOWERED.has(c.title)).map((c) => [c.title, c] as const))('%s', (_title, c) => {
    const lowered = lowerCase(c);
    expect(differences(lowered.loaded, c.words)).toEqual([]);
  });
  const notLowered = cases.filter((c) => NOT_LOWERED.has(c.title));
  if (notLowered.length) {
    test.each(notLowered.map((c) => [c.title, c] as const))('not lowered yet, refused with a LoweringGap (NC5100): %s', (_title, c) => {
      expect(() => lowerCase(c)).toThrow(LoweringGap);
    });
  }
});
