/**
 * The shared TLS traces (../shared/tls-traces, described by its MANIFEST.md)
 * and the keys each one needs: the list the tshark oracle tests and the
 * offload figures in docs/TLS-OFFLOAD.md both walk.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The shared traces sit beside the repository (../shared), as in CI; NICOFF_TLS_TRACES overrides (for instance to check the skip path). */
export const TRACES = process.env['NICOFF_TLS_TRACES'] ?? join(import.meta.dirname, '..', '..', 'shared', 'tls-traces');

export interface TraceCase {
  /** Folder the capture and key log names are relative to (default TRACES). */
  root?: string;
  capture: string;
  /** Key log file next to the capture; undefined when the keys are in a pcapng DSB. */
  keyLog?: string;
  /** Server-to-client application records per connection, from the manifest (undefined: not listed there). */
  serverRecords?: number;
  /** Pre-shared key (hex) for plain-PSK captures, passed to tshark as tls.psk. */
  psk?: string;
  /** Segments were dropped or arrived out of order: asked of the bridge, or seen by tshark in the capture. */
  impaired?: boolean;
  /** The bridge sent segments twice. */
  duplicates?: boolean;
  /** Segments tshark flags as retransmissions (duplicates included); 0 when absent. */
  retransmissions?: number;
  /** TCP connections in the capture, when the manifest says (several: impairments need not hit each). */
  connections?: number;
}

/** Path of one of a trace's files. */
export function tracePath(trace: TraceCase, file: string): string {
  return join(trace.root ?? TRACES, file);
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

/** Where `npm run tls:traces` and `npm run tls:traces:ci` (which .ci/run runs) write the project's own captures; NICOFF_GENERATED_TRACES overrides. */
export const GENERATED_TRACES = process.env['NICOFF_GENERATED_TRACES'] ?? join(import.meta.dirname, '..', 'build', 'tls-traces');

interface GeneratedRun {
  file: string;
  keylog: string;
  conns: number;
  reorder_pct: number;
  loss_permille: number;
  dup_permille: number;
  pcap_bytes: number;
  tshark?: { decrypted_app_records_s2c?: number; retransmission?: number; out_of_order?: number; prev_segment_not_captured?: number };
}

/**
 * The generated captures under 20 MB (duplication, AES-256, several
 * connections: what the shared traces lack), from the generator's
 * manifest.json; empty when none were generated.
 */
export function generatedCases(): TraceCase[] {
  const manifest = join(GENERATED_TRACES, 'manifest.json');
  if (!existsSync(manifest)) return [];
  const runs = JSON.parse(readFileSync(manifest, 'utf8')) as GeneratedRun[];
  return runs
    .filter((r) => r.pcap_bytes < 20_000_000 && existsSync(join(GENERATED_TRACES, r.file)))
    .map((r) => {
      const trace: TraceCase = { root: GENERATED_TRACES, capture: r.file, keyLog: r.keylog, connections: r.conns };
      // Impaired by what the capture shows, not only by what the bridge was asked: on a busy machine a
      // "clean" run can still deliver a segment out of order (the receiving NIC sees a hole, then the
      // segment), which loses the record boundary as any reordering does. CI saw this once on
      // t12-aes256gcm-clean; it reproduces about 1 run in 16 with both CPUs loaded.
      if (r.reorder_pct > 0 || r.loss_permille > 0 || (r.tshark?.out_of_order ?? 0) > 0 || (r.tshark?.prev_segment_not_captured ?? 0) > 0) {
        trace.impaired = true;
      }
      if (r.dup_permille > 0) trace.duplicates = true;
      if (r.tshark?.retransmission) trace.retransmissions = r.tshark.retransmission;
      if (r.conns === 1 && r.tshark?.decrypted_app_records_s2c !== undefined) trace.serverRecords = r.tshark.decrypted_app_records_s2c;
      return trace;
    });
}
