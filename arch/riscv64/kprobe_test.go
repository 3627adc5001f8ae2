//go:build tamago && riscv64

package riscv64

import (
	"testing"

	"hachi/kprobe/probetest"
	"hachi/perf"
	"hachi/syscall/linux"
)

// regsRecorder keeps the registers of the last hit.
type regsRecorder struct {
	hits int
	regs linux.UserRegsRISCV64
	ip   uint64
}

func (r *regsRecorder) Hit(_ int, regs *perf.Regs) {
	r.hits++
	r.regs = *(*linux.UserRegsRISCV64)(regs.Frame)
	r.ip = regs.IP
}

func TestKprobeSeesArguments(t *testing.T) {
	m, err := Kprobes()
	if err != nil {
		t.Fatal(err)
	}
	r := &regsRecorder{}
	p, err := m.Place(perf.KprobeSpec{Symbol: "hachi/kprobe/probetest.Sum4"}, r)
	if err != nil {
		t.Fatal(err)
	}
	got := probetest.Sum4(1, 2, 3, 4)
	p.Unregister()
	if got != 1+4+9+16 {
		t.Errorf("Sum4 = %d under the probe", got)
	}
	if r.hits != 1 {
		t.Fatalf("%d hits", r.hits)
	}
	// Go's register ABI: a, b, c, d in a0-a3.
	if r.regs.A0 != 1 || r.regs.A1 != 2 || r.regs.A2 != 3 || r.regs.A3 != 4 {
		t.Errorf("registers: a0 %d a1 %d a2 %d a3 %d", r.regs.A0, r.regs.A1, r.regs.A2, r.regs.A3)
	}
	if r.ip != p.Addr() || r.regs.Pc != p.Addr() {
		t.Errorf("pc %#x (frame %#x), probe at %#x", r.ip, r.regs.Pc, p.Addr())
	}
}
