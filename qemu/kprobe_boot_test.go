package qemu

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Boot tests of the tracing commands: the shell's ksyms, count and
// profile, on both boards' kernels (see boot_test.go for how the images
// are found).

var countLine = regexp.MustCompile(`(?m)^(cpu\d+|total): (\d+)$`)

// counts parses count's output: the count of each CPU and the total.
func counts(t *testing.T, out string) map[string]uint64 {
	t.Helper()
	c := map[string]uint64{}
	for _, m := range countLine.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.ParseUint(m[2], 10, 64)
		c[m[1]] = n
	}
	if _, ok := c["total"]; !ok {
		t.Fatalf("no total in %q", out)
	}
	return c
}

func TestBootKprobes(t *testing.T) {
	forEachBoard(t, func(t *testing.T, b Board) {
		m, _ := boot(t, b)
		out := bootRun(t, m, "ksyms runtime.mallocgc", 30*time.Second)
		if !hasLine(out, `[0-9a-f]{16} T runtime\.mallocgc`) {
			t.Errorf("ksyms runtime.mallocgc:\n%s", out)
		}
		out = bootRun(t, m, "ksyms hachi/kprobe.*Trap", 30*time.Second)
		if !hasLine(out, `[0-9a-f]{16} T hachi/kprobe\.\(\*Manager\)\.Trap`) {
			t.Errorf("ksyms with a glob:\n%s", out)
		}

		c := counts(t, bootRun(t, m, "count runtime.mallocgc 1", time.Minute))
		t.Logf("count runtime.mallocgc 1: %v", c)
		if c["total"] == 0 {
			t.Error("no hit of runtime.mallocgc in a second")
		}
		c = counts(t, bootRun(t, m, "count -r runtime.mallocgc 1", time.Minute))
		if c["total"] == 0 {
			t.Error("no return of runtime.mallocgc in a second")
		}
		// Every idle CPU calls the board's idle function: hits on every
		// CPU.
		c = counts(t, bootRun(t, m, "count hachi/arch/"+b.Arch+".idle 1", time.Minute))
		t.Logf("count idle 1: %v", c)
		for cpu := range b.CPUs {
			if c["cpu"+strconv.Itoa(cpu)] == 0 {
				t.Errorf("no hit of idle on CPU %d: %v", cpu, c)
			}
		}

		// profile samples every CPU at 1000 Hz with a PERF_EVENT program
		// on CPU clock events (the board's sampling timer): an idle
		// kernel's samples name its idle path.
		out = bootRun(t, m, "profile -F 1000 1", time.Minute)
		t.Logf("profile -F 1000 1:\n%s", out)
		samples := regexp.MustCompile(`(?m)^profile: (\d+) samples, \d+ addresses, \d+ functions$`).FindStringSubmatch(out)
		if samples == nil {
			t.Errorf("profile printed no sample count:\n%s", out)
		} else if n, _ := strconv.Atoi(samples[1]); n < 100*b.CPUs {
			t.Errorf("profile: %d samples in a second at 1000 Hz on %d CPUs, want at least %d", n, b.CPUs, 100*b.CPUs)
		}
		if !hasLine(out, ` +\d+ +\d+\.\d% +hachi/arch/`+b.Arch+`\.\S+`) {
			t.Errorf("profile: no sample in hachi/arch/%s (the idle path):\n%s", b.Arch, out)
		}

		for line, want := range map[string]string{
			"count runtime.mallocgc+1 1":           "Invalid or incomplete multibyte or wide character", // EILSEQ
			"count runtime.morestack 1":            "Invalid argument",                                  // NOKPROBE
			"count hachi/kprobe.(*Manager).Trap 1": "Invalid argument",
			"count no.such.function 1":             "No such file or directory", // ENOENT
			"count -r runtime.mallocgc+0x10 1":     "Invalid argument",
		} {
			if out := bootRun(t, m, line, time.Minute); !strings.Contains(out, want) {
				t.Errorf("%s: %q, want %q", line, out, want)
			}
		}
		if err := m.Send("poweroff\n"); err != nil {
			t.Fatal(err)
		}
		if status, err := m.Wait(time.Minute); err != nil || status != 0 {
			t.Errorf("poweroff: status %d, %v", status, err)
		}
	})
}
