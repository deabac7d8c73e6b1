package golang

import (
	"errors"
	"strconv"

	"github.com/dave/jennifer/jen"
	"github.com/dlc-project/dlc/ir"
)

// kernel is the code of one IR node (or one stage of a fused node): a
// top-level function
//
//	func name(t *task, lo, hi int)
//
// whose body processes indices [lo, hi) of its outermost loop, so that the
// generated Model can run it inline or split it over the worker pool. The
// kernel reads its operands from t.in, writes t.out (and uses scratch
// space t.tmp), and takes the batch size from t.n; all other sizes are
// constants in the body.
type kernel struct {
	g    *gen
	v    *ir.Value // the node (for a fused node's product: the region's matmul)
	at   int       // body index of the node
	name string    // generated identifier
	desc string    // the node, for the doc comment
	task int       // index in Model.tasks
	ins  []*valPlan
	outs []*valPlan
	tmps []*valPlan
	pool bool // the kernel calls runtime.Sgemm, which splits work over t.pool
	// serialGemm: the kernel's GEMMs run serially (nil pool), the pool
	// splitting the kernel's rows instead (batches of small products).
	serialGemm bool

	// A matmul kernel whose epilogue runs inside the GEMM
	// (runtime.SgemmEpilogue) on each block of finished rows: epi is the
	// epilogue kernel, and a product row is epiRows of its outermost loop.
	// The epilogue kernel has inGemm set and no call of its own.
	epi     *kernel
	epiRows int64
	inGemm  bool

	tmpSizes []mono // scratch buffers the emitter asks for (become tmps)
	tmpF64   []bool // which of them hold f64 (see setTmpDType); f32 if not set
	body     []jen.Code
	rows     mono // extent of the outermost loop: what the pool splits
	work     mono // elements touched: whether splitting pays
	usesN    bool
	uses     map[string]bool // locals the body reads: "out", "x0", ...
	nOut     int             // number of outputs, for naming: "out" when one, else "out0", "out1", ...
}

// emitFunc fills in a kernel's body, rows and work for its node. It may
// fail for a node the backend cannot compile; the error is wrapped with
// the node's place.
type emitFunc func(k *kernel) error

// elemFuncs gives the element expression of each elementwise op but cast
// (castElem) and broadcast (the identity); the unfused kernels and the
// fused loops share them, so both compute the same bits.
var elemFuncs = map[string]elemFunc{
	ir.OpAdd: binary("+"),
	ir.OpSub: binary("-"),
	ir.OpMul: binary("*"),
	ir.OpDiv: binary("/"),

	ir.OpNeg:     func(_ *kernel, x []*jen.Statement) *jen.Statement { return jen.Op("-").Add(x[0]) },
	ir.OpExp:     runtimeFunc("Exp32"),
	ir.OpLog:     runtimeFunc("Log32"),
	ir.OpSqrt:    mathFunc("Sqrt"),
	ir.OpTanh:    runtimeFunc("Tanh32"),
	ir.OpCos:     mathFunc("Cos"),
	ir.OpSin:     mathFunc("Sin"),
	ir.OpFloor:   mathFunc("Floor"),
	ir.OpRelu:    helperCall("relu"),
	ir.OpSigmoid: runtimeFunc("Sigmoid32"),

	ir.OpGreater:      compare(">"),
	ir.OpGreaterEqual: compare(">="),
	ir.OpLess:         compare("<"),
	ir.OpLessEqual:    compare("<="),
	ir.OpEqual:        compare("=="),
	ir.OpSelect:       helperCall("sel"),
}

// emitters holds the emitter of every op in ir's op table (a test walks
// ir.Ops() against it). Leaf ops (constant, weight) have no kernel: their
// values are buffers New fills once. Fused nodes are planned by planFused
// (one loop nest per node, two kernels for a matmul and its epilogue) and
// extract has no code: its value is an output buffer of its fused node.
var emitters = map[string]emitFunc{
	ir.OpConstant: emitLeaf,
	ir.OpWeight:   emitLeaf,

	ir.OpAdd: elementwise(elemFuncs[ir.OpAdd]),
	ir.OpSub: elementwise(elemFuncs[ir.OpSub]),
	ir.OpMul: elementwise(elemFuncs[ir.OpMul]),
	ir.OpDiv: elementwise(elemFuncs[ir.OpDiv]),

	ir.OpNeg:     elementwise(elemFuncs[ir.OpNeg]),
	ir.OpExp:     elementwise(elemFuncs[ir.OpExp]),
	ir.OpLog:     elementwise(elemFuncs[ir.OpLog]),
	ir.OpSqrt:    elementwise(elemFuncs[ir.OpSqrt]),
	ir.OpTanh:    elementwise(elemFuncs[ir.OpTanh]),
	ir.OpCos:     elementwise(elemFuncs[ir.OpCos]),
	ir.OpSin:     elementwise(elemFuncs[ir.OpSin]),
	ir.OpFloor:   elementwise(elemFuncs[ir.OpFloor]),
	ir.OpRelu:    elementwise(elemFuncs[ir.OpRelu]),
	ir.OpSigmoid: elementwise(elemFuncs[ir.OpSigmoid]),

	ir.OpGreater:      elementwise(elemFuncs[ir.OpGreater]),
	ir.OpGreaterEqual: elementwise(elemFuncs[ir.OpGreaterEqual]),
	ir.OpLess:         elementwise(elemFuncs[ir.OpLess]),
	ir.OpLessEqual:    elementwise(elemFuncs[ir.OpLessEqual]),
	ir.OpEqual:        elementwise(elemFuncs[ir.OpEqual]),
	ir.OpSelect:       elementwise(elemFuncs[ir.OpSelect]),
	ir.OpCast:         emitCast,

	ir.OpMatMul:     emitMatMul,
	ir.OpReduceSum:  reduction(ir.OpReduceSum),
	ir.OpReduceMean: reduction(ir.OpReduceMean),
	ir.OpReduceMax:  reduction(ir.OpReduceMax),
	ir.OpSoftmax:    rowwise(false),
	ir.OpLogSoftmax: rowwise(true),
	ir.OpReshape:    emitReshape,
	ir.OpTranspose:  emitTranspose,
	ir.OpBroadcast:  elementwise(nil),
	ir.OpSize:       emitSize,

	ir.OpFused:   emitNoKernel,
	ir.OpExtract: emitNoKernel,
}

func emitLeaf(*kernel) error {
	return errors.New("internal error: leaf ops have no kernel")
}

func emitNoKernel(*kernel) error {
	return errors.New("internal error: fused and extract nodes are planned by planFused")
}

// n renders a size, noting that the body needs the batch size.
func (k *kernel) n(m mono) *jen.Statement {
	if m.p > 0 {
		k.usesN = true
	}
	return m.code("n")
}

// x names operand i's buffer.
func (k *kernel) x(i int) *jen.Statement {
	name := "x" + strconv.Itoa(i)
	k.uses[name] = true
	return jen.Id(name)
}

// o names the result buffer of a kernel with one result.
func (k *kernel) o() *jen.Statement { return k.out(0) }

// out names result buffer i.
func (k *kernel) out(i int) *jen.Statement {
	name := k.outName(i)
	k.uses[name] = true
	return jen.Id(name)
}

func (k *kernel) outName(i int) string {
	if k.nOut <= 1 {
		return "out"
	}
	return "out" + strconv.Itoa(i)
}

// tmp names scratch buffer i.
func (k *kernel) tmp(i int) *jen.Statement {
	name := "tmp" + strconv.Itoa(i)
	k.uses[name] = true
	return jen.Id(name)
}

// helper names a helper function of the generated file, which is then
// emitted (only helpers some kernel calls are).
func (k *kernel) helper(name string) *jen.Statement {
	k.g.helpers[name] = true
	return jen.Id(name)
}

// decl renders the kernel's function.
func (k *kernel) decl() jen.Code {
	var names, vals []jen.Code
	if k.usesN {
		names = append(names, jen.Id("n"))
		vals = append(vals, jen.Id("t").Dot("n"))
	}
	for i := range max(k.nOut, 1) {
		if name := k.outName(i); k.uses[name] {
			names = append(names, jen.Id(name))
			vals = append(vals, k.view(k.outs[i].dtype(), jen.Id("t").Dot("out").Index(jen.Lit(i))))
		}
	}
	for i := range k.ins {
		if name := "x" + strconv.Itoa(i); k.uses[name] {
			names = append(names, jen.Id(name))
			vals = append(vals, k.view(k.ins[i].dtype(), jen.Id("t").Dot("in").Index(jen.Lit(i))))
		}
	}
	for i := range k.tmps {
		if name := "tmp" + strconv.Itoa(i); k.uses[name] {
			names = append(names, jen.Id(name))
			vals = append(vals, k.view(k.tmps[i].dtype(), jen.Id("t").Dot("tmp").Index(jen.Lit(i))))
		}
	}
	var body []jen.Code
	if len(names) > 0 {
		body = append(body, jen.List(names...).Op(":=").List(vals...))
	}
	body = append(body, k.body...)
	return jen.Commentf("%s computes %s.", k.name, k.desc).Line().
		Func().Id(k.name).Params(jen.Id("t").Op("*").Id("task"), jen.List(jen.Id("lo"), jen.Id("hi")).Int()).
		Block(body...)
}

// index renders Σ vars[d]*strides[d], leaving out zero strides.
func (k *kernel) index(vars []string, strides []mono) *jen.Statement {
	var terms []jen.Code
	for d, s := range strides {
		switch {
		case s.isZero():
		case s.isOne():
			terms = append(terms, jen.Id(vars[d]))
		default:
			terms = append(terms, jen.Id(vars[d]).Op("*").Add(k.n(s)))
		}
	}
	return sum(terms)
}

// loop wraps body in "for v := from; v < to; v++".
func loop(v string, from, to jen.Code, body ...jen.Code) *jen.Statement {
	return jen.For(jen.Id(v).Op(":=").Add(from), jen.Id(v).Op("<").Add(to), jen.Id(v).Op("++")).Block(body...)
}

// broadcastStrides gives, for each dim of out, the stride of the operand
// of shape in broadcast to it (NumPy rules: aligned from the right, a
// missing or size-1 dim is read with stride 0).
func broadcastStrides(in, out ir.Shape) []mono {
	inSt := contiguous(shapeMonos(in))
	st := make([]mono, len(out))
	off := len(out) - len(in)
	for i := range out {
		j := i - off
		if j < 0 || (in[j] == ir.C(1) && out[i] != ir.C(1)) {
			continue
		}
		st[i] = inSt[j]
	}
	return st
}

// elemFunc renders the result element from the operands' elements.
type elemFunc func(k *kernel, x []*jen.Statement) *jen.Statement

// elementwise emits an op applied pointwise to operands broadcast to the
// result's shape. A nil f is the identity (broadcast).
func elementwise(f elemFunc) emitFunc {
	return func(k *kernel) error {
		f := f
		switch {
		case isIntArith(k.v):
			f = intArithElem(k.v)
		case f != nil && k.v.Op != ir.OpCast && isNarrowNode(k.v):
			f = narrowElem(k.v) // checkNarrow let only ops that have one through
		case f != nil && k.v.Op != ir.OpCast && touchesF64(k.v):
			f = f64Elem(k.v) // checkF64 let only ops that have one through
		}
		out := k.v.Type.Shape
		strides := make([][]mono, len(k.v.Args))
		for i, a := range k.v.Args {
			strides[i] = broadcastStrides(a.Type.Shape, out)
		}
		if f != nil && k.emitMapVec(shapeMonos(out), strides) {
			return nil
		}
		k.emitMap(shapeMonos(out), strides, f)
		return nil
	}
}

func binary(op string) elemFunc {
	return func(_ *kernel, x []*jen.Statement) *jen.Statement { return jen.Add(x[0]).Op(op).Add(x[1]) }
}

// mathFunc computes in float64 and rounds once, as the interpreter does.
func mathFunc(name string) elemFunc {
	return func(_ *kernel, x []*jen.Statement) *jen.Statement {
		return jen.Float32().Call(jen.Qual(mathPath, name).Call(jen.Float64().Call(x[0])))
	}
}

// runtimeFunc calls a float32 function of package runtime (Exp32,
// Sigmoid32, Tanh32, Log32, Erf32: the scalar twins of the vector loops, same
// bits).
func runtimeFunc(name string) elemFunc {
	return func(_ *kernel, x []*jen.Statement) *jen.Statement {
		return jen.Qual(runtimePath, name).Call(x[0])
	}
}

func helperCall(name string) elemFunc {
	return func(k *kernel, x []*jen.Statement) *jen.Statement {
		args := make([]jen.Code, len(x))
		for i, a := range x {
			args[i] = a
		}
		return k.helper(name).Call(args...)
	}
}

// compare gives a bool, stored as 0 or 1.
func compare(op string) elemFunc {
	return func(k *kernel, x []*jen.Statement) *jen.Statement {
		return k.helper("b2f").Call(jen.Add(x[0]).Op(op).Add(x[1]))
	}
}

// emitCast converts between f32 and bool; bool is already stored as 0/1,
// so only a cast to bool computes (x != 0, as Go and the interpreter do).
func emitCast(k *kernel) error {
	return elementwise(castElem(k.v.Args[0].Type.DType, k.v.Type.DType))(k)
}

// castElem is the element expression of a cast, nil for the identity.
func castElem(from, to ir.DType) elemFunc {
	if isNarrow(to) && from != to {
		return narrowCastElem(from, to)
	}
	if from == ir.F64 || to == ir.F64 {
		return f64CastElem(from, to)
	}
	if to.IsInt() {
		return intCastElem(from, to)
	}
	if to == ir.Bool && from != ir.Bool {
		return func(k *kernel, x []*jen.Statement) *jen.Statement {
			return k.helper("b2f").Call(jen.Add(x[0]).Op("!=").Lit(0))
		}
	}
	return nil
}

// emitMap emits out[i] = f(x0[...], x1[...], ...) over the result dims,
// where operand j is read with strides[j] (one stride per result dim).
// Size-1 dims are dropped and adjacent dims that every buffer walks
// contiguously are merged, so equal shapes become one flat loop and a
// bias add becomes rows × columns. Operands read with all-zero strides
// (scalars) are loaded once before the loops.
func (k *kernel) emitMap(dims []mono, strides [][]mono, f elemFunc) {
	ds := mergeDims(dims, strides)
	sizes := make([]mono, len(ds))
	vars := make([]string, len(ds))
	outStrides := make([]mono, len(ds))
	for d := range ds {
		sizes[d], vars[d], outStrides[d] = ds[d].size, "i"+strconv.Itoa(d), ds[d].out
	}
	k.rows, k.work = ds[0].size, product(sizes)

	if f == nil && len(ds) == 1 && ds[0].in[0].isOne() {
		// A contiguous copy.
		k.body = append(k.body, jen.Copy(k.o().Index(jen.Id("lo").Op(":").Id("hi")), k.x(0).Index(jen.Id("lo").Op(":").Id("hi"))))
		return
	}
	if last := ds[len(ds)-1]; f == nil && len(ds) > 1 && last.in[0].isOne() && last.out.isOne() && (last.size.p > 0 || last.size.c >= 8) {
		// A copy whose innermost dim is contiguous on both sides (a
		// transpose keeping the last dim, a broadcast of rows): one
		// copy per run instead of an element loop.
		outer, ost, ist := vars[:len(ds)-1], outStrides[:len(ds)-1], make([]mono, len(ds)-1)
		for d := range ist {
			ist[d] = ds[d].in[0]
		}
		body := k.copyRun(k.index(outer, ost), k.index(outer, ist), last.size)
		k.body = append(k.body, k.nest(outer, sizes[:len(ds)-1], true, nil, body...)...)
		return
	}
	vals := make([]*jen.Statement, len(strides))
	for j := range strides {
		scalar := true
		for _, d := range ds {
			scalar = scalar && d.in[j].isZero()
		}
		if scalar {
			s := "s" + strconv.Itoa(j)
			k.body = append(k.body, jen.Id(s).Op(":=").Add(k.x(j)).Index(jen.Lit(0)))
			vals[j] = jen.Id(s)
			continue
		}
		st := make([]mono, len(ds))
		for d := range ds {
			st[d] = ds[d].in[j]
		}
		vals[j] = k.x(j).Index(k.index(vars, st))
	}
	var val *jen.Statement
	if f == nil {
		val = vals[0]
	} else {
		val = f(k, vals)
	}
	stmt := k.o().Index(k.index(vars, outStrides)).Op("=").Add(val)
	for d := len(ds) - 1; d >= 0; d-- {
		if d == 0 {
			stmt = loop(vars[d], jen.Id("lo"), jen.Id("hi"), stmt)
		} else {
			stmt = loop(vars[d], jen.Lit(0), k.n(ds[d].size), stmt)
		}
	}
	k.body = append(k.body, stmt)
}

// copyRun copies a contiguous run of w elements of operand 0 at srcOff to
// the result at outOff: o := outOff; s := srcOff; copy(out[o:o+w], x0[s:s+w]).
func (k *kernel) copyRun(outOff, srcOff *jen.Statement, w mono) []jen.Code {
	return []jen.Code{
		jen.Id("o").Op(":=").Add(outOff),
		jen.Id("s").Op(":=").Add(srcOff),
		jen.Copy(k.o().Index(jen.Id("o").Op(":").Id("o").Op("+").Add(k.n(w))),
			k.x(0).Index(jen.Id("s").Op(":").Id("s").Op("+").Add(k.n(w)))),
	}
}

// ldim is one loop of a map over merged dims: its extent, the output's
// stride and each operand's.
type ldim struct {
	size, out mono
	in        []mono
}

// mergeDims drops the size-1 dims of a map over dims (the output written
// contiguously, operand j read with strides[j]) and merges adjacent dims
// that every buffer walks contiguously, so that equal shapes become one
// flat loop and a bias add becomes rows × columns. There is always at
// least one loop.
func mergeDims(dims []mono, strides [][]mono) []ldim {
	outSt := contiguous(dims)
	var ds []ldim
	for i, d := range dims {
		if d.isOne() {
			continue
		}
		cur := ldim{size: d, out: outSt[i]}
		for _, s := range strides {
			cur.in = append(cur.in, s[i])
		}
		if len(ds) > 0 {
			last := &ds[len(ds)-1]
			ok := last.out == cur.out.mul(cur.size)
			for j := range cur.in {
				ok = ok && last.in[j] == cur.in[j].mul(cur.size)
			}
			if ok {
				last.size, last.out, last.in = last.size.mul(cur.size), cur.out, cur.in
				continue
			}
		}
		ds = append(ds, cur)
	}
	if len(ds) == 0 {
		ds = []ldim{{size: one, out: one, in: make([]mono, len(strides))}}
	}
	return ds
}

// emitReshape copies the elements in order.
func emitReshape(k *kernel) error {
	n := product(shapeMonos(k.v.Type.Shape))
	k.emitMap([]mono{n}, [][]mono{{one}}, nil)
	return nil
}

// emitTranspose copies with result dim i read from operand dim perm[i].
func emitTranspose(k *kernel) error {
	in := k.v.Args[0].Type.Shape
	inSt := contiguous(shapeMonos(in))
	perm := k.v.Attrs.Ints("perm")
	st := make([]mono, len(perm))
	for i, p := range perm {
		st[i] = inSt[p]
	}
	k.emitMap(shapeMonos(k.v.Type.Shape), [][]mono{st}, nil)
	return nil
}

// emitSize writes the element count over the axes, the batch included.
func emitSize(k *kernel) error {
	in := k.v.Args[0].Type.Shape
	axes, err := ir.NormalizeAxes(k.v.Attrs.Ints("axes"), len(in))
	if err != nil {
		return err
	}
	count := one
	for _, ax := range axes {
		count = count.mul(dimMono(in[ax]))
	}
	k.rows, k.work = one, one
	var val jen.Code
	switch {
	case k.v.Type.DType == ir.Bool && count.p == 0:
		val = jen.Lit(b2i(count.c != 0))
	case k.v.Type.DType == ir.Bool:
		val = k.helper("b2f").Call(k.n(count).Op("!=").Lit(0))
	case count.p == 0:
		val = jen.Lit(int(count.c))
	default:
		val = roundTo(k.v.Type.DType, k.n(count))
	}
	k.body = append(k.body, k.o().Index(jen.Lit(0)).Op("=").Add(val))
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// reduction emits a sum, mean or max over axes as a gather: for each result
// element (the kept dims, outermost first, which the pool splits), a loop
// nest over the reduced dims. Sums accumulate in float64, as the
// interpreter does, so long reductions agree with it.
func reduction(op string) emitFunc {
	return func(k *kernel) error {
		in := k.v.Args[0].Type.Shape
		axes, err := ir.NormalizeAxes(k.v.Attrs.Ints("axes"), len(in))
		if err != nil {
			return err
		}
		isAxis := make([]bool, len(in))
		for _, ax := range axes {
			isAxis[ax] = true
		}
		var kept, red []rdim
		dims := shapeMonos(in)
		st := contiguous(dims)
		count := one
		for i, d := range dims {
			if isAxis[i] {
				count = count.mul(d)
			}
			if d.isOne() {
				continue
			}
			list := &kept
			if isAxis[i] {
				list = &red
			}
			// The operand is contiguous, so neighbouring dims of the same
			// kind (kept or reduced) merge into one.
			if i > 0 && len(*list) > 0 && (*list)[len(*list)-1].stride == st[i].mul(d) && prevKind(dims, isAxis, i) == isAxis[i] {
				last := &(*list)[len(*list)-1]
				last.size, last.stride = last.size.mul(d), st[i]
				continue
			}
			*list = append(*list, rdim{d, st[i]})
		}
		if len(kept) == 0 {
			kept = []rdim{{one, mono{}}}
		}
		if len(red) == 0 {
			red = []rdim{{one, mono{}}}
		}
		k.rows, k.work = kept[0].size, product(dims)
		if colSum(k, op, kept, red, count) { // see kernels_colsum.go
			return nil
		}

		keptVars, keptSizes, keptSt := make([]string, len(kept)), make([]mono, len(kept)), make([]mono, len(kept))
		for d, kd := range kept {
			keptVars[d], keptSizes[d], keptSt[d] = "i"+strconv.Itoa(d), kd.size, kd.stride
		}
		vars, inSt := append([]string{}, keptVars...), append([]mono{}, keptSt...)
		for d, rd := range red {
			vars, inSt = append(vars, "r"+strconv.Itoa(d)), append(inSt, rd.stride)
		}
		elem := k.x(0).Index(k.index(vars, inSt))
		dt := k.v.Type.DType
		var acc, init, result jen.Code
		switch op {
		case ir.OpReduceMax:
			init = roundTo(dt, jen.Qual(mathPath, "Inf").Call(jen.Lit(-1)))
			acc = jen.Id("acc").Op("=").Max(jen.Id("acc"), elem)
			result = jen.Id("acc")
		case ir.OpReduceMin:
			init = roundTo(dt, jen.Qual(mathPath, "Inf").Call(jen.Lit(1)))
			acc = jen.Id("acc").Op("=").Min(jen.Id("acc"), elem)
			result = jen.Id("acc")
		case ir.OpReduceProd:
			init = jen.Lit(1.0)
			acc = jen.Id("acc").Op("*=").Float64().Call(elem)
			result = roundTo(dt, jen.Id("acc"))
		default:
			init = jen.Lit(0.0)
			acc = jen.Id("acc").Op("+=").Float64().Call(elem)
			result = roundTo(dt, jen.Id("acc"))
			if op == ir.OpReduceMean {
				result = roundTo(dt, jen.Id("acc").Op("/").Float64().Call(k.n(count)))
			}
		}
		inner := acc
		for d := len(red) - 1; d >= 0; d-- {
			inner = loop("r"+strconv.Itoa(d), jen.Lit(0), k.n(red[d].size), inner)
		}
		// An f32 sum over one contiguous run (the last axis, as rows
		// regions reduce) accumulates in runtime.VecSum64's blocked order,
		// as the rows kernels do (rows_vec.go), with one VecSum64 where
		// vector loops are on.
		sumRow := []jen.Code{jen.Id("acc").Op(":=").Add(init), inner}
		if dt == ir.F32 && (op == ir.OpReduceSum || op == ir.OpReduceMean) && len(red) == 1 && red[0].stride.isOne() {
			if k.g.noVector {
				decl, add, total := reduceLanes("lanes", "r0", elem.Clone())
				sumRow = []jen.Code{decl, loop("r0", jen.Lit(0), k.n(red[0].size), add), jen.Id("acc").Op(":=").Add(total)}
			} else {
				at := k.index(keptVars, keptSt)
				sumRow = []jen.Code{jen.Id("acc").Op(":=").Qual(runtimePath, "VecSum64").Call(
					k.x(0).Index(at.Clone().Op(":").Add(at).Op("+").Add(k.n(red[0].size))))}
			}
		}
		var s jen.Code
		for d := len(kept) - 1; d >= 0; d-- {
			var from, to jen.Code = jen.Id("lo"), jen.Id("hi")
			if d > 0 {
				from, to = jen.Lit(0), k.n(kept[d].size)
			}
			if d == len(kept)-1 {
				s = loop(keptVars[d], from, to, append(sumRow,
					k.o().Index(k.index(keptVars, contiguous(keptSizes))).Op("=").Add(result))...)
			} else {
				s = loop(keptVars[d], from, to, s)
			}
		}
		k.body = append(k.body, s)
		return nil
	}
}

// prevKind reports whether the nearest non-unit dim before i is reduced
// (or isAxis[i] when there is none), so that only dims adjacent in the
// operand's layout are merged.
func prevKind(dims []mono, isAxis []bool, i int) bool {
	for j := i - 1; j >= 0; j-- {
		if !dims[j].isOne() {
			return isAxis[j]
		}
	}
	return isAxis[i]
}

// rowwise emits softmax or log_softmax along one axis: for each row, the
// max, then the sum of exp(x - max) in float64, as the interpreter does;
// subtracting the max keeps exp from overflowing. Rows (the dims before
// the axis) are what the pool splits.
func rowwise(log bool) emitFunc {
	return func(k *kernel) error {
		shape := k.v.Type.Shape
		axes, err := ir.NormalizeAxes([]int64{k.v.Attrs.Int("axis", -1)}, len(shape))
		if err != nil {
			return err
		}
		ax := axes[0]
		dims := shapeMonos(shape)
		outer, length, inner := product(dims[:ax]), dims[ax], product(dims[ax+1:])
		k.rows, k.work = outer, product(dims)

		// at(j) is the index of element j of the current row.
		at := func(j string) *jen.Statement {
			if inner.isOne() {
				return jen.Id("base").Op("+").Id(j)
			}
			return jen.Id("base").Op("+").Id(j).Op("*").Add(k.n(inner))
		}
		xj := func() *jen.Statement { return k.x(0).Index(at("j")) }
		oj := func() *jen.Statement { return k.o().Index(at("j")) }
		dt := k.v.Type.DType
		// xrow and orow, the rows as slices, are set where vector loops
		// may run over them (see rows_exp.go).
		var xrow, orow *jen.Statement
		if inner.isOne() && !k.g.noVector {
			if wideRow(length) {
				xrow = k.x(0).Index(jen.Id("base").Op(":").Id("base").Op("+").Add(k.n(length)))
			}
			orow = k.o().Index(jen.Id("base").Op(":").Id("base").Op("+").Add(k.n(length)))
		}
		row := []jen.Code{
			jen.Id("mx").Op(":=").Add(roundTo(dt, jen.Qual(mathPath, "Inf").Call(jen.Lit(-1)))),
			loop("j", jen.Lit(0), k.n(length), jen.Id("mx").Op("=").Max(jen.Id("mx"), xj())),
		}
		if dt == ir.F32 {
			row = rowMaxF32(xj, k.n(length), xrow, "mx")
		}
		if dt != ir.F32 {
			row = append(row, jen.Id("sum").Op(":=").Lit(0.0))
		}
		diff := jen.Float64().Call(xj()).Op("-").Float64().Call(jen.Id("mx"))
		switch {
		case dt == ir.F32 && log: // see rows_exp.go
			row = append(row, logSoftmaxSumF32(xj, k.n(length), "mx", "sum")...)
			row = append(row,
				jen.Id("lse").Op(":=").Qual(mathPath, "Log").Call(jen.Id("sum")),
				loop("j", jen.Lit(0), k.n(length),
					oj().Op("=").Add(roundTo(dt, jen.Float64().Call(xj()).Op("-").Float64().Call(jen.Id("mx")).Op("-").Id("lse")))),
			)
		case dt == ir.F32:
			row = append(row, softmaxRowF32(xj, oj, k.n(length), xrow, orow, "mx", "sum", "inv")...)
		case log:
			row = append(row,
				loop("j", jen.Lit(0), k.n(length),
					jen.Id("sum").Op("+=").Qual(mathPath, "Exp").Call(diff)),
				jen.Id("lse").Op(":=").Qual(mathPath, "Log").Call(jen.Id("sum")),
				loop("j", jen.Lit(0), k.n(length),
					oj().Op("=").Add(roundTo(dt, jen.Float64().Call(xj()).Op("-").Float64().Call(jen.Id("mx")).Op("-").Id("lse")))),
			)
		default:
			row = append(row,
				loop("j", jen.Lit(0), k.n(length),
					jen.Id("e").Op(":=").Qual(mathPath, "Exp").Call(diff),
					jen.Id("sum").Op("+=").Id("e"),
					oj().Op("=").Add(roundTo(dt, jen.Id("e")))),
				loop("j", jen.Lit(0), k.n(length),
					oj().Op("=").Add(roundTo(dt, jen.Float64().Call(oj()).Op("/").Id("sum")))),
			)
		}
		var body []jen.Code
		if inner.isOne() {
			body = append([]jen.Code{jen.Id("base").Op(":=").Id("o").Op("*").Add(k.n(length))}, row...)
		} else {
			body = []jen.Code{loop("c", jen.Lit(0), k.n(inner),
				append([]jen.Code{jen.Id("base").Op(":=").Id("o").Op("*").Add(k.n(length.mul(inner))).Op("+").Id("c")}, row...)...)}
		}
		k.body = append(k.body, loop("o", jen.Id("lo"), jen.Id("hi"), body...))
		return nil
	}
}

// emitMatMul calls runtime.Sgemm, which splits the product over the pool
// itself; the kernel therefore runs inline (rows = 1). It reads operands
// 0 and 1 of the kernel and writes its output 0. A batch of matrices
// times one matrix is folded into a single taller product; other batched
// products loop over the (broadcast) batch dims.
func emitMatMul(k *kernel) error {
	a, b := k.v.Args[0].Type, k.v.Args[1].Type
	ta, tb := k.v.Attrs.Bool("transpose_a", false), k.v.Attrs.Bool("transpose_b", false)
	batch, md, kd, nd, err := ir.MatMulDims(a, b, ta, tb)
	if err != nil {
		return err
	}
	ra, rb := len(a.Shape), len(b.Shape)
	m, kk, n := dimMono(md), dimMono(kd), dimMono(nd)
	lda, ldb := dimMono(a.Shape[ra-1]), dimMono(b.Shape[rb-1])
	f64 := k.v.Type.DType == ir.F64
	k.pool = !f64
	k.rows, k.work = one, product(shapeMonos(batch)).mul(m).mul(kk).mul(n)
	sub := func(buf *jen.Statement, off *jen.Statement, zero bool) *jen.Statement {
		if zero {
			return buf
		}
		return buf.Index(off.Op(":"))
	}
	call := func(rows mono, aoff, boff, coff *jen.Statement, az, bz, cz bool) jen.Code {
		pool := jen.Id("t").Dot("pool")
		if k.serialGemm {
			pool = jen.Nil()
		}
		args := []jen.Code{pool, jen.Lit(ta), jen.Lit(tb), k.n(rows), k.n(n), k.n(kk), jen.Lit(1),
			sub(k.x(0), aoff, az), k.n(lda), sub(k.x(1), boff, bz), k.n(ldb), jen.Lit(0),
			sub(k.o(), coff, cz), k.n(n)}
		if f64 {
			// runtime.Dgemm sums each element in the interpreter's order.
			return jen.Qual(runtimePath, "Dgemm").Call(args[1:]...)
		}
		if k.epi != nil {
			// The epilogue task reads the batch size; set here, on the
			// calling goroutine, before the workers run it.
			return jen.Id("t").Dot("epi").Dot("n").Op("=").Id("t").Dot("n").Line().
				Qual(runtimePath, "SgemmEpilogue").Call(append(args, jen.Id("t"))...)
		}
		return jen.Qual(runtimePath, "Sgemm").Call(args...)
	}
	if tallMatMul(k.v) {
		// The batch dims of a (if any) are rows of one tall product.
		rows := product(shapeMonos(a.Shape[:ra-1]))
		if ta {
			rows = m
		}
		k.body = append(k.body, call(rows, nil, nil, nil, true, true, true))
		return nil
	}
	aSt := broadcastStrides(a.Shape[:ra-2], batch)
	bSt := broadcastStrides(b.Shape[:rb-2], batch)
	cSt := contiguous(shapeMonos(batch))
	aMat, bMat, cMat := product(shapeMonos(a.Shape[ra-2:])), product(shapeMonos(b.Shape[rb-2:])), m.mul(n)
	var vars []string
	var as, bs, cs, sizes []mono
	for i, d := range batch {
		if d == ir.C(1) {
			continue
		}
		vars = append(vars, "b"+strconv.Itoa(len(vars)))
		as, bs, cs = append(as, aSt[i].mul(aMat)), append(bs, bSt[i].mul(bMat)), append(cs, cSt[i].mul(cMat))
		sizes = append(sizes, dimMono(d))
	}
	allZero := func(st []mono) bool {
		for _, s := range st {
			if !s.isZero() {
				return false
			}
		}
		return true
	}
	if prod := m.mul(kk).mul(n); !f64 && k.epi == nil && len(vars) > 0 && prod.p == 0 && 2*prod.c < batchedGemmSerialFlops {
		// Many small products (attention's per-head matmuls): each is
		// too small for Sgemm to split, so the pool splits the batch of
		// products instead, each worker running its share serially.
		// Every product sums as before: the same bits.
		k.rows = product(sizes)
		body := []jen.Code{}
		rem := "r"
		for d := len(vars) - 1; d >= 0; d-- {
			if d == 0 {
				body = append(body, jen.Id(vars[d]).Op(":=").Id(rem))
				break
			}
			body = append(body, jen.Id(vars[d]).Op(":=").Id(rem).Op("%").Add(k.n(sizes[d])))
			next := "q" + strconv.Itoa(d)
			body = append(body, jen.Id(next).Op(":=").Id(rem).Op("/").Add(k.n(sizes[d])))
			rem = next
		}
		k.serialGemm, k.pool = true, false
		body = append(body, call(m, k.index(vars, as), k.index(vars, bs), k.index(vars, cs), allZero(as), allZero(bs), allZero(cs)))
		k.body = append(k.body, jen.For(jen.Id("r").Op(":=").Id("lo"), jen.Id("r").Op("<").Id("hi"), jen.Id("r").Op("++")).Block(body...))
		return nil
	}
	var stmt jen.Code = call(m, k.index(vars, as), k.index(vars, bs), k.index(vars, cs), allZero(as), allZero(bs), allZero(cs))
	for d := len(vars) - 1; d >= 0; d-- {
		stmt = loop(vars[d], jen.Lit(0), k.n(sizes[d]), stmt)
	}
	k.body = append(k.body, stmt)
	return nil
}

// batchedGemmSerialFlops is runtime's sgemmParMinFlops: a product below it
// runs serially inside Sgemm, so a batch of them is split over the pool
// by the kernel instead.
const batchedGemmSerialFlops = 1 << 20

// tallMatMul reports whether matmul v is one product (its batch dims, if
// any, rows of a tall A), and tallRows gives that product's rows.
func tallMatMul(v *ir.Value) bool {
	a, b := v.Args[0].Type, v.Args[1].Type
	ta, tb := v.Attrs.Bool("transpose_a", false), v.Attrs.Bool("transpose_b", false)
	batch, _, _, _, err := ir.MatMulDims(a, b, ta, tb)
	return err == nil && (len(batch) == 0 || (len(b.Shape) == 2 && !ta))
}

func tallRows(v *ir.Value) mono {
	a, b := v.Args[0].Type, v.Args[1].Type
	ta, tb := v.Attrs.Bool("transpose_a", false), v.Attrs.Bool("transpose_b", false)
	_, md, _, _, _ := ir.MatMulDims(a, b, ta, tb)
	if ta {
		return dimMono(md)
	}
	return product(shapeMonos(a.Shape[:len(a.Shape)-1]))
}

// fuseEpilogue moves epilogue kernel ek into matmul kernel mk's GEMM when
// ek's outermost loop walks the product's rows (epiRows 1) or its
// elements (epiRows = the product's columns), and reports whether it did.
func (g *gen) fuseEpilogue(mk, ek *kernel) bool {
	if g.noFuse || !tallMatMul(mk.v) || mk.v.Type.DType == ir.F64 {
		return false // (runtime.Dgemm has no epilogue)
	}
	a, b := mk.v.Args[0].Type, mk.v.Args[1].Type
	_, _, _, nd, _ := ir.MatMulDims(a, b, mk.v.Attrs.Bool("transpose_a", false), mk.v.Attrs.Bool("transpose_b", false))
	if nd.Sym != "" {
		return false
	}
	rows := tallRows(mk.v)
	switch {
	case ek.rows == rows:
		mk.epiRows = 1
	case ek.rows == rows.mul(constMono(nd.Size)):
		mk.epiRows = nd.Size
	default:
		return false
	}
	mk.epi, ek.inGemm = ek, true
	mk.body = nil
	if err := emitMatMul(mk); err != nil {
		panic("internal error: re-emitting a matmul: " + err.Error())
	}
	g.gemmEpi = true
	return true
}
