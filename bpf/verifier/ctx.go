package verifier

import (
	"unsafe"

	"hachi/bpf/isa"
	"hachi/syscall/linux"
)

// Arch is the target architecture of a kprobe or perf_event program: it
// fixes the layout of the registers its context holds. The verifier runs on
// the build host for either target.
type Arch uint8

// The targets.
const (
	ArchAMD64 Arch = iota
	ArchRISCV64
)

func (a Arch) String() string {
	if a == ArchRISCV64 {
		return "riscv64"
	}
	return "amd64"
}

// ProgTypeMemory is not a Linux program type: it is the conformance suite's
// convention, in which r1 points to N bytes of memory the program may read
// and write at any offset below N (pointer arithmetic included) and r2 is N.
// The context is that memory; N is Options.CtxSize.
const ProgTypeMemory linux.BPFProgType = 0x7fff_0001

// Limits of context layouts (include/linux/trace_events.h, bpf.h).
const (
	perfMaxTraceSize = 8192 // PERF_MAX_TRACE_SIZE (8192 since Linux 6.4): largest tracepoint record
	maxBPFFuncArgs   = 12   // MAX_BPF_FUNC_ARGS: u64 arguments of a raw tracepoint
)

// XDPBuff is the context an XDP program receives at run time, Hachi's
// counterpart of Linux's struct xdp_buff: the verifier rewrites every
// access to the uapi struct xdp_md into an access to this struct, as
// Linux's xdp_convert_ctx_access does, so that data, data_end and
// data_meta are full 64-bit addresses. The XDP layer fills one per packet.
type XDPBuff struct {
	Data           uint64 // address of the first byte of the packet
	DataEnd        uint64 // address just past the packet
	DataMeta       uint64 // address of the metadata, at most Data
	IngressIfindex uint32
	RxQueueIndex   uint32
	EgressIfindex  uint32
	_              uint32
}

// Offsets of struct xdp_md (uapi/linux/bpf.h).
const (
	xdpMdData           = 0
	xdpMdDataEnd        = 4
	xdpMdDataMeta       = 8
	xdpMdIngressIfindex = 12
	xdpMdRxQueueIndex   = 16
	xdpMdEgressIfindex  = 20
	xdpMdSize           = 24
)

// Offsets of struct __sk_buff (uapi/linux/bpf.h) that its access rules name.
const (
	skbCB         = 48
	skbCBEnd      = 68
	skbTCClassid  = 72
	skbData       = 76
	skbDataEnd    = 80
	skbDataMeta   = 140
	skbFlowKeys   = 144
	skbTstamp     = 152
	skbWireLen    = 160
	skbSk         = 168
	skbTstampType = 180
	skbHwtstamp   = 184
	skbSize       = 192
)

// ctxAccess is the verdict on one context access: whether it is allowed,
// what a load produces, and the access the program really makes at run time.
type ctxAccess struct {
	ok bool
	// result is the type a load gives: a packet pointer, or scalarValue.
	result regType
	// rewrite: the access becomes one of kernelSize bytes at kernelOff
	// of the run-time context (Linux's convert_ctx_access).
	rewrite    bool
	kernelOff  int16
	kernelSize isa.Size
}

// ctxDesc is a program type's context: its size, its access rules and what
// else the type allows (Linux's bpf_verifier_ops and may_access_skb).
type ctxDesc struct {
	size int
	// flat: memory of size bytes with no layout (ProgTypeMemory): any
	// access within it, and pointer arithmetic, are allowed.
	flat bool
	// access decides a non-flat access of size bytes at off.
	access func(off, size int, write bool) ctxAccess
	// ldAbs: LD_ABS and LD_IND are allowed (may_access_skb).
	ldAbs bool
	// packetWrite: direct packet writes are allowed (may_access_direct_pkt_data).
	packetWrite bool
	// lenInR2: r2 holds the context size at entry.
	lenInR2 bool
}

func readOnlyAligned(limit int) func(off, size int, write bool) ctxAccess {
	return func(off, size int, write bool) ctxAccess {
		ok := !write && off >= 0 && off < limit && off%size == 0 && off+size <= limit
		return ctxAccess{ok: ok, result: scalarValue}
	}
}

// contextOf describes the context of a program type, or reports false for
// types Hachi does not run.
func contextOf(opts *Options) (*ctxDesc, bool) {
	switch opts.ProgType {
	case linux.BPF_PROG_TYPE_KPROBE:
		n := int(ptRegsSize(opts.Arch))
		return &ctxDesc{size: n, access: readOnlyAligned(n)}, true
	case linux.BPF_PROG_TYPE_TRACEPOINT:
		n := perfMaxTraceSize
		if opts.CtxSize != 0 {
			n = int(min(opts.CtxSize, perfMaxTraceSize))
		}
		inner := readOnlyAligned(n)
		return &ctxDesc{size: n,
			access: func(off, size int, write bool) ctxAccess {
				// The first word of the record is not the program's
				// (tp_prog_is_valid_access: off < sizeof(void *)).
				if off < 8 {
					return ctxAccess{}
				}
				return inner(off, size, write)
			}}, true
	case linux.BPF_PROG_TYPE_RAW_TRACEPOINT:
		n := maxBPFFuncArgs * 8
		return &ctxDesc{size: n, access: readOnlyAligned(n)}, true
	case linux.BPF_PROG_TYPE_PERF_EVENT:
		regs := int(ptRegsSize(opts.Arch))
		return &ctxDesc{size: regs + 16, access: perfEventAccess(regs)}, true
	case linux.BPF_PROG_TYPE_SOCKET_FILTER:
		return &ctxDesc{size: skbSize, ldAbs: true, access: socketFilterAccess}, true
	case linux.BPF_PROG_TYPE_XDP:
		devmap := opts.ExpectedAttachType == linux.BPF_XDP_DEVMAP
		return &ctxDesc{size: xdpMdSize, packetWrite: true,
			access: func(off, size int, write bool) ctxAccess { return xdpAccess(off, size, write, devmap) }}, true
	case ProgTypeMemory:
		return &ctxDesc{size: int(opts.CtxSize), flat: true, lenInR2: true}, true
	}
	return nil, false
}

// ptRegsSize is the size of bpf_user_pt_regs_t on the target: the bound of
// kprobe context accesses (and of the regs at the start of perf_event's).
func ptRegsSize(a Arch) uintptr {
	if a == ArchRISCV64 {
		return linux.PtRegsLayoutRISCV64.Size
	}
	return linux.PtRegsLayoutAMD64.Size
}

// perfEventAccess is pe_prog_is_valid_access: the registers are read as
// whole words; sample_period and addr, the two u64 after them, also by
// narrower aligned loads.
func perfEventAccess(regs int) func(off, size int, write bool) ctxAccess {
	return func(off, size int, write bool) ctxAccess {
		if write || off < 0 || off >= regs+16 || off%size != 0 || off+size > regs+16 {
			return ctxAccess{}
		}
		if off < regs && size != 8 {
			return ctxAccess{}
		}
		return ctxAccess{ok: true, result: scalarValue}
	}
}

// socketFilterAccess is sk_filter_is_valid_access over
// bpf_skb_is_valid_access. Hachi hands a socket filter the uapi struct
// __sk_buff itself, so no access is rewritten. Unlike Linux, data_end (a
// packet pointer without data, which the type cannot read) and sk (a
// socket pointer) are refused: socket filters reach the packet with LD_ABS,
// LD_IND and bpf_skb_load_bytes.
func socketFilterAccess(off, size int, write bool) ctxAccess {
	if off < 0 || off >= skbSize || off%size != 0 {
		return ctxAccess{}
	}
	if off >= skbCB && off < skbCBEnd {
		return ctxAccess{ok: off+size <= skbCBEnd, result: scalarValue}
	}
	if write {
		return ctxAccess{}
	}
	switch {
	case off >= skbTCClassid && off < skbTCClassid+4,
		off >= skbData && off < skbData+4,
		off >= skbDataEnd && off < skbDataEnd+4,
		off >= skbDataMeta && off < skbDataMeta+4,
		off >= skbFlowKeys && off < skbFlowKeys+8,
		off >= skbTstamp && off < skbTstamp+8,
		off >= skbWireLen && off < skbWireLen+4,
		off >= skbSk && off < skbSk+8,
		off >= skbTstampType && off < skbHwtstamp,
		off >= skbHwtstamp:
		return ctxAccess{}
	}
	// Every other field is a __u32, read whole or narrower (bpf_ctx_narrow_access_ok).
	return ctxAccess{ok: size <= 4, result: scalarValue}
}

// xdpAccess is xdp_is_valid_access: 4-byte reads of struct xdp_md, with
// data, data_end and data_meta giving packet pointers; each access is
// rewritten to the XDPBuff field.
func xdpAccess(off, size int, write bool, devmap bool) ctxAccess {
	if write || off < 0 || off >= xdpMdSize || off%size != 0 || size != 4 {
		return ctxAccess{}
	}
	word := isa.SizeW
	switch off {
	case xdpMdData:
		return ctxAccess{ok: true, result: ptrToPacket, rewrite: true, kernelOff: int16(unsafe.Offsetof(XDPBuff{}.Data)), kernelSize: isa.SizeDW}
	case xdpMdDataEnd:
		return ctxAccess{ok: true, result: ptrToPacketEnd, rewrite: true, kernelOff: int16(unsafe.Offsetof(XDPBuff{}.DataEnd)), kernelSize: isa.SizeDW}
	case xdpMdDataMeta:
		return ctxAccess{ok: true, result: ptrToPacketMeta, rewrite: true, kernelOff: int16(unsafe.Offsetof(XDPBuff{}.DataMeta)), kernelSize: isa.SizeDW}
	case xdpMdIngressIfindex:
		return ctxAccess{ok: true, result: scalarValue, rewrite: true, kernelOff: int16(unsafe.Offsetof(XDPBuff{}.IngressIfindex)), kernelSize: word}
	case xdpMdRxQueueIndex:
		return ctxAccess{ok: true, result: scalarValue, rewrite: true, kernelOff: int16(unsafe.Offsetof(XDPBuff{}.RxQueueIndex)), kernelSize: word}
	}
	// egress_ifindex is only meaningful to programs run from a devmap.
	return ctxAccess{ok: devmap, result: scalarValue, rewrite: true, kernelOff: int16(unsafe.Offsetof(XDPBuff{}.EgressIfindex)), kernelSize: word}
}
