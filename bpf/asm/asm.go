// Package asm owns the text forms of eBPF programs: an assembler and a
// disassembler for the syntax of the bpf_conformance suite (`mov32 %r0, 1`,
// `ldxw %r0, [%r1+4]`, `lock fetch add [%r10-8], %r1`, labels), a
// disassembler in llvm-objdump style (`r0 = *(u32 *)(r1 + 4)`), and the
// suite's `.data` test-file format. Both directions are driven by the opcode
// table of package isa, so they accept and print exactly the same set of
// instructions as the rest of the system.
//
// Syntax accepted beyond the suite's own, for the parts of the ISA it does
// not cover (each printed back the same way by Disassemble):
//
//	lddw %r1, map_fd 3            lddw %r1, map_value 3, 16
//	lddw %r1, map_idx 0           lddw %r1, map_idx_value 0, 16
//	lddw %r1, btf_id 123[, 4]     lddw %r1, func LABEL
//	call kfunc 1234[, 2]          callx %r2 (same as call %r2)
//	ldabsb/h/w 12                 ldindb/h/w %r1, 12
//	ldxsb/h/w %r0, [%r1+2]        may_goto LABEL
//	ldxacqb/h/w/dw %r0, [%r1+0]   stxrelb/h/w/dw [%r1+0], %r2
//	addr_space_cast %r0, %r1, 1, 0   (destination, source address space)
//	add64 ..., neg64, lock add64 ...: aliases of the 64-bit mnemonics
//	swap16/32/64: aliases of bswap16/32/64
package asm

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"hachi/bpf/isa"
)

// Error is an assembly error on one source line.
type Error struct {
	Line int    // 1-based line number
	Text string // the line, comment stripped
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s: %v", e.Line, e.Text, e.Err) }

func (e *Error) Unwrap() error { return e.Err }

// The reasons an assembly fails.
var (
	ErrMnemonic = errors.New("invalid mnemonic")
	ErrOperands = errors.New("invalid operands")
	ErrRegister = errors.New("invalid register")
	ErrRange    = errors.New("value out of range")
	ErrLabel    = errors.New("invalid label")
	ErrEmpty    = errors.New("no instructions")
)

// mnemonics maps each mnemonic (and alias) to the operations it may mean,
// distinguished by their operand forms.
var mnemonics = map[string][]isa.Op{}

func init() {
	for op := isa.OpImm64High + 1; op < isa.NumOps; op++ {
		info := op.Info()
		mnemonics[info.Mnemonic] = append(mnemonics[info.Mnemonic], op)
		alias := ""
		switch {
		case info.Opcode.Class() == isa.ClassALU64 && info.Form != isa.FormUnary && !strings.HasPrefix(info.Mnemonic, "movsx") && op != isa.OpAddrSpaceCast:
			alias = info.Mnemonic + "64"
		case op == isa.OpNeg64:
			alias = "neg64"
		case op >= isa.OpBswap16 && op <= isa.OpBswap64:
			alias = strings.TrimPrefix(info.Mnemonic, "b")
		case op >= isa.OpAtomicAdd64 && op <= isa.OpAtomicCmpXchg64:
			alias = info.Mnemonic + "64"
		case op == isa.OpCallX:
			alias = "callx"
		}
		if alias != "" {
			mnemonics[alias] = append(mnemonics[alias], op)
		}
	}
}

// operand is one comma-separated operand, classified.
type operand struct {
	text    string
	keyword string // "local", "map_fd", ...: the first word of a two-word operand
	kind    operandKind
	reg     isa.Register
	offset  int64 // memory operand displacement
}

type operandKind uint8

const (
	kindValue    operandKind = iota // number or label: decided by the form
	kindRegister                    // %rN
	kindMemory                      // [%rN+off]
)

// fixup is a label reference to resolve once every label is known.
type fixup struct {
	slot  int
	label string
	line  int
	text  string
	imm   bool // the target goes in Imm (ja32, call local, lddw func), else in Offset
}

type assembler struct {
	lineno int // the line being assembled
	insns  []isa.Instruction
	labels map[string]int
	fixups []fixup
	exit   int // slot of the first exit: the implicit label "exit"
}

// Assemble translates source text into instructions. `#` starts a comment;
// a word ending in `:` defines a label at the next instruction; jump and
// call targets are labels or signed offsets (`+3`, `-2`); the label `exit`
// means the first exit instruction unless defined explicitly, as in the
// conformance suite's assembler.
func Assemble(src string) ([]isa.Instruction, error) {
	a := assembler{labels: map[string]int{}, exit: -1}
	for n, line := range strings.Split(src, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.Join(strings.Fields(line), " ")
		a.lineno = n + 1
		if err := a.line(line); err != nil {
			return nil, &Error{Line: n + 1, Text: line, Err: err}
		}
	}
	if len(a.insns) == 0 {
		return nil, ErrEmpty
	}
	if _, ok := a.labels["exit"]; !ok && a.exit >= 0 {
		a.labels["exit"] = a.exit
	}
	for _, f := range a.fixups {
		target, ok := a.labels[f.label]
		if !ok {
			return nil, &Error{Line: f.line, Text: f.text, Err: fmt.Errorf("%w: %s", ErrLabel, f.label)}
		}
		rel := int64(target - f.slot - 1)
		ins := &a.insns[f.slot]
		if f.imm {
			ins.Imm = int32(rel)
		} else if rel < math.MinInt16 || rel > math.MaxInt16 {
			return nil, &Error{Line: f.line, Text: f.text, Err: fmt.Errorf("%w: jump to %s is %d slots away", ErrRange, f.label, rel)}
		} else {
			ins.Offset = int16(rel)
		}
	}
	return a.insns, nil
}

func (a *assembler) line(line string) error {
	for {
		word, rest, _ := strings.Cut(line, " ")
		if !strings.HasSuffix(word, ":") {
			break
		}
		label := strings.TrimSuffix(word, ":")
		if label == "" || strings.ContainsAny(label, "%[],+-") {
			return fmt.Errorf("%w: %q", ErrLabel, label)
		}
		if _, dup := a.labels[label]; dup {
			return fmt.Errorf("%w: %s defined twice", ErrLabel, label)
		}
		a.labels[label] = len(a.insns)
		line = strings.TrimSpace(rest)
	}
	if line == "" {
		return nil
	}
	mnemonic, rest := splitMnemonic(line)
	ops, ok := mnemonics[mnemonic]
	if !ok {
		if mnemonic == "lock" {
			return fmt.Errorf("%w: lock needs an operation and operands", ErrOperands)
		}
		return fmt.Errorf("%w: %s", ErrMnemonic, mnemonic)
	}
	operands, err := splitOperands(rest)
	if err != nil {
		return err
	}
	var firstErr error
	for _, op := range ops {
		err := a.encode(op, operands, line)
		if err == nil {
			return nil
		}
		if firstErr == nil || !errors.Is(err, errShape) {
			firstErr = err
		}
	}
	if errors.Is(firstErr, errShape) {
		return fmt.Errorf("%w for %s", ErrOperands, mnemonic)
	}
	return firstErr
}

// errShape says the operands do not have the shape of a form: another
// operation with the same mnemonic may fit.
var errShape = errors.New("operand shape")

// splitMnemonic separates the mnemonic from the operands. The atomic
// mnemonics are several words: "lock [fetch] op".
func splitMnemonic(line string) (string, string) {
	mnemonic, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	if mnemonic != "lock" {
		return mnemonic, rest
	}
	for rest != "" && rest[0] != '[' && rest[0] != '%' {
		word, tail, _ := strings.Cut(rest, " ")
		mnemonic += " " + word
		rest = strings.TrimSpace(tail)
	}
	return mnemonic, rest
}

func splitOperands(rest string) ([]operand, error) {
	if rest == "" {
		return nil, nil
	}
	var ops []operand
	for _, text := range strings.Split(rest, ",") {
		text = strings.TrimSpace(text)
		if text == "" {
			return nil, fmt.Errorf("%w: empty operand", ErrOperands)
		}
		o := operand{text: text}
		switch {
		case strings.HasPrefix(text, "%"):
			r, err := parseRegister(text)
			if err != nil {
				return nil, err
			}
			o.kind, o.reg = kindRegister, r
		case strings.HasPrefix(text, "["):
			if err := o.parseMemory(); err != nil {
				return nil, err
			}
		default:
			if kw, value, two := strings.Cut(text, " "); two {
				o.keyword, o.text = kw, strings.TrimSpace(value)
			}
		}
		ops = append(ops, o)
	}
	return ops, nil
}

func parseRegister(s string) (isa.Register, error) {
	n, err := strconv.ParseUint(strings.TrimPrefix(s, "%r"), 10, 8)
	if !strings.HasPrefix(s, "%r") || err != nil || n >= isa.NumRegisters {
		return 0, fmt.Errorf("%w: %s", ErrRegister, s)
	}
	return isa.Register(n), nil
}

// parseMemory reads "[%rN]", "[%rN+off]" or "[%rN-off]".
func (o *operand) parseMemory() error {
	inner, ok := strings.CutSuffix(strings.TrimPrefix(o.text, "["), "]")
	if !ok {
		return fmt.Errorf("%w: %s", ErrOperands, o.text)
	}
	inner = strings.ReplaceAll(inner, " ", "")
	end := strings.IndexAny(inner, "+-")
	reg, disp := inner, ""
	if end >= 0 {
		reg, disp = inner[:end], inner[end:]
	}
	r, err := parseRegister(reg)
	if err != nil {
		return err
	}
	o.kind, o.reg = kindMemory, r
	if disp != "" {
		v, err := parseInt(disp, math.MinInt16, math.MaxInt16)
		if err != nil {
			return fmt.Errorf("offset %s: %w", disp, err)
		}
		o.offset = v
	}
	return nil
}

// parseInt reads a decimal or 0x-hexadecimal number, optionally signed, in
// [lo, hi].
func parseInt(s string, lo, hi int64) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) > 1 {
		return 0, fmt.Errorf("%w: %s", ErrOperands, s)
	}
	base := 10
	if h, ok := strings.CutPrefix(strings.ToLower(digits), "0x"); ok {
		digits, base = h, 16
	}
	u, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("%w: %s", ErrRange, s)
		}
		return 0, fmt.Errorf("%w: not a number: %s", ErrOperands, s)
	}
	if neg {
		if u > uint64(-lo) {
			return 0, fmt.Errorf("%w: %s", ErrRange, s)
		}
		return -int64(u), nil
	}
	if u > uint64(hi) {
		return 0, fmt.Errorf("%w: %s", ErrRange, s)
	}
	return int64(u), nil
}

// imm32 reads a 32-bit immediate: signed decimal, or hexadecimal up to
// 0xffffffff taken as a bit pattern (like `mov32 %r0, 0x80000000`).
func imm32(s string) (int32, error) {
	if strings.Contains(strings.ToLower(s), "0x") && !strings.HasPrefix(s, "-") {
		v, err := parseInt(s, 0, math.MaxUint32)
		return int32(uint32(v)), err
	}
	v, err := parseInt(s, math.MinInt32, math.MaxInt32)
	return int32(v), err
}

// imm64 reads the value of an lddw: any signed or unsigned 64-bit number.
func imm64(s string) (uint64, error) {
	digits := strings.TrimPrefix(s, "+")
	if strings.HasPrefix(digits, "-") {
		v, err := parseInt(digits, math.MinInt64, 0)
		return uint64(v), err
	}
	base := 10
	if h, ok := strings.CutPrefix(strings.ToLower(digits), "0x"); ok {
		digits, base = h, 16
	}
	u, err := strconv.ParseUint(digits, base, 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%w: %s", ErrRange, s)
	} else if err != nil {
		return 0, fmt.Errorf("%w: not a number: %s", ErrOperands, s)
	}
	return u, nil
}

// target reads a jump or call target: a signed relative offset, or a label
// to fix up later.
func (a *assembler) target(o operand, lo, hi int64, imm bool, line string) (int64, error) {
	if o.kind != kindValue || o.keyword != "" {
		return 0, errShape
	}
	if strings.HasPrefix(o.text, "+") || strings.HasPrefix(o.text, "-") {
		return parseInt(o.text, lo, hi)
	}
	if o.text == "" || strings.ContainsAny(o.text, " %[]") || o.text[0] >= '0' && o.text[0] <= '9' {
		return 0, fmt.Errorf("%w: %q", ErrLabel, o.text)
	}
	a.fixups = append(a.fixups, fixup{slot: len(a.insns), label: o.text, line: a.lineno, text: line, imm: imm})
	return 0, nil
}

// encode appends op with the given operands, or returns errShape if they do
// not fit op's form.
func (a *assembler) encode(op isa.Op, ops []operand, line string) error {
	info := op.Info()
	ins := isa.Instruction{Opcode: info.Opcode}
	switch info.Select.Field {
	case isa.FieldOffset:
		ins.Offset = int16(info.Select.Value)
	case isa.FieldImm:
		ins.Imm = info.Select.Value
	case isa.FieldSrc:
		ins.Src = isa.Register(info.Select.Value)
	}
	shape := func(kinds ...operandKind) bool {
		if len(ops) != len(kinds) {
			return false
		}
		for n, k := range kinds {
			if ops[n].kind != k || (k != kindValue && ops[n].keyword != "") {
				return false
			}
		}
		return true
	}
	plain := func(n int) bool { return ops[n].keyword == "" }
	nfix := len(a.fixups)
	var hi *isa.Instruction
	var err error
	switch info.Form {
	case isa.FormNone:
		if !shape() {
			return errShape
		}
	case isa.FormALUImm:
		if !shape(kindRegister, kindValue) || !plain(1) {
			return errShape
		}
		ins.Dst = ops[0].reg
		ins.Imm, err = imm32(ops[1].text)
	case isa.FormALUReg:
		if !shape(kindRegister, kindRegister) {
			return errShape
		}
		ins.Dst, ins.Src = ops[0].reg, ops[1].reg
	case isa.FormUnary, isa.FormCallReg:
		if !shape(kindRegister) {
			return errShape
		}
		ins.Dst = ops[0].reg
	case isa.FormJump:
		if !shape(kindValue) {
			return errShape
		}
		var off int64
		off, err = a.target(ops[0], math.MinInt16, math.MaxInt16, false, line)
		ins.Offset = int16(off)
	case isa.FormJumpLong:
		if !shape(kindValue) {
			return errShape
		}
		var off int64
		off, err = a.target(ops[0], math.MinInt32, math.MaxInt32, true, line)
		ins.Imm = int32(off)
	case isa.FormCondImm, isa.FormCondReg:
		second := kindValue
		if info.Form == isa.FormCondReg {
			second = kindRegister
		}
		if !shape(kindRegister, second, kindValue) || !plain(1) {
			return errShape
		}
		ins.Dst = ops[0].reg
		if second == kindRegister {
			ins.Src = ops[1].reg
		} else if ins.Imm, err = imm32(ops[1].text); err != nil {
			break
		}
		var off int64
		off, err = a.target(ops[2], math.MinInt16, math.MaxInt16, false, line)
		ins.Offset = int16(off)
	case isa.FormCall:
		if !shape(kindValue) || !plain(0) {
			return errShape
		}
		ins.Imm, err = imm32(ops[0].text)
	case isa.FormCallLocal:
		if len(ops) != 1 || ops[0].keyword != info.Keyword {
			return errShape
		}
		var off int64
		off, err = a.target(operand{text: ops[0].text}, math.MinInt32, math.MaxInt32, true, line)
		ins.Imm = int32(off)
	case isa.FormCallKfunc:
		if len(ops) < 1 || len(ops) > 2 || ops[0].keyword != info.Keyword || len(ops) == 2 && !shape(kindValue, kindValue) {
			return errShape
		}
		if ins.Imm, err = imm32(ops[0].text); err == nil && len(ops) == 2 {
			var v int64
			v, err = parseInt(ops[1].text, math.MinInt16, math.MaxInt16)
			ins.Offset = int16(v)
		}
	case isa.FormImm64:
		if len(ops) < 2 || ops[0].kind != kindRegister || ops[1].kind != kindValue || ops[1].keyword != info.Keyword {
			return errShape
		}
		ins.Dst = ops[0].reg
		hi, err = a.imm64Operands(op, &ins, ops[1:], line)
	case isa.FormPacketAbs:
		if !shape(kindValue) || !plain(0) {
			return errShape
		}
		ins.Imm, err = imm32(ops[0].text)
	case isa.FormPacketInd:
		if !shape(kindRegister, kindValue) || !plain(1) {
			return errShape
		}
		ins.Src = ops[0].reg
		ins.Imm, err = imm32(ops[1].text)
	case isa.FormLoad:
		if !shape(kindRegister, kindMemory) {
			return errShape
		}
		ins.Dst, ins.Src, ins.Offset = ops[0].reg, ops[1].reg, int16(ops[1].offset)
	case isa.FormStoreImm:
		if !shape(kindMemory, kindValue) || !plain(1) {
			return errShape
		}
		ins.Dst, ins.Offset = ops[0].reg, int16(ops[0].offset)
		ins.Imm, err = imm32(ops[1].text)
	case isa.FormStore:
		if !shape(kindMemory, kindRegister) {
			return errShape
		}
		ins.Dst, ins.Offset, ins.Src = ops[0].reg, int16(ops[0].offset), ops[1].reg
	case isa.FormAddrSpaceCast:
		if !shape(kindRegister, kindRegister, kindValue, kindValue) || !plain(2) || !plain(3) {
			return errShape
		}
		ins.Dst, ins.Src = ops[0].reg, ops[1].reg
		var dstAS, srcAS int64
		if dstAS, err = parseInt(ops[2].text, 0, math.MaxUint16); err == nil {
			srcAS, err = parseInt(ops[3].text, 0, math.MaxUint16)
		}
		ins.Imm = int32(dstAS<<16 | srcAS)
	}
	if err != nil {
		a.fixups = a.fixups[:nfix]
		return err
	}
	a.insns = append(a.insns, ins)
	if hi != nil {
		a.insns = append(a.insns, *hi)
	}
	if op == isa.OpExit && a.exit < 0 {
		a.exit = len(a.insns) - 1
	}
	return nil
}

// imm64Operands fills an lddw: the value (plain), or the pseudo source's
// number and, for map values and BTF ids, the second immediate.
func (a *assembler) imm64Operands(op isa.Op, ins *isa.Instruction, ops []operand, line string) (*isa.Instruction, error) {
	hi := &isa.Instruction{}
	switch op {
	case isa.OpLoadImm64:
		if len(ops) != 1 {
			return nil, errShape
		}
		v, err := imm64(ops[0].text)
		ins.Imm, hi.Imm = int32(uint32(v)), int32(uint32(v>>32))
		return hi, err
	case isa.OpLoadFunc:
		if len(ops) != 1 {
			return nil, errShape
		}
		off, err := a.target(operand{text: ops[0].text}, math.MinInt32, math.MaxInt32, true, line)
		ins.Imm = int32(off)
		return hi, err
	}
	second := op == isa.OpLoadMapValue || op == isa.OpLoadMapIdxValue || op == isa.OpLoadBTFID
	if len(ops) != 1 && !(second && len(ops) == 2) {
		return nil, errShape
	}
	var err error
	if ins.Imm, err = imm32(ops[0].text); err == nil && len(ops) == 2 {
		if ops[1].kind != kindValue || ops[1].keyword != "" {
			return nil, errShape
		}
		hi.Imm, err = imm32(ops[1].text)
	}
	return hi, err
}
