/**
 * The kernel-JIT golden programs of ../shared/nfp-golden as plain tables,
 * read in place (never copied): the header's load slot and outro labels, the
 * eBPF slots, and the word rows `PC  RAW  LOADED  DISASSEMBLY  [; bpf#N]`
 * (../shared/nfp-golden/README.md "Columns in *.txt").
 *
 * A few regular expressions and no checks, on purpose: the tests that hold
 * nicoff's own listing reader (src/nfp-backend/image/golden-listing.ts), the
 * image it builds, the codec or the CLI to the golden values read those values
 * here, independently of the code under test.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NfpListingRow } from '../../src/nfp-backend/image/golden-listing.js';

export const GOLDEN_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'nfp-golden');

export const GOLDEN_PROGRAM_NAMES = ['xdp_drop', 'xdp_pass', 'tc_shot', 'xdp_udp53', 'xdp_alu', 'xdp_count'] as const;
export type GoldenProgramName = (typeof GOLDEN_PROGRAM_NAMES)[number];

export function goldenProgramsAvailable(): boolean {
  return existsSync(GOLDEN_DIR);
}

/**
 * For suites reading ../shared: true when the golden directory is there; else
 * prints a skip notice, except under CI=true where it throws.
 */
export function goldenOrSkip(suite: string): boolean {
  if (goldenProgramsAvailable()) return true;
  if (process.env['CI'] === 'true') throw new Error(`CI=true but the golden vectors are missing at ${GOLDEN_DIR}`);
  console.log(`${suite} skipped: ${GOLDEN_DIR} not found`);
  return false;
}

/** A word row; the same shape as the listing reader's rows (line, pc, raw, loaded, text, origin of a `; bpf#N` marker). */
export type GoldenRow = NfpListingRow;

export interface GoldenTable {
  /** `# program type: T; verifier stack depth: D; load slot start_off=S, done target=P` */
  programType: string;
  stackDepth: number;
  startPc: number;
  donePc: number;
  /** `# len=N tgt_out=X tgt_abort=Y` */
  len: number;
  tgtOut: number;
  tgtAbort: number;
  /** `#   bpf#N  HEX16` header lines: the eBPF slots as the JIT was fed them (unrelocated map loads). */
  ebpfHex: string[];
  rows: GoldenRow[];
}

export function goldenListingText(name: string): string {
  return readFileSync(join(GOLDEN_DIR, `${name}.txt`), 'utf8');
}

const TYPE_LINE = /^# program type: (\w+); verifier stack depth: (\d+); load slot start_off=(\d+), done target=(\d+)/m;
const LEN_LINE = /^# len=(\d+) tgt_out=(\d+) tgt_abort=(\d+)/m;
const EBPF_LINE = /^#\s+bpf#\d+\s+([0-9a-f]{16})/gm;
const WORD_ROW = /^\s*(\d+)\s+([0-9a-f]{16})\s+([0-9a-f]{16})\s+(.*?)\s*(?:;\s*bpf#(\d+))?\s*$/;

export function readGoldenTable(name: string): GoldenTable {
  const text = goldenListingText(name);
  const type = TYPE_LINE.exec(text);
  const len = LEN_LINE.exec(text);
  if (!type || !len) throw new Error(`${name}.txt: no \`# program type:\` or \`# len=\` header line`);
  const rows: GoldenRow[] = [];
  text.split('\n').forEach((l, i) => {
    const m = WORD_ROW.exec(l);
    if (m) {
      const row: GoldenRow = { line: i + 1, pc: Number(m[1]), raw: BigInt(`0x${m[2]}`), loaded: BigInt(`0x${m[3]}`), text: m[4]! };
      if (m[5] !== undefined) row.origin = Number(m[5]);
      rows.push(row);
    }
  });
  return {
    programType: type[1]!,
    stackDepth: Number(type[2]),
    startPc: Number(type[3]),
    donePc: Number(type[4]),
    len: Number(len[1]),
    tgtOut: Number(len[2]),
    tgtAbort: Number(len[3]),
    ebpfHex: [...text.matchAll(EBPF_LINE)].map((m) => m[1]!),
    rows,
  };
}
