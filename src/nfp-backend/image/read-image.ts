/**
 * `prog.nfp` bytes -> NfpImage (layout: image-format.ts). Strict: a file that
 * is not exactly what write-image.ts would write for some valid image is one
 * NicoffError naming the problem and its file offset. ELF structure goes
 * through nicoff's ELF reader (src/ebpf/elf.ts, NC1xxx codes); everything
 * NFP-specific is NC6020-NC6034.
 */
import { fail, type DiagnosticLocation } from '../../diagnostics/diagnostic.js';
import { parseElf, SHT, type ElfSection } from '../../ebpf/elf.js';
import { validateNfpImage, type ImageLocator, type NfpImage } from './nfp-image.js';
import {
  ADDRMAP_ENTRY,
  BPF_SLOT_BYTES,
  CODE_ENTRY,
  decodeAddressMap,
  decodeCode,
  decodeLines,
  decodeMaps,
  decodeMeta,
  decodeRelocations,
  EF_NFP_MACH_6000,
  EM_NFP,
  ET_EXEC,
  MAP_ENTRY,
  RELOC_ENTRY,
  SECTION,
} from './image-format.js';

function hasElfMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

function headerU16(bytes: Uint8Array, pos: number): number {
  const le = bytes[5] !== 2;
  return le ? bytes[pos] | (bytes[pos + 1] << 8) : (bytes[pos] << 8) | bytes[pos + 1];
}

/** An ELF file whose e_machine (in its own byte order) is EM_NFP. */
export function isNfpImage(bytes: Uint8Array): boolean {
  return hasElfMagic(bytes) && bytes.length >= 20 && headerU16(bytes, 18) === EM_NFP;
}

/** The ELF structure through src/ebpf/elf.ts; machine and type were checked before. */
function parseNfpElf(bytes: Uint8Array, file?: string) {
  return parseElf(bytes, { path: file, expect: { machine: null, type: null } });
}

export function readNfpImage(bytes: Uint8Array, file?: string): NfpImage {
  const header = (reason: string, offset: number): never => fail('NC6020', { reason }, { file, offset });
  if (hasElfMagic(bytes) && bytes.length >= 20 && headerU16(bytes, 18) !== EM_NFP) {
    fail('NC6021', { machine: headerU16(bytes, 18) }, { file, offset: 18 });
  }
  if (hasElfMagic(bytes) && bytes.length >= 6 && bytes[5] === 2) header('the ELF data encoding is big-endian; NFP images are little-endian', 5);
  const elf = parseNfpElf(bytes, file);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = dv.getUint16(16, true);
  if (type !== ET_EXEC) header(`e_type is ${type}, not ET_EXEC (2)`, 16);
  const flags = dv.getUint32(48, true);
  if (flags !== EF_NFP_MACH_6000) header(`e_flags 0x${flags.toString(16)} do not name NFP-6xxx (0x${EF_NFP_MACH_6000.toString(16)}, binutils EF_NFP_SET_MACH(0x6000))`, 48);
  const entry = dv.getBigUint64(24, true);
  const shoff = Number(dv.getBigUint64(40, true));

  const section = (name: string, entsize: number): ElfSection => {
    const found = elf.sections.filter((s) => s.name === name);
    if (found.length === 0) fail('NC6022', { section: name, reason: 'the section is missing' }, { file });
    if (found.length > 1) fail('NC6022', { section: name, reason: `the section appears ${found.length} times` }, { file, offset: found[1].offset });
    const s = found[0];
    const where = { file, section: name, offset: s.offset };
    if (s.type !== SHT.PROGBITS) fail('NC6022', { section: name, reason: `section type ${s.type}, not SHT_PROGBITS (1)` }, where);
    if (entsize && s.entsize !== entsize) fail('NC6023', { section: name, reason: `sh_entsize ${s.entsize}, expected ${entsize}` }, where);
    if (name === SECTION.code) {
      if (s.size % CODE_ENTRY !== 0) fail('NC6024', { section: name, size: s.size }, where);
    } else if (entsize && s.size % entsize !== 0) {
      fail('NC6023', { section: name, reason: `size ${s.size} is not a whole number of ${entsize}-byte entries (${Math.floor(s.size / entsize)} and ${s.size % entsize} bytes)` }, where);
    }
    return s;
  };
  const code = section(SECTION.code, CODE_ENTRY);
  const meta = section(SECTION.meta, 0);
  const maps = section(SECTION.maps, MAP_ENTRY);
  const relocs = section(SECTION.relocs, RELOC_ENTRY);
  const addressMap = section(SECTION.addressMap, ADDRMAP_ENTRY);
  const ebpf = section(SECTION.ebpf, BPF_SLOT_BYTES);
  const lines = section(SECTION.lines, 0);

  const at = (s: ElfSection, byteOffset = 0): DiagnosticLocation => ({ file, section: s.name, offset: s.offset + byteOffset });
  const loc: ImageLocator = {
    code: (pc) => at(code, pc * CODE_ENTRY),
    relocation: (i) => at(relocs, i * RELOC_ENTRY),
    map: (i) => at(maps, i * MAP_ENTRY),
    meta: () => at(meta),
    ebpf: () => ({ ...at(ebpf), fileOffset: ebpf.offset }),
    addressMap: (insn) => at(addressMap, insn * ADDRMAP_ENTRY),
    lines: () => at(lines),
  };

  const m = decodeMeta(meta.data, loc.meta());
  const codeAddr = dv.getBigUint64(shoff + code.index * 64 + 16, true);
  if (codeAddr !== BigInt(m.abi.startPc)) {
    fail('NC6027', { reason: `${SECTION.code} sh_addr ${codeAddr} is not the load slot's start pc ${m.abi.startPc}` }, { file, section: SECTION.code });
  }
  if (entry !== BigInt(m.abi.startPc)) fail('NC6027', { reason: `e_entry ${entry} is not the load slot's start pc ${m.abi.startPc}` }, { file, offset: 24 });

  const image: NfpImage = {
    programType: m.programType,
    abi: m.abi,
    stackDepth: m.stackDepth,
    words: decodeCode(code.data),
    relocations: decodeRelocations(relocs.data, loc.relocation),
    labels: m.labels,
    maps: decodeMaps(maps.data, loc.map),
    ebpf: ebpf.data.slice(),
    addressMap: decodeAddressMap(addressMap.data),
    sourceLines: decodeLines(lines.data, loc.lines()),
    verifierFacts: m.verifierFacts,
  };
  if (m.name !== undefined) image.name = m.name;
  validateNfpImage(image, loc);
  return image;
}
