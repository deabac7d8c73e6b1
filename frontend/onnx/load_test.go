package onnx

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/dlc-project/dlc/codegen/golang"
	"github.com/dlc-project/dlc/frontend/onnx/onnxpb"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
	"github.com/dlc-project/dlc/passes"
)

func valueInfo(name string, elem int32, dims ...any) *onnxpb.ValueInfoProto {
	var ds []*onnxpb.TensorShapeProto_Dimension
	for _, d := range dims {
		switch d := d.(type) {
		case int:
			ds = append(ds, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
		case string:
			ds = append(ds, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: d}})
		}
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(elem), Shape: &onnxpb.TensorShapeProto{Dim: ds}}}}}
}

func nodeP(op, name string, ins, outs []string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{OpType: proto.String(op), Name: proto.String(name), Input: ins, Output: outs, Attribute: attrs}
}

func floatTensor(name string, dims []int64, vals []float32) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(tFloat), FloatData: vals}
}

func model(g *onnxpb.GraphProto) *onnxpb.ModelProto {
	return &onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(13)}}}
}

// mlp is a small valid model: y = relu(x @ W + b) with a symbolic batch.
func mlp(names [4]string) *onnxpb.ModelProto {
	x, w, b, y := names[0], names[1], names[2], names[3]
	wv := make([]float32, 4*3)
	for i := range wv {
		wv[i] = float32(i)/10 - 0.5
	}
	return model(&onnxpb.GraphProto{
		Name:        proto.String(names[0] + "graph"),
		Input:       []*onnxpb.ValueInfoProto{valueInfo(x, tFloat, "batch", 4)},
		Output:      []*onnxpb.ValueInfoProto{valueInfo(y, tFloat, "batch", 3)},
		Initializer: []*onnxpb.TensorProto{floatTensor(w, []int64{4, 3}, wv), floatTensor(b, []int64{3}, []float32{0.1, -0.2, 0.3})},
		Node: []*onnxpb.NodeProto{
			nodeP("MatMul", x+"mm", []string{x, w}, []string{x + "h"}),
			nodeP("Add", x+"add", []string{x + "h", b}, []string{x + "a"}),
			nodeP("Relu", x+"relu", []string{x + "a"}, []string{y}),
		},
	})
}

func TestLoadMLP(t *testing.T) {
	data, err := proto.Marshal(mlp([4]string{"x", "W", "b", "y"}))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Inputs) != 1 || m.Inputs[0].Type.String() != "f32[N,4]" {
		t.Fatalf("inputs %v", m.Inputs)
	}
	if m.Module.Weight("W") == nil {
		t.Fatalf("initializer W is not a weight")
	}
	x := interp.New(ir.F32, []int{2, 4}, []float64{1, 2, 3, 4, -1, -2, -3, -4})
	out, err := RunInterp(m, []*interp.Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	// Row 0: [1 2 3 4] @ W + b, by hand.
	w := func(i, j int) float64 { return float64(float32(float64(i*3+j)/10 - 0.5)) }
	for j, b := range []float64{0.1, -0.2, 0.3} {
		want := b
		for i := 0; i < 4; i++ {
			want += float64(i+1) * w(i, j)
		}
		want = max(want, 0)
		if got := out[0].At(0, j); got-want > 1e-5 || want-got > 1e-5 {
			t.Errorf("y[0,%d] = %v, want %v", j, got, want)
		}
	}
}

// Every prefix of a valid file is an error, never a panic.
func TestTruncatedAndCorrupted(t *testing.T) {
	data, err := proto.Marshal(mlp([4]string{"x", "W", "b", "y"}))
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(data); n++ {
		if _, err := Load(data[:n]); err == nil && n < len(data)-1 {
			// Some prefixes are valid protobuf (a message cut between
			// fields); they must still not import as the full model.
			continue
		}
	}
	for i := 0; i < len(data); i += 3 {
		bad := append([]byte(nil), data...)
		bad[i] ^= 0xa5
		_, _ = Load(bad)
	}
	if _, err := Load([]byte("this is not a protobuf at all")); err == nil {
		t.Fatal("garbage loads")
	}
}

func TestSizesCheckedBeforeAllocation(t *testing.T) {
	huge := &onnxpb.TensorProto{Name: proto.String("w"), Dims: []int64{1 << 20, 1 << 20}, DataType: proto.Int32(tFloat), RawData: []byte{1, 2, 3, 4}}
	if _, err := TensorFromProto(huge); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("huge dims: %v", err)
	}
	short := &onnxpb.TensorProto{Name: proto.String("w"), Dims: []int64{1000}, DataType: proto.Int32(tFloat), RawData: []byte{1, 2, 3, 4}}
	if _, err := TensorFromProto(short); err == nil || !strings.Contains(err.Error(), "raw_data has 4") {
		t.Fatalf("short raw data: %v", err)
	}
	typed := &onnxpb.TensorProto{Name: proto.String("w"), Dims: []int64{3}, DataType: proto.Int32(tInt64), Int64Data: []int64{1}}
	if _, err := TensorFromProto(typed); err == nil {
		t.Fatal("3 dims with 1 value accepted")
	}
	neg := &onnxpb.TensorProto{Name: proto.String("w"), Dims: []int64{-1}, DataType: proto.Int32(tFloat)}
	if _, err := TensorFromProto(neg); err == nil {
		t.Fatal("negative dim accepted")
	}
	// A graph input may not declare a huge static shape either.
	g := mlp([4]string{"x", "W", "b", "y"})
	g.Graph.Input[0] = valueInfo("x", tFloat, 1<<30, 1<<30)
	data, _ := proto.Marshal(g)
	if _, err := Load(data); err == nil {
		t.Fatal("huge input shape accepted")
	}
}

func TestUnsupportedListsAllNodes(t *testing.T) {
	g := mlp([4]string{"x", "W", "b", "y"})
	g.Graph.Node = append(g.Graph.Node,
		nodeP("NoSuchOp", "first bad", []string{"y"}, []string{"z1"}),
		nodeP("Relu", "fine", []string{"y"}, []string{"z2"}),
		nodeP("AlsoMissing", "second bad", []string{"y"}, []string{"z3"}))
	data, _ := proto.Marshal(g)
	_, err := Load(data)
	var ue *UnsupportedError
	if !errors.As(err, &ue) {
		t.Fatalf("error %v is not an UnsupportedError", err)
	}
	if len(ue.Nodes) != 2 || !strings.Contains(err.Error(), `"first bad"`) || !strings.Contains(err.Error(), `"second bad"`) {
		t.Fatalf("error does not list both nodes: %v", err)
	}
}

// Names are untrusted: whatever they hold, the generated Go code parses
// and holds them only in literals.
func TestHostileNames(t *testing.T) {
	hostile := []string{
		"x\"; pwned(1); //",
		"W`+pwnedExit(1)+`",
		"b}\nfunc init() { pwned(2) }\n",
		"y\x00\u202e/*",
	}
	m, err := Import(mlp([4]string{hostile[0], hostile[1], hostile[2], hostile[3]}))
	if err != nil {
		t.Fatal(err)
	}
	if err := passes.Run(m.Module, &passes.Config{}, passes.Options{}); err != nil {
		t.Fatal(err)
	}
	files, err := golang.Generate(m.Module, golang.Options{Package: "model"})
	if err != nil {
		t.Fatal(err)
	}
	src := files["model.go"]
	f, err := parser.ParseFile(token.NewFileSet(), "model.go", src, 0)
	if err != nil {
		t.Fatalf("generated code does not parse: %v", err)
	}
	// The only identifiers are the backend's own: no name made one.
	ast.Inspect(f, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && strings.Contains(id.Name, "pwned") {
			t.Errorf("identifier %q comes from a model name", id.Name)
		}
		return true
	})
	if strings.Contains(string(src), "func init()") {
		t.Fatal("a name injected a declaration")
	}
}

func FuzzLoad(f *testing.F) {
	data, _ := proto.Marshal(mlp([4]string{"x", "W", "b", "y"}))
	f.Add(data)
	g := mlp([4]string{"x", "W", "b", "y"})
	g.Graph.Node = append(g.Graph.Node, nodeP("Reshape", "r", []string{"y", "shape"}, []string{"z"}))
	g.Graph.Initializer = append(g.Graph.Initializer, &onnxpb.TensorProto{Name: proto.String("shape"), Dims: []int64{2},
		DataType: proto.Int32(tInt64), Int64Data: []int64{-1, 1}})
	data2, _ := proto.Marshal(g)
	f.Add(data2)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load(data)
		if err != nil {
			return
		}
		if err := ir.Verify(m.Module); err != nil {
			t.Fatalf("imported module does not verify: %v", err)
		}
	})
}
