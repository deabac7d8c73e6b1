package golang

import (
	"github.com/dave/jennifer/jen"
	"github.com/dlc-project/dlc/ir"
)

// elemNodeFunc renders the result element of elementwise node v from its
// operands' elements, for the ops whose expression depends on v's
// attributes (mod's fmod, is_inf's flags).
type elemNodeFunc func(k *kernel, v *ir.Value, x []*jen.Statement) *jen.Statement

// elemNodeFuncs are the elemNodeFunc of those ops; memberExpr uses them
// for fused members, elementwiseNode for unfused nodes, so both compute
// the same bits.
var elemNodeFuncs = map[string]elemNodeFunc{}

// elementwiseNode is elementwise for an elemNodeFunc.
func elementwiseNode(f elemNodeFunc) emitFunc {
	return func(k *kernel) error {
		v := k.v
		return elementwise(func(k *kernel, x []*jen.Statement) *jen.Statement { return f(k, v, x) })(k)
	}
}

// The ops of ir/ops_elem.go. Float math goes through math.* in float64 and
// rounds once, as the interpreter does, so results agree to the bit; erf,
// which GELU puts in transformer blocks, is runtime.Erf32 instead (within
// 1 ulp of that), whose vector twin fused loops call.
func init() {
	fns := map[string]elemFunc{
		ir.OpAbs:   mathFunc("Abs"),
		ir.OpSign:  helperCall("sign"),
		ir.OpCeil:  mathFunc("Ceil"),
		ir.OpRound: mathFunc("RoundToEven"),
		ir.OpErf:   runtimeFunc("Erf32"), // VecErf's scalar twin (≤ 1 ulp from math.Erf)
		ir.OpTan:   mathFunc("Tan"),
		ir.OpAsin:  mathFunc("Asin"),
		ir.OpAcos:  mathFunc("Acos"),
		ir.OpAtan:  mathFunc("Atan"),
		ir.OpSinh:  mathFunc("Sinh"),
		ir.OpCosh:  mathFunc("Cosh"),
		ir.OpAsinh: mathFunc("Asinh"),
		ir.OpAcosh: mathFunc("Acosh"),
		ir.OpAtanh: mathFunc("Atanh"),
		// A float32 division is correctly rounded, as the float64 one
		// rounded to float32 is: the same bits.
		ir.OpReciprocal: func(_ *kernel, x []*jen.Statement) *jen.Statement { return jen.Lit(1).Op("/").Add(x[0]) },

		ir.OpPow: func(_ *kernel, x []*jen.Statement) *jen.Statement {
			return jen.Float32().Call(jen.Qual(mathPath, "Pow").Call(jen.Float64().Call(x[0]), jen.Float64().Call(x[1])))
		},
		// Go's min and max give NaN if either operand is NaN, as the
		// interpreter (which uses them too) and NumPy do.
		ir.OpMinimum: func(_ *kernel, x []*jen.Statement) *jen.Statement { return jen.Min(x[0], x[1]) },
		ir.OpMaximum: func(_ *kernel, x []*jen.Statement) *jen.Statement { return jen.Max(x[0], x[1]) },

		ir.OpNot: func(k *kernel, x []*jen.Statement) *jen.Statement {
			return k.helper("b2f").Call(jen.Add(x[0]).Op("==").Lit(0))
		},
		ir.OpAnd: logicalElem("&&"),
		ir.OpOr:  logicalElem("||"),
		ir.OpXor: logicalElem("!="),
		ir.OpIsNaN: func(k *kernel, x []*jen.Statement) *jen.Statement {
			return k.helper("b2f").Call(jen.Qual(mathPath, "IsNaN").Call(jen.Float64().Call(x[0])))
		},
	}
	for op, f := range fns {
		elemFuncs[op] = f
		emitters[op] = elementwise(f)
	}

	elemNodeFuncs[ir.OpMod] = func(k *kernel, v *ir.Value, x []*jen.Statement) *jen.Statement {
		if v.Attrs.Bool("fmod", false) {
			return jen.Float32().Call(jen.Qual(mathPath, "Mod").Call(jen.Float64().Call(x[0]), jen.Float64().Call(x[1])))
		}
		return k.helper("pymod").Call(x[0], x[1])
	}
	elemNodeFuncs[ir.OpIsInf] = func(k *kernel, v *ir.Value, x []*jen.Statement) *jen.Statement {
		pos, neg := v.Attrs.Bool("detect_positive", true), v.Attrs.Bool("detect_negative", true)
		isInf := func(sign int) *jen.Statement {
			return k.helper("b2f").Call(jen.Qual(mathPath, "IsInf").Call(jen.Float64().Call(x[0]), jen.Lit(sign)))
		}
		switch {
		case pos && neg:
			return isInf(0)
		case pos:
			return isInf(1)
		case neg:
			return isInf(-1)
		}
		// Always false, but reading x, which Go requires of a local the
		// kernel declared for it.
		return k.helper("b2f").Call(jen.False().Op("&&").Qual(mathPath, "IsInf").Call(jen.Float64().Call(x[0]), jen.Lit(0)))
	}
	for _, op := range []string{ir.OpMod, ir.OpIsInf} {
		emitters[op] = elementwiseNode(elemNodeFuncs[op])
	}

	opHelpers["sign"] = func(f *jen.File) {
		f.Comment("sign is -1, 0 or 1 by the sign of x, +0 for either zero and NaN for NaN, as")
		f.Comment("the interpreter (and NumPy) do.")
		f.Func().Id("sign").Params(jen.Id("x").Float32()).Float32().Block(
			jen.If(jen.Id("x").Op(">").Lit(0)).Block(jen.Return(jen.Lit(1))),
			jen.If(jen.Id("x").Op("<").Lit(0)).Block(jen.Return(jen.Lit(-1))),
			jen.If(jen.Id("x").Op("==").Lit(0)).Block(jen.Return(jen.Lit(0))),
			jen.Return(jen.Id("x")),
		)
	}
	opHelpers["pymod"] = func(f *jen.File) {
		f.Comment("pymod is a mod b with the sign of b (Python's %, NumPy's remainder), in float64")
		f.Comment("and rounded once, as the interpreter computes it: C fmod, then b added when the")
		f.Comment("signs differ; a zero result takes b's sign.")
		a, b, r := jen.Float64().Call(jen.Id("a")), jen.Float64().Call(jen.Id("b")), jen.Id("r")
		f.Func().Id("pymod").Params(jen.List(jen.Id("a"), jen.Id("b")).Float32()).Float32().Block(
			r.Clone().Op(":=").Qual(mathPath, "Mod").Call(a.Clone(), b.Clone()),
			jen.If(r.Clone().Op("==").Lit(0)).Block(
				jen.Return(jen.Float32().Call(jen.Qual(mathPath, "Copysign").Call(jen.Lit(0), b.Clone()))),
			),
			jen.If(jen.Parens(r.Clone().Op("<").Lit(0)).Op("!=").Parens(jen.Id("b").Op("<").Lit(0))).Block(
				r.Clone().Op("+=").Add(b.Clone()),
			),
			jen.Return(jen.Float32().Call(r.Clone())),
		)
	}
}

// logicalElem combines two bools stored as 0 or 1.
func logicalElem(op string) elemFunc {
	return func(k *kernel, x []*jen.Statement) *jen.Statement {
		return k.helper("b2f").Call(jen.Parens(jen.Add(x[0]).Op("!=").Lit(0)).Op(op).Parens(jen.Add(x[1]).Op("!=").Lit(0)))
	}
}
