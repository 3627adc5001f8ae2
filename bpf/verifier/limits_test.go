package verifier

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"hachi/bpf/asm"
	"hachi/bpf/isa"
	"hachi/bpf/log"
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// Linux's limits and the log's own errors, on programs too big to write
// by hand in the case files.

func expectErr(t *testing.T, err error, errno linux.Errno, msg string) {
	t.Helper()
	var verr *Error
	if !errors.As(err, &verr) {
		t.Fatalf("want %v %q, got %v", errno.Name(), msg, err)
	}
	if verr.Errno != errno || !strings.Contains(verr.Msg, msg) {
		t.Fatalf("want %v %q, got %v %q", errno.Name(), msg, verr.Errno.Name(), verr.Msg)
	}
}

func mustAssemble(t *testing.T, src string) []isa.Instruction {
	t.Helper()
	insns, err := asm.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	return insns
}

func socketFilter() Options { return Options{ProgType: linux.BPF_PROG_TYPE_SOCKET_FILTER} }

func TestEmptyProgram(t *testing.T) {
	_, err := Verify(nil, socketFilter())
	expectErr(t, err, linux.EINVAL, "empty program")
}

func TestProgramTooLarge(t *testing.T) {
	insns := make([]isa.Instruction, MaxInsns+1)
	_, err := Verify(insns, socketFilter())
	expectErr(t, err, linux.E2BIG, "too large")
}

func TestUnknownProgramType(t *testing.T) {
	_, err := Verify(mustAssemble(t, "mov %r0, 0\nexit"), Options{ProgType: linux.BPF_PROG_TYPE_LSM})
	expectErr(t, err, linux.EINVAL, "unknown program type")
}

// TestJumpSequences: BPF_COMPLEXITY_LIMIT_JMP_SEQ paths waiting at once.
func TestJumpSequences(t *testing.T) {
	// Each jump leaves its other way waiting; comparing two unknown
	// registers teaches nothing, so the waiting paths are pruned at the
	// next checkpoint once explored.
	program := func(jumps int) []isa.Instruction {
		var b strings.Builder
		b.WriteString("ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\n")
		for i := 0; i < jumps; i++ {
			b.WriteString("jeq %r2, %r3, +0\n")
		}
		b.WriteString("mov %r0, 0\nexit\n")
		return mustAssemble(t, b.String())
	}
	_, err := Verify(program(MaxPendingPaths+1), socketFilter())
	expectErr(t, err, linux.E2BIG, "The sequence of 8192 jumps is too complex.")
	p, err := Verify(program(MaxPendingPaths), socketFilter())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d waiting paths: processed %d", MaxPendingPaths, p.Stats.Processed)
}

// TestSubprogramLimit: BPF_MAX_SUBPROGS functions.
func TestSubprogramLimit(t *testing.T) {
	program := func(n int) []isa.Instruction {
		var b strings.Builder
		for i := 1; i < n; i++ {
			fmt.Fprintf(&b, "call local f%d\n", i)
		}
		b.WriteString("mov %r0, 0\nexit\n")
		for i := 1; i < n; i++ {
			fmt.Fprintf(&b, "f%d:\nmov %%r0, 0\nexit\n", i)
		}
		return mustAssemble(t, b.String())
	}
	if _, err := Verify(program(MaxSubprogs), socketFilter()); err != nil {
		t.Fatalf("%d subprograms: %v", MaxSubprogs, err)
	}
	_, err := Verify(program(MaxSubprogs+1), socketFilter())
	expectErr(t, err, linux.EINVAL, "too many subprograms")
}

// TestMapLimit: MAX_USED_MAPS distinct maps.
func TestMapLimit(t *testing.T) {
	program := func(n int) ([]isa.Instruction, MapList) {
		var b strings.Builder
		var maps MapList
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "lddw %%r1, map_fd %d\n", i)
			maps = append(maps, &Map{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 1,
				Handle: vm.NewMapHandle(i)})
		}
		b.WriteString("mov %r0, 0\nexit\n")
		return mustAssemble(t, b.String()), maps
	}
	insns, maps := program(MaxUsedMaps)
	opts := socketFilter()
	opts.Maps = maps
	if _, err := Verify(insns, opts); err != nil {
		t.Fatalf("%d maps: %v", MaxUsedMaps, err)
	}
	insns, opts.Maps = program(MaxUsedMaps + 1)
	_, err := Verify(insns, opts)
	expectErr(t, err, linux.E2BIG, "The total number of maps per program has reached the limit of 64")
}

// TestLogTooSmall: a log that does not fit fails the load with ENOSPC,
// even for a program that is fine (Linux 6.1's bpf_check).
func TestLogTooSmall(t *testing.T) {
	buf := make(log.Buffer, log.MinSize)
	l, err := log.New(log.Level2, 1, uint32(len(buf)), buf)
	if err != nil {
		t.Fatal(err)
	}
	opts := socketFilter()
	opts.Log = l
	_, err = Verify(mustAssemble(t, "mov %r0, 0\nmov %r1, 1\nmov %r2, 2\nmov %r3, 3\nexit"), opts)
	expectErr(t, err, linux.ENOSPC, "log buffer too small")
	if len(buf.String()) != log.MinSize-1 {
		t.Errorf("the log holds %d bytes, want the whole buffer less its NUL", len(buf.String()))
	}
}

// faultySink fails every write, like a log buffer in unmapped memory.
type faultySink struct{}

func (faultySink) WriteAt([]byte, int64) (int, error) { return 0, linux.EFAULT }

func TestLogFault(t *testing.T) {
	l, err := log.New(log.Level1, 1, 4096, faultySink{})
	if err != nil {
		t.Fatal(err)
	}
	opts := socketFilter()
	opts.Log = l
	_, err = Verify(mustAssemble(t, "mov %r0, 0\nexit"), opts)
	expectErr(t, err, linux.EFAULT, "fault writing the log")
}

func TestLogStats(t *testing.T) {
	buf := make(log.Buffer, 4096)
	l, err := log.New(log.Level1|log.LevelStats, 1, uint32(len(buf)), buf)
	if err != nil {
		t.Fatal(err)
	}
	opts := socketFilter()
	opts.Log = l
	p, err := Verify(mustAssemble(t, "stdw [%r10-16], 0\ncall local f\nexit\nf:\nstdw [%r10-8], 0\nmov %r0, 0\nexit"), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"verification time ", " usec\n", "stack depth 16+8\n", "processed 6 insns"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf.String())
		}
	}
	if fmt.Sprint(p.StackDepth) != "[16 8]" || fmt.Sprint(p.Subprogs) != "[0 3]" {
		t.Errorf("stack depths %v, subprograms %v", p.StackDepth, p.Subprogs)
	}
}

// TestXDPRewrite: context accesses of XDP programs are rewritten to XDPBuff.
func TestXDPRewrite(t *testing.T) {
	p, err := Verify(mustAssemble(t, "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nldxw %r4, [%r1+8]\nldxw %r0, [%r1+16]\nexit"),
		Options{ProgType: linux.BPF_PROG_TYPE_XDP})
	if err != nil {
		t.Fatal(err)
	}
	want := []isa.Instruction{
		{Opcode: isa.MemOpcode(isa.ClassLDX, isa.ModeMem, isa.SizeDW), Dst: isa.R2, Src: isa.R1, Offset: 0},
		{Opcode: isa.MemOpcode(isa.ClassLDX, isa.ModeMem, isa.SizeDW), Dst: isa.R3, Src: isa.R1, Offset: 8},
		{Opcode: isa.MemOpcode(isa.ClassLDX, isa.ModeMem, isa.SizeDW), Dst: isa.R4, Src: isa.R1, Offset: 16},
		{Opcode: isa.MemOpcode(isa.ClassLDX, isa.ModeMem, isa.SizeW), Dst: isa.R0, Src: isa.R1, Offset: 28},
	}
	for i, w := range want {
		if p.Insns[i] != w {
			t.Errorf("insn %d: %v, want %v", i, p.Insns[i], w)
		}
	}
}

// TestSameInsnDifferentPointers: a rewritten context access may not also
// reach other memory ("same insn cannot be used with different pointers").
func TestSameInsnDifferentPointers(t *testing.T) {
	_, err := Verify(mustAssemble(t, `
		ldxw %r2, [%r1+12]
		mov %r3, %r1
		jeq %r2, 0, +2
		mov %r3, %r10
		add %r3, -16
		ldxw %r0, [%r3+12]
		exit`), Options{ProgType: linux.BPF_PROG_TYPE_XDP})
	expectErr(t, err, linux.EINVAL, "same insn cannot be used with different pointers")
}

// TestFacts: what the verifier proves for the interpreter or a JIT.
func TestFacts(t *testing.T) {
	p, err := Verify(mustAssemble(t, `
		ldxb %r2, [%r1+0]
		mov %r3, %r2
		or %r3, 1
		mov %r0, 100
		div %r0, %r3
		div %r0, %r2
		and %r2, 31
		lsh %r0, %r2
		rsh32 %r0, %r2
		ldxw %r4, [%r1+4]
		arsh %r0, %r4
		mov %r5, 1
		jeq %r5, 1, +1
		mov %r0, 0
		exit`), socketFilter())
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]Fact{
		4:  FactReached | FactDivisorNonZero, // r3 has bit 0 set
		5:  FactReached,                      // r2 may be 0
		7:  FactReached | FactShiftInRange,   // r2 < 32 < 64
		8:  FactReached | FactShiftInRange,   // r2 < 32
		10: FactReached,                      // r4 may be 63+
		13: 0,                                // never falls through
	}
	for i, f := range want {
		if p.Facts[i] != f {
			t.Errorf("insn %d: facts %#x, want %#x", i, p.Facts[i], f)
		}
	}
}
