package frontend

import (
	"math"
	"strings"
	"testing"

	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
	"github.com/dlc-project/dlc/passes"
	"github.com/dlc-project/dlc/runtime"
)

// dropoutModel is x → dropout(rate) → dense(identity kernel) with MSE,
// so that the output shows the dropped and scaled inputs.
func dropoutModel(rate float64) *Model {
	return &Model{Name: "drop", Input: []int64{500}, Loss: LossMSE, Optimizer: &passes.Optimizer{Kind: "sgd", LearningRate: 1e-9},
		Layers: []Layer{{Type: LayerDropout, Name: "dropout", Rate: rate}}}
}

func TestDropoutTrainingMode(t *testing.T) {
	const rate = 0.3
	md := dropoutModel(rate)
	m, err := compileModel(md)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := interp.NewMachine(m, 1)
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	x := make([]float64, n*500)
	for i := range x {
		x[i] = 1 + float64(i%7)
	}
	xs := interp.New(ir.F32, []int{n, 500}, x)
	ys := interp.New(ir.F32, []int{n, 500}, nil)
	scale := float64(float32(1 / (1 - rate)))
	var masks [][]float64
	for step := 0; step < 3; step++ {
		res, err := mc.Run(passes.TrainStep, xs, ys)
		if err != nil {
			t.Fatal(err)
		}
		out := res[1].Data
		dropped := 0
		mask := make([]float64, len(out))
		for i, v := range out {
			switch {
			case v == 0:
				dropped++
			case math.Abs(v-x[i]*scale) <= 1e-6*v:
				mask[i] = 1
			default:
				t.Fatalf("step %d: element %d is %v, want 0 or %v·1/(1-rate)", step, i, v, x[i])
			}
		}
		// 2000 Bernoulli(0.3) draws: 4 standard deviations is 0.041.
		if frac := float64(dropped) / float64(len(out)); math.Abs(frac-rate) > 0.041 {
			t.Errorf("step %d: dropped %.3f of the elements, want about %v", step, frac, rate)
		}
		if got := mc.Weights[DropoutStepState].Data[0]; got != float64(step+1) {
			t.Errorf("after step %d the step counter is %v", step+1, got)
		}
		masks = append(masks, mask)
	}
	same := 0
	for i := range masks[0] {
		if masks[0][i] == masks[1][i] {
			same++
		}
	}
	if same == len(masks[0]) {
		t.Error("steps 1 and 2 drew the same mask")
	}
	// Predict is the identity.
	res, err := mc.Run(passes.Predict, xs)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range res[0].Data {
		if v != x[i] {
			t.Fatalf("predict changed element %d: %v, want %v", i, v, x[i])
		}
	}
	// Reproducible: a fresh machine draws step 1's mask again, and a
	// machine whose counter is set to 2 (a resumed run) draws step 3's.
	for _, c := range []struct {
		counter float64
		want    []float64
	}{{0, masks[0]}, {2, masks[2]}} {
		mc2, _ := interp.NewMachine(m, 1)
		mc2.Weights[DropoutStepState].Data[0] = c.counter
		res, err := mc2.Run(passes.TrainStep, xs, ys)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range res[1].Data {
			if (v != 0) != (c.want[i] == 1) {
				t.Fatalf("counter %v: element %d differs from the first run's", c.counter, i)
			}
		}
	}
	// rate 0 traces no mask at all.
	m0, _ := dropoutModel(0).Build()
	if strings.Contains(m0.String(), ir.OpDropoutMask) {
		t.Error("dropout with rate 0 traced a mask")
	}
}

// compileModel builds md and runs the pass pipeline.
func compileModel(md *Model) (*ir.Module, error) {
	m, err := md.Build()
	if err != nil {
		return nil, err
	}
	return m, passes.Run(m, &passes.Config{Optimizer: md.Optimizer}, passes.Options{Verify: true})
}

// TestDropoutGradient checks the gradient through a dropout layer by
// central differences at a fixed step (the mask is a function of the
// step, so each evaluation runs train_step at the same counter).
func TestDropoutGradient(t *testing.T) {
	md := &Model{Name: "m", Input: []int64{4}, Loss: LossMSE, Optimizer: passes.Adam(0.001),
		Layers: []Layer{
			{Type: LayerDense, Name: "d", Units: 6, Activation: "tanh", UseBias: true,
				KernelInit: runtime.InitSpec{Kind: "glorot_uniform"}, BiasInit: runtime.InitSpec{Kind: "constant", Value: 0.1}},
			{Type: LayerDropout, Name: "dropout", Rate: 0.5},
			{Type: LayerDense, Name: "d2", Units: 2, Activation: "linear", UseBias: false,
				KernelInit: runtime.InitSpec{Kind: "glorot_uniform"}},
		}}
	m32, err := md.Build()
	if err != nil {
		t.Fatal(err)
	}
	m := toF64(t, m32)
	if err := passes.Autodiff(m, &passes.Config{Optimizer: md.Optimizer}); err != nil {
		t.Fatal(err)
	}
	mc, err := interp.NewMachine(m, 5)
	if err != nil {
		t.Fatal(err)
	}
	mc.Weights[DropoutStepState].Data[0] = 11
	in := []*interp.Tensor{interp.New(ir.F64, []int{3, 4}, []float64{0.9, 0.1, -0.4, 0.7, 0.2, -0.8, 0.3, 0.6, -0.5, 0.5, 0.5, -0.1}),
		interp.New(ir.F64, []int{3, 2}, []float64{0.3, -0.2, 0.1, 0.5, -0.4, 0.2})}
	run := func() []*interp.Tensor {
		res, _, err := interp.Run(m, passes.TrainStep, in, mc.Weights)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := run()
	f := m.Func(passes.TrainStep)
	zeros := 0
	for i, name := range f.ResultNames {
		w, ok := strings.CutPrefix(name, passes.GradPrefix)
		if !ok {
			continue
		}
		data := mc.Weights[w].Data
		for j := range data {
			const h = 1e-6
			orig := data[j]
			data[j] = orig + h
			up := run()[0].Data[0]
			data[j] = orig - h
			down := run()[0].Data[0]
			data[j] = orig
			fd := (up - down) / (2 * h)
			got := res[i].Data[j]
			if math.Abs(fd-got) > 1e-7+1e-5*math.Abs(fd) {
				t.Errorf("d loss / d %s[%d] = %.9g by autodiff, %.9g by finite differences", w, j, got, fd)
			}
			if w == "d2/kernel" && got == 0 {
				zeros++
			}
		}
	}
	// Dropped units feed nothing forward: their rows of d2's kernel get
	// no gradient (about half of the 6 units at rate 0.5, unless a unit
	// survives in some sample).
	t.Logf("%d of 12 gradient entries of d2/kernel are 0 (dropped in every sample)", zeros)
}

func TestDropoutLoad(t *testing.T) {
	md := mustLoad(t, `{"input": {"shape": [4]}, "layers": [{"type": "dropout", "rate": 0.25}, {"type": "dense", "units": 2, "activation": "softmax"}],
		"loss": "categorical_crossentropy", "optimizer": {"type": "sgd"}, "train": {"seed": 3}}`)
	m, err := md.Build()
	if err != nil {
		t.Fatal(err)
	}
	s := m.String()
	if !strings.Contains(s, `dropout_mask`) || !strings.Contains(s, `rate=0.25`) || m.Weight(DropoutStepState) == nil {
		t.Errorf("no dropout_mask with rate 0.25 or no step state in\n%s", s)
	}
	if a, b := dropoutSeed("dropout", 0), dropoutSeed("dropout", 3); a == b || a < 0 || b < 0 {
		t.Errorf("seeds %d, %d: want distinct and >= 0", a, b)
	}
}
