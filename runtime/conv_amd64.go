//go:build amd64 && !purego

package runtime

//go:generate go run ./internal/poolgen -o pool2x2_amd64.s

import "golang.org/x/sys/cpu"

// poolAsm reports that the AVX-512 2×2 pooling kernels can run (they use
// BZHI from BMI2 for the masks).
var poolAsm = cpu.X86.HasAVX512F && cpu.X86.HasBMI2

// maxPool2x2AVX512 sets y[r*ow+j], r < oh, j < ow, to the max of the
// window at rows 2r, 2r+1 and columns 2j, 2j+1 of x (row stride w).
//
//go:noescape
func maxPool2x2AVX512(x *float32, w int, y *float32, ow, oh int)

// maxPoolGrad2x2AVX512 sets the elements of dx (row stride w) in rows
// < 2·oh and columns < 2·ow: dy[r*ow+j] at the first max of window (r, j)
// of x, zero elsewhere.
//
//go:noescape
func maxPoolGrad2x2AVX512(x, dy, dx *float32, w, ow, oh int)

// maxPool2x2Fast runs maxPool2x2AVX512 over every plane when the CPU has
// it, and reports whether it did.
func maxPool2x2Fast(g *ConvGeom, vols int, x, y []float32) bool {
	if !poolAsm || g.OH <= 0 || g.OW <= 0 {
		return false
	}
	n, on := g.H*g.W, g.OH*g.OW
	for p := range vols {
		vol, out := x[p*n:(p+1)*n], y[p*on:(p+1)*on]
		maxPool2x2AVX512(&vol[0], g.W, &out[0], g.OW, g.OH)
	}
	return true
}

// maxPoolGrad2x2Fast is maxPool2x2Fast for the gradient; the elements of
// dx that no window covers (an odd last row or column) are cleared.
func maxPoolGrad2x2Fast(g *ConvGeom, vols int, x, dy, dx []float32) bool {
	if !poolAsm || g.OH <= 0 || g.OW <= 0 {
		return false
	}
	n, on := g.H*g.W, g.OH*g.OW
	for p := range vols {
		vol, d, out := x[p*n:(p+1)*n], dy[p*on:(p+1)*on], dx[p*n:(p+1)*n]
		maxPoolGrad2x2AVX512(&vol[0], &d[0], &out[0], g.W, g.OW, g.OH)
		clearUncovered(g, out)
	}
	return true
}

// hasIdxTile reports that tileIdx can run: Sgemm uses the AVX-512 kernels.
func hasIdxTile() bool { return sgemmImpl == &sgemmAVX512Variant }

// tileIdx is the AVX-512 micro-kernel with B's rows at b[bo+boff[l]:]
// (the indexed kernels of sgemm_kernels_amd64.s): it sets the mr×nr tile
// C[co + i*ldc + j] = sum over l < kc of A[ao + i*ars + l*aks] *
// B[bo + boff[l] + j].
func tileIdx(kc int, a []float32, ao, ars, aks int, b []float32, bo int, boff []int32, c []float32, co, ldc, mr, nr int) {
	kernelsAVX512Idx[mr-1][(nr-1)>>4](kc, &a[ao], ars, aks, &b[bo], &boff[0], &c[co], ldc, nr, 1<<nr-1, 1, 0, 0)
}

// convRowsT is Conv's product for one sample with the output channels
// along the vectors: yT [P, M] = patches × wT, with A the planes src read
// in place (column l of the patch matrix at offset off[l], output
// positions adjacent) and B = wT [K, M], then yT transposed into y [M, P]
// (16×16 blocks in registers). For M a multiple of 16 every lane computes
// an output, where the [M, P] form wastes the lanes past each row's OW.
func convRowsT(g *ConvGeom, p *padPlan, m, k int, wT, src []float32, off []int32, yT, y []float32) {
	pos := g.OH * g.OW
	tiles := ceilDiv(g.OW, avx512MR)
	for oh := range g.OH {
		k0, k1 := tapRange(g, p, g.C, oh) // wT and off are in that order
		if k0 >= k1 {
			clear(yT[oh*g.OW*m : (oh+1)*g.OW*m])
			continue
		}
		for t := range tiles {
			i0, i1 := t*g.OW/tiles, (t+1)*g.OW/tiles
			for j0 := 0; j0 < m; j0 += avx512NR {
				nr := min(avx512NR, m-j0)
				kernelsAVX512IdxA[i1-i0-1][(nr-1)>>4](k1-k0, &src[oh*p.wp+i0], 1, &off[k0], &wT[k0*m+j0], m,
					&yT[(oh*g.OW+i0)*m+j0], m, nr, 1<<nr-1, 1, 0, 0)
			}
		}
	}
	p16 := pos &^ 15
	for p0 := 0; p0 < p16; p0 += 16 {
		for m0 := 0; m0 < m; m0 += 16 {
			sgemmTranspose16AVX512(&y[m0*pos+p0], pos, &yT[p0*m+m0], m)
		}
	}
	for q := p16; q < pos; q++ {
		for o := range m {
			y[o*pos+q] = yT[q*m+o]
		}
	}
}

// filterGradIdx adds one sample's contribution to rows [lo, hi) of dwT
// [C·KH·KW, M] (rows from lo; set instead of added when first):
// dwT[r, o] += sum over output positions q of patch(r, q) · dyTu[q, o],
// with the patch matrix read in place in the planes src: the rows of one
// (c, kh) are adjacent in the plane (unit width dilation), and position q
// is at aoff[q], so each run of rows within a (c, kh) is one indexed-A
// tile over the unpadded positions. A run that the range cuts is a tile of
// fewer rows, which keeps the accumulator sets of a whole run (see
// kernelsAVX512IdxASets): every row is summed in the same order wherever
// the pool splits the rows.
func filterGradIdx(g *ConvGeom, p *padPlan, m, mp, stride int, src, dyTu []float32, aoff []int32, dwT []float32, lo, hi int, first bool) {
	kk, pos := g.KH*g.KW, g.OH*g.OW
	beta, accum := float32(1), 1
	if first {
		beta, accum = 0, 0
	}
	// The sets of a whole run, for one and two vectors of columns.
	sets := [2]int{idxASetsOf(&kernelsAVX512IdxASets[g.KW-1][0]), idxASetsOf(&kernelsAVX512IdxASets[g.KW-1][1])}
	for r := lo; r < hi; {
		c, k := r/kk, r%kk
		kw0 := k % g.KW
		rows := min(g.KW-kw0, hi-r)
		base := c*stride + k/g.KW*g.DH*p.wp + kw0
		for j0 := 0; j0 < m; j0 += avx512NR {
			nr := min(avx512NR, m-j0)
			nv := (nr - 1) >> 4
			kernelsAVX512IdxASets[rows-1][nv][sets[nv]>>1](pos, &src[base], 1, &aoff[0], &dyTu[j0], mp,
				&dwT[(r-lo)*m+j0], m, nr, 1<<nr-1, 1, beta, accum)
		}
		r += rows
	}
}

// setsOf and idxASetsOf give the number of accumulator sets that the
// kernels of one tile shape keep by default: the last kernel that is not
// nil in their row of a ...Sets table (index i keeps 1<<i sets).
func setsOf(row *[3]asmKernel) int {
	n := 1
	for i, k := range row {
		if k != nil {
			n = 1 << i
		}
	}
	return n
}

func idxASetsOf(row *[3]asmIdxAKernel) int {
	n := 1
	for i, k := range row {
		if k != nil {
			n = 1 << i
		}
	}
	return n
}

// tileSets is the number of accumulator sets over k that v's micro-kernel
// keeps for an mr×nr tile: the per-element summation order of the tile
// depends on it alone (the Go kernel keeps one sum).
func tileSets(v *sgemmVariant, mr, nr int) int {
	switch v {
	case &sgemmAVX512Variant:
		return setsOf(&kernelsAVX512Sets[mr-1][(nr-1)>>4])
	case &sgemmAVX2Variant:
		return setsOf(&kernelsAVX2Sets[mr-1][(nr-1)>>3])
	}
	return 1
}

// tileFixed is v.tile with alpha 1 and exactly sets accumulator sets over
// k (at most tileSets(v, mr, nr)), so that tiles of different shapes sum
// their elements in one order.
func tileFixed(v *sgemmVariant, sets, kc int, a []float32, ao, ars, aks int, b []float32, bo, bks int, c []float32, co, ldc, mr, nr int, beta float32, accum bool) {
	acc := 0
	if accum {
		acc = 1
	}
	switch v {
	case &sgemmAVX512Variant:
		kernelsAVX512Sets[mr-1][(nr-1)>>4][sets>>1](kc, &a[ao], ars, aks, &b[bo], bks, &c[co], ldc, nr, 1<<nr-1, 1, beta, acc)
	case &sgemmAVX2Variant:
		kernelsAVX2Sets[mr-1][(nr-1)>>3][sets>>1](kc, &a[ao], ars, aks, &b[bo], bks, &c[co], ldc, nr, 0, 1, beta, acc)
	default:
		v.tile(kc, a, ao, ars, aks, b, bo, bks, c, co, ldc, mr, nr, 1, beta, accum)
	}
}
