/**
 * What a lowering sees: the instruction, its facts, the program around it, and
 * the code it appends to. Lowerings are registered by opcode in
 * lowering-table.ts; each is a function of this context.
 */
import type { Insn } from '../ebpf/insn.js';
import type { NfpFirmwareCaps } from '../verifier/nfp-target.js';
import type { LoweringFacts, LoweringInsnFacts } from './lowering-facts.js';
import type { NfpCode } from './nfp-code.js';
import type { PassName } from './optimize/passes.js';

export type CompileProgramType = 'xdp' | 'tc';

export interface LoweringContext {
  code: NfpCode;
  /** Every slot of the program (ld_imm64 fillers included), as decoded. */
  insns: readonly Insn[];
  index: number;
  insn: Insn;
  facts: LoweringInsnFacts | undefined;
  programFacts: LoweringFacts;
  programType: CompileProgramType;
  caps: NfpFirmwareCaps;
  /** The current function: its index (0 = main program) and frame depth, rounded up to 4 as the JIT does. */
  subprog: number;
  frameDepth: number;
  /** Optimizing passes that are on (none in kernel-compatible mode). */
  passes: ReadonlySet<PassName>;
  /** Mark instruction `index` as folded into this one (it emits nothing; jumps to it land on the next word). */
  skip(index: number): void;
  /** By map index: where an array map's values sit, when the firmware lets the code compute value addresses. */
  arrayMaps: readonly (ArrayMapPlacement | undefined)[];
  /** Record that this lowering computed an array value address (the image must then carry the layout). */
  noteArrayAddress(): void;
}

/** An array map whose values the code may address directly: slot i at `slot0 + i * slotBytes` (40-bit EMEM). */
export interface ArrayMapPlacement {
  slot0: number;
  slotBytes: number;
  maxEntries: number;
}

export type Lowering = (ctx: LoweringContext) => void;

/** The instruction has no lowering (yet, or on the NFP): NC5700 with the reason. */
export class LoweringGap extends Error {
  constructor(
    readonly insnIndex: number,
    readonly reason: string,
  ) {
    super(`instruction ${insnIndex}: ${reason}`);
  }
}
