/**
 * The software NFP's timing: every cycle figure the simulator charges, in one
 * table, each with where it comes from. No public source gives NFP-4000 card
 * latencies (nfp-microcode.md F, H), so these are a frozen *reference model*,
 * not measurements; results computed with it must say so.
 */

export interface LatencyFigure {
  readonly value: number;
  readonly source: string;
}

export interface LatencyModel {
  readonly version: number;
  readonly name: string;
  /** Cycles per issued instruction (defer slots included). */
  readonly instruction: LatencyFigure;
  /**
   * A taken branch costs (maxDefer - defer) extra cycles: the shadow slots the
   * pipeline would have filled. Not-taken branches cost nothing extra.
   */
  readonly branchShadow: { readonly br: LatencyFigure; readonly conditional: LatencyFigure; readonly rtn: LatencyFigure };
  /** Cycles after local_csr_wr[ActLMAddrN] before pointer N may be used. */
  readonly lmPointerWriteDelay: LatencyFigure;
  readonly contextSwap: LatencyFigure;
  /** Cycles a context sleeps on a ctx_swap command, by target memory. */
  readonly memory: { readonly lm: LatencyFigure; readonly ctm: LatencyFigure; readonly imem: LatencyFigure; readonly emem: LatencyFigure };
  /** Firmware helper subroutines, charged as sleep on the 'map-helper' class. */
  readonly helpers: {
    readonly mapLookupHash: LatencyFigure;
    readonly mapLookupArray: LatencyFigure;
    readonly mapUpdateHash: LatencyFigure;
    readonly mapUpdateArray: LatencyFigure;
    readonly mapDeleteHash: LatencyFigure;
    readonly mapDeleteArray: LatencyFigure;
    readonly perfEventOutput: LatencyFigure;
  };
  readonly clockHz: LatencyFigure;
  readonly microengines: LatencyFigure;
  readonly contextsPerMe: LatencyFigure;
  /** 64-byte frames per second of one 10GbE port, and ports per card. */
  readonly portLineRatePps: LatencyFigure;
  readonly ports: LatencyFigure;
}

const FROZEN = "the issue's frozen reference latency model v1 (no public source gives NFP-4000 latencies: nfp-microcode.md F, H)";
const CHOICE = 'model choice of the simulator (reference latency model v1), not from any source';

export const LATENCY_MODEL_V1: LatencyModel = {
  version: 1,
  name: 'reference latency model v1',
  instruction: { value: 1, source: `${FROZEN}: 1 cycle per instruction issued` },
  branchShadow: {
    br: {
      value: 2,
      source: 'unconditional br: max defer 2 (kernel rejects defer 3 for BR_UNC; IXP MEv2 syntax guide), so a taken br costs 2 - defer; the issue text "a taken branch costs its unfilled defer slots"',
    },
    conditional: { value: 3, source: 'conditional branches and br_bset/br_bclr: max defer 3 (kernel, IXP MEv2), so taken costs 3 - defer; not taken costs 0' },
    rtn: { value: 3, source: 'rtn: max defer 3 (nfp-microcode.md A.3), so it costs 3 - defer' },
  },
  lmPointerWriteDelay: {
    value: 3,
    source: 'kernel JIT pads local_csr_wr[ActLMAddrN] with 3 instructions (nfp-microcode.md A.2); counted in cycles, so a taken-branch shadow counts (the JIT relies on this in BPF-to-BPF calls: lowering-catalogue "bpf-to-bpf call")',
  },
  contextSwap: { value: 0, source: `${CHOICE}: the next ready context issues in the cycle after the swap` },
  memory: {
    lm: { value: 0, source: `${FROZEN}: local memory and registers do not stall` },
    ctm: { value: 50, source: `${FROZEN}: CTM command round trip 50 cycles` },
    imem: { value: 120, source: `${FROZEN}: IMEM command round trip 120 cycles (no simulated data lives in IMEM)` },
    emem: { value: 250, source: `${FROZEN}: EMEM command round trip 250 cycles` },
  },
  helpers: {
    mapLookupHash: { value: 300, source: `${FROZEN}: firmware hash map lookup 300 cycles` },
    mapLookupArray: { value: 150, source: `${FROZEN}: firmware array map lookup 150 cycles` },
    mapUpdateHash: { value: 400, source: `${CHOICE}: lookup 300 plus one EMEM write-back (100, overlapped)` },
    mapUpdateArray: { value: 200, source: `${CHOICE}: array lookup 150 plus a value write (50, overlapped)` },
    mapDeleteHash: { value: 300, source: `${CHOICE}: as a hash lookup (find the slot, clear it)` },
    mapDeleteArray: { value: 20, source: `${CHOICE}: array delete only returns -EINVAL` },
    perfEventOutput: { value: 250, source: `${CHOICE}: one EMEM ring write (as EMEM 250)` },
  },
  clockHz: { value: 800e6, source: `${FROZEN}: NFP-4000 microengines at 800 MHz` },
  microengines: { value: 50, source: 'nic-firmware CX build: 10 worker MEs in each of 5 ME islands run the BPF image (nfp-microcode.md A.1)' },
  contextsPerMe: { value: 4, source: 'nic-firmware BPF_NUM_THREADS 4, contexts 0/2/4/6 (4-context mode; nfp-microcode.md A.1)' },
  portLineRatePps: { value: 14.88e6, source: '10GbE at 64-byte frames: 10e9 / ((64 + 20) x 8) = 14.88 Mpps' },
  ports: { value: 2, source: 'Agilio CX 2x10GbE' },
};

/** Cross-check the model reproduces (nfp-microcode.md F): adjust_head fast path 5 vs checked 14 cycles, per kernel jit.c. */
export const ADJUST_HEAD_CYCLES_KERNEL_COMMENT = { fast: 5, checked: 14 } as const;

/** Cycles a taken branch wastes: the shadow slots its defer field does not fill (unconditional br: 2, others: 3). */
export function branchShadowCycles(latency: LatencyModel, branch: { format: string; condition?: string; defer: number }): number {
  const b = latency.branchShadow;
  const max = branch.format === 'br' ? (branch.condition === 'br' ? b.br.value : b.conditional.value) : branch.format === 'rtn' ? b.rtn.value : b.conditional.value;
  return Math.max(0, max - branch.defer);
}

/** A firmware helper's cost by the subroutine called and the map kind it works on. */
export function helperCycles(latency: LatencyModel, helper: 'mapLookup' | 'mapUpdate' | 'mapDelete' | 'perfEventOutput', isArray: boolean): number {
  const h = latency.helpers;
  switch (helper) {
    case 'mapLookup':
      return isArray ? h.mapLookupArray.value : h.mapLookupHash.value;
    case 'mapUpdate':
      return isArray ? h.mapUpdateArray.value : h.mapUpdateHash.value;
    case 'mapDelete':
      return isArray ? h.mapDeleteArray.value : h.mapDeleteHash.value;
    case 'perfEventOutput':
      return h.perfEventOutput.value;
  }
}
