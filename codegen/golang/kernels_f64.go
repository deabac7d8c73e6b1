package golang

import (
	"fmt"
	"math"
	"strconv"

	"github.com/dave/jennifer/jen"
	"github.com/dlc-project/dlc/ir"
)

// f64 values in the Go backend.
//
// The arena stays one []float32 and every task's buffers stay [][]float32:
// an f64 value takes two float32 slots per element, and a kernel reads its
// buffer through a []float64 view made by the generated helper f64s
// (x0 := f64s(t.in[0])). The view is only valid on an 8-byte aligned
// buffer, so a module with f64 values has every arena buffer size made
// even (planArena's offsets are sums of sizes, hence even, and the arena,
// an even number of float32s, is 8-byte aligned as Go allocates it);
// constants of f64 get buffers of their own, allocated by make (aligned),
// and their data are float64 literals copied in, so they hold the exact
// value. f64 is computed in float64 with no rounding to float32 anywhere
// (the interpreter keeps f64 exact): elementwise ops call math.* directly,
// fused loops round each member with float64(...) (which, like float32(...)
// in the f32 loops, keeps Go from fusing a multiply and an add into an
// FMA), reductions and softmax rows (unfused and fused) accumulate in
// float64 as for f32, matmul calls runtime.Dgemm and max_pool
// runtime.MaxPool64. The model's API stays float32: parameters, results
// and weights of f64 are refused (onnx.Pack casts its f32 input to the
// graph's dtypes and its outputs back). Ops with no f64 code (conv, average
// pools, resize) refuse f64 with an error wrapping ErrUnsupported.

// dtypeSlots is the number of float32 slots one element of dtype dt takes.
func dtypeSlots(dt ir.DType) int64 {
	if dt == ir.F64 {
		return 2
	}
	return 1
}

// touchesF64 reports whether node v has an f64 result or operand.
func touchesF64(v *ir.Value) bool {
	ts := []ir.Type{v.Type}
	if v.Type.IsTuple() {
		ts = v.Type.Elems
	}
	for _, t := range ts {
		if t.DType == ir.F64 {
			return true
		}
	}
	for _, a := range v.Args {
		if a.Type.DType == ir.F64 {
			return true
		}
	}
	return false
}

// f64Ops are the ops whose kernels compute f64 values (in float64). The
// elementwise ops are those of f64Elems (and mod, is_inf, cast, broadcast).
var f64Ops = map[string]bool{
	ir.OpConstant: true, ir.OpFused: true, ir.OpExtract: true,
	ir.OpCast: true, ir.OpBroadcast: true, ir.OpMod: true, ir.OpIsInf: true,
	ir.OpReshape: true, ir.OpTranspose: true, ir.OpSize: true, ir.OpMatMul: true,
	ir.OpReduceSum: true, ir.OpReduceMean: true, ir.OpReduceMax: true, ir.OpReduceMin: true, ir.OpReduceProd: true,
	ir.OpSoftmax: true, ir.OpLogSoftmax: true, ir.OpCumSum: true, ir.OpArgMax: true, ir.OpArgMin: true, ir.OpTopK: true,
	ir.OpConcat: true, ir.OpSlice: true, ir.OpSliceGrad: true, ir.OpPad: true, ir.OpPadGrad: true, ir.OpTrilu: true,
	ir.OpGather: true, ir.OpGatherElements: true, ir.OpGatherND: true,
	ir.OpScatterAdd: true, ir.OpScatterElements: true, ir.OpScatterND: true,
	ir.OpMaxPool: true, // runtime.MaxPool64
}

// checkF64 refuses node v when it touches f64 and its op has no f64 code.
func checkF64(v *ir.Value) error {
	if err := checkNarrow(v); err != nil { // f16 and bf16 alike (kernels_f16.go)
		return err
	}
	if !touchesF64(v) || f64Ops[v.Op] {
		return nil
	}
	if _, ok := f64Elems[v.Op]; ok {
		return nil
	}
	return fmt.Errorf("op %s on dtype %s is %w", v.Op, ir.F64, ErrUnsupported)
}

// goElemType is the Go type of an element of dtype dt in a kernel (bool and
// integers are stored as float32).
func goElemType(dt ir.DType) *jen.Statement {
	if dt == ir.F64 {
		return jen.Float64()
	}
	return jen.Float32()
}

// roundTo renders e, computed in float64, rounded to how dtype dt is stored:
// float32(e), or float64(e) for f64 (a no-op conversion that keeps the Go
// compiler from fusing e into an FMA with a neighbouring operation).
func roundTo(dt ir.DType, e jen.Code) *jen.Statement {
	return goElemType(dt).Call(e)
}

// typedLit renders x as an expression of dtype dt's Go type: the float32
// x rounds to, or x exactly for f64.
func typedLit(dt ir.DType, x float64) jen.Code {
	if dt != ir.F64 {
		return typedF32(toFloat32(dt, []float64{x})[0])
	}
	return jen.Float64().Call(f64Lit(x))
}

// f64Lit renders x exactly: the shortest decimal that converts back to x,
// or an expression for NaN, ±Inf and -0.
func f64Lit(x float64) jen.Code {
	switch {
	case math.IsNaN(x):
		return jen.Qual(mathPath, "NaN").Call()
	case math.IsInf(x, 1):
		return jen.Qual(mathPath, "Inf").Call(jen.Lit(1))
	case math.IsInf(x, -1):
		return jen.Qual(mathPath, "Inf").Call(jen.Lit(-1))
	case x == 0 && math.Signbit(x):
		return jen.Qual(mathPath, "Copysign").Call(jen.Lit(0), jen.Lit(-1))
	}
	return jen.Id(strconv.FormatFloat(x, 'g', -1, 64))
}

// f64List renders float64 literals, eight a line.
func f64List(vals []float64) jen.Code {
	const perLine = 8
	var rows []jen.Code
	for i := 0; i < len(vals); i += perLine {
		var row []jen.Code
		for _, v := range vals[i:min(i+perLine, len(vals))] {
			row = append(row, f64Lit(v))
		}
		rows = append(rows, jen.List(row...))
	}
	if len(rows) == 0 {
		return jen.Values()
	}
	return jen.Custom(jen.Options{Open: "{", Close: "}", Separator: ",", Multi: true}, rows...)
}

// dtype is the dtype of the value buffer vp holds.
func (vp *valPlan) dtype() ir.DType {
	if vp.typ.DType != 0 || vp.v == nil {
		return vp.typ.DType
	}
	return vp.v.Type.DType
}

// view renders buffer expression b as a kernel sees a buffer of dtype dt:
// itself, or its []float64 view.
func (k *kernel) view(dt ir.DType, b jen.Code) jen.Code {
	if dt != ir.F64 {
		return b
	}
	return k.helper("f64s").Call(b)
}

// helperFor names helper name, or its float64 twin name+"64" when dt is
// f64.
func (k *kernel) helperFor(name string, dt ir.DType) *jen.Statement {
	if dt == ir.F64 {
		name += "64"
	}
	return k.helper(name)
}

// math64 calls a float64 function of package math.
func math64(name string) elemFunc {
	return func(_ *kernel, x []*jen.Statement) *jen.Statement {
		return jen.Qual(mathPath, name).Call(x[0])
	}
}

// f64Elems gives the element expression of the elementwise ops on f64
// operands, computed in float64 as the interpreter computes them (the same
// math.* functions), not rounded.
var f64Elems = map[string]elemFunc{
	ir.OpAdd: binary("+"),
	ir.OpSub: binary("-"),
	ir.OpMul: binary("*"),
	ir.OpDiv: binary("/"),
	ir.OpNeg: func(_ *kernel, x []*jen.Statement) *jen.Statement { return jen.Op("-").Add(x[0]) },

	ir.OpExp:     math64("Exp"),
	ir.OpLog:     math64("Log"),
	ir.OpSqrt:    math64("Sqrt"),
	ir.OpTanh:    math64("Tanh"),
	ir.OpCos:     math64("Cos"),
	ir.OpSin:     math64("Sin"),
	ir.OpFloor:   math64("Floor"),
	ir.OpAbs:     math64("Abs"),
	ir.OpCeil:    math64("Ceil"),
	ir.OpRound:   math64("RoundToEven"),
	ir.OpErf:     math64("Erf"),
	ir.OpTan:     math64("Tan"),
	ir.OpAsin:    math64("Asin"),
	ir.OpAcos:    math64("Acos"),
	ir.OpAtan:    math64("Atan"),
	ir.OpSinh:    math64("Sinh"),
	ir.OpCosh:    math64("Cosh"),
	ir.OpAsinh:   math64("Asinh"),
	ir.OpAcosh:   math64("Acosh"),
	ir.OpAtanh:   math64("Atanh"),
	ir.OpRelu:    helperCall("relu64"),
	ir.OpSigmoid: helperCall("sigmoid64"),
	ir.OpSign:    helperCall("sign64"),

	ir.OpReciprocal: func(_ *kernel, x []*jen.Statement) *jen.Statement { return jen.Lit(1).Op("/").Add(x[0]) },
	ir.OpPow: func(_ *kernel, x []*jen.Statement) *jen.Statement {
		return jen.Qual(mathPath, "Pow").Call(x[0], x[1])
	},
	ir.OpMinimum: func(_ *kernel, x []*jen.Statement) *jen.Statement { return jen.Min(x[0], x[1]) },
	ir.OpMaximum: func(_ *kernel, x []*jen.Statement) *jen.Statement { return jen.Max(x[0], x[1]) },

	// Comparisons and is_nan read their operands in their own type.
	ir.OpGreater:      compare(">"),
	ir.OpGreaterEqual: compare(">="),
	ir.OpLess:         compare("<"),
	ir.OpLessEqual:    compare("<="),
	ir.OpEqual:        compare("=="),
	ir.OpIsNaN: func(k *kernel, x []*jen.Statement) *jen.Statement {
		return k.helper("b2f").Call(jen.Qual(mathPath, "IsNaN").Call(x[0]))
	},
	ir.OpSelect: helperCall("sel64"),
}

// f64Elem is the element expression of elementwise node v (not a cast or
// broadcast) that touches f64.
func f64Elem(v *ir.Value) elemFunc {
	switch v.Op {
	case ir.OpMod:
		if v.Attrs.Bool("fmod", false) {
			return func(_ *kernel, x []*jen.Statement) *jen.Statement {
				return jen.Qual(mathPath, "Mod").Call(x[0], x[1])
			}
		}
		return helperCall("pymod64")
	case ir.OpIsInf:
		f := elemNodeFuncs[ir.OpIsInf] // float64(x) is a no-op on a float64
		return func(k *kernel, x []*jen.Statement) *jen.Statement { return f(k, v, x) }
	}
	return f64Elems[v.Op]
}

// f64MemberExpr is memberExpr for a member that touches f64: arithmetic is
// wrapped in float64(...) as f32 arithmetic is in float32(...), so that
// the Go compiler rounds each op (no FMA), as the unfused kernels do.
func (k *kernel) f64MemberExpr(m *ir.Value, xs []*jen.Statement) *jen.Statement {
	e := f64Elem(m)(k, xs)
	switch m.Op {
	case ir.OpAdd, ir.OpSub, ir.OpMul, ir.OpDiv, ir.OpNeg, ir.OpReciprocal:
		return jen.Float64().Call(e)
	}
	return e
}

// f64CastElem is the element expression of a cast from or to f64, nil for
// the identity. Every float32-stored dtype converts to float64 exactly;
// f64 to f32 rounds once, to bool is x != 0, and to an integer truncates
// toward zero, refusing (with a panic) a result beyond what float32
// storage holds exactly rather than rounding it.
func f64CastElem(from, to ir.DType) elemFunc {
	switch {
	case from == to:
		return nil
	case to == ir.F64:
		return func(_ *kernel, x []*jen.Statement) *jen.Statement { return jen.Float64().Call(x[0]) }
	case to == ir.Bool:
		return func(k *kernel, x []*jen.Statement) *jen.Statement {
			return k.helper("b2f").Call(jen.Add(x[0]).Op("!=").Lit(0))
		}
	case to.IsInt():
		return func(k *kernel, x []*jen.Statement) *jen.Statement { return k.helper("truncF64").Call(x[0]) }
	}
	return func(_ *kernel, x []*jen.Statement) *jen.Statement { return jen.Float32().Call(x[0]) }
}

func init() {
	opHelpers["f64s"] = func(f *jen.File) {
		f.Comment("f64s views a buffer of f64 values (two float32 slots per element, 8-byte")
		f.Comment("aligned) as the []float64 it holds; nil or empty gives an empty view.")
		s := jen.Id("s")
		f.Func().Id("f64s").Params(s.Clone().Index().Float32()).Index().Float64().Block(
			jen.Return(jen.Qual("unsafe", "Slice").Call(
				jen.Parens(jen.Op("*").Float64()).Call(jen.Qual("unsafe", "Pointer").Call(jen.Qual("unsafe", "SliceData").Call(s.Clone()))),
				jen.Len(s.Clone()).Op("/").Lit(2))),
		)
	}
	opHelpers["fill64"] = func(f *jen.File) {
		f.Comment("fill64 sets every element of dst to v.")
		f.Func().Id("fill64").Params(jen.Id("dst").Index().Float64(), jen.Id("v").Float64()).Block(
			jen.For(jen.Id("i").Op(":=").Range().Id("dst")).Block(jen.Id("dst").Index(jen.Id("i")).Op("=").Id("v")),
		)
	}
	x := jen.Id("x")
	opHelpers["relu64"] = func(f *jen.File) {
		f.Comment("relu64 is max(x, 0), keeping NaN as the interpreter does.")
		f.Func().Id("relu64").Params(x.Clone().Float64()).Float64().Block(
			jen.If(x.Clone().Op("<").Lit(0)).Block(jen.Return(jen.Lit(0))),
			jen.Return(x.Clone()),
		)
	}
	opHelpers["sigmoid64"] = func(f *jen.File) {
		f.Comment("sigmoid64 is 1/(1+e^-x) as the interpreter computes it: e^ only of a")
		f.Comment("non-positive number.")
		f.Func().Id("sigmoid64").Params(x.Clone().Float64()).Float64().Block(
			jen.If(x.Clone().Op(">=").Lit(0)).Block(
				jen.Return(jen.Lit(1).Op("/").Parens(jen.Lit(1).Op("+").Qual(mathPath, "Exp").Call(jen.Op("-").Add(x.Clone()))))),
			jen.Id("e").Op(":=").Qual(mathPath, "Exp").Call(x.Clone()),
			jen.Return(jen.Id("e").Op("/").Parens(jen.Lit(1).Op("+").Id("e"))),
		)
	}
	opHelpers["sign64"] = func(f *jen.File) {
		f.Comment("sign64 is -1, 0 or 1 by the sign of x, +0 for either zero and NaN for NaN.")
		f.Func().Id("sign64").Params(x.Clone().Float64()).Float64().Block(
			jen.If(x.Clone().Op(">").Lit(0)).Block(jen.Return(jen.Lit(1))),
			jen.If(x.Clone().Op("<").Lit(0)).Block(jen.Return(jen.Lit(-1))),
			jen.If(x.Clone().Op("==").Lit(0)).Block(jen.Return(jen.Lit(0))),
			jen.Return(x.Clone()),
		)
	}
	opHelpers["sel64"] = func(f *jen.File) {
		f.Comment("sel64 is c ? a : b for a bool c stored as 0 or 1 and f64 a and b.")
		f.Func().Id("sel64").Params(jen.Id("c").Float32(), jen.List(jen.Id("a"), jen.Id("b")).Float64()).Float64().Block(
			jen.If(jen.Id("c").Op("!=").Lit(0)).Block(jen.Return(jen.Id("a"))),
			jen.Return(jen.Id("b")),
		)
	}
	opHelpers["pymod64"] = func(f *jen.File) {
		f.Comment("pymod64 is a mod b with the sign of b (Python's %), in float64 as the")
		f.Comment("interpreter computes it: C fmod, then b added when the signs differ; a zero")
		f.Comment("result takes b's sign.")
		a, b, r := jen.Id("a"), jen.Id("b"), jen.Id("r")
		f.Func().Id("pymod64").Params(jen.List(a.Clone(), b.Clone()).Float64()).Float64().Block(
			r.Clone().Op(":=").Qual(mathPath, "Mod").Call(a.Clone(), b.Clone()),
			jen.If(r.Clone().Op("==").Lit(0)).Block(
				jen.Return(jen.Qual(mathPath, "Copysign").Call(jen.Lit(0), b.Clone())),
			),
			jen.If(jen.Parens(r.Clone().Op("<").Lit(0)).Op("!=").Parens(b.Clone().Op("<").Lit(0))).Block(
				r.Clone().Op("+=").Add(b.Clone()),
			),
			jen.Return(r.Clone()),
		)
	}
	opHelpers["truncF64"] = func(f *jen.File) {
		f.Comment("truncF64 converts an f64 to an integer stored as float32: truncated toward")
		f.Comment("zero; beyond ±2^24, which float32 storage cannot hold exactly, it panics")
		f.Comment("rather than round.")
		f.Func().Id("truncF64").Params(x.Clone().Float64()).Float32().Block(
			jen.Id("t").Op(":=").Qual(mathPath, "Trunc").Call(x.Clone()),
			jen.If(jen.Op("!").Parens(jen.Id("t").Op(">=").Lit(-maxExactInt).Op("&&").Id("t").Op("<=").Lit(maxExactInt))).Block(
				jen.Panic(jen.Lit("dlc: an f64 cast to an integer beyond ±2^24, which the Go backend's float32 storage cannot hold exactly")),
			),
			jen.Return(jen.Float32().Call(jen.Id("t"))),
		)
	}
	opHelpers["argBetter64"] = func(f *jen.File) {
		f.Comment("argBetter64 is argBetter for f64 values.")
		f.Func().Id("argBetter64").Params(jen.List(jen.Id("x"), jen.Id("best")).Float64(), jen.List(jen.Id("max"), jen.Id("last")).Bool()).Bool().Block(
			jen.List(jen.Id("xn"), jen.Id("bn")).Op(":=").List(jen.Id("x").Op("!=").Id("x"), jen.Id("best").Op("!=").Id("best")),
			jen.Switch().Block(
				jen.Case(jen.Id("xn").Op("||").Id("bn")).Block(jen.Return(jen.Id("xn").Op("&&").Parens(jen.Op("!").Id("bn").Op("||").Id("last")))),
				jen.Case(jen.Id("x").Op("==").Id("best")).Block(jen.Return(jen.Id("last"))),
				jen.Case(jen.Id("max")).Block(jen.Return(jen.Id("x").Op(">").Id("best"))),
			),
			jen.Return(jen.Id("x").Op("<").Id("best")),
		)
	}
	opHelpers["topkBefore64"] = func(f *jen.File) {
		f.Comment("topkBefore64 is topkBefore for f64 values.")
		f.Func().Id("topkBefore64").Params(jen.Id("x").Float64(), jen.Id("i").Int(), jen.Id("y").Float64(), jen.Id("j").Int(),
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
}

// hasF64 reports whether some buffer of the compiled functions holds f64.
func (g *gen) hasF64() bool {
	for _, fp := range g.fns() {
		for _, b := range fp.bufs {
			if b.dtype() == ir.F64 {
				return true
			}
		}
		for _, c := range fp.consts {
			if c.dtype() == ir.F64 {
				return true
			}
		}
	}
	return false
}

// evenSizes makes every arena buffer's size even when some buffer holds
// f64, so that every offset planArena gives, a sum of sizes, is even: each
// f64 buffer starts 8-byte aligned in the (aligned) arena.
func (g *gen) evenSizes() {
	if !g.hasF64() {
		return
	}
	for _, fp := range g.fns() {
		for _, b := range fp.bufs {
			b.size.c += b.size.c % 2
		}
	}
}

// constInitF64 fills an f64 constant's buffer in New: make (8-byte
// aligned), then the exact value splatted or the data copied in through
// the f64 view.
func (g *gen) constInitF64(c *valPlan) []jen.Code {
	vals := c.v.Attrs.Floats("value")
	field := jen.Id("m").Dot(c.field)
	size := poly(nil).plus(c.size)
	if c.size.isZero() {
		size = nil
	}
	out := []jen.Code{field.Clone().Op("=").Make(jen.Index().Float32(), size.code("mb"))}
	g.helpers["f64s"] = true
	view := jen.Id("f64s").Call(field.Clone())
	if len(vals) != 1 {
		return append(out, jen.Copy(view, jen.Id(c.field+"Data")))
	}
	if vals[0] != 0 || math.Signbit(vals[0]) {
		g.helpers["fill64"] = true
		out = append(out, jen.Id("fill64").Call(view, f64Lit(vals[0])))
	}
	return out
}

// setTmpDType records that scratch buffer t holds values of dtype dt.
func (k *kernel) setTmpDType(t int, dt ir.DType) {
	for len(k.tmpF64) <= t {
		k.tmpF64 = append(k.tmpF64, false)
	}
	k.tmpF64[t] = dt == ir.F64
}

// tmpDType is the dtype of scratch buffer t's values: f64 or f32 (which
// also stores bool and integers).
func (k *kernel) tmpDType(t int) ir.DType {
	if t < len(k.tmpF64) && k.tmpF64[t] {
		return ir.F64
	}
	return ir.F32
}
