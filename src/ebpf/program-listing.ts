/**
 * A linked program as a listing: one row per instruction with its bytes, its
 * llvm-objdump-19 text, the function that starts there and its source line.
 * `nicoff disasm` prints it; library users get the same rows.
 */
import type { BpfProgram, MapDef, SourceLine } from './bpf-object.js';
import { disassembleInsn } from './disasm.js';
import { helperById } from './helpers.js';
import type { Insn } from './insn.js';
import { isCall, isHelperCall, isPseudoCall, jumpTarget } from './opcodes.js';

export interface ListingRow {
  pc: number;
  bytes: string;
  text: string;
  function?: string;
  source?: SourceLine;
  /** What the raw text does not say: the map an ld_imm64 names, the helper a call reaches. */
  comment?: string;
}

function annotate(insn: Insn, pc: number, prog: BpfProgram, maps: readonly MapDef[], fnStarts: Map<number, string>): string | undefined {
  if (isHelperCall(insn)) {
    const h = helperById(insn.imm);
    return h ? `bpf_${h.name}#${insn.imm}` : `unknown helper #${insn.imm}`;
  }
  if (isPseudoCall(insn)) return fnStarts.get(jumpTarget(pc, insn)!);
  if (isCall(insn)) return undefined;
  if (insn.slots === 2) {
    const ref = prog.mapRefs.find((r) => r.insn === pc);
    if (!ref) return undefined;
    const name = maps[ref.mapIndex]?.name ?? `map #${ref.mapIndex}`;
    return ref.kind === 'fd' ? `map ${name}` : `&${name}[0] + ${ref.offset}`;
  }
  return undefined;
}

/** Function starts are labelled so calls print `<name>`, as llvm-objdump does with symbols. */
export function listProgram(prog: BpfProgram, maps: readonly MapDef[] = [], opts: { alu32?: boolean } = {}): ListingRow[] {
  const starts = new Map(prog.functions.map((f) => [f.start, f.name]));
  const lines: ListingRow[] = [];
  for (let pc = 0; pc < prog.insns.length; pc++) {
    const insn = prog.insns[pc];
    const bytes = Array.from(prog.bytes.subarray(pc * 8, (pc + insn.slots) * 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
    const text = disassembleInsn(insn, pc, { alu32: opts.alu32, label: (t) => starts.get(t) });
    const line: ListingRow = { pc, bytes, text };
    if (starts.has(pc)) line.function = starts.get(pc);
    const comment = annotate(insn, pc, prog, maps, starts);
    if (comment) line.comment = comment;
    const src = prog.lineInfo[pc];
    if (src) line.source = src;
    lines.push(line);
    if (insn.slots === 2) pc++;
  }
  return lines;
}

