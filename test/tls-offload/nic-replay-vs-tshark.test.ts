/**
 * `replayCapture` on every shared trace with keys, in every NIC mode, against
 * the oracle of ../shared/tls-traces/MANIFEST.md: per TCP stream and
 * direction the application data equals what `tshark -z follow,tls,raw,N`
 * prints, byte for byte, and every record's tag was verified (by the NIC or
 * by software). The counters must be consistent (one outcome per data
 * packet), clean traces must be decrypted by the NIC wherever it can, and on
 * the loss and reorder traces the autonomous NIC must lose sync, resync, and
 * beat the naive one.
 *
 * Without the traces or tshark the suite prints a skip notice, except under
 * CI=true where that is a failure.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCipheriv } from 'node:crypto';
import { ethernetFrame, ipv4Address, ipv4Packet, ipv6Address, ipv6Packet, macAddress, readCapture, tcpSegment, TCP_FLAGS, writePcap, type Capture } from '../../src/pcap/index.js';
import { parseKeyLog, type KeyLog } from '../../src/tls-offload/keylog.js';
import { transmitInputFromSession, transmitSide, TX_COUNTERS } from '../../src/tls-offload/nic-tx-model.js';
import { CIPHER_SUITES, tls12AdditionalData, tls12TrafficKeys } from '../../src/tls-offload/key-schedule.js';
import { decryptCapture, type CaptureDecryption } from '../../src/tls-offload/software-decrypt.js';
import { captureConnections, replayCapture, replayCaptureFile } from '../../src/tls-offload/tls-replay.js';
import { tcpConnections, type TcpConnection } from '../../src/tls-offload/tcp-flows.js';
import { RX_OUTCOME_COUNTERS, type DirectionReport, type NicMode, type ReplayReport } from '../../src/tls-offload/replay-types.js';
import { CASES, TRACES, canRunOracle, generatedCases, loadTrace, skipUnlessOracle, tlsStreams, tracePath, tsharkFollow } from '../support/tshark-oracle.js';

const MODES: NicMode[] = ['autonomous', 'naive', 'none'];

function outcomes(direction: DirectionReport): number {
  return RX_OUTCOME_COUNTERS.reduce((sum, name) => sum + direction.counters[name], 0);
}

/** captureConnections (the replay's fast demultiplexer) gives exactly tcp-flows' tcpConnections. */
function expectSameConnections(capture: Capture): void {
  const shape = (connections: TcpConnection[]) =>
    connections.map((c) => ({
      name: c.name,
      firstSentSyn: c.firstSentSyn,
      directions: [c.first, c.second].map((d) => ({
        source: d.source,
        destination: d.destination,
        segments: d.segments.map((s) => [s.packetNumber, s.timestampNs, s.seq, s.ack, s.flags, s.payload.length]),
      })),
    }));
  const ours = captureConnections(capture);
  const reference = tcpConnections(capture);
  expect(shape(ours)).toEqual(shape(reference));
  ours.forEach((c, i) => {
    for (const side of ['first', 'second'] as const) {
      c[side].segments.forEach((s, k) => {
        if (!Buffer.from(s.payload).equals(reference[i]![side].segments[k]!.payload)) throw new Error(`payload of segment ${k} of ${c.name} differs`);
      });
    }
  });
}

function serverToClient(report: ReplayReport): DirectionReport[] {
  return report.connections.flatMap((c) => c.directions.filter((d) => d.role === 'server-to-client'));
}

describe('NIC replay matches tshark in every mode', () => {
  if (!canRunOracle) {
    skipUnlessOracle('nic-replay-vs-tshark');
    return;
  }

  // The shared traces, and the project's own (duplication, AES-256, several connections) that .ci/run generates.
  const generated = generatedCases();
  if (process.env['CI'] === 'true') {
    test('CI generated the project\'s own captures (npm run tls:traces:ci)', () => expect(generated.length).toBeGreaterThanOrEqual(8));
  } else if (generated.length === 0) {
    console.log('nic-replay-vs-tshark: no generated captures in build/tls-traces (npm run tls:traces:ci makes them, as root); the shared traces only');
  }
  const ALL = [...CASES, ...generated];

  describe.each(ALL)('$capture', (trace) => {
    const reports = new Map<NicMode, ReplayReport>();
    let software: CaptureDecryption;
    let secrets: { keyLog: KeyLog; psk?: Uint8Array };

    beforeAll(() => {
      const { capture, keyLog, psk } = loadTrace(trace);
      secrets = psk ? { keyLog, psk } : { keyLog };
      software = decryptCapture(capture, secrets);
      for (const nic of MODES) reports.set(nic, replayCapture(capture, { nic, keyLog, keepPlaintext: true, ...(psk ? { psk } : {}) }));
    }, 120_000);

    test.each(MODES)('%s: plaintext per stream and direction equals tshark, every tag verified', (nic) => {
      const report = reports.get(nic)!;
      expect(report.nic).toBe(nic);
      expect(report.truncation).toBeUndefined();
      const streams = tlsStreams(trace);
      const decrypted = report.connections.filter((c) => c.status === 'decrypted');
      expect(decrypted.map((c) => c.stream)).toEqual(streams);
      for (const stream of streams) {
        const followed = tsharkFollow(trace, stream);
        const connection = report.connections.find((c) => c.stream === stream)!;
        expect(connection.problems.map((p) => `${p.code} ${p.message}`)).toEqual([]);
        expect([connection.client, connection.server]).toContain(followed.node0);
        const node0Role = followed.node0 === connection.client ? 'client-to-server' : 'server-to-client';
        const node0 = connection.directions.find((d) => d.role === node0Role)!;
        const node1 = connection.directions.find((d) => d.role !== node0Role)!;
        expect(followed.node0Bytes.length + followed.node1Bytes.length).toBeGreaterThan(0);
        expect(node0.plaintext!.length).toBe(followed.node0Bytes.length);
        expect(node1.plaintext!.length).toBe(followed.node1Bytes.length);
        expect(Buffer.from(node0.plaintext!).equals(followed.node0Bytes)).toBe(true);
        expect(Buffer.from(node1.plaintext!).equals(followed.node1Bytes)).toBe(true);
        expect(node0.applicationBytes).toBe(followed.node0Bytes.length);
      }
      // Every protected record completed (NIC, software or mixed) with its tag verified:
      // as many as the software path opens, no failure anywhere.
      for (const connection of decrypted) {
        const session = software.sessions.find((s) => s.connection.includes(connection.client) && s.connection.includes(connection.server))!;
        for (const direction of connection.directions) {
          const reference = direction.role === 'client-to-server' ? session.clientToServer : session.serverToClient;
          const c = direction.counters;
          expect(c.sw_records_hw + c.sw_records_sw + c.sw_records_mixed).toBe(reference.records.length);
          expect(c.sw_auth_fail).toBe(0);
          expect(c.rx_tls_err).toBe(0);
          expect(direction.authFailures).toEqual([]);
          expect(direction.applicationRecords).toBe(reference.applicationRecords);
          if (trace.serverRecords !== undefined && direction.role === 'server-to-client') {
            expect(direction.applicationRecords).toBe(trace.serverRecords);
          }
        }
      }
    });

    test.each(MODES)('%s: counters are consistent', (nic) => {
      const report = reports.get(nic)!;
      let payload = 0;
      for (const connection of report.connections.filter((c) => c.status !== 'not-tls')) {
        for (const direction of connection.directions) {
          const c = direction.counters;
          expect(outcomes(direction)).toBe(direction.dataPackets);
          expect(c.rx_tls_decrypted_bytes).toBeLessThanOrEqual(direction.payloadBytes);
          expect(direction.offloadRatio).toBeCloseTo(direction.payloadBytes ? c.rx_tls_decrypted_bytes / direction.payloadBytes : 0, 12);
          expect(c.rx_tls_resync_req_start).toBe(c.rx_tls_resync_req_pkt);
          expect(c.rx_tls_resync_res_ok + c.rx_tls_resync_res_skip).toBeLessThanOrEqual(c.rx_tls_resync_req_start);
          expect(c.rx_tls_resync_req_end).toBeLessThanOrEqual(c.rx_tls_resync_req_start);
          expect(direction.lossToResume.length).toBe(c.rx_tls_resync_lost);
          // Spans tile the direction's stream from 0.
          direction.spans.forEach((span, i) => {
            expect(span.end).toBeGreaterThan(span.start);
            expect(span.start).toBe(i === 0 ? 0 : direction.spans[i - 1]!.end);
          });
          if (nic === 'none') {
            expect(c.rx_tls_no_offload).toBe(direction.dataPackets);
            expect(c.sw_records_hw + c.sw_records_mixed).toBe(0);
            expect(direction.notOffloaded).toBeDefined();
          }
          if (nic === 'naive') {
            expect(c.rx_tls_resync_req_start + c.rx_tls_searching_pass + c.rx_tls_speculative_pass + c.rx_tls_ooo_keep + c.rx_tls_ooo_retrans).toBe(0);
            expect(c.rx_tls_resync_lost).toBeLessThanOrEqual(1);
          }
          if (nic === 'autonomous' && !trace.impaired) {
            // Clean: the NIC decrypts every packet after offload starts (at most the one straddling the start is partial).
            expect(c.rx_tls_resync_lost).toBe(0);
            expect(c.rx_tls_pass_partial).toBeLessThanOrEqual(1);
            // Retransmissions and duplicates are out of sequence (passed untouched) but never lose the boundary.
            expect(c.rx_tls_ooo_retrans).toBeLessThanOrEqual(trace.retransmissions ?? 0);
            expect(c.rx_tls_decrypted_packets + c.rx_tls_pass_partial + c.rx_tls_no_offload + c.rx_tls_ooo_retrans).toBe(direction.dataPackets);
            expect(c.sw_records_mixed).toBe(0);
          }
          payload += direction.payloadBytes;
        }
      }
      const totalDecrypted = report.connections.flatMap((c) => c.directions).reduce((n, d) => n + d.counters.rx_tls_decrypted_bytes, 0);
      expect(report.totals.rx_tls_decrypted_bytes).toBe(totalDecrypted);
      expect(report.offloadRatio).toBeCloseTo(payload ? totalDecrypted / payload : 0, 12);
    });

    test.each(MODES)('%s: transmit counters equal the transmit model run on the software decryption, which re-encrypts every byte', (nic) => {
      const report = reports.get(nic)!;
      let encrypted = 0;
      for (const connection of report.connections.filter((c) => c.status === 'decrypted')) {
        const session = software.sessions.find((s) => s.connection.includes(connection.client) && s.connection.includes(connection.server))!;
        for (const direction of connection.directions) {
          const tx = transmitInputFromSession(session, direction.role === 'server-to-client' ? 'server' : 'client', secrets);
          expect(tx).toBeDefined();
          const reference = transmitSide(tx!);
          expect(reference.mismatches).toBe(0);
          for (const name of TX_COUNTERS) expect([name, direction.counters[name]]).toEqual([name, reference.counters[name]]);
          encrypted += direction.counters.tx_tls_encrypted_packets;
        }
      }
      expect(encrypted).toBeGreaterThan(0);
    });

    if (trace.impaired && trace.root !== undefined) {
      // A generated capture's losses need not cut a record boundary (the NIC keeps sync across a hole when it
      // knows where the next record starts): only that the autonomous NIC does no worse than the naive one.
      test('autonomous keeps or regains sync, never worse than naive', () => {
        const autonomous = reports.get('autonomous')!;
        const naive = reports.get('naive')!;
        expect(autonomous.offloadRatio).toBeGreaterThanOrEqual(naive.offloadRatio);
        expect(autonomous.totals.rx_tls_resync_lost + autonomous.totals.rx_tls_ooo_keep).toBeGreaterThan(0);
        expect(autonomous.totals.rx_tls_resync_res_ok).toBeLessThanOrEqual(autonomous.totals.rx_tls_resync_req_start);
      });
    }
    if (trace.impaired && trace.root === undefined) {
      test('autonomous loses sync, resyncs and beats naive', () => {
        const autonomous = serverToClient(reports.get('autonomous')!);
        const naive = serverToClient(reports.get('naive')!);
        for (const [i, direction] of autonomous.entries()) {
          const c = direction.counters;
          expect(c.rx_tls_resync_lost).toBeGreaterThan(0);
          expect(c.rx_tls_resync_res_ok).toBeGreaterThan(0);
          expect(c.rx_tls_resync_req_end).toBeGreaterThan(0);
          expect(c.sw_records_mixed).toBeGreaterThan(0);
          expect(c.sw_reencrypted_bytes).toBeGreaterThan(0);
          expect(direction.lossToResume.filter((n) => n !== undefined).length).toBeGreaterThan(0);
          expect(naive[i]!.offloadRatio).toBeLessThan(direction.offloadRatio);
        }
        expect(reports.get('naive')!.offloadRatio).toBeLessThan(reports.get('autonomous')!.offloadRatio);
      });
    }
  });

  test.each(ALL)('$capture read from its file through a 32 KiB window (every packet view recycled) gives the report of the capture in memory', async (trace) => {
    const { capture, keyLog, psk } = loadTrace(trace);
    for (const nic of MODES) {
      const options = { nic, keyLog, keepPlaintext: true, ...(psk ? { psk } : {}) };
      const streamed = new Map<string, Buffer[]>();
      const fromFile = await replayCaptureFile(tracePath(trace, trace.capture), {
        ...options,
        onPlaintext: (stream, role, bytes) => {
          const key = `${stream} ${role}`;
          streamed.set(key, [...(streamed.get(key) ?? []), Buffer.from(bytes)]);
        },
      }, { windowBytes: 32 << 10, betweenSteps: () => new Promise((resolve) => setImmediate(resolve)) });
      const inMemory = replayCapture(capture, options);
      // Plaintext compared with Buffer.equals (jest's deep equality walks typed arrays a byte at a time).
      const plaintexts = (report: ReplayReport): Buffer[] =>
        report.connections.flatMap((c) => c.directions.map((d) => Buffer.from(d.plaintext ?? new Uint8Array(0))));
      const withoutPlaintext = (report: ReplayReport): unknown => ({
        ...report,
        connections: report.connections.map((c) => ({ ...c, directions: c.directions.map(({ plaintext: _p, ...d }) => d) })),
      });
      expect(withoutPlaintext(fromFile.report)).toEqual(withoutPlaintext(inMemory));
      const fileTexts = plaintexts(fromFile.report);
      plaintexts(inMemory).forEach((text, i) => expect(text.equals(fileTexts[i]!)).toBe(true));
      for (const connection of inMemory.connections) {
        for (const direction of connection.directions) {
          if (!direction.plaintext?.length) continue;
          expect(Buffer.concat(streamed.get(`${connection.stream} ${direction.role}`) ?? []).equals(direction.plaintext)).toBe(true);
        }
      }
    }
  }, 120_000);

  test('the replay finds the same TCP connections and segments as tcp-flows on every capture', () => {
    for (const trace of [...CASES, { capture: 'public/retrans-tls.pcap' }]) expectSameConnections(loadTrace(trace).capture);
  });

  test('retrans-tls.pcap (TLS records, no keys) is reported no-keys, its packets not offloaded', () => {
    const capture = readCapture(readFileSync(join(TRACES, 'public/retrans-tls.pcap')));
    for (const nic of MODES) {
      const report = replayCapture(capture, { nic, keyLog: parseKeyLog('') });
      expect(report.connections.length).toBe(1);
      const connection = report.connections[0]!;
      expect(connection.status).toBe('no-keys');
      expect(connection.stream).toBe(0);
      expect(connection.problems.map((p) => p.code)).toEqual(['NC7007']);
      const sending = connection.directions.filter((d) => d.dataPackets > 0);
      expect(sending.length).toBe(1);
      expect(sending[0]!.counters.rx_tls_no_offload).toBe(2);
      expect(sending[0]!.notOffloaded).toMatch(/no keys/);
      expect(report.totals.rx_tls_no_offload).toBe(2);
      expect(report.totals.rx_tls_decrypted_packets).toBe(0);
    }
  });

  test('a capture without its key log: the connection is no-keys (NC7004) and nothing is decrypted', () => {
    const capture = readCapture(readFileSync(join(TRACES, 't12-aes128gcm-clean.pcap')));
    const report = replayCapture(capture, { nic: 'autonomous', keyLog: parseKeyLog('') });
    expect(report.connections.map((c) => [c.status, c.problems.map((p) => p.code)])).toEqual([['no-keys', ['NC7004']]]);
    expect(report.connections[0]!.cipherSuite).toBe('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
    expect(report.totals.rx_tls_no_offload).toBe(report.connections[0]!.directions.reduce((n, d) => n + d.dataPackets, 0));
    expect(report.offloadRatio).toBe(0);
  });

  test('a capture cut short: everything before the cut is replayed and NC2002 is reported', () => {
    const bytes = readFileSync(join(TRACES, 't13-aes128gcm-clean.pcap'));
    const cut = readCapture(bytes.subarray(0, Math.floor(bytes.length / 2) + 7));
    const { keyLog } = loadTrace(CASES.find((c) => c.capture === 't13-aes128gcm-clean.pcap')!);
    const report = replayCapture(cut, { nic: 'autonomous', keyLog, keepPlaintext: true });
    expect(report.truncation?.code).toBe('NC2002');
    expect(report.packets).toBe(cut.packets.length);
    const server = report.connections[0]!.directions.find((d) => d.role === 'server-to-client')!;
    expect(server.counters.sw_auth_fail).toBe(0);
    expect(server.applicationRecords).toBeGreaterThan(100);
    const full = tsharkFollow(CASES.find((c) => c.capture === 't13-aes128gcm-clean.pcap')!, 0);
    const expected = report.connections[0]!.client === full.node0 ? full.node1Bytes : full.node0Bytes;
    expect(Buffer.from(server.plaintext!).equals(expected.subarray(0, server.plaintext!.length))).toBe(true);
  });
});

// ---------------------------------------------------------------------------
// Synthetic captures (no tshark needed): what the shared traces do not have.

const CLIENT_IP = ipv4Address('10.1.0.2');
const SERVER_IP = ipv4Address('10.1.0.1');
const MAC = macAddress('02:00:00:00:00:01');

function frame(fromClient: boolean, clientPort: number, seq: number, flags: number, payload: Uint8Array): Uint8Array {
  const [src, dst] = fromClient ? [CLIENT_IP, SERVER_IP] : [SERVER_IP, CLIENT_IP];
  const tcp = { srcPort: fromClient ? clientPort : 443, dstPort: fromClient ? 443 : clientPort, seq: seq >>> 0, ack: 0, flags };
  return ethernetFrame({ dst: MAC, src: MAC, etherType: 0x0800 }, ipv4Packet({ src, dst, protocol: 6 }, tcpSegment(src, dst, tcp, payload)));
}

function handshakeRecord(type: number, body: Buffer): Buffer {
  const message = Buffer.concat([Buffer.of(type, 0, body.length >> 8, body.length & 0xff), body]);
  return Buffer.concat([Buffer.of(22, 3, 3, message.length >> 8, message.length & 0xff), message]);
}

interface SyntheticSession {
  frames: Uint8Array[];
  keyLog: string;
  serverIsn: number;
  serverStream: Buffer;
  serverData: Buffer;
  clientData: Buffer;
}

/**
 * A TLS 1.2 connection with the given suite: SYN, SYN-ACK, the hellos,
 * ChangeCipherSpec and Finished each way, a request, and `records` server
 * records of 2,500 to 3,500 bytes cut into 1,000-byte segments; the server's
 * sequence numbers wrap. `reorder` moves one server segment that many packets later.
 */
function syntheticSession(suite: number, clientPort: number, records: number, reorder?: { segmentHolding: (stream: Buffer, headers: number[]) => number; later: number }): SyntheticSession {
  const clientRandom = Buffer.alloc(32, clientPort & 0xff);
  const serverRandom = Buffer.alloc(32, 0x5e);
  const master = Buffer.alloc(48, 0x4d);
  const clientHello = handshakeRecord(1, Buffer.concat([Buffer.of(3, 3), clientRandom, Buffer.of(0, 0, 2, suite >> 8, suite & 0xff, 1, 0)]));
  const serverHello = handshakeRecord(2, Buffer.concat([Buffer.of(3, 3), serverRandom, Buffer.of(0, suite >> 8, suite & 0xff, 0)]));
  const ccs = Buffer.of(20, 3, 3, 0, 1, 1);
  const known = CIPHER_SUITES.get(suite);
  const keys = known ? tls12TrafficKeys(known, master, clientRandom, serverRandom) : undefined;
  const seal = (side: 'client' | 'server', sn: number, type: number, plaintext: Buffer): Buffer => {
    const explicit = Buffer.alloc(8);
    explicit.writeUInt32BE(sn * 3 + 1, 4);
    let body: Buffer;
    if (keys) {
      const k = keys[side];
      const cipher = createCipheriv('aes-128-gcm', k.key, Buffer.concat([k.iv, explicit]));
      cipher.setAAD(tls12AdditionalData(BigInt(sn), type, 0x0303, plaintext.length));
      body = Buffer.concat([explicit, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    } else {
      body = Buffer.concat([explicit, Buffer.alloc(plaintext.length + 16, 0x77)]); // a suite nicoff does not decrypt
    }
    return Buffer.concat([Buffer.of(type, 3, 3, body.length >> 8, body.length & 0xff), body]);
  };
  const clientData = Buffer.from('GET /synthetic HTTP/1.1\r\n\r\n');
  const clientStream = Buffer.concat([clientHello, ccs, seal('client', 0, 22, Buffer.alloc(16, 0x14)), seal('client', 1, 23, clientData)]);
  const serverParts = [serverHello, ccs, seal('server', 0, 22, Buffer.alloc(16, 0x14))];
  const data: Buffer[] = [];
  const headers: number[] = [];
  let offset = serverParts.reduce((n, b) => n + b.length, 0);
  for (let i = 0; i < records; i++) {
    const plaintext = Buffer.alloc(2500 + ((i * 397) % 1000), 0);
    for (let k = 0; k < plaintext.length; k++) plaintext[k] = (k * 7 + i) & 0xff;
    data.push(plaintext);
    const record = seal('server', i + 1, 23, plaintext);
    headers.push(offset);
    offset += record.length;
    serverParts.push(record);
  }
  const serverStream = Buffer.concat(serverParts);
  const clientIsn = 1000;
  const serverIsn = 2 ** 32 - 9000;
  const frames = [frame(true, clientPort, clientIsn, TCP_FLAGS.SYN, new Uint8Array(0)), frame(false, clientPort, serverIsn, TCP_FLAGS.SYN | TCP_FLAGS.ACK, new Uint8Array(0))];
  frames.push(frame(true, clientPort, clientIsn + 1, TCP_FLAGS.ACK | TCP_FLAGS.PSH, clientStream));
  const server: { at: number; bytes: Buffer }[] = [];
  for (let at = 0; at < serverStream.length; at += 1000) server.push({ at, bytes: serverStream.subarray(at, at + 1000) });
  if (reorder) {
    const index = reorder.segmentHolding(serverStream, headers);
    const [moved] = server.splice(index, 1);
    server.splice(index + reorder.later, 0, moved!);
  }
  for (const s of server) frames.push(frame(false, clientPort, serverIsn + 1 + s.at, TCP_FLAGS.ACK, s.bytes));
  return {
    frames,
    keyLog: `CLIENT_RANDOM ${clientRandom.toString('hex')} ${master.toString('hex')}\n`,
    serverIsn,
    serverStream,
    serverData: Buffer.concat(data),
    clientData,
  };
}

describe('synthetic captures', () => {
  test('IPv6, VLAN-tagged and IPv4 frames, both directions, interleaved: the same connections as tcp-flows', () => {
    const v6a = ipv6Address('2001:db8::1');
    const v6b = ipv6Address('2001:db8::2');
    const v6 = (fromA: boolean, seq: number, payload: string): Uint8Array => {
      const [src, dst] = fromA ? [v6a, v6b] : [v6b, v6a];
      const tcp = { srcPort: fromA ? 5000 : 443, dstPort: fromA ? 443 : 5000, seq, flags: TCP_FLAGS.ACK };
      return ethernetFrame({ dst: MAC, src: MAC, etherType: 0x86dd }, ipv6Packet({ src, dst, nextHeader: 6 }, tcpSegment(src, dst, tcp, Buffer.from(payload))));
    };
    const vlan = (seq: number): Uint8Array => {
      const tcp = { srcPort: 7000, dstPort: 443, seq, flags: TCP_FLAGS.ACK };
      return ethernetFrame({ dst: MAC, src: MAC, etherType: 0x0800, vlans: [{ vid: 7 }] }, ipv4Packet({ src: CLIENT_IP, dst: SERVER_IP, protocol: 6 }, tcpSegment(CLIENT_IP, SERVER_IP, tcp, Buffer.from('v'))));
    };
    const frames = [v6(true, 1, 'a'), frame(true, 6000, 9, TCP_FLAGS.SYN, new Uint8Array(0)), vlan(3), v6(false, 2, 'b'), frame(false, 6000, 11, TCP_FLAGS.ACK, Buffer.from('x')), vlan(4), frame(true, 6000, 10, TCP_FLAGS.ACK, Buffer.from('y'))];
    const capture = readCapture(writePcap(frames.map((data) => ({ data })), { linkType: 1 }));
    expectSameConnections(capture);
    expect(captureConnections(capture).map((c) => c.name)).toEqual([
      '[2001:db8:0:0:0:0:0:1]:5000<->[2001:db8:0:0:0:0:0:2]:443',
      '10.1.0.2:6000<->10.1.0.1:443',
      '10.1.0.2:7000<->10.1.0.1:443',
    ]);
  });

  test('sequence numbers that wrap, a lost header: resync end to end, records reported by their wrapped TCP seq', () => {
    const session = syntheticSession(0xc02f, 40001, 14, { segmentHolding: (_stream, headers) => Math.floor((headers[4]! + 2) / 1000), later: 3 });
    const capture = readCapture(writePcap(session.frames.map((data) => ({ data })), { linkType: 1 }));
    for (const nic of MODES) {
      const report = replayCapture(capture, { nic, keyLog: parseKeyLog(session.keyLog), keepPlaintext: true });
      const connection = report.connections[0]!;
      expect(connection.status).toBe('decrypted');
      expect(connection.problems).toEqual([]);
      const server = connection.directions.find((d) => d.role === 'server-to-client')!;
      const client = connection.directions.find((d) => d.role === 'client-to-server')!;
      expect(Buffer.from(server.plaintext!).equals(session.serverData)).toBe(true);
      expect(Buffer.from(client.plaintext!).equals(session.clientData)).toBe(true);
      expect(outcomes(server)).toBe(server.dataPackets);
      expect(server.counters.sw_auth_fail + server.counters.rx_tls_err).toBe(0);
      for (const record of server.plaintextRecords!) expect(record.tcpSeq).toBe((session.serverIsn + 1 + record.offset) % 2 ** 32);
      expect(server.plaintextRecords!.some((r) => r.tcpSeq < 10_000)).toBe(true); // past the wrap
      if (nic === 'autonomous') {
        expect(server.events.map((e) => e.kind)).toEqual(['loss', 'resync-request', 'confirm']);
        expect(server.counters.rx_tls_resync_res_ok).toBe(1);
        expect(server.offloadRatio).toBeGreaterThan(0.5);
      }
    }
  });

  test('an unsupported suite is left alone (unsupported-cipher), a plain TCP connection is not-tls', () => {
    const session = syntheticSession(0xcca8, 40002, 3); // ECDHE-RSA-CHACHA20-POLY1305
    const plain = [frame(true, 40003, 77, TCP_FLAGS.SYN, new Uint8Array(0)), frame(true, 40003, 78, TCP_FLAGS.ACK | TCP_FLAGS.PSH, Buffer.from('GET / HTTP/1.0\r\n\r\n'))];
    const capture = readCapture(writePcap([...session.frames, ...plain].map((data) => ({ data })), { linkType: 1 }));
    expectSameConnections(capture);
    const report = replayCapture(capture, { nic: 'autonomous', keyLog: parseKeyLog(session.keyLog) });
    expect(report.connections.map((c) => [c.stream, c.status])).toEqual([
      [0, 'unsupported-cipher'],
      [1, 'not-tls'],
    ]);
    const unsupported = report.connections[0]!;
    expect(unsupported.problems.map((p) => p.code)).toEqual(['NC7003']);
    for (const direction of unsupported.directions) {
      expect(direction.counters.rx_tls_no_offload).toBe(direction.dataPackets);
      expect(direction.notOffloaded).toMatch(/unsupported cipher suite/);
    }
    expect(report.connections[1]!.directions).toEqual([]);
    expect(report.totals.rx_tls_no_offload).toBe(unsupported.directions.reduce((n, d) => n + d.dataPackets, 0));
  });
});
