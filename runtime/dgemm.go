package runtime

// Dgemm is the float64 GEMM of the Go backend's f64 values: plain Go,
// blocked for the caches, on the calling goroutine. It is not tuned as
// Sgemm is (f64 is rare in models: ONNX graphs use it for exact
// arithmetic); what it guarantees is the interpreter's order: with
// alpha = 1 and beta = 0 every element of C is the sum, from zero, of its
// k products in increasing k, each product rounded on its own (no FMA),
// exactly as ir/interp's matmul computes it, so the two agree to the bit.

// Block sizes of Dgemm (variables so that tests can force every path):
// columns of B and C per block, and the k slice per block.
var dgemmNC, dgemmKC = 512, 256

// Dgemm computes C = alpha*op(A)*op(B) + beta*C for row-major float64
// matrices with Sgemm's (BLAS) semantics: op(X) is X or Xᵀ according to
// transA/transB, op(A) is m×k, op(B) is k×n, C is m×n, and lda, ldb, ldc are
// the row strides of the matrices as stored. beta == 0 writes C without
// reading it (zeros over NaNs); k == 0 or alpha == 0 only scales C by beta.
// It does not allocate. Inconsistent dimensions, strides or slice lengths
// panic with a message naming the offending argument.
func Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if msg := checkSgemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc); msg != "" {
		panic("runtime.Dgemm: " + msg)
	}
	if m == 0 || n == 0 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
	if k == 0 || alpha == 0 {
		return
	}
	// A(i, p), as stored.
	ai, ap := lda, 1
	if transA {
		ai, ap = 1, lda
	}
	if transB {
		// Rows of B as stored are columns of op(B): one dot product per
		// element, both operands contiguous in k when A is not transposed.
		for i := range m {
			for j := range n {
				bj := b[j*ldb : j*ldb+k]
				s := 0.0
				for p, y := range bj {
					s += float64(a[i*ai+p*ap] * y)
				}
				c[i*ldc+j] += alpha * s
			}
		}
		return
	}
	// Rows of C accumulate rows of B scaled by A(i, p): for each element the
	// k slices come in increasing order, and within a slice p increases.
	for j0 := 0; j0 < n; j0 += dgemmNC {
		j1 := min(j0+dgemmNC, n)
		for p0 := 0; p0 < k; p0 += dgemmKC {
			p1 := min(p0+dgemmKC, k)
			for i := range m {
				crow := c[i*ldc+j0 : i*ldc+j1]
				for p := p0; p < p1; p++ {
					t := alpha * a[i*ai+p*ap]
					brow := b[p*ldb+j0 : p*ldb+j1]
					for j, y := range brow {
						crow[j] += float64(t * y)
					}
				}
			}
		}
	}
}
