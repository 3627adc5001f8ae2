//go:build amd64 && !tamago

package kprobe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/arch/x86/x86asm"

	"hachi/kprobe/probetest"
	"hachi/perf"
	"hachi/syscall/linux"
)

// probeSink keeps the targets linked in.
var probeSink int

func init() { probeSink = probetest.Caller(probetest.Branch(*probetest.AddressOfGlobal())) }

// insnAt finds the first instruction of fn for which pred holds.
func insnAt(t *testing.T, im *image, fn Symbol, pred func(x86asm.Inst) bool) insn {
	t.Helper()
	insns, err := decodeFunc(AMD64, fn, im.code(fn))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range insns {
		inst, _ := x86asm.Decode(in.code, 64)
		if pred(inst) {
			return in
		}
	}
	t.Fatalf("%s has no such instruction", fn.Name)
	return insn{}
}

// callTo finds fn's direct call to callee.
func callTo(t *testing.T, im *image, fn, callee Symbol) insn {
	t.Helper()
	insns, err := decodeFunc(AMD64, fn, im.code(fn))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range insns {
		inst, _ := x86asm.Decode(in.code, 64)
		if rel, ok := inst.Args[0].(x86asm.Rel); ok && inst.Op == x86asm.CALL &&
			int64(in.addr)+int64(in.length)+int64(rel) == int64(callee.Addr) {
			return in
		}
	}
	t.Fatalf("%s does not call %s", fn.Name, callee.Name)
	return insn{}
}

// stack is a fake stack for emulated calls and returns.
type stack struct{ words [64]uint64 }

func (s *stack) top() uint64 { return uint64(uintptr(unsafe.Pointer(&s.words[48]))) }

func TestX86Boundaries(t *testing.T) {
	im := selfImage(t)
	m, fm := newManager(t, AMD64, im, 1)
	st := im.symtab
	checked := 0
	for i := 0; i < st.Len() && checked < 400; i += 17 {
		fn := st.Symbol(i)
		if _, refused := Refused(fn, im.code(fn), AMD64); refused || fn.Size == 0 {
			continue
		}
		// A name may be shared (an assembly function and its ABI
		// wrapper, under -race sync/atomic's): by name, Place finds
		// the first, as Linux's kallsyms lookup does.
		if first, _ := st.Lookup(fn.Name); first.Addr != fn.Addr {
			continue
		}
		insns, err := decodeFunc(AMD64, fn, im.code(fn))
		if err != nil {
			continue // AVX-512 and such: x86asm does not know them
		}
		checked++
		// An offset inside a multi-byte instruction is EILSEQ; the
		// instruction's start is accepted (unless refused as such).
		for _, in := range insns {
			if in.length < 2 || in.act == actSlot && in.pcrelLen != 0 {
				continue
			}
			_, err := m.Place(perf.KprobeSpec{Symbol: fn.Name, Offset: in.addr + 1 - fn.Addr}, &recorder{})
			if !errors.Is(err, linux.EILSEQ) {
				t.Errorf("%s+%#x (inside %d-byte instruction at +%#x): %v, want EILSEQ",
					fn.Name, in.addr+1-fn.Addr, in.length, in.addr-fn.Addr, err)
			}
			p, err := m.Place(perf.KprobeSpec{Symbol: fn.Name, Offset: in.addr - fn.Addr}, &recorder{})
			if errors.Is(err, linux.EOPNOTSUPP) {
				break
			}
			if err != nil {
				t.Fatalf("%s+%#x: %v", fn.Name, in.addr-fn.Addr, err)
			}
			if b := fm.mem(in.addr, 1)[0]; b != int3 {
				t.Fatalf("%s+%#x: %#x after Place, want int3", fn.Name, in.addr-fn.Addr, b)
			}
			p.Unregister()
			if got := fm.mem(in.addr, in.length); string(got) != string(in.code) {
				t.Fatalf("%s+%#x: % x after Unregister, want % x", fn.Name, in.addr-fn.Addr, got, in.code)
			}
			break
		}
	}
	if checked < 100 {
		t.Fatalf("only %d functions checked", checked)
	}
}

// TestX86SlotRelocation builds the slot of every RIP-relative instruction
// of a sample of the binary's functions and checks that the relocated
// copy reaches the same address, then jumps back after the original.
func TestX86SlotRelocation(t *testing.T) {
	im := selfImage(t)
	st := im.symtab
	slot := im.textStart + uint64(len(im.text)) + 0x10000 // a slot beyond the text
	epilogue := []byte{0x65, 0xc6, 0x04, 0x25, 1, 2, 3, 4, 0}
	n := 0
	for i := 0; i < st.Len(); i += 3 {
		fn := st.Symbol(i)
		insns, err := decodeFunc(AMD64, fn, im.code(fn))
		if err != nil {
			continue
		}
		for _, in := range insns {
			if in.act != actSlot || in.pcrelLen == 0 {
				continue
			}
			code, err := AMD64.slot(&in, slot, epilogue)
			if err != nil {
				t.Fatalf("%s: %v", st.Format(in.addr), err)
			}
			orig, _ := x86asm.Decode(in.code, 64)
			moved, err := x86asm.Decode(code, 64)
			if err != nil || moved.Len != in.length || moved.Op != orig.Op {
				t.Fatalf("%s: slot % x decodes as %v", st.Format(in.addr), code, moved)
			}
			want := in.addr + uint64(in.length) + uint64(ripDisp(orig))
			got := slot + uint64(in.length) + uint64(ripDisp(moved))
			if got != want {
				t.Fatalf("%s (%v): slot reaches %#x, want %#x", st.Format(in.addr), orig, got, want)
			}
			if string(code[in.length:in.length+len(epilogue)]) != string(epilogue) {
				t.Fatalf("%s: no epilogue", st.Format(in.addr))
			}
			jmp := code[in.length+len(epilogue):]
			back := slot + uint64(len(code)) + uint64(int32(binary.LittleEndian.Uint32(jmp[1:])))
			if jmp[0] != 0xe9 || back != in.addr+uint64(in.length) {
				t.Fatalf("%s: slot returns to %#x", st.Format(in.addr), back)
			}
			n++
		}
	}
	if n < 100 {
		t.Fatalf("only %d RIP-relative instructions found", n)
	}
	t.Logf("%d RIP-relative instructions relocated", n)
}

// ripDisp is the displacement of an instruction's RIP-relative operand.
func ripDisp(inst x86asm.Inst) int64 {
	for _, a := range inst.Args {
		if m, ok := a.(x86asm.Mem); ok && m.Base == x86asm.RIP {
			return m.Disp
		}
	}
	return 0
}

func TestX86EmulateCall(t *testing.T) {
	im := selfImage(t)
	m, _ := newManager(t, AMD64, im, 1)
	fn := mustSymbol(t, im.symtab, "hachi/kprobe/probetest.Caller")
	callee := mustSymbol(t, im.symtab, "hachi/kprobe/probetest.Target")
	// The call to Target (under -race, calls to the race runtime come
	// first).
	call := callTo(t, im, fn, callee)
	r := &recorder{}
	p, err := m.Place(perf.KprobeSpec{Addr: call.addr}, r)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Unregister()
	var s stack
	regs := linux.PtRegsAMD64{Ip: call.addr + 1, Sp: s.top(), Ax: 5}
	if !m.Trap(0, call.addr, unsafe.Pointer(&regs)) {
		t.Fatal("Trap did not claim its breakpoint")
	}
	if regs.Ip != callee.Addr || regs.Sp != s.top()-8 || *word(regs.Sp) != call.addr+uint64(call.length) {
		t.Errorf("after CALL: ip %#x sp %#x [sp] %#x; want ip %#x sp %#x [sp] %#x", regs.Ip, regs.Sp,
			*word(regs.Sp), callee.Addr, s.top()-8, call.addr+uint64(call.length))
	}
	seen := (*linux.PtRegsAMD64)(unsafe.Pointer(&r.last))
	if r.hits.Load() != 1 || seen.Ax != 5 || seen.Ip != call.addr+1 || r.ip != call.addr+1 {
		t.Errorf("handler saw %d hits, ax %d ip %#x (regs.IP %#x)", r.hits.Load(), seen.Ax, seen.Ip, r.ip)
	}
}

func TestX86EmulateBranch(t *testing.T) {
	im := selfImage(t)
	m, _ := newManager(t, AMD64, im, 1)
	fn := mustSymbol(t, im.symtab, "hachi/kprobe/probetest.Branch")
	jcc := insnAt(t, im, fn, func(i x86asm.Inst) bool { _, ok := x86Conds[i.Op]; return ok })
	p, err := m.Place(perf.KprobeSpec{Addr: jcc.addr}, &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Unregister()
	next := jcc.addr + uint64(jcc.length)
	taken, notTaken := 0, 0
	for _, flags := range []uint64{0, flagZF, flagSF, flagOF, flagCF, flagSF | flagOF, flagZF | flagCF} {
		regs := linux.PtRegsAMD64{Ip: jcc.addr + 1, Flags: flags}
		m.Trap(0, jcc.addr, unsafe.Pointer(&regs))
		want := next
		if x86Taken(jcc.cond, unsafe.Pointer(&regs)) {
			want = jcc.target
			taken++
		} else {
			notTaken++
		}
		if regs.Ip != want {
			t.Errorf("flags %#x: ip %#x, want %#x", flags, regs.Ip, want)
		}
	}
	if taken == 0 || notTaken == 0 {
		t.Errorf("the branch was taken %d times, not taken %d", taken, notTaken)
	}
}

func TestX86Condition(t *testing.T) {
	tests := []struct {
		cond  uint8
		flags uint64
		want  bool
	}{
		{condE, flagZF, true}, {condNE, flagZF, false}, {condL, flagSF, true}, {condL, flagSF | flagOF, false},
		{condGE, flagOF, false}, {condLE, flagZF, true}, {condG, 0, true}, {condG, flagZF, false},
		{condA, 0, true}, {condA, flagCF, false}, {condBE, flagCF, true}, {condB, flagCF, true},
		{condAE, 0, true}, {condS, flagSF, true}, {condNS, flagSF, false}, {condO, flagOF, true},
		{condNO, 0, true}, {condP, flagPF, true}, {condNP, flagPF, false},
	}
	for _, tt := range tests {
		regs := linux.PtRegsAMD64{Flags: tt.flags}
		if got := x86Taken(tt.cond, unsafe.Pointer(&regs)); got != tt.want {
			t.Errorf("cond %d flags %#x: %v, want %v", tt.cond, tt.flags, got, tt.want)
		}
	}
}

// TestX86ReturnProbe places a return probe on a function with a single
// RET and checks that the handler sees the state after the return.
func TestX86ReturnProbe(t *testing.T) {
	im := selfImage(t)
	m, fm := newManager(t, AMD64, im, 1)
	fn := mustSymbol(t, im.symtab, "hachi/kprobe/probetest.Target")
	if _, err := m.Place(perf.KprobeSpec{Symbol: fn.Name, Offset: 1, Retprobe: true}, &recorder{}); !errors.Is(err, linux.EINVAL) {
		t.Errorf("return probe at an offset: %v, want EINVAL", err)
	}
	r := &recorder{}
	p, err := m.Place(perf.KprobeSpec{Symbol: fn.Name, Retprobe: true}, r)
	if err != nil {
		t.Fatal(err)
	}
	if p.Addr() != fn.Addr || len(p.sites) == 0 {
		t.Fatalf("return probe at %#x with %d sites", p.Addr(), len(p.sites))
	}
	for _, s := range p.sites {
		if !s.in.ret || fm.mem(s.addr, 1)[0] != int3 {
			t.Fatalf("site %s is not a patched RET", im.symtab.Format(s.addr))
		}
	}
	var s stack
	*word(s.top()) = 0x1234567
	ret := p.sites[0].addr
	regs := linux.PtRegsAMD64{Ip: ret + 1, Sp: s.top(), Ax: 42}
	m.Trap(0, ret, unsafe.Pointer(&regs))
	seen := (*linux.PtRegsAMD64)(unsafe.Pointer(&r.last))
	if regs.Ip != 0x1234567 || regs.Sp != s.top()+8 {
		t.Errorf("after RET: ip %#x sp %#x", regs.Ip, regs.Sp)
	}
	if r.hits.Load() != 1 || seen.Ax != 42 || r.ip != 0x1234567 {
		t.Errorf("handler: %d hits, ax %d, ip %#x", r.hits.Load(), seen.Ax, r.ip)
	}
	p.Unregister()
}

func TestX86SlotResume(t *testing.T) {
	im := selfImage(t)
	m, fm := newManager(t, AMD64, im, 2)
	fn := mustSymbol(t, im.symtab, "hachi/kprobe/probetest.AddressOfGlobal")
	lea := insnAt(t, im, fn, func(i x86asm.Inst) bool { return ripDisp(i) != 0 })
	p, err := m.Place(perf.KprobeSpec{Addr: lea.addr}, &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	regs := linux.PtRegsAMD64{Ip: lea.addr + 1}
	m.Trap(1, lea.addr, unsafe.Pointer(&regs))
	slot := p.sites[0].slotAddr
	if regs.Ip != slot || fm.SlotIdle(1) || !fm.SlotIdle(0) {
		t.Fatalf("ip %#x (slot %#x), CPU 1 in slot %v", regs.Ip, slot, !fm.SlotIdle(1))
	}
	code, _ := x86asm.Decode(fm.mem(slot, slotSize), 64)
	if got := slot + uint64(code.Len) + uint64(ripDisp(code)); got != addrOfInt(&probetest.Global) {
		t.Errorf("the slot's LEA reaches %#x, probeGlobalVar is at %#x", got, addrOfInt(&probetest.Global))
	}
	// Removal waits until CPU 1 has left the slot.
	done := make(chan struct{})
	go func() { p.Unregister(); close(done) }()
	select {
	case <-done:
		t.Fatal("Unregister returned while CPU 1 was in the slot")
	case <-time.After(50 * time.Millisecond):
	}
	fm.leaveSlot(1)
	<-done
}

func addrOfInt(p *int) uint64 { return uint64(uintptr(unsafe.Pointer(p))) }

// TestMissedInHandler: a probe hit while a handler runs on the same CPU
// is counted as missed and its handler does not run; on another CPU it
// runs.
func TestMissedInHandler(t *testing.T) {
	im := selfImage(t)
	m, fm := newManager(t, AMD64, im, 2)
	inner := &recorder{}
	innerFn := mustSymbol(t, im.symtab, "hachi/kprobe/probetest.Branch")
	pi, err := m.Place(perf.KprobeSpec{Symbol: innerFn.Name}, inner)
	if err != nil {
		t.Fatal(err)
	}
	defer pi.Unregister()
	outer := &recorder{}
	outer.onHit = func(cpu int, _ *perf.Regs) {
		for _, c := range []int{cpu, 1 - cpu} {
			regs := linux.PtRegsAMD64{Ip: innerFn.Addr + 1}
			if !m.Trap(c, innerFn.Addr, unsafe.Pointer(&regs)) {
				t.Error("inner trap not claimed")
			}
		}
	}
	po, err := m.Place(perf.KprobeSpec{Symbol: "hachi/kprobe/probetest.Caller"}, outer)
	if err != nil {
		t.Fatal(err)
	}
	defer po.Unregister()
	regs := linux.PtRegsAMD64{Ip: po.Addr() + 1}
	m.Trap(0, po.Addr(), unsafe.Pointer(&regs))
	fm.leaveSlot(0)
	fm.leaveSlot(1)
	if outer.hits.Load() != 1 || pi.Missed() != 1 || pi.Hits() != 1 || inner.hits.Load() != 1 {
		t.Errorf("outer %d hits; inner %d hits, %d missed (want 1 and 1: one on the other CPU)",
			outer.hits.Load(), pi.Hits(), pi.Missed())
	}
}

// TestUnregisterWaitsForHandler: Unregister does not return while a
// handler of the probe runs, and the handler is not called afterwards.
func TestUnregisterWaitsForHandler(t *testing.T) {
	im := selfImage(t)
	m, fm := newManager(t, AMD64, im, 2)
	release := make(chan struct{})
	entered := make(chan struct{})
	r := &recorder{onHit: func(int, *perf.Regs) { close(entered); <-release }}
	p, err := m.Place(perf.KprobeSpec{Symbol: "hachi/kprobe/probetest.Branch"}, r)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		regs := linux.PtRegsAMD64{Ip: p.Addr() + 1}
		m.Trap(1, p.Addr(), unsafe.Pointer(&regs))
		fm.leaveSlot(1)
	})
	<-entered
	done := make(chan struct{})
	go func() { p.Unregister(); close(done) }()
	select {
	case <-done:
		t.Fatal("Unregister returned while the handler ran")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-done
	wg.Wait()
	// The breakpoint is gone: a CPU that trapped on it before the
	// removal carries out the original instruction (in the removed
	// site's slot), without the handler.
	regs := linux.PtRegsAMD64{Ip: p.Addr() + 1}
	if !m.Trap(0, p.Addr(), unsafe.Pointer(&regs)) || regs.Ip != p.sites[0].slotAddr || r.hits.Load() != 1 {
		t.Errorf("stale breakpoint: ip %#x (slot %#x), %d hits", regs.Ip, p.sites[0].slotAddr, r.hits.Load())
	}
	if fm.refetches.Load() != 1 {
		t.Errorf("the stale breakpoint's CPU refetched %d times, want 1", fm.refetches.Load())
	}
	fm.leaveSlot(0)
}

func TestForeignBreakpoint(t *testing.T) {
	im := selfImage(t)
	m, fm := newManager(t, AMD64, im, 1)
	fn := mustSymbol(t, im.symtab, "hachi/kprobe/probetest.Branch")
	fm.mem(fn.Addr, 1)[0] = int3 // someone else's breakpoint
	regs := linux.PtRegsAMD64{Ip: fn.Addr + 1}
	if m.Trap(0, fn.Addr, unsafe.Pointer(&regs)) {
		t.Error("Trap claimed a breakpoint that is not a probe's")
	}
}

type nopHandler struct{}

func (nopHandler) Hit(int, *perf.Regs) {}

func TestTrapDoesNotAllocate(t *testing.T) {
	im := selfImage(t)
	m, fm := newManager(t, AMD64, im, 1)
	fn := mustSymbol(t, im.symtab, "hachi/kprobe/probetest.Caller")
	p, err := m.Place(perf.KprobeSpec{Symbol: fn.Name}, nopHandler{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Unregister()
	regs := linux.PtRegsAMD64{}
	if n := testing.AllocsPerRun(1000, func() {
		regs.Ip = fn.Addr + 1
		m.Trap(0, fn.Addr, unsafe.Pointer(&regs))
		fm.leaveSlot(0)
	}); n != 0 {
		t.Errorf("Trap allocates %v times per hit", n)
	}
}

// TestStaleTrapDoesNotAllocate: a breakpoint removed while a CPU traps on
// it is served without allocating (the path once allocated a buffer,
// found by TestGuestPatchWhileRunning).
func TestStaleTrapDoesNotAllocate(t *testing.T) {
	im := selfImage(t)
	m, fm := newManager(t, AMD64, im, 1)
	fn := mustSymbol(t, im.symtab, "hachi/kprobe/probetest.Caller")
	p, err := m.Place(perf.KprobeSpec{Symbol: fn.Name}, nopHandler{})
	if err != nil {
		t.Fatal(err)
	}
	p.Unregister()
	regs := linux.PtRegsAMD64{}
	if n := testing.AllocsPerRun(1000, func() {
		regs.Ip = fn.Addr + 1
		if !m.Trap(0, fn.Addr, unsafe.Pointer(&regs)) || regs.Ip != p.sites[0].slotAddr {
			t.Fatal("stale breakpoint not resumed in its slot")
		}
		fm.leaveSlot(0)
	}); n != 0 {
		t.Errorf("a stale breakpoint allocates %v times", n)
	}
}

func TestRegisterErrors(t *testing.T) {
	im := selfImage(t)
	m, _ := newManager(t, AMD64, im, 1)
	fn := mustSymbol(t, im.symtab, "hachi/kprobe/probetest.Caller")
	start, end := im.symtab.Text()
	tests := []struct {
		name string
		spec perf.KprobeSpec
		want error
	}{
		{"neither symbol nor address", perf.KprobeSpec{}, linux.EINVAL},
		{"both", perf.KprobeSpec{Symbol: fn.Name, Addr: fn.Addr}, linux.EINVAL},
		{"unknown symbol", perf.KprobeSpec{Symbol: "no_such_function"}, linux.ENOENT},
		{"outside the text", perf.KprobeSpec{Addr: end + 0x100000}, linux.EINVAL},
		{"below the text", perf.KprobeSpec{Addr: start - 1}, linux.EINVAL},
		{"return probe at an offset", perf.KprobeSpec{Symbol: fn.Name, Offset: 4, Retprobe: true}, linux.EINVAL},
		{"runtime.morestack", perf.KprobeSpec{Symbol: "runtime.morestack"}, linux.EINVAL},
		{"runtime.gogo", perf.KprobeSpec{Symbol: "runtime.gogo"}, linux.EINVAL},
		{"runtime.systemstack", perf.KprobeSpec{Symbol: "runtime.systemstack"}, linux.EINVAL},
		{"runtime.lock2", perf.KprobeSpec{Symbol: "runtime.lock2"}, linux.EINVAL},
		{"runtime.procyield (nosplit)", perf.KprobeSpec{Symbol: "runtime.procyield"}, linux.EINVAL},
		{"runtime.memmove (nosplit)", perf.KprobeSpec{Symbol: "runtime.memmove"}, linux.EINVAL},
		{"the dispatcher", perf.KprobeSpec{Symbol: "hachi/kprobe.(*Manager).Trap"}, linux.EINVAL},
		{"the VM", perf.KprobeSpec{Symbol: "hachi/bpf/vm.(*Env).Run"}, linux.EINVAL},
	}
	for _, tt := range tests {
		if _, ok := im.symtab.Lookup(tt.spec.Symbol); tt.spec.Symbol != "" && tt.want != linux.ENOENT && !ok {
			continue // not linked into the test binary
		}
		if _, err := m.Place(tt.spec, nopHandler{}); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	for _, name := range []string{"runtime.mallocgc", "hachi/kprobe/probetest.Branch", "fmt.Sprintf"} {
		p, err := m.Place(perf.KprobeSpec{Symbol: name}, nopHandler{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		p.Unregister()
	}
}

// FuzzX86Slot: any bytes decode, are checked and, when they run out of
// line, relocate into a slot whose copy decodes to the same operation
// reaching the same RIP-relative address; emulation never panics.
func FuzzX86Slot(f *testing.F) {
	for _, seed := range [][]byte{
		{0x48, 0x8d, 0x05, 0x10, 0x00, 0x00, 0x00}, // LEAQ 0x10(RIP), AX
		{0xe8, 0, 0, 0, 0},                         // CALL rel32
		{0xff, 0x14, 0xc5, 0, 0, 0, 0},             // CALL [RAX*8]
		{0x74, 0x05},                               // JE +5
		{0xc2, 0x08, 0x00},                         // RET 8
		{0xe2, 0xfe},                               // LOOP
		{0xcc},
	} {
		f.Add(seed)
	}
	const addr, slot = 0x10020000, 0x10900000
	f.Fuzz(func(t *testing.T, code []byte) {
		in, err := AMD64.decode(code, addr)
		if err != nil || AMD64.check(&in) != nil {
			return
		}
		// Only complete instructions: code in a function is followed by
		// more code, and x86asm reads a truncated one differently.
		if padded, err := AMD64.decode(append(append([]byte(nil), in.code...), 0x90, 0x90, 0x90, 0x90), addr); err != nil || padded.length != in.length {
			return
		}
		if in.act != actSlot {
			var frame [32]uint64
			var stack [16]uint64
			frame[19] = uint64(uintptr(unsafe.Pointer(&stack[8]))) // sp
			switch in.act {
			case actJumpInd, actCallInd:
				if in.op.mem {
					return // would read arbitrary memory
				}
			}
			AMD64.emulate(&in, unsafe.Pointer(&frame))
			return
		}
		b, err := AMD64.slot(&in, slot, []byte{0x90})
		if err != nil {
			return
		}
		orig, _ := x86asm.Decode(in.code, 64)
		moved, err := x86asm.Decode(b, 64)
		if err != nil || moved.Op != orig.Op || moved.Len != in.length {
			t.Fatalf("% x relocated to % x: %v", in.code, b, moved)
		}
		if got, want := slot+uint64(in.length)+uint64(ripDisp(moved)), addr+uint64(in.length)+uint64(ripDisp(orig)); in.pcrelLen != 0 && got != want {
			t.Fatalf("% x: slot reaches %#x, want %#x", in.code, got, want)
		}
		if !bytes.HasPrefix(b[in.length:], []byte{0x90, 0xe9}) {
			t.Fatalf("% x: slot % x does not end with the epilogue and a jump", in.code, b)
		}
	})
}
