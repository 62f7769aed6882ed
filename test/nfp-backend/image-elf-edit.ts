/**
 * Test-only ELF surgery for NFP images: read the section headers of an image
 * without nicoff's reader, and lay the file out again with some sections'
 * contents replaced. Used to make malformed images that are malformed in
 * exactly one way.
 */
export interface RawSection {
  index: number;
  name: string;
  /** File offset of this section's header. */
  header: number;
  type: number;
  offset: number;
  size: number;
  data: Uint8Array;
}

export function readSections(bytes: Uint8Array): RawSection[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(dv.getBigUint64(40, true));
  const shnum = dv.getUint16(60, true);
  const shstrndx = dv.getUint16(62, true);
  const hdr = (i: number) => shoff + i * 64;
  const strOff = Number(dv.getBigUint64(hdr(shstrndx) + 24, true));
  const name = (off: number): string => {
    let end = strOff + off;
    while (bytes[end] !== 0) end++;
    return new TextDecoder().decode(bytes.subarray(strOff + off, end));
  };
  const out: RawSection[] = [];
  for (let i = 0; i < shnum; i++) {
    const h = hdr(i);
    const offset = Number(dv.getBigUint64(h + 24, true));
    const size = Number(dv.getBigUint64(h + 32, true));
    out.push({ index: i, name: i === 0 ? '' : name(dv.getUint32(h, true)), header: h, type: dv.getUint32(h + 4, true), offset, size, data: bytes.subarray(offset, offset + size) });
  }
  return out;
}

export function section(bytes: Uint8Array, name: string): RawSection {
  const s = readSections(bytes).find((x) => x.name === name);
  if (!s) throw new Error(`no section ${name}`);
  return s;
}

/** The same file with the named sections' contents replaced (sizes may change; everything is laid out again). */
export function replaceSections(bytes: Uint8Array, replace: Record<string, Uint8Array>): Uint8Array {
  const sections = readSections(bytes);
  const datas = sections.map((s) => (s.index === 0 ? new Uint8Array(0) : (replace[s.name] ?? s.data)));
  let pos = 64;
  const offsets = datas.map((d, i) => {
    if (i === 0) return 0;
    pos = (pos + 7) & ~7;
    const at = pos;
    pos += d.length;
    return at;
  });
  const shoff = (pos + 7) & ~7;
  const out = new Uint8Array(shoff + sections.length * 64);
  out.set(bytes.subarray(0, 64));
  const dv = new DataView(out.buffer);
  dv.setBigUint64(40, BigInt(shoff), true);
  sections.forEach((s, i) => {
    out.set(datas[i], offsets[i]);
    const h = shoff + i * 64;
    out.set(bytes.subarray(s.header, s.header + 64), h);
    if (i > 0) {
      dv.setBigUint64(h + 24, BigInt(offsets[i]), true);
      dv.setBigUint64(h + 32, BigInt(datas[i].length), true);
    }
  });
  return out;
}

export function jsonSection(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

export function parseJsonSection(bytes: Uint8Array, name: string): any {
  return JSON.parse(new TextDecoder().decode(section(bytes, name).data));
}
