package interp

import (
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/runtime"
)

// The reference kernel of dropout_mask. The mask is defined by runtime's
// counter-based generator (runtime/dropout.go), which the generated code
// calls too: the reference is the definition, element by element.
func init() {
	Kernels[ir.OpDropoutMask] = checked(ir.OpDropoutMask, dropoutMaskKernel)
}

func dropoutMaskKernel(v *ir.Value, args []*Tensor, _ *Env, shape []int) (*Tensor, error) {
	rate := v.Attrs.Float("rate", 0)
	key := runtime.DropoutKey(uint64(v.Attrs.Int("seed", 0)), float32(args[1].Data[0]))
	scale := 1 / (1 - rate) // rounded to the dtype by checked, as DropoutScale
	out := &Tensor{DType: v.Type.DType, Shape: shape, Data: make([]float64, len(args[0].Data))}
	for i := range out.Data {
		if runtime.DropoutUniform(key, uint64(i)) >= rate {
			out.Data[i] = scale
		}
	}
	return out, nil
}
