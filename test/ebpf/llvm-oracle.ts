/**
 * Test-side access to LLVM 19 as the oracle for the eBPF ISA: running
 * llvm-objdump-19 / llvm-mc-19 and parsing `llvm-objdump -d` listings.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Endian } from '../../src/ebpf/insn.js';

export const OBJDUMP = 'llvm-objdump-19';
export const LLVM_MC = 'llvm-mc-19';

export function toolAvailable(tool: string): boolean {
  const r = spawnSync(tool, ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}

/**
 * `describe` when the tools are present, or when CI=true (so a missing tool
 * fails the suite); `describe.skip` with a printed note otherwise.
 */
export function toolsOrSkip(tools: string[]): { run: boolean; missing: string[] } {
  const missing = tools.filter((t) => !toolAvailable(t));
  if (missing.length && process.env.CI !== 'true') {
    console.log(`skipping LLVM oracle tests: ${missing.join(', ')} not found`);
    return { run: false, missing };
  }
  return { run: true, missing };
}

export interface ObjdumpLine {
  /** Slot index, as printed before the colon. */
  pc: number;
  bytes: Uint8Array;
  /** The instruction text, exactly as printed (may contain a tab, e.g. ld_pseudo). */
  text: string;
}

export interface ObjdumpSection {
  name: string;
  /** Function symbols: name and slot index (from the `0000... <name>:` headers). */
  symbols: { name: string; pc: number }[];
  lines: ObjdumpLine[];
}

/**
 * `llvm-objdump-19 -d -z`: -z (--disassemble-zeroes) because by default runs
 * of zero bytes are printed as `...` and the listing resumes off slot
 * boundaries; it does not change any instruction's text.
 */
export function runObjdump(path: string, alu32: boolean): string {
  const args = ['-d', '-z', ...(alu32 ? ['--mattr=+alu32'] : []), path];
  return execFileSync(OBJDUMP, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
}

const INSN_LINE = /^\s*(\d+):\t((?:[0-9a-f]{2} )*[0-9a-f]{2})\t(.*)$/;
const SYMBOL_LINE = /^([0-9a-f]{16}) <(.+)>:$/;
const SECTION_LINE = /^Disassembly of section (.+):$/;

export function parseObjdump(listing: string): ObjdumpSection[] {
  const sections: ObjdumpSection[] = [];
  let cur: ObjdumpSection | undefined;
  for (const line of listing.split('\n')) {
    let m = SECTION_LINE.exec(line);
    if (m) {
      cur = { name: m[1], symbols: [], lines: [] };
      sections.push(cur);
      continue;
    }
    m = SYMBOL_LINE.exec(line);
    if (m && cur) {
      cur.symbols.push({ name: m[2], pc: Number(BigInt('0x' + m[1]) / 8n) });
      continue;
    }
    m = INSN_LINE.exec(line);
    if (m && cur) {
      const bytes = Uint8Array.from(m[2].split(' ').map((h) => parseInt(h, 16)));
      cur.lines.push({ pc: Number(m[1]), bytes, text: m[3] });
    }
  }
  return sections;
}

/** The ` <sym+0x..>` suffix llvm-objdump adds after branch targets. */
export function stripLabel(text: string): string {
  return text.replace(/ <[^<>]*>$/, '');
}

/** The section's bytes, rebuilt from the listing (every slot is printed). */
export function sectionBytes(sec: ObjdumpSection): Uint8Array {
  const total = sec.lines.reduce((n, l) => n + l.bytes.length, 0);
  const out = new Uint8Array(total);
  let pos = 0;
  for (const l of sec.lines) {
    if (l.pc * 8 !== pos) throw new Error(`listing of ${sec.name} is not contiguous at pc ${l.pc}`);
    out.set(l.bytes, pos);
    pos += l.bytes.length;
  }
  return out;
}

/** ELF EI_DATA: 1 little-endian, 2 big-endian (llvm-objdump prints `elf64-bpf` for both). */
export function elfEndian(path: string): Endian {
  const ident = readFileSync(path).subarray(0, 6);
  return ident[5] === 2 ? 'be' : 'le';
}

/**
 * Assemble raw instruction bytes into a relocatable object with llvm-mc, so
 * llvm-objdump can disassemble thousands of encodings in one process.
 */
export function assembleRawBytes(bytes: Uint8Array, endian: Endian, outPath: string): void {
  const lines = ['\t.text'];
  for (let i = 0; i < bytes.length; i += 8) lines.push('\t.byte ' + Array.from(bytes.subarray(i, i + 8)).join(','));
  execFileSync(LLVM_MC, ['-triple', endian === 'le' ? 'bpfel' : 'bpfeb', '-filetype=obj', '-o', outPath], {
    input: lines.join('\n') + '\n',
    maxBuffer: 1 << 28,
  });
}
