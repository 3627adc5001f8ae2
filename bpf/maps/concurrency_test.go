package maps

import (
	"encoding/binary"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"hachi/syscall/linux"
)

// The concurrency tests run the program side on every simulated CPU (a
// goroutine each, passing its CPU id as a program would) while a system
// call goroutine uses the syscall side, and check invariants that hold
// whatever the interleaving. Run them with -race: values are read with
// atomic loads where Linux programs would race benignly, so the detector
// reports only real bugs of the maps.

// onCPUs runs f on testCPUs goroutines, one per CPU, and sys on another.
// sys loops until stop is closed and yields (runtime.Gosched) on each turn:
// without preemption (GOOS=tamago on one CPU, like js/wasm) a goroutine
// that never blocks keeps its CPU, and the CPUs' goroutines would never run.
func onCPUs(f func(cpu int), sys func(stop <-chan struct{})) {
	var wg sync.WaitGroup
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		sys(stop)
		close(done)
	}()
	for cpu := 0; cpu < testCPUs; cpu++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(cpu)
		}()
	}
	wg.Wait()
	close(stop)
	<-done
}

func load64(p unsafe.Pointer) uint64 { return atomic.LoadUint64((*uint64)(p)) }

func TestConcurrentHash(t *testing.T) {
	for _, typ := range []linux.BPFMapType{linux.BPF_MAP_TYPE_HASH, linux.BPF_MAP_TYPE_PERCPU_HASH} {
		for _, flags := range []uint32{0, linux.BPF_F_NO_PREALLOC} {
			h := mustNew(t, Spec{Type: typ, KeySize: 8, ValueSize: 8, MaxEntries: 512, Flags: flags}).(*Hash)
			const shared = 7
			var bad atomic.Int64
			onCPUs(func(cpu int) {
				for i := uint64(0); i < 2000; i++ {
					// (cpu+1): CPU 0's keys would include the shared one.
					own := uint64(cpu+1)<<32 | i%100
					// A key's value is always key*3: lookups must never see
					// another key's value, even through reused elements.
					if err := h.UpdateElem(cpu, u64(own), u64(own*3), 0); err != nil && !errors.Is(err, linux.E2BIG) {
						t.Errorf("update: %v", err)
					}
					if p := h.LookupElem(cpu, u64(own)); p != nil && load64(p) != own*3 {
						t.Errorf("own key %x: value %x", own, load64(p))
					}
					if i%3 == 0 {
						h.DeleteElem(cpu, u64(own))
					}
					// Everyone replaces the shared key. A program holding its
					// value may see the element reused for another key (as in
					// Linux's preallocated tables), but never a value no key
					// has: every value is a multiple of 3.
					h.UpdateElem(cpu, u64(shared), u64(shared*3), 0)
					if p := h.LookupElem(cpu, u64(shared)); p != nil && load64(p)%3 != 0 {
						bad.Add(1)
					}
				}
			}, func(stop <-chan struct{}) {
				out := make([]byte, h.Info().SyscallValueSize())
				for {
					select {
					case <-stop:
						return
					default:
						runtime.Gosched()
					}
					var prev []byte
					for n := 0; n < 1000; n++ {
						next := make([]byte, 8)
						if h.NextKey(prev, next) != nil {
							break
						}
						if err := h.Lookup(next, out, 0); err == nil && !h.percpu && le64(out) != le64(next)*3 {
							t.Errorf("syscall lookup %x: %x", next, out)
						}
						prev = next
					}
					v := make([]byte, len(out))
					copy(v, u64(3<<40))
					h.Update(u64(1<<40), v, 0)
					h.Delete(u64(1 << 40))
				}
			})
			if bad.Load() != 0 {
				t.Fatalf("%v flags %d: %d inconsistent results", typ, flags, bad.Load())
			}
			if n := h.Len(); n > 512 || n != int(h.count.Load()) {
				t.Fatalf("%d elements, count %d", n, h.count.Load())
			}
		}
	}
}

func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

func TestConcurrentLRU(t *testing.T) {
	for _, flags := range []uint32{0, linux.BPF_F_NO_COMMON_LRU} {
		h := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_LRU_HASH, KeySize: 8, ValueSize: 8, MaxEntries: 64, Flags: flags}).(*Hash)
		var bad, nomem atomic.Int64
		onCPUs(func(cpu int) {
			for i := uint64(0); i < 3000; i++ {
				k := uint64(cpu)<<32 | i%300
				switch err := h.UpdateElem(cpu, u64(k), u64(k+1), 0); {
				case errors.Is(err, linux.ENOMEM):
					nomem.Add(1)
				case err != nil:
					bad.Add(1)
				}
				// Another CPU may evict and reuse the element meanwhile:
				// the value is then that of another key, never garbage.
				if p := h.LookupElem(cpu, u64(k)); p != nil {
					if v := load64(p) - 1; v&(1<<40) == 0 && (v>>32 >= testCPUs || v&0xffffffff >= 300) {
						bad.Add(1)
					}
				}
			}
		}, func(stop <-chan struct{}) {
			for i := uint64(0); ; i++ {
				select {
				case <-stop:
					return
				default:
					runtime.Gosched()
				}
				h.Update(u64(1<<40|i%50), u64(1<<40|i%50+1), 0)
				h.Delete(u64(1<<40 | (i+25)%50))
			}
		})
		if bad.Load() != 0 {
			t.Fatalf("flags %d: %d inconsistent results", flags, bad.Load())
		}
		if n := h.Len(); n > int(h.Info().MaxEntries) {
			t.Fatalf("%d elements in an LRU of %d", n, h.Info().MaxEntries)
		}
		// Every element is on exactly one list: none was lost.
		total := 0
		for i := range h.lru.lists {
			l := &h.lru.lists[i]
			l.lock.lock(h.host, -1)
			l.drainLocked(h)
			total += l.active.n + l.inactive.n
			for id := l.free; id != 0; id = h.elem(id).lruNext {
				total++
			}
			l.lock.unlock()
		}
		if total != int(h.total) {
			t.Fatalf("flags %d: %d elements on the lists, %d exist (nomem %d)", flags, total, h.total, nomem.Load())
		}
	}
}

func TestConcurrentQueue(t *testing.T) {
	q := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_QUEUE, ValueSize: 8, MaxEntries: 32}).(*QueueStack)
	const per = 5000
	var popped sync.Map
	var dup atomic.Int64
	var total atomic.Int64
	onCPUs(func(cpu int) {
		out := make([]byte, 8)
		for i := uint64(0); i < per; i++ {
			v := uint64(cpu)<<32 | i
			for q.PushElem(cpu, u64(v), 0) != nil {
				if q.PopElem(cpu, out) == nil {
					if _, loaded := popped.LoadOrStore(le64(out), true); loaded {
						dup.Add(1)
					}
					total.Add(1)
				}
			}
		}
	}, func(stop <-chan struct{}) {
		out := make([]byte, 8)
		for {
			if q.LookupAndDelete(nil, out, 0) == nil {
				if _, loaded := popped.LoadOrStore(le64(out), true); loaded {
					dup.Add(1)
				}
				total.Add(1)
				continue
			}
			select {
			case <-stop:
				return
			default:
				runtime.Gosched()
			}
		}
	})
	out := make([]byte, 8)
	for q.PopElem(0, out) == nil {
		popped.LoadOrStore(le64(out), true)
		total.Add(1)
	}
	if dup.Load() != 0 || total.Load() != testCPUs*per {
		t.Fatalf("%d values popped twice, %d popped of %d", dup.Load(), total.Load(), testCPUs*per)
	}
}

func TestConcurrentRingBuf(t *testing.T) {
	rb := newTestRing(t, 4*PageSize)
	r := rb.Reader()
	const per = 3000
	counts := make([]uint64, testCPUs)
	var bad atomic.Int64
	onCPUs(func(cpu int) {
		for i := uint64(0); i < per; {
			n := 8 + int(i%97)
			p := rb.Reserve(cpu, uint64(n))
			if p == nil {
				runtime.Gosched() // full: let the consumer catch up
				continue
			}
			b := unsafe.Slice((*byte)(p), n)
			binary.LittleEndian.PutUint64(b, uint64(cpu)<<32|i)
			for k := 8; k < n; k++ {
				b[k] = byte(i + uint64(k))
			}
			RingBufCommit(uintptr(p), 0, i%7 == 0)
			i++
		}
	}, func(stop <-chan struct{}) {
		consume := func() {
			r.Consume(0, func(s []byte) error {
				v := le64(s)
				cpu, i := v>>32, v&0xffffffff
				if i%7 == 0 || len(s) != 8+int(i%97) || i < atomic.LoadUint64(&counts[cpu]) {
					bad.Add(1)
				}
				for k := 8; k < len(s); k++ {
					if s[k] != byte(i+uint64(k)) {
						bad.Add(1)
						break
					}
				}
				atomic.StoreUint64(&counts[cpu], i+1)
				return nil
			})
		}
		for {
			select {
			case <-stop:
				consume()
				return
			default:
				consume()
				runtime.Gosched()
			}
		}
	})
	if bad.Load() != 0 {
		t.Fatalf("%d bad records", bad.Load())
	}
	for cpu, c := range counts {
		if c < per-7 {
			t.Fatalf("cpu %d: last record %d of %d", cpu, c, per)
		}
	}
	if r.Available() != 0 {
		t.Fatal("records left")
	}
}

func TestConcurrentLPMTrie(t *testing.T) {
	trie := mustNew(t, Spec{Type: linux.BPF_MAP_TYPE_LPM_TRIE, KeySize: 8, ValueSize: 8, MaxEntries: 256, Flags: linux.BPF_F_NO_PREALLOC}).(*LPMTrie)
	// The /8 of each CPU stays; /24s come and go below it.
	for cpu := 0; cpu < testCPUs; cpu++ {
		trie.Update(lpmKey(8, byte(cpu), 0, 0, 0), u64(uint64(cpu)<<8|8), 0)
	}
	var bad atomic.Int64
	onCPUs(func(cpu int) {
		for i := 0; i < 3000; i++ {
			sub := byte(i % 50)
			k := lpmKey(24, byte(cpu), sub, 1, 0)
			trie.UpdateElem(cpu, k, u64(uint64(cpu)<<8|24), 0)
			p := trie.LookupElem(cpu, lpmKey(32, byte(cpu), sub, 1, 9))
			if p == nil {
				bad.Add(1)
				continue
			}
			// Either this CPU's /24 or its /8: never another CPU's prefix.
			if v := load64(p); v>>8 != uint64(cpu) || (v&0xff != 24 && v&0xff != 8) {
				bad.Add(1)
			}
			if i%2 == 0 {
				trie.DeleteElem(cpu, k)
			}
		}
	}, func(stop <-chan struct{}) {
		for {
			select {
			case <-stop:
				return
			default:
				runtime.Gosched()
			}
			var prev []byte
			for n := 0; n < 300; n++ {
				next := make([]byte, 8)
				if trie.NextKey(prev, next) != nil {
					break
				}
				prev = next
			}
		}
	})
	if bad.Load() != 0 {
		t.Fatalf("%d bad lookups", bad.Load())
	}
}

func TestConcurrentArrayCounters(t *testing.T) {
	for _, typ := range []linux.BPFMapType{linux.BPF_MAP_TYPE_ARRAY, linux.BPF_MAP_TYPE_PERCPU_ARRAY} {
		a := mustNew(t, Spec{Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: 4}).(*Array)
		const per = 20000
		onCPUs(func(cpu int) {
			for i := 0; i < per; i++ {
				atomic.AddUint64((*uint64)(a.LookupElem(cpu, u32(uint32(i%4)))), 1)
			}
		}, func(stop <-chan struct{}) {
			out := make([]byte, a.Info().SyscallValueSize())
			for {
				select {
				case <-stop:
					return
				default:
					a.Lookup(u32(1), out, 0)
					runtime.Gosched()
				}
			}
		})
		var sum uint64
		out := make([]byte, a.Info().SyscallValueSize())
		for k := uint32(0); k < 4; k++ {
			a.Lookup(u32(k), out, 0)
			for off := 0; off < len(out); off += 8 {
				sum += le64(out[off:])
			}
		}
		if sum != testCPUs*per {
			t.Fatalf("%v: counted %d of %d", typ, sum, testCPUs*per)
		}
	}
}
