/**
 * The helper table: one row per kernel helper that the networking program
 * types nicoff handles (XDP, TC classifier/action, socket filter) may call.
 *
 * Ids and C prototypes come from /usr/include/bpf/bpf_helper_defs.h; argument
 * and return kinds follow the kernel's `bpf_func_proto` conventions
 * (ARG_CONST_MAP_PTR, ARG_PTR_TO_MEM + ARG_CONST_SIZE, ...) derived from the
 * documented signatures; the per-type availability follows the kernel's
 * xdp/tc_cls_act/sk_filter func_proto switches plus the shared base set.
 * The verifier, the reference interpreter and the NFP backend (which keys its
 * own lowering table by the same ids) all read this one table.
 */
import type { ProgramType } from './bpf-object.js';

export type ArgKind =
  | 'anything'
  | 'const_map_ptr'
  | 'ptr_to_map_key'
  | 'ptr_to_map_value'
  | 'ptr_to_uninit_map_value'
  | 'ptr_to_ctx'
  | 'ptr_to_mem'
  | 'ptr_to_mem_or_null'
  | 'ptr_to_uninit_mem'
  | 'const_size'
  | 'const_size_or_zero'
  | 'const_alloc_size_or_zero'
  | 'ptr_to_stack'
  | 'ptr_to_long'
  | 'ptr_to_int'
  | 'ptr_to_const_str'
  | 'ptr_to_func'
  | 'ptr_to_stack_or_null'
  | 'ptr_to_spin_lock'
  | 'ptr_to_socket'
  | 'ptr_to_sock_common'
  | 'ptr_to_btf_id_sock_common'
  | 'ptr_to_alloc_mem'
  | 'ptr_to_timer'
  | 'ptr_to_percpu_btf_id'
  | 'ptr_to_dynptr';

export type RetKind =
  | 'integer'
  | 'void'
  | 'map_value_or_null'
  | 'socket_or_null'
  | 'sock_common_or_null'
  | 'tcp_sock_or_null'
  | 'alloc_mem_or_null'
  | 'mem_or_btf_id_or_null'
  | 'btf_id_or_null';

export interface HelperProto {
  id: number;
  name: string;
  args: ArgKind[];
  ret: RetKind;
  gplOnly: boolean;
  programTypes: ProgramType[];
  /** Invalidates packet pointers (the kernel's bpf_helper_changes_pkt_data). */
  changesPacketData: boolean;
  /** Result depends on time, randomness or the CPU: differential tests must inject or ignore it. */
  nondeterministic: boolean;
}

const NET: ProgramType[] = ['xdp', 'sched_cls', 'sched_act', 'socket_filter'];
const TC: ProgramType[] = ['sched_cls', 'sched_act'];
const XDP_TC: ProgramType[] = ['xdp', 'sched_cls', 'sched_act'];
const XDP: ProgramType[] = ['xdp'];
const TC_SOCK: ProgramType[] = ['sched_cls', 'sched_act', 'socket_filter'];

interface RowOpts {
  gpl?: boolean;
  pkt?: boolean;
  nondet?: boolean;
}

function h(id: number, name: string, args: ArgKind[], ret: RetKind, programTypes: ProgramType[], o: RowOpts = {}): HelperProto {
  return {
    id,
    name,
    args,
    ret,
    gplOnly: o.gpl ?? false,
    programTypes,
    changesPacketData: o.pkt ?? false,
    nondeterministic: o.nondet ?? false,
  };
}

/** Sorted by id. */
export const HELPERS: readonly HelperProto[] = [
  h(1, 'map_lookup_elem', ['const_map_ptr', 'ptr_to_map_key'], 'map_value_or_null', NET),
  h(2, 'map_update_elem', ['const_map_ptr', 'ptr_to_map_key', 'ptr_to_map_value', 'anything'], 'integer', NET),
  h(3, 'map_delete_elem', ['const_map_ptr', 'ptr_to_map_key'], 'integer', NET),
  h(5, 'ktime_get_ns', [], 'integer', NET, { nondet: true }),
  h(6, 'trace_printk', ['ptr_to_mem', 'const_size', 'anything', 'anything', 'anything'], 'integer', NET, { gpl: true }),
  h(7, 'get_prandom_u32', [], 'integer', NET, { nondet: true }),
  h(8, 'get_smp_processor_id', [], 'integer', NET, { nondet: true }),
  h(9, 'skb_store_bytes', ['ptr_to_ctx', 'anything', 'ptr_to_mem', 'const_size', 'anything'], 'integer', TC, { pkt: true }),
  h(10, 'l3_csum_replace', ['ptr_to_ctx', 'anything', 'anything', 'anything', 'anything'], 'integer', TC, { pkt: true }),
  h(11, 'l4_csum_replace', ['ptr_to_ctx', 'anything', 'anything', 'anything', 'anything'], 'integer', TC, { pkt: true }),
  h(12, 'tail_call', ['ptr_to_ctx', 'const_map_ptr', 'anything'], 'void', NET),
  h(13, 'clone_redirect', ['ptr_to_ctx', 'anything', 'anything'], 'integer', TC, { pkt: true }),
  h(17, 'get_cgroup_classid', ['ptr_to_ctx'], 'integer', TC),
  h(18, 'skb_vlan_push', ['ptr_to_ctx', 'anything', 'anything'], 'integer', TC, { pkt: true }),
  h(19, 'skb_vlan_pop', ['ptr_to_ctx'], 'integer', TC, { pkt: true }),
  h(20, 'skb_get_tunnel_key', ['ptr_to_ctx', 'ptr_to_uninit_mem', 'const_size', 'anything'], 'integer', TC),
  h(21, 'skb_set_tunnel_key', ['ptr_to_ctx', 'ptr_to_mem', 'const_size', 'anything'], 'integer', TC),
  h(23, 'redirect', ['anything', 'anything'], 'integer', XDP_TC),
  h(24, 'get_route_realm', ['ptr_to_ctx'], 'integer', TC),
  h(25, 'perf_event_output', ['ptr_to_ctx', 'const_map_ptr', 'anything', 'ptr_to_mem', 'const_size_or_zero'], 'integer', NET, { gpl: true }),
  h(26, 'skb_load_bytes', ['ptr_to_ctx', 'anything', 'ptr_to_uninit_mem', 'const_size'], 'integer', TC_SOCK),
  h(28, 'csum_diff', ['ptr_to_mem_or_null', 'const_size_or_zero', 'ptr_to_mem_or_null', 'const_size_or_zero', 'anything'], 'integer', XDP_TC),
  h(29, 'skb_get_tunnel_opt', ['ptr_to_ctx', 'ptr_to_uninit_mem', 'const_size'], 'integer', TC),
  h(30, 'skb_set_tunnel_opt', ['ptr_to_ctx', 'ptr_to_mem', 'const_size'], 'integer', TC),
  h(31, 'skb_change_proto', ['ptr_to_ctx', 'anything', 'anything'], 'integer', TC, { pkt: true }),
  h(32, 'skb_change_type', ['ptr_to_ctx', 'anything'], 'integer', TC),
  h(33, 'skb_under_cgroup', ['ptr_to_ctx', 'const_map_ptr', 'anything'], 'integer', TC),
  h(34, 'get_hash_recalc', ['ptr_to_ctx'], 'integer', TC, { nondet: true }),
  h(38, 'skb_change_tail', ['ptr_to_ctx', 'anything', 'anything'], 'integer', TC, { pkt: true }),
  h(39, 'skb_pull_data', ['ptr_to_ctx', 'anything'], 'integer', TC, { pkt: true }),
  h(40, 'csum_update', ['ptr_to_ctx', 'anything'], 'integer', TC),
  h(41, 'set_hash_invalid', ['ptr_to_ctx'], 'void', TC),
  h(42, 'get_numa_node_id', [], 'integer', NET, { nondet: true }),
  h(43, 'skb_change_head', ['ptr_to_ctx', 'anything', 'anything'], 'integer', TC, { pkt: true }),
  h(44, 'xdp_adjust_head', ['ptr_to_ctx', 'anything'], 'integer', XDP, { pkt: true }),
  h(46, 'get_socket_cookie', ['ptr_to_ctx'], 'integer', TC_SOCK, { nondet: true }),
  h(47, 'get_socket_uid', ['ptr_to_ctx'], 'integer', TC_SOCK),
  h(48, 'set_hash', ['ptr_to_ctx', 'anything'], 'integer', TC),
  h(50, 'skb_adjust_room', ['ptr_to_ctx', 'anything', 'anything', 'anything'], 'integer', TC, { pkt: true }),
  h(51, 'redirect_map', ['const_map_ptr', 'anything', 'anything'], 'integer', XDP),
  h(54, 'xdp_adjust_meta', ['ptr_to_ctx', 'anything'], 'integer', XDP, { pkt: true }),
  h(65, 'xdp_adjust_tail', ['ptr_to_ctx', 'anything'], 'integer', XDP, { pkt: true }),
  h(66, 'skb_get_xfrm_state', ['ptr_to_ctx', 'anything', 'ptr_to_uninit_mem', 'const_size', 'anything'], 'integer', TC),
  h(68, 'skb_load_bytes_relative', ['ptr_to_ctx', 'anything', 'ptr_to_uninit_mem', 'const_size', 'anything'], 'integer', TC_SOCK),
  h(69, 'fib_lookup', ['ptr_to_ctx', 'ptr_to_mem', 'const_size', 'anything'], 'integer', XDP_TC, { gpl: true }),
  h(79, 'skb_cgroup_id', ['ptr_to_ctx'], 'integer', TC),
  h(83, 'skb_ancestor_cgroup_id', ['ptr_to_ctx', 'anything'], 'integer', TC),
  h(84, 'sk_lookup_tcp', ['ptr_to_ctx', 'ptr_to_mem', 'const_size', 'anything', 'anything'], 'socket_or_null', XDP_TC),
  h(85, 'sk_lookup_udp', ['ptr_to_ctx', 'ptr_to_mem', 'const_size', 'anything', 'anything'], 'socket_or_null', XDP_TC),
  h(86, 'sk_release', ['ptr_to_btf_id_sock_common'], 'integer', XDP_TC),
  h(87, 'map_push_elem', ['const_map_ptr', 'ptr_to_map_value', 'anything'], 'integer', NET),
  h(88, 'map_pop_elem', ['const_map_ptr', 'ptr_to_uninit_map_value'], 'integer', NET),
  h(89, 'map_peek_elem', ['const_map_ptr', 'ptr_to_uninit_map_value'], 'integer', NET),
  h(93, 'spin_lock', ['ptr_to_spin_lock'], 'void', NET),
  h(94, 'spin_unlock', ['ptr_to_spin_lock'], 'void', NET),
  h(95, 'sk_fullsock', ['ptr_to_sock_common'], 'socket_or_null', TC),
  h(96, 'tcp_sock', ['ptr_to_sock_common'], 'tcp_sock_or_null', TC),
  h(97, 'skb_ecn_set_ce', ['ptr_to_ctx'], 'integer', TC),
  h(98, 'get_listener_sock', ['ptr_to_sock_common'], 'socket_or_null', TC),
  h(99, 'skc_lookup_tcp', ['ptr_to_ctx', 'ptr_to_mem', 'const_size', 'anything', 'anything'], 'sock_common_or_null', XDP_TC),
  h(100, 'tcp_check_syncookie', ['ptr_to_btf_id_sock_common', 'ptr_to_mem', 'const_size', 'ptr_to_mem', 'const_size'], 'integer', XDP_TC),
  h(105, 'strtol', ['ptr_to_mem', 'const_size', 'anything', 'ptr_to_long'], 'integer', NET),
  h(106, 'strtoul', ['ptr_to_mem', 'const_size', 'anything', 'ptr_to_long'], 'integer', NET),
  h(107, 'sk_storage_get', ['const_map_ptr', 'ptr_to_btf_id_sock_common', 'ptr_to_map_value', 'anything'], 'map_value_or_null', TC),
  h(108, 'sk_storage_delete', ['const_map_ptr', 'ptr_to_btf_id_sock_common'], 'integer', TC),
  h(110, 'tcp_gen_syncookie', ['ptr_to_btf_id_sock_common', 'ptr_to_mem', 'const_size', 'ptr_to_mem', 'const_size'], 'integer', XDP_TC),
  h(113, 'probe_read_kernel', ['ptr_to_uninit_mem', 'const_size_or_zero', 'anything'], 'integer', NET, { gpl: true }),
  h(115, 'probe_read_kernel_str', ['ptr_to_uninit_mem', 'const_size_or_zero', 'anything'], 'integer', NET, { gpl: true }),
  h(118, 'jiffies64', [], 'integer', NET, { nondet: true }),
  h(121, 'xdp_output', ['ptr_to_ctx', 'const_map_ptr', 'anything', 'ptr_to_mem', 'const_size_or_zero'], 'integer', XDP, { gpl: true }),
  h(122, 'get_netns_cookie', ['ptr_to_ctx'], 'integer', TC_SOCK),
  h(124, 'sk_assign', ['ptr_to_ctx', 'ptr_to_btf_id_sock_common', 'anything'], 'integer', TC),
  h(125, 'ktime_get_boot_ns', [], 'integer', NET, { nondet: true }),
  h(130, 'ringbuf_output', ['const_map_ptr', 'ptr_to_mem', 'const_size_or_zero', 'anything'], 'integer', NET),
  h(131, 'ringbuf_reserve', ['const_map_ptr', 'const_alloc_size_or_zero', 'anything'], 'alloc_mem_or_null', NET),
  h(132, 'ringbuf_submit', ['ptr_to_alloc_mem', 'anything'], 'void', NET),
  h(133, 'ringbuf_discard', ['ptr_to_alloc_mem', 'anything'], 'void', NET),
  h(134, 'ringbuf_query', ['const_map_ptr', 'anything'], 'integer', NET),
  h(135, 'csum_level', ['ptr_to_ctx', 'anything'], 'integer', TC),
  h(136, 'skc_to_tcp6_sock', ['ptr_to_btf_id_sock_common'], 'btf_id_or_null', NET),
  h(137, 'skc_to_tcp_sock', ['ptr_to_btf_id_sock_common'], 'btf_id_or_null', NET),
  h(138, 'skc_to_tcp_timewait_sock', ['ptr_to_btf_id_sock_common'], 'btf_id_or_null', NET),
  h(139, 'skc_to_tcp_request_sock', ['ptr_to_btf_id_sock_common'], 'btf_id_or_null', NET),
  h(140, 'skc_to_udp6_sock', ['ptr_to_btf_id_sock_common'], 'btf_id_or_null', NET),
  h(151, 'skb_cgroup_classid', ['ptr_to_ctx'], 'integer', TC),
  h(152, 'redirect_neigh', ['anything', 'ptr_to_mem_or_null', 'const_size_or_zero', 'anything'], 'integer', TC),
  h(153, 'per_cpu_ptr', ['ptr_to_percpu_btf_id', 'anything'], 'mem_or_btf_id_or_null', NET),
  h(154, 'this_cpu_ptr', ['ptr_to_percpu_btf_id'], 'mem_or_btf_id_or_null', NET),
  h(155, 'redirect_peer', ['anything', 'anything'], 'integer', TC),
  h(160, 'ktime_get_coarse_ns', [], 'integer', NET, { nondet: true }),
  h(163, 'check_mtu', ['ptr_to_ctx', 'anything', 'ptr_to_int', 'anything', 'anything'], 'integer', XDP_TC),
  h(164, 'for_each_map_elem', ['const_map_ptr', 'ptr_to_func', 'ptr_to_stack_or_null', 'anything'], 'integer', NET),
  h(165, 'snprintf', ['ptr_to_mem_or_null', 'const_size_or_zero', 'ptr_to_const_str', 'ptr_to_mem_or_null', 'const_size_or_zero'], 'integer', NET, { gpl: true }),
  h(169, 'timer_init', ['ptr_to_timer', 'const_map_ptr', 'anything'], 'integer', NET, { gpl: true }),
  h(170, 'timer_set_callback', ['ptr_to_timer', 'ptr_to_func'], 'integer', NET, { gpl: true }),
  h(171, 'timer_start', ['ptr_to_timer', 'anything', 'anything'], 'integer', NET, { gpl: true }),
  h(172, 'timer_cancel', ['ptr_to_timer'], 'integer', NET, { gpl: true }),
  h(177, 'trace_vprintk', ['ptr_to_mem', 'const_size', 'ptr_to_mem_or_null', 'const_size_or_zero'], 'integer', NET, { gpl: true }),
  h(181, 'loop', ['anything', 'ptr_to_func', 'ptr_to_stack_or_null', 'anything'], 'integer', NET),
  h(182, 'strncmp', ['ptr_to_mem', 'const_size', 'ptr_to_const_str'], 'integer', NET),
  h(188, 'xdp_get_buff_len', ['ptr_to_ctx'], 'integer', XDP),
  h(189, 'xdp_load_bytes', ['ptr_to_ctx', 'anything', 'ptr_to_uninit_mem', 'const_size'], 'integer', XDP),
  h(190, 'xdp_store_bytes', ['ptr_to_ctx', 'anything', 'ptr_to_mem', 'const_size'], 'integer', XDP),
  h(192, 'skb_set_tstamp', ['ptr_to_ctx', 'anything', 'anything'], 'integer', TC),
  h(195, 'map_lookup_percpu_elem', ['const_map_ptr', 'ptr_to_map_key', 'anything'], 'map_value_or_null', NET),
  h(197, 'dynptr_from_mem', ['ptr_to_uninit_map_value', 'const_size_or_zero', 'anything', 'ptr_to_dynptr'], 'integer', NET),
  h(198, 'ringbuf_reserve_dynptr', ['const_map_ptr', 'anything', 'anything', 'ptr_to_dynptr'], 'integer', NET),
  h(199, 'ringbuf_submit_dynptr', ['ptr_to_dynptr', 'anything'], 'void', NET),
  h(200, 'ringbuf_discard_dynptr', ['ptr_to_dynptr', 'anything'], 'void', NET),
  h(201, 'dynptr_read', ['ptr_to_uninit_mem', 'const_size_or_zero', 'ptr_to_dynptr', 'anything', 'anything'], 'integer', NET),
  h(202, 'dynptr_write', ['ptr_to_dynptr', 'anything', 'ptr_to_mem', 'const_size_or_zero', 'anything'], 'integer', NET),
  h(203, 'dynptr_data', ['ptr_to_dynptr', 'anything', 'const_alloc_size_or_zero'], 'alloc_mem_or_null', NET),
  h(204, 'tcp_raw_gen_syncookie_ipv4', ['ptr_to_mem', 'ptr_to_mem', 'const_size'], 'integer', XDP_TC),
  h(205, 'tcp_raw_gen_syncookie_ipv6', ['ptr_to_mem', 'ptr_to_mem', 'const_size'], 'integer', XDP_TC),
  h(206, 'tcp_raw_check_syncookie_ipv4', ['ptr_to_mem', 'ptr_to_mem'], 'integer', XDP_TC),
  h(207, 'tcp_raw_check_syncookie_ipv6', ['ptr_to_mem', 'ptr_to_mem'], 'integer', XDP_TC),
  h(208, 'ktime_get_tai_ns', [], 'integer', NET, { nondet: true }),
];

const byId = new Map<number, HelperProto>(HELPERS.map((p) => [p.id, p]));
const byName = new Map<string, HelperProto>();
for (const p of HELPERS) {
  byName.set(p.name, p);
  byName.set('bpf_' + p.name, p);
}

export function helperById(id: number): HelperProto | undefined {
  return byId.get(id);
}

/** Accepts both `map_lookup_elem` and `bpf_map_lookup_elem`. */
export function helperByName(name: string): HelperProto | undefined {
  return byName.get(name);
}

export function helperAllowed(id: number, type: ProgramType): boolean {
  const p = byId.get(id);
  return p !== undefined && p.programTypes.includes(type);
}
