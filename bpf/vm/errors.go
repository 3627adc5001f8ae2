package vm

import (
	"errors"
	"fmt"
)

// Error is a load error or a run-time fault: it names the instruction (the
// slot index, as Linux's verifier log and llvm-objdump count) and wraps the
// reason, one of the Err values below.
type Error struct {
	Index int
	Err   error
}

func (e *Error) Error() string { return fmt.Sprintf("insn %d: %v", e.Index, e.Err) }

func (e *Error) Unwrap() error { return e.Err }

// Load errors (Linux: EINVAL, E2BIG, EBADF from PROG_LOAD).
var (
	ErrEmpty         = errors.New("empty program")
	ErrTooBig        = errors.New("program too large")
	ErrJump          = errors.New("invalid jump")
	ErrFallThrough   = errors.New("last insn is not an exit or jmp")
	ErrFramePointer  = errors.New("frame pointer is read only")
	ErrUnknownHelper = errors.New("invalid func")
	ErrUnresolved    = errors.New("unresolved reference")
	ErrNotSupported  = errors.New("not supported")
)

// Run-time faults. Only checked programs report the first four; the others
// can happen in both modes.
var (
	ErrMemory     = errors.New("invalid mem access")
	ErrUninit     = errors.New("read of a register that holds no value")
	ErrStepLimit  = errors.New("step limit reached")
	ErrBadPointer = errors.New("invalid reference")
	ErrCallDepth  = errors.New("call stack too deep")
	ErrBusy       = errors.New("env is already running a program")
)
