/**
 * Stack (local memory) and map value memory: stack loads and stores through
 * LM pointer 0 or the LM3 window, map value loads, and atomic adds.
 */
import type { Lowering } from './lowering-context.js';

export const STACK_MAP_LOWERINGS: readonly [number, Lowering][] = [];
