package golang

import (
	"fmt"

	"github.com/dave/jennifer/jen"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/runtime"
)

// Emitters of the convolution and pooling ops (1-D, 2-D and 3-D: runtime's
// helpers work on 3-D volumes, of which a 2-D op has one plane and a 1-D op
// one row). A convolution whose per-sample product is small (below
// perSampleConvMAC, as in LeNet) runs sample by sample, the pool splitting
// the batch (conv, conv_transpose) or the rows of the patch matrix
// (conv_filter_grad), through runtime.Conv, ConvTranspose and
// ConvFilterGrad: each sample is multiplied while in cache (stride-1
// convolutions without building an im2col matrix, see
// runtime/conv_padded.go), and no layout swap is needed; the scratch of a
// chunk is its first sample's (or row's) slice of a tmp buffer, reused for
// the whole chunk. A larger one is a batched
// GEMM: the patches of every sample go side by side into one im2col
// matrix, [C·k, n·P] for P output positions, so that each group is one
// runtime.Sgemm (which splits it over the pool); layout changes between
// [n, C, P] and [C, n·P] are runtime.SwapOuter copies.
// The scratch matrices are arena buffers of the memory plan (tmpSizes),
// so no call allocates. Pooling runs direct loops over (sample, channel)
// volumes, which the pool splits.

func init() {
	emitters[ir.OpConv] = emitConv
	emitters[ir.OpConvTranspose] = emitConvTranspose
	emitters[ir.OpConvFilterGrad] = emitConvFilterGrad
	emitters[ir.OpMaxPool] = emitPool(ir.OpMaxPool)
	emitters[ir.OpMaxPoolGrad] = emitPool(ir.OpMaxPoolGrad)
	emitters[ir.OpAvgPool] = emitPool(ir.OpAvgPool)
	emitters[ir.OpAvgPoolGrad] = emitPool(ir.OpAvgPoolGrad)
}

// monoShape is a shape of size m: its batch factors as N dims, then the
// constant. Scratch buffers get it, so that the memory planner puts them
// in the zone of their batch power.
func monoShape(m mono) ir.Shape {
	var s ir.Shape
	for range m.p {
		s = append(s, ir.S(batchSym))
	}
	return append(s, ir.C(m.c))
}

func spatialOf(t ir.Type) []int64 {
	out := make([]int64, 0, len(t.Shape))
	for _, d := range t.Shape[2:] {
		out = append(out, d.Size)
	}
	return out
}

func prod64(xs []int64) int64 {
	p := int64(1)
	for _, x := range xs {
		p *= x
	}
	return p
}

// geomLit renders runtime.ConvGeom for window w over c channels. The
// spatial dims fill ConvGeom's last ones: a 2-D window has depth 1, a 1-D
// window also height 1.
func geomLit(w *ir.Window, c int64) (jen.Code, error) {
	r := len(w.In)
	if r > 3 {
		return nil, fmt.Errorf("the Go backend compiles 1-D, 2-D and 3-D convolution and pooling, not %d-D", r)
	}
	// at gives dim i (0 = depth, 1 = height, 2 = width) of xs, def for the
	// dims the window does not have.
	at := func(xs []int64, i int, def int64) jen.Code {
		if j := i - (3 - r); j >= 0 {
			return jen.Lit(int(xs[j]))
		}
		return jen.Lit(int(def))
	}
	d := jen.Dict{jen.Id("C"): jen.Lit(int(c))}
	for i, f := range []string{"D", "H", "W"} {
		d[jen.Id(f)] = at(w.In, i, 1)
		d[jen.Id("O"+f)] = at(w.Out, i, 1)
		d[jen.Id("K"+f)] = at(w.Kernel, i, 1)
		d[jen.Id("S"+f)] = at(w.Strides, i, 1)
		d[jen.Id("D"+f)] = at(w.Dilations, i, 1)
		d[jen.Id("Pad"+f+"0")] = at(w.PadBegin, i, 0)
		d[jen.Id("Pad"+f+"1")] = at(w.PadEnd, i, 0)
	}
	return jen.Qual(runtimePath, "ConvGeom").Values(d), nil
}

// geomOf is the runtime.ConvGeom that geomLit renders, to size scratch
// buffers with runtime's own formulas.
func geomOf(w *ir.Window, c int64) runtime.ConvGeom {
	r := len(w.In)
	at := func(xs []int64, i int, def int64) int {
		if j := i - (3 - r); j >= 0 {
			return int(xs[j])
		}
		return int(def)
	}
	return runtime.ConvGeom{C: int(c),
		D: at(w.In, 0, 1), H: at(w.In, 1, 1), W: at(w.In, 2, 1),
		OD: at(w.Out, 0, 1), OH: at(w.Out, 1, 1), OW: at(w.Out, 2, 1),
		KD: at(w.Kernel, 0, 1), KH: at(w.Kernel, 1, 1), KW: at(w.Kernel, 2, 1),
		SD: at(w.Strides, 0, 1), SH: at(w.Strides, 1, 1), SW: at(w.Strides, 2, 1),
		DD: at(w.Dilations, 0, 1), DH: at(w.Dilations, 1, 1), DW: at(w.Dilations, 2, 1),
		PadD0: at(w.PadBegin, 0, 0), PadH0: at(w.PadBegin, 1, 0), PadW0: at(w.PadBegin, 2, 0),
		PadD1: at(w.PadEnd, 0, 0), PadH1: at(w.PadEnd, 1, 0), PadW1: at(w.PadEnd, 2, 0)}
}

// from renders buf[off:], or buf when off is zero.
func (k *kernel) from(buf *jen.Statement, off mono) *jen.Statement {
	if off.isZero() {
		return buf
	}
	return buf.Index(k.n(off).Op(":"))
}

// sample renders buf[b*size:], the slice of sample b.
func sample(buf *jen.Statement, size int64) *jen.Statement {
	return buf.Index(jen.Id("b").Op("*").Lit(int(size)).Op(":"))
}

// convDims are the sizes a conv kernel needs.
type convDims struct {
	batch       mono  // n
	c, m, group int64 // input and output channels, groups
	kk, pin, p  int64 // kernel, input and output positions
}

func (k *kernel) sgemm(ta, tb bool, m, n, kk mono, a *jen.Statement, lda mono, b *jen.Statement, ldb mono, c *jen.Statement, ldc mono) jen.Code {
	return jen.Qual(runtimePath, "Sgemm").Call(jen.Id("t").Dot("pool"), jen.Lit(ta), jen.Lit(tb), k.n(m), k.n(n), k.n(kk),
		jen.Lit(1), a, k.n(lda), b, k.n(ldb), jen.Lit(0), c, k.n(ldc))
}

// perSample loops stmt over the samples b of the batch.
func (k *kernel) perSample(batch mono, stmt jen.Code) jen.Code {
	return loop("b", jen.Lit(0), k.n(batch), stmt)
}

// emitConv: im2col of every sample into tmp0 [C·k, n·P], one GEMM per
// group W_g [M/G, C/G·k] × tmp0_g into tmp1 [M, n·P], then tmp1 swapped
// into the result [n, M, P].
func emitConv(k *kernel) error {
	x, w := k.v.Args[0].Type, k.v.Args[1].Type
	win, err := ir.ConvWindow(k.v.Attrs, spatialOf(x), spatialOf(w))
	if err != nil {
		return err
	}
	geom, err := geomLit(win, x.Shape[1].Size)
	if err != nil {
		return err
	}
	d := convDims{batch: dimMono(x.Shape[0]), c: x.Shape[1].Size, m: w.Shape[0].Size, group: k.v.Attrs.Int("group", 1),
		kk: prod64(win.Kernel), pin: prod64(win.In), p: prod64(win.Out)}
	cg, mg := d.c/d.group, d.m/d.group
	kg := cg * d.kk
	if d.m*kg*d.p < perSampleConvMAC {
		k.emitConvPerSample(d, geom, win)
		return nil
	}
	nP := d.batch.mul(constMono(d.p))
	k.pool, k.rows, k.work = true, one, d.batch.mul(constMono(d.m*kg*d.p))
	k.tmpSizes = append(k.tmpSizes, nP.mul(constMono(d.c*d.kk)), nP.mul(constMono(d.m)))
	k.body = append(k.body,
		jen.Id("g").Op(":=").Add(geom),
		k.perSample(d.batch, jen.Qual(runtimePath, "Im2col").Call(jen.Id("g"), sample(k.x(0), d.c*d.pin), sample(k.tmp(0), d.p), k.n(nP))))
	for gi := range d.group {
		k.body = append(k.body, k.sgemm(false, false, constMono(mg), nP, constMono(kg),
			k.from(k.x(1), constMono(gi*mg*kg)), constMono(kg),
			k.from(k.tmp(0), nP.mul(constMono(gi*kg))), nP,
			k.from(k.tmp(1), nP.mul(constMono(gi*mg))), nP))
	}
	k.body = append(k.body, jen.Qual(runtimePath, "SwapOuter").Call(k.tmp(1), k.o(), jen.Lit(int(d.m)), k.n(d.batch), jen.Lit(int(d.p))))
	return nil
}

// emitConvTranspose: x [n, C, P] swapped into tmp1 [C, n·P], one GEMM per
// group W_gᵀ [M/G·k, C/G] × tmp1_g into the patch matrix tmp0 [M·k, n·P],
// then col2im of each sample into the result.
func emitConvTranspose(k *kernel) error {
	x, w := k.v.Args[0].Type, k.v.Args[1].Type
	win, err := ir.ConvTransposeWindow(k.v.Attrs, spatialOf(x), spatialOf(w))
	if err != nil {
		return err
	}
	group := k.v.Attrs.Int("group", 1)
	mg := w.Shape[1].Size
	m := mg * group
	geom, err := geomLit(win, m)
	if err != nil {
		return err
	}
	batch, c, kk := dimMono(x.Shape[0]), x.Shape[1].Size, prod64(win.Kernel)
	cg := c / group
	pin, pout := prod64(win.Out), prod64(win.In) // the transpose reads conv's outputs, writes its inputs
	if c*mg*kk*pin < perSampleConvMAC {
		k.emitConvTransposePerSample(batch, c, m, group, kk, pin, pout, geom, win)
		return nil
	}
	nP := batch.mul(constMono(pin))
	k.pool, k.rows, k.work = true, one, batch.mul(constMono(c*mg*kk*pin))
	k.tmpSizes = append(k.tmpSizes, nP.mul(constMono(m*kk)), nP.mul(constMono(c)))
	k.body = append(k.body,
		jen.Id("g").Op(":=").Add(geom),
		jen.Qual(runtimePath, "SwapOuter").Call(k.x(0), k.tmp(1), k.n(batch), jen.Lit(int(c)), jen.Lit(int(pin))))
	for gi := range group {
		k.body = append(k.body, k.sgemm(true, false, constMono(mg*kk), nP, constMono(cg),
			k.from(k.x(1), constMono(gi*cg*mg*kk)), constMono(mg*kk),
			k.from(k.tmp(1), nP.mul(constMono(gi*cg))), nP,
			k.from(k.tmp(0), nP.mul(constMono(gi*mg*kk))), nP))
	}
	k.body = append(k.body,
		k.perSample(batch, jen.Qual(runtimePath, "Col2im").Call(jen.Id("g"), sample(k.tmp(0), pin), k.n(nP), sample(k.o(), m*pout))))
	return nil
}

// emitConvFilterGrad: im2col of every sample of x into tmp0 [C·k, n·P],
// dy swapped into tmp1 [M, n·P], and one GEMM per group tmp1_g ×
// tmp0_gᵀ, which sums over the batch and the positions at once.
func emitConvFilterGrad(k *kernel) error {
	x, dy := k.v.Args[0].Type, k.v.Args[1].Type
	win, err := ir.ConvWindow(k.v.Attrs, spatialOf(x), k.v.Attrs.Ints("kernel_shape"))
	if err != nil {
		return err
	}
	geom, err := geomLit(win, x.Shape[1].Size)
	if err != nil {
		return err
	}
	batch, c, m, group := dimMono(x.Shape[0]), x.Shape[1].Size, dy.Shape[1].Size, k.v.Attrs.Int("group", 1)
	kk, pin, p := prod64(win.Kernel), prod64(win.In), prod64(win.Out)
	cg, mg := c/group, m/group
	if group == 1 && m*c*kk*p < perSampleConvMAC {
		// Split over the rows of the patch matrix (the columns of dW):
		// each worker builds its rows of every sample's patches and
		// accumulates its columns of dW over the samples (in sample
		// order, whatever the split); no layout swap. The pool splits
		// filterGradUnits units of about ck/units rows each (unit u
		// starts at row u·ck/units), so that the scratch each chunk
		// needs once (the sample's padded planes and transposed dy) is
		// counted per unit, not per row.
		// Units start at whole runs of the filter's last dim (kw = 0):
		// runtime.ConvFilterGrad tiles rows by such runs and cuts a tile
		// where its range ends, so run-aligned ranges give every row the
		// same tile whatever the pool's split, and the result does not
		// depend on the number of workers.
		ck := c * kk
		kw := win.Kernel[len(win.Kernel)-1]
		runs := ck / kw
		units := min(runs, filterGradUnits)
		s := int64(runtime.ConvFilterGradScratchLen(geomOf(win, c), int(m), int((runs+units-1)/units*kw)))
		row := func(u string) *jen.Statement {
			return jen.Parens(jen.Id(u).Op("*").Lit(int(runs)).Op("/").Lit(int(units))).Op("*").Lit(int(kw))
		}
		k.rows, k.work = constMono(units), batch.mul(constMono(m*ck*p))
		k.tmpSizes = append(k.tmpSizes, constMono(units*s))
		k.body = append(k.body,
			jen.Id("g").Op(":=").Add(geom),
			jen.Qual(runtimePath, "ConvFilterGrad").Call(jen.Id("g"), jen.Lit(int(m)), k.x(0), k.x(1), k.o(),
				k.tmp(0).Index(jen.Id("lo").Op("*").Lit(int(s)).Op(":")), k.n(batch), row("lo"), row("hi")))
		return nil
	}
	nP := batch.mul(constMono(p))
	k.pool, k.rows, k.work = true, one, batch.mul(constMono(m*cg*kk*p))
	k.tmpSizes = append(k.tmpSizes, nP.mul(constMono(c*kk)), nP.mul(constMono(m)))
	k.body = append(k.body,
		jen.Id("g").Op(":=").Add(geom),
		k.perSample(batch, jen.Qual(runtimePath, "Im2col").Call(jen.Id("g"), sample(k.x(0), c*pin), sample(k.tmp(0), p), k.n(nP))),
		jen.Qual(runtimePath, "SwapOuter").Call(k.x(1), k.tmp(1), k.n(batch), jen.Lit(int(m)), jen.Lit(int(p))))
	for gi := range group {
		k.body = append(k.body, k.sgemm(false, true, constMono(mg), constMono(cg*kk), nP,
			k.from(k.tmp(1), nP.mul(constMono(gi*mg))), nP,
			k.from(k.tmp(0), nP.mul(constMono(gi*cg*kk))), nP,
			k.from(k.o(), constMono(gi*mg*cg*kk)), constMono(cg*kk)))
	}
	return nil
}

// emitPool runs a pooling op (or its gradient) over the (sample, channel)
// volumes [lo, hi), which the pool splits.
func emitPool(op string) emitFunc {
	return func(k *kernel) error {
		x := k.v.Args[0].Type
		win, err := ir.PoolWindow(k.v.Attrs, spatialOf(x))
		if err != nil {
			return err
		}
		geom, err := geomLit(win, 1)
		if err != nil {
			return err
		}
		hw, ohw := prod64(win.In), prod64(win.Out)
		planes := dimMono(x.Shape[0]).mul(dimMono(x.Shape[1]))
		k.rows, k.work = planes, planes.mul(constMono(max(hw, ohw*prod64(win.Kernel))))
		lo := func(buf *jen.Statement, size int64) *jen.Statement {
			return buf.Index(jen.Id("lo").Op("*").Lit(int(size)).Op(":"))
		}
		incl := jen.Lit(k.v.Attrs.Bool("count_include_pad", false))
		var call jen.Code
		switch op {
		case ir.OpMaxPool:
			name := "MaxPool"
			if x.DType == ir.F64 {
				name = "MaxPool64"
			}
			call = jen.Qual(runtimePath, name).Call(jen.Id("g"), jen.Id("hi").Op("-").Id("lo"), lo(k.x(0), hw), lo(k.o(), ohw))
		case ir.OpMaxPoolGrad:
			call = jen.Qual(runtimePath, "MaxPoolGrad").Call(jen.Id("g"), jen.Id("hi").Op("-").Id("lo"), lo(k.x(0), hw), lo(k.x(1), ohw), lo(k.o(), hw))
		case ir.OpAvgPool:
			call = jen.Qual(runtimePath, "AvgPool").Call(jen.Id("g"), jen.Id("hi").Op("-").Id("lo"), incl, lo(k.x(0), hw), lo(k.o(), ohw))
		case ir.OpAvgPoolGrad:
			call = jen.Qual(runtimePath, "AvgPoolGrad").Call(jen.Id("g"), jen.Id("hi").Op("-").Id("lo"), incl, lo(k.x(1), ohw), lo(k.o(), hw))
		}
		k.body = append(k.body, jen.Id("g").Op(":=").Add(geom), call)
		return nil
	}
}

// filterGradUnits is the number of parts of a per-sample filter gradient
// that the pool may split: enough to balance two to eight workers (LeNet's
// 25 patch rows go 12 and 13 to two), few enough that the per-chunk
// scratch stays small.
const filterGradUnits = 8

// perSampleConvMAC bounds the multiply-adds of one sample's convolution
// below which a kernel runs sample by sample, the pool splitting the
// batch: each sample's patch matrix is built and multiplied while it is
// in cache, no layout swap is needed (a sample's product is already its
// [M, P] block of the result), and the im2col work is split over the
// workers too. The batched form (one GEMM over n·P columns) pays for a
// product large enough to split on its own. Measured on LeNet-5 (conv1
// 117k, conv2 240k multiply-adds per sample).
const perSampleConvMAC = 1 << 21

// emitConvPerSample: runtime.Conv over the samples [lo, hi), with the
// scratch of the chunk's first sample in tmp0 (reused for every sample of
// the chunk, so that it stays in cache; chunks are disjoint).
func (k *kernel) emitConvPerSample(d convDims, geom jen.Code, win *ir.Window) {
	cg := d.c / d.group
	s := int64(runtime.ConvScratchLen(geomOf(win, d.c), int(d.m)))
	k.rows, k.work = d.batch, d.batch.mul(constMono(d.m*cg*d.kk*d.p))
	k.tmpSizes = append(k.tmpSizes, d.batch.mul(constMono(s)))
	k.body = append(k.body, jen.Id("g").Op(":=").Add(geom),
		jen.Qual(runtimePath, "Conv").Call(jen.Id("g"), jen.Lit(int(d.m)), jen.Lit(int(d.group)), k.x(1),
			k.x(0).Index(jen.Id("lo").Op("*").Lit(int(d.c*d.pin)).Op(":")),
			k.o().Index(jen.Id("lo").Op("*").Lit(int(d.m*d.p)).Op(":")),
			k.tmp(0).Index(jen.Id("lo").Op("*").Lit(int(s)).Op(":")), jen.Id("hi").Op("-").Id("lo")))
}

// emitConvTransposePerSample: runtime.ConvTranspose over the samples
// [lo, hi), with per-chunk scratch as in emitConvPerSample.
func (k *kernel) emitConvTransposePerSample(batch mono, c, m, group, kk, pin, pout int64, geom jen.Code, win *ir.Window) {
	mg := m / group
	s := int64(runtime.ConvTransposeScratchLen(geomOf(win, m), int(c), int(group)))
	k.rows, k.work = batch, batch.mul(constMono(c*mg*kk*pin))
	k.tmpSizes = append(k.tmpSizes, batch.mul(constMono(s)))
	k.body = append(k.body, jen.Id("g").Op(":=").Add(geom),
		jen.Qual(runtimePath, "ConvTranspose").Call(jen.Id("g"), jen.Lit(int(c)), jen.Lit(int(group)), k.x(1),
			k.x(0).Index(jen.Id("lo").Op("*").Lit(int(c*pin)).Op(":")),
			k.o().Index(jen.Id("lo").Op("*").Lit(int(m*pout)).Op(":")),
			k.tmp(0).Index(jen.Id("lo").Op("*").Lit(int(s)).Op(":")), jen.Id("hi").Op("-").Id("lo")))
}
