package asm

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"hachi/bpf/isa"
)

// DataFile is a test in the bpf_conformance `.data` format: lines of the
// form `-- NAME` start sections, lines starting with `#` before the first
// section are comments.
type DataFile struct {
	Asm    string            // `-- asm`: assembly text
	Raw    []isa.Instruction // `-- raw`: bytecode
	Mem    []byte            // `-- mem`: memory handed to the program in r1 (length in r2)
	Result uint64            // `-- result`: expected r0
	Error  string            // `-- error`: expected failure
	// Linux is this project's extension: how the host kernel fares with
	// the program, for tests that compare with it. Empty: it returns the
	// same result; "refuses: TEXT": its verifier refuses it with TEXT in
	// the log; "skip: REASON": not comparable.
	Linux     string
	HasAsm    bool
	HasRaw    bool
	HasMem    bool
	HasResult bool
	HasError  bool
}

// ErrDataFile is wrapped by every error ParseDataFile returns.
var ErrDataFile = errors.New("bad test file")

// sectionNames are the sections a data file may have. `c` (the C source a
// program came from) and `no register offset` (a note for JIT tests of the
// suite) carry nothing a runner needs.
var sectionNames = map[string]bool{
	"asm": true, "raw": true, "mem": true, "result": true, "error": true,
	"c": true, "no register offset": true, "linux": true,
}

// ParseDataFile reads a `.data` test. It refuses sections it does not know
// and files with neither program nor expectation, so that a runner never
// silently skips a test.
func ParseDataFile(text string) (*DataFile, error) {
	d := &DataFile{}
	section := ""
	var asm, raw, mem, result, errText, linux []string
	for n, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if name, ok := strings.CutPrefix(line, "-- "); ok || line == "--" {
			name = strings.TrimSpace(name)
			if !sectionNames[name] {
				return nil, fmt.Errorf("%w: line %d: unknown section %q", ErrDataFile, n+1, name)
			}
			section = name
			switch name {
			case "asm":
				d.HasAsm = true
			case "raw":
				d.HasRaw = true
			case "mem":
				d.HasMem = true
			case "result":
				d.HasResult = true
			case "error":
				d.HasError = true
			}
			continue
		}
		switch section {
		case "asm":
			asm = append(asm, line)
		case "raw":
			raw = append(raw, strings.Fields(line)...)
		case "mem":
			mem = append(mem, strings.Fields(line)...)
		case "result":
			result = append(result, strings.Fields(line)...)
		case "error":
			if t := strings.TrimSpace(line); t != "" {
				errText = append(errText, t)
			}
		case "linux":
			if t := strings.TrimSpace(line); t != "" {
				linux = append(linux, t)
			}
		}
	}
	if !d.HasAsm && !d.HasRaw {
		return nil, fmt.Errorf("%w: no asm or raw section", ErrDataFile)
	}
	if !d.HasResult && !d.HasError {
		return nil, fmt.Errorf("%w: no result or error section", ErrDataFile)
	}
	d.Asm = strings.Join(asm, "\n")
	d.Error = strings.Join(errText, "\n")
	d.Linux = strings.Join(linux, " ")
	var err error
	if d.Mem, err = ParseHex(strings.Join(mem, " ")); err != nil {
		return nil, fmt.Errorf("%w: mem: %v", ErrDataFile, err)
	}
	if d.Raw, err = parseRaw(raw); err != nil {
		return nil, fmt.Errorf("%w: raw: %v", ErrDataFile, err)
	}
	if d.HasResult {
		if len(result) != 1 {
			return nil, fmt.Errorf("%w: result must be one number", ErrDataFile)
		}
		if d.Result, err = strconv.ParseUint(result[0], 0, 64); err != nil {
			return nil, fmt.Errorf("%w: result: %v", ErrDataFile, err)
		}
	}
	return d, nil
}

// parseRaw reads raw bytecode: either 0x-prefixed 64-bit words (the value of
// each slot's eight little-endian bytes), or two-digit hex bytes.
func parseRaw(tokens []string) ([]isa.Instruction, error) {
	var code []byte
	for _, t := range tokens {
		if h, ok := strings.CutPrefix(t, "0x"); ok {
			w, err := strconv.ParseUint(h, 16, 64)
			if err != nil {
				return nil, err
			}
			for i := 0; i < 8; i++ {
				code = append(code, byte(w>>(8*i)))
			}
			continue
		}
		b, err := ParseHex(t)
		if err != nil || len(b) != 1 {
			return nil, fmt.Errorf("bad byte %q", t)
		}
		code = append(code, b[0])
	}
	return isa.Decode(code)
}

// ParseHex reads hex bytes separated by any white space, or none
// ("b7 00", "b700", "b7  00  ").
func ParseHex(s string) ([]byte, error) {
	digits := strings.Join(strings.Fields(s), "")
	if len(digits)%2 != 0 {
		return nil, errors.New("odd number of hex digits")
	}
	out := make([]byte, len(digits)/2)
	for n := range out {
		v, err := strconv.ParseUint(digits[2*n:2*n+2], 16, 8)
		if err != nil {
			return nil, fmt.Errorf("bad hex byte %q", digits[2*n:2*n+2])
		}
		out[n] = byte(v)
	}
	return out, nil
}

// Program is the test's bytecode: the raw section if there is one (it holds
// what the assembler cannot express), else the assembled asm section.
func (d *DataFile) Program() ([]isa.Instruction, error) {
	if d.HasRaw {
		return d.Raw, nil
	}
	return Assemble(d.Asm)
}
