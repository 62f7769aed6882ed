/**
 * `nicoff asm LISTING -o prog.nfp` and `nicoff disasm prog.nfp` as users run
 * them, on the six golden programs of ../shared/nfp-golden: the listing shows
 * every golden disassembly line and, for each group of words, the eBPF
 * instruction as the eBPF disassembler prints it. Malformed images and
 * listings are one coded line and exit 2, and leave no output file.
 *
 * The CLI runs from source through tsx (as `npx tsx src/cli/main.ts` does), so
 * this suite neither builds dist/ nor races the suites that do.
 */
import { describe, test, expect, beforeAll } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeProgram } from '../../src/ebpf/decode.js';
import { disassembleInsn } from '../../src/ebpf/disasm.js';
import { GOLDEN_DIR, GOLDEN_PROGRAM_NAMES, goldenListingText, goldenOrSkip, readGoldenTable } from '../support/golden-word-table.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const GOLDEN_PROGRAMS = [...GOLDEN_PROGRAM_NAMES];
const tmp = mkdtempSync(join(tmpdir(), 'nicoff-cli-nfp-image-'));

const goldenDescribe = goldenOrSkip('nfp image CLI golden suites') ? describe : describe.skip;

function nicoff(args: string[]) {
  const env = { ...process.env };
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  delete env.NICOFF_DEBUG;
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args], { cwd: root, encoding: 'utf8', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const golden = (name: string) => join(GOLDEN_DIR, `${name}.txt`);
const imagePath = (name: string) => join(tmp, `${name}.nfp`);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The golden word rows (read independently of the listing reader `nicoff asm` uses), loaded words as 16 hex digits. */
function goldenRows(name: string) {
  return readGoldenTable(name).rows.map((r) => ({ pc: r.pc, loaded: r.loaded.toString(16).padStart(16, '0'), text: r.text }));
}

/** The eBPF slots from the listing header, and their text from the eBPF disassembler. */
function goldenEbpf(name: string) {
  const hex = readGoldenTable(name).ebpfHex;
  const insns = decodeProgram(Uint8Array.from(Buffer.from(hex.join(''), 'hex')), 'le');
  return insns.map((insn, i) => ({ i, hex: hex[i], text: i > 0 && insns[i - 1].slots === 2 ? undefined : disassembleInsn(insn, i) }));
}

function expectOneCodedLine(r: { status: number | null; stderr: string }, code: string): void {
  expect(r.status).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^error ${code}[ :]`));
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

goldenDescribe('nicoff asm / disasm on the golden programs', () => {
  beforeAll(() => {
    for (const name of GOLDEN_PROGRAMS) {
      const r = nicoff(['asm', golden(name), '-o', imagePath(name)]);
      if (r.status !== 0) throw new Error(`asm ${name} failed: ${r.stderr}`);
    }
  }, 180_000);

  test.each(GOLDEN_PROGRAMS)('%s: disasm shows every golden word and each group\'s eBPF instruction', (name) => {
    const r = nicoff(['disasm', imagePath(name)]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const out = r.stdout;
    const type = name.startsWith('tc') ? 'tc' : 'xdp';
    expect(out).toMatch(new RegExp(`^NFP image .*${name}\\.nfp: ${name}, program type ${type}, ${goldenRows(name).length} words$`, 'm'));
    expect(out).toMatch(/^ {2}load slot: pc 3072\.\.\d+, done 1 /m);
    for (const row of goldenRows(name)) {
      expect(out).toMatch(new RegExp(`^\\s*${row.pc}  ${row.loaded}  ${escape(row.text)}(\\s|$)`, 'm'));
    }
    for (const e of goldenEbpf(name)) {
      const text = e.text ?? `(second slot of bpf#${e.i - 1})`;
      expect(out).toMatch(new RegExp(`^bpf#${e.i}  ${e.hex}\\S*  ${escape(text)}(\\s|$)`, 'm'));
    }
    // Words come in pc order, each once.
    const pcs = [...out.matchAll(/^\s+(\d+)  [0-9a-f]{16}  /gm)].map((m) => Number(m[1]));
    expect(pcs).toEqual(goldenRows(name).map((r) => r.pc));
    if (name === 'xdp_count') expect(out).toMatch(/^ {4}table 1 {2}cnt {2}array {2}key 4 {2}value 8 {2}entries 4 {2}atomic words 0,1$/m);
    else expect(out).toMatch(/^ {2}maps: none$/m);
  });

  test('disasm --json gives the same structurally', () => {
    const r = nicoff(['disasm', imagePath('xdp_count'), '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.image).toMatchObject({ name: 'xdp_count', programType: 'xdp', words: 43, loadSlot: { startPc: 3072, endPc: 3114, donePc: 1 }, stackDepth: 4, labels: { exit: 25, abort: 22 } });
    expect(j.image.maps).toEqual([{ tableId: 1, name: 'cnt', type: 'array', keySize: 4, valueSize: 8, maxEntries: 4, atomicWords: [0, 1] }]);
    const words = j.groups.flatMap((g: { words: { word: string }[] }) => g.words.map((w) => w.word));
    expect(words).toEqual(goldenRows('xdp_count').map((r) => r.loaded));
    expect(j.groups.map((g: { kind: string; insn?: number }) => g.kind + (g.insn ?? ''))).toEqual(['prologue', ...Array.from({ length: 11 }, (_, i) => `ebpf${i}`), 'outro']);
    const call = j.groups.find((g: { insn?: number }) => g.insn === 6);
    expect(call.ebpf).toEqual({ bytes: '8500000001000000', text: 'call 0x1' });
    expect(call.facts).toBe('func=1 arg2off=-4');
    expect(call.words.map((w: { pc: number; address: number; relocation?: string }) => [w.pc, w.address, w.relocation])).toEqual([
      [11, 3083, 'helper 1 (map_lookup_elem) at 512'],
      [12, 3084, undefined],
      [13, 3085, 'address of pc 14'],
    ]);
  });

  test('a malformed image: exit 2, one coded line, no stack trace; --json says the same on stdout', () => {
    const bytes = new Uint8Array(readFileSync(imagePath('xdp_pass')));
    bytes[0x40 + 8 * 3] ^= 0x10; // an instruction bit of pc 3 (.text starts at 0x40): its ECC no longer fits
    const bad = join(tmp, 'bad-ecc.nfp');
    writeFileSync(bad, bytes);
    const r = nicoff(['disasm', bad]);
    expectOneCodedLine(r, 'NC6026');
    expect(r.stderr).toMatch(/bad-ecc\.nfp\+0x58, section \.text: code word at pc 3 \(0x000cc2f0000c0011\) has ECC/);
    expect(r.stdout).toBe('');
    const j = nicoff(['disasm', bad, '--json']);
    expect(j.status).toBe(2);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, error: { code: 'NC6026', category: 'input' } });
    const truncated = join(tmp, 'truncated.nfp');
    writeFileSync(truncated, bytes.subarray(0, 300));
    expectOneCodedLine(nicoff(['disasm', truncated]), 'NC1007');
  });

  test('a malformed listing: exit 2 naming the line, and no image is written', () => {
    const text = goldenListingText('xdp_drop').replace('000ae0db02008038', '000ae0db02008039');
    const src = join(tmp, 'bad-listing.txt');
    writeFileSync(src, text);
    const out = join(tmp, 'bad-listing.nfp');
    const r = nicoff(['asm', src, '-o', out]);
    const line = text.split('\n').findIndex((l) => l.includes('000ae0db02008039')) + 1;
    expectOneCodedLine(r, 'NC6037');
    expect(r.stderr).toContain(`bad-listing.txt:${line}: NFP listing pc 4`);
    expect(existsSync(out)).toBe(false);
  });

  test('a listing needs -o and takes no --type', () => {
    expectOneCodedLine(nicoff(['asm', golden('xdp_pass')]), 'NC8001');
    expectOneCodedLine(nicoff(['asm', golden('xdp_pass'), '-o', join(tmp, 'x.nfp'), '--type', 'tc']), 'NC8001');
  });
});

describe('nicoff asm -o FILE.nfp on a plain instruction list, and disasm of eBPF objects', () => {
  test('a plain list becomes an image (xdp unless --type tc)', () => {
    const src = join(tmp, 'plain.s');
    writeFileSync(src, 'immed[gprA_0, 0x2], gpr_wrboth\nimmed[gprA_1, 0x0], gpr_wrboth\nbr[.1], defer[2]\nalu[gprA_0, --, B, 0x0]\nld_field[gprA_0, 1100, 0x11, <<16]\n');
    const out = join(tmp, 'plain.nfp');
    expect(nicoff(['asm', src, '-o', out, '--type', 'tc']).status).toBe(0);
    const r = nicoff(['disasm', out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/program type tc, 5 words/);
    expect(r.stdout).toMatch(/^\s+2  000060d800608038  br\[\.1\], defer\[2\]\s+; firmware done address 1$/m);
    const json = nicoff(['asm', src, '-o', out, '--json']);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout).image).toMatchObject({ programType: 'xdp', words: 5, relocations: [{ pc: 2, kind: 'done', value: 0 }] });
  });

  test('an EM_BPF object still goes to the eBPF disassembler', () => {
    const r = nicoff(['disasm', 'examples/xdp_pass.o']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Disassembly of xdp_pass/m);
  });
});
