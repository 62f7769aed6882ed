/**
 * The transmit side of the NIC TLS offload model (../shared/docs/tls-offload.md
 * §1 "TX", §3b "Transmit side", counters `tx_tls_*`).
 *
 * The capture is taken at the receiver, so a direction's data segments, in
 * capture order, stand for what the sender's NIC transmitted. Software (kTLS)
 * hands the NIC records whose header and explicit nonce are already written;
 * the NIC encrypts the plaintext in place with AES-GCM, carrying the CTR/GHASH
 * state from segment to segment, and writes the tag. Per data segment:
 *
 * - **in sequence** (it starts at, or after, the highest byte sent so far): the
 *   NIC's context continues: `tx_tls_encrypted_packets` / `_bytes`. A segment
 *   that starts beyond that point follows bytes lost before the capture point;
 *   the sender's NIC did encrypt them in order, so the context moves over
 *   them (their count is `details.gapBytes`).
 * - **out of sequence** (it starts below the highest byte sent so far: a
 *   retransmission, a duplicate, or a segment the path delayed): the driver
 *   finds the record holding the segment's first byte (kernel
 *   `tls_get_record`) and rebuilds the NIC's crypto state by replaying
 *   ("DUMP") the record's bytes from its header up to the segment:
 *   `tx_tls_ooo`, and when the segment does not start at a record boundary
 *   `tx_tls_dump_packets` += 1 and `tx_tls_dump_bytes` += those prefix bytes.
 *   If that record was already acknowledged (the peer's cumulative ACK, seen
 *   earlier in the capture, reached the record's end) the kernel has released
 *   it and the driver cannot resynchronise: the segment is dropped and counted
 *   in `tx_tls_drop_no_sync_data` instead (not encrypted, not in `tx_tls_ooo`).
 *
 * Each offloaded segment increments exactly one of `tx_tls_encrypted_packets`,
 * `tx_tls_ooo`, `tx_tls_drop_no_sync_data`. Segments wholly outside the
 * offloaded records (the handshake before offload starts, records after a TLS
 * 1.3 KeyUpdate) are not the NIC's and count in no tx counter
 * (`details.bypassSegments`). Differences from the mlx5 driver, on purpose:
 * mlx5 also adds a resynchronised segment to `tls_encrypted_packets`, counts
 * one dump packet per MTU-sized piece of the prefix rather than one per
 * segment, and compares each segment with the end of the previous one, so the
 * first new segment after a retransmission needs a second resync; the option
 * `resyncOnResume` models that last behaviour (see `details.resumeResyncs`).
 *
 * Verification: every byte the NIC produces is computed from the record's
 * plaintext and compared with the wire. GCM ciphertext is the AES-CTR
 * keystream from the counter block nonce ‖ 00000002, so ciphertext byte `o` of
 * a record uses counter 2 + ⌊o/16⌋, skipping o mod 16 bytes of that block. Out
 * of sequence, each piece is computed by a fresh AES-CTR cipher started at that
 * counter (the state the dump rebuilt). In sequence, the NIC's context runs
 * through a record front to back, so the model encrypts each record once (GCM
 * over the whole record: ciphertext and tag, one node:crypto call per record)
 * and compares each segment with its slice. Tag bytes are checked when the
 * record's additional data is given (and `verifyTags` is not false).
 */
import { SEQUENCE_SPACE, TCP_SYN, TCP_RST, TCP_ACK } from './tcp-flows.js';
import { GCM_TAG_LENGTH, TLS12_EXPLICIT_NONCE_LENGTH, gcmKeystreamAt } from './software-decrypt.js';
import { createCipheriv } from 'node:crypto';
import type { TlsCounters } from './replay-types.js';
import type { ConnectionSecrets, KeyLog } from './keylog.js';
import {
  pskPreMasterSecret,
  tls12AdditionalData,
  tls12MasterSecret,
  tls12Nonce,
  tls12TrafficKeys,
  tls13AdditionalData,
  tls13Nonce,
  tls13TrafficKeys,
  type AeadAlgorithm,
  type CipherSuite,
  type TrafficKeys,
} from './key-schedule.js';
import type { DecryptedRecord, TlsSession } from './software-decrypt.js';
import { unwrapOffset, type TcpDirection } from './tcp-flows.js';
import { CONTENT_TYPE, TLS_RECORD_HEADER_LENGTH, splitRecords } from './tls-records.js';

const MAX_MISMATCH_DETAILS = 16;

/** One record the NIC encrypts, in the direction's in-order stream. */
export interface TxRecord {
  /** Stream offset of the record's first header byte (bytes from the direction's first payload byte). */
  streamOffset: number;
  /** The whole record on the wire: 5-byte header plus fragment. */
  length: number;
  /** Record sequence number (TLS 1.2 additional data; TLS 1.3 nonce). */
  recordNumber: bigint;
  /** The 12-byte GCM nonce: salt ‖ explicit nonce (TLS 1.2) or iv XOR seq (TLS 1.3); needed with `plaintext`. */
  nonce?: Uint8Array;
  /** Bytes between the header and the ciphertext that software writes: 8 (TLS 1.2 explicit nonce) or 0 (TLS 1.3). */
  explicitNonceLength: 0 | 8;
  /**
   * The AEAD plaintext, `length − 5 − explicitNonceLength − 16` bytes (TLS 1.3:
   * the whole TLSInnerPlaintext, content ‖ type ‖ padding). Undefined when
   * software could not decrypt the record: its bytes are then not checked
   * (`details.uncheckedBytes`).
   */
  plaintext?: Uint8Array;
  /** The AEAD additional data; when given (with the plaintext) the tag bytes are checked too. */
  additionalData?: Uint8Array;
}

/**
 * One captured data segment of the direction: with its payload (the bytes are
 * checked against the model's encryption) or only its length (counted only).
 */
export type TxSegment = {
  /** Position in the capture (1-based packet number): orders segments and ACKs. */
  packetNumber: number;
  /** Stream offset of the first payload byte (negative: before the stream's first byte). */
  streamOffset: number;
} & ({ payload: Uint8Array } | { length: number; payload?: undefined });

function segmentLength(segment: TxSegment): number {
  return segment.payload ? segment.payload.length : segment.length;
}

/** Segments counted only, as columns in capture order (the replay's form: no object per segment). */
export interface TxSegmentColumns {
  count: number;
  packetNumber: ArrayLike<number>;
  streamOffset: ArrayLike<number>;
  length: ArrayLike<number>;
}

/** Cumulative ACKs as columns, in capture order. */
export interface TxAckColumns {
  count: number;
  packetNumber: ArrayLike<number>;
  streamOffset: ArrayLike<number>;
}

/** A cumulative ACK from the peer, as a stream offset of this direction. */
export interface TxAck {
  packetNumber: number;
  streamOffset: number;
}

export interface TransmitInput {
  aead: AeadAlgorithm;
  key: Uint8Array;
  /**
   * The records the NIC encrypts, in stream order; the first is where offload
   * starts (the first record under the application key: record 1 in TLS 1.2,
   * 0 in TLS 1.3). `recordLayout` computes this from a reassembled stream.
   */
  records: TxRecord[];
  /** The direction's segments with payload, in capture order. */
  segments: TxSegment[] | TxSegmentColumns;
  /** The peer's ACKs (sorted here by packet number; columns must be in capture order); without them no record is ever released (no drops). */
  acks?: TxAck[] | TxAckColumns;
  /** mlx5's rule for the first new segment after a retransmission: resync again (counted as out of sequence). Default false. */
  resyncOnResume?: boolean;
  /** Check tag bytes against a GCM encryption of the record (needs `additionalData`). Default true. */
  verifyTags?: boolean;
}

export const TX_COUNTERS = [
  'tx_tls_encrypted_packets',
  'tx_tls_encrypted_bytes',
  'tx_tls_ooo',
  'tx_tls_dump_packets',
  'tx_tls_dump_bytes',
  'tx_tls_drop_no_sync_data',
] as const satisfies readonly (keyof TlsCounters)[];
export type TxCounterName = (typeof TX_COUNTERS)[number];
export type TxCounters = Record<TxCounterName, number>;

export interface TxMismatch {
  packetNumber: number;
  segmentOffset: number;
  /** Stream offset of the first byte that differs. */
  firstBadOffset: number;
}

export interface TransmitDetails {
  /** Segments wholly outside the offloaded records; not counted in any tx counter. */
  bypassSegments: number;
  /** Of those, segments that were out of sequence (handshake retransmissions). */
  bypassOutOfSequence: number;
  /** Bytes an in-sequence segment jumped over: sent by the NIC in order but missing from the capture. */
  gapBytes: number;
  /** With resyncOnResume: new segments after a retransmission that needed a second resync, and their dump bytes. */
  resumeResyncs: number;
  resumeDumpBytes: number;
  /** NIC-produced bytes (ciphertext and tags) compared with the wire, and those that could not be (no plaintext / no additional data). */
  checkedBytes: number;
  uncheckedBytes: number;
  /** The first few segments whose bytes differ from the model's encryption. */
  mismatchDetails: TxMismatch[];
}

export interface TransmitResult {
  counters: TxCounters;
  /** Offloaded segments whose wire bytes differ from the model's encryption of the plaintext. */
  mismatches: number;
  details: TransmitDetails;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length === b.length && Buffer.compare(a, b) === 0) return -1; // native compare; the byte loop only finds where
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Run the transmit-side model over one direction. */
export function transmitSide(input: TransmitInput): TransmitResult {
  const counters: TxCounters = {
    tx_tls_encrypted_packets: 0,
    tx_tls_encrypted_bytes: 0,
    tx_tls_ooo: 0,
    tx_tls_dump_packets: 0,
    tx_tls_dump_bytes: 0,
    tx_tls_drop_no_sync_data: 0,
  };
  const details: TransmitDetails = {
    bypassSegments: 0,
    bypassOutOfSequence: 0,
    gapBytes: 0,
    resumeResyncs: 0,
    resumeDumpBytes: 0,
    checkedBytes: 0,
    uncheckedBytes: 0,
    mismatchDetails: [],
  };
  let mismatches = 0;
  const records = input.records;
  const verifyTags = input.verifyTags ?? true;
  const segs = input.segments;
  const segmentCount = Array.isArray(segs) ? segs.length : segs.count;
  // Columns are read through one reused segment object (counting only: no payload).
  const cursor: TxSegment = { packetNumber: 0, streamOffset: 0, length: 0 };
  const segmentAt = Array.isArray(segs)
    ? (i: number): TxSegment => segs[i]!
    : (i: number): TxSegment => {
        cursor.packetNumber = segs.packetNumber[i]!;
        cursor.streamOffset = segs.streamOffset[i]!;
        (cursor as { length: number }).length = segs.length[i]!;
        return cursor;
      };
  if (records.length === 0) {
    for (let i = 0; i < segmentCount; i++) if (segmentLength(segmentAt(i)) > 0) details.bypassSegments++;
    return { counters, mismatches, details };
  }
  for (let i = 1; i < records.length; i++) {
    if (records[i]!.streamOffset < records[i - 1]!.streamOffset + records[i - 1]!.length) {
      throw new RangeError(`transmitSide: record ${i} overlaps the one before it`);
    }
  }
  const offloadStart = records[0]!.streamOffset;
  const last = records[records.length - 1]!;
  const offloadEnd = last.streamOffset + last.length;

  /** Index of the last record starting at or before `offset`, or -1. */
  const recordAtOrBefore = (offset: number): number => {
    let lo = 0;
    let hi = records.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (records[mid]!.streamOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  };
  /** Index of the record holding `offset`, or -1. */
  const recordHolding = (offset: number): number => {
    const i = recordAtOrBefore(offset);
    return i >= 0 && offset < records[i]!.streamOffset + records[i]!.length ? i : -1;
  };

  const canVerify = (r: TxRecord): r is TxRecord & { plaintext: Uint8Array; nonce: Uint8Array } =>
    r.plaintext !== undefined &&
    r.nonce !== undefined &&
    r.plaintext.length === r.length - TLS_RECORD_HEADER_LENGTH - r.explicitNonceLength - GCM_TAG_LENGTH;
  const canVerifyTag = (r: TxRecord): boolean => verifyTags && r.additionalData !== undefined && canVerify(r);

  /** The record's ciphertext, and its tag when it can be checked: one GCM encryption (or CTR from counter 2 without additional data). */
  const encryptRecord = (index: number): { ciphertext: Buffer; tag?: Buffer } => {
    const r = records[index]!;
    if (canVerifyTag(r)) {
      const cipher = createCipheriv(input.aead, input.key, r.nonce!, { authTagLength: GCM_TAG_LENGTH });
      cipher.setAAD(r.additionalData!);
      const head = cipher.update(r.plaintext!);
      const tail = cipher.final();
      return { ciphertext: tail.length ? Buffer.concat([head, tail]) : head, tag: cipher.getAuthTag() };
    }
    return { ciphertext: gcmKeystreamAt(input.aead, input.key, r.nonce!, 0).update(r.plaintext!) };
  };

  // In sequence the NIC encrypts a record front to back, its state carried from segment to segment; the model
  // does that work in one call per record and keeps the result while the in-sequence front is in the record.
  let front: { index: number; ciphertext: Buffer; tag?: Buffer } | undefined;
  const frontRecord = (index: number): { ciphertext: Buffer; tag?: Buffer } => {
    if (front?.index !== index) front = { index, ...encryptRecord(index) };
    return front;
  };
  // Tags for tag bytes in out-of-sequence segments (the driver's software fallback computes them the same way).
  const tags = new Map<number, Buffer>();
  const tagOf = (index: number): Buffer => {
    if (front?.index === index && front.tag) return front.tag;
    let tag = tags.get(index);
    if (!tag) {
      tag = encryptRecord(index).tag!;
      tags.set(index, tag);
    }
    return tag;
  };

  /**
   * Compare the segment's NIC-produced bytes with the model's encryption.
   * In sequence: slices of the front record's encryption. Out of sequence:
   * each record piece from a fresh CTR cipher at the computed counter (the
   * state the dump rebuilt). Returns the stream offset of the first wrong
   * byte, or -1.
   */
  const verify = (segment: TxSegment & { payload: Uint8Array }, inSequence: boolean): number => {
    const start = segment.streamOffset;
    const end = start + segment.payload.length;
    let firstBad = -1;
    const compare = (expected: Uint8Array, at: number): void => {
      const bad = firstDifference(expected, segment.payload.subarray(at - start, at - start + expected.length));
      if (bad >= 0 && (firstBad < 0 || at + bad < firstBad)) firstBad = at + bad;
      details.checkedBytes += expected.length;
    };
    for (let i = Math.max(0, recordAtOrBefore(start)); i < records.length; i++) {
      const r = records[i]!;
      if (r.streamOffset >= end) break;
      const ciphertextStart = r.streamOffset + TLS_RECORD_HEADER_LENGTH + r.explicitNonceLength;
      const tagStart = r.streamOffset + r.length - GCM_TAG_LENGTH;
      const recordEnd = r.streamOffset + r.length;
      if (recordEnd <= start) continue;
      // Ciphertext bytes.
      const lo = Math.max(start, ciphertextStart);
      const hi = Math.min(end, tagStart);
      if (hi > lo) {
        const o = lo - ciphertextStart;
        if (!canVerify(r)) details.uncheckedBytes += hi - lo;
        else if (inSequence) compare(frontRecord(i).ciphertext.subarray(o, o + hi - lo), lo);
        else compare(gcmKeystreamAt(input.aead, input.key, r.nonce, o).update(r.plaintext.subarray(o, o + hi - lo)), lo);
      }
      // Tag bytes.
      const tlo = Math.max(start, tagStart);
      const thi = Math.min(end, recordEnd);
      if (thi > tlo) {
        if (!canVerifyTag(r)) details.uncheckedBytes += thi - tlo;
        else compare((inSequence ? frontRecord(i).tag! : tagOf(i)).subarray(tlo - tagStart, thi - tagStart), tlo);
      }
    }
    return firstBad;
  };

  const check = (segment: TxSegment, inSequence: boolean): void => {
    if (!segment.payload) return; // counted only
    const bad = verify(segment, inSequence);
    if (bad < 0) return;
    mismatches++;
    if (details.mismatchDetails.length < MAX_MISMATCH_DETAILS) {
      details.mismatchDetails.push({ packetNumber: segment.packetNumber, segmentOffset: segment.streamOffset, firstBadOffset: bad });
    }
  };

  /** Record-prefix bytes replayed for a resync at `offset` (0 at a record boundary). */
  const dumpFor = (offset: number): number => {
    const i = recordHolding(offset);
    return i < 0 ? 0 : offset - records[i]!.streamOffset;
  };

  // Walk segments and ACKs in capture order.
  let acks: TxAckColumns = { count: 0, packetNumber: [], streamOffset: [] };
  if (Array.isArray(input.acks)) {
    const sorted = [...input.acks].sort((a, b) => a.packetNumber - b.packetNumber);
    acks = { count: sorted.length, packetNumber: sorted.map((a) => a.packetNumber), streamOffset: sorted.map((a) => a.streamOffset) };
  } else if (input.acks) {
    acks = input.acks;
  }
  let ackIndex = 0;
  let acked = -Infinity;
  /** Highest stream offset sent so far (the sender's snd_nxt as far as the capture shows). */
  let highest: number | undefined;
  /** Where the NIC's hardware context stands after the last segment it processed. */
  let contextAt: number | undefined;
  for (let s = 0; s < segmentCount; s++) {
    const segment = segmentAt(s);
    const length = segmentLength(segment);
    if (length === 0) continue;
    while (ackIndex < acks.count && acks.packetNumber[ackIndex]! < segment.packetNumber) {
      acked = Math.max(acked, acks.streamOffset[ackIndex]!);
      ackIndex++;
    }
    const start = segment.streamOffset;
    const end = start + length;
    const outOfSequence = highest !== undefined && start < highest;
    if (end <= offloadStart || start >= offloadEnd) {
      details.bypassSegments++;
      if (outOfSequence) details.bypassOutOfSequence++;
      highest = Math.max(highest ?? end, end);
      continue;
    }
    if (!outOfSequence) {
      if (highest !== undefined && start > highest) details.gapBytes += Math.max(0, start - Math.max(highest, offloadStart));
      if (input.resyncOnResume && contextAt !== undefined && highest !== undefined && contextAt !== start && contextAt < highest) {
        // mlx5: the context was left at the end of a retransmission; this new segment resyncs too.
        const dump = dumpFor(start);
        counters.tx_tls_ooo++;
        details.resumeResyncs++;
        if (dump > 0) {
          counters.tx_tls_dump_packets++;
          counters.tx_tls_dump_bytes += dump;
          details.resumeDumpBytes += dump;
        }
        check(segment, false);
      } else {
        counters.tx_tls_encrypted_packets++;
        counters.tx_tls_encrypted_bytes += length;
        check(segment, true);
      }
      highest = end;
      contextAt = end;
      continue;
    }
    // Out of sequence: retransmission, duplicate or delayed segment.
    const holder = start < offloadStart ? -1 : recordHolding(start);
    if (holder < 0 || records[holder]!.streamOffset + records[holder]!.length <= acked) {
      // Starts before offload began (mlx5: "breaks contract"), in no known record, or in a released record.
      counters.tx_tls_drop_no_sync_data++;
      continue;
    }
    counters.tx_tls_ooo++;
    const dump = start - records[holder]!.streamOffset;
    if (dump > 0) {
      counters.tx_tls_dump_packets++;
      counters.tx_tls_dump_bytes += dump;
    }
    check(segment, false);
    contextAt = end;
    highest = Math.max(highest!, end);
  }
  return { counters, mismatches, details };
}

// ---------------------------------------------------------------------------
// Building the input from a capture decrypted by software-decrypt.ts.

/**
 * The records a NIC would encrypt in one direction, from the reassembled
 * stream: TLS 1.2 from record number 1 (the first after Finished); TLS 1.3
 * the application-key records (record number from 0) up to and including the
 * one that carries a KeyUpdate, since a KeyUpdate ends offload. Plaintexts and
 * additional data come from the software decryption of the same direction.
 */
export function recordLayout(
  cipherSuite: CipherSuite,
  keys: TrafficKeys,
  stream: Uint8Array,
  decrypted: readonly DecryptedRecord[],
): TxRecord[] {
  const byOffset = new Map(decrypted.map((d) => [d.offset, d]));
  const split = splitRecords(stream).records;
  const out: TxRecord[] = [];
  if (cipherSuite.version === '1.2') {
    let seq = -1n;
    for (const record of split) {
      if (seq < 0n) {
        if (record.contentType === CONTENT_TYPE.CHANGE_CIPHER_SPEC) seq = 0n;
        continue;
      }
      const fragment = record.fragment;
      const length = TLS_RECORD_HEADER_LENGTH + fragment.length;
      if (seq >= 1n && fragment.length >= TLS12_EXPLICIT_NONCE_LENGTH + GCM_TAG_LENGTH) {
        const d = byOffset.get(record.offset);
        const plaintextLength = fragment.length - TLS12_EXPLICIT_NONCE_LENGTH - GCM_TAG_LENGTH;
        const entry: TxRecord = {
          streamOffset: record.offset,
          length,
          recordNumber: seq,
          nonce: tls12Nonce(keys.iv, fragment.subarray(0, TLS12_EXPLICIT_NONCE_LENGTH)),
          explicitNonceLength: 8,
        };
        if (d && d.seq === seq) {
          entry.plaintext = d.plaintext;
          entry.additionalData = tls12AdditionalData(seq, record.contentType, record.version, plaintextLength);
        }
        out.push(entry);
      }
      seq++;
    }
    return out;
  }
  const firstApplication = decrypted.find((d) => d.phase === 'application');
  if (!firstApplication) return out;
  let seq = 0n;
  for (const record of split) {
    if (record.offset < firstApplication.offset || record.contentType !== CONTENT_TYPE.APPLICATION_DATA) continue;
    const d = byOffset.get(record.offset);
    if (d && (d.phase !== 'application' || d.keyGeneration > 0)) break;
    const fragment = record.fragment;
    if (fragment.length < GCM_TAG_LENGTH + 1) break;
    const entry: TxRecord = {
      streamOffset: record.offset,
      length: TLS_RECORD_HEADER_LENGTH + fragment.length,
      recordNumber: seq,
      nonce: tls13Nonce(keys.iv, seq),
      explicitNonceLength: 0,
    };
    if (d && d.seq === seq) {
      // TLSInnerPlaintext = content ‖ type ‖ zero padding (software kept only the content).
      const inner = Buffer.alloc(fragment.length - GCM_TAG_LENGTH);
      inner.set(d.plaintext, 0);
      inner[d.plaintext.length] = d.contentType;
      entry.plaintext = inner;
      entry.additionalData = tls13AdditionalData(record.header);
    }
    out.push(entry);
    seq++;
    if (d && d.contentType === CONTENT_TYPE.HANDSHAKE && d.plaintext[0] === 24) break; // KeyUpdate: offload ends
  }
  return out;
}

/**
 * The records a NIC would encrypt, from the host stack's record log
 * (host-tls-stack.ts `recordLog`: the protected records from where offload
 * starts, as software parsed them): the same layout as `recordLayout`, without
 * plaintexts (counting only). TLS 1.2 numbers them from `firstRecordNumber`
 * and leaves out fragments too short for a nonce and tag; TLS 1.3 takes
 * application-data records and ends after one that carries a KeyUpdate (or
 * before one software found under a later key).
 */
export function txRecordsFromLog(
  version: '1.2' | '1.3',
  firstRecordNumber: number,
  log: readonly { offset: number; length: number; outerType: number; decrypted: boolean; keyGeneration: number; keyUpdate: boolean }[],
): TxRecord[] {
  const out: TxRecord[] = [];
  let seq = BigInt(firstRecordNumber);
  for (const entry of log) {
    if (version === '1.2') {
      if (entry.length - TLS_RECORD_HEADER_LENGTH >= TLS12_EXPLICIT_NONCE_LENGTH + GCM_TAG_LENGTH) {
        out.push({ streamOffset: entry.offset, length: entry.length, recordNumber: seq, explicitNonceLength: 8 });
      }
      seq++;
      continue;
    }
    if (entry.outerType !== CONTENT_TYPE.APPLICATION_DATA) continue;
    if (entry.decrypted && entry.keyGeneration > 0) break;
    if (entry.length - TLS_RECORD_HEADER_LENGTH < GCM_TAG_LENGTH + 1) break;
    out.push({ streamOffset: entry.offset, length: entry.length, recordNumber: seq, explicitNonceLength: 0 });
    seq++;
    if (entry.decrypted && entry.keyUpdate) break;
  }
  return out;
}

/** A direction's payload segments as stream offsets (unwrapped like tcp-flows.ts reassembleStream), in capture order. */
export function transmitSegments(direction: TcpDirection, initialSeq: number): TxSegment[] {
  const out: TxSegment[] = [];
  let highest = 0;
  for (const segment of direction.segments) {
    if (segment.payload.length === 0 || segment.flags & TCP_RST) continue;
    const seq = segment.flags & TCP_SYN ? (segment.seq + 1) % SEQUENCE_SPACE : segment.seq;
    let offset = unwrapOffset((seq - initialSeq + SEQUENCE_SPACE) % SEQUENCE_SPACE, highest);
    if (offset > highest + SEQUENCE_SPACE / 2) offset -= SEQUENCE_SPACE;
    highest = Math.max(highest, offset + segment.payload.length);
    out.push({ packetNumber: segment.packetNumber, streamOffset: offset, payload: segment.payload });
  }
  return out;
}

/** The peer's cumulative ACKs of a direction whose first payload byte has sequence number `initialSeq`, as stream offsets. */
export function peerAcks(peer: TcpDirection, initialSeq: number): TxAck[] {
  const s = peer.segments;
  const columns = peerAckColumns(s.length, (i) => s[i]!.packetNumber, (i) => s[i]!.flags, (i) => s[i]!.ack, initialSeq);
  const out: TxAck[] = [];
  for (let i = 0; i < columns.count; i++) out.push({ packetNumber: columns.packetNumber[i]!, streamOffset: columns.streamOffset[i]! });
  return out;
}

/** `peerAcks` over `count` peer segments in capture order, as columns. */
export function peerAckColumns(
  count: number,
  packetNumberAt: (i: number) => number,
  flagsAt: (i: number) => number,
  ackAt: (i: number) => number,
  initialSeq: number,
): TxAckColumns {
  const packetNumber = new Int32Array(count);
  const streamOffset = new Float64Array(count);
  let n = 0;
  let highest = 0;
  for (let i = 0; i < count; i++) {
    const flags = flagsAt(i);
    if (!(flags & TCP_ACK) || flags & TCP_RST) continue;
    let offset = unwrapOffset((ackAt(i) - initialSeq + SEQUENCE_SPACE) % SEQUENCE_SPACE, highest);
    if (offset > highest + SEQUENCE_SPACE / 2) offset -= SEQUENCE_SPACE;
    highest = Math.max(highest, offset);
    packetNumber[n] = packetNumberAt(i);
    streamOffset[n] = offset;
    n++;
  }
  return { count: n, packetNumber, streamOffset };
}

/**
 * A direction's keys as software-decrypt.ts `DirectionKeys` has them (TLS 1.2
 * traffic keys, or the TLS 1.3 key phases); only the first application
 * secret matters here, since a KeyUpdate ends offload.
 */
export type TxDirectionKeys =
  | TrafficKeys
  | { version: '1.2'; keys: TrafficKeys }
  | { version: '1.3'; phases: readonly { phase: string; secret: Uint8Array }[] };

function nicTrafficKeys(cipherSuite: CipherSuite, keys: TxDirectionKeys): TrafficKeys | undefined {
  if ('key' in keys) return keys;
  if (keys.version === '1.2') return keys.keys;
  const application = keys.phases.find((p) => p.phase === 'application');
  return application ? tls13TrafficKeys(cipherSuite, application.secret) : undefined;
}

export interface TransmitDirectionParts {
  cipherSuite: CipherSuite;
  /** The sending side's keys (see TxDirectionKeys). */
  keys: TxDirectionKeys;
  /** The direction's reassembled in-order stream, and the sequence number of its first byte. */
  stream: Uint8Array;
  initialSeq: number;
  /** The direction's records as software (or the host stack) decrypted them, in stream order. */
  decrypted: readonly DecryptedRecord[];
  /** The sending direction and its peer (whose ACKs release records). */
  direction: TcpDirection;
  peer: TcpDirection;
}

/**
 * The transmit-model input of one direction, from the pieces a replay already
 * has. Undefined when the keys have no application secret. Typical use, per
 * direction of a decrypted connection:
 *
 *     const input = transmitInputForDirection({ cipherSuite, keys, stream, initialSeq, decrypted, direction, peer });
 *     if (input) Object.assign(report.counters, transmitSide(input).counters);
 */
export function transmitInputForDirection(
  parts: TransmitDirectionParts,
  options: Pick<TransmitInput, 'resyncOnResume' | 'verifyTags'> = {},
): TransmitInput | undefined {
  const keys = nicTrafficKeys(parts.cipherSuite, parts.keys);
  if (!keys) return undefined;
  return {
    aead: parts.cipherSuite.aead,
    key: keys.key,
    records: recordLayout(parts.cipherSuite, keys, parts.stream, parts.decrypted),
    segments: transmitSegments(parts.direction, parts.initialSeq),
    acks: peerAcks(parts.peer, parts.initialSeq),
    ...options,
  };
}

/** The traffic keys of one side of a decrypted session, from the key log (or a TLS 1.2 PSK); undefined when missing. */
export function sessionTrafficKeys(
  session: TlsSession,
  side: 'client' | 'server',
  secrets: { keyLog: KeyLog; psk?: Uint8Array },
): TrafficKeys | undefined {
  const suite = session.cipherSuite;
  const connection: ConnectionSecrets | undefined = secrets.keyLog.connections.get(Buffer.from(session.clientHello.random).toString('hex'));
  if (suite.version === '1.2') {
    let master = connection?.masterSecret;
    if (!master && secrets.psk && suite.name.startsWith('TLS_PSK_')) {
      master = tls12MasterSecret(suite.hash, pskPreMasterSecret(secrets.psk), session.clientHello.random, session.serverHello.random);
    }
    if (!master) return undefined;
    return tls12TrafficKeys(suite, master, session.clientHello.random, session.serverHello.random)[side];
  }
  const secret = side === 'server' ? connection?.serverTrafficSecret0 : connection?.clientTrafficSecret0;
  return secret ? tls13TrafficKeys(suite, secret) : undefined;
}

/**
 * The transmit-model input for one side of a session decrypted by
 * decryptCapture: that side's data segments, the peer's ACKs, and the record
 * layout with plaintexts. Undefined when the key log lacks the side's keys.
 */
export function transmitInputFromSession(
  session: TlsSession,
  side: 'client' | 'server',
  secrets: { keyLog: KeyLog; psk?: Uint8Array },
  options: Pick<TransmitInput, 'resyncOnResume' | 'verifyTags'> = {},
): TransmitInput | undefined {
  const keys = sessionTrafficKeys(session, side, secrets);
  if (!keys) return undefined;
  const [direction, peer, decryption] =
    side === 'server' ? [session.server, session.client, session.serverToClient] : [session.client, session.server, session.clientToServer];
  return transmitInputForDirection(
    {
      cipherSuite: session.cipherSuite,
      keys,
      stream: decryption.stream.bytes,
      initialSeq: decryption.stream.initialSeq,
      decrypted: decryption.records,
      direction,
      peer,
    },
    options,
  );
}
