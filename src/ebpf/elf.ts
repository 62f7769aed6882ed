/**
 * A small ELF64 reader for eBPF relocatable objects (EM_BPF, ET_REL), either
 * byte order. It reads section headers, the symbol table and REL/RELA
 * sections, and nothing else.
 *
 * Every offset and size read from the file is checked against the file size
 * before use, and every count is bounded by the bytes that would hold it, so a
 * hostile header cannot make the reader allocate more than the file's size
 * suggests or read outside the buffer.
 */
import { fail } from '../diagnostics/diagnostic.js';
import type { Endian } from './insn.js';

export const EM_BPF = 247;
export const ET_REL = 1;

export const SHT = { NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, RELA: 4, NOBITS: 8, REL: 9 } as const;
export const SHF = { WRITE: 0x1, ALLOC: 0x2, EXECINSTR: 0x4 } as const;
export const STT = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4 } as const;
export const STB = { LOCAL: 0, GLOBAL: 1, WEAK: 2 } as const;
export const SHN_UNDEF = 0;
/** Section indices at or above this are special (ABS, COMMON, XINDEX). */
export const SHN_LORESERVE = 0xff00;

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const REL_SIZE = 16;
const RELA_SIZE = 24;
/** Longest name the reader returns; real BPF names are far shorter. */
const MAX_NAME = 4096;

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  /** The section's bytes; empty for NOBITS (.bss), whose size is still `size`. */
  data: Uint8Array;
}

export interface ElfSymbol {
  index: number;
  name: string;
  value: number;
  size: number;
  /** STT_* */
  type: number;
  /** STB_* */
  bind: number;
  visibility: number;
  /** Section index the symbol is defined in (0 = undefined). */
  shndx: number;
}

export interface ElfRelocation {
  /** Byte offset inside the target section. */
  offset: number;
  symbol: number;
  type: number;
  /** RELA only; REL relocations keep their addend in the patched bytes. */
  addend?: bigint;
}

export interface ElfRelocationSection {
  /** The REL/RELA section itself. */
  section: ElfSection;
  /** Index of the section the relocations patch (sh_info). */
  target: number;
  relocations: ElfRelocation[];
}

export interface ElfFile {
  endian: Endian;
  size: number;
  sections: ElfSection[];
  /** Symbols in table order; [0] is the null symbol. Empty when there is no .symtab. */
  symbols: ElfSymbol[];
  relocationSections: ElfRelocationSection[];
}

/** Bounds-checked field reads over the whole file. */
class FileReader {
  readonly dv: DataView;
  constructor(readonly bytes: Uint8Array, readonly le: boolean, readonly path?: string) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(what: string, start: number, length: number): void {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length) || start < 0 || length < 0 || start + length > this.bytes.length) {
      fail('NC1007', { what, start, end: start + length, size: this.bytes.length }, { file: this.path, offset: Number.isSafeInteger(start) ? start : undefined });
    }
  }
  u8(pos: number): number {
    return this.dv.getUint8(pos);
  }
  u16(pos: number): number {
    return this.dv.getUint16(pos, this.le);
  }
  u32(pos: number): number {
    return this.dv.getUint32(pos, this.le);
  }
  u64big(pos: number): bigint {
    return this.dv.getBigUint64(pos, this.le);
  }
  i64big(pos: number): bigint {
    return this.dv.getBigInt64(pos, this.le);
  }
}

/** A 64-bit field as a JS number, or the given failure when it cannot be one. */
function u64Number(r: FileReader, pos: number, onTooBig: () => never): number {
  const v = r.u64big(pos);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) onTooBig();
  return Number(v);
}

/** A NUL-terminated string inside `table`, never reading past its end. */
export function readCString(table: Uint8Array, offset: number): string | undefined {
  if (!Number.isInteger(offset) || offset < 0 || offset >= table.length) return undefined;
  const limit = Math.min(table.length, offset + MAX_NAME);
  let end = offset;
  while (end < limit && table[end] !== 0) end++;
  if (end === limit && (end === table.length || table[end] !== 0)) return undefined;
  return new TextDecoder('utf-8', { fatal: false }).decode(table.subarray(offset, end));
}

/**
 * `expect` defaults to an eBPF relocatable object; the NFP image reader asks for
 * its own machine and type and checks them itself, so both may be null.
 */
export function parseElf(
  bytes: Uint8Array,
  opts: { path?: string; expect?: { machine: number | null; type: number | null } } = {},
): ElfFile {
  const expect = opts.expect ?? { machine: EM_BPF, type: ET_REL };
  const path = opts.path;
  const loc = { file: path };
  if (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    fail('NC1002', { magic: magic || '(empty file)' }, { ...loc, offset: 0 });
  }
  if (bytes.length < 6) fail('NC1007', { what: 'ELF identification', start: 0, end: 16, size: bytes.length }, loc);
  if (bytes[4] !== 2) fail('NC1003', { cls: bytes[4] === 1 ? 'ELF32' : String(bytes[4]) }, { ...loc, offset: 4 });
  if (bytes[5] !== 1 && bytes[5] !== 2) fail('NC1004', { enc: bytes[5] }, { ...loc, offset: 5 });
  const le = bytes[5] === 1;
  const r = new FileReader(bytes, le, path);
  r.need('ELF header', 0, EHDR_SIZE);

  const type = r.u16(16);
  const machine = r.u16(18);
  if (expect.machine !== null && machine !== expect.machine) fail('NC1005', { machine }, { ...loc, offset: 18 });
  if (expect.type !== null && type !== expect.type) fail('NC1006', { type }, { ...loc, offset: 16 });
  const shoff = u64Number(r, 40, () => fail('NC1008', { reason: 'e_shoff is beyond any file size' }, { ...loc, offset: 40 }));
  const shentsize = r.u16(58);
  let shnum = r.u16(60);
  let shstrndx = r.u16(62);
  if (shoff === 0) fail('NC1008', { reason: 'no section header table (e_shoff is 0)' }, { ...loc, offset: 40 });
  if (shentsize !== SHDR_SIZE) fail('NC1008', { reason: `e_shentsize is ${shentsize}, expected ${SHDR_SIZE}` }, { ...loc, offset: 58 });
  r.need('section header 0', shoff, SHDR_SIZE);
  // Extended numbering: the real counts live in section header 0.
  if (shnum === 0) {
    shnum = u64Number(r, shoff + 32, () => fail('NC1008', { reason: 'extended section count is too large' }, { ...loc, offset: shoff + 32 }));
  }
  if (shstrndx === 0xffff) shstrndx = r.u32(shoff + 40);
  r.need('section header table', shoff, shnum * SHDR_SIZE);
  if (shstrndx >= shnum) fail('NC1008', { reason: `e_shstrndx ${shstrndx} is not below the section count ${shnum}` }, { ...loc, offset: 62 });

  const sections: ElfSection[] = [];
  const nameOffsets: number[] = [];
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * SHDR_SIZE;
    const bad = (reason: string): never => fail('NC1009', { index: i, reason }, { ...loc, offset: h });
    const sType = r.u32(h + 4);
    const flags = Number(r.u64big(h + 8) & 0xffffffffn);
    const offset = u64Number(r, h + 24, () => bad('sh_offset is too large'));
    const size = u64Number(r, h + 32, () => bad('sh_size is too large'));
    const addralign = u64Number(r, h + 48, () => bad('sh_addralign is too large'));
    const entsize = u64Number(r, h + 56, () => bad('sh_entsize is too large'));
    let data: Uint8Array = new Uint8Array(0);
    if (sType !== SHT.NOBITS && sType !== SHT.NULL) {
      r.need(`section ${i} contents`, offset, size);
      data = bytes.subarray(offset, offset + size);
    }
    sections.push({ index: i, name: '', type: sType, flags, offset, size, link: r.u32(h + 40), info: r.u32(h + 44), addralign, entsize, data });
    // Names are resolved once the section-name table is known.
    nameOffsets.push(r.u32(h));
  }
  const shstrtab = sections[shstrndx];
  if (shstrtab.type !== SHT.STRTAB) fail('NC1010', { reason: `section-name table (section ${shstrndx}) has type ${shstrtab.type}, not STRTAB` }, loc);
  for (const s of sections) {
    if (s.index === 0) continue;
    const nameOffset = nameOffsets[s.index];
    const name = readCString(shstrtab.data, nameOffset);
    if (name === undefined) fail('NC1010', { reason: `section ${s.index} name offset ${nameOffset} is outside the section-name table or unterminated` }, { ...loc, offset: shstrtab.offset });
    s.name = name;
  }

  const symbols = readSymbols(r, sections, loc);
  const relocationSections: ElfRelocationSection[] = [];
  for (const s of sections) {
    if (s.type !== SHT.REL && s.type !== SHT.RELA) continue;
    relocationSections.push(readRelocations(r, s, sections, symbols.length, loc));
  }
  return { endian: le ? 'le' : 'be', size: bytes.length, sections, symbols, relocationSections };
}

function readSymbols(r: FileReader, sections: ElfSection[], loc: { file?: string }): ElfSymbol[] {
  const symtabs = sections.filter((s) => s.type === SHT.SYMTAB);
  if (symtabs.length === 0) return [];
  if (symtabs.length > 1) fail('NC1011', { reason: 'more than one SHT_SYMTAB section' }, loc);
  const symtab = symtabs[0];
  const where = { ...loc, offset: symtab.offset, section: symtab.name };
  if (symtab.entsize !== SYM_SIZE) fail('NC1011', { reason: `entry size ${symtab.entsize}, expected ${SYM_SIZE}` }, where);
  if (symtab.size % SYM_SIZE !== 0) fail('NC1011', { reason: `size ${symtab.size} is not a multiple of ${SYM_SIZE}` }, where);
  if (symtab.link >= sections.length || sections[symtab.link].type !== SHT.STRTAB) {
    fail('NC1011', { reason: `sh_link ${symtab.link} does not name a string table` }, where);
  }
  const strtab = sections[symtab.link].data;
  // symtab.data was bounds-checked against the file, so the count is bounded by the file size.
  const count = symtab.size / SYM_SIZE;
  const symbols: ElfSymbol[] = [];
  for (let i = 0; i < count; i++) {
    const p = symtab.offset + i * SYM_SIZE;
    const bad = (reason: string): never => fail('NC1011', { reason: `symbol ${i}: ${reason}` }, { ...where, offset: p });
    const nameOffset = r.u32(p);
    const info = r.u8(p + 4);
    const shndx = r.u16(p + 6);
    const value = u64Number(r, p + 8, () => bad('st_value is too large'));
    const size = u64Number(r, p + 16, () => bad('st_size is too large'));
    const type = info & 0xf;
    let name = readCString(strtab, nameOffset) ?? bad(`name offset ${nameOffset} is outside the string table or unterminated`);
    // Section symbols are nameless in clang output; name them after their section.
    if (type === STT.SECTION && name === '' && shndx < sections.length) name = sections[shndx].name;
    symbols.push({ index: i, name, value, size, type, bind: info >> 4, visibility: r.u8(p + 5) & 0x3, shndx });
  }
  return symbols;
}

function readRelocations(
  r: FileReader,
  s: ElfSection,
  sections: ElfSection[],
  symbolCount: number,
  loc: { file?: string },
): ElfRelocationSection {
  const rela = s.type === SHT.RELA;
  const entry = rela ? RELA_SIZE : REL_SIZE;
  const where = { ...loc, offset: s.offset, section: s.name };
  if (s.size % entry !== 0) fail('NC1012', { index: 0, section: s.name, reason: `section size ${s.size} is not a multiple of ${entry}` }, where);
  if (s.info === 0 || s.info >= sections.length) fail('NC1012', { index: 0, section: s.name, reason: `sh_info ${s.info} does not name a section` }, where);
  const target = sections[s.info];
  const relocations: ElfRelocation[] = [];
  const count = s.size / entry;
  for (let i = 0; i < count; i++) {
    const p = s.offset + i * entry;
    const offset = u64Number(r, p, () => fail('NC1012', { index: i, section: s.name, reason: 'r_offset is too large' }, { ...where, offset: p }));
    const info = r.u64big(p + 8);
    const symbol = Number(info >> 32n);
    const type = Number(info & 0xffffffffn);
    if (offset >= target.size) {
      fail('NC1012', { index: i, section: s.name, reason: `offset ${offset} is outside ${target.name} (size ${target.size})` }, { ...where, offset: p });
    }
    if (symbol >= symbolCount) fail('NC1013', { index: i, section: s.name, symbol: `#${symbol}` }, { ...where, offset: p });
    const rel: ElfRelocation = { offset, symbol, type };
    if (rela) rel.addend = r.i64big(p + 16);
    relocations.push(rel);
  }
  return { section: s, target: s.info, relocations };
}

export function sectionByName(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}
