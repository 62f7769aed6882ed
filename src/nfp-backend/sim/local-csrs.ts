/**
 * The local CSRs the kernel JIT touches (nfp-microcode.md B.8): the four LM
 * address pointers and PseudoRndNum. Any other CSR faults (NC6052).
 *
 * - local_csr_wr[ActLMAddrN] takes effect after the model's delay (3 cycles):
 *   an access through pointer N in the next 3 cycles faults (NC6046), because
 *   the hardware would still use the old pointer and the JIT always pads.
 * - PseudoRndNum: a per-ME xorshift32 sequence seeded by the simulator option;
 *   every read advances it, a write reseeds it (0 becomes 1).
 */
import { fault, type MeContext } from './machine-state.js';
import { LM_ADDRESS_MASK } from './memory-map.js';

export const CSR_ACT_LM_ADDR = [0x064, 0x06c, 0x094, 0x09c] as const;
export const CSR_PSEUDO_RND_NUM = 0x148;

export function nextPseudoRandom(state: number): number {
  let x = state | 0;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}

/** Value a local_csr_rd delivers to the following immed. */
export function csrRead(s: MeContext, pc: number, csr: number): number {
  const p = CSR_ACT_LM_ADDR.indexOf(csr as (typeof CSR_ACT_LM_ADDR)[number]);
  if (p >= 0) return s.lmAddr[p]!;
  if (csr === CSR_PSEUDO_RND_NUM) {
    const me = s.me;
    me.prandom = nextPseudoRandom(me.prandom);
    return me.prandom | 0;
  }
  return fault('NC6052', pc, { csr: csr.toString(16).padStart(3, '0'), access: 'read' });
}

/** `s.cycles` is the issue cycle of the local_csr_wr. */
export function csrWrite(s: MeContext, pc: number, csr: number, value: number): void {
  const p = CSR_ACT_LM_ADDR.indexOf(csr as (typeof CSR_ACT_LM_ADDR)[number]);
  if (p >= 0) {
    s.lmAddr[p] = value & LM_ADDRESS_MASK;
    s.lmReady[p] = s.cycles + s.me.latency.lmPointerWriteDelay.value + 1;
    return;
  }
  if (csr === CSR_PSEUDO_RND_NUM) {
    s.me.prandom = value >>> 0 || 1;
    return;
  }
  fault('NC6052', pc, { csr: csr.toString(16).padStart(3, '0'), access: 'write' });
}
