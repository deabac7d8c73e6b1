package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// paddedGeoms are convolution geometries for Conv, ConvTranspose and
// ConvFilterGrad: LeNet-5's two layers, stride-1 cases of the padded-width
// path (padding before and after, asymmetric, beyond the kernel after,
// wider than the kernel, dilation, 1-D, a 1×1 kernel, odd sizes) and,
// through convGeoms, strided
// and 3-D ones that take the fallback path.
func paddedGeoms() []ConvGeom {
	one := geom3{1, 1, 1, 1, 0, 0}
	gs := []ConvGeom{
		mkGeom(1, one, geom3{28, 5, 1, 1, 2, 2}, geom3{28, 5, 1, 1, 2, 2}),
		mkGeom(6, one, geom3{14, 5, 1, 1, 0, 0}, geom3{14, 5, 1, 1, 0, 0}),
		mkGeom(2, one, geom3{7, 3, 1, 1, 1, 0}, geom3{9, 3, 1, 1, 0, 2}),
		mkGeom(3, one, geom3{6, 3, 1, 2, 2, 1}, geom3{5, 2, 1, 3, 1, 3}),
		mkGeom(2, one, one, geom3{11, 4, 1, 1, 3, 1}),
		mkGeom(4, one, geom3{5, 1, 1, 1, 0, 0}, geom3{3, 1, 1, 1, 0, 0}),
		mkGeom(1, one, geom3{3, 3, 1, 1, 2, 2}, geom3{2, 2, 1, 1, 1, 1}),
		mkGeom(2, one, geom3{5, 3, 1, 1, 0, 0}, geom3{37, 3, 1, 1, 1, 1}),
		mkGeom(2, one, geom3{3, 2, 1, 1, 3, 3}, geom3{4, 2, 1, 1, 0, 1}), // output rows of padding only
	}
	return append(gs, convGeoms()...)
}

// convVariants runs fn with each SGEMM micro-kernel this machine has.
func convVariants(t *testing.T, fn func(t *testing.T)) {
	old := sgemmImpl
	defer func() { sgemmImpl = old }()
	for _, v := range sgemmVariants {
		sgemmImpl = v
		t.Run(v.name, fn)
	}
}

func closeEnough(got float32, want float64) bool {
	return math.Abs(float64(got)-want) <= 1e-4*(1+math.Abs(want))
}

// TestConvPadded compares Conv, ConvTranspose and ConvFilterGrad with
// direct loops over every window, for 1 and 2 groups and several samples,
// on scratch prefilled with NaNs (nothing may read scratch it did not
// write).
func TestConvPadded(t *testing.T) {
	convVariants(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for gi, g := range paddedGeoms() {
			// 16 and 32 output channels take the channels-along-vectors
			// path of the AVX-512 kernels.
			for _, gm := range [][2]int{{1, 3}, {1, 16}, {1, 32}, {2, 4}} {
				group, m := gm[0], gm[1]
				if g.C%group != 0 {
					continue
				}
				t.Run(fmt.Sprintf("geom%d/group%d/m%d", gi, group, m), func(t *testing.T) {
					checkConv(t, r, g, group, m)
				})
			}
		}
	})
}

func nanScratch(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(math.NaN())
	}
	return s
}

func checkConv(t *testing.T, r *rand.Rand, g ConvGeom, group, m int) {
	const n = 3
	cg, mg := g.C/group, m/group
	kk, in, pos := g.KD*g.KH*g.KW, g.C*g.D*g.H*g.W, g.OD*g.OH*g.OW
	x, w := convRand(r, n*in), convRand(r, m*cg*kk)
	dy := convRand(r, n*m*pos)
	// References in float64.
	y := make([]float64, n*m*pos)  // conv(x, w)
	dx := make([]float64, n*in)    // conv_transpose(dy, wᵀ): the input gradient
	dw := make([]float64, m*cg*kk) // filter gradient (group 1 only)
	for b := range n {
		for o := range m {
			gi := o / mg
			for i := range cg {
				c := gi*cg + i
				forWindows(g, func(q, k, id, ih, iw int) {
					v, ok := at(g, x[b*in:], c, id, ih, iw)
					if !ok {
						return
					}
					wv := float64(w[(o*cg+i)*kk+k])
					y[(b*m+o)*pos+q] += wv * float64(v)
					dx[b*in+((c*g.D+id)*g.H+ih)*g.W+iw] += wv * float64(dy[(b*m+o)*pos+q])
					dw[(o*cg+i)*kk+k] += float64(dy[(b*m+o)*pos+q]) * float64(v)
				})
			}
		}
	}

	got := nanScratch(n * m * pos)
	Conv(g, m, group, w, x, got, nanScratch(ConvScratchLen(g, m)), n)
	for i, want := range y {
		if !closeEnough(got[i], want) {
			t.Fatalf("Conv: y[%d] = %v, want %v", i, got[i], want)
		}
	}

	// ConvTranspose reads the filter as [C_in, M/group, k] of the
	// transposed convolution: w [m, cg, k] is that filter for input
	// channels m and outputs C.
	gotDx := nanScratch(n * in)
	ConvTranspose(g, m, group, w, dy, gotDx, nanScratch(ConvTransposeScratchLen(g, m, group)), n)
	for i, want := range dx {
		if !closeEnough(gotDx[i], want) {
			t.Fatalf("ConvTranspose: dx[%d] = %v, want %v", i, gotDx[i], want)
		}
	}

	if group != 1 {
		return
	}
	ck := g.C * kk
	gotDw := nanScratch(m * ck)
	// Rows split as a pool would: [0, 1), [1, ck/2), [ck/2, ck).
	cuts := []int{0, min(1, ck), max(min(1, ck), ck/2), ck}
	for i := 0; i+1 < len(cuts); i++ {
		lo, hi := cuts[i], cuts[i+1]
		ConvFilterGrad(g, m, x, dy, gotDw, nanScratch(ConvFilterGradScratchLen(g, m, hi-lo)), n, lo, hi)
	}
	for i, want := range dw {
		if !closeEnough(gotDw[i], want) {
			t.Fatalf("ConvFilterGrad: dw[%d] = %v, want %v", i, gotDw[i], want)
		}
	}
	// No samples: a zero gradient.
	ConvFilterGrad(g, m, x, dy, gotDw, nanScratch(ConvFilterGradScratchLen(g, m, ck)), 0, 0, ck)
	for i, v := range gotDw {
		if v != 0 {
			t.Fatalf("ConvFilterGrad with no samples: dw[%d] = %v", i, v)
		}
	}
}

// TestConvScratchTooSmall: a short scratch is a programming error in the
// generated code, reported with the sizes.
func TestConvScratchTooSmall(t *testing.T) {
	g := paddedGeoms()[0]
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("Conv with a short scratch did not panic")
		}
	}()
	Conv(g, 2, 1, make([]float32, 50), make([]float32, 784), make([]float32, 2*784), make([]float32, 10), 1)
}

func TestConvNoAlloc(t *testing.T) {
	g := paddedGeoms()[1]
	x, w, y := make([]float32, 2*6*196), make([]float32, 16*150), make([]float32, 2*1600)
	s := make([]float32, ConvScratchLen(g, 16))
	if a := testing.AllocsPerRun(10, func() { Conv(g, 16, 1, w, x, y, s, 2) }); a != 0 {
		t.Errorf("Conv allocates %v times per call", a)
	}
	dw := make([]float32, 16*150)
	fs := make([]float32, ConvFilterGradScratchLen(g, 16, 150))
	if a := testing.AllocsPerRun(10, func() { ConvFilterGrad(g, 16, x, y, dw, fs, 2, 0, 150) }); a != 0 {
		t.Errorf("ConvFilterGrad allocates %v times per call", a)
	}
}
