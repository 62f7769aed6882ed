import { expect, test } from '@jest/globals';
import {
  ETHERTYPE,
  IPPROTO,
  TCP_FLAGS,
  ethernetFrame,
  icmpv4Message,
  icmpv6Message,
  internetChecksum,
  ipv4Address,
  ipv4Packet,
  ipv6Address,
  ipv6Packet,
  macAddress,
  tcpSegment,
  udpDatagram,
  writePcap,
} from '../../src/pcap/index.js';
import { describeWithWireshark, run, scratchDir, writeScratch } from './capture-oracle.js';

test('RFC 1071 example sum', () => {
  // RFC 1071 section 3: words 0001 f203 f4f5 f6f7 sum to ddf2 before complementing.
  expect(internetChecksum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7))).toBe(~0xddf2 & 0xffff);
  expect(ipv6Address('::1')).toEqual(Uint8Array.of(...new Array(15).fill(0), 1));
});

describeWithWireshark('tshark validates every checksum the builder writes', () => {
  test('IPv4/IPv6 with UDP, TCP (options), ICMP, ICMPv6, IP options, extension headers, VLAN', () => {
    const mac = { dst: macAddress('02:00:00:00:00:02'), src: macAddress('02:00:00:00:00:01') };
    const a4 = ipv4Address('10.1.2.3');
    const b4 = ipv4Address('10.9.8.7');
    const a6 = ipv6Address('fd00::1');
    const b6 = ipv6Address('fd00::2:3');
    const payload = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff);
    const frames = [
      ethernetFrame({ ...mac, etherType: ETHERTYPE.IPV4 }, ipv4Packet({ src: a4, dst: b4, protocol: IPPROTO.UDP, id: 77 }, udpDatagram(a4, b4, { srcPort: 40001, dstPort: 9 }, payload(33)))),
      ethernetFrame(
        { ...mac, etherType: ETHERTYPE.IPV4, vlans: [{ vid: 42 }] },
        ipv4Packet(
          { src: a4, dst: b4, protocol: IPPROTO.TCP, options: Uint8Array.of(0x94, 4, 0, 0), tos: 0xb8, dontFragment: true },
          tcpSegment(a4, b4, { srcPort: 40000, dstPort: 443, seq: 0x12345678, flags: TCP_FLAGS.SYN, options: Uint8Array.of(2, 4, 5, 0xb4, 1, 1, 4, 2) }, new Uint8Array(0)),
        ),
      ),
      ethernetFrame({ ...mac, etherType: ETHERTYPE.IPV4 }, ipv4Packet({ src: a4, dst: b4, protocol: IPPROTO.ICMP }, icmpv4Message({ type: 8, id: 0x1234, seq: 9 }, payload(56)))),
      ethernetFrame({ ...mac, etherType: ETHERTYPE.IPV6 }, ipv6Packet({ src: a6, dst: b6, nextHeader: IPPROTO.UDP }, udpDatagram(a6, b6, { srcPort: 1, dstPort: 2 }, payload(11)))),
      ethernetFrame(
        { ...mac, etherType: ETHERTYPE.IPV6 },
        ipv6Packet(
          {
            src: a6,
            dst: b6,
            nextHeader: IPPROTO.TCP,
            extensionHeaders: [
              { type: IPPROTO.HOPOPTS, body: Uint8Array.of(1, 4, 0, 0, 0, 0) },
              { type: IPPROTO.DSTOPTS, body: Uint8Array.of(1, 4, 0, 0, 0, 0) },
            ],
          },
          tcpSegment(a6, b6, { srcPort: 80, dstPort: 999, flags: TCP_FLAGS.ACK | TCP_FLAGS.PSH, ack: 5 }, payload(20)),
        ),
      ),
      ethernetFrame({ ...mac, etherType: ETHERTYPE.IPV6 }, ipv6Packet({ src: a6, dst: b6, nextHeader: IPPROTO.ICMPV6 }, icmpv6Message(a6, b6, { type: 128, id: 1, seq: 2 }, payload(8)))),
    ];
    const path = writeScratch(scratchDir(), 'built.pcap', writePcap(frames.map((data) => ({ data })), { linkType: 1 }));
    const fields = ['ip.checksum.status', 'udp.checksum.status', 'tcp.checksum.status', 'icmp.checksum.status', 'icmpv6.checksum.status', '_ws.expert.severity'];
    const r = run('tshark', [
      '-r', path, '-T', 'fields', '-E', 'separator=,',
      '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE',
      ...fields.flatMap((f) => ['-e', f]),
    ]);
    // Checksum status 1 means "Good"; the only expert info allowed is the SYN's "chat" (0x200000), never warnings or errors.
    expect(r.stdout.trim().split('\n')).toEqual(['1,1,,,,', '1,,1,,,2097152', '1,,,1,,', ',1,,,,', ',,1,,,', ',,,,1,']);
  });
});
