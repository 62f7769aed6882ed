/**
 * Kernel-compatible lowering of one verified eBPF program: the prologue, each
 * instruction through the lowering table in program order, the outro and the
 * nop tail, then both forms of every word (raw as bpftool shows it, loaded as
 * the card runs it). With the same facts, firmware capabilities and load slot,
 * the words are the Linux nfp JIT's (nfp-microcode.md G.2).
 */
import type { Insn } from '../ebpf/insn.js';
import { NIC_FIRMWARE_CAPS, type NfpFirmwareCaps } from '../verifier/nfp-target.js';
import type { LoweringFacts, LoweringInsnFacts } from './lowering-facts.js';
import { LoweringGap, type ArrayMapPlacement, type CompileProgramType, type LoweringContext } from './lowering-context.js';
import { KERNEL_LOWERINGS } from './lowering-table.js';
import { finishCode, NfpCode, type EmittedWord } from './nfp-code.js';
import type { WordProgram } from './optimize/word-program.js';
import { emitOutro, emitPrologue, FULL_OUTRO, NOP_TAIL, outroTableMax, type OutroShape } from './program-frame.js';
import { runWordPasses, type PassName } from './optimize/passes.js';
import { sortCopyRuns } from './optimize/sort-copies.js';
import { BPF_ALU, BPF_ALU64, BPF_CALL, BPF_EXIT, BPF_JA, BPF_JMP, BPF_JMP32 } from '../ebpf/opcodes.js';
import { planMemoryAccess } from './packet-cache.js';
import { constantExitR0, functionUsesCalleeSaved, emitCallTrampolines, emitSubprogEntry, findFunctionStarts, programNeedsTrampolines, registerFunctionStarts } from './lower-call.js';

export interface LowerProgramInput {
  /** Decoded slots (ld_imm64 fillers included). */
  insns: readonly Insn[];
  programType: CompileProgramType;
  facts: LoweringFacts;
  /** First instruction of each function, main program first (default: [0]). */
  subprogStarts?: readonly number[];
  caps?: NfpFirmwareCaps;
  /** NFP_NET_CFG_BPF_START and _DONE (nic-firmware: 3072 and 1). */
  startPc?: number;
  donePc?: number;
  /** Optimizing passes to run (absent or empty: kernel-compatible words). */
  passes?: ReadonlySet<PassName>;
  /** By map index: array maps whose value addresses the firmware's layout fixes (absent: every lookup calls the firmware). */
  arrayMaps?: readonly (ArrayMapPlacement | undefined)[];
}

export interface LoweredProgram {
  words: EmittedWord[];
  raw: bigint[];
  loaded: bigint[];
  /** NFP pc of each eBPF slot's first word. */
  ebpfStart: number[];
  /** The outro's labels (absent when the optimizing mode needed no outro). */
  exit?: number;
  abort?: number;
  /** Words before the outro, trampolines and nop tail: the prologue and the program's own. */
  programWords: number;
  /** Map lookups lowered to a computed array value address instead of a firmware call. */
  arrayAddressLookups: number;
}

const NO_PASSES: ReadonlySet<PassName> = new Set();

function isConditionalJump(insn: Insn): boolean {
  const cls = insn.code & 0x07;
  if (cls !== BPF_JMP && cls !== BPF_JMP32) return false;
  const op = insn.code & 0xf0;
  return op !== BPF_JA && op !== BPF_CALL && op !== BPF_EXIT;
}

/**
 * known-branches: a jump the verifier saw go one way only is lowered as that
 * way (nothing, or a plain br); code no verified path reaches is not lowered.
 * Returns true when it handled the instruction.
 */
function lowerKnownBranch(ctx: LoweringContext): boolean {
  if (!ctx.passes.has('known-branches')) return false;
  if (ctx.programFacts.reached && !ctx.programFacts.reached[ctx.index]) return true;
  if (!isConditionalJump(ctx.insn)) return false;
  const way = ctx.facts?.branch;
  if (way === 'fallthrough') return true;
  if (way === 'taken') {
    ctx.code.br('br', { kind: 'ebpf', insn: ctx.index + 1 + ctx.insn.off });
    return true;
  }
  return false;
}

const U32_MAX = 0xffff_ffffn;
const S32_MAX = 0x7fff_ffffn;
const SIGNED_JUMPS = new Set([0x60, 0x70, 0xc0, 0xd0]);
const JSET = 0x40;

/**
 * narrow-compares: a 64-bit conditional jump whose operands the verifier
 * proves fit in 32 bits compares the low words only (the JMP32 form), so
 * the high words need not exist. Unsigned and equality tests need both
 * values below 2^32 (an immediate is sign-extended, so it must be >= 0
 * unless the test is JSET); signed tests need them below 2^31.
 */
export function narrowedCompare(insn: Insn, facts: LoweringInsnFacts | undefined, passes: ReadonlySet<PassName>): Insn | undefined {
  if ((insn.code & 0x07) !== BPF_JMP || !isConditionalJump(insn)) return undefined;
  const c = facts?.compare;
  if (!c) return undefined;
  const op = insn.code & 0xf0;
  const asJmp32: Insn = { ...insn, code: (insn.code & ~0x07) | BPF_JMP32 };
  // Two packet pointers: 32-bit CTM addresses (spec A.5) compared unsigned or for equality.
  if (passes.has('packet-pointers-32') && c.packetPointers && !SIGNED_JUMPS.has(op) && op !== JSET) return asJmp32;
  if (!passes.has('narrow-compares')) return undefined;
  const limit = SIGNED_JUMPS.has(op) ? S32_MAX : U32_MAX;
  if (c.umaxDst > limit) return undefined;
  if ((insn.code & 0x08) !== 0) {
    if (c.umaxSrc === undefined || c.umaxSrc > limit) return undefined;
  } else if (insn.imm < 0 && !SIGNED_JUMPS.has(op) && op !== JSET) {
    return undefined;
  }
  return asJmp32;
}

const ALU64_ADD_SUB = new Set([BPF_ALU64 | 0x00 | 0x00, BPF_ALU64 | 0x00 | 0x08, BPF_ALU64 | 0x10 | 0x00, BPF_ALU64 | 0x10 | 0x08]);

/**
 * packet-pointers-32: a packet pointer is a 32-bit CTM address whose bit 31
 * is set and bits 30:26 clear (spec A.5), and the verifier bounds every
 * offset added to it by 0xffff, so adding or subtracting never carries out
 * of the low word: the ALU32 form (low word only, high word left as it is,
 * which is 0) computes the same pointer.
 */
export function narrowedPointerArithmetic(insn: Insn, facts: LoweringInsnFacts | undefined, passes: ReadonlySet<PassName>): Insn | undefined {
  if (!passes.has('packet-pointers-32') || !facts?.packetPointer || !ALU64_ADD_SUB.has(insn.code)) return undefined;
  return { ...insn, code: (insn.code & ~0x07) | BPF_ALU };
}

/** Which outro parts the program's exits and branches still need. */
function outroShape(input: LowerProgramInput, code: NfpCode, passes: ReadonlySet<PassName>, starts: readonly number[]): OutroShape {
  if (passes.size === 0) return FULL_OUTRO;
  const targets = new Set(code.words.map((w) => w.target?.kind));
  const table = targets.has('exit');
  let inRange = passes.has('outro-range');
  const mainEnd = starts[1] ?? input.insns.length;
  for (let i = 0; i < mainEnd && inRange; i++) {
    if (input.insns[i]!.code !== (BPF_JMP | BPF_EXIT)) continue;
    const facts = input.facts.insns[i];
    if (facts === undefined) continue; // never reached
    if (constantExitR0({ passes, subprog: 0, facts }) !== undefined) continue;
    if (!facts.exitR0 || facts.exitR0.umax > outroTableMax(input.programType)) inRange = false;
  }
  const rangeCheck = table && !inRange;
  return { table, rangeCheck, abort: rangeCheck || targets.has('abort') };
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/**
 * A function's LM frame: its verifier stack depth rounded to 4; a called
 * function's frame also holds its return address (word 0) and, when it
 * touches r6-r9, the caller's copies of them (words 1-8), as the kernel
 * JIT lays it out (nfp-microcode.md C.2).
 */
function frameDepthOf(input: LowerProgramInput, starts: readonly number[], subprog: number): number {
  const depth = roundUp(input.facts.stackDepth[subprog] ?? 0, 4);
  if (subprog === 0) return depth;
  const from = starts[subprog]!;
  const to = starts[subprog + 1] ?? input.insns.length;
  return depth + 4 + (functionUsesCalleeSaved(input.insns, from, to) ? 32 : 0);
}

export function lowerProgram(original: LowerProgramInput): LoweredProgram {
  // sort-copies reorders instructions inside byte-copy runs before anything else looks at them.
  const sorted = original.passes?.has('sort-copies') ? sortCopyRuns(original.insns, original.facts) : undefined;
  const input: LowerProgramInput = sorted ? { ...original, insns: sorted.insns, facts: sorted.facts } : original;
  const caps = input.caps ?? NIC_FIRMWARE_CAPS;
  const starts = input.subprogStarts ?? findFunctionStarts(input.insns);
  const code = new NfpCode();
  const passes = input.passes ?? NO_PASSES;
  // The kernel's pre-translation passes (context copy, LD_ABS cleanup, gathering, packet cache).
  const skipped = planMemoryAccess(input.insns, input.facts);
  const ebpfStart: number[] = new Array(input.insns.length + 1).fill(0);
  emitPrologue(code);
  registerFunctionStarts(code, starts);
  const frameDepths = starts.map((_, subprog) => frameDepthOf(input, starts, subprog));
  const arrayMaps = input.arrayMaps ?? [];
  let arrayAddressLookups = 0;
  const noteArrayAddress = (): void => {
    arrayAddressLookups++;
  };
  let subprog = 0;
  for (let index = 0; index < input.insns.length; index++) {
    while (subprog + 1 < starts.length && index >= starts[subprog + 1]!) subprog++;
    ebpfStart[index] = code.pc;
    const insn = input.insns[index]!;
    const previous = input.insns[index - 1];
    // The second slot of an ld_imm64, and instructions a pass folded, emit nothing.
    if (previous?.slots === 2 || skipped.has(index)) continue;
    const lowering = KERNEL_LOWERINGS.get(insn.code);
    if (!lowering) throw new LoweringGap(index, `opcode 0x${insn.code.toString(16).padStart(2, '0')} has no lowering yet`);
    code.current = index;
    // A called function first parks its return address (A21) in its frame.
    if (subprog > 0 && index === starts[subprog]) emitSubprogEntry(code);
    const ctx: LoweringContext = {
      code,
      insns: input.insns,
      index,
      insn,
      facts: input.facts.insns[index],
      programFacts: input.facts,
      programType: input.programType,
      caps,
      subprog,
      frameDepth: frameDepths[subprog]!,
      passes,
      skip: (i) => skipped.add(i),
      arrayMaps,
      noteArrayAddress,
    };
    if (lowerKnownBranch(ctx)) continue;
    const narrowed = narrowedCompare(insn, ctx.facts, passes) ?? narrowedPointerArithmetic(insn, ctx.facts, passes);
    if (narrowed) {
      KERNEL_LOWERINGS.get(narrowed.code)!({ ...ctx, insn: narrowed });
      continue;
    }
    lowering(ctx);
  }
  ebpfStart[input.insns.length] = code.pc;
  code.current = undefined;
  const { abort, exit } = emitOutro(code, input.programType, outroShape(input, code, passes, starts));
  const trampolines = programNeedsTrampolines(input.insns, starts) ? emitCallTrampolines(code) : {};
  const program: WordProgram = { words: code.words, layout: { ebpfStart, ...(exit !== undefined ? { exit } : {}), ...(abort !== undefined ? { abort } : {}), ...trampolines } };
  runWordPasses(program, passes);
  const programWords = Math.min(program.words.length, ...[program.layout.abort, program.layout.exit, program.layout.pushTrampoline].filter((x): x is number => x !== undefined));
  const words = [...program.words];
  for (let i = 0; i < NOP_TAIL; i++) words.push({ insn: { format: 'nop' }, ebpfInsn: undefined });
  const { raw, loaded } = finishCode(
    words,
    program.layout,
    {
      startPc: input.startPc ?? 3072,
      donePc: input.donePc ?? 1,
      helperAddress: (id) => caps.helperAddresses[id],
    },
  );
  const l = program.layout;
  return { words, raw, loaded, ebpfStart: l.ebpfStart, ...(l.exit !== undefined ? { exit: l.exit } : {}), ...(l.abort !== undefined ? { abort: l.abort } : {}), programWords, arrayAddressLookups };
}
