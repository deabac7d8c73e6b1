package frontend_test

import (
	"fmt"

	"github.com/dlc-project/dlc/frontend"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
)

// Clipping to [-1, 1] and an exact GELU, 0.5·x·(1 + erf(x/√2)), traced with
// the elementwise ops and run by the interpreter.
func ExampleTensor_Erf() {
	m := &ir.Module{Name: "m"}
	t := frontend.NewTracer(m, "f")
	x := t.Input("x", ir.TensorOf(ir.F64, ir.C(4)))
	one := x.ScalarLike(1)
	clip := x.Minimum(one).Maximum(x.ScalarLike(-1))
	gelu := x.Mul(x.ScalarLike(0.5)).Mul(one.Add(x.Mul(x.ScalarLike(0.7071067811865476)).Erf()))
	t.Return(nil, clip, gelu, x.Mod(x.ScalarLike(1.5), false))
	if err := t.Err(); err != nil {
		fmt.Println(err)
		return
	}
	in := interp.New(ir.F64, []int{4}, []float64{-2, -0.5, 0.5, 2})
	res, _, err := interp.Run(m, "f", []*interp.Tensor{in}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res {
		fmt.Printf("%.4f\n", r.Data)
	}
	// Output:
	// [-1.0000 -0.5000 0.5000 1.0000]
	// [-0.0455 -0.1543 0.3457 1.9545]
	// [1.0000 1.0000 0.5000 0.5000]
}
