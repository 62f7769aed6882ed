/**
 * Context and packet memory: ctx field loads and the rx_queue_index store,
 * packet loads (through the packet cache), packet stores, LD_ABS/LD_IND, and
 * the gathered load/store copies.
 */
import type { Lowering } from './lowering-context.js';

export const PACKET_LOWERINGS: readonly [number, Lowering][] = [];
