package runtime

import "math"

// ConvGeom is the geometry of a convolution or pooling window over C
// channel volumes of D×H×W (a 2-D op is the case D = KD = SD = DD = 1 with
// no depth padding, a 1-D op also has H = KH = SH = DH = 1). Output
// element (od, oh, ow) reads input position (od*SD - PadD0 + kd*DD,
// oh*SH - PadH0 + kh*DH, ow*SW - PadW0 + kw*DW) for each kernel offset
// (kd, kh, kw); positions outside the volume are padding (zero for a
// convolution, skipped by pooling). PadD1, PadH1 and PadW1, the padding
// after the volume, matter only to average pooling's count_include_pad
// divisor: the output size already says how far windows reach.
//
// Generated code passes ConvGeom by value: a composite literal of
// constants that stays on the stack.
type ConvGeom struct {
	C                   int
	D, H, W             int
	OD, OH, OW          int
	KD, KH, KW          int
	SD, SH, SW          int // strides
	DD, DH, DW          int // dilations
	PadD0, PadH0, PadW0 int // padding before
	PadD1, PadH1, PadW1 int // padding after
}

// outRange gives the outputs o in [0, n) whose input position o*s + start
// lies in [0, in).
func outRange(n, s, start, in int) (lo, hi int) {
	if start < 0 {
		lo = min((-start+s-1)/s, n)
	}
	hi = n
	if last := in - 1 - start; last < 0 {
		hi = 0
	} else {
		hi = min(hi, last/s+1)
	}
	return lo, max(hi, lo)
}

// Im2col writes the patch matrix of one sample x [C, D, H, W] into col:
// row ((c*KD + kd)*KH + kh)*KW + kw holds, for every output position
// (od*OH + oh)*OW + ow, the input element that kernel offset (kd, kh, kw)
// of channel c meets there (zero in the padding). Rows are ldc apart, so
// that the patches of a batch can sit side by side in one [C*KD*KH*KW,
// batch*OD*OH*OW] matrix (sample b's at column b*OD*OH*OW) and a
// convolution becomes one GEMM (K. Chellapilla, S. Puri, P. Simard, "High
// performance convolutional neural networks for document processing",
// 2006).
func Im2col(g ConvGeom, x, col []float32, ldc int) {
	Im2colRows(g, x, col, ldc, 0, g.C*g.KD*g.KH*g.KW)
}

// Im2colRows is Im2col for rows [r0, r1) of the patch matrix only (row
// ((c·KD+kd)·KH+kh)·KW+kw is channel c at kernel offset (kd, kh, kw)), so
// that workers can build disjoint parts of it.
func Im2colRows(g ConvGeom, x, col []float32, ldc, r0, r1 int) {
	if r0 >= r1 {
		return
	}
	im2colRowsAt(g, x, col[r0*ldc:], ldc, r0, r1)
}

// im2colRowsAt is Im2colRows writing row r at col[(r-r0)*ldc:], so that a
// worker needs room for its own rows only.
func im2colRowsAt(g ConvGeom, x, col []float32, ldc, r0, r1 int) {
	hw, ohw := g.H*g.W, g.OH*g.OW
	for c := 0; c < g.C; c++ {
		vol := x[c*g.D*hw : (c+1)*g.D*hw]
		for kd := 0; kd < g.KD; kd++ {
			ds := kd*g.DD - g.PadD0
			d0, d1 := outRange(g.OD, g.SD, ds, g.D)
			for kh := 0; kh < g.KH; kh++ {
				hs := kh*g.DH - g.PadH0
				h0, h1 := outRange(g.OH, g.SH, hs, g.H)
				for kw := 0; kw < g.KW; kw++ {
					r := ((c*g.KD+kd)*g.KH+kh)*g.KW + kw
					if r < r0 || r >= r1 {
						continue
					}
					ws := kw*g.DW - g.PadW0
					w0, w1 := outRange(g.OW, g.SW, ws, g.W)
					row := col[(r-r0)*ldc:][:g.OD*ohw]
					for od := 0; od < g.OD; od++ {
						rd := row[od*ohw : (od+1)*ohw]
						if od < d0 || od >= d1 {
							clear(rd)
							continue
						}
						plane := vol[(od*g.SD+ds)*hw:][:hw]
						for oh := 0; oh < g.OH; oh++ {
							dst := rd[oh*g.OW : (oh+1)*g.OW]
							if oh < h0 || oh >= h1 {
								clear(dst)
								continue
							}
							src := plane[(oh*g.SH+hs)*g.W:][:g.W]
							clear(dst[:w0])
							clear(dst[w1:])
							if g.SW == 1 {
								copy(dst[w0:w1], src[w0+ws:w1+ws])
								continue
							}
							for ow := w0; ow < w1; ow++ {
								dst[ow] = src[ow*g.SW+ws]
							}
						}
					}
				}
			}
		}
	}
}

// Col2im is Im2col's adjoint: it sets x [C, D, H, W] to the sum, over the
// entries of col (rows ldc apart), of each entry at the input position
// Im2col took it from; entries that fall in the padding are dropped. It
// computes a convolution's input gradient (and a transposed convolution)
// from the GEMM of the filter with the output gradient.
func Col2im(g ConvGeom, col []float32, ldc int, x []float32) {
	hw, ohw := g.H*g.W, g.OH*g.OW
	clear(x[:g.C*g.D*hw])
	for c := 0; c < g.C; c++ {
		vol := x[c*g.D*hw : (c+1)*g.D*hw]
		for kd := 0; kd < g.KD; kd++ {
			ds := kd*g.DD - g.PadD0
			d0, d1 := outRange(g.OD, g.SD, ds, g.D)
			for kh := 0; kh < g.KH; kh++ {
				hs := kh*g.DH - g.PadH0
				h0, h1 := outRange(g.OH, g.SH, hs, g.H)
				for kw := 0; kw < g.KW; kw++ {
					ws := kw*g.DW - g.PadW0
					w0, w1 := outRange(g.OW, g.SW, ws, g.W)
					row := col[(((c*g.KD+kd)*g.KH+kh)*g.KW+kw)*ldc:][:g.OD*ohw]
					for od := d0; od < d1; od++ {
						plane := vol[(od*g.SD+ds)*hw:][:hw]
						for oh := h0; oh < h1; oh++ {
							src := row[od*ohw+oh*g.OW:][:g.OW]
							dst := plane[(oh*g.SH+hs)*g.W:][:g.W]
							for ow := w0; ow < w1; ow++ {
								dst[ow*g.SW+ws] += src[ow]
							}
						}
					}
				}
			}
		}
	}
}

// SwapOuter copies src, an [a, b, inner] array, to dst as [b, a, inner]:
// the layout change between a batch of [channels, positions] planes and
// the [channels, batch*positions] matrices of a batched convolution GEMM.
func SwapOuter(src, dst []float32, a, b, inner int) {
	for i := 0; i < a; i++ {
		for j := 0; j < b; j++ {
			copy(dst[(j*a+i)*inner:(j*a+i+1)*inner], src[(i*b+j)*inner:(i*b+j+1)*inner])
		}
	}
}

// windowMax returns the index in vol of the first maximum of the window
// at (od, oh, ow), or -1 when the window holds padding only. A NaN wins
// and stays, as in ir/interp's reduce_max. The kernel offsets that fall
// inside the volume are found once (outRange; every offset when the
// caller knows that all windows are inside), so the scan has no bounds
// tests.
func windowMax[T float32 | float64](g *ConvGeom, vol []T, od, oh, ow int, inside bool) int {
	d0, h0, w0 := od*g.SD-g.PadD0, oh*g.SH-g.PadH0, ow*g.SW-g.PadW0
	kd0, kd1, kh0, kh1, kw0, kw1 := 0, g.KD, 0, g.KH, 0, g.KW
	if !inside {
		kd0, kd1 = outRange(g.KD, g.DD, d0, g.D)
		kh0, kh1 = outRange(g.KH, g.DH, h0, g.H)
		kw0, kw1 = outRange(g.KW, g.DW, w0, g.W)
	}
	if kd0 >= kd1 || kh0 >= kh1 || kw0 >= kw1 {
		return -1
	}
	at := ((d0+kd0*g.DD)*g.H+h0+kh0*g.DH)*g.W + w0 + kw0*g.DW
	best := vol[at]
	for kd := kd0; kd < kd1; kd++ {
		for kh := kh0; kh < kh1; kh++ {
			row := ((d0+kd*g.DD)*g.H+h0+kh*g.DH)*g.W + w0
			for kw := kw0; kw < kw1; kw++ {
				i := row + kw*g.DW
				if v := vol[i]; v > best || (v != v && best == best) {
					best, at = v, i
				}
			}
		}
	}
	return at
}

// allInside reports whether every window lies inside the volume (no
// padding is ever met), as for the usual unpadded pools.
func allInside(g *ConvGeom) bool {
	return g.PadD0 == 0 && g.PadH0 == 0 && g.PadW0 == 0 && (g.OD-1)*g.SD+(g.KD-1)*g.DD < g.D &&
		(g.OH-1)*g.SH+(g.KH-1)*g.DH < g.H && (g.OW-1)*g.SW+(g.KW-1)*g.DW < g.W
}

// is2x2 reports a 2-D, undilated 2×2 window, which the pools unroll.
func is2x2(g *ConvGeom) bool {
	return g.D == 1 && g.KD == 1 && g.KH == 2 && g.KW == 2 && g.DH == 1 && g.DW == 1
}

// MaxPool sets each element of the output volumes y [vols, OD, OH, OW] to
// the max of its window over the input volumes x [vols, D, H, W] (padding
// never wins; a window of padding only gives -Inf). A volume is one
// (sample, channel) pair.
func MaxPool(g ConvGeom, vols int, x, y []float32) {
	if allInside(&g) && is2x2(&g) && g.SH == 2 && g.SW == 2 && maxPool2x2Fast(&g, vols, x, y) {
		return
	}
	maxPool(g, vols, x, y)
}

// MaxPool64 is MaxPool on float64 volumes (the Go backend's f64 values).
func MaxPool64(g ConvGeom, vols int, x, y []float64) { maxPool(g, vols, x, y) }

func maxPool[T float32 | float64](g ConvGeom, vols int, x, y []T) {
	n, on, inside := g.D*g.H*g.W, g.OD*g.OH*g.OW, allInside(&g)
	for p := 0; p < vols; p++ {
		vol, out := x[p*n:(p+1)*n], y[p*on:(p+1)*on]
		if inside && is2x2(&g) {
			max2x2(&g, vol, out)
			continue
		}
		o := 0
		for od := 0; od < g.OD; od++ {
			for oh := 0; oh < g.OH; oh++ {
				for ow := 0; ow < g.OW; ow++ {
					v := T(math.Inf(-1))
					if at := windowMax(&g, vol, od, oh, ow, inside); at >= 0 {
						v = vol[at]
					}
					out[o] = v
					o++
				}
			}
		}
	}
}

// max2x2 is MaxPool on one plane for an unpadded 2×2 pool, unrolled: the
// builtin max is branch-free and keeps a NaN, as windowMax does (only the
// sign of a zero max may differ: max(-0, +0) is +0, the first max -0).
func max2x2[T float32 | float64](g *ConvGeom, plane, out []T) {
	for oh := 0; oh < g.OH; oh++ {
		r0 := plane[oh*g.SH*g.W : (oh*g.SH+1)*g.W]
		r1 := plane[(oh*g.SH+1)*g.W : (oh*g.SH+2)*g.W]
		o := out[oh*g.OW : (oh+1)*g.OW]
		for ow := range o {
			c := ow * g.SW
			o[ow] = max(r0[c], r0[c+1], r1[c], r1[c+1])
		}
	}
}

// MaxPoolGrad sets dx [vols, D, H, W] to max pooling's input gradient:
// each element of dy [vols, OD, OH, OW] added at the first max of its
// window in x (as PyTorch does).
func MaxPoolGrad(g ConvGeom, vols int, x, dy, dx []float32) {
	n, on, inside := g.D*g.H*g.W, g.OD*g.OH*g.OW, allInside(&g)
	if inside && is2x2(&g) && g.SH == 2 && g.SW == 2 && maxPoolGrad2x2Fast(&g, vols, x, dy, dx) {
		return // disjoint windows: every element of dx written once
	}
	clear(dx[:vols*n])
	for p := 0; p < vols; p++ {
		vol, d, out := x[p*n:(p+1)*n], dy[p*on:(p+1)*on], dx[p*n:(p+1)*n]
		if inside && is2x2(&g) {
			maxGrad2x2(&g, vol, d, out)
			continue
		}
		o := 0
		for od := 0; od < g.OD; od++ {
			for oh := 0; oh < g.OH; oh++ {
				for ow := 0; ow < g.OW; ow++ {
					if at := windowMax(&g, vol, od, oh, ow, inside); at >= 0 {
						out[at] += d[o]
					}
					o++
				}
			}
		}
	}
}

// maxGrad2x2 is MaxPoolGrad on one plane for an unpadded 2×2 pool: the
// first max is the first element equal to the builtin max of the four (or,
// when that is NaN, the first NaN), as windowMax finds it.
func maxGrad2x2(g *ConvGeom, plane, dy, dx []float32) {
	for oh := 0; oh < g.OH; oh++ {
		i0 := oh * g.SH * g.W
		r0, r1 := plane[i0:i0+g.W], plane[i0+g.W:i0+2*g.W]
		d := dy[oh*g.OW : (oh+1)*g.OW]
		for ow := range d {
			c := ow * g.SW
			a, b, e, f := r0[c], r0[c+1], r1[c], r1[c+1]
			m := max(a, b, e, f)
			at := i0 + c
			switch {
			case a == m || a != a:
			case b == m || b != b:
				at++
			case e == m || e != e:
				at += g.W
			default:
				at += g.W + 1
			}
			dx[at] += d[ow]
		}
	}
}

// clearUncovered clears the elements of a plane dx that no window of an
// unpadded 2×2 stride-2 pool covers: an odd last column and row.
func clearUncovered(g *ConvGeom, dx []float32) {
	if c := 2 * g.OW; c < g.W {
		for r := range 2 * g.OH {
			clear(dx[r*g.W+c : (r+1)*g.W])
		}
	}
	clear(dx[2*g.OH*g.W : g.H*g.W])
}

// span clips the window [start, start+n) to [lo, hi) and returns its size.
func span(start, n, lo, hi int) int {
	return max(0, min(start+n, hi)-max(start, lo))
}

// avgWindow is the window of average pooling at (od, oh, ow): its start
// along each dim and its divisor, the positions inside the volume, or
// with includePad inside the padded volume.
func avgWindow(g *ConvGeom, od, oh, ow int, includePad bool) (d0, h0, w0, count int) {
	d0, h0, w0 = od*g.SD-g.PadD0, oh*g.SH-g.PadH0, ow*g.SW-g.PadW0
	if includePad {
		count = span(d0, g.KD, -g.PadD0, g.D+g.PadD1) * span(h0, g.KH, -g.PadH0, g.H+g.PadH1) * span(w0, g.KW, -g.PadW0, g.W+g.PadW1)
	} else {
		count = span(d0, g.KD, 0, g.D) * span(h0, g.KH, 0, g.H) * span(w0, g.KW, 0, g.W)
	}
	return d0, h0, w0, count
}

// AvgPool sets each element of y [vols, OD, OH, OW] to the mean of its
// window over x [vols, D, H, W], summed in float64 and divided by the
// window's count (average pooling has no dilation).
func AvgPool(g ConvGeom, vols int, includePad bool, x, y []float32) {
	n, on := g.D*g.H*g.W, g.OD*g.OH*g.OW
	for p := 0; p < vols; p++ {
		vol, out := x[p*n:(p+1)*n], y[p*on:(p+1)*on]
		o := 0
		for od := 0; od < g.OD; od++ {
			for oh := 0; oh < g.OH; oh++ {
				for ow := 0; ow < g.OW; ow++ {
					d0, h0, w0, count := avgWindow(&g, od, oh, ow, includePad)
					s := 0.0
					for id := max(d0, 0); id < min(d0+g.KD, g.D); id++ {
						for ih := max(h0, 0); ih < min(h0+g.KH, g.H); ih++ {
							r := (id*g.H + ih) * g.W
							for _, v := range vol[r+max(w0, 0) : r+min(w0+g.KW, g.W)] {
								s += float64(v)
							}
						}
					}
					out[o] = float32(s / float64(count))
					o++
				}
			}
		}
	}
}

// AvgPoolGrad sets dx [vols, D, H, W] to average pooling's input
// gradient: each element of dy [vols, OD, OH, OW], divided by its window's
// count, added over the window.
func AvgPoolGrad(g ConvGeom, vols int, includePad bool, dy, dx []float32) {
	n, on := g.D*g.H*g.W, g.OD*g.OH*g.OW
	clear(dx[:vols*n])
	for p := 0; p < vols; p++ {
		d, out := dy[p*on:(p+1)*on], dx[p*n:(p+1)*n]
		o := 0
		for od := 0; od < g.OD; od++ {
			for oh := 0; oh < g.OH; oh++ {
				for ow := 0; ow < g.OW; ow++ {
					d0, h0, w0, count := avgWindow(&g, od, oh, ow, includePad)
					v := float32(float64(d[o]) / float64(count))
					o++
					for id := max(d0, 0); id < min(d0+g.KD, g.D); id++ {
						for ih := max(h0, 0); ih < min(h0+g.KH, g.H); ih++ {
							r := (id*g.H + ih) * g.W
							row := out[r+max(w0, 0) : r+min(w0+g.KW, g.W)]
							for i := range row {
								row[i] += v
							}
						}
					}
				}
			}
		}
	}
}
