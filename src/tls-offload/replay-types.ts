/**
 * The contract of `nicoff tls replay`: options in, a report out. The NIC
 * model (nic-rx-model.ts, nic-tx-model.ts), the software stack model and the
 * orchestration (tls-replay.ts) produce it; the CLI, the plot and the bench
 * only read it. Counter names and meanings: ../shared/docs/tls-offload.md
 * section 3b, "Counters (authoritative)".
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { KeyLog } from './keylog.js';

/** autonomous: the paper's NIC (search, speculative resync, confirmation); naive: stop at the first out-of-sequence packet; none: software only. */
export type NicMode = 'autonomous' | 'naive' | 'none';

export interface ReplayOptions {
  nic: NicMode;
  keyLog: KeyLog;
  /** TLS 1.2 plain-PSK suites (RFC 4279 premaster), like tshark's tls.psk. */
  psk?: Uint8Array;
  /** Software confirms a resync request N packets after it at the earliest (section 3b; default 8). */
  confirmDelayPackets?: number;
  /** Keep each direction's application-data plaintext in the report (for --write-plaintext and tests). */
  keepPlaintext?: boolean;
  /**
   * Each application-data record's plaintext as software delivers it, per
   * connection (tshark's stream number) and direction, in stream order. The
   * bytes are the record's own (never reused by the replay), so they may be
   * kept, as --write-plaintext's asynchronous file writes do.
   */
  onPlaintext?: (stream: number, role: 'client-to-server' | 'server-to-client', plaintext: Uint8Array) => void;
  /** Called now and then with the number of packets processed and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** Per packet exactly one outcome counter; events and software counters as in the doc's table. */
export const RX_OUTCOME_COUNTERS = [
  'rx_tls_decrypted_packets',
  'rx_tls_pass_partial',
  'rx_tls_ooo_retrans',
  'rx_tls_ooo_keep',
  'rx_tls_searching_pass',
  'rx_tls_speculative_pass',
  'rx_tls_no_offload',
] as const;

export const TLS_COUNTERS = [
  ...RX_OUTCOME_COUNTERS,
  'rx_tls_decrypted_bytes',
  'rx_tls_resync_lost',
  'rx_tls_resync_req_pkt',
  'rx_tls_resync_req_start',
  'rx_tls_resync_req_end',
  'rx_tls_resync_chain_fail',
  'rx_tls_resync_res_ok',
  'rx_tls_resync_res_skip',
  'rx_tls_err',
  'sw_records_hw',
  'sw_records_sw',
  'sw_records_mixed',
  'sw_auth_fail',
  'sw_reencrypted_bytes',
  'tx_tls_encrypted_packets',
  'tx_tls_encrypted_bytes',
  'tx_tls_ooo',
  'tx_tls_dump_packets',
  'tx_tls_dump_bytes',
  'tx_tls_drop_no_sync_data',
] as const;
export type TlsCounterName = (typeof TLS_COUNTERS)[number];
export type TlsCounters = Record<TlsCounterName, number>;

/** Where the NIC model was, along a direction's sequence space (for the plot). */
export type OffloadState = 'tracking' | 'searching' | 'speculative' | 'no-offload';

export interface OffloadStateSpan {
  /** Stream offsets (bytes from the direction's first payload byte), half-open. */
  start: number;
  end: number;
  state: OffloadState;
}

export interface OffloadEvent {
  offset: number;
  kind: 'loss' | 'resync-request' | 'chain-fail' | 'confirm' | 'auth-fail';
}

export interface AuthFailure {
  /** TLS record number (nonce sequence) and the TCP sequence number of its header. */
  record: number;
  tcpSeq: number;
  /** 'nic' (tag checked on the NIC) or 'software'. */
  where: 'nic' | 'software';
}

export interface DirectionReport {
  /** "10.77.0.1:4433 -> 10.77.0.2:40000" */
  flow: string;
  role: 'client-to-server' | 'server-to-client';
  /** Why the NIC model did not run on this direction, if it did not. */
  notOffloaded?: string;
  counters: TlsCounters;
  /** Application data records and bytes software delivered (after every tag verified). */
  applicationRecords: number;
  applicationBytes: number;
  /** Share of this direction's TLS payload bytes the NIC decrypted in place. */
  offloadRatio: number;
  /** For each boundary loss: bytes of stream from the loss to the next decrypted packet (undefined while never resumed). */
  lossToResume: (number | undefined)[];
  authFailures: AuthFailure[];
  /** A resync request was still unconfirmed at the end of the capture. */
  unconfirmedAtEnd: boolean;
  spans: OffloadStateSpan[];
  events: OffloadEvent[];
  plaintext?: Uint8Array;
  /** TCP data segments of the direction (what the outcome counters add up to). */
  dataPackets: number;
  /** Their TCP payload bytes, retransmissions included (the offload ratio's denominator). */
  payloadBytes: number;
  /** With keepPlaintext: where each application-data record's plaintext sits in `plaintext`. */
  plaintextRecords?: PlaintextRecordSpan[];
}

/** One application-data record of a direction's plaintext. */
export interface PlaintextRecordSpan {
  /** TLS record number (nonce sequence). */
  record: number;
  /** TCP sequence number and stream offset of the record header. */
  tcpSeq: number;
  offset: number;
  /** Offset and length of the record's plaintext in DirectionReport.plaintext. */
  plaintextOffset: number;
  length: number;
}

export interface ConnectionReport {
  /** tshark's tcp.stream number (order of first appearance in the capture). */
  stream: number;
  client: string;
  server: string;
  status: 'decrypted' | 'no-keys' | 'unsupported-cipher' | 'not-tls';
  tlsVersion?: '1.2' | '1.3';
  cipherSuite?: string;
  directions: DirectionReport[];
  problems: Diagnostic[];
}

export interface ReplayReport {
  nic: NicMode;
  packets: number;
  connections: ConnectionReport[];
  totals: TlsCounters;
  offloadRatio: number;
  /** The capture was cut: what came before was processed. */
  truncation?: Diagnostic;
}
