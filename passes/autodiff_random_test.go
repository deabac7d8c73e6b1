package passes

import "github.com/dlc-project/dlc/ir"

func init() {
	rgNotGenerated[ir.OpDropoutMask] = "random: needs a step counter operand and makes graphs whose values jump " +
		"with the seed; frontend's dropout tests and codegen/golang/testdata/dropout_train.ir cover it"
	// Dropout as the frontend traces it: x times its mask. The mask is a
	// constant of the step, so the gradient is g·mask.
	gradCases = append(gradCases, gradCase{name: "dropout_chain", op: "", params: []ir.Shape{sh(3, 5)},
		build: func(b *ir.Builder, p []*ir.Value) *ir.Value {
			mask := b.Op(ir.OpDropoutMask, ir.Attrs{"rate": 0.4, "seed": int64(7)}, p[0], b.Scalar(ir.F32, 3))
			return b.Mul(p[0], mask)
		}})
}
