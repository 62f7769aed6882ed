/**
 * `nicoff tls replay`: a capture through the NIC receive model and the host's
 * software stack, per TCP connection and direction, in capture order
 * (../shared/docs/tls-offload.md §2, §3b).
 *
 * For each connection (numbered like tshark's tcp.stream: order of first
 * appearance): assemble the first bytes of both directions (64 KiB, more when
 * the handshake is longer), find the hellos, suite and keys (software-decrypt.ts
 * `identifyTlsSession`), find where each direction's application key starts
 * (a dry run of the record walk: TLS 1.2 after Finished, TLS 1.3 after the
 * direction's Finished), then feed every data segment to the direction's
 * `TlsRxFlowState` and hand the packet, as the NIC delivered it, to the
 * direction's `HostTlsStack`. Keys come from the options' key log merged with
 * the capture's own (pcapng Decryption Secrets Blocks), as tshark does.
 *
 * Connections that are TLS but cannot be decrypted are reported, not skipped:
 * `no-keys` (no key log entry, no handshake in the capture: NC7004, NC7007,
 * NC7002), `unsupported-cipher` (NC7003); their packets count
 * `rx_tls_no_offload`. Other TCP connections are `not-tls` with no directions
 * and count in no total. Packets of a direction before its application key
 * (the handshake) count `rx_tls_no_offload` too. The offload ratio divides
 * `rx_tls_decrypted_bytes` by the TCP payload bytes of every data packet
 * (retransmissions included) of the TLS connections.
 */
import { TCP_SYN, TCP_RST, TCP_ACK } from './tcp-flows.js';
import { ETHERTYPE, LINKTYPE, networkPayload, truncationDiagnostic, type Capture } from '../pcap/index.js';
import { makeDiagnostic, NicoffError, type Diagnostic } from '../diagnostics/diagnostic.js';
import { keyLogFromCaptureSecrets, mergeKeyLogs } from './keylog.js';
import { endpointName, parseTcpPacket, type TcpConnection, type TcpDirection } from './tcp-flows.js';
import { MAX_RECORD_FRAGMENT, TLS_RECORD_HEADER_LENGTH, CONTENT_TYPE, type SplitRecords } from './tls-records.js';
import {
  identifyTlsSession,
  RecordDecryptor,
  type DirectionKeys,
  type SessionIdentification,
  type TlsSessionSetup,
} from './software-decrypt.js';
import { TlsRxFlowState, type NicRxKeys } from './nic-rx-model.js';
import { assembleStream, HostTlsStack, placeSegments, runDirection, type AssembledStream, type PlacedDirection } from './host-tls-stack.js';
import type { CipherSuite } from './key-schedule.js';
import {
  TLS_COUNTERS,
  type ConnectionReport,
  type DirectionReport,
  type NicMode,
  type ReplayOptions,
  type ReplayReport,
  type TlsCounters,
} from './replay-types.js';

const DEFAULT_CONFIRM_DELAY_PACKETS = 8;
/** Bytes of each stream assembled to find the handshake (grown when the handshake is longer). */
const HANDSHAKE_PREFIX = 1 << 16;
const TCP_PROTOCOL = 6;

interface FlowKey {
  connection: TcpConnection;
  /** The first direction's IPv4 source, destination and ports (sport << 16 | dport). */
  source: number;
  destination: number;
  ports: number;
}

function be32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/**
 * The capture's TCP connections: the same result as tcp-flows.ts
 * `tcpConnections` (test/tls-offload/nic-replay-vs-tshark.test.ts checks it on
 * every capture), but IPv4 flows are found by numeric 4-tuple and Ethernet
 * IPv4 frames are parsed in place. `tcpConnections` formats both addresses of
 * every packet, which on a 4 MB capture costs more than all of the NIC
 * model's AES-GCM; tcp-flows.ts could take this over. Other frames (IPv6,
 * VLAN, cooked or raw links, FCS) go through `networkPayload` and `parseTcpPacket`.
 */
export function captureConnections(capture: Capture): TcpConnection[] {
  const connections: TcpConnection[] = [];
  const byKey = new Map<string, FlowKey>();
  let last: FlowKey | undefined;
  const newConnection = (etherType: number, ip: Uint8Array): TcpConnection | undefined => {
    const parsed = parseTcpPacket(etherType, ip);
    if (!parsed) return undefined;
    const connection: TcpConnection = {
      name: `${endpointName(parsed.source)}<->${endpointName(parsed.destination)}`,
      first: { source: parsed.source, destination: parsed.destination, segments: [] },
      second: { source: parsed.destination, destination: parsed.source, segments: [] },
      firstSentSyn: (parsed.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN,
    };
    connections.push(connection);
    return connection;
  };
  const packets = capture.packets;
  for (let index = 0; index < packets.length; index++) {
    const packet = packets[index]!;
    const iface = capture.interfaces[packet.interfaceId];
    if (!iface) continue;
    const frame = packet.data;
    let ip: Uint8Array;
    /** Where the IP header starts in `ip` (the Ethernet fast path reads the frame in place). */
    let o = 0;
    let etherType: number;
    if (iface.linkType === LINKTYPE.ETHERNET && !iface.fcsLen && frame.length >= 14 && frame[12] === 0x08 && frame[13] === 0x00) {
      ip = frame;
      o = 14;
      etherType = ETHERTYPE.IPV4;
    } else {
      const network = networkPayload(iface.linkType, frame, iface.fcsLen ?? 0);
      if (!network) continue;
      ip = network.payload;
      etherType = network.etherType;
    }
    if (etherType !== ETHERTYPE.IPV4) {
      // IPv6 and the rest: tcp-flows' own parser and names as keys.
      const parsed = parseTcpPacket(etherType, ip);
      if (!parsed) continue;
      const forwardName = `${endpointName(parsed.source)}<->${endpointName(parsed.destination)}`;
      const reverseName = `${endpointName(parsed.destination)}<->${endpointName(parsed.source)}`;
      let flow = byKey.get(forwardName) ?? byKey.get(reverseName);
      if (!flow) {
        flow = { connection: newConnection(etherType, ip)!, source: -1, destination: -1, ports: -1 };
        byKey.set(forwardName, flow);
      }
      const direction = flow.connection.name === forwardName ? flow.connection.first : flow.connection.second;
      direction.segments.push({ packetNumber: index + 1, timestampNs: packet.timestampNs, seq: parsed.seq, ack: parsed.ack, flags: parsed.flags, payload: parsed.payload });
      continue;
    }
    // IPv4, with exactly parseTcpPacket's checks (offsets relative to o).
    const ipLength = ip.length - o;
    if (ipLength < 20 || ip[o]! >> 4 !== 4) continue;
    const headerLength = (ip[o]! & 0x0f) * 4;
    const totalLength = (ip[o + 2]! << 8) | ip[o + 3]!;
    if (ip[o + 9] !== TCP_PROTOCOL || (((ip[o + 6]! << 8) | ip[o + 7]!) & 0x3fff) !== 0 || headerLength < 20) continue;
    const end = o + (totalLength >= headerLength ? Math.min(totalLength, ipLength) : ipLength);
    const t = o + headerLength;
    if (end - t < 20) continue;
    const dataOffset = (ip[t + 12]! >> 4) * 4;
    if (dataOffset < 20 || dataOffset > end - t) continue;
    const source = be32(ip, o + 12);
    const destination = be32(ip, o + 16);
    const sport = (ip[t]! << 8) | ip[t + 1]!;
    const dport = (ip[t + 2]! << 8) | ip[t + 3]!;
    const ports = ((sport << 16) | dport) >>> 0;
    let flow = last;
    let forward: boolean;
    if (flow && flow.source === source && flow.destination === destination && flow.ports === ports) forward = true;
    else if (flow && flow.source === destination && flow.destination === source && flow.ports === (((dport << 16) | sport) >>> 0)) forward = false;
    else {
      const key = source < destination || (source === destination && sport <= dport) ? `${source},${destination},${ports}` : `${destination},${source},${((dport << 16) | sport) >>> 0}`;
      flow = byKey.get(key);
      if (!flow) {
        flow = { connection: newConnection(etherType, o ? ip.subarray(o) : ip)!, source, destination, ports };
        byKey.set(key, flow);
      }
      forward = flow.source === source && flow.destination === destination && flow.ports === ports;
      last = flow;
    }
    const direction = forward ? flow.connection.first : flow.connection.second;
    direction.segments.push({
      packetNumber: index + 1,
      timestampNs: packet.timestampNs,
      seq: be32(ip, t + 4),
      ack: be32(ip, t + 8),
      flags: ip[t + 13]!,
      payload: ip.subarray(t + dataOffset, end),
    });
  }
  return connections;
}
const PROGRESS_EVERY = 512;

/** All counters at 0 (an object literal, so property access stays fast on the per-packet path). */
export function zeroCounters(): TlsCounters {
  return {
    rx_tls_decrypted_packets: 0,
    rx_tls_pass_partial: 0,
    rx_tls_ooo_retrans: 0,
    rx_tls_ooo_keep: 0,
    rx_tls_searching_pass: 0,
    rx_tls_speculative_pass: 0,
    rx_tls_no_offload: 0,
    rx_tls_decrypted_bytes: 0,
    rx_tls_resync_lost: 0,
    rx_tls_resync_req_pkt: 0,
    rx_tls_resync_req_start: 0,
    rx_tls_resync_req_end: 0,
    rx_tls_resync_chain_fail: 0,
    rx_tls_resync_res_ok: 0,
    rx_tls_resync_res_skip: 0,
    rx_tls_err: 0,
    sw_records_hw: 0,
    sw_records_sw: 0,
    sw_records_mixed: 0,
    sw_auth_fail: 0,
    sw_reencrypted_bytes: 0,
    tx_tls_encrypted_packets: 0,
    tx_tls_encrypted_bytes: 0,
    tx_tls_ooo: 0,
    tx_tls_dump_packets: 0,
    tx_tls_dump_bytes: 0,
    tx_tls_drop_no_sync_data: 0,
  };
}

function addCounters(into: TlsCounters, from: TlsCounters): void {
  for (const name of TLS_COUNTERS) into[name] += from[name];
}

function flowName(direction: TcpDirection): string {
  return `${endpointName(direction.source)} -> ${endpointName(direction.destination)}`;
}

/** Where the NIC takes over a direction: the first record under the application key, its number and the key. */
interface OffloadStart {
  offset: number;
  recordNumber: number;
  keys: NicRxKeys;
}

function recordEnd(split: SplitRecords, index: number): number {
  const record = split.records[index]!;
  return record.offset + TLS_RECORD_HEADER_LENGTH + record.fragment.length;
}

/**
 * The host installs the NIC's key once the handshake of that direction is
 * done (§3b "Where offload starts"): TLS 1.2 right after Finished (record 1),
 * TLS 1.3 right after the record holding the direction's Finished (record 0 of
 * the application key). Returns a reason when the capture does not get there.
 */
function offloadStart(cipherSuite: CipherSuite, keys: DirectionKeys, split: SplitRecords): OffloadStart | string {
  if (keys.version === '1.2') {
    const ccs = split.records.findIndex((r) => r.contentType === CONTENT_TYPE.CHANGE_CIPHER_SPEC);
    if (ccs < 0 || ccs + 1 >= split.records.length) return 'no ChangeCipherSpec and Finished in the capture';
    return {
      offset: recordEnd(split, ccs + 1),
      recordNumber: 1,
      keys: { version: '1.2', aead: cipherSuite.aead, key: keys.keys.key, iv: keys.keys.iv },
    };
  }
  const decryptor = new RecordDecryptor(cipherSuite, keys);
  let lastEnd = -1;
  for (let i = 0; i < split.records.length; i++) {
    const record = split.records[i]!;
    if (!decryptor.isProtected(record)) continue;
    if (decryptor.phase === 'application') {
      lastEnd = record.offset;
      break;
    }
    const opened = decryptor.open(record);
    if (!opened.ok) return `handshake record at stream offset ${record.offset} failed authentication`;
    lastEnd = recordEnd(split, i);
  }
  if (decryptor.phase !== 'application' || lastEnd < 0) return 'the Finished message is not in the capture';
  const traffic = decryptor.trafficKeys;
  return { offset: lastEnd, recordNumber: 0, keys: { version: '1.3', aead: cipherSuite.aead, key: traffic.key, iv: traffic.iv } };
}

/** A stream that begins with a plausible TLS record header (retrans-tls.pcap: records without a handshake). */
function looksLikeTls(stream: Uint8Array): boolean {
  if (stream.length < TLS_RECORD_HEADER_LENGTH) return false;
  const length = (stream[3]! << 8) | stream[4]!;
  return stream[0]! >= 20 && stream[0]! <= 24 && stream[1] === 3 && stream[2]! <= 4 && length <= MAX_RECORD_FRAGMENT;
}

interface DirectionInput {
  direction: TcpDirection;
  placed: PlacedDirection;
  role: DirectionReport['role'];
}

interface Progress {
  done: number;
  total: number;
  report?: (done: number, total: number) => void;
}

function tick(progress: Progress): void {
  progress.done++;
  if (progress.report && progress.done % PROGRESS_EVERY === 0) progress.report(progress.done, progress.total);
}

function baseDirectionReport(input: DirectionInput, counters: TlsCounters): DirectionReport {
  let payloadBytes = 0;
  for (const segment of input.placed.segments) payloadBytes += segment.payload.length;
  return {
    flow: flowName(input.direction),
    role: input.role,
    counters,
    applicationRecords: 0,
    applicationBytes: 0,
    offloadRatio: 0,
    lossToResume: [],
    authFailures: [],
    unconfirmedAtEnd: false,
    spans: [],
    events: [],
    dataPackets: input.placed.segments.length,
    payloadBytes,
  };
}

/** A direction nothing of which is offloaded or decrypted (no keys, unsupported suite). */
function passThroughDirection(input: DirectionInput, reason: string, progress: Progress): DirectionReport {
  const counters = zeroCounters();
  const nic = new TlsRxFlowState({ mode: 'none', startOffset: 0, startRecordNumber: 0, initialSeq: input.placed.initialSeq, counters });
  let streamEnd = 0;
  for (const segment of input.placed.segments) {
    nic.receive(segment.offset, segment.payload);
    streamEnd = Math.max(streamEnd, segment.offset + segment.payload.length);
    tick(progress);
  }
  nic.finish(streamEnd);
  return { ...baseDirectionReport(input, counters), notOffloaded: reason, spans: nic.spans };
}

interface SessionDirection {
  input: DirectionInput;
  flow: string;
  keys: DirectionKeys;
  start: OffloadStart | string;
}

function replayDirection(
  setup: TlsSessionSetup,
  side: SessionDirection,
  mode: NicMode,
  options: ReplayOptions,
  problems: Diagnostic[],
  progress: Progress,
): { report: DirectionReport; host: HostTlsStack } {
  const counters = zeroCounters();
  const report = baseDirectionReport(side.input, counters);
  const start = side.start;
  const offloaded = mode !== 'none' && typeof start !== 'string';
  if (mode !== 'none' && typeof start === 'string') {
    problems.push(makeDiagnostic('NC7009', { flow: side.flow, reason: start }));
    report.notOffloaded = start;
  } else if (mode === 'none') {
    report.notOffloaded = 'NIC mode none: software only';
  }
  const initialSeq = side.input.placed.initialSeq;
  const nic = new TlsRxFlowState({
    mode: offloaded ? mode : 'none',
    ...(offloaded ? { keys: start.keys } : {}),
    startOffset: offloaded ? start.offset : 0,
    startRecordNumber: offloaded ? start.recordNumber : 0,
    initialSeq,
    counters,
  });
  const keepPlaintext = options.keepPlaintext ?? false;
  const host = new HostTlsStack(new RecordDecryptor(setup.cipherSuite, side.keys), {
    flow: side.flow,
    initialSeq,
    counters,
    keepPlaintext,
    confirmDelayPackets: options.confirmDelayPackets ?? DEFAULT_CONFIRM_DELAY_PACKETS,
    ...(typeof start !== 'string' ? { applicationStart: { offset: start.offset, recordNumber: start.recordNumber } } : {}),
    problems,
  });
  runDirection(nic, host, side.input.placed.segments, () => tick(progress));
  report.applicationRecords = host.applicationRecords;
  report.applicationBytes = host.applicationBytes;
  report.offloadRatio = report.payloadBytes ? counters.rx_tls_decrypted_bytes / report.payloadBytes : 0;
  report.lossToResume = nic.lossToResume;
  report.authFailures = [...nic.authFailures, ...host.authFailures];
  report.unconfirmedAtEnd = nic.unconfirmedAtEnd;
  report.spans = nic.spans;
  report.events = nic.events;
  if (keepPlaintext) {
    report.plaintext = host.plaintext();
    report.plaintextRecords = host.plaintextRecords;
  }
  return { report, host };
}

function replayConnection(
  connection: TcpConnection,
  stream: number,
  options: ReplayOptions,
  keyLog: ReplayOptions['keyLog'],
  progress: Progress,
): ConnectionReport {
  const placedFirst = placeSegments(connection.first);
  const placedSecond = placeSegments(connection.second);
  const firstIsClient = connection.firstSentSyn || !connection.second.segments.some((s) => s.flags & TCP_SYN && !(s.flags & TCP_ACK));
  const inputs = (clientFirst: boolean): [DirectionInput, DirectionInput] => {
    const first: DirectionInput = { direction: connection.first, placed: placedFirst, role: clientFirst ? 'client-to-server' : 'server-to-client' };
    const second: DirectionInput = { direction: connection.second, placed: placedSecond, role: clientFirst ? 'server-to-client' : 'client-to-server' };
    return clientFirst ? [first, second] : [second, first];
  };
  const endpoints = (clientFirst: boolean): { client: string; server: string } => {
    const [a, b] = clientFirst ? [connection.first, connection.second] : [connection.second, connection.first];
    return { client: endpointName(a.source), server: endpointName(b.source) };
  };

  // Find the handshake in the first bytes of each stream; assemble more only when it is longer.
  let identified: SessionIdentification;
  let firstStream: AssembledStream;
  let secondStream: AssembledStream;
  let starts: [OffloadStart | string, OffloadStart | string] = ['', ''];
  for (let limit = HANDSHAKE_PREFIX; ; limit *= 16) {
    firstStream = assembleStream(placedFirst, limit);
    secondStream = assembleStream(placedSecond, limit);
    const whole = firstStream.inOrderLength <= limit && secondStream.inOrderLength <= limit;
    try {
      identified = identifyTlsSession(connection, firstStream, secondStream, { keyLog, ...(options.psk ? { psk: options.psk } : {}) });
    } catch (error) {
      if (!(error instanceof NicoffError)) throw error;
      if (!whole) continue; // a record cut by the prefix end is fine; a bad header is not: look at everything
      return { stream, ...endpoints(firstIsClient), status: 'not-tls', directions: [], problems: [error.diagnostic] };
    }
    if (identified.kind === 'session') {
      const s = identified.setup;
      starts = [offloadStart(s.cipherSuite, s.clientKeys, s.clientRecords), offloadStart(s.cipherSuite, s.serverKeys, s.serverRecords)];
      if (whole || (typeof starts[0] !== 'string' && typeof starts[1] !== 'string')) break;
    } else if (identified.kind !== 'no-handshake' || whole) {
      break;
    }
  }

  if (identified.kind === 'not-tls') {
    const tlsFirst = looksLikeTls(firstStream.bytes);
    if (!tlsFirst && !looksLikeTls(secondStream.bytes)) {
      return { stream, ...endpoints(firstIsClient), status: 'not-tls', directions: [], problems: [] };
    }
    const problems = [makeDiagnostic('NC7007', { flow: connection.name })];
    const directions = inputs(firstIsClient).map((input) => passThroughDirection(input, 'no keys: no handshake in the capture', progress));
    return { stream, ...endpoints(firstIsClient), status: 'no-keys', directions, problems };
  }

  if (identified.kind !== 'session') {
    const sides = identified.sides;
    const clientFirst = sides.client === connection.first;
    const problems = [...sides.gaps, identified.problem];
    const status = identified.kind === 'unsupported-cipher' ? 'unsupported-cipher' : 'no-keys';
    const reason = status === 'unsupported-cipher' ? `unsupported cipher suite (${identified.problem.message})` : `no keys (${identified.problem.message})`;
    const directions = inputs(clientFirst).map((input) => passThroughDirection(input, reason, progress));
    const report: ConnectionReport = { stream, ...endpoints(clientFirst), status, directions, problems };
    if (identified.cipherSuite) {
      report.tlsVersion = identified.cipherSuite.version;
      report.cipherSuite = identified.cipherSuite.name;
    }
    return report;
  }

  const setup = identified.setup;
  const clientFirst = setup.client === connection.first;
  const [clientInput, serverInput] = inputs(clientFirst);
  const problems: Diagnostic[] = [...setup.gaps];
  const clientSide = replayDirection(
    setup,
    { input: clientInput, flow: setup.clientFlow, keys: setup.clientKeys, start: starts[0] },
    options.nic,
    options,
    problems,
    progress,
  );
  const serverSide = replayDirection(
    setup,
    { input: serverInput, flow: setup.serverFlow, keys: setup.serverKeys, start: starts[1] },
    options.nic,
    options,
    problems,
    progress,
  );
  // ---- TRANSMIT SIDE: the single call site of nic-tx-model.ts `transmitSide(...)` goes here, once per
  // ---- direction (the capture's data segments of a side stand for what that side's NIC sent; see §3b
  // ---- "Transmit side"). It adds the tx_tls_* counters to clientSide.report.counters / serverSide.report.counters;
  // ---- the decrypted records are in clientSide.host.records / serverSide.host.records; setup's streams hold only
  // ---- the handshake prefix (assembleStream(placedFirst / placedSecond) gives a whole stream). Until then they stay 0.
  return {
    stream,
    ...endpoints(clientFirst),
    status: 'decrypted',
    tlsVersion: setup.cipherSuite.version,
    cipherSuite: setup.cipherSuite.name,
    directions: [clientSide.report, serverSide.report],
    problems,
  };
}

/** Replay a capture through the NIC model in the given mode and the host's software stack. */
export function replayCapture(capture: Capture, options: ReplayOptions): ReplayReport {
  const keyLog = capture.secrets.length ? mergeKeyLogs([keyLogFromCaptureSecrets(capture.secrets), options.keyLog]) : options.keyLog;
  const connections = captureConnections(capture);
  let total = 0;
  if (options.onProgress) {
    for (const connection of connections) {
      for (const direction of [connection.first, connection.second]) {
        for (const segment of direction.segments) if (segment.payload.length > 0 && !(segment.flags & TCP_RST)) total++;
      }
    }
  }
  const progress: Progress = { done: 0, total, ...(options.onProgress ? { report: options.onProgress } : {}) };
  const reports = connections.map((connection, index) => replayConnection(connection, index, options, keyLog, progress));
  options.onProgress?.(progress.done, total);
  const totals = zeroCounters();
  let payloadBytes = 0;
  for (const connection of reports) {
    if (connection.status === 'not-tls') continue;
    for (const direction of connection.directions) {
      addCounters(totals, direction.counters);
      payloadBytes += direction.payloadBytes;
    }
  }
  const report: ReplayReport = {
    nic: options.nic,
    packets: capture.packets.length,
    connections: reports,
    totals,
    offloadRatio: payloadBytes ? totals.rx_tls_decrypted_bytes / payloadBytes : 0,
  };
  if (capture.truncation) report.truncation = truncationDiagnostic(capture.truncation, capture.packets.length);
  return report;
}
