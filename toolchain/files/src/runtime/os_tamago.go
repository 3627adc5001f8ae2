// Copyright 2025 The Hachi Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build tamago

// GOOS=tamago: Go on bare metal. There is no operating system below the
// runtime: the board support package (GOOSPKG, e.g. github.com/usbarmory/tamago
// and the board packages built on it) provides the hardware hooks declared in
// runtime/goos (console output, clock, entropy, RAM layout, CPU start-up).
//
// The model is the one of the wasm ports (one address space, heap grown with
// an sbrk bounded by the RAM, no signals, no preemption, fake network and file
// system in package syscall) with one difference: an M is a CPU. newosproc
// asks the board (goos.Task) to start the next CPU on the new M, there are
// never more Ms than GOMAXPROCS, and an idle M keeps its P and waits in
// goos.Idle instead of parking.

package runtime

import (
	"internal/abi"
	"internal/cpu"
	"internal/runtime/atomic"
	"runtime/goos"
	"unsafe"
)

type mOS struct {
	// waitsema is the M's counting semaphore (see semasleep), updated
	// atomically by other CPUs.
	waitsema uint32
}

type sigset struct{}

// gsignalStack is unused: there are no signals.
type gsignalStack struct{}

// There are no signals.
const _NSIG = 0

const _SIGSEGV = 0xb

// There is no way to interrupt a running M: a goroutine is preempted only at
// function entry (cooperatively), like on wasm.
const preemptMSupported = false

func preemptM(mp *m) {}

// hwinit0 runs before the runtime is initialized: no allocation.
func hwinit0() {
	goos.Hwinit0()
}

// consoleReady is set once goos.Hwinit1 has set up the console; output
// written before that is kept in earlyOutput.
var consoleReady atomic.Bool

// earlyOutput keeps what the runtime prints before the console exists (a
// board's Printk may use a UART that Hwinit1 has not initialized yet).
var earlyOutput struct {
	buf [4096]byte
	n   int
}

// hwinit1 runs after schedinit, before any package initialization: the
// runtime can allocate, the world has not started.
func hwinit1() {
	goos.Hwinit1()
	consoleReady.Store(true)
	flushEarlyOutput()
	goos.InitRNG()
	rngReady.Store(true)
}

//go:nosplit
func flushEarlyOutput() {
	for i := 0; i < earlyOutput.n; i++ {
		goos.Printk(earlyOutput.buf[i])
	}
	earlyOutput.n = 0
}

// getCPUCount is the number of CPUs at start-up: the board starts the others
// later (goos.Task) and sets GOMAXPROCS.
func getCPUCount() int32 {
	return 1
}

func osinit() {
	physPageSize = 4096
	initBloc()
	numCPUStartup = 1
}

// MemRegion returns the start and end of the RAM given to the runtime
// (text, data, heap and the boot stack).
func MemRegion() (start uint, end uint) {
	return goos.RamStart, goos.RamStart + goos.RamSize
}

// TextRegion returns the start and end of the program text.
func TextRegion() (start uint, end uint) {
	return uint(firstmoduledata.text), uint(firstmoduledata.etext)
}

// CPU returns the processor's name (on x86, its CPUID brand string), or ""
// when the architecture does not tell.
func CPU() string {
	return cpu.Name()
}

// GetG returns the current goroutine and its P, as addresses.
func GetG() (gp uint, pp uint) {
	g := getg()
	return uint(uintptr(unsafe.Pointer(g))), uint(g.m.p)
}

// Asleep reports whether the goroutine at address gp is parked in time.Sleep.
func Asleep(gp uint) bool {
	g := (*g)(unsafe.Pointer(uintptr(gp)))
	return readgstatus(g)&^_Gscan == _Gwaiting && g.waitreason == waitReasonSleep
}

// wakeQueue holds goroutines, parked in time.Sleep, that an interrupt handler
// asked to wake (WakeG). The handler cannot take locks or allocate, so it
// only fills a slot; the scheduler does the wake-up (checkTimeouts).
var wakeQueue [wakeQueueLen]uintptr

const wakeQueueLen = 8

// checkTimeouts wakes the goroutines queued by WakeG. It is called by the
// scheduler when it yields, parks or goes idle, always with a P.
//
//go:yeswritebarrierrec
func checkTimeouts() {
	for i := range wakeQueue {
		if atomic.Loaduintptr(&wakeQueue[i]) == 0 {
			continue
		}
		gp := (*g)(unsafe.Pointer(atomic.Xchguintptr(&wakeQueue[i], 0)))
		if gp == nil || gp.timer == nil {
			continue
		}
		// Stopping a pending sleep timer transfers the wake-up to us;
		// if it already fired (or the goroutine is not sleeping) there
		// is nothing to do.
		if gp.timer.stop() {
			goready(gp, 0)
		}
	}
}

// newosproc starts mp on the next CPU through goos.Task. The CPU starts on
// the g0 stack with mp in R13 (amd64), mp.tls as TLS block and runs mstart.
//
//go:nowritebarrier
func newosproc(mp *m) {
	if goos.Task == nil {
		throw("newosproc: the board provides no goos.Task")
	}
	goos.Task(unsafe.Pointer(mp.g0.stack.hi), unsafe.Pointer(mp), unsafe.Pointer(&mp.tls[0]), unsafe.Pointer(abi.FuncPCABI0(mstart_tamago)))
}

// mstart_tamago is the first code run by a CPU started by newosproc.
func mstart_tamago()

// Called to initialize a new m (including the bootstrap m).
// Called on the parent thread, can allocate memory.
func mpreinit(mp *m) {
	mp.gsignal = malg(32 * 1024)
	mp.gsignal.m = mp
}

// Called to initialize a new m (including the bootstrap m).
// Called on the new thread, cannot allocate memory.
func minit() {
	if goos.ProcID != nil {
		getg().m.procid = goos.ProcID()
	}
}

func unminit()          {}
func mdestroy(mp *m)    {}
func initsig(bool)      {}
func sigdisable(uint32) {}
func sigenable(uint32)  {}
func sigignore(uint32)  {}

//go:nosplit
func sigsave(p *sigset) {}

//go:nosplit
func msigrestore(sigmask sigset) {}

//go:nosplit
//go:nowritebarrierrec
func clearSignalHandlers() {}

//go:nosplit
func sigblock(exiting bool) {}

func signame(sig uint32) string { return "" }

func setProcessCPUProfiler(hz int32) {}
func setThreadCPUProfiler(hz int32)  {}

func sigpanic() {
	gp := getg()
	if !canpanic() {
		throw("unexpected signal during runtime execution")
	}
	gp.sig = _SIGSEGV
	panicmem()
}

func crash() {
	exit(2)
}

// semacreate, semasleep and semawakeup implement the M semaphores used by the
// runtime's locks and notes (lock_spinbit.go, lock_sema.go). Each M is a
// CPU, so waiting is spinning: nothing else would run on that CPU anyway.
func semacreate(mp *m) {}

//go:nosplit
func semasleep(ns int64) int32 {
	mp := getg().m
	var deadline int64
	if ns >= 0 {
		deadline = nanotime() + ns
	}
	for {
		if v := atomic.Load(&mp.waitsema); v > 0 && atomic.Cas(&mp.waitsema, v, v-1) {
			return 0
		}
		if ns >= 0 && nanotime() >= deadline {
			return -1
		}
		procyield(10)
	}
}

//go:nosplit
func semawakeup(mp *m) {
	atomic.Xadd(&mp.waitsema, 1)
}

//go:nosplit
func osyield() {
	procyield(1)
}

//go:nosplit
func osyield_no_g() {
	osyield()
}

//go:nosplit
func usleep(usec uint32) {
	deadline := nanotime() + int64(usec)*1000
	for nanotime() < deadline {
		procyield(10)
	}
}

//go:nosplit
func usleep_no_g(usec uint32) {
	usleep(usec)
}

// exit ends the program through goos.Exit (the board decides what that
// means: power off, reset, an exit status for an emulator). Output written
// before the console existed stays in earlyOutput (read it with QEMU's
// monitor: pmemsave) since the board's Printk may fault until Hwinit1.
//
//go:nosplit
func exit(code int32) {
	if goos.Exit != nil {
		goos.Exit(code)
	}
	for {
		procyield(1000)
	}
}

// Ms never exit: there is one per CPU for the life of the program.
func exitThread(wait *atomic.Uint32) {
	throw("exitThread")
}

// write1 writes to the console; it is the only file the runtime knows.
//
//go:nosplit
func write1(fd uintptr, p unsafe.Pointer, n int32) int32 {
	if fd != 1 && fd != 2 {
		return -_EBADF
	}
	b := unsafe.Slice((*byte)(p), n)
	if !consoleReady.Load() {
		for _, c := range b {
			if earlyOutput.n < len(earlyOutput.buf) {
				earlyOutput.buf[earlyOutput.n] = c
				earlyOutput.n++
			}
		}
		return n
	}
	for _, c := range b {
		goos.Printk(c)
	}
	return n
}

const _EBADF = 9

// The runtime opens no file: these exist for code shared with hosted ports.
func open(name *byte, mode, perm int32) int32        { return -1 }
func closefd(fd int32) int32                         { return -1 }
func read(fd int32, p unsafe.Pointer, n int32) int32 { return -1 }

// rngReady is set once goos.InitRNG has run: before that the board's
// generator may not exist, and the runtime seeds itself from the clock.
var rngReady atomic.Bool

func readRandom(r []byte) int {
	if !rngReady.Load() {
		return 0
	}
	goos.GetRandomData(r)
	return len(r)
}

// There is no environment (but it exists: gogetenv checks that).
func goenvs() {
	envs = []string{}
}

//go:nosplit
func nanotime1() int64 {
	return goos.Nanotime()
}

// The wall clock is the board's clock: it starts at the epoch unless the
// board sets it.
func walltime() (sec int64, nsec int32) {
	ns := goos.Nanotime()
	return ns / 1e9, int32(ns % 1e9)
}

//go:linkname os_sigpipe os.sigpipe
func os_sigpipe() {}

//go:linkname syscall_now syscall.now
func syscall_now() (sec int64, nsec int32) {
	sec, nsec, _ = time_now()
	return
}

// syscall_runtimeWrite is the console behind syscall.Write on fds 1 and 2.
//
//go:linkname syscall_runtimeWrite syscall.runtimeWrite
func syscall_runtimeWrite(fd uintptr, p unsafe.Pointer, n int32) int32 {
	return write1(fd, p, n)
}

// syscall_getRandom is the entropy behind syscall.Getrandom (crypto/rand).
//
//go:linkname syscall_getRandom syscall.getRandom
func syscall_getRandom(b []byte) {
	if !rngReady.Load() {
		throw("getRandom before goos.InitRNG")
	}
	goos.GetRandomData(b)
}
