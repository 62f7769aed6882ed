// SPDX-License-Identifier: GPL-2.0
/*
 * Drop UDP datagrams (IPv4 or IPv6, optionally behind one VLAN tag) whose
 * destination port is blocked: port 19 (chargen) always, plus every port
 * user space puts in the blocked_ports hash map. Everything else passes.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ALWAYS_BLOCKED_PORT 19

struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u16);	/* destination port, host order */
	__type(value, __u64);	/* packets dropped for this port */
	__uint(max_entries, 1024);
} blocked_ports SEC(".maps");

SEC("xdp")
int xdp_udp_filter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	void *l3 = eth + 1;
	struct udphdr *udp;
	__u16 proto;

	if (l3 > data_end)
		return XDP_PASS;
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		struct vlan_hdr *vlan = l3;
		if ((void *)(vlan + 1) > data_end)
			return XDP_PASS;
		proto = vlan->encap_proto;
		l3 = vlan + 1;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = l3;
		if ((void *)(iph + 1) > data_end || iph->protocol != IPPROTO_UDP || iph->ihl < 5)
			return XDP_PASS;
		udp = l3 + iph->ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;
		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_UDP)
			return XDP_PASS;
		udp = (void *)(ip6 + 1);
	} else {
		return XDP_PASS;
	}
	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;

	__u16 port = bpf_ntohs(udp->dest);
	if (port == ALWAYS_BLOCKED_PORT)
		return XDP_DROP;
	__u64 *dropped = bpf_map_lookup_elem(&blocked_ports, &port);
	if (dropped) {
		__sync_fetch_and_add(dropped, 1);
		return XDP_DROP;
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
