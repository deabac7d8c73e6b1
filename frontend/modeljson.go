package frontend

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/dlc-project/dlc/frontend/jsontree"
	"github.com/dlc-project/dlc/passes"
	"github.com/dlc-project/dlc/runtime"
)

// LoadFile reads a model file: dlc's own model.json schema (see
// docs/model-json.md) or a Keras model.to_json() document, told apart by
// Keras's "class_name" (or a TF.js "modelTopology") at the top level.
func LoadFile(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Load(path, data)
}

// Load parses a model document; file names it in errors.
func Load(file string, data []byte) (*Model, error) {
	doc, err := jsontree.Parse(file, data)
	if err != nil {
		return nil, err
	}
	root := doc.Root
	if err := root.Expect(jsontree.Object); err != nil {
		return nil, err
	}
	if _, ok := root.Fields["class_name"]; ok {
		return loadKeras(root)
	}
	if _, ok := root.Fields["modelTopology"]; ok {
		return loadKeras(root)
	}
	return loadSchema(root)
}

var schemaFields = []string{"name", "input", "layers", "loss", "optimizer", "metrics", "train"}

func loadSchema(root *jsontree.Node) (*Model, error) {
	md := &Model{Train: TrainSettings{Epochs: 1, BatchSize: 32, Shuffle: true}}
	var err error
	if n := root.Get("name"); n != nil {
		if md.Name, err = n.AsString(); err != nil {
			return nil, err
		}
	}
	if md.Name == "" {
		md.Name = "model"
	}
	in := root.Get("input")
	if in == nil {
		return nil, root.Errorf(`missing field "input" (e.g. "input": {"shape": [784]})`)
	}
	if err := in.Expect(jsontree.Object); err != nil {
		return nil, err
	}
	shape := in.Get("shape")
	if shape == nil {
		return nil, in.Errorf(`missing field "shape"`)
	}
	if md.Input, err = positiveInts(shape); err != nil {
		return nil, err
	}
	if err := in.CheckUnknown("shape"); err != nil {
		return nil, err
	}
	layers := root.Get("layers")
	if layers == nil {
		return nil, root.Errorf(`missing field "layers"`)
	}
	if err := layers.Expect(jsontree.Array); err != nil {
		return nil, err
	}
	if len(layers.Items) == 0 {
		return nil, layers.Errorf("a model needs at least one layer")
	}
	names := newLayerNames()
	for _, ln := range layers.Items {
		l, err := schemaLayer(ln, names)
		if err != nil {
			return nil, err
		}
		md.Layers = append(md.Layers, l)
	}
	if n := root.Get("loss"); n != nil {
		if err := schemaLoss(n, md); err != nil {
			return nil, err
		}
	}
	if n := root.Get("optimizer"); n != nil {
		if md.Optimizer, err = schemaOptimizer(n); err != nil {
			return nil, err
		}
	}
	if n := root.Get("metrics"); n != nil {
		if err := schemaMetrics(n, md); err != nil {
			return nil, err
		}
	}
	if n := root.Get("train"); n != nil {
		if err := schemaTrain(n, &md.Train); err != nil {
			return nil, err
		}
	}
	if err := root.CheckUnknown(schemaFields...); err != nil {
		return nil, err
	}
	if md.Loss != "" && md.Optimizer == nil {
		return nil, root.Errorf(`a model with a loss needs an "optimizer"`)
	}
	if md.Optimizer != nil && md.Loss == "" {
		return nil, root.Errorf(`a model with an optimizer needs a "loss"`)
	}
	if err := checkShapes(md, root, layers.Items...); err != nil {
		return nil, err
	}
	if mn := root.Get("metrics"); mn != nil && md.TopK > 0 {
		m, err := md.Build()
		if err != nil {
			return nil, err
		}
		if err := md.checkMetrics(m.Func("predict").Results[0].Type.Shape); err != nil {
			return nil, mn.Errorf("%v", err)
		}
	}
	return md, nil
}

// checkShapes traces the model once so that shape errors (a dense layer
// fed a 3-D tensor, a loss that does not fit the output) are reported
// against the document.
//
// layerNodes, when given, are the documents' layer objects, so that a
// layer's error points at the layer.
func checkShapes(md *Model, at *jsontree.Node, layerNodes ...*jsontree.Node) error {
	_, err := md.Build()
	if err == nil {
		return nil
	}
	var le *LayerError
	if errors.As(err, &le) && le.Index < len(layerNodes) {
		return layerNodes[le.Index].Errorf("%v", err)
	}
	// A loss that does not fit the output points at the "loss" field.
	var lse *LossError
	if ln := at.Get("loss"); ln != nil && errors.As(err, &lse) {
		return ln.Errorf("%v", lse.Err)
	}
	return at.Errorf("%v", err)
}

func oneOf(s string, list []string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func positiveInts(n *jsontree.Node) ([]int64, error) {
	if err := n.Expect(jsontree.Array); err != nil {
		return nil, err
	}
	if len(n.Items) == 0 {
		return nil, n.Errorf("the shape must have at least one dim")
	}
	var out []int64
	total := int64(1)
	for _, it := range n.Items {
		v, err := it.AsInt()
		if err != nil {
			return nil, err
		}
		if v <= 0 || v > 1<<31 {
			return nil, it.Errorf("dim %d must be a positive integer", v)
		}
		if total *= v; total > 1<<31-1 {
			return nil, n.Errorf("the shape has more than 2^31-1 elements per sample")
		}
		out = append(out, v)
	}
	return out, nil
}

// layerNames hands out Keras-style default names: dense, dense_1, ...
type layerNames struct{ count, used map[string]int }

func newLayerNames() *layerNames {
	return &layerNames{count: map[string]int{}, used: map[string]int{}}
}

func (ln *layerNames) next(kind string) string {
	for {
		i := ln.count[kind]
		ln.count[kind]++
		name := kind
		if i > 0 {
			name = fmt.Sprintf("%s_%d", kind, i)
		}
		if ln.used[name] == 0 {
			ln.used[name]++
			return name
		}
	}
}

func (ln *layerNames) claim(n *jsontree.Node, name string) error {
	if ln.used[name] > 0 {
		return n.Errorf("layer name %q is used twice", name)
	}
	ln.used[name]++
	return nil
}

func schemaLayer(n *jsontree.Node, names *layerNames) (Layer, error) {
	var l Layer
	if err := n.Expect(jsontree.Object); err != nil {
		return l, err
	}
	tn := n.Get("type")
	if tn == nil {
		return l, n.Errorf(`missing field "type" (one of %s)`, knownLayerTypes())
	}
	typ, err := tn.AsString()
	if err != nil {
		return l, err
	}
	l.Type = typ
	var allowed []string
	switch typ {
	case LayerDense:
		allowed = []string{"type", "name", "units", "activation", "use_bias", "kernel_initializer", "bias_initializer", "trainable"}
		if tr := n.Get("trainable"); tr != nil {
			trainable, err := tr.AsBool()
			if err != nil {
				return l, err
			}
			l.Frozen = !trainable
		}
		un := n.Get("units")
		if un == nil {
			return l, n.Errorf(`missing field "units"`)
		}
		if l.Units, err = un.AsInt(); err != nil {
			return l, err
		}
		if l.Units <= 0 || l.Units > 1<<24 {
			return l, un.Errorf("units must be a positive integer, is %d", l.Units)
		}
		if l.Activation, err = schemaActivation(n, false); err != nil {
			return l, err
		}
		l.UseBias = true
		if b := n.Get("use_bias"); b != nil {
			if l.UseBias, err = b.AsBool(); err != nil {
				return l, err
			}
		}
		l.KernelInit = runtime.InitSpec{Kind: "glorot_uniform"}
		l.BiasInit = runtime.InitSpec{Kind: "zeros"}
		if in := n.Get("kernel_initializer"); in != nil {
			if l.KernelInit, err = schemaInitializer(in); err != nil {
				return l, err
			}
		}
		if in := n.Get("bias_initializer"); in != nil {
			if l.BiasInit, err = schemaInitializer(in); err != nil {
				return l, err
			}
		}
	case LayerActivation:
		allowed = []string{"type", "name", "activation"}
		if l.Activation, err = schemaActivation(n, true); err != nil {
			return l, err
		}
	case LayerDropout:
		allowed = []string{"type", "name", "rate"}
		rn := n.Get("rate")
		if rn == nil {
			return l, n.Errorf(`missing field "rate"`)
		}
		if l.Rate, err = rn.AsFloat(); err != nil {
			return l, err
		}
		if l.Rate < 0 || l.Rate >= 1 {
			return l, rn.Errorf("rate must be in [0, 1), is %g", l.Rate)
		}
	case LayerFlatten:
		allowed = []string{"type", "name"}
	default:
		if normLayerTypes[typ] {
			if allowed, err = schemaNormLayer(n, &l); err != nil {
				return l, err
			}
			break
		}
		canon, ok := imageLayerAliases[typ]
		if !ok {
			return l, tn.Errorf("unknown layer type %q (known: %s)", typ, knownLayerTypes())
		}
		l.Type, typ = canon, canon
		if allowed, err = schemaImageLayer(n, &l); err != nil {
			return l, err
		}
	}
	if nn := n.Get("name"); nn != nil {
		if l.Name, err = nn.AsString(); err != nil {
			return l, err
		}
		if l.Name == "" {
			return l, nn.Errorf("the layer name is empty")
		}
		if err := names.claim(nn, l.Name); err != nil {
			return l, err
		}
	} else {
		l.Name = names.next(typ)
	}
	return l, n.CheckUnknown(allowed...)
}

func schemaActivation(n *jsontree.Node, required bool) (string, error) {
	an := n.Get("activation")
	if an == nil {
		if required {
			return "", n.Errorf(`missing field "activation"`)
		}
		return "linear", nil
	}
	a, err := an.AsString()
	if err != nil {
		return "", err
	}
	if !isActivation(a) {
		return "", an.Errorf("unknown activation %q (known: %s)", a, strings.Join(Activations, ", "))
	}
	return a, nil
}

// initFields lists the settings each initializer takes in dlc's schema.
var initFields = map[string][]string{
	"zeros": {}, "ones": {}, "constant": {"value"},
	"random_normal": {"mean", "stddev"}, "random_uniform": {"minval", "maxval"}, "truncated_normal": {"mean", "stddev"},
	"glorot_uniform": {}, "glorot_normal": {}, "he_uniform": {}, "he_normal": {}, "lecun_uniform": {}, "lecun_normal": {},
	"variance_scaling": {"scale", "mode", "distribution"},
}

// initDefaults are Keras's defaults for the initializers' settings.
func initDefaults(kind string) runtime.InitSpec {
	s := runtime.InitSpec{Kind: kind}
	switch kind {
	case "random_normal", "truncated_normal":
		s.Stddev = 0.05
	case "random_uniform":
		s.Minval, s.Maxval = -0.05, 0.05
	case "variance_scaling":
		s.Scale, s.Mode, s.Distribution = 1, "fan_in", "truncated_normal"
	}
	return s
}

func knownInits() string {
	return "zeros, ones, constant, random_normal, random_uniform, truncated_normal, glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal, variance_scaling"
}

// schemaInitializer reads "glorot_uniform" or {"type": "random_normal", "stddev": 0.1}.
func schemaInitializer(n *jsontree.Node) (runtime.InitSpec, error) {
	if n.Kind == jsontree.String {
		if _, ok := initFields[n.Str]; !ok {
			return runtime.InitSpec{}, n.Errorf("unknown initializer %q (known: %s)", n.Str, knownInits())
		}
		return initDefaults(n.Str), nil
	}
	if err := n.Expect(jsontree.Object); err != nil {
		return runtime.InitSpec{}, n.Errorf("an initializer is a name or an object with a \"type\"")
	}
	tn := n.Get("type")
	if tn == nil {
		return runtime.InitSpec{}, n.Errorf(`missing field "type"`)
	}
	kind, err := tn.AsString()
	if err != nil {
		return runtime.InitSpec{}, err
	}
	fields, ok := initFields[kind]
	if !ok {
		return runtime.InitSpec{}, tn.Errorf("unknown initializer %q (known: %s)", kind, knownInits())
	}
	s := initDefaults(kind)
	for _, f := range fields {
		fn := n.Get(f)
		if fn == nil {
			continue
		}
		switch f {
		case "mode", "distribution":
			v, err := fn.AsString()
			if err != nil {
				return s, err
			}
			if f == "mode" {
				s.Mode = v
			} else {
				s.Distribution = v
			}
		default:
			v, err := fn.AsFloat()
			if err != nil {
				return s, err
			}
			switch f {
			case "value":
				s.Value = v
			case "mean":
				s.Mean = v
			case "stddev":
				s.Stddev = v
			case "minval":
				s.Minval = v
			case "maxval":
				s.Maxval = v
			case "scale":
				s.Scale = v
			}
		}
	}
	if err := n.CheckUnknown(append([]string{"type"}, fields...)...); err != nil {
		return s, err
	}
	if err := runtime.ValidateInitSpec(s); err != nil {
		return s, n.Errorf("%v", err)
	}
	return s, nil
}

// optimizerFields lists the settings each optimizer takes in dlc's schema
// (besides "type"), and the ones every optimizer takes.
var optimizerFields = map[string][]string{
	"sgd":     {"learning_rate", "momentum", "nesterov"},
	"adam":    {"learning_rate", "beta_1", "beta_2", "epsilon", "epsilon_style"},
	"adamw":   {"learning_rate", "beta_1", "beta_2", "epsilon", "epsilon_style"},
	"adagrad": {"learning_rate", "epsilon", "epsilon_style", "initial_accumulator_value", "lr_decay"},
	"rmsprop": {"learning_rate", "rho", "momentum", "centered", "epsilon", "epsilon_style"},
}

var commonOptimizerFields = []string{"weight_decay", "clipnorm", "clipvalue", "schedule"}

// scheduleFields lists the settings of each schedule type.
var scheduleFields = map[string][]string{
	"constant":    {"warmup_steps"},
	"step":        {"step_size", "gamma", "warmup_steps"},
	"exponential": {"gamma", "warmup_steps"},
	"cosine":      {"t_max", "eta_min", "warmup_steps"},
}

func schemaOptimizer(n *jsontree.Node) (*passes.Optimizer, error) {
	if err := n.Expect(jsontree.Object); err != nil {
		return nil, err
	}
	tn := n.Get("type")
	if tn == nil {
		return nil, n.Errorf(`missing field "type" (%s)`, strings.Join(passes.Optimizers, ", "))
	}
	kind, err := tn.AsString()
	if err != nil {
		return nil, err
	}
	var o *passes.Optimizer
	switch kind {
	case "adam":
		o = passes.Adam(0.001)
	case "adamw":
		o = passes.AdamW(0.001)
	case "adagrad":
		o = passes.Adagrad(0.01)
	case "rmsprop":
		o = passes.RMSprop(0.01)
	case "sgd":
		o = &passes.Optimizer{Kind: "sgd", LearningRate: 0.01}
	default:
		return nil, tn.Errorf("unknown optimizer %q (known: %s)", kind, strings.Join(passes.Optimizers, ", "))
	}
	fields := append(append([]string{"type"}, optimizerFields[kind]...), commonOptimizerFields...)
	floats := map[string]*float64{"learning_rate": &o.LearningRate, "beta_1": &o.Beta1, "beta_2": &o.Beta2,
		"epsilon": &o.Epsilon, "momentum": &o.Momentum, "rho": &o.Alpha, "weight_decay": &o.WeightDecay,
		"initial_accumulator_value": &o.InitialAccumulator, "lr_decay": &o.LRDecay,
		"clipnorm": &o.ClipNorm, "clipvalue": &o.ClipValue}
	for _, f := range fields[1:] {
		fn := n.Get(f)
		if fn == nil {
			continue
		}
		switch f {
		case "nesterov":
			if o.Nesterov, err = fn.AsBool(); err != nil {
				return nil, err
			}
		case "centered":
			if o.Centered, err = fn.AsBool(); err != nil {
				return nil, err
			}
		case "epsilon_style":
			if o.EpsilonStyle, err = fn.AsString(); err != nil {
				return nil, err
			}
		case "schedule":
			if o.Schedule, err = schemaSchedule(fn); err != nil {
				return nil, err
			}
		default:
			if *floats[f], err = fn.AsFloat(); err != nil {
				return nil, err
			}
			// Zero turns clipping off in passes.Optimizer; written out,
			// it must be a real threshold.
			if (f == "clipnorm" || f == "clipvalue") && !(*floats[f] > 0) {
				return nil, fn.Errorf("%s must be a positive number, is %v (leave it out for no clipping)", f, *floats[f])
			}
		}
	}
	if err := n.CheckUnknown(fields...); err != nil {
		return nil, err
	}
	if err := o.Validate(); err != nil {
		return nil, fieldNode(n, err, "optimizer "+kind+": ").Errorf("%v", err)
	}
	return o, nil
}

// schemaSchedule reads {"type": "step", "step_size": 3, "gamma": 0.5, ...}.
func schemaSchedule(n *jsontree.Node) (passes.Schedule, error) {
	var s passes.Schedule
	if err := n.Expect(jsontree.Object); err != nil {
		return s, err
	}
	tn := n.Get("type")
	if tn == nil {
		return s, n.Errorf(`missing field "type" (%s)`, strings.Join(passes.Schedules, ", "))
	}
	kind, err := tn.AsString()
	if err != nil {
		return s, err
	}
	fields, ok := scheduleFields[kind]
	if !ok {
		return s, tn.Errorf("unknown schedule %q (known: %s)", kind, strings.Join(passes.Schedules, ", "))
	}
	s.Kind = kind
	// A decaying schedule without its period would never decay (or
	// divide by zero): say which field is missing.
	if f := map[string]string{"step": "step_size", "cosine": "t_max"}[kind]; f != "" && n.Get(f) == nil {
		return s, n.Errorf("schedule %s needs %q, the number of steps of its period", kind, f)
	}
	if kind == "step" || kind == "exponential" {
		s.Gamma = 0.1 // torch's StepLR default; ExponentialLR has none
		if kind == "exponential" && n.Get("gamma") == nil {
			return s, n.Errorf(`schedule exponential needs "gamma"`)
		}
	}
	ints := map[string]*int{"step_size": &s.StepSize, "t_max": &s.TMax, "warmup_steps": &s.WarmupSteps}
	for _, f := range fields {
		fn := n.Get(f)
		if fn == nil {
			continue
		}
		if p, ok := ints[f]; ok {
			v, err := fn.AsInt()
			if err != nil {
				return s, err
			}
			if v < 0 || v >= 1<<24 || (v == 0 && f != "warmup_steps") {
				return s, fn.Errorf("%s must be a positive number of steps below 2^24, is %d", f, v)
			}
			*p = int(v)
			continue
		}
		p := &s.Gamma
		if f == "eta_min" {
			p = &s.EtaMin
		}
		if *p, err = fn.AsFloat(); err != nil {
			return s, err
		}
	}
	if err := n.CheckUnknown(append([]string{"type"}, fields...)...); err != nil {
		return s, err
	}
	if err := s.Validate(); err != nil {
		return s, fieldNode(n, err, "schedule "+kind+": ").Errorf("%v", err)
	}
	return s, nil
}

func schemaTrain(n *jsontree.Node, t *TrainSettings) error {
	if err := n.Expect(jsontree.Object); err != nil {
		return err
	}
	ints := map[string]*int{"epochs": &t.Epochs, "batch_size": &t.BatchSize}
	for _, f := range []string{"epochs", "batch_size"} {
		if fn := n.Get(f); fn != nil {
			v, err := fn.AsInt()
			if err != nil {
				return err
			}
			if v <= 0 || v > 1<<30 {
				return fn.Errorf("%s must be a positive integer, is %d", f, v)
			}
			*ints[f] = int(v)
		}
	}
	if fn := n.Get("dataset"); fn != nil {
		s, err := fn.AsString()
		if err != nil {
			return err
		}
		if s != "mnist" {
			return fn.Errorf("unknown dataset %q (known: mnist; other data through dlc train --data)", s)
		}
		t.Dataset = s
	}
	if fn := n.Get("shuffle"); fn != nil {
		v, err := fn.AsBool()
		if err != nil {
			return err
		}
		t.Shuffle = v
	}
	if fn := n.Get("seed"); fn != nil {
		v, err := fn.AsInt()
		if err != nil {
			return err
		}
		if v < 0 {
			return fn.Errorf("seed must be >= 0, is %d", v)
		}
		t.Seed = uint64(v)
	}
	return n.CheckUnknown("epochs", "batch_size", "dataset", "shuffle", "seed")
}

// fieldNode returns the field of object n that a validation error names
// ("optimizer sgd: momentum is -0.1, …" names momentum), so that the error
// points at the value; n itself when the error names no field of n.
func fieldNode(n *jsontree.Node, err error, prefix string) *jsontree.Node {
	rest, ok := strings.CutPrefix(err.Error(), prefix)
	if !ok {
		return n
	}
	field, _, _ := strings.Cut(rest, " ")
	if fn := n.Get(field); fn != nil {
		return fn
	}
	return n
}
