/**
 * Insn[] -> bytes, the inverse of decodeProgram. An ld_imm64 Insn writes both
 * of its slots, so the filler entry after it is skipped.
 */
import { encodeSlot, type Endian, type Insn } from './insn.js';
import { isLdImm64 } from './opcodes.js';

export function encodeProgram(insns: Insn[], endian: Endian): Uint8Array {
  const out = new Uint8Array(insns.length * 8);
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i];
    encodeSlot(out, i * 8, insn, endian);
    if (isLdImm64(insn)) {
      const filler = insns[i + 1];
      if (!filler || filler.code !== 0 || filler.slots !== 1) {
        throw new Error(`encodeProgram: ld_imm64 at ${i} must be followed by its filler entry`);
      }
      encodeSlot(out, (i + 1) * 8, { code: 0, dst: 0, src: 0, off: 0, imm: insn.imm2 ?? 0 }, endian);
      i++;
    }
  }
  return out;
}
