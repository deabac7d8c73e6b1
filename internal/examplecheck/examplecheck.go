// Package examplecheck holds the checks every example under examples/
// runs against its committed generated package: it agrees with ir/interp,
// allocates nothing per call, and round-trips its weights. Each example's
// test passes its own package's constructor; the checks are the same.
package examplecheck

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dlc-project/dlc/compile"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
	"github.com/dlc-project/dlc/passes"
	"github.com/dlc-project/dlc/runtime"
)

// Model is the API of a generated package that the checks use.
type Model interface {
	Predict(out, x []float32, n int)
	TrainStep(x, y []float32, n int) float32
	TrainOutput() []float32
	Weights() []runtime.TensorRef
	SaveWeights(w io.Writer) error
	LoadWeights(r io.Reader) error
	Close()
}

// New makes a generated model (the package's New with these options).
type New func(maxBatch int, seed uint64, workers int) Model

// Example describes an example: its model file, the shape of one sample
// (without the batch dim) and the number of classes.
type Example struct {
	ModelJSON string
	Sample    []int
	Classes   int
	New       New
}

func (e Example) sampleSize() int {
	n := 1
	for _, d := range e.Sample {
		n *= d
	}
	return n
}

// Batch makes n sparse random samples (like MNIST digits) with one-hot
// labels, as float32 slices and as interpreter tensors.
func (e Example) Batch(n int) (x, y []float32, xt, yt *interp.Tensor) {
	r := rand.New(rand.NewPCG(5, 6))
	x = make([]float32, n*e.sampleSize())
	y = make([]float32, n*e.Classes)
	for i := range x {
		if r.IntN(4) == 0 {
			x[i] = float32(r.Float64())
		}
	}
	for i := 0; i < n; i++ {
		y[i*e.Classes+r.IntN(e.Classes)] = 1
	}
	toF64 := func(s []float32) []float64 {
		out := make([]float64, len(s))
		for i, v := range s {
			out[i] = float64(v)
		}
		return out
	}
	return x, y, interp.New(ir.F32, append([]int{n}, e.Sample...), toF64(x)), interp.New(ir.F32, []int{n, e.Classes}, toF64(y))
}

// relErr is max|a-b| / max|b|: the error relative to the tensor's scale.
func relErr(a []float32, b []float64) float64 {
	var num, den float64
	for i := range b {
		num = math.Max(num, math.Abs(float64(a[i])-b[i]))
		den = math.Max(den, math.Abs(b[i]))
	}
	if den == 0 {
		return num
	}
	return num / den
}

// MatchesInterpreter: the generated package and ir/interp, started from
// the same seed, agree on the initial weights, on Predict, and on the
// loss, outputs and every weight and optimizer state over 3 training steps
// (relative error <= tol), for a partial batch of n samples.
func (e Example) MatchesInterpreter(t *testing.T, n int, tol float64) {
	t.Helper()
	md, err := compile.Load(e.ModelJSON, compile.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := compile.Lower(md, compile.Options{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	mc, err := interp.NewMachine(m, 1)
	if err != nil {
		t.Fatal(err)
	}
	gen := e.New(128, 1, 2)
	defer gen.Close()
	checkWeights := func(when string) {
		t.Helper()
		refs := gen.Weights()
		if len(refs) != len(mc.Weights) {
			t.Fatalf("%s: generated code has %d weight tensors, interp %d", when, len(refs), len(mc.Weights))
		}
		for _, w := range refs {
			want, ok := mc.Weights[w.Name]
			if !ok {
				t.Fatalf("%s: interp has no weight %q", when, w.Name)
			}
			if d := relErr(w.Data, want.Data); d > tol {
				t.Errorf("%s: weight %q: relative error %.3g", when, w.Name, d)
			}
		}
	}
	checkWeights("initial")

	x, y, xt, yt := e.Batch(n)
	out := make([]float32, n*e.Classes)
	gen.Predict(out, x, n)
	res, err := mc.Run(passes.Predict, xt)
	if err != nil {
		t.Fatal(err)
	}
	if d := relErr(out, res[0].Data); d > tol {
		t.Errorf("Predict: relative error %.3g", d)
	}
	for step := 1; step <= 3; step++ {
		loss := gen.TrainStep(x, y, n)
		res, err := mc.Run(passes.TrainStep, xt, yt)
		if err != nil {
			t.Fatal(err)
		}
		if d := relErr([]float32{loss}, res[0].Data); d > tol {
			t.Errorf("step %d: loss %g, interp %g", step, loss, res[0].Data[0])
		}
		if d := relErr(gen.TrainOutput()[:n*e.Classes], res[1].Data); d > tol {
			t.Errorf("step %d: train output relative error %.3g", step, d)
		}
		checkWeights(fmt.Sprintf("after step %d", step))
	}
}

// NoAllocations: Predict and TrainStep allocate nothing at batch 128.
func (e Example) NoAllocations(t *testing.T) {
	t.Helper()
	gen := e.New(128, 1, 2)
	defer gen.Close()
	x, y, _, _ := e.Batch(128)
	out := make([]float32, 128*e.Classes)
	if a := testing.AllocsPerRun(20, func() { gen.Predict(out, x, 128) }); a != 0 {
		t.Errorf("Predict: %v allocations per call", a)
	}
	if a := testing.AllocsPerRun(20, func() { gen.TrainStep(x, y, 128) }); a != 0 {
		t.Errorf("TrainStep: %v allocations per call", a)
	}
}

// SaveLoadWeights: weights saved and loaded into a model of another seed
// make it predict identically; a truncated file is refused.
func (e Example) SaveLoadWeights(t *testing.T) {
	t.Helper()
	a := e.New(8, 1, 0)
	defer a.Close()
	b := e.New(8, 2, 0)
	defer b.Close()
	x, y, _, _ := e.Batch(8)
	a.TrainStep(x, y, 8)
	var buf bytes.Buffer
	if err := a.SaveWeights(&buf); err != nil {
		t.Fatal(err)
	}
	if err := b.LoadWeights(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	oa, ob := make([]float32, 8*e.Classes), make([]float32, 8*e.Classes)
	a.Predict(oa, x, 8)
	b.Predict(ob, x, 8)
	for i := range oa {
		if oa[i] != ob[i] {
			t.Fatalf("output %d: %g vs %g after loading the weights", i, oa[i], ob[i])
		}
	}
	if err := b.LoadWeights(bytes.NewReader(buf.Bytes()[:buf.Len()/2])); err == nil {
		t.Error("loading a truncated file succeeded")
	}
}

// WorkersAgree: models with 1, 2 and 3 workers, started from the same
// seed, compute the same bits: the loss of each of 3 training steps, every
// weight and optimizer state after them, and Predict at batch 128. The
// pool may split any kernel anywhere; every split must keep each sum's
// order.
func (e Example) WorkersAgree(t *testing.T) {
	t.Helper()
	x, y, _, _ := e.Batch(128)
	type run struct {
		losses  []float32
		weights [][]float32
		out     []float32
	}
	do := func(workers int) run {
		m := e.New(128, 1, workers)
		defer m.Close()
		var r run
		for range 3 {
			r.losses = append(r.losses, m.TrainStep(x, y, 128))
		}
		for _, w := range m.Weights() {
			r.weights = append(r.weights, append([]float32(nil), w.Data...))
		}
		r.out = make([]float32, 128*e.Classes)
		m.Predict(r.out, x, 128)
		return r
	}
	same := func(a, b []float32) int {
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				return i
			}
		}
		return -1
	}
	base := do(1)
	for _, workers := range []int{2, 3} {
		r := do(workers)
		if i := same(base.losses, r.losses); i >= 0 {
			t.Errorf("%d workers: loss of step %d is %g, with 1 worker %g", workers, i+1, r.losses[i], base.losses[i])
		}
		for j := range base.weights {
			if i := same(base.weights[j], r.weights[j]); i >= 0 {
				t.Errorf("%d workers: weight tensor %d differs at %d: %g vs %g", workers, j, i, r.weights[j][i], base.weights[j][i])
			}
		}
		if i := same(base.out, r.out); i >= 0 {
			t.Errorf("%d workers: Predict output %d is %g, with 1 worker %g", workers, i, r.out[i], base.out[i])
		}
	}
}
