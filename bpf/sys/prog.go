package sys

import (
	"crypto/sha1"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"unsafe"

	"hachi/bpf/helpers"
	"hachi/bpf/isa"
	"hachi/bpf/maps"
	"hachi/bpf/verifier"
	"hachi/bpf/vm"
	"hachi/perf"
	"hachi/syscall"
	"hachi/syscall/linux"
)

// Prog is a loaded program (struct bpf_prog): verified, with an id, the
// maps it uses (each holding a reference), its BTF and line information,
// and run statistics. Descriptors, pins, links, prog arrays and perf
// events hold references; the last one frees its id and its maps.
type Prog struct {
	refs atomic.Int64
	id   uint32
	sys  *System

	typ                linux.BPFProgType
	expectedAttachType linux.BPFAttachType
	name               string
	tag                [linux.BPF_TAG_SIZE]byte
	gpl                bool
	loadTime           uint64
	uid                uint32

	verified *verifier.Program
	// insns are the instructions as loaded (map descriptors in lddw);
	// xlated is what BPF_OBJ_GET_INFO_BY_FD reports as xlated_prog_insns.
	insns  []isa.Instruction
	xlated []isa.Instruction

	usedMu   sync.Mutex
	usedMaps []*Map

	btf      *BTF
	funcInfo []linux.BPFFuncInfo
	lineInfo []linux.BPFLineInfo

	runCnt    atomic.Uint64
	runTimeNs atomic.Uint64
	misses    atomic.Uint64
}

var (
	_ maps.Prog       = (*Prog)(nil)
	_ perf.ProgramRef = (*Prog)(nil)
)

// VMProgram implements maps.Prog: what tail calls and the kernel run.
func (p *Prog) VMProgram() *vm.Program { return p.verified.VM() }

// ProgType implements maps.Prog.
func (p *Prog) ProgType() linux.BPFProgType { return p.typ }

// Type implements perf.Program: the program type.
func (p *Prog) Type() linux.BPFProgType { return p.typ }

// Hold implements perf.ProgramRef: a reference for an event
// (PERF_EVENT_IOC_SET_BPF's bpf_prog_get), dropped by Put.
func (p *Prog) Hold() { p.get() }

// Put implements perf.Program: an event drops its reference.
func (p *Prog) Put() { p.put() }

// CountMissed implements perf.Program: a run skipped because a program
// was already running on the CPU (bpf_prog_inc_misses_counter), reported
// as recursion_misses.
func (p *Prog) CountMissed() { p.misses.Add(1) }

// ExpectedAttachType is expected_attach_type at load.
func (p *Prog) ExpectedAttachType() linux.BPFAttachType { return p.expectedAttachType }

// ID is the program's id.
func (p *Prog) ID() uint32 { return p.id }

// MaxCtxOffset is one past the largest context offset the program reads,
// for attach layers that check it against the real context (tracepoints).
func (p *Prog) MaxCtxOffset() int { return p.verified.MaxCtxOffset }

// Run implements perf.Program: it runs the program on env with ctx as its
// context and returns r0 (bpf_prog_run). A verified program cannot fault;
// if the interpreter reports one anyway, r0 is 0, as a program Linux stops
// returns.
func (p *Prog) Run(env *vm.Env, ctx vm.Region) uint64 {
	r0, err := p.run(env, ctx)
	if err != nil {
		return 0
	}
	return r0
}

// run is bpf_prog_run, counting run time and runs while BPF_ENABLE_STATS
// is in force.
func (p *Prog) run(env *vm.Env, ctx vm.Region) (uint64, error) {
	if p.sys.statsEnabled.Load() == 0 {
		return p.verified.VM().Run(env, ctx)
	}
	start := p.sys.env.Nanotime()
	r0, err := p.verified.VM().Run(env, ctx)
	p.runTimeNs.Add(uint64(p.sys.env.Nanotime() - start))
	p.runCnt.Add(1)
	return r0, err
}

// Release implements syscall.FileObject.
func (p *Prog) Release() { p.put() }

func (p *Prog) pinGet() { p.get() }
func (p *Prog) pinPut() { p.put() }

func (p *Prog) get() { p.refs.Add(1) }

// tryGet is bpf_prog_inc_not_zero.
func (p *Prog) tryGet() bool {
	for {
		n := p.refs.Load()
		if n <= 0 {
			return false
		}
		if p.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// put is bpf_prog_put: the last reference frees the program's id and
// drops its maps and BTF.
func (p *Prog) put() {
	if p.refs.Add(-1) != 0 {
		return
	}
	p.sys.progs.remove(p.id)
	p.releaseResources()
}

func (p *Prog) releaseResources() {
	p.usedMu.Lock()
	used := p.usedMaps
	p.usedMaps = nil
	p.usedMu.Unlock()
	for _, m := range used {
		m.put()
	}
	if p.btf != nil {
		p.btf.put()
	}
}

// progFromFD is bpf_prog_get: EBADF for a closed descriptor, EINVAL for one
// that is not a program. The caller owns the reference.
func (c *call) progFromFD(fd uint32) (*Prog, error) {
	f, err := getFile(c.t, fd)
	if err != nil {
		return nil, err
	}
	defer f.DecRef()
	p, ok := f.Object().(*Prog)
	if !ok {
		return nil, linux.EINVAL
	}
	p.get()
	return p, nil
}

// Program load flags Linux 6.1 accepts.
const progFlagsMask = linux.BPF_F_STRICT_ALIGNMENT | linux.BPF_F_ANY_ALIGNMENT | linux.BPF_F_TEST_STATE_FREQ |
	linux.BPF_F_SLEEPABLE | linux.BPF_F_TEST_RND_HI32 | linux.BPF_F_XDP_HAS_FRAGS

// Instruction limits (BPF_COMPLEXITY_LIMIT_INSNS for bpf_capable loaders,
// BPF_MAXINSNS otherwise).
const (
	maxInsnsPrivileged   = 1_000_000
	maxInsnsUnprivileged = 4096
)

// licenseLen is the size of bpf_prog_load's license buffer, NUL included.
const licenseLen = 128

// licenseIsGPLCompatible is license_is_gpl_compatible (include/linux/license.h).
func licenseIsGPLCompatible(l string) bool {
	switch l {
	case "GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL":
		return true
	}
	return false
}

// isNetAdminProgType is is_net_admin_prog_type.
func isNetAdminProgType(t linux.BPFProgType) bool {
	switch t {
	case linux.BPF_PROG_TYPE_SCHED_CLS, linux.BPF_PROG_TYPE_SCHED_ACT, linux.BPF_PROG_TYPE_XDP,
		linux.BPF_PROG_TYPE_LWT_IN, linux.BPF_PROG_TYPE_LWT_OUT, linux.BPF_PROG_TYPE_LWT_XMIT,
		linux.BPF_PROG_TYPE_LWT_SEG6LOCAL, linux.BPF_PROG_TYPE_SK_SKB, linux.BPF_PROG_TYPE_SK_MSG,
		linux.BPF_PROG_TYPE_LIRC_MODE2, linux.BPF_PROG_TYPE_FLOW_DISSECTOR, linux.BPF_PROG_TYPE_CGROUP_DEVICE,
		linux.BPF_PROG_TYPE_CGROUP_SOCK, linux.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, linux.BPF_PROG_TYPE_CGROUP_SOCKOPT,
		linux.BPF_PROG_TYPE_CGROUP_SYSCTL, linux.BPF_PROG_TYPE_SOCK_OPS, linux.BPF_PROG_TYPE_EXT:
		return true
	}
	return false
}

// isPerfmonProgType is is_perfmon_prog_type.
func isPerfmonProgType(t linux.BPFProgType) bool {
	switch t {
	case linux.BPF_PROG_TYPE_KPROBE, linux.BPF_PROG_TYPE_TRACEPOINT, linux.BPF_PROG_TYPE_PERF_EVENT,
		linux.BPF_PROG_TYPE_RAW_TRACEPOINT, linux.BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE,
		linux.BPF_PROG_TYPE_TRACING, linux.BPF_PROG_TYPE_LSM, linux.BPF_PROG_TYPE_STRUCT_OPS,
		linux.BPF_PROG_TYPE_EXT:
		return true
	}
	return false
}

// progTypes are the program types Hachi has (find_prog_type answers
// EINVAL for the others, as a Linux built without them): the ones the
// verifier knows a context for.
var progTypes = map[linux.BPFProgType]bool{
	linux.BPF_PROG_TYPE_SOCKET_FILTER:  true,
	linux.BPF_PROG_TYPE_KPROBE:         true,
	linux.BPF_PROG_TYPE_TRACEPOINT:     true,
	linux.BPF_PROG_TYPE_XDP:            true,
	linux.BPF_PROG_TYPE_PERF_EVENT:     true,
	linux.BPF_PROG_TYPE_RAW_TRACEPOINT: true,
}

// checkAttach is bpf_prog_load_fixup_attach_type with
// bpf_prog_load_check_attach, for a kernel without vmlinux BTF.
func checkAttach(t linux.BPFProgType, eat linux.BPFAttachType, hasAttachBTF bool, btfID uint32, dst *Prog) (linux.BPFAttachType, error) {
	switch t {
	case linux.BPF_PROG_TYPE_CGROUP_SOCK:
		if eat == 0 {
			eat = linux.BPF_CGROUP_INET_SOCK_CREATE
		}
	case linux.BPF_PROG_TYPE_SK_REUSEPORT:
		if eat == 0 {
			eat = linux.BPF_SK_REUSEPORT_SELECT
		}
	}
	if btfID != 0 {
		if btfID > 0xfffff || !hasAttachBTF && dst == nil { // BTF_MAX_TYPE
			return eat, linux.EINVAL
		}
		switch t {
		case linux.BPF_PROG_TYPE_TRACING, linux.BPF_PROG_TYPE_LSM, linux.BPF_PROG_TYPE_STRUCT_OPS, linux.BPF_PROG_TYPE_EXT:
		default:
			return eat, linux.EINVAL
		}
	}
	if hasAttachBTF && (btfID == 0 || dst != nil) {
		return eat, linux.EINVAL
	}
	if dst != nil && t != linux.BPF_PROG_TYPE_TRACING && t != linux.BPF_PROG_TYPE_EXT {
		return eat, linux.EINVAL
	}
	in := func(set ...linux.BPFAttachType) error {
		for _, s := range set {
			if eat == s {
				return nil
			}
		}
		return linux.EINVAL
	}
	switch t {
	case linux.BPF_PROG_TYPE_CGROUP_SOCK:
		return eat, in(linux.BPF_CGROUP_INET_SOCK_CREATE, linux.BPF_CGROUP_INET_SOCK_RELEASE,
			linux.BPF_CGROUP_INET4_POST_BIND, linux.BPF_CGROUP_INET6_POST_BIND)
	case linux.BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
		return eat, in(linux.BPF_CGROUP_INET4_BIND, linux.BPF_CGROUP_INET6_BIND, linux.BPF_CGROUP_INET4_CONNECT,
			linux.BPF_CGROUP_INET6_CONNECT, linux.BPF_CGROUP_INET4_GETPEERNAME, linux.BPF_CGROUP_INET6_GETPEERNAME,
			linux.BPF_CGROUP_INET4_GETSOCKNAME, linux.BPF_CGROUP_INET6_GETSOCKNAME, linux.BPF_CGROUP_UDP4_SENDMSG,
			linux.BPF_CGROUP_UDP6_SENDMSG, linux.BPF_CGROUP_UDP4_RECVMSG, linux.BPF_CGROUP_UDP6_RECVMSG)
	case linux.BPF_PROG_TYPE_CGROUP_SKB:
		return eat, in(linux.BPF_CGROUP_INET_INGRESS, linux.BPF_CGROUP_INET_EGRESS)
	case linux.BPF_PROG_TYPE_CGROUP_SOCKOPT:
		return eat, in(linux.BPF_CGROUP_SETSOCKOPT, linux.BPF_CGROUP_GETSOCKOPT)
	case linux.BPF_PROG_TYPE_SK_LOOKUP:
		return eat, in(linux.BPF_SK_LOOKUP)
	case linux.BPF_PROG_TYPE_SK_REUSEPORT:
		return eat, in(linux.BPF_SK_REUSEPORT_SELECT, linux.BPF_SK_REUSEPORT_SELECT_OR_MIGRATE)
	case linux.BPF_PROG_TYPE_SYSCALL, linux.BPF_PROG_TYPE_EXT:
		if eat != 0 {
			return eat, linux.EINVAL
		}
	}
	return eat, nil
}

// progLoad is BPF_PROG_LOAD (syscall.c:bpf_prog_load, then bpf_check).
func (c *call) progLoad() (int, error) {
	a := c.attr.progLoad()
	typ := linux.BPFProgType(a.ProgType)
	if a.ProgFlags&^progFlagsMask != 0 {
		return -1, linux.EINVAL
	}
	license, err := syscall.CopyInString(c.t.Mem, a.License, licenseLen-1)
	if err != nil && err != linux.ENAMETOOLONG {
		return -1, linux.EFAULT
	}
	gpl := licenseIsGPLCompatible(license)
	limit := uint32(maxInsnsUnprivileged)
	if bpfCapable(c.t) {
		limit = maxInsnsPrivileged
	}
	if a.InsnCnt == 0 || a.InsnCnt > limit {
		return -1, linux.E2BIG
	}
	if typ != linux.BPF_PROG_TYPE_SOCKET_FILTER && typ != linux.BPF_PROG_TYPE_CGROUP_SKB && !bpfCapable(c.t) {
		return -1, linux.EPERM
	}
	if isNetAdminProgType(typ) && !c.t.Caps.Has(syscall.CAP_NET_ADMIN) && !c.t.Caps.Has(syscall.CAP_SYS_ADMIN) {
		return -1, linux.EPERM
	}
	if isPerfmonProgType(typ) && !perfmonCapable(c.t) {
		return -1, linux.EPERM
	}
	// attach_prog_fd names a program to extend, or (as
	// attach_btf_obj_fd) a kernel BTF object; a loaded BTF is ENOTSUPP.
	var dst *Prog
	hasAttachBTF := false
	if a.AttachProgFD != 0 {
		if dst, err = c.progFromFD(a.AttachProgFD); err != nil {
			dst = nil
			b, err := c.btfFromFD(a.AttachProgFD)
			if err != nil {
				return -1, linux.EINVAL
			}
			b.put()
			return -1, linux.ENOTSUPP
		}
		defer dst.put()
	} else if a.AttachBTFID != 0 {
		return -1, linux.EINVAL // no vmlinux BTF (bpf_get_btf_vmlinux gives NULL)
	}
	eat, err := checkAttach(typ, linux.BPFAttachType(a.ExpectedAttachType), hasAttachBTF, a.AttachBTFID, dst)
	if err != nil {
		return -1, err
	}
	code := make([]byte, uint64(a.InsnCnt)*isa.InstructionSize)
	if err := c.t.Mem.CopyIn(a.Insns, code); err != nil {
		return -1, linux.EFAULT
	}
	insns, _ := isa.Decode(code)
	if a.ProgIfindex != 0 {
		return -1, linux.EINVAL // bpf_prog_offload_init: no offload device
	}
	if !progTypes[typ] {
		return -1, linux.EINVAL
	}
	p := &Prog{sys: c.sys, typ: typ, expectedAttachType: eat, gpl: gpl, insns: insns,
		loadTime: c.sys.env.BootTime(), uid: c.t.UID}
	if p.name, err = objNameCpy(a.ProgName); err != nil {
		return -1, err
	}
	if err := c.check(p, a); err != nil {
		p.releaseResources()
		return -1, err
	}
	p.refs.Store(1)
	if p.id, err = c.sys.progs.alloc(p); err != nil {
		p.releaseResources()
		return -1, err
	}
	return installFD(c.t, syscall.NewFile(p, syscall.O_RDWR))
}

// check is bpf_check: the log, the BTF function and line information, the
// verifier with the program's maps, then what bpf_prog_select_runtime
// checks (prog arrays compatible with the program).
func (c *call) check(p *Prog, a *linux.BPFAttrProgLoad) error {
	lg, err := c.newLog(a.LogLevel, a.LogBuf, a.LogSize)
	if err != nil {
		return err
	}
	if err := c.checkBTFInfo(p, a, lg); err != nil {
		return err
	}
	res := &progResolver{c: c, fdArray: a.FDArray, seen: map[*Map]*verifier.Map{}}
	defer res.release()
	impl, protos := c.sys.env.Helpers().ForProgType(p.typ, helpers.Caps{BPF: bpfCapable(c.t), Perfmon: perfmonCapable(c.t)})
	vp, verr := verifier.Verify(p.insns, verifier.Options{
		ProgType:           p.typ,
		ExpectedAttachType: p.expectedAttachType,
		Arch:               c.sys.env.Arch(),
		GPL:                p.gpl,
		Maps:               res,
		Helpers:            impl,
		Protos:             protos,
		Log:                lg,
	})
	if lg.Faulted() {
		return linux.EFAULT // the log could not be written (log->ubuf dropped)
	}
	if verr != nil {
		if res.err != nil {
			return res.err
		}
		return verr
	}
	p.verified = vp
	tag(p)
	// The program keeps the maps it uses.
	for _, vmap := range vp.Maps {
		m := res.owner[vmap]
		m.get()
		p.usedMaps = append(p.usedMaps, m)
	}
	for _, m := range p.usedMaps {
		if pa, ok := m.kind.(*maps.ProgArray); ok && !pa.Compatible(p) {
			return linux.EINVAL // bpf_check_tail_call
		}
	}
	p.xlated = xlate(vp.Insns, res)
	return nil
}

// progResolver is resolve_pseudo_ldimm64's map lookup over the loader's
// descriptors and fd_array (verifier.Resolver).
type progResolver struct {
	c       *call
	fdArray uint64
	seen    map[*Map]*verifier.Map
	owner   map[*verifier.Map]*Map
	byRef   map[resolverRef]*Map
	err     error // the first errno a lookup met, for the verifier's refusal
}

type resolverRef struct {
	src isa.PseudoSource
	ref int32
}

// Map implements verifier.Resolver: EPROTO for an index without
// fd_array, EFAULT if fd_array cannot be read, EBADF or EINVAL for a
// descriptor that is not a map (the verifier's refusal carries the errno
// when it is first met here).
func (r *progResolver) Map(src isa.PseudoSource, ref int32) (*verifier.Map, error) {
	fd := uint32(ref)
	if src == isa.PseudoMapIdx || src == isa.PseudoMapIdxValue {
		if r.fdArray == 0 {
			return nil, r.fail(linux.EPROTO)
		}
		var b [4]byte
		if err := r.c.t.Mem.CopyIn(r.fdArray+uint64(int64(ref))*4, b[:]); err != nil {
			return nil, r.fail(linux.EFAULT)
		}
		fd = binary.LittleEndian.Uint32(b[:])
	}
	m, err := r.c.mapFromFD(fd)
	if err != nil {
		return nil, r.fail(err)
	}
	if r.byRef == nil {
		r.byRef, r.owner = map[resolverRef]*Map{}, map[*verifier.Map]*Map{}
	}
	if vmap, ok := r.seen[m]; ok {
		m.put()
		r.byRef[resolverRef{src, ref}] = m
		return vmap, nil
	}
	vmap := r.verifierMap(m)
	r.seen[m] = vmap
	r.owner[vmap] = m
	r.byRef[resolverRef{src, ref}] = m
	return vmap, nil
}

func (r *progResolver) fail(err error) error {
	if r.err == nil {
		r.err = err
	}
	return err
}

// release drops the references lookups took (the program takes its own).
func (r *progResolver) release() {
	for m := range r.seen {
		m.put()
	}
}

// verifierMap describes m to the verifier.
func (r *progResolver) verifierMap(m *Map) *verifier.Map {
	vmap := &verifier.Map{
		Name: m.name, Type: m.info.Type, KeySize: m.info.KeySize, ValueSize: m.info.ValueSize,
		MaxEntries: m.info.MaxEntries, Flags: m.info.Flags, Handle: m.handle,
	}
	if t, ok := m.kind.(interface{ InnerInfo() maps.Info }); ok {
		in := t.InnerInfo()
		vmap.Inner = &verifier.Map{Type: in.Type, KeySize: in.KeySize, ValueSize: in.ValueSize,
			MaxEntries: in.MaxEntries, Flags: in.Flags}
	}
	if dv, ok := m.kind.(maps.DirectValuer); ok {
		if ptr, size, err := dv.DirectValue(); err == nil {
			vmap.Value = vm.Region{Base: ptr, Size: uintptr(size), Writable: m.info.Flags&linux.BPF_F_RDONLY_PROG == 0}
		}
	}
	if fz, ok := m.kind.(maps.Freezer); ok && fz.Frozen() {
		vmap.Frozen = true
		if vmap.Value.Base != nil {
			vmap.Contents = make([]byte, m.info.ValueSize)
			copy(vmap.Contents, unsafe.Slice((*byte)(vmap.Value.Base), m.info.ValueSize))
		}
	}
	return vmap
}

// tag is bpf_prog_calc_tag as Linux 6.1 computes it: the first 8 bytes of
// the SHA-1 of tagInput. (Linux 6.18 hashes the same bytes with SHA-256.)
func tag(p *Prog) {
	sum := sha1.Sum(tagInput(p.insns))
	copy(p.tag[:], sum[:])
}

// tagInput is what the tag hashes: the instructions as loaded, with the
// descriptors of lddw map_fd and map_value zeroed (both halves' imm) so
// that the tag does not depend on fd numbers.
func tagInput(loaded []isa.Instruction) []byte {
	insns := append([]isa.Instruction(nil), loaded...)
	wasLdMap := false
	ldimm64 := isa.MemOpcode(isa.ClassLD, isa.ModeImm, isa.SizeDW)
	for i := range insns {
		ins := &insns[i]
		switch {
		case !wasLdMap && ins.Opcode == ldimm64 &&
			(isa.PseudoSource(ins.Src) == isa.PseudoMapFD || isa.PseudoSource(ins.Src) == isa.PseudoMapValue):
			wasLdMap = true
			ins.Imm = 0
		case wasLdMap && ins.Opcode == 0 && ins.Dst == 0 && ins.Src == 0 && ins.Offset == 0:
			wasLdMap = false
			ins.Imm = 0
		default:
			wasLdMap = false
		}
	}
	return isa.Encode(insns)
}

// xlate is the program as bpf_insn_prepare_dump shows it: the verified
// instructions with each lddw of a map naming the map by id (src map_fd or
// map_value, fd_array indexes resolved).
func xlate(insns []isa.Instruction, r *progResolver) []isa.Instruction {
	out := append([]isa.Instruction(nil), insns...)
	ldimm64 := isa.MemOpcode(isa.ClassLD, isa.ModeImm, isa.SizeDW)
	for i := 0; i+1 < len(out); i++ {
		ins := &out[i]
		if ins.Opcode != ldimm64 {
			continue
		}
		src := isa.PseudoSource(ins.Src)
		m := r.byRef[resolverRef{src, ins.Imm}]
		if m == nil {
			i++
			continue
		}
		switch src {
		case isa.PseudoMapIdx:
			ins.Src = isa.Register(isa.PseudoMapFD)
		case isa.PseudoMapIdxValue:
			ins.Src = isa.Register(isa.PseudoMapValue)
		}
		ins.Imm = int32(m.id)
		i++
	}
	return out
}

// progGetNextID is BPF_PROG_GET_NEXT_ID.
func (c *call) progGetNextID() (int, error) { return getNextID(c, &c.sys.progs) }

// progGetFDByID is BPF_PROG_GET_FD_BY_ID.
func (c *call) progGetFDByID() (int, error) {
	if !c.t.Caps.Has(syscall.CAP_SYS_ADMIN) {
		return -1, linux.EPERM
	}
	p, ok := c.sys.progs.find(c.attr.getID().StartID, (*Prog).tryGet)
	if !ok {
		return -1, linux.ENOENT
	}
	return installFD(c.t, syscall.NewFile(p, syscall.O_RDWR))
}

// progBindMap is BPF_PROG_BIND_MAP (bpf_prog_bind_map): the program keeps
// one more map alive, as if it used it.
func (c *call) progBindMap() (int, error) {
	a := c.attr.progBindMap()
	if a.Flags != 0 {
		return -1, linux.EINVAL
	}
	p, err := c.progFromFD(a.ProgFD)
	if err != nil {
		return -1, err
	}
	defer p.put()
	m, err := c.mapFromFD(a.MapFD)
	if err != nil {
		return -1, err
	}
	p.usedMu.Lock()
	defer p.usedMu.Unlock()
	for _, u := range p.usedMaps {
		if u == m {
			m.put() // already bound: nothing changes
			return 0, nil
		}
	}
	p.usedMaps = append(p.usedMaps, m)
	return 0, nil
}
