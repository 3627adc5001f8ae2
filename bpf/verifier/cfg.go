package verifier

import (
	"errors"
	"sort"

	"hachi/bpf/isa"
	"hachi/syscall/linux"
)

// subprog is one function of the program: the main program or a target of
// a bpf-to-bpf call or of `lddw func` (Linux's struct bpf_subprog_info).
type subprog struct {
	start, end int // [start, end)
	// stackDepth is the deepest stack byte any frame of it touched.
	stackDepth int
	// callees are the subprograms it calls directly or hands to helpers as
	// callbacks: the edges of the combined stack check.
	callees map[int]bool
	// hasTailCall: calls bpf_tail_call.
	hasTailCall bool
}

// insnAux is what the verifier records about one instruction across paths
// (Linux's struct bpf_insn_aux_data).
type insnAux struct {
	// prunePoint: states are compared here (a jump target, the instruction
	// after a conditional jump or a call).
	prunePoint bool
	// loopHead: a helper call that runs a callback repeatedly, or
	// may_goto: states here are compared with the ones on the path that
	// is still being explored (fixpoint) rather than tested for an
	// infinite loop.
	loopHead bool
	subprog  int
	// reached: some path ran the instruction; divisorMayBeZero and
	// shiftMayBeWide: on some path a register divisor could be 0, or a
	// register shift amount reach the operation's width.
	reached          bool
	divisorMayBeZero bool
	shiftMayBeWide   bool
	// ptrType is the kind of pointer a memory instruction used (context
	// accesses are rewritten, so one instruction may not use two kinds).
	ptrType regType
	// ctx is the verdict of a context access, for the rewrite.
	ctx ctxAccess
	// lookupMap is the map a call of bpf_map_lookup_elem looked up on the
	// paths so far; lookupMaps that it has seen more than one (Linux's
	// map_ptr_state, poisoned by a second map).
	lookupMap  *Map
	lookupMaps bool
}

// structural checks the program's shape before any path is explored, like
// Linux's resolve_pseudo_ldimm64 (opcodes), check_subprogs and check_cfg.
func (e *env) structural() error {
	n := len(e.insns)
	ops, err := isa.Validate(e.insns)
	if err != nil {
		var se *isa.SlotError
		if errors.As(err, &se) {
			e.insn = se.Index
			return e.fail(linux.EINVAL, "%s", trimInvalid(se.Err))
		}
		return e.fail(linux.EINVAL, "%v", err)
	}
	e.ops = ops
	e.aux = make([]insnAux, n)
	for i, op := range ops {
		e.insn = i
		switch op {
		case isa.OpCallX:
			// Linux's instruction table has no JMP|CALL|X (bpf_opcode_in_insntable).
			return e.fail(linux.EINVAL, "unknown opcode %02x", uint8(e.insns[i].Opcode))
		case isa.OpCallKfunc:
			return e.fail(linux.EINVAL, "calling kernel functions are not allowed in non-JITed programs")
		case isa.OpAddrSpaceCast:
			return e.fail(linux.EINVAL, "addr_space_cast insn can only be used in a program that has an associated arena")
		case isa.OpLoadBTFID:
			return e.fail(linux.EINVAL, "kernel is missing BTF, make sure CONFIG_DEBUG_INFO_BTF=y is specified in Kconfig.")
		}
	}

	// Subprograms: the main program and every call and callback target.
	starts := map[int]bool{0: true}
	for i, op := range ops {
		if op != isa.OpCallLocal && op != isa.OpLoadFunc {
			continue
		}
		t := i + 1 + int(e.insns[i].Imm)
		if t < 0 || t >= n || ops[t] == isa.OpImm64High {
			e.insn = i
			if op == isa.OpLoadFunc {
				return e.fail(linux.EINVAL, "invalid subprog insn %d", t)
			}
			return e.fail(linux.EINVAL, "call to invalid destination")
		}
		starts[t] = true
	}
	if len(starts) > MaxSubprogs {
		return e.fail(linux.EINVAL, "too many subprograms")
	}
	sorted := make([]int, 0, len(starts))
	for s := range starts {
		sorted = append(sorted, s)
	}
	sort.Ints(sorted)
	e.subprogs = make([]subprog, len(sorted))
	for k, s := range sorted {
		end := n
		if k+1 < len(sorted) {
			end = sorted[k+1]
		}
		e.subprogs[k] = subprog{start: s, end: end, callees: map[int]bool{}}
		for i := s; i < end; i++ {
			e.aux[i].subprog = k
		}
	}

	// Jumps stay inside their subprogram, on an instruction; every
	// subprogram ends with exit or a jump.
	for k := range e.subprogs {
		sp := &e.subprogs[k]
		for i := sp.start; i < sp.end; i++ {
			op := ops[i]
			t, ok := e.jumpTarget(i)
			if ok {
				if t < sp.start || t >= sp.end {
					e.insn = i
					return e.fail(linux.EINVAL, "jump out of range from insn %d to %d", i, t)
				}
				if ops[t] == isa.OpImm64High {
					e.insn = i
					return e.fail(linux.EINVAL, "jump into the middle of ldimm64 insn %d", t-1)
				}
				e.aux[t].prunePoint = true
				if op != isa.OpJA && op != isa.OpJA32 && i+1 < n {
					e.aux[i+1].prunePoint = true
				}
			}
			if (op == isa.OpCall || op == isa.OpCallLocal) && i+1 < n {
				e.aux[i+1].prunePoint = true
			}
			if op == isa.OpMayGoto {
				e.aux[i].prunePoint = true
				e.aux[i].loopHead = true
			}
		}
		if last := ops[sp.end-1]; last != isa.OpExit && last != isa.OpJA && last != isa.OpJA32 {
			e.insn = sp.end - 1
			return e.fail(linux.EINVAL, "last insn is not an exit or jmp")
		}
	}
	return e.reachable()
}

// jumpTarget is where instruction i may jump (not counting falling through).
func (e *env) jumpTarget(i int) (int, bool) {
	op := e.ops[i]
	switch {
	case op == isa.OpJA32:
		return i + 1 + int(e.insns[i].Imm), true
	case op == isa.OpExit || op == isa.OpCall || op == isa.OpCallLocal:
		return 0, false
	case op.Info().Flags&isa.Branches != 0:
		return i + 1 + int(e.insns[i].Offset), true
	}
	return 0, false
}

// reachable walks the control flow graph from the first instruction,
// through calls and `lddw func` into subprograms, and refuses instructions
// no path reaches (check_cfg's "unreachable insn").
func (e *env) reachable() error {
	n := len(e.insns)
	seen := make([]bool, n)
	work := []int{0}
	seen[0] = true
	visit := func(t int) {
		if t >= 0 && t < n && !seen[t] {
			seen[t] = true
			work = append(work, t)
		}
	}
	for len(work) > 0 {
		i := work[len(work)-1]
		work = work[:len(work)-1]
		op := e.ops[i]
		switch op {
		case isa.OpExit:
			continue
		case isa.OpCallLocal, isa.OpLoadFunc:
			visit(i + 1 + int(e.insns[i].Imm))
		}
		if t, ok := e.jumpTarget(i); ok {
			visit(t)
			if op == isa.OpJA || op == isa.OpJA32 {
				continue
			}
		}
		visit(i + op.Info().Slots())
	}
	for i := 0; i < n; i++ {
		if e.ops[i] == isa.OpImm64High {
			continue
		}
		if !seen[i] {
			e.insn = i
			return e.fail(linux.EINVAL, "unreachable insn %d", i)
		}
	}
	return nil
}

// trimInvalid strips isa's "invalid instruction: " prefix, leaving Linux's message.
func trimInvalid(err error) string {
	s := err.Error()
	prefix := isa.ErrInvalid.Error() + ": "
	if len(s) > len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):]
	}
	return s
}
