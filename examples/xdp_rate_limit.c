// SPDX-License-Identifier: GPL-2.0
/*
 * Per-source token bucket: every IPv4 source may send BURST packets at once
 * and RATE packets per second after that; a packet that finds the bucket
 * empty is dropped. Buckets live in an LRU hash so idle sources age out.
 * Non-IPv4 frames pass.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define RATE 10ULL		/* tokens per second */
#define BURST 8ULL		/* bucket size */
#define NS_PER_TOKEN (1000000000ULL / RATE)

struct bucket {
	__u64 tokens;
	__u64 last_refill_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __be32);
	__type(value, struct bucket);
	__uint(max_entries, 65536);
} buckets SEC(".maps");

SEC("xdp")
int xdp_rate_limit(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);

	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;

	__be32 src = iph->saddr;
	__u64 now = bpf_ktime_get_ns();
	struct bucket *b = bpf_map_lookup_elem(&buckets, &src);
	if (!b) {
		struct bucket fresh = { .tokens = BURST - 1, .last_refill_ns = now };
		bpf_map_update_elem(&buckets, &src, &fresh, BPF_ANY);
		return XDP_PASS;
	}
	__u64 earned = (now - b->last_refill_ns) / NS_PER_TOKEN;
	if (earned) {
		__u64 tokens = b->tokens + earned;
		b->tokens = tokens > BURST ? BURST : tokens;
		b->last_refill_ns += earned * NS_PER_TOKEN;
	}
	if (b->tokens == 0)
		return XDP_DROP;
	b->tokens--;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
