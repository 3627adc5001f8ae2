package helpers

import (
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// The helpers about the running CPU, task and clocks (kernel/bpf/helpers.c,
// kernel/trace/bpf_trace.c).

// ktimeGetNS is bpf_ktime_get_ns (5).
func (s *Set) ktimeGetNS(*vm.Env, uint64, uint64, uint64, uint64, uint64) uint64 {
	return s.kernel.MonotonicNS()
}

// ktimeGetBootNS is bpf_ktime_get_boot_ns (125).
func (s *Set) ktimeGetBootNS(*vm.Env, uint64, uint64, uint64, uint64, uint64) uint64 {
	return s.kernel.BootNS()
}

// ktimeGetCoarseNS is bpf_ktime_get_coarse_ns (160), which libbpf's
// start-up probe calls.
func (s *Set) ktimeGetCoarseNS(*vm.Env, uint64, uint64, uint64, uint64, uint64) uint64 {
	return s.kernel.CoarseNS()
}

// getPrandomU32 is bpf_get_prandom_u32 (7): a per-CPU pseudo-random
// generator seeded at boot (Linux's bpf_user_rnd_u32 with per-CPU
// prandom state), here xorshift64*, not for cryptography.
func (s *Set) getPrandomU32(env *vm.Env, _, _, _, _, _ uint64) uint64 {
	c := s.cpu(env)
	x := c.rng
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	c.rng = x
	return uint64(uint32((x * 0x2545f4914f6cdd1d) >> 32))
}

// getSMPProcessorID is bpf_get_smp_processor_id (8).
func getSMPProcessorID(env *vm.Env, _, _, _, _, _ uint64) uint64 { return uint64(env.CPU) }

// getCurrentPIDTGID is bpf_get_current_pid_tgid (14): tgid << 32 | pid,
// EINVAL without a task.
func (s *Set) getCurrentPIDTGID(env *vm.Env, _, _, _, _, _ uint64) uint64 {
	t, ok := s.kernel.CurrentTask(env.CPU)
	if !ok {
		return errno(linux.EINVAL)
	}
	return uint64(t.TGID)<<32 | uint64(t.PID)
}

// getCurrentUIDGID is bpf_get_current_uid_gid (15): gid << 32 | uid.
func (s *Set) getCurrentUIDGID(env *vm.Env, _, _, _, _, _ uint64) uint64 {
	t, ok := s.kernel.CurrentTask(env.CPU)
	if !ok {
		return errno(linux.EINVAL)
	}
	return uint64(t.GID)<<32 | uint64(t.UID)
}

// getCurrentComm is bpf_get_current_comm (16): the task's name, truncated
// and NUL-padded to size (strscpy_pad); without a task the buffer is
// zeroed and EINVAL returned.
func (s *Set) getCurrentComm(env *vm.Env, r1, r2, _, _, _ uint64) uint64 {
	buf, err := env.Memory(r1, uint64(uint32(r2)), true)
	if err != nil || len(buf) == 0 {
		return errno(linux.EFAULT)
	}
	t, ok := s.kernel.CurrentTask(env.CPU)
	if !ok {
		clear(buf)
		return errno(linux.EINVAL)
	}
	n := 0
	for n < len(t.Comm) && t.Comm[n] != 0 && n < len(buf)-1 {
		buf[n] = t.Comm[n]
		n++
	}
	clear(buf[n:])
	return 0
}

// getFuncIP is bpf_get_func_ip (173): the probed function's address.
func (s *Set) getFuncIP(env *vm.Env, _, _, _, _, _ uint64) uint64 {
	return s.kernel.FuncIP(env.CPU, env.Context())
}

// getAttachCookie is bpf_get_attach_cookie (174): the cookie the attach
// (BPF_LINK_CREATE's bpf_cookie) gave this program, which the kernel puts
// in the Env before running it.
func getAttachCookie(env *vm.Env, _, _, _, _, _ uint64) uint64 { return env.Cookie }
