/**
 * Which loads and stores a program may make through its context pointer,
 * and what a load yields, per program type: the kernel's is_valid_access
 * callbacks for XDP (struct xdp_md), TC classifiers and actions and socket
 * filters (struct __sk_buff), as kernel 6.18 applies them to a privileged
 * program. The rules were checked against the running kernel for every
 * offset below 200, every size, read, write and sign-extending read.
 */
import type { ProgramType } from '../ebpf/bpf-object.js';

/** What a permitted context load gives the destination register. */
export type ContextLoad = 'scalar' | 'packet' | 'packet_meta' | 'packet_end' | 'sock_common_or_null';

export type ContextAccessKind = 'read' | 'write';

export interface ContextAccessRequest {
  off: number;
  size: number;
  kind: ContextAccessKind;
  /** BPF_MEMSX load. */
  signExtend: boolean;
}

/** Field offsets of struct xdp_md. */
const XDP_MD = { data: 0, dataEnd: 4, dataMeta: 8, ingressIfindex: 12, rxQueueIndex: 16, egressIfindex: 20, size: 24 } as const;

/** Field offsets of struct __sk_buff (uapi/linux/bpf.h, 6.18). */
const SKB = {
  mark: 8,
  queueMapping: 12,
  priority: 32,
  tcIndex: 44,
  cb: 48,
  cbEnd: 68,
  tcClassid: 72,
  data: 76,
  dataEnd: 80,
  family: 88,
  remoteIp4: 92,
  localIp4: 96,
  remoteIp6: 100,
  localIp6: 116,
  localPortEnd: 140,
  dataMeta: 140,
  flowKeys: 144,
  tstamp: 152,
  wireLen: 160,
  sk: 168,
  tstampType: 180,
  hwtstamp: 184,
  size: 192,
} as const;

/** Program types whose context nicoff knows. */
export function hasContextRules(type: ProgramType): boolean {
  return type === 'xdp' || type === 'sched_cls' || type === 'sched_act' || type === 'socket_filter';
}

/** The size of the context structure, for messages. */
export function contextSize(type: ProgramType): number {
  return type === 'xdp' ? XDP_MD.size : SKB.size;
}

const within = (off: number, start: number, size: number): boolean => off >= start && off < start + size;

function xdpAccess(req: ContextAccessRequest): ContextLoad | null {
  const { off, size } = req;
  // egress_ifindex exists only for programs attached to a devmap.
  if (off === XDP_MD.egressIfindex) return null;
  if (req.kind === 'write') return null;
  if (off < 0 || off >= XDP_MD.size || off % size !== 0 || size !== 4) return null;
  let load: ContextLoad = 'scalar';
  if (off === XDP_MD.data) load = 'packet';
  else if (off === XDP_MD.dataMeta) load = 'packet_meta';
  else if (off === XDP_MD.dataEnd) load = 'packet_end';
  // Pointers are not sign-extended.
  if (load !== 'scalar' && req.signExtend) return null;
  return load;
}

/** A narrow read of a u32 field: a power of two no wider than the field (bpf_ctx_narrow_access_ok). */
const narrowReadOk = (size: number): boolean => size <= 4 && (size & (size - 1)) === 0;

/** bpf_skb_is_valid_access: the rules every __sk_buff program type shares. */
function skbAccess(req: ContextAccessRequest, load: ContextLoad): ContextLoad | null {
  const { off, size, kind } = req;
  if (off < 0 || off >= SKB.size || off % size !== 0) return null;
  if (off >= SKB.cb && off < SKB.cbEnd) return off + size > SKB.cbEnd ? null : load;
  if (
    within(off, SKB.remoteIp6, 16) ||
    within(off, SKB.localIp6, 16) ||
    within(off, SKB.remoteIp4, 4) ||
    within(off, SKB.localIp4, 4) ||
    within(off, SKB.data, 4) ||
    within(off, SKB.dataMeta, 4) ||
    within(off, SKB.dataEnd, 4)
  ) {
    if (size !== 4) return null;
    if (load !== 'scalar' && req.signExtend) return null;
    return load;
  }
  if (within(off, SKB.flowKeys, 8)) return null;
  if (within(off, SKB.hwtstamp, 8)) return kind === 'write' || size !== 8 ? null : load;
  if (within(off, SKB.tstamp, 8)) return size !== 8 ? null : load;
  if (within(off, SKB.sk, 8)) return off !== SKB.sk || kind === 'write' || size !== 8 ? null : 'sock_common_or_null';
  // tstamp_type is a TC field (tc_cls_act_is_valid_access allows it first); the padding after it never.
  if (within(off, SKB.tstampType, SKB.hwtstamp - SKB.tstampType)) return null;
  if (kind === 'write') return size === 4 ? load : null;
  return narrowReadOk(size) ? load : null;
}

function tcAccess(req: ContextAccessRequest): ContextLoad | null {
  const { off } = req;
  if (req.kind === 'write') {
    const writable =
      within(off, SKB.mark, 4) ||
      within(off, SKB.tcIndex, 4) ||
      within(off, SKB.priority, 4) ||
      within(off, SKB.tcClassid, 4) ||
      (off >= SKB.cb && off < SKB.cbEnd) ||
      within(off, SKB.tstamp, 8) ||
      within(off, SKB.queueMapping, 4);
    if (!writable) return null;
  }
  let load: ContextLoad = 'scalar';
  if (within(off, SKB.data, 4)) load = 'packet';
  else if (within(off, SKB.dataMeta, 4)) load = 'packet_meta';
  else if (within(off, SKB.dataEnd, 4)) load = 'packet_end';
  else if (off >= SKB.family && off < SKB.localPortEnd) return null;
  else if (off === SKB.tstampType) return req.size === 1 ? 'scalar' : null;
  return skbAccess(req, load);
}

function socketFilterAccess(req: ContextAccessRequest): ContextLoad | null {
  const { off } = req;
  if (
    within(off, SKB.tcClassid, 4) ||
    within(off, SKB.data, 4) ||
    within(off, SKB.dataMeta, 4) ||
    within(off, SKB.dataEnd, 4) ||
    (off >= SKB.family && off < SKB.localPortEnd) ||
    within(off, SKB.tstamp, 8) ||
    within(off, SKB.wireLen, 4) ||
    within(off, SKB.hwtstamp, 8)
  ) {
    return null;
  }
  if (req.kind === 'write' && !(off >= SKB.cb && off < SKB.cbEnd)) return null;
  return skbAccess(req, 'scalar');
}

/**
 * The kernel's verdict on one context access at constant offset `off`
 * (the instruction's offset plus nothing: a context pointer must not be
 * moved before it is used). null means "invalid bpf_context access".
 */
export function checkContextAccess(type: ProgramType, req: ContextAccessRequest): ContextLoad | null {
  switch (type) {
    case 'xdp':
      return xdpAccess(req);
    case 'sched_cls':
    case 'sched_act':
      return tcAccess(req);
    case 'socket_filter':
      return socketFilterAccess(req);
    default:
      return null;
  }
}
