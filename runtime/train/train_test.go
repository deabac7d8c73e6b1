package train

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dlc-project/dlc/runtime"
)

// softmaxModel is a hand-written softmax regression trained with SGD: a
// small but real Model for exercising Fit. It records every batch it sees.
type softmaxModel struct {
	in, out, maxBatch int
	lr                float32
	w, b              []float32 // w is in×out
	probs             []float32
	gw, gb            []float32

	batchSizes []int
	firstPix   []float32 // x[i*in] of every sample trained on, in order
}

func newSoftmax(in, out, maxBatch int) *softmaxModel {
	return &softmaxModel{
		in: in, out: out, maxBatch: maxBatch, lr: 0.5,
		w: make([]float32, in*out), b: make([]float32, out),
		probs: make([]float32, maxBatch*out),
		gw:    make([]float32, in*out), gb: make([]float32, out),
	}
}

func (m *softmaxModel) MaxBatch() int          { return m.maxBatch }
func (m *softmaxModel) InputSize() int         { return m.in }
func (m *softmaxModel) OutputSize() int        { return m.out }
func (m *softmaxModel) TrainOutput() []float32 { return m.probs }

func (m *softmaxModel) forward(out, x []float32, n int) {
	for s := range n {
		row := out[s*m.out : (s+1)*m.out]
		mx := float32(math.Inf(-1))
		for j := range m.out {
			v := m.b[j]
			for i := range m.in {
				v += x[s*m.in+i] * m.w[i*m.out+j]
			}
			row[j] = v
			mx = max(mx, v)
		}
		var sum float32
		for j := range row {
			row[j] = float32(math.Exp(float64(row[j] - mx)))
			sum += row[j]
		}
		for j := range row {
			row[j] /= sum
		}
	}
}

func (m *softmaxModel) Predict(out, x []float32, n int) { m.forward(out, x, n) }

func (m *softmaxModel) TrainStep(x, y []float32, n int) float32 {
	m.batchSizes = append(m.batchSizes, n)
	for s := range n {
		m.firstPix = append(m.firstPix, x[s*m.in])
	}
	m.forward(m.probs, x, n)
	clear(m.gw)
	clear(m.gb)
	var loss float64
	for s := range n {
		for j := range m.out {
			p := m.probs[s*m.out+j]
			t := y[s*m.out+j]
			if t == 1 {
				loss -= math.Log(float64(max(p, 1e-7)))
			}
			d := (p - t) / float32(n)
			m.gb[j] += d
			for i := range m.in {
				m.gw[i*m.out+j] += x[s*m.in+i] * d
			}
		}
	}
	for i := range m.w {
		m.w[i] -= m.lr * m.gw[i]
	}
	for j := range m.b {
		m.b[j] -= m.lr * m.gb[j]
	}
	return float32(loss / float64(n))
}

// synth builds n 2x3 "images" in 3 well-separated classes. Pixel 0 holds a
// unique per-sample tag so tests can tell which samples were visited.
func synth(n int, seed uint64) *runtime.Dataset {
	rng := runtime.NewRNG(seed)
	ds := &runtime.Dataset{N: n, Rows: 2, Cols: 3, Images: make([]float32, n*6), Labels: make([]uint8, n)}
	for s := range n {
		c := rng.Intn(3)
		ds.Labels[s] = uint8(c)
		img := ds.Images[s*6 : (s+1)*6]
		img[0] = float32(s) / float32(n) // tag
		for i := 1; i < 6; i++ {
			img[i] = float32(0.3 * rng.Normal())
		}
		img[1+2*c] += 1.5
	}
	return ds
}

func TestFitLearnsAndUsesPartialBatches(t *testing.T) {
	trainSet, testSet := synth(50, 1), synth(30, 2)
	m := newSoftmax(6, 3, 8)
	var progress bytes.Buffer
	res, err := Fit(m, trainSet, testSet, Config{Epochs: 6, BatchSize: 8, Seed: 3, Shuffle: true, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Epochs) != 6 || res.BatchSize != 8 {
		t.Fatalf("result %+v", res)
	}
	first, last := res.Epochs[0], res.Epochs[5]
	if !(last.Loss < first.Loss/2) {
		t.Errorf("loss did not go down: epoch 1 %v, epoch 6 %v", first.Loss, last.Loss)
	}
	if last.Accuracy < 0.9 || res.TestAccuracy < 0.9 {
		t.Errorf("accuracy train %v test %v, want >= 0.9", last.Accuracy, res.TestAccuracy)
	}
	if res.TestLoss <= 0 || res.TestLoss > 0.5 {
		t.Errorf("test loss %v", res.TestLoss)
	}
	// 50 samples in batches of 8: six full batches and one of 2, per epoch.
	want := []int{8, 8, 8, 8, 8, 8, 2}
	for e := range 6 {
		if got := m.batchSizes[e*7 : (e+1)*7]; !slices.Equal(got, want) {
			t.Fatalf("epoch %d batch sizes %v, want %v", e+1, got, want)
		}
	}
	// Every sample is seen exactly once per epoch, in a new order.
	var orders [][]float32
	for e := range 6 {
		ep := slices.Clone(m.firstPix[e*50 : (e+1)*50])
		orders = append(orders, slices.Clone(ep))
		slices.Sort(ep)
		for s := range 50 {
			if ep[s] != float32(s)/50 {
				t.Fatalf("epoch %d did not visit each sample once", e+1)
			}
		}
	}
	if slices.Equal(orders[0], orders[1]) {
		t.Error("Shuffle did not reshuffle between epochs")
	}
	// Non-terminal progress: exactly one final line per epoch.
	lines := strings.Split(strings.TrimSuffix(progress.String(), "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("progress has %d lines, want 6:\n%s", len(lines), progress.String())
	}
	re := regexp.MustCompile(`^Epoch 3/6 \[={30}\] 7/7 - loss: \d+\.\d{4} - accuracy: \d\.\d{4} - \d+ samples/s$`)
	if !re.MatchString(lines[2]) || strings.Contains(progress.String(), "\r") {
		t.Errorf("progress line %q", lines[2])
	}
}

func TestFitDeterministic(t *testing.T) {
	trainSet := synth(40, 1)
	run := func(seed uint64) (*softmaxModel, *Result) {
		m := newSoftmax(6, 3, 16)
		res, err := Fit(m, trainSet, nil, Config{Epochs: 3, BatchSize: 16, Seed: seed, Shuffle: true})
		if err != nil {
			t.Fatal(err)
		}
		return m, res
	}
	m1, r1 := run(7)
	m2, r2 := run(7)
	m3, _ := run(8)
	if !slices.Equal(m1.firstPix, m2.firstPix) || !slices.Equal(m1.w, m2.w) {
		t.Fatal("same seed gave different sample orders or weights")
	}
	for e := range r1.Epochs {
		if r1.Epochs[e].Loss != r2.Epochs[e].Loss || r1.Epochs[e].Accuracy != r2.Epochs[e].Accuracy {
			t.Fatalf("epoch %d stats differ: %+v vs %+v", e, r1.Epochs[e], r2.Epochs[e])
		}
	}
	if slices.Equal(m1.firstPix, m3.firstPix) {
		t.Fatal("different seeds gave the same sample order")
	}
	if r1.TestLoss != 0 || r1.TestAccuracy != 0 {
		t.Fatal("nil test set was evaluated")
	}

	// Without Shuffle the order is the dataset order.
	m := newSoftmax(6, 3, 16)
	if _, err := Fit(m, trainSet, nil, Config{Epochs: 1, BatchSize: 16}); err != nil {
		t.Fatal(err)
	}
	for s, v := range m.firstPix {
		if v != float32(s)/40 {
			t.Fatalf("unshuffled epoch visited sample %v at position %d", v, s)
		}
	}
}

func TestFitConfigErrors(t *testing.T) {
	good := synth(10, 1)
	bigImages := &runtime.Dataset{N: 1, Rows: 28, Cols: 28, Images: make([]float32, 784), Labels: []uint8{0}}
	badLabel := synth(10, 1)
	badLabel.Labels[4] = 3
	inconsistent := synth(10, 1)
	inconsistent.Labels = inconsistent.Labels[:9]
	m := newSoftmax(6, 3, 8)
	cases := []struct {
		name        string
		model       Model
		train, test *runtime.Dataset
		cfg         Config
		want        string
	}{
		{"epochs", m, good, nil, Config{Epochs: 0, BatchSize: 4}, "epochs = 0"},
		{"batch0", m, good, nil, Config{Epochs: 1, BatchSize: 0}, "batch size 0"},
		{"batch big", m, good, nil, Config{Epochs: 1, BatchSize: 9}, "MaxBatch 8"},
		{"nil model", nil, good, nil, Config{Epochs: 1, BatchSize: 4}, "model is nil"},
		{"nil train", m, nil, nil, Config{Epochs: 1, BatchSize: 4}, "training set is nil"},
		{"input size", m, bigImages, nil, Config{Epochs: 1, BatchSize: 4}, "input size 6 does not match the training set's 28x28 = 784"},
		{"label", m, good, badLabel, Config{Epochs: 1, BatchSize: 4}, "test set label 3 at sample 4"},
		{"inconsistent", m, inconsistent, nil, Config{Epochs: 1, BatchSize: 4}, "9 labels"},
		{"loss", m, good, nil, Config{Epochs: 1, BatchSize: 4, Loss: "hinge"}, `unknown loss "hinge"`},
	}
	for _, tc := range cases {
		_, err := Fit(tc.model, tc.train, tc.test, tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	if len(m.batchSizes) != 0 {
		t.Error("Fit trained despite a bad config")
	}
}

// fixedModel predicts given probabilities for each sample, identified by
// its tag pixel, to check the evaluation arithmetic.
type fixedModel struct {
	preds [][]float32
	calls []int
}

func (f *fixedModel) TrainStep(x, y []float32, n int) float32 { return 0 }
func (f *fixedModel) TrainOutput() []float32                  { return nil }
func (f *fixedModel) MaxBatch() int                           { return 2 }
func (f *fixedModel) InputSize() int                          { return 1 }
func (f *fixedModel) OutputSize() int                         { return 3 }
func (f *fixedModel) Predict(out, x []float32, n int) {
	f.calls = append(f.calls, n)
	for s := range n {
		copy(out[s*3:(s+1)*3], f.preds[int(x[s])])
	}
}

func TestEvaluate(t *testing.T) {
	f := &fixedModel{preds: [][]float32{
		{0.7, 0.2, 0.1}, // label 0: correct
		{0.5, 0.3, 0.2}, // label 1: wrong
		{0, 0, 1},       // label 0: wrong, p=0 clipped to 1e-7
		{2, 1, 1},       // label 0: unnormalized, Keras divides by the sum
		{0, 1, 0},       // label 1: p=1 clipped to 1-1e-7
	}}
	ds := &runtime.Dataset{N: 5, Rows: 1, Cols: 1, Images: []float32{0, 1, 2, 3, 4}, Labels: []uint8{0, 1, 0, 0, 1}}
	loss, acc, err := Evaluate(f, ds, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := (-math.Log(0.7) - math.Log(0.3) - math.Log(1e-7) - math.Log(0.5) - math.Log(1-1e-7)) / 5
	if math.Abs(loss-want) > 1e-6 || acc != 0.6 {
		t.Fatalf("Evaluate = %v, %v; want %v, 0.6", loss, acc, want)
	}
	if !slices.Equal(f.calls, []int{2, 2, 1}) {
		t.Fatalf("Predict batch sizes %v, want [2 2 1]", f.calls)
	}
	mse, _, err := EvaluateLoss(f, ds, 2, "mse")
	if err != nil {
		t.Fatal(err)
	}
	wantMSE := ((0.09+0.04+0.01)/3 + (0.25+0.49+0.04)/3 + (1+0+1)/3.0 + (1+1+1)/3.0 + 0) / 5
	if math.Abs(mse-wantMSE) > 1e-6 {
		t.Fatalf("mse = %v, want %v", mse, wantMSE)
	}
	if _, _, err := Evaluate(f, ds, 3); err == nil || !strings.Contains(err.Error(), "MaxBatch 2") {
		t.Fatalf("batch above MaxBatch: %v", err)
	}
}

func TestFormatProgress(t *testing.T) {
	got := formatProgress(1, 5, 234, 469, 0.31234, 0.91021, 51234.4)
	want := "Epoch 1/5 [==============>               ] 234/469 - loss: 0.3123 - accuracy: 0.9102 - 51234 samples/s"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	if got := formatProgress(2, 2, 0, 10, 0, 0, 0); !strings.Contains(got, "[>                             ] 0/10") {
		t.Fatalf("empty bar %q", got)
	}
}

func TestResultJSON(t *testing.T) {
	b, err := json.Marshal(&Result{Epochs: []EpochStats{{Epoch: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"epochs":[{"epoch":1,"loss":0,"accuracy":0,"seconds":0,"samples_per_sec":0}]`, `"batch_size"`, `"train_samples_per_sec"`, `"test_loss"`, `"test_accuracy"`, `"seconds"`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("JSON %s lacks %s", b, k)
		}
	}
}

func TestProgressTerminal(t *testing.T) {
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Skip(err)
	}
	defer devNull.Close()
	if !newProgress(devNull, 1, 1, 1).tty {
		t.Errorf("%s (a character device) not treated as a terminal", os.DevNull)
	}
	if newProgress(&bytes.Buffer{}, 1, 1, 1).tty {
		t.Error("bytes.Buffer treated as a terminal")
	}

	var buf bytes.Buffer
	p := &progress{w: &buf, tty: true, epoch: 2, epochs: 3, steps: 10}
	p.update(5, 12.5, 0.5, 1e6) // first redraw is never rate limited
	p.finish(0.25, 0.75, 100)
	out := buf.String()
	if !strings.HasPrefix(out, "\rEpoch 2/3 [===============>              ] 5/10 - loss: 12.5000") {
		t.Fatalf("terminal redraw %q", out)
	}
	final := out[strings.LastIndex(out, "\r"):]
	if !strings.HasPrefix(final, "\rEpoch 2/3 [==============================] 10/10 - loss: 0.2500 - accuracy: 0.7500 - 100 samples/s") || !strings.HasSuffix(final, "\n") {
		t.Fatalf("final line %q", final)
	}
	// The final line is shorter than the first; leftovers must be blanked.
	if len(final)-2 < len(out[1:strings.LastIndex(out, "\r")]) {
		t.Fatalf("final line not padded over the previous one: %q", out)
	}
}

// TestFitRealMNISTSubset trains the softmax regression on 6000 real MNIST
// images for one epoch: an end-to-end check of LoadMNIST and Fit together.
func TestFitRealMNISTSubset(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH")
	}
	dir, err := runtime.LocateMNIST()
	if err != nil {
		t.Fatal(err)
	}
	trainSet, testSet, err := runtime.LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	sub := func(ds *runtime.Dataset, n int) *runtime.Dataset {
		px := ds.Rows * ds.Cols
		return &runtime.Dataset{N: n, Rows: ds.Rows, Cols: ds.Cols, Images: ds.Images[:n*px], Labels: ds.Labels[:n]}
	}
	m := newSoftmax(784, 10, 32)
	m.lr = 0.1
	res, err := Fit(m, sub(trainSet, 6000), sub(testSet, 2000), Config{Epochs: 1, BatchSize: 32, Seed: 1, Shuffle: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.TestAccuracy < 0.8 || res.TestLoss > 0.8 {
		t.Fatalf("MNIST subset: test accuracy %v loss %v, want >= 0.8 and <= 0.8", res.TestAccuracy, res.TestLoss)
	}
	t.Logf("MNIST subset: %+v", res)
}
