package helpers

import "hachi/bpf/vm"

// Hooks for the external tests.

// MaxPrintNest is maxPrintNest.
const MaxPrintNest = maxPrintNest

// EnterPrint takes a printk nesting level of env's CPU, as a printk that
// a probe interrupted would hold it.
func EnterPrint(s *Set, env *vm.Env) { s.enterPrint(env) }

// LeavePrint gives one back.
func LeavePrint(s *Set, env *vm.Env) { s.cpu(env).printNest.Add(-1) }
