package runtime

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMaxPool2x2Shapes checks the 2×2 stride-2 pool and its gradient (the
// vector kernels where the CPU has them) against windowMax on planes of
// many widths (one and several 16-window steps, ragged ends, odd sizes),
// with ties, zeros of both signs, infinities and NaNs in x and dy, over dx
// prefilled with garbage (every element must be written).
func TestMaxPool2x2Shapes(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	vals := []float32{0, float32(math.Copysign(0, -1)), 1, 1, 2, -1, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	one := geom3{1, 1, 1, 1, 0, 0}
	for _, hw := range [][2]int{{2, 2}, {28, 28}, {10, 10}, {3, 5}, {5, 33}, {4, 64}, {7, 65}, {2, 31}, {6, 97}} {
		g := mkGeom(1, one, geom3{hw[0], 2, 2, 1, 0, 0}, geom3{hw[1], 2, 2, 1, 0, 0})
		const vols = 3
		n, on := g.H*g.W, g.OH*g.OW
		x, dy := make([]float32, vols*n), make([]float32, vols*on)
		for i := range x {
			if r.IntN(4) == 0 {
				x[i] = vals[r.IntN(len(vals))]
			} else {
				x[i] = float32(r.IntN(5))
			}
		}
		for i := range dy {
			dy[i] = float32(r.NormFloat64())
			if r.IntN(20) == 0 {
				dy[i] = vals[r.IntN(len(vals))]
			}
		}
		y, dx := make([]float32, vols*on), make([]float32, vols*n)
		for i := range dx {
			dx[i] = 12345
		}
		MaxPool(g, vols, x, y)
		MaxPoolGrad(g, vols, x, dy, dx)
		want := make([]float32, vols*n)
		for p := range vols {
			vol := x[p*n : (p+1)*n]
			for oh := range g.OH {
				for ow := range g.OW {
					at := windowMax(&g, vol, 0, oh, ow, true)
					o := p*on + oh*g.OW + ow
					if got, w := y[o], vol[at]; got != w && !(got != got && w != w) && !(got == 0 && w == 0) {
						t.Fatalf("%dx%d: y[%d] = %v, want %v", g.H, g.W, o, got, w)
					}
					want[p*n+at] = dy[o]
				}
			}
		}
		for i := range want {
			// The scalar path adds dy to a zero: -0 comes out as +0.
			if g, w := dx[i], want[i]; g != w && !(g != g && w != w) {
				t.Fatalf("%dx%d: dx[%d] = %v, want %v", hw[0], hw[1], i, g, w)
			}
		}
	}
}
