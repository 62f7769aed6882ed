/**
 * Map tables as the firmware holds them: values in EMEM as card bytes, keys in
 * a host-side index. Two views:
 *
 * - card view (firmware helpers, CPP commands): raw bytes; atomic counter words
 *   are big-endian because the ME's atomic add works on big-endian words;
 * - host view (NfpMapTables.lookup/update/delete/entries): what bpf(2) shows,
 *   i.e. the driver's per-word byte swap applied to `atomicWords` (nfp-microcode.md D.5).
 *
 * Array maps are pre-populated with zeroed values, as the kernel does. A hash
 * update of an existing key rewrites the value in place (the kernel allocates a
 * new element; a program still holding the old value address would differ).
 */
import { fail } from '../../diagnostics/diagnostic.js';
import { EMEM_MAP_BASE, EMEM_TABLE_STRIDE, tableBase } from './memory-map.js';
import type { NfpMapDef } from './sim-types.js';

export interface NfpMapEntry {
  key: Uint8Array;
  value: Uint8Array;
}

/** Errno values the helpers and the host API return negated, as bpf_map_*_elem does. */
export const ERRNO = { ENOENT: 2, E2BIG: 7, EEXIST: 17, EINVAL: 22 } as const;
const BPF_NOEXIST = 1;
const BPF_EXIST = 2;
/** Table ids must keep the table's region below 2^40. */
const MAX_TABLE_ID = (2 ** 40 - EMEM_MAP_BASE) / EMEM_TABLE_STRIDE - 1;

export class MapTable {
  readonly def: NfpMapDef;
  /** Bytes per value slot: value size rounded up to 8 so 64-bit counters stay aligned. */
  readonly stride: number;
  readonly values: Uint8Array;
  readonly base: number;
  /** Scratch for the firmware helpers' key and value reads (no allocation per call). */
  readonly keyScratch: Uint8Array;
  readonly valueScratch: Uint8Array;
  private readonly index = new Map<string, number>();
  private readonly keys: (Uint8Array | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;

  constructor(def: NfpMapDef) {
    this.def = def;
    this.stride = Math.ceil(def.valueSize / 8) * 8;
    this.values = new Uint8Array(def.maxEntries * this.stride);
    this.base = tableBase(def.tableId);
    this.keyScratch = new Uint8Array(def.keySize);
    this.valueScratch = new Uint8Array(def.valueSize);
  }

  get isArray(): boolean {
    return this.def.type === 'array';
  }

  /** Value slot of a key, or -1. */
  slotOf(key: Uint8Array): number {
    if (this.isArray) {
      const i = (key[0]! | (key[1]! << 8) | (key[2]! << 16) | (key[3]! << 24)) >>> 0;
      return i < this.def.maxEntries ? i : -1;
    }
    return this.index.get(keyString(key)) ?? -1;
  }

  /** Card-view update; returns 0 or a negative errno. */
  update(key: Uint8Array, value: Uint8Array, flags: number): number {
    if (flags > BPF_EXIST || flags < 0) return -ERRNO.EINVAL;
    if (this.isArray) {
      const slot = this.slotOf(key);
      if (slot < 0) return -ERRNO.E2BIG;
      if (flags === BPF_NOEXIST) return -ERRNO.EEXIST;
      this.values.set(value.subarray(0, this.def.valueSize), slot * this.stride);
      return 0;
    }
    let slot = this.slotOf(key);
    if (slot >= 0 && flags === BPF_NOEXIST) return -ERRNO.EEXIST;
    if (slot < 0) {
      if (flags === BPF_EXIST) return -ERRNO.ENOENT;
      if (this.index.size >= this.def.maxEntries) return -ERRNO.E2BIG;
      slot = this.freeSlots.length ? this.freeSlots.pop()! : this.nextSlot++;
      const k = key.slice(0, this.def.keySize);
      this.index.set(keyString(k), slot);
      this.keys[slot] = k;
    }
    const at = slot * this.stride;
    this.values.fill(0, at, at + this.stride);
    this.values.set(value.subarray(0, this.def.valueSize), at);
    return 0;
  }

  delete(key: Uint8Array): number {
    if (this.isArray) return -ERRNO.EINVAL;
    const k = keyString(key.subarray(0, this.def.keySize));
    const slot = this.index.get(k);
    if (slot === undefined) return -ERRNO.ENOENT;
    this.index.delete(k);
    this.keys[slot] = undefined;
    this.freeSlots.push(slot);
    return 0;
  }

  /** Card-view entries: array in index order, hash in insertion order. */
  cardEntries(): NfpMapEntry[] {
    const out: NfpMapEntry[] = [];
    const value = (slot: number): Uint8Array => this.values.slice(slot * this.stride, slot * this.stride + this.def.valueSize);
    if (this.isArray) {
      for (let i = 0; i < this.def.maxEntries; i++) {
        out.push({ key: new Uint8Array([i & 0xff, (i >>> 8) & 0xff, (i >>> 16) & 0xff, i >>> 24]), value: value(i) });
      }
      return out;
    }
    for (const slot of this.index.values()) out.push({ key: this.keys[slot]!.slice(), value: value(slot) });
    return out;
  }
}

function keyString(key: Uint8Array): string {
  let s = '';
  for (let i = 0; i < key.length; i++) s += String.fromCharCode(key[i]!);
  return s;
}

/** Swap the bytes of each atomic word in place: card view <-> host view. */
function swapAtomicWords(value: Uint8Array, words: readonly number[] | undefined): Uint8Array {
  if (!words) return value;
  for (const w of words) {
    const i = w * 4;
    const b0 = value[i]!;
    const b1 = value[i + 1]!;
    value[i] = value[i + 3]!;
    value[i + 1] = value[i + 2]!;
    value[i + 2] = b1;
    value[i + 3] = b0;
  }
  return value;
}

export class NfpMapTables {
  private readonly byId = new Map<number, MapTable>();

  constructor(defs: readonly NfpMapDef[]) {
    for (const def of defs) {
      const bad = (reason: string): never => fail('NC6058', { map: def.name || String(def.tableId), reason });
      if (!Number.isInteger(def.tableId) || def.tableId < 0 || def.tableId > MAX_TABLE_ID) bad(`table id ${def.tableId} is outside 0..${MAX_TABLE_ID}`);
      if (this.byId.has(def.tableId)) bad(`table id ${def.tableId} is used twice`);
      if (!Number.isInteger(def.keySize) || def.keySize < 1) bad(`key size ${def.keySize}`);
      if (!Number.isInteger(def.valueSize) || def.valueSize < 1) bad(`value size ${def.valueSize}`);
      if (!Number.isInteger(def.maxEntries) || def.maxEntries < 1) bad(`max entries ${def.maxEntries}`);
      if (def.type === 'array' && def.keySize !== 4) bad(`an array map has 4-byte keys, not ${def.keySize}`);
      if (def.type !== 'array' && def.type !== 'hash') bad(`type ${String(def.type)} is not simulated (array and hash are)`);
      if (def.maxEntries * Math.ceil(def.valueSize / 8) * 8 > EMEM_TABLE_STRIDE) bad(`values need more than the table's ${EMEM_TABLE_STRIDE} bytes of EMEM`);
      for (const w of def.atomicWords ?? []) {
        if (!Number.isInteger(w) || w < 0 || (w + 1) * 4 > def.valueSize) bad(`atomic word ${w} is outside the ${def.valueSize}-byte value`);
      }
      this.byId.set(def.tableId, new MapTable(def));
    }
  }

  table(tableId: number): MapTable | undefined {
    return this.byId.get(tableId);
  }

  get tableIds(): number[] {
    return [...this.byId.keys()];
  }

  /** The table whose EMEM region holds `address` (40-bit), if any. */
  tableAt(address: number): MapTable | undefined {
    const id = Math.floor((address - EMEM_MAP_BASE) / EMEM_TABLE_STRIDE);
    return address >= EMEM_MAP_BASE ? this.byId.get(id) : undefined;
  }

  private hostTable(tableId: number, key: Uint8Array): MapTable {
    const t = this.byId.get(tableId);
    if (!t) return fail('NC6059', { table: tableId, reason: `no such table (tables: ${this.tableIds.join(', ') || 'none'})` });
    if (key.length !== t.def.keySize) fail('NC6059', { table: tableId, reason: `key has ${key.length} bytes, the map's keys ${t.def.keySize}` });
    return t;
  }

  /** Host view of a value, or undefined. */
  lookup(tableId: number, key: Uint8Array): Uint8Array | undefined {
    const t = this.hostTable(tableId, key);
    const slot = t.slotOf(key);
    if (slot < 0) return undefined;
    return swapAtomicWords(t.values.slice(slot * t.stride, slot * t.stride + t.def.valueSize), t.def.atomicWords);
  }

  /** Host-view update (flags: 0 BPF_ANY, 1 BPF_NOEXIST, 2 BPF_EXIST); returns 0 or a negative errno. */
  update(tableId: number, key: Uint8Array, value: Uint8Array, flags = 0): number {
    const t = this.hostTable(tableId, key);
    if (value.length !== t.def.valueSize) fail('NC6059', { table: tableId, reason: `value has ${value.length} bytes, the map's values ${t.def.valueSize}` });
    return t.update(key, swapAtomicWords(value.slice(), t.def.atomicWords), flags);
  }

  delete(tableId: number, key: Uint8Array): number {
    return this.hostTable(tableId, key).delete(key);
  }

  entries(tableId: number): NfpMapEntry[] {
    const t = this.byId.get(tableId);
    if (!t) return fail('NC6059', { table: tableId, reason: 'no such table' });
    return t.cardEntries().map((e) => ({ key: e.key, value: swapAtomicWords(e.value, t.def.atomicWords) }));
  }
}
