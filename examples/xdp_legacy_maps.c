// SPDX-License-Identifier: GPL-2.0
/*
 * The pre-BTF map style: `struct bpf_map_def` in SEC("maps"), as old
 * samples, iproute2 and many loaders still ship it. libbpf >= 1.0 (Debian's
 * 1.1 included) refuses to load this object; nicoff's own loader reads it.
 * Counts packets and bytes per EtherType bucket (low 8 bits); passes everything.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* libbpf 1.x removed this definition from bpf_helpers.h; it is the classic layout. */
struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct datarec {
	__u64 packets;
	__u64 bytes;
};

struct bpf_map_def SEC("maps") ethertype_stats = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(struct datarec),
	.max_entries = 256,
};

struct bpf_map_def SEC("maps") seen_sources = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = ETH_ALEN + 2,	/* MAC plus padding */
	.value_size = sizeof(__u64),
	.max_entries = 1024,
};

SEC("xdp")
int xdp_legacy_maps(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	__u32 key = bpf_ntohs(eth->h_proto) & 0xff;
	struct datarec *rec = bpf_map_lookup_elem(&ethertype_stats, &key);
	if (rec) {
		__sync_fetch_and_add(&rec->packets, 1);
		__sync_fetch_and_add(&rec->bytes, data_end - data);
	}
	unsigned char mac[ETH_ALEN + 2] = {};
	__builtin_memcpy(mac, eth->h_source, ETH_ALEN);
	__u64 one = 1;
	if (!bpf_map_lookup_elem(&seen_sources, mac))
		bpf_map_update_elem(&seen_sources, mac, &one, BPF_NOEXIST);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
