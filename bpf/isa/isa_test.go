package isa

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTableComplete(t *testing.T) {
	names := map[string]Op{}
	for op := OpImm64High + 1; op < NumOps; op++ {
		info := op.Info()
		if info.Op != op || info.Name == "" || info.Mnemonic == "" || info.LLVM == "" {
			t.Errorf("op %d: incomplete entry %+v", op, *info)
		}
		if prev, dup := names[info.Name]; dup {
			t.Errorf("ops %d and %d share the name %q", prev, op, info.Name)
		}
		names[info.Name] = op
		// Every operation sharing an opcode must be told apart by a selector.
		if others := byOpcode[info.Opcode]; len(others) > 1 && info.Select.Field == FieldNone {
			t.Errorf("%v shares opcode %02x without a selector", op, uint8(info.Opcode))
		}
	}
}

// TestLookupRaw checks the table against raw instruction bytes, taken from
// the conformance suite's bytecode and RFC 9669's appendix.
func TestLookupRaw(t *testing.T) {
	for _, tt := range []struct {
		hex string
		op  Op
	}{
		{"b4 00 00 00 00 00 00 00", OpMov32Imm},
		{"b7 01 00 00 ff ff ff ff", OpMov64Imm},
		{"bf 12 00 00 00 00 00 00", OpMov64Reg},
		{"bc 10 10 00 00 00 00 00", OpMovSX16To32},
		{"bf 56 08 00 00 00 00 00", OpMovSX8To64},
		{"bf 56 20 00 00 00 00 00", OpMovSX32To64},
		{"bf 12 01 00 01 00 00 00", OpAddrSpaceCast},
		{"04 00 00 00 01 00 00 00", OpAdd32Imm},
		{"0c 10 00 00 00 00 00 00", OpAdd32Reg},
		{"0f 21 00 00 00 00 00 00", OpAdd64Reg},
		{"34 00 01 00 fc ff ff ff", OpSDiv32Imm},
		{"3f 10 00 00 00 00 00 00", OpDiv64Reg},
		{"9f 10 01 00 00 00 00 00", OpSMod64Reg},
		{"84 00 00 00 00 00 00 00", OpNeg32},
		{"87 00 00 00 00 00 00 00", OpNeg64},
		{"d4 00 00 00 10 00 00 00", OpLE16},
		{"dc 00 00 00 40 00 00 00", OpBE64},
		{"d7 00 00 00 20 00 00 00", OpBswap32},
		{"05 00 02 00 00 00 00 00", OpJA},
		{"06 00 00 00 fc ff ff ff", OpJA32},
		{"15 01 01 00 c0 a8 01 00", OpJEqImm},
		{"5e 12 03 00 00 00 00 00", OpJNE32Reg},
		{"d6 02 02 00 ff ff ff ff", OpJSLE32Imm},
		{"85 00 00 00 05 00 00 00", OpCall},
		{"85 10 00 00 09 00 00 00", OpCallLocal},
		{"85 20 01 00 d2 04 00 00", OpCallKfunc},
		{"8d 02 00 00 00 00 00 00", OpCallX},
		{"95 00 00 00 00 00 00 00", OpExit},
		{"e5 00 03 00 00 00 00 00", OpMayGoto},
		{"18 00 00 00 88 77 66 55", OpLoadImm64},
		{"18 11 00 00 03 00 00 00", OpLoadMapFD},
		{"18 21 00 00 03 00 00 00", OpLoadMapValue},
		{"18 31 00 00 7b 00 00 00", OpLoadBTFID},
		{"18 41 00 00 04 00 00 00", OpLoadFunc},
		{"18 51 00 00 00 00 00 00", OpLoadMapIdx},
		{"18 61 00 00 00 00 00 00", OpLoadMapIdxValue},
		{"30 00 00 00 0c 00 00 00", OpLoadAbsB},
		{"48 10 00 00 0c 00 00 00", OpLoadIndH},
		{"69 13 0c 00 00 00 00 00", OpLdxH},
		{"79 a0 f8 ff 00 00 00 00", OpLdxDW},
		{"91 a0 ff ff 00 00 00 00", OpLdxSB},
		{"81 a0 fc ff 00 00 00 00", OpLdxSW},
		{"72 0a ff ff 7f 00 00 00", OpStB},
		{"7a 0a f8 ff cd 00 00 00", OpStDW},
		{"7b 1a f8 ff 00 00 00 00", OpStxDW},
		{"c3 1a fc ff 01 00 00 00", OpAtomicFetchAdd32},
		{"db 1a f8 ff 00 00 00 00", OpAtomicAdd64},
		{"db 1a f8 ff 40 00 00 00", OpAtomicOr64},
		{"db 1a f8 ff a1 00 00 00", OpAtomicFetchXor64},
		{"db 1a f8 ff e1 00 00 00", OpAtomicXchg64},
		{"c3 1a f8 ff f1 00 00 00", OpAtomicCmpXchg32},
		{"d3 10 00 00 00 01 00 00", OpLoadAcquireB},
		{"db 12 00 00 10 01 00 00", OpStoreReleaseDW},
	} {
		ins := DecodeInstruction(mustHex(t, tt.hex))
		op, err := Lookup(ins)
		if err != nil || op != tt.op {
			t.Errorf("%s: got %v, %v; want %v", tt.hex, op, err, tt.op)
			continue
		}
		var b [8]byte
		ins.Encode(b[:])
		if !bytes.Equal(b[:], mustHex(t, tt.hex)) {
			t.Errorf("%s: encodes back as % x", tt.hex, b)
		}
	}
}

// TestLookupRefuses checks instructions Linux refuses, with its messages.
func TestLookupRefuses(t *testing.T) {
	for _, tt := range []struct {
		hex, msg string
	}{
		{"00 00 00 00 00 00 00 00", "unknown opcode 00"},
		{"8e 00 00 00 00 00 00 00", "unknown opcode 8e"},
		{"07 00 01 00 01 00 00 00", "BPF_ALU uses reserved fields"},
		{"07 10 00 00 01 00 00 00", "BPF_ALU uses reserved fields"},
		{"0f 00 00 00 01 00 00 00", "BPF_ALU uses reserved fields"},
		{"84 10 00 00 00 00 00 00", "BPF_ALU uses reserved fields"},
		{"8c 00 00 00 00 00 00 00", "unknown opcode 8c"},
		{"34 00 02 00 01 00 00 00", "BPF_ALU uses reserved fields"},
		{"bc 10 20 00 00 00 00 00", "BPF_ALU uses reserved fields"},
		{"dc 00 00 00 08 00 00 00", "BPF_ALU uses reserved fields (imm 8)"},
		{"df 00 00 00 10 00 00 00", "unknown opcode df"},
		{"85 01 00 00 00 00 00 00", "BPF_CALL uses reserved fields"},
		{"85 00 01 00 00 00 00 00", "BPF_CALL uses reserved fields"},
		{"85 30 00 00 00 00 00 00", "BPF_CALL uses reserved fields"},
		{"95 00 00 00 01 00 00 00", "BPF_EXIT uses reserved fields"},
		{"05 00 00 00 01 00 00 00", "BPF_JA uses reserved fields"},
		{"06 00 01 00 00 00 00 00", "BPF_JA uses reserved fields"},
		{"15 10 00 00 00 00 00 00", "BPF_JMP/JMP32 uses reserved fields"},
		{"79 a0 f8 ff 01 00 00 00", "BPF_LDX uses reserved fields"},
		{"7a 1a f8 ff 00 00 00 00", "BPF_ST uses reserved fields"},
		{"7b 0a f8 ff 01 00 00 00", "BPF_STX uses reserved fields"},
		{"db 1a f8 ff 02 00 00 00", "BPF_ATOMIC uses invalid atomic opcode 02"},
		{"18 71 00 00 00 00 00 00", "unrecognized bpf_ld_imm64 insn (src 7)"},
		{"38 00 00 00 00 00 00 00", "unknown opcode 38"},
		{"0e 21 00 00 00 00 00 00", "unknown opcode 0e"},
		{"bf 12 01 00 00 00 00 00", "addr_space_cast insn can only convert between address space 1 and 0"},
		{"bf b0 00 00 00 00 00 00", "R11 is invalid"},
		{"bf 0c 00 00 00 00 00 00", "R12 is invalid"},
	} {
		_, err := Lookup(DecodeInstruction(mustHex(t, tt.hex)))
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.HasSuffix(err.Error(), tt.msg) {
			t.Errorf("%s: got %v, want %q", tt.hex, err, tt.msg)
		}
	}
}

func TestValidateLDDW(t *testing.T) {
	good := LoadImm64(R1, PseudoNone, 0x1122334455667788)
	ops, err := Validate(good[:])
	if err != nil || ops[0] != OpLoadImm64 || ops[1] != OpImm64High {
		t.Fatalf("got %v, %v", ops, err)
	}
	if v := Imm64(good[0], good[1]); v != 0x1122334455667788 {
		t.Errorf("Imm64 = %#x", v)
	}
	for name, tt := range map[string]struct {
		insns []Instruction
		msg   string
	}{
		"truncated":     {good[:1], "insn 0: invalid instruction: invalid bpf_ld_imm64 insn"},
		"opcode":        {[]Instruction{good[0], {Opcode: 0x18}}, "invalid bpf_ld_imm64 insn"},
		"register":      {[]Instruction{good[0], {Dst: 1}}, "invalid bpf_ld_imm64 insn"},
		"map fd high":   {[]Instruction{{Opcode: 0x18, Src: 1}, {Imm: 1}}, "unrecognized bpf_ld_imm64 insn"},
		"second insn 1": {[]Instruction{{Opcode: 0x95}, {Opcode: 0x95, Imm: 1}}, "insn 1: invalid instruction: BPF_EXIT uses reserved fields"},
	} {
		_, err := Validate(tt.insns)
		var se *SlotError
		if !errors.As(err, &se) || !strings.HasSuffix(err.Error(), tt.msg) {
			t.Errorf("%s: got %v, want %q", name, err, tt.msg)
		}
	}
	// A map value's offset lives in the second immediate.
	mv := LoadImm64(R1, PseudoMapValue, 16<<32|3)
	if _, err := Validate(mv[:]); err != nil {
		t.Error(err)
	}
}

func TestOpcodeFields(t *testing.T) {
	for _, tt := range []struct {
		code Opcode
		want string
	}{
		{0x07, "alu64|add|k"},
		{0x3c, "alu|div|x"},
		{0xd7, "alu64|end|k"},
		{0x1d, "jmp|jeq|x"},
		{0x06, "jmp32|ja|k"},
		{0x85, "jmp|call|k"},
		{0x79, "ldx|mem|dw"},
		{0x91, "ldx|memsx|b"},
		{0xdb, "stx|atomic|dw"},
		{0x18, "ld|imm|dw"},
		{0x28, "ld|abs|h"},
	} {
		if got := tt.code.String(); got != tt.want {
			t.Errorf("%02x: %q, want %q", uint8(tt.code), got, tt.want)
		}
	}
	if ALUOpcode(ClassALU64, ALUMov, SourceReg) != 0xbf || JumpOpcode(ClassJMP32, JumpNE, SourceImm) != 0x56 ||
		MemOpcode(ClassSTX, ModeAtomic, SizeW) != 0xc3 {
		t.Error("opcode builders disagree with the encoding")
	}
	if SizeDW.Bytes() != 8 || SizeB.Bytes() != 1 || OpLdxH.Info().Width() != 2 {
		t.Error("sizes")
	}
}

func TestUses(t *testing.T) {
	for _, tt := range []struct {
		hex           string
		reads, writes RegSet
	}{
		{"bf 12 00 00 00 00 00 00", 1 << 1, 1 << 2},              // mov r2, r1
		{"b4 03 00 00 01 00 00 00", 0, 1 << 3},                   // mov32 r3, 1
		{"0f 12 00 00 00 00 00 00", 1<<1 | 1<<2, 1 << 2},         // add r2, r1
		{"c7 03 00 00 01 00 00 00", 1 << 3, 1 << 3},              // arsh r3, 1
		{"bc 51 08 00 00 00 00 00", 1 << 5, 1 << 1},              // movsx832 r1, r5
		{"d7 03 00 00 40 00 00 00", 1 << 3, 1 << 3},              // bswap64 r3
		{"bf 12 01 00 01 00 00 00", 1 << 1, 1 << 2},              // addr_space_cast
		{"5d 12 03 00 00 00 00 00", 1<<1 | 1<<2, 0},              // jne r2, r1
		{"16 01 00 00 01 00 00 00", 1 << 1, 0},                   // jeq32 r1, 1
		{"06 00 00 00 fc ff ff ff", 0, 0},                        // gotol
		{"e5 00 03 00 00 00 00 00", 0, 0},                        // may_goto
		{"85 00 00 00 05 00 00 00", 0, 1 << 0},                   // call
		{"8d 02 00 00 00 00 00 00", 1 << 2, 1 << 0},              // callx r2
		{"95 00 00 00 00 00 00 00", 1 << 0, 0},                   // exit
		{"18 01 00 00 00 00 00 00", 0, 1 << 1},                   // lddw r1
		{"48 10 00 00 0c 00 00 00", 1 << 1, 1 << 0},              // ldindh r1
		{"79 a0 f8 ff 00 00 00 00", 1 << 10, 1 << 0},             // ldxdw r0, [r10-8]
		{"61 1a fc ff 00 00 00 00", 1 << 1, 1 << 10},             // ldxw r10, [r1-4]
		{"72 0a ff ff 7f 00 00 00", 1 << 10, 0},                  // stb [r10-1], 0x7f
		{"63 0a fc ff 00 00 00 00", 1<<0 | 1<<10, 0},             // stxw [r10-4], r0
		{"db 43 02 00 00 00 00 00", 1<<3 | 1<<4, 0},              // lock add [r3+2], r4
		{"c3 1a fc ff 51 00 00 00", 1<<1 | 1<<10, 1 << 1},        // lock fetch and32
		{"db 1a f8 ff e1 00 00 00", 1<<1 | 1<<10, 1 << 1},        // lock xchg
		{"db 1a f8 ff f1 00 00 00", 1<<0 | 1<<1 | 1<<10, 1 << 0}, // lock cmpxchg
		{"d3 10 00 00 00 01 00 00", 1 << 1, 1 << 0},              // ldxacqb r0, [r1]
		{"db 21 00 00 10 01 00 00", 1<<1 | 1<<2, 0},              // stxreldw [r1], r2
	} {
		ins := DecodeInstruction(mustHex(t, tt.hex))
		op, err := Lookup(ins)
		if err != nil {
			t.Errorf("%s: %v", tt.hex, err)
			continue
		}
		r, w := op.Info().Uses(ins)
		if r != tt.reads || w != tt.writes {
			t.Errorf("%s (%v): reads %b writes %b, want %b %b", tt.hex, op, r, w, tt.reads, tt.writes)
		}
	}
}

func TestDecodeEncode(t *testing.T) {
	code := mustHex(t, "b7 01 00 00 ff ff ff ff 85 10 00 00 09 00 00 00 95 00 00 00 00 00 00 00")
	insns, err := Decode(code)
	if err != nil {
		t.Fatal(err)
	}
	want := []Instruction{
		{Opcode: 0xb7, Dst: R1, Imm: -1},
		{Opcode: 0x85, Src: R1, Imm: 9},
		{Opcode: 0x95},
	}
	for n := range want {
		if insns[n] != want[n] {
			t.Errorf("slot %d: %v, want %v", n, insns[n], want[n])
		}
	}
	if !bytes.Equal(Encode(insns), code) {
		t.Error("Encode(Decode(code)) != code")
	}
	if w := insns[1].Word(); w != 0x0000000900001085 {
		t.Errorf("Word = %#x", w)
	}
	if _, err := Decode(code[:7]); !errors.Is(err, ErrTruncated) {
		t.Errorf("truncated: %v", err)
	}
}

// FuzzDecode: any bytes decode and validate without panicking, and every
// slot encodes back to its own bytes.
func FuzzDecode(f *testing.F) {
	f.Add(mustHex(f, "18 00 00 00 88 77 66 55 00 00 00 00 44 33 22 11 95 00 00 00 00 00 00 00"))
	f.Add(mustHex(f, "db 1a f8 ff f1 00 00 00"))
	f.Fuzz(func(t *testing.T, code []byte) {
		insns, err := Decode(code)
		if err != nil {
			return
		}
		if !bytes.Equal(Encode(insns), code) {
			t.Fatal("encode(decode(x)) != x")
		}
		ops, err := Validate(insns)
		if err != nil {
			return
		}
		for n, op := range ops {
			if op == OpInvalid {
				t.Fatalf("slot %d: valid program with invalid op", n)
			}
		}
	})
}
