package btf

import (
	"testing"

	"hachi/bpf/log"
	"hachi/syscall/linux"
)

// FuzzLoad feeds arbitrary blobs to Load: it must never panic, and whatever
// it accepts must answer every query without panicking. Seeds are the table
// cases and, when clang is installed, the real blobs.
func FuzzLoad(f *testing.F) {
	for _, tc := range loadCases {
		if raw := tc.blob(); len(raw) <= 1<<16 {
			f.Add(raw)
		}
	}
	for _, raw := range clangSeeds(f) {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		buf := make(log.Buffer, 4096)
		lg, _ := log.New(log.Level1, 1, uint32(len(buf)), buf)
		s, err := Load(raw, lg)
		if err != nil {
			if s != nil {
				t.Fatal("Spec with error")
			}
			return
		}
		exercise(s)
	})
}

// exercise calls every query on every type of an accepted blob.
func exercise(s *Spec) {
	for id := TypeID(0); int(id) <= s.NumTypes(); id++ {
		t, ok := s.TypeByID(id)
		if !ok {
			continue
		}
		_ = t.Name()
		_, _, _ = s.ResolveSize(id)
		_, _ = s.SkipModifiers(id)
		switch t.Kind() {
		case kSTRUCT, kUNION:
			for i := 0; i < t.Vlen(); i++ {
				m := t.Member(i)
				_, _ = s.MemberByName(id, m.Name)
			}
			_, _, _ = s.FindSpinLock(t)
			_, _, _ = s.FindTimer(t)
		case kENUM, kENUM64:
			for i := 0; i < t.Vlen(); i++ {
				_ = t.Enumerator(i)
			}
		case kDATASEC:
			_, _, _ = s.FindSpinLock(t)
		case kFUNC:
			_, _ = s.CheckFuncInfo([]linux.BPFFuncInfo{{InsnOff: 0, TypeID: uint32(id)}}, []uint32{0}, nil)
		}
	}
}
