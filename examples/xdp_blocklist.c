// SPDX-License-Identifier: GPL-2.0
/*
 * Drop IPv4 packets from blocked source addresses and count them per
 * address. The block list is a hash map the operator fills from the host
 * (`nicoff map update --dev sim0 blocked_sources hex:c6336407 0` blocks
 * 198.51.100.7); everything else passes. The key is the address as it sits
 * in the packet (network byte order), copied to a 4-byte-aligned stack slot
 * as the NFP's map helpers need.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);   /* IPv4 source address, network byte order */
	__type(value, __u64); /* packets dropped */
	__uint(max_entries, 1024);
} blocked_sources SEC(".maps");

SEC("xdp")
int xdp_blocklist(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);

	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;

	__u32 saddr = iph->saddr;
	__u64 *dropped = bpf_map_lookup_elem(&blocked_sources, &saddr);
	if (!dropped)
		return XDP_PASS;
	__sync_fetch_and_add(dropped, 1);
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
