package kernel

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// trapPath is the code that runs in trap context on the host's build: from
// a kprobe's breakpoint (kprobe.(*Manager).Trap, perf's kprobe site, the
// programs attached there) and from the sampling timer's interrupt
// ((*Kernel).timerInterrupt, perf.(*System).TimerExpired, its overflow
// programs), down through the VM, the helpers a program can call by id and
// the map operations they reach. The trap can interrupt any Go code on its
// CPU, the garbage collector's write barrier included (gcWriteBarrier
// filling the P's buffer, or code holding runtime locks), so none of these
// functions may store a pointer into the heap or a global while the
// barrier may be on: the reason Go's signal handlers are
// //go:nowritebarrierrec, which only the runtime may use.
//
// The list is the call graph from those roots (golang.org/x/tools'
// callgraph/vta over cha, interface and function-value calls resolved),
// restricted to this module, without the functions that run only where
// trap context cannot be:
//   - the checked interpreter and its checks (execChecked, Env.check,
//     declare, declareValue): programs from bpf() are verified;
//   - fault and error construction (vm.fail, errCallx, setFault, the
//     Error, Unwrap and String methods): faults a verified program cannot
//     raise; they allocate as well;
//   - vm.escapes and forgetDeclared, whose stores never run in a verified
//     run;
//   - the closures of helpers.bound, made when a program is loaded.
//
// Known offenders, left off the list because they still do write barriers
// and allocate in trap context (open): the growth of a BPF_F_NO_PREALLOC
// hash table (Hash.grow, newChunk) and the LPM trie's update and delete
// (pointer-linked nodes, slotPool).
//
// The compiler's report does not see the barriers inside the runtime's
// atomic pointer stores (atomic.Pointer's Store, Swap and CompareAndSwap,
// atomic.Value): the trap path must not call those either.
var trapPath = map[string][]string{
	"hachi/bpf/helpers": {
		"(*Set).conversion", "(*Set).copyString", "(*Set).cpu", "(*Set).enterPrint",
		"(*Set).forEachMapElem", "(*Set).format", "(*Set).getCurrentComm", "(*Set).getCurrentPIDTGID",
		"(*Set).getCurrentUIDGID", "(*Set).getFuncIP", "(*Set).getPrandomU32", "(*Set).getStackID",
		"(*Set).hashPointer", "(*Set).ktimeGetBootNS", "(*Set).ktimeGetCoarseNS", "(*Set).ktimeGetNS",
		"(*Set).prepare", "(*Set).probeRead", "(*Set).probeReadCommon", "(*Set).probeReadKernel",
		"(*Set).probeReadKernelStr", "(*Set).probeReadStr", "(*Set).probeReadStrCommon",
		"(*Set).probeReadUser", "(*Set).probeReadUserStr", "(*Set).read", "(*Set).readStr",
		"(*Set).snprintf", "(*Set).symbol", "(*Set).tracePrintk", "(*forEachVisitor).Visit",
		"(*writer).byte", "(*writer).bytes", "(*writer).decimal", "(*writer).finish", "(*writer).hex",
		"(*writer).number", "(*writer).padded", "(*writer).pointer", "(*writer).repeat", "(*writer).str",
		"alignUp4", "at", "constString", "errno", "formatIP", "getAttachCookie", "getSMPProcessorID",
		"indexNUL", "isAlnum", "isPrint", "isPunct", "isSpace", "le64", "loop", "mapDeleteElem",
		"mapLookupElem", "mapLookupPercpuElem", "mapOf", "mapPeekElem", "mapPopElem", "mapPushElem",
		"mapUpdateElem", "perfEventOutput", "queuer", "ringbufDiscard", "ringbufOf", "ringbufOutput",
		"ringbufQuery", "ringbufReserve", "ringbufSubmit", "span.of", "trusted", "valueRegion",
	},
	"hachi/bpf/maps": {
		"(*Array).DeleteElem", "(*Array).ForEachElem", "(*Array).LookupElem",
		"(*Array).LookupPerCPUElem", "(*Array).UpdateElem", "(*Array).slot", "(*Array).updateCheck",
		"(*ArrayOfMaps).LookupElem", "(*BloomFilter).DeleteElem", "(*BloomFilter).LookupElem",
		"(*BloomFilter).PeekElem", "(*BloomFilter).PopElem", "(*BloomFilter).PushElem",
		"(*BloomFilter).UpdateElem", "(*BloomFilter).bit", "(*Hash).DeleteElem", "(*Hash).ForEachElem",
		"(*Hash).LookupElem", "(*Hash).LookupPerCPUElem", "(*Hash).UpdateElem", "(*Hash).chunkLenOf",
		"(*Hash).chunkOf", "(*Hash).copyValueOut", "(*Hash).elem", "(*Hash).evict", "(*Hash).find",
		"(*Hash).findLocked", "(*Hash).freeLink", "(*Hash).keyEqual", "(*Hash).keyOf",
		"(*Hash).keyWordsOf", "(*Hash).linkLocked", "(*Hash).lookup1", "(*Hash).lookup2",
		"(*Hash).lookupKey", "(*Hash).lookupKey16", "(*Hash).lookupKey4", "(*Hash).lookupKey8",
		"(*Hash).node", "(*Hash).nodeOf", "(*Hash).pushChunk", "(*Hash).rec", "(*Hash).recAt",
		"(*Hash).remove", "(*Hash).setInner", "(*Hash).setKey", "(*Hash).setValue", "(*Hash).takeElem",
		"(*Hash).touch", "(*Hash).unlinkLocked", "(*Hash).update", "(*Hash).updateLRU",
		"(*Hash).updateLRUPerCPU", "(*Hash).valueAt", "(*Hash).valueOf", "(*HashOfMaps).DeleteElem",
		"(*HashOfMaps).Info", "(*HashOfMaps).LookupElem", "(*HashOfMaps).UpdateElem",
		"(*LPMTrie).DeleteElem", "(*LPMTrie).LookupElem", "(*LPMTrie).UpdateElem",
		"(*LPMTrie).addElemCheck", "(*LPMTrie).lookup", "(*LPMTrie).matchLen", "(*LPMTrie).splitKey",
		"(*PerfEventArray).LookupElem", "(*PerfEventArray).Output", "(*ProgArray).Len",
		"(*ProgArray).LookupElem", "(*ProgArray).Program", "(*QueueStack).DeleteElem",
		"(*QueueStack).LookupElem", "(*QueueStack).PeekElem", "(*QueueStack).PopElem",
		"(*QueueStack).PushElem", "(*QueueStack).UpdateElem", "(*QueueStack).empty",
		"(*QueueStack).full", "(*QueueStack).get", "(*QueueStack).slot", "(*RingBuf).DeleteElem",
		"(*RingBuf).LookupElem", "(*RingBuf).Output", "(*RingBuf).Query", "(*RingBuf).Reserve",
		"(*RingBuf).UpdateElem", "(*RingBuf).commit", "(*RingBuf).header", "(*StackTrace).DeleteElem",
		"(*StackTrace).GetStackID", "(*StackTrace).LookupElem", "(*StackTrace).MaxDepth",
		"(*StackTrace).UpdateElem", "(*StackTrace).freeLink", "(*StackTrace).trace", "(*base).Info",
		"(*base).KeySize", "(*base).ValueSize", "(*forEachKeys).enter", "(*forEachKeys).leave",
		"(*freeList).home", "(*freeList).pop", "(*freeList).push", "(*lru).alloc", "(*lru).list",
		"(*lru).release", "(*lru).shrinkLocked", "(*lruList).drainLocked", "(*lruList).freeLocked",
		"(*lruList).unlinkLocked", "(*lruQueue).pushHead", "(*lruQueue).remove", "(*slotPool).at",
		"(*spinLock).lock", "(*spinLock).unlock", "RingBufCommit", "checkFlags", "copyIn", "copyOut",
		"equalIPs", "extractBit", "hashFinish", "hashKey", "hashStart", "hashStep", "hashTrace", "le32",
		"loadTail", "loadWord", "lockOwner", "lruWhere", "recordLen", "ringOf", "storeTail", "wordAt",
		"zeroSlot",
	},
	"hachi/bpf/sys": {
		"(*Prog).CountMissed", "(*Prog).Run", "(*Prog).run",
	},
	"hachi/bpf/verifier": {
		"(*Program).VM",
	},
	"hachi/bpf/vm": {
		"(*ArrayLayout).element", "(*Env).Call", "(*Env).Checked", "(*Env).Context", "(*Env).Declare",
		"(*Env).Map", "(*Env).Memory", "(*Env).exec", "(*Env).execFast", "(*Env).fence", "(*Env).packet",
		"(*Env).stackTop", "(*Env).tailCall", "(*Image).function", "(*Image).isMap", "(*MapHandle).Addr",
		"(*Program).Run", "Bytes", "Region.addr", "Region.contains", "cmpxchg32", "cmpxchg64", "div32",
		"div64", "load16", "load32", "load64", "load8", "mod32", "mod64", "progRef.get", "ptr",
		"refProgram", "refRegion", "regionRef.get", "sdiv32", "sdiv64", "smod32", "smod64", "store16",
		"store32", "store64", "store8", "word32", "word64", "xor32", "xor64",
	},
	"hachi/kernel": {
		"(*Kernel).armTimer", "(*Kernel).cpu", "(*Kernel).now", "(*Kernel).timerInterrupt",
		"(*memoryMap).readKernel", "(*memoryMap).readable", "(*memoryMap).walkFrames",
		"(*tracePipe).write", "(*trapHandler).Hit", "at", "bpfEnv.Nanotime", "helperKernel.BootNS",
		"helperKernel.CoarseNS", "helperKernel.CurrentTask", "helperKernel.FuncIP",
		"helperKernel.MonotonicNS", "helperKernel.ReadKernel", "helperKernel.ReadUser",
		"helperKernel.StackTrace", "helperKernel.Symbol", "helperKernel.TracePrintk",
		"helperKernel.UserLimit", "perfHost.Arm", "perfHost.Current", "perfHost.Now", "walkStack",
	},
	"hachi/kprobe": {
		"(*Manager).Trap", "(*Manager).lookup", "(*Manager).resume", "(*Manager).run", "(*Manager).trap",
		"(*Probe).Addr", "Symbol.End", "lookupIn",
	},
	"hachi/perf": {
		"(*Event).BPFOutput", "(*Event).OnCPU", "(*Event).Output", "(*Event).clockPeriod",
		"(*Event).clockUpdate", "(*Event).excludes", "(*Event).fill", "(*Event).idSampleSize",
		"(*Event).matches", "(*Event).output", "(*Event).overflow", "(*Event).primaryID",
		"(*Event).readCount", "(*Event).readOne", "(*Event).sampleSize", "(*Event).setPeriod",
		"(*Event).swHit", "(*Event).times", "(*Event).tracing", "(*Event).writeIDSample",
		"(*Event).writeRead", "(*Event).writeSample", "(*System).TimerExpired", "(*System).cpu",
		"(*System).runArray", "(*System).runOverflow", "(*cpuState).setRegs", "(*handle).put",
		"(*handle).put16", "(*handle).put32", "(*handle).put64", "(*handle).zero", "(*kprobeSite).Hit",
		"(*ring).begin", "(*ring).countSample", "(*ring).dataHead", "(*ring).dataTail", "(*ring).end",
		"(*ring).page", "(*ring).put", "(*ring).wake", "has", "hasSpace", "putU64", "rawSize",
		"regsRegion", "sampling",
	},
}

// writeBarrierRE is the compiler's report of a write barrier (-d=wb).
var writeBarrierRE = regexp.MustCompile(`^(\S+\.go):(\d+):(\d+): write barrier$`)

// TestTrapPathWriteBarriers compiles the trap path's packages with the
// compiler's write barrier report and fails for every barrier inside a
// function of trapPath. A barrier the compiler puts in an inlined call is
// reported at the call, so it counts against the caller: cold code that
// needs barriers is kept out of line (//go:noinline) and off the list.
func TestTrapPathWriteBarriers(t *testing.T) {
	if runtime.GOOS == "tamago" {
		t.Skip("the guest has no go command and no source tree")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	for pkg := range trapPath {
		pkgs = append(pkgs, pkg)
	}
	sort.Strings(pkgs)
	// The build cache replays the compiler's report when it has the
	// package already.
	args := append([]string{"build", "-gcflags=hachi/...=-d=wb"}, pkgs...)
	cmd := exec.Command(goCmd, args...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	fset := token.NewFileSet()
	funcs := map[string]*ast.FuncDecl{} // by package path + "." + funcName
	files := map[string]*ast.File{}
	pkgOf := map[string]string{}
	for _, pkg := range pkgs {
		dir := filepath.Join(root, strings.TrimPrefix(pkg, "hachi/"))
		names, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			files[name], pkgOf[name] = f, pkg
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok {
					funcs[pkg+"."+funcName(fd)] = fd
				}
			}
		}
	}
	listed := map[string]bool{}
	for pkg, names := range trapPath {
		for _, name := range names {
			if funcs[pkg+"."+name] == nil {
				t.Errorf("%s.%s is listed but does not exist: update trapPath", pkg, name)
			}
			listed[pkg+"."+name] = true
		}
	}

	found := 0
	for _, line := range bytes.Split(out, []byte("\n")) {
		m := writeBarrierRE.FindSubmatch(line)
		if m == nil {
			continue
		}
		found++
		file := string(m[1])
		if !filepath.IsAbs(file) {
			file = filepath.Join(root, file)
		}
		f := files[filepath.Clean(file)]
		if f == nil {
			continue // a barrier outside the listed packages (inlined from elsewhere)
		}
		ln, _ := strconv.Atoi(string(m[2]))
		col, _ := strconv.Atoi(string(m[3]))
		tf := fset.File(f.Pos())
		pos := tf.LineStart(ln) + token.Pos(col-1)
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || pos < fd.Pos() || pos >= fd.End() {
				continue
			}
			if name := pkgOf[tf.Name()] + "." + funcName(fd); listed[name] {
				t.Errorf("%s:%s:%s: write barrier in %s, which runs in trap context", file, m[2], m[3], name)
			}
		}
	}
	if found == 0 {
		// The packages have barriers outside the trap path (set-up code):
		// none at all means the report did not come.
		t.Fatalf("go build -gcflags=-d=wb reported no write barrier at all:\n%s", out)
	}
}

// funcName is fd's name as trapPath spells it: F, T.M or (*T).M.
func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	typ := fd.Recv.List[0].Type
	star := false
	if s, ok := typ.(*ast.StarExpr); ok {
		star, typ = true, s.X
	}
	switch x := typ.(type) { // generic receivers: T[P]
	case *ast.IndexExpr:
		typ = x.X
	case *ast.IndexListExpr:
		typ = x.X
	}
	recv := typ.(*ast.Ident).Name
	if star {
		return "(*" + recv + ")." + fd.Name.Name
	}
	return recv + "." + fd.Name.Name
}
