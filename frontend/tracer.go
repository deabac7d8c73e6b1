// Package frontend turns models into IR. The Tracer is the Go API: symbolic
// tensors whose every method call records a node. The model.json loader,
// the Keras loader and the layers are clients of the tracer.
package frontend

import (
	"fmt"

	"github.com/dlc-project/dlc/ir"
)

// Tracer records the ops called on its tensors into one function of a
// module. Errors (a shape mismatch, say) are kept and reported by Err, with
// the scope (layer name) that was active, so that model code can call ops
// freely and check once.
type Tracer struct {
	b     *ir.Builder
	scope string
	err   error
}

// Tensor is a symbolic tensor: a value of the function being traced.
type Tensor struct {
	V *ir.Value
	t *Tracer
}

// NewTracer starts tracing a new function fn of module m.
func NewTracer(m *ir.Module, fn string) *Tracer {
	return &Tracer{b: ir.NewFunc(m, fn)}
}

// Module returns the module being built.
func (t *Tracer) Module() *ir.Module { return t.b.Mod }

// Func returns the function being traced.
func (t *Tracer) Func() *ir.Func { return t.b.Fn }

// Scope sets the name prefixed to errors (a layer name) until the next call.
func (t *Tracer) Scope(name string) { t.scope = name }

// Err returns the first error met while tracing.
func (t *Tracer) Err() error {
	if t.err != nil {
		return t.err
	}
	return t.b.Err()
}

func (t *Tracer) wrap(v *ir.Value) Tensor {
	if err := t.b.Err(); err != nil && t.err == nil {
		if t.scope != "" {
			t.err = fmt.Errorf("layer %q: %w", t.scope, err)
		} else {
			t.err = err
		}
	}
	return Tensor{V: v, t: t}
}

// Input adds a parameter of the traced function.
func (t *Tracer) Input(name string, ty ir.Type) Tensor { return t.wrap(t.b.Param(name, ty)) }

// Weight reads module weight name, adding it first when the module does
// not have it yet (a second call with the same name reuses it, which is how
// predict and train_step share parameters).
func (t *Tracer) Weight(name string, ty ir.Type, trainable bool, init ir.Attrs) Tensor {
	m := t.b.Mod
	if w := m.Weight(name); w != nil {
		if !w.Type.Equal(ty) {
			t.b.Fail(fmt.Errorf("weight %q declared as %s and as %s", name, w.Type, ty))
		}
	} else {
		_ = m.AddWeight(&ir.Weight{Name: name, Type: ty, Trainable: trainable, Init: init})
	}
	return t.wrap(t.b.Weight(name))
}

// Const adds a constant of type ty (row-major values, or one value to splat).
func (t *Tracer) Const(ty ir.Type, vals ...float64) Tensor { return t.wrap(t.b.Const(ty, vals...)) }

// Scalar adds a rank-0 constant of dtype dt.
func (t *Tracer) Scalar(dt ir.DType, v float64) Tensor { return t.wrap(t.b.Scalar(dt, v)) }

// Return sets the traced function's named results.
func (t *Tracer) Return(names []string, results ...Tensor) {
	vs := make([]*ir.Value, len(results))
	for i, r := range results {
		vs[i] = r.V
	}
	t.b.Return(names, vs...)
}

// Op records a node of any op in the table.
func (t *Tracer) Op(op string, attrs ir.Attrs, args ...Tensor) Tensor {
	vs := make([]*ir.Value, len(args))
	for i, a := range args {
		vs[i] = a.V
	}
	return t.wrap(t.b.Op(op, attrs, vs...))
}

// Type returns the tensor's type.
func (x Tensor) Type() ir.Type { return x.V.Type }

// Shape returns the tensor's shape.
func (x Tensor) Shape() ir.Shape { return x.V.Type.Shape }

func (x Tensor) un(op string) Tensor            { return x.t.Op(op, nil, x) }
func (x Tensor) bin(op string, y Tensor) Tensor { return x.t.Op(op, nil, x, y) }

// Add returns x + y (broadcasting).
func (x Tensor) Add(y Tensor) Tensor { return x.bin(ir.OpAdd, y) }

// Sub returns x - y (broadcasting).
func (x Tensor) Sub(y Tensor) Tensor { return x.bin(ir.OpSub, y) }

// Mul returns x * y (broadcasting).
func (x Tensor) Mul(y Tensor) Tensor { return x.bin(ir.OpMul, y) }

// Div returns x / y (broadcasting).
func (x Tensor) Div(y Tensor) Tensor { return x.bin(ir.OpDiv, y) }

// Greater returns x > y as bool.
func (x Tensor) Greater(y Tensor) Tensor { return x.bin(ir.OpGreater, y) }

// Neg returns -x.
func (x Tensor) Neg() Tensor { return x.un(ir.OpNeg) }

// Exp returns e^x.
func (x Tensor) Exp() Tensor { return x.un(ir.OpExp) }

// Log returns ln x.
func (x Tensor) Log() Tensor { return x.un(ir.OpLog) }

// Sqrt returns the square root of x.
func (x Tensor) Sqrt() Tensor { return x.un(ir.OpSqrt) }

// Relu returns max(x, 0).
func (x Tensor) Relu() Tensor { return x.un(ir.OpRelu) }

// Sigmoid returns 1/(1+e^-x).
func (x Tensor) Sigmoid() Tensor { return x.un(ir.OpSigmoid) }

// Tanh returns tanh x.
func (x Tensor) Tanh() Tensor { return x.un(ir.OpTanh) }

// MatMul returns x @ y over the last two dims.
func (x Tensor) MatMul(y Tensor) Tensor { return x.bin(ir.OpMatMul, y) }

// Softmax normalises along axis.
func (x Tensor) Softmax(axis int) Tensor {
	return x.t.Op(ir.OpSoftmax, ir.Attrs{"axis": int64(axis)}, x)
}

// LogSoftmax returns log(softmax(x)) along axis, computed stably.
func (x Tensor) LogSoftmax(axis int) Tensor {
	return x.t.Op(ir.OpLogSoftmax, ir.Attrs{"axis": int64(axis)}, x)
}

func (x Tensor) reduce(op string, keepdims bool, axes []int) Tensor {
	ax := make([]int64, len(axes))
	for i, a := range axes {
		ax[i] = int64(a)
	}
	return x.t.Op(op, ir.Attrs{"axes": ax, "keepdims": keepdims}, x)
}

// Sum sums over axes.
func (x Tensor) Sum(keepdims bool, axes ...int) Tensor {
	return x.reduce(ir.OpReduceSum, keepdims, axes)
}

// Mean averages over axes.
func (x Tensor) Mean(keepdims bool, axes ...int) Tensor {
	return x.reduce(ir.OpReduceMean, keepdims, axes)
}

// Max takes the maximum over axes.
func (x Tensor) Max(keepdims bool, axes ...int) Tensor {
	return x.reduce(ir.OpReduceMax, keepdims, axes)
}

// Reshape gives x a new shape with the same elements.
func (x Tensor) Reshape(s ir.Shape) Tensor {
	return x.t.Op(ir.OpReshape, ir.Attrs{"shape": s.Clone()}, x)
}

// Transpose permutes the dims of x.
func (x Tensor) Transpose(perm ...int64) Tensor {
	return x.t.Op(ir.OpTranspose, ir.Attrs{"perm": append([]int64(nil), perm...)}, x)
}

// Cast converts x to dtype dt.
func (x Tensor) Cast(dt ir.DType) Tensor { return x.t.Op(ir.OpCast, ir.Attrs{"to": dt}, x) }

// ScalarLike returns a rank-0 constant of x's dtype.
func (x Tensor) ScalarLike(v float64) Tensor { return x.t.Scalar(x.V.Type.DType, v) }
