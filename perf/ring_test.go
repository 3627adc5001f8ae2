package perf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"unsafe"

	"hachi/syscall/linux"
)

// mapped opens a BPF output event on cpu with attr and maps 1+pages pages.
func (e *testEnv) mapped(a Attr, cpu int32, pages int) (int, *Event, []byte) {
	e.t.Helper()
	fd, ev := e.mustOpen(a, -1, cpu)
	mem, err := ev.Mmap(0, uint64(1+pages)*4096, true, true)
	if err != nil {
		e.t.Fatal(err)
	}
	return fd, ev, mem
}

func newReader(t testing.TB, mem []byte, a Attr) *Reader {
	t.Helper()
	r, err := NewReader(mem, a.SampleType, a.ReadFormat)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestMmapLayout checks the control page as a perf mmap fills it, at the
// offsets of <linux/perf_event.h> (syscall/linux checks those against the
// C header): version, capabilities, size, data_offset, data_size.
func TestMmapLayout(t *testing.T) {
	env := newTestEnv(t)
	_, ev, mem := env.mapped(bpfOutputAttr(), 0, 4)
	if len(mem) != 5*4096 || uintptr(unsafe.Pointer(&mem[0]))%4096 != 0 {
		t.Fatalf("mapping of %d bytes at %p", len(mem), &mem[0])
	}
	u32 := func(off uintptr) uint32 { return binary.LittleEndian.Uint32(mem[off:]) }
	u64 := func(off uintptr) uint64 { return binary.LittleEndian.Uint64(mem[off:]) }
	var p linux.PerfEventMmapPage
	checks := []struct {
		name string
		off  uintptr
		got  uint64
		want uint64
	}{
		{"version", unsafe.Offsetof(p.Version), uint64(u32(0)), 0},
		{"compat_version", unsafe.Offsetof(p.CompatVersion), uint64(u32(4)), 0},
		{"index (no rdpmc for software events)", unsafe.Offsetof(p.Index), uint64(u32(12)), 0},
		{"capabilities: cap_bit0_is_deprecated only", unsafe.Offsetof(p.Capabilities), u64(40), 2},
		{"size: offsetof(__reserved)", unsafe.Offsetof(p.Size), uint64(u32(72)), 96},
		{"data_head", linux.PerfMmapDataHeadOff, u64(1024), 0},
		{"data_tail", linux.PerfMmapDataTailOff, u64(1032), 0},
		{"data_offset", linux.PerfMmapDataOffsetOff, u64(1040), 4096},
		{"data_size", linux.PerfMmapDataSizeOff, u64(1048), 4 * 4096},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s at %d: %d, want %d", c.name, c.off, c.got, c.want)
		}
	}
	if unsafe.Offsetof(p.DataHead) != linux.PerfMmapDataHeadOff || unsafe.Offsetof(p.DataSize) != linux.PerfMmapDataSizeOff {
		t.Errorf("mmap page offsets disagree with the struct")
	}
	if lock := u32(8); lock == 0 || lock%2 != 0 {
		t.Errorf("lock %d: the page was not published under its sequence", lock)
	}
	_ = ev
}

func TestMmapChecks(t *testing.T) {
	env := newTestEnv(t)
	_, ev := env.mustOpen(bpfOutputAttr(), -1, 0)
	cases := []struct {
		name          string
		pgoff, length uint64
		shared, rw    bool
		want          linux.Errno
	}{
		{"private mapping", 0, 2 * 4096, false, true, linux.EINVAL},
		{"AUX offset", 1, 2 * 4096, true, true, linux.EINVAL},
		{"3 data pages: not a power of two", 0, 4 * 4096, true, true, linux.EINVAL},
		{"not whole pages", 0, 4096 + 100, true, true, linux.EINVAL},
		{"empty", 0, 0, true, true, linux.EINVAL},
		{"1+2 pages", 0, 3 * 4096, true, true, 0},
		{"again, same size: shared", 0, 3 * 4096, true, true, 0},
		{"again, another size", 0, 5 * 4096, true, true, linux.EINVAL},
	}
	var first []byte
	for _, c := range cases {
		mem, err := ev.Mmap(c.pgoff, c.length, c.shared, c.rw)
		if errnoOf(err) != c.want {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if err == nil {
			if first == nil {
				first = mem
			} else if &first[0] != &mem[0] {
				t.Errorf("%s: a second ring", c.name)
			}
		}
	}
	ev.Munmap()
	if ev.rb.Load() == nil {
		t.Fatal("ring gone with one mapping left")
	}
	ev.Munmap()
	if ev.rb.Load() != nil {
		t.Fatal("ring kept after the last munmap")
	}
	if err := ev.Output(0, []byte("x")); err != linux.ENOSPC {
		t.Errorf("output without a ring: %v", err)
	}
	// Only the control page: no data, nothing can be written or paused.
	fd, ev2 := env.mustOpen(bpfOutputAttr(), -1, 1)
	if _, err := ev2.Mmap(0, 4096, true, true); err != nil {
		t.Fatal(err)
	}
	if err := ev2.Output(1, []byte("x")); err != linux.ENOSPC {
		t.Errorf("output to a ring without data pages: %v", err)
	}
	if err := env.ioctl(fd, linux.PERF_EVENT_IOC_PAUSE_OUTPUT, 1); err != linux.EINVAL {
		t.Errorf("pause without data pages: %v", err)
	}
}

// TestGoldenSample writes one sample with every field Hachi produces and
// checks its bytes against a hand-made dump, field by field in the order
// of Linux's perf_output_sample; then reads it back.
func TestGoldenSample(t *testing.T) {
	env := newTestEnv(t)
	env.host.current[2].Store(150)
	env.host.now.Store(0x1122334455)
	a := bpfOutputAttr()
	a.SampleType = linux.PERF_SAMPLE_IDENTIFIER | linux.PERF_SAMPLE_IP | linux.PERF_SAMPLE_TID |
		linux.PERF_SAMPLE_TIME | linux.PERF_SAMPLE_ADDR | linux.PERF_SAMPLE_ID | linux.PERF_SAMPLE_STREAM_ID |
		linux.PERF_SAMPLE_CPU | linux.PERF_SAMPLE_PERIOD | linux.PERF_SAMPLE_READ | linux.PERF_SAMPLE_RAW
	a.ReadFormat = linux.PERF_FORMAT_ID | linux.PERF_FORMAT_LOST
	_, ev, mem := env.mapped(a, 2, 1)
	id := ev.ID()
	regs := &Regs{IP: 0xffffffff81001234}
	env.sys.cpus[2].setRegs(regs) // as while a program runs from a kprobe
	if err := ev.Output(2, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	env.sys.cpus[2].setRegs(nil)
	want := bytes.Join([][]byte{
		le32(linux.PERF_RECORD_SAMPLE), {1, 0}, {120, 0}, // header: type, misc KERNEL, size 120
		le64(id),                 // IDENTIFIER
		le64(0xffffffff81001234), // IP
		le32(150), le32(150),     // TID: pid, tid
		le64(0x1122334455), // TIME
		le64(0),            // ADDR
		le64(id),           // ID
		le64(id),           // STREAM_ID
		le32(2), le32(0),   // CPU, reserved
		le64(0),                    // PERIOD (bpf output: 0)
		le64(0), le64(id), le64(0), // READ: value, id, lost
		le32(12), []byte("hello"), make([]byte, 7), // RAW: size 12 (5 bytes + 7 padding)
	}, nil)
	got := mem[4096 : 4096+len(want)]
	if !bytes.Equal(got, want) {
		t.Fatalf("sample bytes:\n got % x\nwant % x", got, want)
	}
	if head := binary.LittleEndian.Uint64(mem[1024:]); head != 120 {
		t.Errorf("data_head %d", head)
	}
	r := newReader(t, mem, a)
	var rec Record
	if err := r.Read(&rec); err != nil {
		t.Fatal(err)
	}
	s := rec.Sample
	if s.IP != regs.IP || s.Pid != 150 || s.CPU != 2 || s.Time != 0x1122334455 || s.ID != id || s.StreamID != id ||
		s.Identifier != id || string(s.Raw) != "hello\x00\x00\x00\x00\x00\x00\x00" || len(s.Read) != 3 {
		t.Errorf("read back %+v", s)
	}
	if err := r.Read(&rec); err != ErrNoRecord {
		t.Errorf("second read: %v", err)
	}
	if tail := binary.LittleEndian.Uint64(mem[1032:]); tail != 120 {
		t.Errorf("data_tail %d", tail)
	}
}

// TestRawSizes: the raw u32 size counts the padding that keeps records
// 8-byte aligned, for every data length around the boundaries.
func TestRawSizes(t *testing.T) {
	env := newTestEnv(t)
	a := bpfOutputAttr()
	_, ev, mem := env.mapped(a, 0, 1)
	r := newReader(t, mem, a)
	for n := 0; n <= 17; n++ {
		data := bytes.Repeat([]byte{byte(n)}, n)
		if err := ev.Output(0, data); err != nil {
			t.Fatal(err)
		}
		var rec Record
		if err := r.Read(&rec); err != nil {
			t.Fatal(err)
		}
		wantRaw := (n+4+7)&^7 - 4
		if len(rec.Bytes) != 8+4+wantRaw || len(rec.Sample.Raw) != wantRaw || !bytes.Equal(rec.Sample.Raw[:n], data) ||
			!bytes.Equal(rec.Sample.Raw[n:], make([]byte, wantRaw-n)) {
			t.Errorf("%d bytes: record %d, raw % x", n, len(rec.Bytes), rec.Sample.Raw)
		}
	}
	// A raw payload that cannot fit the u16 record size.
	if err := ev.Output(0, make([]byte, 0xffff)); err != linux.E2BIG {
		t.Errorf("huge output: %v", err)
	}
}

// TestWrapAndLost fills a one-page ring with records of a size that does
// not divide it, reads part, writes past the end (records wrap), loses
// some when full, and checks the LOST record and the read-back.
func TestWrapAndLost(t *testing.T) {
	env := newTestEnv(t)
	a := bpfOutputAttr()
	a.ReadFormat = linux.PERF_FORMAT_LOST
	fd, ev, mem := env.mapped(a, 0, 1)
	r := newReader(t, mem, a)
	payload := func(i int) []byte { return []byte(fmt.Sprintf("record %04d padded to forty bytes...", i))[:36] }
	// Each record is 8 + 4 + 36 = 48 bytes; 4095 usable bytes hold 85.
	next, written := 0, 0
	for ; ; written++ {
		if err := ev.Output(0, payload(written)); err != nil {
			if err != linux.ENOSPC {
				t.Fatal(err)
			}
			break
		}
	}
	if written != 85 {
		t.Fatalf("%d records fit a 4096-byte ring, want 85", written)
	}
	for i := 0; i < 3; i++ { // lose two more
		_ = ev.Output(0, payload(1000))
	}
	var rec Record
	for ; next < 40; next++ {
		if err := r.Read(&rec); err != nil || !bytes.Equal(rec.Sample.Raw, payload(next)) {
			t.Fatalf("record %d: %v %q", next, err, rec.Sample.Raw)
		}
	}
	// Room again: the next write carries a LOST record first and wraps.
	for i := written; i < written+30; i++ {
		if err := ev.Output(0, payload(i)); err != nil {
			t.Fatalf("write %d after reading: %v", i, err)
		}
	}
	for ; next < written; next++ {
		if err := r.Read(&rec); err != nil || !bytes.Equal(rec.Sample.Raw, payload(next)) {
			t.Fatalf("record %d: %v %q", next, err, rec.Sample.Raw)
		}
	}
	// The LOST record (24 bytes at 4080) wraps around the end: the reader
	// joins its halves.
	wrapped := binary.LittleEndian.Uint64(mem[1032:])%4096+24 > 4096
	if err := r.Read(&rec); err != nil || rec.Type != linux.PERF_RECORD_LOST || rec.Lost != 4 || rec.LostID != ev.ID() {
		t.Fatalf("lost record: %v %+v", err, rec)
	}
	for i := written; i < written+30; i++ {
		tail := binary.LittleEndian.Uint64(mem[1032:])
		if err := r.Read(&rec); err != nil || !bytes.Equal(rec.Sample.Raw, payload(i)) {
			t.Fatalf("record %d after the loss: %v %q", i, err, rec.Sample.Raw)
		}
		if tail%4096+48 > 4096 {
			wrapped = true
		}
	}
	if !wrapped {
		t.Error("the LOST record did not wrap around the end of the ring")
	}
	// Samples wrap too: write and read until one has straddled the end.
	wrapped = false
	for i := 0; i < 100; i++ {
		tail := binary.LittleEndian.Uint64(mem[1032:])
		if err := ev.Output(0, payload(i)); err != nil {
			t.Fatal(err)
		}
		if err := r.Read(&rec); err != nil || !bytes.Equal(rec.Sample.Raw, payload(i)) {
			t.Fatalf("sample %d: %v %q", i, err, rec.Sample.Raw)
		}
		wrapped = wrapped || tail%4096+48 > 4096
	}
	if !wrapped {
		t.Error("no sample wrapped around the end of the ring")
	}
	var buf [16]byte
	if _, err := ev.Read(buf[:]); err != nil || binary.LittleEndian.Uint64(buf[8:]) != 4 {
		t.Errorf("PERF_FORMAT_LOST: % x %v", buf, err)
	}
	// Paused: records are lost and counted; resumed: they flow again.
	if err := env.ioctl(fd, linux.PERF_EVENT_IOC_PAUSE_OUTPUT, 1); err != nil {
		t.Fatal(err)
	}
	if err := ev.Output(0, payload(1)); err != linux.ENOSPC {
		t.Errorf("paused output: %v", err)
	}
	if err := env.ioctl(fd, linux.PERF_EVENT_IOC_PAUSE_OUTPUT, 0); err != nil {
		t.Fatal(err)
	}
	if err := ev.Output(0, payload(2)); err != nil {
		t.Fatal(err)
	}
	if err := r.Read(&rec); err != nil || rec.Type != linux.PERF_RECORD_LOST || rec.Lost != 1 {
		t.Errorf("lost record after pause: %v %+v", err, rec)
	}
}

// TestOverwrite: a read-only mapping makes the kernel overwrite old
// records rather than lose new ones.
func TestOverwrite(t *testing.T) {
	env := newTestEnv(t)
	_, ev := env.mustOpen(bpfOutputAttr(), -1, 0)
	mem, err := ev.Mmap(0, 2*4096, true, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		if err := ev.Output(0, []byte("some data")); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if head := binary.LittleEndian.Uint64(mem[1024:]); head != 1000*24 {
		t.Errorf("data_head %d", head)
	}
}

// waker counts wakeups.
type waker struct{ n int }

func (w *waker) Wake() { w.n++ }

// TestWakeups: wakeup_events wakes every N samples; wakeup_watermark
// when that many bytes are waiting; Poll reports and consumes EPOLLIN.
func TestWakeups(t *testing.T) {
	env := newTestEnv(t)
	a := bpfOutputAttr()
	a.WakeupEvents = 3
	_, ev := env.mustOpen(a, -1, 0)
	if ev.Poll() != EPOLLHUP {
		t.Error("poll without a ring is not EPOLLHUP")
	}
	if _, err := ev.AddWaiter(&waker{}); err != linux.EINVAL {
		t.Errorf("waiter without a ring: %v", err)
	}
	if _, err := ev.Mmap(0, 2*4096, true, true); err != nil {
		t.Fatal(err)
	}
	w := &waker{}
	remove, err := ev.AddWaiter(w)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 7; i++ {
		_ = ev.Output(0, []byte("x"))
		if wantN := i / 3; w.n != wantN {
			t.Fatalf("after %d samples: %d wakeups, want %d", i, w.n, wantN)
		}
	}
	if ev.Poll() != EPOLLIN || ev.Poll() != 0 {
		t.Error("EPOLLIN not reported once")
	}
	remove()
	_ = ev.Output(0, []byte("x"))
	_ = ev.Output(0, []byte("x"))
	if w.n != 2 {
		t.Errorf("removed waiter woken: %d", w.n)
	}

	b := bpfOutputAttr()
	b.Flags |= linux.PerfAttrWatermark
	b.WakeupEvents = 100 // wakeup_watermark: bytes
	_, ev2 := env.mustOpen(b, -1, 1)
	if _, err := ev2.Mmap(0, 2*4096, true, true); err != nil {
		t.Fatal(err)
	}
	w2 := &waker{}
	if _, err := ev2.AddWaiter(w2); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ { // 16-byte records: 64 bytes
		_ = ev2.Output(1, []byte("x"))
	}
	if w2.n != 0 {
		t.Errorf("woken below the watermark")
	}
	for i := 0; i < 3; i++ { // 112 bytes
		_ = ev2.Output(1, []byte("x"))
	}
	if w2.n != 1 {
		t.Errorf("%d wakeups past the watermark", w2.n)
	}
}

// TestSetOutput: records of one event go to another's ring.
func TestSetOutput(t *testing.T) {
	env := newTestEnv(t)
	a := bpfOutputAttr()
	a.SampleType |= linux.PERF_SAMPLE_ID
	_, owner, mem := env.mapped(a, 0, 1)
	fd, other := env.mustOpen(a, -1, 0)
	ownerFD := -1
	for i := 0; i < 10; i++ {
		if f, err := env.task.Files.Get(i); err == nil {
			if f.Object() == owner {
				ownerFD = i
			}
			f.DecRef()
		}
	}
	fdCPU1, _ := env.mustOpen(a, -1, 1)
	if err := env.ioctl(fdCPU1, linux.PERF_EVENT_IOC_SET_OUTPUT, uint64(ownerFD)); err != linux.EINVAL {
		t.Errorf("cross-CPU SET_OUTPUT: %v", err)
	}
	if err := env.ioctl(fd, linux.PERF_EVENT_IOC_SET_OUTPUT, uint64(fd)); err != linux.EINVAL {
		t.Errorf("SET_OUTPUT to itself: %v", err)
	}
	if err := env.ioctl(fd, linux.PERF_EVENT_IOC_SET_OUTPUT, 77); err != linux.EBADF {
		t.Errorf("SET_OUTPUT to a closed fd: %v", err)
	}
	if err := env.ioctl(fd, linux.PERF_EVENT_IOC_SET_OUTPUT, uint64(ownerFD)); err != nil {
		t.Fatal(err)
	}
	_ = owner.Output(0, []byte("a"))
	_ = other.Output(0, []byte("b"))
	r := newReader(t, mem, a)
	var rec Record
	for _, want := range []*Event{owner, other} {
		if err := r.Read(&rec); err != nil || rec.Sample.ID != want.ID() {
			t.Fatalf("record from event %d: %v %+v", want.ID(), err, rec.Sample)
		}
	}
	if err := env.ioctl(fd, linux.PERF_EVENT_IOC_SET_OUTPUT, ^uint64(0)); err != nil {
		t.Fatal(err)
	}
	if err := other.Output(0, []byte("c")); err != linux.ENOSPC {
		t.Errorf("output after undoing SET_OUTPUT: %v", err)
	}
	// An event with its own mapping cannot be redirected.
	if err := env.ioctl(ownerFD, linux.PERF_EVENT_IOC_SET_OUTPUT, uint64(fd)); err != linux.EINVAL {
		t.Errorf("redirecting a mapped event: %v", err)
	}
}

// TestReaderHostile: whatever the control page and headers say, the
// reader stays inside the mapping and recovers.
func TestReaderHostile(t *testing.T) {
	env := newTestEnv(t)
	a := bpfOutputAttr()
	_, ev, mem := env.mapped(a, 0, 1)
	r := newReader(t, mem, a)
	put := func(off int, v uint64) { binary.LittleEndian.PutUint64(mem[off:], v) }
	var rec Record
	put(1024, 1<<40) // head far past the ring
	if err := r.Read(&rec); !errors.Is(err, ErrCorrupt) {
		t.Errorf("head past the ring: %v", err)
	}
	_ = ev.Output(0, []byte("ok")) // the kernel's head moved on from its own
	put(1032, binary.LittleEndian.Uint64(mem[1024:])-16)
	binary.LittleEndian.PutUint16(mem[4096+int(binary.LittleEndian.Uint64(mem[1032:])%4096)+6:], 0)
	if err := r.Read(&rec); !errors.Is(err, ErrCorrupt) {
		t.Errorf("zero-size record: %v", err)
	}
	for _, bad := range []func([]byte){
		func(m []byte) { binary.LittleEndian.PutUint64(m[1040:], 3) },      // data_offset inside the page fields
		func(m []byte) { binary.LittleEndian.PutUint64(m[1048:], 3*4096) }, // size not a power of two
		func(m []byte) { binary.LittleEndian.PutUint64(m[1048:], 1<<62) },  // size past the mapping
		func(m []byte) { binary.LittleEndian.PutUint64(m[1040:], 1<<62) },  // offset past the mapping
	} {
		m := append([]byte(nil), mem...)
		bad(m)
		if _, err := NewReader(m, a.SampleType, 0); err == nil {
			t.Error("corrupt control page accepted")
		}
	}
}
