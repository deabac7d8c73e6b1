package frontend

import (
	"fmt"

	"github.com/dlc-project/dlc/frontend/jsontree"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/runtime"
)

// Normalisation and embedding layers, decomposed into existing IR ops
// (reduce_mean, sub, mul, sqrt, …; embedding as a gather), so that
// they need no op of their own and autodiff derives their gradients,
// batch statistics included.

// Layer types of this file.
const (
	LayerBatchNorm = "batch_normalization"
	LayerLayerNorm = "layer_normalization"
	LayerEmbedding = "embedding"
)

// normLayerTypes are the layer types of this file.
var normLayerTypes = map[string]bool{LayerBatchNorm: true, LayerLayerNorm: true, LayerEmbedding: true}

// kerasNormClasses maps Keras classes to the layer types of this file.
var kerasNormClasses = map[string]string{
	"BatchNormalization": LayerBatchNorm, "LayerNormalization": LayerLayerNorm, "Embedding": LayerEmbedding,
}

// NormSpec holds the settings of a normalisation or embedding layer.
type NormSpec struct {
	// Momentum (batch norm) is Keras's: moving = momentum·moving +
	// (1−momentum)·batch, which is torch's with its momentum = 1 −
	// Momentum.
	Momentum float64
	Epsilon  float64
	// Center adds the learned offset beta, Scale multiplies by the
	// learned gamma.
	Center, Scale bool
	// Initializers of beta, gamma, and batch norm's moving statistics.
	BetaInit, GammaInit, MeanInit, VarInit runtime.InitSpec
	// Embedding: the vocabulary size and the vector size; the table is
	// Kernel-initialised (Layer.KernelInit).
	InputDim, OutputDim int64
	// Axis is the normalised axis as given (Keras counts the batch dim);
	// only the last is supported, checked when tracing. AxisSet says it
	// was given; without it the axis is the last.
	Axis    int64
	AxisSet bool
}

// defaultNorm gives Keras's defaults of a layer type.
func defaultNorm(typ string) *NormSpec {
	s := &NormSpec{Momentum: 0.99, Epsilon: 1e-3, Center: true, Scale: true,
		BetaInit: runtime.InitSpec{Kind: "zeros"}, GammaInit: runtime.InitSpec{Kind: "ones"},
		MeanInit: runtime.InitSpec{Kind: "zeros"}, VarInit: runtime.InitSpec{Kind: "ones"}}
	if typ == LayerLayerNorm {
		s.Momentum = 0
	}
	return s
}

// normLayer traces a layer of this file. train says whether it runs in
// train_step (batch norm: batch statistics and moving-statistics updates).
func (md *Model) normLayer(t *Tracer, name string, l Layer, h Tensor, train bool) (Tensor, error) {
	s := l.Norm
	if s == nil {
		s = defaultNorm(l.Type)
	}
	shape := h.Shape()
	if l.Type == LayerEmbedding {
		return embedding(t, name, l, s, h)
	}
	if len(shape) < 2 {
		return h, fmt.Errorf("input has shape %s; %s needs [batch, ..., features]", shape, l.Type)
	}
	if r := int64(len(shape)); s.AxisSet && s.Axis != -1 && s.Axis != r-1 {
		return h, fmt.Errorf("axis %d is not supported: dlc normalises over the last axis only (-1, or %d for an input of shape %s)", s.Axis, r-1, shape)
	}
	c := shape[len(shape)-1]
	if !c.IsConst() {
		return h, fmt.Errorf("the last dim of %s is not a constant", shape)
	}
	vec := ir.TensorOf(ir.F32, c)
	axes := allAxes(len(shape))
	var xhat Tensor
	eps := h.ScalarLike(s.Epsilon)
	switch l.Type {
	case LayerLayerNorm:
		// Over the last axis of each sample, biased variance (as Keras
		// and torch.nn.LayerNorm).
		last := len(shape) - 1
		mean := h.Mean(true, last)
		d := h.Sub(mean)
		v := d.Mul(d).Mean(true, last)
		xhat = d.Div(v.Add(eps).Sqrt())
	case LayerBatchNorm:
		over := axes[:len(axes)-1] // every axis but the channels
		mm := t.Weight(name+"/moving_mean", vec, false, initAttrs(s.MeanInit, c.Size, c.Size))
		mv := t.Weight(name+"/moving_variance", vec, false, initAttrs(s.VarInit, c.Size, c.Size))
		// A frozen batch norm runs in inference mode, as in Keras 2 and 3.
		if !train || l.Frozen {
			xhat = h.Sub(mm).Div(mv.Add(eps).Sqrt())
			break
		}
		mean := h.Mean(false, over...)
		d := h.Sub(mean)
		v := d.Mul(d).Mean(false, over...)
		xhat = d.Div(v.Add(eps).Sqrt())
		// The moving statistics as torch.nn.BatchNorm updates its
		// running ones: the unbiased batch variance, n/(n−1)·v over the n
		// values per channel (n is the run's batch times the other dims;
		// n = 1 keeps v rather than divide by zero).
		ov := make([]int64, len(over))
		for i, a := range over {
			ov[i] = int64(a)
		}
		n := t.Op(ir.OpSize, ir.Attrs{"axes": ov, "dtype": ir.F32}, h)
		one := h.ScalarLike(1)
		unbiased := v.Mul(n.Div(n.Sub(one).Maximum(one)))
		m := h.ScalarLike(s.Momentum)
		rest := h.ScalarLike(1 - s.Momentum)
		t.b.Update(name+"/moving_mean", mm.Mul(m).Add(mean.Mul(rest)).V)
		t.b.Update(name+"/moving_variance", mv.Mul(m).Add(unbiased.Mul(rest)).V)
	}
	if s.Scale {
		xhat = xhat.Mul(t.Weight(name+"/gamma", vec, !l.Frozen, initAttrs(s.GammaInit, c.Size, c.Size)))
	}
	if s.Center {
		xhat = xhat.Add(t.Weight(name+"/beta", vec, !l.Frozen, initAttrs(s.BetaInit, c.Size, c.Size)))
	}
	return xhat, nil
}

// embedding maps indices [N, L] (integers held as floats) to rows of the
// table [input_dim, output_dim]: [N, L, output_dim], a gather along the
// table's rows of the indices cast to i64 (truncating, as Keras casts its
// float inputs). Its gradient scatters the incoming rows back into the
// table, adding up the rows of repeated indices. As gather, a negative
// index counts from the end (ONNX's rule) and one outside
// [−input_dim, input_dim) is an error of ir/interp and a panic of the
// generated code.
func embedding(t *Tracer, name string, l Layer, s *NormSpec, h Tensor) (Tensor, error) {
	shape := h.Shape()
	if len(shape) != 2 {
		return h, fmt.Errorf("input has shape %s; embedding needs [batch, sequence] of indices", shape)
	}
	v, d := s.InputDim, s.OutputDim
	init := l.KernelInit
	if init.Kind == "" {
		init = runtime.InitSpec{Kind: "random_uniform", Minval: -0.05, Maxval: 0.05}
	}
	table := t.Weight(name+"/embeddings", ir.TensorOf(ir.F32, ir.C(v), ir.C(d)), !l.Frozen, initAttrs(init, v, d))
	return table.Gather(0, h.Cast(ir.I64)), nil
}

// schemaNormLayer reads the fields of a layer of this file in dlc's
// schema and returns the fields it allows.
func schemaNormLayer(n *jsontree.Node, l *Layer) ([]string, error) {
	s := defaultNorm(l.Type)
	l.Norm = s
	allowed := []string{"type", "name", "trainable"}
	if tr := n.Get("trainable"); tr != nil {
		trainable, err := tr.AsBool()
		if err != nil {
			return nil, err
		}
		l.Frozen = !trainable
	}
	if err := normFields(l, n, n.Get); err != nil {
		return nil, err
	}
	switch l.Type {
	case LayerEmbedding:
		allowed = append(allowed, "input_dim", "output_dim", "embeddings_initializer")
	case LayerBatchNorm:
		allowed = append(allowed, "axis", "momentum", "epsilon", "center", "scale", "beta_initializer",
			"gamma_initializer", "moving_mean_initializer", "moving_variance_initializer")
	default:
		allowed = append(allowed, "axis", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer")
	}
	inits := map[string]*runtime.InitSpec{"beta_initializer": &s.BetaInit, "gamma_initializer": &s.GammaInit,
		"moving_mean_initializer": &s.MeanInit, "moving_variance_initializer": &s.VarInit, "embeddings_initializer": &l.KernelInit}
	for _, f := range allowed {
		p, ok := inits[f]
		if !ok {
			continue
		}
		if in := n.Get(f); in != nil {
			v, err := schemaInitializer(in)
			if err != nil {
				return nil, err
			}
			*p = v
		}
	}
	return allowed, nil
}

// normFields reads the settings shared by dlc's schema and Keras (get
// returns a field, nil when absent or, in Keras, null).
func normFields(l *Layer, at *jsontree.Node, get func(string) *jsontree.Node) error {
	s := l.Norm
	if l.Type == LayerEmbedding {
		for _, f := range []struct {
			name string
			p    *int64
		}{{"input_dim", &s.InputDim}, {"output_dim", &s.OutputDim}} {
			fn := get(f.name)
			if fn == nil {
				return at.Errorf(`missing field %q`, f.name)
			}
			v, err := fn.AsInt()
			if err != nil {
				return err
			}
			if v <= 0 || v > 1<<24 {
				return fn.Errorf("%s must be a positive integer up to 2^24, is %d", f.name, v)
			}
			*f.p = v
		}
		return nil
	}
	if an := get("axis"); an != nil {
		// Only the last axis (channels_last): -1, or a one-element list of
		// it. Keras counts the batch dim, so the last axis of a rank-r
		// input is also r−1, which is checked when tracing (AxisLast).
		ax := an
		if an.Kind == jsontree.Array {
			if len(an.Items) != 1 {
				return an.Errorf("axis has %d entries: dlc normalises over one axis, the last", len(an.Items))
			}
			ax = an.Items[0]
		}
		v, err := ax.AsInt()
		if err != nil {
			return err
		}
		s.Axis, s.AxisSet = v, true
	}
	for _, f := range []struct {
		name string
		p    *float64
	}{{"momentum", &s.Momentum}, {"epsilon", &s.Epsilon}} {
		if l.Type == LayerLayerNorm && f.name == "momentum" {
			continue
		}
		fn := get(f.name)
		if fn == nil {
			continue
		}
		v, err := fn.AsFloat()
		if err != nil {
			return err
		}
		if f.name == "momentum" && !(v >= 0 && v < 1) {
			return fn.Errorf("momentum must be in [0, 1), is %v", v)
		}
		if f.name == "epsilon" && !(v > 0 && v < 1e30) {
			return fn.Errorf("epsilon must be a positive number, is %v", v)
		}
		*f.p = v
	}
	for _, f := range []struct {
		name string
		p    *bool
	}{{"center", &s.Center}, {"scale", &s.Scale}} {
		if fn := get(f.name); fn != nil {
			v, err := fn.AsBool()
			if err != nil {
				return err
			}
			*f.p = v
		}
	}
	return nil
}

// kerasNormConfig reads the config of a Keras BatchNormalization,
// LayerNormalization or Embedding (the fields every layer has are read by
// readConfig).
func (kl *kerasLayer) kerasNormConfig(cfg *jsontree.Node) error {
	l := &kl.layer
	l.Norm = defaultNorm(l.Type)
	s := l.Norm
	get := func(f string) *jsontree.Node {
		if fn := cfg.Get(f); fn != nil && fn.Kind != jsontree.Null {
			return fn
		}
		return nil
	}
	if err := normFields(l, cfg, get); err != nil {
		return kl.wrap(err)
	}
	// Settings that must keep their defaults: a value that changes the
	// computation is an error; null (or false) is accepted.
	mustBeNull := []string{"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"}
	mustBeFalse := []string{}
	inits := map[string]*runtime.InitSpec{"beta_initializer": &s.BetaInit, "gamma_initializer": &s.GammaInit}
	switch l.Type {
	case LayerBatchNorm:
		inits["moving_mean_initializer"], inits["moving_variance_initializer"] = &s.MeanInit, &s.VarInit
		mustBeNull = append(mustBeNull, "renorm_clipping", "virtual_batch_size", "adjustment")
		mustBeFalse = append(mustBeFalse, "synchronized", "renorm")
		// fused picks a TensorFlow kernel, not a different computation;
		// renorm_momentum means nothing without renorm.
		cfg.Ignore("fused", "renorm_momentum")
	case LayerLayerNorm:
		mustBeFalse = append(mustBeFalse, "rms_scaling")
	case LayerEmbedding:
		inits = map[string]*runtime.InitSpec{"embeddings_initializer": &l.KernelInit}
		l.KernelInit = runtime.InitSpec{Kind: "random_uniform", Minval: -0.05, Maxval: 0.05} // Keras's "uniform"
		mustBeNull = []string{"embeddings_regularizer", "activity_regularizer", "embeddings_constraint", "quantization_config"}
		mustBeFalse = append(mustBeFalse, "mask_zero", "sparse")
		// input_length (Keras 2) only states the sequence length, which
		// the input shape gives; lora_rank must be null or 0.
		cfg.Ignore("input_length", "lora_alpha")
		if fn := get("lora_rank"); fn != nil {
			if r, err := fn.AsInt(); err != nil || r != 0 {
				return kl.errorf(fn, "lora_rank is not supported (LoRA adapters; it must be null or 0)")
			}
		}
	}
	for f, p := range inits {
		if in := cfg.Get(f); in != nil && in.Kind != jsontree.Null {
			v, err := kl.initializer(in, f)
			if err != nil {
				return err
			}
			*p = v
		}
	}
	for _, f := range mustBeNull {
		if fn := get(f); fn != nil {
			return kl.errorf(fn, "%s is not supported (it must be null)", f)
		}
	}
	for _, f := range mustBeFalse {
		if fn := get(f); fn != nil {
			if b, err := fn.AsBool(); err != nil || b {
				return kl.errorf(fn, "%s is not supported (it must be false)", f)
			}
		}
	}
	return nil
}

func init() {
	kerasLayerClasses = append(kerasLayerClasses, "BatchNormalization", "LayerNormalization", "Embedding")
}
