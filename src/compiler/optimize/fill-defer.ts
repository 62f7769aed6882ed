/**
 * Pass `fill-defer`: move the word before a branch into the branch's first
 * defer slot, so a taken branch wastes one cycle less. The kernel uses defer
 * slots only in its fixed sequences (nfp-microcode.md A.3); ordinary eBPF
 * jumps go out with defer 0.
 *
 *   X; br T            ->  br T, defer[1]; X
 *   X; C; bcc T        ->  C; bcc T, defer[1]; X     (C sets the codes bcc reads)
 *
 * X runs on both ways either way. It moves only when it is a plain GPR word
 * that neither feeds C nor is fed by it, takes nothing from the word before
 * it, and no branch lands on C or the branch (landing on X's old position
 * now lands on the moved group's first word, which runs the same words).
 * X's condition codes then outlive the branch; no lowering reads codes it did
 * not set itself in the same group, so that is unobservable.
 */
import type { EmittedWord } from '../nfp-code.js';
import { consumesPreviousWord, gprIntersects, gprReads, gprWrites, isPureGprWord, readsConditionCodes, setsConditionCodes } from './word-effects.js';
import { inDeferSlot, referencedPcs, type WordProgram } from './word-program.js';

function movable(words: readonly EmittedWord[], pc: number): boolean {
  const x = words[pc]?.insn;
  if (!x || !isPureGprWord(x) || consumesPreviousWord(x) || inDeferSlot(words, pc)) return false;
  for (let back = 1; back <= 3 && pc - back >= 0; back++) if (words[pc - back]!.insn.format === 'local_csr') return false;
  return true;
}

export function fillDeferSlots(program: WordProgram): number {
  const words = program.words;
  let filled = 0;
  // Swaps keep every referenced position in place, so this is computed once.
  const referenced = referencedPcs(program);
  for (let pc = 1; pc < words.length; pc++) {
    const b = words[pc]!;
    const insn = b.insn;
    if (insn.format !== 'br' || insn.defer !== 0 || !b.target || b.target.kind === 'helper') continue;
    if (inDeferSlot(words, pc) || referenced.has(pc)) continue;
    const conditional = insn.condition !== 'br';
    if (!conditional) {
      if (!movable(words, pc - 1)) continue;
      const x = words[pc - 1]!;
      words[pc - 1] = { ...b, insn: { ...insn, defer: 1 } };
      words[pc] = x;
    } else {
      const c = words[pc - 1]!;
      if (pc < 2 || referenced.has(pc - 1) || !setsConditionCodes(c.insn) || consumesPreviousWord(c.insn) || readsConditionCodes(c.insn)) continue;
      if (!movable(words, pc - 2)) continue;
      const x = words[pc - 2]!;
      if (gprIntersects(gprWrites(x.insn), gprReads(c.insn)) || gprIntersects(gprWrites(c.insn), gprReads(x.insn)) || gprIntersects(gprWrites(c.insn), gprWrites(x.insn))) continue;
      words[pc - 2] = c;
      words[pc - 1] = { ...b, insn: { ...insn, defer: 1 } };
      words[pc] = x;
    }
    filled++;
  }
  return filled;
}
