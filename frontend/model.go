package frontend

import (
	"fmt"

	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/passes"
	"github.com/dlc-project/dlc/runtime"
)

// Model is a loaded model description, whatever file it came from: the
// layers, the loss and the training settings. Build traces it into IR.
type Model struct {
	Name   string
	Input  []int64 // the shape of one sample
	Layers []Layer
	Loss   string // one of Losses (see losses.go)
	// LossOptions are the loss's settings (from_logits, Huber's delta).
	LossOptions LossOptions
	Optimizer   *passes.Optimizer
	Metrics     []string // "accuracy", "top_k_accuracy"
	// TopK is the k of the top_k_accuracy metric (0 without it).
	TopK  int
	Train TrainSettings
}

// TrainSettings are the training loop's settings.
type TrainSettings struct {
	Epochs    int
	BatchSize int
	Dataset   string // "mnist"
	Shuffle   bool
	Seed      uint64
}

// Layer is one layer of a sequential model.
type Layer struct {
	Type       string // dense, activation, dropout, flatten
	Name       string
	Units      int64
	Activation string // relu, sigmoid, tanh, softmax, linear
	UseBias    bool
	KernelInit runtime.InitSpec
	BiasInit   runtime.InitSpec
	Rate       float64 // dropout
	// Frozen layers keep their weights: they are not trained (Keras's
	// trainable: false).
	Frozen bool
	// Image holds the settings of the image layers (conv2d, pooling,
	// reshape; see layers_conv.go).
	Image *ImageSpec
	// Norm holds the settings of the normalisation and embedding layers
	// (layers_norm.go).
	Norm *NormSpec
}

// Layer types.
const (
	LayerDense      = "dense"
	LayerActivation = "activation"
	LayerDropout    = "dropout"
	LayerFlatten    = "flatten"
)

// Activations maps each supported activation name to whether it is known.
var Activations = []string{"linear", "relu", "sigmoid", "tanh", "softmax"}

// Losses are the supported losses.
var Losses = []string{LossCategoricalCE, LossSparseCategoricalCE, LossBinaryCE, LossMSE, LossMAE, LossHuber}

// Batch is the symbol of the batch dim.
const Batch = "N"

func isActivation(a string) bool {
	for _, x := range Activations {
		if x == a {
			return true
		}
	}
	return false
}

// Build traces the model into a module with two functions: predict (x) ->
// (output) and, when the model has a loss and an optimizer, train_step
// (x, y) -> (loss, output), the forward pass and the loss, which the
// autodiff and optimizer passes complete.
func (md *Model) Build() (*ir.Module, error) {
	if len(md.Input) == 0 {
		return nil, fmt.Errorf("model %q: the input shape is not given", md.Name)
	}
	m := &ir.Module{Name: md.Name}
	inType := ir.Type{DType: ir.F32, Shape: append(ir.Shape{ir.S(Batch)}, ir.ShapeOf(md.Input...)...)}

	pt := NewTracer(m, passes.Predict)
	x := pt.Input("x", inType)
	out, _, err := md.forward(pt, x)
	if err != nil {
		return nil, err
	}
	pt.Return([]string{"output"}, out)
	if err := pt.Err(); err != nil {
		return nil, err
	}
	if md.Loss == "" || md.Optimizer == nil {
		return m, nil
	}
	tt := NewTracer(m, passes.TrainStep)
	x = tt.Input("x", inType)
	out, logits, err := md.forward(tt, x)
	if err != nil {
		return nil, err
	}
	y := tt.Input("y", md.targetType(out))
	tt.Scope("loss")
	loss, err := md.lossGraph(out, y, logits)
	if err != nil {
		return nil, err
	}
	tt.Return([]string{"loss", "output"}, loss, out)
	if err := tt.Err(); err != nil {
		return nil, err
	}
	return m, nil
}

func allAxes(r int) []int {
	a := make([]int, r)
	for i := range a {
		a[i] = i
	}
	return a
}

// LayerError is a problem with one layer of a model.
type LayerError struct {
	Index int // in Model.Layers
	Name  string
	Type  string
	Err   error
}

func (e *LayerError) Error() string { return fmt.Sprintf("layer %q (%s): %v", e.Name, e.Type, e.Err) }

func (e *LayerError) Unwrap() error { return e.Err }

// forward traces the layers. It returns the output and, when the last
// layer ends in softmax, the logits that fed it (for a stable loss).
func (md *Model) forward(t *Tracer, x Tensor) (out Tensor, logits *Tensor, err error) {
	h := x
	for i, l := range md.Layers {
		name := l.Name
		if name == "" {
			name = fmt.Sprintf("%s_%d", l.Type, i)
		}
		out, logits, err = md.layer(t, name, l, h)
		if err != nil {
			return out, nil, &LayerError{Index: i, Name: name, Type: l.Type, Err: err}
		}
		h = out
	}
	return h, logits, nil
}

// layer traces one layer.
func (md *Model) layer(t *Tracer, name string, l Layer, h Tensor) (out Tensor, logits *Tensor, err error) {
	switch l.Type {
	case LayerDense:
		if len(h.Shape()) != 2 {
			return out, nil, fmt.Errorf("input has shape %s; dense needs [batch, features] (add a flatten layer)", h.Shape())
		}
		in := h.Shape()[1]
		if !in.IsConst() {
			return out, nil, fmt.Errorf("input features %s are not a constant", in)
		}
		// Keras's defaults for a Layer built in Go without initializers.
		if l.KernelInit.Kind == "" {
			l.KernelInit.Kind = "glorot_uniform"
		}
		if l.BiasInit.Kind == "" {
			l.BiasInit.Kind = "zeros"
		}
		kernel := t.Weight(name+"/kernel", ir.TensorOf(ir.F32, in, ir.C(l.Units)), !l.Frozen, initAttrs(l.KernelInit, in.Size, l.Units))
		h = h.MatMul(kernel)
		if l.UseBias {
			bias := t.Weight(name+"/bias", ir.TensorOf(ir.F32, ir.C(l.Units)), !l.Frozen, initAttrs(l.BiasInit, l.Units, l.Units))
			h = h.Add(bias)
		}
		var lg *Tensor
		h, lg, err = activate(h, l.Activation, name)
		if err != nil {
			return out, nil, err
		}
		logits = lg
	case LayerActivation:
		var lg *Tensor
		h, lg, err = activate(h, l.Activation, name)
		if err != nil {
			return out, nil, err
		}
		logits = lg
	case LayerDropout:
		h = md.dropout(t, name, l, h) // the identity in predict
	case LayerFlatten:
		n, syms := h.Shape()[1:].NumElements()
		if len(syms) > 0 {
			return out, nil, fmt.Errorf("shape %s has symbolic dims", h.Shape())
		}
		h = h.Reshape(ir.Shape{ir.S(Batch), ir.C(n)})
	default:
		if normLayerTypes[l.Type] {
			if h, err = md.normLayer(t, name, l, h, t.Func().Name == passes.TrainStep); err != nil {
				return out, nil, err
			}
			break
		}
		if _, ok := imageLayerAliases[l.Type]; !ok {
			return out, nil, fmt.Errorf("unknown layer type %q", l.Type)
		}
		if h, logits, err = imageLayer(t, name, l, h); err != nil {
			return out, nil, err
		}
	}
	if err := t.Err(); err != nil {
		return out, nil, err
	}
	return h, logits, nil
}

func activate(h Tensor, act, layer string) (Tensor, *Tensor, error) {
	switch act {
	case "", "linear":
		return h, nil, nil
	case "relu":
		return h.Relu(), nil, nil
	case "sigmoid":
		return h.Sigmoid(), nil, nil
	case "tanh":
		return h.Tanh(), nil, nil
	case "softmax":
		logits := h
		return h.Softmax(-1), &logits, nil
	}
	return h, nil, fmt.Errorf("unknown activation %q", act)
}

// initAttrs records an initializer on a weight.
func initAttrs(s runtime.InitSpec, fanIn, fanOut int64) ir.Attrs {
	a := ir.Attrs{"init": s.Kind, "fan_in": fanIn, "fan_out": fanOut}
	set := func(k string, v float64, def float64) {
		if v != def {
			a[k] = v
		}
	}
	set("scale", s.Scale, 0)
	set("mean", s.Mean, 0)
	set("stddev", s.Stddev, 0)
	set("minval", s.Minval, 0)
	set("maxval", s.Maxval, 0)
	set("value", s.Value, 0)
	if s.Mode != "" {
		a["mode"] = s.Mode
	}
	if s.Distribution != "" {
		a["distribution"] = s.Distribution
	}
	return a
}
