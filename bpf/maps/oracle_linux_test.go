//go:build linux

package maps

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"hachi/bpf/internal/hostbpf"
	"hachi/syscall/linux"
)

// The host kernel as an oracle: these helpers create and use real Linux
// maps through bpf(2), so tests can hold Hachi's maps to what Linux does.
// Tests using them skip, saying why, where bpf(2) is not permitted.

func hostBPF(cmd linux.BPFCmd, attr unsafe.Pointer, size uintptr) (int, error) {
	return hostbpf.Call(cmd, attr, size)
}

// hostMap is a map of the host kernel.
type hostMap struct {
	fd   int
	spec Spec
	ncpu int
}

// needHost skips the test unless the host kernel lets us create maps.
func needHost(t testing.TB) int {
	t.Helper()
	m, err := newHostMap(Spec{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 1}, nil)
	if err != nil {
		t.Skipf("host kernel refuses BPF_MAP_CREATE (%v): run as root on Linux to compare with it", err)
	}
	m.close()
	return hostPossibleCPUs(t)
}

// hostPossibleCPUs parses /sys/devices/system/cpu/possible ("0-3").
func hostPossibleCPUs(t testing.TB) int {
	b, err := os.ReadFile("/sys/devices/system/cpu/possible")
	if err != nil {
		t.Skipf("cannot read possible CPUs: %v", err)
	}
	n := 0
	for _, part := range strings.Split(strings.TrimSpace(string(b)), ",") {
		lo, hi, found := strings.Cut(part, "-")
		a, _ := strconv.Atoi(lo)
		z := a
		if found {
			z, _ = strconv.Atoi(hi)
		}
		n += z - a + 1
	}
	return n
}

func newHostMap(spec Spec, inner *hostMap) (*hostMap, error) {
	attr := linux.BPFAttrMapCreate{
		MapType: uint32(spec.Type), KeySize: spec.KeySize, ValueSize: spec.ValueSize,
		MaxEntries: spec.MaxEntries, MapFlags: spec.Flags, NumaNode: spec.NumaNode, MapExtra: spec.Extra,
	}
	if inner != nil {
		attr.InnerMapFD = uint32(inner.fd)
	}
	fd, err := hostBPF(linux.BPF_MAP_CREATE, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil {
		return nil, err
	}
	return &hostMap{fd: fd, spec: spec}, nil
}

func (m *hostMap) close() { syscall.Close(m.fd) }

func ptrOf(b []byte) uint64 {
	if len(b) == 0 {
		return 0
	}
	return uint64(uintptr(unsafe.Pointer(&b[0])))
}

func (m *hostMap) elem(cmd linux.BPFCmd, key, value []byte, flags uint64) error {
	attr := linux.BPFAttrMapElem{MapFD: uint32(m.fd), Key: ptrOf(key), Value: ptrOf(value), Flags: flags}
	_, err := hostBPF(cmd, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(key)
	runtime.KeepAlive(value)
	return err
}

func (m *hostMap) Lookup(key, value []byte, flags uint64) error {
	return m.elem(linux.BPF_MAP_LOOKUP_ELEM, key, value, flags)
}

func (m *hostMap) Update(key, value []byte, flags uint64) error {
	return m.elem(linux.BPF_MAP_UPDATE_ELEM, key, value, flags)
}

func (m *hostMap) Delete(key []byte) error {
	return m.elem(linux.BPF_MAP_DELETE_ELEM, key, nil, 0)
}

func (m *hostMap) NextKey(key, next []byte) error {
	return m.elem(linux.BPF_MAP_GET_NEXT_KEY, key, next, 0)
}

func (m *hostMap) LookupAndDelete(key, value []byte, flags uint64) error {
	return m.elem(linux.BPF_MAP_LOOKUP_AND_DELETE_ELEM, key, value, flags)
}

func (m *hostMap) Freeze() error {
	attr := linux.BPFAttrMapElem{MapFD: uint32(m.fd)}
	_, err := hostBPF(linux.BPF_MAP_FREEZE, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return err
}
