package main

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dlc-project/dlc/compile"
	"github.com/dlc-project/dlc/examples/lenet/model"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
	"github.com/dlc-project/dlc/passes"
)

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

func referenceModule(t *testing.T) *ir.Module {
	md, err := compile.Load("model.json", compile.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := compile.Lower(md, compile.Options{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func batch(n int) (x, y []float32, xt, yt *interp.Tensor) {
	r := rand.New(rand.NewPCG(5, 6))
	x = make([]float32, n*784)
	y = make([]float32, n*10)
	for i := range x {
		if r.IntN(4) == 0 { // sparse like MNIST digits
			x[i] = float32(r.Float64())
		}
	}
	for i := 0; i < n; i++ {
		y[i*10+r.IntN(10)] = 1
	}
	toF64 := func(s []float32) []float64 {
		out := make([]float64, len(s))
		for i, v := range s {
			out[i] = float64(v)
		}
		return out
	}
	return x, y, interp.New(ir.F32, []int{n, 28, 28, 1}, toF64(x)), interp.New(ir.F32, []int{n, 10}, toF64(y))
}

// TestGeneratedMatchesInterpreter: the committed generated package and
// ir/interp, started from the same seed, agree on the initial weights, on
// Predict, and on the loss, outputs and every weight and optimizer state
// over 3 training steps (relative error <= 1e-4).
func TestGeneratedMatchesInterpreter(t *testing.T) {
	const n, tol = 16, 1e-4 // n < MaxBatch: a partial batch (small: the interpreter convolves slowly)
	m := referenceModule(t)
	mc, err := interp.NewMachine(m, 1)
	if err != nil {
		t.Fatal(err)
	}
	gen := model.New(model.Options{MaxBatch: 128, Seed: 1, Workers: 2})
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
			if e := relErr(w.Data, want.Data); e > tol {
				t.Errorf("%s: weight %q: relative error %.3g", when, w.Name, e)
			}
		}
	}
	checkWeights("initial")

	x, y, xt, yt := batch(n)
	out := make([]float32, n*10)
	gen.Predict(out, x, n)
	res, err := mc.Run(passes.Predict, xt)
	if err != nil {
		t.Fatal(err)
	}
	if e := relErr(out, res[0].Data); e > tol {
		t.Errorf("Predict: relative error %.3g", e)
	}
	for step := 1; step <= 3; step++ {
		loss := gen.TrainStep(x, y, n)
		res, err := mc.Run(passes.TrainStep, xt, yt)
		if err != nil {
			t.Fatal(err)
		}
		if e := relErr([]float32{loss}, res[0].Data); e > tol {
			t.Errorf("step %d: loss %g, interp %g", step, loss, res[0].Data[0])
		}
		if e := relErr(gen.TrainOutput()[:n*10], res[1].Data); e > tol {
			t.Errorf("step %d: train output relative error %.3g", step, e)
		}
		checkWeights(fmt.Sprintf("after step %d", step))
	}
}

// TestNoAllocations: Predict and TrainStep allocate nothing.
func TestNoAllocations(t *testing.T) {
	gen := model.New(model.Options{MaxBatch: 128, Seed: 1, Workers: 2})
	defer gen.Close()
	x, y, _, _ := batch(128)
	out := make([]float32, 128*10)
	if a := testing.AllocsPerRun(20, func() { gen.Predict(out, x, 128) }); a != 0 {
		t.Errorf("Predict: %v allocations per call", a)
	}
	if a := testing.AllocsPerRun(20, func() { gen.TrainStep(x, y, 128) }); a != 0 {
		t.Errorf("TrainStep: %v allocations per call", a)
	}
}

// TestSaveLoadWeights: weights saved and loaded into a model of another
// seed make it predict identically.
func TestSaveLoadWeights(t *testing.T) {
	a := model.New(model.Options{MaxBatch: 8, Seed: 1})
	defer a.Close()
	b := model.New(model.Options{MaxBatch: 8, Seed: 2})
	defer b.Close()
	x, y, _, _ := batch(8)
	a.TrainStep(x, y, 8)
	var buf bytes.Buffer
	if err := a.SaveWeights(&buf); err != nil {
		t.Fatal(err)
	}
	if err := b.LoadWeights(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	oa, ob := make([]float32, 80), make([]float32, 80)
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
