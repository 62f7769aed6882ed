// SPDX-License-Identifier: GPL-2.0
/*
 * TC classifier: classify IPv4 traffic into skb->priority by DSCP class and
 * skb->mark by destination port, and re-mark SIP signalling (UDP 5060) that
 * arrives with DSCP 0 as CS3, rewriting the TOS byte with bpf_skb_store_bytes
 * and fixing the IP checksum with bpf_l3_csum_replace. Always TC_ACT_OK.
 */
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define TOS_OFF (ETH_HLEN + offsetof(struct iphdr, tos))
#define IP_CSUM_OFF (ETH_HLEN + offsetof(struct iphdr, check))
#define DSCP_CS3 24
#define SIP_PORT 5060

SEC("tc")
int tc_mark(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);

	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || iph->ihl != 5)
		return TC_ACT_OK;

	__u8 tos = iph->tos;
	__u8 protocol = iph->protocol;
	__u16 dport = 0;
	if (protocol == IPPROTO_TCP || protocol == IPPROTO_UDP) {
		struct udphdr *l4 = (void *)(iph + 1);	/* ports sit at the same place in TCP */
		if ((void *)(l4 + 1) > data_end)
			return TC_ACT_OK;
		dport = bpf_ntohs(l4->dest);
	}

	if (protocol == IPPROTO_UDP && dport == SIP_PORT && (tos >> 2) == 0) {
		__u8 new_tos = (DSCP_CS3 << 2) | (tos & 3);
		/* The TOS byte is the low byte of the first 16-bit word (version/ihl, tos). */
		bpf_l3_csum_replace(skb, IP_CSUM_OFF, bpf_htons(tos), bpf_htons(new_tos), 2);
		bpf_skb_store_bytes(skb, TOS_OFF, &new_tos, 1, 0);
		tos = new_tos;
	}

	skb->priority = tos >> 5;	/* DSCP class selector 0..7 */
	if (dport == 443 || dport == 80)
		skb->mark = 0x100 | (dport == 443);
	else if (dport == SIP_PORT)
		skb->mark = 0x200;
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
