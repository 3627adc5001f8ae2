// Package kernel owns what the Hachi kernel is once a board has brought the
// machine up: the board description, the kernel object (Kernel) that ties
// the eBPF subsystem to the machine (the bpf() and perf_event_open()
// systems, the tracepoints, the helpers' view of tasks, memory, stacks and
// the trace pipe), kernel tasks and their system call entry, the virtual
// files loaders read (/sys, /proc, tracefs, bpffs), and the console with
// its shell.
//
// It is portable: a board package (boot/<board>) fills in a Board with its
// architecture's functions and calls Main, and tests drive New and Main
// with a fake board, on the host and inside the guest alike.
package kernel

import (
	"fmt"
	"io"

	"hachi/kernel/shell"
	"hachi/perf"
)

// Version is the kernel release; the Makefile sets it from git with
// -ldflags -X hachi/kernel.Version=....
var Version = "dev"

// Board is what the kernel needs from the machine it runs on.
type Board struct {
	// Machine is the hardware name as uname -m prints it: "x86_64", "riscv64".
	Machine string
	// NumCPU returns how many CPUs run the kernel: the possible and
	// online CPUs are 0 to NumCPU()-1.
	NumCPU func() int
	// CPUID returns the number, 0 to NumCPU()-1, of the CPU running the
	// caller (smp_processor_id). It must be safe in trap context.
	CPUID func() int
	// CPUs describes the online CPUs.
	CPUs func() []shell.CPU
	// RAM returns the physical memory given to the kernel. All of it must
	// be mapped and readable at its own address (identity mapping, or no
	// translation): kernel memory reads are checked against it.
	RAM func() (start, end uint)
	// Text returns the kernel image's code, inside RAM: kernel memory
	// writes into it fail with EFAULT. Nil when unknown (no write is then
	// refused for being in the code).
	Text func() (start, end uint)
	// ConsoleReadByte returns the next byte the console received, without
	// blocking; false when none is waiting.
	ConsoleReadByte func() (byte, bool)
	// ConsoleWrite writes to the console.
	ConsoleWrite func([]byte)
	// Poweroff stops the machine with exit status 0; it does not return.
	Poweroff func()
	// Exit stops the machine with a status that tells the host the kernel
	// failed; it does not return.
	Exit func(code int32)
	// Info returns lines the banner adds about the machine (clock source...).
	Info func() []string
	// Nanotime is the machine's monotonic clock in nanoseconds since boot
	// (the Go runtime's own clock), safe in trap context: the kernel's
	// clock, which trace_pipe timestamps and Timer deadlines use. Nil: the
	// Go runtime's monotonic clock counted from the kernel's start.
	Nanotime func() int64

	// Timer is the per-CPU sampling timer behind perf's CPU clock events;
	// nil when the architecture has none yet (CPU clock events then
	// count, but never sample).
	Timer *Timer
	// Kprober places kprobes with the architecture's breakpoints; nil
	// when there is none yet (no kprobe PMU, as a Linux built without
	// CONFIG_KPROBE_EVENTS).
	Kprober perf.Kprober
	// Symbol names the kernel function containing addr (Linux's
	// kallsyms_lookup): its name, addr's offset in it, and its size. It
	// runs in program context (printk's %pS), so it must not allocate or
	// block. Nil: every address is unknown.
	Symbol func(addr uint64) (name string, off, size uint64, ok bool)
	// Kallsyms writes the symbol table as /proc/kallsyms lists it
	// ("address type name" lines). Nil: there is no /proc/kallsyms.
	Kallsyms func(w io.Writer) error
}

// Timer is a one-shot timer on each CPU that interrupts that CPU and hands
// the interrupted registers to the kernel, as Linux's per-CPU hrtimers do
// for perf_swevent_hrtimer. A board with a Timer gives its clock as
// Board.Nanotime.
type Timer struct {
	// Arm asks for one interrupt on cpu at or after deadline (in
	// Board.Nanotime's clock),
	// replacing any earlier request for that CPU; deadline 0 cancels it.
	// It is called from any CPU, and from the handler itself.
	Arm func(cpu int, deadline uint64)
	// SetHandler installs the function the timer interrupt calls, on the
	// interrupted CPU, in interrupt context, with the interrupted
	// registers (Frame pointing to the architecture's pt_regs). It is
	// called once, before the first Arm.
	SetHandler func(h func(cpu int, regs *perf.Regs))
}

// Main makes the kernel, prints the banner and runs the console shell as
// the kernel task "sh"; it does not return. When the console's input ends
// the machine powers off.
func Main(b Board) {
	k := New(b)
	sh := k.NewTask("sh")
	out := k.Console(sh)
	banner(out, b)
	s := shell.New(newConsoleReader(b.ConsoleReadByte), out, true)
	s.Register(k.Commands(sh)...)
	if err := s.Run(); err != nil {
		fmt.Fprintf(out, "shell: %v\n", err)
		b.Exit(1)
	}
	b.Poweroff()
}

func banner(out io.Writer, b Board) {
	start, end := b.RAM()
	fmt.Fprintf(out, "Hachi %s %s\n", Version, b.Machine)
	fmt.Fprintf(out, "cpus: %d online\n", b.NumCPU())
	fmt.Fprintf(out, "memory: %d MiB for the kernel at %#x-%#x\n", (end-start)>>20, start, end)
	if b.Info != nil {
		for _, l := range b.Info() {
			fmt.Fprintln(out, l)
		}
	}
}
