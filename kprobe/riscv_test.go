//go:build !tamago

package kprobe

import (
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/arch/riscv64/riscv64asm"

	"hachi/perf"
	"hachi/syscall/linux"
)

// The riscv64 tests decode the machine code the Go compiler makes for
// linux/riscv64: testdata/rvprog (package probetest in a program),
// cross-compiled once per test run.

var (
	rvOnce sync.Once
	rvImg  *image
	errRV  error
)

func rvImage(t *testing.T) *image {
	t.Helper()
	rvOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kprobe-rv")
		if err != nil {
			errRV = err
			return
		}
		out := filepath.Join(dir, "rvprog")
		cmd := exec.Command("go", "build", "-o", out, "./testdata/rvprog")
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=riscv64", "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			errRV = errors.New(string(b))
			return
		}
		rvImg, errRV = loadImage(out)
	})
	if errRV != nil {
		t.Fatalf("cross-compiling testdata/rvprog for riscv64: %v", errRV)
	}
	return rvImg
}

// rvInsn finds the first instruction of fn with operation op.
func rvInsn(t *testing.T, im *image, fn Symbol, ops ...riscv64asm.Op) insn {
	t.Helper()
	insns, err := decodeFunc(RISCV64, fn, im.code(fn))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range insns {
		inst, _ := riscv64asm.Decode(in.code)
		for _, op := range ops {
			if inst.Op == op {
				return in
			}
		}
	}
	t.Fatalf("%s has no %v", fn.Name, ops)
	return insn{}
}

func TestRISCVBoundariesAndBreakpointSizes(t *testing.T) {
	im := rvImage(t)
	m, fm := newManager(t, RISCV64, im, 1)
	sizes := map[int]int{}
	for _, name := range []string{"Target", "Caller", "Branch", "AddressOfGlobal", "Sum4", "Switch", "Loop", "Indirect", "Recurse"} {
		fn := mustSymbol(t, im.symtab, "hachi/kprobe/probetest."+name)
		insns, err := decodeFunc(RISCV64, fn, im.code(fn))
		if err != nil {
			t.Fatalf("%s: %v", fn.Name, err)
		}
		for _, in := range insns {
			if in.length == 4 {
				if _, err := m.Place(perf.KprobeSpec{Addr: in.addr + 2}, nopHandler{}); !errors.Is(err, linux.EILSEQ) {
					t.Errorf("%s: inside a 4-byte instruction: %v", im.symtab.Format(in.addr+2), err)
				}
			}
			p, err := m.Place(perf.KprobeSpec{Addr: in.addr}, nopHandler{})
			if err != nil {
				t.Fatalf("%s: %v", im.symtab.Format(in.addr), err)
			}
			got := fm.mem(in.addr, in.length)
			if !RISCV64.isBreakpoint(got) || len(RISCV64.breakpoint(in.length)) != in.length {
				t.Fatalf("%s: % x placed over a %d-byte instruction", im.symtab.Format(in.addr), got, in.length)
			}
			sizes[in.length]++
			p.Unregister()
			if string(fm.mem(in.addr, in.length)) != string(in.code) {
				t.Fatalf("%s: not restored", im.symtab.Format(in.addr))
			}
		}
	}
	if sizes[2] == 0 || sizes[4] == 0 {
		t.Errorf("instruction sizes seen: %v (want compressed and full)", sizes)
	}
}

// rvFrame is a register frame with a stack for the emulation tests.
type rvFrame struct {
	regs  linux.UserRegsRISCV64
	stack [32]uint64
}

func TestRISCVEmulateCallAndAUIPC(t *testing.T) {
	im := rvImage(t)
	st := im.symtab
	target := mustSymbol(t, st, "hachi/kprobe/probetest.Target")
	caller := mustSymbol(t, st, "hachi/kprobe/probetest.Caller")
	call := rvInsn(t, im, caller, riscv64asm.JAL)
	for call.rd != 1 { // skip the prologue's JAL X5 to morestack
		call = rvInsnAfter(t, im, caller, call.addr+uint64(call.length), riscv64asm.JAL)
	}
	var f rvFrame
	pc := RISCV64.emulate(&call, unsafe.Pointer(&f.regs))
	if pc != target.Addr || f.regs.Ra != call.addr+uint64(call.length) {
		t.Errorf("JAL ra: pc %#x ra %#x, want %#x and %#x", pc, f.regs.Ra, target.Addr, call.addr+4)
	}
	// AUIPC + ADDI computes &Global: the emulated AUIPC gives the
	// register the same value as running it at its address would.
	fn := mustSymbol(t, st, "hachi/kprobe/probetest.AddressOfGlobal")
	auipc := rvInsn(t, im, fn, riscv64asm.AUIPC)
	addi := rvInsnAfter(t, im, fn, auipc.addr+4, riscv64asm.ADDI)
	pc = RISCV64.emulate(&auipc, unsafe.Pointer(&f.regs))
	inst, _ := riscv64asm.Decode(addi.code)
	got := rvGet(unsafe.Pointer(&f.regs), auipc.rd) + uint64(rvImm(inst.Args[2]))
	syms, _ := im.file.Symbols()
	want := uint64(0)
	for _, s := range syms {
		if s.Name == "hachi/kprobe/probetest.Global" {
			want = s.Value
		}
	}
	if pc != auipc.addr+4 || want == 0 || got != want {
		t.Errorf("AUIPC+ADDI: %#x (next pc %#x), &Global is %#x", got, pc, want)
	}
}

func rvInsnAfter(t *testing.T, im *image, fn Symbol, from uint64, op riscv64asm.Op) insn {
	t.Helper()
	insns, _ := decodeFunc(RISCV64, fn, im.code(fn))
	for _, in := range insns {
		if inst, _ := riscv64asm.Decode(in.code); in.addr >= from && inst.Op == op {
			return in
		}
	}
	t.Fatalf("%s has no %v after %#x", fn.Name, op, from)
	return insn{}
}

func TestRISCVEmulateBranch(t *testing.T) {
	im := rvImage(t)
	fn := mustSymbol(t, im.symtab, "hachi/kprobe/probetest.Branch")
	insns, _ := decodeFunc(RISCV64, fn, im.code(fn))
	n := 0
	for i := range insns {
		in := &insns[i]
		if in.act != actBranch {
			continue
		}
		for _, v := range [][2]uint64{{1, 2}, {2, 1}, {5, 5}, {^uint64(0), 1}, {1, ^uint64(0)}} {
			var f rvFrame
			rvSet(unsafe.Pointer(&f.regs), in.rs1, v[0])
			rvSet(unsafe.Pointer(&f.regs), in.rs2, v[1])
			a, b := rvGet(unsafe.Pointer(&f.regs), in.rs1), rvGet(unsafe.Pointer(&f.regs), in.rs2)
			var taken bool
			switch in.cond {
			case rvBEQ:
				taken = a == b
			case rvBNE:
				taken = a != b
			case rvBLT:
				taken = int64(a) < int64(b)
			case rvBGE:
				taken = int64(a) >= int64(b)
			case rvBLTU:
				taken = a < b
			case rvBGEU:
				taken = a >= b
			}
			want := in.addr + uint64(in.length)
			if taken {
				want = in.target
			}
			if pc := RISCV64.emulate(in, unsafe.Pointer(&f.regs)); pc != want {
				t.Errorf("%s with %d, %d: pc %#x, want %#x", im.symtab.Format(in.addr), v[0], v[1], pc, want)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("Branch has no conditional branch")
	}
}

// TestRISCVReturnProbeAndStep: a return probe sits on RET (jalr x0,
// 0(ra) or c.jr ra) and reports the return; a probe on another
// instruction single-steps it in a slot ending in ebreak, whose trap
// resumes after the probed instruction.
func TestRISCVReturnProbeAndStep(t *testing.T) {
	im := rvImage(t)
	m, fm := newManager(t, RISCV64, im, 1)
	fn := mustSymbol(t, im.symtab, "hachi/kprobe/probetest.Target")
	r := &recorder{}
	p, err := m.Place(perf.KprobeSpec{Symbol: fn.Name, Retprobe: true}, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.sites) != 1 || !p.sites[0].in.ret {
		t.Fatalf("return probe sites: %d", len(p.sites))
	}
	var f rvFrame
	f.regs.Ra, f.regs.A0 = 0x4000, 49
	ret := p.sites[0].addr
	f.regs.Pc = ret
	m.Trap(0, ret, unsafe.Pointer(&f.regs))
	seen := (*linux.UserRegsRISCV64)(unsafe.Pointer(&r.last))
	if f.regs.Pc != 0x4000 || r.hits.Load() != 1 || seen.A0 != 49 || r.ip != 0x4000 {
		t.Errorf("after RET: pc %#x, %d hits, a0 %d, ip %#x", f.regs.Pc, r.hits.Load(), seen.A0, r.ip)
	}
	p.Unregister()

	mul := rvInsn(t, im, fn, riscv64asm.MUL)
	p, err = m.Place(perf.KprobeSpec{Addr: mul.addr}, r)
	if err != nil {
		t.Fatal(err)
	}
	f.regs.Pc = mul.addr
	m.Trap(0, mul.addr, unsafe.Pointer(&f.regs))
	slot := p.sites[0].slotAddr
	code := fm.mem(slot, mul.length+4)
	if f.regs.Pc != slot || string(code[:mul.length]) != string(mul.code) ||
		binary.LittleEndian.Uint32(code[mul.length:]) != rvEbreak {
		t.Fatalf("pc %#x, slot %#x holds % x", f.regs.Pc, slot, code)
	}
	// The slot's ebreak: on to the instruction after the probed one.
	f.regs.Pc = slot + uint64(mul.length)
	if !m.Trap(0, slot+uint64(mul.length), unsafe.Pointer(&f.regs)) || f.regs.Pc != mul.addr+uint64(mul.length) {
		t.Errorf("after the step: pc %#x, want %#x", f.regs.Pc, mul.addr+uint64(mul.length))
	}
	p.Unregister()
}

func TestRISCVRefused(t *testing.T) {
	im := rvImage(t)
	m, _ := newManager(t, RISCV64, im, 1)
	for _, name := range []string{"runtime.morestack", "runtime.systemstack", "runtime.gogo", "runtime.procyield", "runtime.lock2"} {
		if _, ok := im.symtab.Lookup(name); !ok {
			continue
		}
		if _, err := m.Place(perf.KprobeSpec{Symbol: name}, nopHandler{}); !errors.Is(err, linux.EINVAL) {
			t.Errorf("%s: %v, want EINVAL", name, err)
		}
	}
	if p, err := m.Place(perf.KprobeSpec{Symbol: "runtime.mallocgc"}, nopHandler{}); err != nil {
		t.Errorf("runtime.mallocgc: %v", err)
	} else {
		p.Unregister()
	}
}
