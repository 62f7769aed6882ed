/**
 * Turns a clang-built eBPF object into a BpfObject: programs linked and
 * relocated the way libbpf prepares them for BPF_PROG_LOAD (before map fds are
 * known), map definitions, global data, license, BTF and BTF.ext info.
 *
 * Linking follows libbpf's bpf_object__reloc_code: each program is its entry
 * function followed by every subprogram it reaches (transitively), each
 * appended once in the order the scan first meets it; bpf-to-bpf call
 * immediates and BPF_PSEUDO_FUNC ld_imm64 are rebased to that layout.
 *
 * Map indices (the `imm` of relocated ld_imm64) are positions in
 * BpfObject.maps: BTF `.maps` definitions in section-offset order, then legacy
 * `maps` definitions in section-offset order, then one ARRAY map per global
 * data section in section order.
 */
import { fail } from '../diagnostics/diagnostic.js';
import type { BpfObject, BpfProgram, CoreRelocation, FuncInfo, MapDef, MapReference, SourceLine } from './bpf-object.js';
import { MAP_TYPE } from './bpf-object.js';
import { Btf, BTF_KIND } from './btf.js';
import { parseBtfExt, type BtfExt } from './btf-ext.js';
import { parseElf, SHF, SHN_LORESERVE, SHN_UNDEF, SHT, STB, STT, type ElfFile, type ElfRelocation, type ElfSection, type ElfSymbol } from './elf.js';
import { decodeSlot, LD_IMM64, type Endian, type Insn } from './insn.js';
import { BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, isCall, isPseudoCall } from './opcodes.js';
import { ldImm64Filler } from './decode.js';
import { encodeProgram } from './encode.js';
import { programTypeForSection } from './section-types.js';

export const R_BPF = { NONE: 0, R_64_64: 1, ABS64: 2, ABS32: 3, NODYLD32: 4, R_64_32: 10 } as const;

/** kernel BPF_F_MMAPABLE and BPF_F_RDONLY_PROG, which libbpf sets on global-data maps. */
const BPF_F_MMAPABLE = 0x400;
const BPF_F_RDONLY_PROG = 0x80;
/** Smallest legacy struct bpf_map_def: type, key_size, value_size, max_entries, map_flags. */
const LEGACY_MAP_DEF_MIN = 20;
/** iproute2's struct bpf_elf_map, the one legacy layout with a pinning field (at byte 24). */
const BPF_ELF_MAP_SIZE = 36;
const BPF_OBJ_NAME_LEN = 16;
/** Largest .bss-style (NOBITS) section turned into a map: its zeros are allocated, and the file does not bound them. */
export const MAX_GLOBAL_DATA_SIZE = 16 * 1024 * 1024;

export interface LoadOptions {
  /** Shown in diagnostics; its basename also prefixes global-data map names, as libbpf does. */
  path?: string;
}

/** A function symbol's extent inside an executable section, in slots. */
interface CodeFunction {
  name: string;
  section: CodeSection;
  start: number;
  length: number;
  global: boolean;
}

interface CodeSection {
  elf: ElfSection;
  /** One entry per slot; the slot after an ld_imm64 holds the filler entry. */
  slots: Insn[];
  /** Relocations by slot index. */
  relocs: Map<number, ElfRelocation>;
  functions: CodeFunction[];
}

interface MapTarget {
  byOffset: Map<string, number>;
  globalBySection: Map<number, number>;
}

export function loadObject(bytes: Uint8Array, opts: LoadOptions = {}): BpfObject {
  const path = opts.path;
  const loc = { file: path };
  const elf = parseElf(bytes, { path });
  const warnings: string[] = [];

  const btfSection = elf.sections.find((s) => s.name === '.BTF');
  const btf = btfSection ? Btf.parse(btfSection.data, elf.endian) : undefined;
  const extSection = elf.sections.find((s) => s.name === '.BTF.ext');
  let ext: BtfExt | undefined;
  if (extSection) {
    if (!btf) warnings.push('.BTF.ext present without .BTF: line and function info ignored');
    else ext = parseBtfExt(extSection.data, elf.endian, btf);
  }

  const license = readLicense(elf);
  const kernelVersion = readVersion(elf, loc);

  const maps: MapDef[] = [];
  const targets: MapTarget = { byOffset: new Map(), globalBySection: new Map() };
  collectBtfMaps(elf, btf, maps, targets, warnings, loc);
  collectLegacyMaps(elf, maps, targets, loc);
  collectGlobalData(elf, btf, maps, targets, path, loc);

  const code = collectCode(elf, loc);
  const programs: BpfProgram[] = [];
  for (const cs of code.values()) {
    if (cs.elf.name === '.text') continue;
    const entries = cs.functions.filter((f) => f.global);
    if (entries.length === 0) {
      if (cs.functions.length === 0) warnings.push(`executable section ${cs.elf.name} has no function symbols; skipped`);
      continue;
    }
    const kind = programTypeForSection(cs.elf.name) ?? fail('NC1016', { section: cs.elf.name }, { ...loc, section: cs.elf.name, offset: cs.elf.offset });
    for (const entry of entries) {
      const { program, origins } = linkProgram(entry, elf, code, targets, loc);
      program.type = kind.type;
      if (kind.attachType !== undefined) program.attachType = kind.attachType;
      if (ext && btf) attachExtInfo(program, origins, ext, btf);
      programs.push(program);
    }
  }

  const obj: BpfObject = {
    endian: elf.endian,
    programs,
    maps,
    license,
    hasBtf: btf !== undefined,
    hasBtfExt: ext !== undefined,
    warnings,
  };
  if (path !== undefined) obj.path = path;
  if (kernelVersion !== undefined) obj.kernelVersion = kernelVersion;
  if (btf) obj.btf = btf;
  return obj;
}

/** The named program (by function name, else by section name), or the first one when no name is given. */
export function findProgram(obj: BpfObject, name?: string): BpfProgram {
  if (obj.programs.length === 0) fail('NC1023', {}, { file: obj.path });
  if (name === undefined) return obj.programs[0];
  const found = obj.programs.find((p) => p.name === name) ?? obj.programs.find((p) => p.section === name);
  return found ?? fail('NC1022', { name, known: obj.programs.map((p) => p.name).join(', ') }, { file: obj.path });
}

// ---------------------------------------------------------------- license, version

function readLicense(elf: ElfFile): string {
  const s = elf.sections.find((x) => x.name === 'license');
  if (!s) return '';
  const nul = s.data.indexOf(0);
  return new TextDecoder('utf-8', { fatal: false }).decode(nul >= 0 ? s.data.subarray(0, nul) : s.data);
}

function readVersion(elf: ElfFile, loc: { file?: string }): number | undefined {
  const s = elf.sections.find((x) => x.name === 'version');
  if (!s) return undefined;
  if (s.size !== 4 || s.data.length !== 4) fail('NC1024', { reason: `version section is ${s.size} bytes, expected 4` }, { ...loc, section: 'version', offset: s.offset });
  return new DataView(s.data.buffer, s.data.byteOffset, 4).getUint32(0, elf.endian === 'le');
}

// ---------------------------------------------------------------- maps

function mapKey(shndx: number, offset: number): string {
  return `${shndx}:${offset}`;
}

function collectBtfMaps(elf: ElfFile, btf: Btf | undefined, maps: MapDef[], targets: MapTarget, warnings: string[], loc: { file?: string }): void {
  const section = elf.sections.find((s) => s.name === '.maps');
  if (!section) return;
  if (!btf) fail('NC1017', { map: '.maps', reason: 'BTF-defined maps need a .BTF section' }, { ...loc, section: '.maps' });
  const datasec = btf.find('.maps', BTF_KIND.DATASEC);
  if (!datasec) fail('NC1017', { map: '.maps', reason: 'no DATASEC .maps in BTF' }, { ...loc, section: '.maps' });
  // clang leaves DATASEC offsets at 0 (libbpf fills them in); the symbols give each map's place.
  const defs: { offset: number; name: string; typeId: number }[] = [];
  for (const info of datasec.secinfos ?? []) {
    const v = btf.type(info.type);
    if (!v || v.kind !== BTF_KIND.VAR) fail('NC1017', { map: '.maps', reason: `DATASEC entry type ${info.type} is not a VAR` }, { ...loc, section: '.maps' });
    const sym = elf.symbols.find((y) => y.shndx === section.index && y.name === v.name && y.type !== STT.SECTION);
    if (!sym) fail('NC1017', { map: v.name, reason: 'no symbol in .maps for this BTF variable' }, { ...loc, section: '.maps' });
    defs.push({ offset: sym.value, name: v.name, typeId: v.type ?? 0 });
  }
  defs.sort((a, b) => a.offset - b.offset);
  for (const d of defs) {
    const def = parseBtfMapDef(btf, d.name, d.typeId, false, warnings, loc);
    def.index = maps.length;
    maps.push(def);
    targets.byOffset.set(mapKey(section.index, d.offset), def.index);
  }
}

/** One BTF map definition struct: members are `int (*name)[N]` encodings, `key`/`value` pointers, and `values` for map-in-map. */
function parseBtfMapDef(btf: Btf, name: string, typeId: number, inner: boolean, warnings: string[], loc: { file?: string }): MapDef {
  const bad = (reason: string): never => fail('NC1017', { map: name, reason }, { ...loc, section: '.maps' });
  const st = btf.type(btf.resolve(typeId));
  if (!st || st.kind !== BTF_KIND.STRUCT) return bad(`definition type ${typeId} is not a struct`);
  const def: MapDef = { index: -1, name, type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, origin: 'btf' };
  let haveType = false;
  let innerType: number | undefined;
  /** `__uint(name, N)` is `int (*name)[N]`: the number is the array's element count. */
  const encodedNumber = (member: string, id: number): number => {
    const ptr = btf.type(btf.resolve(id));
    if (!ptr || ptr.kind !== BTF_KIND.PTR) return bad(`member ${member} is not a pointer to an array`);
    const arr = btf.type(btf.resolve(ptr.type ?? 0));
    if (!arr || arr.kind !== BTF_KIND.ARRAY || !arr.array) return bad(`member ${member} is not a pointer to an array`);
    return arr.array.nelems;
  };
  const pointee = (member: string, id: number): number => {
    const ptr = btf.type(btf.resolve(id));
    if (!ptr || ptr.kind !== BTF_KIND.PTR) return bad(`member ${member} is not a pointer`);
    return ptr.type ?? 0;
  };
  for (const m of st.members ?? []) {
    switch (m.name) {
      case 'type':
        def.type = encodedNumber(m.name, m.type);
        haveType = true;
        break;
      case 'max_entries':
        def.maxEntries = encodedNumber(m.name, m.type);
        break;
      case 'map_flags':
        def.flags = encodedNumber(m.name, m.type);
        break;
      case 'key_size':
        def.keySize = encodedNumber(m.name, m.type);
        break;
      case 'value_size':
        def.valueSize = encodedNumber(m.name, m.type);
        break;
      case 'pinning':
        def.pinning = encodedNumber(m.name, m.type);
        break;
      case 'numa_node':
      case 'map_extra':
        encodedNumber(m.name, m.type);
        break;
      case 'key': {
        const t = pointee(m.name, m.type);
        const size = btf.sizeOf(t);
        if (def.keySize && def.keySize !== size) bad(`key_size ${def.keySize} disagrees with key type size ${size}`);
        def.keySize = size;
        def.keyTypeId = t;
        break;
      }
      case 'value': {
        const t = pointee(m.name, m.type);
        const size = btf.sizeOf(t);
        if (def.valueSize && def.valueSize !== size) bad(`value_size ${def.valueSize} disagrees with value type size ${size}`);
        def.valueSize = size;
        def.valueTypeId = t;
        break;
      }
      case 'values': {
        // __array(values, T) is `T *values[]`: an array of pointers to the inner definition (or to a function for prog arrays).
        const arr = btf.type(btf.resolve(m.type));
        if (!arr || arr.kind !== BTF_KIND.ARRAY || !arr.array) return bad('member values is not an array');
        innerType = pointee('values', arr.array.type);
        break;
      }
      default:
        warnings.push(`map ${name}: unknown definition field ${m.name} ignored`);
    }
  }
  if (!haveType) bad('no map type');
  if (innerType !== undefined) {
    const isMapInMap = def.type === MAP_TYPE.array_of_maps || def.type === MAP_TYPE.hash_of_maps;
    if (isMapInMap) {
      if (inner) bad('map-in-map nested more than one level');
      // The template is not itself in BpfObject.maps: its index stays -1 and it is named `<outer>.inner`.
      def.inner = parseBtfMapDef(btf, `${name}.inner`, innerType, true, warnings, loc);
    } else if (def.type !== MAP_TYPE.prog_array) {
      bad('values is only allowed for map-in-map and prog_array maps');
    }
    // Slots of map-in-map and prog arrays hold 4-byte ids (libbpf forces value_size 4).
    if (def.valueSize && def.valueSize !== 4) bad(`value_size ${def.valueSize} must be 4 for a map with values`);
    def.valueSize = 4;
  }
  return def;
}

function collectLegacyMaps(elf: ElfFile, maps: MapDef[], targets: MapTarget, loc: { file?: string }): void {
  const le = elf.endian === 'le';
  for (const s of elf.sections) {
    if (s.name !== 'maps' && !s.name.startsWith('maps/')) continue;
    const syms = elf.symbols
      .filter((y) => y.shndx === s.index && y.type !== STT.SECTION && y.type !== STT.FILE && y.name !== '')
      .sort((a, b) => a.value - b.value);
    if (syms.length === 0) continue;
    const where = { ...loc, section: s.name, offset: s.offset };
    if (s.size % syms.length !== 0) {
      fail('NC1017', { map: s.name, reason: `section size ${s.size} is not a multiple of its ${syms.length} map symbols` }, where);
    }
    const recSize = s.size / syms.length;
    if (recSize < LEGACY_MAP_DEF_MIN) fail('NC1017', { map: s.name, reason: `record size ${recSize} is smaller than struct bpf_map_def (${LEGACY_MAP_DEF_MIN})` }, where);
    for (const sym of syms) {
      if (sym.value + recSize > s.size) fail('NC1017', { map: sym.name, reason: `definition at ${sym.value} runs past the ${s.size}-byte section` }, where);
      // NOBITS (all-zero) definitions read as zeros.
      const field = (i: number): number => (s.data.length ? new DataView(s.data.buffer, s.data.byteOffset + sym.value, recSize).getUint32(i * 4, le) : 0);
      const def: MapDef = {
        index: maps.length,
        name: sym.name,
        type: field(0),
        keySize: field(1),
        valueSize: field(2),
        maxEntries: field(3),
        flags: field(4),
        origin: 'legacy',
      };
      if (recSize === BPF_ELF_MAP_SIZE) def.pinning = field(6);
      maps.push(def);
      targets.byOffset.set(mapKey(s.index, sym.value), def.index);
    }
  }
}

const GLOBAL_DATA = /^\.(data|rodata|bss)(\..+)?$/;

function collectGlobalData(elf: ElfFile, btf: Btf | undefined, maps: MapDef[], targets: MapTarget, path: string | undefined, loc: { file?: string }): void {
  const objName = libbpfObjectName(path);
  for (const s of elf.sections) {
    if (!GLOBAL_DATA.test(s.name) || (s.flags & SHF.ALLOC) === 0 || (s.flags & SHF.EXECINSTR) !== 0) continue;
    if (s.type !== SHT.PROGBITS && s.type !== SHT.NOBITS) continue;
    if (s.size === 0) continue;
    if (s.size > MAX_GLOBAL_DATA_SIZE) {
      fail('NC1017', { map: s.name, reason: `global data section of ${s.size} bytes exceeds nicoff's ${MAX_GLOBAL_DATA_SIZE}-byte limit` }, { ...loc, section: s.name });
    }
    const readOnly = s.name.startsWith('.rodata');
    const initialValue = new Uint8Array(s.size);
    if (s.type === SHT.PROGBITS) initialValue.set(s.data);
    const def: MapDef = {
      index: maps.length,
      name: globalDataMapName(objName, s.name),
      type: MAP_TYPE.array,
      keySize: 4,
      valueSize: s.size,
      maxEntries: 1,
      flags: BPF_F_MMAPABLE | (readOnly ? BPF_F_RDONLY_PROG : 0),
      origin: 'global-data',
      section: s.name,
      initialValue,
      readOnly,
    };
    const datasec = btf?.find(s.name, BTF_KIND.DATASEC);
    if (datasec) def.valueTypeId = datasec.id;
    maps.push(def);
    targets.globalBySection.set(s.index, def.index);
  }
}

/** libbpf's object name: the file's basename up to its first dot (at most 15 characters); "obj" for bytes without a path. */
function libbpfObjectName(path: string | undefined): string {
  if (path === undefined) return 'obj';
  const base = path.split('/').pop() ?? path;
  const name = base.slice(0, BPF_OBJ_NAME_LEN - 1).split('.')[0];
  return name || 'obj';
}

/**
 * libbpf's internal_map_name: up to 8 characters of the object name, then the
 * section name (`globals.rodata`); custom sections with a second dot
 * (`.rodata.str1.1`) keep only the section name. Cut to 15 characters and
 * characters the kernel refuses become `_`.
 */
export function globalDataMapName(objName: string, section: string): string {
  const sfxLen = Math.min(Math.max(7, section.length), BPF_OBJ_NAME_LEN - 1);
  const pfxLen = section.indexOf('.', 1) >= 0 ? 0 : Math.min(BPF_OBJ_NAME_LEN - sfxLen - 1, objName.length);
  const name = (objName.slice(0, pfxLen) + section.slice(0, sfxLen)).slice(0, BPF_OBJ_NAME_LEN - 1);
  return name.replace(/[^A-Za-z0-9_.]/g, '_');
}

// ---------------------------------------------------------------- code

function collectCode(elf: ElfFile, loc: { file?: string }): Map<number, CodeSection> {
  const code = new Map<number, CodeSection>();
  for (const s of elf.sections) {
    if (s.type !== SHT.PROGBITS || (s.flags & SHF.EXECINSTR) === 0) continue;
    if (s.size % 8 !== 0) fail('NC1015', { section: s.name, size: s.size }, { ...loc, section: s.name, offset: s.offset });
    code.set(s.index, { elf: s, slots: decodeSection(s, elf.endian, loc), relocs: new Map(), functions: [] });
  }
  for (const rs of elf.relocationSections) {
    const cs = code.get(rs.target);
    const where = { ...loc, section: rs.section.name, offset: rs.section.offset };
    rs.relocations.forEach((r, i) => {
      if (cs) {
        if (r.type !== R_BPF.NONE && r.type !== R_BPF.R_64_64 && r.type !== R_BPF.R_64_32) fail('NC1014', { type: r.type, section: rs.section.name }, where);
        if (r.offset % 8 !== 0) fail('NC1012', { index: i, section: rs.section.name, reason: `offset ${r.offset} is not on an instruction boundary` }, where);
        cs.relocs.set(r.offset / 8, r);
      } else if (r.type > R_BPF.NODYLD32 && r.type !== R_BPF.R_64_32) {
        fail('NC1014', { type: r.type, section: rs.section.name }, where);
      }
    });
  }
  for (const sym of elf.symbols) {
    if (sym.type !== STT.FUNC) continue;
    const cs = code.get(sym.shndx);
    if (!cs) continue;
    const bad = (reason: string): never => fail('NC1011', { reason: `function ${sym.name}: ${reason}` }, { ...loc, section: cs.elf.name });
    if (sym.value % 8 !== 0 || sym.size % 8 !== 0) bad(`value ${sym.value} or size ${sym.size} is not a multiple of 8`);
    if (sym.value + sym.size > cs.elf.size) bad(`extent ${sym.value}..${sym.value + sym.size} is outside ${cs.elf.name} (${cs.elf.size} bytes)`);
    if (cs.functions.some((f) => f.start === sym.value / 8)) continue; // an alias
    cs.functions.push({ name: sym.name, section: cs, start: sym.value / 8, length: sym.size / 8, global: sym.bind === STB.GLOBAL || sym.bind === STB.WEAK });
  }
  for (const cs of code.values()) {
    cs.functions.sort((a, b) => a.start - b.start);
    // Size-less symbols (hand-written assembly) run to the next function or the section end.
    cs.functions.forEach((f, i) => {
      if (f.length === 0) f.length = (i + 1 < cs.functions.length ? cs.functions[i + 1].start : cs.slots.length) - f.start;
    });
  }
  return code;
}

function decodeSection(s: ElfSection, endian: Endian, loc: { file?: string }): Insn[] {
  const n = s.size / 8;
  const slots: Insn[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const f = decodeSlot(s.data, i * 8, endian);
    if (f.code === LD_IMM64) {
      if (i + 1 >= n) fail('NC1020', { section: s.name, offset: i * 8, reason: 'ld_imm64 is missing its second slot' }, { ...loc, section: s.name });
      const second = decodeSlot(s.data, (i + 1) * 8, endian);
      slots[i] = { ...f, imm2: second.imm, slots: 2 };
      slots[i + 1] = ldImm64Filler();
      i++;
    } else {
      slots[i] = { ...f, slots: 1 };
    }
  }
  return slots;
}

function functionAt(cs: CodeSection, slot: number): CodeFunction | undefined {
  return cs.functions.find((f) => slot >= f.start && slot < f.start + f.length);
}

function linkProgram(
  entry: CodeFunction,
  elf: ElfFile,
  code: Map<number, CodeSection>,
  targets: MapTarget,
  loc: { file?: string },
): { program: BpfProgram; origins: number[] } {
  const insns: Insn[] = [];
  const mapRefs: MapReference[] = [];
  const placed: { fn: CodeFunction; at: number }[] = [];
  const placedAt = new Map<CodeFunction, number>();
  const place = (fn: CodeFunction): number => {
    let at = placedAt.get(fn);
    if (at === undefined) {
      at = placed.length === 0 ? 0 : placed[placed.length - 1].at + placed[placed.length - 1].fn.length;
      placed.push({ fn, at });
      placedAt.set(fn, at);
    }
    return at;
  };
  place(entry);

  // `placed` grows while it is scanned: appended subprograms are linked in turn.
  for (let p = 0; p < placed.length; p++) {
    const { fn, at } = placed[p];
    const cs = fn.section;
    const secName = cs.elf.name;
    for (let k = 0; k < fn.length; k++) {
      const slot = fn.start + k;
      const pc = at + k;
      const src = cs.slots[slot];
      const where = { ...loc, section: secName, offset: cs.elf.offset + slot * 8 };
      if (src.slots === 2 && k + 1 >= fn.length) fail('NC1020', { section: secName, offset: slot * 8, reason: `ld_imm64 straddles the end of function ${fn.name}` }, where);
      const insn: Insn = { ...src };
      const rel = cs.relocs.get(slot);
      const sym = rel && rel.type !== R_BPF.NONE ? relocationSymbol(elf, rel, secName, where) : undefined;
      // REL keeps the addend in the instruction; RELA carries it explicitly.
      const addend = rel?.addend !== undefined ? Number(BigInt.asIntN(32, rel.addend)) : src.imm;

      if (isPseudoCall(insn)) {
        let targetSection = cs;
        let targetSlot = slot + addend + 1;
        if (sym) {
          if (rel!.type !== R_BPF.R_64_32 && rel!.type !== R_BPF.NONE) {
            fail('NC1012', { index: slot, section: secName, reason: `call relocated with type ${rel!.type}, expected R_BPF_64_32` }, where);
          }
          const tcs = code.get(sym.shndx);
          if (!tcs) fail('NC1021', { insn: pc, section: secName, target: `${sym.name} (not in an executable section)` }, where);
          targetSection = tcs;
          targetSlot = sym.value / 8 + addend + 1;
        }
        const callee = functionAt(targetSection, targetSlot);
        if (!callee) fail('NC1021', { insn: pc, section: secName, target: `${targetSection.elf.name}+${targetSlot * 8}` }, where);
        const calleeAt = place(callee);
        insn.imm = calleeAt + (targetSlot - callee.start) - (pc + 1);
      } else if (sym && isCall(insn)) {
        fail('NC1012', { index: slot, section: secName, reason: 'relocation on a helper call (src_reg 0); externs and kfuncs are not supported' }, where);
      } else if (sym && insn.code === LD_IMM64) {
        if (rel!.type !== R_BPF.R_64_64 && rel!.type !== R_BPF.NONE) {
          fail('NC1012', { index: slot, section: secName, reason: `ld_imm64 relocated with type ${rel!.type}, expected R_BPF_64_64` }, where);
        }
        const tcs = code.get(sym.shndx);
        const mapAt = targets.byOffset.get(mapKey(sym.shndx, sym.value + (sym.type === STT.SECTION ? addend : 0)));
        const dataMap = targets.globalBySection.get(sym.shndx);
        if (tcs) {
          // Address of a subprogram (a bpf_loop callback, say): BPF_PSEUDO_FUNC, rebased like a call.
          if (addend % 8 !== 0) fail('NC1012', { index: slot, section: secName, reason: `function address offset ${addend} is not a multiple of 8` }, where);
          const targetSlot = sym.value / 8 + addend / 8;
          const callee = functionAt(tcs, targetSlot);
          if (!callee) fail('NC1021', { insn: pc, section: secName, target: `${tcs.elf.name}+${targetSlot * 8}` }, where);
          const calleeAt = place(callee);
          insn.src = BPF_PSEUDO_FUNC;
          insn.imm = calleeAt + (targetSlot - callee.start) - (pc + 1);
          insn.imm2 = 0;
        } else if (mapAt !== undefined) {
          insn.src = BPF_PSEUDO_MAP_FD;
          insn.imm = mapAt;
          insn.imm2 = 0;
          mapRefs.push({ insn: pc, mapIndex: mapAt, kind: 'fd', offset: 0 });
        } else if (dataMap !== undefined) {
          const offset = sym.type === STT.SECTION ? addend : sym.value + addend;
          insn.src = BPF_PSEUDO_MAP_VALUE;
          insn.imm = dataMap;
          insn.imm2 = offset;
          mapRefs.push({ insn: pc, mapIndex: dataMap, kind: 'value', offset });
        } else {
          const target = elf.sections[sym.shndx]?.name ?? `#${sym.shndx}`;
          fail('NC1025', { insn: pc, section: secName, symbol: sym.name, target }, where);
        }
      } else if (sym) {
        fail('NC1012', { index: slot, section: secName, reason: `relocation on opcode 0x${insn.code.toString(16)}, which is neither a call nor ld_imm64` }, where);
      }
      insns.push(insn);
      if (insn.slots === 2) {
        insns.push(ldImm64Filler());
        k++;
      }
    }
  }

  const program: BpfProgram = {
    name: entry.name,
    section: entry.section.elf.name,
    type: 'xdp', // replaced by the caller from the section name
    insns,
    // Little-endian slots, as the kernel on x86 wants them whatever the object's byte order.
    bytes: encodeProgram(insns, 'le'),
    mapRefs,
    functions: placed.map(({ fn, at }) => ({ name: fn.name, start: at, length: fn.length, section: fn.section.elf.name })),
    lineInfo: new Array(insns.length).fill(undefined),
    funcInfo: [],
    coreRelocations: [],
  };
  return { program, origins: placed.map(({ fn }) => fn.start) };
}

function relocationSymbol(elf: ElfFile, rel: ElfRelocation, section: string, where: { file?: string; section?: string; offset?: number }): ElfSymbol {
  const sym = elf.symbols[rel.symbol];
  if (!sym || rel.symbol === 0 || sym.shndx === SHN_UNDEF || sym.shndx >= SHN_LORESERVE || sym.shndx >= elf.sections.length) {
    fail('NC1013', { index: rel.offset / 8, section, symbol: sym ? sym.name || `#${rel.symbol}` : `#${rel.symbol}` }, where);
  }
  return sym;
}

// ---------------------------------------------------------------- BTF.ext

/** `origins[i]` is the slot in its section where program.functions[i] came from. */
function attachExtInfo(program: BpfProgram, origins: number[], ext: BtfExt, btf: Btf): void {
  const lineAt: { insn: number; line: SourceLine }[] = [];
  const funcInfo: FuncInfo[] = [];
  const core: CoreRelocation[] = [];
  // A section byte offset onto the linked index, through whichever placed function holds it.
  const toLinked = (section: string, insnOff: number): number | undefined => {
    if (insnOff % 8 !== 0) return undefined;
    const slot = insnOff / 8;
    for (let i = 0; i < program.functions.length; i++) {
      const f = program.functions[i];
      if (f.section === section && slot >= origins[i] && slot < origins[i] + f.length) return f.start + (slot - origins[i]);
    }
    return undefined;
  };
  for (const li of ext.lineInfo) {
    // Line 0 marks compiler-generated code with no source line; like llvm-objdump, keep the previous line instead.
    if (li.line === 0) continue;
    const at = toLinked(li.section, li.insnOff);
    if (at !== undefined) lineAt.push({ insn: at, line: { file: li.file, line: li.line, column: li.column, text: li.text } });
  }
  for (const fi of ext.funcInfo) {
    const at = toLinked(fi.section, fi.insnOff);
    if (at !== undefined) funcInfo.push({ insn: at, name: btf.type(fi.typeId)?.name ?? `#${fi.typeId}`, typeId: fi.typeId });
  }
  for (const cr of ext.coreRelos) {
    const at = toLinked(cr.section, cr.insnOff);
    if (at !== undefined) core.push({ insn: at, typeId: cr.typeId, typeName: btf.describe(cr.typeId), accessString: cr.accessString, kind: cr.kindName });
  }
  // Every instruction takes the latest line entry at or before it within its own function.
  lineAt.sort((a, b) => a.insn - b.insn);
  let next = 0;
  for (const f of program.functions) {
    let current: SourceLine | undefined;
    for (let i = f.start; i < f.start + f.length; i++) {
      while (next < lineAt.length && lineAt[next].insn <= i) {
        if (lineAt[next].insn >= f.start) current = lineAt[next].line;
        next++;
      }
      program.lineInfo[i] = current;
    }
  }
  program.funcInfo = funcInfo.sort((a, b) => a.insn - b.insn);
  program.coreRelocations = core.sort((a, b) => a.insn - b.insn);
}
