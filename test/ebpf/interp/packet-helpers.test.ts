import { describe, test, expect } from '@jest/globals';
import { kernelOracleOrSkip } from '../../../src/ebpf/kernel/kernel-runner.js';
import { diffAgainstKernel, loadFixture, seeded } from './kernel-diff.js';

function randomPacket(rand: () => number, len: number): Uint8Array {
  const p = new Uint8Array(len);
  for (let i = 0; i < len; i++) p[i] = Math.floor(rand() * 256);
  return p;
}

const pick = <T,>(rand: () => number, xs: T[]): T => xs[Math.floor(rand() * xs.length)];

describe('packet helpers and contexts against the kernel', () => {
  const kernel = kernelOracleOrSkip();
  const run = kernel.ok ? test : test.skip;

  run('xdp_adjust_meta/head/tail: growth, shrink, limits and error returns', () => {
    const obj = loadFixture('pkt.o');
    const rand = seeded(3);
    const packets = Array.from({ length: 200 }, () => {
      const p = randomPacket(rand, 20 + Math.floor(rand() * 100));
      const dv = new DataView(p.buffer);
      dv.setInt16(14, pick(rand, [0, -4, -8, -32, -2, 4, -216, -220, -252, Math.floor(rand() * 300) - 280]), true);
      dv.setInt16(16, pick(rand, [0, -1, -14, -216, -217, 8, 14, 100, Math.floor(rand() * 300) - 250]), true);
      dv.setInt16(18, pick(rand, [0, 1, -6, 3400, 3460, 3461, 3600, -200, Math.floor(rand() * 4000) - 200]), true);
      return { data: p };
    });
    expect(diffAgainstKernel(obj, 'xdp_adjust', packets)).toEqual([]);
  });

  run('xdp_md fields as test_run sets them', () => {
    const obj = loadFixture('pkt.o');
    const rand = seeded(4);
    expect(diffAgainstKernel(obj, 'xdp_ctx', [{ data: randomPacket(rand, 64) }])).toEqual([]);
  });

  run('l3/l4_csum_replace flags and sizes, csum_diff', () => {
    const obj = loadFixture('pkt.o');
    const rand = seeded(5);
    const packets = Array.from({ length: 300 }, () => ({ data: randomPacket(rand, 64 + Math.floor(rand() * 80)) }));
    expect(diffAgainstKernel(obj, 'tc_csum', packets)).toEqual([]);
  });

  run('skb_store_bytes / skb_load_bytes bounds and flags', () => {
    const obj = loadFixture('pkt.o');
    const rand = seeded(6);
    const packets = Array.from({ length: 200 }, () => ({ data: randomPacket(rand, 14 + Math.floor(rand() * 120)) }));
    expect(diffAgainstKernel(obj, 'tc_bytes', packets, { compareCtxFields: [48, 52] })).toEqual([]);
  });

  run('__sk_buff fields and writes, with and without ctx_in', () => {
    const obj = loadFixture('pkt.o');
    const rand = seeded(7);
    const packets = Array.from({ length: 60 }, (_, i) => {
      const p = randomPacket(rand, 128 + Math.floor(rand() * 64));
      const kind = i % 5;
      if (kind === 0) p.set([0, 0, 0, 0, 0, 0], 0);
      if (kind === 1) p.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0);
      if (kind === 2) p.set([0x00, 0x40, 0xff, 0xff], 12);
      if (kind === 3) p.set([0x08, 0x00], 12);
      let ctxIn: Uint8Array | undefined;
      if (i % 2) {
        ctxIn = new Uint8Array(192);
        const dv = new DataView(ctxIn.buffer);
        dv.setUint32(8, Math.floor(rand() * 2 ** 32), true); // mark
        dv.setUint32(32, Math.floor(rand() * 2 ** 32), true); // priority
        dv.setUint32(48, Math.floor(rand() * 2 ** 32), true); // cb[0]
        dv.setUint32(64, Math.floor(rand() * 2 ** 32), true); // cb[4]
      }
      return { data: p, ...(ctxIn ? { ctxIn } : {}) };
    });
    expect(diffAgainstKernel(obj, 'tc_ctx', packets, { compareCtxFields: [8, 32, 40, 48, 52, 56, 60, 64, 160] })).toEqual([]);
  });
});

describe('maps against the kernel', () => {
  const kernel = kernelOracleOrSkip();
  const run = kernel.ok ? test : test.skip;

  run('update flags (ANY/NOEXIST/EXIST/bad), delete, lookup, E2BIG on a full hash, global data', () => {
    const obj = loadFixture('maps.o');
    const rand = seeded(8);
    const packets = Array.from({ length: 300 }, () => ({ data: randomPacket(rand, 40) }));
    expect(diffAgainstKernel(obj, 'map_ops', packets)).toEqual([]);
  });

  run('atomic add/or/and/xor/xchg/cmpxchg, 32 and 64 bit, fetch variants', () => {
    const obj = loadFixture('maps.o');
    const rand = seeded(9);
    const packets = Array.from({ length: 200 }, () => {
      const p = randomPacket(rand, 80);
      if (rand() < 0.3) p.set([rand() < 0.5 ? 0 : 3, 0, 0, 0, 0, 0, 0, 0], 14);
      return { data: p };
    });
    expect(diffAgainstKernel(obj, 'atomics', packets)).toEqual([]);
  });
});
