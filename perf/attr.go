package perf

import (
	"encoding/binary"
	"unsafe"

	"hachi/syscall"
	"hachi/syscall/linux"
)

// attrSize is sizeof(struct perf_event_attr) as Hachi knows it
// (PERF_ATTR_SIZE_VER7, Linux 6.1's): what perf_copy_attr writes back into
// attr.size when the caller's size is refused.
const attrSize = linux.PERF_ATTR_SIZE_VER7

// Offsets of perf_event_attr fields the copy checks by hand.
const (
	attrSizeOff      = 4
	attrReserved2Off = 110 // __reserved_2, u16
	attrReserved3Off = 116 // __reserved_3, u32
)

// Constants of <linux/perf_event.h> the checks use that syscall/linux
// does not declare.
const (
	// perfSampleBranchMax is PERF_SAMPLE_BRANCH_MAX (1 << PERF_SAMPLE_BRANCH_MAX_SHIFT, 19 in 6.1).
	perfSampleBranchMax = 1 << 19
	// perfSampleBranchPlmAll is PERF_SAMPLE_BRANCH_PLM_ALL: user, kernel, hv.
	perfSampleBranchPlmAll = 0x7
	// perfFlagAll is PERF_FLAG_ALL.
	perfFlagAll = linux.PERF_FLAG_FD_NO_GROUP | linux.PERF_FLAG_FD_OUTPUT |
		linux.PERF_FLAG_PID_CGROUP | linux.PERF_FLAG_FD_CLOEXEC
	// sampleStackUserMax is USHRT_MAX: sample_stack_user must be below it.
	sampleStackUserMax = 0xffff
)

// Attr is a perf_event_attr as copied in and checked.
type Attr = linux.PerfEventAttr

// attrBuf is perf_event_attr's bytes, 8-byte aligned so that it can be
// viewed as a linux.PerfEventAttr in place.
type attrBuf [attrSize / 8]uint64

func (b *attrBuf) bytes() []byte { return unsafe.Slice((*byte)(unsafe.Pointer(b)), attrSize) }
func (b *attrBuf) attr() *Attr   { return (*Attr)(unsafe.Pointer(b)) }

// CopyAttr is perf_copy_attr: it reads the perf_event_attr at addr in
// mem with Linux's size rules and checks the fields Linux checks before
// any PMU sees the event.
//
//   - attr.size 0 means PERF_ATTR_SIZE_VER0 (64), the ABI quirk;
//   - a size below VER0 or above a page, or larger than Hachi's struct
//     (128 bytes) with non-zero bytes past it, is E2BIG, and the kernel's
//     size (128) is written back into attr.size so the caller can retry;
//   - a smaller size is zero-extended (fields added later read as 0);
//   - reserved bits and fields must be zero, sample_type and read_format
//     hold only known bits, and the combinations Linux refuses (EINVAL)
//     are refused.
//
// A fault reading the struct is EFAULT.
func CopyAttr(mem syscall.AddressSpace, addr uint64) (Attr, error) {
	var sizeBytes [4]byte
	if err := mem.CopyIn(addr+attrSizeOff, sizeBytes[:]); err != nil {
		return Attr{}, linux.EFAULT
	}
	size := uint64(binary.LittleEndian.Uint32(sizeBytes[:]))
	if size == 0 {
		size = linux.PERF_ATTR_SIZE_VER0
	}
	if size < linux.PERF_ATTR_SIZE_VER0 || size > syscall.PageSize {
		return Attr{}, sizeError(mem, addr)
	}
	// copy_struct_from_user: bytes past what the kernel knows must be 0.
	if size > attrSize {
		zero, err := syscall.CheckZeroed(mem, addr+attrSize, size-attrSize)
		if err != nil {
			return Attr{}, linux.EFAULT
		}
		if !zero {
			return Attr{}, sizeError(mem, addr)
		}
	}
	var buf attrBuf
	if err := mem.CopyIn(addr, buf.bytes()[:min(size, attrSize)]); err != nil {
		return Attr{}, linux.EFAULT
	}
	a := buf.attr()
	a.Size = uint32(size)
	raw := buf.bytes()
	if a.Flags&linux.PerfAttrReservedMask != 0 ||
		binary.LittleEndian.Uint16(raw[attrReserved2Off:]) != 0 ||
		binary.LittleEndian.Uint32(raw[attrReserved3Off:]) != 0 {
		return Attr{}, linux.EINVAL
	}
	if err := checkAttr(a); err != nil {
		return Attr{}, err
	}
	if a.SampleMaxStack == 0 {
		a.SampleMaxStack = linux.PERF_MAX_STACK_DEPTH // sysctl_perf_event_max_stack
	}
	return *a, nil
}

// sizeError is perf_copy_attr's err_size: attr.size gets the kernel's
// size (a fault doing so is ignored, as put_user's result is) and the
// answer is E2BIG.
func sizeError(mem syscall.AddressSpace, addr uint64) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], attrSize)
	_ = mem.CopyOut(addr+attrSizeOff, b[:])
	return linux.E2BIG
}

// checkAttr is the rest of perf_copy_attr, in Linux's order.
func checkAttr(a *Attr) error {
	if a.SampleType&^(linux.PERF_SAMPLE_MAX-1) != 0 {
		return linux.EINVAL
	}
	if a.ReadFormat&^(linux.PERF_FORMAT_MAX-1) != 0 {
		return linux.EINVAL
	}
	if a.SampleType&linux.PERF_SAMPLE_BRANCH_STACK != 0 {
		mask := a.BranchSampleType
		if mask&^(perfSampleBranchMax-1) != 0 { // only defined bits
			return linux.EINVAL
		}
		if mask&^perfSampleBranchPlmAll == 0 { // at least one branch bit
			return linux.EINVAL
		}
	}
	// perf_reg_validate refuses an empty register mask on both
	// architectures; the registers themselves are refused later
	// (EOPNOTSUPP): Hachi's PMUs do not sample registers.
	if a.SampleType&linux.PERF_SAMPLE_REGS_USER != 0 && a.SampleRegsUser == 0 {
		return linux.EINVAL
	}
	if a.SampleType&linux.PERF_SAMPLE_STACK_USER != 0 {
		if a.SampleStackUser >= sampleStackUserMax || a.SampleStackUser%8 != 0 {
			return linux.EINVAL
		}
	}
	if a.SampleType&linux.PERF_SAMPLE_REGS_INTR != 0 && a.SampleRegsIntr == 0 {
		return linux.EINVAL
	}
	// No CONFIG_CGROUP_PERF: Hachi has no cgroups.
	if a.SampleType&linux.PERF_SAMPLE_CGROUP != 0 {
		return linux.EINVAL
	}
	if a.SampleType&linux.PERF_SAMPLE_WEIGHT != 0 && a.SampleType&linux.PERF_SAMPLE_WEIGHT_STRUCT != 0 {
		return linux.EINVAL
	}
	if a.Flags&linux.PerfAttrInherit == 0 && a.Flags&linux.PerfAttrInheritThread != 0 {
		return linux.EINVAL
	}
	if a.Flags&linux.PerfAttrRemoveOnExec != 0 && a.Flags&linux.PerfAttrEnableOnExec != 0 {
		return linux.EINVAL
	}
	if a.Flags&linux.PerfAttrSigtrap != 0 && a.Flags&linux.PerfAttrRemoveOnExec == 0 {
		return linux.EINVAL
	}
	return nil
}

// has reports whether flag bits are set in the attr's bitfield word.
func has(a *Attr, flag uint64) bool { return a.Flags&flag != 0 }

// sampling is is_sampling_event: a non-zero period (or frequency).
func sampling(a *Attr) bool { return a.SamplePeriod != 0 }

// supportedSampleType are the PERF_SAMPLE_* bits Hachi's samples carry;
// the others (registers, user stack, branch stack, weights, data source,
// transaction, physical address, page sizes, AUX) are EOPNOTSUPP at event
// creation: no Hachi PMU can produce them.
const supportedSampleType = linux.PERF_SAMPLE_IDENTIFIER | linux.PERF_SAMPLE_IP |
	linux.PERF_SAMPLE_TID | linux.PERF_SAMPLE_TIME | linux.PERF_SAMPLE_ADDR |
	linux.PERF_SAMPLE_ID | linux.PERF_SAMPLE_STREAM_ID | linux.PERF_SAMPLE_CPU |
	linux.PERF_SAMPLE_PERIOD | linux.PERF_SAMPLE_READ | linux.PERF_SAMPLE_RAW
