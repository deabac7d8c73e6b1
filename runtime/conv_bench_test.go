package runtime

import "testing"

// LeNet's first pool and conv over a batch of 128: the shapes that
// examples/lenet spends its time on.
var (
	lenetPool = mkGeom(6, geom3{1, 1, 1, 1, 0, 0}, geom3{28, 2, 2, 1, 0, 0}, geom3{28, 2, 2, 1, 0, 0})
	lenetConv = mkGeom(1, geom3{1, 1, 1, 1, 0, 0}, geom3{28, 5, 1, 1, 2, 2}, geom3{28, 5, 1, 1, 2, 2})
)

func BenchmarkMaxPool(b *testing.B) {
	x, y := make([]float32, 128*6*28*28), make([]float32, 128*6*14*14)
	for i := range x {
		x[i] = float32((i * 7919) % 101) // no order a branch predictor could learn
	}
	for b.Loop() {
		MaxPool(lenetPool, 128*6, x, y)
	}
}

func BenchmarkIm2col(b *testing.B) {
	x, col := make([]float32, 128*28*28), make([]float32, 128*25*28*28)
	for b.Loop() {
		for s := 0; s < 128; s++ {
			Im2col(lenetConv, x[s*784:], col[s*784:], 128*784)
		}
	}
}

func BenchmarkMaxPoolGrad(b *testing.B) {
	x, dy, dx := make([]float32, 128*6*28*28), make([]float32, 128*6*14*14), make([]float32, 128*6*28*28)
	for i := range x {
		x[i] = float32((i * 7919) % 101)
	}
	for b.Loop() {
		MaxPoolGrad(lenetPool, 128*6, x, dy, dx)
	}
}

// BenchmarkConvLeNet times runtime.Conv, ConvTranspose (the input
// gradient) and ConvFilterGrad on LeNet-5's two convolutions over a batch
// of 128, serially.
func BenchmarkConvLeNet(b *testing.B) {
	one := geom3{1, 1, 1, 1, 0, 0}
	conv2 := mkGeom(6, one, geom3{14, 5, 1, 1, 0, 0}, geom3{14, 5, 1, 1, 0, 0})
	for _, c := range []struct {
		name string
		g    ConvGeom
		m    int
	}{{"conv1", lenetConv, 6}, {"conv2", conv2, 16}} {
		g, m := c.g, c.m
		in, pos, k := g.C*g.H*g.W, g.OH*g.OW, g.C*g.KH*g.KW
		x, w, y := make([]float32, 128*in), make([]float32, m*k), make([]float32, 128*m*pos)
		dw := make([]float32, m*k)
		b.Run(c.name+"/forward", func(b *testing.B) {
			s := make([]float32, ConvScratchLen(g, m))
			for b.Loop() {
				Conv(g, m, 1, w, x, y, s, 128)
			}
		})
		b.Run(c.name+"/input_grad", func(b *testing.B) {
			s := make([]float32, ConvTransposeScratchLen(g, m, 1))
			for b.Loop() {
				ConvTranspose(g, m, 1, w, y, x, s, 128)
			}
		})
		b.Run(c.name+"/filter_grad", func(b *testing.B) {
			s := make([]float32, ConvFilterGradScratchLen(g, m, k))
			for b.Loop() {
				ConvFilterGrad(g, m, x, y, dw, s, 128, 0, k)
			}
		})
	}
}
