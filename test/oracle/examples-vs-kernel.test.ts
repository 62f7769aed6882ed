/**
 * Every example program against the kernel: each packet of its capture plus
 * 100 seeded mutations (truncations to >= 14 bytes, bit flips in the headers,
 * random lengths), one kernel batch per program with map dumps after every
 * packet, maps carried over in both engines (never reset). Compared exactly:
 * return value, output bytes (data_out), every map after every packet (arrays
 * all entries, hashes key set and values, per-CPU maps summed over CPUs) and,
 * for TC, ctx_out mark and priority.
 *
 * Not compared with the kernel, and why:
 * - Frames under 14 bytes: BPF_PROG_TEST_RUN refuses them (EINVAL); the
 *   interpreter must refuse them too (NC3004), checked on its own.
 * - TC frames whose EtherType promises an IPv4 (IPv6) header they do not hold
 *   (< 34 / < 54 bytes): the kernel's skb test_run says EINVAL; they go
 *   through the batch and must come back refused by both engines.
 * - xdp_rate_limit reads bpf_ktime_get_ns (the kernel's clock, not the
 *   capture's): verdicts of packets whose source already has a bucket are not
 *   compared and the bucket values are only bounded; the token logic is
 *   checked with pinned ktime values in the interpreter instead.
 *
 * NICOFF_NO_KERNEL=1 skips the kernel part (with a printed line); otherwise a
 * kernel that cannot be used fails the suite (NC3010).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, test, expect } from '@jest/globals';
import { kernelOracleOrSkip } from '../../src/ebpf/kernel/kernel-runner.js';
import type { KernelMapUpdate } from '../../src/ebpf/kernel/kernel-runner.js';
import { loadObject } from '../../src/ebpf/load-object.js';
import { createMapRuntime, runProgram } from '../../src/ebpf/interp/index.js';
import {
  compareProgram,
  describeDifference,
  loadExample,
  mutatePackets,
  type CompareOptions,
  type CompareResult,
} from './example-oracle.js';

const EXAMPLE_NAMES = [
  'xdp_drop',
  'xdp_pass',
  'xdp_proto_count',
  'xdp_udp_filter',
  'xdp_ipv6_parse',
  'xdp_icmp_echo',
  'xdp_l4_lb',
  'xdp_rate_limit',
  'tc_mark',
  'xdp_subprog_global',
  'xdp_legacy_maps',
  'xdp_udp53',
  'xdp_alu',
  'xdp_count',
  'xdp_tcp_syn_count',
  'xdp_ttl_histogram',
  'xdp_blocklist',
];
const MUTATIONS = 100;

const XDP_DROP = 1;
const XDP_PASS = 2;
const XDP_TX = 3;

const bytes = (...b: number[]) => Uint8Array.from(b);

/** VIP 10.100.0.1:80/TCP -> backend 192.168.1.10 from 192.168.1.1, next hop 02:bb:bb:bb:bb:01 (examples/README.md). */
const L4_LB_VIP: KernelMapUpdate = {
  map: 'vips',
  key: bytes(0x0a, 0x64, 0x00, 0x01, 0x00, 0x50, 0x06, 0x00),
  value: bytes(0xc0, 0xa8, 0x01, 0x0a, 0xc0, 0xa8, 0x01, 0x01, 0x02, 0xbb, 0xbb, 0xbb, 0xbb, 0x01, 0, 0),
};
/** Port 53 (host-order u16 key) blocked, drop counter 0. */
const UDP_FILTER_53: KernelMapUpdate = { map: 'blocked_ports', key: bytes(53, 0), value: new Uint8Array(8) };

/** xdp_rate_limit: which packets read the bucket state (an IPv4 frame from a source already seen). */
function rateLimitOptions(): CompareOptions {
  const seen = new Set<string>();
  return {
    timeDependent: (p) => {
      if (p.length < 34 || p[12] !== 0x08 || p[13] !== 0x00) return false;
      const src = Buffer.from(p.subarray(26, 30)).toString('hex');
      if (seen.has(src)) return true;
      seen.add(src);
      return false;
    },
    mapCompare: {
      buckets: (kernel, interp) => {
        const keys = (xs: string[]) => xs.map((x) => x.split('=')[0]).join(' ');
        if (keys(kernel) !== keys(interp)) return `key set ${keys(kernel)}`;
        for (const e of kernel) {
          const tokens = Buffer.from(e.split('=')[1], 'hex').readBigUInt64LE(0);
          if (tokens > 8n) return `tokens ${tokens} > BURST in ${e}`;
        }
        return undefined;
      },
    },
  };
}

function optionsFor(name: string): CompareOptions {
  switch (name) {
    case 'xdp_l4_lb':
      return { mapUpdatesBefore: [L4_LB_VIP] };
    case 'xdp_udp_filter':
      return { mapUpdatesBefore: [UDP_FILTER_53] };
    case 'tc_mark':
      return {
        ctxFields: [
          { name: 'mark', off: 8 },
          { name: 'priority', off: 32 },
        ],
      };
    case 'xdp_rate_limit':
      return rateLimitOptions();
    default:
      return {};
  }
}

/** What each example must show in the kernel run, so the comparison is not vacuous. */
function expectCoverage(name: string, r: CompareResult): void {
  const v = r.verdicts;
  switch (name) {
    case 'xdp_l4_lb':
    case 'xdp_icmp_echo':
      expect(v[XDP_TX] ?? 0).toBeGreaterThan(0);
      expect(v[XDP_PASS] ?? 0).toBeGreaterThan(0);
      break;
    case 'xdp_udp_filter':
    case 'xdp_subprog_global':
    case 'xdp_udp53':
    case 'xdp_rate_limit':
      expect(v[XDP_DROP] ?? 0).toBeGreaterThan(0);
      expect(v[XDP_PASS] ?? 0).toBeGreaterThan(0);
      break;
    case 'tc_mark':
      expect(r.refusedByBoth).toBeGreaterThan(0);
      break;
    default:
      break;
  }
}

const summary: { program: string; packets: number; compared: number; refused: number; verdicts: string }[] = [];

describe('example programs: reference interpreter vs kernel BPF_PROG_TEST_RUN', () => {
  const kernel = kernelOracleOrSkip();
  const run = kernel.ok ? test : test.skip;

  afterAll(() => {
    if (!summary.length) return;
    const packets = summary.reduce((n, s) => n + s.packets, 0);
    const compared = summary.reduce((n, s) => n + s.compared, 0);
    const lines = summary.map(
      (s) => `  ${s.program.padEnd(20)} ${String(s.packets).padStart(4)} packets, ${String(s.compared).padStart(4)} run in both, ${s.refused} refused by both; kernel verdicts ${s.verdicts}`,
    );
    process.stdout.write(
      `examples vs kernel: ${summary.length} programs, ${packets} packets, ${compared} compared (retval, data_out, maps after each packet)\n${lines.join('\n')}\n`,
    );
  });

  EXAMPLE_NAMES.forEach((name, n) => {
    run(`${name}: capture + ${MUTATIONS} mutations agree packet by packet`, () => {
      const { obj, packets } = loadExample(name);
      expect(obj.programs.length).toBeGreaterThan(0);
      for (const prog of obj.programs) {
        const all = [...packets, ...mutatePackets(packets, MUTATIONS, 1000 + n)];
        const r = compareProgram(obj, prog, all, optionsFor(name));
        summary.push({
          program: `${name}/${prog.name}`,
          packets: r.packets,
          compared: r.compared,
          refused: r.refusedByBoth,
          verdicts: JSON.stringify(r.verdicts),
        });
        const first = r.differences[0];
        expect(first ? `${describeDifference(first)}\n(${r.differences.length} differences in all)` : 'no difference').toBe('no difference');
        expect(r.compared + r.refusedByBoth).toBe(r.packets);
        expectCoverage(name, r);
      }
    });
  });

  run('helper results under test_run: perf_event_output -ENOENT, hash update swaps the element', () => {
    const path = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'helper_returns.o');
    const obj = loadObject(new Uint8Array(readFileSync(path)), { path });
    const packets = [0, 5, 9, 0, 3].map((v) => {
      const p = new Uint8Array(40);
      p[8] = v;
      return p;
    });
    const r = compareProgram(obj, obj.programs[0], packets);
    const first = r.differences[0];
    expect(first ? describeDifference(first) : 'no difference').toBe('no difference');
    summary.push({ program: 'fixture/helper_returns', packets: r.packets, compared: r.compared, refused: 0, verdicts: JSON.stringify(r.verdicts) });
  });
});

describe('interpreter-only rules for what the kernel refuses', () => {
  test.each(EXAMPLE_NAMES)('%s: frames under 14 bytes are refused with NC3004', (name) => {
    const { obj } = loadExample(name);
    for (const prog of obj.programs) {
      const maps = createMapRuntime(obj.maps);
      for (const len of [0, 1, 6, 13]) {
        expect(() => runProgram(prog, obj, maps, new Uint8Array(len))).toThrow(/^NC3004/);
      }
    }
  });

  test('tc_mark: skb frames shorter than their IPv4/IPv6 header are refused, others run', () => {
    const { obj } = loadExample('tc_mark');
    const prog = obj.programs[0];
    const maps = createMapRuntime(obj.maps);
    const frame = (len: number, etherType: number) => {
      const p = new Uint8Array(len);
      p[12] = etherType >> 8;
      p[13] = etherType & 0xff;
      return p;
    };
    for (const len of [14, 20, 33]) expect(() => runProgram(prog, obj, maps, frame(len, 0x0800))).toThrow(/^NC3004/);
    for (const len of [14, 40, 53]) expect(() => runProgram(prog, obj, maps, frame(len, 0x86dd))).toThrow(/^NC3004/);
    expect(runProgram(prog, obj, maps, frame(34, 0x0800)).retval).toBe(0n);
    expect(runProgram(prog, obj, maps, frame(54, 0x86dd)).retval).toBe(0n);
    expect(runProgram(prog, obj, maps, frame(14, 0x0806)).retval).toBe(0n);
  });
});

describe('xdp_rate_limit with pinned bpf_ktime_get_ns (interpreter)', () => {
  /** IPv4/UDP frame from `src` (last octet). */
  const frame = (srcLast: number) => {
    const p = new Uint8Array(60);
    p.set([0x02, 0, 0, 0, 0, 0xfe, 0x02, 0, 0x5e, 0, 0, 1, 0x08, 0x00, 0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0, 10, 66, 6, srcLast, 10, 0, 0, 1]);
    return p;
  };

  test('burst of 8, then drops; 5 tokens after 500 ms; refill capped at 8 after 1.5 s; sources independent', () => {
    const { obj } = loadExample('xdp_rate_limit');
    const prog = obj.programs[0];
    const maps = createMapRuntime(obj.maps);
    let now = 0n;
    const send = (src = 6) => Number(runProgram(prog, obj, maps, frame(src), { ktimeNs: () => now }).retval);
    const t0 = 5_000_000_000n;
    const verdicts: number[] = [];
    // 20 packets 10 us apart: the first creates the bucket with 7 tokens, 7 more pass, 12 drop.
    for (let i = 0; i < 20; i++) {
      now = t0 + BigInt(i) * 10_000n;
      verdicts.push(send());
    }
    expect(verdicts).toEqual([...Array(8).fill(XDP_PASS), ...Array(12).fill(XDP_DROP)]);
    const bucket = () => {
      const v = maps.lookup(maps.mapIndexByName('buckets'), bytes(10, 66, 6, 6))!;
      const dv = new DataView(v.buffer, v.byteOffset);
      return { tokens: dv.getBigUint64(0, true), last: dv.getBigUint64(8, true) };
    };
    expect(bucket()).toEqual({ tokens: 0n, last: t0 });
    // 500 ms later: floor(500.19 ms / 100 ms) = 5 tokens earned, last_refill advances by exactly 500 ms.
    const after = [];
    for (let i = 0; i < 8; i++) {
      now = t0 + 190_000n + 500_000_000n + BigInt(i) * 10_000n;
      after.push(send());
    }
    expect(after).toEqual([...Array(5).fill(XDP_PASS), ...Array(3).fill(XDP_DROP)]);
    expect(bucket()).toEqual({ tokens: 0n, last: t0 + 500_000_000n });
    // Another source is untouched by all this: a fresh bucket.
    now = t0 + 600_000_000n;
    expect(send(7)).toBe(XDP_PASS);
    // 1.5 s later 15 tokens are earned but the bucket holds at most BURST = 8.
    const refill = [];
    for (let i = 0; i < 10; i++) {
      now = t0 + 2_000_000_000n + BigInt(i);
      refill.push(send());
    }
    expect(refill).toEqual([...Array(8).fill(XDP_PASS), ...Array(2).fill(XDP_DROP)]);
    expect(bucket()).toEqual({ tokens: 0n, last: t0 + 2_000_000_000n });
    // Non-IPv4 frames pass without touching the map.
    const arp = frame(6);
    arp[13] = 0x06;
    expect(Number(runProgram(prog, obj, maps, arp, { ktimeNs: () => now }).retval)).toBe(XDP_PASS);
    expect(maps.dump(maps.mapIndexByName('buckets')).length).toBe(2);
  });
});
