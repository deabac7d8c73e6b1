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

// Inputs of the loss value tests: logits, probabilities and targets, as in
// the PyTorch script that gave the expected values (torch 1.13, float64):
//
//	x = [[0.5,-1.2,2.0],[1.5,0.3,-0.7]]; p = [[0.2,0.3,0.5],[0.6,0.1,0.3]]
//	F.cross_entropy(x, [2,0]) = 0.2896007068966563
//	-(onehot*log(p)).sum(1).mean() = 0.601986402162968
//	F.binary_cross_entropy_with_logits(x, yb) = 0.7038736723163078
//	F.binary_cross_entropy(p, yb) = 1.1803514443544858
//	F.mse_loss(x, yr) = 0.6; F.l1_loss = 0.6666666666666666
//	F.huber_loss(x, yr, delta=1) = 0.2925; delta=0.5: 0.2225
var (
	lossX   = []float64{0.5, -1.2, 2.0, 1.5, 0.3, -0.7}
	lossP   = []float64{0.2, 0.3, 0.5, 0.6, 0.1, 0.3}
	lossYOH = []float64{0, 0, 1, 1, 0, 0}
	lossYS  = []float64{2, 0}
	lossYB  = []float64{1, 0, 1, 0, 1, 1}
	lossYR  = []float64{0.1, -0.5, 3.0, 1.0, 0.2, -2.0}
)

func TestLossValues(t *testing.T) {
	cases := []struct {
		name, loss, act string
		opts            LossOptions
		x, y            []float64
		want            float64
	}{
		{"ce_softmax", LossCategoricalCE, "softmax", LossOptions{}, lossX, lossYOH, 0.2896007068966563},
		{"ce_from_logits", LossCategoricalCE, "linear", LossOptions{FromLogits: true}, lossX, lossYOH, 0.2896007068966563},
		// Keras adds 1e-7 inside the log: a relative change of ~2e-7.
		{"ce_probabilities", LossCategoricalCE, "linear", LossOptions{}, lossP, lossYOH, 0.601986402162968},
		{"sparse_ce_softmax", LossSparseCategoricalCE, "softmax", LossOptions{}, lossX, lossYS, 0.2896007068966563},
		{"sparse_ce_from_logits", LossSparseCategoricalCE, "linear", LossOptions{FromLogits: true}, lossX, lossYS, 0.2896007068966563},
		{"sparse_ce_probabilities", LossSparseCategoricalCE, "linear", LossOptions{}, lossP, lossYS, 0.601986402162968},
		{"bce_sigmoid", LossBinaryCE, "sigmoid", LossOptions{}, lossX, lossYB, 0.7038736723163078},
		{"bce_from_logits", LossBinaryCE, "linear", LossOptions{FromLogits: true}, lossX, lossYB, 0.7038736723163078},
		{"bce_probabilities", LossBinaryCE, "linear", LossOptions{}, lossP, lossYB, 1.1803514443544858},
		{"mse", LossMSE, "linear", LossOptions{}, lossX, lossYR, 0.6},
		{"mae", LossMAE, "linear", LossOptions{}, lossX, lossYR, 0.6666666666666666},
		{"huber", LossHuber, "linear", LossOptions{}, lossX, lossYR, 0.2925},
		{"huber_delta", LossHuber, "linear", LossOptions{Delta: 0.5}, lossX, lossYR, 0.2225},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			md := &Model{Name: "m", Input: []int64{3}, Loss: c.loss, LossOptions: c.opts, Optimizer: passes.Adam(0.001),
				Layers: []Layer{{Type: LayerActivation, Name: "a", Activation: c.act}}}
			m, err := md.Build()
			if err != nil {
				t.Fatal(err)
			}
			ycols := len(c.y) / 2
			res, _, err := interp.Run(m, passes.TrainStep, []*interp.Tensor{
				interp.New(ir.F32, []int{2, 3}, c.x), interp.New(ir.F32, []int{2, ycols}, c.y)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := res[0].Data[0]; math.Abs(got-c.want) > 2e-6*math.Abs(c.want) {
				t.Errorf("loss %.9g, PyTorch %.9g", got, c.want)
			}
		})
	}
}

// toF64 returns m with every f32 made f64 (through the text form), so
// that finite differences are not drowned by float32 rounding.
func toF64(t *testing.T, m *ir.Module) *ir.Module {
	t.Helper()
	m64, err := ir.ParseModule(strings.ReplaceAll(m.String(), "f32", "f64"))
	if err != nil {
		t.Fatalf("%v\n%s", err, m)
	}
	return m64
}

// TestLossGradientsFiniteDifferences checks each loss's gradient, through
// the autodiff pass on the traced train_step, against central differences
// in float64: a dense layer's weights are perturbed one by one.
func TestLossGradientsFiniteDifferences(t *testing.T) {
	cases := []struct {
		name, loss, act string
		opts            LossOptions
		y               []float64
	}{
		{"ce_softmax", LossCategoricalCE, "softmax", LossOptions{}, lossYOH},
		{"ce_from_logits", LossCategoricalCE, "linear", LossOptions{FromLogits: true}, lossYOH},
		{"ce_probabilities", LossCategoricalCE, "linear", LossOptions{}, lossYOH},
		{"sparse_ce_softmax", LossSparseCategoricalCE, "softmax", LossOptions{}, lossYS},
		{"sparse_ce_from_logits", LossSparseCategoricalCE, "linear", LossOptions{FromLogits: true}, lossYS},
		{"bce_sigmoid", LossBinaryCE, "sigmoid", LossOptions{}, lossYB},
		{"bce_from_logits", LossBinaryCE, "linear", LossOptions{FromLogits: true}, lossYB},
		{"bce_probabilities", LossBinaryCE, "linear", LossOptions{}, lossYB},
		{"mse", LossMSE, "linear", LossOptions{}, lossYR},
		{"mae", LossMAE, "linear", LossOptions{}, lossYR},
		{"huber", LossHuber, "linear", LossOptions{}, lossYR},
		{"huber_delta", LossHuber, "linear", LossOptions{Delta: 0.05}, []float64{0.45, 0.5, 0.62, 0.3, 0.55, 0.48}},
	}
	x := []float64{0.9, 0.1, 0.4, 0.7, 0.2, 0.8, 0.3, 0.6}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Outputs near 0.5 (small kernel, bias 0.5): valid
			// probabilities for the losses that take them.
			md := &Model{Name: "m", Input: []int64{4}, Loss: c.loss, LossOptions: c.opts, Optimizer: passes.Adam(0.001),
				Layers: []Layer{{Type: LayerDense, Name: "d", Units: 3, Activation: c.act, UseBias: true,
					KernelInit: runtime.InitSpec{Kind: "random_uniform", Minval: -0.3, Maxval: 0.3},
					BiasInit:   runtime.InitSpec{Kind: "constant", Value: 0.5}}}}
			m32, err := md.Build()
			if err != nil {
				t.Fatal(err)
			}
			m := toF64(t, m32)
			if err := passes.Autodiff(m, &passes.Config{Optimizer: md.Optimizer}); err != nil {
				t.Fatal(err)
			}
			mc, err := interp.NewMachine(m, 3)
			if err != nil {
				t.Fatal(err)
			}
			xs := interp.New(ir.F64, []int{2, 4}, x)
			ys := interp.New(ir.F64, []int{2, len(c.y) / 2}, c.y)
			res, err := mc.Run(passes.TrainStep, xs, ys)
			if err != nil {
				t.Fatal(err)
			}
			f := m.Func(passes.TrainStep)
			lossAt := func() float64 {
				r, err := mc.Run(passes.TrainStep, xs, ys)
				if err != nil {
					t.Fatal(err)
				}
				return r[0].Data[0]
			}
			checked := 0
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
					up := lossAt()
					data[j] = orig - h
					down := lossAt()
					data[j] = orig
					fd := (up - down) / (2 * h)
					if got := res[i].Data[j]; math.Abs(fd-got) > 1e-7+1e-5*math.Abs(fd) {
						t.Errorf("d loss / d %s[%d] = %.9g by autodiff, %.9g by finite differences", w, j, got, fd)
					}
					checked++
				}
			}
			if checked != 15 {
				t.Errorf("checked %d gradient elements, want 15 (kernel and bias)", checked)
			}
		})
	}
}

func TestLossModelJSON(t *testing.T) {
	doc := func(out, loss, metrics string) string {
		return `{"input": {"shape": [4]}, "layers": [` + out + `], "loss": ` + loss + `, "optimizer": {"type": "sgd"}` + metrics + `}`
	}
	dense := func(units int, act string) string {
		return `{"type": "dense", "units": ` + string(rune('0'+units)) + `, "activation": "` + act + `"}`
	}
	md := mustLoad(t, doc(dense(3, "linear"), `{"type": "sparse_categorical_crossentropy", "from_logits": true}`,
		`, "metrics": ["acc", {"type": "sparse_top_k_categorical_accuracy", "k": 2}]`))
	if md.Loss != LossSparseCategoricalCE || !md.LossOptions.FromLogits || md.TopK != 2 ||
		strings.Join(md.Metrics, ",") != "accuracy,top_k_accuracy" {
		t.Errorf("loaded loss %q %+v, metrics %v, top-k %d", md.Loss, md.LossOptions, md.Metrics, md.TopK)
	}
	m, err := md.Build()
	if err != nil {
		t.Fatal(err)
	}
	if y := m.Func(passes.TrainStep).Params[1].Type; y.String() != "f32[N,1]" {
		t.Errorf("sparse CE's y is %s, want f32[N,1] (the class index)", y)
	}
	for _, c := range []struct{ alias, canon string }{{`"mean_squared_error"`, LossMSE}, {`"mean_absolute_error"`, LossMAE},
		{`"huber_loss"`, LossHuber}, {`{"type": "huber", "delta": 2.5}`, LossHuber}} {
		md := mustLoad(t, doc(dense(3, "linear"), c.alias, ""))
		if md.Loss != c.canon {
			t.Errorf("%s loaded as %q, want %q", c.alias, md.Loss, c.canon)
		}
	}
	if md := mustLoad(t, doc(dense(3, "linear"), `{"type": "huber", "delta": 2.5}`, "")); md.LossOptions.Delta != 2.5 {
		t.Errorf("huber delta %v, want 2.5", md.LossOptions.Delta)
	}
	if md := mustLoad(t, doc(dense(1, "sigmoid"), `"binary_crossentropy"`, `, "metrics": ["binary_accuracy"]`)); md.Loss != LossBinaryCE {
		t.Errorf("loss %q", md.Loss)
	}

	// Incompatible loss and output: the error points at "loss".
	loadErr(t, doc(dense(1, "linear"), `"sparse_categorical_crossentropy"`, ""),
		`model.json:1:102: loss: sparse_categorical_crossentropy needs at least 2 classes, the model's output has 1 unit (use binary_crossentropy with a sigmoid)`)
	loadErr(t, doc(dense(9, "softmax"), `"binary_crossentropy"`, ""),
		`model.json:1:103: loss: binary_crossentropy needs a sigmoid (or, with from_logits, a linear) output, the model's ends in softmax over 9 units (use categorical_crossentropy)`)
	loadErr(t, doc(dense(3, "sigmoid"), `"categorical_crossentropy"`, ""),
		`loss: categorical_crossentropy needs a softmax (or, with from_logits, a linear) output, the model's ends in sigmoid (use binary_crossentropy)`)
	loadErr(t, doc(dense(3, "softmax"), `{"type": "categorical_crossentropy", "from_logits": true}`, ""),
		`loss: categorical_crossentropy with from_logits needs a linear output, the model's ends in softmax`)
	loadErr(t, doc(dense(3, "linear"), `{"type": "mse", "from_logits": true}`, ""),
		`loss.from_logits: unknown field "from_logits"`)
	loadErr(t, doc(dense(3, "linear"), `{"type": "huber", "delta": -1}`, ""),
		`loss.delta: delta must be a positive number, is -1`)
	loadErr(t, doc(dense(3, "linear"), `{"from_logits": true}`, ""),
		`loss: missing field "type"`)
	loadErr(t, doc(dense(3, "softmax"), `"categorical_crossentropy"`, `, "metrics": [{"type": "top_k_accuracy", "k": 4}]`),
		`metrics: metric top_k_accuracy: k = 4 is more than the model's 3 classes`)
	loadErr(t, doc(dense(3, "softmax"), `"categorical_crossentropy"`, `, "metrics": [{"type": "top_k_accuracy", "k": 0}]`),
		`metrics[0].k: k must be a positive integer, is 0`)
	loadErr(t, doc(dense(3, "softmax"), `"categorical_crossentropy"`, `, "metrics": ["accuracy", "acc"]`),
		`metrics[1]: metric accuracy is given twice`)
}
