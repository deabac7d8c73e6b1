package runtime

import (
	"flag"
	"fmt"
	"testing"
)

var (
	sgemmKernelFlag = flag.String("sgemm.kernel", "", "benchmark this SGEMM kernel (avx512, avx2, go) instead of the default")
	sgemmPackFlag   = flag.String("sgemm.pack", "", "SGEMM packing of A and B for benchmarks, two letters: a(uto), p(ack) or d(irect)")
)

// sgemmBenchShapes are M×K×N (the peers' naming: C[M,N] = A[M,K]·B[K,N]):
// the MNIST MLP's layers at batch 128 and 1, then square sizes. Each can
// carry transposes: the MLP's backward pass computes dW = Xᵀ·dY (A^T B)
// and dX = dY·Wᵀ (A B^T).
var sgemmBenchShapes = []struct {
	m, k, n        int
	transA, transB bool
}{
	{m: 128, k: 784, n: 64},
	{m: 128, k: 64, n: 64},
	{m: 128, k: 64, n: 10},
	{m: 1, k: 784, n: 64},
	{m: 784, k: 128, n: 64, transA: true},
	{m: 128, k: 64, n: 784, transB: true},
	{m: 256, k: 256, n: 256},
	{m: 512, k: 512, n: 512},
	{m: 1024, k: 1024, n: 1024},
	{m: 2048, k: 2048, n: 2048},
}

// BenchmarkSgemm reports GFLOP/s (2·M·N·K per call) for each shape on one
// thread (nil pool) and on a pool of two workers. Names are
// Sgemm/MxKxN[_AtB|_ABt]/threads=T; bench/peers.sh runs the same shapes
// through NumPy/OpenBLAS.
func BenchmarkSgemm(b *testing.B) {
	if *sgemmKernelFlag != "" {
		found := false
		for _, v := range sgemmVariants {
			if v.name == *sgemmKernelFlag {
				old := sgemmImpl
				sgemmImpl, found = v, true
				defer func() { sgemmImpl = old }()
			}
		}
		if !found {
			b.Fatalf("kernel %q not available here", *sgemmKernelFlag)
		}
	}
	if f := *sgemmPackFlag; f != "" {
		mode := map[byte]int{'a': 0, 'p': 1, 'd': -1}
		oldA, oldB := sgemmPackA, sgemmPackB
		sgemmPackA, sgemmPackB = mode[f[0]], mode[f[len(f)-1]]
		defer func() { sgemmPackA, sgemmPackB = oldA, oldB }()
	}
	p := NewPool(2)
	defer p.Close()
	for _, s := range sgemmBenchShapes {
		name := fmt.Sprintf("%dx%dx%d", s.m, s.k, s.n)
		if s.transA {
			name += "_AtB"
		}
		if s.transB {
			name += "_ABt"
		}
		for _, threads := range []int{1, 2} {
			pool := p
			if threads == 1 {
				pool = nil
			}
			b.Run(fmt.Sprintf("%s/threads=%d", name, threads), func(b *testing.B) {
				rng := NewRNG(3)
				a, bm, c := randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n), make([]float32, s.m*s.n)
				lda, ldb := s.k, s.n
				if s.transA {
					lda = s.m
				}
				if s.transB {
					ldb = s.k
				}
				Sgemm(pool, s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					Sgemm(pool, s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
				}
				b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// TestSgemmKernelName logs the kernel in use (bench/peers.sh prints it).
func TestSgemmKernelName(t *testing.T) {
	t.Logf("kernel=%s", SgemmKernel())
}
