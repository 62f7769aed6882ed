/**
 * Link-layer headers: from a captured frame to its network-layer payload
 * (what TLS flow tracking needs), and to an Ethernet frame (what XDP takes).
 */
import { fail } from '../diagnostics/diagnostic.js';
import { LINKTYPE, LINKTYPE_NAMES } from './capture.js';

export const ETHERTYPE = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  IPV6: 0x86dd,
  QINQ: 0x88a8,
  /** Pre-standard double tagging some switches still send. */
  QINQ_LEGACY: 0x9100,
} as const;

const VLAN_TPIDS: ReadonlySet<number> = new Set([ETHERTYPE.VLAN, ETHERTYPE.QINQ, ETHERTYPE.QINQ_LEGACY]);

export interface VlanTag {
  /** Tag protocol identifier: 0x8100, 0x88a8 or 0x9100. */
  tpid: number;
  /** 12-bit VLAN id. */
  vid: number;
  /** 3-bit priority code point. */
  pcp: number;
}

export interface NetworkPayload {
  /**
   * Protocol of `payload`. On Ethernet and the Linux cooked headers a value
   * below 0x0600 is an 802.3 length or an ARPHRD-specific code, not an ethertype.
   */
  etherType: number;
  /** The bytes after the link header (and any FCS removed). */
  payload: Uint8Array;
  /** Offset of `payload` within the frame. */
  offset: number;
  /** VLAN tags from outermost to innermost. */
  vlanTags: VlanTag[];
}

export function linkTypeName(linkType: number): string {
  return LINKTYPE_NAMES[linkType] ?? 'unknown';
}

export function isSupportedLinkType(linkType: number): boolean {
  return linkType in LINKTYPE_NAMES;
}

/** Drop `fcsLen` trailing bytes (the frame check sequence), if the frame has them. */
export function withoutFcs(frame: Uint8Array, fcsLen = 0): Uint8Array {
  return fcsLen > 0 && frame.length >= fcsLen ? frame.subarray(0, frame.length - fcsLen) : frame;
}

/**
 * Strip the link header of `frame`. Returns undefined when the frame is too
 * short for its own link header; throws NC2003 for link types nicoff does not know.
 */
export function networkPayload(linkType: number, frame: Uint8Array, fcsLen = 0): NetworkPayload | undefined {
  const bytes = withoutFcs(frame, fcsLen);
  const be16 = (at: number): number => (bytes[at]! << 8) | bytes[at + 1]!;
  switch (linkType) {
    case LINKTYPE.ETHERNET: {
      if (bytes.length < 14) return undefined;
      let offset = 12;
      let etherType = be16(offset);
      const vlanTags: VlanTag[] = [];
      while (VLAN_TPIDS.has(etherType)) {
        if (bytes.length < offset + 6) return undefined;
        const tci = be16(offset + 2);
        vlanTags.push({ tpid: etherType, vid: tci & 0x0fff, pcp: tci >> 13 });
        offset += 4;
        etherType = be16(offset);
      }
      offset += 2;
      return { etherType, payload: bytes.subarray(offset), offset, vlanTags };
    }
    case LINKTYPE.RAW: {
      if (bytes.length < 1) return undefined;
      const version = bytes[0]! >> 4;
      // Raw IP has no protocol field; the IP version nibble is all there is.
      const etherType = version === 4 ? ETHERTYPE.IPV4 : version === 6 ? ETHERTYPE.IPV6 : 0;
      return { etherType, payload: bytes, offset: 0, vlanTags: [] };
    }
    case LINKTYPE.IPV4:
      return { etherType: ETHERTYPE.IPV4, payload: bytes, offset: 0, vlanTags: [] };
    case LINKTYPE.IPV6:
      return { etherType: ETHERTYPE.IPV6, payload: bytes, offset: 0, vlanTags: [] };
    case LINKTYPE.LINUX_SLL:
      // packet type, ARPHRD, address length, 8 address bytes, protocol.
      if (bytes.length < 16) return undefined;
      return { etherType: be16(14), payload: bytes.subarray(16), offset: 16, vlanTags: [] };
    case LINKTYPE.LINUX_SLL2:
      // protocol, reserved, ifindex, ARPHRD, packet type, address length, 8 address bytes.
      if (bytes.length < 20) return undefined;
      return { etherType: be16(0), payload: bytes.subarray(20), offset: 20, vlanTags: [] };
    default:
      return fail('NC2003', { linktype: linkType, name: linkTypeName(linkType) });
  }
}

/**
 * The frame an XDP program would see: the Ethernet frame without its FCS, or
 * undefined when the capture's link type is not Ethernet (the caller decides,
 * for instance with `ethernetFrameAround`).
 */
export function xdpFrame(linkType: number, frame: Uint8Array, fcsLen = 0): Uint8Array | undefined {
  return linkType === LINKTYPE.ETHERNET ? withoutFcs(frame, fcsLen) : undefined;
}

/** Wrap a network-layer payload in an Ethernet header (zero MACs unless given). A copy. */
export function ethernetFrameAround(
  payload: Uint8Array,
  etherType: number,
  macs: { dst?: Uint8Array; src?: Uint8Array } = {},
): Uint8Array {
  const frame = new Uint8Array(14 + payload.length);
  if (macs.dst) frame.set(macs.dst.subarray(0, 6), 0);
  if (macs.src) frame.set(macs.src.subarray(0, 6), 6);
  frame[12] = etherType >> 8;
  frame[13] = etherType & 0xff;
  frame.set(payload, 14);
  return frame;
}
