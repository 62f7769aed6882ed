// SPDX-License-Identifier: GPL-2.0
/*
 * ICMP echo responder: an IPv4 echo request addressed to anyone is turned
 * around in place and sent back out of the same port (XDP_TX). MACs and IP
 * addresses are swapped, the TTL is reset to 64, the type becomes 0 (echo
 * reply), and both checksums are updated incrementally (RFC 1624) rather
 * than recomputed. Everything else passes.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/icmp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word changing from old to new. */
static __always_inline __u16 csum_replace16(__u16 check, __u16 old, __u16 new)
{
	__u32 sum = (__u16)~check + (__u16)~old + new;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

SEC("xdp")
int xdp_icmp_echo(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);

	if ((void *)(iph + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || iph->protocol != IPPROTO_ICMP || iph->ihl != 5)
		return XDP_PASS;
	/* Fragments other than the first carry no ICMP header. */
	if (iph->frag_off & bpf_htons(0x1fff))
		return XDP_PASS;
	struct icmphdr *icmp = (void *)(iph + 1);
	if ((void *)(icmp + 1) > data_end)
		return XDP_PASS;
	if (icmp->type != ICMP_ECHO || icmp->code != 0)
		return XDP_PASS;

	unsigned char mac[ETH_ALEN];
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);

	/* Swapping the addresses leaves the IP checksum alone (the sum is commutative); the TTL does not. */
	__be32 addr = iph->saddr;
	iph->saddr = iph->daddr;
	iph->daddr = addr;
	__u16 old_ttl_word = bpf_ntohs(*(__be16 *)&iph->ttl);
	iph->ttl = 64;
	__u16 new_ttl_word = bpf_ntohs(*(__be16 *)&iph->ttl);
	iph->check = bpf_htons(csum_replace16(bpf_ntohs(iph->check), old_ttl_word, new_ttl_word));

	__u16 old_type_word = (ICMP_ECHO << 8) | icmp->code;
	icmp->type = ICMP_ECHOREPLY;
	__u16 new_type_word = (ICMP_ECHOREPLY << 8) | icmp->code;
	icmp->checksum = bpf_htons(csum_replace16(bpf_ntohs(icmp->checksum), old_type_word, new_type_word));
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";
