/**
 * The scalar domain against two independent truths:
 *
 * - concrete execution: seeded values x, y, abstract values built to contain
 *   them, and the eBPF result computed here with BigInt (not by the code under
 *   test) must be contained in the abstract result, for every ALU op in both
 *   widths, every conditional jump, the loads, moves and byte swaps;
 * - the running kernel: expectations copied from kernel 6.18's verifier log
 *   (level 2) for hand-picked programs, and seeded random straight-line
 *   programs loaded into the kernel whose logged register states must equal
 *   scalarToString of the model step for step.
 */
import { describe, test, expect } from '@jest/globals';
import { seeded } from '../support/seeded-random.js';
import { kernelOracleOrSkip, runInKernelSync } from '../../src/ebpf/kernel/kernel-runner.js';
import { corpusRequest, parseCorpusCase } from '../../src/verifier/corpus-file.js';
import {
  scalarAlu,
  scalarAluOutcomes,
  scalarBranch,
  scalarConst,
  scalarConstValue,
  scalarConstValue32,
  scalarContains,
  scalarEndian,
  scalarEquals,
  scalarFromTnum,
  scalarIsConst,
  scalarIsConst32,
  scalarJoin,
  scalarLoad,
  scalarMovSx,
  scalarSubsumes,
  scalarToString,
  scalarTruncate,
  scalarUnknown,
  scalarUnsignedRange,
  scalarZext32,
  type ScalarAluOp,
  type ScalarJmpOp,
  type ScalarRange,
} from '../../src/verifier/scalar-range.js';

const U64 = (1n << 64n) - 1n;
const U32 = (1n << 32n) - 1n;
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const hex = (v: bigint): string => (v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`);

type Rng = () => number;
const pick = <T,>(rnd: Rng, items: readonly T[]): T => items[Math.floor(rnd() * items.length)];
const random32 = (rnd: Rng): bigint => BigInt(Math.floor(rnd() * 2 ** 32));
const random64 = (rnd: Rng): bigint => (random32(rnd) << 32n) | random32(rnd);

// ---------------------------------------------------------------------------
// Concrete eBPF semantics, written independently of the code under test
// ---------------------------------------------------------------------------

const JMP_OPS: readonly ScalarJmpOp[] = ['jeq', 'jne', 'jgt', 'jge', 'jlt', 'jle', 'jsgt', 'jsge', 'jslt', 'jsle', 'jset'];

/** dst op src as the eBPF runtime computes it (32-bit ops: low halves, result zero-extended). */
function runAlu(op: ScalarAluOp, dst: bigint, src: bigint, is32: boolean): bigint {
  const bits = is32 ? 32 : 64;
  const asUnsigned = (v: bigint): bigint => BigInt.asUintN(bits, v);
  const asSigned = (v: bigint): bigint => BigInt.asIntN(bits, v);
  const a = asUnsigned(dst);
  const b = asUnsigned(src);
  const shift = b & BigInt(bits - 1);
  const minSigned = -(1n << BigInt(bits - 1));
  switch (op) {
    case 'add': return asUnsigned(a + b);
    case 'sub': return asUnsigned(a - b);
    case 'mul': return asUnsigned(a * b);
    case 'div': return b === 0n ? 0n : a / b;
    case 'mod': return b === 0n ? a : a % b;
    // BigInt division truncates toward zero, like the cpu-v4 signed ops.
    case 'sdiv':
      if (b === 0n) return 0n;
      if (asSigned(a) === minSigned && asSigned(b) === -1n) return a;
      return asUnsigned(asSigned(a) / asSigned(b));
    case 'smod':
      if (b === 0n) return a;
      if (asSigned(b) === -1n) return 0n;
      return asUnsigned(asSigned(a) % asSigned(b));
    case 'or': return a | b;
    case 'and': return a & b;
    case 'xor': return a ^ b;
    case 'lsh': return asUnsigned(a << shift);
    case 'rsh': return a >> shift;
    case 'arsh': return asUnsigned(asSigned(a) >> shift);
    case 'neg': return asUnsigned(-a);
    case 'mov': return b;
  }
}

function jumpTaken(op: ScalarJmpOp, dst: bigint, src: bigint, is32: boolean): boolean {
  const bits = is32 ? 32 : 64;
  const a = BigInt.asUintN(bits, dst);
  const b = BigInt.asUintN(bits, src);
  const sa = BigInt.asIntN(bits, dst);
  const sb = BigInt.asIntN(bits, src);
  switch (op) {
    case 'jeq': return a === b;
    case 'jne': return a !== b;
    case 'jgt': return a > b;
    case 'jge': return a >= b;
    case 'jlt': return a < b;
    case 'jle': return a <= b;
    case 'jsgt': return sa > sb;
    case 'jsge': return sa >= sb;
    case 'jslt': return sa < sb;
    case 'jsle': return sa <= sb;
    case 'jset': return (a & b) !== 0n;
  }
}

function signExtend(v: bigint, bits: number): bigint {
  return u64(BigInt.asIntN(bits, v));
}

function byteSwap(v: bigint, bits: number): bigint {
  let out = 0n;
  for (let i = 0; i < bits / 8; i++) out = (out << 8n) | ((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

// ---------------------------------------------------------------------------
// Abstract values that contain a given concrete value
// ---------------------------------------------------------------------------

/** The edges where wrapping and sign bugs live, each with small offsets. */
const ANCHORS = [0n, 1n << 7n, 1n << 15n, 1n << 31n, 1n << 32n, 1n << 63n, U64];

function randomConcrete(rnd: Rng): bigint {
  const r = rnd();
  if (r < 0.35) return u64(pick(rnd, ANCHORS) + BigInt(Math.floor(rnd() * 7) - 3));
  if (r < 0.5) return BigInt(Math.floor(rnd() * 300));
  if (r < 0.6) return u64(-BigInt(Math.floor(rnd() * 300)));
  if (r < 0.75) return random32(rnd);
  if (r < 0.85) return u64(BigInt.asIntN(32, random32(rnd)));
  return random64(rnd);
}

function randomMask(rnd: Rng): bigint {
  const r = rnd();
  if (r < 0.3) return (1n << BigInt(1 + Math.floor(rnd() * 63))) - 1n;
  if (r < 0.5) return u64(((1n << BigInt(1 + Math.floor(rnd() * 16))) - 1n) << BigInt(Math.floor(rnd() * 64)));
  if (r < 0.7) return random64(rnd) & random64(rnd);
  if (r < 0.8) return U64 ^ (1n << BigInt(Math.floor(rnd() * 64)));
  return random64(rnd);
}

class Failures {
  readonly list: string[] = [];
  checks = 0;
  check(ok: boolean, describe: () => string): void {
    this.checks++;
    if (!ok && this.list.length < 8) this.list.push(describe());
  }
}

/**
 * A seeded abstract value with v in its concretisation: a constant, unknown,
 * a tnum around v, an unsigned interval around v, a load of the right width,
 * then a few branch refinements and constant ALU ops that v survives
 * (following v concretely). Returns the value it ended up tracking.
 */
function abstractContaining(rnd: Rng, start: bigint, failures: Failures): { abs: ScalarRange; v: bigint } {
  let v = start;
  let abs: ScalarRange;
  const shape = rnd();
  if (shape < 0.12) abs = scalarConst(v);
  else if (shape < 0.22) abs = scalarUnknown();
  else if (shape < 0.5) {
    const mask = randomMask(rnd);
    abs = scalarFromTnum({ value: v & ~mask & U64, mask });
  } else if (shape < 0.75) {
    const below = rnd() < 0.5 ? BigInt(Math.floor(rnd() * 1000)) : random64(rnd) >> BigInt(Math.floor(rnd() * 64));
    const above = rnd() < 0.5 ? BigInt(Math.floor(rnd() * 1000)) : random64(rnd) >> BigInt(Math.floor(rnd() * 64));
    const lo = v > below ? v - below : 0n;
    const hi = v + above > U64 ? U64 : v + above;
    abs = scalarUnsignedRange(lo, hi);
  } else {
    const size = pick(rnd, [1, 2, 4] as const);
    const signed = rnd() < 0.5;
    v = signed ? signExtend(v, size * 8) : v & ((1n << BigInt(size * 8)) - 1n);
    abs = scalarLoad(size, signed);
  }
  failures.check(scalarContains(abs, v), () => `start shape misses 0x${v.toString(16)}: ${scalarToString(abs)}`);
  const steps = Math.floor(rnd() * 4);
  for (let i = 0; i < steps; i++) {
    if (rnd() < 0.65) {
      const op = pick(rnd, JMP_OPS);
      const is32 = rnd() < 0.35;
      const c = rnd() < 0.5 ? u64(v + BigInt(Math.floor(rnd() * 2001) - 1000)) : randomConcrete(rnd);
      const sides = scalarBranch(op, abs, scalarConst(c), is32);
      const side = jumpTaken(op, v, c, is32) ? sides.taken : sides.fallthrough;
      failures.check(side !== null && scalarContains(side[0], v), () => `refining ${scalarToString(abs)} by ${op}${is32 ? '32' : ''} 0x${c.toString(16)} loses 0x${v.toString(16)}`);
      if (side) abs = side[0];
    } else {
      const op = pick(rnd, ['and', 'or', 'add', 'xor', 'lsh', 'rsh'] as const);
      const is32 = rnd() < 0.3;
      const c = op === 'lsh' || op === 'rsh' ? BigInt(Math.floor(rnd() * (is32 ? 32 : 64))) : u64(BigInt.asIntN(32, random32(rnd)));
      abs = scalarAlu(op, abs, scalarConst(c), is32);
      v = runAlu(op, v, c, is32);
      failures.check(scalarContains(abs, v), () => `shaping by ${op} 0x${c.toString(16)} loses 0x${v.toString(16)}: ${scalarToString(abs)}`);
    }
  }
  return { abs, v };
}

/** Up to `count` members of abs besides v: its bounds and random tnum members that pass scalarContains. */
function membersOf(rnd: Rng, abs: ScalarRange, v: bigint, count: number): bigint[] {
  const candidates = [abs.umin, abs.umax, u64(abs.smin), u64(abs.smax), u64(v + 1n), u64(v - 1n)];
  for (let i = 0; i < 4; i++) candidates.push(abs.tnum.value | (random64(rnd) & abs.tnum.mask));
  const out = [v];
  for (const c of candidates) if (out.length < count && !out.includes(c) && scalarContains(abs, c)) out.push(c);
  return out;
}

/** Abstract operands with a few concrete members each. */
function operandPair(rnd: Rng, failures: Failures): { a: ScalarRange; xs: bigint[]; b: ScalarRange; ys: bigint[] } {
  const first = abstractContaining(rnd, randomConcrete(rnd), failures);
  const second = rnd() < 0.3
    ? (() => { const c = randomConcrete(rnd); return { abs: scalarConst(c), v: c }; })()
    : abstractContaining(rnd, randomConcrete(rnd), failures);
  return { a: first.abs, xs: membersOf(rnd, first.abs, first.v, 4), b: second.abs, ys: membersOf(rnd, second.abs, second.v, 4) };
}

function describeOperands(a: ScalarRange, b: ScalarRange, x: bigint, y: bigint): string {
  return `${scalarToString(a)} [x=0x${x.toString(16)}], ${scalarToString(b)} [y=0x${y.toString(16)}]`;
}

// ---------------------------------------------------------------------------
// Soundness against concrete execution
// ---------------------------------------------------------------------------

function aluFamily(seed: number, ops: readonly ScalarAluOp[], rounds: number, shiftAmounts = false): Failures {
  const rnd = seeded(seed);
  const failures = new Failures();
  for (let i = 0; i < rounds; i++) {
    let { a, xs, b, ys } = operandPair(rnd, failures);
    if (shiftAmounts && rnd() < 0.7) {
      // Mostly in-range amounts, so the tracked (constant amount) path is exercised.
      const n = BigInt(Math.floor(rnd() * 64));
      b = rnd() < 0.6 ? scalarConst(n) : scalarUnsignedRange(n, n + BigInt(Math.floor(rnd() * 4)));
      ys = membersOf(rnd, b, n, 4);
    }
    for (const op of ops) {
      for (const is32 of [false, true]) {
        const outcomes = scalarAluOutcomes(op, a, b, is32);
        const joined = scalarAlu(op, a, b, is32);
        for (const x of xs) {
          for (const y of ys) {
            const r = runAlu(op, x, y, is32);
            failures.check(outcomes.some((o) => scalarContains(o, r)) && scalarContains(joined, r), () =>
              `${op}${is32 ? '32' : ''} ${describeOperands(a, b, x, y)} = 0x${r.toString(16)} not in ${outcomes.map(scalarToString).join(' | ')}`);
          }
        }
      }
    }
  }
  return failures;
}

describe('ALU soundness (seeded; results computed by BigInt eBPF semantics)', () => {
  test('add, sub, mul, neg', () => {
    const f = aluFamily(101, ['add', 'sub', 'mul', 'neg'], 350);
    expect(f.list).toEqual([]);
    expect(f.checks).toBeGreaterThanOrEqual(20000);
  });

  test('div, sdiv, mod, smod (including by zero and INT_MIN / -1)', () => {
    const f = aluFamily(102, ['div', 'sdiv', 'mod', 'smod'], 350);
    expect(f.list).toEqual([]);
    expect(f.checks).toBeGreaterThanOrEqual(20000);
    // The edge cases themselves, through the concrete evaluator and the domain.
    const minusOne = scalarConst(-1n);
    const intMin = scalarConst(1n << 63n);
    expect(runAlu('sdiv', 1n << 63n, U64, false)).toBe(1n << 63n);
    expect(runAlu('smod', 1n << 63n, U64, false)).toBe(0n);
    expect(scalarContains(scalarAlu('sdiv', intMin, minusOne, false), 1n << 63n)).toBe(true);
    expect(scalarContains(scalarAlu('mod', scalarConst(0x1234_5678_9abc_def0n), scalarConst(0n), true), 0x9abcdef0n)).toBe(true);
  });

  test('and, or, xor (with the kernel\'s [-1, 0] state forks)', () => {
    const f = aluFamily(103, ['and', 'or', 'xor'], 400);
    expect(f.list).toEqual([]);
    expect(f.checks).toBeGreaterThanOrEqual(20000);
  });

  test('lsh, rsh, arsh (amounts masked as the runtime does)', () => {
    const f = aluFamily(104, ['lsh', 'rsh', 'arsh'], 550, true);
    expect(f.list).toEqual([]);
    expect(f.checks).toBeGreaterThanOrEqual(20000);
  });

  test('mov, movsx, zext32, byte swaps, truncation and loads', () => {
    const rnd = seeded(105);
    const f = new Failures();
    for (let i = 0; i < 300; i++) {
      const { abs, v } = abstractContaining(rnd, randomConcrete(rnd), f);
      const xs = membersOf(rnd, abs, v, 3);
      const other = abstractContaining(rnd, randomConcrete(rnd), f).abs;
      for (const x of xs) {
        const show = (): string => `${scalarToString(abs)} [x=0x${x.toString(16)}]`;
        for (const is32 of [false, true]) {
          const moved = runAlu('mov', 0n, x, is32);
          f.check(scalarContains(scalarAlu('mov', other, abs, is32), moved), () => `mov${is32 ? '32' : ''} ${show()}`);
        }
        f.check(scalarContains(scalarZext32(abs), x & U32), () => `zext32 ${show()}`);
        for (const bits of [8, 16, 32] as const) {
          f.check(scalarContains(scalarMovSx(abs, bits, false), signExtend(x, bits)), () => `movsx64 s${bits} ${show()} -> ${scalarToString(scalarMovSx(abs, bits, false))}`);
          const narrow = bits === 32 ? x & U32 : signExtend(x, bits) & U32;
          f.check(scalarContains(scalarMovSx(abs, bits, true), narrow), () => `movsx32 s${bits} ${show()} -> ${scalarToString(scalarMovSx(abs, bits, true))}`);
        }
        for (const bits of [16, 32, 64] as const) {
          const low = bits === 64 ? x : x & ((1n << BigInt(bits)) - 1n);
          f.check(scalarContains(scalarEndian(abs, 'le', bits), low), () => `le${bits} ${show()}`);
          f.check(scalarContains(scalarEndian(abs, 'be', bits), byteSwap(x, bits)), () => `be${bits} ${show()}`);
          f.check(scalarContains(scalarEndian(abs, 'bswap', bits), byteSwap(x, bits)), () => `bswap${bits} ${show()}`);
        }
        for (const size of [1, 2, 4, 8] as const) {
          const keep = size === 8 ? U64 : (1n << BigInt(size * 8)) - 1n;
          f.check(scalarContains(scalarTruncate(abs, size), x & keep), () => `truncate ${size} ${show()} -> ${scalarToString(scalarTruncate(abs, size))}`);
          f.check(scalarContains(scalarLoad(size, false), x & keep), () => `load u${size * 8} of 0x${x.toString(16)}`);
          if (size < 8) f.check(scalarContains(scalarLoad(size, true), signExtend(x, size * 8)), () => `load s${size * 8} of 0x${x.toString(16)}`);
        }
      }
    }
    expect(f.list).toEqual([]);
    expect(f.checks).toBeGreaterThanOrEqual(20000);
  });
});

describe('branch soundness (seeded)', () => {
  test('each concrete pair keeps to the side it takes, inside the refined states', () => {
    const rnd = seeded(201);
    const f = new Failures();
    let impossibleSides = 0;
    for (let i = 0; i < 250; i++) {
      const { a, xs, b, ys } = operandPair(rnd, f);
      for (const op of JMP_OPS) {
        for (const is32 of [false, true]) {
          const sides = scalarBranch(op, a, b, is32);
          if (!sides.taken || !sides.fallthrough) impossibleSides++;
          for (const x of xs) {
            for (const y of ys) {
              const goes = jumpTaken(op, x, y, is32);
              const side = goes ? sides.taken : sides.fallthrough;
              f.check(side !== null && scalarContains(side[0], x) && scalarContains(side[1], y), () =>
                `${op}${is32 ? '32' : ''} ${describeOperands(a, b, x, y)} ${goes ? 'taken' : 'not taken'} but ${side ? `${scalarToString(side[0])}, ${scalarToString(side[1])}` : 'that side is null'}`);
            }
          }
        }
      }
    }
    expect(f.list).toEqual([]);
    expect(f.checks).toBeGreaterThanOrEqual(20000);
    // The sampling must also reach pruned sides, or a never-null result would pass.
    expect(impossibleSides).toBeGreaterThan(500);
  });
});

describe('state pruning and joins (seeded)', () => {
  test('scalarSubsumes(old, cur) only when sampled members of cur are in old', () => {
    const rnd = seeded(301);
    const f = new Failures();
    let yes = 0;
    for (let i = 0; i < 2500; i++) {
      const { abs: old, v } = abstractContaining(rnd, randomConcrete(rnd), f);
      // cur: often a refinement of old around one of its members, else unrelated.
      let cur: ScalarRange;
      let w: bigint;
      if (rnd() < 0.6) {
        w = pick(rnd, membersOf(rnd, old, v, 4));
        const c = u64(w + BigInt(Math.floor(rnd() * 41) - 20));
        const op = pick(rnd, JMP_OPS);
        const is32 = rnd() < 0.3;
        const sides = scalarBranch(op, old, scalarConst(c), is32);
        const side = jumpTaken(op, w, c, is32) ? sides.taken : sides.fallthrough;
        cur = side ? side[0] : old;
      } else {
        ({ abs: cur, v: w } = abstractContaining(rnd, randomConcrete(rnd), f));
      }
      if (!scalarSubsumes(old, cur)) continue;
      yes++;
      for (const m of membersOf(rnd, cur, w, 8)) f.check(scalarContains(old, m), () => `${scalarToString(old)} said to subsume ${scalarToString(cur)} but misses 0x${m.toString(16)}`);
    }
    expect(f.list).toEqual([]);
    expect(yes).toBeGreaterThan(800);
    expect(scalarSubsumes(scalarUnknown(), scalarConst(5n))).toBe(true);
    expect(scalarSubsumes(scalarConst(5n), scalarUnknown())).toBe(false);
  });

  test('scalarJoin contains both inputs', () => {
    const rnd = seeded(302);
    const f = new Failures();
    for (let i = 0; i < 1200; i++) {
      const p = abstractContaining(rnd, randomConcrete(rnd), f);
      const q = abstractContaining(rnd, randomConcrete(rnd), f);
      const j = scalarJoin(p.abs, q.abs);
      for (const m of [...membersOf(rnd, p.abs, p.v, 4), ...membersOf(rnd, q.abs, q.v, 4)]) {
        f.check(scalarContains(j, m), () => `join(${scalarToString(p.abs)}, ${scalarToString(q.abs)}) = ${scalarToString(j)} misses 0x${m.toString(16)}`);
      }
      f.check(scalarSubsumes(j, p.abs) && scalarSubsumes(j, q.abs), () => `join(${scalarToString(p.abs)}, ${scalarToString(q.abs)}) = ${scalarToString(j)} does not subsume its inputs`);
    }
    expect(f.list).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// Exact results, each copied from the running kernel 6.18's verifier log
// ---------------------------------------------------------------------------

const unknown = scalarUnknown();
const k = (v: bigint): ScalarRange => scalarConst(v);
const alu = (op: ScalarAluOp, d: ScalarRange, s: ScalarRange, is32 = false): ScalarRange => scalarAlu(op, d, s, is32);
const fallthrough = (op: ScalarJmpOp, d: ScalarRange, s: ScalarRange, is32 = false): ScalarRange => scalarBranch(op, d, s, is32).fallthrough![0];
const taken = (op: ScalarJmpOp, d: ScalarRange, s: ScalarRange, is32 = false): ScalarRange => scalarBranch(op, d, s, is32).taken![0];
const byte = alu('and', unknown, k(0xffn));

describe('precision equal to kernel 6.18 (expectations from its verifier log)', () => {
  test('AND with a mask and a range check', () => {
    // `r1 &= 0xff` then `if r1 > 0xa goto`: fall-through and taken states as logged.
    expect(scalarToString(byte)).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))');
    expect(scalarToString(fallthrough('jgt', byte, k(10n)))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=10,var_off=(0x0; 0xf))');
    expect(scalarToString(taken('jgt', byte, k(10n)))).toBe('scalar(smin=umin=smin32=umin32=11,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))');
  });

  test('ADD where every sum wraps stays precise; mixed signs, SUB', () => {
    // `if r1 < -0xa goto` (imm sign-extended) then `r1 += 0x14`.
    const top = fallthrough('jlt', unknown, k(-10n));
    expect(scalarToString(top)).toBe('scalar(smin=smin32=-10,smax=smax32=-1,umin=0xfffffffffffffff6,umin32=0xfffffff6,var_off=(0xfffffffffffffff0; 0xf))');
    expect(scalarToString(alu('add', top, k(20n)))).toBe('scalar(smin=umin=smin32=umin32=10,smax=umax=smax32=umax32=19,var_off=(0x0; 0x1f))');
    expect(scalarToString(alu('add', byte, k(-128n)))).toBe('scalar(smin=smin32=-128,smax=smax32=127)');
    expect(scalarToString(alu('sub', byte, alu('and', unknown, k(0xfn))))).toBe('scalar(smin=smin32=-15,smax=smax32=255)');
  });

  test('MUL uses signed corners and the 6.18 tnum multiplication', () => {
    expect(scalarToString(alu('mul', scalarLoad(1, true), k(3n)))).toBe('scalar(smin=smin32=-384,smax=smax32=381)');
    const oddSmall = alu('or', alu('and', unknown, k(6n)), k(1n));
    expect(scalarToString(alu('mul', oddSmall, oddSmall))).toBe('scalar(smin=umin=smin32=umin32=1,smax=umax=smax32=umax32=49,var_off=(0x1; 0x3e))');
    const sixteenish = alu('or', alu('and', unknown, k(3n)), k(16n));
    const fiveish = alu('or', alu('and', unknown, k(8n)), k(5n));
    expect(scalarToString(alu('mul', sixteenish, fiveish))).toBe('scalar(smin=umin=smin32=umin32=80,smax=umax=smax32=umax32=247,var_off=(0x0; 0xff))');
    expect(scalarToString(alu('mul', fiveish, sixteenish))).toBe('scalar(smin=umin=smin32=umin32=80,smax=umax=smax32=umax32=247,var_off=(0x40; 0xbf))');
  });

  test('DIV, MOD, SDIV, SMOD are not tracked; NEG is', () => {
    for (const op of ['div', 'mod', 'sdiv', 'smod'] as const) {
      expect(scalarToString(alu(op, byte, k(3n)))).toBe('scalar()');
      expect(scalarToString(alu(op, byte, k(3n), true))).toBe('scalar()');
    }
    expect(scalarToString(alu('neg', byte, byte))).toBe('scalar(smin=smin32=-255,smax=smax32=0)');
    expect(scalarToString(alu('neg', byte, byte, true))).toBe('scalar(smin=0,smax=umax=0xffffffff,smin32=-255,smax32=0,var_off=(0x0; 0xffffffff))');
  });

  test('shifts: only constant amounts below the width are tracked', () => {
    expect(scalarToString(alu('lsh', byte, k(5n)))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=8160,var_off=(0x0; 0x1fe0))');
    expect(scalarToString(alu('lsh', byte, alu('and', unknown, k(7n))))).toBe('scalar()');
    // w2 has known low half 5 but an unknown high half: the kernel checks r2's 64-bit umax.
    const highUnknownLowFive = alu('or', alu('and', unknown, k(-0x1_0000_0000n)), k(5n));
    expect(scalarToString(highUnknownLowFive)).toBe('scalar(smin=0x8000000000000005,smax=0x7fffffff00000005,umin=smin32=umin32=5,umax=0xffffffff00000005,smax32=umax32=5,var_off=(0x5; 0xffffffff00000000))');
    expect(scalarToString(alu('lsh', byte, highUnknownLowFive, true))).toBe('scalar()');
    expect(scalarToString(alu('rsh', alu('and', unknown, k(0xfffn)), k(4n), true))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))');
    expect(scalarToString(alu('arsh', scalarLoad(2, true), k(4n)))).toBe('scalar(smin=smin32=-2048,smax=smax32=2047)');
  });

  test('loads and sign extensions', () => {
    expect(scalarToString(scalarLoad(1, false))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))');
    expect(scalarToString(scalarLoad(2, false))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=0xffff,var_off=(0x0; 0xffff))');
    expect(scalarToString(scalarLoad(4, false))).toBe('scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))');
    expect(scalarToString(scalarLoad(2, true))).toBe('scalar(smin=smin32=-32768,smax=smax32=32767)');
    expect(scalarToString(scalarLoad(4, true))).toBe('scalar(smin=0xffffffff80000000,smax=0x7fffffff)');
    expect(scalarToString(scalarMovSx(alu('and', unknown, k(0x1ffn)), 8, false))).toBe('scalar(smin=smin32=-128,smax=smax32=127)');
    expect(scalarToString(scalarMovSx(alu('or', alu('and', unknown, k(0x7fn)), k(0x100n)), 8, false))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=127,var_off=(0x0; 0x7f))');
    expect(scalarToString(scalarMovSx(alu('or', alu('and', unknown, k(0x7fn)), k(0x180n)), 8, true))).toBe('scalar(smin=umin=umin32=0xffffff80,smax=umax=0xffffffff,smin32=-128,smax32=-1,var_off=(0xffffff80; 0x7f))');
    expect(scalarToString(scalarMovSx(k(-5n), 16, true))).toBe('0xfffffffb');
    expect(scalarToString(scalarMovSx(k(128n), 8, false))).toBe('-128');
  });

  test('byte swaps are tracked bit by bit', () => {
    expect(scalarToString(scalarEndian(byte, 'be', 16))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=0xff00,var_off=(0x0; 0xff00))');
    expect(scalarToString(scalarEndian(byte, 'bswap', 16))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=0xff00,var_off=(0x0; 0xff00))');
    expect(scalarToString(scalarEndian(unknown, 'le', 16))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=0xffff,var_off=(0x0; 0xffff))');
    expect(scalarToString(scalarEndian(byte, 'le', 64))).toBe(scalarToString(byte));
    const sixteenToThirtyTwo = fallthrough('jlt', fallthrough('jgt', unknown, k(0x20n)), k(0x10n));
    expect(scalarToString(scalarEndian(sixteenToThirtyTwo, 'le', 16))).toBe('scalar(smin=umin=smin32=umin32=16,smax=umax=smax32=umax32=32,var_off=(0x0; 0x3f))');
    expect(scalarToString(scalarEndian(sixteenToThirtyTwo, 'be', 32))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=0x3f000000,var_off=(0x0; 0x3f000000))');
    expect(scalarToString(scalarEndian(sixteenToThirtyTwo, 'bswap', 64))).toBe('scalar(smin=smin32=0,smax=umax=0x3f00000000000000,smax32=umax32=0,var_off=(0x0; 0x3f00000000000000))');
    const acrossFourGiB = fallthrough('jlt', fallthrough('jgt', unknown, k(0x1_0000_0010n)), k(0x10n));
    expect(scalarToString(scalarEndian(acrossFourGiB, 'le', 32))).toBe('scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))');
  });

  test('JNE, JEQ and JSET refinement', () => {
    expect(scalarToString(taken('jne', byte, k(0xffn)))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=254,var_off=(0x0; 0xff))');
    expect(scalarToString(fallthrough('jne', byte, k(0xffn)))).toBe('255');
    expect(scalarToString(fallthrough('jeq', byte, k(0n)))).toBe('scalar(smin=umin=smin32=umin32=1,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))');
    // JEQ compares tnums: `r1 &= 0xf0; if r1 == 5` is never taken.
    expect(scalarBranch('jeq', alu('and', unknown, k(0xf0n)), k(5n), false).taken).toBeNull();
    expect(scalarToString(taken('jset', byte, k(0x10n)))).toBe('scalar(smin=umin=smin32=umin32=16,smax=umax=smax32=umax32=255,var_off=(0x10; 0xef))');
    expect(scalarToString(fallthrough('jset', byte, k(0x10n)))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=239,var_off=(0x0; 0xef))');
    expect(scalarToString(taken('jset', byte, k(0x11n)))).toBe(scalarToString(byte));
    expect(scalarToString(fallthrough('jset', byte, k(0x11n)))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=238,var_off=(0x0; 0xee))');
    // !(r1 & 1) forgets the ranges before narrowing the tnum: umax=126, not 100.
    const upTo100 = fallthrough('jgt', byte, k(100n));
    expect(scalarToString(upTo100)).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=100,var_off=(0x0; 0x7f))');
    expect(scalarToString(fallthrough('jset', upTo100, k(1n)))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=126,var_off=(0x0; 0x7e))');
    expect(scalarToString(taken('jset', upTo100, k(1n)))).toBe('scalar(smin=umin=smin32=umin32=1,smax=umax=smax32=umax32=100,var_off=(0x1; 0x7e))');
  });

  test('JMP32 refines the 32-bit bounds and then the 64-bit ones', () => {
    const wide = fallthrough('jlt', fallthrough('jgt', unknown, k(0x3_8000_0000n)), k(0x1_0000_0000n));
    expect(scalarToString(wide)).toBe('scalar(smin=umin=0x100000000,smax=umax=0x380000000,var_off=(0x0; 0x3ffffffff))');
    expect(scalarToString(fallthrough('jslt', wide, k(1n), true))).toBe('scalar(smin=umin=0x100000001,smax=umax=0x37fffffff,smin32=umin32=1,umax32=0x7fffffff,var_off=(0x0; 0x37fffffff))');
    expect(scalarToString(taken('jslt', wide, k(1n), true))).toBe('scalar(smin=umin=0x100000000,smax=umax=0x380000000,smax32=0,var_off=(0x0; 0x3ffffffff))');
  });

  test('a single value shared by range and tnum becomes a constant, even on a dead branch', () => {
    const bits = alu('and', unknown, k(0x101n));
    const atLeast2 = fallthrough('jlt', bits, k(2n));
    expect(scalarToString(atLeast2)).toBe('scalar(smin=umin=smin32=umin32=2,smax=umax=smax32=umax32=257,var_off=(0x0; 0x101))');
    expect(scalarToString(fallthrough('jgt', atLeast2, k(0x100n)))).toBe('256');
    expect(scalarToString(taken('jgt', atLeast2, k(0x100n)))).toBe('257');
    // {0x100, 0x101} can never be <= 0xff, but the kernel cannot tell and goes on with r1 = 1.
    const atLeast3 = fallthrough('jlt', bits, k(3n));
    expect(scalarToString(fallthrough('jgt', atLeast3, k(0xffn)))).toBe('1');
    expect(scalarToString(taken('jgt', atLeast3, k(0xffn)))).toBe('scalar(smin=umin=smin32=umin32=256,smax=umax=smax32=umax32=257,var_off=(0x100; 0x1))');
  });

  test('a refinement the kernel finds inconsistent keeps only the tnum', () => {
    const r1 = alu('and', unknown, k(0x7fff_ffff_ffff_0000n));
    expect(scalarToString(r1)).toBe('scalar(smin=0,smax=umax=0x7fffffffffff0000,smax32=0x7fff0000,umax32=0xffff0000,var_off=(0x0; 0x7fffffffffff0000))');
    const upTo5 = fallthrough('jsgt', r1, k(5n), true);
    expect(scalarToString(upTo5)).toBe('scalar(smin=0,smax=umax=0x7fffffffffff0000,smax32=5,umax32=0xffff0000,var_off=(0x0; 0x7fffffffffff0000))');
    // Logged as "REG INVARIANTS VIOLATION (false_reg1)" and then this state.
    expect(scalarToString(fallthrough('jsle', upTo5, k(0n), true))).toBe('scalar(var_off=(0x0; 0x7fffffff00000000))');
  });

  test('AND/OR by a constant of a [-1, 0] value forks into -1 and 0', () => {
    // `r3 s>>= 63; w1 = w3; r1 &= 63` gives R1=63, then "from 16 to 16" with R1=0 gives 0.
    const sign = alu('arsh', unknown, k(63n));
    expect(scalarToString(sign)).toBe('scalar(smin=smin32=-1,smax=smax32=0)');
    const low = alu('mov', unknown, sign, true);
    expect(scalarToString(low)).toBe('scalar(smin=0,smax=umax=0xffffffff,smin32=-1,smax32=0,var_off=(0x0; 0xffffffff))');
    expect(scalarAluOutcomes('and', low, k(63n), false).map(scalarToString)).toEqual(['63', '0']);
    expect(scalarAluOutcomes('and', low, byte, false)).toHaveLength(1);
    expect(scalarToString(scalarAlu('and', low, k(63n), false))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=63,var_off=(0x0; 0x3f))');
  });

  test('log formatting of constants and bounds', () => {
    const printed = [0x12345n, -1n, -32768n, -32769n, 32767n, 32768n, 65535n, 65536n].map((v) => scalarToString(k(v)));
    expect(printed).toEqual(['0x12345', '-1', '-32768', '0xffffffffffff7fff', '32767', '0x8000', '0xffff', '0x10000']);
    expect(scalarToString(scalarMovSx(k(-1n), 32, true))).toBe('0xffffffff');
    expect(scalarToString(unknown)).toBe('scalar()');
    for (const [bound, text] of [[60000n, '60000'], [32767n, '32767'], [32768n, '32768'], [65535n, '65535'], [65536n, '0x10000']] as const) {
      expect(scalarToString(taken('jge', unknown, k(bound)))).toBe(`scalar(umin=${text})`);
    }
    expect(scalarToString(taken('jsge', unknown, k(-0x8000n), true))).toBe('scalar(smin32=-32768)');
    expect(scalarToString(taken('jsge', unknown, k(-0x8001n), true))).toBe('scalar(smin32=0xffff7fff)');
  });

  test('queries', () => {
    expect(scalarIsConst(k(-1n))).toBe(true);
    expect(scalarConstValue(k(-1n))).toBe(U64);
    expect(scalarConstValue(byte)).toBeUndefined();
    const lowFive = alu('or', alu('and', unknown, k(-0x1_0000_0000n)), k(5n));
    expect(scalarIsConst(lowFive)).toBe(false);
    expect(scalarIsConst32(lowFive)).toBe(true);
    expect(scalarConstValue32(lowFive)).toBe(5n);
    expect(scalarEquals(scalarUnsignedRange(0n, 255n), byte)).toBe(true);
    expect(scalarEquals(scalarFromTnum({ value: 0n, mask: 0xffn }), byte)).toBe(true);
    expect(scalarContains(byte, 256n)).toBe(false);
  });
});

// ---------------------------------------------------------------------------
// Step-by-step agreement with the running kernel on random programs
// ---------------------------------------------------------------------------

const SCALAR_REGS = [1, 2, 3, 4, 5, 7, 8, 9];
const ALU_TEXT: Partial<Record<ScalarAluOp, string>> = {
  add: '+=', sub: '-=', mul: '*=', div: '/=', sdiv: 's/=', mod: '%=', smod: 's%=', or: '|=', and: '&=', xor: '^=', lsh: '<<=', rsh: '>>=', arsh: 's>>=',
};
const JMP_TEXT: Record<ScalarJmpOp, string> = { jeq: '==', jne: '!=', jgt: '>', jge: '>=', jlt: '<', jle: '<=', jsgt: 's>', jsge: 's>=', jslt: 's<', jsle: 's<=', jset: '&' };
const IMMEDIATES = [0n, 1n, 2n, 3n, 5n, 7n, 8n, 15n, 16n, 31n, 32n, 63n, 64n, 100n, 127n, 128n, 255n, 256n, 0x7fffn, 0x8000n, 0xffffn, 0x7fffffffn, -1n, -2n, -8n, -128n, -0x8000n, -0x80000000n, 0x101n, 0xf0n];

/** What the model says the kernel must print for register `reg`: on the instruction line, or in the "from N to T" line of a taken jump. */
interface Expectation {
  pc: number;
  where: 'line' | 'taken';
  reg: number;
  text: string;
  insn: string;
}

interface RandomProgram {
  text: string;
  expectations: Expectation[];
  /** pc of each conditional jump, its target, and which sides the model says are reachable. */
  jumps: { pc: number; target: number; taken: boolean; fallthrough: boolean; insn: string }[];
  /** pc of each AND/OR by a constant and whether the model forks there. */
  forks: { pc: number; fork: boolean; insn: string }[];
}

/**
 * A straight-line program over r1-r5, r7-r9 (r6 = map value): loads, ALU ops
 * in both widths, moves, byte swaps, spills with narrow fills, and jumps that
 * each leave to their own exit block, so every taken state is logged once.
 * Registers tied by a move (the kernel propagates bounds between them) are
 * kept out of jumps until reloaded.
 */
function randomProgram(seed: number, steps: number): RandomProgram {
  const rnd = seeded(seed);
  const lines: string[] = [];
  const pcs: number[] = [];
  let pc = 11;
  const expectations: Expectation[] = [];
  const jumps: { line: number; pc: number; block: number; taken: boolean; fallthrough: boolean; insn: string }[] = [];
  const forks: RandomProgram['forks'] = [];
  const state = new Map<number, ScalarRange>();
  const tied = new Set<number>();
  let ended = false;
  const emit = (text: string, slots = 1): number => {
    lines.push(text);
    pcs.push(pc);
    pc += slots;
    return pc - slots;
  };
  const expectReg = (at: number, reg: number): void => {
    expectations.push({ pc: at, where: 'line', reg, text: scalarToString(state.get(reg)!), insn: lines[lines.length - 1] });
  };
  const immediate = (): bigint => (rnd() < 0.75 ? pick(rnd, IMMEDIATES) : BigInt.asIntN(32, random32(rnd)));
  const edgeImmediate = (s: ScalarRange, is32: boolean): bigint | undefined => {
    const edge = pick(rnd, is32 ? [s.u32min, s.u32max, s.s32min, s.s32max] : [s.umin, s.umax, s.smin, s.smax]) + BigInt(Math.floor(rnd() * 3) - 1);
    const v = is32 ? BigInt.asIntN(32, edge) : BigInt.asIntN(64, edge);
    return v >= -(1n << 31n) && v < 1n << 31n ? v : undefined;
  };
  const load = (reg: number): void => {
    const size = pick(rnd, [1, 2, 4, 8] as const);
    const signed = size !== 8 && rnd() < 0.4;
    const off = size * Math.floor(rnd() * (64 / size));
    const at = emit(`r${reg} = *(${signed ? 's' : 'u'}${size * 8} *)(r6 + 0x${off.toString(16)})`);
    state.set(reg, scalarLoad(size, signed));
    tied.delete(reg);
    expectReg(at, reg);
  };
  for (const reg of SCALAR_REGS) load(reg);
  let blocks = 0;
  for (let step = 0; step < steps && !ended; step++) {
    const dst = pick(rnd, SCALAR_REGS);
    const is32 = rnd() < 0.35;
    const w = is32 ? 'w' : 'r';
    const d = state.get(dst)!;
    const kind = rnd();
    if (kind < 0.07) {
      load(dst);
    } else if (kind < 0.09) {
      const size = pick(rnd, [1, 2, 4] as const);
      const slot = pick(rnd, ['0x10', '0x18']);
      const to = pick(rnd, SCALAR_REGS);
      emit(`*(u64 *)(r10 - ${slot}) = r${dst}`);
      const at = emit(`r${to} = *(u${size * 8} *)(r10 - ${slot})`);
      state.set(to, scalarTruncate(d, size));
      tied.add(to);
      tied.add(dst);
      expectReg(at, to);
    } else if (kind < 0.12) {
      const v = rnd() < 0.5 ? immediate() : BigInt.asIntN(64, random64(rnd));
      const at = rnd() < 0.5 ? emit(`r${dst} = ${hex(u64(v))} ll`, 2) : emit(`${w}${dst} = ${hex(BigInt.asIntN(32, v))}`);
      const wide = lines[lines.length - 1].endsWith(' ll');
      state.set(dst, scalarConst(wide ? v : is32 ? BigInt.asUintN(32, v) : BigInt.asIntN(32, v)));
      tied.delete(dst);
      expectReg(at, dst);
    } else if (kind < 0.6) {
      const what = pick(rnd, ['add', 'sub', 'mul', 'div', 'sdiv', 'mod', 'smod', 'or', 'and', 'and', 'or', 'xor', 'lsh', 'rsh', 'arsh', 'neg', 'mov', 'movsx', 'end'] as const);
      if (what === 'neg') {
        const at = emit(`${w}${dst} = -${w}${dst}`);
        state.set(dst, scalarAlu('neg', d, d, is32));
        expectReg(at, dst);
      } else if (what === 'end') {
        const kindOf = pick(rnd, ['le', 'be', 'bswap'] as const);
        const bits = pick(rnd, [16, 32, 64] as const);
        const at = emit(`r${dst} = ${kindOf}${bits} r${dst}`);
        state.set(dst, scalarEndian(d, kindOf, bits));
        expectReg(at, dst);
      } else if (what === 'mov' || what === 'movsx') {
        const src = pick(rnd, SCALAR_REGS.filter((r) => r !== dst));
        const s = state.get(src)!;
        let at: number;
        if (what === 'mov') {
          at = emit(`${w}${dst} = ${w}${src}`);
          state.set(dst, scalarAlu('mov', d, s, is32));
        } else {
          const bits = is32 ? pick(rnd, [8, 16] as const) : pick(rnd, [8, 16, 32] as const);
          at = emit(`${w}${dst} = (s${bits})${w}${src}`);
          state.set(dst, scalarMovSx(s, bits, is32));
        }
        tied.add(dst);
        tied.add(src);
        expectReg(at, dst);
      } else {
        let s: ScalarRange;
        let operand: string;
        if (rnd() < 0.45) {
          const src = pick(rnd, SCALAR_REGS);
          s = state.get(src)!;
          operand = `${w}${src}`;
        } else {
          let i = immediate();
          if (what === 'lsh' || what === 'rsh' || what === 'arsh') i = rnd() < 0.3 ? pick(rnd, is32 ? [0n, 1n, 16n, 31n] : [0n, 1n, 32n, 63n]) : BigInt(Math.floor(rnd() * (is32 ? 32 : 64)));
          if ((what === 'div' || what === 'mod' || what === 'sdiv' || what === 'smod') && i === 0n) i = 3n;
          s = scalarConst(i);
          operand = hex(i);
        }
        const at = emit(`${w}${dst} ${ALU_TEXT[what]} ${operand}`);
        const outcomes = scalarAluOutcomes(what, d, s, is32);
        state.set(dst, outcomes[0]);
        if (what === 'and' || what === 'or') forks.push({ pc: at, fork: outcomes.length === 2, insn: lines[lines.length - 1] });
        expectReg(at, dst);
        // The kernel's second path re-runs the rest of the program; stop here so
        // every later log line still belongs to the first path.
        if (outcomes.length === 2) ended = true;
      }
    } else {
      const free = SCALAR_REGS.filter((r) => !tied.has(r));
      if (free.length < 2) {
        load(dst);
        continue;
      }
      const jd = pick(rnd, free);
      const op = pick(rnd, JMP_OPS);
      let js = 0;
      let s: ScalarRange;
      let operand: string;
      const sameRegister = rnd() < 0.06;
      if (sameRegister) {
        s = state.get(jd)!;
        operand = `${w}${jd}`;
      } else if (rnd() < 0.4) {
        js = pick(rnd, free.filter((r) => r !== jd));
        s = state.get(js)!;
        operand = `${w}${js}`;
      } else {
        const i = (rnd() < 0.4 ? edgeImmediate(state.get(jd)!, is32) : undefined) ?? immediate();
        s = scalarConst(i);
        operand = hex(i);
      }
      const sides = scalarBranch(op, state.get(jd)!, s, is32, sameRegister);
      const block = blocks++;
      const at = emit(`if ${w}${jd} ${JMP_TEXT[op]} ${operand} goto BLOCK${block}`);
      const insn = `${lines[lines.length - 1]} with ${scalarToString(state.get(jd)!)} vs ${scalarToString(s)}`;
      jumps.push({ line: lines.length - 1, pc: at, block, taken: sides.taken !== null, fallthrough: sides.fallthrough !== null, insn });
      if (sides.taken) {
        expectations.push({ pc: at, where: 'taken', reg: jd, text: scalarToString(sides.taken[0]), insn });
        if (js) expectations.push({ pc: at, where: 'taken', reg: js, text: scalarToString(sides.taken[1]), insn });
      }
      if (!sides.fallthrough) {
        ended = true;
        continue;
      }
      state.set(jd, sides.fallthrough[0]);
      if (js) state.set(js, sides.fallthrough[1]);
      if (sides.taken) {
        expectations.push({ pc: at, where: 'line', reg: jd, text: scalarToString(sides.fallthrough[0]), insn });
        if (js) expectations.push({ pc: at, where: 'line', reg: js, text: scalarToString(sides.fallthrough[1]), insn });
      }
    }
  }
  emit('r0 = 0x2');
  emit('exit');
  const blockPcs: number[] = [];
  for (let b = 0; b < blocks; b++) {
    blockPcs.push(emit('r0 = 0x2'));
    emit('exit');
  }
  const body = lines.map((l, i) => l.replace(/BLOCK(\d+)/, (_m, b: string) => `+0x${(blockPcs[Number(b)] - pcs[i] - 1).toString(16)}`));
  const text = [
    '// rule: random scalar program', '// type: xdp', '// maps: m:array:4:64:1', '',
    '*(u32 *)(r10 - 0x4) = 0x0', 'r2 = r10', 'r2 += -0x4', 'ld_pseudo r1, 0x1, 0x0', 'call 0x1',
    'if r0 == 0x0 goto +0x1', 'goto +0x2', 'r0 = 0x2', 'exit', 'r6 = r0', ...body, '',
  ].join('\n');
  return { text, expectations, jumps: jumps.map((j) => ({ pc: j.pc, target: blockPcs[j.block], taken: j.taken, fallthrough: j.fallthrough, insn: j.insn })), forks };
}

/** `R1=scalar(id=2,...)` -> `scalar(...)`: ids and precision marks are not the domain's business. */
function registersIn(text: string): Map<number, string> {
  const regs = new Map<number, string>();
  const tokens = text.replace(/; 0x/g, ';~0x').trim().split(/\s+/).map((t) => t.replace(/;~0x/g, '; 0x'));
  for (const token of tokens) {
    const m = token.match(/^R(\d+)(?:_w)?=(.*)$/);
    if (m) regs.set(Number(m[1]), m[2].replace(/^P/, '').replace(/id=[^,)]*,?/g, '').replace(/,\)$/, ')'));
  }
  return regs;
}

/** Differences between the kernel's log and the model for one program. */
function compareWithKernel(program: RandomProgram): { differences: string[]; compared: number } {
  const log = runInKernelSync({ ...corpusRequest(parseCorpusCase(program.text, 'random.bpf')), logLevel: 2 }).log;
  const firstLine = new Map<number, string>();
  const fromLines = new Map<string, string>();
  const visited = new Set<number>();
  let mainPath = true;
  for (const line of log.split('\n')) {
    const from = line.match(/^from (\d+) to (\d+): (.*)$/);
    if (from) {
      mainPath = false;
      const key = `${from[1]}->${from[2]}`;
      if (!fromLines.has(key)) fromLines.set(key, from[3]);
      visited.add(Number(from[2]));
      continue;
    }
    // After a logged invariant violation the state comes on a line of its own.
    const stateOnly = line.match(/^(\d+): (R\d.*)$/);
    if (stateOnly && mainPath && firstLine.get(Number(stateOnly[1])) === '') {
      firstLine.set(Number(stateOnly[1]), stateOnly[2]);
      continue;
    }
    const insn = line.match(/^(\d+): \([0-9a-f]{2}\) .*?(?:\s+;\s+(.*))?$/);
    if (insn) {
      visited.add(Number(insn[1]));
      if (mainPath && !firstLine.has(Number(insn[1]))) firstLine.set(Number(insn[1]), insn[2] ?? '');
    }
  }
  const differences: string[] = [];
  let compared = 0;
  for (const e of program.expectations) {
    const source = e.where === 'line' ? firstLine.get(e.pc) : [...fromLines.entries()].find(([key]) => key.startsWith(`${e.pc}->`))?.[1];
    if (source === undefined) {
      if (e.where === 'line') differences.push(`${e.pc}: ${e.insn}: not reached in the kernel`);
      continue;
    }
    const got = registersIn(source).get(e.reg);
    if (got === undefined) continue;
    compared++;
    if (got !== e.text) differences.push(`${e.pc}: ${e.insn} (${e.where})\n  R${e.reg} kernel ${got}\n  R${e.reg} model  ${e.text}`);
  }
  for (const j of program.jumps) {
    compared++;
    const kernelTaken = visited.has(j.target);
    const kernelFallthrough = firstLine.has(j.pc + 1);
    if (kernelTaken !== j.taken || kernelFallthrough !== j.fallthrough) {
      differences.push(`${j.pc}: ${j.insn}: kernel taken=${kernelTaken} fallthrough=${kernelFallthrough}, model taken=${j.taken} fallthrough=${j.fallthrough}`);
    }
  }
  for (const f of program.forks) {
    if (!firstLine.has(f.pc)) continue;
    compared++;
    const kernelForked = fromLines.has(`${f.pc}->${f.pc}`);
    if (kernelForked !== f.fork) differences.push(`${f.pc}: ${f.insn}: kernel fork=${kernelForked}, model fork=${f.fork}`);
  }
  return { differences, compared };
}

const kernel = kernelOracleOrSkip();
const withKernel = kernel.ok ? test : test.skip;

describe('agreement with the running kernel, step by step', () => {
  withKernel('seeded random programs: every logged scalar state equals the model', () => {
    const differences: string[] = [];
    let compared = 0;
    for (let seed = 1; seed <= 70; seed++) {
      const result = compareWithKernel(randomProgram(seed, 45));
      compared += result.compared;
      if (result.differences.length) differences.push(`seed ${seed}:\n${result.differences.slice(0, 3).join('\n')}`);
    }
    expect(differences).toEqual([]);
    expect(compared).toBeGreaterThan(2500);
  });
});
