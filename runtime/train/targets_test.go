package train

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/dlc-project/dlc/runtime"
)

// recordModel records the targets TrainStep receives and predicts fixed
// rows (by the sample's tag pixel), with a TargetSize of its own.
type recordModel struct {
	fixedModel
	out, target int
	ys          []float32
}

func (r *recordModel) TargetSize() int        { return r.target }
func (r *recordModel) OutputSize() int        { return r.out }
func (r *recordModel) MaxBatch() int          { return 4 }
func (r *recordModel) TrainOutput() []float32 { return nil }
func (r *recordModel) TrainStep(x, y []float32, n int) float32 {
	r.ys = append(r.ys, y...)
	return 0
}
func (r *recordModel) Predict(out, x []float32, n int) {
	for s := range n {
		copy(out[s*r.out:(s+1)*r.out], r.preds[int(x[s])])
	}
}

func TestTargetsReachTrainStep(t *testing.T) {
	ds := &runtime.Dataset{N: 3, Rows: 1, Cols: 1, Images: []float32{0, 1, 2}, Labels: []uint8{2, 0, 1}}
	cfg := Config{Epochs: 1, BatchSize: 3}
	for _, c := range []struct {
		name        string
		out, target int
		labels      []uint8
		want        []float32
	}{
		{"one-hot", 3, 3, []uint8{2, 0, 1}, []float32{0, 0, 1, 1, 0, 0, 0, 1, 0}},
		{"sparse: the class index", 3, 1, []uint8{2, 0, 1}, []float32{2, 0, 1}},
		{"binary: the label", 1, 1, []uint8{1, 0, 1}, []float32{1, 0, 1}},
	} {
		m := &recordModel{out: c.out, target: c.target}
		ds.Labels = c.labels
		if _, err := Fit(m, ds, nil, cfg); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !slices.Equal(m.ys, c.want) {
			t.Errorf("%s: y = %v, want %v", c.name, m.ys, c.want)
		}
	}
	ds.Labels = []uint8{2, 0, 1}
	if _, err := Fit(&recordModel{out: 1, target: 1}, ds, nil, cfg); err == nil || !strings.Contains(err.Error(), "label 2 at sample 0: a model with one output takes labels 0 and 1") {
		t.Errorf("label 2 for one output: %v", err)
	}
	if _, err := Fit(&recordModel{out: 3, target: 2}, ds, nil, cfg); err == nil || !strings.Contains(err.Error(), "takes 2 target values per sample for 3 outputs") {
		t.Errorf("target size 2 for 3 outputs: %v", err)
	}
	if _, err := Fit(&recordModel{out: 3, target: 3}, ds, nil, Config{Epochs: 1, BatchSize: 3, TopK: 4}); err == nil || !strings.Contains(err.Error(), "k = 4 for a model with 3 outputs") {
		t.Errorf("top-4 of 3: %v", err)
	}
}

func TestMetricsAndLosses(t *testing.T) {
	// Top-k as Keras: ties with the k-th value count; NaN never does.
	p := []float32{0.1, 0.5, 0.2, 0.2}
	for _, c := range []struct {
		label, k int
		want     bool
	}{{1, 1, true}, {2, 1, false}, {2, 2, true}, {3, 2, true}, {0, 3, false}, {0, 4, true}} {
		if got := inTopK(p, c.label, c.k); got != c.want {
			t.Errorf("inTopK(%v, %d, %d) = %v", p, c.label, c.k, got)
		}
	}
	if inTopK([]float32{float32(math.NaN()), 1}, 0, 2) {
		t.Error("a NaN score is in the top 2")
	}
	if !hit([]float32{0.6}, 1, false) || hit([]float32{0.4}, 1, false) || !hit([]float32{0.4}, 0, false) ||
		!hit([]float32{0.1}, 1, true) || hit([]float32{-0.1}, 1, true) {
		t.Error("binary accuracy: want p > 0.5 (logits: z > 0) to mean label 1")
	}
	// Per-sample losses against PyTorch (float64): rows of x and p of
	// frontend/losses_test.go.
	x0 := []float32{0.5, -1.2, 2.0}
	for _, c := range []struct {
		name       string
		fromLogits bool
		p          []float32
		label      int
		delta      float64
		want       float64
	}{
		// F.cross_entropy(x[0:1], [2])
		{LossSparseCategoricalCrossentropy, true, x0, 2, 0, 0.23419613713579818},
		{LossCategoricalCrossentropy, false, []float32{0.2, 0.3, 0.5}, 2, 0, -math.Log(0.5)},
		// F.binary_cross_entropy_with_logits(tensor([0.3]), tensor([1.]))
		{LossBinaryCrossentropy, true, []float32{0.3}, 1, 0, 0.5543552444685271},
		{LossBinaryCrossentropy, false, []float32{0.8}, 0, 0, -math.Log(0.2 + 1e-7)},
		{LossMAE, false, []float32{0.2, 0.3, 0.5}, 2, 0, (0.2 + 0.3 + 0.5) / 3},
		// F.huber_loss(tensor([0.2,0.3,2.5]), tensor([0.,0,1]), delta=1)
		{LossHuber, false, []float32{0.2, 0.3, 2.5}, 2, 0, (0.02 + 0.045 + 1.0) / 3},
		{LossHuber, false, []float32{0.2, 0.3, 2.5}, 2, 0.25, (0.02 + 0.25*(0.3-0.125) + 0.25*(1.5-0.125)) / 3},
	} {
		if got := sampleLoss(c.name, c.fromLogits, c.delta, c.p, c.label); math.Abs(got-c.want) > 1e-6*math.Max(1, c.want) {
			t.Errorf("%s(from_logits %v, %v, label %d) = %.9g, want %.9g", c.name, c.fromLogits, c.p, c.label, got, c.want)
		}
	}
	// EvaluateConfig: top-2 accuracy and the sparse loss from logits.
	f := &recordModel{out: 3, target: 1, fixedModel: fixedModel{preds: [][]float32{x0, {3, 1, 2}}}}
	ds := &runtime.Dataset{N: 2, Rows: 1, Cols: 1, Images: []float32{0, 1}, Labels: []uint8{0, 1}}
	ev, err := EvaluateConfig(f, ds, 2, Config{Loss: LossSparseCategoricalCrossentropy, FromLogits: true, TopK: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := (softmaxCrossEntropy(x0, 0) + softmaxCrossEntropy([]float32{3, 1, 2}, 1)) / 2
	if math.Abs(ev.Loss-want) > 1e-9 || ev.Accuracy != 0 || ev.TopKAccuracy != 0.5 {
		t.Errorf("EvaluateConfig = %+v, want loss %v, accuracy 0, top-2 0.5", ev, want)
	}
}
