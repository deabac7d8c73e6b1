package passes

import "github.com/dlc-project/dlc/ir"

// Gradient rules of the convolution and pooling ops. Each backward op is an
// op of its own (conv_transpose, conv_filter_grad, max_pool_grad,
// avg_pool_grad), so that backends compile the backward pass to the same
// GEMM-based or direct kernels as the forward one.

func init() {
	r := GradRules
	r[ir.OpConv] = gradConv
	r[ir.OpConvTranspose] = gradConvTranspose
	r[ir.OpMaxPool] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		return []*ir.Value{b.Op(ir.OpMaxPoolGrad, v.Attrs.Clone(), v.Args[0], g)}
	}
	r[ir.OpAvgPool] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		return []*ir.Value{b.Op(ir.OpAvgPoolGrad, v.Attrs.Clone(), v.Args[0], g)}
	}
	const second = "second order not supported: a gradient helper of conv or pooling"
	for _, op := range []string{ir.OpConvFilterGrad, ir.OpMaxPoolGrad, ir.OpAvgPoolGrad} {
		NotDifferentiable[op] = second
	}
}

// convAttrs copies the attributes conv, conv_transpose and
// conv_filter_grad share.
func convAttrs(a ir.Attrs) ir.Attrs {
	out := ir.Attrs{}
	for _, k := range []string{"strides", "pads", "dilations", "group"} {
		if x, ok := a[k]; ok {
			out[k] = x
		}
	}
	return out.Clone()
}

func spatialDims(t ir.Type) []int64 {
	out := make([]int64, 0, len(t.Shape))
	for _, d := range t.Shape[2:] {
		out = append(out, d.Size)
	}
	return out
}

// gradConv: with y = conv(x, w), dx = conv_transpose(dy, w) (the adjoint
// in x; output_padding restores the input positions that conv's floor
// left unread, which get zero) and dw = conv_filter_grad(x, dy).
func gradConv(b *ir.Builder, v, g *ir.Value) []*ir.Value {
	x, w := v.Args[0], v.Args[1]
	in, k := spatialDims(x.Type), spatialDims(w.Type)
	win, err := ir.ConvWindow(v.Attrs, in, k)
	if err != nil {
		b.Fail(err)
		return []*ir.Value{nil, nil}
	}
	ta := convAttrs(v.Attrs)
	outPad := make([]int64, len(in))
	anyPad := false
	for i := range in {
		outPad[i] = (in[i] + win.PadBegin[i] + win.PadEnd[i] - win.Extent(i)) % win.Strides[i]
		anyPad = anyPad || outPad[i] != 0
	}
	if anyPad {
		ta["output_padding"] = outPad
	}
	fa := convAttrs(v.Attrs)
	fa["kernel_shape"] = k
	return []*ir.Value{b.Op(ir.OpConvTranspose, ta, g, w), b.Op(ir.OpConvFilterGrad, fa, x, g)}
}

// gradConvTranspose: y = conv_transpose(x, w) is the input gradient of the
// conv of y-shaped inputs with w, so dx = conv(dy, w) and dw is that
// conv's filter gradient with dy as its input and x as its output's
// gradient.
func gradConvTranspose(b *ir.Builder, v, g *ir.Value) []*ir.Value {
	x, w := v.Args[0], v.Args[1]
	fa := convAttrs(v.Attrs)
	fa["kernel_shape"] = spatialDims(w.Type)
	return []*ir.Value{b.Op(ir.OpConv, convAttrs(v.Attrs), g, w), b.Op(ir.OpConvFilterGrad, fa, g, x)}
}
