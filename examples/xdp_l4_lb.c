// SPDX-License-Identifier: GPL-2.0
/*
 * L4 load balancer, IP-in-IP flavour: a TCP or UDP packet to a known
 * VIP:port is wrapped in an outer IPv4 header addressed to the backend
 * (bpf_xdp_adjust_head grows the headroom), with a fresh checksum computed
 * by bpf_csum_diff, and sent back out (XDP_TX). Packets to unknown VIPs pass.
 * Backend selection is by VIP:port only (no consistent hashing) to stay small.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct vip {
	__be32 addr;
	__be16 port;
	__u8 protocol;
	__u8 pad;
};

struct backend {
	__be32 addr;		/* outer destination */
	__be32 local_addr;	/* outer source */
	unsigned char mac[ETH_ALEN];	/* next hop */
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct vip);
	__type(value, struct backend);
	__uint(max_entries, 512);
} vips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 2);	/* 0: encapsulated, 1: passed */
} lb_stats SEC(".maps");

static __always_inline void bump(__u32 key)
{
	__u64 *v = bpf_map_lookup_elem(&lb_stats, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

SEC("xdp")
int xdp_l4_lb(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct vip key = {};

	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || iph->ihl != 5)
		goto pass;
	/* Both headers start with the ports. */
	struct udphdr *l4 = (void *)(iph + 1);
	if ((void *)(l4 + 1) > data_end)
		goto pass;
	if (iph->protocol != IPPROTO_TCP && iph->protocol != IPPROTO_UDP)
		goto pass;
	key.addr = iph->daddr;
	key.port = l4->dest;
	key.protocol = iph->protocol;
	struct backend *be = bpf_map_lookup_elem(&vips, &key);
	if (!be)
		goto pass;

	__u16 inner_len = bpf_ntohs(iph->tot_len);
	__u8 tos = iph->tos;
	struct backend target = *be;
	unsigned char src_mac[ETH_ALEN];
	__builtin_memcpy(src_mac, eth->h_dest, ETH_ALEN);

	if (bpf_xdp_adjust_head(ctx, 0 - (int)sizeof(struct iphdr)))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	struct iphdr *outer = (void *)(eth + 1);
	if ((void *)(outer + 1) > data_end)
		return XDP_ABORTED;

	__builtin_memcpy(eth->h_dest, target.mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, src_mac, ETH_ALEN);
	eth->h_proto = bpf_htons(ETH_P_IP);

	outer->version = 4;
	outer->ihl = 5;
	outer->tos = tos;
	outer->tot_len = bpf_htons(inner_len + sizeof(struct iphdr));
	outer->id = 0;
	outer->frag_off = bpf_htons(0x4000);	/* DF */
	outer->ttl = 64;
	outer->protocol = IPPROTO_IPIP;
	outer->check = 0;
	outer->saddr = target.local_addr;
	outer->daddr = target.addr;
	__s64 sum = bpf_csum_diff(0, 0, (__be32 *)outer, sizeof(*outer), 0);
	outer->check = csum_fold(sum);
	bump(0);
	return XDP_TX;
pass:
	bump(1);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
