/**
 * The optimizing mode's passes, one row each: its name (what `--no-pass`
 * takes), where it acts, and what it does. Lowering-stage passes change how
 * an eBPF instruction or the outro is lowered (lower-program.ts and the
 * lowerings read `ctx.passes`); word-stage passes rewrite the emitted words,
 * in the order listed, before relocation.
 */
import { removeDeadWords } from './dead-words.js';
import { fillDeferSlots } from './fill-defer.js';
import { threadJumps } from './thread-jumps.js';
import type { WordProgram } from './word-program.js';

export type PassName = 'sort-copies' | 'batch-stores' | 'verdict-stubs' | 'outro-range' | 'known-branches' | 'narrow-compares' | 'packet-pointers-32' | 'array-addresses' | 'dead-words' | 'thread-jumps' | 'fill-defer';

export interface PassRow {
  name: PassName;
  stage: 'lowering' | 'words';
  summary: string;
  /** Word stage only: rewrite in place, return how many changes were made. */
  run?: (program: WordProgram) => number;
}

export const PASSES: readonly PassRow[] = [
  {
    name: 'sort-copies',
    stage: 'lowering',
    summary: "a run of packet byte-copy pairs in scrambled order is sorted by source offset, so gathering makes it one read and one write",
  },
  {
    name: 'batch-stores',
    stage: 'lowering',
    summary: 'packet stores through one pointer covering up to 8 contiguous bytes, with no packet read, call or branch between them, become one write',
  },
  {
    name: 'verdict-stubs',
    stage: 'lowering',
    summary: 'an exit whose R0 the verifier proves constant writes its action byte and branches to the done address itself; the outro goes when no exit needs it',
  },
  {
    name: 'outro-range',
    stage: 'lowering',
    summary: "the outro's range check and abort block go when R0 is proven inside the verdict table at every exit that uses the outro",
  },
  {
    name: 'known-branches',
    stage: 'lowering',
    summary: 'a conditional jump the verifier saw go one way on every path becomes a plain jump or nothing',
  },
  {
    name: 'narrow-compares',
    stage: 'lowering',
    summary: 'a 64-bit compare of values the verifier proves fit in 32 bits compares the low words only (then the high words are dead)',
  },
  {
    name: 'packet-pointers-32',
    stage: 'lowering',
    summary: 'packet pointers are 32-bit CTM addresses that never carry (spec A.5): adding to them and comparing them use the low words only',
  },
  {
    name: 'array-addresses',
    stage: 'lowering',
    summary:
      'a lookup in an array map becomes slot address = base + key * slot size behind one bounds check, instead of a firmware call; only for firmware that keeps array values flat (the software NFP), and the image then says so',
  },
  { name: 'dead-words', stage: 'words', summary: 'words whose GPR result no later word reads (unused high halves, zero extensions, the packet length when unused)', run: removeDeadWords },
  { name: 'thread-jumps', stage: 'words', summary: 'a branch to a plain br goes to its destination; a br to the next word goes', run: threadJumps },
  { name: 'fill-defer', stage: 'words', summary: "the word before a branch moves into the branch's defer slot", run: fillDeferSlots },
];

export const PASS_NAMES: readonly PassName[] = PASSES.map((p) => p.name);

export function isPassName(name: string): name is PassName {
  return (PASS_NAMES as readonly string[]).includes(name);
}

/** The passes on, given the ones switched off. */
export function enabledPasses(disabled: readonly PassName[] = []): Set<PassName> {
  return new Set(PASS_NAMES.filter((n) => !disabled.includes(n)));
}

/** Run the word-stage passes that are on; dead words are looked for again after threading frees some. */
export function runWordPasses(program: WordProgram, passes: ReadonlySet<PassName>): void {
  for (const row of PASSES) {
    if (!row.run || !passes.has(row.name)) continue;
    row.run(program);
    if (row.name === 'thread-jumps' && passes.has('dead-words')) removeDeadWords(program);
  }
}
