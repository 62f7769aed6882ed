/**
 * CPP memory commands (nfp-microcode.md A.4, B.8) on the software NFP: byte
 * order of every variant, lengths and the indirect_ref override, ctx_swap with
 * defer slots, atomic adds on EMEM map values, and bad addresses. Expected
 * values are worked out from the byte-order rules written in cpp-commands.ts.
 */
import { describe, expect, test } from '@jest/globals';
import { ctmAddress, packetNumber } from '../../../src/nfp-backend/sim/memory-map.js';
import { NfpSimulator } from '../../../src/nfp-backend/sim/nfp-simulator.js';
import type { NfpMapDef } from '../../../src/nfp-backend/sim/sim-types.js';
import { asm, ENGINES, exitWith, fragmentBoth, fragmentFault, loaded, PROLOGUE, probeEq } from './sim-test-support.js';

const BASE = 3072;
const PKT = ctmAddress(packetNumber(0), 128);
/** Packet bytes 0x01, 0x02, ... so values read back show their byte order. */
const packet = Uint8Array.from({ length: 64 }, (_, i) => i + 1);
const a = (regs: Record<number, number> = {}): number[] => Array.from({ length: 32 }, (_, i) => (regs[i] ?? (i === 2 ? PKT : 0)) >>> 0);
const init = (aRegs: Record<number, number> = {}, bRegs: Record<number, number> = {}) => ({ a: a(aRegs), b: Array.from({ length: 32 }, (_, i) => (bRegs[i] ?? 0) >>> 0) });
const run = (lines: string[], aRegs: Record<number, number> = {}, bRegs: Record<number, number> = {}) => fragmentBoth(asm(lines), BASE, init(aRegs, bRegs), { packet });
const fails = (lines: string[], aRegs: Record<number, number> = {}, bRegs: Record<number, number> = {}) => fragmentFault(asm(lines), BASE, init(aRegs, bRegs), { packet });

describe('CTM reads: byte order of each variant', () => {
  test('read32 big-endian, read32_swap / read32_le little-endian words', () => {
    let r = run(['mem[read32, $xfer_0, gprA_2, 0x0, 2], ctx_swap[sig1]']);
    expect([r.xferIn[0], r.xferIn[1], r.xferIn[2]]).toEqual([0x01020304, 0x05060708, 0]);
    r = run(['mem[read32_swap, $xfer_0, gprA_2, 0x0, 2], ctx_swap[sig1]']);
    expect([r.xferIn[0], r.xferIn[1]]).toEqual([0x04030201, 0x08070605]);
    r = run(['mem[read32_le, $xfer_0, gprA_2, 0x0, 2], ctx_swap[sig1]']);
    expect([r.xferIn[0], r.xferIn[1]]).toEqual([0x04030201, 0x08070605]);
    // Byte-granular address (the JIT reads packet fields at any offset).
    r = run(['mem[read32_swap, $xfer_4, gprA_2, 0xe, 1], ctx_swap[sig1]']);
    expect(r.xferIn[4]).toBe(0x1211100f);
  });

  test('read_le / read_swap_le move 8 bytes per length unit, lower address first', () => {
    let r = run(['mem[read_le, $xfer_0, gprA_2, 0x0, 2], ctx_swap[sig1]']);
    expect(Array.from(r.xferIn.subarray(0, 5))).toEqual([0x04030201, 0x08070605, 0x0c0b0a09, 0x100f0e0d, 0]);
    r = run(['mem[read_swap_le, $xfer_0, gprA_2, 0x0, 1], ctx_swap[sig1]']);
    expect(Array.from(r.xferIn.subarray(0, 3))).toEqual([0x01020304, 0x05060708, 0]);
  });

  test('read8 packs bytes big-endian; the unused low bytes of the last word are zero', () => {
    const r = run(['mem[read8, $xfer_0, gprA_2, 0x5, 3], ctx_swap[sig1]']);
    expect(r.xferIn[0]).toBe(0x06070800);
    // LD_ABS style: the A operand is the vector word, B a register offset.
    const s = run(['mem[read8, $xfer_0, *l$index1[2], gprB_21, 4], ctx_swap[sig1]', 'alu_shf[gprA_0, --, B, $xfer_0, >>16], gpr_wrboth'], {}, { 21: 10 });
    expect(s.a[0]).toBe(0x0b0c);
  });

  test('the context sleeps 50 cycles on a CTM read (latency model v1)', () => {
    const r = run(['mem[read32_swap, $xfer_0, gprA_2, 0x0, 1], ctx_swap[sig1]']);
    expect([r.instructions, r.cycles]).toEqual([1, 51]);
  });
});

describe('CTM writes', () => {
  test('write8_swap writes `length` bytes taken little-endian from $xfer (transfer-out)', () => {
    const r = run(['alu[$xfer_0, --, B, gprB_3]', 'alu[$xfer_1, --, B, gprB_4]', 'mem[write8_swap, $xfer_0, gprA_2, 0x6, 6], ctx_swap[sig1]'], {}, { 3: 0xaabbccdd, 4: 0x11223344 });
    expect(Array.from(r.ctm.subarray(128 + 4, 128 + 14))).toEqual([5, 6, 0xdd, 0xcc, 0xbb, 0xaa, 0x44, 0x33, 13, 14]);
  });

  test('write32_swap writes words little-endian', () => {
    const r = run(['alu[$xfer_0, --, B, gprB_3]', 'alu[$xfer_1, --, B, gprB_4]', 'mem[write32_swap, $xfer_0, gprA_2, 0x4, 2], ctx_swap[sig1]'], {}, { 3: 0x11223344, 4: 0x55667788 });
    expect(Array.from(r.ctm.subarray(128 + 4, 128 + 12))).toEqual([0x44, 0x33, 0x22, 0x11, 0x88, 0x77, 0x66, 0x55]);
  });

  test('ctx_swap with defer: slots run before the context swaps, so a write uses $xfer filled in a slot; reads land after the slots', () => {
    const w = run(['mem[write8_swap, $xfer_0, gprA_2, 0x0, 2], ctx_swap[sig1], defer[2]', 'alu[$xfer_0, --, B, gprB_3]', 'nop'], {}, { 3: 0xbeef });
    expect([w.ctm[128], w.ctm[129], w.instructions, w.cycles]).toEqual([0xef, 0xbe, 3, 53]);
    const r = run(['mem[read32_swap, $xfer_0, gprA_2, 0x0, 1], ctx_swap[sig1], defer[1]', 'alu[gprA_5, --, B, $xfer_0]', 'alu[gprA_6, --, B, $xfer_0]']);
    expect([r.a[5], r.a[6]]).toEqual([0, 0x04030201]);
  });

  test('no side channel survives a ctx_swap sleep (other contexts may run meanwhile)', () => {
    expect(fails(['mem[read32_swap, $xfer_0, gprA_2, 0x0, 1], ctx_swap[sig1], defer[1]', 'alu[--, gprA_4, OR, 0x0]', 'alu_shf[gprA_5, --, B, gprB_3, >>indirect]'], { 4: 3 })).toMatch(
      /^NC6048: NFP pc 3074: a shift by indirect amount/,
    );
    // Without the swap the slot's alu feeds the shift.
    expect(run(['mem[read32_swap, $xfer_0, gprA_2, 0x0, 1]', 'alu[--, gprA_4, OR, 0x0]', 'alu_shf[gprA_5, --, B, gprB_3, >>indirect]'], { 4: 3 }, { 3: 0x80 }).a[5]).toBe(0x10);
  });

  test('a command without ctx_swap moves its data at issue and does not sleep', () => {
    const r = run(['alu[$xfer_0, --, B, 0x77]', 'mem[write8_swap, $xfer_0, gprA_2, 0x0, 1]']);
    expect([r.ctm[128], r.cycles]).toEqual([0x77, 2]);
  });
});

describe('indirect_ref overrides (the preceding ALU result)', () => {
  test('length override: bits 12:8 = length - 1 with bit 7 set', () => {
    const r = run(['immed[--, 0x380]', 'mem[read32_swap, $xfer_0, gprA_2, 0x0, 1], ctx_swap[sig1], indirect_ref']);
    expect(Array.from(r.xferIn.subarray(0, 5))).toEqual([0x04030201, 0x08070605, 0x0c0b0a09, 0x100f0e0d, 0]);
    const w = run(['immed[$xfer_0, 0xffff]', 'immed_w1[$xfer_0, 0xffff]', 'immed[$xfer_1, 0xffff]', 'immed_w1[$xfer_1, 0xffff]', 'immed[$xfer_2, 0xffff]', 'immed[--, 0x980]', 'mem[write8_swap, $xfer_0, gprA_2, 0x0, 1], ctx_swap[sig1], indirect_ref']);
    expect(Array.from(w.ctm.subarray(128, 140))).toEqual([255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 11, 12]);
    // Without bit 7 the printed length stands.
    const n = run(['immed[--, 0x300]', 'mem[read32_swap, $xfer_0, gprA_2, 0x0, 1], ctx_swap[sig1], indirect_ref']);
    expect([n.xferIn[0], n.xferIn[1]]).toEqual([0x04030201, 0]);
  });

  test('faults: no producer (NC6048), unknown override bits or selectors (NC6053), add_imm without it (NC6041)', () => {
    expect(fails(['nop', 'mem[read32_swap, $xfer_0, gprA_2, 0x0, 1], ctx_swap[sig1], indirect_ref'])).toMatch(/^NC6048: NFP pc 3073: mem\[read32_swap\] with indirect_ref takes its override word/);
    expect(fails(['immed[--, 0x1]', 'mem[read32_swap, $xfer_0, gprA_2, 0x0, 1], ctx_swap[sig1], indirect_ref'])).toBe(
      'NC6053: NFP pc 3073: indirect_ref override word 0x00000001 is not simulated: bits 0x1 (overrides other than length and data) are set',
    );
    expect(fails(['immed[--, 0x10]', 'mem[read32_swap, $xfer_0, gprA_2, 0x0, 1], ctx_swap[sig1], indirect_ref'])).toMatch(/data override selector 2 on mem\[read32_swap\]/);
    expect(fails(['mem[add_imm, $xfer_0, gprB_1, <<8, gprA_0, 1]'])).toMatch(/^NC6041: NFP pc 3072: mem\[add_imm\] without indirect_ref is not simulated/);
  });
});

describe('addresses outside simulated memory (NC6045)', () => {
  test('CTM: past the 2 KiB buffer, another packet, no bit 31; transfer registers past 63 (NC6041)', () => {
    expect(fails(['mem[read32_swap, $xfer_0, gprA_2, gprB_3, 8], ctx_swap[sig1]'], {}, { 3: 1900 })).toBe(
      'NC6045: NFP pc 3072: mem[read32_swap] of 32 bytes at address 0x804007ec is outside simulated memory: offset 2028 + 32 is past the 2048-byte CTM packet buffer',
    );
    expect(fails(['mem[read32_swap, $xfer_0, gprA_2, 0x0, 1], ctx_swap[sig1]'], { 2: ctmAddress(packetNumber(1), 128) })).toMatch(/packet number 65 is not this context's packet \(64\)/);
    expect(fails(['mem[read32_swap, $xfer_0, gprA_2, 0x0, 1], ctx_swap[sig1]'], { 2: 0x100 })).toMatch(/without bit 31/);
    expect(fails(['mem[read32_swap, $xfer_62, gprA_2, 0x0, 4], ctx_swap[sig1]'])).toMatch(/^NC6041: .*transfer registers 62\.\.65/);
  });

  test('40-bit: a high operand above 0xff, or no map table there', () => {
    expect(fails(['mem[read32_swap, $xfer_0, gprB_3, <<8, gprA_2, 1], ctx_swap[sig1]'], {}, { 3: 0x100 })).toMatch(/high address operand 0x100 has bits above 7:0/);
    expect(fails(['mem[read32_swap, $xfer_0, gprB_3, <<8, gprA_2, 1], ctx_swap[sig1]'], { 2: 0 }, { 3: 0x80 })).toMatch(/address 0x8000000000 is outside simulated memory: no map table holds values there/);
  });
});

describe('EMEM map values: reads and atomic adds (host view through the driver swap)', () => {
  const COUNTERS: NfpMapDef = { tableId: 1, name: 'c', type: 'array', keySize: 4, valueSize: 16, maxEntries: 2, atomicWords: [0, 1, 2, 3] };
  /** R0 = table 1 slot 1 (EMEM 0x80_1000_0010), both banks. */
  const R0 = ['immed[gprA_0, 0x1000, <<16], gpr_wrboth', 'alu[gprA_0, gprA_0, +, 0x10], gpr_wrboth', 'immed[gprA_1, 0x80], gpr_wrboth'];
  const key1 = Uint8Array.of(1, 0, 0, 0);
  const host = (sim: NfpSimulator): DataView => new DataView(sim.maps.lookup(1, key1)!.buffer);

  function runProgram(body: string[], setup: (sim: NfpSimulator) => void = () => {}): NfpSimulator[] {
    return ENGINES.map((engine) => {
      const sim = new NfpSimulator(loaded([...PROLOGUE, ...R0, ...body, ...exitWith(0x11)], { maps: [COUNTERS] }), { engine });
      setup(sim);
      const r = sim.runPacket({ bytes: new Uint8Array(20) });
      expect(r).toMatchObject({ status: 'ok', action: 'pass' });
      return sim;
    });
  }

  test('add: a 32-bit big-endian word += $xfer; add64: low word at the address, carry into the next', () => {
    for (const sim of runProgram(['immed[$xfer_0, 0x5]', 'mem[add, $xfer_0, gprB_1, <<8, gprA_0, 1], ctx_swap[sig1]'], (s) => {
      const v = new Uint8Array(16);
      new DataView(v.buffer).setUint32(0, 0xfffffffe, true);
      s.maps.update(1, key1, v);
    })) {
      expect(host(sim).getUint32(0, true)).toBe(3);
      expect(host(sim).getUint32(4, true)).toBe(0);
    }
    for (const sim of runProgram(['immed[$xfer_0, 0x2]', 'immed[$xfer_1, 0x10]', 'mem[add64, $xfer_0, gprB_1, <<8, gprA_0, 5], ctx_swap[sig1]'], (s) => {
      const v = new Uint8Array(16);
      new DataView(v.buffer).setBigUint64(0, 0x1_ffffffffn, true);
      s.maps.update(1, key1, v);
    })) {
      expect(host(sim).getBigUint64(0, true)).toBe(0x1_ffffffffn + 0x10_00000002n);
    }
  });

  test('add_imm: the 16-bit operand from override bits 31:16; 0x890 = 32-bit, 0xc90 = 64-bit add', () => {
    for (const sim of runProgram(['immed[gprA_21, 0x890]', 'immed_w1[gprA_21, 0xffff]', 'mem[add_imm, $xfer_0, gprB_1, <<8, gprA_0, 1], indirect_ref'], (s) => {
      const v = new Uint8Array(16);
      new DataView(v.buffer).setUint32(0, 0xffff0002, true);
      s.maps.update(1, key1, v);
    })) {
      expect([host(sim).getUint32(0, true), host(sim).getUint32(4, true)]).toEqual([0x00000001, 0]);
    }
    for (const sim of runProgram(['immed[gprA_21, 0xc90]', 'immed_w1[gprA_21, 0x1]', 'mem[add_imm, $xfer_0, gprB_1, <<8, gprA_0, 1], indirect_ref'], (s) => {
      const v = new Uint8Array(16);
      new DataView(v.buffer).setBigUint64(0, 0xffffffffn, true);
      s.maps.update(1, key1, v);
    })) {
      expect(host(sim).getBigUint64(0, true)).toBe(0x1_00000000n);
    }
  });

  test('reads through both 40-bit modes (B high in mode 1, A high in mode 0) sleep 250 cycles', () => {
    const setup = (s: NfpSimulator): void => {
      s.maps.update(1, key1, Uint8Array.from({ length: 16 }, (_, i) => i + 1));
    };
    // Words 0..3 are atomic: the card holds them byte-swapped, so a big-endian read32 shows the host's little-endian value.
    for (const sim of runProgram(['mem[read32, $xfer_0, gprB_1, <<8, gprA_0, 1], ctx_swap[sig1]', 'alu[gprA_6, --, B, $xfer_0]', ...probeEq(6, 0x04030201)], setup)) {
      expect(sim.maps.lookup(1, key1)![0]).toBe(1);
    }
    runProgram(['mem[read32_swap, $xfer_0, gprA_1, <<8, gprB_0, 1], ctx_swap[sig1]', 'alu[gprA_6, --, B, $xfer_0]', ...probeEq(6, 0x01020304)], setup);
    const sim = new NfpSimulator(loaded([...PROLOGUE, ...R0, 'mem[read32, $xfer_0, gprB_1, <<8, gprA_0, 1], ctx_swap[sig1]', ...exitWith(0x11)], { maps: [COUNTERS] }));
    expect(sim.runPacket({ bytes: new Uint8Array(20) })).toMatchObject({ status: 'ok', stats: { stalls: { emem: 250, ctm: 0 } } });
  });

  test('an unaligned atomic add faults (NC6045)', () => {
    const sim = new NfpSimulator(loaded([...PROLOGUE, ...R0, 'alu[gprA_0, gprA_0, +, 0x2], gpr_wrboth', 'mem[add, $xfer_0, gprB_1, <<8, gprA_0, 1], ctx_swap[sig1]', ...exitWith(0x11)], { maps: [COUNTERS] }));
    const r = sim.runPacket({ bytes: new Uint8Array(20) });
    expect(r).toMatchObject({ status: 'fault', code: 'NC6045', pc: 3078 });
    expect(r.status === 'fault' && r.message).toMatch(/4-byte aligned/);
  });
});
