package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strconv"
	"time"
	"unsafe"

	"hachi/syscall/linux"
)

// CountByContextWord returns the assembly of a program that counts its
// runs in the hash map mapFD (u64 keys, u64 values) by the u64 at byte off
// of its context, as Linux's samples/bpf/sampleip does with
// PT_REGS_IP(&ctx->regs): a key seen first is inserted with BPF_NOEXIST
// (a racing insert on another CPU loses that one run, as in sampleip).
func CountByContextWord(off, mapFD int) string {
	return fmt.Sprintf(countByWordSource, off, mapFD, mapFD)
}

const countByWordSource = `
	ldxdw %%r6, [%%r1+%d]
	stxdw [%%r10-8], %%r6
	lddw %%r1, map_fd %d
	mov %%r2, %%r10
	add %%r2, -8
	call 1
	jeq %%r0, 0, new
	mov %%r1, 1
	lock add [%%r0+0], %%r1
	ja out
new:
	stdw [%%r10-16], 1
	lddw %%r1, map_fd %d
	mov %%r2, %%r10
	add %%r2, -8
	mov %%r3, %%r10
	add %%r3, -16
	mov %%r4, 1
	call 2
out:
	mov %%r0, 0
	exit
`

const (
	// profileDefaultHz is sampleip's default frequency.
	profileDefaultHz = 99
	// profileMaxIPs bounds the distinct addresses counted (sampleip's
	// MAX_IPS).
	profileMaxIPs = 8192
	// profileTop is how many functions profile prints.
	profileTop = 10
	// maxProfileSeconds bounds how long profile samples.
	maxProfileSeconds = 3600
)

// ipOffset is the offset of the instruction pointer in the architecture's
// bpf_user_pt_regs_t: pt_regs.ip on x86_64, user_regs_struct.pc (the
// first field) on riscv64.
func (k *Kernel) ipOffset() int {
	if k.machine == machineRISCV64 {
		return 0
	}
	return ptRegsRIP
}

// profile samples every CPU's instruction pointer at HZ for SECONDS with a
// PERF_EVENT program on one PERF_COUNT_SW_CPU_CLOCK event per CPU (pid -1,
// sample_freq), as Linux's sampleip does, then prints the functions most
// sampled.
func (k *Kernel) profile(out io.Writer, t *Task, args []string) error {
	hz := uint64(profileDefaultHz)
	if len(args) >= 2 && args[0] == "-F" {
		v, err := strconv.ParseUint(args[1], 10, 64)
		if err != nil || v == 0 {
			return fmt.Errorf("profile: frequency %q", args[1])
		}
		hz, args = v, args[2:]
	}
	if len(args) != 1 {
		return errors.New("profile: usage: profile [-F HZ] SECONDS")
	}
	secs, err := strconv.ParseFloat(args[0], 64)
	if err != nil || secs <= 0 || secs > maxProfileSeconds {
		return fmt.Errorf("profile: seconds %q (up to %d)", args[0], maxProfileSeconds)
	}
	c := caller{k, t}
	var fds []uint64
	defer func() {
		for _, fd := range fds {
			c.call("close", fd)
		}
	}()
	ips, err := c.mapCreate(linux.BPF_MAP_TYPE_HASH, "ip_map", 8, 8, profileMaxIPs)
	if err != nil {
		return fmt.Errorf("profile: BPF_MAP_CREATE: %w", err)
	}
	fds = append(fds, uint64(ips))
	prog, err := c.progLoad(linux.BPF_PROG_TYPE_PERF_EVENT, "do_sample", CountByContextWord(k.ipOffset(), ips))
	if err != nil {
		return fmt.Errorf("profile: BPF_PROG_LOAD: %w", err)
	}
	fds = append(fds, uint64(prog))
	var events []uint64
	for cpu := range k.ncpu {
		a := AllocValue[linux.PerfEventAttr]()
		*a = linux.PerfEventAttr{Type: linux.PERF_TYPE_SOFTWARE, Size: uint32(unsafe.Sizeof(*a)),
			Config: linux.PERF_COUNT_SW_CPU_CLOCK, SamplePeriod: hz, Flags: linux.PerfAttrFreq | linux.PerfAttrDisabled}
		ev, err := c.call("perf_event_open", uint64(uintptr(unsafe.Pointer(a))), uint64(uint32(0xffffffff)),
			uint64(cpu), uint64(uint32(0xffffffff)), linux.PERF_FLAG_FD_CLOEXEC)
		runtime.KeepAlive(a)
		if err != nil {
			return fmt.Errorf("profile: perf_event_open CPU clock at %d Hz on CPU %d: %w", hz, cpu, err)
		}
		fds = append(fds, ev)
		events = append(events, ev)
		if _, err := c.call("ioctl", ev, linux.PERF_EVENT_IOC_SET_BPF, uint64(prog)); err != nil {
			return fmt.Errorf("profile: PERF_EVENT_IOC_SET_BPF: %w", err)
		}
	}
	for _, ev := range events {
		if _, err := c.call("ioctl", ev, linux.PERF_EVENT_IOC_ENABLE, 0); err != nil {
			return fmt.Errorf("profile: PERF_EVENT_IOC_ENABLE: %w", err)
		}
	}
	fmt.Fprintf(out, "profile: sampling %d CPUs at %d Hz for %gs\n", len(events), hz, secs)
	time.Sleep(time.Duration(secs * float64(time.Second)))
	for _, ev := range events {
		if _, err := c.call("ioctl", ev, linux.PERF_EVENT_IOC_DISABLE, 0); err != nil {
			return fmt.Errorf("profile: PERF_EVENT_IOC_DISABLE: %w", err)
		}
	}
	counts, err := c.hashU64U64(ips)
	if err != nil {
		return fmt.Errorf("profile: reading ip_map: %w", err)
	}
	k.printProfile(out, counts)
	return nil
}

// printProfile prints the sample count, then the most sampled functions
// with their share, the way sampleip prints its top addresses.
func (k *Kernel) printProfile(out io.Writer, byIP map[uint64]uint64) {
	type entry struct {
		name  string
		count uint64
	}
	byFunc := map[string]uint64{}
	total := uint64(0)
	for ip, n := range byIP {
		name := fmt.Sprintf("%#x", ip)
		if k.board.Symbol != nil {
			if fn, _, _, ok := k.board.Symbol(ip); ok {
				name = fn
			}
		}
		byFunc[name] += n
		total += n
	}
	fmt.Fprintf(out, "profile: %d samples, %d addresses, %d functions\n", total, len(byIP), len(byFunc))
	if total == 0 {
		if k.board.Timer == nil {
			fmt.Fprintln(out, "profile: this board has no sampling timer (CPU clock events count but never sample)")
		}
		return
	}
	var top []entry
	for name, n := range byFunc {
		top = append(top, entry{name, n})
	}
	sort.Slice(top, func(i, j int) bool {
		if top[i].count != top[j].count {
			return top[i].count > top[j].count
		}
		return top[i].name < top[j].name
	})
	if len(top) > profileTop {
		top = top[:profileTop]
	}
	fmt.Fprintf(out, "%8s %6s  %s\n", "COUNT", "SHARE", "FUNCTION")
	for _, e := range top {
		fmt.Fprintf(out, "%8d %5.1f%%  %s\n", e.count, 100*float64(e.count)/float64(total), e.name)
	}
}

// hashU64U64 reads a hash map of u64 keys and u64 values with
// BPF_MAP_GET_NEXT_KEY and BPF_MAP_LOOKUP_ELEM.
func (c caller) hashU64U64(fd int) (map[uint64]uint64, error) {
	m := map[uint64]uint64{}
	var key []byte // NULL: the first key
	value := Alloc(8)
	for {
		next := Alloc(8)
		if err := c.mapElem(linux.BPF_MAP_GET_NEXT_KEY, fd, key, next, 0); err == linux.ENOENT {
			return m, nil
		} else if err != nil {
			return nil, err
		}
		if err := c.mapElem(linux.BPF_MAP_LOOKUP_ELEM, fd, next, value, 0); err != nil {
			return nil, err
		}
		m[binary.LittleEndian.Uint64(next)] = binary.LittleEndian.Uint64(value)
		key = next
	}
}
