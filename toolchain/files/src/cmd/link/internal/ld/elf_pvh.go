// Copyright 2025 The Hachi Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package ld

import (
	"cmd/internal/objabi"
	"cmd/internal/sys"
)

// The Xen PVH boot protocol entry note, as read by QEMU's ELF loader
// (hw/i386/x86.c, read_pvh_start_addr) and by Linux (arch/x86/platform/pvh):
// a note owned by "Xen" of type XEN_ELFNOTE_PHYS32_ENTRY whose descriptor is
// the physical address where a vCPU starts in 32-bit protected mode, paging
// off. GOOS=tamago kernels for amd64 carry it so that `qemu -kernel` boots
// them directly; their entry code is written to run in that mode.
const (
	elfNotePVHNameSize = 4  // "Xen\x00"
	elfNotePVHDescSize = 8  // QEMU reads a 64-bit value on ELF64
	elfNotePVHType     = 18 // XEN_ELFNOTE_PHYS32_ENTRY
)

// wantPVHNote reports whether the output carries the PVH entry note.
func wantPVHNote(ctxt *Link) bool {
	return ctxt.HeadType == objabi.Htamago && ctxt.Arch.Family == sys.AMD64 && ctxt.LinkMode != LinkExternal
}

// elfpvhnote reserves room for the note at the end of the header area.
func elfpvhnote(sh *ElfShdr, startva uint64, resoff uint64) int {
	n := int(Rnd(elfNotePVHNameSize, 4) + Rnd(elfNotePVHDescSize, 4))
	return elfnote(sh, startva, resoff, n)
}

// elfwritepvhnote writes the note; the entry point must fit in 32 bits.
func elfwritepvhnote(ctxt *Link) int {
	entry := uint64(Entryvalue(ctxt))
	if entry >= 1<<32 {
		Exitf("PVH entry point %#x is above 4 GiB", entry)
	}
	sh := elfwritenotehdr(ctxt.Out, ".note.pvh", elfNotePVHNameSize, elfNotePVHDescSize, elfNotePVHType)
	ctxt.Out.Write([]byte("Xen\x00"))
	ctxt.Out.Write64(entry)
	return int(sh.Size)
}
