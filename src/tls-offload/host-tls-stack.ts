/**
 * The host's software TLS stack in the replay (kTLS's receive path with device
 * offload, ../shared/docs/tls-offload.md §1 "Per-skb decrypted bit" and §2 step 5).
 *
 * Per direction it rebuilds the in-order byte stream from the packets the NIC
 * delivers (first copy of each byte wins, as tcp-flows.ts does; the stream is
 * an index of views into the captured packets, and only a record software
 * must decrypt is copied, into a reused buffer), parses records as the stream
 * grows, and completes each protected record by the bytes the NIC decrypted
 * (first copy of each byte):
 * - all of the record from decrypted packets: `sw_records_hw`, the NIC's tag
 *   check is trusted and its plaintext taken;
 * - none: `sw_records_sw`, normal software decryption;
 * - mixed: `sw_records_mixed`. The NIC's plaintext pieces are re-encrypted
 *   with AES-CTR (GCM ciphertext = CTR keystream from nonce ‖ 00000002; byte
 *   o of the ciphertext uses counter 2 + ⌊o/16⌋ and skips o mod 16 bytes),
 *   they must give back the wire ciphertext (a mismatch is an internal error,
 *   NC7008), then the whole record is decrypted and authenticated in
 *   software. `sw_reencrypted_bytes` counts the re-encrypted bytes.
 * A record whose tag fails yields no plaintext (`sw_auth_fail`, NC7005).
 *
 * It also plays software's side of the resync protocol: it answers the NIC's
 * request once the later of (request packet + N packets) and (its in-order
 * stream reaching candidate + 5) has passed, confirming with the record
 * number when a record really starts at the candidate (`rx_tls_resync_res_ok`)
 * and otherwise never answering (`rx_tls_resync_res_skip`, also when it had
 * already parsed past the candidate when the request came).
 *
 * Decisions beyond §3b:
 * - The re-encryption uses the record parameters the NIC used for each piece
 *   (the driver knows the key and record number it gave the NIC); they equal
 *   software's except for records the NIC began under the old key after a
 *   TLS 1.3 KeyUpdate it had not seen (software stops the NIC on its next
 *   packet) or after a wrong confirmation, whose tags the NIC fails.
 * - "Already parsed past the candidate" (`res_skip` at once) means software
 *   had the candidate's whole 5-byte header before the request came.
 * - A protected record is counted in exactly one of `sw_records_*` whether
 *   or not its tag then verifies; handshake-phase records (TLS 1.3, and
 *   Finished) count as `sw_records_sw`.
 */
import { SEQUENCE_SPACE, TCP_SYN, TCP_RST, unwrapOffset } from './tcp-flows.js';
import { Buffer } from 'node:buffer';
import { makeDiagnostic, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { ReassembledStream, TcpDirection } from './tcp-flows.js';
import { CONTENT_TYPE, HANDSHAKE_TYPE, MAX_RECORD_FRAGMENT, TLS_RECORD_HEADER_LENGTH, type TlsRecord } from './tls-records.js';
import { GCM_TAG_LENGTH, TLS12_EXPLICIT_NONCE_LENGTH, RecordDecryptor, gcmKeystreamAt } from './software-decrypt.js';
import { joinedPlaintext, type NicPiece, type NicVerdict, type TlsRxFlowState } from './nic-rx-model.js';
import type { AuthFailure, PlaintextRecordSpan, TlsCounters } from './replay-types.js';


// ---------------------------------------------------------------- placing segments in the stream

/** One data segment of a direction at its stream offset. */
export interface PlacedSegment {
  packetNumber: number;
  /** Stream offset of payload[0]; negative when the segment starts before the stream's first byte. */
  offset: number;
  payload: Uint8Array;
}

export interface PlacedDirection {
  initialSeq: number;
  /** Payload-carrying segments (RST excluded), in capture order. */
  segments: PlacedSegment[];
}


/**
 * Stream offsets of a direction's data segments, by the rules of
 * tcp-flows.ts `reassembleStream` (ISN from the SYN, else the first data
 * segment; 32-bit sequence numbers unwrapped near the highest byte so far).
 */
export function placeSegments(direction: TcpDirection): PlacedDirection {
  const all = direction.segments;
  const segments: PlacedSegment[] = [];
  const initialSeq = placeStream(
    all.length,
    (i) => all[i]!.seq,
    (i) => all[i]!.flags,
    (i) => all[i]!.payload.length,
    (i, offset) => segments.push({ packetNumber: all[i]!.packetNumber, offset, payload: all[i]!.payload }),
  );
  return { initialSeq, segments };
}

/**
 * The placement of `placeSegments` over any storage of `count` segments in
 * capture order: `place(i, offset)` for each payload-carrying segment (RST
 * excluded), in order. Returns the initial sequence number.
 */
export function placeStream(
  count: number,
  seqAt: (i: number) => number,
  flagsAt: (i: number) => number,
  lengthAt: (i: number) => number,
  place: (i: number, offset: number) => void,
): number {
  let syn = -1;
  let firstData = -1;
  for (let i = 0; i < count && syn < 0; i++) {
    if (flagsAt(i) & TCP_SYN) syn = i;
    else if (firstData < 0 && lengthAt(i) > 0 && !(flagsAt(i) & TCP_RST)) firstData = i;
  }
  const initialSeq = syn >= 0 ? (seqAt(syn) + 1) % SEQUENCE_SPACE : firstData >= 0 ? seqAt(firstData) : 0;
  let highest = 0;
  for (let i = 0; i < count; i++) {
    const flags = flagsAt(i);
    const length = lengthAt(i);
    if (length === 0 || flags & TCP_RST) continue;
    const seq = flags & TCP_SYN ? (seqAt(i) + 1) % SEQUENCE_SPACE : seqAt(i);
    let offset = unwrapOffset((seq - initialSeq + SEQUENCE_SPACE) % SEQUENCE_SPACE, highest);
    if (offset > highest + SEQUENCE_SPACE / 2) offset -= SEQUENCE_SPACE;
    highest = Math.max(highest, offset + length);
    place(i, offset);
  }
  return initialSeq;
}

/** Filled byte ranges of a stream: sorted, disjoint, non-touching half-open intervals. */
export class ByteRanges {
  private starts: number[] = [];
  private ends: number[] = [];

  /** End of the filled prefix [0, frontier). */
  get frontier(): number {
    return this.starts.length > 0 && this.starts[0] === 0 ? this.ends[0]! : 0;
  }

  get highest(): number {
    return this.ends.length ? this.ends[this.ends.length - 1]! : 0;
  }

  get filledBytes(): number {
    let total = 0;
    for (let i = 0; i < this.starts.length; i++) total += this.ends[i]! - this.starts[i]!;
    return total;
  }

  /** When [s, e) starts exactly at the frontier and nothing lies beyond it, fill it and return true. */
  appendAtFrontier(s: number, e: number): boolean {
    const n = this.starts.length;
    if (e <= s || !(n === 0 ? s === 0 : n === 1 && this.starts[0] === 0 && this.ends[0] === s)) return false;
    if (n === 0) {
      this.starts.push(0);
      this.ends.push(e);
    } else {
      this.ends[0] = e;
    }
    return true;
  }

  /** Mark [s, e) filled; `fresh(a, b)` is called for each part that was not filled before, in order. Returns the fresh byte count. */
  add(s: number, e: number, fresh?: (a: number, b: number) => void): number {
    if (s < 0) s = 0;
    if (e <= s) return 0;
    const starts = this.starts;
    const ends = this.ends;
    const n = starts.length;
    // Fast path: at or beyond the end of the last range.
    if (n === 0 || s > ends[n - 1]!) {
      starts.push(s);
      ends.push(e);
      fresh?.(s, e);
      return e - s;
    }
    if (s === ends[n - 1]! ) {
      ends[n - 1] = e;
      fresh?.(s, e);
      return e - s;
    }
    // First range whose end is >= s (touching counts).
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ends[mid]! < s) lo = mid + 1;
      else hi = mid;
    }
    let cursor = s;
    let added = 0;
    let j = lo;
    while (j < n && starts[j]! <= e) {
      if (starts[j]! > cursor) {
        fresh?.(cursor, starts[j]!);
        added += starts[j]! - cursor;
      }
      cursor = Math.max(cursor, ends[j]!);
      j++;
    }
    if (cursor < e) {
      fresh?.(cursor, e);
      added += e - cursor;
    }
    const mergedStart = lo < j ? Math.min(s, starts[lo]!) : s;
    const mergedEnd = lo < j ? Math.max(e, ends[j - 1]!) : e;
    starts.splice(lo, j - lo, mergedStart);
    ends.splice(lo, j - lo, mergedEnd);
    return added;
  }
}

/** A reassembled stream whose `bytes` may hold only a prefix of it. */
export interface AssembledStream extends ReassembledStream {
  /** Length of the whole in-order stream (up to the first hole). */
  inOrderLength: number;
}

/**
 * A direction's in-order stream, first captured copy of each byte winning:
 * the same result as tcp-flows.ts `reassembleStream`, built range by range.
 * With `limit`, only the first `limit` bytes are copied into `bytes` (enough
 * for the handshake); the hole facts still describe the whole stream.
 */
export function assembleStream(placed: PlacedDirection, limit = Infinity): AssembledStream {
  const s = placed.segments;
  return assembleStreamFrom(placed.initialSeq, s.length, (i) => s[i]!.offset, (i) => s[i]!.payload.length, (i) => s[i]!.payload, limit);
}

/** `assembleStream` over `count` placed segments; `payloadAt` is asked only for those that reach below `limit`. */
export function assembleStreamFrom(
  initialSeq: number,
  count: number,
  offsetAt: (i: number) => number,
  lengthAt: (i: number) => number,
  payloadAt: (i: number) => Uint8Array,
  limit = Infinity,
): AssembledStream {
  let highest = 0;
  for (let i = 0; i < count; i++) highest = Math.max(highest, offsetAt(i) + lengthAt(i));
  const size = Math.max(0, Math.min(highest, limit));
  // Not zero-filled: only the filled prefix is exposed.
  const buffer = Buffer.allocUnsafe(size);
  const ranges = new ByteRanges();
  let redundantSegments = 0;
  for (let i = 0; i < count; i++) {
    const offset = offsetAt(i);
    const length = lengthAt(i);
    let payload: Uint8Array | undefined;
    const added = ranges.add(offset, offset + length, (a, b) => {
      if (a < size) {
        payload ??= payloadAt(i);
        buffer.set(payload.subarray(a - offset, Math.min(b, size) - offset), a);
      }
    });
    if (added === 0) redundantSegments++;
  }
  const length = ranges.frontier;
  const result: AssembledStream = {
    bytes: buffer.subarray(0, Math.min(length, size)),
    initialSeq,
    bytesAfterGap: ranges.filledBytes - length,
    redundantSegments,
    inOrderLength: length,
  };
  if (length < ranges.highest) result.gapAt = length;
  return result;
}

// ---------------------------------------------------------------- the software stack of one direction

export interface HostTlsStackOptions {
  flow: string;
  initialSeq: number;
  counters: TlsCounters;
  keepPlaintext: boolean;
  /** Software answers a resync request no earlier than this many packets after it. */
  confirmDelayPackets: number;
  /** Where offload starts: the first record under the application key and its number (for resync answers). */
  applicationStart?: { offset: number; recordNumber: number };
  /** Diagnostics go here (NC7005, NC7008). */
  problems: Diagnostic[];
  /** Each application-data record's plaintext as it is delivered, in stream order (valid during the call). */
  onPlaintext?: (plaintext: Uint8Array) => void;
}

/**
 * A protected record at or after where offload starts, as software saw it:
 * what the transmit model needs (nic-tx-model.ts `txRecordsFromLog`).
 */
export interface HostRecordLogEntry {
  offset: number;
  /** Header and fragment. */
  length: number;
  /** The record header's content type (23 for every TLS 1.3 protected record). */
  outerType: number;
  /** Software decrypted it (tag verified). */
  decrypted: boolean;
  /** TLS 1.3: the key generation it was under and whether it carries a KeyUpdate. */
  keyGeneration: number;
  keyUpdate: boolean;
}

interface PendingRecord {
  offset: number;
  end: number;
}

/** A record of the host's stream; its fragment is read (into the scratch buffer when it spans packets) only when asked for. */
class HostRecord implements TlsRecord {
  constructor(
    private readonly host: HostTlsStack,
    readonly offset: number,
    readonly end: number,
    readonly header: Buffer,
  ) {}

  get contentType(): number {
    return this.header[0]!;
  }

  get version(): number {
    return (this.header[1]! << 8) | this.header[2]!;
  }

  get fragment(): Uint8Array {
    return this.host.wireView(this.offset + TLS_RECORD_HEADER_LENGTH, this.end);
  }

  /** The same record with its fragment read once (for a software decryption). */
  concrete(): TlsRecord {
    return { offset: this.offset, contentType: this.contentType, version: this.version, header: this.header, fragment: this.fragment };
  }
}

/** The host side of one direction: reassembly, record completion, resync answers. */
export class HostTlsStack {
  private readonly ranges = new ByteRanges();
  // Stream ranges that came from decrypted packets (first copies), and the NIC's plaintext pieces in them.
  private readonly nicStarts: number[] = [];
  private readonly nicEnds: number[] = [];
  private nicCursor = 0;
  private readonly pieces: NicPiece[] = [];
  private pieceCursor = 0;
  // Record parsing.
  private nextHeader = 0;
  private readonly pending: PendingRecord[] = [];
  private pendingCursor = 0;
  private readonly applicationStarts: number[] = [];
  private stopped = false;
  private keyGenerationSeen = 0;

  /** Protected records from where offload starts (numbers only: the plaintext is not kept). */
  readonly recordLog: HostRecordLogEntry[] = [];
  readonly authFailures: AuthFailure[] = [];
  applicationRecords = 0;
  applicationBytes = 0;
  private readonly plaintextChunks: Buffer[] = [];
  readonly plaintextRecords: PlaintextRecordSpan[] = [];

  // The wire bytes the host holds, first copy of each byte: views into the captured
  // packets (no copy), sorted by stream offset, contiguous over [0, frontier).
  private readonly wireStarts: number[] = [];
  private readonly wireEnds: number[] = [];
  private readonly wireBytes: Uint8Array[] = [];
  /** Stream offset of wireBytes[i][0]. */
  private readonly wireBases: number[] = [];
  private wireCursor = 0;
  /** Holds a record that spans packets while software decrypts it (one at a time). */
  private scratch = Buffer.allocUnsafe(TLS_RECORD_HEADER_LENGTH + MAX_RECORD_FRAGMENT);
  /** Holds a mixed record's wire bytes while it is re-encrypted and decrypted. */
  private mixedScratch = Buffer.allocUnsafe(TLS_RECORD_HEADER_LENGTH + MAX_RECORD_FRAGMENT);
  private broken = false;

  constructor(
    private readonly decryptor: RecordDecryptor,
    private readonly options: HostTlsStackOptions,
  ) {}

  /** End of the in-order stream the host has. */
  get frontier(): number {
    return this.ranges.frontier;
  }

  /**
   * Called before `deliver` for a packet on which the NIC sent a new request:
   * if software had already parsed the candidate's whole header, it can no
   * longer match it (upstream logs only the headers it parses after the request).
   */
  noticeRequest(nic: TlsRxFlowState): void {
    const request = nic.request;
    if (!request || request.answered || request.packetIndex !== nic.packetCount) return;
    if (this.frontier >= request.candOffset + TLS_RECORD_HEADER_LENGTH) {
      request.answered = true;
      this.options.counters.rx_tls_resync_res_skip++;
    }
  }

  /** One packet as the NIC delivered it. */
  deliver(offset: number, payload: Uint8Array, verdict: NicVerdict): void {
    const end = offset + payload.length;
    if (this.ranges.appendAtFrontier(offset, end)) {
      // The common case: the next in-order bytes, all fresh.
      this.addWire(offset, end, payload, offset);
      if (verdict.decrypted) {
        this.addNicRange(offset, end);
        for (const piece of verdict.pieces) this.pieces.push(piece);
      }
      this.advance();
      return;
    }
    let whole = true;
    const fresh: [number, number][] = [];
    this.ranges.add(offset, end, (a, b) => {
      fresh.push([a, b]);
      if (a !== offset || b !== end) whole = false;
    });
    for (const [a, b] of fresh) this.addWire(a, b, payload, offset);
    if (verdict.decrypted) {
      for (const [a, b] of fresh) this.addNicRange(a, b);
      if (whole) {
        for (const piece of verdict.pieces) this.pieces.push(piece);
      } else {
        // Part of the packet repeats bytes the host already had: only the fresh parts are the NIC's.
        for (const piece of verdict.pieces) {
          for (const [a, b] of fresh) {
            const s = Math.max(a, piece.offset);
            const e = Math.min(b, piece.offset + piece.length);
            if (s < e) {
              this.pieces.push({
                offset: s,
                length: e - s,
                plaintext: piece.plaintext.subarray(s - piece.offset, e - piece.offset),
                key: piece.key,
                nonce: piece.nonce,
                ciphertextOffset: piece.ciphertextOffset + (s - piece.offset),
              });
            }
          }
        }
      }
    }
    this.advance();
  }

  /** After each packet: answer the NIC's resync request when due; stop it after a KeyUpdate it did not see. */
  afterPacket(nic: TlsRxFlowState): void {
    if (this.decryptor.keyGeneration !== this.keyGenerationSeen && !this.stopped) {
      this.stopped = true;
      nic.stop();
    }
    const request = nic.request;
    if (!request || request.answered) return;
    if (nic.packetCount < request.packetIndex + this.options.confirmDelayPackets) return;
    if (this.frontier < request.candOffset + TLS_RECORD_HEADER_LENGTH) return;
    request.answered = true;
    const recordNumber = this.recordNumberAt(request.candOffset);
    if (recordNumber === undefined) {
      this.options.counters.rx_tls_resync_res_skip++;
      return;
    }
    this.options.counters.rx_tls_resync_res_ok++;
    nic.confirm(recordNumber);
  }

  /**
   * Before the buffer the packets are views into is reused (a capture read
   * through a window): drop the wire pieces software will not read again
   * (wholly below the earliest record it has not completed) and copy the
   * rest that live in `recycled`. What is dropped was already used up, so
   * the outcome is the same as keeping every packet.
   */
  detach(recycled: ArrayBufferLike): void {
    // A stream that stopped being TLS is read no more at all.
    const keepFrom = this.broken ? Infinity : this.pendingCursor < this.pending.length ? this.pending[this.pendingCursor]!.offset : this.nextHeader;
    let drop = 0;
    while (drop < this.wireStarts.length && this.wireEnds[drop]! <= keepFrom) drop++;
    if (drop > 0) {
      this.wireStarts.splice(0, drop);
      this.wireEnds.splice(0, drop);
      this.wireBytes.splice(0, drop);
      this.wireBases.splice(0, drop);
      this.wireCursor = 0;
    }
    for (let i = 0; i < this.wireBytes.length; i++) {
      const bytes = this.wireBytes[i]!;
      if (bytes.buffer !== recycled) continue;
      const base = this.wireBases[i]!;
      this.wireBytes[i] = Buffer.from(bytes.subarray(this.wireStarts[i]! - base, this.wireEnds[i]! - base));
      this.wireBases[i] = this.wireStarts[i]!;
    }
    let usedPieces = this.pieceCursor;
    while (usedPieces < this.pieces.length && this.pieces[usedPieces]!.offset + this.pieces[usedPieces]!.length <= keepFrom) usedPieces++;
    if (usedPieces > 0) {
      this.pieces.splice(0, usedPieces);
      this.pieceCursor = 0;
    }
    if (this.nicCursor > 0) {
      this.nicStarts.splice(0, this.nicCursor);
      this.nicEnds.splice(0, this.nicCursor);
      this.nicCursor = 0;
    }
    if (this.pendingCursor > 0) {
      this.pending.splice(0, this.pendingCursor);
      this.pendingCursor = 0;
    }
  }

  /** Application data plaintext (kept only with keepPlaintext). */
  plaintext(): Buffer {
    return Buffer.concat(this.plaintextChunks);
  }

  /** The record number of an application-key record whose header is at `offset` (software has parsed it). */
  recordNumberAt(offset: number): number | undefined {
    const start = this.options.applicationStart;
    if (!start) return undefined;
    const list = this.applicationStarts;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo < list.length && list[lo] === offset ? start.recordNumber + lo : undefined;
  }

  private addNicRange(a: number, b: number): void {
    const n = this.nicEnds.length;
    if (n > 0 && this.nicEnds[n - 1] === a) this.nicEnds[n - 1] = b;
    else {
      this.nicStarts.push(a);
      this.nicEnds.push(b);
    }
  }

  /** Record the fresh bytes [a, b) of a packet whose payload starts at stream offset `base`. */
  private addWire(a: number, b: number, bytes: Uint8Array, base: number): void {
    const n = this.wireStarts.length;
    let at = n;
    if (n > 0 && a < this.wireStarts[n - 1]!) {
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.wireStarts[mid]! < a) lo = mid + 1;
        else hi = mid;
      }
      at = lo;
      if (at <= this.wireCursor) this.wireCursor = 0;
    }
    if (at === n) {
      this.wireStarts.push(a);
      this.wireEnds.push(b);
      this.wireBytes.push(bytes);
      this.wireBases.push(base);
    } else {
      this.wireStarts.splice(at, 0, a);
      this.wireEnds.splice(at, 0, b);
      this.wireBytes.splice(at, 0, bytes);
      this.wireBases.splice(at, 0, base);
    }
  }

  /** Index of the wire piece holding stream byte `at` (which the host has). */
  private wirePiece(at: number): number {
    let i = this.wireCursor;
    if (i >= this.wireStarts.length || this.wireStarts[i]! > at) {
      // Going back (a pending record's header, behind the parse point): binary search, not a scan from 0.
      let lo = 0;
      let hi = this.wireStarts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (this.wireStarts[mid]! <= at) lo = mid;
        else hi = mid - 1;
      }
      i = lo;
    }
    while (this.wireEnds[i]! <= at) i++;
    this.wireCursor = i;
    return i;
  }

  /**
   * The wire bytes [s, e) (below the frontier): a view into the captured packet
   * when one packet holds them, else a copy in the scratch buffer, valid until
   * the next call.
   */
  wireView(s: number, e: number): Uint8Array {
    let i = this.wirePiece(s);
    const base = this.wireBases[i]!;
    if (e <= this.wireEnds[i]!) return this.wireBytes[i]!.subarray(s - base, e - base);
    if (this.scratch.length < e - s) this.scratch = Buffer.allocUnsafe(e - s);
    const out = this.scratch;
    for (let at = s; at < e; i++) {
      const n = Math.min(e, this.wireEnds[i]!) - at;
      const from = at - this.wireBases[i]!;
      out.set(this.wireBytes[i]!.subarray(from, from + n), at - s);
      at += n;
    }
    return out.subarray(0, e - s);
  }

  /** Parse headers and complete records as far as the in-order stream goes. */
  private advance(): void {
    if (this.broken) return;
    const frontier = this.frontier;
    const start = this.options.applicationStart;
    while (this.nextHeader + TLS_RECORD_HEADER_LENGTH <= frontier) {
      const at = this.nextHeader;
      const h = this.wireView(at, at + TLS_RECORD_HEADER_LENGTH);
      const type = h[0]!;
      const length = (h[3]! << 8) | h[4]!;
      if (type < 20 || type > 24 || h[1] !== 3 || length > MAX_RECORD_FRAGMENT) {
        // The stream is not TLS from here on: stop (software would tear the connection down).
        this.broken = true;
        this.options.problems.push(
          makeDiagnostic('NC7002', {
            what: 'record header',
            flow: this.options.flow,
            reason: `bytes ${Buffer.from(h).toString('hex')} at stream offset ${at} are not a TLS record header`,
          }),
        );
        return;
      }
      const end = at + TLS_RECORD_HEADER_LENGTH + length;
      this.pending.push({ offset: at, end });
      if (start && at >= start.offset && (this.decryptor.version === '1.2' || type === CONTENT_TYPE.APPLICATION_DATA)) {
        this.applicationStarts.push(at);
      }
      this.nextHeader = end;
    }
    while (this.pendingCursor < this.pending.length && this.pending[this.pendingCursor]!.end <= frontier) {
      this.complete(this.pending[this.pendingCursor]!);
      this.pendingCursor++;
    }
  }

  private tcpSeq(offset: number): number {
    return (this.options.initialSeq + offset) % SEQUENCE_SPACE;
  }

  private complete(pending: PendingRecord): void {
    const { offset, end } = pending;
    const start = this.options.applicationStart;
    const record = new HostRecord(this, offset, end, Buffer.from(this.wireView(offset, offset + TLS_RECORD_HEADER_LENGTH)));
    if (!this.decryptor.isProtected(record)) return;
    const counters = this.options.counters;
    const nicBytes = this.nicBytesIn(offset, end);
    let opened;
    if (nicBytes === end - offset) {
      counters.sw_records_hw++;
      const explicitNonce = this.decryptor.version === '1.2' ? TLS12_EXPLICIT_NONCE_LENGTH : 0;
      const ctStart = offset + TLS_RECORD_HEADER_LENGTH + explicitNonce;
      const ctEnd = end - GCM_TAG_LENGTH;
      const pieces = this.piecesIn(ctStart, ctEnd);
      let covered = 0;
      for (const piece of pieces) covered += piece.length;
      if (ctEnd >= ctStart && covered === ctEnd - ctStart) {
        opened = this.decryptor.accept(record, joinedPlaintext(pieces, covered));
      } else {
        this.internalError(record, `its bytes all came decrypted but the NIC's plaintext covers ${covered} of ${ctEnd - ctStart} ciphertext bytes`);
        opened = this.decryptor.open(record.concrete());
      }
    } else if (nicBytes === 0) {
      counters.sw_records_sw++;
      opened = this.decryptor.open(record.concrete());
    } else {
      counters.sw_records_mixed++;
      opened = this.reencryptAndOpen(record);
    }
    const logged = start !== undefined && offset >= start.offset;
    if (!opened.ok) {
      if (logged) this.recordLog.push({ offset, length: end - offset, outerType: record.contentType, decrypted: false, keyGeneration: -1, keyUpdate: false });
      counters.sw_auth_fail++;
      const failure: AuthFailure = { record: Number(opened.seq), tcpSeq: this.tcpSeq(offset), where: 'software' };
      this.authFailures.push(failure);
      this.options.problems.push(
        makeDiagnostic('NC7005', { record: `${failure.record} (TCP seq ${failure.tcpSeq}, stream offset ${offset})`, flow: this.options.flow }),
      );
      return;
    }
    const decrypted = opened.record;
    if (logged) {
      this.recordLog.push({
        offset,
        length: end - offset,
        outerType: record.contentType,
        decrypted: true,
        keyGeneration: decrypted.keyGeneration,
        keyUpdate: decrypted.contentType === CONTENT_TYPE.HANDSHAKE && decrypted.plaintext[0] === HANDSHAKE_TYPE.KEY_UPDATE,
      });
    }
    if (decrypted.contentType === CONTENT_TYPE.APPLICATION_DATA) {
      this.options.onPlaintext?.(decrypted.plaintext);
      if (this.options.keepPlaintext) {
        this.plaintextRecords.push({
          record: Number(decrypted.seq),
          tcpSeq: this.tcpSeq(offset),
          offset,
          plaintextOffset: this.applicationBytes,
          length: decrypted.plaintext.length,
        });
        this.plaintextChunks.push(decrypted.plaintext);
      }
      this.applicationRecords++;
      this.applicationBytes += decrypted.plaintext.length;
    }
  }

  /** Mixed record: the NIC's pieces back to ciphertext with AES-CTR, checked against the wire, then a software decryption of the whole record. */
  private reencryptAndOpen(host: HostRecord) {
    // Work on a copy of the wire record (in a buffer kept for this, as mixed records come one at a time).
    const length = host.end - host.offset;
    if (this.mixedScratch.length < length) this.mixedScratch = Buffer.allocUnsafe(length);
    const wire = this.mixedScratch.subarray(0, length);
    wire.set(this.wireView(host.offset, host.end));
    const record: TlsRecord = {
      offset: host.offset,
      contentType: host.contentType,
      version: host.version,
      header: wire.subarray(0, TLS_RECORD_HEADER_LENGTH),
      fragment: wire.subarray(TLS_RECORD_HEADER_LENGTH),
    };
    const crypto = this.decryptor.crypto(record);
    if (!crypto) return this.decryptor.open(record);
    const ctStart = record.offset + TLS_RECORD_HEADER_LENGTH + crypto.ciphertextStart;
    const ctEnd = record.offset + length - GCM_TAG_LENGTH;
    let rebuilt: Buffer | undefined;
    // Runs of pieces that are contiguous in the stream under the same record parameters take one CTR pass each.
    const pieces = this.piecesIn(ctStart, ctEnd);
    for (let i = 0; i < pieces.length; ) {
      const first = pieces[i]!;
      let j = i + 1;
      let runLength = first.length;
      while (
        j < pieces.length &&
        pieces[j]!.offset === first.offset + runLength &&
        pieces[j]!.nonce === first.nonce &&
        pieces[j]!.key === first.key
      ) {
        runLength += pieces[j]!.length;
        j++;
      }
      const cipher = gcmKeystreamAt(this.decryptor.cipherSuite.aead, first.key, first.nonce, first.ciphertextOffset);
      const ciphertext = cipher.update(joinedPlaintext(pieces.slice(i, j), runLength));
      this.options.counters.sw_reencrypted_bytes += ciphertext.length;
      const at = first.offset - record.offset;
      if (!ciphertext.equals(wire.subarray(at, at + ciphertext.length))) {
        this.internalError(record, `re-encrypting the NIC's ${ciphertext.length} bytes at stream offset ${first.offset} did not give back the wire ciphertext`);
        if (!rebuilt) rebuilt = Buffer.from(wire);
        ciphertext.copy(rebuilt, at);
      }
      i = j;
    }
    if (!rebuilt) return this.decryptor.open(record);
    // As the kernel would: decrypt what re-encryption produced.
    return this.decryptor.open({
      ...record,
      header: rebuilt.subarray(0, TLS_RECORD_HEADER_LENGTH),
      fragment: rebuilt.subarray(TLS_RECORD_HEADER_LENGTH),
    });
  }

  private internalError(record: TlsRecord, reason: string): void {
    this.options.problems.push(
      makeDiagnostic('NC7008', { flow: this.options.flow, offset: record.offset, seq: this.tcpSeq(record.offset), reason }),
    );
  }

  /** Bytes of [s, e) that came from decrypted packets. */
  private nicBytesIn(s: number, e: number): number {
    const starts = this.nicStarts;
    const ends = this.nicEnds;
    while (this.nicCursor < ends.length && ends[this.nicCursor]! <= s) this.nicCursor++;
    let total = 0;
    for (let i = this.nicCursor; i < starts.length && starts[i]! < e; i++) {
      total += Math.min(e, ends[i]!) - Math.max(s, starts[i]!);
    }
    return total;
  }

  /** The NIC's plaintext pieces inside [s, e) (pieces never straddle a record's ciphertext). */
  private piecesIn(s: number, e: number): NicPiece[] {
    const pieces = this.pieces;
    while (this.pieceCursor < pieces.length && pieces[this.pieceCursor]!.offset + pieces[this.pieceCursor]!.length <= s) {
      this.pieceCursor++;
    }
    const out: NicPiece[] = [];
    for (let i = this.pieceCursor; i < pieces.length && pieces[i]!.offset < e; i++) out.push(pieces[i]!);
    return out;
  }
}
