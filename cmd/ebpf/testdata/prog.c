// Test object for cmd/ebpf: a program that reads its memory and calls a
// function. Rebuild with:
//	clang -O2 -g0 -target bpf -c prog.c -o prog.o
//	llvm-objdump -d --no-show-raw-insn prog.o > prog.objdump
typedef unsigned long long u64;
typedef unsigned int u32;

static __attribute__((noinline)) u64 mix(u64 a, u64 b)
{
	return (a ^ (b << 7)) + 3;
}

__attribute__((section("socket"), used)) int sum(unsigned char *mem)
{
	u32 n = *(u32 *)mem;
	u64 acc = 0;
	for (u32 i = 0; i < 4; i++)
		acc = mix(acc, *(u32 *)(mem + 4 + 4 * i) + n);
	return acc;
}
