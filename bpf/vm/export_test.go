package vm

// ClearStack zeroes e's stack, so that tests can run a program twice from
// the same state.
func ClearStack(e *Env) { clear(e.stack[:]) }
