package runtime

// Column sums for generated reduction kernels (codegen/golang
// kernels_colsum.go): a reduce_sum or reduce_mean over leading axes adds
// each contiguous row of the kept run into a float64 accumulator vector,
// row after row, so every kept element sees exactly the float64 additions
// of the scalar loop (acc := 0.0; acc += float64(x) down the column, rows
// in order), vector-wide.

// VecAccum64 sets acc[j] += float64(x[j]) for every j < len(acc); x must
// be at least as long as acc. Each element is one float64 addition, the
// accumulator on the left, so the result is the scalar loop's bit for bit
// (NaN payloads aside).
func VecAccum64(acc []float64, x []float32) {
	VecAccumRows64(acc, x, 1, 0)
}

// VecAccumRows64 adds rows rows of x into acc, one after another: for r
// = 0, 1, ..., rows-1 in order, acc[j] += float64(x[r*stride+j]) for every
// j < len(acc); it is VecAccum64 once per row, with the accumulators kept
// in registers across the rows (a call per row costs more than its
// arithmetic on short rows). x must hold (rows-1)*stride+len(acc)
// elements.
func VecAccumRows64(acc []float64, x []float32, rows, stride int) {
	n := len(acc)
	if n == 0 || rows <= 0 {
		return
	}
	if stride < 0 {
		panic("runtime: VecAccumRows64 with a negative stride")
	}
	_ = x[(rows-1)*stride+n-1]
	if vecAccumAVX512 {
		vecAccumRows64AVX512(&acc[0], &x[0], n, rows, stride)
		return
	}
	vecAccumRows64Go(acc, x, rows, stride)
}

func vecAccumRows64Go(acc []float64, x []float32, rows, stride int) {
	for r := 0; r < rows; r++ {
		row := x[r*stride:][:len(acc)]
		for j := range acc {
			acc[j] += float64(row[j])
		}
	}
}
