/**
 * NfpImage -> `prog.nfp` bytes (layout: image-format.ts). The image is
 * validated first, so every file written reads back; the output depends on
 * nothing but the image (no timestamps), so equal images give equal files.
 */
import { validateNfpImage, type NfpImage } from './nfp-image.js';
import {
  ADDRMAP_ENTRY,
  BPF_SLOT_BYTES,
  CODE_ENTRY,
  EF_NFP_MACH_6000,
  EM_NFP,
  encodeAddressMap,
  encodeCode,
  encodeLines,
  encodeMaps,
  encodeMeta,
  encodeRelocations,
  ET_EXEC,
  MAP_ENTRY,
  RELOC_ENTRY,
  SECTION,
} from './image-format.js';

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SHT_PROGBITS = 1;
const SHT_STRTAB = 3;
const SHF_ALLOC = 0x2;
const SHF_EXECINSTR = 0x4;

interface OutSection {
  name: string;
  type: number;
  flags: number;
  addr: number;
  data: Uint8Array;
  link: number;
  info: number;
  align: number;
  entsize: number;
}

const align8 = (n: number): number => (n + 7) & ~7;

export function writeNfpImage(image: NfpImage): Uint8Array {
  validateNfpImage(image);
  const codeIndex = 1;
  const sections: OutSection[] = [
    { name: SECTION.code, type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, addr: image.abi.startPc, data: encodeCode(image.words), link: 0, info: 0, align: 8, entsize: CODE_ENTRY },
    {
      name: SECTION.meta,
      type: SHT_PROGBITS,
      flags: 0,
      addr: 0,
      data: encodeMeta({ name: image.name, programType: image.programType, stackDepth: image.stackDepth, abi: image.abi, labels: image.labels, verifierFacts: image.verifierFacts }),
      link: 0,
      info: 0,
      align: 1,
      entsize: 0,
    },
    { name: SECTION.maps, type: SHT_PROGBITS, flags: 0, addr: 0, data: encodeMaps(image.maps), link: 0, info: 0, align: 8, entsize: MAP_ENTRY },
    { name: SECTION.relocs, type: SHT_PROGBITS, flags: 0, addr: 0, data: encodeRelocations(image.relocations), link: codeIndex, info: 0, align: 4, entsize: RELOC_ENTRY },
    { name: SECTION.addressMap, type: SHT_PROGBITS, flags: 0, addr: 0, data: encodeAddressMap(image.addressMap), link: codeIndex, info: 0, align: 4, entsize: ADDRMAP_ENTRY },
    { name: SECTION.ebpf, type: SHT_PROGBITS, flags: 0, addr: 0, data: image.ebpf, link: 0, info: 0, align: 8, entsize: BPF_SLOT_BYTES },
    { name: SECTION.lines, type: SHT_PROGBITS, flags: 0, addr: 0, data: encodeLines(image.sourceLines), link: 0, info: 0, align: 1, entsize: 0 },
  ];

  // Section-name table: "\0" then each name, NUL-terminated.
  const names = ['', ...sections.map((s) => s.name), '.shstrtab'];
  const nameOffsets: number[] = [];
  let strSize = 0;
  for (const n of names) {
    nameOffsets.push(strSize);
    strSize += n.length + 1;
  }
  const shstrtab = new Uint8Array(strSize);
  names.forEach((n, i) => shstrtab.set(new TextEncoder().encode(n), nameOffsets[i]));
  sections.push({ name: '.shstrtab', type: SHT_STRTAB, flags: 0, addr: 0, data: shstrtab, link: 0, info: 0, align: 1, entsize: 0 });

  const offsets: number[] = [];
  let pos = EHDR_SIZE;
  for (const s of sections) {
    pos = align8(pos);
    offsets.push(pos);
    pos += s.data.length;
  }
  const shoff = align8(pos);
  const shnum = sections.length + 1;
  const out = new Uint8Array(shoff + shnum * SHDR_SIZE);
  const dv = new DataView(out.buffer);

  out.set([0x7f, 0x45, 0x4c, 0x46, 2 /* ELFCLASS64 */, 1 /* ELFDATA2LSB */, 1 /* EV_CURRENT */, 0 /* ELFOSABI_NONE */]);
  dv.setUint16(16, ET_EXEC, true);
  dv.setUint16(18, EM_NFP, true);
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, BigInt(image.abi.startPc), true); // e_entry
  dv.setBigUint64(32, 0n, true); // e_phoff
  dv.setBigUint64(40, BigInt(shoff), true);
  dv.setUint32(48, EF_NFP_MACH_6000, true);
  dv.setUint16(52, EHDR_SIZE, true);
  dv.setUint16(54, 0, true); // e_phentsize
  dv.setUint16(56, 0, true); // e_phnum
  dv.setUint16(58, SHDR_SIZE, true);
  dv.setUint16(60, shnum, true);
  dv.setUint16(62, shnum - 1, true); // .shstrtab is last

  sections.forEach((s, i) => {
    out.set(s.data, offsets[i]);
    const h = shoff + (i + 1) * SHDR_SIZE;
    dv.setUint32(h, nameOffsets[i + 1], true);
    dv.setUint32(h + 4, s.type, true);
    dv.setBigUint64(h + 8, BigInt(s.flags), true);
    dv.setBigUint64(h + 16, BigInt(s.addr), true);
    dv.setBigUint64(h + 24, BigInt(offsets[i]), true);
    dv.setBigUint64(h + 32, BigInt(s.data.length), true);
    dv.setUint32(h + 40, s.link, true);
    dv.setUint32(h + 44, s.info, true);
    dv.setBigUint64(h + 48, BigInt(s.align), true);
    dv.setBigUint64(h + 56, BigInt(s.entsize), true);
  });
  return out;
}
