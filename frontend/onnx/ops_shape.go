package onnx

import (
	"fmt"
	"math"
	"sort"

	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
)

// Shape, layout and data-movement ops, and the ops that make constants.

func init() {
	reg("Reshape", 1, nil, one(func(n *node) (*ir.Value, error) {
		var shape []int64
		var err error
		if n.c.opset < 5 {
			var ok bool
			if shape, ok, err = n.ints("shape"); !ok && err == nil {
				err = fmt.Errorf("attribute shape is missing")
			}
		} else {
			shape, err = n.intsIn(1, "shape")
		}
		if err != nil {
			return nil, err
		}
		allowZero, err := n.int("allowzero", 0)
		if err != nil {
			return nil, err
		}
		s, err := reshapeTarget(n.in[0].Type.Shape, shape, allowZero != 0)
		if err != nil {
			return nil, err
		}
		return n.c.reshape(n.in[0], s), nil
	}))
	reg("Transpose", 1, nil, one(func(n *node) (*ir.Value, error) {
		x := n.in[0]
		perm, ok, err := n.ints("perm")
		if err != nil {
			return nil, err
		}
		if !ok {
			perm = make([]int64, rank(x))
			for i := range perm {
				perm[i] = int64(rank(x) - 1 - i)
			}
		}
		return n.c.transpose(x, perm), nil
	}))
	reg("Flatten", 1, nil, one(func(n *node) (*ir.Value, error) {
		x := n.in[0]
		axis, err := n.int("axis", 1)
		if err != nil {
			return nil, err
		}
		if axis < 0 {
			axis += int64(rank(x))
		}
		if axis < 0 || axis > int64(rank(x)) {
			return nil, fmt.Errorf("axis out of range for rank %d", rank(x))
		}
		outer, err := prodDims(x.Type.Shape[:axis])
		if err != nil {
			return nil, err
		}
		inner, err := prodDims(x.Type.Shape[axis:])
		if err != nil {
			return nil, err
		}
		return n.c.reshape(x, ir.Shape{outer, inner}), nil
	}))
	reg("Squeeze", 1, nil, one(func(n *node) (*ir.Value, error) {
		x := n.in[0]
		axes, ok, err := n.axesOf(1)
		if err != nil {
			return nil, err
		}
		drop := map[int64]bool{}
		for _, a := range axes {
			a, err := normAxis(a, rank(x))
			if err != nil {
				return nil, err
			}
			if d := x.Type.Shape[a]; d != ir.C(1) {
				return nil, fmt.Errorf("cannot squeeze dim %d of %s: it is not 1", a, x.Type.Shape)
			}
			drop[a] = true
		}
		var s ir.Shape
		for i, d := range x.Type.Shape {
			if drop[int64(i)] || (!ok && d == ir.C(1)) {
				continue
			}
			s = append(s, d)
		}
		return n.c.reshape(x, s), nil
	}))
	reg("Unsqueeze", 1, nil, one(func(n *node) (*ir.Value, error) {
		x := n.in[0]
		axes, ok, err := n.axesOf(1)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("axes are missing")
		}
		r := rank(x) + len(axes)
		add := map[int64]bool{}
		for _, a := range axes {
			a, err := normAxis(a, r)
			if err != nil {
				return nil, err
			}
			if add[a] {
				return nil, fmt.Errorf("axis %d given twice", a)
			}
			add[a] = true
		}
		s := make(ir.Shape, 0, r)
		j := 0
		for i := 0; i < r; i++ {
			if add[int64(i)] {
				s = append(s, ir.C(1))
			} else {
				s = append(s, x.Type.Shape[j])
				j++
			}
		}
		return n.c.reshape(x, s), nil
	}))
	reg("Concat", 1, []string{"concat"}, one(func(n *node) (*ir.Value, error) {
		axis, err := n.int("axis", 0)
		if err != nil {
			return nil, err
		}
		var args []*ir.Value
		for _, v := range n.in {
			if v != nil {
				args = append(args, v)
			}
		}
		if len(args) == 0 {
			return nil, fmt.Errorf("no inputs")
		}
		if axis, err = normAxis(axis, rank(args[0])); err != nil {
			return nil, err
		}
		if len(args) == 1 {
			return args[0], nil
		}
		return n.c.op("concat", ir.Attrs{"axis": axis}, args...), nil
	}))
	reg("Split", 1, []string{"slice"}, func(n *node) ([]*ir.Value, error) {
		x := n.in[0]
		axis, err := n.int("axis", 0)
		if err != nil {
			return nil, err
		}
		if axis, err = normAxis(axis, rank(x)); err != nil {
			return nil, err
		}
		d := x.Type.Shape[axis]
		if !d.IsConst() {
			return nil, fmt.Errorf("cannot split the symbolic dim %s", d)
		}
		var sizes []int64
		if n.c.opset >= 13 && n.arg(1) != nil {
			if sizes, err = n.intsIn(1, "split"); err != nil {
				return nil, err
			}
		} else if s, ok, err := n.ints("split"); err != nil {
			return nil, err
		} else if ok {
			sizes = s
		}
		nout := len(n.p.GetOutput())
		if sizes == nil {
			if nout == 0 {
				return nil, fmt.Errorf("no outputs")
			}
			// Equal parts, the last one smaller (opset 18's rule, and
			// exact division before it).
			part := (d.Size + int64(nout) - 1) / int64(nout)
			for i := 0; i < nout; i++ {
				sizes = append(sizes, min(part, max(0, d.Size-int64(i)*part)))
			}
		}
		if len(sizes) != nout {
			return nil, fmt.Errorf("split has %d sizes for %d outputs", len(sizes), nout)
		}
		var outs []*ir.Value
		start := int64(0)
		for _, sz := range sizes {
			if sz < 0 || start+sz > d.Size {
				return nil, fmt.Errorf("split sizes %v do not fit dim %d", sizes, d.Size)
			}
			outs = append(outs, sliceAxis(n.c, x, int(axis), start, start+sz))
			start += sz
		}
		if start != d.Size {
			return nil, fmt.Errorf("split sizes %v do not add up to dim %d", sizes, d.Size)
		}
		return outs, nil
	})
	reg("Slice", 1, []string{"slice"}, one(sliceOp))
	reg("Gather", 2, []string{"gather"}, one(func(n *node) (*ir.Value, error) {
		axis, err := n.int("axis", 0)
		if err != nil {
			return nil, err
		}
		if axis, err = normAxis(axis, rank(n.in[0])); err != nil {
			return nil, err
		}
		return n.c.op("gather", ir.Attrs{"axis": axis}, n.in[0], n.in[1]), nil
	}))
	reg("GatherElements", 2, []string{"gather_elements"}, one(func(n *node) (*ir.Value, error) {
		axis, err := n.int("axis", 0)
		if err != nil {
			return nil, err
		}
		if axis, err = normAxis(axis, rank(n.in[0])); err != nil {
			return nil, err
		}
		return n.c.op("gather_elements", ir.Attrs{"axis": axis}, n.in[0], n.in[1]), nil
	}))
	reg("GatherND", 2, []string{"gather_nd"}, one(func(n *node) (*ir.Value, error) {
		b, err := n.int("batch_dims", 0)
		if err != nil {
			return nil, err
		}
		return n.c.op("gather_nd", ir.Attrs{"batch_dims": b}, n.in[0], n.in[1]), nil
	}))
	reg("ScatterElements", 3, []string{"scatter_elements"}, one(func(n *node) (*ir.Value, error) {
		axis, err := n.int("axis", 0)
		if err != nil {
			return nil, err
		}
		if axis, err = normAxis(axis, rank(n.in[0])); err != nil {
			return nil, err
		}
		red, err := n.str("reduction", "none")
		if err != nil {
			return nil, err
		}
		return n.c.op("scatter_elements", ir.Attrs{"axis": axis, "reduction": red}, n.in[0], n.in[1], n.in[2]), nil
	}))
	reg("ScatterND", 3, []string{"scatter_nd"}, one(func(n *node) (*ir.Value, error) {
		red, err := n.str("reduction", "none")
		if err != nil {
			return nil, err
		}
		return n.c.op("scatter_nd", ir.Attrs{"reduction": red}, n.in[0], n.in[1], n.in[2]), nil
	}))
	reg("Expand", 2, nil, one(func(n *node) (*ir.Value, error) {
		shape, err := n.intsIn(1, "shape")
		if err != nil {
			return nil, err
		}
		for _, d := range shape {
			if d < 0 {
				return nil, fmt.Errorf("negative dim in shape %v", shape)
			}
		}
		s, err := ir.BroadcastShapes(n.in[0].Type.Shape, ir.ShapeOf(shape...))
		if err != nil {
			return nil, err
		}
		return n.c.broadcast(n.in[0], s), nil
	}))
	reg("Tile", 2, nil, one(func(n *node) (*ir.Value, error) {
		c, x := n.c, n.in[0]
		reps, err := n.intsIn(1, "repeats")
		if err != nil {
			return nil, err
		}
		if len(reps) != rank(x) {
			return nil, fmt.Errorf("repeats %v has %d entries for rank %d", reps, len(reps), rank(x))
		}
		dims, err := static(x)
		if err != nil {
			return nil, err
		}
		// out[i] = x[i mod d]: x as [1, d0, 1, d1, ...], broadcast to
		// [r0, d0, r1, d1, ...] and merged pairwise.
		var split, wide, out ir.Shape
		for i, d := range dims {
			if reps[i] < 0 {
				return nil, fmt.Errorf("negative repeat %d", reps[i])
			}
			split = append(split, ir.C(1), ir.C(d))
			wide = append(wide, ir.C(reps[i]), ir.C(d))
			out = append(out, ir.C(reps[i]*d))
		}
		return c.reshape(c.broadcast(c.reshape(x, split), wide), out), nil
	}))
	reg("Pad", 1, []string{"pad"}, one(func(n *node) (*ir.Value, error) {
		c, x := n.c, n.in[0]
		mode, err := n.str("mode", "constant")
		if err != nil {
			return nil, err
		}
		var pads []int64
		value := 0.0
		if c.opset < 11 {
			var ok bool
			if pads, ok, err = n.ints("pads"); err != nil || !ok {
				return nil, fmt.Errorf("attribute pads is missing")
			}
			if value, err = n.float("value", 0); err != nil {
				return nil, err
			}
		} else {
			if pads, err = n.intsIn(1, "pads"); err != nil {
				return nil, err
			}
			if n.arg(2) != nil {
				t, err := n.constIn(2, "constant_value")
				if err != nil {
					return nil, err
				}
				if len(t.Data) != 1 {
					return nil, fmt.Errorf("constant_value must hold one value")
				}
				value = t.Data[0]
			}
			if n.arg(3) != nil {
				axes, err := n.intsIn(3, "axes")
				if err != nil {
					return nil, err
				}
				full := make([]int64, 2*rank(x))
				for i, a := range axes {
					a, err := normAxis(a, rank(x))
					if err != nil {
						return nil, err
					}
					full[a], full[int(a)+rank(x)] = pads[i], pads[i+len(axes)]
				}
				pads = full
			}
		}
		if len(pads) != 2*rank(x) {
			return nil, fmt.Errorf("pads %v has %d entries for rank %d", pads, len(pads), rank(x))
		}
		return c.op("pad", ir.Attrs{"pads": pads, "mode": mode, "value": value}, x), nil
	}))
	reg("Shape", 1, nil, one(func(n *node) (*ir.Value, error) {
		x := n.in[0]
		dims, err := static(x)
		if err != nil {
			return nil, err
		}
		start, err := n.int("start", 0)
		if err != nil {
			return nil, err
		}
		end, err := n.int("end", int64(len(dims)))
		if err != nil {
			return nil, err
		}
		r := int64(len(dims))
		clamp := func(i int64) int64 {
			if i < 0 {
				i += r
			}
			return min(max(i, 0), r)
		}
		start, end = clamp(start), clamp(end)
		if end < start {
			end = start
		}
		return n.c.constInts(dims[start:end]), nil
	}))
	reg("Size", 1, nil, one(func(n *node) (*ir.Value, error) {
		dims, err := static(n.in[0])
		if err != nil {
			return nil, err
		}
		s := int64(1)
		for _, d := range dims {
			s *= d
		}
		return n.c.scalar(ir.I64, float64(s)), nil
	}))
	reg("ConstantOfShape", 1, nil, one(func(n *node) (*ir.Value, error) {
		shape, err := n.intsIn(0, "shape")
		if err != nil {
			return nil, err
		}
		val := &interp.Tensor{DType: ir.F32, Shape: []int{1}, Data: []float64{0}}
		if a, err := n.attr("value", onnxTensorAttr); err != nil {
			return nil, err
		} else if a != nil {
			if val, err = TensorFromProto(a.GetT()); err != nil {
				return nil, err
			}
			if len(val.Data) != 1 {
				return nil, fmt.Errorf("value must hold one element, holds %d", len(val.Data))
			}
		}
		cnt, err := numElements(shape)
		if err != nil {
			return nil, err
		}
		t := &interp.Tensor{DType: val.DType, Shape: make([]int, len(shape)), Data: make([]float64, cnt)}
		for i, d := range shape {
			t.Shape[i] = int(d)
		}
		for i := range t.Data {
			t.Data[i] = val.Data[0]
		}
		return n.c.constant(t), nil
	}))
	reg("Constant", 0, nil, one(constantNode))
	reg("Range", 3, nil, one(func(n *node) (*ir.Value, error) {
		var v [3]float64
		var dt ir.DType
		for i, what := range []string{"start", "limit", "delta"} {
			t, err := n.constIn(i, what)
			if err != nil {
				return nil, err
			}
			if len(t.Data) != 1 {
				return nil, fmt.Errorf("%s must be a scalar", what)
			}
			v[i], dt = t.Data[0], t.DType
		}
		if v[2] == 0 {
			return nil, fmt.Errorf("delta is 0")
		}
		cnt := math.Ceil((v[1] - v[0]) / v[2])
		if cnt < 0 || math.IsNaN(cnt) {
			cnt = 0
		}
		if cnt > MaxElements {
			return nil, fmt.Errorf("the range holds more than %d elements", MaxElements)
		}
		t := &interp.Tensor{DType: dt, Shape: []int{int(cnt)}, Data: make([]float64, int(cnt))}
		for i := range t.Data {
			x := v[0] + float64(i)*v[2]
			if dt == ir.F32 {
				x = float64(float32(v[0]) + float32(i)*float32(v[2]))
			}
			t.Data[i] = x
		}
		return n.c.constant(t), nil
	}))
	reg("OneHot", 3, nil, one(func(n *node) (*ir.Value, error) {
		c, ind := n.c, n.in[0]
		dt, err := n.constIn(1, "depth")
		if err != nil {
			return nil, err
		}
		if len(dt.Data) != 1 || dt.Data[0] < 1 || dt.Data[0] > MaxElements {
			return nil, fmt.Errorf("depth must be one positive value")
		}
		depth := int64(dt.Data[0])
		vals := n.in[2]
		if len(vals.Type.Shape) != 1 || vals.Type.Shape[0] != ir.C(2) {
			return nil, fmt.Errorf("values must be [off, on], is %s", vals.Type)
		}
		axis, err := n.int("axis", -1)
		if err != nil {
			return nil, err
		}
		r := rank(ind) + 1
		if axis, err = normAxis(axis, r); err != nil {
			return nil, err
		}
		ii := c.cast(ind, ir.I64)
		// Negative indices count from depth.
		ii = c.sel(c.op(ir.OpLess, nil, ii, c.like(ii, 0)), c.add(ii, c.like(ii, float64(depth))), ii)
		s := make(ir.Shape, 0, r)
		s = append(s, ii.Type.Shape[:axis]...)
		s = append(s, ir.C(1))
		s = append(s, ii.Type.Shape[axis:]...)
		ii = c.reshape(ii, s)
		is := make(ir.Shape, r)
		for i := range is {
			is[i] = ir.C(1)
		}
		is[axis] = ir.C(depth)
		iota := c.reshape(c.constInts(iota64(int(depth))), is)
		var off, on *ir.Value
		if t, err := n.constIn(2, "values"); err == nil && len(t.Data) == 2 {
			off, on = c.scalar(t.DType, t.Data[0]), c.scalar(t.DType, t.Data[1])
		} else {
			off = c.reshape(sliceAxis(c, vals, 0, 0, 1), ir.Shape{})
			on = c.reshape(sliceAxis(c, vals, 0, 1, 2), ir.Shape{})
		}
		return c.sel(c.op(ir.OpEqual, nil, ii, iota), on, off), nil
	}))
	reg("CumSum", 2, []string{"cumsum"}, one(func(n *node) (*ir.Value, error) {
		ax, err := n.intsIn(1, "axis")
		if err != nil {
			return nil, err
		}
		if len(ax) != 1 {
			return nil, fmt.Errorf("axis must be a scalar")
		}
		axis, err := normAxis(ax[0], rank(n.in[0]))
		if err != nil {
			return nil, err
		}
		ex, err := n.int("exclusive", 0)
		if err != nil {
			return nil, err
		}
		rev, err := n.int("reverse", 0)
		if err != nil {
			return nil, err
		}
		return n.c.op("cumsum", ir.Attrs{"axis": axis, "exclusive": ex != 0, "reverse": rev != 0}, n.in[0]), nil
	}))
	reg("Trilu", 1, []string{"trilu"}, one(func(n *node) (*ir.Value, error) {
		k := int64(0)
		if n.arg(1) != nil {
			ks, err := n.intsIn(1, "k")
			if err != nil {
				return nil, err
			}
			if len(ks) != 1 {
				return nil, fmt.Errorf("k must be a scalar")
			}
			k = ks[0]
		}
		upper, err := n.int("upper", 1)
		if err != nil {
			return nil, err
		}
		return n.c.op("trilu", ir.Attrs{"upper": upper != 0, "k": k}, n.in[0]), nil
	}))
	reg("EyeLike", 1, nil, one(func(n *node) (*ir.Value, error) {
		x := n.in[0]
		dims, err := static(x)
		if err != nil {
			return nil, err
		}
		if len(dims) != 2 {
			return nil, fmt.Errorf("input must be 2-D, is %s", x.Type.Shape)
		}
		dt := x.Type.DType
		if n.has("dtype") {
			d, err := n.int("dtype", 0)
			if err != nil {
				return nil, err
			}
			if dt, err = DTypeOf(int32(d)); err != nil {
				return nil, err
			}
		}
		k, err := n.int("k", 0)
		if err != nil {
			return nil, err
		}
		t := interp.Zeros(dt, []int{int(dims[0]), int(dims[1])})
		for i := int64(0); i < dims[0]; i++ {
			if j := i + k; j >= 0 && j < dims[1] {
				t.Data[i*dims[1]+j] = 1
			}
		}
		return n.c.constant(t), nil
	}))
	reg("TopK", 1, []string{"top_k"}, func(n *node) ([]*ir.Value, error) {
		c, x := n.c, n.in[0]
		var k int64
		if c.opset < 10 {
			var err error
			if k, err = n.int("k", -1); err != nil {
				return nil, err
			}
		} else {
			ks, err := n.intsIn(1, "K")
			if err != nil {
				return nil, err
			}
			if len(ks) != 1 {
				return nil, fmt.Errorf("K must hold one value")
			}
			k = ks[0]
		}
		axis, err := n.int("axis", -1)
		if err != nil {
			return nil, err
		}
		if axis, err = normAxis(axis, rank(x)); err != nil {
			return nil, err
		}
		largest, err := n.int("largest", 1)
		if err != nil {
			return nil, err
		}
		sorted, err := n.int("sorted", 1)
		if err != nil {
			return nil, err
		}
		t := c.op("top_k", ir.Attrs{"axis": axis, "k": k, "largest": largest != 0, "sorted": sorted != 0}, x)
		return []*ir.Value{c.op(ir.OpExtract, ir.Attrs{"index": int64(0)}, t), c.op(ir.OpExtract, ir.Attrs{"index": int64(1)}, t)}, nil
	})
	reg("DepthToSpace", 1, nil, one(func(n *node) (*ir.Value, error) {
		c, x := n.c, n.in[0]
		b, err := n.int("blocksize", 0)
		if err != nil {
			return nil, err
		}
		mode, err := n.str("mode", "DCR")
		if err != nil {
			return nil, err
		}
		d, err := static(x)
		if err != nil {
			return nil, err
		}
		if len(d) != 4 || b <= 0 || d[1]%(b*b) != 0 {
			return nil, fmt.Errorf("input %v must be [N, C, H, W] with C divisible by blocksize² (blocksize %d)", d, b)
		}
		nn, ch, h, w := d[0], d[1], d[2], d[3]
		var y *ir.Value
		switch mode {
		case "DCR":
			y = c.transpose(c.reshape(x, ir.ShapeOf(nn, b, b, ch/(b*b), h, w)), []int64{0, 3, 4, 1, 5, 2})
		case "CRD":
			y = c.transpose(c.reshape(x, ir.ShapeOf(nn, ch/(b*b), b, b, h, w)), []int64{0, 1, 4, 2, 5, 3})
		default:
			return nil, fmt.Errorf("mode %q is not DCR or CRD", mode)
		}
		return c.reshape(y, ir.ShapeOf(nn, ch/(b*b), h*b, w*b)), nil
	}))
	reg("SpaceToDepth", 1, nil, one(func(n *node) (*ir.Value, error) {
		c, x := n.c, n.in[0]
		b, err := n.int("blocksize", 0)
		if err != nil {
			return nil, err
		}
		d, err := static(x)
		if err != nil {
			return nil, err
		}
		if len(d) != 4 || b <= 0 || d[2]%b != 0 || d[3]%b != 0 {
			return nil, fmt.Errorf("input %v must be [N, C, H, W] with H and W divisible by blocksize %d", d, b)
		}
		nn, ch, h, w := d[0], d[1], d[2], d[3]
		y := c.transpose(c.reshape(x, ir.ShapeOf(nn, ch, h/b, b, w/b, b)), []int64{0, 3, 5, 1, 2, 4})
		return c.reshape(y, ir.ShapeOf(nn, ch*b*b, h/b, w/b)), nil
	}))
	reg("Resize", 1, []string{"resize"}, one(resize))
}

// reshapeTarget resolves ONNX's reshape dims (0 copies the input's dim
// unless allowzero, -1 takes what is left) against input shape in.
func reshapeTarget(in ir.Shape, shape []int64, allowZero bool) (ir.Shape, error) {
	return reshapeDims(in, ir.ShapeOf(shape...), allowZero)
}

// reshapeDims is reshapeTarget for a target that may hold symbolic dims
// (a shape computed from a symbolic input, ops_symshape.go); its constant
// dims keep ONNX's meaning of 0 and -1.
func reshapeDims(in ir.Shape, target ir.Shape, allowZero bool) (ir.Shape, error) {
	out := make(ir.Shape, len(target))
	infer := -1
	shape := target // printed in errors
	for i, dim := range target {
		d := dim.Size
		switch {
		case !dim.IsConst():
			out[i] = dim
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has two -1 dims", shape)
			}
			infer = i
		case d == 0 && !allowZero:
			if i >= len(in) {
				return nil, fmt.Errorf("shape %v copies dim %d, the input %s has rank %d", shape, i, in, len(in))
			}
			out[i] = in[i]
		case d < 0:
			return nil, fmt.Errorf("shape %v has a negative dim", shape)
		default:
			out[i] = ir.C(d)
		}
	}
	if infer >= 0 {
		inN, inSyms := in.NumElements()
		known := append(ir.Shape{}, out[:infer]...)
		known = append(known, out[infer+1:]...)
		outN, outSyms := known.NumElements()
		left := map[string]int{}
		for _, s := range inSyms {
			left[s]++
		}
		for _, s := range outSyms {
			if left[s] == 0 {
				return nil, fmt.Errorf("cannot reshape %s to %v: symbolic dims differ", in, shape)
			}
			left[s]--
		}
		var rest []string
		for s, k := range left {
			for ; k > 0; k-- {
				rest = append(rest, s)
			}
		}
		sort.Strings(rest)
		if outN == 0 || inN%outN != 0 {
			return nil, fmt.Errorf("cannot reshape %s to %v: %d elements do not divide", in, shape, inN)
		}
		q := inN / outN
		switch {
		case len(rest) == 0:
			out[infer] = ir.C(q)
		case len(rest) == 1 && q == 1:
			out[infer] = ir.S(rest[0])
		default:
			return nil, fmt.Errorf("cannot reshape %s to %v: the -1 dim would mix symbolic dims", in, shape)
		}
	}
	return out, nil
}

// sliceAxis takes [start, end) of x along axis (static dim).
func sliceAxis(c *ctx, x *ir.Value, axis int, start, end int64) *ir.Value {
	r := rank(x)
	starts, ends, steps := make([]int64, r), make([]int64, r), make([]int64, r)
	for i, d := range x.Type.Shape {
		ends[i], steps[i] = d.Size, 1
		if !d.IsConst() {
			ends[i] = ir.SliceWhole // a symbolic dim is kept whole
		}
	}
	starts[axis], ends[axis] = start, end
	if start == 0 && end == x.Type.Shape[axis].Size {
		return x
	}
	return c.op("slice", ir.Attrs{"starts": starts, "ends": ends, "steps": steps}, x)
}

func sliceOp(n *node) (*ir.Value, error) {
	c, x := n.c, n.in[0]
	var starts, ends, axes, steps []int64
	var err error
	if c.opset < 10 {
		var ok bool
		if starts, ok, err = n.ints("starts"); err != nil || !ok {
			return nil, fmt.Errorf("attribute starts is missing")
		}
		if ends, ok, err = n.ints("ends"); err != nil || !ok {
			return nil, fmt.Errorf("attribute ends is missing")
		}
		if axes, _, err = n.ints("axes"); err != nil {
			return nil, err
		}
	} else {
		if starts, err = n.intsIn(1, "starts"); err != nil {
			return nil, err
		}
		if ends, err = n.intsIn(2, "ends"); err != nil {
			return nil, err
		}
		if n.arg(3) != nil {
			if axes, err = n.intsIn(3, "axes"); err != nil {
				return nil, err
			}
		}
		if n.arg(4) != nil {
			if steps, err = n.intsIn(4, "steps"); err != nil {
				return nil, err
			}
		}
	}
	if len(ends) != len(starts) || (axes != nil && len(axes) != len(starts)) || (steps != nil && len(steps) != len(starts)) {
		return nil, fmt.Errorf("starts, ends, axes and steps differ in length")
	}
	r := rank(x)
	st, en, sp := make([]int64, r), make([]int64, r), make([]int64, r)
	for i, d := range x.Type.Shape {
		st[i], sp[i] = 0, 1
		en[i] = d.Size
		if !d.IsConst() {
			en[i] = ir.SliceWhole // a symbolic dim is kept whole
		}
	}
	seen := map[int64]bool{}
	for i := range starts {
		a := int64(i)
		if axes != nil {
			if a, err = normAxis(axes[i], r); err != nil {
				return nil, err
			}
		}
		if seen[a] {
			return nil, fmt.Errorf("axis %d given twice", a)
		}
		seen[a] = true
		d := x.Type.Shape[a]
		if !d.IsConst() {
			return nil, fmt.Errorf("cannot slice the symbolic dim %s", d)
		}
		dim := d.Size
		step := int64(1)
		if steps != nil {
			step = steps[i]
		}
		if step == 0 {
			return nil, fmt.Errorf("step 0")
		}
		s, e := starts[i], ends[i]
		if s < 0 {
			s += dim
		}
		if e < 0 {
			e += dim
		}
		if step > 0 {
			s, e = min(max(s, 0), dim), min(max(e, 0), dim)
			e = max(e, s)
		} else {
			s, e = min(max(s, 0), dim-1), min(max(e, -1), dim-1)
			e = min(e, s)
		}
		st[a], en[a], sp[a] = s, e, step
	}
	for i, d := range x.Type.Shape {
		if !d.IsConst() && !seen[int64(i)] {
			return nil, fmt.Errorf("slicing a tensor with the symbolic dim %s is not supported", d)
		}
	}
	return c.op("slice", ir.Attrs{"starts": st, "ends": en, "steps": sp}, x), nil
}

func constantNode(n *node) (*ir.Value, error) {
	c := n.c
	for name := range n.attrs {
		switch name {
		case "value":
			a, err := n.attr("value", onnxTensorAttr)
			if err != nil {
				return nil, err
			}
			t, err := TensorFromProto(a.GetT())
			if err != nil {
				return nil, err
			}
			return c.constant(t), nil
		case "value_float":
			f, err := n.float(name, 0)
			return c.scalar(ir.F32, f), err
		case "value_int":
			i, err := n.int(name, 0)
			return c.scalar(ir.I64, float64(i)), err
		case "value_floats":
			fs, _, err := n.floats(name)
			d := make([]float64, len(fs))
			for i, f := range fs {
				d[i] = float64(f)
			}
			return c.constant(&interp.Tensor{DType: ir.F32, Shape: []int{len(d)}, Data: d}), err
		case "value_ints":
			is, _, err := n.ints(name)
			return c.constInts(is), err
		default:
			return nil, fmt.Errorf("attribute %s is not supported", name)
		}
	}
	return nil, fmt.Errorf("no value attribute")
}

func resize(n *node) (*ir.Value, error) {
	c, x := n.c, n.in[0]
	mode, err := n.str("mode", "nearest")
	if err != nil {
		return nil, err
	}
	ctm, err := n.str("coordinate_transformation_mode", "half_pixel")
	if err != nil {
		return nil, err
	}
	if c.opset < 11 {
		ctm = "asymmetric"
	}
	nm, err := n.str("nearest_mode", "round_prefer_floor")
	if err != nil {
		return nil, err
	}
	if c.opset < 11 {
		nm = "floor"
	}
	a, err := n.float("cubic_coeff_a", -0.75)
	if err != nil {
		return nil, err
	}
	excl, err := n.int("exclude_outside", 0)
	if err != nil {
		return nil, err
	}
	extra, err := n.float("extrapolation_value", 0)
	if err != nil {
		return nil, err
	}
	if ctm == "tf_crop_and_resize" {
		return nil, unsupported("coordinate_transformation_mode tf_crop_and_resize is not supported")
	}
	// A symbolic dim (the batch) is kept: its scale must be 1, its size
	// the same symbol (a shape value, ops_symshape.go).
	dims := x.Type.Shape
	scaleIn, sizeIn := 2, 3
	if c.opset < 11 {
		scaleIn, sizeIn = 1, -1
	}
	var scales []float64
	var sizes ir.Shape
	if sizeIn > 0 && n.arg(sizeIn) != nil {
		if s, ok := c.shapeVals[n.arg(sizeIn)]; ok {
			if sizes, err = s.dims(); err != nil {
				return nil, fmt.Errorf("sizes: %v", err)
			}
		} else {
			ss, err := n.intsIn(sizeIn, "sizes")
			if err != nil {
				return nil, err
			}
			sizes = ir.ShapeOf(ss...)
		}
	}
	if len(sizes) == 0 {
		t, err := n.constIn(scaleIn, "scales")
		if err != nil {
			return nil, err
		}
		scales = t.Data
	}
	if len(sizes) > 0 {
		if len(sizes) != len(dims) {
			return nil, fmt.Errorf("sizes %v has %d entries for rank %d", sizes, len(sizes), len(dims))
		}
		scales = make([]float64, len(dims))
		for i, d := range dims {
			switch {
			case !d.IsConst() || !sizes[i].IsConst():
				if d != sizes[i] {
					return nil, fmt.Errorf("sizes %s resizes the symbolic dim %d of %s", sizes, i, dims)
				}
				scales[i] = 1
			default:
				scales[i] = float64(float32(sizes[i].Size) / float32(d.Size))
			}
		}
	} else {
		if len(scales) != len(dims) {
			return nil, fmt.Errorf("scales %v has %d entries for rank %d", scales, len(scales), len(dims))
		}
		sizes = make(ir.Shape, len(dims))
		for i, s := range scales {
			if s <= 0 {
				return nil, fmt.Errorf("scale %g is not positive", s)
			}
			if d := dims[i]; !d.IsConst() {
				if s != 1 {
					return nil, fmt.Errorf("scale %g resizes the symbolic dim %d of %s", s, i, dims)
				}
				sizes[i] = d
				continue
			}
			sizes[i] = ir.C(int64(math.Floor(float64(dims[i].Size) * s)))
		}
	}
	return c.op("resize", ir.Attrs{"mode": mode, "coordinate_transformation_mode": ctm, "nearest_mode": nm,
		"cubic_coeff_a": a, "exclude_outside": excl != 0, "extrapolation_value": extra, "scales": scales,
		"shape": sizes}, x), nil
}
