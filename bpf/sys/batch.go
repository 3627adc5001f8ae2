package sys

import (
	"unsafe"

	"hachi/bpf/maps"
	"hachi/syscall/linux"
)

// Offsets of the batch fields bpf(2) writes back.
var (
	batchCountOff = unsafe.Offsetof(linux.BPFAttrBatch{}.Count)
)

// mapBatch is BPF_MAP_{LOOKUP,LOOKUP_AND_DELETE,UPDATE,DELETE}_BATCH
// (bpf_map_do_batch). Kinds without batch operations answer ENOTSUPP, as
// maps without the op do in Linux; update and delete go element by
// element (generic_map_update_batch, generic_map_delete_batch), lookups
// through the kind's own walk (generic_map_lookup_batch for arrays,
// htab_map_lookup_batch's bucket walk for hashes).
func (c *call) mapBatch() (int, error) {
	a := c.attr.batch()
	read := c.cmd == linux.BPF_MAP_LOOKUP_BATCH || c.cmd == linux.BPF_MAP_LOOKUP_AND_DELETE_BATCH
	write := c.cmd != linux.BPF_MAP_LOOKUP_BATCH
	m, p, err := c.mapFileFromFD(a.MapFD)
	if err != nil {
		return -1, err
	}
	defer m.put()
	if read && !p.read || write && !p.write {
		return -1, linux.EPERM
	}
	b, ok := m.kind.(maps.Batcher)
	if !ok {
		return -1, linux.ENOTSUPP
	}
	switch c.cmd {
	case linux.BPF_MAP_LOOKUP_BATCH:
		return 0, c.lookupBatch(m, b, a, false)
	case linux.BPF_MAP_UPDATE_BATCH:
		return 0, c.updateBatch(m, a)
	}
	// Only hash tables delete in batches (arrays have neither
	// map_lookup_and_delete_batch nor map_delete_batch).
	if _, ok := m.kind.(*maps.Hash); !ok {
		return -1, linux.ENOTSUPP
	}
	if c.cmd == linux.BPF_MAP_LOOKUP_AND_DELETE_BATCH {
		return 0, c.lookupBatch(m, b, a, true)
	}
	return 0, c.deleteBatch(m, a)
}

// lookupBatch copies out what the kind's batch walk returns: keys, values,
// the count (written first as 0, as Linux does) and out_batch.
func (c *call) lookupBatch(m *Map, b maps.Batcher, a *linux.BPFAttrBatch, del bool) error {
	if a.ElemFlags&^linux.BPF_F_LOCK != 0 {
		return linux.EINVAL
	}
	if a.ElemFlags&linux.BPF_F_LOCK != 0 {
		return linux.EINVAL // no bpf_spin_lock in values the syscall side knows
	}
	if a.Count == 0 {
		return nil
	}
	if err := c.putU32(batchCountOff, 0); err != nil {
		return linux.EFAULT
	}
	ks, vs := int(m.info.KeySize), m.info.SyscallValueSize()
	var inBatch []byte
	if a.InBatch != 0 {
		inBatch = make([]byte, batchTokenSize(m))
		if err := c.t.Mem.CopyIn(a.InBatch, inBatch); err != nil {
			return linux.EFAULT
		}
	}
	// No walk returns more elements than the map holds: bound the
	// kernel buffers by max_entries, not by the caller's count.
	count := min(a.Count, max(m.info.MaxEntries, 1))
	keys := make([]byte, int(count)*ks)
	values := make([]byte, int(count)*vs)
	n, out, err := b.LookupBatch(inBatch, keys, values, count, del, a.ElemFlags)
	if err != nil && err != linux.ENOENT && err != linux.ENOSPC {
		return err
	}
	if cerr := c.t.Mem.CopyOut(a.Keys, keys[:int(n)*ks]); cerr != nil {
		return linux.EFAULT
	}
	if cerr := c.t.Mem.CopyOut(a.Values, values[:int(n)*vs]); cerr != nil {
		return linux.EFAULT
	}
	if cerr := c.putU32(batchCountOff, n); cerr != nil {
		return linux.EFAULT
	}
	// The generic walk reports its position only after copying
	// something; the hash walk always does (htab_map_lookup_batch).
	_, isHash := m.kind.(*maps.Hash)
	if out != nil && (n > 0 || isHash) {
		if cerr := c.t.Mem.CopyOut(a.OutBatch, out); cerr != nil {
			return linux.EFAULT
		}
	}
	return err
}

// batchTokenSize is the size of in_batch/out_batch: a key for the
// generic walk, a u32 bucket index for hashes.
func batchTokenSize(m *Map) int {
	switch m.info.Type {
	case linux.BPF_MAP_TYPE_HASH, linux.BPF_MAP_TYPE_PERCPU_HASH, linux.BPF_MAP_TYPE_LRU_HASH,
		linux.BPF_MAP_TYPE_LRU_PERCPU_HASH, linux.BPF_MAP_TYPE_HASH_OF_MAPS:
		return 4
	}
	return int(m.info.KeySize)
}

// updateBatch is generic_map_update_batch.
func (c *call) updateBatch(m *Map, a *linux.BPFAttrBatch) error {
	if a.ElemFlags&^linux.BPF_F_LOCK != 0 || a.ElemFlags&linux.BPF_F_LOCK != 0 {
		return linux.EINVAL
	}
	if a.Count == 0 {
		return nil
	}
	if err := c.putU32(batchCountOff, 0); err != nil {
		return linux.EFAULT
	}
	ks, vs := uint64(m.info.KeySize), uint64(m.info.SyscallValueSize())
	key, value := make([]byte, ks), make([]byte, vs)
	var cp uint32
	var err error
	for cp = 0; cp < a.Count; cp++ {
		if c.t.Mem.CopyIn(a.Keys+uint64(cp)*ks, key) != nil || c.t.Mem.CopyIn(a.Values+uint64(cp)*vs, value) != nil {
			err = linux.EFAULT
			break
		}
		if err = c.updateValue(m, key, value, a.ElemFlags); err != nil {
			break
		}
	}
	if c.putU32(batchCountOff, cp) != nil {
		return linux.EFAULT
	}
	return err
}

// deleteBatch is generic_map_delete_batch.
func (c *call) deleteBatch(m *Map, a *linux.BPFAttrBatch) error {
	if a.ElemFlags&^linux.BPF_F_LOCK != 0 || a.ElemFlags&linux.BPF_F_LOCK != 0 {
		return linux.EINVAL
	}
	if a.Count == 0 {
		return nil
	}
	if err := c.putU32(batchCountOff, 0); err != nil {
		return linux.EFAULT
	}
	ks := uint64(m.info.KeySize)
	key := make([]byte, ks)
	var cp uint32
	var err error
	for cp = 0; cp < a.Count; cp++ {
		if c.t.Mem.CopyIn(a.Keys+uint64(cp)*ks, key) != nil {
			err = linux.EFAULT
			break
		}
		if err = m.deleteElem(key); err != nil {
			break
		}
	}
	if c.putU32(batchCountOff, cp) != nil {
		return linux.EFAULT
	}
	return err
}
