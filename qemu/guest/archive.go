// Package guest is what a test binary needs to run inside QEMU as a Hachi
// guest: on GOOS=tamago, importing it brings in the board of GOARCH
// (arch/amd64 for QEMU microvm, arch/riscv64 for sifive_u), fills the
// in-memory file system from the test archive QEMU loaded into RAM, moves into
// the package's directory and sets the test flags, all before the tested
// package initializes. The host side (qemu/guesttest) adds it to each test
// binary with `go test -c -overlay`: no package carries code for it.
//
// The archive format and the address it is loaded at, per architecture, are
// defined here for both sides; this part is portable.
package guest

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The archive in guest RAM: a 16-byte header (Magic, then the length of the
// tar data as a little-endian uint64) followed by the tar data. Its first
// member is the manifest (ManifestName), then the files.
const (
	Magic        = "HACHITST"
	HeaderSize   = 16
	ManifestName = ".hachi-guest"
)

// ArchiveAddr returns the physical address where QEMU loads the test archive
// on the board of arch (a GOARCH), and the most bytes it may take there. The
// region lies in the emulator's RAM above what the runtime is given
// (goos.RamStart+RamSize in arch/<arch>), so the heap never reaches it;
// the guest side checks that at start-up.
//
//   - amd64 (microvm, -m 2G): the runtime has 0x10000000-0x50000000, the
//     archive 0x60000000-0x80000000 (identity-mapped by TamaGo's page tables,
//     which cover the first 4 GiB).
//   - riscv64 (sifive_u, -m 1G from 0x80000000): the runtime has
//     0x80000000-0xa0000000, the archive 0xa0000000-0xc0000000 (machine mode,
//     no translation).
func ArchiveAddr(arch string) (addr, size uint64, err error) {
	switch arch {
	case "amd64":
		return 0x60000000, 0x20000000, nil
	case "riscv64":
		return 0xa0000000, 0x20000000, nil
	}
	return 0, 0, fmt.Errorf("guest: no test archive address for GOARCH=%s", arch)
}

// Manifest says how to start the test binary.
type Manifest struct {
	// Program is the absolute guest path of the test binary itself,
	// os.Args[0] (os.Executable then finds it, as on OpenBSD).
	Program string
	// Dir is the absolute guest path of the tested package's directory,
	// the working directory of its tests.
	Dir string
	// Args are the command-line arguments after the program name
	// (-test.v, -test.short, -test.run=...).
	Args []string
}

// Encode returns the manifest as text: "program PATH", "dir PATH", then
// one "arg ARG" line per argument (arguments cannot hold a newline).
func (m Manifest) Encode() ([]byte, error) {
	var b bytes.Buffer
	for _, p := range []string{m.Program, m.Dir} {
		if !strings.HasPrefix(p, "/") || strings.Contains(p, "\n") {
			return nil, fmt.Errorf("guest: manifest path %q is not an absolute path on one line", p)
		}
	}
	fmt.Fprintf(&b, "program %s\ndir %s\n", m.Program, m.Dir)
	for _, a := range m.Args {
		if strings.Contains(a, "\n") {
			return nil, fmt.Errorf("guest: argument %q holds a newline", a)
		}
		fmt.Fprintf(&b, "arg %s\n", a)
	}
	return b.Bytes(), nil
}

// ParseManifest reads what Encode wrote.
func ParseManifest(text []byte) (Manifest, error) {
	var m Manifest
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), " ")
		switch {
		case ok && key == "program":
			m.Program = value
		case ok && key == "dir":
			m.Dir = value
		case ok && key == "arg":
			m.Args = append(m.Args, value)
		default:
			return Manifest{}, fmt.Errorf("guest: bad manifest line %q", sc.Text())
		}
	}
	if m.Program == "" || m.Dir == "" {
		return Manifest{}, errors.New("guest: manifest lacks its program or dir line")
	}
	return m, nil
}

// Header returns the archive header for size bytes of tar data.
func Header(size int) []byte {
	h := make([]byte, HeaderSize)
	copy(h, Magic)
	binary.LittleEndian.PutUint64(h[8:], uint64(size))
	return h
}

// ParseHeader checks an archive header and returns the tar data's size.
func ParseHeader(h []byte) (int, error) {
	if len(h) < HeaderSize || string(h[:len(Magic)]) != Magic {
		return 0, errors.New("guest: no test archive (magic not found)")
	}
	size := binary.LittleEndian.Uint64(h[8:])
	if size > 1<<40 {
		return 0, fmt.Errorf("guest: test archive size %d is not plausible", size)
	}
	return int(size), nil
}

// File is one member of an archive written by Write.
type File struct {
	Name string // slash-separated, relative to / in the guest
	Mode int64  // permission bits
	Dir  bool
	Link string // the target, for a symbolic link
	Data []byte
}

// Write writes a whole archive (header, manifest, files) to w.
func Write(w io.Writer, m Manifest, files []File) error {
	manifest, err := m.Encode()
	if err != nil {
		return err
	}
	var data bytes.Buffer
	tw := tar.NewWriter(&data)
	entries := append([]File{{Name: ManifestName, Mode: 0o644, Data: manifest}}, files...)
	for _, f := range entries {
		h := &tar.Header{Name: f.Name, Mode: f.Mode, Size: int64(len(f.Data)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		switch {
		case f.Dir:
			h.Typeflag, h.Size = tar.TypeDir, 0
		case f.Link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, f.Link, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(f.Data); err != nil {
				return err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if _, err := w.Write(Header(data.Len())); err != nil {
		return err
	}
	_, err = w.Write(data.Bytes())
	return err
}

// Read parses an archive (header and tar data): the manifest, then each
// file in order through fn.
func Read(archive []byte, fn func(File) error) (Manifest, error) {
	size, err := ParseHeader(archive)
	if err != nil {
		return Manifest{}, err
	}
	if size > len(archive)-HeaderSize {
		return Manifest{}, fmt.Errorf("guest: test archive of %d bytes truncated to %d", size, len(archive)-HeaderSize)
	}
	tr := tar.NewReader(bytes.NewReader(archive[HeaderSize : HeaderSize+size]))
	var m Manifest
	for first := true; ; first = false {
		h, err := tr.Next()
		if err == io.EOF {
			if first {
				return Manifest{}, errors.New("guest: empty test archive")
			}
			return m, nil
		}
		if err != nil {
			return Manifest{}, err
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return Manifest{}, err
		}
		if first {
			if h.Name != ManifestName {
				return Manifest{}, fmt.Errorf("guest: test archive starts with %q, not the manifest", h.Name)
			}
			if m, err = ParseManifest(data); err != nil {
				return Manifest{}, err
			}
			continue
		}
		f := File{Name: h.Name, Mode: h.Mode & 0o7777, Data: data}
		switch h.Typeflag {
		case tar.TypeDir:
			f.Dir = true
		case tar.TypeSymlink:
			f.Link = h.Linkname
		case tar.TypeReg:
		default:
			return Manifest{}, fmt.Errorf("guest: %s: tar member type %q not supported", h.Name, h.Typeflag)
		}
		if err := fn(f); err != nil {
			return Manifest{}, err
		}
	}
}
