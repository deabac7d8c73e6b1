package golang

import (
	"slices"
	"strconv"

	"github.com/dave/jennifer/jen"
	"github.com/dlc-project/dlc/ir"
)

// Column sums: an f32 reduce_sum or reduce_mean whose innermost operand
// dim is kept (the bias gradient's sum over the batch, [N, C] -> [C], is
// the common case) is emitted as a loop over the reduced rows that adds
// each contiguous row of the kept run into a float64 accumulator vector
// (runtime.VecAccumRows64), instead of walking each kept element down the
// rows with a scalar accumulator at a stride. Per kept element the
// additions are the scalar loop's, in the same order (acc starts at +0,
// then row 0, 1, 2, ...; for several reduced dims, outermost first), and
// the final conversion is the same expression, so the result is the same
// bits: Options.NoVector keeps the scalar loop and the end-to-end test
// compares the two.

// rdim is one dim of a reduction's operand after merging neighbours of the
// same kind (kept or reduced): its extent and its stride in the operand.
type rdim struct{ size, stride mono }

// colSumChunk bounds the accumulator, a stack array of float64 (2 KiB): a
// longer kept run is summed chunk by chunk, each chunk reading every row
// again.
const colSumChunk = 256

// colSum emits the reduction as column sums where it applies (see above)
// and reports whether it did. kept and red are the merged kept and
// reduced dims, outermost first, without unit dims; count is the number of
// elements reduced into each result (the divisor of a mean). A reduction
// over unit dims only (red holds the caller's placeholder of stride 0)
// is left to the scalar loop. The pool splits kept[0] (k.rows, set by the
// caller): the run itself when it is the only kept dim, so each worker
// sums whole columns of its [lo, hi) and the result does not depend on
// the number of workers.
func colSum(k *kernel, op string, kept, red []rdim, count mono) bool {
	if k.g.noVector || k.v.Type.DType != ir.F32 || (op != ir.OpReduceSum && op != ir.OpReduceMean) ||
		len(kept) == 0 || len(red) == 0 || red[0].stride.isZero() || !kept[len(kept)-1].stride.isOne() {
		return false
	}
	last := len(kept) - 1
	run := kept[last].size
	accLen := int64(colSumChunk)
	if run.p == 0 {
		accLen = min(accLen, run.c)
	}
	keptVars, keptSizes, keptSt := make([]string, last), make([]mono, len(kept)), make([]mono, last)
	for d, kd := range kept {
		keptSizes[d] = kd.size
		if d < last {
			keptVars[d], keptSt[d] = "i"+strconv.Itoa(d), kd.stride
		}
	}
	outSt := contiguous(keptSizes)
	// The kept run is summed from column c: in chunks of accLen where it
	// may be longer (c is then the chunk loop's variable), at once where
	// not (c is lo, or the run's start when the pool splits an outer
	// kept dim).
	chunked := run.p != 0 || run.c > colSumChunk
	col := []string{"c"}
	var width jen.Code
	switch {
	case chunked:
		width = jen.Id("w")
	case last == 0:
		col, width = []string{"lo"}, jen.Id("hi").Op("-").Id("lo")
	default:
		col = nil
	}
	// The row of the innermost reduced dim goes to one VecAccumRows64; the
	// other reduced dims are loops around it, outermost first, as in the
	// scalar loop nest.
	inner := red[len(red)-1]
	redVars, redSt := make([]string, len(red)-1), make([]mono, len(red)-1)
	for d := range redVars {
		redVars[d], redSt[d] = "r"+strconv.Itoa(d), red[d].stride
	}
	at := k.index(slices.Concat(keptVars, col, redVars), slices.Concat(keptSt, ones(len(col)), redSt))
	var accum jen.Code = jen.Qual(runtimePath, "VecAccumRows64").Call(
		jen.Id("a"), k.x(0).Index(at.Op(":")), k.n(inner.size), k.n(inner.stride))
	for d := len(redVars) - 1; d >= 0; d-- {
		accum = loop(redVars[d], jen.Lit(0), k.n(red[d].size), accum)
	}
	result := jen.Id("s")
	if op == ir.OpReduceMean {
		result = result.Op("/").Float64().Call(k.n(count))
	}
	outAt := k.index(slices.Concat(keptVars, col, []string{"j"}), slices.Concat(outSt[:last], ones(len(col)+1)))
	body := []jen.Code{jen.Id("a").Op(":=").Id("acc").Index(jen.Op(":").Add(width))}
	if chunked || last > 0 {
		// The accumulator holds the previous chunk's or kept element's
		// sums; summed once, it is still the zero it was declared as.
		body = append(body, jen.Clear(jen.Id("a")))
	}
	body = append(body, accum,
		jen.For(jen.List(jen.Id("j"), jen.Id("s")).Op(":=").Range().Id("a")).Block(
			k.o().Index(outAt).Op("=").Add(roundTo(ir.F32, result))))
	if chunked {
		var from, to jen.Code = jen.Id("lo"), jen.Id("hi")
		if last > 0 {
			from, to = jen.Lit(0), k.n(run)
		}
		w := jen.Id("w").Op(":=").Min(jen.Lit(int(accLen)), jen.Add(to).Op("-").Id("c"))
		body = []jen.Code{jen.For(jen.Id("c").Op(":=").Add(from), jen.Id("c").Op("<").Add(to), jen.Id("c").Op("+=").Lit(int(accLen))).Block(
			append([]jen.Code{w}, body...)...)}
	}
	for d := last - 1; d >= 0; d-- {
		var lo, hi jen.Code = jen.Id("lo"), jen.Id("hi")
		if d > 0 {
			lo, hi = jen.Lit(0), k.n(kept[d].size)
		}
		body = []jen.Code{loop(keptVars[d], lo, hi, body...)}
	}
	k.body = append(k.body, jen.Var().Id("acc").Index(jen.Lit(int(accLen))).Float64())
	k.body = append(k.body, body...)
	return true
}

// ones is n unit strides.
func ones(n int) []mono {
	m := make([]mono, n)
	for i := range m {
		m[i] = one
	}
	return m
}
