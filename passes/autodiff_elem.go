package passes

import (
	"math"

	"github.com/dlc-project/dlc/ir"
)

// Gradient facts of the ops of ir/ops_elem.go. Rules follow PyTorch's
// derivatives.yaml where a choice exists (abs at 0, pow at 0, ties of
// minimum and maximum), so that a model trained here and there agrees.
func init() {
	nd := NotDifferentiable
	for _, op := range []string{ir.OpSign, ir.OpCeil, ir.OpRound} {
		nd[op] = "piecewise constant: zero gradient almost everywhere"
	}
	for _, op := range []string{ir.OpNot, ir.OpAnd, ir.OpOr, ir.OpXor} {
		nd[op] = "bool operands and result: nothing to differentiate"
	}
	for _, op := range []string{ir.OpIsNaN, ir.OpIsInf} {
		nd[op] = "a bool result, piecewise constant: zero gradient almost everywhere"
	}

	r := GradRules
	one := func(b *ir.Builder, x *ir.Value) *ir.Value { return b.ScalarLike(x, 1) }
	sq := func(b *ir.Builder, x *ir.Value) *ir.Value { return b.Mul(x, x) }
	// unaryRule makes a rule g ⊙ d(x, y) for y = op(x); floats only (an
	// integer abs has no gradient: a gradient is a float).
	unaryRule := func(d func(b *ir.Builder, x, y *ir.Value) *ir.Value) GradRule {
		return func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
			if !v.Type.DType.IsFloat() {
				return []*ir.Value{nil}
			}
			return []*ir.Value{b.Mul(g, d(b, v.Args[0], v))}
		}
	}
	// |x|' = sign(x), 0 at 0 as in PyTorch.
	r[ir.OpAbs] = unaryRule(func(b *ir.Builder, x, _ *ir.Value) *ir.Value { return b.Unary(ir.OpSign, x) })
	// erf' = 2/√π e^(-x²)
	r[ir.OpErf] = unaryRule(func(b *ir.Builder, x, _ *ir.Value) *ir.Value {
		return b.Mul(b.ScalarLike(x, 2/math.SqrtPi), b.Unary(ir.OpExp, b.Unary(ir.OpNeg, sq(b, x))))
	})
	// tan' = 1 + tan²
	r[ir.OpTan] = unaryRule(func(b *ir.Builder, _, y *ir.Value) *ir.Value { return b.Add(one(b, y), sq(b, y)) })
	// asin' = 1/√(1-x²), acos' = -1/√(1-x²)
	r[ir.OpAsin] = unaryRule(func(b *ir.Builder, x, _ *ir.Value) *ir.Value {
		return b.Unary(ir.OpReciprocal, b.Unary(ir.OpSqrt, b.Sub(one(b, x), sq(b, x))))
	})
	r[ir.OpAcos] = unaryRule(func(b *ir.Builder, x, _ *ir.Value) *ir.Value {
		return b.Unary(ir.OpNeg, b.Unary(ir.OpReciprocal, b.Unary(ir.OpSqrt, b.Sub(one(b, x), sq(b, x)))))
	})
	// atan' = 1/(1+x²)
	r[ir.OpAtan] = unaryRule(func(b *ir.Builder, x, _ *ir.Value) *ir.Value {
		return b.Unary(ir.OpReciprocal, b.Add(one(b, x), sq(b, x)))
	})
	// sinh' = cosh, cosh' = sinh
	r[ir.OpSinh] = unaryRule(func(b *ir.Builder, x, _ *ir.Value) *ir.Value { return b.Unary(ir.OpCosh, x) })
	r[ir.OpCosh] = unaryRule(func(b *ir.Builder, x, _ *ir.Value) *ir.Value { return b.Unary(ir.OpSinh, x) })
	// asinh' = 1/√(x²+1), acosh' = 1/√(x²-1), atanh' = 1/(1-x²)
	r[ir.OpAsinh] = unaryRule(func(b *ir.Builder, x, _ *ir.Value) *ir.Value {
		return b.Unary(ir.OpReciprocal, b.Unary(ir.OpSqrt, b.Add(sq(b, x), one(b, x))))
	})
	r[ir.OpAcosh] = unaryRule(func(b *ir.Builder, x, _ *ir.Value) *ir.Value {
		return b.Unary(ir.OpReciprocal, b.Unary(ir.OpSqrt, b.Sub(sq(b, x), one(b, x))))
	})
	r[ir.OpAtanh] = unaryRule(func(b *ir.Builder, x, _ *ir.Value) *ir.Value {
		return b.Unary(ir.OpReciprocal, b.Sub(one(b, x), sq(b, x)))
	})
	// (1/x)' = -1/x² = -y²
	r[ir.OpReciprocal] = unaryRule(func(b *ir.Builder, _, y *ir.Value) *ir.Value { return b.Unary(ir.OpNeg, sq(b, y)) })

	r[ir.OpPow] = gradPow
	r[ir.OpMinimum] = gradMinMax(ir.OpLess)
	r[ir.OpMaximum] = gradMinMax(ir.OpGreater)
	r[ir.OpMod] = gradMod
}

// gradPow: for y = a^b, da = g·b·a^(b-1) and db = g·y·ln a. As in PyTorch,
// da is 0 where b = 0 (a^0 is constant even at a = 0, where a^(b-1) is
// Inf) and db is 0 where a = 0 and b >= 0 (there ln a = -Inf meets y = 0);
// for a < 0, ln a is NaN and so is db.
func gradPow(b *ir.Builder, v, g *ir.Value) []*ir.Value {
	x, e := v.Args[0], v.Args[1]
	if !v.Type.DType.IsFloat() {
		return []*ir.Value{nil, nil}
	}
	zero := b.ScalarLike(v, 0)
	da := b.Mul(g, b.Mul(e, b.Op(ir.OpPow, nil, x, b.Sub(e, b.ScalarLike(e, 1)))))
	da = b.Op(ir.OpSelect, nil, b.Op(ir.OpEqual, nil, e, zero), zero, da)
	db := b.Mul(g, b.Mul(v, b.Unary(ir.OpLog, x)))
	at0 := b.Op(ir.OpAnd, nil, b.Op(ir.OpEqual, nil, x, zero), b.Op(ir.OpGreaterEqual, nil, e, zero))
	db = b.Op(ir.OpSelect, nil, at0, zero, db)
	return []*ir.Value{sumTo(b, da, x.Type.Shape), sumTo(b, db, e.Type.Shape)}
}

// gradMinMax routes g to the operand selected; a tie splits it in halves,
// as PyTorch does (so the sum over both is g, and minimum(x, x) has
// gradient g). where is less for minimum, greater for maximum: where
// compare(x, y) holds, x was selected. Where either is NaN (the result is
// NaN) both get g, again as PyTorch.
func gradMinMax(compare string) GradRule {
	return func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		x, y := v.Args[0], v.Args[1]
		if !v.Type.DType.IsFloat() {
			return []*ir.Value{nil, nil}
		}
		zero := zeroLike(b, g)
		tie := b.Op(ir.OpEqual, nil, x, y)
		half := b.Mul(g, b.ScalarLike(g, 0.5))
		// x lost where compare(y, x); y lost where compare(x, y).
		gx := b.Op(ir.OpSelect, nil, tie, half, b.Op(ir.OpSelect, nil, b.Op(compare, nil, y, x), zero, g))
		gy := b.Op(ir.OpSelect, nil, tie, half, b.Op(ir.OpSelect, nil, b.Op(compare, nil, x, y), zero, g))
		return []*ir.Value{sumTo(b, gx, x.Type.Shape), sumTo(b, gy, y.Type.Shape)}
	}
}

// gradMod: a mod b = a - q·b with q = trunc(a/b) (fmod) or floor(a/b)
// (Python), piecewise constant; so da = g and db = -g·q.
func gradMod(b *ir.Builder, v, g *ir.Value) []*ir.Value {
	x, y := v.Args[0], v.Args[1]
	if !v.Type.DType.IsFloat() {
		return []*ir.Value{nil, nil}
	}
	q := b.Div(x, y)
	if v.Attrs.Bool("fmod", false) {
		// trunc(q) = sign(q)·floor(|q|)
		q = b.Mul(b.Unary(ir.OpSign, q), b.Unary(ir.OpFloor, b.Unary(ir.OpAbs, q)))
	} else {
		q = b.Unary(ir.OpFloor, q)
	}
	db := b.Unary(ir.OpNeg, b.Mul(g, q))
	return []*ir.Value{sumTo(b, g, x.Type.Shape), sumTo(b, db, y.Type.Shape)}
}
