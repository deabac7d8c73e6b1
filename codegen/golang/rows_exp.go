package golang

import (
	"github.com/dave/jennifer/jen"
)

// Softmax and log_softmax of f32 rows.
//
// The exponentials are runtime.Exp32 of the float32 difference x - max
// (≤ 1 ulp, see runtime/vecmath.go), summed in float64 in runtime.VecSum64's
// blocked order (eight lanes, element j into lane j%8, then a fixed tree);
// only the sum and the division (softmax) or the log-sum-exp (log_softmax)
// stay in float64. The unfused kernel (rowwise) and the rows region
// (rowsEmitter.rowwiseStage) emit the same expressions, so every variant
// computes the same bits: where the rows are contiguous and vector loops
// are on, a softmax row is runtime.VecMax, VecSubS, VecExp, VecSum64 and
// VecScale64 (each the bits of its scalar twin), else the scalar loops
// below in the same order. Other dtypes keep math.Exp in float64 (f64 must
// match the interpreter exactly).

// wideRow reports whether rows of n columns are long enough for the
// vector row functions: short rows (a 10-class softmax) cost less as
// scalar loops than as calls.
func wideRow(n mono) bool { return n.p != 0 || n.c >= vecMinInner }

// rowMaxF32 emits mx := the max of an f32 row: one runtime.VecMax over
// xrow when it is not nil (vector loops on, a contiguous row), else a
// loop with Go's max, which VecMax's bits follow.
func rowMaxF32(xj func() *jen.Statement, n jen.Code, xrow *jen.Statement, mx string) []jen.Code {
	if xrow != nil {
		return []jen.Code{jen.Id(mx).Op(":=").Qual(runtimePath, "VecMax").Call(xrow)}
	}
	return []jen.Code{
		jen.Id(mx).Op(":=").Float32().Call(jen.Qual(mathPath, "Inf").Call(jen.Lit(-1))),
		loop("j", jen.Lit(0), n, jen.Id(mx).Op("=").Max(jen.Id(mx), xj())),
	}
}

// blockedSum emits sum := the float64 sum of the values x() over j < n in
// runtime.VecSum64's order.
func blockedSum(x func() *jen.Statement, n jen.Code, sum string) []jen.Code {
	lanes := sum + "l"
	return []jen.Code{
		jen.Var().Id(lanes).Index(jen.Lit(8)).Float64(),
		loop("j", jen.Lit(0), n, jen.Id(lanes).Index(jen.Id("j").Op("&").Lit(7)).Op("+=").Float64().Call(x())),
		jen.Id(sum).Op(":=").Qual(runtimePath, "SumLanes64").Call(jen.Op("&").Id(lanes)),
	}
}

// softmaxRowF32 emits the part of a softmax row after its max mx: oj()
// = x - mx, the exponentials of the row in place, their sum and the
// scaling by its reciprocal (one division a row, not one an element).
// orow, the output row, is not nil when vector loops are on; xrow, the
// operand row, when it is also contiguous and the row is wide enough
// (wideRow): then the whole row is runtime calls, else only the
// exponentials are (one VecExp when orow is not nil). n is the row length;
// sum and inv name the float64 sum and reciprocal.
func softmaxRowF32(xj, oj func() *jen.Statement, n jen.Code, xrow, orow *jen.Statement, mx, sum, inv string) []jen.Code {
	if xrow == nil { // scalar, but for one VecExp over the output row
		out := []jen.Code{loop("j", jen.Lit(0), n, oj().Op("=").Add(xj()).Op("-").Id(mx))}
		if orow != nil {
			out = append(out, jen.Qual(runtimePath, "VecExp").Call(orow, orow.Clone()))
		} else {
			out = append(out, loop("j", jen.Lit(0), n, oj().Op("=").Qual(runtimePath, "Exp32").Call(oj())))
		}
		out = append(out, blockedSum(oj, n, sum)...)
		return append(out,
			jen.Id(inv).Op(":=").Lit(1).Op("/").Id(sum),
			loop("j", jen.Lit(0), n, oj().Op("=").Float32().Call(jen.Float64().Call(oj()).Op("*").Id(inv))),
		)
	}
	return []jen.Code{
		jen.Qual(runtimePath, "VecSubS").Call(orow, xrow, jen.Id(mx)),
		jen.Qual(runtimePath, "VecExp").Call(orow.Clone(), orow.Clone()),
		jen.Id(sum).Op(":=").Qual(runtimePath, "VecSum64").Call(orow.Clone()),
		jen.Id(inv).Op(":=").Lit(1).Op("/").Id(sum),
		jen.Qual(runtimePath, "VecScale64").Call(orow.Clone(), orow.Clone(), jen.Id(inv)),
	}
}

// logSoftmaxSumF32 emits the float64 sum of the exponentials of a
// log_softmax row after its max mx, as softmaxRowF32 sums them. It writes
// no output, so the operand may share the output's space.
func logSoftmaxSumF32(xj func() *jen.Statement, n jen.Code, mx, sum string) []jen.Code {
	return blockedSum(func() *jen.Statement { return jen.Qual(runtimePath, "Exp32").Call(xj().Op("-").Id(mx)) }, n, sum)
}
