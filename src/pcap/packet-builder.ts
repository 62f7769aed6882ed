/**
 * Building test and example packets layer by layer, with real checksums.
 * Each function takes the upper layer's bytes and returns a new array with its
 * header in front, so a packet reads inside out:
 *   ethernetFrame(eth, ipv4Packet(ip, udpDatagram(ip.src, ip.dst, udp, payload)))
 */
import { ETHERTYPE } from './link-layer.js';

export const IPPROTO = { ICMP: 1, TCP: 6, UDP: 17, IPIP: 4, IPV6: 41, ROUTING: 43, FRAGMENT: 44, ICMPV6: 58, NONE: 59, DSTOPTS: 60, HOPOPTS: 0 } as const;

export const TCP_FLAGS = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20 } as const;

export function macAddress(text: string): Uint8Array {
  const parts = text.split(':');
  if (parts.length !== 6) throw new Error(`bad MAC address ${text}`);
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

export function ipv4Address(text: string): Uint8Array {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) throw new Error(`bad IPv4 address ${text}`);
  return Uint8Array.from(parts);
}

export function ipv6Address(text: string): Uint8Array {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string | undefined): number[] => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const front = groups(head);
  const back = groups(tail);
  const words = tail === undefined ? front : [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  if (words.length !== 8 || words.some((w) => !(w >= 0 && w <= 0xffff))) throw new Error(`bad IPv6 address ${text}`);
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

function put32(b: Uint8Array, at: number, v: number): void {
  put16(b, at, (v >>> 16) & 0xffff);
  put16(b, at + 2, v & 0xffff);
}

/** Ones'-complement sum of 16-bit big-endian words, not yet complemented. */
function onesComplementSum(bytes: Uint8Array, sum = 0): number {
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length % 2) sum += bytes[bytes.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** RFC 1071 Internet checksum of `bytes` (plus an optional pseudo-header sum). */
export function internetChecksum(bytes: Uint8Array, initialSum = 0): number {
  return ~onesComplementSum(bytes, initialSum) & 0xffff;
}

function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  const header = src.length === 4 ? new Uint8Array(12) : new Uint8Array(40);
  header.set(src, 0);
  header.set(dst, src.length);
  if (src.length === 4) {
    header[9] = protocol;
    put16(header, 10, length);
  } else {
    put32(header, 32, length);
    header[39] = protocol;
  }
  return onesComplementSum(header);
}

export interface VlanTagSpec {
  vid: number;
  pcp?: number;
  /** Defaults to 0x8100. */
  tpid?: number;
}

export interface EthernetSpec {
  dst: Uint8Array;
  src: Uint8Array;
  etherType: number;
  /** Outermost first. */
  vlans?: VlanTagSpec[];
}

export function ethernetFrame(eth: EthernetSpec, payload: Uint8Array): Uint8Array {
  const tags = eth.vlans ?? [];
  const header = new Uint8Array(14 + 4 * tags.length);
  header.set(eth.dst, 0);
  header.set(eth.src, 6);
  let at = 12;
  for (const tag of tags) {
    put16(header, at, tag.tpid ?? ETHERTYPE.VLAN);
    put16(header, at + 2, ((tag.pcp ?? 0) << 13) | (tag.vid & 0xfff));
    at += 4;
  }
  put16(header, at, eth.etherType);
  return concat(header, payload);
}

export interface Ipv4Spec {
  src: Uint8Array;
  dst: Uint8Array;
  protocol: number;
  ttl?: number;
  /** The whole TOS byte: DSCP << 2 | ECN. */
  tos?: number;
  id?: number;
  dontFragment?: boolean;
  moreFragments?: boolean;
  /** In bytes of 8. */
  fragmentOffset?: number;
  /** Raw option bytes, padded with zeros (end of options) to a multiple of 4. */
  options?: Uint8Array;
}

export function ipv4Packet(ip: Ipv4Spec, payload: Uint8Array): Uint8Array {
  const optionLength = ((ip.options?.length ?? 0) + 3) & ~3;
  const header = new Uint8Array(20 + optionLength);
  header[0] = 0x40 | (header.length / 4);
  header[1] = ip.tos ?? 0;
  put16(header, 2, header.length + payload.length);
  put16(header, 4, ip.id ?? 0);
  put16(header, 6, (ip.dontFragment ? 0x4000 : 0) | (ip.moreFragments ? 0x2000 : 0) | (ip.fragmentOffset ?? 0));
  header[8] = ip.ttl ?? 64;
  header[9] = ip.protocol;
  header.set(ip.src, 12);
  header.set(ip.dst, 16);
  if (ip.options) header.set(ip.options, 20);
  put16(header, 10, internetChecksum(header));
  return concat(header, payload);
}

export interface Ipv6ExtensionHeader {
  /** This header's own protocol number (0 hop-by-hop, 43 routing, 44 fragment, 60 destination options). */
  type: number;
  /** Bytes after the next-header byte (and, except for fragments, the length byte); padded to 8n. */
  body: Uint8Array;
}

export interface Ipv6Spec {
  src: Uint8Array;
  dst: Uint8Array;
  /** Protocol of the payload after the extension headers. */
  nextHeader: number;
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
  extensionHeaders?: Ipv6ExtensionHeader[];
}

export function ipv6Packet(ip: Ipv6Spec, payload: Uint8Array): Uint8Array {
  const extensions = ip.extensionHeaders ?? [];
  const encoded = extensions.map((ext, i) => {
    const next = i + 1 < extensions.length ? extensions[i + 1]!.type : ip.nextHeader;
    if (ext.type === IPPROTO.FRAGMENT) {
      const h = new Uint8Array(8);
      h[0] = next;
      h.set(ext.body.subarray(0, 7), 1);
      return h;
    }
    const length = Math.max(8, (2 + ext.body.length + 7) & ~7);
    const h = new Uint8Array(length);
    h[0] = next;
    h[1] = length / 8 - 1;
    h.set(ext.body, 2);
    return h;
  });
  const rest = concat(...encoded, payload);
  const header = new Uint8Array(40);
  const tc = ip.trafficClass ?? 0;
  put32(header, 0, (6 << 28) | (tc << 20) | ((ip.flowLabel ?? 0) & 0xfffff));
  put16(header, 4, rest.length);
  header[6] = extensions.length ? extensions[0]!.type : ip.nextHeader;
  header[7] = ip.hopLimit ?? 64;
  header.set(ip.src, 8);
  header.set(ip.dst, 24);
  return concat(header, rest);
}

export interface UdpSpec {
  srcPort: number;
  dstPort: number;
}

/** A UDP datagram; the checksum covers the IPv4 or IPv6 pseudo-header of `src`/`dst`. */
export function udpDatagram(src: Uint8Array, dst: Uint8Array, udp: UdpSpec, payload: Uint8Array): Uint8Array {
  const d = new Uint8Array(8 + payload.length);
  put16(d, 0, udp.srcPort);
  put16(d, 2, udp.dstPort);
  put16(d, 4, d.length);
  d.set(payload, 8);
  const sum = internetChecksum(d, pseudoHeaderSum(src, dst, IPPROTO.UDP, d.length));
  put16(d, 6, sum === 0 ? 0xffff : sum);
  return d;
}

export interface TcpSpec {
  srcPort: number;
  dstPort: number;
  seq?: number;
  ack?: number;
  /** TCP_FLAGS bits. */
  flags: number;
  window?: number;
  /** Raw option bytes, padded with zeros (end of options) to a multiple of 4. */
  options?: Uint8Array;
}

export function tcpSegment(src: Uint8Array, dst: Uint8Array, tcp: TcpSpec, payload: Uint8Array): Uint8Array {
  const optionLength = ((tcp.options?.length ?? 0) + 3) & ~3;
  const s = new Uint8Array(20 + optionLength + payload.length);
  put16(s, 0, tcp.srcPort);
  put16(s, 2, tcp.dstPort);
  put32(s, 4, tcp.seq ?? 0);
  put32(s, 8, tcp.ack ?? 0);
  s[12] = ((20 + optionLength) / 4) << 4;
  s[13] = tcp.flags;
  put16(s, 14, tcp.window ?? 65535);
  if (tcp.options) s.set(tcp.options, 20);
  s.set(payload, 20 + optionLength);
  put16(s, 16, internetChecksum(s, pseudoHeaderSum(src, dst, IPPROTO.TCP, s.length)));
  return s;
}

export interface IcmpSpec {
  type: number;
  code?: number;
  /** Echo identifier and sequence number (the "rest of header" word for echo messages). */
  id?: number;
  seq?: number;
}

/** ICMPv4 message; the checksum covers only the message. */
export function icmpv4Message(icmp: IcmpSpec, payload: Uint8Array): Uint8Array {
  const m = new Uint8Array(8 + payload.length);
  m[0] = icmp.type;
  m[1] = icmp.code ?? 0;
  put16(m, 4, icmp.id ?? 0);
  put16(m, 6, icmp.seq ?? 0);
  m.set(payload, 8);
  put16(m, 2, internetChecksum(m));
  return m;
}

/** ICMPv6 message; the checksum covers the IPv6 pseudo-header. */
export function icmpv6Message(src: Uint8Array, dst: Uint8Array, icmp: IcmpSpec, payload: Uint8Array): Uint8Array {
  const m = new Uint8Array(8 + payload.length);
  m[0] = icmp.type;
  m[1] = icmp.code ?? 0;
  put16(m, 4, icmp.id ?? 0);
  put16(m, 6, icmp.seq ?? 0);
  m.set(payload, 8);
  put16(m, 2, internetChecksum(m, pseudoHeaderSum(src, dst, IPPROTO.ICMPV6, m.length)));
  return m;
}
