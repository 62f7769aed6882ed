/**
 * The TLS oracle named in ../shared/tls-traces/MANIFEST.md: what tshark 4.0
 * decrypts for each TCP stream of a shared trace (`-z follow,tls,raw,N`),
 * plus the list of shared traces with keys. Used by the software decryption
 * test (decrypt-vs-tshark) and the NIC replay tests.
 *
 * The traces are read in place (never copied into the repo). Without them or
 * without tshark a suite prints a skip notice, except under CI=true where
 * that is a failure (`skipUnlessOracle`).
 */
import { test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCapture, type Capture } from '../../src/pcap/index.js';
import { keyLogFromCaptureSecrets, mergeKeyLogs, parseKeyLog, type KeyLog } from '../../src/tls-offload/keylog.js';

import { CASES, TRACES, generatedCases, tracePath, type TraceCase } from '../../tools/shared-tls-traces.js';

export { CASES, TRACES, generatedCases, tracePath, type TraceCase };

function tsharkAvailable(): boolean {
  return spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0;
}

const haveTraces = existsSync(join(TRACES, 'MANIFEST.md'));
const haveTshark = tsharkAvailable();
export const canRunOracle = haveTraces && haveTshark;
export const oracleMissing = [!haveTraces && `traces in ${TRACES}`, !haveTshark && 'tshark'].filter(Boolean).join(' and ');

/** Registers the test that stands in for a suite that cannot run: a skip notice, or a failure under CI=true. */
export function skipUnlessOracle(suite: string): void {
  test(`needs ${oracleMissing}`, () => {
    if (process.env['CI'] === 'true') throw new Error(`CI=true but ${oracleMissing} is missing`);
    console.warn(`SKIPPED ${suite}: ${oracleMissing} not available`);
  });
}

export function tshark(args: string[]): string {
  const result = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`tshark ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

function keyLogOptions(trace: TraceCase): string[] {
  if (trace.psk) return ['-o', `tls.psk:${trace.psk}`];
  return trace.keyLog ? ['-o', `tls.keylog_file:${tracePath(trace, trace.keyLog)}`] : [];
}

export interface FollowedStream {
  /** `address:port` of node 0. */
  node0: string;
  node0Bytes: Buffer;
  node1Bytes: Buffer;
}

const followCache = new Map<string, FollowedStream>();

/** The oracle command of the manifest, for one stream (memoised per process). */
export function tsharkFollow(trace: TraceCase, stream: number): FollowedStream {
  const key = `${tracePath(trace, trace.capture)}#${stream}`;
  const cached = followCache.get(key);
  if (cached) return cached;
  const output = tshark([
    '-n', '-r', tracePath(trace, trace.capture),
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
  const followed = { node0: node0Line.slice('Node 0: '.length).trim(), node0Bytes: Buffer.concat(node0), node1Bytes: Buffer.concat(node1) };
  followCache.set(key, followed);
  return followed;
}

const streamsCache = new Map<string, number[]>();

/** tcp.stream numbers of the packets tshark dissects as TLS (memoised per process). */
export function tlsStreams(trace: TraceCase): number[] {
  const cached = streamsCache.get(tracePath(trace, trace.capture));
  if (cached) return cached;
  const output = tshark(['-n', '-r', tracePath(trace, trace.capture), ...keyLogOptions(trace), '-T', 'fields', '-e', 'tcp.stream', '-Y', 'tls']);
  const streams = [...new Set(output.split('\n').filter((l) => l.trim() !== '').map(Number))].sort((a, b) => a - b);
  streamsCache.set(tracePath(trace, trace.capture), streams);
  return streams;
}

/** Read a trace and its key log (file and pcapng DSB merged). */
export function loadTrace(trace: TraceCase): { capture: Capture; keyLog: KeyLog; psk?: Buffer } {
  const capture = readCapture(readFileSync(tracePath(trace, trace.capture)), { file: trace.capture });
  const logs = [keyLogFromCaptureSecrets(capture.secrets, trace.capture)];
  if (trace.keyLog) logs.push(parseKeyLog(readFileSync(tracePath(trace, trace.keyLog), 'utf8'), trace.keyLog));
  const keyLog = mergeKeyLogs(logs);
  return trace.psk ? { capture, keyLog, psk: Buffer.from(trace.psk, 'hex') } : { capture, keyLog };
}
