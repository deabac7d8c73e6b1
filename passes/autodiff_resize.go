package passes

import "github.com/dlc-project/dlc/ir"

// resize is linear in its operand for every mode (nearest, linear and
// cubic are fixed weightings of taps), so its gradient is its adjoint,
// resize_grad, and resize_grad's is resize.
func init() {
	GradRules[ir.OpResize] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		a := v.Attrs.Clone()
		a["shape"] = v.Args[0].Type.Shape.Clone()
		return []*ir.Value{b.Op(ir.OpResizeGrad, a, g)}
	}
	GradRules[ir.OpResizeGrad] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		a := v.Attrs.Clone()
		a["shape"] = v.Args[0].Type.Shape.Clone()
		return []*ir.Value{b.Op(ir.OpResize, a, g)}
	}
}
