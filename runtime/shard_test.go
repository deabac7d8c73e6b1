package runtime

import (
	"math"
	"testing"
)

// TestSgemmRowTileRanges checks SgemmRowTile's contract: products of row
// ranges of A that start at multiples of it compute exactly the bits of
// the whole product, whatever the ranges' lengths (the last one ending
// with C), for the shapes of the MNIST MLP's layers.
func TestSgemmRowTileRanges(t *testing.T) {
	tile := SgemmRowTile()
	if tile < 1 {
		t.Fatalf("SgemmRowTile() = %d", tile)
	}
	rng := NewRNG(3)
	for _, d := range [][3]int{{128, 64, 784}, {127, 64, 64}, {29, 10, 64}} {
		m, n, k := d[0], d[1], d[2]
		a := make([]float32, m*k)
		b := make([]float32, k*n)
		for i := range a {
			a[i] = float32(2*rng.Float64() - 1)
		}
		for i := range b {
			b[i] = float32(2*rng.Float64() - 1)
		}
		whole := make([]float32, m*n)
		Sgemm(nil, false, false, m, n, k, 1, a, k, b, n, 0, whole, n)
		for _, step := range []int{1, 2, 5} {
			got := make([]float32, m*n)
			for r0 := 0; r0 < m; r0 += step * tile {
				r1 := min(m, r0+step*tile)
				Sgemm(nil, false, false, r1-r0, n, k, 1, a[r0*k:], k, b, n, 0, got[r0*n:], n)
			}
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(whole[i]) {
					t.Fatalf("%dx%dx%d in ranges of %d tiles: element %d = %v, whole product %v", m, n, k, step, i, got[i], whole[i])
				}
			}
		}
	}
}

func TestAwakeWithoutWorkers(t *testing.T) {
	var nilPool *Pool
	if nilPool.Awake() {
		t.Error("a nil pool is awake")
	}
	p := NewPool(1)
	defer p.Close()
	if p.Awake() {
		t.Error("a one-worker pool is awake")
	}
}

func TestSgemmShardAlign(t *testing.T) {
	mr, nr := sgemmImpl.mr, sgemmImpl.nr
	if got := SgemmShardAlign(); got != mr {
		t.Errorf("SgemmShardAlign() = %d, want SgemmRowTile() = %d", got, mr)
	}
	for _, cols := range [][]int{{961}, {576, 784, 64, 144}, {1}, {0, -3, 25}} {
		a := SgemmShardAlign(cols...)
		if a%mr != 0 {
			t.Errorf("SgemmShardAlign(%v) = %d, not a multiple of the row tile %d", cols, a, mr)
		}
		for _, c := range cols {
			if c > 0 && a*c%nr != 0 {
				t.Errorf("SgemmShardAlign(%v) = %d: %d samples of %d columns are not whole column tiles of %d", cols, a, a, c, nr)
			}
		}
		for b := mr; b < a; b += mr { // the smallest such
			whole := true
			for _, c := range cols {
				whole = whole && (c <= 0 || b*c%nr == 0)
			}
			if whole {
				t.Errorf("SgemmShardAlign(%v) = %d, but %d would do", cols, a, b)
			}
		}
	}
}
