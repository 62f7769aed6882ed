/**
 * Shifts, multiply, divide and byte swaps (nfp-microcode.md C.3): the ALU
 * operations whose lowering depends on the verifier's value ranges. A shift
 * by a register whose range is one value is lowered as the constant shift;
 * otherwise the range picks the <32, >=32 or run-time-selected sequence.
 * Multiply needs both operands within u32; divide needs a known constant
 * divisor and becomes a shift, a compare, or a reciprocal multiply.
 * MOD and END to LE are refused by the NFP verifier hook and have no rows.
 */
import {
  BPF_ALU,
  BPF_ALU64,
  BPF_ARSH,
  BPF_DIV,
  BPF_END,
  BPF_K,
  BPF_LSH,
  BPF_MUL,
  BPF_RSH,
  BPF_TO_BE,
  BPF_X,
} from '../ebpf/opcodes.js';
import type { MulStep, MulType, NfpShift } from '../nfp-backend/isa/instruction.js';
import { loadImmediate, unrestrictedImmediate } from './immediates.js';
import { IMM_SCRATCH, zeroExtend } from './lower-alu.js';
import { LoweringGap, type Lowering, type LoweringContext } from './lowering-context.js';
import { rangeOf } from './lowering-facts.js';
import type { NfpCode } from './nfp-code.js';
import {
  both,
  IMM_GPR,
  imm,
  lowGpr,
  NO_DESTINATION,
  NO_OPERAND,
  onlyA,
  regA,
  regB,
  type Destination,
  type NfpOperand,
} from './nfp-registers.js';

const U32_MAX = 0xffffffffn;
const U16_MAX = 0xffff;

function usesRegister(ctx: LoweringContext): boolean {
  return (ctx.insn.code & BPF_X) === BPF_X;
}

/** The kernel keeps shift amounts in a byte. */
function shiftByte(value: number | bigint): number {
  return Number(BigInt(value) & 0xffn);
}

/** An immediate shift amount must fit the 5-bit field; the kernel's JIT fails otherwise. */
function fieldAmount(ctx: LoweringContext, n: number): number | 'indirect' {
  if (n > 31) throw new LoweringGap(ctx.index, `shift amount ${n} does not fit the NFP shift field`);
  // An encoded 0 is what the kernel writes for a zero amount; it reads as indirect.
  return n === 0 ? 'indirect' : n;
}

const right = (amount: number | 'indirect'): NfpShift => ({ kind: 'right', amount });
const left = (amount: number | 'indirect'): NfpShift => ({ kind: 'left', amount });
const INDIRECT_RIGHT = right('indirect');
const INDIRECT_LEFT = left('indirect');

/** `alu[--, a, OR, b]`: sets the indirect shift amount (a) and the asr sign (result). */
function primeShift(code: NfpCode, amountSource: NfpOperand, other: NfpOperand = imm(0)): void {
  code.aluCc(amountSource, 'OR', other);
}

// ---- 64-bit shifts ----

function lsh64ByConstant(ctx: LoweringContext, d: number, n: number): void {
  const { code } = ctx;
  if (n === 0) return;
  if (n < 32) {
    code.dblShf(both(d + 1), regA(d + 1), regB(d), 32 - n);
    code.shf(both(d), NO_OPERAND, 'B', regB(d), left(n));
  } else if (n === 32) {
    code.mov(both(d + 1), regB(d));
    loadImmediate(code, both(d), 0);
  } else {
    code.shf(both(d + 1), NO_OPERAND, 'B', regB(d), left(fieldAmount(ctx, n - 32)));
    loadImmediate(code, both(d), 0);
  }
}

function rsh64ByConstant(ctx: LoweringContext, d: number, n: number): void {
  const { code } = ctx;
  if (n === 0) return;
  if (n < 32) {
    code.dblShf(both(d), regA(d + 1), regB(d), n);
    code.shf(both(d + 1), NO_OPERAND, 'B', regB(d + 1), right(n));
  } else if (n === 32) {
    code.mov(both(d), regB(d + 1));
    loadImmediate(code, both(d + 1), 0);
  } else {
    code.shf(both(d), NO_OPERAND, 'B', regB(d + 1), right(fieldAmount(ctx, n - 32)));
    loadImmediate(code, both(d + 1), 0);
  }
}

function arsh64ByConstant(ctx: LoweringContext, d: number, n: number): void {
  const { code } = ctx;
  if (n === 0) return;
  if (n < 32) {
    code.dblShf(both(d), regA(d + 1), regB(d), n);
    primeShift(code, regA(d + 1));
    code.asr(both(d + 1), regB(d + 1), n);
  } else if (n === 32) {
    // The move's result already carries the sign for the asr.
    code.mov(both(d), regB(d + 1));
    code.asr(both(d + 1), regB(d + 1), 31);
  } else {
    const amount = fieldAmount(ctx, n - 32);
    primeShift(code, regA(d + 1));
    code.asr(both(d), regB(d + 1), amount);
    code.asr(both(d + 1), regB(d + 1), 31);
  }
}

/** The pieces of a by-register 64-bit shift: two halves for amounts <32 (in emit order) and the >=32 form. */
interface IndirectShift64 {
  lt32First(code: NfpCode, d: number, s: number): void;
  lt32Second(code: NfpCode, d: number, s: number): void;
  ge32(code: NfpCode, d: number, s: number): void;
  byConstant(ctx: LoweringContext, d: number, n: number): void;
}

const LSH64: IndirectShift64 = {
  // The high word goes first: it still needs the unshifted low word.
  lt32First(code, d, s) {
    code.alu(both(IMM_GPR), imm(32), '-', regB(s));
    primeShift(code, regA(IMM_GPR));
    code.dblShf(both(d + 1), regA(d + 1), regB(d), 'indirect');
  },
  lt32Second(code, d, s) {
    primeShift(code, regA(s));
    code.shf(both(d), NO_OPERAND, 'B', regB(d), INDIRECT_LEFT);
  },
  ge32(code, d, s) {
    primeShift(code, regA(s));
    code.shf(both(d + 1), NO_OPERAND, 'B', regB(d), INDIRECT_LEFT);
    loadImmediate(code, both(d), 0);
  },
  byConstant: lsh64ByConstant,
};

/** Right shifts do the low word first: it still needs the unshifted high word. */
function rshLowWord(code: NfpCode, d: number, s: number): void {
  primeShift(code, regA(s));
  code.dblShf(both(d), regA(d + 1), regB(d), 'indirect');
}

const RSH64: IndirectShift64 = {
  lt32First: rshLowWord,
  lt32Second(code, d, s) {
    primeShift(code, regA(s));
    code.shf(both(d + 1), NO_OPERAND, 'B', regB(d + 1), INDIRECT_RIGHT);
  },
  ge32(code, d, s) {
    primeShift(code, regA(s));
    code.shf(both(d), NO_OPERAND, 'B', regB(d + 1), INDIRECT_RIGHT);
    loadImmediate(code, both(d + 1), 0);
  },
  byConstant: rsh64ByConstant,
};

const ARSH64: IndirectShift64 = {
  // Below 32 no sign bits enter the low word, so it is the logical form.
  lt32First: rshLowWord,
  lt32Second(code, d, s) {
    primeShift(code, regA(s), regB(d + 1));
    code.asr(both(d + 1), regB(d + 1), 'indirect');
  },
  ge32(code, d, s) {
    primeShift(code, regA(s), regB(d + 1));
    code.asr(both(d), regB(d + 1), 'indirect');
    code.asr(both(d + 1), regB(d + 1), 31);
  },
  byConstant: arsh64ByConstant,
};

function shift64(kind: IndirectShift64): Lowering {
  return (ctx) => {
    const { code, insn } = ctx;
    const d = lowGpr(insn.dst);
    if (!usesRegister(ctx)) return kind.byConstant(ctx, d, shiftByte(insn.imm));
    const { umin, umax } = rangeOf(ctx.facts, 'src');
    if (umin === umax) return kind.byConstant(ctx, d, shiftByte(umin));
    const s = lowGpr(insn.src);
    if (umax < 32n) {
      kind.lt32First(code, d, s);
      kind.lt32Second(code, d, s);
    } else if (umin >= 32n) {
      kind.ge32(code, d, s);
    } else {
      // Bit 5 of the amount picks the sequence at run time; the <32 tail fills the branch's defer slots.
      const ge32 = code.label('shift-ge32');
      const end = code.label('shift-end');
      code.brBit(regA(s), 5, true, { kind: 'label', label: ge32 });
      kind.lt32First(code, d, s);
      code.br('br', { kind: 'label', label: end }, 2);
      kind.lt32Second(code, d, s);
      code.place(ge32);
      kind.ge32(code, d, s);
      code.place(end);
    }
  };
}

// ---- 32-bit shifts ----

type Shift32 = 'lsh' | 'rsh' | 'arsh';

function shift32ByConstant(ctx: LoweringContext, op: Shift32, d: number, n: number): void {
  const { code } = ctx;
  if (n !== 0) {
    const amount = fieldAmount(ctx, n);
    if (op === 'lsh') code.shf(both(d), NO_OPERAND, 'B', regB(d), left(amount));
    else if (op === 'rsh') code.shf(both(d), NO_OPERAND, 'B', regB(d), right(amount));
    else {
      primeShift(code, regA(d));
      code.asr(both(d), regB(d), amount);
    }
  }
  zeroExtend(ctx, d);
}

function shift32(op: Shift32): Lowering {
  return (ctx) => {
    const { code, insn } = ctx;
    const d = lowGpr(insn.dst);
    if (!usesRegister(ctx)) return shift32ByConstant(ctx, op, d, shiftByte(insn.imm));
    const { umin, umax } = rangeOf(ctx.facts, 'src');
    if (umin === umax) return shift32ByConstant(ctx, op, d, shiftByte(umin));
    const s = lowGpr(insn.src);
    if (op === 'arsh') {
      primeShift(code, regA(s), regB(d));
      code.asr(both(d), regB(d), 'indirect');
    } else {
      primeShift(code, regA(s));
      code.shf(both(d), NO_OPERAND, 'B', regB(d), op === 'lsh' ? INDIRECT_LEFT : INDIRECT_RIGHT);
    }
    zeroExtend(ctx, d);
  };
}

// ---- multiply ----

/** A `last`/`last2` step: its A field is the destination. */
function mulResult(code: NfpCode, type: MulType, step: MulStep, dst: Destination): void {
  code.emit({ format: 'mul_step', type, step, left: dst.operand, right: NO_OPERAND, wrboth: dst.wrboth });
}

/** 32x32 multiply; the high half is the product's (last2) or zero. */
function multiply32(code: NfpCode, high: Destination, low: Destination, a: NfpOperand, b: NfpOperand, wantHigh: boolean): void {
  code.mulStep('start', 'step1', a, b);
  for (const step of ['step1', 'step2', 'step3', 'step4'] as const) code.mulStep('32x32', step, a, b);
  mulResult(code, '32x32', 'last', low);
  if (wantHigh) mulResult(code, '32x32', 'last2', high);
  else loadImmediate(code, high, 0);
}

/** 16x16 multiply: the low word only (the kernel leaves the high word as it was). */
function multiply16(code: NfpCode, low: Destination, a: NfpOperand, b: NfpOperand): void {
  code.mulStep('start', 'step1', a, b);
  code.mulStep('16x16', 'step1', a, b);
  code.mulStep('16x16', 'step2', a, b);
  mulResult(code, '16x16', 'last', low);
}

function multiply(alu64: boolean): Lowering {
  return (ctx) => {
    const { code, insn } = ctx;
    const d = lowGpr(insn.dst);
    const dstRange = rangeOf(ctx.facts, 'dst');
    // The NFP verifier hook's limits: u32 operands, no sign-extended constant.
    if (dstRange.umax > U32_MAX) throw new LoweringGap(ctx.index, 'multiplier is not within u32 value range');
    let multiplier: NfpOperand;
    let rightMax: number;
    if (usesRegister(ctx)) {
      const srcRange = rangeOf(ctx.facts, 'src');
      if (srcRange.umax > U32_MAX) throw new LoweringGap(ctx.index, 'multiplicand is not within u32 value range');
      multiplier = regB(lowGpr(insn.src));
      rightMax = Number(srcRange.umax);
    } else {
      if (alu64 && insn.imm < 0) throw new LoweringGap(ctx.index, 'sign-extended multiplicand is not within u32 value range');
      const value = insn.imm >>> 0;
      multiplier = unrestrictedImmediate(code, value, IMM_SCRATCH);
      rightMax = value;
    }
    const leftMax = Number(dstRange.umax);
    if (leftMax > U16_MAX || rightMax > U16_MAX) multiply32(code, both(d + 1), both(d), regA(d), multiplier, alu64);
    else multiply16(code, both(d), regA(d), multiplier);
  };
}

// ---- divide by a constant ----

/** Index of the highest set bit, 1-based; 0 for 0. */
function fls(value: bigint): number {
  return value === 0n ? 0 : value.toString(2).length;
}

interface Reciprocal {
  magic: number;
  postShift: number;
  exp: number;
  wide: boolean;
}

/** The kernel's reciprocal_value_adv: the multiplier for `prec` bits of dividend, and its shift. */
function reciprocal(divisor: bigint, prec: number): Reciprocal {
  const l = fls(divisor - 1n);
  let low = (1n << BigInt(32 + l)) / divisor;
  let high = ((1n << BigInt(32 + l)) + (1n << BigInt(32 + l - prec))) / divisor;
  let postShift = l;
  for (; postShift > 0; postShift--) {
    if (low >> 1n >= high >> 1n) break;
    low >>= 1n;
    high >>= 1n;
  }
  return { magic: Number(high & U32_MAX), postShift, exp: l, wide: high > U32_MAX };
}

function divideByConstant(ctx: LoweringContext, d: number, divisor: bigint): void {
  const { code } = ctx;
  if (divisor > U32_MAX) return loadImmediate(code, both(d), 0);
  if (divisor === 0n) throw new LoweringGap(ctx.index, 'divisor is zero');
  if (divisor > 1n << 31n) {
    // Only quotients 0 and 1 are possible: the borrow of dst - divisor is the answer.
    const operand = unrestrictedImmediate(code, Number(divisor), IMM_SCRATCH);
    code.aluCc(regA(d), '-', operand);
    loadImmediate(code, onlyA(IMM_GPR), 0);
    code.alu(both(d), regA(IMM_GPR), '+carry', imm(0));
    return;
  }
  let r = reciprocal(divisor, 32);
  const exp = r.exp;
  let preShift = 0;
  if (r.wide && (divisor & 1n) === 0n) {
    preShift = fls(divisor & -divisor) - 1;
    r = reciprocal(divisor >> BigInt(preShift), 32 - preShift);
  }
  // The kernel materialises the multiplier before choosing the form, even when unused.
  const magic = unrestrictedImmediate(code, r.magic, IMM_SCRATCH);
  // The kernel's shifts read the destination through its bank-A view (E.3 item 3).
  const shiftDst = (n: number): void => code.shf(both(d), NO_OPERAND, 'B', regA(d), right(fieldAmount(ctx, n)));
  if (divisor === 1n << BigInt(exp)) {
    shiftDst(exp);
  } else if (r.wide) {
    multiply32(code, both(IMM_GPR), NO_DESTINATION, regA(d), magic, true);
    code.alu(both(d), regA(d), '-', regB(IMM_GPR));
    shiftDst(1);
    code.alu(both(d), regA(d), '+', regB(IMM_GPR));
    shiftDst(r.postShift - 1);
  } else {
    if (preShift) shiftDst(preShift);
    multiply32(code, both(d), NO_DESTINATION, regA(d), magic, true);
    shiftDst(r.postShift);
  }
}

function divide(ctx: LoweringContext): void {
  const { insn } = ctx;
  // The NFP verifier hook's limits: u32 dividend, constant u32 divisor.
  if (rangeOf(ctx.facts, 'dst').umax > U32_MAX) throw new LoweringGap(ctx.index, 'dividend is not within u32 value range');
  let divisor: bigint;
  if (usesRegister(ctx)) {
    const { umin, umax } = rangeOf(ctx.facts, 'src');
    if (umin !== umax) throw new LoweringGap(ctx.index, 'divisor is not constant');
    if (umax > U32_MAX) throw new LoweringGap(ctx.index, 'divisor is not within u32 value range');
    divisor = umin;
  } else {
    if (insn.imm < 0) throw new LoweringGap(ctx.index, 'divide by negative constant is not supported');
    divisor = BigInt(insn.imm);
  }
  divideByConstant(ctx, lowGpr(insn.dst), divisor);
}

// ---- byte swap to big endian ----

/**
 * `ld_field` into GPR n written to both banks: the destination is named in the
 * bank opposite the source, as the kernel's operand swap leaves it.
 */
function ldFieldBoth(code: NfpCode, n: number, mask: number, src: NfpOperand, shift: NfpShift): void {
  const bankB = src.kind === 'gpr' && src.bank === 'A';
  code.ldField({ operand: bankB ? regB(n) : regA(n), wrboth: true }, mask, src, shift);
}

const ROT8: NfpShift = { kind: 'rotate', amount: 8 };
const ROT16: NfpShift = { kind: 'rotate', amount: 16 };

/** out = bswap32(in): rotate by 8 everywhere, then fix bytes 0 and 2 with a rotate by 16. */
function swap32(code: NfpCode, input: NfpOperand, out: number): void {
  ldFieldBoth(code, out, 0xf, input, ROT8);
  ldFieldBoth(code, out, 0x5, regA(out), ROT16);
}

function toBigEndian(ctx: LoweringContext): void {
  const { code, insn } = ctx;
  const d = lowGpr(insn.dst);
  switch (insn.imm) {
    case 16:
      ldFieldBoth(code, d, 0x9, regB(d), ROT8);
      ldFieldBoth(code, d, 0xe, regA(d), right(16));
      loadImmediate(code, both(d + 1), 0);
      return;
    case 32:
      swap32(code, regA(d), d);
      loadImmediate(code, both(d + 1), 0);
      return;
    case 64:
      // The halves trade places; the old high word waits in A21.
      code.mov(onlyA(IMM_GPR), regB(d + 1));
      swap32(code, regA(d), d + 1);
      swap32(code, regA(IMM_GPR), d);
      return;
    default:
      throw new LoweringGap(ctx.index, `byte swap width ${insn.imm} is not 16, 32 or 64`);
  }
}

function kAndX(cls: number, op: number, lowering: Lowering): [number, Lowering][] {
  return [
    [cls | op | BPF_K, lowering],
    [cls | op | BPF_X, lowering],
  ];
}

export const ARITH_LOWERINGS: readonly [number, Lowering][] = [
  ...kAndX(BPF_ALU64, BPF_LSH, shift64(LSH64)),
  ...kAndX(BPF_ALU64, BPF_RSH, shift64(RSH64)),
  ...kAndX(BPF_ALU64, BPF_ARSH, shift64(ARSH64)),
  ...kAndX(BPF_ALU64, BPF_MUL, multiply(true)),
  ...kAndX(BPF_ALU64, BPF_DIV, divide),
  ...kAndX(BPF_ALU, BPF_LSH, shift32('lsh')),
  ...kAndX(BPF_ALU, BPF_RSH, shift32('rsh')),
  ...kAndX(BPF_ALU, BPF_ARSH, shift32('arsh')),
  ...kAndX(BPF_ALU, BPF_MUL, multiply(false)),
  ...kAndX(BPF_ALU, BPF_DIV, divide),
  [BPF_ALU | BPF_END | BPF_TO_BE, toBigEndian],
];
