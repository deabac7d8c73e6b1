package golang

import (
	"strconv"

	"github.com/dave/jennifer/jen"
	"github.com/dlc-project/dlc/ir"
)

// Vector-wide loop stages of rows kernels.
//
// Where vector loops are on and the rows are at least vecMinInner f32
// columns, a loop stage (row vectors and the reductions of them, as layer
// norm's mean, centring, variance and scaling) whose every member has a
// runtime.Vec* function runs as one call per member over the whole row,
// each member's row kept in a row buffer: the output row for a result,
// else a stack array. Reductions are runtime.VecSum64 (sum, mean) and
// VecMax of their operand's row. The scalar loop computes the same bits:
// every Vec* function gives its scalar expression's bits, and an f32 sum
// accumulates in VecSum64's blocked order (eight float64 lanes, see
// reduceLanes), as the unfused reduction kernel does. Rows regions are
// never in place (memplan: only elementwise nodes donate), so a member
// computed over the whole row before the next one reads no output early.

// vecRowStages picks the loop stages that run vector-wide; none when
// their row buffers would not fit the stack budget with the buffers the
// kernel keeps anyway (kept: how many of those).
func (e *rowsEmitter) vecRowStages(stages []*rowStage, kept func(vec map[*rowStage]bool) int64) map[*rowStage]bool {
	if e.k.g.noVector || e.cols.p != 0 || e.cols.c < vecMinInner {
		return nil
	}
	vec := map[*rowStage]bool{}
	for _, s := range stages {
		if s.loop && e.vecStageOK(s) {
			vec[s] = true
		}
	}
	if len(vec) == 0 || kept(vec)*e.cols.c > rowStackMax {
		return nil
	}
	return vec
}

// vecKind is the operand kind (vkScalar, vkVector) of a, read by a row
// vector of the rows region.
func (e *rowsEmitter) vecKind(a *ir.Value) int {
	if _, ok := e.consts[a]; ok {
		return vkScalar
	}
	if _, ok := e.fn.param[a]; ok {
		if st := broadcastStrides(a.Type.Shape, e.d); st[len(st)-1].isZero() {
			return vkScalar
		}
		return vkVector
	}
	if e.fn.ctx[a] == ctxRow {
		return vkScalar
	}
	return vkVector
}

// vecStageOK reports whether every member of loop stage s has a vector
// form: f32 values throughout, a Vec* function for each row vector.
func (e *rowsEmitter) vecStageOK(s *rowStage) bool {
	for _, m := range s.body {
		if m.Type.DType != ir.F32 {
			return false
		}
		for _, a := range m.Args {
			if a.Type.DType != ir.F32 {
				return false
			}
		}
		if isReduce(m) {
			continue
		}
		kinds := make([]int, len(m.Args))
		for i, a := range m.Args {
			if _, ok := e.consts[a]; !ok && a.Op == ir.OpConstant {
				return false // a constant read by index: not named (cannot happen: constNames covers members' constants)
			}
			kinds[i] = e.vecKind(a)
		}
		if vecFunc(m, kinds) == "" {
			return false
		}
	}
	return true
}

// vecOperand renders operand a of a vectorised stage's member: a row
// slice, or a scalar (loaded once per row for an operand constant along
// the row, into pre).
func (e *rowsEmitter) vecOperand(a *ir.Value, pre *[]jen.Code) *jen.Statement {
	if name, ok := e.consts[a]; ok {
		return jen.Id(name)
	}
	if j, ok := e.fn.param[a]; ok {
		if e.vecKind(a) == vkVector {
			return e.rowSlice(a)
		}
		name := "a" + strconv.Itoa(j)
		if !e.rowLoaded[j] {
			e.rowLoaded[j] = true
			*pre = append(*pre, jen.Id(name).Op(":=").Add(e.param(a, e.d, true)))
		}
		return jen.Id(name)
	}
	if e.fn.ctx[a] == ctxRow {
		return jen.Id(e.name("v", a))
	}
	return e.rowSlice(a)
}

// loopStageVec emits loop stage s as one runtime call per member over the
// row (vecRowStages chose it).
func (e *rowsEmitter) loopStageVec(s *rowStage) []jen.Code {
	var out []jen.Code
	for _, m := range s.pre {
		out = append(out, e.scalar(m)...)
	}
	for _, m := range s.body {
		if isReduce(m) {
			x := e.vecOperand(m.Args[0], &out)
			var v jen.Code
			switch m.Op {
			case ir.OpReduceMax:
				v = jen.Qual(runtimePath, "VecMax").Call(x)
			case ir.OpReduceSum:
				v = roundTo(m.Type.DType, jen.Qual(runtimePath, "VecSum64").Call(x))
			default: // mean
				v = roundTo(m.Type.DType, jen.Qual(runtimePath, "VecSum64").Call(x).Op("/").Float64().Call(e.k.n(e.cols)))
			}
			out = append(out, jen.Id(e.name("v", m)).Op(":=").Add(v))
			out = append(out, e.store(m)...)
			continue
		}
		kinds := make([]int, len(m.Args))
		xs := make([]*jen.Statement, len(m.Args))
		for i, a := range m.Args {
			kinds[i] = e.vecKind(a)
			xs[i] = e.vecOperand(a, &out)
		}
		fn, order := vecCallOrder(m, kinds)
		args := []jen.Code{e.rowSlice(m)}
		for _, i := range order {
			args = append(args, xs[i])
		}
		out = append(out, jen.Qual(runtimePath, "Vec"+fn).Call(args...))
	}
	return out
}

// reduceLanes emits the blocked float64 sum of an f32 reduction in a
// scalar loop over j (from 0): acc, eight lanes, declared before the
// loop (decl), element j added to lane j%8 (add), and the lanes summed in
// runtime.VecSum64's order after it (total).
func reduceLanes(acc, j string, x jen.Code) (decl, add, total *jen.Statement) {
	return jen.Var().Id(acc).Index(jen.Lit(8)).Float64(),
		jen.Id(acc).Index(jen.Id(j).Op("&").Lit(7)).Op("+=").Float64().Call(x),
		jen.Qual(runtimePath, "SumLanes64").Call(jen.Op("&").Id(acc))
}
