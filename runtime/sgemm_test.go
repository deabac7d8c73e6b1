package runtime

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// refGemm is the specification: a float64 triple loop over row-major
// storage, C = alpha*op(A)*op(B) + beta*C. It also returns, per element,
// the bound |alpha|*sum|a||b| + |beta*c| that scales the rounding error.
func refGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (out, mag []float64) {
	out = make([]float64, len(c))
	mag = make([]float64, len(c))
	for i := range c {
		out[i] = float64(c[i])
	}
	for i := range m {
		for j := range n {
			var s, sa float64
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
				sa += math.Abs(float64(av) * float64(bv))
			}
			idx := i*ldc + j
			out[idx] = float64(alpha) * s
			mag[idx] = math.Abs(float64(alpha)) * sa
			if beta != 0 {
				out[idx] += float64(beta) * float64(c[idx])
				mag[idx] += math.Abs(float64(beta) * float64(c[idx]))
			}
		}
	}
	return out, mag
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
	nanC        bool // fill C with NaN (only meaningful with beta == 0)
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("%dx%dx%d", tc.m, tc.n, tc.k)
}

func runGemmCase(t *testing.T, p *Pool, tc gemmCase, transA, transB bool, rng *RNG) {
	t.Helper()
	if err := checkGemmCase(p, tc, transA, transB, rng); err != nil {
		t.Fatal(err)
	}
}

// checkGemmCase runs one case through Sgemm and compares it with refGemm.
func checkGemmCase(p *Pool, tc gemmCase, transA, transB bool, rng *RNG) error {
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
	if tc.nanC {
		for i := range c {
			if i%ldc < tc.n {
				c[i] = float32(math.NaN())
			}
		}
	}
	want, mag := refGemm(transA, transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	before := append([]float32(nil), cbuf...)
	Sgemm(p, transA, transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	// float32 accumulation in any order: error <= ~k*eps*sum|a||b|; the
	// kernels' partial sums keep it near sqrt(k)*eps in practice.
	eps := 4 * float64(tc.k+4) * 6e-8
	for idx := range cbuf {
		i := idx - tc.off
		inside := i >= 0 && i < len(c) && i%ldc < tc.n
		if !inside {
			if cbuf[idx] != before[idx] && !(math.IsNaN(float64(cbuf[idx])) && math.IsNaN(float64(before[idx]))) {
				return fmt.Errorf("%+v tA=%v tB=%v: element %d outside C changed", tc, transA, transB, idx)
			}
			continue
		}
		if d := math.Abs(float64(c[i]) - want[i]); !(d <= eps*mag[i]+1e-30) {
			return fmt.Errorf("%+v tA=%v tB=%v: C[%d,%d] = %v, want %v (|err| %.3g > %.3g)", tc, transA, transB, i/ldc, i%ldc, c[i], want[i], d, eps*mag[i])
		}
	}
	return nil
}

// gemmCases covers tiny, odd, prime and edge-of-tile shapes, large k,
// padded strides, unaligned sub-slices and the alpha/beta special cases.
func gemmCases() []gemmCase {
	cs := []gemmCase{
		{m: 1, n: 1, k: 1, alpha: 1, beta: 0},
		{m: 1, n: 1, k: 1, alpha: 2, beta: 0.5},
		{m: 1, n: 1, k: 700, alpha: 1, beta: 0},
		{m: 1, n: 37, k: 1, alpha: 1, beta: 1},
		{m: 3, n: 5, k: 7, alpha: 1, beta: 0},
		{m: 7, n: 3, k: 5, alpha: -1.5, beta: 1},
		{m: 13, n: 17, k: 19, padA: 3, padB: 2, padC: 5, off: 7, alpha: 0.7, beta: -0.3},
		{m: 31, n: 61, k: 29, padA: 1, padB: 5, padC: 1, off: 3, alpha: 1, beta: 0, nanC: true},
		{m: 65, n: 97, k: 257, padA: 1, padB: 1, padC: 1, off: 1, alpha: 1, beta: 0.25},
		{m: 128, n: 64, k: 78, alpha: 1, beta: 0},
		{m: 128, n: 10, k: 64, alpha: 1, beta: 0, nanC: true},
		{m: 64, n: 10, k: 128, alpha: 1, beta: 0},
		{m: 1, n: 64, k: 300, alpha: 1, beta: 0},
		{m: 2, n: 33, k: 300, padA: 2, padB: 3, off: 5, alpha: 1, beta: 2},
		{m: 37, n: 1, k: 101, alpha: 1, beta: 0},
		{m: 500, n: 1, k: 60, alpha: 1, beta: 0},
		{m: 1, n: 300, k: 60, alpha: 1, beta: 0},
		{m: 73, n: 89, k: 31, padC: 4, alpha: 0.5, beta: 2},
		{m: 0, n: 5, k: 5, alpha: 1, beta: 0},
		{m: 5, n: 0, k: 5, alpha: 1, beta: 0},
		{m: 5, n: 6, k: 0, alpha: 1, beta: 0.5},
		{m: 5, n: 6, k: 0, alpha: 1, beta: 0, nanC: true},
		{m: 9, n: 6, k: 4, alpha: 0, beta: 3},
	}
	// Every mr/nr remainder of the register tiles (12×32, 6×16, 4×4).
	for _, mn := range [][2]int{{11, 31}, {12, 32}, {13, 33}, {5, 15}, {6, 16}, {7, 17}, {24, 64}, {25, 47}} {
		cs = append(cs, gemmCase{m: mn[0], n: mn[1], k: 9, padB: 1, off: 1, alpha: 1, beta: 0.5})
	}
	return cs
}

// useVariant makes Sgemm use v with the given packing mode and blocking
// shrunk to small blocks (so that tests reach every loop of the driver),
// and restores the defaults when the test ends.
func useVariant(t *testing.T, v *sgemmVariant, packMode int, small bool) {
	oldImpl, oldA, oldB, oldPar, oldCold := sgemmImpl, sgemmPackA, sgemmPackB, sgemmParMinFlops, sgemmParMinFlopsCold
	vv := *v
	if small {
		vv.kc, vv.mc, vv.nc = 37, 2*v.mr, 3*v.nr
		sgemmParMinFlops, sgemmParMinFlopsCold = 0, 0
	}
	sgemmImpl, sgemmPackA, sgemmPackB = &vv, packMode, packMode
	t.Cleanup(func() {
		sgemmImpl, sgemmPackA, sgemmPackB, sgemmParMinFlops, sgemmParMinFlopsCold = oldImpl, oldA, oldB, oldPar, oldCold
	})
}

// TestSgemmMatchesReference runs every case, every transpose combination,
// serially and on pools, for every kernel this machine has, with automatic,
// forced and no packing.
func TestSgemmMatchesReference(t *testing.T) {
	if len(sgemmVariants) == 0 || sgemmVariants[len(sgemmVariants)-1].name != "go" {
		t.Fatalf("variants %v: the Go kernel must always be available", sgemmVariants)
	}
	pools := []*Pool{nil, NewPool(2)}
	if !raceEnabled { // the race detector makes this test 10x slower
		pools = append(pools, NewPool(3))
	}
	defer func() {
		for _, p := range pools {
			p.Close()
		}
	}()
	rng := NewRNG(1)
	for _, v := range sgemmVariants {
		for _, mode := range []struct {
			name  string
			pack  int
			small bool
		}{{"auto", 0, false}, {"packed-small-blocks", 1, true}, {"inplace-small-blocks", -1, true}} {
			t.Run(v.name+"/"+mode.name, func(t *testing.T) {
				useVariant(t, v, mode.pack, mode.small)
				for _, tc := range gemmCases() {
					for pi, p := range pools {
						if pi > 0 && tc.m*tc.n*tc.k > 100000 && testing.Short() {
							continue
						}
						for _, tA := range []bool{false, true} {
							for _, tB := range []bool{false, true} {
								runGemmCase(t, p, tc, tA, tB, rng)
							}
						}
					}
				}
			})
		}
	}
}

// TestSgemmLarger checks products that span several blocks with the real
// blocking parameters, on the pool (the parallel split) and serially.
func TestSgemmLarger(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	rng := NewRNG(7)
	cases := []gemmCase{
		{m: 263, n: 300, k: 520, padA: 3, padB: 1, padC: 2, off: 1, alpha: 1, beta: 0, nanC: true},
		{m: 128, n: 784, k: 64, alpha: 1, beta: 1},
		{m: 784, n: 64, k: 128, alpha: 1, beta: 0},
	}
	if testing.Short() || raceEnabled {
		// Still more than one k slice and one block of rows.
		cases = []gemmCase{{m: 250, n: 70, k: 270, padA: 1, off: 3, alpha: 1, beta: 0.5}}
	}
	for _, v := range sgemmVariants {
		t.Run(v.name, func(t *testing.T) {
			useVariant(t, v, 0, false)
			for _, tc := range cases {
				for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
					runGemmCase(t, p, tc, tr[0], tr[1], rng)
					runGemmCase(t, nil, tc, tr[0], tr[1], rng)
				}
			}
		})
	}
}

// TestSgemmBetaZeroClearsNaN checks BLAS semantics: beta == 0 means C is
// overwritten, not multiplied, so NaNs already in C do not survive.
func TestSgemmBetaZeroClearsNaN(t *testing.T) {
	for _, v := range sgemmVariants {
		useVariant(t, v, 0, false)
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
				t.Errorf("%s k=%d: C = %v, want %v", v.name, k, c, want)
			}
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
	p := NewPool(2)
	defer p.Close()
	// The MLP's shapes, forward and backward (m, n, k), and a large one.
	for _, s := range [][3]int{{128, 784, 64}, {128, 64, 784}, {128, 10, 64}, {1, 64, 784}, {784, 64, 128}, {300, 400, 300}} {
		m, n, k := s[0], s[1], s[2]
		a, b, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			lda, ldb := k, n
			if tr[0] {
				lda = m
			}
			if tr[1] {
				ldb = k
			}
			for _, pool := range []*Pool{p, nil} {
				allocs := testing.AllocsPerRun(10, func() {
					Sgemm(pool, tr[0], tr[1], m, n, k, 1, a, lda, b, ldb, 0, c, n)
				})
				if allocs != 0 {
					t.Errorf("%v trans=%v pool=%v: Sgemm allocates %v times per call, want 0", s, tr, pool != nil, allocs)
				}
			}
		}
	}
}

// TestSgemmConcurrentCalls runs Sgemm from several goroutines at once on
// one pool and on none (the serial buffers are then contended).
func TestSgemmConcurrentCalls(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	errs := make(chan error)
	for g := range 4 {
		go func() {
			rng := NewRNG(uint64(10 + g))
			var pool *Pool
			if g%2 == 0 {
				pool = p
			}
			var err error
			for range 3 {
				if err == nil {
					err = checkGemmCase(pool, gemmCase{m: 70, n: 90, k: 110, alpha: 1, beta: 0.5}, g&1 == 1, g&2 == 2, rng)
				}
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
