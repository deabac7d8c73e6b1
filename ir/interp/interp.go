// Package interp is dlc's reference interpreter: it evaluates IR directly,
// one node at a time, with naive kernels computed in float64. It is the
// oracle that every pass and every backend is tested against, so each kernel
// is written to be obviously correct (the textbook loop over row-major
// indices) rather than fast.
//
// Results mirror the dtypes of the IR: after every node of dtype F32 each
// element is rounded to float32, so that a chain of ops gives what float32
// arithmetic with one correctly rounded result per op gives (a backend that
// accumulates a matmul or a sum in float32 still differs in the last bits;
// tests compare with a tolerance). F64 stays exact; integer results are
// truncated toward zero and wrap around at their width as Go's integers
// do; bool is 0 or 1.
package interp

import (
	"errors"
	"fmt"

	"github.com/dlc-project/dlc/ir"
)

// Env is what a kernel may see besides its operands.
type Env struct {
	// Syms holds the size of each symbolic dim (such as the batch N), bound
	// from the shapes of a function's inputs.
	Syms map[string]int
	// Weights is the module state, by weight name, as it was when the
	// function was entered.
	Weights map[string]*Tensor
	// Module is the module being run, for fused nodes to find their region.
	Module *ir.Module
}

// Run evaluates function fn of module m on inputs, reading the module state
// from weights. It returns the function's results and, by weight name, the
// values its updates give the state. weights is not modified (every weight
// read sees the state as it was on entry, however the function updates it),
// and no returned tensor shares memory with an input or a weight.
//
// The function is verified first. Each input must match its parameter's
// dtype, rank and constant dims; symbolic dims take their sizes from the
// first input that has them and must agree wherever they recur. F32 inputs
// are rounded to float32; integer inputs must hold whole values in their
// dtype's range, and bool inputs 0 or 1. An error from a node names it as the printer does:
// "func @f: %3 = matmul: ...".
func Run(m *ir.Module, fn string, inputs []*Tensor, weights map[string]*Tensor) (results []*Tensor, updates map[string]*Tensor, err error) {
	if m == nil {
		return nil, nil, errors.New("interp.Run: nil module")
	}
	// The verifier and Module's lookups assume no nil entries; a nil would
	// make them panic rather than report.
	for i, w := range m.Weights {
		if w == nil {
			return nil, nil, fmt.Errorf("module %q: weight %d is nil", m.Name, i)
		}
	}
	for i, f := range m.Funcs {
		if f == nil {
			return nil, nil, fmt.Errorf("module %q: function %d is nil", m.Name, i)
		}
	}
	f := m.Func(fn)
	if f == nil {
		return nil, nil, fmt.Errorf("module %q has no function @%s", m.Name, fn)
	}
	for i, p := range f.Params {
		if p == nil {
			return nil, nil, fmt.Errorf("func @%s: parameter %d is nil", f.Name, i)
		}
	}
	for i, v := range f.Body {
		if v == nil {
			return nil, nil, fmt.Errorf("func @%s: node %%%d is nil", f.Name, i)
		}
		for j, a := range v.Args {
			if a == nil {
				return nil, nil, fmt.Errorf("func @%s: %%%d = %s: operand %d is nil", f.Name, i, v.Op, j)
			}
		}
	}
	if err := ir.VerifyFunc(m, f); err != nil {
		return nil, nil, err
	}
	if len(inputs) != len(f.Params) {
		return nil, nil, fmt.Errorf("func @%s takes %d inputs, given %d", f.Name, len(f.Params), len(inputs))
	}
	env := &Env{Syms: map[string]int{}, Weights: weights, Module: m}
	boundBy := map[string]string{} // symbol -> where its size came from
	args := make([]*Tensor, len(f.Params))
	for i, p := range f.Params {
		t, err := bindInput(i, p, inputs[i], env.Syms, boundBy)
		if err != nil {
			return nil, nil, fmt.Errorf("func @%s: %v", f.Name, err)
		}
		args[i] = t
	}
	vals, err := evalBody(f, args, env)
	if err != nil {
		return nil, nil, err
	}
	// Results and updates are copies: two of them may be the same value,
	// or a parameter, and the caller may modify one without the other.
	results = make([]*Tensor, len(f.Results))
	for i, r := range f.Results {
		results[i] = vals[r].Clone()
	}
	updates = make(map[string]*Tensor, len(f.Updates))
	for _, u := range f.Updates {
		updates[u.Weight] = vals[u.Value].Clone()
	}
	return results, updates, nil
}

// evalBody evaluates f's body on parameter values args, returning every
// value's tensor.
func evalBody(f *ir.Func, args []*Tensor, env *Env) (map[*ir.Value]*Tensor, error) {
	vals := make(map[*ir.Value]*Tensor, len(f.Params)+len(f.Body))
	for i, p := range f.Params {
		vals[p] = args[i]
	}
	for i, v := range f.Body {
		args := make([]*Tensor, len(v.Args))
		for j, a := range v.Args {
			args[j] = vals[a] // present: the verifier checked the order
		}
		k, ok := Kernels[v.Op]
		if !ok {
			return nil, fmt.Errorf("func @%s: %%%d = %s: no kernel for this op", f.Name, i, v.Op)
		}
		out, err := k(v, args, env)
		if err != nil {
			return nil, fmt.Errorf("func @%s: %%%d = %s: %w", f.Name, i, v.Op, err)
		}
		vals[v] = out
	}
	return vals, nil
}

// bindInput checks input i against parameter p, binding p's symbolic dims
// in syms, and returns the input as the function sees it: a copy rounded to
// p's dtype.
func bindInput(i int, p *ir.Value, t *Tensor, syms map[string]int, boundBy map[string]string) (*Tensor, error) {
	where := fmt.Sprintf("input %d (%%%s: %s)", i, p.Name, p.Type)
	if t == nil {
		return nil, fmt.Errorf("%s: nil tensor", where)
	}
	if err := t.check(); err != nil {
		return nil, fmt.Errorf("%s: %v", where, err)
	}
	if t.DType != p.Type.DType {
		return nil, fmt.Errorf("%s: dtype is %s, want %s", where, t.DType, p.Type.DType)
	}
	if len(t.Shape) != len(p.Type.Shape) {
		return nil, fmt.Errorf("%s: shape is %s, want rank %d", where, fmtShape(t.Shape), len(p.Type.Shape))
	}
	for j, d := range p.Type.Shape {
		got := t.Shape[j]
		switch {
		case d.IsConst():
			if int64(got) != d.Size {
				return nil, fmt.Errorf("%s: dim %d is %d, want %d", where, j, got, d.Size)
			}
		default:
			if n, ok := syms[d.Sym]; ok {
				if n != got {
					return nil, fmt.Errorf("%s: dim %d is %d, but %s = %d (from %s)", where, j, got, d.Sym, n, boundBy[d.Sym])
				}
				continue
			}
			syms[d.Sym] = got
			boundBy[d.Sym] = fmt.Sprintf("dim %d of input %d", j, i)
		}
	}
	if err := checkValues(t.DType, t.Data); err != nil {
		return nil, fmt.Errorf("%s: %v", where, err)
	}
	c := t.Clone()
	if err := normalize(c.DType, c.Data); err != nil {
		return nil, fmt.Errorf("%s: %v", where, err)
	}
	return c, nil
}

// Machine holds a module and its state, so that training steps can be run
// one after another: each Run sees the weights the previous one left.
type Machine struct {
	Module  *ir.Module
	Weights map[string]*Tensor
}

// Run evaluates function fn on inputs with the machine's weights, then
// replaces the weights the function updates (a training step). On error the
// weights are left as they were.
func (mc *Machine) Run(fn string, inputs ...*Tensor) ([]*Tensor, error) {
	if mc == nil {
		return nil, errors.New("interp: Run on a nil Machine")
	}
	results, updates, err := Run(mc.Module, fn, inputs, mc.Weights)
	if err != nil {
		return nil, err
	}
	if mc.Weights == nil {
		mc.Weights = map[string]*Tensor{}
	}
	for name, t := range updates {
		mc.Weights[name] = t
	}
	return results, nil
}
