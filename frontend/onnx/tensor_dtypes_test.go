package onnx

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/dlc-project/dlc/frontend/onnx/onnxpb"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
)

// TestNarrowTensorTypes decodes float16, bfloat16, int16, uint16, uint32
// and uint64 tensors from raw_data (little-endian) and from the typed
// fields onnx.proto names for them: int32_data holds int16, uint16 and
// the bit patterns of float16 and bfloat16; uint64_data holds uint32 and
// uint64.
func TestNarrowTensorTypes(t *testing.T) {
	inf := math.Inf(1)
	for _, c := range []struct {
		name string
		tp   *onnxpb.TensorProto
		dt   ir.DType
		want []float64
	}{
		{"f16 raw", &onnxpb.TensorProto{DataType: proto.Int32(tFloat16), Dims: []int64{4},
			RawData: []byte{0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0x00, 0x7c}}, ir.F16,
			[]float64{1, -2, math.Ldexp(1, -24), inf}},
		{"f16 int32_data", &onnxpb.TensorProto{DataType: proto.Int32(tFloat16), Dims: []int64{2}, Int32Data: []int32{0x3555, 0x7bff}}, ir.F16,
			[]float64{0.333251953125, 65504}},
		{"bf16 raw", &onnxpb.TensorProto{DataType: proto.Int32(tBfloat16), Dims: []int64{2}, RawData: []byte{0x49, 0x40, 0x80, 0xff}}, ir.BF16,
			[]float64{3.140625, -inf}},
		{"bf16 int32_data", &onnxpb.TensorProto{DataType: proto.Int32(tBfloat16), Dims: []int64{1}, Int32Data: []int32{0x3f80}}, ir.BF16,
			[]float64{1}},
		{"i16 raw", &onnxpb.TensorProto{DataType: proto.Int32(tInt16), Dims: []int64{2}, RawData: []byte{0xff, 0xff, 0x00, 0x80}}, ir.I16,
			[]float64{-1, -32768}},
		{"i16 int32_data", &onnxpb.TensorProto{DataType: proto.Int32(tInt16), Dims: []int64{2}, Int32Data: []int32{-5, 300}}, ir.I16,
			[]float64{-5, 300}},
		{"u16 raw", &onnxpb.TensorProto{DataType: proto.Int32(tUint16), Dims: []int64{1}, RawData: []byte{0xff, 0xff}}, ir.U16,
			[]float64{65535}},
		{"u16 int32_data", &onnxpb.TensorProto{DataType: proto.Int32(tUint16), Dims: []int64{1}, Int32Data: []int32{65535}}, ir.U16,
			[]float64{65535}},
		{"u32 raw", &onnxpb.TensorProto{DataType: proto.Int32(tUint32), Dims: []int64{1}, RawData: []byte{0xff, 0xff, 0xff, 0xff}}, ir.U32,
			[]float64{math.MaxUint32}},
		{"u32 uint64_data", &onnxpb.TensorProto{DataType: proto.Int32(tUint32), Dims: []int64{2}, Uint64Data: []uint64{7, math.MaxUint32}}, ir.U32,
			[]float64{7, math.MaxUint32}},
		{"u64 raw", &onnxpb.TensorProto{DataType: proto.Int32(tUint64), Dims: []int64{1}, RawData: []byte{0, 0, 0, 0, 0, 0, 0, 0x80}}, ir.U64,
			[]float64{math.Ldexp(1, 63)}},
		{"u64 uint64_data", &onnxpb.TensorProto{DataType: proto.Int32(tUint64), Dims: []int64{2}, Uint64Data: []uint64{3, 1 << 40}}, ir.U64,
			[]float64{3, 1 << 40}},
	} {
		got, err := TensorFromProto(c.tp)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got.DType != c.dt || len(got.Data) != len(c.want) {
			t.Errorf("%s: got %s, want %s%v", c.name, got, c.dt, c.want)
			continue
		}
		for i, w := range c.want {
			if got.Data[i] != w {
				t.Errorf("%s: element %d is %v, want %v", c.name, i, got.Data[i], w)
			}
		}
		// raw_data written back reads back the same.
		back, err := TensorFromProto(TensorToProto("t", got))
		if err != nil || back.DType != got.DType || back.String() != got.String() {
			t.Errorf("%s: round trip gives %v (%v), want %v", c.name, back, err, got)
		}
	}
}

// TestNarrowTensorSizes: the same size checks as for the other types,
// before any allocation: raw_data counts 2 bytes per float16, bfloat16,
// int16 and uint16 and 8 per uint64, and the typed field must hold one
// value per element.
func TestNarrowTensorSizes(t *testing.T) {
	for _, c := range []struct {
		name string
		tp   *onnxpb.TensorProto
		want string
	}{
		{"f16 odd raw", &onnxpb.TensorProto{DataType: proto.Int32(tFloat16), Dims: []int64{2}, RawData: []byte{0, 0, 0}}, "need 4 bytes of float16 data, raw_data has 3"},
		{"bf16 short raw", &onnxpb.TensorProto{DataType: proto.Int32(tBfloat16), Dims: []int64{3}, RawData: []byte{0, 0}}, "need 6 bytes of bfloat16 data"},
		{"u64 short raw", &onnxpb.TensorProto{DataType: proto.Int32(tUint64), Dims: []int64{1}, RawData: []byte{0, 0, 0, 0}}, "need 8 bytes of uint64 data"},
		{"u32 typed", &onnxpb.TensorProto{DataType: proto.Int32(tUint32), Dims: []int64{3}, Uint64Data: []uint64{1}}, "need 3 values, the file holds 1"},
		{"u32 in int32_data", &onnxpb.TensorProto{DataType: proto.Int32(tUint32), Dims: []int64{1}, Int32Data: []int32{1}}, "need 1 values, the file holds 0"},
		{"i16 huge", &onnxpb.TensorProto{DataType: proto.Int32(tInt16), Dims: []int64{1 << 30, 1 << 30}, RawData: []byte{0, 0}}, "more than"},
	} {
		_, err := TensorFromProto(c.tp)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestDTypeOfNarrow maps the ONNX element types both ways.
func TestDTypeOfNarrow(t *testing.T) {
	for et, dt := range map[int32]ir.DType{tFloat16: ir.F16, tBfloat16: ir.BF16, tInt16: ir.I16, tUint16: ir.U16, tUint32: ir.U32, tUint64: ir.U64} {
		got, err := DTypeOf(et)
		if err != nil || got != dt {
			t.Errorf("DTypeOf(%d) = %v, %v; want %v", et, got, err, dt)
		}
		if back := onnxType(dt); back != et {
			t.Errorf("onnxType(%v) = %d, want %d", dt, back, et)
		}
	}
	if _, err := DTypeOf(tString); err == nil || !strings.Contains(err.Error(), "element type string is not supported") {
		t.Errorf("DTypeOf(string): %v", err)
	}
}

// TestBF16TestDataAsBits: ONNX's node tests store bfloat16 test data as
// uint16 bit patterns; a uint16 file for a bfloat16 graph input or output
// is read as the bfloat16 values of those bits, and other inputs are left
// alone.
func TestBF16TestDataAsBits(t *testing.T) {
	vi := func(name string, et int32) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
			TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(et)}}}}
	}
	mp := &onnxpb.ModelProto{Graph: &onnxpb.GraphProto{
		Input:  []*onnxpb.ValueInfoProto{vi("a", tBfloat16), vi("b", tUint16)},
		Output: []*onnxpb.ValueInfoProto{vi("y", tBfloat16)},
	}}
	u16 := func(xs ...float64) *interp.Tensor { return interp.New(ir.U16, []int{len(xs)}, xs) }
	sets := []TestSet{{Inputs: []*interp.Tensor{u16(0x3f80, 0xc049), u16(0x3f80)}, Outputs: []*interp.Tensor{u16(0x7f80)}}}
	bf16FromBits(mp, sets)
	s := sets[0]
	if got := s.Inputs[0].String(); got != "bf16[2] [1 -3.140625]" {
		t.Errorf("input 0: %s", got)
	}
	if got := s.Inputs[1].String(); got != "u16[1] [16256]" {
		t.Errorf("input 1 (declared uint16): %s", got)
	}
	if got := s.Outputs[0].String(); got != "bf16[1] [+Inf]" {
		t.Errorf("output 0: %s", got)
	}
}

// TestShapeFreeInputs: the declared shape of an input that only
// CastLike's like operand reads (or no node reads) yields to the test
// data's; an input an op reads keeps its declared shape.
func TestShapeFreeInputs(t *testing.T) {
	vi := func(name string, dims ...int64) *onnxpb.ValueInfoProto {
		var ds []*onnxpb.TensorShapeProto_Dimension
		for _, d := range dims {
			ds = append(ds, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
		}
		return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
			TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(tFloat), Shape: &onnxpb.TensorShapeProto{Dim: ds}}}}}
	}
	mp := &onnxpb.ModelProto{Graph: &onnxpb.GraphProto{
		Node:   []*onnxpb.NodeProto{{OpType: proto.String("CastLike"), Input: []string{"x", "like"}, Output: []string{"y"}}},
		Input:  []*onnxpb.ValueInfoProto{vi("x", 3, 4), vi("like", 3, 4), vi("unused", 2)},
		Output: []*onnxpb.ValueInfoProto{vi("y", 3, 4)},
	}}
	f := func(n int) *interp.Tensor { return interp.New(ir.F32, []int{n}, nil) }
	shapeFreeInputs(mp, []*interp.Tensor{f(1), f(1), f(5)})
	var got []string
	for _, in := range mp.GetGraph().GetInput() {
		var ds []int64
		for _, d := range in.GetType().GetTensorType().GetShape().GetDim() {
			ds = append(ds, d.GetDimValue())
		}
		got = append(got, fmt.Sprint(in.GetName(), ds))
	}
	if s := strings.Join(got, " "); s != "x[3 4] like[1] unused[5]" {
		t.Errorf("declared shapes after: %s", s)
	}
}

// TestTruncatedBF16: a cast whose expected bfloat16 output is the input
// truncated, where rounding differs, is told apart from one that rounds.
func TestTruncatedBF16(t *testing.T) {
	mp := &onnxpb.ModelProto{Graph: &onnxpb.GraphProto{Node: []*onnxpb.NodeProto{{OpType: proto.String("Cast")}}}}
	x := float64(math.Float32frombits(0x3ef5eeb0)) // rounds up to 0x3ef6, truncates to 0x3ef5
	in := interp.New(ir.F32, []int{2}, []float64{x, math.NaN()})
	set := func(y ...float64) []TestSet {
		return []TestSet{{Inputs: []*interp.Tensor{in}, Outputs: []*interp.Tensor{interp.New(ir.BF16, []int{2}, y)}}}
	}
	if !truncatedBF16(mp, set(ir.BF16FromBits(0x3ef5), math.NaN())) {
		t.Error("truncated data not recognised")
	}
	if truncatedBF16(mp, set(ir.BF16FromBits(0x3ef6), math.NaN())) {
		t.Error("rounded data taken for truncated")
	}
	mp.Graph.Node[0].OpType = proto.String("Relu")
	if truncatedBF16(mp, set(ir.BF16FromBits(0x3ef5), math.NaN())) {
		t.Error("a model that does more than cast")
	}
}

// TestNarrowFloatOps imports Pow, Max, Mod and Cast on f16 and bf16 and
// runs them: Pow with an f32 exponent is computed once, in f64, then
// rounded to f16 (the exponent is not rounded to f16 first).
func TestNarrowFloatOps(t *testing.T) {
	mp := model(&onnxpb.GraphProto{
		Name:  proto.String("g"),
		Input: []*onnxpb.ValueInfoProto{valueInfo("x", tFloat16, 2), valueInfo("e", tFloat, 2), valueInfo("b", tBfloat16, 2)},
		Output: []*onnxpb.ValueInfoProto{valueInfo("p", tFloat16, 2), valueInfo("m", tFloat16, 2), valueInfo("c", tBfloat16, 2),
			valueInfo("r", tUint16, 2)},
		Node: []*onnxpb.NodeProto{
			nodeP("Pow", "pow", []string{"x", "e"}, []string{"p"}),
			nodeP("Mod", "mod", []string{"x", "x"}, []string{"m"}, &onnxpb.AttributeProto{Name: proto.String("fmod"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(1)}),
			nodeP("CastLike", "cl", []string{"x", "b"}, []string{"c"}),
			nodeP("Cast", "cast", []string{"x"}, []string{"r"}, &onnxpb.AttributeProto{Name: proto.String("to"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(tUint16)}),
		},
	})
	m, err := Import(mp)
	if err != nil {
		t.Fatal(err)
	}
	// 2048^1.0001 = 2049.56...; f16's values near 2048 are 2 apart, so
	// 2050. An exponent rounded to f16 first (1.0001 to 1) would give 2048.
	in := []*interp.Tensor{
		interp.New(ir.F16, []int{2}, []float64{2, 2048}),
		interp.New(ir.F32, []int{2}, []float64{float64(float32(1.0001)), float64(float32(1.0001))}),
		interp.New(ir.BF16, []int{2}, []float64{0, 0}),
	}
	res, err := RunInterp(m, in)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"f16[2] [2 2050]", "f16[2] [0 0]", "bf16[2] [2 2048]", "u16[2] [2 2048]"} {
		if got := res[i].String(); got != want {
			t.Errorf("output %d: %s, want %s", i, got, want)
		}
	}
}

// FuzzReadTensor: any bytes give a tensor or an error, never a panic, and
// a tensor read writes back as one that reads the same.
func FuzzReadTensor(f *testing.F) {
	for _, tp := range []*onnxpb.TensorProto{
		{DataType: proto.Int32(tFloat16), Dims: []int64{2}, RawData: []byte{0x00, 0x3c, 0x01, 0x7c}},
		{DataType: proto.Int32(tBfloat16), Dims: []int64{1}, Int32Data: []int32{0x3f80}},
		{DataType: proto.Int32(tUint64), Dims: []int64{2}, Uint64Data: []uint64{1, 1 << 63}},
		{DataType: proto.Int32(tInt16), Dims: []int64{1, 1}, RawData: []byte{0xff, 0x7f}},
	} {
		data, _ := proto.Marshal(tp)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		x, _, err := ReadTensor(data)
		if err != nil {
			return
		}
		back, err := MarshalTensor("t", x)
		if err != nil {
			t.Fatal(err)
		}
		y, _, err := ReadTensor(back)
		if err != nil {
			t.Fatalf("%s: written back, it reads as: %v", x, err)
		}
		if x.String() != y.String() {
			t.Fatalf("round trip: %s, then %s", x, y)
		}
	})
}
