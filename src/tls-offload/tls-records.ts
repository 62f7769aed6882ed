/**
 * TLS record layer framing and the plaintext hello messages.
 *
 * `splitRecords` cuts a reassembled TCP byte stream into records;
 * `HandshakeReader` joins handshake messages that span records (the hellos
 * in plaintext, and later the decrypted TLS 1.3 handshake);
 * `parseClientHello` / `parseServerHello` take out the randoms, the negotiated
 * version (supported_versions) and the cipher suite.
 */
import { fail } from '../diagnostics/diagnostic.js';

export const CONTENT_TYPE = {
  CHANGE_CIPHER_SPEC: 20,
  ALERT: 21,
  HANDSHAKE: 22,
  APPLICATION_DATA: 23,
} as const;

export const HANDSHAKE_TYPE = {
  CLIENT_HELLO: 1,
  SERVER_HELLO: 2,
  NEW_SESSION_TICKET: 4,
  END_OF_EARLY_DATA: 5,
  ENCRYPTED_EXTENSIONS: 8,
  FINISHED: 20,
  KEY_UPDATE: 24,
} as const;

export const EXTENSION_TYPE = {
  EARLY_DATA: 42,
  SUPPORTED_VERSIONS: 43,
} as const;

export const TLS_RECORD_HEADER_LENGTH = 5;
/** Largest record fragment allowed on the wire (2^14 + 2048, RFC 5246 §6.2.3; 1.3 allows 2^14 + 256). */
export const MAX_RECORD_FRAGMENT = 16384 + 2048;

/** SHA-256("HelloRetryRequest"): the ServerHello random that marks a HelloRetryRequest (RFC 8446 §4.1.3). */
export const HELLO_RETRY_REQUEST_RANDOM = Buffer.from(
  'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c',
  'hex',
);

export interface TlsRecord {
  /** Offset of the record header in the stream. */
  offset: number;
  contentType: number;
  /** Record-layer version field. */
  version: number;
  /** The 5 header bytes. */
  header: Uint8Array;
  fragment: Uint8Array;
}

export interface SplitRecords {
  records: TlsRecord[];
  /** Bytes at the end of the stream that do not make a whole record. */
  trailingBytes: number;
}

/** Cut a stream into records. `flow` only labels an NC7002 error for a header that is not TLS. */
export function splitRecords(stream: Uint8Array, flow = 'stream'): SplitRecords {
  const records: TlsRecord[] = [];
  let offset = 0;
  while (offset + TLS_RECORD_HEADER_LENGTH <= stream.length) {
    const contentType = stream[offset]!;
    const version = (stream[offset + 1]! << 8) | stream[offset + 2]!;
    const length = (stream[offset + 3]! << 8) | stream[offset + 4]!;
    if (contentType < 20 || contentType > 24 || stream[offset + 1] !== 3 || length > MAX_RECORD_FRAGMENT) {
      fail('NC7002', {
        what: 'record header',
        flow,
        reason: `bytes ${Buffer.from(stream.subarray(offset, offset + 5)).toString('hex')} at stream offset ${offset} are not a TLS record header`,
      });
    }
    const end = offset + TLS_RECORD_HEADER_LENGTH + length;
    if (end > stream.length) break;
    records.push({
      offset,
      contentType,
      version,
      header: stream.subarray(offset, offset + TLS_RECORD_HEADER_LENGTH),
      fragment: stream.subarray(offset + TLS_RECORD_HEADER_LENGTH, end),
    });
    offset = end;
  }
  return { records, trailingBytes: stream.length - offset };
}

export interface HandshakeMessage {
  type: number;
  body: Uint8Array;
}

/** Joins handshake bytes across records and yields whole messages. */
export class HandshakeReader {
  private pending: Buffer = Buffer.alloc(0);

  /** Add the plaintext of one handshake record; returns the messages it completes. */
  push(bytes: Uint8Array): HandshakeMessage[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, bytes]) : Buffer.from(bytes);
    const messages: HandshakeMessage[] = [];
    let offset = 0;
    while (offset + 4 <= this.pending.length) {
      const length = (this.pending[offset + 1]! << 16) | (this.pending[offset + 2]! << 8) | this.pending[offset + 3]!;
      if (offset + 4 + length > this.pending.length) break;
      messages.push({ type: this.pending[offset]!, body: this.pending.subarray(offset + 4, offset + 4 + length) });
      offset += 4 + length;
    }
    this.pending = this.pending.subarray(offset);
    return messages;
  }

  /** Bytes of a message not yet complete. */
  get pendingBytes(): number {
    return this.pending.length;
  }
}

export interface ClientHello {
  random: Uint8Array;
  legacyVersion: number;
  cipherSuites: number[];
  extensions: Map<number, Uint8Array>;
  /** The client offered 0-RTT data (early_data extension). */
  offersEarlyData: boolean;
}

export interface ServerHello {
  random: Uint8Array;
  legacyVersion: number;
  /** 0x0304 when supported_versions selects TLS 1.3, else the legacy version. */
  version: number;
  cipherSuite: number;
  extensions: Map<number, Uint8Array>;
  isHelloRetryRequest: boolean;
}

/** A bounds-checked reader over a hello body. */
class HelloCursor {
  private offset = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
    private readonly flow: string,
  ) {}

  take(length: number): Uint8Array {
    if (this.offset + length > this.bytes.length) {
      fail('NC7002', { what: this.what, flow: this.flow, reason: `needs ${length} bytes at offset ${this.offset}, has ${this.bytes.length - this.offset}` });
    }
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  uint8(): number {
    return this.take(1)[0]!;
  }

  uint16(): number {
    const b = this.take(2);
    return (b[0]! << 8) | b[1]!;
  }

  vector8(): Uint8Array {
    return this.take(this.uint8());
  }

  vector16(): Uint8Array {
    return this.take(this.uint16());
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }
}

function parseExtensions(cursor: HelloCursor, what: string, flow: string): Map<number, Uint8Array> {
  const extensions = new Map<number, Uint8Array>();
  if (cursor.remaining === 0) return extensions;
  const block = new HelloCursor(cursor.vector16(), what, flow);
  while (block.remaining > 0) {
    const type = block.uint16();
    extensions.set(type, block.vector16());
  }
  return extensions;
}

export function parseClientHello(body: Uint8Array, flow = 'stream'): ClientHello {
  const what = 'ClientHello';
  const cursor = new HelloCursor(body, what, flow);
  const legacyVersion = cursor.uint16();
  const random = cursor.take(32);
  cursor.vector8(); // legacy_session_id
  const suites = cursor.vector16();
  const cipherSuites: number[] = [];
  for (let i = 0; i + 1 < suites.length; i += 2) cipherSuites.push((suites[i]! << 8) | suites[i + 1]!);
  cursor.vector8(); // legacy_compression_methods
  const extensions = parseExtensions(cursor, what, flow);
  return { random, legacyVersion, cipherSuites, extensions, offersEarlyData: extensions.has(EXTENSION_TYPE.EARLY_DATA) };
}

export function parseServerHello(body: Uint8Array, flow = 'stream'): ServerHello {
  const what = 'ServerHello';
  const cursor = new HelloCursor(body, what, flow);
  const legacyVersion = cursor.uint16();
  const random = cursor.take(32);
  cursor.vector8(); // legacy_session_id_echo
  const cipherSuite = cursor.uint16();
  cursor.uint8(); // legacy_compression_method
  const extensions = parseExtensions(cursor, what, flow);
  const supported = extensions.get(EXTENSION_TYPE.SUPPORTED_VERSIONS);
  let version = legacyVersion;
  if (supported) {
    if (supported.length !== 2) fail('NC7002', { what, flow, reason: 'supported_versions must hold one version' });
    version = (supported[0]! << 8) | supported[1]!;
  }
  return {
    random,
    legacyVersion,
    version,
    cipherSuite,
    extensions,
    isHelloRetryRequest: Buffer.from(random).equals(HELLO_RETRY_REQUEST_RANDOM),
  };
}

/**
 * The plaintext handshake messages at the start of a stream: handshake
 * records before the first ChangeCipherSpec or application-data record.
 */
export function plaintextHandshake(records: TlsRecord[]): HandshakeMessage[] {
  const reader = new HandshakeReader();
  const messages: HandshakeMessage[] = [];
  for (const record of records) {
    if (record.contentType === CONTENT_TYPE.CHANGE_CIPHER_SPEC || record.contentType === CONTENT_TYPE.APPLICATION_DATA) break;
    if (record.contentType === CONTENT_TYPE.HANDSHAKE) messages.push(...reader.push(record.fragment));
  }
  return messages;
}
