// Shared declarations of the test programs (written for Hachi's verifier
// tests; built with Debian's clang -O2 -g -target bpf).
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#define noinline __attribute__((noinline))

struct event {
	__u32 pid;
	__u32 kind;
	__u64 arg;
	char comm[16];
};
