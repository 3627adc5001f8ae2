//go:build linux && amd64

package verifier_test

import (
	"syscall"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"

	"hachi/bpf/asm"
	"hachi/bpf/isa"
	"hachi/syscall/linux"
)

// bpfSyscall is bpf(2) on x86_64.
const bpfSyscall = 321

// BenchmarkHostReference is the host kernel verifying the same programs
// (BPF_PROG_LOAD without a log; the largest program's load includes
// creating its maps). Skipped when this process may not load programs.
func BenchmarkHostReference(b *testing.B) {
	b.Run("loop1M", func(b *testing.B) {
		insns, err := asm.Assemble(budgetLoop)
		if err != nil {
			b.Fatal(err)
		}
		code := isa.Encode(insns)
		license := []byte("GPL\x00")
		attr := linux.BPFAttrProgLoad{ProgType: uint32(linux.BPF_PROG_TYPE_SOCKET_FILTER), InsnCnt: uint32(len(insns)),
			Insns: uint64(uintptr(unsafe.Pointer(&code[0]))), License: uint64(uintptr(unsafe.Pointer(&license[0])))}
		for i := 0; i < b.N; i++ {
			fd, _, errno := syscall.Syscall(bpfSyscall, uintptr(linux.BPF_PROG_LOAD), uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
			if errno != 0 {
				b.Skipf("the host kernel refuses to load: %v", errno)
			}
			syscall.Close(int(fd))
		}
	})
	b.Run("largest", func(b *testing.B) {
		var spec *ebpf.CollectionSpec
		largest := 0
		for _, o := range buildObjects(b) {
			for _, p := range o.spec.Programs {
				if n := len(p.Instructions); n > largest && o.arch == 0 {
					largest, spec = n, o.spec
				}
			}
		}
		for i := 0; i < b.N; i++ {
			coll, err := ebpf.NewCollection(spec)
			if err != nil {
				b.Skipf("the host kernel refuses to load: %v", err)
			}
			coll.Close()
		}
	})
}
