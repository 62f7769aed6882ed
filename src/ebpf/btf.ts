/**
 * A reader for the .BTF section: the type graph clang emits with -g.
 *
 * Layout (include/uapi/linux/btf.h): a header, then a type section and a
 * string section located relative to the end of the header. The byte order is
 * the object's; the magic 0xeB9F read in the wrong order reveals a mismatch.
 * Type ids start at 1 in section order; id 0 is void.
 */
import { fail } from '../diagnostics/diagnostic.js';
import { readCString } from './elf.js';
import type { Endian } from './insn.js';

export const BTF_MAGIC = 0xeb9f;

export const BTF_KIND = {
  UNKN: 0,
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

/** Kind names as `bpftool btf dump` prints them. */
export const BTF_KIND_NAMES = [
  'UNKNOWN', 'INT', 'PTR', 'ARRAY', 'STRUCT', 'UNION', 'ENUM', 'FWD', 'TYPEDEF', 'VOLATILE',
  'CONST', 'RESTRICT', 'FUNC', 'FUNC_PROTO', 'VAR', 'DATASEC', 'FLOAT', 'DECL_TAG', 'TYPE_TAG', 'ENUM64',
] as const;
export type BtfKindName = (typeof BTF_KIND_NAMES)[number];

export interface BtfMember {
  name: string;
  type: number;
  /** Offset in bits (for bitfields in a kind_flag struct, the low 24 bits). */
  bitOffset: number;
  /** Bitfield width when the struct has kind_flag set; 0 otherwise. */
  bitfieldSize: number;
}

export interface BtfEnumValue {
  name: string;
  value: bigint;
}

export interface BtfParam {
  name: string;
  type: number;
}

export interface BtfVarSecinfo {
  type: number;
  offset: number;
  size: number;
}

export interface BtfType {
  id: number;
  kind: number;
  kindName: BtfKindName;
  name: string;
  kindFlag: boolean;
  vlen: number;
  /** `size` for INT/STRUCT/UNION/ENUM/ENUM64/FLOAT/DATASEC. */
  size?: number;
  /** `type` for PTR/TYPEDEF/modifiers/FUNC/FUNC_PROTO (return)/VAR/DECL_TAG/TYPE_TAG. */
  type?: number;
  int?: { encoding: number; bitOffset: number; bits: number };
  array?: { type: number; indexType: number; nelems: number };
  members?: BtfMember[];
  enumValues?: BtfEnumValue[];
  params?: BtfParam[];
  /** VAR linkage, FUNC linkage (vlen). */
  linkage?: number;
  secinfos?: BtfVarSecinfo[];
  componentIdx?: number;
}

const HEADER_MIN = 24;
const TYPE_HEADER = 12;
/** How many typedef/modifier/array links sizeOf and describe follow before calling the graph cyclic. */
const MAX_CHAIN = 64;

const SIZED_KINDS: ReadonlySet<number> = new Set([
  BTF_KIND.INT, BTF_KIND.STRUCT, BTF_KIND.UNION, BTF_KIND.ENUM, BTF_KIND.ENUM64, BTF_KIND.FLOAT, BTF_KIND.DATASEC,
]);
const MODIFIER_KINDS: ReadonlySet<number> = new Set([
  BTF_KIND.TYPEDEF, BTF_KIND.VOLATILE, BTF_KIND.CONST, BTF_KIND.RESTRICT, BTF_KIND.TYPE_TAG,
]);

export class Btf {
  /** types[0] is void; types[id] for id >= 1. */
  readonly types: BtfType[];
  readonly endian: Endian;
  private readonly strings: Uint8Array;

  private constructor(types: BtfType[], strings: Uint8Array, endian: Endian) {
    this.types = types;
    this.strings = strings;
    this.endian = endian;
  }

  /** Parse a .BTF section. Throws NC1018 on malformed input. */
  static parse(data: Uint8Array, endian: Endian): Btf {
    const bad = (reason: string, offset?: number): never => fail('NC1018', { reason }, { section: '.BTF', offset });
    if (data.length < HEADER_MIN) bad(`section is ${data.length} bytes, shorter than the ${HEADER_MIN}-byte header`);
    const le = endian === 'le';
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const magic = dv.getUint16(0, le);
    if (magic !== BTF_MAGIC) {
      const swapped = dv.getUint16(0, !le) === BTF_MAGIC;
      bad(swapped ? 'BTF byte order differs from the ELF byte order' : `bad magic 0x${magic.toString(16)}`, 0);
    }
    const hdrLen = dv.getUint32(4, le);
    if (hdrLen < HEADER_MIN || hdrLen > data.length) bad(`header length ${hdrLen} is out of range`, 4);
    const typeOff = dv.getUint32(8, le);
    const typeLen = dv.getUint32(12, le);
    const strOff = dv.getUint32(16, le);
    const strLen = dv.getUint32(20, le);
    const typeStart = hdrLen + typeOff;
    const strStart = hdrLen + strOff;
    if (typeStart + typeLen > data.length) bad(`type section ${typeStart}..${typeStart + typeLen} is outside the ${data.length}-byte section`, 8);
    if (strStart + strLen > data.length) bad(`string section ${strStart}..${strStart + strLen} is outside the ${data.length}-byte section`, 16);
    if (typeLen % 4 !== 0) bad(`type section length ${typeLen} is not a multiple of 4`, 12);
    const strings = data.subarray(strStart, strStart + strLen);
    const str = (off: number, at: number): string => readCString(strings, off) ?? bad(`string offset ${off} is outside the string section`, at);

    const types: BtfType[] = [{ id: 0, kind: 0, kindName: 'UNKNOWN', name: 'void', kindFlag: false, vlen: 0 }];
    const end = typeStart + typeLen;
    let p = typeStart;
    while (p < end) {
      if (p + TYPE_HEADER > end) bad(`type ${types.length} header runs past the type section`, p);
      const at = p;
      const nameOff = dv.getUint32(p, le);
      const info = dv.getUint32(p + 4, le);
      const sizeOrType = dv.getUint32(p + 8, le);
      p += TYPE_HEADER;
      const kind = (info >>> 24) & 0x1f;
      const vlen = info & 0xffff;
      if (kind === 0 || kind >= BTF_KIND_NAMES.length) bad(`type ${types.length} has unknown kind ${kind}`, at);
      const t: BtfType = {
        id: types.length,
        kind,
        kindName: BTF_KIND_NAMES[kind],
        name: str(nameOff, at),
        kindFlag: info >>> 31 === 1,
        vlen,
      };
      // Check the variable part fits before reading it, so vlen cannot drive allocation.
      const need = (bytes: number): void => {
        if (p + bytes > end) bad(`type ${t.id} (${t.kindName}) needs ${bytes} more bytes than the type section holds`, at);
      };
      if (SIZED_KINDS.has(kind)) t.size = sizeOrType;
      else t.type = sizeOrType;
      switch (kind) {
        case BTF_KIND.INT: {
          need(4);
          const v = dv.getUint32(p, le);
          t.int = { encoding: (v >>> 24) & 0x0f, bitOffset: (v >>> 16) & 0xff, bits: v & 0xff };
          p += 4;
          break;
        }
        case BTF_KIND.ARRAY:
          need(12);
          t.array = { type: dv.getUint32(p, le), indexType: dv.getUint32(p + 4, le), nelems: dv.getUint32(p + 8, le) };
          p += 12;
          break;
        case BTF_KIND.STRUCT:
        case BTF_KIND.UNION:
          need(vlen * 12);
          t.members = [];
          for (let i = 0; i < vlen; i++, p += 12) {
            const off = dv.getUint32(p + 8, le);
            t.members.push({
              name: str(dv.getUint32(p, le), p),
              type: dv.getUint32(p + 4, le),
              bitOffset: t.kindFlag ? off & 0xffffff : off,
              bitfieldSize: t.kindFlag ? off >>> 24 : 0,
            });
          }
          break;
        case BTF_KIND.ENUM:
          need(vlen * 8);
          t.enumValues = [];
          for (let i = 0; i < vlen; i++, p += 8) {
            const raw = t.kindFlag ? dv.getInt32(p + 4, le) : dv.getUint32(p + 4, le);
            t.enumValues.push({ name: str(dv.getUint32(p, le), p), value: BigInt(raw) });
          }
          break;
        case BTF_KIND.ENUM64:
          need(vlen * 12);
          t.enumValues = [];
          for (let i = 0; i < vlen; i++, p += 12) {
            const u = (BigInt(dv.getUint32(p + 8, le)) << 32n) | BigInt(dv.getUint32(p + 4, le));
            t.enumValues.push({ name: str(dv.getUint32(p, le), p), value: t.kindFlag ? BigInt.asIntN(64, u) : u });
          }
          break;
        case BTF_KIND.FUNC_PROTO:
          need(vlen * 8);
          t.params = [];
          for (let i = 0; i < vlen; i++, p += 8) t.params.push({ name: str(dv.getUint32(p, le), p), type: dv.getUint32(p + 4, le) });
          break;
        case BTF_KIND.FUNC:
          t.linkage = vlen;
          break;
        case BTF_KIND.VAR:
          need(4);
          t.linkage = dv.getUint32(p, le);
          p += 4;
          break;
        case BTF_KIND.DATASEC:
          need(vlen * 12);
          t.secinfos = [];
          for (let i = 0; i < vlen; i++, p += 12) {
            t.secinfos.push({ type: dv.getUint32(p, le), offset: dv.getUint32(p + 4, le), size: dv.getUint32(p + 8, le) });
          }
          break;
        case BTF_KIND.DECL_TAG:
          need(4);
          t.componentIdx = dv.getInt32(p, le);
          p += 4;
          break;
        default:
          // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FLOAT, TYPE_TAG: no extra data.
          break;
      }
      types.push(t);
    }
    return new Btf(types, strings, endian);
  }

  /** The string at `offset` in the BTF string section (used by .BTF.ext). */
  stringAt(offset: number): string | undefined {
    return readCString(this.strings, offset);
  }

  type(id: number): BtfType | undefined {
    return Number.isInteger(id) && id >= 0 && id < this.types.length ? this.types[id] : undefined;
  }

  private typeOrFail(id: number): BtfType {
    return this.type(id) ?? fail('NC1018', { reason: `type id ${id} is out of range (${this.types.length - 1} types)` }, { section: '.BTF' });
  }

  /** Follow typedefs and modifiers (const, volatile, restrict, type tags) to the underlying type id. */
  resolve(id: number): number {
    let cur = id;
    for (let depth = 0; depth <= MAX_CHAIN; depth++) {
      const t = this.typeOrFail(cur);
      if (!MODIFIER_KINDS.has(t.kind)) return cur;
      cur = t.type ?? 0;
    }
    return fail('NC1018', { reason: `type ${id}: typedef/modifier chain longer than ${MAX_CHAIN} (a cycle?)` }, { section: '.BTF' });
  }

  /** Size in bytes, the way the kernel's btf_type_size/btf_resolve_size computes it. Throws NC1018 for unsized types. */
  sizeOf(id: number, depth = 0): number {
    if (depth > MAX_CHAIN) fail('NC1018', { reason: `type ${id}: type chain longer than ${MAX_CHAIN} (a cycle?)` }, { section: '.BTF' });
    const t = this.typeOrFail(this.resolve(id));
    if (t.size !== undefined) return t.size;
    switch (t.kind) {
      case BTF_KIND.PTR:
        return 8;
      case BTF_KIND.VAR:
        return this.sizeOf(t.type ?? 0, depth + 1);
      case BTF_KIND.ARRAY: {
        const a = t.array!;
        const total = a.nelems * this.sizeOf(a.type, depth + 1);
        if (total > 0xffffffff) fail('NC1018', { reason: `array type ${t.id} is larger than 4 GiB` }, { section: '.BTF' });
        return total;
      }
      default:
        return fail('NC1018', { reason: `type ${id} (${t.kindName}) has no size` }, { section: '.BTF' });
    }
  }

  /** First type with this name (and kind, when given). */
  find(name: string, kind?: number): BtfType | undefined {
    return this.types.find((t) => t.name === name && (kind === undefined || t.kind === kind));
  }

  /** A C-like spelling of a type, for showing typed map keys and values: `struct flow_key`, `unsigned int *`, `__u64[4]`. */
  describe(id: number): string {
    return this.describeAt(id, 0);
  }

  private describeAt(id: number, depth: number): string {
    if (depth > MAX_CHAIN) return '...';
    const t = this.type(id);
    if (!t) return `<bad type ${id}>`;
    const named = (prefix: string): string => (t.name ? `${prefix}${t.name}` : `${prefix}(anon)`);
    switch (t.kind) {
      case 0:
        return 'void';
      case BTF_KIND.INT:
      case BTF_KIND.FLOAT:
      case BTF_KIND.TYPEDEF:
        return t.name || '(anon)';
      case BTF_KIND.PTR:
        return `${this.describeAt(t.type ?? 0, depth + 1)} *`;
      case BTF_KIND.ARRAY:
        return `${this.describeAt(t.array!.type, depth + 1)}[${t.array!.nelems}]`;
      case BTF_KIND.STRUCT:
        return named('struct ');
      case BTF_KIND.UNION:
        return named('union ');
      case BTF_KIND.ENUM:
      case BTF_KIND.ENUM64:
        return named('enum ');
      case BTF_KIND.FWD:
        return named(t.kindFlag ? 'union ' : 'struct ');
      case BTF_KIND.VOLATILE:
        return `volatile ${this.describeAt(t.type ?? 0, depth + 1)}`;
      case BTF_KIND.CONST:
        return `const ${this.describeAt(t.type ?? 0, depth + 1)}`;
      case BTF_KIND.RESTRICT:
        return `${this.describeAt(t.type ?? 0, depth + 1)} restrict`;
      case BTF_KIND.TYPE_TAG:
        return `${this.describeAt(t.type ?? 0, depth + 1)} __tag(${t.name})`;
      case BTF_KIND.FUNC:
        return `${t.name}()`;
      case BTF_KIND.FUNC_PROTO:
        return `${this.describeAt(t.type ?? 0, depth + 1)} (${(t.params ?? []).map((p) => this.describeAt(p.type, depth + 1)).join(', ')})`;
      case BTF_KIND.VAR:
        return `${this.describeAt(t.type ?? 0, depth + 1)} ${t.name}`;
      case BTF_KIND.DATASEC:
        return `section ${t.name}`;
      case BTF_KIND.DECL_TAG:
        return `__decl_tag(${t.name})`;
      default:
        return named('');
    }
  }
}
