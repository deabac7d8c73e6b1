package passes

import "github.com/dlc-project/dlc/ir"

// minimum and maximum commute to the bit, signed zeros included (Go's min
// and max, and so the interpreter's and the generated code's, order -0
// below +0 and give NaN for any NaN operand), as do the logical ops.
func init() {
	for _, op := range []string{ir.OpMinimum, ir.OpMaximum, ir.OpAnd, ir.OpOr, ir.OpXor} {
		cseCommutative[op] = true
	}
}
