package interp

import (
	"fmt"
	"math"

	"github.com/dlc-project/dlc/ir"
)

// two64 is 2^64, the first value beyond u64.
const two64 = 1 << 64

// intRange returns the smallest and largest values of an integer dtype.
// For I64 and U64 the upper bounds are as float64 sees them: 2^63 and 2^64,
// themselves out of range (inRange excludes them).
func intRange(dt ir.DType) (lo, hi float64) {
	switch dt {
	case ir.I8:
		return math.MinInt8, math.MaxInt8
	case ir.U8:
		return 0, math.MaxUint8
	case ir.I16:
		return math.MinInt16, math.MaxInt16
	case ir.U16:
		return 0, math.MaxUint16
	case ir.I32:
		return math.MinInt32, math.MaxInt32
	case ir.U32:
		return 0, math.MaxUint32
	case ir.U64:
		return 0, two64
	}
	return math.MinInt64, math.MaxInt64 // 2^63 after rounding to float64
}

// inRange reports whether the whole number x fits dtype dt.
func inRange(dt ir.DType, x float64) bool {
	lo, hi := intRange(dt)
	if dt == ir.I64 || dt == ir.U64 {
		return x >= lo && x < hi // float64(MaxInt64) is 2^63, itself out of range
	}
	return x >= lo && x <= hi
}

// wrapInt reduces the whole number x to dtype dt the way Go's fixed-width
// integer arithmetic does (two's complement wrap-around), so that an
// overflowing i32 or u8 computation gives what the generated code gives.
// It fails for NaN, ±Inf and values outside [-2^63, 2^64) (what int64 and
// uint64 hold), where no Go integer computation could have produced a
// counterpart.
//
// I64 and U64 values are held in float64, exact up to 2^53 only: beyond
// that the interpreter is as exact as float64 (the ONNX tests use small
// values). A negative number wrapped to U64 lands at 2^64-|x|, which
// float64 rounds; where it rounds up to 2^64 itself (|x| <= 1024) no u64
// is left to give, and that is an error.
func wrapInt(dt ir.DType, x float64) (float64, error) {
	x = math.Trunc(x)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("%v is not a valid %s value", x, dt)
	}
	if dt == ir.U64 && inRange(ir.U64, x) {
		return x + 0, nil // an integer has no -0
	}
	var n int64
	switch {
	case inRange(ir.I64, x):
		n = int64(x)
	case inRange(ir.U64, x): // a u64 above int64: its bits, as Go's int64(u) keeps them
		n = int64(uint64(x))
	default:
		return 0, fmt.Errorf("%v overflows %s", x, dt)
	}
	switch dt {
	case ir.I8:
		return float64(int8(n)), nil
	case ir.U8:
		return float64(uint8(n)), nil
	case ir.I16:
		return float64(int16(n)), nil
	case ir.U16:
		return float64(uint16(n)), nil
	case ir.I32:
		return float64(int32(n)), nil
	case ir.U32:
		return float64(uint32(n)), nil
	case ir.U64:
		y := float64(uint64(n))
		if y >= two64 {
			return 0, fmt.Errorf("%v wraps to the u64 2^64%v, which float64 (the interpreter's number) cannot hold apart from 2^64", x, n)
		}
		return y, nil
	}
	return float64(n), nil
}

// normalize rounds data, in place, to what dtype dt can hold: F32 to the
// nearest float32 (so that a chain of F32 nodes mirrors float32 arithmetic,
// each op correctly rounded), F16 and BF16 likewise to the nearest of
// theirs (ir.RoundF16, ir.RoundBF16: ties to even, subnormals, overflow to
// ±Inf), integers truncated toward zero and wrapped to their width, bool to
// 0 or 1. F64 is left exact.
func normalize(dt ir.DType, data []float64) error {
	switch {
	case dt == ir.F32:
		for i, x := range data {
			data[i] = float64(float32(x))
		}
	case dt == ir.F16 || dt == ir.BF16:
		for i, x := range data {
			data[i] = ir.RoundFloat(dt, x)
		}
	case dt == ir.Bool:
		for i, x := range data {
			data[i] = b2f(x != 0)
		}
	case dt.IsInt():
		for i, x := range data {
			y, err := wrapInt(dt, x)
			if err != nil {
				return fmt.Errorf("element %d: %v", i, err)
			}
			data[i] = y
		}
	case dt == ir.F64:
	default:
		return fmt.Errorf("unsupported dtype %s", dt)
	}
	return nil
}

// checkValues reports values that dtype dt cannot hold exactly: a
// non-integral or out-of-range integer, or a bool other than 0 and 1. It is
// applied to data coming from outside the graph (inputs, weights, constant
// attributes), where such a value is a mistake to report rather than round.
// Float data always passes: rounding a float64 to F32 (or F16, BF16) is
// what the caller of generated code does as well.
func checkValues(dt ir.DType, data []float64) error {
	for i, x := range data {
		switch {
		case dt == ir.Bool:
			if x != 0 && x != 1 {
				return fmt.Errorf("element %d is %v, not a bool (0 or 1)", i, x)
			}
		case dt.IsInt():
			if x != math.Trunc(x) || math.IsInf(x, 0) || !inRange(dt, x) {
				return fmt.Errorf("element %d is %v, not a valid %s", i, x, dt)
			}
		case dt.IsFloat():
		default:
			return fmt.Errorf("unsupported dtype %s", dt)
		}
	}
	return nil
}

// castValue converts one element from dtype from to dtype to with Go's
// conversion semantics, which are NumPy's (astype) and ONNX Cast's where
// those define one: float to integer truncates toward zero, integer to
// integer wraps, anything to bool is x != 0, bool to a number is 0 or 1, a
// number to a float rounds to the nearest, ties to even (a float too large
// for F16 or BF16 becomes ±Inf, NaN stays NaN). A float that is NaN,
// infinite or out of the integer's range is an error: Go and ONNX leave
// that conversion undefined (NumPy gives whatever the C cast gives, with a
// warning), so there is no answer for the oracle to give.
func castValue(from, to ir.DType, x float64) (float64, error) {
	switch {
	case to == ir.Bool:
		return b2f(x != 0), nil
	case to.IsFloat():
		return ir.RoundFloat(to, x), nil
	case to.IsInt():
		if from.IsFloat() {
			t := math.Trunc(x)
			if math.IsNaN(x) || math.IsInf(x, 0) || !inRange(to, t) {
				return 0, fmt.Errorf("%v does not fit %s (Go leaves this conversion undefined)", x, to)
			}
			return t + 0, nil // an integer has no -0 (Trunc(-0.5) is -0)
		}
		return wrapInt(to, x)
	}
	return 0, fmt.Errorf("unsupported dtype %s", to)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
