package verifier

import (
	"hachi/bpf/isa"
	"hachi/bpf/vm"
	"hachi/syscall/linux"
)

// loadImage has the interpreter load the verified instructions. The
// interpreter checks the program's shape again; a refusal there means the
// two disagree, a bug reported as EFAULT, as Linux reports verifier bugs.
func loadImage(insns []isa.Instruction, opts vm.Options) (*vm.Image, error) {
	img, err := vm.Load(insns, opts)
	if err != nil {
		return nil, &Error{Errno: linux.EFAULT, Insn: -1, Msg: "verifier bug: interpreter refused a verified program: " + err.Error()}
	}
	return img, nil
}

// newVerifiedProgram is the one place a program is made for the
// interpreter's fast mode.
func newVerifiedProgram(img *vm.Image) *vm.Program { return vm.NewVerified(img) }
