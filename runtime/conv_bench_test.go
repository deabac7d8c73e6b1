package runtime

import "testing"

// LeNet's first pool and conv over a batch of 128: the shapes that
// examples/lenet spends its time on.
var lenetPool = ConvGeom{C: 6, H: 28, W: 28, OH: 14, OW: 14, KH: 2, KW: 2, SH: 2, SW: 2, DH: 1, DW: 1}
var lenetConv = ConvGeom{C: 1, H: 28, W: 28, OH: 28, OW: 28, KH: 5, KW: 5, SH: 1, SW: 1, DH: 1, DW: 1, PadT: 2, PadL: 2, PadB: 2, PadR: 2}

func BenchmarkMaxPool2D(b *testing.B) {
	x, y := make([]float32, 128*6*28*28), make([]float32, 128*6*14*14)
	for i := range x {
		x[i] = float32((i * 7919) % 101) // no order a branch predictor could learn
	}
	for b.Loop() {
		MaxPool2D(lenetPool, 128*6, x, y)
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

func BenchmarkMaxPool2DGrad(b *testing.B) {
	x, dy, dx := make([]float32, 128*6*28*28), make([]float32, 128*6*14*14), make([]float32, 128*6*28*28)
	for i := range x {
		x[i] = float32((i * 7919) % 101)
	}
	for b.Loop() {
		MaxPool2DGrad(lenetPool, 128*6, x, dy, dx)
	}
}
