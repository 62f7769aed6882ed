/**
 * The Linux driver shim on a real kernel (issue 6): the test makes two
 * network namespaces joined by a veth pair, loads xdp_proto_count on one end
 * with --mode generic and then --mode native, sends real ICMP echo requests
 * from the other namespace with ping, reads the per-protocol counter back
 * with `nicoff map lookup/dump` and checks it against the number of requests
 * ping sent, then unloads and checks with bpftool that nothing stays
 * attached. Typed map fields are checked against bpftool's own BTF
 * formatting. --mode offload on the veth is refused naming its driver, and the
 * kernel's own refusal of offload to a veth (asked directly) becomes NC6108.
 * Traffic stays inside the namespaces made here; they are removed at the end.
 *
 * Needs root, iproute2, iputils-ping and bpftool; without them the suite
 * says so and skips, except under CI=true, where it must run.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const MAIN = join(root, 'src', 'cli', 'main.ts');
const OBJECT = join(root, 'examples', 'xdp_proto_count.o');
const tag = `n${process.pid % 100000}`;
const NS_A = `nicoff-${tag}-a`;
const NS_B = `nicoff-${tag}-b`;
const DEV_A = `${tag}a`;
const DEV_B = `${tag}b`;
const ADDR_A = '10.203.0.1';
const ADDR_B = '10.203.0.2';
const state = mkdtempSync(join(tmpdir(), 'nicoff-netdev-'));

function sh(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  for (const [tool, args] of [['ip', ['-V']], ['bpftool', ['version']], ['ping', ['-V']]] as const) {
    if (sh(tool, [...args]).error) return `${tool} not found`;
  }
  return undefined;
}

const why = missing();
if (why && process.env.CI === 'true') throw new Error(`CI=true but the namespace test cannot run: ${why}`);
if (why) console.log(`netdev shim suite skipped: ${why}`);
const maybe = why ? describe.skip : describe;

/** nicoff inside namespace B, where DEV_B lives. */
function nicoffInB(args: string[]) {
  const env = { ...process.env };
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  const r = spawnSync('ip', ['netns', 'exec', NS_B, process.execPath, '--import', 'tsx', MAIN, ...args, '--state-dir', state], { cwd: root, encoding: 'utf8', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function pingFromA(count: number): number {
  const r = sh('ip', ['netns', 'exec', NS_A, 'ping', '-c', String(count), '-i', '0.2', '-W', '1', '-q', ADDR_B]);
  const sent = /(\d+) packets transmitted/.exec(r.stdout)?.[1];
  if (sent === undefined) throw new Error(`ping failed: ${r.stdout}${r.stderr}`);
  return Number(sent);
}

function xdpAttached(): string {
  const r = sh('ip', ['netns', 'exec', NS_B, 'bpftool', '-j', 'net', 'show', 'dev', DEV_B]);
  return JSON.stringify((JSON.parse(r.stdout) as { xdp: unknown[] }[])[0]?.xdp ?? []);
}

maybe('the Linux driver shim on a veth pair in namespaces of its own', () => {
  beforeAll(() => {
    const steps: [string, string[]][] = [
      ['ip', ['netns', 'add', NS_A]],
      ['ip', ['netns', 'add', NS_B]],
      ['ip', ['link', 'add', DEV_A, 'netns', NS_A, 'type', 'veth', 'peer', 'name', DEV_B, 'netns', NS_B]],
      ['ip', ['-n', NS_A, 'addr', 'add', `${ADDR_A}/24`, 'dev', DEV_A]],
      ['ip', ['-n', NS_B, 'addr', 'add', `${ADDR_B}/24`, 'dev', DEV_B]],
      ['ip', ['-n', NS_A, 'link', 'set', DEV_A, 'up']],
      ['ip', ['-n', NS_B, 'link', 'set', DEV_B, 'up']],
    ];
    for (const [cmd, args] of steps) {
      const r = sh(cmd, args);
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
    }
    pingFromA(1); // neighbour discovery before anything is counted
  }, 30_000);

  afterAll(() => {
    sh('ip', ['netns', 'del', NS_A]);
    sh('ip', ['netns', 'del', NS_B]);
  });

  test.each(['generic', 'native'])('--mode %s: load, count real ICMP echo requests, read the counter, unload leaves nothing attached', (mode) => {
    const load = nicoffInB(['load', OBJECT, '--dev', DEV_B, '--mode', mode, '--json']);
    expect(load.stderr).toBe('');
    expect(load.status).toBe(0);
    const status = JSON.parse(load.stdout) as { status: { kind: string; driver: string; loaded: { mode: string; kernelProgramId: number } } };
    expect(status.status).toMatchObject({ kind: 'linux', driver: 'veth', loaded: { mode } });
    expect(xdpAttached()).toContain(`"id":${status.status.loaded.kernelProgramId}`);

    const sent = pingFromA(4);
    const lookup = nicoffInB(['map', 'lookup', 'proto_count', '1', '--dev', DEV_B]);
    expect(lookup.stdout.trim()).toBe(`1 => ${sent}`);
    const dump = JSON.parse(nicoffInB(['map', 'dump', 'proto_count', '--dev', DEV_B, '--json']).stdout) as { entries: { formatted: { key: string; value: string } }[] };
    expect(dump.entries.filter((e) => e.formatted.value !== '0')).toEqual([{ formatted: { key: '1', value: String(sent) }, key: expect.any(String), value: expect.any(String) }]);

    const again = nicoffInB(['load', OBJECT, '--dev', DEV_B, '--mode', mode]);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/^error NC6102: /);

    const unload = nicoffInB(['unload', '--dev', DEV_B]);
    expect(unload.stdout.trim()).toBe(`unloaded xdp_proto_count from ${DEV_B}`);
    expect(xdpAttached()).toBe('[]');
  }, 60_000);

  test("typed map fields: what nicoff writes from {field=value} text, bpftool's BTF formatting reads back, and nicoff shows it the same way (xdp_l4_lb, which the NFP refuses, on the host path)", () => {
    const object = join(root, 'examples', 'xdp_l4_lb.o');
    expect(nicoffInB(['load', object, '--dev', DEV_B, '--mode', 'generic']).status).toBe(0);
    try {
      const key = '{addr=0x0100000a, port=0x5000, protocol=6}';
      const value = '{addr=1, local_addr=2, mac=[2, 0, 0, 0, 0, 1]}';
      expect(nicoffInB(['map', 'update', 'vips', key, value, '--dev', DEV_B]).status).toBe(0);
      const ours = JSON.parse(nicoffInB(['map', 'dump', 'vips', '--dev', DEV_B, '--json']).stdout) as { entries: { key: string; value: string; formatted: { key: string; value: string } }[] };
      const status = JSON.parse(nicoffInB(['status', '--dev', DEV_B, '--json']).stdout) as { loaded: { maps: { name: string; id: number }[] } };
      const id = status.loaded.maps.find((m) => m.name === 'vips')!.id;
      const theirs = JSON.parse(sh('ip', ['netns', 'exec', NS_B, 'bpftool', '-j', 'map', 'dump', 'id', String(id)]).stdout) as { key: string[]; formatted: { key: unknown; value: unknown } }[];
      // bpftool's formatted JSON in nicoff's text form: {a=1, b=[2, 3]}.
      const text = (v: unknown): string =>
        Array.isArray(v) ? `[${v.map(text).join(', ')}]` : typeof v === 'object' && v !== null ? `{${Object.entries(v).map(([k, x]) => `${k}=${text(x)}`).join(', ')}}` : String(v);
      expect(theirs).toHaveLength(1);
      expect(ours.entries.map((e) => e.formatted)).toEqual([{ key: text(theirs[0]!.formatted.key), value: text(theirs[0]!.formatted.value) }]);
      expect(ours.entries[0]!.key).toBe(theirs[0]!.key.map((b) => b.slice(2)).join(''));
    } finally {
      expect(nicoffInB(['unload', '--dev', DEV_B]).status).toBe(0);
    }
  }, 60_000);

  test('--mode offload on the veth is refused naming its driver, and nothing is attached', () => {
    const r = nicoffInB(['load', OBJECT, '--dev', DEV_B, '--mode', 'offload']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^error NC6107: .*--mode offload needs an NFP \(driver nfp\), but its driver is veth; --mode native or --mode generic/);
    expect(xdpAttached()).toBe('[]');
  }, 30_000);

  test("the kernel's own refusal of offload to a veth becomes NC6108 with its words", () => {
    const script = [
      `import { openDevice } from ${JSON.stringify(join(root, 'src', 'nfp-backend', 'device', 'open-device.ts'))};`,
      `const d = openDevice(${JSON.stringify(DEV_B)}, { stateDir: ${JSON.stringify(state)}, askKernelForOffload: true });`,
      `try { d.load({ objectPath: ${JSON.stringify(OBJECT)}, objectBytes: new Uint8Array(), program: 'xdp_proto_count', programType: 'xdp', layouts: {}, force: false, mode: 'offload' }); console.log('loaded'); }`,
      `catch (e) { console.log(e.message); }`,
    ].join('\n');
    const r = spawnSync('ip', ['netns', 'exec', NS_B, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(r.stdout.trim()).toMatch(/^NC6108: device \S+: the kernel refused loading .* for offload: .*(Invalid argument|Operation not supported|No such device).*driver veth has no BPF offload/);
    expect(xdpAttached()).toBe('[]');
  }, 30_000);
});
