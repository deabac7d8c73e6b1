package runtime

import "math"

// Per-row reductions over a block of short rows, for the block form of
// generated rows kernels (codegen/golang/rows_block.go).
//
// A block is rows of w consecutive float32s, row r at a[r*w : r*w+w]; each
// function reduces len(dst) rows into dst. One call per block replaces a
// loop per row in generated code, and the loops here are written for
// short rows (a 10-class softmax): independent accumulators in registers.
// Each result has the bits of the scalar loop the per-row code runs: a
// sum is VecSum64's blocked order (element j into lane j%8, then
// SumLanes64's tree), a max is Go's max from -Inf (VecMax).

// RowsMax sets dst[r] to the largest element of row r with Go's max
// semantics: VecMax of the row.
func RowsMax(dst, a []float32, w int) {
	a = a[:len(dst)*w]
	for r := range dst {
		dst[r] = rowMax(a[r*w : r*w+w])
	}
}

// rowMax is the max of x from -Inf with Go's max. Without NaNs Go's max
// is the max of a total order (-0 below +0), which any order of
// comparisons finds; so four chains run side by side, and a row with a
// NaN takes the sequential loop, whose NaN is the per-row code's.
func rowMax(x []float32) float32 {
	if len(x) < 4 {
		return rowMaxSeq(x)
	}
	m0, m1, m2, m3 := x[0], x[1], x[2], x[3]
	i := 4
	for ; i+4 <= len(x); i += 4 {
		y := x[i : i+4 : i+4]
		m0 = max(m0, y[0])
		m1 = max(m1, y[1])
		m2 = max(m2, y[2])
		m3 = max(m3, y[3])
	}
	for ; i < len(x); i++ {
		m0 = max(m0, x[i])
	}
	m := max(max(m0, m1), max(m2, m3))
	if m != m {
		return rowMaxSeq(x)
	}
	return m
}

func rowMaxSeq(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	return m
}

// RowsSum64 sets dst[r] to VecSum64 of row r.
func RowsSum64(dst []float64, a []float32, w int) {
	a = a[:len(dst)*w]
	for r := range dst {
		dst[r] = rowSum64(a[r*w : r*w+w])
	}
}

// RowsSum sets dst[r] to float32(VecSum64(row r)): reduce_sum of f32 rows.
func RowsSum(dst, a []float32, w int) {
	a = a[:len(dst)*w]
	for r := range dst {
		dst[r] = float32(rowSum64(a[r*w : r*w+w]))
	}
}

// RowsMean sets dst[r] to float32(VecSum64(row r) / float64(w)):
// reduce_mean of f32 rows.
func RowsMean(dst, a []float32, w int) {
	a = a[:len(dst)*w]
	for r := range dst {
		dst[r] = float32(rowSum64(a[r*w:r*w+w]) / float64(w))
	}
}

// rowSum64 is vecSum64Go with the eight lanes in registers: every lane
// starts at +0 and takes its elements in order, so the bits are the
// same.
func rowSum64(x []float32) float64 {
	var l0, l1, l2, l3, l4, l5, l6, l7 float64
	for len(x) >= 8 {
		y := x[:8:8]
		l0 += float64(y[0])
		l1 += float64(y[1])
		l2 += float64(y[2])
		l3 += float64(y[3])
		l4 += float64(y[4])
		l5 += float64(y[5])
		l6 += float64(y[6])
		l7 += float64(y[7])
		x = x[8:]
	}
	switch len(x) {
	case 7:
		l6 += float64(x[6])
		fallthrough
	case 6:
		l5 += float64(x[5])
		fallthrough
	case 5:
		l4 += float64(x[4])
		fallthrough
	case 4:
		l3 += float64(x[3])
		fallthrough
	case 3:
		l2 += float64(x[2])
		fallthrough
	case 2:
		l1 += float64(x[1])
		fallthrough
	case 1:
		l0 += float64(x[0])
	}
	return ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7))
}
