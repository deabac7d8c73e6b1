package interp

import (
	"math"
	"testing"

	"github.com/dlc-project/dlc/ir"
)

// Values of the index ops, most from the examples of the ONNX operator
// documentation.
func TestIndexOps(t *testing.T) {
	x := tf(sh(2, 3), 1, 2, 3, 4, 5, 6)
	i64 := func(shape []int, data ...float64) *Tensor { return tt(ir.I64, shape, data...) }
	nan := math.NaN()
	cases := []struct {
		name  string
		op    string
		attrs ir.Attrs
		args  []*Tensor
		want  *Tensor
	}{
		{"reduce_min", ir.OpReduceMin, ir.Attrs{"axes": []int64{1}}, []*Tensor{tf(sh(2, 2), 3, -1, 2, 5)}, tf(sh(2), -1, 2)},
		{"reduce_min NaN", ir.OpReduceMin, ir.Attrs{"axes": []int64{0}}, []*Tensor{tf(sh(3), 1, nan, 0)}, tf(nil, nan)},
		{"reduce_prod keepdims", ir.OpReduceProd, ir.Attrs{"axes": []int64{0}, "keepdims": true}, []*Tensor{x}, tf(sh(1, 3), 4, 10, 18)},
		{"reduce_prod empty", ir.OpReduceProd, ir.Attrs{"axes": []int64{1}}, []*Tensor{tf(sh(2, 0))}, tf(sh(2), 1, 1)},
		{"argmax", ir.OpArgMax, ir.Attrs{"axis": int64(1)}, []*Tensor{tf(sh(2, 3), 2, 1, 2, 3, 4, 4)}, i64(sh(2), 0, 1)},
		{"argmax last", ir.OpArgMax, ir.Attrs{"axis": int64(1), "select_last_index": true, "keepdims": true},
			[]*Tensor{tf(sh(2, 3), 2, 1, 2, 3, 4, 4)}, i64(sh(2, 1), 2, 2)},
		{"argmin axis 0", ir.OpArgMin, ir.Attrs{"axis": int64(0)}, []*Tensor{tf(sh(2, 2), 2, 1, 3, 10)}, i64(sh(2), 0, 0)},
		{"argmax NaN", ir.OpArgMax, ir.Attrs{"axis": int64(0)}, []*Tensor{tf(sh(3), 1, nan, 5)}, i64(nil, 1)},
		{"concat axis 1", ir.OpConcat, ir.Attrs{"axis": int64(1)}, []*Tensor{tf(sh(2, 1), 7, 8), x},
			tf(sh(2, 4), 7, 1, 2, 3, 8, 4, 5, 6)},
		{"concat axis -2", ir.OpConcat, ir.Attrs{"axis": int64(-2)}, []*Tensor{x, tf(sh(1, 3), 7, 8, 9)},
			tf(sh(3, 3), 1, 2, 3, 4, 5, 6, 7, 8, 9)},
		{"slice", ir.OpSlice, ir.Attrs{"starts": []int64{1, 0}, "ends": []int64{2, 3}, "steps": []int64{1, 2}}, []*Tensor{x}, tf(sh(1, 2), 4, 6)},
		{"slice negative step through 0", ir.OpSlice, ir.Attrs{"starts": []int64{1, 2}, "ends": []int64{-1, -1}, "steps": []int64{-1, -2}},
			[]*Tensor{x}, tf(sh(2, 2), 6, 4, 3, 1)},
		{"slice_grad", ir.OpSliceGrad, ir.Attrs{"starts": []int64{1, 0}, "ends": []int64{2, 3}, "steps": []int64{1, 2}, "shape": ir.ShapeOf(2, 3)},
			[]*Tensor{tf(sh(1, 2), 4, 6)}, tf(sh(2, 3), 0, 0, 0, 4, 0, 6)},
		{"pad constant", ir.OpPad, ir.Attrs{"pads": []int64{0, 2, 0, 0}, "value": 1.5},
			[]*Tensor{tf(sh(3, 2), 1, 1.2, 2.3, 3.4, 4.5, 5.7)},
			tf(sh(3, 4), 1.5, 1.5, 1, 1.2, 1.5, 1.5, 2.3, 3.4, 1.5, 1.5, 4.5, 5.7)},
		{"pad reflect", ir.OpPad, ir.Attrs{"pads": []int64{0, 2, 0, 0}, "mode": "reflect"},
			[]*Tensor{tf(sh(3, 3), 1, 1.2, 1.4, 2.3, 3.4, 3.6, 4.5, 5.7, 5.9)},
			tf(sh(3, 5), 1.4, 1.2, 1, 1.2, 1.4, 3.6, 3.4, 2.3, 3.4, 3.6, 5.9, 5.7, 4.5, 5.7, 5.9)},
		{"pad edge", ir.OpPad, ir.Attrs{"pads": []int64{0, 2, 0, 0}, "mode": "edge"},
			[]*Tensor{tf(sh(3, 2), 1, 1.2, 2.3, 3.4, 4.5, 5.7)},
			tf(sh(3, 4), 1, 1, 1, 1.2, 2.3, 2.3, 2.3, 3.4, 4.5, 4.5, 4.5, 5.7)},
		{"pad crop", ir.OpPad, ir.Attrs{"pads": []int64{-1, 1, 0, -2}}, []*Tensor{x}, tf(sh(1, 2), 0, 4)},
		{"pad_grad reflect", ir.OpPadGrad, ir.Attrs{"pads": []int64{2, 1}, "mode": "reflect"},
			[]*Tensor{tf(sh(6), 1, 2, 3, 4, 5, 6)}, tf(sh(3), 3, 2+4+6, 1+5)},
		{"gather axis 0", ir.OpGather, ir.Attrs{"axis": int64(0)},
			[]*Tensor{tf(sh(3, 2), 1, 1.2, 2.3, 3.4, 4.5, 5.7), i64(sh(2, 2), 0, 1, 1, -1)},
			tf(sh(2, 2, 2), 1, 1.2, 2.3, 3.4, 2.3, 3.4, 4.5, 5.7)},
		{"gather axis 1", ir.OpGather, ir.Attrs{"axis": int64(1)},
			[]*Tensor{tf(sh(3, 3), 1, 1.2, 1.9, 2.3, 3.4, 3.9, 4.5, 5.7, 5.9), tt(ir.I32, sh(1, 2), 0, 2)},
			tf(sh(3, 1, 2), 1, 1.9, 2.3, 3.9, 4.5, 5.9)},
		{"scatter_add", ir.OpScatterAdd, ir.Attrs{"axis": int64(0)},
			[]*Tensor{tf(sh(3), 1, 2, 3), i64(sh(3), 0, 2, 0), tf(sh(3), 10, 20, 30)}, tf(sh(3), 41, 2, 23)},
		{"gather_elements", ir.OpGatherElements, ir.Attrs{"axis": int64(1)},
			[]*Tensor{tf(sh(2, 2), 1, 2, 3, 4), i64(sh(2, 2), 0, 0, 1, 0)}, tf(sh(2, 2), 1, 1, 4, 3)},
		{"gather_elements axis 0", ir.OpGatherElements, ir.Attrs{"axis": int64(0)},
			[]*Tensor{tf(sh(3, 3), 1, 2, 3, 4, 5, 6, 7, 8, 9), i64(sh(2, 3), 1, 2, 0, 2, 0, -3)}, tf(sh(2, 3), 4, 8, 3, 7, 2, 3)},
		{"scatter_elements", ir.OpScatterElements, ir.Attrs{"axis": int64(1)},
			[]*Tensor{tf(sh(1, 5), 1, 2, 3, 4, 5), i64(sh(1, 2), 1, 3), tf(sh(1, 2), 1.1, 2.1)}, tf(sh(1, 5), 1, 1.1, 3, 2.1, 5)},
		{"scatter_elements add", ir.OpScatterElements, ir.Attrs{"axis": int64(1), "reduction": "add"},
			[]*Tensor{tf(sh(1, 5), 1, 2, 3, 4, 5), i64(sh(1, 2), 1, 1), tf(sh(1, 2), 1.1, 2.1)}, tf(sh(1, 5), 1, 5.2, 3, 4, 5)},
		{"scatter_elements max", ir.OpScatterElements, ir.Attrs{"axis": int64(1), "reduction": "max"},
			[]*Tensor{tf(sh(1, 5), 1, 2, 3, 4, 5), i64(sh(1, 2), 1, 1), tf(sh(1, 2), 1.1, 2.1)}, tf(sh(1, 5), 1, 2.1, 3, 4, 5)},
		{"gather_nd", ir.OpGatherND, nil,
			[]*Tensor{tf(sh(2, 2, 2), 0, 1, 2, 3, 4, 5, 6, 7), i64(sh(2, 1, 2), 0, 1, 1, 0)}, tf(sh(2, 1, 2), 2, 3, 4, 5)},
		{"gather_nd batch_dims", ir.OpGatherND, ir.Attrs{"batch_dims": int64(1)},
			[]*Tensor{tf(sh(2, 2, 2), 0, 1, 2, 3, 4, 5, 6, 7), i64(sh(2, 1), 1, 0)}, tf(sh(2, 2), 2, 3, 4, 5)},
		{"scatter_nd", ir.OpScatterND, nil,
			[]*Tensor{tf(sh(8), 1, 2, 3, 4, 5, 6, 7, 8), i64(sh(4, 1), 4, 3, 1, 7), tf(sh(4), 9, 10, 11, 12)},
			tf(sh(8), 1, 11, 3, 10, 9, 6, 7, 12)},
		{"scatter_nd mul", ir.OpScatterND, ir.Attrs{"reduction": "mul"},
			[]*Tensor{tf(sh(2, 2), 1, 2, 3, 4), i64(sh(2, 1), 1, 1), tf(sh(2, 2), 2, 3, 4, 5)}, tf(sh(2, 2), 1, 2, 24, 60)},
		{"cumsum", ir.OpCumSum, ir.Attrs{"axis": int64(0)}, []*Tensor{tf(sh(5), 1, 2, 3, 4, 5)}, tf(sh(5), 1, 3, 6, 10, 15)},
		{"cumsum exclusive reverse", ir.OpCumSum, ir.Attrs{"axis": int64(0), "exclusive": true, "reverse": true},
			[]*Tensor{tf(sh(5), 1, 2, 3, 4, 5)}, tf(sh(5), 14, 12, 9, 5, 0)},
		{"cumsum axis 1", ir.OpCumSum, ir.Attrs{"axis": int64(-1)}, []*Tensor{x}, tf(sh(2, 3), 1, 3, 6, 4, 9, 15)},
		{"trilu upper", ir.OpTrilu, ir.Attrs{"upper": true}, []*Tensor{tf(sh(3, 3), 1, 2, 3, 4, 5, 6, 7, 8, 9)},
			tf(sh(3, 3), 1, 2, 3, 0, 5, 6, 0, 0, 9)},
		{"trilu lower k=-1", ir.OpTrilu, ir.Attrs{"k": int64(-1)}, []*Tensor{tf(sh(3, 3), 1, 2, 3, 4, 5, 6, 7, 8, 9)},
			tf(sh(3, 3), 0, 0, 0, 4, 0, 0, 7, 8, 0)},
		{"trilu upper k=1 batched", ir.OpTrilu, ir.Attrs{"upper": true, "k": int64(1)}, []*Tensor{tf(sh(2, 2, 2), 1, 2, 3, 4, 5, 6, 7, 8)},
			tf(sh(2, 2, 2), 0, 2, 0, 0, 0, 6, 0, 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := evalOp(c.op, c.attrs, c.args...)
			if err != nil {
				t.Fatal(err)
			}
			if d := sameTensor(got, c.want, 0); d != "" {
				t.Fatal(d)
			}
		})
	}
}

func TestTopK(t *testing.T) {
	x := tf(sh(2, 4), 3, 1, 3, 2, 0, 5, 5, -1)
	cases := []struct {
		attrs      ir.Attrs
		vals, idxs []float64
	}{
		{ir.Attrs{"axis": int64(1), "k": int64(2), "largest": true, "sorted": true}, []float64{3, 3, 5, 5}, []float64{0, 2, 1, 2}},
		{ir.Attrs{"axis": int64(-1), "k": int64(3), "sorted": true}, []float64{1, 2, 3, -1, 0, 5}, []float64{1, 3, 0, 3, 0, 1}},
		// Not sorted: the k smallest in index order.
		{ir.Attrs{"axis": int64(-1), "k": int64(3)}, []float64{3, 1, 2, 0, 5, -1}, []float64{0, 1, 3, 0, 1, 3}},
		{ir.Attrs{"axis": int64(1), "k": int64(3), "largest": true}, []float64{3, 3, 2, 0, 5, 5}, []float64{0, 2, 3, 0, 1, 2}},
	}
	for _, c := range cases {
		m := &ir.Module{Name: "t"}
		b := ir.NewFunc(m, "f")
		p := b.Param("x", ir.TensorOf(ir.F32, ir.C(2), ir.C(4)))
		tk := b.Op(ir.OpTopK, c.attrs, p)
		b.Return(nil, b.Op(ir.OpExtract, ir.Attrs{"index": int64(0)}, tk), b.Op(ir.OpExtract, ir.Attrs{"index": int64(1)}, tk))
		if err := b.Err(); err != nil {
			t.Fatal(err)
		}
		res, _, err := Run(m, "f", []*Tensor{x}, nil)
		if err != nil {
			t.Fatal(err)
		}
		k := len(c.vals) / 2
		if d := sameTensor(res[0], tf(sh(2, k), c.vals...), 0); d != "" {
			t.Errorf("%v: values: %s", c.attrs, d)
		}
		if d := sameTensor(res[1], tt(ir.I64, sh(2, k), c.idxs...), 0); d != "" {
			t.Errorf("%v: indices: %s", c.attrs, d)
		}
	}
}

func TestIndexOpErrors(t *testing.T) {
	x := tf(sh(2, 3), 1, 2, 3, 4, 5, 6)
	i64 := func(shape []int, data ...float64) *Tensor { return tt(ir.I64, shape, data...) }
	cases := []struct {
		op    string
		attrs ir.Attrs
		args  []*Tensor
		want  string
	}{
		{ir.OpArgMax, ir.Attrs{"axis": int64(2)}, []*Tensor{x}, "axis 2 out of range for rank 2"},
		{ir.OpConcat, ir.Attrs{"axis": int64(0)}, []*Tensor{x, tf(sh(2, 2))}, "dim 1 differs"},
		{ir.OpSlice, ir.Attrs{"starts": []int64{0}, "ends": []int64{1}, "steps": []int64{1}}, []*Tensor{x}, "want one per dim"},
		{ir.OpSlice, ir.Attrs{"starts": []int64{0, 0}, "ends": []int64{1, 4}, "steps": []int64{1, 1}}, []*Tensor{x}, "dim 1 (3)"},
		{ir.OpSlice, ir.Attrs{"starts": []int64{0, 0}, "ends": []int64{1, 3}, "steps": []int64{1, 0}}, []*Tensor{x}, "step 0"},
		{ir.OpPad, ir.Attrs{"pads": []int64{0, 3, 0, 0}, "mode": "reflect"}, []*Tensor{x}, "reflect pads at most 2"},
		{ir.OpPad, ir.Attrs{"pads": []int64{0, 0}}, []*Tensor{x}, "pads has 2 entries"},
		{ir.OpPad, ir.Attrs{"pads": []int64{0, 0, 0, 0}, "mode": "wrap"}, []*Tensor{x}, `unknown mode "wrap"`},
		{ir.OpGather, ir.Attrs{"axis": int64(0)}, []*Tensor{x, tf(sh(1), 0)}, "indices must be i32 or i64"},
		{ir.OpGather, ir.Attrs{"axis": int64(0)}, []*Tensor{x, i64(sh(1), 2)}, "index 2 out of range for a dim of size 2"},
		{ir.OpGather, ir.Attrs{"axis": int64(1)}, []*Tensor{x, i64(sh(1), -4)}, "index -4 out of range"},
		{ir.OpGatherElements, ir.Attrs{"axis": int64(0)}, []*Tensor{x, i64(sh(2), 0, 0)}, "indices have rank 1"},
		{ir.OpGatherND, nil, []*Tensor{x, i64(sh(1, 3), 0, 0, 0)}, "want 1 <= length <= 2"},
		{ir.OpScatterND, ir.Attrs{"reduction": "sum"}, []*Tensor{x, i64(sh(1, 1), 0), tf(sh(1, 3))}, `unknown reduction "sum"`},
		{ir.OpScatterElements, ir.Attrs{"axis": int64(0)}, []*Tensor{x, i64(sh(1, 1), 0), tf(sh(1, 2))}, "updates are f32[1,2]"},
		{ir.OpTrilu, nil, []*Tensor{tf(sh(3))}, "rank >= 2"},
	}
	for _, c := range cases {
		_, err := evalOp(c.op, c.attrs, c.args...)
		if err == nil {
			t.Errorf("%s %v: no error, want %q", c.op, c.attrs, c.want)
			continue
		}
		wantErr(t, err, c.want)
	}
	m := &ir.Module{Name: "t"}
	b := ir.NewFunc(m, "f")
	b.Op(ir.OpTopK, ir.Attrs{"axis": int64(1), "k": int64(4)}, b.Param("x", ir.TensorOf(ir.F32, ir.C(2), ir.C(3))))
	wantErr(t, b.Err(), "want 0 <= k <= 3")
}
