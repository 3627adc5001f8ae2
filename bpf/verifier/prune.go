package verifier

import (
	"math"
	"math/bits"

	"hachi/bpf/isa"
	"hachi/syscall/linux"
)

// State pruning.
//
// A checkpoint is a copy of the state at a prune point, kept so that a later
// path arriving there in a state it covers need not be explored again
// (Linux's is_state_visited). Soundness rests on three rules:
//
//   - A path is pruned only against a checkpoint whose every descendant path
//     has finished (branches == 0): its read marks are then complete, and
//     the paths that hung off it are all proven safe and terminating. The
//     checkpoints of paths still being explored are the ancestors of the
//     current path; reaching one of them again in exactly the same state is
//     an infinite loop ("infinite loop detected"). Bounded loops are thus
//     unrolled until their condition decides, as Linux does.
//   - Liveness, as Linux tracks it (REG_LIVE_READ, REG_LIVE_WRITTEN): a read
//     marks the register or stack slot in the nearest checkpoints up the
//     path until one whose segment wrote it. Only what a finished
//     checkpoint's future read is compared; on pruning, those read marks
//     carry over to the pruned path's own checkpoints (propagate_liveness).
//   - Scalars are compared by range and known-bits containment, never
//     exactly, and without Linux's precision tracking: sound, and a little
//     less pruning.
//
// Loop heads (helper calls that run a callback, and may_goto) are where the
// helper or the interpreter bounds the iterations at run time. There a path
// whose state is covered by an ancestor's, comparing every register and
// slot, has reached a fixpoint and is pruned; after widenAfter iterations
// the scalars that keep changing are widened to unknown so that a fixpoint
// is reached (Linux's widen_imprecise_scalars, applied to every scalar).

// widenAfter is the number of loop-head iterations explored exactly before
// changing scalars are widened.
const widenAfter = 16

// liveSet is a set of registers and stack slots of one frame.
type liveSet struct {
	regs  isa.RegSet
	slots uint64 // bit i: stack slot i (fp-8(i+1))
}

func allLive() liveSet { return liveSet{regs: 1<<isa.NumRegisters - 1, slots: math.MaxUint64} }

// checkpoint is a state kept at a prune point (struct bpf_verifier_state_list).
type checkpoint struct {
	st     *state
	insn   int
	parent *checkpoint
	// branches counts the paths under the checkpoint not yet finished.
	branches int
	// read: what paths after the checkpoint read before writing;
	// written: what the path wrote between parent and this checkpoint.
	read, written []liveSet
	hits, misses  int
	seq           int
}

// markRegRead marks register r of frame f read in the checkpoints up the
// path (mark_reg_read).
func (e *env) markRegRead(f int, r isa.Register) {
	if e.written[f].regs.Has(r) {
		return
	}
	walk := 0
	for c := e.parent; c != nil; c = c.parent {
		if f >= len(c.read) || c.read[f].regs.Has(r) {
			break
		}
		c.read[f].regs |= 1 << r
		walk++
		if c.written[f].regs.Has(r) {
			break
		}
	}
	e.stats.MarkRead = max(e.stats.MarkRead, walk)
}

// markSlotRead marks stack slot i of frame f read.
func (e *env) markSlotRead(f, i int) {
	bit := uint64(1) << i
	if e.written[f].slots&bit != 0 {
		return
	}
	for c := e.parent; c != nil; c = c.parent {
		if f >= len(c.read) || c.read[f].slots&bit != 0 {
			break
		}
		c.read[f].slots |= bit
		if c.written[f].slots&bit != 0 {
			break
		}
	}
}

// markSlotWritten records that slot i of frame f was written whole.
func (e *env) markSlotWritten(f, i int) { e.written[f].slots |= uint64(1) << i }

// markAllRead marks everything of every frame read: after a fixpoint prune
// the path's future is an unfinished checkpoint's, which may read anything.
func (e *env) markAllRead() {
	for f := range e.st.frames {
		for r := isa.R0; r < isa.R10; r++ {
			e.markRegRead(f, r)
		}
		for i := 0; i < 64; i++ {
			e.markSlotRead(f, i)
		}
	}
}

// propagateLiveness makes the current path read what c's future reads
// (propagate_liveness).
func (e *env) propagateLiveness(c *checkpoint) {
	for f := range c.read {
		for r := isa.R0; r < isa.R10; r++ {
			if c.read[f].regs.Has(r) {
				e.markRegRead(f, r)
			}
		}
		for slots := c.read[f].slots; slots != 0; slots &= slots - 1 {
			e.markSlotRead(f, bits.TrailingZeros64(slots))
		}
	}
}

// visit decides at a prune point whether the current path is covered by a
// checkpoint (is_state_visited), and keeps a new checkpoint.
func (e *env) visit() (pruned bool, err error) {
	i := e.insn
	list := e.explored[i]
	head := e.aux[i].loopHead
	var latest *checkpoint
	for _, c := range list {
		if c.branches == 0 {
			continue
		}
		// An unfinished checkpoint here is an ancestor of this path.
		if latest == nil || c.seq > latest.seq {
			latest = c
		}
		if head {
			if e.covers(c, compareAll) {
				e.markAllRead()
				return true, nil
			}
		} else if e.covers(c, compareExact) {
			return false, e.fail(linux.EINVAL, "infinite loop detected at insn %d", i)
		}
	}
	if head && latest != nil && e.st.loopIters[i] > widenAfter {
		widen(e.st, latest.st)
	}
	// Like Linux 6.18, add a checkpoint only after 20 jumps or 100
	// instructions, except where loops are decided.
	add := head || e.jmpsSinceCheckpoint >= 20 || e.insnsSinceCheckpoint >= 100
	kept := list[:0]
	for _, c := range list {
		switch {
		case pruned:
		case c.branches == 0 && e.covers(c, compareLive):
			c.hits++
			e.propagateLiveness(c)
			pruned = true
		case add:
			// Misses count only when a state is added, so that a loop
			// keeps states from its first and its last iterations.
			c.misses++
		}
		// Forget states that keep missing (Linux's miss_cnt heuristic),
		// sooner than loop heads' unfinished ones, which help
		// callbacks converge. A forgotten unfinished checkpoint stays
		// in its path's chain for liveness, without its state.
		n := 3
		if head && c.branches > 0 {
			n = 64
		}
		if c.misses > c.hits*n+n {
			c.st = nil
			e.liveStates--
			continue
		}
		kept = append(kept, c)
	}
	clear(list[len(kept):])
	e.explored[i] = kept
	if pruned || !add {
		return pruned, nil
	}
	e.jmpsSinceCheckpoint, e.insnsSinceCheckpoint = 0, 0
	c := &checkpoint{st: e.st.clone(), insn: i, parent: e.parent, branches: 1,
		written: e.written, read: make([]liveSet, len(e.st.frames)), seq: e.stats.TotalStates}
	e.parent = c
	e.written = make([]liveSet, len(e.st.frames))
	e.explored[i] = append(e.explored[i], c)
	e.stats.TotalStates++
	e.liveStates++
	e.stats.PeakStates = max(e.stats.PeakStates, e.liveStates)
	e.stats.MaxStatesPerInsn = max(e.stats.MaxStatesPerInsn, len(e.explored[i]))
	return false, nil
}

// compareMode selects how a checkpoint's state must relate to the current one.
type compareMode uint8

const (
	compareLive  compareMode = iota // cover what the checkpoint's future reads
	compareAll                      // cover everything
	compareExact                    // be the same
)

// idMap pairs ids of the old state with ids of the current one; a pairing
// must be one-to-one for the states to correspond (check_ids).
type idMap struct {
	oldToCur map[uint32]uint32
	curToOld map[uint32]uint32
	tmp      uint32
}

func (m *idMap) match(old, cur uint32) bool {
	if old == 0 && cur == 0 {
		return true
	}
	if old == 0 || cur == 0 {
		return false
	}
	if m.oldToCur == nil {
		m.oldToCur, m.curToOld = map[uint32]uint32{}, map[uint32]uint32{}
	}
	if c, ok := m.oldToCur[old]; ok {
		return c == cur
	}
	if o, ok := m.curToOld[cur]; ok {
		return o == old
	}
	m.oldToCur[old], m.curToOld[cur] = cur, old
	return true
}

// matchScalar pairs scalar ids: an old scalar tied to nothing covers any
// current one, and an untied current scalar stands for a fresh id.
func (m *idMap) matchScalar(old, cur uint32) bool {
	if old == 0 {
		return true
	}
	if cur == 0 {
		m.tmp++
		cur = 1<<31 + m.tmp
	}
	return m.match(old, cur)
}

// covers reports whether checkpoint c's state covers the current one (states_equal).
func (e *env) covers(c *checkpoint, mode compareMode) bool {
	old, cur := c.st, e.st
	if old == nil || len(old.frames) != len(cur.frames) || len(old.refs) != len(cur.refs) {
		return false
	}
	var ids idMap
	for f := range old.frames {
		of, cf := old.frames[f], cur.frames[f]
		if of.callsite != cf.callsite || of.subprog != cf.subprog {
			return false
		}
		var live liveSet
		if mode == compareLive {
			live = c.read[f]
		} else {
			live = allLive()
		}
		for r := isa.R0; r < isa.R10; r++ {
			if !live.regs.Has(r) {
				continue
			}
			if !regCovers(&of.regs[r], &cf.regs[r], &ids, mode) {
				return false
			}
		}
		if !e.stackCovers(of, cf, live, &ids, mode) {
			return false
		}
	}
	for k := range old.refs {
		if !ids.match(old.refs[k].id, cur.refs[k].id) {
			return false
		}
	}
	// A loop head the old path had iterated more times allowed it fewer
	// iterations to come than the current path has.
	for insn, n := range old.loopIters {
		if cur.loopIters[insn] < n {
			return false
		}
	}
	return true
}

// regCovers is Linux's regsafe: every value cur may hold, old may hold, and
// old's type allows whatever cur's does.
func regCovers(old, cur *reg, ids *idMap, mode compareMode) bool {
	if mode == compareExact {
		return regsExact(old, cur, ids)
	}
	if old.typ == notInit {
		// The old path never read it (it would have failed).
		return true
	}
	if old.typ != cur.typ || old.flags != cur.flags {
		return false
	}
	switch old.typ {
	case scalarValue:
		// A tie's difference is part of what the old path relied on.
		return old.bounds.contains(&cur.bounds) && ids.matchScalar(old.id, cur.id) && (old.id == 0 || old.off == cur.off)
	case ptrToMapValue, ptrToMapKey, ptrToMem:
		return old.m == cur.m && old.off == cur.off && old.size == cur.size &&
			old.bounds.contains(&cur.bounds) && ids.match(old.id, cur.id) && ids.match(old.refID, cur.refID)
	case ptrToPacket, ptrToPacketMeta:
		// The old pointer may not have known more of the packet.
		return old.rng <= cur.rng && old.off == cur.off &&
			old.bounds.contains(&cur.bounds) && ids.match(old.id, cur.id)
	case ptrToCtx:
		// A flat context allows variable offsets.
		return old.off == cur.off && old.bounds.contains(&cur.bounds)
	}
	// Stack, map and function pointers, pkt_end: exactly the same.
	return regsExact(old, cur, ids)
}

// regsExact reports whether two registers hold the same abstract value, ids
// paired.
func regsExact(old, cur *reg, ids *idMap) bool {
	if old.typ != cur.typ || old.flags != cur.flags || old.frame != cur.frame || old.bounds != cur.bounds ||
		old.off != cur.off || old.m != cur.m || old.size != cur.size || old.rng != cur.rng || old.subprog != cur.subprog {
		return false
	}
	return ids.match(old.id, cur.id) && ids.match(old.refID, cur.refID)
}

// stackCovers compares the stacks of a frame (stacksafe).
func (e *env) stackCovers(old, cur *funcState, live liveSet, ids *idMap, mode compareMode) bool {
	n := max(len(old.stack), len(cur.stack))
	var empty stackSlot
	for i := 0; i < n; i++ {
		if i < 64 && live.slots&(1<<i) == 0 {
			continue
		}
		os, cs := &empty, &empty
		if i < len(old.stack) {
			os = &old.stack[i]
		}
		if i < len(cur.stack) {
			cs = &cur.stack[i]
		}
		if mode == compareExact {
			if os.kinds != cs.kinds || (os.isSpill() && !regsExact(&os.spilled, &cs.spilled, ids)) {
				return false
			}
			continue
		}
		if os.isSpill() {
			if cs.isSpill() {
				if !regCovers(&os.spilled, &cs.spilled, ids, mode) {
					return false
				}
				continue
			}
			// A spilled unknown scalar reads like plain data.
			if os.spilled.typ != scalarValue || !os.spilled.isUnknown() || os.spilled.id != 0 {
				return false
			}
			for j := 0; j < slotSize; j++ {
				if cs.kinds[j] != stackMisc && cs.kinds[j] != stackZero &&
					!(cs.kinds[j] == stackInvalid && !e.opts.StrictStackReads) {
					return false
				}
			}
			continue
		}
		for j := 0; j < slotSize; j++ {
			if !slotByteCovers(os.kinds[j], cs, j, !e.opts.StrictStackReads) {
				return false
			}
		}
	}
	return true
}

// slotByteCovers compares byte j of a slot: an unwritten old byte was never
// read; data covers data, zero and (when uninitialised reads give
// unknown data) unwritten bytes and spilled scalars.
func slotByteCovers(old slotKind, cur *stackSlot, j int, uninitIsData bool) bool {
	c := cur.kinds[j]
	switch old {
	case stackInvalid:
		return true
	case stackMisc:
		switch c {
		case stackMisc, stackZero:
			return true
		case stackInvalid:
			return uninitIsData
		case stackSpill:
			return cur.spilled.typ == scalarValue
		}
	case stackZero:
		return c == stackZero || (c == stackSpill && cur.spilled.isNull())
	}
	return false
}

// widen forgets the scalars that changed since the previous iteration of a
// loop head, in registers and spilled slots of every frame, so that the
// iterations reach a fixpoint.
func widen(cur, prev *state) {
	if len(cur.frames) != len(prev.frames) {
		return
	}
	forget := func(c, p *reg) {
		if c.typ == scalarValue && p.typ == scalarValue && (c.bounds != p.bounds || c.off != p.off) {
			*c = unknownScalar()
		}
	}
	for f := range cur.frames {
		cf, pf := cur.frames[f], prev.frames[f]
		for r := range cf.regs {
			forget(&cf.regs[r], &pf.regs[r])
		}
		for i := range cf.stack {
			if i < len(pf.stack) && cf.stack[i].isSpill() && pf.stack[i].isSpill() {
				forget(&cf.stack[i].spilled, &pf.stack[i].spilled)
			}
		}
	}
}
