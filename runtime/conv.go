package runtime

import "math"

// ConvGeom is the geometry of a 2-D convolution or pooling window over C
// channel planes of H×W (a 1-D op is the case H = KH = SH = DH = 1 with no
// top or bottom padding). Output element (oh, ow) of a plane reads input
// row oh*SH - PadT + kh*DH and column ow*SW - PadL + kw*DW for each kernel
// offset kh < KH, kw < KW; positions outside the plane are padding (zero
// for a convolution, skipped by pooling). PadB and PadR, the padding after
// the plane, matter only to avg pooling's count_include_pad divisor: the
// output size OH×OW already says how far windows reach.
//
// Generated code passes ConvGeom by value: a composite literal of
// constants that stays on the stack.
type ConvGeom struct {
	C, H, W    int
	OH, OW     int
	KH, KW     int
	SH, SW     int
	DH, DW     int
	PadT, PadL int
	PadB, PadR int
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

// Im2col writes the patch matrix of one sample x [C, H, W] into col: row
// (c*KH + kh)*KW + kw holds, for every output position oh*OW + ow, the
// input element that kernel offset (kh, kw) of channel c meets there (zero
// in the padding). Rows are ldc apart, so that the patches of a batch can
// sit side by side in one [C*KH*KW, batch*OH*OW] matrix (sample b's at
// column b*OH*OW) and a convolution becomes one GEMM (K. Chellapilla, S.
// Puri, P. Simard, "High performance convolutional neural networks for
// document processing", 2006).
func Im2col(g ConvGeom, x, col []float32, ldc int) {
	p := g.OH * g.OW
	for c := 0; c < g.C; c++ {
		plane := x[c*g.H*g.W : (c+1)*g.H*g.W]
		for kh := 0; kh < g.KH; kh++ {
			hs := kh*g.DH - g.PadT
			h0, h1 := outRange(g.OH, g.SH, hs, g.H)
			for kw := 0; kw < g.KW; kw++ {
				ws := kw*g.DW - g.PadL
				w0, w1 := outRange(g.OW, g.SW, ws, g.W)
				row := col[((c*g.KH+kh)*g.KW+kw)*ldc:][:p]
				for oh := 0; oh < g.OH; oh++ {
					dst := row[oh*g.OW : (oh+1)*g.OW]
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

// Col2im is Im2col's adjoint: it sets x [C, H, W] to the sum, over the
// entries of col (rows ldc apart), of each entry at the input position
// Im2col took it from; entries that fall in the padding are dropped. It
// computes a convolution's input gradient (and a transposed convolution)
// from the GEMM of the filter with the output gradient.
func Col2im(g ConvGeom, col []float32, ldc int, x []float32) {
	clear(x[:g.C*g.H*g.W])
	for c := 0; c < g.C; c++ {
		plane := x[c*g.H*g.W : (c+1)*g.H*g.W]
		for kh := 0; kh < g.KH; kh++ {
			hs := kh*g.DH - g.PadT
			h0, h1 := outRange(g.OH, g.SH, hs, g.H)
			for kw := 0; kw < g.KW; kw++ {
				ws := kw*g.DW - g.PadL
				w0, w1 := outRange(g.OW, g.SW, ws, g.W)
				row := col[((c*g.KH+kh)*g.KW+kw)*ldc:][:g.OH*g.OW]
				for oh := h0; oh < h1; oh++ {
					src := row[oh*g.OW : (oh+1)*g.OW]
					dst := plane[(oh*g.SH+hs)*g.W:][:g.W]
					for ow := w0; ow < w1; ow++ {
						dst[ow*g.SW+ws] += src[ow]
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

// windowMax returns the index in plane of the first maximum of the window
// at (oh, ow), or -1 when the window holds padding only. A NaN wins and
// stays, as in ir/interp's reduce_max. The kernel offsets that fall inside
// the plane are found once (outRange; every offset when the caller knows
// that all windows are inside), so the scan has no bounds tests.
func windowMax(g *ConvGeom, plane []float32, oh, ow int, inside bool) int {
	h0, w0 := oh*g.SH-g.PadT, ow*g.SW-g.PadL
	kh0, kh1, kw0, kw1 := 0, g.KH, 0, g.KW
	if !inside {
		kh0, kh1 = outRange(g.KH, g.DH, h0, g.H)
		kw0, kw1 = outRange(g.KW, g.DW, w0, g.W)
	}
	if kh0 >= kh1 || kw0 >= kw1 {
		return -1
	}
	at := (h0+kh0*g.DH)*g.W + w0 + kw0*g.DW
	best := plane[at]
	for kh := kh0; kh < kh1; kh++ {
		row := (h0+kh*g.DH)*g.W + w0
		for kw := kw0; kw < kw1; kw++ {
			i := row + kw*g.DW
			if v := plane[i]; v > best || (v != v && best == best) {
				best, at = v, i
			}
		}
	}
	return at
}

// allInside reports whether every window lies inside the plane (no
// padding is ever met), as for the usual unpadded pools.
func allInside(g *ConvGeom) bool {
	return g.PadT == 0 && g.PadL == 0 && (g.OH-1)*g.SH+(g.KH-1)*g.DH < g.H && (g.OW-1)*g.SW+(g.KW-1)*g.DW < g.W
}

// MaxPool2D sets each element of planes output planes y [planes, OH, OW]
// to the max of its window over the input planes x [planes, H, W]
// (padding never wins; a window of padding only gives -Inf).
func MaxPool2D(g ConvGeom, planes int, x, y []float32) {
	hw, ohw, inside := g.H*g.W, g.OH*g.OW, allInside(&g)
	for p := 0; p < planes; p++ {
		plane, out := x[p*hw:(p+1)*hw], y[p*ohw:(p+1)*ohw]
		if inside {
			maxPlaneInside(&g, plane, out)
			continue
		}
		for oh := 0; oh < g.OH; oh++ {
			for ow := 0; ow < g.OW; ow++ {
				v := float32(math.Inf(-1))
				if at := windowMax(&g, plane, oh, ow, inside); at >= 0 {
					v = plane[at]
				}
				out[oh*g.OW+ow] = v
			}
		}
	}
}

// maxPlaneInside is MaxPool2D on one plane whose windows all lie inside
// it: the common unpadded pool, without windowMax's call and clipping.
func maxPlaneInside(g *ConvGeom, plane, out []float32) {
	if g.KH == 2 && g.KW == 2 && g.DH == 1 && g.DW == 1 {
		// The usual 2×2 pool, unrolled.
		for oh := 0; oh < g.OH; oh++ {
			r0 := plane[oh*g.SH*g.W : (oh*g.SH+1)*g.W]
			r1 := plane[(oh*g.SH+1)*g.W : (oh*g.SH+2)*g.W]
			o := out[oh*g.OW : (oh+1)*g.OW]
			for ow := range o {
				c := ow * g.SW
				o[ow] = max(r0[c], r0[c+1], r1[c], r1[c+1])
			}
		}
		return
	}
	for oh := 0; oh < g.OH; oh++ {
		for ow := 0; ow < g.OW; ow++ {
			base := oh*g.SH*g.W + ow*g.SW
			best := plane[base]
			for kh := 0; kh < g.KH; kh++ {
				row := plane[base+kh*g.DH*g.W:]
				for kw := 0; kw < g.KW; kw++ {
					// The builtin max is branch-free and keeps a NaN, as
					// windowMax does; only the sign of a zero max may
					// differ (max(-0, +0) is +0, the first max -0).
					best = max(best, row[kw*g.DW])
				}
			}
			out[oh*g.OW+ow] = best
		}
	}
}

// MaxPool2DGrad sets dx [planes, H, W] to max pooling's input gradient:
// each element of dy [planes, OH, OW] added at the first max of its
// window in x (as PyTorch does).
func MaxPool2DGrad(g ConvGeom, planes int, x, dy, dx []float32) {
	hw, ohw, inside := g.H*g.W, g.OH*g.OW, allInside(&g)
	clear(dx[:planes*hw])
	for p := 0; p < planes; p++ {
		plane, d, out := x[p*hw:(p+1)*hw], dy[p*ohw:(p+1)*ohw], dx[p*hw:(p+1)*hw]
		if inside && g.KH == 2 && g.KW == 2 && g.DH == 1 && g.DW == 1 {
			maxGrad2x2(&g, plane, d, out)
			continue
		}
		for oh := 0; oh < g.OH; oh++ {
			for ow := 0; ow < g.OW; ow++ {
				if at := windowMax(&g, plane, oh, ow, inside); at >= 0 {
					out[at] += d[oh*g.OW+ow]
				}
			}
		}
	}
}

// maxGrad2x2 is MaxPool2DGrad on one plane for an unpadded 2×2 pool: the
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

// span clips the window [start, start+n) to [lo, hi) and returns its size.
func span(start, n, lo, hi int) int {
	return max(0, min(start+n, hi)-max(start, lo))
}

// avgCount is the divisor of the average at (oh, ow): the window's
// positions inside the plane, or with includePad inside the padded plane.
func avgCount(g *ConvGeom, oh, ow int, includePad bool) int {
	h0, w0 := oh*g.SH-g.PadT, ow*g.SW-g.PadL
	if includePad {
		return span(h0, g.KH, -g.PadT, g.H+g.PadB) * span(w0, g.KW, -g.PadL, g.W+g.PadR)
	}
	return span(h0, g.KH, 0, g.H) * span(w0, g.KW, 0, g.W)
}

// AvgPool2D sets each element of y [planes, OH, OW] to the mean of its
// window over x [planes, H, W], summed in float64 and divided by
// avgCount (no dilation: average pooling has none).
func AvgPool2D(g ConvGeom, planes int, includePad bool, x, y []float32) {
	hw, ohw := g.H*g.W, g.OH*g.OW
	for p := 0; p < planes; p++ {
		plane, out := x[p*hw:(p+1)*hw], y[p*ohw:(p+1)*ohw]
		for oh := 0; oh < g.OH; oh++ {
			h0, h1 := max(oh*g.SH-g.PadT, 0), min(oh*g.SH-g.PadT+g.KH, g.H)
			for ow := 0; ow < g.OW; ow++ {
				w0, w1 := max(ow*g.SW-g.PadL, 0), min(ow*g.SW-g.PadL+g.KW, g.W)
				s := 0.0
				for ih := h0; ih < h1; ih++ {
					for _, v := range plane[ih*g.W+w0 : ih*g.W+w1] {
						s += float64(v)
					}
				}
				out[oh*g.OW+ow] = float32(s / float64(avgCount(&g, oh, ow, includePad)))
			}
		}
	}
}

// AvgPool2DGrad sets dx [planes, H, W] to average pooling's input
// gradient: each element of dy [planes, OH, OW], divided by its window's
// count, added over the window.
func AvgPool2DGrad(g ConvGeom, planes int, includePad bool, dy, dx []float32) {
	hw, ohw := g.H*g.W, g.OH*g.OW
	clear(dx[:planes*hw])
	for p := 0; p < planes; p++ {
		d, out := dy[p*ohw:(p+1)*ohw], dx[p*hw:(p+1)*hw]
		for oh := 0; oh < g.OH; oh++ {
			h0, h1 := max(oh*g.SH-g.PadT, 0), min(oh*g.SH-g.PadT+g.KH, g.H)
			for ow := 0; ow < g.OW; ow++ {
				w0, w1 := max(ow*g.SW-g.PadL, 0), min(ow*g.SW-g.PadL+g.KW, g.W)
				v := float32(float64(d[oh*g.OW+ow]) / float64(avgCount(&g, oh, ow, includePad)))
				for ih := h0; ih < h1; ih++ {
					row := out[ih*g.W+w0 : ih*g.W+w1]
					for i := range row {
						row[i] += v
					}
				}
			}
		}
	}
}
