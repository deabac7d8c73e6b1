package frontend

import (
	"math"
	"strings"
	"testing"

	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
	"github.com/dlc-project/dlc/passes"
)

// kerasImageFiles are the files of shared/keras-models that load since the
// image layers exist.
var kerasImageFiles = []string{
	"keras2-cnn-activation-dropout-listconfig.json",
	"tfjs-layers-model-mnist-cnn-keras2.json",
	"tfjs-manual-keras3-topology-mnist-cnn.json",
}

// The CNNs of shared/keras-models load, build predict and train_step, and,
// after simplify, keep only the layout transposes at the ends of their
// stacks of image layers (plus the pairs around a separate Activation).
func TestKerasImageFiles(t *testing.T) {
	want := map[string]struct {
		layers     string
		transposes int
	}{
		"keras2-cnn-activation-dropout-listconfig.json": {"conv2d_1:conv2d activation_1:activation:relu max_pooling2d_1:max_pooling2d " +
			"conv2d_2:conv2d activation_2:activation:relu max_pooling2d_2:max_pooling2d conv2d_3:conv2d activation_3:activation:relu " +
			"max_pooling2d_3:max_pooling2d flatten_1:flatten dense_1:dense:64:linear activation_4:activation:relu dropout_1:dropout:0.5 " +
			"dense_2:dense:1:linear activation_5:activation:sigmoid", 2 + 2*3},
		"tfjs-layers-model-mnist-cnn-keras2.json": {"conv2d_1:conv2d conv2d_2:conv2d max_pooling2d_1:max_pooling2d dropout_1:dropout:0.25 " +
			"flatten_1:flatten dense_1:dense:128:relu dropout_2:dropout:0.5 dense_2:dense:10:softmax", 2},
		"tfjs-manual-keras3-topology-mnist-cnn.json": {"conv2d:conv2d conv2d_1:conv2d max_pooling2d:max_pooling2d dropout:dropout:0.25 " +
			"flatten:flatten dense:dense:128:relu dropout_1:dropout:0.5 dense_1:dense:10:softmax", 2},
	}
	for _, f := range kerasImageFiles {
		t.Run(f, func(t *testing.T) {
			md, err := LoadFile(kerasFile(t, f))
			if err != nil {
				t.Fatal(err)
			}
			w := want[f]
			if got := layerSummary(md); got != w.layers {
				t.Errorf("layers\n  %s\nwant\n  %s", got, w.layers)
			}
			md.Loss, md.Optimizer = "mse", passes.Adam(0.001)
			m, err := md.Build()
			if err != nil {
				t.Fatal(err)
			}
			if err := passes.Run(m, &passes.Config{Optimizer: md.Optimizer}, passes.Options{Stop: "dce", Verify: true}); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, v := range m.Func(passes.Predict).Body {
				if v.Op == ir.OpTranspose {
					n++
				}
			}
			if n != w.transposes {
				t.Errorf("predict has %d transposes after simplify, want %d\n%s", n, w.transposes, m.Func(passes.Predict))
			}
		})
	}
}

// predictOnes builds a model.json whose weights are all ones and runs its
// predict on x (one sample).
func predictOnes(t *testing.T, doc string, x []float64) *interp.Tensor {
	t.Helper()
	md, err := Load("model.json", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	m, err := md.Build()
	if err != nil {
		t.Fatal(err)
	}
	weights := map[string]*interp.Tensor{}
	for _, w := range m.Weights {
		dims, _ := w.Type.Shape.Resolve(nil)
		tw := interp.Zeros(ir.F32, dims)
		for i := range tw.Data {
			tw.Data[i] = 1
		}
		weights[w.Name] = tw
	}
	in := append([]int{1}, intDims(md.Input)...)
	res, _, err := interp.Run(m, passes.Predict, []*interp.Tensor{interp.New(ir.F32, in, x)}, weights)
	if err != nil {
		t.Fatal(err)
	}
	return res[0]
}

func intDims(d []int64) []int {
	out := make([]int, len(d))
	for i, x := range d {
		out[i] = int(x)
	}
	return out
}

// The image layers compute what Keras computes on channels_last tensors:
// sums over windows of a [3, 3, 2] image whose element (h, w, c) is
// (3h + w)·2 + c, with TensorFlow's "same" padding (extra padding after),
// and a flatten in channels_last order.
func TestImageLayerSemantics(t *testing.T) {
	x := make([]float64, 18)
	for i := range x {
		x[i] = float64(i)
	}
	at := func(h, w, c int) float64 {
		if h < 0 || h > 2 || w < 0 || w > 2 {
			return 0
		}
		return float64((3*h+w)*2 + c)
	}
	model := func(layers string) string {
		return `{"input": {"shape": [18]}, "layers": [{"type": "reshape", "target_shape": [3, -1, 2]}, ` + layers + `]}`
	}
	cases := []struct {
		name   string
		layers string
		want   func() []float64
	}{
		{"conv2d valid", `{"type": "conv2d", "filters": 2, "kernel_size": 2, "kernel_initializer": "ones", "use_bias": false}, {"type": "flatten"}`,
			func() []float64 {
				var out []float64
				for h := 0; h < 2; h++ {
					for w := 0; w < 2; w++ {
						s := 0.0
						for i := 0; i < 4; i++ {
							s += at(h+i/2, w+i%2, 0) + at(h+i/2, w+i%2, 1)
						}
						out = append(out, s, s) // two filters, channels last
					}
				}
				return out
			}},
		{"conv2d same stride 2", `{"type": "conv2d", "filters": 1, "kernel_size": [2, 2], "strides": 2, "padding": "same"}, {"type": "flatten"}`,
			func() []float64 {
				var out []float64
				for h := 0; h < 2; h++ {
					for w := 0; w < 2; w++ {
						s := 1.0 // the bias
						for i := 0; i < 4; i++ {
							s += at(2*h+i/2, 2*w+i%2, 0) + at(2*h+i/2, 2*w+i%2, 1)
						}
						out = append(out, s)
					}
				}
				return out
			}},
		{"max_pooling2d same", `{"type": "max_pooling2d", "padding": "same"}, {"type": "flatten"}`,
			func() []float64 {
				var out []float64
				for h := 0; h < 2; h++ {
					for w := 0; w < 2; w++ {
						for c := 0; c < 2; c++ {
							out = append(out, at(min(2*h+1, 2), min(2*w+1, 2), c))
						}
					}
				}
				return out
			}},
		{"average_pooling2d same excludes padding", `{"type": "average_pool2d", "pool_size": 2, "padding": "same"}, {"type": "reshape", "target_shape": [8]}`,
			func() []float64 {
				var out []float64
				for h := 0; h < 2; h++ {
					for w := 0; w < 2; w++ {
						for c := 0; c < 2; c++ {
							s, n := 0.0, 0
							for i := 0; i < 4; i++ {
								if hh, ww := 2*h+i/2, 2*w+i%2; hh < 3 && ww < 3 {
									s += at(hh, ww, c)
									n++
								}
							}
							out = append(out, s/float64(n))
						}
					}
				}
				return out
			}},
		{"global_average_pooling2d", `{"type": "global_average_pooling2d"}`,
			func() []float64 { return []float64{8, 9} }},
	}
	for _, c := range cases {
		got := predictOnes(t, model(c.layers), x)
		want := c.want()
		if len(got.Data) != len(want) {
			t.Errorf("%s: got %v, want %v", c.name, got, want)
			continue
		}
		for i := range want {
			if math.Abs(got.Data[i]-want[i]) > 1e-4 {
				t.Errorf("%s: got %v, want %v", c.name, got.Data, want)
				break
			}
		}
	}
}

// Errors in image layers name the layer and the field.
func TestImageLayerErrors(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"conv2d on vectors", oneLayer(`{"type": "conv2d", "filters": 4, "kernel_size": 3}`),
			`model.json:5:5: layers[0]: layer "conv2d" (conv2d): input has shape [N,784]; conv2d needs [batch, height, width, channels] (add a reshape layer)`},
		{"bad padding", oneLayer(`{"type": "max_pooling2d", "padding": "full"}`),
			`model.json:5:42: layers[0].padding: unknown padding "full" (want "valid" or "same")`},
		{"zero kernel", oneLayer(`{"type": "conv2d", "filters": 4, "kernel_size": [0, 3]}`),
			`model.json:5:54: layers[0].kernel_size[0]: must be a positive integer up to 65536, is 0`},
		{"three kernel dims", oneLayer(`{"type": "conv2d", "filters": 4, "kernel_size": [3, 3, 3]}`),
			`model.json:5:53: layers[0].kernel_size: want two integers [height, width], got 3`},
		{"missing filters", oneLayer(`{"type": "conv2d", "kernel_size": 3}`), `model.json:5:5: layers[0]: missing field "filters"`},
		{"reshape size", oneLayer(`{"type": "reshape", "target_shape": [27, 27, 1]}`),
			`layers[0]: layer "reshape" (reshape): cannot reshape 784 elements per sample (shape [784]) to [27, 27, 1] (729 elements)`},
		{"two free dims", oneLayer(`{"type": "reshape", "target_shape": [-1, -1]}`),
			`layers[0].target_shape[1]: dim -1 must be a positive integer (or -1, once, for the remaining size)`},
		{"pool larger than input", oneLayer(`{"type": "reshape", "target_shape": [28, 28, 1]}, {"type": "max_pooling2d", "pool_size": 29}`),
			`layers[1]: layer "max_pooling2d" (max_pooling2d): max_pool [f32[N,1,28,28]]: kernel extent 29 (size 29, dilation 1) along spatial dim 0 is larger than the padded input 28`},
		{"pool field on conv", oneLayer(`{"type": "conv2d", "filters": 1, "kernel_size": 1, "pool_size": 2}`),
			`layers[0].pool_size: unknown field "pool_size"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("model.json", []byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n  %v\nwant it to contain\n  %s", err, tc.want)
			}
		})
	}
}
