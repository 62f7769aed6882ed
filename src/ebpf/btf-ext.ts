/**
 * A reader for .BTF.ext: per-section func_info, line_info and CO-RE
 * relocation records (struct btf_ext_header in libbpf's libbpf_internal.h).
 *
 * Each info block is `u32 rec_size` followed by groups of
 * `{u32 sec_name_off; u32 num_info; rec_size * num_info bytes}`.
 * Instruction offsets in an object file are byte offsets within the section
 * named by sec_name_off (libbpf turns them into indices when it loads).
 */
import { fail } from '../diagnostics/diagnostic.js';
import type { Btf } from './btf.js';
import type { Endian } from './insn.js';

export interface BtfExtFuncInfo {
  section: string;
  /** Byte offset within the section. */
  insnOff: number;
  typeId: number;
}

export interface BtfExtLineInfo {
  section: string;
  insnOff: number;
  file: string;
  text: string;
  line: number;
  column: number;
}

export interface BtfExtCoreRelo {
  section: string;
  insnOff: number;
  typeId: number;
  accessString: string;
  kind: number;
  kindName: string;
}

export interface BtfExt {
  funcInfo: BtfExtFuncInfo[];
  lineInfo: BtfExtLineInfo[];
  coreRelos: BtfExtCoreRelo[];
}

/** enum bpf_core_relo_kind, named as libbpf's core_relo_kind_str prints them. */
export const CORE_RELO_KIND_NAMES = [
  'byte_off', 'byte_sz', 'field_exists', 'signed', 'lshift_u64', 'rshift_u64',
  'local_type_id', 'target_type_id', 'type_exists', 'type_size', 'enumval_exists', 'enumval_value', 'type_matches',
] as const;

const HEADER_MIN = 24;

export function parseBtfExt(data: Uint8Array, endian: Endian, btf: Btf): BtfExt {
  const bad = (reason: string, offset?: number): never => fail('NC1019', { reason }, { section: '.BTF.ext', offset });
  if (data.length < HEADER_MIN) bad(`section is ${data.length} bytes, shorter than the ${HEADER_MIN}-byte header`);
  const le = endian === 'le';
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (dv.getUint16(0, le) !== 0xeb9f) bad(`bad magic 0x${dv.getUint16(0, le).toString(16)}`, 0);
  const hdrLen = dv.getUint32(4, le);
  if (hdrLen < HEADER_MIN || hdrLen > data.length) bad(`header length ${hdrLen} is out of range`, 4);
  const str = (off: number, at: number): string => btf.stringAt(off) ?? bad(`string offset ${off} is outside the BTF string section`, at);

  /** Walk one info block, calling `record` for each record's start. */
  const walk = (name: string, offField: number, minRec: number, record: (section: string, p: number) => void): void => {
    if (offField + 8 > hdrLen) return; // an older header without this block
    const start = hdrLen + dv.getUint32(offField, le);
    const len = dv.getUint32(offField + 4, le);
    if (len === 0) return;
    const end = start + len;
    if (end > data.length) bad(`${name} block ${start}..${end} is outside the ${data.length}-byte section`, offField);
    if (len < 4) bad(`${name} block is too short for its record size`, start);
    const recSize = dv.getUint32(start, le);
    if (recSize < minRec || recSize % 4 !== 0) bad(`${name} record size ${recSize} is invalid (minimum ${minRec})`, start);
    let p = start + 4;
    while (p < end) {
      if (p + 8 > end) bad(`${name} group header runs past the block`, p);
      const section = str(dv.getUint32(p, le), p);
      const num = dv.getUint32(p + 4, le);
      p += 8;
      // Bound the count by the bytes left before looping over it.
      if (num * recSize > end - p) bad(`${name} group for ${section} claims ${num} records, more than the block holds`, p - 4);
      for (let i = 0; i < num; i++, p += recSize) record(section, p);
    }
  };

  const ext: BtfExt = { funcInfo: [], lineInfo: [], coreRelos: [] };
  walk('func_info', 8, 8, (section, p) => {
    ext.funcInfo.push({ section, insnOff: dv.getUint32(p, le), typeId: dv.getUint32(p + 4, le) });
  });
  walk('line_info', 16, 16, (section, p) => {
    const lineCol = dv.getUint32(p + 12, le);
    ext.lineInfo.push({
      section,
      insnOff: dv.getUint32(p, le),
      file: str(dv.getUint32(p + 4, le), p + 4),
      text: str(dv.getUint32(p + 8, le), p + 8),
      line: lineCol >>> 10,
      column: lineCol & 0x3ff,
    });
  });
  walk('core_relo', 24, 16, (section, p) => {
    const kind = dv.getUint32(p + 12, le);
    ext.coreRelos.push({
      section,
      insnOff: dv.getUint32(p, le),
      typeId: dv.getUint32(p + 4, le),
      accessString: str(dv.getUint32(p + 8, le), p + 8),
      kind,
      kindName: CORE_RELO_KIND_NAMES[kind] ?? `kind#${kind}`,
    });
  });
  return ext;
}
