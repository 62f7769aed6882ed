/**
 * Mutation fuzzing of readNfpImage: valid images (the six golden programs when
 * ../shared/nfp-golden is present, one with source lines, and one assembled
 * from a plain instruction list, which needs no golden files) are truncated,
 * bit-flipped, and have ELF header, section header, table and JSON fields
 * overwritten. Each case must read or throw a NicoffError with an NC1xxx or
 * NC6020-NC6039 code, quickly; an image that reads must write back and read
 * back equal. NICOFF_FUZZ_CASES raises the count.
 */
import { describe, test, expect } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NicoffError } from '../../src/diagnostics/diagnostic.js';
import { assembleText } from '../../src/nfp-backend/isa/word-list.js';
import { imageFromAssembly } from '../../src/nfp-backend/image/assembly-image.js';
import { imageFromListing } from '../../src/nfp-backend/image/golden-listing.js';
import { readNfpImage } from '../../src/nfp-backend/image/read-image.js';
import { writeNfpImage } from '../../src/nfp-backend/image/write-image.js';
import { seeded } from '../support/seeded-random.js';
import { readSections, type RawSection } from './image-elf-edit.js';

const CASES = Math.max(3000, Number(process.env.NICOFF_FUZZ_CASES ?? 0) || 0);
const SEED = 0x6e6670; // "nfp"
const GOLDEN_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/nfp-golden');
const GOLDEN_PROGRAMS = ['tc_shot', 'xdp_alu', 'xdp_count', 'xdp_drop', 'xdp_pass', 'xdp_udp53'];
const ALLOWED = /^NC(1\d{3}|60[23]\d)$/;
const EXTREMES = [0, 1, 2, 7, 8, 11, 12, 42, 43, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

interface Seed {
  name: string;
  bytes: Uint8Array;
  sections: RawSection[];
}

function seeds(): Seed[] {
  const images = [];
  const plain = assembleText('immed[gprB_22, 0x3fff]\nalu[gprB_22, gprB_22, AND, *l$index1]\nbr[.3074]\nbeq[.3072], defer[1]\nbr[.1], defer[2]\nbr[.512]\nnop\nnop\n');
  images.push({ name: 'plain', image: imageFromAssembly(plain, { programType: 'tc' }) });
  if (existsSync(GOLDEN_DIR)) {
    for (const name of GOLDEN_PROGRAMS) images.push({ name, image: imageFromListing(readFileSync(join(GOLDEN_DIR, `${name}.txt`), 'utf8')) });
    const withLines = imageFromListing(readFileSync(join(GOLDEN_DIR, 'xdp_count.txt'), 'utf8'));
    withLines.sourceLines = [
      { insn: 0, file: 'xdp_count.c', line: 3, column: 9, text: '__u32 key = 1;' },
      { insn: 6, file: 'xdp_count.c', line: 3, column: 30 },
    ];
    images.push({ name: 'xdp_count+lines', image: withLines });
  } else if (process.env['CI'] === 'true') {
    throw new Error(`CI=true but the golden vectors are missing at ${GOLDEN_DIR}`);
  } else {
    console.log(`nfp image fuzz: ${GOLDEN_DIR} not found, fuzzing the assembled seed only`);
  }
  return images.map(({ name, image }) => {
    const bytes = writeNfpImage(image);
    return { name, bytes, sections: readSections(bytes) };
  });
}

function mutate(rnd: () => number, seed: Seed): { bytes: Uint8Array; what: string } {
  const below = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[below(xs.length)];
  let out = new Uint8Array(seed.bytes);
  const what: string[] = [];
  const rounds = 1 + below(3);
  for (let r = 0; r < rounds; r++) {
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const sections = seed.sections.filter((s) => s.index > 0);
    const s = pick(sections);
    const value = () => (rnd() < 0.5 ? pick(EXTREMES) : below(64));
    switch (below(9)) {
      case 0: {
        const at = below(out.length);
        out = out.subarray(0, at);
        what.push(`truncate to ${at}`);
        break;
      }
      case 1: {
        const n = 1 + below(8);
        for (let i = 0; i < n && out.length; i++) out[below(out.length)] ^= 1 << below(8);
        what.push(`${n} bit flips`);
        break;
      }
      case 2: {
        // bit flips inside one section's contents
        if (s.size === 0 || s.offset + s.size > out.length) break;
        out[s.offset + below(s.size)] ^= 1 << below(8);
        what.push(`bit flip in ${s.name}`);
        break;
      }
      case 3: {
        // a section header field
        const h = seed.sections[below(seed.sections.length)].header;
        const f = pick([0, 4, 8, 16, 24, 32, 40, 44, 48, 56]);
        if (h + f + 8 > out.length) break;
        if (rnd() < 0.5) dv.setUint32(h + f, value(), true);
        else dv.setBigUint64(h + f, (BigInt(Math.floor(rnd() * 2 ** 32)) << 32n) | BigInt(Math.floor(rnd() * 2 ** 32)), true);
        what.push(`section header ${h}+${f}`);
        break;
      }
      case 4: {
        // an ELF header field
        const f = pick([4, 5, 6, 16, 18, 20, 24, 40, 48, 52, 54, 56, 58, 60, 62]);
        if (f + 4 > out.length) break;
        if (f < 8) out[f] = value() & 0xff;
        else if (f >= 52) dv.setUint16(f, value() & 0xffff, true);
        else dv.setUint32(f, value(), true);
        what.push(`ELF header +${f}`);
        break;
      }
      case 5:
      case 6: {
        // a 32-bit field of a binary table
        const table = pick(sections.filter((x) => ['.nicoff.relocs', '.nicoff.maps', '.nicoff.addrmap', '.text'].includes(x.name) && x.size >= 4));
        if (!table) break;
        const at = table.offset + 4 * below(table.size / 4);
        if (at + 4 > out.length) break;
        dv.setUint32(at, value(), true);
        what.push(`${table.name}+${at - table.offset}`);
        break;
      }
      case 7: {
        // a character of a JSON section: a digit, a quote, a brace or a random byte
        const json = pick(sections.filter((x) => x.name === '.nicoff.meta' || x.name === '.nicoff.lines'));
        if (json.size === 0 || json.offset + json.size > out.length) break;
        const at = json.offset + below(json.size);
        out[at] = pick([0x30 + below(10), 0x22, 0x7b, 0x7d, 0x2c, 0x2d, 0x20, below(256)]);
        what.push(`${json.name}+${at - json.offset}`);
        break;
      }
      default: {
        // one section header copied over another (duplicates, overlaps)
        const a = pick(seed.sections).header;
        const b = pick(seed.sections).header;
        if (Math.max(a, b) + 64 > out.length) break;
        out.copyWithin(a, b, b + 64);
        what.push(`section header ${b} over ${a}`);
        break;
      }
    }
  }
  return { bytes: out, what: what.join(', ') };
}

describe('readNfpImage under mutation', () => {
  test(`${CASES} mutated images read or fail with an NC1xxx / NC6020-NC6039 code, quickly`, () => {
    const all = seeds();
    expect(all.length).toBeGreaterThanOrEqual(1);
    const rnd = seeded(SEED);
    const codes = new Map<string, number>();
    const problems: string[] = [];
    let read = 0;
    let slowest = 0;
    for (let i = 0; i < CASES; i++) {
      const seed = all[i % all.length];
      const m = mutate(rnd, seed);
      const t0 = performance.now();
      try {
        const image = readNfpImage(m.bytes, `case-${i}.nfp`);
        read++;
        // What reads is valid: it writes, and reads back the same.
        expect(readNfpImage(writeNfpImage(image))).toEqual(image);
      } catch (e) {
        if (!(e instanceof NicoffError)) problems.push(`case ${i} (${seed.name}: ${m.what}): ${e instanceof Error ? e.stack : String(e)}`);
        else if (!ALLOWED.test(e.diagnostic.code)) problems.push(`case ${i} (${seed.name}: ${m.what}): code ${e.diagnostic.code}: ${e.message}`);
        else codes.set(e.diagnostic.code, (codes.get(e.diagnostic.code) ?? 0) + 1);
      }
      slowest = Math.max(slowest, performance.now() - t0);
    }
    const table = [...codes].sort().map(([c, n]) => `${c} ${n}`).join(', ');
    console.log(`${CASES} cases over ${all.length} seeds: ${read} read, rejections ${table}; slowest ${slowest.toFixed(1)} ms`);
    expect(problems.slice(0, 10)).toEqual([]);
    expect(slowest).toBeLessThan(2000);
    // The mutations reach the image's own checks, not only the ELF reader's.
    expect([...codes.keys()].filter((c) => c.startsWith('NC60')).length).toBeGreaterThanOrEqual(all.length > 1 ? 10 : 5);
  }, 300_000);
});
