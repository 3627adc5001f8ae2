package perf

import (
	"encoding/binary"
	"testing"

	"hachi/syscall"
	"hachi/syscall/linux"
)

// FuzzPerfEventOpen feeds arbitrary attr bytes, pid, cpu and flags to
// perf_event_open: it must answer a Linux errno or a descriptor, never
// panic, and leave no probe behind once everything is closed.
func FuzzPerfEventOpen(f *testing.F) {
	seed := func(a Attr, pid, cpu int32, flags uint64) {
		if a.Size == 0 {
			a.Size = attrSize
		}
		f.Add(attrBytes(a), pid, cpu, flags)
	}
	seed(bpfOutputAttr(), -1, 0, linux.PERF_FLAG_FD_CLOEXEC)
	seed(Attr{Type: linux.PERF_TYPE_TRACEPOINT, Config: uint64(testTracepointID()), SampleType: linux.PERF_SAMPLE_RAW}, -1, 1, 0)
	seed(Attr{Type: linux.PERF_TYPE_SOFTWARE, Config: linux.PERF_COUNT_SW_CPU_CLOCK, SamplePeriod: 4000, Flags: linux.PerfAttrFreq}, -1, 2, 0)
	seed(Attr{Type: KprobeType, Config2: 0xffffffff81000004}, -1, 0, 0)
	seed(Attr{Size: 200}, 0, -1, 0)
	f.Fuzz(func(t *testing.T, raw []byte, pid, cpu int32, flags uint64) {
		env := newTestEnv(t)
		addr := env.mem.PlaceEnd(raw)
		fd, err := env.sys.PerfEventOpen(env.task, addr, pid, cpu, -1, flags)
		if err != nil {
			if e := errnoOf(err); e == 0 || e >= 1<<20 {
				t.Fatalf("not an errno: %v", err)
			}
			return
		}
		ev := env.event(fd)
		mem, err := ev.Mmap(0, 2*4096, true, true)
		if err == nil {
			_ = ev.Output(ev.OnCPU(), raw)
			env.sys.TimerExpired(max(ev.cpu, 0), env.host.Now()+1<<40, &Regs{})
			r, err := NewReader(mem, ev.attr.SampleType, ev.attr.ReadFormat)
			if err == nil {
				var rec Record
				for r.Read(&rec) == nil {
				}
			}
		}
		_, _ = ev.Read(make([]byte, 512))
		env.task.Files.CloseAll()
		if env.kp.count() != 0 {
			t.Fatal("kprobe left behind")
		}
	})
}

// FuzzReader: a ring whose control page and data are hostile. The
// reader must not panic or read outside the mapping (slices would
// panic), and must make progress (each Read consumes or reports empty).
func FuzzReader(f *testing.F) {
	f.Add(uint64(0), uint64(0), []byte{}, uint64(linux.PERF_SAMPLE_RAW), uint64(0))
	f.Add(uint64(48), uint64(0), append(append(le32(9), 0, 0, 48, 0), make([]byte, 40)...), uint64(linux.PERF_SAMPLE_RAW), uint64(0))
	f.Add(uint64(1<<40), uint64(8), []byte{1, 2, 3}, uint64(linux.PERF_SAMPLE_READ|linux.PERF_SAMPLE_CALLCHAIN), uint64(linux.PERF_FORMAT_GROUP))
	f.Add(uint64(4096+16), uint64(4096-8), append(append(le32(9), 0, 0, 24, 0), 0xff, 0xff, 0xff, 0xff), uint64(linux.PERF_SAMPLE_RAW), uint64(0))
	f.Fuzz(func(t *testing.T, head, tail uint64, data []byte, sampleType, readFormat uint64) {
		mem := make([]byte, 2*syscall.PageSize)
		binary.LittleEndian.PutUint64(mem[linux.PerfMmapDataHeadOff:], head)
		binary.LittleEndian.PutUint64(mem[linux.PerfMmapDataTailOff:], tail)
		binary.LittleEndian.PutUint64(mem[linux.PerfMmapDataOffsetOff:], syscall.PageSize)
		binary.LittleEndian.PutUint64(mem[linux.PerfMmapDataSizeOff:], syscall.PageSize)
		copy(mem[syscall.PageSize:], data)
		// The tail's position in the ring is where the data starts.
		if len(data) > 0 {
			at := syscall.PageSize + int(tail%syscall.PageSize)
			n := copy(mem[at:], data)
			copy(mem[syscall.PageSize:], data[n:])
		}
		r, err := NewReader(mem, sampleType&readableSampleType, readFormat)
		if err != nil {
			t.Fatal(err)
		}
		var rec Record
		for i := 0; i < syscall.PageSize; i++ {
			before := r.Pending()
			err := r.Read(&rec)
			if err == ErrNoRecord {
				return
			}
			if r.Pending() >= before && before <= syscall.PageSize {
				t.Fatalf("no progress: %d bytes pending before and after (%v)", before, err)
			}
		}
		t.Fatal("reader did not drain a one-page ring")
	})
}

// FuzzCopyAttr: perf_copy_attr on arbitrary bytes answers an errno or an
// attr that keeps Linux's invariants (a size between VER0 and a page,
// reserved fields zero, only known sample_type and read_format bits).
func FuzzCopyAttr(f *testing.F) {
	f.Add(attrBytes(bpfOutputAttr()))
	f.Add(append(attrBytes(Attr{Size: 136}), 0, 0, 0, 0, 0, 0, 0, 1))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		mem := syscall.NewSliceSpace()
		a, err := CopyAttr(mem, mem.PlaceEnd(raw))
		if err != nil {
			if errnoOf(err) >= 1<<20 {
				t.Fatalf("not an errno: %v", err)
			}
			return
		}
		if a.Size < linux.PERF_ATTR_SIZE_VER0 || a.Size > syscall.PageSize || a.Flags&linux.PerfAttrReservedMask != 0 ||
			a.SampleType >= linux.PERF_SAMPLE_MAX || a.ReadFormat >= linux.PERF_FORMAT_MAX || a.SampleMaxStack == 0 {
			t.Fatalf("accepted %+v", a)
		}
	})
}
