//go:build linux

package perf

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	ebpfasm "github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/perf"
	"golang.org/x/sys/unix"

	"hachi/syscall/linux"
)

// The host kernel as an oracle: the same BPF output event opened on the
// host's Linux and on Hachi, the same bpf_perf_event_output, the same
// bytes in the ring; and cilium/ebpf v0.22.0's perf.Reader reading a
// Linux ring agrees with Hachi's Reader reading Hachi's.

// sample13 is the 13 bytes the oracle program outputs: an odd size, so
// the record carries padding.
var sample13 = []byte("ABCDEFGHIJKLM")

// outputProgram is an XDP program (XDP runs under BPF_PROG_TEST_RUN)
// that outputs sample13 on the current CPU's slot of m and passes.
func outputProgram(t *testing.T, m *ebpf.Map) *ebpf.Program {
	t.Helper()
	le := binary.LittleEndian
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "GPL", Instructions: ebpfasm.Instructions{
		ebpfasm.StoreImm(ebpfasm.RFP, -16, int64(le.Uint32(sample13[0:])), ebpfasm.Word),
		ebpfasm.StoreImm(ebpfasm.RFP, -12, int64(le.Uint32(sample13[4:])), ebpfasm.Word),
		ebpfasm.StoreImm(ebpfasm.RFP, -8, int64(le.Uint32(sample13[8:])), ebpfasm.Word),
		ebpfasm.StoreImm(ebpfasm.RFP, -4, int64(sample13[12]), ebpfasm.Byte),
		ebpfasm.LoadMapPtr(ebpfasm.R2, m.FD()),
		ebpfasm.LoadImm(ebpfasm.R3, 0xffffffff, ebpfasm.DWord),
		ebpfasm.Mov.Reg(ebpfasm.R4, ebpfasm.RFP),
		ebpfasm.Add.Imm(ebpfasm.R4, -16),
		ebpfasm.Mov.Imm(ebpfasm.R5, int32(len(sample13))),
		ebpfasm.FnPerfEventOutput.Call(),
		ebpfasm.Mov.Imm(ebpfasm.R0, 2), // XDP_PASS
		ebpfasm.Return(),
	}})
	if err != nil {
		t.Skipf("the host refuses the oracle program (%v): run as root on a kernel with BPF", err)
	}
	return prog
}

func hostPerfArray(t *testing.T) *ebpf.Map {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the host kernel oracle needs root (BPF programs and CPU-wide perf events)")
	}
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.PerfEventArray})
	if err != nil {
		t.Skipf("the host refuses a PERF_EVENT_ARRAY (%v)", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestHostRingBytes opens libbpf's perf buffer event on every host CPU,
// runs the program once, and compares the Linux ring's control page and
// record with Hachi's for the same output.
func TestHostRingBytes(t *testing.T) {
	m := hostPerfArray(t)
	var rings [][]byte
	for cpu := 0; cpu < int(m.MaxEntries()); cpu++ {
		attr := unix.PerfEventAttr{Type: unix.PERF_TYPE_SOFTWARE, Config: unix.PERF_COUNT_SW_BPF_OUTPUT,
			Sample_type: unix.PERF_SAMPLE_RAW, Sample: 1, Wakeup: 1}
		attr.Size = uint32(unsafe.Sizeof(attr))
		fd, err := unix.PerfEventOpen(&attr, -1, cpu, -1, unix.PERF_FLAG_FD_CLOEXEC)
		if err != nil {
			t.Skipf("host perf_event_open: %v", err)
		}
		defer unix.Close(fd)
		mem, err := unix.Mmap(fd, 0, 2*4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Munmap(mem)
		if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_ENABLE, 0); err != nil {
			t.Fatal(err)
		}
		if err := m.Update(uint32(cpu), uint32(fd), ebpf.UpdateAny); err != nil {
			t.Fatal(err)
		}
		rings = append(rings, mem)
	}
	prog := outputProgram(t, m)
	defer prog.Close()
	if _, err := prog.Run(&ebpf.RunOptions{Data: make([]byte, 14)}); err != nil {
		t.Fatal(err)
	}
	var host []byte
	for _, mem := range rings {
		if binary.LittleEndian.Uint64(mem[1024:]) != 0 {
			host = mem
		}
	}
	if host == nil {
		t.Fatal("no host ring received the sample")
	}

	env := newTestEnv(t)
	_, ev, hachi := env.mapped(bpfOutputAttr(), 0, 1)
	if err := ev.Output(0, sample13); err != nil {
		t.Fatal(err)
	}
	var p linux.PerfEventMmapPage
	for _, f := range []struct {
		name string
		off  uintptr
		size int
		mask uint64
	}{
		{"version", unsafe.Offsetof(p.Version), 4, ^uint64(0)},
		{"compat_version", unsafe.Offsetof(p.CompatVersion), 4, ^uint64(0)},
		{"index", unsafe.Offsetof(p.Index), 4, ^uint64(0)},
		{"cap_bit0, cap_bit0_is_deprecated, cap_user_rdpmc", unsafe.Offsetof(p.Capabilities), 8, 0x7},
		{"size", unsafe.Offsetof(p.Size), 4, ^uint64(0)},
		{"data_head", linux.PerfMmapDataHeadOff, 8, ^uint64(0)},
		{"data_tail", linux.PerfMmapDataTailOff, 8, ^uint64(0)},
		{"data_offset", linux.PerfMmapDataOffsetOff, 8, ^uint64(0)},
		{"data_size", linux.PerfMmapDataSizeOff, 8, ^uint64(0)},
	} {
		get := func(mem []byte) uint64 {
			if f.size == 4 {
				return uint64(binary.LittleEndian.Uint32(mem[f.off:])) & f.mask
			}
			return binary.LittleEndian.Uint64(mem[f.off:]) & f.mask
		}
		if h, l := get(hachi), get(host); h != l {
			t.Errorf("control page %s: Hachi %#x, Linux %#x", f.name, h, l)
		}
	}
	n := binary.LittleEndian.Uint64(host[1024:])
	if !bytes.Equal(hachi[4096:4096+n], host[4096:4096+n]) {
		t.Errorf("record bytes differ:\nHachi % x\nLinux % x", hachi[4096:4096+n], host[4096:4096+n])
	}
	// Hachi's Reader reads the Linux ring.
	r := newReader(t, host, bpfOutputAttr())
	var rec Record
	if err := r.Read(&rec); err != nil || !bytes.HasPrefix(rec.Sample.Raw, sample13) || len(rec.Sample.Raw) != 20 {
		t.Errorf("Hachi's reader on the Linux ring: %v %q", err, rec.Sample.Raw)
	}
	if tail := binary.LittleEndian.Uint64(host[1032:]); tail != n {
		t.Errorf("data_tail written back as %d, want %d", tail, n)
	}
}

// TestHostCiliumReader: cilium/ebpf's perf.Reader reading what Linux
// wrote, and Hachi's Reader reading what Hachi wrote, hand the same raw
// sample (padding included) to their callers.
func TestHostCiliumReader(t *testing.T) {
	m := hostPerfArray(t)
	rd, err := perf.NewReader(m, 4096)
	if err != nil {
		t.Skipf("cilium/ebpf perf reader on the host: %v", err)
	}
	defer rd.Close()
	prog := outputProgram(t, m)
	defer prog.Close()
	if _, err := prog.Run(&ebpf.RunOptions{Data: make([]byte, 14)}); err != nil {
		t.Fatal(err)
	}
	rd.SetDeadline(time.Now().Add(5 * time.Second))
	linuxRec, err := rd.Read()
	if err != nil {
		t.Fatal(err)
	}

	env := newTestEnv(t)
	_, ev, mem := env.mapped(bpfOutputAttr(), 0, 1)
	if err := ev.Output(0, sample13); err != nil {
		t.Fatal(err)
	}
	var rec Record
	if err := newReader(t, mem, bpfOutputAttr()).Read(&rec); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rec.Sample.Raw, linuxRec.RawSample) {
		t.Errorf("raw samples differ: Hachi % x, cilium/ebpf on Linux % x", rec.Sample.Raw, linuxRec.RawSample)
	}
}
