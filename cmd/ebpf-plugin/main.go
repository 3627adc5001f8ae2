// Command ebpf-plugin runs a program for the bpf_conformance suite's runner
// (bpf_conformance_runner --plugin_path ebpf-plugin), speaking its plugin
// protocol:
//
//	ebpf-plugin [MEMORY] [OPTIONS...] < BYTECODE
//
// MEMORY (present only when the test has memory) and BYTECODE on standard
// input are hex bytes separated by any white space, or none. The program
// runs in hachi's VM, checked mode, with r1 = the memory and r2 = its
// length, and helper 5 returning its argument. The plugin prints r0 in hex
// and exits 0, or prints the error (naming the instruction) on standard
// error and exits 1. It has no options: any is an error (exit 2).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"hachi/bpf/asm"
	"hachi/bpf/isa"
	"hachi/bpf/vm"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// errUsage marks errors of the command line (exit status 2).
var errUsage = errors.New("usage: ebpf-plugin [MEMORY] [OPTIONS...] < BYTECODE")

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	r0, err := plugin(args, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "ebpf-plugin: %v\n", err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	fmt.Fprintf(stdout, "%#x\n", r0)
	return 0
}

// identity is helper 5 of the conformance suite: it returns its argument.
func identity(_ *vm.Env, r1, _, _, _, _ uint64) uint64 { return r1 }

func plugin(args []string, stdin io.Reader) (uint64, error) {
	var mem []byte
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		var err error
		if mem, err = asm.ParseHex(args[0]); err != nil {
			return 0, fmt.Errorf("memory: %v", err)
		}
		args = args[1:]
	}
	for _, opt := range args {
		// The runner passes its plugin options as one argument, empty when
		// there are none.
		if strings.TrimSpace(opt) != "" {
			return 0, fmt.Errorf("%w: unknown option %q", errUsage, opt)
		}
	}
	text, err := io.ReadAll(stdin)
	if err != nil {
		return 0, err
	}
	code, err := asm.ParseHex(string(text))
	if err != nil {
		return 0, fmt.Errorf("bytecode: %v", err)
	}
	insns, err := isa.Decode(code)
	if err != nil {
		return 0, fmt.Errorf("bytecode: %v", err)
	}
	img, err := vm.Load(insns, vm.Options{Helpers: vm.Helpers{5: identity}, LenInR2: true})
	if err != nil {
		return 0, err
	}
	return vm.NewChecked(img).Run(vm.NewEnv(), vm.Bytes(mem, true))
}
