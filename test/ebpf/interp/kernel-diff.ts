/**
 * Differential harness: run the same packets through the real kernel (via the
 * kernel runner) and the reference interpreter; report every difference in
 * return value, output packet, ctx_out fields and final map contents.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadObject, findProgram } from '../../../src/ebpf/load-object.js';
import type { BpfObject } from '../../../src/ebpf/bpf-object.js';
import { assertLoaded, programRequestFromObject, runInKernelSync } from '../../../src/ebpf/kernel/kernel-runner.js';
import { createMapRuntime, runProgram } from '../../../src/ebpf/interp/index.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'interp');

export function loadFixture(file: string): BpfObject {
  const path = join(FIXTURES, file);
  return loadObject(new Uint8Array(readFileSync(path)), { path });
}

import { seeded } from '../../support/seeded-random.js';
export { seeded };

export interface DiffPacket {
  data: Uint8Array;
  ctxIn?: Uint8Array;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Compares and returns a list of human-readable differences (empty = identical). */
export function diffAgainstKernel(
  obj: BpfObject,
  progName: string,
  packets: DiffPacket[],
  opts: { compareCtxFields?: number[]; compareMaps?: boolean } = {},
): string[] {
  const prog = findProgram(obj, progName);
  const req = programRequestFromObject(
    obj,
    prog,
    packets.map((p) => ({ data: p.data, ...(p.ctxIn ? { ctxIn: p.ctxIn } : {}) })),
  );
  const kernel = runInKernelSync(req);
  assertLoaded(kernel);
  const maps = createMapRuntime(obj.maps);
  const diffs: string[] = [];
  packets.forEach((p, i) => {
    const k = kernel.runs[i];
    if (!k.ok) {
      diffs.push(`packet ${i}: kernel run failed ${k.errnoName}`);
      return;
    }
    const mine = runProgram(prog, obj, maps, p.data, { ...(p.ctxIn ? { ctxIn: p.ctxIn } : {}), packetNumber: i + 1 });
    if (BigInt(k.retval) !== mine.retval) diffs.push(`packet ${i} (${hex(p.data)}): retval kernel ${k.retval} interp ${mine.retval}`);
    if (hex(k.dataOut) !== hex(mine.packet))
      diffs.push(`packet ${i} (${hex(p.data)}): data_out\n kernel ${hex(k.dataOut)}\n interp ${hex(mine.packet)}`);
    if (opts.compareCtxFields && k.ctxOut && mine.ctxOut) {
      const kd = new DataView(k.ctxOut.buffer, k.ctxOut.byteOffset, k.ctxOut.byteLength);
      const md = new DataView(mine.ctxOut.buffer, mine.ctxOut.byteOffset, mine.ctxOut.byteLength);
      for (const f of opts.compareCtxFields)
        if (kd.getUint32(f, true) !== md.getUint32(f, true))
          diffs.push(`packet ${i}: ctx_out+${f} kernel ${kd.getUint32(f, true)} interp ${md.getUint32(f, true)}`);
    }
  });
  if (opts.compareMaps !== false) {
    for (const km of kernel.finalMaps) {
      if (km.errno !== undefined) continue;
      const mine = maps
        .dump(km.index)
        .map((e) => `${hex(e.key)}=${e.values.map(hex).join('/')}`)
        .sort();
      const theirs = km.entries.map((e) => `${hex(e.key)}=${e.values.map(hex).join('/')}`).sort();
      if (mine.join(' ') !== theirs.join(' ')) diffs.push(`map ${km.name}:\n kernel ${theirs.join(' ')}\n interp ${mine.join(' ')}`);
    }
  }
  return diffs;
}

/** Edge-heavy 64-bit operand: zero, one, all-ones, sign boundaries, small, random. */
export function edgyU64(rand: () => number): bigint {
  const r32 = () => BigInt(Math.floor(rand() * 4294967296));
  const pick = Math.floor(rand() * 12);
  switch (pick) {
    case 0: return 0n;
    case 1: return 1n;
    case 2: return 0xffffffffffffffffn;
    case 3: return 0x8000000000000000n;
    case 4: return 0x80000000n;
    case 5: return 0xffffffff80000000n;
    case 6: return 0xffffffffn;
    case 7: return BigInt(Math.floor(rand() * 70));
    case 8: return BigInt.asUintN(64, -BigInt(Math.floor(rand() * 70)));
    case 9: return r32();
    default: return (r32() << 32n) | r32();
  }
}
