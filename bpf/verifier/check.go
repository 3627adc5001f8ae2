package verifier

import (
	"fmt"

	"hachi/bpf/isa"
	"hachi/bpf/log"
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// env is one verification (Linux's struct bpf_verifier_env).
type env struct {
	opts     *Options
	ctx      *ctxDesc
	insns    []isa.Instruction
	ops      []isa.Op
	aux      []insnAux
	subprogs []subprog
	log      *log.Log

	// The path being explored: its state, the instruction about to run
	// and the one before, the checkpoint it descends from, and what it
	// wrote since that checkpoint (for liveness).
	st       *state
	insn     int
	prevInsn int
	parent   *checkpoint
	written  []liveSet

	// pending are the paths still to explore (Linux's verifier stack).
	pending []*pendingPath
	// explored are the checkpoints kept at each instruction for pruning.
	explored   [][]*checkpoint
	liveStates int

	// Counters since the last checkpoint, to space them out as Linux does.
	insnsSinceCheckpoint int
	jmpsSinceCheckpoint  int

	idGen       uint32
	stats       Stats
	maps        []*Map
	mapRefs     map[vmRef]*Map
	helpersUsed []int32
	maxCtxOff   int
}

// pendingPath is a path pushed at a branch, to explore later.
type pendingPath struct {
	st      *state
	insn    int
	prev    int
	parent  *checkpoint
	written []liveSet
	logPos  uint32
}

func newEnv(insns []isa.Instruction, opts *Options) (*env, error) {
	e := &env{opts: opts, insns: insns, log: opts.Log, mapRefs: map[vmRef]*Map{}}
	if e.log == nil {
		e.log = &log.Log{}
	}
	if len(insns) == 0 {
		return e, &Error{Errno: linux.EINVAL, Insn: -1, Msg: "empty program"}
	}
	if len(insns) > MaxInsns {
		return e, &Error{Errno: linux.E2BIG, Insn: -1, Msg: fmt.Sprintf("program of %d insns is too large", len(insns))}
	}
	ctx, ok := contextOf(opts)
	if !ok {
		return e, &Error{Errno: linux.EINVAL, Insn: -1, Msg: fmt.Sprintf("unknown program type %d", opts.ProgType)}
	}
	e.ctx = ctx
	return e, nil
}

// fail logs msg as Linux's verbose() would and returns the refusal.
func (e *env) fail(errno linux.Errno, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	e.log.Write(msg + "\n")
	return &Error{Errno: errno, Insn: e.insn, Msg: msg}
}

// verbose writes to the log at level 1 and above.
func (e *env) verbose(format string, args ...any) {
	if e.log.Enabled() {
		e.log.Printf(format, args...)
	}
}

func (e *env) level2() bool { return e.log.Level()&log.Level2 != 0 && e.log.Enabled() }

func (e *env) newID() uint32 {
	e.idGen++
	return e.idGen
}

// run explores every path from the program's entry.
func (e *env) run() error {
	if err := e.structural(); err != nil {
		return err
	}
	if err := e.resolveMaps(); err != nil {
		return err
	}
	e.explored = make([][]*checkpoint, len(e.insns))
	e.st = e.initialState()
	e.written = []liveSet{allLive()}
	e.insn, e.prevInsn = 0, -1
	if e.log.Enabled() && !e.level2() {
		// (At level 2 every instruction's state is printed before it.)
		e.verbose("0:%s\n", e.st.frames[0].String())
	}
	for {
		done, err := e.step()
		if err != nil {
			return err
		}
		if done {
			e.pathDone()
			if !e.popPath() {
				break
			}
		}
	}
	return e.checkStackDepths()
}

// initialState is the state at the entry: r1 the context, r10 the frame
// pointer (and r2 the context size for ProgTypeMemory).
func (e *env) initialState() *state {
	f := &funcState{callsite: -1, subprog: 0}
	f.regs[isa.R1] = pointer(ptrToCtx)
	f.regs[isa.R10] = pointer(ptrToStack)
	if e.ctx.lenInR2 {
		f.regs[isa.R2] = constScalar(uint64(e.ctx.size))
	}
	return &state{frames: []*funcState{f}}
}

// step runs one instruction of the current path; done reports that the
// path ended (program exit, or pruned).
func (e *env) step() (done bool, err error) {
	e.stats.Processed++
	if e.stats.Processed > processLimit {
		return false, e.fail(linux.E2BIG, "BPF program is too large. Processed %d insn", e.stats.Processed)
	}
	i := e.insn
	aux := &e.aux[i]
	aux.reached = true
	e.insnsSinceCheckpoint++
	if aux.prunePoint {
		pruned, err := e.visit()
		if err != nil {
			return false, err
		}
		if pruned {
			if e.log.Enabled() {
				if e.log.Level()&log.Level2 != 0 {
					e.verbose("%d: safe\n", i)
				} else {
					e.verbose("\nfrom %d to %d: safe\n", e.prevInsn, i)
				}
			}
			return true, nil
		}
	}
	ins := e.insns[i]
	op := e.ops[i]
	if e.level2() {
		e.verbose("%d:%s\n", i, e.st.cur().String())
	}
	if e.log.Enabled() {
		e.verbose("%d: %s\n", i, e.insnString(i))
	}
	next := i + op.Info().Slots()
	info := op.Info()
	switch {
	case op == isa.OpExit:
		return e.checkExit()
	case op == isa.OpCall:
		return e.checkHelperCall(ins)
	case op == isa.OpCallLocal:
		return false, e.checkSubprogCall(ins)
	case op == isa.OpMayGoto:
		// may_goto jumps once the frame's loop budget is spent (Linux
		// 6.9): the jump leaves the loop; falling through is one more
		// iteration of a loop the budget bounds.
		e.jmpsSinceCheckpoint++
		out := e.st.clone()
		delete(out.loopIters, i)
		if err := e.pushState(out, i+1+int(ins.Offset)); err != nil {
			return false, err
		}
		if e.st.loopIters == nil {
			e.st.loopIters = map[int]int{}
		}
		e.st.loopIters[i]++
	case op == isa.OpJA:
		e.jmpsSinceCheckpoint++
		next = i + 1 + int(ins.Offset)
	case op == isa.OpJA32:
		e.jmpsSinceCheckpoint++
		next = i + 1 + int(ins.Imm)
	case info.Form == isa.FormCondImm || info.Form == isa.FormCondReg:
		e.jmpsSinceCheckpoint++
		var feasible bool
		next, feasible, err = e.checkCondJump(ins, op)
		if err != nil {
			return false, err
		}
		if !feasible {
			return true, nil
		}
	case info.Opcode.Class().IsALU():
		err = e.checkALU(ins, op)
	case info.Form == isa.FormImm64:
		err = e.checkLoadImm64(ins, op)
	case info.Form == isa.FormPacketAbs || info.Form == isa.FormPacketInd:
		err = e.checkLdAbs(ins, op)
	case op >= isa.OpAtomicAdd32 && op <= isa.OpAtomicCmpXchg64:
		err = e.checkAtomic(ins, op)
	case info.Opcode.Class() == isa.ClassLDX || (op >= isa.OpLoadAcquireB && op <= isa.OpLoadAcquireDW):
		err = e.checkLoad(ins, op)
	default:
		err = e.checkStore(ins, op)
	}
	if err != nil {
		return false, err
	}
	e.prevInsn = i
	e.insn = next
	return false, nil
}

// pushPath saves a copy of the current state to continue at insn later
// (push_stack). It fails past MaxPendingPaths, as Linux does.
func (e *env) pushPath(insn int) error { return e.pushState(e.st.clone(), insn) }

// pushState saves st, a state of the current path (not shared with it), to
// continue at insn later.
func (e *env) pushState(st *state, insn int) error {
	return e.pushWith(st, append([]liveSet(nil), e.written...), insn)
}

// pushWith is pushState with the liveness of st's frames since the last
// checkpoint, when they are not the current state's.
func (e *env) pushWith(st *state, written []liveSet, insn int) error {
	if len(e.pending) >= MaxPendingPaths {
		return e.fail(linux.E2BIG, "The sequence of %d jumps is too complex.", len(e.pending))
	}
	p := &pendingPath{st: st, insn: insn, prev: e.insn, parent: e.parent, written: written, logPos: e.log.Len()}
	if e.parent != nil {
		e.parent.branches++
	}
	e.pending = append(e.pending, p)
	return nil
}

// popPath makes the most recently pushed path current (pop_stack). At log
// level 1 the log forgets the finished path, as Linux's does.
func (e *env) popPath() bool {
	if len(e.pending) == 0 {
		return false
	}
	p := e.pending[len(e.pending)-1]
	e.pending[len(e.pending)-1] = nil
	e.pending = e.pending[:len(e.pending)-1]
	if e.log.Level()&log.Level2 == 0 {
		e.log.Reset(p.logPos)
	}
	e.st, e.insn, e.prevInsn, e.parent, e.written = p.st, p.insn, p.prev, p.parent, p.written
	if e.log.Enabled() {
		e.verbose("from %d to %d: %s\n", e.prevInsn, e.insn, e.st.String())
	}
	return true
}

// pathDone accounts for the end of the current path: the checkpoints it
// descends from have one path less to wait for.
func (e *env) pathDone() {
	for c := e.parent; c != nil; c = c.parent {
		c.branches--
		if c.branches > 0 {
			break
		}
	}
}

// checkStackDepths checks the frames of every call chain together against
// StackSize (check_max_stack_depth): each frame counts its depth rounded
// up to 32 bytes, as the JITs lay frames out.
func (e *env) checkStackDepths() error {
	var walk func(k, depth, frames int, path []int) error
	walk = func(k, depth, frames int, path []int) error {
		if e.subprogs[k].hasTailCall && depth >= StackSize/2 {
			// A tail call keeps the frames below it (the JITs' rule).
			e.insn = e.subprogs[k].start
			return e.fail(linux.EACCES, "tail_calls are not allowed when call stack of previous frames is %d bytes. Too large", depth)
		}
		d := depth + roundUp(max(e.subprogs[k].stackDepth, 1), 32)
		if d > StackSize {
			e.insn = e.subprogs[k].start
			return e.fail(linux.EACCES, "combined stack size of %d calls is %d. Too large", frames, d)
		}
		for _, p := range path {
			if p == k {
				return nil // recursion is refused elsewhere (frame depth)
			}
		}
		for callee := range e.subprogs[k].callees {
			if err := walk(callee, d, frames+1, append(path, k)); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(0, 0, 1, nil)
}

func roundUp(n, to int) int { return (n + to - 1) / to * to }

// regRead checks that register r of the current frame holds a value and
// marks it read (check_reg_arg with SRC_OP).
func (e *env) regRead(r isa.Register) (*reg, error) {
	f := e.st.cur()
	if f.regs[r].typ == notInit {
		return nil, e.fail(linux.EACCES, "R%d !read_ok", r)
	}
	if r != isa.R10 {
		e.markRegRead(len(e.st.frames)-1, r)
	}
	return &f.regs[r], nil
}

// regWrite returns register r of the current frame for writing (DST_OP):
// r10 is read-only.
func (e *env) regWrite(r isa.Register) (*reg, error) {
	if r == isa.R10 {
		return nil, e.fail(linux.EACCES, "frame pointer is read only")
	}
	e.written[len(e.st.frames)-1].regs |= 1 << r
	return &e.st.cur().regs[r], nil
}

// setReg writes v to register r of the current frame.
func (e *env) setReg(r isa.Register, v reg) error {
	dst, err := e.regWrite(r)
	if err != nil {
		return err
	}
	*dst = v
	return nil
}

// clobberCallerSaved leaves r1-r5 of the current frame unreadable, as a
// call does.
func (e *env) clobberCallerSaved() {
	f := e.st.cur()
	for r := isa.R1; r <= isa.R5; r++ {
		f.regs[r] = reg{}
		e.written[len(e.st.frames)-1].regs |= 1 << r
	}
}

// finish builds the verified program: the instructions with context
// accesses rewritten, loaded by the interpreter in its fast mode.
func (e *env) finish() (*Program, error) {
	insns := append([]isa.Instruction(nil), e.insns...)
	for i := range insns {
		a := &e.aux[i]
		if a.ptrType == ptrToCtx && a.ctx.rewrite {
			ins := &insns[i]
			class := ins.Opcode.Class()
			ins.Opcode = isa.MemOpcode(class, ins.Opcode.Mode(), a.ctx.kernelSize)
			ins.Offset = a.ctx.kernelOff
		}
	}
	// Like Linux's do_misc_fixups, a lookup whose map is the same on every
	// path runs without the helper: the interpreter inlines it or calls
	// the map's lookup directly (vm.Options.InlineLookups). Inner maps
	// (the template of a map of maps) have no handle: the map is only
	// known at run time.
	lookupMaps := map[int]*Map{}
	inline := map[int]*vm.MapHandle{}
	for i := range e.aux {
		if a := &e.aux[i]; a.lookupMap != nil && !a.lookupMaps && a.lookupMap.Handle != nil {
			lookupMaps[i] = a.lookupMap
			inline[i] = a.lookupMap.Handle
		}
	}
	res := &vmResolver{maps: e.mapRefs}
	img, err := loadImage(insns, vm.Options{Helpers: e.opts.Helpers, Resolver: res, LenInR2: e.ctx.lenInR2,
		InlineLookups: inline})
	if err != nil {
		return nil, err
	}
	p := &Program{prog: newVerifiedProgram(img), Insns: insns, MaxCtxOffset: e.maxCtxOff,
		Maps: e.maps, LookupMaps: lookupMaps, Helpers: e.helpersUsed, Stats: e.stats}
	p.Facts = make([]Fact, len(insns))
	for i, a := range e.aux {
		if !a.reached {
			continue
		}
		p.Facts[i] = FactReached
		info := e.ops[i].Info()
		if info.Form != isa.FormALUReg {
			continue
		}
		switch info.Opcode.ALUOp() {
		case isa.ALUDiv, isa.ALUMod:
			if !a.divisorMayBeZero {
				p.Facts[i] |= FactDivisorNonZero
			}
		case isa.ALULsh, isa.ALURsh, isa.ALUArsh:
			if !a.shiftMayBeWide {
				p.Facts[i] |= FactShiftInRange
			}
		}
	}
	for _, sp := range e.subprogs {
		p.Subprogs = append(p.Subprogs, sp.start)
		p.StackDepth = append(p.StackDepth, sp.stackDepth)
	}
	return p, nil
}

// printStats writes Linux's closing statistics line.
func (e *env) printStats() {
	if e.log.Level()&log.LevelStats != 0 {
		e.verbose("verification time %d usec\n", e.stats.Duration.Microseconds())
		e.verbose("stack depth ")
		for k, sp := range e.subprogs {
			if k > 0 {
				e.verbose("+")
			}
			e.verbose("%d", sp.stackDepth)
		}
		e.verbose("\n")
	}
	e.verbose("processed %d insns (limit %d) max_states_per_insn %d total_states %d peak_states %d mark_read %d\n",
		e.stats.Processed, MaxProcessed, e.stats.MaxStatesPerInsn, e.stats.TotalStates, e.stats.PeakStates, e.stats.MarkRead)
}
