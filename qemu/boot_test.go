package qemu

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The boot tests boot each board's kernel image (make kernel: build/hachi-<arch>.elf)
// and drive its shell. `make test` builds the images first and sets
// HACHI_KERNELS (the directory of the images, then required) and
// HACHI_KERNEL_VERSION (the release the banner must show).

const prompt = "hachi# "

// kernelImage returns the board's image, or skips the test when there is
// none and HACHI_KERNELS does not demand one.
func kernelImage(t *testing.T, b Board) string {
	t.Helper()
	dir := os.Getenv("HACHI_KERNELS")
	required := dir != ""
	if dir == "" {
		root, err := ModuleRoot(".")
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, "build")
	}
	image := filepath.Join(dir, "hachi-"+b.Arch+".elf")
	if _, err := os.Stat(image); err != nil {
		if required {
			t.Fatalf("HACHI_KERNELS=%s: %v", dir, err)
		}
		t.Skipf("no kernel image %s: run `make kernel ARCH=%s` first (`make test` builds both and runs these tests)", image, b.Arch)
	}
	if _, err := exec.LookPath(b.Command(image)[0]); err != nil {
		t.Fatalf("%v (Debian: qemu-system-x86, qemu-system-misc)", err)
	}
	return image
}

// boot starts the board's kernel and waits for the shell's first prompt;
// it returns the machine and the banner.
func boot(t *testing.T, b Board) (*Machine, string) {
	t.Helper()
	image := kernelImage(t, b)
	start := time.Now()
	m, err := Start(b.Command(image))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.Kill()
		if t.Failed() {
			t.Logf("console of the %s kernel:\n%s", b.Arch, m.Log())
		}
	})
	banner, err := m.Expect(prompt, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: QEMU started to the shell's prompt in %v", b.Arch, time.Since(start).Round(time.Millisecond))
	return m, strings.ReplaceAll(banner, "\r\n", "\n")
}

// bootRun runs a shell command and fails the test if the prompt does not come back.
func bootRun(t *testing.T, m *Machine, line string, timeout time.Duration) string {
	t.Helper()
	out, err := m.Run(line, prompt, timeout)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return out
}

// forEachBoard runs test on every board, in parallel.
func forEachBoard(t *testing.T, test func(t *testing.T, b Board)) {
	for _, b := range Boards {
		t.Run(b.Arch, func(t *testing.T) {
			t.Parallel()
			test(t, b)
		})
	}
}

// unameLine is a pattern of what uname -a prints, also the banner's first
// line: "Hachi <release> <machine>".
func unameLine(b Board) string {
	version := `\S+`
	if v := os.Getenv("HACHI_KERNEL_VERSION"); v != "" {
		version = regexp.QuoteMeta(v)
	}
	return `Hachi ` + version + ` ` + regexp.QuoteMeta(b.Machine)
}

// hasLine reports whether text has a line matching pattern.
func hasLine(text, pattern string) bool {
	return regexp.MustCompile(`(?m)^` + pattern + `$`).MatchString(text)
}

func TestBootShell(t *testing.T) {
	forEachBoard(t, func(t *testing.T, b Board) {
		m, banner := boot(t, b)
		if !hasLine(banner, unameLine(b)) {
			t.Errorf("banner lacks %q:\n%s", unameLine(b), banner)
		}
		if out := bootRun(t, m, "uname -a", 10*time.Second); !hasLine(out, unameLine(b)) {
			t.Errorf("uname -a printed %q, want %q", out, unameLine(b))
		}

		cpus := strings.Split(strings.TrimSpace(bootRun(t, m, "cpus", 10*time.Second)), "\n")
		if len(cpus) != b.CPUs {
			t.Errorf("cpus printed %d lines, want %d: %q", len(cpus), b.CPUs, cpus)
		}
		for i, line := range cpus {
			if !strings.HasPrefix(line, fmt.Sprintf("cpu%d: online hwid ", i)) {
				t.Errorf("cpus line %d: %q", i, line)
			}
		}

		mem := bootRun(t, m, "mem", 10*time.Second)
		ram := regexp.MustCompile(`(?m)^ram: +0x([0-9a-f]+)-0x([0-9a-f]+) \((\d+) MiB\)$`).FindStringSubmatch(mem)
		if ram == nil || !regexp.MustCompile(`(?m)^heap: \d+ KiB in use, \d+ KiB from the system, \d+ GCs$`).MatchString(mem) {
			t.Errorf("mem printed %q", mem)
		} else {
			start, _ := strconv.ParseUint(ram[1], 16, 64)
			end, _ := strconv.ParseUint(ram[2], 16, 64)
			if mib, _ := strconv.ParseUint(ram[3], 10, 64); end <= start || (end-start)>>20 != mib {
				t.Errorf("mem: %#x-%#x is not %d MiB", start, end, mib)
			}
			if !strings.Contains(banner, fmt.Sprintf("at %#x-%#x", start, end)) {
				t.Errorf("mem's RAM %#x-%#x is not the banner's:\n%s", start, end, banner)
			}
		}

		// selfcheck measures time.Sleep(200ms) with the kernel's clock
		// (TestBootClock checks that clock against the host's): within
		// 10%, in the best of three runs (a loaded host may delay QEMU
		// once).
		var slept []float64
		for range 3 {
			out := bootRun(t, m, "selfcheck", 2*time.Minute)
			if !hasLine(out, `selfcheck: ok`) {
				t.Errorf("selfcheck:\n%s", out)
				break
			}
			ms := regexp.MustCompile(`(?m)^sleep: time\.Sleep\(200ms\) took (\d+\.\d) ms$`).FindStringSubmatch(out)
			if ms == nil {
				t.Errorf("selfcheck printed no sleep time:\n%s", out)
				break
			}
			v, _ := strconv.ParseFloat(ms[1], 64)
			slept = append(slept, v)
			if v >= 200 && v <= 220 {
				break
			}
		}
		t.Logf("%s: time.Sleep(200ms) took %v ms", b.Arch, slept)
		if len(slept) == 3 {
			t.Errorf("time.Sleep(200ms) took %v ms: never within 10%%", slept)
		}

		// bpftest loads and runs a program that calls bpf_trace_printk;
		// trace prints its line as Linux's trace_pipe does.
		if out := bootRun(t, m, "bpftest", time.Minute); !strings.Contains(out, "bpftest: ok") {
			t.Errorf("bpftest:\n%s", out)
		}
		if out := bootRun(t, m, "trace", 10*time.Second); !hasLine(out, ` +sh-\d+ +\[\d{3}\] \S{5} +\d+\.\d{6}: bpf_trace_printk: bpftest: sh 7\+35`) {
			t.Errorf("trace:\n%s", out)
		}

		if err := m.Send("poweroff\n"); err != nil {
			t.Fatal(err)
		}
		if status, err := m.Wait(time.Minute); err != nil || status != 0 {
			t.Errorf("poweroff: QEMU exit status %d, %v", status, err)
		}
	})
}

// TestBootClock compares the kernel's clock with the host's over about two
// seconds: the guest's delta must be within 10% of the host's.
func TestBootClock(t *testing.T) {
	forEachBoard(t, func(t *testing.T, b Board) {
		m, _ := boot(t, b)
		// sample reads the guest's clock and the host time it was read at
		// (the middle of the round trip, whose length bounds the error).
		sample := func() (guest time.Duration, host time.Time) {
			for range 5 {
				before := time.Now()
				out := bootRun(t, m, "clock", 10*time.Second)
				after := time.Now()
				var ns int64
				if _, err := fmt.Sscanf(strings.TrimSpace(out), "clock: %d", &ns); err != nil {
					t.Fatalf("clock printed %q", out)
				}
				if after.Sub(before) < 100*time.Millisecond {
					return time.Duration(ns), before.Add(after.Sub(before) / 2)
				}
			}
			t.Fatal("clock: every round trip took over 100 ms (host too loaded?)")
			return 0, time.Time{}
		}
		g1, h1 := sample()
		time.Sleep(2 * time.Second)
		g2, h2 := sample()
		guest, host := g2-g1, h2.Sub(h1)
		t.Logf("%s: guest clock advanced %v while the host's advanced %v (%.2f%%)", b.Arch, guest, host, 100*float64(guest-host)/float64(host))
		if guest < host*9/10 || guest > host*11/10 {
			t.Errorf("guest clock advanced %v while the host's advanced %v: more than 10%% apart", guest, host)
		}
	})
}

// TestBootCrash checks that a kernel panic prints the Go panic with its
// stack and that QEMU exits with a failure status.
func TestBootCrash(t *testing.T) {
	forEachBoard(t, func(t *testing.T, b Board) {
		m, _ := boot(t, b)
		if err := m.Send("crash\n"); err != nil {
			t.Fatal(err)
		}
		status, err := m.Wait(time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		log := m.Log()
		if status == 0 {
			t.Errorf("QEMU exit status 0 after a panic")
		}
		for _, want := range []string{"panic: crash command", "goroutine ", "hachi/kernel."} {
			if !strings.Contains(log, want) {
				t.Errorf("console lacks %q", want)
			}
		}
	})
}

// TestMakeQemu runs the README's command, `printf 'uname -a\npoweroff\n' |
// make qemu ARCH=...`, from the module's directory.
func TestMakeQemu(t *testing.T) {
	forEachBoard(t, func(t *testing.T, b Board) {
		image := kernelImage(t, b)
		if _, err := exec.LookPath("make"); err != nil {
			t.Skip("make is not installed")
		}
		root, err := ModuleRoot(".")
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("make", "--no-print-directory", "qemu", "ARCH="+b.Arch)
		cmd.Dir = root
		cmd.Stdin = strings.NewReader("uname -a\npoweroff\n")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err = <-done:
		case <-time.After(5 * time.Minute):
			cmd.Process.Kill()
			t.Fatalf("make qemu ARCH=%s still running after 5 minutes:\n%s", b.Arch, out.String())
		}
		text := strings.ReplaceAll(out.String(), "\r\n", "\n")
		if err != nil {
			t.Fatalf("make qemu ARCH=%s: %v\n%s", b.Arch, err, text)
		}
		if !hasLine(text, `hachi# uname -a\n`+unameLine(b)) {
			t.Errorf("make qemu ARCH=%s (image %s) printed no uname line:\n%s", b.Arch, image, text)
		}
	})
}
