package helpers_test

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"testing"

	"hachi/bpf/helpers"
	"hachi/bpf/maps"
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// TestTableMatchesLinuxIDs checks every row against the uapi: names,
// unique ids, and the rules of prototypes (a size follows its memory).
func TestTableMatchesLinuxIDs(t *testing.T) {
	seen := map[linux.BPFFuncID]bool{}
	for _, h := range helpers.Table {
		if seen[h.ID] {
			t.Errorf("%v twice", h.ID)
		}
		seen[h.ID] = true
		if "bpf_"+h.Proto.Name != h.ID.String() {
			t.Errorf("id %d is %s, its prototype says %s", h.ID, h.ID, h.Proto.Name)
		}
		for i, a := range h.Proto.Args {
			base := a & 0xff
			if base == 6 /* ArgConstSize */ || base == 7 /* ArgConstSizeOrZero */ {
				if i == 0 || h.Proto.Args[i-1]&0xff != 5 /* ArgPtrToMem */ {
					t.Errorf("%s: size argument %d does not follow memory", h.Proto.Name, i+1)
				}
			}
		}
		if h.Base == helpers.NotBase && h.Types == 0 {
			t.Errorf("%s: no program may call it", h.Proto.Name)
		}
	}
	for _, id := range []linux.BPFFuncID{1, 2, 3, 4, 5, 6, 7, 8, 12, 14, 15, 16, 25, 27, 45, 87, 88, 89, 112, 113, 114, 115,
		125, 130, 131, 132, 133, 134, 160, 164, 165, 173, 174, 181, 195} {
		if !seen[id] {
			t.Errorf("%v missing", id)
		}
	}
}

// TestForProgType checks get_func_proto's answers: base helpers for all,
// capability-gated ones, and the tracing-only ones.
func TestForProgType(t *testing.T) {
	s := helpers.New(&testKernel, testCPUs)
	for _, c := range []struct {
		typ  linux.BPFProgType
		caps helpers.Caps
		id   linux.BPFFuncID
		want bool
	}{
		{linux.BPF_PROG_TYPE_SOCKET_FILTER, helpers.Caps{}, linux.BPF_FUNC_map_lookup_elem, true},
		{linux.BPF_PROG_TYPE_SOCKET_FILTER, helpers.Caps{}, linux.BPF_FUNC_ringbuf_output, true},
		{linux.BPF_PROG_TYPE_SOCKET_FILTER, helpers.Caps{}, linux.BPF_FUNC_trace_printk, false},
		{linux.BPF_PROG_TYPE_SOCKET_FILTER, helpers.Caps{BPF: true}, linux.BPF_FUNC_trace_printk, false},
		{linux.BPF_PROG_TYPE_SOCKET_FILTER, allCaps, linux.BPF_FUNC_trace_printk, true},
		{linux.BPF_PROG_TYPE_SOCKET_FILTER, allCaps, linux.BPF_FUNC_probe_read_kernel, true},
		{linux.BPF_PROG_TYPE_SOCKET_FILTER, allCaps, linux.BPF_FUNC_probe_read, false},
		{linux.BPF_PROG_TYPE_SOCKET_FILTER, allCaps, linux.BPF_FUNC_get_current_pid_tgid, false},
		{linux.BPF_PROG_TYPE_XDP, allCaps, linux.BPF_FUNC_perf_event_output, false},
		{linux.BPF_PROG_TYPE_KPROBE, helpers.Caps{}, linux.BPF_FUNC_probe_read, true},
		{linux.BPF_PROG_TYPE_KPROBE, helpers.Caps{}, linux.BPF_FUNC_get_func_ip, true},
		{linux.BPF_PROG_TYPE_TRACEPOINT, helpers.Caps{}, linux.BPF_FUNC_get_func_ip, false},
		{linux.BPF_PROG_TYPE_TRACEPOINT, helpers.Caps{}, linux.BPF_FUNC_get_attach_cookie, true},
		{linux.BPF_PROG_TYPE_RAW_TRACEPOINT, helpers.Caps{}, linux.BPF_FUNC_get_attach_cookie, false},
		{linux.BPF_PROG_TYPE_PERF_EVENT, helpers.Caps{}, linux.BPF_FUNC_get_stackid, true},
		{linux.BPF_PROG_TYPE_TRACING, helpers.Caps{}, linux.BPF_FUNC_get_stackid, false},
		{linux.BPF_PROG_TYPE_KPROBE, helpers.Caps{}, linux.BPF_FUNC_ktime_get_coarse_ns, true},
		{linux.BPF_PROG_TYPE_KPROBE, helpers.Caps{}, linux.BPF_FUNC_skb_load_bytes, false},
	} {
		impl, protos := s.ForProgType(c.typ, c.caps)
		p := protos(int32(c.id))
		if (p != nil) != c.want {
			t.Errorf("%v %+v %v: prototype %v, want %v", c.typ, c.caps, c.id, p != nil, c.want)
		}
		if c.want && c.id != linux.BPF_FUNC_tail_call && impl[c.id] == nil {
			t.Errorf("%v: no implementation", c.id)
		}
	}
	impl, protos := s.ForProgType(linux.BPF_PROG_TYPE_KPROBE, allCaps)
	if protos(int32(linux.BPF_FUNC_tail_call)) == nil || impl[linux.BPF_FUNC_tail_call] != nil {
		t.Error("tail_call has a prototype and no implementation (the VM does it)")
	}
	if protos(-1) != nil || protos(5000) != nil {
		t.Error("out-of-range ids")
	}
}

var testKernel helperKernel

// helperKernel is a kernel for tests that do not need one.
type helperKernel struct{ helpers.Kernel }

func TestClocksCPUAndTask(t *testing.T) {
	s, k := newTestSet()
	k.Monotonic, k.Step, k.Boot, k.Coarse = 1000, 5, 2000, 3000
	env := vm.NewEnv()
	env.CPU = 2
	if s.call(env, linux.BPF_FUNC_ktime_get_ns, 0, 0, 0, 0, 0) != 1000 || s.call(env, linux.BPF_FUNC_ktime_get_ns, 0, 0, 0, 0, 0) != 1005 {
		t.Fatal("ktime_get_ns")
	}
	if s.call(env, linux.BPF_FUNC_ktime_get_boot_ns, 0, 0, 0, 0, 0) != 2000 || s.call(env, linux.BPF_FUNC_ktime_get_coarse_ns, 0, 0, 0, 0, 0) != 3000 {
		t.Fatal("boot and coarse clocks")
	}
	if s.call(env, linux.BPF_FUNC_get_smp_processor_id, 0, 0, 0, 0, 0) != 2 {
		t.Fatal("get_smp_processor_id")
	}
	// No task on the CPU: EINVAL, and a zeroed comm.
	comm := bytes.Repeat([]byte{0xff}, 8)
	if int64(s.call(env, linux.BPF_FUNC_get_current_pid_tgid, 0, 0, 0, 0, 0)) != -int64(linux.EINVAL) ||
		int64(s.call(env, linux.BPF_FUNC_get_current_comm, addr(comm), 8, 0, 0, 0)) != -int64(linux.EINVAL) ||
		!bytes.Equal(comm, make([]byte, 8)) {
		t.Fatal("no current task")
	}
	task := helpers.Task{PID: 7, TGID: 5, UID: 1000, GID: 100}
	copy(task.Comm[:], "long-task-name")
	k.Tasks[2] = task
	if s.call(env, linux.BPF_FUNC_get_current_pid_tgid, 0, 0, 0, 0, 0) != 5<<32|7 {
		t.Fatal("get_current_pid_tgid")
	}
	if s.call(env, linux.BPF_FUNC_get_current_uid_gid, 0, 0, 0, 0, 0) != 100<<32|1000 {
		t.Fatal("get_current_uid_gid")
	}
	comm = bytes.Repeat([]byte{0xff}, 20)
	if s.call(env, linux.BPF_FUNC_get_current_comm, addr(comm), 20, 0, 0, 0) != 0 ||
		!bytes.Equal(comm, append([]byte("long-task-name"), 0, 0, 0, 0, 0, 0)) {
		t.Fatalf("comm %q (NUL-padded)", comm)
	}
	short := bytes.Repeat([]byte{0xff}, 5)
	s.call(env, linux.BPF_FUNC_get_current_comm, addr(short), 5, 0, 0, 0)
	if string(short) != "long\x00" {
		t.Fatalf("truncated comm %q", short)
	}
	env.Cookie = 0xc00c1e
	if s.call(env, linux.BPF_FUNC_get_attach_cookie, 0, 0, 0, 0, 0) != 0xc00c1e {
		t.Fatal("get_attach_cookie")
	}
	k.FuncIPs = map[uint32]uint64{2: 0xffffffff81000040}
	if s.call(env, linux.BPF_FUNC_get_func_ip, 0, 0, 0, 0, 0) != 0xffffffff81000040 {
		t.Fatal("get_func_ip")
	}
}

func TestPrandom(t *testing.T) {
	s, _ := newTestSet()
	envs := []*vm.Env{vm.NewEnv(), vm.NewEnv()}
	envs[1].CPU = 1
	seen := map[uint64]bool{}
	var ones int
	for i := 0; i < 1000; i++ {
		for _, env := range envs {
			v := s.call(env, linux.BPF_FUNC_get_prandom_u32, 0, 0, 0, 0, 0)
			if v>>32 != 0 {
				t.Fatal("not a u32")
			}
			seen[v] = true
			for ; v != 0; v &= v - 1 {
				ones++
			}
		}
	}
	if len(seen) < 1990 || ones < 2000*16-2000 || ones > 2000*16+2000 {
		t.Fatalf("%d distinct values, %d one bits of %d", len(seen), ones, 2000*32)
	}
}

func TestProbeRead(t *testing.T) {
	s, k := newTestSet()
	env := vm.NewEnv()
	kmem := []byte("kernel bytes\x00tail")
	kaddr := k.KernelMemory(kmem)
	k.UserMemory(0x4000, []byte("user string\x00"))
	dst := make([]byte, 6)
	for _, c := range []struct {
		id   linux.BPFFuncID
		src  uint64
		size uint64
		ret  int64
		want string
	}{
		{linux.BPF_FUNC_probe_read_kernel, kaddr, 6, 0, "kernel"},
		{linux.BPF_FUNC_probe_read_kernel, 0xdead0000, 6, -int64(linux.EFAULT), "\x00\x00\x00\x00\x00\x00"},
		{linux.BPF_FUNC_probe_read_kernel, 0x4000, 6, -int64(linux.ERANGE), "\x00\x00\x00\x00\x00\x00"},
		{linux.BPF_FUNC_probe_read_user, 0x4000, 6, 0, "user s"},
		{linux.BPF_FUNC_probe_read_user, kaddr, 6, -int64(linux.EFAULT), "\x00\x00\x00\x00\x00\x00"},
		{linux.BPF_FUNC_probe_read, 0x4000, 4, 0, "user\x00\x00"},
		{linux.BPF_FUNC_probe_read, kaddr, 4, 0, "kern\x00\x00"},
		{linux.BPF_FUNC_probe_read_kernel, kaddr, 0, 0, "\x00\x00\x00\x00\x00\x00"},
		// Strings: the length with the NUL, truncated with a NUL.
		{linux.BPF_FUNC_probe_read_kernel_str, kaddr, 6, 6, "kerne\x00"},
		{linux.BPF_FUNC_probe_read_kernel_str, kaddr + 7, 6, 6, "bytes\x00"},
		{linux.BPF_FUNC_probe_read_kernel_str, kaddr + 9, 6, 4, "tes\x00\x00\x00"},
		{linux.BPF_FUNC_probe_read_kernel_str, kaddr + 12, 6, 1, "\x00\x00\x00\x00\x00\x00"},
		{linux.BPF_FUNC_probe_read_kernel_str, kaddr + 13, 6, -int64(linux.EFAULT), "\x00\x00\x00\x00\x00\x00"},
		{linux.BPF_FUNC_probe_read_user_str, 0x4000 + 5, 6, 6, "strin\x00"},
		{linux.BPF_FUNC_probe_read_user_str, 0x4000 + 8, 6, 4, "ing\x00\x00\x00"},
		{linux.BPF_FUNC_probe_read_str, 0x4000 + 8, 6, 4, "ing\x00\x00\x00"},
		{linux.BPF_FUNC_probe_read_str, kaddr + 9, 6, 4, "tes\x00\x00\x00"},
		{linux.BPF_FUNC_probe_read_user_str, 0x4000, 0, 0, "\x00\x00\x00\x00\x00\x00"},
	} {
		clear(dst)
		r := int64(s.call(env, c.id, addr(dst), c.size, c.src, 0, 0))
		if r != c.ret || string(dst) != c.want {
			t.Errorf("%v(%#x, %d): %d %q, want %d %q", c.id, c.src, c.size, r, dst, c.ret, c.want)
		}
	}
}

func TestGetStackID(t *testing.T) {
	s, k := newTestSet()
	m, _ := maps.New(maps.Spec{Type: linux.BPF_MAP_TYPE_STACK_TRACE, KeySize: 4, ValueSize: 3 * 8, MaxEntries: 1 << 16}, maps.FixedHost{CPUs: testCPUs})
	h := vm.NewMapHandle(m)
	env := vm.NewEnv()
	k.Stacks = map[uint32][]uint64{0: {0xa1, 0xa2, 0xa3, 0xa4, 0xa5}}
	k.UserStacks = map[uint32][]uint64{0: {0xb1}}
	id := s.call(env, linux.BPF_FUNC_get_stackid, 0, h.Addr(), 0, 0, 0)
	if int64(id) < 0 {
		t.Fatalf("get_stackid: %d", int64(id))
	}
	out := make([]byte, 24)
	m.Lookup(u32b(uint32(id)), out, 0)
	if !bytes.Equal(out, append(append(u64b(0xa1), u64b(0xa2)...), u64b(0xa3)...)) {
		t.Fatalf("trace %x", out)
	}
	skipped := s.call(env, linux.BPF_FUNC_get_stackid, 0, h.Addr(), 2, 0, 0)
	if int64(skipped) < 0 || m.Lookup(u32b(uint32(skipped)), out, 0) != nil {
		t.Fatalf("get_stackid skipping 2: %d", int64(skipped))
	}
	if !bytes.Equal(out[:8], u64b(0xa3)) {
		t.Fatalf("skip 2: %x", out)
	}
	user := s.call(env, linux.BPF_FUNC_get_stackid, 0, h.Addr(), linux.BPF_F_USER_STACK, 0, 0)
	if int64(user) < 0 || m.Lookup(u32b(uint32(user)), out, 0) != nil {
		t.Fatalf("get_stackid of the user stack: %d", int64(user))
	}
	if !bytes.Equal(out, append(u64b(0xb1), make([]byte, 16)...)) {
		t.Fatalf("user stack %x", out)
	}
	for _, c := range []struct {
		flags uint64
		want  linux.Errno
	}{{1 << 12, linux.EINVAL}, {9, linux.EFAULT}} {
		if r := int64(s.call(env, linux.BPF_FUNC_get_stackid, 0, h.Addr(), c.flags, 0, 0)); r != -int64(c.want) {
			t.Errorf("flags %#x: %d", c.flags, r)
		}
	}
	env.CPU = 1 // no stack known
	if r := int64(s.call(env, linux.BPF_FUNC_get_stackid, 0, h.Addr(), 0, 0, 0)); r != -int64(linux.EFAULT) {
		t.Errorf("no stack: %d", r)
	}
}

// event is a perf event recording its samples.
type event struct {
	cpu     int
	samples [][]byte
}

func (e *event) BPFOutput() bool { return true }
func (e *event) OnCPU() int      { return e.cpu }
func (e *event) Output(cpu int, data []byte) error {
	e.samples = append(e.samples, append([]byte(nil), data...))
	return nil
}

func TestPerfEventOutput(t *testing.T) {
	s, _ := newTestSet()
	m, _ := maps.New(maps.Spec{Type: linux.BPF_MAP_TYPE_PERF_EVENT_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: testCPUs}, maps.FixedHost{CPUs: testCPUs})
	events := make([]*event, testCPUs)
	for i := range events {
		events[i] = &event{cpu: i}
		m.(maps.ObjectMap).UpdateObject(u32b(uint32(i)), events[i], 0)
	}
	h := vm.NewMapHandle(m)
	env := vm.NewEnv()
	env.CPU = 3
	data := []byte("sample")
	if r := s.call(env, linux.BPF_FUNC_perf_event_output, 0, h.Addr(), linux.BPF_F_CURRENT_CPU, addr(data), 6); r != 0 {
		t.Fatalf("output: %d", int64(r))
	}
	if len(events[3].samples) != 1 || string(events[3].samples[0]) != "sample" {
		t.Fatal("the sample did not reach cpu 3's event")
	}
	if r := int64(s.call(env, linux.BPF_FUNC_perf_event_output, 0, h.Addr(), 0, addr(data), 6)); r != -int64(linux.EOPNOTSUPP) {
		t.Fatalf("cpu 0's event from cpu 3: %d", r)
	}
}

func TestMapLookupPercpuElem(t *testing.T) {
	s, _ := newTestSet()
	m, _ := maps.New(maps.Spec{Type: linux.BPF_MAP_TYPE_PERCPU_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 4}, maps.FixedHost{CPUs: testCPUs})
	h := vm.NewMapHandle(m)
	in := make([]byte, 8*testCPUs)
	for cpu := 0; cpu < testCPUs; cpu++ {
		in[cpu*8] = byte(cpu + 10)
	}
	m.Update(u32b(1), in, 0)
	env := vm.NewEnv()
	key := u32b(1)
	for cpu := uint64(0); cpu < testCPUs; cpu++ {
		p := s.call(env, linux.BPF_FUNC_map_lookup_percpu_elem, h.Addr(), addr(key), cpu, 0, 0)
		if p == 0 || *(*byte)(ptrOf(p)) != byte(cpu+10) {
			t.Fatalf("cpu %d's value", cpu)
		}
	}
	if s.call(env, linux.BPF_FUNC_map_lookup_percpu_elem, h.Addr(), addr(key), testCPUs, 0, 0) != 0 {
		t.Fatal("past the possible CPUs")
	}
	missing := u32b(2)
	if s.call(env, linux.BPF_FUNC_map_lookup_percpu_elem, h.Addr(), addr(missing), 0, 0, 0) != 0 {
		t.Fatal("missing key")
	}
}

// TestHelpersDoNotAllocate: helpers run in program context, possibly in a
// trap, where the kernel cannot allocate. Error paths included.
func TestHelpersDoNotAllocate(t *testing.T) {
	s, k := newTestSet()
	var handles []*vm.MapHandle // programs' maps stay alive while they run
	defer runtime.KeepAlive(handles)
	newMap := func(spec maps.Spec) (maps.Map, uint64) {
		m, err := maps.New(spec, maps.FixedHost{CPUs: testCPUs})
		if err != nil {
			t.Fatal(err)
		}
		h := vm.NewMapHandle(m)
		handles = append(handles, h)
		return m, h.Addr()
	}
	_, array := newMap(maps.Spec{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 4})
	_, hash := newMap(maps.Spec{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 4})
	_, lru := newMap(maps.Spec{Type: linux.BPF_MAP_TYPE_LRU_PERCPU_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 4})
	_, queue := newMap(maps.Spec{Type: linux.BPF_MAP_TYPE_QUEUE, ValueSize: 8, MaxEntries: 4})
	ringMap, ring := newMap(maps.Spec{Type: linux.BPF_MAP_TYPE_RINGBUF, MaxEntries: 4096})
	reader := ringMap.(*maps.RingBuf).Reader()
	consume := func([]byte) error { return nil }
	str := cstr("a string")
	k.KernelMemory(str)
	ip := []byte{10, 0, 0, 1}
	k.KernelMemory(ip)
	format := cstr("%d %s %pI4 %x\n")
	env := vm.NewEnv()
	env.CPU = 1
	key, val, out := u32b(1), u64b(2), make([]byte, 64)
	for name, f := range map[string]func(){
		"array": func() {
			s.call(env, linux.BPF_FUNC_map_lookup_elem, array, addr(key), 0, 0, 0)
			s.call(env, linux.BPF_FUNC_map_update_elem, array, addr(key), addr(val), linux.BPF_NOEXIST, 0) // EEXIST
		},
		"hash": func() {
			s.call(env, linux.BPF_FUNC_map_update_elem, hash, addr(key), addr(val), 0, 0)
			s.call(env, linux.BPF_FUNC_map_lookup_elem, hash, addr(key), 0, 0, 0)
			s.call(env, linux.BPF_FUNC_map_delete_elem, hash, addr(key), 0, 0, 0)
			s.call(env, linux.BPF_FUNC_map_delete_elem, hash, addr(key), 0, 0, 0) // ENOENT
		},
		"lru": func() {
			for i := uint32(0); i < 8; i++ {
				binary.LittleEndian.PutUint32(key, i)
				s.call(env, linux.BPF_FUNC_map_update_elem, lru, addr(key), addr(val), 0, 0)
			}
		},
		"queue": func() {
			s.call(env, linux.BPF_FUNC_map_push_elem, queue, addr(val), 0, 0, 0)
			s.call(env, linux.BPF_FUNC_map_pop_elem, queue, addr(out), 0, 0, 0)
			s.call(env, linux.BPF_FUNC_map_pop_elem, queue, addr(out), 0, 0, 0) // ENOENT
		},
		"ringbuf": func() {
			p := s.call(env, linux.BPF_FUNC_ringbuf_reserve, ring, 16, 0, 0, 0)
			s.call(env, linux.BPF_FUNC_ringbuf_submit, p, 0, 0, 0, 0)
			s.call(env, linux.BPF_FUNC_ringbuf_output, ring, addr(out), 8, 0, 0)
			reader.Consume(0, consume)
		},
		"printk": func() {
			s.call(env, linux.BPF_FUNC_trace_printk, addr(format), uint64(len(format)), 5, addr(str), addr(ip))
		},
		"snprintf": func() {
			s.call(env, linux.BPF_FUNC_snprintf, addr(out), 64, addr(format), 0, 0) // EINVAL
		},
		"probe_read": func() {
			s.call(env, linux.BPF_FUNC_probe_read_kernel_str, addr(out), 64, addr(str), 0, 0)
			s.call(env, linux.BPF_FUNC_probe_read_kernel, addr(out), 8, 0x10, 0, 0) // ERANGE
		},
		"task": func() {
			s.call(env, linux.BPF_FUNC_get_current_pid_tgid, 0, 0, 0, 0, 0) // EINVAL: no task
			s.call(env, linux.BPF_FUNC_get_prandom_u32, 0, 0, 0, 0, 0)
		},
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations per run", name, n)
		}
	}
}
