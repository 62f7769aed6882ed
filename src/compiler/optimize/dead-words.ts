/**
 * Pass `dead-words`: delete words whose only effect is a GPR no later word
 * reads. This is where the kernel's habit of computing both halves of every
 * 64-bit register goes: high words never read, zero extensions of values
 * only used as 32 bits, the packet length when nothing checks it.
 *
 * Liveness is per bank (A n and B n separately) over the words' control flow.
 * Control that leaves the program is assumed to read every GPR (helpers and
 * BPF-to-BPF returns), except the firmware's done address, which reads A0
 * only (nfp-microcode.md A.6). A word is kept, dead or not, when deleting it
 * would change what another word sees: it sits in a defer slot or in the
 * three words after a local_csr access, the next word takes its result
 * through a side channel, or a later word of the same group reads its
 * condition codes.
 */
import type { EmittedWord } from '../nfp-code.js';
import { STACK_BASE_GPR } from '../nfp-registers.js';
import { consumesPreviousWord, gprIntersects, gprReads, gprWrites, isBranch, isPureGprWord, readsConditionCodes, setsConditionCodes, type GprSet } from './word-effects.js';
import { inDeferSlot, removeWords, wordSuccessors, type WordProgram } from './word-program.js';

/** What the firmware reads at its done address: the action byte in A0 (and A22, its own stack base). */
const LIVE_AT_DONE: GprSet = { a: (1 << 0) | (1 << STACK_BASE_GPR), b: 0 };

/**
 * Live GPRs after each word (backward data flow to a fixed point, sets as
 * bank-A/bank-B bit masks). Strong liveness: a word the pass could remove
 * reads its operands only if what it writes is live, so a whole chain of
 * dead work (the high words of a long computation) is found in one round.
 */
export function liveAfter(program: WordProgram, removable: (pc: number) => boolean = () => false): GprSet[] {
  const n = program.words.length;
  const succs = program.words.map((_, pc) => wordSuccessors(program, pc));
  const preds: number[][] = Array.from({ length: n }, () => []);
  succs.forEach((s, pc) => {
    for (const t of s) if (typeof t === 'number' && t < n) preds[t]!.push(pc);
  });
  // Per word: what it reads, and what it kills (only words the pass may remove define anything here).
  const readA = new Int32Array(n);
  const readB = new Int32Array(n);
  const keepA = new Int32Array(n).fill(-1);
  const keepB = new Int32Array(n).fill(-1);
  const writeA = new Int32Array(n);
  const writeB = new Int32Array(n);
  const faint = new Uint8Array(n);
  program.words.forEach((w, pc) => {
    const r = gprReads(w.insn);
    readA[pc] = r.a;
    readB[pc] = r.b;
    if (isPureGprWord(w.insn)) {
      const k = gprWrites(w.insn);
      keepA[pc] = ~k.a;
      keepB[pc] = ~k.b;
      writeA[pc] = k.a;
      writeB[pc] = k.b;
      if (removable(pc)) faint[pc] = 1;
    }
  });
  const inA = new Int32Array(n);
  const inB = new Int32Array(n);
  const outA = new Int32Array(n);
  const outB = new Int32Array(n);
  const queued = new Uint8Array(n).fill(1);
  // A stack popped from the end: start with the last word, the natural order for a backward problem.
  const work: number[] = [];
  for (let pc = 0; pc < n; pc++) work.push(pc);
  while (work.length) {
    const pc = work.pop()!;
    queued[pc] = 0;
    let a = 0;
    let b = 0;
    for (const t of succs[pc]!) {
      if (t === 'done') {
        a |= LIVE_AT_DONE.a;
        b |= LIVE_AT_DONE.b;
      } else if (t === 'outside' || t >= n) {
        a = -1;
        b = -1;
      } else {
        a |= inA[t]!;
        b |= inB[t]!;
      }
    }
    outA[pc] = a;
    outB[pc] = b;
    // A removable word whose result is dead reads nothing that matters.
    const reads = !faint[pc] || (a & writeA[pc]!) !== 0 || (b & writeB[pc]!) !== 0;
    const ia = (a & keepA[pc]!) | (reads ? readA[pc]! : 0);
    const ib = (b & keepB[pc]!) | (reads ? readB[pc]! : 0);
    if (ia !== inA[pc] || ib !== inB[pc]) {
      inA[pc] = ia;
      inB[pc] = ib;
      for (const p of preds[pc]!) {
        if (!queued[p]) {
          queued[p] = 1;
          work.push(p);
        }
      }
    }
  }
  return Array.from({ length: n }, (_, pc) => ({ a: outA[pc]!, b: outB[pc]! }));
}

/** A later word of the same eBPF instruction's group reads the condition codes this word sets. */
function conditionCodesUsed(words: readonly EmittedWord[], pc: number): boolean {
  const group = words[pc]!.ebpfInsn;
  for (let q = pc + 1; q < words.length && words[q]!.ebpfInsn === group; q++) {
    const insn = words[q]!.insn;
    if (readsConditionCodes(insn)) return true;
    if (setsConditionCodes(insn)) return false;
    if (isBranch(insn)) return false;
  }
  return false;
}

function nearLocalCsr(words: readonly EmittedWord[], pc: number): boolean {
  for (let back = 1; back <= 3 && pc - back >= 0; back++) if (words[pc - back]!.insn.format === 'local_csr') return true;
  return false;
}

/** The word may go if its result is dead: nothing else it does is observed (see the module header). */
function removableIfDead(words: readonly EmittedWord[], pc: number): boolean {
  const insn = words[pc]!.insn;
  if (!isPureGprWord(insn)) return false;
  if (inDeferSlot(words, pc) || nearLocalCsr(words, pc)) return false;
  const next = words[pc + 1]?.insn;
  if (next && consumesPreviousWord(next)) return false;
  return !(setsConditionCodes(insn) && conditionCodesUsed(words, pc));
}

export function removableDeadWords(program: WordProgram): Set<number> {
  const { words } = program;
  const candidate = words.map((_, pc) => removableIfDead(words, pc));
  const out = liveAfter(program, (pc) => candidate[pc]!);
  const dead = new Set<number>();
  for (let pc = 0; pc < words.length; pc++) {
    if (candidate[pc] && !gprIntersects(gprWrites(words[pc]!.insn), out[pc]!)) dead.add(pc);
  }
  return dead;
}

/** Remove dead words until none is left (removing one can make the word feeding it dead). */
export function removeDeadWords(program: WordProgram): number {
  let removed = 0;
  for (;;) {
    // Removing neighbours together is safe: each was checked against the word after it, which is
    // either removed too or the first survivor, and no survivor takes anything from a removed word.
    const dead = removableDeadWords(program);
    if (dead.size === 0) return removed;
    removeWords(program, dead);
    removed += dead.size;
  }
}
