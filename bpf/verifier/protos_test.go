package verifier

import (
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// Linux's prototypes of the helpers the tests call (kernel/bpf/helpers.c,
// kernel/trace/bpf_trace.c, net/core/filter.c, kernel/bpf/ringbuf.c), and
// which program types may call them (the *_func_proto functions), for
// tests until package helpers provides the table.

var (
	mem      = ArgPtrToMem
	memRO    = ArgPtrToMem | ArgReadOnly
	memUn    = ArgPtrToMem | ArgUninit
	memRONul = ArgPtrToMem | ArgReadOnly | ArgMaybeNull
	memUnNul = ArgPtrToMem | ArgUninit | ArgMaybeNull
)

var testProtos = map[linux.BPFFuncID]*HelperProto{
	linux.BPF_FUNC_map_lookup_elem: {Name: "map_lookup_elem", PacketAccess: true, Ret: RetPtrToMapValueOrNull,
		Args: [5]ArgType{ArgConstMapPtr, ArgPtrToMapKey}},
	linux.BPF_FUNC_map_update_elem: {Name: "map_update_elem", PacketAccess: true, Ret: RetInteger,
		Args: [5]ArgType{ArgConstMapPtr, ArgPtrToMapKey, ArgPtrToMapValue, ArgAnything}},
	linux.BPF_FUNC_map_delete_elem: {Name: "map_delete_elem", PacketAccess: true, Ret: RetInteger,
		Args: [5]ArgType{ArgConstMapPtr, ArgPtrToMapKey}},
	linux.BPF_FUNC_probe_read: {Name: "probe_read", GPLOnly: true, Ret: RetInteger,
		Args: [5]ArgType{memUn, ArgConstSizeOrZero, ArgAnything}},
	linux.BPF_FUNC_ktime_get_ns:         {Name: "ktime_get_ns", Ret: RetInteger},
	linux.BPF_FUNC_trace_printk:         {Name: "trace_printk", GPLOnly: true, Ret: RetInteger, Args: [5]ArgType{memRO, ArgConstSize}},
	linux.BPF_FUNC_get_prandom_u32:      {Name: "get_prandom_u32", Ret: RetInteger},
	linux.BPF_FUNC_get_smp_processor_id: {Name: "get_smp_processor_id", Ret: RetInteger},
	linux.BPF_FUNC_tail_call: {Name: "tail_call", Ret: RetVoid,
		Args: [5]ArgType{ArgPtrToCtx, ArgConstMapPtr, ArgAnything}},
	linux.BPF_FUNC_get_current_pid_tgid: {Name: "get_current_pid_tgid", Ret: RetInteger},
	linux.BPF_FUNC_get_current_comm: {Name: "get_current_comm", Ret: RetInteger,
		Args: [5]ArgType{memUn, ArgConstSize}},
	linux.BPF_FUNC_perf_event_output: {Name: "perf_event_output", GPLOnly: true, Ret: RetInteger,
		Args: [5]ArgType{ArgPtrToCtx, ArgConstMapPtr, ArgAnything, memRO, ArgConstSizeOrZero}},
	linux.BPF_FUNC_skb_load_bytes: {Name: "skb_load_bytes", Ret: RetInteger,
		Args: [5]ArgType{ArgPtrToCtx, ArgAnything, memUn, ArgConstSize}},
	linux.BPF_FUNC_get_stackid: {Name: "get_stackid", GPLOnly: true, Ret: RetInteger,
		Args: [5]ArgType{ArgPtrToCtx, ArgConstMapPtr, ArgAnything}},
	linux.BPF_FUNC_get_current_task: {Name: "get_current_task", GPLOnly: true, Ret: RetInteger},
	linux.BPF_FUNC_xdp_adjust_head: {Name: "xdp_adjust_head", Ret: RetInteger, ChangesPacket: true,
		Args: [5]ArgType{ArgPtrToCtx, ArgAnything}},
	linux.BPF_FUNC_redirect_map: {Name: "redirect_map", Ret: RetInteger,
		Args: [5]ArgType{ArgConstMapPtr, ArgAnything, ArgAnything}},
	linux.BPF_FUNC_get_stack: {Name: "get_stack", GPLOnly: true, Ret: RetInteger,
		Args: [5]ArgType{ArgPtrToCtx, memUn, ArgConstSizeOrZero, ArgAnything}},
	linux.BPF_FUNC_map_push_elem: {Name: "map_push_elem", Ret: RetInteger,
		Args: [5]ArgType{ArgConstMapPtr, ArgPtrToMapValue, ArgAnything}},
	linux.BPF_FUNC_map_pop_elem: {Name: "map_pop_elem", Ret: RetInteger,
		Args: [5]ArgType{ArgConstMapPtr, ArgPtrToMapValue | ArgUninit}},
	linux.BPF_FUNC_map_peek_elem: {Name: "map_peek_elem", Ret: RetInteger,
		Args: [5]ArgType{ArgConstMapPtr, ArgPtrToMapValue | ArgUninit}},
	linux.BPF_FUNC_probe_read_user: {Name: "probe_read_user", GPLOnly: true, Ret: RetInteger,
		Args: [5]ArgType{memUn, ArgConstSizeOrZero, ArgAnything}},
	linux.BPF_FUNC_probe_read_kernel: {Name: "probe_read_kernel", GPLOnly: true, Ret: RetInteger,
		Args: [5]ArgType{memUn, ArgConstSizeOrZero, ArgAnything}},
	linux.BPF_FUNC_probe_read_user_str: {Name: "probe_read_user_str", GPLOnly: true, Ret: RetInteger,
		Args: [5]ArgType{memUn, ArgConstSizeOrZero, ArgAnything}},
	linux.BPF_FUNC_probe_read_kernel_str: {Name: "probe_read_kernel_str", GPLOnly: true, Ret: RetInteger,
		Args: [5]ArgType{memUn, ArgConstSizeOrZero, ArgAnything}},
	linux.BPF_FUNC_ktime_get_boot_ns: {Name: "ktime_get_boot_ns", Ret: RetInteger},
	linux.BPF_FUNC_ringbuf_output: {Name: "ringbuf_output", Ret: RetInteger,
		Args: [5]ArgType{ArgConstMapPtr, memRO, ArgConstSizeOrZero, ArgAnything}},
	linux.BPF_FUNC_ringbuf_reserve: {Name: "ringbuf_reserve", Ret: RetPtrToRingbufMemOrNull,
		Args: [5]ArgType{ArgConstMapPtr, ArgConstAllocSizeOrZero, ArgAnything}},
	linux.BPF_FUNC_ringbuf_submit: {Name: "ringbuf_submit", Ret: RetVoid,
		Args: [5]ArgType{ArgPtrToRingbufMem | ArgRelease, ArgAnything}},
	linux.BPF_FUNC_ringbuf_discard: {Name: "ringbuf_discard", Ret: RetVoid,
		Args: [5]ArgType{ArgPtrToRingbufMem | ArgRelease, ArgAnything}},
	linux.BPF_FUNC_ringbuf_query: {Name: "ringbuf_query", Ret: RetInteger,
		Args: [5]ArgType{ArgConstMapPtr, ArgAnything}},
	linux.BPF_FUNC_for_each_map_elem: {Name: "for_each_map_elem", Ret: RetInteger, Callback: CallbackForEachMap,
		Args: [5]ArgType{ArgConstMapPtr, ArgPtrToFunc, ArgPtrToStack | ArgMaybeNull, ArgAnything}},
	linux.BPF_FUNC_snprintf: {Name: "snprintf", Ret: RetInteger,
		Args: [5]ArgType{memUnNul, ArgConstSizeOrZero, ArgPtrToConstStr, memRONul, ArgConstSizeOrZero}},
	linux.BPF_FUNC_get_func_ip:       {Name: "get_func_ip", Ret: RetInteger, Args: [5]ArgType{ArgPtrToCtx}},
	linux.BPF_FUNC_get_attach_cookie: {Name: "get_attach_cookie", Ret: RetInteger, Args: [5]ArgType{ArgPtrToCtx}},
	linux.BPF_FUNC_loop: {Name: "loop", Ret: RetInteger, Callback: CallbackLoop,
		Args: [5]ArgType{ArgAnything, ArgPtrToFunc, ArgPtrToStack | ArgMaybeNull, ArgAnything}},
}

// Which helpers each program type may call (bpf_base_func_proto for a
// privileged loader, plus each type's own).
var (
	baseHelpers = []linux.BPFFuncID{
		linux.BPF_FUNC_map_lookup_elem, linux.BPF_FUNC_map_update_elem, linux.BPF_FUNC_map_delete_elem,
		linux.BPF_FUNC_ktime_get_ns, linux.BPF_FUNC_get_prandom_u32, linux.BPF_FUNC_get_smp_processor_id,
		linux.BPF_FUNC_tail_call, linux.BPF_FUNC_map_push_elem, linux.BPF_FUNC_map_pop_elem,
		linux.BPF_FUNC_map_peek_elem, linux.BPF_FUNC_ktime_get_boot_ns, linux.BPF_FUNC_ringbuf_output,
		linux.BPF_FUNC_ringbuf_reserve, linux.BPF_FUNC_ringbuf_submit, linux.BPF_FUNC_ringbuf_discard,
		linux.BPF_FUNC_ringbuf_query, linux.BPF_FUNC_for_each_map_elem, linux.BPF_FUNC_snprintf,
		linux.BPF_FUNC_loop, linux.BPF_FUNC_trace_printk, linux.BPF_FUNC_probe_read_kernel,
		linux.BPF_FUNC_probe_read_kernel_str, linux.BPF_FUNC_get_current_task,
	}
	tracingHelpers = []linux.BPFFuncID{
		linux.BPF_FUNC_probe_read, linux.BPF_FUNC_get_current_pid_tgid, linux.BPF_FUNC_get_current_comm,
		linux.BPF_FUNC_perf_event_output, linux.BPF_FUNC_get_stackid, linux.BPF_FUNC_get_stack,
		linux.BPF_FUNC_probe_read_user, linux.BPF_FUNC_probe_read_user_str,
	}
	typeHelpers = map[linux.BPFProgType][]linux.BPFFuncID{
		linux.BPF_PROG_TYPE_KPROBE:         {linux.BPF_FUNC_get_func_ip, linux.BPF_FUNC_get_attach_cookie},
		linux.BPF_PROG_TYPE_TRACEPOINT:     {linux.BPF_FUNC_get_attach_cookie},
		linux.BPF_PROG_TYPE_PERF_EVENT:     {linux.BPF_FUNC_get_attach_cookie},
		linux.BPF_PROG_TYPE_RAW_TRACEPOINT: {linux.BPF_FUNC_get_attach_cookie},
		linux.BPF_PROG_TYPE_SOCKET_FILTER:  {linux.BPF_FUNC_skb_load_bytes},
		linux.BPF_PROG_TYPE_XDP:            {linux.BPF_FUNC_xdp_adjust_head, linux.BPF_FUNC_redirect_map},
	}
)

// testHelpers gives a program type the prototypes it may call, and a
// stand-in implementation for each (the verifier only checks that one exists).
func testHelpers(t linux.BPFProgType) (func(int32) *HelperProto, vm.Helpers) {
	allowed := map[linux.BPFFuncID]bool{}
	for _, id := range baseHelpers {
		allowed[id] = true
	}
	switch t {
	case linux.BPF_PROG_TYPE_KPROBE, linux.BPF_PROG_TYPE_TRACEPOINT, linux.BPF_PROG_TYPE_PERF_EVENT,
		linux.BPF_PROG_TYPE_RAW_TRACEPOINT:
		for _, id := range tracingHelpers {
			allowed[id] = true
		}
	}
	for _, id := range typeHelpers[t] {
		allowed[id] = true
	}
	impl := make(vm.Helpers, 212)
	for id := range allowed {
		impl[id] = func(*vm.Env, uint64, uint64, uint64, uint64, uint64) uint64 { return 0 }
	}
	return func(id int32) *HelperProto {
		if !allowed[linux.BPFFuncID(id)] {
			return nil
		}
		return testProtos[linux.BPFFuncID(id)]
	}, impl
}
