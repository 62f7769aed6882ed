/**
 * Every case of ../shared/nfp-golden/lowering-catalogue.md (the kernel JIT's
 * words for single eBPF instructions) run on the software NFP, in both
 * engines, against the eBPF instruction's meaning computed here with BigInt
 * on seeded random inputs (within the verifier facts each case assumes).
 * Register cases run as fragments; memory, helper and call cases in small
 * programs around the catalogue's words at their own code-store addresses.
 */
import { describe, expect, test } from '@jest/globals';
import { decodeInsn, encodeInsn } from '../../../src/nfp-backend/isa/codec.js';
import { withEcc } from '../../../src/nfp-backend/isa/ecc.js';
import { notSimulatedReason } from '../../../src/nfp-backend/sim/execution-rules.js';
import { ctmAddress, packetNumber } from '../../../src/nfp-backend/sim/memory-map.js';
import { NfpSimulator } from '../../../src/nfp-backend/sim/nfp-simulator.js';
import type { NfpMapDef } from '../../../src/nfp-backend/sim/sim-types.js';
import { catalogueAvailable, parseCatalogue, type CatalogueCase } from '../../support/lowering-catalogue.js';
import { seeded } from '../../support/seeded-random.js';
import { asm, ENGINES, exitWith, fragmentBoth, gprsOf, loaded, reg64, runBoth } from './sim-test-support.js';

const present = catalogueAvailable();
if (!present) {
  if (process.env['CI'] === 'true') throw new Error('CI=true but the lowering catalogue is missing');
  console.log('lowering catalogue suite skipped: ../shared/nfp-golden not found');
}
const cases = present ? parseCatalogue() : [];
const byTitle = new Map(cases.map((c) => [c.title, c]));
const caseOf = (title: string): CatalogueCase => {
  const c = byTitle.get(title);
  if (!c) throw new Error(`no catalogue case "${title}"`);
  return c;
};

const U64 = (1n << 64n) - 1n;
const U32 = 0xffffffffn;
const lo = (x: bigint): bigint => x & U32;
const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);
const s32 = (x: bigint): bigint => BigInt.asIntN(32, x);
const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
const bswap = (x: bigint, bytes: number): bigint => {
  let out = 0n;
  for (let i = 0; i < bytes; i++) out = (out << 8n) | ((x >> BigInt(8 * i)) & 0xffn);
  return out;
};

type Rand = () => number;
const EDGE = [0n, 1n, 2n, 3n, 5n, 7n, 0x7fn, 0xffn, 0x1000n, 0xfffen, 0xffffn, 0x7fffffffn, 0x80000000n, 0x90000000n, U32, 0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n, U64 - 6n, U64 - 2n, U64];
function value(rand: Rand): bigint {
  const r = rand();
  if (r < 0.3) return EDGE[Math.floor(rand() * EDGE.length)]!;
  if (r < 0.5) return BigInt(Math.floor(rand() * 300));
  const w = (): bigint => BigInt(Math.floor(rand() * 2 ** 32));
  if (r < 0.7) return w();
  return (w() << 32n) | w();
}
const upTo = (rand: Rand, max: bigint): bigint => {
  const v = value(rand);
  return v <= max ? v : v % (max + 1n);
};
const between = (rand: Rand, min: number, max: number): bigint => BigInt(min + Math.floor(rand() * (max - min + 1)));

/** Expected: register -> full 64-bit value, or [value, 32] when only the low word is written. */
type Expect = Record<number, bigint | [bigint, 32]>;
interface RegSpec {
  gen?: (rand: Rand) => Record<number, bigint>;
  out?: (r: Record<number, bigint>) => Expect;
  /** For jumps: whether the eBPF branch is taken. */
  taken?: (r: Record<number, bigint>) => boolean;
  extra?: Record<number, number>;
}

const any23 = (rand: Rand): Record<number, bigint> => ({ 2: value(rand), 3: value(rand) });
const r2 = (f: (r: Record<number, bigint>) => bigint) => (r: Record<number, bigint>): Expect => ({ 2: u64(f(r)) });
const w2 = (f: (r: Record<number, bigint>) => bigint) => (r: Record<number, bigint>): Expect => ({ 2: lo(u64(f(r))) });
const w2low = (f: (r: Record<number, bigint>) => bigint) => (r: Record<number, bigint>): Expect => ({ 2: [lo(u64(f(r))), 32] });

const REG_CASES: Record<string, RegSpec> = {
  'r2 = r3 (ALU64 MOV X)': { out: r2((r) => r[3]!) },
  'r2 = 5 (ALU64 MOV K)': { out: r2(() => 5n) },
  'r2 = -1 (ALU64 MOV K, sign-extended)': { out: r2(() => U64) },
  'r2 = 0x12345678 (ALU64 MOV K, needs 2 immed)': { out: r2(() => 0x12345678n) },
  'r2 = 0x00ab0000 (ALU64 MOV K, shifted immed)': { out: r2(() => 0xab0000n) },
  'r2 = r10 (frame pointer, stack depth 16)': { out: r2(() => 512n + 16n), extra: { 22: 512 } },
  'r2 add= r3 (ALU64 X)': { out: r2((r) => r[2]! + r[3]!) },
  'r2 add= 7 (ALU64 K)': { out: r2((r) => r[2]! + 7n) },
  'r2 sub= r3 (ALU64 X)': { out: r2((r) => r[2]! - r[3]!) },
  'r2 sub= 7 (ALU64 K)': { out: r2((r) => r[2]! - 7n) },
  'r2 and= r3 (ALU64 X)': { out: r2((r) => r[2]! & r[3]!) },
  'r2 and= 7 (ALU64 K)': { out: r2((r) => r[2]! & 7n) },
  'r2 or= r3 (ALU64 X)': { out: r2((r) => r[2]! | r[3]!) },
  'r2 or= 7 (ALU64 K)': { out: r2((r) => r[2]! | 7n) },
  'r2 xor= r3 (ALU64 X)': { out: r2((r) => r[2]! ^ r[3]!) },
  'r2 xor= 7 (ALU64 K)': { out: r2((r) => r[2]! ^ 7n) },
  'r2 += -4 (ALU64 ADD K negative -> rewritten to SUB 4)': { out: r2((r) => r[2]! - 4n) },
  'r2 += 0x1000 (ALU64 ADD K > 255 -> via imm reg)': { out: r2((r) => r[2]! + 0x1000n) },
  'r2 &= 0 (ALU64 AND K zero)': { out: r2(() => 0n) },
  'r2 ^= -1 (ALU64 XOR K all-ones)': { out: r2((r) => ~r[2]!) },
  'r2 = -r2 (ALU64 NEG)': { out: r2((r) => -r[2]!) },
  'r2 *= r3 (ALU64 MUL X, both <=u16)': { gen: (g) => ({ 2: upTo(g, 0xffffn), 3: upTo(g, 0xffffn) }), out: r2((r) => r[2]! * r[3]!) },
  'r2 *= r3 (ALU64 MUL X, u32 operands)': { gen: (g) => ({ 2: upTo(g, U32), 3: upTo(g, U32) }), out: r2((r) => r[2]! * r[3]!) },
  'r2 *= 1000 (ALU64 MUL K, dst <=u16)': { gen: (g) => ({ 2: upTo(g, 0xffffn) }), out: r2((r) => r[2]! * 1000n) },
  'r2 /= 10 (ALU64 DIV K)': { gen: (g) => ({ 2: upTo(g, U32) }), out: r2((r) => r[2]! / 10n) },
  'r2 /= 8 (ALU64 DIV K, power of two)': { gen: (g) => ({ 2: upTo(g, U32) }), out: r2((r) => r[2]! / 8n) },
  'r2 /= 7 (ALU64 DIV K, wide magic)': { gen: (g) => ({ 2: upTo(g, U32) }), out: r2((r) => r[2]! / 7n) },
  'r2 /= r3 where r3 is known constant 0x90000000 (divisor > 2^31 -> compare)': {
    gen: (g) => ({ 2: upTo(g, U32), 3: 0x90000000n }),
    out: r2((r) => r[2]! / r[3]!),
  },
  'r2 /= r3 where r3 is known constant 6 (ALU64 DIV X)': { gen: (g) => ({ 2: upTo(g, U32), 3: 6n }), out: r2((r) => r[2]! / r[3]!) },
  'r2 <<= 5 (ALU64 LSH K)': { out: r2((r) => r[2]! << 5n) },
  'r2 >>= 5 (ALU64 RSH K)': { out: r2((r) => r[2]! >> 5n) },
  'r2 s>>= 5 (ALU64 ARSH K)': { out: r2((r) => s64(r[2]!) >> 5n) },
  'r2 <<= 32 (ALU64 LSH K)': { out: r2((r) => r[2]! << 32n) },
  'r2 >>= 32 (ALU64 RSH K)': { out: r2((r) => r[2]! >> 32n) },
  'r2 s>>= 32 (ALU64 ARSH K)': { out: r2((r) => s64(r[2]!) >> 32n) },
  'r2 <<= 40 (ALU64 LSH K)': { out: r2((r) => r[2]! << 40n) },
  'r2 >>= 40 (ALU64 RSH K)': { out: r2((r) => r[2]! >> 40n) },
  'r2 s>>= 40 (ALU64 ARSH K)': { out: r2((r) => s64(r[2]!) >> 40n) },
  'r2 <<= r3, r3 in <32 (ALU64 LSH X)': { gen: (g) => ({ 2: value(g), 3: between(g, 0, 31) }), out: r2((r) => r[2]! << r[3]!) },
  'r2 >>= r3, r3 in <32 (ALU64 RSH X)': { gen: (g) => ({ 2: value(g), 3: between(g, 0, 31) }), out: r2((r) => r[2]! >> r[3]!) },
  'r2 s>>= r3, r3 in <32 (ALU64 ARSH X)': { gen: (g) => ({ 2: value(g), 3: between(g, 0, 31) }), out: r2((r) => s64(r[2]!) >> r[3]!) },
  'r2 <<= r3, r3 in >=32 (ALU64 LSH X)': { gen: (g) => ({ 2: value(g), 3: between(g, 32, 63) }), out: r2((r) => r[2]! << r[3]!) },
  'r2 >>= r3, r3 in >=32 (ALU64 RSH X)': { gen: (g) => ({ 2: value(g), 3: between(g, 32, 63) }), out: r2((r) => r[2]! >> r[3]!) },
  'r2 s>>= r3, r3 in >=32 (ALU64 ARSH X)': { gen: (g) => ({ 2: value(g), 3: between(g, 32, 63) }), out: r2((r) => s64(r[2]!) >> r[3]!) },
  'r2 <<= r3, r3 in unknown 0..63 (ALU64 LSH X)': { gen: (g) => ({ 2: value(g), 3: between(g, 0, 63) }), out: r2((r) => r[2]! << r[3]!) },
  'r2 >>= r3, r3 in unknown 0..63 (ALU64 RSH X)': { gen: (g) => ({ 2: value(g), 3: between(g, 0, 63) }), out: r2((r) => r[2]! >> r[3]!) },
  'r2 s>>= r3, r3 in unknown 0..63 (ALU64 ARSH X)': { gen: (g) => ({ 2: value(g), 3: between(g, 0, 63) }), out: r2((r) => s64(r[2]!) >> r[3]!) },
  'w2 = w3 (ALU32 MOV X)': { out: w2((r) => r[3]!) },
  'w2 = 5 (ALU32 MOV K)': { out: w2(() => 5n) },
  'w2 += w3 (ALU32 ADD X, verifier says no zext needed)': { out: w2low((r) => r[2]! + r[3]!) },
  'w2 += w3 (ALU32 ADD X, zext_dst set by verifier)': { out: w2((r) => r[2]! + r[3]!) },
  'w2 -= 7 (ALU32 SUB K, zext)': { out: w2((r) => r[2]! - 7n) },
  'w2 *= w3 (ALU32 MUL X, u32)': { gen: (g) => ({ 2: upTo(g, U32), 3: upTo(g, U32) }), out: w2((r) => r[2]! * r[3]!) },
  'w2 /= 3 (ALU32 DIV K)': { gen: (g) => ({ 2: upTo(g, U32) }), out: w2low((r) => lo(r[2]!) / 3n) },
  'w2 <<= 3 (ALU32 LSH K, zext)': { out: w2((r) => lo(r[2]!) << 3n) },
  'w2 >>= w3 (ALU32 RSH X, unknown amount)': { gen: (g) => ({ 2: value(g), 3: between(g, 0, 31) }), out: w2low((r) => lo(r[2]!) >> r[3]!) },
  'w2 s>>= 4 (ALU32 ARSH K)': { out: w2low((r) => s32(lo(r[2]!)) >> 4n) },
  'w2 = -w2 (ALU32 NEG)': { out: w2low((r) => -r[2]!) },
  'r2 = be16 r2 (BPF_END TO_BE on LE host = byte swap)': { out: r2((r) => bswap(r[2]!, 2)) },
  'r2 = be32 r2 (BPF_END TO_BE on LE host = byte swap)': { out: r2((r) => bswap(r[2]!, 4)) },
  'r2 = be64 r2 (BPF_END TO_BE on LE host = byte swap)': { out: r2((r) => bswap(r[2]!, 8)) },
  'r2 = 0x1122334455667788 ll (LD_IMM64)': { out: r2(() => 0x1122334455667788n) },
  'r2 = 0x500000005 ll (LD_IMM64 equal halves)': { out: r2(() => 0x500000005n) },
  'if r2 jeq r3 goto +0 (JMP X)': { taken: (r) => r[2] === r[3] },
  'if r2 jeq 7 goto +0 (JMP K)': { taken: (r) => r[2] === 7n },
  'if r2 jne r3 goto +0 (JMP X)': { taken: (r) => r[2] !== r[3] },
  'if r2 jne 7 goto +0 (JMP K)': { taken: (r) => r[2] !== 7n },
  'if r2 jgt r3 goto +0 (JMP X)': { taken: (r) => r[2]! > r[3]! },
  'if r2 jgt 7 goto +0 (JMP K)': { taken: (r) => r[2]! > 7n },
  'if r2 jge r3 goto +0 (JMP X)': { taken: (r) => r[2]! >= r[3]! },
  'if r2 jge 7 goto +0 (JMP K)': { taken: (r) => r[2]! >= 7n },
  'if r2 jlt r3 goto +0 (JMP X)': { taken: (r) => r[2]! < r[3]! },
  'if r2 jlt 7 goto +0 (JMP K)': { taken: (r) => r[2]! < 7n },
  'if r2 jle r3 goto +0 (JMP X)': { taken: (r) => r[2]! <= r[3]! },
  'if r2 jle 7 goto +0 (JMP K)': { taken: (r) => r[2]! <= 7n },
  'if r2 jsgt r3 goto +0 (JMP X)': { taken: (r) => s64(r[2]!) > s64(r[3]!) },
  'if r2 jsgt 7 goto +0 (JMP K)': { taken: (r) => s64(r[2]!) > 7n },
  'if r2 jsge r3 goto +0 (JMP X)': { taken: (r) => s64(r[2]!) >= s64(r[3]!) },
  'if r2 jsge 7 goto +0 (JMP K)': { taken: (r) => s64(r[2]!) >= 7n },
  'if r2 jslt r3 goto +0 (JMP X)': { taken: (r) => s64(r[2]!) < s64(r[3]!) },
  'if r2 jslt 7 goto +0 (JMP K)': { taken: (r) => s64(r[2]!) < 7n },
  'if r2 jsle r3 goto +0 (JMP X)': { taken: (r) => s64(r[2]!) <= s64(r[3]!) },
  'if r2 jsle 7 goto +0 (JMP K)': { taken: (r) => s64(r[2]!) <= 7n },
  'if r2 jset r3 goto +0 (JMP X)': { taken: (r) => (r[2]! & r[3]!) !== 0n },
  'if r2 jset 7 goto +0 (JMP K)': { taken: (r) => (r[2]! & 7n) !== 0n },
  'if r2 != 0 goto +0 (JNE K zero)': { taken: (r) => r[2] !== 0n },
  'if r2 s>= -3 goto +0 (JSGE K negative -> ADD form)': { taken: (r) => s64(r[2]!) >= -3n },
  'if r2 == 0x1000 goto +0 (JEQ K > 255)': { taken: (r) => r[2] === 0x1000n },
  'if w2 jeq 7 goto +0 (JMP32 K)': { taken: (r) => lo(r[2]!) === 7n },
  'if w2 jeq w3 goto +0 (JMP32 X)': { taken: (r) => lo(r[2]!) === lo(r[3]!) },
  'if w2 jne 7 goto +0 (JMP32 K)': { taken: (r) => lo(r[2]!) !== 7n },
  'if w2 jne w3 goto +0 (JMP32 X)': { taken: (r) => lo(r[2]!) !== lo(r[3]!) },
  'if w2 jgt 7 goto +0 (JMP32 K)': { taken: (r) => lo(r[2]!) > 7n },
  'if w2 jgt w3 goto +0 (JMP32 X)': { taken: (r) => lo(r[2]!) > lo(r[3]!) },
  'if w2 jslt 7 goto +0 (JMP32 K)': { taken: (r) => s32(lo(r[2]!)) < 7n },
  'if w2 jslt w3 goto +0 (JMP32 X)': { taken: (r) => s32(lo(r[2]!)) < s32(lo(r[3]!)) },
  'if w2 jset 7 goto +0 (JMP32 K)': { taken: (r) => (lo(r[2]!) & 7n) !== 0n },
  'if w2 jset w3 goto +0 (JMP32 X)': { taken: (r) => (lo(r[2]!) & lo(r[3]!)) !== 0n },
  'goto +0 (JA)': { taken: () => true },
};

const TAKEN_PC = 5000;
/** A jump case's branches moved to a sentinel target, so exitPc says whether the eBPF jump was taken. */
function retarget(word: bigint): bigint {
  const insn = decodeInsn(word);
  if (insn.format !== 'br') return word;
  return withEcc(encodeInsn({ ...insn, target: TAKEN_PC }));
}

function firstPc(c: CatalogueCase): number {
  c.words.forEach((w, i) => {
    if (w.pc !== c.words[0]!.pc + i) throw new Error(`${c.title}: pcs are not contiguous`);
  });
  return 3072 + c.words[0]!.pc;
}

(present ? describe : describe.skip)('lowering catalogue on the software NFP', () => {
  test('all 145 cases are read and every word is a form the simulator executes', () => {
    expect(cases.length).toBe(145);
    const problems: string[] = [];
    for (const c of cases) {
      for (const w of c.words) {
        const why = notSimulatedReason(decodeInsn(w.word));
        if (why) problems.push(`${c.title} pc ${w.pc} ${w.text}: ${why}`);
      }
    }
    expect(problems).toEqual([]);
  });

  test('register cases: eBPF semantics on seeded random inputs, both engines', () => {
    const rand = seeded(0x5eed);
    const failures: string[] = [];
    let runs = 0;
    for (const [title, spec] of Object.entries(REG_CASES)) {
      const c = caseOf(title);
      const jump = spec.taken !== undefined;
      const words = c.words.map((w) => (jump ? retarget(w.word) : w.word));
      const base = firstPc(c);
      for (let k = 0; k < 40; k++) {
        const regs = spec.gen ? spec.gen(rand) : any23(rand);
        if (k === 0 && !spec.gen) regs[2] = 7n; // equality edges for the compares
        const { a, b } = gprsOf(regs, spec.extra ?? {});
        const out = fragmentBoth(words, base, { a, b });
        runs++;
        const where = `${title} with ${Object.entries(regs).map(([n, v]) => `r${n}=0x${v.toString(16)}`).join(' ')}`;
        if (jump) {
          const want = spec.taken!(regs) ? TAKEN_PC : base + words.length;
          if (out.exitPc !== want) failures.push(`${where}: exit ${out.exitPc}, eBPF says ${want}`);
          continue;
        }
        expect(out.exitPc).toBeGreaterThanOrEqual(base + words.length);
        for (const [n, e] of Object.entries(spec.out!(regs))) {
          const [want, width] = Array.isArray(e) ? e : [e, 64];
          const got = width === 32 ? BigInt(out.a[2 * Number(n)]!) : reg64(out, Number(n));
          if (got !== want) failures.push(`${where}: r${n} = 0x${got.toString(16)}, eBPF says 0x${want.toString(16)}`);
          const g = 2 * Number(n);
          if (out.a[g] !== out.b[g]) failures.push(`${where}: gpr ${g} banks differ`);
        }
      }
    }
    expect(failures.slice(0, 10)).toEqual([]);
    expect(runs).toBeGreaterThan(3500);
  });

  const pktAddr = ctmAddress(packetNumber(0), 128);
  const packetOf = (rand: Rand, n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
  const le = (p: Uint8Array, at: number, n: number): bigint => {
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(p[at + i]!);
    return v;
  };
  const vectorWord = (out: { lm: Uint32Array }, i: number): number => out.lm[(0xc00 >> 2) + i]!;

  test('context fields read the packet vector (XDP data/data_end, TC len/data/data_end)', () => {
    for (const title of [
      'r2 = ctx->data (XDP, LDX W ctx off 0)',
      'r2 = ctx->data_end (XDP, LDX W ctx off 4)',
      'r2 = skb->len (TC, LDX W ctx off 0)',
      'r2 = skb->data (TC, LDX W ctx off 76)',
      'r2 = skb->data_end (TC, LDX W ctx off 80)',
    ]) {
      const c = caseOf(title);
      const out = fragmentBoth(
        c.words.map((w) => w.word),
        firstPc(c),
        gprsOf({ 2: 0xdeadbeefcafen }),
        { packet: new Uint8Array(77) },
      );
      // The prologue is not part of the case: B22 is what gprsOf left (0), so data_end = data + 0.
      const want = title.includes('len') ? 0n : BigInt(pktAddr);
      expect([title, reg64(out, 2)]).toEqual([title, want]);
    }
    const c = caseOf('r2 = ctx->data_end (XDP, LDX W ctx off 4)');
    const g = gprsOf({});
    g.b[22] = 77;
    expect(reg64(fragmentBoth(c.words.map((w) => w.word), firstPc(c), g, { packet: new Uint8Array(77) }), 2)).toBe(BigInt(pktAddr + 77));
  });

  test('rx_queue_index store: vector flag bit 4 and queue byte, clamped to 64 above 255', () => {
    const c = caseOf('ctx->rx_queue_index = r2 (XDP queue select, STX W ctx off 16)');
    for (const q of [0n, 5n, 255n, 256n, 0x12345n]) {
      const out = fragmentBoth(c.words.map((w) => w.word), firstPc(c), gprsOf({ 2: q }));
      expect(vectorWord(out, 4) & 0x10).toBe(0x10);
      expect(vectorWord(out, 6) & 0xff).toBe(q <= 255n ? Number(q) : 64);
    }
  });

  test('packet loads (read32_swap + ld_field / mov from $xfer) give little-endian values', () => {
    const rand = seeded(11);
    const loads: [string, number, number, number][] = [
      ['r3 = *(u8 *)(r2 + 14) (packet load, single-insn cache)', 3, 14, 1],
      ['r3 = *(u16 *)(r2 + 14) (packet load, single-insn cache)', 3, 14, 2],
      ['r3 = *(u32 *)(r2 + 14) (packet load, single-insn cache)', 3, 14, 4],
      ['r3 = *(u64 *)(r2 + 14) (packet load, single-insn cache)', 3, 14, 8],
    ];
    for (const [title, reg, off, n] of loads) {
      const c = caseOf(title);
      for (let k = 0; k < 10; k++) {
        const p = packetOf(rand, 64);
        const out = fragmentBoth(c.words.map((w) => w.word), firstPc(c), gprsOf({ 2: BigInt(pktAddr) }), { packet: p });
        const got = n === 8 ? reg64(out, reg) : BigInt(out.a[2 * reg]!);
        expect([title, got]).toEqual([title, le(p, off, n)]);
        expect(out.cycles).toBe(out.instructions + 50); // one CTM read: the context sleeps 50 cycles
      }
    }
    const c = caseOf('r3 = *(u16 *)(r2+12); r4 = *(u32 *)(r2+26) (packet loads sharing one cache fill)');
    const p = packetOf(rand, 60);
    const out = fragmentBoth(c.words.map((w) => w.word), firstPc(c), gprsOf({ 2: BigInt(pktAddr) }), { packet: p });
    expect(BigInt(out.a[6]!)).toBe(le(p, 12, 2));
    expect(BigInt(out.a[8]!)).toBe(le(p, 26, 4));
    expect(out.exitPc).toBe(3082);
  });

  test('packet stores (write8_swap from $xfer) write little-endian bytes', () => {
    const rand = seeded(12);
    const stores: [string, number, bigint | undefined][] = [
      ['*(u8 *)(r2 + 6) = r3 (packet store STX)', 1, undefined],
      ['*(u16 *)(r2 + 6) = r3 (packet store STX)', 2, undefined],
      ['*(u32 *)(r2 + 6) = r3 (packet store STX)', 4, undefined],
      ['*(u64 *)(r2 + 6) = r3 (packet store STX)', 8, undefined],
      ['*(u32 *)(r2 + 6) = 0x11223344 (packet store ST imm)', 4, 0x11223344n],
    ];
    for (const [title, n, imm] of stores) {
      const c = caseOf(title);
      const p = packetOf(rand, 40);
      const r3 = value(rand);
      const out = fragmentBoth(c.words.map((w) => w.word), firstPc(c), gprsOf({ 2: BigInt(pktAddr), 3: r3 }), { packet: p });
      const want = p.slice();
      const v = imm ?? r3;
      for (let i = 0; i < n; i++) want[6 + i] = Number((v >> BigInt(8 * i)) & 0xffn);
      expect([title, Array.from(out.ctm.subarray(128, 168))]).toEqual([title, Array.from(want)]);
    }
    const c = caseOf('copy 8 bytes within packet (two ld/st pairs gathered into one CPP read + write8)');
    const p = packetOf(rand, 32);
    const out = fragmentBoth(c.words.map((w) => w.word), firstPc(c), gprsOf({ 2: BigInt(pktAddr) }), { packet: p });
    const want = p.slice();
    want.set(p.subarray(0, 8), 8);
    expect(Array.from(out.ctm.subarray(128, 160))).toEqual(Array.from(want));
    // The words reload r3 from $xfer_0 (the FIRST word copied), where eBPF leaves the last load
    // (bytes 4..7): a latent kernel quirk (nfp_cpp_memcpy uses reg_xfer(0) for BPF_W); r3 is dead here.
    expect(reg64(out, 3)).toBe(le(p, 0, 4));
    expect(reg64(out, 0)).toBe(2n);
  });

  test('LD_ABS / LD_IND: read8 big-endian bytes, bounds check against B22 to the abort path', () => {
    const rand = seeded(13);
    const abs = caseOf('r0 = *(u8 *)skb[23] (LD_ABS B)');
    for (const len of [23, 24, 40]) {
      const p = packetOf(rand, len);
      const g = gprsOf({});
      g.b[22] = len;
      const out = fragmentBoth(abs.words.map((w) => w.word), firstPc(abs), g, { packet: p });
      if (len < 24) expect(out.exitPc).toBe(3079);
      else expect(reg64(out, 0) & 0xffn).toBe(BigInt(p[23]!));
    }
    const ind = caseOf('r0 = *(u16 *)skb[r7 + 2] (LD_IND H)');
    for (const [len, r7] of [[40, 5n], [40, 34n], [40, 35n]] as const) {
      const p = packetOf(rand, len);
      const g = gprsOf({ 7: r7 });
      g.b[22] = len;
      const out = fragmentBoth(ind.words.map((w) => w.word), firstPc(ind), g, { packet: p });
      const at = Number(r7) + 2;
      if (at + 2 > len) expect(out.exitPc).toBe(3081);
      else expect(BigInt(out.a[0]!)).toBe(BigInt((p[at]! << 8) | p[at + 1]!));
    }
  });

  test('stack loads and stores through LM pointer 0 and the LM3 window (after local_csr_wr + 3 nops)', () => {
    const rand = seeded(14);
    const lmBytes = (lm: Uint32Array, at: number, n: number): bigint => {
      let v = 0n;
      for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt((lm[(at + i) >> 2]! >>> (8 * ((at + i) & 3))) & 0xff);
      return v;
    };
    const stack = 512; // context 1's stack, so nothing depends on address 0
    const lmInit = (): number[] => Array.from({ length: 1024 }, () => Math.floor(rand() * 2 ** 32));
    const stores: [string, number, number][] = [
      ['*(u8 *)(r10 - 8) = r3 (stack store, depth 8)', 0, 1],
      ['*(u16 *)(r10 - 8) = r3 (stack store, depth 8)', 0, 2],
      ['*(u32 *)(r10 - 8) = r3 (stack store, depth 8)', 0, 4],
      ['*(u64 *)(r10 - 8) = r3 (stack store, depth 8)', 0, 8],
    ];
    for (const [title, off, n] of stores) {
      const c = caseOf(title);
      const r3 = value(rand);
      const lm = lmInit();
      const out = fragmentBoth(c.words.map((w) => w.word), firstPc(c), { ...gprsOf({ 3: r3 }, { 22: stack }), lm, lmAddr: [stack, 0xc00, 0, 0] });
      expect([title, lmBytes(out.lm, stack + off, n)]).toEqual([title, r3 & ((1n << BigInt(8 * n)) - 1n)]);
      expect([title, lmBytes(out.lm, stack + off + n, 4)]).toEqual([title, lmBytes(Uint32Array.from(lm), stack + off + n, 4)]);
    }
    const loads: [string, number, number][] = [
      ['r3 = *(u8 *)(r10 - 8) (stack load, depth 8)', 0, 1],
      ['r3 = *(u16 *)(r10 - 8) (stack load, depth 8)', 0, 2],
      ['r3 = *(u32 *)(r10 - 8) (stack load, depth 8)', 0, 4],
      ['r3 = *(u64 *)(r10 - 8) (stack load, depth 8)', 0, 8],
      ['r3 = *(u32 *)(r10 - 6) (unaligned stack load)', 2, 4],
      ['r3 = *(u64 *)(r10 - 200) (depth 256: frame offset 56, still reachable through LM0[0..15])', 56, 8],
      ['r3 = *(u64 *)(r10 - 96) (depth 256: frame offset 160, one 32B window -> LM3, no post-inc)', 160, 8],
      ['r3 = *(u64 *)(r10 - 100) (stack load straddling 32B -> LM3 + post-inc)', 156, 8],
    ];
    for (const [title, off, n] of loads) {
      const c = caseOf(title);
      const lm = lmInit();
      const out = fragmentBoth(c.words.map((w) => w.word), firstPc(c), { ...gprsOf({}, { 22: stack }), lm, lmAddr: [stack, 0xc00, 0, 0] });
      const got = n === 8 ? reg64(out, 3) : BigInt(out.a[6]!);
      expect([title, got]).toEqual([title, lmBytes(Uint32Array.from(lm), stack + off, n)]);
    }
  });

  // ---------------------------------------------------------------------------
  // Cases that need the firmware (maps, helpers, done): a program at startPc
  // 3064 whose setup words fill 3064.. up to the case's first word, then the
  // catalogue words at their own addresses, then an exit.

  const MAP: NfpMapDef = { tableId: 1, name: 'vals', type: 'array', keySize: 4, valueSize: 16, maxEntries: 4, atomicWords: [0, 1, 2] };
  const PLAIN: NfpMapDef = { tableId: 1, name: 'plain', type: 'array', keySize: 4, valueSize: 16, maxEntries: 4 };
  /** Fall through when gpr A_n == value, else branch to 5000 (no program word there: NC6043). */
  const probeEq = (n: number, v: number): string[] => [
    `immed[gprA_20, 0x${(v & 0xffff).toString(16)}], gpr_wrboth`,
    `immed_w1[gprA_20, 0x${(v >>> 16).toString(16)}], gpr_wrboth`,
    `alu[--, gprA_${n}, XOR, gprB_20]`,
    'bne[.5000]',
  ];
  function around(c: CatalogueCase, setup: string[], after: string[] = exitWith(0x11)): bigint[] {
    const first = firstPc(c);
    const start = 3064;
    if (start + setup.length > first) throw new Error(`${c.title}: setup too long`);
    const pad = Array.from({ length: first - start - setup.length }, () => 'nop');
    return [...asm([...setup, ...pad]), ...c.words.map((w) => w.word), ...asm(after)];
  }
  const program = (words: bigint[], maps: NfpMapDef[] = [MAP]) => loaded(words, { maps, abi: { startPc: 3064 } });
  /** Slot 1 of table 1: EMEM 0x80_1000_0010 (memory-map.ts). */
  const R0_SLOT1 = ['immed[gprA_0, 0x1000, <<16], gpr_wrboth', 'alu[gprA_0, gprA_0, +, 0x10], gpr_wrboth', 'immed[gprA_1, 0x80], gpr_wrboth'];

  test('map value load through a 40-bit address (read32_swap, mode B<<8, A)', () => {
    const c = caseOf('r3 = *(u32 *)(r0 + 4) (map value load, 40-bit address)');
    for (const engine of ENGINES) {
      const sim = new NfpSimulator(program(around(c, R0_SLOT1, [...probeEq(6, 0x08070605), ...exitWith(0x11)]), [PLAIN]), { engine });
      sim.maps.update(1, Uint8Array.of(1, 0, 0, 0), Uint8Array.from({ length: 16 }, (_, i) => i + 1));
      const r = sim.runPacket({ bytes: new Uint8Array(20) });
      expect(r).toMatchObject({ status: 'ok', action: 'pass', stats: { stalls: { emem: 250 } } });
    }
  });

  test('XADD: add_imm through indirect_ref (16-bit, 32/64-bit) and add64 with $xfer filled in its defer slots', () => {
    const big = caseOf('lock *(u64 *)(r0 + 0) += r3 (XADD 64, value may exceed 16 bits)');
    const small = caseOf('lock *(u32 *)(r0 + 8) += r3 (XADD 32, value known <= 0xffff)');
    for (const engine of ENGINES) {
      for (const addend of [1n, 0xffffn, 0x10000n, 0x1_0000_0001n, U64]) {
        const sim = new NfpSimulator(program(around(big, [...R0_SLOT1, ...setR(3, addend)])), { engine });
        const before = 0xfffffffe_ffffff00n;
        const v = new Uint8Array(16);
        new DataView(v.buffer).setBigUint64(0, before, true);
        sim.maps.update(1, Uint8Array.of(1, 0, 0, 0), v);
        const r = sim.runPacket({ bytes: new Uint8Array(20) });
        expect(r.status).toBe('ok');
        const after = new DataView(sim.maps.lookup(1, Uint8Array.of(1, 0, 0, 0))!.buffer).getBigUint64(0, true);
        expect([engine, addend, after]).toEqual([engine, addend, u64(before + addend)]);
        // add_imm does not swap; add64 sleeps on EMEM.
        expect(r.stats.stalls.emem).toBe(addend <= 0xffffn ? 0 : 250);
      }
      for (const addend of [0n, 1n, 0x1234n, 0xffffn]) {
        const sim = new NfpSimulator(program(around(small, [...R0_SLOT1, ...setR(3, addend)])), { engine });
        const v = new Uint8Array(16);
        new DataView(v.buffer).setUint32(8, 0xfffffff0, true);
        sim.maps.update(1, Uint8Array.of(1, 0, 0, 0), v);
        expect(sim.runPacket({ bytes: new Uint8Array(20) }).status).toBe('ok');
        const got = new DataView(sim.maps.lookup(1, Uint8Array.of(1, 0, 0, 0))!.buffer).getUint32(8, true);
        expect(got).toBe(Number(BigInt.asUintN(32, 0xfffffff0n + addend)));
      }
    }
  });

  /** Words that put a 64-bit value in eBPF register n (both banks). */
  function setR(n: number, v: bigint): string[] {
    const h = (x: bigint): string => `0x${x.toString(16)}`;
    const l = lo(v);
    const hi = lo(v >> 32n);
    return [
      `immed[gprA_${2 * n}, ${h(l & 0xffffn)}], gpr_wrboth`,
      `immed_w1[gprA_${2 * n}, ${h(l >> 16n)}], gpr_wrboth`,
      `immed[gprA_${2 * n + 1}, ${h(hi & 0xffffn)}], gpr_wrboth`,
      `immed_w1[gprA_${2 * n + 1}, ${h(hi >> 16n)}], gpr_wrboth`,
    ];
  }

  test('helper calls: map lookup (key at LM0 and at LM0 moved to the key), update, delete', () => {
    const hash = { tableId: 1, name: 'h', type: 'hash' as const, keySize: 4, valueSize: 8, maxEntries: 2 };
    const keyAt0 = ['alu[gprA_2, --, B, 0x1], gpr_wrboth', 'immed[gprA_3, 0x0], gpr_wrboth', 'immed[gprA_12, 0x2a], gpr_wrboth', 'alu[*l$index0, --, B, gprB_12]'];
    for (const engine of ENGINES) {
      const lookup = caseOf('call bpf_map_lookup_elem, key at r10-8 (depth 8)');
      const sim = new NfpSimulator(program(around(lookup, keyAt0), [hash]), { engine });
      sim.maps.update(1, Uint8Array.of(0x2a, 0, 0, 0), new Uint8Array(8));
      const r = sim.runPacket({ bytes: new Uint8Array(20) });
      expect(r.status === 'ok' && r.stats.stalls['map-helper']).toBe(300);

      // Probe the result registers: the exit leaves A0[23:16] = 0x11 only if R0 is the slot's address.
      const probe = ['alu[--, gprA_1, XOR, 0x80]', 'bne[.5000]', ...exitWith(0x11)];
      const hit = new NfpSimulator(program(around(lookup, keyAt0, probe), [hash]), { engine });
      hit.maps.update(1, Uint8Array.of(0x2a, 0, 0, 0), new Uint8Array(8));
      expect(hit.runPacket({ bytes: new Uint8Array(20) })).toMatchObject({ status: 'ok', action: 'pass' });
      const miss = new NfpSimulator(program(around(lookup, keyAt0, probe), [hash]), { engine });
      expect(miss.runPacket({ bytes: new Uint8Array(20) })).toMatchObject({ status: 'fault', code: 'NC6043' });

      const moved = caseOf('call bpf_map_lookup_elem, key at r10-16 (depth 16, key not at LM0 start)');
      const keyAt8 = ['alu[gprA_2, --, B, 0x1], gpr_wrboth', 'alu[gprA_4, gprA_22, +, 0x8], gpr_wrboth', 'immed[gprA_12, 0x2a], gpr_wrboth', 'alu[*l$index0[2], --, B, gprB_12]'];
      const sim2 = new NfpSimulator(program(around(moved, keyAt8, probe), [hash]), { engine });
      sim2.maps.update(1, Uint8Array.of(0x2a, 0, 0, 0), new Uint8Array(8));
      expect(sim2.runPacket({ bytes: new Uint8Array(20) })).toMatchObject({ status: 'ok', action: 'pass' });

      const update = caseOf('call bpf_map_update_elem (key r10-8, value r10-16)');
      const setupU = [
        'alu[gprA_2, --, B, 0x1], gpr_wrboth',
        'alu[gprA_4, gprA_22, +, 0x8], gpr_wrboth',
        'alu[gprA_6, gprA_22, +, 0x0], gpr_wrboth',
        'immed[gprA_8, 0x0], gpr_wrboth',
        'immed[gprA_12, 0x7], gpr_wrboth',
        'alu[*l$index0[2], --, B, gprB_12]',
        'immed[gprA_12, 0xbeef], gpr_wrboth',
        'alu[*l$index0, --, B, gprB_12]',
        'alu[*l$index0[1], --, B, 0x5]',
      ];
      const sim3 = new NfpSimulator(program(around(update, setupU), [hash]), { engine });
      expect(sim3.runPacket({ bytes: new Uint8Array(20) }).status).toBe('ok');
      expect(Array.from(sim3.maps.lookup(1, Uint8Array.of(7, 0, 0, 0))!)).toEqual([0xef, 0xbe, 0, 0, 5, 0, 0, 0]);

      const del = caseOf('call bpf_map_delete_elem');
      const setupD = ['alu[gprA_2, --, B, 0x1], gpr_wrboth', 'immed[gprA_12, 0x7], gpr_wrboth', 'alu[*l$index0, --, B, gprB_12]'];
      // R0 = 0 leaves through the pass exit; -ENOENT (R0 != 0) branches to 5000 (no program word: NC6043).
      const probe0 = ['alu[--, gprA_0, OR, gprB_1]', 'bne[.5000]', ...exitWith(0x11)];
      const sim4 = new NfpSimulator(program(around(del, setupD, probe0), [hash]), { engine });
      sim4.maps.update(1, Uint8Array.of(7, 0, 0, 0), new Uint8Array(8));
      expect(sim4.runPacket({ bytes: new Uint8Array(20) })).toMatchObject({ status: 'ok' });
      expect(sim4.maps.lookup(1, Uint8Array.of(7, 0, 0, 0))).toBeUndefined();
      expect(sim4.runPacket({ bytes: new Uint8Array(20) })).toMatchObject({ status: 'fault', code: 'NC6043' });
    }
  });

  test('bpf_get_prandom_u32: local_csr_rd[PseudoRndNum] delivered through the next immed, seeded sequence', () => {
    const c = caseOf('call bpf_get_prandom_u32');
    // The model's sequence (local-csrs.ts): xorshift32 (13, 17, 5) from the seed, advanced on every read.
    const xorshift = (x: number): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x >>> 0;
    };
    for (const engine of ENGINES) {
      let state = 12345;
      const expected: number[] = [];
      for (let i = 0; i < 3; i++) expected.push((state = xorshift(state)));
      for (const v of expected) {
        // A fresh simulator per value, each advanced to the value's position by earlier packets.
        const sim = new NfpSimulator(program(around(c, [], [...probeEq(0, v), 'alu[--, gprA_1, OR, 0x0]', 'bne[.5000]', ...exitWith(0x11)]), []), { engine, prandomSeed: 12345 });
        const results = expected.map(() => sim.runPacket({ bytes: new Uint8Array(14) }));
        const hit = results.findIndex((r) => r.status === 'ok');
        expect([engine, v, hit]).toEqual([engine, v, expected.indexOf(v)]);
      }
    }
  });

  test('adjust_head: checked path (14 cycles) and constant fast path (5 cycles), as the kernel comment says', () => {
    const checked = caseOf('call bpf_xdp_adjust_head (generic, checked)');
    const fast = caseOf('call bpf_xdp_adjust_head (single constant delta, optimized)');
    const probe = ['alu[--, gprA_0, OR, gprB_1]', 'bne[.5000]', ...exitWith(0x11)];
    for (const engine of ENGINES) {
      for (const [delta, ok] of [[14, true], [-84, true], [-85, false], [120, true], [121, false], [40, true], [0, true]] as const) {
        const sim = new NfpSimulator(program(around(checked, [...PRO, ...setR(2, BigInt(delta))], probe), []), { engine });
        const bytes = Uint8Array.from({ length: 134 }, (_, i) => i);
        const r = sim.runPacket({ bytes });
        if (!ok) {
          expect([delta, r.status === 'fault' && r.code]).toEqual([delta, 'NC6043']);
          continue;
        }
        expect([delta, r.status]).toEqual([delta, 'ok']);
        if (r.status !== 'ok') continue;
        expect(r.packet.length).toBe(134 - delta);
        if (delta > 0) expect(Array.from(r.packet.subarray(0, 3))).toEqual([delta, delta + 1, delta + 2]);
      }
      const sim = new NfpSimulator(program(around(fast, [...PRO, ...setR(2, 14n)]), []), { engine });
      const r = sim.runPacket({ bytes: Uint8Array.from({ length: 60 }, (_, i) => i) });
      expect(r.status === 'ok' && Array.from(r.packet.subarray(0, 2))).toEqual([14, 15]);
    }
    // Cycle counts of the two sequences alone: 14 issued words (taken br, defer 2, no shadow) vs 5.
    const g = gprsOf({ 2: 14n });
    g.b[22] = 100;
    const lm = new Array(1024).fill(0);
    lm[0xc00 >> 2] = 100;
    lm[(0xc00 >> 2) + 2] = ctmAddress(packetNumber(0), 128);
    const a = fragmentBoth(checked.words.map((w) => w.word), firstPc(checked), { ...g, lm });
    expect([a.instructions, a.cycles, a.exitPc]).toEqual([14, 14, 3090]);
    const b = fragmentBoth(fast.words.map((w) => w.word), firstPc(fast), { ...g, lm });
    expect([b.instructions, b.cycles]).toEqual([5, 5]);
  });

  /** The kernel prologue, so B22 and the vector agree as they do in a real program. */
  const PRO = ['immed[gprB_22, 0x3fff]', 'alu[gprB_22, gprB_22, AND, *l$index1]'];

  test('adjust_tail shrinks the packet; growing is refused with -EINVAL', () => {
    const c = caseOf('call bpf_xdp_adjust_tail');
    const probe = ['alu[--, gprA_0, OR, gprB_1]', 'bne[.5000]', ...exitWith(0x11)];
    for (const engine of ENGINES) {
      for (const [delta, ok] of [[-10, true], [-46, true], [-47, false], [1, false]] as const) {
        const sim = new NfpSimulator(program(around(c, [...PRO, ...setR(2, BigInt(delta))], probe), []), { engine });
        const r = sim.runPacket({ bytes: Uint8Array.from({ length: 60 }, (_, i) => i) });
        if (ok) expect(r.status === 'ok' && r.packet.length).toBe(60 + delta);
        else expect(r).toMatchObject({ status: 'fault', code: 'NC6043' });
      }
    }
  });

  test('perf_event_output with stack data is captured', () => {
    const c = caseOf('call bpf_perf_event_output (data ptr on stack)');
    const setup = ['alu[gprA_8, gprA_22, +, 0x4], gpr_wrboth', 'immed[gprA_10, 0x3], gpr_wrboth', 'immed[gprA_12, 0x2211], gpr_wrboth', 'alu[*l$index0[1], --, B, gprB_12]'];
    const { results } = runBoth(program(around(c, setup), []), [new Uint8Array(14)]);
    expect(results[0]).toMatchObject({ status: 'ok' });
    expect(results[0]!.status === 'ok' && results[0]!.perfEvents.map((e) => Array.from(e))).toEqual([[0x11, 0x22, 0]]);
  });

  test('exit, and BPF-to-BPF calls (with and without the R6-R9 save trampolines) return 1 -> XDP_DROP', () => {
    const exit = caseOf('exit (main program)');
    expect(fragmentBoth(exit.words.map((w) => w.word), firstPc(exit)).exitPc).toBe(3078);
    for (const title of [
      'bpf-to-bpf call, callee does not touch r6-r9 (main depth 8, callee depth 8)',
      'bpf-to-bpf call, callee writes r6 (register save/restore trampolines)',
    ]) {
      const c = caseOf(title);
      const words = [...asm(PRO), ...c.words.map((w) => w.word)];
      const { results } = runBoth(loaded(words), [new Uint8Array(60)]);
      expect([title, results[0]]).toMatchObject([title, { status: 'ok', action: 'drop', actionByte: 0x22 }]);
    }
  });
});
