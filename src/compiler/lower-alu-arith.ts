/**
 * Shifts, multiply, divide and byte swaps (nfp-microcode.md C.3): the ALU
 * operations whose lowering depends on the verifier's value ranges.
 */
import type { Lowering } from './lowering-context.js';

export const ARITH_LOWERINGS: readonly [number, Lowering][] = [];
