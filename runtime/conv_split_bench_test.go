package runtime

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkConvFilterGradPaths times ConvFilterGrad on every path (the
// indexed and padded-width products, im2col for strides and 3-D) over a
// batch of 32, over the whole row range and split into 8 units as the
// generated code's pool splits it (serially here: the sum of the units'
// times), which shows what cutting tiles at the units' edges costs.
func BenchmarkConvFilterGradPaths(b *testing.B) {
	one := geom3{1, 1, 1, 1, 0, 0}
	for _, c := range []struct {
		name string
		g    ConvGeom
		m    int
	}{
		{"lenet2", mkGeom(6, one, geom3{14, 5, 1, 1, 0, 0}, geom3{14, 5, 1, 1, 0, 0}), 16},
		{"3x3-pad1", mkGeom(16, one, geom3{16, 3, 1, 1, 1, 1}, geom3{16, 3, 1, 1, 1, 1}), 32},
		{"dilated-w", mkGeom(16, one, geom3{16, 3, 1, 1, 1, 1}, geom3{16, 3, 1, 2, 2, 2}), 32},
		{"1d-k13", mkGeom(8, one, one, geom3{128, 13, 1, 1, 6, 6}), 16},
		{"stride2", mkGeom(16, one, geom3{16, 3, 2, 1, 1, 1}, geom3{16, 3, 2, 1, 1, 1}), 32},
		{"3d", mkGeom(8, geom3{8, 3, 1, 1, 1, 1}, geom3{8, 3, 1, 1, 1, 1}, geom3{8, 3, 1, 1, 1, 1}), 16},
	} {
		const n = 32
		r := rand.New(rand.NewPCG(1, 2))
		g, m := c.g, c.m
		in, pos := g.C*g.D*g.H*g.W, g.OD*g.OH*g.OW
		ck := g.C * g.KD * g.KH * g.KW
		x, dy, dw := convRand(r, n*in), convRand(r, n*m*pos), make([]float32, m*ck)
		for _, units := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/units%d", c.name, units), func(b *testing.B) {
				s := make([]float32, ConvFilterGradScratchLen(g, m, ck))
				for b.Loop() {
					for u := range units {
						ConvFilterGrad(g, m, x, dy, dw, s, n, u*ck/units, (u+1)*ck/units)
					}
				}
			})
		}
	}
}
