// SPDX-License-Identifier: GPL-2.0
/*
 * Histogram of IPv4 TTLs below 64: packets that have come a long way, or
 * traceroute probes. The TTL indexes an array of 64 counters directly, so a
 * TTL of 64 or more misses the array (the lookup returns NULL) and is not
 * counted. Packets arriving with TTL 0 or 1 would expire at the next hop and
 * are dropped here; everything else passes.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 64);
} low_ttl_count SEC(".maps");

SEC("xdp")
int xdp_ttl_histogram(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);

	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;

	__u32 ttl = iph->ttl;
	__u64 *seen = bpf_map_lookup_elem(&low_ttl_count, &ttl);
	if (!seen)
		return XDP_PASS; /* TTL 64 or more: outside the histogram */
	__sync_fetch_and_add(seen, 1);
	return ttl <= 1 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
