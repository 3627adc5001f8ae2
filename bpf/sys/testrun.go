package sys

import (
	"encoding/binary"
	"sync"
	"unsafe"

	"hachi/bpf/verifier"
	"hachi/bpf/vm"
	"hachi/syscall"
	"hachi/syscall/linux"
)

// cpuState is the interpreter state of one CPU: test runs on a CPU take
// its lock, as Linux runs them with migration disabled.
type cpuState struct {
	mu  sync.Mutex
	env *vm.Env
}

// cpu returns the state of CPU n, made on first use.
func (s *System) cpu(n int) *cpuState {
	s.cpuMu.Lock()
	defer s.cpuMu.Unlock()
	for len(s.cpus) <= n {
		env := vm.NewEnv()
		env.CPU = uint32(len(s.cpus))
		s.cpus = append(s.cpus, &cpuState{env: env})
	}
	return s.cpus[n]
}

// Test run buffer geometry (net/bpf/test_run.c, include/linux/skbuff.h):
// XDP_PACKET_HEADROOM before an XDP frame, NET_SKB_PAD + NET_IP_ALIGN
// before an skb's data, and SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
// after both (320 bytes on 64-bit kernels).
const (
	ethHlen         = 14 // ETH_HLEN
	xdpPacketHeadrm = 256
	netSkbPad       = 64
	skbSharedInfo   = 320
	xdpMetaMax      = 255 // xdp_metalen_invalid: 4-aligned, fits skb_shared_info.meta_len (u8)
	xdpFrameSize    = 40  // sizeof(struct xdp_frame), kept in the headroom
	maxSkbFrags     = 17  // MAX_SKB_FRAGS
	testXDPMaxBatch = 256
	loopbackIfindex = 1 // the only device: lo, one rx queue
	durationMax     = 1<<32 - 1
	ethP8023Min     = 0x0600
	ethP8023        = 0x0001
	ethP8022        = 0x0004
	ethPIP          = 0x0800
	ethPIPv6        = 0x86dd
	packetBroadcast = 1 // PACKET_BROADCAST
	packetMulticast = 2
	packetOtherhost = 3
	afInet          = 2
	afInet6         = 10
	gsoMaxSegs      = 65535   // GSO_MAX_SEGS
	gsoMaxSize      = 1 << 16 // GSO_MAX_SIZE
	skbCBPrivWords  = 5       // QDISC_CB_PRIV_LEN / 4
	rawTPArgsMax    = 12 * 8  // MAX_BPF_FUNC_ARGS * sizeof(u64)
)

// Offsets in bpf_attr.test of the fields a test run writes back.
var (
	testRetvalOff     = unsafe.Offsetof(linux.BPFAttrTestRun{}.Retval)
	testSizeOutOff    = unsafe.Offsetof(linux.BPFAttrTestRun{}.DataSizeOut)
	testDurationOff   = unsafe.Offsetof(linux.BPFAttrTestRun{}.Duration)
	testCtxSizeOutOff = unsafe.Offsetof(linux.BPFAttrTestRun{}.CtxSizeOut)
)

// progTestRun is BPF_PROG_TEST_RUN (bpf_prog_test_run): socket filter,
// XDP and raw tracepoint programs have test runs; kprobe, tracepoint and
// perf_event programs have none (ENOTSUPP, as in Linux).
func (c *call) progTestRun() (int, error) {
	a := c.attr.testRun()
	if (a.CtxSizeIn != 0) != (a.CtxIn != 0) || (a.CtxSizeOut != 0) != (a.CtxOut != 0) {
		return -1, linux.EINVAL
	}
	p, err := c.progFromFD(a.ProgFD)
	if err != nil {
		return -1, err
	}
	defer p.put()
	switch p.typ {
	case linux.BPF_PROG_TYPE_SOCKET_FILTER:
		return 0, c.testRunSkb(p, a)
	case linux.BPF_PROG_TYPE_XDP:
		return 0, c.testRunXDP(p, a)
	case linux.BPF_PROG_TYPE_RAW_TRACEPOINT:
		return 0, c.testRunRawTP(p, a)
	}
	return -1, linux.ENOTSUPP
}

// ctxInit is bpf_ctx_init: the caller's context of up to max bytes
// (a larger one must have a zero tail), or nil when the caller passes none.
func (c *call) ctxInit(a *linux.BPFAttrTestRun, max uint32) ([]byte, error) {
	if a.CtxIn == 0 && a.CtxOut == 0 {
		return nil, nil
	}
	ctx := make([]byte, max)
	if a.CtxIn != 0 {
		if err := checkUargTailZero(c.t.Mem, a.CtxIn, uint64(max), uint64(a.CtxSizeIn)); err != nil {
			return nil, err
		}
		if err := c.t.Mem.CopyIn(a.CtxIn, ctx[:min(max, a.CtxSizeIn)]); err != nil {
			return nil, linux.EFAULT
		}
	}
	return ctx, nil
}

// ctxFinish is bpf_ctx_finish: the context back to ctx_out, ENOSPC (with
// ctx_size_out the full size) when the buffer is too small.
func (c *call) ctxFinish(a *linux.BPFAttrTestRun, ctx []byte) error {
	if ctx == nil || a.CtxOut == 0 {
		return nil
	}
	n := uint32(len(ctx))
	var err error
	if n > a.CtxSizeOut {
		n, err = a.CtxSizeOut, linux.ENOSPC
	}
	if c.t.Mem.CopyOut(a.CtxOut, ctx[:n]) != nil || c.putU32(testCtxSizeOutOff, uint32(len(ctx))) != nil {
		return linux.EFAULT
	}
	return err
}

// testFinish is bpf_test_finish: the packet (data, then the fragments
// beyond the linear part) to data_out, clamped to data_size_out when the
// caller set one (then ENOSPC, with the full size reported), and the
// size, return value and duration into the attr.
func (c *call) testFinish(a *linux.BPFAttrTestRun, data, frags []byte, retval, duration uint32) error {
	size := uint32(len(data) + len(frags))
	copySize := size
	var err error
	if a.DataSizeOut != 0 && copySize > a.DataSizeOut {
		copySize, err = a.DataSizeOut, linux.ENOSPC
	}
	if a.DataOut != 0 {
		// With fragments, the linear part gives way first: what is
		// copied is the first copySize-len(frags) bytes of it, then every
		// fragment; a buffer shorter than the fragments is ENOSPC before
		// anything is written back.
		linear := int(copySize) - len(frags)
		if linear < 0 {
			return linux.ENOSPC
		}
		if c.t.Mem.CopyOut(a.DataOut, data[:linear]) != nil ||
			c.t.Mem.CopyOut(a.DataOut+uint64(linear), frags) != nil {
			return linux.EFAULT
		}
	}
	if c.putU32(testSizeOutOff, size) != nil || c.putU32(testRetvalOff, retval) != nil ||
		c.putU32(testDurationOff, duration) != nil {
		return linux.EFAULT
	}
	return err
}

// run is bpf_test_run: repeat runs (0 means 1) on the calling CPU with
// the same context, and the mean duration of one run in ns.
func (c *call) run(p *Prog, ctx vm.Region, packet vm.Region, repeat uint32) (retval, duration uint32, err error) {
	if repeat == 0 {
		repeat = 1
	}
	cs := c.sys.cpu(c.sys.env.CurrentCPU())
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.env.Packet = packet
	start := c.sys.env.Nanotime()
	var r0 uint64
	for i := uint32(0); i < repeat; i++ {
		if r0, err = p.run(cs.env, ctx); err != nil {
			// A verified program cannot fault; if it does, it is a
			// kernel bug, reported as Linux reports verifier bugs.
			return 0, 0, linux.EFAULT
		}
	}
	spent := uint64(c.sys.env.Nanotime()-start) / uint64(repeat)
	cs.env.Packet = vm.Region{}
	return uint32(r0), uint32(min(spent, durationMax)), nil
}

// testRunXDP is bpf_prog_test_run_xdp: the packet in a page with
// XDP_PACKET_HEADROOM before it (less the metadata the context asks for)
// and the shared info after it; what does not fit is kept as fragments,
// which the program does not see.
func (c *call) testRunXDP(p *Prog, a *linux.BPFAttrTestRun) error {
	if p.expectedAttachType == linux.BPF_XDP_DEVMAP || p.expectedAttachType == linux.BPF_XDP_CPUMAP {
		return linux.EINVAL
	}
	if a.Flags&^linux.BPF_F_TEST_XDP_LIVE_FRAMES != 0 {
		return linux.EINVAL
	}
	if a.Flags&linux.BPF_F_TEST_XDP_LIVE_FRAMES != 0 {
		if a.BatchSize > testXDPMaxBatch {
			return linux.E2BIG
		}
		// Live frames are sent through a device; Hachi has none.
		return linux.EOPNOTSUPP
	} else if a.BatchSize != 0 {
		return linux.EINVAL
	}
	ctx, err := c.ctxInit(a, uint32(unsafe.Sizeof(linux.XDPMd{})))
	if err != nil {
		return err
	}
	headroom := uint32(xdpPacketHeadrm)
	linear, meta := a.DataSizeIn, uint32(0)
	var md *linux.XDPMd
	if ctx != nil {
		// The context may keep the tail of the data out of the linear
		// part (data_end < data_size_in) and put metadata before it.
		md = (*linux.XDPMd)(unsafe.Pointer(&ctx[0]))
		if md.DataMeta != 0 || md.DataEnd > a.DataSizeIn || md.Data > md.DataEnd {
			return linux.EINVAL
		}
		meta = md.Data
		if meta%4 != 0 || meta > xdpMetaMax || meta > headroom-xdpFrameSize {
			return linux.EINVAL // xdp_metalen_invalid, or no room for the xdp_frame
		}
		headroom -= meta
		linear = md.DataEnd
	}
	maxLinear := syscall.PageSize - headroom - skbSharedInfo
	linear = min(linear, maxLinear)
	if a.DataSizeIn-meta < ethHlen {
		return linux.EINVAL
	}
	buf := make([]byte, headroom+maxLinear+skbSharedInfo)
	if c.t.Mem.CopyIn(a.DataIn, buf[headroom:headroom+linear]) != nil {
		return linux.EFAULT
	}
	xb := &verifier.XDPBuff{IngressIfindex: loopbackIfindex}
	base := uint64(uintptr(unsafe.Pointer(&buf[0])))
	xb.DataMeta = base + uint64(headroom)
	xb.Data = xb.DataMeta
	xb.DataEnd = xb.Data + uint64(linear)
	if md != nil {
		// xdp_convert_md_to_buff.
		if md.EgressIfindex != 0 || md.IngressIfindex == 0 && md.RxQueueIndex != 0 {
			return linux.EINVAL
		}
		if md.IngressIfindex != 0 {
			if md.IngressIfindex != loopbackIfindex {
				return linux.ENODEV
			}
			if md.RxQueueIndex != 0 {
				return linux.EINVAL
			}
		}
		xb.Data = xb.DataMeta + uint64(md.Data)
	}
	size := linear
	// What does not fit the linear part goes into page fragments, at most
	// MAX_SKB_FRAGS of them (ENOMEM past that), copied one by one.
	var frags []byte
	for nfrags := 0; size < a.DataSizeIn; nfrags++ {
		if nfrags == maxSkbFrags {
			return linux.ENOMEM
		}
		n := min(a.DataSizeIn-size, syscall.PageSize)
		page := make([]byte, n)
		if c.t.Mem.CopyIn(a.DataIn+uint64(size), page) != nil {
			return linux.EFAULT
		}
		frags = append(frags, page...)
		size += n
	}
	ctxRegion := vm.Region{Base: unsafe.Pointer(xb), Size: unsafe.Sizeof(*xb)}
	retval, duration, err := c.run(p, ctxRegion, vm.Region{}, a.Repeat)
	if md != nil {
		md.Data = uint32(xb.Data - xb.DataMeta)
		md.DataEnd = uint32(xb.DataEnd - xb.DataMeta)
	}
	if err != nil {
		return err
	}
	out := buf[xb.DataMeta-base : xb.DataEnd-base]
	if err := c.testFinish(a, out, frags, retval, duration); err != nil {
		return err
	}
	return c.ctxFinish(a, ctx)
}

// testRunSkb is bpf_prog_test_run_skb for socket filters: the packet is an
// Ethernet frame received on lo; the program sees it from the network
// header on (eth_type_trans pulled the Ethernet header, which comes back
// zeroed in data_out), with the __sk_buff fields Linux fills.
func (c *call) testRunSkb(p *Prog, a *linux.BPFAttrTestRun) error {
	if a.Flags != 0 || a.CPU != 0 || a.BatchSize != 0 {
		return linux.EINVAL
	}
	headroom := uint32(netSkbPad)
	if c.sys.env.Arch() == verifier.ArchRISCV64 {
		headroom += 2 // NET_IP_ALIGN: x86 keeps 0, riscv the default 2
	}
	size := a.DataSizeIn
	if size < ethHlen || size > syscall.PageSize-headroom-skbSharedInfo {
		return linux.EINVAL
	}
	data := make([]byte, size)
	if c.t.Mem.CopyIn(a.DataIn, data) != nil {
		return linux.EFAULT
	}
	ctx, err := c.ctxInit(a, uint32(unsafe.Sizeof(linux.SKBuff{})))
	if err != nil {
		return err
	}
	skb := &linux.SKBuff{Ifindex: loopbackIfindex}
	var in *linux.SKBuff
	if ctx != nil {
		in = (*linux.SKBuff)(unsafe.Pointer(&ctx[0]))
		if in.Ifindex > loopbackIfindex {
			return linux.ENODEV // dev_get_by_index: only lo exists
		}
	}
	ethTypeTrans(skb, data)
	// An IPv4 or IPv6 frame must hold the whole network header, which
	// fills the dummy socket's addresses.
	switch binary.BigEndian.Uint16(data[12:14]) {
	case ethPIP:
		if size < ethHlen+20 {
			return linux.EINVAL
		}
	case ethPIPv6:
		if size < ethHlen+40 {
			return linux.EINVAL
		}
	}
	if err := convertSkbIn(skb, in); err != nil {
		return err
	}
	net := data[ethHlen:]
	ctxRegion := vm.Region{Base: unsafe.Pointer(skb), Size: unsafe.Sizeof(*skb), Writable: true}
	retval, duration, err := c.run(p, ctxRegion, vm.Bytes(net, false), a.Repeat)
	if err != nil {
		return err
	}
	// The Ethernet header is pushed back zeroed.
	clear(data[:ethHlen])
	if in != nil {
		convertSkbOut(skb, in)
	}
	if err := c.testFinish(a, data, nil, retval, duration); err != nil {
		return err
	}
	return c.ctxFinish(a, ctx)
}

// ethTypeTrans fills what eth_type_trans and bpf_prog_test_run_skb derive
// from the frame received on lo (address and broadcast address all zero):
// the packet type, the protocol (in network byte order, as skb->protocol
// holds it), the length past the Ethernet header, and the dummy socket's
// family and addresses for IPv4 and IPv6.
func ethTypeTrans(skb *linux.SKBuff, frame []byte) {
	dst := frame[0:6]
	zero := true
	for _, b := range dst {
		zero = zero && b == 0
	}
	switch {
	case zero:
	case dst[0]&1 != 0:
		skb.PktType = packetMulticast // lo's broadcast address is all zero
	default:
		skb.PktType = packetOtherhost
	}
	proto := binary.BigEndian.Uint16(frame[12:14])
	net := frame[ethHlen:]
	switch {
	case proto >= ethP8023Min:
	case len(net) >= 2 && net[0] == 0xff && net[1] == 0xff:
		proto = ethP8023
	default:
		proto = ethP8022
	}
	skb.Protocol = uint32(proto>>8 | proto<<8)
	skb.Len = uint32(len(net))
	switch proto {
	case ethPIP:
		skb.Family = afInet
		if len(net) >= 20 {
			skb.LocalIP4 = binary.LittleEndian.Uint32(net[12:16])
			skb.RemoteIP4 = binary.LittleEndian.Uint32(net[16:20])
		}
	case ethPIPv6:
		skb.Family = afInet6
		if len(net) >= 40 {
			for i := range 4 {
				skb.LocalIP6[i] = binary.LittleEndian.Uint32(net[8+4*i:])
				skb.RemoteIP6[i] = binary.LittleEndian.Uint32(net[24+4*i:])
			}
		}
	}
}

// convertSkbIn is convert___skb_to_skb: only mark, priority,
// ingress_ifindex, ifindex, cb, tstamp, wire_len, gso_segs, gso_size and
// hwtstamp may be set (EINVAL otherwise); they seed the packet's fields.
func convertSkbIn(skb, in *linux.SKBuff) error {
	skb.WireLen = skb.Len
	if in == nil {
		return nil
	}
	allowed := *in
	allowed.Mark, allowed.Priority, allowed.IngressIfindex, allowed.Ifindex = 0, 0, 0, 0
	allowed.CB = [5]uint32{}
	allowed.Tstamp, allowed.WireLen, allowed.GSOSegs, allowed.GSOSize, allowed.Hwtstamp = 0, 0, 0, 0, 0
	if allowed != (linux.SKBuff{}) {
		return linux.EINVAL
	}
	skb.Mark, skb.Priority, skb.IngressIfindex = in.Mark, in.Priority, in.IngressIfindex
	skb.Tstamp, skb.CB = in.Tstamp, in.CB
	if in.WireLen != 0 {
		if in.WireLen < skb.Len || in.WireLen > gsoMaxSize {
			return linux.EINVAL
		}
		skb.WireLen = in.WireLen
	}
	if in.GSOSegs > gsoMaxSegs {
		return linux.EINVAL
	}
	skb.GSOSegs, skb.GSOSize, skb.Hwtstamp = in.GSOSegs, in.GSOSize, in.Hwtstamp
	return nil
}

// convertSkbOut is convert_skb_to___skb.
func convertSkbOut(skb, out *linux.SKBuff) {
	out.Mark, out.Priority, out.IngressIfindex, out.Ifindex = skb.Mark, skb.Priority, skb.IngressIfindex, skb.Ifindex
	out.Tstamp, out.CB, out.WireLen = skb.Tstamp, skb.CB, skb.WireLen
	out.GSOSegs, out.Hwtstamp = skb.GSOSegs, skb.Hwtstamp
}

// testRunRawTP is bpf_prog_test_run_raw_tp: the arguments in ctx_in, no
// data, no repeat; BPF_F_TEST_RUN_ON_CPU picks the CPU (ENXIO past the
// possible ones).
func (c *call) testRunRawTP(p *Prog, a *linux.BPFAttrTestRun) error {
	if a.DataIn != 0 || a.DataOut != 0 || a.CtxOut != 0 || a.Duration != 0 || a.Repeat != 0 || a.BatchSize != 0 {
		return linux.EINVAL
	}
	if a.CtxSizeIn < uint32(p.MaxCtxOffset()) || a.CtxSizeIn > rawTPArgsMax {
		return linux.EINVAL
	}
	if a.Flags&linux.BPF_F_TEST_RUN_ON_CPU == 0 && a.CPU != 0 {
		return linux.EINVAL
	}
	args := make([]byte, rawTPArgsMax)
	if c.t.Mem.CopyIn(a.CtxIn, args[:a.CtxSizeIn]) != nil {
		return linux.EFAULT
	}
	cpu := c.sys.env.CurrentCPU()
	if a.Flags&linux.BPF_F_TEST_RUN_ON_CPU != 0 && int(a.CPU) != cpu {
		if int(a.CPU) >= c.sys.env.PossibleCPUs() {
			return linux.ENXIO
		}
		cpu = int(a.CPU)
	}
	cs := c.sys.cpu(cpu)
	cs.mu.Lock()
	r0, err := p.run(cs.env, vm.Bytes(args[:a.CtxSizeIn], false))
	cs.mu.Unlock()
	if err != nil {
		return linux.EFAULT
	}
	if c.putU32(testRetvalOff, uint32(r0)) != nil {
		return linux.EFAULT
	}
	return nil
}
