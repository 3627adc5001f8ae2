package vm_test

import (
	"strings"
	"testing"
	"time"

	"hachi/bpf/vm"
)

// chainGroup is the eight dependent operations a group of the ALU chain
// does on r0 (r1 holds 0x5bd1e995), written once for the VM and once in Go.
const chainGroup = `add %r0, 0x9e37
xor %r0, %r1
mul %r0, 5
rsh %r0, 1
add32 %r0, %r1
or %r0, 0x100
sub %r0, 77
lsh %r0, 3
`

const chainGroups = 1000

func chainNative(r0, r1 uint64) uint64 {
	for i := 0; i < chainGroups; i++ {
		r0 += 0x9e37
		r0 ^= r1
		r0 *= 5
		r0 >>= 1
		r0 = uint64(uint32(r0) + uint32(r1))
		r0 |= 0x100
		r0 -= 77
		r0 <<= 3
	}
	return r0
}

func loopNative(n uint64) uint64 {
	r0 := uint64(0)
	for r1 := n; r1 != 0; r1-- {
		r0 += r1
	}
	return r0
}

// benchmarkModes runs src in the fast mode (standing in for the verifier:
// the benchmark programs are arithmetic the verifier accepts trivially)
// and in the checked mode, each against native Go.
func benchmarkModes(b *testing.B, src string, insns float64, native func() uint64) {
	img, err := vm.Load(assemble(b, src), vm.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fast", func(b *testing.B) { benchmarkAgainstNative(b, vm.NewVerified(img), insns, native) })
	b.Run("checked", func(b *testing.B) { benchmarkAgainstNative(b, vm.NewChecked(img), insns, native) })
}

// benchmarkAgainstNative runs prog and native alternately, checks they
// agree, and reports the VM's ns per instruction, native Go's, and the ratio.
func benchmarkAgainstNative(b *testing.B, prog *vm.Program, insns float64, native func() uint64) {
	env := vm.NewEnv()
	var inVM, inGo time.Duration
	for b.Loop() {
		t0 := time.Now()
		r0, err := prog.Run(env, vm.Region{})
		t1 := time.Now()
		want := native()
		inGo += time.Since(t1)
		inVM += t1.Sub(t0)
		if err != nil || r0 != want {
			b.Fatalf("vm: %#x, %v; native: %#x", r0, err, want)
		}
	}
	n := float64(b.N) * insns
	b.ReportMetric(float64(inVM.Nanoseconds())/n, "ns/insn")
	b.ReportMetric(float64(inGo.Nanoseconds())/n, "native-ns/insn")
	b.ReportMetric(float64(inVM)/float64(inGo), "x-native")
}

// BenchmarkALUChain: 8,000 dependent ALU instructions in a straight line.
func BenchmarkALUChain(b *testing.B) {
	src := "mov %r0, 1\nlddw %r1, 0x5bd1e995\n" + strings.Repeat(chainGroup, chainGroups) + "exit\n"
	benchmarkModes(b, src, 8*chainGroups+3, func() uint64 { return chainNative(1, 0x5bd1e995) })
}

// BenchmarkLoop: a counted loop of three instructions per iteration.
func BenchmarkLoop(b *testing.B) {
	const n = 10000
	src := "mov %r0, 0\nmov %r1, 10000\nloop:\nadd %r0, %r1\nsub %r1, 1\njne %r1, 0, loop\nexit\n"
	benchmarkModes(b, src, 3*n+3, func() uint64 { return loopNative(n) })
}
