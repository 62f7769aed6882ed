/**
 * The software decryption path: every TLS connection of a capture, both
 * directions, decrypted record by record with node:crypto AES-GCM (tag checked).
 * This is the host's view and the reference the NIC model is compared with.
 */
import { createDecipheriv } from 'node:crypto';
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
  type TlsRecord,
} from './tls-records.js';

const GCM_TAG_LENGTH = 16;
const TLS12_EXPLICIT_NONCE_LENGTH = 8;

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

function startsWithClientHello(stream: Uint8Array): boolean {
  return stream.length >= 6 && stream[0] === CONTENT_TYPE.HANDSHAKE && stream[1] === 3 && stream[5] === HANDSHAKE_TYPE.CLIENT_HELLO;
}

function emptyDirection(flow: string, stream: ReassembledStream, trailingBytes: number): DirectionDecryption {
  return { flow, stream, records: [], applicationData: Buffer.alloc(0), applicationRecords: 0, authFailures: [], trailingBytes };
}

function finishDirection(result: DirectionDecryption): DirectionDecryption {
  const application = result.records.filter((r) => r.contentType === CONTENT_TYPE.APPLICATION_DATA);
  result.applicationRecords = application.length;
  result.applicationData = Buffer.concat(application.map((r) => r.plaintext));
  return result;
}

function authFailure(flow: string, record: TlsRecord, seq: bigint): Diagnostic {
  return makeDiagnostic('NC7005', { record: `at stream offset ${record.offset} (seq ${seq})`, flow });
}

/** TLS 1.2: records after the direction's ChangeCipherSpec, seq from 0 (Finished). */
function decryptTls12Direction(
  cipherSuite: CipherSuite,
  keys: TrafficKeys,
  records: TlsRecord[],
  result: DirectionDecryption,
): void {
  let encrypted = false;
  let seq = 0n;
  for (const record of records) {
    if (!encrypted) {
      if (record.contentType === CONTENT_TYPE.CHANGE_CIPHER_SPEC) encrypted = true;
      continue;
    }
    const fragment = record.fragment;
    if (fragment.length < TLS12_EXPLICIT_NONCE_LENGTH + GCM_TAG_LENGTH) {
      result.authFailures.push(authFailure(result.flow, record, seq));
      seq++;
      continue;
    }
    const explicitNonce = fragment.subarray(0, TLS12_EXPLICIT_NONCE_LENGTH);
    const ciphertext = fragment.subarray(TLS12_EXPLICIT_NONCE_LENGTH, fragment.length - GCM_TAG_LENGTH);
    const tag = fragment.subarray(fragment.length - GCM_TAG_LENGTH);
    const aad = tls12AdditionalData(seq, record.contentType, record.version, ciphertext.length);
    const plaintext = openAeadRecord(cipherSuite.aead, keys.key, tls12Nonce(keys.iv, explicitNonce), aad, ciphertext, tag);
    if (plaintext) {
      result.records.push({ offset: record.offset, contentType: record.contentType, phase: 'application', seq, keyGeneration: 0, plaintext });
    } else {
      result.authFailures.push(authFailure(result.flow, record, seq));
    }
    seq++;
  }
}

/** Strip TLSInnerPlaintext padding: content ‖ type ‖ zeros. */
function innerPlaintext(plaintext: Buffer): { contentType: number; content: Buffer } | undefined {
  let end = plaintext.length;
  while (end > 0 && plaintext[end - 1] === 0) end--;
  if (end === 0) return undefined;
  return { contentType: plaintext[end - 1]!, content: plaintext.subarray(0, end - 1) };
}

interface Tls13Phase {
  phase: KeyPhase;
  secret: Uint8Array;
}

/**
 * TLS 1.3: encrypted records (outer type 23) go through the phases in order,
 * each with its own seq from 0: early (through EndOfEarlyData), handshake
 * (through Finished), then application (new secret and seq 0 at each KeyUpdate).
 * A record that fails under the early key is retried under the handshake key
 * (the client sent no 0-RTT data, or the key log lacks its secret).
 */
function decryptTls13Direction(
  cipherSuite: CipherSuite,
  phases: Tls13Phase[],
  records: TlsRecord[],
  result: DirectionDecryption,
): void {
  let phaseIndex = 0;
  let secret = phases[0]!.secret;
  let keys = tls13TrafficKeys(cipherSuite, secret);
  let seq = 0n;
  let keyGeneration = 0;
  let handshake = new HandshakeReader();
  const enterPhase = (index: number): void => {
    phaseIndex = index;
    secret = phases[index]!.secret;
    keys = tls13TrafficKeys(cipherSuite, secret);
    seq = 0n;
    handshake = new HandshakeReader();
  };
  const open = (record: TlsRecord): Buffer | undefined => {
    const fragment = record.fragment;
    if (fragment.length < GCM_TAG_LENGTH) return undefined;
    return openAeadRecord(
      cipherSuite.aead,
      keys.key,
      tls13Nonce(keys.iv, seq),
      tls13AdditionalData(record.header),
      fragment.subarray(0, fragment.length - GCM_TAG_LENGTH),
      fragment.subarray(fragment.length - GCM_TAG_LENGTH),
    );
  };
  for (const record of records) {
    if (record.contentType !== CONTENT_TYPE.APPLICATION_DATA) continue; // hellos, CCS, plaintext alerts
    let plaintext = open(record);
    if (!plaintext && phases[phaseIndex]!.phase === 'early' && phaseIndex + 1 < phases.length) {
      enterPhase(phaseIndex + 1);
      plaintext = open(record);
    }
    const inner = plaintext ? innerPlaintext(plaintext) : undefined;
    if (!inner) {
      result.authFailures.push(authFailure(result.flow, record, seq));
      seq++;
      continue;
    }
    const phase = phases[phaseIndex]!.phase;
    result.records.push({ offset: record.offset, contentType: inner.contentType, phase, seq, keyGeneration, plaintext: inner.content });
    seq++;
    if (inner.contentType !== CONTENT_TYPE.HANDSHAKE) continue;
    for (const message of handshake.push(inner.content)) {
      if (phase === 'early' && message.type === HANDSHAKE_TYPE.END_OF_EARLY_DATA) enterPhase(phaseIndex + 1);
      else if (phase === 'handshake' && message.type === HANDSHAKE_TYPE.FINISHED) enterPhase(phaseIndex + 1);
      else if (phase === 'application' && message.type === HANDSHAKE_TYPE.KEY_UPDATE) {
        secret = tls13NextTrafficSecret(cipherSuite.hash, secret);
        keys = tls13TrafficKeys(cipherSuite, secret);
        seq = 0n;
        keyGeneration++;
      }
    }
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

/** Decrypt every TLS connection in the capture with the key log's secrets. */
export function decryptCapture(capture: Capture, options: DecryptOptions): CaptureDecryption {
  const sessions: TlsSession[] = [];
  const problems: Diagnostic[] = [];
  for (const connection of tcpConnections(capture)) {
    const firstStream = reassembleStream(connection.first);
    const secondStream = reassembleStream(connection.second);
    let client = connection.first;
    let server = connection.second;
    let clientStream = firstStream;
    let serverStream = secondStream;
    if (!startsWithClientHello(firstStream.bytes)) {
      if (!startsWithClientHello(secondStream.bytes)) continue; // not TLS (or the hello was not captured)
      [client, server, clientStream, serverStream] = [server, client, serverStream, clientStream];
    }
    const clientFlow = directionName(client);
    const serverFlow = directionName(server);
    for (const [flow, stream] of [[clientFlow, clientStream], [serverFlow, serverStream]] as const) {
      if (stream.gapAt !== undefined) {
        problems.push(makeDiagnostic('NC7006', { flow, offset: stream.gapAt, after: stream.bytesAfterGap }));
      }
    }
    const clientRecords = splitRecords(clientStream.bytes, clientFlow);
    const serverRecords = splitRecords(serverStream.bytes, serverFlow);
    const clientHelloMessage = plaintextHandshake(clientRecords.records).find((m) => m.type === HANDSHAKE_TYPE.CLIENT_HELLO);
    const serverHelloMessage = plaintextHandshake(serverRecords.records)
      .filter((m) => m.type === HANDSHAKE_TYPE.SERVER_HELLO)
      .map((m) => parseServerHello(m.body, serverFlow))
      .filter((hello) => !hello.isHelloRetryRequest)
      .at(-1);
    if (!clientHelloMessage || !serverHelloMessage) {
      problems.push(makeDiagnostic('NC7002', { what: 'handshake', flow: connection.name, reason: 'no complete ClientHello and ServerHello' }));
      continue;
    }
    const clientHello = parseClientHello(clientHelloMessage.body, clientFlow);
    const serverHello = serverHelloMessage;
    const cipherSuite = CIPHER_SUITES.get(serverHello.cipherSuite);
    const negotiated = serverHello.version === 0x0304 ? '1.3' : serverHello.version === 0x0303 ? '1.2' : undefined;
    if (!cipherSuite || cipherSuite.version !== negotiated) {
      problems.push(makeDiagnostic('NC7003', { suite: `0x${serverHello.cipherSuite.toString(16).padStart(4, '0')}`, flow: connection.name }));
      continue;
    }
    const randomHex = Buffer.from(clientHello.random).toString('hex');
    const secrets = options.keyLog.connections.get(randomHex);
    const clientToServer = emptyDirection(clientFlow, clientStream, clientRecords.trailingBytes);
    const serverToClient = emptyDirection(serverFlow, serverStream, serverRecords.trailingBytes);
    let haveKeys = false;
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
      decryptTls12Direction(cipherSuite, keys.client, clientRecords.records, clientToServer);
      decryptTls12Direction(cipherSuite, keys.server, serverRecords.records, serverToClient);
      haveKeys = true;
    } else if (secrets && cipherSuite.version === '1.3') {
      const clientPhases = tls13Phases(secrets, 'client', clientHello.offersEarlyData);
      const serverPhases = tls13Phases(secrets, 'server', false);
      if (clientPhases && serverPhases) {
        decryptTls13Direction(cipherSuite, clientPhases, clientRecords.records, clientToServer);
        decryptTls13Direction(cipherSuite, serverPhases, serverRecords.records, serverToClient);
        haveKeys = true;
      }
    }
    if (!haveKeys) {
      problems.push(makeDiagnostic('NC7004', { random: randomHex, flow: connection.name }));
      continue;
    }
    sessions.push({
      connection: connection.name,
      client,
      server,
      clientHello,
      serverHello,
      cipherSuite,
      clientToServer: finishDirection(clientToServer),
      serverToClient: finishDirection(serverToClient),
    });
  }
  return { sessions, problems };
}
