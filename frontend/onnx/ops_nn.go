package onnx

import (
	"fmt"

	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
)

// Matrix products, convolution, pooling, normalisation and softmax.

func init() {
	reg("MatMul", 2, nil, one(func(n *node) (*ir.Value, error) {
		return matmul(n.c, n.in[0], n.in[1])
	}))
	reg("Gemm", 2, nil, one(gemm))
	reg("Conv", 2, []string{"conv"}, one(conv))
	reg("ConvTranspose", 2, []string{"conv_transpose"}, one(convTranspose))
	reg("MaxPool", 1, []string{"max_pool"}, func(n *node) ([]*ir.Value, error) { return pool(n, true) })
	reg("AveragePool", 1, []string{"avg_pool"}, func(n *node) ([]*ir.Value, error) { return pool(n, false) })
	global := func(op string) func(n *node) (*ir.Value, error) {
		return func(n *node) (*ir.Value, error) {
			x := n.in[0]
			if rank(x) < 3 {
				return nil, fmt.Errorf("input must have rank >= 3 (N, C, spatial...), has %s", x.Type.Shape)
			}
			return n.c.reduce(op, x, iota64(rank(x))[2:], true), nil
		}
	}
	reg("GlobalAveragePool", 1, nil, one(global(ir.OpReduceMean)))
	reg("GlobalMaxPool", 1, nil, one(global(ir.OpReduceMax)))
	reg("BatchNormalization", 5, nil, func(n *node) ([]*ir.Value, error) {
		c, x := n.c, n.in[0]
		eps, err := n.float("epsilon", 1e-5)
		if err != nil {
			return nil, err
		}
		if t, _ := n.int("training_mode", 0); t != 0 {
			return nil, unsupported("training mode is not supported; dlc imports models for inference")
		}
		if rank(x) < 2 {
			return nil, fmt.Errorf("input must have rank >= 2, has %s", x.Type.Shape)
		}
		p := func(v *ir.Value) *ir.Value { return channelParam(c, v, rank(x)) }
		scale, b, mean, vr := p(n.in[1]), p(n.in[2]), p(n.in[3]), p(n.in[4])
		den := c.un(ir.OpSqrt, c.add(vr, c.like(vr, eps)))
		return []*ir.Value{c.add(c.mul(c.div(c.sub(x, mean), den), scale), b)}, nil
	})
	reg("InstanceNormalization", 3, nil, one(func(n *node) (*ir.Value, error) {
		c, x := n.c, n.in[0]
		eps, err := n.float("epsilon", 1e-5)
		if err != nil {
			return nil, err
		}
		if rank(x) < 3 {
			return nil, fmt.Errorf("input must have rank >= 3, has %s", x.Type.Shape)
		}
		axes := iota64(rank(x))[2:]
		y, _, _ := normalize(c, x, axes, eps)
		return c.add(c.mul(y, channelParam(c, n.in[1], rank(x))), channelParam(c, n.in[2], rank(x))), nil
	}))
	reg("LayerNormalization", 2, nil, func(n *node) ([]*ir.Value, error) {
		c, x := n.c, n.in[0]
		eps, err := n.float("epsilon", 1e-5)
		if err != nil {
			return nil, err
		}
		axis, err := n.int("axis", -1)
		if err != nil {
			return nil, err
		}
		if axis, err = normAxis(axis, rank(x)); err != nil {
			return nil, err
		}
		y, mean, inv := normalize(c, x, iota64(rank(x))[axis:], eps)
		y = c.mul(y, n.in[1])
		if b := n.arg(2); b != nil {
			y = c.add(y, b)
		}
		return []*ir.Value{y, mean, inv}, nil
	})
	for _, sm := range []struct {
		name string
		op   string
		need []string
	}{{"Softmax", ir.OpSoftmax, nil}, {"LogSoftmax", ir.OpLogSoftmax, nil}, {"Hardmax", "", []string{"argmax"}}} {
		sm := sm
		reg(sm.name, 1, sm.need, one(func(n *node) (*ir.Value, error) {
			c, x := n.c, n.in[0]
			def := int64(-1)
			if c.opset < 13 {
				def = 1
			}
			axis, err := n.int("axis", def)
			if err != nil {
				return nil, err
			}
			if axis, err = normAxis(axis, rank(x)); err != nil {
				return nil, err
			}
			f := func(x *ir.Value, axis int64) *ir.Value {
				if sm.op != "" {
					return c.op(sm.op, ir.Attrs{"axis": axis}, x)
				}
				return hardmax(c, x, axis)
			}
			if c.opset >= 13 {
				return f(x, axis), nil
			}
			// Before opset 13 the input is coerced to 2-D at axis.
			outer, err := prodDims(x.Type.Shape[:axis])
			if err != nil {
				return nil, err
			}
			inner, err := prodDims(x.Type.Shape[axis:])
			if err != nil {
				return nil, err
			}
			y := f(c.reshape(x, ir.Shape{outer, inner}), 1)
			return c.reshape(y, x.Type.Shape), nil
		}))
	}
}

// hardmax is 1 where x is largest along axis (the first such index), else 0.
func hardmax(c *ctx, x *ir.Value, axis int64) *ir.Value {
	am := c.op("argmax", ir.Attrs{"axis": axis, "keepdims": true, "select_last_index": false}, x)
	d := x.Type.Shape[axis].Size
	shape := make(ir.Shape, rank(x))
	for i := range shape {
		shape[i] = ir.C(1)
	}
	shape[axis] = ir.C(d)
	idx := c.reshape(c.constInts(iota64(int(d))), shape)
	return c.cast(c.op(ir.OpEqual, nil, am, idx), x.Type.DType)
}

// normalize returns (x-mean)/sqrt(var+eps) over axes, the mean and
// 1/sqrt(var+eps) (kept dims).
func normalize(c *ctx, x *ir.Value, axes []int64, eps float64) (y, mean, inv *ir.Value) {
	mean = c.reduce(ir.OpReduceMean, x, axes, true)
	d := c.sub(x, mean)
	vr := c.reduce(ir.OpReduceMean, c.mul(d, d), axes, true)
	sd := c.un(ir.OpSqrt, c.add(vr, c.like(vr, eps)))
	return c.div(d, sd), mean, c.div(c.like(sd, 1), sd)
}

// channelParam reshapes a per-channel [C] tensor to [1, C, 1, ...] of rank r.
func channelParam(c *ctx, v *ir.Value, r int) *ir.Value {
	if rank(v) != 1 {
		return v
	}
	s := make(ir.Shape, r)
	for i := range s {
		s[i] = ir.C(1)
	}
	s[1] = v.Type.Shape[0]
	return c.reshape(v, s)
}

// matmul is NumPy's matmul: a 1-D operand is promoted to a matrix and the
// added dim removed from the result.
func matmul(c *ctx, a, b *ir.Value) (*ir.Value, error) {
	ra, rb := rank(a), rank(b)
	if ra == 0 || rb == 0 {
		return nil, fmt.Errorf("operands must not be scalars")
	}
	if ra == 1 {
		a = c.reshape(a, ir.Shape{ir.C(1), a.Type.Shape[0]})
	}
	if rb == 1 {
		b = c.reshape(b, ir.Shape{b.Type.Shape[0], ir.C(1)})
	}
	if a.Type.DType.IsInt() {
		// Integer matmul in f64 (exact for small integers).
		y := c.op(ir.OpMatMul, nil, c.cast(a, ir.F64), c.cast(b, ir.F64))
		y = c.cast(y, a.Type.DType)
		return squeezeMatmul(c, y, ra, rb), nil
	}
	return squeezeMatmul(c, c.op(ir.OpMatMul, nil, a, b), ra, rb), nil
}

func squeezeMatmul(c *ctx, y *ir.Value, ra, rb int) *ir.Value {
	if ra != 1 && rb != 1 {
		return y
	}
	s := y.Type.Shape
	r := len(s)
	if r < 2 || c.b.Err() != nil {
		// The matmul failed (operand shapes that do not multiply):
		// the builder's error is reported, not a slice out of range.
		return y
	}
	var out ir.Shape
	out = append(out, s[:r-2]...)
	if ra != 1 {
		out = append(out, s[r-2])
	}
	if rb != 1 {
		out = append(out, s[r-1])
	}
	return c.reshape(y, out)
}

func gemm(n *node) (*ir.Value, error) {
	c, a, b := n.c, n.in[0], n.in[1]
	alpha, err := n.float("alpha", 1)
	if err != nil {
		return nil, err
	}
	beta, err := n.float("beta", 1)
	if err != nil {
		return nil, err
	}
	ta, err := n.int("transA", 0)
	if err != nil {
		return nil, err
	}
	tb, err := n.int("transB", 0)
	if err != nil {
		return nil, err
	}
	if rank(a) != 2 || rank(b) != 2 {
		return nil, fmt.Errorf("A and B must be matrices, are %s and %s", a.Type.Shape, b.Type.Shape)
	}
	if tb != 0 {
		// PyTorch's Linear exports its weight as B with transB = 1; an
		// initializer is transposed once here, so that the product reads
		// B row by row instead of repacking Bᵀ on every call.
		if bt, ok := c.transposedWeight(b); ok {
			b, tb = bt, 0
		}
	}
	y := c.op(ir.OpMatMul, ir.Attrs{"transpose_a": ta != 0, "transpose_b": tb != 0}, a, b)
	if alpha != 1 {
		y = c.mul(y, c.like(y, alpha))
	}
	if cc := n.arg(2); cc != nil && beta != 0 {
		if beta != 1 {
			cc = c.mul(cc, c.like(cc, beta))
		}
		y = c.add(y, cc)
	}
	return y, nil
}

// spatial reads the settings convolution and pooling share. k is the
// kernel's spatial shape; it fills in defaults and resolves auto_pad.
type spatialAttrs struct {
	strides, pads, dilations []int64
}

func spatial(n *node, in []int64, k []int64, withDilations bool) (*spatialAttrs, error) {
	nd := len(k)
	s := &spatialAttrs{}
	get := func(name string, def int64, want int) ([]int64, error) {
		v, ok, err := n.ints(name)
		if err != nil {
			return nil, err
		}
		if !ok {
			v = make([]int64, want)
			for i := range v {
				v[i] = def
			}
		}
		if len(v) != want {
			return nil, fmt.Errorf("%s has %d entries, want %d", name, len(v), want)
		}
		return v, nil
	}
	var err error
	if s.strides, err = get("strides", 1, nd); err != nil {
		return nil, err
	}
	if withDilations {
		if s.dilations, err = get("dilations", 1, nd); err != nil {
			return nil, err
		}
	} else {
		s.dilations = make([]int64, nd)
		for i := range s.dilations {
			s.dilations[i] = 1
		}
	}
	if s.pads, err = get("pads", 0, 2*nd); err != nil {
		return nil, err
	}
	autoPad, err := n.str("auto_pad", "NOTSET")
	if err != nil {
		return nil, err
	}
	switch autoPad {
	case "NOTSET":
	case "VALID":
		s.pads = make([]int64, 2*nd)
	case "SAME_UPPER", "SAME_LOWER":
		for i := 0; i < nd; i++ {
			if s.strides[i] <= 0 {
				return nil, fmt.Errorf("strides must be positive")
			}
			out := (in[i] + s.strides[i] - 1) / s.strides[i]
			total := max(0, (out-1)*s.strides[i]+(k[i]-1)*s.dilations[i]+1-in[i])
			if autoPad == "SAME_UPPER" {
				s.pads[i], s.pads[i+nd] = total/2, total-total/2
			} else {
				s.pads[i], s.pads[i+nd] = total-total/2, total/2
			}
		}
	default:
		return nil, fmt.Errorf("auto_pad %q is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", autoPad)
	}
	return s, nil
}

func addBias(c *ctx, y, b *ir.Value) *ir.Value {
	if b == nil {
		return y
	}
	return c.add(y, channelParam(c, b, rank(y)))
}

func conv(n *node) (*ir.Value, error) {
	c, x, w := n.c, n.in[0], n.in[1]
	if rank(x) < 3 || rank(w) != rank(x) {
		return nil, fmt.Errorf("X %s and W %s must be [N, C, spatial...] and [M, C/group, k...]", x.Type.Shape, w.Type.Shape)
	}
	ws, err := static(w)
	if err != nil {
		return nil, err
	}
	xs, err := static(&ir.Value{Type: ir.Type{Shape: x.Type.Shape[2:]}})
	if err != nil {
		return nil, err
	}
	k := ws[2:]
	if ks, ok, err := n.ints("kernel_shape"); err != nil {
		return nil, err
	} else if ok && fmt.Sprint(ks) != fmt.Sprint(k) {
		return nil, fmt.Errorf("kernel_shape %v differs from W's spatial dims %v", ks, k)
	}
	s, err := spatial(n, xs, k, true)
	if err != nil {
		return nil, err
	}
	group, err := n.int("group", 1)
	if err != nil {
		return nil, err
	}
	y := c.op("conv", ir.Attrs{"strides": s.strides, "pads": s.pads, "dilations": s.dilations, "group": group}, x, w)
	return addBias(c, y, n.arg(2)), nil
}

func convTranspose(n *node) (*ir.Value, error) {
	c, x, w := n.c, n.in[0], n.in[1]
	if rank(x) < 3 || rank(w) != rank(x) {
		return nil, fmt.Errorf("X %s and W %s must be [N, C, spatial...] and [C, M/group, k...]", x.Type.Shape, w.Type.Shape)
	}
	ws, err := static(w)
	if err != nil {
		return nil, err
	}
	xs, err := static(&ir.Value{Type: ir.Type{Shape: x.Type.Shape[2:]}})
	if err != nil {
		return nil, err
	}
	k := ws[2:]
	nd := len(k)
	autoPad, err := n.str("auto_pad", "NOTSET")
	if err != nil {
		return nil, err
	}
	s, err := spatial(&node{p: n.p, c: n.c, attrs: withoutAttr(n.attrs, "auto_pad")}, xs, k, true)
	if err != nil {
		return nil, err
	}
	group, err := n.int("group", 1)
	if err != nil {
		return nil, err
	}
	op, ok, err := n.ints("output_padding")
	if err != nil {
		return nil, err
	}
	if !ok {
		op = make([]int64, nd)
	}
	if len(op) != nd {
		return nil, fmt.Errorf("output_padding has %d entries, want %d", len(op), nd)
	}
	outShape, hasOut, err := n.ints("output_shape")
	if err != nil {
		return nil, err
	}
	if hasOut && len(outShape) == nd+2 {
		outShape = outShape[2:]
	}
	if !hasOut && (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
		outShape = make([]int64, nd)
		for i := range outShape {
			outShape[i] = xs[i] * s.strides[i]
		}
		hasOut = true
	}
	if autoPad == "VALID" {
		s.pads = make([]int64, 2*nd)
	}
	if hasOut {
		if len(outShape) != nd {
			return nil, fmt.Errorf("output_shape %v has the wrong length", outShape)
		}
		for i := 0; i < nd; i++ {
			total := s.strides[i]*(xs[i]-1) + op[i] + (k[i]-1)*s.dilations[i] + 1 - outShape[i]
			if total < 0 {
				// A larger output than the input covers: extra output padding.
				op[i] -= total
				total = 0
			}
			if autoPad == "SAME_LOWER" {
				s.pads[i], s.pads[i+nd] = total-total/2, total/2
			} else {
				s.pads[i], s.pads[i+nd] = total/2, total-total/2
			}
		}
	}
	y := c.op("conv_transpose", ir.Attrs{"strides": s.strides, "pads": s.pads, "dilations": s.dilations,
		"group": group, "output_padding": op}, x, w)
	return addBias(c, y, n.arg(2)), nil
}

func withoutAttr(attrs map[string]*onnxAttr, name string) map[string]*onnxAttr {
	out := map[string]*onnxAttr{}
	for k, v := range attrs {
		if k != name {
			out[k] = v
		}
	}
	return out
}

func pool(n *node, isMax bool) ([]*ir.Value, error) {
	c, x := n.c, n.in[0]
	if rank(x) < 3 {
		return nil, fmt.Errorf("input must be [N, C, spatial...], is %s", x.Type.Shape)
	}
	if len(n.p.GetOutput()) > 1 && n.p.GetOutput()[1] != "" {
		return nil, unsupported("the Indices output is not supported")
	}
	k, ok, err := n.ints("kernel_shape")
	if err != nil {
		return nil, err
	}
	if !ok || len(k) != rank(x)-2 {
		return nil, fmt.Errorf("kernel_shape %v must have one entry per spatial dim of %s", k, x.Type.Shape)
	}
	xs, err := static(&ir.Value{Type: ir.Type{Shape: x.Type.Shape[2:]}})
	if err != nil {
		return nil, err
	}
	s, err := spatial(n, xs, k, isMax)
	if err != nil {
		return nil, err
	}
	ceil, err := n.int("ceil_mode", 0)
	if err != nil {
		return nil, err
	}
	if isMax {
		if so, _ := n.int("storage_order", 0); so != 0 {
			return nil, unsupported("storage_order 1 is not supported")
		}
		dt := x.Type.DType
		if dt.IsInt() {
			// max_pool is a float op; the max of integers is exact in f64.
			x = c.cast(x, ir.F64)
		}
		y := c.op("max_pool", ir.Attrs{"kernel_shape": k, "strides": s.strides, "pads": s.pads,
			"dilations": s.dilations, "ceil_mode": ceil != 0}, x)
		return []*ir.Value{c.cast(y, dt)}, nil
	}
	cip, err := n.int("count_include_pad", 0)
	if err != nil {
		return nil, err
	}
	return []*ir.Value{c.op("avg_pool", ir.Attrs{"kernel_shape": k, "strides": s.strides, "pads": s.pads,
		"ceil_mode": ceil != 0, "count_include_pad": cip != 0}, x)}, nil
}

var _ = interp.New

// transposedWeight returns the transpose of the 2-D initializer weight v as
// a weight of its own ("NAME/transposed", made once), or false when v is
// not an initializer.
func (c *ctx) transposedWeight(v *ir.Value) (*ir.Value, bool) {
	t, ok := c.weightVals[v]
	if !ok || len(t.Shape) != 2 {
		return nil, false
	}
	name := v.Attrs.String("name", "") + "/transposed"
	if c.b.Mod.Weight(name) == nil {
		rows, cols := t.Shape[0], t.Shape[1]
		data := make([]float64, len(t.Data))
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				data[j*rows+i] = t.Data[i*cols+j]
			}
		}
		typ := ir.Type{DType: t.DType, Shape: shapeOf([]int{cols, rows})}
		if err := c.b.Mod.AddWeight(&ir.Weight{Name: name, Type: typ, Data: data}); err != nil {
			return nil, false
		}
		c.weightVals[c.b.Weight(name)] = &interp.Tensor{DType: t.DType, Shape: []int{cols, rows}, Data: data}
	}
	return c.b.Weight(name), true
}
