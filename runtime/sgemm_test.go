package runtime

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// refGemm is the specification: a float64 triple loop over row-major
// storage, C = alpha*op(A)*op(B) + beta*C.
func refGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	out := make([]float64, len(c))
	for i := range c {
		out[i] = float64(c[i])
	}
	for i := range m {
		for j := range n {
			var s float64
			for l := range k {
				var av, bv float32
				if transA {
					av = a[l*lda+i]
				} else {
					av = a[i*lda+l]
				}
				if transB {
					bv = b[j*ldb+l]
				} else {
					bv = b[l*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			idx := i*ldc + j
			if beta == 0 {
				out[idx] = float64(alpha) * s
			} else {
				out[idx] = float64(alpha)*s + float64(beta)*float64(c[idx])
			}
		}
	}
	return out
}

func randSlice(rng *RNG, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.Float64()*2 - 1)
	}
	return s
}

type gemmCase struct {
	m, n, k     int
	padA, padB  int // extra stride beyond the stored column count
	padC        int
	off         int // sub-slice offset into larger buffers
	alpha, beta float32
}

func runGemmCase(t *testing.T, p *Pool, tc gemmCase, transA, transB bool, rng *RNG) {
	t.Helper()
	ar, ac := tc.m, tc.k
	if transA {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if transB {
		br, bc = tc.n, tc.k
	}
	lda, ldb, ldc := max(1, ac)+tc.padA, max(1, bc)+tc.padB, max(1, tc.n)+tc.padC
	// Sub-slices of larger buffers: data before the offset and in the
	// stride padding must be left untouched.
	abuf := randSlice(rng, tc.off+ar*lda)
	bbuf := randSlice(rng, tc.off+br*ldb)
	cbuf := randSlice(rng, tc.off+tc.m*ldc+3)
	a, b := abuf[tc.off:], bbuf[tc.off:]
	c := cbuf[tc.off : tc.off+max(0, (tc.m-1)*ldc+tc.n)]
	want := refGemm(transA, transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	before := append([]float32(nil), cbuf...)
	Sgemm(p, transA, transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	for idx := range cbuf {
		i := idx - tc.off
		inside := i >= 0 && i < len(c) && i%ldc < tc.n
		if !inside {
			if cbuf[idx] != before[idx] {
				t.Fatalf("%+v tA=%v tB=%v: element %d outside C changed", tc, transA, transB, idx)
			}
			continue
		}
		tol := 1e-5 * (1 + math.Sqrt(float64(tc.k)))
		if d := math.Abs(float64(c[i]) - want[i]); d > tol*(1+math.Abs(want[i])) || math.IsNaN(float64(c[i])) {
			t.Fatalf("%+v tA=%v tB=%v: C[%d,%d] = %v, want %v", tc, transA, transB, i/ldc, i%ldc, c[i], want[i])
		}
	}
}

func TestSgemmMatchesReference(t *testing.T) {
	cases := []gemmCase{
		{m: 1, n: 1, k: 1, alpha: 1, beta: 0},
		{m: 1, n: 1, k: 1, alpha: 2, beta: 0.5},
		{m: 3, n: 5, k: 7, alpha: 1, beta: 0},
		{m: 7, n: 3, k: 5, alpha: -1.5, beta: 1},
		{m: 13, n: 17, k: 19, padA: 3, padB: 2, padC: 5, off: 7, alpha: 0.7, beta: -0.3},
		{m: 65, n: 193, k: 257, padA: 1, padB: 1, padC: 1, off: 1, alpha: 1, beta: 0.25},
		{m: 128, n: 64, k: 784, alpha: 1, beta: 0},
		{m: 128, n: 10, k: 64, alpha: 1, beta: 0},
		{m: 128, n: 784, k: 64, alpha: 1, beta: 1},
		{m: 200, n: 300, k: 33, padC: 4, alpha: 0.5, beta: 2},
		{m: 1, n: 500, k: 600, alpha: 1, beta: 0},
		{m: 500, n: 1, k: 600, alpha: 1, beta: 0},
		{m: 0, n: 5, k: 5, alpha: 1, beta: 0},
		{m: 5, n: 0, k: 5, alpha: 1, beta: 0},
		{m: 5, n: 6, k: 0, alpha: 1, beta: 0.5},
		{m: 5, n: 6, k: 0, alpha: 1, beta: 0},
		{m: 9, n: 6, k: 4, alpha: 0, beta: 3},
	}
	pools := map[string]*Pool{"nil": nil, "1": NewPool(1), "2": NewPool(2), "3": NewPool(3)}
	defer func() {
		for _, p := range pools {
			p.Close()
		}
	}()
	rng := NewRNG(1)
	for name, p := range pools {
		for _, tc := range cases {
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					t.Run(fmt.Sprintf("pool%s/%dx%dx%d/%v%v", name, tc.m, tc.n, tc.k, tA, tB), func(t *testing.T) {
						runGemmCase(t, p, tc, tA, tB, rng)
					})
				}
			}
		}
	}
}

// TestSgemmBetaZeroClearsNaN checks BLAS semantics: beta == 0 means C is
// overwritten, not multiplied, so NaNs already in C do not survive.
func TestSgemmBetaZeroClearsNaN(t *testing.T) {
	for _, k := range []int{0, 2} {
		c := []float32{float32(math.NaN()), float32(math.NaN())}
		a := []float32{1, 2}
		b := []float32{3, 4, 5, 6}
		Sgemm(nil, false, false, 1, 2, k, 1, a, max(1, k), b, 2, 0, c, 2)
		want := []float32{13, 16}
		if k == 0 {
			want = []float32{0, 0}
		}
		if c[0] != want[0] || c[1] != want[1] {
			t.Errorf("k=%d: C = %v, want %v", k, c, want)
		}
	}
}

func TestSgemmBadArgumentsPanicClearly(t *testing.T) {
	cases := []struct {
		name string
		call func()
		want string
	}{
		{"negative", func() { Sgemm(nil, false, false, -1, 1, 1, 1, nil, 1, nil, 1, 0, nil, 1) }, "negative dimension"},
		{"short a", func() {
			Sgemm(nil, false, false, 2, 2, 2, 1, make([]float32, 3), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		}, "len(a)=3"},
		{"bad ldb", func() {
			Sgemm(nil, false, true, 2, 2, 3, 1, make([]float32, 6), 3, make([]float32, 6), 2, 0, make([]float32, 4), 2)
		}, "ldb=2"},
		{"short c", func() {
			Sgemm(nil, false, false, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 4), 2, 0, make([]float32, 3), 2)
		}, "len(c)=3"},
	}
	for _, tc := range cases {
		func() {
			defer func() {
				r := recover()
				s, _ := r.(string)
				if !strings.Contains(s, "runtime.Sgemm") || !strings.Contains(s, tc.want) {
					t.Errorf("%s: panic %v, want message containing %q", tc.name, r, tc.want)
				}
			}()
			tc.call()
		}()
	}
}

func TestSgemmDoesNotAllocate(t *testing.T) {
	rng := NewRNG(2)
	m, n, k := 128, 784, 64
	a, b, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
	p := NewPool(2)
	defer p.Close()
	for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		lda, ldb := k, n
		if tr[0] {
			lda = m
		}
		if tr[1] {
			ldb = k
		}
		for _, pool := range []*Pool{p, nil} {
			allocs := testing.AllocsPerRun(20, func() {
				Sgemm(pool, tr[0], tr[1], m, n, k, 1, a, lda, b, ldb, 0, c, n)
			})
			if allocs != 0 {
				t.Errorf("trans=%v pool=%v: Sgemm allocates %v times per call, want 0", tr, pool != nil, allocs)
			}
		}
	}
	// Also the MNIST hidden layer shape, forward and backward.
	a2, b2, c2 := randSlice(rng, 128*784), randSlice(rng, 784*64), make([]float32, 128*64)
	if allocs := testing.AllocsPerRun(20, func() {
		Sgemm(p, false, false, 128, 64, 784, 1, a2, 784, b2, 64, 0, c2, 64)
	}); allocs != 0 {
		t.Errorf("128x64x784: %v allocations per call", allocs)
	}
}

func benchSgemm(b *testing.B, p *Pool, m, n, k int) {
	rng := NewRNG(3)
	a, bm, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Sgemm(p, false, false, m, n, k, 1, a, k, bm, n, 0, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSgemm reports throughput for the shapes of an MNIST MLP: the
// hidden layer (batch 128, 784 inputs, 64 units) in both orientations and
// a 64x64 layer.
func BenchmarkSgemm(b *testing.B) {
	p := NewPool(0)
	defer p.Close()
	for _, s := range [][3]int{{128, 784, 64}, {128, 64, 784}, {128, 64, 64}} {
		for _, pool := range []*Pool{nil, p} {
			name := fmt.Sprintf("%dx%dx%d/workers=%d", s[0], s[1], s[2], pool.Workers())
			b.Run(name, func(b *testing.B) { benchSgemm(b, pool, s[0], s[1], s[2]) })
		}
	}
}
