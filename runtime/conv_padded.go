package runtime

import (
	"fmt"
	"unsafe"
)

// Convolutions of a range of samples, for the generated per-sample
// kernels. A stride-1 2-D (or 1-D) convolution uses a "padded-width"
// implicit GEMM: the sample goes into a zero-padded plane of Hp×Wp per
// channel (or is read in place when it needs no padding), and the output
// is computed on the padded width, OH×Wp positions of which the last Wp-OW
// of each row are never stored. Patch row (c, kh, kw) is then one
// contiguous slice of the plane, xpad_c[kh·DH·Wp + kw·DW :][:L], so the
// patch matrix is built with one copy per row (im2col does one per row of
// output per row of patches, of OW floats each), and the GEMM micro-kernel
// reads output row oh of it at column oh·Wp and writes straight into the
// output row. Where the AVX-512 kernels run, the patch matrix is not built
// at all: an indexed micro-kernel reads patch row l at its offset in the
// plane from a table (tileIdx; taps ordered kh-major, so that an output
// row skips the taps that meet padding rows only), and with a multiple of
// 16 output channels the channels go along the vectors instead
// (convRowsT). The input gradient is the convolution of dy with the
// flipped filter (ConvTranspose), the filter gradient col·dyᵀ
// (ConvFilterGrad). Other geometries fall back to im2col and Sgemm per
// sample (the filter gradient: a GEMM loop of its own, filterGradCols).
// The filter gradient's rows are split over the pool, and its tiles keep
// the kernels' summation order whatever the split (see ConvFilterGrad).
// All scratch is the caller's (an arena buffer): no call allocates.

// colSlack pads the patch matrix so that kernels that load whole vectors
// of B (AVX2) never read past the scratch at the ragged end of a row.
const colSlack = 32

// padPlan is the padded-width layout of a geometry.
type padPlan struct {
	ok      bool // the geometry has the fast path
	inPlace bool // the input needs no padding: planes are read in place
	hp, wp  int  // padded plane
	l       int  // used length of one patch row: (OH-1)*Wp + OW
	bh, lb  int  // output rows per band of the built patch matrix, its row length
	khm     bool // some output row meets padding rows: taps go kh-major (rowOffsets)
}

// colCap bounds the patch matrix that Conv builds (where the indexed
// kernels do not run) to bands of output rows of about 64 KB: it then
// stays in cache, and the scratch of a large convolution stays small.
const colCap = 16 << 10

func planPadded(g *ConvGeom) padPlan {
	if g.D != 1 || g.KD != 1 || g.OD != 1 || g.PadD0 != 0 || g.SH != 1 || g.SW != 1 ||
		g.PadH0 < 0 || g.PadW0 < 0 || g.OH <= 0 || g.OW <= 0 || g.C <= 0 {
		return padPlan{}
	}
	p := padPlan{ok: true, hp: g.OH + (g.KH-1)*g.DH, wp: g.OW + (g.KW-1)*g.DW}
	p.inPlace = g.PadH0 == 0 && g.PadW0 == 0 && p.wp == g.W && p.hp <= g.H
	p.l = (g.OH-1)*p.wp + g.OW
	p.bh = min(g.OH, max(1, colCap/(g.C*g.KH*g.KW*p.wp)))
	p.lb = (p.bh-1)*p.wp + g.OW
	p.khm = g.PadH0 > 0 || p.hp-g.PadH0 > g.H
	return p
}

// padLen is the size of the padded planes of all channels (0 in place).
func (p *padPlan) padLen(c int) int {
	if p.inPlace {
		return 0
	}
	return c * p.hp * p.wp
}

// planeStride is the distance between channels of the planes read.
func (p *padPlan) planeStride(g *ConvGeom) int {
	if p.inPlace {
		return g.H * g.W
	}
	return p.hp * p.wp
}

// pad copies sample x [C, H, W] into the padded planes xpad, whose
// borders the caller has zeroed (they stay zero: only the interior is
// written).
func (p *padPlan) pad(g *ConvGeom, x, xpad []float32) {
	n := min(g.W, p.wp-g.PadW0)
	if n <= 0 {
		return
	}
	for c := range g.C {
		plane := xpad[c*p.hp*p.wp : (c+1)*p.hp*p.wp]
		for h := range min(g.H, p.hp-g.PadH0) {
			src := x[(c*g.H+h)*g.W:]
			copy(plane[(h+g.PadH0)*p.wp+g.PadW0:][:n], src[:n])
		}
	}
}

// patchRows writes columns [start, start+n) of rows [r0, r1) of the
// padded-width patch matrix of the planes src (channels stride apart) into
// col, rows ld apart.
func (p *padPlan) patchRows(g *ConvGeom, src []float32, stride int, col []float32, ld, r0, r1, start, n int) {
	kk := g.KH * g.KW
	for r := r0; r < r1; r++ {
		c, k := r/kk, r%kk
		off := c*stride + k/g.KW*g.DH*p.wp + k%g.KW*g.DW + start
		copy(col[(r-r0)*ld:][:n], src[off:off+n])
	}
}

// ConvScratchLen is the scratch Conv needs for geometry g and m output
// channels (any number of samples).
func ConvScratchLen(g ConvGeom, m int) int {
	p := planPadded(&g)
	kk := g.KD * g.KH * g.KW
	k := g.C * kk
	if !p.ok {
		return k * g.OD * g.OH * g.OW
	}
	// Padded planes, then the patch matrix or, for the indexed kernels,
	// the row offsets (int32), wT and yT of convRowsT: the size must not
	// depend on the CPU.
	return p.padLen(g.C) + max(k*p.lb+colSlack, k+k*m+g.OH*g.OW*m)
}

// rowOffsets fills off (as int32 in float32 scratch: callers check that
// the planes have fewer than 2³¹ elements) with the offset of patch row
// (c, kh, kw) in the planes src (channels stride apart). Where output rows
// meet padding rows (khm) the order is kh-major within each group of cg
// channels: row (kh·cg + c')·KW + kw of group gi is channel gi·cg + c', so
// that the taps of an output row that meet input rows are one contiguous
// range (tapRange); otherwise it is the filter's own order.
func (p *padPlan) rowOffsets(g *ConvGeom, cg, stride int, scratch []float32) []int32 {
	k := g.C * g.KH * g.KW
	off := unsafe.Slice((*int32)(unsafe.Pointer(&scratch[0])), k)
	r := 0
	for gi := range g.C / cg {
		for i := range g.KH * cg {
			kh, c := i/cg, i%cg
			if !p.khm {
				c, kh = i/g.KH, i%g.KH
			}
			for kw := range g.KW {
				off[r] = int32((gi*cg+c)*stride + kh*g.DH*p.wp + kw*g.DW)
				r++
			}
		}
	}
	return off
}

// reorderFilter copies the filter w [M, kg] (kg = cg·KH·KW, columns
// (c·KH + kh)·KW + kw) into wr with its columns in rowOffsets' order, as
// [M, kg], or transposed as [kg, M] (M = m). Loops, not index arithmetic
// per element: it runs on every call, which matters at batch 1.
func reorderFilter(g *ConvGeom, cg, m int, w, wr []float32, transposed bool) {
	kg := cg * g.KH * g.KW
	for o := range m {
		src := w[o*kg : (o+1)*kg]
		l := 0
		for c := range cg {
			for kh := range g.KH {
				base := (kh*cg + c) * g.KW
				for kw := range g.KW {
					if transposed {
						wr[(base+kw)*m+o] = src[l]
					} else {
						wr[o*kg+base+kw] = src[l]
					}
					l++
				}
			}
		}
	}
}

// tapRange returns the range of taps, in rowOffsets' order within a group,
// that output row oh takes from input rows rather than padding.
func tapRange(g *ConvGeom, p *padPlan, cg, oh int) (k0, k1 int) {
	if !p.khm {
		return 0, cg * g.KH * g.KW
	}
	kh0, kh1 := outRange(g.KH, g.DH, oh-g.PadH0, g.H)
	return kh0 * cg * g.KW, kh1 * cg * g.KW
}

// Conv sets y [n, M, OD, OH, OW] (M = m) to the convolution of the n
// samples x [n, C, D, H, W] with the filter w [M, C/group, KD, KH, KW],
// serially, using scratch (at least ConvScratchLen(g, m) floats). Each
// product sums over the filter in the order (c, kd, kh, kw).
func Conv(g ConvGeom, m, group int, w, x, y, scratch []float32, n int) {
	if need := ConvScratchLen(g, m); len(scratch) < need {
		panic(fmt.Sprintf("runtime.Conv: scratch of %d floats, need %d", len(scratch), need))
	}
	if n <= 0 {
		return
	}
	cg, mg := g.C/group, m/group
	kk := g.KD * g.KH * g.KW
	kg, in, pos := cg*kk, g.C*g.D*g.H*g.W, g.OD*g.OH*g.OW
	p := planPadded(&g)
	if !p.ok {
		col := scratch[:g.C*kk*pos]
		for b := range n {
			Im2col(g, x[b*in:], col, pos)
			for gi := range group {
				Sgemm(nil, false, false, mg, pos, kg, 1, w[gi*mg*kg:], kg, col[gi*kg*pos:], pos, 0, y[(b*m+gi*mg)*pos:], pos)
			}
		}
		return
	}
	xpad := scratch[:p.padLen(g.C)]
	clear(xpad)
	stride := p.planeStride(&g)
	if hasIdxTile() && int64(g.C)*int64(stride) < 1<<31 {
		// Indexed kernels: the filter is reordered to rowOffsets' order,
		// as wT [K, M] when the channels go along the vectors, else as
		// wk [M, K/group].
		rest := scratch[len(xpad):]
		k := g.C * kk
		off := p.rowOffsets(&g, cg, stride, rest)
		wr := rest[k : k+k*m]
		nhwc := group == 1 && m%16 == 0
		switch {
		case p.khm:
			reorderFilter(&g, cg, m, w, wr, nhwc)
		case nhwc: // wT = wᵀ, 16×16 blocks in registers
			sgemmImpl.packT(wr, w, 0, kg, kg, m, m)
		default:
			wr = w
		}
		yT := rest[k+k*m : k+k*m+pos*m]
		for b := range n {
			src := x[b*in : (b+1)*in]
			if !p.inPlace {
				p.pad(&g, src, xpad)
				src = xpad
			}
			if nhwc {
				convRowsT(&g, &p, m, k, wr, src, off, yT, y[b*m*pos:(b+1)*m*pos])
			} else {
				convRowsIdx(&g, &p, mg, group, kg, wr, src, off, y[b*m*pos:(b+1)*m*pos])
			}
		}
		return
	}
	col := scratch[len(xpad):][:g.C*kk*p.lb+colSlack]
	clear(col[g.C*kk*p.lb:])
	for b := range n {
		src := x[b*in : (b+1)*in]
		if !p.inPlace {
			p.pad(&g, src, xpad)
			src = xpad
		}
		for oh0 := 0; oh0 < g.OH; oh0 += p.bh {
			oh1 := min(g.OH, oh0+p.bh)
			p.patchRows(&g, src, stride, col, p.lb, 0, g.C*kk, oh0*p.wp, (oh1-oh0-1)*p.wp+g.OW)
			convRows(&g, &p, mg, group, kg, w, col, oh0, oh1, y[b*m*pos:(b+1)*m*pos])
		}
	}
}

// convRows multiplies the filter by the band of the padded-width patch
// matrix col (rows lb apart) that holds output rows [oh0, oh1), one output
// row at a time, into one sample's output y [M, OH, OW].
func convRows(g *ConvGeom, p *padPlan, mg, group, kg int, w, col []float32, oh0, oh1 int, y []float32) {
	v := sgemmImpl
	pos := g.OH * g.OW
	// Even row tiles: 16 rows are two tiles of 8, not 12 and 4.
	tiles := ceilDiv(mg, v.mr)
	for gi := range group {
		for t := range tiles {
			i0, i1 := t*mg/tiles, (t+1)*mg/tiles
			ao := (gi*mg + i0) * kg
			for oh := oh0; oh < oh1; oh++ {
				for j0 := 0; j0 < g.OW; j0 += v.nr {
					v.tile(kg, w, ao, kg, 1, col, gi*kg*p.lb+(oh-oh0)*p.wp+j0, p.lb,
						y, (gi*mg+i0)*pos+oh*g.OW+j0, pos, i1-i0, min(v.nr, g.OW-j0), 1, 0, false)
				}
			}
		}
	}
}

// convRowsIdx is convRows reading the patch rows in place in the planes
// src at the offsets off (tileIdx).
func convRowsIdx(g *ConvGeom, p *padPlan, mg, group, kg int, w, src []float32, off []int32, y []float32) {
	const mr, nr = 12, 32 // the AVX-512 tile
	pos := g.OH * g.OW
	tiles := ceilDiv(mg, mr)
	cg := kg / (g.KH * g.KW)
	for oh := range g.OH {
		k0, k1 := tapRange(g, p, cg, oh)
		if k0 >= k1 { // the row meets padding only
			for o := range mg * group {
				clear(y[o*pos+oh*g.OW : o*pos+(oh+1)*g.OW])
			}
			continue
		}
		for gi := range group {
			offs := off[gi*kg+k0 : gi*kg+k1]
			for t := range tiles {
				i0, i1 := t*mg/tiles, (t+1)*mg/tiles
				ao := (gi*mg+i0)*kg + k0
				for j0 := 0; j0 < g.OW; j0 += nr {
					tileIdx(k1-k0, w, ao, kg, 1, src, oh*p.wp+j0, offs,
						y, (gi*mg+i0)*pos+oh*g.OW+j0, pos, i1-i0, min(nr, g.OW-j0))
				}
			}
		}
	}
}

// transposeGeom is the geometry of the stride-1 convolution that computes
// the transposed convolution of geometry g (a convolution's input
// gradient): it reads the transposed convolution's input (g's output
// positions) padded by (K-1)·dilation - pad before, with the filter
// flipped, and writes g's input positions. ok is false when g has a stride
// or a padding beyond the dilated kernel.
func transposeGeom(g *ConvGeom, c int) (ConvGeom, bool) {
	t := ConvGeom{C: c, D: g.OD, H: g.OH, W: g.OW, OD: g.D, OH: g.H, OW: g.W,
		KD: g.KD, KH: g.KH, KW: g.KW, SD: 1, SH: 1, SW: 1, DD: g.DD, DH: g.DH, DW: g.DW,
		PadD0: (g.KD-1)*g.DD - g.PadD0, PadH0: (g.KH-1)*g.DH - g.PadH0, PadW0: (g.KW-1)*g.DW - g.PadW0}
	t.PadD1 = (t.OD - 1 + (t.KD-1)*t.DD + 1) - t.D - t.PadD0
	t.PadH1 = (t.OH - 1 + (t.KH-1)*t.DH + 1) - t.H - t.PadH0
	t.PadW1 = (t.OW - 1 + (t.KW-1)*t.DW + 1) - t.W - t.PadW0
	ok := g.SD == 1 && g.SH == 1 && g.SW == 1 && t.PadD0 >= 0 && t.PadH0 >= 0 && t.PadW0 >= 0
	return t, ok && planPadded(&t).ok
}

// ConvTransposeScratchLen is the scratch ConvTranspose needs for geometry
// g, c input channels and group groups.
func ConvTransposeScratchLen(g ConvGeom, c, group int) int {
	kk := g.KD * g.KH * g.KW
	if t, ok := transposeGeom(&g, c); ok {
		return c*g.C/group*kk + ConvScratchLen(t, g.C)
	}
	return g.C * kk * g.OD * g.OH * g.OW
}

// ConvTranspose sets y [n, M, D, H, W] (M = g.C) to the transposed
// convolution of x [n, c, OD, OH, OW] with w [c, M/group, KD, KH, KW]
// (the input gradient of a convolution of geometry g), serially, using
// scratch (at least ConvTransposeScratchLen floats). With unit strides it
// is the convolution of x with the flipped filter (Conv's fast path);
// otherwise a GEMM per sample into its patch matrix, then Col2im.
func ConvTranspose(g ConvGeom, c, group int, w, x, y, scratch []float32, n int) {
	if need := ConvTransposeScratchLen(g, c, group); len(scratch) < need {
		panic(fmt.Sprintf("runtime.ConvTranspose: scratch of %d floats, need %d", len(scratch), need))
	}
	if n <= 0 {
		return
	}
	m, kk := g.C, g.KD*g.KH*g.KW
	cg, mg := c/group, g.C/group
	if t, ok := transposeGeom(&g, c); ok {
		// wf [M, c/group, kk]: wf[gi·mg+o, i, k] = w[gi·cg+i, o, kk-1-k].
		wf := scratch[:m*cg*kk]
		for gi := range group {
			for o := range mg {
				for i := range cg {
					dst := wf[((gi*mg+o)*cg+i)*kk:][:kk]
					src := w[((gi*cg+i)*mg+o)*kk:][:kk]
					for k := range dst {
						dst[k] = src[kk-1-k]
					}
				}
			}
		}
		Conv(t, m, group, wf, x, y, scratch[len(wf):], n)
		return
	}
	pin, pout := g.OD*g.OH*g.OW, g.D*g.H*g.W
	col := scratch[:m*kk*pin]
	for b := range n {
		for gi := range group {
			Sgemm(nil, true, false, mg*kk, pin, cg, 1, w[gi*cg*mg*kk:], mg*kk,
				x[(b*c+gi*cg)*pin:], pin, 0, col[gi*mg*kk*pin:], pin)
		}
		Col2im(g, col, pin, y[b*m*pout:])
	}
}

// ConvFilterGradScratchLen is the scratch ConvFilterGrad needs for a range
// of up to rows rows of the patch matrix: the sample's planes and its dy
// transposed once, plus each row's share (other geometries: the rows of
// im2col and one packed panel).
func ConvFilterGradScratchLen(g ConvGeom, m, rows int) int {
	p := planPadded(&g)
	if !p.ok {
		pos := g.OD * g.OH * g.OW
		return rows*pos + panelLen(pos)
	}
	mp := roundUp16(m)
	return p.padLen(g.C) + 2*mp*g.OH*g.OW + p.l*mp + colSlack + rows*(p.l+m)
}

func roundUp16(m int) int { return (m + 15) &^ 15 }

// panelLen is the size of one packed panel of filterGradCols: a k slice
// (at most 256 deep, the kc of every variant) of 32 columns (the widest
// nr), whatever the CPU.
func panelLen(pos int) int { return min(pos, 256) * 32 }

// filterGradCols adds one sample's contribution to the filter gradient dw
// [M, rows] (M = m, rows ldw apart; set instead of added when first):
// dw[o, j] += sum over q < pos of dy[o, q] · col[j, q], with col [rows,
// pos] the sample's patch rows. It is a GEMM like Sgemm's (k slices, B =
// colᵀ packed into panels of nr columns, in panel), with every element
// summed in an order fixed by the geometry, not by rows, which the pool's
// split sets: the k slices depend on pos, the row tiles on m, and every
// tile keeps the accumulator sets of a tile of full width (tileFixed), so
// a narrow last panel sums as a whole one.
func filterGradCols(v *sgemmVariant, m, pos int, dy, col []float32, rows int, panel, dw []float32, ldw int, first bool) {
	kcs := ceilDiv(pos, ceilDiv(pos, v.kc))
	tiles := ceilDiv(m, v.mr)
	for pc := 0; pc < pos; pc += kcs {
		kc := min(kcs, pos-pc)
		beta, accum := float32(1), true
		if first && pc == 0 {
			beta, accum = 0, false
		}
		for j0 := 0; j0 < rows; j0 += v.nr {
			nr := min(v.nr, rows-j0)
			v.packT(panel, col, j0*pos+pc, pos, kc, nr, v.nr)
			for t := range tiles {
				i0, i1 := t*m/tiles, (t+1)*m/tiles
				tileFixed(v, tileSets(v, i1-i0, v.nr), kc, dy, i0*pos+pc, pos, 1, panel, 0, v.nr,
					dw, i0*ldw+j0, ldw, i1-i0, nr, beta, accum)
			}
		}
	}
}

// ConvFilterGrad sets columns [lo, hi) of dw [M, C·KD·KH·KW] (M = m, one
// group) to the filter gradient of a convolution of geometry g: the sum
// over the n samples of dy [n, M, OD, OH, OW] times the rows [lo, hi) of
// the transposed patch matrix of x [n, C, D, H, W]. scratch holds at
// least ConvFilterGradScratchLen(g, m, hi-lo) floats. With the padded
// width layout the product is computed as dwᵀ = col·dyᵀ, dy transposed in
// registers: on AVX-512 with col read in place (filterGradIdx), elsewhere
// with dy spread to the padded width (zeros at the positions never stored)
// and the patch rows copied whole; other geometries as dy·colᵀ per sample
// on im2col rows (filterGradCols).
//
// How the pool splits the rows does not change the bits: each element is
// summed in an order that depends on the geometry only. The samples are
// added in order, and within a sample the tiles, whose shapes do vary with
// [lo, hi), all keep the accumulator sets over k (the only part of a
// kernel's order that depends on its shape) of a tile that the geometry
// fixes: a whole run of KW rows (indexed path), a full-height tile (padded
// path), a full-width tile (im2col path).
func ConvFilterGrad(g ConvGeom, m int, x, dy, dw, scratch []float32, n, lo, hi int) {
	if need := ConvFilterGradScratchLen(g, m, max(hi-lo, 0)); len(scratch) < need {
		panic(fmt.Sprintf("runtime.ConvFilterGrad: scratch of %d floats, need %d", len(scratch), need))
	}
	if hi <= lo {
		return
	}
	kk := g.KD * g.KH * g.KW
	ck, in, pos := g.C*kk, g.C*g.D*g.H*g.W, g.OD*g.OH*g.OW
	if n <= 0 {
		for i := range m {
			clear(dw[i*ck+lo : i*ck+hi])
		}
		return
	}
	p := planPadded(&g)
	if !p.ok {
		col := scratch[:(hi-lo)*pos]
		panel := scratch[(hi-lo)*pos:][:panelLen(pos)]
		for b := range n {
			im2colRowsAt(g, x[b*in:], col, pos, lo, hi)
			filterGradCols(sgemmImpl, m, pos, dy[b*m*pos:], col, hi-lo, panel, dw[lo:], ck, b == 0)
		}
		return
	}
	// dy [M, P] of a sample is transposed by the variant's packing
	// routine (16×16 blocks in registers on AVX-512) into dyTu [P, Mp],
	// Mp = M rounded up to 16 (dy's rows copied first into dy16 with zero
	// rows below M, when M is not a multiple of 16).
	mp := roundUp16(m)
	take := func(k int) []float32 {
		b := scratch[:k]
		scratch = scratch[k:]
		return b
	}
	xpad := take(p.padLen(g.C))
	clear(xpad)
	var dy16 []float32
	if mp != m {
		dy16 = take(mp * pos)
		clear(dy16[m*pos:])
	}
	dyTu := take(pos * mp)
	rows := hi - lo
	stride := p.planeStride(&g)
	// transposeDy fills dyTu with sample b's dy and returns the planes of
	// its x.
	transposeDy := func(b int) []float32 {
		src := x[b*in : (b+1)*in]
		if !p.inPlace {
			p.pad(&g, src, xpad)
			src = xpad
		}
		d := dy[b*m*pos : (b+1)*m*pos]
		if dy16 != nil {
			copy(dy16, d)
			d = dy16
		}
		sgemmImpl.packT(dyTu, d, 0, pos, pos, mp, mp)
		return src
	}
	var dwT []float32
	if hasIdxTile() && g.DW == 1 && g.KW <= 12 && int64(g.C)*int64(stride) < 1<<31 {
		// The patch matrix is read in place (filterGradIdx): position q
		// of the output is at aoff[q] in the padded-width planes.
		aoff := unsafe.Slice((*int32)(unsafe.Pointer(&take(pos)[0])), pos)
		for oh := range g.OH {
			for ow := range g.OW {
				aoff[oh*g.OW+ow] = int32(oh*p.wp + ow)
			}
		}
		dwT = take(rows * m)
		for b := range n {
			src := transposeDy(b)
			filterGradIdx(&g, &p, m, mp, stride, src, dyTu, aoff, dwT, lo, hi, b == 0)
		}
	} else {
		// dyTu spread to the padded width in dyT [L, Mp] (zero at the
		// positions never stored), the patch rows copied whole into col,
		// and dwT = col·dyT.
		dyT := take(p.l * mp)
		clear(dyT)
		col := take(rows * p.l)
		dwT = take(rows * m)
		// Row tiles of at most full rows, the tile of an even split of
		// all ck rows, each keeping the accumulator sets of a full tile
		// (tileFixed), so that every element is summed in the same
		// order however the range cuts the rows.
		v := sgemmImpl
		full := ceilDiv(ck, ceilDiv(ck, v.mr))
		tiles := ceilDiv(rows, full)
		for b := range n {
			src := transposeDy(b)
			p.patchRows(&g, src, stride, col, p.l, lo, hi, 0, p.l)
			for oh := range g.OH {
				copy(dyT[oh*p.wp*mp:][:g.OW*mp], dyTu[oh*g.OW*mp:])
			}
			beta, accum := float32(0), false
			if b > 0 {
				beta, accum = 1, true
			}
			for j0 := 0; j0 < m; j0 += v.nr {
				nr := min(v.nr, m-j0)
				sets := tileSets(v, full, nr)
				for t := range tiles {
					i0, i1 := t*rows/tiles, (t+1)*rows/tiles
					tileFixed(v, sets, p.l, col, i0*p.l, p.l, 1, dyT, j0, mp, dwT, i0*m+j0, m, i1-i0, nr, beta, accum)
				}
			}
		}
	}
	for i := range m {
		row := dw[i*ck+lo : i*ck+hi]
		for r := range row {
			row[r] = dwT[r*m+i]
		}
	}
}
