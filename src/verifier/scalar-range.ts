/**
 * The scalar abstract domain: what the verifier knows about a 64-bit value.
 *
 * Like the kernel's bpf_reg_state for SCALAR_VALUE: a tnum (known bits) plus
 * unsigned and signed bounds for the full 64 bits and for the low 32-bit
 * subregister, all kept mutually consistent (the kernel's
 * reg_bounds_sync: __update_reg_bounds, __reg_deduce_bounds, __reg_bound_offset).
 *
 * All fields are bigint: umin/umax in [0, 2^64), smin/smax in [-2^63, 2^63),
 * u32min/u32max in [0, 2^32), s32min/s32max in [-2^31, 2^31).
 * Values are immutable: every operation returns a new ScalarRange.
 *
 * Soundness contract (tested by seeded property tests): for every concrete x
 * in gamma(a) and y in gamma(b), the concrete eBPF result of op(x, y) is in
 * gamma(scalarAlu(op, a, b)); scalarBranch never drops a concrete pair that
 * takes the branch in question.
 *
 * Precision contract: each transfer function reproduces what kernel 6.18
 * (the one the differential harness loads into) derives, step for step, so
 * that nicoff accepts and rejects the same programs. Where the kernel throws
 * information away we do too; the comments say which behaviour was checked
 * against the running kernel's verifier log ("probed").
 */
import {
  U32_MASK,
  U64_MASK,
  tnumAdd,
  tnumAnd,
  tnumArshift,
  tnumBswap,
  tnumCast,
  tnumClearSubreg,
  tnumConst,
  tnumContains,
  tnumEquals,
  tnumIn,
  tnumIntersect,
  tnumIsConst,
  tnumIsUnknown,
  tnumLshift,
  tnumMul,
  tnumNeg,
  tnumOr,
  tnumOverlap,
  tnumRange,
  tnumRshift,
  tnumStep,
  tnumSub,
  tnumSubreg,
  tnumSubregIsConst,
  tnumToString,
  tnumUnion,
  tnumUnknown,
  tnumWithSubreg,
  tnumXor,
  type Tnum,
} from './tnum.js';

export interface ScalarRange {
  readonly tnum: Tnum;
  readonly umin: bigint;
  readonly umax: bigint;
  readonly smin: bigint;
  readonly smax: bigint;
  readonly u32min: bigint;
  readonly u32max: bigint;
  readonly s32min: bigint;
  readonly s32max: bigint;
}

/** eBPF ALU operations, by meaning (the opcode decoding lives in the verifier). */
export type ScalarAluOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'sdiv' | 'mod' | 'smod'
  | 'or' | 'and' | 'xor' | 'lsh' | 'rsh' | 'arsh' | 'neg' | 'mov';

/** Conditional jump operations, by meaning. */
export type ScalarJmpOp = 'jeq' | 'jne' | 'jgt' | 'jge' | 'jlt' | 'jle' | 'jsgt' | 'jsge' | 'jslt' | 'jsle' | 'jset';

export const U64_MAX = U64_MASK;
export const S64_MIN = -(1n << 63n);
export const S64_MAX = (1n << 63n) - 1n;
export const U32_MAX = U32_MASK;
export const S32_MIN = -(1n << 31n);
export const S32_MAX = (1n << 31n) - 1n;

const asU64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const asS64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const asU32 = (v: bigint): bigint => BigInt.asUintN(32, v);
const asS32 = (v: bigint): bigint => BigInt.asIntN(32, v);
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** A ScalarRange under construction: the kernel's algorithms update fields in place. */
type Reg = { -readonly [K in keyof ScalarRange]: ScalarRange[K] };

function copy(s: ScalarRange): Reg {
  return { ...s };
}

function freeze(r: Reg): ScalarRange {
  return Object.freeze({ ...r });
}

function unknownReg(): Reg {
  return {
    tnum: tnumUnknown(),
    umin: 0n, umax: U64_MAX, smin: S64_MIN, smax: S64_MAX,
    u32min: 0n, u32max: U32_MAX, s32min: S32_MIN, s32max: S32_MAX,
  };
}

/** Every field describes exactly the constant v (the kernel's ___mark_reg_known). */
function markKnown(r: Reg, v: bigint): void {
  const u = asU64(v);
  r.tnum = tnumConst(u);
  r.umin = r.umax = u;
  r.smin = r.smax = asS64(u);
  r.u32min = r.u32max = asU32(u);
  r.s32min = r.s32max = asS32(u);
}

/** The low 32 bits are the constant v; the high half of the tnum is kept. */
function markKnown32(r: Reg, v: bigint): void {
  r.tnum = tnumWithSubreg(r.tnum, tnumConst(asU32(v)));
  r.u32min = r.u32max = asU32(v);
  r.s32min = r.s32max = asS32(v);
}

/**
 * One width of the state: the low 32-bit subregister or the full 64 bits.
 * The kernel runs the same algorithms on both (scalar32_* / scalar_*) with
 * different limits and fields; a Width names them so each is written once.
 */
interface Width {
  readonly bits: 32 | 64;
  readonly uMax: bigint;
  readonly sMin: bigint;
  readonly sMax: bigint;
  readonly umin: 'u32min' | 'umin';
  readonly umax: 'u32max' | 'umax';
  readonly smin: 's32min' | 'smin';
  readonly smax: 's32max' | 'smax';
  readonly asU: (v: bigint) => bigint;
  readonly asS: (v: bigint) => bigint;
  /** This width's bits of a tnum, and a tnum with them replaced by `bits`. */
  readonly tnumOf: (t: Tnum) => Tnum;
  readonly withTnum: (t: Tnum, bits: Tnum) => Tnum;
  readonly isConst: (t: Tnum) => boolean;
  /** The kernel's __mark_reg32_known / ___mark_reg_known. */
  readonly markKnown: (r: Reg, v: bigint) => void;
}

const W32: Width = {
  bits: 32, uMax: U32_MAX, sMin: S32_MIN, sMax: S32_MAX,
  umin: 'u32min', umax: 'u32max', smin: 's32min', smax: 's32max',
  asU: asU32, asS: asS32,
  tnumOf: tnumSubreg, withTnum: tnumWithSubreg, isConst: tnumSubregIsConst, markKnown: markKnown32,
};

const W64: Width = {
  bits: 64, uMax: U64_MAX, sMin: S64_MIN, sMax: S64_MAX,
  umin: 'umin', umax: 'umax', smin: 'smin', smax: 'smax',
  asU: asU64, asS: asS64,
  tnumOf: (t) => t, withTnum: (_t, bits) => bits, isConst: tnumIsConst, markKnown,
};

function markUnboundedAt(w: Width, r: Reg): void {
  r[w.umin] = 0n;
  r[w.umax] = w.uMax;
  r[w.smin] = w.sMin;
  r[w.smax] = w.sMax;
}

function markUnbounded(r: Reg): void {
  markUnboundedAt(W64, r);
  markUnboundedAt(W32, r);
}

// ---------------------------------------------------------------------------
// Keeping the nine fields consistent (reg_bounds_sync and its parts)
// ---------------------------------------------------------------------------

/** Bounds implied by the low 32 bits of the tnum. */
function updateBounds32(r: Reg): void {
  const t = tnumSubreg(r.tnum);
  r.s32min = max(r.s32min, asS32(t.value | (t.mask & 0x8000_0000n)));
  r.s32max = min(r.s32max, asS32(t.value | (t.mask & 0x7fff_ffffn)));
  r.u32min = max(r.u32min, t.value);
  r.u32max = min(r.u32max, t.value | t.mask);
}

/**
 * Bounds implied by the tnum, and (6.18, probed: `r1 &= 0x101; if r1 < 2;
 * if r1 > 0x100` leaves r1 = 256) collapse to a constant when the unsigned
 * range and the tnum have a single member in common. The kernel applies the
 * three cases below even to ranges that no value satisfies, which is how a
 * dead branch it cannot prune ends up holding a constant (probed too).
 */
function updateBounds64(r: Reg): void {
  const t = r.tnum;
  r.smin = max(r.smin, asS64(t.value | (t.mask & (1n << 63n))));
  r.smax = min(r.smax, asS64(t.value | (t.mask & S64_MAX)));
  r.umin = max(r.umin, t.value);
  r.umax = min(r.umax, t.value | t.mask);

  const next = tnumStep(t, r.umin);
  const uminInTnum = tnumContains(t, r.umin);
  const tmax = t.value | t.mask;
  if (uminInTnum && next > r.umax) markKnown(r, r.umin);
  else if (!uminInTnum && next === tmax) markKnown(r, tmax);
  else if (!uminInTnum && next <= r.umax && tnumStep(t, next) > r.umax) markKnown(r, next);
}

function updateBounds(r: Reg): void {
  updateBounds32(r);
  updateBounds64(r);
}

/** 32-bit bounds from the 64-bit ones, and s32 <-> u32. */
function deduceBounds32(r: Reg): void {
  // Upper halves equal: the low halves of umin/umax bound the subregister.
  if (r.umin >> 32n === r.umax >> 32n) {
    r.u32min = max(r.u32min, asU32(r.umin));
    r.u32max = min(r.u32max, asU32(r.umax));
    if (asS32(r.umin) <= asS32(r.umax)) {
      r.s32min = max(r.s32min, asS32(r.umin));
      r.s32max = min(r.s32max, asS32(r.umax));
    }
  }
  if (r.smin >> 32n === r.smax >> 32n) {
    if (asU32(r.smin) <= asU32(r.smax)) {
      r.u32min = max(r.u32min, asU32(r.smin));
      r.u32max = min(r.u32max, asU32(r.smax));
    }
    if (asS32(r.smin) <= asS32(r.smax)) {
      r.s32min = max(r.s32min, asS32(r.smin));
      r.s32max = min(r.s32max, asS32(r.smax));
    }
  }
  // Upper halves are two consecutive numbers and the low halves run from
  // negative to non-negative: still one contiguous s32 range.
  if (asU32((r.umin >> 32n) + 1n) === asU32(r.umax >> 32n) && asS32(r.umin) < 0n && asS32(r.umax) >= 0n) {
    r.s32min = max(r.s32min, asS32(r.umin));
    r.s32max = min(r.s32max, asS32(r.umax));
  }
  if (asU32((r.smin >> 32n) + 1n) === asU32(r.smax >> 32n) && asS32(r.smin) < 0n && asS32(r.smax) >= 0n) {
    r.s32min = max(r.s32min, asS32(r.smin));
    r.s32max = min(r.s32max, asS32(r.smax));
  }
  deduceSignedUnsigned(W32, r);
}

/** Signed <-> unsigned bounds within one width (on locals: this runs several times per sync). */
function deduceSignedUnsigned(w: Width, r: Reg): void {
  const { asU, asS } = w;
  let umin = r[w.umin];
  let umax = r[w.umax];
  let smin = r[w.smin];
  let smax = r[w.smax];
  if (asS(umin) <= asS(umax)) {
    smin = max(smin, asS(umin));
    smax = min(smax, asS(umax));
  }
  if (asU(smin) <= asU(smax)) {
    umin = max(umin, asU(smin));
    umax = min(umax, asU(smax));
  } else if (umax < asU(smin)) {
    // The signed range wraps through the sign boundary; the unsigned one meets only its non-negative end.
    smin = asS(umin);
    umax = min(umax, asU(smax));
  } else if (asU(smax) < umin) {
    // ... or only its negative end.
    smax = asS(umax);
    umin = max(umin, asU(smin));
  }
  r[w.umin] = umin;
  r[w.umax] = umax;
  r[w.smin] = smin;
  r[w.smax] = smax;
}

/** 64-bit bounds from the 32-bit ones. */
function deduceMixedBounds(r: Reg): void {
  // Substitute the u32 bounds as the low halves of the 64-bit bounds.
  const high = ~U32_MASK;
  r.umin = max(r.umin, asU64((r.umin & high) | r.u32min));
  r.umax = min(r.umax, asU64((r.umax & high) | r.u32max));
  r.smin = max(r.smin, asS64((r.smin & high) | r.u32min));
  r.smax = min(r.smax, asS64((r.smax & high) | r.u32max));
  // Within [S32_MIN, S32_MAX] as s64 with a non-negative s32 half, the upper
  // bits cannot be all ones (what a sign-extending load leaves behind).
  if (r.s32min >= 0n && r.smin >= S32_MIN && r.smax <= S32_MAX) {
    r.smin = r.s32min;
    r.smax = r.s32max;
    // Only a state no value satisfies has s32max < 0 here; keep the kernel's u64 view of it.
    r.umin = asU64(r.s32min);
    r.umax = asU64(r.s32max);
    r.tnum = tnumIntersect(r.tnum, tnumRange(r.smin, r.smax));
  }
}

function deduceBounds(r: Reg): void {
  deduceBounds32(r);
  deduceSignedUnsigned(W64, r);
  deduceMixedBounds(r);
}

/** Known bits implied by the ranges. */
function boundOffset(r: Reg): void {
  const t64 = tnumIntersect(r.tnum, tnumRange(r.umin, r.umax));
  const t32 = tnumIntersect(tnumSubreg(t64), tnumRange(r.u32min, r.u32max));
  r.tnum = tnumOr(tnumClearSubreg(t64), t32);
}

/** The kernel's reg_bounds_sync, including its three rounds of deduction. */
function sync(r: Reg): void {
  updateBounds(r);
  deduceBounds(r);
  deduceBounds(r);
  deduceBounds(r);
  boundOffset(r);
  updateBounds(r);
}

/** Does the state break an invariant the kernel checks after a refinement (reg_bounds_sanity_check)? */
function brokenInvariant(r: Reg): boolean {
  if (r.umin > r.umax || r.smin > r.smax || r.u32min > r.u32max || r.s32min > r.s32max) return true;
  if (tnumIsConst(r.tnum)) {
    const u = r.tnum.value;
    if (r.umin !== u || r.umax !== u || r.smin !== asS64(u) || r.smax !== asS64(u)) return true;
  }
  if (tnumSubregIsConst(r.tnum)) {
    const u = r.tnum.value & U32_MASK;
    if (r.u32min !== u || r.u32max !== u || r.s32min !== asS32(u) || r.s32max !== asS32(u)) return true;
  }
  return false;
}

/** The value of a 32-bit write: low 32 bits zero-extended (zext_32_to_64). */
function zext32(r: Reg): void {
  r.tnum = tnumSubreg(r.tnum);
  r.umin = r.u32min;
  r.umax = r.u32max;
  // Signed 32-bit bounds carry over only when both are non-negative.
  if (r.s32min >= 0n && r.s32max >= 0n) {
    r.smin = r.s32min;
    r.smax = r.s32max;
  } else {
    r.smin = 0n;
    r.smax = U32_MAX;
  }
}

// ---------------------------------------------------------------------------
// Constructors and queries
// ---------------------------------------------------------------------------

export function scalarConst(v: bigint): ScalarRange {
  const r = unknownReg();
  markKnown(r, v);
  return freeze(r);
}

export function scalarUnknown(): ScalarRange {
  return freeze(unknownReg());
}

export function scalarUnsignedRange(umin: bigint, umax: bigint): ScalarRange {
  const r = unknownReg();
  r.umin = asU64(umin);
  r.umax = asU64(umax);
  r.tnum = tnumRange(r.umin, r.umax);
  sync(r);
  return freeze(r);
}

/** A value known only by its bits (e.g. built from a tnum in tests or by the interpreter). */
export function scalarFromTnum(t: Tnum): ScalarRange {
  const r = unknownReg();
  r.tnum = t;
  sync(r);
  return freeze(r);
}

export function scalarIsConst(s: ScalarRange): boolean {
  return tnumIsConst(s.tnum);
}

export function scalarConstValue(s: ScalarRange): bigint | undefined {
  return tnumIsConst(s.tnum) ? s.tnum.value : undefined;
}

export function scalarIsConst32(s: ScalarRange): boolean {
  return tnumSubregIsConst(s.tnum);
}

export function scalarConstValue32(s: ScalarRange): bigint | undefined {
  return tnumSubregIsConst(s.tnum) ? s.tnum.value & U32_MASK : undefined;
}

export function scalarIsUnknown(s: ScalarRange): boolean {
  return scalarEquals(s, scalarUnknown());
}

/** Is the concrete v (taken modulo 2^64) in gamma(s)? */
export function scalarContains(s: ScalarRange, v: bigint): boolean {
  const u = asU64(v);
  const lo = u & U32_MASK;
  return (
    tnumContains(s.tnum, u) &&
    u >= s.umin && u <= s.umax &&
    asS64(u) >= s.smin && asS64(u) <= s.smax &&
    lo >= s.u32min && lo <= s.u32max &&
    asS32(lo) >= s.s32min && asS32(lo) <= s.s32max
  );
}

export function scalarEquals(a: ScalarRange, b: ScalarRange): boolean {
  return (
    tnumEquals(a.tnum, b.tnum) &&
    a.umin === b.umin && a.umax === b.umax && a.smin === b.smin && a.smax === b.smax &&
    a.u32min === b.u32min && a.u32max === b.u32max && a.s32min === b.s32min && a.s32max === b.s32max
  );
}

// ---------------------------------------------------------------------------
// ALU
// ---------------------------------------------------------------------------

/** Signed bounds [lo, hi], or the whole signed range if either end overflowed. */
function setSignedOrUnbounded(w: Width, d: Reg, lo: bigint, hi: bigint): void {
  if (lo < w.sMin || lo > w.sMax || hi < w.sMin || hi > w.sMax) {
    d[w.smin] = w.sMin;
    d[w.smax] = w.sMax;
  } else {
    d[w.smin] = lo;
    d[w.smax] = hi;
  }
}

function addRanges(w: Width, d: Reg, s: ScalarRange): void {
  setSignedOrUnbounded(w, d, d[w.smin] + s[w.smin], d[w.smax] + s[w.smax]);
  // If every sum wraps, or none does, the wrapped ends still bound the result
  // (probed: [-10, -1] + 20 gives [10, 19], both ends wrap).
  const umin = d[w.umin] + s[w.umin];
  const umax = d[w.umax] + s[w.umax];
  if (umin <= w.uMax && umax > w.uMax) {
    d[w.umin] = 0n;
    d[w.umax] = w.uMax;
  } else {
    d[w.umin] = w.asU(umin);
    d[w.umax] = w.asU(umax);
  }
}

function subRanges(w: Width, d: Reg, s: ScalarRange): void {
  setSignedOrUnbounded(w, d, d[w.smin] - s[w.smax], d[w.smax] - s[w.smin]);
  const umin = d[w.umin] - s[w.umax];
  const umax = d[w.umax] - s[w.umin];
  if (umin < 0n && umax >= 0n) {
    d[w.umin] = 0n;
    d[w.umax] = w.uMax;
  } else {
    d[w.umin] = w.asU(umin);
    d[w.umax] = w.asU(umax);
  }
}

/** Signed products of the bound corners, or undefined if any overflows the width. */
function signedCornerProducts(aMin: bigint, aMax: bigint, bMin: bigint, bMax: bigint, w: Width): [bigint, bigint] | undefined {
  const products = [aMin * bMin, aMin * bMax, aMax * bMin, aMax * bMax];
  if (products.some((p) => p < w.sMin || p > w.sMax)) return undefined;
  return [products.reduce(min), products.reduce(max)];
}

// Probed: an s8-loaded value times 3 gives [-384, 381] (signed corners are used).
function mulRanges(w: Width, d: Reg, s: ScalarRange): void {
  const umax = d[w.umax] * s[w.umax];
  const umin = d[w.umin] * s[w.umin];
  if (umax > w.uMax || umin > w.uMax) {
    d[w.umin] = 0n;
    d[w.umax] = w.uMax;
  } else {
    d[w.umin] = umin;
    d[w.umax] = umax;
  }
  const corners = signedCornerProducts(d[w.smin], d[w.smax], s[w.smin], s[w.smax], w);
  [d[w.smin], d[w.smax]] = corners ?? [w.sMin, w.sMax];
}

/** Signed bounds equal to the unsigned ones when those do not straddle the sign bit. */
function signedFromUnsigned(w: Width, d: Reg): void {
  if (w.asS(d[w.umin]) <= w.asS(d[w.umax])) {
    d[w.smin] = w.asS(d[w.umin]);
    d[w.smax] = w.asS(d[w.umax]);
  } else {
    d[w.smin] = w.sMin;
    d[w.smax] = w.sMax;
  }
}

/**
 * AND/OR/XOR: the tnum has already been combined when these run. The known
 * ones bound the result from below (OR: the larger operand's minimum does),
 * the possible ones from above (AND: the smaller operand's maximum does).
 */
function bitwiseRanges(op: 'and' | 'or' | 'xor', w: Width, d: Reg, s: ScalarRange): void {
  const t = w.tnumOf(d.tnum);
  if (w.isConst(s.tnum) && w.isConst(d.tnum)) return w.markKnown(d, t.value);
  d[w.umin] = op === 'or' ? max(d[w.umin], s[w.umin]) : t.value;
  d[w.umax] = op === 'and' ? min(d[w.umax], s[w.umax]) : t.value | t.mask;
  signedFromUnsigned(w, d);
  // Like the kernel, only the 64-bit step re-derives bounds from the tnum here.
  if (w === W64) updateBounds(d);
}

/** 32-bit bounds of a left shift by [lo, hi]: unbounded if a set bit may leave the top. */
function lshRanges32(d: Reg, lo: bigint, hi: bigint): void {
  d.s32min = S32_MIN;
  d.s32max = S32_MAX;
  if (hi > 31n || d.u32max > 1n << (31n - hi)) {
    d.u32min = 0n;
    d.u32max = U32_MAX;
  } else {
    d.u32min = asU32(d.u32min << lo);
    d.u32max = asU32(d.u32max << hi);
  }
}

function lshRanges64(d: Reg, lo: bigint, hi: bigint): void {
  // `<< 32` is the first half of the sign-extension idiom; s32 bounds keep
  // their order when moved to the top half (probed: 6.18 applies this to
  // negative s32 bounds too, [-32768, 32767] << 32 gives smin=0xffff800000000000).
  const by32 = lo === 32n && hi === 32n;
  d.smax = by32 ? d.s32max << 32n : S64_MAX;
  d.smin = by32 ? d.s32min << 32n : S64_MIN;
  if (d.umax > 1n << (63n - hi)) {
    d.umin = 0n;
    d.umax = U64_MAX;
  } else {
    d.umin = asU64(d.umin << lo);
    d.umax = asU64(d.umax << hi);
  }
}

function shiftLeft(d: Reg, s: ScalarRange, is32: boolean): void {
  if (is32) {
    const sub = tnumSubreg(d.tnum);
    lshRanges32(d, s.u32min, s.u32max);
    d.tnum = tnumSubreg(tnumLshift(sub, Number(s.u32min)));
    markUnboundedAt(W64, d);
    updateBounds32(d);
  } else {
    lshRanges64(d, s.umin, s.umax);
    lshRanges32(d, s.umin, s.umax);
    d.tnum = tnumLshift(d.tnum, Number(s.umin));
    updateBounds(d);
  }
}

function shiftRight(d: Reg, s: ScalarRange, is32: boolean): void {
  if (is32) {
    const sub = tnumSubreg(d.tnum);
    // The sign of the result is anyone's guess; the tnum recovers what it can.
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
    d.tnum = tnumRshift(sub, Number(s.u32min));
    d.u32min >>= s.u32max;
    d.u32max >>= s.u32min;
    markUnboundedAt(W64, d);
    updateBounds32(d);
  } else {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
    d.tnum = tnumRshift(d.tnum, Number(s.umin));
    d.umin >>= s.umax;
    d.umax >>= s.umin;
    markUnboundedAt(W32, d);
    updateBounds(d);
  }
}

function shiftRightArith(d: Reg, s: ScalarRange, is32: boolean): void {
  if (is32) {
    const n = s.u32min;
    d.s32min >>= n;
    d.s32max >>= n;
    d.tnum = tnumArshift(tnumSubreg(d.tnum), Number(n), 32);
    d.u32min = 0n;
    d.u32max = U32_MAX;
    markUnboundedAt(W64, d);
    updateBounds32(d);
  } else {
    const n = s.umin;
    d.smin >>= n;
    d.smax >>= n;
    d.tnum = tnumArshift(d.tnum, Number(n), 64);
    d.umin = 0n;
    d.umax = U64_MAX;
    markUnboundedAt(W32, d);
    updateBounds(d);
  }
}

/**
 * Whether the kernel computes bounds for this op at all (is_safe_to_compute_dst_reg_range).
 * Shifts need a constant amount below the width; note the kernel checks the
 * 64-bit umax of the amount even for 32-bit shifts (probed: `w1 <<= w2` with
 * w2 known 5 but r2's high half unknown gives scalar()). DIV, MOD, SDIV and
 * SMOD are never tracked in 6.18 (probed: `r1 &= 0xff; r1 /= 3`, `%= 7`,
 * `w1 /= 3`, `s/= 3`, `s%= 3` all give scalar(), the 32-bit ones included).
 */
function boundsComputable(op: ScalarAluOp, src: ScalarRange, is32: boolean): boolean {
  switch (op) {
    case 'add': case 'sub': case 'neg': case 'and': case 'or': case 'xor': case 'mul':
      return true;
    case 'lsh': case 'rsh': case 'arsh': {
      const w = is32 ? W32 : W64;
      const srcConst = w.isConst(src.tnum) && src[w.smin] === src[w.smax] && src[w.umin] === src[w.umax];
      return srcConst && src.umax < BigInt(w.bits);
    }
    default:
      return false;
  }
}

/** Apply a computable op to the (mutable) dst state d, then zero-extend and sync. */
function applyAlu(op: ScalarAluOp, d: Reg, src: ScalarRange, is32: boolean): ScalarRange {
  switch (op) {
    case 'add':
      addRanges(W32, d, src);
      addRanges(W64, d, src);
      d.tnum = tnumAdd(d.tnum, src.tnum);
      break;
    case 'sub':
      subRanges(W32, d, src);
      subRanges(W64, d, src);
      d.tnum = tnumSub(d.tnum, src.tnum);
      break;
    case 'neg': {
      const operand = freeze(copy(d));
      markKnown(d, 0n);
      subRanges(W32, d, operand);
      subRanges(W64, d, operand);
      d.tnum = tnumNeg(operand.tnum);
      break;
    }
    case 'mul':
      d.tnum = tnumMul(d.tnum, src.tnum);
      mulRanges(W32, d, src);
      mulRanges(W64, d, src);
      break;
    case 'and':
      d.tnum = tnumAnd(d.tnum, src.tnum);
      bitwiseRanges('and', W32, d, src);
      bitwiseRanges('and', W64, d, src);
      break;
    case 'or':
      d.tnum = tnumOr(d.tnum, src.tnum);
      bitwiseRanges('or', W32, d, src);
      bitwiseRanges('or', W64, d, src);
      break;
    case 'xor':
      d.tnum = tnumXor(d.tnum, src.tnum);
      bitwiseRanges('xor', W32, d, src);
      bitwiseRanges('xor', W64, d, src);
      break;
    case 'lsh':
      shiftLeft(d, src, is32);
      break;
    case 'rsh':
      shiftRight(d, src, is32);
      break;
    case 'arsh':
      shiftRightArith(d, src, is32);
      break;
    default:
      return scalarUnknown();
  }
  if (is32) zext32(d);
  sync(d);
  return freeze(d);
}

/**
 * The dst states the kernel goes on with after `dst op= src`: usually one,
 * but two for AND/OR by a constant when dst is exactly [-1, 0] as s64, or
 * failing that as s32 (maybe_fork_scalars, the LLVM "select via s>> 63"
 * idiom): the kernel explores dst = -1 first and then re-executes the
 * instruction with dst = 0 (probed: w1 = w3 with r3 in [-1, 0], then
 * `r1 &= 63`, gives 63 on the first path and 0 on the second). When s32 is
 * the reason only the low half is set (-1 / 0) and the 64-bit bounds are
 * left as they are, like the kernel's __mark_reg32_known.
 * The source must be a 64-bit constant tnum, even for 32-bit ops.
 */
export function scalarAluOutcomes(op: ScalarAluOp, dst: ScalarRange, src: ScalarRange, is32: boolean): ScalarRange[] {
  if ((op === 'and' || op === 'or') && tnumIsConst(src.tnum)) {
    const whole = dst.smin === -1n && dst.smax === 0n;
    if (whole || (dst.s32min === -1n && dst.s32max === 0n)) {
      const allOnes = copy(dst);
      const zero = copy(dst);
      if (whole) {
        markKnown(allOnes, -1n);
        markKnown(zero, 0n);
      } else {
        markKnown32(allOnes, -1n);
        markKnown32(zero, 0n);
      }
      return [applyAlu(op, allOnes, src, is32), applyAlu(op, zero, src, is32)];
    }
  }
  return [scalarAluSingle(op, dst, src, is32)];
}

function scalarAluSingle(op: ScalarAluOp, dst: ScalarRange, src: ScalarRange, is32: boolean): ScalarRange {
  if (op === 'mov') return is32 ? scalarZext32(src) : src;
  if (!boundsComputable(op, src, is32)) return scalarUnknown();
  return applyAlu(op, copy(dst), src, is32);
}

/**
 * dst = dst op src, as the kernel's adjust_scalar_min_max_vals computes it.
 * For 32-bit ops the result is the zero-extended low half. 'neg' ignores src
 * (6.18 tracks it as 0 - dst, probed: -(0..255) gives smin=-255,smax=0).
 * 'mov' is the register copy (64-bit) or its zero-extended low half (32-bit).
 * Where the kernel forks (see scalarAluOutcomes) this returns the join of
 * its states; an interpreter that wants the kernel's verdicts should use
 * scalarAluOutcomes and explore each state.
 */
export function scalarAlu(op: ScalarAluOp, dst: ScalarRange, src: ScalarRange, is32: boolean): ScalarRange {
  const outcomes = scalarAluOutcomes(op, dst, src, is32);
  return outcomes.length === 1 ? outcomes[0] : scalarJoin(outcomes[0], outcomes[1]);
}

/** The value a 32-bit register write leaves: low 32 bits, zero-extended. */
export function scalarZext32(s: ScalarRange): ScalarRange {
  const r = copy(s);
  zext32(r);
  sync(r);
  return freeze(r);
}

/** The kernel's coerce_reg_to_size: keep the low sizeBytes bytes, zero-extended. */
function truncateInPlace(r: Reg, sizeBytes: number): void {
  r.tnum = tnumCast(r.tnum, sizeBytes);
  const keep = (1n << BigInt(sizeBytes * 8)) - 1n;
  if ((r.umin & ~keep) === (r.umax & ~keep)) {
    r.umin &= keep;
    r.umax &= keep;
  } else {
    r.umin = 0n;
    r.umax = keep;
  }
  r.smin = r.umin;
  r.smax = r.umax;
  // Below 4 bytes the old 32-bit bounds describe bits that are gone.
  if (sizeBytes < 4) markUnboundedAt(W32, r);
  sync(r);
}

/** The low sizeBytes bytes of s, zero-extended (narrow load of a spilled scalar, narrow store). */
export function scalarTruncate(s: ScalarRange, sizeBytes: 1 | 2 | 4 | 8): ScalarRange {
  if (sizeBytes === 8) return s;
  const r = copy(s);
  truncateInPlace(r, sizeBytes);
  return freeze(r);
}

/**
 * An unknown value loaded with this width. Probed: u8/u16/u32 loads give
 * [0, 2^n - 1] with var_off (0x0; 2^n - 1); s16 gives smin=smin32=-32768,
 * smax=smax32=32767 and no var_off; s32 gives smin=-2^31, smax=2^31-1 only.
 */
export function scalarLoad(sizeBytes: 1 | 2 | 4 | 8, signed: boolean): ScalarRange {
  if (sizeBytes === 8) return scalarUnknown();
  if (signed) return freeze(signExtendedDefault(sizeBytes));
  const r = unknownReg();
  truncateInPlace(r, sizeBytes);
  return freeze(r);
}

/** What the kernel assumes about a sign-extended value it cannot bound better. */
function signExtendedDefault(sizeBytes: 1 | 2 | 4): Reg {
  const bits = BigInt(sizeBytes * 8);
  const lo = -(1n << (bits - 1n));
  const hi = (1n << (bits - 1n)) - 1n;
  const r = unknownReg();
  r.smin = r.s32min = lo;
  r.smax = r.s32max = hi;
  return r;
}

/** The kernel's coerce_reg_to_size_sx (64-bit destination). */
function signExtend64(src: ScalarRange, sizeBytes: 1 | 2 | 4): Reg {
  const bits = BigInt(sizeBytes * 8);
  const r = copy(src);
  if (tnumIsConst(r.tnum)) {
    markKnown(r, BigInt.asIntN(Number(bits), r.tnum.value));
    return r;
  }
  // Sign extension is monotonic only while smin..smax stays in one block of
  // 2^bits and does not cross that block's sign boundary.
  const topMax = asU64(r.smax) >> bits;
  const topMin = asU64(r.smin) >> bits;
  if (topMax !== topMin) return signExtendedDefault(sizeBytes);
  const a = BigInt.asIntN(Number(bits), r.smax);
  const b = BigInt.asIntN(Number(bits), r.smin);
  const hi = max(a, b);
  const lo = min(a, b);
  if ((hi >= 0n) !== (lo >= 0n)) return signExtendedDefault(sizeBytes);
  // lo..hi fits the narrow signed type, so every field takes it directly.
  r.smin = r.s32min = lo;
  r.smax = r.s32max = hi;
  r.umin = asU64(lo);
  r.umax = asU64(hi);
  r.u32min = asU32(lo);
  r.u32max = asU32(hi);
  r.tnum = tnumRange(r.umin, r.umax);
  return r;
}

/** The kernel's coerce_subreg_to_size_sx (32-bit destination, before zero extension). */
function signExtend32(src: ScalarRange, sizeBytes: 1 | 2): Reg {
  const bits = sizeBytes * 8;
  const r = copy(src);
  if (tnumIsConst(r.tnum)) {
    const v = BigInt.asIntN(bits, r.tnum.value);
    r.tnum = tnumConst(v);
    r.s32min = r.s32max = asS32(v);
    r.u32min = r.u32max = asU32(v);
    return r;
  }
  const topMax = asU32(r.s32max) >> BigInt(bits);
  const topMin = asU32(r.s32min) >> BigInt(bits);
  if (topMax === topMin) {
    const a = BigInt.asIntN(bits, r.s32max);
    const b = BigInt.asIntN(bits, r.s32min);
    const hi = max(a, b);
    const lo = min(a, b);
    if ((hi >= 0n) === (lo >= 0n)) {
      r.s32min = lo;
      r.s32max = hi;
      r.u32min = asU32(lo);
      r.u32max = asU32(hi);
      r.tnum = tnumSubreg(tnumRange(asU64(lo), asU64(hi)));
      return r;
    }
  }
  r.s32min = -(1n << BigInt(bits - 1));
  r.s32max = (1n << BigInt(bits - 1)) - 1n;
  r.u32min = 0n;
  r.u32max = U32_MAX;
  r.tnum = tnumSubreg(tnumUnknown());
  return r;
}

/**
 * cpu-v4 MOVSX: sign-extend the low `bits` of src. 64-bit destinations keep
 * the kernel's state as coerce_reg_to_size_sx leaves it (the kernel does not
 * re-sync after a 64-bit movsx); 32-bit ones are zero-extended and synced.
 * Probed: (s8) of [256, 383] gives [0, 127] var_off (0x0; 0x7f); (s8) of
 * [0, 511] gives smin=smin32=-128,smax=smax32=127; w = (s8)w of [384, 511]
 * gives smin32=-128,smax32=-1 and umin=umin32=0xffffff80.
 */
export function scalarMovSx(src: ScalarRange, bits: 8 | 16 | 32, is32: boolean): ScalarRange {
  if (is32) {
    if (bits === 32) return scalarZext32(src);
    const r = signExtend32(src, (bits / 8) as 1 | 2);
    zext32(r);
    sync(r);
    return freeze(r);
  }
  return freeze(signExtend64(src, (bits / 8) as 1 | 2 | 4));
}

/**
 * BPF_END on a little-endian host (6.18 tracks it: the tnum is byte-swapped
 * when bytes move, the ranges then come from the tnum alone; 16/32-bit forms
 * truncate as coerce_reg_to_size does). Probed: be16 of (0x0; 0xff) gives
 * (0x0; 0xff00); le16 keeps [16, 32]; le32 of [16, 0x100000010] gives
 * [0, 0xffffffff]; bswap64 of (0x0; 0x3f) gives (0x0; 0x3f00000000000000).
 */
export function scalarEndian(src: ScalarRange, kind: 'le' | 'be' | 'bswap', bits: 16 | 32 | 64): ScalarRange {
  const r = copy(src);
  if (kind !== 'le') {
    r.tnum = tnumBswap(r.tnum, bits);
    markUnbounded(r);
  }
  if (bits === 16 || bits === 32) truncateInPlace(r, bits / 8);
  else sync(r);
  return freeze(r);
}

// ---------------------------------------------------------------------------
// Conditional jumps
// ---------------------------------------------------------------------------

/** Operands as one comparison width sees them (is_scalar_branch_taken's locals). */
interface CompareView {
  t: Tnum;
  umin: bigint;
  umax: bigint;
  smin: bigint;
  smax: bigint;
}

function compareView(s: ScalarRange, w: Width): CompareView {
  return { t: w.tnumOf(s.tnum), umin: s[w.umin], umax: s[w.umax], smin: s[w.smin], smax: s[w.smax] };
}

/**
 * The kernel's is_scalar_branch_taken: 1 always taken, 0 never, -1 unknown.
 * JEQ/JNE also compare tnums (6.18, probed: `r1 &= 0xf0; if r1 == 5` is
 * known not taken) and, for 64-bit compares, the 32-bit ranges.
 */
function branchOutcome(op: ScalarJmpOp, a: ScalarRange, b: ScalarRange, is32: boolean): 1 | 0 | -1 {
  const w = is32 ? W32 : W64;
  let x = compareView(a, w);
  let y = compareView(b, w);
  switch (op) {
    case 'jeq':
    case 'jne': {
      const eq = op === 'jeq' ? 1 : 0;
      const ne = op === 'jeq' ? 0 : 1;
      if (tnumIsConst(x.t) && tnumIsConst(y.t)) return x.t.value === y.t.value ? eq : ne;
      if (!tnumOverlap(x.t, y.t)) return ne;
      if (x.umin > y.umax || x.umax < y.umin) return ne;
      if (x.smin > y.smax || x.smax < y.smin) return ne;
      if (!is32) {
        if (a.u32min > b.u32max || a.u32max < b.u32min) return ne;
        if (a.s32min > b.s32max || a.s32max < b.s32min) return ne;
      }
      return -1;
    }
    case 'jset': {
      let constSide = b;
      if (!w.isConst(b.tnum)) {
        [x, y] = [y, x];
        constSide = a;
      }
      if (!w.isConst(constSide.tnum)) return -1;
      if (x.t.value & y.t.value) return 1;
      if (((x.t.mask | x.t.value) & y.t.value) === 0n) return 0;
      return -1;
    }
    case 'jgt':
      return x.umin > y.umax ? 1 : x.umax <= y.umin ? 0 : -1;
    case 'jsgt':
      return x.smin > y.smax ? 1 : x.smax <= y.smin ? 0 : -1;
    case 'jlt':
      return x.umax < y.umin ? 1 : x.umin >= y.umax ? 0 : -1;
    case 'jslt':
      return x.smax < y.smin ? 1 : x.smin >= y.smax ? 0 : -1;
    case 'jge':
      return x.umin >= y.umax ? 1 : x.umax < y.umin ? 0 : -1;
    case 'jsge':
      return x.smin >= y.smax ? 1 : x.smax < y.smin ? 0 : -1;
    case 'jle':
      return x.umax <= y.umin ? 1 : x.umin > y.umax ? 0 : -1;
    case 'jsle':
      return x.smax <= y.smin ? 1 : x.smin > y.smax ? 0 : -1;
  }
}

/** The opposite condition (the fall-through side); 'jset-not' is "no common bit". */
type RefineOp = ScalarJmpOp | 'jset-not';

const NEGATED: Record<ScalarJmpOp, RefineOp> = {
  jeq: 'jne', jne: 'jeq', jgt: 'jle', jle: 'jgt', jge: 'jlt', jlt: 'jge',
  jsgt: 'jsle', jsle: 'jsgt', jsge: 'jslt', jslt: 'jsge', jset: 'jset-not',
};

const SWAPPED: Partial<Record<RefineOp, RefineOp>> = { jge: 'jle', jgt: 'jlt', jsge: 'jsle', jsgt: 'jslt' };

/**
 * The kernel's regs_refine_cond_op: narrow both operands assuming `op` holds.
 * JNE learns only when one side is a constant equal to an end of the other's
 * range; JSET learns only a single-bit constant; its negation clears the
 * constant's bits and forgets the ranges first (probed: after `r1 <= 100`
 * with var_off (0x0; 0x7f), the !(r1 & 1) side has umax=126, not 100).
 */
function refine(r1: Reg, r2: Reg, op: RefineOp, is32: boolean): void {
  const swapTo = SWAPPED[op];
  if (swapTo) {
    op = swapTo;
    [r1, r2] = [r2, r1];
  }
  const w = is32 ? W32 : W64;
  switch (op) {
    case 'jeq': {
      r1[w.umin] = max(r1[w.umin], r2[w.umin]);
      r1[w.umax] = min(r1[w.umax], r2[w.umax]);
      r1[w.smin] = max(r1[w.smin], r2[w.smin]);
      r1[w.smax] = min(r1[w.smax], r2[w.smax]);
      r2[w.umin] = r1[w.umin];
      r2[w.umax] = r1[w.umax];
      r2[w.smin] = r1[w.smin];
      r2[w.smax] = r1[w.smax];
      const t = tnumIntersect(w.tnumOf(r1.tnum), w.tnumOf(r2.tnum));
      r1.tnum = w.withTnum(r1.tnum, t);
      r2.tnum = w.withTnum(r2.tnum, t);
      break;
    }
    case 'jne': {
      if (!w.isConst(r2.tnum)) [r1, r2] = [r2, r1];
      if (!w.isConst(r2.tnum)) break;
      const v = w.asU(r2.tnum.value);
      if (r1[w.umin] === v) r1[w.umin] = w.asU(r1[w.umin] + 1n);
      if (r1[w.umax] === v) r1[w.umax] = w.asU(r1[w.umax] - 1n);
      if (r1[w.smin] === w.asS(v)) r1[w.smin] = w.asS(r1[w.smin] + 1n);
      if (r1[w.smax] === w.asS(v)) r1[w.smax] = w.asS(r1[w.smax] - 1n);
      break;
    }
    case 'jset': {
      if (!w.isConst(r2.tnum)) [r1, r2] = [r2, r1];
      if (!w.isConst(r2.tnum)) break;
      const v = w.asU(r2.tnum.value);
      if (v === 0n || (v & (v - 1n)) !== 0n) break;
      r1.tnum = w.withTnum(r1.tnum, tnumOr(w.tnumOf(r1.tnum), tnumConst(v)));
      break;
    }
    case 'jset-not': {
      if (!w.isConst(r2.tnum)) [r1, r2] = [r2, r1];
      if (!w.isConst(r2.tnum)) break;
      const v = w.asU(r2.tnum.value);
      markUnbounded(r1);
      r1.tnum = w.withTnum(r1.tnum, tnumAnd(w.tnumOf(r1.tnum), tnumConst(~v & U64_MASK)));
      break;
    }
    case 'jle':
      r1[w.umax] = min(r1[w.umax], r2[w.umax]);
      r2[w.umin] = max(r1[w.umin], r2[w.umin]);
      break;
    case 'jlt':
      // The kernel's arithmetic wraps here; a wrapped bound only arises on a
      // side is_branch_taken already ruled out.
      r1[w.umax] = min(r1[w.umax], w.asU(r2[w.umax] - 1n));
      r2[w.umin] = max(w.asU(r1[w.umin] + 1n), r2[w.umin]);
      break;
    case 'jsle':
      r1[w.smax] = min(r1[w.smax], r2[w.smax]);
      r2[w.smin] = max(r1[w.smin], r2[w.smin]);
      break;
    case 'jslt':
      r1[w.smax] = min(r1[w.smax], w.asS(r2[w.smax] - 1n));
      r2[w.smin] = max(w.asS(r1[w.smin] + 1n), r2[w.smin]);
      break;
    default:
      break;
  }
}

/**
 * One side of reg_set_min_max: refine, sync, and forget ranges the kernel
 * finds broken. With sameRegister the kernel's two operands are one struct,
 * so each update sees the previous one and the state is synced twice.
 */
function refinedPair(dst: ScalarRange, src: ScalarRange, op: RefineOp, is32: boolean, sameRegister: boolean): [ScalarRange, ScalarRange] {
  const d = copy(dst);
  const s = sameRegister ? d : copy(src);
  refine(d, s, op, is32);
  sync(d);
  sync(s);
  // Without BPF_F_TEST_REG_INVARIANTS the kernel logs the violation and keeps
  // going with the ranges forgotten (reg_bounds_sanity_check).
  for (const r of sameRegister ? [d] : [d, s]) if (brokenInvariant(r)) markUnbounded(r);
  return [freeze(d), freeze(s)];
}

/**
 * `if dst op src goto`: the operand states on the taken and the fall-through
 * side, or null for a side the kernel proves impossible (is_branch_taken).
 * A side the kernel cannot rule out is returned refined even when no
 * concrete pair reaches it, because the kernel goes on to check it.
 * For the K form pass scalarConst(sign-extended imm) as src.
 * `if rX op rX` (one register on both sides) needs sameRegister: 6.18 does
 * not special-case it and refines the one register through both operand
 * roles (probed: `r1 &= 0xff; if r1 >= r1` falls through with r1 in
 * [1, 254]); both returned states are then that register.
 */
export function scalarBranch(
  op: ScalarJmpOp,
  dst: ScalarRange,
  src: ScalarRange,
  is32: boolean,
  sameRegister = false,
): { taken: [ScalarRange, ScalarRange] | null; fallthrough: [ScalarRange, ScalarRange] | null } {
  if (sameRegister) src = dst;
  const outcome = branchOutcome(op, dst, src, is32);
  if (outcome === 1) return { taken: [dst, src], fallthrough: null };
  if (outcome === 0) return { taken: null, fallthrough: [dst, src] };
  return {
    taken: refinedPair(dst, src, op, is32, sameRegister),
    fallthrough: refinedPair(dst, src, NEGATED[op], is32, sameRegister),
  };
}

// ---------------------------------------------------------------------------
// State pruning and joins
// ---------------------------------------------------------------------------

/** gamma(cur) is within gamma(old): the kernel's range_within + tnum_in. */
export function scalarSubsumes(old: ScalarRange, cur: ScalarRange): boolean {
  return (
    old.umin <= cur.umin && old.umax >= cur.umax &&
    old.smin <= cur.smin && old.smax >= cur.smax &&
    old.u32min <= cur.u32min && old.u32max >= cur.u32max &&
    old.s32min <= cur.s32min && old.s32max >= cur.s32max &&
    tnumIn(old.tnum, cur.tnum)
  );
}

/** A sound over-approximation of gamma(a) union gamma(b) (the kernel never joins; this is for nicoff's own use). */
export function scalarJoin(a: ScalarRange, b: ScalarRange): ScalarRange {
  const r: Reg = {
    tnum: tnumUnion(a.tnum, b.tnum),
    umin: min(a.umin, b.umin), umax: max(a.umax, b.umax),
    smin: min(a.smin, b.smin), smax: max(a.smax, b.smax),
    u32min: min(a.u32min, b.u32min), u32max: max(a.u32max, b.u32max),
    s32min: min(a.s32min, b.s32min), s32max: max(a.s32max, b.s32max),
  };
  sync(r);
  return freeze(r);
}

// ---------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------

/** Kernel log numbers: decimal within [-32768, 32767], else %#llx (probed). */
function signedNumber(v: bigint): string {
  if (v >= -32768n && v <= 32767n) return v.toString();
  return `0x${asU64(v).toString(16)}`;
}

/** Unsigned: decimal up to 65535 (probed: umin=65535 vs umin=0x10000). */
function unsignedNumber(v: bigint): string {
  return v <= 0xffffn ? v.toString() : `0x${v.toString(16)}`;
}

/**
 * Kernel 6.x log text for a scalar register (print_reg_state /
 * print_scalar_ranges): a constant prints as its value; otherwise the bounds
 * that say something, equal ones grouped as `smax=umax=255`, then var_off
 * unless it is fully unknown. A 32-bit signed bound outside the decimal range
 * prints as its 32-bit hex pattern.
 */
export function scalarToString(s: ScalarRange): string {
  if (tnumIsConst(s.tnum)) return signedNumber(asS64(s.tnum.value));
  const s32 = (v: bigint): bigint => (v >= -32768n && v <= 32767n ? v : asU32(v));
  const fields = [
    { name: 'smin', val: asU64(s.smin), omit: s.smin === S64_MIN, signed: true },
    { name: 'smax', val: asU64(s.smax), omit: s.smax === S64_MAX, signed: true },
    { name: 'umin', val: s.umin, omit: s.umin === 0n, signed: false },
    { name: 'umax', val: s.umax, omit: s.umax === U64_MAX, signed: false },
    { name: 'smin32', val: asU64(s32(s.s32min)), omit: s.s32min === S32_MIN, signed: true },
    { name: 'smax32', val: asU64(s32(s.s32max)), omit: s.s32max === S32_MAX, signed: true },
    { name: 'umin32', val: s.u32min, omit: s.u32min === 0n, signed: false },
    { name: 'umax32', val: s.u32max, omit: s.u32max === U32_MAX, signed: false },
  ];
  const parts: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (f.omit) continue;
    const negative = f.signed && asS64(f.val) < 0n;
    let text = `${f.name}=`;
    // Fields of the same kind (min or max) with equal values share one number.
    for (let j = i + 2; j < fields.length; j += 2) {
      const g = fields[j];
      if (g.omit || g.val !== f.val) continue;
      if ((g.signed && asS64(g.val) < 0n) !== negative) continue;
      g.omit = true;
      text += `${g.name}=`;
    }
    text += f.signed ? signedNumber(asS64(f.val)) : unsignedNumber(f.val);
    parts.push(text);
  }
  if (!tnumIsUnknown(s.tnum)) parts.push(`var_off=${tnumToString(s.tnum)}`);
  return `scalar(${parts.join(',')})`;
}
