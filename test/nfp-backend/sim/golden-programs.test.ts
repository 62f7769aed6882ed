/**
 * The six kernel-JIT golden programs (../shared/nfp-golden) on the software
 * NFP: verdicts from the programs' C sources (nfp-golden/README.md) computed
 * here directly, the xdp_count map in host view, both engines identical
 * (results and stats), and the 4-context batch against single-packet runs.
 */
import { describe, expect, test } from '@jest/globals';
import { NfpSimulator } from '../../../src/nfp-backend/sim/nfp-simulator.js';
import type { NfpAction, NfpPacketResult } from '../../../src/nfp-backend/sim/sim-types.js';
import { GOLDEN_PROGRAM_NAMES, goldenOrSkip, type GoldenProgramName } from '../../support/golden-word-table.js';
import { loadGoldenProgram, packetSet } from '../../support/nfp-golden-programs.js';
import { seeded } from '../../support/seeded-random.js';
import { comparable, ENGINES, runBoth } from './sim-test-support.js';

const present = goldenOrSkip('nfp sim golden programs suite');
const SEED = 4242;

/** Extra frames aimed at xdp_udp53's and xdp_alu's branches. */
function craftedPackets(): Uint8Array[] {
  const rand = seeded(77);
  const out: Uint8Array[] = [];
  const frame = (len: number, f: (p: Uint8Array) => void): void => {
    const p = Uint8Array.from({ length: len }, () => Math.floor(rand() * 256));
    f(p);
    out.push(p);
  };
  for (const len of [14, 15, 16, 41, 42, 43, 60, 128]) {
    for (const [et, proto, ihl, dport] of [[0x0800, 17, 0x45, 53], [0x0800, 17, 0x45, 54], [0x0800, 6, 0x45, 53], [0x0800, 17, 0x46, 53], [0x86dd, 17, 0x45, 53], [0x0800, 17, 0x95, 53]]) {
      frame(len, (p) => {
        if (len > 13) {
          p[12] = et! >> 8;
          p[13] = et! & 0xff;
        }
        if (len > 14) p[14] = ihl!;
        if (len > 23) p[23] = proto!;
        if (len > 37) {
          p[36] = dport! >> 8;
          p[37] = dport! & 0xff;
        }
      });
    }
  }
  return out;
}

function udp53Verdict(p: Uint8Array): NfpAction {
  if (p.length < 42) return 'pass';
  if (p[12] !== 0x08 || p[13] !== 0x00) return 'pass';
  if (p[23] !== 17 || (p[14]! & 0xf) !== 5) return 'pass';
  return p[36] === 0 && p[37] === 53 ? 'drop' : 'pass';
}

/** xdp_alu.c with BigInt: u64 loads little-endian, u32 arithmetic where the C has __u32. */
function aluVerdict(p: Uint8Array): NfpAction {
  if (p.length < 16) return 'abort';
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const a = dv.getBigUint64(0, true);
  const b = dv.getBigUint64(8, true);
  const U64 = (1n << 64n) - 1n;
  const U32 = 0xffffffffn;
  let r = ((a << 13n) ^ (b >> 7n)) & U64;
  const m = ((a & U32) * 1000n) & U32;
  const q = (b & U32) / 3n;
  const a32 = a & U32;
  const ntohl = ((a32 & 0xffn) << 24n) | ((a32 & 0xff00n) << 8n) | ((a32 >> 8n) & 0xff00n) | (a32 >> 24n);
  r = (r + ((m + q + ntohl) & U32)) & U64;
  return r & 1n ? 'drop' : 'pass';
}

const expectedAction: Record<GoldenProgramName, (p: Uint8Array) => NfpAction> = {
  xdp_drop: () => 'drop',
  xdp_pass: () => 'pass',
  tc_shot: () => 'drop',
  xdp_udp53: udp53Verdict,
  xdp_alu: aluVerdict,
  xdp_count: () => 'pass',
};

const packetsOf = (name: GoldenProgramName): Uint8Array[] => [...packetSet(name, SEED), ...craftedPackets()];
const actionOf = (r: NfpPacketResult): string => (r.status === 'ok' ? r.action : `${r.code} ${r.message}`);

(present ? describe : describe.skip)('golden programs on the software NFP', () => {
  for (const name of GOLDEN_PROGRAM_NAMES) {
    test(`${name}: verdicts as its C source defines, packets unchanged, both engines identical`, () => {
      const gp = loadGoldenProgram(name);
      const packets = packetsOf(name);
      const { results } = runBoth(gp.loaded, packets);
      const wrong = packets
        .map((p, i) => ({ i, got: actionOf(results[i]!), want: expectedAction[name](p) }))
        .filter(({ got, want }) => got !== want);
      expect(wrong.slice(0, 5)).toEqual([]);
      results.forEach((r, i) => {
        expect(r.status === 'ok' && Buffer.from(r.packet).equals(Buffer.from(packets[i]!))).toBe(true);
      });
      // Every branch is reached.
      const seen = new Set(results.map(actionOf));
      const want = { xdp_drop: ['drop'], xdp_pass: ['pass'], tc_shot: ['drop'], xdp_udp53: ['drop', 'pass'], xdp_alu: ['abort', 'drop', 'pass'], xdp_count: ['pass'] }[name];
      expect([...seen].sort()).toEqual(want);
    });
  }

  test('xdp_count adds one to array key 1 per packet (host view: u64 little-endian after the driver swap)', () => {
    const gp = loadGoldenProgram('xdp_count');
    const packets = packetsOf('xdp_count');
    for (const engine of ENGINES) {
      const sim = new NfpSimulator(gp.loaded, { engine });
      packets.forEach((bytes, i) => {
        sim.runPacket({ bytes });
        if (i === 0 || i === packets.length - 1) {
          const v = sim.maps.lookup(1, Uint8Array.of(1, 0, 0, 0))!;
          expect(new DataView(v.buffer).getBigUint64(0, true)).toBe(BigInt(i + 1));
        }
      });
      const others = sim.maps.entries(1).filter((e) => e.key[0] !== 1);
      expect(others.every((e) => e.value.every((b) => b === 0))).toBe(true);
    }
  });

  test('cycle counts by hand: xdp_drop 15 insns / 17 cycles, tc_shot 20 / 22, xdp_count 32 / 184 (array lookup 150)', () => {
    const stats = (name: GoldenProgramName) => new NfpSimulator(loadGoldenProgram(name).loaded).runPacket({ bytes: new Uint8Array(60) });
    // xdp_drop: prologue 2, r0 = 1 (2 immed), br to the outro (1 + shadow 2), outro 10 with br[.1] defer[2] (no shadow).
    expect(stats('xdp_drop')).toMatchObject({ stats: { instructions: 15, cycles: 17 } });
    expect(stats('tc_shot')).toMatchObject({ stats: { instructions: 20, cycles: 22 } });
    // xdp_count: 32 issued, the helper sleeps 150 (array), one taken br with defer 0 costs 2.
    expect(stats('xdp_count')).toMatchObject({ stats: { instructions: 32, cycles: 184, stalls: { 'map-helper': 150, ctm: 0, emem: 0, imem: 0 } } });
  });

  test('runBatch on 4 contexts: the same per-packet results and stats as runPacket, in input order, both engines', () => {
    for (const name of GOLDEN_PROGRAM_NAMES) {
      const gp = loadGoldenProgram(name);
      const inputs = packetsOf(name).map((bytes) => ({ bytes }));
      const single = new NfpSimulator(gp.loaded).runPacket.bind(new NfpSimulator(gp.loaded));
      const alone = inputs.map((p) => single(p));
      const batches = ENGINES.map((engine) => new NfpSimulator(gp.loaded, { engine }).runBatch(inputs, { contexts: 4 }));
      expect(comparable(batches[0]!.results)).toEqual(comparable(alone));
      expect(comparable(batches[1]!.results)).toEqual(comparable(alone));
      expect({ ...batches[1]!, results: [] }).toEqual({ ...batches[0]!, results: [] });
      const b = batches[1]!;
      expect(b.meCycles).toBe(b.busyCycles + b.idleCycles);
      const sumCycles = alone.reduce((s, r) => s + r.stats.cycles, 0);
      const sumStalls = alone.reduce((s, r) => s + Object.values(r.stats.stalls).reduce((x, y) => x + y, 0), 0);
      expect(b.busyCycles).toBe(sumCycles - sumStalls);
      if (sumStalls === 0) expect(b.meCycles).toBe(sumCycles);
      else expect(b.meCycles).toBeLessThan(sumCycles);
    }
  });

  test('one context cannot overlap: ME cycles = the packets cycles, idle = their stalls', () => {
    const gp = loadGoldenProgram('xdp_udp53');
    const inputs = packetsOf('xdp_udp53').map((bytes) => ({ bytes }));
    const b = new NfpSimulator(gp.loaded).runBatch(inputs, { contexts: 1 });
    const sum = b.results.reduce((s, r) => s + r.stats.cycles, 0);
    expect(b.meCycles).toBe(sum);
    expect(b.idleCycles).toBe(b.results.reduce((s, r) => s + r.stats.stalls.ctm, 0));
    const four = new NfpSimulator(gp.loaded).runBatch(inputs, { contexts: 4 });
    expect(four.meCycles).toBeLessThan(b.meCycles);
    expect(four.idleCycles).toBeLessThan(b.idleCycles);
  });

  test('the throughput model: packets / ME cycles x 800 MHz x 50 MEs beside 2 x 14.88 Mpps, with its disclaimer', () => {
    const gp = loadGoldenProgram('xdp_count');
    const inputs = packetsOf('xdp_count').map((bytes) => ({ bytes }));
    const b = new NfpSimulator(gp.loaded).runBatch(inputs, { contexts: 4 });
    const t = b.throughput;
    expect(t.packets).toBe(inputs.length);
    expect(t.packetsPerSecond).toBeCloseTo((inputs.length / b.meCycles) * 800e6 * 50, 3);
    expect(t.lineRatePps).toBeCloseTo(29.76e6, 0);
    expect(t.lineRateFraction).toBeCloseTo(t.packetsPerSecond / 29.76e6, 6);
    expect(t.disclaimer).toMatch(/model, not a measurement of a card/);
    expect(t.disclaimer).toMatch(/reference latency model v1/);
    // The array lookup (150) overlaps across contexts: 4 contexts need fewer ME cycles than 1.
    const one = new NfpSimulator(gp.loaded).runBatch(inputs, { contexts: 1 });
    expect(one.meCycles).toBe(inputs.length * 184);
    expect(b.meCycles).toBeLessThan(one.meCycles / 3);
    expect(() => new NfpSimulator(gp.loaded).runBatch(inputs, { contexts: 5 })).toThrow(RangeError);
  });
});
