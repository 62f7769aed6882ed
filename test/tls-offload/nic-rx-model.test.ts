/**
 * The NIC receive state machine (nic-rx-model.ts) with the host stack
 * (host-tls-stack.ts) on synthetic TLS streams sealed with node:crypto, so
 * every position is known: holes that keep or lose the record boundary,
 * search, speculative resync, chain checks, software confirmation, false
 * pattern matches, mixed records and their re-encryption, naive mode, a wrong
 * record number, headers split across packets, and a TLS 1.3 KeyUpdate.
 */
import { describe, expect, test } from '@jest/globals';
import { createCipheriv } from 'node:crypto';
import { CIPHER_SUITES, tls12AdditionalData, tls13NextTrafficSecret, tls13Nonce, tls13TrafficKeys } from '../../src/tls-offload/key-schedule.js';
import { RecordDecryptor, type DirectionKeys } from '../../src/tls-offload/software-decrypt.js';
import { TlsRxFlowState, type NicRxKeys, type NicVerdict } from '../../src/tls-offload/nic-rx-model.js';
import { HostTlsStack } from '../../src/tls-offload/host-tls-stack.js';
import { zeroCounters } from '../../src/tls-offload/tls-replay.js';
import { RX_OUTCOME_COUNTERS, type NicMode, type TlsCounters } from '../../src/tls-offload/replay-types.js';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import { seeded } from '../support/seeded-random.js';

const KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const SALT = Buffer.from('c0ffee01', 'hex');
const SUITE12 = CIPHER_SUITES.get(0xc02f)!;
const SUITE13 = CIPHER_SUITES.get(0x1301)!;
const INITIAL_SEQ = 4_294_000_000; // the TCP sequence numbers wrap inside the stream

interface SynthRecord {
  offset: number;
  end: number;
  sn: number;
  /** Application data, or undefined for other records. */
  data?: Buffer;
}

interface Synth {
  version: '1.2' | '1.3';
  stream: Buffer;
  /** The application-key records, in order. */
  records: SynthRecord[];
  appStart: number;
  appSn: number;
  expected: Buffer;
  nicKeys: NicRxKeys;
  hostKeys: DirectionKeys;
}

function randomBytes(random: () => number, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(random() * 256);
  return out;
}

/** AES-CTR keystream bytes [o, o+n) of a GCM record's ciphertext (counter 2 + ⌊o/16⌋). */
function keystream(key: Buffer, nonce: Buffer, o: number, n: number): Buffer {
  const block = Buffer.alloc(16);
  nonce.copy(block, 0, 0, 12);
  block.writeUInt32BE(2 + Math.floor(o / 16), 12);
  const ctr = createCipheriv(key.length === 16 ? 'aes-128-ctr' : 'aes-256-ctr', key, block);
  return ctr.update(Buffer.alloc((o % 16) + n)).subarray(o % 16);
}

function explicitNonce(sn: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(0x5a5a000000000000n + BigInt(sn) * 7n);
  return out;
}

function seal12(sn: number, type: number, plaintext: Buffer): Buffer {
  const explicit = explicitNonce(sn);
  const cipher = createCipheriv('aes-128-gcm', KEY, Buffer.concat([SALT, explicit]));
  cipher.setAAD(tls12AdditionalData(BigInt(sn), type, 0x0303, plaintext.length));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const header = Buffer.of(type, 3, 3, 0, 0);
  header.writeUInt16BE(8 + ct.length + 16, 3);
  return Buffer.concat([header, explicit, ct, cipher.getAuthTag()]);
}

/**
 * A TLS 1.2 receive stream: ChangeCipherSpec, Finished (record 0), then one
 * application record per length (records 1…). `craft(i, plaintext, ks)` may
 * change record i's plaintext before sealing; ks(o, n) is its keystream, so a
 * plaintext byte p gives ciphertext p ^ ks.
 */
function tls12Stream(lengths: number[], seed: number, craft?: (i: number, plaintext: Buffer, ks: (o: number, n: number) => Buffer, offset: number) => void): Synth {
  const random = seeded(seed);
  const parts: Buffer[] = [Buffer.of(20, 3, 3, 0, 1, 1), seal12(0, 22, Buffer.concat([Buffer.of(20, 0, 0, 12), randomBytes(random, 12)]))];
  let offset = parts[0]!.length + parts[1]!.length;
  const appStart = offset;
  const records: SynthRecord[] = [];
  lengths.forEach((length, i) => {
    const sn = i + 1;
    const data = randomBytes(random, length);
    const nonce = Buffer.concat([SALT, explicitNonce(sn)]);
    craft?.(i, data, (o, n) => keystream(KEY, nonce, o, n), offset + 13);
    const record = seal12(sn, 23, data);
    records.push({ offset, end: offset + record.length, sn, data });
    parts.push(record);
    offset += record.length;
  });
  return {
    version: '1.2',
    stream: Buffer.concat(parts),
    records,
    appStart,
    appSn: 1,
    expected: Buffer.concat(records.map((r) => r.data!)),
    nicKeys: { version: '1.2', aead: 'aes-128-gcm', key: KEY, iv: SALT },
    hostKeys: { version: '1.2', keys: { key: KEY, iv: SALT } },
  };
}

interface Segment {
  offset: number;
  payload: Buffer;
}

/** Cut [from, to) of the stream into segments of `size` bytes (the last one shorter). */
function cut(stream: Buffer, size: number, from = 0, to = stream.length): Segment[] {
  const out: Segment[] = [];
  for (let at = from; at < to; at += size) out.push({ offset: at, payload: stream.subarray(at, Math.min(at + size, to)) });
  return out;
}

/** Drop segment `index` and deliver it again `later` packets afterwards (a retransmission). */
function delay(segments: Segment[], index: number, later: number): Segment[] {
  const out = segments.slice();
  const [moved] = out.splice(index, 1);
  out.splice(index + later, 0, moved!);
  return out;
}

/** Index of the segment that holds `offset`. */
function segmentAt(segments: Segment[], offset: number): number {
  return segments.findIndex((s) => s.offset <= offset && offset < s.offset + s.payload.length);
}

interface Run {
  segments: Segment[];
  nic: TlsRxFlowState;
  host: HostTlsStack;
  counters: TlsCounters;
  problems: Diagnostic[];
  verdicts: NicVerdict[];
  plaintext: Buffer;
}

interface DriveOptions {
  mode?: NicMode;
  confirmDelayPackets?: number;
  /** Called after each packet (the NIC and the host have both seen it). */
  afterEach?: (nic: TlsRxFlowState, index: number) => void;
  /** May change what the NIC delivers (to check the host's own checks). */
  tamperVerdict?: (verdict: NicVerdict, index: number) => NicVerdict;
}

function drive(synth: Synth, segments: Segment[], options: DriveOptions = {}): Run {
  const counters = zeroCounters();
  const problems: Diagnostic[] = [];
  const nic = new TlsRxFlowState({
    mode: options.mode ?? 'autonomous',
    keys: synth.nicKeys,
    startOffset: synth.appStart,
    startRecordNumber: synth.appSn,
    initialSeq: INITIAL_SEQ,
    counters,
  });
  const suite = synth.version === '1.2' ? SUITE12 : SUITE13;
  const host = new HostTlsStack(new RecordDecryptor(suite, synth.hostKeys), {
    flow: 'test',
    initialSeq: INITIAL_SEQ,
    counters,
    keepPlaintext: true,
    confirmDelayPackets: options.confirmDelayPackets ?? 8,
    applicationStart: { offset: synth.appStart, recordNumber: synth.appSn },
    problems,
  });
  const verdicts: NicVerdict[] = [];
  // The loop of host-tls-stack.ts runDirection, keeping what the NIC delivered.
  segments.forEach((segment, index) => {
    let verdict = nic.receive(segment.offset, segment.payload);
    if (options.tamperVerdict) verdict = options.tamperVerdict(verdict, index);
    verdicts.push({ decrypted: verdict.decrypted, pieces: [...verdict.pieces] }); // the NIC reuses its verdict object
    host.noticeRequest(nic);
    host.deliver(segment.offset, segment.payload, verdict);
    host.afterPacket(nic);
    options.afterEach?.(nic, index);
  });
  nic.finish(synth.stream.length);
  return { segments, nic, host, counters, problems, verdicts, plaintext: host.plaintext() };
}

/** Records by where their bytes came from (first copy of each byte), from the NIC's verdicts alone. */
function recordClasses(run: Run, synth: Synth): { hw: number; sw: number; mixed: number } {
  const fromNic = new Int8Array(synth.stream.length).fill(-1);
  run.segments.forEach((segment, i) => {
    for (let k = 0; k < segment.payload.length; k++) {
      if (fromNic[segment.offset + k] === -1) fromNic[segment.offset + k] = run.verdicts[i]!.decrypted ? 1 : 0;
    }
  });
  const classes = { hw: 0, sw: 0, mixed: 0 };
  for (const r of synth.records) {
    let nic = 0;
    for (let k = r.offset; k < r.end; k++) nic += fromNic[k]!;
    if (nic === r.end - r.offset) classes.hw++;
    else if (nic === 0) classes.sw++;
    else classes.mixed++;
  }
  return classes;
}

function outcomes(counters: TlsCounters): number {
  return RX_OUTCOME_COUNTERS.reduce((n, name) => n + counters[name], 0);
}

/** What must hold after any run: one outcome per packet, every record complete and authenticated, plaintext exact. */
function expectSound(run: Run, synth: Synth, packets: number): void {
  expect(outcomes(run.counters)).toBe(packets);
  expect(run.problems.map((p) => `${p.code} ${p.message}`)).toEqual([]);
  expect(run.counters.sw_auth_fail).toBe(0);
  expect(run.counters.sw_records_hw + run.counters.sw_records_sw + run.counters.sw_records_mixed).toBe(synth.records.length + 1);
  // The record before offload starts (Finished) is software's; the others are classified as the verdicts say.
  const classes = recordClasses(run, synth);
  expect([run.counters.sw_records_hw, run.counters.sw_records_sw - 1, run.counters.sw_records_mixed]).toEqual([classes.hw, classes.sw, classes.mixed]);
  expect(run.plaintext.equals(synth.expected)).toBe(true);
}

const LENGTHS = [300, 420, 257, 511, 333, 290, 400, 377, 260, 450, 310, 280, 390, 305, 444, 270, 350, 299, 410, 330];

describe('TRACKING', () => {
  test('in-order segments: every packet after the start is decrypted in place, every record completed by the NIC', () => {
    const synth = tls12Stream(LENGTHS, 1);
    const segments = cut(synth.stream, 100);
    const run = drive(synth, segments);
    expectSound(run, synth, segments.length);
    const c = run.counters;
    const before = segments.filter((s) => s.offset + s.payload.length <= synth.appStart).length;
    const straddles = segments.some((s) => s.offset < synth.appStart && s.offset + s.payload.length > synth.appStart) ? 1 : 0;
    expect(c.rx_tls_no_offload).toBe(before);
    expect(c.rx_tls_pass_partial).toBe(straddles);
    expect(c.rx_tls_decrypted_packets).toBe(segments.length - before - straddles);
    expect(c.rx_tls_err + c.rx_tls_resync_lost).toBe(0);
    // The record that begins in the straddling packet is mixed; every later one is the NIC's.
    expect(c.sw_records_hw).toBe(synth.records.length - straddles);
    expect(c.sw_records_mixed).toBe(straddles);
    expect(run.nic.recSn).toBe(synth.appSn + synth.records.length);
  });

  test('a hole that keeps the boundary: ooo_keep, the cut record is mixed and re-encrypted, sync kept', () => {
    const synth = tls12Stream(LENGTHS, 2);
    const segments = cut(synth.stream, 100);
    // A segment wholly inside record 5's ciphertext, with record 5's header seen before it.
    const r = synth.records[5]!;
    const index = segments.findIndex((s) => s.offset >= r.offset + 13 + 100 && s.offset + 100 <= r.end - 16);
    expect(index).toBeGreaterThan(0);
    const run = drive(synth, delay(segments, index, 3));
    expectSound(run, synth, segments.length);
    const c = run.counters;
    expect(c.rx_tls_ooo_keep).toBe(1);
    expect(c.rx_tls_ooo_retrans).toBe(1);
    expect(c.rx_tls_resync_lost + c.rx_tls_resync_req_start + c.rx_tls_err).toBe(0);
    expect(c.sw_records_mixed).toBeGreaterThanOrEqual(1);
    expect(c.sw_reencrypted_bytes).toBeGreaterThan(0);
    expect(run.nic.state).toBe('tracking');
    expect(run.nic.spans.map((s) => s.state)).toEqual(['no-offload', 'tracking']);
  });
});

describe('lost boundary: SEARCHING, speculative resync, confirmation', () => {
  test('a hole that loses a header: search, request, chain, confirm, tracking with the right record number', () => {
    const synth = tls12Stream(LENGTHS, 3);
    const segments = cut(synth.stream, 100);
    const lost = synth.records[4]!;
    const index = segmentAt(segments, lost.offset + 2);
    let confirmedAt: { recSn: number; recStart: number } | undefined;
    let before = 'tracking';
    const run = drive(synth, delay(segments, index, 3), {
      afterEach: (nic) => {
        if (before === 'speculative' && nic.state === 'tracking') confirmedAt = { recSn: nic.recSn, recStart: nic.recStart };
        before = nic.state;
      },
    });
    expectSound(run, synth, segments.length);
    const c = run.counters;
    expect(run.nic.events.map((e) => e.kind)).toEqual(['loss', 'resync-request', 'confirm']);
    // The candidate is the first header after the hole: record 5's.
    expect(run.nic.events[1]!.offset).toBe(synth.records[5]!.offset);
    expect(c.rx_tls_resync_lost).toBe(1);
    expect([c.rx_tls_resync_req_pkt, c.rx_tls_resync_req_start, c.rx_tls_resync_req_end, c.rx_tls_resync_res_ok]).toEqual([1, 1, 1, 1]);
    expect(c.rx_tls_resync_chain_fail + c.rx_tls_resync_res_skip + c.rx_tls_err).toBe(0);
    expect(c.rx_tls_searching_pass).toBeGreaterThan(0);
    expect(c.rx_tls_speculative_pass).toBeGreaterThan(0);
    // Back in TRACKING with the number of the record in progress (or about to begin) at that moment.
    const current = synth.records.find((r) => r.offset === confirmedAt!.recStart)!;
    expect(confirmedAt!.recSn).toBe(current.sn);
    expect(run.nic.state).toBe('tracking');
    expect(run.nic.recSn).toBe(synth.appSn + synth.records.length);
    expect(run.nic.spans.map((s) => s.state)).toEqual(['no-offload', 'tracking', 'searching', 'speculative', 'tracking']);
    expect(run.nic.lossToResume.length).toBe(1);
    expect(run.nic.lossToResume[0]).toBeGreaterThan(0);
    expect(run.nic.unconfirmedAtEnd).toBe(false);
    // Tags after the confirmation verified on the NIC: records completed entirely by it again.
    expect(c.sw_records_hw).toBeGreaterThan(10);
  });

  test('confirmation waits N packets and for software to reach the candidate', () => {
    const synth = tls12Stream(LENGTHS, 3);
    const segments = cut(synth.stream, 100);
    const index = segmentAt(segments, synth.records[4]!.offset + 2);
    const confirmPacket = (n: number, later: number): number => {
      let requestAt = -1;
      let confirmAt = -1;
      drive(synth, delay(segments, index, later), {
        confirmDelayPackets: n,
        afterEach: (nic, i) => {
          if (requestAt < 0 && nic.state === 'speculative') requestAt = i;
          if (requestAt >= 0 && confirmAt < 0 && nic.state === 'tracking') confirmAt = i;
        },
      });
      return confirmAt - requestAt;
    };
    expect(confirmPacket(8, 2)).toBe(8);
    expect(confirmPacket(2, 2)).toBe(2);
    // The retransmission comes 12 packets after the loss: software confirms once it has it.
    expect(confirmPacket(2, 12)).toBeGreaterThan(2);
  });

  test('headers split across tiny packets: found through the carried bytes, tracked across packets', () => {
    const synth = tls12Stream(LENGTHS, 4);
    const lost = synth.records[3]!;
    const segments = [...cut(synth.stream, 100, 0, lost.offset + 1), ...cut(synth.stream, 3, lost.offset + 1)];
    const index = segmentAt(segments, lost.offset + 2);
    const run = drive(synth, delay(segments, index, 5));
    expectSound(run, synth, segments.length);
    expect(run.nic.events.map((e) => e.kind)).toEqual(['loss', 'resync-request', 'confirm']);
    expect(run.counters.rx_tls_err).toBe(0);
    expect(run.counters.sw_records_hw).toBeGreaterThan(10);
  });

  test('a false pattern match fails the chain: back to SEARCHING, then the real header', () => {
    // Record 4's header is lost; record 4's ciphertext right after the hole holds a fake header whose length points into garbage.
    let fakeAt = -1;
    const synth = tls12Stream(LENGTHS, 5, (i, plaintext, ks, ctOffset) => {
      if (i !== 4) return;
      const o = 160; // well after the lost segment, well before the end of the record
      const fake = Buffer.of(23, 3, 3, 0, 40);
      for (let k = 0; k < 5; k++) plaintext[o + k] = fake[k]! ^ ks(o, 5)[k]!;
      fakeAt = ctOffset + o;
    });
    const segments = cut(synth.stream, 100);
    const index = segmentAt(segments, synth.records[4]!.offset + 2);
    expect(segmentAt(segments, fakeAt)).toBeGreaterThan(index);
    const run = drive(synth, delay(segments, index, 3));
    expectSound(run, synth, segments.length);
    const c = run.counters;
    expect(run.nic.events.map((e) => [e.kind, e.offset])).toEqual([
      ['loss', segments[index]!.offset],
      ['resync-request', fakeAt],
      ['chain-fail', fakeAt + 5 + 40],
      ['resync-request', synth.records[5]!.offset],
      ['confirm', expect.any(Number)],
    ]);
    expect(c.rx_tls_resync_chain_fail).toBe(1);
    expect(c.rx_tls_resync_req_start).toBe(2);
    expect(c.rx_tls_resync_req_end).toBe(1);
    expect(c.rx_tls_resync_res_ok).toBe(1);
    expect(c.rx_tls_err).toBe(0);
    expect(run.nic.state).toBe('tracking');
  });

  test('a wrong guess whose chain holds is never confirmed: no negative reply, the NIC stays speculative', () => {
    // A fake header inside record 4 whose length leads exactly to record 5's real header.
    let fakeAt = -1;
    const base = tls12Stream(LENGTHS, 6);
    const synth = tls12Stream(LENGTHS, 6, (i, plaintext, ks, ctOffset) => {
      if (i !== 4) return;
      const o = 160;
      fakeAt = ctOffset + o;
      const length = base.records[5]!.offset - fakeAt - 5;
      const fake = Buffer.of(23, 3, 3, length >> 8, length & 0xff);
      for (let k = 0; k < 5; k++) plaintext[o + k] = fake[k]! ^ ks(o, 5)[k]!;
    });
    expect(synth.records[5]!.offset).toBe(base.records[5]!.offset);
    const segments = cut(synth.stream, 100);
    const index = segmentAt(segments, synth.records[4]!.offset + 2);
    const run = drive(synth, delay(segments, index, 3));
    expectSound(run, synth, segments.length);
    const c = run.counters;
    expect(run.nic.events.map((e) => [e.kind, e.offset])).toEqual([
      ['loss', segments[index]!.offset],
      ['resync-request', fakeAt],
    ]);
    expect(c.rx_tls_resync_req_end).toBe(1); // the chain held
    expect(c.rx_tls_resync_res_skip).toBe(1); // software found no record there and never answers
    expect(c.rx_tls_resync_res_ok + c.rx_tls_resync_chain_fail + c.rx_tls_err).toBe(0);
    expect(run.nic.state).toBe('speculative');
    expect(run.nic.unconfirmedAtEnd).toBe(true);
    expect(run.nic.lossToResume).toEqual([undefined]);
    // Nothing was decrypted after the loss; software did all of it.
    const afterLoss = segments.length - index - 1;
    expect(c.rx_tls_speculative_pass + c.rx_tls_searching_pass + c.rx_tls_ooo_retrans).toBe(afterLoss + 1);
  });

  test('a wrong record number at confirmation fails every NIC tag (rx_tls_err); software still recovers every record', () => {
    const synth = tls12Stream(LENGTHS, 7);
    const segments = cut(synth.stream, 100);
    const index = segmentAt(segments, synth.records[4]!.offset + 2);
    let confirmed = false;
    const run = drive(synth, delay(segments, index, 3), {
      confirmDelayPackets: 1_000_000, // software never answers by itself
      afterEach: (nic) => {
        if (!confirmed && nic.state === 'speculative' && nic.candCount > 0) {
          confirmed = true;
          nic.confirm(1000); // the candidate is record 6 (not 1000)
        }
      },
    });
    expectSound(run, synth, segments.length);
    const c = run.counters;
    expect(c.rx_tls_err).toBeGreaterThan(5);
    expect(run.nic.authFailures.length).toBe(c.rx_tls_err);
    expect(run.nic.authFailures.every((f) => f.where === 'nic')).toBe(true);
    expect(run.nic.events.filter((e) => e.kind === 'auth-fail').length).toBe(c.rx_tls_err);
    // With every tag failing, no record after the confirmation is the NIC's alone.
    expect(c.sw_records_mixed).toBeGreaterThan(5);
    expect(run.host.authFailures).toEqual([]);
  });
});

describe('the host stack', () => {
  test('mixed records: NIC pieces re-encrypted at the computed CTR counter give back the wire ciphertext', () => {
    const synth = tls12Stream(LENGTHS, 8);
    // Segments of 37 bytes put pieces at every offset modulo 16.
    const segments = cut(synth.stream, 37);
    const holes = [6, 7, 8].map((r) => segments.findIndex((s) => s.offset >= synth.records[r]!.offset + 60 && s.offset + 37 < synth.records[r]!.end - 40));
    let moved = segments;
    for (const hole of holes.reverse()) moved = delay(moved, hole, 2);
    const run = drive(synth, moved);
    expectSound(run, synth, segments.length);
    // Each cut record is mixed, and so is each record that begins in the pass-through packet ending a cut one.
    expect(run.counters.sw_records_mixed).toBeGreaterThanOrEqual(3);
    expect(run.counters.rx_tls_ooo_keep).toBe(3);
    expect(run.counters.sw_reencrypted_bytes).toBeGreaterThan(0);
  });

  test('a NIC piece that does not re-encrypt to the wire is an internal error (NC7008); that record yields no plaintext', () => {
    const synth = tls12Stream(LENGTHS, 9);
    const segments = cut(synth.stream, 100);
    const r = synth.records[6]!;
    const hole = segments.findIndex((s) => s.offset >= r.offset + 13 + 100 && s.offset + 100 <= r.end - 16);
    const victim = segmentAt(segments, r.offset + 20); // decrypted, before the hole: record 6 will be mixed
    const run = drive(synth, delay(segments, hole, 2), {
      tamperVerdict: (verdict, i) => {
        if (i !== victim || !verdict.decrypted) return verdict;
        const pieces = verdict.pieces.map((p) => (p.offset > r.offset ? { ...p, plaintext: Buffer.from(p.plaintext).fill(0x41, 0, 3) } : p));
        return { decrypted: true, pieces };
      },
    });
    expect(run.problems.map((p) => p.code)).toEqual(['NC7008', 'NC7005']);
    expect(run.counters.sw_auth_fail).toBe(1);
    expect(run.host.authFailures).toEqual([{ record: r.sn, tcpSeq: (INITIAL_SEQ + r.offset) % 2 ** 32, where: 'software' }]);
    const expected = Buffer.concat(synth.records.filter((x) => x !== r).map((x) => x.data!));
    expect(run.plaintext.equals(expected)).toBe(true);
  });
});

describe('modes', () => {
  test('naive: the first out-of-sequence packet ends offload for the direction', () => {
    const synth = tls12Stream(LENGTHS, 10);
    const segments = cut(synth.stream, 100);
    const index = segmentAt(segments, synth.records[4]!.offset + 2);
    const run = drive(synth, delay(segments, index, 3), { mode: 'naive' });
    expectSound(run, synth, segments.length);
    const c = run.counters;
    expect(c.rx_tls_resync_lost).toBe(1);
    expect(c.rx_tls_no_offload).toBe(segments.length - index);
    expect(c.rx_tls_resync_req_start + c.rx_tls_searching_pass + c.rx_tls_ooo_keep + c.rx_tls_ooo_retrans).toBe(0);
    expect(run.nic.state).toBe('off');
    expect(run.nic.lossToResume).toEqual([undefined]);
  });

  test('none: every packet passes through, software decrypts everything', () => {
    const synth = tls12Stream(LENGTHS, 11);
    const segments = cut(synth.stream, 100);
    const run = drive(synth, segments, { mode: 'none' });
    expectSound(run, synth, segments.length);
    expect(run.counters.rx_tls_no_offload).toBe(segments.length);
    expect(run.counters.sw_records_sw).toBe(synth.records.length + 1);
  });
});

describe('TLS 1.3', () => {
  const HS_SECRET = Buffer.alloc(32, 0x11);
  const APP_SECRET = Buffer.alloc(32, 0x22);

  function seal13(key: Buffer, iv: Buffer, sn: number, inner: Buffer): Buffer {
    const header = Buffer.of(23, 3, 3, 0, 0);
    header.writeUInt16BE(inner.length + 16, 3);
    const cipher = createCipheriv('aes-128-gcm', key, tls13Nonce(iv, BigInt(sn)));
    cipher.setAAD(header);
    return Buffer.concat([header, cipher.update(inner), cipher.final(), cipher.getAuthTag()]);
  }

  /** Finished under the handshake key, `before` application records, a KeyUpdate, `after` records under the next key. */
  function tls13Stream(before: number, after: number): Synth {
    const random = seeded(13);
    const hs = tls13TrafficKeys(SUITE13, HS_SECRET);
    const app0 = tls13TrafficKeys(SUITE13, APP_SECRET);
    const app1 = tls13TrafficKeys(SUITE13, tls13NextTrafficSecret('sha256', APP_SECRET));
    const parts = [seal13(hs.key, hs.iv, 0, Buffer.concat([Buffer.of(20, 0, 0, 32), randomBytes(random, 32), Buffer.of(22)]))];
    let offset = parts[0]!.length;
    const appStart = offset;
    const records: SynthRecord[] = [];
    const add = (keys: { key: Buffer; iv: Buffer }, sn: number, inner: Buffer, data?: Buffer): void => {
      const record = seal13(keys.key, keys.iv, sn, inner);
      records.push({ offset, end: offset + record.length, sn, ...(data ? { data } : {}) });
      parts.push(record);
      offset += record.length;
    };
    for (let i = 0; i < before; i++) {
      const data = randomBytes(random, 200 + 37 * i);
      add(app0, i, Buffer.concat([data, Buffer.of(23), Buffer.alloc(i % 3)]), data);
    }
    add(app0, before, Buffer.of(24, 0, 0, 1, 0, 22)); // KeyUpdate(update_not_requested)
    for (let i = 0; i < after; i++) {
      const data = randomBytes(random, 250 + 11 * i);
      add(app1, i, Buffer.concat([data, Buffer.of(23)]), data);
    }
    return {
      version: '1.3',
      stream: Buffer.concat(parts),
      records,
      appStart,
      appSn: 0,
      expected: Buffer.concat(records.filter((r) => r.data).map((r) => r.data!)),
      nicKeys: { version: '1.3', aead: 'aes-128-gcm', key: app0.key, iv: app0.iv },
      hostKeys: { version: '1.3', phases: [{ phase: 'handshake', secret: HS_SECRET }, { phase: 'application', secret: APP_SECRET }] },
    };
  }

  test('nonce = iv XOR record number; a KeyUpdate the NIC decrypts ends offload for the direction', () => {
    const synth = tls13Stream(6, 5);
    const segments = cut(synth.stream, 90);
    const run = drive(synth, segments);
    expectSound(run, synth, segments.length);
    const c = run.counters;
    expect(c.rx_tls_err).toBe(0);
    expect(c.rx_tls_decrypted_packets).toBeGreaterThan(10);
    expect(run.nic.state).toBe('off');
    const keyUpdate = synth.records[6]!;
    const afterKeyUpdate = segments.filter((s) => s.offset >= keyUpdate.end).length;
    expect(c.rx_tls_no_offload).toBe(afterKeyUpdate + segments.filter((s) => s.offset + s.payload.length <= synth.appStart).length);
    expect(run.nic.spans.at(-1)).toEqual({ start: keyUpdate.end, end: synth.stream.length, state: 'no-offload' });
    // Records under the new key were opened by software.
    expect(c.sw_records_sw).toBeGreaterThanOrEqual(5);
  });

  test('a KeyUpdate the NIC did not decrypt: software stops the NIC; pieces it decrypted under the old key are undone with that key', () => {
    const synth = tls13Stream(6, 5);
    const keyUpdate = synth.records[6]!;
    // A hole inside the KeyUpdate record (after its header): the NIC keeps the boundary but cannot decrypt it.
    const segments = [...cut(synth.stream, 90, 0, keyUpdate.offset + 5), ...cut(synth.stream, 8, keyUpdate.offset + 5)];
    const index = segmentAt(segments, keyUpdate.offset + 5);
    const run = drive(synth, delay(segments, index, 6));
    expectSound(run, synth, segments.length);
    expect(run.counters.rx_tls_ooo_keep).toBe(1);
    expect(run.nic.state).toBe('off');
    expect(run.nic.spans.at(-1)!.state).toBe('no-offload');
    expect(run.nic.spans.at(-1)!.start).toBeGreaterThan(keyUpdate.end);
    // The NIC began the next record under the old key before software stopped it: that record is mixed.
    expect(run.counters.sw_records_mixed).toBeGreaterThanOrEqual(1);
    expect(run.counters.sw_reencrypted_bytes).toBeGreaterThan(0);
  });

  test('resync on the 17 03 03 pattern', () => {
    const synth = tls13Stream(14, 0);
    const segments = cut(synth.stream, 100);
    const index = segmentAt(segments, synth.records[3]!.offset + 1);
    const run = drive(synth, delay(segments, index, 2));
    expectSound(run, synth, segments.length);
    expect(run.nic.events.map((e) => e.kind)).toEqual(['loss', 'resync-request', 'confirm']);
    expect(run.counters.rx_tls_err).toBe(0);
    expect(run.counters.sw_records_hw).toBeGreaterThan(3);
  });
});
