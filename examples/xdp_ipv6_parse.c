// SPDX-License-Identifier: GPL-2.0
/*
 * Walk an IPv6 packet's extension headers (hop-by-hop, routing, fragment,
 * destination options; at most MAX_EXT_HEADERS of them, unrolled) and count
 * every next-header value seen, including the final upper-layer protocol.
 * Non-IPv6 frames pass untouched; so does everything else.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_EXT_HEADERS 6

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 256);
} nexthdr_count SEC(".maps");

static __always_inline void count(__u32 nexthdr)
{
	__u64 *c = bpf_map_lookup_elem(&nexthdr_count, &nexthdr);
	if (c)
		__sync_fetch_and_add(c, 1);
}

SEC("xdp")
int xdp_ipv6_parse(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);

	if ((void *)(ip6 + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IPV6))
		return XDP_PASS;

	__u8 nexthdr = ip6->nexthdr;
	__u8 *cursor = (void *)(ip6 + 1);
#pragma unroll
	for (int i = 0; i < MAX_EXT_HEADERS; i++) {
		count(nexthdr);
		if (nexthdr != IPPROTO_HOPOPTS && nexthdr != IPPROTO_ROUTING &&
		    nexthdr != IPPROTO_FRAGMENT && nexthdr != IPPROTO_DSTOPTS)
			return XDP_PASS;
		if (cursor + 2 > (__u8 *)data_end)
			return XDP_PASS;
		__u8 next = cursor[0];
		/* A fragment header is always 8 bytes; the others say their length in 8-byte units beyond the first. */
		__u32 len = nexthdr == IPPROTO_FRAGMENT ? 8 : (cursor[1] + 1) * 8;
		if (cursor + len > (__u8 *)data_end)
			return XDP_PASS;
		cursor += len;
		nexthdr = next;
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
