package runtime

import "math"

// Single-precision exp and sigmoid for generated code. The scalar
// functions here and the vector ones (VecExp, VecSigmoid: AVX-512 assembly
// written by internal/vecgen) compute the same bits, operation for
// operation, so fused and unfused kernels agree exactly whichever they
// call. Error against the correctly rounded result, measured over every
// 17th float32 of the domains that matter (131 million values each;
// vecmath_test.go, DLC_VECMATH_STEP=17): Exp32 at most 1 ulp (subnormal
// results within one unit of the smallest subnormal), Sigmoid32 at most 3
// ulp; Tanh32 (below) at most 1 ulp, Log32 at most 2 ulp. Cody and Waite's range reduction
// (W. J. Cody, W. Waite, "Software Manual for the Elementary Functions",
// 1980) with a Taylor polynomial: k = round(x·log2 e), r = x - k·ln 2 in
// two parts, exp(r) by a degree-7 polynomial, then exp(x) = 2^k·exp(r),
// the power of two applied as two exact halves so that a subnormal result
// is rounded once.

// Constants: the float32 values in vecgen's expConsts, bit for bit.
var (
	expLog2e = math.Float32frombits(0x3fb8aa3b)
	expLn2Hi = math.Float32frombits(0x3f318000) // 9 significant bits: k·ln2hi is exact
	expLn2Lo = math.Float32frombits(0xb95e8083)
	expHi    = float32(89)   // exp(89) overflows to +Inf in the final scaling
	expLo    = float32(-104) // exp(-104) rounds to 0
	expC     = [...]float32{
		math.Float32frombits(0x39500d01), // 1/7!
		math.Float32frombits(0x3ab60b61), // 1/6!
		math.Float32frombits(0x3c088889), // 1/5!
		math.Float32frombits(0x3d2aaaab), // 1/4!
		math.Float32frombits(0x3e2aaaab), // 1/3!
		0.5,
	}
)

// Exp32 returns e^x in single precision (within 1 ulp; see above).
func Exp32(x float32) float32 {
	if x != x {
		return x
	}
	return exp32(x)
}

// exp32 is Exp32 for x not NaN. Every product is converted to float32
// explicitly, which keeps the compiler from fusing it with the following
// addition (the assembly does not fuse either).
func exp32(x float32) float32 {
	xc := x
	if !(xc > expLo) { // as VMAXPS(x, lo)
		xc = expLo
	}
	if !(xc < expHi) { // as VMINPS(xc, hi)
		xc = expHi
	}
	k := float32(math.RoundToEven(float64(float32(xc * expLog2e))))
	r := xc - float32(k*expLn2Hi)
	r = r - float32(k*expLn2Lo)
	p := expC[0]
	for _, c := range expC[1:] {
		p = float32(p*r) + c
	}
	p = float32(p*r) + 1
	p = float32(p*r) + 1
	ki := int32(k)
	k1 := ki >> 1
	k2 := ki - k1
	p = float32(p * math.Float32frombits(uint32(k1+127)<<23))
	return float32(p * math.Float32frombits(uint32(k2+127)<<23))
}

// Sigmoid32 returns 1/(1+e^-x) in single precision (within 3 ulp),
// evaluating e^-|x| only, so that nothing overflows.
func Sigmoid32(x float32) float32 {
	if x != x {
		return x
	}
	e := exp32(math.Float32frombits(math.Float32bits(x) | 0x80000000)) // e^-|x|
	s := 1 / (1 + e)
	if x >= 0 {
		return s
	}
	return float32(e * s)
}

// tanh32's constants: the vecgen expConsts "tsmall", "two", "t1" … "t8".
var (
	tanhSmall = math.Float32frombits(0x3f0ccccd) // 0.55
	tanhC     = [...]float32{                    // t8 … t1: the Taylor coefficients of tanh(x)/x in x², highest first
		math.Float32frombits(0x3a1aac12),
		math.Float32frombits(0xbabed1b2),
		math.Float32frombits(0x3b6b69e8),
		math.Float32frombits(0xbc11371b),
		math.Float32frombits(0x3cb327a4),
		math.Float32frombits(0xbd5d0dd1),
		math.Float32frombits(0x3e088889),
		math.Float32frombits(0xbeaaaaab),
	}
)

// Tanh32 returns tanh(x) in single precision: for |x| < 0.55 as x·p(x²)
// with the Taylor series to x^17 (the next term is below 1e-8 relative),
// else as 1 - 2/(e^2|x| + 1) with x's sign, where the subtraction loses
// at most one bit (the fraction is below 1/2). At most 1 ulp from the
// correctly rounded result over every 17th float32 of [-10, 10] (128
// million values; vecmath_test.go).
func Tanh32(x float32) float32 {
	if x != x {
		return x
	}
	ax := math.Float32frombits(math.Float32bits(x) &^ 0x80000000)
	if ax < tanhSmall {
		z := float32(x * x)
		p := tanhC[0]
		for _, c := range tanhC[1:] {
			p = float32(p*z) + c
		}
		p = float32(p*z) + 1
		return float32(x * p)
	}
	e := exp32(ax + ax)
	t := 1 - 2/(e+1)
	return math.Float32frombits(math.Float32bits(t) | math.Float32bits(x)&0x80000000)
}

// log32's constants: the vecgen expConsts "sqrt2", "l1" … "l4" (and ln2hi,
// ln2lo, shared with exp32).
var (
	logSqrt2 = math.Float32frombits(0x3fb504f3)
	logC     = [...]float32{ // l4 … l1: 2/9, 2/7, 2/5, 2/3
		math.Float32frombits(0x3e638e39),
		math.Float32frombits(0x3e924925),
		math.Float32frombits(0x3ecccccd),
		math.Float32frombits(0x3f2aaaab),
	}
)

// Log32 returns the natural logarithm of x in single precision: x = m·2^e
// with m in [sqrt(1/2), sqrt(2)), log m = 2·atanh(s) with s = (m-1)/(m+1)
// by its series to s^9 (|s| < 0.172: the next term is below 1e-9
// relative), and e·ln 2 in two parts. Log32(x < 0) is NaN, Log32(±0) is
// -Inf, Log32(+Inf) is +Inf. At most 2 ulp from the correctly rounded
// result over every 17th positive float32 (126 million values, subnormals
// included; vecmath_test.go).
func Log32(x float32) float32 {
	switch {
	case x != x:
		return x
	case x < 0:
		return float32(math.NaN())
	case x == 0:
		return float32(math.Inf(-1))
	case x > math.MaxFloat32:
		return x
	}
	e := int32(0)
	if x < math.Float32frombits(0x00800000) { // subnormal: exact scaling
		x = float32(x * 8388608)
		e = -23
	}
	b := math.Float32bits(x)
	e += int32(b>>23&0xff) - 127
	m := math.Float32frombits(b&0x007fffff | 0x3f800000)
	if m > logSqrt2 {
		m = float32(m * 0.5)
		e++
	}
	f := m - 1
	s := f / (2 + f)
	z := float32(s * s)
	r := logC[0]
	for _, c := range logC[1:] {
		r = float32(r*z) + c
	}
	r = float32(r * z)
	logm := (s + s) + float32(s*r)
	fe := float32(e)
	return float32(fe*expLn2Hi) + (logm + float32(fe*expLn2Lo))
}

// erf32's constants: the vecgen expConsts "esmall", "ecap", "ecenter",
// "p5" … "p0" and "r9" … "r0". The polynomials were fitted (weighted
// least squares iterated towards minimax, coefficients rounded to float32)
// by the script in runtime/internal/vecgen/erf_fit.py.
var (
	erfSmall  = float32(0.875)  // below: the odd series
	erfCap    = float32(4)      // erf(x >= 3.92) rounds to 1: larger |x| are capped
	erfCenter = float32(2.4375) // the middle of [0.875, 4], R's expansion point
	erfP      = [...]float32{   // p(z) ≈ erf(x)/x - 1, z = x², highest degree first
		math.Float32frombits(0xba2346de),
		math.Float32frombits(0x3ba511ab),
		math.Float32frombits(0xbcdb8214),
		math.Float32frombits(0x3de71130),
		math.Float32frombits(0xbec0938a),
		math.Float32frombits(0x3e0375d4),
	}
	erfR = [...]float32{ // R(t) ≈ erfc(t)·e^(t²), in u = t - erfCenter, highest degree first
		math.Float32frombits(0xb8336aaa),
		math.Float32frombits(0xb900a9b0),
		math.Float32frombits(0xb98df6b3),
		math.Float32frombits(0x392ccfe1),
		math.Float32frombits(0xba37b47a),
		math.Float32frombits(0x3b3a648d),
		math.Float32frombits(0xbc0d0cad),
		math.Float32frombits(0x3cd901e6),
		math.Float32frombits(0xbd9edacf),
		math.Float32frombits(0x3e5cb9af),
	}
)

// Erf32 returns the error function of x in single precision. For |x| <
// 0.875 it is x + x·p(x²), p a degree-5 polynomial (adding the small
// correction x·p last keeps the rounding error near half an ulp); above,
// erf(|x|) = 1 - e^(-t²)·R(t), t = min(|x|, 4), with R(t) = erfc(t)·e^(t²)
// (smooth, 0.14 to 0.43) a degree-9 polynomial around the middle of [0.875,
// 4] and e^(-t²) from exp32, then x's sign. Erf32(±Inf) = ±1, Erf32(-0) =
// -0. At most 2 ulp from the correctly rounded result over every 17th
// float32 of [-5, 5] (vecmath_test.go).
func Erf32(x float32) float32 {
	if x != x {
		return x
	}
	ax := math.Float32frombits(math.Float32bits(x) &^ 0x80000000)
	if ax < erfSmall {
		z := float32(x * x)
		p := erfP[0]
		for _, c := range erfP[1:] {
			p = float32(p*z) + c
		}
		return x + float32(x*p)
	}
	t := ax
	if !(t < erfCap) { // as VMINPS(t, cap)
		t = erfCap
	}
	u := t - erfCenter
	r := erfR[0]
	for _, c := range erfR[1:] {
		r = float32(r*u) + c
	}
	e := exp32(-float32(t * t))
	y := 1 - float32(e*r)
	return math.Float32frombits(math.Float32bits(y) | math.Float32bits(x)&0x80000000)
}
