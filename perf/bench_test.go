package perf

import (
	"encoding/binary"
	"testing"

	"hachi/bpf/asm"
	"hachi/bpf/verifier"
	"hachi/bpf/vm"
	"hachi/kernel/trace"
	"hachi/syscall/linux"
)

// verified builds a program through the verifier, so it runs in the
// interpreter's fast mode as loaded programs do.
func verified(tb testing.TB, typ linux.BPFProgType, src string) *testProg {
	tb.Helper()
	insns, err := asm.Assemble(src)
	if err != nil {
		tb.Fatal(err)
	}
	vp, err := verifier.Verify(insns, verifier.Options{ProgType: typ, GPL: true})
	if err != nil {
		tb.Fatal(err)
	}
	p := &testProg{typ: typ, id: 9, prog: vp.VM(), maxCtx: vp.MaxCtxOffset}
	p.refs.Store(1)
	return p
}

// smallTracepointProg reads sys_exit's ret and returns whether it is odd:
// a filter of the size tools attach.
const smallTracepointProg = `
ldxdw %r0, [%r1+16]
and %r0, 1
exit
`

// BenchmarkTracepointFire: raw_syscalls:sys_exit fired with nothing
// attached (the static key), with a counting perf event, with a small
// verified program, and as the native reference a Go function doing the
// same test on the same value.
func BenchmarkTracepointFire(b *testing.B) {
	trace.SetCPUs(testCPUs)
	c := trace.Ctx{CPU: 0, PID: 1}
	b.Run("detached", func(b *testing.B) {
		for b.Loop() {
			trace.SysExit(c, 0, 2)
		}
	})
	env := newTestEnv(b)
	_, ev := env.mustOpen(Attr{Type: linux.PERF_TYPE_TRACEPOINT, Config: uint64(testTracepointID())}, -1, 0)
	b.Run("counting-event", func(b *testing.B) {
		for b.Loop() {
			trace.SysExit(c, 0, 2)
		}
	})
	if err := ev.AttachBPF(verified(b, linux.BPF_PROG_TYPE_TRACEPOINT, smallTracepointProg), 0); err != nil {
		b.Fatal(err)
	}
	b.Run("small-program", func(b *testing.B) {
		for b.Loop() {
			trace.SysExit(c, 0, 2)
		}
	})
	env.task.Files.CloseAll()
	rec := make([]byte, 68)
	binary.LittleEndian.PutUint64(rec[16:], 2)
	filter := func(rec []byte) bool { return binary.LittleEndian.Uint64(rec[16:])&1 != 0 }
	b.Run("native-filter", func(b *testing.B) {
		n := 0
		for b.Loop() {
			if filter(rec) {
				n++
			}
		}
		_ = n
	})
}

// BenchmarkPerfEventOutput: bpf_perf_event_output's write of a 64-byte
// record into a per-CPU ring that a reader drains, against a native
// copy of the same bytes into a slice.
func BenchmarkPerfEventOutput(b *testing.B) {
	env := newTestEnv(b)
	a := bpfOutputAttr()
	_, ev, mem := env.mapped(a, 0, 64)
	data := make([]byte, 52) // 8 + 4 + 52 = 64-byte records
	r, _ := NewReader(mem, a.SampleType, 0)
	b.Run("output", func(b *testing.B) {
		b.SetBytes(64)
		var rec Record
		for i := 0; b.Loop(); i++ {
			if err := ev.Output(0, data); err != nil {
				b.Fatal(err)
			}
			if i%1024 == 1023 {
				for r.Read(&rec) == nil {
				}
			}
		}
	})
	b.Run("output-and-read", func(b *testing.B) {
		b.SetBytes(64)
		var rec Record
		for b.Loop() {
			_ = ev.Output(0, data)
			_ = r.Read(&rec)
		}
	})
	ring := make([]byte, 64*4096)
	b.Run("native-copy", func(b *testing.B) {
		b.SetBytes(64)
		off := 0
		for b.Loop() {
			binary.LittleEndian.PutUint64(ring[off:], 9|64<<48)
			binary.LittleEndian.PutUint32(ring[off+8:], 52)
			copy(ring[off+12:], data)
			off = (off + 64) % len(ring)
		}
	})
}

// TestTrapPathsDoNotAllocate: what runs in trap context allocates
// nothing: bpf_perf_event_output, a tracepoint hit running a program and
// writing a sample, a kprobe hit, the sampling timer.
func TestTrapPathsDoNotAllocate(t *testing.T) {
	trace.SetCPUs(testCPUs)
	env := newTestEnv(t)
	defer env.task.Files.CloseAll()
	a := bpfOutputAttr()
	a.SampleType |= linux.PERF_SAMPLE_TID | linux.PERF_SAMPLE_TIME | linux.PERF_SAMPLE_IP
	_, out, outMem := env.mapped(a, 0, 64)
	r, _ := NewReader(outMem, a.SampleType, 0)
	tp := Attr{Type: linux.PERF_TYPE_TRACEPOINT, Config: uint64(testTracepointID()), SamplePeriod: 1, SampleType: linux.PERF_SAMPLE_RAW}
	_, tpEv, tpMem := env.mapped(tp, 0, 64)
	if err := tpEv.AttachBPF(verified(t, linux.BPF_PROG_TYPE_TRACEPOINT, "mov %r0, 1\nexit"), 0); err != nil {
		t.Fatal(err)
	}
	tr, _ := NewReader(tpMem, tp.SampleType, 0)
	clock := Attr{Type: linux.PERF_TYPE_SOFTWARE, Config: linux.PERF_COUNT_SW_CPU_CLOCK, SamplePeriod: 10000, SampleType: linux.PERF_SAMPLE_IP}
	_, clockEv, clockMem := env.mapped(clock, 1, 64)
	if err := clockEv.AttachBPF(verified(t, linux.BPF_PROG_TYPE_PERF_EVENT, "mov %r0, 1\nexit"), 0); err != nil {
		t.Fatal(err)
	}
	cr, _ := NewReader(clockMem, clock.SampleType, 0)
	name := env.mem.Place([]byte("do_sys_open\x00"))
	_, kpEv := env.mustOpen(Attr{Type: KprobeType, Config1: name, SamplePeriod: 1, SampleType: linux.PERF_SAMPLE_RAW}, -1, 2)
	if _, err := kpEv.Mmap(0, 65*4096, true, true); err != nil {
		t.Fatal(err)
	}
	regs := &Regs{IP: 1}
	var rec Record
	drain := func(r *Reader) {
		for r.Read(&rec) == nil {
		}
	}
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"bpf_perf_event_output", func() { _ = out.Output(0, make([]byte, 0, 16)[:16]); drain(r) }},
		{"tracepoint hit with a program", func() { trace.SysExit(trace.Ctx{CPU: 0}, 1, 2); drain(tr) }},
		{"sampling timer", func() {
			now := env.host.now.Add(20000)
			env.sys.TimerExpired(1, now, regs)
			drain(cr)
		}},
		{"kprobe hit", func() { kpEv.kp.Hit(2, regs) }}, // what the breakpoint trap calls
	} {
		c.f() // the reader's buffer grows once
		if n := testing.AllocsPerRun(100, c.f); n != 0 {
			t.Errorf("%s: %v allocations", c.name, n)
		}
	}
	_ = vm.Region{}
}
