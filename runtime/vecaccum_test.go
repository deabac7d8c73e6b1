package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func sameBits64(x, y float64) bool {
	if x != x && y != y {
		return true // NaN payloads are not specified
	}
	return math.Float64bits(x) == math.Float64bits(y)
}

// TestVecAccum64MatchesScalar checks VecAccum64 and VecAccumRows64 (the
// assembly where the CPU has AVX-512; run with -tags purego for the Go
// twin alone) against the Go twin bit for bit over every length 0..70
// (the 32-, 8- and masked tail paths), 0 to 5 rows at strides shorter
// and longer than the row, unaligned operands, special values and
// repeated accumulation; elements past len(acc) stay untouched.
func TestVecAccum64MatchesScalar(t *testing.T) {
	t.Logf("assembly: %v", vecAccumAVX512)
	r := rand.New(rand.NewPCG(5, 11))
	for n := 0; n <= 70; n++ {
		for off := 0; off < 3; off++ {
			for rows := 0; rows <= 5; rows++ {
				for _, stride := range []int{0, 1, n, n + 3, 2*n + 1} {
					got := make([]float64, n+off+3)
					for i := range got {
						got[i] = float64(vecValues(r, 1)[0]) * (1 + r.Float64())
					}
					want := append([]float64(nil), got...)
					for call := 0; call < 2; call++ {
						x := vecValues(r, off+rows*stride+n+3)
						if rows == 1 && stride == 0 {
							VecAccum64(got[off:off+n], x[off:])
						} else {
							VecAccumRows64(got[off:off+n], x[off:], rows, stride)
						}
						vecAccumRows64Go(want[off:off+n], x[off:], rows, stride)
					}
					for i := range got {
						if !sameBits64(got[i], want[i]) {
							t.Fatalf("n=%d off=%d rows=%d stride=%d: element %d = %v (%#x), want %v (%#x)",
								n, off, rows, stride, i-off, got[i], math.Float64bits(got[i]), want[i], math.Float64bits(want[i]))
						}
					}
				}
			}
		}
	}
}

// TestVecAccum64ColumnSum checks the use generated code makes of it: rows
// accumulated one after another give the column sums of the scalar loop
// (acc := 0.0; acc += float64(x) down the column) bit for bit, signed
// zeros included.
func TestVecAccum64ColumnSum(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, cols := range []int{1, 7, 16, 64, 100} {
		for _, rows := range []int{1, 3, 128} {
			x := make([]float32, rows*cols)
			for i := range x {
				x[i] = float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(9)-4)))
				if r.IntN(20) == 0 {
					x[i] = float32(math.Copysign(0, -1))
				}
			}
			acc := make([]float64, cols)
			for i := 0; i < rows; i++ {
				VecAccum64(acc, x[i*cols:])
			}
			acc2 := make([]float64, cols)
			VecAccumRows64(acc2, x, rows, cols)
			for j := range cols {
				want := 0.0
				for i := 0; i < rows; i++ {
					want += float64(x[i*cols+j])
				}
				if !sameBits64(acc[j], want) || !sameBits64(acc2[j], want) {
					t.Fatalf("%dx%d column %d: %v by rows, %v at once, the scalar loop %v", rows, cols, j, acc[j], acc2[j], want)
				}
			}
		}
	}
}

// stridedColSum64 and stridedColSum10 are the scalar loops generated
// kernels had for reduce_sum {axes=[0]} over [n, 64] and [n, 10] (the
// MLP's bias gradients): each column walked down the batch, constant
// strides.
func stridedColSum64(out, x []float32, n int) {
	for i0 := 0; i0 < 64; i0++ {
		acc := 0.0
		for r0 := 0; r0 < n; r0++ {
			acc += float64(x[i0+r0*64])
		}
		out[i0] = float32(acc)
	}
}

func stridedColSum10(out, x []float32, n int) {
	for i0 := 0; i0 < 10; i0++ {
		acc := 0.0
		for r0 := 0; r0 < n; r0++ {
			acc += float64(x[i0+r0*10])
		}
		out[i0] = float32(acc)
	}
}

// BenchmarkColSum times a [128, cols] f32 column sum as generated kernels
// emit it: "strided" is the scalar loop of before (and of NoVector
// builds), "rowcalls" one VecAccum64 per row into a stack accumulator,
// "vec" one VecAccumRows64 (what kernels call now), each then converting
// to float32.
func BenchmarkColSum(b *testing.B) {
	for _, c := range []struct {
		cols    int
		strided func(out, x []float32, n int)
	}{{64, stridedColSum64}, {10, stridedColSum10}, {784, nil}} {
		rows, cols := 128, c.cols
		x := make([]float32, rows*cols)
		for i := range x {
			x[i] = float32(i%17) - 8
		}
		out := make([]float32, cols)
		if c.strided != nil {
			b.Run(fmt.Sprintf("strided/%dx%d", rows, cols), func(b *testing.B) {
				for b.Loop() {
					c.strided(out, x, rows)
				}
			})
		}
		b.Run(fmt.Sprintf("rowcalls/%dx%d", rows, cols), func(b *testing.B) {
			for b.Loop() {
				var acc [256]float64
				for c := 0; c < cols; c += 256 {
					w := min(256, cols-c)
					a := acc[:w]
					clear(a)
					for r0 := 0; r0 < rows; r0++ {
						VecAccum64(a, x[c+r0*cols:])
					}
					for j, s := range a {
						out[c+j] = float32(s)
					}
				}
			}
		})
		b.Run(fmt.Sprintf("vec/%dx%d", rows, cols), func(b *testing.B) {
			for b.Loop() {
				var acc [256]float64
				for c := 0; c < cols; c += 256 {
					w := min(256, cols-c)
					a := acc[:w]
					clear(a)
					VecAccumRows64(a, x[c:], rows, cols)
					for j, s := range a {
						out[c+j] = float32(s)
					}
				}
			}
		})
	}
}
