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
// semantics: VecMax of the row. Without NaNs Go's max is the max of a
// total order (-0 below +0), which any order of comparisons finds; so
// rows of four or more run four chains side by side, and a row with a NaN
// takes the sequential loop from -Inf, whose NaN is the per-row code's.
func RowsMax(dst, a []float32, w int) {
	a = a[:len(dst)*w]
	if w < 4 {
		for r := range dst {
			dst[r] = rowMaxSeq(a[r*w : r*w+w])
		}
		return
	}
	for r := range dst {
		x := a[r*w : r*w+w]
		m0, m1, m2, m3 := x[0], x[1], x[2], x[3]
		y := x[4:]
		for len(y) >= 4 {
			m0 = max(m0, y[0])
			m1 = max(m1, y[1])
			m2 = max(m2, y[2])
			m3 = max(m3, y[3])
			y = y[4:]
		}
		for _, v := range y {
			m0 = max(m0, v)
		}
		m := max(max(m0, m1), max(m2, m3))
		if m != m {
			m = rowMaxSeq(x)
		}
		dst[r] = m
	}
}

// RowsMaxSub sets mx[r] to RowsMax of row r of a and row r of dst to
// a's row minus mx[r]: the first steps of a softmax; dst and a must not
// overlap.
func RowsMaxSub(mx, dst, a []float32, w int) {
	RowsMax(mx, a, w)
	a, dst = a[:len(mx)*w], dst[:len(mx)*w]
	for r, m := range mx {
		x, o := a[r*w:r*w+w], dst[r*w:r*w+w]
		for j, v := range x {
			o[j] = v - m
		}
	}
}

func rowMaxSeq(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	return m
}

// RowsSum64 sets dst[r] to VecSum64 of row r: eight lanes (here in
// registers), each starting at +0 and taking its elements in order, added
// in SumLanes64's tree.
func RowsSum64(dst []float64, a []float32, w int) {
	a = a[:len(dst)*w]
	for r := range dst {
		x := a[r*w : r*w+w]
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
		dst[r] = ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7))
	}
}

// RowsSum sets dst[r] to float32(VecSum64(row r)): reduce_sum of f32 rows.
func RowsSum(dst, a []float32, w int) {
	var s [64]float64
	for len(dst) > 0 {
		n := min(len(dst), len(s))
		RowsSum64(s[:n], a[:n*w], w)
		for i, v := range s[:n] {
			dst[i] = float32(v)
		}
		dst, a = dst[n:], a[n*w:]
	}
}

// RowsMean sets dst[r] to float32(VecSum64(row r) / float64(w)):
// reduce_mean of f32 rows.
func RowsMean(dst, a []float32, w int) {
	var s [64]float64
	for len(dst) > 0 {
		n := min(len(dst), len(s))
		RowsSum64(s[:n], a[:n*w], w)
		for i, v := range s[:n] {
			dst[i] = float32(v / float64(w))
		}
		dst, a = dst[n:], a[n*w:]
	}
}
