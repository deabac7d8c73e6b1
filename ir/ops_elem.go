package ir

import "fmt"

// The elementwise ops beyond the core arithmetic (ONNX's unary math,
// minimum/maximum/pow/mod, logical ops and the NaN/Inf tests). All are
// KindElementwise with NumPy broadcasting, so the fusion pass fuses them
// like add or tanh.
const (
	OpAbs        = "abs"        // |arg0|
	OpSign       = "sign"       // -1, 0 or 1 by the sign of arg0 (NaN stays NaN)
	OpCeil       = "ceil"       // the smallest integer >= arg0
	OpRound      = "round"      // arg0 rounded to the nearest integer, halves to even
	OpErf        = "erf"        // the error function of arg0
	OpTan        = "tan"        // tan(arg0), radians
	OpAsin       = "asin"       // arcsin(arg0)
	OpAcos       = "acos"       // arccos(arg0)
	OpAtan       = "atan"       // arctan(arg0)
	OpSinh       = "sinh"       // sinh(arg0)
	OpCosh       = "cosh"       // cosh(arg0)
	OpAsinh      = "asinh"      // arsinh(arg0)
	OpAcosh      = "acosh"      // arcosh(arg0)
	OpAtanh      = "atanh"      // artanh(arg0)
	OpReciprocal = "reciprocal" // 1/arg0

	OpPow     = "pow"     // arg0 ^ arg1
	OpMinimum = "minimum" // min(arg0, arg1), NaN if either is NaN
	OpMaximum = "maximum" // max(arg0, arg1), NaN if either is NaN
	OpMod     = "mod"     // arg0 mod arg1: the sign of arg1 (Python), or of arg0 with fmod (C fmod)

	OpNot = "not" // !arg0 (bool)
	OpAnd = "and" // arg0 && arg1 (bool)
	OpOr  = "or"  // arg0 || arg1 (bool)
	OpXor = "xor" // arg0 != arg1 (bool)

	OpIsNaN = "is_nan" // arg0 is NaN (bool)
	OpIsInf = "is_inf" // arg0 is +Inf (detect_positive) or -Inf (detect_negative) (bool)
)

func init() {
	for _, op := range []struct {
		name, doc string
		ints      bool // integer operands allowed too
	}{
		{OpAbs, "|arg0|", true},
		{OpSign, "-1, 0 or 1 by the sign of arg0 (NaN stays NaN)", true},
		{OpCeil, "the smallest integer >= arg0", false},
		{OpRound, "arg0 rounded to the nearest integer, halves to even (as ONNX and NumPy)", false},
		{OpErf, "the error function of arg0", false},
		{OpTan, "tan(arg0), radians", false},
		{OpAsin, "arcsin(arg0), NaN outside [-1, 1]", false},
		{OpAcos, "arccos(arg0), NaN outside [-1, 1]", false},
		{OpAtan, "arctan(arg0)", false},
		{OpSinh, "sinh(arg0)", false},
		{OpCosh, "cosh(arg0)", false},
		{OpAsinh, "arsinh(arg0)", false},
		{OpAcosh, "arcosh(arg0), NaN below 1", false},
		{OpAtanh, "artanh(arg0), NaN outside [-1, 1]", false},
		{OpReciprocal, "1/arg0", false},
	} {
		register(&OpDef{Name: op.name, Doc: op.doc, Kind: KindElementwise, NumArgs: 1, Infer: inferUnary(!op.ints)})
	}
	for _, op := range []struct{ name, doc string }{
		{OpPow, "arg0 raised to arg1 (C pow for floats; integers: exact, wrapping, a negative exponent truncates toward 0)"},
		{OpMinimum, "the smaller of arg0 and arg1, NaN if either is NaN"},
		{OpMaximum, "the larger of arg0 and arg1, NaN if either is NaN"},
	} {
		register(&OpDef{Name: op.name, Doc: op.doc, Kind: KindElementwise, NumArgs: 2, Infer: inferArith})
	}
	register(&OpDef{Name: OpMod, Kind: KindElementwise, NumArgs: 2, Infer: inferArith,
		Doc:   "arg0 mod arg1 with the sign of arg1 (Python, NumPy); with fmod, with the sign of arg0 (C fmod, Go %)",
		Attrs: []AttrSpec{{"fmod", AttrBool, false}}})
	register(&OpDef{Name: OpNot, Doc: "logical not of the bool arg0", Kind: KindElementwise, NumArgs: 1, Infer: inferLogical})
	for _, op := range []struct{ name, doc string }{
		{OpAnd, "arg0 and arg1 (bool)"}, {OpOr, "arg0 or arg1 (bool)"}, {OpXor, "arg0 xor arg1 (bool)"},
	} {
		register(&OpDef{Name: op.name, Doc: op.doc, Kind: KindElementwise, NumArgs: 2, Infer: inferLogical})
	}
	register(&OpDef{Name: OpIsNaN, Doc: "whether arg0 is NaN (bool)", Kind: KindElementwise, NumArgs: 1, Infer: inferFloatTest})
	register(&OpDef{Name: OpIsInf, Kind: KindElementwise, NumArgs: 1, Infer: inferFloatTest,
		Doc:   "whether arg0 is +Inf (if detect_positive, default true) or -Inf (if detect_negative, default true) (bool)",
		Attrs: []AttrSpec{{"detect_positive", AttrBool, false}, {"detect_negative", AttrBool, false}}})
}

// inferLogical types not, and, or, xor: bool operands, broadcast, a bool
// result.
func inferLogical(args []Type, _ Attrs) (Type, error) {
	var s Shape
	for i, a := range args {
		if a.DType != Bool {
			return Type{}, fmt.Errorf("operand %d must be bool, is %s", i, a.DType)
		}
		if i == 0 {
			s = a.Shape.Clone()
			continue
		}
		var err error
		if s, err = BroadcastShapes(s, a.Shape); err != nil {
			return Type{}, err
		}
	}
	return Type{DType: Bool, Shape: s}, nil
}

// inferFloatTest types is_nan and is_inf: a float operand, a bool result.
func inferFloatTest(args []Type, _ Attrs) (Type, error) {
	if !args[0].DType.IsFloat() {
		return Type{}, fmt.Errorf("operand must be a float type, is %s", args[0].DType)
	}
	return Type{DType: Bool, Shape: args[0].Shape.Clone()}, nil
}
