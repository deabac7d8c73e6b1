package interp

import (
	"testing"

	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/runtime"
)

const initSrc = `module "m"

weight "a" : f32[4,3] {init="glorot_uniform"}
weight "fixed" : f32[2] {data=[0.25, -1.0]}
weight "c" : f32[5] {init="random_normal", mean=1.0, stddev=0.5}
state "none" : f32[2,2]
weight "k" : f32[3] {init="constant", value=0.25}
weight "conv" : f32[3,3,2,4] {fan_in=18, fan_out=36, init="he_normal"}
state "count" : i64[] {init="ones"}
`

func TestNewMachine(t *testing.T) {
	m := mustParse(t, initSrc)
	mc1, err := NewMachine(m, 42)
	if err != nil {
		t.Fatal(err)
	}
	mc2, err := NewMachine(m, 42)
	if err != nil {
		t.Fatal(err)
	}
	mc3, err := NewMachine(m, 43)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range m.Weights {
		if d := sameTensor(mc1.Weights[w.Name], mc2.Weights[w.Name], 0); d != "" {
			t.Errorf("same seed, weight %s differs: %s", w.Name, d)
		}
	}
	if sameTensor(mc1.Weights["a"], mc3.Weights["a"], 0) == "" {
		t.Error("different seeds gave the same random weight")
	}

	// The weights are exactly what one RNG shared in module order gives,
	// with only the random initializers drawing from it: what generated
	// code does.
	rng := runtime.NewRNG(42)
	draw := func(n int, spec runtime.InitSpec, fanIn, fanOut int) *Tensor {
		buf := make([]float32, n)
		if err := runtime.Initialize(buf, spec, fanIn, fanOut, rng); err != nil {
			t.Fatal(err)
		}
		data := make([]float64, n)
		for i, x := range buf {
			data[i] = float64(x)
		}
		return data2(n, data)
	}
	wantA := draw(12, runtime.InitSpec{Kind: "glorot_uniform"}, 4, 3)
	wantC := draw(5, runtime.InitSpec{Kind: "random_normal", Mean: 1, Stddev: 0.5}, 5, 5)
	wantConv := draw(72, runtime.InitSpec{Kind: "he_normal"}, 18, 36)
	for name, want := range map[string]*Tensor{"a": wantA, "c": wantC, "conv": wantConv} {
		if d := sameTensor(flat(mc1.Weights[name]), want, 0); d != "" {
			t.Errorf("weight %s: %s", name, d)
		}
	}
	for _, c := range []struct {
		name string
		want *Tensor
	}{
		{"fixed", tf(sh(2), 0.25, -1)},
		{"none", tf(sh(2, 2), 0, 0, 0, 0)},
		{"k", tf(sh(3), 0.25, 0.25, 0.25)},
		{"count", tt(ir.I64, nil, 1)},
	} {
		if d := sameTensor(mc1.Weights[c.name], c.want, 0); d != "" {
			t.Errorf("weight %s: %s", c.name, d)
		}
	}
	if !sameShape(mc1.Weights["a"].Shape, sh(4, 3)) {
		t.Errorf("weight a has shape %v", mc1.Weights["a"].Shape)
	}
}

func data2(n int, data []float64) *Tensor { return New(ir.F32, sh(n), data) }

func flat(x *Tensor) *Tensor { return New(x.DType, sh(len(x.Data)), x.Data) }

func TestNewMachineErrors(t *testing.T) {
	cases := []struct {
		name string
		w    *ir.Weight
		want string
	}{
		{"data length", &ir.Weight{Name: "w", Type: ir.TensorOf(ir.F32, ir.C(3)), Data: []float64{1}},
			`weight "w": data has 1 values for type f32[3], want 3`},
		{"symbolic", &ir.Weight{Name: "w", Type: ir.TensorOf(ir.F32, ir.S("N"))}, `weight "w": type f32[N] has a symbolic dim`},
		{"bad init", &ir.Weight{Name: "w", Type: ir.TensorOf(ir.F32, ir.C(3)), Init: ir.Attrs{"init": "gaussian"}},
			`weight "w": initializer: unknown Kind "gaussian"`},
		{"int data", &ir.Weight{Name: "w", Type: ir.TensorOf(ir.I32, ir.C(1)), Data: []float64{0.5}},
			`weight "w": data element 0 is 0.5, not a valid i32`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewMachine(&ir.Module{Name: "m", Weights: []*ir.Weight{c.w}}, 1)
			wantErr(t, err, c.want)
		})
	}
	_, err := NewMachine(nil, 1)
	wantErr(t, err, "nil module")
}

func TestInitSpecOf(t *testing.T) {
	w := func(init ir.Attrs, dims ...int64) *ir.Weight {
		return &ir.Weight{Name: "w", Type: ir.TensorOf(ir.F32, ir.ShapeOf(dims...)...), Init: init}
	}
	cases := []struct {
		name            string
		w               *ir.Weight
		spec            runtime.InitSpec
		fanIn, fanOut   int
		wantErrContains string
	}{
		{"no init is zeros", w(nil, 3, 4), runtime.InitSpec{Kind: "zeros"}, 3, 4, ""},
		{"scalar fans", w(ir.Attrs{"init": "ones"}), runtime.InitSpec{Kind: "ones"}, 1, 1, ""},
		{"rank-1 fans", w(ir.Attrs{"init": "zeros"}, 7), runtime.InitSpec{Kind: "zeros"}, 7, 7, ""},
		{"rank-2 fans", w(ir.Attrs{"init": "glorot_uniform"}, 784, 64), runtime.InitSpec{Kind: "glorot_uniform"}, 784, 64, ""},
		{"rank-4 fans", w(ir.Attrs{"init": "he_uniform"}, 3, 3, 2, 8), runtime.InitSpec{Kind: "he_uniform"}, 18, 8, ""},
		{"explicit fans", w(ir.Attrs{"init": "he_uniform", "fan_in": int64(18), "fan_out": int64(72)}, 3, 3, 2, 8),
			runtime.InitSpec{Kind: "he_uniform"}, 18, 72, ""},
		{"every field", w(ir.Attrs{"init": "variance_scaling", "scale": 2.0, "mode": "fan_out", "distribution": "uniform",
			"mean": int64(1), "stddev": 0.5, "minval": -1.0, "maxval": 1.0, "value": 3.0}, 2, 2),
			runtime.InitSpec{Kind: "variance_scaling", Scale: 2, Mode: "fan_out", Distribution: "uniform",
				Mean: 1, Stddev: 0.5, Minval: -1, Maxval: 1, Value: 3}, 2, 2, ""},
		{"constant", w(ir.Attrs{"init": "constant", "value": 0.1}, 2), runtime.InitSpec{Kind: "constant", Value: 0.1}, 2, 2, ""},
		{"unknown attribute", w(ir.Attrs{"init": "random_normal", "stdev": 1.0}, 2), runtime.InitSpec{}, 0, 0,
			`weight "w": unknown init attribute stdev`},
		{"string scale", w(ir.Attrs{"init": "variance_scaling", "scale": "big"}, 2), runtime.InitSpec{}, 0, 0,
			`weight "w": init attribute scale must be a number, is "big"`},
		{"float fan", w(ir.Attrs{"init": "he_normal", "fan_in": 3.0}, 2), runtime.InitSpec{}, 0, 0,
			"init attribute fan_in must be a non-negative integer, is 3.0"},
		{"negative fan", w(ir.Attrs{"init": "he_normal", "fan_out": int64(-1)}, 2), runtime.InitSpec{}, 0, 0,
			"init attribute fan_out must be a non-negative integer"},
		{"init not a string", w(ir.Attrs{"init": int64(1)}, 2), runtime.InitSpec{}, 0, 0, "init attribute init must be a string"},
		{"no kind", w(ir.Attrs{"scale": 1.0}, 2), runtime.InitSpec{}, 0, 0, `init attributes without init="..."`},
		{"runtime rejects", w(ir.Attrs{"init": "random_uniform", "minval": 1.0, "maxval": 0.0}, 2), runtime.InitSpec{}, 0, 0,
			`weight "w": initializer "random_uniform": Minval = 1 is greater than Maxval = 0`},
		{"nil weight", nil, runtime.InitSpec{}, 0, 0, "nil weight"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec, fanIn, fanOut, err := InitSpecOf(c.w)
			if c.wantErrContains != "" {
				wantErr(t, err, c.wantErrContains)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if spec != c.spec || fanIn != c.fanIn || fanOut != c.fanOut {
				t.Errorf("got %+v, %d, %d; want %+v, %d, %d", spec, fanIn, fanOut, c.spec, c.fanIn, c.fanOut)
			}
		})
	}
}
