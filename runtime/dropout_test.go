package runtime

import (
	"math"
	"testing"
)

func TestDropoutMask(t *testing.T) {
	key := DropoutKey(42, 7)
	const n, rate = 10000, 0.25
	whole := make([]float32, n)
	DropoutMask(whole, 0, key, rate)
	// Any split over workers gives the same bits.
	parts := make([]float32, n)
	for _, r := range [][2]int{{0, 1}, {1, 4097}, {4097, 9000}, {9000, n}} {
		DropoutMask(parts[r[0]:r[1]], r[0], key, rate)
	}
	kept := 0
	for i := range whole {
		if whole[i] != parts[i] {
			t.Fatalf("element %d: %v whole, %v split", i, whole[i], parts[i])
		}
		switch whole[i] {
		case 0:
		case DropoutScale(rate):
			kept++
		default:
			t.Fatalf("element %d is %v", i, whole[i])
		}
	}
	// 10000 Bernoulli(0.75) draws: 4 standard deviations is 0.0173.
	if f := float64(kept) / n; math.Abs(f-0.75) > 0.0173 {
		t.Errorf("kept %.4f, want about 0.75", f)
	}
	if DropoutScale(rate) != float32(4.0/3) {
		t.Errorf("scale %v", DropoutScale(rate))
	}
	// The stream depends on the seed and the step.
	if DropoutKey(42, 8) == key || DropoutKey(43, 7) == key {
		t.Error("keys collide")
	}
	// The definition is frozen: checkpoints and references depend on the
	// exact bits. (Values printed by this implementation when written.)
	want := []float64{0.20421534776687622, 0.03394913673400879, 0.5553378462791443}
	for i, w := range want {
		if u := DropoutUniform(key, uint64(i)); u != w {
			t.Errorf("DropoutUniform(key, %d) = %v, want %v", i, u, w)
		}
	}
	// A corrupt counter draws as step 0.
	if DropoutKey(1, float32(math.NaN())) != DropoutKey(1, 0) || DropoutKey(1, -3) != DropoutKey(1, 0) {
		t.Error("a NaN or negative counter is not read as 0")
	}
}
