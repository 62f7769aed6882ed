/**
 * Tampered captures: bits flipped inside several records' ciphertext and tag
 * (in every captured copy of the byte, with the TCP checksum recomputed, so
 * the capture is still a valid one; nicoff itself does not check TCP
 * checksums). Replayed in every NIC mode, each tampered record must fail
 * authentication and be reported with its flow, direction, record number
 * and TCP sequence number; every other record must still decrypt, and the
 * plaintext must be the untampered replay's (which equals tshark's,
 * nic-replay-vs-tshark.test.ts) minus exactly the tampered records: no byte
 * of a failed record ever reaches the output.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { internetChecksum, readCapture, type Capture } from '../../src/pcap/index.js';
import { tcpConnections } from '../../src/tls-offload/tcp-flows.js';
import { placeSegments } from '../../src/tls-offload/host-tls-stack.js';
import { replayCapture } from '../../src/tls-offload/tls-replay.js';
import type { DirectionReport, NicMode, PlaintextRecordSpan, ReplayReport } from '../../src/tls-offload/replay-types.js';
import { CASES, TRACES, canRunOracle, loadTrace, skipUnlessOracle } from '../support/tshark-oracle.js';

const MODES: NicMode[] = ['autonomous', 'naive', 'none'];

interface Flip {
  role: DirectionReport['role'];
  /** Index into the direction's application records. */
  record: number;
  /** Where in the record: a ciphertext byte or the tag's last byte. */
  where: 'first-ciphertext' | 'middle' | 'tag';
}

const TAMPERED: { capture: string; flips: Flip[] }[] = [
  {
    capture: 't12-aes128gcm-clean.pcap',
    flips: [
      { role: 'server-to-client', record: 3, where: 'middle' },
      { role: 'server-to-client', record: 4, where: 'tag' },
      { role: 'server-to-client', record: 150, where: 'first-ciphertext' },
      { role: 'server-to-client', record: 151, where: 'middle' },
      { role: 'server-to-client', record: 404, where: 'tag' },
      { role: 'client-to-server', record: 0, where: 'middle' },
    ],
  },
  {
    capture: 't13-aes128gcm-loss.pcap',
    flips: [
      { role: 'server-to-client', record: 10, where: 'tag' },
      { role: 'server-to-client', record: 40, where: 'middle' },
      { role: 'server-to-client', record: 41, where: 'first-ciphertext' },
      { role: 'server-to-client', record: 300, where: 'middle' },
    ],
  },
];

/** Recompute the TCP checksum of an Ethernet/IPv4/TCP frame in place. */
function fixTcpChecksum(frame: Uint8Array): void {
  expect((frame[12]! << 8) | frame[13]!).toBe(0x0800);
  const ip = frame.subarray(14);
  const ihl = (ip[0]! & 0x0f) * 4;
  const totalLength = (ip[2]! << 8) | ip[3]!;
  const tcp = ip.subarray(ihl, totalLength);
  const pseudo = new Uint8Array(12 + tcp.length);
  pseudo.set(ip.subarray(12, 20), 0);
  pseudo[9] = 6;
  pseudo[10] = tcp.length >> 8;
  pseudo[11] = tcp.length & 0xff;
  tcp[16] = 0;
  tcp[17] = 0;
  pseudo.set(tcp, 12);
  const sum = internetChecksum(pseudo);
  tcp[16] = sum >> 8;
  tcp[17] = sum & 0xff;
}

interface Tampered {
  role: DirectionReport['role'];
  span: PlaintextRecordSpan;
}

/** Flip one bit of each chosen record in every captured copy of the byte; returns the tampered records. */
function tamper(file: Buffer, clean: ReplayReport, flips: Flip[]): { bytes: Buffer; tampered: Tampered[] } {
  const bytes = Buffer.from(file);
  const capture: Capture = readCapture(bytes); // packet data are views into `bytes`
  const connection = tcpConnections(capture)[0]!;
  const report = clean.connections[0]!;
  const tampered: Tampered[] = [];
  for (const flip of flips) {
    const direction = report.directions.find((d) => d.role === flip.role)!;
    const span = direction.plaintextRecords![flip.record]!;
    const tcpDirection = direction.flow.startsWith(`${connection.first.source.address}:${connection.first.source.port} `)
      ? connection.first
      : connection.second;
    const recordLength = span.length + (report.tlsVersion === '1.2' ? 8 : 1) + 16; // TLS 1.3: inner type byte, no padding in these traces
    const ciphertextStart = span.offset + 5 + (report.tlsVersion === '1.2' ? 8 : 0);
    const at =
      flip.where === 'tag' ? span.offset + 5 + recordLength - 1 : flip.where === 'first-ciphertext' ? ciphertextStart : ciphertextStart + (span.length >> 1);
    let copies = 0;
    for (const segment of placeSegments(tcpDirection).segments) {
      if (segment.offset <= at && at < segment.offset + segment.payload.length) {
        segment.payload[at - segment.offset] ^= 0x10;
        const packet = capture.packets[segment.packetNumber - 1]!;
        fixTcpChecksum(packet.data);
        copies++;
      }
    }
    expect(copies).toBeGreaterThan(0);
    tampered.push({ role: flip.role, span });
  }
  return { bytes, tampered };
}

describe('tampered records fail authentication and yield no plaintext', () => {
  if (!canRunOracle) {
    skipUnlessOracle('tamper');
    return;
  }

  const dir = mkdtempSync(join(tmpdir(), 'nicoff-tamper-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe.each(TAMPERED)('$capture', ({ capture: name, flips }) => {
    const trace = CASES.find((c) => c.capture === name)!;
    let clean: ReplayReport;
    let tampered: Tampered[];
    let path: string;
    const reports = new Map<NicMode, ReplayReport>();

    beforeAll(() => {
      const { keyLog } = loadTrace(trace);
      clean = replayCapture(readCapture(readFileSync(join(TRACES, name))), { nic: 'autonomous', keyLog, keepPlaintext: true });
      const result = tamper(readFileSync(join(TRACES, name)), clean, flips);
      tampered = result.tampered;
      path = join(dir, name);
      writeFileSync(path, result.bytes);
      const capture = readCapture(readFileSync(path));
      for (const nic of MODES) reports.set(nic, replayCapture(capture, { nic, keyLog, keepPlaintext: true }));
    }, 120_000);

    test('the rewritten capture has correct TCP checksums (tshark agrees)', () => {
      const result = spawnSync('tshark', ['-n', '-r', path, '-o', 'tcp.check_checksum:TRUE', '-T', 'fields', '-e', 'tcp.checksum.status'], {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      expect(result.status).toBe(0);
      const statuses = new Set(result.stdout.split('\n').filter((l) => l !== ''));
      expect([...statuses]).toEqual(['1']); // 1 = good
    });

    test.each(MODES)('%s', (nic) => {
      const report = reports.get(nic)!;
      const connection = report.connections[0]!;
      const cleanConnection = clean.connections[0]!;
      expect(connection.status).toBe('decrypted');
      for (const direction of connection.directions) {
        const cleanDirection = cleanConnection.directions.find((d) => d.role === direction.role)!;
        const mine = tampered.filter((t) => t.role === direction.role).map((t) => t.span);
        const c = direction.counters;
        // Each tampered record failed in software, reported with its record number and TCP seq; nothing else failed.
        expect(c.sw_auth_fail).toBe(mine.length);
        const software = direction.authFailures.filter((f) => f.where === 'software');
        expect(software.map((f) => [f.record, f.tcpSeq]).sort()).toEqual(mine.map((s) => [s.record, s.tcpSeq]).sort());
        expect(direction.flow).toBe(cleanDirection.flow);
        const nc7005 = connection.problems.filter((p) => p.code === 'NC7005' && p.message.includes(direction.flow.replace(' -> ', '->')));
        expect(nc7005.length).toBe(mine.length);
        for (const span of mine) expect(nc7005.some((p) => p.message.includes(`TCP seq ${span.tcpSeq}`))).toBe(true);
        // The NIC's own tag checks: only tampered records can fail there.
        for (const f of direction.authFailures.filter((x) => x.where === 'nic')) {
          expect(mine.some((s) => s.tcpSeq === f.tcpSeq && s.record === f.record)).toBe(true);
        }
        if (nic === 'none') expect(c.rx_tls_err).toBe(0);
        expect(c.rx_tls_err).toBe(direction.authFailures.length - software.length);
        // Every other record still decrypts.
        expect(c.sw_records_hw + c.sw_records_sw + c.sw_records_mixed).toBe(
          cleanDirection.counters.sw_records_hw + cleanDirection.counters.sw_records_sw + cleanDirection.counters.sw_records_mixed,
        );
        expect(direction.applicationRecords).toBe(cleanDirection.applicationRecords - mine.length);
        // Plaintext = the untampered replay's minus exactly the tampered records.
        const cleanPlaintext = Buffer.from(cleanDirection.plaintext!);
        const kept: Buffer[] = [];
        let at = 0;
        for (const span of [...mine].sort((a, b) => a.plaintextOffset - b.plaintextOffset)) {
          kept.push(cleanPlaintext.subarray(at, span.plaintextOffset));
          at = span.plaintextOffset + span.length;
        }
        kept.push(cleanPlaintext.subarray(at));
        const expected = Buffer.concat(kept);
        expect(direction.plaintext!.length).toBe(expected.length);
        expect(Buffer.from(direction.plaintext!).equals(expected)).toBe(true);
        // No failed record is among the delivered ones.
        const delivered = new Set(direction.plaintextRecords!.map((r) => r.tcpSeq));
        for (const span of mine) expect(delivered.has(span.tcpSeq)).toBe(false);
      }
      if (nic === 'autonomous') {
        // The tampered server records the NIC was tracking failed its tag check first.
        const server = connection.directions.find((d) => d.role === 'server-to-client')!;
        expect(server.counters.rx_tls_err).toBeGreaterThan(0);
      }
    });
  });
});
