/**
 * The kernel JIT's fixed register map (nfp-microcode.md C.1): eBPF register n
 * lives in GPR 2n (low word) and 2n+1 (high word), written to both banks;
 * GPRs 20-22 are the JIT's scratch and fixed registers. Lowerings name GPRs by
 * number and pick the bank view they read, exactly as the kernel's
 * reg_a/reg_b/reg_both do, because the bank of each operand decides the word.
 */
import { gpr, imm, NO_OPERAND, type NfpOperand } from '../nfp-backend/isa/operands.js';

/** GPR of an eBPF register's low word (the high word is the next GPR). */
export function lowGpr(ebpfReg: number): number {
  return ebpfReg * 2;
}

/** Scratch for immediates ("imm", A21/B21); A21 is also the BPF-to-BPF return address. */
export const IMM_GPR = 21;
/** Second scratch ("imma", A20/B20): xadd addresses. */
export const IMMA_GPR = 20;
/** A22: LM byte address of this thread's stack (set by firmware). B22: packet length (set by the prologue). */
export const STACK_BASE_GPR = 22;
export const PACKET_LENGTH_GPR = 22;

/** Bank-A view of GPR n (the kernel's reg_a). */
export function regA(n: number): NfpOperand {
  return gpr('A', n);
}

/** Bank-B view of GPR n (reg_b). */
export function regB(n: number): NfpOperand {
  return gpr('B', n);
}

/** A destination written to both banks (reg_both): named by its bank-A copy, with gpr_wrboth set on the instruction. */
export interface Destination {
  operand: NfpOperand;
  wrboth: boolean;
}

export function both(n: number): Destination {
  return { operand: gpr('A', n), wrboth: true };
}

export function onlyA(n: number): Destination {
  return { operand: gpr('A', n), wrboth: false };
}

export function onlyB(n: number): Destination {
  return { operand: gpr('B', n), wrboth: false };
}

export const NO_DESTINATION: Destination = { operand: NO_OPERAND, wrboth: false };

export function xfer(index: number): NfpOperand {
  return { kind: 'xfer', index };
}

/** `*l$indexP[offset]`. */
export function lm(pointer: number, offset = 0, postModify: 'none' | 'inc' | 'dec' = 'none'): NfpOperand {
  return { kind: 'lm', pointer, offset, postModify };
}

export { imm, NO_OPERAND };
export type { NfpOperand };
