//go:build linux && amd64

package vm_test

import (
	"bytes"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"hachi/bpf/asm"
	"hachi/bpf/internal/hostbpf"
	"hachi/bpf/isa"
	"hachi/bpf/vm"
	"hachi/bpf/vm/vmtest"
	"hachi/syscall/linux"
)

// The host kernel as an oracle: the golden files run as socket filters
// through bpf(BPF_PROG_LOAD) and bpf(BPF_PROG_TEST_RUN), and their results
// (or the verifier's refusals) are compared with what the files claim.

// Numbers and layouts of uapi/linux/bpf.h that the test needs.
const (
	bpfMapTypeProgArray   = 3
	bpfProgTypeSockFilter = 1
	ethHeaderLen          = 14
)

func bpf(cmd linux.BPFCmd, attr []byte) (int, error) {
	return hostbpf.Call(cmd, unsafe.Pointer(&attr[0]), uintptr(len(attr)))
}

func put32(b []byte, off int, v uint32) { *(*uint32)(unsafe.Pointer(&b[off])) = v }
func put64(b []byte, off int, v uint64) { *(*uint64)(unsafe.Pointer(&b[off])) = v }
func addr[T any](p *T) uint64           { return uint64(uintptr(unsafe.Pointer(p))) }

// linuxProgArray creates a one-slot BPF_MAP_TYPE_PROG_ARRAY.
func linuxProgArray(t *testing.T) int {
	attr := make([]byte, 72)
	put32(attr, 0, bpfMapTypeProgArray)
	put32(attr, 4, 4) // key_size
	put32(attr, 8, 4) // value_size
	put32(attr, 12, 1)
	fd, err := bpf(linux.BPF_MAP_CREATE, attr)
	if err != nil {
		t.Fatalf("BPF_MAP_CREATE: %v", err)
	}
	return fd
}

// linuxLoad loads a socket filter and returns its fd, or the verifier log.
func linuxLoad(insns []isa.Instruction) (int, string, error) {
	code := isa.Encode(insns)
	license := []byte("GPL\x00")
	log := make([]byte, 1<<16)
	attr := make([]byte, 128)
	put32(attr, 0, bpfProgTypeSockFilter)
	put32(attr, 4, uint32(len(insns)))
	put64(attr, 8, addr(&code[0]))
	put64(attr, 16, addr(&license[0]))
	put32(attr, 24, 1) // log_level
	put32(attr, 28, uint32(len(log)))
	put64(attr, 32, addr(&log[0]))
	fd, err := bpf(linux.BPF_PROG_LOAD, attr)
	// Like libbpf, retry while the kernel is short of JIT memory that freed
	// programs have not yet returned.
	for try := 0; err == linux.EAGAIN && try < 50; try++ {
		time.Sleep(10 * time.Millisecond)
		fd, err = bpf(linux.BPF_PROG_LOAD, attr)
	}
	runtime.KeepAlive(code) // attr holds their addresses only
	runtime.KeepAlive(license)
	text, _, _ := bytes.Cut(log, []byte{0})
	return fd, string(text), err
}

// linuxRun runs a socket filter once on a packet of an Ethernet header
// (which the kernel pulls) followed by data, and returns r0's low half.
func linuxRun(t *testing.T, fd int, data []byte) uint32 {
	in := append(make([]byte, ethHeaderLen), data...)
	attr := make([]byte, 80)
	put32(attr, 0, uint32(fd))
	put32(attr, 8, uint32(len(in)))
	put64(attr, 16, addr(&in[0]))
	put32(attr, 32, 1) // repeat
	_, err := bpf(linux.BPF_PROG_TEST_RUN, attr)
	runtime.KeepAlive(in)
	if err != nil {
		t.Fatalf("BPF_PROG_TEST_RUN: %v", err)
	}
	return *(*uint32)(unsafe.Pointer(&attr[4]))
}

// TestGoldenLinux checks every golden file against the host kernel: it
// returns the same result (the low 32 bits: a socket filter's retval), or
// its verifier refuses the program with the text the file names.
func TestGoldenLinux(t *testing.T) {
	probe := []isa.Instruction{{Opcode: 0xb7}, {Opcode: 0x95}}
	if fd, _, err := linuxLoad(probe); err != nil {
		t.Skipf("the host kernel does not load BPF programs for this process (%v): nothing to compare with", err)
	} else {
		syscall.Close(fd)
	}
	fsys := os.DirFS(".")
	for _, name := range vmtest.Files(t, fsys, "testdata") {
		d, err := asm.ParseDataFile(read(t, fsys, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Run(strings.TrimSuffix(strings.TrimPrefix(name, "testdata/"), ".data"), func(t *testing.T) {
			compareWithLinux(t, d)
		})
	}
}

func compareWithLinux(t *testing.T, d *asm.DataFile) {
	if reason, ok := strings.CutPrefix(d.Linux, "skip: "); ok {
		t.Skip(reason)
	}
	insns, err := d.Program()
	if err != nil {
		t.Fatal(err)
	}
	// Map fd 1 of the golden runner is a prog array holding the program.
	array := -1
	for n, ins := range insns {
		if ins.Opcode == 0x18 && ins.Src == isa.Register(isa.PseudoMapFD) && ins.Imm == 1 {
			if array < 0 {
				array = linuxProgArray(t)
				defer syscall.Close(array)
			}
			insns[n].Imm = int32(array)
		}
	}
	fd, log, err := linuxLoad(insns)
	if want, refuses := strings.CutPrefix(d.Linux, "refuses: "); refuses {
		if err == nil {
			syscall.Close(fd)
			t.Fatalf("Linux accepts the program; the file says it refuses it with %q", want)
		}
		if !strings.Contains(log, want) {
			t.Fatalf("Linux refuses with %v and log:\n%s\nwant %q", err, log, want)
		}
		return
	}
	if d.Linux != "" {
		t.Fatalf("unknown linux section %q", d.Linux)
	}
	if err != nil {
		t.Fatalf("Linux refuses the program (%v):\n%s", err, log)
	}
	defer syscall.Close(fd)
	if !d.HasResult {
		t.Fatalf("the file expects the error %q but Linux accepts the program: say so in a linux section", d.Error)
	}
	if array >= 0 {
		attr := make([]byte, 32)
		key, value := uint32(0), uint32(fd)
		put32(attr, 0, uint32(array))
		put64(attr, 8, addr(&key))
		put64(attr, 16, addr(&value))
		_, err := bpf(linux.BPF_MAP_UPDATE_ELEM, attr)
		runtime.KeepAlive(&key)
		runtime.KeepAlive(&value)
		if err != nil {
			t.Fatalf("BPF_MAP_UPDATE_ELEM: %v", err)
		}
	}
	if got := linuxRun(t, fd, d.Mem); got != uint32(d.Result) {
		t.Errorf("Linux returns %#x, the file %#x", got, uint32(d.Result))
	}
}

// randomProgram is a program of scalar arithmetic, forward jumps and
// accesses to 64 bytes of stack that the Linux verifier accepts: registers
// and those bytes start random, no immediate divisor is zero, immediate
// shifts are in range, memory accesses are aligned, and the epilogue folds
// every register and stack word into r0's low half.
func randomProgram(rng *rand.Rand, body int) []isa.Instruction {
	var insns []isa.Instruction
	for r := isa.R0; r <= isa.R9; r++ {
		lddw := isa.LoadImm64(r, isa.PseudoNone, rng.Uint64())
		insns = append(insns, lddw[:]...)
		if r >= isa.R1 && r <= isa.R8 {
			insns = append(insns, isa.Instruction{Opcode: isa.MemOpcode(isa.ClassSTX, isa.ModeMem, isa.SizeDW),
				Dst: isa.R10, Src: r, Offset: -8 * int16(r)})
		}
	}
	var ops []isa.Op
	for op := isa.OpAdd32Imm; op < isa.NumOps; op++ {
		switch {
		case op >= isa.OpLoadImm64 && op <= isa.OpLoadIndW,
			op == isa.OpAddrSpaceCast, op == isa.OpCall, op == isa.OpCallLocal, op == isa.OpCallKfunc,
			op == isa.OpCallX, op == isa.OpExit, op == isa.OpMayGoto:
			continue
		}
		ops = append(ops, op)
	}
	start := len(insns)
	for len(insns)-start < body {
		op := ops[rng.IntN(len(ops))]
		info := op.Info()
		fields := info.Form.Fields()
		ins := isa.Instruction{Opcode: info.Opcode}
		if fields.Has(isa.FieldDst) {
			ins.Dst = isa.Register(rng.IntN(10))
		}
		if fields.Has(isa.FieldSrc) {
			ins.Src = isa.Register(rng.IntN(10))
		}
		if fields.Has(isa.FieldImm) {
			ins.Imm = int32(rng.Uint32())
			if rng.IntN(3) == 0 {
				ins.Imm = int32(rng.IntN(64)) - 32
			}
		}
		switch info.Select.Field {
		case isa.FieldOffset:
			ins.Offset = int16(info.Select.Value)
		case isa.FieldImm:
			ins.Imm = info.Select.Value
		}
		alu := info.Opcode.Class().IsALU() && info.Form == isa.FormALUImm
		switch {
		case alu && (info.Opcode.ALUOp() == isa.ALUDiv || info.Opcode.ALUOp() == isa.ALUMod) && ins.Imm == 0:
			ins.Imm = 7
		case alu && (info.Opcode.ALUOp() == isa.ALULsh || info.Opcode.ALUOp() == isa.ALURsh || info.Opcode.ALUOp() == isa.ALUArsh):
			width := int32(64)
			if info.Flags&isa.Is32 != 0 {
				width = 32
			}
			ins.Imm = int32(uint32(ins.Imm) % uint32(width))
		case info.Flags&isa.Memory != 0:
			// An aligned access to the 64 bytes below r10.
			size := info.Width()
			ins.Offset = -int16(size * (1 + rng.IntN(64/size)))
			if info.Form == isa.FormLoad {
				ins.Src = isa.R10
			} else {
				ins.Dst = isa.R10
			}
		case info.Flags&isa.Branches != 0:
			// Forward only (no loops); unconditional jumps skip nothing
			// (Linux refuses unreachable instructions).
			left := body - (len(insns) - start) - 1
			ins.Offset = int16(rng.IntN(left + 1))
			switch op {
			case isa.OpJA:
				ins.Offset = 0
			case isa.OpJA32:
				ins.Imm, ins.Offset = 0, 0
			}
		}
		insns = append(insns, ins)
	}
	fold := func(r isa.Register) {
		insns = append(insns,
			isa.Instruction{Opcode: isa.ALUOpcode(isa.ClassALU64, isa.ALUMul, isa.SourceImm), Imm: 31},
			isa.Instruction{Opcode: isa.ALUOpcode(isa.ClassALU64, isa.ALUXor, isa.SourceReg), Src: r})
	}
	for r := isa.R1; r <= isa.R9; r++ {
		fold(r)
	}
	for k := int16(1); k <= 8; k++ {
		insns = append(insns, isa.Instruction{Opcode: isa.MemOpcode(isa.ClassLDX, isa.ModeMem, isa.SizeDW),
			Dst: isa.R1, Src: isa.R10, Offset: -8 * k})
		fold(isa.R1)
	}
	return append(insns,
		isa.Instruction{Opcode: isa.ALUOpcode(isa.ClassALU64, isa.ALUMov, isa.SourceReg), Dst: isa.R1},
		isa.Instruction{Opcode: isa.ALUOpcode(isa.ClassALU64, isa.ALURsh, isa.SourceImm), Dst: isa.R1, Imm: 32},
		isa.Instruction{Opcode: isa.ALUOpcode(isa.ClassALU64, isa.ALUXor, isa.SourceReg), Src: isa.R1},
		isa.Instruction{Opcode: isa.JumpOpcode(isa.ClassJMP, isa.JumpExit, isa.SourceImm)})
}

// TestRandomProgramsLinux runs random programs of arithmetic, jumps, stack
// loads, stores and atomics in the VM (both modes, on a cleared stack) and
// on the host kernel, and compares the results.
func TestRandomProgramsLinux(t *testing.T) {
	probe := []isa.Instruction{{Opcode: 0xb7}, {Opcode: 0x95}}
	if fd, _, err := linuxLoad(probe); err != nil {
		t.Skipf("the host kernel does not load BPF programs for this process (%v): nothing to compare with", err)
	} else {
		syscall.Close(fd)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	env := vm.NewEnv()
	for n := 0; n < 400; n++ {
		insns := randomProgram(rng, 60)
		img, err := vm.Load(insns, vm.Options{})
		if err != nil {
			t.Fatalf("program %d: %v", n, err)
		}
		vm.ClearStack(env)
		checked, err := vm.NewChecked(img).Run(env, vm.Region{})
		if err != nil {
			t.Fatalf("program %d: %v", n, err)
		}
		vm.ClearStack(env)
		fast, _ := vm.NewVerified(img).Run(env, vm.Region{})
		fd, log, err := linuxLoad(insns)
		if err != nil {
			text, _ := asm.Disassemble(insns, asm.Conformance)
			t.Fatalf("program %d: Linux refuses it (%v): %s\n%s", n, err, log, text)
		}
		linux := linuxRun(t, fd, nil)
		syscall.Close(fd)
		if uint32(checked) != linux || fast != checked {
			text, _ := asm.Disassemble(insns, asm.Conformance)
			t.Fatalf("program %d: checked %#x, fast %#x, Linux %#x\n%s", n, checked, fast, linux, text)
		}
	}
}
