package sys

import (
	"sort"
	"unsafe"

	"hachi/bpf/btf"
	"hachi/bpf/isa"
	"hachi/bpf/log"
	"hachi/syscall/linux"
)

// Record sizes of line_info (MIN_BPF_LINEINFO_SIZE, MAX_LINEINFO_REC_SIZE)
// and core_relos (MIN_CORE_RELO_SIZE, MAX_CORE_RELO_SIZE).
const (
	minLineInfoRecSize = 16
	maxLineInfoRecSize = btf.MaxFuncInfoRecSize
	minCoreReloSize    = 16
	maxCoreReloSize    = btf.MaxFuncInfoRecSize
)

// subprog is what check_btf_info needs of a subprogram: where it starts and
// whether it uses LD_ABS/LD_IND or tail calls.
type subprog struct {
	start              uint32
	hasLdAbs, hasTailC bool
}

// subprogs finds the subprograms as add_subprog_and_kfunc does: the main
// program and the targets of bpf-to-bpf calls and of lddw func. ok is false
// when a target is outside the program: the verifier refuses such a
// program first, as check_subprogs does before check_btf_info.
func subprogs(insns []isa.Instruction) ([]subprog, bool) {
	starts := map[int]bool{0: true}
	ldimm64 := isa.MemOpcode(isa.ClassLD, isa.ModeImm, isa.SizeDW)
	call := isa.Opcode(isa.ClassJMP) | isa.Opcode(isa.JumpCall)
	for i, ins := range insns {
		target := -1
		switch {
		case ins.Opcode == call && ins.Src == linux.BPF_PSEUDO_CALL:
			target = i + 1 + int(ins.Imm)
		case ins.Opcode == ldimm64 && ins.Src == linux.BPF_PSEUDO_FUNC:
			target = i + 1 + int(ins.Imm)
		default:
			continue
		}
		if target < 0 || target >= len(insns) {
			return nil, false
		}
		starts[target] = true
	}
	sorted := make([]int, 0, len(starts))
	for s := range starts {
		sorted = append(sorted, s)
	}
	sort.Ints(sorted)
	subs := make([]subprog, len(sorted))
	for k, s := range sorted {
		subs[k].start = uint32(s)
		end := len(insns)
		if k+1 < len(sorted) {
			end = sorted[k+1]
		}
		for _, ins := range insns[s:end] {
			mode := ins.Opcode.Mode()
			if ins.Opcode.Class() == isa.ClassLD && (mode == isa.ModeAbs || mode == isa.ModeInd) {
				subs[k].hasLdAbs = true
			}
			if ins.Opcode == call && ins.Src == 0 && ins.Imm == int32(linux.BPF_FUNC_tail_call) {
				subs[k].hasTailC = true
			}
		}
	}
	return subs, true
}

// checkBTFInfo is check_btf_info: with func_info or line_info, prog_btf_fd
// must be a loaded BTF (EBADF, EINVAL) and the records must match the
// program's subprograms and instructions. Loaders probe for this
// (cilium/ebpf expects EBADF for func_info with a bad descriptor).
func (c *call) checkBTFInfo(p *Prog, a *linux.BPFAttrProgLoad, lg *log.Log) error {
	if a.FuncInfoCnt == 0 && a.LineInfoCnt == 0 {
		return nil
	}
	subs, ok := subprogs(p.insns)
	if !ok {
		return nil // the verifier refuses the program with check_subprogs' error
	}
	b, err := c.btfFromFD(a.ProgBTFFD)
	if err != nil {
		return err
	}
	p.btf = b
	if err := c.checkBTFFunc(p, a, subs, lg); err != nil {
		return err
	}
	if err := c.checkBTFLine(p, a, subs, lg); err != nil {
		return err
	}
	if a.CoreReloCnt != 0 {
		if a.CoreReloCnt > (1<<31-1)/16 {
			return linux.EINVAL
		}
		rs := a.CoreReloRecSize
		if rs < minCoreReloSize || rs > maxCoreReloSize || rs%4 != 0 {
			return linux.EINVAL
		}
		// Relocations against kernel types need the kernel's BTF, which
		// Hachi does not have: loaders relocate in user space instead.
		lg.Printf("CO-RE relocations need kernel BTF, which this kernel does not have\n")
		return linux.EINVAL
	}
	return nil
}

// readRecord reads record i of size recSize at base into dst (the kernel's
// size), with bpf_check_uarg_tail_zero on the part past it. A non-zero tail
// writes the kernel's size into the attr field at sizeOff (so a loader can
// retry) and is E2BIG.
func (c *call) readRecord(base uint64, i, recSize uint32, dst []byte, sizeOff uintptr, lg *log.Log, what string) error {
	addr := base + uint64(i)*uint64(recSize)
	if err := checkUargTailZero(c.t.Mem, addr, uint64(len(dst)), uint64(recSize)); err != nil {
		if err == linux.E2BIG {
			lg.Printf("nonzero tailing record in %s", what)
			if c.putU32(sizeOff, uint32(min(len(dst), int(recSize)))) != nil {
				return linux.EFAULT
			}
		}
		return err
	}
	n := min(uint32(len(dst)), recSize)
	if err := c.t.Mem.CopyIn(addr, dst[:n]); err != nil {
		return linux.EFAULT
	}
	return nil
}

// checkBTFFunc is check_btf_func.
func (c *call) checkBTFFunc(p *Prog, a *linux.BPFAttrProgLoad, subs []subprog, lg *log.Log) error {
	n := a.FuncInfoCnt
	if n == 0 {
		return nil
	}
	if int(n) != len(subs) {
		lg.Printf("number of funcs in func_info doesn't match number of subprogs\n")
		return linux.EINVAL
	}
	if err := btf.CheckFuncInfoRecSize(a.FuncInfoRecSize, lg); err != nil {
		return err
	}
	starts := make([]uint32, len(subs))
	for i, s := range subs {
		starts[i] = s.start
	}
	recs := make([]linux.BPFFuncInfo, n)
	sizeOff := unsafe.Offsetof(linux.BPFAttrProgLoad{}.FuncInfoRecSize)
	for i := range recs {
		raw := unsafe.Slice((*byte)(unsafe.Pointer(&recs[i])), unsafe.Sizeof(recs[i]))
		if err := c.readRecord(a.FuncInfo, uint32(i), a.FuncInfoRecSize, raw, sizeOff, lg, "func info"); err != nil {
			// Linux checks records one by one: the ones before count first.
			if _, perr := p.btf.spec.CheckFuncInfo(recs[:i], starts[:i], lg); perr != nil {
				return perr
			}
			return err
		}
	}
	aux, err := p.btf.spec.CheckFuncInfo(recs, starts, lg)
	if err != nil {
		return err
	}
	for i := 1; i < len(aux); i++ {
		if aux[i].ScalarReturn {
			continue
		}
		if subs[i].hasLdAbs {
			lg.Printf("LD_ABS is only allowed in functions that return 'int'.\n")
			return linux.EINVAL
		}
		if subs[i].hasTailC {
			lg.Printf("tail_call is only allowed in functions that return 'int'.\n")
			return linux.EINVAL
		}
	}
	p.funcInfo = recs
	return nil
}

// checkBTFLine is check_btf_line.
func (c *call) checkBTFLine(p *Prog, a *linux.BPFAttrProgLoad, subs []subprog, lg *log.Log) error {
	n := a.LineInfoCnt
	if n == 0 {
		return nil
	}
	if n > (1<<31-1)/uint32(unsafe.Sizeof(linux.BPFLineInfo{})) {
		return linux.EINVAL
	}
	rs := a.LineInfoRecSize
	if rs < minLineInfoRecSize || rs > maxLineInfoRecSize || rs%4 != 0 {
		return linux.EINVAL
	}
	recs := make([]linux.BPFLineInfo, n)
	sizeOff := unsafe.Offsetof(linux.BPFAttrProgLoad{}.LineInfoRecSize)
	progLen := uint32(len(p.insns))
	s := 0
	var prev uint32
	for i := range recs {
		li := &recs[i]
		raw := unsafe.Slice((*byte)(unsafe.Pointer(li)), unsafe.Sizeof(*li))
		if err := c.readRecord(a.LineInfo, uint32(i), rs, raw, sizeOff, lg, "line_info"); err != nil {
			return err
		}
		if i > 0 && li.InsnOff <= prev || li.InsnOff >= progLen {
			lg.Printf("Invalid line_info[%d].insn_off:%d (prev_offset:%d prog->len:%d)\n", i, li.InsnOff, prev, progLen)
			return linux.EINVAL
		}
		if p.insns[li.InsnOff].Opcode == 0 {
			lg.Printf("Invalid insn code at line_info[%d].insn_off\n", i)
			return linux.EINVAL
		}
		_, okLine := p.btf.spec.StringAt(li.LineOff)
		_, okFile := p.btf.spec.StringAt(li.FileNameOff)
		if !okLine || !okFile {
			lg.Printf("Invalid line_info[%d].line_off or .file_name_off\n", i)
			return linux.EINVAL
		}
		if s != len(subs) {
			if li.InsnOff == subs[s].start {
				s++
			} else if subs[s].start < li.InsnOff {
				lg.Printf("missing bpf_line_info for func#%d\n", s)
				return linux.EINVAL
			}
		}
		prev = li.InsnOff
	}
	if s != len(subs) {
		lg.Printf("missing bpf_line_info for %d funcs starting from func#%d\n", len(subs)-s, s)
		return linux.EINVAL
	}
	p.lineInfo = recs
	return nil
}
