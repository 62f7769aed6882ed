/**
 * A network device of this machine behind the device interface, through the
 * kernel's own tools (bpftool):
 *
 * - driver nfp, `--mode offload` (the default there): the object is loaded
 *   for the device (`bpftool prog load ... dev DEV`), so the kernel verifies it with the nfp
 *   hook, its nfp JIT translates it and its maps are created on the card;
 *   the program is attached in hardware mode (xdpoffload). The JIT's words
 *   are read back (`bpftool prog dump jited ... file`) and compared with
 *   nicoff's kernel-compatible image.
 * - any device, `--mode native` (xdpdrv) or `--mode generic` (xdpgeneric):
 *   the host's XDP path, useful without a card.
 * - `--mode offload` on a device whose driver is not nfp is refused before
 *   the kernel is asked (NC6107); the kernel's own refusal, for the cases
 *   that reach it, becomes NC6108 with its words.
 *
 * Nothing stays pinned: the program is pinned only between load and attach
 * (the attachment then holds it, and it holds its maps). What nicoff loaded
 * is recorded in the state directory under the device's name and network
 * namespace, with the kernel's program and map ids; every later command
 * finds the maps by id and checks the program is still the one attached.
 *
 * Run: packets through a host device are real traffic, so `run` is refused
 * here (NC6109); send traffic with the usual tools and read the maps.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fail } from '../../diagnostics/diagnostic.js';
import type { ValueLayout } from '../../ebpf/map-value-layout.js';
import type { NfpImage } from '../image/nfp-image.js';
import { withDeviceLock } from './device-lock.js';
import { DeviceStateStore } from './device-state-store.js';
import { NFP_DRIVER, type NetdevInfo } from './netdev-detect.js';
import { deviceMapOf, type AttachMode, type DeviceLoadReport, type DeviceLoadRequest, type DeviceMap, type DeviceMapEntry, type DeviceRunReport, type DeviceStatus, type MapUpdateFlag, type NfpDevice } from './nfp-device.js';

const ATTACH_TYPE: Record<AttachMode, string> = { offload: 'xdpoffload', native: 'xdpdrv', generic: 'xdpgeneric' };
const BPFFS = '/sys/fs/bpf';

interface ShimRecord {
  format: 'nicoff-netdev';
  device: string;
  netns: string;
  program: string;
  type: 'xdp' | 'tc';
  object: string;
  since: string;
  mode: AttachMode;
  progId: number;
  maps: { name: string; id: number; type: string; keySize: number; valueSize: number; maxEntries: number }[];
  layouts: Record<string, { key: ValueLayout; value: ValueLayout }>;
  comparison?: string;
}

interface BpftoolResult {
  ok: boolean;
  stdout: string;
  /** bpftool's error text (its JSON "error" or stderr), one line. */
  error: string;
}

function bpftool(args: string[]): BpftoolResult {
  const r = spawnSync('bpftool', ['-j', ...args], { encoding: 'utf8' });
  if (r.error) return { ok: false, stdout: '', error: `bpftool cannot run: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}` };
  let error = '';
  if (r.status !== 0) {
    try {
      error = String((JSON.parse(r.stdout) as { error?: unknown }).error ?? '');
    } catch {
      /* not JSON */
    }
    // libbpf's own lines are the informative ones; keep the last few.
    const libbpf = r.stderr.split('\n').map((l) => l.trim()).filter(Boolean).slice(-3).join('; ');
    error = [error, libbpf].filter(Boolean).join('; ') || `exit status ${r.status}`;
  }
  return { ok: r.status === 0, stdout: r.stdout, error };
}

function bytesArg(b: Uint8Array): string[] {
  return ['hex', ...Array.from(b, (x) => x.toString(16).padStart(2, '0'))];
}

function bytesFromJson(v: unknown): Uint8Array {
  return Uint8Array.from((v as string[]).map((x) => Number(x)));
}

export function currentNetns(): string {
  try {
    return /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/net'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** bpffs where pins can go for the moment between load and attach (`ip netns exec` hides the host's). */
function ensureBpffs(device: string): void {
  const r = spawnSync('mountpoint', ['-q', BPFFS]);
  if (r.status === 0) return;
  const m = spawnSync('mount', ['-t', 'bpf', 'bpf', BPFFS], { encoding: 'utf8' });
  if (m.status !== 0) fail('NC6100', { device, reason: `no BPF filesystem at ${BPFFS} and it cannot be mounted (${m.stderr.trim() || 'mount failed'}); run as root` });
}

export interface LinuxShimOptions {
  /** Skip the driver check for --mode offload, so a test can see the kernel's own refusal. */
  askKernelForOffload?: boolean;
}

export class LinuxDriverShim implements NfpDevice {
  readonly kind = 'linux' as const;
  readonly name: string;
  private readonly store: DeviceStateStore;
  private readonly netns = currentNetns();

  constructor(
    readonly netdev: NetdevInfo,
    stateDir: string,
    private readonly options: LinuxShimOptions = {},
  ) {
    this.name = netdev.name;
    // One record per device per network namespace: veth-b here and veth-b elsewhere are different devices.
    this.store = new DeviceStateStore(stateDir, `${netdev.name}@netns-${this.netns}`);
  }

  private locked<T>(body: () => T): T {
    this.store.ensureDir();
    return withDeviceLock(this.name, this.store.lockPath, body);
  }

  private recordPath(): string {
    return join(this.store.dir, 'netdev.json');
  }

  private readRecord(): ShimRecord | undefined {
    let text: string;
    try {
      text = readFileSync(this.recordPath(), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const r = JSON.parse(text) as ShimRecord;
      if (r.format !== 'nicoff-netdev') throw new Error('format');
      return r;
    } catch {
      return this.store.damaged('netdev.json does not parse');
    }
  }

  private writeRecord(r: ShimRecord | undefined): void {
    this.store.writeFile('netdev.json', r ? JSON.stringify(r, null, 1) : undefined);
  }

  /** The XDP program the kernel has attached to the device in `mode`, if any. */
  private attachedId(): { id: number; mode: string } | undefined {
    const r = bpftool(['net', 'show', 'dev', this.name]);
    if (!r.ok) return undefined;
    const xdp = (JSON.parse(r.stdout) as { xdp?: { devname: string; mode: string; id: number }[] }[])[0]?.xdp ?? [];
    const a = xdp.find((x) => x.devname === this.name);
    return a ? { id: a.id, mode: a.mode } : undefined;
  }

  private current(): ShimRecord {
    const r = this.readRecord();
    if (!r) return fail('NC6103', { device: this.name });
    return r;
  }

  load(request: DeviceLoadRequest): DeviceLoadReport {
    // nicoff's job is offload: that is the default, and on a device that is not an NFP the refusal names the alternatives.
    const mode: AttachMode = request.mode ?? 'offload';
    if (mode === 'offload' && this.netdev.driver !== NFP_DRIVER && !this.options.askKernelForOffload) {
      fail('NC6107', { device: this.name, driver: this.netdev.driver });
    }
    if (request.programType !== 'xdp') fail('NC6109', { device: this.name, reason: `nicoff attaches XDP programs to network devices; ${request.program} is ${request.programType}` });
    return this.locked(() => {
      const previous = this.readRecord();
      const attached = this.attachedId();
      if ((previous || attached) && !request.force) {
        const what = previous ? previous.program : `program id ${attached!.id} (attached by someone else)`;
        fail('NC6102', { device: this.name, program: what, since: previous?.since ?? 'unknown' });
      }
      ensureBpffs(this.name);
      const pinDir = mkdtempSync(join(BPFFS, 'nicoff-'));
      try {
        const progPin = join(pinDir, 'prog');
        const load = ['prog', 'load', request.objectPath, progPin, 'type', 'xdp', ...(mode === 'offload' ? ['dev', this.name] : [])];
        const loaded = bpftool(load);
        if (!loaded.ok) {
          // Offload to a device whose driver has no BPF offload ops fails at the first map or program the kernel is asked to create there.
          const hint = mode === 'offload' && this.netdev.driver !== NFP_DRIVER ? ` (driver ${this.netdev.driver} has no BPF offload; the kernel offloads only to drivers that implement it, such as nfp and netdevsim)` : '';
          fail('NC6108', { device: this.name, what: `loading ${request.objectPath}${mode === 'offload' ? ' for offload' : ''}`, reason: loaded.error + hint });
        }
        const show = bpftool(['prog', 'show', 'pinned', progPin]);
        const info = JSON.parse(show.stdout) as { id: number; name: string; map_ids?: number[] };
        const attach = bpftool(['net', 'attach', ATTACH_TYPE[mode], 'pinned', progPin, 'dev', this.name, ...(request.force ? ['overwrite'] : [])]);
        if (!attach.ok) fail('NC6108', { device: this.name, what: `attaching in ${mode} mode (${ATTACH_TYPE[mode]})`, reason: attach.error });
        const maps = (info.map_ids ?? []).map((id) => this.mapInfo(id)).filter((m): m is ShimRecord['maps'][number] => m !== undefined);
        const comparison = mode === 'offload' ? this.compareJit(progPin, request.kernelCompatImage) : undefined;
        const record: ShimRecord = {
          format: 'nicoff-netdev',
          device: this.name,
          netns: this.netns,
          program: request.program,
          type: request.programType,
          object: request.objectPath,
          since: new Date().toISOString(),
          mode,
          progId: info.id,
          maps,
          layouts: request.layouts,
          ...(comparison ? { comparison } : {}),
        };
        this.writeRecord(record);
        const notes = [`kernel program id ${info.id}, attached ${ATTACH_TYPE[mode]} to ${this.name} (driver ${this.netdev.driver})`];
        if (comparison) notes.push(comparison);
        return { status: this.statusOf(record), ...(previous ? { replaced: previous.program } : {}), notes };
      } finally {
        rmSync(pinDir, { recursive: true, force: true });
      }
    });
  }

  private mapInfo(id: number): ShimRecord['maps'][number] | undefined {
    const r = bpftool(['map', 'show', 'id', String(id)]);
    if (!r.ok) return undefined;
    const m = JSON.parse(r.stdout) as { name?: string; type: string; bytes_key: number; bytes_value: number; max_entries: number };
    // Global-data maps (.rodata, .bss) are internal; the program's own maps have names.
    return { name: m.name ?? `map_${id}`, id, type: m.type, keySize: m.bytes_key, valueSize: m.bytes_value, maxEntries: m.max_entries };
  }

  /** The kernel nfp JIT's words beside nicoff's kernel-compatible image. */
  private compareJit(progPin: string, ours: NfpImage | undefined): string {
    const dir = mkdtempSync(join(tmpdir(), 'nicoff-jit-'));
    try {
      const file = join(dir, 'jited.bin');
      const r = bpftool(['prog', 'dump', 'jited', 'pinned', progPin, 'file', file]);
      if (!r.ok) return `the kernel's JIT words could not be read back: ${r.error}`;
      const bytes = readFileSync(file);
      const words: bigint[] = [];
      for (let i = 0; i + 8 <= bytes.length; i += 8) words.push(bytes.readBigUInt64LE(i));
      if (!ours) return `the kernel JIT made ${words.length} NFP words (no nicoff image to compare)`;
      const raw = ours.words.length;
      const same = words.length === raw && ours.words.every((w, i) => (w & ((1n << 45n) - 1n)) === (words[i]! & ((1n << 45n) - 1n)));
      return same ? `the kernel JIT's ${words.length} words equal nicoff's kernel-compatible image` : `the kernel JIT made ${words.length} words; nicoff's kernel-compatible image has ${raw}; they differ`;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  unload(options: { force?: boolean } = {}): string | undefined {
    return this.locked(() => {
      let record: ShimRecord | undefined;
      try {
        record = this.readRecord();
      } catch (e) {
        if (!options.force) throw e;
      }
      const attached = this.attachedId();
      if (!record && !(attached && options.force)) return undefined;
      if (attached && (!record || attached.id === record.progId || options.force)) {
        const mode = record?.mode ?? (attached.mode === 'generic' ? 'generic' : attached.mode === 'offload' ? 'offload' : 'native');
        const r = bpftool(['net', 'detach', ATTACH_TYPE[mode], 'dev', this.name]);
        if (!r.ok) fail('NC6108', { device: this.name, what: 'detaching the program', reason: r.error });
      }
      this.writeRecord(undefined);
      return record?.program ?? `program id ${attached!.id}`;
    });
  }

  private statusOf(r: ShimRecord): DeviceStatus {
    return {
      device: this.name,
      kind: 'linux',
      driver: this.netdev.driver,
      loaded: {
        program: r.program,
        type: r.type,
        object: r.object,
        since: r.since,
        mode: r.mode,
        maps: r.maps.map((m) => this.deviceMap(r, m)),
        kernelProgramId: r.progId,
        ...(r.comparison ? { comparison: r.comparison } : {}),
      },
    };
  }

  private deviceMap(r: ShimRecord, m: ShimRecord['maps'][number]): DeviceMap {
    return deviceMapOf(m, m.id, r.layouts);
  }

  status(): DeviceStatus {
    return this.locked(() => {
      const r = this.readRecord();
      if (!r) {
        const attached = this.attachedId();
        const base: DeviceStatus = { device: this.name, kind: 'linux', driver: this.netdev.driver };
        return attached ? { ...base, loaded: { program: `id ${attached.id} (not loaded by nicoff)`, type: 'xdp', object: '', since: '', mode: attached.mode as AttachMode, maps: [], kernelProgramId: attached.id } } : base;
      }
      const attached = this.attachedId();
      if (!attached || attached.id !== r.progId) {
        fail('NC6100', { device: this.name, reason: `nicoff loaded ${r.program} (kernel id ${r.progId}) here, but ${attached ? `program id ${attached.id} is attached now` : 'nothing is attached now'}; \`nicoff unload --dev ${this.name} --force\` forgets it` });
      }
      return this.statusOf(r);
    });
  }

  maps(): DeviceMap[] {
    const r = this.current();
    return r.maps.map((m) => this.deviceMap(r, m));
  }

  private findMap(name: string): DeviceMap {
    const maps = this.maps();
    const m = maps.find((x) => x.name === name) ?? maps.find((x) => name.startsWith(x.name) && x.name.length === 15);
    if (!m) return fail('NC6104', { device: this.name, map: name, reason: `no such map (maps: ${maps.map((x) => x.name).join(', ') || 'none'})` });
    return m;
  }

  private checkSize(m: DeviceMap, part: 'key' | 'value', b: Uint8Array): void {
    const want = part === 'key' ? m.keySize : m.valueSize;
    if (b.length !== want) fail('NC6104', { device: this.name, map: m.name, reason: `${part} has ${b.length} bytes, the map's ${part}s have ${want}` });
  }

  mapDump(map: string): DeviceMapEntry[] {
    const m = this.findMap(map);
    const r = bpftool(['map', 'dump', 'id', String(m.id)]);
    if (!r.ok) fail('NC6108', { device: this.name, what: `dumping map ${m.name}`, reason: r.error });
    const rows = JSON.parse(r.stdout) as { key: string[]; value: string[] }[];
    return rows.map((row) => ({ key: bytesFromJson(row.key), value: bytesFromJson(row.value) }));
  }

  mapLookup(map: string, key: Uint8Array): Uint8Array | undefined {
    const m = this.findMap(map);
    this.checkSize(m, 'key', key);
    const r = bpftool(['map', 'lookup', 'id', String(m.id), 'key', ...bytesArg(key)]);
    if (!r.ok) {
      if (/no such file|not found|ENOENT/i.test(r.error)) return undefined;
      fail('NC6108', { device: this.name, what: `looking up in map ${m.name}`, reason: r.error });
    }
    return bytesFromJson((JSON.parse(r.stdout) as { value: string[] }).value);
  }

  mapUpdate(map: string, key: Uint8Array, value: Uint8Array, flag: MapUpdateFlag): void {
    const m = this.findMap(map);
    this.checkSize(m, 'key', key);
    this.checkSize(m, 'value', value);
    const r = bpftool(['map', 'update', 'id', String(m.id), 'key', ...bytesArg(key), 'value', ...bytesArg(value), flag]);
    if (!r.ok) fail('NC6104', { device: this.name, map: m.name, reason: `update refused by the kernel: ${r.error}` });
  }

  mapDelete(map: string, key: Uint8Array): void {
    const m = this.findMap(map);
    this.checkSize(m, 'key', key);
    const r = bpftool(['map', 'delete', 'id', String(m.id), 'key', ...bytesArg(key)]);
    if (!r.ok) fail('NC6104', { device: this.name, map: m.name, reason: `delete refused by the kernel: ${r.error}` });
  }

  run(): DeviceRunReport {
    return fail('NC6109', { device: this.name, reason: 'packets through a network device are real traffic: send them with the usual tools and read the maps (`nicoff map dump`); `nicoff run --dev simN` runs captures on a software NFP' });
  }
}
