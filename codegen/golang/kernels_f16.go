package golang

import (
	"fmt"

	"github.com/dave/jennifer/jen"
	"github.com/dlc-project/dlc/ir"
)

// f16 and bf16 values in the Go backend.
//
// Every f16 and bf16 value is exactly a float32, so they are stored as
// float32, one slot per element, like f32: the arena, views, moves and the
// memory plan need nothing new. What differs is arithmetic: the
// interpreter computes each op in float64 from its (exact) operands and
// rounds the result once to the dtype (ir.RoundF16, ir.RoundBF16), so the
// generated code does the same: an elementwise op reads its narrow
// operands as float64, computes the f64 expression of f64Elems (the same
// math.* functions the interpreter calls), and rounds with the generated
// helper roundF16 or roundBF16, ports of ir.RoundF16 and ir.RoundBF16
// (round to nearest, ties to even, gradual underflow, overflow to ±Inf,
// one rounding from float64, never through float32, which could move a
// tie). Add, sub and mul of two such values are exact in float64, so they
// are rounded once, as in IEEE half-precision arithmetic. The vector loops
// stay f32 and bool only (vecDType), so a narrow value always runs in a
// scalar loop. The model's API stays float32: parameters, results and
// weights of f16 or bf16 are refused, as f64's are (onnx.Pack casts).
// Only the ops of narrowOps and the elementwise ops of f64Elems accept
// them; the rest (reductions, matmul, pad, ...) refuse with an error
// wrapping ErrUnsupported rather than compute in float32 and round
// differently from the interpreter.

// isNarrow reports whether dt is a float dtype narrower than f32.
func isNarrow(dt ir.DType) bool { return dt == ir.F16 || dt == ir.BF16 }

// narrowDType returns the first f16 or bf16 dtype among node v's results
// and operands, and whether there is one.
func narrowDType(v *ir.Value) (ir.DType, bool) {
	ts := []ir.Type{v.Type}
	if v.Type.IsTuple() {
		ts = v.Type.Elems
	}
	for _, a := range v.Args {
		ts = append(ts, a.Type)
	}
	for _, t := range ts {
		if isNarrow(t.DType) {
			return t.DType, true
		}
	}
	return 0, false
}

// narrowOps are the ops other than those of f64Elems that handle f16 and
// bf16 values: they only move the float32 that stores each element (no
// arithmetic, hence no rounding), or, for cast, mod and is_inf, have code
// of their own here.
var narrowOps = map[string]bool{
	ir.OpConstant: true, ir.OpFused: true, ir.OpExtract: true,
	ir.OpCast: true, ir.OpBroadcast: true, ir.OpMod: true, ir.OpIsInf: true,
	ir.OpReshape: true, ir.OpTranspose: true, ir.OpConcat: true, ir.OpSlice: true,
	ir.OpGather: true, ir.OpGatherElements: true, ir.OpGatherND: true,
}

// checkNarrow refuses node v when it touches f16 or bf16 and its op has no
// code for them.
func checkNarrow(v *ir.Value) error {
	dt, ok := narrowDType(v)
	if !ok || narrowOps[v.Op] {
		return nil
	}
	if _, ok := f64Elems[v.Op]; ok {
		return nil
	}
	return fmt.Errorf("op %s on dtype %s is %w", v.Op, dt, ErrUnsupported)
}

// roundNarrow renders e, a float64 expression, rounded to dtype dt (f16 or
// bf16) and stored as float32.
func roundNarrow(k *kernel, dt ir.DType, e jen.Code) *jen.Statement {
	if dt == ir.BF16 {
		return k.helper("roundBF16").Call(e)
	}
	return k.helper("roundF16").Call(e)
}

// narrowElem is the element expression of elementwise node v (not a cast
// or broadcast) that touches f16 or bf16: its f64 expression over the
// operands read as float64 (exact), rounded once to v's dtype when that is
// narrow (a bool result, of a comparison or is_nan, is already 0 or 1).
func narrowElem(v *ir.Value) elemFunc {
	f := f64Elem(v)
	return func(k *kernel, x []*jen.Statement) *jen.Statement {
		xs := make([]*jen.Statement, len(x))
		for i, a := range x {
			xs[i] = a
			if isNarrow(v.Args[i].Type.DType) {
				xs[i] = jen.Float64().Call(a)
			}
		}
		e := f(k, xs)
		if isNarrow(v.Type.DType) {
			return roundNarrow(k, v.Type.DType, e)
		}
		return e
	}
}

// narrowCastElem is the element expression of a cast to f16 or bf16 from
// another dtype: the operand as float64 (exact from every dtype the
// backend stores), rounded once, as the interpreter's cast rounds.
func narrowCastElem(from, to ir.DType) elemFunc {
	return func(k *kernel, x []*jen.Statement) *jen.Statement {
		e := x[0]
		if from != ir.F64 {
			e = jen.Float64().Call(e)
		}
		return roundNarrow(k, to, e)
	}
}

// narrowRounding describes a narrow float format for its rounding helper:
// prec significand bits (the implicit one included), the smallest normal
// exponent emin and the largest finite value, as ir's roundBinary takes
// them.
type narrowRounding struct {
	name, what string
	prec, emin int
	maxFinite  float64
}

var narrowRoundings = []narrowRounding{
	{"roundF16", "IEEE 754 binary16 value (65504 the largest finite)", 11, -14, 65504},
	{"roundBF16", "bfloat16 value (8 exponent bits, 7 fraction bits)", 8, -126, (2 - 1.0/128) * (1 << 127)},
}

func init() {
	for _, r := range narrowRoundings {
		opHelpers[r.name] = func(f *jen.File) {
			x, a, q, res := jen.Id("x"), jen.Id("a"), jen.Id("q"), jen.Id("r")
			f.Commentf("%s rounds x to the nearest %s, ties to even,", r.name, r.what)
			f.Comment("with gradual underflow and overflow to ±Inf; NaN stays NaN and the sign of")
			f.Comment("zero is kept. It rounds once, from the float64 (as ir/interp does), and")
			f.Comment("returns the value as float32, which holds it exactly. Dividing by the power")
			f.Comment("of two q, the spacing of the format's values around x, is exact, as is")
			f.Comment("multiplying back.")
			f.Func().Id(r.name).Params(x.Clone().Float64()).Float32().Block(
				jen.If(x.Clone().Op("==").Lit(0).Op("||").Add(x.Clone()).Op("!=").Add(x.Clone()).Op("||").Qual(mathPath, "IsInf").Call(x.Clone(), jen.Lit(0))).Block(
					jen.Return(jen.Float32().Call(x.Clone())),
				),
				a.Clone().Op(":=").Qual(mathPath, "Abs").Call(x.Clone()),
				jen.List(jen.Id("_"), jen.Id("exp")).Op(":=").Qual(mathPath, "Frexp").Call(a.Clone()),
				jen.Comment("a is in [2^(exp-1), 2^exp); below the smallest normal exponent the"),
				jen.Comment("spacing is the subnormals'."),
				q.Clone().Op(":=").Qual(mathPath, "Ldexp").Call(jen.Lit(1), jen.Max(jen.Id("exp").Op("-").Lit(1), jen.Lit(r.emin)).Op("-").Lit(r.prec-1)),
				res.Clone().Op(":=").Qual(mathPath, "RoundToEven").Call(a.Clone().Op("/").Add(q.Clone())).Op("*").Add(q.Clone()),
				jen.If(res.Clone().Op(">").Add(f64Lit(r.maxFinite))).Block(
					res.Clone().Op("=").Qual(mathPath, "Inf").Call(jen.Lit(1)),
				),
				jen.Return(jen.Float32().Call(jen.Qual(mathPath, "Copysign").Call(res.Clone(), x.Clone()))),
			)
		}
	}
}

// isNarrowNode reports whether node v has an f16 or bf16 result or operand.
func isNarrowNode(v *ir.Value) bool {
	_, ok := narrowDType(v)
	return ok
}
