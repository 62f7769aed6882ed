/**
 * Program section names -> program type (+ expected attach type), following
 * libbpf 1.x's section_defs table. A pattern ending in `+` matches the bare
 * name or the name followed by `/anything` (`kprobe/do_sys_open`); any other
 * pattern matches only exactly. Unknown names are reported, never guessed.
 *
 * Attach types are the kernel's `enum bpf_attach_type` names, lower case and
 * without the BPF_ prefix (BPF_CGROUP_INET_INGRESS -> 'cgroup_inet_ingress').
 */
import type { ProgramType } from './bpf-object.js';

export interface SectionTypeRow {
  pattern: string;
  type: ProgramType;
  attachType?: string;
}

function def(pattern: string, type: ProgramType, attachType?: string): SectionTypeRow {
  return attachType === undefined ? { pattern, type } : { pattern, type, attachType };
}

/** First match wins, so more specific names come before their prefixes. */
export const SECTION_TYPES: readonly SectionTypeRow[] = [
  def('socket', 'socket_filter'),
  def('sk_reuseport/migrate', 'sk_reuseport', 'sk_reuseport_select_or_migrate'),
  def('sk_reuseport', 'sk_reuseport', 'sk_reuseport_select'),
  def('kprobe+', 'kprobe'),
  def('uprobe+', 'kprobe'),
  def('uprobe.s+', 'kprobe'),
  def('kretprobe+', 'kprobe'),
  def('uretprobe+', 'kprobe'),
  def('uretprobe.s+', 'kprobe'),
  def('kprobe.multi+', 'kprobe', 'trace_kprobe_multi'),
  def('kretprobe.multi+', 'kprobe', 'trace_kprobe_multi'),
  def('ksyscall+', 'kprobe'),
  def('kretsyscall+', 'kprobe'),
  def('usdt+', 'kprobe'),
  def('tc/ingress', 'sched_cls', 'tcx_ingress'),
  def('tc/egress', 'sched_cls', 'tcx_egress'),
  def('tcx/ingress', 'sched_cls', 'tcx_ingress'),
  def('tcx/egress', 'sched_cls', 'tcx_egress'),
  def('tc', 'sched_cls'),
  def('classifier', 'sched_cls'),
  def('action', 'sched_act'),
  def('tracepoint+', 'tracepoint'),
  def('tp+', 'tracepoint'),
  def('raw_tracepoint+', 'raw_tracepoint'),
  def('raw_tp+', 'raw_tracepoint'),
  def('raw_tracepoint.w+', 'raw_tracepoint'),
  def('raw_tp.w+', 'raw_tracepoint'),
  def('tp_btf+', 'tracing', 'trace_raw_tp'),
  def('fentry+', 'tracing', 'trace_fentry'),
  def('fmod_ret+', 'tracing', 'modify_return'),
  def('fexit+', 'tracing', 'trace_fexit'),
  def('fentry.s+', 'tracing', 'trace_fentry'),
  def('fmod_ret.s+', 'tracing', 'modify_return'),
  def('fexit.s+', 'tracing', 'trace_fexit'),
  def('lsm+', 'lsm', 'lsm_mac'),
  def('lsm.s+', 'lsm', 'lsm_mac'),
  def('lsm_cgroup+', 'lsm', 'lsm_cgroup'),
  def('iter+', 'tracing', 'trace_iter'),
  def('iter.s+', 'tracing', 'trace_iter'),
  def('syscall', 'syscall'),
  def('xdp.frags/devmap', 'xdp', 'xdp_devmap'),
  def('xdp/devmap', 'xdp', 'xdp_devmap'),
  def('xdp.frags/cpumap', 'xdp', 'xdp_cpumap'),
  def('xdp/cpumap', 'xdp', 'xdp_cpumap'),
  def('xdp.frags', 'xdp', 'xdp'),
  def('xdp', 'xdp', 'xdp'),
  def('perf_event', 'perf_event'),
  def('lwt_in', 'lwt_in'),
  def('lwt_out', 'lwt_out'),
  def('lwt_xmit', 'lwt_xmit'),
  def('lwt_seg6local', 'lwt_seg6local'),
  def('sockops', 'sock_ops', 'cgroup_sock_ops'),
  def('sk_skb/stream_parser', 'sk_skb', 'sk_skb_stream_parser'),
  def('sk_skb/stream_verdict', 'sk_skb', 'sk_skb_stream_verdict'),
  def('sk_skb', 'sk_skb'),
  def('sk_msg', 'sk_msg', 'sk_msg_verdict'),
  def('flow_dissector', 'flow_dissector', 'flow_dissector'),
  def('cgroup_skb/ingress', 'cgroup_skb', 'cgroup_inet_ingress'),
  def('cgroup_skb/egress', 'cgroup_skb', 'cgroup_inet_egress'),
  def('cgroup/skb', 'cgroup_skb'),
  def('cgroup/sock_create', 'cgroup_sock', 'cgroup_inet_sock_create'),
  def('cgroup/sock_release', 'cgroup_sock', 'cgroup_inet_sock_release'),
  def('cgroup/sock', 'cgroup_sock', 'cgroup_inet_sock_create'),
  def('cgroup/post_bind4', 'cgroup_sock', 'cgroup_inet4_post_bind'),
  def('cgroup/post_bind6', 'cgroup_sock', 'cgroup_inet6_post_bind'),
  def('cgroup/bind4', 'cgroup_sock_addr', 'cgroup_inet4_bind'),
  def('cgroup/bind6', 'cgroup_sock_addr', 'cgroup_inet6_bind'),
  def('cgroup/connect4', 'cgroup_sock_addr', 'cgroup_inet4_connect'),
  def('cgroup/connect6', 'cgroup_sock_addr', 'cgroup_inet6_connect'),
  def('cgroup/sendmsg4', 'cgroup_sock_addr', 'cgroup_udp4_sendmsg'),
  def('cgroup/sendmsg6', 'cgroup_sock_addr', 'cgroup_udp6_sendmsg'),
  def('cgroup/recvmsg4', 'cgroup_sock_addr', 'cgroup_udp4_recvmsg'),
  def('cgroup/recvmsg6', 'cgroup_sock_addr', 'cgroup_udp6_recvmsg'),
  def('cgroup/getpeername4', 'cgroup_sock_addr', 'cgroup_inet4_getpeername'),
  def('cgroup/getpeername6', 'cgroup_sock_addr', 'cgroup_inet6_getpeername'),
  def('cgroup/getsockname4', 'cgroup_sock_addr', 'cgroup_inet4_getsockname'),
  def('cgroup/getsockname6', 'cgroup_sock_addr', 'cgroup_inet6_getsockname'),
  def('cgroup/sysctl', 'cgroup_sysctl', 'cgroup_sysctl'),
  def('cgroup/getsockopt', 'cgroup_sockopt', 'cgroup_getsockopt'),
  def('cgroup/setsockopt', 'cgroup_sockopt', 'cgroup_setsockopt'),
  def('cgroup/dev', 'cgroup_device', 'cgroup_device'),
  def('struct_ops+', 'struct_ops'),
  def('struct_ops.s+', 'struct_ops'),
  def('sk_lookup', 'sk_lookup', 'sk_lookup'),
  def('netfilter', 'netfilter', 'netfilter'),
];

function matches(pattern: string, section: string): boolean {
  if (!pattern.endsWith('+')) return section === pattern;
  const prefix = pattern.slice(0, -1);
  return section === prefix || section.startsWith(prefix + '/');
}

/** The program type a section name implies, or undefined when nicoff does not know the name. */
export function programTypeForSection(section: string): SectionTypeRow | undefined {
  return SECTION_TYPES.find((row) => matches(row.pattern, section));
}
