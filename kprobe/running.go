package kprobe

import (
	"encoding/binary"
	"errors"
	"runtime"
	"sync"
	"unsafe"
)

// The running program's function table is found from a pointer into it:
// runtime.FuncForPC returns, for a function that is not inlined, the
// address of the function's _func record, which lies in the table behind
// runtime.pcheader. The linker's symbols for the table
// (runtime.pcheader, runtime.firstmoduledata) cannot be referenced from
// outside the runtime since Go 1.23 (the linker refuses the reference, or
// mislays the table when assembly names it), so the header is searched
// for backwards from the record, and accepted only if its function table
// points back at that record.

// maxPclntab bounds the backwards search: the distance from the header to
// a function's record (the names, file and pc tables in between).
const maxPclntab = 256 << 20

var (
	runningOnce   sync.Once
	runningSymtab *Symtab
	errRunning    error
)

// Running returns the symbol table of the running program (the kernel's
// kallsyms), found the first time it is asked for.
func Running() (*Symtab, error) {
	runningOnce.Do(func() { runningSymtab, errRunning = findRunning() })
	return runningSymtab, errRunning
}

// anchor is a function that is never inlined, whose record starts the
// search.
//
//go:noinline
func anchor() {}

func findRunning() (*Symtab, error) {
	fn := anchor
	pc := **(**uintptr)(unsafe.Pointer(&fn))
	f := runtime.FuncForPC(pc)
	if f == nil || f.Entry() != pc {
		return nil, errors.New("kprobe: the runtime does not know its own function")
	}
	rec := uint64(uintptr(unsafe.Pointer(f)))
	entryOff := *(*uint32)(unsafe.Pointer(f))
	textStart := uint64(pc) - uint64(entryOff)
	for h := rec &^ 7; h+maxPclntab > rec && h >= 8; h -= 8 {
		if uint32(*word(h)) != pclntabMagic120 {
			continue
		}
		if n := tableSize(h, rec, entryOff); n != 0 {
			return NewSymtab(at(h, n), textStart)
		}
	}
	return nil, errors.New("kprobe: function table not found")
}

// tableSize checks that a header candidate at h has a function table
// pointing at rec for the function at entryOff, and returns the size of
// the table up to the end of its last record (0 if h is not the header).
func tableSize(h, rec uint64, entryOff uint32) uint64 {
	hdr := at(h, pcHeaderSize)
	if hdr[4] != 0 || hdr[5] != 0 || hdr[6] == 0 || hdr[6] > 4 || hdr[7] != 8 {
		return 0
	}
	nfunc := binary.LittleEndian.Uint64(hdr[8:])
	pclnOff := binary.LittleEndian.Uint64(hdr[64:])
	ftab := h + pclnOff
	if nfunc == 0 || nfunc > 1<<24 || pclnOff > maxPclntab || ftab >= rec {
		return 0
	}
	tab := at(ftab, (2*nfunc+1)*4)
	lo, hi := uint64(0), nfunc
	for lo < hi {
		mid := (lo + hi) / 2
		switch e := binary.LittleEndian.Uint32(tab[8*mid:]); {
		case e == entryOff:
			lo, hi = mid, mid
		case e < entryOff:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	if lo >= nfunc || ftab+uint64(binary.LittleEndian.Uint32(tab[8*lo+4:])) != rec {
		return 0
	}
	// The last record (with its pcdata and funcdata offsets) ends the
	// table.
	end := uint64(0)
	for i := uint64(0); i < nfunc; i++ {
		r := ftab + uint64(binary.LittleEndian.Uint32(tab[8*i+4:]))
		b := at(r, funcStructSize)
		size := funcStructSize + 4*uint64(binary.LittleEndian.Uint32(b[28:])) + 4*uint64(b[43])
		end = max(end, r+size)
	}
	return end - h
}

// at is the memory of n bytes at addr, a slice built field by field (the
// range is the program's own read-only data, not a Go object).
func at(addr, n uint64) []byte {
	var b []byte
	h := (*[3]uintptr)(unsafe.Pointer(&b))
	h[0], h[1], h[2] = uintptr(addr), uintptr(n), uintptr(n)
	return b
}

// NewRunning makes the kprobe manager of the running kernel: New with the
// kernel's own symbol table (Running), once install has set up the
// architecture's breakpoint trap.
func NewRunning(arch isa, mach Machine, install func() error) (*Manager, error) {
	syms, err := Running()
	if err != nil {
		return nil, err
	}
	if err := install(); err != nil {
		return nil, err
	}
	return New(arch, mach, syms), nil
}

// Memory is the n bytes of the running kernel's memory at addr, which its
// addresses reach untranslated (identity-mapped, or no translation): the
// architectures' code and slots, as Machine's ReadText and Poke see them.
func Memory(addr uint64, n int) []byte {
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(nil), uintptr(addr))), n)
}
