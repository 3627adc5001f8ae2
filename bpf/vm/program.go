package vm

import "hachi/bpf/isa"

// Program is an Image ready to run, checked or fast (see the package
// documentation). It is immutable: any number of Envs may run it at once.
type Program struct {
	image   *Image
	checked bool
}

// NewChecked makes a program that runs with every run-time check: safe for
// any Image.
func NewChecked(img *Image) *Program { return &Program{image: img, checked: true} }

// NewVerified makes a program that runs without checks. Only bpf/verifier
// calls it, for an Image it has proven safe (memory accesses in bounds,
// registers initialised, references typed, calls and loops bounded), the
// way Linux runs only what its verifier accepted.
func NewVerified(img *Image) *Program { return &Program{image: img, checked: false} }

// Checked reports whether p runs with run-time checks.
func (p *Program) Checked() bool { return p.checked }

// Image is the loaded code p runs.
func (p *Program) Image() *Image { return p.image }

// Run runs p on env with r1 = the address of ctx (and, if the Image was
// loaded with LenInR2, r2 = its size), like Linux's bpf_prog_run, and
// returns r0. A checked program may read and (if ctx.Writable) write ctx.
func (p *Program) Run(env *Env, ctx Region) (uint64, error) {
	if env.running {
		return 0, ErrBusy
	}
	env.running = true
	env.prog, env.ctx = p, ctx
	env.depth, env.tailCalls, env.fault, env.steps = 0, 0, nil, 0
	init := isa.RegSet(1 << isa.R1)
	var r2 uint64
	if p.image.lenInR2 {
		r2 = uint64(ctx.Size)
		init |= 1 << isa.R2
	}
	r0, err := env.exec(p, 0, ctx.addr(), r2, 0, 0, 0, init)
	clear(env.regions[:env.nregions])
	env.prog, env.ctx, env.nregions, env.running = nil, Region{}, 0, false
	return r0, err
}

// exec runs p from slot pc in a new frame at the current depth until that
// frame exits; init is the set of registers that hold values (checked mode).
func (e *Env) exec(p *Program, pc int, r1, r2, r3, r4, r5 uint64, init isa.RegSet) (uint64, error) {
	init |= 1 << isa.R10
	if p.checked {
		return e.execChecked(p, pc, r1, r2, r3, r4, r5, init)
	}
	return e.execFast(p, pc, r1, r2, r3, r4, r5, init)
}
