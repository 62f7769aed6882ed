/**
 * Writing captures: classic little-endian pcap, and single-section pcapng with
 * one interface (plus optional Decryption Secrets Blocks, for TLS key logs).
 */
import type { CaptureSecret, TimestampResolution } from './capture.js';

export interface PacketToWrite {
  data: Uint8Array;
  /** Nanoseconds since the epoch; 0 when absent. */
  timestampNs?: bigint;
  /** Wire length; data.length when absent. */
  originalLength?: number;
}

export interface PcapWriteOptions {
  linkType: number;
  /** Write the nanosecond magic (0xa1b23c4d) instead of microseconds. */
  nanosecond?: boolean;
  /** Defaults to 262144, the usual libpcap maximum. */
  snapLen?: number;
  /** Record an FCS length (bytes, even, <= 14) in the link-type field's FCS bits. */
  fcsLen?: number;
}

export interface PcapngWriteOptions {
  linkType: number;
  snapLen?: number;
  /** Defaults to nanoseconds ({10, 9}). */
  tsResolution?: TimestampResolution;
  fcsLen?: number;
  /** Written before the first packet, as Wireshark expects. */
  secrets?: CaptureSecret[];
}

const DEFAULT_SNAPLEN = 262144;

/** Growable little-endian byte sink. */
class ByteSink {
  private bytes = new Uint8Array(4096);
  private view = new DataView(this.bytes.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }
  u8(v: number): void {
    this.reserve(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
  }
  u16(v: number): void {
    this.reserve(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
  }
  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, v >>> 0, true);
    this.length += 4;
  }
  raw(b: Uint8Array): void {
    this.reserve(b.length);
    this.bytes.set(b, this.length);
    this.length += b.length;
  }
  padTo4(): void {
    while (this.length % 4 !== 0) this.u8(0);
  }
  patchU32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0, true);
  }
  result(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

function splitTimestamp(ns: bigint, unitsPerSecond: bigint): [bigint, bigint] {
  return [ns / 1_000_000_000n, ((ns % 1_000_000_000n) * unitsPerSecond) / 1_000_000_000n];
}

export function writePcap(packets: Iterable<PacketToWrite>, options: PcapWriteOptions): Uint8Array {
  const out = new ByteSink();
  const nanosecond = options.nanosecond ?? false;
  out.u32(nanosecond ? 0xa1b23c4d : 0xa1b2c3d4);
  out.u16(2);
  out.u16(4);
  out.u32(0); // thiszone
  out.u32(0); // sigfigs
  out.u32(options.snapLen ?? DEFAULT_SNAPLEN);
  let linkField = options.linkType & 0xffff;
  if (options.fcsLen !== undefined) linkField |= 0x10000000 | (((options.fcsLen >> 1) & 7) << 29);
  out.u32(linkField);
  for (const p of packets) {
    const [seconds, fraction] = splitTimestamp(p.timestampNs ?? 0n, nanosecond ? 1_000_000_000n : 1_000_000n);
    out.u32(Number(seconds & 0xffffffffn));
    out.u32(Number(fraction));
    out.u32(p.data.length);
    out.u32(p.originalLength ?? p.data.length);
    out.raw(p.data);
  }
  return out.result();
}

/** Write one block: type, length, body from `fill`, padding, trailing length. */
function block(out: ByteSink, type: number, fill: () => void): void {
  const start = out.length;
  out.u32(type);
  out.u32(0);
  fill();
  out.padTo4();
  const length = out.length - start + 4;
  out.u32(length);
  out.patchU32(start + 4, length);
}

export function writePcapng(packets: Iterable<PacketToWrite>, options: PcapngWriteOptions): Uint8Array {
  const out = new ByteSink();
  const res = options.tsResolution ?? { base: 10, exponent: 9 };
  const unitsPerSecond = BigInt(res.base) ** BigInt(res.exponent);
  block(out, 0x0a0d0d0a, () => {
    out.u32(0x1a2b3c4d);
    out.u16(1);
    out.u16(0);
    out.u32(0xffffffff); // section length unknown (-1)
    out.u32(0xffffffff);
  });
  block(out, 0x00000001, () => {
    out.u16(options.linkType);
    out.u16(0);
    out.u32(options.snapLen ?? DEFAULT_SNAPLEN);
    out.u16(9); // if_tsresol
    out.u16(1);
    out.u8(res.base === 2 ? 0x80 | res.exponent : res.exponent);
    out.padTo4();
    if (options.fcsLen !== undefined) {
      out.u16(13); // if_fcslen
      out.u16(1);
      out.u8(options.fcsLen);
      out.padTo4();
    }
    out.u32(0); // opt_endofopt
  });
  for (const secret of options.secrets ?? []) {
    block(out, 0x0000000a, () => {
      out.u32(secret.type);
      out.u32(secret.data.length);
      out.raw(secret.data);
    });
  }
  for (const p of packets) {
    const ns = p.timestampNs ?? 0n;
    const ticks = (ns / 1_000_000_000n) * unitsPerSecond + splitTimestamp(ns, unitsPerSecond)[1];
    block(out, 0x00000006, () => {
      out.u32(0);
      out.u32(Number((ticks >> 32n) & 0xffffffffn));
      out.u32(Number(ticks & 0xffffffffn));
      out.u32(p.data.length);
      out.u32(p.originalLength ?? p.data.length);
      out.raw(p.data);
    });
  }
  return out.result();
}
