package hosttool

import (
	"runtime"
	"testing"
)

// A tool that exists is found; one that does not fails the test under CI
// and skips it otherwise.
func TestRequire(t *testing.T) {
	if runtime.GOOS == "tamago" {
		t.Skip("the guest has no tools to find")
	}
	if path := Require(t, "sh", "dash", "run a shell"); path == "" {
		t.Error("sh not found")
	}
	for _, ci := range []string{"", "1"} {
		t.Setenv("CI", ci)
		r := &recorder{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			Require(r, "no-such-tool-hachi", "nothing", "test")
		}()
		<-done
		if ci != "" && (!r.failed || r.skipped) || ci == "" && (r.failed || !r.skipped) {
			t.Errorf("CI=%q: failed %v, skipped %v", ci, r.failed, r.skipped)
		}
	}
}

// recorder stands for a test: it notes Fatal and Skip and ends the
// goroutine as they do.
type recorder struct {
	testing.TB
	failed, skipped bool
}

func (r *recorder) Helper() {}
func (r *recorder) Fatal(args ...any) {
	r.failed = true
	runtime.Goexit()
}
func (r *recorder) Skip(args ...any) {
	r.skipped = true
	runtime.Goexit()
}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = true
	runtime.Goexit()
}
