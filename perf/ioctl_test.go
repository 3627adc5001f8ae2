package perf

import (
	"encoding/binary"
	"testing"

	"hachi/kernel/trace"
	"hachi/syscall"
	"hachi/syscall/linux"
)

func fireSysExit(cpu int, n int) {
	for i := 0; i < n; i++ {
		trace.SysExit(trace.Ctx{CPU: cpu}, 0, int64(i))
	}
}

func readU64s(t *testing.T, ev *Event, n int) []uint64 {
	t.Helper()
	buf := make([]byte, 8*n)
	got, err := ev.Read(buf)
	if err != nil || got != len(buf) {
		t.Fatalf("read: %d %v", got, err)
	}
	vals := make([]uint64, n)
	for i := range vals {
		vals[i] = binary.LittleEndian.Uint64(buf[8*i:])
	}
	return vals
}

// TestIoctls: each row is one ioctl with its argument and Linux's answer.
func TestIoctls(t *testing.T) {
	trace.SetCPUs(testCPUs)
	env := newTestEnv(t)
	counting := Attr{Type: linux.PERF_TYPE_TRACEPOINT, Config: uint64(testTracepointID())}
	sampling := counting
	sampling.SamplePeriod = 1
	cfd, _ := env.mustOpen(counting, -1, 0)
	defer env.task.Files.CloseAll()
	sfd, _ := env.mustOpen(sampling, -1, 0)
	ofd, _ := env.mustOpen(bpfOutputAttr(), -1, 1)
	progFD := env.installProg(&testProg{typ: linux.BPF_PROG_TYPE_TRACEPOINT, id: 7})
	unmapped := uint64(8)
	val := func(v uint64) uint64 { return env.mem.Place(le64(v)) }
	rows := []struct {
		name string
		fd   int
		cmd  uint32
		arg  uint64
		caps syscall.CapSet
		want linux.Errno
	}{
		{"ENABLE", cfd, linux.PERF_EVENT_IOC_ENABLE, 0, syscall.AllCaps, 0},
		{"ENABLE with PERF_IOC_FLAG_GROUP", cfd, linux.PERF_EVENT_IOC_ENABLE, linux.PERF_IOC_FLAG_GROUP, syscall.AllCaps, 0},
		{"DISABLE", ofd, linux.PERF_EVENT_IOC_DISABLE, 0, syscall.AllCaps, 0},
		{"RESET", cfd, linux.PERF_EVENT_IOC_RESET, 0, syscall.AllCaps, 0},
		{"REFRESH on a counting event", cfd, linux.PERF_EVENT_IOC_REFRESH, 1, syscall.AllCaps, linux.EINVAL},
		{"PERIOD on a counting event", cfd, linux.PERF_EVENT_IOC_PERIOD, val(10), syscall.AllCaps, linux.EINVAL},
		{"PERIOD 0", sfd, linux.PERF_EVENT_IOC_PERIOD, val(0), syscall.AllCaps, linux.EINVAL},
		{"PERIOD with bit 63", sfd, linux.PERF_EVENT_IOC_PERIOD, val(1 << 63), syscall.AllCaps, linux.EINVAL},
		{"PERIOD: bad pointer", sfd, linux.PERF_EVENT_IOC_PERIOD, unmapped, syscall.AllCaps, linux.EFAULT},
		{"PERIOD", sfd, linux.PERF_EVENT_IOC_PERIOD, val(1), syscall.AllCaps, 0},
		{"ID: bad pointer", cfd, linux.PERF_EVENT_IOC_ID, unmapped, syscall.AllCaps, linux.EFAULT},
		{"SET_FILTER: no filter expressions", cfd, linux.PERF_EVENT_IOC_SET_FILTER, env.mem.Place([]byte("ret > 0\x00")), syscall.AllCaps, linux.EINVAL},
		{"SET_BPF: not a program", cfd, linux.PERF_EVENT_IOC_SET_BPF, uint64(ofd), syscall.AllCaps, linux.EINVAL},
		{"SET_BPF: perf_event program on BPF output? wrong type", ofd, linux.PERF_EVENT_IOC_SET_BPF, uint64(progFD), syscall.AllCaps, linux.EINVAL},
		{"SET_BPF", cfd, linux.PERF_EVENT_IOC_SET_BPF, uint64(progFD), syscall.AllCaps, 0},
		{"SET_BPF again: EEXIST", cfd, linux.PERF_EVENT_IOC_SET_BPF, uint64(progFD), syscall.AllCaps, linux.EEXIST},
		{"PAUSE_OUTPUT without a ring", ofd, linux.PERF_EVENT_IOC_PAUSE_OUTPUT, 1, syscall.AllCaps, linux.EINVAL},
		{"QUERY_BPF: ids_len past 64", cfd, linux.PERF_EVENT_IOC_QUERY_BPF, env.mem.Place(append(le32(65), 0, 0, 0, 0)), syscall.AllCaps, linux.E2BIG},
		{"QUERY_BPF: unprivileged", cfd, linux.PERF_EVENT_IOC_QUERY_BPF, env.mem.Place(make([]byte, 8)), 0, linux.EPERM},
		{"QUERY_BPF: on a software event", ofd, linux.PERF_EVENT_IOC_QUERY_BPF, env.mem.Place(make([]byte, 8)), syscall.AllCaps, linux.EINVAL},
		{"MODIFY_ATTRIBUTES: breakpoints only", cfd, linux.PERF_EVENT_IOC_MODIFY_ATTRIBUTES, env.mem.Place(attrBytes(counting)), syscall.AllCaps, linux.EINVAL},
		{"unknown ioctl", cfd, linux.IOC(linux.IOC_NONE, '$', 99, 0), 0, syscall.AllCaps, linux.ENOTTY},
		{"not a perf event", progFD, linux.PERF_EVENT_IOC_ENABLE, 0, syscall.AllCaps, linux.ENOTTY},
		{"closed descriptor", 77, linux.PERF_EVENT_IOC_ENABLE, 0, syscall.AllCaps, linux.EBADF},
	}
	for _, r := range rows {
		env.task.Caps = r.caps
		if err := env.ioctl(r.fd, r.cmd, r.arg); errnoOf(err) != r.want {
			t.Errorf("%s: %v, want %v", r.name, err, r.want)
		}
	}
	env.task.Caps = syscall.AllCaps
	idAddr := env.mem.Place(make([]byte, 8))
	if err := env.ioctl(cfd, linux.PERF_EVENT_IOC_ID, idAddr); err != nil {
		t.Fatal(err)
	}
	var idb [8]byte
	_ = env.mem.CopyIn(idAddr, idb[:])
	if binary.LittleEndian.Uint64(idb[:]) != env.event(cfd).ID() {
		t.Errorf("IOC_ID wrote %d", binary.LittleEndian.Uint64(idb[:]))
	}
	// QUERY_BPF: the count alone with ids_len 0, ENOSPC with room for
	// fewer ids than there are programs.
	q := env.mem.Place(make([]byte, 16))
	if err := env.ioctl(cfd, linux.PERF_EVENT_IOC_QUERY_BPF, q); err != nil {
		t.Fatal(err)
	}
	var qb [12]byte
	_ = env.mem.CopyIn(q, qb[:])
	if binary.LittleEndian.Uint32(qb[4:]) != 1 {
		t.Errorf("prog_cnt %d", binary.LittleEndian.Uint32(qb[4:]))
	}
	q = env.mem.Place(append(le32(4), make([]byte, 20)...))
	if err := env.ioctl(cfd, linux.PERF_EVENT_IOC_QUERY_BPF, q); err != nil {
		t.Fatal(err)
	}
	_ = env.mem.CopyIn(q, qb[:])
	if binary.LittleEndian.Uint32(qb[4:]) != 1 || binary.LittleEndian.Uint32(qb[8:]) != 7 {
		t.Errorf("query: % x", qb)
	}
	// The second event on the tracepoint attaches too: QUERY_BPF on either
	// sees both (the programs belong to the tracepoint).
	if err := env.ioctl(sfd, linux.PERF_EVENT_IOC_SET_BPF, uint64(progFD)); err != nil {
		t.Fatal(err)
	}
	q = env.mem.Place(append(le32(1), make([]byte, 8)...))
	if err := env.ioctl(cfd, linux.PERF_EVENT_IOC_QUERY_BPF, q); err != linux.ENOSPC {
		t.Errorf("QUERY_BPF with room for 1 of 2: %v", err)
	}
}

// TestEnableCountReset: a counting tracepoint event counts hits on its
// CPU only while enabled; RESET zeroes it; the times follow.
func TestEnableCountReset(t *testing.T) {
	trace.SetCPUs(testCPUs)
	env := newTestEnv(t)
	a := Attr{Type: linux.PERF_TYPE_TRACEPOINT, Config: uint64(testTracepointID()), Flags: linux.PerfAttrDisabled,
		ReadFormat: linux.PERF_FORMAT_TOTAL_TIME_ENABLED | linux.PERF_FORMAT_TOTAL_TIME_RUNNING | linux.PERF_FORMAT_ID}
	fd, ev := env.mustOpen(a, -1, 2)
	defer env.task.Files.CloseAll()
	fireSysExit(2, 5)
	if v := readU64s(t, ev, 4); v[0] != 0 || v[1] != 0 || v[2] != 0 || v[3] != ev.ID() {
		t.Errorf("disabled: %v", v)
	}
	if err := env.ioctl(fd, linux.PERF_EVENT_IOC_ENABLE, 0); err != nil {
		t.Fatal(err)
	}
	fireSysExit(2, 7)
	fireSysExit(1, 9) // another CPU: not this event's
	env.host.now.Add(500)
	if v := readU64s(t, ev, 4); v[0] != 7 || v[1] != 500 || v[2] != 500 {
		t.Errorf("enabled: %v", v)
	}
	if err := env.ioctl(fd, linux.PERF_EVENT_IOC_RESET, 0); err != nil {
		t.Fatal(err)
	}
	fireSysExit(2, 2)
	if v := readU64s(t, ev, 4); v[0] != 2 {
		t.Errorf("after reset: %v", v)
	}
	if _, err := ev.Read(make([]byte, 31)); err != linux.ENOSPC {
		t.Errorf("short read: %v", err)
	}
	// exclude_kernel: tracepoints fire in the kernel, so nothing counts.
	b := a
	b.Flags = linux.PerfAttrExcludeKernel
	_, ev2 := env.mustOpen(b, -1, 2)
	fireSysExit(2, 3)
	if v := readU64s(t, ev2, 4); v[0] != 0 {
		t.Errorf("exclude_kernel counted %d", v[0])
	}
}

// TestRefresh: REFRESH n allows n more samples, then the event stops.
func TestRefresh(t *testing.T) {
	trace.SetCPUs(testCPUs)
	env := newTestEnv(t)
	a := Attr{Type: linux.PERF_TYPE_TRACEPOINT, Config: uint64(testTracepointID()), SamplePeriod: 1,
		SampleType: linux.PERF_SAMPLE_RAW, Flags: linux.PerfAttrDisabled}
	fd, ev, mem := env.mapped(a, 0, 1)
	defer env.task.Files.CloseAll()
	if err := env.ioctl(fd, linux.PERF_EVENT_IOC_REFRESH, 2); err != nil {
		t.Fatal(err)
	}
	fireSysExit(0, 5)
	r := newReader(t, mem, a)
	var rec Record
	n := 0
	for r.Read(&rec) == nil {
		n++
	}
	if n != 2 {
		t.Errorf("%d samples after REFRESH 2", n)
	}
	if ev.OnCPU() != -1 {
		t.Error("event still active after its budget")
	}
	if err := env.ioctl(fd, linux.PERF_EVENT_IOC_REFRESH, 1); err != nil {
		t.Fatal(err)
	}
	fireSysExit(0, 5)
	if r.Read(&rec) != nil || r.Read(&rec) != ErrNoRecord {
		t.Error("REFRESH 1 did not allow exactly one more sample")
	}
}

// TestGroups: a group leader and its siblings are read together, enabled
// together with PERF_IOC_FLAG_GROUP, and siblings run only while the
// leader is enabled.
func TestGroups(t *testing.T) {
	trace.SetCPUs(testCPUs)
	env := newTestEnv(t)
	rf := uint64(linux.PERF_FORMAT_GROUP | linux.PERF_FORMAT_ID | linux.PERF_FORMAT_TOTAL_TIME_ENABLED | linux.PERF_FORMAT_TOTAL_TIME_RUNNING)
	lead := Attr{Type: linux.PERF_TYPE_SOFTWARE, Config: linux.PERF_COUNT_SW_DUMMY, Flags: linux.PerfAttrDisabled, ReadFormat: rf}
	lfd, leader := env.mustOpen(lead, -1, 0)
	defer env.task.Files.CloseAll()
	tp := Attr{Type: linux.PERF_TYPE_TRACEPOINT, Config: uint64(testTracepointID()), ReadFormat: rf}
	sfd, err := env.open(tp, -1, 0, int32(lfd), 0)
	if err != nil {
		t.Fatal(err)
	}
	sib := env.event(sfd)
	fireSysExit(0, 4)
	env.host.now.Add(100)
	// nr, time_enabled, time_running, leader {value, id}, sibling {value, id}
	v := readU64s(t, leader, 7)
	if v[0] != 2 || v[3] != 0 || v[4] != leader.ID() || v[5] != 0 || v[6] != sib.ID() {
		t.Errorf("leader disabled: %v", v)
	}
	if st := readU64s(t, sib, 7); st[0] != 2 {
		t.Errorf("sibling reads the group: %v", st)
	}
	if err := env.ioctl(sfd, linux.PERF_EVENT_IOC_ENABLE, linux.PERF_IOC_FLAG_GROUP); err != nil {
		t.Fatal(err)
	}
	fireSysExit(0, 3)
	if v := readU64s(t, leader, 7); v[5] != 3 {
		t.Errorf("group enabled: %v", v)
	}
	if err := env.ioctl(lfd, linux.PERF_EVENT_IOC_DISABLE, 0); err != nil {
		t.Fatal(err)
	}
	fireSysExit(0, 3)
	if v := readU64s(t, leader, 7); v[5] != 3 {
		t.Errorf("sibling counted with its leader disabled: %v", v)
	}
	// Closing the leader makes the sibling a leader of its own.
	if err := env.task.Files.Close(lfd); err != nil {
		t.Fatal(err)
	}
	fireSysExit(0, 1)
	if v := readU64s(t, sib, 5); v[0] != 1 || v[3] != 4 {
		t.Errorf("orphaned sibling: %v", v)
	}
}
