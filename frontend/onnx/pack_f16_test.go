package onnx

import (
	"math"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/dlc-project/dlc/frontend/onnx/onnxpb"
)

// TestPackF16: float16 and bfloat16 inputs and outputs travel as f32 and
// are cast inside the packed model, which the Go backend compiles (f16 and
// bf16 computed in float64, rounded once to the dtype): 2048 + 1 and
// 1 + 2^-11 are ties in f16 and round to the even 2048 and 1, and 256 + 1
// is one in bf16 (rounding to 256).
func TestPackF16(t *testing.T) {
	got := packAndRun(t, &onnxpb.GraphProto{
		Name: proto.String("add16"),
		Input: []*onnxpb.ValueInfoProto{valueInfo("x", tFloat16, 2), valueInfo("y", tFloat16, 2),
			valueInfo("a", tBfloat16, 1), valueInfo("b", tBfloat16, 1)},
		Output: []*onnxpb.ValueInfoProto{valueInfo("z", tFloat16, 2), valueInfo("c", tBfloat16, 1)},
		Node: []*onnxpb.NodeProto{
			nodeP("Add", "add", []string{"x", "y"}, []string{"z"}),
			nodeP("Add", "addb", []string{"a", "b"}, []string{"c"}),
		},
	}, []float64{2048, 1, 1, math.Ldexp(1, -11), 256, 1})
	want := []float64{2048, 1, 256}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("add = %v, want %v", got, want)
		}
	}
}
