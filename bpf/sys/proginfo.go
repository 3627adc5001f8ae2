package sys

import (
	"encoding/binary"
	"unsafe"

	"hachi/bpf/isa"
	"hachi/syscall/linux"
)

// progInfo is bpf_prog_get_info_by_fd. Arrays (map_ids, xlated insns,
// func_info, line_info, prog_tags) are copied into the caller's buffers up
// to the lengths the caller gave, and their full lengths reported. Hachi
// has no JIT: the jited fields are zero.
func (c *call) progInfo(p *Prog, uinfo uint64, infoLen uint32) (int, error) {
	var info linux.BPFProgInfo
	n, err := c.infoLen(uinfo, infoLen, unsafe.Sizeof(info))
	if err != nil {
		return -1, err
	}
	if err := c.t.Mem.CopyIn(uinfo, unsafe.Slice((*byte)(unsafe.Pointer(&info)), n)); err != nil {
		return -1, linux.EFAULT
	}
	mem := c.t.Mem
	info.Type = uint32(p.typ)
	info.ID = p.id
	info.LoadTime = p.loadTime
	info.CreatedByUID = p.uid
	info.Bits = 0
	if p.gpl {
		info.Bits = linux.BPFProgInfoGPLCompatible
	}
	info.Tag = p.tag
	info.Name = [linux.BPF_OBJ_NAME_LEN]byte{}
	copy(info.Name[:], p.name)

	p.usedMu.Lock()
	ids := make([]byte, 4*len(p.usedMaps))
	for i, m := range p.usedMaps {
		binary.LittleEndian.PutUint32(ids[4*i:], m.id)
	}
	p.usedMu.Unlock()
	ulen := info.NrMapIDs
	info.NrMapIDs = uint32(len(ids) / 4)
	if k := min(ulen, info.NrMapIDs); k > 0 {
		if err := mem.CopyOut(info.MapIDs, ids[:4*k]); err != nil {
			return -1, linux.EFAULT
		}
	}
	// set_info_rec_size: a record size given must be the kernel's.
	if (info.NrFuncInfo != 0 || info.FuncInfoRecSize != 0) && info.FuncInfoRecSize != 8 ||
		(info.NrLineInfo != 0 || info.LineInfoRecSize != 0) && info.LineInfoRecSize != 16 ||
		(info.NrJitedLineInfo != 0 || info.JitedLineInfoRecSize != 0) && info.JitedLineInfoRecSize != 8 {
		return -1, linux.EINVAL
	}
	info.FuncInfoRecSize, info.LineInfoRecSize, info.JitedLineInfoRecSize = 8, 16, 8
	info.RunTimeNs = p.runTimeNs.Load()
	info.RunCnt = p.runCnt.Load()
	info.RecursionMisses = p.misses.Load()
	info.VerifiedInsns = uint32(p.verified.Stats.Processed)

	if !bpfCapable(c.t) {
		info.JitedProgLen, info.XlatedProgLen = 0, 0
		info.NrJitedKsyms, info.NrJitedFuncLens = 0, 0
		info.NrFuncInfo, info.NrLineInfo, info.NrJitedLineInfo = 0, 0, 0
		return 0, c.finishInfo(uinfo, unsafe.Pointer(&info), n)
	}
	xlated := isa.Encode(p.xlated)
	ulen = info.XlatedProgLen
	info.XlatedProgLen = uint32(len(xlated))
	if k := min(ulen, info.XlatedProgLen); k > 0 {
		if err := mem.CopyOut(info.XlatedProgInsns, xlated[:k]); err != nil {
			return -1, linux.EFAULT
		}
	}
	info.JitedProgLen = 0
	info.NrJitedKsyms, info.NrJitedFuncLens = 0, 0
	if p.btf != nil {
		info.BTFID = p.btf.id
	}
	info.AttachBTFID, info.AttachBTFObjID = 0, 0

	ulen = info.NrFuncInfo
	info.NrFuncInfo = uint32(len(p.funcInfo))
	if k := min(ulen, info.NrFuncInfo); k > 0 {
		raw := unsafe.Slice((*byte)(unsafe.Pointer(&p.funcInfo[0])), 8*k)
		if err := mem.CopyOut(info.FuncInfo, raw); err != nil {
			return -1, linux.EFAULT
		}
	}
	ulen = info.NrLineInfo
	info.NrLineInfo = uint32(len(p.lineInfo))
	if k := min(ulen, info.NrLineInfo); k > 0 {
		raw := unsafe.Slice((*byte)(unsafe.Pointer(&p.lineInfo[0])), 16*k)
		if err := mem.CopyOut(info.LineInfo, raw); err != nil {
			return -1, linux.EFAULT
		}
	}
	info.NrJitedLineInfo = 0
	ulen = info.NrProgTags
	info.NrProgTags = 1
	if ulen > 0 {
		if err := mem.CopyOut(info.ProgTags, p.tag[:]); err != nil {
			return -1, linux.EFAULT
		}
	}
	return 0, c.finishInfo(uinfo, unsafe.Pointer(&info), n)
}
