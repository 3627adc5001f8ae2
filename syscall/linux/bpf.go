// Package linux declares the Linux user-space ABI that Hachi implements: the
// constants and struct layouts of the uapi headers, one file per header
// (bpf.go for <linux/bpf.h>, btf.go for <linux/btf.h>, perf_event.go for
// <linux/perf_event.h>, errno.go for <asm-generic/errno*.h>, ptrace.go for the
// register frames BPF programs read). Names are Linux's, verbatim for
// constants and Go-cased for struct fields; padding is explicit and union
// members are noted where they overlap. Every size and offset is checked against
// the C headers by linux_test.go.
//
// The declarations follow the headers of Debian 12's linux-libc-dev (Linux 6.1).
// The package holds data only: it imports no architecture code, so the
// verifier, maps and syscall layer can use it on the build host and in the
// kernel alike.
package linux

import (
	"strconv"
	"unsafe"
)

// BPF_OBJ_NAME_LEN is the size of the name arrays in bpf_attr and the info
// structs, NUL included.
const BPF_OBJ_NAME_LEN = 16

// BPF_TAG_SIZE is the size of a program's tag (truncated SHA-1 of its insns).
const BPF_TAG_SIZE = 8

// BPF_BUILD_ID_SIZE is the size of an ELF build id in bpf_stack_build_id.
const BPF_BUILD_ID_SIZE = 20

// BPFCmd is the first argument of bpf(2): enum bpf_cmd.
type BPFCmd uint32

// BPFMapType is enum bpf_map_type, the map_type of BPF_MAP_CREATE.
type BPFMapType uint32

// BPFProgType is enum bpf_prog_type, the prog_type of BPF_PROG_LOAD.
type BPFProgType uint32

// BPFAttachType is enum bpf_attach_type (expected_attach_type, attach_type).
type BPFAttachType uint32

// BPFLinkType is enum bpf_link_type, reported by bpf_link_info.type.
type BPFLinkType uint32

// BPFFuncID is enum bpf_func_id: the number of a helper function.
type BPFFuncID int32

// Commands of bpf(2): enum bpf_cmd.
const (
	BPF_MAP_CREATE                  BPFCmd = 0
	BPF_MAP_LOOKUP_ELEM             BPFCmd = 1
	BPF_MAP_UPDATE_ELEM             BPFCmd = 2
	BPF_MAP_DELETE_ELEM             BPFCmd = 3
	BPF_MAP_GET_NEXT_KEY            BPFCmd = 4
	BPF_PROG_LOAD                   BPFCmd = 5
	BPF_OBJ_PIN                     BPFCmd = 6
	BPF_OBJ_GET                     BPFCmd = 7
	BPF_PROG_ATTACH                 BPFCmd = 8
	BPF_PROG_DETACH                 BPFCmd = 9
	BPF_PROG_TEST_RUN               BPFCmd = 10
	BPF_PROG_RUN                           = BPF_PROG_TEST_RUN
	BPF_PROG_GET_NEXT_ID            BPFCmd = 11
	BPF_MAP_GET_NEXT_ID             BPFCmd = 12
	BPF_PROG_GET_FD_BY_ID           BPFCmd = 13
	BPF_MAP_GET_FD_BY_ID            BPFCmd = 14
	BPF_OBJ_GET_INFO_BY_FD          BPFCmd = 15
	BPF_PROG_QUERY                  BPFCmd = 16
	BPF_RAW_TRACEPOINT_OPEN         BPFCmd = 17
	BPF_BTF_LOAD                    BPFCmd = 18
	BPF_BTF_GET_FD_BY_ID            BPFCmd = 19
	BPF_TASK_FD_QUERY               BPFCmd = 20
	BPF_MAP_LOOKUP_AND_DELETE_ELEM  BPFCmd = 21
	BPF_MAP_FREEZE                  BPFCmd = 22
	BPF_BTF_GET_NEXT_ID             BPFCmd = 23
	BPF_MAP_LOOKUP_BATCH            BPFCmd = 24
	BPF_MAP_LOOKUP_AND_DELETE_BATCH BPFCmd = 25
	BPF_MAP_UPDATE_BATCH            BPFCmd = 26
	BPF_MAP_DELETE_BATCH            BPFCmd = 27
	BPF_LINK_CREATE                 BPFCmd = 28
	BPF_LINK_UPDATE                 BPFCmd = 29
	BPF_LINK_GET_FD_BY_ID           BPFCmd = 30
	BPF_LINK_GET_NEXT_ID            BPFCmd = 31
	BPF_ENABLE_STATS                BPFCmd = 32
	BPF_ITER_CREATE                 BPFCmd = 33
	BPF_LINK_DETACH                 BPFCmd = 34
	BPF_PROG_BIND_MAP               BPFCmd = 35
)

// bpfCmdNames maps each value to its Linux spelling for String.
var bpfCmdNames = [...]string{
	BPF_MAP_CREATE:                  "BPF_MAP_CREATE",
	BPF_MAP_LOOKUP_ELEM:             "BPF_MAP_LOOKUP_ELEM",
	BPF_MAP_UPDATE_ELEM:             "BPF_MAP_UPDATE_ELEM",
	BPF_MAP_DELETE_ELEM:             "BPF_MAP_DELETE_ELEM",
	BPF_MAP_GET_NEXT_KEY:            "BPF_MAP_GET_NEXT_KEY",
	BPF_PROG_LOAD:                   "BPF_PROG_LOAD",
	BPF_OBJ_PIN:                     "BPF_OBJ_PIN",
	BPF_OBJ_GET:                     "BPF_OBJ_GET",
	BPF_PROG_ATTACH:                 "BPF_PROG_ATTACH",
	BPF_PROG_DETACH:                 "BPF_PROG_DETACH",
	BPF_PROG_TEST_RUN:               "BPF_PROG_TEST_RUN",
	BPF_PROG_GET_NEXT_ID:            "BPF_PROG_GET_NEXT_ID",
	BPF_MAP_GET_NEXT_ID:             "BPF_MAP_GET_NEXT_ID",
	BPF_PROG_GET_FD_BY_ID:           "BPF_PROG_GET_FD_BY_ID",
	BPF_MAP_GET_FD_BY_ID:            "BPF_MAP_GET_FD_BY_ID",
	BPF_OBJ_GET_INFO_BY_FD:          "BPF_OBJ_GET_INFO_BY_FD",
	BPF_PROG_QUERY:                  "BPF_PROG_QUERY",
	BPF_RAW_TRACEPOINT_OPEN:         "BPF_RAW_TRACEPOINT_OPEN",
	BPF_BTF_LOAD:                    "BPF_BTF_LOAD",
	BPF_BTF_GET_FD_BY_ID:            "BPF_BTF_GET_FD_BY_ID",
	BPF_TASK_FD_QUERY:               "BPF_TASK_FD_QUERY",
	BPF_MAP_LOOKUP_AND_DELETE_ELEM:  "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
	BPF_MAP_FREEZE:                  "BPF_MAP_FREEZE",
	BPF_BTF_GET_NEXT_ID:             "BPF_BTF_GET_NEXT_ID",
	BPF_MAP_LOOKUP_BATCH:            "BPF_MAP_LOOKUP_BATCH",
	BPF_MAP_LOOKUP_AND_DELETE_BATCH: "BPF_MAP_LOOKUP_AND_DELETE_BATCH",
	BPF_MAP_UPDATE_BATCH:            "BPF_MAP_UPDATE_BATCH",
	BPF_MAP_DELETE_BATCH:            "BPF_MAP_DELETE_BATCH",
	BPF_LINK_CREATE:                 "BPF_LINK_CREATE",
	BPF_LINK_UPDATE:                 "BPF_LINK_UPDATE",
	BPF_LINK_GET_FD_BY_ID:           "BPF_LINK_GET_FD_BY_ID",
	BPF_LINK_GET_NEXT_ID:            "BPF_LINK_GET_NEXT_ID",
	BPF_ENABLE_STATS:                "BPF_ENABLE_STATS",
	BPF_ITER_CREATE:                 "BPF_ITER_CREATE",
	BPF_LINK_DETACH:                 "BPF_LINK_DETACH",
	BPF_PROG_BIND_MAP:               "BPF_PROG_BIND_MAP",
}

// Map types: enum bpf_map_type.
const (
	BPF_MAP_TYPE_UNSPEC                BPFMapType = 0
	BPF_MAP_TYPE_HASH                  BPFMapType = 1
	BPF_MAP_TYPE_ARRAY                 BPFMapType = 2
	BPF_MAP_TYPE_PROG_ARRAY            BPFMapType = 3
	BPF_MAP_TYPE_PERF_EVENT_ARRAY      BPFMapType = 4
	BPF_MAP_TYPE_PERCPU_HASH           BPFMapType = 5
	BPF_MAP_TYPE_PERCPU_ARRAY          BPFMapType = 6
	BPF_MAP_TYPE_STACK_TRACE           BPFMapType = 7
	BPF_MAP_TYPE_CGROUP_ARRAY          BPFMapType = 8
	BPF_MAP_TYPE_LRU_HASH              BPFMapType = 9
	BPF_MAP_TYPE_LRU_PERCPU_HASH       BPFMapType = 10
	BPF_MAP_TYPE_LPM_TRIE              BPFMapType = 11
	BPF_MAP_TYPE_ARRAY_OF_MAPS         BPFMapType = 12
	BPF_MAP_TYPE_HASH_OF_MAPS          BPFMapType = 13
	BPF_MAP_TYPE_DEVMAP                BPFMapType = 14
	BPF_MAP_TYPE_SOCKMAP               BPFMapType = 15
	BPF_MAP_TYPE_CPUMAP                BPFMapType = 16
	BPF_MAP_TYPE_XSKMAP                BPFMapType = 17
	BPF_MAP_TYPE_SOCKHASH              BPFMapType = 18
	BPF_MAP_TYPE_CGROUP_STORAGE        BPFMapType = 19
	BPF_MAP_TYPE_REUSEPORT_SOCKARRAY   BPFMapType = 20
	BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE BPFMapType = 21
	BPF_MAP_TYPE_QUEUE                 BPFMapType = 22
	BPF_MAP_TYPE_STACK                 BPFMapType = 23
	BPF_MAP_TYPE_SK_STORAGE            BPFMapType = 24
	BPF_MAP_TYPE_DEVMAP_HASH           BPFMapType = 25
	BPF_MAP_TYPE_STRUCT_OPS            BPFMapType = 26
	BPF_MAP_TYPE_RINGBUF               BPFMapType = 27
	BPF_MAP_TYPE_INODE_STORAGE         BPFMapType = 28
	BPF_MAP_TYPE_TASK_STORAGE          BPFMapType = 29
	BPF_MAP_TYPE_BLOOM_FILTER          BPFMapType = 30
	BPF_MAP_TYPE_USER_RINGBUF          BPFMapType = 31
)

// bpfMapTypeNames maps each value to its Linux spelling for String.
var bpfMapTypeNames = [...]string{
	BPF_MAP_TYPE_UNSPEC:                "BPF_MAP_TYPE_UNSPEC",
	BPF_MAP_TYPE_HASH:                  "BPF_MAP_TYPE_HASH",
	BPF_MAP_TYPE_ARRAY:                 "BPF_MAP_TYPE_ARRAY",
	BPF_MAP_TYPE_PROG_ARRAY:            "BPF_MAP_TYPE_PROG_ARRAY",
	BPF_MAP_TYPE_PERF_EVENT_ARRAY:      "BPF_MAP_TYPE_PERF_EVENT_ARRAY",
	BPF_MAP_TYPE_PERCPU_HASH:           "BPF_MAP_TYPE_PERCPU_HASH",
	BPF_MAP_TYPE_PERCPU_ARRAY:          "BPF_MAP_TYPE_PERCPU_ARRAY",
	BPF_MAP_TYPE_STACK_TRACE:           "BPF_MAP_TYPE_STACK_TRACE",
	BPF_MAP_TYPE_CGROUP_ARRAY:          "BPF_MAP_TYPE_CGROUP_ARRAY",
	BPF_MAP_TYPE_LRU_HASH:              "BPF_MAP_TYPE_LRU_HASH",
	BPF_MAP_TYPE_LRU_PERCPU_HASH:       "BPF_MAP_TYPE_LRU_PERCPU_HASH",
	BPF_MAP_TYPE_LPM_TRIE:              "BPF_MAP_TYPE_LPM_TRIE",
	BPF_MAP_TYPE_ARRAY_OF_MAPS:         "BPF_MAP_TYPE_ARRAY_OF_MAPS",
	BPF_MAP_TYPE_HASH_OF_MAPS:          "BPF_MAP_TYPE_HASH_OF_MAPS",
	BPF_MAP_TYPE_DEVMAP:                "BPF_MAP_TYPE_DEVMAP",
	BPF_MAP_TYPE_SOCKMAP:               "BPF_MAP_TYPE_SOCKMAP",
	BPF_MAP_TYPE_CPUMAP:                "BPF_MAP_TYPE_CPUMAP",
	BPF_MAP_TYPE_XSKMAP:                "BPF_MAP_TYPE_XSKMAP",
	BPF_MAP_TYPE_SOCKHASH:              "BPF_MAP_TYPE_SOCKHASH",
	BPF_MAP_TYPE_CGROUP_STORAGE:        "BPF_MAP_TYPE_CGROUP_STORAGE",
	BPF_MAP_TYPE_REUSEPORT_SOCKARRAY:   "BPF_MAP_TYPE_REUSEPORT_SOCKARRAY",
	BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE: "BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE",
	BPF_MAP_TYPE_QUEUE:                 "BPF_MAP_TYPE_QUEUE",
	BPF_MAP_TYPE_STACK:                 "BPF_MAP_TYPE_STACK",
	BPF_MAP_TYPE_SK_STORAGE:            "BPF_MAP_TYPE_SK_STORAGE",
	BPF_MAP_TYPE_DEVMAP_HASH:           "BPF_MAP_TYPE_DEVMAP_HASH",
	BPF_MAP_TYPE_STRUCT_OPS:            "BPF_MAP_TYPE_STRUCT_OPS",
	BPF_MAP_TYPE_RINGBUF:               "BPF_MAP_TYPE_RINGBUF",
	BPF_MAP_TYPE_INODE_STORAGE:         "BPF_MAP_TYPE_INODE_STORAGE",
	BPF_MAP_TYPE_TASK_STORAGE:          "BPF_MAP_TYPE_TASK_STORAGE",
	BPF_MAP_TYPE_BLOOM_FILTER:          "BPF_MAP_TYPE_BLOOM_FILTER",
	BPF_MAP_TYPE_USER_RINGBUF:          "BPF_MAP_TYPE_USER_RINGBUF",
}

// Program types: enum bpf_prog_type.
const (
	BPF_PROG_TYPE_UNSPEC                  BPFProgType = 0
	BPF_PROG_TYPE_SOCKET_FILTER           BPFProgType = 1
	BPF_PROG_TYPE_KPROBE                  BPFProgType = 2
	BPF_PROG_TYPE_SCHED_CLS               BPFProgType = 3
	BPF_PROG_TYPE_SCHED_ACT               BPFProgType = 4
	BPF_PROG_TYPE_TRACEPOINT              BPFProgType = 5
	BPF_PROG_TYPE_XDP                     BPFProgType = 6
	BPF_PROG_TYPE_PERF_EVENT              BPFProgType = 7
	BPF_PROG_TYPE_CGROUP_SKB              BPFProgType = 8
	BPF_PROG_TYPE_CGROUP_SOCK             BPFProgType = 9
	BPF_PROG_TYPE_LWT_IN                  BPFProgType = 10
	BPF_PROG_TYPE_LWT_OUT                 BPFProgType = 11
	BPF_PROG_TYPE_LWT_XMIT                BPFProgType = 12
	BPF_PROG_TYPE_SOCK_OPS                BPFProgType = 13
	BPF_PROG_TYPE_SK_SKB                  BPFProgType = 14
	BPF_PROG_TYPE_CGROUP_DEVICE           BPFProgType = 15
	BPF_PROG_TYPE_SK_MSG                  BPFProgType = 16
	BPF_PROG_TYPE_RAW_TRACEPOINT          BPFProgType = 17
	BPF_PROG_TYPE_CGROUP_SOCK_ADDR        BPFProgType = 18
	BPF_PROG_TYPE_LWT_SEG6LOCAL           BPFProgType = 19
	BPF_PROG_TYPE_LIRC_MODE2              BPFProgType = 20
	BPF_PROG_TYPE_SK_REUSEPORT            BPFProgType = 21
	BPF_PROG_TYPE_FLOW_DISSECTOR          BPFProgType = 22
	BPF_PROG_TYPE_CGROUP_SYSCTL           BPFProgType = 23
	BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE BPFProgType = 24
	BPF_PROG_TYPE_CGROUP_SOCKOPT          BPFProgType = 25
	BPF_PROG_TYPE_TRACING                 BPFProgType = 26
	BPF_PROG_TYPE_STRUCT_OPS              BPFProgType = 27
	BPF_PROG_TYPE_EXT                     BPFProgType = 28
	BPF_PROG_TYPE_LSM                     BPFProgType = 29
	BPF_PROG_TYPE_SK_LOOKUP               BPFProgType = 30
	BPF_PROG_TYPE_SYSCALL                 BPFProgType = 31
)

// bpfProgTypeNames maps each value to its Linux spelling for String.
var bpfProgTypeNames = [...]string{
	BPF_PROG_TYPE_UNSPEC:                  "BPF_PROG_TYPE_UNSPEC",
	BPF_PROG_TYPE_SOCKET_FILTER:           "BPF_PROG_TYPE_SOCKET_FILTER",
	BPF_PROG_TYPE_KPROBE:                  "BPF_PROG_TYPE_KPROBE",
	BPF_PROG_TYPE_SCHED_CLS:               "BPF_PROG_TYPE_SCHED_CLS",
	BPF_PROG_TYPE_SCHED_ACT:               "BPF_PROG_TYPE_SCHED_ACT",
	BPF_PROG_TYPE_TRACEPOINT:              "BPF_PROG_TYPE_TRACEPOINT",
	BPF_PROG_TYPE_XDP:                     "BPF_PROG_TYPE_XDP",
	BPF_PROG_TYPE_PERF_EVENT:              "BPF_PROG_TYPE_PERF_EVENT",
	BPF_PROG_TYPE_CGROUP_SKB:              "BPF_PROG_TYPE_CGROUP_SKB",
	BPF_PROG_TYPE_CGROUP_SOCK:             "BPF_PROG_TYPE_CGROUP_SOCK",
	BPF_PROG_TYPE_LWT_IN:                  "BPF_PROG_TYPE_LWT_IN",
	BPF_PROG_TYPE_LWT_OUT:                 "BPF_PROG_TYPE_LWT_OUT",
	BPF_PROG_TYPE_LWT_XMIT:                "BPF_PROG_TYPE_LWT_XMIT",
	BPF_PROG_TYPE_SOCK_OPS:                "BPF_PROG_TYPE_SOCK_OPS",
	BPF_PROG_TYPE_SK_SKB:                  "BPF_PROG_TYPE_SK_SKB",
	BPF_PROG_TYPE_CGROUP_DEVICE:           "BPF_PROG_TYPE_CGROUP_DEVICE",
	BPF_PROG_TYPE_SK_MSG:                  "BPF_PROG_TYPE_SK_MSG",
	BPF_PROG_TYPE_RAW_TRACEPOINT:          "BPF_PROG_TYPE_RAW_TRACEPOINT",
	BPF_PROG_TYPE_CGROUP_SOCK_ADDR:        "BPF_PROG_TYPE_CGROUP_SOCK_ADDR",
	BPF_PROG_TYPE_LWT_SEG6LOCAL:           "BPF_PROG_TYPE_LWT_SEG6LOCAL",
	BPF_PROG_TYPE_LIRC_MODE2:              "BPF_PROG_TYPE_LIRC_MODE2",
	BPF_PROG_TYPE_SK_REUSEPORT:            "BPF_PROG_TYPE_SK_REUSEPORT",
	BPF_PROG_TYPE_FLOW_DISSECTOR:          "BPF_PROG_TYPE_FLOW_DISSECTOR",
	BPF_PROG_TYPE_CGROUP_SYSCTL:           "BPF_PROG_TYPE_CGROUP_SYSCTL",
	BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE: "BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE",
	BPF_PROG_TYPE_CGROUP_SOCKOPT:          "BPF_PROG_TYPE_CGROUP_SOCKOPT",
	BPF_PROG_TYPE_TRACING:                 "BPF_PROG_TYPE_TRACING",
	BPF_PROG_TYPE_STRUCT_OPS:              "BPF_PROG_TYPE_STRUCT_OPS",
	BPF_PROG_TYPE_EXT:                     "BPF_PROG_TYPE_EXT",
	BPF_PROG_TYPE_LSM:                     "BPF_PROG_TYPE_LSM",
	BPF_PROG_TYPE_SK_LOOKUP:               "BPF_PROG_TYPE_SK_LOOKUP",
	BPF_PROG_TYPE_SYSCALL:                 "BPF_PROG_TYPE_SYSCALL",
}

// Attach types: enum bpf_attach_type.
const (
	BPF_CGROUP_INET_INGRESS            BPFAttachType = 0
	BPF_CGROUP_INET_EGRESS             BPFAttachType = 1
	BPF_CGROUP_INET_SOCK_CREATE        BPFAttachType = 2
	BPF_CGROUP_SOCK_OPS                BPFAttachType = 3
	BPF_SK_SKB_STREAM_PARSER           BPFAttachType = 4
	BPF_SK_SKB_STREAM_VERDICT          BPFAttachType = 5
	BPF_CGROUP_DEVICE                  BPFAttachType = 6
	BPF_SK_MSG_VERDICT                 BPFAttachType = 7
	BPF_CGROUP_INET4_BIND              BPFAttachType = 8
	BPF_CGROUP_INET6_BIND              BPFAttachType = 9
	BPF_CGROUP_INET4_CONNECT           BPFAttachType = 10
	BPF_CGROUP_INET6_CONNECT           BPFAttachType = 11
	BPF_CGROUP_INET4_POST_BIND         BPFAttachType = 12
	BPF_CGROUP_INET6_POST_BIND         BPFAttachType = 13
	BPF_CGROUP_UDP4_SENDMSG            BPFAttachType = 14
	BPF_CGROUP_UDP6_SENDMSG            BPFAttachType = 15
	BPF_LIRC_MODE2                     BPFAttachType = 16
	BPF_FLOW_DISSECTOR                 BPFAttachType = 17
	BPF_CGROUP_SYSCTL                  BPFAttachType = 18
	BPF_CGROUP_UDP4_RECVMSG            BPFAttachType = 19
	BPF_CGROUP_UDP6_RECVMSG            BPFAttachType = 20
	BPF_CGROUP_GETSOCKOPT              BPFAttachType = 21
	BPF_CGROUP_SETSOCKOPT              BPFAttachType = 22
	BPF_TRACE_RAW_TP                   BPFAttachType = 23
	BPF_TRACE_FENTRY                   BPFAttachType = 24
	BPF_TRACE_FEXIT                    BPFAttachType = 25
	BPF_MODIFY_RETURN                  BPFAttachType = 26
	BPF_LSM_MAC                        BPFAttachType = 27
	BPF_TRACE_ITER                     BPFAttachType = 28
	BPF_CGROUP_INET4_GETPEERNAME       BPFAttachType = 29
	BPF_CGROUP_INET6_GETPEERNAME       BPFAttachType = 30
	BPF_CGROUP_INET4_GETSOCKNAME       BPFAttachType = 31
	BPF_CGROUP_INET6_GETSOCKNAME       BPFAttachType = 32
	BPF_XDP_DEVMAP                     BPFAttachType = 33
	BPF_CGROUP_INET_SOCK_RELEASE       BPFAttachType = 34
	BPF_XDP_CPUMAP                     BPFAttachType = 35
	BPF_SK_LOOKUP                      BPFAttachType = 36
	BPF_XDP                            BPFAttachType = 37
	BPF_SK_SKB_VERDICT                 BPFAttachType = 38
	BPF_SK_REUSEPORT_SELECT            BPFAttachType = 39
	BPF_SK_REUSEPORT_SELECT_OR_MIGRATE BPFAttachType = 40
	BPF_PERF_EVENT                     BPFAttachType = 41
	BPF_TRACE_KPROBE_MULTI             BPFAttachType = 42
	BPF_LSM_CGROUP                     BPFAttachType = 43
	__MAX_BPF_ATTACH_TYPE              BPFAttachType = 44
)

// bpfAttachTypeNames maps each value to its Linux spelling for String.
var bpfAttachTypeNames = [...]string{
	BPF_CGROUP_INET_INGRESS:            "BPF_CGROUP_INET_INGRESS",
	BPF_CGROUP_INET_EGRESS:             "BPF_CGROUP_INET_EGRESS",
	BPF_CGROUP_INET_SOCK_CREATE:        "BPF_CGROUP_INET_SOCK_CREATE",
	BPF_CGROUP_SOCK_OPS:                "BPF_CGROUP_SOCK_OPS",
	BPF_SK_SKB_STREAM_PARSER:           "BPF_SK_SKB_STREAM_PARSER",
	BPF_SK_SKB_STREAM_VERDICT:          "BPF_SK_SKB_STREAM_VERDICT",
	BPF_CGROUP_DEVICE:                  "BPF_CGROUP_DEVICE",
	BPF_SK_MSG_VERDICT:                 "BPF_SK_MSG_VERDICT",
	BPF_CGROUP_INET4_BIND:              "BPF_CGROUP_INET4_BIND",
	BPF_CGROUP_INET6_BIND:              "BPF_CGROUP_INET6_BIND",
	BPF_CGROUP_INET4_CONNECT:           "BPF_CGROUP_INET4_CONNECT",
	BPF_CGROUP_INET6_CONNECT:           "BPF_CGROUP_INET6_CONNECT",
	BPF_CGROUP_INET4_POST_BIND:         "BPF_CGROUP_INET4_POST_BIND",
	BPF_CGROUP_INET6_POST_BIND:         "BPF_CGROUP_INET6_POST_BIND",
	BPF_CGROUP_UDP4_SENDMSG:            "BPF_CGROUP_UDP4_SENDMSG",
	BPF_CGROUP_UDP6_SENDMSG:            "BPF_CGROUP_UDP6_SENDMSG",
	BPF_LIRC_MODE2:                     "BPF_LIRC_MODE2",
	BPF_FLOW_DISSECTOR:                 "BPF_FLOW_DISSECTOR",
	BPF_CGROUP_SYSCTL:                  "BPF_CGROUP_SYSCTL",
	BPF_CGROUP_UDP4_RECVMSG:            "BPF_CGROUP_UDP4_RECVMSG",
	BPF_CGROUP_UDP6_RECVMSG:            "BPF_CGROUP_UDP6_RECVMSG",
	BPF_CGROUP_GETSOCKOPT:              "BPF_CGROUP_GETSOCKOPT",
	BPF_CGROUP_SETSOCKOPT:              "BPF_CGROUP_SETSOCKOPT",
	BPF_TRACE_RAW_TP:                   "BPF_TRACE_RAW_TP",
	BPF_TRACE_FENTRY:                   "BPF_TRACE_FENTRY",
	BPF_TRACE_FEXIT:                    "BPF_TRACE_FEXIT",
	BPF_MODIFY_RETURN:                  "BPF_MODIFY_RETURN",
	BPF_LSM_MAC:                        "BPF_LSM_MAC",
	BPF_TRACE_ITER:                     "BPF_TRACE_ITER",
	BPF_CGROUP_INET4_GETPEERNAME:       "BPF_CGROUP_INET4_GETPEERNAME",
	BPF_CGROUP_INET6_GETPEERNAME:       "BPF_CGROUP_INET6_GETPEERNAME",
	BPF_CGROUP_INET4_GETSOCKNAME:       "BPF_CGROUP_INET4_GETSOCKNAME",
	BPF_CGROUP_INET6_GETSOCKNAME:       "BPF_CGROUP_INET6_GETSOCKNAME",
	BPF_XDP_DEVMAP:                     "BPF_XDP_DEVMAP",
	BPF_CGROUP_INET_SOCK_RELEASE:       "BPF_CGROUP_INET_SOCK_RELEASE",
	BPF_XDP_CPUMAP:                     "BPF_XDP_CPUMAP",
	BPF_SK_LOOKUP:                      "BPF_SK_LOOKUP",
	BPF_XDP:                            "BPF_XDP",
	BPF_SK_SKB_VERDICT:                 "BPF_SK_SKB_VERDICT",
	BPF_SK_REUSEPORT_SELECT:            "BPF_SK_REUSEPORT_SELECT",
	BPF_SK_REUSEPORT_SELECT_OR_MIGRATE: "BPF_SK_REUSEPORT_SELECT_OR_MIGRATE",
	BPF_PERF_EVENT:                     "BPF_PERF_EVENT",
	BPF_TRACE_KPROBE_MULTI:             "BPF_TRACE_KPROBE_MULTI",
	BPF_LSM_CGROUP:                     "BPF_LSM_CGROUP",
}

// Link types: enum bpf_link_type.
const (
	BPF_LINK_TYPE_UNSPEC         BPFLinkType = 0
	BPF_LINK_TYPE_RAW_TRACEPOINT BPFLinkType = 1
	BPF_LINK_TYPE_TRACING        BPFLinkType = 2
	BPF_LINK_TYPE_CGROUP         BPFLinkType = 3
	BPF_LINK_TYPE_ITER           BPFLinkType = 4
	BPF_LINK_TYPE_NETNS          BPFLinkType = 5
	BPF_LINK_TYPE_XDP            BPFLinkType = 6
	BPF_LINK_TYPE_PERF_EVENT     BPFLinkType = 7
	BPF_LINK_TYPE_KPROBE_MULTI   BPFLinkType = 8
	BPF_LINK_TYPE_STRUCT_OPS     BPFLinkType = 9
	MAX_BPF_LINK_TYPE            BPFLinkType = 10
)

// bpfLinkTypeNames maps each value to its Linux spelling for String.
var bpfLinkTypeNames = [...]string{
	BPF_LINK_TYPE_UNSPEC:         "BPF_LINK_TYPE_UNSPEC",
	BPF_LINK_TYPE_RAW_TRACEPOINT: "BPF_LINK_TYPE_RAW_TRACEPOINT",
	BPF_LINK_TYPE_TRACING:        "BPF_LINK_TYPE_TRACING",
	BPF_LINK_TYPE_CGROUP:         "BPF_LINK_TYPE_CGROUP",
	BPF_LINK_TYPE_ITER:           "BPF_LINK_TYPE_ITER",
	BPF_LINK_TYPE_NETNS:          "BPF_LINK_TYPE_NETNS",
	BPF_LINK_TYPE_XDP:            "BPF_LINK_TYPE_XDP",
	BPF_LINK_TYPE_PERF_EVENT:     "BPF_LINK_TYPE_PERF_EVENT",
	BPF_LINK_TYPE_KPROBE_MULTI:   "BPF_LINK_TYPE_KPROBE_MULTI",
	BPF_LINK_TYPE_STRUCT_OPS:     "BPF_LINK_TYPE_STRUCT_OPS",
}

// String returns the Linux name of the command, e.g. "BPF_MAP_CREATE".
func (c BPFCmd) String() string { return enumName(bpfCmdNames[:], uint32(c), "BPF_CMD") }

// String returns the Linux name of the map type, e.g. "BPF_MAP_TYPE_HASH".
func (t BPFMapType) String() string {
	return enumName(bpfMapTypeNames[:], uint32(t), "BPF_MAP_TYPE")
}

// String returns the Linux name of the program type, e.g. "BPF_PROG_TYPE_KPROBE".
func (t BPFProgType) String() string {
	return enumName(bpfProgTypeNames[:], uint32(t), "BPF_PROG_TYPE")
}

// String returns the Linux name of the attach type, e.g. "BPF_PERF_EVENT".
func (t BPFAttachType) String() string {
	return enumName(bpfAttachTypeNames[:], uint32(t), "BPF_ATTACH_TYPE")
}

// String returns the Linux name of the link type, e.g. "BPF_LINK_TYPE_PERF_EVENT".
func (t BPFLinkType) String() string {
	return enumName(bpfLinkTypeNames[:], uint32(t), "BPF_LINK_TYPE")
}

// String returns the helper's name as the verifier prints it, e.g.
// "bpf_map_lookup_elem"; unknown ids read "bpf_func#N".
func (id BPFFuncID) String() string {
	if id >= 0 && id < __BPF_FUNC_MAX_ID {
		return "bpf_" + bpfFuncNames[id]
	}
	return "bpf_func#" + strconv.Itoa(int(id))
}

// enumName looks v up in a name table, falling back to "PREFIX(v)".
func enumName(names []string, v uint32, prefix string) string {
	if int(v) < len(names) && names[v] != "" {
		return names[v]
	}
	return prefix + "(" + strconv.FormatUint(uint64(v), 10) + ")"
}

// Helper function ids: enum bpf_func_id, generated from __BPF_FUNC_MAPPER in
// include/uapi/linux/bpf.h. A program's call instruction (BPF_JMP|BPF_CALL with
// src_reg 0) carries one of these in imm.
const (
	BPF_FUNC_unspec                         BPFFuncID = 0
	BPF_FUNC_map_lookup_elem                BPFFuncID = 1
	BPF_FUNC_map_update_elem                BPFFuncID = 2
	BPF_FUNC_map_delete_elem                BPFFuncID = 3
	BPF_FUNC_probe_read                     BPFFuncID = 4
	BPF_FUNC_ktime_get_ns                   BPFFuncID = 5
	BPF_FUNC_trace_printk                   BPFFuncID = 6
	BPF_FUNC_get_prandom_u32                BPFFuncID = 7
	BPF_FUNC_get_smp_processor_id           BPFFuncID = 8
	BPF_FUNC_skb_store_bytes                BPFFuncID = 9
	BPF_FUNC_l3_csum_replace                BPFFuncID = 10
	BPF_FUNC_l4_csum_replace                BPFFuncID = 11
	BPF_FUNC_tail_call                      BPFFuncID = 12
	BPF_FUNC_clone_redirect                 BPFFuncID = 13
	BPF_FUNC_get_current_pid_tgid           BPFFuncID = 14
	BPF_FUNC_get_current_uid_gid            BPFFuncID = 15
	BPF_FUNC_get_current_comm               BPFFuncID = 16
	BPF_FUNC_get_cgroup_classid             BPFFuncID = 17
	BPF_FUNC_skb_vlan_push                  BPFFuncID = 18
	BPF_FUNC_skb_vlan_pop                   BPFFuncID = 19
	BPF_FUNC_skb_get_tunnel_key             BPFFuncID = 20
	BPF_FUNC_skb_set_tunnel_key             BPFFuncID = 21
	BPF_FUNC_perf_event_read                BPFFuncID = 22
	BPF_FUNC_redirect                       BPFFuncID = 23
	BPF_FUNC_get_route_realm                BPFFuncID = 24
	BPF_FUNC_perf_event_output              BPFFuncID = 25
	BPF_FUNC_skb_load_bytes                 BPFFuncID = 26
	BPF_FUNC_get_stackid                    BPFFuncID = 27
	BPF_FUNC_csum_diff                      BPFFuncID = 28
	BPF_FUNC_skb_get_tunnel_opt             BPFFuncID = 29
	BPF_FUNC_skb_set_tunnel_opt             BPFFuncID = 30
	BPF_FUNC_skb_change_proto               BPFFuncID = 31
	BPF_FUNC_skb_change_type                BPFFuncID = 32
	BPF_FUNC_skb_under_cgroup               BPFFuncID = 33
	BPF_FUNC_get_hash_recalc                BPFFuncID = 34
	BPF_FUNC_get_current_task               BPFFuncID = 35
	BPF_FUNC_probe_write_user               BPFFuncID = 36
	BPF_FUNC_current_task_under_cgroup      BPFFuncID = 37
	BPF_FUNC_skb_change_tail                BPFFuncID = 38
	BPF_FUNC_skb_pull_data                  BPFFuncID = 39
	BPF_FUNC_csum_update                    BPFFuncID = 40
	BPF_FUNC_set_hash_invalid               BPFFuncID = 41
	BPF_FUNC_get_numa_node_id               BPFFuncID = 42
	BPF_FUNC_skb_change_head                BPFFuncID = 43
	BPF_FUNC_xdp_adjust_head                BPFFuncID = 44
	BPF_FUNC_probe_read_str                 BPFFuncID = 45
	BPF_FUNC_get_socket_cookie              BPFFuncID = 46
	BPF_FUNC_get_socket_uid                 BPFFuncID = 47
	BPF_FUNC_set_hash                       BPFFuncID = 48
	BPF_FUNC_setsockopt                     BPFFuncID = 49
	BPF_FUNC_skb_adjust_room                BPFFuncID = 50
	BPF_FUNC_redirect_map                   BPFFuncID = 51
	BPF_FUNC_sk_redirect_map                BPFFuncID = 52
	BPF_FUNC_sock_map_update                BPFFuncID = 53
	BPF_FUNC_xdp_adjust_meta                BPFFuncID = 54
	BPF_FUNC_perf_event_read_value          BPFFuncID = 55
	BPF_FUNC_perf_prog_read_value           BPFFuncID = 56
	BPF_FUNC_getsockopt                     BPFFuncID = 57
	BPF_FUNC_override_return                BPFFuncID = 58
	BPF_FUNC_sock_ops_cb_flags_set          BPFFuncID = 59
	BPF_FUNC_msg_redirect_map               BPFFuncID = 60
	BPF_FUNC_msg_apply_bytes                BPFFuncID = 61
	BPF_FUNC_msg_cork_bytes                 BPFFuncID = 62
	BPF_FUNC_msg_pull_data                  BPFFuncID = 63
	BPF_FUNC_bind                           BPFFuncID = 64
	BPF_FUNC_xdp_adjust_tail                BPFFuncID = 65
	BPF_FUNC_skb_get_xfrm_state             BPFFuncID = 66
	BPF_FUNC_get_stack                      BPFFuncID = 67
	BPF_FUNC_skb_load_bytes_relative        BPFFuncID = 68
	BPF_FUNC_fib_lookup                     BPFFuncID = 69
	BPF_FUNC_sock_hash_update               BPFFuncID = 70
	BPF_FUNC_msg_redirect_hash              BPFFuncID = 71
	BPF_FUNC_sk_redirect_hash               BPFFuncID = 72
	BPF_FUNC_lwt_push_encap                 BPFFuncID = 73
	BPF_FUNC_lwt_seg6_store_bytes           BPFFuncID = 74
	BPF_FUNC_lwt_seg6_adjust_srh            BPFFuncID = 75
	BPF_FUNC_lwt_seg6_action                BPFFuncID = 76
	BPF_FUNC_rc_repeat                      BPFFuncID = 77
	BPF_FUNC_rc_keydown                     BPFFuncID = 78
	BPF_FUNC_skb_cgroup_id                  BPFFuncID = 79
	BPF_FUNC_get_current_cgroup_id          BPFFuncID = 80
	BPF_FUNC_get_local_storage              BPFFuncID = 81
	BPF_FUNC_sk_select_reuseport            BPFFuncID = 82
	BPF_FUNC_skb_ancestor_cgroup_id         BPFFuncID = 83
	BPF_FUNC_sk_lookup_tcp                  BPFFuncID = 84
	BPF_FUNC_sk_lookup_udp                  BPFFuncID = 85
	BPF_FUNC_sk_release                     BPFFuncID = 86
	BPF_FUNC_map_push_elem                  BPFFuncID = 87
	BPF_FUNC_map_pop_elem                   BPFFuncID = 88
	BPF_FUNC_map_peek_elem                  BPFFuncID = 89
	BPF_FUNC_msg_push_data                  BPFFuncID = 90
	BPF_FUNC_msg_pop_data                   BPFFuncID = 91
	BPF_FUNC_rc_pointer_rel                 BPFFuncID = 92
	BPF_FUNC_spin_lock                      BPFFuncID = 93
	BPF_FUNC_spin_unlock                    BPFFuncID = 94
	BPF_FUNC_sk_fullsock                    BPFFuncID = 95
	BPF_FUNC_tcp_sock                       BPFFuncID = 96
	BPF_FUNC_skb_ecn_set_ce                 BPFFuncID = 97
	BPF_FUNC_get_listener_sock              BPFFuncID = 98
	BPF_FUNC_skc_lookup_tcp                 BPFFuncID = 99
	BPF_FUNC_tcp_check_syncookie            BPFFuncID = 100
	BPF_FUNC_sysctl_get_name                BPFFuncID = 101
	BPF_FUNC_sysctl_get_current_value       BPFFuncID = 102
	BPF_FUNC_sysctl_get_new_value           BPFFuncID = 103
	BPF_FUNC_sysctl_set_new_value           BPFFuncID = 104
	BPF_FUNC_strtol                         BPFFuncID = 105
	BPF_FUNC_strtoul                        BPFFuncID = 106
	BPF_FUNC_sk_storage_get                 BPFFuncID = 107
	BPF_FUNC_sk_storage_delete              BPFFuncID = 108
	BPF_FUNC_send_signal                    BPFFuncID = 109
	BPF_FUNC_tcp_gen_syncookie              BPFFuncID = 110
	BPF_FUNC_skb_output                     BPFFuncID = 111
	BPF_FUNC_probe_read_user                BPFFuncID = 112
	BPF_FUNC_probe_read_kernel              BPFFuncID = 113
	BPF_FUNC_probe_read_user_str            BPFFuncID = 114
	BPF_FUNC_probe_read_kernel_str          BPFFuncID = 115
	BPF_FUNC_tcp_send_ack                   BPFFuncID = 116
	BPF_FUNC_send_signal_thread             BPFFuncID = 117
	BPF_FUNC_jiffies64                      BPFFuncID = 118
	BPF_FUNC_read_branch_records            BPFFuncID = 119
	BPF_FUNC_get_ns_current_pid_tgid        BPFFuncID = 120
	BPF_FUNC_xdp_output                     BPFFuncID = 121
	BPF_FUNC_get_netns_cookie               BPFFuncID = 122
	BPF_FUNC_get_current_ancestor_cgroup_id BPFFuncID = 123
	BPF_FUNC_sk_assign                      BPFFuncID = 124
	BPF_FUNC_ktime_get_boot_ns              BPFFuncID = 125
	BPF_FUNC_seq_printf                     BPFFuncID = 126
	BPF_FUNC_seq_write                      BPFFuncID = 127
	BPF_FUNC_sk_cgroup_id                   BPFFuncID = 128
	BPF_FUNC_sk_ancestor_cgroup_id          BPFFuncID = 129
	BPF_FUNC_ringbuf_output                 BPFFuncID = 130
	BPF_FUNC_ringbuf_reserve                BPFFuncID = 131
	BPF_FUNC_ringbuf_submit                 BPFFuncID = 132
	BPF_FUNC_ringbuf_discard                BPFFuncID = 133
	BPF_FUNC_ringbuf_query                  BPFFuncID = 134
	BPF_FUNC_csum_level                     BPFFuncID = 135
	BPF_FUNC_skc_to_tcp6_sock               BPFFuncID = 136
	BPF_FUNC_skc_to_tcp_sock                BPFFuncID = 137
	BPF_FUNC_skc_to_tcp_timewait_sock       BPFFuncID = 138
	BPF_FUNC_skc_to_tcp_request_sock        BPFFuncID = 139
	BPF_FUNC_skc_to_udp6_sock               BPFFuncID = 140
	BPF_FUNC_get_task_stack                 BPFFuncID = 141
	BPF_FUNC_load_hdr_opt                   BPFFuncID = 142
	BPF_FUNC_store_hdr_opt                  BPFFuncID = 143
	BPF_FUNC_reserve_hdr_opt                BPFFuncID = 144
	BPF_FUNC_inode_storage_get              BPFFuncID = 145
	BPF_FUNC_inode_storage_delete           BPFFuncID = 146
	BPF_FUNC_d_path                         BPFFuncID = 147
	BPF_FUNC_copy_from_user                 BPFFuncID = 148
	BPF_FUNC_snprintf_btf                   BPFFuncID = 149
	BPF_FUNC_seq_printf_btf                 BPFFuncID = 150
	BPF_FUNC_skb_cgroup_classid             BPFFuncID = 151
	BPF_FUNC_redirect_neigh                 BPFFuncID = 152
	BPF_FUNC_per_cpu_ptr                    BPFFuncID = 153
	BPF_FUNC_this_cpu_ptr                   BPFFuncID = 154
	BPF_FUNC_redirect_peer                  BPFFuncID = 155
	BPF_FUNC_task_storage_get               BPFFuncID = 156
	BPF_FUNC_task_storage_delete            BPFFuncID = 157
	BPF_FUNC_get_current_task_btf           BPFFuncID = 158
	BPF_FUNC_bprm_opts_set                  BPFFuncID = 159
	BPF_FUNC_ktime_get_coarse_ns            BPFFuncID = 160
	BPF_FUNC_ima_inode_hash                 BPFFuncID = 161
	BPF_FUNC_sock_from_file                 BPFFuncID = 162
	BPF_FUNC_check_mtu                      BPFFuncID = 163
	BPF_FUNC_for_each_map_elem              BPFFuncID = 164
	BPF_FUNC_snprintf                       BPFFuncID = 165
	BPF_FUNC_sys_bpf                        BPFFuncID = 166
	BPF_FUNC_btf_find_by_name_kind          BPFFuncID = 167
	BPF_FUNC_sys_close                      BPFFuncID = 168
	BPF_FUNC_timer_init                     BPFFuncID = 169
	BPF_FUNC_timer_set_callback             BPFFuncID = 170
	BPF_FUNC_timer_start                    BPFFuncID = 171
	BPF_FUNC_timer_cancel                   BPFFuncID = 172
	BPF_FUNC_get_func_ip                    BPFFuncID = 173
	BPF_FUNC_get_attach_cookie              BPFFuncID = 174
	BPF_FUNC_task_pt_regs                   BPFFuncID = 175
	BPF_FUNC_get_branch_snapshot            BPFFuncID = 176
	BPF_FUNC_trace_vprintk                  BPFFuncID = 177
	BPF_FUNC_skc_to_unix_sock               BPFFuncID = 178
	BPF_FUNC_kallsyms_lookup_name           BPFFuncID = 179
	BPF_FUNC_find_vma                       BPFFuncID = 180
	BPF_FUNC_loop                           BPFFuncID = 181
	BPF_FUNC_strncmp                        BPFFuncID = 182
	BPF_FUNC_get_func_arg                   BPFFuncID = 183
	BPF_FUNC_get_func_ret                   BPFFuncID = 184
	BPF_FUNC_get_func_arg_cnt               BPFFuncID = 185
	BPF_FUNC_get_retval                     BPFFuncID = 186
	BPF_FUNC_set_retval                     BPFFuncID = 187
	BPF_FUNC_xdp_get_buff_len               BPFFuncID = 188
	BPF_FUNC_xdp_load_bytes                 BPFFuncID = 189
	BPF_FUNC_xdp_store_bytes                BPFFuncID = 190
	BPF_FUNC_copy_from_user_task            BPFFuncID = 191
	BPF_FUNC_skb_set_tstamp                 BPFFuncID = 192
	BPF_FUNC_ima_file_hash                  BPFFuncID = 193
	BPF_FUNC_kptr_xchg                      BPFFuncID = 194
	BPF_FUNC_map_lookup_percpu_elem         BPFFuncID = 195
	BPF_FUNC_skc_to_mptcp_sock              BPFFuncID = 196
	BPF_FUNC_dynptr_from_mem                BPFFuncID = 197
	BPF_FUNC_ringbuf_reserve_dynptr         BPFFuncID = 198
	BPF_FUNC_ringbuf_submit_dynptr          BPFFuncID = 199
	BPF_FUNC_ringbuf_discard_dynptr         BPFFuncID = 200
	BPF_FUNC_dynptr_read                    BPFFuncID = 201
	BPF_FUNC_dynptr_write                   BPFFuncID = 202
	BPF_FUNC_dynptr_data                    BPFFuncID = 203
	BPF_FUNC_tcp_raw_gen_syncookie_ipv4     BPFFuncID = 204
	BPF_FUNC_tcp_raw_gen_syncookie_ipv6     BPFFuncID = 205
	BPF_FUNC_tcp_raw_check_syncookie_ipv4   BPFFuncID = 206
	BPF_FUNC_tcp_raw_check_syncookie_ipv6   BPFFuncID = 207
	BPF_FUNC_ktime_get_tai_ns               BPFFuncID = 208
	BPF_FUNC_user_ringbuf_drain             BPFFuncID = 209

	// __BPF_FUNC_MAX_ID is one past the last helper id this header knows.
	__BPF_FUNC_MAX_ID BPFFuncID = 210
)

// bpfFuncNames holds each helper's name without the bpf_ prefix, as
// __BPF_FUNC_MAPPER spells it; the verifier prints "bpf_" + name.
var bpfFuncNames = [__BPF_FUNC_MAX_ID]string{
	BPF_FUNC_unspec:                         "unspec",
	BPF_FUNC_map_lookup_elem:                "map_lookup_elem",
	BPF_FUNC_map_update_elem:                "map_update_elem",
	BPF_FUNC_map_delete_elem:                "map_delete_elem",
	BPF_FUNC_probe_read:                     "probe_read",
	BPF_FUNC_ktime_get_ns:                   "ktime_get_ns",
	BPF_FUNC_trace_printk:                   "trace_printk",
	BPF_FUNC_get_prandom_u32:                "get_prandom_u32",
	BPF_FUNC_get_smp_processor_id:           "get_smp_processor_id",
	BPF_FUNC_skb_store_bytes:                "skb_store_bytes",
	BPF_FUNC_l3_csum_replace:                "l3_csum_replace",
	BPF_FUNC_l4_csum_replace:                "l4_csum_replace",
	BPF_FUNC_tail_call:                      "tail_call",
	BPF_FUNC_clone_redirect:                 "clone_redirect",
	BPF_FUNC_get_current_pid_tgid:           "get_current_pid_tgid",
	BPF_FUNC_get_current_uid_gid:            "get_current_uid_gid",
	BPF_FUNC_get_current_comm:               "get_current_comm",
	BPF_FUNC_get_cgroup_classid:             "get_cgroup_classid",
	BPF_FUNC_skb_vlan_push:                  "skb_vlan_push",
	BPF_FUNC_skb_vlan_pop:                   "skb_vlan_pop",
	BPF_FUNC_skb_get_tunnel_key:             "skb_get_tunnel_key",
	BPF_FUNC_skb_set_tunnel_key:             "skb_set_tunnel_key",
	BPF_FUNC_perf_event_read:                "perf_event_read",
	BPF_FUNC_redirect:                       "redirect",
	BPF_FUNC_get_route_realm:                "get_route_realm",
	BPF_FUNC_perf_event_output:              "perf_event_output",
	BPF_FUNC_skb_load_bytes:                 "skb_load_bytes",
	BPF_FUNC_get_stackid:                    "get_stackid",
	BPF_FUNC_csum_diff:                      "csum_diff",
	BPF_FUNC_skb_get_tunnel_opt:             "skb_get_tunnel_opt",
	BPF_FUNC_skb_set_tunnel_opt:             "skb_set_tunnel_opt",
	BPF_FUNC_skb_change_proto:               "skb_change_proto",
	BPF_FUNC_skb_change_type:                "skb_change_type",
	BPF_FUNC_skb_under_cgroup:               "skb_under_cgroup",
	BPF_FUNC_get_hash_recalc:                "get_hash_recalc",
	BPF_FUNC_get_current_task:               "get_current_task",
	BPF_FUNC_probe_write_user:               "probe_write_user",
	BPF_FUNC_current_task_under_cgroup:      "current_task_under_cgroup",
	BPF_FUNC_skb_change_tail:                "skb_change_tail",
	BPF_FUNC_skb_pull_data:                  "skb_pull_data",
	BPF_FUNC_csum_update:                    "csum_update",
	BPF_FUNC_set_hash_invalid:               "set_hash_invalid",
	BPF_FUNC_get_numa_node_id:               "get_numa_node_id",
	BPF_FUNC_skb_change_head:                "skb_change_head",
	BPF_FUNC_xdp_adjust_head:                "xdp_adjust_head",
	BPF_FUNC_probe_read_str:                 "probe_read_str",
	BPF_FUNC_get_socket_cookie:              "get_socket_cookie",
	BPF_FUNC_get_socket_uid:                 "get_socket_uid",
	BPF_FUNC_set_hash:                       "set_hash",
	BPF_FUNC_setsockopt:                     "setsockopt",
	BPF_FUNC_skb_adjust_room:                "skb_adjust_room",
	BPF_FUNC_redirect_map:                   "redirect_map",
	BPF_FUNC_sk_redirect_map:                "sk_redirect_map",
	BPF_FUNC_sock_map_update:                "sock_map_update",
	BPF_FUNC_xdp_adjust_meta:                "xdp_adjust_meta",
	BPF_FUNC_perf_event_read_value:          "perf_event_read_value",
	BPF_FUNC_perf_prog_read_value:           "perf_prog_read_value",
	BPF_FUNC_getsockopt:                     "getsockopt",
	BPF_FUNC_override_return:                "override_return",
	BPF_FUNC_sock_ops_cb_flags_set:          "sock_ops_cb_flags_set",
	BPF_FUNC_msg_redirect_map:               "msg_redirect_map",
	BPF_FUNC_msg_apply_bytes:                "msg_apply_bytes",
	BPF_FUNC_msg_cork_bytes:                 "msg_cork_bytes",
	BPF_FUNC_msg_pull_data:                  "msg_pull_data",
	BPF_FUNC_bind:                           "bind",
	BPF_FUNC_xdp_adjust_tail:                "xdp_adjust_tail",
	BPF_FUNC_skb_get_xfrm_state:             "skb_get_xfrm_state",
	BPF_FUNC_get_stack:                      "get_stack",
	BPF_FUNC_skb_load_bytes_relative:        "skb_load_bytes_relative",
	BPF_FUNC_fib_lookup:                     "fib_lookup",
	BPF_FUNC_sock_hash_update:               "sock_hash_update",
	BPF_FUNC_msg_redirect_hash:              "msg_redirect_hash",
	BPF_FUNC_sk_redirect_hash:               "sk_redirect_hash",
	BPF_FUNC_lwt_push_encap:                 "lwt_push_encap",
	BPF_FUNC_lwt_seg6_store_bytes:           "lwt_seg6_store_bytes",
	BPF_FUNC_lwt_seg6_adjust_srh:            "lwt_seg6_adjust_srh",
	BPF_FUNC_lwt_seg6_action:                "lwt_seg6_action",
	BPF_FUNC_rc_repeat:                      "rc_repeat",
	BPF_FUNC_rc_keydown:                     "rc_keydown",
	BPF_FUNC_skb_cgroup_id:                  "skb_cgroup_id",
	BPF_FUNC_get_current_cgroup_id:          "get_current_cgroup_id",
	BPF_FUNC_get_local_storage:              "get_local_storage",
	BPF_FUNC_sk_select_reuseport:            "sk_select_reuseport",
	BPF_FUNC_skb_ancestor_cgroup_id:         "skb_ancestor_cgroup_id",
	BPF_FUNC_sk_lookup_tcp:                  "sk_lookup_tcp",
	BPF_FUNC_sk_lookup_udp:                  "sk_lookup_udp",
	BPF_FUNC_sk_release:                     "sk_release",
	BPF_FUNC_map_push_elem:                  "map_push_elem",
	BPF_FUNC_map_pop_elem:                   "map_pop_elem",
	BPF_FUNC_map_peek_elem:                  "map_peek_elem",
	BPF_FUNC_msg_push_data:                  "msg_push_data",
	BPF_FUNC_msg_pop_data:                   "msg_pop_data",
	BPF_FUNC_rc_pointer_rel:                 "rc_pointer_rel",
	BPF_FUNC_spin_lock:                      "spin_lock",
	BPF_FUNC_spin_unlock:                    "spin_unlock",
	BPF_FUNC_sk_fullsock:                    "sk_fullsock",
	BPF_FUNC_tcp_sock:                       "tcp_sock",
	BPF_FUNC_skb_ecn_set_ce:                 "skb_ecn_set_ce",
	BPF_FUNC_get_listener_sock:              "get_listener_sock",
	BPF_FUNC_skc_lookup_tcp:                 "skc_lookup_tcp",
	BPF_FUNC_tcp_check_syncookie:            "tcp_check_syncookie",
	BPF_FUNC_sysctl_get_name:                "sysctl_get_name",
	BPF_FUNC_sysctl_get_current_value:       "sysctl_get_current_value",
	BPF_FUNC_sysctl_get_new_value:           "sysctl_get_new_value",
	BPF_FUNC_sysctl_set_new_value:           "sysctl_set_new_value",
	BPF_FUNC_strtol:                         "strtol",
	BPF_FUNC_strtoul:                        "strtoul",
	BPF_FUNC_sk_storage_get:                 "sk_storage_get",
	BPF_FUNC_sk_storage_delete:              "sk_storage_delete",
	BPF_FUNC_send_signal:                    "send_signal",
	BPF_FUNC_tcp_gen_syncookie:              "tcp_gen_syncookie",
	BPF_FUNC_skb_output:                     "skb_output",
	BPF_FUNC_probe_read_user:                "probe_read_user",
	BPF_FUNC_probe_read_kernel:              "probe_read_kernel",
	BPF_FUNC_probe_read_user_str:            "probe_read_user_str",
	BPF_FUNC_probe_read_kernel_str:          "probe_read_kernel_str",
	BPF_FUNC_tcp_send_ack:                   "tcp_send_ack",
	BPF_FUNC_send_signal_thread:             "send_signal_thread",
	BPF_FUNC_jiffies64:                      "jiffies64",
	BPF_FUNC_read_branch_records:            "read_branch_records",
	BPF_FUNC_get_ns_current_pid_tgid:        "get_ns_current_pid_tgid",
	BPF_FUNC_xdp_output:                     "xdp_output",
	BPF_FUNC_get_netns_cookie:               "get_netns_cookie",
	BPF_FUNC_get_current_ancestor_cgroup_id: "get_current_ancestor_cgroup_id",
	BPF_FUNC_sk_assign:                      "sk_assign",
	BPF_FUNC_ktime_get_boot_ns:              "ktime_get_boot_ns",
	BPF_FUNC_seq_printf:                     "seq_printf",
	BPF_FUNC_seq_write:                      "seq_write",
	BPF_FUNC_sk_cgroup_id:                   "sk_cgroup_id",
	BPF_FUNC_sk_ancestor_cgroup_id:          "sk_ancestor_cgroup_id",
	BPF_FUNC_ringbuf_output:                 "ringbuf_output",
	BPF_FUNC_ringbuf_reserve:                "ringbuf_reserve",
	BPF_FUNC_ringbuf_submit:                 "ringbuf_submit",
	BPF_FUNC_ringbuf_discard:                "ringbuf_discard",
	BPF_FUNC_ringbuf_query:                  "ringbuf_query",
	BPF_FUNC_csum_level:                     "csum_level",
	BPF_FUNC_skc_to_tcp6_sock:               "skc_to_tcp6_sock",
	BPF_FUNC_skc_to_tcp_sock:                "skc_to_tcp_sock",
	BPF_FUNC_skc_to_tcp_timewait_sock:       "skc_to_tcp_timewait_sock",
	BPF_FUNC_skc_to_tcp_request_sock:        "skc_to_tcp_request_sock",
	BPF_FUNC_skc_to_udp6_sock:               "skc_to_udp6_sock",
	BPF_FUNC_get_task_stack:                 "get_task_stack",
	BPF_FUNC_load_hdr_opt:                   "load_hdr_opt",
	BPF_FUNC_store_hdr_opt:                  "store_hdr_opt",
	BPF_FUNC_reserve_hdr_opt:                "reserve_hdr_opt",
	BPF_FUNC_inode_storage_get:              "inode_storage_get",
	BPF_FUNC_inode_storage_delete:           "inode_storage_delete",
	BPF_FUNC_d_path:                         "d_path",
	BPF_FUNC_copy_from_user:                 "copy_from_user",
	BPF_FUNC_snprintf_btf:                   "snprintf_btf",
	BPF_FUNC_seq_printf_btf:                 "seq_printf_btf",
	BPF_FUNC_skb_cgroup_classid:             "skb_cgroup_classid",
	BPF_FUNC_redirect_neigh:                 "redirect_neigh",
	BPF_FUNC_per_cpu_ptr:                    "per_cpu_ptr",
	BPF_FUNC_this_cpu_ptr:                   "this_cpu_ptr",
	BPF_FUNC_redirect_peer:                  "redirect_peer",
	BPF_FUNC_task_storage_get:               "task_storage_get",
	BPF_FUNC_task_storage_delete:            "task_storage_delete",
	BPF_FUNC_get_current_task_btf:           "get_current_task_btf",
	BPF_FUNC_bprm_opts_set:                  "bprm_opts_set",
	BPF_FUNC_ktime_get_coarse_ns:            "ktime_get_coarse_ns",
	BPF_FUNC_ima_inode_hash:                 "ima_inode_hash",
	BPF_FUNC_sock_from_file:                 "sock_from_file",
	BPF_FUNC_check_mtu:                      "check_mtu",
	BPF_FUNC_for_each_map_elem:              "for_each_map_elem",
	BPF_FUNC_snprintf:                       "snprintf",
	BPF_FUNC_sys_bpf:                        "sys_bpf",
	BPF_FUNC_btf_find_by_name_kind:          "btf_find_by_name_kind",
	BPF_FUNC_sys_close:                      "sys_close",
	BPF_FUNC_timer_init:                     "timer_init",
	BPF_FUNC_timer_set_callback:             "timer_set_callback",
	BPF_FUNC_timer_start:                    "timer_start",
	BPF_FUNC_timer_cancel:                   "timer_cancel",
	BPF_FUNC_get_func_ip:                    "get_func_ip",
	BPF_FUNC_get_attach_cookie:              "get_attach_cookie",
	BPF_FUNC_task_pt_regs:                   "task_pt_regs",
	BPF_FUNC_get_branch_snapshot:            "get_branch_snapshot",
	BPF_FUNC_trace_vprintk:                  "trace_vprintk",
	BPF_FUNC_skc_to_unix_sock:               "skc_to_unix_sock",
	BPF_FUNC_kallsyms_lookup_name:           "kallsyms_lookup_name",
	BPF_FUNC_find_vma:                       "find_vma",
	BPF_FUNC_loop:                           "loop",
	BPF_FUNC_strncmp:                        "strncmp",
	BPF_FUNC_get_func_arg:                   "get_func_arg",
	BPF_FUNC_get_func_ret:                   "get_func_ret",
	BPF_FUNC_get_func_arg_cnt:               "get_func_arg_cnt",
	BPF_FUNC_get_retval:                     "get_retval",
	BPF_FUNC_set_retval:                     "set_retval",
	BPF_FUNC_xdp_get_buff_len:               "xdp_get_buff_len",
	BPF_FUNC_xdp_load_bytes:                 "xdp_load_bytes",
	BPF_FUNC_xdp_store_bytes:                "xdp_store_bytes",
	BPF_FUNC_copy_from_user_task:            "copy_from_user_task",
	BPF_FUNC_skb_set_tstamp:                 "skb_set_tstamp",
	BPF_FUNC_ima_file_hash:                  "ima_file_hash",
	BPF_FUNC_kptr_xchg:                      "kptr_xchg",
	BPF_FUNC_map_lookup_percpu_elem:         "map_lookup_percpu_elem",
	BPF_FUNC_skc_to_mptcp_sock:              "skc_to_mptcp_sock",
	BPF_FUNC_dynptr_from_mem:                "dynptr_from_mem",
	BPF_FUNC_ringbuf_reserve_dynptr:         "ringbuf_reserve_dynptr",
	BPF_FUNC_ringbuf_submit_dynptr:          "ringbuf_submit_dynptr",
	BPF_FUNC_ringbuf_discard_dynptr:         "ringbuf_discard_dynptr",
	BPF_FUNC_dynptr_read:                    "dynptr_read",
	BPF_FUNC_dynptr_write:                   "dynptr_write",
	BPF_FUNC_dynptr_data:                    "dynptr_data",
	BPF_FUNC_tcp_raw_gen_syncookie_ipv4:     "tcp_raw_gen_syncookie_ipv4",
	BPF_FUNC_tcp_raw_gen_syncookie_ipv6:     "tcp_raw_gen_syncookie_ipv6",
	BPF_FUNC_tcp_raw_check_syncookie_ipv4:   "tcp_raw_check_syncookie_ipv4",
	BPF_FUNC_tcp_raw_check_syncookie_ipv6:   "tcp_raw_check_syncookie_ipv6",
	BPF_FUNC_ktime_get_tai_ns:               "ktime_get_tai_ns",
	BPF_FUNC_user_ringbuf_drain:             "user_ringbuf_drain",
}

// Flags of BPF_PROG_ATTACH (attach_flags).
const (
	BPF_F_ALLOW_OVERRIDE = 1 << 0
	BPF_F_ALLOW_MULTI    = 1 << 1
	BPF_F_REPLACE        = 1 << 2
)

// Flags of BPF_PROG_LOAD (prog_flags).
const (
	BPF_F_STRICT_ALIGNMENT = 1 << 0
	BPF_F_ANY_ALIGNMENT    = 1 << 1
	BPF_F_TEST_RND_HI32    = 1 << 2
	BPF_F_TEST_STATE_FREQ  = 1 << 3
	BPF_F_SLEEPABLE        = 1 << 4
	BPF_F_XDP_HAS_FRAGS    = 1 << 5
)

// BPF_F_KPROBE_MULTI_RETURN is link_create.kprobe_multi.flags: attach as kretprobe.
const BPF_F_KPROBE_MULTI_RETURN = 1 << 0

// Pseudo src_reg values of BPF_LD|BPF_IMM|BPF_DW (ld_imm64): what imm names.
const (
	BPF_PSEUDO_MAP_FD        = 1 // imm: map fd; becomes the map pointer
	BPF_PSEUDO_MAP_VALUE     = 2 // imm: map fd, next imm: offset into the value
	BPF_PSEUDO_BTF_ID        = 3 // imm: BTF id of a kernel variable
	BPF_PSEUDO_FUNC          = 4 // imm: insn offset of a subprogram
	BPF_PSEUDO_MAP_IDX       = 5 // imm: index into fd_array
	BPF_PSEUDO_MAP_IDX_VALUE = 6 // imm: fd_array index, next imm: value offset
)

// Pseudo src_reg values of BPF_JMP|BPF_CALL.
const (
	BPF_PSEUDO_CALL       = 1 // imm: relative insn offset of a bpf-to-bpf call
	BPF_PSEUDO_KFUNC_CALL = 2 // imm: BTF id of a kernel function
)

// flags of BPF_MAP_UPDATE_ELEM (and BPF_F_LOCK of lookups).
const (
	BPF_ANY     = 0 // create new element or update existing
	BPF_NOEXIST = 1 // create new element if it didn't exist
	BPF_EXIST   = 2 // update existing element
	BPF_F_LOCK  = 4 // spin_lock-ed map_lookup/map_update
)

// Flags of BPF_MAP_CREATE (map_flags).
const (
	BPF_F_NO_PREALLOC    = 1 << 0
	BPF_F_NO_COMMON_LRU  = 1 << 1
	BPF_F_NUMA_NODE      = 1 << 2
	BPF_F_RDONLY         = 1 << 3
	BPF_F_WRONLY         = 1 << 4
	BPF_F_STACK_BUILD_ID = 1 << 5
	BPF_F_ZERO_SEED      = 1 << 6
	BPF_F_RDONLY_PROG    = 1 << 7
	BPF_F_WRONLY_PROG    = 1 << 8
	BPF_F_CLONE          = 1 << 9
	BPF_F_MMAPABLE       = 1 << 10
	BPF_F_PRESERVE_ELEMS = 1 << 11
	BPF_F_INNER_MAP      = 1 << 12
)

// BPF_F_QUERY_EFFECTIVE is a BPF_PROG_QUERY query_flags bit.
const BPF_F_QUERY_EFFECTIVE = 1 << 0

// Flags of BPF_PROG_TEST_RUN (test.flags).
const (
	BPF_F_TEST_RUN_ON_CPU            = 1 << 0
	BPF_F_TEST_XDP_LIVE_FRAMES       = 1 << 1
	BPF_F_TEST_SKB_CHECKSUM_COMPLETE = 1 << 2
)

// BPF_STATS_RUN_TIME is enum bpf_stats_type, the type of BPF_ENABLE_STATS.
const BPF_STATS_RUN_TIME = 0

// enum bpf_stack_build_id_status.
const (
	BPF_STACK_BUILD_ID_EMPTY = 0
	BPF_STACK_BUILD_ID_VALID = 1
	BPF_STACK_BUILD_ID_IP    = 2
)

// Flags of bpf_skb_store_bytes and the csum helpers.
const (
	BPF_F_RECOMPUTE_CSUM  = 1 << 0
	BPF_F_INVALIDATE_HASH = 1 << 1
	BPF_F_HDR_FIELD_MASK  = 0xf
	BPF_F_PSEUDO_HDR      = 1 << 4
	BPF_F_MARK_MANGLED_0  = 1 << 5
	BPF_F_MARK_ENFORCE    = 1 << 6
	BPF_F_IPV6            = 1 << 7
)

// Flags of bpf_get_stackid and bpf_get_stack.
const (
	BPF_F_SKIP_FIELD_MASK = 0xff
	BPF_F_USER_STACK      = 1 << 8
	BPF_F_FAST_STACK_CMP  = 1 << 9 // bpf_get_stackid only
	BPF_F_REUSE_STACKID   = 1 << 10
	BPF_F_USER_BUILD_ID   = 1 << 11 // bpf_get_stack only
)

// Flags of bpf_perf_event_output, bpf_perf_event_read and
// bpf_perf_event_read_value: the low 32 bits index the perf event array,
// BPF_F_CURRENT_CPU selects the running CPU's slot; BPF_F_CTXLEN_MASK is
// the skb/xdp payload length of bpf_skb_output / bpf_xdp_output.
const (
	BPF_F_INDEX_MASK  = 0xffffffff
	BPF_F_CURRENT_CPU = BPF_F_INDEX_MASK
	BPF_F_CTXLEN_MASK = 0xfffff << 32
)

// BPF_F_GET_BRANCH_RECORDS_SIZE is the bpf_read_branch_records size query flag.
const BPF_F_GET_BRANCH_RECORDS_SIZE = 1 << 0

// Flags of bpf_ringbuf_output, bpf_ringbuf_submit and bpf_ringbuf_discard.
const (
	BPF_RB_NO_WAKEUP    = 1 << 0
	BPF_RB_FORCE_WAKEUP = 1 << 1
)

// Selectors of bpf_ringbuf_query.
const (
	BPF_RB_AVAIL_DATA = 0
	BPF_RB_RING_SIZE  = 1
	BPF_RB_CONS_POS   = 2
	BPF_RB_PROD_POS   = 3
)

// Ring buffer record header: an 8-byte header (u32 len with the two flag bits,
// u32 page offset) precedes every record (kernel/bpf/ringbuf.c).
const (
	BPF_RINGBUF_BUSY_BIT    = 1 << 31
	BPF_RINGBUF_DISCARD_BIT = 1 << 30
	BPF_RINGBUF_HDR_SZ      = 8
)

// BPF_LOCAL_STORAGE_GET_F_CREATE asks *_storage_get to create the element.
const (
	BPF_LOCAL_STORAGE_GET_F_CREATE = 1 << 0
	BPF_SK_STORAGE_GET_F_CREATE    = BPF_LOCAL_STORAGE_GET_F_CREATE
)

// BPF_F_SYSCTL_BASE_NAME is the bpf_sysctl_get_name flag.
const BPF_F_SYSCTL_BASE_NAME = 1 << 0

// BPF_F_BPRM_SECUREEXEC is the bpf_bprm_opts_set flag.
const BPF_F_BPRM_SECUREEXEC = 1 << 0

// enum bpf_task_fd_type, reported by BPF_TASK_FD_QUERY.
const (
	BPF_FD_TYPE_RAW_TRACEPOINT = 0
	BPF_FD_TYPE_TRACEPOINT     = 1
	BPF_FD_TYPE_KPROBE         = 2
	BPF_FD_TYPE_KRETPROBE      = 3
	BPF_FD_TYPE_UPROBE         = 4
	BPF_FD_TYPE_URETPROBE      = 5
)

// enum bpf_core_relo_kind, the kind of a bpf_core_relo record.
const (
	BPF_CORE_FIELD_BYTE_OFFSET = 0
	BPF_CORE_FIELD_BYTE_SIZE   = 1
	BPF_CORE_FIELD_EXISTS      = 2
	BPF_CORE_FIELD_SIGNED      = 3
	BPF_CORE_FIELD_LSHIFT_U64  = 4
	BPF_CORE_FIELD_RSHIFT_U64  = 5
	BPF_CORE_TYPE_ID_LOCAL     = 6
	BPF_CORE_TYPE_ID_TARGET    = 7
	BPF_CORE_TYPE_EXISTS       = 8
	BPF_CORE_TYPE_SIZE         = 9
	BPF_CORE_ENUMVAL_EXISTS    = 10
	BPF_CORE_ENUMVAL_VALUE     = 11
	BPF_CORE_TYPE_MATCHES      = 12
)

// enum bpf_cgroup_iter_order, bpf_iter_link_info.cgroup.order.
const (
	BPF_CGROUP_ITER_ORDER_UNSPEC     = 0
	BPF_CGROUP_ITER_SELF_ONLY        = 1
	BPF_CGROUP_ITER_DESCENDANTS_PRE  = 2
	BPF_CGROUP_ITER_DESCENDANTS_POST = 3
	BPF_CGROUP_ITER_ANCESTORS_UP     = 4
)

// BPF_LINE_INFO_LINE_NUM returns the line number packed in bpf_line_info.line_col.
func BPF_LINE_INFO_LINE_NUM(lineCol uint32) uint32 { return lineCol >> 10 }

// BPF_LINE_INFO_LINE_COL returns the column packed in bpf_line_info.line_col.
func BPF_LINE_INFO_LINE_COL(lineCol uint32) uint32 { return lineCol & 0x3ff }

// BPFInsn is struct bpf_insn, one 8-byte instruction. DstSrc packs two 4-bit
// register fields as the C bitfields do on a little-endian machine: dst_reg in
// the low nibble, src_reg in the high nibble.
type BPFInsn struct {
	Code   uint8
	DstSrc uint8 // dst_reg:4, src_reg:4
	Off    int16
	Imm    int32
}

// Dst returns the dst_reg bitfield.
func (i BPFInsn) Dst() uint8 { return i.DstSrc & 0xf }

// Src returns the src_reg bitfield.
func (i BPFInsn) Src() uint8 { return i.DstSrc >> 4 }

// BPFLPMTrieKeyHdr is struct bpf_lpm_trie_key_hdr: the prefix length that starts
// every BPF_MAP_TYPE_LPM_TRIE key; the data bytes follow it.
type BPFLPMTrieKeyHdr struct {
	Prefixlen uint32
}

// BPFCgroupStorageKey is struct bpf_cgroup_storage_key.
type BPFCgroupStorageKey struct {
	CgroupInodeID uint64
	AttachType    uint32
	_             [4]byte
}

// BPFStackBuildID is struct bpf_stack_build_id, one frame of a
// BPF_F_STACK_BUILD_ID stack map value.
type BPFStackBuildID struct {
	Status  int32
	BuildID [BPF_BUILD_ID_SIZE]byte
	Offset  uint64 // union: offset (status VALID) or ip (status IP)
}

// BPFAttrSize is sizeof(union bpf_attr): the part of a bpf(2) attr the kernel
// knows. Larger attrs are accepted only when the bytes past it are zero.
const BPFAttrSize = 144

// The structs below are the members of union bpf_attr, one per command group;
// each starts at offset 0 of the attr. Field names are the C names Go-cased.

// BPFAttrMapCreate is the BPF_MAP_CREATE member of union bpf_attr.
type BPFAttrMapCreate struct {
	MapType               uint32
	KeySize               uint32
	ValueSize             uint32
	MaxEntries            uint32
	MapFlags              uint32
	InnerMapFD            uint32
	NumaNode              uint32
	MapName               [BPF_OBJ_NAME_LEN]byte
	MapIfindex            uint32
	BTFFD                 uint32
	BTFKeyTypeID          uint32
	BTFValueTypeID        uint32
	BTFVmlinuxValueTypeID uint32
	MapExtra              uint64
}

// BPFAttrMapElem is the member of union bpf_attr used by BPF_MAP_LOOKUP_ELEM,
// UPDATE_ELEM, DELETE_ELEM, GET_NEXT_KEY, LOOKUP_AND_DELETE_ELEM and FREEZE.
type BPFAttrMapElem struct {
	MapFD uint32
	_     [4]byte
	Key   uint64
	Value uint64 // union: value, next_key (BPF_MAP_GET_NEXT_KEY)
	Flags uint64
}

// BPFAttrBatch is the "batch" member of union bpf_attr (BPF_MAP_*_BATCH).
type BPFAttrBatch struct {
	InBatch   uint64
	OutBatch  uint64
	Keys      uint64
	Values    uint64
	Count     uint32
	MapFD     uint32
	ElemFlags uint64
	Flags     uint64
}

// BPFAttrProgLoad is the BPF_PROG_LOAD member of union bpf_attr.
type BPFAttrProgLoad struct {
	ProgType           uint32
	InsnCnt            uint32
	Insns              uint64
	License            uint64
	LogLevel           uint32
	LogSize            uint32
	LogBuf             uint64
	KernVersion        uint32
	ProgFlags          uint32
	ProgName           [BPF_OBJ_NAME_LEN]byte
	ProgIfindex        uint32
	ExpectedAttachType uint32
	ProgBTFFD          uint32
	FuncInfoRecSize    uint32
	FuncInfo           uint64
	FuncInfoCnt        uint32
	LineInfoRecSize    uint32
	LineInfo           uint64
	LineInfoCnt        uint32
	AttachBTFID        uint32
	AttachProgFD       uint32 // union: attach_prog_fd, attach_btf_obj_fd
	CoreReloCnt        uint32
	FDArray            uint64
	CoreRelos          uint64
	CoreReloRecSize    uint32
	_                  [4]byte
}

// BPFAttrObjPin is the member of union bpf_attr used by BPF_OBJ_PIN and BPF_OBJ_GET.
type BPFAttrObjPin struct {
	Pathname  uint64
	BPFFD     uint32
	FileFlags uint32
}

// BPFAttrProgAttach is the member of union bpf_attr used by BPF_PROG_ATTACH
// and BPF_PROG_DETACH.
type BPFAttrProgAttach struct {
	TargetFD     uint32
	AttachBPFFD  uint32
	AttachType   uint32
	AttachFlags  uint32
	ReplaceBPFFD uint32
}

// BPFAttrTestRun is the "test" member of union bpf_attr (BPF_PROG_TEST_RUN).
type BPFAttrTestRun struct {
	ProgFD      uint32
	Retval      uint32
	DataSizeIn  uint32
	DataSizeOut uint32
	DataIn      uint64
	DataOut     uint64
	Repeat      uint32
	Duration    uint32
	CtxSizeIn   uint32
	CtxSizeOut  uint32
	CtxIn       uint64
	CtxOut      uint64
	Flags       uint32
	CPU         uint32
	BatchSize   uint32
	_           [4]byte
}

// BPFAttrGetID is the member of union bpf_attr used by the *_GET_NEXT_ID and
// *_GET_FD_BY_ID commands.
type BPFAttrGetID struct {
	StartID   uint32 // union: start_id, prog_id, map_id, btf_id, link_id
	NextID    uint32
	OpenFlags uint32
}

// BPFAttrInfo is the "info" member of union bpf_attr (BPF_OBJ_GET_INFO_BY_FD).
type BPFAttrInfo struct {
	BPFFD   uint32
	InfoLen uint32
	Info    uint64
}

// BPFAttrQuery is the "query" member of union bpf_attr (BPF_PROG_QUERY).
type BPFAttrQuery struct {
	TargetFD        uint32
	AttachType      uint32
	QueryFlags      uint32
	AttachFlags     uint32
	ProgIDs         uint64
	ProgCnt         uint32
	_               [4]byte
	ProgAttachFlags uint64
}

// BPFAttrRawTracepoint is the "raw_tracepoint" member of union bpf_attr
// (BPF_RAW_TRACEPOINT_OPEN).
type BPFAttrRawTracepoint struct {
	Name   uint64
	ProgFD uint32
	_      [4]byte
}

// BPFAttrBTFLoad is the BPF_BTF_LOAD member of union bpf_attr.
type BPFAttrBTFLoad struct {
	BTF         uint64
	BTFLogBuf   uint64
	BTFSize     uint32
	BTFLogSize  uint32
	BTFLogLevel uint32
	_           [4]byte
}

// BPFAttrTaskFDQuery is the "task_fd_query" member of union bpf_attr.
type BPFAttrTaskFDQuery struct {
	PID         uint32
	FD          uint32
	Flags       uint32
	BufLen      uint32
	Buf         uint64
	ProgID      uint32
	FDType      uint32
	ProbeOffset uint64
	ProbeAddr   uint64
}

// BPFAttrLinkCreate is the "link_create" member of union bpf_attr. Its tail is
// a union of per-attach-type arguments kept as raw words in Args; the methods
// TargetBTFID, Iter, PerfEvent, KprobeMulti and Tracing view it as each member.
type BPFAttrLinkCreate struct {
	ProgFD     uint32
	TargetFD   uint32 // union: target_fd, target_ifindex
	AttachType uint32
	Flags      uint32
	Args       [4]uint64 // union: target_btf_id, iter, perf_event, kprobe_multi, tracing
}

// BPFLinkCreateIter is the anonymous {iter_info, iter_info_len} member of the
// link_create union (BPF_TRACE_ITER links).
type BPFLinkCreateIter struct {
	IterInfo    uint64
	IterInfoLen uint32
	_           [4]byte
}

// BPFLinkCreatePerfEvent is link_create.perf_event (BPF_PERF_EVENT links).
type BPFLinkCreatePerfEvent struct {
	BPFCookie uint64
}

// BPFLinkCreateKprobeMulti is link_create.kprobe_multi (BPF_TRACE_KPROBE_MULTI).
type BPFLinkCreateKprobeMulti struct {
	Flags   uint32
	Cnt     uint32
	Syms    uint64
	Addrs   uint64
	Cookies uint64
}

// BPFLinkCreateTracing is link_create.tracing (fentry/fexit/lsm links).
type BPFLinkCreateTracing struct {
	TargetBTFID uint32
	_           [4]byte
	Cookie      uint64
}

// TargetBTFID returns link_create.target_btf_id, the union's first word.
func (a *BPFAttrLinkCreate) TargetBTFID() *uint32 {
	return (*uint32)(unsafe.Pointer(&a.Args[0]))
}

// Iter views the link_create union as its iter_info member.
func (a *BPFAttrLinkCreate) Iter() *BPFLinkCreateIter {
	return (*BPFLinkCreateIter)(unsafe.Pointer(&a.Args[0]))
}

// PerfEvent views the link_create union as link_create.perf_event.
func (a *BPFAttrLinkCreate) PerfEvent() *BPFLinkCreatePerfEvent {
	return (*BPFLinkCreatePerfEvent)(unsafe.Pointer(&a.Args[0]))
}

// KprobeMulti views the link_create union as link_create.kprobe_multi.
func (a *BPFAttrLinkCreate) KprobeMulti() *BPFLinkCreateKprobeMulti {
	return (*BPFLinkCreateKprobeMulti)(unsafe.Pointer(&a.Args[0]))
}

// Tracing views the link_create union as link_create.tracing.
func (a *BPFAttrLinkCreate) Tracing() *BPFLinkCreateTracing {
	return (*BPFLinkCreateTracing)(unsafe.Pointer(&a.Args[0]))
}

// BPFAttrLinkUpdate is the "link_update" member of union bpf_attr.
type BPFAttrLinkUpdate struct {
	LinkFD    uint32
	NewProgFD uint32
	Flags     uint32
	OldProgFD uint32
}

// BPFAttrLinkDetach is the "link_detach" member of union bpf_attr.
type BPFAttrLinkDetach struct {
	LinkFD uint32
}

// BPFAttrEnableStats is the "enable_stats" member of union bpf_attr.
type BPFAttrEnableStats struct {
	Type uint32
}

// BPFAttrIterCreate is the "iter_create" member of union bpf_attr.
type BPFAttrIterCreate struct {
	LinkFD uint32
	Flags  uint32
}

// BPFAttrProgBindMap is the "prog_bind_map" member of union bpf_attr.
type BPFAttrProgBindMap struct {
	ProgFD uint32
	MapFD  uint32
	Flags  uint32
}

// BPFIterLinkInfo is union bpf_iter_link_info, pointed to by
// link_create.iter_info, laid out as its largest member ("cgroup"); the map
// and task members overlay the same words as the field comments say.
type BPFIterLinkInfo struct {
	MapFD    uint32 // union: map.map_fd, cgroup.order, task.tid
	CgroupFD uint32 // union: cgroup.cgroup_fd, task.pid
	CgroupID uint64 // union: cgroup.cgroup_id, task.pid_fd (low word)
}

// BPFProgInfo is struct bpf_prog_info, filled by BPF_OBJ_GET_INFO_BY_FD.
type BPFProgInfo struct {
	Type                 uint32
	ID                   uint32
	Tag                  [BPF_TAG_SIZE]byte
	JitedProgLen         uint32
	XlatedProgLen        uint32
	JitedProgInsns       uint64
	XlatedProgInsns      uint64
	LoadTime             uint64
	CreatedByUID         uint32
	NrMapIDs             uint32
	MapIDs               uint64
	Name                 [BPF_OBJ_NAME_LEN]byte
	Ifindex              uint32
	Bits                 uint32 // gpl_compatible:1 (BPFProgInfoGPLCompatible), 31 bits unused
	NetnsDev             uint64
	NetnsIno             uint64
	NrJitedKsyms         uint32
	NrJitedFuncLens      uint32
	JitedKsyms           uint64
	JitedFuncLens        uint64
	BTFID                uint32
	FuncInfoRecSize      uint32
	FuncInfo             uint64
	NrFuncInfo           uint32
	NrLineInfo           uint32
	LineInfo             uint64
	JitedLineInfo        uint64
	NrJitedLineInfo      uint32
	LineInfoRecSize      uint32
	JitedLineInfoRecSize uint32
	NrProgTags           uint32
	ProgTags             uint64
	RunTimeNs            uint64
	RunCnt               uint64
	RecursionMisses      uint64
	VerifiedInsns        uint32
	AttachBTFObjID       uint32
	AttachBTFID          uint32
	_                    [4]byte
}

// BPFProgInfoGPLCompatible is the gpl_compatible bit of BPFProgInfo.Bits.
const BPFProgInfoGPLCompatible = 1 << 0

// BPFMapInfo is struct bpf_map_info, filled by BPF_OBJ_GET_INFO_BY_FD.
type BPFMapInfo struct {
	Type                  uint32
	ID                    uint32
	KeySize               uint32
	ValueSize             uint32
	MaxEntries            uint32
	MapFlags              uint32
	Name                  [BPF_OBJ_NAME_LEN]byte
	Ifindex               uint32
	BTFVmlinuxValueTypeID uint32
	NetnsDev              uint64
	NetnsIno              uint64
	BTFID                 uint32
	BTFKeyTypeID          uint32
	BTFValueTypeID        uint32
	_                     [4]byte
	MapExtra              uint64
}

// BPFBTFInfo is struct bpf_btf_info, filled by BPF_OBJ_GET_INFO_BY_FD.
type BPFBTFInfo struct {
	BTF       uint64
	BTFSize   uint32
	ID        uint32
	Name      uint64
	NameLen   uint32
	KernelBTF uint32
}

// BPFLinkInfo is struct bpf_link_info. Its tail is a union of per-type
// members kept as raw words in Info; the methods view it as each member.
type BPFLinkInfo struct {
	Type   uint32
	ID     uint32
	ProgID uint32
	_      [4]byte
	Info   [4]uint64 // union: raw_tracepoint, tracing, cgroup, iter, netns, xdp
}

// BPFLinkInfoRawTracepoint is bpf_link_info.raw_tracepoint.
type BPFLinkInfoRawTracepoint struct {
	TpName    uint64
	TpNameLen uint32
	_         [4]byte
}

// BPFLinkInfoTracing is bpf_link_info.tracing.
type BPFLinkInfoTracing struct {
	AttachType  uint32
	TargetObjID uint32
	TargetBTFID uint32
}

// BPFLinkInfoCgroup is bpf_link_info.cgroup.
type BPFLinkInfoCgroup struct {
	CgroupID   uint64
	AttachType uint32
	_          [4]byte
}

// BPFLinkInfoIter is bpf_link_info.iter; MapID is the map.map_id of the first
// inner union, CgroupID/Order the cgroup member of the second (whose task
// member overlays tid/pid on CgroupID's two halves).
type BPFLinkInfoIter struct {
	TargetName    uint64
	TargetNameLen uint32
	MapID         uint32 // union { struct { map_id } map; }
	CgroupID      uint64 // union: cgroup.cgroup_id, task.{tid, pid}
	Order         uint32 // cgroup.order
	_             [4]byte
}

// BPFLinkInfoNetns is bpf_link_info.netns.
type BPFLinkInfoNetns struct {
	NetnsIno   uint32
	AttachType uint32
}

// BPFLinkInfoXDP is bpf_link_info.xdp.
type BPFLinkInfoXDP struct {
	Ifindex uint32
}

// RawTracepoint views the union as bpf_link_info.raw_tracepoint.
func (l *BPFLinkInfo) RawTracepoint() *BPFLinkInfoRawTracepoint {
	return (*BPFLinkInfoRawTracepoint)(unsafe.Pointer(&l.Info[0]))
}

// Tracing views the union as bpf_link_info.tracing.
func (l *BPFLinkInfo) Tracing() *BPFLinkInfoTracing {
	return (*BPFLinkInfoTracing)(unsafe.Pointer(&l.Info[0]))
}

// Cgroup views the union as bpf_link_info.cgroup.
func (l *BPFLinkInfo) Cgroup() *BPFLinkInfoCgroup {
	return (*BPFLinkInfoCgroup)(unsafe.Pointer(&l.Info[0]))
}

// Iter views the union as bpf_link_info.iter.
func (l *BPFLinkInfo) Iter() *BPFLinkInfoIter {
	return (*BPFLinkInfoIter)(unsafe.Pointer(&l.Info[0]))
}

// Netns views the union as bpf_link_info.netns.
func (l *BPFLinkInfo) Netns() *BPFLinkInfoNetns {
	return (*BPFLinkInfoNetns)(unsafe.Pointer(&l.Info[0]))
}

// XDP views the union as bpf_link_info.xdp.
func (l *BPFLinkInfo) XDP() *BPFLinkInfoXDP {
	return (*BPFLinkInfoXDP)(unsafe.Pointer(&l.Info[0]))
}

// BPFFuncInfo is struct bpf_func_info, one PROG_LOAD func_info record.
type BPFFuncInfo struct {
	InsnOff uint32
	TypeID  uint32
}

// BPFLineInfo is struct bpf_line_info, one PROG_LOAD line_info record.
type BPFLineInfo struct {
	InsnOff     uint32
	FileNameOff uint32
	LineOff     uint32
	LineCol     uint32
}

// BPFCoreRelo is struct bpf_core_relo, one PROG_LOAD core_relos record.
type BPFCoreRelo struct {
	InsnOff      uint32
	TypeID       uint32
	AccessStrOff uint32
	Kind         uint32
}

// BPFSpinLock is struct bpf_spin_lock, embedded in map values.
type BPFSpinLock struct {
	Val uint32
}

// BPFTimer is struct bpf_timer: 16 opaque bytes, 8-aligned, in map values.
type BPFTimer struct {
	_ [2]uint64
}

// BPFDynptr is struct bpf_dynptr: 16 opaque bytes, 8-aligned, on the stack.
type BPFDynptr struct {
	_ [2]uint64
}

// BPFPerfEventValue is struct bpf_perf_event_value, the output of
// bpf_perf_event_read_value and bpf_perf_prog_read_value.
type BPFPerfEventValue struct {
	Counter uint64
	Enabled uint64
	Running uint64
}

// SKBuff is struct __sk_buff, the context of socket filter (and tc)
// programs as uapi/linux/bpf.h declares it; the pointer members
// (flow_keys, sk) are __bpf_md_ptr u64 slots.
type SKBuff struct {
	Len            uint32
	PktType        uint32
	Mark           uint32
	QueueMapping   uint32
	Protocol       uint32
	VlanPresent    uint32
	VlanTCI        uint32
	VlanProto      uint32
	Priority       uint32
	IngressIfindex uint32
	Ifindex        uint32
	TCIndex        uint32
	CB             [5]uint32
	Hash           uint32
	TCClassid      uint32
	Data           uint32
	DataEnd        uint32
	NapiID         uint32
	Family         uint32
	RemoteIP4      uint32
	LocalIP4       uint32
	RemoteIP6      [4]uint32
	LocalIP6       [4]uint32
	RemotePort     uint32
	LocalPort      uint32
	DataMeta       uint32
	FlowKeys       uint64
	Tstamp         uint64
	WireLen        uint32
	GSOSegs        uint32
	Sk             uint64
	GSOSize        uint32
	TstampType     uint8
	_              [3]byte
	Hwtstamp       uint64
}

// XDPMd is struct xdp_md, the context of XDP programs as uapi declares it.
type XDPMd struct {
	Data           uint32
	DataEnd        uint32
	DataMeta       uint32
	IngressIfindex uint32
	RxQueueIndex   uint32
	EgressIfindex  uint32
}

// BPFPidnsInfo is struct bpf_pidns_info, the output of bpf_get_ns_current_pid_tgid.
type BPFPidnsInfo struct {
	PID  uint32
	TGID uint32
}

// BPFAttrCmdEnd returns the byte offset where cmd's own fields of union
// bpf_attr end: offsetofend of the field Linux names CMD_LAST_FIELD in
// kernel/bpf/syscall.c (CHECK_ATTR). Non-zero bytes between it and
// BPFAttrSize make Linux answer EINVAL. ok is false for unknown commands.
func BPFAttrCmdEnd(cmd BPFCmd) (end uintptr, ok bool) {
	if int(cmd) >= len(bpfAttrCmdEnd) || bpfAttrCmdEnd[cmd] == 0 {
		return 0, false
	}
	return bpfAttrCmdEnd[cmd], true
}

// bpfAttrCmdEnd is indexed by command; each entry is the end of the field
// named in the comment (Linux 6.1's *_LAST_FIELD).
var bpfAttrCmdEnd = [...]uintptr{
	BPF_MAP_CREATE:                  unsafe.Offsetof(BPFAttrMapCreate{}.MapExtra) + 8, // map_extra
	BPF_MAP_LOOKUP_ELEM:             unsafe.Offsetof(BPFAttrMapElem{}.Flags) + 8,      // flags
	BPF_MAP_UPDATE_ELEM:             unsafe.Offsetof(BPFAttrMapElem{}.Flags) + 8,      // flags
	BPF_MAP_DELETE_ELEM:             unsafe.Offsetof(BPFAttrMapElem{}.Key) + 8,        // key
	BPF_MAP_GET_NEXT_KEY:            unsafe.Offsetof(BPFAttrMapElem{}.Value) + 8,      // next_key
	BPF_PROG_LOAD:                   unsafe.Offsetof(BPFAttrProgLoad{}.CoreReloRecSize) + 4,
	BPF_OBJ_PIN:                     unsafe.Offsetof(BPFAttrObjPin{}.FileFlags) + 4, // file_flags
	BPF_OBJ_GET:                     unsafe.Offsetof(BPFAttrObjPin{}.FileFlags) + 4, // file_flags
	BPF_PROG_ATTACH:                 unsafe.Offsetof(BPFAttrProgAttach{}.ReplaceBPFFD) + 4,
	BPF_PROG_DETACH:                 unsafe.Offsetof(BPFAttrProgAttach{}.AttachType) + 4,
	BPF_PROG_TEST_RUN:               unsafe.Offsetof(BPFAttrTestRun{}.BatchSize) + 4, // test.batch_size
	BPF_PROG_GET_NEXT_ID:            unsafe.Offsetof(BPFAttrGetID{}.NextID) + 4,      // next_id
	BPF_MAP_GET_NEXT_ID:             unsafe.Offsetof(BPFAttrGetID{}.NextID) + 4,      // next_id
	BPF_PROG_GET_FD_BY_ID:           unsafe.Offsetof(BPFAttrGetID{}.StartID) + 4,     // prog_id
	BPF_MAP_GET_FD_BY_ID:            unsafe.Offsetof(BPFAttrGetID{}.OpenFlags) + 4,   // open_flags
	BPF_OBJ_GET_INFO_BY_FD:          unsafe.Offsetof(BPFAttrInfo{}.Info) + 8,         // info.info
	BPF_PROG_QUERY:                  unsafe.Offsetof(BPFAttrQuery{}.ProgAttachFlags) + 8,
	BPF_RAW_TRACEPOINT_OPEN:         unsafe.Offsetof(BPFAttrRawTracepoint{}.ProgFD) + 4,
	BPF_BTF_LOAD:                    unsafe.Offsetof(BPFAttrBTFLoad{}.BTFLogLevel) + 4, // btf_log_level
	BPF_BTF_GET_FD_BY_ID:            unsafe.Offsetof(BPFAttrGetID{}.StartID) + 4,       // btf_id
	BPF_TASK_FD_QUERY:               unsafe.Offsetof(BPFAttrTaskFDQuery{}.ProbeAddr) + 8,
	BPF_MAP_LOOKUP_AND_DELETE_ELEM:  unsafe.Offsetof(BPFAttrMapElem{}.Flags) + 8, // flags
	BPF_MAP_FREEZE:                  unsafe.Offsetof(BPFAttrMapElem{}.MapFD) + 4, // map_fd
	BPF_BTF_GET_NEXT_ID:             unsafe.Offsetof(BPFAttrGetID{}.NextID) + 4,  // next_id
	BPF_MAP_LOOKUP_BATCH:            unsafe.Offsetof(BPFAttrBatch{}.Flags) + 8,   // batch.flags
	BPF_MAP_LOOKUP_AND_DELETE_BATCH: unsafe.Offsetof(BPFAttrBatch{}.Flags) + 8,
	BPF_MAP_UPDATE_BATCH:            unsafe.Offsetof(BPFAttrBatch{}.Flags) + 8,
	BPF_MAP_DELETE_BATCH:            unsafe.Offsetof(BPFAttrBatch{}.Flags) + 8,
	// link_create.kprobe_multi.cookies: the union's largest member ends last.
	BPF_LINK_CREATE:       unsafe.Offsetof(BPFAttrLinkCreate{}.Args) + unsafe.Offsetof(BPFLinkCreateKprobeMulti{}.Cookies) + 8,
	BPF_LINK_UPDATE:       unsafe.Offsetof(BPFAttrLinkUpdate{}.OldProgFD) + 4,
	BPF_LINK_GET_FD_BY_ID: unsafe.Offsetof(BPFAttrGetID{}.StartID) + 4, // link_id
	BPF_LINK_GET_NEXT_ID:  unsafe.Offsetof(BPFAttrGetID{}.NextID) + 4,  // next_id
	BPF_ENABLE_STATS:      unsafe.Offsetof(BPFAttrEnableStats{}.Type) + 4,
	BPF_ITER_CREATE:       unsafe.Offsetof(BPFAttrIterCreate{}.Flags) + 4,
	BPF_LINK_DETACH:       unsafe.Offsetof(BPFAttrLinkDetach{}.LinkFD) + 4,
	BPF_PROG_BIND_MAP:     unsafe.Offsetof(BPFAttrProgBindMap{}.Flags) + 4,
}
