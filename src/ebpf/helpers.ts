/**
 * The helper table: one row per kernel helper that the networking program
 * types nicoff handles (XDP, TC classifier/action, socket filter) may call.
 * A row whose programTypes is empty names a helper none of them may call
 * (kept so listings and messages can still name it).
 *
 * Ids and C prototypes come from /usr/include/bpf/bpf_helper_defs.h; argument
 * and return kinds follow the kernel's `bpf_func_proto` conventions
 * (ARG_CONST_MAP_PTR, ARG_PTR_TO_MEM + ARG_CONST_SIZE, ...) derived from the
 * documented signatures; the per-type availability follows the kernel's
 * xdp/tc_cls_act/sk_filter func_proto switches plus the shared base set.
 * Availability is the privileged view (root, or CAP_BPF + CAP_PERFMON +
 * CAP_NET_ADMIN): since 6.x the base set hands many tracing-style helpers
 * (current task, cgroup, probe_read_user, ...) to every program type once the
 * loader holds CAP_BPF/CAP_PERFMON. test/ebpf/helper-availability.test.ts
 * checks helperAllowed against the running kernel for every id.
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
  | 'ptr_to_dynptr'
  /** ARG_PTR_TO_BTF_ID: a trusted kernel object of one BTF type (task_struct, ...). */
  | 'ptr_to_btf_id'
  /** ARG_PTR_TO_BTF_ID_OR_NULL: the same, or a NULL scalar. */
  | 'ptr_to_btf_id_or_null'
  /** ARG_PTR_TO_MAP_VALUE_OR_NULL: a map value of the call's map (its size), or NULL. */
  | 'ptr_to_map_value_or_null'
  /** ARG_KPTR_XCHG_DEST: a kptr field inside a map value or allocated object. */
  | 'ptr_to_kptr';

export type RetKind =
  | 'integer'
  | 'void'
  | 'map_value_or_null'
  | 'socket_or_null'
  | 'sock_common_or_null'
  | 'tcp_sock_or_null'
  | 'alloc_mem_or_null'
  | 'mem_or_btf_id_or_null'
  | 'btf_id_or_null'
  /** RET_PTR_TO_BTF_ID / RET_PTR_TO_BTF_ID_TRUSTED: a kernel object pointer that is never NULL. */
  | 'btf_id';

/**
 * What the NFP offload needs for a helper (nfp-microcode.md D.4). Only the
 * rows that carry it can run on the NFP; the lowering is keyed by the same id.
 */
export interface NfpHelperSupport {
  /** The firmware capability it needs: a FUNC entry for this id (its code address), or a capability flag. */
  capability: 'func' | 'random' | 'adjust_head' | 'adjust_tail' | 'queue_select';
  /** The helper's name in the nfp driver's messages ("map_lookup: not supported by FW"). */
  driverName: string;
  /** Argument registers that must point into the stack at a constant, 4-byte-aligned offset. */
  stackArgs?: readonly number[];
}

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
  /** Present when the NFP offload can run it. */
  nfp?: NfpHelperSupport;
  /**
   * The proto's might_sleep: the kernel refuses the call ("helper call might
   * sleep in a non-sleepable prog") in every program that is not sleepable,
   * which includes all four networking types, before it looks at arguments.
   */
  mightSleep?: true;
}

const NET: ProgramType[] = ['xdp', 'sched_cls', 'sched_act', 'socket_filter'];
const TC: ProgramType[] = ['sched_cls', 'sched_act'];
const XDP_TC: ProgramType[] = ['xdp', 'sched_cls', 'sched_act'];
const XDP: ProgramType[] = ['xdp'];
const TC_SOCK: ProgramType[] = ['sched_cls', 'sched_act', 'socket_filter'];
const NONE: ProgramType[] = [];

interface RowOpts {
  gpl?: boolean;
  pkt?: boolean;
  nondet?: boolean;
  nfp?: NfpHelperSupport;
  sleeps?: boolean;
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
    ...(o.nfp ? { nfp: o.nfp } : {}),
    ...(o.sleeps ? { mightSleep: true as const } : {}),
  };
}

/** Sorted by id. */
export const HELPERS: readonly HelperProto[] = [
  h(1, 'map_lookup_elem', ['const_map_ptr', 'ptr_to_map_key'], 'map_value_or_null', NET, {
    nfp: { capability: 'func', driverName: 'map_lookup', stackArgs: [2] },
  }),
  h(2, 'map_update_elem', ['const_map_ptr', 'ptr_to_map_key', 'ptr_to_map_value', 'anything'], 'integer', NET, {
    nfp: { capability: 'func', driverName: 'map_update', stackArgs: [2, 3] },
  }),
  h(3, 'map_delete_elem', ['const_map_ptr', 'ptr_to_map_key'], 'integer', NET, {
    nfp: { capability: 'func', driverName: 'map_delete', stackArgs: [2] },
  }),
  h(5, 'ktime_get_ns', [], 'integer', NET, { nondet: true }),
  h(6, 'trace_printk', ['ptr_to_mem', 'const_size'], 'integer', NET, { gpl: true }),
  h(7, 'get_prandom_u32', [], 'integer', NET, { nondet: true, nfp: { capability: 'random', driverName: 'bpf_get_prandom_u32()' } }),
  h(8, 'get_smp_processor_id', [], 'integer', NET, { nondet: true }),
  h(9, 'skb_store_bytes', ['ptr_to_ctx', 'anything', 'ptr_to_mem', 'const_size', 'anything'], 'integer', TC, { pkt: true }),
  h(10, 'l3_csum_replace', ['ptr_to_ctx', 'anything', 'anything', 'anything', 'anything'], 'integer', TC, { pkt: true }),
  h(11, 'l4_csum_replace', ['ptr_to_ctx', 'anything', 'anything', 'anything', 'anything'], 'integer', TC, { pkt: true }),
  h(12, 'tail_call', ['ptr_to_ctx', 'const_map_ptr', 'anything'], 'void', NET),
  h(13, 'clone_redirect', ['ptr_to_ctx', 'anything', 'anything'], 'integer', TC, { pkt: true }),
  h(14, 'get_current_pid_tgid', [], 'integer', NET, { nondet: true }),
  h(15, 'get_current_uid_gid', [], 'integer', NET, { nondet: true }),
  h(16, 'get_current_comm', ['ptr_to_uninit_mem', 'const_size'], 'integer', NET, { nondet: true }),
  // Two kernel protos share id 17: TC gets the skb one (R1 = ctx); XDP and socket filters get the
  // base set's no-argument one, which reads the current task's net_cls classid. The row keeps the
  // skb shape, which is stricter than the kernel for XDP/socket filters (R1 must be the ctx).
  h(17, 'get_cgroup_classid', ['ptr_to_ctx'], 'integer', NET, { nondet: true }),
  h(18, 'skb_vlan_push', ['ptr_to_ctx', 'anything', 'anything'], 'integer', TC, { pkt: true }),
  h(19, 'skb_vlan_pop', ['ptr_to_ctx'], 'integer', TC, { pkt: true }),
  h(20, 'skb_get_tunnel_key', ['ptr_to_ctx', 'ptr_to_uninit_mem', 'const_size', 'anything'], 'integer', TC),
  h(21, 'skb_set_tunnel_key', ['ptr_to_ctx', 'ptr_to_mem', 'const_size', 'anything'], 'integer', TC),
  h(22, 'perf_event_read', ['const_map_ptr', 'anything'], 'integer', NET, { gpl: true, nondet: true }),
  h(23, 'redirect', ['anything', 'anything'], 'integer', XDP_TC),
  h(24, 'get_route_realm', ['ptr_to_ctx'], 'integer', TC),
  // On the NFP the data pointer (R4) may also be a map value, packet or NULL; only a stack pointer has the stackArgs rule.
  h(25, 'perf_event_output', ['ptr_to_ctx', 'const_map_ptr', 'anything', 'ptr_to_mem', 'const_size_or_zero'], 'integer', NET, {
    gpl: true,
    nfp: { capability: 'func', driverName: 'event_output' },
  }),
  h(26, 'skb_load_bytes', ['ptr_to_ctx', 'anything', 'ptr_to_uninit_mem', 'const_size'], 'integer', TC_SOCK),
  h(28, 'csum_diff', ['ptr_to_mem_or_null', 'const_size_or_zero', 'ptr_to_mem_or_null', 'const_size_or_zero', 'anything'], 'integer', XDP_TC),
  h(29, 'skb_get_tunnel_opt', ['ptr_to_ctx', 'ptr_to_uninit_mem', 'const_size'], 'integer', TC),
  h(30, 'skb_set_tunnel_opt', ['ptr_to_ctx', 'ptr_to_mem', 'const_size'], 'integer', TC),
  h(31, 'skb_change_proto', ['ptr_to_ctx', 'anything', 'anything'], 'integer', TC, { pkt: true }),
  h(32, 'skb_change_type', ['ptr_to_ctx', 'anything'], 'integer', TC),
  h(33, 'skb_under_cgroup', ['ptr_to_ctx', 'const_map_ptr', 'anything'], 'integer', TC),
  h(34, 'get_hash_recalc', ['ptr_to_ctx'], 'integer', TC, { nondet: true }),
  h(35, 'get_current_task', [], 'integer', NET, { gpl: true, nondet: true }),
  h(37, 'current_task_under_cgroup', ['const_map_ptr', 'anything'], 'integer', NET, { nondet: true }),
  h(38, 'skb_change_tail', ['ptr_to_ctx', 'anything', 'anything'], 'integer', TC, { pkt: true }),
  h(39, 'skb_pull_data', ['ptr_to_ctx', 'anything'], 'integer', TC, { pkt: true }),
  h(40, 'csum_update', ['ptr_to_ctx', 'anything'], 'integer', TC),
  h(41, 'set_hash_invalid', ['ptr_to_ctx'], 'void', TC),
  h(42, 'get_numa_node_id', [], 'integer', NET, { nondet: true }),
  h(43, 'skb_change_head', ['ptr_to_ctx', 'anything', 'anything'], 'integer', TC, { pkt: true }),
  h(44, 'xdp_adjust_head', ['ptr_to_ctx', 'anything'], 'integer', XDP, { pkt: true, nfp: { capability: 'adjust_head', driverName: 'adjust_head' } }),
  h(46, 'get_socket_cookie', ['ptr_to_ctx'], 'integer', TC_SOCK, { nondet: true }),
  h(47, 'get_socket_uid', ['ptr_to_ctx'], 'integer', TC_SOCK),
  h(48, 'set_hash', ['ptr_to_ctx', 'anything'], 'integer', TC),
  h(50, 'skb_adjust_room', ['ptr_to_ctx', 'anything', 'anything', 'anything'], 'integer', TC, { pkt: true }),
  h(51, 'redirect_map', ['const_map_ptr', 'anything', 'anything'], 'integer', XDP),
  h(54, 'xdp_adjust_meta', ['ptr_to_ctx', 'anything'], 'integer', XDP, { pkt: true }),
  h(55, 'perf_event_read_value', ['const_map_ptr', 'anything', 'ptr_to_uninit_mem', 'const_size'], 'integer', NET, { gpl: true, nondet: true }),
  h(65, 'xdp_adjust_tail', ['ptr_to_ctx', 'anything'], 'integer', XDP, { pkt: true, nfp: { capability: 'adjust_tail', driverName: 'adjust_tail' } }),
  h(66, 'skb_get_xfrm_state', ['ptr_to_ctx', 'anything', 'ptr_to_uninit_mem', 'const_size', 'anything'], 'integer', TC),
  h(68, 'skb_load_bytes_relative', ['ptr_to_ctx', 'anything', 'ptr_to_uninit_mem', 'const_size', 'anything'], 'integer', TC_SOCK),
  h(69, 'fib_lookup', ['ptr_to_ctx', 'ptr_to_mem', 'const_size', 'anything'], 'integer', XDP_TC, { gpl: true }),
  h(79, 'skb_cgroup_id', ['ptr_to_ctx'], 'integer', TC),
  h(80, 'get_current_cgroup_id', [], 'integer', NET, { nondet: true }),
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
  h(100, 'tcp_check_syncookie', ['ptr_to_btf_id_sock_common', 'ptr_to_mem', 'const_size', 'ptr_to_mem', 'const_size'], 'integer', XDP_TC, { gpl: true }),
  h(105, 'strtol', ['ptr_to_mem', 'const_size', 'anything', 'ptr_to_long'], 'integer', NET),
  h(106, 'strtoul', ['ptr_to_mem', 'const_size', 'anything', 'ptr_to_long'], 'integer', NET),
  h(107, 'sk_storage_get', ['const_map_ptr', 'ptr_to_btf_id_sock_common', 'ptr_to_map_value', 'anything'], 'map_value_or_null', TC),
  h(108, 'sk_storage_delete', ['const_map_ptr', 'ptr_to_btf_id_sock_common'], 'integer', TC),
  h(109, 'send_signal', ['anything'], 'integer', NET),
  h(110, 'tcp_gen_syncookie', ['ptr_to_btf_id_sock_common', 'ptr_to_mem', 'const_size', 'ptr_to_mem', 'const_size'], 'integer', XDP_TC, { gpl: true }),
  h(112, 'probe_read_user', ['ptr_to_uninit_mem', 'const_size_or_zero', 'anything'], 'integer', NET, { gpl: true, nondet: true }),
  h(113, 'probe_read_kernel', ['ptr_to_uninit_mem', 'const_size_or_zero', 'anything'], 'integer', NET, { gpl: true }),
  h(114, 'probe_read_user_str', ['ptr_to_uninit_mem', 'const_size_or_zero', 'anything'], 'integer', NET, { gpl: true, nondet: true }),
  h(115, 'probe_read_kernel_str', ['ptr_to_uninit_mem', 'const_size_or_zero', 'anything'], 'integer', NET, { gpl: true }),
  h(117, 'send_signal_thread', ['anything'], 'integer', NET),
  h(118, 'jiffies64', [], 'integer', NET, { nondet: true }),
  h(120, 'get_ns_current_pid_tgid', ['anything', 'anything', 'ptr_to_uninit_mem', 'const_size'], 'integer', NET, { nondet: true }),
  // Only tracing programs attached to XDP functions (fentry/fexit) get it; XDP programs use perf_event_output.
  h(121, 'xdp_output', ['ptr_to_ctx', 'const_map_ptr', 'anything', 'ptr_to_mem', 'const_size_or_zero'], 'integer', NONE, { gpl: true }),
  h(122, 'get_netns_cookie', ['ptr_to_ctx'], 'integer', TC_SOCK),
  h(123, 'get_current_ancestor_cgroup_id', ['anything'], 'integer', NET, { nondet: true }),
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
  h(141, 'get_task_stack', ['ptr_to_btf_id', 'ptr_to_uninit_mem', 'const_size_or_zero', 'anything'], 'integer', NET, { nondet: true }),
  h(148, 'copy_from_user', ['ptr_to_uninit_mem', 'const_size_or_zero', 'anything'], 'integer', NET, { nondet: true, sleeps: true }),
  h(149, 'snprintf_btf', ['ptr_to_mem', 'const_size', 'ptr_to_mem', 'const_size', 'anything'], 'integer', NET),
  h(151, 'skb_cgroup_classid', ['ptr_to_ctx'], 'integer', TC),
  h(152, 'redirect_neigh', ['anything', 'ptr_to_mem_or_null', 'const_size_or_zero', 'anything'], 'integer', TC),
  h(153, 'per_cpu_ptr', ['ptr_to_percpu_btf_id', 'anything'], 'mem_or_btf_id_or_null', NET),
  h(154, 'this_cpu_ptr', ['ptr_to_percpu_btf_id'], 'mem_or_btf_id_or_null', NET),
  h(155, 'redirect_peer', ['anything', 'anything'], 'integer', TC),
  h(156, 'task_storage_get', ['const_map_ptr', 'ptr_to_btf_id_or_null', 'ptr_to_map_value_or_null', 'anything'], 'map_value_or_null', NET),
  h(157, 'task_storage_delete', ['const_map_ptr', 'ptr_to_btf_id_or_null'], 'integer', NET),
  h(158, 'get_current_task_btf', [], 'btf_id', NET, { gpl: true, nondet: true }),
  h(160, 'ktime_get_coarse_ns', [], 'integer', NET, { nondet: true }),
  h(163, 'check_mtu', ['ptr_to_ctx', 'anything', 'ptr_to_int', 'anything', 'anything'], 'integer', XDP_TC, { gpl: true }),
  h(164, 'for_each_map_elem', ['const_map_ptr', 'ptr_to_func', 'ptr_to_stack_or_null', 'anything'], 'integer', NET),
  h(165, 'snprintf', ['ptr_to_mem_or_null', 'const_size_or_zero', 'ptr_to_const_str', 'ptr_to_mem_or_null', 'const_size_or_zero'], 'integer', NET, { gpl: true }),
  h(169, 'timer_init', ['ptr_to_timer', 'const_map_ptr', 'anything'], 'integer', NET, { gpl: true }),
  h(170, 'timer_set_callback', ['ptr_to_timer', 'ptr_to_func'], 'integer', NET, { gpl: true }),
  h(171, 'timer_start', ['ptr_to_timer', 'anything', 'anything'], 'integer', NET, { gpl: true }),
  h(172, 'timer_cancel', ['ptr_to_timer'], 'integer', NET, { gpl: true }),
  h(175, 'task_pt_regs', ['ptr_to_btf_id'], 'btf_id', NET, { gpl: true }),
  // The kernel's proto types only the buffer and its size; R3 (flags) is unchecked there, 'anything' here.
  h(176, 'get_branch_snapshot', ['ptr_to_uninit_mem', 'const_size_or_zero', 'anything'], 'integer', NET, { gpl: true, nondet: true }),
  h(177, 'trace_vprintk', ['ptr_to_mem', 'const_size', 'ptr_to_mem_or_null', 'const_size_or_zero'], 'integer', NET, { gpl: true }),
  h(178, 'skc_to_unix_sock', ['ptr_to_btf_id_sock_common'], 'btf_id_or_null', NET),
  h(180, 'find_vma', ['ptr_to_btf_id', 'anything', 'ptr_to_func', 'ptr_to_stack_or_null', 'anything'], 'integer', NET),
  h(181, 'loop', ['anything', 'ptr_to_func', 'ptr_to_stack_or_null', 'anything'], 'integer', NET),
  h(182, 'strncmp', ['ptr_to_mem', 'const_size', 'ptr_to_const_str'], 'integer', NET),
  h(188, 'xdp_get_buff_len', ['ptr_to_ctx'], 'integer', XDP),
  h(189, 'xdp_load_bytes', ['ptr_to_ctx', 'anything', 'ptr_to_uninit_mem', 'const_size'], 'integer', XDP),
  h(190, 'xdp_store_bytes', ['ptr_to_ctx', 'anything', 'ptr_to_mem', 'const_size'], 'integer', XDP),
  h(191, 'copy_from_user_task', ['ptr_to_uninit_mem', 'const_size_or_zero', 'anything', 'ptr_to_btf_id', 'anything'], 'integer', NET, {
    gpl: true,
    nondet: true,
    sleeps: true,
  }),
  h(192, 'skb_set_tstamp', ['ptr_to_ctx', 'anything', 'anything'], 'integer', TC),
  h(194, 'kptr_xchg', ['ptr_to_kptr', 'ptr_to_btf_id_or_null'], 'btf_id_or_null', NET),
  h(195, 'map_lookup_percpu_elem', ['const_map_ptr', 'ptr_to_map_key', 'anything'], 'map_value_or_null', NET),
  h(196, 'skc_to_mptcp_sock', ['ptr_to_sock_common'], 'btf_id_or_null', NET),
  h(197, 'dynptr_from_mem', ['ptr_to_uninit_mem', 'const_size_or_zero', 'anything', 'ptr_to_dynptr'], 'integer', NET),
  h(198, 'ringbuf_reserve_dynptr', ['const_map_ptr', 'anything', 'anything', 'ptr_to_dynptr'], 'integer', NET),
  h(199, 'ringbuf_submit_dynptr', ['ptr_to_dynptr', 'anything'], 'void', NET),
  h(200, 'ringbuf_discard_dynptr', ['ptr_to_dynptr', 'anything'], 'void', NET),
  h(201, 'dynptr_read', ['ptr_to_uninit_mem', 'const_size_or_zero', 'ptr_to_dynptr', 'anything', 'anything'], 'integer', NET),
  h(202, 'dynptr_write', ['ptr_to_dynptr', 'anything', 'ptr_to_mem', 'const_size_or_zero', 'anything'], 'integer', NET),
  h(203, 'dynptr_data', ['ptr_to_dynptr', 'anything', 'const_alloc_size_or_zero'], 'alloc_mem_or_null', NET),
  h(204, 'tcp_raw_gen_syncookie_ipv4', ['ptr_to_mem', 'ptr_to_mem', 'const_size'], 'integer', XDP_TC, { gpl: true }),
  h(205, 'tcp_raw_gen_syncookie_ipv6', ['ptr_to_mem', 'ptr_to_mem', 'const_size'], 'integer', XDP_TC, { gpl: true }),
  h(206, 'tcp_raw_check_syncookie_ipv4', ['ptr_to_mem', 'ptr_to_mem'], 'integer', XDP_TC, { gpl: true }),
  h(207, 'tcp_raw_check_syncookie_ipv6', ['ptr_to_mem', 'ptr_to_mem'], 'integer', XDP_TC, { gpl: true }),
  h(208, 'ktime_get_tai_ns', [], 'integer', NET, { nondet: true }),
  h(209, 'user_ringbuf_drain', ['const_map_ptr', 'ptr_to_func', 'ptr_to_stack_or_null', 'anything'], 'integer', NET),
  h(210, 'cgrp_storage_get', ['const_map_ptr', 'ptr_to_btf_id_or_null', 'ptr_to_map_value_or_null', 'anything'], 'map_value_or_null', NET),
  h(211, 'cgrp_storage_delete', ['const_map_ptr', 'ptr_to_btf_id_or_null'], 'integer', NET),
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
