package compile

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/dlc-project/dlc/frontend"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
	"github.com/dlc-project/dlc/passes"
)

// refsDir holds PyTorch 1.13 references for an MLP: initial parameters, a
// batch, and the parameters after 1, 2 and 10 optimizer steps
// (../shared/training-refs/README.md).
const refsDir = "../../shared/training-refs"

func readF32(t *testing.T, path string) []float64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(refsDir, path))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(b)/4)
	for i := range out {
		out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
	}
	return out
}

// transpose turns torch's Linear weight [out, in] into dlc's kernel [in, out].
func transpose(w []float64, rows, cols int) []float64 {
	out := make([]float64, len(w))
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			out[c*rows+r] = w[r*cols+c]
		}
	}
	return out
}

// TestPyTorchReferences trains the references' MLP with dlc's derived
// train_step (through ir/interp) and compares the parameters after 1, 2 and
// 10 steps with PyTorch's: rtol 1e-4 after one step, 1e-3 after ten.
func TestPyTorchReferences(t *testing.T) {
	if _, err := os.Stat(filepath.Join(refsDir, "manifest.json")); err != nil {
		t.Skip("no ../shared/training-refs")
	}
	var manifest struct {
		Optimizers []struct {
			Name      string
			Hyper     map[string]any `json:"hyperparameters"`
			Losses    []float64
			Snapshots map[string][]struct {
				Name  string
				File  string
				Shape []int
				Rows  []int
			}
		}
	}
	data, err := os.ReadFile(filepath.Join(refsDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &manifest); err != nil {
		t.Fatal(err)
	}
	opts := map[string]*passes.Optimizer{
		"sgd":          {Kind: "sgd", LearningRate: 0.1},
		"sgd_momentum": {Kind: "sgd", LearningRate: 0.05, Momentum: 0.9},
		"sgd_nesterov": {Kind: "sgd", LearningRate: 0.05, Momentum: 0.9, Nesterov: true},
		"adam":         {Kind: "adam", LearningRate: 0.001, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7, EpsilonStyle: "pytorch"},
		"adagrad":      {Kind: "adagrad", LearningRate: 0.01, Epsilon: 1e-10},
		"rmsprop":      {Kind: "rmsprop", LearningRate: 0.001, Alpha: 0.9, Epsilon: 1e-7},
		"rmsprop_centered_momentum": {Kind: "rmsprop", LearningRate: 0.0001, Alpha: 0.9, Epsilon: 1e-7,
			Momentum: 0.9, Centered: true},
		"adamw":           {Kind: "adamw", LearningRate: 0.001, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7, WeightDecay: 0.01},
		"sgd_clipnorm1":   {Kind: "sgd", LearningRate: 0.1, ClipNorm: 1},
		"sgd_clipnorm0p1": {Kind: "sgd", LearningRate: 0.1, ClipNorm: 0.1},
		"sgd_steplr": {Kind: "sgd", LearningRate: 0.1,
			Schedule: passes.Schedule{Kind: "step", StepSize: 3, Gamma: 0.5}},
	}
	// torch name → dlc weight name, and whether it is a Linear weight.
	names := map[string]string{"fc1.weight": "dense/kernel", "fc1.bias": "dense/bias", "fc2.weight": "dense_1/kernel",
		"fc2.bias": "dense_1/bias", "fc3.weight": "dense_2/kernel", "fc3.bias": "dense_2/bias"}
	shapes := map[string][2]int{"fc1.weight": {64, 784}, "fc2.weight": {64, 64}, "fc3.weight": {10, 64}}
	x := readF32(t, "data/input.bin")
	y := readF32(t, "data/labels_onehot.bin")
	tested := 0
	for _, o := range manifest.Optimizers {
		opt, ok := opts[o.Name]
		if !ok {
			t.Errorf("reference %q has no dlc optimizer", o.Name)
			continue
		}
		tested++
		t.Run(o.Name, func(t *testing.T) {
			md := &frontend.Model{Name: "mlp", Input: []int64{784}, Loss: "categorical_crossentropy", Optimizer: opt,
				Layers: []frontend.Layer{
					{Type: "dense", Name: "dense", Units: 64, Activation: "relu", UseBias: true},
					{Type: "dense", Name: "dense_1", Units: 64, Activation: "relu", UseBias: true},
					{Type: "dense", Name: "dense_2", Units: 10, Activation: "softmax", UseBias: true},
				}}
			m, err := Lower(md, Options{Verify: true})
			if err != nil {
				t.Fatal(err)
			}
			mc, err := interp.NewMachine(m, 1)
			if err != nil {
				t.Fatal(err)
			}
			for torch, dlc := range names {
				w := readF32(t, "params/"+torch+".bin")
				if s, ok := shapes[torch]; ok {
					w = transpose(w, s[0], s[1])
				}
				mc.Weights[dlc] = interp.New(ir.F32, mc.Weights[dlc].Shape, w)
			}
			xt, yt := interp.New(ir.F32, []int{16, 784}, x), interp.New(ir.F32, []int{16, 10}, y)
			worstAt := map[int]float64{}
			var worstLoss float64
			for step := 1; step <= 10; step++ {
				res, err := mc.Run(passes.TrainStep, xt, yt)
				if err != nil {
					t.Fatal(err)
				}
				want := o.Losses[step-1]
				worstLoss = math.Max(worstLoss, math.Abs(res[0].Data[0]-want)/math.Abs(want))
				if math.Abs(res[0].Data[0]-want) > 1e-4*math.Abs(want) {
					t.Errorf("step %d: loss %.7g, PyTorch %.7g", step, res[0].Data[0], want)
				}
				snaps, ok := o.Snapshots[fmt.Sprint(step)]
				if !ok {
					continue
				}
				rtol := 1e-4
				if step == 10 {
					rtol = 1e-3
				}
				for _, sn := range snaps {
					want := readF32(t, sn.File)
					got := mc.Weights[names[sn.Name]].Data
					if s, ok := shapes[sn.Name]; ok {
						got = transpose(got, s[1], s[0]) // back to [out, in]
					}
					if sn.Rows != nil {
						cols := len(got) / shapes[sn.Name][0]
						var rows []float64
						for _, r := range sn.Rows {
							rows = append(rows, got[r*cols:(r+1)*cols]...)
						}
						got = rows
					}
					var worst float64
					for i := range want {
						// Relative to the element, with a floor at the
						// tensor's float32 rounding noise (1e-6·scale).
						e := math.Abs(got[i]-want[i]) / (math.Abs(want[i]) + 1e-3)
						worst = math.Max(worst, e)
					}
					worstAt[step] = math.Max(worstAt[step], worst)
					if worst > rtol {
						t.Errorf("step %d: %s: max relative error %.3g > %g", step, sn.Name, worst, rtol)
					}
				}
			}
			t.Logf("max relative error: step 1 %.2g, step 2 %.2g, step 10 %.2g; losses %.2g",
				worstAt[1], worstAt[2], worstAt[10], worstLoss)
		})
	}
	if tested != len(opts) {
		t.Errorf("tested %d optimizers of %d", tested, len(opts))
	}
}
