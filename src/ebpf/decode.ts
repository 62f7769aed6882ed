/**
 * Bytes -> Insn[]: one entry per 8-byte slot, so indices match the kernel's
 * and llvm-objdump's. An ld_imm64 is a full Insn (slots 2, imm2) followed by
 * an all-zero filler entry (slots 1) for its second slot.
 *
 * Every instruction is checked against the opcode table (opcodes.ts); a bad
 * one is an NC1020 naming the byte offset and the reason.
 */
import { fail } from '../diagnostics/diagnostic.js';
import { decodeSlot, type Endian, type Insn } from './insn.js';
import { isLdImm64, validateOpcodeFields } from './opcodes.js';

export interface DecodeWhere {
  /** Section name for diagnostics. */
  section?: string;
  /** Input file for diagnostics. */
  file?: string;
  /** File offset of the section, so diagnostics point into the file. */
  fileOffset?: number;
}

/** The entry the decoder puts at the index of an ld_imm64's second slot. */
export function ldImm64Filler(): Insn {
  return { code: 0, dst: 0, src: 0, off: 0, imm: 0, slots: 1 };
}

/**
 * Why this instruction is invalid, or null if it is valid. Covers the opcode
 * table's field rules and register numbers; the decoder adds the checks that
 * need the neighbouring slot (ld_imm64).
 */
export function validateInsn(insn: Insn): string | null {
  const reason = validateOpcodeFields(insn);
  if (reason) return reason;
  if (isLdImm64(insn) && insn.slots !== 2) return 'ld_imm64 without its second slot';
  if (!isLdImm64(insn) && insn.slots !== 1) return 'only ld_imm64 occupies two slots';
  return null;
}

export function decodeProgram(bytes: Uint8Array, endian: Endian, where: DecodeWhere = {}): Insn[] {
  const section = where.section ?? '<program>';
  const bad = (slotOffset: number, reason: string): never =>
    fail('NC1020', { section, offset: `0x${slotOffset.toString(16)}`, reason }, {
      file: where.file,
      section: where.section,
      offset: where.fileOffset !== undefined ? where.fileOffset + slotOffset : slotOffset,
      insn: slotOffset / 8,
    });

  if (bytes.length % 8 !== 0) {
    fail('NC1015', { section, size: bytes.length }, { file: where.file, section: where.section, offset: where.fileOffset });
  }
  const out: Insn[] = [];
  for (let pos = 0; pos < bytes.length; pos += 8) {
    const first = decodeSlot(bytes, pos, endian);
    if (isLdImm64(first)) {
      if (pos + 16 > bytes.length) bad(pos, 'ld_imm64 truncated: its second slot is missing');
      const second = decodeSlot(bytes, pos + 8, endian);
      if (second.code !== 0 || second.dst !== 0 || second.src !== 0 || second.off !== 0) {
        bad(pos + 8, 'second slot of ld_imm64 must have zero code, registers and offset');
      }
      const insn: Insn = { ...first, imm2: second.imm, slots: 2 };
      const reason = validateInsn(insn);
      if (reason) bad(pos, reason);
      out.push(insn, ldImm64Filler());
      pos += 8;
      continue;
    }
    const insn: Insn = { ...first, slots: 1 };
    const reason = validateInsn(insn);
    if (reason) bad(pos, reason);
    out.push(insn);
  }
  return out;
}
