package helpers

import (
	"hachi/bpf/verifier"
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// Helper is one row of the helper table: a Linux helper, its prototype as
// the verifier checks calls (struct bpf_func_proto, in the verifier's
// types), who may call it, and its implementation.
type Helper struct {
	ID    linux.BPFFuncID
	Proto verifier.HelperProto
	// Base is what bpf_base_func_proto, which every program type falls
	// back to, asks of the loader before handing out this helper;
	// NotBase for helpers only some program types have.
	Base Privilege
	// Types are the program types whose own func_proto hands it out
	// whatever the loader's capabilities (bpf_tracing_func_proto and the
	// kprobe, tracepoint, perf_event and raw tracepoint lists).
	Types ProgTypes
	impl  func(*Set) vm.HelperFunc
}

// Privilege is the capability a base helper needs (the three groups of
// kernel/bpf/helpers.c:bpf_base_func_proto).
type Privilege uint8

// The groups of bpf_base_func_proto.
const (
	NotBase      Privilege = iota // not a base helper
	Unprivileged                  // first group: any loader
	NeedBPF                       // second group: bpf_capable()
	NeedPerfmon                   // third group: perfmon_capable()
)

// ProgTypes is a set of program types, bit t for BPF_PROG_TYPE t.
type ProgTypes uint64

// Has reports whether t is in p.
func (p ProgTypes) Has(t linux.BPFProgType) bool { return t < 64 && p&(1<<t) != 0 }

func progTypes(ts ...linux.BPFProgType) ProgTypes {
	var p ProgTypes
	for _, t := range ts {
		p |= 1 << t
	}
	return p
}

// Program type groups of the func_proto functions.
var (
	// tracing is bpf_tracing_func_proto's users: kprobe (and uprobe),
	// tracepoint, perf_event, raw tracepoint and BTF tracing programs.
	tracing = progTypes(linux.BPF_PROG_TYPE_KPROBE, linux.BPF_PROG_TYPE_TRACEPOINT, linux.BPF_PROG_TYPE_PERF_EVENT,
		linux.BPF_PROG_TYPE_RAW_TRACEPOINT, linux.BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, linux.BPF_PROG_TYPE_TRACING)
	// probes are the types with perf_event_output and get_stackid on a
	// register context (kprobe_prog_func_proto, tp_prog_func_proto,
	// pe_prog_func_proto, raw_tp_prog_func_proto).
	probes = progTypes(linux.BPF_PROG_TYPE_KPROBE, linux.BPF_PROG_TYPE_TRACEPOINT, linux.BPF_PROG_TYPE_PERF_EVENT,
		linux.BPF_PROG_TYPE_RAW_TRACEPOINT, linux.BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE)
	// cookies are the types with an attach cookie (bpf_get_attach_cookie).
	cookies = progTypes(linux.BPF_PROG_TYPE_KPROBE, linux.BPF_PROG_TYPE_TRACEPOINT, linux.BPF_PROG_TYPE_PERF_EVENT)
	// funcIP are the types bpf_get_func_ip knows a function address for.
	funcIP = progTypes(linux.BPF_PROG_TYPE_KPROBE, linux.BPF_PROG_TYPE_TRACING)
)

// Allowed is get_func_proto's answer for program type t loaded with caps.
func (h *Helper) Allowed(t linux.BPFProgType, caps Caps) bool {
	if h.Types.Has(t) {
		return true
	}
	switch h.Base {
	case Unprivileged:
		return true
	case NeedBPF:
		return caps.BPF
	case NeedPerfmon:
		return caps.BPF && caps.Perfmon
	}
	return false
}

// Argument shorthands, named as Linux spells them.
const (
	argAnything       = verifier.ArgAnything
	argConstMapPtr    = verifier.ArgConstMapPtr
	argPtrToMapKey    = verifier.ArgPtrToMapKey
	argPtrToMapValue  = verifier.ArgPtrToMapValue
	argPtrToCtx       = verifier.ArgPtrToCtx
	argConstSize      = verifier.ArgConstSize
	argConstSizeOr0   = verifier.ArgConstSizeOrZero
	argPtrToUninitMem = verifier.ArgPtrToMem | verifier.ArgUninit    // ARG_PTR_TO_UNINIT_MEM
	argPtrToROMem     = verifier.ArgPtrToMem | verifier.ArgReadOnly  // ARG_PTR_TO_MEM | MEM_RDONLY
	argPtrToMemOrNull = verifier.ArgPtrToMem | verifier.ArgMaybeNull // ARG_PTR_TO_MEM_OR_NULL
)

func proto(name string, gpl bool, ret verifier.RetType, args ...verifier.ArgType) verifier.HelperProto {
	p := verifier.HelperProto{Name: name, GPLOnly: gpl, Ret: ret}
	copy(p.Args[:], args)
	return p
}

// bound adapts a helper that needs the Set.
func bound(f func(*Set, *vm.Env, uint64, uint64, uint64, uint64, uint64) uint64) func(*Set) vm.HelperFunc {
	return func(s *Set) vm.HelperFunc {
		return func(env *vm.Env, r1, r2, r3, r4, r5 uint64) uint64 { return f(s, env, r1, r2, r3, r4, r5) }
	}
}

// static adapts a helper that needs only the Env.
func static(f vm.HelperFunc) func(*Set) vm.HelperFunc {
	return func(*Set) vm.HelperFunc { return f }
}

// Table is the helpers Hachi implements, by Linux id, with Linux 6.1's
// prototypes (include/uapi/linux/bpf.h documents each; the protos are in
// kernel/bpf/helpers.c, kernel/trace/bpf_trace.c, kernel/bpf/ringbuf.c,
// kernel/bpf/stackmap.c and kernel/bpf/bpf_iter.c).
var Table = []Helper{
	{ID: linux.BPF_FUNC_map_lookup_elem, Base: Unprivileged, impl: static(mapLookupElem),
		Proto: packetAccess(proto("map_lookup_elem", false, verifier.RetPtrToMapValueOrNull, argConstMapPtr, argPtrToMapKey))},
	{ID: linux.BPF_FUNC_map_update_elem, Base: Unprivileged, impl: static(mapUpdateElem),
		Proto: packetAccess(proto("map_update_elem", false, verifier.RetInteger, argConstMapPtr, argPtrToMapKey, argPtrToMapValue, argAnything))},
	{ID: linux.BPF_FUNC_map_delete_elem, Base: Unprivileged, impl: static(mapDeleteElem),
		Proto: packetAccess(proto("map_delete_elem", false, verifier.RetInteger, argConstMapPtr, argPtrToMapKey))},
	{ID: linux.BPF_FUNC_probe_read, Types: tracing, impl: bound((*Set).probeRead),
		Proto: proto("probe_read", true, verifier.RetInteger, argPtrToUninitMem, argConstSizeOr0, argAnything)},
	{ID: linux.BPF_FUNC_ktime_get_ns, Base: Unprivileged, impl: bound((*Set).ktimeGetNS),
		Proto: proto("ktime_get_ns", false, verifier.RetInteger)},
	{ID: linux.BPF_FUNC_trace_printk, Base: NeedPerfmon, Types: tracing, impl: bound((*Set).tracePrintk),
		Proto: proto("trace_printk", true, verifier.RetInteger, argPtrToROMem, argConstSize)},
	{ID: linux.BPF_FUNC_get_prandom_u32, Base: Unprivileged, impl: bound((*Set).getPrandomU32),
		Proto: proto("get_prandom_u32", false, verifier.RetInteger)},
	{ID: linux.BPF_FUNC_get_smp_processor_id, Base: Unprivileged, impl: static(getSMPProcessorID),
		Proto: proto("get_smp_processor_id", false, verifier.RetInteger)},
	// The VM runs tail calls itself (like Linux's interpreter and JITs).
	{ID: linux.BPF_FUNC_tail_call, Base: Unprivileged,
		Proto: proto("tail_call", false, verifier.RetVoid, argPtrToCtx, argConstMapPtr, argAnything)},
	{ID: linux.BPF_FUNC_get_current_pid_tgid, Types: tracing, impl: bound((*Set).getCurrentPIDTGID),
		Proto: proto("get_current_pid_tgid", false, verifier.RetInteger)},
	{ID: linux.BPF_FUNC_get_current_uid_gid, Types: tracing, impl: bound((*Set).getCurrentUIDGID),
		Proto: proto("get_current_uid_gid", false, verifier.RetInteger)},
	{ID: linux.BPF_FUNC_get_current_comm, Types: tracing, impl: bound((*Set).getCurrentComm),
		Proto: proto("get_current_comm", false, verifier.RetInteger, argPtrToUninitMem, argConstSize)},
	{ID: linux.BPF_FUNC_perf_event_output, Types: probes, impl: static(perfEventOutput),
		Proto: proto("perf_event_output", true, verifier.RetInteger, argPtrToCtx, argConstMapPtr, argAnything, argPtrToROMem, argConstSizeOr0)},
	{ID: linux.BPF_FUNC_get_stackid, Types: probes, impl: bound((*Set).getStackID),
		Proto: proto("get_stackid", true, verifier.RetInteger, argPtrToCtx, argConstMapPtr, argAnything)},
	{ID: linux.BPF_FUNC_probe_read_str, Types: tracing, impl: bound((*Set).probeReadStr),
		Proto: proto("probe_read_str", true, verifier.RetInteger, argPtrToUninitMem, argConstSizeOr0, argAnything)},
	{ID: linux.BPF_FUNC_map_push_elem, Base: Unprivileged, impl: static(mapPushElem),
		Proto: packetAccess(proto("map_push_elem", false, verifier.RetInteger, argConstMapPtr, argPtrToMapValue, argAnything))},
	{ID: linux.BPF_FUNC_map_pop_elem, Base: Unprivileged, impl: static(mapPopElem),
		Proto: proto("map_pop_elem", false, verifier.RetInteger, argConstMapPtr, argPtrToMapValue|verifier.ArgUninit)},
	{ID: linux.BPF_FUNC_map_peek_elem, Base: Unprivileged, impl: static(mapPeekElem),
		Proto: proto("map_peek_elem", false, verifier.RetInteger, argConstMapPtr, argPtrToMapValue|verifier.ArgUninit)},
	{ID: linux.BPF_FUNC_probe_read_user, Base: NeedPerfmon, Types: tracing, impl: bound((*Set).probeReadUser),
		Proto: proto("probe_read_user", true, verifier.RetInteger, argPtrToUninitMem, argConstSizeOr0, argAnything)},
	{ID: linux.BPF_FUNC_probe_read_kernel, Base: NeedPerfmon, Types: tracing, impl: bound((*Set).probeReadKernel),
		Proto: proto("probe_read_kernel", true, verifier.RetInteger, argPtrToUninitMem, argConstSizeOr0, argAnything)},
	{ID: linux.BPF_FUNC_probe_read_user_str, Base: NeedPerfmon, Types: tracing, impl: bound((*Set).probeReadUserStr),
		Proto: proto("probe_read_user_str", true, verifier.RetInteger, argPtrToUninitMem, argConstSizeOr0, argAnything)},
	{ID: linux.BPF_FUNC_probe_read_kernel_str, Base: NeedPerfmon, Types: tracing, impl: bound((*Set).probeReadKernelStr),
		Proto: proto("probe_read_kernel_str", true, verifier.RetInteger, argPtrToUninitMem, argConstSizeOr0, argAnything)},
	{ID: linux.BPF_FUNC_ktime_get_boot_ns, Base: Unprivileged, impl: bound((*Set).ktimeGetBootNS),
		Proto: proto("ktime_get_boot_ns", false, verifier.RetInteger)},
	{ID: linux.BPF_FUNC_ringbuf_output, Base: Unprivileged, impl: static(ringbufOutput),
		Proto: proto("ringbuf_output", false, verifier.RetInteger, argConstMapPtr, argPtrToROMem, argConstSizeOr0, argAnything)},
	{ID: linux.BPF_FUNC_ringbuf_reserve, Base: Unprivileged, impl: static(ringbufReserve),
		Proto: proto("ringbuf_reserve", false, verifier.RetPtrToRingbufMemOrNull, argConstMapPtr, verifier.ArgConstAllocSizeOrZero, argAnything)},
	{ID: linux.BPF_FUNC_ringbuf_submit, Base: Unprivileged, impl: static(ringbufSubmit),
		Proto: proto("ringbuf_submit", false, verifier.RetVoid, verifier.ArgPtrToRingbufMem|verifier.ArgRelease, argAnything)},
	{ID: linux.BPF_FUNC_ringbuf_discard, Base: Unprivileged, impl: static(ringbufDiscard),
		Proto: proto("ringbuf_discard", false, verifier.RetVoid, verifier.ArgPtrToRingbufMem|verifier.ArgRelease, argAnything)},
	{ID: linux.BPF_FUNC_ringbuf_query, Base: Unprivileged, impl: static(ringbufQuery),
		Proto: proto("ringbuf_query", false, verifier.RetInteger, argConstMapPtr, argAnything)},
	{ID: linux.BPF_FUNC_ktime_get_coarse_ns, Base: Unprivileged, impl: bound((*Set).ktimeGetCoarseNS),
		Proto: proto("ktime_get_coarse_ns", false, verifier.RetInteger)},
	{ID: linux.BPF_FUNC_for_each_map_elem, Base: Unprivileged, impl: bound((*Set).forEachMapElem),
		Proto: withCallback(proto("for_each_map_elem", false, verifier.RetInteger,
			argConstMapPtr, verifier.ArgPtrToFunc, verifier.ArgPtrToStack|verifier.ArgMaybeNull, argAnything), verifier.CallbackForEachMap)},
	{ID: linux.BPF_FUNC_snprintf, Base: NeedPerfmon, Types: tracing, impl: bound((*Set).snprintf),
		Proto: proto("snprintf", true, verifier.RetInteger, argPtrToMemOrNull, argConstSizeOr0, verifier.ArgPtrToConstStr,
			argPtrToROMem|verifier.ArgMaybeNull, argConstSizeOr0)},
	{ID: linux.BPF_FUNC_get_func_ip, Types: funcIP, impl: bound((*Set).getFuncIP),
		Proto: proto("get_func_ip", true, verifier.RetInteger, argPtrToCtx)},
	{ID: linux.BPF_FUNC_get_attach_cookie, Types: cookies, impl: static(getAttachCookie),
		Proto: proto("get_attach_cookie", false, verifier.RetInteger, argPtrToCtx)},
	{ID: linux.BPF_FUNC_loop, Base: Unprivileged, impl: static(loop),
		Proto: withCallback(proto("loop", false, verifier.RetInteger,
			argAnything, verifier.ArgPtrToFunc, verifier.ArgPtrToStack|verifier.ArgMaybeNull, argAnything), verifier.CallbackLoop)},
	{ID: linux.BPF_FUNC_map_lookup_percpu_elem, Base: Unprivileged, impl: static(mapLookupPercpuElem),
		Proto: packetAccess(proto("map_lookup_percpu_elem", false, verifier.RetPtrToMapValueOrNullAny, argConstMapPtr, argPtrToMapKey, argAnything))},
}

// packetAccess marks a prototype whose memory arguments may point into a
// packet (bpf_func_proto.pkt_access): the map helpers take keys and values
// straight from XDP and TC packets.
func packetAccess(p verifier.HelperProto) verifier.HelperProto {
	p.PacketAccess = true
	return p
}

func withCallback(p verifier.HelperProto, cb verifier.Callback) verifier.HelperProto {
	p.Callback = cb
	return p
}

// Lookup is the table row of helper id, or nil.
func Lookup(id linux.BPFFuncID) *Helper {
	for i := range Table {
		if Table[i].ID == id {
			return &Table[i]
		}
	}
	return nil
}
