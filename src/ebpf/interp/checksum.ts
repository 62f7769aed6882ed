/**
 * The kernel's Internet-checksum arithmetic on a little-endian host
 * (include/net/checksum.h, lib/checksum.c), used by csum_diff and the
 * l3/l4_csum_replace helpers. Values are raw host integers: a `__be16` read
 * from the packet is the u16 of its bytes in little-endian order.
 */

/** 32-bit one's-complement add (csum_add). */
export function csumAdd(a: number, b: number): number {
  const s = (a >>> 0) + (b >>> 0);
  return s > 0xffffffff ? (s - 0xffffffff) >>> 0 : s;
}

export function csumSub(a: number, b: number): number {
  return csumAdd(a, ~b >>> 0);
}

/** csum_fold: 32-bit partial sum -> complemented 16-bit checksum. */
export function csumFold(sum: number): number {
  sum >>>= 0;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** csum16_add. */
function csum16Add(csum: number, addend: number): number {
  let res = (csum + addend) & 0xffff;
  res = (res + (res < (addend & 0xffff) ? 1 : 0)) & 0xffff;
  return res;
}

/** csum_partial over whole little-endian 32-bit words plus seed; len must be a multiple of 4. */
export function csumPartialWords(words: Uint8Array, seed: number): number {
  let s = seed >>> 0;
  const dv = new DataView(words.buffer, words.byteOffset, words.byteLength);
  for (let i = 0; i + 4 <= words.length; i += 4) s = csumAdd(s, dv.getUint32(i, true));
  return s;
}

/** csum_replace4: update a 16-bit checksum for a 32-bit field change. */
export function csumReplace4(sum16: number, from: number, to: number): number {
  const tmp = csumSub(~sum16 >>> 0, from >>> 0);
  return csumFold(csumAdd(tmp, to >>> 0));
}

/** csum_replace2. */
export function csumReplace2(sum16: number, from: number, to: number): number {
  return ~csum16Add(csum16Add(~sum16 & 0xffff, ~from & 0xffff), to & 0xffff) & 0xffff;
}

/** csum_replace_by_diff. */
export function csumReplaceByDiff(sum16: number, diff: number): number {
  return csumFold(csumAdd(diff >>> 0, ~sum16 >>> 0));
}

/** csum_from32to16: end-around fold of a 32-bit sum to 16 bits, not complemented. */
export function csumFrom32To16(sum: number): number {
  sum >>>= 0;
  const rotated = ((sum >>> 16) | (sum << 16)) >>> 0;
  return Math.floor((sum + rotated) / 65536) & 0xffff;
}
