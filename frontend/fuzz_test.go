package frontend

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad checks that Load never panics, whatever the input: a malformed
// or hostile document is met by an error. Run it with
//
//	go test ./frontend -run XXX -fuzz FuzzLoad -fuzztime 60s
//
// The seeds are dlc's own model files, the real Keras files of
// ../../shared/keras-models (when present) and a few small documents that
// reach the Keras loader's branches.
func FuzzLoad(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{"testdata/*.json", filepath.Join(kerasModels, "*.json")} {
		files, _ := filepath.Glob(pattern)
		seeds = append(seeds, files...)
	}
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		// The two large files (45 and 164 KB) would make every mutation
		// of them cost 0.1 to 0.4 s (jsontree finds line numbers in time
		// linear in the offset) and stall the fuzzer while it minimises;
		// the smaller files hold the same structures.
		if len(data) > 16<<10 {
			continue
		}
		f.Add(data)
	}
	for _, s := range []string{
		kerasSeq(kInput784, kDense("d", 10, "")),
		kerasSeq(`{"class_name": "InputLayer", "config": {"batch_shape": [null, 3, 4], "name": "in"}}`,
			`{"class_name": "Flatten", "config": {"data_format": "channels_first"}}`,
			`{"class_name": "Dropout", "config": {"rate": 0.5, "seed": null, "noise_shape": null}}`,
			`{"class_name": "Activation", "config": {"activation": "tanh"}}`,
			`{"class_name": "Dense", "config": {"units": 2, "kernel_initializer": {"class_name": "VarianceScaling", "config": {"scale": 2, "mode": "fan_out", "distribution": "normal"}}, "bias_initializer": "ones", "dtype": {"class_name": "DTypePolicy", "config": {"name": "float32"}}}}`),
		`{"modelTopology": {"model_config": {"class_name": "Sequential", "config": [{"class_name": "Dense", "config": {"units": 1, "batch_input_shape": [null, 2]}}]}}}`,
		`{"name": "m", "input": {"shape": [2, 3]}, "layers": [{"type": "flatten"}, {"type": "dense", "units": 4, "kernel_initializer": {"type": "random_uniform", "minval": -1, "maxval": 1}}, {"type": "dropout", "rate": 0.2}, {"type": "activation", "activation": "softmax"}], "loss": "mse", "optimizer": {"type": "sgd", "momentum": 0.9, "nesterov": true}, "train": {"epochs": 2, "shuffle": false, "seed": 3}}`,
		`{"input": {"shape": [1]}, "layers": [{"type": "dense", "units": 1}], "loss": "categorical_crossentropy", "optimizer": {"type": "adam", "epsilon_style": "keras"}}`,
		``, `{`, `[]`, `null`, `{"class_name": 1}`, `{"modelTopology": []}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		md, err := Load("fuzz.json", data)
		if err != nil {
			if md != nil {
				t.Errorf("Load returned a model and an error %v", err)
			}
			return
		}
		// A model that loads builds.
		if _, err := md.Build(); err != nil {
			t.Errorf("Load accepted a model that Build rejects: %v", err)
		}
	})
}
