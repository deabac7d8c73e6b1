package passes

import "github.com/dlc-project/dlc/ir"

func init() {
	NotDifferentiable[ir.OpDropoutMask] = "random: depends on its operand's shape and the step counter only; " +
		"dropout's gradient flows through the product x·mask"
}
