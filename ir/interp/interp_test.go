package interp

import (
	"math"
	"strings"
	"testing"

	"github.com/dlc-project/dlc/ir"
)

func TestTensorHelpers(t *testing.T) {
	data := []float64{1, 2, 3, 4, 5, 6}
	x := New(ir.F32, sh(2, 3), data)
	data[0] = 99
	if x.At(0, 0) != 1 {
		t.Error("New does not copy its data")
	}
	if x.At(1, 2) != 6 || x.At(0, 1) != 2 || x.NumElements() != 6 {
		t.Errorf("At/NumElements wrong: %v", x)
	}
	c := x.Clone()
	c.Data[0], c.Shape[0] = -1, 7
	if x.Data[0] != 1 || x.Shape[0] != 2 {
		t.Error("Clone shares memory")
	}
	if got, want := x.String(), "f32[2,3] [[1 2 3] [4 5 6]]"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got, want := New(ir.Bool, nil, []float64{1}).String(), "bool[] true"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got := Zeros(ir.F32, sh(1000)).String(); !strings.HasSuffix(got, " …]") || len(got) > 200 {
		t.Errorf("long tensor prints as %q", got)
	}
	if got := (&Tensor{DType: ir.F32, Shape: sh(2)}).String(); !strings.Contains(got, "invalid") {
		t.Errorf("ragged tensor prints as %q", got)
	}
	if z := Zeros(ir.I32, nil); z.NumElements() != 1 || len(z.Data) != 1 || z.At() != 0 {
		t.Errorf("scalar zeros: %v", z)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("New with mismatched data did not panic")
			}
		}()
		New(ir.F32, sh(2), []float64{1})
	}()
}

const bindSrc = `module "m"
func @f(%x: f32[N,784], %y: i32[N,10]) -> (f32[N,784]) {
  return %x
}
`

func TestBindErrors(t *testing.T) {
	m := mustParse(t, bindSrc)
	good := Zeros(ir.I32, sh(2, 10))
	cases := []struct {
		name   string
		inputs []*Tensor
		want   string
	}{
		{"constant dim", []*Tensor{Zeros(ir.F32, sh(2, 783)), good}, "input 0 (%x: f32[N,784]): dim 1 is 783, want 784"},
		{"symbol", []*Tensor{Zeros(ir.F32, sh(2, 784)), Zeros(ir.I32, sh(3, 10))},
			"input 1 (%y: i32[N,10]): dim 0 is 3, but N = 2 (from dim 0 of input 0)"},
		{"rank", []*Tensor{Zeros(ir.F32, sh(784)), good}, "input 0 (%x: f32[N,784]): shape is [784], want rank 2"},
		{"dtype", []*Tensor{Zeros(ir.F64, sh(2, 784)), good}, "input 0 (%x: f32[N,784]): dtype is f64, want f32"},
		{"count", []*Tensor{Zeros(ir.F32, sh(2, 784))}, "func @f takes 2 inputs, given 1"},
		{"nil", []*Tensor{nil, good}, "input 0 (%x: f32[N,784]): nil tensor"},
		{"ragged", []*Tensor{{DType: ir.F32, Shape: sh(2, 784), Data: make([]float64, 3)}, good},
			"input 0 (%x: f32[N,784]): 3 values for shape [2,784], want 1568"},
		{"negative dim", []*Tensor{{DType: ir.F32, Shape: sh(-1, 784)}, good}, "negative dim"},
		{"non-integral int", []*Tensor{Zeros(ir.F32, sh(2, 784)), New(ir.I32, sh(2, 10), append([]float64{1.5}, make([]float64, 19)...))},
			"input 1 (%y: i32[N,10]): element 0 is 1.5, not a valid i32"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Run(m, "f", c.inputs, nil)
			wantErr(t, err, c.want)
		})
	}
	_, _, err := Run(m, "g", nil, nil)
	wantErr(t, err, `module "m" has no function @g`)
	_, _, err = Run(nil, "f", nil, nil)
	wantErr(t, err, "nil module")
	// A batch of zero binds N = 0.
	if _, _, err := Run(m, "f", []*Tensor{Zeros(ir.F32, sh(0, 784)), Zeros(ir.I32, sh(0, 10))}, nil); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}

func TestFloat32Rounding(t *testing.T) {
	m := mustParse(t, `module "m"
func @f32(%a: f32[2], %b: f32[2]) -> (f32[2]) {
  %0 = add %a, %b : f32[2]
  return %0
}
func @f64(%a: f64[2], %b: f64[2]) -> (f64[2]) {
  %0 = add %a, %b : f64[2]
  return %0
}
`)
	a, b := []float64{0.1, 1}, []float64{0.2, 1e-8}
	res, _, err := Run(m, "f32", []*Tensor{New(ir.F32, sh(2), a), New(ir.F32, sh(2), b)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Inputs are rounded to float32, and so is the sum.
	want := []float64{float64(float32(0.1) + float32(0.2)), 1}
	if res[0].Data[0] != want[0] || res[0].Data[1] != want[1] {
		t.Errorf("f32: got %v, want %v", res[0].Data, want)
	}
	if want[0] == a[0]+b[0] {
		t.Fatal("test is vacuous: float32 and float64 sums agree")
	}
	res, _, err = Run(m, "f64", []*Tensor{New(ir.F64, sh(2), a), New(ir.F64, sh(2), b)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Data[0] != a[0]+b[0] || res[0].Data[1] != a[1]+b[1] {
		t.Errorf("f64: got %v, want exact float64 sums", res[0].Data)
	}
}

func TestErrorNamesNode(t *testing.T) {
	m := mustParse(t, `module "m"
weight "w" : f32[3] {init="zeros"}
func @f(%x: f32[N,3]) -> (f32[N,3]) {
  %0 = exp %x : f32[N,3]
  %1 = weight {name="w"} : f32[3]
  %2 = add %0, %1 : f32[N,3]
  return %2
}
`)
	_, _, err := Run(m, "f", []*Tensor{Zeros(ir.F32, sh(1, 3))}, map[string]*Tensor{})
	wantErr(t, err, `func @f: %1 = weight: weight "w" has no value`)
	_, _, err = Run(m, "f", []*Tensor{Zeros(ir.F32, sh(1, 3))}, map[string]*Tensor{"w": Zeros(ir.F64, sh(3))})
	wantErr(t, err, `func @f: %1 = weight: weight "w" is f64[3], the node reads it as f32[3]`)

	// A function that does not verify is refused before anything runs.
	m.Funcs[0].Body[2].Type = ir.TensorOf(ir.F32, ir.C(3))
	_, _, err = Run(m, "f", []*Tensor{Zeros(ir.F32, sh(1, 3))}, nil)
	wantErr(t, err, "func @f: %2 = add: has type f32[3], but its op infers f32[N,3]")
}

const trainSrc = `module "tiny"

weight "w" : f32[2,2] {data=[1.0, -1.0, 0.5, 2.0]}
weight "b" : f32[2] {data=[0.5, -3.0]}
state "steps" : f32[] {init="zeros"}

func @predict(%x: f32[N,2]) -> (probs: f32[N,2]) {
  %0 = weight {name="w"} : f32[2,2]
  %1 = matmul %x, %0 : f32[N,2]
  %2 = weight {name="b"} : f32[2]
  %3 = add %1, %2 : f32[N,2]
  %4 = relu %3 : f32[N,2]
  %5 = softmax %4 {axis=-1} : f32[N,2]
  return %5
}

func @train_step(%x: f32[N,2]) -> (loss: f32[]) {
  %0 = weight {name="w"} : f32[2,2]
  %1 = constant {value=[0.5]} : f32[2,2]
  %2 = sub %0, %1 : f32[2,2]
  %3 = weight {name="steps"} : f32[]
  %4 = constant {value=[1.0]} : f32[]
  %5 = add %3, %4 : f32[]
  update "w" = %2
  update "steps" = %5
  %6 = weight {name="w"} : f32[2,2]
  %7 = reduce_sum %6 {axes=[0, 1]} : f32[]
  %8 = size %x {axes=[0], dtype=f32} : f32[]
  %9 = mul %7, %8 : f32[]
  return %9
}
`

func TestEndToEnd(t *testing.T) {
	m := mustParse(t, trainSrc)
	mc, err := NewMachine(m, 1)
	if err != nil {
		t.Fatal(err)
	}
	x := New(ir.F32, sh(2, 2), []float64{1, 2, 3, -1})
	res, err := mc.Run("predict", x)
	if err != nil {
		t.Fatal(err)
	}
	// By hand: x@w = [[2, 3], [2.5, -5]]; +b = [[2.5, 0], [3, -8]];
	// relu = [[2.5, 0], [3, 0]]; softmax of [a, 0] is [1/(1+e^-a), 1/(1+e^a)].
	sm := func(a float64) (float64, float64) { return 1 / (1 + math.Exp(-a)), 1 / (1 + math.Exp(a)) }
	p00, p01 := sm(2.5)
	p10, p11 := sm(3)
	if d := sameTensor(res[0], tf(sh(2, 2), p00, p01, p10, p11), 1e-7); d != "" {
		t.Fatal(d)
	}

	// Run leaves the weights alone; every read sees them as on entry,
	// including the read of "w" listed after its update.
	before := map[string]*Tensor{}
	for k, v := range mc.Weights {
		before[k] = v.Clone()
	}
	res, updates, err := Run(m, "train_step", []*Tensor{x}, mc.Weights)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range before {
		if d := sameTensor(mc.Weights[k], v, 0); d != "" {
			t.Errorf("Run modified weight %s: %s", k, d)
		}
	}
	if d := sameTensor(res[0], tf(nil, 2.5*2), 0); d != "" {
		t.Errorf("loss: %s", d)
	}
	if d := sameTensor(updates["w"], tf(sh(2, 2), 0.5, -1.5, 0, 1.5), 0); d != "" {
		t.Errorf("update w: %s", d)
	}
	if d := sameTensor(updates["steps"], tf(nil, 1), 0); d != "" {
		t.Errorf("update steps: %s", d)
	}
	if len(updates) != 2 {
		t.Errorf("updates = %v, want w and steps", updates)
	}

	// Machine.Run applies the updates: each step sees the previous one's.
	for step, wantLoss := range []float64{2.5 * 2, 0.5 * 2, -1.5 * 2} {
		res, err := mc.Run("train_step", x)
		if err != nil {
			t.Fatal(err)
		}
		if d := sameTensor(res[0], tf(nil, wantLoss), 0); d != "" {
			t.Errorf("step %d loss: %s", step, d)
		}
		if d := sameTensor(mc.Weights["steps"], tf(nil, float64(step+1)), 0); d != "" {
			t.Errorf("step %d counter: %s", step, d)
		}
	}
	// A failing run leaves the weights as they were.
	w := mc.Weights["w"].Clone()
	if _, err := mc.Run("train_step", Zeros(ir.F32, sh(2, 3))); err == nil {
		t.Fatal("bad input accepted")
	}
	if d := sameTensor(mc.Weights["w"], w, 0); d != "" {
		t.Errorf("failed run changed the weights: %s", d)
	}
	// Results never alias the machine's state.
	m2 := mustParse(t, `module "m"
state "s" : f32[2] {data=[1.0, 2.0]}
func @f() -> (f32[2]) {
  %0 = weight {name="s"} : f32[2]
  update "s" = %0
  return %0
}
`)
	mc2, err := NewMachine(m2, 0)
	if err != nil {
		t.Fatal(err)
	}
	out, err := mc2.Run("f")
	if err != nil {
		t.Fatal(err)
	}
	out[0].Data[0] = 42
	if mc2.Weights["s"].Data[0] != 1 {
		t.Error("a result aliases the updated weight")
	}
}

func TestRunRejectsNilParts(t *testing.T) {
	m := mustParse(t, `module "m"
func @f(%x: f32[2]) -> (f32[2]) {
  %0 = neg %x : f32[2]
  return %0
}
`)
	f := m.Funcs[0]
	f.Body[0].Args[0] = nil
	_, _, err := Run(m, "f", []*Tensor{Zeros(ir.F32, sh(2))}, nil)
	wantErr(t, err, "func @f: %0 = neg: operand 0 is nil")
	f.Body[0] = nil
	_, _, err = Run(m, "f", []*Tensor{Zeros(ir.F32, sh(2))}, nil)
	wantErr(t, err, "func @f: node %0 is nil")
	m.Weights = append(m.Weights, nil)
	_, _, err = Run(m, "f", []*Tensor{Zeros(ir.F32, sh(2))}, nil)
	wantErr(t, err, `module "m": weight 0 is nil`)
}

// FuzzRun checks that whatever parses runs to a result or an error, never
// a panic: inputs are given every symbol the size 2.
func FuzzRun(f *testing.F) {
	f.Add(trainSrc)
	f.Add(bindSrc)
	f.Add(`module "m"
func @f(%x: f32[N,3], %c: bool[N,1]) -> (f32[N,3]) {
  %0 = softmax %x {axis=0} : f32[N,3]
  %1 = transpose %0 {perm=[1, 0]} : f32[3,N]
  %2 = matmul %1, %x : f32[3,3]
  %3 = reduce_max %2 {axes=[-1], keepdims=true} : f32[3,1]
  %4 = broadcast %3 {shape=<3,3>} : f32[3,3]
  %5 = cast %x {to=i32} : i32[N,3]
  %6 = select %c, %x, %x : f32[N,3]
  return %6
}
`)
	f.Fuzz(func(t *testing.T, src string) {
		m, err := ir.ParseModule(src)
		if err != nil || len(m.Funcs) == 0 {
			return
		}
		fn := m.Funcs[0]
		syms := map[string]int{}
		var inputs []*Tensor
		for _, p := range fn.Params {
			for _, d := range p.Type.Shape {
				if !d.IsConst() {
					syms[d.Sym] = 2
				}
			}
			shape, err := p.Type.Shape.Resolve(syms)
			if err != nil {
				return
			}
			if n, err := numElements(shape); err != nil || n > 1<<16 {
				return // keep each run fast
			}
			x := Zeros(p.Type.DType, shape)
			for i := range x.Data {
				x.Data[i] = float64(i % 2)
			}
			inputs = append(inputs, x)
		}
		mc, err := NewMachine(m, 1)
		if err != nil {
			return
		}
		_, _ = mc.Run(fn.Name, inputs...)
	})
}
