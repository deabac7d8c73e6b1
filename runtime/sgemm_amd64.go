//go:build amd64 && !purego

package runtime

//go:generate go run ./internal/asmgen -asm sgemm_kernels_amd64.s -go sgemm_kernels_amd64.go

import "golang.org/x/sys/cpu"

// sgemmAsmVariants returns the assembly kernels this CPU (and OS, which
// must save the vector state) supports, best first.
func sgemmAsmVariants() []*sgemmVariant {
	var vs []*sgemmVariant
	if cpu.X86.HasAVX512F && cpu.X86.HasBMI2 {
		vs = append(vs, &sgemmAVX512Variant)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		vs = append(vs, &sgemmAVX2Variant)
	}
	return vs
}

// sgemmAVX512Variant: 12×32 tiles (24 zmm accumulators, 2 for B and 2
// broadcast registers); B's edge columns are read with opmasks, so B can be
// read in place whatever n is.
var sgemmAVX512Variant = sgemmVariant{
	name: "avx512",
	mr:   avx512MR, nr: avx512NR,
	kc: 256, mc: 240, nc: 3072,
	tile:  tileAVX512,
	pack:  packAVX512,
	packT: packTransposedAVX512,
}

// sgemmAVX2Variant: 6×16 tiles (12 ymm accumulators); B vectors are loaded
// whole, so a partial last panel of B is always packed (zero-padded).
var sgemmAVX2Variant = sgemmVariant{
	name: "avx2",
	mr:   avx2MR, nr: avx2NR,
	kc: 256, mc: 120, nc: 3072,
	tile:  tileAVX2,
	pack:  packGo,
	packT: packTransposed,
	fullB: true,
}

func tileAVX512(kc int, a []float32, ao, ars, aks int, b []float32, bo, bks int, c []float32, co, ldc, mr, nr int, alpha, beta float32, accum bool) {
	acc := 0
	if accum {
		acc = 1
	}
	kernelsAVX512[mr-1][(nr-1)>>4](kc, &a[ao], ars, aks, &b[bo], bks, &c[co], ldc, nr, 1<<nr-1, alpha, beta, acc)
}

func tileAVX2(kc int, a []float32, ao, ars, aks int, b []float32, bo, bks int, c []float32, co, ldc, mr, nr int, alpha, beta float32, accum bool) {
	acc := 0
	if accum {
		acc = 1
	}
	kernelsAVX2[mr-1][(nr-1)>>3](kc, &a[ao], ars, aks, &b[bo], bks, &c[co], ldc, nr, 0, alpha, beta, acc)
}

func packAVX512(dst, src []float32, so, lds, rows, cols, width int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	sgemmPackAVX512(&dst[0], &src[so], lds, rows, cols, width)
}

// packTransposedAVX512 is packTransposed with the whole 16×16 blocks
// transposed in registers; the ragged edges are done in Go.
func packTransposedAVX512(dst, src []float32, so, lds, rows, cols, width int) {
	rows16 := rows &^ 15
	for p := 0; p*width < cols; p++ {
		w := min(width, cols-p*width)
		d := dst[p*rows*width : (p+1)*rows*width]
		s := src[so+p*width*lds:]
		w16 := w &^ 15
		for j := 0; j < w16; j += 16 {
			for l := 0; l < rows16; l += 16 {
				sgemmTranspose16AVX512(&d[l*width+j], width, &s[j*lds+l], lds)
			}
		}
		if rows16 < rows {
			transposeBlock(d, width, s, lds, rows, rows16, w16)
		}
		if w16 < w {
			transposeBlock(d[w16:], width, s[w16*lds:], lds, rows, 0, w-w16)
		}
		if w < width {
			for l := range rows {
				clear(d[l*width+w : (l+1)*width])
			}
		}
	}
}
