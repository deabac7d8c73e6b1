package main

import (
	"fmt"
	"testing"

	"github.com/dlc-project/dlc/examples/mnist/model"
)

// BenchmarkPredictPeers times Predict at the batch sizes and worker counts
// bench/models.sh compares with PyTorch and onnxruntime (batch 1 and 128;
// 1 and 2 workers). It reports the mean time per call; models.sh reports
// the median of single timed calls, as the peers do.
func BenchmarkPredictPeers(b *testing.B) {
	x, _, _, _ := batch(128)
	for _, n := range []int{1, 128} {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("batch=%d/workers=%d", n, workers), func(b *testing.B) {
				gen := model.New(model.Options{MaxBatch: 128, Seed: 1, Workers: workers})
				defer gen.Close()
				out := make([]float32, n*gen.OutputSize())
				b.ReportAllocs()
				for b.Loop() {
					gen.Predict(out, x[:n*gen.InputSize()], n)
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
			})
		}
	}
}

// BenchmarkTrainStepPeers times TrainStep at batch 128 with 2 workers, the
// configuration bench/models.sh compares with PyTorch's training loop.
func BenchmarkTrainStepPeers(b *testing.B) {
	gen := model.New(model.Options{MaxBatch: 128, Seed: 1, Workers: 2})
	defer gen.Close()
	x, y, _, _ := batch(128)
	b.ReportAllocs()
	for b.Loop() {
		gen.TrainStep(x, y, 128)
	}
	b.ReportMetric(128*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}
