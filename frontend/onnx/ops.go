package onnx

import (
	"fmt"
	"math"
	"sort"

	"github.com/dlc-project/dlc/frontend/onnx/onnxpb"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
)

// converter maps one ONNX op type onto IR.
type converter struct {
	minIn int
	// needs lists the IR ops the mapping may use beyond those every build
	// has; while one is missing from the op table the ONNX op is reported
	// unsupported rather than failing half-way.
	needs []string
	// check, when set, rejects settings the mapping does not handle
	// (returning why), before any node is converted.
	check func(n *onnxpb.NodeProto, opset int64) string
	fn    func(n *node) ([]*ir.Value, error)
}

var converters = map[string]*converter{}

// reg registers the converter of opType.
func reg(opType string, minIn int, needs []string, fn func(n *node) ([]*ir.Value, error)) *converter {
	if _, dup := converters[opType]; dup {
		panic("onnx: converter registered twice: " + opType)
	}
	cv := &converter{minIn: minIn, needs: needs, fn: fn}
	converters[opType] = cv
	return cv
}

// one wraps a single-result mapping.
func one(f func(n *node) (*ir.Value, error)) func(n *node) ([]*ir.Value, error) {
	return func(n *node) ([]*ir.Value, error) {
		v, err := f(n)
		if err != nil {
			return nil, err
		}
		return []*ir.Value{v}, nil
	}
}

// SupportedOps returns the ONNX op types the importer maps in this build
// (those whose IR ops are all in the op table), sorted.
func SupportedOps() []string {
	var out []string
	for op, cv := range converters {
		ok := true
		for _, need := range cv.needs {
			if _, has := ir.LookupOp(need); !has {
				ok = false
			}
		}
		if ok {
			out = append(out, op)
		}
	}
	sort.Strings(out)
	return out
}

// MappedOps returns every ONNX op type that has a mapping, whether or not
// the IR ops it needs are in this build, with the IR ops missing.
func MappedOps() map[string][]string {
	out := map[string][]string{}
	for op, cv := range converters {
		var missing []string
		for _, need := range cv.needs {
			if _, has := ir.LookupOp(need); !has {
				missing = append(missing, need)
			}
		}
		out[op] = missing
	}
	return out
}

// node is one ONNX node being converted.
type node struct {
	p     *onnxpb.NodeProto
	c     *ctx
	in    []*ir.Value // nil where an optional input is omitted
	attrs map[string]*onnxpb.AttributeProto
}

func (n *node) arg(i int) *ir.Value {
	if i < len(n.in) {
		return n.in[i]
	}
	return nil
}

func (n *node) has(name string) bool { _, ok := n.attrs[name]; return ok }

func (n *node) attr(name string, want onnxpb.AttributeProto_AttributeType) (*onnxpb.AttributeProto, error) {
	a, ok := n.attrs[name]
	if !ok {
		return nil, nil
	}
	if a.GetType() != want && a.GetType() != onnxpb.AttributeProto_UNDEFINED {
		return nil, fmt.Errorf("attribute %s is %s, want %s", name, a.GetType(), want)
	}
	return a, nil
}

func (n *node) int(name string, def int64) (int64, error) {
	a, err := n.attr(name, onnxpb.AttributeProto_INT)
	if a == nil || err != nil {
		return def, err
	}
	return a.GetI(), nil
}

func (n *node) float(name string, def float64) (float64, error) {
	a, err := n.attr(name, onnxpb.AttributeProto_FLOAT)
	if a == nil || err != nil {
		return def, err
	}
	return float64(a.GetF()), nil
}

func (n *node) str(name, def string) (string, error) {
	a, err := n.attr(name, onnxpb.AttributeProto_STRING)
	if a == nil || err != nil {
		return def, err
	}
	return string(a.GetS()), nil
}

// ints returns an ints attribute; ok is false when it is absent.
func (n *node) ints(name string) (v []int64, ok bool, err error) {
	a, err := n.attr(name, onnxpb.AttributeProto_INTS)
	if a == nil || err != nil {
		return nil, false, err
	}
	return a.GetInts(), true, nil
}

func (n *node) floats(name string) ([]float32, bool, error) {
	a, err := n.attr(name, onnxpb.AttributeProto_FLOATS)
	if a == nil || err != nil {
		return nil, false, err
	}
	return a.GetFloats(), true, nil
}

// constIn returns the value of input i, which must be a constant (an
// initializer, a Constant node or something folded from them).
func (n *node) constIn(i int, what string) (*interp.Tensor, error) {
	v := n.arg(i)
	if v == nil {
		return nil, fmt.Errorf("input %d (%s) is missing", i, what)
	}
	if s := n.c.shapeVals[v]; s != nil {
		return nil, fmt.Errorf("input %d (%s) must be a constant; it is the shape value %s computed from symbolic dims", i, what, s)
	}
	t, ok := n.c.consts[v]
	if !ok {
		t, ok = n.c.weightVals[v]
	}
	if !ok && n.c.bind != nil {
		var err error
		if t, err = n.c.evalBound(v); err != nil {
			return nil, fmt.Errorf("input %d (%s): %v", i, what, err)
		}
		ok = t != nil
	}
	if !ok {
		return nil, &NeedsConstantError{Input: i, What: what}
	}
	return t, nil
}

// intsIn reads a constant integer input as a list.
func (n *node) intsIn(i int, what string) ([]int64, error) {
	t, err := n.constIn(i, what)
	if err != nil {
		return nil, err
	}
	if !t.DType.IsInt() {
		return nil, fmt.Errorf("input %d (%s) must be an integer tensor, is %s", i, what, t.DType)
	}
	out := make([]int64, len(t.Data))
	for j, x := range t.Data {
		out[j] = int64(x)
	}
	return out, nil
}

// axesOf reads axes given as an attribute (older opsets) or as input i
// (newer ones); ok is false when neither is present.
func (n *node) axesOf(i int) (axes []int64, ok bool, err error) {
	if n.arg(i) != nil {
		axes, err = n.intsIn(i, "axes")
		return axes, true, err
	}
	return n.ints("axes")
}

// The ctx's building helpers. Every node goes through op, which folds it
// to a constant when all its operands are constants.

func (c *ctx) op(op string, attrs ir.Attrs, args ...*ir.Value) *ir.Value {
	v := c.b.Op(op, attrs, args...)
	if c.b.Err() != nil || v.Type.IsTuple() {
		return v
	}
	ts := make([]*interp.Tensor, len(args))
	for i, a := range args {
		t, ok := c.consts[a]
		if !ok {
			return v
		}
		ts[i] = t
	}
	n, syms := v.Type.Shape.NumElements()
	if len(syms) > 0 || n > foldLimit {
		return v
	}
	k := interp.Kernels[op]
	if k == nil {
		return v
	}
	t, err := k(v, ts, &interp.Env{Module: c.b.Mod, Syms: map[string]int{}})
	if err != nil {
		// Left to run time, where the same error will name the node.
		return v
	}
	body := c.b.Fn.Body
	if len(body) > 0 && body[len(body)-1] == v {
		c.b.Fn.Body = body[:len(body)-1]
	}
	return c.constant(t)
}

// constant adds a constant holding t.
func (c *ctx) constant(t *interp.Tensor) *ir.Value {
	typ := ir.Type{DType: t.DType, Shape: shapeOf(t.Shape)}
	data := t.Data
	if len(data) == 0 {
		// A constant needs at least one value; an empty tensor has
		// none to hold, so it is a splat of zero.
		data = []float64{0}
	}
	v := c.b.Const(typ, data...)
	if c.b.Err() == nil {
		c.consts[v] = t
	}
	return v
}

func (c *ctx) scalar(dt ir.DType, x float64) *ir.Value {
	return c.constant(&interp.Tensor{DType: dt, Shape: []int{}, Data: []float64{x}})
}

// constInts makes a 1-D i64 constant.
func (c *ctx) constInts(xs []int64) *ir.Value {
	d := make([]float64, len(xs))
	for i, x := range xs {
		d[i] = float64(x)
	}
	return c.constant(&interp.Tensor{DType: ir.I64, Shape: []int{len(xs)}, Data: d})
}

func (c *ctx) add(a, b *ir.Value) *ir.Value { return c.op(ir.OpAdd, nil, a, b) }
func (c *ctx) sub(a, b *ir.Value) *ir.Value { return c.op(ir.OpSub, nil, a, b) }
func (c *ctx) mul(a, b *ir.Value) *ir.Value { return c.op(ir.OpMul, nil, a, b) }
func (c *ctx) div(a, b *ir.Value) *ir.Value { return c.op(ir.OpDiv, nil, a, b) }
func (c *ctx) un(op string, a *ir.Value) *ir.Value {
	return c.op(op, nil, a)
}
func (c *ctx) sel(cond, a, b *ir.Value) *ir.Value { return c.op(ir.OpSelect, nil, cond, a, b) }

// like returns a scalar constant of x's dtype.
func (c *ctx) like(x *ir.Value, v float64) *ir.Value { return c.scalar(x.Type.DType, v) }

func (c *ctx) cast(x *ir.Value, dt ir.DType) *ir.Value {
	if x.Type.DType == dt {
		return x
	}
	return c.op(ir.OpCast, ir.Attrs{"to": dt}, x)
}

func (c *ctx) reshape(x *ir.Value, s ir.Shape) *ir.Value {
	if x.Type.Shape.Equal(s) {
		return x
	}
	return c.op(ir.OpReshape, ir.Attrs{"shape": s.Clone()}, x)
}

func (c *ctx) transpose(x *ir.Value, perm []int64) *ir.Value {
	id := true
	for i, p := range perm {
		id = id && p == int64(i)
	}
	if id {
		return x
	}
	return c.op(ir.OpTranspose, ir.Attrs{"perm": perm}, x)
}

func (c *ctx) broadcast(x *ir.Value, s ir.Shape) *ir.Value {
	if x.Type.Shape.Equal(s) {
		return x
	}
	return c.op(ir.OpBroadcast, ir.Attrs{"shape": s.Clone()}, x)
}

func (c *ctx) reduce(op string, x *ir.Value, axes []int64, keep bool) *ir.Value {
	return c.op(op, ir.Attrs{"axes": axes, "keepdims": keep}, x)
}

// abs and clamp use only the base table's ops (select, compare, neg), so
// decompositions built on them work in every build.
func (c *ctx) abs(x *ir.Value) *ir.Value {
	return c.sel(c.op(ir.OpLess, nil, x, c.like(x, 0)), c.un(ir.OpNeg, x), x)
}

// maxv / minv: NaN in x propagates (the comparison is false).
func (c *ctx) maxv(x, y *ir.Value) *ir.Value { return c.sel(c.op(ir.OpLess, nil, x, y), y, x) }
func (c *ctx) minv(x, y *ir.Value) *ir.Value { return c.sel(c.op(ir.OpGreater, nil, x, y), y, x) }

// static returns x's dims when they are all constants.
func static(x *ir.Value) ([]int64, error) {
	out := make([]int64, len(x.Type.Shape))
	for i, d := range x.Type.Shape {
		if !d.IsConst() {
			return nil, fmt.Errorf("operand shape %s has a symbolic dim where this op needs constant ones", x.Type.Shape)
		}
		out[i] = d.Size
	}
	return out, nil
}

// normAxis normalises axis for rank r.
func normAxis(axis int64, r int) (int64, error) {
	if axis < -int64(r) || axis >= int64(r) {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, r)
	}
	if axis < 0 {
		axis += int64(r)
	}
	return axis, nil
}

func rank(x *ir.Value) int { return len(x.Type.Shape) }

// iota64 returns 0..n-1.
func iota64(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i)
	}
	return out
}

// prodDims multiplies dims (constant or symbolic) into one dim: the
// product when all are constant; a single symbolic dim times ones is kept.
func prodDims(s ir.Shape) (ir.Dim, error) {
	n, syms := s.NumElements()
	switch {
	case len(syms) == 0:
		return ir.C(n), nil
	case len(syms) == 1 && n == 1:
		return ir.S(syms[0]), nil
	}
	return ir.Dim{}, fmt.Errorf("cannot flatten %s into one dim: it has symbolic dims", s)
}

// f32 rounds x as ONNX float attributes are stored.
func f32(x float64) float64 { return float64(float32(x)) }

var _ = math.Inf

type onnxAttr = onnxpb.AttributeProto

const onnxTensorAttr = onnxpb.AttributeProto_TENSOR

// NeedsConstantError says that a node needs an input as a constant that
// the graph computes from its inputs; onnx-test binds the test data's
// values (Options.Bind) to such inputs and imports again.
type NeedsConstantError struct {
	Input int
	What  string
}

func (e *NeedsConstantError) Error() string {
	return fmt.Sprintf("input %d (%s) must be a constant or computed from constants (it is computed from the graph's inputs)", e.Input, e.What)
}

// evalBound evaluates v, which the graph computes from its inputs, with the
// values Options.Bind gives them; nil when an input it needs is not bound.
func (c *ctx) evalBound(v *ir.Value) (*interp.Tensor, error) {
	var inputs []*interp.Tensor
	for _, p := range c.b.Fn.Params {
		t := c.bind[p.Name]
		if t == nil {
			return nil, nil
		}
		if t.DType != p.Type.DType || len(t.Shape) != len(p.Type.Shape) {
			return nil, fmt.Errorf("the value bound to graph input %q is %s%v, the input is %s", p.Name, t.DType, t.Shape, p.Type)
		}
		inputs = append(inputs, t)
	}
	f := &ir.Func{Name: "bound", Params: c.b.Fn.Params, Body: c.b.Fn.Body, Results: []*ir.Value{v}}
	m := &ir.Module{Name: "bound", Weights: c.b.Mod.Weights, Funcs: []*ir.Func{f}}
	weights := map[string]*interp.Tensor{}
	for _, w := range m.Weights {
		shape, err := w.Type.Shape.Resolve(nil)
		if err != nil {
			return nil, err
		}
		weights[w.Name] = &interp.Tensor{DType: w.Type.DType, Shape: shape, Data: w.Data}
	}
	res, _, err := interp.Run(m, "bound", inputs, weights)
	if err != nil {
		return nil, err
	}
	return res[0], nil
}
