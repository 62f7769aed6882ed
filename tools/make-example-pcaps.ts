/**
 * Writes examples/<name>.pcap for every example program: 20-60 packets that
 * exercise its paths. Deterministic (seeded PRNG, fixed timestamps), so the
 * committed captures can be checked for reproducibility.
 *
 *   npx tsx tools/make-example-pcaps.ts
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ETHERTYPE,
  IPPROTO,
  LINKTYPE,
  TCP_FLAGS,
  ethernetFrame,
  icmpv4Message,
  icmpv6Message,
  ipv4Address,
  ipv4Packet,
  ipv6Address,
  ipv6Packet,
  macAddress,
  tcpSegment,
  udpDatagram,
  writePcap,
  type Ipv6ExtensionHeader,
  type VlanTagSpec,
} from '../src/pcap/index.js';
// mulberry32, shared with the fuzzer: the committed captures depend on its exact output.
import { seededRandom } from '../src/verifier/mutate.js';

/** Whether tshark should dissect a packet cleanly, or it is cut/runt on purpose. */
export type PacketIntent = 'valid' | 'malformed';

export interface ExamplePacket {
  data: Uint8Array;
  timestampNs: bigint;
  intent: PacketIntent;
  /** One line on what the packet exercises. */
  note: string;
}

const START_NS = 1_767_225_600_000_000_000n; // 2026-01-01T00:00:00Z
const ROUTER_MAC = macAddress('02:00:00:00:00:fe');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A DNS query for `name` (type A), so tshark sees a well-formed message on port 53. */
function dnsQuery(id: number, name: string): Uint8Array {
  const labels = name.split('.').flatMap((l) => [l.length, ...enc(l)]);
  return Uint8Array.of(id >> 8, id & 0xff, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1);
}

const SIP_OPTIONS = enc(
  'OPTIONS sip:gw@198.51.100.5 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776\r\n' +
    'From: <sip:probe@192.0.2.10>;tag=1\r\nTo: <sip:gw@198.51.100.5>\r\nCall-ID: 42@192.0.2.10\r\n' +
    'CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n',
);
const HTTP_GET = enc('GET / HTTP/1.1\r\nHost: example.net\r\n\r\n');

/** RFC 8200 8.1: with a routing header the upper-layer checksum uses the final destination. */
function finalDestination(dst: Uint8Array, ext: Ipv6ExtensionHeader[] | undefined): Uint8Array {
  const routing = ext?.find((e) => e.type === IPPROTO.ROUTING);
  return routing ? routing.body.subarray(routing.body.length - 16) : dst;
}

/** Builds one example's packets with a shared clock and PRNG. */
class CaptureScript {
  readonly packets: ExamplePacket[] = [];
  private clockNs = START_NS;
  readonly random: () => number;

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }
  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.int(256));
  }
  hostMac(): Uint8Array {
    return Uint8Array.of(0x02, 0x00, 0x5e, this.int(256), this.int(256), this.int(256));
  }
  v4(): string {
    return `10.${this.int(256)}.${this.int(256)}.${1 + this.int(254)}`;
  }
  v6(): string {
    return `2001:db8:${this.int(65536).toString(16)}::${(1 + this.int(65535)).toString(16)}`;
  }
  /** Append a frame `gapNs` after the previous one. */
  add(data: Uint8Array, note: string, intent: PacketIntent = 'valid', gapNs = 1_000_000n): void {
    this.clockNs += gapNs;
    this.packets.push({ data, timestampNs: this.clockNs, intent, note });
  }

  eth(etherType: number, payload: Uint8Array, vlans?: VlanTagSpec[], src = this.hostMac()): Uint8Array {
    return ethernetFrame({ dst: ROUTER_MAC, src, etherType, vlans }, payload);
  }
  udp4(o: { src?: string; dst?: string; sport?: number; dport: number; payload?: Uint8Array; tos?: number; options?: Uint8Array; vlans?: VlanTagSpec[] }): Uint8Array {
    const src = ipv4Address(o.src ?? this.v4());
    const dst = ipv4Address(o.dst ?? this.v4());
    const udp = udpDatagram(src, dst, { srcPort: o.sport ?? 32768 + this.int(28000), dstPort: o.dport }, o.payload ?? this.bytes(8 + this.int(40)));
    return this.eth(ETHERTYPE.IPV4, ipv4Packet({ src, dst, protocol: IPPROTO.UDP, tos: o.tos, options: o.options, id: this.int(65536) }, udp), o.vlans);
  }
  tcp4(o: { src?: string; dst?: string; sport?: number; dport: number; flags: number; payload?: Uint8Array; options?: Uint8Array; tos?: number }): Uint8Array {
    const src = ipv4Address(o.src ?? this.v4());
    const dst = ipv4Address(o.dst ?? this.v4());
    const seg = tcpSegment(
      src,
      dst,
      { srcPort: o.sport ?? 32768 + this.int(28000), dstPort: o.dport, flags: o.flags, seq: this.int(2 ** 32), ack: o.flags & TCP_FLAGS.ACK ? this.int(2 ** 32) : 0, options: o.options },
      o.payload ?? new Uint8Array(0),
    );
    return this.eth(ETHERTYPE.IPV4, ipv4Packet({ src, dst, protocol: IPPROTO.TCP, tos: o.tos, dontFragment: true, id: this.int(65536) }, seg));
  }
  icmp4(o: { src?: string; dst?: string; type: number; code?: number; payload?: Uint8Array; options?: Uint8Array; ttl?: number }): Uint8Array {
    const src = ipv4Address(o.src ?? this.v4());
    const dst = ipv4Address(o.dst ?? this.v4());
    const msg = icmpv4Message({ type: o.type, code: o.code, id: this.int(65536), seq: this.int(100) }, o.payload ?? this.bytes(32));
    return this.eth(ETHERTYPE.IPV4, ipv4Packet({ src, dst, protocol: IPPROTO.ICMP, options: o.options, ttl: o.ttl, id: this.int(65536) }, msg));
  }
  raw4(protocol: number, payload: Uint8Array): Uint8Array {
    return this.eth(ETHERTYPE.IPV4, ipv4Packet({ src: ipv4Address(this.v4()), dst: ipv4Address(this.v4()), protocol }, payload));
  }
  udp6(o: { dport: number; payload?: Uint8Array; ext?: Ipv6ExtensionHeader[]; vlans?: VlanTagSpec[] }): Uint8Array {
    const src = ipv6Address(this.v6());
    const dst = ipv6Address(this.v6());
    const udp = udpDatagram(src, finalDestination(dst, o.ext), { srcPort: 32768 + this.int(28000), dstPort: o.dport }, o.payload ?? this.bytes(8 + this.int(40)));
    return this.eth(ETHERTYPE.IPV6, ipv6Packet({ src, dst, nextHeader: IPPROTO.UDP, extensionHeaders: o.ext }, udp), o.vlans);
  }
  tcp6(o: { dport: number; flags: number; ext?: Ipv6ExtensionHeader[] }): Uint8Array {
    const src = ipv6Address(this.v6());
    const dst = ipv6Address(this.v6());
    const seg = tcpSegment(src, finalDestination(dst, o.ext), { srcPort: 32768 + this.int(28000), dstPort: o.dport, flags: o.flags, seq: this.int(2 ** 32) }, new Uint8Array(0));
    return this.eth(ETHERTYPE.IPV6, ipv6Packet({ src, dst, nextHeader: IPPROTO.TCP, extensionHeaders: o.ext }, seg));
  }
  icmp6Echo(ext?: Ipv6ExtensionHeader[]): Uint8Array {
    const src = ipv6Address(this.v6());
    const dst = ipv6Address(this.v6());
    const msg = icmpv6Message(src, dst, { type: 128, id: this.int(65536), seq: 1 }, this.bytes(16));
    return this.eth(ETHERTYPE.IPV6, ipv6Packet({ src, dst, nextHeader: IPPROTO.ICMPV6, extensionHeaders: ext }, msg));
  }
  arp(): Uint8Array {
    const sender = this.hostMac();
    const body = Uint8Array.of(0, 1, 8, 0, 6, 4, 0, 1, ...sender, ...ipv4Address(this.v4()), 0, 0, 0, 0, 0, 0, ...ipv4Address(this.v4()));
    return ethernetFrame({ dst: macAddress('ff:ff:ff:ff:ff:ff'), src: sender, etherType: ETHERTYPE.ARP }, body);
  }
  /** A 14..60-byte frame whose EtherType promises IPv4 but whose header is cut. */
  runt(length: number): Uint8Array {
    return this.udp4({ dport: 9, payload: new Uint8Array(0) }).slice(0, length);
  }
  /** Common background: a bit of everything, all valid. */
  background(n: number): void {
    for (let i = 0; i < n; i++) {
      switch (i % 6) {
        case 0: this.add(this.tcp4({ dport: 80, flags: TCP_FLAGS.ACK | TCP_FLAGS.PSH, payload: HTTP_GET }), 'TCP HTTP request'); break;
        case 1: this.add(this.udp4({ dport: 7 }), 'UDP echo port'); break;
        case 2: this.add(this.icmp4({ type: 8 }), 'ICMP echo request'); break;
        case 3: this.add(this.udp6({ dport: 9 }), 'IPv6 UDP discard port'); break;
        case 4: this.add(this.arp(), 'ARP request'); break;
        default: this.add(this.tcp6({ dport: 22, flags: TCP_FLAGS.SYN }), 'IPv6 TCP SYN'); break;
      }
    }
  }
  /** Short frames (14-60 bytes) and cut headers: must be handled, never crash a parser. */
  shortFrames(): void {
    for (const len of [14, 15, 20, 33, 41]) this.add(this.runt(len), `runt of ${len} bytes`, 'malformed');
  }
}

const HOP_BY_HOP_PADN: Ipv6ExtensionHeader = { type: IPPROTO.HOPOPTS, body: Uint8Array.of(1, 4, 0, 0, 0, 0) };
const DEST_OPTS_PADN: Ipv6ExtensionHeader = { type: IPPROTO.DSTOPTS, body: Uint8Array.of(1, 4, 0, 0, 0, 0) };
/** Atomic fragment (offset 0, M=0; RFC 6946): a fragment header tshark does not try to reassemble. */
const ATOMIC_FRAGMENT: Ipv6ExtensionHeader = { type: IPPROTO.FRAGMENT, body: Uint8Array.of(0, 0, 0, 0x12, 0x34, 0x56, 0x78) };
/** Type 2 routing header (Mobile IPv6) with one address. */
const ROUTING_TYPE2: Ipv6ExtensionHeader = {
  type: IPPROTO.ROUTING,
  body: Uint8Array.of(2, 1, 0, 0, 0, 0, ...ipv6Address('2001:db8:ffff::9')),
};
/** IPv4 Router Alert option (RFC 2113). */
const ROUTER_ALERT = Uint8Array.of(0x94, 4, 0, 0);

type ExampleScript = (s: CaptureScript) => void;

const SCRIPTS: Record<string, ExampleScript> = {
  xdp_drop: (s) => {
    s.background(18);
    s.shortFrames();
  },
  xdp_pass: (s) => {
    s.background(18);
    s.shortFrames();
  },
  xdp_count: (s) => {
    s.background(20);
    s.shortFrames();
  },
  xdp_alu: (s) => {
    // The verdict depends on the first 16 bytes; random frames hit both sides.
    s.background(20);
    for (let i = 0; i < 10; i++) s.add(s.udp4({ dport: 7, src: s.v4() }), 'UDP with random addresses');
    s.add(s.runt(14), 'frame of 14 bytes (< 16: XDP_ABORTED)', 'malformed');
    s.add(s.runt(15), 'frame of 15 bytes (< 16: XDP_ABORTED)', 'malformed');
    s.add(s.runt(16), 'frame of exactly 16 bytes', 'malformed');
  },
  xdp_proto_count: (s) => {
    for (let i = 0; i < 6; i++) s.add(s.tcp4({ dport: 80, flags: TCP_FLAGS.SYN }), 'IPv4 TCP (6)');
    for (let i = 0; i < 5; i++) s.add(s.udp4({ dport: 7 }), 'IPv4 UDP (17)');
    for (let i = 0; i < 4; i++) s.add(s.icmp4({ type: 8 }), 'IPv4 ICMP (1)');
    {
      const a = ipv4Address('192.0.2.1');
      const b = ipv4Address('192.0.2.2');
      const inner = ipv4Packet({ src: a, dst: b, protocol: IPPROTO.UDP }, udpDatagram(a, b, { srcPort: 1000, dstPort: 7 }, s.bytes(8)));
      s.add(s.raw4(IPPROTO.IPIP, inner), 'IPv4 in IPv4 (4)');
    }
    s.add(s.raw4(47, Uint8Array.of(0, 0, 0x88, 0xb5, ...s.bytes(20))), 'GRE (47)');
    s.add(s.icmp4({ type: 8, options: ROUTER_ALERT }), 'ICMP with an IP option');
    s.add(s.udp4({ dport: 7, vlans: [{ vid: 10 }] }), 'VLAN-tagged IPv4 UDP (not counted: ethertype is 0x8100)');
    for (let i = 0; i < 4; i++) s.add(s.udp6({ dport: 9 }), 'IPv6 (not counted)');
    s.add(s.arp(), 'ARP (not counted)');
    s.add(s.arp(), 'ARP (not counted)');
    s.shortFrames();
  },
  xdp_blocklist: (s) => {
    for (let i = 0; i < 6; i++) s.add(s.udp4({ src: '198.51.100.7', dport: 53, payload: dnsQuery(0x200 + i, 'example.org') }), 'from 198.51.100.7: dropped once it is blocked');
    for (let i = 0; i < 3; i++) s.add(s.tcp4({ src: '203.0.113.9', dport: 22, flags: TCP_FLAGS.SYN }), 'from 203.0.113.9: dropped once it is blocked');
    for (let i = 0; i < 8; i++) s.add(s.udp4({ dport: 7 }), 'from a random address: passes');
    s.add(s.icmp4({ src: '198.51.100.7', type: 8, options: ROUTER_ALERT }), 'from 198.51.100.7 with an IP option');
    s.add(s.udp4({ src: '198.51.100.7', dport: 53, payload: dnsQuery(0x2ff, 'example.org'), vlans: [{ vid: 10 }] }), 'VLAN-tagged (not parsed): passes');
    for (let i = 0; i < 2; i++) s.add(s.udp6({ dport: 9 }), 'IPv6: passes');
    s.add(s.arp(), 'ARP: passes');
    s.shortFrames();
  },
  xdp_ttl_histogram: (s) => {
    for (const ttl of [0, 1, 2, 5, 30, 62, 63]) s.add(s.icmp4({ type: 8, ttl }), `ICMP with TTL ${ttl}: counted${ttl <= 1 ? ', dropped' : ''}`);
    for (const ttl of [64, 65, 128, 255]) s.add(s.icmp4({ type: 8, ttl }), `ICMP with TTL ${ttl}: outside the histogram (lookup misses), passes`);
    for (let i = 0; i < 4; i++) s.add(s.udp4({ dport: 7 }), 'IPv4 UDP, default TTL 64: not counted');
    s.add(s.icmp4({ type: 8, ttl: 1, options: ROUTER_ALERT }), 'TTL 1 with an IP option: counted, dropped');
    s.add(s.udp4({ dport: 7, vlans: [{ vid: 10 }] }), 'VLAN-tagged IPv4 (not parsed: ethertype 0x8100)');
    for (let i = 0; i < 3; i++) s.add(s.udp6({ dport: 9 }), 'IPv6 (not counted)');
    s.add(s.arp(), 'ARP (not counted)');
    s.background(4);
    s.shortFrames();
  },
  xdp_udp_filter: (s) => {
    for (let i = 0; i < 5; i++) s.add(s.udp4({ dport: 19 }), 'IPv4 UDP to 19: dropped');
    s.add(s.udp4({ dport: 19, vlans: [{ vid: 42, pcp: 3 }] }), 'VLAN-tagged IPv4 UDP to 19: dropped');
    s.add(s.udp4({ dport: 19, options: ROUTER_ALERT }), 'IPv4 with options, UDP to 19: dropped (ihl honoured)');
    for (let i = 0; i < 3; i++) s.add(s.udp6({ dport: 19 }), 'IPv6 UDP to 19: dropped');
    s.add(s.udp6({ dport: 19, vlans: [{ vid: 7 }] }), 'VLAN-tagged IPv6 UDP to 19: dropped');
    s.add(s.udp6({ dport: 19, ext: [HOP_BY_HOP_PADN] }), 'IPv6 hop-by-hop then UDP 19: passes (no extension walk)');
    for (let i = 0; i < 4; i++) s.add(s.udp4({ dport: 53, payload: dnsQuery(0x100 + i, 'example.com') }), 'UDP to 53: dropped only if in blocked_ports');
    for (let i = 0; i < 4; i++) s.add(s.udp4({ dport: 7 }), 'UDP to 7: passes');
    s.add(s.tcp4({ dport: 19, flags: TCP_FLAGS.SYN }), 'TCP to 19: passes');
    s.add(s.udp4({ dport: 19, vlans: [{ tpid: ETHERTYPE.QINQ, vid: 100 }, { vid: 200 }] }), 'QinQ UDP to 19: passes (one tag only)');
    s.background(6);
    s.add(s.udp4({ dport: 19 }).slice(0, 14 + 20 + 4), 'UDP header cut in half', 'malformed');
    s.shortFrames();
  },
  xdp_ipv6_parse: (s) => {
    s.add(s.udp6({ dport: 9 }), 'no extension headers, UDP');
    s.add(s.tcp6({ dport: 443, flags: TCP_FLAGS.SYN }), 'no extension headers, TCP');
    s.add(s.icmp6Echo(), 'ICMPv6 echo');
    s.add(s.udp6({ dport: 9, ext: [HOP_BY_HOP_PADN] }), 'hop-by-hop, UDP');
    s.add(s.udp6({ dport: 9, ext: [DEST_OPTS_PADN] }), 'destination options, UDP');
    s.add(s.udp6({ dport: 9, ext: [ATOMIC_FRAGMENT] }), 'atomic fragment, UDP');
    s.add(s.udp6({ dport: 9, ext: [ROUTING_TYPE2] }), 'routing type 2, UDP');
    s.add(s.tcp6({ dport: 80, flags: TCP_FLAGS.SYN, ext: [HOP_BY_HOP_PADN, DEST_OPTS_PADN, ROUTING_TYPE2] }), 'three extension headers, TCP');
    s.add(s.udp6({ dport: 9, ext: [HOP_BY_HOP_PADN, DEST_OPTS_PADN, ROUTING_TYPE2, ATOMIC_FRAGMENT, DEST_OPTS_PADN] }), 'five extension headers');
    s.add(s.icmp6Echo([HOP_BY_HOP_PADN, DEST_OPTS_PADN, DEST_OPTS_PADN, DEST_OPTS_PADN, DEST_OPTS_PADN, DEST_OPTS_PADN, DEST_OPTS_PADN]), 'seven extension headers: more than the walk follows');
    {
      const src = ipv6Address(s.v6());
      const dst = ipv6Address(s.v6());
      s.add(s.eth(ETHERTYPE.IPV6, ipv6Packet({ src, dst, nextHeader: IPPROTO.NONE, extensionHeaders: [DEST_OPTS_PADN] }, new Uint8Array(0))), 'destination options then no next header (59)');
    }
    for (let i = 0; i < 6; i++) s.add(s.udp6({ dport: 7, ext: i % 2 ? [HOP_BY_HOP_PADN] : undefined }), 'IPv6 UDP');
    s.add(s.udp6({ dport: 9, ext: [HOP_BY_HOP_PADN, ROUTING_TYPE2] }).slice(0, 14 + 40 + 8 + 10), 'routing header cut short', 'malformed');
    s.add(s.udp6({ dport: 9, ext: [HOP_BY_HOP_PADN] }).slice(0, 14 + 40 + 1), 'hop-by-hop header cut after one byte', 'malformed');
    s.add(s.udp6({ dport: 9, vlans: [{ vid: 5 }] }), 'VLAN-tagged IPv6 (ignored: outer ethertype 0x8100)');
    s.background(6);
    s.shortFrames();
  },
  xdp_icmp_echo: (s) => {
    for (let i = 0; i < 8; i++) s.add(s.icmp4({ type: 8, payload: s.bytes(8 + s.int(56)), ttl: 32 + s.int(200) }), 'echo request: answered with XDP_TX');
    s.add(s.icmp4({ type: 8, payload: new Uint8Array(0) }), 'echo request without data: answered');
    s.add(s.icmp4({ type: 8, payload: s.bytes(1400) }), 'large echo request: answered');
    for (let i = 0; i < 3; i++) s.add(s.icmp4({ type: 0 }), 'echo reply: passes');
    {
      const a = ipv4Address('192.0.2.9');
      const b = ipv4Address('192.0.2.8');
      const quoted = ipv4Packet({ src: a, dst: b, protocol: IPPROTO.UDP }, udpDatagram(a, b, { srcPort: 1, dstPort: 7 }, new Uint8Array(0)));
      s.add(s.icmp4({ type: 3, code: 3, payload: quoted }), 'port unreachable: passes');
    }
    s.add(s.icmp4({ type: 13, payload: new Uint8Array(12) }), 'timestamp request: passes');
    s.add(s.icmp4({ type: 8, options: ROUTER_ALERT }), 'echo request with IP options: passes (ihl != 5)');
    s.add(s.icmp6Echo(), 'ICMPv6 echo request: passes');
    s.add(s.icmp4({ type: 8 }).slice(0, 14 + 20 + 6), 'echo request with its ICMP header cut', 'malformed');
    s.background(8);
    s.shortFrames();
  },
  xdp_l4_lb: (s) => {
    // README: put 10.100.0.1:80/TCP and 10.100.0.2:53/UDP in the vips map to see hits.
    for (let i = 0; i < 6; i++) s.add(s.tcp4({ dst: '10.100.0.1', dport: 80, flags: i === 0 ? TCP_FLAGS.SYN : TCP_FLAGS.ACK | TCP_FLAGS.PSH, payload: i === 0 ? undefined : HTTP_GET }), 'TCP to VIP 10.100.0.1:80');
    for (let i = 0; i < 4; i++) s.add(s.udp4({ dst: '10.100.0.2', dport: 53, payload: dnsQuery(0x200 + i, 'lb.example') }), 'UDP to VIP 10.100.0.2:53');
    for (let i = 0; i < 3; i++) s.add(s.tcp4({ dst: '10.100.0.1', dport: 443, flags: TCP_FLAGS.SYN }), 'VIP address, port not balanced: passes');
    for (let i = 0; i < 3; i++) s.add(s.udp4({ dst: '10.100.0.1', dport: 53, payload: dnsQuery(0x300 + i, 'miss.example') }), 'VIP address, UDP port 53 not configured: passes');
    for (let i = 0; i < 4; i++) s.add(s.tcp4({ dport: 80, flags: TCP_FLAGS.SYN }), 'other address: passes');
    s.add(s.icmp4({ type: 8, dst: '10.100.0.1' }), 'ICMP to the VIP: passes');
    s.add(s.udp6({ dport: 53, payload: dnsQuery(7, 'v6.example') }), 'IPv6: passes');
    s.add(s.tcp4({ dst: '10.100.0.1', dport: 80, flags: TCP_FLAGS.SYN }).slice(0, 14 + 20 + 3), 'TCP to VIP cut inside the ports', 'malformed');
    s.background(4);
    s.shortFrames();
  },
  xdp_rate_limit: (s) => {
    // One source sends a burst of 20 packets 10 us apart: the first 8 pass, the rest are dropped.
    const noisy = '10.66.6.6';
    for (let i = 0; i < 20; i++) {
      s.add(s.udp4({ src: noisy, dst: '10.0.0.1', dport: 7 }), `burst from ${noisy} #${i + 1}`, 'valid', 10_000n);
    }
    // Quiet sources, one packet each: always pass.
    for (let i = 0; i < 8; i++) s.add(s.tcp4({ dport: 80, flags: TCP_FLAGS.SYN }), 'single packet from another source', 'valid', 100_000n);
    // The noisy source again after 500 ms: 5 tokens refilled at 10/s.
    for (let i = 0; i < 8; i++) s.add(s.udp4({ src: noisy, dst: '10.0.0.1', dport: 7 }), `${noisy} after a pause #${i + 1}`, 'valid', i === 0 ? 500_000_000n : 10_000n);
    s.add(s.udp6({ dport: 7 }), 'IPv6: not limited');
    s.add(s.arp(), 'ARP: not limited');
    s.shortFrames();
  },
  tc_mark: (s) => {
    for (let i = 0; i < 4; i++) s.add(s.udp4({ dport: 5060, sport: 5060, payload: SIP_OPTIONS }), 'SIP with DSCP 0: re-marked CS3, mark 0x200, priority 3');
    s.add(s.udp4({ dport: 5060, sport: 5060, payload: SIP_OPTIONS, tos: 46 << 2 }), 'SIP with DSCP EF: kept, priority 5');
    for (let i = 0; i < 4; i++) s.add(s.tcp4({ dport: 443, flags: TCP_FLAGS.SYN, tos: i << 5 }), 'HTTPS: mark 0x101, priority from DSCP class');
    for (let i = 0; i < 4; i++) s.add(s.tcp4({ dport: 80, flags: TCP_FLAGS.ACK | TCP_FLAGS.PSH, payload: HTTP_GET, tos: 0x28 }), 'HTTP AF11: mark 0x100, priority 1');
    for (let i = 0; i < 4; i++) s.add(s.udp4({ dport: 7, tos: (8 * i) << 2 }), 'other UDP: priority only');
    s.add(s.icmp4({ type: 8 }), 'ICMP: priority only');
    s.add(s.udp6({ dport: 5060, payload: SIP_OPTIONS }), 'IPv6 SIP: untouched');
    s.add(s.arp(), 'ARP: untouched');
    s.add(s.udp4({ dport: 5060, payload: SIP_OPTIONS }).slice(0, 14 + 20 + 2), 'SIP cut inside the UDP header', 'malformed');
    s.shortFrames();
  },
  xdp_subprog_global: (s) => {
    for (let i = 0; i < 6; i++) s.add(s.udp4({ dport: 9 }), 'UDP to 9 (drop_port): dropped');
    s.add(s.udp4({ dport: 9, options: ROUTER_ALERT }), 'UDP to 9 with IP options: passes (ihl != 5)');
    for (let i = 0; i < 6; i++) s.add(s.udp4({ dport: 7 }), 'UDP to 7: passes');
    s.add(s.udp6({ dport: 9 }), 'IPv6 UDP to 9: passes');
    s.background(8);
    s.shortFrames();
  },
  xdp_legacy_maps: (s) => {
    s.background(18);
    s.add(s.eth(0x88b5, s.bytes(46)), 'local experimental EtherType');
    s.add(s.udp4({ dport: 7, vlans: [{ vid: 3 }] }), 'VLAN-tagged: counted under 0x8100');
    s.shortFrames();
  },
  xdp_udp53: (s) => {
    for (let i = 0; i < 6; i++) s.add(s.udp4({ dport: 53, payload: dnsQuery(i, 'example.org') }), 'IPv4 UDP to 53: dropped');
    s.add(s.udp4({ dport: 53, payload: dnsQuery(99, 'opt.example'), options: ROUTER_ALERT }), 'UDP 53 with IP options: passes (ihl != 5)');
    s.add(s.udp4({ dport: 53, payload: dnsQuery(98, 'vlan.example'), vlans: [{ vid: 9 }] }), 'VLAN-tagged UDP 53: passes');
    s.add(s.udp6({ dport: 53, payload: dnsQuery(97, 'v6.example') }), 'IPv6 UDP 53: passes');
    s.add(s.tcp4({ dport: 53, flags: TCP_FLAGS.SYN }), 'TCP 53: passes');
    for (let i = 0; i < 4; i++) s.add(s.udp4({ sport: 53, dport: 40000 + i, payload: dnsQuery(i, 'reply.example') }), 'UDP from 53: passes');
    s.add(s.udp4({ dport: 53, payload: dnsQuery(1, 'cut.example') }).slice(0, 14 + 20 + 7), 'UDP header cut: passes', 'malformed');
    s.background(8);
    s.shortFrames();
  },
  xdp_tcp_syn_count: (s) => {
    const ports = [22, 80, 443, 443, 443, 8080];
    for (const p of ports) s.add(s.tcp4({ dport: p, flags: TCP_FLAGS.SYN, options: Uint8Array.of(2, 4, 5, 0xb4, 1, 3, 3, 7) }), `SYN to ${p}: counted`);
    for (let i = 0; i < 3; i++) s.add(s.tcp4({ sport: 443, dport: 50000 + i, flags: TCP_FLAGS.SYN | TCP_FLAGS.ACK }), 'SYN-ACK: not counted');
    for (let i = 0; i < 4; i++) s.add(s.tcp4({ dport: 443, flags: TCP_FLAGS.ACK }), 'ACK: not counted');
    s.add(s.tcp4({ dport: 443, flags: TCP_FLAGS.RST | TCP_FLAGS.ACK }), 'RST: not counted');
    s.add(s.tcp4({ dport: 80, flags: TCP_FLAGS.FIN | TCP_FLAGS.ACK }), 'FIN: not counted');
    s.add(s.tcp6({ dport: 443, flags: TCP_FLAGS.SYN }), 'IPv6 SYN: not counted (IPv4 only)');
    s.add(s.udp4({ dport: 443 }), 'UDP to 443: not counted');
    s.add(s.tcp4({ dport: 443, flags: TCP_FLAGS.SYN }).slice(0, 14 + 20 + 12), 'SYN with its TCP header cut', 'malformed');
    s.background(6);
    s.shortFrames();
  },
};

function seedOf(name: string): number {
  let h = 2166136261;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

/** Every example's packets, by example name (the .c file's base name). */
export function examplePackets(): Map<string, ExamplePacket[]> {
  const out = new Map<string, ExamplePacket[]>();
  for (const [name, script] of Object.entries(SCRIPTS)) {
    const s = new CaptureScript(seedOf(name));
    script(s);
    out.set(name, s.packets);
  }
  return out;
}

export function examplePcap(packets: ExamplePacket[]): Uint8Array {
  return writePcap(packets, { linkType: LINKTYPE.ETHERNET });
}

export const EXAMPLES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples');

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [name, packets] of examplePackets()) {
    writeFileSync(join(EXAMPLES_DIR, `${name}.pcap`), examplePcap(packets));
    console.log(`examples/${name}.pcap: ${packets.length} packets`);
  }
}
