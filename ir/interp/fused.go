package interp

import (
	"errors"
	"fmt"

	"github.com/dlc-project/dlc/ir"
)

func init() {
	Kernels[ir.OpFused] = fusedKernel
	Kernels[ir.OpExtract] = extractKernel
}

// fusedKernel evaluates a fused node by evaluating its region on the
// operands: fusion changes how a graph runs, never what it computes.
func fusedKernel(v *ir.Value, args []*Tensor, env *Env) (*Tensor, error) {
	if v == nil || env == nil || env.Module == nil {
		return nil, errors.New("a fused node needs the module (run it through Run)")
	}
	name := v.Attrs.String("region", "")
	r := env.Module.Func(name)
	if r == nil || !r.Region {
		return nil, fmt.Errorf("region @%s is not defined", name)
	}
	if len(args) != len(r.Params) {
		return nil, fmt.Errorf("region @%s takes %d operands, given %d", name, len(r.Params), len(args))
	}
	for i, a := range args {
		if a == nil || a.Elems != nil {
			return nil, fmt.Errorf("operand %d is not a tensor", i)
		}
	}
	vals, err := evalBody(r, args, env)
	if err != nil {
		return nil, fmt.Errorf("in region @%s: %w", name, err)
	}
	if len(r.Results) == 1 {
		return vals[r.Results[0]], nil
	}
	out := &Tensor{Elems: make([]*Tensor, len(r.Results))}
	for i, res := range r.Results {
		out.Elems[i] = vals[res]
	}
	return out, nil
}

func extractKernel(v *ir.Value, args []*Tensor, _ *Env) (*Tensor, error) {
	if v == nil || len(args) != 1 || args[0] == nil || args[0].Elems == nil {
		return nil, errors.New("extract needs one tuple operand")
	}
	i := v.Attrs.Int("index", -1)
	if i < 0 || i >= int64(len(args[0].Elems)) {
		return nil, fmt.Errorf("index %d out of range for a tuple of %d", i, len(args[0].Elems))
	}
	return args[0].Elems[i], nil
}
