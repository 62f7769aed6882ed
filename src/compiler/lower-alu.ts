/**
 * ALU lowerings (nfp-microcode.md C.3): each eBPF register is a pair of GPRs
 * kept in both banks, so a 64-bit operation is one NFP operation per half, the
 * high half carrying from the low one. 32-bit operations work on the low GPR
 * and clear the high one only when the verifier says it is read (zext).
 */
import { BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_K, BPF_MOV, BPF_NEG, BPF_OR, BPF_SUB, BPF_X, BPF_XOR } from '../ebpf/opcodes.js';
import { LD_IMM64 } from '../ebpf/insn.js';
import { loadImmediate, unrestrictedImmediate } from './immediates.js';
import type { Lowering, LoweringContext } from './lowering-context.js';
import type { NfpCode } from './nfp-code.js';
import { both, IMM_GPR, imm, lowGpr, NO_OPERAND, onlyB, regA, regB, STACK_BASE_GPR } from './nfp-registers.js';
import type { AluOp } from '../nfp-backend/isa/instruction.js';

/** The scratch an out-of-range immediate goes through (imm_b: B21). */
export const IMM_SCRATCH = { dst: onlyB(IMM_GPR), read: regB(IMM_GPR) };

/** `dst = src` for one GPR (wrp_reg_mov). */
export function movGpr(code: NfpCode, dst: number, src: number): void {
  code.mov(both(dst), regB(src));
}

/** The kernel's wrp_zext: clear the high word of a 32-bit result when it is read later. */
export function zeroExtend(ctx: LoweringContext, dstGpr: number): void {
  if (ctx.facts?.zext) loadImmediate(ctx.code, both(dstGpr + 1), 0);
}

/**
 * One GPR `op=` a constant (wrp_alu_imm): AND/OR/XOR with 0 or all-ones fold
 * to an immed, a NOT, or nothing.
 */
export function aluGprImm(code: NfpCode, dst: number, op: AluOp, value: number): void {
  const v = value >>> 0;
  if (op === 'AND') {
    if (v === 0) loadImmediate(code, both(dst), 0);
    if (v === 0 || v === 0xffffffff) return;
  }
  if (op === 'OR') {
    if (v === 0xffffffff) loadImmediate(code, both(dst), 0xffffffff);
    if (v === 0 || v === 0xffffffff) return;
  }
  if (op === 'XOR') {
    if (v === 0xffffffff) code.alu(both(dst), NO_OPERAND, '~B', regB(dst));
    if (v === 0 || v === 0xffffffff) return;
  }
  const operand = unrestrictedImmediate(code, v, IMM_SCRATCH);
  code.alu(both(dst), regA(dst), op, operand);
}

function high32(value: number): number {
  return value < 0 ? 0xffffffff : 0;
}

const bitwise: Record<number, AluOp> = { [BPF_AND]: 'AND', [BPF_OR]: 'OR', [BPF_XOR]: 'XOR' };

function mov64(ctx: LoweringContext): void {
  const { code, insn } = ctx;
  const d = lowGpr(insn.dst);
  if ((insn.code & BPF_X) === BPF_X) {
    if (insn.src === 10) {
      // rX = r10: the frame pointer is the stack base plus this function's depth.
      code.alu(both(d), regA(STACK_BASE_GPR), '+', unrestrictedImmediate(code, ctx.frameDepth, IMM_SCRATCH));
      loadImmediate(code, both(d + 1), 0);
      return;
    }
    const s = lowGpr(insn.src);
    movGpr(code, d, s);
    movGpr(code, d + 1, s + 1);
    return;
  }
  loadImmediate(code, both(d), insn.imm);
  loadImmediate(code, both(d + 1), high32(insn.imm));
}

function bitwise64(ctx: LoweringContext): void {
  const { code, insn } = ctx;
  const op = bitwise[insn.code & 0xf0]!;
  const d = lowGpr(insn.dst);
  if ((insn.code & BPF_X) === BPF_X) {
    const s = lowGpr(insn.src);
    code.alu(both(d), regA(d), op, regB(s));
    code.alu(both(d + 1), regA(d + 1), op, regB(s + 1));
    return;
  }
  aluGprImm(code, d, op, insn.imm);
  aluGprImm(code, d + 1, op, high32(insn.imm));
}

function addSub64(ctx: LoweringContext): void {
  const { code, insn } = ctx;
  const d = lowGpr(insn.dst);
  const isSub = (insn.code & 0xf0) === BPF_SUB;
  if ((insn.code & BPF_X) === BPF_X) {
    const s = lowGpr(insn.src);
    code.alu(both(d), regA(d), isSub ? '-' : '+', regB(s));
    code.alu(both(d + 1), regA(d + 1), isSub ? '-carry' : '+carry', regB(s + 1));
    return;
  }
  // A negative constant flips the operation so the magnitude fits the 8-bit operand (kernel pass E.2).
  let value = insn.imm;
  let sub = isSub;
  if (value < 0 && value !== -0x80000000) {
    value = -value;
    sub = !sub;
  }
  const hi = high32(sub === isSub ? insn.imm : -insn.imm);
  code.alu(both(d), regA(d), sub ? '-' : '+', unrestrictedImmediate(code, value, IMM_SCRATCH));
  code.alu(both(d + 1), regA(d + 1), sub ? '-carry' : '+carry', unrestrictedImmediate(code, hi, IMM_SCRATCH));
}

function neg64(ctx: LoweringContext): void {
  const { code, insn } = ctx;
  const d = lowGpr(insn.dst);
  code.alu(both(d), imm(0), '-', regB(d));
  code.alu(both(d + 1), imm(0), '-carry', regB(d + 1));
}

function mov32(ctx: LoweringContext): void {
  const { code, insn } = ctx;
  const d = lowGpr(insn.dst);
  if ((insn.code & BPF_X) === BPF_X) movGpr(code, d, lowGpr(insn.src));
  else loadImmediate(code, both(d), insn.imm);
  // A 32-bit move always clears the high word.
  loadImmediate(code, both(d + 1), 0);
}

function alu32(op: AluOp): Lowering {
  return (ctx) => {
    const { code, insn } = ctx;
    const d = lowGpr(insn.dst);
    if ((insn.code & BPF_X) === BPF_X) code.alu(both(d), regA(d), op, regB(lowGpr(insn.src)));
    else if (op === '+' || op === '-') code.alu(both(d), regA(d), op, unrestrictedImmediate(code, insn.imm, IMM_SCRATCH));
    else aluGprImm(code, d, op, insn.imm);
    zeroExtend(ctx, d);
  };
}

function neg32(ctx: LoweringContext): void {
  const d = lowGpr(ctx.insn.dst);
  ctx.code.alu(both(d), imm(0), '-', regB(d));
  zeroExtend(ctx, d);
}

/** ld_imm64 source marking a map reference (BPF_PSEUDO_MAP_FD). */
const PSEUDO_MAP_FD = 1;

function ldImm64(ctx: LoweringContext): void {
  const { code, insn } = ctx;
  const d = lowGpr(insn.dst);
  // A map reference becomes the firmware's table id: maps are numbered from 1 in object order.
  // (The golden vectors mark map references by the mapidx fact, their bytes keep src 0.)
  const isMap = insn.src === PSEUDO_MAP_FD || ctx.facts?.mapidx !== undefined;
  const lo = isMap ? (ctx.facts?.mapidx ?? insn.imm) + 1 : insn.imm >>> 0;
  const hi = isMap ? 0 : (insn.imm2 ?? 0) >>> 0;
  loadImmediate(code, both(d), lo);
  // Equal halves: the kernel copies the low word, read from bank A (wrp_mov with reg_a).
  if (hi === lo) code.mov(both(d + 1), regA(d));
  else loadImmediate(code, both(d + 1), hi);
}

function both64(op: number, lowering: Lowering): [number, Lowering][] {
  return [
    [BPF_ALU64 | op | BPF_K, lowering],
    [BPF_ALU64 | op | BPF_X, lowering],
  ];
}

export const ALU_LOWERINGS: readonly [number, Lowering][] = [
  ...both64(BPF_MOV, mov64),
  ...both64(BPF_ADD, addSub64),
  ...both64(BPF_SUB, addSub64),
  ...both64(BPF_AND, bitwise64),
  ...both64(BPF_OR, bitwise64),
  ...both64(BPF_XOR, bitwise64),
  [BPF_ALU64 | BPF_NEG, neg64],
  [BPF_ALU | BPF_MOV | BPF_K, mov32],
  [BPF_ALU | BPF_MOV | BPF_X, mov32],
  [BPF_ALU | BPF_ADD | BPF_K, alu32('+')],
  [BPF_ALU | BPF_ADD | BPF_X, alu32('+')],
  [BPF_ALU | BPF_SUB | BPF_K, alu32('-')],
  [BPF_ALU | BPF_SUB | BPF_X, alu32('-')],
  [BPF_ALU | BPF_AND | BPF_K, alu32('AND')],
  [BPF_ALU | BPF_AND | BPF_X, alu32('AND')],
  [BPF_ALU | BPF_OR | BPF_K, alu32('OR')],
  [BPF_ALU | BPF_OR | BPF_X, alu32('OR')],
  [BPF_ALU | BPF_XOR | BPF_K, alu32('XOR')],
  [BPF_ALU | BPF_XOR | BPF_X, alu32('XOR')],
  [BPF_ALU | BPF_NEG, neg32],
  [LD_IMM64, ldImm64],
];
