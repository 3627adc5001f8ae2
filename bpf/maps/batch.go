package maps

import "hachi/syscall/linux"

// lookupRetries is MAP_LOOKUP_RETRIES: how often a batch lookup retries a
// key that vanished between next-key and lookup before giving up (EINTR).
const lookupRetries = 3

// batchElemFlags checks elem_flags of a batch: only BPF_F_LOCK is known and
// no value here has the bpf_spin_lock it needs.
func batchElemFlags(flags uint64) error {
	if flags != 0 {
		return linux.EINVAL
	}
	return nil
}

// genericLookupBatch is kernel/bpf/syscall.c:generic_map_lookup_batch: it
// walks NextKey from inBatch (a key) and copies elements until count; the
// position returned is the last key copied. ENOENT ends the walk.
func genericLookupBatch(m Map, inBatch, keys, values []byte, count uint32, elemFlags uint64) (uint32, []byte, error) {
	if err := batchElemFlags(elemFlags); err != nil {
		return 0, nil, err
	}
	if count == 0 {
		return 0, nil, nil
	}
	info := m.Info()
	ks, vs := int(info.KeySize), info.SyscallValueSize()
	var prev []byte
	if inBatch != nil {
		prev = append([]byte(nil), inBatch[:ks]...)
	}
	key := make([]byte, ks)
	var cp uint32
	var err error
	for retry := lookupRetries; cp < count; {
		if err = m.NextKey(prev, key); err != nil {
			break
		}
		err = m.Lookup(key, values[int(cp)*vs:][:vs], 0)
		if err == linux.ENOENT {
			if retry > 0 {
				retry--
				continue
			}
			err = linux.EINTR
			break
		}
		if err != nil {
			return cp, nil, err
		}
		copy(keys[int(cp)*ks:], key)
		if prev == nil {
			prev = make([]byte, ks)
		}
		prev, key = key, prev
		retry = lookupRetries
		cp++
	}
	if cp == 0 {
		return 0, nil, err
	}
	return cp, prev, err
}

// genericUpdateBatch is generic_map_update_batch: elements in order, BPF_ANY,
// stopping at the first failure.
func genericUpdateBatch(m Map, keys, values []byte, count uint32, elemFlags uint64) (uint32, error) {
	if err := batchElemFlags(elemFlags); err != nil {
		return 0, err
	}
	info := m.Info()
	ks, vs := int(info.KeySize), info.SyscallValueSize()
	for cp := uint32(0); cp < count; cp++ {
		if err := m.Update(keys[int(cp)*ks:][:ks], values[int(cp)*vs:][:vs], elemFlags); err != nil {
			return cp, err
		}
	}
	return count, nil
}

// genericDeleteBatch is generic_map_delete_batch.
func genericDeleteBatch(m Map, keys []byte, count uint32, elemFlags uint64) (uint32, error) {
	if err := batchElemFlags(elemFlags); err != nil {
		return 0, err
	}
	ks := int(m.Info().KeySize)
	for cp := uint32(0); cp < count; cp++ {
		if err := m.Delete(keys[int(cp)*ks:][:ks]); err != nil {
			return cp, err
		}
	}
	return count, nil
}
