// Package compile is the driver from a model file to a generated Go
// package: load (frontend), trace, run the pass pipeline, emit (codegen).
// cmd/dlc and the tests use it, so that the CLI holds flags and nothing else.
package compile

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dlc-project/dlc/codegen/golang"
	"github.com/dlc-project/dlc/frontend"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/passes"
)

// Overrides replace a model's training settings (flags of dlc train and
// dlc compile); zero values keep the model's own.
type Overrides struct {
	Loss         string
	Optimizer    string
	LearningRate float64
	Epochs       int
	BatchSize    int
}

// Load reads a model file and applies the overrides. A Keras document has
// no training settings; without overrides it gets categorical cross-entropy
// and Adam (lr 0.001) when its output is a softmax, so it can be trained.
func Load(path string, ov Overrides) (*frontend.Model, error) {
	md, err := frontend.LoadFile(path)
	if err != nil {
		return nil, err
	}
	if err := Apply(md, ov); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return md, nil
}

// Apply applies overrides to a loaded model.
func Apply(md *frontend.Model, ov Overrides) error {
	if ov.Loss != "" {
		canon, known := frontend.CanonicalLoss(ov.Loss)
		if !known {
			return fmt.Errorf("unknown loss %q (known: %s)", ov.Loss, strings.Join(frontend.Losses, ", "))
		}
		md.Loss = canon
	}
	if ov.Optimizer != "" {
		// Each with the defaults of model.json's optimizer object.
		switch ov.Optimizer {
		case "adam":
			md.Optimizer = passes.Adam(0.001)
		case "adamw":
			md.Optimizer = passes.AdamW(0.001)
		case "adagrad":
			md.Optimizer = passes.Adagrad(0.01)
		case "rmsprop":
			md.Optimizer = passes.RMSprop(0.01)
		case "sgd":
			md.Optimizer = &passes.Optimizer{Kind: "sgd", LearningRate: 0.01}
		default:
			return fmt.Errorf("unknown optimizer %q (known: %s)", ov.Optimizer, strings.Join(passes.Optimizers, ", "))
		}
	}
	if md.Loss == "" && md.Optimizer == nil && len(md.Layers) > 0 && md.Layers[len(md.Layers)-1].Activation == "softmax" {
		md.Loss, md.Optimizer = "categorical_crossentropy", passes.Adam(0.001)
	}
	if md.Loss != "" && md.Optimizer == nil {
		md.Optimizer = passes.Adam(0.001)
	}
	if md.Optimizer != nil && md.Loss == "" {
		return fmt.Errorf("the model has no loss: give one with --loss")
	}
	if ov.LearningRate != 0 {
		if md.Optimizer == nil {
			return fmt.Errorf("--lr given, but the model has no optimizer")
		}
		md.Optimizer.LearningRate = ov.LearningRate
	}
	if md.Optimizer != nil {
		if err := md.Optimizer.Validate(); err != nil {
			return err
		}
	}
	if ov.Epochs < 0 || ov.BatchSize < 0 {
		return fmt.Errorf("epochs and batch size must be positive")
	}
	if ov.Epochs > 0 {
		md.Train.Epochs = ov.Epochs
	}
	if ov.BatchSize > 0 {
		md.Train.BatchSize = ov.BatchSize
	}
	// Keras's fit defaults, for documents that carry no training settings.
	if md.Train.Epochs == 0 {
		md.Train.Epochs = 1
	}
	if md.Train.BatchSize == 0 {
		md.Train.BatchSize = 32
	}
	return nil
}

// Options control lowering.
type Options struct {
	Disable []string // passes to skip
	Stop    string   // stop after this pass
	Verify  bool     // verify after every pass
	After   func(pass string, m *ir.Module) error
}

// Lower traces the model and runs the pass pipeline.
func Lower(md *frontend.Model, opts Options) (*ir.Module, error) {
	m, err := md.Build()
	if err != nil {
		return nil, err
	}
	cfg := &passes.Config{Optimizer: md.Optimizer}
	err = passes.Run(m, cfg, passes.Options{Disable: opts.Disable, Stop: opts.Stop, Verify: opts.Verify, After: opts.After})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Package compiles a model into the files of a Go package. noFuse gives
// the baseline: the fuse pass is skipped and the backend emits one kernel
// and one buffer per IR value.
func Package(md *frontend.Model, pkg string, noFuse bool, lower Options) (map[string][]byte, *ir.Module, error) {
	return PackageWith(md, golang.Options{Package: pkg, NoFuse: noFuse}, lower)
}

// PackageWith is Package with every option of the Go backend.
func PackageWith(md *frontend.Model, gopts golang.Options, lower Options) (map[string][]byte, *ir.Module, error) {
	if gopts.NoFuse {
		lower.Disable = append(append([]string(nil), lower.Disable...), "fuse")
	}
	m, err := Lower(md, lower)
	if err != nil {
		return nil, nil, err
	}
	files, err := golang.Generate(m, gopts)
	if err != nil {
		return nil, nil, err
	}
	return files, m, nil
}

// WriteFiles writes files into dir (made if missing), each atomically,
// and removes the files an earlier Generate may have written there that
// this one does not (the assembly of a model that no longer has any),
// when they still carry the generated-code header.
func WriteFiles(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		tmp, err := os.CreateTemp(dir, "."+n+".tmp*")
		if err != nil {
			return err
		}
		if _, err := tmp.Write(files[n]); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return err
		}
		if err := tmp.Close(); err != nil {
			os.Remove(tmp.Name())
			return err
		}
		if err := os.Chmod(tmp.Name(), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp.Name(), filepath.Join(dir, n)); err != nil {
			os.Remove(tmp.Name())
			return err
		}
	}
	for _, n := range golang.FileNames() {
		if _, ok := files[n]; ok {
			continue
		}
		path := filepath.Join(dir, n)
		b, err := os.ReadFile(path)
		if err != nil || !golang.IsGenerated(b) {
			continue // absent, or not ours
		}
		if err := os.Remove(path); err != nil {
			return err
		}
	}
	return nil
}
