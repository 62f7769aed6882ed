/**
 * ECC for NFP code-store words: seven check bits in [51:45], bit i = parity of
 * the 45-bit instruction body masked with P[i] (masks from the kernel's nfp_asm.c).
 */
const ECC_MASKS: readonly bigint[] = [
  0x0ff800007fffn,
  0x11f801ff801fn,
  0x1e387e0781e1n,
  0x17cb8e388e22n,
  0x1af5b2c93244n,
  0x1f56d5525488n,
  0x0daf69a46910n,
];

export const NFP_BODY_MASK = (1n << 45n) - 1n;
export const NFP_ECC_SHIFT = 45n;

function parity(value: bigint): number {
  let v = value;
  let p = 0;
  while (v !== 0n) {
    v &= v - 1n;
    p ^= 1;
  }
  return p;
}

/** The 7-bit ECC of a 45-bit instruction body. */
export function computeEcc(body: bigint): number {
  let ecc = 0;
  ECC_MASKS.forEach((mask, i) => {
    ecc |= parity(body & mask) << i;
  });
  return ecc;
}

/** The ECC stored in a loaded word. */
export function storedEcc(word: bigint): number {
  return Number((word >> NFP_ECC_SHIFT) & 0x7fn);
}

/** A loaded word: body plus its ECC in [51:45]. */
export function withEcc(body: bigint): bigint {
  return (body & NFP_BODY_MASK) | (BigInt(computeEcc(body)) << NFP_ECC_SHIFT);
}
