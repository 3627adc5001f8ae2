package verifier

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"hachi/bpf/isa"
	"hachi/syscall/linux"
)

// helperName is Linux's func_id_name.
func helperName(id int32) string {
	if id >= 0 && id <= int32(linux.BPF_FUNC_user_ringbuf_drain) {
		return linux.BPFFuncID(id).String()
	}
	return "unknown"
}

// callMeta gathers what the arguments of a helper call say (struct
// bpf_call_arg_meta).
type callMeta struct {
	m         *Map
	memReg    isa.Register // the pointer a size argument sizes
	memNull   bool         // that pointer is NULL
	memArg    ArgType
	allocSize uint64
	release   uint32 // reference released by the call
	callback  int    // subprogram of an ArgPtrToFunc, -1 if none
	cbCtx     reg    // callback context argument
	nrLoops   uint64 // bpf_loop's nr_loops bound
}

// checkHelperCall is a call to a helper (check_helper_call).
func (e *env) checkHelperCall(ins isa.Instruction) (done bool, err error) {
	id := ins.Imm
	var p *HelperProto
	if e.opts.Protos != nil {
		p = e.opts.Protos(id)
	}
	if p == nil {
		if id < 0 || id > int32(linux.BPF_FUNC_user_ringbuf_drain) {
			return false, e.fail(linux.EINVAL, "invalid func unknown#%d", id)
		}
		return false, e.fail(linux.EINVAL, "program of this type cannot use helper %s#%d", helperName(id), id)
	}
	if id != int32(linux.BPF_FUNC_tail_call) && (int(id) >= len(e.opts.Helpers) || e.opts.Helpers[id] == nil) {
		return false, e.fail(linux.EINVAL, "program of this type cannot use helper %s#%d", helperName(id), id)
	}
	if p.GPLOnly && !e.opts.GPL {
		return false, e.fail(linux.EINVAL, "cannot call GPL-restricted function from non-GPL compatible program")
	}
	e.noteHelper(id)
	meta := callMeta{callback: -1}
	for i, t := range p.Args {
		if err := e.checkArg(p, i, t, &meta); err != nil {
			return false, err
		}
	}
	if err := e.checkMapCompat(id, p, meta.m); err != nil {
		return false, err
	}
	if id == int32(linux.BPF_FUNC_map_lookup_elem) {
		e.recordLookupMap(meta.m)
	}
	if meta.release != 0 && !e.st.release(meta.release) {
		return false, e.fail(linux.EINVAL, "reference has not been acquired before")
	}
	if id == int32(linux.BPF_FUNC_tail_call) {
		if len(e.st.refs) > 0 {
			return false, e.fail(linux.EINVAL, "tail_call would lead to reference leak")
		}
		e.subprogs[e.aux[e.insn].subprog].hasTailCall = true
	}
	if p.Callback != CallbackNone {
		return e.callbackCall(p, &meta)
	}
	if err := e.helperReturn(p, &meta); err != nil {
		return false, err
	}
	e.prevInsn = e.insn
	e.insn++
	return false, nil
}

// recordLookupMap records the map a lookup call site looks up on this path
// (record_func_map): a site that looks up one map on every path can look
// it up without the helper (see finish).
func (e *env) recordLookupMap(m *Map) {
	a := &e.aux[e.insn]
	switch {
	case a.lookupMap == nil:
		a.lookupMap = m
	case a.lookupMap != m:
		a.lookupMaps = true
	}
}

// noteHelper records a helper the program calls.
func (e *env) noteHelper(id int32) {
	for _, h := range e.helpersUsed {
		if h == id {
			return
		}
	}
	e.helpersUsed = append(e.helpersUsed, id)
}

// helperReturn is the state after a helper returns: r1-r5 unreadable and
// r0 as the prototype says.
func (e *env) helperReturn(p *HelperProto, meta *callMeta) error {
	if p.ChangesPacket {
		// The packet may have moved: no packet pointer stays valid
		// (clear_all_pkt_pointers).
		forEachReg(e.st, func(r *reg) {
			if r.isPacket() || r.typ == ptrToPacketEnd {
				*r = unknownScalar()
			}
		})
	}
	e.clobberCallerSaved()
	r0 := reg{}
	switch p.Ret {
	case RetInteger:
		r0 = unknownScalar()
	case RetPtrToMapValueOrNull, RetPtrToMapValueOrNullAny:
		if meta.m == nil {
			return e.fail(linux.EINVAL, "kernel subsystem misconfigured verifier")
		}
		r0 = pointer(ptrToMapValue)
		r0.m = meta.m
		r0.flags = maybeNull
		r0.id = e.newID()
	case RetPtrToRingbufMemOrNull:
		r0 = pointer(ptrToMem)
		r0.flags = maybeNull | memRingbuf
		r0.size = uint32(meta.allocSize)
		r0.id = e.newID()
		r0.refID = e.st.acquire(e.newID(), e.insn)
	case RetPtrToMemOrNull:
		r0 = pointer(ptrToMem)
		r0.flags = maybeNull
		r0.size = p.RetSize
		r0.id = e.newID()
	}
	return e.setReg(isa.R0, r0)
}

// acquire records a new reference acquired at insn and returns its id.
func (st *state) acquire(id uint32, insn int) uint32 {
	st.refs = append(st.refs, reference{id: id, insn: insn, frame: len(st.frames) - 1})
	return id
}

// release drops reference id and every pointer holding it; false if the
// path holds no such reference.
func (st *state) release(id uint32) bool {
	for k, r := range st.refs {
		if r.id != id {
			continue
		}
		st.refs = append(st.refs[:k], st.refs[k+1:]...)
		forEachReg(st, func(x *reg) {
			if x.refID == id {
				*x = unknownScalar()
			}
		})
		return true
	}
	return false
}

// memTypes lists what Linux accepts for a memory argument, for messages.
const (
	memTypesList = "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf"
	keyTypesList = "fp, pkt, pkt_meta, map_key, map_value"
)

// checkArg checks argument i of a helper call (check_func_arg).
func (e *env) checkArg(p *HelperProto, i int, t ArgType, meta *callMeta) error {
	base := t.base()
	if base == ArgDontCare {
		return nil
	}
	regno := isa.Register(i + 1)
	r, err := e.regRead(regno)
	if err != nil {
		return err
	}
	if r.isPacket() && !p.PacketAccess && base != ArgAnything {
		return e.fail(linux.EACCES, "helper access to the packet is not allowed")
	}
	if t&ArgMaybeNull != 0 && r.isNull() {
		switch base {
		case ArgPtrToMem:
			meta.memReg, meta.memNull, meta.memArg = regno, true, t
		case ArgPtrToStack:
			meta.cbCtx = *r
		}
		return nil
	}
	expect := func(want string) error {
		return e.fail(linux.EACCES, "R%d type=%s expected=%s", regno, r.typeName(), want)
	}
	switch base {
	case ArgAnything:
		return nil
	case ArgConstMapPtr:
		if r.typ != constPtrToMap {
			return expect("map_ptr")
		}
		meta.m = r.m
	case ArgPtrToMapKey, ArgPtrToMapValue:
		if meta.m == nil {
			return e.fail(linux.EACCES, "invalid map_ptr to access map->%s", map[bool]string{true: "key", false: "value"}[base == ArgPtrToMapKey])
		}
		if !isMemPointer(r) {
			return expect(keyTypesList)
		}
		size := meta.m.KeySize
		if base == ArgPtrToMapValue {
			size = meta.m.ValueSize
		}
		return e.helperMemAccess(regno, r, int64(size), t&ArgUninit != 0, false)
	case ArgPtrToMem:
		if !isMemPointer(r) && !(r.typ == ptrToCtx && e.ctx.flat) {
			return expect(memTypesList)
		}
		if r.flags&memRdonly != 0 && t&ArgReadOnly == 0 {
			return expect(memTypesList)
		}
		if t&ArgFixedSize != 0 {
			return e.helperMemAccess(regno, r, int64(p.ArgSize[i]), t&ArgUninit != 0, false)
		}
		meta.memReg, meta.memNull, meta.memArg = regno, false, t
	case ArgConstSize, ArgConstSizeOrZero:
		return e.checkSizeArg(regno, r, base == ArgConstSizeOrZero, meta)
	case ArgConstAllocSizeOrZero:
		if r.typ != scalarValue || !r.isConst() {
			return e.fail(linux.EACCES, "R%d is not a known constant'", regno)
		}
		meta.allocSize = r.constValue()
		if meta.allocSize >= maxVarOff {
			return e.fail(linux.EACCES, "R%d unbounded memory access, use 'var &= const' or 'if (var < const)'", regno)
		}
	case ArgPtrToCtx:
		if r.typ != ptrToCtx {
			return expect("ctx")
		}
		if r.off != 0 || r.hasVarOff() {
			return e.fail(linux.EACCES, "dereference of modified ctx ptr R%d off=%d disallowed", regno, r.off)
		}
	case ArgPtrToFunc:
		if r.typ != ptrToFunc {
			return expect("func")
		}
		meta.callback = int(r.subprog)
	case ArgPtrToStack:
		if r.typ != ptrToStack {
			return expect("fp")
		}
		meta.cbCtx = *r
	case ArgPtrToRingbufMem:
		if r.typ != ptrToMem || r.flags&memRingbuf == 0 {
			return expect("ringbuf_mem")
		}
		if r.off != 0 || r.hasVarOff() {
			return e.fail(linux.EACCES, "R%d must have zero offset when passed to release func", regno)
		}
		if r.refID == 0 {
			return e.fail(linux.EINVAL, "R%d must be referenced when passed to release function", regno)
		}
		meta.release = r.refID
	case ArgPtrToConstStr:
		return e.checkConstStr(regno, r)
	case ArgPtrToLong, ArgPtrToInt:
		if !isMemPointer(r) {
			return expect(memTypesList)
		}
		size := int64(8)
		if base == ArgPtrToInt {
			size = 4
		}
		return e.helperMemAccess(regno, r, size, true, false)
	default:
		return e.fail(linux.EFAULT, "verifier internal error: unsupported arg type %d of %s", base, p.Name)
	}
	return nil
}

// isMemPointer reports whether r is memory a helper may read or write.
func isMemPointer(r *reg) bool {
	if r.mayBeNull() {
		return false
	}
	switch r.typ {
	case ptrToStack, ptrToMapValue, ptrToMapKey, ptrToMem, ptrToPacket, ptrToPacketMeta:
		return true
	}
	return false
}

// checkSizeArg checks the size of the previous memory argument, and the
// memory itself for that size (check_mem_size_reg).
func (e *env) checkSizeArg(regno isa.Register, r *reg, zeroOK bool, meta *callMeta) error {
	if r.typ != scalarValue {
		return e.fail(linux.EACCES, "R%d type=%s expected=scalar", regno, r.typeName())
	}
	if r.smin < 0 {
		return e.fail(linux.EACCES, "R%d min value is negative, either use unsigned or 'var &= const'", regno)
	}
	if r.umin == 0 && !zeroOK {
		return e.fail(linux.EACCES, "R%d invalid zero-sized read: u64=[%d,%d]", regno, r.umin, r.umax)
	}
	if r.umax >= maxVarOff {
		return e.fail(linux.EACCES, "R%d unbounded memory access, use 'var &= const' or 'if (var < const)'", regno)
	}
	mem := &e.st.cur().regs[meta.memReg]
	if meta.memNull {
		if r.umax != 0 {
			return e.fail(linux.EACCES, "R%d type=%s expected=fp", meta.memReg, mem.typeName())
		}
		return nil
	}
	return e.helperMemAccess(meta.memReg, mem, int64(r.umax), meta.memArg&ArgUninit != 0, zeroOK)
}

// helperMemAccess checks that a helper may read (or, when write, only
// write) size bytes at r (check_helper_mem_access), and records what it
// writes to the stack.
func (e *env) helperMemAccess(regno isa.Register, r *reg, size int64, write, zeroOK bool) error {
	if size == 0 {
		if zeroOK {
			return nil
		}
		return e.fail(linux.EACCES, "invalid zero-sized read")
	}
	kind := accessRead
	if write {
		kind = accessWrite
	}
	a := memAccess{regno: regno, ptr: r, size: int(size), kind: kind}
	switch r.typ {
	case ptrToStack:
		return e.helperStackAccess(a)
	case ptrToMapValue:
		if write && r.m.readOnlyProg() {
			return e.fail(linux.EACCES, "write into map forbidden, value_size=%d off=%d size=%d", r.m.ValueSize, r.off, size)
		}
		return e.checkRegion(a, int(r.m.ValueSize), "map value")
	case ptrToMapKey:
		if write {
			return e.fail(linux.EACCES, "R%d cannot write into %s", regno, r.typeName())
		}
		return e.checkRegion(a, int(r.m.KeySize), "map key")
	case ptrToMem:
		return e.checkRegion(a, int(r.size), "memory")
	case ptrToCtx:
		return e.checkRegion(a, e.ctx.size, "context")
	}
	_, err := e.checkPacketAccess(a)
	return err
}

// helperStackAccess checks a helper's access to [ptr, ptr+size) of a stack
// (check_stack_range_initialized): in bounds, initialised if read, and
// marked written if written.
func (e *env) helperStackAccess(a memAccess) error {
	p := a.ptr
	f := e.stackFrame(p)
	lo, hi := int(p.off)+int(p.smin), int(p.off)+int(p.smax)+a.size
	if !p.hasVarOff() {
		lo, hi = int(p.off)+int(p.varOff.value), int(p.off)+int(p.varOff.value)+a.size
	} else if p.smax >= maxVarOff || p.smin <= -maxVarOff {
		return e.fail(linux.EACCES, "R%d unbounded indirect variable offset stack access", a.regno)
	}
	if lo < -StackSize || hi > 0 {
		return e.fail(linux.EACCES, "invalid indirect access to stack R%d off=%d size=%d", a.regno, lo, a.size)
	}
	e.noteStackDepth(f, lo)
	frameNo := int(p.frame)
	if a.kind == accessWrite {
		if !p.hasVarOff() && a.size%slotSize == 0 && lo%slotSize == 0 {
			for off := lo; off < hi; off += slotSize {
				e.stackWrite(f, frameNo, off, slotSize, nil)
			}
			return nil
		}
		for off := lo; off < hi; off++ {
			e.stackWrite(f, frameNo, off, 1, nil)
		}
		return nil
	}
	for off := lo; off < hi; off++ {
		s := f.peekSlot(off)
		slotIndex := (-off - 1) / slotSize
		e.markSlotRead(frameNo, slotIndex)
		k := stackInvalid
		if s != nil {
			k = s.kinds[off+(slotIndex+1)*slotSize]
		}
		if k == stackInvalid && e.opts.StrictStackReads {
			return e.fail(linux.EACCES, "invalid indirect read from stack R%d off %d+%d size %d", a.regno, lo, off-lo, a.size)
		}
	}
	return nil
}

// checkConstStr checks a format string argument: a NUL-terminated string
// in a frozen read-only map, at a known offset (ARG_PTR_TO_CONST_STR).
func (e *env) checkConstStr(regno isa.Register, r *reg) error {
	if r.typ != ptrToMapValue {
		return e.fail(linux.EACCES, "R%d type=%s expected=map_value", regno, r.typeName())
	}
	if !r.m.constant() {
		return e.fail(linux.EACCES, "R%d does not point to a readonly map'", regno)
	}
	if r.hasVarOff() {
		return e.fail(linux.EACCES, "R%d is not a constant address'", regno)
	}
	off := int(r.off)
	if off < 0 || off >= len(r.m.Contents) {
		return e.fail(linux.EACCES, "invalid access to map value pointer, value_size=%d off=%d", r.m.ValueSize, off)
	}
	if !strings.Contains(string(r.m.Contents[off:]), "\x00") {
		return e.fail(linux.EACCES, "string is not zero-terminated")
	}
	return nil
}

// helperMaps are the map types some helpers require.
var helperMaps = map[linux.BPFFuncID][]linux.BPFMapType{
	linux.BPF_FUNC_tail_call:             {linux.BPF_MAP_TYPE_PROG_ARRAY},
	linux.BPF_FUNC_perf_event_read:       {linux.BPF_MAP_TYPE_PERF_EVENT_ARRAY},
	linux.BPF_FUNC_perf_event_output:     {linux.BPF_MAP_TYPE_PERF_EVENT_ARRAY},
	linux.BPF_FUNC_perf_event_read_value: {linux.BPF_MAP_TYPE_PERF_EVENT_ARRAY},
	linux.BPF_FUNC_skb_output:            {linux.BPF_MAP_TYPE_PERF_EVENT_ARRAY},
	linux.BPF_FUNC_xdp_output:            {linux.BPF_MAP_TYPE_PERF_EVENT_ARRAY},
	linux.BPF_FUNC_ringbuf_output:        {linux.BPF_MAP_TYPE_RINGBUF},
	linux.BPF_FUNC_ringbuf_reserve:       {linux.BPF_MAP_TYPE_RINGBUF},
	linux.BPF_FUNC_ringbuf_query:         {linux.BPF_MAP_TYPE_RINGBUF},
	linux.BPF_FUNC_get_stackid:           {linux.BPF_MAP_TYPE_STACK_TRACE},
	linux.BPF_FUNC_map_peek_elem:         {linux.BPF_MAP_TYPE_QUEUE, linux.BPF_MAP_TYPE_STACK, linux.BPF_MAP_TYPE_BLOOM_FILTER},
	linux.BPF_FUNC_map_pop_elem:          {linux.BPF_MAP_TYPE_QUEUE, linux.BPF_MAP_TYPE_STACK},
	linux.BPF_FUNC_map_push_elem:         {linux.BPF_MAP_TYPE_QUEUE, linux.BPF_MAP_TYPE_STACK, linux.BPF_MAP_TYPE_BLOOM_FILTER},
	linux.BPF_FUNC_redirect_map: {linux.BPF_MAP_TYPE_DEVMAP, linux.BPF_MAP_TYPE_DEVMAP_HASH,
		linux.BPF_MAP_TYPE_CPUMAP, linux.BPF_MAP_TYPE_XSKMAP},
	linux.BPF_FUNC_map_lookup_percpu_elem: {linux.BPF_MAP_TYPE_PERCPU_ARRAY, linux.BPF_MAP_TYPE_PERCPU_HASH,
		linux.BPF_MAP_TYPE_LRU_PERCPU_HASH},
}

// mapHelpers are the helpers some map types allow (the other direction).
var mapHelpers = map[linux.BPFMapType][]linux.BPFFuncID{
	linux.BPF_MAP_TYPE_PROG_ARRAY: {linux.BPF_FUNC_tail_call},
	linux.BPF_MAP_TYPE_PERF_EVENT_ARRAY: {linux.BPF_FUNC_perf_event_read, linux.BPF_FUNC_perf_event_output,
		linux.BPF_FUNC_perf_event_read_value, linux.BPF_FUNC_skb_output, linux.BPF_FUNC_xdp_output},
	linux.BPF_MAP_TYPE_RINGBUF: {linux.BPF_FUNC_ringbuf_output, linux.BPF_FUNC_ringbuf_reserve,
		linux.BPF_FUNC_ringbuf_query},
	linux.BPF_MAP_TYPE_STACK_TRACE:  {linux.BPF_FUNC_get_stackid},
	linux.BPF_MAP_TYPE_QUEUE:        {linux.BPF_FUNC_map_peek_elem, linux.BPF_FUNC_map_pop_elem, linux.BPF_FUNC_map_push_elem},
	linux.BPF_MAP_TYPE_STACK:        {linux.BPF_FUNC_map_peek_elem, linux.BPF_FUNC_map_pop_elem, linux.BPF_FUNC_map_push_elem},
	linux.BPF_MAP_TYPE_BLOOM_FILTER: {linux.BPF_FUNC_map_peek_elem, linux.BPF_FUNC_map_push_elem},
}

// forEachMaps are the maps bpf_for_each_map_elem can walk (those with
// map_for_each_callback).
var forEachMaps = []linux.BPFMapType{linux.BPF_MAP_TYPE_HASH, linux.BPF_MAP_TYPE_LRU_HASH,
	linux.BPF_MAP_TYPE_ARRAY, linux.BPF_MAP_TYPE_PERCPU_HASH, linux.BPF_MAP_TYPE_LRU_PERCPU_HASH,
	linux.BPF_MAP_TYPE_PERCPU_ARRAY}

// checkMapCompat checks that the map and the helper go together, both ways
// (check_map_func_compatibility).
func (e *env) checkMapCompat(id int32, p *HelperProto, m *Map) error {
	if m == nil {
		return nil
	}
	fail := func() error {
		return e.fail(linux.EINVAL, "cannot pass map_type %d into func %s#%d", m.Type, helperName(id), id)
	}
	if p.Callback == CallbackForEachMap && !slices.Contains(forEachMaps, m.Type) {
		return e.fail(linux.ENOTSUPP, "callback function not allowed for map")
	}
	if want, ok := helperMaps[linux.BPFFuncID(id)]; ok && !slices.Contains(want, m.Type) {
		return fail()
	}
	if allowed, ok := mapHelpers[m.Type]; ok && !slices.Contains(allowed, linux.BPFFuncID(id)) {
		return fail()
	}
	return nil
}

// callbackCall is a helper that runs a program function as a callback
// (bpf_loop, bpf_for_each_map_elem). Like Linux since 6.7, the callback is
// verified as the body of a loop around the call: each arrival at the call
// splits into "the helper returns now" and "the helper calls the callback
// once more", whose exit comes back to the call; the call is a loop head
// where states reach a fixpoint (see prune.go).
func (e *env) callbackCall(p *HelperProto, meta *callMeta) (bool, error) {
	call := e.insn
	if meta.callback < 0 {
		return false, e.fail(linux.EFAULT, "verifier internal error: callback of %s not found", p.Name)
	}
	e.aux[call].loopHead = true
	e.aux[call].prunePoint = true
	caller := e.st.cur()
	var iterations uint64
	var args [5]reg
	switch p.Callback {
	case CallbackLoop:
		// nr_loops is a u32 argument: only the low half of r1 counts.
		nr := &caller.regs[isa.R1]
		iterations = min(uint64(nr.u32max), maxLoops)
		if nr.u32min > maxLoops {
			iterations = 0 // bpf_loop returns -E2BIG without calling
		}
		args[0] = scalarReg(rangeBounds(0, max(iterations, 1)-1))
		args[1] = meta.cbCtx
	case CallbackForEachMap:
		iterations = uint64(meta.m.MaxEntries)
		args[0] = pointer(constPtrToMap)
		args[0].m = meta.m
		args[1] = pointer(ptrToMapKey)
		args[1].m = meta.m
		args[2] = pointer(ptrToMapValue)
		args[2].m = meta.m
		args[3] = meta.cbCtx
	}
	if args[1].typ == notInit && p.Callback == CallbackLoop {
		args[1] = constScalar(0)
	}
	if args[3].typ == notInit && p.Callback == CallbackForEachMap {
		args[3] = constScalar(0)
	}
	k := meta.callback
	e.subprogs[e.aux[call].subprog].callees[k] = true

	// The helper returns: r0 is what it returns, and the loop is left.
	iter := e.st.loopIters[call]
	saved, savedWritten := e.st.clone(), append([]liveSet(nil), e.written...)
	if err := e.helperReturn(p, meta); err != nil {
		return false, err
	}
	delete(e.st.loopIters, call)
	if err := e.pushPath(call + 1); err != nil {
		return false, err
	}
	e.st, e.written = saved, savedWritten
	if uint64(iter) >= iterations {
		// No iteration left on this path: only the return is possible.
		return true, nil
	}
	if e.st.loopIters == nil {
		e.st.loopIters = map[int]int{}
	}
	e.st.loopIters[call] = iter + 1
	cb := &callbackFrame{retMin: 0, retMax: 1, callInsn: call}
	if err := e.pushFrame(k, call, args, cb); err != nil {
		return false, err
	}
	return false, nil
}

// pushFrame enters subprogram k in a new frame with r1-r5 = args
// (setup_func_entry).
func (e *env) pushFrame(k, callsite int, args [5]reg, cb *callbackFrame) error {
	depth := len(e.st.frames)
	if depth >= MaxCallFrames {
		return e.fail(linux.E2BIG, "the call stack of %d frames is too deep !", depth+1)
	}
	f := &funcState{callsite: callsite, subprog: k, callback: cb, frameNo: depth}
	for i := range args {
		f.regs[isa.R1+isa.Register(i)] = args[i]
	}
	f.regs[isa.R10] = pointer(ptrToStack)
	f.regs[isa.R10].frame = uint8(depth)
	e.st.frames = append(e.st.frames, f)
	e.written = append(e.written, allLive())
	e.prevInsn = e.insn
	e.insn = e.subprogs[k].start
	return nil
}

// checkSubprogCall is a bpf-to-bpf call (check_func_call): the callee gets
// r1-r5 and a frame of its own.
func (e *env) checkSubprogCall(ins isa.Instruction) error {
	target := e.insn + 1 + int(ins.Imm)
	k := e.aux[target].subprog
	caller := e.st.cur()
	var args [5]reg
	for i := range args {
		r := isa.R1 + isa.Register(i)
		args[i] = caller.regs[r]
		if args[i].typ != notInit {
			// The callee may read it: liveness flows through the call.
			e.markRegRead(len(e.st.frames)-1, r)
		}
	}
	e.subprogs[e.aux[e.insn].subprog].callees[k] = true
	return e.pushFrame(k, e.insn, args, nil)
}

// checkExit is the exit instruction: a return from a subprogram or a
// callback, or the end of the program.
func (e *env) checkExit() (done bool, err error) {
	if _, err := e.regRead(isa.R0); err != nil {
		return false, err
	}
	depth := len(e.st.frames) - 1
	callee := e.st.cur()
	if depth == 0 {
		if err := e.checkLeaks(0); err != nil {
			return false, err
		}
		return true, nil
	}
	r0 := callee.regs[isa.R0]
	if cb := callee.callback; cb != nil {
		if r0.typ != scalarValue {
			return false, e.fail(linux.EACCES, "At callback return the register R0 is not a known value (%s)", r0.typeName())
		}
		if r0.smin < cb.retMin || r0.smax > cb.retMax {
			return false, e.fail(linux.EACCES, "At callback return the register R0 has %s should have been in [%d, %d]",
				scalarRangeString(&r0), cb.retMin, cb.retMax)
		}
		if err := e.checkLeaks(depth); err != nil {
			return false, err
		}
		e.popFrame()
		// Back to the helper call: it may call the callback again.
		e.prevInsn = e.insn
		e.insn = cb.callInsn
		return false, nil
	}
	if r0.typ == ptrToStack && int(r0.frame) == depth {
		return false, e.fail(linux.EINVAL, "cannot return stack pointer to the caller")
	}
	callsite := callee.callsite
	e.popFrame()
	if err := e.setReg(isa.R0, r0); err != nil {
		return false, err
	}
	e.clobberCallerSaved()
	e.prevInsn = e.insn
	e.insn = callsite + 1
	return false, nil
}

// popFrame leaves the current frame. Pointers into it that survive in the
// frames below would dangle: they become plain numbers.
func (e *env) popFrame() {
	depth := len(e.st.frames) - 1
	e.st.frames[depth] = nil
	e.st.frames = e.st.frames[:depth]
	e.written = e.written[:depth]
	forEachReg(e.st, func(r *reg) {
		if r.typ == ptrToStack && int(r.frame) >= depth {
			*r = unknownScalar()
		}
	})
}

// checkLeaks refuses an exit that leaves references acquired in frames
// from depth up unreleased (check_reference_leak).
func (e *env) checkLeaks(depth int) error {
	for _, r := range e.st.refs {
		if r.frame >= depth {
			return e.fail(linux.EINVAL, "Unreleased reference id=%d alloc_insn=%d", r.id, r.insn)
		}
	}
	return nil
}

// scalarRangeString describes a return value for messages.
func scalarRangeString(r *reg) string {
	if r.isUnknown() {
		return "unknown scalar value"
	}
	var parts []string
	if r.smin > math.MinInt64 {
		parts = append(parts, fmt.Sprintf("smin=%d", r.smin))
	}
	if r.smax < math.MaxInt64 {
		parts = append(parts, fmt.Sprintf("smax=%d", r.smax))
	}
	return strings.Join(parts, " ")
}

// checkLdAbs is the legacy LD_ABS and LD_IND packet loads (check_ld_abs):
// r6 must hold the context, r1-r5 are clobbered and r0 gets the value.
func (e *env) checkLdAbs(ins isa.Instruction, op isa.Op) error {
	if !e.ctx.ldAbs {
		return e.fail(linux.EINVAL, "BPF_LD_[ABS|IND] instructions not allowed for this program type")
	}
	if len(e.st.refs) > 0 {
		return e.fail(linux.EINVAL, "BPF_LD_[ABS|IND] would lead to reference leak")
	}
	r6, err := e.regRead(isa.R6)
	if err != nil {
		return err
	}
	if r6.typ != ptrToCtx {
		return e.fail(linux.EINVAL, "at the time of BPF_LD_ABS|IND R6 != pointer to skb")
	}
	if op.Info().Form == isa.FormPacketInd {
		if _, err := e.regRead(ins.Src); err != nil {
			return err
		}
	}
	if len(e.st.frames) > 1 {
		// A load outside the packet returns 0 from the current function
		// at once: in a subprogram or callback that is a return the
		// caller sees, explored as a path of its own.
		here, saved, savedWritten := e.insn, e.st.clone(), append([]liveSet(nil), e.written...)
		if err := e.setReg(isa.R0, constScalar(0)); err != nil {
			return err
		}
		if _, err := e.checkExit(); err != nil {
			return err
		}
		st, written, target := e.st, e.written, e.insn
		e.st, e.written, e.insn, e.prevInsn = saved, savedWritten, here, here
		if err := e.pushWith(st, written, target); err != nil {
			return err
		}
	}
	e.clobberCallerSaved()
	// Linux leaves r0 unknown, though the load is at most 32 bits.
	return e.setReg(isa.R0, unknownScalar())
}

// resolveMaps finds the maps of every lddw that names one
// (resolve_pseudo_ldimm64).
func (e *env) resolveMaps() error {
	for i, op := range e.ops {
		switch op {
		case isa.OpLoadMapFD, isa.OpLoadMapIdx, isa.OpLoadMapValue, isa.OpLoadMapIdxValue:
		default:
			continue
		}
		e.insn = i
		ins := e.insns[i]
		src := isa.PseudoSource(ins.Src)
		ref := vmRef{src, ins.Imm}
		m := e.mapRefs[ref]
		if m == nil {
			var err error
			if e.opts.Maps != nil {
				m, err = e.opts.Maps.Map(src, ins.Imm)
			}
			if m == nil || err != nil {
				if src == isa.PseudoMapIdx || src == isa.PseudoMapIdxValue {
					return e.fail(linux.EINVAL, "fd_idx %d is not pointing to valid bpf_map", ins.Imm)
				}
				return e.fail(linux.EBADF, "fd %d is not pointing to valid bpf_map", ins.Imm)
			}
			e.mapRefs[ref] = m
		}
		if op == isa.OpLoadMapValue || op == isa.OpLoadMapIdxValue {
			off := uint32(e.insns[i+1].Imm)
			if off >= maxVarOff {
				return e.fail(linux.EINVAL, "direct value offset of %d is not allowed", off)
			}
			if !m.hasDirectValue() {
				return e.fail(linux.EINVAL, "no direct value access support for this map type")
			}
			if off >= m.ValueSize {
				return e.fail(linux.EINVAL, "invalid access to map value pointer, value_size=%d off=%d", m.ValueSize, off)
			}
		}
		used := false
		for _, u := range e.maps {
			used = used || u == m
		}
		if !used {
			if len(e.maps) >= MaxUsedMaps {
				return e.fail(linux.E2BIG, "The total number of maps per program has reached the limit of %d", MaxUsedMaps)
			}
			e.maps = append(e.maps, m)
		}
	}
	return nil
}

// checkLoadImm64 is lddw (check_ld_imm).
func (e *env) checkLoadImm64(ins isa.Instruction, op isa.Op) error {
	hi := e.insns[e.insn+1]
	var v reg
	switch op {
	case isa.OpLoadImm64:
		v = constScalar(isa.Imm64(ins, hi))
	case isa.OpLoadMapFD, isa.OpLoadMapIdx:
		v = pointer(constPtrToMap)
		v.m = e.mapRefs[vmRef{isa.PseudoSource(ins.Src), ins.Imm}]
	case isa.OpLoadMapValue, isa.OpLoadMapIdxValue:
		v = pointer(ptrToMapValue)
		v.m = e.mapRefs[vmRef{isa.PseudoSource(ins.Src), ins.Imm}]
		v.off = hi.Imm
	case isa.OpLoadFunc:
		v = pointer(ptrToFunc)
		v.subprog = int32(e.aux[e.insn+1+int(ins.Imm)].subprog)
	}
	return e.setReg(ins.Dst, v)
}
