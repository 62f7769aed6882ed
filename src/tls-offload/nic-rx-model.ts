/**
 * The receive side of the autonomous NIC TLS offload (../shared/docs/tls-offload.md
 * §1 "RX state machine", §2 developer spec, §3b model decisions).
 *
 * One `TlsRxFlowState` per flow direction: the static part (version, AEAD,
 * key, salt or iv) and the dynamic part of §2 (state, expected stream offset,
 * current record's start, header bytes, length and number, the streaming
 * AES-GCM context and tag bytes, the candidate of a resync and the headers
 * counted after it). Sequence numbers are 64-bit stream offsets of the
 * direction (tcp-flows unwraps them), so wraparound needs no special case.
 *
 * Per TCP data segment, in capture order, `receive` returns the packet as the
 * host gets it: decrypted in place (every record piece in it decrypted, every
 * tag that ends in it verified) with the plaintext pieces, or unmodified. It
 * increments exactly one outcome counter:
 *
 * - TRACKING, `seq == expected`: walk the records; `rx_tls_decrypted_packets`
 *   / `_bytes`, or `rx_tls_pass_partial` when a piece was not handled (record
 *   in progress before offload started or resumed, bytes skipped by a hole, a
 *   failed tag: `rx_tls_err`).
 * - `seq < expected` (any state): `rx_tls_ooo_retrans`, no state change.
 * - TRACKING, `seq > expected`: `rx_tls_ooo_keep` when the next header's
 *   position is known and at or after `seq` (the packet is parsed for record
 *   boundaries but passed through); otherwise `rx_tls_resync_lost` and
 *   SEARCHING (the packet counts `rx_tls_searching_pass`).
 * - SEARCHING: scan new contiguous bytes for `type 03 03 len`, carrying up to
 *   4 bytes across packets (a hole resets them); a hit sends a resync request
 *   (`rx_tls_resync_req_pkt`, `_req_start`) and enters SPECULATIVE.
 * - SPECULATIVE: follow the chain of lengths, checking every predicted header
 *   (`rx_tls_resync_req_end` once the first one holds,
 *   `rx_tls_resync_chain_fail` and SEARCHING on a mismatch) and counting the
 *   headers after the candidate (`candCount`). `confirm` (software's reply,
 *   host-tls-stack.ts) returns to TRACKING with record number
 *   `confirmedSn + candCount`; only records whose header starts after the
 *   confirmation are decrypted.
 *
 * Crypto: one streaming node:crypto AES-GCM decipher per record, fed the
 * record's ciphertext pieces in order (batched into one call, RecordJob), tag
 * checked at the record's end. TLS 1.2 nonce = salt ‖ explicit
 * nonce, additional data = seq ‖ header fields; TLS 1.3 nonce = iv XOR record
 * number, additional data = the header. A TLS 1.3 KeyUpdate ends offload for
 * the direction.
 *
 * Decisions beyond §3b (also in the report of the issue):
 * - Offload starts at `startOffset` (the first record under the application
 *   key). Packets wholly before it count `rx_tls_no_offload`; a packet that
 *   straddles it is `rx_tls_pass_partial` and tracking starts at the record.
 * - `rx_tls_ooo_retrans` wins over the state's own pass counter for a packet
 *   below the expected offset in SEARCHING and SPECULATIVE too.
 * - The packet whose hole loses the boundary counts `rx_tls_searching_pass`
 *   (it is scanned); in SPECULATIVE a hole that loses the predicted header is
 *   a boundary loss as well (`rx_tls_resync_lost`, the request is cancelled,
 *   the packet counts `rx_tls_speculative_pass`).
 * - An invalid header where TRACKING expects one is a boundary loss.
 * - After a chain mismatch (or an invalid tracked header), scanning resumes
 *   right after the bad header's first byte: its last 4 bytes become the carry.
 * - A request is cancelled when the NIC leaves SPECULATIVE before software
 *   answers (chain failure, loss), as upstream's `..._request_cancel`.
 * - `naive` mode: the first packet with `seq != expected` after offload
 *   started ends offload for the direction (`rx_tls_resync_lost` once, that
 *   packet and every later one `rx_tls_no_offload`).
 * - TLS 1.3 KeyUpdate: the NIC ends offload right after a record it decrypted
 *   and verified that holds a KeyUpdate (the rest of that packet is not
 *   handled); for a KeyUpdate the NIC did not decrypt, software stops it
 *   (`stop`) before the next packet.
 * - A partial header (1 to 4 bytes seen) at the moment of confirmation
 *   belongs to a record that started before it: not decrypted.
 * - In SPECULATIVE every predicted header is checked (not only the first);
 *   `rx_tls_resync_req_end` counts once per request.
 * - An ooo_keep packet is parsed for headers: a record that begins in it is
 *   tracked and decrypted from its header on (its bytes in the passed packet
 *   go through the GCM state), so software sees it as mixed; the record the
 *   hole cut is no longer decrypted.
 * - The kernel-doc variant (start scanning only one maximum-size record past
 *   the loss) is not modelled; scanning starts with the packet after the hole.
 */
import { Buffer } from 'node:buffer';
import { createDecipheriv, type DecipherGCM } from 'node:crypto';
import type { AeadAlgorithm } from './key-schedule.js';
import type { AuthFailure, NicMode, OffloadEvent, OffloadState, OffloadStateSpan, TlsCounters } from './replay-types.js';

export const TLS_HEADER_LENGTH = 5;
const TAG_LENGTH = 16;
const EXPLICIT_NONCE_LENGTH = 8;
const TWO_POW_32 = 2 ** 32;

/** The NIC's receive states, plus `off` (mode, cipher, naive stop or KeyUpdate: no offload). */
export type RxState = 'tracking' | 'searching' | 'speculative' | 'off';

/** Static per-flow key material: TLS 1.2 salt (4 bytes) or TLS 1.3 iv (12 bytes). */
export interface NicRxKeys {
  version: '1.2' | '1.3';
  aead: AeadAlgorithm;
  key: Buffer;
  iv: Buffer;
}

/**
 * Plaintext the NIC wrote into a decrypted packet, with the record parameters it used.
 * `plaintext` is computed when first read (see RecordJob).
 */
export interface NicPiece {
  /** Stream offset of the first byte. */
  readonly offset: number;
  readonly length: number;
  readonly plaintext: Buffer;
  readonly key: Buffer;
  readonly nonce: Buffer;
  /** Offset of the first byte inside the record's ciphertext (CTR counter 2 + ⌊o/16⌋). */
  readonly ciphertextOffset: number;
}

/**
 * One record's streaming AES-GCM context. The ciphertext pieces are fed to
 * the decipher in order, but in one `update` call per batch: at the record's
 * end (before the tag check), or as soon as someone reads a piece's
 * plaintext. The GCM state and every output byte are the same as feeding it
 * packet by packet; only node:crypto's per-call overhead is saved.
 */
class RecordJob {
  /** The packets and positions of the pending ciphertext pieces (piece i is sources[i][starts[i] .. + pending[i].length)). */
  private sources: Buffer[] = [];
  private starts: number[] = [];
  private pending: LazyPiece[] = [];

  /** `scratch` is the flow's buffer for joining a record's ciphertext pieces (one record at most). */
  constructor(
    readonly decipher: DecipherGCM,
    private readonly scratch: Buffer,
  ) {}

  feed(source: Buffer, start: number, piece: LazyPiece): void {
    this.sources.push(source);
    this.starts.push(start);
    this.pending.push(piece);
  }

  flush(): void {
    const pending = this.pending;
    if (pending.length === 0) return;
    let input: Buffer;
    if (pending.length === 1) input = this.sources[0]!.subarray(this.starts[0]!, this.starts[0]! + pending[0]!.length);
    else {
      let at = 0;
      for (let i = 0; i < pending.length; i++) at += this.sources[i]!.copy(this.scratch, at, this.starts[i]!, this.starts[i]! + pending[i]!.length);
      input = this.scratch.subarray(0, at);
    }
    const output = this.decipher.update(input);
    let at = 0;
    for (const piece of pending) {
      piece.output = output;
      piece.outputOffset = at;
      at += piece.length;
    }
    this.sources = [];
    this.starts = [];
    this.pending = [];
  }
}

class LazyPiece implements NicPiece {
  /** The decipher output holding this piece's plaintext, once the job has run. */
  output: Buffer | undefined;
  outputOffset = 0;
  constructor(
    readonly offset: number,
    readonly length: number,
    readonly key: Buffer,
    readonly nonce: Buffer,
    readonly ciphertextOffset: number,
    private readonly job: RecordJob,
  ) {}

  get plaintext(): Buffer {
    if (!this.output) this.job.flush();
    return this.output!.subarray(this.outputOffset, this.outputOffset + this.length);
  }
}

/**
 * The plaintext of consecutive pieces of one record: a view when one GCM
 * update produced them all (the usual case), otherwise a copy.
 */
export function joinedPlaintext(pieces: readonly NicPiece[], total: number): Buffer {
  const first = pieces[0];
  if (first instanceof LazyPiece) {
    first.plaintext; // runs the job if it has not run
    const output = first.output!;
    let at = first.outputOffset;
    let same = true;
    for (const piece of pieces) {
      if (!(piece instanceof LazyPiece) || piece.output !== output || piece.outputOffset !== at) {
        same = false;
        break;
      }
      at += piece.length;
    }
    if (same) return output.subarray(first.outputOffset, first.outputOffset + total);
  }
  return Buffer.concat(pieces.map((piece) => piece.plaintext), total);
}

/** The packet as delivered to the host (the NIC reuses this object: it is valid until its next `receive`). */
export interface NicVerdict {
  decrypted: boolean;
  /** Plaintext pieces written in place (empty unless decrypted). */
  pieces: NicPiece[];
}

/** A resync request the NIC sent to software. */
export interface ResyncRequest {
  /** Stream offset of the candidate header. */
  candOffset: number;
  /** Index (1-based, among this direction's data packets) of the packet that carried the hit. */
  packetIndex: number;
  /** Software has answered (confirmed) or decided it never will. */
  answered: boolean;
}

export interface TlsRxFlowOptions {
  mode: NicMode;
  /** Absent: nothing to offload (mode none, no keys, unsupported cipher); every packet counts `rx_tls_no_offload`. */
  keys?: NicRxKeys;
  /** Stream offset of the first record under the application key. */
  startOffset: number;
  /** Its record number (1 in TLS 1.2, 0 in TLS 1.3). */
  startRecordNumber: number;
  /** TCP sequence number of stream offset 0 (to report failed records by TCP seq). */
  initialSeq: number;
  /** Counters of the direction, shared with the host model. */
  counters: TlsCounters;
}

const NOT_DECRYPTED: NicVerdict = Object.freeze({ decrypted: false, pieces: [] as NicPiece[] }) as NicVerdict;

interface PacketWork {
  handled: boolean;
  pieces: NicPiece[];
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** The magic pattern check: a valid type, 03 03, and a length the suite allows (§1 condition 4). */
export function isPlausibleHeader(version: '1.2' | '1.3', type: number, v1: number, v2: number, length: number): boolean {
  if (v1 !== 3 || v2 !== 3) return false;
  if (version === '1.3') return type === 23 && length >= 17 && length <= 16384 + 256;
  return type >= 20 && type <= 24 && length >= 24 && length <= 16384 + 24;
}

/** The per-direction NIC receive state machine. */
export class TlsRxFlowState {
  readonly mode: NicMode;
  private readonly keys: NicRxKeys | undefined;
  private readonly v13: boolean;
  private readonly counters: TlsCounters;
  private readonly startOffset: number;
  private readonly initialSeq: number;

  state: RxState;
  /** Next expected stream offset (end of the new contiguous bytes seen). */
  expOff: number;
  private started = false;
  /** Data packets received so far. */
  packetCount = 0;

  // The current record: header position, header (+ TLS 1.2 explicit nonce) bytes, length, number.
  recStart: number;
  private hdrFill = 0;
  private hdrNeed = TLS_HEADER_LENGTH;
  private readonly hdr = Buffer.alloc(TLS_HEADER_LENGTH + EXPLICIT_NONCE_LENGTH);
  private bodyLength = 0;
  recSn: number;
  private decrypting = false;
  private job: RecordJob | undefined;
  private nonce: Buffer | undefined;
  private ciphertextStart = 0;
  private readonly tag = Buffer.alloc(TAG_LENGTH);
  private tagFill = 0;
  private recordPieces: NicPiece[] = [];
  /** Joins a record's ciphertext pieces for one update call (a record's ciphertext is at most 2^14 + 256 bytes). */
  private readonly scratch = Buffer.allocUnsafe(16384 + 256);

  // SEARCHING: the last up to 4 scanned bytes, ending at carryEnd.
  private readonly carry = Buffer.alloc(4);
  private carryLen = 0;
  private carryEnd = -1;
  private readonly window = Buffer.alloc(8);
  private readonly needle: Buffer;
  private readonly needleAt: number;

  // SPECULATIVE
  candOffset = -1;
  candCount = 0;
  private chainHeld = false;
  request: ResyncRequest | undefined;

  // For the report.
  readonly spans: OffloadStateSpan[] = [];
  readonly events: OffloadEvent[] = [];
  readonly lossToResume: (number | undefined)[] = [];
  readonly authFailures: AuthFailure[] = [];
  private pendingLosses: { index: number; offset: number }[] = [];
  private readonly work: PacketWork = { handled: true, pieces: [] };
  private readonly decrypted: NicVerdict = { decrypted: true, pieces: this.work.pieces };
  private spanState: OffloadState;
  private spanStart = 0;

  constructor(options: TlsRxFlowOptions) {
    this.mode = options.keys ? options.mode : 'none';
    this.keys = options.keys;
    this.v13 = options.keys?.version === '1.3';
    this.counters = options.counters;
    this.startOffset = options.startOffset;
    this.initialSeq = options.initialSeq;
    this.expOff = options.startOffset;
    this.recStart = options.startOffset;
    this.recSn = options.startRecordNumber;
    this.state = this.mode === 'none' ? 'off' : 'tracking';
    this.spanState = 'no-offload';
    if (this.state === 'tracking') {
      this.setSpan('tracking', options.startOffset);
      this.beginRecord(options.startOffset, true);
    }
    this.needle = this.v13 ? Buffer.of(23, 3, 3) : Buffer.of(3, 3);
    this.needleAt = this.v13 ? 0 : 1;
  }

  /**
   * Leave the current record's job. Its pieces may still be read (the host
   * keeps the NIC's plaintext of packets it delivered), so the pending update
   * runs now, while the packets it reads from are still valid.
   */
  private dropJob(): void {
    this.job?.flush();
    this.job = undefined;
  }

  /**
   * Before the buffer the packets are views into is reused: run the pending
   * GCM update now, so no view into it is kept (same state and output bytes).
   */
  detach(): void {
    this.job?.flush();
  }

  /** One captured TCP data segment of the direction at stream offset `offset`. */
  receive(offset: number, data: Uint8Array): NicVerdict {
    this.packetCount++;
    const c = this.counters;
    if (this.state === 'off') {
      c.rx_tls_no_offload++;
      return NOT_DECRYPTED;
    }
    const p = asBuffer(data);
    const end = offset + p.length;
    const work = this.work;
    work.handled = true;
    work.pieces.length = 0;
    if (!this.started) {
      if (end <= this.startOffset) {
        c.rx_tls_no_offload++;
        return NOT_DECRYPTED;
      }
      this.started = true;
      if (offset < this.startOffset) {
        // Straddles the start: the bytes before it are not under the offloaded key.
        this.consume(p, this.startOffset - offset, offset, work);
        this.expOff = end;
        c.rx_tls_pass_partial++;
        return NOT_DECRYPTED;
      }
    }
    if (offset !== this.expOff && this.mode === 'naive') {
      this.loss(this.expOff);
      this.endOffload(this.expOff);
      c.rx_tls_no_offload++;
      return NOT_DECRYPTED;
    }
    if (offset < this.expOff) {
      c.rx_tls_ooo_retrans++;
      return NOT_DECRYPTED;
    }
    switch (this.state) {
      case 'tracking': {
        if (offset === this.expOff) {
          this.consume(p, 0, offset, work);
          this.expOff = end;
          if (work.handled) {
            c.rx_tls_decrypted_packets++;
            c.rx_tls_decrypted_bytes += p.length;
            this.resume(offset);
            return this.decrypted;
          }
          c.rx_tls_pass_partial++;
          return NOT_DECRYPTED;
        }
        if (this.nextHeaderKnownAtOrAfter(offset)) {
          this.skipHole(offset);
          this.consume(p, 0, offset, work);
          this.expOff = end;
          c.rx_tls_ooo_keep++;
          return NOT_DECRYPTED;
        }
        this.loss(this.expOff);
        this.enterSearching(this.expOff);
        this.consume(p, 0, offset, work);
        this.expOff = end;
        c.rx_tls_searching_pass++;
        return NOT_DECRYPTED;
      }
      case 'searching': {
        if (offset > this.expOff) this.carryLen = 0; // a hole resets the carried bytes
        this.consume(p, 0, offset, work);
        this.expOff = end;
        c.rx_tls_searching_pass++;
        return NOT_DECRYPTED;
      }
      case 'speculative': {
        if (offset > this.expOff) {
          if (this.nextHeaderKnownAtOrAfter(offset)) {
            this.skipHole(offset);
          } else {
            this.loss(this.expOff);
            this.enterSearching(this.expOff);
          }
        }
        this.consume(p, 0, offset, work);
        this.expOff = end;
        c.rx_tls_speculative_pass++;
        return NOT_DECRYPTED;
      }
    }
  }

  /**
   * Software's confirmation of the pending request: the candidate is record
   * `confirmedSn`. Back to TRACKING; the next record whose header the NIC has
   * not begun to see is decrypted.
   */
  confirm(confirmedSn: number): void {
    if (this.state !== 'speculative') return;
    const complete = this.hdrFill >= TLS_HEADER_LENGTH;
    this.recSn = confirmedSn + this.candCount + (complete ? 0 : 1);
    this.events.push({ offset: this.expOff, kind: 'confirm' });
    this.state = 'tracking';
    this.setSpan('tracking', this.expOff);
    this.request = undefined;
    // A record whose header has not started yet is decrypted from its header on.
    this.decrypting = this.hdrFill === 0;
    this.hdrNeed = this.decrypting && !this.v13 ? TLS_HEADER_LENGTH + EXPLICIT_NONCE_LENGTH : TLS_HEADER_LENGTH;
  }

  /** Software saw a KeyUpdate the NIC did not decrypt: offload ends before the next packet. */
  stop(): void {
    if (this.state !== 'off') this.endOffload(this.expOff);
  }

  /** Close the state spans at the direction's end and settle what is still pending. */
  finish(streamEnd: number): void {
    this.closeSpan(streamEnd);
    this.pendingLosses = [];
  }

  /** A resync request is still waiting for (or will never get) software's confirmation. */
  get unconfirmedAtEnd(): boolean {
    return this.state === 'speculative';
  }

  // ------------------------------------------------------------------ record walking

  private nextHeaderKnownAtOrAfter(offset: number): boolean {
    return this.hdrFill >= TLS_HEADER_LENGTH && this.recStart + TLS_HEADER_LENGTH + this.bodyLength >= offset;
  }

  /** A hole inside the current record (its header is known): the record can no longer be decrypted by the NIC. */
  private skipHole(offset: number): void {
    if (offset > this.expOff) {
      this.decrypting = false;
      this.dropJob();
      this.hdrNeed = TLS_HEADER_LENGTH;
    }
  }

  private beginRecord(start: number, decrypting: boolean): void {
    this.recStart = start;
    this.hdrFill = 0;
    this.decrypting = decrypting;
    this.hdrNeed = decrypting && !this.v13 ? TLS_HEADER_LENGTH + EXPLICIT_NONCE_LENGTH : TLS_HEADER_LENGTH;
    this.dropJob();
    this.tagFill = 0;
    if (this.recordPieces.length) this.recordPieces = [];
  }

  /** Process the bytes p[pos..] (stream offset of p[0] is `base`) in the current state until the packet ends. */
  private consume(p: Buffer, pos: number, base: number, work: PacketWork): void {
    while (pos < p.length) {
      switch (this.state) {
        case 'tracking':
        case 'speculative':
          pos = this.walk(p, pos, base, work);
          break;
        case 'searching':
          work.handled = false;
          pos = this.scan(p, pos, base);
          break;
        case 'off':
          work.handled = false;
          return;
      }
    }
  }

  /**
   * Follow records through p[pos..]. TRACKING decrypts records that are
   * decryptable; SPECULATIVE only checks and counts headers. Returns where it
   * stopped: p.length, or earlier when the state changed to SEARCHING or off.
   */
  private walk(p: Buffer, pos: number, base: number, work: PacketWork): number {
    const len = p.length;
    while (pos < len) {
      if (this.hdrFill < this.hdrNeed) {
        const n = Math.min(this.hdrNeed - this.hdrFill, len - pos);
        const before = this.hdrFill;
        p.copy(this.hdr, before, pos, pos + n);
        this.hdrFill += n;
        pos += n;
        if (!this.decrypting) work.handled = false;
        if (before < TLS_HEADER_LENGTH && this.hdrFill >= TLS_HEADER_LENGTH) {
          const h = this.hdr;
          const length = (h[3]! << 8) | h[4]!;
          if (!isPlausibleHeader(this.keys!.version, h[0]!, h[1]!, h[2]!, length)) {
            work.handled = false;
            return this.badHeader(pos - (this.hdrFill - TLS_HEADER_LENGTH));
          }
          this.bodyLength = length;
          if (this.state === 'speculative') {
            this.candCount++;
            if (!this.chainHeld) {
              this.chainHeld = true;
              this.counters.rx_tls_resync_req_end++;
            }
          }
        }
        if (this.decrypting && this.hdrFill === this.hdrNeed) this.startRecordCrypto();
        continue;
      }
      const at = base + pos;
      const recordEnd = this.recStart + TLS_HEADER_LENGTH + this.bodyLength;
      const tagStart = recordEnd - TAG_LENGTH;
      if (at < tagStart) {
        const n = Math.min(tagStart - at, len - pos);
        if (this.decrypting) {
          const job = this.job!;
          const piece = new LazyPiece(at, n, this.keys!.key, this.nonce!, at - this.ciphertextStart, job);
          job.feed(p, pos, piece);
          work.pieces.push(piece);
          if (this.v13) this.recordPieces.push(piece);
        } else {
          work.handled = false;
        }
        pos += n;
        continue;
      }
      const n = Math.min(recordEnd - at, len - pos);
      if (this.decrypting) p.copy(this.tag, this.tagFill, pos, pos + n);
      else work.handled = false;
      this.tagFill += n;
      pos += n;
      if (at + n === recordEnd) {
        if (this.decrypting) {
          if (!this.verifyTag()) work.handled = false;
          else if (this.v13 && this.holdsKeyUpdate()) {
            this.endOffload(recordEnd);
            if (pos < len) work.handled = false;
            return len;
          }
        }
        this.recSn++;
        this.beginRecord(recordEnd, this.state === 'tracking');
      }
    }
    return pos;
  }

  private startRecordCrypto(): void {
    const keys = this.keys!;
    const h = this.hdr;
    const nonce = Buffer.allocUnsafe(12);
    let aad: Buffer;
    const hi = Math.floor(this.recSn / TWO_POW_32);
    const lo = this.recSn >>> 0;
    if (this.v13) {
      keys.iv.copy(nonce, 0, 0, 12);
      nonce.writeUInt32BE((nonce.readUInt32BE(4) ^ hi) >>> 0, 4);
      nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ lo) >>> 0, 8);
      aad = Buffer.from(h.subarray(0, TLS_HEADER_LENGTH));
      this.ciphertextStart = this.recStart + TLS_HEADER_LENGTH;
    } else {
      keys.iv.copy(nonce, 0, 0, 4);
      h.copy(nonce, 4, TLS_HEADER_LENGTH, TLS_HEADER_LENGTH + EXPLICIT_NONCE_LENGTH);
      aad = Buffer.allocUnsafe(13);
      aad.writeUInt32BE(hi, 0);
      aad.writeUInt32BE(lo, 4);
      aad[8] = h[0]!;
      aad[9] = h[1]!;
      aad[10] = h[2]!;
      aad.writeUInt16BE(this.bodyLength - EXPLICIT_NONCE_LENGTH - TAG_LENGTH, 11);
      this.ciphertextStart = this.recStart + TLS_HEADER_LENGTH + EXPLICIT_NONCE_LENGTH;
    }
    this.nonce = nonce;
    const decipher = createDecipheriv(keys.aead, keys.key, nonce, { authTagLength: TAG_LENGTH }) as DecipherGCM;
    decipher.setAAD(aad);
    this.job = new RecordJob(decipher, this.scratch);
  }

  private verifyTag(): boolean {
    const job = this.job!;
    this.job = undefined;
    job.flush();
    const decipher = job.decipher;
    decipher.setAuthTag(this.tag);
    try {
      decipher.final();
      return true;
    } catch {
      this.counters.rx_tls_err++;
      this.events.push({ offset: this.recStart, kind: 'auth-fail' });
      this.authFailures.push({ record: this.recSn, tcpSeq: (this.initialSeq + this.recStart) % TWO_POW_32, where: 'nic' });
      return false;
    }
  }

  /** TLS 1.3: the verified record's inner type is handshake and it holds a KeyUpdate message. */
  private holdsKeyUpdate(): boolean {
    const pieces = this.recordPieces;
    let type = 0;
    let innerLength = 0;
    for (let i = pieces.length - 1; i >= 0 && type === 0; i--) {
      const piece = pieces[i]!.plaintext;
      for (let j = piece.length - 1; j >= 0; j--) {
        if (piece[j] !== 0) {
          type = piece[j]!;
          innerLength = j;
          for (let k = 0; k < i; k++) innerLength += pieces[k]!.length;
          break;
        }
      }
    }
    if (type !== 22) return false;
    const content = Buffer.concat(pieces.map((piece) => piece.plaintext)).subarray(0, innerLength);
    for (let at = 0; at + 4 <= content.length; ) {
      if (content[at] === 24) return true;
      at += 4 + ((content[at + 1]! << 16) | (content[at + 2]! << 8) | content[at + 3]!);
    }
    return false;
  }

  // ------------------------------------------------------------------ searching and speculative resync

  private enterSearching(at: number): void {
    this.state = 'searching';
    this.setSpan('searching', at);
    this.carryLen = 0;
    this.request = undefined;
    this.dropJob();
    this.decrypting = false;
  }

  /** The header at recStart is not a header: boundary lost (TRACKING) or chain broken (SPECULATIVE). */
  private badHeader(posAfterHeader: number): number {
    const at = this.recStart;
    if (this.state === 'speculative') {
      this.counters.rx_tls_resync_chain_fail++;
      this.events.push({ offset: at, kind: 'chain-fail' });
    } else {
      this.loss(at);
    }
    this.enterSearching(at);
    // Resume scanning right after the bad header's first byte.
    this.hdr.copy(this.carry, 0, 1, TLS_HEADER_LENGTH);
    this.carryLen = 4;
    this.carryEnd = at + TLS_HEADER_LENGTH;
    return posAfterHeader;
  }

  /**
   * Scan p[pos..] for a header; on a hit enter SPECULATIVE and return the
   * position after the candidate header, else remember the carry and return p.length.
   */
  private scan(p: Buffer, pos: number, base: number): number {
    const len = p.length;
    const version = this.keys!.version;
    const start = base + pos;
    if (this.carryLen > 0 && this.carryEnd === start) {
      // Candidates that begin in the carried bytes.
      const w = this.window;
      this.carry.copy(w, 0, 0, this.carryLen);
      const extra = Math.min(4, len - pos);
      p.copy(w, this.carryLen, pos, pos + extra);
      const available = this.carryLen + extra;
      for (let i = 0; i < this.carryLen && i + TLS_HEADER_LENGTH <= available; i++) {
        if (isPlausibleHeader(version, w[i]!, w[i + 1]!, w[i + 2]!, (w[i + 3]! << 8) | w[i + 4]!)) {
          return this.hit(start - this.carryLen + i, w.subarray(i, i + TLS_HEADER_LENGTH), pos + (i + TLS_HEADER_LENGTH - this.carryLen));
        }
      }
    }
    let from = pos + this.needleAt;
    for (;;) {
      const k = p.indexOf(this.needle, from);
      if (k < 0) break;
      const h = k - this.needleAt;
      if (h + TLS_HEADER_LENGTH > len) break;
      if (isPlausibleHeader(version, p[h]!, p[h + 1]!, p[h + 2]!, (p[h + 3]! << 8) | p[h + 4]!)) {
        return this.hit(base + h, p.subarray(h, h + TLS_HEADER_LENGTH), h + TLS_HEADER_LENGTH);
      }
      from = k + 1;
    }
    // No hit: carry the last (up to) 4 contiguous bytes.
    const fresh = len - pos;
    if (fresh >= 4) {
      p.copy(this.carry, 0, len - 4, len);
      this.carryLen = 4;
    } else {
      const keepOld = this.carryLen > 0 && this.carryEnd === start ? Math.min(this.carryLen, 4 - fresh) : 0;
      this.carry.copy(this.carry, 0, this.carryLen - keepOld, this.carryLen);
      p.copy(this.carry, keepOld, pos, len);
      this.carryLen = keepOld + fresh;
    }
    this.carryEnd = base + len;
    return len;
  }

  private hit(candOffset: number, header: Buffer, posAfter: number): number {
    const c = this.counters;
    c.rx_tls_resync_req_pkt++;
    c.rx_tls_resync_req_start++;
    this.events.push({ offset: candOffset, kind: 'resync-request' });
    this.state = 'speculative';
    this.setSpan('speculative', candOffset);
    this.candOffset = candOffset;
    this.candCount = 0;
    this.chainHeld = false;
    this.request = { candOffset, packetIndex: this.packetCount, answered: false };
    this.carryLen = 0;
    this.beginRecord(candOffset, false);
    header.copy(this.hdr, 0, 0, TLS_HEADER_LENGTH);
    this.hdrFill = TLS_HEADER_LENGTH;
    this.bodyLength = (header[3]! << 8) | header[4]!;
    return posAfter;
  }

  // ------------------------------------------------------------------ bookkeeping

  private loss(at: number): void {
    this.counters.rx_tls_resync_lost++;
    this.events.push({ offset: at, kind: 'loss' });
    this.pendingLosses.push({ index: this.lossToResume.length, offset: at });
    this.lossToResume.push(undefined);
  }

  /** A decrypted packet at `offset`: every loss still waiting has resumed. */
  private resume(offset: number): void {
    if (this.pendingLosses.length === 0) return;
    for (const loss of this.pendingLosses) this.lossToResume[loss.index] = offset - loss.offset;
    this.pendingLosses = [];
  }

  private endOffload(at: number): void {
    this.state = 'off';
    this.setSpan('no-offload', at);
    this.dropJob();
    this.decrypting = false;
    this.request = undefined;
  }

  private setSpan(state: OffloadState, at: number): void {
    if (state === this.spanState) return;
    this.closeSpan(at);
    this.spanState = state;
  }

  private closeSpan(at: number): void {
    const end = Math.max(at, this.spanStart);
    if (end > this.spanStart) {
      const last = this.spans[this.spans.length - 1];
      if (last && last.state === this.spanState && last.end === this.spanStart) last.end = end;
      else this.spans.push({ start: this.spanStart, end, state: this.spanState });
    }
    this.spanStart = end;
  }
}
