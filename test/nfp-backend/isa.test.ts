/**
 * NFP instruction codec against the kernel-JIT golden vectors in ../shared/nfp-golden
 * (read in place, never copied). Without that directory the suite prints a skip
 * notice, except under CI=true where it fails.
 */
import { describe, test, expect } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { NicoffError } from '../../src/diagnostics/diagnostic.js';
import { assembleWord, parseInsn } from '../../src/nfp-backend/isa/assembler.js';
import { decodeInsn, encodeInsn } from '../../src/nfp-backend/isa/codec.js';
import { disassembleWord, formatInsn } from '../../src/nfp-backend/isa/disassembler.js';
import { computeEcc, NFP_BODY_MASK, storedEcc, withEcc } from '../../src/nfp-backend/isa/ecc.js';
import { gpr } from '../../src/nfp-backend/isa/operands.js';
import { BR_OFF_RELO, decodeRawWord, relocateRawWord, type RelocationTargets } from '../../src/nfp-backend/isa/raw-relocation.js';
import { GOLDEN_DIR, goldenOrSkip, readGoldenTable } from '../support/golden-word-table.js';
import { parseCatalogue } from '../support/lowering-catalogue.js';

/** nfp-microcode.md section I: the golden set holds 847 loaded words. */
const GOLDEN_WORD_COUNT = 847;

interface GoldenWord {
  where: string;
  word: bigint;
  text: string;
  /** The raw JIT word (program files only). */
  raw?: bigint;
}

/** Every word row of every program listing (raw and loaded word) and of the lowering catalogue (loaded word), in file order. */
function loadGolden(): GoldenWord[] {
  const words: GoldenWord[] = [];
  for (const file of readdirSync(GOLDEN_DIR).sort()) {
    if (file.endsWith('.txt')) {
      for (const r of readGoldenTable(file.slice(0, -'.txt'.length)).rows) words.push({ where: `${file}:${r.line}`, raw: r.raw, word: r.loaded, text: r.text });
    } else if (file === 'lowering-catalogue.md') {
      for (const c of parseCatalogue()) for (const w of c.words) words.push({ where: `${file}:${w.line}`, word: w.word, text: w.text });
    }
  }
  return words;
}

function hex(word: bigint): string {
  return `0x${word.toString(16).padStart(16, '0')}`;
}

/** Runs `check` on every golden word; returns the failures (first 20 shown by the caller). */
function failuresOf(words: GoldenWord[], check: (g: GoldenWord) => string | undefined): string[] {
  const failures: string[] = [];
  for (const g of words) {
    let problem: string | undefined;
    try {
      problem = check(g);
    } catch (e) {
      problem = e instanceof Error ? e.message : String(e);
    }
    if (problem !== undefined) failures.push(`${g.where} ${hex(g.word)} ${g.text}: ${problem}`);
  }
  return failures;
}

const haveGolden = goldenOrSkip('nfp isa golden suite');

(haveGolden ? describe : describe.skip)('NFP codec against the golden vectors', () => {
  const golden = haveGolden ? loadGolden() : [];
  const counts: Record<string, string> = {};
  const report = (check: string, failures: string[]): void => {
    counts[check] = `${golden.length - failures.length}/${golden.length}`;
    console.log(`${check}: ${counts[check]} pass${failures.length ? `\n${failures.slice(0, 20).join('\n')}` : ''}`);
    expect(failures).toEqual([]);
  };

  test(`finds all ${GOLDEN_WORD_COUNT} loaded words`, () => {
    expect(golden.length).toBe(GOLDEN_WORD_COUNT);
  });

  test('decode gives the golden disassembly', () => {
    report('disassembly', failuresOf(golden, (g) => {
      const text = disassembleWord(g.word);
      return text === g.text ? undefined : `got ${text}`;
    }));
  });

  test('encode(decode(word)) reproduces the word (body + ECC)', () => {
    report('round trip', failuresOf(golden, (g) => {
      const again = withEcc(encodeInsn(decodeInsn(g.word)));
      return again === g.word ? undefined : `got ${hex(again)}`;
    }));
  });

  test('recomputed ECC equals the golden ECC', () => {
    report('ECC', failuresOf(golden, (g) => {
      const ecc = computeEcc(g.word & NFP_BODY_MASK);
      return ecc === storedEcc(g.word) ? undefined : `got 0x${ecc.toString(16)}`;
    }));
  });

  test('raw JIT words (relocation byte, no ECC) decode and re-encode to their body', () => {
    const raw = golden.filter((g) => g.raw !== undefined);
    const failures = failuresOf(raw, (g) => {
      const rawWord = g.raw!;
      const body = encodeInsn(decodeInsn(rawWord));
      if (body !== (rawWord & NFP_BODY_MASK)) return `raw body re-encodes as 0x${body.toString(16)}`;
      // Unrelocated words (type 0) are loaded unchanged apart from the ECC.
      if (rawWord >> 56n === 0n && withEcc(body) !== g.word) return 'type-0 raw word differs from the loaded word';
      return undefined;
    });
    console.log(`raw words: ${raw.length - failures.length}/${raw.length} pass`);
    expect(raw.length).toBeGreaterThan(0);
    expect(failures).toEqual([]);
  });

  test('raw words: relocation byte and placeholder as B.1/I describe; relocating them gives the loaded words', () => {
    // Per program: the header's load slot and outro labels (program-relative), and the
    // README's placeholder helper addresses by BPF helper id.
    const helperAddress: Record<number, number> = { 1: 0x200, 2: 0x300, 3: 0x400, 25: 0x500 };
    const counts = new Map<number, number>();
    const failures: string[] = [];
    for (const name of readdirSync(GOLDEN_DIR).filter((n) => n.endsWith('.txt')).sort()) {
      const table = readGoldenTable(name.slice(0, -'.txt'.length));
      const [length, exit, abort] = [table.len, table.tgtOut, table.tgtAbort];
      const targets: RelocationTargets = {
        startPc: table.startPc, donePc: table.donePc, exit, abort, helperAddress: (id) => helperAddress[id],
      };
      const rows = golden.filter((g) => g.raw !== undefined && g.where.startsWith(`${name}:`));
      expect(rows.length).toBe(length);
      failures.push(...failuresOf(rows, (g) => {
        const raw = decodeRawWord(g.raw!);
        const { type } = raw.relocation;
        counts.set(type, (counts.get(type) ?? 0) + 1);
        const p = raw.placeholder;
        const targetBit40 = (g.raw! >> 40n) & 1n;
        switch (type) {
          case 0:
            if (p.kind !== 'none') return `type 0 with placeholder ${p.kind}`;
            break;
          case 1:
          case 8:
            // Program-relative: a pc inside the program (type 8 holds it in the immed's 16-bit value).
            if (p.kind !== 'program-relative' || p.value >= length) return `${raw.relocation.name} value is not a pc of the program`;
            if (type === 8 && raw.insn.format !== 'immed') return 'type 8 is not an immed';
            break;
          case 2:
          case 6:
            if (p.kind !== 'special' || p.value !== BR_OFF_RELO || targetBit40 !== 1n) return `placeholder is not ${BR_OFF_RELO} with bit 40 set`;
            break;
          case 7:
            if (p.kind !== 'helper' || helperAddress[p.helperId] === undefined) return 'helper placeholder does not name a known helper';
            break;
          default:
            return `relocation type ${type} does not occur in the golden programs (section I)`;
        }
        const loaded = relocateRawWord(g.raw!, targets);
        if (loaded !== g.word) return `relocates to ${hex(loaded)}`;
        // The loaded target, checked directly: start + pc, the outro's exit, done, or the helper's address.
        const insn = decodeInsn(g.word);
        const value = insn.format === 'immed' ? insn.imm16 : insn.format === 'br' ? insn.target : undefined;
        const expected = {
          1: targets.startPc + (p.kind === 'program-relative' ? p.value : NaN),
          2: targets.startPc + exit,
          6: targets.donePc,
          7: p.kind === 'helper' ? helperAddress[p.helperId] : NaN,
          8: targets.startPc + (p.kind === 'program-relative' ? p.value : NaN),
        }[type as 1 | 2 | 6 | 7 | 8];
        if (type !== 0 && value !== expected) return `loaded target ${value}, expected ${expected}`;
        return undefined;
      }));
    }
    console.log(`raw relocations: ${[...counts].sort(([a], [b]) => a - b).map(([t, n]) => `type ${t} x${n}`).join(', ')}`);
    expect(failures).toEqual([]);
    // nfp-microcode.md section I: "Seen: type 0 x232, 1 x17, 2 x6, 6 x12, 7 x1, 8 x1."
    expect(Object.fromEntries(counts)).toEqual({ 0: 232, 1: 17, 2: 6, 6: 12, 7: 1, 8: 1 });
  });

  test('assemble(text) gives the word', () => {
    report('assemble', failuresOf(golden, (g) => {
      const word = assembleWord(g.text);
      return word === g.word ? undefined : `got ${hex(word)}`;
    }));
  });
});

describe('NFP codec, documented worked encodings (nfp-microcode.md B.9/B.10)', () => {
  const worked: Array<[string, bigint]> = [
    ['immed[gprB_22, 0x3fff]', 0x000f20f003f05bffn],
    ['alu[gprB_22, gprB_22, AND, *l$index1]', 0x000700b441605a20n],
    ['immed[gprA_0, 0x1], gpr_wrboth', 0x000902f0000c0400n],
    ['br[.3080]', 0x000ae0db02008038n],
    ['alu[gprA_4, --, B, *l$index1[2]], gpr_wrboth', 0x000bc2a000488800n],
    ['mem[read32_swap, $xfer_0, gprA_2, 0xc, 7], ctx_swap[sig1]', 0x0004d05c1c08b002n],
    ['nop', 0x000000f0000c0300n],
  ];
  test.each(worked)('%s', (text, word) => {
    expect(assembleWord(text)).toBe(word);
    expect(disassembleWord(word)).toBe(text);
  });

  test('decode ignores the raw form relocation byte; targets stay program-relative', () => {
    // xdp_drop pc 4: raw `br` to the outro (relocation type 2, placeholder 15000).
    const insn = decodeInsn(0x020001dea6008038n);
    expect(insn).toEqual({ format: 'br', condition: 'br', target: 15000, defer: 0 });
  });

  test('a decoded record is typed by format', () => {
    const insn = decodeInsn(0x000a02a080401804n);
    expect(insn).toEqual({
      format: 'alu', op: '+', dest: gpr('A', 4), left: gpr('A', 4), right: gpr('B', 6), wrboth: true,
    });
    expect(formatInsn(insn)).toBe('alu[gprA_4, gprA_4, +, gprB_6], gpr_wrboth');
  });
});

describe('NFP codec beyond the golden words: text -> word -> text', () => {
  const texts = [
    'immed_b1[gprA_3, 0x12]',
    'immed_w0[gprB_7, 0xbeef], gpr_wrboth',
    'immed[gprB_5, 0xffff1234]',
    'immed[--, 0x890]',
    'immed[*l$index2[1], 0x5]',
    'alu[gprA_1, *l$index2[3], +, gprB_2]',
    'alu[*l$index3++, --, B, gprB_1]',
    'alu[*l$index1--, --, ~B, gprA_9]',
    'alu[gprA_1, @gprA_100, +, gprB_1]',
    'alu[gprB_1, n$reg_3, XOR, 0xff]',
    'alu[$xfer_40, gprA_2, B-A, $xfer_33]',
    'alu_shf[gprA_1, gprA_2, OR, gprB_3, >>rot7]',
    'alu_shf[gprB_1, gprA_2, ~AND, 0x80, <<31]',
    'asr[gprB_1, gprA_1, >>indirect]',
    'dbl_shf[gprB_6, gprA_7, gprB_6, >>1]',
    'ld_field[gprA_1, 0110, gprB_2, <<8]',
    'ld_field_w_clr[*l$index3[7], 1000, 0xfe, >>24]',
    'br_bclr[gprB_3, 31, .100], defer[1]',
    'bgt[.16383], defer[3]',
    'bpl[.0]',
    'rtn[gprA_3], defer[1]',
    'local_csr_wr[ActLMAddr1, 0x10]',
    'local_csr_wr[ActLMAddr3, *l$index1]',
    'local_csr_rd[0x200]',
    'mul_step[gprB_3, gprA_2], 24x8_step1',
    'mul_step[gprB_9, --], 16x16_last, gpr_wrboth',
    'mem[read32, $xfer_35, gprA_1, <<8, gprB_2, 8], ctx_swap[sig2], defer[1]',
    'mem[write32_swap, $xfer_3, gprA_1, 0x7f, 4]',
    'mem[read_swap_le, $xfer_0, *l$index0[5], gprB_1, 2], indirect_ref, ctx_swap[sig1]',
  ];
  test.each(texts)('%s', (text) => {
    const word = assembleWord(text);
    expect(disassembleWord(word)).toBe(text);
    expect(withEcc(encodeInsn(decodeInsn(word)))).toBe(word);
  });
});

describe('NFP codec errors', () => {
  const codeOf = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      if (e instanceof NicoffError) return e.diagnostic.code;
      throw e;
    }
    return undefined;
  };

  test('an undecodable word is NC6001', () => {
    // ALU operation 0x02 is not defined.
    expect(codeOf(() => decodeInsn((0b101n << 37n) | (0x02n << 31n) | (0x300n << 20n)))).toBe('NC6001');
    // SRAM command target (0x30): NFP-6xxx has no command there.
    expect(codeOf(() => decodeInsn(0x30n << 32n))).toBe('NC6001');
  });

  test('a non-canonical word is NC6001', () => {
    // alu[--, 0x4, +, *l$index1] with the swap bit set although neither source is a GPR.
    const swapped = 0x220n | (0x304n << 10n) | (0x300n << 20n) | (1n << 30n) | (0x01n << 31n) | (0b101n << 37n);
    expect(codeOf(() => decodeInsn(swapped))).toBe('NC6001');
    expect(codeOf(() => decodeInsn(swapped & ~(1n << 30n)))).toBeUndefined();
    // predicate_cc (bit 44) on a branch: binutils does not show it there, so the word is refused.
    expect(codeOf(() => decodeInsn(0x000ae0db02008038n | (1n << 44n)))).toBe('NC6001');
  });

  test('a raw word that disagrees with B.1 is NC6004', () => {
    const exitBranch = 0x020001dea6008038n; // xdp_drop pc 4: type 2, br[.15000]
    expect(codeOf(() => decodeRawWord(exitBranch))).toBeUndefined();
    expect(codeOf(() => decodeRawWord(exitBranch | (1n << 45n)))).toBe('NC6004'); // ECC bits in a raw word
    expect(codeOf(() => decodeRawWord((exitBranch & ~(0xffn << 56n)) | (9n << 56n)))).toBe('NC6004'); // type 9
    expect(codeOf(() => decodeRawWord((exitBranch & ~(0x1fffn << 22n)) | (5n << 22n)))).toBe('NC6004'); // not the placeholder
    expect(codeOf(() => decodeRawWord(0x080000f0000c0300n))).toBe('NC6004'); // type 8 on a nop
    // xdp_count pc 34: type 7, helper 1 (15001); without a helper address it cannot be relocated.
    expect(codeOf(() => relocateRawWord(0x070001dea6608038n, { startPc: 3072, donePc: 1 }))).toBe('NC6004');
    expect(relocateRawWord(0x070001dea6608038n, { startPc: 3072, donePc: 1, helperAddress: (id) => (id === 1 ? 0x200 : undefined) }))
      .toBe(assembleWord('br[.512], defer[2]'));
  });

  test('malformed text is NC6002', () => {
    expect(codeOf(() => parseInsn('alu[gprA_4, gprA_4, ++, gprB_6]'))).toBe('NC6002');
    expect(codeOf(() => parseInsn('frobnicate[gprA_1]'))).toBe('NC6002');
    expect(codeOf(() => parseInsn('br[.3], defer[2], bogus'))).toBe('NC6002');
  });

  test('operands that cannot be placed are NC6003', () => {
    expect(codeOf(() => encodeInsn(parseInsn('alu[gprA_4, gprA_4, +, gprA_6]')))).toBe('NC6003');
    expect(codeOf(() => encodeInsn(parseInsn('alu[gprA_4, 0x1, +, 0x2]')))).toBe('NC6003');
    expect(codeOf(() => encodeInsn(parseInsn('br[.3], defer[3]')))).toBe('NC6003');
  });
});

/**
 * Formats beyond the kernel JIT's subset. Every (text, word) pair below was
 * checked against binutils' objdump when it was written (the oracle suite,
 * binutils-oracle.test.ts, checks such words by the thousand); here they pin
 * decode -> text, assemble(text) -> word and encode(decode(word)) -> word without it.
 */
function pinned(title: string, pairs: Array<[string, bigint]>): void {
  describe(title, () => {
    test.each(pairs)('%s', (text, word) => {
      expect(disassembleWord(word)).toBe(text);
      expect(assembleWord(text)).toBe(word);
      expect(withEcc(encodeInsn(decodeInsn(word)))).toBe(word);
    });
  });
}

pinned('BR_BYTE: br=byte / br!=byte', [
  ['br=byte[gprA_1, 2, 0x7f, .100]', 0x000dc0c8190bfe01n],
  ['br!=byte[gprB_3, 0, 0xff, .16383], defer[3]', 0x000841cffff40cffn],
  ['br=byte[$xfer_3, 3, gprB_4, .5], defer[1]', 0x000160c801581383n],
  ['br!=byte[*l$index2[3], 1, 0x20, .7]', 0x0008e4c801c18153n],
]);

pinned('CTX_ARB', [
  ['ctx_arb[sig1, sig3]', 0x0003e0e00000000an],
  ['ctx_arb[kill]', 0x0006e0e000000000n],
  ['ctx_arb[voluntary]', 0x000600e000000001n],
  ['ctx_arb[bpt]', 0x000220e000020000n],
  ['ctx_arb[--], any', 0x000760e000090000n],
  ['ctx_arb[sig15], any, br[.300], defer[2]', 0x000ea0e04b258000n],
]);

pinned('BR_ALU: jump[reg, .label] (label != 0) and rtn', [
  ['jump[gprA_3, .300]', 0x000e80e8004cb003n],
  ['jump[gprB_7, .131071], defer[3]', 0x0005a0e87ff01fffn],
  ['jump[$xfer_2, .1]', 0x000cc0e8000c0582n],
  ['jump[0x12, .4660]', 0x000e60e8048c4b34n],
  ['rtn[gprB_5]', 0x000780e800001700n],
  ['rtn[*l$index3]', 0x000ba4e8000c0220n],
]);

pinned('branch conditions 16-23 (context, signal, input state, CLS ring state)', [
  ['br=ctx[3, .10]', 0x000640d80280c130n],
  ['br!=ctx[0, .10], defer[1]', 0x000e00d802900131n],
  ['br_signal[15, .0]', 0x0008e0d80003c132n],
  ['br_!signal[1, .8191]', 0x000f80dfffc04133n],
  ['br_inp_state[nn_empty, .9000]', 0x000ce1d8ca000134n],
  ['br_!inp_state[ctm_ring13_status, .12]', 0x0004c0d80303c135n],
  ['br_cls_state[cls_ring0_status, .1]', 0x000720d800400136n],
  ['br_!cls_state[cls_ring15_status, .16383], defer[3]', 0x000b41dffff3c137n],
]);

pinned('ALU pop_count1/2/3, ffs, cam_*, CRC', [
  ['pop_count1[gprA_2]', 0x000660a370000002n],
  ['pop_count2[gprB_2]', 0x0005a0a3b0000800n],
  ['pop_count3[gprA_1, gprB_2]', 0x0001e0a180100800n],
  ['ffs[gprB_3, gprA_4], no_cc', 0x0000e1b740300004n],
  ['cam_read_tag[gprA_5, 0x3]', 0x000a00a7805c0c00n],
  ['cam_read_state[$xfer_1, gprB_6]', 0x000220af98101800n],
  ['cam_clear', 0x000f80a5b0000000n],
  ['cam_clear, gpr_wrboth', 0x000822a5b0000000n],
  ['cam_lookup[gprA_1, gprB_2]', 0x000980abc0100800n],
  ['cam_lookup[$xfer_0, gprA_3], lm_addr2[3]', 0x0002e0ab98007403n],
  ['cam_lookup[--, 0x5], lm_addr1[0]', 0x000540abb0000b05n],
  ['cam_write[gprB_1, gprA_2, 7]', 0x000a60a980700402n],
  ['cam_write_state[gprA_4, 15]', 0x000480adc0f00004n],
  ['crc_be[crc_32, gprA_1, gprB_2]', 0x000ba0a900100880n],
  ['crc_le[crc_iscsi, --, gprA_3], bytes_1_3, bit_swap', 0x000440a97002e403n],
  ['crc_be[--, gprB_4, 0x12], byte_0', 0x000e40b9004c4806n],
  ['crc_le[crc_ccitt, $xfer_3, *l$index2], bytes_0_1, predicate_cc', 0x000d14a91838004dn],
]);

pinned('CMD targets other than mem, every address mode, sig_done', [
  ['cls[read, $xfer_0, gprA_1, 0x8, 4], ctx_swap[sig2]', 0x000dd0602600a001n],
  ['nbi[packet_ready_unicast, $xfer_1, gprA_2, <<8, gprB_3, 1]', 0x0003600700140f02n],
  ['pcie[read_rid, $xfer_5, gprB_1, <<8, 0x10, 8], sig_done[sig4]', 0x0005e40c4e540730n],
  ['crypto[write_fifo, $xfer_63, gprA_9, gprB_9, 2], ctx_swap[--], defer[2]', 0x0008311603f02609n],
  ['arm[read, $xfer_8, *$index, 0x3, 1]', 0x0006701800808f40n],
  ['ct[interthread_signal, $xfer_0, gprA_0, 0x0, 1]', 0x000fd01c00088300n],
  ['ila[write_dma, $xfer_1, gprA_1, 0x0, 4]', 0x0008300306108301n],
  ['mem[add64, $xfer_0, gprA_0, gprB_1, 5]', 0x000f904708000700n],
  ['mem[ctm.packet_alloc/emem.enqueue/imem.stats_push, $xfer_4, gprA_4, gprB_4, 1]', 0x0004d05100401304n],
  ['mem[read, 0x45, gprA_1, <<8, gprB_2, 3]', 0x000aaa4004500b01n],
  ['mem[write, 0x3, gprB_1, <<8, gprA_2, 2]', 0x000f2c4102300702n],
  ['mem[read32, $xfer_2, 0x1234, 8], ctx_swap[sig1]', 0x0002f45c1e204834n],
  ['mem[add, 0x1234, 0x5a3], ctx_swap[--], defer[1]', 0x00015847168c4934n],
  ['cls[write, 0x3abcd, --, 2], sig_done[sig3]', 0x00099c613232afcdn],
  ['mem[read_swap_le, $xfer_0, *l$index0[5], gprB_1, 2], indirect_ref, ctx_swap[sig1]', 0x0004f240120c0455n],
]);

pinned('indexed transfer / next-neighbour operands, absolute GPRs', [
  ['alu[gprA_1, *$index, +, gprB_2]', 0x000240a080100900n],
  ['alu[*$index++, --, B, gprA_1]', 0x000220a050200001n],
  ['alu[gprB_1, *n$index++, XOR, *$index--]', 0x000bc0bc00141242n],
  ['alu[*n$index, --, ~B, *$index]', 0x000b40a224040000n],
  ['alu_shf[gprA_1, *n$index, OR, gprB_2, <<4]', 0x0002008bc0100a41n],
  ['ld_field[*$index--, 0001, gprB_1]', 0x0005a0c001000444n],
  ['mem[read32, $xfer_1, *$index++, *n$index, 1]', 0x000b505c00110742n],
  ['alu[@gprB_9, --, B, @gprA_100]', 0x0008a0b0489000e4n],
  ['immed[*n$index++, 0x77]', 0x000e60f0000dde42n],
]);

pinned('no_cc (bit 40), predicate_cc (bit 44), load_cc (bit 34)', [
  ['alu[gprA_1, gprA_2, +, gprB_3], no_cc', 0x0003c1a080100c02n],
  ['alu[gprA_1, gprA_2, +, gprB_3], no_cc, gpr_wrboth, predicate_cc', 0x0003b3a080100c02n],
  ['alu_shf[gprA_1, --, B, gprB_2, <<1], no_cc, predicate_cc', 0x00021181f0100a00n],
  ['immed[gprA_1, 0x5], predicate_cc', 0x000fb0f0000c1401n],
  ['ld_field[gprA_1, 0001, gprB_2], load_cc, predicate_cc', 0x000050c401000801n],
  ['mul_step[gprA_1, gprB_2], 32x32_step1, no_cc', 0x000141f980000801n],
]);

pinned('other text forms: >>rot0, byte_align, asr class 3, >>dbl, LM extension of ld_field, urd/uwr, CSR names', [
  ['alu_shf[gprA_1, gprA_2, AND, gprB_3, >>rot0]', 0x000d408400100c02n],
  ['byte_align_be[gprA_1, gprB_2]', 0x0005408e00100900n],
  ['byte_align_le[gprB_1, gprA_2]', 0x0000609e00100202n],
  ['dbl_shf[gprA_1, gprB_2, >>3]', 0x0007608c30100b00n],
  ['ld_field[gprA_1, 1111, gprB_2, >>dbl5]', 0x000780c05f000b01n],
  ['ld_field[*l$index2, 0011, gprB_1, <<8]', 0x00000cc183000650n],
  ['urd[gprA_0, *u$index0++]', 0x0001a0fc00400000n],
  ['uwr[*u$index0++, gprB_1]', 0x000640fc00600700n],
  ['local_csr_rd[CtxEnables]', 0x0001e0fc01800000n],
  ['local_csr_wr[Mailbox0, gprB_3]', 0x0005e0fc17200f00n],
  ['mem[read32, $xfer_3, gprA_1, 0x4, 1], sig_done[sig5]', 0x000b305c50309301n],
]);

describe('records of the new formats', () => {
  test('decode gives typed records', () => {
    expect(decodeInsn(assembleWord('br_inp_state[nn_full, .9]'))).toEqual({ format: 'br', condition: 'br_inp_state', state: 1, target: 9, defer: 0 });
    expect(decodeInsn(assembleWord('jump[gprB_7, .300], defer[1]'))).toEqual({ format: 'jump', reg: gpr('B', 7), target: 300, defer: 1 });
    expect(decodeInsn(assembleWord('ctx_arb[sig2, sig4], any'))).toEqual({ format: 'ctx_arb', events: [2, 4], any: true, defer: 0 });
    expect(decodeInsn(assembleWord('alu[gprA_1, gprA_2, +, gprB_3], no_cc, predicate_cc'))).toEqual({
      format: 'alu', op: '+', dest: gpr('A', 1), left: gpr('A', 2), right: gpr('B', 3), wrboth: false, noCc: true, predicateCc: true,
    });
    expect(decodeInsn(assembleWord('mem[add, 0x1234, 0x5a3]'))).toEqual({
      format: 'cmd', target: 'mem', action: 'add', addressMode: 6, xfer: 0, a: { kind: 'none' }, b: { kind: 'none' },
      address: 0x1234, data: 0x5a3, length: 1, ctxSwap: 3, signal: 0, indirectRef: false,
    });
  });
});

/**
 * Words binutils prints the same as another word (its text does not show the
 * field that differs): nicoff decodes only the canonical one and refuses these
 * with NC6001 naming the word. Each row: the refused word, and the text objdump
 * prints for it (checked when written), which assembles to the canonical word.
 */
describe('lossy text forms: only the canonical word decodes', () => {
  const lossy: Array<[string, bigint, string]> = [
    ['alu B/~B ignore the A field (must be 0)', 0x000000a000100805n, 'alu[gprA_1, --, B, gprB_2]'],
    ['an inverted byte immed prints its inverted value', 0x000000f0afffb401n, 'immed_b0[gprA_1, 0x12]'],
    ['both immed fields immediate with value 0 print nop, whatever the width', 0x000000f0200c0300n, 'nop'],
    ['command mode 1 with no GPR reads as mode 0', 0x0000045c00109b25n, 'mem[read32, $xfer_1, 0x6, <<8, 0x5, 1]'],
    ['indexed transfer code 0x106: bits beyond the post-modify bits are not shown', 0x000000a080100906n, 'alu[gprA_1, *$index, +, gprB_2]'],
    ['cam_lookup lm_addr selector 3 prints as selector 2', 0x000000ab80100c03n, 'cam_lookup[gprA_1, gprA_3], lm_addr1[0]'],
    ['dbl_shf does not show an operation other than B', 0x0000008440100f02n, 'dbl_shf[gprA_1, gprA_2, gprB_3, >>4]'],
    ['ctx_arb does not show signal 0 among others', 0x000000e00000000bn, 'ctx_arb[sig1, sig3]'],
    ['branches do not show the ev_pip field (canonical: 1 when conditional)', 0x000000d80280c030n, 'br=ctx[3, .10]'],
    ['local_csr_rd does not show its operand fields (canonical: 0)', 0x000000fc01800007n, 'local_csr_rd[CtxEnables]'],
  ];
  test.each(lossy)('%s', (_what, word, text) => {
    let code: string | undefined;
    let message = '';
    try {
      decodeInsn(word);
    } catch (e) {
      if (!(e instanceof NicoffError)) throw e;
      code = e.diagnostic.code;
      message = e.diagnostic.message;
    }
    expect(code).toBe('NC6001');
    expect(message).toContain(hex(word));
    const canonical = assembleWord(text);
    expect(canonical & NFP_BODY_MASK).not.toBe(word);
    expect(disassembleWord(canonical)).toBe(text);
  });
});
