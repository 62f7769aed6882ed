/**
 * `nicoff tls replay` as users run it, on the shared TLS traces
 * (../shared/tls-traces, read in place): the plaintext it writes equals
 * tshark's (the oracle command of the traces' MANIFEST.md), --json parses and
 * agrees with the text summary, --plot writes an SVG with a row per direction
 * and a marker per event, every --nic mode runs; and bad input: a cut
 * capture (exit 2, the cut reported, what came before written), a key log
 * with malformed lines (each reported with its line number, the rest used),
 * a capture without TLS (exit 0 and a note, see tls.ts), an unknown link type
 * (coded error, exit 2), an output directory that is a file (coded error,
 * nothing written), bad options (NC8001).
 *
 * The CLI runs from source through tsx, as test/cli/nfp-image.test.ts does.
 * Without the traces or tshark the trace suites print a skip notice, and
 * fail under CI=true.
 */
import { describe, test, expect, beforeAll } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CASES, TRACES, canRunOracle, skipUnlessOracle, tlsStreams, tsharkFollow, type TraceCase } from '../support/tshark-oracle.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'nicoff-cli-tls-'));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function nicoff(args: string[]): Run {
  const env = { ...process.env };
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  delete env.NICOFF_DEBUG;
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args], { cwd: root, encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectOneCodedLine(r: Run, code: string): void {
  expect(r.status).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^error ${code}[ :]`));
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

const traceCase = (capture: string): TraceCase => CASES.find((c) => c.capture === capture)!;

/** The command line options that give a trace its keys (none for the DSB capture). */
function keyArgs(trace: TraceCase): string[] {
  if (trace.psk) return ['--psk', trace.psk];
  return trace.keyLog ? ['--keylog', join(TRACES, trace.keyLog)] : [];
}

// ------------------------------------------------------------------ JSON and text

interface JsonDirection {
  flow: string;
  role: 'client-to-server' | 'server-to-client';
  counters: Record<string, number>;
  dataPackets: number;
  payloadBytes: number;
  offloadRatio: number;
  applicationRecords: number;
  applicationBytes: number;
  lossToResume: (number | null)[];
  authFailures: unknown[];
  unconfirmedAtEnd: boolean;
  spans: { start: number; end: number; state: string }[];
  events: { offset: number; kind: string }[];
  notOffloaded?: string;
}
interface JsonConnection {
  stream: number;
  client: string;
  server: string;
  status: string;
  directions: JsonDirection[];
  problems: { code: string }[];
}
interface JsonReport {
  ok: boolean;
  nic: string;
  packets: number;
  connections: JsonConnection[];
  totals: Record<string, number>;
  offloadRatio: number;
  truncation?: { code: string };
  warnings: { code: string; location: { source?: { line: number } } }[];
}

function parseJson(r: Run): JsonReport {
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as JsonReport;
}

/**
 * The tables of the text summary: for each connection (by stream) and the
 * total, column heading -> row (counter name, or label when it has none) -> cell.
 */
function parseSummary(text: string): Map<string, Map<string, Map<string, string>>> {
  const tables = new Map<string, Map<string, Map<string, string>>>();
  let current: string | undefined;
  let columns: string[] = [];
  for (const line of text.split('\n')) {
    const stream = line.match(/^stream (\d+) /);
    if (stream) current = stream[1];
    else if (line.startsWith('total over ')) current = 'total';
    if (current === undefined || !line.startsWith('  ')) continue;
    const cells = line.trim().split(/\s{2,}/);
    if (cells[0] === 'counter') {
      columns = cells.slice(1);
      continue;
    }
    if (columns.length === 0 || cells.length !== columns.length + 2) continue;
    const [label, counter, ...values] = cells as [string, string, ...string[]];
    let byColumn = tables.get(current);
    if (!byColumn) tables.set(current, (byColumn = new Map()));
    columns.forEach((column, i) => {
      if (!byColumn!.has(column)) byColumn!.set(column, new Map());
      byColumn!.get(column)!.set(counter === '-' ? label : counter, values[i]!);
    });
  }
  return tables;
}

/** Every counter, and the derived rows, of the text summary equal the JSON's. */
function expectSummaryMatchesJson(text: string, json: JsonReport): void {
  const tables = parseSummary(text);
  const expectColumn = (column: Map<string, string> | undefined, counters: Record<string, number>, figures: { dataPackets: number; payloadBytes: number; offloadRatio: number; applicationBytes: number; applicationRecords: number }) => {
    expect(column).toBeDefined();
    for (const [name, value] of Object.entries(counters)) expect([name, column!.get(name)]).toEqual([name, String(value)]);
    expect(column!.get('data packets (TCP segments)')).toBe(String(figures.dataPackets));
    expect(column!.get('payload bytes')).toBe(String(figures.payloadBytes));
    expect(column!.get('offload ratio (NIC bytes / payload)')).toBe(`${(figures.offloadRatio * 100).toFixed(1)}%`);
    expect(column!.get('application data bytes')).toBe(String(figures.applicationBytes));
    expect(column!.get('application data records')).toBe(String(figures.applicationRecords));
  };
  const tls = json.connections.filter((c) => c.status === 'decrypted');
  expect(tls.length).toBeGreaterThan(0);
  for (const c of tls) {
    for (const d of c.directions) expectColumn(tables.get(String(c.stream))?.get(d.role), d.counters, d);
  }
  const directions = json.connections.filter((c) => c.status !== 'not-tls').flatMap((c) => c.directions);
  const sum = (f: (d: JsonDirection) => number) => directions.reduce((a, d) => a + f(d), 0);
  expectColumn(tables.get('total')?.get('total'), json.totals, {
    dataPackets: sum((d) => d.dataPackets),
    payloadBytes: sum((d) => d.payloadBytes),
    offloadRatio: json.offloadRatio,
    applicationBytes: sum((d) => d.applicationBytes),
    applicationRecords: sum((d) => d.applicationRecords),
  });
  // The totals are the directions added up.
  for (const [name, value] of Object.entries(json.totals)) expect([name, sum((d) => d.counters[name]!)]).toEqual([name, value]);
}

// ------------------------------------------------------------------ plaintext and plot

/** The files --write-plaintext wrote equal tshark's `follow,tls,raw` bytes for every TLS stream. */
function expectPlaintextMatchesTshark(trace: TraceCase, dir: string, json: JsonReport): void {
  const streams = tlsStreams(trace);
  expect(streams.length).toBeGreaterThan(0);
  const decrypted = json.connections.filter((c) => c.status === 'decrypted');
  expect(decrypted.map((c) => c.stream)).toEqual(streams);
  const expectedFiles: string[] = [];
  for (const stream of streams) {
    const followed = tsharkFollow(trace, stream);
    const connection = json.connections.find((c) => c.stream === stream)!;
    const node0IsClient = followed.node0 === connection.client;
    expect(node0IsClient || followed.node0 === connection.server).toBe(true);
    const clientBytes = node0IsClient ? followed.node0Bytes : followed.node1Bytes;
    const serverBytes = node0IsClient ? followed.node1Bytes : followed.node0Bytes;
    const ours = (role: string) => readFileSync(join(dir, `stream-${stream}-${role}.bin`));
    const c2s = ours('client-to-server');
    const s2c = ours('server-to-client');
    expect(c2s.length).toBe(clientBytes.length);
    expect(s2c.length).toBe(serverBytes.length);
    expect(c2s.equals(clientBytes)).toBe(true);
    expect(s2c.equals(serverBytes)).toBe(true);
    expectedFiles.push(`stream-${stream}-client-to-server.bin`, `stream-${stream}-server-to-client.bin`);
  }
  expect(readdirSync(dir).sort()).toEqual(expectedFiles.sort());
}

function xmllintOk(file: string): boolean | undefined {
  const r = spawnSync('xmllint', ['--noout', file], { encoding: 'utf8' });
  if (r.error) return undefined;
  return r.status === 0 && r.stderr === '';
}

/** The SVG has one row per direction and one marker per event, as the JSON report says. */
function expectPlotMatchesJson(file: string, json: JsonReport): void {
  const svg = readFileSync(file, 'utf8');
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  expect(xmllintOk(file) ?? true).toBe(true);
  const directions = json.connections.flatMap((c) => c.directions.map((d) => ({ stream: c.stream, d })));
  const rows = [...svg.matchAll(/<g class="row" data-stream="(\d+)" data-role="([a-z-]+)" data-start="0" data-end="(\d+)"/g)];
  expect(rows.map((m) => [Number(m[1]), m[2]])).toEqual(directions.map(({ stream, d }) => [stream, d.role]));
  expect((svg.match(/<rect class="span /g) ?? []).length).toBe(directions.reduce((a, { d }) => a + d.spans.length, 0));
  expect((svg.match(/<g class="event /g) ?? []).length).toBe(directions.reduce((a, { d }) => a + d.events.length, 0));
  rows.forEach((m, i) => {
    const spans = directions[i]!.d.spans;
    if (spans.length) expect(Number(m[3])).toBeGreaterThanOrEqual(spans[spans.length - 1]!.end);
  });
}

// ------------------------------------------------------------------ the trace suites

const traceDescribe = canRunOracle ? describe : describe.skip;
if (!canRunOracle) {
  describe('nicoff tls replay on the shared traces', () => skipUnlessOracle('tls-replay CLI'));
}

traceDescribe('nicoff tls replay on the shared traces', () => {
  describe.each([
    { capture: 't12-aes128gcm-clean.pcap', impaired: false },
    { capture: 't13-aes128gcm-loss.pcap', impaired: true },
  ])('$capture with its key log', ({ capture, impaired }) => {
    const trace = traceCase(capture);
    const dir = join(tmp, `${capture}-plaintext`);
    const plot = join(tmp, `${capture}.svg`);
    let text: Run;
    let json: JsonReport;
    beforeAll(() => {
      text = nicoff(['tls', 'replay', join(TRACES, capture), ...keyArgs(trace), '--write-plaintext', dir, '--plot', plot]);
      json = parseJson(nicoff(['tls', 'replay', join(TRACES, capture), ...keyArgs(trace), '--json']));
    }, 240_000);

    test('exits 0, summary on stdout, nothing on stderr', () => {
      expect(text.stderr).toBe('');
      expect(text.status).toBe(0);
      expect(text.stdout).toContain(`tls replay of ${join(TRACES, capture)}`);
      expect(text.stdout).toContain(`wrote 2 plaintext files to ${dir}`);
      expect(text.stdout).toContain(`wrote the offload plot to ${plot}`);
      expect(json.ok).toBe(true);
      expect(json.nic).toBe('autonomous');
    });

    test("--write-plaintext writes tshark's plaintext, per stream and direction", () => {
      expectPlaintextMatchesTshark(trace, dir, json);
      const serverToClient = json.connections[0]!.directions.find((d) => d.role === 'server-to-client')!;
      expect(serverToClient.applicationRecords).toBe(trace.serverRecords);
      expect(serverToClient.applicationBytes).toBe(4_000_000);
    });

    test('--json parses and its counters match the text summary', () => {
      expectSummaryMatchesJson(text.stdout, json);
      expect(text.stdout).not.toMatch(/"plaintext"/);
      expect(JSON.stringify(json)).not.toMatch(/plaintext/i);
      for (const d of json.connections[0]!.directions) {
        const outcomes = ['rx_tls_decrypted_packets', 'rx_tls_pass_partial', 'rx_tls_ooo_retrans', 'rx_tls_ooo_keep', 'rx_tls_searching_pass', 'rx_tls_speculative_pass', 'rx_tls_no_offload'];
        expect(outcomes.reduce((a, name) => a + d.counters[name]!, 0)).toBe(d.dataPackets);
      }
    });

    test('the NIC counters say what the trace is', () => {
      const s2c = json.connections[0]!.directions.find((d) => d.role === 'server-to-client')!;
      if (impaired) {
        expect(s2c.counters.rx_tls_resync_lost).toBeGreaterThan(0);
        expect(s2c.counters.rx_tls_resync_req_pkt).toBeGreaterThan(0);
        expect(s2c.counters.rx_tls_resync_res_ok).toBeGreaterThan(0);
        expect(s2c.lossToResume.length).toBe(s2c.counters.rx_tls_resync_lost);
        expect(text.stdout).toMatch(/loss to resumed offload, server-to-client \(bytes\): \d+/);
      } else {
        expect(s2c.counters.rx_tls_resync_lost).toBe(0);
        expect(s2c.offloadRatio).toBeGreaterThan(0.95);
      }
      expect(s2c.counters.sw_auth_fail).toBe(0);
      expect(s2c.counters.rx_tls_err).toBe(0);
    });

    test('--plot writes an SVG with a row per direction and a marker per event', () => {
      expectPlotMatchesJson(plot, json);
    });
  });

  test.each([
    { capture: 'public/tls12-dsb.pcapng', how: 'keys from the pcapng DSB, no --keylog', extra: [] as string[] },
    { capture: 'public/tls12-dsb.pcapng', how: 'DSB keys merged with two --keylog files', extra: ['--keylog', 'public/tls13-rfc8446.keys', '--keylog', 't12-aes128gcm-clean.keylog'] },
    { capture: 'public/tls12-aes256gcm.pcap', how: '--psk', extra: [] },
    { capture: 'public/tls13-rfc8446.pcap', how: '--keylog, 0-RTT', extra: [] },
  ])("$capture ($how): the plaintext is tshark's", ({ capture, extra }) => {
    const trace = traceCase(capture);
    const dir = join(tmp, `${capture.replace('/', '-')}-${extra.length}-plaintext`);
    const extraArgs = extra.map((arg) => (arg.startsWith('--') ? arg : join(TRACES, arg)));
    const r = nicoff(['tls', 'replay', join(TRACES, capture), ...keyArgs(trace), ...extraArgs, '--write-plaintext', dir, '--json']);
    const json = parseJson(r);
    expect(r.status).toBe(0);
    expect(json.ok).toBe(true);
    expectPlaintextMatchesTshark(trace, dir, json);
  });

  test('public/retrans-tls.pcap is reported as keyless, and the command goes on', () => {
    const file = join(TRACES, 'public', 'retrans-tls.pcap');
    const text = nicoff(['tls', 'replay', file]);
    expect(text.status).toBe(0);
    expect(text.stderr).toBe('');
    expect(text.stdout).toMatch(/^stream 0 .*: no keys$/m);
    expect(text.stdout).toContain('problem NC7007');
    const json = parseJson(nicoff(['tls', 'replay', file, '--json']));
    expect(json.connections).toHaveLength(1);
    expect(json.connections[0]!.status).toBe('no-keys');
    expect(json.connections[0]!.problems.map((p) => p.code)).toEqual(['NC7007']);
    expect(json.totals.rx_tls_no_offload).toBe(json.connections[0]!.directions.reduce((a, d) => a + d.dataPackets, 0));
    expect(json.totals.rx_tls_decrypted_packets).toBe(0);
  });

  describe('every --nic mode on t13-aes128gcm-loss.pcap', () => {
    const trace = traceCase('t13-aes128gcm-loss.pcap');
    const runs = new Map<string, JsonReport>();
    beforeAll(() => {
      for (const nic of ['autonomous', 'naive', 'none']) {
        const dir = join(tmp, `nic-${nic}`);
        const r = nicoff(['tls', 'replay', join(TRACES, trace.capture), ...keyArgs(trace), '--nic', nic, '--write-plaintext', dir, '--json']);
        expect(r.status).toBe(0);
        const json = parseJson(r);
        expect(json.nic).toBe(nic);
        expectPlaintextMatchesTshark(trace, dir, json);
        runs.set(nic, json);
      }
    }, 360_000);

    const s2c = (nic: string) => runs.get(nic)!.connections[0]!.directions.find((d) => d.role === 'server-to-client')!;

    test('none: software only, every packet rx_tls_no_offload', () => {
      const d = s2c('none');
      expect(d.counters.rx_tls_decrypted_packets).toBe(0);
      expect(d.counters.rx_tls_no_offload).toBe(d.dataPackets);
      expect(d.offloadRatio).toBe(0);
      expect(d.applicationBytes).toBe(4_000_000);
    });

    test('naive: offload stops at the first out-of-sequence packet, no resync', () => {
      const d = s2c('naive');
      expect(d.counters.rx_tls_resync_lost).toBe(1);
      expect(d.counters.rx_tls_resync_req_pkt).toBe(0);
      expect(d.counters.rx_tls_decrypted_packets).toBeGreaterThan(0);
      expect(d.offloadRatio).toBeLessThan(s2c('autonomous').offloadRatio);
    });

    test('autonomous: resyncs and offloads the most', () => {
      const d = s2c('autonomous');
      expect(d.counters.rx_tls_resync_res_ok).toBeGreaterThan(0);
      expect(d.offloadRatio).toBeGreaterThan(s2c('naive').offloadRatio);
    });

    test('--confirm-delay changes when software confirms', () => {
      const r = nicoff(['tls', 'replay', join(TRACES, trace.capture), ...keyArgs(trace), '--confirm-delay', '64', '--json']);
      expect(r.status).toBe(0);
      const json = parseJson(r);
      const later = json.connections[0]!.directions.find((d) => d.role === 'server-to-client')!;
      expect(later.counters.rx_tls_speculative_pass).toBeGreaterThan(s2c('autonomous').counters.rx_tls_speculative_pass);
    });
  });

  test('a capture cut in the middle of a packet: exit 2, the cut reported, the plaintext before it written', () => {
    const trace = traceCase('t12-aes128gcm-clean.pcap');
    const bytes = readFileSync(join(TRACES, trace.capture));
    // Walk the classic pcap records (little-endian) to a packet in the middle and cut inside its data.
    expect(bytes.readUInt32LE(0)).toBe(0xa1b2c3d4);
    let at = 24;
    let packets = 0;
    while (at < bytes.length / 2) {
      at += 16 + bytes.readUInt32LE(at + 8);
      packets++;
    }
    const recordLength = bytes.readUInt32LE(at + 8);
    expect(recordLength).toBeGreaterThan(100);
    const cutAt = at + 16 + Math.floor(recordLength / 2);
    const cutFile = join(tmp, 'cut.pcap');
    writeFileSync(cutFile, bytes.subarray(0, cutAt));
    const dir = join(tmp, 'cut-plaintext');

    const r = nicoff(['tls', 'replay', cutFile, ...keyArgs(trace), '--write-plaintext', dir]);
    expect(r.status).toBe(2);
    const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const warnings = r.stderr.trim().split('\n');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`^warning NC2002 ${escape(cutFile)}\\+0x${at.toString(16)}: capture truncated at byte ${at}: .*; ${packets} packets before the cut were read$`));
    expect(r.stdout).toContain(`tls replay of ${cutFile}: ${packets} packets`);
    expect(r.stdout).toMatch(/^stream 0 .*: decrypted$/m);

    const json = JSON.parse(nicoff(['tls', 'replay', cutFile, ...keyArgs(trace), '--json']).stdout) as JsonReport;
    expect(json.ok).toBe(false);
    expect(json.truncation?.code).toBe('NC2002');
    expect(json.packets).toBe(packets);

    // What came before the cut is written, and it is the start of tshark's plaintext of the whole trace.
    const followed = tsharkFollow(trace, 0);
    const node0IsClient = followed.node0 === json.connections[0]!.client;
    const [clientBytes, serverBytes] = node0IsClient ? [followed.node0Bytes, followed.node1Bytes] : [followed.node1Bytes, followed.node0Bytes];
    const s2c = readFileSync(join(dir, 'stream-0-server-to-client.bin'));
    const c2s = readFileSync(join(dir, 'stream-0-client-to-server.bin'));
    expect(s2c.length).toBeGreaterThan(1_000_000);
    expect(s2c.length).toBeLessThan(serverBytes.length);
    expect(s2c.equals(serverBytes.subarray(0, s2c.length))).toBe(true);
    expect(c2s.equals(clientBytes)).toBe(true);
  });

  test('a key log with malformed lines: each reported with its line number, the rest used', () => {
    const trace = traceCase('public/tls13-rfc8446.pcap');
    const good = readFileSync(join(TRACES, trace.keyLog!), 'utf8').split('\n').filter((l) => l.trim() !== '');
    const lines = ['this is not a key log line', ...good.slice(0, 2), 'CLIENT_RANDOM 00zz 1234', ...good.slice(2), 'NOT_A_LABEL ' + '00'.repeat(32) + ' ' + '00'.repeat(32)];
    const keyLog = join(tmp, 'broken.keys');
    writeFileSync(keyLog, lines.join('\n') + '\n');
    const bad = [1, 4, lines.length];
    const dir = join(tmp, 'broken-keys-plaintext');

    const r = nicoff(['tls', 'replay', join(TRACES, trace.capture), '--keylog', keyLog, '--write-plaintext', dir]);
    expect(r.status).toBe(0);
    const warnings = r.stderr.trim().split('\n');
    expect(warnings).toHaveLength(bad.length);
    warnings.forEach((w, i) => {
      expect(w).toMatch(new RegExp(`^warning NC7001 .*broken\\.keys:${bad[i]}: malformed key log line ${bad[i]}: `));
    });
    const json = parseJson(nicoff(['tls', 'replay', join(TRACES, trace.capture), '--keylog', keyLog, '--json']));
    expect(json.warnings.map((w) => [w.code, w.location.source?.line])).toEqual(bad.map((line) => ['NC7001', line]));
    expect(json.connections.every((c) => c.status === 'decrypted')).toBe(true);
    expectPlaintextMatchesTshark(trace, dir, json);
  });

  test('--write-plaintext into a path that is a file: coded error, nothing written', () => {
    const target = join(tmp, 'plaintext-is-a-file');
    writeFileSync(target, 'keep me');
    const before = readdirSync(tmp).sort();
    const r = nicoff(['tls', 'replay', join(TRACES, 'public', 'tls12-dsb.pcapng'), '--write-plaintext', target, '--plot', join(tmp, 'not-written.svg')]);
    expectOneCodedLine(r, 'NC7021');
    expect(r.stdout).toBe('');
    expect(readFileSync(target, 'utf8')).toBe('keep me');
    expect(readdirSync(tmp).sort()).toEqual(before);
  });

  test('--write-plaintext under a directory that does not exist: coded error, no temporary left', () => {
    const parent = join(tmp, 'no-such-parent');
    const r = nicoff(['tls', 'replay', join(TRACES, 'public', 'tls12-dsb.pcapng'), '--write-plaintext', join(parent, 'out')]);
    expectOneCodedLine(r, 'NC7021');
    expect(existsSync(parent)).toBe(false);
    expect(readdirSync(tmp).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  test('--write-plaintext into an existing directory adds the files beside what is there', () => {
    const dir = join(tmp, 'existing');
    mkdirSync(dir);
    writeFileSync(join(dir, 'other.txt'), 'x');
    const r = nicoff(['tls', 'replay', join(TRACES, 'public', 'tls12-dsb.pcapng'), '--write-plaintext', dir]);
    expect(r.status).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['other.txt', 'stream-0-client-to-server.bin', 'stream-0-server-to-client.bin', 'stream-1-client-to-server.bin', 'stream-1-server-to-client.bin']);
  });
});

// ------------------------------------------------------------------ inputs of our own

describe('nicoff tls replay on inputs of its own', () => {
  test('a capture with no TLS: exit 0, "no TLS connections" and a note NC7020', () => {
    const file = join(root, 'examples', 'xdp_udp53.pcap');
    const r = nicoff(['tls', 'replay', file]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('no TLS connections: nothing to replay');
    expect(r.stdout).toMatch(/not TLS \(\d+ TCP connections?\): streams? /);
    expect(r.stderr.trim()).toMatch(/^note NC7020 .*xdp_udp53\.pcap: no TLS connections in the capture \(\d+ TCP connections?, 28 packets\)$/);
    const json = parseJson(nicoff(['tls', 'replay', file, '--json']));
    expect(json.ok).toBe(true);
    expect(json.connections.every((c) => c.status === 'not-tls' && c.directions.length === 0)).toBe(true);
    expect(json.warnings.map((w) => w.code)).toEqual(['NC7020']);
    expect(Object.values(json.totals).every((v) => v === 0)).toBe(true);
  });

  test('an unknown link type (147): coded error NC2003, exit 2, no stack trace', () => {
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0);
    header.writeUInt16LE(2, 4);
    header.writeUInt16LE(4, 6);
    header.writeUInt32LE(65535, 16);
    header.writeUInt32LE(147, 20);
    const record = Buffer.alloc(16);
    record.writeUInt32LE(60, 8);
    record.writeUInt32LE(60, 12);
    const file = join(tmp, 'linktype147.pcap');
    writeFileSync(file, Buffer.concat([header, record, Buffer.alloc(60, 0x45)]));
    const r = nicoff(['tls', 'replay', file]);
    expectOneCodedLine(r, 'NC2003');
    expect(r.stderr).toContain(file);
    expect(r.stderr).toContain('147');
    const json = nicoff(['tls', 'replay', file, '--json']);
    expect(json.status).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'NC2003' } });
  });

  test('not a capture, a missing key log: coded errors, exit 2', () => {
    const notCapture = join(tmp, 'not-a-capture.pcap');
    writeFileSync(notCapture, 'hello, this is text');
    expectOneCodedLine(nicoff(['tls', 'replay', notCapture]), 'NC2001');
    expectOneCodedLine(nicoff(['tls', 'replay', join(root, 'examples', 'xdp_udp53.pcap'), '--keylog', join(tmp, 'missing.keys')]), 'NC1001');
  });

  test.each([
    [['--psk', 'xyz'], 'NC8001'],
    [['--psk', 'abc'], 'NC8001'],
    [['--confirm-delay', '-1'], 'NC8001'],
    [['--confirm-delay', 'soon'], 'NC8001'],
  ])('bad option %j: %s, exit 2', (args, code) => {
    expectOneCodedLine(nicoff(['tls', 'replay', join(root, 'examples', 'xdp_udp53.pcap'), ...args]), code);
  });

  test('an unknown --nic mode is a usage error (exit 2)', () => {
    const r = nicoff(['tls', 'replay', join(root, 'examples', 'xdp_udp53.pcap'), '--nic', 'magic']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Allowed choices are autonomous, naive, none/);
  });
});
