package vm_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"testing"
	"unsafe"

	"hachi/bpf/isa"
	"hachi/bpf/vm"
)

// fakeArray is a per-CPU array of 8-byte values with an inline form (or,
// when direct is set, a direct lookup instead; when none, neither).
type fakeArray struct {
	values   []uint64 // [cpu][index]
	max      uint32
	cpus     uint32
	writable bool
	direct   bool
	none     bool
}

func newFakeArray(max, cpus uint32) *fakeArray {
	a := &fakeArray{values: make([]uint64, max*cpus), max: max, cpus: cpus, writable: true}
	for i := range a.values {
		a.values[i] = uint64(1000 + i)
	}
	return a
}

// lookup is the reference: what the helper returns.
func (a *fakeArray) lookup(cpu uint32, key unsafe.Pointer) unsafe.Pointer {
	i := binary.LittleEndian.Uint32((*[4]byte)(key)[:])
	if i >= a.max || cpu >= a.cpus {
		return nil
	}
	return unsafe.Pointer(&a.values[cpu*a.max+i])
}

func (a *fakeArray) InlineLookup() (vm.InlineLookup, bool) {
	l := vm.InlineLookup{KeySize: 4, ValueSize: 8, Writable: a.writable}
	switch {
	case a.none:
		return l, false
	case a.direct:
		l.Lookup = a.lookup
	default:
		l.Array = &vm.ArrayLayout{Values: unsafe.Pointer(&a.values[0]), ElemSize: 8, MaxEntries: a.max,
			CPUs: a.cpus, CPUStride: 8 * uint64(a.max)}
	}
	return l, true
}

// fakeLookupHelper is bpf_map_lookup_elem over fakeArray, checking like the
// real helper; calls counts its calls.
func fakeLookupHelper(calls *int) vm.HelperFunc {
	return func(env *vm.Env, r1, r2, _, _, _ uint64) uint64 {
		*calls++
		h := env.Map(r1)
		if h == nil {
			return 0
		}
		a := h.Map.(*fakeArray)
		key, err := env.Memory(r2, 4, false)
		if err != nil {
			return 0
		}
		p := a.lookup(env.CPU, unsafe.Pointer(&key[0]))
		if p != nil {
			env.Declare(vm.Region{Base: p, Size: 8, Writable: a.writable})
		}
		return uint64(uintptr(p))
	}
}

// mapResolver resolves `lddw map_fd N` to handles[N].
type mapResolver []*vm.MapHandle

func (r mapResolver) Map(_ isa.PseudoSource, ref int32) (*vm.MapHandle, error) {
	if ref < 0 || int(ref) >= len(r) {
		return nil, errors.New("no such map")
	}
	return r[ref], nil
}
func (mapResolver) MapValue(isa.PseudoSource, int32) (vm.Region, error) {
	return vm.Region{}, errors.New("none")
}
func (mapResolver) KernelVariable(int32, int32) (vm.Region, error) {
	return vm.Region{}, errors.New("none")
}
func (mapResolver) Kfunc(int32, int16) (vm.HelperFunc, error) { return nil, errors.New("none") }

// lookupSrc looks up the key in r1's first word (the context) in map 0 and
// returns the value, or -1; the call is slot 6.
const lookupSrc = `
	ldxw %r6, [%r1+0]
	stxw [%r10-4], %r6
	lddw %r1, map_fd 0
	mov %r2, %r10
	add %r2, -4
	call 1
	jeq %r0, 0, miss
	ldxdw %r0, [%r0+0]
	exit
miss:
	mov %r0, -1
	exit`

const lookupSlot = 6

func TestInlineLookup(t *testing.T) {
	for _, direct := range []bool{false, true} {
		t.Run(map[bool]string{false: "array", true: "direct"}[direct], func(t *testing.T) {
			both(t, func(t *testing.T, mk func(*vm.Image) *vm.Program) {
				a := newFakeArray(5, 3)
				a.direct = direct
				h := vm.NewMapHandle(a)
				calls := 0
				opts := vm.Options{Helpers: vm.Helpers{1: fakeLookupHelper(&calls)}, Resolver: mapResolver{h}}
				ref := mk(load(t, lookupSrc, opts))
				opts.InlineLookups = map[int]*vm.MapHandle{lookupSlot: h}
				img := load(t, lookupSrc, opts)
				if got := img.InlinedLookups(); !slices.Equal(got, []int{lookupSlot}) {
					t.Fatalf("inlined %v, want [%d]", got, lookupSlot)
				}
				inline := mk(img)
				for cpu := uint32(0); cpu < 4; cpu++ {
					for _, key := range []uint32{0, 1, 4, 5, 6, 1 << 31, ^uint32(0)} {
						env := vm.NewEnv()
						env.CPU = cpu
						ctx := binary.LittleEndian.AppendUint32(nil, key)
						want, err := ref.Run(env, vm.Bytes(ctx, false))
						if err != nil {
							t.Fatal(err)
						}
						got, err := inline.Run(env, vm.Bytes(ctx, false))
						if err != nil || got != want {
							t.Fatalf("cpu %d key %d: inline %#x, %v; helper %#x", cpu, key, got, err, want)
						}
					}
				}
				if calls != 4*7 {
					t.Fatalf("the helper ran %d times, want %d (only for the reference program)", calls, 4*7)
				}
			})
		})
	}
}

func TestInlineLookupNoInlineForm(t *testing.T) {
	a := newFakeArray(2, 1)
	a.none = true
	h := vm.NewMapHandle(a)
	calls := 0
	img := load(t, lookupSrc, vm.Options{Helpers: vm.Helpers{1: fakeLookupHelper(&calls)}, Resolver: mapResolver{h},
		InlineLookups: map[int]*vm.MapHandle{lookupSlot: h}})
	if got := img.InlinedLookups(); len(got) != 0 {
		t.Fatalf("inlined %v, want none", got)
	}
	r0, err := vm.NewVerified(img).Run(vm.NewEnv(), vm.Bytes(make([]byte, 4), false))
	if err != nil || r0 != 1000 || calls != 1 {
		t.Fatalf("r0 %d, %v, %d helper calls", r0, err, calls)
	}
}

func TestInlineLookupLoadErrors(t *testing.T) {
	h := vm.NewMapHandle(newFakeArray(2, 1))
	helpers := vm.Helpers{1: fakeLookupHelper(new(int)), 2: fakeLookupHelper(new(int))}
	for _, tc := range []struct {
		name string
		src  string
		slot int
	}{
		{"not a call", lookupSrc, 4},
		{"past the end", lookupSrc, 100},
		{"another helper", "mov %r1, 0\ncall 2\nexit", 1},
		{"local call", "call local f\nexit\nf:\nmov %r0, 0\nexit", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := vm.Load(assemble(t, tc.src), vm.Options{Helpers: helpers, Resolver: mapResolver{h},
				InlineLookups: map[int]*vm.MapHandle{tc.slot: h}})
			if !errors.Is(err, vm.ErrNotSupported) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

// TestInlineLookupChecked: a checked program's inlined lookup checks its
// map, its key and what the program does with the value, as the helper's
// checks do.
func TestInlineLookupChecked(t *testing.T) {
	for _, direct := range []bool{false, true} {
		for _, tc := range []struct {
			name     string
			src      string
			readOnly bool
			want     error
			r0       uint64
		}{
			{"write the value", `
				stw [%r10-4], 1
				lddw %r1, map_fd 0
				mov %r2, %r10
				add %r2, -4
				call 1
				jeq %r0, 0, +2
				stdw [%r0+0], 77
				ldxdw %r0, [%r0+0]
				exit`, false, nil, 77},
			{"write a read-only value", `
				stw [%r10-4], 1
				lddw %r1, map_fd 0
				mov %r2, %r10
				add %r2, -4
				call 1
				jeq %r0, 0, +1
				stdw [%r0+0], 77
				exit`, true, vm.ErrMemory, 0},
			{"past the value", `
				stw [%r10-4], 1
				lddw %r1, map_fd 0
				mov %r2, %r10
				add %r2, -4
				call 1
				jeq %r0, 0, +1
				ldxdw %r0, [%r0+8]
				exit`, false, vm.ErrMemory, 0},
			{"another map", `
				stw [%r10-4], 1
				lddw %r1, map_fd 1
				mov %r2, %r10
				add %r2, -4
				call 1
				exit`, false, vm.ErrBadPointer, 0},
			{"key outside memory", `
				lddw %r1, map_fd 0
				mov %r2, 4096
				mov %r0, 0
				call 1
				exit`, false, vm.ErrMemory, 0},
			{"key partly on the stack", `
				lddw %r1, map_fd 0
				mov %r2, %r10
				add %r2, -2
				mov %r0, 0
				call 1
				exit`, false, vm.ErrMemory, 0},
			{"no key", `
				lddw %r1, map_fd 0
				mov %r0, 0
				call 1
				exit`, false, vm.ErrUninit, 0},
			{"r1-r5 clobbered", `
				stw [%r10-4], 1
				lddw %r1, map_fd 0
				mov %r2, %r10
				add %r2, -4
				call 1
				mov %r0, %r2
				exit`, false, vm.ErrUninit, 0},
		} {
			t.Run(fmt.Sprintf("%s/direct=%v", tc.name, direct), func(t *testing.T) {
				a := newFakeArray(2, 1)
				a.direct, a.writable = direct, !tc.readOnly
				h := vm.NewMapHandle(a)
				other := vm.NewMapHandle(newFakeArray(2, 1))
				insns := assemble(t, tc.src)
				call := slices.IndexFunc(insns, func(ins isa.Instruction) bool { return ins.Opcode == 0x85 })
				img, err := vm.Load(insns, vm.Options{Helpers: vm.Helpers{1: fakeLookupHelper(new(int))},
					Resolver: mapResolver{h, other}, InlineLookups: map[int]*vm.MapHandle{call: h}})
				if err != nil {
					t.Fatal(err)
				}
				if len(img.InlinedLookups()) != 1 {
					t.Fatal("not inlined")
				}
				r0, err := vm.NewChecked(img).Run(vm.NewEnv(), vm.Region{})
				var vmErr *vm.Error
				if tc.want != nil && (!errors.Is(err, tc.want) || !errors.As(err, &vmErr)) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				if tc.want == nil && (err != nil || r0 != tc.r0) {
					t.Fatalf("got %d, %v, want %d", r0, err, tc.r0)
				}
			})
		}
	}
}
