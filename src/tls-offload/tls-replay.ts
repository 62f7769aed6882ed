/**
 * `nicoff tls replay`: a capture through the NIC receive model and the host's
 * software stack, per TCP connection and direction, in capture order
 * (../shared/docs/tls-offload.md §2, §3b).
 *
 * Two passes over the capture, neither of which keeps packet data:
 * - pass 1 groups the packets into TCP connections (numbered like tshark's
 *   tcp.stream: order of first appearance) as columns of numbers and places
 *   each direction's segments in its stream. For each connection it then
 *   assembles the first bytes of both directions (64 KiB, more when the
 *   handshake is longer), finds the hellos, suite and keys (software-decrypt.ts
 *   `identifyTlsSession`) and where each direction's application key starts
 *   (a dry run of the record walk: TLS 1.2 after Finished, TLS 1.3 after the
 *   direction's Finished);
 * - pass 2 feeds every data segment, in capture order, to its direction's
 *   `TlsRxFlowState` and hands the packet, as the NIC delivered it, to the
 *   direction's `HostTlsStack`. At the end the transmit model counts each
 *   direction of a decrypted connection (nic-tx-model.ts).
 * A capture file is read through a reused window (pcap/capture-file.ts);
 * before the window moves, the models copy the little they still hold of it.
 * Keys come from the options' key log merged with the capture's own (pcapng
 * Decryption Secrets Blocks), as tshark does.
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
import { TCP_SYN, TCP_ACK, TCP_RST, type TcpEndpoint } from './tcp-flows.js';
import {
  CaptureFileWindow,
  ETHERTYPE,
  LINKTYPE,
  isSupportedLinkType,
  linkTypeName,
  networkPayload,
  scanCaptureFile,
  truncationDiagnostic,
  type Capture,
  type CaptureFileScan,
  type CaptureInterface,
  type CaptureSecret,
  type CaptureTruncation,
} from '../pcap/index.js';
import { fail, makeDiagnostic, NicoffError, type Diagnostic } from '../diagnostics/diagnostic.js';
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
import { assembleStreamFrom, HostTlsStack, placeStream, type AssembledStream } from './host-tls-stack.js';
import { peerAckColumns, transmitSide, txRecordsFromLog, type TransmitInput } from './nic-tx-model.js';
import type { CipherSuite } from './key-schedule.js';
import {
  TLS_COUNTERS,
  type ConnectionReport,
  type DirectionReport,
  type ReplayOptions,
  type ReplayReport,
  type TlsCounters,
} from './replay-types.js';

const DEFAULT_CONFIRM_DELAY_PACKETS = 8;
/** Bytes of each stream assembled to find the handshake (grown when the handshake is longer). */
const HANDSHAKE_PREFIX = 1 << 16;
const TCP_PROTOCOL = 6;

/**
 * A direction's TCP segments, located in the capture without their bytes, as
 * columns: pass 1 keeps no packet data and no object per packet (on a 120 MB
 * capture an object per segment cost a fifth of the replay in allocation and
 * garbage collection).
 */
export class SegmentColumns {
  count = 0;
  packetNumber = new Int32Array(16);
  seq = new Float64Array(16);
  ack = new Float64Array(16);
  flags = new Uint8Array(16);
  /** Payload bytes. */
  length = new Int32Array(16);
  /** Where the packet's data is (the source's location) and where the payload starts in it. */
  location = new Float64Array(16);
  skip = new Int32Array(16);
  /** Stream offset of each data segment, set by placement (NaN for segments without payload, and RST). */
  offset = new Float64Array(0);

  push(packetNumber: number, seq: number, ack: number, flags: number, length: number, location: number, skip: number): number {
    const i = this.count;
    if (i === this.packetNumber.length) this.grow();
    this.packetNumber[i] = packetNumber;
    this.seq[i] = seq;
    this.ack[i] = ack;
    this.flags[i] = flags;
    this.length[i] = length;
    this.location[i] = location;
    this.skip[i] = skip;
    this.count = i + 1;
    return i;
  }

  /** Carries payload to place in the stream. */
  isData(i: number): boolean {
    return this.length[i]! > 0 && !(this.flags[i]! & TCP_RST);
  }

  private grow(): void {
    const n = this.packetNumber.length * 2;
    const widen = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.packetNumber = widen(this.packetNumber, (k) => new Int32Array(k));
    this.seq = widen(this.seq, (k) => new Float64Array(k));
    this.ack = widen(this.ack, (k) => new Float64Array(k));
    this.flags = widen(this.flags, (k) => new Uint8Array(k));
    this.length = widen(this.length, (k) => new Int32Array(k));
    this.location = widen(this.location, (k) => new Float64Array(k));
    this.skip = widen(this.skip, (k) => new Int32Array(k));
  }
}

export interface DirectionRefs {
  /** Index among every direction of the scan (the data order refers to it). */
  id: number;
  source: TcpEndpoint;
  destination: TcpEndpoint;
  /** Every segment in capture order, pure ACKs included. */
  segments: SegmentColumns;
}

export interface ConnectionRefs {
  name: string;
  first: DirectionRefs;
  second: DirectionRefs;
  firstSentSyn: boolean;
}

interface FlowKey {
  connection: ConnectionRefs;
  /** The first direction's IPv4 source, destination and ports (sport << 16 | dport). */
  source: number;
  destination: number;
  ports: number;
}

function be32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/**
 * Groups the packets of a capture into TCP connections, one packet at a time
 * (pass 1 of the replay): the same connections and segments as tcp-flows.ts
 * `tcpConnections` (test/tls-offload/nic-replay-vs-tshark.test.ts checks it on
 * every capture), but IPv4 flows are found by numeric 4-tuple and Ethernet
 * IPv4 frames are parsed in place (`tcpConnections` formats both addresses
 * of every packet, which costs more than the NIC model's AES-GCM). Other
 * frames (IPv6, VLAN, cooked or raw links, FCS) go through `networkPayload`
 * and `parseTcpPacket`.
 */
export class ConnectionScanner {
  readonly connections: ConnectionRefs[] = [];
  readonly directions: DirectionRefs[] = [];
  /** Every data segment in capture order: its direction's id and its index there. */
  dataCount = 0;
  dataDirection = new Int32Array(1024);
  dataIndex = new Int32Array(1024);
  /** Interfaces whose link type nicoff does not read, that carried packets. */
  readonly unreadableInterfaces = new Set<number>();
  private readonly byKey = new Map<string, FlowKey>();
  private last: FlowKey | undefined;
  private packetNumber = 0;

  /** One packet, in capture order; `location` is where the source finds `frame` again. */
  add(frame: Uint8Array, iface: CaptureInterface | undefined, interfaceId: number, location: number): void {
    const packetNumber = ++this.packetNumber;
    if (!iface) return;
    let ip: Uint8Array;
    /** Where the IP header starts in `ip` (the Ethernet fast path reads the frame in place). */
    let o = 0;
    let etherType: number;
    if (iface.linkType === LINKTYPE.ETHERNET && !iface.fcsLen && frame.length >= 14 && frame[12] === 0x08 && frame[13] === 0x00) {
      ip = frame;
      o = 14;
      etherType = ETHERTYPE.IPV4;
    } else {
      if (!isSupportedLinkType(iface.linkType)) {
        this.unreadableInterfaces.add(interfaceId);
        return;
      }
      const network = networkPayload(iface.linkType, frame, iface.fcsLen ?? 0);
      if (!network) return;
      ip = network.payload;
      etherType = network.etherType;
    }
    if (etherType !== ETHERTYPE.IPV4) {
      // IPv6 and the rest: tcp-flows' own parser and names as keys.
      const parsed = parseTcpPacket(etherType, ip);
      if (!parsed) return;
      const forwardName = `${endpointName(parsed.source)}<->${endpointName(parsed.destination)}`;
      const reverseName = `${endpointName(parsed.destination)}<->${endpointName(parsed.source)}`;
      let flow = this.byKey.get(forwardName) ?? this.byKey.get(reverseName);
      if (!flow) {
        flow = { connection: this.newConnection(etherType, ip), source: -1, destination: -1, ports: -1 };
        this.byKey.set(forwardName, flow);
      }
      const direction = flow.connection.name === forwardName ? flow.connection.first : flow.connection.second;
      this.push(direction, packetNumber, parsed.seq, parsed.ack, parsed.flags, parsed.payload.length, location, parsed.payload.byteOffset - frame.byteOffset);
      return;
    }
    // IPv4, with exactly parseTcpPacket's checks (offsets relative to o).
    const ipLength = ip.length - o;
    if (ipLength < 20 || ip[o]! >> 4 !== 4) return;
    const headerLength = (ip[o]! & 0x0f) * 4;
    const totalLength = (ip[o + 2]! << 8) | ip[o + 3]!;
    if (ip[o + 9] !== TCP_PROTOCOL || (((ip[o + 6]! << 8) | ip[o + 7]!) & 0x3fff) !== 0 || headerLength < 20) return;
    const end = o + (totalLength >= headerLength ? Math.min(totalLength, ipLength) : ipLength);
    const t = o + headerLength;
    if (end - t < 20) return;
    const dataOffset = (ip[t + 12]! >> 4) * 4;
    if (dataOffset < 20 || dataOffset > end - t) return;
    const source = be32(ip, o + 12);
    const destination = be32(ip, o + 16);
    const sport = (ip[t]! << 8) | ip[t + 1]!;
    const dport = (ip[t + 2]! << 8) | ip[t + 3]!;
    const ports = ((sport << 16) | dport) >>> 0;
    let flow = this.last;
    let forward: boolean;
    if (flow && flow.source === source && flow.destination === destination && flow.ports === ports) forward = true;
    else if (flow && flow.source === destination && flow.destination === source && flow.ports === (((dport << 16) | sport) >>> 0)) forward = false;
    else {
      const key = source < destination || (source === destination && sport <= dport) ? `${source},${destination},${ports}` : `${destination},${source},${((dport << 16) | sport) >>> 0}`;
      flow = this.byKey.get(key);
      if (!flow) {
        flow = { connection: this.newConnection(etherType, o ? ip.subarray(o) : ip), source, destination, ports };
        this.byKey.set(key, flow);
      }
      forward = flow.source === source && flow.destination === destination && flow.ports === ports;
      this.last = flow;
    }
    const direction = forward ? flow.connection.first : flow.connection.second;
    this.push(direction, packetNumber, be32(ip, t + 4), be32(ip, t + 8), ip[t + 13]!, end - t - dataOffset, location, ip.byteOffset - frame.byteOffset + t + dataOffset);
  }

  private push(direction: DirectionRefs, packetNumber: number, seq: number, ack: number, flags: number, length: number, location: number, skip: number): void {
    const i = direction.segments.push(packetNumber, seq, ack, flags, length, location, skip);
    if (!direction.segments.isData(i)) return;
    const n = this.dataCount;
    if (n === this.dataDirection.length) {
      const d = new Int32Array(n * 2);
      d.set(this.dataDirection);
      this.dataDirection = d;
      const x = new Int32Array(n * 2);
      x.set(this.dataIndex);
      this.dataIndex = x;
    }
    this.dataDirection[n] = direction.id;
    this.dataIndex[n] = i;
    this.dataCount = n + 1;
  }

  private newConnection(etherType: number, ip: Uint8Array): ConnectionRefs {
    const parsed = parseTcpPacket(etherType, ip)!;
    const first: DirectionRefs = { id: this.directions.length, source: parsed.source, destination: parsed.destination, segments: new SegmentColumns() };
    const second: DirectionRefs = { id: this.directions.length + 1, source: parsed.destination, destination: parsed.source, segments: new SegmentColumns() };
    this.directions.push(first, second);
    const connection: ConnectionRefs = {
      name: `${endpointName(parsed.source)}<->${endpointName(parsed.destination)}`,
      first,
      second,
      firstSentSyn: (parsed.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN,
    };
    this.connections.push(connection);
    return connection;
  }
}

/** The capture's TCP connections with their segments' bytes (tcp-flows.ts `tcpConnections`, by the replay's scanner). */
export function captureConnections(capture: Capture): TcpConnection[] {
  const scanner = new ConnectionScanner();
  capture.packets.forEach((packet, index) => scanner.add(packet.data, capture.interfaces[packet.interfaceId], packet.interfaceId, index));
  const direction = (refs: DirectionRefs): TcpDirection => {
    const c = refs.segments;
    const segments: TcpDirection['segments'] = [];
    for (let i = 0; i < c.count; i++) {
      const packet = capture.packets[c.location[i]!]!;
      segments.push({
        packetNumber: c.packetNumber[i]!,
        timestampNs: packet.timestampNs,
        seq: c.seq[i]!,
        ack: c.ack[i]!,
        flags: c.flags[i]!,
        payload: packet.data.subarray(c.skip[i]!, c.skip[i]! + c.length[i]!),
      });
    }
    return { source: refs.source, destination: refs.destination, segments };
  };
  return scanner.connections.map((c) => ({ name: c.name, first: direction(c.first), second: direction(c.second), firstSentSyn: c.firstSentSyn }));
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

function flowName(direction: { source: TcpEndpoint; destination: TcpEndpoint }): string {
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

/** Where the replay gets packets: pass 1 visits them all; pass 2 and the handshake read payload bytes by location. */
export interface ReplaySource {
  /** The file, for diagnostics. */
  readonly name?: string;
  readonly interfaces: readonly CaptureInterface[];
  /** Pass 1: every packet in capture order (`frame` valid during the call) with its location. */
  scan(visit: (frame: Uint8Array, interfaceId: number, location: number) => void): void;
  /** After the scan. */
  readonly packetCount: number;
  readonly secrets: readonly CaptureSecret[];
  readonly truncation: CaptureTruncation | undefined;
  /** Payload bytes that stay valid (the handshake prefix). */
  bytes(location: number, skip: number, length: number): Uint8Array;
  /** Payload bytes in pass 2, asked for in capture order: valid until `beforeReuse` next runs. */
  view(location: number, skip: number, length: number): Uint8Array;
  /** The source calls it before reusing memory that views point into. */
  beforeReuse: ((recycled: ArrayBufferLike) => void) | undefined;
}

/** A capture already in memory: locations are packet indexes. */
export function memorySource(capture: Capture): ReplaySource {
  const data = (location: number, skip: number, length: number): Uint8Array => capture.packets[location]!.data.subarray(skip, skip + length);
  return {
    interfaces: capture.interfaces,
    scan(visit) {
      capture.packets.forEach((packet, index) => visit(packet.data, packet.interfaceId, index));
    },
    packetCount: capture.packets.length,
    secrets: capture.secrets,
    truncation: capture.truncation,
    bytes: data,
    view: data,
    beforeReuse: undefined,
  };
}

/**
 * A capture file read through a window (pcap/capture-file.ts): locations are
 * file offsets of packet data. Throws NC1001, NC2001, NC2004 as readCapture.
 */
export function fileSource(path: string, windowBytes?: number): ReplaySource & { close(): void } {
  const window = new CaptureFileWindow(path, windowBytes);
  let scan: CaptureFileScan | undefined;
  const interfaces: CaptureInterface[] = [];
  const source = {
    name: path,
    interfaces,
    scan(visit: (frame: Uint8Array, interfaceId: number, location: number) => void) {
      scan = scanCaptureFile(window, (packet, at, known) => {
        if (interfaces.length !== known.length) interfaces.splice(0, interfaces.length, ...known);
        visit(packet.data, packet.interfaceId, at);
      });
      interfaces.splice(0, interfaces.length, ...scan.interfaces);
    },
    get packetCount() {
      return scan?.packetCount ?? 0;
    },
    get secrets() {
      return scan?.secrets ?? [];
    },
    get truncation() {
      return scan?.truncation;
    },
    bytes: (location: number, skip: number, length: number) => window.copy(location + skip, length),
    view: (location: number, skip: number, length: number) => window.view(location + skip, length),
    beforeReuse: undefined as ((recycled: ArrayBufferLike) => void) | undefined,
    close: () => window.close(),
  };
  window.onMove = (recycled) => source.beforeReuse?.(recycled);
  return source;
}

interface DirectionInput {
  /** Its segments' `offset` column holds the stream offset of each data segment. */
  direction: DirectionRefs;
  initialSeq: number;
  /** Data segments (payload, no RST) and their payload bytes, retransmissions included. */
  dataPackets: number;
  payloadBytes: number;
  role: DirectionReport['role'];
}

interface PlacedDirectionRefs {
  direction: DirectionRefs;
  initialSeq: number;
  dataPackets: number;
  payloadBytes: number;
}

/** Stream offsets of a direction's data segments (host-tls-stack.ts `placeStream`), into its `offset` column. */
function placeDirection(direction: DirectionRefs): PlacedDirectionRefs {
  const c = direction.segments;
  c.offset = new Float64Array(c.count).fill(NaN);
  let dataPackets = 0;
  let payloadBytes = 0;
  const initialSeq = placeStream(
    c.count,
    (i) => c.seq[i]!,
    (i) => c.flags[i]!,
    (i) => c.length[i]!,
    (i, offset) => {
      c.offset[i] = offset;
      dataPackets++;
      payloadBytes += c.length[i]!;
    },
  );
  return { direction, initialSeq, dataPackets, payloadBytes };
}

/**
 * One direction in pass 2: its NIC model, and the host stack when there is
 * something to decrypt. Pass 2 feeds every data segment of the capture, in
 * capture order, to its direction's run.
 */
interface DirectionRun {
  input: DirectionInput;
  nic: TlsRxFlowState;
  host: HostTlsStack | undefined;
  counters: TlsCounters;
  streamEnd: number;
  /** Filled at the end. */
  report: DirectionReport;
  finish(): void;
}

interface Progress {
  done: number;
  total: number;
  report?: (done: number, total: number) => void;
}

function directionReport(input: DirectionInput, counters: TlsCounters): DirectionReport {
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
    dataPackets: input.dataPackets,
    payloadBytes: input.payloadBytes,
  };
}

/** A direction nothing of which is offloaded or decrypted (no keys, unsupported suite). */
function passThroughRun(input: DirectionInput, reason: string): DirectionRun {
  const counters = zeroCounters();
  const nic = new TlsRxFlowState({ mode: 'none', startOffset: 0, startRecordNumber: 0, initialSeq: input.initialSeq, counters });
  const report = { ...directionReport(input, counters), notOffloaded: reason };
  const run: DirectionRun = {
    input,
    nic,
    host: undefined,
    counters,
    streamEnd: 0,
    report,
    finish() {
      nic.finish(run.streamEnd);
      report.spans = nic.spans;
    },
  };
  return run;
}

interface SessionDirection {
  input: DirectionInput;
  flow: string;
  keys: DirectionKeys;
  start: OffloadStart | string;
  stream: number;
}

function sessionRun(setup: TlsSessionSetup, side: SessionDirection, options: ReplayOptions, problems: Diagnostic[]): DirectionRun {
  const mode = options.nic;
  const counters = zeroCounters();
  const report = directionReport(side.input, counters);
  const start = side.start;
  const offloaded = mode !== 'none' && typeof start !== 'string';
  if (mode !== 'none' && typeof start === 'string') {
    problems.push(makeDiagnostic('NC7009', { flow: side.flow, reason: start }));
    report.notOffloaded = start;
  } else if (mode === 'none') {
    report.notOffloaded = 'NIC mode none: software only';
  }
  const initialSeq = side.input.initialSeq;
  const nic = new TlsRxFlowState({
    mode: offloaded ? mode : 'none',
    ...(offloaded ? { keys: start.keys } : {}),
    startOffset: offloaded ? start.offset : 0,
    startRecordNumber: offloaded ? start.recordNumber : 0,
    initialSeq,
    counters,
  });
  const keepPlaintext = options.keepPlaintext ?? false;
  const sink = options.onPlaintext;
  const host = new HostTlsStack(new RecordDecryptor(setup.cipherSuite, side.keys), {
    flow: side.flow,
    initialSeq,
    counters,
    keepPlaintext,
    confirmDelayPackets: options.confirmDelayPackets ?? DEFAULT_CONFIRM_DELAY_PACKETS,
    ...(typeof start !== 'string' ? { applicationStart: { offset: start.offset, recordNumber: start.recordNumber } } : {}),
    problems,
    ...(sink ? { onPlaintext: (plaintext: Uint8Array) => sink(side.stream, side.input.role, plaintext) } : {}),
  });
  const run: DirectionRun = {
    input: side.input,
    nic,
    host,
    counters,
    streamEnd: 0,
    report,
    finish() {
      nic.finish(run.streamEnd);
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
    },
  };
  return run;
}

/**
 * The transmit side of one direction (nic-tx-model.ts, §3b "Transmit side"):
 * its data segments stand for what its sender's NIC sent, the records are the
 * ones software parsed from where offload starts, the peer's ACKs release
 * them. The replay counts; it does not re-encrypt to compare with the wire
 * (that costs a second AES-GCM pass; test/tls-offload/nic-tx-model.test.ts
 * does it on every shared trace).
 */
function addTransmitCounters(run: DirectionRun, peer: DirectionRefs, version: '1.2' | '1.3', start: OffloadStart | string, aead: TransmitInput['aead']): void {
  if (!run.host || typeof start === 'string') return;
  const records = txRecordsFromLog(version, start.recordNumber, run.host.recordLog);
  const c = run.input.direction.segments;
  // The data segments' columns, compacted (the offset column is NaN for the others).
  const packetNumber = new Int32Array(run.input.dataPackets);
  const streamOffset = new Float64Array(run.input.dataPackets);
  const length = new Int32Array(run.input.dataPackets);
  let n = 0;
  for (let i = 0; i < c.count; i++) {
    if (c.offset[i] !== c.offset[i]) continue;
    packetNumber[n] = c.packetNumber[i]!;
    streamOffset[n] = c.offset[i]!;
    length[n] = c.length[i]!;
    n++;
  }
  const p = peer.segments;
  const acks = peerAckColumns(p.count, (i) => p.packetNumber[i]!, (i) => p.flags[i]!, (i) => p.ack[i]!, run.input.initialSeq);
  const result = transmitSide({ aead, key: start.keys.key, records, segments: { count: n, packetNumber, streamOffset, length }, acks });
  Object.assign(run.counters, result.counters);
}

/** What pass 1 settled for a connection before its packets are replayed. */
interface ConnectionPlan {
  runs: DirectionRun[];
  finish(): ConnectionReport;
}

function planConnection(connection: ConnectionRefs, stream: number, source: ReplaySource, options: ReplayOptions, keyLog: ReplayOptions['keyLog']): ConnectionPlan {
  const placedFirst = placeDirection(connection.first);
  const placedSecond = placeDirection(connection.second);
  const secondFlags = connection.second.segments.flags.subarray(0, connection.second.segments.count);
  const firstIsClient = connection.firstSentSyn || !secondFlags.some((f) => (f & (TCP_SYN | TCP_ACK)) === TCP_SYN);
  const inputs = (clientFirst: boolean): [DirectionInput, DirectionInput] => {
    const first: DirectionInput = { ...placedFirst, role: clientFirst ? 'client-to-server' : 'server-to-client' };
    const second: DirectionInput = { ...placedSecond, role: clientFirst ? 'server-to-client' : 'client-to-server' };
    return clientFirst ? [first, second] : [second, first];
  };
  const endpoints = (clientFirst: boolean): { client: string; server: string } => {
    const [a, b] = clientFirst ? [connection.first, connection.second] : [connection.second, connection.first];
    return { client: endpointName(a.source), server: endpointName(b.source) };
  };
  const fixed = (report: ConnectionReport, runs: DirectionRun[] = []): ConnectionPlan => ({
    runs,
    finish() {
      for (const run of runs) run.finish();
      report.directions = runs.map((run) => run.report);
      return report;
    },
  });
  // Identification reads only segments that reach into the prefix, and only then fetches their bytes.
  const prefixOf = (placed: PlacedDirectionRefs, limit: number): AssembledStream => {
    const c = placed.direction.segments;
    const data: number[] = [];
    for (let i = 0; i < c.count; i++) if (c.offset[i] === c.offset[i]) data.push(i);
    return assembleStreamFrom(
      placed.initialSeq,
      data.length,
      (k) => c.offset[data[k]!]!,
      (k) => c.length[data[k]!]!,
      (k) => source.bytes(c.location[data[k]!]!, c.skip[data[k]!]!, c.length[data[k]!]!),
      limit,
    );
  };
  const asTcpConnection: TcpConnection = {
    name: connection.name,
    first: { source: connection.first.source, destination: connection.first.destination, segments: [] },
    second: { source: connection.second.source, destination: connection.second.destination, segments: [] },
    firstSentSyn: connection.firstSentSyn,
  };

  // Find the handshake in the first bytes of each stream; assemble more only when it is longer.
  let identified: SessionIdentification;
  let firstStream: AssembledStream;
  let secondStream: AssembledStream;
  let starts: [OffloadStart | string, OffloadStart | string] = ['', ''];
  for (let limit = HANDSHAKE_PREFIX; ; limit *= 16) {
    firstStream = prefixOf(placedFirst, limit);
    secondStream = prefixOf(placedSecond, limit);
    const whole = firstStream.inOrderLength <= limit && secondStream.inOrderLength <= limit;
    try {
      identified = identifyTlsSession(asTcpConnection, firstStream, secondStream, { keyLog, ...(options.psk ? { psk: options.psk } : {}) });
    } catch (error) {
      if (!(error instanceof NicoffError)) throw error;
      if (!whole) continue; // a record cut by the prefix end is fine; a bad header is not: look at everything
      return fixed({ stream, ...endpoints(firstIsClient), status: 'not-tls', directions: [], problems: [error.diagnostic] });
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
    if (!looksLikeTls(firstStream.bytes) && !looksLikeTls(secondStream.bytes)) {
      return fixed({ stream, ...endpoints(firstIsClient), status: 'not-tls', directions: [], problems: [] });
    }
    const runs = inputs(firstIsClient).map((input) => passThroughRun(input, 'no keys: no handshake in the capture'));
    return fixed({ stream, ...endpoints(firstIsClient), status: 'no-keys', directions: [], problems: [makeDiagnostic('NC7007', { flow: connection.name })] }, runs);
  }

  if (identified.kind !== 'session') {
    const sides = identified.sides;
    const clientFirst = sides.client === asTcpConnection.first;
    const problems = [...sides.gaps, identified.problem];
    const status = identified.kind === 'unsupported-cipher' ? 'unsupported-cipher' : 'no-keys';
    const reason = status === 'unsupported-cipher' ? `unsupported cipher suite (${identified.problem.message})` : `no keys (${identified.problem.message})`;
    const runs = inputs(clientFirst).map((input) => passThroughRun(input, reason));
    const report: ConnectionReport = { stream, ...endpoints(clientFirst), status, directions: [], problems };
    if (identified.cipherSuite) {
      report.tlsVersion = identified.cipherSuite.version;
      report.cipherSuite = identified.cipherSuite.name;
    }
    return fixed(report, runs);
  }

  const setup = identified.setup;
  const clientFirst = setup.client === asTcpConnection.first;
  const [clientInput, serverInput] = inputs(clientFirst);
  // Each direction's diagnostics in its own list, joined client first as a whole-direction replay would give them.
  const clientProblems: Diagnostic[] = [];
  const serverProblems: Diagnostic[] = [];
  const clientRun = sessionRun(setup, { input: clientInput, flow: setup.clientFlow, keys: setup.clientKeys, start: starts[0], stream }, options, clientProblems);
  const serverRun = sessionRun(setup, { input: serverInput, flow: setup.serverFlow, keys: setup.serverKeys, start: starts[1], stream }, options, serverProblems);
  return {
    runs: [clientRun, serverRun],
    finish() {
      clientRun.finish();
      serverRun.finish();
      const version = setup.cipherSuite.version;
      addTransmitCounters(clientRun, serverInput.direction, version, starts[0], setup.cipherSuite.aead);
      addTransmitCounters(serverRun, clientInput.direction, version, starts[1], setup.cipherSuite.aead);
      return {
        stream,
        ...endpoints(clientFirst),
        status: 'decrypted',
        tlsVersion: version,
        cipherSuite: setup.cipherSuite.name,
        directions: [clientRun.report, serverRun.report],
        problems: [...setup.gaps, ...clientProblems, ...serverProblems],
      };
    },
  };
}

/** Replay a capture held in memory through the NIC model in the given mode and the host's software stack. */
export function replayCapture(capture: Capture, options: ReplayOptions): ReplayReport {
  return replaySource(memorySource(capture), options);
}

/** Both passes over any source. Throws NC2003 when packets come on a link type nicoff does not read. */
export function replaySource(source: ReplaySource, options: ReplayOptions): ReplayReport {
  const replay = new Replay(source, options);
  replay.step(Infinity);
  return replay.finish();
}

/** Data segments pass 2 feeds between two `betweenSteps` calls of `replayCaptureFile`. */
const STEP_SEGMENTS = 4096;

/**
 * Replay a capture file without holding it in memory: pass 1 reads it for the
 * connections, handshakes and keys; pass 2 reads it again and feeds each
 * packet's payload to its direction. `betweenSteps` is awaited every few
 * thousand packets (the CLI lets its plaintext writes complete there).
 */
export async function replayCaptureFile(
  path: string,
  options: ReplayOptions,
  tuning: { windowBytes?: number; betweenSteps?: () => Promise<void> } = {},
): Promise<{ report: ReplayReport; source: ReplaySource }> {
  const source = fileSource(path, tuning.windowBytes);
  try {
    const replay = new Replay(source, options);
    while (!replay.done) {
      replay.step(STEP_SEGMENTS);
      if (tuning.betweenSteps) await tuning.betweenSteps();
    }
    return { report: replay.finish(), source };
  } finally {
    source.close();
  }
}

/** Pass 1 in the constructor; pass 2 in steps; the report at the end. */
class Replay {
  private readonly scanner = new ConnectionScanner();
  private readonly plans: ConnectionPlan[];
  private readonly runs: DirectionRun[];
  private readonly runOf: (DirectionRun | undefined)[];
  private readonly progress: Progress;
  /** Next entry of the scanner's data order. */
  private next = 0;

  constructor(
    private readonly source: ReplaySource,
    private readonly options: ReplayOptions,
  ) {
    const scanner = this.scanner;
    source.scan((frame, interfaceId, location) => scanner.add(frame, source.interfaces[interfaceId], interfaceId, location));
    for (const id of scanner.unreadableInterfaces) {
      const linkType = source.interfaces[id]!.linkType;
      fail('NC2003', { linktype: linkType, name: linkTypeName(linkType) }, source.name ? { file: source.name } : {});
    }
    const keyLog = source.secrets.length ? mergeKeyLogs([keyLogFromCaptureSecrets([...source.secrets]), options.keyLog]) : options.keyLog;
    this.plans = scanner.connections.map((connection, index) => planConnection(connection, index, source, options, keyLog));
    this.runs = this.plans.flatMap((plan) => plan.runs);
    this.runOf = new Array(scanner.directions.length).fill(undefined);
    let total = 0;
    for (const run of this.runs) {
      this.runOf[run.input.direction.id] = run;
      total += run.input.dataPackets;
    }
    this.progress = { done: 0, total, ...(options.onProgress ? { report: options.onProgress } : {}) };
  }

  get done(): boolean {
    return this.next >= this.scanner.dataCount;
  }

  /** Pass 2 over the next `count` data segments of the capture, in capture order, each to its direction's run. */
  step(count: number): void {
    const { source, runOf, progress, runs } = this;
    const { dataDirection, dataIndex } = this.scanner;
    const end = Math.min(this.scanner.dataCount, this.next + count);
    source.beforeReuse = (recycled) => {
      for (const run of runs) {
        run.nic.detach();
        run.host?.detach(recycled);
      }
    };
    for (let g = this.next; g < end; g++) {
      const run = runOf[dataDirection[g]!];
      if (!run) continue; // not TLS
      const c = run.input.direction.segments;
      const i = dataIndex[g]!;
      const offset = c.offset[i]!;
      const length = c.length[i]!;
      const payload = source.view(c.location[i]!, c.skip[i]!, length);
      const verdict = run.nic.receive(offset, payload);
      if (run.host) {
        run.host.noticeRequest(run.nic);
        run.host.deliver(offset, payload, verdict);
        run.host.afterPacket(run.nic);
      }
      if (offset + length > run.streamEnd) run.streamEnd = offset + length;
      progress.done++;
      if (progress.report && progress.done % PROGRESS_EVERY === 0) progress.report(progress.done, progress.total);
    }
    this.next = end;
  }

  finish(): ReplayReport {
    const { source, options, progress } = this;
    source.beforeReuse = undefined;
    options.onProgress?.(progress.done, progress.total);
    const reports = this.plans.map((plan) => plan.finish());
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
      packets: source.packetCount,
      connections: reports,
      totals,
      offloadRatio: payloadBytes ? totals.rx_tls_decrypted_bytes / payloadBytes : 0,
    };
    if (source.truncation) report.truncation = truncationDiagnostic(source.truncation, source.packetCount);
    return report;
  }
}
