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
	escapes(ctx)
	env.running = true
	env.prog, env.ctx = refProgram(p), refRegion(ctx)
	env.depth, env.tailCalls, env.steps = 0, 0, 0
	if env.fault != nil {
		env.setFault(nil)
	}
	init := isa.RegSet(1 << isa.R1)
	var r2 uint64
	if p.image.lenInR2 {
		r2 = uint64(ctx.Size)
		init |= 1 << isa.R2
	}
	r0, err := env.exec(p, 0, ctx.addr(), r2, 0, 0, 0, init)
	if env.nregions != 0 {
		env.forgetDeclared()
	}
	env.prog, env.ctx, env.running = 0, regionRef{}, false
	return r0, err
}

// forgetDeclared ends a checked run's declared regions. Only checked runs
// declare any: clearing Regions, which hold pointers, runs write barriers,
// which a verified run in trap context must not (see Env), so it is not
// inlined into Run.
//
//go:noinline
func (e *Env) forgetDeclared() {
	clear(e.regions[:e.nregions])
	e.nregions = 0
}

// escapes makes what ctx points to escape to the heap as a stored Region
// would: Env holds it by address (see Env), and memory on a goroutine stack
// could move during the run. The store never happens, and is not inlined
// into Run: its write barrier would be.
//
//go:noinline
func escapes(ctx Region) {
	if escapeSink.never {
		escapeSink.ctx = ctx
	}
}

var escapeSink struct {
	never bool
	ctx   Region
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
