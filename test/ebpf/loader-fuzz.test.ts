/**
 * Mutation fuzzing of loadObject: every fixture object (and examples/*.o when
 * present) is truncated, bit-flipped and has header, section-header, symbol,
 * relocation and BTF fields overwritten with random or extreme values.
 * Each case must load or throw a NicoffError with an NC1xxx code, quickly,
 * with output bounded by the input's size. NICOFF_FUZZ_CASES raises the count.
 */
import { describe, test, expect } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject, MAX_GLOBAL_DATA_SIZE } from '../../src/ebpf/load-object.js';
import { parseElf, SHT, type ElfFile } from '../../src/ebpf/elf.js';
import { NicoffError } from '../../src/diagnostics/diagnostic.js';
import { FIXTURE_DIR, fixtureNames } from '../fixtures/objects/oracle.js';

const CASES = Math.max(2000, Number(process.env.NICOFF_FUZZ_CASES ?? 0) || 0);
const SEED = 0x9e3779b9;
const EXAMPLES_DIR = join(FIXTURE_DIR, '..', '..', '..', 'examples');

/** xorshift32: small, seeded, reproducible. */
class Xorshift {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)];
  }
}

const EXTREMES = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000, 0x1000000];

interface Seed {
  name: string;
  bytes: Uint8Array;
  elf: ElfFile;
}

/** Interesting field offsets in a seed: the places a mutation is most likely to matter. */
function fieldOffsets(seed: Seed): number[] {
  const e = seed.elf;
  const offs: number[] = [16, 18, 20, 24, 32, 40, 48, 52, 58, 60, 62];
  const dv = new DataView(seed.bytes.buffer, seed.bytes.byteOffset);
  const shoff = Number(dv.getBigUint64(40, e.endian === 'le'));
  for (let i = 0; i < e.sections.length; i++) for (const f of [0, 4, 8, 24, 32, 40, 44, 48, 56]) offs.push(shoff + i * 64 + f);
  for (const s of e.sections) {
    if (s.type === SHT.SYMTAB) for (let p = s.offset; p < s.offset + s.size; p += 24) offs.push(p, p + 4, p + 6, p + 8, p + 16);
    if (s.type === SHT.REL) for (let p = s.offset; p < s.offset + s.size; p += 16) offs.push(p, p + 8, p + 12);
    if (s.name === '.BTF' || s.name === '.BTF.ext') for (let p = s.offset; p < s.offset + Math.min(s.size, 512); p += 4) offs.push(p);
    if (s.name === 'maps' || s.name === 'version') for (let p = s.offset; p < s.offset + s.size; p += 4) offs.push(p);
    if ((s.flags & 0x4) !== 0) for (let p = s.offset; p < s.offset + s.size; p += 8) offs.push(p, p + 1, p + 4);
  }
  return offs.filter((o) => o >= 0 && o < seed.bytes.length);
}

function mutate(rng: Xorshift, seed: Seed, fields: number[]): Uint8Array {
  const b = new Uint8Array(seed.bytes);
  const dv = new DataView(b.buffer);
  const le = seed.elf.endian === 'le';
  const rounds = 1 + rng.below(3);
  let out = b;
  for (let r = 0; r < rounds; r++) {
    switch (rng.below(6)) {
      case 0: // truncate
        out = out.subarray(0, rng.below(out.length));
        break;
      case 1: // bit flips anywhere
        for (let i = 0, n = 1 + rng.below(8); i < n && out.length; i++) out[rng.below(out.length)] ^= 1 << rng.below(8);
        break;
      case 2: // a field gets an extreme 32-bit value
      case 3: {
        const at = rng.pick(fields);
        if (at + 4 <= out.length) dv.setUint32(at, rng.pick(EXTREMES), le);
        break;
      }
      case 4: {
        // a field gets a random 64-bit value (huge offsets, sizes, counts)
        const at = rng.pick(fields);
        if (at + 8 <= out.length) dv.setBigUint64(at, (BigInt(rng.next()) << 32n) | BigInt(rng.next()), le);
        break;
      }
      default: {
        // a 16-bit field (e_shnum, shndx, vlen) gets random or extreme bits
        const at = rng.pick(fields);
        if (at + 2 <= out.length) dv.setUint16(at, rng.below(2) ? rng.next() & 0xffff : rng.pick([0, 1, 0xff00, 0xfff1, 0xffff]), le);
        break;
      }
    }
  }
  return out;
}

function seeds(): Seed[] {
  const files = fixtureNames().map((n) => ({ name: n, path: join(FIXTURE_DIR, n) }));
  if (existsSync(EXAMPLES_DIR)) {
    for (const n of readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.o')).sort()) files.push({ name: `examples/${n}`, path: join(EXAMPLES_DIR, n) });
  }
  const out: Seed[] = [];
  for (const f of files) {
    const bytes = new Uint8Array(readFileSync(f.path));
    try {
      out.push({ name: f.name, bytes, elf: parseElf(bytes) });
    } catch {
      // An example another engineer is still writing may not parse yet; it is not a seed.
    }
  }
  return out;
}

/** Everything a load returns, counted in slots/bytes/entries, must stay proportional to the input. */
function outputSize(obj: ReturnType<typeof loadObject>, input: Uint8Array): number {
  // .bss zeros are not in the file; they are capped separately (MAX_GLOBAL_DATA_SIZE each).
  let n = obj.maps.reduce((a, m) => a + Math.min(m.initialValue?.length ?? 0, input.length) + 1, 0);
  for (const p of obj.programs) n += p.insns.length + p.bytes.length / 8 + p.lineInfo.length + p.mapRefs.length + p.funcInfo.length + p.coreRelocations.length;
  return n;
}

describe('loadObject under mutation', () => {
  test(`${CASES} mutated objects load or fail with an NC1xxx code, quickly and in bounded memory`, () => {
    const all = seeds();
    expect(all.length).toBeGreaterThanOrEqual(6);
    const fields = all.map(fieldOffsets);
    const rng = new Xorshift(SEED);
    const codes = new Map<string, number>();
    let loaded = 0;
    let slowest = 0;
    const start = performance.now();
    for (let i = 0; i < CASES; i++) {
      const which = i % all.length;
      const input = mutate(rng, all[which], fields[which]);
      const t0 = performance.now();
      try {
        const obj = loadObject(input, { path: `fuzz-${i}.o` });
        loaded++;
        // Linking appends each subprogram at most once per program, so output is bounded by programs x input.
        for (const m of obj.maps) expect(m.initialValue?.length ?? 0).toBeLessThanOrEqual(MAX_GLOBAL_DATA_SIZE);
        expect(outputSize(obj, input)).toBeLessThanOrEqual((obj.programs.length + 1) * (input.length * 2 + 64));
      } catch (e) {
        if (!(e instanceof NicoffError)) {
          throw new Error(`case ${i} (seed ${all[which].name}) threw a non-NicoffError: ${(e as Error)?.stack ?? String(e)}`);
        }
        expect(e.diagnostic.code).toMatch(/^NC1\d{3}$/);
        codes.set(e.diagnostic.code, (codes.get(e.diagnostic.code) ?? 0) + 1);
      }
      const dt = performance.now() - t0;
      slowest = Math.max(slowest, dt);
      expect(dt).toBeLessThan(1000);
    }
    const total = performance.now() - start;
    console.log(
      `loader fuzz: ${CASES} cases, ${loaded} loaded, slowest ${slowest.toFixed(1)} ms, total ${total.toFixed(0)} ms; codes ${JSON.stringify(Object.fromEntries([...codes].sort()))}`,
    );
    // Both outcomes must occur, or the mutations are not exercising the loader.
    expect(loaded).toBeGreaterThan(0);
    expect(codes.size).toBeGreaterThan(5);
  });
});
