package ir

import "math"

// Rounding to the narrow float dtypes and their bit patterns. ir/interp
// holds every value as a float64 and rounds it to its dtype after each op;
// the ONNX frontend reads and writes the bit patterns. Both are facts of
// the dtypes, so they live here, beside them.

// f16MaxFinite and bf16MaxFinite are the largest finite values: 65504 =
// (2-2^-10)·2^15 and (2-2^-7)·2^127.
const (
	f16MaxFinite  = 65504
	bf16MaxFinite = (2 - 1.0/128) * (1 << 127)
)

// RoundF16 rounds x to the nearest IEEE 754 binary16 value, ties to even,
// with gradual underflow (subnormals down to 2^-24) and overflow to ±Inf
// (from 65520 up, the midpoint between 65504 and 2^16); NaN stays NaN and
// the sign of zero is kept. It rounds once, from the float64, so that no
// double rounding through float32 can move a tie.
func RoundF16(x float64) float64 { return roundBinary(x, 11, -14, f16MaxFinite) }

// RoundBF16 rounds x to the nearest bfloat16 value, ties to even: for a
// float32 x this is the usual rounding of its bits to the top 16 (add
// 0x7fff plus the lowest kept bit, clear the low half), including the
// float32 subnormals and overflow to ±Inf; NaN stays NaN. For a float64 x
// it rounds once, directly (no double rounding through float32).
func RoundBF16(x float64) float64 { return roundBinary(x, 8, -126, bf16MaxFinite) }

// roundBinary rounds x to a binary float format with prec significand bits
// (the implicit one included), smallest normal exponent emin and largest
// finite value maxFinite, ties to even. Dividing by the power of two q, the
// spacing of the format's values around x, is exact in float64, as is
// multiplying back; math.RoundToEven does the rounding.
func roundBinary(x float64, prec, emin int, maxFinite float64) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	a := math.Abs(x)
	_, exp := math.Frexp(a) // a is in [2^(exp-1), 2^exp)
	e := max(exp-1, emin)   // below emin the spacing is the subnormals'
	q := math.Ldexp(1, e-(prec-1))
	r := math.RoundToEven(a/q) * q
	if r > maxFinite {
		r = math.Inf(1)
	}
	return math.Copysign(r, x)
}

// RoundFloat rounds x to what dtype dt holds when dt is a float dtype
// narrower than float64, and returns it unchanged otherwise.
func RoundFloat(dt DType, x float64) float64 {
	switch dt {
	case F32:
		return float64(float32(x))
	case F16:
		return RoundF16(x)
	case BF16:
		return RoundBF16(x)
	}
	return x
}

// F16FromBits returns the value of the binary16 bit pattern b (exact).
func F16FromBits(b uint16) float64 {
	sign := 1.0
	if b&0x8000 != 0 {
		sign = -1
	}
	exp, frac := int(b>>10)&0x1f, float64(b&0x3ff)
	switch exp {
	case 0: // zero and subnormals
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac != 0 {
			return math.NaN()
		}
		return math.Inf(int(sign))
	}
	return sign * math.Ldexp(1024+frac, exp-25)
}

// F16Bits returns the binary16 bit pattern of x rounded by RoundF16 (NaN
// becomes the quiet NaN 0x7e00).
func F16Bits(x float64) uint16 {
	r := RoundF16(x)
	var sign uint16
	if math.Signbit(r) {
		sign = 0x8000
	}
	a := math.Abs(r)
	switch {
	case math.IsNaN(r):
		return 0x7e00
	case math.IsInf(r, 0):
		return sign | 0x7c00
	case a < 1.0/(1<<14): // zero or subnormal: the fraction counts 2^-24
		return sign | uint16(math.Ldexp(a, 24))
	}
	_, exp := math.Frexp(a)
	e := exp - 1
	return sign | uint16(e+15)<<10 | uint16(math.Ldexp(a, 10-e)-1024)
}

// BF16FromBits returns the value of the bfloat16 bit pattern b: the top
// half of a float32 (exact).
func BF16FromBits(b uint16) float64 {
	return float64(math.Float32frombits(uint32(b) << 16))
}

// BF16Bits returns the bfloat16 bit pattern of x rounded by RoundBF16
// (NaN becomes the quiet NaN 0x7fc0, with x's sign bit).
func BF16Bits(x float64) uint16 {
	r := RoundBF16(x)
	if math.IsNaN(r) {
		if math.Signbit(r) {
			return 0xffc0
		}
		return 0x7fc0
	}
	// r is a bfloat16 value, so float32 holds it exactly and its low half
	// is zero.
	return uint16(math.Float32bits(float32(r)) >> 16)
}
