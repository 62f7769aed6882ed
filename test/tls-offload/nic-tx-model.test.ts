/**
 * The transmit-side model (src/tls-offload/nic-tx-model.ts): counters and
 * the re-encryption check on synthetic segments built with node:crypto, then
 * on the shared traces, where the out-of-sequence segments must be exactly
 * those tshark flags as retransmission or out-of-order.
 *
 * Relation checked on the traces: every server data segment tshark flags
 * (tcp.analysis.retransmission or tcp.analysis.out_of_order, payload > 0) is,
 * in the model, either tx_tls_ooo, or tx_tls_drop_no_sync_data (its record had
 * already been acknowledged when it showed up: tshark calls most of those
 * spurious retransmissions), or a handshake segment before offload started
 * (details.bypassOutOfSequence); and no other segment is. So
 * tshark = ooo + drop + bypassOutOfSequence, and ooo = tshark on traces
 * without spurious retransmissions.
 *
 * Without the shared traces or tshark the trace tests print a skip notice,
 * except under CI=true where that is a failure (as decrypt-vs-tshark.test.ts).
 * Traces generated into build/tls-traces by `npm run tls:traces` are checked
 * too when present (never required).
 */
import { describe, test, expect } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCapture } from '../../src/pcap/index.js';
import { parseKeyLog } from '../../src/tls-offload/keylog.js';
import { tls12AdditionalData, tls12Nonce, tls13AdditionalData, tls13Nonce } from '../../src/tls-offload/key-schedule.js';
import {
  transmitInputFromSession,
  transmitSide,
  type TransmitInput,
  type TxRecord,
  type TxSegment,
} from '../../src/tls-offload/nic-tx-model.js';
import { decryptCapture } from '../../src/tls-offload/software-decrypt.js';
import { GENERATED_TRACES, TRACES } from '../../tools/shared-tls-traces.js';

// ---------------------------------------------------------------------------
// Synthetic records and segments.

const KEY = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const SALT = Buffer.from('a0a1a2a3', 'hex');
const IV13 = Buffer.from('b0b1b2b3b4b5b6b7b8b9babb', 'hex');
const MSS = 1448;

interface Synthetic {
  stream: Buffer;
  records: TxRecord[];
}

/** Records with the given plaintext sizes, encrypted with AES-128-GCM, TLS 1.2 or 1.3 framing, from stream offset `at`. */
function buildRecords(version: '1.2' | '1.3', sizes: number[], at = 0): Synthetic {
  const pieces: Buffer[] = [Buffer.alloc(at, 0x16)];
  const records: TxRecord[] = [];
  let offset = at;
  sizes.forEach((size, i) => {
    const seq = BigInt(i + (version === '1.2' ? 1 : 0));
    const content = Buffer.alloc(size);
    for (let j = 0; j < size; j++) content[j] = (j * 7 + i) & 0xff;
    const plaintext = version === '1.2' ? content : Buffer.concat([content, Buffer.of(23)]);
    const explicit = Buffer.alloc(8);
    explicit.writeBigUInt64BE(0x1122334455660000n + seq);
    const nonce = version === '1.2' ? tls12Nonce(SALT, explicit) : tls13Nonce(IV13, seq);
    const fragmentLength = (version === '1.2' ? 8 : 0) + plaintext.length + 16;
    const header = Buffer.of(23, 3, 3, fragmentLength >> 8, fragmentLength & 0xff);
    const aad = version === '1.2' ? tls12AdditionalData(seq, 23, 0x0303, plaintext.length) : tls13AdditionalData(header);
    const cipher = createCipheriv('aes-128-gcm', KEY, nonce, { authTagLength: 16 });
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const tag = cipher.getAuthTag();
    pieces.push(header, version === '1.2' ? explicit : Buffer.alloc(0), ciphertext, tag);
    records.push({
      streamOffset: offset,
      length: 5 + fragmentLength,
      recordNumber: seq,
      nonce,
      explicitNonceLength: version === '1.2' ? 8 : 0,
      plaintext,
      additionalData: aad,
    });
    offset += 5 + fragmentLength;
  });
  return { stream: Buffer.concat(pieces), records };
}

/** The stream cut into MSS segments, numbered from packet 1. */
function segmentsOf(stream: Buffer): TxSegment[] {
  const out: TxSegment[] = [];
  for (let o = 0; o < stream.length; o += MSS) {
    out.push({ packetNumber: out.length + 1, streamOffset: o, payload: stream.subarray(o, Math.min(o + MSS, stream.length)) });
  }
  return out;
}

/** A copy of stream[offset, offset+length) sent again as packet `packetNumber`. */
function resend(stream: Buffer, packetNumber: number, offset: number, length = MSS): TxSegment {
  return { packetNumber, streamOffset: offset, payload: Buffer.from(stream.subarray(offset, Math.min(offset + length, stream.length))) };
}

function input(s: Synthetic, segments: TxSegment[], extra: Partial<TransmitInput> = {}): TransmitInput {
  return { aead: 'aes-128-gcm', key: KEY, records: s.records, segments, ...extra };
}

describe('transmit model on synthetic segments', () => {
  for (const version of ['1.2', '1.3'] as const) {
    test(`TLS ${version}: in-order segments are all encrypted by the NIC and match the wire`, () => {
      const s = buildRecords(version, [3000, 5000, 16384, 200]);
      const segments = segmentsOf(s.stream);
      const r = transmitSide(input(s, segments));
      expect(r.mismatches).toBe(0);
      expect(r.counters).toEqual({
        tx_tls_encrypted_packets: segments.length,
        tx_tls_encrypted_bytes: s.stream.length,
        tx_tls_ooo: 0,
        tx_tls_dump_packets: 0,
        tx_tls_dump_bytes: 0,
        tx_tls_drop_no_sync_data: 0,
      });
      // Every ciphertext and tag byte was compared.
      const headers = s.records.reduce((n, rec) => n + 5 + rec.explicitNonceLength, 0);
      expect(r.details.checkedBytes).toBe(s.stream.length - headers);
      expect(r.details.uncheckedBytes).toBe(0);
    });

    test(`TLS ${version}: a retransmission in the middle of a record replays the record prefix`, () => {
      const s = buildRecords(version, [3000, 5000, 2000]);
      const segments = segmentsOf(s.stream);
      const record1 = s.records[1]!;
      const at = record1.streamOffset + 1000; // 1000 bytes into record 1 (header and explicit nonce included)
      segments.push(resend(s.stream, segments.length + 1, at));
      const r = transmitSide(input(s, segments));
      expect(r.mismatches).toBe(0);
      expect(r.counters.tx_tls_ooo).toBe(1);
      expect(r.counters.tx_tls_dump_packets).toBe(1);
      expect(r.counters.tx_tls_dump_bytes).toBe(1000);
      expect(r.counters.tx_tls_encrypted_packets).toBe(segments.length - 1);
      expect(r.counters.tx_tls_drop_no_sync_data).toBe(0);
    });

    test(`TLS ${version}: a retransmission that starts at a record boundary needs no dump`, () => {
      const s = buildRecords(version, [3000, 5000, 2000]);
      const segments = segmentsOf(s.stream);
      segments.push(resend(s.stream, segments.length + 1, s.records[2]!.streamOffset, 900));
      const r = transmitSide(input(s, segments));
      expect(r.mismatches).toBe(0);
      expect(r.counters.tx_tls_ooo).toBe(1);
      expect(r.counters.tx_tls_dump_packets).toBe(0);
      expect(r.counters.tx_tls_dump_bytes).toBe(0);
    });
  }

  test('a retransmission spanning two records dumps only the first record\'s prefix', () => {
    const s = buildRecords('1.2', [3000, 5000]);
    const segments = segmentsOf(s.stream);
    const at = s.records[1]!.streamOffset - 100;
    segments.push(resend(s.stream, segments.length + 1, at));
    const r = transmitSide(input(s, segments));
    expect(r.mismatches).toBe(0);
    expect(r.counters.tx_tls_dump_bytes).toBe(s.records[0]!.length - 100);
  });

  test('a retransmission of an acknowledged record is dropped, not encrypted', () => {
    const s = buildRecords('1.2', [3000, 5000, 2000]);
    const segments = segmentsOf(s.stream);
    const end0 = s.records[0]!.streamOffset + s.records[0]!.length;
    // Renumber so the ACK sits between the original segments and the retransmissions.
    const n = segments.length;
    const acks = [{ packetNumber: n + 1, streamOffset: end0 }];
    segments.push(resend(s.stream, n + 2, 1448)); // inside record 0, acknowledged: dropped
    segments.push(resend(s.stream, n + 3, end0 + 10)); // record 1 is not acknowledged: resync
    const r = transmitSide(input(s, segments, { acks }));
    expect(r.counters.tx_tls_drop_no_sync_data).toBe(1);
    expect(r.counters.tx_tls_ooo).toBe(1);
    expect(r.counters.tx_tls_dump_bytes).toBe(10);
    expect(r.mismatches).toBe(0);
    // The same retransmission before the ACK arrives is resynchronised instead.
    const early = transmitSide(input(s, segments, { acks: [{ packetNumber: n + 5, streamOffset: end0 }] }));
    expect(early.counters.tx_tls_drop_no_sync_data).toBe(0);
    expect(early.counters.tx_tls_ooo).toBe(2);
  });

  test('an ACK that ends inside a record does not release it', () => {
    const s = buildRecords('1.3', [3000, 5000]);
    const segments = segmentsOf(s.stream);
    const end0 = s.records[0]!.streamOffset + s.records[0]!.length;
    const acks = [{ packetNumber: segments.length + 1, streamOffset: end0 - 1 }];
    segments.push(resend(s.stream, segments.length + 2, 0));
    const r = transmitSide(input(s, segments, { acks }));
    expect(r.counters.tx_tls_drop_no_sync_data).toBe(0);
    expect(r.counters.tx_tls_ooo).toBe(1);
    expect(r.counters.tx_tls_dump_packets).toBe(0);
  });

  test('a segment lost before the capture point: the next one is in sequence, its late copy is out of sequence', () => {
    const s = buildRecords('1.2', [3000, 5000, 2000]);
    const segments = segmentsOf(s.stream);
    const lost = segments.splice(3, 1)[0]!;
    segments.push({ ...lost, packetNumber: 100 });
    const r = transmitSide(input(s, segments));
    expect(r.mismatches).toBe(0);
    expect(r.details.gapBytes).toBe(lost.payload!.length);
    expect(r.counters.tx_tls_ooo).toBe(1);
    expect(r.counters.tx_tls_encrypted_packets).toBe(segments.length - 1);
    expect(r.counters.tx_tls_dump_bytes).toBe(lost.streamOffset - s.records.find((x) => x.streamOffset + x.length > lost.streamOffset)!.streamOffset);
  });

  test('resyncOnResume: the first new segment after a retransmission resyncs again (mlx5 rule)', () => {
    const s = buildRecords('1.2', [3000, 5000, 2000]);
    const all = segmentsOf(s.stream);
    const segments = all.slice(0, 4);
    segments.push(resend(s.stream, 5, 1448)); // retransmission of segment 2
    for (const seg of all.slice(4)) segments.push({ ...seg, packetNumber: seg.packetNumber + 1 });
    const plain = transmitSide(input(s, segments));
    const mlx5 = transmitSide(input(s, segments, { resyncOnResume: true }));
    expect(plain.counters.tx_tls_ooo).toBe(1);
    expect(mlx5.counters.tx_tls_ooo).toBe(2);
    expect(mlx5.details.resumeResyncs).toBe(1);
    const resume = all[4]!.streamOffset;
    const holder = s.records.find((x) => x.streamOffset <= resume && resume < x.streamOffset + x.length)!;
    expect(mlx5.details.resumeDumpBytes).toBe(resume - holder.streamOffset);
    expect(mlx5.counters.tx_tls_encrypted_packets).toBe(plain.counters.tx_tls_encrypted_packets - 1);
    expect(mlx5.mismatches).toBe(0);
  });

  test('wrong bytes on the wire, a wrong nonce or a wrong plaintext are mismatches', () => {
    const s = buildRecords('1.2', [3000, 5000]);
    const segments = segmentsOf(s.stream);
    const tampered = resend(s.stream, segments.length + 1, 2000);
    (tampered.payload as Buffer)[700] ^= 1;
    const r = transmitSide(input(s, [...segments, tampered]));
    expect(r.mismatches).toBe(1);
    expect(r.details.mismatchDetails[0]).toEqual({ packetNumber: segments.length + 1, segmentOffset: 2000, firstBadOffset: 2700 });

    const wrongNonce = { ...s, records: s.records.map((x, i) => (i === 1 ? { ...x, nonce: tls12Nonce(SALT, Buffer.alloc(8)) } : x)) };
    expect(transmitSide(input(wrongNonce, segments)).mismatches).toBeGreaterThan(0);

    const wrongPlain = {
      ...s,
      records: s.records.map((x, i) => (i === 0 ? { ...x, plaintext: Buffer.alloc(x.plaintext!.length) } : x)),
    };
    expect(transmitSide(input(wrongPlain, segments)).mismatches).toBeGreaterThan(0);
  });

  test('a tampered tag byte is a mismatch; without additional data tags are left unchecked', () => {
    const s = buildRecords('1.3', [100]);
    const segments = segmentsOf(s.stream);
    const last = Buffer.from(segments[0]!.payload!);
    last[last.length - 1] ^= 0x80;
    expect(transmitSide(input(s, [{ ...segments[0]!, payload: last }])).mismatches).toBe(1);
    const noAad = { ...s, records: s.records.map((x) => ({ ...x, additionalData: undefined })) };
    const r = transmitSide(input(noAad, [{ ...segments[0]!, payload: last }]));
    expect(r.mismatches).toBe(0);
    expect(r.details.uncheckedBytes).toBe(16);
  });

  test('segments before the first offloaded record are not the NIC\'s', () => {
    const s = buildRecords('1.2', [3000], 600); // 600 bytes of handshake first
    const segments = [
      { packetNumber: 1, streamOffset: 0, payload: s.stream.subarray(0, 600) },
      { packetNumber: 2, streamOffset: 600, payload: s.stream.subarray(600, 2048) },
      { packetNumber: 3, streamOffset: 2048, payload: s.stream.subarray(2048) },
      { packetNumber: 4, streamOffset: 0, payload: s.stream.subarray(0, 600) }, // handshake retransmission
    ];
    const r = transmitSide(input(s, segments));
    expect(r.details.bypassSegments).toBe(2);
    expect(r.details.bypassOutOfSequence).toBe(1);
    expect(r.counters.tx_tls_encrypted_packets).toBe(2);
    expect(r.counters.tx_tls_ooo).toBe(0);
    expect(r.mismatches).toBe(0);
  });
});

// ---------------------------------------------------------------------------
// The shared traces (and the project's own, when generated).

const OWN_TRACES = GENERATED_TRACES;
const haveTraces = existsSync(join(TRACES, 'MANIFEST.md'));
const haveTshark = spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0;
const missing = [!haveTraces && `traces in ${TRACES}`, !haveTshark && 'tshark'].filter(Boolean).join(' and ');

/** Server data segments tshark flags as retransmission or out-of-order. */
function tsharkOutOfSequence(pcap: string, serverPorts: number[]): number {
  const ports = serverPorts.map((p) => `tcp.srcport==${p}`).join(' || ');
  const filter = `(${ports}) && tcp.len > 0 && (tcp.analysis.retransmission || tcp.analysis.out_of_order)`;
  const result = spawnSync('tshark', ['-n', '-r', pcap, '-Y', filter, '-T', 'fields', '-e', 'frame.number'], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`tshark failed: ${result.stderr}`);
  return result.stdout.split('\n').filter((l) => l.trim() !== '').length;
}

interface TraceTotals {
  ooo: number;
  drop: number;
  bypassOutOfSequence: number;
  encrypted: number;
  mismatches: number;
  checked: number;
  unchecked: number;
  sessions: number;
  tshark: number;
}

function runTrace(dir: string, name: string): TraceTotals {
  const pcap = join(dir, `${name}.pcap`);
  const keyLog = parseKeyLog(readFileSync(join(dir, `${name}.keylog`), 'utf8'));
  const decryption = decryptCapture(readCapture(readFileSync(pcap), { file: pcap }), { keyLog });
  expect(decryption.problems.map((p) => p.message)).toEqual([]);
  const totals: TraceTotals = { ooo: 0, drop: 0, bypassOutOfSequence: 0, encrypted: 0, mismatches: 0, checked: 0, unchecked: 0, sessions: 0, tshark: 0 };
  const ports = new Set<number>();
  for (const session of decryption.sessions) {
    const tx = transmitInputFromSession(session, 'server', { keyLog });
    expect(tx).toBeDefined();
    const r = transmitSide(tx!);
    totals.ooo += r.counters.tx_tls_ooo;
    totals.drop += r.counters.tx_tls_drop_no_sync_data;
    totals.bypassOutOfSequence += r.details.bypassOutOfSequence;
    totals.encrypted += r.counters.tx_tls_encrypted_packets;
    totals.mismatches += r.mismatches;
    totals.checked += r.details.checkedBytes;
    totals.unchecked += r.details.uncheckedBytes;
    totals.sessions++;
    ports.add(session.server.source.port);
  }
  totals.tshark = tsharkOutOfSequence(pcap, [...ports]);
  return totals;
}

const SHARED: { name: string; clean: boolean }[] = [
  { name: 't12-aes128gcm-clean', clean: true },
  { name: 't13-aes128gcm-clean', clean: true },
  { name: 't12-aes128gcm-ossl-clean', clean: true },
  { name: 't12-aes128gcm-reorder', clean: false },
  { name: 't13-aes128gcm-loss', clean: false },
];

describe('transmit model on the shared traces', () => {
  if (!haveTraces || !haveTshark) {
    test(`needs ${missing}`, () => {
      if (process.env['CI'] === 'true') throw new Error(`CI=true but ${missing} is missing`);
      console.warn(`SKIPPED nic-tx-model trace tests: ${missing} not available`);
    });
    return;
  }

  test.each(SHARED)('$name', ({ name, clean }) => {
    const t = runTrace(TRACES, name);
    expect(t.sessions).toBe(1);
    expect(t.mismatches).toBe(0);
    expect(t.unchecked).toBe(0);
    expect(t.checked).toBeGreaterThan(3_900_000);
    expect(t.ooo + t.drop + t.bypassOutOfSequence).toBe(t.tshark);
    if (clean) {
      expect(t.tshark).toBe(0);
      expect(t.ooo).toBe(0);
    } else {
      expect(t.ooo).toBeGreaterThan(0);
    }
  });

  test('t13-aes128gcm-loss: every flagged segment is a resync (no spurious retransmission)', () => {
    const t = runTrace(TRACES, 't13-aes128gcm-loss');
    expect(t.ooo).toBe(t.tshark);
    expect(t.drop).toBe(0);
  });

  const own = existsSync(join(OWN_TRACES, 'manifest.json'))
    ? (JSON.parse(readFileSync(join(OWN_TRACES, 'manifest.json'), 'utf8')) as { file: string; pcap_bytes: number }[])
        .filter((r) => r.pcap_bytes < 20_000_000 && existsSync(join(OWN_TRACES, r.file)))
        .map((r) => r.file.replace(/\.pcap$/, ''))
    : [];
  if (own.length) {
    test.each(own)('build/tls-traces/%s (generated by npm run tls:traces)', (name) => {
      const t = runTrace(OWN_TRACES, name);
      expect(t.mismatches).toBe(0);
      expect(t.unchecked).toBe(0);
      expect(t.ooo + t.drop + t.bypassOutOfSequence).toBe(t.tshark);
    });
  }
});
