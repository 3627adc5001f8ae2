package helpers

import (
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// bpf_trace_printk and bpf_snprintf: Linux's bpf_bprintf_prepare
// (kernel/bpf/helpers.c) decides which formats are allowed and copies the
// strings and addresses the arguments point to; bstr_printf (lib/
// vsprintf.c) then formats. Here prepare validates everything first (a bad
// format prints nothing) and copies into a per-CPU buffer; format writes.
//
// Allowed: %% and, with flags [0+- ] and a width, %d %i %u %x %X with the
// l and ll modifiers, %c, %s, and the pointers %p %pK %px %ps %pS %pB
// %pks %pus %pI4 %pi4 %pI6 %pi6. Anything else (precision, %h, %n, %#x,
// a non-printable character, more conversions than arguments) is EINVAL.
// %p prints a hashed value as Linux does (NULL and error values raw);
// %pK prints like %p (kptr_restrict 0); %ps and %pS need Kernel.Symbol.

// Limits of kernel/bpf/helpers.c and kernel/trace/bpf_trace.c.
const (
	maxPrintNest       = 3    // MAX_BPRINTF_NEST_LEVEL: nested printks per CPU
	maxBprintfBuf      = 512  // MAX_BPRINTF_BUF: one call's arguments and strings
	tracePrintkSize    = 1024 // BPF_TRACE_PRINTK_SIZE: a trace message
	maxTracePrintkArgs = 3    // MAX_TRACE_PRINTK_VARARGS
	maxSnprintfArgs    = 12   // MAX_SNPRINTF_VARARGS
	maxFormatLen       = 1 << 16
)

// printBuffer is one nesting level of a CPU's printk state.
type printBuffer struct {
	tmp   [maxBprintfBuf]byte // copied strings and formatted addresses
	ip    [16]byte            // an address %pI reads
	specs [maxSnprintfArgs]spec
	out   [tracePrintkSize]byte
}

// spec is one conversion of a format: how to print it, and for the
// conversions prepare resolved to text, where that text is in tmp.
type spec struct {
	start, end int  // the conversion's bytes in the format, '%' to end
	left, plus bool // flags '-' and '+'
	space      bool // flag ' '
	zero       bool // flag '0'
	width      int  // -1: none
	conv       byte // d u x X c s p (i is d)
	long       bool // l or ll: 64 bits
	ext        byte // %p extension: 0, 'K', 'x', 's', 'S', or 't' (text in tmp)
	text       span
}

// span is the text of a conversion prepare resolved: tmp[off:off+n] of
// its printBuffer. It is an offset, not a slice, so that a spec holds no
// pointer: prepare stores specs into the per-CPU printBuffer, in trap
// context when the program runs there, where a pointer store into the
// heap would run the GC write barrier that the trap may have interrupted.
type span struct{ off, n int }

// of is the text of sp in tmp.
func (sp span) of(tmp []byte) []byte { return tmp[sp.off:][:sp.n] }

func isPrint(c byte) bool { return c >= 0x20 && c < 0x7f }
func isSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }
func isPunct(c byte) bool {
	return isPrint(c) && c != ' ' && !isAlnum(c)
}
func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// at is fmt[i], or 0 past the end (Linux's format is NUL-terminated).
func at(fmt []byte, i int) byte {
	if i < len(fmt) {
		return fmt[i]
	}
	return 0
}

// CheckFormat is what Linux's verifier does with a bpf_snprintf format it
// knows at load time (check_bpf_snprintf_call): bpf_bprintf_prepare
// without arguments, EINVAL if fmt (without its NUL) is not a format
// bpf_snprintf would print with nargs arguments.
func CheckFormat(fmt []byte, nargs int) error {
	if nargs > maxSnprintfArgs {
		return linux.EINVAL
	}
	var s Set
	_, err := s.prepare(nil, new(printBuffer), fmt, make([]uint64, nargs), false)
	return err
}

// prepare is bpf_bprintf_prepare: it checks fmt (without its NUL) against
// the args, copies what %s, %pks, %pus, %pI and %pB point to into pb.tmp
// and returns the conversions. EINVAL for a bad format, ENOSPC when the
// copies overflow MAX_BPRINTF_BUF. Without copying it only checks the
// format (the verifier's use), reading nothing.
func (s *Set) prepare(env *vm.Env, pb *printBuffer, fmt []byte, args []uint64, copying bool) ([]spec, error) {
	used := 0 // bytes of pb.tmp used, as Linux's bin_args buffer fills
	specs := pb.specs[:0]
	for i := 0; i < len(fmt); i++ {
		c := fmt[i]
		if !isPrint(c) && !isSpace(c) {
			return nil, linux.EINVAL
		}
		if c != '%' {
			continue
		}
		if at(fmt, i+1) == '%' {
			i++
			continue
		}
		if len(specs) >= len(args) {
			return nil, linux.EINVAL
		}
		sp := spec{start: i, width: -1}
		arg := args[len(specs)]
		i++
		for ; ; i++ {
			switch at(fmt, i) {
			case '-':
				sp.left = true
				continue
			case '+':
				sp.plus = true
				continue
			case ' ':
				sp.space = true
				continue
			case '0':
				sp.zero = true
				continue
			}
			break
		}
		if d := at(fmt, i); d >= '1' && d <= '9' {
			sp.width = 0
			for ; at(fmt, i) >= '0' && at(fmt, i) <= '9'; i++ {
				sp.width = sp.width*10 + int(at(fmt, i)-'0')
				if sp.width > tracePrintkSize {
					sp.width = tracePrintkSize
				}
			}
		}
		switch c := at(fmt, i); c {
		case 'p':
			sp.conv = 'p'
			next, after := at(fmt, i+1), at(fmt, i+2)
			switch {
			case (next == 'k' || next == 'u') && after == 's':
				i += 2
				if n := at(fmt, i+1); n != 0 && !isSpace(n) && !isPunct(n) {
					return nil, linux.EINVAL
				}
				if copying {
					if used == len(pb.tmp) {
						return nil, linux.ENOSPC
					}
					t := s.copyString(env, next == 'u', pb.tmp[used:], arg)
					sp.ext, sp.text = 't', span{used, len(t)}
					used += len(t) + 1
				}
			case next == 0 || isSpace(next) || isPunct(next) || next == 'K' || next == 'x' || next == 's' || next == 'S':
				if next == 'K' || next == 'x' || next == 's' || next == 'S' {
					sp.ext = next
				}
				i++
				if copying {
					if used = alignUp4(used); len(pb.tmp)-used < 8 {
						return nil, linux.ENOSPC
					}
					used += 8
				}
			case next == 'B':
				i++
				if copying {
					w := writer{dst: pb.tmp[used:]}
					s.symbol(&w, arg-1, true, 1)
					sp.ext, sp.text = 't', span{used, min(w.n, max(len(pb.tmp)-used-1, 0))}
					used = min(used+w.n+1, len(pb.tmp))
				}
			case (next == 'i' || next == 'I') && (after == '4' || after == '6'):
				i += 2
				size := 4
				if after == '6' {
					size = 16
				}
				if copying {
					if len(pb.tmp)-used < size {
						return nil, linux.ENOSPC
					}
					ip := pb.ip[:size]
					if s.read(env, false, ip, arg) != nil {
						clear(ip)
					}
					w := writer{dst: pb.tmp[used:]}
					formatIP(&w, ip, next == 'I')
					sp.ext, sp.text = 't', span{used, min(w.n, len(pb.tmp)-used-1)}
					used = min(used+w.n+1, len(pb.tmp))
				}
			default:
				return nil, linux.EINVAL
			}
			// bstr_printf consumes every letter and digit after %p.
			sp.end = sp.start + 2
			for isAlnum(at(fmt, sp.end)) {
				sp.end++
			}
		case 's':
			if n := at(fmt, i+1); n != 0 && !isSpace(n) && !isPunct(n) {
				return nil, linux.EINVAL
			}
			sp.conv, sp.end = 's', i+1
			if copying {
				if used == len(pb.tmp) {
					return nil, linux.ENOSPC
				}
				t := s.copyString(env, arg < s.kernel.UserLimit(), pb.tmp[used:], arg)
				sp.text = span{used, len(t)}
				used += len(t) + 1
			}
		case 'c':
			if copying {
				if used == len(pb.tmp) {
					return nil, linux.ENOSPC
				}
				used++
			}
			sp.conv, sp.end = 'c', i+1
		default:
			size := 4
			if c == 'l' {
				sp.long, size = true, 8
				i++
				if at(fmt, i) == 'l' {
					i++
				}
			}
			switch at(fmt, i) {
			case 'i', 'd':
				sp.conv = 'd'
			case 'u', 'x', 'X':
				sp.conv = at(fmt, i)
			default:
				return nil, linux.EINVAL
			}
			if copying {
				if used = alignUp4(used); len(pb.tmp)-used < size {
					return nil, linux.ENOSPC
				}
				used += size
			}
			sp.end = i + 1
		}
		specs = append(specs, sp)
	}
	return specs, nil
}

func alignUp4(n int) int { return (n + 3) &^ 3 }

// copyString copies the NUL-terminated string at addr into dst (with its
// NUL, truncated to fit) and returns it without the NUL; a bad address
// gives the empty string, as bpf_trace_copy_string's failure does.
func (s *Set) copyString(env *vm.Env, user bool, dst []byte, addr uint64) []byte {
	n, err := s.readStr(env, user, dst, addr)
	if err != nil || n == 0 {
		dst[0] = 0
		return dst[:0]
	}
	return dst[:n-1]
}

// format is bstr_printf: fmt printed with the conversions prepare
// resolved, whose texts are in tmp.
func (s *Set) format(w *writer, fmt []byte, tmp []byte, specs []spec, args []uint64) {
	k := 0
	for i := 0; i < len(fmt); i++ {
		if fmt[i] != '%' {
			w.byte(fmt[i])
			continue
		}
		if at(fmt, i+1) == '%' {
			w.byte('%')
			i++
			continue
		}
		sp := &specs[k]
		s.conversion(w, tmp, sp, args[k])
		k++
		i = sp.end - 1
	}
}

// conversion prints one conversion.
func (s *Set) conversion(w *writer, tmp []byte, sp *spec, arg uint64) {
	switch sp.conv {
	case 'd':
		v := int64(arg)
		if !sp.long {
			v = int64(int32(arg))
		}
		neg := v < 0
		u := uint64(v)
		if neg {
			u = uint64(-v)
		}
		w.number(u, neg, true, 10, false, sp)
	case 'u', 'x', 'X':
		if !sp.long {
			arg = uint64(uint32(arg))
		}
		base := uint64(16)
		if sp.conv == 'u' {
			base = 10
		}
		w.number(arg, false, false, base, sp.conv == 'X', sp)
	case 'c':
		w.padded([]byte{byte(arg)}, sp)
	case 's':
		w.padded(sp.text.of(tmp), sp)
	case 'p':
		switch sp.ext {
		case 't':
			w.bytes(sp.text.of(tmp))
		case 's', 'S':
			if sp.width < 0 {
				s.symbol(w, arg, sp.ext == 'S', 0)
				return
			}
			var tmp [256]byte
			t := writer{dst: tmp[:]}
			s.symbol(&t, arg, sp.ext == 'S', 0)
			w.padded(tmp[:min(t.n, len(tmp)-1)], sp)
		case 'x':
			w.pointer(arg, sp)
		default:
			// Hash, except NULL and error values (IS_ERR_OR_NULL).
			if arg != 0 && arg <= 1<<64-maxErrno-1 {
				arg = s.hashPointer(arg)
			}
			w.pointer(arg, sp)
		}
	}
}

// maxErrno is MAX_ERRNO: the top 4095 addresses are error values.
const maxErrno = 4095

// hashPointer is %p's stand-in for an address (ptr_to_id): a keyed hash
// cut to 32 bits, stable for the boot, revealing nothing of the address.
func (s *Set) hashPointer(p uint64) uint64 {
	x := (p ^ s.ptrSeed) * 0x9e3779b97f4a7c15
	x ^= x >> 31
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 29
	return x & 0xffffffff
}

// symbol prints addr as %pS ("name+0xoff/0xsize") or %ps ("name"); an
// unknown address as 0x%lx. delta is %pB's adjustment (the address looked
// up is a return address minus one).
func (s *Set) symbol(w *writer, addr uint64, offset bool, delta uint64) {
	name, off, size, ok := s.kernel.Symbol(addr)
	if !ok {
		w.str("0x")
		w.hex(addr+delta, 0)
		return
	}
	w.str(name)
	if offset {
		w.str("+0x")
		w.hex(off+delta, 0)
		w.str("/0x")
		w.hex(size, 0)
	}
}

// formatIP prints an IPv4 (4 bytes) or IPv6 (16 bytes) address: %pI4
// dotted decimal, %pi4 with three digits per byte, %pI6 eight groups of
// four hex digits with colons, %pi6 without.
func formatIP(w *writer, ip []byte, dotted bool) {
	if len(ip) == 4 {
		for i, b := range ip {
			if i > 0 {
				w.byte('.')
			}
			if dotted {
				w.decimal(uint64(b))
			} else {
				w.byte('0' + b/100)
				w.byte('0' + b/10%10)
				w.byte('0' + b%10)
			}
		}
		return
	}
	for i := 0; i < 16; i += 2 {
		if dotted && i > 0 {
			w.byte(':')
		}
		w.hex(uint64(ip[i])<<8|uint64(ip[i+1]), 4)
	}
}

// writer prints into dst like vsnprintf: it counts every byte of the
// output but stores only what fits with a terminating NUL.
type writer struct {
	dst []byte
	n   int
}

func (w *writer) byte(c byte) {
	if w.n < len(w.dst)-1 {
		w.dst[w.n] = c
	}
	w.n++
}

func (w *writer) bytes(b []byte) {
	for _, c := range b {
		w.byte(c)
	}
}

func (w *writer) str(s string) {
	for i := 0; i < len(s); i++ {
		w.byte(s[i])
	}
}

// finish NUL-terminates the output.
func (w *writer) finish() {
	if len(w.dst) > 0 {
		w.dst[min(w.n, len(w.dst)-1)] = 0
	}
}

func (w *writer) repeat(c byte, n int) {
	for ; n > 0; n-- {
		w.byte(c)
	}
}

// padded prints b in sp's width (spaces, left or right).
func (w *writer) padded(b []byte, sp *spec) {
	pad := sp.width - len(b)
	if !sp.left {
		w.repeat(' ', pad)
	}
	w.bytes(b)
	if sp.left {
		w.repeat(' ', pad)
	}
}

// number is vsprintf.c:number for the flags and width prepare allows.
func (w *writer) number(v uint64, neg, signed bool, base uint64, upper bool, sp *spec) {
	digits := "0123456789abcdef"
	if upper {
		digits = "0123456789ABCDEF"
	}
	var buf [24]byte
	n := 0
	for {
		buf[n] = digits[v%base]
		n++
		if v /= base; v == 0 {
			break
		}
	}
	var sign byte
	if signed {
		switch {
		case neg:
			sign = '-'
		case sp.plus:
			sign = '+'
		case sp.space:
			sign = ' '
		}
	}
	pad := sp.width - n
	if sign != 0 {
		pad--
	}
	zero := sp.zero && !sp.left
	if !sp.left && !zero {
		w.repeat(' ', pad)
	}
	if sign != 0 {
		w.byte(sign)
	}
	if zero {
		w.repeat('0', pad)
	}
	for k := n - 1; k >= 0; k-- {
		w.byte(buf[k])
	}
	if sp.left {
		w.repeat(' ', pad)
	}
}

// pointer prints an address in hex: 16 zero-padded digits unless a width
// is given (pointer_string).
func (w *writer) pointer(v uint64, sp *spec) {
	if sp.width < 0 {
		w.hex(v, 16)
		return
	}
	w.number(v, false, false, 16, false, sp)
}

// hex prints v in lowercase hex, zero-padded to width digits.
func (w *writer) hex(v uint64, width int) {
	var buf [16]byte
	n := 0
	for {
		buf[n] = "0123456789abcdef"[v&15]
		n++
		if v >>= 4; v == 0 {
			break
		}
	}
	w.repeat('0', width-n)
	for n > 0 {
		n--
		w.byte(buf[n])
	}
}

// decimal prints v in decimal.
func (w *writer) decimal(v uint64) {
	w.number(v, false, false, 10, false, &spec{width: -1})
}

// enterPrint takes a printk buffer of the CPU env runs on; EBUSY when
// printks are nested too deep (a probe in a probe in a probe).
func (s *Set) enterPrint(env *vm.Env) (*printBuffer, *cpuState, error) {
	c := s.cpu(env)
	level := c.printNest.Add(1) - 1
	if level >= maxPrintNest {
		c.printNest.Add(-1)
		return nil, nil, linux.EBUSY
	}
	return &c.print[level], c, nil
}

// tracePrintk is bpf_trace_printk (6): format with up to three arguments
// and send the message to the trace pipe; returns the message's length.
func (s *Set) tracePrintk(env *vm.Env, r1, r2, r3, r4, r5 uint64) uint64 {
	fmt, err := env.Memory(r1, uint64(uint32(r2)), false)
	if err != nil {
		return errno(linux.EFAULT)
	}
	end := indexNUL(fmt)
	if end < 0 {
		return errno(linux.EINVAL)
	}
	fmt = fmt[:end]
	pb, c, err := s.enterPrint(env)
	if err != nil {
		return errno(err)
	}
	defer c.printNest.Add(-1)
	args := [maxTracePrintkArgs]uint64{r3, r4, r5}
	specs, err := s.prepare(env, pb, fmt, args[:], true)
	if err != nil {
		return errno(err)
	}
	w := writer{dst: pb.out[:]}
	s.format(&w, fmt, pb.tmp[:], specs, args[:])
	w.finish()
	s.kernel.TracePrintk(env.CPU, pb.out[:min(w.n, len(pb.out)-1)])
	return uint64(w.n)
}

// snprintf is bpf_snprintf (165): format fmt (a constant string) with
// data_len/8 u64 arguments into str; returns the length the whole output
// needs, its NUL included. EINVAL for a bad data_len or format.
func (s *Set) snprintf(env *vm.Env, r1, r2, r3, r4, r5 uint64) uint64 {
	dataLen := uint32(r5)
	if dataLen%8 != 0 || dataLen > maxSnprintfArgs*8 || (dataLen != 0 && r4 == 0) {
		return errno(linux.EINVAL)
	}
	fmt, ok := constString(env, r3)
	if !ok {
		return errno(linux.EFAULT)
	}
	var args [maxSnprintfArgs]uint64
	if dataLen > 0 {
		data, err := env.Memory(r4, uint64(dataLen), false)
		if err != nil {
			return errno(linux.EFAULT)
		}
		for i := range dataLen / 8 {
			args[i] = le64(data[i*8:])
		}
	}
	var str []byte
	if r1 != 0 {
		var err error
		if str, err = env.Memory(r1, uint64(uint32(r2)), true); err != nil {
			return errno(linux.EFAULT)
		}
	}
	pb, c, err := s.enterPrint(env)
	if err != nil {
		return errno(err)
	}
	defer c.printNest.Add(-1)
	specs, err := s.prepare(env, pb, fmt, args[:dataLen/8], true)
	if err != nil {
		return errno(err)
	}
	w := writer{dst: str}
	s.format(&w, fmt, pb.tmp[:], specs, args[:dataLen/8])
	w.finish()
	return uint64(w.n) + 1
}

// constString is an ARG_PTR_TO_CONST_STR argument without its NUL. The
// verifier proved the NUL is there for a verified program; a checked
// program's string is checked byte by byte. Either way the string is
// scanned a byte at a time, never viewed past its NUL (which could run
// past its memory).
func constString(env *vm.Env, addr uint64) ([]byte, bool) {
	for n := uint64(0); n < maxFormatLen; n++ {
		c, err := env.Memory(addr+n, 1, false)
		if err != nil {
			return nil, false
		}
		if c[0] == 0 {
			b, _ := env.Memory(addr, n, false)
			return b, true
		}
	}
	return nil, false
}

func indexNUL(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}

func le64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
