/**
 * The firmware model around the program (entry, done, helpers), faults of one
 * packet that leave the next packet unaffected, and the host view of maps.
 */
import { describe, expect, test } from '@jest/globals';
import { NfpSimulator } from '../../../src/nfp-backend/sim/nfp-simulator.js';
import { NfpMapTables } from '../../../src/nfp-backend/sim/map-tables.js';
import type { NfpMapDef } from '../../../src/nfp-backend/sim/sim-types.js';
import { asm, ENGINES, exitWith, loaded, PROLOGUE, probeEq, runBoth } from './sim-test-support.js';

const bytes = (n: number, f: (i: number) => number = (i) => i & 0xff): Uint8Array => Uint8Array.from({ length: n }, (_, i) => f(i));

/** Reads packet byte 0: 0 loops forever at pc 3078, anything else passes. */
const LOOP_ON_ZERO = [
  ...PROLOGUE,
  'alu[gprA_2, --, B, *l$index1[2]]',
  'mem[read32_swap, $xfer_0, gprA_2, 0x0, 1], ctx_swap[sig1]',
  'alu[--, $xfer_0, AND, 0xff]',
  'bne[.3079]',
  'br[.3078]',
  ...exitWith(0x11),
];

describe('faults of one packet; the next packet runs normally', () => {
  test('watchdog (NC6044), checked after every branch', () => {
    const { results } = runBoth(loaded(LOOP_ON_ZERO), [bytes(20, () => 0), bytes(20, () => 1)], { watchdogCycles: 1000 });
    expect(results[0]).toMatchObject({ status: 'fault', code: 'NC6044', pc: 3078 });
    const f = results[0]!;
    expect(f.status === 'fault' && f.stats.cycles).toBeGreaterThan(1000);
    expect(f.status === 'fault' && f.stats.cycles).toBeLessThan(1004);
    expect(f.status === 'fault' && f.message).toMatch(/^NFP pc 3078: watchdog: the packet has run 100\d cycles, above the limit of 1000$/);
    expect(results[1]).toMatchObject({ status: 'ok', action: 'pass' });
  });

  test('an invalid word faults when executed (NC6040), ECC included', () => {
    const words = asm([...PROLOGUE, 'br[.3076]', 'nop', ...exitWith(0x11)]);
    words[3] = words[3]! ^ (1n << 45n); // flip one ECC bit of the skipped nop
    expect(runBoth(loaded(words), [bytes(20)]).results[0]).toMatchObject({ status: 'ok' });
    words[2] = words[2]! ^ (1n << 46n);
    const r = runBoth(loaded(words), [bytes(20)]).results[0]!;
    expect(r).toMatchObject({ status: 'fault', code: 'NC6040', pc: 3074 });
    expect(r.status === 'fault' && r.message).toMatch(/instruction word 0x[0-9a-f]{16} cannot be executed: ECC 0x[0-9a-f]+ does not match the body's/);
    expect(r.status === 'fault' && r.stats.instructions).toBe(2);
  });

  test('branches outside the code store (NC6042) or to an address with no program word (NC6043)', () => {
    const outside = runBoth(loaded([...PROLOGUE, 'br[.9000]']), [bytes(20)]).results[0]!;
    expect(outside).toMatchObject({ status: 'fault', code: 'NC6042', pc: 3074, message: 'NFP pc 3074: branch to 9000, outside the code store (0..8191)' });
    const nowhere = runBoth(loaded([...PROLOGUE, 'br[.100]']), [bytes(20)]).results[0]!;
    expect(nowhere).toMatchObject({ status: 'fault', code: 'NC6043', pc: 3074 });
    expect(nowhere.status === 'fault' && nowhere.message).toBe('NFP pc 3074: control passes to 100, which holds no program word (program 3072..3074) and is no firmware entry');
    const falls = runBoth(loaded([...PROLOGUE, 'nop']), [bytes(20)]).results[0]!;
    expect(falls).toMatchObject({ status: 'fault', code: 'NC6043', pc: 3074 });
  });

  test('an unknown action byte at the done address (NC6047)', () => {
    const r = runBoth(loaded([...PROLOGUE, ...exitWith(0x33)]), [bytes(20)]).results[0]!;
    expect(r).toMatchObject({ status: 'fault', code: 'NC6047', pc: 1 });
  });

  test('a packet longer than the 14-bit vector length (NC6057)', () => {
    const r = runBoth(loaded([...PROLOGUE, ...exitWith(0x11)]), [new Uint8Array(0x4000), bytes(60)]).results;
    expect(r[0]).toMatchObject({ status: 'fault', code: 'NC6057' });
    expect(r[1]).toMatchObject({ status: 'ok' });
  });

  test('a helper call with an unknown table id (NC6055) or with LM0 written too recently (NC6046 at the helper)', () => {
    const call = (slots: string[]) => [...PROLOGUE, 'immed[gprA_0, 0x5]', 'br[.512], defer[2]', ...slots, ...exitWith(0x11)];
    const maps: NfpMapDef[] = [{ tableId: 1, name: 'm', type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 }];
    expect(runBoth(loaded(call(['nop', 'immed[gprB_0, 0xc07]']), { maps }), [bytes(20)]).results[0]).toMatchObject({ status: 'fault', code: 'NC6055', pc: 512 });
    const early = runBoth(loaded([...PROLOGUE, 'immed[gprA_0, 0x1]', 'br[.512], defer[2]', 'local_csr_wr[ActLMAddr0, gprA_22]', 'immed[gprB_0, 0xc07]', ...exitWith(0x11)], { maps }), [bytes(20)]).results[0]!;
    expect(early).toMatchObject({ status: 'fault', code: 'NC6046', pc: 512 });
  });
});

describe('entry and exit', () => {
  test('the five action bytes', () => {
    for (const [byte, action] of [[0x11, 'pass'], [0x22, 'drop'], [0x44, 'tx'], [0x82, 'abort'], [0x02, 'drop-silent']] as const) {
      expect(runBoth(loaded([...PROLOGUE, ...exitWith(byte)]), [bytes(20)]).results[0]).toMatchObject({ status: 'ok', action, actionByte: byte });
    }
  });

  test('B22 from the prologue is the packet length; the vector carries packet number and island', () => {
    const lengthIs = (n: number) => [...PROLOGUE, 'alu[gprA_3, --, B, gprB_22]', ...probeEq(3, n), 'alu[gprA_4, --, B, *l$index1], gpr_wrboth', 'alu_shf[gprA_4, --, B, gprB_4, >>16]', ...probeEq(4, 0x40 | (32 << 10)), ...exitWith(0x11)];
    for (const n of [0, 14, 60, 1514, 9000]) {
      // The probe for B22 = n; the vector's bits 31:16 = island 32 << 10 | packet number 0x40.
      expect(runBoth(loaded(lengthIs(n)), [bytes(n)]).results[0]).toMatchObject({ status: 'ok', action: 'pass' });
    }
  });

  test('packets past the 1920 CTM-resident bytes: untouched they leave whole; a store near the front keeps the tail', () => {
    const big = bytes(3000, (i) => (i * 7) & 0xff);
    expect(Array.from((runBoth(loaded([...PROLOGUE, ...exitWith(0x11)]), [big]).results[0] as { packet: Uint8Array }).packet)).toEqual(Array.from(big));
    const store = [...PROLOGUE, 'alu[gprA_2, --, B, *l$index1[2]]', 'alu[$xfer_0, --, B, 0x99]', 'mem[write8_swap, $xfer_0, gprA_2, 0x1, 1], ctx_swap[sig1]', ...exitWith(0x11)];
    const out = (runBoth(loaded(store), [big]).results[0] as { packet: Uint8Array }).packet;
    const want = big.slice();
    want[1] = 0x99;
    expect(Buffer.from(out).equals(Buffer.from(want))).toBe(true);
    // Reading past the resident part is outside simulated memory.
    const far = [...PROLOGUE, 'alu[gprA_2, --, B, *l$index1[2]]', 'immed[gprB_3, 0x780]', 'mem[read32_swap, $xfer_0, gprA_2, gprB_3, 1], ctx_swap[sig1]', ...exitWith(0x11)];
    expect(runBoth(loaded(far), [big]).results[0]).toMatchObject({ status: 'fault', code: 'NC6045' });
  });

  test('perf_event_output records: packet data (type 8), map value (4), NULL (1)', () => {
    const maps: NfpMapDef[] = [{ tableId: 1, name: 'm', type: 'array', keySize: 4, valueSize: 8, maxEntries: 2 }];
    const prog = [
      ...PROLOGUE,
      'alu[gprA_8, --, B, *l$index1[2]], gpr_wrboth',
      'alu[gprA_8, gprA_8, +, 0x2], gpr_wrboth',
      'immed[gprA_10, 0x3], gpr_wrboth',
      'br[.1280], defer[2]',
      'alu[gprA_1, --, B, 0x8]',
      'immed[gprB_0, 0xc08]',
      'immed[gprA_8, 0x1000, <<16], gpr_wrboth',
      'immed[gprA_9, 0x80], gpr_wrboth',
      'br[.1280], defer[2]',
      'alu[gprA_1, --, B, 0x4]',
      'immed[gprB_0, 0xc0d]',
      'br[.1280], defer[2]',
      'alu[gprA_1, --, B, 0x1]',
      'immed[gprB_0, 0xc10]',
      ...exitWith(0x11),
    ];
    for (const engine of ENGINES) {
      const sim = new NfpSimulator(loaded(prog, { maps }), { engine });
      sim.maps.update(1, Uint8Array.of(0, 0, 0, 0), Uint8Array.of(9, 8, 7, 6, 5, 4, 3, 2));
      const r = sim.runPacket({ bytes: bytes(20, (i) => 100 + i) });
      expect(r.status === 'ok' && r.perfEvents.map((e) => Array.from(e))).toEqual([[102, 103, 104], [9, 8, 7], []]);
      expect(r.status === 'ok' && r.stats.stalls['map-helper']).toBe(750);
    }
  });
});

describe('map tables', () => {
  const ARRAY: NfpMapDef = { tableId: 1, name: 'a', type: 'array', keySize: 4, valueSize: 12, maxEntries: 3, atomicWords: [1] };
  const HASH: NfpMapDef = { tableId: 2, name: 'h', type: 'hash', keySize: 2, valueSize: 4, maxEntries: 2 };
  const k = (i: number): Uint8Array => Uint8Array.of(i, 0, 0, 0);

  test('arrays are pre-populated with zeroed values; host updates and lookups swap only the atomic words', () => {
    const maps = new NfpMapTables([ARRAY, HASH]);
    expect(maps.entries(1).map((e) => Array.from(e.key))).toEqual([[0, 0, 0, 0], [1, 0, 0, 0], [2, 0, 0, 0]]);
    expect(Array.from(maps.lookup(1, k(2))!)).toEqual(new Array(12).fill(0));
    expect(maps.update(1, k(1), Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12))).toBe(0);
    expect(Array.from(maps.lookup(1, k(1))!)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    // Card view: word 1 (bytes 4..7) big-endian.
    const t = maps.table(1)!;
    expect(Array.from(t.values.subarray(t.stride, t.stride + 12))).toEqual([1, 2, 3, 4, 8, 7, 6, 5, 9, 10, 11, 12]);
    expect(t.stride).toBe(16);
  });

  test('update and delete return what bpf(2) would', () => {
    const maps = new NfpMapTables([ARRAY, HASH]);
    const v12 = new Uint8Array(12);
    expect(maps.update(1, k(3), v12)).toBe(-7); // index past max_entries: -E2BIG
    expect(maps.update(1, k(0), v12, 1)).toBe(-17); // BPF_NOEXIST on an array: -EEXIST
    expect(maps.update(1, k(0), v12, 3)).toBe(-22);
    expect(maps.delete(1, k(0))).toBe(-22); // array delete: -EINVAL
    const h = (i: number): Uint8Array => Uint8Array.of(i, 0);
    const v4 = Uint8Array.of(1, 2, 3, 4);
    expect(maps.update(2, h(1), v4, 2)).toBe(-2); // BPF_EXIST on a missing key: -ENOENT
    expect(maps.update(2, h(1), v4)).toBe(0);
    expect(maps.update(2, h(1), v4, 1)).toBe(-17);
    expect(maps.update(2, h(2), v4)).toBe(0);
    expect(maps.update(2, h(3), v4)).toBe(-7); // full: -E2BIG
    expect(maps.delete(2, h(1))).toBe(0);
    expect(maps.delete(2, h(1))).toBe(-2);
    expect(maps.update(2, h(3), v4)).toBe(0);
    expect(maps.entries(2).map((e) => e.key[0])).toEqual([2, 3]);
    expect(maps.lookup(2, h(1))).toBeUndefined();
  });

  test('misuse: bad definitions (NC6058), unknown tables and wrong sizes (NC6059)', () => {
    expect(() => new NfpMapTables([ARRAY, { ...ARRAY, name: 'dup' }])).toThrow(/NC6058: software NFP map dup: table id 1 is used twice/);
    expect(() => new NfpMapTables([{ ...ARRAY, keySize: 8 }])).toThrow(/array map has 4-byte keys/);
    expect(() => new NfpMapTables([{ ...ARRAY, atomicWords: [3] }])).toThrow(/atomic word 3 is outside the 12-byte value/);
    const maps = new NfpMapTables([ARRAY]);
    expect(() => maps.lookup(9, k(0))).toThrow(/NC6059: software NFP map table 9: no such table/);
    expect(() => maps.lookup(1, Uint8Array.of(1))).toThrow(/key has 1 bytes, the map's keys 4/);
    expect(() => maps.update(1, k(0), new Uint8Array(3))).toThrow(/value has 3 bytes/);
  });
});
