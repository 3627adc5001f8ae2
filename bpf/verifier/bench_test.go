package verifier_test

import (
	"testing"

	"hachi/bpf/asm"
	"hachi/bpf/helpers"
	"hachi/bpf/isa"
	"hachi/bpf/verifier"
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// Benchmarks: the largest realistic program and a loop that spends almost
// the whole budget of 1,000,000 processed instructions. References in the
// same run: vm.Load of the same program (the structural checks alone, the
// floor of any verifier), and, where this process may load programs, the
// host kernel's BPF_PROG_LOAD of the same bytecode (bench_host_test.go).
// ns/insn is per processed instruction.

// budgetLoop is a counted loop of 2 instructions per iteration whose
// verification processes 999,999 instructions, one short of the limit.
const budgetLoop = `
mov %r0, 0
mov %r1, 0
loop:
add %r0, 1
jlt %r0, 499998, loop
exit
`

func largestProgram(b *testing.B) *loaded {
	var largest *loaded
	for _, l := range allPrograms(b) {
		if largest == nil || len(l.insns) > len(largest.insns) {
			largest = l
		}
	}
	return largest
}

func benchVerify(b *testing.B, insns []isa.Instruction, opts verifier.Options) {
	b.ReportAllocs()
	var processed int
	for i := 0; i < b.N; i++ {
		p, err := verifier.Verify(insns, opts)
		if err != nil {
			b.Fatal(err)
		}
		processed = p.Stats.Processed
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(processed), "ns/insn")
	b.ReportMetric(float64(processed), "processed")
}

func BenchmarkVerify(b *testing.B) {
	set := helpers.New(kernel(), testCPUs)
	b.Run("largest", func(b *testing.B) {
		l := largestProgram(b)
		impl, protos := set.ForProgType(l.progType, helpers.Caps{BPF: true, Perfmon: true})
		b.Logf("%s: %d instructions", l.name, len(l.insns))
		benchVerify(b, l.insns, verifier.Options{ProgType: l.progType, Arch: l.arch, GPL: l.gpl, Maps: l.maps,
			Helpers: impl, Protos: protos})
	})
	b.Run("loop1M", func(b *testing.B) {
		insns, err := asm.Assemble(budgetLoop)
		if err != nil {
			b.Fatal(err)
		}
		benchVerify(b, insns, verifier.Options{ProgType: linux.BPF_PROG_TYPE_SOCKET_FILTER})
	})
}

// BenchmarkLoadReference is vm.Load of the same programs: decoding,
// jump and subprogram checks, pre-decoding, without any path exploration.
func BenchmarkLoadReference(b *testing.B) {
	set := helpers.New(kernel(), testCPUs)
	b.Run("largest", func(b *testing.B) {
		l := largestProgram(b)
		impl, _ := set.ForProgType(l.progType, helpers.Caps{BPF: true, Perfmon: true})
		res := &listResolver{l.maps}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := vm.Load(l.insns, vm.Options{Helpers: impl, Resolver: res}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("loop1M", func(b *testing.B) {
		insns, err := asm.Assemble(budgetLoop)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := vm.Load(insns, vm.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// listResolver lends a MapList's run-time objects to vm.Load.
type listResolver struct{ maps verifier.MapList }

func (r *listResolver) Map(_ isa.PseudoSource, ref int32) (*vm.MapHandle, error) {
	return r.maps[ref].Handle, nil
}

func (r *listResolver) MapValue(_ isa.PseudoSource, ref int32) (vm.Region, error) {
	return r.maps[ref].Value, nil
}

func (r *listResolver) KernelVariable(int32, int32) (vm.Region, error) {
	return vm.Region{}, linux.EINVAL
}

func (r *listResolver) Kfunc(int32, int16) (vm.HelperFunc, error) { return nil, linux.EINVAL }

func TestBudgetLoop(t *testing.T) {
	insns, err := asm.Assemble(budgetLoop)
	if err != nil {
		t.Fatal(err)
	}
	p, err := verifier.Verify(insns, verifier.Options{ProgType: linux.BPF_PROG_TYPE_SOCKET_FILTER})
	if err != nil {
		t.Fatal(err)
	}
	if p.Stats.Processed != verifier.MaxProcessed-1 {
		t.Errorf("processed %d, want %d", p.Stats.Processed, verifier.MaxProcessed-1)
	}
	// One more iteration is past the budget.
	over, _ := asm.Assemble(`
mov %r0, 0
mov %r1, 0
loop:
add %r0, 1
jlt %r0, 499999, loop
exit
`)
	if _, err := verifier.Verify(over, verifier.Options{ProgType: linux.BPF_PROG_TYPE_SOCKET_FILTER}); err == nil {
		t.Error("a loop past the budget was accepted")
	}
}
