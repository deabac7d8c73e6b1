package passes

import (
	"math/rand/v2"

	"github.com/dlc-project/dlc/ir"
)

// elemUniform draws inputs in [lo, hi], for every parameter.
func elemUniform(lo, hi float64) func(r *rand.Rand, p int) float64 {
	return func(r *rand.Rand, _ int) float64 { return lo + (hi-lo)*r.Float64() }
}

// elemModInputs keeps a/b within ±[2.09, 2.7], away from the integers where
// mod jumps: a in ±[2.3, 2.7], b in ±[1, 1.1].
func elemModInputs(r *rand.Rand, p int) float64 {
	s := float64(1 - 2*r.IntN(2))
	if p == 0 {
		return s * (2.3 + 0.4*r.Float64())
	}
	return s * (1 + 0.1*r.Float64())
}

// Finite-difference cases of the rules of autodiff_elem.go.
func init() {
	gradCases = append(gradCases,
		gradCase{name: "abs", op: ir.OpAbs, params: []ir.Shape{sh(2, 3)}, build: unary(ir.OpAbs)},
		gradCase{name: "erf", op: ir.OpErf, params: []ir.Shape{sh(2, 3)}, build: unary(ir.OpErf)},
		gradCase{name: "tan", op: ir.OpTan, params: []ir.Shape{sh(2, 3)}, build: unary(ir.OpTan)},
		gradCase{name: "asin", op: ir.OpAsin, params: []ir.Shape{sh(2, 3)}, input: elemUniform(-0.9, 0.9), build: unary(ir.OpAsin)},
		gradCase{name: "acos", op: ir.OpAcos, params: []ir.Shape{sh(2, 3)}, input: elemUniform(-0.9, 0.9), build: unary(ir.OpAcos)},
		gradCase{name: "atan", op: ir.OpAtan, params: []ir.Shape{sh(2, 3)}, build: unary(ir.OpAtan)},
		gradCase{name: "sinh", op: ir.OpSinh, params: []ir.Shape{sh(2, 3)}, build: unary(ir.OpSinh)},
		gradCase{name: "cosh", op: ir.OpCosh, params: []ir.Shape{sh(2, 3)}, build: unary(ir.OpCosh)},
		gradCase{name: "asinh", op: ir.OpAsinh, params: []ir.Shape{sh(2, 3)}, build: unary(ir.OpAsinh)},
		gradCase{name: "acosh", op: ir.OpAcosh, params: []ir.Shape{sh(2, 3)}, input: elemUniform(1.2, 3), build: unary(ir.OpAcosh)},
		gradCase{name: "atanh", op: ir.OpAtanh, params: []ir.Shape{sh(2, 3)}, input: elemUniform(-0.9, 0.9), build: unary(ir.OpAtanh)},
		gradCase{name: "reciprocal", op: ir.OpReciprocal, params: []ir.Shape{sh(2, 3)}, build: unary(ir.OpReciprocal)},
		gradCase{name: "pow", op: ir.OpPow, params: []ir.Shape{sh(2, 3), sh(2, 3)}, build: binary(ir.OpPow),
			input: func(r *rand.Rand, p int) float64 {
				if p == 0 {
					return 0.5 + 1.5*r.Float64() // ln a needs a > 0
				}
				return 4*r.Float64() - 2
			}},
		gradCase{name: "pow_bcast", op: ir.OpPow, params: []ir.Shape{sh(2, 3), sh(3)}, positive: true, build: binary(ir.OpPow)},
		// A negative base with an integral exponent: da only (the exponent is
		// a constant, as in x³).
		gradCase{name: "pow_negative_base", op: ir.OpPow, params: []ir.Shape{sh(2, 3)}, build: func(b *ir.Builder, p []*ir.Value) *ir.Value {
			return b.Op(ir.OpPow, nil, p[0], b.Const(ir.TensorOf(ir.F64, ir.C(3)), 3, 2, -1))
		}},
		gradCase{name: "minimum", op: ir.OpMinimum, params: []ir.Shape{sh(2, 3), sh(2, 3)}, build: binary(ir.OpMinimum)},
		gradCase{name: "minimum_bcast", op: ir.OpMinimum, params: []ir.Shape{sh(2, 3), sh(3)}, build: binary(ir.OpMinimum)},
		gradCase{name: "maximum", op: ir.OpMaximum, params: []ir.Shape{sh(2, 3), sh(2, 1)}, build: binary(ir.OpMaximum)},
		// Ties split the gradient in halves, so max(x, x) = x has gradient 1.
		gradCase{name: "maximum_tie", op: ir.OpMaximum, params: []ir.Shape{sh(2, 3)}, build: func(b *ir.Builder, p []*ir.Value) *ir.Value {
			return b.Op(ir.OpMaximum, nil, p[0], p[0])
		}},
		gradCase{name: "minimum_tie", op: ir.OpMinimum, params: []ir.Shape{sh(2, 3)}, build: func(b *ir.Builder, p []*ir.Value) *ir.Value {
			return b.Op(ir.OpMinimum, nil, p[0], p[0])
		}},
		gradCase{name: "mod", op: ir.OpMod, params: []ir.Shape{sh(2, 3), sh(2, 3)}, input: elemModInputs, build: binary(ir.OpMod)},
		gradCase{name: "mod_fmod", op: ir.OpMod, params: []ir.Shape{sh(2, 3), sh(3)}, input: elemModInputs,
			build: withAttrs(ir.OpMod, ir.Attrs{"fmod": true})},
	)
}
