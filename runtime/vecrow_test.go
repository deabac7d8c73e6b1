package runtime

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestVecRowMatchesScalar checks VecSum64, VecMax and VecScale64 against
// their Go twins bit for bit (NaN payloads aside) over lengths that
// exercise the full-vector and masked tail paths, unaligned starts, and
// rows of special values (NaN, signed zeros, infinities).
func TestVecRowMatchesScalar(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	lengths := []int{0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 100, 128, 129, 512}
	zeros := []float32{0, float32(math.Copysign(0, -1))}
	for _, n := range lengths {
		for trial := 0; trial < 40; trial++ {
			off := r.IntN(3)
			buf := vecValues(r, n+off)
			switch trial % 4 {
			case 1: // no specials: the vector max's fast path
				for i := range buf {
					buf[i] = float32(r.NormFloat64())
				}
			case 2: // only zeros of both signs: the max is a signed zero
				for i := range buf {
					buf[i] = zeros[r.IntN(2)]
				}
			case 3: // non-positive with zeros
				for i := range buf {
					buf[i] = -float32(math.Abs(r.NormFloat64()))
					if r.IntN(3) == 0 {
						buf[i] = zeros[r.IntN(2)]
					}
				}
			}
			a := buf[off:]
			if got, want := VecSum64(a), vecSum64Go(a); !(got == want && math.Signbit(got) == math.Signbit(want)) && !(got != got && want != want) {
				t.Errorf("VecSum64(len %d, trial %d) = %v, the Go loop %v", n, trial, got, want)
			}
			if got, want := VecMax(a), vecMaxGo(a); !sameBits(got, want) {
				t.Errorf("VecMax(len %d, trial %d) = %v, the Go loop %v", n, trial, got, want)
			}
			for _, s := range []float64{0.015625, 1 / 3.0, -7.5, math.Inf(1), math.NaN(), 1e-300} {
				got := make([]float32, n+2)
				want := make([]float32, n+2)
				got[n], got[n+1], want[n], want[n+1] = 5, 5, 5, 5
				VecScale64(got[:n], a, s)
				vecScale64Go(want[:n], a, s)
				for i := range got {
					if !sameBits(got[i], want[i]) {
						t.Errorf("VecScale64(len %d, s %v)[%d] = %v, the Go loop %v", n, s, i, got[i], want[i])
						break
					}
				}
			}
		}
	}
	// The blocked order is the documented one.
	a := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	l := [8]float64{1 + 9, 2 + 10, 3, 4, 5, 6, 7, 8}
	if got, want := VecSum64(a), SumLanes64(&l); got != want {
		t.Errorf("VecSum64(1..10) = %v, want %v", got, want)
	}
}
