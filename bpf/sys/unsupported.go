package sys

import (
	"hachi/syscall"
	"hachi/syscall/linux"
)

// The commands of hooks Hachi does not have yet: cgroups, sockets, lirc,
// flow dissectors and raw tracepoints. Each checks its arguments in
// Linux's order and then answers what a Linux built without the hook
// answers, so loaders probing for them see a well-known refusal.

// progAttach is BPF_PROG_ATTACH (bpf_prog_attach): after the flag, type and
// program checks, every attach point kind it serves (cgroups, sockmaps,
// lirc devices, the netns flow dissector) is absent: EINVAL, as
// cgroup_bpf_prog_attach and its siblings answer without their CONFIG.
func (c *call) progAttach() (int, error) {
	a := c.attr.progAttach()
	if a.AttachFlags&^(linux.BPF_F_ALLOW_OVERRIDE|linux.BPF_F_ALLOW_MULTI|linux.BPF_F_REPLACE) != 0 {
		return -1, linux.EINVAL
	}
	pt := attachTypeToProgType(linux.BPFAttachType(a.AttachType))
	if pt == linux.BPF_PROG_TYPE_UNSPEC {
		return -1, linux.EINVAL
	}
	p, err := c.progFromFD(a.AttachBPFFD)
	if err != nil {
		return -1, err
	}
	defer p.put()
	if p.typ != pt {
		return -1, linux.EINVAL // bpf_prog_get_type
	}
	if err := c.attachCheckAttachType(p, linux.BPFAttachType(a.AttachType)); err != nil {
		return -1, err
	}
	return -1, linux.EINVAL
}

// progDetach is BPF_PROG_DETACH: no attach point exists (EINVAL).
func (c *call) progDetach() (int, error) {
	if attachTypeToProgType(linux.BPFAttachType(c.attr.progAttach().AttachType)) == linux.BPF_PROG_TYPE_UNSPEC {
		return -1, linux.EINVAL
	}
	return -1, linux.EINVAL
}

// progQuery is BPF_PROG_QUERY (bpf_prog_query): CAP_NET_ADMIN, known
// flags, then the attach point, which does not exist (EINVAL).
func (c *call) progQuery() (int, error) {
	if !c.t.Caps.Has(syscall.CAP_NET_ADMIN) {
		return -1, linux.EPERM
	}
	q := c.attr.progQueryAttr()
	if q.QueryFlags&^linux.BPF_F_QUERY_EFFECTIVE != 0 {
		return -1, linux.EINVAL
	}
	return -1, linux.EINVAL
}

// rawTracepointOpen is BPF_RAW_TRACEPOINT_OPEN: raw tracepoint programs
// find no tracepoint of the name (ENOENT: Hachi has no raw tracepoints
// yet); tracing programs need kernel BTF (EINVAL); other types EINVAL.
func (c *call) rawTracepointOpen() (int, error) {
	a := c.attr.rawTracepoint()
	p, err := c.progFromFD(a.ProgFD)
	if err != nil {
		return -1, err
	}
	defer p.put()
	switch p.typ {
	case linux.BPF_PROG_TYPE_RAW_TRACEPOINT, linux.BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE:
		if a.Name == 0 {
			return -1, linux.EINVAL
		}
		if _, err := syscall.CopyInString(c.t.Mem, a.Name, 127); err == linux.EFAULT {
			return -1, linux.EFAULT
		}
		return -1, linux.ENOENT // bpf_get_raw_tracepoint
	}
	return -1, linux.EINVAL
}

// taskFDQuery is BPF_TASK_FD_QUERY: only raw tracepoint links and perf
// events with programs answer it, and neither kind can be queried yet:
// ENOTSUPP, Linux's answer for a descriptor of another kind.
func (c *call) taskFDQuery() (int, error) {
	if !c.t.Caps.Has(syscall.CAP_SYS_ADMIN) {
		return -1, linux.EPERM
	}
	a := c.attr.taskFDQuery()
	if a.Flags != 0 {
		return -1, linux.EINVAL
	}
	f, err := getFile(c.t, a.FD)
	if err != nil {
		return -1, err
	}
	f.DecRef()
	return -1, linux.ENOTSUPP
}
