import { describe, test, expect } from '@jest/globals';
import { parseElf, SHT, STT, STB } from '../../src/ebpf/elf.js';
import { codeOf, fixtureNames, fixturePath, readFixture, run, toolAvailable } from '../fixtures/objects/oracle.js';

const READELF = 'llvm-readelf-19';
const haveReadelf = toolAvailable(READELF);
const withReadelf = haveReadelf ? test : test.skip;

const SECTION_TYPE_NAMES: Record<number, string> = {
  [SHT.NULL]: 'NULL', [SHT.PROGBITS]: 'PROGBITS', [SHT.SYMTAB]: 'SYMTAB', [SHT.STRTAB]: 'STRTAB',
  [SHT.RELA]: 'RELA', [SHT.NOBITS]: 'NOBITS', [SHT.REL]: 'REL', 0x6fff4c03: 'LLVM_ADDRSIG',
};
const SYMBOL_TYPE_NAMES: Record<number, string> = { [STT.NOTYPE]: 'NOTYPE', [STT.OBJECT]: 'OBJECT', [STT.FUNC]: 'FUNC', [STT.SECTION]: 'SECTION', [STT.FILE]: 'FILE' };
const BIND_NAMES: Record<number, string> = { [STB.LOCAL]: 'LOCAL', [STB.GLOBAL]: 'GLOBAL', [STB.WEAK]: 'WEAK' };

describe('parseElf against llvm-readelf-19', () => {
  for (const name of fixtureNames()) {
    withReadelf(`${name}: sections match -S`, () => {
      const elf = parseElf(readFixture(name));
      const lines = run(READELF, ['-S', '--wide', fixturePath(name)]).split('\n');
      const rows = lines
        .map((l) => /^\s*\[\s*(\d+)\]\s+(\S*)\s+(\S+)\s+([0-9a-f]{16})\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+(\S*)\s*(\d+)\s+(\d+)\s+(\d+)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null);
      expect(rows.length).toBe(elf.sections.length);
      for (const m of rows) {
        const s = elf.sections[Number(m[1])];
        expect(s.name).toBe(m[2]);
        expect(SECTION_TYPE_NAMES[s.type] ?? `0x${s.type.toString(16)}`).toBe(m[3]);
        expect(s.offset).toBe(parseInt(m[5], 16));
        expect(s.size).toBe(parseInt(m[6], 16));
        expect(s.entsize).toBe(parseInt(m[7], 16));
        expect(s.flags & 0x4 ? 'X' : '').toBe(m[8].includes('X') ? 'X' : '');
        expect(s.link).toBe(Number(m[9]));
        expect(s.info).toBe(Number(m[10]));
        expect(s.addralign).toBe(Number(m[11]));
      }
    });

    withReadelf(`${name}: symbols match -s`, () => {
      const elf = parseElf(readFixture(name));
      const rows = run(READELF, ['-s', '--wide', fixturePath(name)])
        .split('\n')
        .map((l) => /^\s*(\d+):\s+([0-9a-f]{16})\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null);
      expect(rows.length).toBe(elf.symbols.length);
      for (const m of rows) {
        const y = elf.symbols[Number(m[1])];
        expect(y.value).toBe(parseInt(m[2], 16));
        expect(y.size).toBe(Number(m[3]));
        expect(SYMBOL_TYPE_NAMES[y.type]).toBe(m[4]);
        expect(BIND_NAMES[y.bind]).toBe(m[5]);
        expect(m[7] === 'UND' ? 0 : m[7] === 'ABS' ? 0xfff1 : Number(m[7])).toBe(y.shndx);
        expect(y.name).toBe(m[8]);
      }
    });

    withReadelf(`${name}: relocations match -r`, () => {
      const elf = parseElf(readFixture(name));
      const out = run(READELF, ['-r', '--wide', fixturePath(name)]);
      const blocks = out.split(/\nRelocation section '/).slice(1);
      expect(blocks.length).toBe(elf.relocationSections.length);
      for (const block of blocks) {
        const secName = block.slice(0, block.indexOf("'"));
        const rs = elf.relocationSections.find((r) => r.section.name === secName);
        expect(rs).toBeDefined();
        const rows = block
          .split('\n')
          .map((l) => /^([0-9a-f]{16})\s+([0-9a-f]{16})\s+(\S+)/.exec(l))
          .filter((m): m is RegExpExecArray => m !== null);
        expect(rows.length).toBe(rs!.relocations.length);
        rows.forEach((m, i) => {
          const info = BigInt('0x' + m[2]);
          expect(rs!.relocations[i].offset).toBe(parseInt(m[1], 16));
          expect(rs!.relocations[i].symbol).toBe(Number(info >> 32n));
          expect(rs!.relocations[i].type).toBe(Number(info & 0xffffffffn));
        });
      }
    });
  }

  test('the big-endian copy has the same symbols and relocations as the little-endian one', () => {
    const le = parseElf(readFixture('globals.o'));
    const be = parseElf(readFixture('globals-eb.o'));
    expect(be.endian).toBe('be');
    expect(le.endian).toBe('le');
    expect(be.symbols.map((s) => [s.name, s.value, s.size, s.type, s.bind])).toEqual(le.symbols.map((s) => [s.name, s.value, s.size, s.type, s.bind]));
    expect(be.relocationSections.map((r) => r.relocations)).toEqual(le.relocationSections.map((r) => r.relocations));
  });
});

describe('parseElf rejects bad headers with their own codes', () => {
  const base = readFixture('globals.o');
  const patched = (edit: (b: Uint8Array, dv: DataView) => void): Uint8Array => {
    const b = new Uint8Array(base);
    edit(b, new DataView(b.buffer));
    return b;
  };
  const shoff = Number(new DataView(base.buffer, base.byteOffset).getBigUint64(40, true));
  const symtabIndex = parseElf(base).sections.findIndex((s) => s.type === SHT.SYMTAB);

  test.each([
    ['empty file', new Uint8Array(0), 'NC1002'],
    ['not ELF', new TextEncoder().encode('hello world, not an object'), 'NC1002'],
    ['ELF32', patched((b) => (b[4] = 1)), 'NC1003'],
    ['bad data encoding', patched((b) => (b[5] = 3)), 'NC1004'],
    ['x86-64 machine', patched((b, dv) => dv.setUint16(18, 62, true)), 'NC1005'],
    ['executable type', patched((b, dv) => dv.setUint16(16, 2, true)), 'NC1006'],
    ['truncated header', base.subarray(0, 40), 'NC1007'],
    ['truncated section table', base.subarray(0, shoff + 100), 'NC1007'],
    ['section offset beyond the file', patched((b, dv) => dv.setBigUint64(shoff + 2 * 64 + 24, 0xffffffffn, true)), 'NC1007'],
    ['wrong e_shentsize', patched((b, dv) => dv.setUint16(58, 40, true)), 'NC1008'],
    ['shstrndx out of range', patched((b, dv) => dv.setUint16(62, 999, true)), 'NC1008'],
    ['symtab entsize 0', patched((b, dv) => dv.setBigUint64(shoff + symtabIndex * 64 + 56, 0n, true)), 'NC1011'],
  ])('%s -> %s', (_what, bytes, code) => {
    expect(codeOf(() => parseElf(bytes))).toBe(code);
  });

  test('a symbol table claiming 2^32 entries fails fast instead of allocating', () => {
    const bytes = patched((b, dv) => dv.setBigUint64(shoff + symtabIndex * 64 + 32, 0xffffffffn * 24n, true));
    const t0 = performance.now();
    expect(codeOf(() => parseElf(bytes))).toBe('NC1007');
    expect(performance.now() - t0).toBeLessThan(100);
  });

  test('section-name offsets outside the string table are reported, not read', () => {
    const bytes = patched((b, dv) => dv.setUint32(shoff + 3 * 64, 0x7fffffff, true));
    expect(codeOf(() => parseElf(bytes))).toBe('NC1010');
  });
});
