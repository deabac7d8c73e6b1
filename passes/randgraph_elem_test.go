package passes

import (
	"math"
	"slices"

	"github.com/dlc-project/dlc/ir"
)

// The random-graph generator's part for the ops of ir/ops_elem.go. As in
// randgraph_test.go every value keeps a bound: operands are brought into
// each op's domain (asin of 0.9·tanh x, acosh of a value >= 1.3, pow of a
// positive base), and the ops that jump (sign, ceil, round, mod) take
// float operands only from parameters, as floor does, so that no last-bit
// difference a pass makes can flip them. Integers are exact and take any
// value.

// rgElemSmooth are the ops genElem makes in smooth graphs: differentiable
// on the domains it keeps them in.
var rgElemSmooth = []string{ir.OpErf, ir.OpTan, ir.OpAsin, ir.OpAcos, ir.OpAtan, ir.OpSinh, ir.OpCosh,
	ir.OpAsinh, ir.OpAcosh, ir.OpAtanh, ir.OpReciprocal, ir.OpPow}

// rgElemOther are the ones it adds otherwise.
var rgElemOther = []string{ir.OpAbs, ir.OpSign, ir.OpCeil, ir.OpRound, ir.OpMinimum, ir.OpMaximum, ir.OpMod,
	ir.OpNot, ir.OpAnd, ir.OpOr, ir.OpXor, ir.OpIsNaN, ir.OpIsInf}

// rgMonotone is the bound of f (increasing) over b.
func rgMonotone(f func(float64) float64, b rgBound) rgBound { return rgBound{f(b.lo), f(b.hi)} }

// genElem generates one op of ops_elem.go.
func (g *rgGen) genElem() {
	ops := rgElemSmooth
	if !g.opts.smooth {
		ops = append(slices.Clone(ops), rgElemOther...)
	}
	op := ops[g.r.IntN(len(ops))]
	switch op {
	case ir.OpErf:
		g.emit(op, nil, rgBound{-1, 1}, g.pickFloat())
	case ir.OpAtan:
		g.emit(op, nil, rgBound{-math.Pi / 2, math.Pi / 2}, g.pickFloat())
	case ir.OpAsinh:
		x := g.pickFloat()
		g.emit(op, nil, rgMonotone(math.Asinh, g.bound[x]), x)
	case ir.OpTan, ir.OpSinh, ir.OpCosh:
		// Of a value in [-1, 1]: tan stays away from its poles at ±π/2.
		x := g.squash(g.pickFloat())
		b := g.bound[x]
		switch op {
		case ir.OpTan:
			g.emit(op, nil, rgMonotone(math.Tan, b), x)
		case ir.OpSinh:
			g.emit(op, nil, rgMonotone(math.Sinh, b), x)
		default:
			g.emit(op, nil, rgBound{1, math.Cosh(b.abs())}, x)
		}
	case ir.OpAsin, ir.OpAcos, ir.OpAtanh:
		// Of 0.9·tanh x, inside (-1, 1) with room for finite differences.
		x := g.pickFloat()
		y := g.arith(ir.OpMul, g.unary(ir.OpTanh, x), g.scalar(x.Type.DType, 0.9))
		b := g.bound[y]
		switch op {
		case ir.OpAsin:
			g.emit(op, nil, rgMonotone(math.Asin, b), y)
		case ir.OpAcos:
			g.emit(op, nil, rgBound{math.Acos(b.hi), math.Acos(b.lo)}, y)
		default:
			g.emit(op, nil, rgMonotone(math.Atanh, b), y)
		}
	case ir.OpAcosh:
		x := g.positive(g.pickFloat())
		y := g.arith(ir.OpAdd, x, g.scalar(x.Type.DType, 1))
		g.emit(op, nil, rgMonotone(math.Acosh, g.bound[y]), y)
	case ir.OpReciprocal:
		x := g.nonzero(g.pickFloat())
		b := g.bound[x] // of one sign, |x| >= 0.3
		g.emit(op, nil, rgBound{1 / b.hi, 1 / b.lo}, x)
	case ir.OpPow:
		g.genPow()
	case ir.OpAbs:
		x := g.pickNumeric()
		b := g.bound[x]
		lo := 0.0
		if b.lo > 0 || b.hi < 0 {
			lo = math.Min(math.Abs(b.lo), math.Abs(b.hi))
		}
		g.emit(op, nil, rgBound{lo, b.abs()}, x)
	case ir.OpSign:
		x := g.jumpOperand()
		g.emit(op, nil, rgMonotone(rgSign, g.bound[x]), x)
	case ir.OpCeil, ir.OpRound:
		x := g.leaf(ir.Type{DType: g.opts.dtype, Shape: g.randShape(true)}, "param")
		f := math.Ceil
		if op == ir.OpRound {
			f = math.RoundToEven
		}
		g.emit(op, nil, rgMonotone(f, g.bound[x]), x)
	case ir.OpMinimum, ir.OpMaximum:
		x := g.pickNumeric()
		y := g.partner(x.Type.Shape, x.Type.DType)
		if g.coin(0.5) {
			x, y = y, x
		}
		a, b := g.bound[x], g.bound[y]
		r := rgBound{math.Min(a.lo, b.lo), math.Min(a.hi, b.hi)}
		if op == ir.OpMaximum {
			r = rgBound{math.Max(a.lo, b.lo), math.Max(a.hi, b.hi)}
		}
		g.emit(op, nil, r, x, y)
	case ir.OpMod:
		g.genMod()
	case ir.OpNot:
		g.emit(op, nil, rgBound{0, 1}, g.boolValue())
	case ir.OpAnd, ir.OpOr, ir.OpXor:
		x := g.boolValue()
		y := g.partner(x.Type.Shape, ir.Bool)
		g.emit(op, nil, rgBound{0, 1}, x, y)
	case ir.OpIsNaN:
		g.emit(op, nil, rgBound{0, 1}, g.pickFloat())
	case ir.OpIsInf:
		var attrs ir.Attrs
		if g.coin(0.5) {
			attrs = ir.Attrs{"detect_positive": g.coin(0.5), "detect_negative": g.coin(0.5)}
		}
		g.emit(op, attrs, rgBound{0, 1}, g.pickFloat())
	}
}

// rgSign is the sign op of the interpreter: -1, 0 or 1.
func rgSign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// jumpOperand returns an operand for an op that jumps: an integer value of
// the pool, or a float parameter (which no pass changes).
func (g *rgGen) jumpOperand() *ir.Value {
	if g.coin(0.3) {
		if v := g.pick(func(v *ir.Value) bool { return v.Type.DType.IsInt() }); v != nil {
			return v
		}
	}
	return g.leaf(ir.Type{DType: g.opts.dtype, Shape: g.randShape(true)}, "param")
}

// boolValue returns a bool of the pool, or a new comparison or bool leaf.
func (g *rgGen) boolValue() *ir.Value {
	if v := g.pick(func(v *ir.Value) bool { return v.Type.DType == ir.Bool }); v != nil && g.coin(0.7) {
		return v
	}
	if g.coin(0.3) {
		return g.leaf(ir.Type{DType: ir.Bool, Shape: g.randShape(true)}, "")
	}
	a := g.pickNumeric()
	return g.emit(ir.OpGreater, nil, rgBound{0, 1}, a, g.partner(a.Type.Shape, a.Type.DType))
}

// genPow: a float base made positive (>= 0.3) to an exponent in [-1, 1];
// an integer base of at most 100 to a constant exponent 0, 1 or 2.
func (g *rgGen) genPow() {
	x := g.pickNumeric()
	if x.Type.DType.IsInt() && !g.opts.smooth {
		if g.bound[x].abs() > 100 {
			return
		}
		e := float64(g.r.IntN(3))
		c := g.record(g.b.Const(ir.Type{DType: x.Type.DType, Shape: g.partnerShape(x.Type.Shape, true)}, e), rgBound{e, e}, nil)
		b := g.bound[x]
		p := []float64{math.Pow(b.lo, e), math.Pow(b.hi, e), 0}
		lo, hi := slices.Min(p), slices.Max(p)
		if e != 2 { // 0 is within [lo, hi] only for the square
			lo, hi = math.Min(p[0], p[1]), math.Max(p[0], p[1])
		}
		g.emit(ir.OpPow, nil, rgBound{lo, hi}, x, c)
		return
	}
	if !x.Type.DType.IsFloat() {
		x = g.pickFloat()
	}
	base := g.positive(x)
	e := g.squash(g.partner(base.Type.Shape, base.Type.DType))
	bb, be := g.bound[base], g.bound[e]
	p := []float64{math.Pow(bb.lo, be.lo), math.Pow(bb.lo, be.hi), math.Pow(bb.hi, be.lo), math.Pow(bb.hi, be.hi)}
	g.emit(ir.OpPow, nil, rgBound{slices.Min(p), slices.Max(p)}, base, e)
}

// genMod: a mod b, both ways, of an integer by a nonzero integer constant
// or of a float parameter by a float parameter or constant.
func (g *rgGen) genMod() {
	var attrs ir.Attrs
	if g.coin(0.6) {
		attrs = ir.Attrs{"fmod": g.coin(0.5)}
	}
	x := g.jumpOperand()
	dt := x.Type.DType
	var y *ir.Value
	var d float64 // a bound on |y|
	switch {
	case dt.IsInt():
		vals := []float64{2, 3, -2, 1}
		if dt == ir.U8 {
			vals[2] = 4
		}
		v := vals[g.r.IntN(len(vals))]
		y, d = g.record(g.b.Const(ir.Type{DType: dt, Shape: g.partnerShape(x.Type.Shape, true)}, v), rgBound{v, v}, nil), math.Abs(v)
	case g.coin(0.5):
		v := []float64{1.5, -0.75, 2, 0.3, -1}[g.r.IntN(5)]
		y, d = g.scalar(dt, v), math.Abs(v)
	default:
		y = g.leaf(ir.Type{DType: dt, Shape: g.partnerShape(x.Type.Shape, false)}, "param")
		d = g.bound[y].abs()
	}
	r := rgBound{-d, d}
	if dt == ir.U8 {
		r = rgBound{0, d}
	}
	g.emit(ir.OpMod, attrs, r, x, y)
}
