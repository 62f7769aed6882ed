// SPDX-License-Identifier: GPL-2.0
/*
 * bpf-to-bpf calls and global data: a `static __noinline` parser in .text,
 * a configuration constant in .rodata, a counter in .data and a statistic in
 * .bss. Drops UDP to the configured port (default 9, discard), passes the rest.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u16 drop_port = 9;	/* .rodata: set by the loader before load */
__u64 packets_seen SEC(".data") = 0;	/* .data (zero, but placed there explicitly) */
__u64 udp_dropped;			/* .bss */
__u32 last_len = 1;			/* .data */

/* Returns the UDP destination port in host order, or 0 when the frame is not IPv4/UDP. */
static __noinline int udp_dest_port(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct udphdr *udp = (void *)(iph + 1);

	if ((void *)(udp + 1) > data_end)
		return 0;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || iph->protocol != IPPROTO_UDP || iph->ihl != 5)
		return 0;
	return bpf_ntohs(udp->dest);
}

SEC("xdp")
int xdp_subprog_global(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	__sync_fetch_and_add(&packets_seen, 1);
	last_len = data_end - data;
	if (udp_dest_port(data, data_end) == drop_port) {
		__sync_fetch_and_add(&udp_dropped, 1);
		return XDP_DROP;
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
