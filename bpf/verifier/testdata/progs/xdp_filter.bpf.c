// An XDP filter: parses Ethernet, an optional VLAN tag, IPv4 with options
// (a variable header length) and UDP, drops packets to blocked ports, and
// counts verdicts per CPU.
#include "common.h"
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, __u16);
	__type(value, __u8);
} blocked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

static __always_inline int count(__u32 verdict)
{
	__u64 *n = bpf_map_lookup_elem(&verdicts, &verdict);
	if (n)
		*n += 1;
	return verdict == 0 ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int filter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return count(2);

	__u16 proto = eth->h_proto;
	void *next = eth + 1;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		struct vlan_hdr *vlan = next;
		if ((void *)(vlan + 1) > end)
			return count(2);
		proto = vlan->proto;
		next = vlan + 1;
	}
	if (proto != bpf_htons(ETH_P_IP))
		return count(0);

	struct iphdr *ip = next;
	if ((void *)(ip + 1) > end)
		return count(2);
	if (ip->protocol != IPPROTO_UDP)
		return count(0);
	__u32 hlen = ip->ihl * 4;
	if (hlen < sizeof(*ip))
		return count(2);

	struct udphdr *udp = (void *)ip + hlen;
	if ((void *)(udp + 1) > end)
		return count(2);
	__u16 port = bpf_ntohs(udp->dest);
	if (bpf_map_lookup_elem(&blocked, &port))
		return count(1);
	return count(0);
}

char LICENSE[] SEC("license") = "GPL";
