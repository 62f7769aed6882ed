/**
 * The software NFP as a device (`sim0`, `sim1`, ...): the loaded image and
 * every map live on disk (device-state-store.ts), so a load, a map update
 * from the command line and a run are separate processes on one device, the
 * way they are on a card. Each operation holds the device's lock
 * (device-lock.ts) from reading the state to committing the new one.
 *
 * Maps are rebuilt in the simulator's own tables (map-tables.ts) for every
 * operation, so an update from the host has the firmware's semantics (array
 * slots cannot be deleted, a full hash table refuses new keys, atomic
 * counters are byte-swapped as the driver does).
 */
import { fail } from '../../diagnostics/diagnostic.js';
import { formatValue, type ValueLayout } from '../../ebpf/map-value-layout.js';
import { readNfpImage } from '../image/read-image.js';
import { writeNfpImage } from '../image/write-image.js';
import { toLoadedProgram, type NfpImage } from '../image/nfp-image.js';
import { NfpSimulator, type NfpSimulatorOptions } from '../sim/nfp-simulator.js';
import { runCaptureOnNfp } from '../sim/run-capture-on-nfp.js';
import type { NfpMapDef } from '../sim/sim-types.js';
import { withDeviceLock } from './device-lock.js';
import { DeviceStateStore, sha256, STATE_FORMAT, STATE_VERSION, type DeviceStateBody, type StoredMap, type StoredProgram } from './device-state-store.js';
import {
  deviceMapOf,
  type DeviceLoadReport,
  type DeviceLoadRequest,
  type DeviceMap,
  type DeviceMapChange,
  type DeviceMapEntry,
  type DeviceRunOptions,
  type DeviceRunReport,
  type DeviceStatus,
  type MapUpdateFlag,
  type NfpDevice,
} from './nfp-device.js';

/** Negative errno values the map tables return, as the host's bpf(2) would name them. */
const ERRNO_NAMES: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 7: 'E2BIG', 17: 'EEXIST', 22: 'EINVAL' };
const FLAG_NUMBER: Record<MapUpdateFlag, number> = { any: 0, noexist: 1, exist: 2 };
/** Packets the 4-context throughput model runs per `run` (a model; the first N of the capture). */
const THROUGHPUT_SAMPLE = 65_536;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytesOf = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const isZero = (b: Uint8Array): boolean => b.every((x) => x === 0);


/** A loaded program opened for one operation: the image, a simulator whose maps hold the stored contents. */
interface OpenProgram {
  body: DeviceStateBody;
  loaded: StoredProgram;
  image: NfpImage;
  simulator: NfpSimulator;
}

export class SoftwareNfpDevice implements NfpDevice {
  readonly kind = 'software-nfp' as const;
  private readonly store: DeviceStateStore;

  constructor(
    readonly name: string,
    stateDir: string,
  ) {
    this.store = new DeviceStateStore(stateDir, name);
  }

  private locked<T>(body: () => T): T {
    this.store.ensureDir();
    return withDeviceLock(this.name, this.store.lockPath, body);
  }

  private emptyBody(generation: number): DeviceStateBody {
    return { format: STATE_FORMAT, version: STATE_VERSION, device: this.name, kind: 'software-nfp', generation };
  }

  private open(simOptions: NfpSimulatorOptions = {}): OpenProgram {
    const body = this.store.read();
    const loaded = body?.loaded;
    if (!body || !loaded) return fail('NC6103', { device: this.name });
    const image = readNfpImage(this.store.readImage(loaded), loaded.image);
    const simulator = new NfpSimulator(toLoadedProgram(image), simOptions);
    for (const stored of loaded.maps) {
      for (const [k, v] of stored.entries) {
        const rc = simulator.maps.update(stored.tableId, bytesOf(k), bytesOf(v));
        if (rc !== 0) this.store.damaged(`map ${stored.name} holds an entry the map refuses (${k} => ${v})`);
      }
    }
    return { body, loaded, image, simulator };
  }

  /** The maps' current contents, as stored: arrays keep non-zero slots. */
  private storedMaps(open: Pick<OpenProgram, 'image' | 'simulator'>): StoredMap[] {
    return open.image.maps.map((m) => ({
      tableId: m.tableId,
      name: m.name,
      entries: open.simulator.maps
        .entries(m.tableId)
        .filter((e) => m.type !== 'array' || !isZero(e.value))
        .map((e): [string, string] => [hex(e.key), hex(e.value)]),
    }));
  }

  private commit(open: OpenProgram, counters = open.loaded.counters): void {
    const loaded: StoredProgram = { ...open.loaded, maps: this.storedMaps(open), counters };
    this.store.write({ ...open.body, generation: open.body.generation + 1, loaded });
  }

  private deviceMaps(image: NfpImage, loaded: StoredProgram): DeviceMap[] {
    return image.maps.map((m) => this.deviceMap(m, loaded));
  }

  private deviceMap(m: NfpMapDef, loaded: StoredProgram): DeviceMap {
    return deviceMapOf(m, m.tableId, loaded.layouts as Record<string, { key?: ValueLayout; value?: ValueLayout }>);
  }

  private findMap(open: OpenProgram, name: string): NfpMapDef {
    const m = open.image.maps.find((x) => x.name === name) ?? (/^\d+$/.test(name) ? open.image.maps.find((x) => x.tableId === Number(name)) : undefined);
    if (!m) {
      const names = open.image.maps.map((x) => x.name).join(', ') || 'none';
      return fail('NC6104', { device: this.name, map: name, reason: `no such map (maps of ${open.loaded.program}: ${names})` });
    }
    return m;
  }

  private checkSize(m: NfpMapDef, part: 'key' | 'value', bytes: Uint8Array): void {
    const want = part === 'key' ? m.keySize : m.valueSize;
    if (bytes.length !== want) fail('NC6104', { device: this.name, map: m.name, reason: `${part} has ${bytes.length} bytes, the map's ${part}s have ${want}` });
  }

  private refused(m: NfpMapDef, what: string, rc: number): never {
    const name = ERRNO_NAMES[-rc] ?? `errno ${-rc}`;
    const why: Record<string, string> = {
      ENOENT: 'no such key',
      EEXIST: 'the key exists (noexist was asked)',
      // As the kernel: an array index past the end is E2BIG, deleting an array slot EINVAL.
      E2BIG: m.type === 'array' ? `the index is outside the array (0..${m.maxEntries - 1})` : `the map is full (${m.maxEntries} entries)`,
      EINVAL: m.type === 'array' && what === 'delete' ? 'array slots cannot be deleted' : 'invalid argument',
    };
    return fail('NC6104', { device: this.name, map: m.name, reason: `${what} refused: ${why[name] ?? name} (${name})` });
  }

  load(request: DeviceLoadRequest): DeviceLoadReport {
    if (request.mode === 'native' || request.mode === 'generic') {
      fail('NC6109', { device: this.name, reason: `--mode ${request.mode} attaches to a network device's XDP path; a software NFP runs the offloaded image itself (leave --mode out)` });
    }
    const image = request.image ?? fail('NC9001', { reason: 'a software NFP load needs a compiled image' });
    return this.locked(() => {
      let previous: DeviceStateBody | undefined;
      try {
        previous = this.store.read();
      } catch (e) {
        // A damaged state is replaced by --force, like a loaded program.
        if (!request.force) throw e;
      }
      if (previous?.loaded && !request.force) fail('NC6102', { device: this.name, program: previous.loaded.program, since: previous.loaded.since });
      const generation = (previous?.generation ?? 0) + 1;
      const imageBytes = writeNfpImage(image);
      const loaded: StoredProgram = {
        program: request.program,
        type: request.programType,
        object: request.objectPath,
        objectSha256: sha256(request.objectBytes),
        since: new Date().toISOString(),
        image: `image-${generation}.nfp`,
        imageSha256: sha256(imageBytes),
        layouts: Object.fromEntries(Object.entries(request.layouts).map(([k, v]) => [k, { key: v.key, value: v.value }])),
        maps: image.maps.map((m) => ({ tableId: m.tableId, name: m.name, entries: [] })),
        counters: { runs: 0, packets: 0, actions: {}, faults: 0 },
      };
      this.store.write({ ...this.emptyBody(generation), loaded }, imageBytes);
      const notes = [`${image.words.length} NFP instructions in the code store; maps created empty (arrays zeroed)`];
      return { status: this.statusOf(image, loaded), ...(previous?.loaded ? { replaced: previous.loaded.program } : {}), notes };
    });
  }

  unload(options: { force?: boolean } = {}): string | undefined {
    return this.locked(() => {
      let body: DeviceStateBody | undefined;
      try {
        body = this.store.read();
      } catch (e) {
        if (!options.force) throw e;
        this.store.reset();
        return 'a damaged state';
      }
      if (!body?.loaded) return undefined;
      this.store.write(this.emptyBody(body.generation + 1));
      return body.loaded.program;
    });
  }

  private statusOf(image: NfpImage, loaded: StoredProgram): DeviceStatus {
    return {
      device: this.name,
      kind: 'software-nfp',
      loaded: {
        program: loaded.program,
        type: loaded.type,
        object: loaded.object,
        since: loaded.since,
        mode: 'software',
        maps: this.deviceMaps(image, loaded),
        counters: loaded.counters,
      },
    };
  }

  status(): DeviceStatus {
    return this.locked(() => {
      const body = this.store.read();
      if (!body?.loaded) return { device: this.name, kind: 'software-nfp' };
      const image = readNfpImage(this.store.readImage(body.loaded), body.loaded.image);
      return this.statusOf(image, body.loaded);
    });
  }

  maps(): DeviceMap[] {
    const loaded = this.status().loaded;
    if (!loaded) return fail('NC6103', { device: this.name });
    return loaded.maps;
  }

  mapDump(map: string): DeviceMapEntry[] {
    return this.locked(() => {
      const o = this.open();
      const m = this.findMap(o, map);
      return o.simulator.maps.entries(m.tableId);
    });
  }

  mapLookup(map: string, key: Uint8Array): Uint8Array | undefined {
    return this.locked(() => {
      const o = this.open();
      const m = this.findMap(o, map);
      this.checkSize(m, 'key', key);
      return o.simulator.maps.lookup(m.tableId, key);
    });
  }

  mapUpdate(map: string, key: Uint8Array, value: Uint8Array, flag: MapUpdateFlag): void {
    this.locked(() => {
      const o = this.open();
      const m = this.findMap(o, map);
      this.checkSize(m, 'key', key);
      this.checkSize(m, 'value', value);
      const rc = o.simulator.maps.update(m.tableId, key, value, FLAG_NUMBER[flag]);
      if (rc !== 0) this.refused(m, 'update', rc);
      this.commit(o);
    });
  }

  mapDelete(map: string, key: Uint8Array): void {
    this.locked(() => {
      const o = this.open();
      const m = this.findMap(o, map);
      this.checkSize(m, 'key', key);
      const rc = o.simulator.maps.delete(m.tableId, key);
      if (rc !== 0) this.refused(m, 'delete', rc);
      this.commit(o);
    });
  }

  run(frames: readonly Uint8Array[], options: DeviceRunOptions = {}): DeviceRunReport {
    return this.locked(() => {
      const o = this.open(options.watchdogCycles !== undefined ? { watchdogCycles: options.watchdogCycles } : {});
      const before = this.storedMaps(o);
      const summary = runCaptureOnNfp(toLoadedProgram(o.image), frames, {
        simulator: o.simulator,
        keepResults: false,
        throughputSample: THROUGHPUT_SAMPLE,
        ...(options.onResult ? { onResult: options.onResult } : {}),
        ...(options.watchdogCycles !== undefined ? { watchdogCycles: options.watchdogCycles } : {}),
      });
      const after = this.storedMaps(o);
      const c = o.loaded.counters;
      const actions = { ...c.actions };
      for (const [k, v] of Object.entries(summary.actions)) actions[k] = (actions[k] ?? 0) + (v ?? 0);
      const faults = Object.values(summary.faults).reduce((a, b) => a + b, 0);
      this.commit(o, { runs: c.runs + 1, packets: c.packets + frames.length, actions, faults: c.faults + faults, lastRun: new Date().toISOString() });
      return { summary, changes: mapChanges(before, after, o.image.maps), maps: this.deviceMaps(o.image, o.loaded) };
    });
  }
}

/** Entries that differ between two stored snapshots; an array slot absent from one is zero there, not missing. */
function mapChanges(before: StoredMap[], after: StoredMap[], defs: readonly NfpMapDef[]): DeviceMapChange[] {
  const out: DeviceMapChange[] = [];
  after.forEach((a, i) => {
    const def = defs[i]!;
    const zero = def.type === 'array' ? hex(new Uint8Array(def.valueSize)) : undefined;
    const old = new Map(before[i]?.entries ?? []);
    const now = new Map(a.entries);
    const side = (v: string | undefined) => (v ?? zero) === undefined ? {} : { v: bytesOf((v ?? zero)!) };
    for (const k of new Set([...now.keys(), ...old.keys()])) {
      if (old.get(k) === now.get(k)) continue;
      const b = side(old.get(k)).v;
      const n = side(now.get(k)).v;
      out.push({ map: a.name, key: bytesOf(k), ...(b ? { before: b } : {}), ...(n ? { after: n } : {}) });
    }
  });
  return out;
}

/** `key => value` under the map's layouts (typed when BTF knew the types). */
export function formatEntry(m: DeviceMap, e: { key: Uint8Array; value?: Uint8Array }): string {
  return `${formatValue(m.key, e.key)} => ${e.value ? formatValue(m.value, e.value) : '(none)'}`;
}
