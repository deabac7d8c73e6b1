package runtime

import (
	"math"
	"os"
	"strconv"
	"testing"
)

// vecmathStep is the sampling step of the accuracy tests: every 101st
// float32 (about 22 million values each), every 1001st under -short, and
// the step of DLC_VECMATH_STEP when set (17 gave the bounds documented in
// vecmath.go: 131 million values each).
func vecmathStep() uint32 {
	if s := os.Getenv("DLC_VECMATH_STEP"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return uint32(n)
		}
	}
	if testing.Short() {
		return 1001
	}
	return 101
}

// ulps is the distance between got and want in units in the last place
// of float32 (counting representable values between them).
func ulps(got, want float32) int64 {
	if got == want {
		return 0
	}
	ord := func(x float32) int64 {
		b := int64(math.Float32bits(x))
		if b&0x80000000 != 0 {
			return -(b & 0x7fffffff)
		}
		return b
	}
	d := ord(got) - ord(want)
	if d < 0 {
		d = -d
	}
	return d
}

// floatsIn returns every step-th float32 in [lo, hi] (by bit pattern,
// both signs), plus both ends.
func floatsIn(lo, hi float32, step uint32) []float32 {
	var out []float32
	for b := uint32(0); b < 0x7f800000; b += step {
		for _, x := range []float32{math.Float32frombits(b), -math.Float32frombits(b)} {
			if x >= lo && x <= hi {
				out = append(out, x)
			}
		}
	}
	return append(out, lo, hi)
}

// TestExp32Accuracy walks a dense sample of the float32 values where exp
// is neither 0 nor +Inf (including the tiny |x| where e^x rounds to 1)
// and checks the documented bound: at most 1 ulp from the correctly rounded result
// (math.Exp in float64, rounded once). The vector function must give the
// scalar's bits on every one of them.
func TestExp32Accuracy(t *testing.T) {
	step := vecmathStep()
	xs := floatsIn(-104, 89, step)
	vec := make([]float32, len(xs))
	VecExp(vec, xs)
	worst, at := int64(0), float32(0)
	for i, x := range xs {
		got := Exp32(x)
		if math.Float32bits(got) != math.Float32bits(vec[i]) {
			t.Fatalf("VecExp(%g) = %g, Exp32 = %g", x, vec[i], got)
		}
		want := float32(math.Exp(float64(x)))
		u := ulps(got, want)
		if want < math.SmallestNonzeroFloat32*(1<<23) { // subnormal result: absolute bound
			if u > 1 {
				t.Fatalf("Exp32(%g) = %g, want %g (subnormal, %d units)", x, got, want, u)
			}
			continue
		}
		if u > worst {
			worst, at = u, x
		}
	}
	if worst > 1 {
		t.Fatalf("Exp32(%g) is %d ulp from the correctly rounded result; the bound is 1", at, worst)
	}
	t.Logf("%d values, worst %d ulp at %g", len(xs), worst, at)
	for _, c := range []struct{ x, want float32 }{
		{0, 1}, {float32(math.Copysign(0, -1)), 1}, {float32(math.Inf(1)), float32(math.Inf(1))},
		{float32(math.Inf(-1)), 0}, {89, float32(math.Inf(1))}, {88.7229, float32(math.Inf(1))}, {-104, 0}, {-200, 0},
	} {
		if got := Exp32(c.x); got != c.want {
			t.Errorf("Exp32(%g) = %g, want %g", c.x, got, c.want)
		}
	}
	if got := Exp32(float32(math.NaN())); got == got {
		t.Errorf("Exp32(NaN) = %g", got)
	}
}

// TestSigmoid32Accuracy: at most 3 ulp over a dense sample of [-105,
// 105] (outside, the result is 0 or 1 as it should be), vector = scalar.
func TestSigmoid32Accuracy(t *testing.T) {
	step := vecmathStep()
	xs := floatsIn(-105, 105, step)
	vec := make([]float32, len(xs))
	VecSigmoid(vec, xs)
	worst, at := int64(0), float32(0)
	for i, x := range xs {
		got := Sigmoid32(x)
		if math.Float32bits(got) != math.Float32bits(vec[i]) {
			t.Fatalf("VecSigmoid(%g) = %g, Sigmoid32 = %g", x, vec[i], got)
		}
		want := float32(1 / (1 + math.Exp(-float64(x))))
		if want < math.SmallestNonzeroFloat32*(1<<23) {
			if ulps(got, want) > 1 {
				t.Fatalf("Sigmoid32(%g) = %g, want %g (subnormal)", x, got, want)
			}
			continue
		}
		if u := ulps(got, want); u > worst {
			worst, at = u, x
		}
	}
	if worst > 3 {
		t.Fatalf("Sigmoid32(%g) is %d ulp from the correctly rounded result; the bound is 3", at, worst)
	}
	t.Logf("%d values, worst %d ulp at %g", len(xs), worst, at)
	if Sigmoid32(float32(math.Inf(1))) != 1 || Sigmoid32(float32(math.Inf(-1))) != 0 || Sigmoid32(0) != 0.5 {
		t.Error("Sigmoid32 at ±Inf or 0")
	}
}

func BenchmarkExp(b *testing.B) {
	x, d := make([]float32, 512), make([]float32, 512)
	for i := range x {
		x[i] = float32(i)/32 - 8
	}
	b.Run("VecExp", func(b *testing.B) {
		b.SetBytes(512 * 4)
		for range b.N {
			VecExp(d, x)
		}
	})
	b.Run("Exp32", func(b *testing.B) {
		b.SetBytes(512 * 4)
		for range b.N {
			for i, v := range x {
				d[i] = Exp32(v)
			}
		}
	})
	b.Run("math.Exp", func(b *testing.B) {
		b.SetBytes(512 * 4)
		for range b.N {
			for i, v := range x {
				d[i] = float32(math.Exp(float64(v)))
			}
		}
	})
}

// TestTanh32Accuracy: a dense sample of [-10, 10] (beyond, tanh rounds to
// ±1, checked too), at most 2 ulp from the correctly rounded result
// (values below 2^-126 in magnitude: within one unit of the smallest
// subnormal); the vector function gives the scalar's bits. Measured with
// DLC_VECMATH_STEP=17 (128 million values): at most 1 ulp.
func TestTanh32Accuracy(t *testing.T) {
	checkOddAccuracy(t, "Tanh32", floatsIn(-10, 10, vecmathStep()), VecTanh, Tanh32, math.Tanh, 2)
	for _, c := range []struct{ x, want float32 }{
		{0, 0}, {20, 1}, {-20, -1}, {float32(math.Inf(1)), 1}, {float32(math.Inf(-1)), -1}, {1e30, 1},
	} {
		if got := Tanh32(c.x); got != c.want {
			t.Errorf("Tanh32(%g) = %g, want %g", c.x, got, c.want)
		}
	}
	if got := Tanh32(float32(math.Copysign(0, -1))); !math.Signbit(float64(got)) || got != 0 {
		t.Errorf("Tanh32(-0) = %g, want -0", got)
	}
}

// TestLog32Accuracy: a dense sample of the positive float32 values
// (subnormals included), at most 2 ulp from the correctly rounded result;
// the vector function gives the scalar's bits; the special values.
func TestLog32Accuracy(t *testing.T) {
	xs := floatsIn(0, math.MaxFloat32, vecmathStep())
	vec := make([]float32, len(xs))
	VecLog(vec, xs)
	worst, at := int64(0), float32(0)
	for i, x := range xs {
		got := Log32(x)
		if math.Float32bits(got) != math.Float32bits(vec[i]) {
			t.Fatalf("VecLog(%g) = %g, Log32 = %g", x, vec[i], got)
		}
		want := float32(math.Log(float64(x)))
		if u := ulps(got, want); u > worst {
			worst, at = u, x
		}
	}
	if worst > 2 {
		t.Fatalf("Log32(%g) is %d ulp from the correctly rounded result; the bound is 2", at, worst)
	}
	t.Logf("%d values, worst %d ulp at %g", len(xs), worst, at)
	if got := Log32(0); !math.IsInf(float64(got), -1) {
		t.Errorf("Log32(0) = %g", got)
	}
	if got := Log32(float32(math.Copysign(0, -1))); !math.IsInf(float64(got), -1) {
		t.Errorf("Log32(-0) = %g", got)
	}
	if got := Log32(-1); got == got {
		t.Errorf("Log32(-1) = %g", got)
	}
	if got := Log32(float32(math.Inf(1))); !math.IsInf(float64(got), 1) {
		t.Errorf("Log32(+Inf) = %g", got)
	}
	if got := Log32(1); got != 0 {
		t.Errorf("Log32(1) = %g", got)
	}
}

// TestErf32Accuracy: a dense sample of [-5, 5] (beyond, erf rounds to ±1,
// checked too), at most 2 ulp from the correctly rounded result (math.Erf
// in float64, rounded once; values below 2^-126 in magnitude: within one
// unit of the smallest subnormal); the vector function gives the scalar's
// bits. Measured with DLC_VECMATH_STEP=17 (128 million values): at most
// 1 ulp.
func TestErf32Accuracy(t *testing.T) {
	checkOddAccuracy(t, "Erf32", floatsIn(-5, 5, vecmathStep()), VecErf, Erf32, math.Erf, 2)
	inf := float32(math.Inf(1))
	for _, c := range []struct{ x, want float32 }{
		{0, 0}, {3.92, 1}, {4, 1}, {10, 1}, {-10, -1}, {inf, 1}, {-inf, -1}, {1e30, 1}, {-1e30, -1},
	} {
		if got := Erf32(c.x); got != c.want {
			t.Errorf("Erf32(%g) = %g, want %g", c.x, got, c.want)
		}
	}
	if got := Erf32(float32(math.Copysign(0, -1))); !math.Signbit(float64(got)) || got != 0 {
		t.Errorf("Erf32(-0) = %g, want -0", got)
	}
	nan := float32(math.NaN())
	got := make([]float32, 3)
	VecErf(got, []float32{nan, inf, -inf})
	if got[0] == got[0] || got[1] != 1 || got[2] != -1 {
		t.Errorf("VecErf(NaN, +Inf, -Inf) = %v", got)
	}
}

// checkOddAccuracy checks scalar function f (name) on xs against ref in
// float64 rounded once: at most bound ulp, except results below 2^-126 in
// magnitude, which must be within one unit of the smallest subnormal; and
// that vec, f's vector twin, gives f's bits on every value.
func checkOddAccuracy(t *testing.T, name string, xs []float32, vec func(dst, a []float32), f func(float32) float32, ref func(float64) float64, bound int64) {
	t.Helper()
	got := make([]float32, len(xs))
	vec(got, xs)
	worst, at := int64(0), float32(0)
	for i, x := range xs {
		y := f(x)
		if math.Float32bits(y) != math.Float32bits(got[i]) {
			t.Fatalf("the vector %s(%g) = %g, the scalar one %g", name, x, got[i], y)
		}
		want := float32(ref(float64(x)))
		if math.Abs(float64(want)) < math.SmallestNonzeroFloat32*(1<<23) {
			if ulps(y, want) > 1 {
				t.Fatalf("%s(%g) = %g, want %g (subnormal)", name, x, y, want)
			}
			continue
		}
		if u := ulps(y, want); u > worst {
			worst, at = u, x
		}
	}
	if worst > bound {
		t.Fatalf("%s(%g) is %d ulp from the correctly rounded result; the bound is %d", name, at, worst, bound)
	}
	t.Logf("%d values, worst %d ulp at %g", len(xs), worst, at)
}
