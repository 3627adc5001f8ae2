// Socket filter test object for `ebpf test-run`, compared with the host
// kernel: a legacy map (the "maps" section), LD_ABS packet reads and
// __sk_buff fields.
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* libbpf 1.0 dropped struct bpf_map_def; loaders still read the layout. */
struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def SEC("maps") l4_hits = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 256, /* by IP protocol */
};

/* LD_ABS: a byte of the packet from the network header on. */
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");

SEC("socket")
int sock_filter(struct __sk_buff *skb)
{
	__u32 proto;
	__u64 *hits;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return 0;
	proto = load_byte(skb, offsetof(struct iphdr, protocol));
	hits = bpf_map_lookup_elem(&l4_hits, &proto);
	if (hits)
		__sync_fetch_and_add(hits, 1);
	/* Keep UDP whole, TCP headers only, drop the rest. */
	if (proto == IPPROTO_UDP)
		return skb->len;
	if (proto == IPPROTO_TCP)
		return 40;
	return 0;
}

char _license[] SEC("license") = "GPL";
