package btf

import (
	"encoding/binary"

	"hachi/syscall/linux"
)

// builder assembles raw BTF blobs for table tests: a string section, type
// records as u32 words, and a header whose fields a test may override.
type builder struct {
	strs  []byte
	words []uint32
	hdr   linux.BTFHeader
	// tail is appended after the string section (for "not at the end").
	tail []byte
}

func newBuilder() *builder {
	return &builder{strs: []byte{0}}
}

// str adds a string and returns its offset.
func (b *builder) str(s string) uint32 {
	off := uint32(len(b.strs))
	b.strs = append(append(b.strs, s...), 0)
	return off
}

// info packs btf_type.info.
func info(kind, vlen uint32, kflag bool) uint32 {
	v := kind<<24 | vlen
	if kflag {
		v |= 1 << 31
	}
	return v
}

// add appends one record: name, info, size/type, then kind data.
func (b *builder) add(name uint32, inf uint32, sizeOrType uint32, extra ...uint32) *builder {
	b.words = append(b.words, name, inf, sizeOrType)
	b.words = append(b.words, extra...)
	return b
}

// intType adds "int"-like INT of size bytes, signed.
func (b *builder) intType(name string, size uint32) *builder {
	return b.add(b.str(name), info(linux.BTF_KIND_INT, 0, false), size, linux.BTF_INT_SIGNED<<24|size*8)
}

// bytes returns the blob; header fields left zero get their natural values.
func (b *builder) bytes() []byte {
	typeLen := uint32(4 * len(b.words))
	h := linux.BTFHeader{Magic: linux.BTF_MAGIC, Version: 1, HdrLen: 24,
		TypeOff: 0, TypeLen: typeLen, StrOff: typeLen, StrLen: uint32(len(b.strs))}
	o := b.hdr
	if o.Magic != 0 {
		h.Magic = o.Magic
	}
	if o.Version != 0 {
		h.Version = o.Version
	}
	h.Flags = o.Flags
	if o.HdrLen != 0 {
		h.HdrLen = o.HdrLen
	}
	if o.TypeOff != 0 {
		h.TypeOff = o.TypeOff
	}
	if o.TypeLen != 0 {
		h.TypeLen = o.TypeLen
	}
	if o.StrOff != 0 {
		h.StrOff = o.StrOff
	}
	if o.StrLen != 0 {
		h.StrLen = o.StrLen
	}
	out := make([]byte, 24, 24+typeLen+uint32(len(b.strs)))
	binary.LittleEndian.PutUint16(out[0:], h.Magic)
	out[2], out[3] = h.Version, h.Flags
	binary.LittleEndian.PutUint32(out[4:], h.HdrLen)
	binary.LittleEndian.PutUint32(out[8:], h.TypeOff)
	binary.LittleEndian.PutUint32(out[12:], h.TypeLen)
	binary.LittleEndian.PutUint32(out[16:], h.StrOff)
	binary.LittleEndian.PutUint32(out[20:], h.StrLen)
	for _, w := range b.words {
		out = binary.LittleEndian.AppendUint32(out, w)
	}
	out = append(out, b.strs...)
	return append(out, b.tail...)
}
