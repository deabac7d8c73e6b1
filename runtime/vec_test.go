package runtime

import (
	"math"
	"math/rand/v2"
	"testing"
)

// vecValues draws operands that include the values where vector and
// scalar code most easily part: signed zeros, infinities, NaN, subnormals,
// and many exact zeros (select and compares).
func vecValues(r *rand.Rand, n int) []float32 {
	specials := []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32, 3}
	out := make([]float32, n)
	for i := range out {
		if r.IntN(4) == 0 {
			out[i] = specials[r.IntN(len(specials))]
		} else {
			out[i] = float32(r.NormFloat64() * 10)
		}
	}
	return out
}

func sameBits(x, y float32) bool {
	if x != x && y != y {
		return true // NaN payloads are not specified
	}
	return math.Float32bits(x) == math.Float32bits(y)
}

// TestVecMatchesScalar checks every Vec* function against its Go loop, bit
// for bit, over lengths that exercise the 64-, 16- and masked tail paths
// and operands at unaligned offsets; elements past len(dst) stay untouched.
func TestVecMatchesScalar(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	lengths := []int{0, 1, 2, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 79, 80, 127, 128, 129, 200, 512, 1000}
	scalars := []float32{0, float32(math.Copysign(0, -1)), 2.5, -1, float32(math.NaN()), float32(math.Inf(1))}
	for _, c := range vecCases {
		for _, n := range lengths {
			for off := 0; off < 3; off++ {
				a, b, cc := vecValues(r, n+off+5), vecValues(r, n+off+5), vecValues(r, n+off+5)
				s, tt := scalars[r.IntN(len(scalars))], scalars[r.IntN(len(scalars))]
				got := vecValues(r, n+off+5)
				want := append([]float32(nil), got...)
				c.run(got[off:off+n], a[off:], b[off:], cc[off:], s, tt)
				c.ref(want[off:off+n], a[off:], b[off:], cc[off:], s, tt)
				for i := range got {
					if !sameBits(got[i], want[i]) {
						t.Fatalf("%s n=%d off=%d: element %d = %v (%#x), want %v (%#x); a=%v b=%v c=%v s=%v t=%v",
							c.name, n, off, i-off, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]),
							a[i], b[i], cc[i], s, tt)
					}
				}
			}
		}
	}
}

func TestVecShortOperandPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("VecAdd with a short operand did not panic")
		}
	}()
	VecAdd(make([]float32, 10), make([]float32, 10), make([]float32, 9))
}

func BenchmarkVec(b *testing.B) {
	for _, n := range []int{64, 512} {
		x, y, d := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], y[i] = float32(i)+1, float32(i)+2
		}
		b.Run("Div/"+itoa(n), func(b *testing.B) {
			b.SetBytes(int64(12 * n))
			for range b.N {
				VecDiv(d, x, y)
			}
		})
		b.Run("DivGo/"+itoa(n), func(b *testing.B) {
			b.SetBytes(int64(12 * n))
			for range b.N {
				vecDivGo(d, x, y)
			}
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var buf [20]byte
	i := len(buf)
	for ; n > 0; n /= 10 {
		i--
		buf[i] = byte('0' + n%10)
	}
	return string(buf[i:])
}
