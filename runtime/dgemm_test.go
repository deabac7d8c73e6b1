package runtime

import (
	"math"
	"strings"
	"testing"
)

// naiveDgemm is the interpreter's matmul (a triple loop summing from zero
// in increasing k), then alpha and beta as BLAS defines them.
func naiveDgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	for i := range m {
		for j := range n {
			s := 0.0
			for p := range k {
				var x, y float64
				if transA {
					x = a[p*lda+i]
				} else {
					x = a[i*lda+p]
				}
				if transB {
					y = b[j*ldb+p]
				} else {
					y = b[p*ldb+j]
				}
				s += float64(x * y)
			}
			old := 0.0
			if beta != 0 {
				old = beta * c[i*ldc+j]
			}
			c[i*ldc+j] = alpha*s + old
		}
	}
}

func TestDgemmMatchesTripleLoop(t *testing.T) {
	defer func(nc, kc int) { dgemmNC, dgemmKC = nc, kc }(dgemmNC, dgemmKC)
	rng := NewRNG(7)
	fill := func(n int) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = 2*rng.Float64() - 1
		}
		return x
	}
	for _, blocks := range [][2]int{{512, 256}, {3, 2}} { // default, and blocks smaller than the matrices
		dgemmNC, dgemmKC = blocks[0], blocks[1]
		for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 7}, {8, 9, 10}, {17, 4, 33}, {2, 3, 0}} {
			m, n, k := sz[0], sz[1], sz[2]
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					lda, ldb, ldc := k+1, n+2, n+3 // strides wider than the rows
					if ta {
						lda = m + 1
					}
					if tb {
						ldb = k + 2
					}
					arows, brows := m, k
					if ta {
						arows = k
					}
					if tb {
						brows = n
					}
					a, b := fill(arows*lda), fill(brows*ldb)
					c0 := fill(m * ldc)
					for _, ab := range [][2]float64{{1, 0}, {0.5, 2}} {
						got, want := append([]float64(nil), c0...), append([]float64(nil), c0...)
						Dgemm(ta, tb, m, n, k, ab[0], a, lda, b, ldb, ab[1], got, ldc)
						naiveDgemm(ta, tb, m, n, k, ab[0], a, lda, b, ldb, ab[1], want, ldc)
						for i := range got {
							exact := ab == [2]float64{1, 0}
							if exact && got[i] != want[i] || !exact && math.Abs(got[i]-want[i]) > 1e-12 {
								t.Fatalf("blocks %v, m,n,k=%d,%d,%d ta=%v tb=%v alpha,beta=%v: c[%d] = %v, triple loop %v",
									blocks, m, n, k, ta, tb, ab, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}

func TestDgemmBetaZeroIgnoresNaN(t *testing.T) {
	c := []float64{math.NaN(), math.NaN()}
	Dgemm(false, false, 1, 2, 1, 1, []float64{2}, 1, []float64{3, 4}, 2, 0, c, 2)
	if c[0] != 6 || c[1] != 8 {
		t.Fatalf("c = %v, want [6 8]", c)
	}
}

func TestDgemmBadArgs(t *testing.T) {
	defer func() {
		r := recover()
		if s, _ := r.(string); !strings.Contains(s, "runtime.Dgemm") || !strings.Contains(s, "len(b)") {
			t.Fatalf("panic %v, want one from runtime.Dgemm naming len(b)", r)
		}
	}()
	Dgemm(false, false, 2, 2, 2, 1, make([]float64, 4), 2, make([]float64, 3), 2, 0, make([]float64, 4), 2)
}

func TestDgemmAllocs(t *testing.T) {
	a, b, c := make([]float64, 64), make([]float64, 64), make([]float64, 64)
	if n := testing.AllocsPerRun(10, func() { Dgemm(false, true, 8, 8, 8, 1, a, 8, b, 8, 0, c, 8) }); n != 0 {
		t.Fatalf("Dgemm allocates %v times per call", n)
	}
}
