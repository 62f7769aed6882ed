/**
 * The lowered program as the word passes see it: the emitted words with
 * symbolic targets, the layout that places eBPF instructions and outro
 * labels, and the control flow between words (defer slots included).
 * Removing words keeps every reference right: a position that pointed at a
 * removed word points at the next surviving one, which is what executing the
 * removed word (that had no effect) would have reached.
 */
import type { CodeLabel, CodeLayout, EmittedWord } from '../nfp-code.js';
import { isBranch, isConditional } from './word-effects.js';

export interface WordProgram {
  words: EmittedWord[];
  layout: CodeLayout;
}

/** Where control goes after a word: other words, the firmware's done address, or somewhere the passes cannot see (helpers, calls, returns). */
export type WordSuccessor = number | 'done' | 'outside';

function labelsOf(words: readonly EmittedWord[]): Set<CodeLabel> {
  const labels = new Set<CodeLabel>();
  for (const w of words) if (w.target?.kind === 'label') labels.add(w.target.label);
  return labels;
}

/** The word a branch's target names, or where control goes when it leaves the program. */
export function branchDestination(program: WordProgram, word: EmittedWord): WordSuccessor {
  const t = word.target;
  if (!t) return 'outside';
  switch (t.kind) {
    case 'ebpf':
      return program.layout.ebpfStart[t.insn]!;
    case 'label':
      return t.label.pc ?? 'outside';
    case 'exit':
      return program.layout.exit ?? 'outside';
    case 'abort':
      return program.layout.abort ?? 'outside';
    case 'next-packet':
      return 'done';
    default:
      return 'outside';
  }
}

/**
 * Successors of word `pc`. A branch with defer d transfers after its d slot
 * words, so the branch itself falls into its first slot and the last slot
 * carries the branch's ways.
 */
export function wordSuccessors(program: WordProgram, pc: number): WordSuccessor[] {
  const { words } = program;
  for (let back = 1; back <= 3 && pc - back >= 0; back++) {
    const w = words[pc - back]!;
    if (isBranch(w.insn) && w.insn.defer === back) return branchWays(program, pc - back);
  }
  const insn = words[pc]!.insn;
  if (isBranch(insn)) {
    if (insn.defer > 0) return [pc + 1];
    return branchWays(program, pc);
  }
  return [pc + 1];
}

function branchWays(program: WordProgram, branchPc: number): WordSuccessor[] {
  const word = program.words[branchPc]!;
  const insn = word.insn as Extract<EmittedWord['insn'], { defer: number }>;
  const after = branchPc + 1 + insn.defer;
  if (insn.format === 'rtn' || insn.format === 'jump' || insn.format === 'ctx_arb') return ['outside'];
  if (word.target?.kind === 'helper') return ['outside', after];
  const to = branchDestination(program, word);
  return isConditional(insn) ? [to, after] : [to];
}

/** Is `pc` inside the defer slots of an earlier branch? */
export function inDeferSlot(words: readonly EmittedWord[], pc: number): boolean {
  for (let back = 1; back <= 3 && pc - back >= 0; back++) {
    const w = words[pc - back]!;
    if (isBranch(w.insn) && w.insn.defer >= back) return true;
  }
  return false;
}

/** Every word some reference lands on (eBPF starts only where a branch names them, labels, outro labels). */
export function referencedPcs(program: WordProgram): Set<number> {
  const out = new Set<number>([0]);
  for (const w of program.words) {
    const d = branchDestination(program, w);
    if (typeof d === 'number') out.add(d);
  }
  return out;
}

/** Drop the words at `remove` and move every reference. */
export function removeWords(program: WordProgram, remove: ReadonlySet<number>): void {
  if (remove.size === 0) return;
  const n = program.words.length;
  // newPc[p]: where old position p lands (the next surviving word at or after p).
  const newPc = new Int32Array(n + 1);
  let kept = 0;
  for (let p = 0; p < n; p++) {
    newPc[p] = kept;
    if (!remove.has(p)) kept++;
  }
  newPc[n] = kept;
  const map = (p: number): number => newPc[Math.min(p, n)]!;
  for (const label of labelsOf(program.words)) if (label.pc !== undefined) label.pc = map(label.pc);
  const l = program.layout;
  l.ebpfStart = l.ebpfStart.map(map);
  if (l.exit !== undefined) l.exit = map(l.exit);
  if (l.abort !== undefined) l.abort = map(l.abort);
  if (l.pushTrampoline !== undefined) l.pushTrampoline = map(l.pushTrampoline);
  if (l.popTrampoline !== undefined) l.popTrampoline = map(l.popTrampoline);
  program.words = program.words.filter((_, p) => !remove.has(p));
}
