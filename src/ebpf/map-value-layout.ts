/**
 * Map keys and values as typed fields when the object's BTF knows their
 * types, as `bpftool map dump` formats them, and as hex bytes otherwise.
 *
 * A layout is plain data (it is stored beside a loaded program, so the
 * device can format values without the object):
 *   int     little-endian integer of 1, 2, 4 or 8 bytes (enums too)
 *   struct  named fields at byte offsets (bitfields and unions become bytes)
 *   array   `count` elements of one layout
 *   bytes   anything else: shown and given as hex
 *
 * Text forms, accepted for keys and values of any layout:
 *   hex bytes in memory order: `hex:01000000` or `01 00 00 00` (bpftool's form)
 * and, for typed layouts:
 *   int     `6`, `-1`, `0x800`
 *   struct  `{packets=1, bytes=64}` (fields left out are zero)
 *   array   `[1, 2, 3]`
 */
import { fail } from '../diagnostics/diagnostic.js';
import { BTF_KIND, type Btf } from './btf.js';

export type ValueLayout =
  | { kind: 'int'; size: number; signed: boolean; name: string }
  | { kind: 'struct'; size: number; name: string; fields: { name: string; offset: number; layout: ValueLayout }[] }
  | { kind: 'array'; size: number; count: number; element: ValueLayout }
  | { kind: 'bytes'; size: number };

const INT_SIGNED = 1;
const MAX_DEPTH = 16;

/** The layout of BTF type `id`, or bytes of `size` when BTF cannot say. */
export function layoutFromBtf(btf: Btf | undefined, id: number | undefined, size: number, depth = 0): ValueLayout {
  const bytes: ValueLayout = { kind: 'bytes', size };
  if (!btf || id === undefined || depth > MAX_DEPTH) return bytes;
  const resolvedId = btf.resolve(id);
  const t = btf.type(resolvedId);
  if (!t) return bytes;
  let realSize: number;
  try {
    realSize = btf.sizeOf(resolvedId);
  } catch {
    return bytes;
  }
  if (realSize !== size) return bytes;
  switch (t.kind) {
    case BTF_KIND.INT:
      if (t.int && t.int.bitOffset === 0 && t.int.bits === size * 8 && [1, 2, 4, 8].includes(size)) {
        return { kind: 'int', size, signed: (t.int.encoding & INT_SIGNED) !== 0, name: t.name };
      }
      return bytes;
    case BTF_KIND.ENUM:
    case BTF_KIND.ENUM64:
      return [1, 2, 4, 8].includes(size) ? { kind: 'int', size, signed: false, name: t.name || 'enum' } : bytes;
    case BTF_KIND.STRUCT: {
      const fields: { name: string; offset: number; layout: ValueLayout }[] = [];
      for (const m of t.members ?? []) {
        if (m.bitfieldSize !== 0 || m.bitOffset % 8 !== 0 || !m.name) return bytes;
        let msize: number;
        try {
          msize = btf.sizeOf(m.type);
        } catch {
          return bytes;
        }
        fields.push({ name: m.name, offset: m.bitOffset / 8, layout: layoutFromBtf(btf, m.type, msize, depth + 1) });
      }
      return { kind: 'struct', size, name: t.name, fields };
    }
    case BTF_KIND.ARRAY: {
      const a = t.array!;
      if (a.nelems === 0) return bytes;
      const element = layoutFromBtf(btf, a.type, size / a.nelems, depth + 1);
      return Number.isInteger(size / a.nelems) ? { kind: 'array', size, count: a.nelems, element } : bytes;
    }
    default:
      return bytes;
  }
}

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function readInt(b: Uint8Array, size: number, signed: boolean): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (signed && b[size - 1]! & 0x80) v -= 1n << BigInt(size * 8);
  return v;
}

/** The text form of `bytes` under `layout`. */
export function formatValue(layout: ValueLayout, bytes: Uint8Array): string {
  switch (layout.kind) {
    case 'int':
      return readInt(bytes, layout.size, layout.signed).toString();
    case 'struct':
      return `{${layout.fields.map((f) => `${f.name}=${formatValue(f.layout, bytes.subarray(f.offset, f.offset + f.layout.size))}`).join(', ')}}`;
    case 'array': {
      const n = layout.element.size;
      return `[${Array.from({ length: layout.count }, (_, i) => formatValue(layout.element, bytes.subarray(i * n, (i + 1) * n))).join(', ')}]`;
    }
    case 'bytes':
      return hexOf(bytes);
  }
}

/** Thrown inside parsing; the caller turns it into its own diagnostic with the map's name. */
export class ValueTextError extends Error {}

function hexBytes(text: string, size: number): Uint8Array | undefined {
  const t = text.trim();
  let digits: string | undefined;
  if (/^hex:/i.test(t)) digits = t.slice(4).replace(/\s+/g, '');
  else if (/^[0-9a-f]{2}( +[0-9a-f]{2})+$/i.test(t)) digits = t.replace(/\s+/g, '');
  if (digits === undefined) return undefined;
  if (!/^([0-9a-f]{2})*$/i.test(digits)) throw new ValueTextError(`"${text}" is not hex bytes`);
  if (digits.length !== size * 2) throw new ValueTextError(`"${text}" is ${digits.length / 2} bytes, not ${size}`);
  return Uint8Array.from(Buffer.from(digits, 'hex'));
}

function writeInt(out: Uint8Array, text: string, size: number, signed: boolean): void {
  const t = text.trim();
  if (!/^-?(0x[0-9a-f]+|\d+)$/i.test(t)) throw new ValueTextError(`"${text}" is not an integer`);
  const neg = t.startsWith('-');
  let v = BigInt(neg ? t.slice(1) : t);
  if (neg) v = -v;
  const bits = BigInt(size * 8);
  const min = signed ? -(1n << (bits - 1n)) : neg ? -(1n << (bits - 1n)) : 0n;
  const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  if (v < min || v > max) throw new ValueTextError(`${text} does not fit ${size} byte(s)`);
  if (v < 0n) v += 1n << bits;
  for (let i = 0; i < size; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
}

/** Split `a=1, b={c=2, d=3}, e=[1, 2]` at top-level commas. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
    if (depth < 0) throw new ValueTextError(`unbalanced brackets in "${text}"`);
  }
  if (depth !== 0) throw new ValueTextError(`unbalanced brackets in "${text}"`);
  const last = text.slice(start);
  if (last.trim() || parts.length) parts.push(last);
  return parts.map((p) => p.trim());
}

function parseInto(out: Uint8Array, layout: ValueLayout, text: string): void {
  const raw = hexBytes(text, layout.size);
  if (raw) return out.set(raw);
  const t = text.trim();
  switch (layout.kind) {
    case 'int':
      return writeInt(out, t, layout.size, layout.signed);
    case 'struct': {
      if (!t.startsWith('{') || !t.endsWith('}')) throw new ValueTextError(`"${text}" is not a ${layout.name || 'struct'} ({field=value, ...})`);
      for (const part of splitTopLevel(t.slice(1, -1))) {
        const eq = part.indexOf('=');
        const name = eq < 0 ? part : part.slice(0, eq).trim();
        const field = layout.fields.find((f) => f.name === name);
        if (eq < 0 || !field) throw new ValueTextError(`"${part}": fields are ${layout.fields.map((f) => f.name).join(', ')}`);
        parseInto(out.subarray(field.offset, field.offset + field.layout.size), field.layout, part.slice(eq + 1));
      }
      return;
    }
    case 'array': {
      if (!t.startsWith('[') || !t.endsWith(']')) throw new ValueTextError(`"${text}" is not an array ([a, b, ...])`);
      const items = splitTopLevel(t.slice(1, -1));
      if (items.length > layout.count) throw new ValueTextError(`${items.length} elements given, the array has ${layout.count}`);
      const n = layout.element.size;
      items.forEach((item, i) => parseInto(out.subarray(i * n, (i + 1) * n), layout.element, item));
      return;
    }
    case 'bytes': {
      const digits = t.replace(/^0x/i, '');
      if (!/^([0-9a-f]{2})*$/i.test(digits) || digits.length !== layout.size * 2) {
        throw new ValueTextError(`"${text}" is not ${layout.size} hex bytes (no BTF type: give the bytes in memory order, e.g. ${'00'.repeat(layout.size)})`);
      }
      return out.set(Buffer.from(digits, 'hex'));
    }
  }
}

/** Bytes of a key or value from its text form; a problem is NC6104 for `map` on `device`. */
export function parseValue(layout: ValueLayout, text: string, what: { device: string; map: string; part: 'key' | 'value' }): Uint8Array {
  const out = new Uint8Array(layout.size);
  try {
    parseInto(out, layout, text);
  } catch (e) {
    if (!(e instanceof ValueTextError)) throw e;
    fail('NC6104', { device: what.device, map: what.map, reason: `${what.part} ${e.message}` });
  }
  return out;
}
