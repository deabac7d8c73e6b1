package interp

import (
	"errors"
	"fmt"
	"math"

	"github.com/dlc-project/dlc/ir"
)

// Reference kernels of the ops of ir/ops_elem.go. Like the core unary ops
// they compute in float64 and leave the rounding to the node's dtype to
// checked, so an F32 result is the float64 result rounded once: what the
// generated code computes with math.* on float64.
func init() {
	bodies := map[string]kernelFunc{
		ir.OpAbs:        unary(math.Abs),
		ir.OpSign:       unary(sign),
		ir.OpCeil:       unary(math.Ceil),
		ir.OpRound:      unary(math.RoundToEven),
		ir.OpErf:        unary(math.Erf),
		ir.OpTan:        unary(math.Tan),
		ir.OpAsin:       unary(math.Asin),
		ir.OpAcos:       unary(math.Acos),
		ir.OpAtan:       unary(math.Atan),
		ir.OpSinh:       unary(math.Sinh),
		ir.OpCosh:       unary(math.Cosh),
		ir.OpAsinh:      unary(math.Asinh),
		ir.OpAcosh:      unary(math.Acosh),
		ir.OpAtanh:      unary(math.Atanh),
		ir.OpReciprocal: unary(func(x float64) float64 { return 1 / x }),

		ir.OpPow:     powKernel,
		ir.OpMinimum: arith(func(a, b float64) float64 { return min(a, b) }),
		ir.OpMaximum: arith(func(a, b float64) float64 { return max(a, b) }),
		ir.OpMod:     modKernel,

		ir.OpNot: logical(func(a, _ bool) bool { return !a }),
		ir.OpAnd: logical(func(a, b bool) bool { return a && b }),
		ir.OpOr:  logical(func(a, b bool) bool { return a || b }),
		ir.OpXor: logical(func(a, b bool) bool { return a != b }),

		ir.OpIsNaN: isNaNKernel,
		ir.OpIsInf: isInfKernel,
	}
	for op, body := range bodies {
		Kernels[op] = checked(op, body)
	}
}

// sign is -1, 0 or 1 by the sign of x, +0 for either zero and NaN for
// NaN, as NumPy's sign (x > 0 ? 1 : x < 0 ? -1 : x == 0 ? 0 : x).
func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	case x == 0:
		return 0
	}
	return x
}

// pyMod is x mod y with the sign of y, as Python's % and NumPy's remainder:
// C fmod, then y added when the signs differ; a zero result takes y's sign.
func pyMod(x, y float64) float64 {
	r := math.Mod(x, y)
	switch {
	case r == 0:
		return math.Copysign(0, y)
	case (r < 0) != (y < 0):
		return r + y
	}
	return r
}

// powKernel is C pow for floats (a negative base with an integral exponent
// keeps its sign; with another exponent the result is NaN). For integers it
// is the exact power, wrapping around as Go's fixed-width multiplication
// does; a negative exponent gives 1/x^|e| truncated toward zero (0 but for
// a base of ±1), and 0 to a negative power, which has no integer value, is
// an error.
func powKernel(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
	if !v.Type.DType.IsInt() {
		return elementwise(v.Type.DType, args, func(xs []float64) (float64, error) { return math.Pow(xs[0], xs[1]), nil })
	}
	dt := v.Type.DType
	return elementwise(dt, args, func(xs []float64) (float64, error) {
		if xs[1] >= math.MaxInt64 { // a u64 exponent beyond int64's
			return 0, fmt.Errorf("integer exponent %v is too large", xs[1])
		}
		r, ok := intPow(int64Bits(xs[0]), int64Bits(xs[1]))
		if !ok {
			return 0, fmt.Errorf("integer 0 to the negative power %v", xs[1])
		}
		if dt.IsUnsigned() { // wrapping multiplication is the same on the bits
			return float64(uint64(r)), nil
		}
		return float64(r), nil
	})
}

// int64Bits converts a whole number of any integer dtype to int64 as Go's
// int64(u) does for a u64 above 2^63 (keeping the bits).
func int64Bits(x float64) int64 {
	if x >= math.MaxInt64 { // 2^63 and up: a u64
		return int64(uint64(x))
	}
	return int64(x)
}

// intPow is x^e in int64 arithmetic (wrapping around), by squaring; for
// e < 0 it is 1/x^|e| truncated toward zero. ok is false for x = 0, e < 0.
func intPow(x, e int64) (r int64, ok bool) {
	if e < 0 {
		switch x {
		case 0:
			return 0, false
		case 1:
			return 1, true
		case -1:
			if e%2 == 0 {
				return 1, true
			}
			return -1, true
		}
		return 0, true
	}
	r = 1
	for e > 0 {
		if e&1 == 1 {
			r *= x
		}
		x *= x
		e >>= 1
	}
	return r, true
}

// modKernel is pyMod, or math.Mod (C fmod, Go's % on integers) with the
// attribute fmod. An integer modulo by zero, which panics in Go, is an
// error.
func modKernel(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
	isInt := v.Type.DType.IsInt()
	f := pyMod
	if v.Attrs.Bool("fmod", false) {
		f = math.Mod
	}
	return elementwise(v.Type.DType, args, func(xs []float64) (float64, error) {
		if isInt && xs[1] == 0 {
			return 0, errors.New("integer modulo by zero")
		}
		return f(xs[0], xs[1]), nil
	})
}

// logical applies f to bool operands (stored as 0 or 1); not ignores its
// second argument.
func logical(f func(a, b bool) bool) kernelFunc {
	return func(_ *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
		return elementwise(ir.Bool, args, func(xs []float64) (float64, error) {
			b := false
			if len(xs) > 1 {
				b = xs[1] != 0
			}
			return b2f(f(xs[0] != 0, b)), nil
		})
	}
}

func isNaNKernel(_ *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
	return elementwise(ir.Bool, args, func(xs []float64) (float64, error) { return b2f(math.IsNaN(xs[0])), nil })
}

// isInfKernel tests for +Inf and -Inf as the flags ask (both by default,
// as ONNX's IsInf).
func isInfKernel(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
	pos, neg := v.Attrs.Bool("detect_positive", true), v.Attrs.Bool("detect_negative", true)
	return elementwise(ir.Bool, args, func(xs []float64) (float64, error) {
		return b2f((pos && math.IsInf(xs[0], 1)) || (neg && math.IsInf(xs[0], -1))), nil
	})
}
