/**
 * The `prog.nfp` file format, version 1: an ELF64 little-endian file that
 * `readelf` recognises as Netronome Flow Processor firmware, holding one
 * compiled program. This comment is the format's documentation; the
 * constants and section codecs below implement it for write-image.ts and
 * read-image.ts.
 *
 * ELF header
 *   e_ident     ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_NONE
 *   e_type      ET_EXEC (2). The words are already resolved for one load slot
 *               (targets relocated, ECC computed over the final bits), so the
 *               file can be written to the code store as it is; the relocations
 *               are kept beside the code the way `ld --emit-relocs` keeps them,
 *               for a loader that wants another slot. ET_REL would say the
 *               opposite (nothing placed yet).
 *   e_machine   EM_NFP (250): readelf prints "Netronome Flow Processor".
 *   e_flags     0x00600000 = EF_NFP_SET_MACH(E_NFP_MACH_6000), i.e. chip family
 *               NFP-6xxx/NFP-4xxx in bits 23:8, as binutils include/elf/nfp.h
 *               defines it (EF_NFP_MACH(f) = (f >> 8) & 0xffff).
 *   e_entry     abi.startPc (a code-store address, in instructions).
 *   No program headers: the code store is not a byte-addressed memory and
 *   nothing is loaded by segment; the loader takes the code section.
 *   No symbol table: every address a loader or listing needs is in the
 *   relocations (by kind) and the metadata's labels; symbols would be a second
 *   copy of the same facts that could disagree.
 *
 * Sections (all SHT_PROGBITS, in this order; each exactly once; other
 * sections are ignored; offsets 8-byte aligned):
 *
 *   .text            SHF_ALLOC|SHF_EXECINSTR, sh_addr = abi.startPc (code-store
 *                    address in instructions), sh_entsize 8. One little-endian
 *                    u64 per instruction in loaded form: body in bits 44:0, ECC in
 *                    51:45, bits 63:52 zero (doc B.1, B.9). sh_info stays 0: binutils
 *                    nfp.h puts a memory type and ME domain there
 *                    (SHI_NFP_MEMTYPE_USTORE = 1), but readelf warns about a
 *                    non-zero sh_info on PROGBITS, and the vNIC slot, not an ME,
 *                    is what places this code.
 *   .nicoff.meta     UTF-8 JSON object, exactly these keys:
 *                      format "nicoff-nfp-image", version 1, name (optional),
 *                      programType "xdp"|"tc", stackDepth (bytes),
 *                      abi {startPc, donePc, helpers {mapLookup, mapUpdate,
 *                        mapDelete, perfEventOutput}, adjustHead {offMin, offMax,
 *                        guaranteedSub, guaranteedAdd}, stackBytes, codeStoreWords,
 *                        arrayValues? {base, tableStride}}
 *                        (NfpFirmwareAbi: the load slot and the capabilities assumed;
 *                        arrayValues only when the code computes array value addresses),
 *                      labels {exit?, abort?, pushRegs?, popRegs?} (program-relative),
 *                      verifierFacts [{insn, text}].
 *                    A reader refuses a version it does not know (NC6031) and
 *                    unknown keys (NC6030).
 *   .nicoff.maps     sh_entsize 48; one record per map, little-endian:
 *                      +0 u32 table id (what the code passes in A0; first map = 1)
 *                      +4 u32 type (BPF_MAP_TYPE_HASH 1, BPF_MAP_TYPE_ARRAY 2)
 *                      +8 u32 key size   +12 u32 value size   +16 u32 max entries
 *                      +20 u32 flags (0)
 *                      +24 u64 atomic words: bit i set = 32-bit value word i is an
 *                          atomic counter (kept big-endian on the card, doc D.5)
 *                      +32 char name[16], NUL-terminated, NUL-padded
 *   .nicoff.relocs   sh_entsize 12, sh_link = index of .text; one
 *                    record per relocated word, increasing pc, little-endian:
 *                      +0 u32 pc (program-relative word index)
 *                      +4 u32 type (doc B.1: 1 branch, 2 exit, 3 abort, 4 push
 *                          trampoline, 5 pop trampoline, 6 done, 7 helper,
 *                          8 immed address)
 *                      +8 u32 value (program-relative target for 1-5 and 8,
 *                          eBPF helper id for 7, 0 for 6)
 *                    Not SHT_RELA: binutils gives EM_NFP relocation numbers other
 *                    meanings (R_NFP_*), and these patch instruction fields, not bytes.
 *   .nicoff.addrmap  sh_entsize 4; one u32 per eBPF slot: the program-relative pc
 *                    of its first NFP word, 0xffffffff when it has none of its own.
 *   .nicoff.ebpf     sh_entsize 8; the eBPF program's raw 8-byte slots, little-endian.
 *   .nicoff.lines    UTF-8 JSON array of {insn, file, line, column, text?}.
 *   .shstrtab        section names.
 */
import { fail, type DiagnosticLocation } from '../../diagnostics/diagnostic.js';
import { rawRelocationType } from '../isa/raw-relocation.js';
import type { NfpFirmwareAbi, NfpMapDef } from '../sim/sim-types.js';
import type { NfpLabels, NfpRelocation, NfpRelocationKind, NfpSourceLine, NfpVerifierFact } from './nfp-image.js';

export const EM_NFP = 250;
export const ET_EXEC = 2;
/** binutils include/elf/nfp.h: EF_NFP_SET_MACH(E_NFP_MACH_6000) = (0x6000 & 0xffff) << 8. */
export const EF_NFP_MACH_6000 = 0x6000 << 8;

export const IMAGE_FORMAT = 'nicoff-nfp-image';
export const IMAGE_VERSION = 1;

export const SECTION = {
  code: '.text',
  meta: '.nicoff.meta',
  maps: '.nicoff.maps',
  relocs: '.nicoff.relocs',
  addressMap: '.nicoff.addrmap',
  ebpf: '.nicoff.ebpf',
  lines: '.nicoff.lines',
} as const;

export const CODE_ENTRY = 8;
export const MAP_ENTRY = 48;
export const RELOC_ENTRY = 12;
export const ADDRMAP_ENTRY = 4;
export const BPF_SLOT_BYTES = 8;
export const NO_PC = 0xffffffff;
/** Longest map name (BPF_OBJ_NAME_LEN 16, NUL included). */
export const MAP_NAME_MAX = 15;
const MAP_NAME_FIELD = 16;
/** The map table records atomic words as a 64-bit mask. */
export const ATOMIC_WORD_LIMIT = 64;

const MAP_TYPE_CODE = { hash: 1, array: 2 } as const;

/**
 * The relocation type numbers of doc B.1 (kernel nfp_asm.h enum nfp_relo_type),
 * which the file stores: each image kind is the B.1 type of that name in
 * isa/raw-relocation.ts, which numbers them (1 branch ... 8 immed-address).
 */
export const RELOCATION_TYPE: Readonly<Record<NfpRelocationKind, number>> = {
  branch: rawRelocationType('program-relative'),
  exit: rawRelocationType('exit'),
  abort: rawRelocationType('abort'),
  'push-regs': rawRelocationType('push-trampoline'),
  'pop-regs': rawRelocationType('pop-trampoline'),
  done: rawRelocationType('next-packet'),
  helper: rawRelocationType('helper'),
  'immed-address': rawRelocationType('immed-relative'),
};

export const RELOCATION_KIND_BY_TYPE: ReadonlyMap<number, NfpRelocationKind> = new Map(
  (Object.entries(RELOCATION_TYPE) as [NfpRelocationKind, number][]).map(([k, v]) => [v, k]),
);

// ---------------------------------------------------------------- binary tables

export function encodeCode(words: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(words.length * CODE_ENTRY);
  const dv = new DataView(out.buffer);
  words.forEach((w, i) => dv.setBigUint64(i * CODE_ENTRY, w, true));
  return out;
}

export function decodeCode(data: Uint8Array): bigint[] {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const words: bigint[] = [];
  for (let p = 0; p + CODE_ENTRY <= data.length; p += CODE_ENTRY) words.push(dv.getBigUint64(p, true));
  return words;
}

export function encodeMaps(maps: readonly NfpMapDef[]): Uint8Array {
  const out = new Uint8Array(maps.length * MAP_ENTRY);
  const dv = new DataView(out.buffer);
  maps.forEach((m, i) => {
    const p = i * MAP_ENTRY;
    dv.setUint32(p, m.tableId, true);
    dv.setUint32(p + 4, MAP_TYPE_CODE[m.type], true);
    dv.setUint32(p + 8, m.keySize, true);
    dv.setUint32(p + 12, m.valueSize, true);
    dv.setUint32(p + 16, m.maxEntries, true);
    dv.setUint32(p + 20, 0, true);
    let mask = 0n;
    for (const w of m.atomicWords ?? []) mask |= 1n << BigInt(w);
    dv.setBigUint64(p + 24, mask, true);
    for (let c = 0; c < m.name.length; c++) out[p + 32 + c] = m.name.charCodeAt(c);
  });
  return out;
}

/** Structure only (record size, type code, flags, name field); value rules are validateNfpImage's. */
export function decodeMaps(data: Uint8Array, at: (index: number) => DiagnosticLocation): NfpMapDef[] {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const maps: NfpMapDef[] = [];
  for (let i = 0; i * MAP_ENTRY < data.length; i++) {
    const p = i * MAP_ENTRY;
    const bad = (reason: string): never => fail('NC6029', { index: i, reason }, at(i));
    const typeCode = dv.getUint32(p + 4, true);
    const type = typeCode === MAP_TYPE_CODE.hash ? 'hash' : typeCode === MAP_TYPE_CODE.array ? 'array' : bad(`map type ${typeCode} is neither hash (1) nor array (2)`);
    const flags = dv.getUint32(p + 20, true);
    if (flags !== 0) bad(`flags 0x${flags.toString(16)} are not 0`);
    const field = data.subarray(p + 32, p + 32 + MAP_NAME_FIELD);
    const nul = field.indexOf(0);
    if (nul < 0) bad(`the name field has no terminating NUL within ${MAP_NAME_FIELD} bytes`);
    if (field.subarray(nul).some((b) => b !== 0)) bad('the name field has bytes after its terminating NUL');
    const name = String.fromCharCode(...field.subarray(0, nul));
    const mask = dv.getBigUint64(p + 24, true);
    const atomicWords: number[] = [];
    for (let w = 0; w < ATOMIC_WORD_LIMIT; w++) if ((mask >> BigInt(w)) & 1n) atomicWords.push(w);
    const m: NfpMapDef = {
      tableId: dv.getUint32(p, true),
      name,
      type,
      keySize: dv.getUint32(p + 8, true),
      valueSize: dv.getUint32(p + 12, true),
      maxEntries: dv.getUint32(p + 16, true),
    };
    if (atomicWords.length) m.atomicWords = atomicWords;
    maps.push(m);
  }
  return maps;
}

export function encodeRelocations(relocs: readonly NfpRelocation[]): Uint8Array {
  const out = new Uint8Array(relocs.length * RELOC_ENTRY);
  const dv = new DataView(out.buffer);
  relocs.forEach((r, i) => {
    dv.setUint32(i * RELOC_ENTRY, r.pc, true);
    dv.setUint32(i * RELOC_ENTRY + 4, RELOCATION_TYPE[r.kind], true);
    dv.setUint32(i * RELOC_ENTRY + 8, r.value, true);
  });
  return out;
}

export function decodeRelocations(data: Uint8Array, at: (index: number) => DiagnosticLocation): NfpRelocation[] {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const relocs: NfpRelocation[] = [];
  for (let i = 0; i * RELOC_ENTRY < data.length; i++) {
    const p = i * RELOC_ENTRY;
    const pc = dv.getUint32(p, true);
    const type = dv.getUint32(p + 4, true);
    const kind = RELOCATION_KIND_BY_TYPE.get(type);
    if (kind === undefined) fail('NC6028', { index: i, pc, kind: `type ${type}`, reason: 'unknown relocation type (doc B.1 types are 1..8)' }, at(i));
    relocs.push({ pc, kind, value: dv.getUint32(p + 8, true) });
  }
  return relocs;
}

export function encodeAddressMap(map: readonly (number | null)[]): Uint8Array {
  const out = new Uint8Array(map.length * ADDRMAP_ENTRY);
  const dv = new DataView(out.buffer);
  map.forEach((pc, i) => dv.setUint32(i * ADDRMAP_ENTRY, pc ?? NO_PC, true));
  return out;
}

export function decodeAddressMap(data: Uint8Array): (number | null)[] {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const map: (number | null)[] = [];
  for (let p = 0; p + ADDRMAP_ENTRY <= data.length; p += ADDRMAP_ENTRY) {
    const pc = dv.getUint32(p, true);
    map.push(pc === NO_PC ? null : pc);
  }
  return map;
}

// ---------------------------------------------------------------- JSON sections

export interface ImageMeta {
  name?: string;
  programType: 'xdp' | 'tc';
  stackDepth: number;
  abi: NfpFirmwareAbi;
  labels: NfpLabels;
  verifierFacts: NfpVerifierFact[];
}

function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 2) + '\n');
}

export function encodeMeta(meta: ImageMeta): Uint8Array {
  const labels: Record<string, number> = {};
  for (const k of ['exit', 'abort', 'pushRegs', 'popRegs'] as const) if (meta.labels[k] !== undefined) labels[k] = meta.labels[k]!;
  return encodeJson({
    format: IMAGE_FORMAT,
    version: IMAGE_VERSION,
    ...(meta.name !== undefined ? { name: meta.name } : {}),
    programType: meta.programType,
    stackDepth: meta.stackDepth,
    abi: {
      startPc: meta.abi.startPc,
      donePc: meta.abi.donePc,
      helpers: { ...meta.abi.helpers },
      adjustHead: { ...meta.abi.adjustHead },
      stackBytes: meta.abi.stackBytes,
      codeStoreWords: meta.abi.codeStoreWords,
      ...(meta.abi.arrayValues ? { arrayValues: { base: meta.abi.arrayValues.base, tableStride: meta.abi.arrayValues.tableStride } } : {}),
    },
    labels,
    verifierFacts: meta.verifierFacts.map((f) => ({ insn: f.insn, text: f.text })),
  });
}

export function encodeLines(lines: readonly NfpSourceLine[]): Uint8Array {
  return encodeJson(lines.map((l) => ({ insn: l.insn, file: l.file, line: l.line, column: l.column, ...(l.text !== undefined ? { text: l.text } : {}) })));
}

/** Parse a JSON section; anything that is not UTF-8 JSON is `bad`. */
function parseJson(data: Uint8Array, bad: (reason: string) => never): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return bad('not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    return bad(`not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

type JsonObject = Record<string, unknown>;

/** Exact-shape checks for decoded JSON; each failure is `bad(path: reason)`. */
class Shape {
  constructor(private readonly bad: (reason: string) => never) {}
  object(v: unknown, path: string, required: readonly string[], optional: readonly string[] = []): JsonObject {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return this.bad(`${path} is not an object`);
    const o = v as JsonObject;
    for (const k of Object.keys(o)) if (!required.includes(k) && !optional.includes(k)) this.bad(`${path} has an unknown field "${k}"`);
    for (const k of required) if (!(k in o)) this.bad(`${path} lacks the field "${k}"`);
    return o;
  }
  array(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) return this.bad(`${path} is not an array`);
    return v;
  }
  number(v: unknown, path: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) return this.bad(`${path} is not a number`);
    return v === 0 ? 0 : v; // JSON -0 is 0
  }
  string(v: unknown, path: string): string {
    if (typeof v !== 'string') return this.bad(`${path} is not a string`);
    return v;
  }
}

export function decodeMeta(data: Uint8Array, where: DiagnosticLocation): ImageMeta {
  const bad = (reason: string): never => fail('NC6030', { reason }, where);
  const s = new Shape(bad);
  const raw = parseJson(data, bad);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('the metadata is not a JSON object');
  const top = raw as JsonObject;
  if (top.format !== IMAGE_FORMAT) bad(`format is ${JSON.stringify(top.format) ?? 'missing'}, not "${IMAGE_FORMAT}"`);
  if (top.version !== IMAGE_VERSION) fail('NC6031', { version: JSON.stringify(top.version) ?? 'missing', known: IMAGE_VERSION }, where);
  const o = s.object(top, 'metadata', ['format', 'version', 'programType', 'stackDepth', 'abi', 'labels', 'verifierFacts'], ['name']);
  const typeText = s.string(o.programType, 'programType');
  const programType = typeText === 'xdp' || typeText === 'tc' ? typeText : bad(`programType ${JSON.stringify(typeText)} is neither "xdp" nor "tc"`);
  const a = s.object(o.abi, 'abi', ['startPc', 'donePc', 'helpers', 'adjustHead', 'stackBytes', 'codeStoreWords'], ['arrayValues']);
  const h = s.object(a.helpers, 'abi.helpers', ['mapLookup', 'mapUpdate', 'mapDelete', 'perfEventOutput']);
  const ah = s.object(a.adjustHead, 'abi.adjustHead', ['offMin', 'offMax', 'guaranteedSub', 'guaranteedAdd']);
  const abi: NfpFirmwareAbi = {
    startPc: s.number(a.startPc, 'abi.startPc'),
    donePc: s.number(a.donePc, 'abi.donePc'),
    helpers: {
      mapLookup: s.number(h.mapLookup, 'abi.helpers.mapLookup'),
      mapUpdate: s.number(h.mapUpdate, 'abi.helpers.mapUpdate'),
      mapDelete: s.number(h.mapDelete, 'abi.helpers.mapDelete'),
      perfEventOutput: s.number(h.perfEventOutput, 'abi.helpers.perfEventOutput'),
    },
    adjustHead: {
      offMin: s.number(ah.offMin, 'abi.adjustHead.offMin'),
      offMax: s.number(ah.offMax, 'abi.adjustHead.offMax'),
      guaranteedSub: s.number(ah.guaranteedSub, 'abi.adjustHead.guaranteedSub'),
      guaranteedAdd: s.number(ah.guaranteedAdd, 'abi.adjustHead.guaranteedAdd'),
    },
    stackBytes: s.number(a.stackBytes, 'abi.stackBytes'),
    codeStoreWords: s.number(a.codeStoreWords, 'abi.codeStoreWords'),
  };
  if ('arrayValues' in a) {
    const av = s.object(a.arrayValues, 'abi.arrayValues', ['base', 'tableStride']);
    abi.arrayValues = { base: s.number(av.base, 'abi.arrayValues.base'), tableStride: s.number(av.tableStride, 'abi.arrayValues.tableStride') };
  }
  const l = s.object(o.labels, 'labels', [], ['exit', 'abort', 'pushRegs', 'popRegs']);
  const labels: NfpLabels = {};
  for (const k of ['exit', 'abort', 'pushRegs', 'popRegs'] as const) if (k in l) labels[k] = s.number(l[k], `labels.${k}`);
  const verifierFacts = s.array(o.verifierFacts, 'verifierFacts').map((f, i) => {
    const fo = s.object(f, `verifierFacts[${i}]`, ['insn', 'text']);
    return { insn: s.number(fo.insn, `verifierFacts[${i}].insn`), text: s.string(fo.text, `verifierFacts[${i}].text`) };
  });
  const meta: ImageMeta = { programType, stackDepth: s.number(o.stackDepth, 'stackDepth'), abi, labels, verifierFacts };
  if ('name' in o) meta.name = s.string(o.name, 'name');
  return meta;
}

export function decodeLines(data: Uint8Array, where: DiagnosticLocation): NfpSourceLine[] {
  const whole = (reason: string): never => fail('NC6022', { section: SECTION.lines, reason }, where);
  const entries = parseJson(data, whole);
  if (!Array.isArray(entries)) whole('the source line table is not a JSON array');
  return (entries as unknown[]).map((e, index) => {
    const s = new Shape((reason: string): never => fail('NC6034', { index, reason }, where));
    const o = s.object(e, 'the entry', ['insn', 'file', 'line', 'column'], ['text']);
    const line: NfpSourceLine = {
      insn: s.number(o.insn, 'insn'),
      file: s.string(o.file, 'file'),
      line: s.number(o.line, 'line'),
      column: s.number(o.column, 'column'),
    };
    if ('text' in o) line.text = s.string(o.text, 'text');
    return line;
  });
}
