/**
 * Reading whole captures from memory, or packet by packet from a file.
 */
import { createReadStream } from 'node:fs';
import { fail, makeDiagnostic, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Capture, CapturedPacket, CaptureInterface, CaptureSecret, CaptureTruncation } from './capture.js';
import { CaptureParser, magicHex, type CaptureFormat } from './capture-parser.js';

export interface ReadCaptureOptions {
  /** File name used in diagnostics. */
  file?: string;
}

/**
 * Parse a pcap or pcapng file held in memory. Packet data are views into `bytes`.
 * Throws NC2001 for an unknown magic and NC2004 for impossible framing; a file
 * cut short returns the packets before the cut with `truncation` set.
 */
export function readCapture(bytes: Uint8Array, options: ReadCaptureOptions = {}): Capture {
  const packets: CapturedPacket[] = [];
  const parser = new CaptureParser((p) => packets.push(p), options);
  const progress = parser.parse(bytes, 0);
  if (parser.format === undefined) fail('NC2001', { magic: magicHex(bytes) }, { file: options.file, offset: 0 });
  const capture: Capture = { format: parser.format, interfaces: parser.interfaces, packets, secrets: parser.secrets };
  if (progress.consumed < bytes.length) {
    capture.truncation = { offset: progress.consumed, reason: progress.waitingFor ?? 'incomplete record' };
  }
  return capture;
}

/** The NC2002 diagnostic the CLI prints for a truncated capture (a warning, not an error). */
export function truncationDiagnostic(truncation: CaptureTruncation, packetsRead: number, file?: string): Diagnostic {
  return makeDiagnostic(
    'NC2002',
    { offset: truncation.offset, what: truncation.reason, packets: packetsRead },
    { file, offset: truncation.offset },
  );
}

/**
 * A capture read from a file in chunks, for captures too large to hold at once.
 * Iterate it for packets; `interfaces` and `secrets` fill in as blocks are read
 * (every packet's interface is known before the packet is yielded) and
 * `truncation` is set once iteration has finished.
 */
export class CaptureStream implements AsyncIterable<CapturedPacket> {
  format: CaptureFormat | undefined;
  interfaces: CaptureInterface[] = [];
  secrets: CaptureSecret[] = [];
  truncation: CaptureTruncation | undefined;

  constructor(
    private readonly path: string,
    private readonly chunkSize = 1 << 20,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<CapturedPacket> {
    let ready: CapturedPacket[] = [];
    const parser = new CaptureParser((p) => ready.push(p), { file: this.path });
    this.interfaces = parser.interfaces;
    this.secrets = parser.secrets;
    let leftover: Uint8Array = new Uint8Array(0);
    let leftoverOffset = 0;
    let waitingFor: string | undefined;
    let sawBytes = false;
    try {
      for await (const chunk of createReadStream(this.path, { highWaterMark: this.chunkSize })) {
        const piece = chunk as Buffer;
        sawBytes ||= piece.length > 0;
        let bytes: Uint8Array;
        if (leftover.length === 0) bytes = piece;
        else {
          bytes = new Uint8Array(leftover.length + piece.length);
          bytes.set(leftover, 0);
          bytes.set(piece, leftover.length);
        }
        const progress = parser.parse(bytes, leftoverOffset);
        this.format = parser.format;
        waitingFor = progress.waitingFor;
        leftover = bytes.subarray(progress.consumed);
        leftoverOffset += progress.consumed;
        const batch = ready;
        ready = [];
        yield* batch;
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== undefined && !(e instanceof Error && e.name === 'NicoffError')) {
        fail('NC1001', { reason: (e as Error).message }, { file: this.path });
      }
      throw e;
    }
    if (parser.format === undefined) fail('NC2001', { magic: sawBytes ? magicHex(leftover) : '(empty file)' }, { file: this.path, offset: 0 });
    if (leftover.length > 0) this.truncation = { offset: leftoverOffset, reason: waitingFor ?? 'incomplete record' };
  }
}
