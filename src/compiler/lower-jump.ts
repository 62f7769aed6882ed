/**
 * Jump and exit lowerings. A jump's NFP branch targets the first NFP word of
 * the destination eBPF instruction (resolved in nfp-code.ts finishCode); an
 * exit in the main program branches to the outro through the loader's exit
 * relocation.
 */
import { BPF_EXIT, BPF_JA, BPF_JMP } from '../ebpf/opcodes.js';
import { LoweringGap, type Lowering, type LoweringContext } from './lowering-context.js';

/** The eBPF instruction a jump at `ctx.index` lands on. */
export function jumpTarget(ctx: LoweringContext): number {
  return ctx.index + ctx.insn.off + 1;
}

function ja(ctx: LoweringContext): void {
  ctx.code.br('br', { kind: 'ebpf', insn: jumpTarget(ctx) });
}

function exit(ctx: LoweringContext): void {
  if (ctx.subprog !== 0) throw new LoweringGap(ctx.index, 'return from a BPF-to-BPF call is not lowered yet');
  ctx.code.br('br', { kind: 'exit' });
}

export const JUMP_LOWERINGS: readonly [number, Lowering][] = [
  [BPF_JMP | BPF_JA, ja],
  [BPF_JMP | BPF_EXIT, exit],
];
