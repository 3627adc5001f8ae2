//go:build linux

package sys

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"hachi/bpf/internal/hostbpf"
	"hachi/bpf/isa"
	"hachi/syscall/linux"
)

// The host kernel as an oracle: the same programs, attrs and packets go to
// Hachi's bpf() and to the host's, and the outcomes must agree. The tests
// run when the host lets this process use bpf() (root here) and skip,
// saying why, otherwise.

// hostBPF calls the host's bpf(2) with attr.
func hostBPF(cmd linux.BPFCmd, attr []byte) (int, error) {
	fd, err := hostbpf.Call(cmd, unsafe.Pointer(&attr[0]), uintptr(len(attr)))
	runtime.KeepAlive(attr)
	return fd, err
}

// hostMem hands out host addresses of Go buffers kept alive by the test.
type hostMem struct{ keep [][]byte }

func (m *hostMem) buf(b []byte) uint64 {
	if len(b) == 0 {
		b = make([]byte, 1)
	}
	m.keep = append(m.keep, b)
	return uint64(uintptr(unsafe.Pointer(&b[0])))
}

// needHostBPF skips the test unless the host loads a socket filter.
func needHostBPF(t *testing.T) {
	t.Helper()
	m := &hostMem{}
	a := linux.BPFAttrProgLoad{ProgType: uint32(linux.BPF_PROG_TYPE_SOCKET_FILTER), InsnCnt: 2,
		Insns: m.buf(isa.Encode(retProg(t, 0))), License: m.buf([]byte("GPL\x00"))}
	fd, err := hostBPF(linux.BPF_PROG_LOAD, raw(&a))
	if err != nil {
		t.Skipf("the host refuses bpf(BPF_PROG_LOAD) to this process (%s): host comparisons need root or CAP_BPF", errName(err))
	}
	unix.Close(fd)
}

// hostLoad loads insns on the host, returning the fd or the errno.
func hostLoad(typ linux.BPFProgType, insns []isa.Instruction) (int, string, error) {
	m := &hostMem{}
	logBuf := make([]byte, 1<<16)
	a := linux.BPFAttrProgLoad{ProgType: uint32(typ), InsnCnt: uint32(len(insns)),
		Insns: m.buf(isa.Encode(insns)), License: m.buf([]byte("GPL\x00")),
		LogLevel: 1, LogSize: uint32(len(logBuf)), LogBuf: m.buf(logBuf)}
	fd, err := hostBPF(linux.BPF_PROG_LOAD, raw(&a))
	return fd, string(bytes.TrimRight(logBuf, "\x00")), err
}

// trCase is a test run: a program, a packet, an optional context and
// output buffers, and changes to the attr.
type trCase struct {
	name    string
	prog    string
	data    []byte
	sizeIn  int // -1: len(data)
	dataOut int // size of the data_out buffer, 0: none
	sizeOut uint32
	ctxIn   []byte
	ctxOut  int
	mod     func(a *linux.BPFAttrTestRun)
}

// trResult is what a test run gives back (not the duration, which differs).
type trResult struct {
	err        string
	retval     uint32
	sizeOut    uint32
	dataOut    []byte
	ctxSizeOut uint32
	ctxOut     []byte
}

func (r trResult) String() string {
	return fmt.Sprintf("%s retval=%d size_out=%d data=%x ctx_size_out=%d ctx=%x",
		r.err, r.retval, r.sizeOut, r.dataOut, r.ctxSizeOut, r.ctxOut)
}

// runTestRun runs c through call, placing buffers with alloc.
func runTestRun(c trCase, fd int, alloc func([]byte) uint64, call func(a *linux.BPFAttrTestRun) error) trResult {
	a := linux.BPFAttrTestRun{ProgFD: uint32(fd), DataSizeOut: c.sizeOut}
	if c.data != nil {
		a.DataIn = alloc(append([]byte(nil), c.data...))
	}
	a.DataSizeIn = uint32(len(c.data))
	if c.sizeIn >= 0 {
		a.DataSizeIn = uint32(c.sizeIn)
	}
	var out, ctxOut []byte
	if c.dataOut > 0 {
		out = make([]byte, c.dataOut)
		a.DataOut = alloc(out)
	}
	if c.ctxIn != nil {
		a.CtxIn, a.CtxSizeIn = alloc(append([]byte(nil), c.ctxIn...)), uint32(len(c.ctxIn))
	}
	if c.ctxOut > 0 {
		ctxOut = make([]byte, c.ctxOut)
		a.CtxOut, a.CtxSizeOut = alloc(ctxOut), uint32(c.ctxOut)
	}
	if c.mod != nil {
		c.mod(&a)
	}
	err := call(&a)
	r := trResult{err: errName(err), retval: a.Retval, sizeOut: a.DataSizeOut, ctxSizeOut: a.CtxSizeOut}
	if err == nil || err == linux.ENOSPC {
		r.dataOut, r.ctxOut = out, ctxOut
	}
	return r
}

// testRunPrograms are the programs of the test-run comparison.
var testRunPrograms = map[string]struct {
	typ linux.BPFProgType
	src string
}{
	"xdp-pass": {linux.BPF_PROG_TYPE_XDP, "mov %r0, 2\nexit"},
	// Reads data, data_end and data_meta, checks bounds, writes the
	// packet and the metadata, returns a byte and the length.
	"xdp-rw": {linux.BPF_PROG_TYPE_XDP, `
		ldxw %r2, [%r1+0]
		ldxw %r3, [%r1+4]
		ldxw %r8, [%r1+8]
		mov %r4, %r2
		add %r4, 14
		jgt %r4, %r3, +11
		ldxb %r0, [%r2+12]
		stb [%r2+0], 0x55
		mov %r7, %r8
		add %r7, 4
		jgt %r7, %r2, +1
		stw [%r8+0], 0x11223344
		mov %r9, %r3
		sub %r9, %r2
		lsh %r9, 8
		add %r0, %r9
		exit
		mov %r0, 1
		exit`},
	// Reads ingress_ifindex and rx_queue_index.
	"xdp-rxq": {linux.BPF_PROG_TYPE_XDP, `
		ldxw %r0, [%r1+12]
		lsh %r0, 8
		ldxw %r2, [%r1+16]
		add %r0, %r2
		exit`},
	// Copies __sk_buff fields to cb[] and returns two header words
	// read with LD_ABS.
	"skb-fields": {linux.BPF_PROG_TYPE_SOCKET_FILTER, `
		mov %r6, %r1
		ldxw %r2, [%r6+0]
		stxw [%r6+48], %r2
		ldxw %r2, [%r6+16]
		stxw [%r6+52], %r2
		ldxw %r2, [%r6+4]
		stxw [%r6+56], %r2
		ldxw %r2, [%r6+8]
		ldxw %r3, [%r6+32]
		add %r2, %r3
		ldxw %r3, [%r6+40]
		lsh %r3, 8
		add %r2, %r3
		ldxw %r3, [%r6+36]
		lsh %r3, 16
		add %r2, %r3
		stxw [%r6+60], %r2
		ldxw %r2, [%r6+68]
		ldxw %r3, [%r6+84]
		add %r2, %r3
		ldxw %r3, [%r6+12]
		add %r2, %r3
		ldxw %r3, [%r6+20]
		add %r2, %r3
		ldxw %r3, [%r6+24]
		add %r2, %r3
		ldxw %r3, [%r6+28]
		add %r2, %r3
		ldxw %r3, [%r6+44]
		add %r2, %r3
		ldxw %r3, [%r6+64]
		add %r2, %r3
		stxw [%r6+64], %r2
		ldabsb 0
		mov %r7, %r0
		ldabsh 2
		lsh %r7, 16
		add %r0, %r7
		exit`},
	"skb-pass": {linux.BPF_PROG_TYPE_SOCKET_FILTER, "mov %r0, 7\nexit"},
	"kprobe":   {linux.BPF_PROG_TYPE_KPROBE, "mov %r0, 0\nexit"},
	"tp":       {linux.BPF_PROG_TYPE_TRACEPOINT, "mov %r0, 0\nexit"},
}

// frame builds an Ethernet frame: destination MAC, EtherType, payload.
func frame(dst []byte, etherType uint16, payload []byte) []byte {
	f := append([]byte(nil), dst...)
	f = append(f, 0x02, 0, 0, 0, 0, 1, byte(etherType>>8), byte(etherType))
	return append(f, payload...)
}

func ipv4Payload(n int) []byte {
	p := []byte{0x45, 0, 0, byte(n), 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	for len(p) < n {
		p = append(p, byte(len(p)))
	}
	return p
}

func skbCtx(mod func(s *linux.SKBuff)) []byte {
	var s linux.SKBuff
	mod(&s)
	return append([]byte(nil), raw(&s)...)
}

func xdpCtx(data, dataEnd uint32, mod func(m *linux.XDPMd)) []byte {
	m := linux.XDPMd{Data: data, DataEnd: dataEnd}
	if mod != nil {
		mod(&m)
	}
	return append([]byte(nil), raw(&m)...)
}

func testRunCases() []trCase {
	zero := make([]byte, 6)
	other := []byte{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}
	bcast := bytes.Repeat([]byte{0xff}, 6)
	mcast := []byte{0x01, 0x00, 0x5e, 0, 0, 1}
	v4 := frame(other, 0x0800, ipv4Payload(40))
	v6 := frame(zero, 0x86dd, append([]byte{0x60, 0, 0, 0, 0, 8, 17, 64}, bytes.Repeat([]byte{0xfe, 0x80}, 20)...))
	big := bytes.Repeat([]byte{7}, 5000)
	cases := []trCase{
		{name: "xdp 14 bytes", prog: "xdp-pass", data: v4[:14], dataOut: 64},
		{name: "xdp 13 bytes", prog: "xdp-pass", data: v4[:13], dataOut: 64},
		{name: "xdp empty", prog: "xdp-pass", data: []byte{}, dataOut: 64},
		{name: "xdp rw", prog: "xdp-rw", data: v4, dataOut: 128},
		{name: "xdp rw short packet", prog: "xdp-rw", data: v4[:14], dataOut: 128},
		{name: "xdp largest linear", prog: "xdp-rw", data: big[:3520], dataOut: 8192},
		{name: "xdp one byte in a fragment", prog: "xdp-rw", data: big[:3521], dataOut: 8192},
		{name: "xdp fragments", prog: "xdp-rw", data: big, dataOut: 8192},
		{name: "xdp fragments, short out", prog: "xdp-pass", data: big, dataOut: 8192, sizeOut: 4000},
		{name: "xdp fragments, out shorter than them", prog: "xdp-pass", data: big, dataOut: 8192, sizeOut: 1000},
		{name: "xdp short data_out", prog: "xdp-rw", data: v4, dataOut: 128, sizeOut: 10},
		{name: "xdp no data_out", prog: "xdp-rw", data: v4},
		{name: "xdp data_in NULL", prog: "xdp-pass", data: nil, sizeIn: 20, dataOut: 64},
		{name: "xdp repeat", prog: "xdp-rw", data: v4, dataOut: 128, mod: func(a *linux.BPFAttrTestRun) { a.Repeat = 5 }},
		{name: "xdp flags", prog: "xdp-pass", data: v4, mod: func(a *linux.BPFAttrTestRun) { a.Flags = linux.BPF_F_TEST_RUN_ON_CPU }},
		{name: "xdp batch without live frames", prog: "xdp-pass", data: v4, mod: func(a *linux.BPFAttrTestRun) { a.BatchSize = 4 }},
		{name: "xdp cpu", prog: "xdp-pass", data: v4, mod: func(a *linux.BPFAttrTestRun) { a.CPU = 1 }},
		{name: "xdp meta", prog: "xdp-rw", data: v4, dataOut: 128, ctxIn: xdpCtx(8, uint32(len(v4)), nil), ctxOut: 24},
		{name: "xdp meta 36", prog: "xdp-rw", data: v4, ctxIn: xdpCtx(36, uint32(len(v4)), nil)},
		{name: "xdp meta unaligned", prog: "xdp-rw", data: v4, ctxIn: xdpCtx(6, uint32(len(v4)), nil)},
		{name: "xdp data_end mismatch", prog: "xdp-rw", data: v4, ctxIn: xdpCtx(0, 10, nil)},
		{name: "xdp data_meta set", prog: "xdp-rw", data: v4, ctxIn: xdpCtx(0, uint32(len(v4)), func(m *linux.XDPMd) { m.DataMeta = 1 })},
		{name: "xdp rxq", prog: "xdp-rxq", data: v4},
		{name: "xdp rxq, ingress lo", prog: "xdp-rxq", data: v4,
			ctxIn: xdpCtx(0, uint32(len(v4)), func(m *linux.XDPMd) { m.IngressIfindex = 1 })},
		{name: "xdp data_end inside the data", prog: "xdp-rw", data: v4, dataOut: 128, ctxIn: xdpCtx(0, 20, nil), ctxOut: 24},
		{name: "xdp meta past data_end", prog: "xdp-rw", data: v4, ctxIn: xdpCtx(24, 20, nil)},
		{name: "xdp meta 216", prog: "xdp-rw", data: big[:300], ctxIn: xdpCtx(216, 300, nil)},
		{name: "xdp meta 220", prog: "xdp-rw", data: big[:300], ctxIn: xdpCtx(220, 300, nil)},
		{name: "xdp meta leaves 13 bytes", prog: "xdp-rw", data: v4[:21], ctxIn: xdpCtx(8, 21, nil)},
		{name: "xdp ingress lo", prog: "xdp-rw", data: v4, dataOut: 128, ctxOut: 24,
			ctxIn: xdpCtx(0, uint32(len(v4)), func(m *linux.XDPMd) { m.IngressIfindex = 1 })},
		{name: "xdp rx queue 1", prog: "xdp-rw", data: v4,
			ctxIn: xdpCtx(0, uint32(len(v4)), func(m *linux.XDPMd) { m.IngressIfindex, m.RxQueueIndex = 1, 1 })},
		{name: "xdp rx queue without device", prog: "xdp-rw", data: v4,
			ctxIn: xdpCtx(0, uint32(len(v4)), func(m *linux.XDPMd) { m.RxQueueIndex = 1 })},
		{name: "xdp unknown device", prog: "xdp-rw", data: v4,
			ctxIn: xdpCtx(0, uint32(len(v4)), func(m *linux.XDPMd) { m.IngressIfindex = 100000 })},
		{name: "xdp egress", prog: "xdp-rw", data: v4,
			ctxIn: xdpCtx(0, uint32(len(v4)), func(m *linux.XDPMd) { m.EgressIfindex = 1 })},
		{name: "xdp ctx out short", prog: "xdp-rw", data: v4, ctxIn: xdpCtx(0, uint32(len(v4)), nil), ctxOut: 8},
		{name: "xdp ctx in larger, zero tail", prog: "xdp-rw", data: v4, ctxIn: append(xdpCtx(0, uint32(len(v4)), nil), 0, 0, 0, 0)},
		{name: "xdp ctx in larger, non-zero tail", prog: "xdp-rw", data: v4, ctxIn: append(xdpCtx(0, uint32(len(v4)), nil), 0, 1, 0, 0)},
		{name: "xdp ctx size without pointer", prog: "xdp-rw", data: v4, mod: func(a *linux.BPFAttrTestRun) { a.CtxSizeIn = 24 }},
		{name: "xdp ctx out size without pointer", prog: "xdp-rw", data: v4, mod: func(a *linux.BPFAttrTestRun) { a.CtxSizeOut = 24 }},
		{name: "skb ipv4 to another host", prog: "skb-fields", data: v4, dataOut: 128},
		{name: "skb 14 bytes", prog: "skb-fields", data: v4[:14], dataOut: 128},
		{name: "skb 13 bytes", prog: "skb-fields", data: v4[:13], dataOut: 128},
		{name: "skb largest", prog: "skb-pass", data: big[:3712], dataOut: 8192},
		{name: "skb too large", prog: "skb-pass", data: big[:3713], dataOut: 8192},
		{name: "skb short data_out", prog: "skb-pass", data: v4, dataOut: 64, sizeOut: 20},
		{name: "skb data_in NULL", prog: "skb-pass", data: nil, sizeIn: 40},
		{name: "skb cpu", prog: "skb-pass", data: v4, mod: func(a *linux.BPFAttrTestRun) { a.CPU = 1 }},
		{name: "skb flags", prog: "skb-pass", data: v4, mod: func(a *linux.BPFAttrTestRun) { a.Flags = linux.BPF_F_TEST_RUN_ON_CPU }},
		{name: "skb repeat", prog: "skb-fields", data: v4, dataOut: 128, mod: func(a *linux.BPFAttrTestRun) { a.Repeat = 3 }},
	}
	ctxCases := []struct {
		name string
		data []byte
		ctx  func(s *linux.SKBuff)
	}{
		{"mark priority cb", v4, func(s *linux.SKBuff) { s.Mark, s.Priority, s.CB = 5, 6, [5]uint32{1, 2, 3, 4, 5} }},
		{"host address", frame(zero, 0x0800, ipv4Payload(30)), func(s *linux.SKBuff) {}},
		{"broadcast", frame(bcast, 0x0800, ipv4Payload(30)), func(s *linux.SKBuff) {}},
		{"multicast", frame(mcast, 0x0800, ipv4Payload(30)), func(s *linux.SKBuff) {}},
		{"ipv6", v6, func(s *linux.SKBuff) {}},
		{"arp", frame(bcast, 0x0806, make([]byte, 28)), func(s *linux.SKBuff) {}},
		{"802.3 raw", frame(other, 0x0040, append([]byte{0xff, 0xff}, make([]byte, 30)...)), func(s *linux.SKBuff) {}},
		{"802.2", frame(other, 0x0040, append([]byte{0xaa, 0xaa}, make([]byte, 30)...)), func(s *linux.SKBuff) {}},
		{"ifindex lo", v4, func(s *linux.SKBuff) { s.Ifindex = 1 }},
		{"ifindex unknown", v4, func(s *linux.SKBuff) { s.Ifindex = 100000 }},
		{"ingress ifindex", v4, func(s *linux.SKBuff) { s.IngressIfindex = 9 }},
		{"wire_len", v4, func(s *linux.SKBuff) { s.WireLen = 100 }},
		{"wire_len short", v4, func(s *linux.SKBuff) { s.WireLen = 3 }},
		{"gso", v4, func(s *linux.SKBuff) { s.GSOSegs, s.GSOSize = 3, 1000 }},
		{"gso_segs too many", v4, func(s *linux.SKBuff) { s.GSOSegs = 70000 }},
		{"tstamp", v4, func(s *linux.SKBuff) { s.Tstamp, s.Hwtstamp = 123, 456 }},
		{"queue_mapping set", v4, func(s *linux.SKBuff) { s.QueueMapping = 1 }},
		{"hash set", v4, func(s *linux.SKBuff) { s.Hash = 1 }},
	}
	for _, cc := range ctxCases {
		cases = append(cases, trCase{name: "skb ctx " + cc.name, prog: "skb-fields", data: cc.data, dataOut: 128,
			ctxIn: skbCtx(cc.ctx), ctxOut: 192})
	}
	cases = append(cases,
		trCase{name: "skb ctx out short", prog: "skb-fields", data: v4, ctxIn: skbCtx(func(*linux.SKBuff) {}), ctxOut: 100},
		trCase{name: "skb ctx in, no out", prog: "skb-fields", data: v4, dataOut: 128, ctxIn: skbCtx(func(s *linux.SKBuff) { s.Mark = 3 })},
		trCase{name: "skb ctx out only", prog: "skb-fields", data: v4, dataOut: 128, ctxOut: 192},
		trCase{name: "skb ctx larger, non-zero tail", prog: "skb-fields", data: v4, ctxIn: append(skbCtx(func(*linux.SKBuff) {}), 1)},
		trCase{name: "kprobe", prog: "kprobe", data: v4},
		trCase{name: "tracepoint", prog: "tp", data: v4},
	)
	for i := range cases {
		if cases[i].sizeIn == 0 {
			cases[i].sizeIn = -1
		}
	}
	return cases
}

// knownTestRunDiffs are the cases where Hachi and the host disagree
// because of another package, with the reason; the test fails when one of
// them starts to agree, so the list stays true.
var knownTestRunDiffs = map[string]string{}

// TestTestRunMatchesHost runs every test-run case on Hachi and on the host
// kernel and compares errno, return value, data and context out.
func TestTestRunMatchesHost(t *testing.T) {
	needHostBPF(t)
	s := newSystem()
	p := newProc(t, s)
	hachiFD, hostFD := map[string]int{}, map[string]int{}
	for name, pr := range testRunPrograms {
		insns := asmProg(t, pr.src)
		hfd, lg, err := hostLoad(pr.typ, insns)
		if err != nil {
			t.Fatalf("host refuses %s: %s\n%s", name, errName(err), lg)
		}
		defer unix.Close(hfd)
		hostFD[name] = hfd
		hachiFD[name] = p.loadProg(pr.typ, insns)
	}
	for _, c := range testRunCases() {
		reason, known := knownTestRunDiffs[c.name]
		hm := &hostMem{}
		host := runTestRun(c, hostFD[c.prog], hm.buf, func(a *linux.BPFAttrTestRun) error {
			_, err := hostBPF(linux.BPF_PROG_TEST_RUN, raw(a))
			return err
		})
		hachi := runTestRun(c, hachiFD[c.prog], p.buf, func(a *linux.BPFAttrTestRun) error {
			_, err := sysCall(p, linux.BPF_PROG_TEST_RUN, a)
			return err
		})
		switch same := host.String() == hachi.String(); {
		case !same && !known:
			t.Errorf("%s:\n host  %v\n hachi %v", c.name, host, hachi)
		case !same:
			t.Logf("known disagreement, %s: %s\n host  %v\n hachi %v", c.name, reason, host, hachi)
		case known:
			t.Errorf("%s now agrees with the host: remove it from knownTestRunDiffs", c.name)
		}
	}
}

// hostMapCreate makes an array map on the host.
func hostMapCreate(t *testing.T) int {
	a := linux.BPFAttrMapCreate{MapType: uint32(linux.BPF_MAP_TYPE_ARRAY), KeySize: 4, ValueSize: 8, MaxEntries: 1}
	fd, err := hostBPF(linux.BPF_MAP_CREATE, raw(&a))
	if err != nil {
		t.Fatalf("host map create: %s", errName(err))
	}
	return fd
}

// TestTagMatchesHost checks what bpf_prog_calc_tag hashes: programs with
// and without map references (whose descriptors differ between the two
// kernels and must not change the tag). The host (6.18) hashes with
// SHA-256, Hachi like Linux 6.1 with SHA-1: the test compares the host's tag
// with SHA-256 over Hachi's tag input, and Hachi's tag with its SHA-1.
func TestTagMatchesHost(t *testing.T) {
	needHostBPF(t)
	s := newSystem()
	p := newProc(t, s)
	hm := hostMapCreate(t)
	defer unix.Close(hm)
	pm := p.createMap(linux.BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0)
	srcs := []string{
		"mov %r0, 0\nexit",
		"lddw %r1, map_fd MAP\nmov %r0, 1\nexit",
		"lddw %r0, map_value MAP, 4\nldxw %r0, [%r0+0]\nexit",
		"lddw %r2, 0x1122334455667788\nmov %r0, %r2\nexit",
	}
	for _, src := range srcs {
		tagOf := func(fd int, call func(linux.BPFCmd, []byte) error) [8]byte {
			var info linux.BPFProgInfo
			a := linux.BPFAttrInfo{BPFFD: uint32(fd), InfoLen: uint32(unsafe.Sizeof(info))}
			ib := raw(&info)
			if call == nil {
				a.Info = uint64(uintptr(unsafe.Pointer(&info)))
				if _, err := hostBPF(linux.BPF_OBJ_GET_INFO_BY_FD, raw(&a)); err != nil {
					t.Fatal(errName(err))
				}
			} else {
				a.Info = p.buf(ib)
				if err := call(linux.BPF_OBJ_GET_INFO_BY_FD, raw(&a)); err != nil {
					t.Fatal(errName(err))
				}
			}
			runtime.KeepAlive(ib)
			return info.Tag
		}
		hfd, lg, err := hostLoad(linux.BPF_PROG_TYPE_SOCKET_FILTER, asmProg(t, strings.ReplaceAll(src, "MAP", fmt.Sprint(hm))))
		if err != nil {
			t.Fatalf("host: %s\n%s", errName(err), lg)
		}
		pfd := p.loadProg(linux.BPF_PROG_TYPE_SOCKET_FILTER, asmProg(t, strings.ReplaceAll(src, "MAP", fmt.Sprint(pm))))
		host := tagOf(hfd, nil)
		hachi := tagOf(pfd, func(cmd linux.BPFCmd, attr []byte) error {
			addr := p.buf(attr)
			_, err := s.Call(p.tk, uint32(cmd), addr, uint32(len(attr)))
			return err
		})
		unix.Close(hfd)
		f, _ := p.tk.Files.Get(pfd)
		input := tagInput(f.Object().(*Prog).insns)
		f.DecRef()
		h256, h1 := sha256.Sum256(input), sha1.Sum(input)
		if !bytes.Equal(host[:], h256[:8]) || !bytes.Equal(hachi[:], h1[:8]) {
			t.Errorf("%q: tag %x (sha1 of the input %x), host %x (sha256 of the input %x)", src, hachi, h1[:8], host, h256[:8])
		}
	}
}

// TestRawTPMatchesHost compares raw tracepoint test runs with the host.
func TestRawTPMatchesHost(t *testing.T) {
	needHostBPF(t)
	insns := asmProg(t, "ldxdw %r0, [%r1+8]\nexit")
	hfd, lg, err := hostLoad(linux.BPF_PROG_TYPE_RAW_TRACEPOINT, insns)
	if err != nil {
		t.Fatalf("host: %s\n%s", errName(err), lg)
	}
	defer unix.Close(hfd)
	s := newSystem()
	p := newProc(t, s)
	pfd := p.loadProg(linux.BPF_PROG_TYPE_RAW_TRACEPOINT, insns)
	args := append(u64(1), u64(77)...)
	for _, c := range []struct {
		name string
		mod  func(a *linux.BPFAttrTestRun)
	}{
		{"plain", func(*linux.BPFAttrTestRun) {}},
		{"on cpu 1", func(a *linux.BPFAttrTestRun) { a.Flags, a.CPU = linux.BPF_F_TEST_RUN_ON_CPU, 1 }},
		{"on cpu 100000", func(a *linux.BPFAttrTestRun) { a.Flags, a.CPU = linux.BPF_F_TEST_RUN_ON_CPU, 100000 }},
		{"cpu without flag", func(a *linux.BPFAttrTestRun) { a.CPU = 1 }},
		{"short args", func(a *linux.BPFAttrTestRun) { a.CtxSizeIn = 8 }},
		{"13 args", func(a *linux.BPFAttrTestRun) { a.CtxSizeIn = 104 }},
		{"repeat", func(a *linux.BPFAttrTestRun) { a.Repeat = 2 }},
		{"data out", func(a *linux.BPFAttrTestRun) { a.DataSizeOut = 8 }},
		{"ctx out", func(a *linux.BPFAttrTestRun) { a.CtxSizeOut = 8 }},
	} {
		hm := &hostMem{}
		ha := linux.BPFAttrTestRun{ProgFD: uint32(hfd), CtxIn: hm.buf(append(append([]byte(nil), args...), make([]byte, 96)...)), CtxSizeIn: 16}
		c.mod(&ha)
		if ha.CtxSizeOut != 0 {
			ha.CtxOut = hm.buf(make([]byte, 8))
		}
		_, herr := hostBPF(linux.BPF_PROG_TEST_RUN, raw(&ha))
		pa := linux.BPFAttrTestRun{ProgFD: uint32(pfd), CtxIn: p.buf(append(append([]byte(nil), args...), make([]byte, 96)...)), CtxSizeIn: 16}
		c.mod(&pa)
		if pa.CtxSizeOut != 0 {
			pa.CtxOut = p.buf(make([]byte, 8))
		}
		_, perr := sysCall(p, linux.BPF_PROG_TEST_RUN, &pa)
		if errName(herr) != errName(perr) || ha.Retval != pa.Retval {
			t.Errorf("%s: hachi %s retval %d; host %s retval %d", c.name, errName(perr), pa.Retval, errName(herr), ha.Retval)
		}
	}
}
