package train

import (
	"fmt"
	"math"
)

// How a sample's class label reaches TrainStep's y depends on the model's
// loss, which the generated package shows in TargetSize:
//
//   - TargetSize = OutputSize > 1: a one-hot row (categorical
//     cross-entropy, MSE, …);
//   - TargetSize = 1 < OutputSize: the class index as a float32 (sparse
//     categorical cross-entropy);
//   - TargetSize = OutputSize = 1: the label itself, 0 or 1 (binary
//     cross-entropy, or a regression on the label).
//
// A model without TargetSize gets one-hot rows.
type targetKind int

const (
	targetOneHot targetKind = iota
	targetIndex
	targetBinary
)

// targetSizer is implemented by generated packages with a train_step.
type targetSizer interface{ TargetSize() int }

func targetLayout(m Model) (targetKind, int, error) {
	out := m.OutputSize()
	ts, ok := m.(targetSizer)
	if !ok {
		if out == 1 {
			return targetBinary, 1, nil
		}
		return targetOneHot, out, nil
	}
	switch t := ts.TargetSize(); {
	case t == out && out == 1:
		return targetBinary, 1, nil
	case t == out:
		return targetOneHot, out, nil
	case t == 1:
		return targetIndex, 1, nil
	default:
		return 0, 0, fmt.Errorf("train: the model takes %d target values per sample for %d outputs; class labels can be fed as one-hot rows (%d values) or as the class index (1 value)", t, out, out)
	}
}

// fillTargets writes the targets of the samples idx of labels into y.
func fillTargets(kind targetKind, labels []uint8, idx []int, y []float32, size int) {
	switch kind {
	case targetOneHot:
		clear(y[:len(idx)*size])
		for i, s := range idx {
			y[i*size+int(labels[s])] = 1
		}
	default:
		for i, s := range idx {
			y[i] = float32(labels[s])
		}
	}
}

// hit reports whether the prediction p of one sample is right: the argmax
// is the label, or, for a single output, p > 0.5 (0 for logits) says
// label 1, as Keras's binary_accuracy.
func hit(p []float32, label int, fromLogits bool) bool {
	if len(p) == 1 {
		th := float32(0.5)
		if fromLogits {
			th = 0
		}
		return (p[0] > th) == (label == 1)
	}
	return argmax(p) == label
}

// inTopK reports whether label is among the k highest predictions of p,
// as Keras's top_k_categorical_accuracy: ties with the k-th value count as
// in (fewer than k values are strictly higher than the label's). A NaN
// label score is never in.
func inTopK(p []float32, label, k int) bool {
	v := p[label]
	if v != v {
		return false
	}
	higher := 0
	for _, x := range p {
		if x > v {
			higher++
		}
	}
	return higher < k
}

// sampleLoss returns the loss of one sample's prediction p for its label,
// as the training loss computes it (fromLogits: p holds logits).
func sampleLoss(name string, fromLogits bool, delta float64, p []float32, label int) float64 {
	switch name {
	case "", LossCategoricalCrossentropy, LossSparseCategoricalCrossentropy:
		if fromLogits {
			return softmaxCrossEntropy(p, label)
		}
		return crossEntropy(p, label)
	case LossBinaryCrossentropy:
		var s float64
		for j, v := range p {
			t := 0.0
			if (len(p) == 1 && label == 1) || (len(p) > 1 && j == label) {
				t = 1
			}
			z := float64(v)
			if fromLogits {
				s += math.Max(z, 0) - z*t + math.Log1p(math.Exp(-math.Abs(z)))
				continue
			}
			q := min(max(z, crossEntropyEps), 1-crossEntropyEps)
			s -= t*math.Log(q+crossEntropyEps) + (1-t)*math.Log(1-q+crossEntropyEps)
		}
		return s / float64(len(p))
	}
	// The regressions, on the one-hot (or, for one output, the label).
	var s float64
	if delta == 0 {
		delta = 1
	}
	for j, v := range p {
		t := 0.0
		if (len(p) == 1 && label == 1) || (len(p) > 1 && j == label) {
			t = 1
		}
		d := math.Abs(float64(v) - t)
		switch name {
		case LossMSE:
			s += d * d
		case LossMAE:
			s += d
		case LossHuber:
			if d <= delta {
				s += d * d / 2
			} else {
				s += delta * (d - delta/2)
			}
		}
	}
	return s / float64(len(p))
}

// softmaxCrossEntropy is −log softmax(z)[label], computed stably.
func softmaxCrossEntropy(z []float32, label int) float64 {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = math.Max(mx, float64(v))
	}
	var s float64
	for _, v := range z {
		s += math.Exp(float64(v) - mx)
	}
	return mx + math.Log(s) - float64(z[label])
}
