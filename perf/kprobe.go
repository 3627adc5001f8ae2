package perf

import (
	"encoding/binary"
	"sync/atomic"

	"hachi/syscall"
	"hachi/syscall/linux"
)

// KprobeType is the dynamic PMU type of kprobe events, as
// /sys/bus/event_source/devices/kprobe/type tells it (Linux numbers
// dynamic PMUs from PERF_TYPE_MAX; the kprobe PMU is the first Hachi
// registers).
const KprobeType = linux.PERF_TYPE_MAX

// KprobeConfigRetprobe is the retprobe bit of a kprobe event's config,
// as /sys/bus/event_source/devices/kprobe/format/retprobe ("config:0")
// tells it (PERF_PROBE_CONFIG_IS_RETPROBE).
const KprobeConfigRetprobe = 1 << 0

// ksymNameLen is KSYM_NAME_LEN (Linux 6.1): a kprobe symbol name of this
// many bytes or more is E2BIG.
const ksymNameLen = 512

// Kprober is the kprobe subsystem as perf's kprobe PMU uses it
// (register_kprobe / register_kretprobe); package kprobe implements it
// over the architecture's breakpoints and the kernel's symbol table.
type Kprober interface {
	// Register places a probe at spec and calls h on every hit until the
	// probe is unregistered. Its errors are Linux's: EINVAL when neither
	// or both of a symbol and an address are given, for a return probe
	// not at a function's entry, or for an address that may not be probed
	// (the probe machinery itself, notrace code); ENOENT for an unknown
	// symbol or an address outside every symbol; EILSEQ for an offset
	// that is not on an instruction boundary.
	Register(spec KprobeSpec, h KprobeHandler) (Kprobe, error)
}

// KprobeSpec says where a kprobe goes, as perf_event_attr does for the
// kprobe PMU: symbol+offset, or an absolute address when Symbol is empty.
type KprobeSpec struct {
	Symbol string
	Offset uint64 // with Symbol
	Addr   uint64 // without Symbol
	// Retprobe places a return probe (kretprobe): the handler runs when
	// the function returns, with the registers at return (IP is the
	// address returned to).
	Retprobe bool
}

// KprobeHandler is called from the breakpoint trap on cpu with the probed
// context's registers (kprobe_dispatcher). It must not allocate or block.
type KprobeHandler interface {
	Hit(cpu int, regs *Regs)
}

// Kprobe is a placed probe.
type Kprobe interface {
	// Addr is the probed address (symbol+offset resolved).
	Addr() uint64
	// Unregister removes the probe; once it returns, the handler is not
	// running and will not run again.
	Unregister()
}

// kprobeSite is the trace_kprobe perf creates for one kprobe event
// (create_local_trace_kprobe): the probe, the event, the programs.
type kprobeSite struct {
	sys    *System
	probe  Kprobe
	event  *Event
	progs  progArray
	ret    bool
	typeID uint16 // common_type of its records
}

var kprobeTypeIDs atomic.Uint32

// kprobeInit is perf_kprobe_event_init and perf_kprobe_init: CAP_PERFMON
// (EACCES), then the probe named by config1 (a pointer to the symbol name
// in the caller's memory; 0 or an empty name: none) and config2 (the
// offset, or the address without a symbol), a return probe if config has
// the retprobe bit.
func (s *System) kprobeInit(t *syscall.Task, e *Event) error {
	if !perfmonCapable(t) {
		return linux.EACCES
	}
	spec := KprobeSpec{Retprobe: e.attr.Config&KprobeConfigRetprobe != 0}
	if e.attr.Config1 != 0 {
		name, err := syscall.CopyInString(t.Mem, e.attr.Config1, ksymNameLen)
		switch err {
		case nil:
		case linux.ENAMETOOLONG:
			return linux.E2BIG
		default:
			return linux.EFAULT
		}
		spec.Symbol = name
	}
	if spec.Symbol != "" {
		spec.Offset = e.attr.Config2
	} else {
		spec.Addr = e.attr.Config2
	}
	k := &kprobeSite{sys: s, event: e, ret: spec.Retprobe,
		typeID: uint16(0x8000 + kprobeTypeIDs.Add(1)%0x8000)}
	probe, err := s.kprober.Register(spec, k)
	if err != nil {
		return err
	}
	k.probe = probe
	e.kp = k
	return nil
}

// close removes the probe of a released event.
func (k *kprobeSite) close(*Event) { k.probe.Unregister() }

// Hit implements KprobeHandler (kprobe_perf_func, kretprobe_perf_func):
// the programs run with the registers as their context; unless they all
// return non-zero the event does not see the hit. A matching event counts
// it and, if sampling, writes a sample whose raw data is the kprobe trace
// record: the common header and the probed address (kprobe), or the
// function and return address (kretprobe).
func (k *kprobeSite) Hit(cpu int, regs *Regs) {
	ctx := regsRegion(regs)
	if k.sys.runArray(cpu, &k.progs, ctx, regs) == 0 {
		return
	}
	e := k.event
	if !e.matches(cpu, regs) {
		return
	}
	var rec [32]byte
	_, tid := k.sys.host.Current(cpu) // common_pid is the thread's id
	binary.LittleEndian.PutUint16(rec[0:], k.typeID)
	binary.LittleEndian.PutUint32(rec[4:], uint32(tid))
	n := 20 // ALIGN(16 + 4, 8) - 4
	if k.ret {
		binary.LittleEndian.PutUint64(rec[8:], k.probe.Addr())
		binary.LittleEndian.PutUint64(rec[16:], regs.IP)
		n = 28
	} else {
		binary.LittleEndian.PutUint64(rec[8:], k.probe.Addr())
	}
	sd := sampleData{raw: rec[:n], hasRaw: true}
	e.swHit(cpu, 1, &sd, regs)
}
