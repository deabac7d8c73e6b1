package frontend_test

import (
	"fmt"
	"math"

	"github.com/dlc-project/dlc/frontend"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
)

// An embedding lookup, a slice written as ONNX writes it (negative
// start, an end past the dim), zero padding, argmax and top-2, traced and
// run by the interpreter.
func ExampleTensor_Gather() {
	m := &ir.Module{Name: "m"}
	t := frontend.NewTracer(m, "f")
	table := t.Input("table", ir.TensorOf(ir.F64, ir.C(4), ir.C(3)))
	ids := t.Const(ir.TensorOf(ir.I64, ir.C(2)), 3, -4)
	emb := table.Gather(0, ids)                                            // rows 3 and 0
	last2 := table.Slice([]int64{0, -2}, []int64{math.MaxInt64, 100}, nil) // the last two columns
	padded := last2.Pad([]int64{0, 1, 0, 0}, "constant", 0)
	best := table.ArgMax(1, false, false)
	top, where := table.TopK(0, 2, true, true)
	t.Return(nil, emb, padded, best.Cast(ir.F64), top, where.Cast(ir.F64))
	if err := t.Err(); err != nil {
		fmt.Println(err)
		return
	}
	in := interp.New(ir.F64, []int{4, 3}, []float64{1, 5, 2, 7, 0, 3, 4, 4, 9, 6, 8, 1})
	res, _, err := interp.Run(m, "f", []*interp.Tensor{in}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res {
		fmt.Println(r.Data)
	}
	// Output:
	// [6 8 1 1 5 2]
	// [0 5 2 0 0 3 0 4 9 0 8 1]
	// [1 0 2 1]
	// [7 8 9 6 5 3]
	// [1 3 2 3 0 1]
}
