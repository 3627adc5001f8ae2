// A socket filter in the classic style: LD_ABS loads of the IPv4 header,
// the packet length from __sk_buff, and a mark in cb.
#include "common.h"
#include <linux/if_ether.h>
#include <linux/in.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");

SEC("socket")
int keep_udp(struct __sk_buff *skb)
{
	if (load_half(skb, 12) != ETH_P_IP)
		return 0;
	if (load_byte(skb, ETH_HLEN + 9) != IPPROTO_UDP)
		return 0;
	skb->cb[0] = skb->len;
	return skb->len > 64 ? 64 : skb->len;
}

char LICENSE[] SEC("license") = "GPL";
