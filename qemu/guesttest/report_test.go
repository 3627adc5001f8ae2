package guesttest

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		name       string
		log        string
		tests      Counts
		subtests   Counts
		skips      []Skip
		failures   []string
		unfinished []string
		verdict    string
		panicked   bool
		benchmarks []string
	}{
		{
			name: "pass with skips and subtests",
			log: `guest: 12 files (3 KiB) unpacked in 1ms; cd /m/p; [-test.v]
=== RUN   TestA
--- PASS: TestA (0.00s)
=== RUN   TestClang
    load_test.go:39: clang not installed
--- SKIP: TestClang (0.02s)
=== RUN   TestTable
=== RUN   TestTable/one
=== RUN   TestTable/two
    t_test.go:9: host only
    t_test.go:10: second line
--- PASS: TestTable (0.01s)
    --- PASS: TestTable/one (0.00s)
    --- SKIP: TestTable/two (0.00s)
PASS
`,
			tests:    Counts{Passed: 2, Skipped: 1},
			subtests: Counts{Passed: 1, Skipped: 1},
			skips:    []Skip{{"TestClang", "load_test.go:39: clang not installed"}, {"TestTable/two", "t_test.go:9: host only t_test.go:10: second line"}},
			verdict:  "PASS",
		},
		{
			name: "skip reason after the result (subtest of a parallel test)",
			log: "=== RUN   TestP\r\n=== PAUSE TestP\r\n=== CONT  TestP\r\n--- PASS: TestP (0.00s)\r\n" +
				"=== RUN   TestQ\r\n    --- SKIP: TestQ/x (0.00s)\r\n        q_test.go:3: later\r\n--- FAIL: TestQ (0.00s)\r\nFAIL\r\n",
			tests:    Counts{Passed: 1, Failed: 1},
			subtests: Counts{Skipped: 1},
			skips:    []Skip{{"TestQ/x", "q_test.go:3: later"}},
			failures: []string{"TestQ"},
			verdict:  "FAIL",
		},
		{
			name:       "crash",
			log:        "=== RUN   TestX\n=== RUN   TestX/a\npanic: runtime error: index out of range\n\ngoroutine 1 [running]:\n",
			unfinished: []string{"TestX", "TestX/a"},
			panicked:   true,
		},
		{
			name: "benchmarks",
			log: "goos: tamago\r\nBenchmarkGuestCall\r\nBenchmarkGuestCall-2   \t1000000\t        12.5 ns/op\t       0 B/op\t       0 allocs/op\r\n" +
				"BenchmarkKprobe\r\nBenchmarkKprobe-2 \t  20000\t     30211 ns/op\r\nPASS\r\n",
			benchmarks: []string{"BenchmarkGuestCall-2   \t1000000\t        12.5 ns/op\t       0 B/op\t       0 allocs/op",
				"BenchmarkKprobe-2 \t  20000\t     30211 ns/op"},
			verdict: "PASS",
		},
		{
			name:    "no tests",
			log:     "testing: warning: no tests to run\nPASS\n",
			verdict: "PASS",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := Parse(tt.log)
			if r.Tests != tt.tests || r.Subtests != tt.subtests || r.Verdict != tt.verdict || r.Panicked != tt.panicked {
				t.Errorf("tests %+v subtests %+v verdict %q panicked %v; want %+v %+v %q %v",
					r.Tests, r.Subtests, r.Verdict, r.Panicked, tt.tests, tt.subtests, tt.verdict, tt.panicked)
			}
			if !slices.Equal(r.Skips, tt.skips) {
				t.Errorf("skips %q, want %q", r.Skips, tt.skips)
			}
			if !slices.Equal(r.Benchmarks, tt.benchmarks) {
				t.Errorf("benchmarks %q, want %q", r.Benchmarks, tt.benchmarks)
			}
			if !slices.Equal(r.Failures, tt.failures) || !slices.Equal(r.Unfinished, tt.unfinished) {
				t.Errorf("failures %q unfinished %q, want %q %q", r.Failures, r.Unfinished, tt.failures, tt.unfinished)
			}
		})
	}
}

func TestResultOK(t *testing.T) {
	pass := Result{Report: Report{Verdict: "PASS"}}
	if !pass.OK() {
		t.Error("PASS with status 0 is not OK")
	}
	for _, r := range []Result{
		{Report: Report{Verdict: "PASS"}, Status: 3},
		{Report: Report{Verdict: "FAIL"}, Status: 3},
		{Report: Report{Verdict: ""}, Status: 0},
		{Report: Report{Verdict: "PASS", Tests: Counts{Failed: 1}}},
	} {
		if r.OK() {
			t.Errorf("%+v is OK", r)
		}
	}
	var out strings.Builder
	if Summary(&out, []Result{{Arch: "amd64", Package: "hachi/p", Report: Report{Verdict: "FAIL"}, Status: 3}}) {
		t.Errorf("Summary of a failure says OK:\n%s", out.String())
	}
}
