/**
 * The lowering catalogue, ../shared/nfp-golden/lowering-catalogue.md (read in
 * place): the kernel JIT's loaded NFP words for single eBPF instructions, one
 * `#### TITLE` case each:
 *
 *   - program type: xdp|tc, stack depth: N, eBPF bytes: `HEX16 HEX16 ...`
 *   - verifier facts assumed: `INSN key=value flag ...; INSN ...`   (optional)
 *   ```
 *      PC  LOADED_WORD  DISASSEMBLY
 *   ```
 *
 * The one reader of the file for the tests (both catalogue suites and the
 * codec's golden-word checks).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GOLDEN_DIR } from './golden-word-table.js';

export const CATALOGUE_PATH = join(GOLDEN_DIR, 'lowering-catalogue.md');

export interface CatalogueWord {
  /** Program-relative pc (the code-store address is 3072 + pc). */
  pc: number;
  /** The loaded word (relocated for start 3072, ECC present). */
  word: bigint;
  text: string;
  /** 1-based line in the catalogue. */
  line: number;
}

export interface CatalogueCase {
  /** Position in the catalogue, from 0. */
  index: number;
  title: string;
  programType: string;
  /** As written (`0`, or `0,16` for several functions). */
  stackDepth: string;
  /** eBPF slots, 16 hex digits each. */
  ebpf: string[];
  /** Facts per eBPF instruction index: key -> value (flags map to ''). */
  facts: Map<number, Map<string, string>>;
  words: CatalogueWord[];
}

export function catalogueAvailable(): boolean {
  return existsSync(CATALOGUE_PATH);
}

export function parseCatalogue(text: string = readFileSync(CATALOGUE_PATH, 'utf8')): CatalogueCase[] {
  const cases: CatalogueCase[] = [];
  let cur: CatalogueCase | undefined;
  let inCode = false;
  text.split('\n').forEach((line, i) => {
    const title = /^#### (.*)$/.exec(line);
    if (title) {
      cur = { index: cases.length, title: title[1]!.trim(), programType: '', stackDepth: '', ebpf: [], facts: new Map(), words: [] };
      cases.push(cur);
      inCode = false;
      return;
    }
    if (!cur) return;
    const meta = /^- program type: (\w+), stack depth: ([\d,]+), eBPF bytes: `([0-9a-f ]+)`/.exec(line);
    if (meta) {
      cur.programType = meta[1]!;
      cur.stackDepth = meta[2]!;
      cur.ebpf = meta[3]!.trim().split(/\s+/);
      return;
    }
    const facts = /^- verifier facts assumed: `(.*)`/.exec(line);
    if (facts) {
      for (const part of facts[1]!.split(';')) {
        const tokens = part.trim().split(/\s+/);
        const at = Number(tokens.shift());
        const m = cur.facts.get(at) ?? new Map<string, string>();
        for (const t of tokens) {
          const [k, v] = t.split('=');
          m.set(k!, v ?? '');
        }
        cur.facts.set(at, m);
      }
      return;
    }
    if (line.startsWith('```')) {
      inCode = !inCode;
      return;
    }
    const w = inCode ? /^\s*(\d+)\s+([0-9a-f]{16})\s+(.*?)\s*$/.exec(line) : null;
    if (w) cur.words.push({ pc: Number(w[1]), word: BigInt(`0x${w[2]}`), text: w[3]!, line: i + 1 });
  });
  return cases;
}
