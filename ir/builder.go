package ir

import "fmt"

// Builder appends nodes to a function, inferring each node's type. It is the
// one low-level way nodes are made (the frontend's tracer, the parser and
// the passes all go through it). The first error is kept and later calls
// become no-ops returning a placeholder, so that code building a graph can
// check Err once at the end.
type Builder struct {
	Mod *Module
	Fn  *Func
	err error
}

// NewFunc adds an empty function to m and returns a builder for it.
func NewFunc(m *Module, name string) *Builder {
	f := &Func{Name: name}
	m.Funcs = append(m.Funcs, f)
	return &Builder{Mod: m, Fn: f}
}

// BuilderFor returns a builder that appends to an existing function.
func BuilderFor(m *Module, f *Func) *Builder { return &Builder{Mod: m, Fn: f} }

// Err returns the first error met.
func (b *Builder) Err() error { return b.err }

// Fail records err unless an error is already recorded.
func (b *Builder) Fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

func (b *Builder) bad() *Value { return &Value{Op: "invalid"} }

// Param adds a function parameter.
func (b *Builder) Param(name string, t Type) *Value {
	v := &Value{Op: OpParam, Name: name, Type: t}
	b.Fn.Params = append(b.Fn.Params, v)
	return v
}

// Op appends a node of op with operands args and attributes attrs.
func (b *Builder) Op(op string, attrs Attrs, args ...*Value) *Value {
	return b.op(op, attrs, nil, args)
}

func (b *Builder) op(op string, attrs Attrs, declared *Type, args []*Value) *Value {
	if b.err != nil {
		return b.bad()
	}
	for _, a := range args {
		if a == nil || a.Op == "invalid" {
			b.Fail(fmt.Errorf("%s: operand is missing", op))
			return b.bad()
		}
	}
	t, err := InferType(op, args, attrs, declared)
	if err != nil {
		ts := make([]string, len(args))
		for i, a := range args {
			ts[i] = a.Type.String()
		}
		b.Fail(fmt.Errorf("%s %v: %v", op, ts, err))
		return b.bad()
	}
	v := &Value{Op: op, Args: append([]*Value(nil), args...), Attrs: attrs, Type: t}
	b.Fn.Body = append(b.Fn.Body, v)
	return v
}

// Declared appends a node whose type is declared rather than inferred
// (constant, weight).
func (b *Builder) Declared(op string, attrs Attrs, t Type, args ...*Value) *Value {
	return b.op(op, attrs, &t, args)
}

// Const appends a constant of type t holding vals (row-major), or one
// value splatted over t.
func (b *Builder) Const(t Type, vals ...float64) *Value {
	return b.Declared(OpConstant, Attrs{"value": append([]float64(nil), vals...)}, t)
}

// Scalar appends a rank-0 constant.
func (b *Builder) Scalar(dt DType, v float64) *Value {
	return b.Const(Type{DType: dt, Shape: Shape{}}, v)
}

// Weight appends a read of the module weight name.
func (b *Builder) Weight(name string) *Value {
	w := b.Mod.Weight(name)
	if w == nil {
		b.Fail(fmt.Errorf("weight %q is not defined", name))
		return b.bad()
	}
	return b.Declared(OpWeight, Attrs{"name": name}, Type{DType: w.Type.DType, Shape: w.Type.Shape.Clone()})
}

// Return sets the function's results.
func (b *Builder) Return(names []string, results ...*Value) {
	b.Fn.Results = results
	b.Fn.ResultNames = names
}

// Update records that the state named weight takes v when the function returns.
func (b *Builder) Update(weight string, v *Value) {
	b.Fn.Updates = append(b.Fn.Updates, Update{Weight: weight, Value: v})
}

// Binary helpers used throughout the passes and the frontend.

// Add returns x + y.
func (b *Builder) Add(x, y *Value) *Value { return b.Op(OpAdd, nil, x, y) }

// Sub returns x - y.
func (b *Builder) Sub(x, y *Value) *Value { return b.Op(OpSub, nil, x, y) }

// Mul returns x * y.
func (b *Builder) Mul(x, y *Value) *Value { return b.Op(OpMul, nil, x, y) }

// Div returns x / y.
func (b *Builder) Div(x, y *Value) *Value { return b.Op(OpDiv, nil, x, y) }

// Unary returns op(x).
func (b *Builder) Unary(op string, x *Value) *Value { return b.Op(op, nil, x) }

// ReduceSum sums x over axes.
func (b *Builder) ReduceSum(x *Value, axes []int64, keepdims bool) *Value {
	return b.Op(OpReduceSum, Attrs{"axes": axes, "keepdims": keepdims}, x)
}

// Reshape gives x shape s.
func (b *Builder) Reshape(x *Value, s Shape) *Value {
	return b.Op(OpReshape, Attrs{"shape": s.Clone()}, x)
}

// BroadcastTo broadcasts x to shape s.
func (b *Builder) BroadcastTo(x *Value, s Shape) *Value {
	return b.Op(OpBroadcast, Attrs{"shape": s.Clone()}, x)
}

// ScalarLike returns a rank-0 constant of x's dtype.
func (b *Builder) ScalarLike(x *Value, v float64) *Value { return b.Scalar(x.Type.DType, v) }
