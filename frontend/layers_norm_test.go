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

// kerasNormFiles are the files of shared/keras-models that load since
// BatchNormalization exists.
var kerasNormFiles = []string{"keras2-mnist-cnn-batchnorm.json", "keras3-mnist-cnn-batchnorm.json"}

// normX is the batch of the PyTorch checks: [4, 3].
var normX = []float64{0.5, -1.2, 2.0, 1.5, 0.3, -0.7, 0.1, 0.9, -0.3, -0.8, 0.4, 1.1}

func closeTo(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > tol*(1+math.Abs(want[i])) {
			t.Errorf("%s[%d] = %.8g, PyTorch %.8g", what, i, got[i], want[i])
		}
	}
}

// normMachine builds a model of one layer on input shape in and sets its
// gamma and beta.
func normMachine(t *testing.T, l Layer, in []int64, gamma, beta []float64) (*interp.Machine, *Model) {
	t.Helper()
	md := &Model{Name: "m", Input: in, Loss: LossMSE, Optimizer: &passes.Optimizer{Kind: "sgd", LearningRate: 1e-9},
		Layers: []Layer{l}}
	m, err := md.Build()
	if err != nil {
		t.Fatal(err)
	}
	mc, err := interp.NewMachine(m, 1)
	if err != nil {
		t.Fatal(err)
	}
	if gamma != nil {
		copy(mc.Weights[l.Name+"/gamma"].Data, gamma)
		copy(mc.Weights[l.Name+"/beta"].Data, beta)
	}
	return mc, md
}

// TestBatchNormPyTorch compares batch norm with torch.nn.BatchNorm1d/2d
// (torch 1.13, float64; script in the comments): the training output
// (batch statistics), the running statistics after one step (unbiased
// variance, torch momentum = 1 − momentum), and the inference output
// with them.
func TestBatchNormPyTorch(t *testing.T) {
	// bn = BatchNorm1d(3, eps=1e-5, momentum=0.1), weight [1.5,0.5,-1],
	// bias [0.1,-0.2,0.3]; bn.train(); bn(x); bn.eval(); bn(x).
	l := Layer{Type: LayerBatchNorm, Name: "bn", Norm: defaultNorm(LayerBatchNorm)}
	l.Norm.Momentum, l.Norm.Epsilon = 0.9, 1e-5
	mc, _ := normMachine(t, l, []int64{3}, []float64{1.5, 0.5, -1}, []float64{0.1, -0.2, 0.3})
	x := interp.New(ir.F32, []int{4, 3}, normX)
	res, err := mc.Run(passes.TrainStep, x, interp.New(ir.F32, []int{4, 3}, nil))
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "training output", res[1].Data, []float64{0.41788771106399997, -1.0288429884488504, -1.0625408217924122,
		2.234388917144, -0.0724856940847923, 1.4316016994547154, -0.30871277136799996, 0.310057223660831,
		1.0620991037144, -1.94356385684, -0.008728541127188402, -0.23115998137670313}, 2e-6)
	closeTo(t, "running mean", mc.Weights["bn/moving_mean"].Data, []float64{0.0325, 0.010000000000000004, 0.052500000000000005}, 1e-6)
	closeTo(t, "running var", mc.Weights["bn/moving_variance"].Data, []float64{0.9909166666666667, 0.982, 1.0562500000000001}, 1e-6)
	res, err = mc.Run(passes.Predict, x)
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "inference output", res[0].Data, []float64{0.8044531515024622, -0.8105165192363644, -1.5949251047855382,
		2.3113048124702957, -0.05367785902599532, 1.0321854384344633, 0.20171248711532877, 0.24905760505815233,
		0.6429838764759446, -1.1544540077557215, -0.0032219483453040263, -0.719221590378871}, 2e-6)

	// Images, channels last: x4 = sin(arange(24)).reshape(2,2,2,3);
	// BatchNorm2d(3, eps=1e-3, momentum=0.01) on x4 permuted to NCHW
	// (Keras's defaults: momentum 0.99, epsilon 1e-3).
	l = Layer{Type: LayerBatchNorm, Name: "bn"}
	mc, _ = normMachine(t, l, []int64{2, 2, 3}, nil, nil)
	x4 := make([]float64, 24)
	for i := range x4 {
		x4[i] = math.Sin(float64(i))
	}
	res, err = mc.Run(passes.TrainStep, interp.New(ir.F32, []int{2, 2, 2, 3}, x4), interp.New(ir.F32, []int{2, 2, 2, 3}, nil))
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "NHWC training output", res[1].Data, []float64{-0.11222123574136202, 1.4689654508336842, 0.9545684751031841,
		0.1555125013676097, -1.5310242221872101, -1.0163320186528062, -0.6423300173907185, 1.1226847548286338,
		1.03902949444797, 0.6696524595794, -1.1316295229643307, -1.0596549633382533, -1.1302106374056398,
		0.6781699400083997, 1.0403472554416413, 1.1215088074707, -0.6508915595876735, -1.0189411656449006,
		-1.5369988052980539, 0.1708308016808929, 0.9584167859989149, 1.4750869274180645, -0.12710564261239635,
		-0.8974338633557507}, 2e-6)
	closeTo(t, "NHWC running mean", mc.Weights["bn/moving_mean"].Data, []float64{0.0005915078862796998, 0.0005886544973293896, 4.459487825374017e-05}, 1e-6)
	closeTo(t, "NHWC running var", mc.Weights["bn/moving_variance"].Data, []float64{0.993163711815028, 0.9932323754971772, 1.0002573638655619}, 1e-6)
}

func TestLayerNormPyTorch(t *testing.T) {
	// LayerNorm(3, eps=1e-5), weight [1.5,0.5,-1], bias [0.1,-0.2,0.3].
	l := Layer{Type: LayerLayerNorm, Name: "ln", Norm: defaultNorm(LayerLayerNorm)}
	l.Norm.Epsilon = 1e-5
	mc, _ := normMachine(t, l, []int64{3}, []float64{1.5, 0.5, -1}, []float64{0.1, -0.2, 0.3})
	want := []float64{0.1764965442606111, -0.824721778128324, -0.8984458600829073, 1.9901740737536053,
		-0.2370622367402668, 1.4859915756885367, -0.30088380948014226, 0.4681396824669038, 1.369023491947046,
		-1.8755796452167972, -0.09378604057974214, -0.8046251779706821}
	for _, fn := range []string{passes.Predict, passes.TrainStep} {
		args := []*interp.Tensor{interp.New(ir.F32, []int{4, 3}, normX)}
		out := 0
		if fn == passes.TrainStep {
			args, out = append(args, interp.New(ir.F32, []int{4, 3}, nil)), 1
		}
		res, err := mc.Run(fn, args...)
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, fn, res[out].Data, want, 2e-6)
	}
}

func TestEmbedding(t *testing.T) {
	l := Layer{Type: LayerEmbedding, Name: "emb", Norm: &NormSpec{InputDim: 5, OutputDim: 2}}
	mc, _ := normMachine(t, l, []int64{3}, nil, nil)
	table := mc.Weights["emb/embeddings"].Data
	for i, v := range table {
		if v < -0.05 || v >= 0.05 {
			t.Fatalf("table[%d] = %v: not Keras's uniform(-0.05, 0.05)", i, v)
		}
	}
	res, err := mc.Run(passes.Predict, interp.New(ir.F32, []int{2, 3}, []float64{4, 0, 2, 2, 2, 1}))
	if err != nil {
		t.Fatal(err)
	}
	var want []float64
	for _, i := range []int{4, 0, 2, 2, 2, 1} {
		want = append(want, table[2*i], table[2*i+1])
	}
	closeTo(t, "rows", res[0].Data, want, 0)
	if got := mc.Module.Func(passes.Predict).Results[0].Type.String(); got != "f32[N,3,2]" {
		t.Errorf("embedding output %s, want f32[N,3,2]", got)
	}
}

// TestNormGradients checks the gradients through batch norm in training
// mode (batch statistics), layer norm and embedding by central
// differences in float64, through the autodiff pass on train_step.
func TestNormGradients(t *testing.T) {
	dense := Layer{Type: LayerDense, Name: "d", Units: 3, Activation: "tanh", UseBias: true,
		KernelInit: runtime.InitSpec{Kind: "glorot_uniform"}, BiasInit: runtime.InitSpec{Kind: "constant", Value: 0.1}}
	gb := runtime.InitSpec{Kind: "random_uniform", Minval: 0.5, Maxval: 1.5}
	bn := defaultNorm(LayerBatchNorm)
	bn.GammaInit, bn.BetaInit = gb, gb
	ln := defaultNorm(LayerLayerNorm)
	ln.GammaInit, ln.BetaInit = gb, gb
	x := []float64{0.9, 0.1, -0.4, 0.7, 0.2, -0.8, 0.3, 0.6, -0.5, 0.5, 0.5, -0.1}
	cases := []struct {
		name   string
		in     []int64
		layers []Layer
		x      []float64
	}{
		{"batch_norm", []int64{4}, []Layer{dense, {Type: LayerBatchNorm, Name: "bn", Norm: bn},
			{Type: LayerDense, Name: "out", Units: 2, UseBias: true, KernelInit: runtime.InitSpec{Kind: "glorot_uniform"}}}, x},
		{"layer_norm", []int64{4}, []Layer{dense, {Type: LayerLayerNorm, Name: "ln", Norm: ln},
			{Type: LayerDense, Name: "out", Units: 2, UseBias: true, KernelInit: runtime.InitSpec{Kind: "glorot_uniform"}}}, x},
		{"embedding", []int64{4}, []Layer{{Type: LayerEmbedding, Name: "emb", Norm: &NormSpec{InputDim: 5, OutputDim: 3},
			KernelInit: runtime.InitSpec{Kind: "random_uniform", Minval: -1, Maxval: 1}}, {Type: LayerFlatten, Name: "f"},
			{Type: LayerDense, Name: "out", Units: 2, UseBias: true, KernelInit: runtime.InitSpec{Kind: "glorot_uniform"}}},
			[]float64{0, 3, 3, 1, 4, 4, 2, 0, 1, 1, 1, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			md := &Model{Name: "m", Input: c.in, Loss: LossMSE, Optimizer: passes.Adam(0.001), Layers: c.layers}
			m32, err := md.Build()
			if err != nil {
				t.Fatal(err)
			}
			m := toF64(t, m32)
			if err := passes.Autodiff(m, &passes.Config{Optimizer: md.Optimizer}); err != nil {
				t.Fatal(err)
			}
			mc, err := interp.NewMachine(m, 9)
			if err != nil {
				t.Fatal(err)
			}
			in := []*interp.Tensor{interp.New(ir.F64, []int{3, 4}, c.x),
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
					up := run()[0].Data[0]
					data[j] = orig - h
					down := run()[0].Data[0]
					data[j] = orig
					fd := (up - down) / (2 * h)
					if got := res[i].Data[j]; math.Abs(fd-got) > 1e-7+1e-5*math.Abs(fd) {
						t.Errorf("d loss / d %s[%d] = %.9g by autodiff, %.9g by finite differences", w, j, got, fd)
					}
					checked++
				}
			}
			if checked == 0 {
				t.Error("no gradients")
			}
		})
	}
}

func TestNormLayersLoad(t *testing.T) {
	md := mustLoad(t, `{"input": {"shape": [6]}, "layers": [
		{"type": "embedding", "input_dim": 10, "output_dim": 4},
		{"type": "layer_normalization", "epsilon": 1e-5},
		{"type": "flatten"},
		{"type": "dense", "units": 8},
		{"type": "batch_normalization", "momentum": 0.9, "center": false, "axis": -1},
		{"type": "dense", "units": 3, "activation": "softmax"}],
		"loss": "sparse_categorical_crossentropy", "optimizer": {"type": "adam"}}`)
	m, err := md.Build()
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"embedding/embeddings", "layer_normalization/gamma", "layer_normalization/beta",
		"batch_normalization/gamma", "batch_normalization/moving_mean", "batch_normalization/moving_variance"} {
		if m.Weight(w) == nil {
			t.Errorf("no weight %s", w)
		}
	}
	if m.Weight("batch_normalization/beta") != nil {
		t.Error("center false made a beta")
	}
	if mw := m.Weight("batch_normalization/moving_mean"); mw.Trainable {
		t.Error("the moving mean is trainable")
	}
	if u := m.Func(passes.TrainStep).Updates; len(u) != 2 {
		t.Errorf("train_step has %d updates, want the 2 moving statistics", len(u))
	}
	// A frozen batch norm runs in inference mode in train_step too (as
	// Keras): no batch statistics, no updates, no trainable gamma/beta.
	frozen := mustLoad(t, `{"input": {"shape": [4]}, "layers": [{"type": "batch_normalization", "trainable": false},
		{"type": "dense", "units": 2}], "loss": "mse", "optimizer": {"type": "sgd"}}`)
	fm, err := frozen.Build()
	if err != nil {
		t.Fatal(err)
	}
	if u := fm.Func(passes.TrainStep).Updates; len(u) != 0 || fm.Weight("batch_normalization/gamma").Trainable ||
		strings.Contains(fm.Func(passes.TrainStep).String(), "size") {
		t.Errorf("frozen batch norm: updates %v, gamma trainable %v\n%s", u, fm.Weight("batch_normalization/gamma").Trainable, fm.Func(passes.TrainStep))
	}
	one := func(layer string) string {
		return `{"input": {"shape": [2, 2, 3]}, "layers": [` + layer + `]}`
	}
	loadErr(t, one(`{"type": "batch_normalization", "axis": 1}`),
		`model.json:1:44: layers[0]: layer "batch_normalization" (batch_normalization): axis 1 is not supported: dlc normalises over the last axis only (-1, or 3 for an input of shape [N,2,2,3])`)
	loadErr(t, one(`{"type": "batch_normalization", "momentum": 1}`), `layers[0].momentum: momentum must be in [0, 1), is 1`)
	loadErr(t, one(`{"type": "layer_normalization", "momentum": 0.9}`), `layers[0].momentum: unknown field "momentum"`)
	loadErr(t, one(`{"type": "layer_normalization", "epsilon": 0}`), `layers[0].epsilon: epsilon must be a positive number, is 0`)
	loadErr(t, one(`{"type": "embedding", "output_dim": 4}`), `layers[0]: missing field "input_dim"`)
	loadErr(t, one(`{"type": "embedding", "input_dim": 4, "output_dim": 2}`),
		`embedding needs [batch, sequence] of indices`)
}

func TestKerasNormFiles(t *testing.T) {
	want := map[string]string{
		"keras2-mnist-cnn-batchnorm.json": "conv2d_12:conv2d batch_normalization_18:batch_normalization conv2d_13:conv2d " +
			"batch_normalization_19:batch_normalization max_pooling2d_6:max_pooling2d dropout_12:dropout:0.25 conv2d_14:conv2d " +
			"batch_normalization_20:batch_normalization conv2d_15:conv2d batch_normalization_21:batch_normalization " +
			"max_pooling2d_7:max_pooling2d dropout_13:dropout:0.25 flatten_3:flatten dense_9:dense:512:relu " +
			"batch_normalization_22:batch_normalization dropout_14:dropout:0.25 dense_10:dense:1024:relu " +
			"batch_normalization_23:batch_normalization dropout_15:dropout:0.25 dense_11:dense:10:softmax",
		"keras3-mnist-cnn-batchnorm.json": "conv2d:conv2d max_pooling2d:max_pooling2d batch_normalization:batch_normalization " +
			"conv2d_1:conv2d max_pooling2d_1:max_pooling2d batch_normalization_1:batch_normalization conv2d_2:conv2d " +
			"batch_normalization_2:batch_normalization flatten:flatten dense:dense:128:relu dropout:dropout:0.5 " +
			"dense_1:dense:64:relu dropout_1:dropout:0.3 dense_2:dense:10:softmax",
	}
	for _, f := range kerasNormFiles {
		t.Run(f, func(t *testing.T) {
			md, err := LoadFile(kerasFile(t, f))
			if err != nil {
				t.Fatal(err)
			}
			if got := layerSummary(md); got != want[f] {
				t.Errorf("layers\n  %s\nwant\n  %s", got, want[f])
			}
			md.Loss, md.Optimizer = LossCategoricalCE, passes.Adam(0.001)
			m, err := md.Build()
			if err != nil {
				t.Fatal(err)
			}
			if err := ir.Verify(m); err != nil {
				t.Fatal(err)
			}
			for _, l := range md.Layers {
				if l.Type == LayerBatchNorm && (l.Norm.Momentum != 0.99 || l.Norm.Epsilon != 1e-3) {
					t.Errorf("%s: momentum %v, epsilon %v; the file says 0.99, 0.001", l.Name, l.Norm.Momentum, l.Norm.Epsilon)
				}
			}
		})
	}
}
