/**
 * Tristate numbers (the kernel's tnum.c idea): a 64-bit value where each bit
 * is known 0, known 1 or unknown. `mask` bits are unknown; `value` holds the
 * known ones (value & mask === 0 always).
 *
 * gamma(t) = { x : x & ~t.mask === t.value }. Every operation here returns a
 * tnum whose gamma contains the concrete results for all members of its
 * inputs, and is written to give the same tnum as kernel 6.18 (the verifier's
 * verdicts depend on exactly which bits it knows).
 */
export interface Tnum {
  readonly value: bigint;
  readonly mask: bigint;
}

export const U64_MASK = (1n << 64n) - 1n;
export const U32_MASK = (1n << 32n) - 1n;

function u64(v: bigint): bigint {
  return v & U64_MASK;
}

function make(value: bigint, mask: bigint): Tnum {
  const m = u64(mask);
  return { value: u64(value) & ~m, mask: m };
}

export function tnumConst(v: bigint): Tnum {
  return { value: u64(v), mask: 0n };
}

export function tnumUnknown(): Tnum {
  return { value: 0n, mask: U64_MASK };
}

/** Bit length of v (fls64): 0 for 0, 64 for values with bit 63 set. */
function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

/** The tightest tnum of the shape "common high prefix, unknown low bits" covering [min, max] (unsigned). */
export function tnumRange(min: bigint, max: bigint): Tnum {
  const lo = u64(min);
  const hi = u64(max);
  const bits = bitLength(lo ^ hi);
  if (bits > 63) return tnumUnknown();
  const delta = (1n << BigInt(bits)) - 1n;
  return make(lo & ~delta, delta);
}

export function tnumIsConst(t: Tnum): boolean {
  return t.mask === 0n;
}

export function tnumIsUnknown(t: Tnum): boolean {
  return t.mask === U64_MASK;
}

export function tnumEquals(a: Tnum, b: Tnum): boolean {
  return a.value === b.value && a.mask === b.mask;
}

/** Is the concrete (unsigned 64-bit) v a member of gamma(t)? */
export function tnumContains(t: Tnum, v: bigint): boolean {
  return (u64(v) & ~t.mask) === t.value;
}

export function tnumLshift(t: Tnum, n: number): Tnum {
  const s = BigInt(n);
  return make(t.value << s, t.mask << s);
}

export function tnumRshift(t: Tnum, n: number): Tnum {
  const s = BigInt(n);
  return make(t.value >> s, t.mask >> s);
}

/**
 * Arithmetic right shift within `width` bits. Shifting the value and the mask
 * as signed numbers is exact: an unknown sign bit smears into unknown high bits,
 * a known one into known bits. For width 32 the result is the zero-extended
 * 32-bit pattern, as the kernel's 32-bit ARSH produces it.
 */
export function tnumArshift(t: Tnum, n: number, width: 32 | 64): Tnum {
  const s = BigInt(n);
  if (width === 32) {
    const v = BigInt.asIntN(32, t.value) >> s;
    const m = BigInt.asIntN(32, t.mask) >> s;
    return make(v & U32_MASK, m & U32_MASK);
  }
  return make(BigInt.asIntN(64, t.value) >> s, BigInt.asIntN(64, t.mask) >> s);
}

/**
 * Addition: adding the masks as if they were values marks every position a
 * carry could reach; those plus the operands' unknown bits are unknown.
 */
export function tnumAdd(a: Tnum, b: Tnum): Tnum {
  const sumMasks = u64(a.mask + b.mask);
  const sumValues = u64(a.value + b.value);
  const carries = u64(sumMasks + sumValues) ^ sumValues;
  const unknown = carries | a.mask | b.mask;
  return make(sumValues & ~unknown, unknown);
}

/** Subtraction: the borrow analogue of tnumAdd (largest minus smallest possible difference). */
export function tnumSub(a: Tnum, b: Tnum): Tnum {
  const diff = u64(a.value - b.value);
  const highest = u64(diff + a.mask);
  const lowest = u64(diff - b.mask);
  const unknown = (highest ^ lowest) | a.mask | b.mask;
  return make(diff & ~unknown, unknown);
}

/** Two's complement negation, as 0 - t (what the kernel's BPF_NEG uses). */
export function tnumNeg(t: Tnum): Tnum {
  return tnumSub(tnumConst(0n), t);
}

export function tnumAnd(a: Tnum, b: Tnum): Tnum {
  const mayBeOneA = a.value | a.mask;
  const mayBeOneB = b.value | b.mask;
  const value = a.value & b.value;
  return make(value, mayBeOneA & mayBeOneB & ~value);
}

export function tnumOr(a: Tnum, b: Tnum): Tnum {
  const value = a.value | b.value;
  return make(value, (a.mask | b.mask) & ~value);
}

export function tnumXor(a: Tnum, b: Tnum): Tnum {
  const unknown = a.mask | b.mask;
  return make((a.value ^ b.value) & ~unknown, unknown);
}

/**
 * Multiplication, kernel 6.18's algorithm (long multiplication over the bits
 * of `a`): a known 1 adds `b`, an unknown bit takes the union of "added" and
 * "not added". It is not symmetric; the kernel calls it as mul(dst, src) and
 * the log shows the asymmetry (probed: (0x5; 0x8) * (0x10; 0x3) gives
 * (0x40; 0xbf), the other order (0x0; 0x1ff)).
 */
export function tnumMul(a: Tnum, b: Tnum): Tnum {
  let acc: Tnum = tnumConst(0n);
  let multiplier = a;
  let multiplicand = b;
  while (multiplier.value !== 0n || multiplier.mask !== 0n) {
    if (multiplier.value & 1n) acc = tnumAdd(acc, multiplicand);
    else if (multiplier.mask & 1n) acc = tnumUnion(acc, tnumAdd(acc, multiplicand));
    multiplier = tnumRshift(multiplier, 1);
    multiplicand = tnumLshift(multiplicand, 1);
  }
  return acc;
}

/**
 * Both facts hold (meet). Where the inputs disagree on a known bit the kernel
 * keeps the 1; callers only intersect descriptions of the same value.
 */
export function tnumIntersect(a: Tnum, b: Tnum): Tnum {
  const value = a.value | b.value;
  const unknown = a.mask & b.mask;
  return make(value & ~unknown, unknown);
}

/** Either holds (join): a bit stays known only if both know it with the same value. */
export function tnumUnion(a: Tnum, b: Tnum): Tnum {
  const unknown = a.mask | b.mask | (a.value ^ b.value);
  return make(a.value & ~unknown, unknown);
}

/** Keep the low sizeBytes bytes (zero the rest): a zero-extending truncation. */
export function tnumCast(t: Tnum, sizeBytes: number): Tnum {
  const keep = sizeBytes >= 8 ? U64_MASK : (1n << BigInt(sizeBytes * 8)) - 1n;
  return make(t.value & keep, t.mask & keep);
}

/** gamma(inner) is a subset of gamma(outer). */
export function tnumIn(outer: Tnum, inner: Tnum): boolean {
  if (inner.mask & ~outer.mask) return false;
  return (inner.value & ~outer.mask) === outer.value;
}

/** Do the two tnums share a member (no bit known to differ)? */
export function tnumOverlap(a: Tnum, b: Tnum): boolean {
  const unknown = a.mask | b.mask;
  return (a.value & ~unknown) === (b.value & ~unknown);
}

export function tnumIsAligned(t: Tnum, size: bigint): boolean {
  if (size === 0n) return true;
  return ((t.value | t.mask) & (size - 1n)) === 0n;
}

/** The low 32 bits, zero-extended. */
export function tnumSubreg(t: Tnum): Tnum {
  return tnumCast(t, 4);
}

/** The high 32 bits kept, the low 32 bits known zero. */
export function tnumClearSubreg(t: Tnum): Tnum {
  return make(t.value & ~U32_MASK, t.mask & ~U32_MASK);
}

/** High 32 bits of `reg`, low 32 bits of `subreg`. */
export function tnumWithSubreg(reg: Tnum, subreg: Tnum): Tnum {
  return tnumOr(tnumClearSubreg(reg), tnumSubreg(subreg));
}

export function tnumSubregIsConst(t: Tnum): boolean {
  return (t.mask & U32_MASK) === 0n;
}

/** Byte-swap the low `bits` bits of value and mask (bits above are dropped). */
export function tnumBswap(t: Tnum, bits: 16 | 32 | 64): Tnum {
  return make(bswapBits(t.value, bits), bswapBits(t.mask, bits));
}

function bswapBits(v: bigint, bits: number): bigint {
  let out = 0n;
  for (let i = 0; i < bits / 8; i++) out = (out << 8n) | ((v >> BigInt(i * 8)) & 0xffn);
  return out;
}

/** The smallest member of gamma(t) that is >= y, or undefined when there is none. */
function smallestMemberAtLeast(t: Tnum, y: bigint): bigint | undefined {
  if ((y & ~t.mask) === t.value) return y;
  // The most significant bit where y disagrees with a known bit of t decides.
  const p = BigInt(bitLength((y ^ t.value) & ~t.mask) - 1);
  const above = U64_MASK & ~((1n << (p + 1n)) - 1n);
  if ((t.value >> p) & 1n) {
    // t has a known 1 where y has 0: keep y's bits above p, then the smallest tail.
    return (y & above & t.mask) | t.value;
  }
  // t has a known 0 where y has 1: bump the unknown bits above p to the next pattern.
  const filled = (y & above) | ~above | ~t.mask;
  const bumped = (u64(filled) + 1n) & t.mask & above;
  if (bumped === 0n) return undefined; // carried out of the top: no larger member
  return t.value | bumped;
}

/**
 * The kernel's tnum_step: the smallest member of gamma(t) greater than z; t's
 * smallest member when z is below it, its largest member when z is at or
 * above that (the kernel saturates rather than failing).
 */
export function tnumStep(t: Tnum, z: bigint): bigint {
  const tmax = t.value | t.mask;
  if (z >= tmax) return tmax;
  if (z < t.value) return t.value;
  return smallestMemberAtLeast(t, z + 1n) ?? tmax;
}

function hex(v: bigint): string {
  return v === 0n ? '0x0' : `0x${v.toString(16)}`;
}

/** Kernel log style: `(0x0; 0xff)` (value; mask). */
export function tnumToString(t: Tnum): string {
  return `(${hex(t.value)}; ${hex(t.mask)})`;
}
