package sys

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"hachi/bpf/maps"
	"hachi/perf"
	"hachi/syscall"
	"hachi/syscall/linux"
)

// LinkOps is the attachment side of a link (struct bpf_link_ops): what
// each attach kind does when the link goes, is detached or gets a new
// program.
type LinkOps interface {
	// Release detaches the program from its hook; it runs once, when the
	// last reference to the link goes or at BPF_LINK_DETACH.
	Release()
	// Detach is BPF_LINK_DETACH; kinds without it answer EOPNOTSUPP.
	Detach() error
	// UpdateProg is BPF_LINK_UPDATE: replace the attached program with
	// next (old, when not nil, must be the attached one: EPERM
	// otherwise); kinds without it answer EINVAL.
	UpdateProg(next, old *Prog) error
	// FillInfo writes the kind's part of struct bpf_link_info.
	FillInfo(info *linux.BPFLinkInfo)
}

// Link is a bpf_link: a program attached to a hook, owned by descriptors
// and pins. It holds a reference to its program.
type Link struct {
	refs atomic.Int64
	id   uint32
	sys  *System
	typ  linux.BPFLinkType
	ops  LinkOps

	mu       sync.Mutex
	prog     *Prog
	released bool
}

// ID is the link's id.
func (l *Link) ID() uint32 { return l.id }

// Prog is the attached program.
func (l *Link) Prog() *Prog {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.prog
}

// Release implements syscall.FileObject.
func (l *Link) Release() { l.put() }

func (l *Link) pinGet() { l.get() }
func (l *Link) pinPut() { l.put() }

func (l *Link) get() { l.refs.Add(1) }

func (l *Link) tryGet() bool {
	for {
		n := l.refs.Load()
		if n <= 0 {
			return false
		}
		if l.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// put is bpf_link_put: the last reference detaches the program (if
// BPF_LINK_DETACH has not) and drops it.
func (l *Link) put() {
	if l.refs.Add(-1) != 0 {
		return
	}
	l.sys.links.remove(l.id)
	l.release()
	l.mu.Lock()
	p := l.prog
	l.prog = nil
	l.mu.Unlock()
	p.put()
}

// release runs ops.Release once.
func (l *Link) release() {
	l.mu.Lock()
	done := l.released
	l.released = true
	l.mu.Unlock()
	if !done {
		l.ops.Release()
	}
}

// NewLink makes a link of type typ for prog (which it takes a reference
// to) and gives it an id and a descriptor in t (bpf_link_init,
// bpf_link_prime, bpf_link_settle). Attach kinds outside this package
// (perf events) call it once their hook is in place; on failure the caller
// must undo the hook (ops.Release is not called).
func (s *System) NewLink(t *syscall.Task, typ linux.BPFLinkType, prog *Prog, ops LinkOps) (int, error) {
	l := &Link{sys: s, typ: typ, ops: ops, prog: prog}
	l.refs.Store(1)
	id, err := s.links.alloc(l)
	if err != nil {
		return -1, err
	}
	l.id = id
	prog.get()
	fd, err := t.Files.Install(syscall.NewFile(l, syscall.O_RDONLY), true)
	if err != nil {
		l.released = true // the caller undoes the hook
		l.put()
		return -1, err
	}
	return fd, nil
}

// linkFromFD is bpf_link_get_from_fd.
func (c *call) linkFromFD(fd uint32) (*Link, error) {
	f, err := getFile(c.t, fd)
	if err != nil {
		return nil, err
	}
	defer f.DecRef()
	l, ok := f.Object().(*Link)
	if !ok {
		return nil, linux.EINVAL
	}
	l.get()
	return l, nil
}

// PerfEvent is what a perf event's file object implements (perf.Event) so
// that BPF_LINK_CREATE with attach type BPF_PERF_EVENT can attach a
// program to it: Linux's perf_event_set_bpf_prog and
// perf_event_free_bpf_prog. The perf side checks the program against the
// event and answers Linux's errnos (EINVAL for a type mismatch, EEXIST
// when a program is attached, EACCES for a context read past the
// tracepoint's record); AttachBPF takes over one reference to the program,
// which DetachBPF drops.
type PerfEvent interface {
	syscall.FileObject
	AttachBPF(p perf.Program, cookie uint64) error
	DetachBPF()
}

// perf.Event is the perf subsystem's event: links attach to it and perf
// event arrays hold it.
var (
	_ PerfEvent      = (*perf.Event)(nil)
	_ maps.PerfEvent = (*perf.Event)(nil)
)

// perfLink is bpf_perf_link: a program on a perf event; the link holds
// the event's file.
type perfLink struct {
	event PerfEvent
	file  *syscall.File
}

func (l *perfLink) Release() {
	l.event.DetachBPF()
	l.file.DecRef()
}

func (l *perfLink) Detach() error               { return linux.EOPNOTSUPP }
func (l *perfLink) UpdateProg(_, _ *Prog) error { return linux.EINVAL }
func (l *perfLink) FillInfo(*linux.BPFLinkInfo) {}

// attachTypeToProgType is attach_type_to_prog_type.
func attachTypeToProgType(at linux.BPFAttachType) linux.BPFProgType {
	switch at {
	case linux.BPF_CGROUP_INET_INGRESS, linux.BPF_CGROUP_INET_EGRESS:
		return linux.BPF_PROG_TYPE_CGROUP_SKB
	case linux.BPF_CGROUP_INET_SOCK_CREATE, linux.BPF_CGROUP_INET_SOCK_RELEASE,
		linux.BPF_CGROUP_INET4_POST_BIND, linux.BPF_CGROUP_INET6_POST_BIND:
		return linux.BPF_PROG_TYPE_CGROUP_SOCK
	case linux.BPF_CGROUP_INET4_BIND, linux.BPF_CGROUP_INET6_BIND, linux.BPF_CGROUP_INET4_CONNECT,
		linux.BPF_CGROUP_INET6_CONNECT, linux.BPF_CGROUP_INET4_GETPEERNAME, linux.BPF_CGROUP_INET6_GETPEERNAME,
		linux.BPF_CGROUP_INET4_GETSOCKNAME, linux.BPF_CGROUP_INET6_GETSOCKNAME, linux.BPF_CGROUP_UDP4_SENDMSG,
		linux.BPF_CGROUP_UDP6_SENDMSG, linux.BPF_CGROUP_UDP4_RECVMSG, linux.BPF_CGROUP_UDP6_RECVMSG:
		return linux.BPF_PROG_TYPE_CGROUP_SOCK_ADDR
	case linux.BPF_CGROUP_SOCK_OPS:
		return linux.BPF_PROG_TYPE_SOCK_OPS
	case linux.BPF_CGROUP_DEVICE:
		return linux.BPF_PROG_TYPE_CGROUP_DEVICE
	case linux.BPF_SK_MSG_VERDICT:
		return linux.BPF_PROG_TYPE_SK_MSG
	case linux.BPF_SK_SKB_STREAM_PARSER, linux.BPF_SK_SKB_STREAM_VERDICT, linux.BPF_SK_SKB_VERDICT:
		return linux.BPF_PROG_TYPE_SK_SKB
	case linux.BPF_LIRC_MODE2:
		return linux.BPF_PROG_TYPE_LIRC_MODE2
	case linux.BPF_FLOW_DISSECTOR:
		return linux.BPF_PROG_TYPE_FLOW_DISSECTOR
	case linux.BPF_CGROUP_SYSCTL:
		return linux.BPF_PROG_TYPE_CGROUP_SYSCTL
	case linux.BPF_CGROUP_GETSOCKOPT, linux.BPF_CGROUP_SETSOCKOPT:
		return linux.BPF_PROG_TYPE_CGROUP_SOCKOPT
	case linux.BPF_TRACE_ITER, linux.BPF_TRACE_RAW_TP, linux.BPF_TRACE_FENTRY, linux.BPF_TRACE_FEXIT,
		linux.BPF_MODIFY_RETURN:
		return linux.BPF_PROG_TYPE_TRACING
	case linux.BPF_LSM_MAC:
		return linux.BPF_PROG_TYPE_LSM
	case linux.BPF_SK_LOOKUP:
		return linux.BPF_PROG_TYPE_SK_LOOKUP
	case linux.BPF_XDP:
		return linux.BPF_PROG_TYPE_XDP
	case linux.BPF_LSM_CGROUP:
		return linux.BPF_PROG_TYPE_LSM
	}
	return linux.BPF_PROG_TYPE_UNSPEC
}

// attachCheckAttachType is bpf_prog_attach_check_attach_type.
func (c *call) attachCheckAttachType(p *Prog, at linux.BPFAttachType) error {
	switch p.typ {
	case linux.BPF_PROG_TYPE_CGROUP_SOCK, linux.BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
		linux.BPF_PROG_TYPE_CGROUP_SOCKOPT, linux.BPF_PROG_TYPE_SK_LOOKUP:
		if at != p.expectedAttachType {
			return linux.EINVAL
		}
	case linux.BPF_PROG_TYPE_CGROUP_SKB:
		if !c.t.Caps.Has(syscall.CAP_NET_ADMIN) {
			return linux.EPERM
		}
	case linux.BPF_PROG_TYPE_KPROBE:
		if p.expectedAttachType == linux.BPF_TRACE_KPROBE_MULTI && at != linux.BPF_TRACE_KPROBE_MULTI {
			return linux.EINVAL
		}
		if p.expectedAttachType != linux.BPF_TRACE_KPROBE_MULTI && at == linux.BPF_TRACE_KPROBE_MULTI {
			return linux.EINVAL
		}
	}
	return nil
}

// linkCreate is BPF_LINK_CREATE (syscall.c:link_create). Hachi's hooks
// so far are perf events (BPF_PERF_EVENT, for kprobe, tracepoint and
// perf_event programs). The others answer what a Linux without the hook
// answers: XDP EINVAL (no net device has the ifindex), kprobe_multi
// EOPNOTSUPP (no fprobe), cgroup, netns, tracing and iterator kinds EINVAL.
func (c *call) linkCreate() (int, error) {
	a := c.attr.linkCreate()
	p, err := c.progFromFD(a.ProgFD)
	if err != nil {
		return -1, err
	}
	defer p.put()
	at := linux.BPFAttachType(a.AttachType)
	if err := c.attachCheckAttachType(p, at); err != nil {
		return -1, err
	}
	switch p.typ {
	case linux.BPF_PROG_TYPE_EXT:
	case linux.BPF_PROG_TYPE_PERF_EVENT, linux.BPF_PROG_TYPE_TRACEPOINT:
		if at != linux.BPF_PERF_EVENT {
			return -1, linux.EINVAL
		}
	case linux.BPF_PROG_TYPE_KPROBE:
		if at != linux.BPF_PERF_EVENT && at != linux.BPF_TRACE_KPROBE_MULTI {
			return -1, linux.EINVAL
		}
	default:
		if pt := attachTypeToProgType(at); pt == linux.BPF_PROG_TYPE_UNSPEC || pt != p.typ {
			return -1, linux.EINVAL
		}
	}
	switch {
	case p.typ == linux.BPF_PROG_TYPE_PERF_EVENT || p.typ == linux.BPF_PROG_TYPE_TRACEPOINT ||
		p.typ == linux.BPF_PROG_TYPE_KPROBE && at == linux.BPF_PERF_EVENT:
		return c.perfLinkAttach(p, a)
	case p.typ == linux.BPF_PROG_TYPE_KPROBE:
		return -1, linux.EOPNOTSUPP // bpf_kprobe_multi_link_attach without CONFIG_FPROBE
	case p.typ == linux.BPF_PROG_TYPE_XDP:
		if a.Flags != 0 {
			return -1, linux.EINVAL
		}
		return -1, linux.EINVAL // bpf_xdp_link_attach: no device with target_ifindex
	}
	return -1, linux.EINVAL
}

// perfLinkAttach is bpf_perf_link_attach.
func (c *call) perfLinkAttach(p *Prog, a *linux.BPFAttrLinkCreate) (int, error) {
	if a.Flags != 0 {
		return -1, linux.EINVAL
	}
	f, err := getFile(c.t, a.TargetFD)
	if err != nil {
		return -1, err
	}
	ev, ok := f.Object().(PerfEvent)
	if !ok {
		f.DecRef()
		return -1, linux.EBADF // perf_event_get: not a perf event file
	}
	p.get() // the event's reference
	if err := ev.AttachBPF(p, a.PerfEvent().BPFCookie); err != nil {
		p.put()
		f.DecRef()
		return -1, err
	}
	fd, err := c.sys.NewLink(c.t, linux.BPF_LINK_TYPE_PERF_EVENT, p, &perfLink{event: ev, file: f})
	if err != nil {
		ev.DetachBPF()
		f.DecRef()
	}
	return fd, err
}

// linkUpdate is BPF_LINK_UPDATE (link_update).
func (c *call) linkUpdate() (int, error) {
	a := c.attr.linkUpdate()
	if a.Flags&^linux.BPF_F_REPLACE != 0 {
		return -1, linux.EINVAL
	}
	l, err := c.linkFromFD(a.LinkFD)
	if err != nil {
		return -1, err
	}
	defer l.put()
	next, err := c.progFromFD(a.NewProgFD)
	if err != nil {
		return -1, err
	}
	var old *Prog
	if a.Flags&linux.BPF_F_REPLACE != 0 {
		if old, err = c.progFromFD(a.OldProgFD); err != nil {
			next.put()
			return -1, err
		}
		defer old.put()
	} else if a.OldProgFD != 0 {
		next.put()
		return -1, linux.EINVAL
	}
	if err := l.ops.UpdateProg(next, old); err != nil {
		next.put()
		return -1, err
	}
	// The link now holds next (with the reference taken above).
	l.mu.Lock()
	prev := l.prog
	l.prog = next
	l.mu.Unlock()
	prev.put()
	return 0, nil
}

// linkDetach is BPF_LINK_DETACH (link_detach).
func (c *call) linkDetach() (int, error) {
	l, err := c.linkFromFD(c.attr.linkDetach().LinkFD)
	if err != nil {
		return -1, err
	}
	defer l.put()
	return 0, l.ops.Detach()
}

// linkGetFDByID is BPF_LINK_GET_FD_BY_ID.
func (c *call) linkGetFDByID() (int, error) {
	if !c.t.Caps.Has(syscall.CAP_SYS_ADMIN) {
		return -1, linux.EPERM
	}
	l, ok := c.sys.links.find(c.attr.getID().StartID, (*Link).tryGet)
	if !ok {
		return -1, linux.ENOENT
	}
	return installFD(c.t, syscall.NewFile(l, syscall.O_RDONLY))
}

// linkGetNextID is BPF_LINK_GET_NEXT_ID.
func (c *call) linkGetNextID() (int, error) { return getNextID(c, &c.sys.links) }

// linkInfo is bpf_link_get_info_by_fd.
func (c *call) linkInfo(l *Link, uinfo uint64, infoLen uint32) (int, error) {
	var info linux.BPFLinkInfo
	n, err := c.infoLen(uinfo, infoLen, unsafe.Sizeof(info))
	if err != nil {
		return -1, err
	}
	if err := c.t.Mem.CopyIn(uinfo, unsafe.Slice((*byte)(unsafe.Pointer(&info)), n)); err != nil {
		return -1, linux.EFAULT
	}
	info.Type = uint32(l.typ)
	info.ID = l.id
	if p := l.Prog(); p != nil {
		info.ProgID = p.id
	}
	l.ops.FillInfo(&info)
	return 0, c.finishInfo(uinfo, unsafe.Pointer(&info), n)
}

// iterCreate is BPF_ITER_CREATE: Hachi has no iterator links, so any link
// is EINVAL (bpf_iter_new_fd on a link of another kind).
func (c *call) iterCreate() (int, error) {
	a := c.attr.iterCreate()
	if a.Flags != 0 {
		return -1, linux.EINVAL
	}
	l, err := c.linkFromFD(a.LinkFD)
	if err != nil {
		return -1, err
	}
	l.put()
	return -1, linux.EINVAL
}
