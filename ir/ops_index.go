package ir

import (
	"fmt"
	"math"
)

// Data-movement, indexing and reduction ops (the "index" group of the op
// contract between helpers). Semantics follow ONNX with every attribute
// already resolved by whoever builds the node: no optional inputs, no
// negative starts or sizes left to normalise (only axes and gather indices
// may be negative, as in ONNX). A bool attribute that is absent is false
// (CSE drops false bools), so the frontends set ONNX's true defaults
// (top_k's largest and sorted, trilu's upper) explicitly.
const (
	OpReduceMin  = "reduce_min"  // min of arg0 over axes (keepdims)
	OpReduceProd = "reduce_prod" // product of arg0 over axes (keepdims)
	OpArgMax     = "argmax"      // index (i64) of the max of arg0 along axis
	OpArgMin     = "argmin"      // index (i64) of the min of arg0 along axis

	OpConcat = "concat" // the operands joined along axis
	OpSlice  = "slice"  // arg0[starts:ends:steps], one entry per dim
	OpPad    = "pad"    // arg0 padded (cropped where negative) by pads; mode constant|reflect|edge

	OpGather          = "gather"           // arg0 indexed along axis by the indices arg1
	OpGatherElements  = "gather_elements"  // out[i] = arg0[i with i[axis] = arg1[i]]
	OpGatherND        = "gather_nd"        // arg0 indexed by the index tuples in the last dim of arg1
	OpScatterElements = "scatter_elements" // arg0 with arg2 written (reduced) at the positions gather_elements reads
	OpScatterND       = "scatter_nd"       // arg0 with arg2 written (reduced) at the positions gather_nd reads

	OpCumSum = "cumsum" // running sum of arg0 along axis (exclusive, reverse)
	OpTopK   = "top_k"  // (values, indices i64) of the k largest (smallest) along axis
	OpTrilu  = "trilu"  // the upper (lower) triangle of the last two dims, k-th diagonal on
	OpResize = "resize" // arg0 resampled to shape (ONNX Resize, scales and sizes resolved)

	// Gradient helpers.
	OpScatterAdd = "scatter_add" // arg0 plus arg2 added at the positions gather reads (gather's adjoint)
	OpSliceGrad  = "slice_grad"  // zeros of shape with arg0 written where slice reads (slice's adjoint)
	OpPadGrad    = "pad_grad"    // the adjoint of pad: arg0 summed back onto the unpadded positions
	OpResizeGrad = "resize_grad" // the adjoint of resize: arg0 spread back onto shape
)

// SliceWhole is the end of a slice entry that keeps a symbolic dim whole
// (start 0, step 1): the only slice a dim of unknown size allows.
const SliceWhole = math.MaxInt64

// PadModes are the modes of pad and pad_grad.
var PadModes = []string{"constant", "reflect", "edge"}

// Reductions of scatter_elements and scatter_nd.
var ScatterReductions = []string{"none", "add", "mul", "max", "min"}

func init() {
	for _, op := range []struct{ name, doc string }{
		{OpReduceMin, "min of arg0 over axes"}, {OpReduceProd, "product of arg0 over axes"},
	} {
		register(&OpDef{Name: op.name, Doc: op.doc, Kind: KindReduction, NumArgs: 1,
			Attrs: []AttrSpec{{"axes", AttrInts, true}, {"keepdims", AttrBool, false}}, Infer: inferReduce})
	}
	for _, op := range []struct{ name, doc string }{
		{OpArgMax, "the index (i64) of the first (or last) max of arg0 along axis"},
		{OpArgMin, "the index (i64) of the first (or last) min of arg0 along axis"},
	} {
		register(&OpDef{Name: op.name, Doc: op.doc, Kind: KindReduction, NumArgs: 1,
			Attrs: []AttrSpec{{"axis", AttrInt, true}, {"keepdims", AttrBool, false}, {"select_last_index", AttrBool, false}},
			Infer: inferArgMax})
	}
	register(&OpDef{Name: OpConcat, Doc: "the operands (one or more, same dtype) joined along axis", Kind: KindLayout, NumArgs: -1,
		Attrs: []AttrSpec{{"axis", AttrInt, true}}, Infer: inferConcat})
	register(&OpDef{Name: OpSlice, Doc: "arg0[starts:ends:steps], one normalised entry per dim (end -1 with a negative step: through 0; a symbolic dim only whole, 0:2^63-1:1)",
		Kind: KindLayout, NumArgs: 1,
		Attrs: []AttrSpec{{"starts", AttrInts, true}, {"ends", AttrInts, true}, {"steps", AttrInts, true}}, Infer: inferSlice})
	register(&OpDef{Name: OpSliceGrad, Doc: "zeros of shape with arg0 written at the positions slice{starts,ends,steps} reads",
		Kind: KindLayout, NumArgs: 1,
		Attrs: []AttrSpec{{"starts", AttrInts, true}, {"ends", AttrInts, true}, {"steps", AttrInts, true}, {"shape", AttrShape, true}},
		Infer: inferSliceGrad})
	register(&OpDef{Name: OpPad, Doc: "arg0 padded by pads (begins, then ends; negative crops) with value, or by reflecting or repeating the edge",
		Kind: KindLayout, NumArgs: 1,
		Attrs: []AttrSpec{{"pads", AttrInts, true}, {"mode", AttrString, false}, {"value", AttrFloat, false}}, Infer: inferPad})
	register(&OpDef{Name: OpPadGrad, Doc: "the adjoint of pad{pads,mode}: each element of arg0 added to the element pad copied it from",
		Kind: KindLayout, NumArgs: 1,
		Attrs: []AttrSpec{{"pads", AttrInts, true}, {"mode", AttrString, false}}, Infer: inferPadGrad})
	register(&OpDef{Name: OpGather, Doc: "arg0 indexed along axis by the indices arg1 (i32/i64, negative from the end)",
		Kind: KindLayout, NumArgs: 2, Attrs: []AttrSpec{{"axis", AttrInt, true}}, Infer: inferGather})
	register(&OpDef{Name: OpScatterAdd, Doc: "arg0 plus arg2 added at the positions gather{axis} with indices arg1 reads",
		Kind: KindLayout, NumArgs: 3, Attrs: []AttrSpec{{"axis", AttrInt, true}}, Infer: inferScatterAdd})
	register(&OpDef{Name: OpGatherElements, Doc: "out[i] = arg0[i with dim axis replaced by arg1[i]]",
		Kind: KindLayout, NumArgs: 2, Attrs: []AttrSpec{{"axis", AttrInt, true}}, Infer: inferGatherElements})
	register(&OpDef{Name: OpGatherND, Doc: "arg0 indexed by the index tuples in the last dim of arg1, after batch_dims shared leading dims",
		Kind: KindLayout, NumArgs: 2, Attrs: []AttrSpec{{"batch_dims", AttrInt, false}}, Infer: inferGatherND})
	register(&OpDef{Name: OpScatterElements, Doc: "arg0 with arg2 written at the positions gather_elements{axis} with indices arg1 reads (reduction none|add|mul|max|min)",
		Kind: KindLayout, NumArgs: 3, Attrs: []AttrSpec{{"axis", AttrInt, true}, {"reduction", AttrString, false}},
		Infer: inferScatterElements})
	// batch_dims goes beyond ONNX's ScatterND (where it is 0): it makes
	// scatter_nd the adjoint of every gather_nd.
	register(&OpDef{Name: OpScatterND, Doc: "arg0 with arg2 written at the positions gather_nd{batch_dims} with indices arg1 reads (reduction none|add|mul|max|min)",
		Kind: KindLayout, NumArgs: 3, Attrs: []AttrSpec{{"reduction", AttrString, false}, {"batch_dims", AttrInt, false}}, Infer: inferScatterND})
	register(&OpDef{Name: OpCumSum, Doc: "running sum of arg0 along axis (exclusive: without the element itself; reverse: from the end)",
		Kind: KindLayout, NumArgs: 1,
		Attrs: []AttrSpec{{"axis", AttrInt, true}, {"exclusive", AttrBool, false}, {"reverse", AttrBool, false}}, Infer: inferCumSum})
	register(&OpDef{Name: OpTopK, Doc: "(values, indices i64) of the k largest (or smallest) of arg0 along axis, sorted (ties: lower index first) or in index order",
		Kind: KindLayout, NumArgs: 1,
		Attrs: []AttrSpec{{"axis", AttrInt, true}, {"k", AttrInt, true}, {"largest", AttrBool, false}, {"sorted", AttrBool, false}},
		Infer: inferTopK})
	register(&OpDef{Name: OpTrilu, Doc: "arg0 with the elements below (upper) or above (lower) the k-th diagonal of the last two dims zeroed",
		Kind: KindLayout, NumArgs: 1, Attrs: []AttrSpec{{"upper", AttrBool, false}, {"k", AttrInt, false}}, Infer: inferTrilu})
}

// normAxis checks axis against rank r and returns it in [0, r).
func normAxis(axis int64, r int) (int, error) {
	axes, err := NormalizeAxes([]int64{axis}, r)
	if err != nil {
		return 0, err
	}
	return axes[0], nil
}

func inferArgMax(args []Type, a Attrs) (Type, error) {
	if args[0].DType == Bool {
		return Type{}, fmt.Errorf("operand must be numeric, is bool")
	}
	ax, err := normAxis(a.Int("axis", 0), len(args[0].Shape))
	if err != nil {
		return Type{}, err
	}
	return Type{DType: I64, Shape: ReducedShape(args[0].Shape, []int{ax}, a.Bool("keepdims", false))}, nil
}

func inferConcat(args []Type, a Attrs) (Type, error) {
	if len(args) == 0 {
		return Type{}, fmt.Errorf("needs at least one operand")
	}
	first := args[0]
	ax, err := normAxis(a.Int("axis", 0), len(first.Shape))
	if err != nil {
		return Type{}, err
	}
	out := first.Shape.Clone()
	for i, t := range args[1:] {
		if t.DType != first.DType {
			return Type{}, fmt.Errorf("operand %d is %s, operand 0 is %s", i+1, t.DType, first.DType)
		}
		if len(t.Shape) != len(first.Shape) {
			return Type{}, fmt.Errorf("operand %d has rank %d, operand 0 has rank %d", i+1, len(t.Shape), len(first.Shape))
		}
		for d := range t.Shape {
			if d != ax && t.Shape[d] != first.Shape[d] {
				return Type{}, fmt.Errorf("operand %d has shape %s, operand 0 has %s: dim %d differs", i+1, t.Shape, first.Shape, d)
			}
		}
		if !t.Shape[ax].IsConst() || !out[ax].IsConst() {
			return Type{}, fmt.Errorf("cannot join along axis %d: dim %s or %s is symbolic", ax, out[ax], t.Shape[ax])
		}
		out[ax] = C(out[ax].Size + t.Shape[ax].Size)
	}
	return Type{DType: first.DType, Shape: out}, nil
}

// SliceDim checks one normalised slice entry against dim d (size n, or
// symbolic) and returns the result dim.
func SliceDim(d Dim, start, end, step int64) (Dim, error) {
	if step == 0 || step == math.MinInt64 {
		return Dim{}, fmt.Errorf("step %d", step)
	}
	if !d.IsConst() {
		if start != 0 || end != SliceWhole || step != 1 {
			return Dim{}, fmt.Errorf("the symbolic dim %s can only be kept whole (start 0, end %d, step 1), have %d:%d:%d", d, int64(SliceWhole), start, end, step)
		}
		return d, nil
	}
	n := d.Size
	if step > 0 {
		if start < 0 || start > end || end > n {
			return Dim{}, fmt.Errorf("start %d, end %d with step %d: want 0 <= start <= end <= %d", start, end, step, n)
		}
		if start == end {
			return C(0), nil
		}
		return C(1 + (end-start-1)/step), nil // ceil((end-start)/step), without overflow
	}
	if end < -1 || end > start || start > n-1 {
		return Dim{}, fmt.Errorf("start %d, end %d with step %d: want -1 <= end <= start <= %d", start, end, step, n-1)
	}
	if start == end {
		return C(0), nil
	}
	return C(1 + (start-end-1)/(-step)), nil // step > MinInt64 (checked above): -step does not overflow
}

// SliceFromONNX turns one entry of an ONNX Slice (start and end may be
// negative, counting from the end, and beyond the dim, which clamps them)
// into slice's normalised form for dim d. A symbolic dim can only be kept
// whole: start 0 (or any start <= -2^31 before clamping), an end of at
// least 2^31-1 (ONNX's "to the end", INT_MAX or INT64_MAX), step 1.
func SliceFromONNX(d Dim, start, end, step int64) (s, e int64, err error) {
	if step == 0 || step == math.MinInt64 {
		return 0, 0, fmt.Errorf("step %d", step)
	}
	if !d.IsConst() {
		if step == 1 && (start == 0 || start <= math.MinInt32) && end >= math.MaxInt32 {
			return 0, SliceWhole, nil
		}
		return 0, 0, fmt.Errorf("the symbolic dim %s can only be kept whole, have %d:%d:%d", d, start, end, step)
	}
	n := d.Size
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	if step > 0 {
		start, end = max(0, min(start, n)), max(0, min(end, n))
		return start, max(start, end), nil
	}
	if n == 0 {
		return -1, -1, nil
	}
	start, end = max(0, min(start, n-1)), max(-1, min(end, n-1))
	return start, min(start, end), nil
}

// sliceShape is the result shape of slice{starts, ends, steps} of s.
func sliceShape(s Shape, a Attrs) (Shape, error) {
	starts, ends, steps := a.Ints("starts"), a.Ints("ends"), a.Ints("steps")
	r := len(s)
	if len(starts) != r || len(ends) != r || len(steps) != r {
		return nil, fmt.Errorf("starts, ends and steps have %d, %d and %d entries; want one per dim (%d)", len(starts), len(ends), len(steps), r)
	}
	out := make(Shape, r)
	for i := range s {
		d, err := SliceDim(s[i], starts[i], ends[i], steps[i])
		if err != nil {
			return nil, fmt.Errorf("dim %d (%s): %v", i, s[i], err)
		}
		out[i] = d
	}
	return out, nil
}

func inferSlice(args []Type, a Attrs) (Type, error) {
	s, err := sliceShape(args[0].Shape, a)
	return Type{DType: args[0].DType, Shape: s}, err
}

func inferSliceGrad(args []Type, a Attrs) (Type, error) {
	shape, _ := a.ShapeAttr("shape")
	s, err := sliceShape(shape, a)
	if err != nil {
		return Type{}, err
	}
	if !s.Equal(args[0].Shape) {
		return Type{}, fmt.Errorf("operand has shape %s, the slice of %s gives %s", args[0].Shape, shape, s)
	}
	return Type{DType: args[0].DType, Shape: shape.Clone()}, nil
}

// maxPad bounds pads, so that no padded size overflows.
const maxPad = 1 << 40

// PadMode returns the mode attribute of a pad or pad_grad ("constant" when
// absent).
func PadMode(a Attrs) string { return a.String("mode", "constant") }

// padShape checks pads for shape s and returns the padded shape.
func padShape(s Shape, a Attrs) (Shape, error) {
	pads := a.Ints("pads")
	r := len(s)
	if len(pads) != 2*r {
		return nil, fmt.Errorf("pads has %d entries, want 2×rank = %d (begins, then ends)", len(pads), 2*r)
	}
	mode := PadMode(a)
	known := false
	for _, m := range PadModes {
		known = known || m == mode
	}
	if !known {
		return nil, fmt.Errorf("unknown mode %q (known: constant, reflect, edge)", mode)
	}
	out := make(Shape, r)
	for i, d := range s {
		b, e := pads[i], pads[r+i]
		if b > maxPad || b < -maxPad || e > maxPad || e < -maxPad {
			return nil, fmt.Errorf("dim %d: pads %d, %d are beyond ±2^40", i, b, e)
		}
		if !d.IsConst() {
			if b != 0 || e != 0 {
				return nil, fmt.Errorf("dim %d is symbolic (%s) and cannot be padded (pads %d, %d)", i, d, b, e)
			}
			out[i] = d
			continue
		}
		// Negative pads crop first; the mode pads what is left.
		kept := d.Size + min(b, 0) + min(e, 0)
		if kept < 0 {
			return nil, fmt.Errorf("dim %d (%d): pads %d, %d crop more than the dim", i, d.Size, b, e)
		}
		grow := max(b, 0) + max(e, 0)
		switch {
		case grow > 0 && kept == 0 && mode != "constant":
			return nil, fmt.Errorf("dim %d: mode %s cannot pad an empty dim", i, mode)
		case mode == "reflect" && (max(b, 0) > kept-1 || max(e, 0) > kept-1):
			return nil, fmt.Errorf("dim %d (%d after cropping): mode reflect pads at most %d, pads are %d, %d", i, kept, kept-1, b, e)
		}
		out[i] = C(kept + grow)
	}
	return out, nil
}

func inferPad(args []Type, a Attrs) (Type, error) {
	s, err := padShape(args[0].Shape, a)
	if err == nil && args[0].DType == Bool && PadMode(a) == "constant" {
		if v := a.Float("value", 0); v != 0 && v != 1 {
			err = fmt.Errorf("value %v is not a bool (0 or 1)", v)
		}
	}
	return Type{DType: args[0].DType, Shape: s}, err
}

func inferPadGrad(args []Type, a Attrs) (Type, error) {
	if !args[0].DType.IsFloat() {
		return Type{}, fmt.Errorf("operand must be a float type, is %s", args[0].DType)
	}
	pads := a.Ints("pads")
	r := len(args[0].Shape)
	if len(pads) != 2*r {
		return Type{}, fmt.Errorf("pads has %d entries, want 2×rank = %d (begins, then ends)", len(pads), 2*r)
	}
	// The operand shape is what pad made of the result: invert, then check
	// by padding again.
	for _, p := range pads {
		if p > maxPad || p < -maxPad {
			return Type{}, fmt.Errorf("pads %v: %d is beyond ±2^40", pads, p)
		}
	}
	out := make(Shape, r)
	for i, d := range args[0].Shape {
		if !d.IsConst() {
			out[i] = d
			continue
		}
		out[i] = C(d.Size - pads[i] - pads[r+i])
		if out[i].Size < 0 {
			return Type{}, fmt.Errorf("dim %d (%d) is smaller than its pads %d, %d", i, d.Size, pads[i], pads[r+i])
		}
	}
	back, err := padShape(out, a)
	if err != nil {
		return Type{}, err
	}
	if !back.Equal(args[0].Shape) {
		return Type{}, fmt.Errorf("operand shape %s is not a pad of %s", args[0].Shape, out)
	}
	return Type{DType: args[0].DType, Shape: out}, nil
}

func checkIndices(t Type) error {
	if t.DType != I32 && t.DType != I64 {
		return fmt.Errorf("indices must be i32 or i64, are %s", t.DType)
	}
	return nil
}

// GatherShape is the result shape of gather{axis} of data by indices.
func GatherShape(data, indices Shape, axis int64) (Shape, int, error) {
	ax, err := normAxis(axis, len(data))
	if err != nil {
		return nil, 0, err
	}
	out := append(append(data[:ax:ax].Clone(), indices...), data[ax+1:]...)
	return out, ax, nil
}

func inferGather(args []Type, a Attrs) (Type, error) {
	if err := checkIndices(args[1]); err != nil {
		return Type{}, err
	}
	s, _, err := GatherShape(args[0].Shape, args[1].Shape, a.Int("axis", 0))
	return Type{DType: args[0].DType, Shape: s}, err
}

func inferScatterAdd(args []Type, a Attrs) (Type, error) {
	if err := checkIndices(args[1]); err != nil {
		return Type{}, err
	}
	if args[0].DType != args[2].DType || args[0].DType == Bool {
		return Type{}, fmt.Errorf("data and updates must share a numeric dtype, are %s and %s", args[0].DType, args[2].DType)
	}
	s, _, err := GatherShape(args[0].Shape, args[1].Shape, a.Int("axis", 0))
	if err != nil {
		return Type{}, err
	}
	if !s.Equal(args[2].Shape) {
		return Type{}, fmt.Errorf("updates have shape %s, gather gives %s", args[2].Shape, s)
	}
	return Type{DType: args[0].DType, Shape: args[0].Shape.Clone()}, nil
}

// checkElementsIndices checks gather_elements' and scatter_elements'
// indices against data: same rank, and no dim but axis larger than data's.
func checkElementsIndices(data, indices Type, axis int64) error {
	if err := checkIndices(indices); err != nil {
		return err
	}
	if len(indices.Shape) != len(data.Shape) {
		return fmt.Errorf("indices have rank %d, data has rank %d; want the same", len(indices.Shape), len(data.Shape))
	}
	ax, err := normAxis(axis, len(data.Shape))
	if err != nil {
		return err
	}
	for d := range data.Shape {
		if d == ax || indices.Shape[d] == data.Shape[d] {
			continue
		}
		if !indices.Shape[d].IsConst() || !data.Shape[d].IsConst() || indices.Shape[d].Size > data.Shape[d].Size {
			return fmt.Errorf("indices shape %s does not fit data shape %s at dim %d", indices.Shape, data.Shape, d)
		}
	}
	return nil
}

func inferGatherElements(args []Type, a Attrs) (Type, error) {
	if err := checkElementsIndices(args[0], args[1], a.Int("axis", 0)); err != nil {
		return Type{}, err
	}
	return Type{DType: args[0].DType, Shape: args[1].Shape.Clone()}, nil
}

// ScatterReduction returns the reduction attribute ("none" when absent).
func ScatterReduction(a Attrs) string { return a.String("reduction", "none") }

func checkReduction(a Attrs, dt DType) error {
	r := ScatterReduction(a)
	for _, k := range ScatterReductions {
		if k == r {
			if r != "none" && dt == Bool {
				return fmt.Errorf("reduction %s of bool data", r)
			}
			return nil
		}
	}
	return fmt.Errorf("unknown reduction %q (known: none, add, mul, max, min)", r)
}

func inferScatterElements(args []Type, a Attrs) (Type, error) {
	if err := checkElementsIndices(args[0], args[1], a.Int("axis", 0)); err != nil {
		return Type{}, err
	}
	if args[2].DType != args[0].DType || !args[2].Shape.Equal(args[1].Shape) {
		return Type{}, fmt.Errorf("updates are %s; want data's dtype and indices' shape, %s%s", args[2], args[0].DType, args[1].Shape)
	}
	if err := checkReduction(a, args[0].DType); err != nil {
		return Type{}, err
	}
	return Type{DType: args[0].DType, Shape: args[0].Shape.Clone()}, nil
}

// GatherNDShape checks gather_nd's operands and returns the result shape
// and the length m of an index tuple.
func GatherNDShape(data, indices Shape, batchDims int64) (Shape, int, error) {
	r, q := len(data), len(indices)
	if q < 1 {
		return nil, 0, fmt.Errorf("indices must have rank >= 1")
	}
	last := indices[q-1]
	if !last.IsConst() {
		return nil, 0, fmt.Errorf("the last dim of indices (the index tuple length) must be constant, is %s", last)
	}
	b := int(batchDims)
	if b < 0 || b >= q || b >= r {
		return nil, 0, fmt.Errorf("batch_dims %d: want 0 <= batch_dims < min(rank of data %d, rank of indices %d)", batchDims, r, q)
	}
	for i := 0; i < b; i++ {
		if data[i] != indices[i] {
			return nil, 0, fmt.Errorf("batch dim %d differs: data %s, indices %s", i, data, indices)
		}
	}
	m := int(last.Size)
	if m < 1 || b+m > r {
		return nil, 0, fmt.Errorf("index tuples of length %d into data of rank %d after %d batch dims: want 1 <= length <= %d", m, r, b, r-b)
	}
	for i := b; i < b+m; i++ {
		if !data[i].IsConst() {
			return nil, 0, fmt.Errorf("dim %d of data, which the index tuples index, is symbolic (%s)", i, data[i])
		}
	}
	out := append(indices[:q-1:q-1].Clone(), data[b+m:]...)
	return out, m, nil
}

func inferGatherND(args []Type, a Attrs) (Type, error) {
	if err := checkIndices(args[1]); err != nil {
		return Type{}, err
	}
	s, _, err := GatherNDShape(args[0].Shape, args[1].Shape, a.Int("batch_dims", 0))
	return Type{DType: args[0].DType, Shape: s}, err
}

func inferScatterND(args []Type, a Attrs) (Type, error) {
	if err := checkIndices(args[1]); err != nil {
		return Type{}, err
	}
	s, _, err := GatherNDShape(args[0].Shape, args[1].Shape, a.Int("batch_dims", 0))
	if err != nil {
		return Type{}, err
	}
	if args[2].DType != args[0].DType || !args[2].Shape.Equal(s) {
		return Type{}, fmt.Errorf("updates are %s; want %s%s", args[2], args[0].DType, s)
	}
	if err := checkReduction(a, args[0].DType); err != nil {
		return Type{}, err
	}
	return Type{DType: args[0].DType, Shape: args[0].Shape.Clone()}, nil
}

func inferCumSum(args []Type, a Attrs) (Type, error) {
	if args[0].DType == Bool {
		return Type{}, fmt.Errorf("operand must be numeric, is bool")
	}
	if _, err := normAxis(a.Int("axis", 0), len(args[0].Shape)); err != nil {
		return Type{}, err
	}
	return Type{DType: args[0].DType, Shape: args[0].Shape.Clone()}, nil
}

func inferTopK(args []Type, a Attrs) (Type, error) {
	x := args[0]
	if x.DType == Bool {
		return Type{}, fmt.Errorf("operand must be numeric, is bool")
	}
	ax, err := normAxis(a.Int("axis", -1), len(x.Shape))
	if err != nil {
		return Type{}, err
	}
	k := a.Int("k", -1)
	d := x.Shape[ax]
	if !d.IsConst() {
		return Type{}, fmt.Errorf("the dim along axis %d is symbolic (%s)", ax, d)
	}
	if k < 0 || k > d.Size {
		return Type{}, fmt.Errorf("k = %d: want 0 <= k <= %d (the dim along axis %d)", k, d.Size, ax)
	}
	s := x.Shape.Clone()
	s[ax] = C(k)
	return Tuple(Type{DType: x.DType, Shape: s}, Type{DType: I64, Shape: s.Clone()}), nil
}

func inferTrilu(args []Type, _ Attrs) (Type, error) {
	if len(args[0].Shape) < 2 {
		return Type{}, fmt.Errorf("operand must have rank >= 2, has %s", args[0].Shape)
	}
	return Type{DType: args[0].DType, Shape: args[0].Shape.Clone()}, nil
}
