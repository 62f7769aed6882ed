// SPDX-License-Identifier: GPL-2.0
/*
 * Count TCP connection attempts (SYN without ACK) per IPv4 destination port
 * in a hash map, plus a total in an array map; pass everything. Written for
 * NFP offload: only array and hash maps, lookup/update and atomic add.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);	/* destination port, host order */
	__type(value, __u64);
	__uint(max_entries, 4096);
} syn_by_port SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} syn_total SEC(".maps");

SEC("xdp")
int xdp_tcp_syn_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct tcphdr *tcp = (void *)(iph + 1);

	if ((void *)(tcp + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || iph->protocol != IPPROTO_TCP || iph->ihl != 5)
		return XDP_PASS;
	if (!tcp->syn || tcp->ack)
		return XDP_PASS;

	__u32 zero = 0;
	__u64 *total = bpf_map_lookup_elem(&syn_total, &zero);
	if (total)
		__sync_fetch_and_add(total, 1);

	__u32 port = bpf_ntohs(tcp->dest);
	__u64 *count = bpf_map_lookup_elem(&syn_by_port, &port);
	if (count) {
		__sync_fetch_and_add(count, 1);
	} else {
		__u64 one = 1;
		bpf_map_update_elem(&syn_by_port, &port, &one, BPF_NOEXIST);
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
