package asm_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"hachi/bpf/asm"
	"hachi/bpf/isa"
)

func encode(t *testing.T, src string) string {
	t.Helper()
	insns, err := asm.Assemble(src)
	if err != nil {
		t.Fatalf("%q: %v", src, err)
	}
	return hex.EncodeToString(isa.Encode(insns))
}

// TestSyntax checks one line of each shape against its bytes, and that the
// disassembler writes it back the same way (in both syntaxes).
func TestSyntax(t *testing.T) {
	for _, tt := range []struct {
		src, hex, llvm string
	}{
		{"mov32 %r0, 1", "b400000001000000", "w0 = 1"},
		{"mov %r1, -1", "b7010000ffffffff", "r1 = -1"},
		{"add %r0, %r1", "0f10000000000000", "r0 += r1"},
		{"sdiv32 %r0, -4", "34000100fcffffff", "w0 s/= -4"},
		{"smod %r1, %r2", "9f21010000000000", "r1 s%= r2"},
		{"arsh32 %r3, 5", "c403000005000000", "w3 s>>= 5"},
		{"neg %r2", "8702000000000000", "r2 = -r2"},
		{"neg32 %r2", "8402000000000000", "w2 = -w2"},
		{"movsx832 %r1, %r2", "bc21080000000000", "w1 = (s8)w2"},
		{"movsx3264 %r1, %r2", "bf21200000000000", "r1 = (s32)r2"},
		{"be16 %r3", "dc03000010000000", "r3 = be16 r3"},
		{"le64 %r3", "d403000040000000", "r3 = le64 r3"},
		{"bswap32 %r3", "d703000020000000", "r3 = bswap32 r3"},
		{"ja +2", "0500020000000000", "goto +2"},
		{"ja32 -4", "06000000fcffffff", "gotol -4"},
		{"jeq %r1, 0x1a8c0, +1", "15010100c0a80100", "if r1 == 108736 goto +1"},
		{"jsgt32 %r1, %r2, -3", "6e21fdff00000000", "if w1 s> w2 goto -3"},
		{"jset %r1, 8, +0", "4501000008000000", "if r1 & 8 goto +0"},
		{"call 5", "8500000005000000", "call 5"},
		{"call local +3", "8510000003000000", "call pc+3"},
		{"call kfunc 1234, 2", "85200200d2040000", "call kfunc:1234"},
		{"call %r2", "8d02000000000000", "callx r2"},
		{"exit", "9500000000000000", "exit"},
		{"may_goto +5", "e500050000000000", "may_goto +5"},
		{"lddw %r0, 0x1122334455667788", "18000000887766550000000044332211", "r0 = 0x1122334455667788 ll"},
		{"lddw %r1, map_fd 3", "18110000030000000000000000000000", "r1 = map[fd:3] ll"},
		{"lddw %r1, map_value 3, 16", "18210000030000000000000010000000", "r1 = map[fd:3][0]+16 ll"},
		{"lddw %r1, btf_id 123", "183100007b0000000000000000000000", "r1 = btf[id:123,fd:0] ll"},
		{"lddw %r1, func +2", "18410000020000000000000000000000", "r1 = func[pc+2] ll"},
		{"lddw %r1, map_idx 0", "18510000000000000000000000000000", "r1 = map[idx:0] ll"},
		{"lddw %r1, map_idx_value 1, 8", "18610000010000000000000008000000", "r1 = map[idx:1][0]+8 ll"},
		{"ldabsh 12", "280000000c000000", "r0 = *(u16 *)skb[12]"},
		{"ldindb %r1, 14", "501000000e000000", "r0 = *(u8 *)skb[r1 + 14]"},
		{"ldxw %r0, [%r1+4]", "6110040000000000", "r0 = *(u32 *)(r1 + 4)"},
		{"ldxdw %r0, [%r10-8]", "79a0f8ff00000000", "r0 = *(u64 *)(r10 - 8)"},
		{"ldxsh %r0, [%r1]", "8910000000000000", "r0 = *(s16 *)(r1 + 0)"},
		{"stb [%r10-1], 127", "720affff7f000000", "*(u8 *)(r10 - 1) = 127"},
		{"stxh [%r1+2], %r3", "6b31020000000000", "*(u16 *)(r1 + 2) = r3"},
		{"lock add [%r10-8], %r1", "db1af8ff00000000", "lock *(u64 *)(r10 - 8) += r1"},
		{"lock fetch xor32 [%r10-4], %r1", "c31afcffa1000000", "w1 = atomic_fetch_xor((u32 *)(r10 - 4), w1)"},
		{"lock xchg [%r10-8], %r1", "db1af8ffe1000000", "r1 = xchg_64(r10 - 8, r1)"},
		{"lock cmpxchg32 [%r10-8], %r1", "c31af8fff1000000", "w0 = cmpxchg32_32(r10 - 8, w0, w1)"},
		{"ldxacqh %r0, [%r1+2]", "cb10020000010000", "w0 = load_acquire((u16 *)(r1 + 2))"},
		{"stxreldw [%r1], %r2", "db21000010010000", "store_release((u64 *)(r1 + 0), r2)"},
		{"addr_space_cast %r1, %r2, 1, 0", "bf21010000000100", "r1 = addr_space_cast(r2, 1, 0)"},
	} {
		got := encode(t, tt.src)
		if got != tt.hex {
			t.Errorf("%q: % s, want %s", tt.src, got, tt.hex)
			continue
		}
		insns, _ := asm.Assemble(tt.src)
		text, err := asm.Disassemble(insns, asm.Conformance)
		if err != nil || strings.TrimSpace(text) != tt.src {
			t.Errorf("%s: disassembles as %q, %v", tt.hex, text, err)
		}
		if tt.llvm == "" {
			continue
		}
		text, err = asm.Disassemble(insns, asm.LLVM)
		if _, line, _ := strings.Cut(strings.TrimSpace(text), "\t"); err != nil || line != tt.llvm {
			t.Errorf("%s: llvm %q, want %q", tt.hex, line, tt.llvm)
		}
	}
}

// TestAliases checks the spellings the disassembler does not write.
func TestAliases(t *testing.T) {
	for _, tt := range []struct{ alias, canonical string }{
		{"add64 %r0, 1", "add %r0, 1"},
		{"neg64 %r0", "neg %r0"},
		{"swap16 %r0", "bswap16 %r0"},
		{"callx %r2", "call %r2"},
		{"lock fetch add64 [%r1], %r2", "lock fetch add [%r1], %r2"},
		{"stxb [%r1 + 0x10], %r2", "stxb [%r1+16], %r2"},
		{"mov32 %r0, 0xFFFFFFFF", "mov32 %r0, -1"},
		{"mov32 %r0, -0x80000000", "mov32 %r0, 0x80000000"},
		{"lddw %r0, -1", "lddw %r0, 0xffffffffffffffff"},
		{"L: ja L", "ja -1"},
		{"  L1:   mov %r0,1\n\tja L1 # comment", "mov %r0, 1\nja -2"},
		{"jeq %r1, 0, exit\nmov %r0, 1\nexit", "jeq %r1, 0, +1\nmov %r0, 1\nexit"},
		{"call local f\nexit\nf: exit", "call local +1\nexit\nexit"},
		{"lddw %r1, func f\nexit\nf: exit", "lddw %r1, func +2\nexit\nexit"},
	} {
		if a, c := encode(t, tt.alias), encode(t, tt.canonical); a != c {
			t.Errorf("%q = %s, %q = %s", tt.alias, a, tt.canonical, c)
		}
	}
}

func TestAssembleErrors(t *testing.T) {
	for _, tt := range []struct {
		src  string
		err  error
		line int
	}{
		{"", asm.ErrEmpty, 0},
		{"# nothing\n\n", asm.ErrEmpty, 0},
		{"ldxq %r0, %r1", asm.ErrMnemonic, 1},
		{"mov %r0, 1\nor %r0, %r50", asm.ErrRegister, 2},
		{"or %r0, %r11", asm.ErrRegister, 1},
		{"mov32 %r0, 2147483648", asm.ErrRange, 1},
		{"mov32 %r0, -2147483649", asm.ErrRange, 1},
		{"mov32 %r0, 0x100000000", asm.ErrRange, 1},
		{"ldxb %r0, [%r1+0x10000]", asm.ErrRange, 1},
		{"ldxb %r0, [%r1-32769]", asm.ErrRange, 1},
		{"ldxb %r0, %r1", asm.ErrOperands, 1},
		{"lddw %r0", asm.ErrOperands, 1},
		{"lock", asm.ErrOperands, 1},
		{"lock or [%r10-8]", asm.ErrOperands, 1},
		{"exit %r0", asm.ErrOperands, 1},
		{"add %r0, , 1", asm.ErrOperands, 1},
		{"mov %r0, 1x", asm.ErrOperands, 1},
		{"ja NOT_A_LABEL\nexit", asm.ErrLabel, 1},
		{"L:\nL:\nexit", asm.ErrLabel, 2},
		{"ja 3", asm.ErrLabel, 1},
		{"ja +32768", asm.ErrRange, 1},
		{"call local nowhere\nexit", asm.ErrLabel, 1},
		{"lddw %r1, map_fd 3, 4", asm.ErrOperands, 1},
		{"addr_space_cast %r1, %r2, 65536, 0", asm.ErrRange, 1},
	} {
		_, err := asm.Assemble(tt.src)
		if !errors.Is(err, tt.err) {
			t.Errorf("%q: %v, want %v", tt.src, err, tt.err)
			continue
		}
		var ae *asm.Error
		if tt.line > 0 && (!errors.As(err, &ae) || ae.Line != tt.line) {
			t.Errorf("%q: %v, want line %d", tt.src, err, tt.line)
		}
	}
	// A far label does not fit a 16-bit jump.
	far := "ja end\n" + strings.Repeat("mov %r0, 0\n", 40000) + "end: exit"
	if _, err := asm.Assemble(far); !errors.Is(err, asm.ErrRange) {
		t.Errorf("far jump: %v", err)
	}
}

// TestEveryOp formats a sample of every operation and assembles it back.
func TestEveryOp(t *testing.T) {
	for op := isa.OpImm64High + 1; op < isa.NumOps; op++ {
		info := op.Info()
		ins := isa.Instruction{Opcode: info.Opcode}
		fields := info.Form.Fields()
		if fields.Has(isa.FieldDst) {
			ins.Dst = isa.R3
		}
		if fields.Has(isa.FieldSrc) {
			ins.Src = isa.R7
		}
		if fields.Has(isa.FieldOffset) {
			ins.Offset = -6
		}
		if fields.Has(isa.FieldImm) {
			ins.Imm = 0x12345
		}
		switch info.Select.Field {
		case isa.FieldOffset:
			ins.Offset = int16(info.Select.Value)
		case isa.FieldImm:
			ins.Imm = info.Select.Value
		case isa.FieldSrc:
			ins.Src = isa.Register(info.Select.Value)
		}
		if op == isa.OpAddrSpaceCast {
			ins.Imm = 1
		}
		insns := []isa.Instruction{ins}
		if info.Slots() == 2 {
			insns = append(insns, isa.Instruction{Imm: 0x20})
			if op == isa.OpLoadMapFD || op == isa.OpLoadMapIdx || op == isa.OpLoadFunc {
				insns[1].Imm = 0
			}
		}
		if _, err := isa.Validate(insns); err != nil {
			t.Errorf("%v: sample %v invalid: %v", op, ins, err)
			continue
		}
		text, err := asm.Disassemble(insns, asm.Conformance)
		if err != nil {
			t.Errorf("%v: %v", op, err)
			continue
		}
		back, err := asm.Assemble(text)
		if err != nil || !bytes.Equal(isa.Encode(back), isa.Encode(insns)) {
			t.Errorf("%v: %q does not assemble back: %v", op, text, err)
		}
		llvm, _ := asm.Disassemble(insns, asm.LLVM)
		if strings.ContainsAny(llvm, "{}") {
			t.Errorf("%v: llvm template not filled: %q", op, llvm)
		}
	}
}

// FuzzRoundTrip: any bytecode the ISA accepts disassembles, and the text
// assembles back to the same bytes; nothing panics.
func FuzzRoundTrip(f *testing.F) {
	for _, src := range []string{
		"mov32 %r0, 1\nexit",
		"lddw %r1, 0x1122334455667788\nlock fetch add [%r10-8], %r1\nexit",
		"jsle32 %r1, -5, +2\ncall local -1\nldxsw %r0, [%r1+2]",
		"lddw %r1, map_value 3, 8\nldabsw 3\nstxrelw [%r1+4], %r2\ncall kfunc 9, 1",
	} {
		insns, err := asm.Assemble(src)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(isa.Encode(insns))
	}
	f.Fuzz(func(t *testing.T, code []byte) {
		insns, err := isa.Decode(code)
		if err != nil || len(insns) == 0 {
			return
		}
		text, err := asm.Disassemble(insns, asm.Conformance)
		if err != nil {
			return
		}
		back, err := asm.Assemble(text)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if !bytes.Equal(isa.Encode(back), code) {
			t.Fatalf("%q assembles to % x, want % x", text, isa.Encode(back), code)
		}
		if _, err := asm.Disassemble(insns, asm.LLVM); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzAssemble: no text makes the assembler panic, and what it accepts
// disassembles.
func FuzzAssemble(f *testing.F) {
	f.Add("mov32 %r0, 1\nexit")
	f.Add("L: lock cmpxchg [%r10-8], %r1 # c\nja L")
	f.Add("lddw %r1, map_idx_value 1, 8\ncall local f\nf: exit")
	f.Fuzz(func(t *testing.T, src string) {
		insns, err := asm.Assemble(src)
		if err != nil {
			return
		}
		if _, err := isa.Validate(insns); err != nil {
			// The assembler encodes what it is told; validity is the ISA's.
			return
		}
		if _, err := asm.Disassemble(insns, asm.Conformance); err != nil {
			t.Fatal(err)
		}
	})
}
