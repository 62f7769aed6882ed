/**
 * Tristate numbers: every operation must contain the concrete result for all
 * members of its inputs (checked on seeded random tnums against BigInt
 * arithmetic written here), and a few results must be exactly what kernel
 * 6.18 derives (expectations copied from the running kernel's verifier log).
 */
import { describe, test, expect } from '@jest/globals';
import { seeded } from '../support/seeded-random.js';
import {
  tnumAdd,
  tnumAnd,
  tnumArshift,
  tnumBswap,
  tnumCast,
  tnumConst,
  tnumContains,
  tnumEquals,
  tnumIn,
  tnumIntersect,
  tnumIsConst,
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
  tnumToString,
  tnumUnion,
  tnumUnknown,
  tnumWithSubreg,
  tnumXor,
  type Tnum,
} from '../../src/verifier/tnum.js';

const U64 = (1n << 64n) - 1n;
const U32 = (1n << 32n) - 1n;
const wrap64 = (v: bigint): bigint => BigInt.asUintN(64, v);

type Rng = () => number;

function random32(rnd: Rng): bigint {
  return BigInt(Math.floor(rnd() * 2 ** 32));
}

function random64(rnd: Rng): bigint {
  return (random32(rnd) << 32n) | random32(rnd);
}

/** Masks of the shapes the verifier meets: low bits, a window, sparse bits, none, all. */
function randomMask(rnd: Rng): bigint {
  const r = rnd();
  if (r < 0.1) return 0n;
  if (r < 0.15) return U64;
  if (r < 0.4) return (1n << BigInt(1 + Math.floor(rnd() * 63))) - 1n;
  if (r < 0.6) {
    const width = BigInt(1 + Math.floor(rnd() * 16));
    return wrap64(((1n << width) - 1n) << BigInt(Math.floor(rnd() * 64)));
  }
  if (r < 0.8) return random64(rnd) & random64(rnd) & random64(rnd);
  return random64(rnd);
}

function randomTnum(rnd: Rng): Tnum {
  const mask = randomMask(rnd);
  return { value: random64(rnd) & ~mask & U64, mask };
}

/** A concrete member: the known bits plus random choices for the unknown ones. */
function memberOf(t: Tnum, rnd: Rng): bigint {
  const r = rnd();
  const fill = r < 0.15 ? 0n : r < 0.3 ? U64 : random64(rnd);
  return t.value | (fill & t.mask);
}

function byteSwap(v: bigint, bits: number): bigint {
  let out = 0n;
  for (let i = 0; i < bits / 8; i++) out = (out << 8n) | ((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** Runs `check` on many seeded (a, b, x, y) and returns how many checks passed and the failures. */
function forRandomPairs(seed: number, rounds: number, check: (a: Tnum, b: Tnum, x: bigint, y: bigint, rnd: Rng) => string[]): { checks: number; failures: string[] } {
  const rnd = seeded(seed);
  const failures: string[] = [];
  let checks = 0;
  for (let i = 0; i < rounds; i++) {
    const a = randomTnum(rnd);
    const b = randomTnum(rnd);
    for (let k = 0; k < 3; k++) {
      const x = memberOf(a, rnd);
      const y = memberOf(b, rnd);
      const bad = check(a, b, x, y, rnd);
      checks++;
      if (bad.length && failures.length < 5) failures.push(...bad);
    }
  }
  return { checks, failures };
}

function expectContains(name: string, t: Tnum, v: bigint, inputs: string): string[] {
  return tnumContains(t, v) ? [] : [`${name}: ${tnumToString(t)} misses 0x${v.toString(16)} (${inputs})`];
}

describe('tnum soundness (seeded, against BigInt arithmetic)', () => {
  test('add, sub, neg, mul contain the wrapped concrete result', () => {
    const { checks, failures } = forRandomPairs(11, 8000, (a, b, x, y) => {
      const inputs = `${tnumToString(a)} ${tnumToString(b)} x=0x${x.toString(16)} y=0x${y.toString(16)}`;
      return [
        ...expectContains('add', tnumAdd(a, b), wrap64(x + y), inputs),
        ...expectContains('sub', tnumSub(a, b), wrap64(x - y), inputs),
        ...expectContains('neg', tnumNeg(a), wrap64(-x), inputs),
        ...expectContains('mul', tnumMul(a, b), wrap64(x * y), inputs),
      ];
    });
    expect(failures).toEqual([]);
    expect(checks).toBeGreaterThanOrEqual(20000);
  });

  test('and, or, xor, intersect, union', () => {
    const { checks, failures } = forRandomPairs(12, 8000, (a, b, x, y) => {
      const inputs = `${tnumToString(a)} ${tnumToString(b)} x=0x${x.toString(16)} y=0x${y.toString(16)}`;
      const bad = [
        ...expectContains('and', tnumAnd(a, b), x & y, inputs),
        ...expectContains('or', tnumOr(a, b), x | y, inputs),
        ...expectContains('xor', tnumXor(a, b), x ^ y, inputs),
        ...expectContains('union/a', tnumUnion(a, b), x, inputs),
        ...expectContains('union/b', tnumUnion(a, b), y, inputs),
      ];
      // A value both tnums allow stays allowed by the intersection.
      if (tnumContains(b, x)) bad.push(...expectContains('intersect', tnumIntersect(a, b), x, inputs));
      // tnumOverlap false must mean no shared member.
      if (tnumContains(b, x) && !tnumOverlap(a, b)) bad.push(`overlap: ${inputs} share 0x${x.toString(16)}`);
      return bad;
    });
    expect(failures).toEqual([]);
    expect(checks).toBeGreaterThanOrEqual(20000);
  });

  test('shifts, casts, subregisters and byte swaps', () => {
    const { checks, failures } = forRandomPairs(13, 8000, (a, b, x, y, rnd) => {
      const n = Math.floor(rnd() * 64);
      const n32 = n % 32;
      const inputs = `${tnumToString(a)} x=0x${x.toString(16)} n=${n}`;
      const low = x & U32;
      const size = [1, 2, 4, 8][Math.floor(rnd() * 4)];
      const keep = size === 8 ? U64 : (1n << BigInt(size * 8)) - 1n;
      return [
        ...expectContains('lsh', tnumLshift(a, n), wrap64(x << BigInt(n)), inputs),
        ...expectContains('rsh', tnumRshift(a, n), x >> BigInt(n), inputs),
        ...expectContains('arsh64', tnumArshift(a, n, 64), wrap64(BigInt.asIntN(64, x) >> BigInt(n)), inputs),
        ...expectContains('arsh32', tnumArshift(tnumSubreg(a), n32, 32), BigInt.asUintN(32, BigInt.asIntN(32, low) >> BigInt(n32)), inputs),
        ...expectContains('cast', tnumCast(a, size), x & keep, `${inputs} size=${size}`),
        ...expectContains('subreg', tnumSubreg(a), low, inputs),
        ...expectContains('with-subreg', tnumWithSubreg(a, b), (x & ~U32 & U64) | (y & U32), inputs),
        ...expectContains('bswap16', tnumBswap(a, 16), byteSwap(x, 16), inputs),
        ...expectContains('bswap32', tnumBswap(a, 32), byteSwap(x, 32), inputs),
        ...expectContains('bswap64', tnumBswap(a, 64), byteSwap(x, 64), inputs),
      ];
    });
    expect(failures).toEqual([]);
    expect(checks).toBeGreaterThanOrEqual(20000);
  });

  test('tnumIn: a yes means every sampled member of inner is in outer', () => {
    const rnd = seeded(14);
    const failures: string[] = [];
    let yes = 0;
    let checks = 0;
    for (let i = 0; i < 6000; i++) {
      const outer = randomTnum(rnd);
      // Half the time build inner inside outer (fix some unknown bits), else random.
      const inner = rnd() < 0.5 ? (() => {
        const fixed = outer.mask & random64(rnd);
        return { value: outer.value | (random64(rnd) & fixed), mask: outer.mask & ~fixed & U64 };
      })() : randomTnum(rnd);
      if (!tnumIn(outer, inner)) continue;
      yes++;
      for (let k = 0; k < 5; k++) {
        const v = memberOf(inner, rnd);
        checks++;
        if (!tnumContains(outer, v) && failures.length < 5) failures.push(`${tnumToString(outer)} ⊉ ${tnumToString(inner)} at 0x${v.toString(16)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(yes).toBeGreaterThan(2000);
    expect(checks).toBeGreaterThan(10000);
  });

  test('tnumRange covers its interval', () => {
    const rnd = seeded(15);
    const failures: string[] = [];
    for (let i = 0; i < 7000; i++) {
      let lo = rnd() < 0.5 ? random64(rnd) : random32(rnd);
      let hi = rnd() < 0.3 ? lo + random32(rnd) : rnd() < 0.5 ? random64(rnd) : lo + BigInt(Math.floor(rnd() * 300));
      hi = hi > U64 ? U64 : hi;
      if (lo > hi) [lo, hi] = [hi, lo];
      const t = tnumRange(lo, hi);
      const mid = lo + ((hi - lo) * BigInt(Math.floor(rnd() * 1000))) / 1000n;
      for (const v of [lo, hi, mid]) if (!tnumContains(t, v) && failures.length < 5) failures.push(`range(0x${lo.toString(16)}, 0x${hi.toString(16)}) = ${tnumToString(t)} misses 0x${v.toString(16)}`);
    }
    expect(failures).toEqual([]);
  });
});

describe('tnumStep (smallest member above z), against enumeration', () => {
  test('matches brute force on tnums with few unknown bits', () => {
    const rnd = seeded(21);
    const failures: string[] = [];
    let checks = 0;
    for (let i = 0; i < 1500; i++) {
      // Up to 8 unknown bits anywhere in the 64, so the members can be listed.
      let mask = 0n;
      const count = Math.floor(rnd() * 9);
      for (let k = 0; k < count; k++) mask |= 1n << BigInt(Math.floor(rnd() * 64));
      const t: Tnum = { value: random64(rnd) & ~mask & U64, mask };
      const members: bigint[] = [];
      const bits = [...Array(64).keys()].filter((b) => (mask >> BigInt(b)) & 1n);
      for (let pattern = 0; pattern < 1 << bits.length; pattern++) {
        let v = t.value;
        bits.forEach((b, j) => {
          if (pattern & (1 << j)) v |= 1n << BigInt(b);
        });
        members.push(v);
      }
      members.sort((p, q) => (p < q ? -1 : p > q ? 1 : 0));
      const tmax = members[members.length - 1];
      const probes = [0n, U64, t.value, tmax, ...members.flatMap((m) => [m, wrap64(m - 1n), wrap64(m + 1n)]), random64(rnd)];
      for (const z of probes) {
        // The kernel's contract: tmax at or above tmax, else the first member above z.
        const expected = z >= tmax ? tmax : members.find((m) => m > z)!;
        checks++;
        const got = tnumStep(t, z);
        if (got !== expected && failures.length < 5) failures.push(`step(${tnumToString(t)}, 0x${z.toString(16)}) = 0x${got.toString(16)}, expected 0x${expected.toString(16)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(checks).toBeGreaterThan(20000);
  });
});

describe('tnum results that must equal kernel 6.18 (from its verifier log)', () => {
  test('log format and basic constructors', () => {
    // `r1 &= 0xff` prints var_off=(0x0; 0xff); an unknown prints no var_off at all.
    expect(tnumToString(tnumAnd(tnumUnknown(), tnumConst(0xffn)))).toBe('(0x0; 0xff)');
    // `if r1 > 0xa` fall-through: var_off=(0x0; 0xf), i.e. range(0, 10) intersected in.
    expect(tnumIntersect({ value: 0n, mask: 0xffn }, tnumRange(0n, 10n))).toEqual({ value: 0n, mask: 0xfn });
    expect(tnumIsConst(tnumRange(7n, 7n))).toBe(true);
    expect(tnumEquals(tnumRange(0n, U64), tnumUnknown())).toBe(true);
  });

  test('multiplication is the asymmetric long multiplication of 6.18', () => {
    // Kernel log: r1=(0x1; 0x6) `r1 *= r2` with r2=(0x1; 0x6) gave var_off=(0x1; 0x3e), umax=49.
    const a = { value: 1n, mask: 6n };
    expect(tnumIntersect(tnumMul(a, a), tnumRange(1n, 49n))).toEqual({ value: 1n, mask: 0x3en });
    // Kernel log: r3=(0x5; 0x8) `r3 *= r4` with r4=(0x10; 0x3) gave var_off=(0x40; 0xbf) ([80, 247])...
    const five = { value: 5n, mask: 8n };
    const sixteen = { value: 0x10n, mask: 3n };
    expect(tnumIntersect(tnumMul(five, sixteen), tnumRange(80n, 247n))).toEqual({ value: 0x40n, mask: 0xbfn });
    // ...while r1=(0x10; 0x3) `r1 *= r2` with r2=(0x5; 0x8) gave var_off=(0x0; 0xff).
    expect(tnumIntersect(tnumMul(sixteen, five), tnumRange(80n, 247n))).toEqual({ value: 0n, mask: 0xffn });
  });

  test('byte swaps move known bytes (be16 of (0x0; 0xff) is (0x0; 0xff00) in the log)', () => {
    expect(tnumBswap({ value: 0n, mask: 0xffn }, 16)).toEqual({ value: 0n, mask: 0xff00n });
    expect(tnumBswap({ value: 0n, mask: 0x3fn }, 64)).toEqual({ value: 0n, mask: 0x3f00000000000000n });
  });
});
