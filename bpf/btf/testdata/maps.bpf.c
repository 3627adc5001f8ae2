/* A program with maps, globals and sections: DATASEC and VAR records, which
 * loaders fix up (section sizes, variable offsets) before BPF_BTF_LOAD. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct value {
	struct bpf_spin_lock lock;
	__u32 pad;
	__u64 packets;
	struct bpf_timer timer;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct value);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

__u64 counter = 0;
const volatile __u32 limit = 10;
char LICENSE[] SEC("license") = "GPL";

SEC("kprobe/do_nanosleep")
int probe(void *ctx)
{
	__u32 key = 1;
	struct value *v = bpf_map_lookup_elem(&flows, &key);
	if (v && counter < limit) {
		bpf_spin_lock(&v->lock);
		v->packets++;
		bpf_spin_unlock(&v->lock);
	}
	counter++;
	return 0;
}
