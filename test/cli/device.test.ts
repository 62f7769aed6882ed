/**
 * Software NFP devices from the command line (issue 6): load, run a capture,
 * change a map, run again and see the behaviour change, unload; the bad
 * inputs, each one coded line with nothing changed; serialised concurrent
 * updates; and the crash test: processes killed at random points of a map
 * update, and at each step of the state commit, leave a state that reads
 * back whole, with the update either fully there or not at all.
 *
 * Expected packet counts come from the capture itself, parsed here
 * independently of the program (IPv4 source address at bytes 26..29 of an
 * untagged Ethernet frame).
 */
import { describe, expect, test } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCapture, writePcap } from '../../src/pcap/index.js';
import { seeded } from '../support/seeded-random.js';

const root = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'nicoff-device-'));
const MAIN = join(root, 'src', 'cli', 'main.ts');
const BLOCKLIST = join(root, 'examples', 'xdp_blocklist.o');
const BLOCKLIST_PCAP = join(root, 'examples', 'xdp_blocklist.pcap');

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e = { ...process.env, ...extra };
  delete e.NO_COLOR;
  delete e.FORCE_COLOR;
  return e;
}

function nicoff(args: string[], extra: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: root, encoding: 'utf8', env: env(extra) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json<T>(args: string[]): T {
  const r = nicoff([...args, '--json']);
  if (r.status !== 0) throw new Error(`nicoff ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Untagged IPv4 frames from `source` (dotted quad) in the capture, read here, not by nicoff. */
function framesFrom(pcap: string, source: string): number {
  const want = source.split('.').map(Number);
  return readCapture(readFileSync(pcap), { file: pcap }).packets.filter((p) => {
    const d = p.data;
    return d.length >= 34 && d[12] === 0x08 && d[13] === 0x00 && want.every((b, i) => d[26 + i] === b);
  }).length;
}

const freshState = (): string => mkdtempSync(join(tmp, 'state-'));
const oneCodedLine = (stderr: string, code: string) => {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^error ${code}\\b`));
};

interface RunJson {
  packets: number;
  actions: Record<string, number>;
  mapChanges: { map: string; key: string; before: string | null; after: string | null }[];
  cyclesHistogram: { from: number; to: number; packets: number }[];
}

describe('a software NFP from the command line', () => {
  test('load, run, block an address with map update, run again: its packets are dropped and counted; status and unload', () => {
    const state = freshState();
    const dev = ['--dev', 'sim0', '--state-dir', state];
    const blocked = framesFrom(BLOCKLIST_PCAP, '198.51.100.7');
    expect(blocked).toBeGreaterThan(0);

    const load = json<{ status: { loaded: { program: string; maps: { name: string; key: { kind: string } }[] } } }>(['load', BLOCKLIST, ...dev]);
    expect(load.status.loaded.program).toBe('xdp_blocklist');
    expect(load.status.loaded.maps.map((m) => m.name)).toEqual(['blocked_sources']);

    const first = json<RunJson>(['run', '--pcap', BLOCKLIST_PCAP, ...dev]);
    expect(first.actions).toEqual({ pass: first.packets });
    expect(first.mapChanges).toEqual([]);

    // 198.51.100.7 as it sits in the packet: c6 33 64 07.
    const update = nicoff(['map', 'update', 'blocked_sources', 'hex:c6336407', '0', ...dev]);
    expect(update.status).toBe(0);
    const second = json<RunJson>(['run', '--pcap', BLOCKLIST_PCAP, ...dev]);
    expect(second.actions.drop).toBe(blocked);
    expect(second.actions.pass).toBe(second.packets - blocked);
    expect(second.mapChanges).toEqual([{ map: 'blocked_sources', key: String(0x076433c6), before: '0', after: String(blocked) }]);
    expect(second.cyclesHistogram.reduce((n, b) => n + b.packets, 0)).toBe(second.packets);

    const lookup = json<{ value: string; formatted: string }>(['map', 'lookup', 'blocked_sources', 'hex:c6336407', ...dev]);
    expect(lookup.formatted).toBe(String(blocked));
    const status = json<{ loaded: { counters: { runs: number; packets: number; actions: Record<string, number> } } }>(['status', ...dev]);
    expect(status.loaded.counters).toMatchObject({ runs: 2, packets: first.packets + second.packets, actions: { drop: blocked } });

    const all = json<{ devices: { device: string; loaded?: { program: string } }[] }>(['status', '--state-dir', state]);
    expect(all.devices.map((d) => [d.device, d.loaded?.program])).toEqual([['sim0', 'xdp_blocklist']]);

    expect(json<{ unloaded: string }>(['unload', ...dev]).unloaded).toBe('xdp_blocklist');
    expect(json<{ loaded?: unknown }>(['status', ...dev]).loaded).toBeUndefined();
    const after = nicoff(['map', 'dump', 'blocked_sources', ...dev]);
    expect(after.status).toBe(2);
    oneCodedLine(after.stderr, 'NC6103');
  });

  test('run writes --out, --out-tx, --out-drop and the --plot histogram; the dropped capture holds exactly the blocked frames', () => {
    const state = freshState();
    const dev = ['--dev', 'sim1', '--state-dir', state];
    expect(nicoff(['load', BLOCKLIST, ...dev]).status).toBe(0);
    expect(nicoff(['map', 'update', 'blocked_sources', 'hex:cb007109', '0', ...dev]).status).toBe(0); // 203.0.113.9
    const files = { out: join(state, 'out.pcap'), tx: join(state, 'tx.pcap'), drop: join(state, 'drop.pcap'), plot: join(state, 'cycles.svg') };
    const r = json<RunJson>(['run', '--pcap', BLOCKLIST_PCAP, ...dev, '--out', files.out, '--out-tx', files.tx, '--out-drop', files.drop, '--plot', files.plot]);
    const count = (f: string) => readCapture(readFileSync(f), { file: f }).packets.length;
    expect(count(files.drop)).toBe(framesFrom(BLOCKLIST_PCAP, '203.0.113.9'));
    expect(framesFrom(files.drop, '203.0.113.9')).toBe(count(files.drop));
    expect(count(files.out)).toBe(r.actions.pass);
    expect(count(files.tx)).toBe(0);
    const svg = readFileSync(files.plot, 'utf8');
    const bars = [...svg.matchAll(/data-packets="(\d+)"/g)].map((m) => Number(m[1]));
    expect(bars.reduce((a, b) => a + b, 0)).toBe(r.packets);
  });

  test('nicoff run prog.o compiles for a temporary software NFP by default; --engine ref gives the interpreter the same verdicts', () => {
    const nfp = json<{ device: string; actions: Record<string, number> }>(['run', join(root, 'examples', 'xdp_ttl_histogram.o'), '--pcap', join(root, 'examples', 'xdp_ttl_histogram.pcap')]);
    expect(nfp.device).toMatch(/temporary software NFP/);
    const ref = json<{ engine: string; verdicts: Record<string, number> }>(['run', join(root, 'examples', 'xdp_ttl_histogram.o'), '--pcap', join(root, 'examples', 'xdp_ttl_histogram.pcap'), '--engine', 'ref']);
    expect(ref.engine).toBe('ref');
    expect(nfp.actions).toEqual({ drop: ref.verdicts.XDP_DROP, pass: ref.verdicts.XDP_PASS });
  });
});

describe('bad input: one coded line, a documented exit status, nothing changed', () => {
  const state = freshState();
  const dev = ['--dev', 'sim0', '--state-dir', state];
  const stateFile = () => readFileSync(join(state, 'devices', 'sim0', 'state.json'), 'utf8');

  test('a device that does not exist names the software alternative', () => {
    const r = nicoff(['load', BLOCKLIST, '--dev', 'nfp7', '--state-dir', state]);
    expect(r.status).toBe(2);
    oneCodedLine(r.stderr, 'NC6106');
    expect(r.stderr).toMatch(/no network device nfp7.*sim0/);
    const bad = nicoff(['status', '--dev', 'sim01', '--state-dir', state]);
    expect(bad.status).toBe(2);
    oneCodedLine(bad.stderr, 'NC6109');
  });

  test('a second load without --force is refused and the first stays; --force replaces it', () => {
    expect(nicoff(['load', BLOCKLIST, ...dev]).status).toBe(0);
    const before = stateFile();
    const r = nicoff(['load', join(root, 'examples', 'xdp_ttl_histogram.o'), ...dev]);
    expect(r.status).toBe(2);
    oneCodedLine(r.stderr, 'NC6102');
    expect(stateFile()).toBe(before);
    expect(json<{ replaced: string }>(['load', BLOCKLIST, ...dev, '--force']).replaced).toBe('xdp_blocklist');
  });

  test('a key or value of the wrong size, a key that is not a number, an unknown map: NC6104, maps unchanged', () => {
    const before = stateFile();
    for (const args of [
      ['map', 'update', 'blocked_sources', 'hex:0102', '0'],
      ['map', 'update', 'blocked_sources', 'twelve', '0'],
      ['map', 'update', 'blocked_sources', '1', '99999999999999999999999'],
      ['map', 'lookup', 'no_such_map', '1'],
    ]) {
      const r = nicoff([...args, ...dev]);
      expect(r.status).toBe(2);
      oneCodedLine(r.stderr, 'NC6104');
    }
    expect(stateFile()).toBe(before);
  });

  test('array slots: an index past the end and a delete are refused with the reason', () => {
    const s = freshState();
    const d = ['--dev', 'sim2', '--state-dir', s];
    expect(nicoff(['load', join(root, 'examples', 'xdp_ttl_histogram.o'), ...d]).status).toBe(0);
    const past = nicoff(['map', 'update', 'low_ttl_count', '64', '1', ...d]);
    expect(past.status).toBe(2);
    expect(past.stderr).toMatch(/NC6104.*outside the array \(0\.\.63\)/);
    const del = nicoff(['map', 'delete', 'low_ttl_count', '3', ...d]);
    expect(del.stderr).toMatch(/NC6104.*array slots cannot be deleted/);
  });

  test('a capture with a link type nicoff does not read: NC2003, counters unchanged', () => {
    const raw = join(state, 'usb.pcap');
    writeFileSync(raw, writePcap([{ data: new Uint8Array(64), timestampNs: 0n }], { linkType: 189 }));
    const before = stateFile();
    const r = nicoff(['run', '--pcap', raw, ...dev]);
    expect(r.status).toBe(2);
    oneCodedLine(r.stderr, 'NC2003');
    expect(stateFile()).toBe(before);
  });

  test('a truncated capture: the packets before the cut run, the cut is reported, exit 2', () => {
    const full = readFileSync(BLOCKLIST_PCAP);
    const cut = join(state, 'cut.pcap');
    writeFileSync(cut, full.subarray(0, full.length - 10));
    const r = nicoff(['run', '--pcap', cut, ...dev, '--json']);
    expect(r.status).toBe(2);
    const out = JSON.parse(r.stdout) as { ok: boolean; packets: number; truncation: { code: string } };
    expect(out.ok).toBe(false);
    expect(out.truncation.code).toBe('NC2002');
    expect(out.packets).toBe(readCapture(full, {}).packets.length - 1);
  });

  test('a state directory that cannot be made is NC6100; a device whose lock a live process holds is NC6105 after the wait', () => {
    const file = join(state, 'not-a-dir');
    writeFileSync(file, 'x');
    const r = nicoff(['load', BLOCKLIST, '--dev', 'sim0', '--state-dir', file]);
    expect(r.status).toBe(2);
    oneCodedLine(r.stderr, 'NC6100');
    const s = freshState();
    expect(nicoff(['load', BLOCKLIST, '--dev', 'sim0', '--state-dir', s]).status).toBe(0);
    const holder = spawn('sleep', ['60']);
    try {
      writeFileSync(join(s, 'devices', 'sim0', 'lock'), `${holder.pid}\n`);
      const busy = nicoff(['status', '--dev', 'sim0', '--state-dir', s]);
      expect(busy.status).toBe(2);
      oneCodedLine(busy.stderr, 'NC6105');
      expect(busy.stderr).toMatch(new RegExp(`process ${holder.pid} holds its lock`));
    } finally {
      holder.kill('SIGKILL');
    }
  }, 60_000);

  test('a damaged state is reported with what to do, and unload --force clears it', () => {
    const s = freshState();
    const d = ['--dev', 'sim3', '--state-dir', s];
    expect(nicoff(['load', BLOCKLIST, ...d]).status).toBe(0);
    const file = join(s, 'devices', 'sim3', 'state.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"runs":0', '"runs":7'));
    const r = nicoff(['status', ...d]);
    expect(r.status).toBe(2);
    oneCodedLine(r.stderr, 'NC6101');
    expect(r.stderr).toMatch(/checksum mismatch.*nicoff unload --dev sim3 --force/);
    // The list of every device still shows it, with the diagnostic, and exits 0.
    const list = nicoff(['status', '--state-dir', s]);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/sim3\n.*NC6101/);
    expect(nicoff(['unload', '--force', ...d]).status).toBe(0);
    expect(json<{ loaded?: unknown }>(['status', ...d]).loaded).toBeUndefined();
  });
});

describe('concurrency and crashes', () => {
  test('two processes updating one device are serialised: both updates land', async () => {
    const s = freshState();
    const d = ['--dev', 'sim0', '--state-dir', s];
    expect(nicoff(['load', BLOCKLIST, ...d]).status).toBe(0);
    const start = (key: string) =>
      new Promise<number>((resolve) => {
        const p = spawn(process.execPath, ['--import', 'tsx', MAIN, 'map', 'update', 'blocked_sources', key, '5', ...d], { cwd: root, env: env(), stdio: 'ignore' });
        p.on('exit', (code) => resolve(code ?? -1));
      });
    const codes = await Promise.all(['1', '2', '3', '4'].map(start));
    expect(codes).toEqual([0, 0, 0, 0]);
    const dump = json<{ entries: { formatted: { key: string; value: string } }[] }>(['map', 'dump', 'blocked_sources', ...d]);
    expect(dump.entries.map((e) => e.formatted.key).sort()).toEqual(['1', '2', '3', '4']);
  }, 60_000);

  test.each(['after-temp-state', 'after-rename'])('a map update killed at %s: the state reads back whole, the update all there or not at all', (point) => {
    const s = freshState();
    const d = ['--dev', 'sim0', '--state-dir', s];
    expect(nicoff(['load', BLOCKLIST, ...d]).status).toBe(0);
    const killed = nicoff(['map', 'update', 'blocked_sources', '9', '1', ...d], { NICOFF_DEVICE_FAILPOINT: point });
    expect(killed.status).toBeNull(); // SIGKILL
    const lookup = nicoff(['map', 'lookup', 'blocked_sources', '9', ...d]);
    if (point === 'after-rename') expect(lookup.stdout).toMatch(/^9 => 1$/m);
    else oneCodedLine(lookup.stderr, 'NC6104'); // no entry: the update never committed
  }, 60_000);

  test.each(['after-image', 'after-temp-state', 'after-rename'])('a load --force killed at %s: the old program or the new one, whole', (point) => {
    const s = freshState();
    const d = ['--dev', 'sim0', '--state-dir', s];
    expect(nicoff(['load', BLOCKLIST, ...d]).status).toBe(0);
    const killed = nicoff(['load', join(root, 'examples', 'xdp_ttl_histogram.o'), ...d, '--force'], { NICOFF_DEVICE_FAILPOINT: point });
    expect(killed.status).toBeNull();
    const status = json<{ loaded: { program: string; maps: { name: string }[] } }>(['status', ...d]);
    const now = point === 'after-rename' ? 'xdp_ttl_histogram' : 'xdp_blocklist';
    expect(status.loaded.program).toBe(now);
    expect(status.loaded.maps.map((m) => m.name)).toEqual([now === 'xdp_blocklist' ? 'blocked_sources' : 'low_ttl_count']);
    // The device still runs whatever it holds.
    expect(nicoff(['run', '--pcap', BLOCKLIST_PCAP, ...d]).status).toBe(0);
  }, 60_000);

  test('map updates killed at random moments never leave a damaged or half-applied state', async () => {
    const s = freshState();
    const d = ['--dev', 'sim0', '--state-dir', s];
    expect(nicoff(['load', BLOCKLIST, ...d]).status).toBe(0);
    const rand = seeded(6_2026);
    // Each update writes key k with value k, so a half-applied update would show as a mismatch.
    const keys: number[] = [];
    for (let i = 0; i < 12; i++) {
      const key = 100 + i;
      keys.push(key);
      const delayMs = 150 + Math.floor(rand() * 900);
      const p = spawn(process.execPath, ['--import', 'tsx', MAIN, 'map', 'update', 'blocked_sources', String(key), String(key), ...d], { cwd: root, env: env(), stdio: 'ignore' });
      const exited = new Promise((resolve) => p.on('exit', resolve));
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      p.kill('SIGKILL'); // a no-op when it already finished
      await exited;
      const dump = nicoff(['map', 'dump', 'blocked_sources', ...d, '--json']);
      expect(dump.stderr).toBe('');
      const entries = (JSON.parse(dump.stdout) as { entries: { formatted: { key: string; value: string } }[] }).entries;
      for (const e of entries) expect(e.formatted.value).toBe(e.formatted.key);
      expect(entries.every((e) => keys.includes(Number(e.formatted.key)))).toBe(true);
    }
  }, 180_000);
});
