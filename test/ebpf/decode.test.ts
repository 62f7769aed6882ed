/**
 * decodeProgram / encodeProgram: slot layout, round trips on every fixture
 * section (bytes from llvm-objdump's listing), and NC1020 for bad input.
 */
import { describe, test, expect } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { NicoffError } from '../../src/diagnostics/diagnostic.js';
import { decodeProgram, validateInsn } from '../../src/ebpf/decode.js';
import { encodeProgram } from '../../src/ebpf/encode.js';
import type { Endian, Insn } from '../../src/ebpf/insn.js';
import { OBJDUMP, elfEndian, parseObjdump, runObjdump, sectionBytes, toolsOrSkip } from './llvm-oracle.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'isa');

function bytes(endian: Endian, ...slots: Array<[number, number, number, number, number]>): Uint8Array {
  const out = new Uint8Array(slots.length * 8);
  const dv = new DataView(out.buffer);
  const le = endian === 'le';
  slots.forEach(([code, dst, src, off, imm], i) => {
    out[i * 8] = code;
    out[i * 8 + 1] = le ? (src << 4) | dst : (dst << 4) | src;
    dv.setInt16(i * 8 + 2, off, le);
    dv.setInt32(i * 8 + 4, imm, le);
  });
  return out;
}

function nc1020(fn: () => unknown): { offset?: number; message: string; insn?: number } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NicoffError);
    const d = (e as NicoffError).diagnostic;
    expect(d.code).toBe('NC1020');
    return { offset: d.location.offset, insn: d.location.insn, message: d.message };
  }
  throw new Error('expected NC1020');
}

describe('decodeProgram', () => {
  for (const endian of ['le', 'be'] as Endian[]) {
    test(`slot-per-index layout with ld_imm64 filler (${endian})`, () => {
      const b = bytes(endian, [0xb7, 1, 0, 0, 5], [0x18, 2, 0, 0, -1], [0, 0, 0, 0, 0x7fffffff], [0x7b, 10, 2, -8, 0], [0x95, 0, 0, 0, 0]);
      const insns = decodeProgram(b, endian);
      expect(insns).toEqual([
        { code: 0xb7, dst: 1, src: 0, off: 0, imm: 5, slots: 1 },
        { code: 0x18, dst: 2, src: 0, off: 0, imm: -1, imm2: 0x7fffffff, slots: 2 },
        { code: 0, dst: 0, src: 0, off: 0, imm: 0, slots: 1 },
        { code: 0x7b, dst: 10, src: 2, off: -8, imm: 0, slots: 1 },
        { code: 0x95, dst: 0, src: 0, off: 0, imm: 0, slots: 1 },
      ]);
      expect(encodeProgram(insns, endian)).toEqual(b);
    });
  }

  test('unknown opcode', () => {
    const r = nc1020(() => decodeProgram(bytes('le', [0xb7, 0, 0, 0, 0], [0x8d, 1, 0, 0, 0]), 'le', { section: 'xdp' }));
    expect(r).toMatchObject({ offset: 8, insn: 1 });
    expect(r.message).toBe('bad instruction at xdp+0x8: unknown opcode 0x8d');
  });

  test('file offset is added when given', () => {
    const r = nc1020(() => decodeProgram(bytes('le', [0x00, 0, 0, 0, 0]), 'le', { section: 's', fileOffset: 0x40 }));
    expect(r.offset).toBe(0x40);
  });

  test('ld_imm64 truncated at the end', () => {
    const r = nc1020(() => decodeProgram(bytes('le', [0xb7, 0, 0, 0, 0], [0x18, 1, 0, 0, 1]), 'le'));
    expect(r.offset).toBe(8);
    expect(r.message).toMatch(/ld_imm64 truncated/);
  });

  test.each([
    ['code', [0x07, 0, 0, 0, 0]],
    ['regs', [0, 1, 0, 0, 0]],
    ['off', [0, 0, 0, 4, 0]],
  ] as Array<[string, [number, number, number, number, number]]>)('ld_imm64 second slot with nonzero %s', (_f, second) => {
    const r = nc1020(() => decodeProgram(bytes('le', [0x18, 1, 0, 0, 1], second), 'le'));
    expect(r.offset).toBe(8);
    expect(r.message).toMatch(/second slot of ld_imm64/);
  });

  test('register numbers above 10', () => {
    expect(nc1020(() => decodeProgram(bytes('le', [0xbf, 11, 1, 0, 0]), 'le')).message).toMatch(/invalid register r11/);
    expect(nc1020(() => decodeProgram(bytes('be', [0xbf, 1, 15, 0, 0]), 'be')).message).toMatch(/invalid register r15/);
  });

  test('reserved fields', () => {
    expect(nc1020(() => decodeProgram(bytes('le', [0x95, 0, 0, 0, 1]), 'le')).message).toMatch(/exit .* invalid imm/);
    expect(nc1020(() => decodeProgram(bytes('le', [0x05, 0, 0, 1, 1]), 'le')).message).toMatch(/ja .* invalid imm/);
    expect(nc1020(() => decodeProgram(bytes('le', [0x06, 0, 0, 1, 1]), 'le')).message).toMatch(/gotol .* reserved field off/);
    expect(nc1020(() => decodeProgram(bytes('le', [0x62, 1, 2, 0, 1]), 'le')).message).toMatch(/reserved field src/);
  });

  test('size not a multiple of 8 is NC1015', () => {
    try {
      decodeProgram(new Uint8Array(12), 'le', { section: 'xdp' });
      throw new Error('no error');
    } catch (e) {
      expect((e as NicoffError).diagnostic.code).toBe('NC1015');
    }
  });

  test('validateInsn checks slot counts', () => {
    const base: Insn = { code: 0x18, dst: 1, src: 0, off: 0, imm: 0, imm2: 0, slots: 1 };
    expect(validateInsn(base)).toMatch(/second slot/);
    expect(validateInsn({ ...base, slots: 2 })).toBeNull();
    expect(validateInsn({ code: 0x07, dst: 1, src: 0, off: 0, imm: 0, slots: 2 })).toMatch(/two slots/);
  });
});

const objdump = toolsOrSkip([OBJDUMP]);

(objdump.run ? describe : describe.skip)('round trip on every fixture section', () => {
  const objects = readdirSync(FIXTURES).filter((f) => f.endsWith('.o')).sort();
  test.each(objects.map((o) => [o]))('%s', (o) => {
    const path = join(FIXTURES, o);
    const endian = elfEndian(path);
    for (const sec of parseObjdump(runObjdump(path, false))) {
      const b = sectionBytes(sec);
      const insns = decodeProgram(b, endian, { section: sec.name });
      expect(insns.length).toBe(b.length / 8);
      expect(encodeProgram(insns, endian)).toEqual(b);
    }
  });
});
