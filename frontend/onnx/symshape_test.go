package onnx

import (
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/dlc-project/dlc/frontend/onnx/onnxpb"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
)

func i64Tensor(name string, dims []int64, vals ...int64) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(tInt64), Int64Data: vals}
}

func intAttr(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func intsAttr(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

// shapeGraph is a graph with input x of dims xdims and outputs outs; the
// initializers every test uses: scalars i0..i3, [0] axes0, [-1] m1, [4] c4,
// [1] one1, [2] two1, scalar k96 = 96, scalar k4 = 4.
func shapeGraph(xdims []any, outs []string, nodes ...*onnxpb.NodeProto) *onnxpb.ModelProto {
	var ov []*onnxpb.ValueInfoProto
	for _, o := range outs {
		ov = append(ov, &onnxpb.ValueInfoProto{Name: proto.String(o), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
			TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(tFloat)}}}})
	}
	return model(&onnxpb.GraphProto{
		Name:   proto.String("shapes"),
		Input:  []*onnxpb.ValueInfoProto{valueInfo("x", tFloat, xdims...)},
		Output: ov,
		Initializer: []*onnxpb.TensorProto{
			i64Tensor("i0", nil, 0), i64Tensor("i1", nil, 1), i64Tensor("i2", nil, 2), i64Tensor("i3", nil, 3),
			i64Tensor("axes0", []int64{1}, 0), i64Tensor("m1", []int64{1}, -1), i64Tensor("c4", []int64{1}, 4),
			i64Tensor("one1", []int64{1}, 1), i64Tensor("two1", []int64{1}, 2),
			i64Tensor("k96", nil, 96), i64Tensor("k4", nil, 4),
		},
		Node: nodes,
	})
}

// flattenNodes is x.view(x.size(0), -1) as PyTorch exports it.
func flattenNodes() []*onnxpb.NodeProto {
	return []*onnxpb.NodeProto{
		nodeP("Shape", "shape", []string{"x"}, []string{"s"}),
		nodeP("Gather", "gather", []string{"s", "i0"}, []string{"b"}, intAttr("axis", 0)),
		nodeP("Unsqueeze", "unsqueeze", []string{"b", "axes0"}, []string{"bu"}),
		nodeP("Concat", "concat", []string{"bu", "m1"}, []string{"target"}, intAttr("axis", 0)),
		nodeP("Reshape", "reshape", []string{"x", "target"}, []string{"y"}),
	}
}

func loadModel(t *testing.T, mp *onnxpb.ModelProto) *Model {
	t.Helper()
	data, err := proto.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// bodyOps counts the ops of predict's body.
func bodyOps(m *Model) map[string]int {
	ops := map[string]int{}
	for _, v := range m.Module.Func(PredictFunc).Body {
		ops[v.Op]++
	}
	return ops
}

// iotaTensor is x with x[i] = i/10 (flat index i).
func iotaTensor(dims ...int) *interp.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	d := make([]float64, n)
	for i := range d {
		d[i] = float64(float32(float64(i) / 10))
	}
	return interp.New(ir.F32, dims, d)
}

// The flatten subgraph on a static x folds to one reshape with a constant
// shape, and on a symbolic x to a reshape to [N,12]; both give x's values.
func TestShapeSubgraphFolds(t *testing.T) {
	for _, tc := range []struct {
		name  string
		xdims []any
		want  string
	}{
		{"static", []any{2, 3, 4}, "[2,12]"},
		{"symbolic", []any{"batch", 3, 4}, "[N,12]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := loadModel(t, shapeGraph(tc.xdims, []string{"y"}, flattenNodes()...))
			ops := bodyOps(m)
			for _, op := range []string{"shape", "gather", "concat", "onnx.shape_value"} {
				if ops[op] != 0 {
					t.Errorf("%d %s nodes left: %s", ops[op], op, m.Module)
				}
			}
			if ops[ir.OpReshape] != 1 {
				t.Fatalf("want one reshape, have %d: %s", ops[ir.OpReshape], m.Module)
			}
			for _, v := range m.Module.Func(PredictFunc).Body {
				if v.Op == ir.OpReshape {
					if s, _ := v.Attrs.ShapeAttr("shape"); s.String() != tc.want {
						t.Errorf("reshape to %s, want %s", s, tc.want)
					}
				}
			}
			if got := m.Outputs[0].Type.String(); got != "f32"+tc.want {
				t.Errorf("output %s, want f32%s", got, tc.want)
			}
			x := iotaTensor(2, 3, 4)
			out, err := RunInterp(m, []*interp.Tensor{x})
			if err != nil {
				t.Fatal(err)
			}
			if len(out[0].Shape) != 2 || out[0].Shape[0] != 2 || out[0].Shape[1] != 12 {
				t.Fatalf("output shape %v", out[0].Shape)
			}
			for i, v := range x.Data {
				if out[0].Data[i] != v {
					t.Fatalf("y[%d] = %v, want %v", i, out[0].Data[i], v)
				}
			}
		})
	}
}

// Attention's head split and merge, built from the shape of a symbolic x
// [N, 6, 16] as x.reshape(x.shape[0], seq, heads, d) exports: Shape,
// Gather, Div, Unsqueeze, Concat, Reshape, Transpose, Size, Slice, Mul.
func TestShapeSubgraphTransformer(t *testing.T) {
	nodes := []*onnxpb.NodeProto{
		nodeP("Shape", "shape", []string{"x"}, []string{"s"}),
		nodeP("Gather", "g0", []string{"s", "i0"}, []string{"b"}, intAttr("axis", 0)),
		nodeP("Gather", "g1", []string{"s", "i1"}, []string{"seq"}, intAttr("axis", 0)),
		nodeP("Gather", "g2", []string{"s", "i2"}, []string{"dm"}, intAttr("axis", 0)),
		nodeP("Div", "div", []string{"dm", "k4"}, []string{"dh"}),
		nodeP("Unsqueeze", "u0", []string{"b", "axes0"}, []string{"bu"}),
		nodeP("Unsqueeze", "u1", []string{"seq", "axes0"}, []string{"sequ"}),
		nodeP("Unsqueeze", "u2", []string{"dh", "axes0"}, []string{"dhu"}),
		nodeP("Concat", "cat", []string{"bu", "sequ", "c4", "dhu"}, []string{"t1"}, intAttr("axis", 0)),
		nodeP("Reshape", "split_heads", []string{"x", "t1"}, []string{"h"}),
		nodeP("Transpose", "tr", []string{"h"}, []string{"ht"}, intsAttr("perm", 0, 2, 1, 3)),
		// Merge: [Size(x)/96, shape(ht)[1:2], shape(ht)[2]*shape(ht)[3]].
		nodeP("Size", "size", []string{"x"}, []string{"sz"}),
		nodeP("Div", "div2", []string{"sz", "k96"}, []string{"nb"}),
		nodeP("Unsqueeze", "u3", []string{"nb", "axes0"}, []string{"nbu"}),
		nodeP("Shape", "shape2", []string{"ht"}, []string{"s2"}),
		nodeP("Slice", "slice", []string{"s2", "one1", "two1"}, []string{"heads"}),
		nodeP("Gather", "g4", []string{"s2", "i2"}, []string{"a"}, intAttr("axis", 0)),
		nodeP("Gather", "g5", []string{"s2", "i3"}, []string{"bb"}, intAttr("axis", 0)),
		nodeP("Mul", "mul", []string{"a", "bb"}, []string{"ab"}),
		nodeP("Unsqueeze", "u4", []string{"ab", "axes0"}, []string{"abu"}),
		nodeP("Concat", "cat2", []string{"nbu", "heads", "abu"}, []string{"t2"}, intAttr("axis", 0)),
		nodeP("Reshape", "merge", []string{"ht", "t2"}, []string{"y"}),
	}
	m := loadModel(t, shapeGraph([]any{"batch", 6, 16}, []string{"y", "h"}, nodes...))
	if got := m.Outputs[0].Type.String(); got != "f32[N,4,24]" {
		t.Errorf("y is %s, want f32[N,4,24]", got)
	}
	if got := m.Outputs[1].Type.String(); got != "f32[N,6,4,4]" {
		t.Errorf("h is %s, want f32[N,6,4,4]", got)
	}
	ops := bodyOps(m)
	if ops[ir.OpReshape] != 2 || ops[ir.OpTranspose] != 1 || len(m.Module.Func(PredictFunc).Body)-ops[ir.OpConstant] != 3 {
		t.Errorf("want reshape, transpose, reshape: %s", m.Module)
	}
	for _, n := range []int{1, 3} {
		x := iotaTensor(n, 6, 16)
		out, err := RunInterp(m, []*interp.Tensor{x})
		if err != nil {
			t.Fatal(err)
		}
		y := out[0]
		if len(y.Shape) != 3 || y.Shape[0] != n || y.Shape[1] != 4 || y.Shape[2] != 24 {
			t.Fatalf("N=%d: y shape %v", n, y.Shape)
		}
		// y[b, h, s*4+k] = x[b, s, h*4+k].
		for b := 0; b < n; b++ {
			for h := 0; h < 4; h++ {
				for s := 0; s < 6; s++ {
					for k := 0; k < 4; k++ {
						if got, want := y.At(b, h, s*4+k), x.At(b, s, h*4+k); got != want {
							t.Fatalf("N=%d: y[%d,%d,%d] = %v, want %v", n, b, h, s*4+k, got, want)
						}
					}
				}
			}
		}
	}
}

// Expand, ConstantOfShape, Tile and Range take shapes with N in them.
func TestShapeValueConsumers(t *testing.T) {
	nodes := []*onnxpb.NodeProto{
		nodeP("Shape", "shape", []string{"x"}, []string{"s"}),
		nodeP("Gather", "g0", []string{"s", "i0"}, []string{"b"}, intAttr("axis", 0)),
		// ones of x's shape, cast to float through Cast of the shape.
		nodeP("Cast", "cast", []string{"s"}, []string{"s32"}, intAttr("to", 6)),
		nodeP("Cast", "cast2", []string{"s32"}, []string{"s64"}, intAttr("to", tInt64)),
		nodeP("ConstantOfShape", "cos", []string{"s64"}, []string{"ones"}, &onnxpb.AttributeProto{Name: proto.String("value"),
			Type: onnxpb.AttributeProto_TENSOR.Enum(), T: floatTensor("v", []int64{1}, []float32{1.5})}),
		// Range(0, N, 1) as f32 [N], expanded to [N, 3] after an unsqueeze.
		nodeP("Range", "range", []string{"i0", "b", "i1"}, []string{"r"}),
		nodeP("Cast", "rcast", []string{"r"}, []string{"rf"}, intAttr("to", tFloat)),
		nodeP("Unsqueeze", "ru", []string{"rf", "one1"}, []string{"rcol"}),
		nodeP("Slice", "sl", []string{"s", "i0", "two1"}, []string{"nx3"}),
		nodeP("Expand", "expand", []string{"rcol", "nx3"}, []string{"e"}),
		// The constant row tiled N times along axis 0.
		nodeP("Unsqueeze", "bu", []string{"b", "axes0"}, []string{"reps0"}),
		nodeP("Concat", "reps", []string{"reps0", "one1"}, []string{"reps1"}, intAttr("axis", 0)),
		nodeP("Tile", "tile", []string{"row", "reps1"}, []string{"tiled"}),
		nodeP("Mul", "mul", []string{"ones", "e"}, []string{"oe"}),
		nodeP("Add", "add", []string{"oe", "tiled"}, []string{"y"}),
	}
	mp := shapeGraph([]any{"batch", 3}, []string{"y"}, nodes...)
	mp.Graph.Initializer = append(mp.Graph.Initializer, floatTensor("row", []int64{1, 3}, []float32{0.5, 1.5, 2.5}))
	m := loadModel(t, mp)
	if got := m.Outputs[0].Type.String(); got != "f32[N,3]" {
		t.Fatalf("y is %s, want f32[N,3]: %s", got, m.Module)
	}
	x := iotaTensor(4, 3)
	out, err := RunInterp(m, []*interp.Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		for j := 0; j < 3; j++ {
			if got, want := out[0].At(i, j), 1.5*float64(i)+float64(float32(j)+0.5); got != want {
				t.Errorf("y[%d,%d] = %v, want %v", i, j, got, want)
			}
		}
	}
}

// What would need a value known only at run time is an error naming the
// node and the reason, never a panic or a wrong IR.
func TestShapeValueErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		nodes []*onnxpb.NodeProto
		out   string
		want  []string
	}{
		{"used as data", []*onnxpb.NodeProto{
			nodeP("Shape", "shape", []string{"x"}, []string{"s"}),
			nodeP("Cast", "cast", []string{"s"}, []string{"sf"}, intAttr("to", tFloat)),
			nodeP("Relu", "relu", []string{"sf"}, []string{"y"}),
		}, "y", []string{`node "relu" (Relu)`, "input 0", "shape value f32[N,3,4]", "no run-time shape values"}},
		{"graph output", []*onnxpb.NodeProto{
			nodeP("Shape", "shape", []string{"x"}, []string{"y"}),
		}, "y", []string{`graph output "y"`, "i64[N,3,4]"}},
		{"2N as a dim", []*onnxpb.NodeProto{
			nodeP("Shape", "shape", []string{"x"}, []string{"s"}),
			nodeP("Mul", "double", []string{"s", "two1"}, []string{"s2"}),
			nodeP("Slice", "sl", []string{"s2", "i0", "one1"}, []string{"n2"}),
			nodeP("Concat", "cat", []string{"n2", "m1"}, []string{"t"}, intAttr("axis", 0)),
			nodeP("Reshape", "reshape", []string{"x", "t"}, []string{"y"}),
		}, "y", []string{`node "reshape" (Reshape)`, "2*N", "single symbol"}},
		{"N+1", []*onnxpb.NodeProto{
			nodeP("Shape", "shape", []string{"x"}, []string{"s"}),
			nodeP("Add", "inc", []string{"s", "one1"}, []string{"y"}),
		}, "y", []string{`node "inc" (Add)`, "N + 1", "not a monomial"}},
		{"N == 3", []*onnxpb.NodeProto{
			nodeP("Shape", "shape", []string{"x"}, []string{"s"}),
			nodeP("Equal", "eq", []string{"s", "i3"}, []string{"y"}),
		}, "y", []string{`node "eq" (Equal)`, "N == 3", "not known at import time"}},
		{"as an attribute input", []*onnxpb.NodeProto{
			nodeP("Shape", "shape", []string{"x"}, []string{"s"}),
			nodeP("Gather", "g0", []string{"s", "i0"}, []string{"b"}, intAttr("axis", 0)),
			nodeP("Unsqueeze", "u", []string{"b", "axes0"}, []string{"e"}),
			nodeP("Slice", "sl", []string{"x", "i0", "e"}, []string{"y"}),
		}, "y", []string{`node "sl" (Slice)`, "shape value i64[N]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := proto.Marshal(shapeGraph([]any{"batch", 3, 4}, []string{tc.out}, tc.nodes...))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Load(data)
			if err == nil {
				t.Fatal("imports")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// Monomial arithmetic: what stays a monomial, exactly.
func TestMonoArith(t *testing.T) {
	n := mono{K: 1, Syms: []string{"N"}}
	n12, err := monoMul(n, mono{K: 12})
	if err != nil || n12.String() != "12*N" {
		t.Fatalf("N*12 = %v, %v", n12, err)
	}
	if q, err := monoDiv(n12, mono{K: 4}, true); err != nil || q.String() != "3*N" {
		t.Errorf("12N/4 = %v, %v", q, err)
	}
	if q, err := monoDiv(n12, n, true); err != nil || q.String() != "12" {
		t.Errorf("12N/N = %v, %v", q, err)
	}
	if _, err := monoDiv(n12, mono{K: 5}, true); err == nil {
		t.Error("12N/5 divides")
	}
	if q, err := monoDiv(mono{K: 7}, mono{K: -2}, true); err != nil || q.K != -3 {
		t.Errorf("7/-2 = %v, %v (ONNX truncates)", q, err)
	}
	if s, err := monoAdd(n12, mono{K: -12, Syms: []string{"N"}}); err != nil || s.String() != "0" {
		t.Errorf("12N-12N = %v, %v", s, err)
	}
	for _, tc := range []struct {
		a, b mono
		eq   bool
	}{
		{n, mono{K: -1}, false}, {n, mono{K: 0}, false}, {n, n, true}, {n12, n, false},
		{mono{K: -1, Syms: []string{"N"}}, mono{K: 3}, false}, {mono{K: 3}, mono{K: 3}, true},
	} {
		if eq, err := monoEqual(tc.a, tc.b); err != nil || eq != tc.eq {
			t.Errorf("%s == %s: %v, %v; want %v", tc.a, tc.b, eq, err, tc.eq)
		}
	}
	if _, err := monoEqual(n, mono{K: 3}); err == nil {
		t.Error("N == 3 is decided")
	}
	if _, err := mulK(1<<40, 1<<40); err == nil {
		t.Error("2^80 does not overflow")
	}
}

// The PyTorch models that compute shapes from x.size(0) and x.shape
// (testdata/torch/shapes, and upsample: interpolate to a size) import with
// their batch symbolic, not specialised as onnx-test does, and match
// PyTorch's output.
func TestTorchShapesSymbolic(t *testing.T) {
	for _, tc := range []struct{ name, in, out string }{
		{"shapes", "f32[N,6,16]", "f32[N,7,8]"},
		{"upsample", "f32[N,2,4,4]", "f32[N,3,4,4]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := "testdata/torch/" + tc.name
			m, err := LoadFile(dir + "/model.onnx")
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Inputs[0].Type.String(); got != tc.in {
				t.Fatalf("input %s, want %s", got, tc.in)
			}
			if got := m.Outputs[0].Type.String(); got != tc.out {
				t.Fatalf("output %s, want %s", got, tc.out)
			}
			// No shape arithmetic is left: every i64 or bool value is a
			// constant.
			for _, v := range m.Module.Func(PredictFunc).Body {
				if dt := v.Type.DType; (dt == ir.I64 || dt == ir.Bool) && v.Op != ir.OpConstant {
					t.Errorf("a %s node of type %s is left", v.Op, v.Type)
				}
			}
			sets, err := readTestSets(dir)
			if err != nil {
				t.Fatal(err)
			}
			out, err := RunInterp(m, sets[0].Inputs)
			if err != nil {
				t.Fatal(err)
			}
			if mm := Compare(out[0], sets[0].Outputs[0], 1e-3, 1e-5); mm.Detail != "" {
				t.Fatal(mm.Detail)
			}
		})
	}
}

// Slices of a shape value: a step too large to add without overflow, and
// the shape reversed (x.reshape(x.shape[::-1])).
func TestShapeValueSlice(t *testing.T) {
	const maxI, minI = math.MaxInt64, math.MinInt64
	mp := shapeGraph([]any{"batch", 3, 4}, []string{"y", "z"},
		nodeP("Shape", "shape", []string{"x"}, []string{"s"}),
		nodeP("Slice", "rev", []string{"s", "m1", "lo", "axes0", "m1"}, []string{"r"}),
		nodeP("Reshape", "reshape", []string{"x", "r"}, []string{"y"}),
		nodeP("Slice", "huge", []string{"s", "one1", "hi", "axes0", "hi"}, []string{"three"}),
		nodeP("Concat", "cat", []string{"m1", "three", "c4"}, []string{"t"}, intAttr("axis", 0)),
		nodeP("Reshape", "reshape2", []string{"x", "t"}, []string{"z"}),
	)
	mp.Graph.Initializer = append(mp.Graph.Initializer, i64Tensor("hi", []int64{1}, maxI), i64Tensor("lo", []int64{1}, minI))
	m := loadModel(t, mp)
	if got := m.Outputs[0].Type.String(); got != "f32[4,3,N]" {
		t.Errorf("y is %s, want f32[4,3,N]", got)
	}
	if got := m.Outputs[1].Type.String(); got != "f32[N,3,4]" {
		t.Errorf("z is %s, want f32[N,3,4]", got)
	}
}
