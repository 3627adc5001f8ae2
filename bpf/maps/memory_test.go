package maps

import (
	"testing"

	"hachi/syscall/linux"
)

// A program finding a map's lock held by its own CPU has interrupted the
// holder: EBUSY, whether the holder is a program or, once Host.SyscallCPU
// tells the syscall side's CPU, a system call (Linux's map_locked counters).
func TestSpinLockSameCPU(t *testing.T) {
	var l spinLock
	if err := l.lock(testHost, 1); err != nil {
		t.Fatal(err)
	}
	if err := l.lock(testHost, 1); err != linux.EBUSY {
		t.Errorf("a program on the holder's CPU: %v, want EBUSY", err)
	}
	l.unlock()

	host := syscallOnCPU{testHost, 1}
	if err := l.lock(host, -1); err != nil {
		t.Fatal(err)
	}
	if err := l.lock(host, 1); err != linux.EBUSY {
		t.Errorf("a program interrupting the syscall side on its CPU: %v, want EBUSY", err)
	}
	l.unlock()
	if err := l.lock(host, 1); err != nil {
		t.Errorf("after the unlock: %v", err)
	}
	l.unlock()
}

// syscallOnCPU is a host whose system calls run on one CPU.
type syscallOnCPU struct {
	FixedHost
	cpu int
}

func (h syscallOnCPU) SyscallCPU() int { return h.cpu }

// A program in trap context does not wait forever for a lock another CPU
// holds (the holder may need this CPU to run again): ETIMEDOUT after
// maxTrapSpins, as Linux's rqspinlock times out.
func TestSpinLockTimesOutInTrap(t *testing.T) {
	var l spinLock
	host := trapHost{testHost} // CPU 1 runs in trap context
	if err := l.lock(host, 0); err != nil {
		t.Fatal(err)
	}
	if err := l.lock(host, 1); err != linux.ETIMEDOUT {
		t.Errorf("a trap waiting for another CPU's lock: %v, want ETIMEDOUT", err)
	}
	l.unlock()
	if err := l.lock(host, 1); err != nil {
		t.Errorf("a trap taking a free lock: %v", err)
	}
	l.unlock()
}
