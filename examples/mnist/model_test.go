package main

import (
	"testing"

	"github.com/dlc-project/dlc/examples/mnist/model"
	"github.com/dlc-project/dlc/internal/examplecheck"
	"github.com/dlc-project/dlc/ir/interp"
)

// example is this example for the shared checks of internal/examplecheck.
var example = examplecheck.Example{
	ModelJSON: "model.json",
	Sample:    []int{784},
	Classes:   10,
	New: func(maxBatch int, seed uint64, workers int) examplecheck.Model {
		return model.New(model.Options{MaxBatch: maxBatch, Seed: seed, Workers: workers})
	},
}

func batch(n int) (x, y []float32, xt, yt *interp.Tensor) { return example.Batch(n) }

// TestGeneratedMatchesInterpreter: the committed generated package and
// ir/interp, started from the same seed, agree on the initial weights, on
// Predict, and on the loss, outputs and every weight and optimizer state
// over 3 training steps (relative error <= 1e-4).
func TestGeneratedMatchesInterpreter(t *testing.T) {
	example.MatchesInterpreter(t, 100, 1e-4) // n < MaxBatch: a partial batch
}

// TestNoAllocations: Predict and TrainStep allocate nothing.
func TestNoAllocations(t *testing.T) { example.NoAllocations(t) }

// TestSaveLoadWeights: weights saved and loaded into a model of another
// seed make it predict identically.
func TestSaveLoadWeights(t *testing.T) { example.SaveLoadWeights(t) }

func BenchmarkTrainStep(b *testing.B) {
	gen := model.New(model.Options{MaxBatch: 128, Seed: 1})
	defer gen.Close()
	x, y, _, _ := batch(128)
	b.ReportAllocs()
	for b.Loop() {
		gen.TrainStep(x, y, 128)
	}
}

func BenchmarkPredict(b *testing.B) {
	gen := model.New(model.Options{MaxBatch: 128, Seed: 1})
	defer gen.Close()
	x, _, _, _ := batch(128)
	out := make([]float32, 128*10)
	b.ReportAllocs()
	for b.Loop() {
		gen.Predict(out, x, 128)
	}
}

// TestWorkersAgree: 1, 2 and 3 workers compute the same bits (training
// and Predict): results do not depend on how the pool splits the work.
func TestWorkersAgree(t *testing.T) { example.WorkersAgree(t) }
