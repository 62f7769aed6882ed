/**
 * Where the software NFP keeps things (the firmware's layout is not public
 * beyond nfp-microcode.md A.4-A.6, C.2; these are our choices consistent with it).
 *
 * Local memory (4 KiB per ME, 1024 words, shared by the 4 contexts):
 *   0x000-0x7ff  stacks: context c at 512 * c (A22 and LM pointer 0 on entry)
 *   0x800-0xbff  unused (zero)
 *   0xc00-0xcff  packet vectors: context c at 0xc00 + 64 * c (LM pointer 1 on entry)
 *   0xd00-0xfff  unused (zero)
 *   LM bytes within a word are little-endian: byte address 4w + i is bits 8i+7:8i of word w
 *   (so a stack key the program stores with alu/ld_field reads back as the eBPF bytes).
 *
 * CTM (32-bit "packet mode" addresses, command address mode 4):
 *   one 2 KiB buffer per context, packet number CTM_PACKET_NUMBER_BASE + c, island CTM_ISLAND;
 *   address = 0x80000000 | packet number << 16 | offset (offset < 2048); packet data starts at
 *   offset 128, so adjust_head's guaranteed_sub 84 = 128 - off_min 44 holds. At most
 *   2048 - 128 = 1920 bytes of a packet are CTM-resident; the rest is carried through unchanged
 *   and is not addressable (the driver's MTU check keeps real programs inside the first 1888).
 *
 * EMEM (40-bit addresses, command address modes 0/1): map values only.
 *   table t's values at EMEM_MAP_BASE + t * EMEM_TABLE_STRIDE, slot i at + i * round_up(value_size, 8);
 *   the program holds the low 32 bits in GPR0 and bits 39:32 in GPR1 (bits 7:0).
 *
 * IMEM: nothing simulated lives there; any IMEM address is outside simulated memory.
 */

export const LM_WORDS = 1024;
export const LM_BYTES = 4096;
/** Pointer bits 11:2 are significant. */
export const LM_ADDRESS_MASK = 0xffc;
export const LM_STACK_BASE = 0;
export const LM_VECTOR_BASE = 0xc00;
export const LM_VECTOR_BYTES = 64;
/** *l$indexN[k] stays within the 16-word aligned window of the pointer (see NC6054). */
export const LM_WINDOW_WORDS = 16;

export const CONTEXTS_PER_ME = 4;

export const CTM_BUFFER_BYTES = 2048;
export const CTM_DATA_OFFSET = 128;
export const CTM_RESIDENT_BYTES = CTM_BUFFER_BYTES - CTM_DATA_OFFSET;
export const CTM_PACKET_NUMBER_BASE = 0x40;
export const CTM_ISLAND = 32;
/** Packet-vector word 0 holds the length in bits 13:0. */
export const PACKET_LENGTH_MASK = 0x3fff;

export const EMEM_MAP_BASE = 0x80_0000_0000;
export const EMEM_TABLE_STRIDE = 0x1000_0000;
/** The array-value layout the software NFP's firmware offers to images (sim-types.ts ArrayValueLayout). */
export const SOFTWARE_NFP_ARRAY_VALUES = { base: EMEM_MAP_BASE, tableStride: EMEM_TABLE_STRIDE } as const;
const TWO_32 = 0x1_0000_0000;

/** Packet-vector word indices the JIT uses (nfp-microcode.md A.5). */
export const VECTOR_WORD = { length: 0, ctmAddress: 2, flags: 4, queue: 6 } as const;

export function stackBase(context: number): number {
  return LM_STACK_BASE + 512 * context;
}

export function vectorBase(context: number): number {
  return LM_VECTOR_BASE + LM_VECTOR_BYTES * context;
}

export function packetNumber(context: number): number {
  return CTM_PACKET_NUMBER_BASE + context;
}

export function ctmAddress(packetNum: number, offset: number): number {
  return (0x80000000 | (packetNum << 16) | offset) >>> 0;
}

/** Vector word 0: length | packet number << 16 | island << 26. */
export function vectorLengthWord(length: number, packetNum: number): number {
  return ((length & PACKET_LENGTH_MASK) | (packetNum << 16) | (CTM_ISLAND << 26)) >>> 0;
}

export function tableBase(tableId: number): number {
  return EMEM_MAP_BASE + tableId * EMEM_TABLE_STRIDE;
}

/** The 40-bit address as the program holds it: [low 32 bits, bits 39:32]. */
export function splitAddress40(address: number): [number, number] {
  return [address % TWO_32, Math.floor(address / TWO_32)];
}

export function joinAddress40(low: number, high: number): number {
  return high * TWO_32 + (low >>> 0);
}

export function hex(value: number, digits = 0): string {
  return `0x${value.toString(16).padStart(digits, '0')}`;
}
