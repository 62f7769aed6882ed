/**
 * Immediates the way the kernel JIT places them (nfp-microcode.md B.11): an
 * `immed` packs a 16-bit value at byte shift 0, 1 or 2, or its complement;
 * anything else takes a second `immed_w1` for the high half. As an operand, a
 * value that fits the operand field is used directly, otherwise it goes
 * through a scratch register first.
 */
import type { NfpCode } from './nfp-code.js';
import { imm, type Destination, type NfpOperand } from './nfp-registers.js';

/** Largest immediate in an unrestricted operand field, and in a restricted one as the kernel checks it. */
export const UNRESTRICTED_IMM_MAX = 0xff;
export const RESTRICTED_IMM_MAX = 0x7f;

function packImmed(value: number): { imm16: number; byteShift: number } | undefined {
  if ((value & 0xffff0000) === 0) return { imm16: value, byteShift: 0 };
  if ((value & 0xff0000ff) === 0) return { imm16: value >>> 8, byteShift: 1 };
  if ((value & 0x0000ffff) === 0) return { imm16: value >>> 16, byteShift: 2 };
  return undefined;
}

/** Write a 32-bit constant to `dst` (wrp_immed): one word when it packs, else two. */
export function loadImmediate(code: NfpCode, dst: Destination, value: number): void {
  const v = value >>> 0;
  const packed = packImmed(v);
  if (packed) return code.immed(dst, packed.imm16, { byteShift: packed.byteShift });
  const inverted = packImmed(~v >>> 0);
  if (inverted) return code.immed(dst, inverted.imm16, { byteShift: inverted.byteShift, invert: true });
  code.immed(dst, v & 0xffff);
  code.immed(dst, v >>> 16, { width: 'half', byteShift: 2 });
}

/**
 * The constant as an unrestricted operand (ur_load_imm_any): itself when it
 * fits 8 bits, else loaded into `scratch` (one bank) and read from there.
 */
export function unrestrictedImmediate(code: NfpCode, value: number, scratch: { dst: Destination; read: NfpOperand }): NfpOperand {
  const v = value >>> 0;
  if (v <= UNRESTRICTED_IMM_MAX) return imm(v);
  loadImmediate(code, scratch.dst, v);
  return scratch.read;
}

/** The same for a restricted operand field (re_load_imm_any: 7 bits as the kernel checks). */
export function restrictedImmediate(code: NfpCode, value: number, scratch: { dst: Destination; read: NfpOperand }): NfpOperand {
  const v = value >>> 0;
  if (v <= RESTRICTED_IMM_MAX) return imm(v);
  loadImmediate(code, scratch.dst, v);
  return scratch.read;
}
