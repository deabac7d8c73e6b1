package golang

import (
	"fmt"
	"strconv"

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
// prec significand bits (the implicit one included), the smallest and
// largest normal exponents emin and emax, and the largest finite value
// (ir.RoundF16 and ir.RoundBF16 take the same facts).
type narrowRounding struct {
	name, what, irFunc string
	prec, emin, emax   int
	maxFinite          float64
}

var narrowRoundings = []narrowRounding{
	{"roundF16", "IEEE 754 binary16", "ir.RoundF16", 11, -14, 15, 65504},
	{"roundBF16", "bfloat16", "ir.RoundBF16", 8, -126, 127, (2 - 1.0/128) * (1 << 127)},
}

func init() {
	for _, r := range narrowRoundings {
		opHelpers[r.name] = func(f *jen.File) {
			x, a, e, m, res := jen.Id("x"), jen.Id("a"), jen.Id("e"), jen.Id("m"), jen.Id("r")
			f.Commentf("%s rounds x to the nearest %s value, ties to even, with gradual", r.name, r.what)
			f.Commentf("underflow (down to 2^%d) and overflow to ±Inf (from the midpoint above the", r.emin-r.prec+1)
			f.Commentf("largest finite value, %s); NaN stays NaN and the sign of zero is kept:", strconv.FormatFloat(r.maxFinite, 'g', -1, 64))
			f.Commentf("%s, to the bit. It rounds once, from the float64 (never through", r.irFunc)
			f.Comment("float32, which could move a tie), and returns the value as float32, which")
			f.Commentf("holds it exactly. With q the spacing of the values around |x| (2^(e-%d) for", r.prec-1)
			f.Commentf("its exponent e, taken as at least %d), |x| < 2^%d·q, so adding m = 2^52·q lands", r.emin, r.prec)
			f.Comment("where float64's own spacing is q: the sum rounds |x| to a multiple of q, ties")
			f.Comment("to even, and subtracting m back is exact.")
			f.Func().Id(r.name).Params(x.Clone().Float64()).Float32().Block(
				a.Clone().Op(":=").Qual(mathPath, "Abs").Call(x.Clone()),
				e.Clone().Op(":=").Int().Call(jen.Qual(mathPath, "Float64bits").Call(a.Clone()).Op(">>").Lit(52)).Op("-").Lit(1023),
				jen.If(e.Clone().Op(">").Lit(r.emax)).Block(
					jen.Commentf("2^%d and up, ±Inf and NaN: beyond the overflow threshold, or NaN.", r.emax+1),
					jen.If(a.Clone().Op("!=").Add(a.Clone())).Block(jen.Return(jen.Float32().Call(x.Clone()))),
					jen.Return(jen.Float32().Call(jen.Qual(mathPath, "Copysign").Call(jen.Qual(mathPath, "Inf").Call(jen.Lit(1)), x.Clone()))),
				),
				m.Clone().Op(":=").Qual(mathPath, "Float64frombits").Call(jen.Uint64().Call(
					jen.Max(e.Clone(), jen.Lit(r.emin)).Op("+").Lit(1023+52-(r.prec-1))).Op("<<").Lit(52)),
				jen.Comment("float64(...) rounds the sum: Go may not keep it wider."),
				res.Clone().Op(":=").Float64().Call(a.Clone().Op("+").Add(m.Clone())).Op("-").Add(m.Clone()),
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
