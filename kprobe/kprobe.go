package kprobe

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"hachi/perf"
	"hachi/syscall/linux"
)

// Machine is what the probe machinery needs from the architecture
// package: the kernel's code, a way to change it that every CPU sees, and
// executable memory for the out-of-line slots.
type Machine interface {
	// NumCPU is the number of CPUs that may hit probes; CPU numbers
	// passed to Trap are below it.
	NumCPU() int
	// ReadText copies the kernel's code at addr into b.
	ReadText(addr uint64, b []byte)
	// Poke writes b at addr (code or a slot) and returns once every CPU
	// fetches the new bytes (Linux's text_poke and text_poke_sync).
	Poke(addr uint64, b []byte)
	// Slots is executable memory that is never moved or freed, for the
	// out-of-line slots.
	Slots() []byte
	// SlotEpilogue is code a slot runs after the displaced instruction,
	// before returning to the probed code (x86: it clears the CPU's
	// in-slot mark without touching flags or registers).
	SlotEpilogue() []byte
	// EnterSlot marks cpu, from its trap, as about to run a slot;
	// SlotIdle reports whether cpu has left every slot it was sent to.
	EnterSlot(cpu int)
	SlotIdle(cpu int) bool
	// Refetch runs in the trap of a CPU that hit a breakpoint already
	// removed (its bytes are back in memory), before it resumes at
	// addr or at the slot carrying addr's instruction out: it makes the
	// CPU's later fetches at addr see memory. It must not allocate.
	Refetch(addr uint64)
}

// slotSize is the room of one slot: the longest x86 instruction (15
// bytes), the epilogue and a 5-byte jump.
const slotSize = 32

// maxFrame bounds the architectures' register frames (pt_regs).
const maxFrame = 512

// Manager places and removes kprobes and handles their breakpoints. It
// implements perf.Kprober.
type Manager struct {
	isa  isa
	mach Machine
	syms *Symtab

	mu sync.Mutex // serialises Register and Unregister
	// sites are the placed breakpoints by address, replaced whole on
	// change: the trap side reads them without a lock.
	sites     atomic.Pointer[[]*site]
	slotsFree []int
	// removed are the last sites removed, kept with their slots: a CPU
	// that trapped on a breakpoint just removed (or, under QEMU's
	// multi-threaded TCG, keeps fetching it for a while after the
	// removal was synchronised) carries the instruction out as the site
	// did instead of re-executing the address, so it always makes
	// progress. Replaced whole on change, like sites.
	removed atomic.Pointer[[]*site]
	cpus    []cpuState
}

// cpuState is one CPU's probe state. Only that CPU writes it from its
// traps, but busy and stepping, which removal reads from other CPUs.
type cpuState struct {
	// busy counts the CPU's breakpoint traps in flight: removal waits
	// for it to be seen at zero.
	busy atomic.Int32
	// depth counts the probe handlers running on the CPU: a hit while
	// one runs is a miss (Linux's kprobe_running).
	depth int32
	// stepping is, on an architecture whose slots end in a breakpoint,
	// the probe address whose slot the CPU was sent to run (0: none);
	// stepEnd is that breakpoint's address, stepNext where to go then.
	stepping atomic.Uint64
	stepEnd  uint64
	stepNext uint64
	// frame is the copy of the trapped registers handlers see through
	// regs (regs.Frame points to it for good, so that no pointer is
	// stored in trap context: no write barrier runs there).
	frame [maxFrame / 8]uint64
	regs  perf.Regs
	// text holds the bytes at a breakpoint no probe claims.
	text [4]byte
	_    [64]byte
}

// site is one placed breakpoint: the instruction it replaced and the
// probes on it.
type site struct {
	addr uint64
	in   insn
	// fn is the function the site is in; orig the bytes the breakpoint
	// replaced.
	fn   Symbol
	orig []byte
	slot int // slot index, -1 when the instruction is emulated
	// slotAddr is the slot's address.
	slotAddr uint64
	probes   atomic.Pointer[[]*Probe]
}

// Probe is a registered kprobe or kretprobe.
type Probe struct {
	m    *Manager
	addr uint64 // the probed address (a return probe: the function's entry)
	fn   Symbol
	ret  bool
	h    perf.KprobeHandler
	// sites are the breakpoints of the probe: one for a kprobe, each
	// return and tail jump of the function for a kretprobe.
	sites []*site
	// hits counts the handler's runs; missed the hits it missed
	// (Linux's nmissed): hit while a handler ran on the same CPU, or,
	// for a return probe, a return through a tail jump.
	hits, missed atomic.Uint64
	gone         bool // under m.mu
}

var _ perf.Kprober = (*Manager)(nil)

// New makes the kprobe manager of a kernel running the instruction set
// of arch (AMD64 or RISCV64) on mach, with the kernel's symbol table.
func New(arch isa, mach Machine, syms *Symtab) *Manager {
	m := &Manager{isa: arch, mach: mach, syms: syms, cpus: make([]cpuState, mach.NumCPU())}
	for i := range m.cpus {
		c := &m.cpus[i]
		c.regs = perf.Regs{Frame: unsafe.Pointer(&c.frame), Size: arch.frameSize()}
	}
	for i := len(mach.Slots())/slotSize - 1; i >= 0; i-- {
		m.slotsFree = append(m.slotsFree, i)
	}
	empty := []*site{}
	m.sites.Store(&empty)
	m.removed.Store(&empty)
	return m
}

// Symbols is the symbol table probes are placed by.
func (m *Manager) Symbols() *Symtab { return m.syms }

// Addr implements perf.Kprobe: the probed address.
func (p *Probe) Addr() uint64 { return p.addr }

// Function is the probed function.
func (p *Probe) Function() Symbol { return p.fn }

// Hits is how many times the handler ran.
func (p *Probe) Hits() uint64 { return p.hits.Load() }

// Missed is Linux's nmissed: hits whose handler did not run because a
// handler was running on the CPU, and returns through tail jumps (return
// probes).
func (p *Probe) Missed() uint64 { return p.missed.Load() }

// Register implements perf.Kprober (register_kprobe, register_kretprobe).
func (m *Manager) Register(spec perf.KprobeSpec, h perf.KprobeHandler) (perf.Kprobe, error) {
	p, err := m.Place(spec, h)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Place is Register returning the Probe itself.
func (m *Manager) Place(spec perf.KprobeSpec, h perf.KprobeHandler) (*Probe, error) {
	addr, fn, err := m.resolve(spec)
	if err != nil {
		return nil, err
	}
	if _, refused := Refused(fn, m.funcCode(fn), m.isa); refused {
		return nil, linux.EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	code := m.originalCode(fn)
	insns, err := decodeFunc(m.isa, fn, code)
	if err != nil {
		return nil, err
	}
	p := &Probe{m: m, addr: addr, fn: fn, ret: spec.Retprobe, h: h}
	var addrs []uint64
	if spec.Retprobe {
		for i := range insns {
			in := &insns[i]
			if in.ret || m.mayLeave(fn, in) {
				addrs = append(addrs, in.addr)
			}
		}
	} else {
		i := findInsn(insns, addr)
		if i < 0 {
			return nil, linux.EILSEQ
		}
		addrs = append(addrs, addr)
	}
	// Every site is prepared before any breakpoint is written, so that
	// a failure leaves nothing behind.
	var fresh []*site
	for _, a := range addrs {
		if s := m.lookup(a); s != nil {
			p.sites = append(p.sites, s)
			continue
		}
		s, err := m.prepare(fn, insns[findInsn(insns, a)])
		if err != nil {
			m.freeSites(fresh)
			return nil, err
		}
		fresh = append(fresh, s)
		p.sites = append(p.sites, s)
	}
	for _, s := range p.sites {
		addProbe(s, p)
	}
	if len(fresh) > 0 {
		m.publish(fresh, nil)
		for _, s := range fresh {
			m.mach.Poke(s.addr, m.isa.breakpoint(s.in.length))
		}
	}
	return p, nil
}

// Instructions returns the addresses of fn's instructions as the probe
// machinery decodes them: where a kprobe may be placed in fn.
func (m *Manager) Instructions(fn Symbol) ([]uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	insns, err := decodeFunc(m.isa, fn, m.originalCode(fn))
	if err != nil {
		return nil, err
	}
	addrs := make([]uint64, len(insns))
	for i := range insns {
		addrs[i] = insns[i].addr
	}
	return addrs, nil
}

// resolve turns a spec into the address to probe and its function, with
// Linux's errors (kprobe_addr, check_kprobe_address_safe,
// kprobe_on_func_entry).
func (m *Manager) resolve(spec perf.KprobeSpec) (uint64, Symbol, error) {
	if spec.Symbol == "" && spec.Addr == 0 || spec.Symbol != "" && spec.Addr != 0 {
		return 0, Symbol{}, linux.EINVAL
	}
	addr := spec.Addr
	if spec.Symbol != "" {
		sym, ok := m.syms.Lookup(spec.Symbol)
		if !ok {
			return 0, Symbol{}, linux.ENOENT
		}
		addr = sym.Addr + spec.Offset
		if addr < sym.Addr {
			return 0, Symbol{}, linux.EINVAL
		}
	}
	fn, off, ok := m.syms.LookupAddr(addr)
	if !ok {
		if start, end := m.syms.Text(); addr >= start && addr < end {
			return 0, Symbol{}, linux.EILSEQ // padding between functions
		}
		return 0, Symbol{}, linux.EINVAL // not kernel text
	}
	if spec.Retprobe && off != 0 {
		return 0, Symbol{}, linux.EINVAL
	}
	return addr, fn, nil
}

// funcCode is fn's code as it is in memory (with breakpoints).
func (m *Manager) funcCode(fn Symbol) []byte {
	b := make([]byte, fn.Size)
	m.mach.ReadText(fn.Addr, b)
	return b
}

// originalCode is fn's code without the breakpoints placed in it.
// Called with m.mu held.
func (m *Manager) originalCode(fn Symbol) []byte {
	b := m.funcCode(fn)
	for _, s := range *m.sites.Load() {
		if s.addr >= fn.Addr && s.addr < fn.End() {
			copy(b[s.addr-fn.Addr:], s.orig)
		}
	}
	return b
}

// decodeFunc decodes fn from its entry: the instructions, in order. An
// undecodable instruction is EILSEQ, as can_probe's decoding from the
// symbol's start.
func decodeFunc(arch isa, fn Symbol, code []byte) ([]insn, error) {
	var insns []insn
	for off := 0; off < len(code); {
		in, err := arch.decode(code[off:], fn.Addr+uint64(off))
		if err != nil {
			return nil, err
		}
		insns = append(insns, in)
		off += in.length
	}
	return insns, nil
}

// findInsn returns the index of the instruction at addr, -1 if addr is
// not an instruction boundary.
func findInsn(insns []insn, addr uint64) int {
	lo, hi := 0, len(insns)
	for lo < hi {
		mid := (lo + hi) / 2
		switch a := insns[mid].addr; {
		case a == addr:
			return mid
		case a < addr:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return -1
}

// mayLeave reports a jump that may leave fn: a direct jump out of it (a
// tail call), or an indirect one (a tail call or a jump table: the trap
// tells).
func (m *Manager) mayLeave(fn Symbol, in *insn) bool {
	switch in.act {
	case actJump, actBranch:
		return in.target < fn.Addr || in.target >= fn.End()
	case actJumpInd:
		return !in.ret
	}
	return false
}

// prepare checks the instruction and builds its site and slot.
func (m *Manager) prepare(fn Symbol, in insn) (*site, error) {
	if err := m.isa.check(&in); err != nil {
		return nil, err
	}
	bp := m.isa.breakpoint(in.length)
	s := &site{addr: in.addr, in: in, fn: fn, orig: append([]byte(nil), in.code[:len(bp)]...), slot: -1}
	if in.act != actSlot {
		return s, nil
	}
	if len(m.slotsFree) == 0 {
		return nil, linux.ENOMEM
	}
	idx := m.slotsFree[len(m.slotsFree)-1]
	slots := m.mach.Slots()
	addr := uint64(uintptr(unsafe.Pointer(&slots[idx*slotSize])))
	code, err := m.isa.slot(&s.in, addr, m.mach.SlotEpilogue())
	if err != nil {
		return nil, err
	}
	if len(code) > slotSize {
		return nil, linux.EOPNOTSUPP
	}
	m.slotsFree = m.slotsFree[:len(m.slotsFree)-1]
	s.slot, s.slotAddr = idx, addr
	m.mach.Poke(addr, code)
	return s, nil
}

// freeSites returns the slots of sites that are no longer reachable.
func (m *Manager) freeSites(sites []*site) {
	for _, s := range sites {
		if s.slot >= 0 {
			m.slotsFree = append(m.slotsFree, s.slot)
			s.slot = -1
		}
	}
}

func addProbe(s *site, p *Probe) {
	var cur []*Probe
	if l := s.probes.Load(); l != nil {
		cur = *l
	}
	next := append(append([]*Probe(nil), cur...), p)
	s.probes.Store(&next)
}

// removeProbe takes p off s and reports whether s has no probe left.
func removeProbe(s *site, p *Probe) bool {
	var next []*Probe
	for _, q := range *s.probes.Load() {
		if q != p {
			next = append(next, q)
		}
	}
	s.probes.Store(&next)
	return len(next) == 0
}

// publish replaces the trap side's site list: add joins it, drop leaves.
func (m *Manager) publish(add, drop []*site) {
	cur := *m.sites.Load()
	next := make([]*site, 0, len(cur)+len(add))
	for _, s := range cur {
		keep := true
		for _, d := range drop {
			keep = keep && s != d
		}
		if keep {
			next = append(next, s)
		}
	}
	for _, s := range add {
		i := len(next)
		next = append(next, s)
		for i > 0 && next[i-1].addr > s.addr {
			next[i], next[i-1] = next[i-1], next[i]
			i--
		}
	}
	m.sites.Store(&next)
}

// lookup finds the site at addr. It runs in trap context: a binary search
// on the published list, no allocation.
func (m *Manager) lookup(addr uint64) *site {
	l := *m.sites.Load()
	lo, hi := 0, len(l)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		switch a := l[mid].addr; {
		case a == addr:
			return l[mid]
		case a < addr:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return nil
}

// Unregister implements perf.Kprobe (unregister_kprobe): the breakpoints
// only p used are removed, and once every CPU has been seen outside the
// probe machinery (no breakpoint trap in flight, no slot being run: Linux
// waits with synchronize_rcu), the handler cannot run again.
func (p *Probe) Unregister() {
	m := p.m
	m.mu.Lock()
	if p.gone {
		m.mu.Unlock()
		return
	}
	p.gone = true
	var drop []*site
	for _, s := range p.sites {
		if removeProbe(s, p) {
			drop = append(drop, s)
		}
	}
	for _, s := range drop {
		m.mach.Poke(s.addr, s.orig)
	}
	m.publish(nil, drop)
	// The dropped sites join the removed ones; the oldest beyond
	// maxRemoved leave them and give back their slots.
	removed := append(append([]*site(nil), drop...), *m.removed.Load()...)
	var evicted []*site
	if len(removed) > maxRemoved {
		removed, evicted = removed[:maxRemoved], removed[maxRemoved:]
	}
	m.removed.Store(&removed)
	m.synchronize(append(drop, evicted...))
	m.freeSites(evicted)
	m.mu.Unlock()
}

// maxRemoved bounds the removed sites kept with their slots.
const maxRemoved = 64

// synchronize waits until no CPU can still be using the dropped sites or
// p's handler: each CPU is seen with no trap in flight, not stepping one
// of them and out of every slot. A trap that begins later finds neither
// the sites (unpublished before) nor the breakpoints (removed before).
func (m *Manager) synchronize(drop []*site) {
	for i := range m.cpus {
		c := &m.cpus[i]
		for spins := 0; ; spins++ {
			idle := c.busy.Load() == 0 && m.mach.SlotIdle(i)
			if s := c.stepping.Load(); s != 0 {
				for _, d := range drop {
					idle = idle && d.addr != s
				}
			}
			if idle {
				break
			}
			if spins < 100 {
				runtime.Gosched()
			} else {
				time.Sleep(10 * time.Microsecond)
			}
		}
	}
}

// Trap handles a breakpoint trap on cpu at addr (the breakpoint's
// address; frame holds the trapped registers as the architecture's
// pt_regs, its pc as the trap left it). It reports false for a breakpoint
// that is not a probe's: the architecture's own handler must deal with
// it. It runs in trap context: it allocates nothing, takes no lock, stores
// no pointer.
func (m *Manager) Trap(cpu int, addr uint64, frame unsafe.Pointer) bool {
	if cpu < 0 || cpu >= len(m.cpus) {
		return false
	}
	c := &m.cpus[cpu]
	c.busy.Add(1)
	ok := m.trap(c, cpu, addr, frame)
	c.busy.Add(-1)
	return ok
}

// EnterHandler and ExitHandler bracket, on cpu, the handler of another
// trap that runs in trap context (an architecture's sampling timer
// interrupt): probes hit in between count as missed and run no handler,
// as hits inside a probe's handler do: such a hit is a trap nested in a
// trap, whose stack the architectures keep small (see arch/amd64). They
// are called in that trap's context on cpu: traps on one CPU nest, they
// do not interleave, so the count stays the CPU's own.
func (m *Manager) EnterHandler(cpu int) {
	if cpu >= 0 && cpu < len(m.cpus) {
		m.cpus[cpu].depth++
	}
}

// ExitHandler ends what EnterHandler began.
func (m *Manager) ExitHandler(cpu int) {
	if cpu >= 0 && cpu < len(m.cpus) {
		m.cpus[cpu].depth--
	}
}

func (m *Manager) trap(c *cpuState, cpu int, addr uint64, frame unsafe.Pointer) bool {
	if c.stepping.Load() != 0 && addr == c.stepEnd {
		// The slot's closing breakpoint: on to the probed instruction's
		// successor.
		m.isa.setIP(frame, c.stepNext)
		c.stepping.Store(0)
		return true
	}
	s := m.lookup(addr)
	if s == nil {
		// A breakpoint removed after this CPU hit it (its bytes are
		// back): the original instruction is carried out, like
		// Linux's kprobe_int3_handler, through the removed site when
		// it is still known (see Manager.removed), else by resuming at
		// the address. c.text, not a local array: a local passed to
		// an interface method would be moved to the heap, an
		// allocation in trap context (found by
		// TestGuestPatchWhileRunning).
		m.mach.ReadText(addr, c.text[:])
		if m.isa.isBreakpoint(c.text[:]) {
			return false
		}
		m.mach.Refetch(addr)
		if r := lookupIn(*m.removed.Load(), addr); r != nil {
			m.resume(c, cpu, r, frame)
			return true
		}
		m.isa.setIP(frame, addr)
		return true
	}
	probes := *s.probes.Load()
	in := &s.in
	for _, p := range probes {
		if !p.ret {
			m.run(c, cpu, p, frame)
		}
	}
	var leaving bool
	if in.act != actRet && !in.ret && (in.act == actJump || in.act == actBranch || in.act == actJumpInd) {
		t := m.isa.target(in, frame)
		leaving = t < s.fn.Addr || t >= s.fn.End()
	}
	m.resume(c, cpu, s, frame)
	for _, p := range probes {
		switch {
		case !p.ret:
		case in.ret:
			m.run(c, cpu, p, frame)
		case leaving && m.isa.ip(frame) != addr+uint64(in.length):
			p.missed.Add(1) // a tail call: the return is not seen
		}
	}
	return true
}

// resume carries out the probed instruction of s: out of line in its
// slot, or emulated on frame.
func (m *Manager) resume(c *cpuState, cpu int, s *site, frame unsafe.Pointer) {
	in := &s.in
	if in.act != actSlot {
		m.isa.setIP(frame, m.isa.emulate(in, frame))
		return
	}
	if m.isa.slotReturns() {
		m.mach.EnterSlot(cpu)
	} else {
		c.stepEnd = s.slotAddr + uint64(in.length)
		c.stepNext = s.addr + uint64(in.length)
		c.stepping.Store(s.addr)
	}
	m.isa.setIP(frame, s.slotAddr)
}

// lookupIn finds the site at addr in a list (not sorted), nil if none.
func lookupIn(l []*site, addr uint64) *site {
	for _, s := range l {
		if s.addr == addr {
			return s
		}
	}
	return nil
}

// run calls p's handler with a copy of frame, unless a handler is already
// running on the CPU (then the hit is missed).
func (m *Manager) run(c *cpuState, cpu int, p *Probe, frame unsafe.Pointer) {
	if c.depth > 0 {
		p.missed.Add(1)
		return
	}
	c.depth++
	n := m.isa.frameSize()
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&c.frame)), n), unsafe.Slice((*byte)(frame), n))
	c.regs.IP = m.isa.ip(frame)
	c.regs.User = false
	p.hits.Add(1)
	p.h.Hit(cpu, &c.regs)
	c.depth--
}
