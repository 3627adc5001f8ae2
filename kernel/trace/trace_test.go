package trace

import (
	"bytes"
	"encoding/binary"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestFormatGolden checks every format file against testdata/events/.
func TestFormatGolden(t *testing.T) {
	for _, tp := range All() {
		rel := filepath.Join("events", tp.System(), tp.Name(), "format")
		golden := filepath.Join("testdata", rel)
		got, err := ReadTracefs(filepath.ToSlash(rel))
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%s: %v (run go test -update to create it)", golden, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s:\n%s\nwant:\n%s", rel, golden, got, want)
		}
	}
}

// formatShape is a format file without its ID line: what must agree
// between two kernels that number events differently.
type formatShape struct {
	name     string
	fields   []string
	printFmt string
}

func parseFormat(t *testing.T, text string) formatShape {
	t.Helper()
	var s formatShape
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "name: "):
			s.name = strings.TrimPrefix(line, "name: ")
		case strings.HasPrefix(line, "\tfield:"):
			s.fields = append(s.fields, line)
		case strings.HasPrefix(line, "print fmt: "):
			s.printFmt = strings.TrimPrefix(line, "print fmt: ")
		case line == "" || line == "format:" || strings.HasPrefix(line, "ID: "):
		default:
			t.Fatalf("unexpected format line %q", line)
		}
	}
	return s
}

// TestFormatAgainstHost compares the Linux tracepoints' format files with
// the host kernel's tracefs, field by field (type, name, offset, size,
// signedness) and print format; only the ID may differ.
func TestFormatAgainstHost(t *testing.T) {
	const root = "/sys/kernel/tracing"
	for _, tp := range All() {
		if tp.System() == "hachi" {
			continue // Hachi's own: no Linux counterpart
		}
		t.Run(tp.System()+":"+tp.Name(), func(t *testing.T) {
			host, err := os.ReadFile(filepath.Join(root, "events", tp.System(), tp.Name(), "format"))
			if err != nil {
				t.Skipf("host tracefs not readable (%v): mount it with `mount -t tracefs nodev %s` as root to run this comparison", err, root)
			}
			got, want := parseFormat(t, tp.Format()), parseFormat(t, string(host))
			if got.name != want.name || got.printFmt != want.printFmt || strings.Join(got.fields, "\n") != strings.Join(want.fields, "\n") {
				t.Errorf("format differs from the host's:\n%s\nhost:\n%s", tp.Format(), host)
			}
		})
	}
}

func TestReadTracefs(t *testing.T) {
	id, err := ReadTracefs("events/raw_syscalls/sys_enter/id")
	if err != nil || string(id) != strconv.Itoa(int(sysEnter.ID()))+"\n" {
		t.Errorf("id file: %q, %v", id, err)
	}
	ev, _ := ReadTracefs("available_events")
	if !strings.Contains(string(ev), "hachi:console_line\n") || !strings.Contains(string(ev), "sched:sched_process_exec\n") {
		t.Errorf("available_events: %q", ev)
	}
	for _, p := range []string{"events/sched/nope/format", "events/sched/sched_process_exec/enable", "events", "x/sched/sched_process_exec/format"} {
		if _, err := ReadTracefs(p); err == nil {
			t.Errorf("%s: no error", p)
		}
	}
	for _, tp := range All() {
		if got, ok := ByID(uint64(tp.ID())); !ok || got != tp {
			t.Errorf("ByID(%d)", tp.ID())
		}
		if got, ok := Lookup(tp.System() + ":" + tp.Name()); !ok || got != tp {
			t.Errorf("Lookup(%s)", tp.Name())
		}
	}
	for _, id := range []uint64{0, firstID - 1, firstID + uint64(len(all)), 1 << 40} {
		if _, ok := ByID(id); ok {
			t.Errorf("ByID(%d) found something", id)
		}
	}
}

// recorder is a probe keeping copies of the records it sees.
type recorder struct {
	mu   sync.Mutex
	recs [][]byte
	ctxs []Ctx
}

func (r *recorder) Hit(tp *Tracepoint, c Ctx, rec []byte) {
	r.mu.Lock()
	r.recs = append(r.recs, append([]byte(nil), rec...))
	r.ctxs = append(r.ctxs, c)
	r.mu.Unlock()
}

func attach(t *testing.T, tp *Tracepoint, p Probe) {
	t.Helper()
	if err := tp.Register(p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := tp.Unregister(p); err != nil {
			t.Error(err)
		}
	})
}

// TestRecords checks each tracepoint's record bytes against its format:
// the common header, every field at its offset, __data_loc strings and
// the size Linux gives a perf trace record.
func TestRecords(t *testing.T) {
	SetCPUs(2)
	c := Ctx{CPU: 1, PID: 4242, Flags: TRACE_FLAG_IRQS_OFF | TRACE_FLAG_HARDIRQ, PreemptCount: 2}
	header := func(tp *Tracepoint) []byte {
		h := make([]byte, 8)
		binary.LittleEndian.PutUint16(h, tp.ID())
		h[2], h[3] = 0x09, 2
		binary.LittleEndian.PutUint32(h[4:], 4242)
		return h
	}
	le32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	le64 := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	args := [6]uint64{1, 2, 3, 4, 5, 0xffffffffffffffff}
	cases := []struct {
		tp   *Tracepoint
		fire func()
		want []byte
	}{
		{schedProcessExec, func() { SchedProcessExec(c, "/bin/sh", 7, 8) },
			// filename at 20, 8 bytes with its NUL: data_loc 8<<16|20; 28 bytes -> 28
			cat(header(schedProcessExec), le32(8<<16|20), le32(7), le32(8), []byte("/bin/sh\x00"))},
		{schedProcessExit, func() { SchedProcessExit(c, "a-very-long-command-name", -1, 120, true) },
			cat(header(schedProcessExit), []byte("a-very-long-com\x00"), le32(0xffffffff), le32(120), []byte{1, 0, 0, 0})},
		{sysEnter, func() { SysEnter(c, 321, &args) },
			cat(header(sysEnter), le64(321), le64(1), le64(2), le64(3), le64(4), le64(5), le64(^uint64(0)), make([]byte, 4))},
		{sysExit, func() { SysExit(c, 321, -22) },
			cat(header(sysExit), le64(321), le64(uint64(1<<64-22)), make([]byte, 4))},
		{consoleLine, func() { ConsoleLine(c, "hello") },
			// line at 12, 6 bytes: 18 bytes -> RecordSize 20
			cat(header(consoleLine), le32(6<<16|12), []byte("hello\x00"), make([]byte, 2))},
	}
	for _, tc := range cases {
		r := &recorder{}
		attach(t, tc.tp, r)
		tc.fire()
		if len(r.recs) != 1 {
			t.Fatalf("%s: %d records", tc.tp.Name(), len(r.recs))
		}
		if got := r.recs[0]; !bytes.Equal(got, tc.want) {
			t.Errorf("%s record:\n got % x\nwant % x", tc.tp.Name(), got, tc.want)
		}
		if (len(r.recs[0])+4)%8 != 0 {
			t.Errorf("%s: record of %d bytes does not end 8-aligned behind a u32", tc.tp.Name(), len(r.recs[0]))
		}
		if r.ctxs[0] != c {
			t.Errorf("%s: ctx %+v", tc.tp.Name(), r.ctxs[0])
		}
	}
}

func TestRegister(t *testing.T) {
	tp := consoleLine
	a, b := &recorder{}, &recorder{}
	if tp.Enabled() {
		t.Fatal("enabled with nothing attached")
	}
	if err := tp.Unregister(a); err == nil {
		t.Error("Unregister of a probe never attached")
	}
	attach(t, tp, a)
	if err := tp.Register(a); err == nil {
		t.Error("same probe attached twice")
	}
	if !tp.Enabled() {
		t.Fatal("not enabled")
	}
	if err := tp.Register(b); err != nil {
		t.Fatal(err)
	}
	ConsoleLine(Ctx{CPU: 0}, "x")
	if err := tp.Unregister(b); err != nil {
		t.Fatal(err)
	}
	ConsoleLine(Ctx{CPU: 0}, "y")
	if len(a.recs) != 2 || len(b.recs) != 1 {
		t.Errorf("a saw %d, b saw %d", len(a.recs), len(b.recs))
	}
}

// nester fires the tracepoint again from inside its probe, as an interrupt
// arriving during a firing does, down to depth levels.
type nester struct {
	depth, seen int
	sizes       []int
	clobbered   bool
}

func (n *nester) Hit(tp *Tracepoint, c Ctx, rec []byte) {
	n.seen++
	n.sizes = append(n.sizes, len(rec))
	want := string(rec)
	if n.seen < n.depth {
		ConsoleLine(c, strings.Repeat("n", n.seen))
	}
	// A nested firing uses another buffer: this record is intact.
	if string(rec) != want {
		n.clobbered = true
	}
}

func TestNestingAndMissed(t *testing.T) {
	SetCPUs(1)
	n := &nester{depth: 10}
	attach(t, consoleLine, n)
	before := consoleLine.Missed()
	ConsoleLine(Ctx{CPU: 0}, "")
	if n.seen != maxNest || n.clobbered {
		t.Errorf("%d nested firings delivered (want %d), outer record clobbered: %v", n.seen, maxNest, n.clobbered)
	}
	if got := consoleLine.Missed() - before; got != 1 {
		t.Errorf("missed %d, want 1", got)
	}
	ConsoleLine(Ctx{CPU: 1 << 20}, "no buffers")
	ConsoleLine(Ctx{CPU: 0}, strings.Repeat("x", MaxRecordSize))
	if got := consoleLine.Missed() - before; got != 3 {
		t.Errorf("missed %d, want 3", got)
	}
}

// TestConcurrentCPUs fires from several goroutines standing for CPUs, and
// checks that every record arrives intact (-race finds shared buffers).
func TestConcurrentCPUs(t *testing.T) {
	const cpus, per = 4, 200
	SetCPUs(cpus)
	r := &recorder{}
	attach(t, sysExit, r)
	var wg sync.WaitGroup
	for cpu := 0; cpu < cpus; cpu++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				SysExit(Ctx{CPU: cpu, PID: int32(cpu)}, int64(cpu), int64(i))
			}
		}()
	}
	wg.Wait()
	if len(r.recs) != cpus*per {
		t.Fatalf("%d records", len(r.recs))
	}
	next := make([]int64, cpus)
	for _, rec := range r.recs {
		cpu := int64(binary.LittleEndian.Uint64(rec[8:]))
		pid := int64(binary.LittleEndian.Uint32(rec[4:]))
		ret := int64(binary.LittleEndian.Uint64(rec[16:]))
		if pid != cpu || ret != next[cpu] {
			t.Fatalf("record % x out of order or torn", rec)
		}
		next[cpu]++
	}
}

type nopProbe struct{ n int }

func (p *nopProbe) Hit(*Tracepoint, Ctx, []byte) { p.n++ }

// BenchmarkFire measures a fire with nothing attached (the static key),
// with a probe attached (record built and delivered), and, as the native
// reference, a plain call doing the same stores.
func BenchmarkFire(b *testing.B) {
	SetCPUs(1)
	args := [6]uint64{1, 2, 3, 4, 5, 6}
	c := Ctx{CPU: 0, PID: 1}
	b.Run("detached", func(b *testing.B) {
		for b.Loop() {
			SysEnter(c, 1, &args)
		}
	})
	b.Run("attached", func(b *testing.B) {
		p := &nopProbe{}
		if err := sysEnter.Register(p); err != nil {
			b.Fatal(err)
		}
		defer sysEnter.Unregister(p)
		for b.Loop() {
			SysEnter(c, 1, &args)
		}
	})
	b.Run("native-copy", func(b *testing.B) {
		var buf [68]byte
		for b.Loop() {
			binary.LittleEndian.PutUint16(buf[0:], 1)
			binary.LittleEndian.PutUint32(buf[4:], 1)
			binary.LittleEndian.PutUint64(buf[8:], 1)
			for i, a := range args {
				binary.LittleEndian.PutUint64(buf[16+8*i:], a)
			}
		}
	})
}

// TestFireDoesNotAllocate: fire sites may be in trap context.
func TestFireDoesNotAllocate(t *testing.T) {
	SetCPUs(1)
	p := &nopProbe{}
	attach(t, consoleLine, p)
	c := Ctx{CPU: 0}
	if n := testing.AllocsPerRun(100, func() { ConsoleLine(c, "a console line") }); n != 0 {
		t.Errorf("attached fire allocates %v times", n)
	}
	if p.n == 0 {
		t.Error("probe not called")
	}
}
