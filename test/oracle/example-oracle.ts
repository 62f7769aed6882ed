/**
 * Kernel-vs-interpreter comparison for the example programs: one kernel batch
 * per program (maps carry over from packet to packet, never reset, in both
 * engines), map dumps after every packet, and an exact comparison of return
 * value, output bytes, ctx_out fields and every map after every packet.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadObject } from '../../src/ebpf/load-object.js';
import type { BpfObject, BpfProgram } from '../../src/ebpf/bpf-object.js';
import { MAP_TYPE } from '../../src/ebpf/bpf-object.js';
import { assertLoaded, programRequestFromObject, runInKernelSync } from '../../src/ebpf/kernel/kernel-runner.js';
import type { KernelMapDump, KernelMapUpdate } from '../../src/ebpf/kernel/kernel-runner.js';
import { createMapRuntime, runProgram, type MapRuntime } from '../../src/ebpf/interp/index.js';
import { readCapture } from '../../src/pcap/index.js';

export const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples');

export function loadExample(name: string): { obj: BpfObject; packets: Uint8Array[] } {
  const path = join(EXAMPLES, `${name}.o`);
  const obj = loadObject(new Uint8Array(readFileSync(path)), { path });
  const cap = readCapture(new Uint8Array(readFileSync(join(EXAMPLES, `${name}.pcap`))));
  return { obj, packets: cap.packets.map((p) => p.data) };
}

import { seeded } from '../support/seeded-random.js';
export { seeded };

/**
 * `count` seeded mutations of the capture's packets: truncations (to >= 14
 * bytes), byte flips in the first 80 bytes (the headers the programs parse),
 * random lengths (cut or padded with random bytes) and combinations.
 */
export function mutatePackets(base: Uint8Array[], count: number, seed: number): Uint8Array[] {
  const rand = seeded(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    let p = base[int(base.length)].slice();
    const kind = i % 4;
    if (kind === 0 || kind === 3) {
      const len = 14 + int(Math.max(1, p.length - 13));
      p = p.slice(0, Math.max(14, Math.min(len, p.length)));
    }
    if (kind === 1 || kind === 3) {
      const flips = 1 + int(4);
      for (let f = 0; f < flips; f++) {
        const at = int(Math.min(p.length, 80));
        p[at] ^= 1 << int(8);
      }
    }
    if (kind === 2) {
      const len = 14 + int(200);
      const q = new Uint8Array(len);
      q.set(p.subarray(0, Math.min(len, p.length)));
      for (let j = p.length; j < len; j++) q[j] = int(256);
      p = q;
    }
    if (p.length < 14) p = p.length ? Uint8Array.from([...p, ...new Uint8Array(14 - p.length)]) : new Uint8Array(14);
    out.push(p);
  }
  return out;
}

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Map contents as sorted `key=value` strings; per-CPU values summed as little-endian u64 words. */
function canonicalKernel(d: KernelMapDump, percpu: boolean): string[] {
  return d.entries.map((e) => `${hex(e.key)}=${hex(percpu ? sumPerCpu(e.values) : e.values[0])}`).sort();
}

function canonicalInterp(maps: MapRuntime, index: number, percpu: boolean): string[] {
  return maps
    .dump(index)
    .map((e) => `${hex(e.key)}=${hex(percpu ? sumPerCpu(e.values) : e.values[0])}`)
    .sort();
}

function sumPerCpu(values: Uint8Array[]): Uint8Array {
  const len = values[0]?.length ?? 0;
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  for (let off = 0; off + 8 <= len; off += 8) {
    let s = 0n;
    for (const v of values) s += new DataView(v.buffer, v.byteOffset, v.byteLength).getBigUint64(off, true);
    dv.setBigUint64(off, BigInt.asUintN(64, s), true);
  }
  return out;
}

const PERCPU = new Set<number>([MAP_TYPE.percpu_array, MAP_TYPE.percpu_hash, MAP_TYPE.lru_percpu_hash]);

export interface CompareOptions {
  /** Maps set up before the first packet in both engines. */
  mapUpdatesBefore?: KernelMapUpdate[];
  /** ctx_out u32 offsets to compare (e.g. __sk_buff mark, priority). */
  ctxFields?: { name: string; off: number }[];
  /**
   * A map field that depends on time: the comparator for a map's canonical
   * entries. Default exact equality.
   */
  mapCompare?: Record<string, (kernel: string[], interp: string[]) => string | undefined>;
  /** Packets whose verdict depends on time (called in packet order): their retval is not compared. */
  timeDependent?: (packet: Uint8Array, index: number) => boolean;
  ktimeNs?: () => bigint;
}

export interface Difference {
  program: string;
  packet: number;
  hex: string;
  field: string;
  kernel: string;
  interp: string;
}

export interface CompareResult {
  program: string;
  packets: number;
  compared: number;
  /** Packets the kernel refused (EINVAL) and the interpreter also refused (NC3004). */
  refusedByBoth: number;
  /** Kernel return values and how often each came back. */
  verdicts: Record<number, number>;
  differences: Difference[];
}

/**
 * Runs `packets` through the kernel (one batch) and the interpreter, in the
 * same order with maps carried over, and lists every difference.
 */
export function compareProgram(obj: BpfObject, prog: BpfProgram, packets: Uint8Array[], opts: CompareOptions = {}): CompareResult {
  const req = programRequestFromObject(
    obj,
    prog,
    packets.map((data, i) => ({
      data,
      ...(opts.ctxFields ? { ctxOutSize: 1024 } : {}),
      ...(i === 0 && opts.mapUpdatesBefore ? { mapUpdatesBefore: opts.mapUpdatesBefore } : {}),
    })),
  );
  req.dumpMapsAfterEach = true;
  req.dumpMapsAtEnd = false;
  const kernel = runInKernelSync(req);
  assertLoaded(kernel);
  const maps = createMapRuntime(obj.maps);
  for (const u of opts.mapUpdatesBefore ?? []) {
    const index = typeof u.map === 'number' ? u.map : maps.mapIndexByName(u.map);
    const rc = maps.update(index, u.key, u.value, 0, 0, true);
    if (rc !== 0) throw new Error(`interpreter map update of ${String(u.map)} failed: ${rc}`);
  }
  const result: CompareResult = { program: prog.name, packets: packets.length, compared: 0, refusedByBoth: 0, verdicts: {}, differences: [] };
  const diff = (i: number, field: string, k: string, m: string) =>
    result.differences.push({ program: prog.name, packet: i, hex: hex(packets[i]), field, kernel: k, interp: m });
  packets.forEach((data, i) => {
    const k = kernel.runs[i];
    let mine: ReturnType<typeof runProgram> | undefined;
    let refusal: string | undefined;
    try {
      mine = runProgram(prog, obj, maps, data, { packetNumber: i + 1, ...(opts.ktimeNs ? { ktimeNs: opts.ktimeNs } : {}) });
    } catch (e) {
      const code = (e as { diagnostic?: { code?: string } }).diagnostic?.code;
      if (!code) throw e;
      refusal = code;
    }
    if (!k) {
      diff(i, 'kernel run', 'missing', 'ran');
      return;
    }
    if (!k.ok || !mine) {
      if (!k.ok && k.errnoName === 'EINVAL' && refusal === 'NC3004') result.refusedByBoth++;
      else diff(i, 'accepted', k.ok ? 'ran' : k.errnoName, mine ? 'ran' : String(refusal));
      // The maps still have to agree afterwards (a refused run changes nothing).
    } else {
      result.compared++;
      const timeDep = opts.timeDependent?.(data, i) ?? false;
      result.verdicts[k.retval] = (result.verdicts[k.retval] ?? 0) + 1;
      if (!timeDep && BigInt(k.retval) !== mine.retval) diff(i, 'retval', String(k.retval), String(mine.retval));
      if (hex(k.dataOut) !== hex(mine.packet)) diff(i, 'data_out', hex(k.dataOut), hex(mine.packet));
      for (const f of opts.ctxFields ?? []) {
        const kv = k.ctxOut && k.ctxOut.length >= f.off + 4 ? new DataView(k.ctxOut.buffer, k.ctxOut.byteOffset).getUint32(f.off, true) : undefined;
        const mv = mine.ctxOut && mine.ctxOut.length >= f.off + 4 ? new DataView(mine.ctxOut.buffer, mine.ctxOut.byteOffset).getUint32(f.off, true) : undefined;
        if (kv !== mv) diff(i, `ctx_out.${f.name}`, String(kv), String(mv));
      }
    }
    const dumps = k.maps ?? [];
    if (dumps.length !== obj.maps.length) diff(i, 'map dumps', String(dumps.length), String(obj.maps.length));
    for (const d of dumps) {
      if (d.errno !== undefined) continue;
      const percpu = PERCPU.has(obj.maps[d.index].type);
      const ks = canonicalKernel(d, percpu);
      const ms = canonicalInterp(maps, d.index, percpu);
      const cmp = opts.mapCompare?.[d.name];
      if (cmp) {
        const why = cmp(ks, ms);
        if (why) diff(i, `map ${d.name}`, why, ms.join(' '));
      } else if (ks.join(' ') !== ms.join(' ')) {
        diff(i, `map ${d.name}`, ks.join(' '), ms.join(' '));
      }
    }
  });
  return result;
}

export function describeDifference(d: Difference): string {
  return `${d.program} packet ${d.packet} (${d.hex}): ${d.field}\n  kernel: ${d.kernel}\n  interp: ${d.interp}`;
}
