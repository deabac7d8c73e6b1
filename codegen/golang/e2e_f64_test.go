package golang_test

import (
	"math"
	"testing"
)

// checkExact checks that got is want to the bit (NaN for NaN): for the
// f64_* cases, whose f64 values the generated code computes as the
// interpreter does (the same float64 operations in the same order), so
// that the f32 results they are rounded to agree exactly. A backend that
// computed f64 in float32, or in another order, fails it where checkClose's
// 1e-4 would pass.
func checkExact(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d elements, want %d", what, len(got), len(want))
		return
	}
	bad := 0
	for i := range got {
		g, w := float64(got[i]), want[i]
		if g == w || math.IsNaN(g) && math.IsNaN(w) {
			continue
		}
		if bad < 5 {
			t.Errorf("%s: element %d = %v, interp has %v exactly (f64 must agree to the bit)", what, i, g, w)
		}
		bad++
	}
	if bad > 5 {
		t.Errorf("%s: %d elements differ in all", what, bad)
	}
}
