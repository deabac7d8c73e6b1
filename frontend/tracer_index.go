package frontend

import (
	"fmt"

	"github.com/dlc-project/dlc/ir"
)

// Tracer methods for the ops of ir/ops_index.go and ir/ops_resize.go: the
// reductions, data movement and indexing that ONNX models use. Their
// gradient helpers (scatter_add, slice_grad, pad_grad, resize_grad) are
// made by autodiff and are one Tracer.Op call away.

// Min takes the minimum over axes.
func (x Tensor) Min(keepdims bool, axes ...int) Tensor {
	return x.reduce(ir.OpReduceMin, keepdims, axes)
}

// Prod multiplies over axes.
func (x Tensor) Prod(keepdims bool, axes ...int) Tensor {
	return x.reduce(ir.OpReduceProd, keepdims, axes)
}

func (x Tensor) arg(op string, axis int, keepdims, last bool) Tensor {
	return x.t.Op(op, ir.Attrs{"axis": int64(axis), "keepdims": keepdims, "select_last_index": last}, x)
}

// ArgMax returns the index (i64) of the max along axis: the first one on a
// tie, or the last with last.
func (x Tensor) ArgMax(axis int, keepdims, last bool) Tensor {
	return x.arg(ir.OpArgMax, axis, keepdims, last)
}

// ArgMin returns the index (i64) of the min along axis.
func (x Tensor) ArgMin(axis int, keepdims, last bool) Tensor {
	return x.arg(ir.OpArgMin, axis, keepdims, last)
}

// Concat joins x and ys along axis.
func (x Tensor) Concat(axis int, ys ...Tensor) Tensor {
	return x.t.Op(ir.OpConcat, ir.Attrs{"axis": int64(axis)}, append([]Tensor{x}, ys...)...)
}

// Slice takes x[starts:ends:steps], one entry per dim, with ONNX Slice's
// conventions: negative starts and ends count from the end, and all are
// clamped to the dim (ir.SliceFromONNX). A nil steps means all 1.
func (x Tensor) Slice(starts, ends, steps []int64) Tensor {
	s := x.Shape()
	if steps == nil {
		steps = make([]int64, len(s))
		for i := range steps {
			steps[i] = 1
		}
	}
	if len(starts) != len(s) || len(ends) != len(s) || len(steps) != len(s) {
		x.t.b.Fail(fmt.Errorf("slice %s: %d starts, %d ends and %d steps, want one per dim", s, len(starts), len(ends), len(steps)))
		return x.t.Op(ir.OpSlice, nil, x)
	}
	ns, ne := make([]int64, len(s)), make([]int64, len(s))
	for i, d := range s {
		var err error
		if ns[i], ne[i], err = ir.SliceFromONNX(d, starts[i], ends[i], steps[i]); err != nil {
			x.t.b.Fail(fmt.Errorf("slice %s: dim %d: %v", s, i, err))
			return x.t.Op(ir.OpSlice, nil, x)
		}
	}
	return x.t.Op(ir.OpSlice, ir.Attrs{"starts": ns, "ends": ne, "steps": append([]int64(nil), steps...)}, x)
}

// Pad pads x by pads (all begins, then all ends; negative crops) with
// mode "constant" (value), "reflect" or "edge".
func (x Tensor) Pad(pads []int64, mode string, value float64) Tensor {
	return x.t.Op(ir.OpPad, ir.Attrs{"pads": append([]int64(nil), pads...), "mode": mode, "value": value}, x)
}

// Gather indexes x along axis by indices (i32 or i64; negative from the
// end), as ONNX Gather and an embedding lookup.
func (x Tensor) Gather(axis int, indices Tensor) Tensor {
	return x.t.Op(ir.OpGather, ir.Attrs{"axis": int64(axis)}, x, indices)
}

// GatherElements picks, at each position of indices, the element of x
// whose index along axis is the index there (ONNX GatherElements).
func (x Tensor) GatherElements(axis int, indices Tensor) Tensor {
	return x.t.Op(ir.OpGatherElements, ir.Attrs{"axis": int64(axis)}, x, indices)
}

// GatherND indexes x by the index tuples in the last dim of indices, after
// batchDims leading dims they share (ONNX GatherND).
func (x Tensor) GatherND(batchDims int, indices Tensor) Tensor {
	return x.t.Op(ir.OpGatherND, ir.Attrs{"batch_dims": int64(batchDims)}, x, indices)
}

// ScatterElements writes updates into x where GatherElements would read
// them, combined by reduction: "none" (indices must be distinct), "add",
// "mul", "max" or "min".
func (x Tensor) ScatterElements(axis int, indices, updates Tensor, reduction string) Tensor {
	return x.t.Op(ir.OpScatterElements, ir.Attrs{"axis": int64(axis), "reduction": reduction}, x, indices, updates)
}

// ScatterND writes updates into x where GatherND (without batch dims)
// would read them, combined by reduction.
func (x Tensor) ScatterND(indices, updates Tensor, reduction string) Tensor {
	return x.t.Op(ir.OpScatterND, ir.Attrs{"reduction": reduction}, x, indices, updates)
}

// CumSum is the running sum along axis: exclusive leaves each element out
// of its own sum, reverse runs from the end.
func (x Tensor) CumSum(axis int, exclusive, reverse bool) Tensor {
	return x.t.Op(ir.OpCumSum, ir.Attrs{"axis": int64(axis), "exclusive": exclusive, "reverse": reverse}, x)
}

// TopK returns the k largest (or smallest) elements along axis and their
// indices (i64): sorted, ties by lower index, or in index order.
func (x Tensor) TopK(axis, k int, largest, sorted bool) (values, indices Tensor) {
	tk := x.t.Op(ir.OpTopK, ir.Attrs{"axis": int64(axis), "k": int64(k), "largest": largest, "sorted": sorted}, x)
	return x.t.Op(ir.OpExtract, ir.Attrs{"index": int64(0)}, tk), x.t.Op(ir.OpExtract, ir.Attrs{"index": int64(1)}, tk)
}

// Trilu keeps the upper (or lower) triangle of the last two dims, from the
// k-th diagonal on, zeroing the rest.
func (x Tensor) Trilu(upper bool, k int) Tensor {
	return x.t.Op(ir.OpTrilu, ir.Attrs{"upper": upper, "k": int64(k)}, x)
}

// Resize resamples x to shape with mode "nearest", "linear" or "cubic" and
// one scale per dim (ONNX Resize with sizes and scales resolved); attrs
// holds the other Resize attributes (coordinate_transformation_mode,
// nearest_mode, cubic_coeff_a, exclude_outside), or is nil for ONNX's
// defaults.
func (x Tensor) Resize(mode string, scales []float64, shape ir.Shape, attrs ir.Attrs) Tensor {
	a := attrs.Clone()
	if a == nil {
		a = ir.Attrs{}
	}
	a["mode"], a["scales"], a["shape"] = mode, append([]float64(nil), scales...), shape.Clone()
	return x.t.Op(ir.OpResize, a, x)
}
