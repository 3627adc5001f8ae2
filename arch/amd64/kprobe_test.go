//go:build tamago && amd64

package amd64

import (
	"testing"
	"unsafe"

	"hachi/kprobe/probetest"
	"hachi/perf"
	"hachi/syscall/linux"
)

// regsRecorder keeps the registers of the last hit.
type regsRecorder struct {
	hits int
	regs linux.PtRegsAMD64
	ip   uint64
}

func (r *regsRecorder) Hit(_ int, regs *perf.Regs) {
	r.hits++
	r.regs = *(*linux.PtRegsAMD64)(regs.Frame)
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
	// Go's register ABI: a, b, c, d in RAX, RBX, RCX, RDI.
	if r.regs.Ax != 1 || r.regs.Bx != 2 || r.regs.Cx != 3 || r.regs.Di != 4 {
		t.Errorf("registers: ax %d bx %d cx %d di %d", r.regs.Ax, r.regs.Bx, r.regs.Cx, r.regs.Di)
	}
	if r.ip != p.Addr()+1 || r.regs.Ip != p.Addr()+1 {
		t.Errorf("ip %#x (frame %#x), probe at %#x", r.ip, r.regs.Ip, p.Addr())
	}
	_ = unsafe.Pointer(nil)
}
