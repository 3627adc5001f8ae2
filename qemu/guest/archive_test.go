package guest

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestArchiveRoundTrip(t *testing.T) {
	m := Manifest{Program: "/m/build/p.test", Dir: "/m/p", Args: []string{"-test.short", "-test.run=^TestA$"}}
	files := []File{
		{Name: "m/p", Mode: 0o755, Dir: true},
		{Name: "m/p/testdata/a.txt", Mode: 0o644, Data: []byte("hello\n")},
		{Name: "m/p/link", Mode: 0o777, Link: "testdata/a.txt"},
		{Name: "m/build/p.test", Mode: 0o755, Data: bytes.Repeat([]byte{0x7f}, 3000)},
	}
	var buf bytes.Buffer
	if err := Write(&buf, m, files); err != nil {
		t.Fatal(err)
	}
	// RAM after the archive holds anything: Read must stop at its end.
	ram := append(buf.Bytes(), bytes.Repeat([]byte{0xff}, 4096)...)
	var got []File
	gotM, err := Read(ram, func(f File) error {
		got = append(got, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotM, m) {
		t.Errorf("manifest %+v, want %+v", gotM, m)
	}
	for i := range got {
		if len(got[i].Data) == 0 {
			got[i].Data = nil
		}
	}
	if !reflect.DeepEqual(got, files) {
		t.Errorf("files %+v, want %+v", got, files)
	}
}

func TestArchiveErrors(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, Manifest{Program: "/p.test", Dir: "/p"}, nil); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	for _, tt := range []struct {
		name    string
		archive []byte
		want    string
	}{
		{"zero RAM", make([]byte, 64), "magic not found"},
		{"truncated", good[:len(good)-600], "truncated"},
		{"huge size", append([]byte(Magic), 0, 0, 0, 0, 0, 0, 0, 0xff), "not plausible"},
	} {
		_, err := Read(tt.archive, func(File) error { return nil })
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
	for _, m := range []Manifest{{Program: "rel.test", Dir: "/p"}, {Program: "/p.test", Dir: ""}, {Program: "/p.test", Dir: "/p", Args: []string{"a\nb"}}} {
		if _, err := m.Encode(); err == nil {
			t.Errorf("Encode(%+v) accepted", m)
		}
	}
	if _, err := ParseManifest([]byte("program /p.test\nbogus\n")); err == nil {
		t.Error("ParseManifest accepted a bad line")
	}
}

func TestArchiveAddr(t *testing.T) {
	for _, arch := range []string{"amd64", "riscv64"} {
		if addr, size, err := ArchiveAddr(arch); err != nil || addr == 0 || size < 64<<20 {
			t.Errorf("%s: %#x %#x %v", arch, addr, size, err)
		}
	}
	if _, _, err := ArchiveAddr("mips"); err == nil {
		t.Error("mips has an address")
	}
}
