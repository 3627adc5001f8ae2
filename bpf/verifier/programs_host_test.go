//go:build linux && amd64

package verifier_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
)

// TestRealisticProgramsOnHost loads the same objects into the host kernel
// with cilium/ebpf: Linux must accept what Hachi's verifier accepts. It is
// skipped, saying why, when this process may not load programs.
func TestRealisticProgramsOnHost(t *testing.T) {
	for _, o := range buildObjects(t) {
		if strings.HasSuffix(o.name, "-riscv64") {
			continue // built for the other target's registers
		}
		coll, err := ebpf.NewCollectionWithOptions(o.spec, ebpf.CollectionOptions{})
		if errors.Is(err, ebpf.ErrNotSupported) || (err != nil && strings.Contains(err.Error(), "operation not permitted")) {
			t.Skipf("the host kernel does not let this process load BPF programs: %v", err)
		}
		if err != nil {
			var verr *ebpf.VerifierError
			if errors.As(err, &verr) {
				t.Errorf("%s: the host refuses it: %+v", o.name, verr)
			} else {
				t.Errorf("%s: %v", o.name, err)
			}
			continue
		}
		for name := range o.spec.Programs {
			t.Logf("%s/%s: the host accepts it", o.name, name)
		}
		coll.Close()
	}
}
