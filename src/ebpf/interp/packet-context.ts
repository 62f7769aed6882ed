/**
 * Program contexts as BPF_PROG_TEST_RUN builds them (measured on kernel 6.18):
 *
 * XDP: the frame is one 4096-byte page; data starts after
 * XDP_PACKET_HEADROOM (256); data_meta == data; ingress_ifindex 1 (loopback),
 * rx_queue_index 0. xdp_adjust_head/meta may move down to offset 40
 * (sizeof(struct xdp_frame)): 216 bytes of headroom. xdp_adjust_tail may grow
 * data_end up to 4096 - 320 (skb_shared_info), i.e. a 3520-byte frame.
 * data_out is data_meta..data_end.
 *
 * TC (__sk_buff): linear skb with 64 bytes of headroom; len = packet length,
 * ifindex 1, ingress_ifindex 0, protocol = h_proto in network order (below
 * 0x600: ETH_P_802_3 if the payload starts ff ff, else ETH_P_802_2), pkt_type
 * from the destination MAC against loopback's 00:..:00 (multicast bit ->
 * PACKET_MULTICAST 2, all-zero -> PACKET_HOST 0, else PACKET_OTHERHOST 3),
 * data_meta == data, everything else 0; wire_len is len only when ctx_in is
 * given. data_out is data..data_end.
 */
import { AddressSpace, MemoryFault, type ContextAccessor, type Region } from './address-space.js';

export const XDP_PAGE = 4096;
export const XDP_HEADROOM = 256;
export const XDP_FRAME_STRUCT = 40;
export const SKB_SHARED_INFO = 320;
export const TC_HEADROOM = 64;

/** The packet buffer and its window; the packet Region's [lo, hi) is kept equal to [meta, end). */
export class PacketBuffer {
  meta: number;
  data: number;
  end: number;
  constructor(
    public region: Region,
    data: number,
    len: number,
  ) {
    this.meta = data;
    this.data = data;
    this.end = data + len;
    this.sync();
  }
  sync(): void {
    this.region.lo = this.meta;
    this.region.hi = this.end;
  }
  get bytes(): Uint8Array {
    return this.region.bytes;
  }
  get base(): bigint {
    return AddressSpace.base(this.region.id);
  }
  get len(): number {
    return this.end - this.data;
  }
  /** Replace the buffer (skb growth); offsets are kept. */
  replace(bytes: Uint8Array): void {
    this.region.bytes = bytes;
    this.region.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}

function narrow(field: bigint, off: number, size: number, fieldOff: number): bigint {
  const shift = BigInt((off - fieldOff) * 8);
  const mask = size === 8 ? 0xffffffffffffffffn : (1n << BigInt(size * 8)) - 1n;
  return (field >> shift) & mask;
}

export class XdpContext implements ContextAccessor {
  ingressIfindex = 1;
  rxQueueIndex = 0;
  constructor(public pkt: PacketBuffer) {}
  load(off: number, size: number): bigint {
    const p = this.pkt;
    const field = off & ~3;
    switch (field) {
      case 0:
        return p.base + BigInt(p.data);
      case 4:
        return p.base + BigInt(p.end);
      case 8:
        return p.base + BigInt(p.meta);
      case 12:
        return narrow(BigInt(this.ingressIfindex), off, size, field);
      case 16:
        return narrow(BigInt(this.rxQueueIndex), off, size, field);
      case 20:
        return 0n;
    }
    throw new MemoryFault(`invalid xdp_md access off=${off} size=${size}`);
  }
  store(off: number, size: number): void {
    throw new MemoryFault(`write to xdp_md off=${off} size=${size}`);
  }
  /** ctx_out as test_run reports it: offsets relative to data_meta. */
  ctxOut(): Uint8Array {
    const out = new Uint8Array(24);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, this.pkt.data - this.pkt.meta, true);
    dv.setUint32(4, this.pkt.end - this.pkt.meta, true);
    dv.setUint32(12, this.ingressIfindex, true);
    dv.setUint32(16, this.rxQueueIndex, true);
    return out;
  }
}

export const SKB_SIZE = 192;
/** __sk_buff offsets. */
export const SKB = {
  len: 0,
  pkt_type: 4,
  mark: 8,
  queue_mapping: 12,
  protocol: 16,
  vlan_present: 20,
  vlan_tci: 24,
  vlan_proto: 28,
  priority: 32,
  ingress_ifindex: 36,
  ifindex: 40,
  tc_index: 44,
  cb: 48,
  hash: 68,
  tc_classid: 72,
  data: 76,
  data_end: 80,
  napi_id: 84,
  data_meta: 140,
  tstamp: 152,
  wire_len: 160,
  gso_segs: 164,
  gso_size: 172,
  tstamp_type: 176,
  hwtstamp: 184,
} as const;

export class SkbContext implements ContextAccessor {
  /** Backing store for the plain fields. */
  readonly fields = new Uint8Array(SKB_SIZE);
  readonly dv = new DataView(this.fields.buffer);
  constructor(public pkt: PacketBuffer) {}

  static init(pkt: PacketBuffer, ctxIn?: Uint8Array): SkbContext {
    const c = new SkbContext(pkt);
    const b = pkt.bytes;
    const d = pkt.data;
    const dv = c.dv;
    const proto = (b[d + 12] << 8) | b[d + 13];
    let hostProto = proto;
    if (proto < 0x600) hostProto = b[d + 14] === 0xff && b[d + 15] === 0xff ? 0x0001 : 0x0004;
    dv.setUint16(SKB.protocol, ((hostProto & 0xff) << 8) | (hostProto >> 8), true);
    let pktType = 3;
    if (b[d] & 1) pktType = 2;
    else if (b[d] === 0 && b[d + 1] === 0 && b[d + 2] === 0 && b[d + 3] === 0 && b[d + 4] === 0 && b[d + 5] === 0) pktType = 0;
    dv.setUint32(SKB.pkt_type, pktType, true);
    dv.setUint32(SKB.ifindex, 1, true);
    if (ctxIn) {
      const inDv = new DataView(ctxIn.buffer, ctxIn.byteOffset, ctxIn.byteLength);
      const u32 = (o: number) => (o + 4 <= ctxIn.length ? inDv.getUint32(o, true) : 0);
      dv.setUint32(SKB.mark, u32(SKB.mark), true);
      dv.setUint32(SKB.priority, u32(SKB.priority), true);
      dv.setUint32(SKB.ingress_ifindex, u32(SKB.ingress_ifindex), true);
      for (let i = 0; i < 5; i++) dv.setUint32(SKB.cb + 4 * i, u32(SKB.cb + 4 * i), true);
      if (ctxIn.length >= SKB.tstamp + 8) dv.setBigUint64(SKB.tstamp, inDv.getBigUint64(SKB.tstamp, true), true);
      const wire = u32(SKB.wire_len);
      dv.setUint32(SKB.wire_len, wire || pkt.len, true);
      dv.setUint32(SKB.gso_segs, u32(SKB.gso_segs), true);
      dv.setUint32(SKB.gso_size, u32(SKB.gso_size), true);
      if (ctxIn.length >= SKB.hwtstamp + 8) dv.setBigUint64(SKB.hwtstamp, inDv.getBigUint64(SKB.hwtstamp, true), true);
    }
    return c;
  }

  load(off: number, size: number): bigint {
    const p = this.pkt;
    switch (off) {
      case SKB.data:
        return p.base + BigInt(p.data);
      case SKB.data_end:
        return p.base + BigInt(p.end);
      case SKB.data_meta:
        return p.base + BigInt(p.meta);
    }
    if (off < SKB.len + 4) return narrow(BigInt(p.len), off, size, 0);
    if (off + size > SKB_SIZE) throw new MemoryFault(`invalid __sk_buff access off=${off} size=${size}`);
    switch (size) {
      case 1:
        return BigInt(this.fields[off]);
      case 2:
        return BigInt(this.dv.getUint16(off, true));
      case 4:
        return BigInt(this.dv.getUint32(off, true));
      default:
        return this.dv.getBigUint64(off, true);
    }
  }

  store(off: number, size: number, value: bigint): void {
    const v32 = Number(value & 0xffffffffn);
    if (off === SKB.mark || off === SKB.priority || (off >= SKB.cb && off < SKB.cb + 20)) {
      if (size === 4) this.dv.setUint32(off, v32, true);
      else if (size === 2) this.dv.setUint16(off, v32 & 0xffff, true);
      else if (size === 1) this.fields[off] = v32 & 0xff;
      else this.dv.setBigUint64(off, value, true);
      return;
    }
    if (off === SKB.tc_index || off === SKB.tc_classid) {
      // Both are u16 in the skb (tc_index, qdisc_skb_cb.tc_classid).
      this.dv.setUint32(off, v32 & 0xffff, true);
      return;
    }
    if (off === SKB.queue_mapping) {
      if (v32 < 0xffff) this.dv.setUint32(off, v32 & 0xffff, true);
      return;
    }
    if (off === SKB.tstamp && size === 8) {
      this.dv.setBigUint64(off, value, true);
      return;
    }
    throw new MemoryFault(`invalid __sk_buff write off=${off} size=${size}`);
  }

  get(field: number): number {
    return this.dv.getUint32(field, true);
  }
  set(field: number, v: number): void {
    this.dv.setUint32(field, v >>> 0, true);
  }

  /** ctx_out as test_run reports it (convert_skb_to___skb): only these fields are copied back. */
  ctxOut(): Uint8Array {
    const out = new Uint8Array(SKB_SIZE);
    const odv = new DataView(out.buffer);
    for (const f of [SKB.mark, SKB.priority, SKB.ingress_ifindex, SKB.ifindex, SKB.wire_len, SKB.gso_segs, SKB.gso_size])
      odv.setUint32(f, this.get(f), true);
    for (let i = 0; i < 5; i++) odv.setUint32(SKB.cb + 4 * i, this.get(SKB.cb + 4 * i), true);
    odv.setBigUint64(SKB.tstamp, this.dv.getBigUint64(SKB.tstamp, true), true);
    odv.setBigUint64(SKB.hwtstamp, this.dv.getBigUint64(SKB.hwtstamp, true), true);
    return out;
  }
}
