package qemu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"hachi/qemu/guest"
)

// Board is a machine Hachi runs on under QEMU (TCG, never KVM): how its
// kernel is built and how the emulator is started. It is the one definition
// that `make kernel`, `make qemu` (through cmd/hachi-qemu), the boot tests
// and the in-guest tests (qemu/guesttest) use.
type Board struct {
	// Arch is the GOARCH.
	Arch string
	// Package is the kernel's main package, relative to the module root.
	Package string
	// Machine is the hardware name the kernel's uname -m prints.
	Machine string
	// CPUs is how many CPUs run Go code (QEMU starts that many or more).
	CPUs int
	// LDFlags are the linker flags of every image for the board (kernel
	// and test binaries): -T is the text address, RAM start + 64 KiB, in
	// the RAM layout of arch/<arch>; -R the page rounding.
	LDFlags []string

	emulator []string // the QEMU command line, before the image
	image    func(file string) []string
}

// Boards are the supported boards, one per architecture.
var Boards = []Board{
	{
		Arch:    "amd64",
		Package: "./boot/microvm",
		Machine: "x86_64",
		CPUs:    2,
		LDFlags: []string{"-T", "0x10010000", "-R", "0x1000"},
		// pit=on: the TSC is calibrated against the PIT. -no-reboot: the
		// triple fault of a clean power-off ends QEMU with status 0;
		// isa-debug-exit gives a failure its status.
		emulator: []string{"qemu-system-x86_64", "-M", "microvm,pit=on", "-cpu", "max", "-smp", "2", "-m", "2G",
			"-no-reboot", "-display", "none", "-monitor", "none", "-serial", "stdio", "-device", "isa-debug-exit"},
		image: func(file string) []string { return []string{"-kernel", file} },
	},
	{
		Arch:    "riscv64",
		Package: "./boot/sifive_u",
		Machine: "riscv64",
		CPUs:    1,
		LDFlags: []string{"-T", "0x80010000", "-R", "0x1000"},
		// Hart 1 runs the kernel; hart 0 (the E51, which cannot run Go)
		// is parked by the first loader, which writes "wfi; j .-4" where
		// the reset vector sends it. 1 GiB: the runtime has the first
		// 512 MiB, test archives the next (qemu/guest.ArchiveAddr).
		// Semihosting carries the exit status.
		emulator: []string{"qemu-system-riscv64", "-M", "sifive_u", "-smp", "2", "-m", "1G", "-bios", "none",
			"-semihosting-config", "enable=on,target=native", "-display", "none", "-monitor", "none",
			"-serial", "stdio", "-nic", "none",
			"-device", "loader,addr=0x80000000,data=0xffdff06f10500073,data-len=8"},
		image: func(file string) []string { return []string{"-device", "loader,cpu-num=1,file=" + file} },
	},
}

// LookupBoard returns the board of arch.
func LookupBoard(arch string) (Board, error) {
	for _, b := range Boards {
		if b.Arch == arch {
			return b, nil
		}
	}
	return Board{}, fmt.Errorf("qemu: no board for ARCH=%s (amd64 or riscv64)", arch)
}

// Command returns the emulator command line that boots image, an ELF file
// built for the board, with its console on standard input and output.
func (b Board) Command(image string) []string {
	argv := append([]string(nil), b.emulator...)
	return append(argv, b.image(image)...)
}

// TestCommand is Command with archive (qemu/guest's format) loaded into RAM
// where the guest side of a test binary looks for it.
func (b Board) TestCommand(image, archive string) ([]string, error) {
	addr, _, err := guest.ArchiveAddr(b.Arch)
	if err != nil {
		return nil, err
	}
	return append(b.Command(image), "-device", fmt.Sprintf("loader,file=%s,addr=%#x,force-raw=on", archive, addr)), nil
}

// Toolchain is the GOOS=tamago Go toolchain (toolchain/README.md).
type Toolchain struct {
	// GOROOT is its root; GOROOT/bin/go is the go command.
	GOROOT string
}

// FindToolchain asks toolchain/build.sh --check under the module root for
// the toolchain (it honours $TAMAGO); it builds nothing.
func FindToolchain(moduleRoot string) (Toolchain, error) {
	cmd := exec.Command(filepath.Join(moduleRoot, "toolchain", "build.sh"), "--check")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return Toolchain{}, fmt.Errorf("qemu: no GOOS=tamago toolchain (make toolchain): %w", err)
	}
	return Toolchain{GOROOT: strings.TrimSpace(string(out))}, nil
}

// Go returns a go command of the toolchain for the board, run in dir and
// killed if ctx is done first.
func (t Toolchain) Go(ctx context.Context, b Board, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(t.GOROOT, "bin", "go"), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=tamago", "GOARCH="+b.Arch,
		"GOOSPKG=github.com/usbarmory/tamago", "GOROOT="+t.GOROOT, "GOTOOLCHAIN=local", "CGO_ENABLED=0")
	return cmd
}

// BuildKernel builds the board's kernel image into out; version is the
// kernel release (kernel.Version).
func (t Toolchain) BuildKernel(ctx context.Context, b Board, moduleRoot, version, out string) error {
	ldflags := strings.Join(b.LDFlags, " ") + " -X hachi/kernel.Version=" + version
	cmd := t.Go(ctx, b, moduleRoot, "build", "-ldflags", ldflags, "-o", out, b.Package)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("qemu: building the %s kernel: %w", b.Arch, err)
	}
	return nil
}

// ModuleRoot returns the directory of the go.mod above dir.
func ModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("qemu: no go.mod above the working directory")
		}
		dir = parent
	}
}
