// Loops of every kind Linux accepts: a bounded loop over an array, a loop
// in a bpf-to-bpf function, bpf_loop with a callback writing its context,
// and bpf_for_each_map_elem.
#include "common.h"

#define SLOTS 64

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[SLOTS]);
} histogram SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} results SEC(".maps");

struct loop_ctx {
	__u64 sum;
	__u64 *slots;
	__u32 steps;
};

static noinline __u64 mix(__u64 x, int rounds)
{
	for (int i = 0; i < rounds && i < 16; i++) {
		x ^= x >> 33;
		x *= 0xff51afd7ed558ccdULL;
	}
	return x;
}

static int add_slot(__u32 index, void *data)
{
	struct loop_ctx *c = data;
	if (index >= SLOTS)
		return 1;
	c->sum += c->slots[index];
	c->steps++;
	return 0;
}

static long sum_seen(void *map, __u32 *key, __u64 *value, void *data)
{
	__u64 *acc = data;
	*acc += *value + *key;
	return 0;
}

static void store(__u32 k, __u64 v)
{
	__u64 *r = bpf_map_lookup_elem(&results, &k);
	if (r)
		*r = v;
}

SEC("raw_tracepoint/sys_enter")
int loops(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 zero = 0;
	__u64 *slots = bpf_map_lookup_elem(&histogram, &zero);
	if (!slots)
		return 0;

	__u64 bucket = ctx->args[1] % SLOTS;
	slots[bucket]++;

	__u64 total = 0;
#pragma clang loop unroll(disable)
	for (int i = 0; i < SLOTS; i++)
		total += slots[i];
	store(0, total);

	struct loop_ctx c = {.slots = slots};
	bpf_loop(SLOTS, add_slot, &c, 0);
	store(1, c.sum + c.steps);

	__u64 acc = 0;
	bpf_for_each_map_elem(&seen, sum_seen, &acc, 0);
	store(2, acc);

	__u32 key = bucket;
	__u64 h = mix(ctx->args[0], 4);
	bpf_map_update_elem(&seen, &key, &h, BPF_ANY);
	store(3, h);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
