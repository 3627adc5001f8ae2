package maps

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"hachi/syscall/linux"
)

func newTestRing(t testing.TB, size uint32) *RingBuf {
	t.Helper()
	return mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_RINGBUF, MaxEntries: size}).(*RingBuf)
}

// reserveWrite reserves and fills a sample, as a program would.
func reserveWrite(t testing.TB, rb *RingBuf, data []byte) unsafe.Pointer {
	t.Helper()
	p := rb.Reserve(0, uint64(len(data)))
	if p == nil {
		t.Fatalf("reserve of %d bytes failed", len(data))
	}
	copy(unsafe.Slice((*byte)(p), len(data)), data)
	return p
}

func consumeAll(t testing.TB, r *RingReader) [][]byte {
	t.Helper()
	var got [][]byte
	if _, err := r.Consume(0, func(s []byte) error {
		got = append(got, append([]byte(nil), s...))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestRingBufLayout checks the memory user space maps: consumer page,
// producer page, 8-byte headers with BUSY/DISCARD bits and pg_off.
func TestRingBufLayout(t *testing.T) {
	rb := newTestRing(t, 2*PageSize)
	cons, err := rb.Mmap(0, PageSize, true)
	wantErr(t, "mmap consumer page", err, 0)
	prod, err := rb.Mmap(1, PageSize+2*2*PageSize, false)
	wantErr(t, "mmap producer and data", err, 0)
	p := reserveWrite(t, rb, []byte("hello"))
	data := prod[PageSize:]
	hdr := binary.LittleEndian.Uint32(data)
	if hdr != 5|linux.BPF_RINGBUF_BUSY_BIT {
		t.Fatalf("header of a reserved record %#x", hdr)
	}
	if pg := binary.LittleEndian.Uint32(data[4:]); pg != 3 {
		t.Fatalf("pg_off %d, want 3 (meta, consumer and producer pages precede the data)", pg)
	}
	if binary.LittleEndian.Uint64(prod) != 16 {
		t.Fatalf("producer_pos %d, want 16 (8 header + 5 rounded up)", binary.LittleEndian.Uint64(prod))
	}
	if !RingBufCommit(uintptr(p), 0, false) {
		t.Fatal("submit refused")
	}
	if hdr := binary.LittleEndian.Uint32(data); hdr != 5 {
		t.Fatalf("header after submit %#x", hdr)
	}
	if RingBufCommit(uintptr(p), 0, false) {
		t.Fatal("a second submit of the same sample must be refused")
	}
	q := reserveWrite(t, rb, []byte("x"))
	RingBufCommit(uintptr(q), 0, true)
	if hdr := binary.LittleEndian.Uint32(data[16:]); hdr != 1|linux.BPF_RINGBUF_DISCARD_BIT {
		t.Fatalf("header after discard %#x", hdr)
	}
	got := consumeAll(t, NewRingReader(cons, prod))
	if len(got) != 1 || string(got[0]) != "hello" {
		t.Fatalf("consumed %q", got)
	}
	if binary.LittleEndian.Uint64(cons) != 32 {
		t.Fatalf("consumer_pos %d after consuming both records", binary.LittleEndian.Uint64(cons))
	}
	_, err = rb.Mmap(1, PageSize, true)
	wantErr(t, "writable producer page", err, linux.EPERM)
	_, err = rb.Mmap(0, 2*PageSize, true)
	wantErr(t, "writable mapping beyond the consumer page", err, linux.EPERM)
	_, err = rb.Mmap(0, 7*PageSize, false)
	wantErr(t, "mapping past the second data area", err, linux.EINVAL)
	if RingBufCommit(uintptr(unsafe.Pointer(&cons[8])), 0, false) {
		t.Fatal("an address outside the data area must be refused")
	}
	var local [16]byte
	if RingBufCommit(uintptr(unsafe.Pointer(&local[8])), 0, false) {
		t.Fatal("an address of no ring buffer must be refused")
	}
}

// ciliumRead reads records the way cilium/ebpf's ringReader does: the
// sample's start is (cons_pos + 8) & mask, read from the first data area;
// with byteWise set, every byte is read at its position modulo the size,
// from the first area only, as a reader of a singly mapped ring would.
func ciliumRead(cons, prod []byte, size uint64, byteWise bool) [][]byte {
	consPos := (*uint64)(unsafe.Pointer(&cons[0]))
	prodPos := atomic.LoadUint64((*uint64)(unsafe.Pointer(&prod[0])))
	ring := prod[PageSize:]
	mask := size - 1
	var got [][]byte
	c := atomic.LoadUint64(consPos)
	for c < prodPos {
		l := atomic.LoadUint32((*uint32)(unsafe.Pointer(&ring[c&mask])))
		if l&linux.BPF_RINGBUF_BUSY_BIT != 0 {
			break
		}
		c += 8
		n := uint64(l &^ (linux.BPF_RINGBUF_BUSY_BIT | linux.BPF_RINGBUF_DISCARD_BIT))
		start := c & mask
		c += (n + 7) &^ 7
		if l&linux.BPF_RINGBUF_DISCARD_BIT == 0 {
			rec := append([]byte(nil), ring[start:start+n]...)
			if byteWise {
				for i := range rec {
					rec[i] = ring[(start+uint64(i))&mask]
				}
			}
			got = append(got, rec)
		}
		atomic.StoreUint64(consPos, c)
	}
	return got
}

// TestRingBufWrap writes records of many sizes through several wraps and
// reads them both the libbpf way (contiguous from the header) and the
// cilium/ebpf way (sample start masked into the first area): both must
// see every record intact, which the mirror at commit guarantees.
func TestRingBufWrap(t *testing.T) {
	for _, reader := range []string{"libbpf", "cilium", "bytewise"} {
		t.Run(reader, func(t *testing.T) {
			const size = PageSize
			rb := newTestRing(t, size)
			cons, _ := rb.Mmap(0, PageSize, true)
			prod, _ := rb.Mmap(1, PageSize+2*size, false)
			r := NewRingReader(cons, prod)
			seq := 0
			for round := 0; round < 200; round++ {
				var want [][]byte
				for k := 0; k < 1+round%4; k++ {
					n := 1 + (seq*37)%900
					rec := make([]byte, n)
					for i := range rec {
						rec[i] = byte(seq + i*13)
					}
					seq++
					p := reserveWrite(t, rb, rec)
					RingBufCommit(uintptr(p), 0, false)
					want = append(want, rec)
				}
				var got [][]byte
				if reader == "libbpf" {
					got = consumeAll(t, r)
				} else {
					got = ciliumRead(cons, prod, size, reader == "bytewise")
				}
				if len(got) != len(want) {
					t.Fatalf("round %d: %d records, want %d", round, len(got), len(want))
				}
				for i := range want {
					if !bytes.Equal(got[i], want[i]) {
						t.Fatalf("round %d record %d corrupted (%d bytes)", round, i, len(want[i]))
					}
				}
			}
			if rb.Query(linux.BPF_RB_PROD_POS) < 20*size {
				t.Fatal("the test did not wrap the ring many times")
			}
		})
	}
}

func TestRingBufFullAndOrder(t *testing.T) {
	rb := newTestRing(t, PageSize)
	r := rb.Reader()
	// A record must leave the ring at most size-1 bytes ahead of the
	// consumer: a 4096-byte ring holds 4088 bytes of records.
	if rb.Reserve(0, PageSize-8) != nil {
		t.Fatal("a record filling the whole ring must not fit")
	}
	if rb.Reserve(0, 1<<31) != nil {
		t.Fatal("a record past RINGBUF_MAX_RECORD_SZ must not fit")
	}
	a := rb.Reserve(0, 2000)
	b := rb.Reserve(0, 2000)
	if a == nil || b == nil {
		t.Fatal("two 2000-byte records fit")
	}
	wantErr(t, "output into a full ring", rb.Output(0, make([]byte, 100), 0), linux.EAGAIN)
	// Records are consumed in reservation order even when committed out
	// of order: the reader stops at the busy first one.
	copy(unsafe.Slice((*byte)(b), 1), "B")
	RingBufCommit(uintptr(b), 0, false)
	if got := consumeAll(t, r); len(got) != 0 {
		t.Fatal("the reader passed a busy record")
	}
	copy(unsafe.Slice((*byte)(a), 1), "A")
	RingBufCommit(uintptr(a), 0, false)
	got := consumeAll(t, r)
	if len(got) != 2 || got[0][0] != 'A' || got[1][0] != 'B' {
		t.Fatal("records out of order")
	}
	wantErr(t, "output after consuming", rb.Output(0, []byte("ok"), 0), 0)
	wantErr(t, "output with unknown flags", rb.Output(0, []byte("ok"), 4), linux.EINVAL)
	if rb.Query(linux.BPF_RB_AVAIL_DATA) != 16 || rb.Query(linux.BPF_RB_RING_SIZE) != PageSize ||
		rb.Query(linux.BPF_RB_PROD_POS)-rb.Query(linux.BPF_RB_CONS_POS) != 16 || rb.Query(9) != 0 {
		t.Fatal("query")
	}
}

// TestRingBufConsumerCannotCorrupt: user space owns consumer_pos and may
// write anything there; the producer must still never overwrite a record
// that is being written (Linux's pending_pos check).
func TestRingBufConsumerCannotCorrupt(t *testing.T) {
	rb := newTestRing(t, PageSize)
	cons, _ := rb.Mmap(0, PageSize, true)
	p := rb.Reserve(0, 1000)
	binary.LittleEndian.PutUint64(cons, 4000) // a lying consumer
	for i := 0; i < 10; i++ {
		if q := rb.Reserve(0, 1000); q != nil {
			RingBufCommit(uintptr(q), 0, false)
			if uintptr(q) < uintptr(p)+1000 && uintptr(q)+1000 > uintptr(p) {
				t.Fatal("a reservation overlaps a busy record")
			}
		}
	}
	RingBufCommit(uintptr(p), 0, false)
}

func TestRingBufWakeup(t *testing.T) {
	rb := newTestRing(t, PageSize)
	wakes := 0
	rb.SetWakeup(func() { wakes++ })
	r := rb.Reader()
	rb.Output(0, []byte("a"), 0) // consumer waits at this record: wake
	rb.Output(0, []byte("b"), 0) // consumer is behind: no wake
	if wakes != 1 {
		t.Fatalf("%d wakeups, want 1", wakes)
	}
	rb.Output(0, []byte("c"), linux.BPF_RB_FORCE_WAKEUP)
	if wakes != 2 {
		t.Fatal("BPF_RB_FORCE_WAKEUP did not wake")
	}
	consumeAll(t, r)
	rb.Output(0, []byte("d"), linux.BPF_RB_NO_WAKEUP)
	if wakes != 2 {
		t.Fatal("BPF_RB_NO_WAKEUP woke")
	}
	if !rb.Readable() {
		t.Fatal("not readable with a record waiting")
	}
	consumeAll(t, r)
	if rb.Readable() {
		t.Fatal("readable when empty")
	}
}

func TestRingReaderLimitAndError(t *testing.T) {
	rb := newTestRing(t, PageSize)
	for i := 0; i < 5; i++ {
		rb.Output(0, []byte{byte(i)}, 0)
	}
	r := rb.Reader()
	n, err := r.Consume(2, func([]byte) error { return nil })
	if n != 2 || err != nil || r.Available() != 3*16 {
		t.Fatalf("consume 2: %d %v, %d bytes left", n, err, r.Available())
	}
	stop := errors.New("stop")
	n, err = r.Consume(0, func(s []byte) error {
		if s[0] == 3 {
			return stop
		}
		return nil
	})
	if n != 1 || err != stop || r.Available() != 16 {
		t.Fatalf("consume with error: %d %v, %d bytes left (the failing sample is consumed)", n, err, r.Available())
	}
}

func ExampleRingBuf() {
	m, _ := New(Spec{Type: linux.BPF_MAP_TYPE_RINGBUF, MaxEntries: PageSize}, FixedHost{CPUs: 1})
	rb := m.(*RingBuf)
	// A program: reserve, fill, submit.
	p := rb.Reserve(0, 5)
	copy(unsafe.Slice((*byte)(p), 5), "hello")
	RingBufCommit(uintptr(p), 0, false)
	// A consumer, as libbpf reads.
	rb.Reader().Consume(0, func(sample []byte) error {
		fmt.Printf("%s\n", sample)
		return nil
	})
	// Output: hello
}

// TestRingBufHeaderAtEnd puts a header in the last 8 bytes of the data
// area, so the whole sample lies past the end: cilium/ebpf reads it from
// the start of the first area, which only the mirror fills.
func TestRingBufHeaderAtEnd(t *testing.T) {
	rb := newTestRing(t, PageSize)
	cons, _ := rb.Mmap(0, PageSize, true)
	prod, _ := rb.Mmap(1, 3*PageSize, false)
	wantErr(t, "output", rb.Output(0, make([]byte, PageSize-16), 0), 0)
	ciliumRead(cons, prod, PageSize, false)
	if rb.Query(linux.BPF_RB_PROD_POS) != PageSize-8 {
		t.Fatal("setup: the next header is not in the last 8 bytes")
	}
	wantErr(t, "output", rb.Output(0, []byte("wrapped!"), 0), 0)
	got := ciliumRead(cons, prod, PageSize, false)
	if len(got) != 1 || string(got[0]) != "wrapped!" {
		t.Fatalf("cilium-style read %q", got)
	}
}

// TestRingRegistryReuse: ring buffers come and go, their memory is reused
// at the same addresses, and a collected one's cleanup (which runs later,
// on its own) must not drop the entry of its successor.
func TestRingRegistryReuse(t *testing.T) {
	reused := 0
	for i := 0; i < 50; i++ {
		old := uintptr(newTestRing(t, PageSize).data)
		runtime.GC() // the first ring buffer is garbage: its cleanup is queued
		rb := newTestRing(t, PageSize)
		if uintptr(rb.data) == old {
			reused++
		}
		time.Sleep(time.Millisecond) // let the cleanup run
		p := rb.Reserve(0, 8)
		if !RingBufCommit(uintptr(p), 0, false) {
			t.Fatalf("round %d: a live ring buffer's sample was refused", i)
		}
	}
	if reused == 0 {
		t.Log("no address was reused: the case did not occur")
	}
}
