/**
 * Test support: rewriting capture files made by text2pcap/editcap into forms
 * no installed tool writes (big-endian, power-of-2 resolution, SPB, obsolete
 * PB, unknown blocks). tshark then says what the crafted file means.
 */

export interface RawBlock {
  type: number;
  /** Bytes between the length field and the trailing length (padding included). */
  body: Uint8Array;
}

/** Split a little-endian pcapng file into blocks. */
export function splitPcapng(file: Uint8Array): RawBlock[] {
  const bytes = Uint8Array.from(file); // Buffer.slice would share memory
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blocks: RawBlock[] = [];
  for (let pos = 0; pos < bytes.length; ) {
    const type = view.getUint32(pos, true);
    const length = view.getUint32(pos + 4, true);
    blocks.push({ type, body: bytes.slice(pos + 8, pos + length - 4) });
    pos += length;
  }
  return blocks;
}

export function joinPcapng(blocks: RawBlock[], littleEndian = true): Uint8Array {
  const total = blocks.reduce((n, b) => n + 12 + ((b.body.length + 3) & ~3), 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let pos = 0;
  for (const b of blocks) {
    const length = 12 + ((b.body.length + 3) & ~3);
    view.setUint32(pos, b.type, littleEndian);
    view.setUint32(pos + 4, length, littleEndian);
    out.set(b.body, pos + 8);
    view.setUint32(pos + length - 4, length, littleEndian);
    pos += length;
  }
  return out;
}

/** Little-endian options list: [code, value] pairs, terminated by opt_endofopt. */
export function optionBytes(options: [number, Uint8Array][]): Uint8Array {
  const parts: number[] = [];
  for (const [code, value] of options) {
    parts.push(code & 0xff, code >> 8, value.length & 0xff, value.length >> 8, ...value);
    while (parts.length % 4) parts.push(0);
  }
  parts.push(0, 0, 0, 0);
  return Uint8Array.from(parts);
}

export function le32(...values: number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint32(4 * i, v >>> 0, true));
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function swapInPlace(b: Uint8Array, at: number, size: number): void {
  b.subarray(at, at + size).reverse();
}

/** Classic pcap, little-endian in, big-endian out (every header and record field swapped). */
export function pcapToBigEndian(bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes); // not Buffer.slice, which shares memory
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  swapInPlace(out, 0, 4);
  swapInPlace(out, 4, 2);
  swapInPlace(out, 6, 2);
  for (let at = 8; at < 24; at += 4) swapInPlace(out, at, 4);
  for (let pos = 24; pos < bytes.length; ) {
    const incl = view.getUint32(pos + 8, true);
    for (let at = 0; at < 16; at += 4) swapInPlace(out, pos + at, 4);
    pos += 16 + incl;
  }
  return out;
}

/** Options whose values are numbers (swapped); every other option value is bytes or text. */
const NUMERIC_OPTIONS: Record<number, Record<number, number>> = {
  0x00000001: { 8: 8, 14: 8 }, // if_speed, if_tsoffset
  0x00000006: { 2: 4, 4: 8 }, // epb_flags, epb_dropcount
};

function swapOptions(out: Uint8Array, view: DataView, pos: number, end: number, blockType: number): void {
  while (end - pos >= 4) {
    const code = view.getUint16(pos, true);
    const length = view.getUint16(pos + 2, true);
    swapInPlace(out, pos, 2);
    swapInPlace(out, pos + 2, 2);
    if (code === 0) return;
    const size = NUMERIC_OPTIONS[blockType]?.[code];
    if (size === length) swapInPlace(out, pos + 4, size);
    pos += 4 + ((length + 3) & ~3);
  }
}

/** pcapng (SHB, IDB, EPB, SPB, DSB and opaque blocks), little-endian in, big-endian out. */
export function pcapngToBigEndian(bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes); // not Buffer.slice, which shares memory
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let pos = 0; pos < bytes.length; ) {
    const type = view.getUint32(pos, true);
    const length = view.getUint32(pos + 4, true);
    const body = pos + 8;
    const end = pos + length - 4;
    swapInPlace(out, pos, 4);
    swapInPlace(out, pos + 4, 4);
    swapInPlace(out, end, 4);
    if (type === 0x0a0d0d0a) {
      swapInPlace(out, body, 4);
      swapInPlace(out, body + 4, 2);
      swapInPlace(out, body + 6, 2);
      swapInPlace(out, body + 8, 8);
      swapOptions(out, view, body + 16, end, type);
    } else if (type === 1) {
      swapInPlace(out, body, 2);
      swapInPlace(out, body + 2, 2);
      swapInPlace(out, body + 4, 4);
      swapOptions(out, view, body + 8, end, type);
    } else if (type === 6) {
      for (let at = 0; at < 20; at += 4) swapInPlace(out, body + at, 4);
      const caplen = view.getUint32(body + 12, true);
      swapOptions(out, view, body + 20 + ((caplen + 3) & ~3), end, type);
    } else if (type === 3) {
      swapInPlace(out, body, 4);
    } else if (type === 0x0a) {
      const secretsLength = view.getUint32(body + 4, true);
      swapInPlace(out, body, 4);
      swapInPlace(out, body + 4, 4);
      swapOptions(out, view, body + 8 + ((secretsLength + 3) & ~3), end, type);
    } else {
      throw new Error(`pcapngToBigEndian: block type 0x${type.toString(16)} not handled`);
    }
    pos += length;
  }
  return out;
}
