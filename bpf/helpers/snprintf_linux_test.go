//go:build linux

package helpers_test

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"hachi/bpf/asm"
	"hachi/bpf/internal/hostbpf"
	"hachi/bpf/isa"
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// TestSnprintfMatchesLinux runs bpf_snprintf on the host kernel (a socket
// filter run with BPF_PROG_TEST_RUN) and on Hachi with the same formats
// and arguments, and requires the same result and output. String
// arguments point into a map value on Linux and into registered kernel
// memory here. Skipped where bpf(2) is not permitted.

func hostBPF(cmd linux.BPFCmd, attr unsafe.Pointer, size uintptr) (int, error) {
	return hostbpf.Call(cmd, attr, size)
}

func hostArray(t *testing.T, valueSize, flags uint32, value []byte) int {
	t.Helper()
	attr := linux.BPFAttrMapCreate{MapType: uint32(linux.BPF_MAP_TYPE_ARRAY), KeySize: 4, ValueSize: valueSize, MaxEntries: 1, MapFlags: flags}
	fd, err := hostBPF(linux.BPF_MAP_CREATE, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil {
		t.Skipf("host kernel refuses BPF_MAP_CREATE (%v): run as root on Linux to compare with it", err)
	}
	key := make([]byte, 4)
	v := make([]byte, valueSize)
	copy(v, value)
	elem := linux.BPFAttrMapElem{MapFD: uint32(fd), Key: uint64(uintptr(unsafe.Pointer(&key[0]))), Value: uint64(uintptr(unsafe.Pointer(&v[0])))}
	if _, err := hostBPF(linux.BPF_MAP_UPDATE_ELEM, unsafe.Pointer(&elem), unsafe.Sizeof(elem)); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(key)
	runtime.KeepAlive(v)
	return fd
}

func hostLookup(t *testing.T, fd int, size int) []byte {
	key, v := make([]byte, 4), make([]byte, size)
	elem := linux.BPFAttrMapElem{MapFD: uint32(fd), Key: uint64(uintptr(unsafe.Pointer(&key[0]))), Value: uint64(uintptr(unsafe.Pointer(&v[0])))}
	_, err := hostBPF(linux.BPF_MAP_LOOKUP_ELEM, unsafe.Pointer(&elem), unsafe.Sizeof(elem))
	runtime.KeepAlive(key)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// stringArg marks an argument as the address of the string at offset
// (low 16 bits) of the strings value.
const stringArg = 0xdead << 48

// snprintfProgram: out = map 0's value, fmt = map 1's value (frozen,
// read-only), data = map 2's value, whose string arguments it turns into
// addresses of map 3's value; r0 = bpf_snprintf(out, 128, fmt, data, n).
func snprintfProgram(fds [4]int, dataLen int) string {
	var b strings.Builder
	lookup := func(fd int, reg string) {
		fmt.Fprintf(&b, "mov %%r1, 0\nstxw [%%r10-4], %%r1\nlddw %%r1, map_fd %d\nmov %%r2, %%r10\nadd %%r2, -4\ncall 1\njeq %%r0, 0, fail\nmov %s, %%r0\n", fd, reg)
	}
	lookup(fds[0], "%r6")
	lookup(fds[2], "%r7")
	lookup(fds[3], "%r8")
	for i := 0; i < dataLen/8; i++ {
		fmt.Fprintf(&b, `ldxdw %%r1, [%%r7+%d]
mov %%r2, %%r1
rsh %%r2, 48
jne %%r2, 0xdead, +4
and %%r1, 0xffff
mov %%r2, %%r8
add %%r2, %%r1
stxdw [%%r7+%d], %%r2
`, i*8, i*8)
	}
	fmt.Fprintf(&b, "mov %%r1, %%r6\nmov %%r2, 128\nlddw %%r3, map_value %d, 0\nmov %%r4, %%r7\nmov %%r5, %d\ncall 165\nexit\nfail:\nmov %%r0, -1\nexit\n", fds[1], dataLen)
	return b.String()
}

func hostSnprintf(t *testing.T, format string, args []uint64, strs []byte) (int64, string) {
	t.Helper()
	out := hostArray(t, 128, 0, nil)
	defer syscall.Close(out)
	f := append([]byte(format), 0)
	fmtFD := hostArray(t, uint32(len(f)+7)&^7, linux.BPF_F_RDONLY_PROG, f)
	defer syscall.Close(fmtFD)
	freeze := linux.BPFAttrMapElem{MapFD: uint32(fmtFD)}
	if _, err := hostBPF(linux.BPF_MAP_FREEZE, unsafe.Pointer(&freeze), unsafe.Sizeof(freeze)); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 96)
	for i, a := range args {
		binary.LittleEndian.PutUint64(data[i*8:], a)
	}
	dataFD := hostArray(t, 96, 0, data)
	defer syscall.Close(dataFD)
	strFD := hostArray(t, 256, 0, strs)
	defer syscall.Close(strFD)
	insns, err := asm.Assemble(snprintfProgram([4]int{out, fmtFD, dataFD, strFD}, len(args)*8))
	if err != nil {
		t.Fatal(err)
	}
	code := isa.Encode(insns)
	license := []byte("GPL\x00")
	load := linux.BPFAttrProgLoad{ProgType: uint32(linux.BPF_PROG_TYPE_SOCKET_FILTER), InsnCnt: uint32(len(insns)),
		Insns: uint64(uintptr(unsafe.Pointer(&code[0]))), License: uint64(uintptr(unsafe.Pointer(&license[0])))}
	logBuf := make([]byte, 1<<16)
	load.LogLevel, load.LogSize, load.LogBuf = 1, uint32(len(logBuf)), uint64(uintptr(unsafe.Pointer(&logBuf[0])))
	prog, err := hostBPF(linux.BPF_PROG_LOAD, unsafe.Pointer(&load), unsafe.Sizeof(load))
	runtime.KeepAlive(code)
	runtime.KeepAlive(license)
	if err != nil {
		log := cString(logBuf)
		if err == linux.EINVAL && strings.Contains(log, "Invalid format string") {
			// The verifier checks a constant format (check_bpf_snprintf_call):
			// the program would have got EINVAL.
			return -int64(linux.EINVAL), ""
		}
		t.Fatalf("load: %v\n%s", err, log)
	}
	defer syscall.Close(prog)
	pkt := make([]byte, 64)
	run := linux.BPFAttrTestRun{ProgFD: uint32(prog), DataSizeIn: 64, DataIn: uint64(uintptr(unsafe.Pointer(&pkt[0]))), Repeat: 1}
	_, err = hostBPF(linux.BPF_PROG_TEST_RUN, unsafe.Pointer(&run), unsafe.Sizeof(run))
	runtime.KeepAlive(pkt)
	if err != nil {
		t.Fatal(err)
	}
	res := hostLookup(t, out, 128)
	return int64(int32(run.Retval)), cString(res)
}

func cString(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

func TestSnprintfMatchesLinux(t *testing.T) {
	s, k := newTestSet()
	strs := make([]byte, 256)
	copy(strs, "hello\x00\xc0\xa8\x01\x07\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xab\xcd\x00a somewhat longer string\x00")
	base := k.KernelMemory(strs)
	const (
		hello = stringArg | 0
		ip4   = stringArg | 6
		ip6   = stringArg | 10
		long  = stringArg | 27
	)
	neg := uint64(1<<64 - 5)
	for _, c := range []struct {
		format string
		args   []uint64
	}{
		{"plain", nil},
		{"%d %i %u", []uint64{neg, neg, neg}},
		{"%ld %lu %lld %llu", []uint64{neg, neg, neg, neg}},
		{"%x %X %lx %llX", []uint64{0xabcdef, 0xabcdef, 1<<40 | 0xf, 1 << 41}},
		{"[%5d] [%-5d] [%05d] [%+d] [% d]", []uint64{42, 42, 42, 7, 7}},
		{"[%-05d] [%08x] [%+u] [%+ld] [% 8d]", []uint64{3, 0xbeef, 9, neg, neg}},
		{"%c%c%c [%3c] [%-3c]", []uint64{'a', 'b', 'c', 'z', 'y'}},
		{"%s! [%8s] [%-8s] %s", []uint64{hello, hello, hello, long}},
		{"%pks", []uint64{hello}},
		{"%pI4 %pi4", []uint64{ip4, ip4}},
		{"%pI6 %pi6", []uint64{ip6, ip6}},
		{"%px %p", []uint64{0, 0}},
		{"100%% %%d", nil},
		{"%pKabc|%pxyz|", []uint64{0, 0}},
		{"%d %d", []uint64{1}},
		{"%.2d", []uint64{1}},
		{"%hd", []uint64{1}},
		{"%#x", []uint64{1}},
		{"%n", []uint64{1}},
		{"%sx", []uint64{hello}},
		{"%pQ", []uint64{1}},
		{"%pI5", []uint64{1}},
		{"trailing %", nil},
		{"%5%", nil},
		{"%lc %ls", []uint64{'a', hello}},
		{"%lld%lld%lld%lld%lld%lld%lld%lld%lld%lld%lld%lld", []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		{"%s%s%s%s", []uint64{long, long, long, long}},
		{"tab\there", nil},
	} {
		t.Run(c.format, func(t *testing.T) {
			wantRet, wantOut := hostSnprintf(t, c.format, c.args, strs)
			data := make([]byte, 96)
			for i, a := range c.args {
				if a>>48 == 0xdead {
					a = base + a&0xffff
				}
				binary.LittleEndian.PutUint64(data[i*8:], a)
			}
			f := append([]byte(c.format), 0)
			out := make([]byte, 128)
			env := vm.NewEnv()
			gotRet := int64(s.call(env, linux.BPF_FUNC_snprintf, addr(out), 128, addr(f), addr(data), uint64(len(c.args)*8)))
			gotOut := cString(out)
			if wantRet < 0 {
				gotOut = ""
				wantOut = ""
			}
			if gotRet != wantRet || gotOut != wantOut {
				t.Errorf("Hachi %d %q, Linux %d %q", gotRet, gotOut, wantRet, wantOut)
			}
		})
	}
}
