package vm_test

import (
	"os"
	"testing"

	"hachi/bpf/vm"
	"hachi/bpf/vm/vmtest"
)

// TestGolden runs testdata/*.data in checked mode.
func TestGolden(t *testing.T) {
	vmtest.Golden(t, os.DirFS("."), "testdata", vm.NewChecked)
}

// TestGoldenFast runs the golden files that succeed in checked mode (so
// they are safe) again in the fast mode.
func TestGoldenFast(t *testing.T) {
	fsys := os.DirFS(".")
	env := vm.NewEnv()
	for _, name := range vmtest.Files(t, fsys, "testdata") {
		text := read(t, fsys, name)
		checked := vmtest.Run(text, env, vm.NewChecked, false)
		if checked.Err != nil {
			continue
		}
		fast := vmtest.Run(text, env, vm.NewVerified, false)
		if fast.Err != nil || fast.R0 != checked.R0 {
			t.Errorf("%s: checked %#x; fast %#x, %v", name, checked.R0, fast.R0, fast.Err)
		}
	}
}
