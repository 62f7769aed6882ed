/**
 * Kernel-compatible lowering of one verified eBPF program: the prologue, each
 * instruction through the lowering table in program order, the outro and the
 * nop tail, then both forms of every word (raw as bpftool shows it, loaded as
 * the card runs it). With the same facts, firmware capabilities and load slot,
 * the words are the Linux nfp JIT's (nfp-microcode.md G.2).
 */
import type { Insn } from '../ebpf/insn.js';
import { NIC_FIRMWARE_CAPS, type NfpFirmwareCaps } from '../verifier/nfp-target.js';
import type { LoweringFacts } from './lowering-facts.js';
import { LoweringGap, type CompileProgramType, type LoweringContext } from './lowering-context.js';
import { KERNEL_LOWERINGS } from './lowering-table.js';
import { finishCode, NfpCode, type EmittedWord } from './nfp-code.js';
import { emitOutro, emitPrologue, NOP_TAIL } from './program-frame.js';
import { planMemoryAccess } from './packet-cache.js';
import { emitCallTrampolines, emitSubprogEntry, findFunctionStarts, programNeedsTrampolines, registerFunctionStarts } from './lower-call.js';

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
}

export interface LoweredProgram {
  words: EmittedWord[];
  raw: bigint[];
  loaded: bigint[];
  /** NFP pc of each eBPF slot's first word. */
  ebpfStart: number[];
  exit: number;
  abort: number;
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

export function lowerProgram(input: LowerProgramInput): LoweredProgram {
  const caps = input.caps ?? NIC_FIRMWARE_CAPS;
  const starts = input.subprogStarts ?? findFunctionStarts(input.insns);
  const code = new NfpCode();
  // The kernel's pre-translation passes (context copy, LD_ABS cleanup, gathering, packet cache).
  const skipped = planMemoryAccess(input.insns, input.facts);
  const ebpfStart: number[] = new Array(input.insns.length + 1).fill(0);
  emitPrologue(code);
  registerFunctionStarts(code, starts);
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
      frameDepth: roundUp(input.facts.stackDepth[subprog] ?? 0, 4),
      skip: (i) => skipped.add(i),
    };
    lowering(ctx);
  }
  ebpfStart[input.insns.length] = code.pc;
  code.current = undefined;
  const { abort, exit } = emitOutro(code, input.programType);
  const trampolines = programNeedsTrampolines(input.insns, starts) ? emitCallTrampolines(code) : {};
  code.nop(NOP_TAIL);
  const { raw, loaded } = finishCode(
    code.words,
    { ebpfStart, exit, abort, ...trampolines },
    {
      startPc: input.startPc ?? 3072,
      donePc: input.donePc ?? 1,
      helperAddress: (id) => caps.helperAddresses[id],
    },
  );
  return { words: code.words, raw, loaded, ebpfStart, exit, abort };
}
