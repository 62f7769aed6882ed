/**
 * Incremental parser for classic pcap and pcapng.
 *
 * It consumes only whole records: `parse` is given the bytes not yet consumed
 * and returns how many it used plus what the incomplete remainder is waiting
 * for. The whole-file reader calls it once; the windowed file reader
 * (capture-file.ts) calls it per window, the next window starting where the
 * whole records ended. A cut at the end of the file is therefore
 * never an error here: the caller decides it is a truncation.
 *
 * Lengths that no valid file can have (a pcapng block shorter than its fixed
 * part, not a multiple of 4, or with mismatched trailing length; a record of
 * more than MAX_RECORD_BYTES) throw NC2004, because the bytes after them can no
 * longer be framed.
 */
import { fail } from '../diagnostics/diagnostic.js';
import {
  ticksToNanoseconds,
  type CaptureInterface,
  type CapturedPacket,
  type CaptureSecret,
  type TimestampResolution,
} from './capture.js';

/** Larger than any real packet or block (Wireshark itself stops at 16 MiB blocks). */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const BLOCK_IDB = 0x00000001;
const BLOCK_PB = 0x00000002;
const BLOCK_SPB = 0x00000003;
const BLOCK_EPB = 0x00000006;
const BLOCK_DSB = 0x0000000a;

/** Smallest total length of each block type (header, fixed fields, trailer). */
const MIN_BLOCK_LENGTH: Record<number, number> = {
  [PCAPNG_SHB]: 28,
  [BLOCK_IDB]: 20,
  [BLOCK_PB]: 32,
  [BLOCK_SPB]: 16,
  [BLOCK_EPB]: 32,
  [BLOCK_DSB]: 20,
};

const OPT_ENDOFOPT = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_FCSLEN = 13;

const MICROSECONDS: TimestampResolution = { base: 10, exponent: 6 };
const NANOSECONDS: TimestampResolution = { base: 10, exponent: 9 };

export type CaptureFormat = 'pcap' | 'pcapng';

/** What the first four bytes say, or undefined when they are no capture magic. */
export function sniffCaptureFormat(bytes: Uint8Array): CaptureFormat | undefined {
  if (bytes.length < 4) return undefined;
  const le = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
  const be = (((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0);
  if (le === PCAPNG_SHB) return 'pcapng';
  for (const m of [PCAP_MAGIC_US, PCAP_MAGIC_NS]) if (le === m || be === m) return 'pcap';
  return undefined;
}

export function magicHex(bytes: Uint8Array): string {
  if (bytes.length === 0) return '(empty file)';
  return Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
}

export interface ParseProgress {
  /** Bytes of the input that formed whole records. */
  consumed: number;
  /** When bytes remain: the record they start, for the truncation report. */
  waitingFor?: string;
}

export interface CaptureParserOptions {
  /** File name for diagnostics. */
  file?: string;
}

export class CaptureParser {
  format: CaptureFormat | undefined;
  readonly interfaces: CaptureInterface[] = [];
  readonly secrets: CaptureSecret[] = [];
  /** Packets emitted so far (for 1-based packet numbers in diagnostics). */
  packetCount = 0;

  private littleEndian = true;
  private headerDone = false;
  private nanosecond = false;
  /** pcapng: index in `interfaces` of the current section's interface 0. */
  private sectionBase = 0;
  private section = -1;

  constructor(
    private readonly emit: (packet: CapturedPacket) => void,
    private readonly options: CaptureParserOptions = {},
  ) {}

  /**
   * Parse the whole records in `bytes`, which begins at file offset `fileOffset`.
   * Packet data handed to `emit` are views into `bytes`.
   */
  parse(bytes: Uint8Array, fileOffset: number): ParseProgress {
    if (this.format === undefined) {
      if (bytes.length < 4) return { consumed: 0, waitingFor: 'file magic' };
      this.format = sniffCaptureFormat(bytes);
      if (this.format === undefined) {
        fail('NC2001', { magic: magicHex(bytes) }, { file: this.options.file, offset: 0 });
      }
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return this.format === 'pcap' ? this.parsePcap(bytes, view, fileOffset) : this.parsePcapng(bytes, view, fileOffset);
  }

  private malformed(reason: string, offset: number): never {
    fail('NC2004', { reason }, { file: this.options.file, offset, packet: this.packetCount + 1 });
  }

  // ---------------------------------------------------------------- classic pcap

  private parsePcap(bytes: Uint8Array, view: DataView, fileOffset: number): ParseProgress {
    let pos = 0;
    if (!this.headerDone) {
      if (bytes.length < 24) return { consumed: 0, waitingFor: 'pcap file header' };
      const magicLE = view.getUint32(0, true);
      this.littleEndian = magicLE === PCAP_MAGIC_US || magicLE === PCAP_MAGIC_NS;
      const magic = view.getUint32(0, this.littleEndian);
      this.nanosecond = magic === PCAP_MAGIC_NS;
      const snapLen = view.getUint32(16, this.littleEndian);
      const linkField = view.getUint32(20, this.littleEndian);
      const iface: CaptureInterface = {
        linkType: linkField & 0xffff,
        tsResolution: this.nanosecond ? NANOSECONDS : MICROSECONDS,
        snapLen,
        section: 0,
      };
      // Bit 28 says the FCS length (in 16-bit words) is in bits 29-31.
      if (linkField & 0x10000000) iface.fcsLen = ((linkField >>> 29) & 7) * 2;
      this.interfaces.push(iface);
      this.headerDone = true;
      pos = 24;
    }
    const le = this.littleEndian;
    const scale = this.nanosecond ? 1n : 1000n;
    while (pos < bytes.length) {
      if (bytes.length - pos < 16) return { consumed: pos, waitingFor: 'packet record header' };
      const seconds = view.getUint32(pos, le);
      const fraction = view.getUint32(pos + 4, le);
      const capturedLength = view.getUint32(pos + 8, le);
      const originalLength = view.getUint32(pos + 12, le);
      if (capturedLength > MAX_RECORD_BYTES) {
        this.malformed(`packet record length ${capturedLength} exceeds ${MAX_RECORD_BYTES}`, fileOffset + pos);
      }
      if (bytes.length - pos - 16 < capturedLength) return { consumed: pos, waitingFor: 'packet data' };
      this.packetCount++;
      this.emit({
        interfaceId: 0,
        timestampNs: BigInt(seconds) * 1_000_000_000n + BigInt(fraction) * scale,
        data: bytes.subarray(pos + 16, pos + 16 + capturedLength),
        originalLength,
      });
      pos += 16 + capturedLength;
    }
    return { consumed: pos };
  }

  // ---------------------------------------------------------------- pcapng

  private parsePcapng(bytes: Uint8Array, view: DataView, fileOffset: number): ParseProgress {
    let pos = 0;
    while (pos < bytes.length) {
      const left = bytes.length - pos;
      if (left < 12) return { consumed: pos, waitingFor: 'block header' };
      let type = view.getUint32(pos, this.littleEndian);
      if (view.getUint32(pos, true) === PCAPNG_SHB) {
        // A new section: its byte-order magic decides how everything after is read.
        type = PCAPNG_SHB;
        const bomLE = view.getUint32(pos + 8, true);
        if (bomLE === PCAPNG_BYTE_ORDER_MAGIC) this.littleEndian = true;
        else if (view.getUint32(pos + 8, false) === PCAPNG_BYTE_ORDER_MAGIC) this.littleEndian = false;
        else this.malformed(`section header byte-order magic is 0x${bomLE.toString(16)}`, fileOffset + pos + 8);
      }
      const le = this.littleEndian;
      const length = view.getUint32(pos + 4, le);
      const minimum = MIN_BLOCK_LENGTH[type] ?? 12;
      if (length < minimum || length % 4 !== 0 || length > MAX_RECORD_BYTES) {
        this.malformed(
          `block type 0x${type.toString(16)} has total length ${length}` +
            (length % 4 !== 0 ? ', not a multiple of 4' : length < minimum ? `, below its minimum ${minimum}` : ''),
          fileOffset + pos + 4,
        );
      }
      if (left < length) return { consumed: pos, waitingFor: `block type 0x${type.toString(16)} of ${length} bytes` };
      const trailer = view.getUint32(pos + length - 4, le);
      if (trailer !== length) {
        this.malformed(`block total length ${length} does not match its trailing copy ${trailer}`, fileOffset + pos + length - 4);
      }
      this.parseBlock(type, bytes, view, pos, length, fileOffset);
      pos += length;
    }
    return { consumed: pos };
  }

  private parseBlock(type: number, bytes: Uint8Array, view: DataView, pos: number, length: number, fileOffset: number): void {
    const le = this.littleEndian;
    const body = pos + 8;
    const bodyEnd = pos + length - 4;
    switch (type) {
      case PCAPNG_SHB:
        this.section++;
        this.sectionBase = this.interfaces.length;
        return;
      case BLOCK_IDB: {
        if (this.section < 0) this.malformed('interface description before any section header', fileOffset + pos);
        const iface: CaptureInterface = {
          linkType: view.getUint16(body, le),
          tsResolution: MICROSECONDS,
          snapLen: view.getUint32(body + 4, le),
          section: this.section,
        };
        this.readInterfaceOptions(iface, view, body + 8, bodyEnd, fileOffset);
        this.interfaces.push(iface);
        return;
      }
      case BLOCK_EPB:
      case BLOCK_PB: {
        const enhanced = type === BLOCK_EPB;
        const localId = enhanced ? view.getUint32(body, le) : view.getUint16(body, le);
        const iface = this.interfaceFor(localId, fileOffset + body);
        const ticks = (BigInt(view.getUint32(body + 4, le)) << 32n) | BigInt(view.getUint32(body + 8, le));
        const capturedLength = view.getUint32(body + 12, le);
        const originalLength = view.getUint32(body + 16, le);
        const data = body + 20;
        if (capturedLength > bodyEnd - data) {
          this.malformed(`captured length ${capturedLength} exceeds the ${bodyEnd - data} bytes of its block`, fileOffset + body + 12);
        }
        this.packetCount++;
        this.emit({
          interfaceId: this.sectionBase + localId,
          timestampNs: ticksToNanoseconds(ticks, iface.tsResolution),
          data: bytes.subarray(data, data + capturedLength),
          originalLength,
        });
        return;
      }
      case BLOCK_SPB: {
        // No captured length field: it is the original length cut to the snaplen and to the block.
        const iface = this.interfaceFor(0, fileOffset + pos);
        const originalLength = view.getUint32(body, le);
        let capturedLength = Math.min(originalLength, bodyEnd - (body + 4));
        if (iface.snapLen > 0) capturedLength = Math.min(capturedLength, iface.snapLen);
        this.packetCount++;
        this.emit({
          interfaceId: this.sectionBase,
          timestampNs: 0n,
          data: bytes.subarray(body + 4, body + 4 + capturedLength),
          originalLength,
        });
        return;
      }
      case BLOCK_DSB: {
        const secretsType = view.getUint32(body, le);
        const secretsLength = view.getUint32(body + 4, le);
        if (secretsLength > bodyEnd - (body + 8)) {
          this.malformed(`secrets length ${secretsLength} exceeds its block`, fileOffset + body + 4);
        }
        this.secrets.push({ type: secretsType, data: bytes.subarray(body + 8, body + 8 + secretsLength) });
        return;
      }
      default:
        // Name resolution, statistics, custom and unknown blocks carry nothing nicoff uses.
        return;
    }
  }

  private interfaceFor(localId: number, offset: number): CaptureInterface {
    const iface = this.section >= 0 ? this.interfaces[this.sectionBase + localId] : undefined;
    if (iface === undefined || iface.section !== this.section) {
      this.malformed(`packet refers to interface ${localId}, which its section does not describe`, offset);
    }
    return iface;
  }

  private readInterfaceOptions(iface: CaptureInterface, view: DataView, pos: number, end: number, fileOffset: number): void {
    const le = this.littleEndian;
    while (end - pos >= 4) {
      const code = view.getUint16(pos, le);
      const length = view.getUint16(pos + 2, le);
      if (code === OPT_ENDOFOPT) return;
      const value = pos + 4;
      if (length > end - value) this.malformed(`interface option ${code} of ${length} bytes overruns its block`, fileOffset + pos);
      if (code === OPT_IF_TSRESOL && length >= 1) {
        const raw = view.getUint8(value);
        iface.tsResolution = raw & 0x80 ? { base: 2, exponent: raw & 0x7f } : { base: 10, exponent: raw };
      } else if (code === OPT_IF_FCSLEN && length >= 1) {
        iface.fcsLen = view.getUint8(value);
      }
      pos = value + ((length + 3) & ~3);
    }
  }
}
