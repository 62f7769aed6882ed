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
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCapture } from '../../src/pcap/index.js';
import { keyLogFromCaptureSecrets, mergeKeyLogs, parseKeyLog } from '../../src/tls-offload/keylog.js';
import { decryptCapture, type TlsSession } from '../../src/tls-offload/software-decrypt.js';
import { endpointName } from '../../src/tls-offload/tcp-flows.js';

/** Override with NICOFF_TLS_TRACES (for instance to check the skip path). */
// The shared traces sit beside the repository (../shared), as in CI; NICOFF_TLS_TRACES overrides.
const TRACES = process.env['NICOFF_TLS_TRACES'] ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'tls-traces');

interface TraceCase {
  capture: string;
  /** Key log file next to the capture; undefined when the keys are in a pcapng DSB. */
  keyLog?: string;
  /** Server-to-client application records per connection, from the manifest (undefined: not listed there). */
  serverRecords?: number;
  /** Pre-shared key (hex) for plain-PSK captures, passed to tshark as tls.psk. */
  psk?: string;
}

const CASES: TraceCase[] = [
  { capture: 't12-aes128gcm-clean.pcap', keyLog: 't12-aes128gcm-clean.keylog', serverRecords: 405 },
  { capture: 't12-aes128gcm-ossl-clean.pcap', keyLog: 't12-aes128gcm-ossl-clean.keylog', serverRecords: 245 },
  { capture: 't13-aes128gcm-clean.pcap', keyLog: 't13-aes128gcm-clean.keylog', serverRecords: 409 },
  { capture: 't12-aes128gcm-reorder.pcap', keyLog: 't12-aes128gcm-reorder.keylog', serverRecords: 401 },
  { capture: 't13-aes128gcm-loss.pcap', keyLog: 't13-aes128gcm-loss.keylog', serverRecords: 409 },
  { capture: 'public/tls13-rfc8446.pcap', keyLog: 'public/tls13-rfc8446.keys' },
  { capture: 'public/tls12-dsb.pcapng' },
  { capture: 'public/tls12-aes256gcm.pcap', psk: 'ca19e028a8a372ad2d325f950fcaceed' },
];

function tsharkAvailable(): boolean {
  return spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0;
}

const haveTraces = existsSync(join(TRACES, 'MANIFEST.md'));
const haveTshark = tsharkAvailable();
const canRun = haveTraces && haveTshark;
const missing = [!haveTraces && `traces in ${TRACES}`, !haveTshark && 'tshark'].filter(Boolean).join(' and ');

function tshark(args: string[]): string {
  const result = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`tshark ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

function keyLogOptions(trace: TraceCase): string[] {
  if (trace.psk) return ['-o', `tls.psk:${trace.psk}`];
  return trace.keyLog ? ['-o', `tls.keylog_file:${join(TRACES, trace.keyLog)}`] : [];
}

interface FollowedStream {
  /** `address:port` of node 0. */
  node0: string;
  node0Bytes: Buffer;
  node1Bytes: Buffer;
}

/** The oracle command of the manifest, for one stream. */
function tsharkFollow(trace: TraceCase, stream: number): FollowedStream {
  const output = tshark([
    '-n', '-r', join(TRACES, trace.capture),
    '-o', 'tcp.reassemble_out_of_order:TRUE',
    '-o', 'tls.desegment_ssl_records:TRUE',
    '-o', 'tls.desegment_ssl_application_data:TRUE',
    ...keyLogOptions(trace),
    '-q', '-z', `follow,tls,raw,${stream}`,
  ]);
  const lines = output.split('\n');
  const node0Line = lines.find((line) => line.startsWith('Node 0: '));
  if (!node0Line) throw new Error(`tshark follow output for stream ${stream} has no "Node 0:" line`);
  const body = lines.slice(lines.findIndex((line) => line.startsWith('Node 1:')) + 1);
  const node0: Buffer[] = [];
  const node1: Buffer[] = [];
  for (const line of body) {
    if (line.startsWith('=====')) break;
    if (line.trim() === '') continue;
    (line.startsWith('\t') ? node1 : node0).push(Buffer.from(line.trim(), 'hex'));
  }
  return { node0: node0Line.slice('Node 0: '.length).trim(), node0Bytes: Buffer.concat(node0), node1Bytes: Buffer.concat(node1) };
}

function tlsStreams(trace: TraceCase): number[] {
  const output = tshark(['-n', '-r', join(TRACES, trace.capture), ...keyLogOptions(trace), '-T', 'fields', '-e', 'tcp.stream', '-Y', 'tls']);
  return [...new Set(output.split('\n').filter((l) => l.trim() !== '').map(Number))].sort((a, b) => a - b);
}

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
