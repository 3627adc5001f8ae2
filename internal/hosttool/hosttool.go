// Package hosttool finds the build host's tools (clang, gcc) for the tests
// that compare Hachi with them, with one policy: inside a guest the test
// skips (the tools are on the build host, where the same test runs); on a
// host without the tool it skips saying which Debian package provides it,
// unless CI is set in the environment (.ci/run sets it), where a missing
// tool fails the test instead of hiding it.
package hosttool

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// Require returns the path of the tool named name, for a test that needs
// it to do what; pkg is the Debian package that provides it.
func Require(t testing.TB, name, pkg, what string) string {
	t.Helper()
	if runtime.GOOS == "tamago" {
		t.Skipf("needs %s, which is on the build host, not in the guest, to %s", name, what)
	}
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := name + " is not installed (Debian: apt-get install " + pkg + "): cannot " + what
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
