// XDP test object for `ebpf test-run`, compared with the host kernel:
// BTF-defined maps (.maps), global data (.rodata frozen, .data, .bss), a
// bpf-to-bpf call, packet reads and writes.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);   /* EtherType */
	__type(value, __u64); /* packets seen */
} proto_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);   /* verdict */
	__type(value, __u64); /* bytes */
} bytes_by_verdict SEC(".maps");

const volatile __u16 drop_proto = ETH_P_IPV6; /* .rodata */
__u64 packets;                                /* .bss */
__u32 last_len = 7;                           /* .data */

static __attribute__((noinline)) __u32 verdict(__u32 proto, __u32 len)
{
	if (proto == drop_proto)
		return XDP_DROP;
	if (len < 60)
		return XDP_TX;
	return XDP_PASS;
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u64 one = 1, *n;
	__u32 proto, len, v;

	if ((void *)(eth + 1) > data_end)
		return XDP_ABORTED;
	proto = bpf_ntohs(eth->h_proto);
	n = bpf_map_lookup_elem(&proto_count, &proto);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&proto_count, &proto, &one, BPF_NOEXIST);
	len = data_end - data;
	v = verdict(proto, len);
	n = bpf_map_lookup_elem(&bytes_by_verdict, &v);
	if (n)
		*n += len;
	packets++;
	last_len = len;
	if (v == XDP_TX) {
		/* Send it back: swap the addresses. */
		__u8 tmp[ETH_ALEN];
		__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
		__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
		__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
	}
	return v;
}

char _license[] SEC("license") = "GPL";
