package shell

import (
	"bytes"
	"strings"
	"testing"
)

func testSystem(poweredOff *bool) System {
	return System{
		Version: "0.1.0",
		Machine: "x86_64",
		CPUs: func() []CPU {
			return []CPU{{ID: 0, HardwareID: 0, Model: "test"}, {ID: 1, HardwareID: 2, Model: "test"}}
		},
		RAM:      func() (uint64, uint64) { return 0x10000000, 2 << 30 },
		Poweroff: func() { *poweredOff = true },
	}
}

// run feeds input to a shell with the system commands and returns what it wrote.
func run(t *testing.T, input string, echo bool) (string, bool) {
	t.Helper()
	var out bytes.Buffer
	off := false
	sh := New(strings.NewReader(input), &out, echo)
	sh.Register(SystemCommands(testSystem(&off))...)
	if err := sh.Run(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return out.String(), off
}

func TestCommands(t *testing.T) {
	tests := []struct {
		input string
		want  []string // lines that must appear in the output
	}{
		{"uname -a\n", []string{"Hachi 0.1.0 x86_64\n"}},
		{"uname\n", []string{Prompt + "Hachi\n"}},
		{"uname -r -m\n", []string{"0.1.0 x86_64\n"}},
		{"uname -x\n", []string{`uname: invalid option "-x"`}},
		{"cpus\n", []string{"cpu0: online hwid 0 test\n", "cpu1: online hwid 2 test\n"}},
		{"mem\n", []string{"ram:  0x10000000-0x90000000 (2048 MiB)\n", "KiB in use"}},
		{"help\n", []string{"cpus ", "uname [-a|-s|-r|-m]", "poweroff "}},
		{"nosuch\n", []string{"nosuch: command not found (try help)\n"}},
		{"\n\n  \n", []string{Prompt + Prompt + Prompt}},
		{"uname -a", []string{"Hachi 0.1.0 x86_64\n"}}, // no final newline
		{"uname -a\r\nuname -r\r\n", []string{Prompt + "Hachi 0.1.0 x86_64\n" + Prompt + "0.1.0\n" + Prompt}},
		{"unamX\bE\x7f\x7fme -m\n", []string{Prompt + "x86_64\n"}},
	}
	for _, tt := range tests {
		got, _ := run(t, tt.input, false)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("input %q: output %q lacks %q", tt.input, got, w)
			}
		}
	}
}

func TestPoweroffStopsTheShell(t *testing.T) {
	got, off := run(t, "poweroff\nuname -a\n", false)
	if !off {
		t.Fatal("poweroff did not call System.Poweroff")
	}
	if strings.Contains(got, "Hachi") {
		t.Errorf("shell ran a command after poweroff: %q", got)
	}
}

func TestEcho(t *testing.T) {
	got, _ := run(t, "unx\bame -s\n", true)
	want := Prompt + "unx\b \bame -s\nHachi\n" + Prompt + "\n"
	if got != want {
		t.Errorf("echo: got %q, want %q", got, want)
	}
}

// help lines up every command's text after the longest synopsis.
func TestHelpAligned(t *testing.T) {
	var out bytes.Buffer
	sh := New(strings.NewReader("help\n"), &out, false)
	off := false
	sh.Register(SystemCommands(testSystem(&off))...)
	sh.Register(Command{Name: "count", Usage: "[-r] SYMBOL[+OFF] SECONDS", Help: "count hits"})
	if err := sh.Run(); err != nil {
		t.Fatal(err)
	}
	col := -1
	for _, line := range strings.Split(strings.TrimPrefix(out.String(), Prompt), "\n") {
		if line == "" || strings.HasPrefix(line, Prompt) {
			continue
		}
		i := strings.Index(line, "  ")
		for i >= 0 && i+1 < len(line) && line[i+1] == ' ' {
			i++
		}
		if col < 0 {
			col = i
		}
		if i != col {
			t.Errorf("help text at column %d, want %d: %q", i, col, line)
		}
	}
	if !strings.Contains(out.String(), "count [-r] SYMBOL[+OFF] SECONDS  count hits\n") {
		t.Errorf("help:\n%s", out.String())
	}
}
