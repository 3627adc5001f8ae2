package qemu

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for an emulator: with
// HACHI_FAKE_CONSOLE set it behaves as a kernel shell on its console.
func TestMain(m *testing.M) {
	if os.Getenv("HACHI_FAKE_CONSOLE") != "" {
		fakeConsole()
		return
	}
	os.Exit(m.Run())
}

// fakeConsole prints a banner and a prompt, echoes each line, answers
// "hello" and "panic", and exits 0 on "poweroff".
func fakeConsole() {
	fmt.Print("booting\r\nhachi# ")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		line := in.Text()
		fmt.Print(line + "\r\n")
		switch line {
		case "hello":
			fmt.Print("hello, world\r\n")
		case "sleep":
			time.Sleep(time.Hour)
		case "panic":
			fmt.Print("panic: oops\r\n")
			os.Exit(3)
		case "poweroff":
			os.Exit(0)
		}
		fmt.Print("hachi# ")
	}
}

func startFake(t *testing.T) *Machine {
	t.Helper()
	t.Setenv("HACHI_FAKE_CONSOLE", "1")
	m, err := Start([]string{os.Args[0]})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Kill)
	if _, err := m.Expect("hachi# ", 10*time.Second); err != nil {
		t.Fatalf("%v\nconsole:\n%s", err, m.Log())
	}
	return m
}

func TestRunAndPoweroff(t *testing.T) {
	m := startFake(t)
	out, err := m.Run("hello", "hachi# ", 10*time.Second)
	if err != nil || out != "hello, world\n" {
		t.Fatalf("Run(hello) = %q, %v\nconsole:\n%s", out, err, m.Log())
	}
	if err := m.Send("poweroff\n"); err != nil {
		t.Fatal(err)
	}
	status, err := m.Wait(10 * time.Second)
	if err != nil || status != 0 {
		t.Fatalf("Wait = %d, %v", status, err)
	}
	if !strings.Contains(m.Log(), "booting") {
		t.Errorf("log lacks the banner: %q", m.Log())
	}
}

func TestExpectSeesExit(t *testing.T) {
	m := startFake(t)
	m.Send("panic\n")
	if _, err := m.Expect("never printed", 10*time.Second); err == nil || !strings.Contains(err.Error(), "exited (status 3)") {
		t.Fatalf("Expect after exit: %v", err)
	}
	if status, _ := m.Wait(time.Second); status != 3 {
		t.Errorf("status %d, want 3", status)
	}
}

func TestTimeouts(t *testing.T) {
	m := startFake(t)
	if _, err := m.Run("sleep", "hachi# ", 200*time.Millisecond); err == nil || !strings.Contains(err.Error(), "not printed within") {
		t.Fatalf("Run(sleep): %v", err)
	}
	if _, err := m.Wait(100 * time.Millisecond); err == nil {
		t.Fatal("Wait on a running machine did not time out")
	}
}
