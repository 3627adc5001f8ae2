// Package vmtest runs `.data` test files (the bpf_conformance suite and the
// VM's own golden files) through the assembler, the loader and the VM. It
// reads files through an fs.FS and runs nothing external, so the same tests
// run under `go test` on the host and inside the kernel with an embedded
// copy of the files.
package vmtest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"hachi/bpf/asm"
	"hachi/bpf/isa"
	"hachi/bpf/vm"
)

// SuiteEnv names the environment variable that overrides where the
// conformance suite is.
const SuiteEnv = "HACHI_BPF_CONFORMANCE"

// SuiteDir is the directory of the bpf_conformance data: $HACHI_BPF_CONFORMANCE,
// or ../shared/bpf_conformance beside the module root (where CI clones it).
func SuiteDir() (string, error) {
	if dir := os.Getenv(SuiteEnv); dir != "" {
		return dir, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			suite := filepath.Join(dir, "..", "shared", "bpf_conformance")
			if _, err := os.Stat(filepath.Join(suite, "tests")); err != nil {
				return "", fmt.Errorf("conformance suite not found at %s (set %s): %w", suite, SuiteEnv, err)
			}
			return suite, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory: set %s", SuiteEnv)
		}
		dir = parent
	}
}

// Suite is the conformance suite as a file system; the test fails if it
// cannot be found.
func Suite(t testing.TB) fs.FS {
	t.Helper()
	dir, err := SuiteDir()
	if err != nil {
		t.Fatal(err)
	}
	return os.DirFS(dir)
}

// Identity is helper #5 of the conformance suite: it returns its first
// argument. It exists only for tests (Linux's helper 5 is ktime_get_ns).
func Identity(_ *vm.Env, r1, _, _, _, _ uint64) uint64 { return r1 }

// Helpers is the conformance suite's helper table.
func Helpers() vm.Helpers {
	h := make(vm.Helpers, 6)
	h[5] = Identity
	return h
}

// Stage is how far a test file got.
type Stage int

// The stages of a test file.
const (
	Read      Stage = iota // the file was read
	Parsed                 // its sections were understood
	Assembled              // it has bytecode
	Loaded                 // the VM loaded it
	Ran                    // it ran to the end
)

var stageNames = [...]string{"read", "parse", "assemble", "load", "run"}

func (s Stage) String() string { return stageNames[s] }

// Outcome is what happened to one test file.
type Outcome struct {
	File  *asm.DataFile
	Stage Stage // the last stage reached
	Err   error // why the next stage failed; nil if it ran
	R0    uint64
}

// Maker turns a loaded image into a program: vm.NewChecked, or in the VM's
// own tests the fast constructor for programs known to be safe.
type Maker func(*vm.Image) *vm.Program

// selfArray is a one-slot prog array holding the program under test, so
// that golden files can tail call themselves through `lddw map_fd 1`.
type selfArray struct{ prog *vm.Program }

func (a *selfArray) Len() uint32 { return 1 }

func (a *selfArray) Program(uint32) *vm.Program { return a.prog }

// resolver gives golden files their one map: fd 1 is selfArray.
type resolver struct{ self *vm.MapHandle }

func (r resolver) Map(src isa.PseudoSource, ref int32) (*vm.MapHandle, error) {
	if src != isa.PseudoMapFD || ref != 1 {
		return nil, errors.New("only map fd 1 (the program's own prog array) exists")
	}
	return r.self, nil
}

func (resolver) MapValue(isa.PseudoSource, int32) (vm.Region, error) {
	return vm.Region{}, errors.New("no map values")
}

func (resolver) KernelVariable(int32, int32) (vm.Region, error) {
	return vm.Region{}, errors.New("no kernel variables")
}

func (resolver) Kfunc(int32, int16) (vm.HelperFunc, error) { return nil, errors.New("no kfuncs") }

// Run parses, assembles, loads and runs one test file, the way the
// conformance suite's plugin runs it: r1 is the memory section (nil if
// none) and, if lenInR2 is set (the suite's convention), r2 its length;
// otherwise r2 holds nothing, as in Linux. Helper 5 is Identity; map fd 1 is a prog array
// holding the program itself; the memory is also the packet that the
// legacy LD_ABS and LD_IND instructions read.
func Run(text string, env *vm.Env, makeProgram Maker, lenInR2 bool) Outcome {
	d, err := asm.ParseDataFile(text)
	if err != nil {
		return Outcome{Stage: Read, Err: err}
	}
	out := Outcome{File: d, Stage: Parsed}
	insns, err := d.Program()
	if err != nil {
		out.Err = err
		return out
	}
	out.Stage = Assembled
	self := &selfArray{}
	img, err := vm.Load(insns, vm.Options{Helpers: Helpers(), LenInR2: lenInR2,
		Resolver: resolver{vm.NewMapHandle(self)}})
	if err != nil {
		out.Err = err
		return out
	}
	out.Stage = Loaded
	prog := makeProgram(img)
	self.prog = prog
	env.Packet = vm.Bytes(d.Mem, false)
	out.R0, out.Err = prog.Run(env, vm.Bytes(d.Mem, true))
	env.Packet = vm.Region{}
	if out.Err == nil {
		out.Stage = Ran
	}
	return out
}

// Files lists the .data files of a directory of fsys, sorted.
func Files(t testing.TB, fsys fs.FS, dir string) []string {
	t.Helper()
	names, err := fs.Glob(fsys, dir+"/*.data")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatalf("no .data files in %s", dir)
	}
	sort.Strings(names)
	return names
}

func read(t testing.TB, fsys fs.FS, name string) string {
	t.Helper()
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Conformance runs the suite: every program of tests/ must run and return
// its result; every file of negative/ must be refused, by the file parser,
// the assembler, the loader or the VM, or return something other than the
// result it claims (a test of a runner's result check). It logs how each
// negative file was refused.
func Conformance(t *testing.T, fsys fs.FS, makeProgram Maker) {
	env := vm.NewEnv()
	passed := 0
	for _, name := range Files(t, fsys, "tests") {
		out := Run(read(t, fsys, name), env, makeProgram, true)
		switch {
		case out.Err != nil:
			t.Errorf("%s: %v failed: %v", name, out.Stage+1, out.Err)
		case !out.File.HasResult:
			t.Errorf("%s: ran, but the file expects the error %q", name, out.File.Error)
		case out.R0 != out.File.Result:
			t.Errorf("%s: r0 = %#x, want %#x", name, out.R0, out.File.Result)
		default:
			passed++
		}
	}
	refused := map[string]int{}
	for _, name := range Files(t, fsys, "negative") {
		out := Run(read(t, fsys, name), env, makeProgram, true)
		how := ""
		switch {
		case out.Err != nil:
			how = fmt.Sprintf("refused at %v", out.Stage+1)
		case out.File.HasResult && out.R0 != out.File.Result:
			how = "result differs from the file's"
		default:
			t.Errorf("%s: accepted: ran and returned %#x", name, out.R0)
			continue
		}
		refused[how]++
		t.Logf("%s: %s: %v", name, how, firstLine(out.Err, out.R0))
	}
	t.Logf("tests: %d passed; negative: %v", passed, refused)
}

func firstLine(err error, r0 uint64) string {
	if err == nil {
		return fmt.Sprintf("r0 = %#x", r0)
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// Golden runs the VM's own golden files, with Linux's entry state (only r1
// and r10 hold values): each must return its result, or fail with an error
// containing the text of its error section.
func Golden(t *testing.T, fsys fs.FS, dir string, makeProgram Maker) {
	env := vm.NewEnv()
	for _, name := range Files(t, fsys, dir) {
		out := Run(read(t, fsys, name), env, makeProgram, false)
		if out.File == nil {
			t.Errorf("%s: %v", name, out.Err)
			continue
		}
		if out.File.HasError == out.File.HasResult {
			t.Errorf("%s: a golden file has exactly one of result and error", name)
			continue
		}
		switch {
		case out.File.HasError && out.Err == nil:
			t.Errorf("%s: returned %#x, want an error containing %q", name, out.R0, out.File.Error)
		case out.File.HasError && !strings.Contains(out.Err.Error(), out.File.Error):
			t.Errorf("%s: error %q, want one containing %q", name, out.Err, out.File.Error)
		case out.File.HasResult && out.Err != nil:
			t.Errorf("%s: %v failed: %v", name, out.Stage+1, out.Err)
		case out.File.HasResult && out.R0 != out.File.Result:
			t.Errorf("%s: r0 = %#x, want %#x", name, out.R0, out.File.Result)
		}
	}
}
