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
	"hachi/syscall/linux"
)

// conformanceDir is the bpf_conformance suite's data (see its README).
const conformanceDir = "../../../shared/bpf_conformance"

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

// refusedConformance are the suite programs Linux refuses too, with its reason.
var refusedConformance = map[string]string{
	"arsh32-imm-high.data": "invalid shift 48",
	"arsh32-imm-neg.data":  "invalid shift -16",
	"arsh64-imm-high.data": "invalid shift 124",
	"arsh64-imm-neg.data":  "invalid shift -4",
	"lsh32-imm-high.data":  "invalid shift 60",
	"lsh32-imm-neg.data":   "invalid shift -4",
	"lsh64-imm-high.data":  "invalid shift 68",
	"lsh64-imm-neg.data":   "invalid shift -60",
	"rsh32-imm-high.data":  "invalid shift",
	"rsh32-imm-neg.data":   "invalid shift",
	"rsh64-imm-high.data":  "invalid shift",
	"rsh64-imm-neg.data":   "invalid shift",
	"callx.data":           "unknown opcode 8d",
}

func TestConformanceSuite(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(conformanceDir, "tests", "*.data"))
	if err != nil || len(files) == 0 {
		t.Fatalf("conformance suite not found in %s: %v", conformanceDir, err)
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
