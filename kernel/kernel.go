// Package kernel owns what the Hachi kernel is once a board has brought the
// machine up: the board description, the console and its shell, and the
// checks the shell offers. It is portable: a board package (boot/<board>)
// fills in a Board with its architecture's functions and calls Main, and host
// tests drive Main with a fake board.
package kernel

import (
	"fmt"
	"io"

	"hachi/kernel/shell"
)

// Version is the kernel release; the Makefile sets it from git with
// -ldflags -X hachi/kernel.Version=....
var Version = "dev"

// Board is what the kernel needs from the machine it runs on.
type Board struct {
	// Machine is the hardware name as uname -m prints it: "x86_64", "riscv64".
	Machine string
	// NumCPU returns how many CPUs run the kernel.
	NumCPU func() int
	// CPUID returns the number, 0 to NumCPU()-1, of the CPU running the caller.
	CPUID func() int
	// CPUs describes the online CPUs.
	CPUs func() []shell.CPU
	// RAM returns the physical memory given to the kernel.
	RAM func() (start, end uint)
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
}

// Main prints the banner and runs the console shell; it does not return.
// When the console's input ends the machine powers off.
func Main(b Board) {
	out := consoleWriter(b.ConsoleWrite)
	banner(out, b)
	sh := shell.New(newConsoleReader(b.ConsoleReadByte), out, true)
	sh.Register(commands(b)...)
	if err := sh.Run(); err != nil {
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

// commands returns the shell commands of the kernel.
func commands(b Board) []shell.Command {
	cmds := shell.SystemCommands(shell.System{
		Version: Version,
		Machine: b.Machine,
		CPUs:    b.CPUs,
		RAM: func() (uint64, uint64) {
			start, end := b.RAM()
			return uint64(start), uint64(end - start)
		},
		Poweroff: b.Poweroff,
	})
	return append(cmds,
		shell.Command{
			Name: "selfcheck", Help: "check that every CPU runs goroutines, that sleeping and the GC work",
			Run: func(out io.Writer, _ []string) error { return selfcheck(out, b) },
		},
		shell.Command{
			Name: "clock", Help: "print the kernel's monotonic clock in nanoseconds",
			Run: func(out io.Writer, _ []string) error {
				fmt.Fprintf(out, "clock: %d\n", monotonicNow())
				return nil
			},
		},
		shell.Command{
			Name: "crash", Help: "panic the kernel (tests the panic path)",
			Run: func(io.Writer, []string) error { panic("crash command") },
		},
	)
}
