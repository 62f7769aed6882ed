/**
 * What one NFP word reads and writes, as far as the word passes need it:
 * GPRs by bank, the condition codes, and the side channels through which a
 * word depends on the word just before it (nfp-microcode.md A.2). Anything
 * not modelled here (xfer, LM, CSRs, memory) is treated as a side effect the
 * passes never remove or move.
 */
import type { NfpInsn } from '../../nfp-backend/isa/instruction.js';
import type { NfpOperand } from '../../nfp-backend/isa/operands.js';

/** GPR set: bit n of `a` is relative GPR A n, of `b` GPR B n. */
export interface GprSet {
  a: number;
  b: number;
}

export const NO_GPRS: GprSet = { a: 0, b: 0 };
export const ALL_GPRS: GprSet = { a: -1, b: -1 };

export function gprUnion(x: GprSet, y: GprSet): GprSet {
  return { a: x.a | y.a, b: x.b | y.b };
}

export function gprIntersects(x: GprSet, y: GprSet): boolean {
  return (x.a & y.a) !== 0 || (x.b & y.b) !== 0;
}

function bit(n: number): number {
  return n >= 0 && n < 32 ? 1 << n : 0;
}

/** A read of one operand; absolute GPRs and anything unknown read everything (never wrong, only timid). */
function operandReads(op: NfpOperand | undefined): GprSet {
  if (!op) return NO_GPRS;
  if (op.kind === 'gpr') return op.bank === 'A' ? { a: bit(op.index), b: 0 } : { a: 0, b: bit(op.index) };
  if (op.kind === 'abs-gpr') return ALL_GPRS;
  return NO_GPRS;
}

/** The GPRs a word writes (only for the formats the passes may remove; others report none, which is safe for liveness). */
export function gprWrites(insn: NfpInsn): GprSet {
  let dest: NfpOperand | undefined;
  let wrboth = false;
  switch (insn.format) {
    case 'alu':
    case 'alu_shf':
    case 'immed':
      dest = insn.dest;
      wrboth = insn.wrboth;
      break;
    case 'ld_field':
      dest = insn.target;
      wrboth = insn.wrboth;
      break;
    default:
      return NO_GPRS;
  }
  if (dest.kind !== 'gpr') return NO_GPRS;
  if (wrboth) return { a: bit(dest.index), b: bit(dest.index) };
  return dest.bank === 'A' ? { a: bit(dest.index), b: 0 } : { a: 0, b: bit(dest.index) };
}

/** The GPRs a word reads. Branches leaving the program are handled by the caller. */
export function gprReads(insn: NfpInsn): GprSet {
  switch (insn.format) {
    case 'alu':
    case 'alu_shf':
      return gprUnion(operandReads(insn.left), operandReads(insn.right));
    case 'immed':
      // A byte or half-word immed keeps the other bytes of its destination.
      return insn.width === 'word' ? NO_GPRS : operandReads(insn.dest);
    case 'ld_field':
      return gprUnion(operandReads(insn.source), insn.clearUnmasked ? NO_GPRS : operandReads(insn.target));
    case 'mul_step':
      return gprUnion(operandReads(insn.left), operandReads(insn.right));
    case 'cmd':
      return gprUnion(operandReads(insn.a), operandReads(insn.b));
    case 'local_csr':
      return operandReads(insn.value);
    case 'br_bit':
    case 'br_byte':
      return gprUnion(operandReads(insn.reg), insn.format === 'br_byte' ? operandReads(insn.value) : NO_GPRS);
    case 'rtn':
    case 'jump':
      return operandReads(insn.reg);
    case 'nop':
    case 'br':
      return NO_GPRS;
    default:
      return ALL_GPRS;
  }
}

export function isBranch(insn: NfpInsn): insn is Extract<NfpInsn, { defer: number }> {
  return insn.format === 'br' || insn.format === 'br_bit' || insn.format === 'br_byte' || insn.format === 'rtn' || insn.format === 'jump' || insn.format === 'ctx_arb';
}

export function isConditional(insn: NfpInsn): boolean {
  return isBranch(insn) && !(insn.format === 'br' && insn.condition === 'br');
}

/** The word sets the condition codes (every ALU-class word unless told not to). */
export function setsConditionCodes(insn: NfpInsn): boolean {
  switch (insn.format) {
    case 'alu':
    case 'alu_shf':
    case 'mul_step':
      return !insn.noCc;
    case 'ld_field':
      return insn.loadCc === true;
    default:
      return false;
  }
}

const CARRY_OPS = new Set(['+carry', '-carry', '+16', '+8']);

/** The word reads the condition codes a word before it left. */
export function readsConditionCodes(insn: NfpInsn): boolean {
  if (insn.format === 'br') return insn.condition !== 'br';
  if (insn.format === 'alu') return CARRY_OPS.has(insn.op) || insn.predicateCc === true;
  if (insn.format === 'alu_shf' || insn.format === 'immed' || insn.format === 'ld_field' || insn.format === 'mul_step') return insn.predicateCc === true;
  return false;
}

/**
 * The word takes something from the word executed just before it: an
 * indirect shift amount or `asr` sign, an indirect_ref override, a CSR read's
 * value, a multiply step, or the carry.
 */
export function consumesPreviousWord(insn: NfpInsn): boolean {
  if (readsConditionCodes(insn)) return true;
  switch (insn.format) {
    case 'alu_shf':
      return insn.op === 'asr' || insn.op === 'byte_align' || insn.shift.amount === 'indirect';
    case 'cmd':
      return insn.indirectRef;
    case 'mul_step':
      return true;
    default:
      // (A CSR read's value lands in the next immed; the passes never touch the word after a local_csr.)
      return false;
  }
}

/** A word the passes may delete or move: its only effect is a GPR (and the condition codes). */
export function isPureGprWord(insn: NfpInsn): boolean {
  switch (insn.format) {
    case 'alu':
    case 'alu_shf':
    case 'immed':
    case 'ld_field':
    {
      if (insn.predicateCc === true) return false;
      const w = gprWrites(insn);
      return w.a !== 0 || w.b !== 0;
    }
    default:
      return false;
  }
}
