package perf

import (
	"hachi/syscall"
	"hachi/syscall/linux"
)

// Clock ids perf_event_attr.clockid may name with use_clockid
// (<linux/time.h>).
const (
	clockMonotonic    = 1
	clockMonotonicRaw = 4
	clockBoottime     = 7
)

// unsupportedFlags are attr bits asking for what Hachi's PMUs cannot do
// (Linux supports them): EOPNOTSUPP. aux_output is EOPNOTSUPP in Linux
// too for PMUs without AUX.
const unsupportedFlags = linux.PerfAttrWriteBackward | linux.PerfAttrAuxOutput

// PerfEventOpen is perf_event_open(2): attr at attrAddr in t's memory,
// the task (pid: -1 any, 0 the caller, else a thread id) and CPU (-1 any)
// to measure, an optional group leader or output event (groupFD), and
// PERF_FLAG_* flags. It returns the new event's descriptor in t's table,
// close-on-exec with PERF_FLAG_FD_CLOEXEC.
//
// The checks follow kernel/events/core.c in order: flags, perf_copy_attr
// (see CopyAttr), privileges (perf_event_paranoid and CAP_PERFMON:
// EACCES/EPERM), frequency and period, the group descriptor (EBADF), the
// task (ESRCH), perf_event_alloc (EINVAL for a CPU past the possible
// ones, or pid -1 with cpu -1), the PMU (ENOENT when none claims
// type/config, EINVAL for an unknown tracepoint id, EOPNOTSUPP for what
// Hachi's PMUs cannot do), the group (EINVAL), and finally ENODEV for an
// offline CPU.
func (s *System) PerfEventOpen(t *syscall.Task, attrAddr uint64, pid, cpu, groupFD int32, flags uint64) (int, error) {
	if flags&^perfFlagAll != 0 {
		return -1, linux.EINVAL
	}
	attr, err := CopyAttr(t.Mem, attrAddr)
	if err != nil {
		return -1, err
	}
	a := &attr
	if !has(a, linux.PerfAttrExcludeKernel) {
		if err := s.allowKernel(t); err != nil {
			return -1, err
		}
	}
	if has(a, linux.PerfAttrNamespaces) && !perfmonCapable(t) {
		return -1, linux.EACCES
	}
	if has(a, linux.PerfAttrFreq) {
		if a.SamplePeriod > s.MaxSampleRate {
			return -1, linux.EINVAL
		}
	} else if a.SamplePeriod&(1<<63) != 0 {
		return -1, linux.EINVAL
	}
	if a.SampleType&linux.PERF_SAMPLE_PHYS_ADDR != 0 {
		if err := s.allowKernel(t); err != nil {
			return -1, err
		}
	}
	cgroup := flags&linux.PERF_FLAG_PID_CGROUP != 0
	if cgroup && (pid == -1 || cpu == -1) {
		return -1, linux.EINVAL
	}

	var group, output *Event
	if groupFD != -1 {
		f, err := t.Files.Get(int(groupFD))
		if err != nil {
			return -1, linux.EBADF
		}
		defer f.DecRef() // holds the group leader until the event is made
		ev, ok := f.Object().(*Event)
		if !ok {
			return -1, linux.EBADF
		}
		group = ev
		if flags&linux.PERF_FLAG_FD_OUTPUT != 0 {
			output = group
		}
		if flags&linux.PERF_FLAG_FD_NO_GROUP != 0 {
			group = nil
		}
	}
	tid := int32(-1)
	if pid != -1 && !cgroup {
		if tid, err = s.host.FindTask(t, pid); err != nil {
			return -1, err
		}
	}
	if tid >= 0 && group != nil && has(&group.attr, linux.PerfAttrInherit) != has(a, linux.PerfAttrInherit) {
		return -1, linux.EINVAL
	}

	// perf_event_alloc
	if cpu < -1 || int(cpu) >= s.host.PossibleCPUs() || cpu == -1 && tid < 0 {
		return -1, linux.EINVAL
	}
	if has(a, linux.PerfAttrSigtrap) && tid < 0 {
		return -1, linux.EINVAL
	}
	if has(a, linux.PerfAttrInherit) && a.SampleType&linux.PERF_SAMPLE_READ != 0 {
		return -1, linux.EINVAL
	}
	e := &Event{sys: s, attr: attr, cpu: int(cpu), tid: tid, clock: -1}
	e.leader = e
	if err := s.claim(e); err != nil {
		return -1, err
	}
	if cgroup {
		return -1, linux.EINVAL // perf_cgroup_connect: no CONFIG_CGROUP_PERF
	}
	if err := s.checkSupported(e); err != nil {
		return -1, err
	}
	if has(a, linux.PerfAttrUseClockid) {
		switch a.Clockid {
		case clockMonotonic, clockMonotonicRaw, clockBoottime:
			e.clock = a.Clockid
		default:
			// perf_event_set_clock: unknown clocks, and (in Hachi,
			// which has no wall clock) CLOCK_REALTIME and CLOCK_TAI.
			return -1, linux.EINVAL
		}
	}
	if tid < 0 {
		if err := s.allowCPU(t); err != nil {
			return -1, err
		}
	}
	if group != nil {
		if group.leader != group || group.clock != e.clock || group.cpu != e.cpu ||
			group.tid != e.tid || has(a, linux.PerfAttrExclusive|linux.PerfAttrPinned) {
			return -1, linux.EINVAL
		}
	}
	if tid < 0 && !s.host.CPUOnline(int(cpu)) {
		return -1, linux.ENODEV
	}

	// The checks are done: the PMU takes hold (probes are placed).
	e.id = s.nextID.Add(1)
	e.samplePeriod.Store(e.attr.SamplePeriod)
	switch e.kind {
	case kindTracepoint:
		err = s.tpInit(e, func() error { return s.allowTracepoint(t) })
	case kindKprobe:
		err = s.kprobeInit(t, e)
	}
	if err != nil {
		return -1, err
	}
	if output != nil {
		if err := e.setOutput(output); err != nil {
			e.Release()
			return -1, err
		}
	}
	s.ctxMu.Lock()
	if group != nil {
		if group.released {
			s.ctxMu.Unlock()
			e.Release()
			return -1, linux.EINVAL
		}
		e.leader = group
		group.siblings = append(group.siblings, e)
	}
	e.computeSizes()
	if group != nil {
		group.computeSizes() // the group's read size grew
	}
	if !has(a, linux.PerfAttrDisabled) {
		e.setEnabled(true)
	}
	s.ctxMu.Unlock()

	f := syscall.NewFile(e, syscall.O_RDWR)
	fd, err := t.Files.Install(f, flags&linux.PERF_FLAG_FD_CLOEXEC != 0)
	if err != nil {
		f.DecRef()
		return -1, err
	}
	return fd, nil
}

// claim is perf_init_event's search for a PMU: it sets the event's kind,
// or answers ENOENT when no PMU claims type and config (there is no
// hardware PMU: HARDWARE, HW_CACHE, RAW and BREAKPOINT events are ENOENT,
// as on a machine without one), EOPNOTSUPP for software events Hachi does
// not generate.
func (s *System) claim(e *Event) error {
	a := &e.attr
	switch {
	case a.Type == linux.PERF_TYPE_SOFTWARE:
		switch a.Config {
		case linux.PERF_COUNT_SW_BPF_OUTPUT:
			e.kind = kindBPFOutput
		case linux.PERF_COUNT_SW_DUMMY:
			e.kind = kindDummy
		case linux.PERF_COUNT_SW_CPU_CLOCK:
			e.kind = kindCPUClock
		default:
			if a.Config >= linux.PERF_COUNT_SW_MAX {
				return linux.ENOENT
			}
			// TASK_CLOCK, page faults, context switches...: events of a
			// scheduler and memory manager Hachi does not have yet.
			return linux.EOPNOTSUPP
		}
	case a.Type == linux.PERF_TYPE_TRACEPOINT:
		e.kind = kindTracepoint
	case a.Type == KprobeType && s.kprober != nil:
		e.kind = kindKprobe
	default:
		return linux.ENOENT
	}
	return nil
}

// checkSupported refuses, with EOPNOTSUPP, what the claimed PMU cannot do:
// branch stacks (as Linux's software PMUs answer), sample fields Hachi
// does not produce, backward rings, frequency mode except for the CPU
// clock (whose frequency becomes a fixed period, as Linux's
// perf_swevent_init_hrtimer does), and CPU clocks that follow a task
// (they need the scheduler's switch hooks).
func (s *System) checkSupported(e *Event) error {
	a := &e.attr
	if a.SampleType&^supportedSampleType != 0 || a.Flags&unsupportedFlags != 0 {
		return linux.EOPNOTSUPP
	}
	if a.SampleType&linux.PERF_SAMPLE_READ != 0 && a.ReadFormat&linux.PERF_FORMAT_GROUP != 0 {
		return linux.EOPNOTSUPP
	}
	if has(a, linux.PerfAttrFreq) && a.SamplePeriod != 0 {
		if e.kind != kindCPUClock {
			return linux.EOPNOTSUPP
		}
		a.SamplePeriod = 1_000_000_000 / a.SamplePeriod
		a.Flags &^= linux.PerfAttrFreq
	}
	if e.kind == kindCPUClock && e.tid >= 0 {
		return linux.EOPNOTSUPP
	}
	return nil
}
