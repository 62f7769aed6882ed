/**
 * TCP flows of a capture: segments grouped by 4-tuple and direction, and each
 * direction's in-order byte stream rebuilt by sequence number.
 *
 * Reassembly works on 64-bit stream offsets: each 32-bit sequence number is
 * unwrapped to the offset nearest the highest one seen so far, so streams
 * longer than 4 GiB and sequence wraparound both work. Retransmitted,
 * duplicated and reordered segments are tolerated; where copies overlap, the
 * first copy captured wins. The stream stops at the first hole that no
 * captured segment fills.
 */
import { networkPayload, ETHERTYPE, type Capture } from '../pcap/index.js';

const TCP_PROTOCOL = 6;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;
export const SEQUENCE_SPACE = 2 ** 32;

export interface TcpEndpoint {
  address: string;
  port: number;
}

/** One captured TCP segment (payload may be empty). */
export interface TcpSegment {
  /** 1-based packet number in the capture. */
  packetNumber: number;
  timestampNs: bigint;
  seq: number;
  ack: number;
  flags: number;
  payload: Uint8Array;
}

/** One direction of a TCP connection. */
export interface TcpDirection {
  source: TcpEndpoint;
  destination: TcpEndpoint;
  /** Every segment in capture order, including pure ACKs. */
  segments: TcpSegment[];
}

export interface TcpConnection {
  /** `a:port<->b:port`, endpoints in the order they were first seen. */
  name: string;
  /** The direction whose first segment was captured first (the client, when the SYN was captured). */
  first: TcpDirection;
  second: TcpDirection;
  /** Whether `first` sent a SYN without ACK, so it is known to be the client. */
  firstSentSyn: boolean;
}

/** A direction's byte stream from its first data byte. */
export interface ReassembledStream {
  bytes: Buffer;
  /** Sequence number of bytes[0]. */
  initialSeq: number;
  /** Stream offset of the first hole no segment fills, if the stream stops at one. */
  gapAt?: number;
  /** Bytes captured beyond the hole (not part of `bytes`). */
  bytesAfterGap: number;
  /** Payload-carrying segments that brought no new byte (retransmissions, duplicates). */
  redundantSegments: number;
}

export function endpointName(endpoint: TcpEndpoint): string {
  return endpoint.address.includes(':') ? `[${endpoint.address}]:${endpoint.port}` : `${endpoint.address}:${endpoint.port}`;
}

export function directionName(direction: TcpDirection): string {
  return `${endpointName(direction.source)}->${endpointName(direction.destination)}`;
}

function ipv4Text(bytes: Uint8Array): string {
  return Array.from(bytes).join('.');
}

function ipv6Text(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}

interface ParsedTcp {
  source: TcpEndpoint;
  destination: TcpEndpoint;
  seq: number;
  ack: number;
  flags: number;
  payload: Uint8Array;
}

const IPV6_EXTENSION_HEADERS = new Set([0, 43, 60]);

/** The TCP segment inside an IPv4 or IPv6 packet, or undefined (not TCP, fragment, truncated). */
export function parseTcpPacket(etherType: number, ip: Uint8Array): ParsedTcp | undefined {
  let srcAddress: string;
  let dstAddress: string;
  let tcp: Uint8Array;
  if (etherType === ETHERTYPE.IPV4) {
    if (ip.length < 20 || ip[0]! >> 4 !== 4) return undefined;
    const headerLength = (ip[0]! & 0x0f) * 4;
    const totalLength = (ip[2]! << 8) | ip[3]!;
    const fragment = ((ip[6]! << 8) | ip[7]!) & 0x3fff;
    if (ip[9] !== TCP_PROTOCOL || fragment !== 0 || headerLength < 20) return undefined;
    // totalLength trims Ethernet padding; a TSO capture may carry 0 there.
    const end = totalLength >= headerLength ? Math.min(totalLength, ip.length) : ip.length;
    srcAddress = ipv4Text(ip.subarray(12, 16));
    dstAddress = ipv4Text(ip.subarray(16, 20));
    tcp = ip.subarray(headerLength, end);
  } else if (etherType === ETHERTYPE.IPV6) {
    if (ip.length < 40 || ip[0]! >> 4 !== 6) return undefined;
    const payloadLength = (ip[4]! << 8) | ip[5]!;
    let nextHeader = ip[6]!;
    let offset = 40;
    const end = Math.min(40 + payloadLength, ip.length);
    while (IPV6_EXTENSION_HEADERS.has(nextHeader)) {
      if (offset + 8 > end) return undefined;
      const length = (ip[offset + 1]! + 1) * 8;
      nextHeader = ip[offset]!;
      offset += length;
    }
    if (nextHeader !== TCP_PROTOCOL) return undefined;
    srcAddress = ipv6Text(ip.subarray(8, 24));
    dstAddress = ipv6Text(ip.subarray(24, 40));
    tcp = ip.subarray(offset, end);
  } else {
    return undefined;
  }
  if (tcp.length < 20) return undefined;
  const dataOffset = (tcp[12]! >> 4) * 4;
  if (dataOffset < 20 || dataOffset > tcp.length) return undefined;
  const view = new DataView(tcp.buffer, tcp.byteOffset, tcp.byteLength);
  return {
    source: { address: srcAddress, port: view.getUint16(0) },
    destination: { address: dstAddress, port: view.getUint16(2) },
    seq: view.getUint32(4),
    ack: view.getUint32(8),
    flags: tcp[13]!,
    payload: tcp.subarray(dataOffset),
  };
}

/** Group a capture's TCP segments into connections, in order of first appearance. */
export function tcpConnections(capture: Capture): TcpConnection[] {
  const byName = new Map<string, TcpConnection>();
  const connections: TcpConnection[] = [];
  capture.packets.forEach((packet, index) => {
    const iface = capture.interfaces[packet.interfaceId];
    if (!iface) return;
    const network = networkPayload(iface.linkType, packet.data, iface.fcsLen ?? 0);
    if (!network) return;
    const parsed = parseTcpPacket(network.etherType, network.payload);
    if (!parsed) return;
    const forwardName = `${endpointName(parsed.source)}<->${endpointName(parsed.destination)}`;
    const reverseName = `${endpointName(parsed.destination)}<->${endpointName(parsed.source)}`;
    let connection = byName.get(forwardName) ?? byName.get(reverseName);
    if (!connection) {
      connection = {
        name: forwardName,
        first: { source: parsed.source, destination: parsed.destination, segments: [] },
        second: { source: parsed.destination, destination: parsed.source, segments: [] },
        firstSentSyn: (parsed.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN,
      };
      byName.set(forwardName, connection);
      connections.push(connection);
    }
    const direction = connection.name === forwardName ? connection.first : connection.second;
    direction.segments.push({
      packetNumber: index + 1,
      timestampNs: packet.timestampNs,
      seq: parsed.seq,
      ack: parsed.ack,
      flags: parsed.flags,
      payload: parsed.payload,
    });
  });
  return connections;
}

/** Unwrap a 32-bit sequence-space distance to the 64-bit offset nearest `reference`. */
export function unwrapOffset(relative32: number, reference: number): number {
  const base = reference - (reference % SEQUENCE_SPACE);
  let best = base + relative32;
  // Written out rather than looped over an array: it runs once per segment.
  const lower = best - SEQUENCE_SPACE;
  const upper = best + SEQUENCE_SPACE;
  if (lower >= 0 && Math.abs(lower - reference) < Math.abs(best - reference)) best = lower;
  if (upper >= 0 && Math.abs(upper - reference) < Math.abs(best - reference)) best = upper;
  return best;
}

/**
 * Rebuild one direction's in-order byte stream. The initial sequence number
 * comes from the SYN when it was captured, otherwise from the first data segment.
 */
export function reassembleStream(direction: TcpDirection): ReassembledStream {
  const syn = direction.segments.find((s) => s.flags & TCP_SYN);
  const firstData = direction.segments.find((s) => s.payload.length > 0 && !(s.flags & TCP_RST));
  const initialSeq = syn ? (syn.seq + 1) % SEQUENCE_SPACE : firstData ? firstData.seq : 0;

  // Place every data segment at its stream offset, in capture order.
  const placed: { offset: number; payload: Uint8Array }[] = [];
  let highest = 0;
  for (const segment of direction.segments) {
    if (segment.payload.length === 0 || segment.flags & TCP_RST) continue;
    let payload = segment.payload;
    let seq = segment.seq;
    if (segment.flags & TCP_SYN) seq = (seq + 1) % SEQUENCE_SPACE; // data on a SYN (TFO)
    const relative = (seq - initialSeq + SEQUENCE_SPACE) % SEQUENCE_SPACE;
    let offset = unwrapOffset(relative, highest);
    if (offset > highest + SEQUENCE_SPACE / 2) offset -= SEQUENCE_SPACE;
    if (offset < 0) {
      // Starts before the stream's first byte (a retransmission of the SYN's data, or a capture started mid-stream).
      if (offset + payload.length <= 0) continue;
      payload = payload.subarray(-offset);
      offset = 0;
    }
    highest = Math.max(highest, offset + payload.length);
    placed.push({ offset, payload });
  }

  // Copy segments in capture order into the stream, byte ranges already
  // filled are kept: the first captured copy of every byte wins.
  const buffer = Buffer.alloc(highest);
  const filled = new Uint8Array(highest);
  let redundantSegments = 0;
  for (const piece of placed) {
    let added = 0;
    for (let i = 0; i < piece.payload.length; i++) {
      const at = piece.offset + i;
      if (filled[at]) continue;
      filled[at] = 1;
      buffer[at] = piece.payload[i]!;
      added++;
    }
    if (added === 0) redundantSegments++;
  }
  let length = filled.indexOf(0);
  if (length < 0) length = highest;
  let bytesAfterGap = 0;
  for (let at = length; at < highest; at++) bytesAfterGap += filled[at]!;
  const gapAt = length < highest ? length : undefined;
  const result: ReassembledStream = { bytes: buffer.subarray(0, length), initialSeq, bytesAfterGap, redundantSegments };
  if (gapAt !== undefined) result.gapAt = gapAt;
  return result;
}
