/**
 * The software decryption path: every TLS connection of a capture, both
 * directions, decrypted record by record with node:crypto AES-GCM (tag checked).
 * This is the host's view and the reference the NIC model is compared with.
 *
 * The pieces are shared with the replay (tls-replay.ts, host-tls-stack.ts):
 * `identifyTlsSession` finds a connection's hellos, cipher suite and keys;
 * `RecordDecryptor` walks one direction's records in stream order (TLS 1.2
 * ChangeCipherSpec, TLS 1.3 key phases and KeyUpdate) and opens each one in
 * software, or accepts a plaintext whose tag was verified elsewhere (the NIC).
 */
import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv, type Cipher } from 'node:crypto';
import type { Capture } from '../pcap/index.js';
import { makeDiagnostic, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { ConnectionSecrets, KeyLog } from './keylog.js';
import {
  CIPHER_SUITES,
  pskPreMasterSecret,
  tls12AdditionalData,
  tls12MasterSecret,
  tls12Nonce,
  tls12TrafficKeys,
  tls13AdditionalData,
  tls13NextTrafficSecret,
  tls13Nonce,
  tls13TrafficKeys,
  type AeadAlgorithm,
  type CipherSuite,
  type TrafficKeys,
} from './key-schedule.js';
import {
  reassembleStream,
  tcpConnections,
  directionName,
  type ReassembledStream,
  type TcpConnection,
  type TcpDirection,
} from './tcp-flows.js';
import {
  CONTENT_TYPE,
  HANDSHAKE_TYPE,
  HandshakeReader,
  parseClientHello,
  parseServerHello,
  plaintextHandshake,
  splitRecords,
  type ClientHello,
  type ServerHello,
  type SplitRecords,
  type TlsRecord,
} from './tls-records.js';

export const GCM_TAG_LENGTH = 16;

/**
 * An AES-CTR cipher that produces the keystream of GCM record ciphertext from
 * byte `offset` on: GCM encrypts with CTR from the counter block
 * nonce ‖ 00000002, so byte o uses counter 2 + ⌊o/16⌋ after o mod 16 bytes of
 * that block. XOR with it turns the NIC's plaintext pieces back into wire
 * ciphertext (host stack, mixed records) and encrypts a segment resumed
 * mid-record (transmit model).
 */
export function gcmKeystreamAt(aead: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, offset: number): Cipher {
  const counterBlock = Buffer.alloc(16);
  counterBlock.set(nonce.subarray(0, 12), 0);
  counterBlock.writeUInt32BE((2 + Math.floor(offset / 16)) >>> 0, 12);
  const cipher = createCipheriv(aead === 'aes-128-gcm' ? 'aes-128-ctr' : 'aes-256-ctr', key, counterBlock);
  const skip = offset % 16;
  if (skip) cipher.update(Buffer.alloc(skip));
  return cipher;
}
export const TLS12_EXPLICIT_NONCE_LENGTH = 8;

/** Decrypt one AES-GCM record body; undefined when the tag does not verify. */
export function openAeadRecord(
  aead: AeadAlgorithm,
  key: Uint8Array,
  nonce: Uint8Array,
  additionalData: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
): Buffer | undefined {
  const decipher = createDecipheriv(aead, key, nonce, { authTagLength: GCM_TAG_LENGTH });
  decipher.setAAD(additionalData);
  decipher.setAuthTag(tag);
  const head = decipher.update(ciphertext);
  try {
    const tail = decipher.final();
    return tail.length ? Buffer.concat([head, tail]) : head;
  } catch {
    return undefined;
  }
}

/** Which key a record was opened with (TLS 1.2 has only 'application'). */
export type KeyPhase = 'early' | 'handshake' | 'application';

export interface DecryptedRecord {
  /** Stream offset of the record header. */
  offset: number;
  /** Content type: the outer one in TLS 1.2, the inner (real) one in TLS 1.3. */
  contentType: number;
  phase: KeyPhase;
  /** Sequence number used in the nonce / additional data. */
  seq: bigint;
  /** Key generation: 0 until the first KeyUpdate. */
  keyGeneration: number;
  plaintext: Buffer;
}

export interface DirectionDecryption {
  flow: string;
  stream: ReassembledStream;
  records: DecryptedRecord[];
  /** Application data plaintext, records concatenated in order (0-RTT data included). */
  applicationData: Buffer;
  applicationRecords: number;
  /** NC7005 per record whose tag failed. */
  authFailures: Diagnostic[];
  /** Bytes after the last whole record. */
  trailingBytes: number;
}

export interface TlsSession {
  connection: string;
  client: TcpDirection;
  server: TcpDirection;
  clientHello: ClientHello;
  serverHello: ServerHello;
  cipherSuite: CipherSuite;
  clientToServer: DirectionDecryption;
  serverToClient: DirectionDecryption;
}

export interface CaptureDecryption {
  sessions: TlsSession[];
  /** Connections that were recognised as TLS but could not be decrypted (no keys, unsupported suite, ...), and stream gaps. */
  problems: Diagnostic[];
}

export interface DecryptOptions {
  keyLog: KeyLog;
  /**
   * Pre-shared key for plain-PSK TLS 1.2 suites (like tshark's tls.psk), used
   * when the key log has no master secret for the connection. Sessions with
   * extended_master_secret are not supported this way.
   */
  psk?: Uint8Array;
}

const EXTENDED_MASTER_SECRET_EXTENSION = 23;

// ---------------------------------------------------------------- one direction's records

interface Tls13Phase {
  phase: KeyPhase;
  secret: Uint8Array;
}

/** The keys of one direction: TLS 1.2 traffic keys, or the TLS 1.3 key phases in order. */
export type DirectionKeys =
  | { version: '1.2'; keys: TrafficKeys }
  | { version: '1.3'; phases: readonly Tls13Phase[] };

/** The AEAD inputs of one protected record under a decryptor's current state. */
export interface RecordCrypto {
  key: Buffer;
  nonce: Buffer;
  additionalData: Buffer;
  /** Bytes of the fragment before the ciphertext: 8 (TLS 1.2 explicit nonce) or 0. */
  ciphertextStart: number;
  seq: bigint;
  phase: KeyPhase;
}

export type OpenResult = { ok: true; record: DecryptedRecord } | { ok: false; seq: bigint };

/** Strip TLSInnerPlaintext padding: content ‖ type ‖ zeros. */
export function innerPlaintext(plaintext: Buffer): { contentType: number; content: Buffer } | undefined {
  let end = plaintext.length;
  while (end > 0 && plaintext[end - 1] === 0) end--;
  if (end === 0) return undefined;
  return { contentType: plaintext[end - 1]!, content: plaintext.subarray(0, end - 1) };
}

/**
 * One direction's record protection, walked in stream order. TLS 1.2: the
 * records after the direction's ChangeCipherSpec, seq from 0 (Finished). TLS
 * 1.3: encrypted records (outer type 23) go through the phases in order, each
 * with its own seq from 0: early (through EndOfEarlyData), handshake (through
 * Finished), then application (new secret and seq 0 at each KeyUpdate). A
 * record that fails under the early key is retried under the handshake key
 * (the client sent no 0-RTT data, or the key log lacks its secret).
 *
 * Call `isProtected` once per record, in stream order; for each protected
 * record then call exactly one of `open` (software) or `accept` (a plaintext
 * whose tag was verified elsewhere).
 */
export class RecordDecryptor {
  private encrypted = false;
  private phaseIndex = 0;
  private secret: Uint8Array | undefined;
  private keys: TrafficKeys;
  private sequence = 0n;
  private generation = 0;
  private handshake = new HandshakeReader();

  constructor(
    readonly cipherSuite: CipherSuite,
    private readonly directionKeys: DirectionKeys,
  ) {
    if (directionKeys.version === '1.2') {
      this.keys = directionKeys.keys;
    } else {
      this.secret = directionKeys.phases[0]!.secret;
      this.keys = tls13TrafficKeys(cipherSuite, this.secret);
    }
  }

  get version(): '1.2' | '1.3' {
    return this.directionKeys.version;
  }

  /** Sequence number the next protected record is opened with. */
  get seq(): bigint {
    return this.sequence;
  }

  get phase(): KeyPhase {
    return this.directionKeys.version === '1.2' ? 'application' : this.directionKeys.phases[this.phaseIndex]!.phase;
  }

  get keyGeneration(): number {
    return this.generation;
  }

  /** The current traffic keys (TLS 1.3: of the current phase and generation). */
  get trafficKeys(): TrafficKeys {
    return this.keys;
  }

  /** Whether the record is protected; a TLS 1.2 ChangeCipherSpec switches protection on for the records after it. */
  isProtected(record: TlsRecord): boolean {
    if (this.directionKeys.version === '1.3') return record.contentType === CONTENT_TYPE.APPLICATION_DATA;
    if (this.encrypted) return true;
    if (record.contentType === CONTENT_TYPE.CHANGE_CIPHER_SPEC) this.encrypted = true;
    return false;
  }

  /** The AEAD inputs for a protected record under the current state; undefined when the fragment is too short to hold a tag. */
  crypto(record: TlsRecord): RecordCrypto | undefined {
    const fragment = record.fragment;
    if (this.directionKeys.version === '1.2') {
      if (fragment.length < TLS12_EXPLICIT_NONCE_LENGTH + GCM_TAG_LENGTH) return undefined;
      const plaintextLength = fragment.length - TLS12_EXPLICIT_NONCE_LENGTH - GCM_TAG_LENGTH;
      return {
        key: this.keys.key,
        nonce: tls12Nonce(this.keys.iv, fragment.subarray(0, TLS12_EXPLICIT_NONCE_LENGTH)),
        additionalData: tls12AdditionalData(this.sequence, record.contentType, record.version, plaintextLength),
        ciphertextStart: TLS12_EXPLICIT_NONCE_LENGTH,
        seq: this.sequence,
        phase: 'application',
      };
    }
    if (fragment.length < GCM_TAG_LENGTH) return undefined;
    return {
      key: this.keys.key,
      nonce: tls13Nonce(this.keys.iv, this.sequence),
      additionalData: tls13AdditionalData(record.header),
      ciphertextStart: 0,
      seq: this.sequence,
      phase: this.phase,
    };
  }

  private tryOpen(record: TlsRecord): Buffer | undefined {
    const c = this.crypto(record);
    if (!c) return undefined;
    const fragment = record.fragment;
    return openAeadRecord(
      this.cipherSuite.aead,
      c.key,
      c.nonce,
      c.additionalData,
      fragment.subarray(c.ciphertextStart, fragment.length - GCM_TAG_LENGTH),
      fragment.subarray(fragment.length - GCM_TAG_LENGTH),
    );
  }

  /** Decrypt a protected record in software (tag checked). A failed record still uses up its sequence number. */
  open(record: TlsRecord): OpenResult {
    let plaintext = this.tryOpen(record);
    if (
      !plaintext &&
      this.directionKeys.version === '1.3' &&
      this.phase === 'early' &&
      this.phaseIndex + 1 < this.directionKeys.phases.length
    ) {
      this.enterPhase(this.phaseIndex + 1);
      plaintext = this.tryOpen(record);
    }
    if (!plaintext) return this.fail();
    return this.accept(record, plaintext);
  }

  /**
   * Take the AEAD plaintext of a protected record whose tag was verified
   * elsewhere (TLS 1.3: the whole TLSInnerPlaintext) and advance the state.
   */
  accept(record: TlsRecord, plaintext: Buffer): OpenResult {
    if (this.directionKeys.version === '1.2') {
      const out: DecryptedRecord = {
        offset: record.offset,
        contentType: record.contentType,
        phase: 'application',
        seq: this.sequence,
        keyGeneration: 0,
        plaintext,
      };
      this.sequence++;
      return { ok: true, record: out };
    }
    const inner = innerPlaintext(plaintext);
    if (!inner) return this.fail();
    const phase = this.phase;
    const out: DecryptedRecord = {
      offset: record.offset,
      contentType: inner.contentType,
      phase,
      seq: this.sequence,
      keyGeneration: this.generation,
      plaintext: inner.content,
    };
    this.sequence++;
    if (inner.contentType === CONTENT_TYPE.HANDSHAKE) {
      for (const message of this.handshake.push(inner.content)) {
        if (phase === 'early' && message.type === HANDSHAKE_TYPE.END_OF_EARLY_DATA) this.enterPhase(this.phaseIndex + 1);
        else if (phase === 'handshake' && message.type === HANDSHAKE_TYPE.FINISHED) this.enterPhase(this.phaseIndex + 1);
        else if (phase === 'application' && message.type === HANDSHAKE_TYPE.KEY_UPDATE) {
          this.secret = tls13NextTrafficSecret(this.cipherSuite.hash, this.secret!);
          this.keys = tls13TrafficKeys(this.cipherSuite, this.secret);
          this.sequence = 0n;
          this.generation++;
        }
      }
    }
    return { ok: true, record: out };
  }

  private fail(): OpenResult {
    const seq = this.sequence;
    this.sequence++;
    return { ok: false, seq };
  }

  private enterPhase(index: number): void {
    if (this.directionKeys.version !== '1.3') return;
    this.phaseIndex = index;
    this.secret = this.directionKeys.phases[index]!.secret;
    this.keys = tls13TrafficKeys(this.cipherSuite, this.secret);
    this.sequence = 0n;
    this.handshake = new HandshakeReader();
  }
}

function tls13Phases(secrets: ConnectionSecrets, side: 'client' | 'server', offersEarlyData: boolean): Tls13Phase[] | undefined {
  const handshake = side === 'client' ? secrets.clientHandshakeTrafficSecret : secrets.serverHandshakeTrafficSecret;
  const application = side === 'client' ? secrets.clientTrafficSecret0 : secrets.serverTrafficSecret0;
  if (!handshake || !application) return undefined;
  const phases: Tls13Phase[] = [];
  if (side === 'client' && offersEarlyData && secrets.clientEarlyTrafficSecret) {
    phases.push({ phase: 'early', secret: secrets.clientEarlyTrafficSecret });
  }
  phases.push({ phase: 'handshake', secret: handshake }, { phase: 'application', secret: application });
  return phases;
}

// ---------------------------------------------------------------- one connection's handshake and keys

function startsWithClientHello(stream: Uint8Array): boolean {
  return stream.length >= 6 && stream[0] === CONTENT_TYPE.HANDSHAKE && stream[1] === 3 && stream[5] === HANDSHAKE_TYPE.CLIENT_HELLO;
}

/** The two directions of a TLS connection, client first, with their reassembled streams and records. */
export interface TlsConnectionSides {
  client: TcpDirection;
  server: TcpDirection;
  clientFlow: string;
  serverFlow: string;
  clientStream: ReassembledStream;
  serverStream: ReassembledStream;
  /** NC7006 for each direction that stops at a hole. */
  gaps: Diagnostic[];
}

/** A connection whose hellos, suite and keys were all found. */
export interface TlsSessionSetup extends TlsConnectionSides {
  clientRecords: SplitRecords;
  serverRecords: SplitRecords;
  clientHello: ClientHello;
  serverHello: ServerHello;
  cipherSuite: CipherSuite;
  clientKeys: DirectionKeys;
  serverKeys: DirectionKeys;
}

export type SessionIdentification =
  /** Neither direction starts with a ClientHello. */
  | { kind: 'not-tls' }
  /** A ClientHello, but no usable ServerHello (NC7002), an unsupported suite (NC7003), or no keys (NC7004). */
  | { kind: 'no-handshake' | 'unsupported-cipher' | 'no-keys'; sides: TlsConnectionSides; problem: Diagnostic; cipherSuite?: CipherSuite }
  | { kind: 'session'; setup: TlsSessionSetup };

/**
 * Find a connection's ClientHello and ServerHello, the negotiated suite, and
 * each direction's keys from the key log (or a TLS 1.2 PSK). `firstStream` and
 * `secondStream` are the reassembled streams of `connection.first` / `.second`.
 * Throws NC7002 for a stream that starts like TLS but holds a malformed record header.
 */
export function identifyTlsSession(
  connection: TcpConnection,
  firstStream: ReassembledStream,
  secondStream: ReassembledStream,
  options: DecryptOptions,
): SessionIdentification {
  let client = connection.first;
  let server = connection.second;
  let clientStream = firstStream;
  let serverStream = secondStream;
  if (!startsWithClientHello(firstStream.bytes)) {
    if (!startsWithClientHello(secondStream.bytes)) return { kind: 'not-tls' }; // not TLS (or the hello was not captured)
    [client, server, clientStream, serverStream] = [server, client, serverStream, clientStream];
  }
  const clientFlow = directionName(client);
  const serverFlow = directionName(server);
  const gaps: Diagnostic[] = [];
  for (const [flow, stream] of [[clientFlow, clientStream], [serverFlow, serverStream]] as const) {
    if (stream.gapAt !== undefined) {
      gaps.push(makeDiagnostic('NC7006', { flow, offset: stream.gapAt, after: stream.bytesAfterGap }));
    }
  }
  const sides: TlsConnectionSides = { client, server, clientFlow, serverFlow, clientStream, serverStream, gaps };
  const clientRecords = splitRecords(clientStream.bytes, clientFlow);
  const serverRecords = splitRecords(serverStream.bytes, serverFlow);
  const clientHelloMessage = plaintextHandshake(clientRecords.records).find((m) => m.type === HANDSHAKE_TYPE.CLIENT_HELLO);
  const serverHelloMessage = plaintextHandshake(serverRecords.records)
    .filter((m) => m.type === HANDSHAKE_TYPE.SERVER_HELLO)
    .map((m) => parseServerHello(m.body, serverFlow))
    .filter((hello) => !hello.isHelloRetryRequest)
    .at(-1);
  if (!clientHelloMessage || !serverHelloMessage) {
    const problem = makeDiagnostic('NC7002', { what: 'handshake', flow: connection.name, reason: 'no complete ClientHello and ServerHello' });
    return { kind: 'no-handshake', sides, problem };
  }
  const clientHello = parseClientHello(clientHelloMessage.body, clientFlow);
  const serverHello = serverHelloMessage;
  const cipherSuite = CIPHER_SUITES.get(serverHello.cipherSuite);
  const negotiated = serverHello.version === 0x0304 ? '1.3' : serverHello.version === 0x0303 ? '1.2' : undefined;
  if (!cipherSuite || cipherSuite.version !== negotiated) {
    const problem = makeDiagnostic('NC7003', { suite: `0x${serverHello.cipherSuite.toString(16).padStart(4, '0')}`, flow: connection.name });
    return { kind: 'unsupported-cipher', sides, problem };
  }
  const randomHex = Buffer.from(clientHello.random).toString('hex');
  const secrets = options.keyLog.connections.get(randomHex);
  let clientKeys: DirectionKeys | undefined;
  let serverKeys: DirectionKeys | undefined;
  let masterSecret = secrets?.masterSecret;
  if (
    !masterSecret &&
    options.psk &&
    cipherSuite.version === '1.2' &&
    cipherSuite.name.startsWith('TLS_PSK_') &&
    !serverHello.extensions.has(EXTENDED_MASTER_SECRET_EXTENSION)
  ) {
    masterSecret = tls12MasterSecret(cipherSuite.hash, pskPreMasterSecret(options.psk), clientHello.random, serverHello.random);
  }
  if (cipherSuite.version === '1.2' && masterSecret) {
    const keys = tls12TrafficKeys(cipherSuite, masterSecret, clientHello.random, serverHello.random);
    clientKeys = { version: '1.2', keys: keys.client };
    serverKeys = { version: '1.2', keys: keys.server };
  } else if (secrets && cipherSuite.version === '1.3') {
    const clientPhases = tls13Phases(secrets, 'client', clientHello.offersEarlyData);
    const serverPhases = tls13Phases(secrets, 'server', false);
    if (clientPhases && serverPhases) {
      clientKeys = { version: '1.3', phases: clientPhases };
      serverKeys = { version: '1.3', phases: serverPhases };
    }
  }
  if (!clientKeys || !serverKeys) {
    return { kind: 'no-keys', sides, cipherSuite, problem: makeDiagnostic('NC7004', { random: randomHex, flow: connection.name }) };
  }
  return {
    kind: 'session',
    setup: { ...sides, clientRecords, serverRecords, clientHello, serverHello, cipherSuite, clientKeys, serverKeys },
  };
}

// ---------------------------------------------------------------- whole captures

function authFailure(flow: string, record: TlsRecord, seq: bigint): Diagnostic {
  return makeDiagnostic('NC7005', { record: `at stream offset ${record.offset} (seq ${seq})`, flow });
}

/** Open every protected record of one direction in software. */
function decryptDirection(
  cipherSuite: CipherSuite,
  keys: DirectionKeys,
  flow: string,
  stream: ReassembledStream,
  split: SplitRecords,
): DirectionDecryption {
  const result: DirectionDecryption = {
    flow,
    stream,
    records: [],
    applicationData: Buffer.alloc(0),
    applicationRecords: 0,
    authFailures: [],
    trailingBytes: split.trailingBytes,
  };
  const decryptor = new RecordDecryptor(cipherSuite, keys);
  for (const record of split.records) {
    if (!decryptor.isProtected(record)) continue; // hellos, CCS, plaintext alerts
    const opened = decryptor.open(record);
    if (opened.ok) result.records.push(opened.record);
    else result.authFailures.push(authFailure(flow, record, opened.seq));
  }
  const application = result.records.filter((r) => r.contentType === CONTENT_TYPE.APPLICATION_DATA);
  result.applicationRecords = application.length;
  result.applicationData = Buffer.concat(application.map((r) => r.plaintext));
  return result;
}

/** Decrypt every TLS connection in the capture with the key log's secrets. */
export function decryptCapture(capture: Capture, options: DecryptOptions): CaptureDecryption {
  const sessions: TlsSession[] = [];
  const problems: Diagnostic[] = [];
  for (const connection of tcpConnections(capture)) {
    const identified = identifyTlsSession(connection, reassembleStream(connection.first), reassembleStream(connection.second), options);
    if (identified.kind === 'not-tls') continue;
    problems.push(...identified.kind === 'session' ? identified.setup.gaps : identified.sides.gaps);
    if (identified.kind !== 'session') {
      problems.push(identified.problem);
      continue;
    }
    const s = identified.setup;
    sessions.push({
      connection: connection.name,
      client: s.client,
      server: s.server,
      clientHello: s.clientHello,
      serverHello: s.serverHello,
      cipherSuite: s.cipherSuite,
      clientToServer: decryptDirection(s.cipherSuite, s.clientKeys, s.clientFlow, s.clientStream, s.clientRecords),
      serverToClient: decryptDirection(s.cipherSuite, s.serverKeys, s.serverFlow, s.serverStream, s.serverRecords),
    });
  }
  return { sessions, problems };
}
