/**
 * Test helpers for the software NFP: assembling words from the golden text
 * syntax, small firmware-run programs, both engines side by side. (The
 * lowering catalogue's reader: test/support/lowering-catalogue.ts.)
 */
import { expect } from '@jest/globals';
import { assembleWord } from '../../../src/nfp-backend/isa/assembler.js';
import { NfpSimulator, type NfpSimulatorOptions } from '../../../src/nfp-backend/sim/nfp-simulator.js';
import { runFragment, type FragmentOptions, type FragmentResult } from '../../../src/nfp-backend/sim/microengine.js';
import { NIC_FIRMWARE_ABI, type NfpFirmwareAbi, type NfpLoadedProgram, type NfpMapDef, type NfpPacketResult, type NfpProgramType } from '../../../src/nfp-backend/sim/sim-types.js';

export const ENGINES = ['interpret', 'translate'] as const;
export type Engine = (typeof ENGINES)[number];

export function asm(lines: readonly string[]): bigint[] {
  return lines.map((l) => assembleWord(l));
}

/** The kernel prologue: B22 = packet length. */
export const PROLOGUE = ['immed[gprB_22, 0x3fff]', 'alu[gprB_22, gprB_22, AND, *l$index1]'];

/** Leave with action byte `byte` (an outro in the kernel's shape: br[done], defer[2]; A0 = 0; ld_field). */
export function exitWith(byte: number): string[] {
  return ['br[.1], defer[2]', 'alu[gprA_0, --, B, 0x0]', `ld_field[gprA_0, 1100, 0x${byte.toString(16)}, <<16]`];
}

export function loaded(
  lines: readonly string[] | readonly bigint[],
  options: { maps?: NfpMapDef[]; programType?: NfpProgramType; abi?: Partial<NfpFirmwareAbi> } = {},
): NfpLoadedProgram {
  const words = lines.length && typeof lines[0] === 'string' ? asm(lines as string[]) : (lines as bigint[]);
  return { words, programType: options.programType ?? 'xdp', maps: options.maps ?? [], abi: { ...NIC_FIRMWARE_ABI, ...options.abi } };
}

/** Run the same packets on a fresh simulator per engine; expect identical results; return the translate run's. */
export function runBoth(program: NfpLoadedProgram, packets: readonly Uint8Array[], options: NfpSimulatorOptions = {}): { results: NfpPacketResult[]; sims: NfpSimulator[] } {
  const sims = ENGINES.map((engine) => new NfpSimulator(program, { ...options, engine }));
  const runs = sims.map((sim) => packets.map((bytes) => sim.runPacket({ bytes })));
  expect(comparable(runs[0]!)).toEqual(comparable(runs[1]!));
  return { results: runs[1]!, sims };
}

export function comparable(results: readonly NfpPacketResult[]): unknown[] {
  return results.map((r) => (r.status === 'ok' ? { ...r, packet: Array.from(r.packet), perfEvents: r.perfEvents.map((e) => Array.from(e)) } : r));
}

/** runFragment on both engines; identical results required. */
export function fragmentBoth(
  words: readonly bigint[],
  basePc: number,
  init: Parameters<typeof runFragment>[2] = {},
  options: FragmentOptions = {},
): FragmentResult {
  const results = ENGINES.map((engine) => {
    try {
      return { ok: true as const, r: runFragment(words, basePc, init, { ...options, engine }) };
    } catch (e) {
      return { ok: false as const, e: e as Error };
    }
  });
  const [i, t] = results;
  if (!i!.ok || !t!.ok) {
    expect(t!.ok ? 'ok' : t!.e.message).toBe(i!.ok ? 'ok' : i!.e.message);
    throw (i as { e: Error }).e;
  }
  expect(differingFields(i!.r, t!.r)).toEqual([]);
  return t!.r;
}

/** Field names where two fragment results differ (typed arrays compared bytewise: jest's deep equality is slow on them). */
function differingFields(x: FragmentResult, y: FragmentResult): string[] {
  const out: string[] = [];
  for (const key of Object.keys(x) as (keyof FragmentResult)[]) {
    const a = x[key];
    const b = y[key];
    const same = ArrayBuffer.isView(a) && ArrayBuffer.isView(b)
      ? Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
      : JSON.stringify(a) === JSON.stringify(b);
    if (!same) out.push(String(key));
  }
  return out;
}

/** The fault a fragment raises on both engines (same message required). */
export function fragmentFault(words: readonly bigint[], basePc: number, init: Parameters<typeof runFragment>[2] = {}, options: FragmentOptions = {}): string {
  const messages = ENGINES.map((engine) => {
    try {
      runFragment(words, basePc, init, { ...options, engine });
      return 'no fault';
    } catch (e) {
      return (e as Error).message;
    }
  });
  expect(messages[1]).toBe(messages[0]);
  return messages[0]!;
}

/** Registers of eBPF R0..R10 view: r[n] = GPR 2n | GPR 2n+1 << 32, mirrored in both banks. */
export function gprsOf(regs: Partial<Record<number, bigint>>, extra: Partial<Record<number, number>> = {}): { a: number[]; b: number[] } {
  const a = new Array<number>(32).fill(0);
  for (const [k, v] of Object.entries(regs)) {
    const n = Number(k);
    a[2 * n] = Number(BigInt.asUintN(32, v!));
    a[2 * n + 1] = Number(BigInt.asUintN(32, v! >> 32n));
  }
  for (const [k, v] of Object.entries(extra)) a[Number(k)] = v! >>> 0;
  return { a, b: a.slice() };
}

export function reg64(state: { a: Uint32Array }, n: number): bigint {
  return (BigInt(state.a[2 * n + 1]!) << 32n) | BigInt(state.a[2 * n]!);
}

// ---------------------------------------------------------------------------
// Probes

/** Fall through when gpr A_n == value, else branch to 5000 (no program word there: NC6043). Uses A20/B20. */
export function probeEq(n: number, v: number): string[] {
  return [
    `immed[gprA_20, 0x${(v & 0xffff).toString(16)}], gpr_wrboth`,
    `immed_w1[gprA_20, 0x${(v >>> 16).toString(16)}], gpr_wrboth`,
    `alu[--, gprA_${n}, XOR, gprB_20]`,
    'bne[.5000]',
  ];
}
