package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The convolution helpers take ranges so that the pool can split their
// work: ConvFilterGrad a range [lo, hi) of the patch rows (the columns of
// dW), Conv and ConvTranspose a range of samples (the generated code
// passes a slice of the batch). The results must not depend on the split,
// or the number of workers would change a model's bits: every element
// must be summed in an order that depends on the geometry only. The tests
// below compute each result over the whole range once and again split
// into 2, 3 and 5 sub-ranges, and require the same bits, for every SGEMM
// kernel this machine has.

// splitGeoms are geometries for the split tests, with the channel counts
// to try (C input channels, M output channels). They reach every path of
// ConvFilterGrad: the indexed tiles over runs of the filter's last dim
// (AVX-512, stride 1, unit width dilation), the padded-width product of
// copied patch rows (other kernels; on AVX-512 for width dilation or
// KW > 12), and im2col with a GEMM (strides, 3-D, ...).
func splitGeoms() []struct {
	name string
	g    ConvGeom
	cs   []int // input channels
	ms   []int // output channels
} {
	one := geom3{1, 1, 1, 1, 0, 0}
	type sg = struct {
		name string
		g    ConvGeom
		cs   []int
		ms   []int
	}
	return []sg{
		{"lenet1", mkGeom(1, one, geom3{28, 5, 1, 1, 2, 2}, geom3{28, 5, 1, 1, 2, 2}), []int{1, 3}, []int{6, 16}},
		{"lenet2", mkGeom(6, one, geom3{14, 5, 1, 1, 0, 0}, geom3{14, 5, 1, 1, 0, 0}), []int{6}, []int{16, 3}},
		{"2d-odd-pads", mkGeom(1, one, geom3{7, 3, 1, 1, 1, 0}, geom3{9, 3, 1, 1, 0, 2}), []int{1, 3, 16}, []int{1, 6, 32, 40}},
		{"2d-3x3-pad1", mkGeom(1, one, geom3{6, 3, 1, 1, 1, 1}, geom3{6, 3, 1, 1, 1, 1}), []int{32}, []int{3, 16}},
		{"2d-stride2", mkGeom(1, one, geom3{9, 3, 2, 1, 1, 1}, geom3{8, 3, 2, 1, 1, 0}), []int{1, 6, 16}, []int{3, 16, 32, 40}},
		{"2d-dilated-w", mkGeom(1, one, geom3{8, 3, 1, 1, 1, 1}, geom3{9, 3, 1, 2, 2, 2}), []int{3, 16}, []int{6, 32, 40}},
		{"2d-dilated-h", mkGeom(1, one, geom3{9, 3, 1, 2, 2, 1}, geom3{7, 2, 1, 1, 0, 1}), []int{1, 6}, []int{3, 16}},
		{"2d-1x1", mkGeom(1, one, geom3{5, 1, 1, 1, 0, 0}, geom3{6, 1, 1, 1, 0, 0}), []int{3, 32}, []int{1, 16}},
		{"2d-pad-rows-only", mkGeom(1, one, geom3{3, 2, 1, 1, 3, 3}, geom3{4, 2, 1, 1, 0, 1}), []int{3}, []int{6}},
		{"2d-one-output", mkGeom(1, one, geom3{3, 3, 1, 1, 0, 0}, geom3{3, 3, 1, 1, 0, 0}), []int{6, 16}, []int{16, 3}},
		{"1d", mkGeom(1, one, one, geom3{17, 5, 1, 1, 2, 2}), []int{1, 3, 16}, []int{1, 6, 32}},
		{"1d-k13", mkGeom(1, one, one, geom3{40, 13, 1, 1, 0, 3}), []int{1, 3}, []int{6, 16}},
		{"1d-stride2", mkGeom(1, one, one, geom3{16, 3, 2, 1, 1, 0}), []int{3, 32}, []int{6, 16}},
		{"1d-dilated", mkGeom(1, one, one, geom3{15, 3, 1, 3, 1, 1}), []int{6}, []int{16, 1}},
		{"1d-one-output", mkGeom(1, one, one, geom3{5, 5, 1, 1, 0, 0}), []int{3}, []int{16}},
		{"3d", mkGeom(1, geom3{4, 2, 1, 1, 0, 0}, geom3{5, 3, 1, 1, 1, 1}, geom3{5, 3, 1, 1, 1, 1}), []int{1, 3}, []int{6, 16}},
		{"3d-strided", mkGeom(1, geom3{5, 2, 2, 2, 1, 1}, geom3{4, 3, 1, 1, 1, 1}, geom3{3, 1, 1, 1, 0, 0}), []int{6}, []int{3, 32}},
	}
}

// splits returns the cut points [0, c1, ..., ck] of the range [0, n) into
// parts non-empty sub-ranges: for 2 parts every cut when there are few,
// otherwise (and for more parts) draws from r.
func splits(r *rand.Rand, n, parts, draws int) [][]int {
	if n < parts {
		return nil
	}
	var out [][]int
	if parts == 2 && n-1 <= draws {
		for c := 1; c < n; c++ {
			out = append(out, []int{0, c, n})
		}
		return out
	}
	for range draws {
		// parts-1 distinct cuts in [1, n).
		cuts := []int{0, n}
		for len(cuts) < parts+1 {
			c := 1 + r.IntN(n-1)
			if !slices.Contains(cuts, c) {
				cuts = append(cuts, c)
			}
		}
		slices.Sort(cuts)
		out = append(out, cuts)
	}
	return out
}

// firstBitDiff reports the first element where got and want differ in their
// bits, or -1.
func firstBitDiff(got, want []float32) int {
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			return i
		}
	}
	return -1
}

func fillNaN(s []float32) {
	for i := range s {
		s[i] = float32(math.NaN())
	}
}

// TestConvFilterGradSplit: ConvFilterGrad over [0, C·k) equals, bit for
// bit, the same gradient computed by sub-ranges, for every split tried.
func TestConvFilterGradSplit(t *testing.T) {
	convVariants(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, sg := range splitGeoms() {
			for _, c := range sg.cs {
				for _, m := range sg.ms {
					g := sg.g
					g.C = c
					t.Run(fmt.Sprintf("%s/C%d/M%d", sg.name, c, m), func(t *testing.T) {
						checkFilterGradSplit(t, r, g, m)
					})
				}
			}
		}
	})
}

func checkFilterGradSplit(t *testing.T, r *rand.Rand, g ConvGeom, m int) {
	const n = 2 // samples: the sum over them is part of the order
	kk := g.KD * g.KH * g.KW
	ck, in, pos := g.C*kk, g.C*g.D*g.H*g.W, g.OD*g.OH*g.OW
	x, dy := convRand(r, n*in), convRand(r, n*m*pos)
	want := nanScratch(m * ck)
	scratch := make([]float32, ConvFilterGradScratchLen(g, m, ck))
	fillNaN(scratch)
	ConvFilterGrad(g, m, x, dy, want, scratch, n, 0, ck)
	// The whole-range result is also checked against float64 loops, as
	// the split ones are compared with it bit for bit.
	ref := make([]float64, m*ck)
	for b := range n {
		for o := range m {
			for c := range g.C {
				forWindows(g, func(q, k, id, ih, iw int) {
					if v, ok := at(g, x[b*in:], c, id, ih, iw); ok {
						ref[o*ck+c*kk+k] += float64(dy[(b*m+o)*pos+q]) * float64(v)
					}
				})
			}
		}
	}
	for i, v := range ref {
		if !closeEnough(want[i], v) {
			t.Fatalf("dw[%d] = %v, want %v", i, want[i], v)
		}
	}
	got := make([]float32, m*ck)
	for _, parts := range []int{2, 3, 5} {
		draws := 24
		if parts == 2 {
			draws = 64
		}
		for _, cuts := range splits(r, ck, parts, draws) {
			fillNaN(got)
			for i := 0; i+1 < len(cuts); i++ {
				lo, hi := cuts[i], cuts[i+1]
				s := scratch[:ConvFilterGradScratchLen(g, m, hi-lo)]
				fillNaN(s)
				ConvFilterGrad(g, m, x, dy, got, s, n, lo, hi)
			}
			if i := firstBitDiff(got, want); i >= 0 {
				t.Fatalf("rows split at %v: dw[o=%d, row %d] = %v (%#08x), over the whole range %v (%#08x)",
					cuts, i/ck, i%ck, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
			}
		}
	}
}

// TestConvSampleSplit: Conv and ConvTranspose over a batch equal, bit for
// bit, the same ops over sub-batches (the generated code splits the batch
// over the pool), for 1, 2 and 3 groups.
func TestConvSampleSplit(t *testing.T) {
	convVariants(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(13, 14))
		for _, sg := range splitGeoms() {
			for _, c := range sg.cs {
				for _, m := range sg.ms {
					for _, group := range []int{1, 2, 3} {
						if c%group != 0 || m%group != 0 {
							continue
						}
						g := sg.g
						g.C = c
						t.Run(fmt.Sprintf("%s/C%d/M%d/group%d", sg.name, c, m, group), func(t *testing.T) {
							checkSampleSplit(t, r, g, m, group)
						})
					}
				}
			}
		}
	})
}

func checkSampleSplit(t *testing.T, r *rand.Rand, g ConvGeom, m, group int) {
	const n = 5
	kk := g.KD * g.KH * g.KW
	in, pos := g.C*g.D*g.H*g.W, g.OD*g.OH*g.OW
	x, w := convRand(r, n*in), convRand(r, m*g.C/group*kk)
	dy := convRand(r, n*m*pos)
	y, gotY := nanScratch(n*m*pos), make([]float32, n*m*pos)
	dx, gotDx := nanScratch(n*in), make([]float32, n*in)
	fs := nanScratch(ConvScratchLen(g, m))
	ts := nanScratch(ConvTransposeScratchLen(g, m, group))
	Conv(g, m, group, w, x, y, fs, n)
	ConvTranspose(g, m, group, w, dy, dx, ts, n)
	for _, parts := range []int{2, 3, 5} {
		for _, cuts := range splits(r, n, parts, 4) {
			fillNaN(gotY)
			fillNaN(gotDx)
			for i := 0; i+1 < len(cuts); i++ {
				lo, hi := cuts[i], cuts[i+1]
				fillNaN(fs)
				fillNaN(ts)
				Conv(g, m, group, w, x[lo*in:], gotY[lo*m*pos:], fs, hi-lo)
				ConvTranspose(g, m, group, w, dy[lo*m*pos:], gotDx[lo*in:], ts, hi-lo)
			}
			if i := firstBitDiff(gotY, y); i >= 0 {
				t.Fatalf("Conv, samples split at %v: y[%d] = %v, over the whole batch %v", cuts, i, gotY[i], y[i])
			}
			if i := firstBitDiff(gotDx, dx); i >= 0 {
				t.Fatalf("ConvTranspose, samples split at %v: dx[%d] = %v, over the whole batch %v", cuts, i, gotDx[i], dx[i])
			}
		}
	}
}

// TestPanelLenCoversVariants: panelLen, which must not depend on the CPU,
// holds a panel of every variant (a k slice of at most kc rows, nr wide).
func TestPanelLenCoversVariants(t *testing.T) {
	for _, v := range sgemmVariants {
		for _, pos := range []int{1, 7, 255, 256, 257, 1000} {
			kcs := ceilDiv(pos, ceilDiv(pos, v.kc))
			if kcs*v.nr > panelLen(pos) {
				t.Errorf("%s: a panel of %d×%d floats, panelLen(%d) = %d", v.name, kcs, v.nr, pos, panelLen(pos))
			}
		}
	}
}
