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
