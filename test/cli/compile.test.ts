/**
 * `nicoff compile` as users run it: the image it writes for an example object
 * holds the words the Linux nfp JIT produced for the same eBPF
 * (../shared/nfp-golden, read in place), and a program the compiler cannot
 * take is one coded line, exit 1, and no image.
 *
 * Every golden program with an example object is listed: those the compiler
 * lowers must match word for word; the others must be refused with NC5100
 * until their instructions are lowered (kernel-compat-golden.test.ts tracks
 * the lowering itself).
 */
import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadObject } from '../../src/ebpf/load-object.js';
import { readNfpImage } from '../../src/nfp-backend/image/read-image.js';
import { goldenOrSkip, readGoldenTable } from '../support/golden-word-table.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'nicoff-cli-compile-'));

function nicoff(args: string[]) {
  const env = { ...process.env };
  delete env.NO_COLOR;
  delete env.NICOFF_DEBUG;
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args], { cwd: root, encoding: 'utf8', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Example objects that hold a golden program's eBPF, and whether the compiler lowers them yet. */
const GOLDEN_EXAMPLES: readonly { name: string; lowered: boolean }[] = [
  { name: 'xdp_drop', lowered: true },
  { name: 'xdp_pass', lowered: true },
  { name: 'xdp_udp53', lowered: false },
  { name: 'xdp_alu', lowered: false },
  { name: 'xdp_count', lowered: false },
];

const d = goldenOrSkip('nicoff compile golden suite') ? describe : describe.skip;

d('nicoff compile on the examples that are golden programs', () => {
  test.each(GOLDEN_EXAMPLES.filter((e) => e.lowered).map((e) => e.name))('%s: the image holds the kernel JIT words', (name) => {
    const object = join(root, 'examples', `${name}.o`);
    const golden = readGoldenTable(name);
    // The example must be the golden program's eBPF, or the comparison means nothing.
    const prog = loadObject(readFileSync(object), { path: object }).programs[0]!;
    expect(Buffer.from(prog.bytes).toString('hex')).toBe(golden.ebpfHex.join(''));
    const output = join(tmp, `${name}.nfp`);
    const r = nicoff(['compile', object, '-o', output, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout) as { programs: { nfpInstructions: number; ebpfInstructions: number }[] };
    expect(summary.programs[0]!.nfpInstructions).toBe(golden.len);
    const image = readNfpImage(readFileSync(output), output);
    expect(image.words.map((w) => w.toString(16).padStart(16, '0'))).toEqual(golden.rows.map((row) => row.loaded.toString(16).padStart(16, '0')));
    expect(image.abi.startPc).toBe(golden.startPc);
  });

  test.each(GOLDEN_EXAMPLES.filter((e) => !e.lowered).map((e) => e.name))('%s: not lowered yet: one NC5100 line naming the instruction and source line, exit 1, no image', (name) => {
    const object = join(root, 'examples', `${name}.o`);
    const output = join(tmp, `${name}.nfp`);
    const r = nicoff(['compile', object, '-o', output]);
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error NC5100 .*insn \d+, .*\.c:\d+: instruction \d+: nicoff does not lower this/);
    expect(existsSync(output)).toBe(false);
  });
});

describe('nicoff compile refusals', () => {
  test('a program the NFP cannot take is refused with the verifier\'s NC5xxx code, and no image is written', () => {
    // xdp_l4_lb uses helpers the NFP firmware lacks.
    const object = join(root, 'examples', 'xdp_l4_lb.o');
    const output = join(tmp, 'l4lb.nfp');
    const r = nicoff(['compile', object, '-o', output]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')[0]).toMatch(/^error NC5\d{3} /);
    expect(existsSync(output)).toBe(false);
  });

  test('a file that is not an object is one coded line and exit 2', () => {
    const r = nicoff(['compile', join(root, 'README.md')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error NC1\d{3} /);
  });
});
