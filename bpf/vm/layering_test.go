package vm_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestOnlyVerifierMakesFastPrograms enforces the rule of NewVerified: no
// code outside bpf/verifier (and this package) makes a program that runs
// without checks. Tests may, for programs known to be safe.
func TestOnlyVerifierMakesFastPrograms(t *testing.T) {
	if runtime.GOOS == "tamago" {
		t.Skip("the kernel image carries no source tree")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not at %s: %v", root, err)
	}
	allowed := []string{"bpf/vm/", "bpf/verifier/"}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		for _, prefix := range allowed {
			if strings.HasPrefix(rel, prefix) {
				return nil
			}
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(src), "vm.NewVerified(") {
			t.Errorf("%s makes an unchecked program: only bpf/verifier may call vm.NewVerified", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
