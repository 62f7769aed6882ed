/**
 * The fixed parts of every image (nfp-microcode.md A.6): the prologue that
 * computes the packet length, the outro that turns R0 into the firmware's
 * action byte (one per program type, with its abort block), and the nop tail.
 */
import type { CompileProgramType } from './lowering-context.js';
import { loadImmediate } from './immediates.js';
import type { CodeLabel, NfpCode } from './nfp-code.js';
import { imm, lm, NO_OPERAND, onlyA, onlyB, regA, regB, PACKET_LENGTH_GPR } from './nfp-registers.js';

const LEFT16 = { kind: 'left', amount: 16 } as const;
/** Bytes 3:2 of A0: the action byte goes to bits 23:16. */
const ACTION_BYTES = 0b1100;
/** Words after the program the kernel pads with (so the last branch's defer slots stay inside the image). */
export const NOP_TAIL = 8;

/** `B22 = *l$index1[0] & 0x3fff`: the packet length from the packet vector. */
export function emitPrologue(code: NfpCode): void {
  code.immed(onlyB(PACKET_LENGTH_GPR), 0x3fff);
  code.alu(onlyB(PACKET_LENGTH_GPR), regB(PACKET_LENGTH_GPR), 'AND', lm(1));
}

/** The action byte the outro leaves for an R0 (low 32 bits, as the outro reads them). */
export function actionByte(type: CompileProgramType, r0: bigint): number {
  const v = Number(r0 & 0xffff_ffffn);
  if (type === 'xdp') return v <= 3 ? (0x44112282 >>> (8 * v)) & 0xff : 0x82;
  if (v > 7) return 0x11;
  return (((0x41001211 >>> (4 * v)) & 0xf) << 4) | ((0x41221211 >>> (4 * v)) & 0xf);
}

/** Largest R0 the outro's table covers (above it: the abort block). */
export function outroTableMax(type: CompileProgramType): bigint {
  return type === 'xdp' ? 3n : 7n;
}

/**
 * Optimizing mode, R0 known at an exit: write the action byte and go to the
 * done address, the write in the branch's defer slot. A0 ends as the outro
 * would leave it (the byte in 23:16, the rest 0).
 */
export function emitVerdictStub(code: NfpCode, type: CompileProgramType, r0: bigint): void {
  code.br('br', { kind: 'next-packet' }, 1);
  code.immed(onlyA(0), actionByte(type, r0), { byteShift: 2 });
}

/** Which parts of the outro an image needs (all of them in kernel-compatible mode). */
export interface OutroShape {
  /** The abort block (a branch or the range check goes there). */
  abort: boolean;
  /** The table lookup for exits whose R0 is not known. */
  table: boolean;
  /** The table's range check (dropped when R0 is proven inside the table). */
  rangeCheck: boolean;
}

export const FULL_OUTRO: OutroShape = { abort: true, table: true, rangeCheck: true };

/**
 * XDP: R0 0..3 index the byte table 0x44112282 (abort, drop, pass, tx);
 * larger values abort (0x82). TC direct action: two nibble tables indexed by
 * R0 x 4; R0 > 7 passes (0x11). Returns the labels the relocations use.
 */
export function emitOutro(code: NfpCode, type: CompileProgramType, shape: OutroShape = FULL_OUTRO): { abort?: number; exit?: number } {
  const abort: CodeLabel = code.label('abort');
  if (shape.abort) {
    code.place(abort);
    code.br('br', { kind: 'next-packet' }, 2);
    code.mov(onlyA(0), imm(0));
    code.ldField(onlyA(0), ACTION_BYTES, imm(type === 'xdp' ? 0x82 : 0x11), LEFT16);
  }
  if (!shape.table) return shape.abort ? { abort: abort.pc! } : {};
  const exit = code.pc;
  if (type === 'xdp') {
    if (shape.rangeCheck) {
      code.aluCc(imm(3), '-', regB(0));
      code.br('bcc', { kind: 'label', label: abort });
    }
    loadImmediate(code, onlyB(2), 0x44112282);
    code.shf(onlyA(1), NO_OPERAND, 'B', regB(0), { kind: 'left', amount: 3 });
    code.aluCc(regA(1), 'OR', imm(0));
    code.shf(onlyB(2), imm(0xff), 'AND', regB(2), { kind: 'right', amount: 'indirect' });
    code.br('br', { kind: 'next-packet' }, 2);
    code.mov(onlyA(0), imm(0));
    code.ldField(onlyA(0), ACTION_BYTES, regB(2), LEFT16);
  } else {
    if (shape.rangeCheck) {
      code.aluCc(imm(7), '-', regB(0));
      code.br('bcc', { kind: 'label', label: abort });
    }
    code.mov(onlyA(0), imm(0));
    loadImmediate(code, onlyB(2), 0x41221211);
    loadImmediate(code, onlyB(3), 0x41001211);
    code.shf(onlyA(1), NO_OPERAND, 'B', regB(0), { kind: 'left', amount: 2 });
    code.aluCc(regA(1), 'OR', imm(0));
    code.shf(onlyA(2), imm(0xf), 'AND', regB(2), { kind: 'right', amount: 'indirect' });
    code.aluCc(regA(1), 'OR', imm(0));
    code.shf(onlyB(2), imm(0xf), 'AND', regB(3), { kind: 'right', amount: 'indirect' });
    code.br('br', { kind: 'next-packet' }, 2);
    code.shf(onlyB(2), regA(2), 'OR', regB(2), { kind: 'left', amount: 4 });
    code.ldField(onlyA(0), ACTION_BYTES, regB(2), LEFT16);
  }
  return shape.abort ? { abort: abort.pc!, exit } : { exit };
}
