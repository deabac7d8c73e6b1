package ir

import (
	"math"
	"strings"
	"testing"
)

// indexSample holds every op of ops_index.go and ops_resize.go, in the
// printer's canonical form.
const indexSample = `module "index"

func @f(%x: f32[N,4,3], %i: i64[2,2], %d: f32[4,3,2]) -> (f32[N,4,3]) {
  %0 = reduce_min %x {axes=[1], keepdims=true} : f32[N,1,3]
  %1 = reduce_prod %x {axes=[-1]} : f32[N,4]
  %2 = argmax %x {axis=1, keepdims=true, select_last_index=true} : i64[N,1,3]
  %3 = argmin %x {axis=-1} : i64[N,4]
  %4 = concat %x, %x {axis=2} : f32[N,4,6]
  %5 = slice %4 {ends=[9223372036854775807, -1, 6], starts=[0, 3, 1], steps=[1, -2, 2]} : f32[N,2,3]
  %6 = slice_grad %5 {ends=[9223372036854775807, -1, 6], shape=<N,4,6>, starts=[0, 3, 1], steps=[1, -2, 2]} : f32[N,4,6]
  %7 = pad %x {mode="reflect", pads=[0, 2, -1, 0, 1, 1]} : f32[N,7,3]
  %8 = pad %x {pads=[0, 1, 0, 0, 0, 1], value=0.5} : f32[N,5,4]
  %9 = pad_grad %7 {mode="reflect", pads=[0, 2, -1, 0, 1, 1]} : f32[N,4,3]
  %10 = gather %x, %i {axis=1} : f32[N,2,2,3]
  %11 = scatter_add %x, %i, %10 {axis=1} : f32[N,4,3]
  %12 = constant {value=[0]} : i64[N,4,3]
  %13 = gather_elements %x, %12 {axis=2} : f32[N,4,3]
  %14 = scatter_elements %x, %12, %13 {axis=2, reduction="max"} : f32[N,4,3]
  %15 = gather_nd %d, %i {batch_dims=0} : f32[2,2]
  %16 = constant {value=[1]} : i64[N,2,1]
  %17 = gather_nd %x, %16 {batch_dims=1} : f32[N,2,3]
  %18 = scatter_nd %x, %16, %17 {batch_dims=1, reduction="add"} : f32[N,4,3]
  %19 = cumsum %x {axis=1, exclusive=true, reverse=true} : f32[N,4,3]
  %20 = top_k %x {axis=1, k=2, largest=true, sorted=true} : (f32[N,2,3], i64[N,2,3])
  %21 = extract %20 {index=1} : i64[N,2,3]
  %22 = trilu %x {k=-1, upper=true} : f32[N,4,3]
  %23 = resize %x {coordinate_transformation_mode="align_corners", cubic_coeff_a=-0.5, exclude_outside=true, extrapolation_value=0.0, mode="cubic", nearest_mode="floor", scales=[1.0, 1.5, 2.0], shape=<N,6,6>} : f32[N,6,6]
  %24 = resize_grad %23 {mode="linear", scales=[1.0, 1.5, 2.0], shape=<N,4,3>} : f32[N,4,3]
  return %24
}
`

func TestIndexOpsRoundTrip(t *testing.T) {
	m, err := ParseModule(indexSample)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(m); err != nil {
		t.Fatal(err)
	}
	if got := m.String(); got != indexSample {
		t.Fatalf("round trip differs:\n%s", got)
	}
}

// TestIndexOpsInferenceErrors: bad operands and attributes are errors that
// say what is wrong, never a panic.
func TestIndexOpsInferenceErrors(t *testing.T) {
	x := &Value{Op: OpParam, Name: "x", Type: TensorOf(F32, S("N"), C(4), C(3))}
	i64 := &Value{Op: OpParam, Name: "i", Type: TensorOf(I64, C(2), C(2))}
	f := &Value{Op: OpParam, Name: "f", Type: TensorOf(F32, C(2))}
	b := &Value{Op: OpParam, Name: "b", Type: TensorOf(Bool, C(2))}
	cases := []struct {
		op    string
		args  []*Value
		attrs Attrs
		want  string
	}{
		{OpReduceMin, []*Value{x}, Attrs{"axes": []int64{3}}, "axis 3 out of range for rank 3"},
		{OpArgMax, []*Value{b}, Attrs{"axis": int64(0)}, "numeric, is bool"},
		{OpArgMin, []*Value{x}, Attrs{}, "needs attribute axis"},
		{OpConcat, nil, Attrs{"axis": int64(0)}, "at least one operand"},
		{OpConcat, []*Value{x, x}, Attrs{"axis": int64(0)}, "dim N or N is symbolic"},
		{OpConcat, []*Value{x, f}, Attrs{"axis": int64(0)}, "operand 1 has rank 1"},
		{OpSlice, []*Value{x}, Attrs{"starts": []int64{0, 0, 0}, "ends": []int64{3, 4, 3}, "steps": []int64{1, 1, 1}}, "can only be kept whole"},
		{OpSlice, []*Value{x}, Attrs{"starts": []int64{0, 0, 0}, "ends": []int64{SliceWhole, 4, 3}, "steps": []int64{1, 1, -9223372036854775808}}, "step -9223372036854775808"},
		{OpSlice, []*Value{x}, Attrs{"starts": []int64{0, 3, 0}, "ends": []int64{SliceWhole, 0, 3}, "steps": []int64{1, 9223372036854775807, 1}}, "want 0 <= start <= end <= 4"},
		{OpSlice, []*Value{x}, Attrs{"starts": []int64{0, 0, 0}, "ends": []int64{SliceWhole, 4, 3}, "steps": []int64{1, 1}}, "want one per dim"},
		{OpSliceGrad, []*Value{f}, Attrs{"starts": []int64{0}, "ends": []int64{3}, "steps": []int64{1}, "shape": ShapeOf(4)}, "the slice of [4] gives [3]"},
		{OpPad, []*Value{x}, Attrs{"pads": []int64{1, 0, 0, 1, 0, 0}}, "symbolic (N) and cannot be padded"},
		{OpPad, []*Value{x}, Attrs{"pads": []int64{0, 0, 1 << 62, 0, 0, 0}}, "beyond ±2^40"},
		{OpPad, []*Value{x}, Attrs{"pads": []int64{0, -3, 0, 0, -2, 0}}, "crop more than the dim"},
		{OpPad, []*Value{x}, Attrs{"pads": []int64{0, 0, 0, 0, 0, 3}, "mode": "reflect"}, "reflect pads at most 2"},
		{OpPad, []*Value{b}, Attrs{"pads": []int64{1, 0}, "value": 2.0}, "not a bool"},
		{OpPadGrad, []*Value{f}, Attrs{"pads": []int64{2, 1}}, "smaller than its pads"},
		{OpPadGrad, []*Value{f}, Attrs{"pads": []int64{1, 0}, "mode": "reflect"}, "reflect pads at most 0"},
		{OpGather, []*Value{x, f}, Attrs{"axis": int64(0)}, "indices must be i32 or i64, are f32"},
		{OpGather, []*Value{x, i64}, Attrs{"axis": int64(-4)}, "axis -4 out of range"},
		{OpScatterAdd, []*Value{x, i64, x}, Attrs{"axis": int64(1)}, "updates have shape [N,4,3], gather gives [N,2,2,3]"},
		{OpGatherElements, []*Value{x, i64}, Attrs{"axis": int64(0)}, "indices have rank 2, data has rank 3"},
		{OpScatterElements, []*Value{f, &Value{Op: OpParam, Type: TensorOf(I64, C(3))}, f}, Attrs{"axis": int64(0)}, "updates are f32[2]"},
		{OpScatterElements, []*Value{f, &Value{Op: OpParam, Type: TensorOf(I64, C(2))}, f}, Attrs{"axis": int64(0), "reduction": "sum"}, `unknown reduction "sum"`},
		{OpGatherND, []*Value{x, i64}, Attrs{"batch_dims": int64(2)}, "batch_dims 2"},
		{OpGatherND, []*Value{f, &Value{Op: OpParam, Type: TensorOf(I64, C(1), C(2))}}, nil, "want 1 <= length <= 1"},
		{OpGatherND, []*Value{x, &Value{Op: OpParam, Type: TensorOf(I64, C(1), C(1))}}, nil, "is symbolic"},
		{OpScatterND, []*Value{f, &Value{Op: OpParam, Type: TensorOf(I64, C(3), C(1))}, f}, nil, "updates are f32[2]; want f32[3]"},
		{OpCumSum, []*Value{b}, Attrs{"axis": int64(0)}, "numeric, is bool"},
		{OpTopK, []*Value{x}, Attrs{"axis": int64(0), "k": int64(1)}, "symbolic"},
		{OpTopK, []*Value{x}, Attrs{"axis": int64(1), "k": int64(5)}, "want 0 <= k <= 4"},
		{OpTrilu, []*Value{f}, nil, "rank >= 2"},
		{OpResize, []*Value{x}, Attrs{"mode": "linear", "scales": []float64{1, 2, 2}, "shape": Shape{S("N"), C(8), C(6)}, "nearest_mode": "up"}, `unknown nearest_mode "up"`},
		{OpResize, []*Value{x}, Attrs{"mode": "linear", "scales": []float64{2, 2, 2}, "shape": Shape{S("N"), C(8), C(6)}}, "must be kept with scale 1"},
		{OpResize, []*Value{x}, Attrs{"mode": "linear", "scales": []float64{1, -2, 2}, "shape": Shape{S("N"), C(8), C(6)}}, "scale 1 is -2"},
		{OpResize, []*Value{i64}, Attrs{"mode": "linear", "scales": []float64{1, 1}, "shape": ShapeOf(2, 2)}, "float type, is i64"},
		{OpResizeGrad, []*Value{x}, Attrs{"mode": "linear", "scales": []float64{1, 2}, "shape": ShapeOf(2, 2)}, "scales has 2 entries"},
	}
	for _, c := range cases {
		_, err := InferType(c.op, c.args, c.attrs, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: error %v, want one containing %q", c.op, c.attrs, err, c.want)
		}
	}
}

func TestSliceFromONNX(t *testing.T) {
	const big = math.MaxInt64
	for _, c := range []struct {
		d                  Dim
		start, end, step   int64
		wantS, wantE, want int64 // want: the result dim
	}{
		{C(5), 1, 3, 1, 1, 3, 2},
		{C(5), -2, big, 1, 3, 5, 2},
		{C(5), -100, 100, 2, 0, 5, 3},
		{C(5), 4, 1, 1, 4, 4, 0},
		{C(5), -1, math.MinInt64, -1, 4, -1, 5},
		{C(5), 100, -100, -2, 4, -1, 3},
		{C(5), 1, 3, -1, 1, 1, 0},
		{C(0), 0, -1, -1, -1, -1, 0},
		{S("N"), 0, big, 1, 0, SliceWhole, -1},
		{S("N"), math.MinInt64, math.MaxInt32, 1, 0, SliceWhole, -1},
	} {
		s, e, err := SliceFromONNX(c.d, c.start, c.end, c.step)
		if err != nil {
			t.Errorf("%v %d:%d:%d: %v", c.d, c.start, c.end, c.step, err)
			continue
		}
		if s != c.wantS || e != c.wantE {
			t.Errorf("%v %d:%d:%d = %d:%d, want %d:%d", c.d, c.start, c.end, c.step, s, e, c.wantS, c.wantE)
		}
		d, err := SliceDim(c.d, s, e, c.step)
		if err != nil || (c.d.IsConst() && d.Size != c.want) {
			t.Errorf("%v %d:%d:%d: dim %v, %v; want %d", c.d, s, e, c.step, d, err, c.want)
		}
	}
	if _, _, err := SliceFromONNX(S("N"), 1, math.MaxInt64, 1); err == nil || !strings.Contains(err.Error(), "kept whole") {
		t.Errorf("a part of N: error %v", err)
	}
	if _, _, err := SliceFromONNX(C(3), 0, 1, 0); err == nil || !strings.Contains(err.Error(), "step 0") {
		t.Errorf("step 0: error %v", err)
	}
}
