/**
 * Single-instruction differential over ../shared/nfp-golden/lowering-catalogue.md:
 * for every case whose eBPF instruction only touches registers (ALU64/ALU32
 * incl. shifts, mul, div by constant, neg, bswap, mov, ld_imm64, conditional
 * jumps and JA), the case's NFP words run on the software NFP's fragment
 * runner from 50 seeded register states that satisfy the case's stated
 * verifier facts, and every eBPF register (both GPR banks, nfp-microcode.md
 * C.1) must come out as the reference interpreter computes it for that one
 * instruction on the same inputs.
 *
 * Jumps: the catalogue's cases are `goto +0`, so taken and not taken both land
 * on the next word. The test re-encodes (codec + ECC) every branch word whose
 * target is the fragment's end to a sentinel address outside the fragment, so
 * the exit pc tells the branch outcome; the interpreter runs the jump with
 * offset +1 over a store that marks "not taken".
 *
 * Cases touching memory (ctx, packet, stack, map values), helpers, calls and
 * exit are listed as skipped with the reason. ALU32 results whose high half
 * the verifier did not mark live (no `zext`) are compared on the low half
 * only, as the JIT is entitled to leave the high GPR alone.
 *
 * Without ../shared the suite prints a skip notice (fails under CI=true).
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import type { BpfObject, BpfProgram } from '../../src/ebpf/bpf-object.js';
import { decodeProgram } from '../../src/ebpf/decode.js';
import { createMapRuntime, runProgram } from '../../src/ebpf/interp/index.js';
import { decodeInsn, encodeInsn } from '../../src/nfp-backend/isa/codec.js';
import { withEcc } from '../../src/nfp-backend/isa/ecc.js';
import { runFragment } from '../../src/nfp-backend/sim/microengine.js';
import { goldenOrSkip } from '../support/golden-word-table.js';
import { parseCatalogue, type CatalogueCase } from '../support/lowering-catalogue.js';
import { seeded } from '../support/seeded-random.js';

const INPUTS_PER_CASE = 50;
/** runFragment's engines: the reference interpreter and the block translator. */
const ENGINES = ['interpret', 'translate'] as const;
const START_PC = 3072;
/** Where retargeted branches go: far outside any fragment. */
const SENTINEL_PC = START_PC + 2000;
const M32 = 0xffffffffn;
const M64 = 0xffffffffffffffffn;

// ---------------------------------------------------------------------------
// Which cases are register-only

interface Slot {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

function slotOf(hex16: string): Slot {
  const b = Buffer.from(hex16, 'hex');
  return { code: b[0]!, dst: b[1]! & 0xf, src: b[1]! >> 4, off: b.readInt16LE(2), imm: b.readInt32LE(4) };
}

const CLASS_LD = 0x00;
const CLASS_JMP = 0x05;
const CLASS_JMP32 = 0x06;
const CLASS_ALU = 0x04;
const CLASS_ALU64 = 0x07;
const EXIT = 0x95;

type Kind = 'alu64' | 'alu32' | 'ld_imm64' | 'jump' | 'jump32' | 'ja';

/** The kind of a covered case, or why it is skipped. */
function classify(c: CatalogueCase): { kind: Kind; slots: number } | { skip: string } {
  if (!c.ebpf.length || !c.words.length) return { skip: 'no eBPF bytes or NFP words' };
  const first = slotOf(c.ebpf[0]!);
  const cls = first.code & 7;
  const slots = first.code === 0x18 ? 2 : 1;
  const rest = c.ebpf.slice(slots);
  if (first.code === EXIT) return { skip: 'exit: a branch to the outro' };
  if (rest.length !== 1 || slotOf(rest[0]!).code !== EXIT) {
    if (cls === CLASS_JMP && (first.code & 0xf0) === 0x80) return { skip: first.src === 1 ? 'BPF-to-BPF call' : 'helper call' };
    return { skip: 'several instructions (memory, helper or call sequence)' };
  }
  if (c.words.some((w, i) => w.pc !== c.words[0]!.pc + i)) return { skip: 'words not contiguous' };
  switch (cls) {
    case CLASS_ALU64:
      return { kind: 'alu64', slots };
    case CLASS_ALU:
      return { kind: 'alu32', slots };
    case CLASS_LD:
      if (first.code === 0x18 && first.src === 0) return { kind: 'ld_imm64', slots };
      return { skip: first.code === 0x18 ? 'ld_imm64 of a map' : 'LD_ABS/LD_IND: packet memory' };
    case CLASS_JMP: {
      const op = first.code & 0xf0;
      if (op === 0x80) return { skip: first.src === 1 ? 'BPF-to-BPF call' : 'helper call' };
      if (op === 0x90) return { skip: 'exit: a branch to the outro' };
      if (op === 0x00) return { kind: 'ja', slots };
      return { kind: 'jump', slots };
    }
    case CLASS_JMP32:
      return { kind: 'jump32', slots };
    default:
      return { skip: `${['LD', 'LDX', 'ST', 'STX'][cls] ?? 'class ' + cls}: ${first.code === 0xdb || first.code === 0xc3 ? 'atomic add to a map value' : 'memory access (ctx, packet, stack or map value)'}` };
  }
}

// ---------------------------------------------------------------------------
// Inputs

const EDGES: readonly bigint[] = [
  0n,
  1n,
  2n,
  7n,
  0x1000n,
  0x7fffn,
  0xffffn,
  0x10000n,
  0x7fffffffn,
  0x80000000n,
  0xfffffffen,
  0xffffffffn,
  0x100000000n,
  0x1ffffffffn,
  0x7fffffffffffffffn,
  0x8000000000000000n,
  0xfffffffffffffff9n,
  0xfffffffffffffffdn,
  0xffffffff00000000n,
  0xffffffff80000000n,
  0xfffffffffffffffen,
  0xffffffffffffffffn,
];

function randomU64(rand: () => number): bigint {
  const hi = BigInt(Math.floor(rand() * 2 ** 32));
  const lo = BigInt(Math.floor(rand() * 2 ** 32));
  return (hi << 32n) | lo;
}

function inRange(rand: () => number, lo: bigint, hi: bigint): bigint {
  const r = rand();
  if (r < 0.1) return lo;
  if (r < 0.2) return hi;
  if (r < 0.3) {
    const edges = EDGES.filter((e) => e >= lo && e <= hi);
    if (edges.length) return edges[Math.floor(rand() * edges.length)]!;
  }
  return lo + (randomU64(rand) % (hi - lo + 1n));
}

function anyU64(rand: () => number): bigint {
  const r = rand();
  if (r < 0.3) return EDGES[Math.floor(rand() * EDGES.length)]!;
  if (r < 0.45) return BigInt(Math.floor(rand() * 256));
  if (r < 0.6) return BigInt(Math.floor(rand() * 2 ** 32));
  return randomU64(rand);
}

function fact(facts: Map<string, string> | undefined, key: string): bigint | undefined {
  const v = facts?.get(key);
  return v === undefined || v === '' ? undefined : BigInt(v);
}

/** R0..R9 for one run: random, within the stated ranges, equal/near operands for compares. */
function registerInputs(rand: () => number, c: CatalogueCase, insn: Slot, kind: Kind): bigint[] {
  const f = c.facts.get(0);
  const regs = Array.from({ length: 10 }, () => anyU64(rand));
  const usesSrcReg = (insn.code & 0x08) !== 0 && kind !== 'ld_imm64';
  const dstLo = fact(f, 'umin_dst');
  const dstHi = fact(f, 'umax_dst');
  const srcLo = fact(f, 'umin_src');
  const srcHi = fact(f, 'umax_src');
  if (dstLo !== undefined || dstHi !== undefined) regs[insn.dst] = inRange(rand, dstLo ?? 0n, dstHi ?? M64);
  if (usesSrcReg && (srcLo !== undefined || srcHi !== undefined)) regs[insn.src] = inRange(rand, srcLo ?? 0n, srcHi ?? M64);
  if (kind === 'jump' || kind === 'jump32') {
    const k = BigInt.asUintN(64, BigInt(insn.imm));
    const r = rand();
    if (usesSrcReg) {
      if (r < 0.25) regs[insn.src] = regs[insn.dst]!;
      else if (r < 0.35) regs[insn.src] = (regs[insn.dst]! + 1n) & M64;
      else if (r < 0.45 && kind === 'jump32') regs[insn.src] = (randomU64(rand) & ~M32) | (regs[insn.dst]! & M32);
    } else if (r < 0.25) regs[insn.dst] = kind === 'jump32' ? (randomU64(rand) & ~M32) | (k & M32) : k;
    else if (r < 0.35) regs[insn.dst] = (k + 1n) & M64;
    else if (r < 0.45) regs[insn.dst] = (k - 1n) & M64;
  }
  return regs;
}

// ---------------------------------------------------------------------------
// The reference: the interpreter running the instruction between a register
// setup and a readout into the packet

function encodeSlots(slots: Slot[]): Uint8Array {
  const out = new Uint8Array(slots.length * 8);
  const dv = new DataView(out.buffer);
  slots.forEach((s, i) => {
    out[i * 8] = s.code;
    out[i * 8 + 1] = ((s.src & 0xf) << 4) | (s.dst & 0xf);
    dv.setInt16(i * 8 + 2, s.off, true);
    dv.setInt32(i * 8 + 4, s.imm, true);
  });
  return out;
}

const S = (code: number, dst: number, src: number, off: number, imm: number): Slot => ({ code, dst, src, off, imm });
const ldImm64 = (dst: number, v: bigint): Slot[] => [
  S(0x18, dst, 0, 0, Number(BigInt.asIntN(32, v & M32))),
  S(0, 0, 0, 0, Number(BigInt.asIntN(32, v >> 32n))),
];
const STX_DW = 0x7b;
const LDX_DW = 0x79;
const LDX_W = 0x61;
const ST_DW = 0x7a;
const FLAG_OFF = 80;

/**
 * r1 (ctx) spilled; R0..R9 set; [taken flag = 1]; the instruction; [flag = 0
 * when it falls through]; every register and the flag written to the packet.
 */
function referenceProgram(insnSlots: Slot[], regs: bigint[], jump: boolean): Uint8Array {
  const p: Slot[] = [S(STX_DW, 10, 1, -88, 0)];
  regs.forEach((v, k) => p.push(...ldImm64(k, v)));
  p.push(S(ST_DW, 10, 0, -16, jump ? 1 : 0));
  p.push(...insnSlots.map((s, i) => (jump && i === 0 ? { ...s, off: 1 } : s)));
  if (jump) p.push(S(ST_DW, 10, 0, -16, 0));
  p.push(S(STX_DW, 10, 1, -8, 0), S(LDX_DW, 1, 10, -88, 0), S(LDX_W, 1, 1, 0, 0));
  for (let k = 0; k < 10; k++) if (k !== 1) p.push(S(STX_DW, 1, k, 8 * k, 0));
  p.push(S(LDX_DW, 2, 10, -8, 0), S(STX_DW, 1, 2, 8, 0), S(LDX_DW, 2, 10, -16, 0), S(STX_DW, 1, 2, FLAG_OFF, 0));
  p.push(S(0xb7, 0, 0, 0, 2), S(EXIT, 0, 0, 0, 0));
  return encodeSlots(p);
}

function referenceRun(insnSlots: Slot[], regs: bigint[], jump: boolean): { regs: bigint[]; taken: boolean } {
  const bytes = referenceProgram(insnSlots, regs, jump);
  const prog: BpfProgram = {
    name: 'catalogue_case',
    section: 'xdp',
    type: 'xdp',
    insns: decodeProgram(bytes, 'le'),
    bytes,
    mapRefs: [],
    functions: [],
    lineInfo: [],
    funcInfo: [],
    coreRelocations: [],
  };
  const obj: BpfObject = { endian: 'le', programs: [prog], maps: [], license: 'GPL', hasBtf: false, hasBtfExt: false, warnings: [] };
  const r = runProgram(prog, obj, createMapRuntime([]), new Uint8Array(FLAG_OFF + 8));
  const dv = new DataView(r.packet.buffer, r.packet.byteOffset, r.packet.byteLength);
  return {
    regs: Array.from({ length: 10 }, (_, k) => dv.getBigUint64(8 * k, true)),
    taken: dv.getBigUint64(FLAG_OFF, true) === 1n,
  };
}

// ---------------------------------------------------------------------------
// The NFP side

/** Re-encode every branch whose target is `from` to `to` (ECC recomputed). */
function retarget(words: readonly bigint[], from: number, to: number): { words: bigint[]; changed: number } {
  let changed = 0;
  const out = words.map((w) => {
    const insn = decodeInsn(w);
    if ((insn.format === 'br' || insn.format === 'br_bit') && insn.target === from) {
      changed++;
      return withEcc(encodeInsn({ ...insn, target: to }));
    }
    return w;
  });
  return { words: out, changed };
}

interface NfpState {
  a: number[];
  b: number[];
  lm: number[];
  lmAddr: number[];
}

function nfpInit(rand: () => number, regs: bigint[], stackBase: number, packetLen: number): NfpState {
  const a = Array.from({ length: 32 }, () => Math.floor(rand() * 2 ** 32));
  const b = Array.from({ length: 32 }, () => Math.floor(rand() * 2 ** 32));
  regs.forEach((v, k) => {
    a[2 * k] = b[2 * k] = Number(v & M32);
    a[2 * k + 1] = b[2 * k + 1] = Number(v >> 32n);
  });
  a[22] = stackBase;
  b[22] = packetLen;
  const lm = Array.from({ length: 1024 }, () => Math.floor(rand() * 2 ** 32));
  return { a, b, lm, lmAddr: [stackBase, 0, 0, 0] };
}

const pair = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
const h64 = (v: bigint): string => `0x${v.toString(16).padStart(16, '0')}`;

interface CaseResult {
  title: string;
  runs: number;
  failures: string[];
  note?: string;
}

function runCase(c: CatalogueCase, kind: Kind, slots: number): CaseResult {
  const insnSlots = c.ebpf.slice(0, slots).map(slotOf);
  const insn = insnSlots[0]!;
  const firstPc = c.words[0]!.pc;
  const basePc = START_PC + firstPc;
  const endPc = basePc + c.words.length;
  const isJump = kind === 'jump' || kind === 'jump32' || kind === 'ja';
  let words = c.words.map((w) => w.word);
  if (isJump) {
    const r = retarget(words, endPc, SENTINEL_PC);
    if (r.changed === 0) return { title: c.title, runs: 0, failures: [`no branch to the fragment end ${endPc} to observe`] };
    words = r.words;
  }
  const depth = Number(c.stackDepth.split(',')[0]);
  const f0 = c.facts.get(0);
  // ALU32 without zext_dst: the high half is dead by the verifier's word; MOV32 and END always define it.
  const op = insn.code & 0xf0;
  const highDefined = kind !== 'alu32' || f0?.has('zext') || op === 0xb0 || op === 0xd0;
  const fromFp = kind === 'alu64' && op === 0xb0 && insn.src === 10 && (insn.code & 0x08) !== 0;
  const rand = seeded(0xca7a10 + c.index * 7919);
  const failures: string[] = [];
  for (let n = 0; n < INPUTS_PER_CASE; n++) {
    const regs = registerInputs(rand, c, insn, kind);
    const stackBase = 4 * Math.floor(rand() * 896);
    const init = nfpInit(rand, regs, stackBase, 14 + Math.floor(rand() * 1501));
    let expected: bigint[];
    let taken = false;
    if (fromFp) {
      // R10 has no GPR: `rX = r10` is A22 + stack depth (C.1); the interpreter's R10 is its own address.
      expected = regs.slice();
      expected[insn.dst] = BigInt(stackBase + depth);
    } else {
      const ref = referenceRun(insnSlots, regs, isJump);
      expected = ref.regs;
      taken = ref.taken;
    }
    for (const engine of ENGINES) {
      const problems: string[] = [];
      let out: ReturnType<typeof runFragment> | undefined;
      try {
        out = runFragment(words, basePc, { a: init.a, b: init.b, lm: init.lm, lmAddr: init.lmAddr }, { maxInstructions: 1000, engine });
      } catch (e) {
        problems.push(`threw ${(e as Error).message}`);
      }
      if (out) {
        const wantExit = isJump && taken ? SENTINEL_PC : endPc;
        if (out.exitPc !== wantExit) problems.push(`exit pc ${out.exitPc}, expected ${wantExit}${isJump ? (taken ? ' (taken)' : ' (not taken)') : ''}`);
        for (let k = 0; k < 10; k++) {
          const want = expected[k]!;
          const lo = Number(want & M32);
          const hi = Number(want >> 32n);
          const checkHigh = k !== insn.dst || highDefined;
          const got = [out.a[2 * k]!, out.b[2 * k]!, out.a[2 * k + 1]!, out.b[2 * k + 1]!];
          const bad = got[0] !== lo || got[1] !== lo || (checkHigh && (got[2] !== hi || got[3] !== hi));
          if (bad) {
            problems.push(
              `R${k}: A=${h64(pair(got[0]!, got[2]!))} B=${h64(pair(got[1]!, got[3]!))}, expected ${h64(want)}${checkHigh ? '' : ' (low half only)'}`,
            );
          }
        }
      }
      if (problems.length) {
        failures.push(`${engine}: inputs ${regs.map((r, k) => `R${k}=${h64(r)}`).join(' ')}: ${problems.join('; ')}`);
      }
    }
  }
  return {
    title: c.title,
    runs: INPUTS_PER_CASE * ENGINES.length,
    failures,
    ...(highDefined ? {} : { note: 'high half not compared (no zext_dst)' }),
  };
}

// ---------------------------------------------------------------------------

const present = goldenOrSkip('nfp sim catalogue suite');

(present ? describe : describe.skip)('lowering catalogue: NFP words on the simulator vs the reference interpreter, one instruction', () => {
  const cases = present ? parseCatalogue() : [];
  const covered: CaseResult[] = [];
  const skipped: { title: string; why: string }[] = [];

  afterAll(() => {
    const reasons = new Map<string, number>();
    for (const s of skipped) reasons.set(s.why, (reasons.get(s.why) ?? 0) + 1);
    const failing = covered.filter((r) => r.failures.length);
    const lowOnly = covered.filter((r) => r.note).map((r) => r.title);
    process.stdout.write(
      `lowering catalogue: ${cases.length} cases, ${covered.length} covered (${covered.reduce((n, r) => n + r.runs, 0)} runs, ${failing.length} disagreeing), ${skipped.length} skipped:\n` +
        [...reasons].map(([why, n]) => `  ${String(n).padStart(3)} ${why}`).join('\n') +
        (lowOnly.length ? `\n low half only (ALU32 without zext_dst): ${lowOnly.join('; ')}` : '') +
        (failing.length ? `\n disagreeing:\n${failing.map((r) => `  ${r.title}: ${r.failures.length}/${r.runs}`).join('\n')}` : '') +
        '\n',
    );
  });

  test('the catalogue parses: 145 cases, each with eBPF bytes and NFP words', () => {
    expect(cases.length).toBe(145);
    for (const c of cases) {
      expect(`${c.title}: ${c.ebpf.length > 0 && c.words.length > 0}`).toBe(`${c.title}: true`);
    }
  });

  for (const c of cases) {
    const cls = classify(c);
    if ('skip' in cls) {
      // Not a test: memory, helper and call cases are covered by the whole-program
      // faithfulness suite; the afterAll summary lists them with the reason.
      skipped.push({ title: c.title, why: cls.skip });
      continue;
    }
    test(`${c.title}`, () => {
      let r: CaseResult = { title: c.title, runs: 0, failures: ['did not run'] };
      try {
        r = runCase(c, cls.kind, cls.slots);
      } catch (e) {
        r = { title: c.title, runs: 0, failures: [`threw: ${(e as Error).message}`] };
        throw e;
      } finally {
        covered.push(r);
      }
      expect(r.failures.slice(0, 3).join('\n')).toBe('');
    });
  }

  const classified = cases.length - skipped.length;
  test('coverage: every register-only case of the catalogue ran, on both engines, 50 inputs each', () => {
    expect(covered.length).toBe(classified);
    expect(covered.every((r) => r.runs === INPUTS_PER_CASE * ENGINES.length)).toBe(true);
    // ALU64/ALU32, mov, ld_imm64, jumps: 99 of the 145 cases when this was written.
    expect(classified).toBeGreaterThanOrEqual(99);
  });
});
