package perf

import (
	"encoding/binary"
	"errors"
	"sync/atomic"
	"unsafe"

	"hachi/syscall/linux"
)

// Errors of Reader.
var (
	// ErrNoRecord: the ring holds no record to read (data_head == data_tail).
	ErrNoRecord = errors.New("perf: no record in the ring")
	// ErrCorrupt: the ring's control page or a record header is not what
	// a kernel writes (a head more than the ring ahead of the tail, a size
	// not a multiple of 8 or past the head); the reader skips to the head.
	ErrCorrupt = errors.New("perf: corrupt ring")
	// ErrShortRecord: a record is too short for the fields its sample_type
	// says it has; it is skipped.
	ErrShortRecord = errors.New("perf: record shorter than its fields")
)

// Reader reads the records of a perf ring buffer from its mapping, as
// user space does: libbpf's perf_buffer (perf_event_read_simple) and
// cilium/ebpf's perf.Reader. It loads data_head with acquire ordering,
// copies each record out (joining the two halves of one that wraps
// around the end of the data), and stores data_tail with release ordering
// once it is done with it. It trusts nothing in the ring: whatever the
// head and the headers say, it reads only inside the mapping.
type Reader struct {
	mem        []byte
	data       []byte
	sampleType uint64
	readFormat uint64
	buf        []byte
}

// Sample is a decoded PERF_RECORD_SAMPLE: the fields sample_type selects
// (the others are zero).
type Sample struct {
	Identifier uint64
	IP         uint64
	Pid, Tid   uint32
	Time       uint64
	Addr       uint64
	ID         uint64
	StreamID   uint64
	CPU        uint32
	Period     uint64
	// Read is the PERF_SAMPLE_READ block as read_format lays it out.
	Read []uint64
	// Callchain are the PERF_SAMPLE_CALLCHAIN addresses.
	Callchain []uint64
	// Raw is the PERF_SAMPLE_RAW data, padding included (its u32 size is
	// len(Raw)), as libbpf and cilium/ebpf hand it to their callers.
	Raw []byte
}

// Record is one record of the ring. Its slices point into the Reader's
// buffer and are valid until the next Read.
type Record struct {
	Type uint32
	Misc uint16
	// Bytes is the whole record, header included.
	Bytes []byte
	// Sample is the decoded sample of a PERF_RECORD_SAMPLE.
	Sample Sample
	// LostID and Lost are a PERF_RECORD_LOST's event id and count.
	LostID, Lost uint64
}

// readableSampleType are the sample fields Reader decodes.
const readableSampleType = supportedSampleType | linux.PERF_SAMPLE_CALLCHAIN

// NewReader makes a reader of the ring mapped in mapping (the whole mmap:
// control page and data pages) whose event has the given sample_type and
// read_format. The data area comes from the control page's data_offset
// and data_size, which must lie inside mapping with a power-of-two size.
func NewReader(mapping []byte, sampleType, readFormat uint64) (*Reader, error) {
	if sampleType&^readableSampleType != 0 {
		return nil, linux.EOPNOTSUPP
	}
	if len(mapping) < linux.PerfMmapDataSizeOff+8 || uintptr(unsafe.Pointer(&mapping[0]))%8 != 0 {
		return nil, ErrCorrupt
	}
	off := binary.LittleEndian.Uint64(mapping[linux.PerfMmapDataOffsetOff:])
	size := binary.LittleEndian.Uint64(mapping[linux.PerfMmapDataSizeOff:])
	if off < linux.PerfMmapDataSizeOff+8 || off%8 != 0 || off > uint64(len(mapping)) ||
		size > uint64(len(mapping))-off || size == 0 || size&(size-1) != 0 || size%8 != 0 {
		return nil, ErrCorrupt
	}
	return &Reader{mem: mapping, data: mapping[off : off+size], sampleType: sampleType, readFormat: readFormat}, nil
}

func (r *Reader) headPtr() *uint64 {
	return (*uint64)(unsafe.Pointer(&r.mem[linux.PerfMmapDataHeadOff]))
}

func (r *Reader) tailPtr() *uint64 {
	return (*uint64)(unsafe.Pointer(&r.mem[linux.PerfMmapDataTailOff]))
}

// Pending is how many bytes of records the ring holds.
func (r *Reader) Pending() uint64 {
	return atomic.LoadUint64(r.headPtr()) - atomic.LoadUint64(r.tailPtr())
}

// Read reads the next record into rec and consumes it. ErrNoRecord when
// the ring is empty; ErrCorrupt and ErrShortRecord as documented (the
// ring stays readable after them).
func (r *Reader) Read(rec *Record) error {
	head := atomic.LoadUint64(r.headPtr()) // C: acquire, pairs with the writer's B
	tail := atomic.LoadUint64(r.tailPtr())
	if head == tail {
		return ErrNoRecord
	}
	size := uint64(len(r.data))
	avail := head - tail
	if avail > size || avail < 8 || tail%8 != 0 {
		atomic.StoreUint64(r.tailPtr(), head)
		return ErrCorrupt
	}
	mask := size - 1
	at := tail & mask
	hdr := r.data[at : at+8] // 8-aligned in a multiple-of-8 ring: never wraps
	n := uint64(binary.LittleEndian.Uint16(hdr[6:]))
	if n < 8 || n%8 != 0 || n > avail {
		atomic.StoreUint64(r.tailPtr(), head)
		return ErrCorrupt
	}
	if uint64(cap(r.buf)) < n {
		r.buf = make([]byte, n, max(n, 256))
	}
	b := r.buf[:n]
	first := copy(b, r.data[at:])
	copy(b[first:], r.data[:n-uint64(first)])
	// D: the record is copied out before the tail lets the writer reuse it.
	atomic.StoreUint64(r.tailPtr(), tail+n)
	*rec = Record{Type: binary.LittleEndian.Uint32(b), Misc: binary.LittleEndian.Uint16(b[4:]), Bytes: b}
	switch rec.Type {
	case linux.PERF_RECORD_SAMPLE:
		return r.parseSample(b[8:], &rec.Sample)
	case linux.PERF_RECORD_LOST:
		if len(b) < 24 {
			return ErrShortRecord
		}
		rec.LostID = binary.LittleEndian.Uint64(b[8:])
		rec.Lost = binary.LittleEndian.Uint64(b[16:])
	}
	return nil
}

// fields reads a record's fields in order, failing once past its end.
type fields struct {
	b   []byte
	bad bool
}

func (f *fields) u64() uint64 {
	if len(f.b) < 8 {
		f.bad = true
		return 0
	}
	v := binary.LittleEndian.Uint64(f.b)
	f.b = f.b[8:]
	return v
}

func (f *fields) u32() uint32 {
	if len(f.b) < 4 {
		f.bad = true
		return 0
	}
	v := binary.LittleEndian.Uint32(f.b)
	f.b = f.b[4:]
	return v
}

func (f *fields) bytes(n uint64) []byte {
	if uint64(len(f.b)) < n {
		f.bad = true
		return nil
	}
	v := f.b[:n]
	f.b = f.b[n:]
	return v
}

func (f *fields) u64s(n uint64) []uint64 {
	if uint64(len(f.b))/8 < n {
		f.bad = true
		return nil
	}
	v := make([]uint64, n)
	for i := range v {
		v[i] = f.u64()
	}
	return v
}

// parseSample decodes a sample's body in perf_output_sample's order.
func (r *Reader) parseSample(b []byte, s *Sample) error {
	f := fields{b: b}
	st := r.sampleType
	if st&linux.PERF_SAMPLE_IDENTIFIER != 0 {
		s.Identifier = f.u64()
	}
	if st&linux.PERF_SAMPLE_IP != 0 {
		s.IP = f.u64()
	}
	if st&linux.PERF_SAMPLE_TID != 0 {
		s.Pid, s.Tid = f.u32(), f.u32()
	}
	if st&linux.PERF_SAMPLE_TIME != 0 {
		s.Time = f.u64()
	}
	if st&linux.PERF_SAMPLE_ADDR != 0 {
		s.Addr = f.u64()
	}
	if st&linux.PERF_SAMPLE_ID != 0 {
		s.ID = f.u64()
	}
	if st&linux.PERF_SAMPLE_STREAM_ID != 0 {
		s.StreamID = f.u64()
	}
	if st&linux.PERF_SAMPLE_CPU != 0 {
		s.CPU = f.u32()
		f.u32()
	}
	if st&linux.PERF_SAMPLE_PERIOD != 0 {
		s.Period = f.u64()
	}
	if st&linux.PERF_SAMPLE_READ != 0 {
		s.Read = f.u64s(r.readValues(&f))
	}
	if st&linux.PERF_SAMPLE_CALLCHAIN != 0 {
		s.Callchain = f.u64s(f.u64())
	}
	if st&linux.PERF_SAMPLE_RAW != 0 {
		s.Raw = f.bytes(uint64(f.u32()))
	}
	if f.bad {
		return ErrShortRecord
	}
	return nil
}

// readValues is how many u64 a PERF_SAMPLE_READ block holds, peeking at
// the group's member count when read_format has PERF_FORMAT_GROUP.
func (r *Reader) readValues(f *fields) uint64 {
	rf := r.readFormat
	entry := uint64(1)
	var fixed uint64
	for _, bit := range []uint64{linux.PERF_FORMAT_TOTAL_TIME_ENABLED, linux.PERF_FORMAT_TOTAL_TIME_RUNNING} {
		if rf&bit != 0 {
			fixed++
		}
	}
	for _, bit := range []uint64{linux.PERF_FORMAT_ID, linux.PERF_FORMAT_LOST} {
		if rf&bit != 0 {
			entry++
		}
	}
	if rf&linux.PERF_FORMAT_GROUP == 0 {
		return fixed + entry
	}
	if len(f.b) < 8 {
		return 1 // fails in u64s
	}
	nr := binary.LittleEndian.Uint64(f.b)
	if nr > uint64(len(f.b))/8 {
		return nr // too many: fails in u64s without allocating them
	}
	return 1 + fixed + nr*entry
}
