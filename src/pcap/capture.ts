/**
 * The in-memory shape of a capture file, shared by the pcap and pcapng readers
 * and writers. Both formats are normalised to the same model: a flat list of
 * interfaces and packets that point at them by index.
 */

/** Link-layer header types (https://www.tcpdump.org/linktypes.html) nicoff understands. */
export const LINKTYPE = {
  ETHERNET: 1,
  RAW: 101,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export const LINKTYPE_NAMES: Readonly<Record<number, string>> = {
  [LINKTYPE.ETHERNET]: 'ETHERNET',
  [LINKTYPE.RAW]: 'RAW',
  [LINKTYPE.LINUX_SLL]: 'LINUX_SLL',
  [LINKTYPE.IPV4]: 'IPV4',
  [LINKTYPE.IPV6]: 'IPV6',
  [LINKTYPE.LINUX_SLL2]: 'LINUX_SLL2',
};

/** pcapng Decryption Secrets Block secret types. */
export const SECRETS_TYPE = {
  TLS_KEY_LOG: 0x544c534b,
  WIREGUARD_KEY_LOG: 0x57474b4c,
  ZIGBEE_NWK_KEY: 0x5a4e574b,
  ZIGBEE_APS_KEY: 0x5a415053,
} as const;

/**
 * Timestamp unit of an interface: one tick is base^-exponent seconds.
 * Classic pcap is {10, 6} or {10, 9}; pcapng's if_tsresol can give either base.
 */
export interface TimestampResolution {
  base: 2 | 10;
  exponent: number;
}

export interface CaptureInterface {
  /** Link type (the low 16 bits of the pcap header field; pcapng's IDB field). */
  linkType: number;
  tsResolution: TimestampResolution;
  /** Snapshot length; 0 means "no limit" in pcapng. */
  snapLen: number;
  /** Bytes of frame check sequence at the end of every packet, when the file says so. */
  fcsLen?: number;
  /** pcapng section (0-based) the interface was declared in; always 0 for classic pcap. */
  section: number;
}

export interface CapturedPacket {
  /** Index into Capture.interfaces (global across pcapng sections). */
  interfaceId: number;
  /** Nanoseconds since the Unix epoch (rounded down when the file's unit is finer). */
  timestampNs: bigint;
  /** The captured bytes: a view into the input, not a copy. */
  data: Uint8Array;
  /** Length of the packet on the wire (>= data.length when the capture was cut by snaplen). */
  originalLength: number;
}

export interface CaptureSecret {
  /** Secrets type, e.g. SECRETS_TYPE.TLS_KEY_LOG. */
  type: number;
  data: Uint8Array;
}

export interface CaptureTruncation {
  /** File offset of the record or block that is cut short. */
  offset: number;
  reason: string;
}

export interface Capture {
  format: 'pcap' | 'pcapng';
  interfaces: CaptureInterface[];
  packets: CapturedPacket[];
  secrets: CaptureSecret[];
  /** Set when the file ends in the middle of a record; packets before the cut are kept. */
  truncation?: CaptureTruncation;
}

/** Convert a tick count in the given resolution to nanoseconds, rounding down. */
export function ticksToNanoseconds(ticks: bigint, res: TimestampResolution): bigint {
  if (res.base === 10) {
    return res.exponent <= 9 ? ticks * 10n ** BigInt(9 - res.exponent) : ticks / 10n ** BigInt(res.exponent - 9);
  }
  return (ticks * 1_000_000_000n) >> BigInt(res.exponent);
}
