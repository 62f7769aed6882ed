/**
 * The disassembler against llvm-objdump-19: every instruction of every
 * fixture and example object, and a sweep of raw encodings over the whole
 * opcode space, in plain and --mattr=+alu32 modes, little- and big-endian.
 */
import { describe, test, expect, beforeAll, afterAll } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProgram, validateInsn } from '../../src/ebpf/decode.js';
import { disassembleInsn, signedHex, UNKNOWN_INSN } from '../../src/ebpf/disasm.js';
import { encodeProgram } from '../../src/ebpf/encode.js';
import { LD_IMM64, type Endian, type Insn } from '../../src/ebpf/insn.js';
import { OPCODES } from '../../src/ebpf/opcodes.js';
import {
  OBJDUMP,
  LLVM_MC,
  assembleRawBytes,
  elfEndian,
  parseObjdump,
  runObjdump,
  sectionBytes,
  stripLabel,
  toolsOrSkip,
  type ObjdumpSection,
} from './llvm-oracle.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'isa');
const EXAMPLES = join(ROOT, 'examples');

function objectsIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.o'))
    .map((f) => join(dir, f))
    .sort();
}

/** llvm-objdump's ` <sym+0xN>` naming: the nearest function symbol at or before the target. */
function labelFromSymbols(sec: ObjdumpSection): (pc: number) => string | undefined {
  const syms = [...sec.symbols].sort((a, b) => a.pc - b.pc);
  return (pc) => {
    let best: { name: string; pc: number } | undefined;
    for (const s of syms) if (s.pc <= pc) best = s;
    if (!best) return undefined;
    const delta = (pc - best.pc) * 8;
    return delta === 0 ? best.name : `${best.name}+0x${delta.toString(16)}`;
  };
}

const objdump = toolsOrSkip([OBJDUMP]);
const both = toolsOrSkip([OBJDUMP, LLVM_MC]);

describe('signedHex', () => {
  test('formats like LLVM', () => {
    expect(signedHex(0)).toBe('0x0');
    expect(signedHex(-1)).toBe('-0x1');
    expect(signedHex(-0x80000000)).toBe('-0x80000000');
    expect(signedHex(-(2n ** 63n))).toBe('-0x8000000000000000');
  });
});

(objdump.run ? describe : describe.skip)('fixture and example objects match llvm-objdump-19 -d', () => {
  const objects = [...objectsIn(FIXTURES), ...objectsIn(EXAMPLES)];

  test('fixtures are present (v1..v4 and a big-endian build)', () => {
    const names = objects.map((o) => o.slice(FIXTURES.length + 1));
    for (const cpu of ['v1', 'v2', 'v3', 'v4', 'v4-eb']) expect(names).toContain(`alu-${cpu}.o`);
  });

  for (const alu32 of [false, true]) {
    test.each(objects.map((o) => [o.slice(ROOT.length + 1), o]))(
      `%s${alu32 ? ' (--mattr=+alu32)' : ''}`,
      (_rel, path) => {
        const endian = elfEndian(path);
        const sections = parseObjdump(runObjdump(path, alu32));
        expect(sections.length).toBeGreaterThan(0);
        const mismatches: string[] = [];
        let compared = 0;
        for (const sec of sections) {
          const insns = decodeProgram(sectionBytes(sec), endian, { section: sec.name });
          const label = labelFromSymbols(sec);
          for (const line of sec.lines) {
            const ours = disassembleInsn(insns[line.pc], line.pc, { alu32, label });
            compared++;
            if (ours !== line.text) mismatches.push(`${sec.name}:${line.pc}: llvm "${line.text}" ours "${ours}"`);
            // Without labels, the text is llvm's with the ` <...>` suffix removed.
            expect(disassembleInsn(insns[line.pc], line.pc, { alu32 })).toBe(stripLabel(line.text));
          }
        }
        expect(mismatches.slice(0, 20)).toEqual([]);
        expect(compared).toBeGreaterThan(0);
      },
    );
  }
});

// --- the raw-encoding sweep ---

const REG_PAIRS: Array<[number, number]> = [
  [1, 2],
  [0, 0],
  [0, 1],
  [0, 2],
  [10, 0],
  [5, 0],
  [9, 7],
  [11, 1],
  [3, 12],
];
const OFFS = [0, 1, 8, 16, 32, -8, -0x8000, 0x7fff];
const IMMS = [0, 1, 16, 32, 64, -1, 0x7fffffff, -0x80000000, 0x10000, 0x10001, 0x41, 0xe1, 0xf1, 0x51, 0xa1, 0x40, 0x50, 0xa0, 0xe0, 0x08, 7];
const IMM2S = [0, -1, 0x12345678, -0x80000000];

interface SweepEntry {
  pc: number;
  insn: Insn;
}

/** Every opcode byte x register pairs x offsets x immediates; ld_imm64 gets a clean second slot. */
function buildSweep(): { insns: Insn[]; entries: SweepEntry[] } {
  const insns: Insn[] = [];
  const entries: SweepEntry[] = [];
  let k = 0;
  for (let code = 0; code < 256; code++) {
    for (const [dst, src] of REG_PAIRS) {
      for (const off of OFFS) {
        for (const imm of IMMS) {
          const base = { code, dst, src, off, imm };
          if (code === LD_IMM64) {
            const insn: Insn = { ...base, imm2: IMM2S[k++ % IMM2S.length], slots: 2 };
            entries.push({ pc: insns.length, insn });
            insns.push(insn, { code: 0, dst: 0, src: 0, off: 0, imm: 0, slots: 1 });
          } else {
            const insn: Insn = { ...base, slots: 1 };
            entries.push({ pc: insns.length, insn });
            insns.push(insn);
          }
        }
      }
    }
  }
  return { insns, entries };
}

(both.run ? describe : describe.skip)('raw encoding sweep through llvm-mc-19 + llvm-objdump-19', () => {
  let dir = '';
  const sweep = buildSweep();
  const listings = new Map<string, Map<number, string>>();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nicoff-isa-'));
    for (const endian of ['le', 'be'] as Endian[]) {
      const obj = join(dir, `sweep-${endian}.o`);
      assembleRawBytes(encodeProgram(sweep.insns, endian), endian, obj);
      for (const alu32 of [false, true]) {
        const text = new Map<number, string>();
        for (const sec of parseObjdump(runObjdump(obj, alu32))) for (const l of sec.lines) text.set(l.pc, stripLabel(l.text));
        listings.set(`${endian}/${alu32}`, text);
      }
    }
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the sweep covers every opcode in the table with valid encodings', () => {
    const validPerCode = new Map<number, number>();
    for (const e of sweep.entries) if (validateInsn(e.insn) === null) validPerCode.set(e.insn.code, (validPerCode.get(e.insn.code) ?? 0) + 1);
    for (const info of OPCODES) if (info) expect([info.code, (validPerCode.get(info.code) ?? 0) >= 1]).toEqual([info.code, true]);
    expect([...validPerCode.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(5000);
    expect(sweep.entries.length).toBeGreaterThan(50000);
  });

  for (const endian of ['le', 'be'] as Endian[]) {
    for (const alu32 of [false, true]) {
      test(`every valid encoding prints as LLVM prints it (${endian}, ${alu32 ? '--mattr=+alu32' : 'plain'})`, () => {
        const llvm = listings.get(`${endian}/${alu32}`)!;
        const mismatches: string[] = [];
        let compared = 0;
        for (const { pc, insn } of sweep.entries) {
          if (validateInsn(insn) !== null) continue;
          const theirs = llvm.get(pc);
          const ours = disassembleInsn(insn, pc, { alu32 });
          compared++;
          if (theirs !== ours) {
            mismatches.push(`${JSON.stringify(insn)}: llvm ${JSON.stringify(theirs)} ours ${JSON.stringify(ours)}`);
          }
        }
        expect(mismatches.slice(0, 20)).toEqual([]);
        expect(compared).toBeGreaterThan(5000);
      });
    }
  }

  test('what LLVM cannot decode (with alu32) the decoder rejects', () => {
    const llvm = listings.get('le/true')!;
    const accepted: string[] = [];
    for (const { pc, insn } of sweep.entries) {
      if (llvm.get(pc) === UNKNOWN_INSN && validateInsn(insn) === null) accepted.push(JSON.stringify(insn));
    }
    expect(accepted.slice(0, 20)).toEqual([]);
  });
});
