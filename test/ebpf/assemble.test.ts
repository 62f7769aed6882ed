import { describe, test, expect } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assembleProgram, encodeAssembled } from '../../src/ebpf/assemble.js';
import { disassembleInsn } from '../../src/ebpf/disasm.js';
import { NicoffError } from '../../src/diagnostics/diagnostic.js';
import type { Insn } from '../../src/ebpf/insn.js';
import { loadObject } from '../../src/ebpf/load-object.js';
import { BPF_PSEUDO_MAP_FD, isCall, isLdImm64, opcodeInfo } from '../../src/ebpf/opcodes.js';

const ROOT = join(import.meta.dirname, '..', '..');

function objectFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.o'))
    .map((f) => join(ROOT, dir, f));
}

/** Instructions whose printed text drops a field (documented in disasm.ts / assemble.ts), so no text can bring them back. */
function textLosesFields(insn: Insn): boolean {
  const kind = opcodeInfo(insn.code)?.kind;
  if (kind === 'ld_ind' && insn.imm !== 0) return true;
  if (isCall(insn) && insn.src !== 0) return true;
  if (isLdImm64(insn) && insn.src !== 0 && (insn.imm2 ?? 0) !== 0) return true;
  return false;
}

describe('assembleProgram round trip', () => {
  const files = [...objectFiles('examples'), ...objectFiles('test/fixtures/isa')];

  test.each(files)('every instruction of %s', (file) => {
    const obj = loadObject(readFileSync(file), { path: file });
    let checked = 0;
    for (const prog of obj.programs) {
      for (let pc = 0; pc < prog.insns.length; pc++) {
        const insn = prog.insns[pc];
        if (textLosesFields(insn)) continue;
        const kind = opcodeInfo(insn.code)?.kind;
        // alu32 syntax decodes every 32-bit atomic; plain syntax must round-trip wherever LLVM prints it.
        for (const alu32 of [true, false]) {
          const text = disassembleInsn(insn, pc, { alu32 });
          if (text === '<unknown>') continue;
          // Plain LLVM prints a 32-bit fetch-add as a lock add; only the alu32 text carries the fetch.
          if (!alu32 && kind === 'atomic' && opcodeInfo(insn.code)?.size === 4 && insn.imm !== 0) continue;
          const back = assembleProgram(text);
          expect({ text, insn: back[0] }).toEqual({ text, insn });
          expect(back.length).toBe(insn.slots);
        }
        checked++;
        if (insn.slots === 2) pc++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});

describe('assembleProgram syntax', () => {
  test('comments, pc labels, jump labels and blank lines', () => {
    const insns = assembleProgram(
      ['; a comment', '', '   0:\tr0 = 0x0   # zero', '1: if r0 == 0x0 goto +0x1 <out>', '// c', 'r0 = 0x1', 'exit'].join('\n'),
    );
    expect(insns.map((i) => i.code)).toEqual([0xb7, 0x15, 0xb7, 0x95]);
    expect(insns[1].off).toBe(1);
  });

  test('ld_pseudo with spaces or a tab, and an ld_imm64 with its filler', () => {
    const [pseudo, filler, wide] = assembleProgram('ld_pseudo r1, 0x1, 0x0\nr2 = 0x123456789 ll');
    expect(pseudo).toEqual({ code: 0x18, dst: 1, src: BPF_PSEUDO_MAP_FD, off: 0, imm: 0, imm2: 0, slots: 2 });
    expect(filler).toEqual({ code: 0, dst: 0, src: 0, off: 0, imm: 0, slots: 1 });
    expect(wide).toMatchObject({ imm: 0x23456789, imm2: 1, slots: 2 });
    expect(assembleProgram('ld_pseudo\tr1, 0x1, 0x0')[0]).toEqual(pseudo);
  });

  test('.insn writes one raw slot, and encodeAssembled keeps a split ld_imm64', () => {
    const insns = assembleProgram('.insn 0x18, 0, 0, 0, 0x1\nexit');
    expect(insns).toEqual([
      { code: 0x18, dst: 0, src: 0, off: 0, imm: 1, slots: 1 },
      { code: 0x95, dst: 0, src: 0, off: 0, imm: 0, slots: 1 },
    ]);
    expect(Array.from(encodeAssembled(insns))).toEqual([0x18, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
  });

  test.each([
    ['r0 = 0x1\nr11 = 0x0', 2, 'no register r11'],
    ['exit\n\nfrobnicate r1', 3, 'not an instruction'],
    ['r1 += 0x100000000', 1, 'does not fit 32 bits'],
    ['if r1 == w2 goto +0x1', 1, 'mixed r and w'],
  ])('%j is one NC1026 naming line %d', (text, line, reason) => {
    let error: unknown;
    try {
      assembleProgram(text, { file: 'bad.bpf' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NicoffError);
    const d = (error as NicoffError).diagnostic;
    expect(d.code).toBe('NC1026');
    expect(d.message).toContain(`line ${line}`);
    expect(d.message).toContain(reason);
    expect(d.location.file).toBe('bad.bpf');
  });
});
