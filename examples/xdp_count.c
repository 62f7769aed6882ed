// SPDX-License-Identifier: GPL-2.0
/*
 * Count every frame in slot 1 of a 4-entry array map with an atomic add; pass.
 * NFP-friendly: one of the golden programs (helper call ABI, xadd fast path).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 4);
} cnt SEC(".maps");

SEC("xdp") int xdp_count(struct xdp_md *ctx) {
  __u32 key = 1; __u64 *v = bpf_map_lookup_elem(&cnt, &key);
  if (v) __sync_fetch_and_add(v, 1);
  return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
