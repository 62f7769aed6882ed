import { describe, test, expect } from '@jest/globals';
import { keyLogFromCaptureSecrets, mergeKeyLogs, parseKeyLog } from '../../src/tls-offload/keylog.js';
import { SECRETS_TYPE } from '../../src/pcap/index.js';

const RANDOM_A = 'aa'.repeat(32);
const RANDOM_B = 'BB'.repeat(32);

describe('NSS key log parser', () => {
  test('reads every label, keyed by lower-case client random', () => {
    const text = [
      '# comment',
      '',
      `CLIENT_RANDOM ${RANDOM_A} ${'01'.repeat(48)}`,
      `CLIENT_EARLY_TRAFFIC_SECRET ${RANDOM_B} ${'02'.repeat(32)}`,
      `EARLY_EXPORTER_SECRET ${RANDOM_B} ${'03'.repeat(32)}`,
      `CLIENT_HANDSHAKE_TRAFFIC_SECRET ${RANDOM_B} ${'04'.repeat(32)}`,
      `SERVER_HANDSHAKE_TRAFFIC_SECRET ${RANDOM_B} ${'05'.repeat(32)}`,
      `CLIENT_TRAFFIC_SECRET_0 ${RANDOM_B} ${'06'.repeat(48)}`,
      `SERVER_TRAFFIC_SECRET_0 ${RANDOM_B} ${'07'.repeat(48)}\r`,
      `EXPORTER_SECRET ${RANDOM_B} ${'08'.repeat(32)}`,
    ].join('\n');
    const log = parseKeyLog(text);
    expect(log.warnings).toEqual([]);
    expect(Buffer.from(log.connections.get(RANDOM_A)!.masterSecret!).toString('hex')).toBe('01'.repeat(48));
    const b = log.connections.get(RANDOM_B.toLowerCase())!;
    expect(b.clientEarlyTrafficSecret![0]).toBe(2);
    expect(b.earlyExporterSecret![0]).toBe(3);
    expect(b.clientHandshakeTrafficSecret![0]).toBe(4);
    expect(b.serverHandshakeTrafficSecret![0]).toBe(5);
    expect(b.clientTrafficSecret0!.length).toBe(48);
    expect(b.serverTrafficSecret0![0]).toBe(7);
    expect(b.exporterSecret![0]).toBe(8);
  });

  test('malformed lines become NC7001 warnings with line numbers; the rest is used', () => {
    const text = [
      `CLIENT_RANDOM ${RANDOM_A} ${'01'.repeat(48)}`,
      'CLIENT_RANDOM short',
      `CLIENT_RANDOM ${RANDOM_A.slice(2)} ${'01'.repeat(48)}`,
      `CLIENT_RANDOM ${RANDOM_A} ${'01'.repeat(47)}`,
      `UNKNOWN_LABEL ${RANDOM_A} ${'01'.repeat(32)}`,
      `CLIENT_TRAFFIC_SECRET_0 ${RANDOM_A} ${'zz'.repeat(32)}`,
      `CLIENT_TRAFFIC_SECRET_0 ${RANDOM_A} ${'01'.repeat(20)}`,
      `SERVER_TRAFFIC_SECRET_0 ${RANDOM_A} ${'09'.repeat(32)}`,
    ].join('\n');
    const log = parseKeyLog(text, 'keys.log');
    expect(log.warnings.map((w) => w.code)).toEqual(Array(6).fill('NC7001'));
    expect(log.warnings.map((w) => w.location.source?.line)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(log.warnings[0]!.message).toMatch(/^malformed key log line 2: expected 3 fields/);
    expect(log.warnings[0]!.location.file).toBe('keys.log');
    const a = log.connections.get(RANDOM_A)!;
    expect(a.masterSecret).toBeDefined();
    expect(a.clientTrafficSecret0).toBeUndefined();
    expect(a.serverTrafficSecret0![0]).toBe(9);
  });

  test('pcapng Decryption Secrets Blocks and merging', () => {
    const dsb = Buffer.from(`CLIENT_RANDOM ${RANDOM_A} ${'01'.repeat(48)}\n`);
    const fromCapture = keyLogFromCaptureSecrets([
      { type: SECRETS_TYPE.TLS_KEY_LOG, data: dsb },
      { type: SECRETS_TYPE.WIREGUARD_KEY_LOG, data: Buffer.from('ignored') },
    ]);
    expect(fromCapture.warnings).toEqual([]);
    expect(fromCapture.connections.size).toBe(1);
    const merged = mergeKeyLogs([fromCapture, parseKeyLog(`SERVER_TRAFFIC_SECRET_0 ${RANDOM_A} ${'09'.repeat(32)}`)]);
    expect(merged.connections.get(RANDOM_A)!.masterSecret).toBeDefined();
    expect(merged.connections.get(RANDOM_A)!.serverTrafficSecret0).toBeDefined();
  });
});
