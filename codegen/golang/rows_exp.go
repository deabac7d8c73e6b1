package golang

import (
	"github.com/dave/jennifer/jen"
)

// Softmax and log_softmax of f32 rows.
//
// The exponentials are runtime.Exp32 of the float32 difference x - max
// (≤ 1 ulp, see runtime/vecmath.go), summed in float64 in column order as
// before; only the sum and the division (softmax) or the log-sum-exp
// (log_softmax) stay in float64. The unfused kernel (rowwise) and the rows
// region (rowsEmitter.rowwiseStage) emit the same expressions, so every
// variant computes the same bits: where the row is contiguous and vector
// loops are on, softmax takes the exponentials of the whole row with one
// runtime.VecExp, which computes Exp32's bits for every element. Other
// dtypes keep math.Exp in float64 (f64 must match the interpreter exactly).

// softmaxRowF32 emits the part of a softmax row after its max mx: oj()
// = x - mx, the exponentials of the row in place (one VecExp over orow
// when orow is not nil, else Exp32 element by element), their sum and
// the scaling by its reciprocal (one division a row, not one an element).
// n is the row length; sum and inv name the float64 sum and reciprocal.
func softmaxRowF32(xj, oj func() *jen.Statement, n jen.Code, orow *jen.Statement, mx, sum, inv string) []jen.Code {
	out := []jen.Code{loop("j", jen.Lit(0), n, oj().Op("=").Add(xj()).Op("-").Id(mx))}
	if orow != nil {
		out = append(out, jen.Qual(runtimePath, "VecExp").Call(orow, orow.Clone()))
	} else {
		out = append(out, loop("j", jen.Lit(0), n, oj().Op("=").Qual(runtimePath, "Exp32").Call(oj())))
	}
	return append(out,
		jen.Id(sum).Op(":=").Lit(0.0),
		loop("j", jen.Lit(0), n, jen.Id(sum).Op("+=").Float64().Call(oj())),
		jen.Id(inv).Op(":=").Lit(1).Op("/").Id(sum),
		loop("j", jen.Lit(0), n, oj().Op("=").Float32().Call(jen.Float64().Call(oj()).Op("*").Id(inv))),
	)
}

// logSoftmaxSumF32 emits the float64 sum of the exponentials of a
// log_softmax row after its max mx, as softmaxRowF32 sums them. It writes
// no output, so the operand may share the output's space.
func logSoftmaxSumF32(xj func() *jen.Statement, n jen.Code, mx, sum string) []jen.Code {
	return []jen.Code{
		jen.Id(sum).Op(":=").Lit(0.0),
		loop("j", jen.Lit(0), n, jen.Id(sum).Op("+=").Float64().Call(
			jen.Qual(runtimePath, "Exp32").Call(xj().Op("-").Id(mx)))),
	}
}
