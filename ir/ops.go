package ir

import (
	"fmt"
	"sort"
)

// Op names. Each is defined once in the op table below; ir/interp, the
// autodiff pass and every backend must have an entry for each (a test walks
// the table).
const (
	OpParam    = "param"    // a function parameter (not a body op)
	OpConstant = "constant" // value: the flat row-major data, or one value splatted over the type
	OpWeight   = "weight"   // name: reads module state

	OpAdd = "add" // arg0 + arg1
	OpSub = "sub" // arg0 - arg1
	OpMul = "mul" // arg0 * arg1
	OpDiv = "div" // arg0 / arg1

	OpNeg     = "neg"     // -arg0
	OpExp     = "exp"     // e^arg0
	OpLog     = "log"     // ln(arg0)
	OpSqrt    = "sqrt"    // sqrt(arg0)
	OpRelu    = "relu"    // max(arg0, 0)
	OpSigmoid = "sigmoid" // 1/(1+e^-arg0)
	OpTanh    = "tanh"    // tanh(arg0)
	OpCos     = "cos"     // cos(arg0), radians
	OpSin     = "sin"     // sin(arg0), radians
	OpFloor   = "floor"   // the largest integer <= arg0

	OpGreater      = "greater"       // arg0 > arg1 (bool)
	OpGreaterEqual = "greater_equal" // arg0 >= arg1 (bool)
	OpLess         = "less"          // arg0 < arg1 (bool)
	OpLessEqual    = "less_equal"    // arg0 <= arg1 (bool)
	OpEqual        = "equal"         // arg0 == arg1 (bool)
	OpSelect       = "select"        // arg0 ? arg1 : arg2
	OpCast         = "cast"          // arg0 converted to dtype "to"

	OpMatMul     = "matmul"      // arg0 @ arg1 over the last two dims, batch dims broadcast; transpose_a/transpose_b
	OpReduceSum  = "reduce_sum"  // sum of arg0 over axes (keepdims)
	OpReduceMean = "reduce_mean" // mean of arg0 over axes (keepdims)
	OpReduceMax  = "reduce_max"  // max of arg0 over axes (keepdims)
	OpSoftmax    = "softmax"     // exp(arg0) / sum(exp(arg0)) along axis
	OpLogSoftmax = "log_softmax" // arg0 - log(sum(exp(arg0))) along axis
	OpReshape    = "reshape"     // arg0 with the same elements in shape "shape"
	OpTranspose  = "transpose"   // arg0 with dims permuted by perm
	OpBroadcast  = "broadcast"   // arg0 broadcast (NumPy rules) to shape "shape"
	OpSize       = "size"        // number of elements of arg0 over axes, as a scalar of the result dtype

	OpFused   = "fused"   // the region function "region" applied to the operands; kind says how it runs
	OpExtract = "extract" // element "index" of the tuple arg0
)

// Kinds of fused regions (the "kind" attribute of a fused node).
const (
	// FuseElementwise: every node of the region is elementwise (or a
	// broadcast) over one shape, the domain; one loop nest runs it.
	FuseElementwise = "elementwise"
	// FuseMatMul: a matmul whose result the rest of the region, elementwise
	// over the matmul's shape, finishes (bias, activation): the epilogue.
	FuseMatMul = "matmul"
	// FuseRows: nodes over [rows, cols] and reductions along the last axis
	// (softmax, log-softmax with cross-entropy, normalisations): one pass
	// per row.
	FuseRows = "rows"
)

// Kind groups ops by how they touch their operands.
type Kind int

// Op kinds.
const (
	KindLeaf        Kind = iota // no operands: constant, weight
	KindElementwise             // pointwise with NumPy broadcasting of operands
	KindReduction               // reduces over axes
	KindMatMul                  // matrix product
	KindRowwise                 // normalises along one axis: softmax, log_softmax
	KindLayout                  // moves elements: reshape, transpose, broadcast
	KindShape                   // depends only on the operand's shape
	KindFused                   // a fused region, or an element of its tuple
)

// AttrKind is the kind of an attribute value.
type AttrKind int

// Attribute kinds.
const (
	AttrInt AttrKind = iota
	AttrInts
	AttrFloat
	AttrFloats
	AttrString
	AttrBool
	AttrDType
	AttrShape
)

// AttrSpec describes one attribute of an op.
type AttrSpec struct {
	Name     string
	Kind     AttrKind
	Required bool
}

// OpDef is everything the IR knows about an op.
type OpDef struct {
	Name    string
	Doc     string // one-line meaning
	Kind    Kind
	NumArgs int // number of operands; -1 for any number
	Attrs   []AttrSpec
	// Infer computes the result type from operand types and attributes.
	// Nil means the type is declared by whoever makes the node (constant,
	// weight) and checked by Check instead.
	Infer func(args []Type, attrs Attrs) (Type, error)
	// Check validates a declared-type node; may be nil.
	Check func(t Type, attrs Attrs) error
}

var opTable = map[string]*OpDef{}

func register(d *OpDef) {
	if _, dup := opTable[d.Name]; dup {
		panic("ir: op registered twice: " + d.Name)
	}
	opTable[d.Name] = d
}

// LookupOp returns the definition of op name.
func LookupOp(name string) (*OpDef, bool) {
	d, ok := opTable[name]
	return d, ok
}

// Ops returns all op definitions sorted by name.
func Ops() []*OpDef {
	out := make([]*OpDef, 0, len(opTable))
	for _, d := range opTable {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// IsElementwise reports whether op acts pointwise on broadcast operands.
func IsElementwise(op string) bool {
	d, ok := opTable[op]
	return ok && d.Kind == KindElementwise
}

func init() {
	register(&OpDef{Name: OpConstant, Doc: "a constant tensor", Kind: KindLeaf,
		Attrs: []AttrSpec{{"value", AttrFloats, true}},
		Check: func(t Type, a Attrs) error {
			vals := a.Floats("value")
			n, syms := t.Shape.NumElements()
			if len(vals) == 1 {
				return nil
			}
			if len(syms) > 0 {
				return fmt.Errorf("a constant of symbolic shape %s must hold one (splat) value, has %d", t.Shape, len(vals))
			}
			if int64(len(vals)) != n {
				return fmt.Errorf("constant of shape %s needs %d values, has %d", t.Shape, n, len(vals))
			}
			return nil
		}})
	register(&OpDef{Name: OpWeight, Doc: "reads the module weight (or state) name", Kind: KindLeaf,
		Attrs: []AttrSpec{{"name", AttrString, true}}})

	for _, op := range []struct{ name, doc string }{
		{OpAdd, "arg0 + arg1"}, {OpSub, "arg0 - arg1"}, {OpMul, "arg0 * arg1"}, {OpDiv, "arg0 / arg1"},
	} {
		register(&OpDef{Name: op.name, Doc: op.doc, Kind: KindElementwise, NumArgs: 2, Infer: inferArith})
	}
	for _, op := range []struct{ name, doc string }{
		{OpNeg, "-arg0"}, {OpExp, "e^arg0"}, {OpLog, "natural log of arg0"}, {OpSqrt, "square root of arg0"},
		{OpRelu, "max(arg0, 0)"}, {OpSigmoid, "1/(1+e^-arg0)"}, {OpTanh, "tanh(arg0)"},
		{OpCos, "cos(arg0), radians"}, {OpSin, "sin(arg0), radians"}, {OpFloor, "the largest integer <= arg0"},
	} {
		float := op.name != OpNeg && op.name != OpRelu
		register(&OpDef{Name: op.name, Doc: op.doc, Kind: KindElementwise, NumArgs: 1, Infer: inferUnary(float)})
	}
	for _, op := range []struct{ name, doc string }{
		{OpGreater, "arg0 > arg1"}, {OpGreaterEqual, "arg0 >= arg1"}, {OpLess, "arg0 < arg1"},
		{OpLessEqual, "arg0 <= arg1"}, {OpEqual, "arg0 == arg1"},
	} {
		register(&OpDef{Name: op.name, Doc: op.doc, Kind: KindElementwise, NumArgs: 2, Infer: inferCompare})
	}
	register(&OpDef{Name: OpSelect, Doc: "arg0 ? arg1 : arg2, all broadcast", Kind: KindElementwise, NumArgs: 3, Infer: inferSelect})
	register(&OpDef{Name: OpCast, Doc: "arg0 converted to dtype to", Kind: KindElementwise, NumArgs: 1,
		Attrs: []AttrSpec{{"to", AttrDType, true}}, Infer: inferCast})
	register(&OpDef{Name: OpMatMul, Doc: "arg0 @ arg1 over the last two dims (optionally transposed), batch dims broadcast",
		Kind: KindMatMul, NumArgs: 2, Attrs: []AttrSpec{{"transpose_a", AttrBool, false}, {"transpose_b", AttrBool, false}},
		Infer: inferMatMul})
	for _, op := range []struct{ name, doc string }{
		{OpReduceSum, "sum of arg0 over axes"}, {OpReduceMean, "mean of arg0 over axes"}, {OpReduceMax, "max of arg0 over axes"},
	} {
		register(&OpDef{Name: op.name, Doc: op.doc, Kind: KindReduction, NumArgs: 1,
			Attrs: []AttrSpec{{"axes", AttrInts, true}, {"keepdims", AttrBool, false}}, Infer: inferReduce})
	}
	for _, op := range []struct{ name, doc string }{
		{OpSoftmax, "exp(arg0)/sum(exp(arg0)) along axis"}, {OpLogSoftmax, "arg0 - log(sum(exp(arg0))) along axis"},
	} {
		register(&OpDef{Name: op.name, Doc: op.doc, Kind: KindRowwise, NumArgs: 1,
			Attrs: []AttrSpec{{"axis", AttrInt, true}}, Infer: inferRowwise})
	}
	register(&OpDef{Name: OpReshape, Doc: "arg0's elements in row-major order, in shape", Kind: KindLayout, NumArgs: 1,
		Attrs: []AttrSpec{{"shape", AttrShape, true}}, Infer: inferReshape})
	register(&OpDef{Name: OpTranspose, Doc: "arg0 with dim i of the result taken from dim perm[i]", Kind: KindLayout, NumArgs: 1,
		Attrs: []AttrSpec{{"perm", AttrInts, true}}, Infer: inferTranspose})
	register(&OpDef{Name: OpBroadcast, Doc: "arg0 broadcast to shape (NumPy rules)", Kind: KindLayout, NumArgs: 1,
		Attrs: []AttrSpec{{"shape", AttrShape, true}}, Infer: inferBroadcastTo})
	register(&OpDef{Name: OpFused, Doc: "the region function named region applied to the operands (its results, a tuple when several)",
		Kind: KindFused, NumArgs: -1, Attrs: []AttrSpec{{"region", AttrString, true}, {"kind", AttrString, true}},
		Check: func(t Type, a Attrs) error {
			switch a.String("kind", "") {
			case FuseElementwise, FuseMatMul, FuseRows:
			default:
				return fmt.Errorf("unknown fusion kind %q (known: elementwise, matmul, rows)", a.String("kind", ""))
			}
			return nil
		}})
	register(&OpDef{Name: OpExtract, Doc: "element index of the tuple arg0", Kind: KindFused, NumArgs: 1,
		Attrs: []AttrSpec{{"index", AttrInt, true}}, Infer: func(args []Type, a Attrs) (Type, error) {
			if !args[0].IsTuple() {
				return Type{}, fmt.Errorf("operand is not a tuple: %s", args[0])
			}
			i := a.Int("index", -1)
			if i < 0 || i >= int64(len(args[0].Elems)) {
				return Type{}, fmt.Errorf("index %d out of range for %s", i, args[0])
			}
			return args[0].Elems[i], nil
		}})
	register(&OpDef{Name: OpSize, Doc: "the number of elements of arg0 over axes, as a scalar of dtype", Kind: KindShape, NumArgs: 1,
		Attrs: []AttrSpec{{"axes", AttrInts, true}, {"dtype", AttrDType, true}}, Infer: inferSize})
}

// BroadcastShapes returns the NumPy broadcast of shapes a and b: aligned from
// the right, each pair of dims equal or one of them 1.
func BroadcastShapes(a, b Shape) (Shape, error) {
	n := max(len(a), len(b))
	out := make(Shape, n)
	for i := 0; i < n; i++ {
		da, db := C(1), C(1)
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db:
			out[i] = da
		case da == C(1):
			out[i] = db
		case db == C(1):
			out[i] = da
		default:
			return nil, fmt.Errorf("shapes %s and %s do not broadcast (dim %d: %s vs %s)", a, b, i, da, db)
		}
	}
	return out, nil
}

func inferArith(args []Type, _ Attrs) (Type, error) {
	if args[0].DType != args[1].DType {
		return Type{}, fmt.Errorf("operand dtypes differ: %s and %s", args[0].DType, args[1].DType)
	}
	if args[0].DType == Bool {
		return Type{}, fmt.Errorf("arithmetic on bool operands")
	}
	s, err := BroadcastShapes(args[0].Shape, args[1].Shape)
	return Type{DType: args[0].DType, Shape: s}, err
}

func inferUnary(needFloat bool) func([]Type, Attrs) (Type, error) {
	return func(args []Type, _ Attrs) (Type, error) {
		if needFloat && !args[0].DType.IsFloat() {
			return Type{}, fmt.Errorf("operand must be a float type, is %s", args[0].DType)
		}
		if args[0].DType == Bool {
			return Type{}, fmt.Errorf("operand must be numeric, is bool")
		}
		return Type{DType: args[0].DType, Shape: args[0].Shape.Clone()}, nil
	}
}

func inferCompare(args []Type, _ Attrs) (Type, error) {
	if args[0].DType != args[1].DType {
		return Type{}, fmt.Errorf("operand dtypes differ: %s and %s", args[0].DType, args[1].DType)
	}
	s, err := BroadcastShapes(args[0].Shape, args[1].Shape)
	return Type{DType: Bool, Shape: s}, err
}

func inferSelect(args []Type, _ Attrs) (Type, error) {
	if args[0].DType != Bool {
		return Type{}, fmt.Errorf("condition must be bool, is %s", args[0].DType)
	}
	if args[1].DType != args[2].DType {
		return Type{}, fmt.Errorf("branch dtypes differ: %s and %s", args[1].DType, args[2].DType)
	}
	s, err := BroadcastShapes(args[0].Shape, args[1].Shape)
	if err != nil {
		return Type{}, err
	}
	s, err = BroadcastShapes(s, args[2].Shape)
	return Type{DType: args[1].DType, Shape: s}, err
}

func inferCast(args []Type, a Attrs) (Type, error) {
	to, ok := a.DTypeAttr("to")
	if !ok {
		return Type{}, fmt.Errorf("attribute to must be a dtype")
	}
	return Type{DType: to, Shape: args[0].Shape.Clone()}, nil
}

// MatMulDims returns, for a matmul of types a and b, the broadcast batch
// shape and M, K, N (after the transposes).
func MatMulDims(a, b Type, ta, tb bool) (batch Shape, m, k, n Dim, err error) {
	if len(a.Shape) < 2 || len(b.Shape) < 2 {
		return nil, m, k, n, fmt.Errorf("operands must have rank >= 2, have %s and %s", a.Shape, b.Shape)
	}
	ra, rb := len(a.Shape), len(b.Shape)
	m, k = a.Shape[ra-2], a.Shape[ra-1]
	if ta {
		m, k = k, m
	}
	kb, n := b.Shape[rb-2], b.Shape[rb-1]
	if tb {
		kb, n = n, kb
	}
	if k != kb {
		return nil, m, k, n, fmt.Errorf("inner dims differ: %s%s @ %s%s (%s vs %s)", a.Shape, tflag(ta), b.Shape, tflag(tb), k, kb)
	}
	batch, err = BroadcastShapes(a.Shape[:ra-2], b.Shape[:rb-2])
	if err != nil {
		return nil, m, k, n, fmt.Errorf("batch dims: %v", err)
	}
	return batch, m, k, n, nil
}

func tflag(t bool) string {
	if t {
		return "ᵀ"
	}
	return ""
}

func inferMatMul(args []Type, a Attrs) (Type, error) {
	if args[0].DType != args[1].DType || !args[0].DType.IsFloat() {
		return Type{}, fmt.Errorf("operands must share a float dtype, have %s and %s", args[0].DType, args[1].DType)
	}
	batch, m, _, n, err := MatMulDims(args[0], args[1], a.Bool("transpose_a", false), a.Bool("transpose_b", false))
	if err != nil {
		return Type{}, err
	}
	return Type{DType: args[0].DType, Shape: append(batch, m, n)}, nil
}

// NormalizeAxes checks axes against rank r and returns them in [0, r),
// sorted and without duplicates.
func NormalizeAxes(axes []int64, r int) ([]int, error) {
	seen := make([]bool, r)
	for _, ax := range axes {
		a := ax
		if a < 0 {
			a += int64(r)
		}
		if a < 0 || a >= int64(r) {
			return nil, fmt.Errorf("axis %d out of range for rank %d", ax, r)
		}
		if seen[a] {
			return nil, fmt.Errorf("axis %d given twice", ax)
		}
		seen[a] = true
	}
	var out []int
	for i, s := range seen {
		if s {
			out = append(out, i)
		}
	}
	return out, nil
}

// ReducedShape returns s reduced over the (normalized) axes.
func ReducedShape(s Shape, axes []int, keepdims bool) Shape {
	out := Shape{}
	for i, d := range s {
		if contains(axes, i) {
			if keepdims {
				out = append(out, C(1))
			}
			continue
		}
		out = append(out, d)
	}
	return out
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func inferReduce(args []Type, a Attrs) (Type, error) {
	if args[0].DType == Bool {
		return Type{}, fmt.Errorf("cannot reduce bool")
	}
	axes, err := NormalizeAxes(a.Ints("axes"), len(args[0].Shape))
	if err != nil {
		return Type{}, err
	}
	return Type{DType: args[0].DType, Shape: ReducedShape(args[0].Shape, axes, a.Bool("keepdims", false))}, nil
}

func inferRowwise(args []Type, a Attrs) (Type, error) {
	if !args[0].DType.IsFloat() {
		return Type{}, fmt.Errorf("operand must be a float type, is %s", args[0].DType)
	}
	ax := a.Int("axis", -1)
	if _, err := NormalizeAxes([]int64{ax}, len(args[0].Shape)); err != nil {
		return Type{}, err
	}
	return Type{DType: args[0].DType, Shape: args[0].Shape.Clone()}, nil
}

func inferReshape(args []Type, a Attrs) (Type, error) {
	s, _ := a.ShapeAttr("shape")
	for _, d := range s {
		if d.IsConst() && d.Size < 0 {
			return Type{}, fmt.Errorf("negative dim %d in shape %s", d.Size, s)
		}
	}
	n1, s1 := args[0].Shape.NumElements()
	n2, s2 := s.NumElements()
	sort.Strings(s1)
	sort.Strings(s2)
	if n1 != n2 || fmt.Sprint(s1) != fmt.Sprint(s2) {
		return Type{}, fmt.Errorf("cannot reshape %s to %s: element counts differ", args[0].Shape, s)
	}
	return Type{DType: args[0].DType, Shape: s.Clone()}, nil
}

func inferTranspose(args []Type, a Attrs) (Type, error) {
	perm := a.Ints("perm")
	r := len(args[0].Shape)
	if len(perm) != r {
		return Type{}, fmt.Errorf("perm %v has %d entries for rank %d", perm, len(perm), r)
	}
	seen := make([]bool, r)
	out := make(Shape, r)
	for i, p := range perm {
		if p < 0 || p >= int64(r) || seen[p] {
			return Type{}, fmt.Errorf("perm %v is not a permutation of 0..%d", perm, r-1)
		}
		seen[p] = true
		out[i] = args[0].Shape[p]
	}
	return Type{DType: args[0].DType, Shape: out}, nil
}

func inferBroadcastTo(args []Type, a Attrs) (Type, error) {
	s, _ := a.ShapeAttr("shape")
	b, err := BroadcastShapes(args[0].Shape, s)
	if err != nil {
		return Type{}, err
	}
	if !b.Equal(s) {
		return Type{}, fmt.Errorf("cannot broadcast %s to %s", args[0].Shape, s)
	}
	return Type{DType: args[0].DType, Shape: s.Clone()}, nil
}

func inferSize(args []Type, a Attrs) (Type, error) {
	if _, err := NormalizeAxes(a.Ints("axes"), len(args[0].Shape)); err != nil {
		return Type{}, err
	}
	dt, _ := a.DTypeAttr("dtype")
	return Type{DType: dt, Shape: Shape{}}, nil
}

// InferType computes the type of a node with op, operands and attributes,
// checking operand count and attribute kinds. For declared-type ops it
// checks declared and returns it.
func InferType(op string, args []*Value, attrs Attrs, declared *Type) (Type, error) {
	d, ok := opTable[op]
	if !ok {
		return Type{}, fmt.Errorf("unknown op %q", op)
	}
	if d.NumArgs >= 0 && len(args) != d.NumArgs {
		return Type{}, fmt.Errorf("%s takes %d operands, has %d", op, d.NumArgs, len(args))
	}
	for i, a := range args {
		if a.Type.IsTuple() && op != OpExtract {
			return Type{}, fmt.Errorf("operand %d is a tuple: only extract takes tuples", i)
		}
	}
	if err := checkAttrs(d, attrs); err != nil {
		return Type{}, err
	}
	if d.Infer == nil {
		if declared == nil {
			return Type{}, fmt.Errorf("%s needs a declared type", op)
		}
		if d.Check != nil {
			if err := d.Check(*declared, attrs); err != nil {
				return Type{}, err
			}
		}
		return *declared, nil
	}
	types := make([]Type, len(args))
	for i, a := range args {
		types[i] = a.Type
	}
	return d.Infer(types, attrs)
}

func checkAttrs(d *OpDef, attrs Attrs) error {
	for _, spec := range d.Attrs {
		v, ok := attrs[spec.Name]
		if !ok {
			if spec.Required {
				return fmt.Errorf("%s needs attribute %s", d.Name, spec.Name)
			}
			continue
		}
		if !attrKindOK(spec.Kind, v) {
			return fmt.Errorf("%s: attribute %s has the wrong kind (%T)", d.Name, spec.Name, v)
		}
	}
	for k := range attrs {
		known := false
		for _, spec := range d.Attrs {
			known = known || spec.Name == k
		}
		if !known {
			return fmt.Errorf("%s has no attribute %s", d.Name, k)
		}
	}
	return nil
}

func attrKindOK(k AttrKind, v any) bool {
	switch v.(type) {
	case int64:
		return k == AttrInt || k == AttrFloat
	case float64:
		return k == AttrFloat
	case []int64:
		return k == AttrInts || k == AttrFloats || k == AttrShape
	case []float64:
		return k == AttrFloats
	case string:
		return k == AttrString
	case bool:
		return k == AttrBool
	case DType:
		return k == AttrDType
	case Shape:
		return k == AttrShape
	}
	return false
}
