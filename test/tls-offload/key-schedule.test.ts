/**
 * Key schedule unit tests: TLS 1.3 against RFC 8448 §3 (Simple 1-RTT
 * Handshake), the TLS 1.2 PRF against OpenSSL's TLS1-PRF (`openssl kdf`).
 */
import { describe, test, expect } from '@jest/globals';
import {
  CIPHER_SUITES,
  hkdfExpandLabel,
  tls12AdditionalData,
  tls12Nonce,
  tls12Prf,
  tls12TrafficKeys,
  tls13AdditionalData,
  tls13NextTrafficSecret,
  tls13Nonce,
  tls13TrafficKeys,
  type CipherSuite,
} from '../../src/tls-offload/key-schedule.js';
import { openAeadRecord } from '../../src/tls-offload/software-decrypt.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const suiteById = (id: number): CipherSuite => {
  const found = CIPHER_SUITES.get(id);
  if (!found) throw new Error(`no suite 0x${id.toString(16)}`);
  return found;
};
const TLS_AES_128_GCM_SHA256 = suiteById(0x1301);

describe('TLS 1.3 key schedule (RFC 8448 §3)', () => {
  // {client} derive secret "tls13 c ap traffic"
  const clientApplicationSecret = hex('9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5');

  test('client application write key and iv from the traffic secret', () => {
    const keys = tls13TrafficKeys(TLS_AES_128_GCM_SHA256, clientApplicationSecret);
    expect(keys.key.toString('hex')).toBe('17422dda596ed5d9acd890e3c63f5051');
    expect(keys.iv.toString('hex')).toBe('5b78923dee08579033e523d9');
  });

  test('the client application_data record decrypts with seq 0 (nonce = iv, AAD = header)', () => {
    const record = hex(`1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b
      9819a8a5b46b395bd54a9a20441e2b62974e1f5a6292a2977014bd1e3deae63aee bb21694915e4`);
    const keys = tls13TrafficKeys(TLS_AES_128_GCM_SHA256, clientApplicationSecret);
    const body = record.subarray(5);
    const plaintext = openAeadRecord(
      'aes-128-gcm',
      keys.key,
      tls13Nonce(keys.iv, 0n),
      tls13AdditionalData(record.subarray(0, 5)),
      body.subarray(0, body.length - 16),
      body.subarray(body.length - 16),
    );
    expect(plaintext).toBeDefined();
    // TLSInnerPlaintext: the 50 bytes 00..31, then content type 23.
    const expected = Buffer.concat([Buffer.from(Array.from({ length: 50 }, (_, i) => i)), Buffer.of(23)]);
    expect(plaintext!.toString('hex')).toBe(expected.toString('hex'));
    // The same record with seq 1 fails its tag.
    expect(
      openAeadRecord('aes-128-gcm', keys.key, tls13Nonce(keys.iv, 1n), record.subarray(0, 5), body.subarray(0, body.length - 16), body.subarray(body.length - 16)),
    ).toBeUndefined();
  });

  test('HKDF-Expand-Label info encoding: "tls13 key" / "tls13 iv" with an empty context', () => {
    // With n <= HashLen, HKDF-Expand-Label is HMAC(secret, info || 0x01) truncated.
    const direct = hkdfExpandLabel('sha256', clientApplicationSecret, 'key', new Uint8Array(0), 16);
    expect(direct.toString('hex')).toBe('17422dda596ed5d9acd890e3c63f5051');
  });

  test('nonce is iv XOR the 64-bit sequence number in the last 8 bytes', () => {
    const iv = hex('5b78923dee08579033e523d9');
    expect(tls13Nonce(iv, 0n).toString('hex')).toBe('5b78923dee08579033e523d9');
    expect(tls13Nonce(iv, 1n).toString('hex')).toBe('5b78923dee08579033e523d8');
    expect(tls13Nonce(iv, 0x0102030405060708n).toString('hex')).toBe('5b78923def0a549436e324d1');
  });

  test('KeyUpdate derives a new secret of hash length and new keys', () => {
    const next = tls13NextTrafficSecret('sha256', clientApplicationSecret);
    expect(next.length).toBe(32);
    expect(next.equals(hkdfExpandLabel('sha256', clientApplicationSecret, 'traffic upd', new Uint8Array(0), 32))).toBe(true);
    expect(tls13TrafficKeys(TLS_AES_128_GCM_SHA256, next).key.equals(tls13TrafficKeys(TLS_AES_128_GCM_SHA256, clientApplicationSecret).key)).toBe(false);
    expect(tls13NextTrafficSecret('sha384', hex('00'.repeat(48))).length).toBe(48);
  });

  test('AES-256-GCM / SHA-384 suite gives 32-byte keys', () => {
    const keys = tls13TrafficKeys(suiteById(0x1302), hex('11'.repeat(48)));
    expect(keys.key.length).toBe(32);
    expect(keys.iv.length).toBe(12);
  });
});

describe('TLS 1.2 key schedule', () => {
  test('PRF with SHA-256 matches OpenSSL TLS1-PRF', () => {
    const out = tls12Prf('sha256', hex('9bbe436ba940f017b17652849a71db35'), 'test label', hex('a0ba9f936cda311827a6f796ffd5198c'), 100);
    expect(out.toString('hex')).toBe(
      'e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab' +
        '4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66',
    );
  });

  test('PRF with SHA-384 matches OpenSSL TLS1-PRF', () => {
    const out = tls12Prf('sha384', hex('b80b733d6ceefcdc71566ea48e5567df'), 'test label', hex('cd665cf6a8447dd6ff8b27555edb7465'), 148);
    expect(out.toString('hex')).toBe(
      '7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cde9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd' +
        '8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d9184259b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6' +
        '91c8f3a26854308d5eaa3be85e0990703d73e56f',
    );
  });

  test('key block split: client key, server key, client salt, server salt', () => {
    const master = hex('42'.repeat(48));
    const clientRandom = hex('01'.repeat(32));
    const serverRandom = hex('02'.repeat(32));
    for (const [id, k] of [[0xc02f, 16], [0xc030, 32]] as const) {
      const suite = suiteById(id);
      const block = tls12Prf(suite.hash, master, 'key expansion', Buffer.concat([serverRandom, clientRandom]), 2 * k + 8);
      const keys = tls12TrafficKeys(suite, master, clientRandom, serverRandom);
      expect(keys.client.key.equals(block.subarray(0, k))).toBe(true);
      expect(keys.server.key.equals(block.subarray(k, 2 * k))).toBe(true);
      expect(keys.client.iv.equals(block.subarray(2 * k, 2 * k + 4))).toBe(true);
      expect(keys.server.iv.equals(block.subarray(2 * k + 4, 2 * k + 8))).toBe(true);
    }
    expect(suiteById(0xc030).hash).toBe('sha384');
  });

  test('nonce and additional data layout', () => {
    expect(tls12Nonce(hex('a1a2a3a4'), hex('0001020304050607')).toString('hex')).toBe('a1a2a3a40001020304050607');
    expect(tls12AdditionalData(1n, 23, 0x0303, 0x1234).toString('hex')).toBe('0000000000000001' + '17' + '0303' + '1234');
    expect(() => tls12Nonce(hex('a1a2a3'), hex('0001020304050607'))).toThrow(RangeError);
  });
});
