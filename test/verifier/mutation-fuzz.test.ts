/**
 * Seeded mutation fuzzing of the verifier against the live kernel: every
 * corpus case and example program the kernel accepts is mutated (operands,
 * offsets, immediates, opcodes, jump targets, deleted or duplicated
 * instructions, sizes) into at least 500 mutants, and each mutant is judged
 * by nicoff and by the kernel. Any mutant nicoff accepts and the kernel
 * refuses fails the suite, printed with its parent and seed so
 * `mutateProgram(parent, seed)` replays it. Imprecise refusals are counted.
 *
 * Parents whose kernel verification processes more than 20,000 instructions
 * (the bounded-loop cases) are left out: their mutants take seconds each on
 * both sides, and the loop logic they exercise is covered by the corpus. So
 * are program types nicoff does not verify (kprobe, cgroup_skb): their
 * mutants could never be compared.
 */
import { describe, test, expect } from '@jest/globals';
import { join } from 'node:path';
import { disassembleInsn } from '../../src/ebpf/disasm.js';
import { assembleProgram } from '../../src/ebpf/assemble.js';
import { kernelOracleOrSkip } from '../../src/ebpf/kernel/kernel-runner.js';
import { isLdImm64 } from '../../src/ebpf/opcodes.js';
import {
  collectCases,
  describeMutant,
  formatDifferentialTable,
  runMutationCampaign,
  selectMutationParents,
  type DifferentialCase,
  type MutantOutcome,
} from '../../src/verifier/differential.js';
import { mutateProgram, MUTATION_KINDS, type MutationKind } from '../../src/verifier/mutate.js';
import type { VerifyInput } from '../../src/verifier/verify-types.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MUTANTS = 600;
const FIRST_SEED = 1;
const PARENT_MAX_PROCESSED_INSNS = 20_000;

function program(text: string, maps: VerifyInput['maps'] = []): VerifyInput {
  return { name: 'hand', type: 'xdp', insns: assembleProgram(text), maps, license: 'GPL', lineInfo: [] };
}

/** First seed (from 1) whose mutant satisfies `want`. */
function findSeed(parent: VerifyInput, want: (m: ReturnType<typeof mutateProgram>) => boolean): ReturnType<typeof mutateProgram> {
  for (let seed = 1; seed < 200_000; seed++) {
    const m = mutateProgram(parent, seed);
    if (want(m)) return m;
  }
  throw new Error('no seed found');
}

/** Every ld_imm64 has its filler slot after it, and no filler stands alone. */
function pairsWellFormed(insns: VerifyInput['insns']): boolean {
  for (let i = 0; i < insns.length; i++) {
    if (isLdImm64(insns[i])) {
      const filler = insns[i + 1];
      if (insns[i].slots !== 2 || !filler || filler.code !== 0 || filler.dst !== 0 || filler.src !== 0 || filler.off !== 0) return false;
      i++;
    } else if (insns[i].slots !== 1) return false;
  }
  return true;
}

describe('the mutator', () => {
  // 0: r0 = 0; 1: if r1 == 0 goto 3; 2: r0 = 1; 3: r0 += 1; 4: r1 = map ll (2 slots); 6: a stack load; 7: exit
  const hand = program(
    'r0 = 0x0\nif r1 == 0x0 goto +0x1\nr0 = 0x1\nr0 += 0x1\nr1 = 0x0 ll\nr2 = *(u32 *)(r10 - 0x4)\nexit\n',
    [{ name: 'm', type: 2, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0 }],
  );
  hand.insns[4] = { ...hand.insns[4], src: 1 };

  test('a seed replays its mutant exactly, and different seeds differ', () => {
    const a = mutateProgram(hand, 42);
    expect(mutateProgram(hand, 42)).toEqual(a);
    const distinct = new Set(Array.from({ length: 50 }, (_, k) => JSON.stringify(mutateProgram(hand, 100 + k).input.insns)));
    expect(distinct.size).toBeGreaterThan(30);
    expect(a.input.insns).not.toEqual(hand.insns);
  });

  test('every kind of mutation occurs; ld_imm64 pairs stay well-formed in at least 95% of mutants', () => {
    const kinds = new Map<MutationKind, number>();
    let wellFormed = 0;
    const n = 3000;
    for (let seed = 1; seed <= n; seed++) {
      const m = mutateProgram(hand, seed);
      kinds.set(m.mutation.kind, (kinds.get(m.mutation.kind) ?? 0) + 1);
      if (pairsWellFormed(m.input.insns)) wellFormed++;
      // A map reference keeps a map index the request has.
      for (const i of m.input.insns) if (isLdImm64(i) && i.src === 1) expect(i.imm).toBe(0);
    }
    expect([...kinds.keys()].sort()).toEqual([...MUTATION_KINDS].sort());
    expect(wellFormed / n).toBeGreaterThanOrEqual(0.95);
  });

  test('deleting a jump target with jumps fixed re-aims the jump at the next instruction', () => {
    const m = findSeed(hand, (x) => x.mutation.kind === 'delete' && x.mutation.insn === 3 && /fixed/.test(x.mutation.description));
    // Old target 3 (r0 += 1) is gone; the next instruction, the ld_imm64, is now at 3.
    expect(m.input.insns[1].off).toBe(1);
    expect(isLdImm64(m.input.insns[3])).toBe(true);
    expect(m.input.insns).toHaveLength(hand.insns.length - 1);
  });

  test('deleting an ld_imm64 removes both slots; duplicating one before a jump target keeps the jump on its instruction', () => {
    const del = findSeed(hand, (x) => x.mutation.kind === 'delete' && x.mutation.insn === 4);
    expect(del.input.insns).toHaveLength(hand.insns.length - 2);
    expect(pairsWellFormed(del.input.insns)).toBe(true);
    const dup = findSeed(hand, (x) => x.mutation.kind === 'duplicate' && x.mutation.insn === 2 && /fixed/.test(x.mutation.description));
    // r0 = 1 now at 2 and 3; the jump at 1 still reaches r0 += 1, now at 4.
    expect(dup.input.insns[1].off).toBe(2);
    expect(disassembleInsn(dup.input.insns[4], 4)).toBe('r0 += 0x1');
  });
});

const kernel = kernelOracleOrSkip();

(kernel.ok ? describe : describe.skip)('mutants against the live kernel', () => {
  test(`${MUTANTS} mutants of the kernel-accepted corpus cases and examples: zero unsound`, async () => {
    const all: DifferentialCase[] = [];
    for (const dir of ['examples', join('test', 'verifier', 'corpus')]) all.push(...collectCases(join(ROOT, dir), ROOT).cases);
    const parents = await selectMutationParents(all, { maxProcessedInsns: PARENT_MAX_PROCESSED_INSNS, concurrency: 4 });
    expect(parents.length).toBeGreaterThan(100);

    const start = performance.now();
    const campaign = await runMutationCampaign(parents, { mutants: MUTANTS, firstSeed: FIRST_SEED, concurrency: 4 });
    const seconds = (performance.now() - start) / 1000;
    const pick = (cls: MutantOutcome['class']) => campaign.outcomes.filter((o) => o.class === cls);
    const unsound = pick('unsound');
    const imprecise = pick('imprecise');
    const crashed = campaign.outcomes.filter((o) => o.nicoff?.crashed);
    console.log(
      `${MUTANTS} mutants of ${parents.length} parents (seeds ${FIRST_SEED}..${FIRST_SEED + MUTANTS - 1}) in ${seconds.toFixed(1)} s\n` +
        `${formatDifferentialTable({ ...campaign.summary, imprecise: [], notComparable: [] })}\n` +
        `imprecise: ${imprecise.length} of ${campaign.summary.kernelAccepted} kernel-accepted mutants\n` +
        imprecise.map((o) => `  ${describeMutant(o)}\n`).join('') +
        pick('not-comparable').map((o) => `  not comparable: ${o.parent}, seed ${o.mutation.seed}: ${o.reason}\n`).join('') +
        (unsound.length ? `UNSOUND (replay with mutateProgram(parent, seed)):\n${unsound.map((o) => `  ${describeMutant(o)}`).join('\n')}\n` : '') +
        (crashed.length ? `nicoff crashed on:\n${crashed.map((o) => `  ${describeMutant(o)}: ${o.nicoff?.message}`).join('\n')}\n` : ''),
    );
    expect(campaign.outcomes).toHaveLength(MUTANTS);
    expect(unsound.map(describeMutant)).toEqual([]);
    expect(crashed.map(describeMutant)).toEqual([]);
  }, 600_000);
});
