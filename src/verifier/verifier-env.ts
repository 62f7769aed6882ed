/**
 * What the instruction checks (check-alu, check-memory, check-branch,
 * check-helper-call) see of the verifier: the program, the current path's
 * state, and the few services they call back into (fresh ids, precision
 * marking, refusals).
 */
import type { DiagnosticCode } from '../diagnostics/catalogue.js';
import type { FactsCollector } from './program-facts.js';
import type { RegState } from './register-state.js';
import type { VerifierState } from './verifier-state.js';
import type { VerifyInput } from './verify-types.js';

/** A refusal found while interpreting: carried up to verifyProgram, which builds the diagnostic. */
export class VerifyRefusal extends Error {
  constructor(
    readonly code: DiagnosticCode,
    readonly args: Record<string, string | number | bigint>,
    readonly kernelStyle: string,
    readonly insn: number | undefined,
  ) {
    super(kernelStyle);
    this.name = 'VerifyRefusal';
  }
}

export interface VerifierEnv {
  readonly input: VerifyInput;
  readonly unprivileged: boolean;
  readonly strictAlignment: boolean;
  /** The current path's state; checks update it in place. */
  state: VerifierState;
  /** The instruction being processed. */
  readonly insnIdx: number;
  readonly facts: FactsCollector;
  /** A fresh pointer or link id (the kernel's ++env->id_gen). */
  newId(): number;
  /** Refuse the program at the current instruction. */
  refuse(code: DiagnosticCode, args: Record<string, string | number | bigint>, kernelStyle: string): never;
  /** The scalars in these registers (current frame) must keep their exact value in every state this path came through. */
  markPreciseRegs(regs: readonly number[]): void;
  /** Same, for a spilled scalar in stack slot `spi` of frame `frame`. */
  markPreciseSlot(frame: number, spi: number): void;
  /** The current instruction reads or writes stack slot `spi` of frame `frame` (precision backtracking follows spills through it). */
  noteStackAccess(frame: number, spi: number): void;
  /** The program may read stack slot `spi` of frame `frame` here: saved states before this point must keep it. */
  noteStackRead(frame: number, spi: number): void;
  /** All 8 bytes of the slot were written: earlier contents are dead from here on. */
  noteStackWritten(frame: number, spi: number): void;
  /** The current register state of the current frame. */
  reg(r: number): RegState;
  setReg(r: number, reg: RegState): void;
}
