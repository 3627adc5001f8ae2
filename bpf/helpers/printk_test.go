package helpers_test

import (
	"fmt"
	"testing"
	"unsafe"

	"hachi/bpf/helpers"
	"hachi/bpf/helpers/helperstest"
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

const testCPUs = 4

// userLimit is the test kernel's TASK_SIZE: user addresses are small, so
// that Go's heap (where the tests' kernel memory lives) is above it.
const userLimit = 1 << 20

// allCaps loads programs as root.
var allCaps = helpers.Caps{BPF: true, Perfmon: true}

// testSet is a Set over a helperstest kernel with the helpers of kprobe
// programs, which may call every helper of the table.
type testSet struct {
	*helpers.Set
	impl vm.Helpers
}

func newTestSet() (*testSet, *helperstest.Kernel) {
	k := &helperstest.Kernel{Limit: userLimit, Tasks: map[uint32]helpers.Task{}}
	s := helpers.New(k, testCPUs)
	impl, _ := s.ForProgType(linux.BPF_PROG_TYPE_KPROBE, allCaps)
	return &testSet{s, impl}, k
}

// call calls helper id as an unchecked program would.
func (s *testSet) call(env *vm.Env, id linux.BPFFuncID, r1, r2, r3, r4, r5 uint64) uint64 {
	return s.impl[id](env, r1, r2, r3, r4, r5)
}

// addr is the address of b, as a program would hold it.
func addr(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) }

func cstr(s string) []byte { return append([]byte(s), 0) }

// printk calls bpf_trace_printk as an unchecked program would, and returns
// its result and the traced line.
func printk(s *testSet, k *helperstest.Kernel, format string, args ...uint64) (int64, string) {
	env := vm.NewEnv()
	f := cstr(format)
	var a [3]uint64
	copy(a[:], args)
	r := int64(s.call(env, linux.BPF_FUNC_trace_printk, addr(f), uint64(len(f)), a[0], a[1], a[2]))
	lines := k.Lines()
	if len(lines) == 0 {
		return r, "<none>"
	}
	return r, lines[0].Msg
}

// TestTracePrintkFormats checks bstr_printf's output and return value for
// each allowed conversion, and EINVAL for what bpf_bprintf_prepare refuses.
func TestTracePrintkFormats(t *testing.T) {
	s, k := newTestSet()
	str := cstr("hello")
	k.KernelMemory(str)
	ip4 := []byte{192, 168, 1, 7}
	k.KernelMemory(ip4)
	ip6 := []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd}
	k.KernelMemory(ip6)
	k.AddSymbol("do_sys_open", 0xffffffff81000000, 0x200)
	user := cstr("from user")
	k.UserMemory(0x10000, user)
	neg := uint64(1<<64 - 5)
	for _, c := range []struct {
		format string
		args   []uint64
		want   string // "" with err set
		err    linux.Errno
	}{
		{"plain\n", nil, "plain\n", 0},
		{"%d %i %u", []uint64{neg, neg, neg}, "-5 -5 4294967291", 0},
		{"%ld %lu %lld %llu", []uint64{neg, neg, neg}, "", linux.EINVAL},
		{"%ld %lu %lld", []uint64{neg, neg, neg}, "-5 18446744073709551611 -5", 0},
		{"%x %X %lx %llX", []uint64{0xabcdef, 0xabcdef, 1 << 40}, "", linux.EINVAL},
		{"%x %X %lx", []uint64{0xabcdef, 0xabcdef, 1<<40 | 0xf}, "abcdef ABCDEF 1000000000f", 0},
		{"[%5d] [%-5d] [%05d]", []uint64{42, 42, 42}, "[   42] [42   ] [00042]", 0},
		{"[%+d] [% d] [%+d]", []uint64{7, 7, neg}, "[+7] [ 7] [-5]", 0},
		{"[%-05d] [%08x] [%+u]", []uint64{3, 0xbeef, 9}, "[3    ] [0000beef] [9]", 0},
		{"%c%c%c", []uint64{'a', 'b', 'c'}, "abc", 0},
		{"[%3c]", []uint64{'z'}, "[  z]", 0},
		{"%s!", []uint64{addr(str)}, "hello!", 0},
		{"[%8s] [%-7s]", []uint64{addr(str), addr(str)}, "[   hello] [hello  ]", 0},
		{"%s|", []uint64{0x1234}, "|", 0}, // unreadable: empty
		{"%pks %pus", []uint64{addr(str), 0x10000}, "hello from user", 0},
		{"%pI4 %pi4", []uint64{addr(ip4), addr(ip4)}, "192.168.1.7 192.168.001.007", 0},
		{"%pI6", []uint64{addr(ip6)}, "2001:0db8:0000:0000:0000:0000:0000:abcd", 0},
		{"%pi6", []uint64{addr(ip6)}, "20010db800000000000000000000abcd", 0},
		{"%px", []uint64{0xffffffff81000010}, "ffffffff81000010", 0},
		{"%p %p", []uint64{0, neg}, "0000000000000000 fffffffffffffffb", 0},
		{"%pS %ps", []uint64{0xffffffff81000010, 0xffffffff81000010}, "do_sys_open+0x10/0x200 do_sys_open", 0},
		{"%pS", []uint64{0x1000}, "0x1000", 0},
		{"%pB", []uint64{0xffffffff81000011}, "do_sys_open+0x11/0x200", 0},
		{"100%%", nil, "100%", 0},
		{"%pKabc|", []uint64{0}, "0000000000000000|", 0},     // letters after %p are eaten
		{"%d %d %d %d", []uint64{1, 2, 3}, "", linux.EINVAL}, // more conversions than arguments
		{"%d|%d|%d", nil, "0|0|0", 0},                        // trace_printk always has three arguments
		{"%.2d", []uint64{1}, "", linux.EINVAL},
		{"%hd", []uint64{1}, "", linux.EINVAL},
		{"%#x", []uint64{1}, "", linux.EINVAL},
		{"%n", []uint64{1}, "", linux.EINVAL},
		{"%sx", []uint64{addr(str)}, "", linux.EINVAL},
		{"%pQ", []uint64{1}, "", linux.EINVAL},
		{"%pI5", []uint64{1}, "", linux.EINVAL},
		{"bell\a", nil, "", linux.EINVAL},
		{"trailing %", nil, "", linux.EINVAL},
	} {
		t.Run(c.format, func(t *testing.T) {
			r, line := printk(s, k, c.format, c.args...)
			if c.err != 0 {
				if r != -int64(c.err) || line != "<none>" {
					t.Fatalf("got %d %q, want -%s and nothing printed", r, line, c.err.Name())
				}
				return
			}
			if line != c.want || r != int64(len(c.want)) {
				t.Fatalf("got %d %q, want %d %q", r, line, len(c.want), c.want)
			}
		})
	}
}

func TestTracePrintkLimits(t *testing.T) {
	s, k := newTestSet()
	env := vm.NewEnv()
	// The format must be NUL-terminated within fmt_size.
	f := []byte("abc")
	if r := int64(s.call(env, linux.BPF_FUNC_trace_printk, addr(f), 3, 0, 0, 0)); r != -int64(linux.EINVAL) {
		t.Fatalf("unterminated format: %d", r)
	}
	// A message longer than BPF_TRACE_PRINTK_SIZE is cut, its full length
	// returned.
	long := make([]byte, 2000)
	for i := range long {
		long[i] = 'a'
	}
	long[1999] = 0
	k.KernelMemory(long)
	r, line := printk(s, k, "%s", addr(long))
	if len(line) != 511 || r != 511 {
		t.Fatalf("strings are limited by MAX_BPRINTF_BUF: %d bytes, returned %d", len(line), r)
	}
	r, line = printk(s, k, "%s%s", addr(long), addr(long))
	if r != -int64(linux.ENOSPC) || line != "<none>" {
		t.Fatalf("a second string with no room left: %d %q, want ENOSPC", r, line)
	}
	big := cstr(string(long[:300]))
	k.KernelMemory(big)
	r, line = printk(s, k, "%s%s", addr(big), addr(big))
	if r != 300+210 || len(line) != 510 {
		t.Fatalf("a second string cut to the room left: %d %d", r, len(line))
	}
	wide := cstr(fmt.Sprintf("%01100d", 0)[:1100])
	r, line = printk(s, k, string(wide[:1100]))
	if r != 1100 || len(line) != 1023 {
		t.Fatalf("long message: returned %d, printed %d", r, len(line))
	}
}

func TestSnprintf(t *testing.T) {
	s, k := newTestSet()
	env := vm.NewEnv()
	str := cstr("xyz")
	k.KernelMemory(str)
	format := cstr("%d-%s-%lx")
	data := make([]byte, 24)
	putLE64(data, 1<<64-2)
	putLE64(data[8:], addr(str))
	putLE64(data[16:], 0xabc)
	out := make([]byte, 8)
	r := s.call(env, linux.BPF_FUNC_snprintf, addr(out), 8, addr(format), addr(data), 24)
	if r != uint64(len("-2-xyz-abc")+1) || string(out) != "-2-xyz-\x00" {
		t.Fatalf("snprintf into 8 bytes: %d %q", r, out)
	}
	if r := s.call(env, linux.BPF_FUNC_snprintf, 0, 0, addr(format), addr(data), 24); r != 11 {
		t.Fatalf("snprintf with no buffer: %d", r)
	}
	for _, n := range []uint64{7, 13 * 8} {
		if r := int64(s.call(env, linux.BPF_FUNC_snprintf, addr(out), 8, addr(format), addr(data), n)); r != -int64(linux.EINVAL) {
			t.Fatalf("data_len %d: %d", n, r)
		}
	}
	if r := int64(s.call(env, linux.BPF_FUNC_snprintf, addr(out), 8, addr(format), 0, 8)); r != -int64(linux.EINVAL) {
		t.Fatal("NULL data with a length")
	}
	if r := int64(s.call(env, linux.BPF_FUNC_snprintf, addr(out), 8, addr(format), addr(data), 16)); r != -int64(linux.EINVAL) {
		t.Fatalf("three conversions, two arguments: %d", r)
	}
	// Twelve arguments, the most bpf_snprintf takes.
	many := cstr("%d%d%d%d%d%d%d%d%d%d%d%d")
	args := make([]byte, 96)
	for i := 0; i < 12; i++ {
		putLE64(args[i*8:], uint64(i%10))
	}
	out = make([]byte, 32)
	if r := s.call(env, linux.BPF_FUNC_snprintf, addr(out), 32, addr(many), addr(args), 96); r != 13 || string(out[:13]) != "012345678901\x00" {
		t.Fatalf("twelve arguments: %d %q", r, out)
	}
}

func putLE64(b []byte, v uint64) {
	for i := 0; i < 8; i++ {
		b[i] = byte(v >> (8 * i))
	}
}

func TestPrintkNesting(t *testing.T) {
	s, k := newTestSet()
	env := vm.NewEnv()
	f := cstr("x")
	for range helpers.MaxPrintNest {
		helpers.EnterPrint(s.Set, env)
	}
	if r := int64(s.call(env, linux.BPF_FUNC_trace_printk, addr(f), 2, 0, 0, 0)); r != -int64(linux.EBUSY) {
		t.Fatalf("printk nested past %d levels: %d", helpers.MaxPrintNest, r)
	}
	helpers.LeavePrint(s.Set, env)
	if r, line := printk(s, k, "x"); r != 1 || line != "x" {
		t.Fatalf("printk at the last level: %d %q", r, line)
	}
}

// ptrOf turns an address a helper returned back into a pointer.
func ptrOf(a uint64) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&a)) }

func TestCheckFormat(t *testing.T) {
	for _, c := range []struct {
		format string
		nargs  int
		ok     bool
	}{
		{"%d %s %pI4 %pks %c %lx", 6, true},
		{"%d %d", 1, false},
		{"%5.2f", 1, false},
		{"%s", 0, false},
		{"no conversions", 0, true},
		{"%d", 13, false},
	} {
		err := helpers.CheckFormat([]byte(c.format), c.nargs)
		if (err == nil) != c.ok {
			t.Errorf("%q with %d arguments: %v", c.format, c.nargs, err)
		}
	}
}
