/**
 * The interpreter's memory: every object a program can point at (context,
 * packet buffer, stack frames, map values, map handles) is a region placed at
 * a fake base address `id << 32`. Pointers are plain 64-bit integers, so
 * clang's pointer arithmetic, comparisons and subtraction work unchanged; a
 * load or store splits the address back into (region, offset) and checks the
 * region's valid window, so an access outside any object faults instead of
 * reading host memory.
 */

export type RegionKind = 'ctx' | 'packet' | 'stack' | 'map_value' | 'map' | 'scratch';

/** Loads and stores that the context rewrites (pointers, computed fields). */
export interface ContextAccessor {
  load(off: number, size: number): bigint;
  store(off: number, size: number, value: bigint): void;
}

export interface Region {
  id: number;
  kind: RegionKind;
  name: string;
  bytes: Uint8Array;
  dv: DataView;
  /** Valid offsets are [lo, hi). */
  lo: number;
  hi: number;
  writable: boolean;
  ctx?: ContextAccessor;
  /** For kind 'map': the map's index in the MapRuntime. */
  mapIndex?: number;
}

export const REGION_SHIFT = 32n;
const OFFSET_MASK = 0xffffffffn;

export class MemoryFault extends Error {}

export class AddressSpace {
  readonly regions: (Region | undefined)[] = [undefined];

  /** Region ids below `reserved` are kept for per-run objects (ctx, packet, stacks). */
  constructor(reserved = 0) {
    for (let i = 1; i < reserved; i++) this.regions.push(undefined);
  }

  add(kind: RegionKind, name: string, bytes: Uint8Array, writable: boolean, id?: number): Region {
    const rid = id ?? this.regions.length;
    const r: Region = {
      id: rid,
      kind,
      name,
      bytes,
      dv: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      lo: 0,
      hi: bytes.length,
      writable,
    };
    this.regions[rid] = r;
    return r;
  }

  remove(id: number): void {
    this.regions[id] = undefined;
  }

  static base(id: number): bigint {
    return BigInt(id) << REGION_SHIFT;
  }

  /** Region and offset for an access of `size` bytes, or a MemoryFault. */
  resolve(addr: bigint, size: number): { region: Region; off: number } {
    const region = this.regions[Number(addr >> REGION_SHIFT)];
    const off = Number(addr & OFFSET_MASK);
    if (region === undefined || off < region.lo || off + size > region.hi) throw this.fault(addr, size);
    return { region, off };
  }

  fault(addr: bigint, size: number): MemoryFault {
    const region = this.regions[Number(addr >> REGION_SHIFT)];
    if (addr === 0n) return new MemoryFault(`access of ${size} bytes through a null pointer`);
    if (region === undefined) return new MemoryFault(`access of ${size} bytes at 0x${addr.toString(16)}, which is not in any object`);
    const off = Number(addr & OFFSET_MASK) | 0;
    return new MemoryFault(`access of ${size} bytes at offset ${off} of ${region.name}, whose valid range is [${region.lo}, ${region.hi})`);
  }

  load(addr: bigint, size: number): bigint {
    const region = this.regions[Number(addr >> REGION_SHIFT)];
    const off = Number(addr & OFFSET_MASK);
    if (region === undefined || off < region.lo || off + size > region.hi) throw this.fault(addr, size);
    if (region.ctx) return region.ctx.load(off, size);
    switch (size) {
      case 1:
        return BigInt(region.bytes[off]);
      case 2:
        return BigInt(region.dv.getUint16(off, true));
      case 4:
        return BigInt(region.dv.getUint32(off, true));
      default:
        return region.dv.getBigUint64(off, true);
    }
  }

  store(addr: bigint, size: number, value: bigint): void {
    const region = this.regions[Number(addr >> REGION_SHIFT)];
    const off = Number(addr & OFFSET_MASK);
    if (region === undefined || off < region.lo || off + size > region.hi) throw this.fault(addr, size);
    if (region.ctx) return region.ctx.store(off, size, value);
    if (!region.writable) throw new MemoryFault(`store to read-only ${region.name}`);
    switch (size) {
      case 1:
        region.bytes[off] = Number(value & 0xffn);
        return;
      case 2:
        region.dv.setUint16(off, Number(value & 0xffffn), true);
        return;
      case 4:
        region.dv.setUint32(off, Number(value & 0xffffffffn), true);
        return;
      default:
        region.dv.setBigUint64(off, BigInt.asUintN(64, value), true);
    }
  }

  /** A view of `len` bytes of plain memory (helpers' pointer arguments). */
  bytesAt(addr: bigint, len: number, forWrite = false): Uint8Array {
    if (len === 0) return new Uint8Array(0);
    const { region, off } = this.resolve(addr, len);
    if (region.ctx) throw new MemoryFault(`helper memory argument points into ${region.name}`);
    if (forWrite && !region.writable) throw new MemoryFault(`helper writes to read-only ${region.name}`);
    return region.bytes.subarray(off, off + len);
  }

  /** NUL-terminated string starting at addr, at most `max` bytes. */
  cString(addr: bigint, max: number): string {
    const { region, off } = this.resolve(addr, 1);
    let end = off;
    const limit = Math.min(region.hi, off + max);
    while (end < limit && region.bytes[end] !== 0) end++;
    return Buffer.from(region.bytes.subarray(off, end)).toString('latin1');
  }
}
