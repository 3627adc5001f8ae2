package guesttest

import (
	"regexp"
	"strings"
)

// Counts are test results by outcome.
type Counts struct {
	Passed, Failed, Skipped int
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Passed += o.Passed
	c.Failed += o.Failed
	c.Skipped += o.Skipped
}

// Skip is a test that skipped, with the lines it logged (its reason).
type Skip struct {
	Test   string
	Reason string
}

// Report is what a test binary's -test.v output says.
type Report struct {
	// Tests counts top-level tests, Subtests those run by t.Run.
	Tests, Subtests Counts
	// Skips lists every skipped test and subtest.
	Skips []Skip
	// Failures names every failed test and subtest.
	Failures []string
	// Unfinished names the tests that started (=== RUN) and printed no
	// result: those running when the binary crashed or hung.
	Unfinished []string
	// Verdict is the binary's last word: "PASS", "FAIL", or "" when it
	// printed neither (it crashed or hung).
	Verdict string
	// Panicked is set when the output holds a Go panic.
	Panicked bool
	// Benchmarks are the result lines of benchmarks ("BenchmarkX-2 N
	// 12.3 ns/op ..."), as testing printed them.
	Benchmarks []string
}

// resultLine matches testing's "--- PASS: TestName (0.00s)", indented four
// spaces per subtest level.
var resultLine = regexp.MustCompile(`^(\s*)--- (PASS|FAIL|SKIP): (\S+) \(\d+\.\d+s\)$`)

// Parse reads a console log: testing's -test.v output, possibly mixed with
// the board's and the guest package's lines, with CR LF line ends.
func Parse(log string) Report {
	var r Report
	running := map[string]bool{}
	var started []string
	// What each test logged: testing prints it, indented, after a
	// "=== RUN/CONT/NAME" line naming the test (and, from older
	// versions or for subtests, after its result line).
	logged := map[string][]string{}
	current := ""
	lines := strings.Split(strings.ReplaceAll(log, "\r\n", "\n"), "\n")
	for i, line := range lines {
		if m := headerLine.FindStringSubmatch(line); m != nil {
			current = m[2]
			if m[1] == "RUN" {
				running[current] = true
				started = append(started, current)
			}
			continue
		}
		switch line {
		case "PASS", "FAIL":
			r.Verdict = line
			current = ""
			continue
		}
		if strings.HasPrefix(line, "panic: ") {
			r.Panicked = true
		}
		if benchLine.MatchString(line) {
			r.Benchmarks = append(r.Benchmarks, line)
			continue
		}
		m := resultLine.FindStringSubmatch(line)
		if m == nil {
			if current != "" && strings.HasPrefix(line, "    ") {
				logged[current] = append(logged[current], strings.TrimSpace(line))
			}
			continue
		}
		indent, outcome, name := m[1], m[2], m[3]
		delete(running, name)
		counts := &r.Tests
		if indent != "" {
			counts = &r.Subtests
		}
		switch outcome {
		case "PASS":
			counts.Passed++
		case "FAIL":
			counts.Failed++
			r.Failures = append(r.Failures, name)
		case "SKIP":
			counts.Skipped++
			reason := append(logged[name], loggedLines(lines[i+1:], indent+"    ")...)
			r.Skips = append(r.Skips, Skip{Test: name, Reason: strings.Join(reason, " ")})
		}
		current = ""
	}
	for _, name := range started {
		if running[name] {
			r.Unfinished = append(r.Unfinished, name)
			delete(running, name)
		}
	}
	return r
}

// benchLine matches a benchmark's result line.
var benchLine = regexp.MustCompile(`^Benchmark\S+\s+\d+\s+\d+(\.\d+)? ns/op`)

// headerLine matches testing's "=== RUN   TestName" and the lines that say
// which test the following output belongs to.
var headerLine = regexp.MustCompile(`^=== (RUN|CONT|NAME|PAUSE)\s+(\S+)$`)

// loggedLines returns what a test logged after its result line: the lines
// indented deeper than the result, trimmed.
func loggedLines(lines []string, indent string) []string {
	var logged []string
	for _, l := range lines {
		if !strings.HasPrefix(l, indent) || resultLine.MatchString(l) {
			break
		}
		logged = append(logged, strings.TrimSpace(l))
	}
	return logged
}
