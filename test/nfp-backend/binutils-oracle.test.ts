/**
 * nicoff's NFP disassembler against an independent oracle: GNU objdump built
 * with the NFP target (tools/build-binutils-nfp.sh -> build/binutils-nfp/bin/nfp-objdump,
 * or NICOFF_NFP_OBJDUMP). For every distinct golden word and for seeded
 * generated words of every format the codec models, the text nicoff prints must
 * be the text objdump prints (`-M no-pc,ctx4`, NFP-6xxx), and the text must
 * assemble back to the word. All words of a run go into one ELF file, read by
 * one objdump process.
 *
 * Without the oracle binary the suite prints why and skips, except under
 * CI=true where it fails (tools/setup.sh builds it).
 */
import { describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NicoffError } from '../../src/diagnostics/diagnostic.js';
import { assembleBody, parseInsn } from '../../src/nfp-backend/isa/assembler.js';
import { decodeInsn, encodeInsn } from '../../src/nfp-backend/isa/codec.js';
import { formatInsn } from '../../src/nfp-backend/isa/disassembler.js';
import { NFP_BODY_MASK } from '../../src/nfp-backend/isa/ecc.js';
import { GOLDEN_DIR, readGoldenTable } from '../support/golden-word-table.js';
import { parseCatalogue } from '../support/lowering-catalogue.js';
import { seeded } from '../support/seeded-random.js';
import { type GeneratedWord, generateClassWords, generateRecordWords, recordMakers } from './nfp-insn-generator.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OBJDUMP = process.env['NICOFF_NFP_OBJDUMP'] ?? resolve(REPO_ROOT, 'build/binutils-nfp/bin/nfp-objdump');
/** Seed and size can be raised for a deeper local run: NICOFF_NFP_ORACLE_SEED, NICOFF_NFP_ORACLE_SCALE. */
const SEED = Number(process.env['NICOFF_NFP_ORACLE_SEED'] ?? 0x6e6670); // "nfp"
const SCALE = Number(process.env['NICOFF_NFP_ORACLE_SCALE'] ?? 1);
/** Generated records per form, and random words per opcode class. */
const PER_FORM = Math.round(150 * SCALE);
const PER_CLASS = Math.round(4000 * SCALE);

const haveOracle = existsSync(OBJDUMP);
if (!haveOracle) {
  const why = `the binutils NFP oracle ${OBJDUMP} is missing (build it with tools/build-binutils-nfp.sh)`;
  if (process.env['CI'] === 'true') throw new Error(`CI=true but ${why}`);
  console.log(`nfp binutils oracle suite skipped: ${why}`);
}
const haveGolden = existsSync(GOLDEN_DIR);
if (!haveGolden && process.env['CI'] === 'true') throw new Error(`CI=true but the golden vectors are missing at ${GOLDEN_DIR}`);

/** ELF64 little-endian, EM_NFP (250), e_flags selecting NFP-6xxx, one executable .text section holding the words. */
export function nfpElf(words: readonly bigint[]): Buffer {
  const text = Buffer.alloc(words.length * 8);
  words.forEach((w, i) => text.writeBigUInt64LE(w, i * 8));
  const shstrtab = Buffer.from('\0.text\0.shstrtab\0', 'latin1');
  const textOff = 64;
  const strOff = textOff + text.length;
  const shOff = (strOff + shstrtab.length + 7) & ~7;
  const elf = Buffer.alloc(shOff + 3 * 64);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2 /* ELFCLASS64 */, 1 /* LSB */, 1 /* EV_CURRENT */], 0);
  elf.writeUInt16LE(1, 16); // ET_REL
  elf.writeUInt16LE(250, 18); // EM_NFP
  elf.writeUInt32LE(1, 20);
  elf.writeBigUInt64LE(BigInt(shOff), 40);
  elf.writeUInt32LE(0x6000 << 8, 48); // EF_NFP_MACH = NFP-6xxx
  elf.writeUInt16LE(64, 52); // e_ehsize
  elf.writeUInt16LE(64, 58); // e_shentsize
  elf.writeUInt16LE(3, 60); // e_shnum
  elf.writeUInt16LE(2, 62); // e_shstrndx
  text.copy(elf, textOff);
  shstrtab.copy(elf, strOff);
  const section = (i: number, name: number, type: number, flags: number, off: number, size: number, align: number): void => {
    const at = shOff + i * 64;
    elf.writeUInt32LE(name, at);
    elf.writeUInt32LE(type, at + 4);
    elf.writeBigUInt64LE(BigInt(flags), at + 8);
    elf.writeBigUInt64LE(BigInt(off), at + 24);
    elf.writeBigUInt64LE(BigInt(size), at + 32);
    elf.writeBigUInt64LE(BigInt(align), at + 48);
  };
  section(1, 1, 1 /* PROGBITS */, 0x6 /* ALLOC | EXECINSTR */, textOff, text.length, 8);
  section(2, 7, 3 /* STRTAB */, 0, strOff, shstrtab.length, 1);
  return elf;
}

/** objdump's text for each word (one process for all of them). */
function oracleTexts(words: readonly bigint[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'nicoff-nfp-oracle-'));
  try {
    const file = join(dir, 'words.elf');
    writeFileSync(file, nfpElf(words));
    const out = execFileSync(OBJDUMP, ['-d', '-M', 'no-pc,ctx4', file], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const texts: string[] = new Array<string>(words.length);
    for (const line of out.split('\n')) {
      // "   8:\t000902f0000c0400 \timmed[gprA_0, 0x1], gpr_wrboth"
      const m = /^\s*([0-9a-f]+):\t[0-9a-f]{16} \t(.*)$/.exec(line);
      if (m) texts[Number.parseInt(m[1]!, 16) / 8] = m[2]!;
    }
    const missing = texts.filter((t) => t === undefined).length + (words.length - texts.length);
    if (missing > 0) throw new Error(`objdump printed no line for ${missing} of ${words.length} words`);
    return texts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function hex(word: bigint): string {
  return `0x${word.toString(16).padStart(16, '0')}`;
}

interface Outcome {
  accepted: number;
  refused: number;
  /** Refused words whose objdump text is valid, with that text. */
  refusedPrinted: Array<{ form: string; body: bigint; text: string }>;
  failures: string[];
}

/** objdump's marks of a word it cannot print (and BR_ALU's label when no field holds one). */
const OBJDUMP_INVALID = /<invalid|ERROR|<opnd|<operator|\(null\)|\.-\d/;

/** Decode, print, assemble each word; compare with objdump. Words nicoff refuses are collected, not compared. */
function check(words: readonly GeneratedWord[], mustDecode: boolean): Outcome {
  const texts = oracleTexts(words.map((w) => w.body));
  const outcome: Outcome = { accepted: 0, refused: 0, refusedPrinted: [], failures: [] };
  words.forEach(({ form, body }, i) => {
    const oracle = texts[i]!;
    let text: string;
    try {
      text = formatInsn(decodeInsn(body));
    } catch (e) {
      if (!(e instanceof NicoffError)) throw e;
      outcome.refused++;
      if (mustDecode) outcome.failures.push(`${form} ${hex(body)}: nicoff refuses (${e.diagnostic.message}); objdump: ${oracle}`);
      else if (!OBJDUMP_INVALID.test(oracle)) outcome.refusedPrinted.push({ form, body, text: oracle });
      return;
    }
    outcome.accepted++;
    if (text !== oracle) {
      outcome.failures.push(`${form} ${hex(body)}: nicoff "${text}" objdump "${oracle}"`);
      return;
    }
    try {
      const again = assembleBody(text);
      if (again !== (body & NFP_BODY_MASK)) outcome.failures.push(`${form} ${hex(body)} "${text}": assembles to ${hex(again)}`);
    } catch (e) {
      outcome.failures.push(`${form} ${hex(body)} "${text}": does not assemble: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
  return outcome;
}

/**
 * Why nicoff may refuse a word whose objdump text it cannot reproduce from a
 * canonical word: the kernel's operand rules (two sources of one register class;
 * an immediate destination other than the "none" code; defer 3 on an
 * unconditional branch); a br=byte whose compared operand is an immediate; a
 * mul_step start whose step field says last/last2 (printed `mul_step[X, --], start`);
 * texts only non-canonical words print: a byte/half immed showing 0 with no
 * destination (imm16 0 is nop; the text comes from an inverted or high-byte
 * value) and `urd[X, ...]` with X other than the gprA_0 of a canonical CSR read.
 */
const KNOWN_REFUSALS = new RegExp(
  [
    'both sources are',
    'an immediate cannot be a destination',
    'defer 3 is not allowed for br',
    'the register compared cannot be an immediate',
    'mul_step start takes two sources',
    'an immed of 0 to no destination is nop',
    'urd reads into gprA_0 only',
  ].join('|'),
);

/**
 * For words nicoff refuses but objdump prints: the text must parse, and either
 * assemble to a word objdump prints the same way (the refused word was a lossy
 * alias of that canonical word) or be refused by one of KNOWN_REFUSALS. Anything
 * else is syntax or a table entry nicoff lacks.
 */
function checkRefusals(refused: Outcome['refusedPrinted']): { aliases: number; known: number; failures: string[] } {
  const failures: string[] = [];
  const aliases: Array<{ word: bigint; text: string; from: string }> = [];
  let known = 0;
  for (const { form, body, text } of refused) {
    try {
      aliases.push({ word: encodeInsn(parseInsn(text)), text, from: `${form} ${hex(body)}` });
    } catch (e) {
      if (!(e instanceof NicoffError)) throw e;
      if (KNOWN_REFUSALS.test(e.diagnostic.message)) known++;
      else failures.push(`${form} ${hex(body)} objdump "${text}": ${e.diagnostic.message}`);
    }
  }
  const again = aliases.length > 0 ? oracleTexts(aliases.map((a) => a.word)) : [];
  aliases.forEach((a, i) => {
    if (again[i] !== a.text) failures.push(`${a.from} objdump "${a.text}" assembles to ${hex(a.word)}, which objdump prints "${again[i]}"`);
  });
  return { aliases: aliases.length, known, failures };
}

/** Each distinct loaded word of the program listings and the lowering catalogue, named by the first file (in name order) holding it. */
function goldenWords(): GeneratedWord[] {
  const seen = new Map<bigint, GeneratedWord>();
  for (const file of readdirSync(GOLDEN_DIR).sort()) {
    let words: bigint[];
    if (file.endsWith('.txt')) words = readGoldenTable(file.slice(0, -'.txt'.length)).rows.map((r) => r.loaded);
    else if (file === 'lowering-catalogue.md') words = parseCatalogue().flatMap((c) => c.words.map((w) => w.word));
    else continue;
    for (const word of words) if (!seen.has(word)) seen.set(word, { form: `golden ${file}`, body: word });
  }
  return [...seen.values()];
}

(haveOracle ? describe : describe.skip)('NFP disassembler against binutils objdump (nfp-elf)', () => {
  test('objdump is the NFP-6xxx disassembler this suite expects', () => {
    const version = execFileSync(OBJDUMP, ['--version'], { encoding: 'utf8' }).split('\n')[0];
    console.log(`oracle: ${OBJDUMP}: ${version}`);
    expect(oracleTexts([0x000000f0000c0300n, 0x000902f0000c0400n])).toEqual(['nop', 'immed[gprA_0, 0x1], gpr_wrboth']);
  });

  (haveGolden ? test : test.skip)('every distinct golden loaded word: nicoff text = objdump text', () => {
    const words = goldenWords();
    const r = check(words, true);
    console.log(`golden: ${words.length} distinct words, ${r.accepted} agree-checked, ${r.failures.length} failures`);
    expect(words.length).toBe(398);
    expect(r.failures.slice(0, 30)).toEqual([]);
  });

  test(`generated records of every form (${PER_FORM} each, seed ${SEED}): text = objdump text, text assembles to the word`, () => {
    const words = generateRecordWords(seeded(SEED), PER_FORM);
    const forms = new Set(words.map((w) => w.form));
    expect(forms.size).toBe(recordMakers().size);
    const r = check(words, true);
    console.log(`records: ${words.length} words over ${forms.size} forms, ${r.failures.length} failures`);
    expect(r.failures.slice(0, 30)).toEqual([]);
  });

  test(`random words in every opcode class (${PER_CLASS} each): whatever nicoff decodes, it prints as objdump does`, () => {
    const words = generateClassWords(seeded(SEED + 1), PER_CLASS);
    const r = check(words, false);
    const refusals = checkRefusals(r.refusedPrinted);
    console.log(
      `class words: ${words.length}, decoded and compared ${r.accepted}, refused ${r.refused}; of those objdump prints ` +
        `${r.refusedPrinted.length}: ${refusals.aliases} lossy aliases of a canonical word, ${refusals.known} by KNOWN_REFUSALS; ` +
        `${r.failures.length + refusals.failures.length} failures`,
    );
    expect(r.accepted).toBeGreaterThan(words.length / 10);
    expect(r.failures.slice(0, 30)).toEqual([]);
    expect(refusals.failures.slice(0, 30)).toEqual([]);
  });
});
