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
