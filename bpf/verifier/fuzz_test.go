package verifier_test

import (
	"encoding/binary"
	"errors"
	"testing"
	"unsafe"

	"hachi/bpf/helpers"
	"hachi/bpf/isa"
	"hachi/bpf/log"
	"hachi/bpf/maps"
	"hachi/bpf/verifier"
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// Two fuzz targets:
//
//   - FuzzVerify: any bytes, as instructions of any supported program
//     type: the verifier must answer (accept or a refusal), never panic.
//   - FuzzDifferential: the input drives a generator of plausible programs
//     (pointer arithmetic, map lookups, null checks, helper calls, ring
//     buffer records, loops, subprograms, callbacks); whatever the verifier
//     accepts runs in the interpreter's checked mode on contexts filled
//     from the input, with the real helpers and maps. A checked-mode fault
//     on an accepted program is a soundness bug of the verifier.
//
// go test -run '^$' -fuzz FuzzDifferential -fuzztime 5m ./bpf/verifier

// fuzzProcessLimit keeps each verification short while fuzzing.
const fuzzProcessLimit = 20000

var fuzzTypes = []linux.BPFProgType{verifier.ProgTypeMemory, linux.BPF_PROG_TYPE_XDP,
	linux.BPF_PROG_TYPE_KPROBE, linux.BPF_PROG_TYPE_SOCKET_FILTER, linux.BPF_PROG_TYPE_TRACEPOINT,
	linux.BPF_PROG_TYPE_RAW_TRACEPOINT, linux.BPF_PROG_TYPE_PERF_EVENT}

func FuzzVerify(f *testing.F) {
	defer verifier.SetProcessLimit(fuzzProcessLimit)()
	f.Add([]byte{0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0}, uint8(0))
	f.Add([]byte{0x61, 0x10, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0}, uint8(2))
	set := helpers.New(kernel(), testCPUs)
	fm := newFuzzMaps(f)
	f.Fuzz(func(t *testing.T, code []byte, kind uint8) {
		insns, err := isa.Decode(code[:len(code)/8*8])
		if err != nil || len(insns) == 0 {
			return
		}
		typ := fuzzTypes[int(kind)%len(fuzzTypes)]
		impl, protos := set.ForProgType(typ, helpers.Caps{BPF: true, Perfmon: true})
		buf := make(log.Buffer, 4096)
		lg, _ := log.New(log.Level2, 1, uint32(len(buf)), buf)
		_, err = verifier.Verify(insns, verifier.Options{ProgType: typ, CtxSize: uint32(kind), GPL: true,
			Maps: fm.list, Helpers: impl, Protos: protos, Log: lg})
		var verr *verifier.Error
		if err != nil && !errors.As(err, &verr) {
			t.Fatalf("not a verifier error: %v", err)
		}
	})
}

// fuzzMaps are the maps generated programs use, by fd.
type fuzzMaps struct {
	list    verifier.MapList
	regions []vm.Region
}

// The maps of the generator, by fd.
const (
	fdArray   = iota // array 4:16:1, direct value access
	fdHash           // hash 4:8:8
	fdRingbuf        // ring buffer of a page
	fdPercpu         // per-CPU array 4:32:2
	fdArray4         // array 4:64:4
	fdMaps
)

func newFuzzMaps(t testing.TB) *fuzzMaps {
	specs := []maps.Spec{
		{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 16, MaxEntries: 1},
		{Type: linux.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 8},
		{Type: linux.BPF_MAP_TYPE_RINGBUF, MaxEntries: 4096},
		{Type: linux.BPF_MAP_TYPE_PERCPU_ARRAY, KeySize: 4, ValueSize: 32, MaxEntries: 2},
		{Type: linux.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 64, MaxEntries: 4},
	}
	fm := &fuzzMaps{}
	for _, s := range specs {
		m, err := maps.New(s, maps.FixedHost{CPUs: testCPUs})
		if err != nil {
			t.Fatal(err)
		}
		v := &verifier.Map{Type: s.Type, KeySize: s.KeySize, ValueSize: s.ValueSize, MaxEntries: s.MaxEntries,
			Handle: vm.NewMapHandle(m)}
		if dv, ok := m.(maps.DirectValuer); ok {
			if ptr, size, err := dv.DirectValue(); err == nil {
				v.Value = vm.Region{Base: ptr, Size: uintptr(size), Writable: true}
				fm.regions = append(fm.regions, v.Value)
			}
		}
		fm.list = append(fm.list, v)
	}
	return fm
}

// gen turns fuzz input into a program. Each choice reads the next byte
// (zero once the input is used up).
type gen struct {
	typ   linux.BPFProgType
	in    []byte
	insns []isa.Instruction
	// fixups are forward jumps to patch once the end is known: the index
	// of the jump and how many instructions to skip.
	fixups []fixup
	subs   []int // indexes of calls and lddw func to patch to the subprogram
	loops  []int // indexes of lddw func to patch to the loop callback
}

type fixup struct {
	at, skip int
}

func (g *gen) byte() byte {
	if len(g.in) == 0 {
		return 0
	}
	b := g.in[0]
	g.in = g.in[1:]
	return b
}

func (g *gen) reg() isa.Register { return isa.Register(g.byte() % 10) }

// base picks the base register of a store: mostly the stack.
func (g *gen) base() isa.Register {
	b := g.byte()
	switch b % 4 {
	case 0, 1:
		return isa.R10
	case 2:
		return isa.R7
	}
	return isa.Register(b / 4 % 10)
}

// src prefers the registers that usually hold pointers.
func (g *gen) src() isa.Register {
	b := g.byte()
	switch b % 4 {
	case 0:
		return isa.R10
	case 1:
		return isa.R1
	}
	return isa.Register(b / 4 % 10)
}

var fuzzImms = []int32{0, 1, -1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 255, 256, 4095, 0x7fffffff, -0x80000000, -8, -16, 0xffff}

func (g *gen) imm() int32 {
	b := g.byte()
	if int(b) < len(fuzzImms)*8 {
		return fuzzImms[int(b)%len(fuzzImms)]
	}
	return int32(int8(g.byte())) * int32(g.byte()%16+1)
}

var fuzzOffs = []int16{0, 0, 4, 8, -8, -4, -16, 2, 12, 16, 24, 32, -32, -64, 1, -512, 48, 56, 60, -1}

func (g *gen) off() int16 { return fuzzOffs[int(g.byte())%len(fuzzOffs)] }

var fuzzSizes = []isa.Size{isa.SizeB, isa.SizeH, isa.SizeW, isa.SizeDW}

var fuzzALU = []isa.ALUOp{isa.ALUAdd, isa.ALUSub, isa.ALUMul, isa.ALUDiv, isa.ALUOr, isa.ALUAnd, isa.ALULsh,
	isa.ALURsh, isa.ALUMod, isa.ALUXor, isa.ALUArsh, isa.ALUAdd, isa.ALUAnd}

var fuzzJumps = []isa.JumpOp{isa.JumpEq, isa.JumpGT, isa.JumpGE, isa.JumpSet, isa.JumpNE, isa.JumpSGT,
	isa.JumpSGE, isa.JumpLT, isa.JumpLE, isa.JumpSLT, isa.JumpSLE}

func (g *gen) emit(ins ...isa.Instruction) { g.insns = append(g.insns, ins...) }

func (g *gen) lddw(dst isa.Register, src isa.PseudoSource, imm uint64) {
	two := isa.LoadImm64(dst, src, imm)
	g.emit(two[0], two[1])
}

func (g *gen) call(id int32) {
	g.emit(isa.Instruction{Opcode: isa.JumpOpcode(isa.ClassJMP, isa.JumpCall, isa.SourceImm), Imm: id})
}

func mov(dst isa.Register, imm int32) isa.Instruction {
	return isa.Instruction{Opcode: isa.ALUOpcode(isa.ClassALU64, isa.ALUMov, isa.SourceImm), Dst: dst, Imm: imm}
}

func movReg(dst, src isa.Register) isa.Instruction {
	return isa.Instruction{Opcode: isa.ALUOpcode(isa.ClassALU64, isa.ALUMov, isa.SourceReg), Dst: dst, Src: src}
}

func addImm(dst isa.Register, imm int32) isa.Instruction {
	return isa.Instruction{Opcode: isa.ALUOpcode(isa.ClassALU64, isa.ALUAdd, isa.SourceImm), Dst: dst, Imm: imm}
}

// jump emits a conditional jump over the next skip instructions.
func (g *gen) jump(op isa.JumpOp, class isa.Class, dst isa.Register, src isa.Register, reg bool, imm int32, skip int) {
	ins := isa.Instruction{Opcode: isa.JumpOpcode(class, op, isa.SourceImm), Dst: dst, Imm: imm}
	if reg {
		ins = isa.Instruction{Opcode: isa.JumpOpcode(class, op, isa.SourceReg), Dst: dst, Src: src}
	}
	g.fixups = append(g.fixups, fixup{len(g.insns), skip})
	g.emit(ins)
}

// ctxField picks a context field of the program type.
func (g *gen) ctxField() (isa.Size, int16) {
	b := int16(g.byte())
	switch g.typ {
	case linux.BPF_PROG_TYPE_XDP:
		return isa.SizeW, b % 5 * 4
	case linux.BPF_PROG_TYPE_SOCKET_FILTER:
		return isa.SizeW, []int16{0, 4, 8, 16, 48, 52, 68, 176}[b%8]
	case linux.BPF_PROG_TYPE_TRACEPOINT:
		return isa.SizeDW, 8 + b%8*8
	case verifier.ProgTypeMemory:
		return fuzzSizes[b%4], b % 16
	}
	return isa.SizeDW, b % 12 * 8
}

// step emits one instruction or idiom.
func (g *gen) step() {
	b := g.byte()
	switch b % 26 {
	case 0:
		g.emit(mov(g.reg(), g.imm()))
	case 1:
		g.emit(movReg(g.reg(), g.src()))
	case 2, 3:
		op := fuzzALU[int(g.byte())%len(fuzzALU)]
		imm := g.imm()
		if op == isa.ALULsh || op == isa.ALURsh || op == isa.ALUArsh {
			imm &= 63
		}
		if (op == isa.ALUDiv || op == isa.ALUMod) && imm == 0 {
			imm = 3
		}
		g.emit(isa.Instruction{Opcode: isa.ALUOpcode(isa.ClassALU64, op, isa.SourceImm), Dst: g.reg(), Imm: imm})
	case 4:
		op := fuzzALU[int(g.byte())%len(fuzzALU)]
		g.emit(isa.Instruction{Opcode: isa.ALUOpcode(isa.ClassALU64, op, isa.SourceReg), Dst: g.reg(), Src: g.src()})
	case 5:
		op := fuzzALU[int(g.byte())%len(fuzzALU)]
		imm := g.imm()
		if op == isa.ALULsh || op == isa.ALURsh || op == isa.ALUArsh {
			imm &= 31
		}
		if (op == isa.ALUDiv || op == isa.ALUMod) && imm == 0 {
			imm = 5
		}
		class := isa.ClassALU
		g.emit(isa.Instruction{Opcode: isa.ALUOpcode(class, op, isa.SourceImm), Dst: g.reg(), Imm: imm})
	case 6:
		size := fuzzSizes[int(g.byte())%4]
		g.emit(isa.Instruction{Opcode: isa.MemOpcode(isa.ClassLDX, isa.ModeMem, size), Dst: g.reg(), Src: g.src(), Offset: g.off()})
	case 7:
		// A load from the context, at an offset its type allows.
		size, off := g.ctxField()
		src := isa.R1
		if g.byte()%2 == 0 {
			src = isa.R6
		}
		g.emit(isa.Instruction{Opcode: isa.MemOpcode(isa.ClassLDX, isa.ModeMem, size), Dst: g.reg(), Src: src, Offset: off})
	case 8:
		size := fuzzSizes[int(g.byte())%4]
		g.emit(isa.Instruction{Opcode: isa.MemOpcode(isa.ClassST, isa.ModeMem, size), Dst: g.base(), Offset: g.off(), Imm: g.imm()})
	case 9:
		size := fuzzSizes[int(g.byte())%4]
		g.emit(isa.Instruction{Opcode: isa.MemOpcode(isa.ClassSTX, isa.ModeMem, size), Dst: g.base(), Src: g.reg(), Offset: g.off()})
	case 10, 11:
		op := fuzzJumps[int(g.byte())%len(fuzzJumps)]
		class := isa.ClassJMP
		if g.byte()%4 == 0 {
			class = isa.ClassJMP32
		}
		reg := g.byte()%3 == 0
		g.jump(op, class, g.reg(), g.reg(), reg, g.imm(), int(g.byte()%6))
	case 12:
		// A map lookup with a key on the stack, usually null-checked.
		fd := int32(g.byte() % fdMaps)
		if fd == fdRingbuf {
			fd = fdHash
		}
		g.emit(isa.Instruction{Opcode: isa.MemOpcode(isa.ClassST, isa.ModeMem, isa.SizeW), Dst: isa.R10, Offset: -4, Imm: int32(g.byte() % 4)})
		g.emit(movReg(isa.R2, isa.R10), addImm(isa.R2, -4))
		g.lddw(isa.R1, isa.PseudoMapFD, uint64(fd))
		g.call(1)
		if g.byte()%4 != 0 {
			g.jump(isa.JumpEq, isa.ClassJMP, isa.R0, 0, false, 0, int(g.byte()%5))
		}
		g.emit(movReg(isa.Register(6+g.byte()%4), isa.R0))
	case 13:
		// A ring buffer record, written and released.
		size := int32(8 + g.byte()%4*8)
		g.lddw(isa.R1, isa.PseudoMapFD, fdRingbuf)
		g.emit(mov(isa.R2, size), mov(isa.R3, 0))
		g.call(131)
		g.jump(isa.JumpEq, isa.ClassJMP, isa.R0, 0, false, 0, 5)
		g.emit(isa.Instruction{Opcode: isa.MemOpcode(isa.ClassST, isa.ModeMem, isa.SizeDW), Dst: isa.R0, Offset: int16(g.byte()%4) * 8, Imm: 1})
		g.emit(movReg(isa.R1, isa.R0), mov(isa.R2, 0))
		g.call(132 + int32(g.byte()%2))
		g.emit(mov(isa.R0, 0))
	case 14:
		g.call([]int32{5, 7, 8, 14}[g.byte()%4])
	case 15:
		// Atomic add or fetch-add.
		size := isa.SizeDW
		if g.byte()%2 == 0 {
			size = isa.SizeW
		}
		imm := int32(isa.AtomicAdd)
		if g.byte()%2 == 0 {
			imm |= int32(isa.AtomicFetch)
		}
		g.emit(isa.Instruction{Opcode: isa.MemOpcode(isa.ClassSTX, isa.ModeAtomic, size), Dst: g.base(), Src: g.reg(), Offset: g.off(), Imm: imm})
	case 16:
		// A bounded index into a map value or the stack.
		r := isa.Register(6 + g.byte()%4)
		g.emit(isa.Instruction{Opcode: isa.ALUOpcode(isa.ClassALU64, isa.ALUAnd, isa.SourceImm), Dst: g.reg(), Imm: int32(g.byte() % 64)})
		g.emit(isa.Instruction{Opcode: isa.ALUOpcode(isa.ClassALU64, isa.ALUAdd, isa.SourceReg), Dst: r, Src: g.reg()})
	case 17:
		g.lddw(g.reg(), isa.PseudoMapValue, uint64(g.byte()%16)<<32|fdArray)
	case 18:
		// A backward jump: a loop, when a counter bounds it.
		if n := len(g.insns); n > 0 {
			back := int(g.byte()%8) + 1
			if back > n {
				back = n
			}
			op := fuzzJumps[int(g.byte())%len(fuzzJumps)]
			if g.insns[n-back].Opcode == 0 {
				back++ // not into the second half of an lddw
			}
			g.emit(isa.Instruction{Opcode: isa.JumpOpcode(isa.ClassJMP, op, isa.SourceImm), Dst: g.reg(), Imm: g.imm(), Offset: int16(-back - 1)})
		}
	case 19:
		// Call the subprogram with r1 = a stack pointer or a register.
		if g.byte()%2 == 0 {
			g.emit(movReg(isa.R1, isa.R10), addImm(isa.R1, -16))
		}
		g.subs = append(g.subs, len(g.insns))
		g.emit(isa.Instruction{Opcode: isa.JumpOpcode(isa.ClassJMP, isa.JumpCall, isa.SourceImm), Src: isa.Register(isa.CallLocal)})
	case 20:
		// bpf_loop over a callback with a stack context.
		g.emit(mov(isa.R1, int32(g.byte()%20)))
		g.loops = append(g.loops, len(g.insns))
		g.lddw(isa.R2, isa.PseudoFunc, 0)
		g.emit(movReg(isa.R3, isa.R10), addImm(isa.R3, -24), mov(isa.R4, 0))
		g.call(181)
	case 21:
		dst := g.reg()
		switch g.byte() % 4 {
		case 0:
			g.emit(isa.Instruction{Opcode: isa.ALUOpcode(isa.ClassALU64, isa.ALUNeg, isa.SourceImm), Dst: dst})
		case 1:
			g.emit(isa.Instruction{Opcode: isa.ALUOpcode(isa.ClassALU, isa.ALUEnd, isa.SourceReg), Dst: dst, Imm: 16 << (g.byte() % 3)})
		case 2:
			g.emit(isa.Instruction{Opcode: isa.ALUOpcode(isa.ClassALU64, isa.ALUMov, isa.SourceReg), Dst: dst, Src: g.reg(), Offset: int16(8 << (g.byte() % 3))})
		default:
			g.emit(isa.Instruction{Opcode: isa.MemOpcode(isa.ClassLDX, isa.ModeMemSX, fuzzSizes[g.byte()%3]), Dst: dst, Src: g.src(), Offset: g.off()})
		}
	case 22:
		// Packet bounds check (XDP): r2 = data, r3 = data_end, r4 = r2 + n.
		g.emit(isa.Instruction{Opcode: isa.MemOpcode(isa.ClassLDX, isa.ModeMem, isa.SizeW), Dst: isa.R2, Src: isa.R1, Offset: 0})
		g.emit(isa.Instruction{Opcode: isa.MemOpcode(isa.ClassLDX, isa.ModeMem, isa.SizeW), Dst: isa.R3, Src: isa.R1, Offset: 4})
		g.emit(movReg(isa.R4, isa.R2), addImm(isa.R4, int32(g.byte()%40)))
		g.jump(isa.JumpGT, isa.ClassJMP, isa.R4, isa.R3, true, 0, int(g.byte()%4))
		g.emit(movReg(isa.Register(6+g.byte()%4), isa.R2))
	case 23:
		// A tied copy moved by a constant, compared, then the original
		// used (Linux's linked registers).
		a, c := g.reg(), g.reg()
		g.emit(movReg(c, a), addImm(c, g.imm()))
		op := fuzzJumps[int(g.byte())%len(fuzzJumps)]
		g.jump(op, isa.ClassJMP, c, 0, false, g.imm(), int(g.byte()%4))
		g.emit(isa.Instruction{Opcode: isa.ALUOpcode(isa.ClassALU64, isa.ALUAdd, isa.SourceReg), Dst: isa.Register(6 + g.byte()%4), Src: a})
	case 24:
		// A packet pointer moved by a bounded variable and checked again.
		g.emit(isa.Instruction{Opcode: isa.MemOpcode(isa.ClassLDX, isa.ModeMem, isa.SizeW), Dst: isa.R2, Src: isa.R1, Offset: 0})
		g.emit(isa.Instruction{Opcode: isa.MemOpcode(isa.ClassLDX, isa.ModeMem, isa.SizeW), Dst: isa.R3, Src: isa.R1, Offset: 4})
		g.emit(isa.Instruction{Opcode: isa.ALUOpcode(isa.ClassALU64, isa.ALUAnd, isa.SourceImm), Dst: isa.R5, Imm: int32(g.byte() % 64)})
		g.emit(isa.Instruction{Opcode: isa.ALUOpcode(isa.ClassALU64, isa.ALUAdd, isa.SourceReg), Dst: isa.R2, Src: isa.R5})
		g.emit(movReg(isa.R4, isa.R2), addImm(isa.R4, int32(g.byte()%16)))
		g.jump(isa.JumpGT, isa.ClassJMP, isa.R4, isa.R3, true, 0, int(g.byte()%4))
		g.emit(movReg(isa.Register(6+g.byte()%4), isa.R2))
	default:
		g.emit(isa.Instruction{Opcode: isa.MemOpcode(isa.ClassST, isa.ModeMem, isa.SizeDW), Dst: isa.R10, Offset: -8 * int16(g.byte()%8+1), Imm: g.imm()})
	}
}

// program generates a whole program: the body, an exit, a subprogram and
// a callback, with every jump patched to land inside its function.
func (g *gen) program() []isa.Instruction {
	if g.byte()%8 != 0 {
		// Most programs start with every register holding something:
		// r6 the context, r7 the stack, r8 and r9 numbers, and a few
		// initialised stack slots.
		g.emit(mov(isa.R0, 0), mov(isa.R2, g.imm()), mov(isa.R3, g.imm()), mov(isa.R4, g.imm()), mov(isa.R5, 0))
		g.emit(movReg(isa.R6, isa.R1), movReg(isa.R7, isa.R10), addImm(isa.R7, -32), mov(isa.R8, g.imm()))
		size, off := g.ctxField()
		g.emit(isa.Instruction{Opcode: isa.MemOpcode(isa.ClassLDX, isa.ModeMem, size), Dst: isa.R9, Src: isa.R1, Offset: off})
		for off := int16(-8); off >= -32; off -= 8 {
			g.emit(isa.Instruction{Opcode: isa.MemOpcode(isa.ClassST, isa.ModeMem, isa.SizeDW), Dst: isa.R10, Offset: off, Imm: g.imm()})
		}
	}
	n := int(g.byte()%48) + 1
	for i := 0; i < n && len(g.in) > 0; i++ {
		g.step()
	}
	g.emit(mov(isa.R0, 0), isa.Instruction{Opcode: isa.JumpOpcode(isa.ClassJMP, isa.JumpExit, isa.SourceImm)})
	end := len(g.insns)
	// The subprogram, if called: a few loads through r1, then r0.
	sub := len(g.insns)
	if len(g.subs) > 0 {
		g.emit(movReg(isa.R0, isa.R1))
		for i := 0; i < int(g.byte()%4); i++ {
			size := fuzzSizes[int(g.byte())%4]
			g.emit(isa.Instruction{Opcode: isa.MemOpcode(isa.ClassLDX, isa.ModeMem, size), Dst: isa.R2, Src: isa.R1, Offset: g.off()})
		}
		g.emit(mov(isa.R0, int32(g.byte()%3)), isa.Instruction{Opcode: isa.JumpOpcode(isa.ClassJMP, isa.JumpExit, isa.SourceImm)})
	}
	// The callback, if used: reads or writes its context, returns 0 or 1.
	cb := len(g.insns)
	if len(g.loops) > 0 {
		switch g.byte() % 3 {
		case 0:
			g.emit(isa.Instruction{Opcode: isa.MemOpcode(isa.ClassLDX, isa.ModeMem, isa.SizeDW), Dst: isa.R3, Src: isa.R2, Offset: 0})
			g.emit(isa.Instruction{Opcode: isa.ALUOpcode(isa.ClassALU64, isa.ALUAdd, isa.SourceReg), Dst: isa.R3, Src: isa.R1})
			g.emit(isa.Instruction{Opcode: isa.MemOpcode(isa.ClassSTX, isa.ModeMem, isa.SizeDW), Dst: isa.R2, Src: isa.R3, Offset: 0})
		case 1:
			g.emit(isa.Instruction{Opcode: isa.MemOpcode(isa.ClassSTX, isa.ModeMem, isa.SizeDW), Dst: isa.R2, Src: isa.R1, Offset: int16(g.byte()%3) * 8})
		}
		g.emit(mov(isa.R0, int32(g.byte()%2)), isa.Instruction{Opcode: isa.JumpOpcode(isa.ClassJMP, isa.JumpExit, isa.SourceImm)})
	}
	for _, f := range g.fixups {
		target := min(f.at+1+f.skip, end-1)
		if g.insns[target].Opcode == 0 {
			target++ // not into the second half of an lddw
		}
		g.insns[f.at].Offset = int16(target - f.at - 1)
	}
	for _, at := range g.subs {
		g.insns[at].Imm = int32(sub - at - 1)
	}
	for _, at := range g.loops {
		g.insns[at].Imm = int32(cb - at - 1)
	}
	return g.insns
}

// fuzzContext makes the context of a program type from input bytes.
func fuzzContext(typ linux.BPFProgType, data []byte) *context {
	take := func(n int) []byte {
		b := make([]byte, n)
		copy(b, data)
		return b
	}
	c := &context{}
	switch typ {
	case verifier.ProgTypeMemory:
		c.ctx = vm.Bytes(take(len(data)%65), true)
	case linux.BPF_PROG_TYPE_XDP:
		pkt := take(len(data) % 80)
		if len(pkt) == 0 {
			pkt = []byte{0}[:0:1] // an empty packet still has an address
		}
		base := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(pkt))))
		xb := &verifier.XDPBuff{Data: base, DataEnd: base + uint64(len(pkt)), DataMeta: base}
		c.ctx = vm.Bytes(unsafe.Slice((*byte)(unsafe.Pointer(xb)), unsafe.Sizeof(*xb)), false)
		c.declare = append(c.declare, vm.Bytes(pkt, true))
		c.keep = append(c.keep, pkt)
	case linux.BPF_PROG_TYPE_SOCKET_FILTER:
		skb := take(192)
		binary.LittleEndian.PutUint32(skb, uint32(len(data)))
		c.ctx = vm.Bytes(skb, true)
		c.packet = vm.Bytes(append([]byte(nil), data...), false)
	case linux.BPF_PROG_TYPE_KPROBE:
		c.ctx = vm.Bytes(take(int(linux.PtRegsLayoutAMD64.Size)), false)
	case linux.BPF_PROG_TYPE_RAW_TRACEPOINT:
		c.ctx = vm.Bytes(take(96), false)
	case linux.BPF_PROG_TYPE_PERF_EVENT:
		c.ctx = vm.Bytes(take(int(linux.PtRegsLayoutAMD64.Size)+16), false)
	default:
		c.ctx = vm.Bytes(take(8192), false)
	}
	return c
}

func FuzzDifferential(f *testing.F) {
	defer verifier.SetProcessLimit(fuzzProcessLimit)()
	for _, seed := range [][]byte{
		{0, 12, 1, 0, 1, 2, 16, 3, 7, 1, 9, 6, 2, 4, 8, 8},
		{1, 22, 30, 1, 6, 3, 6, 0, 6, 7, 9, 10, 3, 4},
		{2, 13, 2, 0, 1, 12, 0, 0, 1, 6, 2, 7, 2, 0},
		{3, 20, 10, 0, 1, 2, 3, 19, 1, 0, 6, 1, 8},
		{4, 17, 5, 2, 6, 1, 2, 3, 18, 2, 1, 5, 3},
	} {
		f.Add(seed, []byte("context bytes for the run, some of them"))
	}
	set := helpers.New(kernel(), testCPUs)
	fm := newFuzzMaps(f)
	f.Fuzz(func(t *testing.T, program, ctxData []byte) {
		if len(program) == 0 {
			return
		}
		typ := fuzzTypes[int(program[0])%len(fuzzTypes)]
		g := &gen{typ: typ, in: program[1:]}
		insns := g.program()
		c := fuzzContext(typ, ctxData)
		impl, protos := set.ForProgType(typ, helpers.Caps{BPF: true, Perfmon: true})
		p, err := verifier.Verify(insns, verifier.Options{ProgType: typ, CtxSize: uint32(c.ctx.Size), GPL: true,
			Maps: fm.list, Helpers: impl, Protos: protos})
		if err != nil {
			var verr *verifier.Error
			if !errors.As(err, &verr) {
				t.Fatalf("not a verifier error: %v", err)
			}
			return
		}
		env := vm.NewEnv()
		env.StepLimit = 1 << 22
		for _, r := range fm.regions {
			env.Declare(r)
		}
		for _, r := range c.declare {
			env.Declare(r)
		}
		env.Packet = c.packet
		_, err = vm.NewChecked(p.Image()).Run(env, c.ctx)
		if err != nil && !errors.Is(err, vm.ErrStepLimit) {
			t.Fatalf("verified program (%v) faults in the checked interpreter: %v\n%s", typ, err, disasm(insns))
		}
	})
}

func disasm(insns []isa.Instruction) string {
	var b []byte
	for i, ins := range insns {
		b = append(b, []byte(ins.String())...)
		b = append(b, '\n')
		_ = i
	}
	return string(b)
}
