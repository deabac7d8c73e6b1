package golang

import (
	"fmt"
	"math"
	"strconv"

	"github.com/dave/jennifer/jen"
	"github.com/dlc-project/dlc/ir"
)

// Emitters of the data-movement, indexing and reduction ops
// (ir/ops_index.go).
//
// Integer values (indices, argmax's result, ids cast from the input) are
// stored like every other value: as float32 holding a whole number, exact
// up to 2^24, far beyond any index into a tensor the generated code can
// hold. Only the ops in intResults may produce an integer value (they
// compute it exactly: they count positions, move elements or convert); an
// op that would compute on integers (add, mul, ...) is rejected by
// checkValueType, as before.

// intResults are the ops whose integer-typed results the backend computes
// exactly in float32 storage. A cast to an integer truncates (a whole
// float32 is exact) or wraps as Go does (see intCastElem); a fused node
// that runs fused has had each member checked by analyzeFused.
var intResults = map[string]bool{
	ir.OpConstant: true, ir.OpFused: true, ir.OpExtract: true, ir.OpReshape: true, ir.OpTranspose: true, ir.OpBroadcast: true,
	ir.OpCast: true, ir.OpSelect: true, ir.OpMinimum: true, ir.OpMaximum: true, ir.OpReduceMax: true, ir.OpReduceMin: true,
	ir.OpArgMax: true, ir.OpArgMin: true, ir.OpTopK: true, ir.OpTrilu: true, ir.OpPad: true,
	ir.OpConcat: true, ir.OpSlice: true, ir.OpSliceGrad: true, ir.OpGather: true, ir.OpGatherElements: true, ir.OpGatherND: true,
	// Only with reductions that pick (none, max, min): add and mul would
	// compute.
	ir.OpScatterElements: true, ir.OpScatterND: true,
}

// intCastElem is the element expression of a cast to the integer dtype
// to, nil for the identity. From a float it truncates toward zero, as Go's
// conversion and the interpreter do (the interpreter reports a value out
// of to's range, where Go leaves the conversion undefined); the result, a
// whole float32, is exact. From a wider integer it wraps as Go's
// conversion does (the operand, below 2^24, converts to int64 exactly;
// a u32 or u64 result is exact below 2^24 only, as all integers here);
// from bool (0 or 1) and to i64 from an integer it is the identity.
func intCastElem(from, to ir.DType) elemFunc {
	if from.IsFloat() {
		return func(_ *kernel, x []*jen.Statement) *jen.Statement {
			return jen.Float32().Call(jen.Qual(mathPath, "Trunc").Call(jen.Float64().Call(x[0])))
		}
	}
	var conv func(jen.Code) *jen.Statement
	switch to {
	case ir.I8:
		conv = func(c jen.Code) *jen.Statement { return jen.Int8().Call(c) }
	case ir.U8:
		conv = func(c jen.Code) *jen.Statement { return jen.Uint8().Call(c) }
	case ir.I16:
		conv = func(c jen.Code) *jen.Statement { return jen.Int16().Call(c) }
	case ir.U16:
		conv = func(c jen.Code) *jen.Statement { return jen.Uint16().Call(c) }
	case ir.I32:
		conv = func(c jen.Code) *jen.Statement { return jen.Int32().Call(c) }
	case ir.U32:
		conv = func(c jen.Code) *jen.Statement { return jen.Uint32().Call(c) }
	case ir.U64:
		conv = func(c jen.Code) *jen.Statement { return jen.Uint64().Call(c) }
	}
	if conv == nil || from == ir.Bool || from == to {
		return nil
	}
	return func(_ *kernel, x []*jen.Statement) *jen.Statement {
		return jen.Float32().Call(conv(jen.Int64().Call(x[0])))
	}
}

// intBounds returns the range of integer dtype dt, clipped to what
// float32 holds exactly.
func intBounds(dt ir.DType) (lo, hi float64) {
	switch dt {
	case ir.I8:
		return math.MinInt8, math.MaxInt8
	case ir.U8:
		return 0, math.MaxUint8
	case ir.I16:
		return math.MinInt16, math.MaxInt16
	case ir.U16:
		return 0, math.MaxUint16
	case ir.U32, ir.U64:
		return 0, maxExactInt
	}
	return -maxExactInt, maxExactInt
}

// maxExactInt bounds the integers float32 storage holds exactly.
const maxExactInt = 1 << 24

// checkValueType is checkType for the value of node v, letting integer
// dtypes through for the ops in intResults.
func checkValueType(v *ir.Value, t ir.Type) error {
	if !t.DType.IsInt() {
		return checkType(t)
	}
	if !intResults[v.Op] {
		return fmt.Errorf("dtype %s for %s is %w (integers are stored as float32 and only moved, picked, compared, cast or computed with add, sub, mul, div, mod, neg, abs, sign, pow)", t.DType, v.Op, ErrUnsupported)
	}
	switch v.Op {
	case ir.OpConstant:
		for _, x := range v.Attrs.Floats("value") {
			if x > maxExactInt || x < -maxExactInt {
				return fmt.Errorf("integer constant %v is %w: it stores integers as float32, exact only up to 2^24", x, ErrUnsupported)
			}
		}
	case ir.OpPad:
		lo, hi := intBounds(t.DType)
		if x := v.Attrs.Float("value", 0); x != math.Trunc(x) || x < lo || x > hi {
			return fmt.Errorf("pad value %v is not a %s", x, t.DType)
		}
	case ir.OpScatterElements, ir.OpScatterND:
		if r := ir.ScatterReduction(v.Attrs); r == "add" || r == "mul" {
			return fmt.Errorf("reduction %s of %s values is %w (it stores integers as float32)", r, t.DType, ErrUnsupported)
		}
	}
	return checkType(ir.Type{DType: ir.F32, Shape: t.Shape})
}

// checkOperandType is checkType for a value read by a fused loop: an
// integer operand is stored exactly, and every member the loop computes
// is checked on its own (an integer result is rejected there), so reading
// one is exact (a cast to f32, a comparison).
func checkOperandType(t ir.Type) error {
	if t.DType.IsInt() {
		t = ir.Type{DType: ir.F32, Shape: t.Shape}
	}
	return checkType(t)
}

// emitDecls emits the package-level tables kernels declared (g.decls),
// in kernel order.
func (g *gen) emitDecls(f *jen.File) {
	for _, d := range g.decls {
		f.Add(d)
		f.Line()
	}
}

func init() {
	for op, e := range map[string]emitFunc{
		ir.OpReduceMin:       reduction(ir.OpReduceMin),
		ir.OpReduceProd:      reduction(ir.OpReduceProd),
		ir.OpArgMax:          emitArg(true),
		ir.OpArgMin:          emitArg(false),
		ir.OpConcat:          emitConcat,
		ir.OpSlice:           emitSlice,
		ir.OpSliceGrad:       emitSliceGrad,
		ir.OpPad:             emitPad,
		ir.OpPadGrad:         emitPadGrad,
		ir.OpGather:          emitGather,
		ir.OpScatterAdd:      emitScatterAdd,
		ir.OpGatherElements:  emitGatherElements,
		ir.OpScatterElements: emitScatterElements,
		ir.OpGatherND:        emitGatherND,
		ir.OpScatterND:       emitScatterND,
		ir.OpCumSum:          emitCumSum,
		ir.OpTopK:            emitTopK,
		ir.OpTrilu:           emitTrilu,
	} {
		emitters[op] = e
	}

	x, best, last, isMax := jen.Id("x"), jen.Id("best"), jen.Id("last"), jen.Id("max")
	opHelpers["argBetter"] = func(f *jen.File) {
		f.Comment("argBetter reports whether x replaces best as the max (or min) found so far:")
		f.Comment("NaN beats any number; on a tie the first index stays unless last is set.")
		f.Func().Id("argBetter").Params(jen.List(x, best).Float32(), jen.List(isMax, last).Bool()).Bool().Block(
			jen.List(jen.Id("xn"), jen.Id("bn")).Op(":=").List(jen.Id("x").Op("!=").Id("x"), jen.Id("best").Op("!=").Id("best")),
			jen.Switch().Block(
				jen.Case(jen.Id("xn").Op("||").Id("bn")).Block(jen.Return(jen.Id("xn").Op("&&").Parens(jen.Op("!").Id("bn").Op("||").Id("last")))),
				jen.Case(jen.Id("x").Op("==").Id("best")).Block(jen.Return(jen.Id("last"))),
				jen.Case(jen.Id("max")).Block(jen.Return(jen.Id("x").Op(">").Id("best"))),
			),
			jen.Return(jen.Id("x").Op("<").Id("best")),
		)
	}
	opHelpers["topkBefore"] = func(f *jen.File) {
		f.Comment("topkBefore reports whether x at index i comes before y at index j in top_k's")
		f.Comment("order: larger (or smaller) first, NaN first when largest, ties by index.")
		f.Func().Id("topkBefore").Params(jen.Id("x").Float32(), jen.Id("i").Int(), jen.Id("y").Float32(), jen.Id("j").Int(),
			jen.Id("largest").Bool()).Bool().Block(
			jen.List(jen.Id("xn"), jen.Id("yn")).Op(":=").List(jen.Id("x").Op("!=").Id("x"), jen.Id("y").Op("!=").Id("y")),
			jen.Switch().Block(
				jen.Case(jen.Id("xn").Op("&&").Id("yn").Op("||").Id("x").Op("==").Id("y")).Block(jen.Return(jen.Id("i").Op("<").Id("j"))),
				jen.Case(jen.Id("xn")).Block(jen.Return(jen.Id("largest"))),
				jen.Case(jen.Id("yn")).Block(jen.Return(jen.Op("!").Id("largest"))),
				jen.Case(jen.Id("largest")).Block(jen.Return(jen.Id("x").Op(">").Id("y"))),
			),
			jen.Return(jen.Id("x").Op("<").Id("y")),
		)
	}
	opHelpers["index"] = func(f *jen.File) {
		f.Comment("index reads an index element x for a dim of size n (negative counts from")
		f.Comment("the end); out of range panics, as the interpreter reports an error.")
		f.Func().Id("index").Params(jen.Id("x").Float32(), jen.Id("n").Int()).Int().Block(
			jen.Id("j").Op(":=").Int().Call(jen.Id("x")),
			jen.If(jen.Id("j").Op("<").Lit(0)).Block(jen.Id("j").Op("+=").Id("n")),
			jen.If(jen.Id("j").Op("<").Lit(0).Op("||").Id("j").Op(">=").Id("n")).Block(
				jen.Panic(jen.Lit("index out of range in a gather or scatter"))),
			jen.Return(jen.Id("j")),
		)
	}
}

// names returns prefix0, prefix1, ... (n of them).
func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}

// nest wraps body in loops over dims with variables vars, outermost first;
// with split the outermost runs over [lo, hi) (the rows the pool splits),
// else over its whole extent. pre[d] is put at the top of loop d's body
// (pre[-1] before the loops), for values that depend on the outer
// variables only.
func (k *kernel) nest(vars []string, dims []mono, split bool, pre map[int][]jen.Code, body ...jen.Code) []jen.Code {
	stmts := body
	for d := len(dims) - 1; d >= 0; d-- {
		stmts = append(append([]jen.Code{}, pre[d]...), stmts...)
		var from, to jen.Code = jen.Id("lo"), jen.Id("hi")
		if d > 0 || !split {
			from, to = jen.Lit(0), k.n(dims[d])
		}
		stmts = []jen.Code{loop(vars[d], from, to, stmts...)}
	}
	return append(append([]jen.Code{}, pre[-1]...), stmts...)
}

// split sets the kernel's rows to the outermost of dims (one when there
// are none) and reports whether the loops split it.
func (k *kernel) split(dims []mono) bool {
	k.work = product(dims)
	if len(dims) == 0 {
		k.rows = one
		return false
	}
	k.rows = dims[0]
	return true
}

// offset renders Σ base + Σ vars[d]*strides[d] (0 when empty).
func (k *kernel) offset(base []mono, vars []string, strides []mono) *jen.Statement {
	var terms []jen.Code
	for _, b := range base {
		if !b.isZero() {
			terms = append(terms, k.n(b))
		}
	}
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

// clearOut zeroes the kernel's output (of shape s) before a scatter.
func (k *kernel) clearOut(s ir.Shape) jen.Code {
	return jen.Clear(k.o().Index(jen.Op(":").Add(k.n(product(shapeMonos(s))))))
}

// copyIn copies operand 0 (of shape s) to the output before a scatter.
func (k *kernel) copyIn(s ir.Shape) jen.Code {
	n := k.n(product(shapeMonos(s)))
	return jen.Copy(k.o().Index(jen.Op(":").Add(n)), k.x(0).Index(jen.Op(":").Add(k.n(product(shapeMonos(s))))))
}

// scale multiplies each stride by m.
func scale(st []mono, m mono) []mono {
	out := make([]mono, len(st))
	for i, s := range st {
		out[i] = s.mul(m)
	}
	return out
}

func without(xs []mono, i int) []mono {
	return append(append([]mono{}, xs[:i]...), xs[i+1:]...)
}

func axisOf(k *kernel, rank int) (int, error) {
	axes, err := ir.NormalizeAxes([]int64{k.v.Attrs.Int("axis", 0)}, rank)
	if err != nil {
		return 0, err
	}
	return axes[0], nil
}

// emitArg emits argmax (max=true) or argmin: for each position off the
// axis, one scan along it.
func emitArg(max bool) emitFunc {
	return func(k *kernel) error {
		in := k.v.Args[0].Type.Shape
		ax, err := axisOf(k, len(in))
		if err != nil {
			return err
		}
		dims, st := shapeMonos(in), contiguous(shapeMonos(in))
		if dims[ax].isZero() {
			return fmt.Errorf("the axis %d of %s holds no elements", ax, in)
		}
		outer, outerSt := without(dims, ax), without(st, ax)
		vars := names("i", len(outer))
		split := k.split(outer)
		k.work = product(dims)
		last := k.v.Attrs.Bool("select_last_index", false)
		body := []jen.Code{
			jen.Id("base").Op(":=").Add(k.offset(nil, vars, outerSt)),
			jen.List(jen.Id("best"), jen.Id("bi")).Op(":=").List(k.x(0).Index(jen.Id("base")), jen.Lit(0)),
			loop("j", jen.Lit(1), k.n(dims[ax]),
				jen.If(jen.Id("x").Op(":=").Add(k.x(0).Index(jen.Id("base").Op("+").Id("j").Op("*").Add(k.n(st[ax])))),
					k.helperFor("argBetter", k.v.Args[0].Type.DType).Call(jen.Id("x"), jen.Id("best"), jen.Lit(max), jen.Lit(last))).Block(
					jen.List(jen.Id("best"), jen.Id("bi")).Op("=").List(jen.Id("x"), jen.Id("j")))),
			k.o().Index(k.offset(nil, vars, contiguous(outer))).Op("=").Float32().Call(jen.Id("bi")),
		}
		k.body = append(k.body, k.nest(vars, outer, split, nil, body...)...)
		return nil
	}
}

// emitConcat copies each operand into its place along the axis. Split by
// rows when the axis is not the outermost dim (every operand then has the
// result's outermost dim).
func emitConcat(k *kernel) error {
	out := k.v.Type.Shape
	ax, err := axisOf(k, len(out))
	if err != nil {
		return err
	}
	outSt := contiguous(shapeMonos(out))
	split := ax > 0 && k.split(shapeMonos(out))
	if !split {
		k.rows = one
	}
	k.work = product(shapeMonos(out))
	off := int64(0)
	for i, a := range k.v.Args {
		dims := shapeMonos(a.Type.Shape)
		vars := names("i", len(dims))
		base := []mono{}
		if off != 0 {
			base = append(base, constMono(off).mul(outSt[ax]))
		}
		body := k.out(0).Index(k.offset(base, vars, outSt)).Op("=").Add(k.x(i).Index(k.offset(nil, vars, contiguous(dims))))
		k.body = append(k.body, k.nest(vars, dims, split, nil, body)...)
		if a.Type.Shape[ax].IsConst() {
			off += a.Type.Shape[ax].Size
		}
	}
	return nil
}

// sliceMap gives, for slice{starts, ends, steps} of shape in, the offset
// of the slice's first element and the stride of each of its dims in in.
func sliceMap(in ir.Shape, a ir.Attrs) (base mono, st []mono, err error) {
	starts, steps := a.Ints("starts"), a.Ints("steps")
	if len(starts) != len(in) || len(steps) != len(in) {
		return mono{}, nil, fmt.Errorf("slice entries for rank %d", len(in))
	}
	inSt := contiguous(shapeMonos(in))
	st = make([]mono, len(in))
	var bases []mono
	for d := range in {
		st[d] = mono{c: steps[d]}.mul(inSt[d])
		if starts[d] != 0 {
			bases = append(bases, constMono(starts[d]).mul(inSt[d]))
		}
	}
	// Sliced dims are constant, and so are their strides but for dims
	// before a symbolic one, which is kept whole (start 0): the base is
	// one monomial.
	base = mono{}
	for _, b := range bases {
		if base.isZero() {
			base = b
			continue
		}
		if b.p != base.p {
			return mono{}, nil, fmt.Errorf("internal error: slice offsets of different powers of the batch")
		}
		base.c += b.c
	}
	return base, st, nil
}

func emitSlice(k *kernel) error {
	base, st, err := sliceMap(k.v.Args[0].Type.Shape, k.v.Attrs)
	if err != nil {
		return err
	}
	dims := shapeMonos(k.v.Type.Shape)
	vars := names("i", len(dims))
	split := k.split(dims)
	body := k.o().Index(k.offset(nil, vars, contiguous(dims))).Op("=").Add(k.x(0).Index(k.offset([]mono{base}, vars, st)))
	k.body = append(k.body, k.nest(vars, dims, split, nil, body)...)
	return nil
}

// emitSliceGrad zeroes the result and writes the operand where slice reads.
func emitSliceGrad(k *kernel) error {
	base, st, err := sliceMap(k.v.Type.Shape, k.v.Attrs)
	if err != nil {
		return err
	}
	dims := shapeMonos(k.v.Args[0].Type.Shape)
	vars := names("i", len(dims))
	k.rows, k.work = one, product(shapeMonos(k.v.Type.Shape))
	body := k.o().Index(k.offset([]mono{base}, vars, st)).Op("=").Add(k.x(0).Index(k.offset(nil, vars, contiguous(dims))))
	k.body = append(k.body, k.clearOut(k.v.Type.Shape))
	k.body = append(k.body, k.nest(vars, dims, false, nil, body)...)
	return nil
}

// padSources renders, for each element of the padded shape out (loop
// variables vars) of an operand of shape in, the statements that compute
// its source offset "src" in the operand; where mode is constant and the
// element lies in the padding, they run miss instead (which must leave
// the innermost loop's iteration).
func (k *kernel) padSources(in, out ir.Shape, vars []string, miss []jen.Code) []jen.Code {
	pads := k.v.Attrs.Ints("pads")
	mode := ir.PadMode(k.v.Attrs)
	r := len(in)
	inSt := contiguous(shapeMonos(in))
	var stmts []jen.Code
	var terms []jen.Code
	for d := range in {
		b, e := pads[d], pads[r+d]
		if b == 0 && e == 0 {
			if !inSt[d].isZero() {
				terms = append(terms, jen.Id(vars[d]).Op("*").Add(k.n(inSt[d])))
			}
			continue
		}
		q := "q" + strconv.Itoa(d)
		lo := -min(b, 0)
		kept := in[d].Size + min(b, 0) + min(e, 0)
		if b > 0 {
			stmts = append(stmts, jen.Id(q).Op(":=").Id(vars[d]).Op("-").Lit(int(b)))
		} else {
			stmts = append(stmts, jen.Id(q).Op(":=").Id(vars[d]))
		}
		outside := jen.Id(q).Op("<").Lit(0).Op("||").Id(q).Op(">=").Lit(int(kept))
		switch mode {
		case "edge":
			stmts = append(stmts, jen.Id(q).Op("=").Min(jen.Max(jen.Id(q), jen.Lit(0)), jen.Lit(int(kept-1))))
		case "reflect":
			stmts = append(stmts, jen.If(jen.Id(q).Op("<").Lit(0)).Block(jen.Id(q).Op("=").Op("-").Id(q)).Else().If(
				jen.Id(q).Op(">=").Lit(int(kept))).Block(jen.Id(q).Op("=").Lit(int(2*(kept-1))).Op("-").Id(q)))
		default:
			stmts = append(stmts, jen.If(outside).Block(miss...))
		}
		pos := jen.Id(q)
		if lo != 0 {
			pos = jen.Parens(jen.Id(q).Op("+").Lit(int(lo)))
		}
		if !inSt[d].isOne() {
			pos = pos.Op("*").Add(k.n(inSt[d]))
		}
		terms = append(terms, pos)
	}
	return append(stmts, jen.Id("src").Op(":=").Add(sum(terms)))
}

func emitPad(k *kernel) error {
	in, out := k.v.Args[0].Type.Shape, k.v.Type.Shape
	dims := shapeMonos(out)
	vars := names("i", len(dims))
	split := k.split(dims)
	o := k.offset(nil, vars, contiguous(dims))
	value := f32Lit(float32(k.v.Attrs.Float("value", 0)))
	if k.v.Type.DType == ir.F64 {
		value = typedLit(ir.F64, k.v.Attrs.Float("value", 0))
	}
	miss := []jen.Code{k.o().Index(o.Clone()).Op("=").Add(value), jen.Continue()}
	body := append(k.padSources(in, out, vars, miss), k.o().Index(o).Op("=").Add(k.x(0).Index(jen.Id("src"))))
	k.body = append(k.body, k.nest(vars, dims, split, nil, body...)...)
	return nil
}

// emitPadGrad zeroes the result and adds each element of the operand to
// the element pad copied it from.
func emitPadGrad(k *kernel) error {
	in, out := k.v.Type.Shape, k.v.Args[0].Type.Shape
	dims := shapeMonos(out)
	vars := names("i", len(dims))
	k.rows, k.work = one, product(dims)
	body := append(k.padSources(in, out, vars, []jen.Code{jen.Continue()}),
		k.o().Index(jen.Id("src")).Op("+=").Add(k.x(0).Index(k.offset(nil, vars, contiguous(dims)))))
	k.body = append(k.body, k.clearOut(in))
	k.body = append(k.body, k.nest(vars, dims, false, nil, body...)...)
	return nil
}

// gatherMap describes gather{axis} of data by indices over the loop
// variables of gather's result: the statements reading the index "j"
// (placed once the index's variables are set) and the offset in data.
func (k *kernel) gatherMap(data, indices ir.Shape, vars []string) (ax int, pre map[int][]jen.Code, off *jen.Statement, err error) {
	ax, err = axisOf(k, len(data))
	if err != nil {
		return 0, nil, nil, err
	}
	q := len(indices)
	dSt := contiguous(shapeMonos(data))
	idx := k.x(1).Index(k.offset(nil, vars[ax:ax+q], contiguous(shapeMonos(indices))))
	readJ := jen.Id("j").Op(":=").Add(k.helper("index").Call(idx, k.n(dimMono(data[ax]))))
	pre = map[int][]jen.Code{ax + q - 1: {readJ}}
	st := append(append(append([]mono{}, dSt[:ax]...), make([]mono, q)...), dSt[ax+1:]...)
	off = k.offset(nil, vars, st).Op("+").Id("j").Op("*").Add(k.n(dSt[ax]))
	return ax, pre, off, nil
}

func emitGather(k *kernel) error {
	data, indices := k.v.Args[0].Type.Shape, k.v.Args[1].Type.Shape
	dims := shapeMonos(k.v.Type.Shape)
	vars := names("i", len(dims))
	_, pre, off, err := k.gatherMap(data, indices, vars)
	if err != nil {
		return err
	}
	if ax, q := axisOfGather(k, len(data)), len(indices); ax >= 0 && ax+q < len(dims) {
		// The dims after the gathered axis are a block contiguous in
		// both data and the result (an embedding row, the head of a
		// split qkv tensor): copy it whole.
		if inner := product(dims[ax+q:]); inner.p > 0 || inner.c >= 8 {
			outer := dims[:ax+q]
			dSt := contiguous(shapeMonos(data))
			st := append(append([]mono{}, dSt[:ax]...), make([]mono, q)...)
			o := k.offset(nil, vars[:ax+q], contiguous(dims)[:ax+q])
			src := jen.Id("j").Op("*").Add(k.n(dSt[ax]))
			if ax+q > 0 {
				src = k.offset(nil, vars[:ax+q], st).Op("+").Add(src)
			}
			body := k.copyRun(o, src, inner)
			split := k.split(outer)
			k.work = product(dims)
			k.body = append(k.body, k.nest(vars[:ax+q], outer, split, pre, body...)...)
			return nil
		}
	}
	split := k.split(dims)
	body := k.o().Index(k.offset(nil, vars, contiguous(dims))).Op("=").Add(k.x(0).Index(off))
	k.body = append(k.body, k.nest(vars, dims, split, pre, body)...)
	return nil
}

// axisOfGather is gather's normalised axis, or -1 when it is invalid
// (gatherMap has reported that already).
func axisOfGather(k *kernel, rank int) int {
	ax, err := axisOf(k, rank)
	if err != nil {
		return -1
	}
	return ax
}

// emitScatterAdd copies data, then adds each update where gather reads it,
// in order (one thread: updates may meet).
func emitScatterAdd(k *kernel) error {
	data, indices := k.v.Args[0].Type.Shape, k.v.Args[1].Type.Shape
	dims := shapeMonos(k.v.Args[2].Type.Shape)
	vars := names("i", len(dims))
	_, pre, off, err := k.gatherMap(data, indices, vars)
	if err != nil {
		return err
	}
	k.rows, k.work = one, product(dims)
	body := k.o().Index(off).Op("+=").Add(k.x(2).Index(k.offset(nil, vars, contiguous(dims))))
	k.body = append(k.body, k.copyIn(data))
	k.body = append(k.body, k.nest(vars, dims, false, pre, body)...)
	return nil
}

// elementsMap gives the offset in data of gather_elements' element at
// vars (the indices' shape), reading the index "j" first.
func (k *kernel) elementsMap(data, indices ir.Shape, vars []string) ([]jen.Code, *jen.Statement, error) {
	ax, err := axisOf(k, len(data))
	if err != nil {
		return nil, nil, err
	}
	dSt := contiguous(shapeMonos(data))
	read := jen.Id("j").Op(":=").Add(k.helper("index").Call(k.x(1).Index(jen.Id("at")), k.n(dimMono(data[ax]))))
	st := append([]mono{}, dSt...)
	st[ax] = mono{}
	off := k.offset(nil, vars, st).Op("+").Id("j").Op("*").Add(k.n(dSt[ax]))
	return []jen.Code{jen.Id("at").Op(":=").Add(k.offset(nil, vars, contiguous(shapeMonos(indices)))), read}, off, nil
}

func emitGatherElements(k *kernel) error {
	data, indices := k.v.Args[0].Type.Shape, k.v.Args[1].Type.Shape
	dims := shapeMonos(indices)
	vars := names("i", len(dims))
	read, off, err := k.elementsMap(data, indices, vars)
	if err != nil {
		return err
	}
	split := k.split(dims)
	body := append(read, k.o().Index(jen.Id("at")).Op("=").Add(k.x(0).Index(off)))
	k.body = append(k.body, k.nest(vars, dims, split, nil, body...)...)
	return nil
}

// reduceInto renders dst = dst (reduction) x for a scatter.
func reduceInto(red string, dst, x *jen.Statement) jen.Code {
	switch red {
	case "add":
		return dst.Op("+=").Add(x)
	case "mul":
		return dst.Op("*=").Add(x)
	case "max":
		return dst.Clone().Op("=").Max(dst, x)
	case "min":
		return dst.Clone().Op("=").Min(dst, x)
	}
	return dst.Op("=").Add(x)
}

func emitScatterElements(k *kernel) error {
	data, indices := k.v.Args[0].Type.Shape, k.v.Args[1].Type.Shape
	dims := shapeMonos(indices)
	vars := names("i", len(dims))
	read, off, err := k.elementsMap(data, indices, vars)
	if err != nil {
		return err
	}
	k.rows, k.work = one, product(dims)
	body := append(read, reduceInto(ir.ScatterReduction(k.v.Attrs), k.o().Index(off), k.x(2).Index(jen.Id("at"))))
	k.body = append(k.body, k.copyIn(data))
	k.body = append(k.body, k.nest(vars, dims, false, nil, body...)...)
	return nil
}

// ndMap describes gather_nd over the index tuples (loop variables vars
// over the indices' shape but its last dim): the statements computing
// "base", the offset in data of the block the tuple selects, and the
// block's size.
func (k *kernel) ndMap(data, indices ir.Shape, batchDims int, vars []string) ([]jen.Code, mono, error) {
	_, m, err := ir.GatherNDShape(data, indices, int64(batchDims))
	if err != nil {
		return nil, mono{}, err
	}
	q := len(indices)
	dSt := contiguous(shapeMonos(data))
	tuples := contiguous(shapeMonos(indices[:q-1]))
	stmts := []jen.Code{jen.Id("at").Op(":=").Add(k.offset(nil, vars, scale(tuples, constMono(int64(m)))))}
	terms := []jen.Code{}
	if batchDims > 0 {
		terms = append(terms, k.offset(nil, vars[:batchDims], dSt[:batchDims]))
	}
	for t := 0; t < m; t++ {
		j := "j" + strconv.Itoa(t)
		stmts = append(stmts, jen.Id(j).Op(":=").Add(k.helper("index").Call(
			k.x(1).Index(jen.Id("at").Op("+").Lit(t)), k.n(dimMono(data[batchDims+t])))))
		terms = append(terms, jen.Id(j).Op("*").Add(k.n(dSt[batchDims+t])))
	}
	stmts = append(stmts, jen.Id("base").Op(":=").Add(sum(terms)))
	return stmts, product(shapeMonos(data[batchDims+m:])), nil
}

func emitGatherND(k *kernel) error {
	data, indices := k.v.Args[0].Type.Shape, k.v.Args[1].Type.Shape
	dims := shapeMonos(indices[:len(indices)-1])
	vars := names("i", len(dims))
	stmts, inner, err := k.ndMap(data, indices, int(k.v.Attrs.Int("batch_dims", 0)), vars)
	if err != nil {
		return err
	}
	split := k.split(dims)
	k.work = product(dims).mul(inner)
	o := jen.Id("o").Op(":=").Add(k.offset(nil, vars, scale(contiguous(dims), inner)))
	cp := jen.Copy(k.o().Index(jen.Id("o").Op(":").Id("o").Op("+").Add(k.n(inner))),
		k.x(0).Index(jen.Id("base").Op(":").Id("base").Op("+").Add(k.n(inner))))
	body := append(stmts, o, cp)
	k.body = append(k.body, k.nest(vars, dims, split, nil, body...)...)
	return nil
}

func emitScatterND(k *kernel) error {
	data, indices := k.v.Args[0].Type.Shape, k.v.Args[1].Type.Shape
	dims := shapeMonos(indices[:len(indices)-1])
	vars := names("i", len(dims))
	stmts, inner, err := k.ndMap(data, indices, int(k.v.Attrs.Int("batch_dims", 0)), vars)
	if err != nil {
		return err
	}
	k.rows, k.work = one, product(dims).mul(inner)
	o := jen.Id("o").Op(":=").Add(k.offset(nil, vars, scale(contiguous(dims), inner)))
	upd := loop("e", jen.Lit(0), k.n(inner), reduceInto(ir.ScatterReduction(k.v.Attrs),
		k.o().Index(jen.Id("base").Op("+").Id("e")), k.x(2).Index(jen.Id("o").Op("+").Id("e"))))
	body := append(stmts, o, upd)
	k.body = append(k.body, k.copyIn(data))
	k.body = append(k.body, k.nest(vars, dims, false, nil, body...)...)
	return nil
}

// emitCumSum runs along the axis for each position off it, summing in
// float64 as the interpreter does.
func emitCumSum(k *kernel) error {
	in := k.v.Type.Shape
	ax, err := axisOf(k, len(in))
	if err != nil {
		return err
	}
	dims, st := shapeMonos(in), contiguous(shapeMonos(in))
	outer, outerSt := without(dims, ax), without(st, ax)
	vars := names("i", len(outer))
	split := k.split(outer)
	k.work = product(dims)
	pos := jen.Id("j")
	if k.v.Attrs.Bool("reverse", false) {
		pos = k.n(dims[ax]).Op("-").Lit(1).Op("-").Id("j")
	}
	at := jen.Id("at").Op(":=").Id("base").Op("+").Parens(pos).Op("*").Add(k.n(st[ax]))
	add := jen.Id("acc").Op("+=").Float64().Call(k.x(0).Index(jen.Id("at")))
	store := k.o().Index(jen.Id("at")).Op("=").Add(roundTo(k.v.Type.DType, jen.Id("acc")))
	step := []jen.Code{at, add, store}
	if k.v.Attrs.Bool("exclusive", false) {
		step = []jen.Code{at, store, add}
	}
	body := []jen.Code{
		jen.Id("base").Op(":=").Add(k.offset(nil, vars, outerSt)),
		jen.Id("acc").Op(":=").Lit(0.0),
		loop("j", jen.Lit(0), k.n(dims[ax]), step...),
	}
	k.body = append(k.body, k.nest(vars, outer, split, nil, body...)...)
	return nil
}

// emitTopK selects, for each position off the axis, the k elements in
// top_k's order without scratch space: pick t is the first element after
// pick t-1 in that (total) order. Unsorted, the k picked are written in
// index order: those not after the last pick.
func emitTopK(k *kernel) error {
	in := k.v.Args[0].Type.Shape
	ax, err := axisOf(k, len(in))
	if err != nil {
		return err
	}
	kk := k.v.Attrs.Int("k", 0)
	largest, sorted := k.v.Attrs.Bool("largest", false), k.v.Attrs.Bool("sorted", false)
	dims, st := shapeMonos(in), contiguous(shapeMonos(in))
	outShape := append(ir.Shape{}, in...)
	outShape[ax] = ir.C(kk)
	oSt := contiguous(shapeMonos(outShape))
	outer := without(dims, ax)
	vars := names("i", len(outer))
	split := k.split(outer)
	k.work = product(dims).mul(constMono(max(kk, 1)))
	n := k.n(dims[ax])
	xj := func() *jen.Statement {
		return k.x(0).Index(jen.Id("base").Op("+").Id("j").Op("*").Add(k.n(st[ax])))
	}
	before := func(a, i, b, j string) *jen.Statement {
		return k.helperFor("topkBefore", k.v.Args[0].Type.DType).Call(jen.Id(a), jen.Id(i), jen.Id(b), jen.Id(j), jen.Lit(largest))
	}
	store := func(t *jen.Statement, v, i string) []jen.Code {
		at := jen.Id("obase").Op("+").Add(t).Op("*").Add(k.n(oSt[ax]))
		return []jen.Code{
			k.out(0).Index(at.Clone()).Op("=").Id(v),
			k.out(1).Index(at).Op("=").Float32().Call(jen.Id(i)),
		}
	}
	pick := []jen.Code{
		jen.List(jen.Id("bv"), jen.Id("bi")).Op(":=").List(goElemType(k.v.Args[0].Type.DType).Call(jen.Lit(0)), jen.Lit(-1)),
		loop("j", jen.Lit(0), n.Clone(),
			jen.Id("x").Op(":=").Add(xj()),
			jen.If(jen.Id("pi").Op(">=").Lit(0).Op("&&").Op("!").Add(before("pv", "pi", "x", "j"))).Block(jen.Continue()),
			jen.If(jen.Id("bi").Op("<").Lit(0).Op("||").Add(before("x", "j", "bv", "bi"))).Block(
				jen.List(jen.Id("bv"), jen.Id("bi")).Op("=").List(jen.Id("x"), jen.Id("j")))),
	}
	if sorted {
		pick = append(pick, store(jen.Id("t"), "bv", "bi")...)
	}
	pick = append(pick, jen.List(jen.Id("pv"), jen.Id("pi")).Op("=").List(jen.Id("bv"), jen.Id("bi")))
	body := []jen.Code{
		jen.Id("base").Op(":=").Add(k.offset(nil, vars, without(st, ax))),
		jen.Id("obase").Op(":=").Add(k.offset(nil, vars, without(oSt, ax))),
		jen.List(jen.Id("pv"), jen.Id("pi")).Op(":=").List(goElemType(k.v.Args[0].Type.DType).Call(jen.Lit(0)), jen.Lit(-1)),
		loop("t", jen.Lit(0), jen.Lit(int(kk)), pick...),
	}
	if !sorted {
		body = append(body,
			jen.Id("t").Op(":=").Lit(0),
			jen.For(jen.Id("j").Op(":=").Lit(0), jen.Id("j").Op("<").Add(n.Clone()).Op("&&").Id("t").Op("<").Lit(int(kk)), jen.Id("j").Op("++")).Block(
				jen.Id("x").Op(":=").Add(xj()),
				jen.If(jen.Id("j").Op("==").Id("pi").Op("||").Add(before("x", "j", "pv", "pi"))).Block(
					append(store(jen.Id("t"), "x", "j"), jen.Id("t").Op("++"))...)),
		)
	}
	k.body = append(k.body, k.nest(vars, outer, split, nil, body...)...)
	return nil
}

// emitTrilu copies the kept triangle and zeroes the rest.
func emitTrilu(k *kernel) error {
	s := k.v.Type.Shape
	dims := shapeMonos(s)
	vars := names("i", len(dims))
	split := k.split(dims)
	r := len(s)
	kk := int(k.v.Attrs.Int("k", 0))
	row, col := jen.Id(vars[r-2]), jen.Id(vars[r-1])
	var drop *jen.Statement
	if k.v.Attrs.Bool("upper", false) {
		drop = col.Op("-").Add(row).Op("<").Lit(kk)
	} else {
		drop = col.Op("-").Add(row).Op(">").Lit(kk)
	}
	o := k.offset(nil, vars, contiguous(dims))
	body := jen.If(drop).Block(k.o().Index(o.Clone()).Op("=").Lit(0)).Else().Block(
		k.o().Index(o.Clone()).Op("=").Add(k.x(0).Index(o)))
	k.body = append(k.body, k.nest(vars, dims, split, nil, body)...)
	return nil
}
