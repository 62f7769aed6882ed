/**
 * Pass `thread-jumps`: a branch that lands on an unconditional `br` with no
 * defer slots goes straight to where that `br` goes (a jump to an eBPF exit
 * reaches the outro or the done address in one taken branch instead of two),
 * and an unconditional `br` with no defer slots to the very next word is
 * deleted (the exit that the outro follows).
 */
import type { CodeTarget, EmittedWord } from '../nfp-code.js';
import { isBranch } from './word-effects.js';
import { branchDestination, inDeferSlot, removeWords, type WordProgram } from './word-program.js';

function plainJump(word: EmittedWord | undefined): CodeTarget | undefined {
  if (!word || !word.target) return undefined;
  const insn = word.insn;
  if (insn.format !== 'br' || insn.condition !== 'br' || insn.defer !== 0) return undefined;
  return word.target.kind === 'helper' ? undefined : word.target;
}

export function threadJumps(program: WordProgram): number {
  let changed = 0;
  for (const word of program.words) {
    if (!isBranch(word.insn) || !word.target || word.target.kind === 'helper') continue;
    // Follow chains of plain jumps (bounded: a cycle of plain jumps would be a program that never ends).
    for (let hops = 0; hops < 8; hops++) {
      const d = branchDestination(program, word);
      if (typeof d !== 'number') break;
      const next = plainJump(program.words[d]);
      if (!next || program.words[d] === word) break;
      word.target = next;
      changed++;
    }
  }
  const remove = new Set<number>();
  program.words.forEach((word, pc) => {
    if (!plainJump(word) || inDeferSlot(program.words, pc)) return;
    if (branchDestination(program, word) === pc + 1) remove.add(pc);
  });
  removeWords(program, remove);
  return changed + remove.size;
}
