//go:build linux

package btf

import (
	"errors"
	"os"
	"runtime"
	"syscall"
	"testing"
	"unsafe"

	"hachi/bpf/internal/hostbpf"
	"hachi/bpf/log"
	"hachi/syscall/linux"
)

// The host kernel as an oracle: where the machine running the tests lets
// root call bpf(BPF_BTF_LOAD) (x86_64 Linux), every blob is loaded there too
// and the errno and verifier log must be the same as ours.

// hostLoad loads raw through the host's BPF_BTF_LOAD with a level-1 log of
// logSize bytes (no log when 0). It skips the test when the host cannot be
// asked.
func hostLoad(t *testing.T, raw []byte, logSize uint32) (error, string) {
	t.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skipf("host oracle needs linux/amd64, have %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	if os.Geteuid() != 0 {
		t.Skip("host oracle needs root for bpf(BPF_BTF_LOAD)")
	}
	buf := make([]byte, max(logSize, 1))
	var attr linux.BPFAttrBTFLoad
	if len(raw) > 0 {
		attr.BTF = uint64(uintptr(unsafe.Pointer(&raw[0])))
	}
	attr.BTFSize = uint32(len(raw))
	if logSize > 0 {
		attr.BTFLogBuf = uint64(uintptr(unsafe.Pointer(&buf[0])))
		attr.BTFLogSize = logSize
		attr.BTFLogLevel = 1
	}
	fd, err := hostbpf.Call(linux.BPF_BTF_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(raw)
	runtime.KeepAlive(buf)
	if err == linux.EPERM || err == linux.ENOSYS {
		t.Skipf("host refuses bpf(BPF_BTF_LOAD): %v", err)
	}
	if err != nil {
		return err, log.Buffer(buf).String()
	}
	syscall.Close(int(fd))
	return nil, log.Buffer(buf).String()
}

// hostDiffers lists cases where Linux 6.1 (the ABI Hachi follows) and a newer
// host kernel answer differently, with why; they are compared on errno only
// when the errno agrees, else skipped with the reason shown.
var hostDiffers = map[string]string{
	"typedef name with a dot": "Linux 6.1 checks TYPEDEF names with btf_name_valid_identifier (no '.'); later kernels relaxed it",
}

func sameErr(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	return errors.Is(a, b)
}

func TestHostAgreesOnTable(t *testing.T) {
	for _, tc := range loadCases {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.blob()
			herr, hlog := hostLoad(t, raw, 1<<20)
			_, mlog, merr := runLoad(t, raw, 1<<20)
			if why, ok := hostDiffers[tc.name]; ok && (!sameErr(herr, merr) || hlog != mlog) {
				t.Skipf("host differs (%s): host %v, ours %v", why, herr, merr)
			}
			if !sameErr(herr, merr) {
				t.Fatalf("%s: host %v, ours %v\nhost log:\n%s\nour log:\n%s", tc.check, herr, merr, hlog, mlog)
			}
			if hlog != mlog {
				t.Errorf("%s: logs differ\nhost:\n%q\nours:\n%q", tc.check, hlog, mlog)
			}
		})
	}
}

// TestHostAgreesOnTypeLimit loads blobs around BTF_MAX_TYPE records
// (without a log) on the host and compares the answers.
func TestHostAgreesOnTypeLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("12 MiB blobs")
	}
	for name, raw := range map[string][]byte{
		"BTF_MAX_TYPE-1 records":      manyTypes(linux.BTF_MAX_TYPE - 1),
		"BTF_MAX_TYPE records":        manyTypes(linux.BTF_MAX_TYPE),
		"BTF_MAX_TYPE+1 records":      manyTypes(linux.BTF_MAX_TYPE + 1),
		"reference to a dropped type": danglingPastLimit(),
	} {
		herr, _ := hostLoad(t, raw, 0)
		_, merr := Load(raw, nil)
		if !sameErr(herr, merr) {
			t.Errorf("%s: host %v, ours %v", name, herr, merr)
		}
	}
}
