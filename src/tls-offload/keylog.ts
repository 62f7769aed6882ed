/**
 * NSS key log parser (the SSLKEYLOGFILE format written by browsers, OpenSSL,
 * Node and Wireshark's test suite).
 *
 * Each line is `LABEL <client_random hex> <secret hex>`; `#` starts a comment.
 * Malformed lines do not stop the parse: each becomes a warning (NC7001) with
 * its 1-based line number, and every well-formed line is kept.
 */
import { makeDiagnostic, type Diagnostic } from '../diagnostics/diagnostic.js';
import { SECRETS_TYPE, type CaptureSecret } from '../pcap/index.js';

/** The labels nicoff understands, and the secret length each may have. */
export const KEY_LOG_LABELS = [
  'CLIENT_RANDOM',
  'CLIENT_EARLY_TRAFFIC_SECRET',
  'EARLY_EXPORTER_SECRET',
  'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
  'SERVER_HANDSHAKE_TRAFFIC_SECRET',
  'CLIENT_TRAFFIC_SECRET_0',
  'SERVER_TRAFFIC_SECRET_0',
  'EXPORTER_SECRET',
] as const;

export type KeyLogLabel = (typeof KEY_LOG_LABELS)[number];

/** The secrets of one TLS connection, keyed in the log by its ClientHello random. */
export interface ConnectionSecrets {
  /** TLS 1.2 (and earlier) master secret, 48 bytes. */
  masterSecret?: Uint8Array;
  clientEarlyTrafficSecret?: Uint8Array;
  earlyExporterSecret?: Uint8Array;
  clientHandshakeTrafficSecret?: Uint8Array;
  serverHandshakeTrafficSecret?: Uint8Array;
  clientTrafficSecret0?: Uint8Array;
  serverTrafficSecret0?: Uint8Array;
  exporterSecret?: Uint8Array;
}

const FIELD_FOR_LABEL: Record<KeyLogLabel, keyof ConnectionSecrets> = {
  CLIENT_RANDOM: 'masterSecret',
  CLIENT_EARLY_TRAFFIC_SECRET: 'clientEarlyTrafficSecret',
  EARLY_EXPORTER_SECRET: 'earlyExporterSecret',
  CLIENT_HANDSHAKE_TRAFFIC_SECRET: 'clientHandshakeTrafficSecret',
  SERVER_HANDSHAKE_TRAFFIC_SECRET: 'serverHandshakeTrafficSecret',
  CLIENT_TRAFFIC_SECRET_0: 'clientTrafficSecret0',
  SERVER_TRAFFIC_SECRET_0: 'serverTrafficSecret0',
  EXPORTER_SECRET: 'exporterSecret',
};

export interface KeyLog {
  /** Secrets by lower-case hex client random (64 hex digits). */
  connections: Map<string, ConnectionSecrets>;
  /** One NC7001 diagnostic per malformed line. */
  warnings: Diagnostic[];
}

const HEX = /^[0-9a-fA-F]*$/;

function isKeyLogLabel(label: string): label is KeyLogLabel {
  return (KEY_LOG_LABELS as readonly string[]).includes(label);
}

/**
 * Parse a key log. `file` only labels the warnings. Later lines for the same
 * connection and label replace earlier ones (as Wireshark does).
 */
export function parseKeyLog(text: string, file?: string): KeyLog {
  const connections = new Map<string, ConnectionSecrets>();
  const warnings: Diagnostic[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((rawLine, index) => {
    const lineNumber = index + 1;
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    const warn = (reason: string): void => {
      const location = { file, source: { file: file ?? '<key log>', line: lineNumber, text: rawLine } };
      warnings.push(makeDiagnostic('NC7001', { line: lineNumber, reason }, location));
    };
    const fields = line.split(/\s+/);
    if (fields.length !== 3) return warn(`expected 3 fields (label, client random, secret), found ${fields.length}`);
    const [label, randomHex, secretHex] = fields as [string, string, string];
    if (!isKeyLogLabel(label)) return warn(`unknown label ${label}`);
    if (randomHex.length !== 64 || !HEX.test(randomHex)) {
      return warn('client random must be 64 hex digits (32 bytes)');
    }
    if (secretHex.length % 2 !== 0 || !HEX.test(secretHex)) return warn('secret is not a whole number of hex bytes');
    const secretLength = secretHex.length / 2;
    if (label === 'CLIENT_RANDOM') {
      if (secretLength !== 48) return warn(`master secret is ${secretLength} bytes, not 48`);
    } else if (secretLength !== 32 && secretLength !== 48) {
      return warn(`${label} is ${secretLength} bytes; a SHA-256 or SHA-384 secret has 32 or 48`);
    }
    const key = randomHex.toLowerCase();
    let secrets = connections.get(key);
    if (!secrets) {
      secrets = {};
      connections.set(key, secrets);
    }
    secrets[FIELD_FOR_LABEL[label]] = Uint8Array.from(Buffer.from(secretHex, 'hex'));
  });
  return { connections, warnings };
}

/** Merge several key logs (for instance a file and a pcapng Decryption Secrets Block). */
export function mergeKeyLogs(logs: KeyLog[]): KeyLog {
  const connections = new Map<string, ConnectionSecrets>();
  const warnings: Diagnostic[] = [];
  for (const log of logs) {
    for (const [random, secrets] of log.connections) {
      connections.set(random, { ...connections.get(random), ...secrets });
    }
    warnings.push(...log.warnings);
  }
  return { connections, warnings };
}

/** The TLS key logs embedded in a pcapng file's Decryption Secrets Blocks. */
export function keyLogFromCaptureSecrets(secrets: CaptureSecret[], file?: string): KeyLog {
  const logs = secrets
    .filter((secret) => secret.type === SECRETS_TYPE.TLS_KEY_LOG)
    .map((secret) => parseKeyLog(Buffer.from(secret.data).toString('latin1'), file));
  return mergeKeyLogs(logs);
}
