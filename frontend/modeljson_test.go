package frontend

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dlc-project/dlc/frontend/jsontree"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/passes"
	"github.com/dlc-project/dlc/runtime"
)

// oneLayer is a model.json with the given layer line(s) at line 5, col 5.
func oneLayer(layers string) string {
	return `{
  "name": "m",
  "input": {"shape": [784]},
  "layers": [
    ` + layers + `
  ]
}`
}

// loadErr loads doc as model.json and checks that the error holds each
// of wants (the first of which is normally "model.json:LINE:COL: PATH: ").
func loadErr(t *testing.T, doc string, wants ...string) error {
	t.Helper()
	md, err := Load("model.json", []byte(doc))
	if err == nil {
		t.Fatalf("Load succeeded (%+v); want an error containing %q", md, wants)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error\n  %v\nwant it to contain\n  %s", err, w)
		}
	}
	return err
}

// loadErrAt is loadErr where the error may start with any of positions
// (each "file:line:col: ") followed by msg.
func loadErrAt(t *testing.T, doc string, positions []string, msg string) {
	t.Helper()
	_, err := Load("model.json", []byte(doc))
	if err == nil {
		t.Fatalf("Load succeeded; want an error %q", msg)
	}
	for _, p := range positions {
		if strings.HasPrefix(err.Error(), p+msg) {
			return
		}
	}
	t.Errorf("error\n  %v\nwant one of %q followed by\n  %s", err, positions, msg)
}

func mustLoad(t *testing.T, doc string) *Model {
	t.Helper()
	md, err := Load("model.json", []byte(doc))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return md
}

func TestLoadSyntaxErrors(t *testing.T) {
	// Cut off in the middle of a layer: the error points at the end of
	// the file.
	loadErr(t, "{\n  \"input\": {\"shape\": [784]},\n  \"layers\": [\n    {\"type\": \"dense\", \"units\": 10",
		"model.json:4:34: invalid JSON: unexpected end of file")
	loadErr(t, "{\n  \"input\": {\"shape\": [784]},\n  \"layers\": []\n", "model.json:4:1: invalid JSON: unexpected end of file")
	// A trailing comma: the error points at the closing brace. (jsontree
	// places errors that json.Decoder.Token reports itself one byte early,
	// at the comma; both are accepted until it is fixed.)
	loadErrAt(t, "{\n  \"name\": \"m\",\n}", []string{"model.json:3:1: ", "model.json:2:15: "},
		"invalid JSON: invalid character '}' looking for beginning of object key string")
	loadErrAt(t, oneLayer(`{"type": "dense", "units": 10,}`), []string{"model.json:5:35: ", "model.json:5:34: "},
		"invalid JSON: invalid character '}' looking for beginning of object key string")
	loadErrAt(t, `[1, 2,]`, []string{"model.json:1:7: ", "model.json:1:6: "}, "invalid JSON: invalid character ']' looking for beginning of value")
	loadErr(t, `{"input": {"shape": [784]}} {}`, "model.json:1:29: unexpected data after the top-level value")
	loadErr(t, `[1, 2]`, "model.json:1:1: want an object, got an array")
	loadErr(t, "", "model.json:1:1: invalid JSON: unexpected end of file")
	loadErr(t, `{"name": "a", "name": "b"}`, "model.json:1:15: name: field given twice")
}

func TestLoadFieldErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"unknown top-level field", "{\n  \"input\": {\"shape\": [4]},\n  \"layers\": [{\"type\": \"flatten\"}],\n  \"epochs\": 3\n}",
			`model.json:4:13: epochs: unknown field "epochs" (known fields: name, input, layers, loss, optimizer, metrics, train)`},
		{"unknown input field", `{"input": {"shape": [4], "dtype": "f32"}, "layers": [{"type": "flatten"}]}`,
			`model.json:1:35: input.dtype: unknown field "dtype" (known fields: shape)`},
		{"missing input", `{"layers": [{"type": "flatten"}]}`, `model.json:1:1: missing field "input"`},
		{"missing layers", `{"input": {"shape": [4]}}`, `model.json:1:1: missing field "layers"`},
		{"no layers", `{"input": {"shape": [4]}, "layers": []}`, `model.json:1:37: layers: a model needs at least one layer`},
		{"bad dim", `{"input": {"shape": [4, 0]}, "layers": [{"type": "flatten"}]}`, `model.json:1:25: input.shape[1]: dim 0 must be a positive integer`},
		{"empty shape", `{"input": {"shape": []}, "layers": [{"type": "flatten"}]}`, `model.json:1:21: input.shape: the shape must have at least one dim`},
		{"unknown layer field", oneLayer(`{"type": "dense", "units": 10, "activaton": "relu"}`),
			`model.json:5:49: layers[0].activaton: unknown field "activaton" (known fields: type, name, units, activation, use_bias, kernel_initializer, bias_initializer, trainable)`},
		{"field of another layer type", oneLayer(`{"type": "flatten", "units": 10}`),
			`model.json:5:34: layers[0].units: unknown field "units" (known fields: type, name)`},
		{"unknown layer type", oneLayer(`{"type": "lstm", "units": 8}`),
			`model.json:5:14: layers[0].type: unknown layer type "lstm" (known: dense, activation, dropout, flatten, conv2d, max_pooling2d, average_pooling2d, global_average_pooling2d, reshape, batch_normalization, layer_normalization, embedding)`},
		{"missing type", oneLayer(`{"units": 10}`), `model.json:5:5: layers[0]: missing field "type"`},
		{"unknown activation", oneLayer(`{"type": "dense", "units": 10, "activation": "gelu"}`),
			`model.json:5:50: layers[0].activation: unknown activation "gelu" (known: linear, relu, sigmoid, tanh, softmax)`},
		{"activation layer without activation", oneLayer(`{"type": "activation"}`), `model.json:5:5: layers[0]: missing field "activation"`},
		{"units a string", oneLayer(`{"type": "dense", "units": "64"}`),
			`model.json:5:32: layers[0].units: want an integer, got the string "64"`},
		{"units zero", oneLayer(`{"type": "dense", "units": 0}`),
			`model.json:5:32: layers[0].units: units must be a positive integer, is 0`},
		{"units negative", oneLayer(`{"type": "dense", "units": -3}`),
			`model.json:5:32: layers[0].units: units must be a positive integer, is -3`},
		{"units fractional", oneLayer(`{"type": "dense", "units": 1.5}`),
			`model.json:5:32: layers[0].units: want an integer, got the number 1.5`},
		{"missing units", oneLayer(`{"type": "dense"}`), `model.json:5:5: layers[0]: missing field "units"`},
		{"use_bias not a bool", oneLayer(`{"type": "dense", "units": 1, "use_bias": 1}`),
			`model.json:5:47: layers[0].use_bias: want a boolean, got the number 1`},
		{"dropout rate 1", oneLayer(`{"type": "dropout", "rate": 1}`),
			`model.json:5:33: layers[0].rate: rate must be in [0, 1), is 1`},
		{"layer not an object", oneLayer(`"dense"`), `model.json:5:5: layers[0]: want an object, got the string "dense"`},
		{"empty layer name", oneLayer(`{"type": "flatten", "name": ""}`), `model.json:5:33: layers[0].name: the layer name is empty`},
		{"duplicate layer names", oneLayer("{\"type\": \"dense\", \"units\": 8, \"name\": \"hidden\"},\n    {\"type\": \"dense\", \"units\": 8, \"name\": \"hidden\"}"),
			`model.json:6:43: layers[1].name: layer name "hidden" is used twice`},
		{"explicit name clashes with a default", oneLayer("{\"type\": \"dense\", \"units\": 8},\n    {\"type\": \"dense\", \"units\": 8, \"name\": \"dense\"}"),
			`model.json:6:43: layers[1].name: layer name "dense" is used twice`},
		{"unknown initializer", oneLayer(`{"type": "dense", "units": 8, "kernel_initializer": "orthogonal"}`),
			`model.json:5:57: layers[0].kernel_initializer: unknown initializer "orthogonal" (known: zeros, ones, constant,`},
		{"unknown initializer type", oneLayer(`{"type": "dense", "units": 8, "bias_initializer": {"type": "Zeros"}}`),
			`model.json:5:64: layers[0].bias_initializer.type: unknown initializer "Zeros"`},
		{"initializer setting of another kind", oneLayer(`{"type": "dense", "units": 8, "kernel_initializer": {"type": "glorot_uniform", "scale": 2}}`),
			`model.json:5:93: layers[0].kernel_initializer.scale: unknown field "scale" (known fields: type)`},
		{"initializer setting wrong type", oneLayer(`{"type": "dense", "units": 8, "kernel_initializer": {"type": "random_normal", "stddev": "0.1"}}`),
			`model.json:5:93: layers[0].kernel_initializer.stddev: want a number, got the string "0.1"`},
		{"initializer bad setting", oneLayer(`{"type": "dense", "units": 8, "kernel_initializer": {"type": "variance_scaling", "mode": "fan_sum"}}`),
			`model.json:5:57: layers[0].kernel_initializer: initializer "variance_scaling": Mode = "fan_sum" must be`},
		{"initializer negative stddev", oneLayer(`{"type": "dense", "units": 8, "kernel_initializer": {"type": "truncated_normal", "stddev": -1}}`),
			`model.json:5:57: layers[0].kernel_initializer: initializer "truncated_normal": Stddev = -1 must not be negative`},
		{"initializer without type", oneLayer(`{"type": "dense", "units": 8, "kernel_initializer": {"stddev": 1}}`),
			`model.json:5:57: layers[0].kernel_initializer: missing field "type"`},
		{"unknown optimizer", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse", "optimizer": {"type": "lamb"}}`,
			`model.json:1:97: optimizer.type: unknown optimizer "lamb" (known: sgd, adam, adamw, adagrad, rmsprop)`},
		{"rmsprop field on adam", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse", "optimizer": {"type": "adam", "rho": 0.9}}`,
			`model.json:1:112: optimizer.rho: unknown field "rho" (known fields: type, learning_rate, beta_1, beta_2, epsilon, epsilon_style, weight_decay, clipnorm, clipvalue, schedule)`},
		{"centered not a bool", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse", "optimizer": {"type": "rmsprop", "centered": 1}}`,
			`model.json:1:120: optimizer.centered: want a boolean, got the number 1`},
		{"rho out of range", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse", "optimizer": {"type": "rmsprop", "rho": 1.5}}`,
			`model.json:1:115: optimizer.rho: optimizer rmsprop: rho is 1.5, want a number in [0, 1)`},
		{"negative weight decay", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse", "optimizer": {"type": "adamw", "weight_decay": -0.1}}`,
			`model.json:1:122: optimizer.weight_decay: optimizer adamw: weight_decay is -0.1, want a number >= 0`},
		{"zero clipnorm", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse", "optimizer": {"type": "sgd", "clipnorm": 0}}`,
			`model.json:1:116: optimizer.clipnorm: clipnorm must be a positive number, is 0 (leave it out for no clipping)`},
		{"negative clipvalue", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse", "optimizer": {"type": "sgd", "clipvalue": -1}}`,
			`model.json:1:117: optimizer.clipvalue: clipvalue must be a positive number, is -1`},
		{"adagrad negative accumulator", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse", "optimizer": {"type": "adagrad", "initial_accumulator_value": -1}}`,
			`model.json:1:137: optimizer.initial_accumulator_value: optimizer adagrad: initial_accumulator_value is -1, want a number >= 0`},
		{"unknown schedule", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse", "optimizer": {"type": "sgd", "schedule": {"type": "linear"}}}`,
			`model.json:1:125: optimizer.schedule.type: unknown schedule "linear" (known: constant, step, exponential, cosine)`},
		{"schedule without type", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse", "optimizer": {"type": "sgd", "schedule": {"step_size": 3}}}`,
			`model.json:1:116: optimizer.schedule: missing field "type" (constant, step, exponential, cosine)`},
		{"step schedule without steps", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse", "optimizer": {"type": "sgd", "schedule": {"type": "step", "gamma": 0.5}}}`,
			`model.json:1:116: optimizer.schedule: schedule step needs "step_size", the number of steps of its period`},
		{"step schedule zero steps", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse", "optimizer": {"type": "sgd", "schedule": {"type": "step", "step_size": 0}}}`,
			`model.json:1:146: optimizer.schedule.step_size: step_size must be a positive number of steps below 2^24, is 0`},
		{"cosine without t_max", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse", "optimizer": {"type": "sgd", "schedule": {"type": "cosine"}}}`,
			`model.json:1:116: optimizer.schedule: schedule cosine needs "t_max", the number of steps of its period`},
		{"exponential without gamma", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse", "optimizer": {"type": "sgd", "schedule": {"type": "exponential"}}}`,
			`model.json:1:116: optimizer.schedule: schedule exponential needs "gamma"`},
		{"bad gamma", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse", "optimizer": {"type": "sgd", "schedule": {"type": "exponential", "gamma": 1.5}}}`,
			`model.json:1:149: optimizer.schedule.gamma: schedule exponential: gamma is 1.5, want a number in (0, 1]`},
		{"schedule field of another type", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse", "optimizer": {"type": "sgd", "schedule": {"type": "cosine", "t_max": 10, "gamma": 0.5}}}`,
			`model.json:1:157: optimizer.schedule.gamma: unknown field "gamma" (known fields: type, t_max, eta_min, warmup_steps)`},
		{"negative warmup", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse", "optimizer": {"type": "sgd", "schedule": {"type": "constant", "warmup_steps": -1}}}`,
			`model.json:1:153: optimizer.schedule.warmup_steps: warmup_steps must be a positive number of steps below 2^24, is -1`},
		{"unknown optimizer field", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse", "optimizer": {"type": "sgd", "beta_1": 0.9}}`,
			`model.json:1:114: optimizer.beta_1: unknown field "beta_1" (known fields: type, learning_rate, momentum, nesterov, weight_decay, clipnorm, clipvalue, schedule)`},
		{"negative learning rate", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse", "optimizer": {"type": "adam", "learning_rate": -0.001}}`,
			`model.json:1:122: optimizer.learning_rate: optimizer adam: learning_rate is -0.001, want a positive number`},
		{"beta out of range", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse", "optimizer": {"type": "adam", "beta_2": 1}}`,
			`model.json:1:115: optimizer.beta_2: optimizer adam: beta_2 is 1, want a number in [0, 1)`},
		{"bad epsilon style", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse", "optimizer": {"type": "adam", "epsilon_style": "tf"}}`,
			`model.json:1:122: optimizer.epsilon_style: optimizer adam: epsilon_style is "tf", want "pytorch" or "keras"`},
		{"nesterov without momentum", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse", "optimizer": {"type": "sgd", "nesterov": true}}`,
			`model.json:1:116: optimizer.nesterov: optimizer sgd: nesterov needs a momentum > 0`},
		{"unknown loss", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "hinge", "optimizer": {"type": "sgd"}}`,
			`model.json:1:68: loss: unknown loss "hinge" (known: categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy, mse, mae, huber)`},
		{"loss without optimizer", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "loss": "mse"}`,
			`model.json:1:1: a model with a loss needs an "optimizer"`},
		{"optimizer without loss", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "optimizer": {"type": "sgd"}}`,
			`model.json:1:1: a model with an optimizer needs a "loss"`},
		{"unknown metric", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "metrics": ["auc"]}`,
			`model.json:1:72: metrics[0]: unknown metric "auc" (known: accuracy, top_k_accuracy and their Keras names)`},
		{"unknown dataset", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "train": {"dataset": "cifar10"}}`,
			`model.json:1:81: train.dataset: unknown dataset "cifar10"`},
		{"bad epochs", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "train": {"epochs": 0}}`,
			`model.json:1:80: train.epochs: epochs must be a positive integer, is 0`},
		{"unknown train field", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "train": {"lr": 0.1}}`,
			`model.json:1:76: train.lr: unknown field "lr" (known fields: epochs, batch_size, dataset, shuffle, seed)`},
		{"negative seed", `{"input": {"shape": [4]}, "layers": [{"type": "flatten"}], "train": {"seed": -1}}`,
			`model.json:1:78: train.seed: seed must be >= 0, is -1`},
		// The shape check traces the model: a 2-D sample fed straight into
		// dense is reported naming the dense layer and the shape.
		{"incompatible shapes", `{"input": {"shape": [28, 28]}, "layers": [{"type": "dense", "units": 10}]}`,
			`model.json:1:43: layers[0]: layer "dense" (dense): input has shape [N,28,28]; dense needs [batch, features] (add a flatten layer)`},
		{"cross-entropy on a 3-D output", `{"input": {"shape": [2, 3]}, "layers": [{"type": "activation", "activation": "relu"}], "loss": "categorical_crossentropy", "optimizer": {"type": "sgd"}}`,
			`model.json:1:96: loss: categorical_crossentropy needs an output of shape [batch, classes], the model's is [N,2,3]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := loadErr(t, tc.doc, tc.want)
			// Every field error is a positioned jsontree error.
			var je *jsontree.Error
			if !errors.As(err, &je) || je.Line == 0 {
				t.Errorf("error %v is not a positioned *jsontree.Error", err)
			}
		})
	}
}

func TestLoadDefaults(t *testing.T) {
	md := mustLoad(t, `{"input": {"shape": [4]}, "layers": [
		{"type": "dense", "units": 3},
		{"type": "dropout", "rate": 0.5},
		{"type": "dense", "units": 2, "name": "out"},
		{"type": "dense", "units": 2},
		{"type": "activation", "activation": "tanh"},
		{"type": "flatten"}
	]}`)
	if md.Name != "model" {
		t.Errorf("name %q, want model", md.Name)
	}
	var names []string
	for _, l := range md.Layers {
		names = append(names, l.Name)
	}
	if got, want := strings.Join(names, " "), "dense dropout out dense_1 activation flatten"; got != want {
		t.Errorf("layer names %q, want %q", got, want)
	}
	d := md.Layers[0]
	if !d.UseBias || d.Activation != "linear" || d.KernelInit != (runtime.InitSpec{Kind: "glorot_uniform"}) || d.BiasInit != (runtime.InitSpec{Kind: "zeros"}) {
		t.Errorf("dense defaults: %+v", d)
	}
	if md.Layers[1].Rate != 0.5 {
		t.Errorf("dropout rate %v", md.Layers[1].Rate)
	}
	if md.Loss != "" || md.Optimizer != nil || md.Metrics != nil {
		t.Errorf("loss %q optimizer %v metrics %v, want none", md.Loss, md.Optimizer, md.Metrics)
	}
	if want := (TrainSettings{Epochs: 1, BatchSize: 32, Shuffle: true}); md.Train != want {
		t.Errorf("train %+v, want %+v", md.Train, want)
	}
	// Without loss and optimizer, Build makes predict only.
	m, err := md.Build()
	if err != nil {
		t.Fatal(err)
	}
	if m.Func(passes.Predict) == nil || m.Func(passes.TrainStep) != nil {
		t.Errorf("functions: %v", funcNames(m))
	}
}

func TestLoadOptimizerDefaults(t *testing.T) {
	md := mustLoad(t, `{"input": {"shape": [4]}, "layers": [{"type": "dense", "units": 1}], "loss": "mse", "optimizer": {"type": "sgd"}}`)
	if *md.Optimizer != (passes.Optimizer{Kind: "sgd", LearningRate: 0.01}) {
		t.Errorf("sgd defaults %+v", *md.Optimizer)
	}
	md = mustLoad(t, `{"input": {"shape": [4]}, "layers": [{"type": "dense", "units": 1}], "loss": "mse", "optimizer": {"type": "sgd", "learning_rate": 0.1, "momentum": 0.9, "nesterov": true}}`)
	if *md.Optimizer != (passes.Optimizer{Kind: "sgd", LearningRate: 0.1, Momentum: 0.9, Nesterov: true}) {
		t.Errorf("sgd %+v", *md.Optimizer)
	}
	md = mustLoad(t, `{"input": {"shape": [4]}, "layers": [{"type": "dense", "units": 1}], "loss": "mse", "optimizer": {"type": "adam"}}`)
	if *md.Optimizer != *passes.Adam(0.001) {
		t.Errorf("adam defaults %+v", *md.Optimizer)
	}
	md = mustLoad(t, `{"input": {"shape": [4]}, "layers": [{"type": "dense", "units": 1}], "loss": "mse", "optimizer": {"type": "adam", "epsilon_style": "keras", "epsilon": 1e-8}}`)
	if o := md.Optimizer; o.EpsilonStyle != "keras" || o.Epsilon != 1e-8 {
		t.Errorf("adam %+v", *o)
	}
	for _, c := range []struct {
		json string
		want *passes.Optimizer
	}{
		{`{"type": "adagrad"}`, passes.Adagrad(0.01)},
		{`{"type": "rmsprop"}`, passes.RMSprop(0.01)},
		{`{"type": "adamw"}`, passes.AdamW(0.001)},
		{`{"type": "adagrad", "learning_rate": 0.1, "epsilon": 1e-7, "epsilon_style": "keras", "initial_accumulator_value": 0.1, "lr_decay": 0.01, "weight_decay": 1e-4}`,
			&passes.Optimizer{Kind: "adagrad", LearningRate: 0.1, Epsilon: 1e-7, EpsilonStyle: "keras", InitialAccumulator: 0.1, LRDecay: 0.01, WeightDecay: 1e-4}},
		{`{"type": "rmsprop", "learning_rate": 0.001, "rho": 0.9, "epsilon": 1e-7, "momentum": 0.9, "centered": true, "clipnorm": 1, "clipvalue": 0.5}`,
			&passes.Optimizer{Kind: "rmsprop", LearningRate: 0.001, Alpha: 0.9, Epsilon: 1e-7, EpsilonStyle: "pytorch", Momentum: 0.9, Centered: true, ClipNorm: 1, ClipValue: 0.5}},
		{`{"type": "adamw", "weight_decay": 0.05, "schedule": {"type": "cosine", "t_max": 100, "eta_min": 1e-5, "warmup_steps": 10}}`,
			func() *passes.Optimizer {
				o := passes.AdamW(0.001)
				o.WeightDecay, o.Schedule = 0.05, passes.Schedule{Kind: "cosine", TMax: 100, EtaMin: 1e-5, WarmupSteps: 10}
				return o
			}()},
		{`{"type": "sgd", "learning_rate": 0.1, "schedule": {"type": "step", "step_size": 3, "gamma": 0.5}}`,
			&passes.Optimizer{Kind: "sgd", LearningRate: 0.1, Schedule: passes.Schedule{Kind: "step", StepSize: 3, Gamma: 0.5}}},
		{`{"type": "sgd", "schedule": {"type": "step", "step_size": 3}}`,
			&passes.Optimizer{Kind: "sgd", LearningRate: 0.01, Schedule: passes.Schedule{Kind: "step", StepSize: 3, Gamma: 0.1}}},
		{`{"type": "sgd", "schedule": {"type": "exponential", "gamma": 0.95}}`,
			&passes.Optimizer{Kind: "sgd", LearningRate: 0.01, Schedule: passes.Schedule{Kind: "exponential", Gamma: 0.95}}},
	} {
		md := mustLoad(t, `{"input": {"shape": [4]}, "layers": [{"type": "dense", "units": 1}], "loss": "mse", "optimizer": `+c.json+`}`)
		if *md.Optimizer != *c.want {
			t.Errorf("%s: %+v, want %+v", c.json, *md.Optimizer, *c.want)
		}
	}
}

func TestLoadInitializers(t *testing.T) {
	tests := []struct {
		json string
		want runtime.InitSpec
	}{
		{`"zeros"`, runtime.InitSpec{Kind: "zeros"}},
		{`"he_normal"`, runtime.InitSpec{Kind: "he_normal"}},
		// A name alone takes Keras's default settings.
		{`"random_normal"`, runtime.InitSpec{Kind: "random_normal", Stddev: 0.05}},
		{`"random_uniform"`, runtime.InitSpec{Kind: "random_uniform", Minval: -0.05, Maxval: 0.05}},
		{`"truncated_normal"`, runtime.InitSpec{Kind: "truncated_normal", Stddev: 0.05}},
		{`"variance_scaling"`, runtime.InitSpec{Kind: "variance_scaling", Scale: 1, Mode: "fan_in", Distribution: "truncated_normal"}},
		{`{"type": "constant", "value": 0.5}`, runtime.InitSpec{Kind: "constant", Value: 0.5}},
		{`{"type": "random_normal", "mean": 1, "stddev": 0.1}`, runtime.InitSpec{Kind: "random_normal", Mean: 1, Stddev: 0.1}},
		{`{"type": "random_normal", "mean": 1}`, runtime.InitSpec{Kind: "random_normal", Mean: 1, Stddev: 0.05}},
		{`{"type": "random_uniform", "minval": 0, "maxval": 2}`, runtime.InitSpec{Kind: "random_uniform", Maxval: 2}},
		{`{"type": "truncated_normal", "stddev": 0.2}`, runtime.InitSpec{Kind: "truncated_normal", Stddev: 0.2}},
		{`{"type": "variance_scaling", "scale": 2, "mode": "fan_out", "distribution": "uniform"}`,
			runtime.InitSpec{Kind: "variance_scaling", Scale: 2, Mode: "fan_out", Distribution: "uniform"}},
		{`{"type": "glorot_normal"}`, runtime.InitSpec{Kind: "glorot_normal"}},
	}
	for _, tc := range tests {
		md := mustLoad(t, oneLayer(`{"type": "dense", "units": 3, "kernel_initializer": `+tc.json+`}`))
		if got := md.Layers[0].KernelInit; got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.json, got, tc.want)
		}
	}
}

// TestLoadReference loads the reference model of docs/model-json.md and
// checks the module it builds.
func TestLoadReference(t *testing.T) {
	md, err := LoadFile("testdata/mnist_mlp.json")
	if err != nil {
		t.Fatal(err)
	}
	if md.Name != "mnist_mlp" || fmt.Sprint(md.Input) != "[784]" || md.Loss != "categorical_crossentropy" {
		t.Errorf("model %q input %v loss %q", md.Name, md.Input, md.Loss)
	}
	if want := passes.Adam(0.001); *md.Optimizer != *want {
		t.Errorf("optimizer %+v, want %+v", *md.Optimizer, *want)
	}
	if fmt.Sprint(md.Metrics) != "[accuracy]" {
		t.Errorf("metrics %v", md.Metrics)
	}
	if want := (TrainSettings{Epochs: 5, BatchSize: 128, Dataset: "mnist", Shuffle: true}); md.Train != want {
		t.Errorf("train %+v, want %+v", md.Train, want)
	}
	var layers []string
	for _, l := range md.Layers {
		layers = append(layers, fmt.Sprintf("%s:%s:%d:%s", l.Name, l.Type, l.Units, l.Activation))
	}
	if got, want := strings.Join(layers, " "), "dense:dense:64:relu dense_1:dense:64:relu dense_2:dense:10:softmax"; got != want {
		t.Errorf("layers %s, want %s", got, want)
	}

	m, err := md.Build()
	if err != nil {
		t.Fatal(err)
	}
	if err := ir.Verify(m); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got := strings.Join(funcNames(m), " "); got != "predict train_step" {
		t.Errorf("functions %s, want predict train_step", got)
	}
	var weights []string
	for _, w := range m.Weights {
		weights = append(weights, w.Name+" "+w.Type.String())
	}
	want := "dense/kernel f32[784,64], dense/bias f32[64], dense_1/kernel f32[64,64], dense_1/bias f32[64], dense_2/kernel f32[64,10], dense_2/bias f32[10]"
	if got := strings.Join(weights, ", "); got != want {
		t.Errorf("weights\n  %s\nwant\n  %s", got, want)
	}
	for _, w := range m.Weights {
		if !w.Trainable {
			t.Errorf("weight %s is not trainable", w.Name)
		}
	}
	if k := m.Weight("dense/kernel"); k.Init.String("init", "") != "glorot_uniform" || k.Init.Int("fan_in", 0) != 784 || k.Init.Int("fan_out", 0) != 64 {
		t.Errorf("dense/kernel init %v", k.Init)
	}
	if b := m.Weight("dense/bias"); b.Init.String("init", "") != "zeros" {
		t.Errorf("dense/bias init %v", b.Init)
	}
	p := m.Func(passes.Predict)
	if len(p.Params) != 1 || p.Params[0].Type.String() != "f32[N,784]" || len(p.Results) != 1 || p.Results[0].Type.String() != "f32[N,10]" {
		t.Errorf("predict signature: params %v results %v", p.Params, p.Results)
	}
	ts := m.Func(passes.TrainStep)
	if fmt.Sprint(ts.ResultNames) != "[loss output]" || ts.Results[0].Type.String() != "f32[]" {
		t.Errorf("train_step results %v %v", ts.ResultNames, ts.Results)
	}
}

// Layer names are kept verbatim, whatever they hold: generated code must
// not paste them into source unquoted.
func TestLoadOddLayerNames(t *testing.T) {
	odd := []string{`say "hi"`, "back`tick`", "two\nlines", "func", "type", "package", `C:\path`, "ünïcode ✓", "a/b"}
	var layers []string
	for i, n := range odd {
		q := fmt.Sprintf("%q", n)
		if i == len(odd)-1 {
			layers = append(layers, fmt.Sprintf(`{"type": "dense", "units": 2, "name": %s}`, q))
		} else {
			layers = append(layers, fmt.Sprintf(`{"type": "activation", "activation": "relu", "name": %s}`, q))
		}
	}
	doc := `{"name": "func \"x\"\n", "input": {"shape": [3]}, "layers": [` + strings.Join(layers, ", ") + `], "loss": "mse", "optimizer": {"type": "sgd"}}`
	md := mustLoad(t, doc)
	if md.Name != "func \"x\"\n" {
		t.Errorf("model name %q", md.Name)
	}
	for i, n := range odd {
		if md.Layers[i].Name != n {
			t.Errorf("layer %d name %q, want %q", i, md.Layers[i].Name, n)
		}
	}
	m, err := md.Build()
	if err != nil {
		t.Fatal(err)
	}
	if err := ir.Verify(m); err != nil {
		t.Fatal(err)
	}
	if m.Weight("a/b/kernel") == nil || m.Weight("a/b/bias") == nil {
		t.Errorf("weights %v", m.Weights)
	}
}

func funcNames(m *ir.Module) []string {
	var out []string
	for _, f := range m.Funcs {
		out = append(out, f.Name)
	}
	return out
}

// TestFrozenLayer: trainable: false keeps a layer's weights out of
// training, in dlc's schema and in Keras documents alike.
func TestFrozenLayer(t *testing.T) {
	src := `{"input": {"shape": [4]}, "layers": [
	  {"type": "dense", "units": 3, "name": "frozen", "trainable": false},
	  {"type": "dense", "units": 2, "activation": "softmax"}],
	 "loss": "categorical_crossentropy", "optimizer": {"type": "sgd", "learning_rate": 0.1}}`
	md, err := Load("model.json", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	m, err := md.Build()
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range m.Weights {
		want := !strings.HasPrefix(w.Name, "frozen/")
		if w.Trainable != want {
			t.Errorf("weight %q trainable = %v, want %v", w.Name, w.Trainable, want)
		}
	}
}
