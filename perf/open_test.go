package perf

import (
	"encoding/binary"
	"testing"

	"hachi/syscall"
	"hachi/syscall/linux"
)

// TestCopyAttrSizes: perf_copy_attr's size rules, with what it writes
// back into attr.size.
func TestCopyAttrSizes(t *testing.T) {
	base := attrBytes(bpfOutputAttr())
	cases := []struct {
		name     string
		size     uint32 // attr.size
		buf      int    // bytes mapped (the struct may be shorter or longer)
		tail     byte   // value of the bytes past 128
		want     linux.Errno
		wantSize uint32 // attr.size afterwards in user memory
		gotSize  uint32 // Attr.Size returned
	}{
		{"size 0 is PERF_ATTR_SIZE_VER0", 0, 64, 0, 0, 0, 64},
		{"VER0 exactly", 64, 64, 0, 0, 64, 64},
		{"between versions (VER1..VER2)", 76, 76, 0, 0, 76, 76},
		{"VER5", 112, 112, 0, 0, 112, 112},
		{"kernel's size", 128, 128, 0, 0, 128, 128},
		{"VER8 with zero config3 (newer loaders)", 136, 136, 0, 0, 136, 136},
		{"a page, tail zero", 4096, 4096, 0, 0, 4096, 4096},
		{"below VER0: E2BIG, size written back", 63, 128, 0, linux.E2BIG, 128, 0},
		{"past a page: E2BIG", 4097, 4097, 0, linux.E2BIG, 128, 0},
		{"non-zero past the kernel's struct: E2BIG", 136, 136, 1, linux.E2BIG, 128, 0},
		{"tail not mapped: EFAULT", 200, 136, 0, linux.EFAULT, 200, 0},
		{"struct not mapped: EFAULT", 128, 100, 0, linux.EFAULT, 128, 0},
	}
	for _, c := range cases {
		b := make([]byte, c.buf)
		copy(b, base)
		for i := 128; i < len(b); i++ {
			b[i] = c.tail
		}
		if c.buf >= 8 {
			binary.LittleEndian.PutUint32(b[4:], c.size)
		}
		mem := syscall.NewSliceSpace()
		addr := mem.PlaceEnd(b)
		a, err := CopyAttr(mem, addr)
		if errnoOf(err) != c.want {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
			continue
		}
		if got := binary.LittleEndian.Uint32(b[4:]); got != c.wantSize {
			t.Errorf("%s: attr.size in memory %d, want %d", c.name, got, c.wantSize)
		}
		if err == nil && a.Size != c.gotSize {
			t.Errorf("%s: Attr.Size %d, want %d", c.name, a.Size, c.gotSize)
		}
	}
	// A VER0 struct reads nothing past byte 64: config1 and later are 0.
	b := append([]byte(nil), base...)
	binary.LittleEndian.PutUint32(b[4:], 64)
	binary.LittleEndian.PutUint64(b[64:], 0xdead) // config1, not copied
	mem := syscall.NewSliceSpace()
	if a, err := CopyAttr(mem, mem.Place(b)); err != nil || a.Config1 != 0 || a.SampleMaxStack != linux.PERF_MAX_STACK_DEPTH {
		t.Errorf("VER0 copy: %+v %v", a, err)
	}
}

// TestPerfEventOpenChecks: every row is one of Linux's checks, with its errno.
func TestPerfEventOpenChecks(t *testing.T) {
	sw := func(config uint64) Attr {
		return Attr{Type: linux.PERF_TYPE_SOFTWARE, Config: config}
	}
	with := func(a Attr, f func(*Attr)) Attr { f(&a); return a }
	out := bpfOutputAttr()
	tp := Attr{Type: linux.PERF_TYPE_TRACEPOINT, Config: uint64(testTracepointID()), SampleType: linux.PERF_SAMPLE_RAW, SamplePeriod: 1}
	symbol := func(env *testEnv, name string) uint64 { return env.mem.Place([]byte(name + "\x00")) }
	type row struct {
		name  string
		attr  func(env *testEnv) Attr
		pid   int32
		cpu   int32
		group int32 // -2: a software event opened first; -3: a closed fd; -4: a program fd
		flags uint64
		caps  syscall.CapSet
		want  linux.Errno
	}
	a := func(x Attr) func(*testEnv) Attr { return func(*testEnv) Attr { return x } }
	rows := []row{
		{"libbpf perf buffer event", a(out), -1, 0, -1, linux.PERF_FLAG_FD_CLOEXEC, syscall.AllCaps, 0},
		{"flags: unknown bit (PERF_FLAG_ALL)", a(out), -1, 0, -1, 1 << 4, syscall.AllCaps, linux.EINVAL},
		{"copy_attr: __reserved_1 bit", a(with(out, func(a *Attr) { a.Flags |= 1 << 40 })), -1, 0, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"copy_attr: sample_type past PERF_SAMPLE_MAX", a(with(out, func(a *Attr) { a.SampleType |= linux.PERF_SAMPLE_MAX })), -1, 0, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"copy_attr: read_format past PERF_FORMAT_MAX", a(with(out, func(a *Attr) { a.ReadFormat = linux.PERF_FORMAT_MAX })), -1, 0, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"copy_attr: branch stack with no branch bit", a(with(out, func(a *Attr) { a.SampleType |= linux.PERF_SAMPLE_BRANCH_STACK; a.BranchSampleType = 1 })), -1, 0, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"copy_attr: branch stack bit past BRANCH_MAX", a(with(out, func(a *Attr) { a.SampleType |= linux.PERF_SAMPLE_BRANCH_STACK; a.BranchSampleType = 1 << 40 })), -1, 0, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"swevent_init: branch stack on a software event", a(with(out, func(a *Attr) { a.SampleType |= linux.PERF_SAMPLE_BRANCH_STACK; a.BranchSampleType = 1 << 3 })), -1, 0, -1, 0, syscall.AllCaps, linux.EOPNOTSUPP},
		{"copy_attr: perf_reg_validate(0) for REGS_USER", a(with(out, func(a *Attr) { a.SampleType |= linux.PERF_SAMPLE_REGS_USER })), -1, 0, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"copy_attr: sample_stack_user not 8-aligned", a(with(out, func(a *Attr) { a.SampleType |= linux.PERF_SAMPLE_STACK_USER; a.SampleStackUser = 12 })), -1, 0, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"copy_attr: sample_stack_user >= USHRT_MAX", a(with(out, func(a *Attr) { a.SampleType |= linux.PERF_SAMPLE_STACK_USER; a.SampleStackUser = 0x10000 })), -1, 0, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"copy_attr: PERF_SAMPLE_CGROUP without CONFIG_CGROUP_PERF", a(with(out, func(a *Attr) { a.SampleType |= linux.PERF_SAMPLE_CGROUP })), -1, 0, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"copy_attr: WEIGHT with WEIGHT_STRUCT", a(with(out, func(a *Attr) { a.SampleType |= linux.PERF_SAMPLE_WEIGHT_TYPE })), -1, 0, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"copy_attr: inherit_thread without inherit", a(with(out, func(a *Attr) { a.Flags |= linux.PerfAttrInheritThread })), -1, 0, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"copy_attr: remove_on_exec with enable_on_exec", a(with(out, func(a *Attr) { a.Flags |= linux.PerfAttrRemoveOnExec | linux.PerfAttrEnableOnExec })), -1, 0, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"copy_attr: sigtrap without remove_on_exec", a(with(out, func(a *Attr) { a.Flags |= linux.PerfAttrSigtrap })), 0, -1, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"perf_allow_kernel: not excluding the kernel needs CAP_PERFMON", a(out), 0, -1, -1, 0, 0, linux.EACCES},
		{"perf_allow_cpu: a CPU event needs CAP_PERFMON", a(with(out, func(a *Attr) { a.Flags |= linux.PerfAttrExcludeKernel })), -1, 0, -1, 0, 0, linux.EACCES},
		{"unprivileged task event excluding the kernel", a(with(out, func(a *Attr) { a.Flags |= linux.PerfAttrExcludeKernel })), 0, -1, -1, 0, 0, 0},
		{"CAP_PERFMON alone suffices", a(out), -1, 0, -1, 0, 1 << syscall.CAP_PERFMON, 0},
		{"namespaces needs CAP_PERFMON", a(with(out, func(a *Attr) { a.Flags |= linux.PerfAttrNamespaces | linux.PerfAttrExcludeKernel })), 0, -1, -1, 0, 0, linux.EACCES},
		{"freq: sample_freq past perf_event_max_sample_rate", a(with(sw(linux.PERF_COUNT_SW_CPU_CLOCK), func(a *Attr) { a.Flags |= linux.PerfAttrFreq; a.SamplePeriod = 100001 })), -1, 0, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"freq: at the maximum rate", a(with(sw(linux.PERF_COUNT_SW_CPU_CLOCK), func(a *Attr) { a.Flags |= linux.PerfAttrFreq; a.SamplePeriod = 100000 })), -1, 0, -1, 0, syscall.AllCaps, 0},
		{"period: bit 63 set", a(with(out, func(a *Attr) { a.SamplePeriod = 1 << 63 })), -1, 0, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"PID_CGROUP with pid -1", a(out), -1, 0, -1, linux.PERF_FLAG_PID_CGROUP, syscall.AllCaps, linux.EINVAL},
		{"PID_CGROUP with cpu -1", a(out), 5, -1, -1, linux.PERF_FLAG_PID_CGROUP, syscall.AllCaps, linux.EINVAL},
		{"PID_CGROUP: no cgroup support", a(out), 5, 0, -1, linux.PERF_FLAG_PID_CGROUP, syscall.AllCaps, linux.EINVAL},
		{"group_fd not open: EBADF", a(out), -1, 0, 99, 0, syscall.AllCaps, linux.EBADF},
		{"group_fd not a perf event: EBADF", a(out), -1, 0, -4, 0, syscall.AllCaps, linux.EBADF},
		{"group leader on the same CPU", a(sw(linux.PERF_COUNT_SW_DUMMY)), -1, 0, -2, 0, syscall.AllCaps, 0},
		{"group leader on another CPU", a(sw(linux.PERF_COUNT_SW_DUMMY)), -1, 1, -2, 0, syscall.AllCaps, linux.EINVAL},
		{"FD_NO_GROUP: any CPU", a(sw(linux.PERF_COUNT_SW_DUMMY)), -1, 1, -2, linux.PERF_FLAG_FD_NO_GROUP, syscall.AllCaps, 0},
		{"FD_OUTPUT to an unmapped event", a(sw(linux.PERF_COUNT_SW_DUMMY)), -1, 0, -2, linux.PERF_FLAG_FD_OUTPUT | linux.PERF_FLAG_FD_NO_GROUP, syscall.AllCaps, linux.EINVAL},
		{"pinned sibling", a(with(sw(linux.PERF_COUNT_SW_DUMMY), func(a *Attr) { a.Flags |= linux.PerfAttrPinned })), -1, 0, -2, 0, syscall.AllCaps, linux.EINVAL},
		{"unknown pid: ESRCH", a(out), 12345, -1, -1, 0, syscall.AllCaps, linux.ESRCH},
		{"pid 0 is the caller", a(out), 0, -1, -1, 0, syscall.AllCaps, 0},
		{"pid -1 with cpu -1", a(out), -1, -1, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"cpu past nr_cpu_ids", a(out), -1, testCPUs, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"cpu below -1", a(out), 100, -2, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"task on a CPU", a(out), 100, 1, -1, 0, syscall.AllCaps, 0},
		{"offline CPU: ENODEV", a(out), -1, 3, -1, 0, syscall.AllCaps, linux.ENODEV},
		{"inherit with SAMPLE_READ", a(with(out, func(a *Attr) { a.Flags |= linux.PerfAttrInherit; a.SampleType |= linux.PERF_SAMPLE_READ })), 0, -1, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"hardware: no PMU claims it", a(Attr{Type: linux.PERF_TYPE_HARDWARE}), -1, 0, -1, 0, syscall.AllCaps, linux.ENOENT},
		{"raw: no PMU", a(Attr{Type: linux.PERF_TYPE_RAW}), -1, 0, -1, 0, syscall.AllCaps, linux.ENOENT},
		{"unknown type", a(Attr{Type: 1000}), -1, 0, -1, 0, syscall.AllCaps, linux.ENOENT},
		{"software config past PERF_COUNT_SW_MAX", a(sw(linux.PERF_COUNT_SW_MAX)), -1, 0, -1, 0, syscall.AllCaps, linux.ENOENT},
		{"software event Hachi does not generate", a(sw(linux.PERF_COUNT_SW_PAGE_FAULTS)), -1, 0, -1, 0, syscall.AllCaps, linux.EOPNOTSUPP},
		{"dummy", a(sw(linux.PERF_COUNT_SW_DUMMY)), -1, 0, -1, 0, syscall.AllCaps, 0},
		{"exclude bits on a software event", a(with(out, func(a *Attr) {
			a.Flags |= linux.PerfAttrExcludeUser | linux.PerfAttrExcludeHv | linux.PerfAttrExcludeIdle | linux.PerfAttrExcludeGuest
		})), -1, 0, -1, 0, syscall.AllCaps, 0},
		{"sample fields Hachi cannot produce", a(with(out, func(a *Attr) { a.SampleType |= linux.PERF_SAMPLE_DATA_SRC })), -1, 0, -1, 0, syscall.AllCaps, linux.EOPNOTSUPP},
		{"write_backward", a(with(out, func(a *Attr) { a.Flags |= linux.PerfAttrWriteBackward })), -1, 0, -1, 0, syscall.AllCaps, linux.EOPNOTSUPP},
		{"aux_output", a(with(out, func(a *Attr) { a.Flags |= linux.PerfAttrAuxOutput })), -1, 0, -1, 0, syscall.AllCaps, linux.EOPNOTSUPP},
		{"frequency on a tracepoint", a(with(tp, func(a *Attr) { a.Flags |= linux.PerfAttrFreq; a.SamplePeriod = 10 })), -1, 0, -1, 0, syscall.AllCaps, linux.EOPNOTSUPP},
		{"CPU clock following a task", a(sw(linux.PERF_COUNT_SW_CPU_CLOCK)), 0, -1, -1, 0, syscall.AllCaps, linux.EOPNOTSUPP},
		{"use_clockid CLOCK_MONOTONIC", a(with(out, func(a *Attr) { a.Flags |= linux.PerfAttrUseClockid; a.Clockid = 1 })), -1, 0, -1, 0, syscall.AllCaps, 0},
		{"use_clockid unknown clock", a(with(out, func(a *Attr) { a.Flags |= linux.PerfAttrUseClockid; a.Clockid = 42 })), -1, 0, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"tracepoint", a(tp), -1, 0, -1, 0, syscall.AllCaps, 0},
		{"tracepoint: unknown id is EINVAL (perf_trace_init)", a(with(tp, func(a *Attr) { a.Config = 1 })), -1, 0, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"tracepoint raw data: perf_allow_tracepoint", a(with(tp, func(a *Attr) { a.Flags |= linux.PerfAttrExcludeKernel })), 0, -1, -1, 0, 0, linux.EPERM},
		{"tracepoint counting only, unprivileged", a(with(tp, func(a *Attr) { a.SampleType = 0; a.Flags |= linux.PerfAttrExcludeKernel })), 0, -1, -1, 0, 0, 0},
		{"kprobe by symbol", func(env *testEnv) Attr {
			return Attr{Type: KprobeType, Config1: symbol(env, "do_sys_open")}
		}, -1, 0, -1, 0, syscall.AllCaps, 0},
		{"kprobe: unknown symbol is ENOENT", func(env *testEnv) Attr {
			return Attr{Type: KprobeType, Config1: symbol(env, "no_such_function")}
		}, -1, 0, -1, 0, syscall.AllCaps, linux.ENOENT},
		{"kprobe: offset off an instruction", func(env *testEnv) Attr {
			return Attr{Type: KprobeType, Config1: symbol(env, "do_sys_open"), Config2: 2}
		}, -1, 0, -1, 0, syscall.AllCaps, linux.EILSEQ},
		{"kretprobe not at entry", func(env *testEnv) Attr {
			return Attr{Type: KprobeType, Config: KprobeConfigRetprobe, Config1: symbol(env, "do_sys_open"), Config2: 8}
		}, -1, 0, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"kprobe: neither symbol nor address", a(Attr{Type: KprobeType}), -1, 0, -1, 0, syscall.AllCaps, linux.EINVAL},
		{"kprobe: empty symbol, address in config2", a(Attr{Type: KprobeType, Config2: 0xffffffff81000004}), -1, 0, -1, 0, syscall.AllCaps, 0},
		{"kprobe: symbol name at KSYM_NAME_LEN", func(env *testEnv) Attr {
			return Attr{Type: KprobeType, Config1: symbol(env, stringOf('a', ksymNameLen))}
		}, -1, 0, -1, 0, syscall.AllCaps, linux.E2BIG},
		{"kprobe: name pointer faults", a(Attr{Type: KprobeType, Config1: 8}), -1, 0, -1, 0, syscall.AllCaps, linux.EFAULT},
		{"kprobe: needs CAP_PERFMON", func(env *testEnv) Attr {
			return Attr{Type: KprobeType, Config1: symbol(env, "do_sys_open"), Flags: linux.PerfAttrExcludeKernel}
		}, 0, -1, -1, 0, 0, linux.EACCES},
	}
	for _, r := range rows {
		env := newTestEnv(t)
		env.task.Caps = syscall.AllCaps
		group := r.group
		switch group {
		case -2:
			fd, _ := env.mustOpen(sw(linux.PERF_COUNT_SW_DUMMY), -1, 0)
			group = int32(fd)
		case -4:
			group = int32(env.installProg(&testProg{}))
		}
		env.task.Caps = r.caps
		fd, err := env.open(r.attr(env), r.pid, r.cpu, group, r.flags)
		if got := errnoOf(err); got != r.want {
			t.Errorf("%s: got %v, want %v", r.name, err, r.want)
			continue
		}
		if err == nil {
			if ce, _ := env.task.Files.CloseOnExec(fd); ce != (r.flags&linux.PERF_FLAG_FD_CLOEXEC != 0) {
				t.Errorf("%s: close-on-exec %v", r.name, ce)
			}
		}
		env.task.Files.CloseAll()
		if n := env.kp.count(); n != 0 {
			t.Errorf("%s: %d kprobes left after close", r.name, n)
		}
	}
}

func stringOf(c byte, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

// TestParanoid: with kernel.perf_event_paranoid -1 an unprivileged task
// may open what root may.
func TestParanoid(t *testing.T) {
	env := newTestEnv(t)
	env.task.Caps = 0
	env.sys.Paranoid = -1
	if _, err := env.open(bpfOutputAttr(), -1, 0, -1, 0); err != nil {
		t.Fatal(err)
	}
}

func TestSysfs(t *testing.T) {
	env := newTestEnv(t)
	for path, want := range map[string]string{
		"bus/event_source/devices/kprobe/type":            "6\n",
		"bus/event_source/devices/kprobe/format/retprobe": "config:0\n",
		"bus/event_source/devices/tracepoint/type":        "2\n",
		"bus/event_source/devices/software/type":          "1\n",
	} {
		if got, err := env.sys.ReadSysfs(path); err != nil || string(got) != want {
			t.Errorf("%s: %q %v", path, got, err)
		}
	}
	noKprobes := New(newFakeHost(), nil)
	if _, err := noKprobes.ReadSysfs("bus/event_source/devices/kprobe/type"); err != linux.ENOENT {
		t.Errorf("kprobe type without a kprober: %v", err)
	}
}
