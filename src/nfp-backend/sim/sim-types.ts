/**
 * The contract of the software NFP: what a loaded program is, what the
 * simulator returns per packet, and the firmware ABI it emulates around the
 * program (shared/docs/nfp-microcode.md A.4-A.6, C.1, D.4, D.7).
 *
 * Everything here is data; the microengine is in microengine.ts, the firmware
 * model in firmware.ts, the timing model in latency-model.ts.
 */

export type NfpProgramType = 'xdp' | 'tc';

/**
 * The firmware side of the offload ABI that an image is built against. The
 * defaults (NIC_FIRMWARE_ABI) are what ../shared/nfp-golden assumes: the
 * public nic-firmware values with placeholder helper addresses.
 */
export interface NfpFirmwareAbi {
  /** NFP_NET_CFG_BPF_START: code-store address of the program's first word. */
  startPc: number;
  /** NFP_NET_CFG_BPF_DONE: where the outro branches with the verdict in A0[23:16]. */
  donePc: number;
  /** Code-store addresses of the firmware helper subroutines (FUNC capability TLVs). */
  helpers: { mapLookup: number; mapUpdate: number; mapDelete: number; perfEventOutput: number };
  /** ADJUST_HEAD capability: the data offset inside the CTM buffer must stay in [offMin, offMax]. */
  adjustHead: { offMin: number; offMax: number; guaranteedSub: number; guaranteedAdd: number };
  /** Per-thread stack in local memory, bytes (NFP_NET_CFG_BPF_STACK_SZ x 64). */
  stackBytes: number;
  /** Size of the code store in instructions (14-bit branch targets; firmware default 8192). */
  codeStoreWords: number;
  /**
   * Present when the image computes array-map value addresses itself instead
   * of calling the lookup helper: the layout it assumes. The loader refuses
   * the image on firmware that keeps array values anywhere else.
   */
  arrayValues?: ArrayValueLayout;
}

/**
 * Where firmware keeps array-map values when it keeps them flat: table t's
 * slot i at `base + t * tableStride + i * round_up(valueSize, 8)` (40-bit EMEM
 * address). nicoff's software NFP does (memory-map.ts, SOFTWARE_NFP_ARRAY_VALUES).
 * The public nic-firmware advertises no such layout (its arrays sit behind the
 * same lookup helper as its hash tables), so images for it never assume one.
 */
export interface ArrayValueLayout {
  base: number;
  tableStride: number;
}

export const NIC_FIRMWARE_ABI: NfpFirmwareAbi = {
  startPc: 3072,
  donePc: 1,
  helpers: { mapLookup: 0x200, mapUpdate: 0x300, mapDelete: 0x400, perfEventOutput: 0x500 },
  adjustHead: { offMin: 44, offMax: 248, guaranteedSub: 84, guaranteedAdd: 112 },
  stackBytes: 512,
  codeStoreWords: 8192,
};

/** A map as the firmware holds it. `tableId` is what the program passes in A0 (first map = 1). */
export interface NfpMapDef {
  tableId: number;
  name: string;
  type: 'array' | 'hash';
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /**
   * 32-bit value words used as atomic counters (word index). The card keeps
   * those big-endian and the driver byte-swaps them on every host access
   * (nfp-microcode.md D.5), so the host view of a value swaps exactly these.
   */
  atomicWords?: readonly number[];
}

/** A program as the code store holds it: loaded-form words (ECC present) at startPc.. */
export interface NfpLoadedProgram {
  words: readonly bigint[];
  programType: NfpProgramType;
  maps: readonly NfpMapDef[];
  abi: NfpFirmwareAbi;
}

/** The firmware's reading of the action byte the outro leaves in A0[23:16]. */
export type NfpAction = 'pass' | 'drop' | 'tx' | 'abort' | 'drop-silent';

export interface NfpPacketInput {
  bytes: Uint8Array;
}

/** Memory classes the latency model charges; `map-helper` is a firmware map operation. */
export type NfpMemoryClass = 'ctm' | 'imem' | 'emem' | 'map-helper';

export interface NfpPacketStats {
  /** Instructions issued by the program and its defer slots (firmware helpers not included). */
  instructions: number;
  /** Cycles from entry to the done address for this packet run alone on one context. */
  cycles: number;
  /** Cycles this context slept waiting on each memory class. */
  stalls: Record<NfpMemoryClass, number>;
}

export type NfpPacketResult =
  | {
      status: 'ok';
      /** A0[23:16] at the done address. */
      actionByte: number;
      action: NfpAction;
      /**
       * Packet bytes after the program (adjust_head/tail and stores applied); the
       * input array itself when the program left packet memory untouched.
       */
      packet: Uint8Array;
      /** perf_event_output records captured (data bytes, then packet bytes if requested). */
      perfEvents: Uint8Array[];
      /** The receive queue an XDP program selected (ctx->rx_queue_index store), if it did. */
      rxQueue?: number;
      stats: NfpPacketStats;
    }
  | {
      status: 'fault';
      /** Diagnostic code (NC60xx) and its rendered message; the pc is a code-store address. */
      code: string;
      message: string;
      pc: number;
      stats: NfpPacketStats;
    };
