/**
 * A capture file read through one reused window buffer, for captures of
 * hundreds of MB. Holding such a file whole costs more than processing it on
 * these machines: first-touching fresh memory is what is slow, not the read
 * (128 MB: readFileSync 582 ms, the same file through a reused 8 MiB buffer
 * 53 ms, measured side by side). Views handed out are valid until the window
 * moves; `onMove` runs just before it does, so whoever kept a view can copy it.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { fail } from '../diagnostics/diagnostic.js';
import type { CapturedPacket, CaptureInterface, CaptureSecret, CaptureTruncation } from './capture.js';
import { CaptureParser, magicHex, MAX_RECORD_BYTES, type CaptureFormat } from './capture-parser.js';

export const DEFAULT_WINDOW_BYTES = 8 << 20;

function ioFailure(path: string, err: unknown): never {
  const e = err as NodeJS.ErrnoException;
  const reason = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : (e.code ?? e.message);
  fail('NC1001', { reason }, { file: path });
}

export class CaptureFileWindow {
  readonly size: number;
  /** Called with the buffer about to be overwritten, before the window moves. */
  onMove: ((recycled: ArrayBufferLike) => void) | undefined;
  private readonly fd: number;
  private buffer: Buffer;
  /** File offset of buffer[0], and how many bytes of the buffer are valid. */
  private start = 0;
  private filled = 0;

  constructor(
    readonly path: string,
    /** The window's usual size (one record larger than it grows it). */
    readonly windowBytes = DEFAULT_WINDOW_BYTES,
  ) {
    try {
      this.fd = openSync(path, 'r');
      const stat = fstatSync(this.fd);
      if (stat.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      this.size = stat.size;
    } catch (err) {
      ioFailure(path, err);
    }
    this.buffer = Buffer.allocUnsafeSlow(Math.max(1, Math.min(windowBytes, this.size)));
  }

  /** Bytes [at, at + length) of the file (fewer at its end): a view valid until the window next moves. */
  view(at: number, length: number): Uint8Array {
    const end = Math.min(at + length, this.size);
    if (at < this.start || end > this.start + this.filled) this.moveTo(at, end - at);
    return this.buffer.subarray(at - this.start, end - this.start);
  }

  /** A copy of bytes [at, at + length) that stays valid; the window does not move. */
  copy(at: number, length: number): Uint8Array {
    const out = Buffer.allocUnsafe(Math.max(0, Math.min(length, this.size - at)));
    this.readInto(out, 0, out.length, at);
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }

  private moveTo(at: number, need: number): void {
    this.onMove?.(this.buffer.buffer);
    if (need > this.buffer.length) this.buffer = Buffer.allocUnsafeSlow(need);
    this.start = at;
    this.filled = this.readInto(this.buffer, 0, Math.min(this.buffer.length, this.size - at), at);
  }

  private readInto(into: Buffer, offset: number, length: number, position: number): number {
    let done = 0;
    try {
      while (done < length) {
        const n = readSync(this.fd, into, offset + done, length - done, position + done);
        if (n <= 0) break;
        done += n;
      }
    } catch (err) {
      ioFailure(this.path, err);
    }
    return done;
  }
}

export interface CaptureFileScan {
  format: CaptureFormat;
  interfaces: CaptureInterface[];
  secrets: CaptureSecret[];
  packetCount: number;
  truncation?: CaptureTruncation;
}

/**
 * Parse every record of the file through `window`, in order. `visit` gets
 * each packet (its data a view valid only during the call), the file
 * offset of its data and the interfaces described so far. Secrets (pcapng DSB) are copied out of the window.
 * Errors as `readCapture`: NC2001 unknown magic, NC2004 impossible framing, a
 * cut at the end reported in `truncation`.
 */
export function scanCaptureFile(
  window: CaptureFileWindow,
  visit: (packet: CapturedPacket, dataOffset: number, interfaces: readonly CaptureInterface[]) => void,
): CaptureFileScan {
  let windowStart = 0;
  let windowBytes: Uint8Array = new Uint8Array(0);
  const parser = new CaptureParser(
    (packet) => visit(packet, windowStart + (packet.data.byteOffset - windowBytes.byteOffset), parser.interfaces),
    { file: window.path },
  );
  let pos = 0;
  let want = Math.min(window.size, window.windowBytes);
  let waitingFor: string | undefined;
  let secretsCopied = 0;
  while (pos < window.size) {
    windowStart = pos;
    windowBytes = window.view(pos, want);
    const progress = parser.parse(windowBytes, pos);
    for (; secretsCopied < parser.secrets.length; secretsCopied++) {
      const secret = parser.secrets[secretsCopied]!;
      secret.data = Uint8Array.from(secret.data);
    }
    waitingFor = progress.waitingFor;
    pos += progress.consumed;
    const atEnd = windowStart + windowBytes.length >= window.size;
    if (atEnd && progress.consumed < windowBytes.length) break; // cut short: the rest is an incomplete record
    if (progress.consumed === 0) {
      // One record larger than the window: grow it (the parser refuses records beyond MAX_RECORD_BYTES).
      want = Math.min(want * 2, MAX_RECORD_BYTES + (1 << 16));
    }
  }
  if (parser.format === undefined) {
    fail('NC2001', { magic: window.size ? magicHex(window.copy(0, 4)) : '(empty file)' }, { file: window.path, offset: 0 });
  }
  const scan: CaptureFileScan = {
    format: parser.format,
    interfaces: parser.interfaces,
    secrets: parser.secrets,
    packetCount: parser.packetCount,
  };
  if (pos < window.size) scan.truncation = { offset: pos, reason: waitingFor ?? 'incomplete record' };
  return scan;
}
