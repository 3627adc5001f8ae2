package linux

// Declarations of <linux/perf_event.h>: what perf_event_open(2), its ioctls
// and the mmap'ed ring buffer use.

// enum perf_type_id: perf_event_attr.type. Dynamic PMUs (kprobe, uprobe)
// have types read from /sys/bus/event_source/devices/NAME/type.
const (
	PERF_TYPE_HARDWARE   = 0
	PERF_TYPE_SOFTWARE   = 1
	PERF_TYPE_TRACEPOINT = 2
	PERF_TYPE_HW_CACHE   = 3
	PERF_TYPE_RAW        = 4
	PERF_TYPE_BREAKPOINT = 5
	PERF_TYPE_MAX        = 6
)

// enum perf_hw_id: config of PERF_TYPE_HARDWARE events.
const (
	PERF_COUNT_HW_CPU_CYCLES              = 0
	PERF_COUNT_HW_INSTRUCTIONS            = 1
	PERF_COUNT_HW_CACHE_REFERENCES        = 2
	PERF_COUNT_HW_CACHE_MISSES            = 3
	PERF_COUNT_HW_BRANCH_INSTRUCTIONS     = 4
	PERF_COUNT_HW_BRANCH_MISSES           = 5
	PERF_COUNT_HW_BUS_CYCLES              = 6
	PERF_COUNT_HW_STALLED_CYCLES_FRONTEND = 7
	PERF_COUNT_HW_STALLED_CYCLES_BACKEND  = 8
	PERF_COUNT_HW_REF_CPU_CYCLES          = 9
	PERF_COUNT_HW_MAX                     = 10
)

// enum perf_sw_ids: config of PERF_TYPE_SOFTWARE events. BPF_OUTPUT is the
// event that backs BPF_MAP_TYPE_PERF_EVENT_ARRAY slots for bpf_perf_event_output.
const (
	PERF_COUNT_SW_CPU_CLOCK        = 0
	PERF_COUNT_SW_TASK_CLOCK       = 1
	PERF_COUNT_SW_PAGE_FAULTS      = 2
	PERF_COUNT_SW_CONTEXT_SWITCHES = 3
	PERF_COUNT_SW_CPU_MIGRATIONS   = 4
	PERF_COUNT_SW_PAGE_FAULTS_MIN  = 5
	PERF_COUNT_SW_PAGE_FAULTS_MAJ  = 6
	PERF_COUNT_SW_ALIGNMENT_FAULTS = 7
	PERF_COUNT_SW_EMULATION_FAULTS = 8
	PERF_COUNT_SW_DUMMY            = 9
	PERF_COUNT_SW_BPF_OUTPUT       = 10
	PERF_COUNT_SW_CGROUP_SWITCHES  = 11
	PERF_COUNT_SW_MAX              = 12
)

// enum perf_event_sample_format: perf_event_attr.sample_type bits, which
// select the fields of a PERF_RECORD_SAMPLE in this order.
const (
	PERF_SAMPLE_IP             = 1 << 0
	PERF_SAMPLE_TID            = 1 << 1
	PERF_SAMPLE_TIME           = 1 << 2
	PERF_SAMPLE_ADDR           = 1 << 3
	PERF_SAMPLE_READ           = 1 << 4
	PERF_SAMPLE_CALLCHAIN      = 1 << 5
	PERF_SAMPLE_ID             = 1 << 6
	PERF_SAMPLE_CPU            = 1 << 7
	PERF_SAMPLE_PERIOD         = 1 << 8
	PERF_SAMPLE_STREAM_ID      = 1 << 9
	PERF_SAMPLE_RAW            = 1 << 10
	PERF_SAMPLE_BRANCH_STACK   = 1 << 11
	PERF_SAMPLE_REGS_USER      = 1 << 12
	PERF_SAMPLE_STACK_USER     = 1 << 13
	PERF_SAMPLE_WEIGHT         = 1 << 14
	PERF_SAMPLE_DATA_SRC       = 1 << 15
	PERF_SAMPLE_IDENTIFIER     = 1 << 16
	PERF_SAMPLE_TRANSACTION    = 1 << 17
	PERF_SAMPLE_REGS_INTR      = 1 << 18
	PERF_SAMPLE_PHYS_ADDR      = 1 << 19
	PERF_SAMPLE_AUX            = 1 << 20
	PERF_SAMPLE_CGROUP         = 1 << 21
	PERF_SAMPLE_DATA_PAGE_SIZE = 1 << 22
	PERF_SAMPLE_CODE_PAGE_SIZE = 1 << 23
	PERF_SAMPLE_WEIGHT_STRUCT  = 1 << 24
	PERF_SAMPLE_MAX            = 1 << 25
	PERF_SAMPLE_WEIGHT_TYPE    = PERF_SAMPLE_WEIGHT | PERF_SAMPLE_WEIGHT_STRUCT
)

// enum perf_event_read_format: perf_event_attr.read_format bits, the layout
// of read(2) on an event fd.
const (
	PERF_FORMAT_TOTAL_TIME_ENABLED = 1 << 0
	PERF_FORMAT_TOTAL_TIME_RUNNING = 1 << 1
	PERF_FORMAT_ID                 = 1 << 2
	PERF_FORMAT_GROUP              = 1 << 3
	PERF_FORMAT_LOST               = 1 << 4
	PERF_FORMAT_MAX                = 1 << 5
)

// Sizes of perf_event_attr as it grew; perf_event_open accepts any size from
// VER0 up (bytes past what the kernel knows must be zero, else E2BIG).
// VER8 (config3, Linux 6.3) is past Debian 12's header and past PerfEventAttr.
const (
	PERF_ATTR_SIZE_VER0 = 64  // first published struct
	PERF_ATTR_SIZE_VER1 = 72  // add: config2
	PERF_ATTR_SIZE_VER2 = 80  // add: branch_sample_type
	PERF_ATTR_SIZE_VER3 = 96  // add: sample_regs_user, sample_stack_user
	PERF_ATTR_SIZE_VER4 = 104 // add: sample_regs_intr
	PERF_ATTR_SIZE_VER5 = 112 // add: aux_watermark
	PERF_ATTR_SIZE_VER6 = 120 // add: aux_sample_size
	PERF_ATTR_SIZE_VER7 = 128 // add: sig_data
	PERF_ATTR_SIZE_VER8 = 136 // add: config3
)

// PerfEventAttr is struct perf_event_attr at PERF_ATTR_SIZE_VER7.
type PerfEventAttr struct {
	Type             uint32
	Size             uint32
	Config           uint64
	SamplePeriod     uint64 // union: sample_period, sample_freq (when Flags has PerfAttrFreq)
	SampleType       uint64
	ReadFormat       uint64
	Flags            uint64 // the bitfield word: PerfAttrDisabled, PerfAttrInherit...
	WakeupEvents     uint32 // union: wakeup_events, wakeup_watermark
	BpType           uint32
	Config1          uint64 // union: bp_addr, kprobe_func (char * symbol), uprobe_path, config1
	Config2          uint64 // union: bp_len, kprobe_addr, probe_offset, config2
	BranchSampleType uint64
	SampleRegsUser   uint64
	SampleStackUser  uint32
	Clockid          int32
	SampleRegsIntr   uint64
	AuxWatermark     uint32
	SampleMaxStack   uint16
	_                uint16 // __reserved_2
	AuxSampleSize    uint32
	_                uint32 // __reserved_3
	SigData          uint64
}

// Bits of PerfEventAttr.Flags, the C bitfield word (little-endian bit order:
// the first declared field is bit 0).
const (
	PerfAttrDisabled               = 1 << 0
	PerfAttrInherit                = 1 << 1
	PerfAttrPinned                 = 1 << 2
	PerfAttrExclusive              = 1 << 3
	PerfAttrExcludeUser            = 1 << 4
	PerfAttrExcludeKernel          = 1 << 5
	PerfAttrExcludeHv              = 1 << 6
	PerfAttrExcludeIdle            = 1 << 7
	PerfAttrMmap                   = 1 << 8
	PerfAttrComm                   = 1 << 9
	PerfAttrFreq                   = 1 << 10
	PerfAttrInheritStat            = 1 << 11
	PerfAttrEnableOnExec           = 1 << 12
	PerfAttrTask                   = 1 << 13
	PerfAttrWatermark              = 1 << 14
	PerfAttrPreciseIPShift         = 15 // precise_ip is 2 bits wide
	PerfAttrPreciseIPMask          = 3 << PerfAttrPreciseIPShift
	PerfAttrMmapData               = 1 << 17
	PerfAttrSampleIDAll            = 1 << 18
	PerfAttrExcludeHost            = 1 << 19
	PerfAttrExcludeGuest           = 1 << 20
	PerfAttrExcludeCallchainKernel = 1 << 21
	PerfAttrExcludeCallchainUser   = 1 << 22
	PerfAttrMmap2                  = 1 << 23
	PerfAttrCommExec               = 1 << 24
	PerfAttrUseClockid             = 1 << 25
	PerfAttrContextSwitch          = 1 << 26
	PerfAttrWriteBackward          = 1 << 27
	PerfAttrNamespaces             = 1 << 28
	PerfAttrKsymbol                = 1 << 29
	PerfAttrBPFEvent               = 1 << 30
	PerfAttrAuxOutput              = 1 << 31
	PerfAttrCgroup                 = 1 << 32
	PerfAttrTextPoke               = 1 << 33
	PerfAttrBuildID                = 1 << 34
	PerfAttrInheritThread          = 1 << 35
	PerfAttrRemoveOnExec           = 1 << 36
	PerfAttrSigtrap                = 1 << 37
	// PerfAttrReservedMask covers __reserved_1: these bits must be zero.
	PerfAttrReservedMask = 0xffffffffffffffff << 38 & 0xffffffffffffffff
)

// PerfEventQueryBPF is the fixed head of struct perf_event_query_bpf; ids_len
// u32 program ids follow it.
type PerfEventQueryBPF struct {
	IdsLen  uint32
	ProgCnt uint32
}

// Ioctls on a perf event fd, encoded as ioctl.go describes: type '$', sizes
// of the argument type on a 64-bit machine (a pointer is 8 bytes).
const (
	PERF_EVENT_IOC_ENABLE            = IOC_NONE<<IOC_DIRSHIFT | '$'<<IOC_TYPESHIFT | 0
	PERF_EVENT_IOC_DISABLE           = IOC_NONE<<IOC_DIRSHIFT | '$'<<IOC_TYPESHIFT | 1
	PERF_EVENT_IOC_REFRESH           = IOC_NONE<<IOC_DIRSHIFT | '$'<<IOC_TYPESHIFT | 2
	PERF_EVENT_IOC_RESET             = IOC_NONE<<IOC_DIRSHIFT | '$'<<IOC_TYPESHIFT | 3
	PERF_EVENT_IOC_PERIOD            = IOC_WRITE<<IOC_DIRSHIFT | 8<<IOC_SIZESHIFT | '$'<<IOC_TYPESHIFT | 4 // __u64
	PERF_EVENT_IOC_SET_OUTPUT        = IOC_NONE<<IOC_DIRSHIFT | '$'<<IOC_TYPESHIFT | 5
	PERF_EVENT_IOC_SET_FILTER        = IOC_WRITE<<IOC_DIRSHIFT | 8<<IOC_SIZESHIFT | '$'<<IOC_TYPESHIFT | 6 // char *
	PERF_EVENT_IOC_ID                = IOC_READ<<IOC_DIRSHIFT | 8<<IOC_SIZESHIFT | '$'<<IOC_TYPESHIFT | 7  // __u64 *
	PERF_EVENT_IOC_SET_BPF           = IOC_WRITE<<IOC_DIRSHIFT | 4<<IOC_SIZESHIFT | '$'<<IOC_TYPESHIFT | 8 // __u32 program fd
	PERF_EVENT_IOC_PAUSE_OUTPUT      = IOC_WRITE<<IOC_DIRSHIFT | 4<<IOC_SIZESHIFT | '$'<<IOC_TYPESHIFT | 9 // __u32
	PERF_EVENT_IOC_QUERY_BPF         = (IOC_READ|IOC_WRITE)<<IOC_DIRSHIFT | 8<<IOC_SIZESHIFT | '$'<<IOC_TYPESHIFT | 10
	PERF_EVENT_IOC_MODIFY_ATTRIBUTES = IOC_WRITE<<IOC_DIRSHIFT | 8<<IOC_SIZESHIFT | '$'<<IOC_TYPESHIFT | 11
)

// PERF_IOC_FLAG_GROUP applies ENABLE/DISABLE/RESET/REFRESH to the whole group.
const PERF_IOC_FLAG_GROUP = 1 << 0

// PerfEventMmapPage is struct perf_event_mmap_page, the first page of a perf
// event mmap; the data ring (data_size bytes) starts data_offset bytes into the
// mapping. The kernel writes data_head; the reader writes data_tail.
type PerfEventMmapPage struct {
	Version       uint32
	CompatVersion uint32
	Lock          uint32
	Index         uint32
	Offset        int64
	TimeEnabled   uint64
	TimeRunning   uint64
	Capabilities  uint64 // union with the cap_* bitfield word
	PmcWidth      uint16
	TimeShift     uint16
	TimeMult      uint32
	TimeOffset    uint64
	TimeZero      uint64
	Size          uint32
	_             uint32 // __reserved_1
	TimeCycles    uint64
	TimeMask      uint64
	_             [116 * 8]byte // __reserved: pads the control fields to 1 KiB
	DataHead      uint64
	DataTail      uint64
	DataOffset    uint64
	DataSize      uint64
	AuxHead       uint64
	AuxTail       uint64
	AuxOffset     uint64
	AuxSize       uint64
}

// Offsets in the mmap page that a ring buffer writer touches, as constants
// so that code poking user memory need not build the struct.
const (
	PerfMmapDataHeadOff   = 1024
	PerfMmapDataTailOff   = 1032
	PerfMmapDataOffsetOff = 1040
	PerfMmapDataSizeOff   = 1048
)

// PerfEventHeader is struct perf_event_header, the head of every ring record.
type PerfEventHeader struct {
	Type uint32
	Misc uint16
	Size uint16
}

// enum perf_event_type: PerfEventHeader.Type.
const (
	PERF_RECORD_MMAP             = 1
	PERF_RECORD_LOST             = 2
	PERF_RECORD_COMM             = 3
	PERF_RECORD_EXIT             = 4
	PERF_RECORD_THROTTLE         = 5
	PERF_RECORD_UNTHROTTLE       = 6
	PERF_RECORD_FORK             = 7
	PERF_RECORD_READ             = 8
	PERF_RECORD_SAMPLE           = 9
	PERF_RECORD_MMAP2            = 10
	PERF_RECORD_AUX              = 11
	PERF_RECORD_ITRACE_START     = 12
	PERF_RECORD_LOST_SAMPLES     = 13
	PERF_RECORD_SWITCH           = 14
	PERF_RECORD_SWITCH_CPU_WIDE  = 15
	PERF_RECORD_NAMESPACES       = 16
	PERF_RECORD_KSYMBOL          = 17
	PERF_RECORD_BPF_EVENT        = 18
	PERF_RECORD_CGROUP           = 19
	PERF_RECORD_TEXT_POKE        = 20
	PERF_RECORD_AUX_OUTPUT_HW_ID = 21
	PERF_RECORD_MAX              = 22
)

// PerfEventHeader.Misc values: the cpumode of a sample.
const (
	PERF_RECORD_MISC_CPUMODE_MASK    = 7 << 0
	PERF_RECORD_MISC_CPUMODE_UNKNOWN = 0 << 0
	PERF_RECORD_MISC_KERNEL          = 1 << 0
	PERF_RECORD_MISC_USER            = 2 << 0
	PERF_RECORD_MISC_HYPERVISOR      = 3 << 0
	PERF_RECORD_MISC_GUEST_KERNEL    = 4 << 0
	PERF_RECORD_MISC_GUEST_USER      = 5 << 0
)

// PERF_MAX_STACK_DEPTH is the default sysctl kernel.perf_event_max_stack, the
// depth bpf_get_stackid / stack trace maps allow.
const PERF_MAX_STACK_DEPTH = 127

// Flags of perf_event_open(2).
const (
	PERF_FLAG_FD_NO_GROUP = 1 << 0
	PERF_FLAG_FD_OUTPUT   = 1 << 1
	PERF_FLAG_PID_CGROUP  = 1 << 2
	PERF_FLAG_FD_CLOEXEC  = 1 << 3
)
