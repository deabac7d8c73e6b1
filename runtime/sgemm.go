package runtime

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Tile sizes for Sgemm. gonum's Sgemm switches to a parallel path that
// starts (and allocates) goroutines when blocks(m,64)*blocks(n,64) >= 4, so
// every call we make into gonum covers at most one 64-row block and three
// 64-column blocks (1*3 < 4) and therefore always takes gonum's serial,
// allocation-free path. Parallelism comes from our own Pool instead.
const (
	gemmTileRows = 64      // gonum's blockSize
	gemmTileCols = 3 * 64  // largest column span that keeps gonum serial
	gemmTileK    = 256     // k-blocking keeps the B panel (256x192 floats) cache-resident
	gemmParMin   = 1 << 19 // m*n*k below which waking workers costs more than it saves
)

// gonumImpl is gonum's pure-Go BLAS; it is a zero-size value type.
var gonumImpl gonum.Implementation

// sgemmTask holds one Sgemm call split into tiles of C. It is a Task so
// the tiles can be run over a Pool; the Pool keeps a preallocated instance.
type sgemmTask struct {
	transA, transB blas.Transpose
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int

	mc, nc   int // tile extent in rows and columns of C
	colTiles int // number of tiles per row of tiles
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices with
// BLAS semantics: op(X) is X or Xᵀ according to transA/transB, op(A) is m×k,
// op(B) is k×n, C is m×n, and lda, ldb, ldc are the row strides of the
// matrices as stored (A is stored m×k, or k×m when transA). When k == 0 or
// alpha == 0, A and B are not read and C is just scaled by beta (beta == 0
// writes zeros, even over NaNs, as in reference BLAS).
//
// The work is split into tiles of C that run over p (nil p: serially on the
// calling goroutine). Sgemm does not allocate. Inconsistent dimensions,
// strides or slice lengths are programming errors in the caller and panic
// with a message naming the offending argument, as gonum and reference
// BLAS do.
func Sgemm(p *Pool, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if msg := checkSgemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc); msg != "" {
		panic("runtime.Sgemm: " + msg)
	}
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleRows(m, n, beta, c, ldc)
		return
	}
	if p.Workers() > 1 && m*n*k >= gemmParMin && p.sgemmParallel(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
		return
	}
	var t sgemmTask
	t.set(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	t.RunRange(0, t.plan(1))
}

// sgemmParallel runs the tiles on the pool using its preallocated task. It
// reports false, doing nothing, when the pool is busy (a concurrent or
// nested call) or closed; the caller then runs serially.
func (p *Pool) sgemmParallel(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) bool {
	if !p.mu.TryLock() {
		return false
	}
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	t := &p.gemm
	t.set(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	// Drop the references afterwards so the pool does not keep the
	// caller's matrices alive.
	defer t.set(false, false, 0, 0, 0, 0, nil, 0, nil, 0, 0, nil, 0)
	p.runLocked(t.plan(p.workers), t)
	return true
}

func (t *sgemmTask) set(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	t.transA, t.transB = blas.NoTrans, blas.NoTrans
	if transA {
		t.transA = blas.Trans
	}
	if transB {
		t.transB = blas.Trans
	}
	t.m, t.n, t.k = m, n, k
	t.alpha, t.beta = alpha, beta
	t.a, t.b, t.c = a, b, c
	t.lda, t.ldb, t.ldc = lda, ldb, ldc
}

// plan chooses the tile sizes for the given parallelism and returns the
// number of tiles. Tiles never exceed gemmTileRows×gemmTileCols; with
// several workers, rows are split further so that there are at least as
// many tiles as workers and, when few, a multiple of the worker count
// (Pool.Run hands out contiguous, equal-count chunks).
func (t *sgemmTask) plan(workers int) int {
	t.colTiles = ceilDiv(t.n, gemmTileCols)
	t.nc = ceilDiv(t.n, t.colTiles)
	rowTiles := ceilDiv(t.m, gemmTileRows)
	if workers > 1 {
		for rowTiles < t.m && (rowTiles*t.colTiles < workers || (rowTiles*t.colTiles)%workers != 0) && rowTiles*t.colTiles < 4*workers {
			rowTiles++
		}
	}
	t.mc = ceilDiv(t.m, rowTiles)
	return ceilDiv(t.m, t.mc) * t.colTiles
}

// RunRange computes tiles [lo, hi) of C, numbered row-major.
func (t *sgemmTask) RunRange(lo, hi int) {
	for idx := lo; idx < hi; idx++ {
		i0 := idx / t.colTiles * t.mc
		j0 := idx % t.colTiles * t.nc
		t.tile(i0, min(i0+t.mc, t.m), j0, min(j0+t.nc, t.n))
	}
}

// tile computes C[i0:i1, j0:j1] with gonum, blocking over k: the first k
// block applies the caller's beta, later ones accumulate with beta = 1.
func (t *sgemmTask) tile(i0, i1, j0, j1 int) {
	mm, nn := i1-i0, j1-j0
	c := t.c[i0*t.ldc+j0:]
	beta := t.beta
	for l0 := 0; l0 < t.k; l0 += gemmTileK {
		kk := min(gemmTileK, t.k-l0)
		var a, b []float32
		if t.transA == blas.Trans {
			a = t.a[l0*t.lda+i0:]
		} else {
			a = t.a[i0*t.lda+l0:]
		}
		if t.transB == blas.Trans {
			b = t.b[j0*t.ldb+l0:]
		} else {
			b = t.b[l0*t.ldb+j0:]
		}
		gonumImpl.Sgemm(t.transA, t.transB, mm, nn, kk, t.alpha, a, t.lda, b, t.ldb, beta, c, t.ldc)
		beta = 1
	}
}

// scaleRows sets C = beta*C for the m×n matrix C with row stride ldc.
func scaleRows(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// checkSgemm validates Sgemm's arguments and returns a description of the
// first problem, or "". It returns a constant string or builds one only on
// failure, so the success path does not allocate.
func checkSgemm(transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) string {
	if m < 0 || n < 0 || k < 0 {
		return fmt.Sprintf("negative dimension m=%d n=%d k=%d", m, n, k)
	}
	// Stored shapes: A is m×k (k×m when transposed), B is k×n (n×k).
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if msg := checkMatrix("a", ar, ac, la, lda); msg != "" {
		return msg
	}
	if msg := checkMatrix("b", br, bc, lb, ldb); msg != "" {
		return msg
	}
	return checkMatrix("c", m, n, lc, ldc)
}

// checkMatrix checks that a row-major rows×cols matrix with the given
// stride fits in a slice of length l.
func checkMatrix(name string, rows, cols, l, ld int) string {
	if ld < max(1, cols) {
		return fmt.Sprintf("ld%s=%d is less than max(1, %d), the number of columns of %s as stored", name, ld, cols, name)
	}
	if rows == 0 || cols == 0 {
		return ""
	}
	if need := (rows-1)*ld + cols; l < need {
		return fmt.Sprintf("len(%s)=%d is too short for a %dx%d matrix with stride %d (need %d)", name, l, rows, cols, ld, need)
	}
	return ""
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
