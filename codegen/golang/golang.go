// Package golang is dlc's Go backend: it prints an ir.Module as one plain,
// specialised Go package that links against dlc's runtime and nothing else.
//
// Every constant dim becomes a Go constant in the emitted loops and only the
// batch dim N stays a run-time value, so the Go compiler sees fixed trip
// counts and strides. Each IR node becomes one kernel (a top-level function
// over a preallocated task, so that work can be split over the runtime's
// worker pool without allocating); a fused node (see passes.Fuse) becomes
// one loop nest over its region (fused.go, rows.go). Values live at fixed
// offsets of one arena allocated by New, so Predict and TrainStep allocate
// nothing; the memory planner (memplan.go) lets values whose lifetimes do
// not overlap share space, has the kernels read the arguments from the
// caller's slices, and writes new weight and optimizer-state values
// straight into the state's buffer where no later read needs the old one.
//
// The generated package's API (Options, New, Predict, TrainStep, ...) is
// described in the doc comment of Generate. Names taken from the model
// (weights, parameters, the module) never become Go identifiers: they appear
// only as quoted string literals, so no model can inject code.
package golang

import (
	"bytes"
	"errors"
	"fmt"
	"go/token"
	"strconv"
	"unicode/utf8"

	"github.com/dave/jennifer/jen"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
	"github.com/dlc-project/dlc/runtime"
)

// Options configures Generate.
type Options struct {
	// Package is the Go package name of the generated code; it must be a
	// Go identifier that is not a keyword, "_" or "main".
	Package string
	// NoFuse asks for the baseline of the fused-vs-unfused benchmark: one
	// kernel per IR op (the nodes of every fused node's region are emitted
	// one by one) and one arena buffer per value, none shared. Without it,
	// fused nodes run as fused kernels and the memory planner reuses the
	// space of dead values.
	NoFuse bool
	// NoVector keeps every fused elementwise loop scalar (one element per
	// iteration) instead of vector-wide (generated assembly, or chunked
	// over runtime.Vec* calls); for measuring what the vector loops bring.
	// The results are the same bits.
	NoVector bool
	// ShardMin is the smallest batch at which Predict, when every node of
	// predict is row-local along the batch, splits the batch into one
	// contiguous range per worker, each running the whole graph (see
	// shard.go). 0 means the default; negative, never.
	ShardMin int
	// ShardAlways shards Predict at batches of ShardMin or more even when
	// no worker is awake (by default such a call takes the per-kernel
	// path, which wakes them): for tests that must take the sharded path.
	ShardAlways bool
}

// Paths of the packages the generated code imports.
const (
	runtimePath = "github.com/dlc-project/dlc/runtime"
	mathPath    = "math"
	ioPath      = "io"
	strconvPath = "strconv"
)

// Names of the module functions the backend compiles. Other functions of
// a module (helpers a pass left behind, say) are not part of the generated
// API and are ignored.
const (
	predictFunc = "predict"
	trainFunc   = "train_step"
	batchSym    = "N"
)

// The file Generate returns.
const fileName = "model.go"

// Generate prints module m as the files of one Go package, byte-for-byte
// deterministic: "model.go" (gofmt-formatted), and when some fused loop
// compiles to assembly (asmloop.go) "model_amd64.s" with its declarations
// in "model_amd64.go" and stand-ins for other builds in "model_noasm.go".
//
// The module must have a function "predict" taking one parameter
// f32[N, ...] and returning one result f32[N, ...], and may have a function
// "train_step" taking (x f32[N, ...], y f32[N, ...]) and returning
// (loss f32[], probs f32[N, ...]) (or only the loss) with updates to the
// module weights. N is the only symbolic dim allowed; dtypes must be f32 or
// bool (stored as 0/1 float32), an integer dtype for the values of ops
// that compute integers exactly (indices, casts; stored as whole float32
// values, see kernels_index.go), or f64, f16 or bf16 for values inside the
// functions (f64 computed in float64, two float32 slots per element, see
// kernels_f64.go; f16 and bf16 stored as float32, computed in float64 and
// rounded once to the dtype, see kernels_f16.go). The generated package has:
//
//	type Options struct{ MaxBatch int; Seed uint64; Workers int }
//	func New(opts Options) *Model
//	func (m *Model) MaxBatch() int
//	func (m *Model) InputSize() int
//	func (m *Model) OutputSize() int
//	func (m *Model) Predict(out, x []float32, n int)
//	func (m *Model) TrainStep(x, y []float32, n int) float32   // with train_step
//	func (m *Model) TargetSize() int                           // with train_step
//	func (m *Model) TrainOutput() []float32                    // with train_step
//	func (m *Model) SaveWeights(w io.Writer) error
//	func (m *Model) LoadWeights(r io.Reader) error
//	func (m *Model) Weights() []runtime.TensorRef
//	func (m *Model) ArenaBytes() int
//	func (m *Model) Close()
//
// New initialises the weights exactly as interp.NewMachine does with the
// same seed, so the generated code and the interpreter can be compared.
func Generate(m *ir.Module, opts Options) (map[string][]byte, error) {
	if err := checkPackageName(opts.Package); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("codegen/golang: nil module")
	}
	if err := ir.Verify(m); err != nil {
		return nil, fmt.Errorf("codegen/golang: module %q does not verify: %w", m.Name, err)
	}
	g := &gen{mod: m, pkg: opts.Package, noFuse: opts.NoFuse, noVector: opts.NoVector, shardMin: opts.ShardMin, shardAlways: opts.ShardAlways, helpers: map[string]bool{}}
	if err := g.plan(); err != nil {
		return nil, fmt.Errorf("codegen/golang: module %q: %w", m.Name, err)
	}
	f := g.file()
	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		// A render error is a bug in this package, not in the model.
		return nil, fmt.Errorf("codegen/golang: module %q: rendering the generated code: %w", m.Name, err)
	}
	files := map[string][]byte{fileName: buf.Bytes()}
	for name, b := range g.asmFiles() {
		files[name] = b
	}
	return files, nil
}

// Supports reports whether the backend has an emitter for op. Every op of
// the IR's op table must have one (a test walks ir.Ops()).
func Supports(op string) bool {
	_, ok := emitters[op]
	return ok
}

// checkPackageName rejects names that would not compile as a library
// package clause.
func checkPackageName(name string) error {
	switch {
	case !token.IsIdentifier(name):
		return fmt.Errorf("codegen/golang: package name %q is not a Go identifier", name)
	case token.IsKeyword(name):
		return fmt.Errorf("codegen/golang: package name %q is a Go keyword", name)
	case name == "_" || name == "main":
		return fmt.Errorf("codegen/golang: package name %q cannot name a library package", name)
	}
	return nil
}

// gen holds everything known about the module being printed.
type gen struct {
	mod         *ir.Module
	pkg         string
	noFuse      bool
	noVector    bool
	weights     []*weightPlan // in module order, which is initialisation order
	byName      map[string]*weightPlan
	predict     *fnPlan
	train       *fnPlan // nil without train_step
	arena       poly    // total arena size in MaxBatch, set by planArena
	ntasks      int
	helpers     map[string]bool // helper functions the kernels call; emitted in a fixed order
	gemmEpi     bool            // some epilogue runs inside a GEMM: task has epi fields and an Epilogue method
	decls       []jen.Code      // package-level tables kernels declare (resize's taps), in kernel order
	shardMin    int             // Options.ShardMin
	shardAlways bool            // Options.ShardAlways
	shard       *shardPlan      // predict's sharded layout, nil if not sharded
	shardWhy    string          // why predict is not sharded, if it is not
	asmFuncs    []asmFunc       // the fused loops' assembly functions, in kernel order (asmloop.go)
	asmNames    map[string]bool // their names

	inputSize, outputSize, targetSize, trainOutSize int64
}

// weightPlan is one module weight and its buffer in the generated Model.
type weightPlan struct {
	w     *ir.Weight
	field string // generated identifier: w0, w1, ...
	shape []int64
	size  int64

	hasInit       bool // initialised by runtime.Initialize
	spec          runtime.InitSpec
	fanIn, fanOut int
	dataField     string // package-level literal holding w.Data, or ""
	data          []float32
}

// storage says where a value lives.
type storage int

const (
	inArena  storage = iota // a fixed slot of the arena
	inWeight                // the weight's own buffer (a weight read)
	inConst                 // a constant's own buffer, filled once by New
	inParam                 // the caller's argument, read in place (planned variant)
	inState                 // an update written over its state's own buffer (planned variant)
)

// valPlan is where one IR value lives: a buffer. Values that share a
// buffer without copying (an extract and its fused node's output, a
// reshape and its operand) share one valPlan.
type valPlan struct {
	v     *ir.Value
	kind  storage
	off   poly        // inArena: offset in MaxBatch, set by planArena
	size  mono        // elements, in the batch
	w     *weightPlan // inWeight: the weight read; inState: the state updated in place
	field string      // inConst: generated field name
	param int         // inParam: the parameter's index

	// Memory planning of an arena buffer (see memplan.go).
	typ       ir.Type    // the type of what it holds (for plan dumps)
	name      string     // for plan dumps: "arg0", "%3", "%3.1", "%5.tmp0", "update2"
	def, last int        // body index of the write and of the last read; -1 before the body, len(body) after it
	donors    []*valPlan // operands the node may overwrite with this value (in-place candidates)
	persist   bool       // must survive the call (TrainOutput's buffer)
	inPlaceOf *valPlan   // set by planArena: the donor whose space this buffer took
	zoneOff   int64      // set by planArena: offset within the zone, in units of size.c
}

// fnPlan is one compiled module function.
type fnPlan struct {
	f       *ir.Func // the function as compiled: fused nodes the backend cannot run fused are inlined (lower)
	fused   map[*ir.Value]*fusedNode
	prefix  string // "predict" or "train": prefixes generated identifiers
	vals    map[*ir.Value]*valPlan
	tuples  map[*ir.Value][]*valPlan // a fused node with several results: one buffer each
	params  []*valPlan
	consts  []*valPlan
	kernels []*kernel
	bufs    []*valPlan // arena buffers, parameters and updates in place, in order of def

	// mmTargets: the fused matmul nodes whose product is not a region
	// result and goes to output 0, which the epilogue overwrites.
	mmTargets map[*ir.Value]*mmTarget
	// stateReads: the last body index at which each weight's value on
	// entry is read (len(body) for reads after the kernels); set by
	// planInPlaceUpdates.
	stateReads map[*weightPlan]int

	// train_step only.
	loss, probs *valPlan
	updates     []updatePlan
	probsStage  *weightPlan // probs is a weight read: copied to probsSlot before updates
	probsParam  *valPlan    // probs is a parameter (read in place): copied to probsSlot
	probsSlot   *valPlan
}

// mmTarget is a fused matmul node whose product the matmul kernel mk
// writes into output 0 before the epilogue kernel ek overwrites it. For
// that output to update a state in place, the product must get a buffer of
// its own (planInPlaceUpdates); donors are the output's in-place
// candidates then, as for the node's other outputs.
type mmTarget struct {
	mk, ek *kernel
	donors []*valPlan
}

// updatePlan is one state update of train_step.
type updatePlan struct {
	target *weightPlan
	src    *valPlan
	stage  *weightPlan // src reads another weight: copied to slot before any update
	slot   *valPlan
	field  string
}

// where names a node the way the verifier does, for errors.
func where(f *ir.Func, i int, v *ir.Value) string {
	return fmt.Sprintf("func @%s: %%%d = %s", f.Name, i, v.Op)
}

// plan checks the module against what the backend supports, lays out
// weights, emits every kernel and plans the arena.
func (g *gen) plan() error {
	g.byName = map[string]*weightPlan{}
	for i, w := range g.mod.Weights {
		wp, err := g.planWeight(i, w)
		if err != nil {
			return err
		}
		g.weights = append(g.weights, wp)
		g.byName[w.Name] = wp
	}
	pf := g.mod.Func(predictFunc)
	if pf == nil || pf.Region {
		return fmt.Errorf("no function @%s (the backend compiles @%s and, optionally, @%s)", predictFunc, predictFunc, trainFunc)
	}
	var err error
	if g.predict, err = g.planFunc(pf, "predict"); err != nil {
		return err
	}
	if len(pf.Params) != 1 {
		return fmt.Errorf("func @%s: has %d parameters, want one (x: f32[N, ...])", pf.Name, len(pf.Params))
	}
	if len(pf.Results) != 1 {
		return fmt.Errorf("func @%s: has %d results, want one (f32[N, ...])", pf.Name, len(pf.Results))
	}
	if g.inputSize, err = perSample(pf, "parameter 0", pf.Params[0].Type); err != nil {
		return err
	}
	if g.outputSize, err = perSample(pf, "result 0", pf.Results[0].Type); err != nil {
		return err
	}
	if tf := g.mod.Func(trainFunc); tf != nil && !tf.Region {
		if g.train, err = g.planFunc(tf, "train"); err != nil {
			return err
		}
		if err := g.planTrain(); err != nil {
			return err
		}
	}
	for _, fp := range g.fns() {
		for i, r := range fp.f.Results {
			if err := checkAPIType(r.Type); err != nil {
				return fmt.Errorf("func @%s: result %d: %w", fp.f.Name, i, err)
			}
		}
	}
	g.evenSizes()
	g.planShards(!g.noFuse)
	g.arena = planArena(g.fns(), !g.noFuse)
	return nil
}

// planWeight checks a weight and evaluates its initialiser at generation
// time, so the generated New only replays it.
func (g *gen) planWeight(i int, w *ir.Weight) (*weightPlan, error) {
	if err := checkDType(w.Type.DType); err != nil {
		return nil, fmt.Errorf("weight %q: %w", w.Name, err)
	}
	if err := checkAPIType(w.Type); err != nil {
		return nil, fmt.Errorf("weight %q: %w", w.Name, err)
	}
	if !w.Type.Shape.IsStatic() {
		return nil, fmt.Errorf("weight %q: type %s has a symbolic dim; weights need constant shapes", w.Name, w.Type)
	}
	if w.Name == "" || !utf8.ValidString(w.Name) || w.Name == "__metadata__" {
		return nil, fmt.Errorf("weight %q: the name cannot be saved in a safetensors checkpoint (empty, invalid UTF-8 or reserved)", w.Name)
	}
	wp := &weightPlan{w: w, field: "w" + strconv.Itoa(i), size: 1}
	for _, d := range w.Type.Shape {
		wp.shape = append(wp.shape, d.Size)
		wp.size *= d.Size
	}
	switch {
	case w.Data != nil:
		wp.dataField = wp.field + "Data"
		wp.data = toFloat32(w.Type.DType, w.Data)
	case len(w.Init) > 0:
		spec, fanIn, fanOut, err := interp.InitSpecOf(w)
		if err != nil {
			return nil, err
		}
		wp.hasInit, wp.spec, wp.fanIn, wp.fanOut = true, spec, fanIn, fanOut
	}
	return wp, nil
}

// toFloat32 rounds data to how the generated code stores dtype dt, as the
// interpreter normalises it: f32 to the nearest float32, bool to 0 or 1.
func toFloat32(dt ir.DType, data []float64) []float32 {
	out := make([]float32, len(data))
	for i, x := range data {
		if dt == ir.Bool {
			if x != 0 {
				out[i] = 1
			}
			continue
		}
		out[i] = float32(ir.RoundFloat(dt, x)) // f16, bf16: their nearest value, a float32
	}
	return out
}

// ErrUnsupported is wrapped by the errors of Generate for a module it
// cannot compile because of a backend limit (a dtype, an integer
// computation, a symbolic dim), as opposed to a malformed module.
var ErrUnsupported = errors.New("not supported by the Go backend")

func checkDType(dt ir.DType) error {
	if dt != ir.F32 && dt != ir.Bool && dt != ir.F64 && !isNarrow(dt) {
		return fmt.Errorf("dtype %s is %w (only f32, f64, f16, bf16 and bool)", dt, ErrUnsupported)
	}
	return nil
}

// checkAPIType refuses f64, f16 and bf16 where the model's float32 API
// meets a value: parameters, results and weights (the generated code
// computes such values inside the model only; see kernels_f64.go and
// kernels_f16.go).
func checkAPIType(t ir.Type) error {
	if t.DType == ir.F64 || isNarrow(t.DType) {
		return fmt.Errorf("dtype %s is %w here (%s values are computed inside the model, not passed in or out)", t.DType, ErrUnsupported, t.DType)
	}
	return nil
}

// checkType checks a value's dtype and that its only symbol is N.
func checkType(t ir.Type) error {
	if err := checkDType(t.DType); err != nil {
		return err
	}
	for _, d := range t.Shape {
		if !d.IsConst() && d.Sym != batchSym {
			return fmt.Errorf("type %s has the symbolic dim %q: %w (only the batch dim %s is)", t, d.Sym, ErrUnsupported, batchSym)
		}
		if d.IsConst() && d.Size < 0 {
			return fmt.Errorf("type %s has a negative dim", t)
		}
	}
	return nil
}

// perSample checks that t is [N, constant dims...] and returns the number
// of elements per sample.
func perSample(f *ir.Func, what string, t ir.Type) (int64, error) {
	if len(t.Shape) == 0 || t.Shape[0].Sym != batchSym || !t.Shape[1:].IsStatic() {
		return 0, fmt.Errorf("func @%s: %s has type %s; want %s[%s, constant dims...] (the batch first)", f.Name, what, t, ir.F32, batchSym)
	}
	n, _ := t.Shape[1:].NumElements()
	return n, nil
}

// planFunc compiles one function: it lowers it (lower), emits a kernel
// for each node (several for a fused node) and records the buffers the
// memory planner lays out, with their lifetimes.
func (g *gen) planFunc(orig *ir.Func, prefix string) (*fnPlan, error) {
	f, fused := g.lower(orig)
	fp := &fnPlan{f: f, fused: fused, prefix: prefix, vals: map[*ir.Value]*valPlan{}, tuples: map[*ir.Value][]*valPlan{},
		mmTargets: map[*ir.Value]*mmTarget{}}
	for i, p := range f.Params {
		if err := checkType(p.Type); err != nil {
			return nil, fmt.Errorf("func @%s: parameter %d: %w", f.Name, i, err)
		}
		if err := checkAPIType(p.Type); err != nil {
			return nil, fmt.Errorf("func @%s: parameter %d: %w", f.Name, i, err)
		}
		vp := fp.newBuf(p, "arg"+strconv.Itoa(i), p.Type, -1)
		if !g.noFuse {
			// The kernels read the caller's slice: no copy into the
			// arena, and no kernel writes over it (only arena buffers
			// are donors).
			vp.kind, vp.param = inParam, i
		}
		fp.vals[p] = vp
		fp.params = append(fp.params, vp)
	}
	for i, v := range f.Body {
		if v.Type.IsTuple() {
			for _, e := range v.Type.Elems {
				if err := checkValueType(v, e); err != nil {
					return nil, fmt.Errorf("%s: %w", where(f, i, v), err)
				}
			}
		} else if err := checkValueType(v, v.Type); err != nil {
			return nil, fmt.Errorf("%s: %w", where(f, i, v), err)
		}
		if err := checkF64(v); err != nil {
			return nil, fmt.Errorf("%s: %w", where(f, i, v), err)
		}
		emit, ok := emitters[v.Op]
		if !ok {
			return nil, fmt.Errorf("%s: the Go backend has no emitter for this op", where(f, i, v))
		}
		switch v.Op {
		case ir.OpWeight:
			fp.vals[v] = &valPlan{v: v, kind: inWeight, w: g.byName[v.Attrs.String("name", "")]}
			continue
		case ir.OpConstant:
			vp := &valPlan{v: v, kind: inConst, size: product(shapeMonos(v.Type.Shape)).mul(constMono(dtypeSlots(v.Type.DType))),
				field: prefix + "C" + strconv.Itoa(i)}
			fp.vals[v] = vp
			fp.consts = append(fp.consts, vp)
			continue
		case ir.OpExtract:
			// No code: the value is the fused node's output buffer.
			elems := fp.tuples[v.Args[0]]
			idx := int(v.Attrs.Int("index", -1))
			if idx < 0 || idx >= len(elems) {
				return nil, fmt.Errorf("%s: internal error: no buffer for element %d", where(f, i, v), idx)
			}
			fp.vals[v] = elems[idx]
			continue
		case ir.OpFused:
			if err := g.planFused(fp, i, v); err != nil {
				return nil, fmt.Errorf("%s: %w", where(f, i, v), err)
			}
			continue
		case ir.OpReshape:
			// With memory planning a reshape of an arena value or of a
			// parameter is the same buffer read in another shape: no copy.
			if src := fp.vals[v.Args[0]]; !g.noFuse && (src.kind == inArena || src.kind == inParam) {
				fp.vals[v] = src
				continue
			}
		}
		k := g.newKernel(fp, i, v, prefix+"Node"+strconv.Itoa(i), describe(f, i, v))
		if v.Type.IsTuple() {
			k.nOut = len(v.Type.Elems) // an op with several results (top_k)
		}
		if err := emit(k); err != nil {
			return nil, fmt.Errorf("%s: %w", where(f, i, v), err)
		}
		var vp *valPlan
		if v.Type.IsTuple() {
			// One buffer per result, which extract nodes then name.
			for j, e := range v.Type.Elems {
				k.outs = append(k.outs, fp.newBuf(v, "%"+strconv.Itoa(i)+"."+strconv.Itoa(j), e, i))
			}
			fp.tuples[v] = k.outs
		} else {
			vp = fp.newBuf(v, "%"+strconv.Itoa(i), v.Type, i)
			fp.vals[v] = vp
			k.outs = []*valPlan{vp}
		}
		// Scratch space the emitter asked for (conv's im2col matrices):
		// written and read by this kernel only.
		for j, s := range k.tmpSizes {
			label := "%" + strconv.Itoa(i) + ".tmp" + strconv.Itoa(j)
			k.tmps = append(k.tmps, fp.newBuf(v, label, ir.Type{DType: ir.F32, Shape: monoShape(s)}, i))
		}
		if v.Op != ir.OpSize { // size reads only its operand's shape
			for _, a := range v.Args {
				k.ins = append(k.ins, fp.vals[a])
			}
		}
		if ir.IsElementwise(v.Op) {
			// Each operand of the result's shape is read at the index
			// the result is written: the result may take its space.
			for _, a := range v.Args {
				if a.Type.Shape.Equal(v.Type.Shape) {
					vp.donors = append(vp.donors, fp.vals[a])
				}
			}
		}
	}
	if !g.noFuse {
		g.planInPlaceUpdates(fp)
	}
	fp.liveness()
	return fp, nil
}

// newKernel starts the kernel for node i of fp, taking the next task.
func (g *gen) newKernel(fp *fnPlan, i int, v *ir.Value, name, desc string) *kernel {
	k := &kernel{g: g, v: v, at: i, task: g.ntasks, name: name, desc: desc, uses: map[string]bool{}}
	g.ntasks++
	fp.kernels = append(fp.kernels, k)
	return k
}

// newBuf makes an arena buffer for a value of shape s written at body
// index def.
func (fp *fnPlan) newBuf(v *ir.Value, name string, t ir.Type, def int) *valPlan {
	vp := &valPlan{v: v, typ: t, kind: inArena, size: product(shapeMonos(t.Shape)).mul(constMono(dtypeSlots(t.DType))), name: name, def: def, last: def}
	fp.bufs = append(fp.bufs, vp)
	return vp
}

// liveness sets the last read of every arena buffer (and parameter): the
// last kernel that reads it, or the end of the function for results and
// update values, which the generated code reads after the kernels (and
// TrainOutput after the call).
func (fp *fnPlan) liveness() {
	end := len(fp.f.Body)
	for _, k := range fp.kernels {
		for _, in := range k.ins {
			if (in.kind == inArena || in.kind == inParam) && in.last < k.at {
				in.last = k.at
			}
		}
	}
	for _, r := range fp.f.Results {
		if vp := fp.vals[r]; vp.kind == inArena || vp.kind == inState || vp.kind == inParam {
			vp.last = end
		}
	}
	for _, u := range fp.f.Updates {
		if vp := fp.vals[u.Value]; vp.kind == inArena || vp.kind == inState {
			vp.last = end
		}
	}
}

// planTrain checks train_step's signature and plans its updates.
func (g *gen) planTrain() error {
	fp := g.train
	tf := fp.f
	end := len(tf.Body)
	if len(tf.Params) != 2 {
		return fmt.Errorf("func @%s: has %d parameters, want two (x: f32[N, ...], y: f32[N, ...])", tf.Name, len(tf.Params))
	}
	if !tf.Params[0].Type.Equal(g.predict.f.Params[0].Type) {
		return fmt.Errorf("func @%s: parameter 0 has type %s, but @%s's has %s", tf.Name, tf.Params[0].Type, predictFunc, g.predict.f.Params[0].Type)
	}
	var err error
	if g.targetSize, err = perSample(tf, "parameter 1", tf.Params[1].Type); err != nil {
		return err
	}
	loss, probs := 0, 1
	if len(tf.ResultNames) == len(tf.Results) {
		for i, n := range tf.ResultNames {
			switch n {
			case "loss":
				loss = i
			case "probs":
				probs = i
			}
		}
	}
	if len(tf.Results) < 1 || len(tf.Results) > 2 || loss == probs {
		return fmt.Errorf("func @%s: has %d results, want (loss: f32[]) or (loss: f32[], probs: f32[N, ...])", tf.Name, len(tf.Results))
	}
	if lt := tf.Results[loss].Type; lt.DType != ir.F32 || len(lt.Shape) != 0 {
		return fmt.Errorf("func @%s: the loss (result %d) has type %s, want f32[]", tf.Name, loss, lt)
	}
	fp.loss = fp.vals[tf.Results[loss]]
	if len(tf.Results) == 2 {
		pt := tf.Results[probs].Type
		if g.trainOutSize, err = perSample(tf, "result "+strconv.Itoa(probs), pt); err != nil {
			return err
		}
		fp.probs = fp.vals[tf.Results[probs]]
		fp.probs.persist = fp.probs.kind == inArena
		switch fp.probs.kind {
		case inWeight: // cannot happen for [N, ...], kept for safety
			fp.probsStage = fp.probs.w
		case inParam: // y itself: TrainOutput outlives the caller's slice
			fp.probsParam = fp.probs
		}
		if fp.probsStage != nil || fp.probsParam != nil {
			fp.probsSlot = fp.newBuf(tf.Results[probs], "probs", pt, end)
			fp.probsSlot.persist = true
		}
	}
	for i, u := range tf.Updates {
		up := updatePlan{target: g.byName[u.Weight], src: fp.vals[u.Value], field: "trainUpdate" + strconv.Itoa(i)}
		if up.src.kind == inState && up.src.w == up.target {
			continue // the kernels wrote the new value in place
		}
		if up.src.kind == inWeight {
			if up.src.w == up.target {
				continue // the state keeps its value
			}
			// Reads must see the old state: stage the other weight's
			// value before any update writes.
			up.stage = up.src.w
			up.slot = fp.newBuf(u.Value, "update"+strconv.Itoa(i), u.Value.Type, end)
		}
		fp.updates = append(fp.updates, up)
	}
	return nil
}

// describe prints node i of f for a comment: like the IR text, but with
// parameters by position, so that no model-chosen name reaches the code.
func describe(f *ir.Func, i int, v *ir.Value) string {
	name := func(a *ir.Value) string {
		for j, p := range f.Params {
			if p == a {
				return "%arg" + strconv.Itoa(j)
			}
		}
		for j, b := range f.Body {
			if b == a {
				return "%" + strconv.Itoa(j)
			}
		}
		return "%?"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%%%d = %s", i, v.Op)
	for j, a := range v.Args {
		if j == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteString(", ")
		}
		b.WriteString(name(a))
	}
	if len(v.Attrs) > 0 {
		b.WriteString(" {")
		for j, k := range v.Attrs.Keys() {
			if j > 0 {
				b.WriteString(", ")
			}
			// Keys are the op table's attribute names (the verifier
			// rejects others); string values print quoted.
			fmt.Fprintf(&b, "%s=%s", k, ir.FormatAttr(v.Attrs[k]))
		}
		b.WriteByte('}')
	}
	fmt.Fprintf(&b, " : %s", v.Type)
	return b.String()
}
