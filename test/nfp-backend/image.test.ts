/**
 * NFP firmware images (prog.nfp) built from the kernel-JIT golden vectors in
 * ../shared/nfp-golden (read in place): binutils readelf names the machine and
 * lists the sections, every field reads back, every loaded word is the golden
 * one, and the relocations, applied by this test's own bit surgery to the raw
 * JIT words, give the loaded words. Then one hand-made malformed image per
 * diagnostic, and listings broken one way at a time. Without the golden
 * directory the golden suites print a skip notice, except under CI=true where
 * they fail.
 */
import { describe, test, expect } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NicoffError } from '../../src/diagnostics/diagnostic.js';
import { NFP_BODY_MASK, withEcc } from '../../src/nfp-backend/isa/ecc.js';
import { assembleText } from '../../src/nfp-backend/isa/word-list.js';
import { imageFromAssembly } from '../../src/nfp-backend/image/assembly-image.js';
import { imageFromListing, isNfpListing, parseNfpListing } from '../../src/nfp-backend/image/golden-listing.js';
import { RELOCATION_TYPE, relocateNfpImage, toLoadedProgram, type NfpImage } from '../../src/nfp-backend/image/nfp-image.js';
import { isNfpImage, readNfpImage } from '../../src/nfp-backend/image/read-image.js';
import { writeNfpImage } from '../../src/nfp-backend/image/write-image.js';
import { NIC_FIRMWARE_ABI } from '../../src/nfp-backend/sim/sim-types.js';
import { GOLDEN_PROGRAM_NAMES, goldenListingText, goldenOrSkip, readGoldenTable } from '../support/golden-word-table.js';
import { jsonSection, parseJsonSection, replaceSections, section } from './image-elf-edit.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const GOLDEN_PROGRAMS = [...GOLDEN_PROGRAM_NAMES];
const SECTIONS = ['.text', '.nicoff.meta', '.nicoff.maps', '.nicoff.relocs', '.nicoff.addrmap', '.nicoff.ebpf', '.nicoff.lines', '.shstrtab'];
const tmp = mkdtempSync(join(tmpdir(), 'nicoff-nfp-image-'));

const goldenDescribe = goldenOrSkip('nfp image golden suites') ? describe : describe.skip;

/** Codes a malformed image may give: the ELF reader's or the image's own. */
function expectCode(f: () => unknown, code: string, message?: RegExp): NicoffError {
  try {
    f();
  } catch (e) {
    if (!(e instanceof NicoffError)) throw e;
    expect(e.diagnostic.code).toBe(code);
    if (message) expect(e.diagnostic.message).toMatch(message);
    return e;
  }
  throw new Error(`expected ${code}, but nothing was thrown`);
}

function readelf(args: string[], path: string) {
  const r = spawnSync('readelf', [...args, path], { encoding: 'utf8' });
  if (r.error) throw r.error;
  return r;
}

/**
 * The relocation applied by hand, independent of nicoff's codec: the absolute
 * address for the slot goes into the branch target field (bits 34:22, bit 40
 * for bit 13) or the immed's 16-bit value (bits 27:20 and the low byte of
 * whichever operand field holds the immediate, 0x300 | byte).
 */
function fixUp(rawBody: bigint, kind: keyof typeof RELOCATION_TYPE, value: number, image: NfpImage): bigint {
  const helpers: Record<number, number> = { 1: image.abi.helpers.mapLookup, 2: image.abi.helpers.mapUpdate, 3: image.abi.helpers.mapDelete, 25: image.abi.helpers.perfEventOutput };
  const target = kind === 'done' ? image.abi.donePc : kind === 'helper' ? helpers[value] : image.abi.startPc + value;
  const t = BigInt(target);
  if (kind === 'immed-address') {
    let b = (rawBody & ~(0xffn << 20n)) | ((t >> 8n) << 20n);
    const aField = b & 0x3ffn;
    if ((aField & 0x300n) === 0x300n) b = (b & ~0x3ffn) | 0x300n | (t & 0xffn);
    else b = (b & ~(0x3ffn << 10n)) | ((0x300n | (t & 0xffn)) << 10n);
    return b;
  }
  let b = rawBody & ~(0x1fffn << 22n) & ~(1n << 40n);
  b |= (t & 0x1fffn) << 22n;
  b |= (t >> 13n) << 40n;
  return b;
}

goldenDescribe('NFP images of the golden programs', () => {
  const images = new Map<string, { image: NfpImage; bytes: Uint8Array; path: string }>();
  const build = (name: string) => {
    let got = images.get(name);
    if (!got) {
      const image = imageFromListing(goldenListingText(name), `${name}.txt`);
      const bytes = writeNfpImage(image);
      const path = join(tmp, `${name}.nfp`);
      writeFileSync(path, bytes);
      got = { image, bytes, path };
      images.set(name, got);
    }
    return got;
  };

  test.each(GOLDEN_PROGRAMS)('%s: readelf -h names the Netronome Flow Processor, EXEC, NFP-6xxx', (name) => {
    const { path } = build(name);
    const r = readelf(['-h'], path);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^\s*Machine:\s+Netronome Flow Processor$/m);
    expect(r.stdout).toMatch(/^\s*Type:\s+EXEC \(Executable file\)$/m);
    expect(r.stdout).toMatch(/^\s*Flags:\s+0x600000, NFP-6xxx$/m);
    expect(r.stdout).toMatch(/^\s*Entry point address:\s+0xc00$/m);
  });

  test.each(GOLDEN_PROGRAMS)('%s: readelf -S lists every section, without warnings; .text sits at the load slot', (name) => {
    const { path, image } = build(name);
    const r = readelf(['-S', '-W'], path);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    for (const s of SECTIONS) expect(r.stdout).toContain(` ${s} `);
    const text = r.stdout.split('\n').find((l) => l.includes(' .text '))!;
    expect(text).toMatch(new RegExp(`PROGBITS\\s+0*c00\\s+\\S+\\s+0*${(image.words.length * 8).toString(16)}\\s+08\\s+AX`));
  });

  test.each(GOLDEN_PROGRAMS)('%s: reads back field for field, and writes back byte for byte', (name) => {
    const { image, bytes } = build(name);
    expect(isNfpImage(bytes)).toBe(true);
    const back = readNfpImage(bytes, `${name}.nfp`);
    expect(back).toEqual(image);
    expect(writeNfpImage(back)).toEqual(bytes);
  });

  test.each(GOLDEN_PROGRAMS)('%s: every loaded word, the header facts and the address map are the golden ones', (name) => {
    const { image } = build(name);
    // The golden table as test/support reads it, independently of the listing reader under test.
    const golden = readGoldenTable(name);
    const rows = golden.rows;
    expect(image.words).toEqual(rows.map((r) => r.loaded));
    expect(image.programType).toBe(golden.programType);
    expect(image.stackDepth).toBe(golden.stackDepth);
    expect(image.abi).toEqual({ ...NIC_FIRMWARE_ABI, startPc: golden.startPc, donePc: golden.donePc });
    expect(image.words.length).toBe(golden.len);
    expect(image.labels).toEqual({ exit: golden.tgtOut, abort: golden.tgtAbort });
    const ebpf = golden.ebpfHex.join('');
    expect(Buffer.from(image.ebpf).toString('hex')).toBe(ebpf);
    const expectedMap: (number | null)[] = new Array(ebpf.length / 16).fill(null);
    for (const r of rows) if (r.origin !== undefined) expectedMap[r.origin] = r.pc;
    expect(image.addressMap).toEqual(expectedMap);
    expect(image.maps).toEqual(
      name === 'xdp_count' ? [{ tableId: 1, name: 'cnt', type: 'array', keySize: 4, valueSize: 8, maxEntries: 4, atomicWords: [0, 1] }] : [],
    );
    expect(toLoadedProgram(image)).toEqual({ words: image.words, programType: image.programType, maps: image.maps, abi: image.abi });
  });

  test.each(GOLDEN_PROGRAMS)('%s: the relocations, applied by hand to the raw words, give the loaded words', (name) => {
    const { image } = build(name);
    const rows = readGoldenTable(name).rows;
    const relocs = new Map(image.relocations.map((r) => [r.pc, r]));
    for (const row of rows) {
      const type = Number(row.raw >> 56n);
      const r = relocs.get(row.pc);
      expect(r ? RELOCATION_TYPE[r.kind] : 0).toBe(type);
      const body = row.raw & ((1n << 56n) - 1n);
      const fixed = r ? fixUp(body, r.kind, r.value, image) : body;
      expect(withEcc(fixed)).toBe(row.loaded);
    }
  });

  test('the relocation types across all six programs are those doc section I counts (1 x17, 2 x6, 6 x12, 7 x1, 8 x1)', () => {
    const counts: Record<string, number> = {};
    for (const name of GOLDEN_PROGRAMS) for (const r of build(name).image.relocations) counts[r.kind] = (counts[r.kind] ?? 0) + 1;
    expect(counts).toEqual({ branch: 17, exit: 6, done: 12, helper: 1, 'immed-address': 1 });
  });

  test('xdp_count moves to the second vNIC slot (start 3072 + 2560) and back', () => {
    const { image } = build('xdp_count');
    const abi = { ...image.abi, startPc: 3072 + 2560, helpers: { ...image.abi.helpers, mapLookup: 0x280 } };
    const moved = relocateNfpImage(image, abi);
    const rows = readGoldenTable('xdp_count').rows;
    // The exit branch (pc 21), the helper call (pc 11) and the return address (pc 13) follow the slot.
    expect(moved.words[21]).toBe(withEcc(fixUp(rows[21].raw & ((1n << 56n) - 1n), 'exit', 25, moved)));
    expect(moved.words[11] & NFP_BODY_MASK).toBe(fixUp(rows[11].raw & ((1n << 56n) - 1n), 'helper', 1, moved));
    expect(moved.words[13] & NFP_BODY_MASK).toBe(fixUp(rows[13].raw & ((1n << 56n) - 1n), 'immed-address', 14, moved));
    const unmoved = moved.words.filter((w, pc) => w === image.words[pc]).length;
    expect(unmoved).toBe(image.words.length - image.relocations.filter((r) => r.kind !== 'done').length);
    expect(readNfpImage(writeNfpImage(moved))).toEqual(moved);
    expect(relocateNfpImage(moved, image.abi)).toEqual(image);
  });
});

goldenDescribe('malformed images: one diagnostic each, naming what is wrong', () => {
  const good = () => writeNfpImage(imageFromListing(goldenListingText('xdp_count'), 'xdp_count.txt'));
  const u32 = (b: Uint8Array, at: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint32(at, v, true);
  const u64 = (b: Uint8Array, at: number, v: bigint) => new DataView(b.buffer, b.byteOffset).setBigUint64(at, v, true);
  const meta = (b: Uint8Array) => parseJsonSection(b, '.nicoff.meta');

  test('not ELF, ELF32, truncated: the ELF reader\'s codes', () => {
    expectCode(() => readNfpImage(new TextEncoder().encode('# program type: xdp')), 'NC1002');
    const b = good();
    b[4] = 1;
    expectCode(() => readNfpImage(b), 'NC1003');
    expectCode(() => readNfpImage(good().subarray(0, 40)), 'NC1007');
    expectCode(() => readNfpImage(good().subarray(0, 400)), 'NC1007');
  });

  test('an eBPF object is the wrong machine (NC6021)', () => {
    const obj = new Uint8Array(readFileSync(join(REPO_ROOT, 'examples', 'xdp_pass.o')));
    expect(isNfpImage(obj)).toBe(false);
    expectCode(() => readNfpImage(obj, 'xdp_pass.o'), 'NC6021', /ELF machine is 247, not EM_NFP \(250\)/);
  });

  test('ET_REL, big-endian, other e_flags (NC6020)', () => {
    let b = good();
    b[16] = 1;
    expectCode(() => readNfpImage(b), 'NC6020', /e_type is 1, not ET_EXEC/);
    b = good();
    b[5] = 2;
    [b[18], b[19]] = [0, 250];
    expectCode(() => readNfpImage(b), 'NC6020', /big-endian; NFP images are little-endian/);
    b = good();
    u32(b, 48, 0x320000);
    expectCode(() => readNfpImage(b), 'NC6020', /e_flags 0x320000 do not name NFP-6xxx/);
  });

  test('a missing or doubled section (NC6022), a wrong entry size (NC6023)', () => {
    let b = good();
    const strtab = section(b, '.shstrtab');
    const at = Buffer.from(strtab.data).indexOf('.nicoff.lines');
    b[strtab.offset + at + 12] = 'z'.charCodeAt(0);
    expectCode(() => readNfpImage(b), 'NC6022', /section \.nicoff\.lines: the section is missing/);
    b = good();
    const relocs = section(b, '.nicoff.relocs');
    u64(b, relocs.header + 56, 16n);
    expectCode(() => readNfpImage(b), 'NC6023', /\.nicoff\.relocs .*sh_entsize 16, expected 12/);
    b = good();
    u64(b, section(b, '.nicoff.maps').header + 32, 47n);
    expectCode(() => readNfpImage(b), 'NC6023', /size 47 is not a whole number of 48-byte entries/);
  });

  test('code size not a multiple of 8 (NC6024); reserved bits (NC6025) and ECC (NC6026) name the pc and word', () => {
    let b = good();
    const text = section(b, '.text');
    u64(b, text.header + 32, BigInt(text.size - 3));
    expectCode(() => readNfpImage(b), 'NC6024', /code section \.text has size 341, not a multiple of 8/);
    b = good();
    b[text.offset + 8 * 7 + 6] |= 0x20; // bit 53 of word 7
    let e = expectCode(() => readNfpImage(b), 'NC6025', /code word at pc 7 \(0x002c42aa804c1004\) has bits 63:52 set \(0x20000000000000\)/);
    expect(e.diagnostic.location.offset).toBe(text.offset + 56);
    b = good();
    b[text.offset + 8 * 11] ^= 0x01; // one instruction bit of word 11
    e = expectCode(() => readNfpImage(b), 'NC6026', /code word at pc 11 \(0x000120d880208039\) has ECC/);
    expect(e.diagnostic.location.offset).toBe(text.offset + 88);
  });

  test('code that does not fit its slot (NC6027)', () => {
    const b = good();
    u64(b, section(b, '.text').header + 16, 3000n);
    expectCode(() => readNfpImage(b), 'NC6027', /sh_addr 3000 is not the load slot's start pc 3072/);
    const m = meta(good());
    m.abi.startPc = 8190;
    expectCode(() => readNfpImage(replaceSections(good(), { '.nicoff.meta': jsonSection(m) })), 'NC6027');
  });

  test('relocations: outside the code, unknown type, out of order, disagreeing with the word (NC6028)', () => {
    const relocOf = (b: Uint8Array) => section(b, '.nicoff.relocs');
    let b = good();
    u32(b, relocOf(b).offset, 43);
    expectCode(() => readNfpImage(b), 'NC6028', /relocation 0 \(pc 43, helper\): pc is outside the code \(43 words\)/);
    b = good();
    u32(b, relocOf(b).offset + 4, 9);
    expectCode(() => readNfpImage(b), 'NC6028', /type 9.*unknown relocation type/);
    b = good();
    u32(b, relocOf(b).offset + 12, 0);
    expectCode(() => readNfpImage(b), 'NC6028', /increasing pc order/);
    b = good();
    u32(b, relocOf(b).offset + 8, 20); // the first record is the helper call at pc 11
    expectCode(() => readNfpImage(b), 'NC6028', /relocation 0 \(pc 11, helper\): helper 20 is not a firmware subroutine/);
    b = good();
    const rec = relocOf(b).data;
    const pc15 = [...Array(rec.length / 12).keys()].find((i) => new DataView(rec.buffer, rec.byteOffset).getUint32(i * 12, true) === 15)!;
    u32(b, relocOf(b).offset + pc15 * 12 + 8, 18);
    expectCode(() => readNfpImage(b), 'NC6028', /pc 15, branch\): the word 0x000440db04c08120 does not hold the address the relocation gives \(3090\)/);
  });

  test('map table entries (NC6029)', () => {
    let b = good();
    const maps = section(b, '.nicoff.maps');
    u32(b, maps.offset + 4, 6);
    expectCode(() => readNfpImage(b), 'NC6029', /map table entry 0: map type 6 is neither hash \(1\) nor array \(2\)/);
    b = good();
    b[maps.offset + 24] = 0x04; // atomic word 2 of an 8-byte value
    expectCode(() => readNfpImage(b), 'NC6029', /atomic word 2 \(bytes 8\.\.11\) is outside the 8-byte value/);
    b = good();
    b.fill(0x41, maps.offset + 32, maps.offset + 48);
    expectCode(() => readNfpImage(b), 'NC6029', /no terminating NUL/);
    b = good();
    u32(b, maps.offset, 0);
    expectCode(() => readNfpImage(b), 'NC6029', /table id 0/);
  });

  test('metadata: not JSON, unknown fields, wrong types (NC6030); an unknown version (NC6031)', () => {
    const with_ = (m: unknown) => replaceSections(good(), { '.nicoff.meta': jsonSection(m) });
    expectCode(() => readNfpImage(replaceSections(good(), { '.nicoff.meta': new TextEncoder().encode('{"format":') })), 'NC6030', /not valid JSON/);
    expectCode(() => readNfpImage(replaceSections(good(), { '.nicoff.meta': Uint8Array.of(0xff, 0xfe) })), 'NC6030', /not valid UTF-8/);
    expectCode(() => readNfpImage(with_({ ...meta(good()), extra: 1 })), 'NC6030', /unknown field "extra"/);
    expectCode(() => readNfpImage(with_({ ...meta(good()), programType: 'sched_cls' })), 'NC6030', /programType "sched_cls"/);
    expectCode(() => readNfpImage(with_({ ...meta(good()), stackDepth: 513 })), 'NC6030', /stack depth 513/);
    expectCode(() => readNfpImage(with_({ ...meta(good()), labels: { exit: 99 } })), 'NC6030', /label exit = 99/);
    const m = meta(good());
    delete m.abi.helpers.mapDelete;
    expectCode(() => readNfpImage(with_(m)), 'NC6030', /abi\.helpers lacks the field "mapDelete"/);
    expectCode(() => readNfpImage(with_({ ...meta(good()), version: 2 })), 'NC6031', /version 2 is not known \(this nicoff reads version 1\)/);
    expectCode(() => readNfpImage(with_([])), 'NC6030');
    const layout = (arrayValues: unknown) => with_({ ...meta(good()), abi: { ...meta(good()).abi, arrayValues } });
    expectCode(() => readNfpImage(layout({ base: 0x80_0000_0000 })), 'NC6030', /abi\.arrayValues lacks the field "tableStride"/);
    expectCode(() => readNfpImage(layout({ base: 0x80_0000_1000, tableStride: 0x1000_0000 })), 'NC6030', /arrayValues\.base .* 4 GiB boundary/);
    expectCode(() => readNfpImage(layout({ base: 0x80_0000_0000, tableStride: 0x3000_0000 })), 'NC6030', /tableStride .* does not divide 2\^32/);
    // A valid layout reads back as written.
    const back = readNfpImage(layout({ base: 0x80_0000_0000, tableStride: 0x1000_0000 }));
    expect(back.abi.arrayValues).toEqual({ base: 0x80_0000_0000, tableStride: 0x1000_0000 });
    expect(readNfpImage(writeNfpImage(back)).abi.arrayValues).toEqual(back.abi.arrayValues);
  });

  test('address map: out of range, not increasing, wrong length (NC6032)', () => {
    let b = good();
    const map = section(b, '.nicoff.addrmap');
    u32(b, map.offset + 4 * 3, 43);
    expectCode(() => readNfpImage(b), 'NC6032', /eBPF instruction 3: pc 43 is outside the code/);
    b = good();
    u32(b, map.offset + 4 * 3, 5);
    expectCode(() => readNfpImage(b), 'NC6032', /eBPF instruction 3: pc 5 is not after pc 5 of eBPF instruction 2/);
    b = replaceSections(good(), { '.nicoff.addrmap': map.data.slice(0, 40) });
    expectCode(() => readNfpImage(b), 'NC6032', /10 entries for 11 eBPF instructions/);
  });

  test('eBPF instructions (NC6033) and source lines (NC6034)', () => {
    const b = good();
    const ebpf = section(b, '.nicoff.ebpf');
    b[ebpf.offset + 8 * 6] = 0x8f; // not an opcode
    expectCode(() => readNfpImage(b), 'NC6033');
    const lines = (v: unknown) => replaceSections(good(), { '.nicoff.lines': jsonSection(v) });
    expectCode(() => readNfpImage(lines([{ insn: 11, file: 'a.c', line: 1, column: 0 }])), 'NC6034', /entry 0: eBPF instruction 11 is not one of the image's 11/);
    expectCode(() => readNfpImage(lines([{ insn: 1, file: 'a.c', line: 0, column: 0 }])), 'NC6034', /line 0/);
    expectCode(() => readNfpImage(lines([{ insn: 1, file: 'a.c', line: 1, column: 0, bytes: 3 }])), 'NC6034', /unknown field "bytes"/);
    expectCode(() => readNfpImage(lines({})), 'NC6022', /not a JSON array/);
  });
});

goldenDescribe('source lines, facts and names survive the file', () => {
  test('an image with source lines reads back equal', () => {
    const image = imageFromListing(goldenListingText('xdp_count'), 'xdp_count.txt');
    image.sourceLines = [
      { insn: 0, file: 'xdp_count.c', line: 3, column: 9, text: '  __u32 key = 1; __u64 *v = bpf_map_lookup_elem(&cnt, &key);' },
      { insn: 7, file: 'xdp_count.c', line: 4, column: 7 },
      { insn: 9, file: 'xdp_count.c', line: 5, column: 3, text: '  return XDP_PASS;' },
    ];
    const back = readNfpImage(writeNfpImage(image));
    expect(back).toEqual(image);
    expect(back.verifierFacts).toEqual([
      { insn: 1, text: 'ptr=stack off=0' },
      { insn: 4, text: 'mapidx=0' },
      { insn: 6, text: 'func=1 arg2off=-4' },
      { insn: 8, text: 'ptr=map xadd16=1 xaddbig=0' },
    ]);
  });

  test('the writer refuses an invalid image with the reader\'s code', () => {
    const image = imageFromListing(goldenListingText('xdp_pass'));
    expectCode(() => writeNfpImage({ ...image, words: image.words.map((w, i) => (i === 3 ? w ^ (1n << 45n) : w)) }), 'NC6026', /pc 3/);
    expectCode(() => writeNfpImage({ ...image, addressMap: [5, 4] }), 'NC6032');
  });
});

goldenDescribe('golden-style listings: every malformation names its line', () => {
  const text = () => goldenListingText('xdp_count');
  const lineOf = (t: string, needle: string) => t.split('\n').findIndex((l) => l.includes(needle)) + 1;
  const edit = (needle: string, replace: (line: string) => string) => {
    const t = text();
    const line = lineOf(t, needle);
    return { line, t: t.split('\n').map((l, i) => (i + 1 === line ? replace(l) : l)).join('\n') };
  };
  const atLine = (t: string, code: string, line: number, message?: RegExp) => {
    const e = expectCode(() => imageFromListing(t, 'x.txt'), code, message);
    expect(e.diagnostic.location).toEqual({ file: 'x.txt', line });
  };

  test('isNfpListing tells listings from plain instruction lists', () => {
    expect(isNfpListing(text())).toBe(true);
    expect(isNfpListing('immed[gprA_0, 0x1]\nnop\n')).toBe(false);
  });

  test('the parser returns every row with its line', () => {
    const { rows } = parseNfpListing(text(), 'x.txt');
    expect(rows).toHaveLength(43);
    expect(rows[11]).toEqual({ line: lineOf(text(), '  11  070001dea6608038'), pc: 11, raw: 0x070001dea6608038n, loaded: 0x000120d880208038n, text: 'br[.512], defer[2]', origin: 6 });
  });

  test('header problems (NC6035)', () => {
    let e = edit('# program type:', (l) => l.replace('xdp;', 'lwt;'));
    atLine(e.t, 'NC6035', e.line, /program type lwt is neither xdp nor tc/);
    e = edit('# program type:', (l) => l.replace('start_off=3072', 'start=3072'));
    atLine(e.t, 'NC6035', e.line, /expected `program type:/);
    e = edit('# len=43', (l) => l.replace('len=43', 'len=44'));
    atLine(e.t, 'NC6035', e.line, /len=44, but the listing has 43 word rows/);
    e = edit('# golden vector:', (l) => l.replace('xdp_count', 'my_count'));
    atLine(e.t, 'NC6035', lineOf(text(), '#   4 mapidx=0'), /references map index 0, but the listing declares 0 maps/);
    e = edit('#   1 ptr=stack', () => '#   one ptr=stack');
    atLine(e.t, 'NC6035', e.line, /expected a verifier fact/);
    const t = text().replace('# program type: xdp; verifier stack depth: 4; load slot start_off=3072, done target=1\n', '');
    expectCode(() => imageFromListing(t, 'x.txt'), 'NC6035', /no `# program type/);
    e = edit('# golden vector:', (l) => `${l}\n# map 1 cnt array key=4 value=8 entries=4 atomic=2`);
    atLine(e.t, 'NC6029', e.line + 1, /atomic word 2/);
  });

  test('a declared map replaces the golden table', () => {
    const e = edit('# golden vector:', () => '# golden vector: mine\n# map 7 counters hash key=8 value=16 entries=1024 atomic=0,1,2,3');
    expect(imageFromListing(e.t).maps).toEqual([{ tableId: 7, name: 'counters', type: 'hash', keySize: 8, valueSize: 16, maxEntries: 1024, atomicWords: [0, 1, 2, 3] }]);
  });

  test('word rows (NC6036): sequence, hex, relocation byte, ECC in a raw word, markers', () => {
    let e = edit('   5  000002a0804c1016', (l) => l.replace('   5  ', '   6  '));
    atLine(e.t, 'NC6036', e.line, /pc 6 is out of sequence: expected 5/);
    e = edit('   5  000002a0804c1016', (l) => l.replace('000002a0804c1016', '000002a0804c101'));
    atLine(e.t, 'NC6036', e.line, /raw word "000002a0804c101" is not 16 hexadecimal digits/);
    e = edit('   5  000002a0804c1016', (l) => l.replace('000002a0804c1016', '090002a0804c1016'));
    atLine(e.t, 'NC6036', e.line, /relocation byte 9 is not a doc B.1 type/);
    e = edit('   5  000002a0804c1016', (l) => l.replace('000002a0804c1016', '0001a2a0804c1016'));
    atLine(e.t, 'NC6036', e.line, /has bits 55:45 set/);
    e = edit('   9  000002f0000c0402', (l) => l.replace('; bpf#5', '; bpf#3'));
    atLine(e.t, 'NC6036', e.line, /marker bpf#3 follows bpf#3/);
    e = edit('   9  000002f0000c0402', (l) => l.replace('; bpf#5', '; see bpf#5'));
    atLine(e.t, 'NC6036', e.line, /must be `; bpf#N`/);
    e = edit('  21  020001dea6008038', (l) => l.replace('020001dea6008038', '020001dea6408038'));
    atLine(e.t, 'NC6036', e.line, /placeholder target 15000, not 15001/);
    e = edit('  11  070001dea6608038', (l) => l.replace('070001dea6608038', '070001dea7208038'));
    atLine(e.t, 'NC6036', e.line, /15004 is not 15000 \+ a firmware helper id/);
    e = edit('  12  000000a040000002', (l) => l.replace('000000a040000002', '010000a040000002'));
    atLine(e.t, 'NC6036', e.line, /needs a branch, but the word is alu/);
  });

  test('a loaded word that is not the raw word relocated (NC6037)', () => {
    let e = edit('  21  020001dea6008038', (l) => l.replace('000920db06408038', '000920db06008038'));
    atLine(e.t, 'NC6037', e.line, /pc 21: loaded word 0x000920db06008038 is not the raw word 0x020001dea6008038 relocated \(0x000920db06408038\)/);
    e = edit('   4  000000a020003000', (l) => l.replace('000700a020003000', '000600a020003000'));
    atLine(e.t, 'NC6037', e.line, /its ECC bits 51:45 are wrong/);
  });

  test('eBPF instruction lines (NC6038)', () => {
    let e = edit('#   bpf#3 ', (l) => l.replace('bpf#3 ', 'bpf#4 '));
    atLine(e.t, 'NC6038', e.line, /bpf#4 is out of sequence: expected bpf#3/);
    e = edit('#   bpf#6 ', (l) => l.replace('8500000001000000', '8f00000001000000'));
    atLine(e.t, 'NC6038', e.line, /bpf#6/);
    e = edit('  21  020001dea6008038', (l) => l.replace('; bpf#10', '; bpf#11'));
    atLine(e.t, 'NC6038', e.line, /marker bpf#11, but the listing lists 11 eBPF instructions/);
  });

  test('a disassembly column that is not the word (NC6039)', () => {
    const e = edit('   0  000000f003f05bff', (l) => l.replace('immed[gprB_22, 0x3fff]', 'immed[gprB_22, 0x3ffe]'));
    atLine(e.t, 'NC6039', e.line, /pc 0: the disassembly column reads "immed\[gprB_22, 0x3ffe\]" but the loaded word disassembles to "immed\[gprB_22, 0x3fff\]"/);
  });
});

describe('images from plain instruction lists', () => {
  test('branches become relocations by where they go; the image reads back', () => {
    const rows = assembleText('immed[gprA_0, 0x1], gpr_wrboth\nbr[.3072]\nbr[.1]\nbr[.768]\nnop\n', 'p.s');
    const image = imageFromAssembly(rows, { programType: 'tc', file: 'p.s' });
    expect(image.programType).toBe('tc');
    expect(image.relocations).toEqual([
      { pc: 1, kind: 'branch', value: 0 },
      { pc: 2, kind: 'done', value: 0 },
      { pc: 3, kind: 'helper', value: 2 },
    ]);
    expect(readNfpImage(writeNfpImage(image))).toEqual(image);
    expect(imageFromAssembly(rows).programType).toBe('xdp');
  });

  test('a branch to nowhere the program knows is refused at its line (NC6028)', () => {
    const e = expectCode(() => imageFromAssembly(assembleText('nop\nbeq[.9]\n', 'p.s'), { file: 'p.s' }), 'NC6028', /target \.9 is outside the program/);
    expect(e.diagnostic.location).toEqual({ file: 'p.s', line: 2 });
  });
});
