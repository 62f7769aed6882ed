// SPDX-License-Identifier: GPL-2.0
/*
 * 64-bit loads, shifts, a multiply and a divide by 3 over the first 16 bytes
 * of the frame; the low bit of the result picks DROP or PASS. Frames under
 * 16 bytes abort. NFP-friendly: one of the golden programs (built with -mcpu=v2).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("xdp") int xdp_alu(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
  __u64 *p = data;
  if ((void *)(p + 2) > data_end) return XDP_ABORTED;
  __u64 a = p[0], b = p[1];
  __u64 r = (a << 13) ^ (b >> 7);
  __u32 m = (__u32)a * 1000, q = (__u32)b / 3;
  r += m + q + bpf_ntohl((__u32)a);
  return (r & 1) ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
