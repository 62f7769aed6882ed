// SPDX-License-Identifier: GPL-2.0
/*
 * Drop IPv4 UDP to port 53 (header without options); pass everything else.
 * NFP-friendly: one of the golden programs in nfp-golden/ (built with -mcpu=v2).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("xdp") int xdp_udp53(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data; struct iphdr *iph = data + sizeof(*eth);
  struct udphdr *udph = data + sizeof(*eth) + sizeof(*iph);
  if ((void *)(udph + 1) > data_end) return XDP_PASS;
  if (eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
  if (iph->protocol != IPPROTO_UDP || iph->ihl != 5) return XDP_PASS;
  if (udph->dest == bpf_htons(53)) return XDP_DROP;
  return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
