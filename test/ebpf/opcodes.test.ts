/**
 * The opcode table: lookups and helpers, and its cpu column checked against
 * what clang-19 -mcpu=vN actually emits (the committed fixture builds).
 */
import { describe, test, expect } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeProgram } from '../../src/ebpf/decode.js';
import type { Insn } from '../../src/ebpf/insn.js';
import {
  OPCODES,
  BPF_ALU64,
  BPF_JMP32,
  BPF_PSEUDO_CALL,
  insnMinCpu,
  isConditionalJump,
  isJump,
  isLdImm64,
  jumpTarget,
  ldImm64Value,
  opcodeInfo,
  validateOpcodeFields,
} from '../../src/ebpf/opcodes.js';
import { OBJDUMP, elfEndian, parseObjdump, runObjdump, sectionBytes, toolsOrSkip } from './llvm-oracle.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'isa');
const insn = (f: Partial<Insn> & { code: number }): Insn => ({ dst: 0, src: 0, off: 0, imm: 0, slots: 1, ...f });

describe('opcode table', () => {
  test('holds the kernel ISA: 38 alu64/alu32 forms x2 minus X forms of neg, 3 endian, 1 lddw, 6 ld_abs/ind, ...', () => {
    const defined = OPCODES.filter((o) => o !== undefined);
    const byKind = new Map<string, number>();
    for (const o of defined) byKind.set(o!.kind, (byKind.get(o!.kind) ?? 0) + 1);
    expect(Object.fromEntries(byKind)).toEqual({
      alu64: 25, alu32: 25, endian: 2, bswap: 1, ld_imm64: 1, ld_abs: 3, ld_ind: 3,
      load: 4, load_sx: 3, store_imm: 4, store: 4, atomic: 2,
      jmp: 22, jmp32: 22, ja: 1, gotol: 1, may_goto: 1, call: 1, exit: 1,
    });
    for (const o of defined) expect(OPCODES[o!.code]).toBe(o);
  });

  test('lookups by opcode byte', () => {
    expect(opcodeInfo(0x07)).toMatchObject({ name: 'add_imm', kind: 'alu64', minCpu: 1 });
    expect(opcodeInfo(0x0c)).toMatchObject({ name: 'add32_reg', kind: 'alu32', minCpu: 3 });
    expect(opcodeInfo(0xad)).toMatchObject({ name: 'jlt_reg', kind: 'jmp', minCpu: 2 });
    expect(opcodeInfo(0x16)).toMatchObject({ name: 'jeq32_imm', kind: 'jmp32', minCpu: 3 });
    expect(opcodeInfo(0x91)).toMatchObject({ name: 'ldxsb', kind: 'load_sx', size: 1, minCpu: 4 });
    expect(opcodeInfo(0xd7)).toMatchObject({ name: 'bswap', minCpu: 4 });
    expect(opcodeInfo(0x06)).toMatchObject({ name: 'gotol', minCpu: 4 });
    expect(opcodeInfo(0x18)).toMatchObject({ name: 'lddw', kind: 'ld_imm64' });
    for (const missing of [0x00, 0x8c, 0x8f, 0x8d, 0x99, 0xdf, 0x38, 0xd3, 0xe6, 0x96]) expect(opcodeInfo(missing)).toBeUndefined();
  });

  test('variant cpu levels (off/imm select sdiv, movsx, 32-bit fetch atomics)', () => {
    expect(insnMinCpu(insn({ code: 0x3f }))).toBe(1);
    expect(insnMinCpu(insn({ code: 0x3f, off: 1 }))).toBe(4);
    expect(insnMinCpu(insn({ code: 0xbf, off: 8 }))).toBe(4);
    expect(insnMinCpu(insn({ code: 0xc3, imm: 0 }))).toBe(1);
    expect(insnMinCpu(insn({ code: 0xc3, imm: 0x51 }))).toBe(3);
    expect(insnMinCpu(insn({ code: 0xdb, imm: 0xf1 }))).toBe(1);
  });

  test('jump targets', () => {
    expect(jumpTarget(10, insn({ code: 0x15, dst: 1, off: -3 }))).toBe(8);
    expect(jumpTarget(10, insn({ code: 0x05, off: 2 }))).toBe(13);
    expect(jumpTarget(10, insn({ code: BPF_JMP32, imm: -11 }))).toBe(0);
    expect(jumpTarget(4, insn({ code: 0x85, src: BPF_PSEUDO_CALL, imm: 5 }))).toBe(10);
    expect(jumpTarget(4, insn({ code: 0x85, imm: 1 }))).toBeUndefined();
    expect(jumpTarget(4, insn({ code: 0x95 }))).toBeUndefined();
    expect(isJump(insn({ code: 0xe5 }))).toBe(true);
    expect(isConditionalJump(insn({ code: 0x05 }))).toBe(false);
    expect(isLdImm64(insn({ code: 0x18 }))).toBe(true);
  });

  test('ld_imm64 value joins the halves', () => {
    expect(ldImm64Value({ imm: -1, imm2: 0x7fffffff })).toBe(0x7fffffffffffffffn);
    expect(ldImm64Value({ imm: -1, imm2: -1 })).toBe(-1n);
    expect(ldImm64Value({ imm: 5 })).toBe(5n);
  });

  test('field rules follow the kernel', () => {
    const ok = (f: Partial<Insn> & { code: number }) => validateOpcodeFields(insn(f));
    expect(ok({ code: 0x07, dst: 1, imm: 5 })).toBeNull();
    expect(ok({ code: 0x07, dst: 1, src: 2, imm: 5 })).toMatch(/reserved field src/);
    expect(ok({ code: 0x0f, dst: 1, src: 2, imm: 1 })).toMatch(/invalid imm/);
    expect(ok({ code: 0x87, dst: 1, imm: 1 })).toMatch(/invalid imm/);
    expect(ok({ code: 0x37, dst: 1, off: 1, imm: 3 })).toBeNull();
    expect(ok({ code: 0x37, dst: 1, off: 2, imm: 3 })).toMatch(/reserved field off/);
    expect(ok({ code: 0xbc, dst: 1, src: 2, off: 32 })).toMatch(/reserved field off/);
    expect(ok({ code: 0xbf, dst: 1, src: 2, off: 32 })).toBeNull();
    expect(ok({ code: BPF_ALU64 | 0xb8, dst: 1, src: 2, off: 1, imm: 1 })).toBeNull();
    expect(ok({ code: 0xbf, dst: 1, src: 2, off: 1, imm: 2 })).toMatch(/invalid imm/);
    expect(ok({ code: 0xd4, dst: 1, imm: 8 })).toMatch(/invalid imm/);
    expect(ok({ code: 0xdb, dst: 1, src: 2, imm: 0xe0 })).toMatch(/invalid imm/);
    expect(ok({ code: 0x85, src: 2, off: 3, imm: 7 })).toBeNull();
    expect(ok({ code: 0x85, src: 0, off: 3, imm: 7 })).toMatch(/reserved field off/);
    expect(ok({ code: 0x85, src: 3, imm: 7 })).toMatch(/reserved field src/);
    expect(ok({ code: 0x95, off: 1 })).toMatch(/reserved field off/);
    expect(ok({ code: 0x20, dst: 1, imm: 12 })).toMatch(/reserved field dst/);
    expect(ok({ code: 0x79, dst: 11, src: 1 })).toMatch(/invalid register r11/);
    expect(ok({ code: 0x18, dst: 1, src: 7 })).toMatch(/reserved field src/);
    expect(ok({ code: 0x18, dst: 1, src: 1, imm2: 1 })).toMatch(/upper immediate/);
    expect(ok({ code: 0xe5, off: 4 })).toBeNull();
    expect(ok({ code: 0x8d, dst: 1 })).toMatch(/unknown opcode 0x8d/);
  });
});

const objdump = toolsOrSkip([OBJDUMP]);

(objdump.run ? describe : describe.skip)('cpu column against clang-19 -mcpu builds', () => {
  // inline-asm.c is excluded: inline assembly is not gated by -mcpu.
  const families = ['alu', 'jumps', 'atomics', 'memory'];
  const versions = [1, 2, 3, 4] as const;

  function instructionsOf(path: string): Insn[] {
    const out: Insn[] = [];
    for (const sec of parseObjdump(runObjdump(path, false))) {
      const insns = decodeProgram(sectionBytes(sec), elfEndian(path), { section: sec.name });
      for (let i = 0; i < insns.length; i++) {
        out.push(insns[i]);
        if (insns[i].slots === 2) i++;
      }
    }
    return out;
  }

  test.each(versions.map((v) => [v]))('-mcpu=v%i objects use nothing above v%i, and v>1 builds use something new', (v) => {
    const objs = readdirSync(FIXTURES).filter((f) => families.some((fam) => f === `${fam}-v${v}.o`));
    expect(objs.length).toBe(families.length);
    let highest = 0;
    for (const o of objs) {
      for (const i of instructionsOf(join(FIXTURES, o))) {
        const cpu = insnMinCpu(i)!;
        expect([o, i.code.toString(16), cpu <= v]).toEqual([o, i.code.toString(16), true]);
        highest = Math.max(highest, cpu);
      }
    }
    expect(highest).toBe(v);
  });
});
