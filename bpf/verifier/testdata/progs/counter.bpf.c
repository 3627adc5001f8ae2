// A kprobe that counts calls per process in a hash map, keeps per-CPU
// statistics, and reports each call through a ring buffer record: the
// shape of most tracing tools. Built once per target, with
// -D__TARGET_ARCH_x86 or -D__TARGET_ARCH_riscv, whose register frames
// differ.
#include "common.h"
#if defined(__TARGET_ARCH_riscv)
// riscv64's bpf_user_pt_regs_t (arch/riscv/include/uapi/asm/ptrace.h); the
// build host's headers are x86_64's.
struct user_regs_struct {
	unsigned long pc, ra, sp, gp, tp, t0, t1, t2, s0, s1, a0, a1, a2, a3, a4, a5, a6, a7,
		s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, t3, t4, t5, t6;
};
#else
#include <linux/ptrace.h>
#endif
#include <bpf/bpf_tracing.h>

struct stats {
	__u64 calls;
	__u64 bytes;
	__u64 last_arg;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

const volatile __u32 target_pid = 0;
const volatile __u32 sample_every = 1;
__u64 total = 0;
__u64 dropped = 0;

SEC("kprobe/do_sys_openat2")
int count_open(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32;
	if (target_pid && pid != target_pid)
		return 0;

	__u64 *v = bpf_map_lookup_elem(&counts, &pid);
	if (v) {
		__sync_fetch_and_add(v, 1);
	} else {
		__u64 one = 1;
		bpf_map_update_elem(&counts, &pid, &one, BPF_ANY);
	}

	__u32 slot = PT_REGS_PARM3(ctx) & 3;
	struct stats *s = bpf_map_lookup_elem(&stats, &slot);
	if (s) {
		s->calls++;
		s->bytes += PT_REGS_PARM4(ctx);
		s->last_arg = PT_REGS_PARM2(ctx);
	}

	__sync_fetch_and_add(&total, 1);
	if (sample_every > 1 && total % sample_every)
		return 0;

	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	e->pid = pid;
	e->kind = slot;
	e->arg = PT_REGS_PARM1(ctx);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (e->comm[0] == 0)
		bpf_ringbuf_discard(e, 0);
	else
		bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
