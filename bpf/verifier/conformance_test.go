package verifier

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"hachi/bpf/asm"
	"hachi/bpf/vm"
	"hachi/bpf/vm/vmtest"
	"hachi/syscall/linux"
)

// conformanceDir returns the bpf_conformance suite's data (see its README),
// where vmtest.SuiteDir finds it.
func conformanceDir(t *testing.T) string {
	t.Helper()
	dir, err := vmtest.SuiteDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// conformanceHelper is the suite's helper #5: it returns its first argument.
func conformanceHelper(_ *vm.Env, r1, _, _, _, _ uint64) uint64 { return r1 }

// conformanceOptions verify a suite program as ProgTypeMemory over mem.
func conformanceOptions(mem []byte) Options {
	helpers := make(vm.Helpers, 6)
	helpers[5] = conformanceHelper
	return Options{
		ProgType: ProgTypeMemory,
		CtxSize:  uint32(len(mem)),
		Helpers:  helpers,
		Protos: func(id int32) *HelperProto {
			if id == 5 {
				return &HelperProto{Name: "conformance_helper", Ret: RetInteger, Args: [5]ArgType{ArgAnything}}
			}
			return nil
		},
	}
}

// refusedConformance are the suite programs Linux refuses too, with its
// message: shifts by an immediate outside [0, width) (check_alu_op
// "invalid shift %d"; the suite expects the amount masked at run time), and
// callx, which is not in Linux's instruction table.
var refusedConformance = map[string]string{
	"arsh32-imm-high.data": "invalid shift 48",
	"arsh32-imm-neg.data":  "invalid shift -16",
	"arsh64-imm-high.data": "invalid shift 124",
	"arsh64-imm-neg.data":  "invalid shift -4",
	"lsh32-imm-high.data":  "invalid shift 60",
	"lsh32-imm-neg.data":   "invalid shift -4",
	"lsh64-imm-high.data":  "invalid shift 68",
	"lsh64-imm-neg.data":   "invalid shift -60",
	"rsh32-imm-high.data":  "invalid shift 40",
	"rsh32-imm-neg.data":   "invalid shift -24",
	"rsh64-imm-high.data":  "invalid shift 68",
	"rsh64-imm-neg.data":   "invalid shift -60",
	"callx.data":           "unknown opcode 8d",
}

func TestConformanceSuite(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(conformanceDir(t), "tests", "*.data"))
	if err != nil || len(files) == 0 {
		t.Fatalf("conformance suite not found in %s: %v", conformanceDir(t), err)
	}
	sort.Strings(files)
	accepted, refused := 0, 0
	for _, path := range files {
		name := filepath.Base(path)
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		d, err := asm.ParseDataFile(string(text))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		insns, err := d.Program()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		_, err = Verify(insns, conformanceOptions(d.Mem))
		want, refuse := refusedConformance[name]
		switch {
		case refuse && err == nil:
			t.Errorf("%s: accepted, Linux refuses it (%s)", name, want)
		case refuse && !strings.Contains(err.Error(), want):
			t.Errorf("%s: refused with %v, want %q", name, err, want)
		case !refuse && err != nil:
			t.Errorf("%s: refused: %v", name, err)
		case refuse:
			refused++
			var verr *Error
			if !errors.As(err, &verr) || verr.Errno != linux.EINVAL {
				t.Errorf("%s: errno %v, want EINVAL", name, err)
			}
		default:
			accepted++
		}
	}
	t.Logf("%d accepted, %d refused as Linux refuses them", accepted, refused)
}

// safeNegative are the suite's negative programs that are safe to run: they
// are negative for what they return, not for what they do.
var safeNegative = map[string]string{
	"incorrect_return_value_high_bits.data": "an 8-byte load inside its 12-byte memory; the test expects a wrong result",
}

// TestConformanceNegative classifies every negative file: text the
// assembler refuses, a program the verifier refuses (with why), or a safe
// program listed in safeNegative. A file it cannot classify fails.
func TestConformanceNegative(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(conformanceDir(t), "negative", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("negative suite not found: %v", err)
	}
	sort.Strings(files)
	counts := map[string]int{}
	for _, path := range files {
		name := filepath.Base(path)
		if filepath.Ext(name) != ".data" {
			// The suite's runner script, not a test.
			if name != "invalid.sh" {
				t.Errorf("%s: unknown file in negative/", name)
			}
			continue
		}
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		d, err := asm.ParseDataFile(string(text))
		if err != nil {
			if !errors.Is(err, asm.ErrDataFile) {
				t.Errorf("%s: %v", name, err)
			}
			counts["no program in the file"]++
			continue
		}
		insns, err := d.Program()
		if err != nil {
			counts["refused by the assembler"]++
			continue
		}
		_, err = Verify(insns, conformanceOptions(d.Mem))
		why, safe := safeNegative[name]
		switch {
		case safe && err != nil:
			t.Errorf("%s: %s, yet refused: %v", name, why, err)
		case safe:
			counts["safe, negative for its result"]++
		case err == nil:
			t.Errorf("%s: a negative program the verifier accepts", name)
		default:
			var verr *Error
			if !errors.As(err, &verr) {
				t.Errorf("%s: %v is not a verifier refusal", name, err)
				continue
			}
			counts["refused by the verifier ("+verr.Errno.Name()+")"]++
		}
	}
	t.Logf("negative programs: %v", counts)
}
