/**
 * `nicoff run prog.nfp --pcap`: the software NFP behind the command line. The
 * images are the kernel JIT's own (golden listings assembled with `nicoff asm`),
 * and the reference for every packet is `nicoff run prog.o` on the same eBPF
 * program (the interpreter, itself checked against the kernel elsewhere): the
 * NFP action must be the firmware's reading of the interpreter's verdict
 * (nfp-microcode.md A.6), written packets and map contents must be identical.
 */
import { describe, test, expect, beforeAll } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const GOLDEN_DIR = resolve(root, '..', 'shared', 'nfp-golden');
const tmp = mkdtempSync(join(tmpdir(), 'nicoff-cli-run-nfp-'));

const haveGolden = existsSync(GOLDEN_DIR);
if (!haveGolden) {
  if (process.env['CI'] === 'true') throw new Error(`CI=true but the golden vectors are missing at ${GOLDEN_DIR}`);
  console.log(`run-nfp CLI suite skipped: ${GOLDEN_DIR} not found`);
}
const goldenDescribe = haveGolden ? describe : describe.skip;

function nicoff(args: string[]) {
  const env = { ...process.env };
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args], { cwd: root, encoding: 'utf8', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** nfp-microcode.md A.6, XDP: the action the firmware takes for each eBPF return value. */
const XDP_ACTION: Record<string, string> = { XDP_ABORTED: 'abort', XDP_DROP: 'drop', XDP_PASS: 'pass', XDP_TX: 'tx' };

goldenDescribe('nicoff run on an NFP image agrees with nicoff run on the eBPF object', () => {
  beforeAll(() => {
    for (const name of ['xdp_udp53', 'xdp_count', 'xdp_alu']) {
      const r = nicoff(['asm', join(GOLDEN_DIR, `${name}.txt`), '-o', join(tmp, `${name}.nfp`)]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });

  test.each(['xdp_udp53', 'xdp_count', 'xdp_alu'])('%s over its bundled capture', (name) => {
    const pcap = join(root, 'examples', `${name}.pcap`);
    const nfpOut = join(tmp, `${name}-nfp.pcap`);
    const refOut = join(tmp, `${name}-ref.pcap`);
    const nfp = nicoff(['run', join(tmp, `${name}.nfp`), '--pcap', pcap, '--out', nfpOut, '--json']);
    const ref = nicoff(['run', join(root, 'examples', `${name}.o`), '--pcap', pcap, '--engine', 'ref', '--out', refOut, '--json']);
    expect(nfp.status).toBe(0);
    expect(ref.status).toBe(0);
    const n = JSON.parse(nfp.stdout);
    const r = JSON.parse(ref.stdout);
    expect(n.engine).toBe('nfp-sim');
    expect(n.packets).toBe(r.packets);
    expect(n.faults).toEqual({});
    const theirs = r.results.map((x: { verdict: string }) => XDP_ACTION[x.verdict]);
    expect(n.results.map((x: { action: string }) => x.action)).toEqual(theirs);
    for (const x of n.results) {
      expect(x.instructions).toBeGreaterThan(0);
      expect(x.cycles).toBeGreaterThanOrEqual(x.instructions);
    }
    expect(readFileSync(nfpOut).equals(readFileSync(refOut))).toBe(true);
    // Map contents in host byte order: the interpreter's non-zero entries.
    const refMaps = r.maps.map((m: { name: string; nonzero: { key: string; values: string[] }[] }) => ({
      name: m.name,
      entries: m.nonzero.map((e) => ({ key: e.key, value: e.values[0] })),
    }));
    expect(n.maps.map((m: { name: string; entries: unknown[] }) => ({ name: m.name, entries: m.entries }))).toEqual(refMaps);
    expect(n.throughput.disclaimer).toMatch(/model/);
  });

  test('the text report names the model and the per-packet costs', () => {
    const r = nicoff(['run', join(tmp, 'xdp_count.nfp'), '--pcap', join(root, 'examples', 'xdp_count.pcap')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/NFP instructions, [\d.]+ cycles/);
    expect(r.stdout).toMatch(/stalled map-helper/);
    expect(r.stdout).toMatch(/throughput model/);
    expect(r.stdout).toMatch(/not a measurement/);
  });

  test('a packet that never exits is stopped by the watchdog, counted, and the run goes on', () => {
    // The first packet passes; every packet longer than 100 bytes spins forever.
    const src = [
      'immed[gprB_22, 0x3fff]',
      'alu[gprB_22, gprB_22, AND, *l$index1]',
      'alu[--, gprB_22, -, 0x64]',
      'bcs[.3072+5]',
      'br[.3072+7]',
      'br[.3077]',
      'nop',
      'br[.1], defer[2]',
      'alu[gprA_0, --, B, 0x0]',
      'ld_field[gprA_0, 1100, 0x11, <<16]',
    ]
      .map((l) => l.replace(/\.3072\+(\d+)/, (_, k) => `.${3072 + Number(k)}`))
      .join('\n');
    writeFileSync(join(tmp, 'spin.s'), src + '\n');
    const a = nicoff(['asm', join(tmp, 'spin.s'), '-o', join(tmp, 'spin.nfp')]);
    expect(a.stderr).toBe('');
    const r = nicoff(['run', join(tmp, 'spin.nfp'), '--pcap', join(root, 'examples', 'xdp_udp53.pcap'), '--watchdog', '5000', '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    const lengths = j.results.length;
    expect(lengths).toBe(j.packets);
    const stopped = j.results.filter((x: { error?: { code: string } }) => x.error);
    expect(stopped.length).toBeGreaterThan(0);
    expect(j.actions.pass).toBe(j.packets - stopped.length);
    expect(Object.keys(j.faults)).toHaveLength(1);
    expect(stopped[0].error.message).toMatch(/5000|watchdog/i);
  });

  test('engine and image mismatches are usage errors (exit 2, one coded line)', () => {
    const pcap = join(root, 'examples', 'xdp_udp53.pcap');
    for (const args of [
      ['run', join(tmp, 'xdp_udp53.nfp'), '--pcap', pcap, '--engine', 'ref'],
      ['run', join(tmp, 'xdp_udp53.nfp'), '--pcap', pcap, '--repeat', '3'],
    ]) {
      const r = nicoff(args);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^error NC8001/);
    }
  });
});
