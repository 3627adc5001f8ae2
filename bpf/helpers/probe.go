package helpers

import (
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// The probe_read family (kernel/trace/bpf_trace.c): copies from arbitrary
// kernel or user addresses through Kernel's fault-safe reads. On a fault
// the destination is zeroed and -EFAULT (or the Kernel's errno) returned,
// so a program that ignores the result does not copy stale bytes.

// pageSize bounds the chunks string reads go by, so that a string ending
// before an unmapped page is read without touching it.
const pageSize = 4096

// read copies from addr: user memory, or kernel memory. A checked
// program's own memory (its stack, context, map values) is read directly:
// the check proves it valid, and host tests need no Kernel that knows it.
func (s *Set) read(env *vm.Env, user bool, dst []byte, addr uint64) error {
	if len(dst) == 0 {
		return nil
	}
	if user {
		return s.kernel.ReadUser(dst, addr)
	}
	if env.Checked() {
		if src, err := env.Memory(addr, uint64(len(dst)), false); err == nil {
			copy(dst, src)
			return nil
		}
	}
	return s.kernel.ReadKernel(dst, addr)
}

// readStr copies a NUL-terminated string of at most len(dst)-1 bytes and
// its NUL into dst and returns the bytes written with the NUL
// (strncpy_from_*_nofault); a longer string is truncated, its last byte
// replaced by NUL. It reads in chunks straight into dst and zeroes what a
// chunk brought in past the NUL, so dst never holds junk after the string
// (as Linux's strncpy_from_user guarantees). len(dst) == 0 reads nothing
// and returns 0.
func (s *Set) readStr(env *vm.Env, user bool, dst []byte, addr uint64) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	n := 0
	for n < len(dst) {
		// Never read across a page boundary at once: the string may end
		// before an unmapped page.
		a := addr + uint64(n)
		chunk := dst[n : n+min(len(dst)-n, strChunk, int(pageSize-a%pageSize))]
		if err := s.read(env, user, chunk, a); err != nil {
			// A bad byte may lie past the string's end in the chunk (not on
			// real hardware, whose faults are per page): go byte by byte.
			for i := range chunk {
				if err := s.read(env, user, chunk[i:i+1], a+uint64(i)); err != nil {
					return 0, err
				}
				if chunk[i] == 0 {
					return n + i + 1, nil
				}
			}
		}
		for i, c := range chunk {
			if c == 0 {
				clear(chunk[i+1:])
				return n + i + 1, nil
			}
		}
		n += len(chunk)
	}
	dst[len(dst)-1] = 0
	return len(dst), nil
}

// strChunk is how many bytes of a string readStr reads at a time.
const strChunk = 64

// probeReadCommon is bpf_probe_read_{user,kernel}_common.
func (s *Set) probeReadCommon(env *vm.Env, user bool, r1, r2, r3 uint64) uint64 {
	dst, err := env.Memory(r1, uint64(uint32(r2)), true)
	if err != nil {
		return errno(linux.EFAULT)
	}
	if err := s.read(env, user, dst, r3); err != nil {
		clear(dst)
		return errno(err)
	}
	return 0
}

// probeReadStrCommon is bpf_probe_read_{user,kernel}_str_common.
func (s *Set) probeReadStrCommon(env *vm.Env, user bool, r1, r2, r3 uint64) uint64 {
	dst, err := env.Memory(r1, uint64(uint32(r2)), true)
	if err != nil {
		return errno(linux.EFAULT)
	}
	n, err := s.readStr(env, user, dst, r3)
	if err != nil {
		clear(dst)
		return errno(err)
	}
	return uint64(n)
}

// probeReadUser is bpf_probe_read_user (112).
func (s *Set) probeReadUser(env *vm.Env, r1, r2, r3, _, _ uint64) uint64 {
	return s.probeReadCommon(env, true, r1, r2, r3)
}

// probeReadKernel is bpf_probe_read_kernel (113).
func (s *Set) probeReadKernel(env *vm.Env, r1, r2, r3, _, _ uint64) uint64 {
	return s.probeReadCommon(env, false, r1, r2, r3)
}

// probeReadUserStr is bpf_probe_read_user_str (114).
func (s *Set) probeReadUserStr(env *vm.Env, r1, r2, r3, _, _ uint64) uint64 {
	return s.probeReadStrCommon(env, true, r1, r2, r3)
}

// probeReadKernelStr is bpf_probe_read_kernel_str (115).
func (s *Set) probeReadKernelStr(env *vm.Env, r1, r2, r3, _, _ uint64) uint64 {
	return s.probeReadStrCommon(env, false, r1, r2, r3)
}

// probeRead is the legacy bpf_probe_read (4) (bpf_probe_read_compat): a
// user address below TASK_SIZE, else a kernel address, as on Linux's
// architectures with separate address spaces.
func (s *Set) probeRead(env *vm.Env, r1, r2, r3, _, _ uint64) uint64 {
	return s.probeReadCommon(env, r3 < s.kernel.UserLimit(), r1, r2, r3)
}

// probeReadStr is the legacy bpf_probe_read_str (45).
func (s *Set) probeReadStr(env *vm.Env, r1, r2, r3, _, _ uint64) uint64 {
	return s.probeReadStrCommon(env, r3 < s.kernel.UserLimit(), r1, r2, r3)
}
