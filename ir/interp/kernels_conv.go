package interp

import (
	"math"

	"github.com/dlc-project/dlc/ir"
)

// Reference kernels of the convolution and pooling ops: the textbook
// loops over output positions and kernel offsets, any number of spatial
// dims, written from the definitions in ir/ops_conv.go (ONNX semantics)
// rather than for speed.

func init() {
	for op, body := range map[string]kernelFunc{
		ir.OpConv:           convKernel,
		ir.OpConvTranspose:  convTransposeKernel,
		ir.OpConvFilterGrad: convFilterGradKernel,
		ir.OpMaxPool:        maxPoolKernel,
		ir.OpMaxPoolGrad:    maxPoolGradKernel,
		ir.OpAvgPool:        avgPoolKernel,
		ir.OpAvgPoolGrad:    avgPoolGradKernel,
	} {
		Kernels[op] = checked(op, body)
	}
}

// geom is a window with int sizes and the walks every kernel needs.
type geom struct {
	in, out, k, s, d, pb, pe []int
	inSt                     []int // row-major strides of one input plane
}

func newGeom(w *ir.Window) *geom {
	conv := func(xs []int64) []int {
		out := make([]int, len(xs))
		for i, x := range xs {
			out[i] = int(x)
		}
		return out
	}
	g := &geom{in: conv(w.In), out: conv(w.Out), k: conv(w.Kernel), s: conv(w.Strides), d: conv(w.Dilations),
		pb: conv(w.PadBegin), pe: conv(w.PadEnd)}
	g.inSt = strides(g.in)
	return g
}

func prod(xs []int) int {
	p := 1
	for _, x := range xs {
		p *= x
	}
	return p
}

// taps calls fn for every kernel offset of the window at output position
// o with the flat offset of the input position it reads in one plane (-1
// for padding) and the flat index of the kernel offset.
func (g *geom) taps(o []int, fn func(in, j int)) {
	pos := make([]int, len(o))
	j := 0
	forEachIndex(g.k, func(kidx []int) {
		off := 0
		for i := range o {
			pos[i] = o[i]*g.s[i] - g.pb[i] + kidx[i]*g.d[i]
			if off >= 0 && pos[i] >= 0 && pos[i] < g.in[i] {
				off += pos[i] * g.inSt[i]
			} else {
				off = -1
			}
		}
		fn(off, j)
		j++
	})
}

// count is the number of positions of the (undilated) window at o that
// lie inside the input, or, with includePad, inside the padded input.
func (g *geom) count(o []int, includePad bool) int {
	n := 1
	for i := range o {
		lo, hi := 0, g.in[i]
		if includePad {
			lo, hi = -g.pb[i], g.in[i]+g.pe[i]
		}
		start := o[i]*g.s[i] - g.pb[i]
		end := start + (g.k[i]-1)*g.d[i] + 1
		n *= max(0, min(end, hi)-max(start, lo))
	}
	return n
}

func spatialInts(t *Tensor) []int64 {
	out := make([]int64, len(t.Shape)-2)
	for i, d := range t.Shape[2:] {
		out[i] = int64(d)
	}
	return out
}

// convKernel: y[n, m, o] = Σ_{c, j} x[n, g·C/G + c, o·s - pb + j·d] · w[m, c, j]
// with g = m / (M/G), padding reading as zero.
func convKernel(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
	x, w := args[0], args[1]
	win, err := ir.ConvWindow(v.Attrs, spatialInts(x), spatialInts(w))
	if err != nil {
		return nil, err
	}
	g := newGeom(win)
	n, c, m, groups := x.Shape[0], x.Shape[1], w.Shape[0], int(v.Attrs.Int("group", 1))
	cg, mg := c/groups, m/groups
	inP, outP, kP := prod(g.in), prod(g.out), prod(g.k)
	y := Zeros(v.Type.DType, append([]int{n, m}, g.out...))
	for b := 0; b < n; b++ {
		for oc := 0; oc < m; oc++ {
			grp := oc / mg
			o := 0
			forEachIndex(g.out, func(oidx []int) {
				s := 0.0
				g.taps(oidx, func(in, j int) {
					if in < 0 {
						return
					}
					for ic := 0; ic < cg; ic++ {
						xv := x.Data[(b*c+grp*cg+ic)*inP+in]
						wv := w.Data[(oc*cg+ic)*kP+j]
						s += float64(xv * wv) // no FMA: the same bits everywhere
					}
				})
				y.Data[(b*m+oc)*outP+o] = s
				o++
			})
		}
	}
	return y, nil
}

// convTransposeKernel is the adjoint of conv in x: every x[n, c, o]
// times w[c, mm, j] is added at y[n, g·M/G + mm, o·s - pb + j·d]
// (positions in the padding are dropped), with g = c / (C/G).
func convTransposeKernel(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
	x, w := args[0], args[1]
	win, err := ir.ConvTransposeWindow(v.Attrs, spatialInts(x), spatialInts(w))
	if err != nil {
		return nil, err
	}
	g := newGeom(win)
	n, c, groups := x.Shape[0], x.Shape[1], int(v.Attrs.Int("group", 1))
	mg := w.Shape[1]
	m, cg := mg*groups, c/groups
	inP, outP, kP := prod(g.in), prod(g.out), prod(g.k)
	y := Zeros(v.Type.DType, append([]int{n, m}, g.in...))
	for b := 0; b < n; b++ {
		for ic := 0; ic < c; ic++ {
			grp := ic / cg
			o := 0
			forEachIndex(g.out, func(oidx []int) {
				xv := x.Data[(b*c+ic)*outP+o]
				g.taps(oidx, func(in, j int) {
					if in < 0 {
						return
					}
					for mm := 0; mm < mg; mm++ {
						y.Data[(b*m+grp*mg+mm)*inP+in] += float64(xv * w.Data[(ic*mg+mm)*kP+j])
					}
				})
				o++
			})
		}
	}
	return y, nil
}

// convFilterGradKernel: dw[m, c, j] = Σ_{n, o} dy[n, m, o] · x[n, g·C/G + c, o·s - pb + j·d].
func convFilterGradKernel(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
	x, dy := args[0], args[1]
	win, err := ir.ConvWindow(v.Attrs, spatialInts(x), v.Attrs.Ints("kernel_shape"))
	if err != nil {
		return nil, err
	}
	g := newGeom(win)
	n, c, m, groups := x.Shape[0], x.Shape[1], dy.Shape[1], int(v.Attrs.Int("group", 1))
	cg, mg := c/groups, m/groups
	inP, outP, kP := prod(g.in), prod(g.out), prod(g.k)
	dw := Zeros(v.Type.DType, append([]int{m, cg}, g.k...))
	for b := 0; b < n; b++ {
		for oc := 0; oc < m; oc++ {
			grp := oc / mg
			o := 0
			forEachIndex(g.out, func(oidx []int) {
				d := dy.Data[(b*m+oc)*outP+o]
				g.taps(oidx, func(in, j int) {
					if in < 0 {
						return
					}
					for ic := 0; ic < cg; ic++ {
						dw.Data[(oc*cg+ic)*kP+j] += float64(d * x.Data[(b*c+grp*cg+ic)*inP+in])
					}
				})
				o++
			})
		}
	}
	return dw, nil
}

// pool runs fn over every plane (sample, channel) and output position of
// a pooling op over x, with the plane's offset in x and the flat output
// index (planes and positions in row-major order).
func pool(v *ir.Value, x *Tensor, fn func(g *geom, oidx []int, xo, o int)) error {
	win, err := ir.PoolWindow(v.Attrs, spatialInts(x))
	if err != nil {
		return err
	}
	g := newGeom(win)
	inP := prod(g.in)
	o := 0
	for p := 0; p < x.Shape[0]*x.Shape[1]; p++ {
		forEachIndex(g.out, func(oidx []int) {
			fn(g, oidx, p*inP, o)
			o++
		})
	}
	return nil
}

// windowMax gives the flat input index of the first maximum of the window
// (a NaN wins and stays, as in reduce_max), or -1 when the window holds
// only padding.
func windowMax(g *geom, x *Tensor, oidx []int, xo int) int {
	best, at := math.Inf(-1), -1
	g.taps(oidx, func(in, _ int) {
		if in < 0 {
			return
		}
		xv := x.Data[xo+in]
		if at < 0 || xv > best || (math.IsNaN(xv) && !math.IsNaN(best)) {
			best, at = xv, xo+in
		}
	})
	return at
}

func maxPoolKernel(v *ir.Value, args []*Tensor, _ *Env, shape []int) (*Tensor, error) {
	x := args[0]
	y := Zeros(v.Type.DType, shape)
	err := pool(v, x, func(g *geom, oidx []int, xo, o int) {
		if at := windowMax(g, x, oidx, xo); at >= 0 {
			y.Data[o] = x.Data[at]
		} else {
			y.Data[o] = math.Inf(-1)
		}
	})
	return y, err
}

func maxPoolGradKernel(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
	x, dy := args[0], args[1]
	dx := Zeros(v.Type.DType, x.Shape)
	err := pool(v, x, func(g *geom, oidx []int, xo, o int) {
		if at := windowMax(g, x, oidx, xo); at >= 0 {
			dx.Data[at] += dy.Data[o]
		}
	})
	return dx, err
}

func avgPoolKernel(v *ir.Value, args []*Tensor, _ *Env, shape []int) (*Tensor, error) {
	x := args[0]
	y := Zeros(v.Type.DType, shape)
	incl := v.Attrs.Bool("count_include_pad", false)
	err := pool(v, x, func(g *geom, oidx []int, xo, o int) {
		s := 0.0
		g.taps(oidx, func(in, _ int) {
			if in >= 0 {
				s += x.Data[xo+in]
			}
		})
		y.Data[o] = s / float64(g.count(oidx, incl))
	})
	return y, err
}

func avgPoolGradKernel(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
	x, dy := args[0], args[1]
	dx := Zeros(v.Type.DType, x.Shape)
	incl := v.Attrs.Bool("count_include_pad", false)
	err := pool(v, x, func(g *geom, oidx []int, xo, o int) {
		d := dy.Data[o] / float64(g.count(oidx, incl))
		g.taps(oidx, func(in, _ int) {
			if in >= 0 {
				dx.Data[xo+in] += d
			}
		})
	})
	return dx, err
}
