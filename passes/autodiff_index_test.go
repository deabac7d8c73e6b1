package passes

import (
	"strings"
	"testing"

	"github.com/dlc-project/dlc/ir"
)

// withIndices builds op(p[0], indices, p[1:]...) with constant i64
// indices of shape ishape, for the gradient cases of the indexing ops.
func withIndices(op string, attrs ir.Attrs, ishape ir.Shape, idx ...float64) func(b *ir.Builder, p []*ir.Value) *ir.Value {
	return func(b *ir.Builder, p []*ir.Value) *ir.Value {
		ind := b.Const(ir.Type{DType: ir.I64, Shape: ishape}, idx...)
		return b.Op(op, attrs, append([]*ir.Value{p[0], ind}, p[1:]...)...)
	}
}

func init() {
	gradCases = append(gradCases,
		gradCase{name: "reduce_min", op: ir.OpReduceMin, params: []ir.Shape{sh(3, 4)}, build: withAttrs(ir.OpReduceMin, ir.Attrs{"axes": []int64{1}})},
		gradCase{name: "reduce_min_keep", op: ir.OpReduceMin, params: []ir.Shape{sh(2, 3, 2)}, build: withAttrs(ir.OpReduceMin, ir.Attrs{"axes": []int64{0, 2}, "keepdims": true})},
		gradCase{name: "reduce_prod", op: ir.OpReduceProd, params: []ir.Shape{sh(2, 3, 4)}, build: withAttrs(ir.OpReduceProd, ir.Attrs{"axes": []int64{1}})},
		gradCase{name: "concat", op: ir.OpConcat, params: []ir.Shape{sh(2, 1, 3), sh(2, 2, 3), sh(2, 1, 3)}, build: withAttrs(ir.OpConcat, ir.Attrs{"axis": int64(1)})},
		gradCase{name: "concat_one", op: ir.OpConcat, params: []ir.Shape{sh(2, 3)}, build: withAttrs(ir.OpConcat, ir.Attrs{"axis": int64(0)})},
		gradCase{name: "slice", op: ir.OpSlice, params: []ir.Shape{sh(4, 5)}, build: withAttrs(ir.OpSlice,
			ir.Attrs{"starts": []int64{1, 4}, "ends": []int64{4, -1}, "steps": []int64{2, -2}})},
		gradCase{name: "slice_grad", op: ir.OpSliceGrad, params: []ir.Shape{sh(2, 3)}, build: withAttrs(ir.OpSliceGrad,
			ir.Attrs{"starts": []int64{1, 4}, "ends": []int64{4, -1}, "steps": []int64{2, -2}, "shape": sh(4, 5)})},
		gradCase{name: "pad_constant", op: ir.OpPad, params: []ir.Shape{sh(3, 4)}, build: withAttrs(ir.OpPad,
			ir.Attrs{"pads": []int64{1, -1, 2, 1}, "value": 0.5})},
		gradCase{name: "pad_reflect", op: ir.OpPad, params: []ir.Shape{sh(3, 4)}, build: withAttrs(ir.OpPad,
			ir.Attrs{"pads": []int64{2, 1, 1, 3}, "mode": "reflect"})},
		gradCase{name: "pad_edge_crop", op: ir.OpPad, params: []ir.Shape{sh(3, 4)}, build: withAttrs(ir.OpPad,
			ir.Attrs{"pads": []int64{3, -1, 0, 2}, "mode": "edge"})},
		gradCase{name: "pad_grad", op: ir.OpPadGrad, params: []ir.Shape{sh(6, 8)}, build: withAttrs(ir.OpPadGrad,
			ir.Attrs{"pads": []int64{2, 1, 1, 3}, "mode": "reflect"})},
		gradCase{name: "gather", op: ir.OpGather, params: []ir.Shape{sh(4, 3)},
			build: withIndices(ir.OpGather, ir.Attrs{"axis": int64(0)}, sh(2, 3), 0, 3, -1, 1, 0, 0)},
		gradCase{name: "gather_axis1", op: ir.OpGather, params: []ir.Shape{sh(2, 4, 2)},
			build: withIndices(ir.OpGather, ir.Attrs{"axis": int64(1)}, sh(3), 2, 2, 0)},
		gradCase{name: "scatter_add", op: ir.OpScatterAdd, params: []ir.Shape{sh(4, 3), sh(2, 3)},
			build: withIndices(ir.OpScatterAdd, ir.Attrs{"axis": int64(0)}, sh(2), 3, 3)},
		gradCase{name: "gather_elements", op: ir.OpGatherElements, params: []ir.Shape{sh(3, 4)},
			build: withIndices(ir.OpGatherElements, ir.Attrs{"axis": int64(1)}, sh(3, 2), 0, 3, 1, 1, -1, 2)},
		gradCase{name: "scatter_elements", op: ir.OpScatterElements, params: []ir.Shape{sh(3, 4), sh(3, 2)},
			build: withIndices(ir.OpScatterElements, ir.Attrs{"axis": int64(1)}, sh(3, 2), 0, 3, 1, 2, -1, 2)},
		gradCase{name: "scatter_elements_add", op: ir.OpScatterElements, params: []ir.Shape{sh(3, 4), sh(2, 4)},
			build: withIndices(ir.OpScatterElements, ir.Attrs{"axis": int64(0), "reduction": "add"}, sh(2, 4), 0, 1, 2, 0, 0, 1, 2, 0)},
		gradCase{name: "gather_nd", op: ir.OpGatherND, params: []ir.Shape{sh(3, 2, 2)},
			build: withIndices(ir.OpGatherND, nil, sh(3, 2), 0, 1, 2, 0, 0, 1)},
		gradCase{name: "scatter_nd", op: ir.OpScatterND, params: []ir.Shape{sh(3, 2, 2), sh(2, 2)},
			build: withIndices(ir.OpScatterND, nil, sh(2, 2), 0, 1, 2, 0)},
		gradCase{name: "scatter_nd_add", op: ir.OpScatterND, params: []ir.Shape{sh(3, 2), sh(3, 2)},
			build: withIndices(ir.OpScatterND, ir.Attrs{"reduction": "add"}, sh(3, 1), 2, 0, 2)},
		gradCase{name: "scatter_elements_mul_dup", op: ir.OpScatterElements, params: []ir.Shape{sh(3, 4), sh(3, 2)},
			build: withIndices(ir.OpScatterElements, ir.Attrs{"axis": int64(1), "reduction": "mul"}, sh(3, 2), 0, 0, 1, 2, -1, 2)},
		gradCase{name: "scatter_elements_max", op: ir.OpScatterElements, params: []ir.Shape{sh(3, 4), sh(3, 2)},
			build: withIndices(ir.OpScatterElements, ir.Attrs{"axis": int64(1), "reduction": "max"}, sh(3, 2), 0, 3, 1, 2, -1, 2)},
		gradCase{name: "scatter_nd_min_dup", op: ir.OpScatterND, params: []ir.Shape{sh(3, 2), sh(3, 2)},
			build: withIndices(ir.OpScatterND, ir.Attrs{"reduction": "min"}, sh(3, 1), 2, 0, 2)},
		gradCase{name: "scatter_nd_mul_batch", op: ir.OpScatterND, params: []ir.Shape{sh(2, 3, 2), sh(2, 2, 2)},
			build: withIndices(ir.OpScatterND, ir.Attrs{"reduction": "mul", "batch_dims": int64(1)}, sh(2, 2, 1), 2, 0, 1, 1)},
		gradCase{name: "gather_nd_batch", op: ir.OpGatherND, params: []ir.Shape{sh(2, 3, 2)},
			build: withIndices(ir.OpGatherND, ir.Attrs{"batch_dims": int64(1)}, sh(2, 2, 1), 2, 0, 1, 1)},
		gradCase{name: "cumsum", op: ir.OpCumSum, params: []ir.Shape{sh(3, 4)}, build: withAttrs(ir.OpCumSum, ir.Attrs{"axis": int64(1)})},
		gradCase{name: "cumsum_excl_rev", op: ir.OpCumSum, params: []ir.Shape{sh(3, 4)},
			build: withAttrs(ir.OpCumSum, ir.Attrs{"axis": int64(0), "exclusive": true, "reverse": true})},
		// top_k's indices: integers, no gradient (the loss is flat in x).
		gradCase{name: "top_k_indices", op: ir.OpTopK, params: []ir.Shape{sh(2, 4)}, build: topKIndices},
		gradCase{name: "extract_top_k_indices", op: ir.OpExtract, params: []ir.Shape{sh(2, 4)}, build: topKIndices},
		gradCase{name: "trilu", op: ir.OpTrilu, params: []ir.Shape{sh(2, 3, 4)}, build: withAttrs(ir.OpTrilu, ir.Attrs{"upper": true, "k": int64(1)})},
	)
}

// topKIndices builds x plus the indices of top_k of x (as f64): the loss
// depends on top_k through its indices alone.
func topKIndices(b *ir.Builder, p []*ir.Value) *ir.Value {
	tk := b.Op(ir.OpTopK, ir.Attrs{"axis": int64(1), "k": int64(2), "largest": true, "sorted": true}, p[0])
	idx := b.Op(ir.OpCast, ir.Attrs{"to": ir.F64}, b.Op(ir.OpExtract, ir.Attrs{"index": int64(1)}, tk))
	return b.Add(b.Op(ir.OpSlice, ir.Attrs{"starts": []int64{0, 0}, "ends": []int64{2, 2}, "steps": []int64{1, 1}}, p[0]), idx)
}

// TestTopKValuesGradientIsAnError: a loss that depends on top_k's values
// gets an error that says what to do, never a silent zero gradient.
func TestTopKValuesGradientIsAnError(t *testing.T) {
	m := &ir.Module{Name: "t"}
	b := ir.NewFunc(m, "f")
	x := b.Param("x", ir.TensorOf(ir.F64, ir.C(2), ir.C(4)))
	tk := b.Op(ir.OpTopK, ir.Attrs{"axis": int64(1), "k": int64(2)}, x)
	loss := b.ReduceSum(b.Op(ir.OpExtract, ir.Attrs{"index": int64(0)}, tk), []int64{0, 1}, false)
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	_, err := Gradients(m, b.Fn, loss, []*ir.Value{x})
	if err == nil || !strings.Contains(err.Error(), "read them as gather_elements") {
		t.Errorf("error %v, want one that points to gather_elements", err)
	}
}
