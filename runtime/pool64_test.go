package runtime

import (
	"math"
	"testing"
)

// TestMaxPool64MatchesMaxPool: on values float32 holds exactly, MaxPool64
// picks what MaxPool picks, over every geometry of the conv tests (padding,
// dilation, the unrolled 2×2 path) and with NaN and -Inf among the values.
func TestMaxPool64MatchesMaxPool(t *testing.T) {
	rng := NewRNG(3)
	for gi, g := range convGeoms() {
		vols := 2
		n, on := g.D*g.H*g.W, g.OD*g.OH*g.OW
		x32 := make([]float32, vols*n)
		for i := range x32 {
			x32[i] = float32(rng.Intn(7) - 3)
		}
		x32[0], x32[len(x32)-1] = float32(math.NaN()), float32(math.Inf(-1))
		x64 := make([]float64, len(x32))
		for i, v := range x32 {
			x64[i] = float64(v)
		}
		y32, y64 := make([]float32, vols*on), make([]float64, vols*on)
		MaxPool(g, vols, x32, y32)
		MaxPool64(g, vols, x64, y64)
		for i := range y32 {
			if a, b := float64(y32[i]), y64[i]; a != b && !(math.IsNaN(a) && math.IsNaN(b)) {
				t.Fatalf("geometry %d: y[%d] = %v (MaxPool64), MaxPool has %v", gi, i, b, a)
			}
		}
	}
}
