/**
 * Stack (local memory) and map value memory: stack loads and stores through
 * LM pointer 0 or the LM3 window, map value loads, and atomic adds.
 */
import { LoweringGap, type Lowering, type LoweringContext } from './lowering-context.js';

export const STACK_MAP_LOWERINGS: readonly [number, Lowering][] = [];

/**
 * LDX/STX/ST through a stack or map value pointer. lower-packet.ts owns those
 * opcode rows and dispatches here on facts.ptr.
 */
export function lowerStackOrMapAccess(ctx: LoweringContext): void {
  throw new LoweringGap(ctx.index, 'stack and map value access not lowered yet');
}
