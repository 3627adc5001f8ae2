package maps

import (
	"encoding/binary"
	"errors"
	"testing"
	"unsafe"

	"hachi/syscall/linux"
)

// testCPUs is the number of CPUs the portable tests simulate.
const testCPUs = 4

var testHost = FixedHost{CPUs: testCPUs}

func mustNew(t testing.TB, spec Spec) Map {
	t.Helper()
	m, err := New(spec, testHost)
	if err != nil {
		t.Fatalf("New(%+v): %v", spec, err)
	}
	return m
}

func wantErr(t testing.TB, what string, err error, want linux.Errno) {
	t.Helper()
	if want == 0 && err != nil || want != 0 && !errors.Is(err, want) {
		t.Fatalf("%s: got %v, want %s", what, err, errName(want))
	}
}

// word reads the u64 a program sees at p.
func word(p unsafe.Pointer) uint64 { return *(*uint64)(p) }

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// lpmKey is a bpf_lpm_trie_key with prefix length n and data.
func lpmKey(n uint32, data ...byte) []byte {
	return append(binary.NativeEndian.AppendUint32(nil, n), data...)
}

// errnoOf is err's errno, 0 for nil.
func errnoOf(err error) linux.Errno {
	if err == nil {
		return 0
	}
	var e linux.Errno
	if errors.As(err, &e) {
		return e
	}
	return linux.Errno(1 << 30)
}

func errName(e linux.Errno) string {
	if e == 0 {
		return "ok"
	}
	return e.Name()
}
