package runtime

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRowsBlockMatchesRowLoops checks RowsMax, RowsMaxSub, RowsSum64,
// RowsSum and RowsMean against the per-row loops generated code runs (Go's max from
// -Inf; VecSum64's blocked order, vecSum64Go), bit for bit, NaN payloads
// of the max included, over widths around the eight lanes and rows of
// special values (NaN, signed zeros, infinities).
func TestRowsBlockMatchesRowLoops(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 11))
	zeros := []float32{0, float32(math.Copysign(0, -1))}
	for w := 1; w <= 33; w++ {
		for trial := 0; trial < 30; trial++ {
			rows := r.IntN(9)
			a := vecValues(r, rows*w+3)
			switch trial % 3 {
			case 1: // no specials
				for i := range a {
					a[i] = float32(r.NormFloat64())
				}
			case 2: // non-positive with zeros of both signs: max and sum are signed zeros
				for i := range a {
					a[i] = -float32(math.Abs(r.NormFloat64()))
					if r.IntN(2) == 0 {
						a[i] = zeros[r.IntN(2)]
					}
				}
			}
			mx := make([]float32, rows+1)
			s64 := make([]float64, rows+1)
			s := make([]float32, rows+1)
			mean := make([]float32, rows+1)
			mx[rows], s64[rows], s[rows], mean[rows] = 7, 7, 7, 7
			RowsMax(mx[:rows], a, w)
			RowsSum64(s64[:rows], a, w)
			RowsSum(s[:rows], a, w)
			RowsMean(mean[:rows], a, w)
			mx2 := make([]float32, rows)
			sub := make([]float32, rows*w+1)
			sub[rows*w] = 7
			RowsMaxSub(mx2, sub, a, w)
			for i := range rows * w {
				if want := a[i] - mx[i/w]; !sameBits(sub[i], want) || !sameBits(mx2[i/w], mx[i/w]) {
					t.Errorf("RowsMaxSub(w %d, trial %d)[%d] = %v (max %v), want %v (max %v)", w, trial, i, sub[i], mx2[i/w], want, mx[i/w])
					break
				}
			}
			if sub[rows*w] != 7 {
				t.Errorf("w %d: RowsMaxSub wrote past its rows", w)
			}
			for i := 0; i < rows; i++ {
				row := a[i*w : i*w+w]
				wantMax := float32(math.Inf(-1))
				for _, v := range row {
					wantMax = max(wantMax, v)
				}
				if math.Float32bits(mx[i]) != math.Float32bits(wantMax) {
					t.Errorf("RowsMax(w %d, trial %d)[%d] = %v (%#x), the loop %v (%#x)", w, trial, i, mx[i], math.Float32bits(mx[i]), wantMax, math.Float32bits(wantMax))
				}
				want := vecSum64Go(row)
				if !(math.Float64bits(s64[i]) == math.Float64bits(want) || s64[i] != s64[i] && want != want) {
					t.Errorf("RowsSum64(w %d, trial %d)[%d] = %v, the loop %v", w, trial, i, s64[i], want)
				}
				if !sameBits(s[i], float32(want)) {
					t.Errorf("RowsSum(w %d, trial %d)[%d] = %v, want %v", w, trial, i, s[i], float32(want))
				}
				if !sameBits(mean[i], float32(want/float64(w))) {
					t.Errorf("RowsMean(w %d, trial %d)[%d] = %v, want %v", w, trial, i, mean[i], float32(want/float64(w)))
				}
			}
			if mx[rows] != 7 || s64[rows] != 7 || s[rows] != 7 || mean[rows] != 7 {
				t.Errorf("w %d: a Rows function wrote past len(dst)", w)
			}
		}
	}
}
