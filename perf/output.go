package perf

import (
	"hachi/syscall/linux"
)

// sampleData is struct perf_sample_data: what one sample says, gathered
// before it is written.
type sampleData struct {
	ip     uint64
	addr   uint64
	period uint64
	raw    []byte // nil: no raw data (a RAW sample then carries 4 zero bytes)
	hasRaw bool
	pid    int32
	tid    int32
	time   uint64
	cpu    uint32
	user   bool
}

// maxRecord is the largest record: perf_event_header.size is a u16.
const maxRecord = 0xffff

// fill is __perf_event_header__init_id and perf_prepare_sample's fixed
// part: the fields taken from where the sample happens.
func (e *Event) fill(sd *sampleData, cpu int, regs *Regs) {
	st := e.attr.SampleType
	if regs != nil {
		sd.ip = regs.IP
		sd.user = regs.User
	}
	if st&linux.PERF_SAMPLE_TID != 0 {
		sd.pid, sd.tid = e.sys.host.Current(cpu)
	}
	if st&linux.PERF_SAMPLE_TIME != 0 {
		sd.time = e.sys.host.Now()
	}
	sd.cpu = uint32(cpu)
}

// rawSize is the space RAW takes: the u32 size and the data, padded so
// the record stays 8-byte aligned (perf_prepare_sample).
func rawSize(sd *sampleData) uint64 {
	if !sd.hasRaw {
		return 8
	}
	return (uint64(len(sd.raw)) + 4 + 7) &^ 7
}

// sampleSize is the size of the PERF_RECORD_SAMPLE of sd.
func (e *Event) sampleSize(sd *sampleData) uint64 {
	size := 8 + e.headerSize
	if e.attr.SampleType&linux.PERF_SAMPLE_RAW != 0 {
		size += rawSize(sd)
	}
	return size
}

// output writes a PERF_RECORD_SAMPLE of sd into the event's ring
// (perf_event_output): ENOSPC when the event has no ring or the ring is
// full or paused (the loss is counted), E2BIG when the record would not
// fit the u16 size of its header (Linux would wrap the size; Hachi
// refuses).
func (e *Event) output(sd *sampleData) error {
	size := e.sampleSize(sd)
	if size > maxRecord {
		return linux.E2BIG
	}
	r := e.rb.Load()
	if r == nil {
		return linux.ENOSPC
	}
	h, ok := r.begin(e, size, sd)
	if !ok {
		return linux.ENOSPC
	}
	misc := uint16(linux.PERF_RECORD_MISC_KERNEL)
	if sd.user {
		misc = linux.PERF_RECORD_MISC_USER
	}
	h.put32(linux.PERF_RECORD_SAMPLE)
	h.put16(misc)
	h.put16(uint16(size))
	e.writeSample(&h, sd)
	r.countSample(&e.attr)
	r.end(&h)
	return nil
}

// writeSample is perf_output_sample: the fields in Linux's order.
func (e *Event) writeSample(h *handle, sd *sampleData) {
	st := e.attr.SampleType
	if st&linux.PERF_SAMPLE_IDENTIFIER != 0 {
		h.put64(e.primaryID())
	}
	if st&linux.PERF_SAMPLE_IP != 0 {
		h.put64(sd.ip)
	}
	if st&linux.PERF_SAMPLE_TID != 0 {
		h.put32(uint32(sd.pid))
		h.put32(uint32(sd.tid))
	}
	if st&linux.PERF_SAMPLE_TIME != 0 {
		h.put64(sd.time)
	}
	if st&linux.PERF_SAMPLE_ADDR != 0 {
		h.put64(sd.addr)
	}
	if st&linux.PERF_SAMPLE_ID != 0 {
		h.put64(e.primaryID())
	}
	if st&linux.PERF_SAMPLE_STREAM_ID != 0 {
		h.put64(e.id)
	}
	if st&linux.PERF_SAMPLE_CPU != 0 {
		h.put32(sd.cpu)
		h.put32(0)
	}
	if st&linux.PERF_SAMPLE_PERIOD != 0 {
		h.put64(sd.period)
	}
	if st&linux.PERF_SAMPLE_READ != 0 {
		e.writeRead(h)
	}
	if st&linux.PERF_SAMPLE_RAW != 0 {
		if !sd.hasRaw {
			h.put32(4)
			h.put32(0)
		} else {
			size := rawSize(sd) - 4
			h.put32(uint32(size))
			h.put(sd.raw)
			// Linux skips the padding (stale bytes); Hachi zeroes it,
			// so no older record shows through.
			h.zero(size - uint64(len(sd.raw)))
		}
	}
}

// writeRead is perf_output_read for an event read alone (perf_output_read_one).
func (e *Event) writeRead(h *handle) {
	var vals [5]uint64
	for _, v := range vals[:e.readOne(vals[:])] {
		h.put64(v)
	}
}

// idSampleSize is the size of the sample_id trailer of non-sample
// records (perf_event__id_header_size): only with sample_id_all.
func (e *Event) idSampleSize(*sampleData) uint64 {
	if !has(&e.attr, linux.PerfAttrSampleIDAll) {
		return 0
	}
	return e.idHeaderSize
}

// writeIDSample is perf_event__output_id_sample: the sample_id trailer of
// a non-sample record.
func (e *Event) writeIDSample(h *handle, sd *sampleData) {
	if !has(&e.attr, linux.PerfAttrSampleIDAll) {
		return
	}
	st := e.attr.SampleType
	if st&linux.PERF_SAMPLE_TID != 0 {
		h.put32(uint32(sd.pid))
		h.put32(uint32(sd.tid))
	}
	if st&linux.PERF_SAMPLE_TIME != 0 {
		h.put64(sd.time)
	}
	if st&linux.PERF_SAMPLE_ID != 0 {
		h.put64(e.primaryID())
	}
	if st&linux.PERF_SAMPLE_STREAM_ID != 0 {
		h.put64(e.id)
	}
	if st&linux.PERF_SAMPLE_CPU != 0 {
		h.put32(sd.cpu)
		h.put32(0)
	}
	if st&linux.PERF_SAMPLE_IDENTIFIER != 0 {
		h.put64(e.primaryID())
	}
}

// computeSizes is perf_event__header_size and perf_event__id_header_size:
// the fixed parts of the event's sample and sample_id records.
func (e *Event) computeSizes() {
	st := e.attr.SampleType
	var size, id uint64
	for _, bit := range []uint64{linux.PERF_SAMPLE_IP, linux.PERF_SAMPLE_ADDR, linux.PERF_SAMPLE_PERIOD} {
		if st&bit != 0 {
			size += 8
		}
	}
	for _, bit := range []uint64{linux.PERF_SAMPLE_TID, linux.PERF_SAMPLE_TIME, linux.PERF_SAMPLE_ID,
		linux.PERF_SAMPLE_STREAM_ID, linux.PERF_SAMPLE_CPU, linux.PERF_SAMPLE_IDENTIFIER} {
		if st&bit != 0 {
			id += 8
		}
	}
	if st&linux.PERF_SAMPLE_READ != 0 {
		size += uint64(e.readSize())
	}
	e.headerSize = size + id
	e.idHeaderSize = id
}
