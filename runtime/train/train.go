// Package train is the training driver shared by dlc's examples and the
// `dlc train` command. It feeds a compiled model (any type with the
// generated TrainStep/Predict methods) mini-batches of an image
// classification dataset, reports Keras-style progress, and evaluates the
// result, so that generated code only has to implement the numeric kernels.
package train

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/dlc-project/dlc/runtime"
)

// Model is the interface implemented by the Go package dlc generates for a
// model. All buffers are row-major with n samples.
type Model interface {
	// TrainStep runs forward and backward passes and an optimizer update
	// on x (n*InputSize pixels) and y (n*OutputSize one-hot targets) and
	// returns the mean loss over the n samples.
	TrainStep(x, y []float32, n int) float32
	// TrainOutput returns the predictions (n*OutputSize probabilities)
	// computed by the last TrainStep.
	TrainOutput() []float32
	// Predict writes the predictions for the n samples of x to out.
	Predict(out, x []float32, n int)
	// MaxBatch is the largest n accepted by TrainStep and Predict.
	MaxBatch() int
	// InputSize is the number of features of one sample.
	InputSize() int
	// OutputSize is the number of classes.
	OutputSize() int
}

// Loss names accepted in Config.Loss.
const (
	LossCategoricalCrossentropy       = "categorical_crossentropy"
	LossSparseCategoricalCrossentropy = "sparse_categorical_crossentropy"
	LossBinaryCrossentropy            = "binary_crossentropy"
	LossMSE                           = "mse"
	LossMAE                           = "mae"
	LossHuber                         = "huber"
)

// Config controls Fit.
type Config struct {
	Epochs    int
	BatchSize int
	// Seed seeds the shuffling RNG; the same seed gives the same batches.
	Seed uint64
	// Shuffle reshuffles the training samples at the start of every epoch.
	Shuffle bool
	// Progress receives a progress bar per epoch; nil disables it.
	Progress io.Writer
	// Loss selects the test-set loss: "categorical_crossentropy" (the
	// default when empty) or "mse". Training loss is whatever TrainStep
	// returns.
	Loss string
	// FromLogits says the model's output holds logits (a loss with
	// from_logits): the test loss applies softmax (sigmoid) first, and a
	// single output's accuracy threshold is 0 instead of 0.5.
	FromLogits bool
	// HuberDelta is the huber loss's delta (0: 1).
	HuberDelta float64
	// TopK, when positive, adds the top-k accuracy to the statistics.
	TopK int
	// StartEpoch is the number of epochs already done (a resumed run: the
	// model holds the weights and optimizer state after them). Fit runs
	// epochs StartEpoch+1 … Epochs, after replaying the shuffles of the
	// finished ones, so that it sees the batches the uninterrupted run sees.
	StartEpoch int
	// OnEpoch, if set, is called after each epoch (checkpoints, logs); an
	// error stops training and is returned.
	OnEpoch func(EpochStats) error
	// EvalEachEpoch evaluates the test set after every epoch (into
	// EpochStats.TestLoss and TestAccuracy), not only at the end.
	EvalEachEpoch bool
}

// EpochStats summarizes one training epoch.
type EpochStats struct {
	Epoch         int     `json:"epoch"`
	Loss          float64 `json:"loss"`
	Accuracy      float64 `json:"accuracy"`
	Seconds       float64 `json:"seconds"`
	SamplesPerSec float64 `json:"samples_per_sec"`
	// Test-set figures after the epoch (Config.EvalEachEpoch; nil without).
	TestLoss     *float64 `json:"test_loss,omitempty"`
	TestAccuracy *float64 `json:"test_accuracy,omitempty"`
	// Top-k accuracies (Config.TopK; nil without).
	TopKAccuracy     *float64 `json:"top_k_accuracy,omitempty"`
	TestTopKAccuracy *float64 `json:"test_top_k_accuracy,omitempty"`
}

// Result summarizes a Fit run.
type Result struct {
	Epochs             []EpochStats `json:"epochs"`
	BatchSize          int          `json:"batch_size"`
	TrainSamplesPerSec float64      `json:"train_samples_per_sec"`
	TestLoss           float64      `json:"test_loss"`
	TestAccuracy       float64      `json:"test_accuracy"`
	TestTopKAccuracy   *float64     `json:"test_top_k_accuracy,omitempty"`
	Seconds            float64      `json:"seconds"`
}

// checkDataset validates ds against the model's input and output sizes.
func checkDataset(m Model, ds *runtime.Dataset, what string) error {
	if ds == nil {
		return fmt.Errorf("train: %s set is nil", what)
	}
	if err := ds.Validate(); err != nil {
		return fmt.Errorf("train: %s set: %v", what, err)
	}
	if ds.N == 0 {
		return fmt.Errorf("train: %s set is empty", what)
	}
	if in := m.InputSize(); in != ds.Rows*ds.Cols {
		return fmt.Errorf("train: model input size %d does not match the %s set's %dx%d = %d pixels per image", in, what, ds.Rows, ds.Cols, ds.Rows*ds.Cols)
	}
	out := m.OutputSize()
	for i, l := range ds.Labels {
		if out == 1 && l > 1 {
			return fmt.Errorf("train: %s set label %d at sample %d: a model with one output takes labels 0 and 1", what, l, i)
		}
		if out > 1 && int(l) >= out {
			return fmt.Errorf("train: %s set label %d at sample %d is out of range for a model with %d outputs", what, l, i, out)
		}
	}
	return nil
}

func checkModel(m Model, batch int) error {
	if m == nil {
		return errors.New("train: model is nil")
	}
	if m.MaxBatch() <= 0 || m.InputSize() <= 0 || m.OutputSize() <= 0 {
		return fmt.Errorf("train: model reports MaxBatch %d, InputSize %d, OutputSize %d; all must be positive", m.MaxBatch(), m.InputSize(), m.OutputSize())
	}
	if batch <= 0 || batch > m.MaxBatch() {
		return fmt.Errorf("train: batch size %d must be between 1 and the model's MaxBatch %d", batch, m.MaxBatch())
	}
	return nil
}

// Fit trains m on trainSet for cfg.Epochs epochs and then evaluates it on
// testSet (skipped when testSet is nil). Each epoch visits every training
// sample once, in an order shuffled deterministically from cfg.Seed when
// cfg.Shuffle is set; the last batch may be smaller than cfg.BatchSize and
// is trained on with its real size. Batches are gathered into buffers
// allocated once, so Fit itself adds no per-step allocations around
// TrainStep.
func Fit(m Model, trainSet, testSet *runtime.Dataset, cfg Config) (*Result, error) {
	if err := checkModel(m, cfg.BatchSize); err != nil {
		return nil, err
	}
	if cfg.Epochs <= 0 {
		return nil, fmt.Errorf("train: epochs = %d must be positive", cfg.Epochs)
	}
	if cfg.StartEpoch < 0 || cfg.StartEpoch >= cfg.Epochs {
		return nil, fmt.Errorf("train: resuming after epoch %d of %d: nothing left to train (give more epochs)", cfg.StartEpoch, cfg.Epochs)
	}
	if _, err := lossFunc(cfg.Loss); err != nil {
		return nil, err
	}
	kind, ysize, err := targetLayout(m)
	if err != nil {
		return nil, err
	}
	if cfg.TopK < 0 || cfg.TopK > m.OutputSize() {
		return nil, fmt.Errorf("train: top-k accuracy with k = %d for a model with %d outputs", cfg.TopK, m.OutputSize())
	}
	if err := checkDataset(m, trainSet, "training"); err != nil {
		return nil, err
	}
	if testSet != nil {
		if err := checkDataset(m, testSet, "test"); err != nil {
			return nil, err
		}
	}

	start := time.Now()
	in, out, bs := m.InputSize(), m.OutputSize(), cfg.BatchSize
	x := make([]float32, bs*in)
	y := make([]float32, bs*ysize)
	order := make([]int, trainSet.N)
	for i := range order {
		order[i] = i
	}
	rng := runtime.NewRNG(cfg.Seed)
	steps := (trainSet.N + bs - 1) / bs
	res := &Result{BatchSize: bs}
	var trainSeconds float64

	if cfg.Shuffle {
		for range cfg.StartEpoch {
			rng.Shuffle(order)
		}
	}
	for epoch := cfg.StartEpoch + 1; epoch <= cfg.Epochs; epoch++ {
		if cfg.Shuffle {
			rng.Shuffle(order)
		}
		bar := newProgress(cfg.Progress, epoch, cfg.Epochs, steps)
		epochStart := time.Now()
		var lossSum float64
		correct, topk, seen := 0, 0, 0
		for step := range steps {
			lo := step * bs
			n := min(bs, trainSet.N-lo)
			gather(trainSet, order[lo:lo+n], x, in)
			fillTargets(kind, trainSet.Labels, order[lo:lo+n], y, ysize)
			loss := m.TrainStep(x[:n*in], y[:n*ysize], n)
			lossSum += float64(loss) * float64(n)
			c, k := countCorrect(m.TrainOutput(), trainSet, order[lo:lo+n], out, cfg)
			correct += c
			topk += k
			seen += n
			bar.update(step+1, lossSum/float64(seen), float64(correct)/float64(seen), float64(seen)/time.Since(epochStart).Seconds())
		}
		secs := time.Since(epochStart).Seconds()
		trainSeconds += secs
		st := EpochStats{
			Epoch:         epoch,
			Loss:          lossSum / float64(seen),
			Accuracy:      float64(correct) / float64(seen),
			Seconds:       secs,
			SamplesPerSec: float64(seen) / secs,
		}
		if cfg.TopK > 0 {
			a := float64(topk) / float64(seen)
			st.TopKAccuracy = &a
		}
		bar.finish(st.Loss, st.Accuracy, st.SamplesPerSec)
		if cfg.EvalEachEpoch && testSet != nil {
			ev, err := EvaluateConfig(m, testSet, bs, cfg)
			if err != nil {
				return nil, err
			}
			st.TestLoss, st.TestAccuracy = &ev.Loss, &ev.Accuracy
			if cfg.TopK > 0 {
				st.TestTopKAccuracy = &ev.TopKAccuracy
			}
		}
		res.Epochs = append(res.Epochs, st)
		if cfg.OnEpoch != nil {
			if err := cfg.OnEpoch(st); err != nil {
				return nil, err
			}
		}
	}
	res.TrainSamplesPerSec = float64(trainSet.N*(cfg.Epochs-cfg.StartEpoch)) / trainSeconds

	if testSet != nil {
		ev, err := EvaluateConfig(m, testSet, bs, cfg)
		if err != nil {
			return nil, err
		}
		res.TestLoss, res.TestAccuracy = ev.Loss, ev.Accuracy
		if cfg.TopK > 0 {
			res.TestTopKAccuracy = &ev.TopKAccuracy
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// gather copies the samples idx of ds into x.
func gather(ds *runtime.Dataset, idx []int, x []float32, in int) {
	for i, s := range idx {
		copy(x[i*in:(i+1)*in], ds.Images[s*in:(s+1)*in])
	}
}

// countCorrect counts the samples whose prediction is right (see hit) and
// those whose label is among the cfg.TopK highest predictions.
func countCorrect(pred []float32, ds *runtime.Dataset, idx []int, out int, cfg Config) (correct, topk int) {
	for i, s := range idx {
		if i*out+out > len(pred) {
			break // a model returning too few outputs scores nothing
		}
		p, label := pred[i*out:(i+1)*out], int(ds.Labels[s])
		if hit(p, label, cfg.FromLogits) {
			correct++
		}
		if cfg.TopK > 0 && inTopK(p, label, cfg.TopK) {
			topk++
		}
	}
	return correct, topk
}

// argmax returns the index of the largest value, the first on ties.
func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// Evaluate returns the mean categorical cross-entropy and the accuracy of
// m on ds, predicting in batches of the given size.
func Evaluate(m Model, ds *runtime.Dataset, batch int) (loss, acc float64, err error) {
	return EvaluateLoss(m, ds, batch, LossCategoricalCrossentropy)
}

// crossEntropyEps is Keras's backend epsilon; predicted probabilities are
// clipped to [eps, 1-eps] before the logarithm, as Keras does, so a
// confident mistake costs at most -log(1e-7) ≈ 16.1 instead of +Inf.
const crossEntropyEps = 1e-7

// lossFunc checks a loss name; sampleLoss computes it.
func lossFunc(name string) (string, error) {
	switch name {
	case "", LossCategoricalCrossentropy, LossSparseCategoricalCrossentropy, LossBinaryCrossentropy,
		LossMSE, LossMAE, LossHuber:
		return name, nil
	}
	return "", fmt.Errorf("train: unknown loss %q (want one of %s, %s, %s, %s, %s, %s)", name, LossCategoricalCrossentropy,
		LossSparseCategoricalCrossentropy, LossBinaryCrossentropy, LossMSE, LossMAE, LossHuber)
}

// crossEntropy follows keras.losses.categorical_crossentropy with
// from_logits=False: predictions are renormalized to sum to one, clipped to
// [eps, 1-eps], and -log of the label's probability is returned.
func crossEntropy(p []float32, label int) float64 {
	var sum float64
	for _, v := range p {
		sum += float64(v)
	}
	q := float64(p[label])
	if sum > 0 && !math.IsInf(sum, 0) {
		q /= sum
	}
	if math.IsNaN(q) {
		q = crossEntropyEps
	}
	q = min(max(q, crossEntropyEps), 1-crossEntropyEps)
	return -math.Log(q)
}

// EvaluateLoss is Evaluate with a choice of loss (see Config.Loss).
func EvaluateLoss(m Model, ds *runtime.Dataset, batch int, lossName string) (loss, acc float64, err error) {
	ev, err := EvaluateConfig(m, ds, batch, Config{Loss: lossName})
	return ev.Loss, ev.Accuracy, err
}

// Evaluation holds the figures of a model on a dataset.
type Evaluation struct {
	Loss, Accuracy float64
	TopKAccuracy   float64 // with Config.TopK
}

// EvaluateConfig evaluates m on ds with the loss, logits setting and top-k
// of cfg, predicting in batches of the given size.
func EvaluateConfig(m Model, ds *runtime.Dataset, batch int, cfg Config) (Evaluation, error) {
	var ev Evaluation
	if err := checkModel(m, batch); err != nil {
		return ev, err
	}
	if _, err := lossFunc(cfg.Loss); err != nil {
		return ev, err
	}
	if err := checkDataset(m, ds, "evaluation"); err != nil {
		return ev, err
	}
	in, out := m.InputSize(), m.OutputSize()
	x := make([]float32, batch*in)
	pred := make([]float32, batch*out)
	var lossSum float64
	correct, topk := 0, 0
	for lo := 0; lo < ds.N; lo += batch {
		n := min(batch, ds.N-lo)
		copy(x, ds.Images[lo*in:(lo+n)*in])
		m.Predict(pred[:n*out], x[:n*in], n)
		for i := range n {
			p := pred[i*out : (i+1)*out]
			label := int(ds.Labels[lo+i])
			lossSum += sampleLoss(cfg.Loss, cfg.FromLogits, cfg.HuberDelta, p, label)
			if hit(p, label, cfg.FromLogits) {
				correct++
			}
			if cfg.TopK > 0 && inTopK(p, label, cfg.TopK) {
				topk++
			}
		}
	}
	n := float64(ds.N)
	return Evaluation{Loss: lossSum / n, Accuracy: float64(correct) / n, TopKAccuracy: float64(topk) / n}, nil
}

// progress draws a Keras-style progress bar for one epoch:
//
//	Epoch 1/5 [=========>                    ] 234/469 - loss: 0.3123 - accuracy: 0.9102 - 51234 samples/s
//
// On a terminal the line is redrawn in place with '\r' at most every
// redrawInterval; on anything else (files, pipes, test buffers) only the
// final line of each epoch is written, so logs stay readable.
type progress struct {
	w             io.Writer
	tty           bool
	epoch, epochs int
	steps         int
	last          time.Time
	width         int // length of the last line drawn, to blank leftovers
}

const (
	barWidth       = 30
	redrawInterval = 100 * time.Millisecond
)

func newProgress(w io.Writer, epoch, epochs, steps int) *progress {
	p := &progress{w: w, epoch: epoch, epochs: epochs, steps: steps}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) update(step int, loss, acc, rate float64) {
	if p.w == nil || !p.tty || step == p.steps {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < redrawInterval {
		return
	}
	p.last = now
	p.draw(step, loss, acc, rate, false)
}

func (p *progress) finish(loss, acc, rate float64) {
	if p.w == nil {
		return
	}
	p.draw(p.steps, loss, acc, rate, true)
}

func (p *progress) draw(step int, loss, acc, rate float64, final bool) {
	line := formatProgress(p.epoch, p.epochs, step, p.steps, loss, acc, rate)
	var b strings.Builder
	if p.tty {
		b.WriteByte('\r')
	}
	b.WriteString(line)
	if pad := p.width - len(line); pad > 0 {
		b.WriteString(strings.Repeat(" ", pad))
	}
	p.width = len(line)
	if final {
		b.WriteByte('\n')
	}
	io.WriteString(p.w, b.String()) // progress output is best effort
}

// formatProgress renders one progress line.
func formatProgress(epoch, epochs, step, steps int, loss, acc, rate float64) string {
	filled := barWidth
	if steps > 0 && step < steps {
		filled = step * barWidth / steps
	}
	var bar strings.Builder
	bar.WriteByte('[')
	for i := range barWidth {
		switch {
		case i < filled:
			bar.WriteByte('=')
		case i == filled && step < steps:
			bar.WriteByte('>')
		default:
			bar.WriteByte(' ')
		}
	}
	bar.WriteByte(']')
	return fmt.Sprintf("Epoch %d/%d %s %d/%d - loss: %.4f - accuracy: %.4f - %.0f samples/s",
		epoch, epochs, bar.String(), step, steps, loss, acc, rate)
}
