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
import {
  ALL_GPRS,
  consumesPreviousWord,
  gprEqual,
  gprIntersects,
  gprMinus,
  gprReads,
  gprUnion,
  gprWrites,
  isBranch,
  isPureGprWord,
  NO_GPRS,
  readsConditionCodes,
  setsConditionCodes,
  type GprSet,
} from './word-effects.js';
import { inDeferSlot, removeWords, wordSuccessors, type WordProgram } from './word-program.js';

/** What the firmware reads at its done address: the action byte in A0 (and A22, its own stack base). */
const LIVE_AT_DONE: GprSet = { a: (1 << 0) | (1 << STACK_BASE_GPR), b: 0 };

/** Live GPRs after each word (backward data flow to a fixed point). */
export function liveAfter(program: WordProgram): GprSet[] {
  const n = program.words.length;
  const succs = program.words.map((_, pc) => wordSuccessors(program, pc));
  const preds: number[][] = Array.from({ length: n }, () => []);
  succs.forEach((s, pc) => {
    for (const t of s) if (typeof t === 'number' && t < n) preds[t]!.push(pc);
  });
  const liveIn: GprSet[] = new Array(n).fill(NO_GPRS);
  const liveOut: GprSet[] = new Array(n).fill(NO_GPRS);
  const work: number[] = [];
  const queued = new Uint8Array(n);
  for (let pc = n - 1; pc >= 0; pc--) {
    work.push(pc);
    queued[pc] = 1;
  }
  while (work.length) {
    const pc = work.pop()!;
    queued[pc] = 0;
    let out = NO_GPRS;
    for (const t of succs[pc]!) {
      if (t === 'done') out = gprUnion(out, LIVE_AT_DONE);
      else if (t === 'outside' || t >= n) out = ALL_GPRS;
      else out = gprUnion(out, liveIn[t]!);
    }
    liveOut[pc] = out;
    const insn = program.words[pc]!.insn;
    const through = isPureGprWord(insn) ? gprMinus(out, gprWrites(insn)) : out;
    const inn = gprUnion(through, gprReads(insn));
    if (!gprEqual(inn, liveIn[pc]!)) {
      liveIn[pc] = inn;
      for (const p of preds[pc]!) {
        if (!queued[p]) {
          queued[p] = 1;
          work.push(p);
        }
      }
    }
  }
  return liveOut;
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

export function removableDeadWords(program: WordProgram): Set<number> {
  const { words } = program;
  const out = liveAfter(program);
  const dead = new Set<number>();
  for (let pc = 0; pc < words.length; pc++) {
    const insn = words[pc]!.insn;
    if (!isPureGprWord(insn)) continue;
    if (gprIntersects(gprWrites(insn), out[pc]!)) continue;
    if (inDeferSlot(words, pc) || nearLocalCsr(words, pc)) continue;
    const next = words[pc + 1]?.insn;
    if (next && consumesPreviousWord(next)) continue;
    if (setsConditionCodes(insn) && conditionCodesUsed(words, pc)) continue;
    dead.add(pc);
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
