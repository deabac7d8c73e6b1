package runtime

import (
	"testing"
	"time"
)

func BenchmarkColdSgemm(b *testing.B) {
	p := NewPool(2)
	defer p.Close()
	for _, s := range [][3]int{{128, 64, 64}, {128, 64, 784}, {256, 256, 256}} {
		m, n, k := s[0], s[1], s[2]
		rng := NewRNG(3)
		a, bm, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
		for _, cold := range []int{1 << 40, 0} {
			b.Run("", func(b *testing.B) {
				old := sgemmParMinFlopsCold
				sgemmParMinFlopsCold = cold
				defer func() { sgemmParMinFlopsCold = old }()
				var tot time.Duration
				for b.Loop() {
					time.Sleep(time.Millisecond)
					t0 := time.Now()
					Sgemm(p, false, false, m, n, k, 1, a, k, bm, n, 0, c, n)
					tot += time.Since(t0)
				}
				b.ReportMetric(float64(tot.Nanoseconds())/float64(b.N), "callns")
			})
		}
	}
}
