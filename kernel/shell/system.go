package shell

import (
	"fmt"
	"io"
	"runtime"
)

// System is what the system commands need from the board.
type System struct {
	// Version is the kernel release, as uname -r prints it.
	Version string
	// Machine is the hardware name, as uname -m prints it ("x86_64", "riscv64").
	Machine string
	// CPUs lists the online CPUs.
	CPUs func() []CPU
	// RAM returns the physical memory the kernel runs in.
	RAM func() (start, size uint64)
	// Poweroff stops the machine; QEMU exits with status 0. It does not return.
	Poweroff func()
}

// CPU describes one online CPU.
type CPU struct {
	// ID is the kernel's CPU number, dense from 0.
	ID int
	// HardwareID is the APIC id on x86_64, the hart id on riscv64.
	HardwareID int
	// Model names the CPU.
	Model string
}

// SystemCommands returns uname, cpus, mem and poweroff for sys.
func SystemCommands(sys System) []Command {
	return []Command{
		{
			Name: "uname", Usage: "[-a|-s|-r|-m]", Help: "print the kernel name, release and machine",
			Run: func(out io.Writer, args []string) error { return uname(out, sys, args) },
		},
		{
			Name: "cpus", Help: "list the online CPUs",
			Run: func(out io.Writer, _ []string) error {
				for _, c := range sys.CPUs() {
					fmt.Fprintf(out, "cpu%d: online hwid %d %s\n", c.ID, c.HardwareID, c.Model)
				}
				return nil
			},
		},
		{
			Name: "mem", Help: "show physical memory and the Go heap",
			Run: func(out io.Writer, _ []string) error { return mem(out, sys) },
		},
		{
			Name: "poweroff", Help: "stop the machine",
			Run: func(io.Writer, []string) error {
				sys.Poweroff()
				return ErrExit
			},
		},
	}
}

func uname(out io.Writer, sys System, args []string) error {
	if len(args) == 0 {
		args = []string{"-s"}
	}
	var fields []string
	for _, a := range args {
		switch a {
		case "-a":
			fields = append(fields, "Hachi", sys.Version, sys.Machine)
		case "-s":
			fields = append(fields, "Hachi")
		case "-r":
			fields = append(fields, sys.Version)
		case "-m":
			fields = append(fields, sys.Machine)
		default:
			return fmt.Errorf("uname: invalid option %q", a)
		}
	}
	for i, f := range fields {
		if i > 0 {
			fmt.Fprint(out, " ")
		}
		fmt.Fprint(out, f)
	}
	fmt.Fprintln(out)
	return nil
}

func mem(out io.Writer, sys System) error {
	start, size := sys.RAM()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(out, "ram:  %#x-%#x (%d MiB)\n", start, start+size, size>>20)
	fmt.Fprintf(out, "heap: %d KiB in use, %d KiB from the system, %d GCs\n",
		ms.HeapAlloc>>10, ms.Sys>>10, ms.NumGC)
	return nil
}
