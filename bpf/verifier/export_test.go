package verifier

// SetProcessLimit lowers the budget of processed instructions for the
// external tests (the fuzzers), and returns a function restoring it.
func SetProcessLimit(n int) (restore func()) {
	old := processLimit
	processLimit = n
	return func() { processLimit = old }
}
