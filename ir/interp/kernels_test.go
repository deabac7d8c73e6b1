package interp

import (
	"math"
	"testing"

	"github.com/dlc-project/dlc/ir"
)

// TestEveryOpHasKernel keeps the op table and the interpreter in step:
// adding an op to ir without a reference kernel fails here.
func TestEveryOpHasKernel(t *testing.T) {
	for _, d := range ir.Ops() {
		if Kernels[d.Name] == nil {
			t.Errorf("op %s has no kernel in interp.Kernels", d.Name)
		}
	}
	for name := range Kernels {
		if _, ok := ir.LookupOp(name); !ok {
			t.Errorf("kernel %s has no op in the IR's table", name)
		}
	}
}

func TestElementwise(t *testing.T) {
	e, nan := math.E, math.NaN()
	cases := []struct {
		name  string
		op    string
		attrs ir.Attrs
		args  []*Tensor
		want  *Tensor
	}{
		{"add [2,3]+[3]", ir.OpAdd, nil,
			[]*Tensor{tf(sh(2, 3), 1, 2, 3, 4, 5, 6), tf(sh(3), 10, 20, 30)},
			tf(sh(2, 3), 11, 22, 33, 14, 25, 36)},
		{"add [2,1]+[1,3]", ir.OpAdd, nil,
			[]*Tensor{tf(sh(2, 1), 1, 2), tf(sh(1, 3), 10, 20, 30)},
			tf(sh(2, 3), 11, 21, 31, 12, 22, 32)},
		{"sub scalar-[2,2]", ir.OpSub, nil,
			[]*Tensor{tf(nil, 10), tf(sh(2, 2), 1, 2, 3, 4)},
			tf(sh(2, 2), 9, 8, 7, 6)},
		{"mul [3]*scalar", ir.OpMul, nil,
			[]*Tensor{tf(sh(3), 1, -2, 3), tf(nil, 2)},
			tf(sh(3), 2, -4, 6)},
		{"div f32", ir.OpDiv, nil,
			[]*Tensor{tf(sh(3), 1, 1, -1), tf(sh(3), 4, 0, 3)},
			tf(sh(3), 0.25, math.Inf(1), -1.0/3)},
		{"div f64 exact", ir.OpDiv, nil,
			[]*Tensor{tt(ir.F64, sh(1), 1), tt(ir.F64, sh(1), 3)},
			tt(ir.F64, sh(1), 1.0/3)},
		{"div i32 truncates toward zero", ir.OpDiv, nil,
			[]*Tensor{tt(ir.I32, sh(4), 7, -7, 7, math.MinInt32), tt(ir.I32, sh(4), 2, 2, -2, -1)},
			tt(ir.I32, sh(4), 3, -3, -3, math.MinInt32)},
		{"add i8 wraps", ir.OpAdd, nil,
			[]*Tensor{tt(ir.I8, sh(2), 127, -128), tt(ir.I8, sh(2), 1, -1)},
			tt(ir.I8, sh(2), -128, 127)},
		{"neg u8 wraps", ir.OpNeg, nil, []*Tensor{tt(ir.U8, sh(2), 3, 0)}, tt(ir.U8, sh(2), 253, 0)},
		{"neg", ir.OpNeg, nil, []*Tensor{tf(sh(2), 1.5, -2)}, tf(sh(2), -1.5, 2)},
		{"exp", ir.OpExp, nil, []*Tensor{tf(sh(3), 0, 1, -1000)}, tf(sh(3), 1, e, 0)},
		{"log", ir.OpLog, nil, []*Tensor{tf(sh(3), 1, e, 0)}, tf(sh(3), 0, math.Log(f32(e)), math.Inf(-1))},
		{"sqrt", ir.OpSqrt, nil, []*Tensor{tf(sh(3), 4, 2, -1)}, tf(sh(3), 2, math.Sqrt2, nan)},
		{"relu", ir.OpRelu, nil, []*Tensor{tf(sh(4), -1, 0, 2, nan)}, tf(sh(4), 0, 0, 2, nan)},
		{"relu i32", ir.OpRelu, nil, []*Tensor{tt(ir.I32, sh(2), -3, 3)}, tt(ir.I32, sh(2), 0, 3)},
		{"sigmoid stable", ir.OpSigmoid, nil,
			[]*Tensor{tf(sh(5), 0, 1000, -1000, 2, -800)},
			tf(sh(5), 0.5, 1, 0, 1/(1+math.Exp(-f32(2))), 0)},
		{"sigmoid f64 tiny", ir.OpSigmoid, nil,
			[]*Tensor{tt(ir.F64, sh(1), -700)}, tt(ir.F64, sh(1), math.Exp(-700)/(1+math.Exp(-700)))},
		{"tanh", ir.OpTanh, nil, []*Tensor{tf(sh(3), 0, 1000, -1000)}, tf(sh(3), 0, 1, -1)},
		{"cos", ir.OpCos, nil, []*Tensor{tf(sh(4), 0, 1, -1, nan)}, tf(sh(4), 1, math.Cos(1), math.Cos(1), nan)},
		{"sin", ir.OpSin, nil, []*Tensor{tf(sh(4), 0, 1, -1, nan)}, tf(sh(4), 0, math.Sin(1), -math.Sin(1), nan)},
		{"cos f64", ir.OpCos, nil, []*Tensor{tt(ir.F64, sh(1), math.Pi)}, tt(ir.F64, sh(1), -1)},
		{"floor", ir.OpFloor, nil, []*Tensor{tf(sh(6), 2.5, -2.5, 3, -0.5, 1e9, nan)}, tf(sh(6), 2, -3, 3, -1, 1e9, nan)},
		{"greater", ir.OpGreater, nil, []*Tensor{tf(sh(4), 1, 2, 3, nan), tf(nil, 2)}, tt(ir.Bool, sh(4), 0, 0, 1, 0)},
		{"greater_equal", ir.OpGreaterEqual, nil, []*Tensor{tf(sh(3), 1, 2, 3), tf(nil, 2)}, tt(ir.Bool, sh(3), 0, 1, 1)},
		{"less", ir.OpLess, nil, []*Tensor{tf(sh(3), 1, 2, 3), tf(nil, 2)}, tt(ir.Bool, sh(3), 1, 0, 0)},
		{"less_equal", ir.OpLessEqual, nil, []*Tensor{tf(sh(3), 1, 2, 3), tf(nil, 2)}, tt(ir.Bool, sh(3), 1, 1, 0)},
		{"equal broadcast", ir.OpEqual, nil,
			[]*Tensor{tt(ir.I32, sh(2, 1), 1, 2), tt(ir.I32, sh(2), 1, 2)},
			tt(ir.Bool, sh(2, 2), 1, 0, 0, 1)},
		{"select 3-way broadcast", ir.OpSelect, nil,
			[]*Tensor{tt(ir.Bool, sh(2, 1), 1, 0), tf(sh(1, 3), 1, 2, 3), tf(nil, 9)},
			tf(sh(2, 3), 1, 2, 3, 9, 9, 9)},
		{"cast f32->i32 truncates", ir.OpCast, ir.Attrs{"to": ir.I32},
			[]*Tensor{tf(sh(4), -1.7, 1.7, 2.5, -0.5)}, tt(ir.I32, sh(4), -1, 1, 2, 0)},
		{"cast i32->bool", ir.OpCast, ir.Attrs{"to": ir.Bool},
			[]*Tensor{tt(ir.I32, sh(3), 0, 3, -1)}, tt(ir.Bool, sh(3), 0, 1, 1)},
		{"cast f32->bool", ir.OpCast, ir.Attrs{"to": ir.Bool},
			[]*Tensor{tf(sh(3), 0, 0.5, nan)}, tt(ir.Bool, sh(3), 0, 1, 1)},
		{"cast bool->f32", ir.OpCast, ir.Attrs{"to": ir.F32},
			[]*Tensor{tt(ir.Bool, sh(2), 1, 0)}, tf(sh(2), 1, 0)},
		{"cast f64->f32 rounds", ir.OpCast, ir.Attrs{"to": ir.F32},
			[]*Tensor{tt(ir.F64, sh(1), 0.1)}, tf(sh(1), 0.1)},
		{"cast i32->i8 wraps", ir.OpCast, ir.Attrs{"to": ir.I8},
			[]*Tensor{tt(ir.I32, sh(2), 200, -129)}, tt(ir.I8, sh(2), -56, 127)},
		{"cast i32->u8 wraps", ir.OpCast, ir.Attrs{"to": ir.U8},
			[]*Tensor{tt(ir.I32, sh(2), -1, 256)}, tt(ir.U8, sh(2), 255, 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := evalOp(c.op, c.attrs, c.args...)
			if err != nil {
				t.Fatal(err)
			}
			if d := sameTensor(got, c.want, 0); d != "" {
				t.Fatal(d)
			}
		})
	}
}

func TestElementwiseSymbolicBroadcast(t *testing.T) {
	m := mustParse(t, `module "m"
func @f(%x: f32[N,3], %b: f32[3]) -> (f32[N,3], f32[N,3]) {
  %0 = add %x, %b : f32[N,3]
  %1 = constant {value=[2.0]} : f32[N,3]
  %2 = mul %0, %1 : f32[N,3]
  return %0, %2
}
`)
	for _, n := range []int{1, 3} {
		x := Zeros(ir.F32, sh(n, 3))
		for i := range x.Data {
			x.Data[i] = float64(i)
		}
		res, _, err := Run(m, "f", []*Tensor{x, tf(sh(3), 10, 20, 30)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		want0, want1 := Zeros(ir.F32, sh(n, 3)), Zeros(ir.F32, sh(n, 3))
		for i := range want0.Data {
			want0.Data[i] = float64(i + 10*(i%3+1))
			want1.Data[i] = 2 * want0.Data[i]
		}
		if d := sameTensor(res[0], want0, 0); d != "" {
			t.Errorf("N=%d: add: %s", n, d)
		}
		if d := sameTensor(res[1], want1, 0); d != "" {
			t.Errorf("N=%d: mul by splat constant: %s", n, d)
		}
	}
}

func TestElementwiseErrors(t *testing.T) {
	_, err := evalOp(ir.OpDiv, nil, tt(ir.I32, sh(2), 1, 2), tt(ir.I32, sh(2), 1, 0))
	wantErr(t, err, "func @f: %0 = div: integer division by zero")
	_, err = evalOp(ir.OpCast, ir.Attrs{"to": ir.I32}, tf(sh(2), 1, math.NaN()))
	wantErr(t, err, "%0 = cast: NaN does not fit i32")
	_, err = evalOp(ir.OpCast, ir.Attrs{"to": ir.I8}, tf(sh(1), 300))
	wantErr(t, err, "300 does not fit i8")
}

// naiveMatMul multiplies batch matrices given as functions of their
// indices, the definition written out with no stride arithmetic.
func naiveMatMul(batch []int, m, k, n int, a, b func(bi []int, i, j int) float64) *Tensor {
	out := Zeros(ir.F64, append(append([]int{}, batch...), m, n))
	idx := 0
	forEachIndex(batch, func(bi []int) {
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				s := 0.0
				for p := 0; p < k; p++ {
					s += a(bi, i, p) * b(bi, p, j)
				}
				out.Data[idx] = s
				idx++
			}
		}
	})
	return out
}

func TestMatMul2D(t *testing.T) {
	a := tf(sh(2, 2), 1, 2, 3, 4)
	at := tf(sh(2, 2), 1, 3, 2, 4) // aᵀ as stored
	b := tf(sh(2, 2), 5, 6, 7, 8)
	bt := tf(sh(2, 2), 5, 7, 6, 8)
	want := tf(sh(2, 2), 19, 22, 43, 50)
	for _, c := range []struct {
		a, b   *Tensor
		ta, tb bool
	}{{a, b, false, false}, {at, b, true, false}, {a, bt, false, true}, {at, bt, true, true}} {
		got, err := evalOp(ir.OpMatMul, ir.Attrs{"transpose_a": c.ta, "transpose_b": c.tb}, c.a, c.b)
		if err != nil {
			t.Fatal(err)
		}
		if d := sameTensor(got, want, 0); d != "" {
			t.Errorf("ta=%v tb=%v: %s", c.ta, c.tb, d)
		}
	}
	// A non-square product: [2,3] @ [3,1].
	got, err := evalOp(ir.OpMatMul, nil, tf(sh(2, 3), 1, 2, 3, 4, 5, 6), tf(sh(3, 1), 1, 0, -1))
	if err != nil {
		t.Fatal(err)
	}
	if d := sameTensor(got, tf(sh(2, 1), -2, -2), 0); d != "" {
		t.Error(d)
	}
}

func TestMatMulBatched(t *testing.T) {
	fill := func(shape []int, seed float64) *Tensor {
		x := Zeros(ir.F64, shape)
		for i := range x.Data {
			x.Data[i] = math.Sin(seed + float64(i)*0.7)
		}
		return x
	}
	const m, k, n = 3, 4, 5
	// a has batch [2,1], b has batch [3]: they broadcast to [2,3].
	for _, c := range []struct {
		ta, tb bool
	}{{false, false}, {true, false}, {false, true}, {true, true}} {
		ashape, bshape := sh(2, 1, m, k), sh(3, k, n)
		if c.ta {
			ashape = sh(2, 1, k, m)
		}
		if c.tb {
			bshape = sh(3, n, k)
		}
		a, b := fill(ashape, 1), fill(bshape, 2)
		aAt := func(bi []int, i, p int) float64 {
			if c.ta {
				return a.At(bi[0], 0, p, i)
			}
			return a.At(bi[0], 0, i, p)
		}
		bAt := func(bi []int, p, j int) float64 {
			if c.tb {
				return b.At(bi[1], j, p)
			}
			return b.At(bi[1], p, j)
		}
		want := naiveMatMul(sh(2, 3), m, k, n, aAt, bAt)
		got, err := evalOp(ir.OpMatMul, ir.Attrs{"transpose_a": c.ta, "transpose_b": c.tb}, a, b)
		if err != nil {
			t.Fatal(err)
		}
		if d := sameTensor(got, want, 1e-12); d != "" {
			t.Errorf("ta=%v tb=%v: %s", c.ta, c.tb, d)
		}
	}
	// A rank-2 operand against a batched one broadcasts over the batch.
	a, b := fill(sh(m, k), 3), fill(sh(2, k, n), 4)
	want := naiveMatMul(sh(2), m, k, n,
		func(_ []int, i, p int) float64 { return a.At(i, p) },
		func(bi []int, p, j int) float64 { return b.At(bi[0], p, j) })
	got, err := evalOp(ir.OpMatMul, nil, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if d := sameTensor(got, want, 1e-12); d != "" {
		t.Error(d)
	}
}

func TestReduce(t *testing.T) {
	x := tf(sh(2, 3), 1, 2, 3, 4, 5, 6)
	cube := tf(sh(2, 2, 2), 0, 1, 2, 3, 4, 5, 6, 7) // element (i,j,k) = 4i+2j+k
	nan := math.NaN()
	cases := []struct {
		name string
		op   string
		axes []int64
		keep bool
		in   *Tensor
		want *Tensor
	}{
		{"sum rows", ir.OpReduceSum, []int64{1}, false, x, tf(sh(2), 6, 15)},
		{"sum rows keepdims", ir.OpReduceSum, []int64{1}, true, x, tf(sh(2, 1), 6, 15)},
		{"sum axis -1", ir.OpReduceSum, []int64{-1}, false, x, tf(sh(2), 6, 15)},
		{"sum cols", ir.OpReduceSum, []int64{0}, false, x, tf(sh(3), 5, 7, 9)},
		{"sum all", ir.OpReduceSum, []int64{0, 1}, false, x, tf(nil, 21)},
		{"sum all keepdims", ir.OpReduceSum, []int64{1, 0}, true, x, tf(sh(1, 1), 21)},
		{"sum no axes", ir.OpReduceSum, []int64{}, false, x, x},
		{"sum 3-D outer axes", ir.OpReduceSum, []int64{0, -1}, false, cube, tf(sh(2), 10, 18)},
		{"sum 3-D middle keepdims", ir.OpReduceSum, []int64{1}, true, cube, tf(sh(2, 1, 2), 2, 4, 10, 12)},
		{"mean cols", ir.OpReduceMean, []int64{0}, false, x, tf(sh(3), 2.5, 3.5, 4.5)},
		{"mean all", ir.OpReduceMean, []int64{0, 1}, false, x, tf(nil, 3.5)},
		{"mean i32 truncates", ir.OpReduceMean, []int64{1}, false,
			tt(ir.I32, sh(2, 2), 1, 2, -3, -4), tt(ir.I32, sh(2), 1, -3)},
		{"max axis -2 keepdims", ir.OpReduceMax, []int64{-2}, true, x, tf(sh(1, 3), 4, 5, 6)},
		{"max rows", ir.OpReduceMax, []int64{1}, false, tf(sh(2, 2), -5, -7, 3, 1), tf(sh(2), -5, 3)},
		{"max propagates NaN", ir.OpReduceMax, []int64{0}, false, tf(sh(3), 1, nan, 2), tf(nil, nan)},
		{"sum over an empty axis", ir.OpReduceSum, []int64{1}, false, tf(sh(2, 0)), tf(sh(2), 0, 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := evalOp(c.op, ir.Attrs{"axes": c.axes, "keepdims": c.keep}, c.in)
			if err != nil {
				t.Fatal(err)
			}
			if d := sameTensor(got, c.want, 0); d != "" {
				t.Fatal(d)
			}
		})
	}
	_, err := evalOp(ir.OpReduceMax, ir.Attrs{"axes": []int64{1}}, tf(sh(2, 0)))
	wantErr(t, err, "hold no elements")
}

func TestSoftmax(t *testing.T) {
	x := tf(sh(3, 3), 1, 2, 3, 1000, 1000, 1000, -1000, 0, 1000)
	got, err := evalOp(ir.OpSoftmax, ir.Attrs{"axis": int64(-1)}, x)
	if err != nil {
		t.Fatal(err)
	}
	want := tf(sh(3, 3), 0.09003057317038046, 0.24472847105479764, 0.6652409557748219,
		1.0/3, 1.0/3, 1.0/3, 0, 0, 1)
	if d := sameTensor(got, want, 1e-7); d != "" {
		t.Fatal(d)
	}
	for r := 0; r < 3; r++ {
		s := got.At(r, 0) + got.At(r, 1) + got.At(r, 2)
		if math.Abs(s-1) > 1e-6 {
			t.Errorf("row %d sums to %v", r, s)
		}
	}

	// Along axis 0 the columns are normalised instead.
	got, err = evalOp(ir.OpSoftmax, ir.Attrs{"axis": int64(0)}, tf(sh(2, 2), 0, 5, 0, 5))
	if err != nil {
		t.Fatal(err)
	}
	if d := sameTensor(got, tf(sh(2, 2), 0.5, 0.5, 0.5, 0.5), 0); d != "" {
		t.Fatal(d)
	}

	got, err = evalOp(ir.OpLogSoftmax, ir.Attrs{"axis": int64(1)}, tt(ir.F64, sh(2, 2), 1000, 0, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if d := sameTensor(got, tt(ir.F64, sh(2, 2), 0, -1000, -math.Ln2, -math.Ln2), 1e-12); d != "" {
		t.Fatal(d)
	}
}

func TestLayout(t *testing.T) {
	x := tf(sh(2, 3), 1, 2, 3, 4, 5, 6)
	got, err := evalOp(ir.OpReshape, ir.Attrs{"shape": ir.ShapeOf(3, 2)}, x)
	if err != nil {
		t.Fatal(err)
	}
	if d := sameTensor(got, tf(sh(3, 2), 1, 2, 3, 4, 5, 6), 0); d != "" {
		t.Error("reshape:", d)
	}

	got, err = evalOp(ir.OpTranspose, ir.Attrs{"perm": []int64{1, 0}}, x)
	if err != nil {
		t.Fatal(err)
	}
	if d := sameTensor(got, tf(sh(3, 2), 1, 4, 2, 5, 3, 6), 0); d != "" {
		t.Error("transpose 2-D:", d)
	}

	cube := Zeros(ir.F32, sh(2, 3, 4))
	for i := range cube.Data {
		cube.Data[i] = float64(i)
	}
	got, err = evalOp(ir.OpTranspose, ir.Attrs{"perm": []int64{2, 0, 1}}, cube)
	if err != nil {
		t.Fatal(err)
	}
	if !sameShape(got.Shape, sh(4, 2, 3)) {
		t.Fatalf("transpose 3-D: shape %v", got.Shape)
	}
	forEachIndex(got.Shape, func(idx []int) {
		// Result dim i is input dim perm[i]: out[k,i,j] = in[i,j,k].
		if g, w := got.At(idx...), cube.At(idx[1], idx[2], idx[0]); g != w {
			t.Errorf("transpose 3-D at %v: %v, want %v", idx, g, w)
		}
	})

	for _, c := range []struct {
		in    *Tensor
		shape ir.Shape
		want  *Tensor
	}{
		{tf(sh(3), 1, 2, 3), ir.ShapeOf(2, 3), tf(sh(2, 3), 1, 2, 3, 1, 2, 3)},
		{tf(sh(2, 1), 1, 2), ir.ShapeOf(2, 3), tf(sh(2, 3), 1, 1, 1, 2, 2, 2)},
		{tf(nil, 7), ir.ShapeOf(2), tf(sh(2), 7, 7)},
	} {
		got, err := evalOp(ir.OpBroadcast, ir.Attrs{"shape": c.shape}, c.in)
		if err != nil {
			t.Fatal(err)
		}
		if d := sameTensor(got, c.want, 0); d != "" {
			t.Error("broadcast:", d)
		}
	}

	got, err = evalOp(ir.OpSize, ir.Attrs{"axes": []int64{0, -1}, "dtype": ir.I64}, Zeros(ir.F32, sh(2, 3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	if d := sameTensor(got, tt(ir.I64, nil, 8), 0); d != "" {
		t.Error("size:", d)
	}
	got, err = evalOp(ir.OpSize, ir.Attrs{"axes": []int64{}, "dtype": ir.F32}, Zeros(ir.F32, sh(2, 3)))
	if err != nil {
		t.Fatal(err)
	}
	if d := sameTensor(got, tf(nil, 1), 0); d != "" {
		t.Error("size over no axes:", d)
	}
}

func TestSymbolicLayoutAndConstants(t *testing.T) {
	m := mustParse(t, `module "m"
func @f(%x: f32[N,2]) -> (f32[2,N], f32[N,2], f32[2,2], f32[N,2], f32[], i32[2]) {
  %0 = reshape %x {shape=<2,N>} : f32[2,N]
  %1 = constant {value=[0.5]} : f32[N,2]
  %2 = constant {value=[1.0, 2.0, 3.0, 4.0]} : f32[2,2]
  %3 = broadcast %2 {shape=<N,2,2>} : f32[N,2,2]
  %4 = reduce_sum %3 {axes=[1]} : f32[N,2]
  %5 = size %x {axes=[0], dtype=f32} : f32[]
  %6 = constant {value=[7, -1]} : i32[2]
  return %0, %1, %2, %4, %5, %6
}
`)
	x := tf(sh(3, 2), 1, 2, 3, 4, 5, 6)
	res, _, err := Run(m, "f", []*Tensor{x}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wants := []*Tensor{
		tf(sh(2, 3), 1, 2, 3, 4, 5, 6),
		tf(sh(3, 2), 0.5, 0.5, 0.5, 0.5, 0.5, 0.5),
		tf(sh(2, 2), 1, 2, 3, 4),
		tf(sh(3, 2), 4, 6, 4, 6, 4, 6),
		tf(nil, 3),
		tt(ir.I32, sh(2), 7, -1),
	}
	for i, w := range wants {
		if d := sameTensor(res[i], w, 0); d != "" {
			t.Errorf("result %d: %s", i, d)
		}
	}
}

// TestKernelsRejectBadCalls calls kernels directly, as constant folding
// does, with malformed nodes and operands: each must be an error, not a
// panic or a silently wrong tensor.
func TestKernelsRejectBadCalls(t *testing.T) {
	x := &ir.Value{Op: ir.OpParam, Name: "x", Type: ir.TensorOf(ir.F32, ir.S("N"), ir.C(3))}
	neg := &ir.Value{Op: ir.OpNeg, Args: []*ir.Value{x}, Type: x.Type}
	env := &Env{Syms: map[string]int{"N": 2}}
	good := tf(sh(2, 3))
	cases := []struct {
		name string
		op   string
		v    *ir.Value
		args []*Tensor
		env  *Env
		want string
	}{
		{"nil node", ir.OpNeg, nil, nil, env, "nil node"},
		{"wrong op", ir.OpExp, neg, []*Tensor{good}, env, "exp kernel was given a neg node"},
		{"operand count", ir.OpNeg, neg, nil, env, "0 operand values for 1 operands"},
		{"nil tensor", ir.OpNeg, neg, []*Tensor{nil}, env, "operand 0: nil tensor"},
		{"ragged tensor", ir.OpNeg, neg, []*Tensor{{DType: ir.F32, Shape: sh(2, 3), Data: make([]float64, 5)}}, env,
			"5 values for shape [2,3], want 6"},
		{"dtype", ir.OpNeg, neg, []*Tensor{tt(ir.F64, sh(2, 3))}, env, "tensor is f64, the operand's type is f32[N,3]"},
		{"shape vs type", ir.OpNeg, neg, []*Tensor{tf(sh(2, 4))}, env, "computed f32[2,4], but the node's type f32[N,3] resolves to f32[2,3]"},
		{"unbound symbol", ir.OpNeg, neg, []*Tensor{good}, nil, "symbolic dim N has no value"},
		{"attribute kind", ir.OpReduceSum,
			&ir.Value{Op: ir.OpReduceSum, Args: []*ir.Value{x}, Attrs: ir.Attrs{"axes": "all"}, Type: x.Type},
			[]*Tensor{good}, env, "attribute axes has the wrong kind"},
		{"type its op does not infer", ir.OpReduceSum,
			&ir.Value{Op: ir.OpReduceSum, Args: []*ir.Value{x}, Attrs: ir.Attrs{"axes": []int64{1}}, Type: x.Type},
			[]*Tensor{good}, env, "node has type f32[N,3], but its op infers f32[N]"},
		{"missing weight", ir.OpWeight,
			&ir.Value{Op: ir.OpWeight, Attrs: ir.Attrs{"name": "w"}, Type: ir.TensorOf(ir.F32)}, nil, env,
			`weight "w" has no value`},
		{"weight shape", ir.OpWeight,
			&ir.Value{Op: ir.OpWeight, Attrs: ir.Attrs{"name": "w"}, Type: ir.TensorOf(ir.F32, ir.C(2))}, nil,
			&Env{Weights: map[string]*Tensor{"w": tf(sh(3))}}, `weight "w" is f32[3], the node reads it as f32[2]`},
		{"huge constant", ir.OpConstant,
			&ir.Value{Op: ir.OpConstant, Attrs: ir.Attrs{"value": []float64{0}}, Type: ir.TensorOf(ir.F32, ir.C(1<<16), ir.C(1<<16))}, nil, env,
			"has more than 2^28 elements"},
		{"non-integral int constant", ir.OpConstant,
			&ir.Value{Op: ir.OpConstant, Attrs: ir.Attrs{"value": []float64{1.5}}, Type: ir.TensorOf(ir.I32)}, nil, env,
			"element 0 is 1.5, not a valid i32"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Kernels[c.op](c.v, c.args, c.env)
			wantErr(t, err, c.want)
		})
	}
}
