package onnx

// Shape values: shape arithmetic on symbolic dims, done at import time.
//
// PyTorch exports x.view(x.size(0), -1) as Shape -> Gather -> Unsqueeze ->
// Concat -> Reshape. With static shapes every node of such a subgraph has
// constant operands and ctx.op folds it with the ir/interp kernels. With a
// symbolic batch N the Shape node is not a constant, yet the IR needs the
// Reshape's target as an attribute. So the importer evaluates these
// subgraphs itself, symbolically:
//
//   - A shape value is a tensor of rank 0 or 1, known at import time, whose
//     elements are monomials k·s1·s2··· of the IR symbols (N, S1, ...) with
//     an integer coefficient k (a constant is a monomial without symbols).
//     Shape and Size of a tensor with symbolic dims make one.
//   - Its IR value is a placeholder that no node of the function uses:
//     ctx.shapeVals maps it to the monomials. ctx.convert sends every node
//     with a shape value among its inputs (and Shape/Size of a symbolic
//     tensor) to symConverters; a node whose op has no entry there, or whose
//     entry cannot keep the result a monomial, is an error naming the node,
//     since the IR has no run-time shape values.
//   - Identity, Cast, Gather, Slice, Squeeze, Unsqueeze, Concat, Reshape of
//     shape values, Add/Sub/Mul/Div/Equal with shape values or constants and
//     Where with a constant condition give shape values again; a result
//     without symbols becomes an ordinary constant, so the existing
//     converters take it from there. Symbols are dims, taken to be at least
//     1: that decides N == -1 (false), which x.expand(b, -1, -1) needs.
//   - Reshape, Expand, ConstantOfShape, Tile, Range and Resize (sizes)
//     consume them: each
//     element must then be a constant or a lone symbol (1·N), which is what
//     an IR dim can be; the result is an ordinary IR node with N in its
//     shape attribute (Range's values 0..N-1 come from a cumsum of ones).
//
// Anything else that would need a value varying at run time (a Shape value
// used as data, 2·N as a dim, N+1) is rejected with the reason.

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/dlc-project/dlc/frontend/onnx/onnxpb"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
)

// mono is K times the product of Syms (sorted, with repetition).
type mono struct {
	K    int64
	Syms []string
}

func (m mono) isConst() bool { return len(m.Syms) == 0 }

func (m mono) String() string {
	if m.isConst() {
		return fmt.Sprint(m.K)
	}
	s := strings.Join(m.Syms, "*")
	if m.K != 1 {
		s = fmt.Sprintf("%d*%s", m.K, s)
	}
	return s
}

// dim returns m as an IR dim: a constant, or a lone symbol.
func (m mono) dim() (ir.Dim, error) {
	switch {
	case m.isConst():
		return ir.C(m.K), nil
	case m.K == 1 && len(m.Syms) == 1:
		return ir.S(m.Syms[0]), nil
	}
	return ir.Dim{}, fmt.Errorf("the dim %s is not a constant or a single symbol, which an IR dim must be", m)
}

func monoOf(d ir.Dim) mono {
	if d.IsConst() {
		return mono{K: d.Size}
	}
	return mono{K: 1, Syms: []string{d.Sym}}
}

// mulK multiplies with an overflow check.
func mulK(a, b int64) (int64, error) {
	if a == 0 || b == 0 {
		return 0, nil
	}
	p := a * b
	if p/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, fmt.Errorf("%d*%d overflows int64", a, b)
	}
	return p, nil
}

func monoMul(a, b mono) (mono, error) {
	k, err := mulK(a.K, b.K)
	if err != nil {
		return mono{}, err
	}
	if k == 0 {
		return mono{}, nil
	}
	syms := append(append([]string{}, a.Syms...), b.Syms...)
	slices.Sort(syms)
	return mono{K: k, Syms: syms}, nil
}

func monoAdd(a, b mono) (mono, error) {
	switch {
	case a.K == 0:
		return b, nil
	case b.K == 0:
		return a, nil
	case slices.Equal(a.Syms, b.Syms):
		k := a.K + b.K
		if (k > a.K) != (b.K > 0) {
			return mono{}, fmt.Errorf("%s+%s overflows int64", a, b)
		}
		if k == 0 {
			return mono{}, nil
		}
		return mono{K: k, Syms: a.Syms}, nil
	}
	return mono{}, fmt.Errorf("%s + %s is not a monomial of the symbolic dims", a, b)
}

// monoDiv divides exactly; two constants divide as ONNX's integer Div
// does (truncating) when trunc is set.
func monoDiv(a, b mono, trunc bool) (mono, error) {
	if b.K == 0 {
		return mono{}, fmt.Errorf("division by zero")
	}
	if a.isConst() && b.isConst() && trunc {
		if a.K == math.MinInt64 && b.K == -1 {
			return mono{}, fmt.Errorf("%d/-1 overflows int64", a.K)
		}
		return mono{K: a.K / b.K}, nil
	}
	rest := append([]string{}, a.Syms...)
	for _, s := range b.Syms {
		i := slices.Index(rest, s)
		if i < 0 {
			return mono{}, fmt.Errorf("%s / %s is not a monomial of the symbolic dims", a, b)
		}
		rest = slices.Delete(rest, i, i+1)
	}
	if a.K%b.K != 0 {
		return mono{}, fmt.Errorf("%s / %s does not divide exactly", a, b)
	}
	if a.K == 0 {
		return mono{}, nil
	}
	return mono{K: a.K / b.K, Syms: rest}, nil
}

// monoEqual decides a == b where it can: symbols are dims, at least 1,
// so k·N equals neither 0 nor a number of the other sign, and k·N == j·N
// exactly when k == j; N == 3 is not known at import time.
func monoEqual(a, b mono) (bool, error) {
	if slices.Equal(a.Syms, b.Syms) {
		return a.K == b.K, nil
	}
	if (a.K > 0) != (b.K > 0) || a.K == 0 || b.K == 0 {
		return false, nil
	}
	return false, fmt.Errorf("whether %s == %s is not known at import time", a, b)
}

// shapeVal is the import-time value of a shape value.
type shapeVal struct {
	dt     ir.DType
	scalar bool // rank 0 (len(el) == 1), else rank 1
	el     []mono
}

func (s *shapeVal) String() string {
	parts := make([]string, len(s.el))
	for i, m := range s.el {
		parts[i] = m.String()
	}
	if s.scalar {
		return s.dt.String() + " " + parts[0]
	}
	return s.dt.String() + "[" + strings.Join(parts, ",") + "]"
}

func (s *shapeVal) isConst() bool {
	for _, m := range s.el {
		if !m.isConst() {
			return false
		}
	}
	return true
}

// dims returns s's elements as IR dims.
func (s *shapeVal) dims() (ir.Shape, error) {
	if s.scalar {
		return nil, fmt.Errorf("a shape must be 1-D, is the scalar %s", s)
	}
	out := make(ir.Shape, len(s.el))
	for i, m := range s.el {
		d, err := m.dim()
		if err != nil {
			return nil, fmt.Errorf("element %d of the shape %s: %v", i, s, err)
		}
		out[i] = d
	}
	return out, nil
}

// symVal returns the shape value of v: a recorded one, or a constant of
// rank 0 or 1 with integral values; ok is false otherwise.
func (c *ctx) symVal(v *ir.Value) (*shapeVal, bool) {
	if v == nil {
		return nil, false
	}
	if s, ok := c.shapeVals[v]; ok {
		return s, true
	}
	t, ok := c.consts[v]
	if !ok || len(t.Shape) > 1 || t.DType == ir.Bool || (!t.DType.IsInt() && !t.DType.IsFloat()) {
		return nil, false
	}
	s := &shapeVal{dt: t.DType, scalar: len(t.Shape) == 0}
	for _, x := range t.Data {
		if x != math.Trunc(x) || math.Abs(x) >= 1<<62 {
			return nil, false
		}
		s.el = append(s.el, mono{K: int64(x)})
	}
	return s, true
}

// isShapeVal reports whether v is a shape value holding symbols.
func (c *ctx) isShapeVal(v *ir.Value) bool {
	_, ok := c.shapeVals[v]
	return ok && v != nil
}

// shapeValue makes the IR value of s: a constant when it holds no symbols,
// else a placeholder recorded in c.shapeVals.
func (c *ctx) shapeValue(s *shapeVal) *ir.Value {
	shape := []int{len(s.el)}
	if s.scalar {
		shape = []int{}
	}
	if s.isConst() {
		d := make([]float64, len(s.el))
		for i, m := range s.el {
			d[i] = float64(m.K)
		}
		return c.constant(&interp.Tensor{DType: s.dt, Shape: shape, Data: d})
	}
	v := &ir.Value{Op: "onnx.shape_value", Type: ir.Type{DType: s.dt, Shape: shapeOf(shape)}}
	if c.shapeVals == nil {
		c.shapeVals = map[*ir.Value]*shapeVal{}
	}
	c.shapeVals[v] = s
	return v
}

// symConverters map the ONNX ops that take or make shape values; handled
// is false when the node is an ordinary one for the converter in ops*.go.
var symConverters = map[string]func(n *node) (out []*ir.Value, handled bool, err error){}

// convertStatic converts n with its converter from ops*.go.
func (c *ctx) convertStatic(n *node) ([]*ir.Value, bool, error) {
	outs, err := converters[n.p.GetOpType()].fn(n)
	return outs, true, err
}

// convertSym converts n: through symConverters where they apply, with an
// error where a shape value reaches an op that cannot take it, else with fn.
func (c *ctx) convertSym(n *node, fn func(n *node) ([]*ir.Value, error)) ([]*ir.Value, error) {
	if h := symConverters[n.p.GetOpType()]; h != nil {
		outs, handled, err := h(n)
		if handled || err != nil {
			return outs, err
		}
	}
	for i, v := range n.in {
		if c.isShapeVal(v) {
			return nil, fmt.Errorf("input %d (%q) is the shape value %s computed from symbolic dims: %s cannot use it at import time, and the IR has no run-time shape values",
				i, n.p.GetInput()[i], c.shapeVals[v], n.p.GetOpType())
		}
	}
	return fn(n)
}

// anySym reports whether an input of n is a shape value.
func (n *node) anySym() bool {
	for _, v := range n.in {
		if n.c.isShapeVal(v) {
			return true
		}
	}
	return false
}

// symIn returns input i as a shape value (constants included).
func (n *node) symIn(i int, what string) (*shapeVal, error) {
	s, ok := n.c.symVal(n.arg(i))
	if !ok {
		return nil, fmt.Errorf("input %d (%s) must be a constant or a shape value computed from the dims of a tensor", i, what)
	}
	return s, nil
}

func symOne(v *ir.Value, err error) ([]*ir.Value, bool, error) {
	if err != nil {
		return nil, true, err
	}
	return []*ir.Value{v}, true, nil
}

func init() {
	symConverters["Shape"] = func(n *node) ([]*ir.Value, bool, error) {
		x := n.in[0]
		if x.Type.Shape.IsStatic() {
			// Also a shape value's own shape, a constant (its
			// placeholder's type is static): the converter in
			// ops_shape.go makes it.
			return n.c.convertStatic(n)
		}
		r := int64(rank(x))
		start, err := n.int("start", 0)
		if err != nil {
			return nil, true, err
		}
		end, err := n.int("end", r)
		if err != nil {
			return nil, true, err
		}
		clamp := func(i int64) int64 {
			if i < 0 {
				i += r
			}
			return min(max(i, 0), r)
		}
		start, end = clamp(start), clamp(end)
		end = max(end, start)
		s := &shapeVal{dt: ir.I64}
		for _, d := range x.Type.Shape[start:end] {
			s.el = append(s.el, monoOf(d))
		}
		return symOne(n.c.shapeValue(s), nil)
	}
	symConverters["Size"] = func(n *node) ([]*ir.Value, bool, error) {
		x := n.in[0]
		if x.Type.Shape.IsStatic() {
			return n.c.convertStatic(n)
		}
		p := mono{K: 1}
		for _, d := range x.Type.Shape {
			var err error
			if p, err = monoMul(p, monoOf(d)); err != nil {
				return nil, true, err
			}
		}
		return symOne(n.c.shapeValue(&shapeVal{dt: ir.I64, scalar: true, el: []mono{p}}), nil)
	}
	symConverters["Identity"] = func(n *node) ([]*ir.Value, bool, error) {
		if !n.anySym() {
			return nil, false, nil
		}
		return []*ir.Value{n.in[0]}, true, nil
	}
	symConverters["Cast"] = func(n *node) ([]*ir.Value, bool, error) {
		in, ok := n.c.shapeVals[n.in[0]]
		if !ok {
			return nil, false, nil
		}
		to, err := n.int("to", 0)
		if err != nil {
			return nil, true, err
		}
		dt, err := DTypeOf(int32(to))
		if err != nil {
			return nil, true, err
		}
		if !dt.IsInt() && !dt.IsFloat() {
			return nil, true, fmt.Errorf("cannot cast the shape value %s to %s", in, dt)
		}
		s := *in
		s.dt = dt
		return symOne(n.c.shapeValue(&s), nil)
	}
	symConverters["Gather"] = func(n *node) ([]*ir.Value, bool, error) {
		if !n.anySym() {
			return nil, false, nil
		}
		data, ok := n.c.shapeVals[n.in[0]]
		if !ok {
			return nil, false, nil // a shape value as the indices: an error below
		}
		axis, err := n.int("axis", 0)
		if err != nil {
			return nil, true, err
		}
		if data.scalar || (axis != 0 && axis != -1) {
			return nil, true, fmt.Errorf("only gathering from a 1-D shape value along axis 0 with constant indices is supported")
		}
		it, err := n.constIn(1, "indices")
		if err != nil {
			return nil, true, err
		}
		if len(it.Shape) > 1 || !it.DType.IsInt() {
			return nil, true, fmt.Errorf("indices of a shape value must be a constant integer scalar or 1-D tensor, are %s%v", it.DType, it.Shape)
		}
		out := &shapeVal{dt: data.dt, scalar: len(it.Shape) == 0}
		for _, x := range it.Data {
			i := int64(x)
			if i < 0 {
				i += int64(len(data.el))
			}
			if i < 0 || i >= int64(len(data.el)) {
				return nil, true, fmt.Errorf("index %v out of range for the shape value %s", x, data)
			}
			out.el = append(out.el, data.el[i])
		}
		return symOne(n.c.shapeValue(out), nil)
	}
	symConverters["Slice"] = func(n *node) ([]*ir.Value, bool, error) {
		if !n.anySym() {
			return nil, false, nil
		}
		data, ok := n.c.shapeVals[n.in[0]]
		if !ok {
			return nil, false, nil // a shape value as starts, ends, ...: an error below
		}
		if data.scalar {
			return nil, true, fmt.Errorf("only slicing a 1-D shape value with constant starts, ends, axes and steps is supported")
		}
		var starts, ends, axes, steps []int64
		var err error
		if n.c.opset < 10 {
			starts, _, err = n.ints("starts")
			if err == nil {
				ends, _, err = n.ints("ends")
			}
			if err == nil {
				axes, _, err = n.ints("axes")
			}
		} else {
			starts, err = n.intsIn(1, "starts")
			if err == nil {
				ends, err = n.intsIn(2, "ends")
			}
			if err == nil && n.arg(3) != nil {
				axes, err = n.intsIn(3, "axes")
			}
			if err == nil && n.arg(4) != nil {
				steps, err = n.intsIn(4, "steps")
			}
		}
		if err != nil {
			return nil, true, err
		}
		if len(starts) != 1 || len(ends) != 1 || len(axes) > 1 || len(steps) > 1 {
			return nil, true, fmt.Errorf("a 1-D shape value takes one start, end, axis and step")
		}
		if len(axes) == 1 && axes[0] != 0 && axes[0] != -1 {
			return nil, true, fmt.Errorf("axis %d out of range for a 1-D shape value", axes[0])
		}
		step := int64(1)
		if len(steps) == 1 {
			step = steps[0]
		}
		if step == 0 {
			return nil, true, fmt.Errorf("step 0")
		}
		dim := int64(len(data.el))
		s, e := starts[0], ends[0]
		if s < 0 {
			s += dim
		}
		if e < 0 {
			e += dim
		}
		out := &shapeVal{dt: data.dt}
		if step > 0 {
			s, e = min(max(s, 0), dim), min(max(e, 0), dim)
			// i += step stops before it could overflow.
			for i := s; i < e; i += step {
				out.el = append(out.el, data.el[i])
				if step >= e-i {
					break
				}
			}
		} else {
			s, e = min(max(s, 0), dim-1), min(max(e, -1), dim-1)
			for i := s; i > e; i += step {
				out.el = append(out.el, data.el[i])
				if step <= e-i {
					break
				}
			}
		}
		return symOne(n.c.shapeValue(out), nil)
	}
	symConverters["Unsqueeze"] = func(n *node) ([]*ir.Value, bool, error) {
		if !n.anySym() {
			return nil, false, nil
		}
		s, ok := n.c.shapeVals[n.in[0]]
		if !ok {
			return nil, false, nil
		}
		axes, _, err := n.axesOf(1)
		if err != nil {
			return nil, true, err
		}
		if !s.scalar || len(axes) != 1 || (axes[0] != 0 && axes[0] != -1) {
			return nil, true, fmt.Errorf("only a scalar shape value unsqueezes (to 1-D, axes [0])")
		}
		out := *s
		out.scalar = false
		return symOne(n.c.shapeValue(&out), nil)
	}
	symConverters["Squeeze"] = func(n *node) ([]*ir.Value, bool, error) {
		if !n.anySym() {
			return nil, false, nil
		}
		s, ok := n.c.shapeVals[n.in[0]]
		if !ok {
			return nil, false, nil
		}
		axes, has, err := n.axesOf(1)
		if err != nil {
			return nil, true, err
		}
		if s.scalar || len(s.el) != 1 || (has && (len(axes) != 1 || (axes[0] != 0 && axes[0] != -1))) {
			return nil, true, fmt.Errorf("only a 1-D shape value of one element squeezes (to a scalar)")
		}
		out := *s
		out.scalar = true
		return symOne(n.c.shapeValue(&out), nil)
	}
	symConverters["Concat"] = func(n *node) ([]*ir.Value, bool, error) {
		if !n.anySym() {
			return nil, false, nil
		}
		axis, err := n.int("axis", 0)
		if err != nil {
			return nil, true, err
		}
		if axis != 0 && axis != -1 {
			return nil, true, fmt.Errorf("axis %d out of range for 1-D shape values", axis)
		}
		var out *shapeVal
		for i, v := range n.in {
			if v == nil {
				continue
			}
			s, err := n.symIn(i, "a part")
			if err != nil {
				return nil, true, err
			}
			if s.scalar {
				return nil, true, fmt.Errorf("input %d is a scalar; Concat needs 1-D parts", i)
			}
			if out == nil {
				out = &shapeVal{dt: s.dt}
			} else if s.dt != out.dt {
				return nil, true, fmt.Errorf("input %d is %s, input 0 is %s", i, s.dt, out.dt)
			}
			out.el = append(out.el, s.el...)
		}
		return symOne(n.c.shapeValue(out), nil)
	}
	for _, op := range []string{"Add", "Sub", "Mul", "Div"} {
		symConverters[op] = func(n *node) ([]*ir.Value, bool, error) {
			if !n.anySym() {
				return nil, false, nil
			}
			a, err := n.symIn(0, "A")
			if err != nil {
				return nil, true, err
			}
			b, err := n.symIn(1, "B")
			if err != nil {
				return nil, true, err
			}
			return symOne(symArith(n.c, op, a, b))
		}
	}
	symConverters["Equal"] = func(n *node) ([]*ir.Value, bool, error) {
		if !n.anySym() {
			return nil, false, nil
		}
		a, err := n.symIn(0, "A")
		if err != nil {
			return nil, true, err
		}
		b, err := n.symIn(1, "B")
		if err != nil {
			return nil, true, err
		}
		return symOne(symArith(n.c, "Equal", a, b))
	}
	// Where(cond, X, Y) with a constant cond picks shape value elements
	// (PyTorch's x.expand(b, -1, -1) replaces -1 by 1 so).
	symConverters["Where"] = func(n *node) ([]*ir.Value, bool, error) {
		if !n.anySym() {
			return nil, false, nil
		}
		ct, err := n.constIn(0, "condition")
		if err != nil {
			return nil, true, err
		}
		x, err := n.symIn(1, "X")
		if err != nil {
			return nil, true, err
		}
		y, err := n.symIn(2, "Y")
		if err != nil {
			return nil, true, err
		}
		if ct.DType != ir.Bool || len(ct.Shape) > 1 {
			return nil, true, fmt.Errorf("condition must be a bool scalar or 1-D tensor, is %s%v", ct.DType, ct.Shape)
		}
		if x.dt != y.dt {
			return nil, true, fmt.Errorf("X is %s, Y is %s", x.dt, y.dt)
		}
		m := max(len(ct.Data), len(x.el), len(y.el))
		for _, k := range []int{len(ct.Data), len(x.el), len(y.el)} {
			if k != m && k != 1 {
				return nil, true, fmt.Errorf("condition, X and Y (%d, %d and %d elements) do not broadcast", len(ct.Data), len(x.el), len(y.el))
			}
		}
		out := &shapeVal{dt: x.dt, scalar: len(ct.Shape) == 0 && x.scalar && y.scalar}
		for i := 0; i < m; i++ {
			e := y.el[min(i, len(y.el)-1)]
			if ct.Data[min(i, len(ct.Data)-1)] != 0 {
				e = x.el[min(i, len(x.el)-1)]
			}
			out.el = append(out.el, e)
		}
		return symOne(n.c.shapeValue(out), nil)
	}
	// Resize reads a shape value as its sizes itself (ops_shape.go).
	symConverters["Resize"] = func(n *node) ([]*ir.Value, bool, error) {
		if !n.anySym() {
			return nil, false, nil
		}
		for i, v := range n.in {
			if n.c.isShapeVal(v) && i != 3 {
				return nil, true, fmt.Errorf("input %d is a shape value; only sizes (input 3) may be", i)
			}
		}
		return n.c.convertStatic(n)
	}
	symConverters["Reshape"] = func(n *node) ([]*ir.Value, bool, error) {
		if !n.anySym() {
			return nil, false, nil
		}
		if s, ok := n.c.shapeVals[n.in[0]]; ok {
			// A shape value reshaped by a constant shape: a scalar
			// and a 1-D one are the same elements.
			shape, err := n.intsIn(1, "shape")
			if err != nil {
				return nil, true, err
			}
			out := *s
			switch {
			case len(shape) == 0 && len(s.el) == 1:
				out.scalar = true
			case len(shape) == 1 && (shape[0] == -1 || shape[0] == int64(len(s.el))):
				out.scalar = false
			default:
				return nil, true, fmt.Errorf("cannot reshape the shape value %s to %v", s, shape)
			}
			return symOne(n.c.shapeValue(&out), nil)
		}
		s, err := n.symIn(1, "shape")
		if err != nil {
			return nil, true, err
		}
		target, err := s.dims()
		if err != nil {
			return nil, true, err
		}
		allowZero, err := n.int("allowzero", 0)
		if err != nil {
			return nil, true, err
		}
		out, err := reshapeDims(n.in[0].Type.Shape, target, allowZero != 0)
		if err != nil {
			return nil, true, err
		}
		return symOne(n.c.reshape(n.in[0], out), nil)
	}
	symConverters["Expand"] = func(n *node) ([]*ir.Value, bool, error) {
		if !n.anySym() {
			return nil, false, nil
		}
		if n.c.isShapeVal(n.in[0]) {
			return nil, true, fmt.Errorf("expanding a shape value is not supported")
		}
		s, err := n.symIn(1, "shape")
		if err != nil {
			return nil, true, err
		}
		dims, err := s.dims()
		if err != nil {
			return nil, true, err
		}
		for _, d := range dims {
			if d.IsConst() && d.Size < 0 {
				return nil, true, fmt.Errorf("negative dim in shape %s", dims)
			}
		}
		out, err := ir.BroadcastShapes(n.in[0].Type.Shape, dims)
		if err != nil {
			return nil, true, err
		}
		return symOne(n.c.broadcast(n.in[0], out), nil)
	}
	symConverters["ConstantOfShape"] = func(n *node) ([]*ir.Value, bool, error) {
		if !n.anySym() {
			return nil, false, nil
		}
		s, err := n.symIn(0, "shape")
		if err != nil {
			return nil, true, err
		}
		dims, err := s.dims()
		if err != nil {
			return nil, true, err
		}
		for _, d := range dims {
			if d.IsConst() && d.Size < 0 {
				return nil, true, fmt.Errorf("negative dim in shape %s", dims)
			}
		}
		val := &interp.Tensor{DType: ir.F32, Shape: []int{1}, Data: []float64{0}}
		if a, err := n.attr("value", onnxpb.AttributeProto_TENSOR); err != nil {
			return nil, true, err
		} else if a != nil {
			if val, err = TensorFromProto(a.GetT()); err != nil {
				return nil, true, err
			}
			if len(val.Data) != 1 {
				return nil, true, fmt.Errorf("value must hold one element, holds %d", len(val.Data))
			}
		}
		if _, err := numElements(constDims(dims)); err != nil {
			return nil, true, err
		}
		return symOne(n.c.broadcast(n.c.scalar(val.DType, val.Data[0]), dims), nil)
	}
	symConverters["Tile"] = func(n *node) ([]*ir.Value, bool, error) {
		c, x := n.c, n.in[0]
		if !n.anySym() && x.Type.Shape.IsStatic() {
			return nil, false, nil
		}
		if c.isShapeVal(x) {
			return nil, true, fmt.Errorf("tiling a shape value is not supported")
		}
		reps, err := n.symIn(1, "repeats")
		if err != nil {
			return nil, true, err
		}
		if reps.scalar || len(reps.el) != rank(x) {
			return nil, true, fmt.Errorf("repeats %s has %d entries for rank %d", reps, len(reps.el), rank(x))
		}
		// As in the static Tile: x as [1, d0, 1, d1, ...], broadcast to
		// [r0, d0, r1, d1, ...] and merged pairwise.
		var split, wide, out ir.Shape
		for i, d := range x.Type.Shape {
			r := reps.el[i]
			if r.K < 0 {
				return nil, true, fmt.Errorf("negative repeat %s", r)
			}
			rd, err := r.dim()
			if err != nil {
				return nil, true, fmt.Errorf("repeat %d: %v", i, err)
			}
			p, err := monoMul(r, monoOf(d))
			if err != nil {
				return nil, true, err
			}
			od, err := p.dim()
			if err != nil {
				return nil, true, fmt.Errorf("dim %d of the result: %v", i, err)
			}
			split = append(split, ir.C(1), d)
			wide = append(wide, rd, d)
			out = append(out, od)
		}
		if _, err := numElements(constDims(out)); err != nil {
			return nil, true, err
		}
		return symOne(c.reshape(c.broadcast(c.reshape(x, split), wide), out), nil)
	}
	symConverters["Range"] = func(n *node) ([]*ir.Value, bool, error) {
		if !n.anySym() {
			return nil, false, nil
		}
		c := n.c
		var v [3]*shapeVal
		for i, what := range []string{"start", "limit", "delta"} {
			s, err := n.symIn(i, what)
			if err != nil {
				return nil, true, err
			}
			if len(s.el) != 1 {
				return nil, true, fmt.Errorf("%s must be a scalar", what)
			}
			v[i] = s
		}
		if !v[0].isConst() || !v[2].isConst() {
			return nil, true, fmt.Errorf("start and delta must be constants (start %s, delta %s): the values would vary at run time", v[0], v[2])
		}
		// The count, ceil((limit-start)/delta), must come out exactly as
		// one dim.
		diff, err := monoAdd(v[1].el[0], mono{K: -v[0].el[0].K})
		if err != nil {
			return nil, true, fmt.Errorf("the length of the range: %v", err)
		}
		cnt, err := monoDiv(diff, v[2].el[0], false)
		if err != nil {
			return nil, true, fmt.Errorf("the length of the range: %v", err)
		}
		d, err := cnt.dim()
		if err != nil {
			return nil, true, fmt.Errorf("the length of the range: %v", err)
		}
		if _, ok := ir.LookupOp(ir.OpCumSum); !ok {
			return nil, true, unsupported("a range of symbolic length needs the IR op cumsum, not in this build")
		}
		dt := v[0].dt
		// iota as an exclusive running sum of ones: 0, 1, ..., count-1.
		ones := c.broadcast(c.scalar(dt, 1), ir.Shape{d})
		iota := c.op(ir.OpCumSum, ir.Attrs{"axis": int64(0), "exclusive": true, "reverse": false}, ones)
		if k := v[2].el[0].K; k != 1 {
			iota = c.mul(iota, c.scalar(dt, float64(k)))
		}
		if k := v[0].el[0].K; k != 0 {
			iota = c.add(iota, c.scalar(dt, float64(k)))
		}
		return symOne(iota, nil)
	}
}

// symArith applies op (Add, Sub, Mul, Div) to shape values, broadcasting
// a scalar or a one-element operand.
func symArith(c *ctx, op string, a, b *shapeVal) (*ir.Value, error) {
	if a.dt != b.dt {
		return nil, fmt.Errorf("operand dtypes differ: %s and %s", a.dt, b.dt)
	}
	n := max(len(a.el), len(b.el))
	if (len(a.el) != n && len(a.el) != 1) || (len(b.el) != n && len(b.el) != 1) {
		return nil, fmt.Errorf("shape values %s and %s do not broadcast", a, b)
	}
	out := &shapeVal{dt: a.dt, scalar: a.scalar && b.scalar}
	if op == "Equal" {
		out.dt = ir.Bool
	}
	for i := 0; i < n; i++ {
		x, y := a.el[min(i, len(a.el)-1)], b.el[min(i, len(b.el)-1)]
		var r mono
		var err error
		switch op {
		case "Add":
			r, err = monoAdd(x, y)
		case "Sub":
			if y.K == math.MinInt64 {
				return nil, fmt.Errorf("-%s overflows int64", y)
			}
			r, err = monoAdd(x, mono{K: -y.K, Syms: y.Syms})
		case "Mul":
			r, err = monoMul(x, y)
		case "Div":
			r, err = monoDiv(x, y, a.dt.IsInt())
		case "Equal":
			var eq bool
			if eq, err = monoEqual(x, y); eq {
				r.K = 1
			}
		}
		if err != nil {
			return nil, err
		}
		out.el = append(out.el, r)
	}
	return c.shapeValue(out), nil
}

// constDims returns the constant dims of s (for the size check).
func constDims(s ir.Shape) []int64 {
	var out []int64
	for _, d := range s {
		if d.IsConst() {
			out = append(out, d.Size)
		}
	}
	return out
}
