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

// torchRefsDir holds the references of testdata/torchrefs/make_refs.py: a
// conv net with batch norm and a layer-norm + attention block.
const torchRefsDir = "testdata/torchrefs"

// torchRefOptimizers are the optimizers of make_refs.py in dlc's terms.
var torchRefOptimizers = map[string]*passes.Optimizer{
	"sgd":          {Kind: "sgd", LearningRate: 0.1},
	"sgd_momentum": {Kind: "sgd", LearningRate: 0.05, Momentum: 0.9},
	"adam":         {Kind: "adam", LearningRate: 0.001, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7, EpsilonStyle: "pytorch"},
	"adamw":        {Kind: "adamw", LearningRate: 0.001, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7, WeightDecay: 0.01},
	"rmsprop":      {Kind: "rmsprop", LearningRate: 0.001, Alpha: 0.9, Epsilon: 1e-7},
	"sgd_nesterov": {Kind: "sgd", LearningRate: 0.05, Momentum: 0.9, Nesterov: true},
	"adagrad":      {Kind: "adagrad", LearningRate: 0.01, Epsilon: 1e-10},
	"rmsprop_centered_momentum": {Kind: "rmsprop", LearningRate: 0.0001, Alpha: 0.9, Epsilon: 1e-7,
		Momentum: 0.9, Centered: true},
}

// convBNModel is make_refs.py's ConvBN as a model.json.
const convBNModel = `{"name": "conv_bn", "input": {"shape": [8, 8, 1]}, "layers": [
	{"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same", "use_bias": false},
	{"type": "batch_normalization", "momentum": 0.99, "epsilon": 0.001},
	{"type": "activation", "activation": "relu"},
	{"type": "max_pooling2d", "pool_size": 2},
	{"type": "flatten"},
	{"type": "dense", "units": 5}],
	"loss": {"type": "sparse_categorical_crossentropy", "from_logits": true}, "optimizer": {"type": "sgd"}}`

// BuildAttention traces make_refs.py's Attention block: x [N,4,8] →
// layer norm → single-head attention (q kᵀ/√8, softmax, ·v, ·Wo) → residual
// → mean over the positions → dense 8→3, with sparse softmax cross-entropy
// from the logits. Kernels are [in, out].
func buildAttention(t *testing.T, opt *passes.Optimizer) *ir.Module {
	t.Helper()
	m := &ir.Module{Name: "attention"}
	xt := ir.Type{DType: ir.F32, Shape: ir.Shape{ir.S(frontend.Batch), ir.C(4), ir.C(8)}}
	for _, fn := range []string{passes.Predict, passes.TrainStep} {
		tr := frontend.NewTracer(m, fn)
		x := tr.Input("x", xt)
		w := func(name string, in, out int64, init string) frontend.Tensor {
			shape := []ir.Dim{ir.C(in), ir.C(out)}
			if in == 1 {
				shape = shape[1:]
			}
			return tr.Weight(name, ir.TensorOf(ir.F32, shape...), true, ir.Attrs{"init": init, "fan_in": in, "fan_out": out})
		}
		mean := x.Mean(true, 2)
		d := x.Sub(mean)
		v := d.Mul(d).Mean(true, 2)
		h := d.Div(v.Add(x.ScalarLike(1e-5)).Sqrt()).Mul(w("ln/gamma", 1, 8, "ones")).Add(w("ln/beta", 1, 8, "zeros"))
		q := h.MatMul(w("wq", 8, 8, "glorot_uniform"))
		k := h.MatMul(w("wk", 8, 8, "glorot_uniform"))
		val := h.MatMul(w("wv", 8, 8, "glorot_uniform"))
		a := q.MatMul(k.Transpose(0, 2, 1)).Div(x.ScalarLike(math.Sqrt(8))).Softmax(-1)
		y := x.Add(a.MatMul(val).MatMul(w("wo", 8, 8, "glorot_uniform")))
		logits := y.Mean(false, 1).MatMul(w("fc/kernel", 8, 3, "glorot_uniform")).Add(w("fc/bias", 1, 3, "zeros"))
		if fn == passes.Predict {
			tr.Return([]string{"output"}, logits)
		} else {
			lbl := tr.Input("y", ir.Type{DType: ir.F32, Shape: ir.Shape{ir.S(frontend.Batch), ir.C(1)}})
			onehot := tr.Op(ir.OpEqual, nil, lbl, tr.Const(ir.TensorOf(ir.F32, ir.C(3)), 0, 1, 2)).Cast(ir.F32)
			loss := onehot.Mul(logits.LogSoftmax(-1)).Sum(false, 1).Mean(false, 0).Neg()
			tr.Return([]string{"loss", "output"}, loss, logits)
		}
		if err := tr.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := passes.Run(m, &passes.Config{Optimizer: opt}, passes.Options{Verify: true}); err != nil {
		t.Fatal(err)
	}
	return m
}

func readRef(t *testing.T, file string) []float64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(torchRefsDir, file))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(b)/4)
	for i := range out {
		out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
	}
	return out
}

// TestTorchReferencesConvAttention trains both cases with every optimizer
// of the references and compares losses and parameters with PyTorch's.
func TestTorchReferencesConvAttention(t *testing.T) {
	var manifest struct {
		Cases []struct {
			Name  string
			Input struct {
				File  string
				Shape []int
			}
			Labels []int
			Params map[string]struct {
				File  string
				Shape []int
			}
			Optimizers []struct {
				Name      string
				Losses    []float64
				Snapshots map[string]map[string]string
			}
		}
	}
	data, err := os.ReadFile(filepath.Join(torchRefsDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &manifest); err != nil {
		t.Fatal(err)
	}
	// torch name → dlc weight, and whether it is a Linear weight ([out,
	// in] in torch, [in, out] in dlc).
	type dlcName struct {
		name   string
		linear bool
	}
	names := map[string]map[string]dlcName{
		"conv_bn": {"conv.weight": {"conv2d/kernel", false},
			"bn.weight": {"batch_normalization/gamma", false}, "bn.bias": {"batch_normalization/beta", false},
			"bn.running_mean": {"batch_normalization/moving_mean", false}, "bn.running_var": {"batch_normalization/moving_variance", false},
			"fc.weight": {"dense/kernel", true}, "fc.bias": {"dense/bias", false}},
		"attention": {"ln.weight": {"ln/gamma", false}, "ln.bias": {"ln/beta", false}, "wq.weight": {"wq", true},
			"wk.weight": {"wk", true}, "wv.weight": {"wv", true}, "wo.weight": {"wo", true},
			"fc.weight": {"fc/kernel", true}, "fc.bias": {"fc/bias", false}},
	}
	tested := 0
	for _, c := range manifest.Cases {
		for _, o := range c.Optimizers {
			opt, ok := torchRefOptimizers[o.Name]
			if !ok {
				t.Errorf("%s: reference optimizer %q has no dlc equivalent", c.Name, o.Name)
				continue
			}
			tested++
			t.Run(c.Name+"/"+o.Name, func(t *testing.T) {
				var m *ir.Module
				if c.Name == "conv_bn" {
					md, err := frontend.Load("conv_bn.json", []byte(convBNModel))
					if err != nil {
						t.Fatal(err)
					}
					md.Optimizer = opt
					if m, err = Lower(md, Options{Verify: true}); err != nil {
						t.Fatal(err)
					}
				} else {
					m = buildAttention(t, opt)
				}
				mc, err := interp.NewMachine(m, 1)
				if err != nil {
					t.Fatal(err)
				}
				for tn, p := range c.Params {
					dn, ok := names[c.Name][tn]
					if !ok {
						t.Fatalf("torch %s has no dlc weight", tn)
					}
					w := readRef(t, p.File)
					if dn.linear {
						w = transpose(w, p.Shape[0], p.Shape[1])
					}
					mw, ok := mc.Weights[dn.name]
					if !ok || len(mw.Data) != len(w) {
						t.Fatalf("dlc weight %s missing or of another size than torch's %s %v", dn.name, tn, p.Shape)
					}
					copy(mw.Data, w)
				}
				shape := c.Input.Shape
				if c.Name == "conv_bn" { // NCHW with one channel: the same data as NHWC
					shape = []int{shape[0], shape[2], shape[3], shape[1]}
				}
				x := interp.New(ir.F32, shape, readRef(t, c.Input.File))
				labels := make([]float64, len(c.Labels))
				for i, l := range c.Labels {
					labels[i] = float64(l)
				}
				y := interp.New(ir.F32, []int{len(labels), 1}, labels)
				worst := map[int]float64{}
				for step := 1; step <= len(o.Losses); step++ {
					res, err := mc.Run(passes.TrainStep, x, y)
					if err != nil {
						t.Fatal(err)
					}
					if got, want := res[0].Data[0], o.Losses[step-1]; math.Abs(got-want) > 1e-4*math.Abs(want) {
						t.Errorf("step %d: loss %.7g, PyTorch %.7g", step, got, want)
					}
					snaps, ok := o.Snapshots[fmt.Sprint(step)]
					if !ok {
						continue
					}
					rtol := 1e-4
					if step > 1 {
						rtol = 1e-3
					}
					for tn, file := range snaps {
						dn := names[c.Name][tn]
						want := readRef(t, file)
						got := mc.Weights[dn.name].Data
						if dn.linear {
							s := c.Params[tn].Shape
							got = transpose(got, s[1], s[0])
						}
						var e float64
						for i := range want {
							e = math.Max(e, math.Abs(got[i]-want[i])/(math.Abs(want[i])+1e-3))
						}
						worst[step] = math.Max(worst[step], e)
						if e > rtol {
							t.Errorf("step %d: %s (%s): max relative error %.3g > %g", step, tn, dn.name, e, rtol)
						}
					}
				}
				t.Logf("max relative error: step 1 %.2g, step 10 %.2g", worst[1], worst[10])
			})
		}
	}
	if tested != 2*len(torchRefOptimizers) {
		t.Errorf("tested %d runs, want %d", tested, 2*len(torchRefOptimizers))
	}
}
