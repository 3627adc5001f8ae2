package kernel

import (
	"errors"
	"testing"
	"time"
	"unsafe"

	"hachi/perf"
	"hachi/syscall/linux"
)

// profile opens a CPU clock event per CPU with its sampling program, and
// prints the sampled functions by count; the board's timer interrupts are
// raised by the test with chosen instruction pointers.
func TestProfileCommand(t *testing.T) {
	f := newFakeBoard("")
	timer := &fakeTimer{armed: map[int]uint64{}}
	b := f.board()
	b.Timer = timer.timer()
	b.Symbol = func(addr uint64) (string, uint64, uint64, bool) {
		switch {
		case addr >= 0x1000 && addr < 0x1100:
			return "hot", addr - 0x1000, 0x100, true
		case addr >= 0x2000 && addr < 0x2100:
			return "cold", addr - 0x2000, 0x100, true
		}
		return "", 0, 0, false
	}
	k := New(b)
	task := k.NewTask("profiler")
	defer task.Exit()

	var out lockedBuffer
	done := make(chan error, 1)
	go func() { done <- k.profile(&out, task, []string{"-F", "1000", "2"}) }()
	for timer.deadline(0) == 0 || timer.deadline(1) == 0 {
		select {
		case err := <-done:
			t.Fatalf("profile ended (%v) before arming both CPUs' timers:\n%s", err, out.String())
		case <-time.After(time.Millisecond):
		}
	}
	frame := AllocValue[[21]uint64]()
	hit := func(cpu int, ip uint64) {
		for k.Nanotime() < timer.deadline(cpu) {
			time.Sleep(100 * time.Microsecond)
		}
		frame[ptRegsRIP/8] = ip
		timer.handler(cpu, &perf.Regs{Frame: unsafe.Pointer(frame), Size: unsafe.Sizeof(*frame), IP: ip})
	}
	for i := range 6 {
		hit(i%2, 0x1000+uint64(i%3)) // "hot", at three addresses
	}
	hit(0, 0x2000)
	hit(1, 0x3000) // no symbol
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := "profile: sampling 2 CPUs at 1000 Hz for 2s\n" +
		"profile: 8 samples, 5 addresses, 3 functions\n" +
		"   COUNT  SHARE  FUNCTION\n" +
		"       6  75.0%  hot\n" +
		"       1  12.5%  0x3000\n" +
		"       1  12.5%  cold\n"
	if got := out.String(); got != want {
		t.Errorf("profile printed\n%s\nwant\n%s", got, want)
	}
	if timer.deadline(0) != 0 || timer.deadline(1) != 0 {
		t.Errorf("the timers stay armed after profile: %d, %d", timer.deadline(0), timer.deadline(1))
	}

	for _, args := range [][]string{nil, {"x"}, {"0"}, {"-F", "0", "1"}, {"-F", "1"}, {"1", "2"}} {
		if err := k.profile(&out, task, args); err == nil {
			t.Errorf("profile %q: no error", args)
		}
	}
	// Above kernel.perf_event_max_sample_rate: perf_event_open's EINVAL.
	if err := k.profile(&out, task, []string{"-F", "1000000", "1"}); !errors.Is(err, linux.EINVAL) {
		t.Errorf("profile -F 1000000: %v, want EINVAL from perf_event_open", err)
	}
}
