package golang

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"
	"github.com/dlc-project/dlc/codegen/avx512"
	"github.com/dlc-project/dlc/ir"
)

// Fused loops in the model's own assembly.
//
// The chunked vector loop (vecloop.go) calls one runtime.Vec* function per
// member, so every member still writes its chunk to memory and the next
// reads it back: a dozen members cost a dozen passes over L1, and the
// store port, not the arithmetic, sets the speed. That is one kernel per op
// in miniature. A fused loop is meant to keep its intermediates in
// registers, which Go cannot be asked to do for vectors; so for a fused
// loop whose members all have an AVX-512 sequence (codegen/avx512, the
// table the runtime's Vec* loops are generated from), the backend writes
// one assembly function that loads each operand once per 16 elements,
// computes every member in zmm registers and stores only the loop's
// results. The sequences are the ones the Vec* functions run, so the
// results are the same bits as the chunked loop's, which stays in the
// package as the fallback: the assembly only builds on amd64 without
// -tags purego (the generated files model_amd64.s / model_amd64.go, with
// model_noasm.go elsewhere) and only runs where runtime.FusedAsm() says
// the CPU has AVX-512 (DLC_FUSED_ASM=0 turns it off, to test and time the
// fallback on one machine).

// asmFunc is one generated assembly function.
type asmFunc struct {
	name   string
	params []string // pointer parameters after n int, in order
	text   string   // its TEXT block
}

// asmOp names the avx512 sequence computing m with every operand in a
// register, and the order in which the sequence's parameters take m's
// operands; "" when there is none.
func asmOp(m *ir.Value) (string, []int) {
	switch m.Op {
	case ir.OpAdd:
		return "Add", []int{0, 1}
	case ir.OpSub:
		return "Sub", []int{0, 1}
	case ir.OpMul:
		return "Mul", []int{0, 1}
	case ir.OpDiv:
		return "Div", []int{0, 1}
	case ir.OpNeg:
		return "Neg", []int{0}
	case ir.OpSqrt:
		return "Sqrt", []int{0}
	case ir.OpRelu:
		return "Relu", []int{0}
	case ir.OpExp:
		return "Exp", []int{0}
	case ir.OpSigmoid:
		return "Sigmoid", []int{0}
	case ir.OpTanh:
		return "Tanh", []int{0}
	case ir.OpLog:
		return "Log", []int{0}
	case ir.OpErf:
		return "Erf", []int{0}
	case ir.OpGreater:
		return "GT", []int{0, 1}
	case ir.OpGreaterEqual:
		return "GE", []int{0, 1}
	case ir.OpLess:
		return "LT", []int{0, 1}
	case ir.OpLessEqual:
		return "LE", []int{0, 1}
	case ir.OpEqual:
		return "EQ", []int{0, 1}
	case ir.OpSelect:
		return "Select", []int{0, 1, 2} // params c, a, b
	case ir.OpCast:
		if m.Type.DType == ir.Bool && m.Args[0].Type.DType != ir.Bool {
			return "NonZero", []int{0}
		}
	}
	return "", nil
}

var avxOps = func() map[string]avx512.Op {
	out := map[string]avx512.Op{}
	for _, o := range avx512.Ops() {
		out[o.Name] = o
	}
	return out
}()

// Registers of the generated functions. Z24-Z26 hold the constants the
// sequences expect; K1 is the tail mask, K2 the sequences' scratch mask.
// Pointers to the streams the loop reads and writes live in asmPtrRegs
// (CX counts elements, AX is scratch; R15 is left alone, as the dynamic
// linker may use it).
var (
	asmPtrRegs = []string{"DI", "SI", "DX", "BX", "R8", "R9", "R10", "R11", "R12", "R13", "R14"}
	asmZRegs   = func() []string {
		var out []string
		for i := 0; i < 32; i++ {
			if i < 24 || i > 26 {
				out = append(out, "Z"+strconv.Itoa(i))
			}
		}
		return out
	}()
)

// asmValKind says how a fused-loop value reaches the assembly.
const (
	avStream = iota // a vector operand: loaded per 16 elements from a pointer
	avPinned        // the same in every element of the call: one register for the whole call
	avMember        // computed per 16 elements
)

// fusedLoopAsm returns the statements that run loop l over the merged
// dims ds (the chunk loop's dims, vecPlan having said yes) by calls of a
// generated assembly function, registering the function with the
// generator; ok is false (nothing registered) when a member has no AVX-512
// sequence or the loop needs more vector or pointer registers than there
// are.
func (k *kernel) fusedLoopAsm(l fusedLoop, ds []ldim) (stmts []jen.Code, ok bool) {
	if k.g.noVector {
		return nil, false
	}
	d := len(ds)
	vars := make([]string, d)
	outStrides := make([]mono, d)
	for i := range ds {
		vars[i], outStrides[i] = "i"+strconv.Itoa(i), ds[i].out
	}
	vars[d-1] = "c"

	// Values: inputs, constants, members (aliases resolved to their root).
	rootOf := aliasRoots(l.members)
	kind := map[*ir.Value]int{}
	type param struct {
		name string
		arg  *jen.Statement // the Go argument: a pointer
		val  *ir.Value
	}
	var outs, streams, scalars []param
	w := jen.Id("w")
	for j, in := range l.inputs {
		st := make([]mono, d)
		for i := range ds {
			st[i] = ds[i].in[j]
		}
		at := k.index(vars, st)
		if st[d-1].isZero() {
			// The same element for the whole call: the first of a scalar
			// operand, or the row's element of a per-row one.
			scalars = append(scalars, param{name: "s" + strconv.Itoa(len(scalars)), arg: jen.Op("&").Add(k.x(in.buf)).Index(at), val: in.val})
			kind[in.val] = avPinned
			continue
		}
		streams = append(streams, param{name: "v" + strconv.Itoa(len(streams)), arg: jen.Op("&").Add(k.x(in.buf)).Index(at.Clone().Op(":").Add(at.Clone()).Op("+").Add(w)).Index(jen.Lit(0)), val: in.val})
		kind[in.val] = avStream
	}
	consts := map[*ir.Value]uint32{}
	for _, m := range l.members {
		for _, a := range m.Args {
			if a.Op != ir.OpConstant {
				continue
			}
			x := a.Attrs.Floats("value")[0]
			switch a.Type.DType {
			case ir.F32:
				consts[a] = math.Float32bits(float32(x))
			case ir.Bool:
				consts[a] = 0
				if x != 0 {
					consts[a] = math.Float32bits(1)
				}
			default:
				return nil, false
			}
			kind[a] = avPinned
		}
	}
	for _, m := range l.members {
		if isAliasMember(m) {
			continue
		}
		if name, _ := asmOp(m); name == "" {
			return nil, false
		}
		pinned := true
		for _, a := range m.Args {
			pinned = pinned && kind[rootOf(a)] == avPinned
		}
		if pinned {
			kind[m] = avPinned // computed once per call, before the loop
		} else {
			kind[m] = avMember
		}
	}
	for si, s := range l.stores {
		from := k.index(vars, outStrides)
		outs = append(outs, param{name: "o" + strconv.Itoa(si), arg: jen.Op("&").Add(k.out(s.out)).Index(from.Clone().Op(":").Add(from.Clone()).Op("+").Add(w)).Index(jen.Lit(0)), val: s.val})
	}
	if len(outs)+len(streams) > len(asmPtrRegs) {
		return nil, false
	}

	// Register allocation. Pinned values (scalars, constants, members of
	// pinned operands) keep one register for the call; streams and
	// members take one from the first load or computation to their last
	// reader (stores read at the end). A sequence's result and
	// temporaries never share a register with its operands: some write
	// the result before reading every operand.
	lastUse := map[*ir.Value]int{}
	for i, m := range l.members {
		for _, a := range m.Args {
			lastUse[rootOf(a)] = i
		}
	}
	for _, s := range l.stores {
		lastUse[rootOf(s.val)] = len(l.members)
	}
	var aw avx512.Writer
	free := append([]string(nil), asmZRegs...)
	take := func() (string, bool) {
		if len(free) == 0 {
			return "", false
		}
		r := free[0]
		free = free[1:]
		return r, true
	}
	release := func(r string) {
		free = append(free, r)
		sort.Slice(free, func(i, j int) bool { return zNum(free[i]) < zNum(free[j]) })
	}
	reg := map[*ir.Value]string{}
	emitMember := func(w *avx512.Writer, m *ir.Value) bool {
		name, order := asmOp(m)
		o := avxOps[name]
		in := map[string]string{}
		for p, a := range order {
			in[o.Params[p]] = reg[rootOf(m.Args[a])]
		}
		var temps []string
		for t := 0; t < o.Temps; t++ {
			r, ok := take()
			if !ok {
				return false
			}
			temps = append(temps, r)
			in["t"+strconv.Itoa(t)] = r
		}
		r, ok := take()
		if !ok {
			return false
		}
		o.Asm(w, in, r, "K2")
		reg[m] = r
		for _, t := range temps {
			release(t)
		}
		return true
	}

	// The function: pointers, pinned registers, then the loop.
	fname := k.g.asmName(k.name)
	params := []string{}
	for _, p := range outs {
		params = append(params, p.name)
	}
	for _, p := range streams {
		params = append(params, p.name)
	}
	for _, p := range scalars {
		params = append(params, p.name)
	}
	off := map[string]int{}
	for i, p := range params {
		off[p] = 8 + 8*i
	}
	aw.P("// func %s(n int, %s *float32)", fname, strings.Join(params, ", "))
	aw.P("TEXT ·%s(SB), NOSPLIT, $0-%d", fname, 8+8*len(params))
	aw.I("MOVQ n+0(FP), CX")
	ptr := map[string]string{}
	for i, p := range append(append([]param(nil), outs...), streams...) {
		ptr[p.name] = asmPtrRegs[i]
		aw.I("MOVQ %s+%d(FP), %s", p.name, off[p.name], asmPtrRegs[i])
	}
	avx512.LoadConstRegs(&aw)
	for _, p := range scalars {
		r, ok := take()
		if !ok {
			return nil, false
		}
		reg[p.val] = r
		aw.I("MOVQ %s+%d(FP), AX", p.name, off[p.name])
		aw.I("VBROADCASTSS (AX), %s", r)
	}
	var constVals []*ir.Value
	for c := range consts {
		constVals = append(constVals, c)
	}
	sort.Slice(constVals, func(i, j int) bool { return l.fn.index[constVals[i]] < l.fn.index[constVals[j]] })
	for _, c := range constVals {
		r, ok := take()
		if !ok {
			return nil, false
		}
		reg[c] = r
		aw.I("MOVL $0x%08x, AX", consts[c])
		aw.I("VPBROADCASTD AX, %s", r)
	}
	for _, m := range l.members {
		if kind[m] == avPinned {
			if !emitMember(&aw, m) {
				return nil, false
			}
		}
	}
	pinnedFree := append([]string(nil), free...)

	// body emits the work on 16 elements; masked uses K1 for the loads
	// and stores of the tail. Every stream is loaded before the first
	// store, so a result may share its buffer with an operand read at
	// the same index.
	body := func(masked bool) bool {
		free = append(free[:0], pinnedFree...)
		for _, p := range streams {
			r, ok := take()
			if !ok {
				return false
			}
			reg[p.val] = r
			if masked {
				aw.I("VMOVUPS.Z (%s), K1, %s", ptr[p.name], r)
			} else {
				aw.I("VMOVUPS (%s), %s", ptr[p.name], r)
			}
		}
		for _, p := range streams {
			if _, used := lastUse[p.val]; !used {
				release(reg[p.val])
			}
		}
		for i, m := range l.members {
			if kind[m] != avMember {
				continue
			}
			if !emitMember(&aw, m) {
				return false
			}
			done := map[*ir.Value]bool{}
			for _, a := range m.Args {
				a = rootOf(a)
				if kind[a] != avPinned && lastUse[a] == i && !done[a] {
					done[a] = true
					release(reg[a])
				}
			}
		}
		for _, p := range outs {
			r := reg[rootOf(p.val)]
			if masked {
				aw.I("VMOVUPS %s, K1, (%s)", r, ptr[p.name])
			} else {
				aw.I("VMOVUPS %s, (%s)", r, ptr[p.name])
			}
		}
		return true
	}
	aw.P("loop:")
	aw.I("CMPQ CX, $16")
	aw.I("JLT tail")
	if !body(false) {
		return nil, false
	}
	for _, p := range append(append([]param(nil), outs...), streams...) {
		aw.I("ADDQ $64, %s", ptr[p.name])
	}
	aw.I("SUBQ $16, CX")
	aw.I("JMP loop")
	aw.P("tail:")
	aw.I("TESTQ CX, CX")
	aw.I("JEQ done")
	aw.I("MOVL $1, AX")
	aw.I("SHLL CX, AX")
	aw.I("DECL AX")
	aw.I("KMOVW AX, K1")
	if !body(true) {
		return nil, false
	}
	aw.P("done:")
	aw.I("VZEROUPPER")
	aw.I("RET")
	k.g.asmFuncs = append(k.g.asmFuncs, asmFunc{name: fname, params: params, text: aw.String()})

	// The Go side: one call per run of the innermost dim.
	args := []jen.Code{w}
	for _, p := range append(append(append([]param(nil), outs...), streams...), scalars...) {
		args = append(args, p.arg)
	}
	call := jen.Id(fname).Call(args...)
	var stmt jen.Code
	if d == 1 {
		stmt = jen.If(jen.Id("w").Op(":=").Id("hi").Op("-").Id("lo"), jen.Id("w").Op(">").Lit(0)).Block(
			jen.Id("c").Op(":=").Id("lo"),
			call,
		)
	} else {
		st := jen.If(jen.Id("c").Op(",").Id("w").Op(":=").Lit(0).Op(",").Add(k.n(ds[d-1].size)), jen.Id("w").Op(">").Lit(0)).Block(call)
		for i := d - 2; i >= 0; i-- {
			lf, lt := jen.Code(jen.Id("lo")), jen.Code(jen.Id("hi"))
			if i > 0 {
				lf, lt = jen.Lit(0), k.n(ds[i].size)
			}
			st = loop(vars[i], lf, lt, st)
		}
		stmt = st
	}
	return []jen.Code{stmt}, true
}

func zNum(r string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(r, "Z"))
	return n
}

// asmName returns a new identifier for an assembly function of kernel
// name.
func (g *gen) asmName(kernel string) string {
	base := kernel + "Asm"
	name := base
	for i := 1; g.asmNames[name]; i++ {
		name = base + strconv.Itoa(i)
	}
	if g.asmNames == nil {
		g.asmNames = map[string]bool{}
	}
	g.asmNames[name] = true
	return name
}

// Names of the files that carry the assembly.
const (
	asmFile    = "model_amd64.s"
	asmGoFile  = "model_amd64.go"
	noAsmFile  = "model_noasm.go"
	asmBuildOn = "amd64 && !purego"
)

// FileNames lists every file Generate may return, so that a writer can
// remove those an earlier run left and this one does not produce.
func FileNames() []string { return []string{fileName, asmFile, asmGoFile, noAsmFile} }

// generatedHeader starts every file Generate returns.
const generatedHeader = "// Code generated by dlc. DO NOT EDIT."

// IsGenerated reports whether file content b starts with the header of
// the files Generate returns.
func IsGenerated(b []byte) bool { return bytes.HasPrefix(b, []byte(generatedHeader)) }

// asmFiles renders the package's assembly functions, their declarations,
// and the stubs that stand in for them elsewhere; nil when there are none.
func (g *gen) asmFiles() map[string][]byte {
	if len(g.asmFuncs) == 0 {
		return nil
	}
	var s avx512.Writer
	s.P("%s\n", generatedHeader)
	s.P("//go:build %s\n", asmBuildOn)
	s.P("// Fused elementwise loops of package %s: each function computes one fused", g.pkg)
	s.P("// loop over n elements, 16 per iteration in zmm registers, then one masked")
	s.P("// vector for the tail (see codegen/golang/asmloop.go).\n")
	s.P("#include \"textflag.h\"\n")
	withExp := false
	for _, f := range g.asmFuncs {
		withExp = withExp || strings.Contains(f.text, "vecExpC<>")
	}
	avx512.WriteConstData(&s, withExp)
	for _, f := range g.asmFuncs {
		s.P("%s", f.text)
	}
	decl := func(f asmFunc) string {
		return fmt.Sprintf("func %s(n int, %s *float32)", f.name, strings.Join(f.params, ", "))
	}
	var a strings.Builder
	fmt.Fprintf(&a, "%s\n\n//go:build %s\n\npackage %s\n\n", generatedHeader, asmBuildOn, g.pkg)
	a.WriteString("// fusedAsm: this build carries the fused loops' assembly (model_amd64.s).\nconst fusedAsm = true\n")
	for _, f := range g.asmFuncs {
		fmt.Fprintf(&a, "\n//go:noescape\n%s\n", decl(f))
	}
	var o strings.Builder
	fmt.Fprintf(&o, "%s\n\n//go:build !(%s)\n\npackage %s\n\n", generatedHeader, asmBuildOn, g.pkg)
	o.WriteString("// fusedAsm: this build has no assembly; the fused loops run as Go.\nconst fusedAsm = false\n")
	for _, f := range g.asmFuncs {
		fmt.Fprintf(&o, "\n%s { panic(\"unreachable\") }\n", decl(f))
	}
	return map[string][]byte{
		asmFile:   s.Bytes(),
		asmGoFile: []byte(a.String()),
		noAsmFile: []byte(o.String()),
	}
}
