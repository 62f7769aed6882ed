/**
 * The software decryption path against tshark, the oracle named in
 * ../shared/tls-traces/MANIFEST.md: for every TCP stream of each trace,
 * the application data we decrypt must equal, byte for byte and per
 * direction, what `tshark -z follow,tls,raw,N` prints.
 *
 * The traces are read in place (never copied into the repo). Without them or
 * without tshark the suite prints a skip notice, except under CI=true where
 * that is a failure.
 */
import { describe, test, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCapture } from '../../src/pcap/index.js';
import { keyLogFromCaptureSecrets, mergeKeyLogs, parseKeyLog } from '../../src/tls-offload/keylog.js';
import { decryptCapture, type TlsSession } from '../../src/tls-offload/software-decrypt.js';
import { endpointName } from '../../src/tls-offload/tcp-flows.js';
import {
  CASES,
  TRACES,
  canRunOracle as canRun,
  oracleMissing as missing,
  tlsStreams,
  tsharkFollow,
  type TraceCase,
} from '../support/tshark-oracle.js';

function decryptTrace(trace: TraceCase) {
  const capture = readCapture(readFileSync(join(TRACES, trace.capture)), { file: trace.capture });
  const logs = [keyLogFromCaptureSecrets(capture.secrets, trace.capture)];
  if (trace.keyLog) logs.push(parseKeyLog(readFileSync(join(TRACES, trace.keyLog), 'utf8'), trace.keyLog));
  const keyLog = mergeKeyLogs(logs);
  expect(keyLog.warnings).toEqual([]);
  return decryptCapture(capture, trace.psk ? { keyLog, psk: Buffer.from(trace.psk, 'hex') } : { keyLog });
}

function sessionFor(sessions: TlsSession[], node0: string): { session: TlsSession; node0IsClient: boolean } {
  for (const session of sessions) {
    if (endpointName(session.client.source) === node0) return { session, node0IsClient: true };
    if (endpointName(session.server.source) === node0) return { session, node0IsClient: false };
  }
  throw new Error(`no decrypted session has endpoint ${node0}`);
}

describe('software decryption matches tshark byte for byte', () => {
  if (!canRun) {
    test(`needs ${missing}`, () => {
      if (process.env['CI'] === 'true') throw new Error(`CI=true but ${missing} is missing`);
      console.warn(`SKIPPED decrypt-vs-tshark: ${missing} not available`);
    });
    return;
  }

  test.each(CASES)('$capture', (trace) => {
    const result = decryptTrace(trace);
    expect(result.problems.map((p) => p.message)).toEqual([]);
    for (const session of result.sessions) {
      expect(session.clientToServer.authFailures).toEqual([]);
      expect(session.serverToClient.authFailures).toEqual([]);
      expect(session.clientToServer.trailingBytes).toBe(0);
      expect(session.serverToClient.trailingBytes).toBe(0);
      if (trace.serverRecords !== undefined) expect(session.serverToClient.applicationRecords).toBe(trace.serverRecords);
    }
    const streams = tlsStreams(trace);
    expect(streams.length).toBe(result.sessions.length);
    for (const stream of streams) {
      const followed = tsharkFollow(trace, stream);
      const { session, node0IsClient } = sessionFor(result.sessions, followed.node0);
      const [ours0, ours1] = node0IsClient
        ? [session.clientToServer, session.serverToClient]
        : [session.serverToClient, session.clientToServer];
      expect(followed.node0Bytes.length + followed.node1Bytes.length).toBeGreaterThan(0);
      // Compare lengths first for a readable failure, then the bytes.
      expect(ours0.applicationData.length).toBe(followed.node0Bytes.length);
      expect(ours1.applicationData.length).toBe(followed.node1Bytes.length);
      expect(ours0.applicationData.equals(followed.node0Bytes)).toBe(true);
      expect(ours1.applicationData.equals(followed.node1Bytes)).toBe(true);
    }
  }, 120_000);

  test('a wrong secret fails every tag (NC7005) and yields no plaintext', () => {
    const capture = readCapture(readFileSync(join(TRACES, 'public/tls13-rfc8446.pcap')));
    const text = readFileSync(join(TRACES, 'public/tls13-rfc8446.keys'), 'utf8');
    // Flip the last hex digit of every server application secret.
    const broken = text.replace(/^(SERVER_TRAFFIC_SECRET_0 \S+ \S*)(\S)$/gm, (_m, head: string, last: string) => head + (last === '0' ? '1' : '0'));
    const result = decryptCapture(capture, { keyLog: parseKeyLog(broken) });
    expect(result.sessions.length).toBe(2);
    for (const session of result.sessions) {
      expect(session.serverToClient.applicationData.length).toBe(0);
      expect(session.serverToClient.authFailures.length).toBeGreaterThan(0);
      expect(session.serverToClient.authFailures.every((d) => d.code === 'NC7005')).toBe(true);
      expect(session.clientToServer.authFailures).toEqual([]);
    }
  });

  test('a capture without its key log is reported as keyless (NC7004)', () => {
    const capture = readCapture(readFileSync(join(TRACES, 't12-aes128gcm-clean.pcap')));
    const result = decryptCapture(capture, { keyLog: parseKeyLog('') });
    expect(result.sessions).toEqual([]);
    expect(result.problems.map((p) => p.code)).toEqual(['NC7004']);
  });
});
