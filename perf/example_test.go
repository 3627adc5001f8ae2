package perf_test

import (
	"fmt"
	"unsafe"

	"hachi/perf"
	"hachi/syscall"
	"hachi/syscall/linux"
)

// oneCPU is the smallest kernel perf can run in: one CPU, a clock that
// stands still, no tasks, a timer nobody needs.
type oneCPU struct{}

func (oneCPU) PossibleCPUs() int                            { return 1 }
func (oneCPU) CPUOnline(int) bool                           { return true }
func (oneCPU) Now() uint64                                  { return 1 }
func (oneCPU) FindTask(*syscall.Task, int32) (int32, error) { return 0, linux.ESRCH }
func (oneCPU) Current(int) (int32, int32)                   { return 0, 0 }
func (oneCPU) Arm(int, uint64)                              {}

// Example follows what libbpf's perf_buffer does for one CPU: open a BPF
// output event, map its ring, and read back what bpf_perf_event_output
// (here called directly, as a PERF_EVENT_ARRAY does) wrote.
func Example() {
	sys := perf.New(oneCPU{}, nil)
	mem := syscall.NewSliceSpace()
	task := &syscall.Task{Mem: mem, Files: syscall.NewFDTable(0), Caps: syscall.AllCaps}

	attr := linux.PerfEventAttr{Type: linux.PERF_TYPE_SOFTWARE, Config: linux.PERF_COUNT_SW_BPF_OUTPUT,
		SampleType: linux.PERF_SAMPLE_RAW, SamplePeriod: 1, WakeupEvents: 1}
	attr.Size = uint32(unsafe.Sizeof(attr))
	fd, err := sys.PerfEventOpen(task, mem.Place((*[unsafe.Sizeof(attr)]byte)(unsafe.Pointer(&attr))[:]), -1, 0, -1, linux.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		fmt.Println(err)
		return
	}
	f, _ := task.Files.Get(fd)
	ev := f.Object().(*perf.Event)
	f.DecRef()

	ring, _ := ev.Mmap(0, 2*syscall.PageSize, true, true) // 1 + 2^0 pages
	_ = ev.Output(0, []byte("hello"))

	r, _ := perf.NewReader(ring, attr.SampleType, attr.ReadFormat)
	var rec perf.Record
	if err := r.Read(&rec); err == nil {
		fmt.Printf("type %d, %d bytes, raw %q\n", rec.Type, len(rec.Bytes), rec.Sample.Raw)
	}
	// Output:
	// type 9, 24 bytes, raw "hello\x00\x00\x00\x00\x00\x00\x00"
}
