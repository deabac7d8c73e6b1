package runtime

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func moments(x []float32) (mean, variance, lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range x {
		mean += float64(v)
		lo = math.Min(lo, float64(v))
		hi = math.Max(hi, float64(v))
	}
	mean /= float64(len(x))
	for _, v := range x {
		d := float64(v) - mean
		variance += d * d
	}
	return mean, variance / float64(len(x)), lo, hi
}

func TestInitializeStatistics(t *testing.T) {
	const n = 100000
	const fanIn, fanOut = 300, 100
	avg := float64(fanIn+fanOut) / 2
	// uniformVar is the variance of U[-l, l).
	uniformVar := func(l float64) float64 { return l * l / 3 }
	cases := []struct {
		spec      InitSpec
		mean, vr  float64
		lo, hi    float64 // bounds every sample must respect
		tightBand bool    // samples should come close to the bounds
	}{
		{InitSpec{Kind: "random_normal", Mean: 1, Stddev: 0.5}, 1, 0.25, math.Inf(-1), math.Inf(1), false},
		{InitSpec{Kind: "random_uniform", Minval: -0.2, Maxval: 0.6}, 0.2, 0.64 / 12, -0.2, 0.6, true},
		// Truncated normal at ±2σ has variance σ²·0.77373.
		{InitSpec{Kind: "truncated_normal", Mean: -1, Stddev: 2}, -1, 4 * 0.773741, -5, 3, true},
		{InitSpec{Kind: "glorot_uniform"}, 0, uniformVar(math.Sqrt(3 / avg)), -math.Sqrt(3 / avg), math.Sqrt(3 / avg), true},
		// Keras corrects the truncated stddev so the variance is scale/n.
		{InitSpec{Kind: "glorot_normal"}, 0, 1 / avg, -2 * math.Sqrt(1/avg) / truncNormalStddevCorrection, 2 * math.Sqrt(1/avg) / truncNormalStddevCorrection, true},
		{InitSpec{Kind: "he_uniform"}, 0, 2.0 / fanIn, -math.Sqrt(6.0 / fanIn), math.Sqrt(6.0 / fanIn), true},
		{InitSpec{Kind: "he_normal"}, 0, 2.0 / fanIn, -2 * math.Sqrt(2.0/fanIn) / truncNormalStddevCorrection, 2 * math.Sqrt(2.0/fanIn) / truncNormalStddevCorrection, true},
		{InitSpec{Kind: "lecun_uniform"}, 0, 1.0 / fanIn, -math.Sqrt(3.0 / fanIn), math.Sqrt(3.0 / fanIn), true},
		{InitSpec{Kind: "lecun_normal"}, 0, 1.0 / fanIn, math.Inf(-1), math.Inf(1), false},
		{InitSpec{Kind: "variance_scaling", Scale: 3, Mode: "fan_out", Distribution: "untruncated_normal"}, 0, 3.0 / fanOut, math.Inf(-1), math.Inf(1), false},
		{InitSpec{Kind: "variance_scaling", Scale: 0.5, Mode: "fan_avg", Distribution: "uniform"}, 0, 0.5 / avg, -math.Sqrt(1.5 / avg), math.Sqrt(1.5 / avg), true},
		{InitSpec{Kind: "variance_scaling", Scale: 2}, 0, 2.0 / fanIn, math.Inf(-1), math.Inf(1), false}, // Keras defaults fan_in, truncated_normal
	}
	for _, tc := range cases {
		dst := make([]float32, n)
		if err := Initialize(dst, tc.spec, fanIn, fanOut, NewRNG(11)); err != nil {
			t.Fatalf("%+v: %v", tc.spec, err)
		}
		mean, vr, lo, hi := moments(dst)
		sd := math.Sqrt(tc.vr)
		if math.Abs(mean-tc.mean) > 5*sd/math.Sqrt(n) {
			t.Errorf("%s: mean %v, want %v", tc.spec.Kind, mean, tc.mean)
		}
		if math.Abs(vr-tc.vr) > 0.02*tc.vr {
			t.Errorf("%s %s: variance %v, want %v", tc.spec.Kind, tc.spec.Mode, vr, tc.vr)
		}
		eps := 1e-6 * (1 + math.Abs(tc.hi))
		if lo < tc.lo-eps || hi > tc.hi+eps {
			t.Errorf("%s: samples in [%v, %v], want within [%v, %v]", tc.spec.Kind, lo, hi, tc.lo, tc.hi)
		}
		if tc.tightBand && (lo > tc.lo+0.01*(tc.hi-tc.lo) || hi < tc.hi-0.01*(tc.hi-tc.lo)) {
			t.Errorf("%s: samples in [%v, %v] do not reach the bounds [%v, %v]", tc.spec.Kind, lo, hi, tc.lo, tc.hi)
		}
	}
}

func TestInitializeConstants(t *testing.T) {
	dst := []float32{5, 5, 5}
	for _, tc := range []struct {
		spec InitSpec
		want float32
	}{
		{InitSpec{Kind: "zeros"}, 0},
		{InitSpec{Kind: "ones"}, 1},
		{InitSpec{Kind: "constant", Value: -0.25}, -0.25},
	} {
		if err := Initialize(dst, tc.spec, 0, 0, nil); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(dst, []float32{tc.want, tc.want, tc.want}) {
			t.Errorf("%s: %v", tc.spec.Kind, dst)
		}
	}
}

func TestInitializeDeterministic(t *testing.T) {
	for _, kind := range []string{"glorot_uniform", "he_normal", "random_normal", "truncated_normal", "random_uniform"} {
		spec := InitSpec{Kind: kind, Stddev: 1, Maxval: 1}
		a, b, c := make([]float32, 1000), make([]float32, 1000), make([]float32, 1000)
		for _, x := range []struct {
			dst  []float32
			seed uint64
		}{{a, 1}, {b, 1}, {c, 2}} {
			if err := Initialize(x.dst, spec, 10, 20, NewRNG(x.seed)); err != nil {
				t.Fatal(err)
			}
		}
		if !slices.Equal(a, b) {
			t.Errorf("%s: same seed, different values", kind)
		}
		if slices.Equal(a, c) {
			t.Errorf("%s: different seeds, same values", kind)
		}
	}
}

// TestInitializeZeroFan follows Keras, which divides by max(1, fan).
func TestInitializeZeroFan(t *testing.T) {
	dst := make([]float32, 1000)
	if err := Initialize(dst, InitSpec{Kind: "he_uniform"}, 0, 0, NewRNG(1)); err != nil {
		t.Fatal(err)
	}
	_, _, lo, hi := moments(dst)
	if lo < -math.Sqrt(6)-1e-6 || hi > math.Sqrt(6)+1e-6 || hi < 2 {
		t.Fatalf("he_uniform with fan_in 0: range [%v, %v], want about ±sqrt(6)", lo, hi)
	}
}

func TestValidateInitSpecErrors(t *testing.T) {
	cases := []struct {
		spec InitSpec
		want string
	}{
		{InitSpec{}, "Kind is empty"},
		{InitSpec{Kind: "GlorotUniform"}, `unknown Kind "GlorotUniform"`},
		{InitSpec{Kind: "random_normal", Stddev: -1}, "Stddev"},
		{InitSpec{Kind: "truncated_normal", Stddev: math.NaN()}, "Stddev"},
		{InitSpec{Kind: "random_normal", Mean: math.Inf(1)}, "Mean"},
		{InitSpec{Kind: "random_uniform", Minval: 1, Maxval: 0}, "Minval"},
		{InitSpec{Kind: "constant", Value: math.NaN()}, "Value"},
		{InitSpec{Kind: "variance_scaling", Scale: 0}, "Scale"},
		{InitSpec{Kind: "variance_scaling", Scale: 1, Mode: "fan_sum"}, `Mode = "fan_sum"`},
		{InitSpec{Kind: "variance_scaling", Scale: 1, Distribution: "gaussian"}, `Distribution = "gaussian"`},
	}
	for _, tc := range cases {
		err := ValidateInitSpec(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one mentioning %q", tc.spec, err, tc.want)
		}
		if err2 := Initialize(make([]float32, 2), tc.spec, 1, 1, NewRNG(1)); err2 == nil {
			t.Errorf("%+v: Initialize accepted an invalid spec", tc.spec)
		}
	}
	for _, ok := range []InitSpec{
		{Kind: "zeros"}, {Kind: "random_normal"}, {Kind: "random_uniform", Minval: 2, Maxval: 2},
		{Kind: "variance_scaling", Scale: 2, Mode: "fan_avg", Distribution: "uniform"},
	} {
		if err := ValidateInitSpec(ok); err != nil {
			t.Errorf("%+v: unexpected error %v", ok, err)
		}
	}
	if err := Initialize(make([]float32, 2), InitSpec{Kind: "he_normal"}, 1, 1, nil); err == nil || !strings.Contains(err.Error(), "rng") {
		t.Errorf("nil rng: error %v", err)
	}
	if err := Initialize(make([]float32, 2), InitSpec{Kind: "he_normal"}, -1, 1, NewRNG(1)); err == nil || !strings.Contains(err.Error(), "fan_in") {
		t.Errorf("negative fan: error %v", err)
	}
}
