/**
 * Reading whole captures from memory (capture-file.ts reads large files
 * through a window instead).
 */
import { fail, makeDiagnostic, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Capture, CapturedPacket, CaptureTruncation } from './capture.js';
import { CaptureParser, magicHex } from './capture-parser.js';

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
