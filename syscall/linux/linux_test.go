package linux

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"hachi/internal/hosttool"
)

// The layout test compiles a C program that prints sizeof/offsetof and
// constant values from the real uapi headers (Debian: linux-libc-dev, gcc)
// and compares them with this package. It skips, saying why, only when gcc or
// the headers are missing.

// layout names a Go struct and where its fields live in C. cFields lists
// the C member designators of the Go struct's non-blank fields, in order.
type layout struct {
	goType  reflect.Type
	cType   string  // C type the designators are relative to
	prefix  string  // designator prefix, e.g. "batch." for a named union member
	goBase  uintptr // offset of the Go struct inside the C type (union views)
	cSize   string  // C expression for the size, "" when the C member is anonymous
	cFields []string
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

var linkCreateArgs = unsafe.Offsetof(BPFAttrLinkCreate{}.Args)
var linkInfoUnion = unsafe.Offsetof(BPFLinkInfo{}.Info)

var layouts = []layout{
	{typeOf[BPFInsn](), "struct bpf_insn", "", 0, "sizeof(struct bpf_insn)",
		[]string{"code", "", "off", "imm"}}, // "" : the dst/src bitfield byte, checked apart
	{typeOf[BPFLPMTrieKeyHdr](), "struct bpf_lpm_trie_key_hdr", "", 0, "sizeof(struct bpf_lpm_trie_key_hdr)", []string{"prefixlen"}},
	{typeOf[BPFCgroupStorageKey](), "struct bpf_cgroup_storage_key", "", 0, "sizeof(struct bpf_cgroup_storage_key)",
		[]string{"cgroup_inode_id", "attach_type"}},
	{typeOf[BPFStackBuildID](), "struct bpf_stack_build_id", "", 0, "sizeof(struct bpf_stack_build_id)",
		[]string{"status", "build_id", "offset"}},
	{typeOf[BPFAttrMapCreate](), "union bpf_attr", "", 0, "",
		[]string{"map_type", "key_size", "value_size", "max_entries", "map_flags", "inner_map_fd", "numa_node",
			"map_name", "map_ifindex", "btf_fd", "btf_key_type_id", "btf_value_type_id", "btf_vmlinux_value_type_id", "map_extra"}},
	{typeOf[BPFAttrMapElem](), "union bpf_attr", "", 0, "", []string{"map_fd", "key", "value", "flags"}},
	{typeOf[BPFAttrBatch](), "union bpf_attr", "batch.", 0, "sizeof(((union bpf_attr *)0)->batch)",
		[]string{"in_batch", "out_batch", "keys", "values", "count", "map_fd", "elem_flags", "flags"}},
	{typeOf[BPFAttrProgLoad](), "union bpf_attr", "", 0, "",
		[]string{"prog_type", "insn_cnt", "insns", "license", "log_level", "log_size", "log_buf", "kern_version",
			"prog_flags", "prog_name", "prog_ifindex", "expected_attach_type", "prog_btf_fd", "func_info_rec_size",
			"func_info", "func_info_cnt", "line_info_rec_size", "line_info", "line_info_cnt", "attach_btf_id",
			"attach_prog_fd", "core_relo_cnt", "fd_array", "core_relos", "core_relo_rec_size"}},
	{typeOf[BPFAttrObjPin](), "union bpf_attr", "", 0, "", []string{"pathname", "bpf_fd", "file_flags"}},
	{typeOf[BPFAttrProgAttach](), "union bpf_attr", "", 0, "",
		[]string{"target_fd", "attach_bpf_fd", "attach_type", "attach_flags", "replace_bpf_fd"}},
	{typeOf[BPFAttrTestRun](), "union bpf_attr", "test.", 0, "sizeof(((union bpf_attr *)0)->test)",
		[]string{"prog_fd", "retval", "data_size_in", "data_size_out", "data_in", "data_out", "repeat", "duration",
			"ctx_size_in", "ctx_size_out", "ctx_in", "ctx_out", "flags", "cpu", "batch_size"}},
	{typeOf[BPFAttrGetID](), "union bpf_attr", "", 0, "", []string{"start_id", "next_id", "open_flags"}},
	{typeOf[BPFAttrInfo](), "union bpf_attr", "info.", 0, "sizeof(((union bpf_attr *)0)->info)",
		[]string{"bpf_fd", "info_len", "info"}},
	{typeOf[BPFAttrQuery](), "union bpf_attr", "query.", 0, "sizeof(((union bpf_attr *)0)->query)",
		[]string{"target_fd", "attach_type", "query_flags", "attach_flags", "prog_ids", "prog_cnt", "prog_attach_flags"}},
	{typeOf[BPFAttrRawTracepoint](), "union bpf_attr", "raw_tracepoint.", 0, "sizeof(((union bpf_attr *)0)->raw_tracepoint)",
		[]string{"name", "prog_fd"}},
	{typeOf[BPFAttrBTFLoad](), "union bpf_attr", "", 0, "",
		[]string{"btf", "btf_log_buf", "btf_size", "btf_log_size", "btf_log_level"}},
	{typeOf[BPFAttrTaskFDQuery](), "union bpf_attr", "task_fd_query.", 0, "sizeof(((union bpf_attr *)0)->task_fd_query)",
		[]string{"pid", "fd", "flags", "buf_len", "buf", "prog_id", "fd_type", "probe_offset", "probe_addr"}},
	{typeOf[BPFAttrLinkCreate](), "union bpf_attr", "link_create.", 0, "sizeof(((union bpf_attr *)0)->link_create)",
		[]string{"prog_fd", "target_fd", "attach_type", "flags", "!target_btf_id"}},
	{typeOf[BPFLinkCreateIter](), "union bpf_attr", "link_create.", linkCreateArgs, "",
		[]string{"iter_info", "iter_info_len"}},
	{typeOf[BPFLinkCreatePerfEvent](), "union bpf_attr", "link_create.perf_event.", linkCreateArgs,
		"sizeof(((union bpf_attr *)0)->link_create.perf_event)", []string{"bpf_cookie"}},
	{typeOf[BPFLinkCreateKprobeMulti](), "union bpf_attr", "link_create.kprobe_multi.", linkCreateArgs,
		"sizeof(((union bpf_attr *)0)->link_create.kprobe_multi)", []string{"flags", "cnt", "syms", "addrs", "cookies"}},
	{typeOf[BPFLinkCreateTracing](), "union bpf_attr", "link_create.tracing.", linkCreateArgs,
		"sizeof(((union bpf_attr *)0)->link_create.tracing)", []string{"target_btf_id", "cookie"}},
	{typeOf[BPFAttrLinkUpdate](), "union bpf_attr", "link_update.", 0, "sizeof(((union bpf_attr *)0)->link_update)",
		[]string{"link_fd", "new_prog_fd", "flags", "old_prog_fd"}},
	{typeOf[BPFAttrLinkDetach](), "union bpf_attr", "link_detach.", 0, "sizeof(((union bpf_attr *)0)->link_detach)",
		[]string{"link_fd"}},
	{typeOf[BPFAttrEnableStats](), "union bpf_attr", "enable_stats.", 0, "sizeof(((union bpf_attr *)0)->enable_stats)",
		[]string{"type"}},
	{typeOf[BPFAttrIterCreate](), "union bpf_attr", "iter_create.", 0, "sizeof(((union bpf_attr *)0)->iter_create)",
		[]string{"link_fd", "flags"}},
	{typeOf[BPFAttrProgBindMap](), "union bpf_attr", "prog_bind_map.", 0, "sizeof(((union bpf_attr *)0)->prog_bind_map)",
		[]string{"prog_fd", "map_fd", "flags"}},
	{typeOf[BPFIterLinkInfo](), "union bpf_iter_link_info", "", 0, "sizeof(union bpf_iter_link_info)",
		[]string{"cgroup.order", "cgroup.cgroup_fd", "cgroup.cgroup_id"}},
	{typeOf[BPFProgInfo](), "struct bpf_prog_info", "", 0, "sizeof(struct bpf_prog_info)",
		[]string{"type", "id", "tag", "jited_prog_len", "xlated_prog_len", "jited_prog_insns", "xlated_prog_insns",
			"load_time", "created_by_uid", "nr_map_ids", "map_ids", "name", "ifindex", "", "netns_dev", "netns_ino",
			"nr_jited_ksyms", "nr_jited_func_lens", "jited_ksyms", "jited_func_lens", "btf_id", "func_info_rec_size",
			"func_info", "nr_func_info", "nr_line_info", "line_info", "jited_line_info", "nr_jited_line_info",
			"line_info_rec_size", "jited_line_info_rec_size", "nr_prog_tags", "prog_tags", "run_time_ns", "run_cnt",
			"recursion_misses", "verified_insns", "attach_btf_obj_id", "attach_btf_id"}},
	{typeOf[BPFMapInfo](), "struct bpf_map_info", "", 0, "sizeof(struct bpf_map_info)",
		[]string{"type", "id", "key_size", "value_size", "max_entries", "map_flags", "name", "ifindex",
			"btf_vmlinux_value_type_id", "netns_dev", "netns_ino", "btf_id", "btf_key_type_id", "btf_value_type_id", "map_extra"}},
	{typeOf[BPFBTFInfo](), "struct bpf_btf_info", "", 0, "sizeof(struct bpf_btf_info)",
		[]string{"btf", "btf_size", "id", "name", "name_len", "kernel_btf"}},
	{typeOf[BPFLinkInfo](), "struct bpf_link_info", "", 0, "sizeof(struct bpf_link_info)",
		[]string{"type", "id", "prog_id", "!raw_tracepoint"}},
	{typeOf[BPFLinkInfoRawTracepoint](), "struct bpf_link_info", "raw_tracepoint.", linkInfoUnion,
		"sizeof(((struct bpf_link_info *)0)->raw_tracepoint)", []string{"tp_name", "tp_name_len"}},
	{typeOf[BPFLinkInfoTracing](), "struct bpf_link_info", "tracing.", linkInfoUnion,
		"sizeof(((struct bpf_link_info *)0)->tracing)", []string{"attach_type", "target_obj_id", "target_btf_id"}},
	{typeOf[BPFLinkInfoCgroup](), "struct bpf_link_info", "cgroup.", linkInfoUnion,
		"sizeof(((struct bpf_link_info *)0)->cgroup)", []string{"cgroup_id", "attach_type"}},
	{typeOf[BPFLinkInfoIter](), "struct bpf_link_info", "iter.", linkInfoUnion,
		"sizeof(((struct bpf_link_info *)0)->iter)", []string{"target_name", "target_name_len", "map.map_id", "cgroup.cgroup_id", "cgroup.order"}},
	{typeOf[BPFLinkInfoNetns](), "struct bpf_link_info", "netns.", linkInfoUnion,
		"sizeof(((struct bpf_link_info *)0)->netns)", []string{"netns_ino", "attach_type"}},
	{typeOf[BPFLinkInfoXDP](), "struct bpf_link_info", "xdp.", linkInfoUnion,
		"sizeof(((struct bpf_link_info *)0)->xdp)", []string{"ifindex"}},
	{typeOf[BPFFuncInfo](), "struct bpf_func_info", "", 0, "sizeof(struct bpf_func_info)", []string{"insn_off", "type_id"}},
	{typeOf[BPFLineInfo](), "struct bpf_line_info", "", 0, "sizeof(struct bpf_line_info)",
		[]string{"insn_off", "file_name_off", "line_off", "line_col"}},
	{typeOf[BPFCoreRelo](), "struct bpf_core_relo", "", 0, "sizeof(struct bpf_core_relo)",
		[]string{"insn_off", "type_id", "access_str_off", "kind"}},
	{typeOf[BPFSpinLock](), "struct bpf_spin_lock", "", 0, "sizeof(struct bpf_spin_lock)", []string{"val"}},
	{typeOf[BPFTimer](), "struct bpf_timer", "", 0, "sizeof(struct bpf_timer)", nil},
	{typeOf[BPFDynptr](), "struct bpf_dynptr", "", 0, "sizeof(struct bpf_dynptr)", nil},
	{typeOf[BPFPerfEventValue](), "struct bpf_perf_event_value", "", 0, "sizeof(struct bpf_perf_event_value)",
		[]string{"counter", "enabled", "running"}},
	{typeOf[BPFPidnsInfo](), "struct bpf_pidns_info", "", 0, "sizeof(struct bpf_pidns_info)", []string{"pid", "tgid"}},
	{typeOf[SKBuff](), "struct __sk_buff", "", 0, "sizeof(struct __sk_buff)",
		[]string{"len", "pkt_type", "mark", "queue_mapping", "protocol", "vlan_present", "vlan_tci", "vlan_proto",
			"priority", "ingress_ifindex", "ifindex", "tc_index", "cb", "hash", "tc_classid", "data", "data_end",
			"napi_id", "family", "remote_ip4", "local_ip4", "remote_ip6", "local_ip6", "remote_port", "local_port",
			"data_meta", "flow_keys", "tstamp", "wire_len", "gso_segs", "sk", "gso_size", "tstamp_type", "hwtstamp"}},
	{typeOf[XDPMd](), "struct xdp_md", "", 0, "sizeof(struct xdp_md)",
		[]string{"data", "data_end", "data_meta", "ingress_ifindex", "rx_queue_index", "egress_ifindex"}},

	{typeOf[BTFHeader](), "struct btf_header", "", 0, "sizeof(struct btf_header)",
		[]string{"magic", "version", "flags", "hdr_len", "type_off", "type_len", "str_off", "str_len"}},
	{typeOf[BTFType](), "struct btf_type", "", 0, "sizeof(struct btf_type)", []string{"name_off", "info", "size"}},
	{typeOf[BTFEnum](), "struct btf_enum", "", 0, "sizeof(struct btf_enum)", []string{"name_off", "val"}},
	{typeOf[BTFArray](), "struct btf_array", "", 0, "sizeof(struct btf_array)", []string{"type", "index_type", "nelems"}},
	{typeOf[BTFMember](), "struct btf_member", "", 0, "sizeof(struct btf_member)", []string{"name_off", "type", "offset"}},
	{typeOf[BTFParam](), "struct btf_param", "", 0, "sizeof(struct btf_param)", []string{"name_off", "type"}},
	{typeOf[BTFVar](), "struct btf_var", "", 0, "sizeof(struct btf_var)", []string{"linkage"}},
	{typeOf[BTFVarSecinfo](), "struct btf_var_secinfo", "", 0, "sizeof(struct btf_var_secinfo)", []string{"type", "offset", "size"}},
	{typeOf[BTFDeclTag](), "struct btf_decl_tag", "", 0, "sizeof(struct btf_decl_tag)", []string{"component_idx"}},
	{typeOf[BTFEnum64](), "struct btf_enum64", "", 0, "sizeof(struct btf_enum64)", []string{"name_off", "val_lo32", "val_hi32"}},

	{typeOf[PerfEventAttr](), "struct perf_event_attr", "", 0, "sizeof(struct perf_event_attr)",
		[]string{"type", "size", "config", "sample_period", "sample_type", "read_format", "", "wakeup_events", "bp_type",
			"config1", "config2", "branch_sample_type", "sample_regs_user", "sample_stack_user", "clockid",
			"sample_regs_intr", "aux_watermark", "sample_max_stack", "aux_sample_size", "sig_data"}},
	{typeOf[PerfEventQueryBPF](), "struct perf_event_query_bpf", "", 0, "sizeof(struct perf_event_query_bpf)",
		[]string{"ids_len", "prog_cnt"}},
	{typeOf[PerfEventMmapPage](), "struct perf_event_mmap_page", "", 0, "sizeof(struct perf_event_mmap_page)",
		[]string{"version", "compat_version", "lock", "index", "offset", "time_enabled", "time_running", "capabilities",
			"pmc_width", "time_shift", "time_mult", "time_offset", "time_zero", "size", "time_cycles", "time_mask",
			"data_head", "data_tail", "data_offset", "data_size", "aux_head", "aux_tail", "aux_offset", "aux_size"}},
	{typeOf[PerfEventHeader](), "struct perf_event_header", "", 0, "sizeof(struct perf_event_header)",
		[]string{"type", "misc", "size"}},

	{typeOf[PtRegsAMD64](), "struct pt_regs", "", 0, "sizeof(struct pt_regs)",
		[]string{"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi",
			"rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss"}},
}

// cmdLastField is Linux 6.1's CMD_LAST_FIELD for every command
// (kernel/bpf/syscall.c, CHECK_ATTR).
var cmdLastField = map[BPFCmd]string{
	BPF_MAP_CREATE:                  "map_extra",
	BPF_MAP_LOOKUP_ELEM:             "flags",
	BPF_MAP_UPDATE_ELEM:             "flags",
	BPF_MAP_DELETE_ELEM:             "key",
	BPF_MAP_GET_NEXT_KEY:            "next_key",
	BPF_PROG_LOAD:                   "core_relo_rec_size",
	BPF_OBJ_PIN:                     "file_flags",
	BPF_OBJ_GET:                     "file_flags",
	BPF_PROG_ATTACH:                 "replace_bpf_fd",
	BPF_PROG_DETACH:                 "attach_type",
	BPF_PROG_TEST_RUN:               "test.batch_size",
	BPF_PROG_GET_NEXT_ID:            "next_id",
	BPF_MAP_GET_NEXT_ID:             "next_id",
	BPF_PROG_GET_FD_BY_ID:           "prog_id",
	BPF_MAP_GET_FD_BY_ID:            "open_flags",
	BPF_OBJ_GET_INFO_BY_FD:          "info.info",
	BPF_PROG_QUERY:                  "query.prog_attach_flags",
	BPF_RAW_TRACEPOINT_OPEN:         "raw_tracepoint.prog_fd",
	BPF_BTF_LOAD:                    "btf_log_level",
	BPF_BTF_GET_FD_BY_ID:            "btf_id",
	BPF_TASK_FD_QUERY:               "task_fd_query.probe_addr",
	BPF_MAP_LOOKUP_AND_DELETE_ELEM:  "flags",
	BPF_MAP_FREEZE:                  "map_fd",
	BPF_BTF_GET_NEXT_ID:             "next_id",
	BPF_MAP_LOOKUP_BATCH:            "batch.flags",
	BPF_MAP_LOOKUP_AND_DELETE_BATCH: "batch.flags",
	BPF_MAP_UPDATE_BATCH:            "batch.flags",
	BPF_MAP_DELETE_BATCH:            "batch.flags",
	BPF_LINK_CREATE:                 "link_create.kprobe_multi.cookies",
	BPF_LINK_UPDATE:                 "link_update.old_prog_fd",
	BPF_LINK_GET_FD_BY_ID:           "link_id",
	BPF_LINK_GET_NEXT_ID:            "next_id",
	BPF_ENABLE_STATS:                "enable_stats.type",
	BPF_ITER_CREATE:                 "iter_create.flags",
	BPF_LINK_DETACH:                 "link_detach.link_fd",
	BPF_PROG_BIND_MAP:               "prog_bind_map.flags",
}

// perfAttrBits names the perf_event_attr bitfield for each flag constant; the
// C side sets the field to all ones and reads back the word.
var perfAttrBits = map[string]uint64{
	"disabled": PerfAttrDisabled, "inherit": PerfAttrInherit, "pinned": PerfAttrPinned,
	"exclusive": PerfAttrExclusive, "exclude_user": PerfAttrExcludeUser, "exclude_kernel": PerfAttrExcludeKernel,
	"exclude_hv": PerfAttrExcludeHv, "exclude_idle": PerfAttrExcludeIdle, "mmap": PerfAttrMmap, "comm": PerfAttrComm,
	"freq": PerfAttrFreq, "inherit_stat": PerfAttrInheritStat, "enable_on_exec": PerfAttrEnableOnExec,
	"task": PerfAttrTask, "watermark": PerfAttrWatermark, "precise_ip": PerfAttrPreciseIPMask,
	"mmap_data": PerfAttrMmapData, "sample_id_all": PerfAttrSampleIDAll, "exclude_host": PerfAttrExcludeHost,
	"exclude_guest": PerfAttrExcludeGuest, "exclude_callchain_kernel": PerfAttrExcludeCallchainKernel,
	"exclude_callchain_user": PerfAttrExcludeCallchainUser, "mmap2": PerfAttrMmap2, "comm_exec": PerfAttrCommExec,
	"use_clockid": PerfAttrUseClockid, "context_switch": PerfAttrContextSwitch,
	"write_backward": PerfAttrWriteBackward, "namespaces": PerfAttrNamespaces, "ksymbol": PerfAttrKsymbol,
	"bpf_event": PerfAttrBPFEvent, "aux_output": PerfAttrAuxOutput, "cgroup": PerfAttrCgroup,
	"text_poke": PerfAttrTextPoke, "build_id": PerfAttrBuildID, "inherit_thread": PerfAttrInheritThread,
	"remove_on_exec": PerfAttrRemoveOnExec, "sigtrap": PerfAttrSigtrap, "__reserved_1": PerfAttrReservedMask,
}

// constCRename maps Go constants whose C spelling differs.
var constCRename = map[string]string{
	"IOC_NONE": "_IOC_NONE", "IOC_WRITE": "_IOC_WRITE", "IOC_READ": "_IOC_READ",
	"IOC_NRSHIFT": "_IOC_NRSHIFT", "IOC_TYPESHIFT": "_IOC_TYPESHIFT",
	"IOC_SIZESHIFT": "_IOC_SIZESHIFT", "IOC_DIRSHIFT": "_IOC_DIRSHIFT",
}

// constNotInHeaders are Go constants the Debian 12 headers cannot check, with why.
var constNotInHeaders = map[string]string{
	"PERF_ATTR_SIZE_VER8": "added in Linux 6.3; checked as VER7 + 8 below",
	"ENOTSUPP":            "kernel-internal (include/linux/errno.h); checked against strerror below",
}

// check is one value compared between Go and C.
type check struct {
	name  string
	goVal int64
	cExpr string
}

func TestLayoutAgainstCHeaders(t *testing.T) {
	gcc := hosttool.Require(t, "gcc", "gcc", "compare with the C headers")
	for _, h := range []string{"/usr/include/linux/bpf.h", "/usr/include/linux/btf.h", "/usr/include/linux/perf_event.h"} {
		if _, err := os.Stat(h); err != nil {
			t.Skipf("%s missing (Debian: apt-get install linux-libc-dev): cannot compare", h)
		}
	}
	checks := structChecks(t)
	checks = append(checks, cmdEndChecks(t)...)
	checks = append(checks, constChecks(t)...)
	checks = append(checks, perfBitChecks()...)
	checks = append(checks, macroChecks()...)
	cvals := runC(t, gcc, checks)
	for i, c := range checks {
		if cvals[i] != c.goVal {
			t.Errorf("%s: Go %d, C (%s) %d", c.name, c.goVal, c.cExpr, cvals[i])
		}
	}
	t.Logf("%d values compared with the C headers", len(checks))
}

func structChecks(t *testing.T) []check {
	var out []check
	for _, l := range layouts {
		var fields []reflect.StructField
		for i := 0; i < l.goType.NumField(); i++ {
			if f := l.goType.Field(i); f.Name != "_" {
				fields = append(fields, f)
			}
		}
		if l.cFields != nil && len(fields) != len(l.cFields) {
			t.Fatalf("%s: %d Go fields, %d C names listed", l.goType.Name(), len(fields), len(l.cFields))
		}
		if l.cSize != "" {
			out = append(out, check{"sizeof " + l.goType.Name(), int64(l.goType.Size()), l.cSize})
		}
		var lastEnd string
		var aligns []string // C alignment of each field
		for i, f := range fields {
			c := l.cFields[i]
			if c == "" {
				continue // a bitfield word, checked by value
			}
			// "!" marks a Go field standing for a whole anonymous union:
			// its offset is checked, its size follows from the struct's.
			unionStart := strings.HasPrefix(c, "!")
			des := l.prefix + strings.TrimPrefix(c, "!")
			member := fmt.Sprintf("((%s *)0)->%s", l.cType, des)
			out = append(out, check{
				name:  l.goType.Name() + "." + f.Name + " offset",
				goVal: int64(l.goBase + f.Offset),
				cExpr: fmt.Sprintf("offsetof(%s, %s)", l.cType, des),
			})
			aligns = append(aligns, "__alignof__("+member+")")
			if unionStart {
				continue
			}
			out = append(out, check{
				name:  l.goType.Name() + "." + f.Name + " size",
				goVal: int64(f.Type.Size()),
				cExpr: "sizeof(" + member + ")",
			})
			lastEnd = fmt.Sprintf("offsetof(%s, %s) + sizeof(%s)", l.cType, des, member)
		}
		switch {
		case l.cSize != "":
			out = append(out, check{"alignof " + l.goType.Name(), int64(l.goType.Align()),
				"__alignof__(" + strings.TrimSuffix(strings.TrimPrefix(l.cSize, "sizeof("), ")") + ")"})
		case lastEnd != "":
			// An anonymous member of a union has no C name to take sizeof
			// of: its alignment is its widest field's, its size the end of
			// its last field rounded up to that alignment.
			align := "({ size_t a = 1;"
			for _, e := range aligns {
				align += fmt.Sprintf(" if (%s > a) a = %s;", e, e)
			}
			align += " a; })"
			out = append(out,
				check{"alignof " + l.goType.Name(), int64(l.goType.Align()), align},
				check{"end of " + l.goType.Name(), int64(l.goBase + l.goType.Size()),
					fmt.Sprintf("({ size_t a = %s; ((%s) + a - 1) & ~(a - 1); })", align, lastEnd)})
		}
	}
	out = append(out, check{"BPFAttrSize", BPFAttrSize, "sizeof(union bpf_attr)"})
	return out
}

func cmdEndChecks(t *testing.T) []check {
	var out []check
	for cmd := BPFCmd(0); cmd <= BPF_PROG_BIND_MAP; cmd++ {
		field, ok := cmdLastField[cmd]
		if !ok {
			t.Errorf("%v: no CMD_LAST_FIELD listed in the test", cmd)
			continue
		}
		end, ok := BPFAttrCmdEnd(cmd)
		if !ok {
			t.Errorf("BPFAttrCmdEnd(%v) unknown", cmd)
			continue
		}
		out = append(out, check{"BPFAttrCmdEnd(" + cmd.String() + ")", int64(end),
			fmt.Sprintf("offsetof(union bpf_attr, %s) + sizeof(((union bpf_attr *)0)->%s)", field, field)})
	}
	if _, ok := BPFAttrCmdEnd(BPF_PROG_BIND_MAP + 1); ok {
		t.Errorf("BPFAttrCmdEnd knows a command past BPF_PROG_BIND_MAP")
	}
	return out
}

var linuxConstName = regexp.MustCompile(`^_*[A-Z][A-Z0-9_]*$`)

// constChecks finds every Linux-named constant of the package with go/types,
// so that a constant added later is checked without editing this test.
func constChecks(t *testing.T) []check {
	fset := token.NewFileSet()
	var files []*ast.File
	names, _ := filepath.Glob("*.go")
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	conf := types.Config{Importer: importer.Default()}
	pkg, err := conf.Check("hachi/syscall/linux", fset, files, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []check
	scope := pkg.Scope()
	sorted := scope.Names()
	sort.Strings(sorted)
	for _, name := range sorted {
		c, ok := scope.Lookup(name).(*types.Const)
		if !ok || !linuxConstName.MatchString(name) {
			continue
		}
		if _, skip := constNotInHeaders[name]; skip {
			continue
		}
		v, exact := constantInt64(c)
		if !exact {
			t.Errorf("%s: value does not fit int64", name)
			continue
		}
		cname := name
		if r, ok := constCRename[name]; ok {
			cname = r
		}
		out = append(out, check{name, v, "(long long)(" + cname + ")"})
	}
	if len(out) < 500 {
		t.Errorf("only %d constants found: the go/types scan is broken", len(out))
	}
	return out
}

func constantInt64(c *types.Const) (int64, bool) {
	s := c.Val().ExactString()
	if v, err := strconv.ParseInt(s, 0, 64); err == nil {
		return v, true
	}
	if v, err := strconv.ParseUint(s, 0, 64); err == nil {
		return int64(v), true // a 64-bit mask: compared as the same bits
	}
	return 0, false
}

func perfBitChecks() []check {
	var out []check
	for field, mask := range perfAttrBits {
		set := "1"
		if field == "precise_ip" {
			set = "3"
		} else if field == "__reserved_1" {
			set = "(1ull << 26) - 1"
		}
		out = append(out, check{"perf_event_attr." + field, int64(mask), fmt.Sprintf(
			"({ struct perf_event_attr a; memset(&a, 0, sizeof a); a.%s = %s; "+
				"(long long)*(__u64 *)((char *)&a + offsetof(struct perf_event_attr, read_format) + 8); })", field, set)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	// bpf_insn: dst_reg is the low nibble of byte 1, src_reg the high one.
	out = append(out, check{"bpf_insn dst/src nibbles", int64(BPFInsn{DstSrc: 0x21}.Dst())<<8 | int64(BPFInsn{DstSrc: 0x21}.Src()),
		"({ struct bpf_insn i; memset(&i, 0, sizeof i); *((unsigned char *)&i + 1) = 0x21; (long long)(i.dst_reg << 8 | i.src_reg); })"})
	out = append(out, check{"bpf_prog_info.gpl_compatible", BPFProgInfoGPLCompatible,
		"({ struct bpf_prog_info p; memset(&p, 0, sizeof p); p.gpl_compatible = 1; " +
			"(long long)*(__u32 *)((char *)&p + offsetof(struct bpf_prog_info, ifindex) + 4); })"})
	out = append(out, check{"PERF_ATTR_SIZE_VER8 - VER7", PERF_ATTR_SIZE_VER8 - PERF_ATTR_SIZE_VER7, "8"})
	out = append(out, check{"sizeof PerfEventAttr", int64(unsafe.Sizeof(PerfEventAttr{})), "PERF_ATTR_SIZE_VER7"})
	return out
}

// macroChecks evaluates the header's function-like macros on sample inputs.
func macroChecks() []check {
	var out []check
	for _, v := range []uint32{0, 0x0d00_0003, 0x8f00_ffff, 0xffff_ffff, 0x1300_0001} {
		out = append(out,
			check{fmt.Sprintf("BTF_INFO_KIND(%#x)", v), int64(BTF_INFO_KIND(v)), fmt.Sprintf("BTF_INFO_KIND(%#xu)", v)},
			check{fmt.Sprintf("BTF_INFO_VLEN(%#x)", v), int64(BTF_INFO_VLEN(v)), fmt.Sprintf("BTF_INFO_VLEN(%#xu)", v)},
			check{fmt.Sprintf("BTF_INFO_KFLAG(%#x)", v), int64(BTF_INFO_KFLAG(v)), fmt.Sprintf("BTF_INFO_KFLAG(%#xu)", v)},
			check{fmt.Sprintf("BTF_INT_ENCODING(%#x)", v), int64(BTF_INT_ENCODING(v)), fmt.Sprintf("BTF_INT_ENCODING(%#xu)", v)},
			check{fmt.Sprintf("BTF_INT_OFFSET(%#x)", v), int64(BTF_INT_OFFSET(v)), fmt.Sprintf("BTF_INT_OFFSET(%#xu)", v)},
			check{fmt.Sprintf("BTF_INT_BITS(%#x)", v), int64(BTF_INT_BITS(v)), fmt.Sprintf("BTF_INT_BITS(%#xu)", v)},
			check{fmt.Sprintf("BTF_MEMBER_BITFIELD_SIZE(%#x)", v), int64(BTF_MEMBER_BITFIELD_SIZE(v)), fmt.Sprintf("BTF_MEMBER_BITFIELD_SIZE(%#xu)", v)},
			check{fmt.Sprintf("BTF_MEMBER_BIT_OFFSET(%#x)", v), int64(BTF_MEMBER_BIT_OFFSET(v)), fmt.Sprintf("BTF_MEMBER_BIT_OFFSET(%#xu)", v)},
			check{fmt.Sprintf("BPF_LINE_INFO_LINE_NUM(%#x)", v), int64(BPF_LINE_INFO_LINE_NUM(v)), fmt.Sprintf("BPF_LINE_INFO_LINE_NUM(%#xu)", v)},
			check{fmt.Sprintf("BPF_LINE_INFO_LINE_COL(%#x)", v), int64(BPF_LINE_INFO_LINE_COL(v)), fmt.Sprintf("BPF_LINE_INFO_LINE_COL(%#xu)", v)},
		)
	}
	// The ioctl helpers against the macros, for every direction.
	out = append(out,
		check{"IO('$', 3)", int64(IO('$', 3)), "_IO('$', 3)"},
		check{"IOW('$', 8, 4)", int64(IOW('$', 8, 4)), "_IOW('$', 8, __u32)"},
		check{"IOR('$', 7, 8)", int64(IOR('$', 7, 8)), "_IOR('$', 7, __u64 *)"},
		check{"IOWR('$', 10, 8)", int64(IOWR('$', 10, 8)), "_IOWR('$', 10, struct perf_event_query_bpf *)"},
	)
	return out
}

// runC compiles and runs a program printing each check's C value.
func runC(t *testing.T, gcc string, checks []check) []int64 {
	var src bytes.Buffer
	src.WriteString(`#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <errno.h>
#include <linux/ioctl.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/perf_event.h>
#include <asm/ptrace.h>
int main(void) {
`)
	for _, c := range checks {
		fmt.Fprintf(&src, "\tprintf(\"%%lld\\n\", (long long)(%s));\n", c.cExpr)
	}
	src.WriteString("\treturn 0;\n}\n")
	dir := t.TempDir()
	cfile := filepath.Join(dir, "layout.c")
	bin := filepath.Join(dir, "layout")
	if err := os.WriteFile(cfile, src.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(gcc, "-O0", "-w", "-o", bin, cfile).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(out))
	if len(lines) != len(checks) {
		t.Fatalf("C printed %d values for %d checks", len(lines), len(checks))
	}
	vals := make([]int64, len(lines))
	for i, l := range lines {
		if vals[i], err = strconv.ParseInt(l, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	return vals
}

// TestErrnoText compares every errno's text with the C library's strerror.
func TestErrnoText(t *testing.T) {
	gcc := hosttool.Require(t, "gcc", "gcc", "compare with strerror")
	var checks []Errno
	for n := Errno(1); int(n) < len(errnoInfo); n++ {
		if errnoInfo[n].name != "" {
			checks = append(checks, n)
		}
	}
	var src bytes.Buffer
	src.WriteString("#include <stdio.h>\n#include <string.h>\nint main(void) {\n")
	for _, n := range checks {
		fmt.Fprintf(&src, "\tputs(strerror(%d));\n", n)
	}
	src.WriteString("\treturn 0;\n}\n")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "e.c"), src.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(gcc, "-o", filepath.Join(dir, "e"), filepath.Join(dir, "e.c")).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	out, err := exec.Command(filepath.Join(dir, "e")).Output()
	if err != nil {
		t.Fatal(err)
	}
	texts := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(texts) != len(checks) {
		t.Fatalf("%d texts for %d errnos", len(texts), len(checks))
	}
	for i, n := range checks {
		if n.Error() != texts[i] {
			t.Errorf("%s (%d): Error() %q, strerror %q", n.Name(), n, n.Error(), texts[i])
		}
	}
	// Every generic errno 1..EHWPOISON is known.
	for n := Errno(1); n <= EHWPOISON; n++ {
		if n == 41 || n == 58 {
			continue // holes in the generic numbering (EWOULDBLOCK/EDEADLOCK aliases sit elsewhere)
		}
		if strings.HasPrefix(n.Name(), "errno ") {
			t.Errorf("errno %d has no name", n)
		}
	}
}

func TestErrnoNamesAndReturn(t *testing.T) {
	for _, tc := range []struct {
		err  error
		ret  int64
		name string
	}{
		{nil, 0, ""},
		{ENOENT, -2, "ENOENT"},
		{fmt.Errorf("map %d: %w", 3, E2BIG), -7, "E2BIG"},
		{ENOTSUPP, -524, "ENOTSUPP"},
		{errors.New("not an errno"), -int64(EINVAL), ""},
	} {
		if got := SyscallReturn(tc.err); got != tc.ret {
			t.Errorf("SyscallReturn(%v) = %d, want %d", tc.err, got, tc.ret)
		}
		var e Errno
		if tc.name != "" && (!errors.As(tc.err, &e) || e.Name() != tc.name) {
			t.Errorf("%v: name %q, want %q", tc.err, e.Name(), tc.name)
		}
	}
	if EWOULDBLOCK != EAGAIN || EDEADLOCK != EDEADLK {
		t.Error("aliases")
	}
	if got := Errno(999).Error(); got != "Unknown error 999" {
		t.Errorf("Errno(999).Error() = %q", got)
	}
}

// TestNames checks the String tables against the constant names.
func TestNames(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{BPF_MAP_CREATE.String(), "BPF_MAP_CREATE"},
		{BPF_PROG_BIND_MAP.String(), "BPF_PROG_BIND_MAP"},
		{BPFCmd(99).String(), "BPF_CMD(99)"},
		{BPF_MAP_TYPE_RINGBUF.String(), "BPF_MAP_TYPE_RINGBUF"},
		{BPF_PROG_TYPE_KPROBE.String(), "BPF_PROG_TYPE_KPROBE"},
		{BPF_PERF_EVENT.String(), "BPF_PERF_EVENT"},
		{BPF_LINK_TYPE_PERF_EVENT.String(), "BPF_LINK_TYPE_PERF_EVENT"},
		{BPF_FUNC_map_lookup_elem.String(), "bpf_map_lookup_elem"},
		{BPF_FUNC_ktime_get_coarse_ns.String(), "bpf_ktime_get_coarse_ns"},
		{BPF_FUNC_user_ringbuf_drain.String(), "bpf_user_ringbuf_drain"},
		{BPFFuncID(-1).String(), "bpf_func#-1"},
		{__BPF_FUNC_MAX_ID.String(), "bpf_func#210"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if BPF_FUNC_ktime_get_coarse_ns != 160 {
		t.Errorf("BPF_FUNC_ktime_get_coarse_ns = %d, libbpf probes helper 160", BPF_FUNC_ktime_get_coarse_ns)
	}
	for id := BPFFuncID(0); id < __BPF_FUNC_MAX_ID; id++ {
		if bpfFuncNames[id] == "" {
			t.Errorf("helper %d has no name", id)
		}
	}
}

// TestRISCV64Regs checks the riscv64 frames against the layout documented by
// arch/riscv/include/uapi/asm/ptrace.h (struct user_regs_struct) and
// arch/riscv/include/asm/ptrace.h (struct pt_regs). No riscv64 header is
// installed on an x86_64 host, so the documented order is transcribed here:
// every register is an unsigned long, in this order.
func TestRISCV64Regs(t *testing.T) {
	user := strings.Fields("pc ra sp gp tp t0 t1 t2 s0 s1 a0 a1 a2 a3 a4 a5 a6 a7 " +
		"s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 t3 t4 t5 t6")
	rt := reflect.TypeFor[UserRegsRISCV64]()
	if rt.NumField() != len(user) || rt.Size() != uintptr(8*len(user)) {
		t.Fatalf("user_regs_struct: %d fields, %d bytes; want %d, %d", rt.NumField(), rt.Size(), len(user), 8*len(user))
	}
	for i, name := range user {
		f := rt.Field(i)
		if strings.ToLower(f.Name) != name || f.Offset != uintptr(8*i) || f.Type.Size() != 8 {
			t.Errorf("field %d: %s at %d, want %s at %d", i, f.Name, f.Offset, name, 8*i)
		}
	}
	kt := reflect.TypeFor[PtRegsRISCV64]()
	extra := []string{"Status", "Badaddr", "Cause", "OrigA0"}
	if kt.Size() != uintptr(8*(len(user)+len(extra))) {
		t.Errorf("pt_regs size %d", kt.Size())
	}
	for i, name := range extra {
		if f, _ := kt.FieldByName(name); f.Offset != uintptr(8*(len(user)+i)) {
			t.Errorf("pt_regs.%s at %d", name, f.Offset)
		}
	}
	l := PtRegsLayoutRISCV64
	if l.Size != 256 || l.Params[0] != 80 || l.Params[7] != 136 || l.RC != 80 || l.SP != 16 || l.IP != 0 || l.FP != 64 || l.RET != 8 {
		t.Errorf("riscv64 layout %+v", l)
	}
	a := PtRegsLayoutAMD64
	if a.Size != 168 || a.Params[0] != 112 || a.Params[1] != 104 || a.Params[2] != 96 || a.Params[3] != 88 ||
		a.Params[4] != 72 || a.Params[5] != 64 || a.RC != 80 || a.SP != 152 || a.IP != 128 || a.FP != 32 {
		t.Errorf("amd64 layout %+v", a)
	}
}

// TestUnionViews checks that writes through a union view land where C puts them.
func TestUnionViews(t *testing.T) {
	var a BPFAttrLinkCreate
	a.KprobeMulti().Cookies = 0x1122
	a.PerfEvent().BPFCookie = 7
	*a.TargetBTFID() = 9
	if a.Args[3] != 0x1122 || a.Args[0]&0xffffffff != 9 || a.Tracing().TargetBTFID != 9 || a.Iter().IterInfo != a.Args[0] {
		t.Errorf("link_create union views disagree: %#x", a.Args)
	}
	var l BPFLinkInfo
	l.Iter().Order = 5
	l.Cgroup().AttachType = 6
	if l.Info[3] != 5 || l.Info[1] != 6 || l.Netns().AttachType != 0 || l.XDP().Ifindex != 0 {
		t.Errorf("link_info union views disagree: %#x", l.Info)
	}
	l.Tracing().TargetBTFID = 3
	if l.RawTracepoint().TpNameLen != 3 {
		t.Errorf("link_info tracing/raw_tracepoint overlap: %#x", l.Info)
	}
}
