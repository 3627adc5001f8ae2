// Command ebpf assembles, disassembles and runs eBPF programs with hachi's
// assembler and VM, on the host.
//
//	ebpf asm FILE                           assemble; bytecode as hex, one instruction a line
//	ebpf disasm [--llvm] FILE               disassemble (conformance syntax, or llvm-objdump style)
//	ebpf run [--mem HEX] [--repeat N] FILE  run; r0 in hex on the first line
//
// FILE is a conformance-suite `.data` test (its program, and its memory for
// run), a file of hex bytecode, a file of assembly, or FILE:SECTION, a
// program of an ELF object (read with cilium/ebpf's ELF reader). Programs
// run in the VM's checked mode (there is no verifier to allow more) with
// the conformance suite's conventions: r1 is the memory, r2 its length,
// helper 5 returns its argument. Errors name the file and the instruction
// (or line) and exit with status 1; usage errors with status 2.
package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cilium/ebpf"

	"hachi/bpf/asm"
	"hachi/bpf/isa"
	"hachi/bpf/vm"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

const usage = `usage:
	ebpf asm FILE
	ebpf disasm [--llvm] FILE
	ebpf run [--mem HEX] [--repeat N] FILE
` + loadUsage + "\n" + verifyUsage

// errUsage marks errors of the command line (exit status 2).
var errUsage = errors.New("usage")

func run(args []string, stdout, stderr io.Writer) int {
	err := dispatch(args, stdout)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "ebpf: %v\n%s\n", err, usage)
		return 2
	default:
		fmt.Fprintf(stderr, "ebpf: %v\n", err)
		return 1
	}
}

func dispatch(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command", errUsage)
	}
	if args[0] == "load" || args[0] == "test-run" {
		return loadCommand(args, stdout, os.Stderr)
	}
	if args[0] == "verify" {
		return verifyCommand(args, stdout)
	}
	flags := flag.NewFlagSet(args[0], flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	llvm := flags.Bool("llvm", false, "llvm-objdump style")
	mem := flags.String("mem", "", "memory for r1, as hex bytes")
	repeat := flags.Int("repeat", 1, "number of runs")
	var allowed []string
	switch args[0] {
	case "asm":
	case "disasm":
		allowed = []string{"llvm"}
	case "run":
		allowed = []string{"mem", "repeat"}
	default:
		return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
	if err := flags.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	var bad error
	flags.Visit(func(f *flag.Flag) {
		if !contains(allowed, f.Name) {
			bad = fmt.Errorf("%w: %s takes no -%s", errUsage, args[0], f.Name)
		}
	})
	if bad != nil {
		return bad
	}
	if flags.NArg() != 1 {
		return fmt.Errorf("%w: %s takes one FILE", errUsage, args[0])
	}
	file := flags.Arg(0)
	switch args[0] {
	case "asm":
		return assemble(file, stdout)
	case "disasm":
		p, err := readProgram(file)
		if err != nil {
			return err
		}
		syntax := asm.Conformance
		if *llvm {
			syntax = asm.LLVM
		}
		text, err := asm.Disassemble(p.insns, syntax)
		if err != nil {
			return fmt.Errorf("%s: %v", file, err)
		}
		_, err = io.WriteString(stdout, text)
		return err
	}
	if *repeat < 1 {
		return fmt.Errorf("%w: --repeat must be at least 1", errUsage)
	}
	p, err := readProgram(file)
	if err != nil {
		return err
	}
	if *mem != "" {
		if p.mem, err = asm.ParseHex(*mem); err != nil {
			return fmt.Errorf("%w: --mem: %v", errUsage, err)
		}
	}
	return runProgram(p, *repeat, stdout)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// program is what a FILE argument holds.
type program struct {
	file  string
	insns []isa.Instruction
	mem   []byte
}

// readProgram reads FILE in any of the forms the package comment lists.
func readProgram(arg string) (*program, error) {
	if path, section, ok := strings.Cut(arg, ":"); ok && isELF(path) {
		insns, err := readELF(path, section)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", arg, err)
		}
		return &program{file: arg, insns: insns}, nil
	}
	text, err := os.ReadFile(arg)
	if err != nil {
		return nil, err
	}
	p := &program{file: arg}
	switch {
	case strings.HasSuffix(arg, ".data"):
		d, err := asm.ParseDataFile(string(text))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", arg, err)
		}
		p.mem = d.Mem
		p.insns, err = d.Program()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", arg, err)
		}
	case isHex(text):
		code, err := asm.ParseHex(string(text))
		if err == nil {
			p.insns, err = isa.Decode(code)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", arg, err)
		}
	default:
		if p.insns, err = asm.Assemble(string(text)); err != nil {
			return nil, fmt.Errorf("%s: %v", arg, err)
		}
	}
	return p, nil
}

// isHex reports whether text is nothing but hex digits and white space.
func isHex(text []byte) bool {
	digits := 0
	for _, c := range text {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
			digits++
		case c == ' ', c == '\t', c == '\n', c == '\r':
		default:
			return false
		}
	}
	return digits > 0
}

func isELF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	magic := make([]byte, 4)
	_, err = io.ReadFull(f, magic)
	return err == nil && bytes.Equal(magic, []byte("\x7fELF"))
}

// readELF is the bytecode of the program in section (or named section) of
// an ELF object, its bpf-to-bpf calls linked.
func readELF(path, section string) ([]isa.Instruction, error) {
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		return nil, err
	}
	var found *ebpf.ProgramSpec
	var names []string
	for name, p := range spec.Programs {
		names = append(names, p.SectionName+" ("+name+")")
		if p.SectionName != section && name != section {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("section %s holds several programs: name one of them", section)
		}
		found = p
	}
	if found == nil {
		return nil, fmt.Errorf("no program in section %s; there are: %s", section, strings.Join(names, ", "))
	}
	var code bytes.Buffer
	if err := found.Instructions.Marshal(&code, binary.LittleEndian); err != nil {
		return nil, err
	}
	return isa.Decode(code.Bytes())
}

func assemble(file string, stdout io.Writer) error {
	text, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	src := string(text)
	if strings.HasSuffix(file, ".data") {
		d, err := asm.ParseDataFile(src)
		if err != nil {
			return fmt.Errorf("%s: %v", file, err)
		}
		src = d.Asm
	}
	insns, err := asm.Assemble(src)
	if err != nil {
		return fmt.Errorf("%s: %v", file, err)
	}
	for _, ins := range insns {
		var b [isa.InstructionSize]byte
		ins.Encode(b[:])
		if _, err := fmt.Fprintf(stdout, "% x\n", b); err != nil {
			return err
		}
	}
	return nil
}

// identity is helper 5 of the conformance suite: it returns its argument.
func identity(_ *vm.Env, r1, _, _, _, _ uint64) uint64 { return r1 }

func runProgram(p *program, repeat int, stdout io.Writer) error {
	img, err := vm.Load(p.insns, vm.Options{Helpers: vm.Helpers{5: identity}, LenInR2: true})
	if err != nil {
		return fmt.Errorf("%s: %v", p.file, err)
	}
	prog := vm.NewChecked(img)
	env := vm.NewEnv()
	mem := make([]byte, len(p.mem))
	var r0 uint64
	start := time.Now()
	for i := 0; i < repeat; i++ {
		copy(mem, p.mem)
		if r0, err = prog.Run(env, vm.Bytes(mem, true)); err != nil {
			return fmt.Errorf("%s: %v", p.file, err)
		}
	}
	elapsed := time.Since(start)
	if _, err := fmt.Fprintf(stdout, "%#x\n", r0); err != nil {
		return err
	}
	if repeat > 1 {
		_, err = fmt.Fprintf(stdout, "%d runs, %.1f ns/run (checked mode)\n", repeat, float64(elapsed.Nanoseconds())/float64(repeat))
	}
	return err
}
