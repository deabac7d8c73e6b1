package ir

import (
	"fmt"
	"strings"
)

// Convolution and pooling ops. Layout is channels-first: an operand x is
// [N, C, spatial...] with one or more spatial dims (NCW, NCHW, NCDHW).
// Attributes follow ONNX: pads lists the padding before each spatial dim,
// then the padding after each; strides and dilations have one entry per
// spatial dim and default to 1, pads to 0, group to 1.
const (
	OpConv           = "conv"             // cross-correlation of x with w [M, C/group, k...] (no bias)
	OpConvTranspose  = "conv_transpose"   // the adjoint of conv in x: x [N, C, ...], w [C, M/group, k...]
	OpConvFilterGrad = "conv_filter_grad" // the gradient of conv in w: (x, dy) -> dw [M, C/group, k...]
	OpMaxPool        = "max_pool"         // max over each window (padding never wins)
	OpMaxPoolGrad    = "max_pool_grad"    // (x, dy) -> dx: dy to the first max of each window
	OpAvgPool        = "avg_pool"         // mean over each window
	OpAvgPoolGrad    = "avg_pool_grad"    // (x, dy) -> dx: dy spread evenly over each window
)

// Window is the geometry of a conv or pooling op along its spatial dims:
// output element o of a dim reads input positions o*Stride - PadBegin +
// j*Dilation for j in [0, Kernel); positions outside [0, In) are padding.
// For conv_transpose, In and Out are those of the conv it is the adjoint
// of: In is the transpose's result, Out its operand.
type Window struct {
	In, Out, Kernel, Strides, Dilations, PadBegin, PadEnd []int64
}

// Extent is the span of the dilated kernel along spatial dim i.
func (w *Window) Extent(i int) int64 { return (w.Kernel[i]-1)*w.Dilations[i] + 1 }

func init() {
	convAttrs := []AttrSpec{{"strides", AttrInts, false}, {"pads", AttrInts, false},
		{"dilations", AttrInts, false}, {"group", AttrInt, false}}
	register(&OpDef{Name: OpConv, Kind: KindMatMul, NumArgs: 2, Attrs: convAttrs,
		Doc: "cross-correlation of x [N, C, in...] with w [M, C/group, k...] -> [N, M, out...], " +
			"out = floor((in + pad_begin + pad_end - (k-1)*dilation - 1)/stride) + 1; no bias (the caller adds one)",
		Infer: inferConv})
	register(&OpDef{Name: OpConvTranspose, Kind: KindMatMul, NumArgs: 2,
		Attrs: append(append([]AttrSpec{}, convAttrs...), AttrSpec{"output_padding", AttrInts, false}),
		Doc: "transposed convolution of x [N, C, in...] with w [C, M/group, k...] -> [N, M, out...], " +
			"out = stride*(in-1) + output_padding + (k-1)*dilation + 1 - pad_begin - pad_end (output_padding < stride): " +
			"the gradient of conv in its input",
		Infer: inferConvTranspose})
	register(&OpDef{Name: OpConvFilterGrad, Kind: KindMatMul, NumArgs: 2,
		Attrs: append(append([]AttrSpec{}, convAttrs...), AttrSpec{"kernel_shape", AttrInts, true}),
		Doc: "the gradient of conv in its filter: (x [N, C, in...], dy [N, M, out...]) -> dw [M, C/group, kernel_shape...], " +
			"dw = sum over the batch and the output positions of dy times the window of x",
		Infer: inferConvFilterGrad})
	poolAttrs := []AttrSpec{{"kernel_shape", AttrInts, true}, {"strides", AttrInts, false}, {"pads", AttrInts, false},
		{"ceil_mode", AttrBool, false}}
	maxAttrs := append(append([]AttrSpec{}, poolAttrs...), AttrSpec{"dilations", AttrInts, false})
	avgAttrs := append(append([]AttrSpec{}, poolAttrs...), AttrSpec{"count_include_pad", AttrBool, false})
	register(&OpDef{Name: OpMaxPool, Kind: KindReduction, NumArgs: 1, Attrs: maxAttrs,
		Doc: "max of x [N, C, in...] over each (dilated) window -> [N, C, out...]; padding is never the max; " +
			"ceil_mode rounds out up but drops a last window that would start in the end padding (as ONNX and PyTorch)",
		Infer: inferPool})
	register(&OpDef{Name: OpAvgPool, Kind: KindReduction, NumArgs: 1, Attrs: avgAttrs,
		Doc: "mean of x [N, C, in...] over each window -> [N, C, out...]; count_include_pad divides by the window's " +
			"positions inside the padded input, else by those inside x",
		Infer: inferPool})
	register(&OpDef{Name: OpMaxPoolGrad, Kind: KindReduction, NumArgs: 2, Attrs: maxAttrs,
		Doc:   "the gradient of max_pool: (x, dy) -> dx of x's type, each dy element added at the first max of its window (as PyTorch)",
		Infer: inferPoolGrad(OpMaxPool)})
	register(&OpDef{Name: OpAvgPoolGrad, Kind: KindReduction, NumArgs: 2, Attrs: avgAttrs,
		Doc:   "the gradient of avg_pool: (x, dy) -> dx of x's type, each dy element divided by its window's count and added over the window",
		Infer: inferPoolGrad(OpAvgPool)})
}

// spatialOperand checks that t is [N, C, spatial...] with a float dtype and
// constant channel and spatial dims, and returns the spatial sizes.
func spatialOperand(what string, t Type) ([]int64, error) {
	if !t.DType.IsFloat() {
		return nil, fmt.Errorf("%s must be f32 or f64, is %s", what, t.DType)
	}
	if len(t.Shape) < 3 {
		return nil, fmt.Errorf("%s must be [N, C, spatial...] with at least one spatial dim, is %s", what, t.Shape)
	}
	sp := make([]int64, len(t.Shape)-2)
	for i, d := range t.Shape[1:] {
		if !d.IsConst() {
			return nil, fmt.Errorf("%s %s: only the batch (first) dim may be symbolic", what, t.Shape)
		}
		if i > 0 {
			sp[i-1] = d.Size
		}
	}
	return sp, nil
}

// intsAttr reads an optional per-dim attribute of n entries (default def
// each), requiring every entry to be at least lo.
func intsAttr(a Attrs, name string, n int, def, lo int64) ([]int64, error) {
	if _, ok := a[name]; !ok {
		out := make([]int64, n)
		for i := range out {
			out[i] = def
		}
		return out, nil
	}
	vals := a.Ints(name)
	if len(vals) != n {
		return nil, fmt.Errorf("attribute %s = %v has %d entries, want %d", name, vals, len(vals), n)
	}
	for _, x := range vals {
		if x < lo {
			return nil, fmt.Errorf("attribute %s = %v: entries must be >= %d", name, vals, lo)
		}
	}
	return append([]int64(nil), vals...), nil
}

// window reads strides, pads and dilations (all 1 when the op has no
// dilations) for a kernel over in and checks that the dilated kernel fits
// the padded input.
func window(a Attrs, in, kernel []int64) (*Window, error) {
	r := len(in)
	w := &Window{In: in, Kernel: kernel, Out: make([]int64, r)}
	var err error
	if w.Strides, err = intsAttr(a, "strides", r, 1, 1); err != nil {
		return nil, err
	}
	pads, err := intsAttr(a, "pads", 2*r, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("%v (begins, then ends, per spatial dim)", err)
	}
	w.PadBegin, w.PadEnd = pads[:r], pads[r:]
	if w.Dilations, err = intsAttr(a, "dilations", r, 1, 1); err != nil {
		return nil, err
	}
	for i := range r {
		if kernel[i] < 1 {
			return nil, fmt.Errorf("kernel size %d along spatial dim %d must be >= 1", kernel[i], i)
		}
		if padded := in[i] + w.PadBegin[i] + w.PadEnd[i]; padded < w.Extent(i) {
			return nil, fmt.Errorf("kernel extent %d (size %d, dilation %d) along spatial dim %d is larger than the padded input %d (%d + pads %d, %d)",
				w.Extent(i), kernel[i], w.Dilations[i], i, padded, in[i], w.PadBegin[i], w.PadEnd[i])
		}
	}
	return w, nil
}

// ConvWindow gives the geometry of conv (or conv_filter_grad) over input
// spatial sizes in with a kernel of the given sizes.
func ConvWindow(a Attrs, in, kernel []int64) (*Window, error) {
	w, err := window(a, in, kernel)
	if err != nil {
		return nil, err
	}
	for i := range in {
		w.Out[i] = (in[i]+w.PadBegin[i]+w.PadEnd[i]-w.Extent(i))/w.Strides[i] + 1
	}
	return w, nil
}

// PoolWindow gives the geometry of a max_pool or avg_pool (or its
// gradient) over input spatial sizes in. With ceil_mode the output size
// is rounded up, but a last window that would start in the end padding
// is dropped (ONNX's and PyTorch's rule), so every window starts inside
// the input or its begin padding.
func PoolWindow(a Attrs, in []int64) (*Window, error) {
	r := len(in)
	kernel, err := intsAttr(a, "kernel_shape", r, 0, 1)
	if err != nil {
		return nil, err
	}
	w, err := window(a, in, kernel)
	if err != nil {
		return nil, err
	}
	ceil := a.Bool("ceil_mode", false)
	for i := range r {
		// A pad as wide as the window would make windows of padding only.
		if w.PadBegin[i] >= w.Extent(i) || w.PadEnd[i] >= w.Extent(i) {
			return nil, fmt.Errorf("pads %d, %d along spatial dim %d must be smaller than the kernel extent %d",
				w.PadBegin[i], w.PadEnd[i], i, w.Extent(i))
		}
		span := in[i] + w.PadBegin[i] + w.PadEnd[i] - w.Extent(i)
		o := span/w.Strides[i] + 1
		if ceil {
			o = (span+w.Strides[i]-1)/w.Strides[i] + 1
			if (o-1)*w.Strides[i] >= in[i]+w.PadBegin[i] {
				o--
			}
		}
		w.Out[i] = o
	}
	return w, nil
}

// ConvTransposeWindow gives the geometry of conv_transpose of an operand
// of spatial sizes in: the window of the conv whose input gradient it is,
// whose input (the transpose's result) has sizes Window.In.
func ConvTransposeWindow(a Attrs, in, kernel []int64) (*Window, error) {
	r := len(in)
	outPad, err := intsAttr(a, "output_padding", r, 0, 0)
	if err != nil {
		return nil, err
	}
	w := &Window{Out: in, Kernel: kernel, In: make([]int64, r)}
	if w.Strides, err = intsAttr(a, "strides", r, 1, 1); err != nil {
		return nil, err
	}
	pads, err := intsAttr(a, "pads", 2*r, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("%v (begins, then ends, per spatial dim)", err)
	}
	w.PadBegin, w.PadEnd = pads[:r], pads[r:]
	if w.Dilations, err = intsAttr(a, "dilations", r, 1, 1); err != nil {
		return nil, err
	}
	for i := range r {
		if kernel[i] < 1 {
			return nil, fmt.Errorf("kernel size %d along spatial dim %d must be >= 1", kernel[i], i)
		}
		if outPad[i] >= w.Strides[i] {
			return nil, fmt.Errorf("output_padding %v must be smaller than strides %v", outPad, w.Strides)
		}
		w.In[i] = w.Strides[i]*(in[i]-1) + outPad[i] + w.Extent(i) - w.PadBegin[i] - w.PadEnd[i]
		if w.In[i] < 1 {
			return nil, fmt.Errorf("output size %d along spatial dim %d is not positive (pads %d, %d too large)",
				w.In[i], i, w.PadBegin[i], w.PadEnd[i])
		}
	}
	return w, nil
}

// convGroup reads the group attribute.
func convGroup(a Attrs) (int64, error) {
	g := a.Int("group", 1)
	if g < 1 {
		return 0, fmt.Errorf("group %d must be >= 1", g)
	}
	return g, nil
}

func dimsOf(s Shape) []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		out[i] = d.Size
	}
	return out
}

func spatialShape(n, c Dim, sp []int64) Shape {
	s := Shape{n, c}
	for _, d := range sp {
		s = append(s, C(d))
	}
	return s
}

// filterOperand checks w [A, B, k...] against the spatial rank r of x.
func filterOperand(x, w Type, r int) error {
	if w.DType != x.DType {
		return fmt.Errorf("x is %s but w is %s", x.DType, w.DType)
	}
	if len(w.Shape) != r+2 || !w.Shape.IsStatic() {
		return fmt.Errorf("w must be a constant-shape [out channels, in channels/group, k...] of rank %d for x of rank %d, is %s", r+2, r+2, w.Shape)
	}
	return nil
}

func inferConv(args []Type, a Attrs) (Type, error) {
	x, w := args[0], args[1]
	in, err := spatialOperand("x", x)
	if err != nil {
		return Type{}, err
	}
	if err := filterOperand(x, w, len(in)); err != nil {
		return Type{}, err
	}
	g, err := convGroup(a)
	if err != nil {
		return Type{}, err
	}
	c, ws := x.Shape[1].Size, dimsOf(w.Shape)
	if c%g != 0 || ws[0]%g != 0 {
		return Type{}, fmt.Errorf("group %d must divide the input channels %d and the output channels %d", g, c, ws[0])
	}
	if ws[1]*g != c {
		return Type{}, fmt.Errorf("w %s has %d input channels per group, x has %d channels in %d groups (want w[1] = %d)", w.Shape, ws[1], c, g, c/g)
	}
	win, err := ConvWindow(a, in, ws[2:])
	if err != nil {
		return Type{}, err
	}
	return Type{DType: x.DType, Shape: spatialShape(x.Shape[0], C(ws[0]), win.Out)}, nil
}

func inferConvTranspose(args []Type, a Attrs) (Type, error) {
	x, w := args[0], args[1]
	in, err := spatialOperand("x", x)
	if err != nil {
		return Type{}, err
	}
	if err := filterOperand(x, w, len(in)); err != nil {
		return Type{}, err
	}
	g, err := convGroup(a)
	if err != nil {
		return Type{}, err
	}
	c, ws := x.Shape[1].Size, dimsOf(w.Shape)
	if c%g != 0 {
		return Type{}, fmt.Errorf("group %d must divide the input channels %d", g, c)
	}
	if ws[0] != c {
		return Type{}, fmt.Errorf("w %s must have the input channels %d of x first ([C, M/group, k...])", w.Shape, c)
	}
	win, err := ConvTransposeWindow(a, in, ws[2:])
	if err != nil {
		return Type{}, err
	}
	return Type{DType: x.DType, Shape: spatialShape(x.Shape[0], C(ws[1]*g), win.In)}, nil
}

func inferConvFilterGrad(args []Type, a Attrs) (Type, error) {
	x, dy := args[0], args[1]
	in, err := spatialOperand("x", x)
	if err != nil {
		return Type{}, err
	}
	out, err := spatialOperand("dy", dy)
	if err != nil {
		return Type{}, err
	}
	if dy.DType != x.DType || len(out) != len(in) || dy.Shape[0] != x.Shape[0] {
		return Type{}, fmt.Errorf("dy %s must have x's dtype, batch and rank (x is %s)", dy, x)
	}
	g, err := convGroup(a)
	if err != nil {
		return Type{}, err
	}
	c, m := x.Shape[1].Size, dy.Shape[1].Size
	if c%g != 0 || m%g != 0 {
		return Type{}, fmt.Errorf("group %d must divide the input channels %d and the output channels %d", g, c, m)
	}
	kernel, err := intsAttr(a, "kernel_shape", len(in), 0, 1)
	if err != nil {
		return Type{}, err
	}
	win, err := ConvWindow(a, in, kernel)
	if err != nil {
		return Type{}, err
	}
	if !equalInts(win.Out, out) {
		return Type{}, fmt.Errorf("dy's spatial sizes %v are not the conv output %v of x", out, win.Out)
	}
	s := Shape{C(m), C(c / g)}
	for _, k := range kernel {
		s = append(s, C(k))
	}
	return Type{DType: x.DType, Shape: s}, nil
}

func inferPool(args []Type, a Attrs) (Type, error) {
	x := args[0]
	in, err := spatialOperand("x", x)
	if err != nil {
		return Type{}, err
	}
	win, err := PoolWindow(a, in)
	if err != nil {
		return Type{}, err
	}
	return Type{DType: x.DType, Shape: spatialShape(x.Shape[0], x.Shape[1], win.Out)}, nil
}

func inferPoolGrad(fwd string) func([]Type, Attrs) (Type, error) {
	return func(args []Type, a Attrs) (Type, error) {
		x, dy := args[0], args[1]
		y, err := inferPool(args[:1], a)
		if err != nil {
			return Type{}, err
		}
		if !dy.Equal(y) {
			return Type{}, fmt.Errorf("dy %s must have the type %s of %s's result", dy, y, fwd)
		}
		return Type{DType: x.DType, Shape: x.Shape.Clone()}, nil
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// String prints the window compactly, for error messages and comments.
func (w *Window) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "in %v out %v kernel %v strides %v dilations %v pads %v/%v", w.In, w.Out, w.Kernel, w.Strides, w.Dilations, w.PadBegin, w.PadEnd)
	return b.String()
}
