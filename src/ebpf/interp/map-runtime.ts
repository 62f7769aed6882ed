/**
 * Map state for the reference interpreter: one store per MapDef of the
 * object, with the kernel's update/lookup/delete semantics and errno returns.
 *
 * Values live in AddressSpace regions so that a looked-up value pointer is an
 * ordinary address the program can load from and store to.
 *
 * Approximations (documented in docs/ARCHITECTURE.md terms):
 * - Per-CPU maps keep `cpus` copies (default 1); a run touches the copy of
 *   `opts.cpu` (default 0). The kernel's test_run uses whatever CPU it runs on.
 * - lru_hash evicts the least recently used entry (lookup and update count as
 *   use) when an insert finds the map full. The kernel's LRU works on per-CPU
 *   lists in batches, so which entry it drops can differ; with fewer live
 *   entries than max_entries both behave like a plain hash.
 * - Updating an existing (non-per-CPU) hash element swaps in a new value
 *   region as the kernel swaps in a new element, so a pointer taken before
 *   the update keeps seeing the old bytes; the last STALE_KEPT replaced
 *   regions stay readable (the kernel reuses freed elements at some point).
 */
import { MAP_TYPE, type MapDef } from '../bpf-object.js';
import { AddressSpace, type Region } from './address-space.js';

export const EPERM = 1;
export const ENOENT = 2;
export const E2BIG = 7;
export const EBUSY = 16;
export const EEXIST = 17;
export const EINVAL = 22;
export const ENOSPC = 28;
export const EOPNOTSUPP = 95;
export const ENOTSUPP = 524;

export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
export const BPF_F_LOCK = 4;

/** Region ids 1..RESERVED_REGIONS-1 belong to one run (ctx, packet, stacks, scratch). */
export const RESERVED_REGIONS = 16;

/** How many replaced hash elements stay readable (see MapRuntime.retire). */
const STALE_KEPT = 256;

interface HashEntry {
  key: Uint8Array;
  /** One region per CPU for per-CPU maps, else one. */
  values: Region[];
}

export interface MapEntryDump {
  key: Uint8Array;
  /** One element per CPU for per-CPU maps; otherwise exactly one. */
  values: Uint8Array[];
}

export interface PerfRecord {
  map: string;
  /** Index in the perf_event_array the record went to (the CPU for BPF_F_CURRENT_CPU). */
  index: number;
  data: Uint8Array;
}

export interface MapState {
  def: MapDef;
  /** Handle region: what an ld_imm64 BPF_PSEUDO_MAP_FD loads. */
  handle: Region;
  percpu: boolean;
  /** array / percpu_array / prog_array / devmap ...: element regions per CPU (array is one region, stride * maxEntries). */
  arrayRegions?: Region[];
  stride: number;
  /** hash-like maps, keyed by hex of the key. */
  hash?: Map<string, HashEntry>;
  /** prog_array: program index per slot; map-in-map: inner map index per slot (array) */
  slots?: (number | undefined)[];
  /** hash_of_maps: inner map index per key. */
  innerByKey?: Map<string, { key: Uint8Array; inner: number }>;
  /** queue / stack maps. */
  queue?: Uint8Array[];
}

function hexKey(key: Uint8Array): string {
  return Buffer.from(key).toString('hex');
}

const ARRAY_LIKE = new Set<number>([
  MAP_TYPE.array,
  MAP_TYPE.percpu_array,
  MAP_TYPE.perf_event_array,
  MAP_TYPE.cgroup_array,
]);
const SLOT_ARRAYS = new Set<number>([MAP_TYPE.prog_array, MAP_TYPE.array_of_maps, MAP_TYPE.devmap, MAP_TYPE.cpumap, MAP_TYPE.xskmap]);
const HASH_LIKE = new Set<number>([
  MAP_TYPE.hash,
  MAP_TYPE.percpu_hash,
  MAP_TYPE.lru_hash,
  MAP_TYPE.lru_percpu_hash,
  MAP_TYPE.lpm_trie,
  MAP_TYPE.devmap_hash,
]);

export class MapRuntime {
  readonly space = new AddressSpace(RESERVED_REGIONS);
  readonly maps: MapState[] = [];
  readonly cpus: number;

  constructor(defs: readonly MapDef[], opts: { cpus?: number } = {}) {
    this.cpus = opts.cpus ?? 1;
    for (const def of defs) this.addMap(def);
  }

  /** Adds a map (also used for inner maps of map-in-map); returns its index. */
  addMap(def: MapDef): number {
    const index = this.maps.length;
    const handle = this.space.add('map', `map ${def.name}`, new Uint8Array(0), false);
    handle.mapIndex = index;
    const percpu =
      def.type === MAP_TYPE.percpu_array || def.type === MAP_TYPE.percpu_hash || def.type === MAP_TYPE.lru_percpu_hash;
    const state: MapState = { def, handle, percpu, stride: (def.valueSize + 7) & ~7 };
    if (ARRAY_LIKE.has(def.type)) {
      state.arrayRegions = [];
      for (let c = 0; c < (percpu ? this.cpus : 1); c++) {
        const bytes = new Uint8Array(state.stride * def.maxEntries);
        state.arrayRegions.push(this.space.add('map_value', `value of map ${def.name}`, bytes, !def.readOnly));
      }
      if (def.initialValue) state.arrayRegions[0].bytes.set(def.initialValue.subarray(0, def.valueSize));
    } else if (SLOT_ARRAYS.has(def.type)) {
      state.slots = new Array(def.maxEntries).fill(undefined);
    } else if (def.type === MAP_TYPE.hash_of_maps) {
      state.innerByKey = new Map();
    } else if (def.type === MAP_TYPE.queue || def.type === MAP_TYPE.stack) {
      state.queue = [];
    } else {
      state.hash = new Map();
    }
    this.maps.push(state);
    return index;
  }

  mapIndexByName(name: string): number {
    const i = this.maps.findIndex((m) => m.def.name === name);
    if (i < 0) throw new Error(`no map named ${name}`);
    return i;
  }

  // ---- generic element API (CLI, tests, and the helpers) ----

  /** Value region(s) of an element; for per-CPU maps index by cpu. */
  lookupRegion(mapIndex: number, key: Uint8Array, cpu: number): { region: Region; off: number } | undefined {
    const m = this.maps[mapIndex];
    const t = m.def.type;
    if (m.arrayRegions) {
      const idx = readU32(key);
      if (idx >= m.def.maxEntries) return undefined;
      return { region: m.arrayRegions[m.percpu ? cpu : 0], off: idx * m.stride };
    }
    if (m.hash) {
      const e = t === MAP_TYPE.lpm_trie ? this.lpmMatch(m, key) : m.hash.get(hexKey(key));
      if (!e) return undefined;
      if (t === MAP_TYPE.lru_hash || t === MAP_TYPE.lru_percpu_hash) {
        const k = hexKey(key);
        m.hash.delete(k);
        m.hash.set(k, e);
      }
      return { region: e.values[m.percpu ? cpu : 0], off: 0 };
    }
    return undefined;
  }

  /** Inner map index for map-in-map lookups. */
  lookupInner(mapIndex: number, key: Uint8Array): number | undefined {
    const m = this.maps[mapIndex];
    if (m.innerByKey) return m.innerByKey.get(hexKey(key))?.inner;
    if (m.slots && m.def.type === MAP_TYPE.array_of_maps) {
      const idx = readU32(key);
      return idx < m.def.maxEntries ? m.slots[idx] : undefined;
    }
    return undefined;
  }

  /** Copy of the value (first CPU's copy for per-CPU maps unless cpu given). */
  lookup(mapIndex: number, key: Uint8Array, cpu = 0): Uint8Array | undefined {
    const m = this.maps[mapIndex];
    const r = this.lookupRegion(mapIndex, key, cpu);
    return r ? r.region.bytes.slice(r.off, r.off + m.def.valueSize) : undefined;
  }

  /**
   * bpf_map_update_elem: returns 0 or a negative errno. `value` is copied to
   * every CPU when `allCpus` (the syscall's view), else to `cpu`'s copy.
   */
  update(mapIndex: number, key: Uint8Array, value: Uint8Array, flags: number, cpu = 0, allCpus = false): number {
    const m = this.maps[mapIndex];
    const t = m.def.type;
    // The kernel's order of checks (array_map_update_elem, htab_map_update_elem).
    // BPF_F_LOCK needs a bpf_spin_lock in the value, which nicoff's maps never have.
    if ((flags & ~BPF_F_LOCK) > BPF_EXIST) return -EINVAL;
    const mode = flags & 3;
    if (m.arrayRegions) {
      const idx = readU32(key);
      if (idx >= m.def.maxEntries) return -E2BIG;
      if (mode === BPF_NOEXIST) return -EEXIST;
      if (flags & BPF_F_LOCK) return -EINVAL;
      const cpusToWrite = m.percpu ? (allCpus ? [...Array(this.cpus).keys()] : [cpu]) : [0];
      for (const c of cpusToWrite) m.arrayRegions[m.percpu ? c : 0].bytes.set(value.subarray(0, m.def.valueSize), idx * m.stride);
      return 0;
    }
    if (m.slots) {
      const idx = readU32(key);
      if (idx >= m.def.maxEntries) return -E2BIG;
      if (mode === BPF_NOEXIST) return -EEXIST;
      m.slots[idx] = readU32(value);
      return 0;
    }
    if (m.innerByKey) {
      const k = hexKey(key);
      const exists = m.innerByKey.has(k);
      if (mode === BPF_NOEXIST && exists) return -EEXIST;
      if (mode === BPF_EXIST && !exists) return -ENOENT;
      if (!exists && m.innerByKey.size >= m.def.maxEntries) return -E2BIG;
      m.innerByKey.set(k, { key: key.slice(), inner: readU32(value) });
      return 0;
    }
    if (m.queue) return this.push(mapIndex, value, flags);
    const hash = m.hash!;
    if (flags & BPF_F_LOCK) return -EINVAL;
    if (t === MAP_TYPE.lpm_trie) {
      const prefix = readU32(key);
      if (prefix > (m.def.keySize - 4) * 8) return -EINVAL;
      key = lpmCanonical(key, prefix);
    }
    const k = hexKey(key);
    const e = hash.get(k);
    if (mode === BPF_NOEXIST && e) return -EEXIST;
    if (mode === BPF_EXIST && !e) return -ENOENT;
    const lru = t === MAP_TYPE.lru_hash || t === MAP_TYPE.lru_percpu_hash;
    if (e) {
      if (m.percpu) {
        // Per-CPU values are copied in place (pcpu_copy_value).
        const cpusToWrite = allCpus ? [...Array(this.cpus).keys()] : [cpu];
        for (const c of cpusToWrite) e.values[c].bytes.set(value.subarray(0, m.def.valueSize));
      } else {
        // The kernel links a new element in and frees the old one to its free
        // list (htab_map_update_elem, trie_update_elem): a pointer looked up
        // before the update keeps reading the old bytes (checked with
        // BPF_PROG_TEST_RUN on 6.18, test/oracle/fixtures/helper_returns.c).
        const old = e.values[0];
        const bytes = new Uint8Array(m.stride || 8);
        bytes.set(value.subarray(0, m.def.valueSize));
        const fresh = this.space.add('map_value', `value of map ${m.def.name}`, bytes, true);
        fresh.hi = m.def.valueSize;
        e.values[0] = fresh;
        this.retire(old);
      }
      if (lru) {
        hash.delete(k);
        hash.set(k, e);
      }
      return 0;
    }
    if (hash.size >= m.def.maxEntries) {
      if (!lru) return t === MAP_TYPE.lpm_trie ? -ENOSPC : -E2BIG;
      const oldest = hash.keys().next().value as string;
      this.dropHashEntry(m, oldest);
    }
    const values: Region[] = [];
    for (let c = 0; c < (m.percpu ? this.cpus : 1); c++) {
      const bytes = new Uint8Array(m.stride || 8);
      if (!m.percpu || allCpus || c === cpu) bytes.set(value.subarray(0, m.def.valueSize));
      values.push(this.space.add('map_value', `value of map ${m.def.name}`, bytes, true));
      values[c].hi = m.def.valueSize;
    }
    hash.set(k, { key: key.slice(), values });
    return 0;
  }

  /** bpf_map_delete_elem: 0 or a negative errno. */
  delete(mapIndex: number, key: Uint8Array): number {
    const m = this.maps[mapIndex];
    if (m.arrayRegions) return -EINVAL;
    if (m.slots) {
      const idx = readU32(key);
      if (idx >= m.def.maxEntries) return -E2BIG;
      if (m.slots[idx] === undefined) return -ENOENT;
      m.slots[idx] = undefined;
      return 0;
    }
    if (m.innerByKey) return m.innerByKey.delete(hexKey(key)) ? 0 : -ENOENT;
    if (m.queue) return -EINVAL;
    if (m.def.type === MAP_TYPE.lpm_trie) key = lpmCanonical(key, readU32(key));
    const k = hexKey(key);
    if (!m.hash!.has(k)) return -ENOENT;
    this.dropHashEntry(m, k);
    return 0;
  }

  /**
   * Old elements replaced by an update stay readable for a while, as in the
   * kernel where they sit on the free list until reused; the oldest of more
   * than STALE_KEPT are dropped (a pointer to them then faults instead of
   * aliasing whatever the kernel would have reused the memory for).
   */
  private readonly stale: Region[] = [];
  private retire(region: Region): void {
    this.stale.push(region);
    if (this.stale.length > STALE_KEPT) this.space.remove(this.stale.shift()!.id);
  }

  private dropHashEntry(m: MapState, k: string): void {
    const e = m.hash!.get(k)!;
    // Stale pointers to a deleted element must fault rather than alias a new one.
    for (const r of e.values) this.space.remove(r.id);
    m.hash!.delete(k);
  }

  push(mapIndex: number, value: Uint8Array, flags: number): number {
    const m = this.maps[mapIndex];
    if (!m.queue) return -EINVAL;
    if (flags & ~BPF_EXIST) return -EINVAL;
    if (m.queue.length >= m.def.maxEntries) {
      if (!(flags & BPF_EXIST)) return -E2BIG;
      m.queue.shift();
    }
    m.queue.push(value.slice(0, m.def.valueSize));
    return 0;
  }

  /** Pop or peek: the value or -ENOENT. Queue = FIFO, stack = LIFO. */
  pop(mapIndex: number, remove: boolean): Uint8Array | number {
    const m = this.maps[mapIndex];
    if (!m.queue) return -EINVAL;
    if (m.queue.length === 0) return -ENOENT;
    const fifo = m.def.type === MAP_TYPE.queue;
    const v = fifo ? m.queue[0] : m.queue[m.queue.length - 1];
    if (remove) {
      if (fifo) m.queue.shift();
      else m.queue.pop();
    }
    return v;
  }

  /** prog_array slot -> program index in the object. */
  progAt(mapIndex: number, idx: number): number | undefined {
    const m = this.maps[mapIndex];
    return m.slots && idx < m.def.maxEntries ? m.slots[idx] : undefined;
  }

  setProg(mapIndex: number, idx: number, programIndex: number | undefined): void {
    this.maps[mapIndex].slots![idx] = programIndex;
  }

  /** Every live element, in key order for arrays and insertion order for hashes. */
  dump(mapIndex: number): MapEntryDump[] {
    const m = this.maps[mapIndex];
    const out: MapEntryDump[] = [];
    const keyOf = (i: number) => {
      const k = new Uint8Array(4);
      new DataView(k.buffer).setUint32(0, i, true);
      return k;
    };
    if (m.arrayRegions) {
      for (let i = 0; i < m.def.maxEntries; i++) {
        out.push({
          key: keyOf(i),
          values: m.arrayRegions.map((r) => r.bytes.slice(i * m.stride, i * m.stride + m.def.valueSize)),
        });
      }
    } else if (m.slots) {
      m.slots.forEach((v, i) => {
        if (v === undefined) return;
        out.push({ key: keyOf(i), values: [keyOf(v)] });
      });
    } else if (m.innerByKey) {
      for (const e of m.innerByKey.values()) out.push({ key: e.key.slice(), values: [keyOf(e.inner)] });
    } else if (m.queue) {
      for (const v of m.queue) out.push({ key: new Uint8Array(0), values: [v.slice()] });
    } else {
      for (const e of m.hash!.values()) out.push({ key: e.key.slice(), values: e.values.map((r) => r.bytes.slice(0, m.def.valueSize)) });
    }
    return out;
  }

  private lpmMatch(m: MapState, key: Uint8Array): HashEntry | undefined {
    const max = Math.min(readU32(key), (m.def.keySize - 4) * 8);
    let best: HashEntry | undefined;
    let bestLen = -1;
    for (const e of m.hash!.values()) {
      const plen = readU32(e.key);
      if (plen > max || plen <= bestLen) continue;
      if (prefixEqual(e.key, key, plen)) {
        best = e;
        bestLen = plen;
      }
    }
    return best;
  }
}

function readU32(b: Uint8Array): number {
  return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
}

function prefixEqual(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  let i = 0;
  for (; bits >= 8; bits -= 8, i++) if (a[4 + i] !== b[4 + i]) return false;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (a[4 + i] & mask) === (b[4 + i] & mask);
}

/** LPM keys are stored with the bits past the prefix cleared, as the trie ignores them. */
function lpmCanonical(key: Uint8Array, prefix: number): Uint8Array {
  const out = key.slice();
  for (let bit = prefix; bit < (key.length - 4) * 8; bit++) out[4 + (bit >> 3)] &= ~(0x80 >> (bit & 7));
  return out;
}

export function createMapRuntime(defs: readonly MapDef[], opts: { cpus?: number } = {}): MapRuntime {
  return new MapRuntime(defs, opts);
}
