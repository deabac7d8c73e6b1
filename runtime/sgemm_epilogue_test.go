package runtime

import (
	"math"
	"sync"
	"testing"
)

// rowChecker is an Epilogue that checks, when called, that the rows it is
// given are final (equal to the reference product) and that every row is
// handed over exactly once.
type rowChecker struct {
	mu       sync.Mutex
	t        *testing.T
	c        []float32
	want     []float64
	n, ldc   int
	seen     []int
	failures int
}

func (r *rowChecker) Epilogue(r0, r1 int) {
	// Read the rows before taking the lock: they must be final already.
	bad := -1
	for i := r0; i < r1; i++ {
		for j := 0; j < r.n; j++ {
			w := r.want[i*r.ldc+j]
			if math.Abs(float64(r.c[i*r.ldc+j])-w) > 1e-4*(1+math.Abs(w)) {
				bad = i
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if bad >= 0 && r.failures < 3 {
		r.failures++
		r.t.Errorf("row %d handed to the epilogue before it was final (call %d..%d)", bad, r0, r1)
	}
	for i := r0; i < r1; i++ {
		r.seen[i]++
	}
}

// TestSgemmEpilogue: every row reaches the epilogue exactly once and only
// once it is final, for shapes with several row blocks, several k slices,
// one column block and more than one (the fallback), serially and on
// pools, for every kernel.
func TestSgemmEpilogue(t *testing.T) {
	pools := []*Pool{nil, NewPool(2), NewPool(3)}
	defer func() {
		for _, p := range pools {
			p.Close()
		}
	}()
	rng := NewRNG(5)
	for _, v := range sgemmVariants {
		t.Run(v.name, func(t *testing.T) {
			useVariant(t, v, 0, false)
			for _, s := range [][3]int{{1, 10, 64}, {128, 64, 784}, {784, 64, 128}, {250, 70, 600}, {37, 3100, 9}, {5, 7, 0}} {
				m, n, k := s[0], s[1], s[2]
				for _, p := range pools {
					for _, tA := range []bool{false, true} {
						a := randSlice(rng, m*k+1)
						b := randSlice(rng, k*n+1)
						c := randSlice(rng, m*n)
						lda := max(k, 1)
						if tA {
							lda = m
						}
						want, _ := refGemm(tA, false, m, n, k, 1, a, lda, b, n, 0, c, n)
						rc := &rowChecker{t: t, c: c, want: want, n: n, ldc: n, seen: make([]int, m)}
						SgemmEpilogue(p, tA, false, m, n, k, 1, a, lda, b, n, 0, c, n, rc)
						for i, cnt := range rc.seen {
							if cnt != 1 {
								t.Fatalf("%dx%dx%d transA=%v workers=%d: row %d handed over %d times", m, n, k, tA, p.Workers(), i, cnt)
							}
						}
					}
				}
			}
		})
	}
}
