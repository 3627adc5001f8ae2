// Command hachi-qemu builds Hachi's kernels and boots them under QEMU with
// the board definitions of package qemu, so that the Makefile, the boot
// tests and the in-guest tests share one definition of each board.
//
//	hachi-qemu kernel -arch ARCH [-version V] -o FILE
//	    build the kernel image of ARCH's board
//	hachi-qemu run -arch ARCH IMAGE [QEMU ARGS...]
//	    boot IMAGE, console on standard input and output (QEMU replaces
//	    this process: its exit status is QEMU's)
//	hachi-qemu command -arch ARCH IMAGE
//	    print the QEMU command line that boots IMAGE
//	hachi-qemu test [-arch amd64,riscv64] [-short] [-run RE] [-bench RE] [-timeout D]
//	    [-j N] [-v] [-work DIR] [PACKAGES]
//	    run the packages' tests inside the guests (default ./...)
//
// It runs from the module's directory (or below it) and finds the GOOS=tamago
// toolchain with toolchain/build.sh --check.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"hachi/qemu"
	"hachi/qemu/guesttest"
)

func main() {
	err := dispatch(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "hachi-qemu: %v\n", err)
		os.Exit(1)
	}
}

const usage = `usage:
	hachi-qemu kernel -arch ARCH [-version V] -o FILE
	hachi-qemu run -arch ARCH IMAGE [QEMU ARGS...]
	hachi-qemu command -arch ARCH IMAGE
	hachi-qemu test [-arch amd64,riscv64] [-short] [-run RE] [-bench RE] [-timeout D] [-j N] [-v] [-work DIR] [PACKAGES]`

func dispatch(args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, usage)
		return flag.ErrHelp
	}
	root, err := qemu.ModuleRoot(".")
	if err != nil {
		return err
	}
	switch args[0] {
	case "kernel":
		return kernel(root, args[1:])
	case "run", "command":
		return boot(args[0], args[1:])
	case "test":
		return test(root, args[1:])
	}
	fmt.Fprintln(os.Stderr, usage)
	return flag.ErrHelp
}

func kernel(root string, args []string) error {
	fl := flag.NewFlagSet("kernel", flag.ContinueOnError)
	arch := fl.String("arch", "amd64", "architecture")
	version := fl.String("version", "dev", "kernel release (uname -r)")
	out := fl.String("o", "", "output file")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *out == "" || fl.NArg() != 0 {
		return fmt.Errorf("kernel: -o FILE is required and nothing else\n%s", usage)
	}
	board, err := qemu.LookupBoard(*arch)
	if err != nil {
		return err
	}
	tc, err := qemu.FindToolchain(root)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	return tc.BuildKernel(context.Background(), board, root, *version, *out)
}

func boot(cmd string, args []string) error {
	fl := flag.NewFlagSet(cmd, flag.ContinueOnError)
	arch := fl.String("arch", "amd64", "architecture")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() < 1 {
		return fmt.Errorf("%s: IMAGE is required\n%s", cmd, usage)
	}
	board, err := qemu.LookupBoard(*arch)
	if err != nil {
		return err
	}
	argv := append(board.Command(fl.Arg(0)), fl.Args()[1:]...)
	if cmd == "command" {
		fmt.Println(strings.Join(argv, " "))
		return nil
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return err
	}
	return syscall.Exec(path, argv, os.Environ())
}

func test(root string, args []string) error {
	fl := flag.NewFlagSet("test", flag.ContinueOnError)
	archs := fl.String("arch", "amd64,riscv64", "architectures, comma-separated")
	short := fl.Bool("short", false, "pass -test.short (the guest runs the full tests by default, as the host)")
	run := fl.String("run", "", "pass -test.run")
	bench := fl.String("bench", "", "pass -test.bench (and -test.benchmem)")
	timeout := fl.Duration("timeout", 15*time.Minute, "limit for one package's boot")
	jobs := fl.Int("j", runtime.NumCPU(), "packages built or booted at once")
	verbose := fl.Bool("v", false, "stream every console line")
	work := fl.String("work", filepath.Join(root, "build", "guest-test"), "directory for binaries, archives and console logs")
	if err := fl.Parse(args); err != nil {
		return err
	}
	patterns := fl.Args()
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	tc, err := qemu.FindToolchain(root)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	results, err := guesttest.Run(ctx, guesttest.Options{
		Archs:      strings.Split(*archs, ","),
		Patterns:   patterns,
		ModuleRoot: root,
		Toolchain:  tc,
		Short:      *short,
		Run:        *run,
		Bench:      *bench,
		Timeout:    *timeout,
		Jobs:       *jobs,
		WorkDir:    *work,
		Verbose:    *verbose,
		Out:        os.Stdout,
	})
	if err != nil {
		return err
	}
	ok := guesttest.Summary(os.Stdout, results)
	fmt.Printf("in-guest tests took %.0f s (wall)\n", time.Since(start).Seconds())
	if !ok {
		return errors.New("in-guest tests failed")
	}
	return nil
}
