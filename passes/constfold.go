package passes

import (
	"fmt"

	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
)

// maxFoldElements bounds the size of a folded constant: a fold that would
// print megabytes of numbers into the IR is not worth it.
const maxFoldElements = 1 << 16

// ConstFold replaces every node whose operands are all constants (and whose
// type is static) by a constant holding its value, computed by ir/interp so
// that folding means exactly what evaluation means.
func ConstFold(m *ir.Module, _ *Config) error {
	for _, f := range m.Funcs {
		for i, v := range f.Body {
			if len(v.Args) == 0 || v.Type.IsTuple() || !v.Type.Shape.IsStatic() {
				continue
			}
			n, _ := v.Type.Shape.NumElements()
			if n > maxFoldElements {
				continue
			}
			all := true
			args := make([]*interp.Tensor, len(v.Args))
			for j, a := range v.Args {
				if a.Op != ir.OpConstant || !a.Type.Shape.IsStatic() {
					all = false
					break
				}
				t, err := constTensor(a)
				if err != nil {
					return err
				}
				args[j] = t
			}
			if !all {
				continue
			}
			kernel, ok := interp.Kernels[v.Op]
			if !ok {
				continue
			}
			res, err := kernel(v, args, &interp.Env{Syms: map[string]int{}})
			if err != nil {
				return fmt.Errorf("constfold: @%s %%%d = %s: %w", f.Name, i, v.Op, err)
			}
			c := &ir.Value{Op: ir.OpConstant, Attrs: ir.Attrs{"value": splatOrAll(res.Data)}, Type: v.Type}
			f.Body[i] = c
			f.ReplaceUses(v, c)
		}
	}
	return nil
}

// splatOrAll stores a constant whose elements are all equal as one value.
func splatOrAll(data []float64) []float64 {
	if len(data) == 0 {
		return []float64{}
	}
	for _, x := range data[1:] {
		if x != data[0] && !(x != x && data[0] != data[0]) {
			return append([]float64(nil), data...)
		}
	}
	return []float64{data[0]}
}

// constTensor returns the value of a constant node of static shape as the
// interpreter computes it: its constant kernel rounds the attribute's
// values to the dtype (a constant f32[] {value=[0.1]} is float32(0.1)), so
// an op folded over constants sees exactly the operands it sees when run.
func constTensor(v *ir.Value) (*interp.Tensor, error) {
	return interp.Kernels[ir.OpConstant](v, nil, &interp.Env{Syms: map[string]int{}})
}
