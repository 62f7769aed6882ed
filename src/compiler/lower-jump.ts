/**
 * Jump and exit lowerings. A jump's NFP branch targets the first NFP word of
 * the destination eBPF instruction (resolved in nfp-code.ts finishCode).
 */
import { BPF_JA, BPF_JMP } from '../ebpf/opcodes.js';
import type { Lowering, LoweringContext } from './lowering-context.js';

/** The eBPF instruction a jump at `ctx.index` lands on. */
export function jumpTarget(ctx: LoweringContext): number {
  return ctx.index + ctx.insn.off + 1;
}

function ja(ctx: LoweringContext): void {
  ctx.code.br('br', { kind: 'ebpf', insn: jumpTarget(ctx) });
}

export const JUMP_LOWERINGS: readonly [number, Lowering][] = [
  [BPF_JMP | BPF_JA, ja],
];
