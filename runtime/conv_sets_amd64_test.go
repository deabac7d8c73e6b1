//go:build amd64 && !purego

package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestKernelSetsOrder checks the property ConvFilterGrad relies on: a
// micro-kernel sums each element in an order that depends on its number
// of accumulator sets only, not on its tile shape. Every kernel of the
// ...Sets tables must give, for every element, the bits of the one-row,
// one-vector kernel with the same sets on that element's row and
// columns, for k with and without a tail of the unrolled loop, setting C
// and accumulating into it, and be close to a float64 product.
func TestKernelSetsOrder(t *testing.T) {
	type family struct {
		name   string
		ok     bool
		lanes  int
		mr, nv int
		idxA   bool
	}
	fams := []family{
		{"avx512", cpu.X86.HasAVX512F && cpu.X86.HasBMI2, 16, avx512MR, 2, false},
		{"avx512IdxA", cpu.X86.HasAVX512F && cpu.X86.HasBMI2, 16, avx512MR, 2, true},
		{"avx2", cpu.X86.HasAVX2 && cpu.X86.HasFMA, 8, avx2MR, 2, false},
	}
	r := rand.New(rand.NewPCG(21, 22))
	for _, f := range fams {
		if !f.ok {
			t.Logf("%s: not on this CPU", f.name)
			continue
		}
		// run computes the mr×nr tile (nv vectors) with the given sets
		// into c (ldc = 32), accumulating when beta != 0. A is [mr, k]
		// with row stride k (idxA: A's rows adjacent, column l at aoff[l]
		// in the buffer at), B [k, 32].
		run := func(mr, nv, sets, k, nr int, a, at []float32, aoff []int32, b, c []float32, beta float32) bool {
			acc := 0
			if beta != 0 {
				acc = 1
			}
			var mask uint64
			if f.lanes == 16 {
				mask = 1<<nr - 1
			}
			switch {
			case f.idxA:
				kern := kernelsAVX512IdxASets[mr-1][nv-1][sets>>1]
				if kern == nil {
					return false
				}
				kern(k, &at[0], 1, &aoff[0], &b[0], 32, &c[0], 32, nr, mask, 1, beta, acc)
			case f.lanes == 16:
				kern := kernelsAVX512Sets[mr-1][nv-1][sets>>1]
				if kern == nil {
					return false
				}
				kern(k, &a[0], k, 1, &b[0], 32, &c[0], 32, nr, mask, 1, beta, acc)
			default:
				kern := kernelsAVX2Sets[mr-1][nv-1][sets>>1]
				if kern == nil {
					return false
				}
				kern(k, &a[0], k, 1, &b[0], 32, &c[0], 32, nr, mask, 1, beta, acc)
			}
			return true
		}
		for _, k := range []int{1, 3, 4, 9, 64, 67} {
			a := convRand(r, avx512MR*k)
			b := convRand(r, k*32+32)
			// The idxA layout of A: column l at aoff[l], rows adjacent
			// (rows spaced by 2·mr so the columns do not overlap).
			at := make([]float32, k*2*avx512MR)
			aoff := make([]int32, k)
			for l := range k {
				aoff[l] = int32((k - 1 - l) * 2 * avx512MR) // not monotone
				for i := range avx512MR {
					at[int(aoff[l])+i] = a[i*k+l]
				}
			}
			c0 := convRand(r, avx512MR*32)
			for _, beta := range []float32{0, 1} {
				for mr := 1; mr <= f.mr; mr++ {
					for nv := 1; nv <= f.nv; nv++ {
						nr := nv * f.lanes
						for sets := 1; sets <= 4; sets *= 2 {
							got := append([]float32(nil), c0...)
							if !run(mr, nv, sets, k, nr, a, at, aoff, b, got, beta) {
								continue
							}
							name := fmt.Sprintf("%s r%d v%d sets %d k %d beta %v", f.name, mr, nv, sets, k, beta)
							// The reference: the one-row, one-vector
							// kernel on each row and vector.
							ref := append([]float32(nil), c0...)
							for i := range mr {
								for j0 := 0; j0 < nr; j0 += f.lanes {
									run(1, 1, sets, k, f.lanes, a[i*k:], at[i:], aoff, b[j0:], ref[i*32+j0:], beta)
								}
							}
							for i := range mr {
								for j := range nr {
									if math.Float32bits(got[i*32+j]) != math.Float32bits(ref[i*32+j]) {
										t.Fatalf("%s: C[%d, %d] = %v, the one-row kernel gives %v", name, i, j, got[i*32+j], ref[i*32+j])
									}
									want := float64(beta) * float64(c0[i*32+j])
									for l := range k {
										want += float64(a[i*k+l]) * float64(b[l*32+j])
									}
									if !closeEnough(got[i*32+j], want) {
										t.Fatalf("%s: C[%d, %d] = %v, want %v", name, i, j, got[i*32+j], want)
									}
								}
							}
						}
					}
				}
			}
		}
	}
}
