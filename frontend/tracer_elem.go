package frontend

import "github.com/dlc-project/dlc/ir"

// Tracer methods for the ops of ir/ops_elem.go. Ops without a method here
// (tan, asinh, the logical ops, …) are one Tracer.Op call away.

// Abs returns |x|.
func (x Tensor) Abs() Tensor { return x.un(ir.OpAbs) }

// Sign returns -1, 0 or 1 by the sign of x.
func (x Tensor) Sign() Tensor { return x.un(ir.OpSign) }

// Erf returns the error function of x.
func (x Tensor) Erf() Tensor { return x.un(ir.OpErf) }

// Reciprocal returns 1/x.
func (x Tensor) Reciprocal() Tensor { return x.un(ir.OpReciprocal) }

// Pow returns x raised to y (broadcasting).
func (x Tensor) Pow(y Tensor) Tensor { return x.bin(ir.OpPow, y) }

// Minimum returns the elementwise smaller of x and y (broadcasting).
func (x Tensor) Minimum(y Tensor) Tensor { return x.bin(ir.OpMinimum, y) }

// Maximum returns the elementwise larger of x and y (broadcasting).
func (x Tensor) Maximum(y Tensor) Tensor { return x.bin(ir.OpMaximum, y) }

// Mod returns x mod y (broadcasting): with the sign of y (Python's %), or
// with fmod the sign of x (C fmod).
func (x Tensor) Mod(y Tensor, fmod bool) Tensor {
	return x.t.Op(ir.OpMod, ir.Attrs{"fmod": fmod}, x, y)
}
