/**
 * TLS key schedules for the AES-GCM suites a NIC offloads, plus the per-record
 * nonce and additional data.
 *
 * TLS 1.2 (RFC 5246 §5, §6.3; RFC 5288): PRF(master secret, "key expansion",
 * server_random ‖ client_random) gives client_key ‖ server_key ‖ client_salt ‖
 * server_salt (no MAC keys for GCM); the nonce is the 4-byte salt ‖ the record's
 * 8-byte explicit nonce; the additional data is seq ‖ type ‖ version ‖ length.
 *
 * TLS 1.3 (RFC 8446 §7): key and iv are HKDF-Expand-Label(traffic secret, "key"
 * / "iv", "", n); the nonce is iv XOR seq; the additional data is the record header.
 */
import { createHmac } from 'node:crypto';

export type TlsVersion = '1.2' | '1.3';
export type AeadAlgorithm = 'aes-128-gcm' | 'aes-256-gcm';
export type PrfHash = 'sha256' | 'sha384';

export interface CipherSuite {
  id: number;
  name: string;
  version: TlsVersion;
  aead: AeadAlgorithm;
  keyLength: 16 | 32;
  hash: PrfHash;
}

function suite(id: number, name: string, version: TlsVersion, aes256: boolean, hash: PrfHash): CipherSuite {
  return { id, name, version, aead: aes256 ? 'aes-256-gcm' : 'aes-128-gcm', keyLength: aes256 ? 32 : 16, hash };
}

/** The AES-GCM suites nicoff decrypts, by IANA number. */
export const CIPHER_SUITES: ReadonlyMap<number, CipherSuite> = new Map(
  [
    suite(0x009c, 'TLS_RSA_WITH_AES_128_GCM_SHA256', '1.2', false, 'sha256'),
    suite(0x009d, 'TLS_RSA_WITH_AES_256_GCM_SHA384', '1.2', true, 'sha384'),
    suite(0x009e, 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', '1.2', false, 'sha256'),
    suite(0x009f, 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384', '1.2', true, 'sha384'),
    suite(0x00a8, 'TLS_PSK_WITH_AES_128_GCM_SHA256', '1.2', false, 'sha256'),
    suite(0x00a9, 'TLS_PSK_WITH_AES_256_GCM_SHA384', '1.2', true, 'sha384'),
    suite(0xc02b, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', '1.2', false, 'sha256'),
    suite(0xc02c, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', '1.2', true, 'sha384'),
    suite(0xc02f, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', '1.2', false, 'sha256'),
    suite(0xc030, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', '1.2', true, 'sha384'),
    suite(0x1301, 'TLS_AES_128_GCM_SHA256', '1.3', false, 'sha256'),
    suite(0x1302, 'TLS_AES_256_GCM_SHA384', '1.3', true, 'sha384'),
  ].map((s) => [s.id, s]),
);

export function hashLength(hash: PrfHash): 32 | 48 {
  return hash === 'sha256' ? 32 : 48;
}

/** Key material for one direction: the AES key and the IV (4-byte salt in TLS 1.2, 12 bytes in 1.3). */
export interface TrafficKeys {
  key: Buffer;
  iv: Buffer;
}

// ---------------------------------------------------------------- TLS 1.2

/** P_hash(secret, seed) truncated to `length` bytes (RFC 5246 §5). */
export function pHash(hash: PrfHash, secret: Uint8Array, seed: Uint8Array, length: number): Buffer {
  const out: Buffer[] = [];
  let produced = 0;
  let a: Buffer = Buffer.from(seed);
  while (produced < length) {
    a = createHmac(hash, secret).update(a).digest();
    const block = createHmac(hash, secret).update(a).update(seed).digest();
    out.push(block);
    produced += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** PRF(secret, label, seed) = P_hash(secret, label ‖ seed). */
export function tls12Prf(hash: PrfHash, secret: Uint8Array, label: string, seed: Uint8Array, length: number): Buffer {
  return pHash(hash, secret, Buffer.concat([Buffer.from(label, 'latin1'), seed]), length);
}

/** master_secret = PRF(pre_master_secret, "master secret", client_random ‖ server_random)[0..48). */
export function tls12MasterSecret(
  hash: PrfHash,
  preMasterSecret: Uint8Array,
  clientRandom: Uint8Array,
  serverRandom: Uint8Array,
): Buffer {
  return tls12Prf(hash, preMasterSecret, 'master secret', Buffer.concat([clientRandom, serverRandom]), 48);
}

/** The plain-PSK premaster secret (RFC 4279 §2): uint16(N) ‖ N zeros ‖ uint16(N) ‖ psk. */
export function pskPreMasterSecret(psk: Uint8Array): Buffer {
  const n = psk.length;
  const out = Buffer.alloc(4 + 2 * n);
  out.writeUInt16BE(n, 0);
  out.writeUInt16BE(n, 2 + n);
  out.set(psk, 4 + n);
  return out;
}

/** Client and server write keys and implicit IVs (salts) of an AES-GCM TLS 1.2 suite. */
export function tls12TrafficKeys(
  cipherSuite: CipherSuite,
  masterSecret: Uint8Array,
  clientRandom: Uint8Array,
  serverRandom: Uint8Array,
): { client: TrafficKeys; server: TrafficKeys } {
  const k = cipherSuite.keyLength;
  const seed = Buffer.concat([serverRandom, clientRandom]);
  const block = tls12Prf(cipherSuite.hash, masterSecret, 'key expansion', seed, 2 * k + 8);
  return {
    client: { key: block.subarray(0, k), iv: block.subarray(2 * k, 2 * k + 4) },
    server: { key: block.subarray(k, 2 * k), iv: block.subarray(2 * k + 4, 2 * k + 8) },
  };
}

/** TLS 1.2 GCM nonce: salt(4) ‖ explicit nonce(8) taken from the record. */
export function tls12Nonce(salt: Uint8Array, explicitNonce: Uint8Array): Buffer {
  if (salt.length !== 4 || explicitNonce.length !== 8) {
    throw new RangeError(`TLS 1.2 GCM nonce needs a 4-byte salt and 8-byte explicit nonce`);
  }
  return Buffer.concat([salt, explicitNonce]);
}

/** TLS 1.2 additional data: seq_num(8) ‖ type(1) ‖ version(2) ‖ plaintext length(2). */
export function tls12AdditionalData(seq: bigint, contentType: number, version: number, plaintextLength: number): Buffer {
  const aad = Buffer.alloc(13);
  aad.writeBigUInt64BE(seq, 0);
  aad[8] = contentType;
  aad.writeUInt16BE(version, 9);
  aad.writeUInt16BE(plaintextLength, 11);
  return aad;
}

// ---------------------------------------------------------------- TLS 1.3

/** HKDF-Expand (RFC 5869 §2.3). */
export function hkdfExpand(hash: PrfHash, prk: Uint8Array, info: Uint8Array, length: number): Buffer {
  const out: Buffer[] = [];
  let previous: Buffer = Buffer.alloc(0);
  let produced = 0;
  for (let counter = 1; produced < length; counter++) {
    previous = createHmac(hash, prk).update(previous).update(info).update(Buffer.of(counter)).digest();
    out.push(previous);
    produced += previous.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** HKDF-Expand-Label(secret, label, context, length) with the "tls13 " prefix (RFC 8446 §7.1). */
export function hkdfExpandLabel(
  hash: PrfHash,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([
    Buffer.of(length >> 8, length & 0xff, fullLabel.length),
    fullLabel,
    Buffer.of(context.length),
    context,
  ]);
  return hkdfExpand(hash, secret, info, length);
}

/** Write key and iv for a TLS 1.3 traffic secret. */
export function tls13TrafficKeys(cipherSuite: CipherSuite, trafficSecret: Uint8Array): TrafficKeys {
  const empty = new Uint8Array(0);
  return {
    key: hkdfExpandLabel(cipherSuite.hash, trafficSecret, 'key', empty, cipherSuite.keyLength),
    iv: hkdfExpandLabel(cipherSuite.hash, trafficSecret, 'iv', empty, 12),
  };
}

/** The next traffic secret after a KeyUpdate: HKDF-Expand-Label(secret, "traffic upd", "", HashLen). */
export function tls13NextTrafficSecret(hash: PrfHash, trafficSecret: Uint8Array): Buffer {
  return hkdfExpandLabel(hash, trafficSecret, 'traffic upd', new Uint8Array(0), hashLength(hash));
}

/** TLS 1.3 nonce: iv XOR (0^32 ‖ seq as 64-bit big-endian). */
export function tls13Nonce(iv: Uint8Array, seq: bigint): Buffer {
  if (iv.length !== 12) throw new RangeError(`TLS 1.3 iv is ${iv.length} bytes, not 12`);
  const nonce = Buffer.from(iv);
  const seqBytes = Buffer.alloc(8);
  seqBytes.writeBigUInt64BE(seq, 0);
  for (let i = 0; i < 8; i++) nonce[4 + i] = nonce[4 + i]! ^ seqBytes[i]!;
  return nonce;
}

/** TLS 1.3 additional data: the 5-byte record header. */
export function tls13AdditionalData(recordHeader: Uint8Array): Buffer {
  if (recordHeader.length !== 5) throw new RangeError(`a TLS record header is 5 bytes, not ${recordHeader.length}`);
  return Buffer.from(recordHeader);
}
