package frontend

// The Keras loader reads the architecture JSON that Keras writes with
// model.to_json() (also the config.json member of a .keras file and the
// modelTopology of a TF.js layers-model) for a Sequential model of the
// layers dlc supports. It is strict: a setting that could change what the
// model computes and that dlc does not implement is an error naming the
// layer and the field, and so is a field it does not know at all. Fields
// that are bookkeeping (names, module paths, build records, the dtype when
// it is float32) are ignored. docs/model-json.md lists both.

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/dlc-project/dlc/frontend/jsontree"
	"github.com/dlc-project/dlc/runtime"
)

// kerasLayerClasses are the Keras layer classes the loader supports, in
// the order error messages list them.
var kerasLayerClasses = []string{"InputLayer", "Dense", "Activation", "Dropout", "Flatten",
	"Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "Reshape"}

// kerasModelClasses are the class names Keras uses for models; as a layer
// of a Sequential they are nested models.
var kerasModelClasses = map[string]bool{"Sequential": true, "Functional": true, "Model": true}

// kerasInits maps Keras initializer class names (and their snake-case
// string forms) to dlc's initializer kinds.
var kerasInits = map[string]string{
	"Zeros": "zeros", "Ones": "ones", "Constant": "constant",
	"RandomNormal": "random_normal", "RandomUniform": "random_uniform", "TruncatedNormal": "truncated_normal",
	"GlorotUniform": "glorot_uniform", "GlorotNormal": "glorot_normal",
	"HeUniform": "he_uniform", "HeNormal": "he_normal",
	"LecunUniform": "lecun_uniform", "LecunNormal": "lecun_normal",
	"VarianceScaling": "variance_scaling",
}

// kerasTFJSFields are the top-level fields of a TF.js layers-model
// artifact other than modelTopology. None of them changes the
// architecture: weights are not loaded from it, training settings come
// from dlc's flags.
var kerasTFJSFields = []string{
	"format", "generatedBy", "convertedBy", "weightsManifest", "signature",
	"userDefinedMetadata", "modelInitializer", "initializerSignature", "trainingConfig",
}

// loadKeras reads a Keras model.to_json() document, or a TF.js
// layers-model wrapping one.
func loadKeras(root *jsontree.Node) (*Model, error) {
	model := root
	var compileCfg *jsontree.Node // the loss and metrics (keras_compile.go)
	if mt := root.Get("modelTopology"); mt != nil {
		if f := root.Get("format"); f != nil {
			s, err := f.AsString()
			if err != nil {
				return nil, err
			}
			if s != "layers-model" {
				return nil, f.Errorf("TF.js format %q is not supported (only \"layers-model\", which holds a Keras model config)", s)
			}
		}
		root.Ignore(kerasTFJSFields...)
		if err := checkUnknownIn(root, "the TF.js model artifact"); err != nil {
			return nil, err
		}
		if err := mt.Expect(jsontree.Object); err != nil {
			return nil, err
		}
		model = mt
		if mc := mt.Get("model_config"); mc != nil {
			// {"keras_version", "backend", "model_config", "training_config"}
			mt.Ignore("keras_version", "backend", "training_config")
			compileCfg = mt.Fields["training_config"]
			if err := checkUnknownIn(mt, "modelTopology"); err != nil {
				return nil, err
			}
			if err := mc.Expect(jsontree.Object); err != nil {
				return nil, err
			}
			model = mc
		}
	}
	md, err := kerasSequential(model)
	if err != nil {
		return nil, err
	}
	if compileCfg == nil {
		compileCfg = model.Fields["compile_config"]
	}
	var lossNode *jsontree.Node
	if compileCfg != nil && compileCfg.Kind != jsontree.Null {
		if lossNode, err = kerasCompileConfig(compileCfg, md); err != nil {
			return nil, err
		}
	}
	if err := checkShapes(md, model); err != nil {
		return nil, err
	}
	if err := checkKerasCompiled(md, compileCfg, lossNode); err != nil {
		return nil, err
	}
	return md, nil
}

// kerasSequential reads {"class_name": "Sequential", "config": ...}.
func kerasSequential(n *jsontree.Node) (*Model, error) {
	cn := n.Get("class_name")
	if cn == nil {
		return nil, n.Errorf(`missing field "class_name" (a Keras model config has "class_name": "Sequential")`)
	}
	class, err := cn.AsString()
	if err != nil {
		return nil, err
	}
	switch {
	case class == "Sequential":
	case kerasModelClasses[class]:
		return nil, cn.Errorf("Keras model class %q is not supported: only Sequential models can be loaded (a functional model is a graph of layers, not a sequence)", class)
	default:
		return nil, cn.Errorf("class_name %q is not a Keras model (want \"Sequential\")", class)
	}
	cfg := n.Get("config")
	if cfg == nil {
		return nil, n.Errorf(`missing field "config"`)
	}
	// Bookkeeping of the saved file, and the compile settings, which dlc
	// takes from the command line instead.
	n.Ignore("module", "registered_name", "build_config", "compile_config", "keras_version", "backend", "shared_object_id")
	if err := checkUnknownIn(n, "the Keras model"); err != nil {
		return nil, err
	}

	md := &Model{Name: "sequential", Train: TrainSettings{Epochs: 1, BatchSize: 32, Shuffle: true}}
	var layers *jsontree.Node
	var buildShape []int64
	modelTrainable := true
	switch cfg.Kind {
	case jsontree.Array: // Keras ≤ 2.1: "config" is the list of layers
		layers = cfg
	case jsontree.Object:
		if nn := cfg.Get("name"); nn != nil {
			if md.Name, err = nn.AsString(); err != nil {
				return nil, err
			}
			if md.Name == "" {
				return nil, nn.Errorf("the model name is empty")
			}
		}
		if dn := cfg.Get("dtype"); dn != nil {
			if err := kerasDType(dn); err != nil {
				return nil, err
			}
		}
		if bn := cfg.Get("build_input_shape"); bn != nil && bn.Kind != jsontree.Null {
			if buildShape, err = kerasBatchShape(bn); err != nil {
				return nil, err
			}
		}
		if tn := cfg.Get("trainable"); tn != nil && tn.Kind != jsontree.Null {
			if modelTrainable, err = tn.AsBool(); err != nil {
				return nil, err
			}
		}
		layers = cfg.Get("layers")
		if layers == nil {
			return nil, cfg.Errorf(`missing field "layers"`)
		}
		if err := layers.Expect(jsontree.Array); err != nil {
			return nil, err
		}
		if err := checkUnknownIn(cfg, "the Sequential config"); err != nil {
			return nil, err
		}
	default:
		return nil, cfg.Errorf("want an object or an array, got %s", cfg.Kind)
	}

	names := newLayerNames()
	var shape []int64 // the shape of one sample at each layer, where known
	if buildShape != nil {
		md.Input, shape = buildShape, buildShape
	}
	for i, ln := range layers.Items {
		kl, err := readKerasLayer(ln, names)
		if err != nil {
			return nil, err
		}
		if kl.class == "InputLayer" && i > 0 {
			return nil, kl.errorf(ln, "an InputLayer must be the first layer of a Sequential model")
		}
		if kl.input != nil && i == 0 {
			md.Input, shape = kl.input, kl.input
		}
		if kl.class == "InputLayer" {
			continue
		}
		switch kl.layer.Type {
		case LayerDense:
			if len(shape) > 1 {
				return nil, kl.errorf(ln, "input has shape %s per sample; dlc's Dense takes one vector per sample (Keras applies Dense to the last axis, dlc does not: add a Flatten layer)", dimsString(shape))
			}
			shape = []int64{kl.layer.Units}
		case LayerFlatten:
			if kl.channelsFirst && len(shape) > 1 {
				return nil, kl.errorf(kl.dataFormat, `data_format "channels_first" is not supported on an input of shape %s per sample: Keras moves the channels last before flattening, so the order of the features would differ`, dimsString(shape))
			}
			if shape != nil {
				n := int64(1)
				for _, d := range shape {
					n *= d // bounded: kerasBatchShape limits the elements
				}
				shape = []int64{n}
			}
		case LayerConv2D, LayerMaxPooling2D, LayerAveragePooling2D, LayerGlobalAvgPooling2D, LayerReshape:
			shape = imageOutShape(kl.layer, shape)
		}
		if !modelTrainable {
			kl.layer.Frozen = true // a frozen model freezes all its layers
		}
		md.Layers = append(md.Layers, kl.layer)
	}
	if len(md.Layers) == 0 {
		return nil, layers.Errorf("the model has no layers (besides its input)")
	}
	if md.Input == nil {
		return nil, layers.Errorf("the model's input shape is not given: its first layer needs a batch_input_shape (Keras 2) or the model an InputLayer (keras.Input(shape=...))")
	}
	return md, nil
}

// dimsString formats a shape as [28, 28].
func dimsString(dims []int64) string {
	s := make([]string, len(dims))
	for i, d := range dims {
		s[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// kerasLayer is one entry of a Sequential's layer list.
type kerasLayer struct {
	class         string
	layer         Layer
	input         []int64 // batch_input_shape / batch_shape without the batch dim
	channelsFirst bool
	dataFormat    *jsontree.Node
}

// errorf reports a problem at node n of the layer.
func (kl *kerasLayer) errorf(n *jsontree.Node, format string, args ...any) error {
	return n.Errorf("layer %q (%s): %s", kl.layer.Name, kl.class, fmt.Sprintf(format, args...))
}

// wrap prefixes an error from a jsontree helper (a wrong type, say) with
// the layer.
func (kl *kerasLayer) wrap(err error) error {
	var je *jsontree.Error
	if errors.As(err, &je) {
		je.Msg = fmt.Sprintf("layer %q (%s): %s", kl.layer.Name, kl.class, je.Msg)
	}
	return err
}

// checkUnknown reports the first field of n that was neither read nor
// ignored.
func (kl *kerasLayer) checkUnknown(n *jsontree.Node) error {
	return checkUnknownIn(n, fmt.Sprintf("layer %q (%s)", kl.layer.Name, kl.class))
}

// checkUnknownIn is CheckUnknown with the place and the reason added: a
// Keras field dlc has never seen might change what the model computes.
func checkUnknownIn(n *jsontree.Node, where string) error {
	err := n.CheckUnknown()
	var je *jsontree.Error
	if errors.As(err, &je) {
		je.Msg += " in " + where + " (dlc does not know this Keras setting, which could change the model's meaning)"
	}
	return err
}

func readKerasLayer(ln *jsontree.Node, names *layerNames) (*kerasLayer, error) {
	if err := ln.Expect(jsontree.Object); err != nil {
		return nil, err
	}
	cn := ln.Get("class_name")
	if cn == nil {
		return nil, ln.Errorf(`missing field "class_name"`)
	}
	class, err := cn.AsString()
	if err != nil {
		return nil, err
	}
	kl := &kerasLayer{class: class}
	cfg := ln.Get("config")
	if cfg == nil {
		return nil, ln.Errorf(`layer of class %q: missing field "config"`, class)
	}
	// The name first, so that every later error can give it.
	if cfg.Kind == jsontree.Object {
		if nn := cfg.Get("name"); nn != nil {
			if kl.layer.Name, err = nn.AsString(); err != nil {
				return nil, err
			}
			if kl.layer.Name == "" {
				return nil, nn.Errorf("layer of class %q: the layer name is empty", class)
			}
		}
	}
	nameNode := cfg.Get("name")
	if kerasModelClasses[class] {
		if kl.layer.Name == "" {
			kl.layer.Name = strings.ToLower(class)
		}
		return nil, kl.errorf(cn, "nested models are not supported (a Sequential model of layers only)")
	}
	switch class {
	case "InputLayer":
	case "Dense":
		kl.layer.Type = LayerDense
	case "Activation":
		kl.layer.Type = LayerActivation
	case "Dropout":
		kl.layer.Type = LayerDropout
	case "Flatten":
		kl.layer.Type = LayerFlatten
	default:
		if typ, ok := kerasImageClasses[class]; ok {
			kl.layer.Type = typ
			break
		}
		if typ, ok := kerasNormClasses[class]; ok {
			kl.layer.Type = typ
			break
		}
		if kl.layer.Name == "" {
			kl.layer.Name = kerasSnake(class)
		}
		return nil, kl.errorf(cn, "layer type not supported (supported: %s)", strings.Join(kerasLayerClasses, ", "))
	}
	if kl.layer.Name == "" {
		if class == "InputLayer" {
			kl.layer.Name = "input_layer"
		} else {
			kl.layer.Name = names.next(kl.layer.Type)
		}
	} else if class != "InputLayer" {
		if err := names.claim(nameNode, kl.layer.Name); err != nil {
			return nil, err
		}
	}
	ln.Ignore("module", "registered_name", "build_config", "shared_object_id")
	if err := kl.checkUnknown(ln); err != nil {
		return nil, err
	}
	if err := cfg.Expect(jsontree.Object); err != nil {
		return nil, kl.wrap(err)
	}
	if err := kl.readConfig(cfg); err != nil {
		return nil, err
	}
	return kl, nil
}

// readConfig reads the config object of a supported layer.
func (kl *kerasLayer) readConfig(cfg *jsontree.Node) error {
	var err error
	cfg.Ignore("name", "input_dtype", "autocast")
	if tn := cfg.Get("trainable"); tn != nil && tn.Kind != jsontree.Null {
		trainable, err := tn.AsBool()
		if err != nil {
			return kl.wrap(err)
		}
		kl.layer.Frozen = !trainable
	}
	if dn := cfg.Get("dtype"); dn != nil {
		if err := kerasDType(dn); err != nil {
			return kl.wrap(err)
		}
	}
	// batch_input_shape: the model's input when on the first layer (Keras
	// 2); elsewhere a leftover of how the layer was built, ignored.
	if bn := cfg.Get("batch_input_shape"); bn != nil && bn.Kind != jsontree.Null {
		if kl.input, err = kerasBatchShape(bn); err != nil {
			return kl.wrap(err)
		}
	}
	l := &kl.layer
	switch kl.class {
	case "InputLayer":
		if bn := cfg.Get("batch_shape"); bn != nil && bn.Kind != jsontree.Null {
			if kl.input != nil {
				return kl.errorf(bn, "both batch_input_shape and batch_shape are given")
			}
			if kl.input, err = kerasBatchShape(bn); err != nil {
				return kl.wrap(err)
			}
		}
		if kl.input == nil {
			return kl.errorf(cfg, `missing field "batch_shape" (or "batch_input_shape"): the input shape`)
		}
		for _, f := range []string{"sparse", "ragged"} {
			if fn := cfg.Get(f); fn != nil && fn.Kind != jsontree.Null {
				b, err := fn.AsBool()
				if err != nil {
					return kl.wrap(err)
				}
				if b {
					return kl.errorf(fn, "%s inputs are not supported (%s must be false)", f, f)
				}
			}
		}
		cfg.Ignore("optional")
	case "Dense":
		un := cfg.Get("units")
		if un == nil {
			return kl.errorf(cfg, `missing field "units"`)
		}
		if l.Units, err = un.AsInt(); err != nil {
			return kl.wrap(err)
		}
		if l.Units <= 0 || l.Units > 1<<24 {
			return kl.errorf(un, "units must be a positive integer, is %d", l.Units)
		}
		if l.Activation, err = kl.activation(cfg, false); err != nil {
			return err
		}
		l.UseBias = true
		if bn := cfg.Get("use_bias"); bn != nil {
			if l.UseBias, err = bn.AsBool(); err != nil {
				return kl.wrap(err)
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
		for _, f := range []string{"kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint", "quantization_config"} {
			if fn := cfg.Get(f); fn != nil && fn.Kind != jsontree.Null {
				return kl.errorf(fn, "%s is not supported (it must be null)", f)
			}
		}
		if fn := cfg.Get("lora_rank"); fn != nil && fn.Kind != jsontree.Null {
			r, err := fn.AsInt()
			if err != nil {
				return kl.wrap(err)
			}
			if r != 0 {
				return kl.errorf(fn, "lora_rank %d is not supported (LoRA adapters; it must be null or 0)", r)
			}
		}
		cfg.Ignore("lora_alpha") // meaningless without lora_rank
	case "Activation":
		if l.Activation, err = kl.activation(cfg, true); err != nil {
			return err
		}
	case "Dropout":
		rn := cfg.Get("rate")
		if rn == nil {
			return kl.errorf(cfg, `missing field "rate"`)
		}
		if l.Rate, err = rn.AsFloat(); err != nil {
			return kl.wrap(err)
		}
		if !(l.Rate >= 0 && l.Rate < 1) {
			return kl.errorf(rn, "rate must be in [0, 1), is %g", l.Rate)
		}
		for _, f := range []string{"noise_shape", "seed"} {
			if fn := cfg.Get(f); fn != nil && fn.Kind != jsontree.Null {
				return kl.errorf(fn, "%s is not supported (it must be null)", f)
			}
		}
	case "Flatten":
		if fn := cfg.Get("data_format"); fn != nil && fn.Kind != jsontree.Null {
			s, err := fn.AsString()
			if err != nil {
				return kl.wrap(err)
			}
			switch s {
			case "channels_last":
			case "channels_first":
				kl.channelsFirst, kl.dataFormat = true, fn
			default:
				return kl.errorf(fn, `unknown data_format %q (want "channels_last" or "channels_first")`, s)
			}
		}
	default:
		if normLayerTypes[l.Type] {
			if err := kl.kerasNormConfig(cfg); err != nil {
				return err
			}
			break
		}
		if err := kl.kerasImageConfig(cfg); err != nil {
			return err
		}
	}
	return kl.checkUnknown(cfg)
}

// activation reads the activation field; absent or null is linear, as in
// Keras, unless required.
func (kl *kerasLayer) activation(cfg *jsontree.Node, required bool) (string, error) {
	an := cfg.Get("activation")
	if an == nil || (an.Kind == jsontree.Null && !required) {
		if required {
			return "", kl.errorf(cfg, `missing field "activation"`)
		}
		return "linear", nil
	}
	a, err := an.AsString()
	if err != nil {
		return "", kl.wrap(err)
	}
	if !isActivation(a) {
		return "", kl.errorf(an, "activation %q is not supported (supported: %s)", a, strings.Join(Activations, ", "))
	}
	return a, nil
}

// initializer reads a Keras initializer: {"class_name": "GlorotUniform",
// "config": {"seed": null}} (Keras 3 adds "module" and
// "registered_name"), or its snake-case name as a string.
func (kl *kerasLayer) initializer(n *jsontree.Node, field string) (runtime.InitSpec, error) {
	var s runtime.InitSpec
	unknown := func(at *jsontree.Node, name string) error {
		return kl.errorf(at, "%s: unknown initializer %q (supported: Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, VarianceScaling)", field, name)
	}
	if n.Kind == jsontree.String {
		kind, ok := kerasInitKind(n.Str)
		if !ok {
			return s, unknown(n, n.Str)
		}
		return initDefaults(kind), nil
	}
	if n.Kind != jsontree.Object {
		return s, kl.errorf(n, "%s: want an initializer (an object with \"class_name\" or a name), got %s", field, n.Kind)
	}
	cn := n.Get("class_name")
	if cn == nil {
		return s, kl.errorf(n, `%s: missing field "class_name"`, field)
	}
	class, err := cn.AsString()
	if err != nil {
		return s, kl.wrap(err)
	}
	kind, ok := kerasInitKind(class)
	if !ok {
		return s, unknown(cn, class)
	}
	s = initDefaults(kind)
	n.Ignore("module", "registered_name", "shared_object_id")
	cfg := n.Get("config")
	if err := kl.checkUnknown(n); err != nil {
		return s, err
	}
	if cfg == nil || cfg.Kind == jsontree.Null {
		return s, nil
	}
	if err := cfg.Expect(jsontree.Object); err != nil {
		return s, kl.wrap(err)
	}
	// seed: dlc draws every weight from the one generator of the
	// generated package (Options.Seed), so a per-initializer seed cannot be
	// honoured; it does not change the distribution and is ignored.
	if sn := cfg.Get("seed"); sn != nil && sn.Kind != jsontree.Null {
		if _, err := sn.AsInt(); err != nil {
			return s, kl.wrap(err)
		}
	}
	if dn := cfg.Get("dtype"); dn != nil { // tf.keras 1.x wrote the dtype here
		if err := kerasDType(dn); err != nil {
			return s, kl.wrap(err)
		}
	}
	for _, f := range initFields[kind] {
		fn := cfg.Get(f)
		if fn == nil {
			continue
		}
		switch f {
		case "mode", "distribution":
			v, err := fn.AsString()
			if err != nil {
				return s, kl.wrap(err)
			}
			if f == "mode" {
				s.Mode = v
			} else {
				if v == "normal" { // Keras 2's old name of truncated_normal
					v = "truncated_normal"
				}
				s.Distribution = v
			}
		default:
			v, err := fn.AsFloat()
			if err != nil {
				return s, kl.wrap(err)
			}
			*initField(&s, f) = v
		}
	}
	if err := kl.checkUnknown(cfg); err != nil {
		return s, err
	}
	if err := runtime.ValidateInitSpec(s); err != nil {
		return s, kl.errorf(n, "%s: %v", field, err)
	}
	return s, nil
}

// initField returns the InitSpec field a numeric setting goes to.
func initField(s *runtime.InitSpec, f string) *float64 {
	switch f {
	case "value":
		return &s.Value
	case "mean":
		return &s.Mean
	case "stddev":
		return &s.Stddev
	case "minval":
		return &s.Minval
	case "maxval":
		return &s.Maxval
	}
	return &s.Scale
}

// kerasInitKind maps "GlorotUniform" or "glorot_uniform" to dlc's kind.
func kerasInitKind(name string) (string, bool) {
	if k, ok := kerasInits[name]; ok {
		return k, true
	}
	if _, ok := initFields[name]; ok {
		return name, true
	}
	return "", false
}

// kerasDType accepts a float32 dtype: null, "float32", or a dtype policy
// object {"class_name": "DTypePolicy", "config": {"name": "float32"}}.
func kerasDType(n *jsontree.Node) error {
	switch n.Kind {
	case jsontree.Null:
		return nil
	case jsontree.String:
		if n.Str != "float32" {
			return n.Errorf("dtype %q is not supported (dlc computes in float32)", n.Str)
		}
		return nil
	case jsontree.Object:
	default:
		return n.Errorf("dtype: want a string or a dtype policy object, got %s", n.Kind)
	}
	cn := n.Get("class_name")
	if cn == nil {
		return n.Errorf(`dtype policy: missing field "class_name"`)
	}
	class, err := cn.AsString()
	if err != nil {
		return err
	}
	switch class {
	case "DTypePolicy", "FloatDTypePolicy", "Policy":
	default:
		return cn.Errorf("dtype policy %q is not supported (only a float32 DTypePolicy)", class)
	}
	cfg := n.Get("config")
	if cfg == nil {
		return n.Errorf(`dtype policy: missing field "config"`)
	}
	if err := cfg.Expect(jsontree.Object); err != nil {
		return err
	}
	nn := cfg.Get("name")
	if nn == nil {
		return cfg.Errorf(`dtype policy: missing field "name"`)
	}
	name, err := nn.AsString()
	if err != nil {
		return err
	}
	if name != "float32" {
		return nn.Errorf("dtype policy %q is not supported (dlc computes in float32)", name)
	}
	n.Ignore("module", "registered_name", "shared_object_id")
	if err := checkUnknownIn(cfg, "the dtype policy"); err != nil {
		return err
	}
	return checkUnknownIn(n, "the dtype policy")
}

// kerasBatchShape reads [null, d1, d2, ...] and returns the dims after the
// batch dim. The batch dim may also be a fixed size: dlc's batch is
// chosen at run time, so it is not kept.
func kerasBatchShape(n *jsontree.Node) ([]int64, error) {
	if err := n.Expect(jsontree.Array); err != nil {
		return nil, err
	}
	if len(n.Items) < 2 {
		return nil, n.Errorf("want [batch, dims...] with at least one dim after the batch dim, got %d entries", len(n.Items))
	}
	if b := n.Items[0]; b.Kind != jsontree.Null {
		v, err := b.AsInt()
		if err != nil {
			return nil, b.Errorf("the batch dim must be null or a positive integer, got %s", b.Kind)
		}
		if v <= 0 {
			return nil, b.Errorf("the batch dim must be null or a positive integer, is %d", v)
		}
	}
	out := make([]int64, 0, len(n.Items)-1)
	total := int64(1)
	for _, it := range n.Items[1:] {
		if it.Kind == jsontree.Null {
			return nil, it.Errorf("a dim other than the batch dim is null (variable); dlc needs every sample dim to be known")
		}
		v, err := it.AsInt()
		if err != nil {
			return nil, err
		}
		if v <= 0 || v > 1<<31 {
			return nil, it.Errorf("dim %d must be a positive integer", v)
		}
		if total > math.MaxInt32/v {
			return nil, it.Errorf("the input has more than %d elements per sample", int64(math.MaxInt32))
		}
		total *= v
		out = append(out, v)
	}
	return out, nil
}

// kerasSnake turns a class name into Keras's default layer name stem:
// Conv2D → conv2d, MaxPooling2D → max_pooling2d.
func kerasSnake(class string) string {
	var b strings.Builder
	for i, r := range class {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				prev := class[i-1]
				nextLower := i+1 < len(class) && class[i+1] >= 'a' && class[i+1] <= 'z'
				if (prev >= 'a' && prev <= 'z') || (prev >= 'A' && prev <= 'Z' && nextLower) {
					b.WriteByte('_')
				}
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
