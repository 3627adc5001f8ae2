package helpers

import (
	"hachi/bpf/maps"
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// The helpers that send data out of a program: ring buffers
// (kernel/bpf/ringbuf.c), perf event arrays and stack traces
// (kernel/trace/bpf_trace.c, kernel/bpf/stackmap.c).

// ringbufOf is the ring buffer a register names, or nil.
func ringbufOf(env *vm.Env, r uint64) *maps.RingBuf {
	h := env.Map(r)
	if h == nil {
		return nil
	}
	rb, _ := h.Map.(*maps.RingBuf)
	return rb
}

// ringbufOutput is bpf_ringbuf_output (130): copy size bytes into a new
// record; EAGAIN when it does not fit.
func ringbufOutput(env *vm.Env, r1, r2, r3, r4, _ uint64) uint64 {
	rb := ringbufOf(env, r1)
	if rb == nil {
		return errno(linux.EINVAL)
	}
	data, err := env.Memory(r2, r3, false)
	if err != nil {
		return errno(linux.EFAULT)
	}
	return errno(rb.Output(int(env.CPU), data, r4))
}

// ringbufReserve is bpf_ringbuf_reserve (131): a record of size bytes for
// the program to fill, or NULL (also for any flags).
func ringbufReserve(env *vm.Env, r1, r2, r3, _, _ uint64) uint64 {
	rb := ringbufOf(env, r1)
	if rb == nil || r3 != 0 {
		return 0
	}
	p := rb.Reserve(int(env.CPU), r2)
	if p != nil && env.Checked() {
		env.Declare(vm.Region{Base: p, Size: uintptr(r2), Writable: true})
	}
	return uint64(uintptr(p))
}

// ringbufSubmit is bpf_ringbuf_submit (132).
func ringbufSubmit(_ *vm.Env, r1, r2, _, _, _ uint64) uint64 {
	maps.RingBufCommit(uintptr(r1), r2, false)
	return 0
}

// ringbufDiscard is bpf_ringbuf_discard (133).
func ringbufDiscard(_ *vm.Env, r1, r2, _, _, _ uint64) uint64 {
	maps.RingBufCommit(uintptr(r1), r2, true)
	return 0
}

// ringbufQuery is bpf_ringbuf_query (134).
func ringbufQuery(env *vm.Env, r1, r2, _, _, _ uint64) uint64 {
	rb := ringbufOf(env, r1)
	if rb == nil {
		return 0
	}
	return rb.Query(r2)
}

// perfEventOutput is bpf_perf_event_output (25) for probe programs: a raw
// sample into the perf event the flags select (BPF_F_CURRENT_CPU: the
// running CPU's).
func perfEventOutput(env *vm.Env, _, r2, r3, r4, r5 uint64) uint64 {
	h := env.Map(r2)
	if h == nil {
		return errno(linux.EINVAL)
	}
	pa, ok := h.Map.(*maps.PerfEventArray)
	if !ok {
		return errno(linux.EINVAL)
	}
	data, err := env.Memory(r4, r5, false)
	if err != nil {
		return errno(linux.EFAULT)
	}
	return errno(pa.Output(int(env.CPU), r3, data))
}

// perfMaxStack is sysctl_perf_event_max_stack's default: the deepest
// stack get_stackid collects.
const perfMaxStack = 127

// stackidFlags are bpf_get_stackid's flags.
const stackidFlags = linux.BPF_F_SKIP_FIELD_MASK | linux.BPF_F_USER_STACK | linux.BPF_F_FAST_STACK_CMP | linux.BPF_F_REUSE_STACKID

// getStackID is bpf_get_stackid (27): the id of the current (kernel, or
// with BPF_F_USER_STACK user) stack in a STACK_TRACE map, after skipping
// flags & BPF_F_SKIP_FIELD_MASK frames.
func (s *Set) getStackID(env *vm.Env, _, r2, r3, _, _ uint64) uint64 {
	h := env.Map(r2)
	if h == nil {
		return errno(linux.EINVAL)
	}
	st, ok := h.Map.(*maps.StackTrace)
	if !ok || r3&^stackidFlags != 0 {
		return errno(linux.EINVAL)
	}
	skip := int(r3 & linux.BPF_F_SKIP_FIELD_MASK)
	depth := min(st.MaxDepth()+skip, perfMaxStack)
	ips := s.cpu(env).ips[:depth]
	n, err := s.kernel.StackTrace(env.CPU, env.Context(), r3&linux.BPF_F_USER_STACK != 0, ips)
	if err != nil || n <= skip {
		return errno(linux.EFAULT)
	}
	id, err := st.GetStackID(int(env.CPU), ips[skip:n], r3)
	if err != nil {
		return errno(err)
	}
	return uint64(id)
}
