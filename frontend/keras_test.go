package frontend

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dlc-project/dlc/frontend/jsontree"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/passes"
	"github.com/dlc-project/dlc/runtime"
)

// kerasModels is the folder of real Keras JSON files (see its SOURCES.md).
const kerasModels = "../../shared/keras-models"

func kerasFile(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(kerasModels, name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s is not available: %v", p, err)
	}
	return p
}

// layerSummary describes the layers as "name:type:units:activation" words.
func layerSummary(md *Model) string {
	var out []string
	for _, l := range md.Layers {
		s := l.Name + ":" + l.Type
		if l.Type == LayerDense {
			s += fmt.Sprintf(":%d:%s", l.Units, l.Activation)
		}
		if l.Type == LayerActivation {
			s += ":" + l.Activation
		}
		if l.Type == LayerDropout {
			s += fmt.Sprintf(":%g", l.Rate)
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func TestKerasRealFilesLoad(t *testing.T) {
	glorot, zeros := runtime.InitSpec{Kind: "glorot_uniform"}, runtime.InitSpec{Kind: "zeros"}
	tests := []struct {
		file, name, input, layers string
		kernel                    runtime.InitSpec
	}{
		{"keras2-mnist-mlp-dense-only.json", "sequential_1", "[784]",
			"dense_1:dense:800:relu dense_2:dense:10:softmax",
			runtime.InitSpec{Kind: "random_normal", Stddev: 0.05}},
		{"keras2-15-mnist-mlp-transitional.json", "sequential", "[784]",
			"dense:dense:32:relu dense_1:dense:64:relu dense_2:dense:10:softmax", glorot},
		{"keras3-dotkeras-config-mnist-mlp.json", "sequential", "[28 28]",
			"flatten:flatten dense:dense:64:relu dense_1:dense:32:relu dense_2:dense:16:relu dense_3:dense:10:softmax", glorot},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			md, err := LoadFile(kerasFile(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if md.Name != tc.name {
				t.Errorf("name %q, want %q", md.Name, tc.name)
			}
			if got := fmt.Sprint(md.Input); got != tc.input {
				t.Errorf("input %s, want %s", got, tc.input)
			}
			if got := layerSummary(md); got != tc.layers {
				t.Errorf("layers\n  %s\nwant\n  %s", got, tc.layers)
			}
			for _, l := range md.Layers {
				if l.Type != LayerDense {
					continue
				}
				if !l.UseBias || l.KernelInit != tc.kernel || l.BiasInit != zeros {
					t.Errorf("layer %s: bias %v kernel %+v bias %+v", l.Name, l.UseBias, l.KernelInit, l.BiasInit)
				}
			}
			// to_json() holds no training settings; Keras 3's
			// compile_config gives the loss and the metrics
			// (keras_compile.go); the optimizer comes from the command line.
			wantLoss, wantMetrics := "", "[]"
			if tc.file == "keras3-dotkeras-config-mnist-mlp.json" {
				wantLoss, wantMetrics = LossSparseCategoricalCE, "[accuracy]"
			}
			if md.Loss != wantLoss || md.Optimizer != nil || fmt.Sprint(md.Metrics) != wantMetrics {
				t.Errorf("loss %q optimizer %v metrics %v, want %q, none, %s", md.Loss, md.Optimizer, md.Metrics, wantLoss, wantMetrics)
			}
			m, err := md.Build()
			if err != nil {
				t.Fatal(err)
			}
			if err := ir.Verify(m); err != nil {
				t.Fatal(err)
			}
			// With training settings added (as dlc train does), the train
			// step builds too.
			md.Loss, md.Optimizer = "categorical_crossentropy", passes.Adam(0.001)
			if m, err = md.Build(); err != nil {
				t.Fatal(err)
			}
			if err := ir.Verify(m); err != nil {
				t.Fatal(err)
			}
			if m.Func(passes.TrainStep) == nil {
				t.Error("no train_step")
			}
		})
	}
}

func TestKerasRealFilesRejected(t *testing.T) {
	const unsupported = `layer type not supported (supported: InputLayer, Dense, Activation, Dropout, Flatten, Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Reshape, BatchNormalization, LayerNormalization, Embedding)`
	tests := []struct{ file, path, msg string }{
		{"keras2-dcgan-generator-reshape.json", "config.layers[3].class_name", `layer "leaky_re_lu_20" (LeakyReLU): ` + unsupported},
		{"keras2-functional-conv-autoencoder.json", "class_name", `Keras model class "Functional" is not supported: only Sequential models can be loaded`},
		{"keras2-mobilenet-v1-model-functional.json", "class_name", `Keras model class "Model" is not supported: only Sequential models can be loaded`},
		{"keras3-resnet50-functional-in-sequential.json", "config.layers[1].class_name", `layer "resnet50" (Functional): nested models are not supported`},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			p := kerasFile(t, tc.file)
			_, err := LoadFile(p)
			if err == nil {
				t.Fatal("loaded; want an error")
			}
			re := regexp.MustCompile(`^` + regexp.QuoteMeta(p) + `:\d+:\d+: ` + regexp.QuoteMeta(tc.path+": "+tc.msg))
			if !re.MatchString(err.Error()) {
				t.Errorf("error\n  %v\nwant\n  %s", err, re)
			}
		})
	}
	// Every file of the folder is covered by one of the two tests.
	files, _ := filepath.Glob(filepath.Join(kerasModels, "*.json"))
	known := map[string]bool{"keras2-mnist-mlp-dense-only.json": true, "keras2-15-mnist-mlp-transitional.json": true, "keras3-dotkeras-config-mnist-mlp.json": true}
	for _, tc := range tests {
		known[tc.file] = true
	}
	for _, f := range append(kerasImageFiles, kerasNormFiles...) { // layers_conv_test.go, layers_norm_test.go
		known[f] = true
	}
	for _, f := range files {
		if !known[filepath.Base(f)] {
			t.Errorf("%s is not covered by the Keras tests", f)
		}
	}
}

// Builders of small Keras documents.

func kerasSeq(layers ...string) string {
	return `{"class_name": "Sequential", "config": {"name": "seq", "layers": [` + strings.Join(layers, ", ") + `]}, "keras_version": "2.4.0", "backend": "tensorflow"}`
}

const kInput784 = `{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 784], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}}`

// kDense is a Keras 2 Dense layer; extra is spliced into its config.
func kDense(name string, units int, extra string) string {
	cfg := fmt.Sprintf(`"name": %q, "trainable": true, "dtype": "float32", "units": %d, "activation": "relu", "use_bias": true, `+
		`"kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}}, `+
		`"kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null`, name, units)
	if extra != "" {
		cfg += ", " + extra
	}
	return `{"class_name": "Dense", "config": {` + cfg + `}}`
}

// kerasErr loads doc as model.json and checks the error's path and
// message: "model.json:L:C: path: msg...".
func kerasErr(t *testing.T, doc, path, msg string) {
	t.Helper()
	_, err := Load("model.json", []byte(doc))
	if err == nil {
		t.Fatalf("loaded; want an error %s: %s", path, msg)
	}
	want := path + ": " + msg
	if path == "" {
		want = msg
	}
	re := regexp.MustCompile(`^model\.json:\d+:\d+: ` + regexp.QuoteMeta(want))
	if !re.MatchString(err.Error()) {
		t.Errorf("error\n  %v\nwant\n  model.json:L:C: %s", err, want)
	}
	var je *jsontree.Error
	if !errors.As(err, &je) || je.Line == 0 {
		t.Errorf("error %v is not positioned", err)
	}
}

func kerasLoad(t *testing.T, doc string) *Model {
	t.Helper()
	md, err := Load("model.json", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return md
}

func TestKerasForms(t *testing.T) {
	layers := []string{kDense("d1", 8, `"batch_input_shape": [null, 4]`), kDense("d2", 2, "")}
	keras2 := kerasSeq(layers...)
	old := `{"class_name": "Sequential", "config": [` + strings.Join(layers, ", ") + `], "keras_version": "2.0.6", "backend": "tensorflow"}`
	tfjs := `{"format": "layers-model", "generatedBy": "keras v2.1.6", "convertedBy": "TensorFlow.js Converter v3.19.0", ` +
		`"modelTopology": {"keras_version": "2.1.6", "backend": "tensorflow", "model_config": ` + old + `, "training_config": {"loss": "mse"}}, ` +
		`"weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": []}]}`
	bare := `{"modelTopology": ` + keras2 + `, "weightsManifest": [], "format": "layers-model"}`
	for name, doc := range map[string]string{"keras2": keras2, "list config": old, "tfjs": tfjs, "tfjs bare topology": bare} {
		t.Run(name, func(t *testing.T) {
			md := kerasLoad(t, doc)
			if got := layerSummary(md); got != "d1:dense:8:relu d2:dense:2:relu" {
				t.Errorf("layers %s", got)
			}
			if fmt.Sprint(md.Input) != "[4]" {
				t.Errorf("input %v", md.Input)
			}
			if want := "seq"; name == "list config" || name == "tfjs" {
				if md.Name != "sequential" {
					t.Errorf("name %q, want the default sequential", md.Name)
				}
			} else if md.Name != want {
				t.Errorf("name %q, want %q", md.Name, want)
			}
			if want := (TrainSettings{Epochs: 1, BatchSize: 32, Shuffle: true}); md.Train != want {
				t.Errorf("train %+v, want Keras fit's defaults %+v", md.Train, want)
			}
		})
	}
}

// A Keras 3 document with every supported layer, the fields Keras 3 adds,
// and a compile_config (whose loss is read).
func TestKeras3AllLayers(t *testing.T) {
	policy := `{"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null, "shared_object_id": 140}`
	init := func(class, cfg string) string {
		return `{"module": "keras.initializers", "class_name": "` + class + `", "config": ` + cfg + `, "registered_name": null}`
	}
	doc := `{"module": "keras", "class_name": "Sequential", "config": {"name": "k3", "trainable": true, "dtype": ` + policy + `, "layers": [
	  {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 4, 3], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_layer", "optional": false}, "registered_name": null},
	  {"module": "keras.layers", "class_name": "Flatten", "config": {"name": "flatten", "trainable": true, "dtype": ` + policy + `, "data_format": "channels_last"}, "registered_name": null, "build_config": {"input_shape": [null, 4, 3]}},
	  {"module": "keras.layers", "class_name": "Dense", "config": {"name": "hidden", "trainable": true, "dtype": ` + policy + `, "units": 5, "activation": "linear", "use_bias": false,
	     "kernel_initializer": ` + init("VarianceScaling", `{"scale": 2.0, "mode": "fan_out", "distribution": "untruncated_normal", "seed": 7}`) + `,
	     "bias_initializer": ` + init("Constant", `{"value": 0.1}`) + `,
	     "kernel_regularizer": null, "bias_regularizer": null, "kernel_constraint": null, "bias_constraint": null, "quantization_config": null, "lora_rank": null},
	   "registered_name": null, "build_config": {"input_shape": [null, 12]}},
	  {"module": "keras.layers", "class_name": "Activation", "config": {"name": "act", "trainable": true, "dtype": ` + policy + `, "activation": "tanh"}, "registered_name": null},
	  {"module": "keras.layers", "class_name": "Dropout", "config": {"name": "drop", "trainable": true, "dtype": ` + policy + `, "rate": 0.25, "seed": null, "noise_shape": null}, "registered_name": null},
	  {"module": "keras.layers", "class_name": "Dense", "config": {"name": "out", "trainable": true, "dtype": ` + policy + `, "units": 3, "activation": "softmax", "use_bias": true,
	     "kernel_initializer": ` + init("HeNormal", `{"seed": null}`) + `, "bias_initializer": ` + init("Ones", `{}`) + `,
	     "kernel_regularizer": null, "bias_regularizer": null, "kernel_constraint": null, "bias_constraint": null, "quantization_config": null}, "registered_name": null}
	], "build_input_shape": [null, 4, 3]},
	"registered_name": null, "build_config": {"input_shape": [null, 4, 3]},
	"compile_config": {"optimizer": {"module": "keras.optimizers", "class_name": "Adam", "config": {"learning_rate": 0.01}}, "loss": "categorical_crossentropy", "metrics": ["accuracy"]}}`
	md := kerasLoad(t, doc)
	if md.Name != "k3" || fmt.Sprint(md.Input) != "[4 3]" {
		t.Errorf("name %q input %v", md.Name, md.Input)
	}
	if got, want := layerSummary(md), "flatten:flatten hidden:dense:5:linear act:activation:tanh drop:dropout:0.25 out:dense:3:softmax"; got != want {
		t.Errorf("layers\n  %s\nwant\n  %s", got, want)
	}
	h := md.Layers[1]
	if h.UseBias || h.KernelInit != (runtime.InitSpec{Kind: "variance_scaling", Scale: 2, Mode: "fan_out", Distribution: "untruncated_normal"}) ||
		h.BiasInit != (runtime.InitSpec{Kind: "constant", Value: 0.1}) {
		t.Errorf("hidden: %+v", h)
	}
	o := md.Layers[4]
	if o.KernelInit != (runtime.InitSpec{Kind: "he_normal"}) || o.BiasInit != (runtime.InitSpec{Kind: "ones"}) {
		t.Errorf("out: %+v", o)
	}
	// compile_config gives the loss; the optimizer comes from flags.
	if md.Loss != LossCategoricalCE || md.Optimizer != nil {
		t.Errorf("loss %q optimizer %v", md.Loss, md.Optimizer)
	}
	m, err := md.Build()
	if err != nil {
		t.Fatal(err)
	}
	if w := m.Weight("hidden/kernel"); w == nil || w.Type.String() != "f32[12,5]" {
		t.Errorf("hidden/kernel %v", w)
	}
	if m.Weight("hidden/bias") != nil {
		t.Error("hidden has a bias with use_bias false")
	}
}

func TestKerasInitializers(t *testing.T) {
	tests := []struct {
		json string
		want runtime.InitSpec
	}{
		{`{"class_name": "Zeros", "config": {}}`, runtime.InitSpec{Kind: "zeros"}},
		{`{"class_name": "Ones", "config": {}}`, runtime.InitSpec{Kind: "ones"}},
		{`{"class_name": "Constant", "config": {"value": -2}}`, runtime.InitSpec{Kind: "constant", Value: -2}},
		{`{"class_name": "Constant", "config": {}}`, runtime.InitSpec{Kind: "constant"}},
		{`{"class_name": "RandomNormal", "config": {"mean": 0.5, "stddev": 0.2, "seed": 3}}`, runtime.InitSpec{Kind: "random_normal", Mean: 0.5, Stddev: 0.2}},
		{`{"class_name": "RandomNormal", "config": {}}`, runtime.InitSpec{Kind: "random_normal", Stddev: 0.05}},
		{`{"class_name": "RandomUniform", "config": {"minval": -1, "maxval": 1, "seed": null}}`, runtime.InitSpec{Kind: "random_uniform", Minval: -1, Maxval: 1}},
		{`{"class_name": "RandomUniform", "config": {"seed": null}}`, runtime.InitSpec{Kind: "random_uniform", Minval: -0.05, Maxval: 0.05}},
		{`{"class_name": "TruncatedNormal", "config": {"mean": 0, "stddev": 0.01, "seed": null}}`, runtime.InitSpec{Kind: "truncated_normal", Stddev: 0.01}},
		{`{"class_name": "GlorotUniform", "config": {"seed": null}}`, runtime.InitSpec{Kind: "glorot_uniform"}},
		{`{"class_name": "GlorotNormal", "config": {"seed": 1}}`, runtime.InitSpec{Kind: "glorot_normal"}},
		{`{"class_name": "HeUniform", "config": {"seed": null}}`, runtime.InitSpec{Kind: "he_uniform"}},
		{`{"class_name": "HeNormal", "config": {"seed": null}}`, runtime.InitSpec{Kind: "he_normal"}},
		{`{"class_name": "LecunUniform", "config": {"seed": null}}`, runtime.InitSpec{Kind: "lecun_uniform"}},
		{`{"class_name": "LecunNormal", "config": {"seed": null}}`, runtime.InitSpec{Kind: "lecun_normal"}},
		// Keras ≤ 2.2 wrote glorot_uniform as a VarianceScaling.
		{`{"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": null}}`,
			runtime.InitSpec{Kind: "variance_scaling", Scale: 1, Mode: "fan_avg", Distribution: "uniform"}},
		// "normal" is Keras 2's old name of truncated_normal.
		{`{"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_in", "distribution": "normal", "seed": null}}`,
			runtime.InitSpec{Kind: "variance_scaling", Scale: 2, Mode: "fan_in", Distribution: "truncated_normal"}},
		{`{"class_name": "VarianceScaling", "config": {}}`, runtime.InitSpec{Kind: "variance_scaling", Scale: 1, Mode: "fan_in", Distribution: "truncated_normal"}},
		// tf.keras 1.x put the dtype into initializer configs.
		{`{"class_name": "GlorotUniform", "config": {"seed": null, "dtype": "float32"}}`, runtime.InitSpec{Kind: "glorot_uniform"}},
		// Keras 3's module and registered_name.
		{`{"module": "keras.initializers", "class_name": "HeUniform", "config": {"seed": null}, "registered_name": null}`, runtime.InitSpec{Kind: "he_uniform"}},
		// The string forms.
		{`"glorot_uniform"`, runtime.InitSpec{Kind: "glorot_uniform"}},
		{`"random_normal"`, runtime.InitSpec{Kind: "random_normal", Stddev: 0.05}},
		{`"LecunNormal"`, runtime.InitSpec{Kind: "lecun_normal"}},
	}
	for _, tc := range tests {
		doc := kerasSeq(kInput784, `{"class_name": "Dense", "config": {"name": "d", "units": 3, "kernel_initializer": `+tc.json+`}}`)
		md := kerasLoad(t, doc)
		if got := md.Layers[0].KernelInit; got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.json, got, tc.want)
		}
		if err := runtime.ValidateInitSpec(md.Layers[0].KernelInit); err != nil {
			t.Errorf("%s: %v", tc.json, err)
		}
	}
}

func TestKerasErrors(t *testing.T) {
	dense := func(extra string) string { return kerasSeq(kInput784, kDense("dense", 10, extra)) }
	// A Dense config without the initializer fields, for tests that set them.
	bareDense := func(fields string) string {
		return kerasSeq(kInput784, `{"class_name": "Dense", "config": {"name": "dense", "units": 10, `+fields+`}}`)
	}
	layer := func(class, cfg string) string {
		return kerasSeq(kInput784, `{"class_name": "`+class+`", "config": {"name": "x", `+cfg+`}}`)
	}
	const l1 = "config.layers[1]"
	tests := []struct {
		name, doc, path, msg string
	}{
		// Unsupported models and layers.
		{"functional", `{"class_name": "Functional", "config": {"name": "f", "layers": [], "input_layers": [], "output_layers": []}}`,
			"class_name", `Keras model class "Functional" is not supported`},
		{"not a model", `{"class_name": "Dense", "config": {}}`, "class_name", `class_name "Dense" is not a Keras model (want "Sequential")`},
		{"nested sequential", kerasSeq(kInput784, `{"class_name": "Sequential", "config": {"name": "inner", "layers": []}}`),
			l1 + ".class_name", `layer "inner" (Sequential): nested models are not supported`},
		{"conv2d", kerasSeq(`{"class_name": "Conv2D", "config": {"name": "conv2d", "filters": 8}}`),
			"config.layers[0].config", `layer "conv2d" (Conv2D): missing field "kernel_size"`},
		{"unnamed layer of an unknown class", kerasSeq(kInput784, `{"class_name": "LSTM", "config": {}}`),
			l1 + ".class_name", `layer "lstm" (LSTM): layer type not supported`},
		{"tfjs graph model", `{"format": "graph-model", "modelTopology": {"node": []}}`, "format", `TF.js format "graph-model" is not supported`},
		// Settings that change the meaning.
		{"kernel regularizer", dense(`"kernel_regularizer_x": 1`), l1 + ".config.kernel_regularizer_x",
			`unknown field "kernel_regularizer_x" in layer "dense" (Dense)`},
		{"kernel regularizer set", bareDense(`"kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.01}}`),
			l1 + ".config.kernel_regularizer", `layer "dense" (Dense): kernel_regularizer is not supported (it must be null)`},
		{"bias regularizer", bareDense(`"bias_regularizer": {"class_name": "L2", "config": {"l2": 0.01}}`),
			l1 + ".config.bias_regularizer", `layer "dense" (Dense): bias_regularizer is not supported`},
		{"activity regularizer", bareDense(`"activity_regularizer": {"class_name": "L1", "config": {"l1": 0.01}}`),
			l1 + ".config.activity_regularizer", `layer "dense" (Dense): activity_regularizer is not supported`},
		{"kernel constraint", bareDense(`"kernel_constraint": {"class_name": "MaxNorm", "config": {"max_value": 2, "axis": 0}}`),
			l1 + ".config.kernel_constraint", `layer "dense" (Dense): kernel_constraint is not supported`},
		{"bias constraint", bareDense(`"bias_constraint": {"class_name": "NonNeg", "config": {}}`),
			l1 + ".config.bias_constraint", `layer "dense" (Dense): bias_constraint is not supported`},
		{"lora", dense(`"lora_rank": 4, "lora_alpha": 4`), l1 + ".config.lora_rank", `layer "dense" (Dense): lora_rank 4 is not supported`},
		{"quantization", dense(`"quantization_config": {"class_name": "Int8QuantizationConfig"}`), l1 + ".config.quantization_config",
			`layer "dense" (Dense): quantization_config is not supported`},
		{"float16 dtype", bareDense(`"dtype": "float16"`), l1 + ".config.dtype", `layer "dense" (Dense): dtype "float16" is not supported (dlc computes in float32)`},
		{"mixed policy", bareDense(`"dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "mixed_float16"}, "registered_name": null}`),
			l1 + ".config.dtype.config.name", `layer "dense" (Dense): dtype policy "mixed_float16" is not supported`},
		{"quantized policy", bareDense(`"dtype": {"class_name": "QuantizedDTypePolicy", "config": {"name": "int8_from_float32"}}`),
			l1 + ".config.dtype.class_name", `layer "dense" (Dense): dtype policy "QuantizedDTypePolicy" is not supported`},
		{"model dtype", `{"class_name": "Sequential", "config": {"name": "s", "dtype": {"class_name": "DTypePolicy", "config": {"name": "bfloat16"}}, "layers": [` + kInput784 + `]}}`,
			"config.dtype.config.name", `dtype policy "bfloat16" is not supported`},
		{"sparse input", kerasSeq(`{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "sparse": true, "name": "in"}}`, kDense("d", 1, "")),
			"config.layers[0].config.sparse", `layer "in" (InputLayer): sparse inputs are not supported (sparse must be false)`},
		{"ragged input", kerasSeq(`{"class_name": "InputLayer", "config": {"batch_shape": [null, 4], "ragged": true, "name": "in"}}`, kDense("d", 1, "")),
			"config.layers[0].config.ragged", `layer "in" (InputLayer): ragged inputs are not supported`},
		{"dropout noise shape", layer("Dropout", `"rate": 0.5, "noise_shape": [null, 1], "seed": null`), l1 + ".config.noise_shape",
			`layer "x" (Dropout): noise_shape is not supported (it must be null)`},
		{"dropout seed", layer("Dropout", `"rate": 0.5, "noise_shape": null, "seed": 42`), l1 + ".config.seed", `layer "x" (Dropout): seed is not supported (it must be null)`},
		{"dropout rate", layer("Dropout", `"rate": 1.5`), l1 + ".config.rate", `layer "x" (Dropout): rate must be in [0, 1), is 1.5`},
		{"dropout without rate", layer("Dropout", `"trainable": true`), l1 + ".config", `layer "x" (Dropout): missing field "rate"`},
		{"flatten channels_first", kerasSeq(`{"class_name": "InputLayer", "config": {"batch_shape": [null, 3, 8, 8], "name": "in"}}`,
			`{"class_name": "Flatten", "config": {"name": "flatten", "data_format": "channels_first"}}`, kDense("d", 2, "")),
			"config.layers[1].config.data_format", `layer "flatten" (Flatten): data_format "channels_first" is not supported on an input of shape [3, 8, 8] per sample`},
		{"flatten bad data_format", layer("Flatten", `"data_format": "nhwc"`), l1 + ".config.data_format", `layer "x" (Flatten): unknown data_format "nhwc"`},
		// Activations.
		{"unsupported activation", bareDense(`"activation": "elu"`), l1 + ".config.activation",
			`layer "dense" (Dense): activation "elu" is not supported (supported: linear, relu, sigmoid, tanh, softmax)`},
		{"activation layer relu6", layer("Activation", `"activation": "relu6"`), l1 + ".config.activation", `layer "x" (Activation): activation "relu6" is not supported`},
		{"activation layer without activation", layer("Activation", `"trainable": true`), l1 + ".config", `layer "x" (Activation): missing field "activation"`},
		{"activation object", bareDense(`"activation": {"class_name": "LeakyReLU"}`), l1 + ".config.activation", `layer "dense" (Dense): want a string, got an object`},
		// Initializers.
		{"unknown initializer", bareDense(`"kernel_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": null}}`),
			l1 + ".config.kernel_initializer.class_name", `layer "dense" (Dense): kernel_initializer: unknown initializer "Orthogonal" (supported: Zeros, Ones,`},
		{"unknown initializer name", bareDense(`"bias_initializer": "identity"`), l1 + ".config.bias_initializer",
			`layer "dense" (Dense): bias_initializer: unknown initializer "identity"`},
		{"initializer setting of another kind", bareDense(`"kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null, "scale": 2}}`),
			l1 + ".config.kernel_initializer.config.scale", `unknown field "scale" in layer "dense" (Dense)`},
		{"initializer bad setting", bareDense(`"kernel_initializer": {"class_name": "VarianceScaling", "config": {"mode": "fan_sum"}}`),
			l1 + ".config.kernel_initializer", `layer "dense" (Dense): kernel_initializer: initializer "variance_scaling": Mode = "fan_sum" must be`},
		{"initializer bad distribution", bareDense(`"kernel_initializer": {"class_name": "VarianceScaling", "config": {"distribution": "cauchy"}}`),
			l1 + ".config.kernel_initializer", `layer "dense" (Dense): kernel_initializer: initializer "variance_scaling": Distribution = "cauchy" must be`},
		{"initializer seed object", bareDense(`"kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": {"class_name": "SeedGenerator"}}}`),
			l1 + ".config.kernel_initializer.config.seed", `layer "dense" (Dense): want an integer, got an object`},
		{"initializer value wrong type", bareDense(`"kernel_initializer": {"class_name": "Constant", "config": {"value": [1, 2]}}`),
			l1 + ".config.kernel_initializer.config.value", `layer "dense" (Dense): want a number, got an array`},
		{"initializer extra field", bareDense(`"kernel_initializer": {"class_name": "Zeros", "config": {}, "shape": [2]}`),
			l1 + ".config.kernel_initializer.shape", `unknown field "shape" in layer "dense" (Dense)`},
		// Unknown fields, at each level.
		{"unknown layer config field", dense(`"kernel_quantizer": null`), l1 + ".config.kernel_quantizer",
			`unknown field "kernel_quantizer" in layer "dense" (Dense) (dlc does not know this Keras setting, which could change the model's meaning)`},
		{"unknown layer field", kerasSeq(kInput784, `{"class_name": "Flatten", "config": {"name": "f"}, "inbound_nodes": []}`),
			l1 + ".inbound_nodes", `unknown field "inbound_nodes" in layer "f" (Flatten)`},
		{"unknown model field", `{"class_name": "Sequential", "config": {"layers": [` + kInput784 + `]}, "weights": []}`,
			"weights", `unknown field "weights" in the Keras model`},
		{"unknown sequential config field", `{"class_name": "Sequential", "config": {"layers": [` + kInput784 + `], "input_spec": null}}`,
			"config.input_spec", `unknown field "input_spec" in the Sequential config`},
		{"unknown tfjs field", `{"modelTopology": ` + kerasSeq(kInput784, kDense("d", 1, "")) + `, "weightData": ""}`,
			"weightData", `unknown field "weightData" in the TF.js model artifact`},
		{"unknown input layer field", kerasSeq(`{"class_name": "InputLayer", "config": {"batch_shape": [null, 4], "name": "in", "input_tensor": null}}`, kDense("d", 1, "")),
			"config.layers[0].config.input_tensor", `unknown field "input_tensor" in layer "in" (InputLayer)`},
		// Shapes and structure.
		{"no input shape", kerasSeq(kDense("d", 1, "")), "config.layers", `the model's input shape is not given`},
		{"input layer not first", kerasSeq(kDense("d", 1, `"batch_input_shape": [null, 3]`), kInput784), l1, `layer "input_1" (InputLayer): an InputLayer must be the first layer`},
		{"only an input layer", kerasSeq(kInput784), "config.layers", `the model has no layers (besides its input)`},
		{"variable dim", kerasSeq(`{"class_name": "InputLayer", "config": {"batch_shape": [null, null, 4], "name": "in"}}`, kDense("d", 1, "")),
			"config.layers[0].config.batch_shape[1]", `layer "in" (InputLayer): a dim other than the batch dim is null`},
		{"batch only", kerasSeq(`{"class_name": "InputLayer", "config": {"batch_shape": [null], "name": "in"}}`, kDense("d", 1, "")),
			"config.layers[0].config.batch_shape", `layer "in" (InputLayer): want [batch, dims...] with at least one dim after the batch dim`},
		{"zero dim", kerasSeq(`{"class_name": "InputLayer", "config": {"batch_shape": [null, 0], "name": "in"}}`, kDense("d", 1, "")),
			"config.layers[0].config.batch_shape[1]", `layer "in" (InputLayer): dim 0 must be a positive integer`},
		{"huge input", kerasSeq(`{"class_name": "InputLayer", "config": {"batch_shape": [null, 65536, 65536], "name": "in"}}`, kDense("d", 1, "")),
			"config.layers[0].config.batch_shape[2]", `layer "in" (InputLayer): the input has more than 2147483647 elements per sample`},
		{"both shapes", kerasSeq(`{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "batch_shape": [null, 4], "name": "in"}}`, kDense("d", 1, "")),
			"config.layers[0].config.batch_shape", `layer "in" (InputLayer): both batch_input_shape and batch_shape are given`},
		{"dense on a 2-D sample", kerasSeq(`{"class_name": "InputLayer", "config": {"batch_shape": [null, 28, 28], "name": "in"}}`, kDense("d", 1, "")),
			l1, `layer "d" (Dense): input has shape [28, 28] per sample; dlc's Dense takes one vector per sample`},
		{"dense after dropout on a 2-D sample", kerasSeq(`{"class_name": "InputLayer", "config": {"batch_shape": [null, 28, 28], "name": "in"}}`,
			`{"class_name": "Dropout", "config": {"name": "drop", "rate": 0.1}}`, kDense("d", 1, "")),
			"config.layers[2]", `layer "d" (Dense): input has shape [28, 28] per sample`},
		{"duplicate names", kerasSeq(kInput784, kDense("d", 4, ""), kDense("d", 2, "")), "config.layers[2].config.name", `layer name "d" is used twice`},
		{"units zero", kerasSeq(kInput784, `{"class_name": "Dense", "config": {"name": "dense", "units": 0}}`),
			l1 + ".config.units", `layer "dense" (Dense): units must be a positive integer, is 0`},
		{"units string", kerasSeq(kInput784, `{"class_name": "Dense", "config": {"name": "dense", "units": "10"}}`),
			l1 + ".config.units", `layer "dense" (Dense): want an integer, got the string "10"`},
		{"missing units", kerasSeq(kInput784, `{"class_name": "Dense", "config": {"name": "dense"}}`), l1 + ".config", `layer "dense" (Dense): missing field "units"`},
		{"missing config", kerasSeq(kInput784, `{"class_name": "Dense"}`), l1, `layer of class "Dense": missing field "config"`},
		{"missing class_name", kerasSeq(kInput784, `{"config": {}}`), l1, `missing field "class_name"`},
		{"empty name", kerasSeq(kInput784, `{"class_name": "Flatten", "config": {"name": ""}}`), l1 + ".config.name", `layer of class "Flatten": the layer name is empty`},
		{"config not an object", `{"class_name": "Sequential", "config": "layers"}`, "config", `want an object or an array, got a string`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { kerasErr(t, tc.doc, tc.path, tc.msg) })
	}
}

func TestKerasDefaultsAndIgnored(t *testing.T) {
	// Unnamed layers get Keras's default names; a Dense without the
	// optional fields gets Keras's defaults; the first layer's
	// batch_input_shape gives the input; batch_input_shape on later
	// layers, a fixed batch size, trainable and the bookkeeping fields
	// are ignored.
	doc := kerasSeq(
		`{"class_name": "Dense", "config": {"units": 4, "batch_input_shape": [16, 6], "trainable": false, "input_dtype": "float32", "autocast": true}}`,
		`{"class_name": "Dense", "config": {"units": 3, "batch_input_shape": [null, 99], "activation": null, "lora_rank": 0}}`,
		`{"class_name": "Activation", "config": {"activation": "sigmoid"}}`,
		`{"class_name": "Dropout", "config": {"rate": 0}}`,
		`{"class_name": "Flatten", "config": {"data_format": "channels_first"}}`,
		`{"class_name": "Dense", "config": {"units": 2, "kernel_initializer": "he_uniform", "bias_initializer": "zeros"}, "module": "keras.layers", "registered_name": null, "build_config": {"input_shape": [null, 3]}}`,
	)
	md := kerasLoad(t, doc)
	if fmt.Sprint(md.Input) != "[6]" {
		t.Errorf("input %v", md.Input)
	}
	if got, want := layerSummary(md), "dense:dense:4:linear dense_1:dense:3:linear activation:activation:sigmoid dropout:dropout:0 flatten:flatten dense_2:dense:2:linear"; got != want {
		t.Errorf("layers\n  %s\nwant\n  %s", got, want)
	}
	d := md.Layers[0]
	if !d.UseBias || d.KernelInit != (runtime.InitSpec{Kind: "glorot_uniform"}) || d.BiasInit != (runtime.InitSpec{Kind: "zeros"}) {
		t.Errorf("dense defaults: %+v", d)
	}
	if k := md.Layers[5].KernelInit; k != (runtime.InitSpec{Kind: "he_uniform"}) {
		t.Errorf("string initializer: %+v", k)
	}

	// A Keras 2 Sequential built without an InputLayer records
	// build_input_shape.
	md = kerasLoad(t, `{"class_name": "Sequential", "config": {"name": "b", "layers": [`+kDense("d", 2, "")+`], "build_input_shape": [null, 5]}}`)
	if fmt.Sprint(md.Input) != "[5]" {
		t.Errorf("input from build_input_shape: %v", md.Input)
	}
	// An InputLayer wins over build_input_shape.
	md = kerasLoad(t, `{"class_name": "Sequential", "config": {"name": "b", "layers": [`+kInput784+`, `+kDense("d", 2, "")+`], "build_input_shape": [null, 5]}}`)
	if fmt.Sprint(md.Input) != "[784]" {
		t.Errorf("input: %v", md.Input)
	}
	// Layer names are kept verbatim.
	md = kerasLoad(t, kerasSeq(kInput784, kDense("a \"quoted\"\nname`func", 2, "")))
	if md.Layers[0].Name != "a \"quoted\"\nname`func" {
		t.Errorf("name %q", md.Layers[0].Name)
	}
}

// The Keras default names of layer classes.
func TestKerasSnake(t *testing.T) {
	for class, want := range map[string]string{
		"Conv2D": "conv2d", "MaxPooling2D": "max_pooling2d", "BatchNormalization": "batch_normalization",
		"LeakyReLU": "leaky_re_lu", "GlobalAveragePooling2D": "global_average_pooling2d", "Dense": "dense", "LSTM": "lstm",
	} {
		if got := kerasSnake(class); got != want {
			t.Errorf("kerasSnake(%q) = %q, want %q", class, got, want)
		}
	}
}
