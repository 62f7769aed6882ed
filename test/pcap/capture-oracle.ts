/**
 * Test support: Wireshark's command-line tools as the independent oracle for
 * capture files, plus a seeded PRNG and temp-file helpers.
 */
import { afterAll, describe } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function haveTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

const WIRESHARK_TOOLS = ['tshark', 'text2pcap', 'editcap', 'mergecap'];
export const missingWiresharkTools = WIRESHARK_TOOLS.filter((t) => !haveTool(t));

/** `describe` that needs the Wireshark tools: required under CI=true, skipped with a note otherwise. */
export function describeWithWireshark(name: string, body: () => void): void {
  if (missingWiresharkTools.length === 0 || process.env.CI === 'true') {
    describe(name, () => {
      if (missingWiresharkTools.length) throw new Error(`CI needs ${missingWiresharkTools.join(', ')}`);
      // Directories made while collecting this block belong to it; ones made while its tests ran too.
      const outer = collectingInto;
      const mine: string[] = [];
      collectingInto = mine;
      body();
      collectingInto = outer;
      afterAll(() => {
        for (const dir of [...mine, ...madeByTests.splice(0)]) rmSync(dir, { recursive: true, force: true });
      });
    });
    return;
  }
  console.log(`skipping "${name}": missing ${missingWiresharkTools.join(', ')}`);
  describe.skip(name, body);
}

export function run(cmd: string, args: string[], input?: string): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 256 * 1024 * 1024 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

export function runOk(cmd: string, args: string[], input?: string): string {
  const r = run(cmd, args, input);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

let collectingInto: string[] | undefined;
const madeByTests: string[] = [];

/** A temporary directory, removed after the enclosing describeWithWireshark block. */
export function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nicoff-pcap-'));
  (collectingInto ?? madeByTests).push(dir);
  return dir;
}

export function writeScratch(dir: string, name: string, bytes: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

export { seeded as seededRandom } from '../support/seeded-random.js';

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** A text2pcap input: each packet preceded by its time of day "HH:MM:SS.fffffffff". */
export function text2pcapInput(packets: { time: string; data: Uint8Array }[]): string {
  const out: string[] = [];
  for (const p of packets) {
    out.push(p.time);
    for (let i = 0; i < p.data.length; i += 16) {
      const row = Array.from(p.data.subarray(i, i + 16), (b) => b.toString(16).padStart(2, '0')).join(' ');
      out.push(`${i.toString(16).padStart(4, '0')}  ${row}`);
    }
    out.push('');
  }
  return out.join('\n') + '\n';
}

export interface TsharkFrame {
  section: number;
  interfaceId: number;
  timestampNs: bigint;
  len: number;
  capLen: number;
  bytes: string;
  /** The dissection, for layer positions (`ip_raw[1]` is the IP header's offset). */
  layers: Record<string, unknown>;
}

function epochToNs(text: string): bigint {
  const [s, f = ''] = text.split('.');
  return BigInt(s!) * 1_000_000_000n + BigInt((f + '000000000').slice(0, 9));
}

/** What tshark sees in a capture file, frame by frame. */
export function tsharkFrames(path: string, extra: string[] = []): TsharkFrame[] {
  const r = run('tshark', ['-r', path, '-T', 'json', '-x', '--no-duplicate-keys', ...extra]);
  if (r.status !== 0) throw new Error(`tshark failed on ${path}: ${r.stderr}`);
  const docs = JSON.parse(r.stdout) as { _source: { layers: Record<string, unknown> } }[];
  return docs.map((d) => {
    const layers = d._source.layers;
    const frame = layers.frame as Record<string, string>;
    return {
      section: Number(frame['frame.section_number'] ?? 1) - 1,
      interfaceId: Number(frame['frame.interface_id'] ?? 0),
      // Simple packet blocks carry no timestamp; nicoff reports 0 for them.
      timestampNs: frame['frame.time_epoch'] === undefined ? 0n : epochToNs(frame['frame.time_epoch']),
      len: Number(frame['frame.len']),
      capLen: Number(frame['frame.cap_len']),
      bytes: (layers.frame_raw as [string])[0],
      layers,
    };
  });
}

/** Packet count tshark reports, tolerating (and returning) a "cut short" error. */
export function tsharkCount(path: string): { count: number; error: string } {
  const r = run('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.number']);
  const count = r.stdout.split('\n').filter((l) => l.trim() !== '').length;
  return { count, error: r.status === 0 ? '' : r.stderr };
}
