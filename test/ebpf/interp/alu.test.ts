import { describe, test, expect } from '@jest/globals';
import { kernelOracleOrSkip } from '../../../src/ebpf/kernel/kernel-runner.js';
import { alu32, alu64 } from '../../../src/ebpf/interp/index.js';
import { diffAgainstKernel, edgyU64, loadFixture, seeded } from './kernel-diff.js';

const OPS = { add: 0x00, sub: 0x10, mul: 0x20, div: 0x30, lsh: 0x60, rsh: 0x70, neg: 0x80, mod: 0x90, mov: 0xb0, arsh: 0xc0 };
const M = 0xffffffffffffffffn;

describe('ALU edge cases (values from the eBPF ISA spec, RFC 9669)', () => {
  test('64-bit division and modulo by zero', () => {
    expect(alu64(OPS.div, 7n, 0n)).toBe(0n);
    expect(alu64(OPS.mod, 7n, 0n)).toBe(7n);
    expect(alu64(OPS.div, 7n, 0n, 1)).toBe(0n);
    expect(alu64(OPS.mod, M, 0n, 1)).toBe(M);
  });
  test('32-bit modulo by zero keeps the truncated destination', () => {
    expect(alu32(OPS.mod, 0x12345678, 0, 0)).toBe(0x12345678);
    expect(alu32(OPS.div, 5, 0, 0)).toBe(0);
  });
  test('signed overflow: INT_MIN / -1 and INT_MIN % -1', () => {
    expect(alu64(OPS.div, 0x8000000000000000n, M, 1)).toBe(0x8000000000000000n);
    expect(alu64(OPS.mod, 0x8000000000000000n, M, 1)).toBe(0n);
    expect(alu32(OPS.div, 0x80000000, 0xffffffff, 1)).toBe(0x80000000);
    expect(alu32(OPS.mod, 0x80000000, 0xffffffff, 1)).toBe(0);
  });
  test('signed division truncates toward zero; smod takes the dividend sign', () => {
    expect(alu64(OPS.div, BigInt.asUintN(64, -7n), 2n, 1)).toBe(BigInt.asUintN(64, -3n));
    expect(alu64(OPS.mod, BigInt.asUintN(64, -7n), 2n, 1)).toBe(M);
    expect(alu32(OPS.mod, 7, (-2) >>> 0, 1)).toBe(1);
  });
  test('shifts mask their amount; arsh keeps the sign', () => {
    expect(alu64(OPS.lsh, 1n, 65n)).toBe(2n);
    expect(alu64(OPS.arsh, 0x8000000000000000n, 63n)).toBe(M);
    expect(alu32(OPS.arsh, 0x80000000, 31, 0)).toBe(0xffffffff);
    expect(alu32(OPS.lsh, 1, 33, 0)).toBe(2);
  });
  test('movsx and neg', () => {
    expect(alu64(OPS.mov, 0n, 0x80n, 8)).toBe(0xffffffffffffff80n);
    expect(alu64(OPS.mov, 0n, 0x7fffn, 16)).toBe(0x7fffn);
    expect(alu32(OPS.mov, 0, 0x8000, 16)).toBe(0xffff8000);
    expect(alu64(OPS.neg, 1n, 0n)).toBe(M);
    expect(alu32(OPS.neg, 1, 0, 0)).toBe(0xffffffff);
  });
  test('32-bit multiply wraps like the hardware', () => {
    expect(alu32(OPS.mul, 0xffffffff, 0xffffffff, 0)).toBe(1);
    expect(alu32(OPS.sub, 0, 1, 0)).toBe(0xffffffff);
  });
});

function operandPacket(rand: () => number, extra: number): Uint8Array {
  const pkt = new Uint8Array(30 + extra);
  for (let i = 0; i < pkt.length; i++) pkt[i] = Math.floor(rand() * 256);
  const dv = new DataView(pkt.buffer);
  dv.setBigUint64(14, edgyU64(rand), true);
  dv.setBigUint64(22, edgyU64(rand), true);
  return pkt;
}

describe('ALU and jumps against the kernel', () => {
  const kernel = kernelOracleOrSkip();
  const run = kernel.ok ? test : test.skip;
  run('every ALU op (64, 32, signed, movsx, bswap, ldsx) on 300 random operand pairs', () => {
    const obj = loadFixture('alu.o');
    const rand = seeded(1);
    const packets = Array.from({ length: 300 }, () => ({ data: operandPacket(rand, 40 * 8) }));
    expect(diffAgainstKernel(obj, 'alu', packets)).toEqual([]);
  });
  run('every jump kind (jmp, jmp32, signed, imm and reg) on 300 random operand pairs', () => {
    const obj = loadFixture('alu.o');
    const rand = seeded(2);
    const packets = Array.from({ length: 300 }, () => ({ data: operandPacket(rand, 8) }));
    expect(diffAgainstKernel(obj, 'jumps', packets)).toEqual([]);
  });
});
