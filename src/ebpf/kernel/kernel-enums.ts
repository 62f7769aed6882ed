/**
 * Kernel uapi numbers (include/uapi/linux/bpf.h) that the kernel runner
 * passes to bpf(2): program types and expected attach types.
 *
 * Written out rather than read from the installed header because Debian 12's
 * header (6.1) stops short of the running kernel's enums.
 */
import type { ProgramType } from '../bpf-object.js';

/** enum bpf_prog_type, for every ProgramType nicoff names. */
export const PROG_TYPE: Record<ProgramType, number> = {
  socket_filter: 1,
  kprobe: 2,
  sched_cls: 3,
  sched_act: 4,
  tracepoint: 5,
  xdp: 6,
  perf_event: 7,
  cgroup_skb: 8,
  cgroup_sock: 9,
  lwt_in: 10,
  lwt_out: 11,
  lwt_xmit: 12,
  sock_ops: 13,
  sk_skb: 14,
  cgroup_device: 15,
  sk_msg: 16,
  raw_tracepoint: 17,
  cgroup_sock_addr: 18,
  lwt_seg6local: 19,
  sk_reuseport: 21,
  flow_dissector: 22,
  cgroup_sysctl: 23,
  cgroup_sockopt: 25,
  tracing: 26,
  struct_ops: 27,
  lsm: 29,
  sk_lookup: 30,
  syscall: 31,
  netfilter: 32,
};

/** enum bpf_attach_type, by the kernel's name without the BPF_ prefix, lower case. */
export const ATTACH_TYPE: Record<string, number> = {
  cgroup_inet_ingress: 0,
  cgroup_inet_egress: 1,
  cgroup_inet_sock_create: 2,
  cgroup_sock_ops: 3,
  sk_skb_stream_parser: 4,
  sk_skb_stream_verdict: 5,
  cgroup_device: 6,
  sk_msg_verdict: 7,
  cgroup_inet4_bind: 8,
  cgroup_inet6_bind: 9,
  cgroup_inet4_connect: 10,
  cgroup_inet6_connect: 11,
  cgroup_inet4_post_bind: 12,
  cgroup_inet6_post_bind: 13,
  cgroup_udp4_sendmsg: 14,
  cgroup_udp6_sendmsg: 15,
  lirc_mode2: 16,
  flow_dissector: 17,
  cgroup_sysctl: 18,
  cgroup_udp4_recvmsg: 19,
  cgroup_udp6_recvmsg: 20,
  cgroup_getsockopt: 21,
  cgroup_setsockopt: 22,
  trace_raw_tp: 23,
  trace_fentry: 24,
  trace_fexit: 25,
  modify_return: 26,
  lsm_mac: 27,
  trace_iter: 28,
  cgroup_inet4_getpeername: 29,
  cgroup_inet6_getpeername: 30,
  cgroup_inet4_getsockname: 31,
  cgroup_inet6_getsockname: 32,
  xdp_devmap: 33,
  cgroup_inet_sock_release: 34,
  xdp_cpumap: 35,
  sk_lookup: 36,
  xdp: 37,
  sk_skb_verdict: 38,
  sk_reuseport_select: 39,
  sk_reuseport_select_or_migrate: 40,
  perf_event: 41,
  trace_kprobe_multi: 42,
  lsm_cgroup: 43,
  struct_ops: 44,
  netfilter: 45,
  tcx_ingress: 46,
  tcx_egress: 47,
  trace_uprobe_multi: 48,
  cgroup_unix_connect: 49,
  cgroup_unix_sendmsg: 50,
  cgroup_unix_recvmsg: 51,
  cgroup_unix_getpeername: 52,
  cgroup_unix_getsockname: 53,
  netkit_primary: 54,
  netkit_peer: 55,
  trace_kprobe_session: 56,
  trace_uprobe_session: 57,
};

/**
 * Short names that libbpf's section names use (`cgroup_skb/ingress`,
 * `xdp/devmap`, `sk_skb/stream_parser`, `cgroup/connect4` ...), per program type.
 */
const SECTION_ATTACH_ALIASES: Partial<Record<ProgramType, Record<string, string>>> = {
  cgroup_skb: { ingress: 'cgroup_inet_ingress', egress: 'cgroup_inet_egress' },
  cgroup_sock: {
    sock_create: 'cgroup_inet_sock_create',
    sock_release: 'cgroup_inet_sock_release',
    post_bind4: 'cgroup_inet4_post_bind',
    post_bind6: 'cgroup_inet6_post_bind',
  },
  cgroup_sock_addr: {
    bind4: 'cgroup_inet4_bind',
    bind6: 'cgroup_inet6_bind',
    connect4: 'cgroup_inet4_connect',
    connect6: 'cgroup_inet6_connect',
    sendmsg4: 'cgroup_udp4_sendmsg',
    sendmsg6: 'cgroup_udp6_sendmsg',
    recvmsg4: 'cgroup_udp4_recvmsg',
    recvmsg6: 'cgroup_udp6_recvmsg',
    getpeername4: 'cgroup_inet4_getpeername',
    getpeername6: 'cgroup_inet6_getpeername',
    getsockname4: 'cgroup_inet4_getsockname',
    getsockname6: 'cgroup_inet6_getsockname',
  },
  cgroup_sockopt: { getsockopt: 'cgroup_getsockopt', setsockopt: 'cgroup_setsockopt' },
  sk_skb: { stream_parser: 'sk_skb_stream_parser', stream_verdict: 'sk_skb_stream_verdict' },
  sk_msg: { verdict: 'sk_msg_verdict' },
  xdp: { devmap: 'xdp_devmap', cpumap: 'xdp_cpumap' },
  sched_cls: { ingress: 'tcx_ingress', egress: 'tcx_egress' },
  sk_reuseport: { migrate: 'sk_reuseport_select_or_migrate', select: 'sk_reuseport_select' },
  tracing: { fentry: 'trace_fentry', fexit: 'trace_fexit', fmod_ret: 'modify_return', iter: 'trace_iter' },
  lsm: { lsm: 'lsm_mac', cgroup: 'lsm_cgroup' },
};

/** The kernel number for an attach type name, or undefined when nicoff does not know it. */
export function attachTypeNumber(progType: ProgramType, name: string): number | undefined {
  const key = name.toLowerCase().replace(/^bpf_/, '');
  const alias = SECTION_ATTACH_ALIASES[progType]?.[key];
  const kernelName = alias ?? key;
  return Object.hasOwn(ATTACH_TYPE, kernelName) ? ATTACH_TYPE[kernelName] : undefined;
}
