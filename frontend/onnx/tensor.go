package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"

	"google.golang.org/protobuf/proto"

	"github.com/dlc-project/dlc/frontend/onnx/onnxpb"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
)

// MaxElements bounds every tensor a model or a test file declares, as the
// interpreter bounds the tensors it makes: a file cannot ask for more
// memory than that, whatever its dims say.
const MaxElements = 1 << 28

// ONNX's TensorProto.DataType values (onnx.proto).
const (
	tFloat    = 1
	tUint8    = 2
	tInt8     = 3
	tUint16   = 4
	tInt16    = 5
	tInt32    = 6
	tInt64    = 7
	tString   = 8
	tBool     = 9
	tFloat16  = 10
	tDouble   = 11
	tUint32   = 12
	tUint64   = 13
	tBfloat16 = 16
)

var onnxTypeNames = map[int32]string{
	tFloat: "float", tUint8: "uint8", tInt8: "int8", tUint16: "uint16", tInt16: "int16", tInt32: "int32",
	tInt64: "int64", tString: "string", tBool: "bool", tFloat16: "float16", tDouble: "double",
	tUint32: "uint32", tUint64: "uint64", 14: "complex64", 15: "complex128", tBfloat16: "bfloat16",
}

func typeName(t int32) string {
	if n, ok := onnxTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("data type %d", t)
}

// DTypeOf maps an ONNX element type onto an IR dtype.
func DTypeOf(t int32) (ir.DType, error) {
	switch t {
	case tFloat:
		return ir.F32, nil
	case tDouble:
		return ir.F64, nil
	case tInt32:
		return ir.I32, nil
	case tInt64:
		return ir.I64, nil
	case tInt8:
		return ir.I8, nil
	case tUint8:
		return ir.U8, nil
	case tBool:
		return ir.Bool, nil
	case tFloat16:
		return ir.F16, nil
	case tBfloat16:
		return ir.BF16, nil
	case tInt16:
		return ir.I16, nil
	case tUint16:
		return ir.U16, nil
	case tUint32:
		return ir.U32, nil
	case tUint64:
		return ir.U64, nil
	}
	return ir.Invalid, unsupported("element type %s is not supported (supported: float, double, float16, bfloat16, int8, uint8, int16, uint16, int32, uint32, int64, uint64, bool)", typeName(t))
}

// onnxType is the inverse of DTypeOf.
func onnxType(dt ir.DType) int32 {
	switch dt {
	case ir.F32:
		return tFloat
	case ir.F64:
		return tDouble
	case ir.I32:
		return tInt32
	case ir.I64:
		return tInt64
	case ir.I8:
		return tInt8
	case ir.U8:
		return tUint8
	case ir.Bool:
		return tBool
	case ir.F16:
		return tFloat16
	case ir.BF16:
		return tBfloat16
	case ir.I16:
		return tInt16
	case ir.U16:
		return tUint16
	case ir.U32:
		return tUint32
	case ir.U64:
		return tUint64
	}
	return 0
}

// elemSize is the number of bytes of one element of dt in raw_data.
var elemSize = map[ir.DType]int{
	ir.F32: 4, ir.F64: 8, ir.F16: 2, ir.BF16: 2, ir.Bool: 1,
	ir.I8: 1, ir.U8: 1, ir.I16: 2, ir.U16: 2, ir.I32: 4, ir.U32: 4, ir.I64: 8, ir.U64: 8,
}

// numElements multiplies dims, refusing negative dims and products above
// MaxElements (checked before each multiplication, so nothing overflows).
func numElements(dims []int64) (int, error) {
	n := int64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("negative dim %d in %v", d, dims)
		}
		if d != 0 && n > MaxElements/d {
			return 0, fmt.Errorf("dims %v hold more than %d elements", dims, MaxElements)
		}
		n *= d
	}
	if n > MaxElements {
		return 0, fmt.Errorf("dims %v hold more than %d elements", dims, MaxElements)
	}
	return int(n), nil
}

// TensorFromProto decodes a TensorProto. The element count its dims declare
// is checked against the data present before anything is allocated, so a
// small file cannot demand a large allocation.
func TensorFromProto(tp *onnxpb.TensorProto) (*interp.Tensor, error) {
	if tp == nil {
		return nil, fmt.Errorf("missing tensor")
	}
	if tp.GetDataLocation() == onnxpb.TensorProto_EXTERNAL || len(tp.GetExternalData()) > 0 {
		return nil, fmt.Errorf("tensor %q: external data is not supported (keep the weights inside the .onnx file)", tp.GetName())
	}
	if tp.Segment != nil {
		return nil, fmt.Errorf("tensor %q: segmented tensors are not supported", tp.GetName())
	}
	dt, err := DTypeOf(tp.GetDataType())
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %v", tp.GetName(), err)
	}
	n, err := numElements(tp.GetDims())
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %v", tp.GetName(), err)
	}
	shape := make([]int, len(tp.GetDims()))
	for i, d := range tp.GetDims() {
		shape[i] = int(d)
	}
	raw := tp.GetRawData()
	size := elemSize[dt]
	have := 0
	switch {
	case raw != nil:
		have = len(raw) / size
		if len(raw)%size != 0 || have != n {
			return nil, fmt.Errorf("tensor %q: dims %v need %d bytes of %s data, raw_data has %d", tp.GetName(), tp.GetDims(), n*size, typeName(tp.GetDataType()), len(raw))
		}
	case dt == ir.F32:
		have = len(tp.GetFloatData())
	case dt == ir.F64:
		have = len(tp.GetDoubleData())
	case dt == ir.I64:
		have = len(tp.GetInt64Data())
	case dt == ir.U32 || dt == ir.U64: // onnx.proto: "For uint64 and uint32 values"
		have = len(tp.GetUint64Data())
	default: // int32_data holds the narrower types, float16 and bfloat16 as their bits
		have = len(tp.GetInt32Data())
	}
	if have != n {
		return nil, fmt.Errorf("tensor %q: dims %v need %d values, the file holds %d", tp.GetName(), tp.GetDims(), n, have)
	}
	data := make([]float64, n)
	if raw != nil {
		for i := range data {
			b := raw[i*size:]
			switch dt {
			case ir.F32:
				data[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
			case ir.F64:
				data[i] = math.Float64frombits(binary.LittleEndian.Uint64(b))
			case ir.I32:
				data[i] = float64(int32(binary.LittleEndian.Uint32(b)))
			case ir.I64:
				data[i] = float64(int64(binary.LittleEndian.Uint64(b)))
			case ir.I8:
				data[i] = float64(int8(b[0]))
			case ir.U8:
				data[i] = float64(b[0])
			case ir.I16:
				data[i] = float64(int16(binary.LittleEndian.Uint16(b)))
			case ir.U16:
				data[i] = float64(binary.LittleEndian.Uint16(b))
			case ir.U32:
				data[i] = float64(binary.LittleEndian.Uint32(b))
			case ir.U64:
				data[i] = float64(binary.LittleEndian.Uint64(b))
			case ir.F16:
				data[i] = ir.F16FromBits(binary.LittleEndian.Uint16(b))
			case ir.BF16:
				data[i] = ir.BF16FromBits(binary.LittleEndian.Uint16(b))
			case ir.Bool:
				if b[0] != 0 {
					data[i] = 1
				}
			}
		}
	} else {
		for i := range data {
			switch dt {
			case ir.F32:
				data[i] = float64(tp.GetFloatData()[i])
			case ir.F64:
				data[i] = tp.GetDoubleData()[i]
			case ir.I64:
				data[i] = float64(tp.GetInt64Data()[i])
			case ir.U32:
				data[i] = float64(uint32(tp.GetUint64Data()[i]))
			case ir.U64:
				data[i] = float64(tp.GetUint64Data()[i])
			case ir.F16:
				data[i] = ir.F16FromBits(uint16(tp.GetInt32Data()[i]))
			case ir.BF16:
				data[i] = ir.BF16FromBits(uint16(tp.GetInt32Data()[i]))
			default:
				x := tp.GetInt32Data()[i]
				switch dt {
				case ir.I8:
					x = int32(int8(x))
				case ir.U8:
					x = int32(uint8(x))
				case ir.I16:
					x = int32(int16(x))
				case ir.U16:
					x = int32(uint16(x))
				case ir.Bool:
					if x != 0 {
						x = 1
					}
				}
				data[i] = float64(x)
			}
		}
	}
	return &interp.Tensor{DType: dt, Shape: shape, Data: data}, nil
}

// TensorToProto encodes t as a TensorProto with raw data.
func TensorToProto(name string, t *interp.Tensor) *onnxpb.TensorProto {
	dims := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = int64(d)
	}
	dt := onnxType(t.DType)
	tp := &onnxpb.TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(dt)}
	var raw []byte
	for _, x := range t.Data {
		switch t.DType {
		case ir.F32:
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(x)))
		case ir.F64:
			raw = binary.LittleEndian.AppendUint64(raw, math.Float64bits(x))
		case ir.I32:
			raw = binary.LittleEndian.AppendUint32(raw, uint32(int32(x)))
		case ir.I64:
			raw = binary.LittleEndian.AppendUint64(raw, uint64(int64(x)))
		case ir.I8:
			raw = append(raw, byte(int8(x)))
		case ir.U8, ir.Bool:
			raw = append(raw, byte(x))
		case ir.I16:
			raw = binary.LittleEndian.AppendUint16(raw, uint16(int16(x)))
		case ir.U16:
			raw = binary.LittleEndian.AppendUint16(raw, uint16(x))
		case ir.U32:
			raw = binary.LittleEndian.AppendUint32(raw, uint32(x))
		case ir.U64:
			raw = binary.LittleEndian.AppendUint64(raw, uint64(x))
		case ir.F16:
			raw = binary.LittleEndian.AppendUint16(raw, ir.F16Bits(x))
		case ir.BF16:
			raw = binary.LittleEndian.AppendUint16(raw, ir.BF16Bits(x))
		}
	}
	if raw == nil {
		raw = []byte{}
	}
	tp.RawData = raw
	return tp
}

// ReadTensor reads a serialized TensorProto (a test set's input_0.pb).
func ReadTensor(data []byte) (*interp.Tensor, string, error) {
	var tp onnxpb.TensorProto
	if err := proto.Unmarshal(data, &tp); err != nil {
		return nil, "", fmt.Errorf("not a TensorProto: %v", err)
	}
	t, err := TensorFromProto(&tp)
	if err != nil {
		return nil, "", err
	}
	return t, tp.GetName(), nil
}

// ReadTensorFile reads a .pb tensor file.
func ReadTensorFile(path string) (*interp.Tensor, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	t, name, err := ReadTensor(data)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %v", path, err)
	}
	return t, name, nil
}

// MarshalTensor serializes t as a TensorProto (a .pb test file).
func MarshalTensor(name string, t *interp.Tensor) ([]byte, error) {
	return proto.Marshal(TensorToProto(name, t))
}
