package runtime

import "math"

// Row reductions and the softmax normalisation for generated rows
// kernels (codegen/golang/rows_exp.go).
//
// Each exported Vec* function here has a Go twin (the *Go function) that
// computes the same bits; generated scalar code (Options.NoVector, or a
// row that is not contiguous) follows the twin's order inline, so every
// variant of a model computes the same bits.

// VecSum64 returns the float64 sum of the float32 values of a in a fixed
// blocked order: eight float64 lanes, element i added to lane i%8 in
// order, then the lanes added as ((l0+l4)+(l2+l6))+((l1+l5)+(l3+l7)).
// The lanes are what one AVX-512 register holds, so the assembly sums in
// exactly this order; SumLanes64 is the final tree for scalar code.
func VecSum64(a []float32) float64 {
	if vecRowAVX512 && len(a) > 0 {
		return vecSum64AVX512(&a[0], len(a))
	}
	return vecSum64Go(a)
}

func vecSum64Go(a []float32) float64 {
	var l [8]float64
	for i, v := range a {
		l[i&7] += float64(v)
	}
	return SumLanes64(&l)
}

// SumLanes64 adds the eight lanes of a blocked sum in VecSum64's order.
func SumLanes64(l *[8]float64) float64 {
	return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]))
}

// VecMax returns the largest element of a with Go's max semantics (NaN
// if any element is NaN, +0 over -0), -Inf when a is empty. The
// assembly's max ignores NaN and picks either zero, so a row with a NaN or
// a max of zero (which sign is then not known) takes the Go loop: the
// answer is the same bits either way.
func VecMax(a []float32) float32 {
	if vecRowAVX512 && len(a) > 0 {
		if m, ok := vecMaxAVX512(&a[0], len(a)); ok && m != 0 {
			return m
		}
	}
	return vecMaxGo(a)
}

func vecMaxGo(a []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range a {
		m = max(m, v)
	}
	return m
}

// VecScale64 sets dst[i] = float32(float64(a[i]) * s) for i < len(dst):
// softmax's normalisation by the float64 reciprocal of its sum, each
// product rounded once to float32 (no fused multiply-add); a must be at
// least as long as dst.
func VecScale64(dst, a []float32, s float64) {
	n := len(dst)
	if n == 0 {
		return
	}
	a = a[:n]
	if vecRowAVX512 {
		vecScale64AVX512(&dst[0], &a[0], s, n)
		return
	}
	vecScale64Go(dst, a, s)
}

func vecScale64Go(dst, a []float32, s float64) {
	for i := range dst {
		dst[i] = float32(float64(a[i]) * s)
	}
}
