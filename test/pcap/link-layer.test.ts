import { expect, test } from '@jest/globals';
import {
  ETHERTYPE,
  IPPROTO,
  LINKTYPE,
  ethernetFrame,
  ethernetFrameAround,
  ipv4Address,
  ipv4Packet,
  ipv6Address,
  ipv6Packet,
  macAddress,
  networkPayload,
  readCapture,
  udpDatagram,
  writePcapng,
  xdpFrame,
} from '../../src/pcap/index.js';
import { NicoffError } from '../../src/diagnostics/diagnostic.js';
import { describeWithWireshark, scratchDir, tsharkFrames, writeScratch } from './capture-oracle.js';

const src4 = ipv4Address('192.0.2.1');
const dst4 = ipv4Address('198.51.100.7');
const src6 = ipv6Address('2001:db8::1');
const dst6 = ipv6Address('2001:db8:0:1::42');
const v4 = ipv4Packet({ src: src4, dst: dst4, protocol: IPPROTO.UDP }, udpDatagram(src4, dst4, { srcPort: 1234, dstPort: 53 }, new Uint8Array(12)));
const v6 = ipv6Packet({ src: src6, dst: dst6, nextHeader: IPPROTO.UDP }, udpDatagram(src6, dst6, { srcPort: 1234, dstPort: 443 }, new Uint8Array(9)));
const mac = { dst: macAddress('02:00:00:00:00:02'), src: macAddress('02:00:00:00:00:01') };

function sll(protocol: number, payload: Uint8Array): Uint8Array {
  const h = new Uint8Array(16);
  h.set([0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, protocol >> 8, protocol & 0xff]);
  return new Uint8Array([...h, ...payload]);
}
function sll2(protocol: number, payload: Uint8Array): Uint8Array {
  const h = new Uint8Array(20);
  h.set([protocol >> 8, protocol & 0xff, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1]);
  return new Uint8Array([...h, ...payload]);
}

/** [description, link type, frames] */
const cases: [string, number, Uint8Array[]][] = [
  ['Ethernet', LINKTYPE.ETHERNET, [ethernetFrame({ ...mac, etherType: ETHERTYPE.IPV4 }, v4), ethernetFrame({ ...mac, etherType: ETHERTYPE.IPV6 }, v6)]],
  [
    'Ethernet with 802.1Q and 802.1ad tags',
    LINKTYPE.ETHERNET,
    [
      ethernetFrame({ ...mac, etherType: ETHERTYPE.IPV4, vlans: [{ vid: 100, pcp: 5 }] }, v4),
      ethernetFrame({ ...mac, etherType: ETHERTYPE.IPV6, vlans: [{ tpid: ETHERTYPE.QINQ, vid: 7 }, { vid: 4000, pcp: 1 }] }, v6),
    ],
  ],
  ['raw IP (101)', LINKTYPE.RAW, [v4, v6]],
  ['IPv4 (228)', LINKTYPE.IPV4, [v4]],
  ['IPv6 (229)', LINKTYPE.IPV6, [v6]],
  ['Linux cooked (113)', LINKTYPE.LINUX_SLL, [sll(ETHERTYPE.IPV4, v4), sll(ETHERTYPE.IPV6, v6)]],
  ['Linux cooked v2 (276)', LINKTYPE.LINUX_SLL2, [sll2(ETHERTYPE.IPV4, v4), sll2(ETHERTYPE.IPV6, v6)]],
];

describeWithWireshark('networkPayload finds the network layer where tshark does', () => {
  const dir = scratchDir();
  test.each(cases)('%s', (name, linkType, frames) => {
    const bytes = writePcapng(frames.map((data) => ({ data })), { linkType });
    const dissected = tsharkFrames(writeScratch(dir, `${linkType}.pcapng`, bytes));
    readCapture(bytes).packets.forEach((p, i) => {
      const layers = dissected[i]!.layers;
      const l3 = networkPayload(linkType, p.data)!;
      const isV4 = 'ip_raw' in layers;
      expect(l3.etherType).toBe(isV4 ? ETHERTYPE.IPV4 : ETHERTYPE.IPV6);
      expect(l3.offset).toBe((layers[isV4 ? 'ip_raw' : 'ipv6_raw'] as [string, number])[1]);
      // tshark names an 802.1ad tag's layer ieee8021ad and an 802.1Q tag's layer vlan.
      const tags = (['ieee8021ad', 'vlan'] as const).flatMap((proto) => {
        const layer = layers[proto] as Record<string, string> | Record<string, string>[] | undefined;
        const all = layer === undefined ? [] : Array.isArray(layer) ? layer : [layer];
        return all.map((t) => [Number(t[`${proto}.id`]), Number(t[`${proto}.priority`])]);
      });
      expect(l3.vlanTags.map((t) => [t.vid, t.pcp])).toEqual(tags);
      expect(xdpFrame(linkType, p.data)).toBe(linkType === LINKTYPE.ETHERNET ? p.data : undefined);
    });
  });
});

test('short frames give undefined, unknown link types NC2003, FCS is stripped', () => {
  expect(networkPayload(LINKTYPE.ETHERNET, new Uint8Array(13))).toBeUndefined();
  expect(networkPayload(LINKTYPE.ETHERNET, ethernetFrame({ ...mac, etherType: ETHERTYPE.VLAN }, new Uint8Array(1)))).toBeUndefined();
  expect(networkPayload(LINKTYPE.LINUX_SLL2, new Uint8Array(19))).toBeUndefined();
  expect(() => networkPayload(147, new Uint8Array(40))).toThrow(NicoffError);
  const frame = ethernetFrame({ ...mac, etherType: ETHERTYPE.IPV4 }, v4);
  const withFcs = new Uint8Array([...frame, 1, 2, 3, 4]);
  expect(networkPayload(LINKTYPE.ETHERNET, withFcs, 4)!.payload).toEqual(v4);
  expect(xdpFrame(LINKTYPE.ETHERNET, withFcs, 4)).toEqual(frame);
  expect(ethernetFrameAround(v4, ETHERTYPE.IPV4).subarray(12)).toEqual(new Uint8Array([8, 0, ...v4]));
});
