/**
 * Jump and exit lowerings. A jump's NFP branch targets the first NFP word of
 * the destination eBPF instruction (resolved in nfp-code.ts finishCode).
 *
 * Conditional jumps set the condition codes with one ALU word per 32-bit half
 * (JMP32 only looks at the low half) and branch on them: equality through
 * XOR, JSET through AND, ordered comparisons through a subtract whose carry
 * runs into the high half. Every branch a jump emits targets the same eBPF
 * instruction, as the kernel's branch fix-up rewrites them all.
 */
import {
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JLE,
  BPF_JLT,
  BPF_JMP,
  BPF_JMP32,
  BPF_JNE,
  BPF_JSET,
  BPF_JSGE,
  BPF_JSGT,
  BPF_JSLE,
  BPF_JSLT,
  BPF_K,
  BPF_X,
} from '../ebpf/opcodes.js';
import type { AluOp, BranchCondition } from '../nfp-backend/isa/instruction.js';
import { unrestrictedImmediate } from './immediates.js';
import { IMM_SCRATCH } from './lower-alu.js';
import type { Lowering, LoweringContext } from './lowering-context.js';
import type { CodeTarget } from './nfp-code.js';
import { IMM_GPR, lowGpr, NO_DESTINATION, NO_OPERAND, onlyA, onlyB, regA, regB, type NfpOperand } from './nfp-registers.js';

/** The eBPF instruction a jump at `ctx.index` lands on. */
export function jumpTarget(ctx: LoweringContext): number {
  return ctx.index + ctx.insn.off + 1;
}

function target(ctx: LoweringContext): CodeTarget {
  return { kind: 'ebpf', insn: jumpTarget(ctx) };
}

function is64(ctx: LoweringContext): boolean {
  return (ctx.insn.code & 0x07) === BPF_JMP;
}

/** The constant's two halves as the kernel sees them: imm sign-extended to 64 bits. */
function halves(imm: number): { lo: number; hi: number } {
  return { lo: imm >>> 0, hi: imm < 0 ? 0xffffffff : 0 };
}

function ja(ctx: LoweringContext): void {
  ctx.code.br('br', target(ctx));
}

// ---- equality ----

function jeqImm(ctx: LoweringContext): void {
  const { code, insn } = ctx;
  const d = lowGpr(insn.dst);
  if (!is64(ctx)) {
    code.aluCc(regA(d), 'XOR', unrestrictedImmediate(code, insn.imm, IMM_SCRATCH));
    code.br('beq', target(ctx));
    return;
  }
  const { lo, hi } = halves(insn.imm);
  // A zero half needs no XOR: the register half itself is ORed in.
  let left: NfpOperand = regA(d);
  let right: NfpOperand = regB(d + 1);
  if (lo !== 0) {
    code.alu(onlyA(IMM_GPR), regA(d), 'XOR', unrestrictedImmediate(code, lo, IMM_SCRATCH));
    left = regA(IMM_GPR);
  }
  if (hi !== 0) {
    code.alu(onlyB(IMM_GPR), regA(d + 1), 'XOR', unrestrictedImmediate(code, hi, IMM_SCRATCH));
    right = regB(IMM_GPR);
  }
  code.aluCc(left, 'OR', right);
  code.br('beq', target(ctx));
}

function jeqReg(ctx: LoweringContext): void {
  const { code, insn } = ctx;
  const d = lowGpr(insn.dst);
  const s = lowGpr(insn.src);
  code.alu(onlyA(IMM_GPR), regA(d), 'XOR', regB(s));
  if (is64(ctx)) {
    code.alu(onlyB(IMM_GPR), regA(d + 1), 'XOR', regB(s + 1));
    code.aluCc(regA(IMM_GPR), 'OR', regB(IMM_GPR));
  }
  code.br('beq', target(ctx));
}

function jneImm(ctx: LoweringContext): void {
  const { code, insn } = ctx;
  const d = lowGpr(insn.dst);
  const wide = is64(ctx);
  if (insn.imm === 0) {
    // Against zero: one word sets the flags from the register itself.
    if (wide) code.aluCc(regA(d), 'OR', regB(d + 1));
    else code.alu(NO_DESTINATION, NO_OPERAND, 'B', regB(d));
    code.br('bne', target(ctx));
    return;
  }
  const { lo, hi } = halves(insn.imm);
  code.aluCc(regA(d), 'XOR', unrestrictedImmediate(code, lo, IMM_SCRATCH));
  code.br('bne', target(ctx));
  if (!wide) return;
  code.aluCc(regA(d + 1), 'XOR', unrestrictedImmediate(code, hi, IMM_SCRATCH));
  code.br('bne', target(ctx));
}

/** JNE and JSET with a register: test each half and branch after each. */
function testReg(op: AluOp): Lowering {
  return (ctx) => {
    const { code, insn } = ctx;
    const d = lowGpr(insn.dst);
    const s = lowGpr(insn.src);
    code.aluCc(regA(d), op, regB(s));
    code.br('bne', target(ctx));
    if (!is64(ctx)) return;
    code.aluCc(regA(d + 1), op, regB(s + 1));
    code.br('bne', target(ctx));
  };
}

function jsetImm(ctx: LoweringContext): void {
  const { code, insn } = ctx;
  const d = lowGpr(insn.dst);
  const { lo, hi } = halves(insn.imm);
  code.alu(onlyB(IMM_GPR), regA(d), 'AND', unrestrictedImmediate(code, lo, IMM_SCRATCH));
  // The mask's high half is all zeros or all ones, so the high word is either ignored or ORed in whole.
  if (is64(ctx) && hi !== 0) code.aluCc(regA(d + 1), 'OR', regB(IMM_GPR));
  code.br('bne', target(ctx));
}

// ---- ordered comparisons ----

/** Branch condition after `left - right`, and whether dst is the right operand. */
const ORDERED: Record<number, { condition: BranchCondition; swap: boolean }> = {
  [BPF_JGT]: { condition: 'bcc', swap: true },
  [BPF_JGE]: { condition: 'bcs', swap: false },
  [BPF_JLT]: { condition: 'bcc', swap: false },
  [BPF_JLE]: { condition: 'bcs', swap: true },
  [BPF_JSGT]: { condition: 'blt', swap: true },
  [BPF_JSGE]: { condition: 'bge', swap: false },
  [BPF_JSLT]: { condition: 'blt', swap: false },
  [BPF_JSLE]: { condition: 'bge', swap: true },
};

/** Conditions whose negative constant the kernel's pre-pass negates and compares with ADD instead. */
const NEGATES_TO_ADD = new Set([BPF_JGE, BPF_JSGE, BPF_JLT, BPF_JSLT]);

function cmpImm(ctx: LoweringContext): void {
  const { code, insn } = ctx;
  const op = insn.code & 0xf0;
  const { condition, swap } = ORDERED[op]!;
  const d = lowGpr(insn.dst);
  const add = insn.imm < 0 && NEGATES_TO_ADD.has(op);
  // Negation wraps in 32 bits, so INT_MIN stays INT_MIN (and stays negative).
  const value = add ? -insn.imm | 0 : insn.imm;
  const { lo, hi } = halves(value);
  const compare = (reg: number, half: number, aluOp: AluOp): void => {
    const k = unrestrictedImmediate(code, half, IMM_SCRATCH);
    if (swap) code.aluCc(k, aluOp, regA(reg));
    else code.aluCc(regA(reg), aluOp, k);
  };
  compare(d, lo, add ? '+' : '-');
  if (is64(ctx)) compare(d + 1, hi, add ? '+carry' : '-carry');
  code.br(condition, target(ctx));
}

function cmpReg(ctx: LoweringContext): void {
  const { code, insn } = ctx;
  const { condition, swap } = ORDERED[insn.code & 0xf0]!;
  const d = lowGpr(insn.dst);
  const s = lowGpr(insn.src);
  const [a, b] = swap ? [s, d] : [d, s];
  code.aluCc(regA(a), '-', regB(b));
  if (is64(ctx)) code.aluCc(regA(a + 1), '-carry', regB(b + 1));
  code.br(condition, target(ctx));
}

function conditional(cls: number): [number, Lowering][] {
  const rows: [number, Lowering][] = [
    [cls | BPF_JEQ | BPF_K, jeqImm],
    [cls | BPF_JEQ | BPF_X, jeqReg],
    [cls | BPF_JNE | BPF_K, jneImm],
    [cls | BPF_JNE | BPF_X, testReg('XOR')],
    [cls | BPF_JSET | BPF_K, jsetImm],
    [cls | BPF_JSET | BPF_X, testReg('AND')],
  ];
  for (const op of Object.keys(ORDERED).map(Number)) {
    rows.push([cls | op | BPF_K, cmpImm], [cls | op | BPF_X, cmpReg]);
  }
  return rows;
}

export const JUMP_LOWERINGS: readonly [number, Lowering][] = [
  [BPF_JMP | BPF_JA, ja],
  ...conditional(BPF_JMP),
  ...conditional(BPF_JMP32),
];
