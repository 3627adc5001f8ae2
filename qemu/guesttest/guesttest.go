// Package guesttest runs the tests of Hachi's portable packages inside the
// kernel's machines: for each package and architecture it builds the test
// binary with the GOOS=tamago toolchain (`go test -c`, with qemu/guest added
// through -overlay), packs the package's directory tree and the conformance
// suite into a test archive, boots the binary under QEMU (qemu.Board) with
// the archive in RAM, keeps the console, and reads the verdict from both the
// console (testing's -test.v output) and QEMU's exit status, which must agree.
package guesttest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"hachi/bpf/vm/vmtest"
	"hachi/qemu"
	"hachi/qemu/guest"
)

// HostOnly are the packages whose tests cannot run in a guest, with why.
var HostOnly = map[string]string{
	"hachi/qemu":           "boots QEMU on the host",
	"hachi/qemu/guesttest": "builds and boots test binaries on the host",
	"hachi/cmd/hachi-qemu": "builds kernels and starts QEMU on the host",
}

// Options say what to run and how.
type Options struct {
	// Archs are the architectures (qemu.Boards) to run on.
	Archs []string
	// Patterns select the packages (go list patterns, from ModuleRoot).
	Patterns []string
	// ModuleRoot is the module's directory.
	ModuleRoot string
	// Toolchain builds the test binaries.
	Toolchain qemu.Toolchain
	// Short passes -test.short; Run passes -test.run; Bench passes
	// -test.bench and -test.benchmem.
	Short bool
	Run   string
	Bench string
	// Timeout bounds one package's boot, from start to power-off.
	Timeout time.Duration
	// Jobs is how many packages build or run at once.
	Jobs int
	// WorkDir receives the binaries, archives and console logs
	// (<arch>/<package>.test, .archive, .log).
	WorkDir string
	// Verbose streams every console line to Out as it arrives.
	Verbose bool
	// Out receives progress, failures' console logs and the summary.
	Out io.Writer
}

// Result is one package on one architecture.
type Result struct {
	Arch, Package string
	Report
	// Status is QEMU's exit status (-1 if it was killed).
	Status int
	// Build and Boot are the times taken by go test -c and by QEMU.
	Build, Boot time.Duration
	// Log is the whole console; LogFile where it is kept.
	Log, LogFile string
	// Err says why the package failed when the tests' verdict alone does
	// not (build error, timeout, verdict and exit status disagreeing).
	Err error
}

// OK reports whether the package passed: verdict PASS, exit status 0,
// no failed test.
func (r Result) OK() bool {
	return r.Err == nil && r.Verdict == "PASS" && r.Status == 0 && r.Tests.Failed == 0 && r.Subtests.Failed == 0
}

// Package is a package to test.
type Package struct {
	ImportPath, Dir, Name string
	// BoardDep is set when the board's packages (qemu/guest's imports)
	// import this one: its guest test file must then be an external test
	// (package name_test) to avoid an import cycle, and the package
	// initializes before qemu/guest has filled the file system.
	BoardDep bool
}

// ListPackages returns the packages of the patterns that have tests and can
// run in a guest of arch (the build constraints of GOOS=tamago apply).
func ListPackages(ctx context.Context, opts Options, arch string) ([]Package, error) {
	b, err := qemu.LookupBoard(arch)
	if err != nil {
		return nil, err
	}
	args := append([]string{"list", "-e", "-f", "{{.ImportPath}}\t{{.Dir}}\t{{.Name}}\t{{len .TestGoFiles}}\t{{len .XTestGoFiles}}\t{{with .Error}}{{.}}{{end}}"}, opts.Patterns...)
	cmd := opts.Toolchain.Go(ctx, b, opts.ModuleRoot, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list for tamago/%s: %v\n%s", arch, err, stderr.String())
	}
	deps, err := guestDeps(ctx, opts, b)
	if err != nil {
		return nil, err
	}
	var pkgs []Package
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.SplitN(line, "\t", 6)
		if len(f) != 6 {
			return nil, fmt.Errorf("go list: unexpected line %q", line)
		}
		// build/ holds outputs and scratch work, not the module's packages.
		if strings.HasPrefix(f[1], filepath.Join(opts.ModuleRoot, "build")+string(filepath.Separator)) {
			continue
		}
		if f[5] != "" {
			return nil, fmt.Errorf("go list for tamago/%s: %s", arch, f[5])
		}
		if _, ok := HostOnly[f[0]]; ok || (f[3] == "0" && f[4] == "0") {
			continue
		}
		pkgs = append(pkgs, Package{ImportPath: f[0], Dir: f[1], Name: f[2], BoardDep: deps[f[0]]})
	}
	return pkgs, nil
}

// guestDeps returns the packages qemu/guest depends on for the board.
func guestDeps(ctx context.Context, opts Options, b qemu.Board) (map[string]bool, error) {
	cmd := opts.Toolchain.Go(ctx, b, opts.ModuleRoot, "list", "-deps", "hachi/qemu/guest")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps hachi/qemu/guest for tamago/%s: %v\n%s", b.Arch, err, stderr.String())
	}
	deps := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		deps[p] = true
	}
	return deps, nil
}

// Run runs the packages on every architecture of opts and returns the
// results, sorted by architecture and package.
func Run(ctx context.Context, opts Options) ([]Result, error) {
	type job struct {
		arch string
		pkg  Package
	}
	var jobs []job
	for _, arch := range opts.Archs {
		pkgs, err := ListPackages(ctx, opts, arch)
		if err != nil {
			return nil, err
		}
		for _, p := range pkgs {
			jobs = append(jobs, job{arch, p})
		}
	}
	if opts.Jobs < 1 {
		opts.Jobs = runtime.NumCPU()
	}
	results := make([]Result, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	var outMu sync.Mutex
	for range opts.Jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = runPackage(ctx, opts, jobs[i].arch, jobs[i].pkg, &outMu)
				outMu.Lock()
				printResult(opts.Out, results[i])
				outMu.Unlock()
			}
		}()
	}
dispatch:
	for i := range jobs {
		select {
		case next <- i:
		case <-ctx.Done():
			break dispatch
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return results, nil
}

// runPackage builds, packs and boots one package.
func runPackage(ctx context.Context, opts Options, arch string, pkg Package, outMu *sync.Mutex) Result {
	r := Result{Arch: arch, Package: pkg.ImportPath, Status: -1}
	board, err := qemu.LookupBoard(arch)
	if err != nil {
		r.Err = err
		return r
	}
	dir := filepath.Join(opts.WorkDir, arch)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.Err = err
		return r
	}
	base := filepath.Join(dir, strings.ReplaceAll(strings.TrimPrefix(pkg.ImportPath, "hachi/"), "/", "_"))
	binary, archive := base+".test", base+".archive"
	r.LogFile = base + ".log"

	start := time.Now()
	if ctx.Err() != nil {
		r.Err = ctx.Err()
		return r
	}
	if out, err := build(ctx, opts, board, pkg, base, binary); err != nil {
		r.Err, r.Log = fmt.Errorf("build: %v", err), out
		return r
	}
	r.Build = time.Since(start)
	if err := writeArchive(archive, binary, opts, arch, pkg); err != nil {
		r.Err = fmt.Errorf("test archive: %w", err)
		return r
	}
	argv, err := board.TestCommand(binary, archive)
	if err != nil {
		r.Err = err
		return r
	}
	logFile, err := os.Create(r.LogFile)
	if err != nil {
		r.Err = err
		return r
	}
	defer logFile.Close()
	var tee io.Writer = logFile
	if opts.Verbose {
		tee = io.MultiWriter(logFile, &linePrefixer{out: opts.Out, mu: outMu, prefix: fmt.Sprintf("[%s %s] ", arch, shortName(pkg.ImportPath))})
	}
	start = time.Now()
	m, err := qemu.StartTee(argv, tee)
	if err != nil {
		r.Err = err
		return r
	}
	m.CloseInput()
	status, err := waitContext(ctx, m, opts.Timeout)
	r.Boot = time.Since(start)
	r.Status, r.Log = status, m.Log()
	r.Report = Parse(r.Log)
	switch {
	case err != nil:
		r.Err = err
	case r.Verdict == "":
		r.Err = fmt.Errorf("no PASS or FAIL on the console (QEMU exit status %d)", status)
	case r.Verdict == "PASS" && status != 0:
		r.Err = fmt.Errorf("the tests say PASS but QEMU exit status is %d", status)
	case r.Verdict == "FAIL" && status == 0:
		r.Err = errors.New("the tests say FAIL but QEMU exit status is 0")
	}
	return r
}

// waitContext waits for QEMU to end within timeout, killing it if ctx is
// cancelled first.
func waitContext(ctx context.Context, m *qemu.Machine, timeout time.Duration) (int, error) {
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			m.Kill()
		case <-done:
		}
	}()
	status, err := m.Wait(timeout)
	if ctx.Err() != nil {
		return status, ctx.Err()
	}
	return status, err
}

// build runs go test -c for the board, with qemu/guest added to the package
// by an overlay file; it returns the go command's output.
func build(ctx context.Context, opts Options, board qemu.Board, pkg Package, base, binary string) (string, error) {
	// An internal test file: qemu/guest then initializes before the
	// package under test (and before its tests' package-level variables),
	// unless the board imports the package (see Package.BoardDep).
	src := base + ".guest_test.go.src" // not a .go file: the work directory may be inside the module
	name := pkg.Name
	if pkg.BoardDep {
		name += "_test"
	}
	code := fmt.Sprintf("// Code generated by hachi/qemu/guesttest. DO NOT EDIT.\n\npackage %s\n\nimport _ \"hachi/qemu/guest\"\n", name)
	if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
		return "", err
	}
	overlay, err := json.Marshal(map[string]map[string]string{
		"Replace": {filepath.Join(pkg.Dir, "zz_hachi_guest_test.go"): src},
	})
	if err != nil {
		return "", err
	}
	overlayFile := base + ".overlay.json"
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		return "", err
	}
	cmd := opts.Toolchain.Go(ctx, board, opts.ModuleRoot, "test", "-c", "-vet=off", "-overlay", overlayFile,
		"-ldflags", strings.Join(board.LDFlags, " "), "-o", binary, pkg.ImportPath)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// writeArchive packs what the package's tests read: the module's go.mod, the
// package's directory tree, the conformance suite and the test binary
// itself, at their host paths (so ../shared/bpf_conformance and paths
// relative to the package resolve as on the host), with the manifest for
// the guest.
func writeArchive(file, binary string, opts Options, arch string, pkg Package) error {
	args := []string{}
	if opts.Short {
		args = append(args, "-test.short")
	}
	if opts.Run != "" {
		args = append(args, "-test.run="+opts.Run)
	}
	if opts.Bench != "" {
		args = append(args, "-test.bench="+opts.Bench, "-test.benchmem")
	}
	if opts.Timeout > 0 {
		// The test binary's own alarm rings first and prints every
		// goroutine's stack.
		args = append(args, fmt.Sprintf("-test.timeout=%v", opts.Timeout*9/10))
	}
	var files []guest.File
	add := func(hostPath, guestPath string) error {
		return filepath.WalkDir(hostPath, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(hostPath, p)
			if err != nil {
				return err
			}
			name := strings.TrimPrefix(filepath.ToSlash(filepath.Join(guestPath, rel)), "/")
			info, err := d.Info()
			if err != nil {
				return err
			}
			f := guest.File{Name: name, Mode: int64(info.Mode().Perm())}
			switch {
			case d.IsDir():
				if p != hostPath && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				f.Dir = true
			case d.Type()&fs.ModeSymlink != 0:
				if f.Link, err = os.Readlink(p); err != nil {
					return err
				}
			case d.Type().IsRegular():
				if f.Data, err = os.ReadFile(p); err != nil {
					return err
				}
			default:
				return nil
			}
			files = append(files, f)
			return nil
		})
	}
	root := opts.ModuleRoot
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return err
	}
	files = append(files, guest.File{Name: strings.TrimPrefix(filepath.ToSlash(filepath.Join(root, "go.mod")), "/"), Mode: 0o644, Data: gomod})
	if err := add(pkg.Dir, pkg.Dir); err != nil {
		return err
	}
	binary, err = filepath.Abs(binary)
	if err != nil {
		return err
	}
	if err := add(binary, binary); err != nil {
		return err
	}
	if suite, err := vmtest.SuiteDir(); err == nil {
		if err := add(suite, filepath.Join(filepath.Dir(root), "shared", "bpf_conformance")); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	if err := guest.Write(&buf, guest.Manifest{Program: binary, Dir: pkg.Dir, Args: args}, files); err != nil {
		return err
	}
	if _, size, err := guest.ArchiveAddr(arch); err == nil && buf.Len() > int(size) {
		return fmt.Errorf("%d bytes: more than the %d the board has room for", buf.Len(), size)
	}
	return os.WriteFile(file, buf.Bytes(), 0o644)
}

// linePrefixer writes complete lines to out, each after prefix.
type linePrefixer struct {
	out     io.Writer
	mu      *sync.Mutex
	prefix  string
	partial []byte
}

func (w *linePrefixer) Write(p []byte) (int, error) {
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := strings.TrimRight(string(w.partial[:i]), "\r")
		w.partial = w.partial[i+1:]
		w.mu.Lock()
		fmt.Fprintf(w.out, "%s%s\n", w.prefix, line)
		w.mu.Unlock()
	}
}

func shortName(importPath string) string {
	return strings.TrimPrefix(importPath, "hachi/")
}

func printResult(w io.Writer, r Result) {
	verdict := "ok  "
	if !r.OK() {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%s %-7s %-24s %3d passed %2d failed %2d skipped (subtests %d/%d/%d)  build %5.1fs  boot %6.1fs\n",
		verdict, r.Arch, shortName(r.Package), r.Tests.Passed, r.Tests.Failed, r.Tests.Skipped,
		r.Subtests.Passed, r.Subtests.Failed, r.Subtests.Skipped, r.Build.Seconds(), r.Boot.Seconds())
	for _, b := range r.Benchmarks {
		fmt.Fprintf(w, "     %s\n", b)
	}
	if r.OK() {
		return
	}
	if r.Err != nil {
		fmt.Fprintf(w, "     %s %s: %v\n", r.Arch, shortName(r.Package), r.Err)
	}
	for _, f := range r.Failures {
		fmt.Fprintf(w, "     failed: %s\n", f)
	}
	for _, f := range r.Unfinished {
		fmt.Fprintf(w, "     started, never finished: %s\n", f)
	}
	fmt.Fprintf(w, "---- console of %s %s (%s) ----\n", r.Arch, shortName(r.Package), r.LogFile)
	sc := bufio.NewScanner(strings.NewReader(r.Log))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fmt.Fprintln(w, strings.TrimRight(sc.Text(), "\r"))
	}
	fmt.Fprintf(w, "---- end of console of %s %s ----\n", r.Arch, shortName(r.Package))
}

// Summary prints, per architecture, the packages and tests by outcome, the
// time the boots took, and every skipped test with its reason; it returns
// whether everything passed.
func Summary(w io.Writer, results []Result) bool {
	ok := true
	byArch := map[string][]Result{}
	var archs []string
	for _, r := range results {
		if _, seen := byArch[r.Arch]; !seen {
			archs = append(archs, r.Arch)
		}
		byArch[r.Arch] = append(byArch[r.Arch], r)
	}
	sort.Strings(archs)
	for _, arch := range archs {
		var tests, subtests Counts
		var failed []string
		var boot, build time.Duration
		for _, r := range byArch[arch] {
			tests.Add(r.Tests)
			subtests.Add(r.Subtests)
			boot += r.Boot
			build += r.Build
			if !r.OK() {
				failed = append(failed, shortName(r.Package))
			}
		}
		fmt.Fprintf(w, "%s: %d packages, %d failed; tests: %d passed, %d failed, %d skipped; subtests: %d passed, %d failed, %d skipped; build %.0fs, boot %.0fs (summed over packages)\n",
			arch, len(byArch[arch]), len(failed), tests.Passed, tests.Failed, tests.Skipped,
			subtests.Passed, subtests.Failed, subtests.Skipped, build.Seconds(), boot.Seconds())
		for _, r := range byArch[arch] {
			for _, s := range r.Skips {
				fmt.Fprintf(w, "    skip %s %s: %s\n", shortName(r.Package), s.Test, s.Reason)
			}
		}
		if len(failed) > 0 {
			ok = false
			fmt.Fprintf(w, "    FAILED: %s\n", strings.Join(failed, " "))
		}
	}
	return ok
}
