/* Every BTF kind clang emits for C: ints, bitfields, enums, unions, arrays,
 * function pointers, typedefs, qualifiers, varargs prototypes and a decl tag. */
#include <linux/types.h>

typedef unsigned long long u64_t;
enum color { RED = -1, GREEN = 1, BLUE = 0x7fffffff };
enum big { SMALL = 1, HUGE = 0x1ffffffffULL };

struct flags {
	unsigned int a : 3, b : 5;
	int c : 7;
	enum color col : 4;
	__u64 tail;
};

union value {
	__u32 word;
	__u8 bytes[4];
	float f;
};

struct node {
	struct node *next;
	const volatile struct flags *fl;
	union value v[3][2];
	double d;
	int (*cb)(void *ctx, const char *fmt, ...);
	struct fwd_only *opaque;
	u64_t counter __attribute__((btf_decl_tag("counter")));
	char name[0];
};

int __attribute__((btf_decl_tag("entry"))) handle(struct node *n, enum big b)
{
	return n->v[1][1].word + (int)b + n->fl->c;
}

static __attribute__((noinline)) long helper(long x) { return x * 3; }

int use_helper(long x) { return helper(x) + 1; }
