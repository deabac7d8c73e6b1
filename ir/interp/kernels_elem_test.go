package interp

import (
	"math"
	"testing"

	"github.com/dlc-project/dlc/ir"
)

// TestElemOps checks the ops of ir/ops_elem.go against values NumPy (and
// ONNX's reference implementation) give, edge cases included: halves for
// round, signs for mod, negative bases for pow, the flags of is_inf.
func TestElemOps(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	f64 := func(shape []int, data ...float64) *Tensor { return tt(ir.F64, shape, data...) }
	cases := []struct {
		name  string
		op    string
		attrs ir.Attrs
		args  []*Tensor
		want  *Tensor
	}{
		{"abs", ir.OpAbs, nil, []*Tensor{tf(sh(4), -1.5, 0, 2, nan)}, tf(sh(4), 1.5, 0, 2, nan)},
		{"abs i32", ir.OpAbs, nil, []*Tensor{tt(ir.I32, sh(3), -3, 0, 4)}, tt(ir.I32, sh(3), 3, 0, 4)},
		{"abs i8 wraps", ir.OpAbs, nil, []*Tensor{tt(ir.I8, sh(1), -128)}, tt(ir.I8, sh(1), -128)},
		{"sign", ir.OpSign, nil, []*Tensor{tf(sh(5), -2.5, 0, 0.1, nan, -inf)}, tf(sh(5), -1, 0, 1, nan, -1)},
		{"sign of -0 is +0", ir.OpSign, nil, []*Tensor{f64(sh(1), math.Copysign(0, -1))}, f64(sh(1), 0)},
		{"sign i64", ir.OpSign, nil, []*Tensor{tt(ir.I64, sh(3), -7, 0, 9)}, tt(ir.I64, sh(3), -1, 0, 1)},
		{"sign u8", ir.OpSign, nil, []*Tensor{tt(ir.U8, sh(2), 0, 200)}, tt(ir.U8, sh(2), 0, 1)},
		{"ceil", ir.OpCeil, nil, []*Tensor{tf(sh(5), 2.5, -2.5, 3, -0.5, nan)}, tf(sh(5), 3, -2, 3, math.Copysign(0, -1), nan)},
		{"round half to even", ir.OpRound, nil,
			[]*Tensor{tf(sh(8), 0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, -2.6, nan)},
			tf(sh(8), 0, 2, 2, math.Copysign(0, -1), -2, 2, -3, nan)},
		{"erf", ir.OpErf, nil, []*Tensor{f64(sh(3), 0, 1, -inf)}, f64(sh(3), 0, math.Erf(1), -1)},
		{"tan", ir.OpTan, nil, []*Tensor{f64(sh(2), 0, 1)}, f64(sh(2), 0, math.Tan(1))},
		{"asin", ir.OpAsin, nil, []*Tensor{f64(sh(3), 1, -0.5, 2)}, f64(sh(3), math.Pi/2, math.Asin(-0.5), nan)},
		{"acos", ir.OpAcos, nil, []*Tensor{f64(sh(3), 1, -1, -1.5)}, f64(sh(3), 0, math.Pi, nan)},
		{"atan", ir.OpAtan, nil, []*Tensor{f64(sh(3), 1, inf, 0)}, f64(sh(3), math.Pi/4, math.Pi/2, 0)},
		{"sinh", ir.OpSinh, nil, []*Tensor{f64(sh(2), 0, 1)}, f64(sh(2), 0, (math.E-1/math.E)/2)},
		{"cosh", ir.OpCosh, nil, []*Tensor{f64(sh(2), 0, -1)}, f64(sh(2), 1, math.Cosh(1))},
		{"asinh", ir.OpAsinh, nil, []*Tensor{f64(sh(2), 0, -1)}, f64(sh(2), 0, -math.Log(1+math.Sqrt2))},
		{"acosh", ir.OpAcosh, nil, []*Tensor{f64(sh(3), 1, 2, 0.5)}, f64(sh(3), 0, math.Log(2+math.Sqrt(3)), nan)},
		{"atanh", ir.OpAtanh, nil, []*Tensor{f64(sh(4), 0, 0.5, 1, 2)}, f64(sh(4), 0, math.Atanh(0.5), inf, nan)},
		{"reciprocal", ir.OpReciprocal, nil, []*Tensor{tf(sh(4), 2, -0.25, 0, 3)}, tf(sh(4), 0.5, -4, inf, 1.0/3)},

		{"pow", ir.OpPow, nil, []*Tensor{f64(sh(6), 2, -2, -2, -8, 0, nan), f64(sh(6), 0.5, 3, 2, 1.0/3, -1, 0)},
			f64(sh(6), math.Sqrt2, -8, 4, nan, inf, 1)},
		{"pow broadcast", ir.OpPow, nil, []*Tensor{tf(sh(2, 1), 2, 3), tf(sh(3), 0, 1, 2)}, tf(sh(2, 3), 1, 2, 4, 1, 3, 9)},
		{"pow i32", ir.OpPow, nil, []*Tensor{tt(ir.I32, sh(5), -3, 2, 2, -1, 7), tt(ir.I32, sh(5), 3, -1, 31, -3, 0)},
			tt(ir.I32, sh(5), -27, 0, math.MinInt32, -1, 1)},
		{"pow u8 wraps", ir.OpPow, nil, []*Tensor{tt(ir.U8, sh(1), 3), tt(ir.U8, sh(1), 5)}, tt(ir.U8, sh(1), 243)},
		{"pow i8 wraps", ir.OpPow, nil, []*Tensor{tt(ir.I8, sh(1), 3), tt(ir.I8, sh(1), 5)}, tt(ir.I8, sh(1), -13)},
		{"minimum", ir.OpMinimum, nil, []*Tensor{tf(sh(4), 1, 5, nan, -1), tf(sh(4), 2, 3, 0, nan)}, tf(sh(4), 1, 3, nan, nan)},
		{"maximum", ir.OpMaximum, nil, []*Tensor{tf(sh(4), 1, 5, nan, -1), tf(sh(4), 2, 3, 0, nan)}, tf(sh(4), 2, 5, nan, nan)},
		{"maximum i32 broadcast", ir.OpMaximum, nil, []*Tensor{tt(ir.I32, sh(3), -1, 4, 2), tt(ir.I32, nil, 2)},
			tt(ir.I32, sh(3), 2, 4, 2)},
		{"mod python", ir.OpMod, nil, []*Tensor{f64(sh(5), 7, -7, 7, -7, 5.5), f64(sh(5), 3, 3, -3, -3, 2)},
			f64(sh(5), 1, 2, -2, -1, 1.5)},
		{"mod python i32", ir.OpMod, ir.Attrs{"fmod": false}, []*Tensor{tt(ir.I32, sh(4), 7, -7, 7, -7), tt(ir.I32, sh(4), 3, 3, -3, -3)},
			tt(ir.I32, sh(4), 1, 2, -2, -1)},
		{"mod fmod", ir.OpMod, ir.Attrs{"fmod": true}, []*Tensor{f64(sh(5), 7, -7, 7, -7, -5.5), f64(sh(5), 3, 3, -3, -3, 2)},
			f64(sh(5), 1, -1, 1, -1, -1.5)},
		{"mod fmod i64", ir.OpMod, ir.Attrs{"fmod": true}, []*Tensor{tt(ir.I64, sh(2), -7, 7), tt(ir.I64, sh(2), 3, -3)},
			tt(ir.I64, sh(2), -1, 1)},
		{"mod zeros", ir.OpMod, nil, []*Tensor{f64(sh(4), 4, -4, 0, math.Copysign(0, -1)), f64(sh(4), -2, 2, -3, 3)},
			f64(sh(4), math.Copysign(0, -1), 0, math.Copysign(0, -1), 0)},
		{"fmod zeros", ir.OpMod, ir.Attrs{"fmod": true}, []*Tensor{f64(sh(2), 4, -4), f64(sh(2), -2, 2)},
			f64(sh(2), 0, math.Copysign(0, -1))},
		{"mod float by zero", ir.OpMod, nil, []*Tensor{f64(sh(1), 1), f64(sh(1), 0)}, f64(sh(1), nan)},

		{"not", ir.OpNot, nil, []*Tensor{tt(ir.Bool, sh(2), 0, 1)}, tt(ir.Bool, sh(2), 1, 0)},
		{"and", ir.OpAnd, nil, []*Tensor{tt(ir.Bool, sh(2, 1), 0, 1), tt(ir.Bool, sh(2), 0, 1)}, tt(ir.Bool, sh(2, 2), 0, 0, 0, 1)},
		{"or", ir.OpOr, nil, []*Tensor{tt(ir.Bool, sh(2, 1), 0, 1), tt(ir.Bool, sh(2), 0, 1)}, tt(ir.Bool, sh(2, 2), 0, 1, 1, 1)},
		{"xor", ir.OpXor, nil, []*Tensor{tt(ir.Bool, sh(2, 1), 0, 1), tt(ir.Bool, sh(2), 0, 1)}, tt(ir.Bool, sh(2, 2), 0, 1, 1, 0)},
		{"is_nan", ir.OpIsNaN, nil, []*Tensor{tf(sh(4), 0, nan, inf, -inf)}, tt(ir.Bool, sh(4), 0, 1, 0, 0)},
		{"is_inf", ir.OpIsInf, nil, []*Tensor{tf(sh(4), 0, nan, inf, -inf)}, tt(ir.Bool, sh(4), 0, 0, 1, 1)},
		{"is_inf positive", ir.OpIsInf, ir.Attrs{"detect_negative": false}, []*Tensor{f64(sh(3), 1, inf, -inf)}, tt(ir.Bool, sh(3), 0, 1, 0)},
		{"is_inf negative", ir.OpIsInf, ir.Attrs{"detect_positive": false}, []*Tensor{f64(sh(3), 1, inf, -inf)}, tt(ir.Bool, sh(3), 0, 0, 1)},
		{"is_inf neither", ir.OpIsInf, ir.Attrs{"detect_positive": false, "detect_negative": false},
			[]*Tensor{f64(sh(3), 1, inf, -inf)}, tt(ir.Bool, sh(3), 0, 0, 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := evalOp(c.op, c.attrs, c.args...)
			if err != nil {
				t.Fatal(err)
			}
			// Transcendental functions are compared within a few ulps of
			// the formula given; everything else exactly.
			if d := sameTensor(got, c.want, 4e-16*math.Max(1, maxAbs(c.want))); d != "" {
				t.Fatal(d)
			}
			for i, w := range c.want.Data {
				if w == 0 && math.Signbit(w) != math.Signbit(got.Data[i]) {
					t.Errorf("element %d is %v, want %v", i, got.Data[i], w)
				}
			}
		})
	}
}

func maxAbs(t *Tensor) float64 {
	m := 0.0
	for _, x := range t.Data {
		if !math.IsInf(x, 0) && !math.IsNaN(x) {
			m = max(m, math.Abs(x))
		}
	}
	return m
}

// TestElemOpErrors: integer modulo by zero and 0 to a negative integer
// power have no value (Go panics or the result is undefined): errors, as
// integer division by zero is.
func TestElemOpErrors(t *testing.T) {
	_, err := evalOp(ir.OpMod, nil, tt(ir.I32, sh(2), 1, 2), tt(ir.I32, sh(2), 1, 0))
	wantErr(t, err, "integer modulo by zero")
	_, err = evalOp(ir.OpPow, nil, tt(ir.I64, sh(1), 0), tt(ir.I64, sh(1), -2))
	wantErr(t, err, "integer 0 to the negative power -2")
}

// TestElemOpTypeErrors: each op names what is wrong with its operands.
func TestElemOpTypeErrors(t *testing.T) {
	cases := []struct {
		op    string
		attrs ir.Attrs
		args  []*Tensor
		want  string
	}{
		{ir.OpTan, nil, []*Tensor{tt(ir.I32, sh(1), 1)}, "tan [i32[1]]: operand must be a float type, is i32"},
		{ir.OpRound, nil, []*Tensor{tt(ir.I64, sh(1), 1)}, "round [i64[1]]: operand must be a float type, is i64"},
		{ir.OpAbs, nil, []*Tensor{tt(ir.Bool, sh(1), 1)}, "operand must be numeric, is bool"},
		{ir.OpPow, nil, []*Tensor{tf(sh(1), 1), tt(ir.F64, sh(1), 1)}, "pow [f32[1] f64[1]]: operand dtypes differ: f32 and f64"},
		{ir.OpMaximum, nil, []*Tensor{tf(sh(2), 1, 2), tf(sh(3), 1, 2, 3)}, "shapes [2] and [3] do not broadcast"},
		{ir.OpMod, nil, []*Tensor{tt(ir.Bool, sh(1), 1), tt(ir.Bool, sh(1), 1)}, "arithmetic on bool operands"},
		{ir.OpMod, ir.Attrs{"fmod": int64(1)}, []*Tensor{tf(sh(1), 1), tf(sh(1), 1)}, "attribute fmod has the wrong kind"},
		{ir.OpAnd, nil, []*Tensor{tt(ir.Bool, sh(1), 1), tf(sh(1), 1)}, "and [bool[1] f32[1]]: operand 1 must be bool, is f32"},
		{ir.OpNot, nil, []*Tensor{tt(ir.I32, sh(1), 1)}, "operand 0 must be bool, is i32"},
		{ir.OpIsNaN, nil, []*Tensor{tt(ir.I32, sh(1), 1)}, "is_nan [i32[1]]: operand must be a float type, is i32"},
		{ir.OpIsInf, ir.Attrs{"detect": true}, []*Tensor{tf(sh(1), 1)}, "is_inf has no attribute detect"},
	}
	for _, c := range cases {
		t.Run(c.op, func(t *testing.T) {
			_, err := evalOp(c.op, c.attrs, c.args...)
			wantErr(t, err, c.want)
		})
	}
}
