/**
 * One eBPF instruction slot as it sits in the object, decoded into fields.
 *
 * An ld_imm64 occupies two slots; the decoder returns it as one Insn with
 * `imm2` set and `slots = 2` at index i, followed by an all-zero filler Insn at
 * i + 1 (decode.ts, ldImm64Filler). Instruction indices everywhere in nicoff
 * are therefore slot indices, the way the kernel and llvm-objdump count them.
 */
export interface Insn {
  /** The opcode byte. */
  code: number;
  dst: number;
  src: number;
  /** Signed 16-bit offset. */
  off: number;
  /** Signed 32-bit immediate (first slot). */
  imm: number;
  /** For ld_imm64 (code 0x18): the second slot's imm (upper 32 bits), signed. */
  imm2?: number;
  /** 1 or 2. */
  slots: 1 | 2;
}

export type Endian = 'le' | 'be';

/**
 * Decode one slot's fields. In big-endian objects the register nibbles are
 * swapped (dst in the high nibble), as clang's bpfeb target writes them.
 */
export function decodeSlot(buf: Uint8Array, pos: number, endian: Endian): Omit<Insn, 'slots' | 'imm2'> {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const code = buf[pos];
  const regs = buf[pos + 1];
  const le = endian === 'le';
  const dst = le ? regs & 0x0f : regs >> 4;
  const src = le ? regs >> 4 : regs & 0x0f;
  const off = dv.getInt16(pos + 2, le);
  const imm = dv.getInt32(pos + 4, le);
  return { code, dst, src, off, imm };
}

export function encodeSlot(
  out: Uint8Array,
  pos: number,
  f: { code: number; dst: number; src: number; off: number; imm: number },
  endian: Endian,
): void {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const le = endian === 'le';
  out[pos] = f.code;
  out[pos + 1] = le ? ((f.src & 0xf) << 4) | (f.dst & 0xf) : ((f.dst & 0xf) << 4) | (f.src & 0xf);
  dv.setInt16(pos + 2, f.off, le);
  dv.setInt32(pos + 4, f.imm, le);
}

export const LD_IMM64 = 0x18;
