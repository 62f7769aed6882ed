/**
 * Log lines in the kernel verifier's style: `5: (2d) if r4 > r3 goto +0x1`,
 * states as `R1=ctx() R2=pkt(r=14) R10=fp0 fp-8=mmmmmmmm`, branch starts as
 * `from 5 to 7: ...` and the closing statistics. Only built when a log was
 * asked for.
 */
import { disassembleInsn } from '../ebpf/disasm.js';
import type { Insn } from '../ebpf/insn.js';
import { regToString, type RegState } from './register-state.js';
import type { VerifyInput, VerifyStats } from './verify-types.js';
import { ByteKind, isSpilled, type FuncFrame, type VerifierState } from './verifier-state.js';

const BYTE_CHAR: Record<ByteKind, string> = {
  [ByteKind.Invalid]: '?',
  [ByteKind.Misc]: 'm',
  [ByteKind.Zero]: '0',
  [ByteKind.Spill]: 'r',
};

export function formatInsn(insn: Insn, pc: number): string {
  return `${pc}: (${insn.code.toString(16).padStart(2, '0')}) ${disassembleInsn(insn, pc)}`;
}

function formatFrame(input: Pick<VerifyInput, 'maps'>, f: FuncFrame): string {
  const parts: string[] = [];
  f.regs.forEach((reg, r) => {
    if (reg.type !== 'not_init') parts.push(`R${r}=${regToString(input, reg, f.frameNo)}`);
  });
  f.slots.forEach((slot, spi) => {
    if (!slot) return;
    const off = -8 * (spi + 1);
    if (isSpilled(slot)) parts.push(`fp${off}=${regToString(input, slot.spilled!, f.frameNo)}`);
    else if (slot.kinds.some((k) => k !== ByteKind.Invalid)) {
      // Highest address first, as the kernel prints slot bytes.
      parts.push(`fp${off}=${[...slot.kinds].reverse().map((k) => BYTE_CHAR[k]).join('')}`);
    }
  });
  return parts.join(' ');
}

/** Every frame, innermost last (`frame1: R1=...`). */
export function formatState(input: Pick<VerifyInput, 'maps'>, state: VerifierState): string {
  if (state.frames.length === 1) return formatFrame(input, state.frames[0]);
  return state.frames.map((f) => `frame${f.frameNo}: ${formatFrame(input, f)}`).join(' ');
}

/** The registers an instruction changed, ` ; R0_w=2` style (level 2 logs). */
export function formatChanges(input: Pick<VerifyInput, 'maps'>, before: readonly RegState[], after: readonly RegState[], frameNo: number): string {
  const parts: string[] = [];
  for (let r = 0; r < after.length; r++) {
    if (before[r] !== after[r] && after[r].type !== 'not_init') parts.push(`R${r}_w=${regToString(input, after[r], frameNo)}`);
  }
  return parts.length ? ` ; ${parts.join(' ')}` : '';
}

export function formatStats(stats: VerifyStats): string[] {
  return [
    `processed ${stats.processedInsns} insns (limit 1000000) max_states_per_insn ${stats.maxStatesPerInsn} total_states ${stats.totalStates} peak_states ${stats.peakStates}`,
    `stack depth ${stats.stackDepth.join('+')}`,
  ];
}
