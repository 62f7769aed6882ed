/**
 * Instruction families on the software NFP, one context, both engines, with
 * expectations worked out by hand from nfp-microcode.md (A.2, A.3, B.4-B.8, B.10)
 * and the semantic choices written down in src/nfp-backend/sim/microengine.ts.
 */
import { describe, expect, test } from '@jest/globals';
import { withEcc } from '../../../src/nfp-backend/isa/ecc.js';
import { seeded } from '../../support/seeded-random.js';
import { asm, fragmentBoth, fragmentFault } from './sim-test-support.js';

const BASE = 3072;
type Regs = Partial<Record<number, number>>;
function init(a: Regs = {}, b: Regs = {}, extra: { lm?: number[]; lmAddr?: number[] } = {}) {
  const fill = (r: Regs): number[] => Array.from({ length: 32 }, (_, i) => (r[i] ?? 0) >>> 0);
  return { a: fill(a), b: fill(b), ...extra };
}
const run = (lines: string[], a: Regs = {}, b: Regs = {}, extra: { lm?: number[]; lmAddr?: number[] } = {}) => fragmentBoth(asm(lines), BASE, init(a, b, extra));
const fails = (lines: string[], a: Regs = {}, b: Regs = {}, extra: { lm?: number[]; lmAddr?: number[] } = {}) => fragmentFault(asm(lines), BASE, init(a, b, extra));
const u = (x: number): number => x >>> 0;

describe('ALU operations and condition codes', () => {
  test('add: carry out and signed overflow', () => {
    let r = run(['alu[gprA_2, gprA_3, +, gprB_3]'], { 3: 0xffffffff }, { 3: 1 });
    expect([r.a[2], r.flags]).toEqual([0, { z: true, n: false, c: true, v: false }]);
    r = run(['alu[gprA_2, gprA_3, +, gprB_3]'], { 3: 0x7fffffff }, { 3: 1 });
    expect([r.a[2], r.flags]).toEqual([0x80000000, { z: false, n: true, c: false, v: true }]);
  });

  test('subtract: C = NOT borrow, V on signed overflow', () => {
    let r = run(['alu[gprA_2, gprA_3, -, gprB_3]'], { 3: 5 }, { 3: 7 });
    expect([r.a[2], r.flags]).toEqual([0xfffffffe, { z: false, n: true, c: false, v: false }]);
    r = run(['alu[gprA_2, gprA_3, -, gprB_3]'], { 3: 7 }, { 3: 5 });
    expect([r.a[2], r.flags]).toEqual([2, { z: false, n: false, c: true, v: false }]);
    r = run(['alu[gprA_2, gprA_3, -, gprB_3]'], { 3: 0x80000000 }, { 3: 1 });
    expect([r.a[2], r.flags]).toEqual([0x7fffffff, { z: false, n: false, c: true, v: true }]);
    r = run(['alu[gprA_2, gprA_3, -, gprB_3]'], { 3: 9 }, { 3: 9 });
    expect([r.a[2], r.flags]).toEqual([0, { z: true, n: false, c: true, v: false }]);
  });

  test('64-bit carry and borrow chains (+carry, -carry), as the JIT pairs them', () => {
    // {A5:A4} + {B7:B6} = 0x10_ffffffff + 0x20_00000001 = 0x31_00000000
    let r = run(['alu[gprA_4, gprA_4, +, gprB_6]', 'alu[gprA_5, gprA_5, +carry, gprB_7]'], { 4: 0xffffffff, 5: 0x10 }, { 6: 1, 7: 0x20 });
    expect([r.a[4], r.a[5], r.flags.c]).toEqual([0, 0x31, false]);
    // 0x1_00000000 - 1 = 0x0_ffffffff: the low half borrows, the high half ends at zero with no borrow.
    r = run(['alu[gprA_4, gprA_4, -, gprB_6]', 'alu[gprA_5, gprA_5, -carry, gprB_7]'], { 4: 0, 5: 1 }, { 6: 1, 7: 0 });
    expect([r.a[4], r.a[5], r.flags]).toEqual([0xffffffff, 0, { z: true, n: false, c: true, v: false }]);
    // 64-bit unsigned compare 5 < 0x1_00000000: the -carry leaves C clear (a borrow).
    r = run(['alu[--, gprA_4, -, gprB_6]', 'alu[--, gprA_5, -carry, gprB_7]'], { 4: 5, 5: 0 }, { 6: 0, 7: 1 });
    expect(r.flags.c).toBe(false);
    // NEG64 of 1: 0 - 1 with borrow into the high word.
    r = run(['alu[gprA_4, 0x0, -, gprB_4]', 'alu[gprA_5, 0x0, -carry, gprB_5]'], {}, { 4: 1, 5: 0 });
    expect([r.a[4], r.a[5]]).toEqual([0xffffffff, 0xffffffff]);
  });

  test('B-A, +16 (16-bit sum, carry out of bit 15), +8', () => {
    let r = run(['alu[gprA_2, gprA_3, B-A, gprB_3]'], { 3: 3 }, { 3: 10 });
    expect([r.a[2], r.flags.c]).toEqual([7, true]);
    // adjust_head's offset sum: delta -14 plus the data offset 0x80 of 0x80400080.
    r = run(['alu[gprA_2, gprA_3, +16, gprB_3]'], { 3: u(-14) }, { 3: 0x80400080 });
    expect([r.a[2], r.flags.c]).toEqual([0x72, true]);
    r = run(['alu[gprA_2, gprA_3, +8, gprB_3]'], { 3: 0x1f0 }, { 3: 0x20 });
    expect([r.a[2], r.flags.c]).toEqual([0x10, true]);
  });

  test('logical operations clear C and V', () => {
    const ops: [string, number][] = [
      ['AND', 0x0f000f00],
      ['OR', 0xfff0fff0],
      ['XOR', 0xf0f0f0f0],
      ['~AND', 0x00f000f0],
      ['AND~', 0xf000f000],
    ];
    for (const [op, want] of ops) {
      // The add before sets C and V; the logical op must clear both.
      const r = run(['alu[--, gprA_4, +, gprB_4]', `alu[gprA_2, gprA_3, ${op}, gprB_3]`], { 3: 0xff00ff00, 4: 0x80000000 }, { 3: 0x0ff00ff0, 4: 0x80000000 });
      expect([op, r.a[2], r.flags.c, r.flags.v, r.flags.n]).toEqual([op, want, false, false, want >>> 31 === 1]);
    }
    expect(run(['alu[gprA_2, --, ~B, gprB_3]'], {}, { 3: 0x0ff00ff0 }).a[2]).toBe(0xf00ff00f);
  });

  test('operand placement: a bank-B left operand (swap) still subtracts left - right', () => {
    expect(run(['alu[gprA_2, gprB_3, -, gprA_4]'], { 4: 3 }, { 3: 10 }).a[2]).toBe(7);
    expect(run(['alu[--, 0x7, -, gprA_4]'], { 4: 9 }).flags).toEqual({ z: false, n: true, c: false, v: false });
  });

  test('destinations: one bank, gpr_wrboth, bank B, $xfer (transfer-out), LM', () => {
    let r = run(['alu[gprA_2, --, B, 0x5]']);
    expect([r.a[2], r.b[2]]).toEqual([5, 0]);
    r = run(['alu[gprA_2, --, B, 0x5], gpr_wrboth']);
    expect([r.a[2], r.b[2]]).toEqual([5, 5]);
    r = run(['alu[gprB_2, --, B, 0x5]']);
    expect([r.a[2], r.b[2]]).toEqual([0, 5]);
    // A source $xfer is transfer-in; a destination $xfer is transfer-out of the same number.
    r = run(['alu[$xfer_3, --, B, gprB_2]', 'alu[gprA_6, --, B, $xfer_3]'], {}, { 2: 0x1234 });
    expect([r.xferOut[3], r.xferIn[3], r.a[6]]).toEqual([0x1234, 0, 0]);
    r = run(['alu[*l$index0[3], --, B, gprB_2]'], {}, { 2: 0xabcd }, { lmAddr: [512, 0xc00, 0, 0] });
    expect(r.lm[128 + 3]).toBe(0xabcd);
  });

  test('the twelve branch conditions follow the N/Z/C/V codes of a subtraction, ARM style', () => {
    const rand = seeded(99);
    const edges = [0, 1, 2, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff];
    const pairs: [number, number][] = [];
    for (const x of edges) for (const y of edges) pairs.push([x, y]);
    for (let i = 0; i < 40; i++) pairs.push([Math.floor(rand() * 2 ** 32), Math.floor(rand() * 2 ** 32)]);
    for (const [x, y] of pairs) {
      const diff = BigInt(x) - BigInt(y);
      const res = Number(BigInt.asUintN(32, diff));
      const Z = res === 0;
      const N = res >>> 31 === 1;
      const C = x >= y;
      const sx = x | 0;
      const sy = y | 0;
      const V = sx - sy !== (res | 0);
      const expected: Record<string, boolean> = {
        beq: Z, bne: !Z, bmi: N, bpl: !N, bcs: C, bcc: !C, bvs: V, bvc: !V,
        bge: N === V, blt: N !== V, ble: Z || N !== V, bgt: !Z && N === V,
      };
      // Cross-check the signed conditions against plain signed comparison.
      expect([expected.bge, expected.blt, expected.ble, expected.bgt]).toEqual([sx >= sy, sx < sy, sx <= sy, sx > sy]);
      for (const [cond, taken] of Object.entries(expected)) {
        const r = run(['alu[--, gprA_2, -, gprB_3]', `${cond}[.5000]`], { 2: x }, { 3: y });
        expect([cond, x, y, r.exitPc]).toEqual([cond, x, y, taken ? 5000 : BASE + 2]);
      }
    }
  });

  test('immed and ld_field leave the condition codes alone', () => {
    const r = run(['alu[--, gprA_2, +, gprB_2]', 'immed[gprA_3, 0x0]', 'ld_field[gprA_4, 0001, 0x0]'], { 2: 0x80000000 }, { 2: 0x80000000 });
    expect(r.flags).toEqual({ z: true, n: false, c: true, v: true });
  });
});

describe('shifts', () => {
  test('immediate shifts: left (encoded 32 - n), right, rotate, combined with an operation', () => {
    expect(run(['alu_shf[gprA_2, --, B, gprB_3, <<3]'], {}, { 3: 0x80000001 }).a[2]).toBe(8);
    expect(run(['alu_shf[gprA_2, --, B, gprB_3, >>4]'], {}, { 3: 0x80000010 }).a[2]).toBe(0x08000001);
    expect(run(['alu_shf[gprA_2, --, B, gprB_3, >>rot8]'], {}, { 3: 0x12345678 }).a[2]).toBe(0x78123456);
    expect(run(['alu_shf[gprA_2, gprA_3, OR, gprB_3, >>4]'], { 3: 0xf0000000 }, { 3: 0x100 }).a[2]).toBe(0xf0000010);
    expect(run(['alu_shf[gprA_2, gprA_3, AND, gprB_3, <<8]'], { 3: 0x0000ff00 }, { 3: 0x12345678 }).a[2]).toBe(0x00007800);
    // The outro's table lookup: 0xff AND (0x44112282 >> 8) picks the XDP_DROP code.
    expect(run(['alu_shf[gprB_2, 0xff, AND, gprB_2, >>8]'], {}, { 2: 0x44112282 }).b[2]).toBe(0x22);
  });

  test('dbl_shf: low 32 bits of {a, b} >> n', () => {
    expect(run(['dbl_shf[gprA_2, gprA_3, gprB_3, >>8]'], { 3: 0xaabbccdd }, { 3: 0x11223344 }).a[2]).toBe(0xdd112233);
    expect(run(['dbl_shf[gprA_2, gprA_3, gprB_3, >>31]'], { 3: 1 }, { 3: 0x80000000 }).a[2]).toBe(3);
  });

  test('indirect shifts take the amount from the low 5 bits of the preceding ALU instruction A operand', () => {
    expect(run(['alu[--, gprA_4, OR, 0x0]', 'alu_shf[gprA_2, --, B, gprB_3, >>indirect]'], { 4: 37 }, { 3: 0x80000000 }).a[2]).toBe(0x80000000 >>> 5);
    expect(run(['alu[--, gprA_4, OR, 0x0]', 'alu_shf[gprA_2, --, B, gprB_3, <<indirect]'], { 4: 4 }, { 3: 0x11 }).a[2]).toBe(0x110);
    // Amount 0: no shift.
    expect(run(['alu[--, gprA_4, OR, 0x0]', 'alu_shf[gprA_2, --, B, gprB_3, >>indirect]'], { 4: 64 }, { 3: 0x80000000 }).a[2]).toBe(0x80000000);
    // The A operand, not the result: A4 = 3 OR B5 = 0x100 gives result 0x103 but amount 3.
    expect(run(['alu[--, gprA_4, OR, gprB_5]', 'alu_shf[gprA_2, --, B, gprB_3, >>indirect]'], { 4: 3 }, { 3: 0x80, 5: 0x100 }).a[2]).toBe(0x10);
    // An alu_shf is an ALU instruction too: its A operand (here 0x9) feeds the next indirect shift.
    expect(run(['alu_shf[gprA_6, gprA_4, OR, gprB_3, >>1]', 'alu_shf[gprA_2, --, B, gprB_3, >>indirect]'], { 4: 9 }, { 3: 0x200 }).a[2]).toBe(1);
  });

  test('dbl_shf by an indirect amount: A operand bits 5:0, where 32 gives the high word (LSH64 by 0)', () => {
    const seq = (amount: number) => run(['alu[--, gprA_4, OR, 0x0]', 'dbl_shf[gprA_2, gprA_3, gprB_3, >>indirect]'], { 3: 0xaabbccdd, 4: amount }, { 3: 0x11223344 });
    expect(seq(0).a[2]).toBe(0x11223344);
    expect(seq(8).a[2]).toBe(0xdd112233);
    expect(seq(32).a[2]).toBe(0xaabbccdd);
    expect(fails(['alu[--, gprA_4, OR, 0x0]', 'dbl_shf[gprA_2, gprA_3, gprB_3, >>indirect]'], { 4: 33 })).toMatch(/^NC6041: NFP pc 3073: .*amount of 33/);
  });

  test('asr fills with the MSB of the preceding ALU result, not of its own operand', () => {
    expect(run(['alu[--, gprA_3, OR, 0x0]', 'asr[gprA_2, gprB_3, >>4]'], { 3: 0x80000000 }, { 3: 0x80000010 }).a[2]).toBe(0xf8000001);
    expect(run(['alu[--, gprA_4, OR, 0x0]', 'asr[gprA_2, gprB_3, >>4]'], { 4: 0 }, { 3: 0x80000010 }).a[2]).toBe(0x08000001);
    // An immed result counts as the preceding ALU result.
    expect(run(['immed[gprA_5, 0xffffffff]', 'asr[gprA_2, gprB_3, >>8]'], {}, { 3: 0x100 }).a[2]).toBe(0xff000001);
    // Indirect: amount from the A operand (36 -> 4), fill from the result (36 | 0x80000000).
    expect(run(['alu[--, gprA_4, OR, gprB_5]', 'asr[gprA_2, gprB_3, >>indirect]'], { 4: 36 }, { 3: 0x100, 5: 0x80000000 }).a[2]).toBe(0xf0000010);
  });

  test('side channels need their producer immediately before (NC6048)', () => {
    expect(fails(['alu[--, gprA_4, OR, 0x0]', 'nop', 'alu_shf[gprA_2, --, B, gprB_3, >>indirect]'])).toMatch(/^NC6048: NFP pc 3074: a shift by indirect amount takes its amount \(the A operand\).*not an ALU instruction/);
    expect(fails(['immed[gprA_4, 0x5]', 'alu_shf[gprA_2, --, B, gprB_3, >>indirect]'])).toMatch(/^NC6048: NFP pc 3073: .*has no A operand/);
    expect(fails(['nop', 'asr[gprA_2, gprB_3, >>4]'])).toMatch(/^NC6048: NFP pc 3073: asr takes its fill bit/);
    // A taken branch between producer and consumer breaks the chain too.
    expect(fails(['alu[--, gprA_4, OR, 0x0]', 'br[.3074]', 'alu_shf[gprA_2, --, B, gprB_3, >>indirect]'])).toMatch(/^NC6048: NFP pc 3074/);
    // The first instruction of a fragment has no producer.
    expect(fails(['alu_shf[gprA_2, --, B, gprB_3, >>indirect]'])).toMatch(/^NC6048: NFP pc 3072/);
  });
});

describe('immed', () => {
  const word = (hex: string): bigint => BigInt(`0x${hex}`);
  test('doc B.10 and golden words', () => {
    expect(fragmentBoth([word('000f20f003f05bff')], BASE).b[22]).toBe(0x3fff);
    const r = fragmentBoth([word('000902f0000c0400')], BASE);
    expect([r.a[0], r.b[0]]).toEqual([1, 1]);
    expect(fragmentBoth([word('000942f0800c0004')], BASE).a[4]).toBe(0xffffffff);
    expect(fragmentBoth([word('000f02f20abc0004')], BASE).a[4]).toBe(0x00ab0000);
    expect(fragmentBoth([word('000f60f409005700')], BASE).b[21]).toBe(0x90000000);
    expect(fragmentBoth([word('000d82f0056de004'), word('000202f4412cd004')], BASE).a[4]).toBe(0x12345678);
    // nop changes nothing.
    const n = fragmentBoth([word('000000f0000c0300')], BASE, init({ 2: 7 }));
    expect([n.a[2], n.instructions, n.cycles]).toEqual([7, 1, 1]);
  });

  test('partial forms keep the other bits of the destination; for $xfer that is the transfer-out register', () => {
    expect(run(['immed_w1[gprA_2, 0x1234]'], { 2: 0xaabbccdd }).a[2]).toBe(0x1234ccdd);
    expect(run(['immed_w0[gprA_2, 0x1234]'], { 2: 0xaabbccdd }).a[2]).toBe(0xaabb1234);
    expect(run(['immed_b1[gprA_2, 0x12]'], { 2: 0xaabbccdd }).a[2]).toBe(0xaabb12dd);
    const r = run(['immed[$xfer_0, 0x3344]', 'immed_w1[$xfer_0, 0x1122]']);
    expect([r.xferOut[0], r.xferIn[0]]).toEqual([0x11223344, 0]);
  });
});

describe('ld_field', () => {
  test('byte mask over the shifted source; other bytes kept, or cleared by _w_clr', () => {
    expect(run(['ld_field[gprA_2, 0101, gprB_3, >>rot8]'], { 2: 0xaabbccdd }, { 3: 0x11223344 }).a[2]).toBe(0xaa11cc33);
    expect(run(['ld_field_w_clr[gprA_2, 0011, gprB_3, >>16]'], { 2: 0xaabbccdd }, { 3: 0x11223344 }).a[2]).toBe(0x1122);
    expect(run(['ld_field[gprA_0, 1100, 0x82, <<16]'], { 0: 0x1234 }).a[0]).toBe(0x00821234);
    // be32 by the JIT's two rotations (catalogue "r2 = be32 r2").
    const r = run(['ld_field[gprB_4, 1111, gprA_4, >>rot8], gpr_wrboth', 'ld_field[gprB_4, 0101, gprA_4, >>rot16], gpr_wrboth'], { 4: 0x11223344 }, { 4: 0x11223344 });
    expect([r.a[4], r.b[4]]).toEqual([0x44332211, 0x44332211]);
  });
});

describe('local memory pointers', () => {
  const read3 = (nops: number) => ['local_csr_wr[ActLMAddr3, gprB_21]', ...Array(nops).fill('nop'), 'alu[gprA_6, --, B, *l$index3]'];
  test('a pointer written by local_csr_wr may be used 3 cycles later, not earlier (NC6046)', () => {
    const lm = Array.from({ length: 1024 }, (_, i) => i * 3);
    const r = run(read3(3), {}, { 21: 0x1234 }, { lm });
    expect([r.lmAddr[3], r.a[6]]).toEqual([0x234, (0x234 >> 2) * 3]);
    expect(fails(read3(2), {}, { 21: 0x100 })).toBe('NC6046: NFP pc 3075: LM pointer 3 used 3 cycle(s) after its local_csr_wr; the new address takes effect after 3');
    expect(fails(read3(0), {}, { 21: 0x100 })).toMatch(/^NC6046: NFP pc 3073: LM pointer 3 used 1 cycle/);
    // A taken branch's shadow counts: br (defer 0) costs 1 + 2 cycles, so the target is 4 cycles on.
    expect(run(['local_csr_wr[ActLMAddr3, gprB_21]', 'br[.3074]', 'alu[gprA_6, --, B, *l$index3]'], {}, { 21: 0x100 }, { lm }).a[6]).toBe(0x40 * 3);
  });

  test('post-increment and post-decrement move the pointer by one word after the access', () => {
    const lm = Array.from({ length: 1024 }, (_, i) => i);
    const r = run(['alu[gprA_6, --, B, *l$index0++]', 'alu[gprA_7, --, B, *l$index0++]', 'alu[gprA_8, --, B, *l$index2--]'], {}, {}, { lm, lmAddr: [0x200, 0xc00, 0x10, 0] });
    expect([r.a[6], r.a[7], r.lmAddr[0], r.a[8], r.lmAddr[2]]).toEqual([0x80, 0x81, 0x208, 4, 0xc]);
  });

  test('an offset past the pointer 16-word window is not simulated (NC6054)', () => {
    expect(fails(['alu[gprA_6, --, B, *l$index0[15]]'], {}, {}, { lmAddr: [0x204, 0xc00, 0, 0] })).toMatch(/^NC6054: NFP pc 3072: LM access \*l\$index0\[15\] at address 0x240/);
    expect(run(['alu[gprA_6, --, B, *l$index0[15]]'], {}, {}, { lmAddr: [0x200, 0xc00, 0, 0], lm: Array.from({ length: 1024 }, (_, i) => i) }).a[6]).toBe(0x80 + 15);
  });

  test('firmware entry: A22 and LM pointer 0 at the context stack, LM pointer 1 at its packet vector', () => {
    const r = fragmentBoth(asm(['local_csr_rd[ActLMAddr1]', 'immed[gprA_2, 0x0], gpr_wrboth', 'local_csr_rd[ActLMAddr0]', 'immed[gprA_3, 0x0]']), BASE, {}, { packet: new Uint8Array(60) });
    expect([r.a[2], r.b[2], r.a[3], r.a[22]]).toEqual([0xc00, 0xc00, 0, 0]);
    expect([r.lm[0xc00 / 4], r.lm[0xc00 / 4 + 2]]).toEqual([(60 | (0x40 << 16) | (32 << 26)) >>> 0, (0x80000000 | (0x40 << 16) | 128) >>> 0]);
  });
});

describe('branches and defer slots', () => {
  test('taken branches cost their unfilled shadow: br 2 - defer, conditional 3 - defer, rtn 3 - defer', () => {
    expect(run(['br[.5000]'])).toMatchObject({ exitPc: 5000, instructions: 1, cycles: 3 });
    const r = run(['br[.5000], defer[2]', 'alu[gprA_2, gprA_2, +, 0x1]', 'alu[gprA_2, gprA_2, +, 0x1]', 'alu[gprA_2, gprA_2, +, 0x10]']);
    expect([r.exitPc, r.a[2], r.instructions, r.cycles]).toEqual([5000, 2, 3, 3]);
    // beq taken with one slot: 2 + 1 issued, shadow 3 - 1.
    expect(run(['alu[--, gprA_2, -, gprB_2]', 'beq[.5000], defer[1]', 'alu[gprA_3, --, B, 0x7]'])).toMatchObject({ exitPc: 5000, instructions: 3, cycles: 5 });
    // Not taken: the slot still runs, no shadow.
    const n = run(['alu[--, gprA_2, -, gprB_2]', 'bne[.5000], defer[1]', 'alu[gprA_3, --, B, 0x7]'], {}, {});
    expect([n.exitPc, n.a[3], n.cycles]).toEqual([BASE + 3, 7, 3]);
    // rtn[reg] with 3 slots: the register is read before the slots run.
    const t = run(['rtn[gprA_21], defer[3]', 'alu[gprA_21, --, B, 0x0]', 'nop', 'nop'], { 21: 5000 });
    expect([t.exitPc, t.instructions, t.cycles]).toEqual([5000, 4, 4]);
  });

  test('a fragment that does not leave its words within maxInstructions faults (NC6056)', () => {
    expect(fragmentFault(asm(['nop', 'br[.3072]']), BASE, {}, { maxInstructions: 100 })).toBe('NC6056: NFP fragment at 3072..3073 ran 102 instructions without leaving its range');
  });

  test('br_bset / br_bclr test one bit', () => {
    expect(run(['br_bset[gprA_6, 5, .5000]'], { 6: 32 }).exitPc).toBe(5000);
    expect(run(['br_bset[gprA_6, 5, .5000]'], { 6: 31 }).exitPc).toBe(BASE + 1);
    expect(run(['br_bclr[gprA_6, 0, .5000]'], { 6: 2 }).exitPc).toBe(5000);
    expect(run(['br_bset[gprA_6, 31, .5000]'], { 6: 0x80000000 }).exitPc).toBe(5000);
  });

  test('a condition is decided before the slots change the codes', () => {
    const r = run(['alu[--, gprA_2, -, gprB_2]', 'beq[.5000], defer[1]', 'alu[--, gprA_3, -, 0x1]'], { 3: 0 });
    expect([r.exitPc, r.flags.z]).toEqual([5000, false]);
  });

  test('a branch, a ctx_swap command or local_csr_rd in a defer slot is not simulated (NC6051)', () => {
    expect(fails(['br[.5000], defer[1]', 'br[.6000]'])).toBe('NC6051: NFP pc 3073: a branch (br) in the defer slot of pc 3072 is undefined and not simulated');
    expect(fails(['br[.5000], defer[1]', 'local_csr_rd[PseudoRndNum]'])).toMatch(/^NC6051: NFP pc 3073: local_csr_rd/);
  });
});

describe('mul_step', () => {
  const mul32 = ['mul_step[gprA_4, gprB_6], start', 'mul_step[gprA_4, gprB_6], 32x32_step1', 'mul_step[gprA_4, gprB_6], 32x32_step2', 'mul_step[gprA_4, gprB_6], 32x32_step3', 'mul_step[gprA_4, gprB_6], 32x32_step4'];
  test('32x32: last gives the low word, last2 the high word of the product (random operands vs BigInt)', () => {
    const rand = seeded(7);
    for (let i = 0; i < 60; i++) {
      const x = i === 0 ? 0xffffffff : Math.floor(rand() * 2 ** 32);
      const y = i === 0 ? 0xffffffff : Math.floor(rand() * 2 ** 32);
      const r = run([...mul32, 'mul_step[gprA_8, --], 32x32_last, gpr_wrboth', 'mul_step[gprA_9, --], 32x32_last2, gpr_wrboth'], { 4: x }, { 6: y });
      const p = BigInt(x) * BigInt(y);
      expect([r.a[8], r.b[8], r.a[9]]).toEqual([Number(p & 0xffffffffn), Number(p & 0xffffffffn), Number(p >> 32n)]);
    }
  });

  test('16x16: the 32-bit product of the low halves', () => {
    const rand = seeded(8);
    for (let i = 0; i < 30; i++) {
      const x = Math.floor(rand() * 2 ** 32);
      const y = Math.floor(rand() * 2 ** 32);
      const r = run(['mul_step[gprA_4, gprB_6], start', 'mul_step[gprA_4, gprB_6], 16x16_step1', 'mul_step[gprA_4, gprB_6], 16x16_step2', 'mul_step[gprA_8, --], 16x16_last'], { 4: x }, { 6: y });
      expect(r.a[8]).toBe(Number((BigInt(x & 0xffff) * BigInt(y & 0xffff)) & 0xffffffffn));
    }
  });

  test('broken sequences fault (NC6050)', () => {
    expect(fails(['mul_step[gprA_8, --], 32x32_last'])).toMatch(/^NC6050: NFP pc 3072: mul_step sequence broken: 32x32_last after no start/);
    expect(fails(['mul_step[gprA_4, gprB_6], start', 'mul_step[gprA_4, gprB_6], 32x32_step2'])).toMatch(/32x32_step2 after 0 step/);
    expect(fails([...mul32.slice(0, 3), 'alu[gprA_4, gprA_4, +, 0x1]', ...mul32.slice(3)])).toMatch(/^NC6050: NFP pc 3076: .*differ from those at start/);
    expect(fails(['mul_step[gprA_4, gprB_6], start', 'mul_step[gprA_4, gprB_6], 16x16_step1', 'mul_step[gprA_4, gprB_6], 16x16_step2', 'mul_step[gprA_8, --], 16x16_last2'])).toMatch(/no high word/);
    expect(fails(['mul_step[gprA_4, gprB_6], start', 'mul_step[gprA_4, gprB_6], 24x8_step1'])).toMatch(/only 16x16 and 32x32/);
  });
});

describe('local CSRs', () => {
  test('local_csr_rd delivers the CSR through the next immed[dst, 0]', () => {
    expect(run(['local_csr_rd[ActLMAddr1]', 'immed[gprA_2, 0x0], gpr_wrboth']).a[2]).toBe(0xc00);
    expect(fails(['local_csr_rd[ActLMAddr1]', 'alu[gprA_2, --, B, 0x1]'])).toBe(
      'NC6049: NFP pc 3072: local_csr_rd must be followed by immed[dst, 0], which receives the CSR value; pc 3073 holds alu[gprA_2, --, B, 0x1]',
    );
    expect(fails(['local_csr_rd[ActLMAddr1]', 'immed[gprA_2, 0x5]'])).toMatch(/^NC6049/);
    expect(fails(['local_csr_rd[0x10]', 'immed[gprA_2, 0x0]'])).toBe('NC6052: NFP pc 3072: local CSR 0x010 is not simulated (read)');
    expect(fails(['local_csr_wr[0x10, gprB_21]'])).toMatch(/^NC6052: NFP pc 3072: local CSR 0x010 is not simulated \(write\)/);
  });
});

describe('condition-code flags of the encoding', () => {
  test('no_cc keeps the codes (alu, alu_shf, mul_step last); ld_field load_cc sets Z and N from its result', () => {
    const setC = 'alu[--, gprA_5, +, gprB_5]'; // 0x80000000 + 0x80000000: Z, C and V set
    const regs = [{ 5: 0x80000000, 3: 1 }, { 5: 0x80000000, 3: 1 }] as const;
    expect(run([setC, 'alu[gprA_2, gprA_3, +, gprB_3], no_cc'], regs[0], regs[1])).toMatchObject({ flags: { z: true, c: true, v: true, n: false }, a: expect.objectContaining({ 2: 2 }) });
    expect(run([setC, 'alu_shf[gprA_2, --, B, gprB_3, >>4], no_cc'], regs[0], regs[1]).flags).toEqual({ z: true, n: false, c: true, v: true });
    expect(run([setC, 'alu[gprA_2, gprA_3, +carry, gprB_3], no_cc'], regs[0], regs[1]).a[2]).toBe(3);
    const mul = ['mul_step[gprA_3, gprB_3], start', 'mul_step[gprA_3, gprB_3], 16x16_step1', 'mul_step[gprA_3, gprB_3], 16x16_step2'];
    expect(run([...mul, setC, 'mul_step[gprA_8, --], 16x16_last, no_cc'], regs[0], regs[1]).flags).toEqual({ z: true, n: false, c: true, v: true });
    expect(run([setC, 'ld_field[gprA_2, 1000, gprB_3, <<31], load_cc'], regs[0], regs[1]).flags).toEqual({ z: false, n: true, c: false, v: false });
    expect(run([setC, 'ld_field[gprA_2, 1000, gprB_3, <<31]'], regs[0], regs[1]).flags).toEqual({ z: true, n: false, c: true, v: true });
  });
});

describe('not simulated and invalid words', () => {
  test('forms the kernel JIT never emits fault NC6041 when executed', () => {
    for (const [text, why] of [
      ['alu[gprA_2, gprA_3, +, gprB_3], predicate_cc', /predicate_cc/],
      ['pop_count3[gprA_2, gprB_3]', /alu operation pop_count3/],
      ['br=ctx[0, .3080]', /branch condition br=ctx/],
      ['jump[gprA_2, .3080]', /the jump format/],
      ['ctx_arb[voluntary]', /the ctx_arb format/],
      ['br=byte[gprA_2, 0, 0x5, .3080]', /the br_byte format/],
      ['mem[atomic_read, $xfer_0, gprA_2, 0x0, 1], ctx_swap[sig1]', /mem\[atomic_read\] is not simulated/],
      ['cls[add, $xfer_0, gprA_2, 0x0, 1], ctx_swap[sig1]', /the cls target/],
      ['alu[gprA_2, --, B, *$index]', /xfer-indexed operands/],
    ] as const) {
      expect([text, fails([text])]).toEqual([text, expect.stringMatching(new RegExp(`^NC6041: NFP pc 3072: .*${why.source}`))]);
    }
  });


  test('absolute GPRs and byte_align fault NC6041 when executed', () => {
    // alu[gprA_2, gprA_3, +, gprB_3] with its A field (bits 9:0) changed to 0x083, absolute GPR 3.
    const abs = withEcc((asm(['alu[gprA_2, gprA_3, +, gprB_3]'])[0]! & ~0x3ffn) | 0x083n);
    expect(fragmentFault([abs], BASE)).toMatch(/^NC6041: NFP pc 3072: alu\[gprA_2, @gpr\w*3, \+, gprB_3\] is not simulated: absolute GPRs/);
    expect(fails(['byte_align_be[--, gprB_3]'])).toMatch(/^NC6041: NFP pc 3072: .*byte_align/);
  });

  test('an undecodable word faults only when executed, naming the word and the decoder reason (NC6040)', () => {
    // alu[--, <code 0x030>, OR, 0x0]: unrestricted operand codes 0x020-0x07f are unassigned (doc I).
    const bad = withEcc(0x00aa300c0030n);
    expect(fragmentFault([...asm(['br[.3074]', 'nop']), bad], BASE)).toMatch(
      /^NC6040: NFP pc 3074: instruction word 0x[0-9a-f]{16} cannot be executed: unrestricted operand code 0x30 is not supported/,
    );
    expect(fragmentBoth([...asm(['br[.3075]']), bad, bad], BASE).exitPc).toBe(3075);
  });
});
