package frontend

import (
	"fmt"
	"strings"

	"github.com/dlc-project/dlc/frontend/jsontree"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/runtime"
)

// Image layers: conv2d, max/average pooling, global average pooling and
// reshape. Their tensors are channels_last, [N, height, width, channels],
// as in Keras (and as model.json and Keras inputs are), so that a model
// means what it means in Keras, flatten order included. The IR's conv and
// pooling ops are channels-first (NCHW): each layer transposes its input to
// NCHW and its result back. Between two image layers the pair of
// transposes composes to the identity, which the simplify pass removes, so
// a stack of image layers is converted once at its start and once at its
// end. (An activation layer between two image layers keeps its pair;
// conv2d's own activation runs in NCHW and does not.)

// Layer types of the image layers.
const (
	LayerConv2D               = "conv2d"
	LayerMaxPooling2D         = "max_pooling2d"
	LayerAveragePooling2D     = "average_pooling2d"
	LayerGlobalAvgPooling2D   = "global_average_pooling2d"
	LayerReshape              = "reshape"
	imageLayerTypesForMessage = "conv2d, max_pooling2d, average_pooling2d, global_average_pooling2d, reshape"
)

// imageLayerAliases maps the other accepted spellings of the image layer
// types (Keras's class-name aliases in snake case) to the type.
var imageLayerAliases = map[string]string{
	LayerConv2D: LayerConv2D, LayerMaxPooling2D: LayerMaxPooling2D, LayerAveragePooling2D: LayerAveragePooling2D,
	LayerGlobalAvgPooling2D: LayerGlobalAvgPooling2D, LayerReshape: LayerReshape,
	"max_pool2d": LayerMaxPooling2D, "average_pool2d": LayerAveragePooling2D, "avg_pool2d": LayerAveragePooling2D,
	"global_average_pool2d": LayerGlobalAvgPooling2D, "global_avg_pool2d": LayerGlobalAvgPooling2D,
}

// ImageSpec holds the settings of an image layer.
type ImageSpec struct {
	Filters     int64    // conv2d: output channels
	Kernel      [2]int64 // conv2d: kernel_size; pooling: pool_size
	Strides     [2]int64
	Dilation    [2]int64 // conv2d: dilation_rate
	Padding     string   // "valid" or "same"
	TargetShape []int64  // reshape: the shape of one sample; one entry may be -1
}

// samePads gives TensorFlow's "same" padding along one dim: the output has
// ceil(in/stride) positions and the padding they need is split evenly, the
// odd one after.
func samePads(in, k, stride, dilation int64) (begin, end int64) {
	out := (in + stride - 1) / stride
	total := max((out-1)*stride+(k-1)*dilation+1-in, 0)
	return total / 2, total - total/2
}

// windowAttrs renders a layer's strides, padding (and dilation) as IR
// attributes for an input of spatial size hw.
func (s *ImageSpec) windowAttrs(hw [2]int64, dilations bool) ir.Attrs {
	pads := make([]int64, 4)
	if s.Padding == "same" {
		for i := range 2 {
			d := int64(1)
			if dilations {
				d = s.Dilation[i]
			}
			pads[i], pads[2+i] = samePads(hw[i], s.Kernel[i], s.Strides[i], d)
		}
	}
	a := ir.Attrs{"strides": []int64{s.Strides[0], s.Strides[1]}, "pads": pads}
	if dilations {
		a["dilations"] = []int64{s.Dilation[0], s.Dilation[1]}
	}
	return a
}

// toNCHW checks that h is an image batch and transposes it to NCHW.
func toNCHW(h Tensor, typ string) (Tensor, error) {
	s := h.Shape()
	if len(s) != 4 {
		return h, fmt.Errorf("input has shape %s; %s needs [batch, height, width, channels] (add a reshape layer)", s, typ)
	}
	return h.Transpose(0, 3, 1, 2), nil
}

func toNHWC(h Tensor) Tensor { return h.Transpose(0, 2, 3, 1) }

// imageLayer traces an image layer on h (channels_last).
func imageLayer(t *Tracer, name string, l Layer, h Tensor) (out Tensor, logits *Tensor, err error) {
	s := l.Image
	if s == nil {
		return h, nil, fmt.Errorf("layer type %s has no settings", l.Type)
	}
	if l.Type == LayerReshape {
		return reshapeLayer(h, s.TargetShape)
	}
	x, err := toNCHW(h, l.Type)
	if err != nil {
		return h, nil, err
	}
	hw := [2]int64{x.Shape()[2].Size, x.Shape()[3].Size}
	switch l.Type {
	case LayerConv2D:
		c := x.Shape()[1].Size
		kh, kw := s.Kernel[0], s.Kernel[1]
		if l.KernelInit.Kind == "" {
			l.KernelInit.Kind = "glorot_uniform"
		}
		if l.BiasInit.Kind == "" {
			l.BiasInit.Kind = "zeros"
		}
		// The kernel is stored [filters, channels, kh, kw] (the conv op's
		// layout, not Keras's [kh, kw, channels, filters]); the fans are
		// Keras's: the receptive field times the channels in or out.
		kernel := t.Weight(name+"/kernel", ir.TensorOf(ir.F32, ir.C(s.Filters), ir.C(c), ir.C(kh), ir.C(kw)), !l.Frozen,
			initAttrs(l.KernelInit, c*kh*kw, s.Filters*kh*kw))
		x = t.Op(ir.OpConv, s.windowAttrs(hw, true), x, kernel)
		if l.UseBias {
			bias := t.Weight(name+"/bias", ir.TensorOf(ir.F32, ir.C(s.Filters)), !l.Frozen, initAttrs(l.BiasInit, s.Filters, s.Filters))
			x = x.Add(bias.Reshape(ir.ShapeOf(s.Filters, 1, 1)))
		}
		if l.Activation == "softmax" {
			// Over the channels: Keras's last axis.
			return activate(toNHWC(x), l.Activation, name)
		}
		x, _, err = activate(x, l.Activation, name)
		if err != nil {
			return h, nil, err
		}
		return toNHWC(x), nil, nil
	case LayerMaxPooling2D, LayerAveragePooling2D:
		a := s.windowAttrs(hw, false)
		a["kernel_shape"] = []int64{s.Kernel[0], s.Kernel[1]}
		op := ir.OpMaxPool
		if l.Type == LayerAveragePooling2D {
			// TensorFlow averages over the window's input elements only.
			op = ir.OpAvgPool
		}
		return toNHWC(t.Op(op, a, x)), nil, nil
	case LayerGlobalAvgPooling2D:
		return x.Mean(false, 2, 3), nil, nil
	}
	return h, nil, fmt.Errorf("unknown layer type %q", l.Type)
}

// reshapeLayer gives h the shape [N, target...], where one entry of
// target may be -1 (the remaining size), as in Keras.
func reshapeLayer(h Tensor, target []int64) (Tensor, *Tensor, error) {
	n, syms := h.Shape()[1:].NumElements()
	if len(syms) > 0 {
		return h, nil, fmt.Errorf("input shape %s has symbolic dims", h.Shape())
	}
	dims := append([]int64(nil), target...)
	known, free := int64(1), -1
	for i, d := range dims {
		if d == -1 {
			free = i
			continue
		}
		known *= d
	}
	if free >= 0 {
		if known == 0 || n%known != 0 {
			return h, nil, fmt.Errorf("cannot reshape %d elements per sample to %s", n, dimsString(target))
		}
		dims[free] = n / known
		known *= dims[free]
	}
	if known != n {
		return h, nil, fmt.Errorf("cannot reshape %d elements per sample (shape %s) to %s (%d elements)", n, h.Shape()[1:], dimsString(target), known)
	}
	return h.Reshape(append(ir.Shape{ir.S(Batch)}, ir.ShapeOf(dims...)...)), nil, nil
}

// imageOutShape is the per-sample shape an image layer gives an input of
// per-sample shape in (channels_last), or nil when in does not fit it (the
// trace then reports why).
func imageOutShape(l Layer, in []int64) []int64 {
	s := l.Image
	if s == nil || in == nil {
		return nil
	}
	if l.Type == LayerReshape {
		n := int64(1)
		for _, d := range in {
			n *= d
		}
		out := append([]int64(nil), s.TargetShape...)
		known := int64(1)
		for _, d := range out {
			if d != -1 {
				known *= d
			}
		}
		for i, d := range out {
			if d == -1 && known > 0 {
				out[i] = n / known
			}
		}
		return out
	}
	if len(in) != 3 {
		return nil
	}
	if l.Type == LayerGlobalAvgPooling2D {
		return []int64{in[2]}
	}
	out := []int64{0, 0, in[2]}
	if l.Type == LayerConv2D {
		out[2] = s.Filters
	}
	for i := range 2 {
		d := int64(1)
		if l.Type == LayerConv2D {
			d = s.Dilation[i]
		}
		ext := (s.Kernel[i]-1)*d + 1
		if s.Padding == "same" {
			out[i] = (in[i] + s.Strides[i] - 1) / s.Strides[i]
		} else if in[i] >= ext {
			out[i] = (in[i]-ext)/s.Strides[i] + 1
		} else {
			return nil
		}
	}
	return out
}

// pairField reads an integer or a list of two positive integers (Keras's
// kernel_size, strides, pool_size, dilation_rate).
func pairField(n *jsontree.Node) ([2]int64, error) {
	var p [2]int64
	if n.Kind == jsontree.Array {
		if len(n.Items) != 2 {
			return p, n.Errorf("want two integers [height, width], got %d", len(n.Items))
		}
		for i, it := range n.Items {
			v, err := it.AsInt()
			if err != nil {
				return p, err
			}
			if v < 1 || v > 1<<16 {
				return p, it.Errorf("must be a positive integer up to 65536, is %d", v)
			}
			p[i] = v
		}
		return p, nil
	}
	v, err := n.AsInt()
	if err != nil {
		return p, n.Errorf("want an integer or two integers [height, width]")
	}
	if v < 1 || v > 1<<16 {
		return p, n.Errorf("must be a positive integer up to 65536, is %d", v)
	}
	return [2]int64{v, v}, nil
}

func paddingField(n *jsontree.Node) (string, error) {
	s, err := n.AsString()
	if err != nil {
		return "", err
	}
	if s != "valid" && s != "same" {
		return "", n.Errorf(`unknown padding %q (want "valid" or "same")`, s)
	}
	return s, nil
}

// imageFields reads the settings an image layer shares between dlc's
// schema and Keras's config (same names in both): it returns the fields
// it read, for the unknown-field check. Absent fields take Keras's
// defaults. get returns a field, nil when absent (or null in Keras).
func imageFields(l *Layer, n *jsontree.Node, get func(string) *jsontree.Node) ([]string, error) {
	s := &ImageSpec{Strides: [2]int64{1, 1}, Dilation: [2]int64{1, 1}, Padding: "valid"}
	l.Image = s
	var err error
	pair := func(field string, dst *[2]int64, required bool) error {
		fn := get(field)
		if fn == nil {
			if required {
				return n.Errorf("missing field %q", field)
			}
			return nil
		}
		*dst, err = pairField(fn)
		return err
	}
	padding := func() error {
		if fn := get("padding"); fn != nil {
			s.Padding, err = paddingField(fn)
		}
		return err
	}
	switch l.Type {
	case LayerConv2D:
		fn := get("filters")
		if fn == nil {
			return nil, n.Errorf(`missing field "filters"`)
		}
		if s.Filters, err = fn.AsInt(); err != nil {
			return nil, err
		}
		if s.Filters < 1 || s.Filters > 1<<16 {
			return nil, fn.Errorf("filters must be a positive integer up to 65536, is %d", s.Filters)
		}
		if err := pair("kernel_size", &s.Kernel, true); err != nil {
			return nil, err
		}
		if err := pair("strides", &s.Strides, false); err != nil {
			return nil, err
		}
		if err := pair("dilation_rate", &s.Dilation, false); err != nil {
			return nil, err
		}
		if (s.Strides[0] > 1 || s.Strides[1] > 1) && (s.Dilation[0] > 1 || s.Dilation[1] > 1) {
			return nil, n.Errorf("strides > 1 together with dilation_rate > 1 is not allowed (as in Keras)")
		}
		if err := padding(); err != nil {
			return nil, err
		}
		l.UseBias = true
		if bn := get("use_bias"); bn != nil {
			if l.UseBias, err = bn.AsBool(); err != nil {
				return nil, err
			}
		}
		return []string{"filters", "kernel_size", "strides", "dilation_rate", "padding", "use_bias"}, nil
	case LayerMaxPooling2D, LayerAveragePooling2D:
		s.Kernel = [2]int64{2, 2}
		if err := pair("pool_size", &s.Kernel, false); err != nil {
			return nil, err
		}
		s.Strides = s.Kernel // Keras: strides default to pool_size
		if err := pair("strides", &s.Strides, false); err != nil {
			return nil, err
		}
		if err := padding(); err != nil {
			return nil, err
		}
		return []string{"pool_size", "strides", "padding"}, nil
	case LayerGlobalAvgPooling2D:
		return nil, nil
	case LayerReshape:
		fn := get("target_shape")
		if fn == nil {
			return nil, n.Errorf(`missing field "target_shape"`)
		}
		if err := fn.Expect(jsontree.Array); err != nil {
			return nil, err
		}
		if len(fn.Items) == 0 {
			return nil, fn.Errorf("target_shape must have at least one dim")
		}
		free := false
		for _, it := range fn.Items {
			v, err := it.AsInt()
			if err != nil {
				return nil, err
			}
			if v == -1 && !free {
				free = true
			} else if v < 1 || v > 1<<31 {
				return nil, it.Errorf("dim %d must be a positive integer (or -1, once, for the remaining size)", v)
			}
			s.TargetShape = append(s.TargetShape, v)
		}
		return []string{"target_shape"}, nil
	}
	return nil, n.Errorf("unknown layer type %q", l.Type)
}

// schemaImageLayer reads the fields of an image layer in dlc's schema and
// returns the fields allowed on it.
func schemaImageLayer(n *jsontree.Node, l *Layer) ([]string, error) {
	fields, err := imageFields(l, n, n.Get)
	if err != nil {
		return nil, err
	}
	allowed := append([]string{"type", "name"}, fields...)
	if l.Type != LayerConv2D {
		return allowed, nil
	}
	if tr := n.Get("trainable"); tr != nil {
		trainable, err := tr.AsBool()
		if err != nil {
			return nil, err
		}
		l.Frozen = !trainable
	}
	if l.Activation, err = schemaActivation(n, false); err != nil {
		return nil, err
	}
	l.KernelInit = runtime.InitSpec{Kind: "glorot_uniform"}
	l.BiasInit = runtime.InitSpec{Kind: "zeros"}
	if in := n.Get("kernel_initializer"); in != nil {
		if l.KernelInit, err = schemaInitializer(in); err != nil {
			return nil, err
		}
	}
	if in := n.Get("bias_initializer"); in != nil {
		if l.BiasInit, err = schemaInitializer(in); err != nil {
			return nil, err
		}
	}
	return append(allowed, "activation", "kernel_initializer", "bias_initializer", "trainable"), nil
}

// kerasImageClasses maps the Keras classes of image layers to layer types.
var kerasImageClasses = map[string]string{
	"Conv2D": LayerConv2D, "Convolution2D": LayerConv2D,
	"MaxPooling2D": LayerMaxPooling2D, "MaxPool2D": LayerMaxPooling2D,
	"AveragePooling2D": LayerAveragePooling2D, "AvgPool2D": LayerAveragePooling2D,
	"GlobalAveragePooling2D": LayerGlobalAvgPooling2D, "GlobalAvgPool2D": LayerGlobalAvgPooling2D,
	"Reshape": LayerReshape,
}

// kerasImageConfig reads the config of a Keras image layer (the fields
// every layer has are read by readConfig).
func (kl *kerasLayer) kerasImageConfig(cfg *jsontree.Node) error {
	l := &kl.layer
	get := func(f string) *jsontree.Node {
		if fn := cfg.Get(f); fn != nil && fn.Kind != jsontree.Null {
			return fn
		}
		return nil
	}
	if _, err := imageFields(l, cfg, get); err != nil {
		return kl.wrap(err)
	}
	if l.Type == LayerReshape {
		return nil
	}
	if fn := get("data_format"); fn != nil {
		s, err := fn.AsString()
		if err != nil {
			return kl.wrap(err)
		}
		if s != "channels_last" {
			return kl.errorf(fn, `data_format %q is not supported (only "channels_last", Keras's default)`, s)
		}
	}
	switch l.Type {
	case LayerGlobalAvgPooling2D:
		if fn := get("keepdims"); fn != nil {
			b, err := fn.AsBool()
			if err != nil {
				return kl.wrap(err)
			}
			if b {
				return kl.errorf(fn, "keepdims true is not supported (it must be false or null)")
			}
		}
	case LayerConv2D:
		var err error
		if l.Activation, err = kl.activation(cfg, false); err != nil {
			return err
		}
		if fn := get("groups"); fn != nil {
			g, err := fn.AsInt()
			if err != nil {
				return kl.wrap(err)
			}
			if g != 1 {
				return kl.errorf(fn, "groups %d is not supported (it must be 1)", g)
			}
		}
		l.KernelInit = runtime.InitSpec{Kind: "glorot_uniform"}
		l.BiasInit = runtime.InitSpec{Kind: "zeros"}
		if in := cfg.Get("kernel_initializer"); in != nil {
			if l.KernelInit, err = kl.initializer(in, "kernel_initializer"); err != nil {
				return err
			}
		}
		if in := cfg.Get("bias_initializer"); in != nil {
			if l.BiasInit, err = kl.initializer(in, "bias_initializer"); err != nil {
				return err
			}
		}
		for _, f := range []string{"kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint"} {
			if fn := get(f); fn != nil {
				return kl.errorf(fn, "%s is not supported (it must be null)", f)
			}
		}
	}
	return nil
}

// knownLayerTypes lists the schema's layer types for error messages.
func knownLayerTypes() string {
	return strings.Join([]string{LayerDense, LayerActivation, LayerDropout, LayerFlatten}, ", ") + ", " + imageLayerTypesForMessage +
		", " + LayerBatchNorm + ", " + LayerLayerNorm + ", " + LayerEmbedding
}
