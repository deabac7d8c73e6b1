// Package onnx is dlc's ONNX frontend: it reads an .onnx model (protobuf)
// and builds an ir.Module whose function "predict" computes the graph's
// outputs from its inputs. Initializers become module weights carrying
// their data (float ones) or constants (integer and bool ones, which are
// shapes, axes and indices); graph inputs with symbolic or unknown dims get
// IR symbols. ONNX ops map onto IR ops directly or are decomposed into
// several (ops*.go); inputs that later opsets turned from attributes into
// tensors (Reshape's shape, Slice's starts, Reduce*'s axes, ...) must be
// constants or fold to constants, which the importer evaluates with
// ir/interp as it builds the graph; computed from a symbolic shape, they
// are shape values that the importer evaluates symbolically
// (ops_symshape.go).
//
// Everything in the file is untrusted: names only ever reach IR as
// strings (the backends quote them), every declared tensor size is checked
// against the bytes present before anything is allocated, and malformed
// input gives an error naming the node, never a panic.
package onnx

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/dlc-project/dlc/frontend/onnx/onnxpb"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
)

// PredictFunc is the name of the function the importer builds.
const PredictFunc = "predict"

// Port is one graph input or output.
type Port struct {
	Name string
	Type ir.Type
}

// Model is an imported ONNX model.
type Model struct {
	Module *ir.Module
	// Inputs are the parameters of predict: the graph inputs that are
	// not initializers, in graph order. Outputs are its results.
	Inputs, Outputs []Port
	Opset           int64 // the default domain's opset version
	// OpTypes lists the ONNX op types the graph uses, sorted.
	OpTypes []string
}

// UnsupportedNode is one node the importer cannot map.
type UnsupportedNode struct {
	Name, OpType, Reason string
}

// UnsupportedError lists every node of a model that uses an op (or an op
// setting) the importer does not support, so that one run shows them all.
type UnsupportedError struct {
	Nodes []UnsupportedNode
}

func (e *UnsupportedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d node(s) use unsupported ops (%s):", len(e.Nodes), strings.Join(e.OpTypes(), ", "))
	for _, n := range e.Nodes {
		fmt.Fprintf(&b, "\n  node %q: %s", n.Name, n.OpType)
		if n.Reason != "" {
			fmt.Fprintf(&b, ": %s", n.Reason)
		}
	}
	return b.String()
}

// OpTypes returns the distinct unsupported op types, sorted.
func (e *UnsupportedError) OpTypes() []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range e.Nodes {
		if !seen[n.OpType] {
			seen[n.OpType] = true
			out = append(out, n.OpType)
		}
	}
	sort.Strings(out)
	return out
}

// LoadFile reads and imports an .onnx file.
func LoadFile(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Load(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Load imports a serialized ModelProto.
func Load(data []byte) (*Model, error) {
	mp, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return Import(mp)
}

// Parse decodes a serialized ModelProto without importing it.
func Parse(data []byte) (*onnxpb.ModelProto, error) {
	var mp onnxpb.ModelProto
	if err := proto.Unmarshal(data, &mp); err != nil {
		return nil, fmt.Errorf("not an ONNX model (truncated or corrupted protobuf): %v", err)
	}
	if mp.GetGraph() == nil {
		return nil, errors.New("not an ONNX model: it has no graph")
	}
	return &mp, nil
}

// Options adjust an import.
type Options struct {
	// Bind gives values, by graph input name, for graph inputs that a
	// node needs as a constant (a Reshape's shape fed as an input, as
	// ONNX's node tests do): the import specialises the model to them.
	// The inputs stay parameters of predict.
	Bind map[string]*interp.Tensor
}

// Import builds the IR of a decoded model.
func Import(mp *onnxpb.ModelProto) (*Model, error) { return ImportWith(mp, Options{}) }

// ImportWith builds the IR of a decoded model with options.
func ImportWith(mp *onnxpb.ModelProto, opts Options) (*Model, error) {
	g := mp.GetGraph()
	if g == nil {
		return nil, errors.New("the model has no graph")
	}
	// Every unsupported node first, so that the error lists them all.
	var un []UnsupportedNode
	types := map[string]bool{}
	for i, n := range g.GetNode() {
		types[n.GetOpType()] = true
		if reason := supported(n); reason != "" {
			un = append(un, UnsupportedNode{Name: nodeName(n, i), OpType: n.GetOpType(), Reason: strings.TrimPrefix(reason, "-")})
		}
	}
	if len(un) > 0 {
		return nil, &UnsupportedError{Nodes: un}
	}
	opset := int64(-1)
	for _, os := range mp.GetOpsetImport() {
		if d := os.GetDomain(); d == "" || d == "ai.onnx" {
			opset = os.GetVersion()
		}
	}
	if opset < 0 {
		if len(mp.GetOpsetImport()) > 0 {
			return nil, errors.New("the model imports no opset of the default ONNX domain")
		}
		// IR version 1/2 models have no opset_import: opset 1.
		opset = 1
	}
	if len(g.GetSparseInitializer()) > 0 {
		return nil, errors.New("sparse initializers are not supported")
	}
	name := g.GetName()
	if name == "" {
		name = "onnx"
	}
	m := &ir.Module{Name: name}
	c := &ctx{b: ir.NewFunc(m, PredictFunc), opset: opset, vals: map[string]*ir.Value{}, consts: map[*ir.Value]*interp.Tensor{},
		symOf: map[string]string{}, bind: opts.Bind,
		weightVals: map[*ir.Value]*interp.Tensor{}}
	model := &Model{Module: m, Opset: opset}
	for t := range types {
		model.OpTypes = append(model.OpTypes, t)
	}
	sort.Strings(model.OpTypes)

	inits := map[string]bool{}
	for i, tp := range g.GetInitializer() {
		if tp.GetName() == "" {
			return nil, fmt.Errorf("initializer %d has no name", i)
		}
		if inits[tp.GetName()] {
			return nil, fmt.Errorf("initializer %q defined twice", tp.GetName())
		}
		inits[tp.GetName()] = true
		t, err := TensorFromProto(tp)
		if err != nil {
			return nil, fmt.Errorf("initializer: %v", err)
		}
		v, err := c.initializer(tp.GetName(), t)
		if err != nil {
			return nil, fmt.Errorf("initializer %q: %v", tp.GetName(), err)
		}
		c.vals[tp.GetName()] = v
	}
	for _, in := range g.GetInput() {
		if inits[in.GetName()] {
			continue // an initializer's default value, kept constant
		}
		if in.GetName() == "" {
			return nil, errors.New("a graph input has no name")
		}
		if c.vals[in.GetName()] != nil {
			return nil, fmt.Errorf("graph input %q defined twice", in.GetName())
		}
		t, err := c.valueType(in, true)
		if err != nil {
			return nil, asUnsupported(fmt.Sprintf("graph input %q", in.GetName()), "(input)", err)
		}
		c.vals[in.GetName()] = c.b.Param(in.GetName(), t)
		model.Inputs = append(model.Inputs, Port{Name: in.GetName(), Type: t})
	}
	for i, n := range g.GetNode() {
		if err := c.convert(n); err != nil {
			if ue := asUnsupported(nodeName(n, i), n.GetOpType(), err); ue != err {
				return nil, ue
			}
			return nil, fmt.Errorf("node %q (%s): %w", nodeName(n, i), n.GetOpType(), err)
		}
	}
	var results []*ir.Value
	var names []string
	for _, out := range g.GetOutput() {
		v := c.vals[out.GetName()]
		if v == nil {
			return nil, fmt.Errorf("graph output %q is not computed by any node", out.GetName())
		}
		if s := c.shapeVals[v]; s != nil {
			return nil, fmt.Errorf("graph output %q is the shape value %s computed from symbolic dims; the IR has no run-time shape values", out.GetName(), s)
		}
		if want, err := c.valueType(out, false); err == nil && want.DType != v.Type.DType {
			return nil, fmt.Errorf("graph output %q is declared %s, computed as %s", out.GetName(), want, v.Type)
		}
		results = append(results, v)
		names = append(names, out.GetName())
		model.Outputs = append(model.Outputs, Port{Name: out.GetName(), Type: v.Type})
	}
	if len(results) == 0 {
		return nil, errors.New("the graph has no outputs")
	}
	c.b.Return(names, results...)
	dropUnused(m, c.b.Fn)
	if err := ir.Verify(m); err != nil {
		return nil, fmt.Errorf("the imported IR does not verify (a bug in the importer): %v", err)
	}
	return model, nil
}

// errUnsupported marks an error about a setting the importer does not
// support (a dtype, a mode), as opposed to a malformed model.
type errUnsupported struct{ msg string }

func (e *errUnsupported) Error() string { return e.msg }

func unsupported(format string, args ...any) error {
	return &errUnsupported{fmt.Sprintf(format, args...)}
}

// asUnsupported turns an errUnsupported into an UnsupportedError naming
// the node; other errors are returned as they are.
func asUnsupported(name, opType string, err error) error {
	var ue *errUnsupported
	if errors.As(err, &ue) {
		return &UnsupportedError{Nodes: []UnsupportedNode{{Name: name, OpType: opType, Reason: err.Error()}}}
	}
	return err
}

func nodeName(n *onnxpb.NodeProto, i int) string {
	if n.GetName() != "" {
		return n.GetName()
	}
	return fmt.Sprintf("#%d", i)
}

// ctx is the state of one import.
type ctx struct {
	b     *ir.Builder
	opset int64
	vals  map[string]*ir.Value // ONNX value name -> IR value
	// consts holds the value of every IR constant the importer made, so
	// that attribute-like inputs can be read and shape arithmetic folded.
	consts map[*ir.Value]*interp.Tensor
	symOf  map[string]string // ONNX dim_param -> IR symbol
	bind   map[string]*interp.Tensor
	// weightVals holds the data of initializer weights, for nodes that
	// read an initializer as an attribute-like input.
	weightVals map[*ir.Value]*interp.Tensor
	nsyms      int
	// haveBatch: N is taken.
	haveBatch bool
	// shapeVals: the shape values computed from symbolic dims
	// (ops_symshape.go), by their placeholder IR values.
	shapeVals map[*ir.Value]*shapeVal
}

// Largest float initializer kept as a constant rather than a weight, and
// largest result constant folding makes: shape arithmetic is small, while
// folding a large weight's transpose would copy it into the IR text.
const (
	smallConst = 8
	foldLimit  = 1 << 16
)

// initializer makes the IR value of an initializer: a weight with its data
// for float tensors (the model's parameters), a constant otherwise.
func (c *ctx) initializer(name string, t *interp.Tensor) (*ir.Value, error) {
	if !t.DType.IsFloat() || len(t.Data) <= smallConst {
		return c.constant(t), nil
	}
	typ := ir.Type{DType: t.DType, Shape: shapeOf(t.Shape)}
	if err := c.b.Mod.AddWeight(&ir.Weight{Name: name, Type: typ, Data: t.Data}); err != nil {
		return nil, err
	}
	v := c.b.Weight(name)
	c.weightVals[v] = t
	return v, c.b.Err()
}

func shapeOf(s []int) ir.Shape {
	out := make(ir.Shape, len(s))
	for i, d := range s {
		out[i] = ir.C(int64(d))
	}
	return out
}

// valueType converts a ValueInfo's type. Symbolic dims (dim_param) become
// IR symbols, the same name the same symbol; the first graph input's
// leading symbolic dim is the batch, N, as the Go backend wants it.
func (c *ctx) valueType(vi *onnxpb.ValueInfoProto, input bool) (ir.Type, error) {
	tt := vi.GetType().GetTensorType()
	if tt == nil {
		return ir.Type{}, unsupported("not a tensor (sequences, maps and optionals are not supported)")
	}
	dt, err := DTypeOf(tt.GetElemType())
	if err != nil {
		return ir.Type{}, err
	}
	if tt.GetShape() == nil {
		if input {
			return ir.Type{}, errors.New("has no shape (unknown rank)")
		}
		return ir.Type{DType: dt}, nil
	}
	dims := tt.GetShape().GetDim()
	var shape ir.Shape
	var consts []int64
	for i, d := range dims {
		if _, ok := d.GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue); ok && d.GetDimValue() >= 0 {
			shape = append(shape, ir.C(d.GetDimValue()))
			consts = append(consts, d.GetDimValue())
			continue
		}
		if !input {
			shape = append(shape, ir.S("?"))
			continue
		}
		param := d.GetDimParam()
		if s, ok := c.symOf[param]; ok && param != "" {
			shape = append(shape, ir.S(s))
			continue
		}
		var sym string
		if i == 0 && !c.haveBatch {
			sym, c.haveBatch = "N", true
		} else {
			c.nsyms++
			sym = fmt.Sprintf("S%d", c.nsyms)
		}
		if param != "" {
			c.symOf[param] = sym
		}
		shape = append(shape, ir.S(sym))
	}
	if _, err := numElements(consts); err != nil {
		return ir.Type{}, err
	}
	return ir.Type{DType: dt, Shape: shape}, nil
}

// convert maps one node.
func (c *ctx) convert(p *onnxpb.NodeProto) error {
	conv := converters[p.GetOpType()]
	n := &node{p: p, c: c, attrs: map[string]*onnxpb.AttributeProto{}}
	for _, a := range p.GetAttribute() {
		if a.GetRefAttrName() != "" {
			return fmt.Errorf("attribute %q refers to a function attribute; only top-level graphs are supported", a.GetName())
		}
		n.attrs[a.GetName()] = a
	}
	for _, name := range p.GetInput() {
		if name == "" {
			n.in = append(n.in, nil) // an omitted optional input
			continue
		}
		v := c.vals[name]
		if v == nil {
			return fmt.Errorf("input %q is not defined before the node", name)
		}
		n.in = append(n.in, v)
	}
	if len(n.in) < conv.minIn {
		return fmt.Errorf("has %d inputs, needs at least %d", len(n.in), conv.minIn)
	}
	for i, v := range n.in[:conv.minIn] {
		if v == nil {
			// The converters take their required inputs as present.
			return fmt.Errorf("input %d is required, and its name is empty", i)
		}
	}
	outs, err := c.convertSym(n, conv.fn)
	if err == nil {
		err = c.b.Err()
	}
	if err != nil {
		return err
	}
	for i, name := range p.GetOutput() {
		if name == "" {
			continue
		}
		if i >= len(outs) || outs[i] == nil {
			return fmt.Errorf("output %d (%q) is not supported", i, name)
		}
		c.vals[name] = outs[i]
	}
	return nil
}

// supported returns "" when node n can be imported at opset, else why not.
func supported(n *onnxpb.NodeProto) string {
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		return fmt.Sprintf("domain %q is not supported", d)
	}
	conv, ok := converters[n.GetOpType()]
	if !ok {
		return "no mapping to IR ops"
	}
	var missing []string
	for _, op := range conv.needs {
		if _, ok := ir.LookupOp(op); !ok {
			missing = append(missing, op)
		}
	}
	if len(missing) > 0 {
		return "needs the IR ops " + strings.Join(missing, ", ") + ", not in this build"
	}
	return ""
}

// ParseFile reads and decodes an .onnx file without importing it.
func ParseFile(path string) (*onnxpb.ModelProto, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// dropUnused removes the nodes of f no result depends on, then the
// weights no remaining node reads: an initializer the importer replaced
// (by its transpose, see transposedWeight) must not be carried into the
// compiled package as well.
func dropUnused(m *ir.Module, f *ir.Func) {
	live := map[*ir.Value]bool{}
	var mark func(v *ir.Value)
	mark = func(v *ir.Value) {
		if live[v] {
			return
		}
		live[v] = true
		for _, a := range v.Args {
			mark(a)
		}
	}
	for _, r := range f.Results {
		mark(r)
	}
	body := f.Body[:0]
	used := map[string]bool{}
	for _, v := range f.Body {
		if !live[v] {
			continue
		}
		body = append(body, v)
		if v.Op == ir.OpWeight {
			used[v.Attrs.String("name", "")] = true
		}
	}
	f.Body = body
	ws := m.Weights[:0]
	for _, w := range m.Weights {
		if used[w.Name] {
			ws = append(ws, w)
		}
	}
	m.Weights = ws
}
