package onnx

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/dlc-project/dlc/codegen/golang"
	"github.com/dlc-project/dlc/frontend/onnx/onnxpb"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
)

// packAndRun packs graph g, checks that the Go backend compiles the packed
// module, and runs it on the interpreter with one sample x.
func packAndRun(t *testing.T, g *onnxpb.GraphProto, x []float64) []float64 {
	t.Helper()
	data, err := proto.Marshal(model(g))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := Pack(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := golang.Generate(pm, golang.Options{Package: "model"}); err != nil {
		t.Fatalf("the Go backend does not compile the packed module: %v", err)
	}
	mc, err := interp.NewMachine(pm, 1)
	if err != nil {
		t.Fatal(err)
	}
	res, err := mc.Run(PredictFunc, interp.New(ir.F32, []int{1, len(x)}, x))
	if err != nil {
		t.Fatal(err)
	}
	return res[0].Data
}

// TestPackF64: a double input and output travel as f32 and are cast inside
// the packed model, which the Go backend compiles (f64 computed in
// float64).
func TestPackF64(t *testing.T) {
	got := packAndRun(t, &onnxpb.GraphProto{
		Name:   proto.String("cumsum"),
		Input:  []*onnxpb.ValueInfoProto{valueInfo("x", tDouble, 4)},
		Output: []*onnxpb.ValueInfoProto{valueInfo("y", tDouble, 4)},
		Node: []*onnxpb.NodeProto{
			nodeP("Constant", "axis", nil, []string{"a"}, &onnxpb.AttributeProto{Name: proto.String("value"),
				Type: onnxpb.AttributeProto_TENSOR.Enum(), T: &onnxpb.TensorProto{DataType: proto.Int32(tInt64), Int64Data: []int64{0}}}),
			nodeP("CumSum", "cs", []string{"x", "a"}, []string{"y"}),
		},
	}, []float64{1, 2, 3, 4})
	want := []float64{1, 3, 6, 10}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("cumsum = %v, want %v", got, want)
		}
	}
}

// TestPackNoInputs: a model with no inputs (a Constant) packs to a predict
// whose x has no elements per sample.
func TestPackNoInputs(t *testing.T) {
	got := packAndRun(t, &onnxpb.GraphProto{
		Name:   proto.String("const"),
		Output: []*onnxpb.ValueInfoProto{valueInfo("y", tFloat, 2)},
		Node: []*onnxpb.NodeProto{
			nodeP("Constant", "c", nil, []string{"y"}, &onnxpb.AttributeProto{Name: proto.String("value"),
				Type: onnxpb.AttributeProto_TENSOR.Enum(), T: floatTensor("", []int64{2}, []float32{1.5, -2})}),
		},
	}, nil)
	if len(got) != 2 || got[0] != 1.5 || got[1] != -2 {
		t.Fatalf("constant = %v, want [1.5 -2]", got)
	}
}
