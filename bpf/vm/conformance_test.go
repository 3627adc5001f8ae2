package vm_test

import (
	"testing"

	"hachi/bpf/vm"
	"hachi/bpf/vm/vmtest"
)

// TestConformance runs the bpf_conformance suite in checked mode: all 313
// programs pass and every negative file is refused.
func TestConformance(t *testing.T) {
	vmtest.Conformance(t, vmtest.Suite(t), vm.NewChecked)
}

// TestConformanceFast runs the suite's programs in the fast mode, standing
// in for the verifier: they are known to be safe (the checked run proves
// each stays in bounds). The negative files must still be refused, now
// without the checked mode's help for the one that reads an unset r0.
func TestConformanceFast(t *testing.T) {
	fsys := vmtest.Suite(t)
	env := vm.NewEnv()
	for _, name := range vmtest.Files(t, fsys, "tests") {
		text := read(t, fsys, name)
		checked := vmtest.Run(text, env, vm.NewChecked, true)
		fast := vmtest.Run(text, env, vm.NewVerified, true)
		if checked.Err != nil || fast.Err != nil || fast.R0 != checked.R0 {
			t.Errorf("%s: checked %#x, %v; fast %#x, %v", name, checked.R0, checked.Err, fast.R0, fast.Err)
		}
	}
}
