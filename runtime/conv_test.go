package runtime

import (
	"math"
	"math/rand/v2"
	"testing"
)

// geom3 is one dim of a test geometry: input size, kernel, stride,
// dilation, padding before and after.
type geom3 struct{ in, k, s, d, p0, p1 int }

func (a geom3) out() int { return (a.in+a.p0+a.p1-(a.k-1)*a.d-1)/a.s + 1 }

func mkGeom(c int, d, h, w geom3) ConvGeom {
	return ConvGeom{C: c, D: d.in, H: h.in, W: w.in, OD: d.out(), OH: h.out(), OW: w.out(),
		KD: d.k, KH: h.k, KW: w.k, SD: d.s, SH: h.s, SW: w.s, DD: d.d, DH: h.d, DW: w.d,
		PadD0: d.p0, PadH0: h.p0, PadW0: w.p0, PadD1: d.p1, PadH1: h.p1, PadW1: w.p1}
}

// convGeoms are geometries with every feature the helpers handle:
// strides, dilations, asymmetric padding, 1-D, 2-D and 3-D cases, a 1×1
// kernel, and the unrolled 2×2 pools.
func convGeoms() []ConvGeom {
	one := geom3{1, 1, 1, 1, 0, 0}
	return []ConvGeom{
		mkGeom(1, one, geom3{5, 3, 1, 1, 0, 0}, geom3{5, 3, 1, 1, 0, 0}),
		mkGeom(2, one, geom3{6, 3, 2, 1, 1, 2}, geom3{7, 2, 1, 2, 0, 1}),
		mkGeom(3, one, one, geom3{9, 3, 3, 1, 2, 1}),
		mkGeom(2, one, geom3{4, 1, 1, 1, 0, 0}, geom3{4, 1, 1, 1, 0, 0}),
		mkGeom(1, one, geom3{7, 2, 3, 2, 1, 1}, geom3{6, 2, 2, 1, 1, 1}),
		mkGeom(2, one, geom3{6, 2, 2, 1, 0, 0}, geom3{5, 2, 2, 1, 0, 0}),
		mkGeom(1, one, geom3{4, 2, 1, 1, 0, 0}, geom3{4, 2, 1, 1, 0, 0}),
		mkGeom(2, geom3{4, 2, 1, 1, 0, 0}, geom3{3, 2, 1, 1, 0, 0}, geom3{3, 2, 2, 1, 0, 0}),
		mkGeom(1, geom3{5, 2, 2, 2, 1, 1}, geom3{4, 3, 1, 1, 1, 1}, geom3{3, 1, 1, 1, 0, 0}),
	}
}

func convRand(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// at reads x[c, id, ih, iw], zero in the padding.
func at(g ConvGeom, x []float32, c, id, ih, iw int) (float32, bool) {
	if id < 0 || id >= g.D || ih < 0 || ih >= g.H || iw < 0 || iw >= g.W {
		return 0, false
	}
	return x[((c*g.D+id)*g.H+ih)*g.W+iw], true
}

// forWindows calls fn for every output position and kernel offset with the
// flat output index, the flat kernel index and the input position.
func forWindows(g ConvGeom, fn func(o, k, id, ih, iw int)) {
	o := 0
	for od := 0; od < g.OD; od++ {
		for oh := 0; oh < g.OH; oh++ {
			for ow := 0; ow < g.OW; ow++ {
				k := 0
				for kd := 0; kd < g.KD; kd++ {
					for kh := 0; kh < g.KH; kh++ {
						for kw := 0; kw < g.KW; kw++ {
							fn(o, k, od*g.SD-g.PadD0+kd*g.DD, oh*g.SH-g.PadH0+kh*g.DH, ow*g.SW-g.PadW0+kw*g.DW)
							k++
						}
					}
				}
				o++
			}
		}
	}
}

func TestIm2colCol2im(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for gi, g := range convGeoms() {
		kk, p := g.KD*g.KH*g.KW, g.OD*g.OH*g.OW
		x := convRand(r, g.C*g.D*g.H*g.W)
		// Two samples side by side: this one's patches at column p.
		ldc := 2 * p
		col := convRand(r, g.C*kk*ldc)
		Im2col(g, x, col[p:], ldc)
		for c := 0; c < g.C; c++ {
			forWindows(g, func(o, k, id, ih, iw int) {
				want, _ := at(g, x, c, id, ih, iw)
				if got := col[(c*kk+k)*ldc+p+o]; got != want {
					t.Fatalf("geom %d: col[c=%d k=%d o=%d] = %v, want %v", gi, c, k, o, got, want)
				}
			})
		}
		// Col2im is the adjoint: <Im2col(x), d> = <x, Col2im(d)>.
		d := convRand(r, g.C*kk*ldc)
		xd := convRand(r, len(x)) // overwritten
		Col2im(g, d[p:], ldc, xd)
		lhs, rhs := 0.0, 0.0
		for i := 0; i < g.C*kk; i++ {
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

// TestPool compares the pooling helpers with direct loops over every
// window, for both count_include_pad settings.
func TestPool(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for gi, g := range convGeoms() {
		ext := func(k, d int) int { return (k-1)*d + 1 }
		if g.PadD0 >= ext(g.KD, g.DD) || g.PadH0 >= ext(g.KH, g.DH) || g.PadW0 >= ext(g.KW, g.DW) ||
			g.PadD1 >= ext(g.KD, g.DD) || g.PadH1 >= ext(g.KH, g.DH) || g.PadW1 >= ext(g.KW, g.DW) {
			continue // pooling needs windows that hold an input element
		}
		vols := g.C
		n, on := g.D*g.H*g.W, g.OD*g.OH*g.OW
		x := convRand(r, vols*n)
		dy := convRand(r, vols*on)
		y, dx := make([]float32, vols*on), make([]float32, vols*n)
		wantDx := make([]float64, vols*n)
		MaxPool(g, vols, x, y)
		MaxPoolGrad(g, vols, x, dy, dx)
		for p := 0; p < vols; p++ {
			best, arg := make([]float32, on), make([]int, on)
			for i := range arg {
				arg[i] = -1
			}
			forWindows(g, func(o, _, id, ih, iw int) {
				if v, ok := at(g, x, p, id, ih, iw); ok && (arg[o] < 0 || v > best[o]) {
					best[o], arg[o] = v, ((p*g.D+id)*g.H+ih)*g.W+iw
				}
			})
			for o := range best {
				if got := y[p*on+o]; got != best[o] {
					t.Fatalf("geom %d: max pool [%d,%d] = %v, want %v", gi, p, o, got, best[o])
				}
				wantDx[arg[o]] += float64(dy[p*on+o])
			}
		}
		for i := range dx {
			if math.Abs(float64(dx[i])-wantDx[i]) > 1e-5 {
				t.Fatalf("geom %d: max pool grad [%d] = %v, want %v", gi, i, dx[i], wantDx[i])
			}
		}
		if g.DD != 1 || g.DH != 1 || g.DW != 1 {
			continue // average pooling has no dilation
		}
		for _, incl := range []bool{false, true} {
			AvgPool(g, vols, incl, x, y)
			AvgPoolGrad(g, vols, incl, dy, dx)
			clear(wantDx)
			for p := 0; p < vols; p++ {
				sum, count := make([]float64, on), make([]int, on)
				inPadded := func(id, ih, iw int) bool {
					return id >= -g.PadD0 && id < g.D+g.PadD1 && ih >= -g.PadH0 && ih < g.H+g.PadH1 && iw >= -g.PadW0 && iw < g.W+g.PadW1
				}
				forWindows(g, func(o, _, id, ih, iw int) {
					v, ok := at(g, x, p, id, ih, iw)
					sum[o] += float64(v)
					if ok || (incl && inPadded(id, ih, iw)) {
						count[o]++
					}
				})
				for o := range sum {
					if got := y[p*on+o]; math.Abs(float64(got)-sum[o]/float64(count[o])) > 1e-5 {
						t.Fatalf("geom %d include %v: avg pool [%d,%d] = %v, want %v", gi, incl, p, o, got, sum[o]/float64(count[o]))
					}
				}
				forWindows(g, func(o, _, id, ih, iw int) {
					if _, ok := at(g, x, p, id, ih, iw); ok {
						wantDx[((p*g.D+id)*g.H+ih)*g.W+iw] += float64(dy[p*on+o]) / float64(count[o])
					}
				})
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
	one := geom3{1, 1, 1, 1, 0, 0}
	for _, g := range []ConvGeom{
		mkGeom(1, one, geom3{2, 2, 2, 1, 0, 0}, geom3{2, 2, 2, 1, 0, 0}),
		mkGeom(1, one, geom3{2, 2, 2, 1, 0, 1}, geom3{2, 2, 2, 1, 0, 0}), // padding after only: still inside
		mkGeom(1, one, one, geom3{4, 4, 1, 1, 0, 0}),                     // windowMax, all inside
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
			MaxPoolGrad(g, 1, tc.x, []float32{1}, dx)
			for i, v := range dx {
				if want := float32(convB2i(i == tc.want)); v != want {
					t.Errorf("%+v: x %v: dx %v, want the gradient at %d", g, tc.x, dx, tc.want)
					break
				}
			}
			y := make([]float32, 1)
			MaxPool(g, 1, tc.x, y)
			if w := tc.x[tc.want]; y[0] != w && !(w != w && y[0] != y[0]) {
				t.Errorf("x %v: max %v, want %v", tc.x, y[0], w)
			}
		}
	}
	// The general path: a padded window.
	g := mkGeom(1, geom3{1, 1, 1, 1, 0, 0}, geom3{2, 3, 1, 1, 1, 0}, geom3{2, 3, 1, 1, 1, 0})
	dx := make([]float32, 4)
	MaxPoolGrad(g, 1, []float32{2, 1, 2, nan}, []float32{1}, dx)
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
