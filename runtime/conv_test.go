package runtime

import (
	"math"
	"math/rand/v2"
	"testing"
)

// convGeoms are geometries with every feature the helpers handle:
// strides, dilations, asymmetric padding, a 1-D case, a 1×1 kernel.
func convGeoms() []ConvGeom {
	mk := func(c, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr int) ConvGeom {
		g := ConvGeom{C: c, H: h, W: w, KH: kh, KW: kw, SH: sh, SW: sw, DH: dh, DW: dw, PadT: pt, PadL: pl, PadB: pb, PadR: pr}
		g.OH = (h+pt+pb-(kh-1)*dh-1)/sh + 1
		g.OW = (w+pl+pr-(kw-1)*dw-1)/sw + 1
		return g
	}
	return []ConvGeom{
		mk(1, 5, 5, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0),
		mk(2, 6, 7, 3, 2, 2, 1, 1, 2, 1, 0, 2, 1),
		mk(3, 1, 9, 1, 3, 1, 3, 1, 1, 0, 2, 0, 1),
		mk(2, 4, 4, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0),
		mk(1, 7, 6, 2, 2, 3, 2, 2, 1, 1, 1, 1, 1),
		mk(2, 6, 5, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0), // the unrolled 2×2 pools
		mk(1, 4, 4, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0),
	}
}

func convRand(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// at reads x[c, ih, iw], zero in the padding.
func at(g ConvGeom, x []float32, c, ih, iw int) (float32, bool) {
	if ih < 0 || ih >= g.H || iw < 0 || iw >= g.W {
		return 0, false
	}
	return x[(c*g.H+ih)*g.W+iw], true
}

func TestIm2colCol2im(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for gi, g := range convGeoms() {
		k, p := g.C*g.KH*g.KW, g.OH*g.OW
		x := convRand(r, g.C*g.H*g.W)
		// Two samples side by side: this one's patches at column p.
		ldc := 2 * p
		col := convRand(r, k*ldc)
		Im2col(g, x, col[p:], ldc)
		for c := 0; c < g.C; c++ {
			for kh := 0; kh < g.KH; kh++ {
				for kw := 0; kw < g.KW; kw++ {
					for oh := 0; oh < g.OH; oh++ {
						for ow := 0; ow < g.OW; ow++ {
							want, _ := at(g, x, c, oh*g.SH-g.PadT+kh*g.DH, ow*g.SW-g.PadL+kw*g.DW)
							if got := col[((c*g.KH+kh)*g.KW+kw)*ldc+p+oh*g.OW+ow]; got != want {
								t.Fatalf("geom %d: col[c=%d kh=%d kw=%d oh=%d ow=%d] = %v, want %v", gi, c, kh, kw, oh, ow, got, want)
							}
						}
					}
				}
			}
		}
		// Col2im is the adjoint: <Im2col(x), d> = <x, Col2im(d)>.
		d := convRand(r, k*ldc)
		xd := convRand(r, len(x)) // overwritten
		Col2im(g, d[p:], ldc, xd)
		lhs, rhs := 0.0, 0.0
		for i := 0; i < k; i++ {
			for j := 0; j < p; j++ {
				lhs += float64(col[i*ldc+p+j]) * float64(d[i*ldc+p+j])
			}
		}
		for i := range x {
			rhs += float64(x[i]) * float64(xd[i])
		}
		if math.Abs(lhs-rhs) > 1e-4*(1+math.Abs(lhs)) {
			t.Errorf("geom %d: <im2col x, d> = %v, <x, col2im d> = %v", gi, lhs, rhs)
		}
	}
}

func TestSwapOuter(t *testing.T) {
	src := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12} // [2, 3, 2]
	dst := make([]float32, 12)
	SwapOuter(src, dst, 2, 3, 2)
	want := []float32{1, 2, 7, 8, 3, 4, 9, 10, 5, 6, 11, 12}
	for i := range want {
		if dst[i] != want[i] {
			t.Fatalf("SwapOuter = %v, want %v", dst, want)
		}
	}
}

// TestPool2D compares the pooling helpers with direct loops over every
// window, for both count_include_pad settings.
func TestPool2D(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for gi, g := range convGeoms() {
		if g.PadT >= g.KH || g.PadL >= g.KW || g.PadB >= g.KH || g.PadR >= g.KW {
			continue // pooling needs windows that hold an input element
		}
		planes := g.C
		hw, ohw := g.H*g.W, g.OH*g.OW
		x := convRand(r, planes*hw)
		dy := convRand(r, planes*ohw)
		y, dx := make([]float32, planes*ohw), make([]float32, planes*hw)
		wantDx := make([]float64, planes*hw)
		MaxPool2D(g, planes, x, y)
		MaxPool2DGrad(g, planes, x, dy, dx)
		for p := 0; p < planes; p++ {
			for oh := 0; oh < g.OH; oh++ {
				for ow := 0; ow < g.OW; ow++ {
					best, arg := float32(math.Inf(-1)), -1
					for kh := 0; kh < g.KH; kh++ {
						for kw := 0; kw < g.KW; kw++ {
							ih, iw := oh*g.SH-g.PadT+kh*g.DH, ow*g.SW-g.PadL+kw*g.DW
							if v, ok := at(g, x, p, ih, iw); ok && (arg < 0 || v > best) {
								best, arg = v, (p*g.H+ih)*g.W+iw
							}
						}
					}
					if got := y[p*ohw+oh*g.OW+ow]; got != best {
						t.Fatalf("geom %d: max pool [%d,%d,%d] = %v, want %v", gi, p, oh, ow, got, best)
					}
					if arg >= 0 {
						wantDx[arg] += float64(dy[p*ohw+oh*g.OW+ow])
					}
				}
			}
		}
		for i := range dx {
			if math.Abs(float64(dx[i])-wantDx[i]) > 1e-5 {
				t.Fatalf("geom %d: max pool grad [%d] = %v, want %v", gi, i, dx[i], wantDx[i])
			}
		}
		if g.DH != 1 || g.DW != 1 {
			continue // average pooling has no dilation
		}
		for _, incl := range []bool{false, true} {
			AvgPool2D(g, planes, incl, x, y)
			AvgPool2DGrad(g, planes, incl, dy, dx)
			clear(wantDx)
			for p := 0; p < planes; p++ {
				for oh := 0; oh < g.OH; oh++ {
					for ow := 0; ow < g.OW; ow++ {
						s, n := 0.0, 0
						for kh := 0; kh < g.KH; kh++ {
							for kw := 0; kw < g.KW; kw++ {
								ih, iw := oh*g.SH-g.PadT+kh, ow*g.SW-g.PadL+kw
								v, ok := at(g, x, p, ih, iw)
								if ok {
									s += float64(v)
								}
								if ok || (incl && ih < g.H+g.PadB && iw < g.W+g.PadR) {
									n++
								}
							}
						}
						if got := y[p*ohw+oh*g.OW+ow]; math.Abs(float64(got)-s/float64(n)) > 1e-5 {
							t.Fatalf("geom %d include %v: avg pool [%d,%d,%d] = %v, want %v", gi, incl, p, oh, ow, got, s/float64(n))
						}
						for kh := 0; kh < g.KH; kh++ {
							for kw := 0; kw < g.KW; kw++ {
								ih, iw := oh*g.SH-g.PadT+kh, ow*g.SW-g.PadL+kw
								if _, ok := at(g, x, p, ih, iw); ok {
									wantDx[(p*g.H+ih)*g.W+iw] += float64(dy[p*ohw+oh*g.OW+ow]) / float64(n)
								}
							}
						}
					}
				}
			}
			for i := range dx {
				if math.Abs(float64(dx[i])-wantDx[i]) > 1e-5 {
					t.Fatalf("geom %d include %v: avg pool grad [%d] = %v, want %v", gi, incl, i, dx[i], wantDx[i])
				}
			}
		}
	}
}

// TestMaxPoolTiesAndNaN: the gradient goes to the first max of a window,
// a NaN wins (the first NaN), on the unrolled 2×2 path and the general one.
func TestMaxPoolTiesAndNaN(t *testing.T) {
	nan := float32(math.NaN())
	for _, g := range []ConvGeom{
		{C: 1, H: 2, W: 2, OH: 1, OW: 1, KH: 2, KW: 2, SH: 2, SW: 2, DH: 1, DW: 1},
		{C: 1, H: 2, W: 2, OH: 1, OW: 1, KH: 2, KW: 2, SH: 2, SW: 2, DH: 1, DW: 1, PadB: 1}, // PadB only: still inside
	} {
		for _, tc := range []struct {
			x    []float32
			want int
		}{
			{[]float32{3, 3, 1, 3}, 0},
			{[]float32{1, 3, 3, 2}, 1},
			{[]float32{1, 2, 3, 3}, 2},
			{[]float32{1, nan, 5, nan}, 1},
			{[]float32{1, 2, 0, 7}, 3},
		} {
			dx := make([]float32, 4)
			MaxPool2DGrad(g, 1, tc.x, []float32{1}, dx)
			for i, v := range dx {
				if want := float32(convB2i(i == tc.want)); v != want {
					t.Errorf("%+v: x %v: dx %v, want the gradient at %d", g, tc.x, dx, tc.want)
					break
				}
			}
			y := make([]float32, 1)
			MaxPool2D(g, 1, tc.x, y)
			if w := tc.x[tc.want]; y[0] != w && !(w != w && y[0] != y[0]) {
				t.Errorf("x %v: max %v, want %v", tc.x, y[0], w)
			}
		}
	}
	// The general path: a padded window.
	g := ConvGeom{C: 1, H: 2, W: 2, OH: 1, OW: 1, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, PadT: 1, PadL: 1}
	dx := make([]float32, 4)
	MaxPool2DGrad(g, 1, []float32{2, 1, 2, nan}, []float32{1}, dx)
	if dx[3] != 1 || dx[0] != 0 {
		t.Errorf("padded window: dx %v, want the gradient at the NaN", dx)
	}
}

func convB2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
