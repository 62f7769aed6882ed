import { describe, test, expect } from '@jest/globals';
import {
  ETHERTYPE,
  IPPROTO,
  LINKTYPE,
  TCP_FLAGS,
  ethernetFrame,
  ipv4Address,
  ipv4Packet,
  macAddress,
  tcpSegment,
  type Capture,
} from '../../src/pcap/index.js';
import { reassembleStream, tcpConnections, unwrapOffset, directionName } from '../../src/tls-offload/tcp-flows.js';

const CLIENT = ipv4Address('10.0.0.2');
const SERVER = ipv4Address('10.0.0.1');

interface SegmentSpec {
  fromServer: boolean;
  seq: number;
  flags?: number;
  payload?: Uint8Array;
  /** Extra bytes after the IP packet (Ethernet padding). */
  padding?: number;
}

function captureOf(segments: SegmentSpec[]): Capture {
  return {
    format: 'pcap',
    interfaces: [{ linkType: LINKTYPE.ETHERNET, tsResolution: { base: 10, exponent: 6 }, snapLen: 65535, section: 0 }],
    secrets: [],
    packets: segments.map((s, i) => {
      const [src, dst, srcPort, dstPort] = s.fromServer ? [SERVER, CLIENT, 443, 50000] : [CLIENT, SERVER, 50000, 443];
      const tcp = tcpSegment(src, dst, { srcPort, dstPort, seq: s.seq >>> 0, flags: s.flags ?? TCP_FLAGS.ACK }, s.payload ?? new Uint8Array(0));
      const ip = ipv4Packet({ src, dst, protocol: IPPROTO.TCP }, tcp);
      const frame = ethernetFrame({ dst: macAddress('02:00:00:00:00:01'), src: macAddress('02:00:00:00:00:02'), etherType: ETHERTYPE.IPV4 }, ip);
      const data = new Uint8Array(frame.length + (s.padding ?? 0));
      data.set(frame);
      return { interfaceId: 0, timestampNs: BigInt(i), data, originalLength: data.length };
    }),
  };
}

const bytes = (from: number, to: number): Uint8Array => Uint8Array.from({ length: to - from }, (_, i) => (from + i) & 0xff);

describe('TCP flows', () => {
  test('groups by 4-tuple and direction; the SYN sender comes first', () => {
    const capture = captureOf([
      { fromServer: false, seq: 100, flags: TCP_FLAGS.SYN },
      { fromServer: true, seq: 900, flags: TCP_FLAGS.SYN | TCP_FLAGS.ACK },
      { fromServer: false, seq: 101, payload: bytes(0, 10) },
      { fromServer: true, seq: 901, payload: bytes(0, 20), padding: 6 },
    ]);
    const [connection, ...rest] = tcpConnections(capture);
    expect(rest).toEqual([]);
    expect(connection!.firstSentSyn).toBe(true);
    expect(directionName(connection!.first)).toBe('10.0.0.2:50000->10.0.0.1:443');
    expect(connection!.first.segments.length).toBe(2);
    expect(Buffer.from(reassembleStream(connection!.first).bytes)).toEqual(Buffer.from(bytes(0, 10)));
    // Ethernet padding is not payload: the IPv4 total length bounds the segment.
    expect(reassembleStream(connection!.second).bytes.length).toBe(20);
  });

  test('reorders, drops retransmissions and duplicates, and wraps the sequence space', () => {
    const isn = 2 ** 32 - 1000; // data starts at isn + 1 and wraps after 999 bytes
    const seq = (offset: number): number => (isn + 1 + offset) % 2 ** 32;
    const capture = captureOf([
      { fromServer: true, seq: isn, flags: TCP_FLAGS.SYN | TCP_FLAGS.ACK },
      { fromServer: true, seq: seq(0), payload: bytes(0, 600) },
      { fromServer: true, seq: seq(1200), payload: bytes(1200, 1800) }, // ahead (reordered)
      { fromServer: true, seq: seq(600), payload: bytes(600, 1200) }, // fills the hole, across the wrap
      { fromServer: true, seq: seq(600), payload: bytes(600, 1200) }, // duplicate
      { fromServer: true, seq: seq(300), payload: bytes(300, 900) }, // overlapping retransmission
      { fromServer: true, seq: seq(1800), payload: bytes(1800, 2000) },
    ]);
    const stream = reassembleStream(tcpConnections(capture)[0]!.first);
    expect(stream.gapAt).toBeUndefined();
    // The duplicate brings nothing; the overlapping retransmission is also fully covered by then.
    expect(stream.redundantSegments).toBe(2);
    expect(Buffer.from(stream.bytes).equals(Buffer.from(bytes(0, 2000)))).toBe(true);
  });

  test('stops at a hole nobody fills, without a SYN in the capture', () => {
    const capture = captureOf([
      { fromServer: true, seq: 5000, payload: bytes(0, 100) },
      { fromServer: true, seq: 5200, payload: bytes(200, 300) },
    ]);
    const stream = reassembleStream(tcpConnections(capture)[0]!.first);
    expect(stream.bytes.length).toBe(100);
    expect(stream.gapAt).toBe(100);
    expect(stream.bytesAfterGap).toBe(100);
  });

  test('unwrapOffset picks the 64-bit offset nearest the reference', () => {
    expect(unwrapOffset(10, 0)).toBe(10);
    expect(unwrapOffset(10, 2 ** 32 - 5)).toBe(2 ** 32 + 10);
    expect(unwrapOffset(2 ** 32 - 10, 2 ** 32 + 5)).toBe(2 ** 32 - 10);
  });
});

describe('TCP reassembly keeps the first captured copy', () => {
  test('a later copy with different bytes does not overwrite', () => {
    const capture = captureOf([
      { fromServer: true, seq: 1000, payload: Buffer.from('abcdef') },
      { fromServer: true, seq: 1003, payload: Buffer.from('XYZghi') },
    ]);
    const stream = reassembleStream(tcpConnections(capture)[0]!.first);
    expect(stream.bytes.toString()).toBe('abcdefghi');
    expect(stream.redundantSegments).toBe(0);
  });
});
