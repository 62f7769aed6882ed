/**
 * The shared TLS traces (../shared/tls-traces, described by its MANIFEST.md)
 * and the keys each one needs: the list the tshark oracle tests and the
 * offload figures in docs/TLS-OFFLOAD.md both walk.
 */
import { join } from 'node:path';

/** The shared traces sit beside the repository (../shared), as in CI; NICOFF_TLS_TRACES overrides (for instance to check the skip path). */
export const TRACES = process.env['NICOFF_TLS_TRACES'] ?? join(import.meta.dirname, '..', '..', 'shared', 'tls-traces');

export interface TraceCase {
  capture: string;
  /** Key log file next to the capture; undefined when the keys are in a pcapng DSB. */
  keyLog?: string;
  /** Server-to-client application records per connection, from the manifest (undefined: not listed there). */
  serverRecords?: number;
  /** Pre-shared key (hex) for plain-PSK captures, passed to tshark as tls.psk. */
  psk?: string;
  /** The bridge dropped or held back segments (the manifest's impairment column). */
  impaired?: boolean;
}

/** Every shared trace with keys. */
export const CASES: TraceCase[] = [
  { capture: 't12-aes128gcm-clean.pcap', keyLog: 't12-aes128gcm-clean.keylog', serverRecords: 405 },
  { capture: 't12-aes128gcm-ossl-clean.pcap', keyLog: 't12-aes128gcm-ossl-clean.keylog', serverRecords: 245 },
  { capture: 't13-aes128gcm-clean.pcap', keyLog: 't13-aes128gcm-clean.keylog', serverRecords: 409 },
  { capture: 't12-aes128gcm-reorder.pcap', keyLog: 't12-aes128gcm-reorder.keylog', serverRecords: 401, impaired: true },
  { capture: 't13-aes128gcm-loss.pcap', keyLog: 't13-aes128gcm-loss.keylog', serverRecords: 409, impaired: true },
  { capture: 'public/tls13-rfc8446.pcap', keyLog: 'public/tls13-rfc8446.keys' },
  { capture: 'public/tls12-dsb.pcapng' },
  { capture: 'public/tls12-aes256gcm.pcap', psk: 'ca19e028a8a372ad2d325f950fcaceed' },
];

/** The shared trace without keys (the replay must report it as such). */
export const KEYLESS_CASE: TraceCase = { capture: 'public/retrans-tls.pcap' };
