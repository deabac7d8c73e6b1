package passes

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/dlc-project/dlc/ir"
)

// A generator of random well-typed modules over the op table, for the
// differential test of the pipeline (differential_test.go). Every value it
// makes carries a bound on its elements, computed by interval arithmetic
// with the batch symbol N at rgN, so that the generator can keep every
// value finite: exp is only taken of bounded values, log and sqrt only of
// values bounded away from 0 from above (exp(tanh x), sigmoid(x)+c), a
// divisor is bounded away from 0, and a value that grows too large is
// squashed by tanh before it is used by an op that would grow it further.
// Inputs are drawn inside the bounds the generator assumed for them: floats
// in [-1, 1], integers whole in [-4, 4] ([0, 8] for u8), bools 0 or 1.

// rgN is the size the tests bind the batch symbol N to.
const rgN = 3

// rgCap bounds the magnitude of every generated value.
const rgCap = 1e4

// rgNotGenerated lists the ops of the op table the generator never makes,
// and why. TestRandGraphCoversOps fails for any other op the fixed-seed
// graphs do not contain, so that a new op gets generated (or listed here).
var rgNotGenerated = map[string]string{
	"fused":   "made by the fusion passes from the other ops, never an input to the pipeline",
	"extract": "takes apart the tuple of a fused node, which only the fusion passes make",
}

// rgOptions say what kind of module to generate.
type rgOptions struct {
	dtype  ir.DType // the float dtype of most values
	steps  int      // ops to generate per function, roughly
	smooth bool     // only ops differentiable everywhere, no casts: for finite differences
	train  bool     // one function, train_step, with trainable weights and a scalar loss
}

// rgBound says every element of a value lies in [lo, hi].
type rgBound struct{ lo, hi float64 }

func (b rgBound) abs() float64 { return math.Max(math.Abs(b.lo), math.Abs(b.hi)) }

func rgUnion(a, b rgBound) rgBound { return rgBound{math.Min(a.lo, b.lo), math.Max(a.hi, b.hi)} }

// rgGen holds the state of one module's generation.
type rgGen struct {
	r      *rand.Rand
	m      *ir.Module
	b      *ir.Builder
	opts   rgOptions
	pool   []*ir.Value // values of the current function, in order
	bound  map[*ir.Value]rgBound
	dep    map[*ir.Value]bool // depends on a trainable weight
	params int
	hasN   bool // a parameter of the current function has the dim N, which binds it
}

// rgGenerate returns a random module. It panics on a generator bug (a
// node the builder rejects), naming the node.
func rgGenerate(r *rand.Rand, opts rgOptions) *ir.Module {
	g := &rgGen{r: r, m: &ir.Module{Name: "rand"}, opts: opts, bound: map[*ir.Value]rgBound{}, dep: map[*ir.Value]bool{}}
	if opts.train {
		g.function(TrainStep)
		return g.m
	}
	g.function("f")
	if r.IntN(5) == 0 {
		g.function("g")
	}
	return g.m
}

func (g *rgGen) coin(p float64) bool { return g.r.Float64() < p }

// function generates one function of the module.
func (g *rgGen) function(name string) {
	g.b = ir.NewFunc(g.m, name)
	g.pool = nil
	g.params = 0
	// Start from one or two parameters, so that most graphs depend on
	// input. Shapes with N appear only when the first has N: the
	// interpreter learns N's size from the inputs.
	g.hasN = g.coin(0.75)
	for i := 0; i < 1+g.r.IntN(2); i++ {
		s := g.randShape(true)
		if i == 0 && g.hasN {
			s = append(ir.Shape{ir.S("N")}, s[min(1, len(s)):]...)
		}
		g.leaf(ir.Type{DType: g.opts.dtype, Shape: s}, "param")
	}
	if g.opts.train {
		// Weights from the start, so that the loss depends on them
		// through many ops, not only the last few.
		for i := 0; i < 1+g.r.IntN(2); i++ {
			g.leaf(ir.Type{DType: g.opts.dtype, Shape: g.randShape(false)}, "weight")
		}
	}
	for i := 0; i < g.opts.steps; i++ {
		g.step()
	}
	if g.opts.train {
		g.finishTrain()
		return
	}
	g.finish()
}

// finish returns the last value and up to two others, and makes up to two
// state updates.
func (g *rgGen) finish() {
	last := g.pool[len(g.pool)-1]
	results := []*ir.Value{last}
	for i := 0; i < g.r.IntN(3); i++ {
		results = append(results, g.pool[g.r.IntN(len(g.pool))])
	}
	var names []string
	if g.coin(0.3) {
		for i := range results {
			names = append(names, fmt.Sprintf("out%d", i))
		}
	}
	g.b.Return(names, results...)
	for i := 0; i < g.r.IntN(3); i++ {
		v := g.pool[g.r.IntN(len(g.pool))]
		if !v.Type.Shape.IsStatic() {
			continue
		}
		name := fmt.Sprintf("%s/state%d", g.b.Fn.Name, i)
		g.addWeight(name, v.Type, false)
		g.b.Update(name, v)
	}
}

// finishTrain makes the loss, the sum of a value that depends on a
// trainable weight, and returns it first, named "loss".
func (g *rgGen) finishTrain() {
	var out *ir.Value
	for i := len(g.pool) - 1; i >= 0; i-- {
		if v := g.pool[i]; v.Type.DType == g.opts.dtype && g.dep[v] && v.Op != ir.OpParam {
			out = v
			break
		}
	}
	if out == nil {
		x := g.pickFloat()
		w := g.leaf(ir.Type{DType: g.opts.dtype, Shape: g.partnerShape(x.Type.Shape, true)}, "weight")
		out = g.arith(ir.OpMul, g.squash(x), g.squash(w))
	}
	axes := make([]int64, len(out.Type.Shape))
	for i := range axes {
		axes[i] = int64(i)
	}
	loss := g.emit(ir.OpReduceSum, ir.Attrs{"axes": axes}, g.reduceBound(ir.OpReduceSum, out, len(axes) == 0, rgCount(out.Type.Shape)), out)
	results, names := []*ir.Value{loss}, []string{"loss"}
	if g.coin(0.5) {
		results = append(results, g.pool[g.r.IntN(len(g.pool))])
		names = append(names, "out")
	}
	g.b.Return(names, results...)
}

// emit appends a node and records its bound.
func (g *rgGen) emit(op string, attrs ir.Attrs, bnd rgBound, args ...*ir.Value) *ir.Value {
	v := g.b.Op(op, attrs, args...)
	return g.record(v, bnd, args)
}

func (g *rgGen) record(v *ir.Value, bnd rgBound, args []*ir.Value) *ir.Value {
	if err := g.b.Err(); err != nil {
		panic(fmt.Sprintf("randgraph: generator bug: %v\n%s", err, g.m))
	}
	// i8 and u8 arithmetic wraps around soon: a bound beyond the range
	// becomes the whole range.
	switch dt := v.Type.DType; {
	case dt == ir.U8 && (bnd.lo < 0 || bnd.hi > 255):
		bnd = rgBound{0, 255}
	case dt == ir.I8 && (bnd.lo < -128 || bnd.hi > 127):
		bnd = rgBound{-128, 127}
	}
	g.bound[v] = bnd
	for _, a := range args {
		g.dep[v] = g.dep[v] || g.dep[a]
	}
	g.pool = append(g.pool, v)
	return v
}

// rgConcrete resolves a shape with N = rgN.
func rgConcrete(s ir.Shape) []int {
	out, _ := s.Resolve(map[string]int{"N": rgN})
	return out
}

func rgCount(s ir.Shape) int {
	n := 1
	for _, d := range rgConcrete(s) {
		n *= d
	}
	return n
}

// randDim returns a dim for a new shape: small constants, sometimes N.
func (g *rgGen) randDim(sym bool) ir.Dim {
	if sym && g.hasN && g.coin(0.25) {
		return ir.S("N")
	}
	return ir.C(int64(1 + g.r.IntN(4)))
}

// randShape returns a shape of rank 0 to 3; N, when sym allows it, first.
func (g *rgGen) randShape(sym bool) ir.Shape {
	rank := g.r.IntN(4)
	if rank == 0 && g.coin(0.6) {
		rank = 2 // scalars are common enough as splats and sizes
	}
	s := make(ir.Shape, rank)
	for i := range s {
		s[i] = g.randDim(false)
	}
	if sym && g.hasN && rank > 0 && g.coin(0.6) {
		s[0] = ir.S("N")
	}
	return s
}

// partnerShape returns a shape that broadcasts with s to s: some dims 1,
// some leading dims dropped; static when asked (a weight, a dense
// constant), N becoming 1.
func (g *rgGen) partnerShape(s ir.Shape, static bool) ir.Shape {
	out := s.Clone()
	if len(out) > 0 && g.coin(0.25) {
		out = out[g.r.IntN(len(out)+1):]
	}
	for i, d := range out {
		if g.coin(0.25) || (static && !d.IsConst()) {
			out[i] = ir.C(1)
		}
	}
	return out
}

// leaf makes a leaf of type t: kind is "param", "weight", "const" or ""
// for a random choice among those t allows.
func (g *rgGen) leaf(t ir.Type, kind string) *ir.Value {
	static := t.Shape.IsStatic()
	if kind == "" {
		kinds := []string{"param", "const"}
		if static && t.DType != ir.Bool {
			kinds = append(kinds, "weight", "weight")
			if g.opts.train {
				kinds = append(kinds, "weight", "weight")
			}
		}
		kind = kinds[g.r.IntN(len(kinds))]
	}
	if kind == "weight" && (!static || t.DType == ir.Bool) {
		kind = "param"
	}
	switch kind {
	case "param":
		g.params++
		p := g.b.Param(fmt.Sprintf("p%d", g.params), t)
		return g.record(p, g.inputBound(t.DType), nil)
	case "weight":
		// Reuse a weight of this type now and then: reads of one weight in
		// two places, or in two functions.
		for _, w := range g.m.Weights {
			if w.Type.Equal(t) && w.Data != nil && g.coin(0.3) && (w.Trainable || !g.opts.train) {
				return g.weightRead(w.Name)
			}
		}
		// Only float weights are trainable: a gradient is a float.
		name := fmt.Sprintf("w%d", len(g.m.Weights))
		g.addWeight(name, t, t.DType.IsFloat() && (g.opts.train || g.coin(0.5)))
		return g.weightRead(name)
	}
	vals := []float64{g.constValue(t.DType)}
	if static && g.coin(0.6) {
		vals = make([]float64, rgCount(t.Shape))
		for i := range vals {
			vals[i] = g.constValue(t.DType)
		}
	}
	c := g.b.Const(t, vals...)
	return g.record(c, rgSpan(t.DType, vals), nil)
}

func (g *rgGen) weightRead(name string) *ir.Value {
	v := g.b.Weight(name)
	w := g.m.Weight(name)
	g.record(v, rgSpan(w.Type.DType, w.Data), nil)
	g.dep[v] = w.Trainable
	return v
}

// addWeight adds a weight holding random data within the input bounds.
func (g *rgGen) addWeight(name string, t ir.Type, trainable bool) {
	data := make([]float64, rgCount(t.Shape))
	for i := range data {
		data[i] = rgRound(t.DType, g.inputValue(t.DType))
	}
	if err := g.m.AddWeight(&ir.Weight{Name: name, Type: t, Trainable: trainable, Data: data}); err != nil {
		panic("randgraph: " + err.Error())
	}
}

// rgSpan is the bound of a list of values (as dtype dt holds them).
func rgSpan(dt ir.DType, vals []float64) rgBound {
	b := rgBound{math.Inf(1), math.Inf(-1)}
	for _, x := range vals {
		x = rgRound(dt, x)
		b = rgBound{math.Min(b.lo, x), math.Max(b.hi, x)}
	}
	if len(vals) == 0 {
		return rgBound{}
	}
	return b
}

func rgRound(dt ir.DType, x float64) float64 {
	if dt == ir.F32 {
		return float64(float32(x))
	}
	return x
}

func (g *rgGen) inputBound(dt ir.DType) rgBound {
	switch {
	case dt == ir.Bool:
		return rgBound{0, 1}
	case dt == ir.U8:
		return rgBound{0, 8}
	case dt.IsInt():
		return rgBound{-4, 4}
	}
	return rgBound{-1, 1}
}

// inputValue draws one element of an input or weight within inputBound.
func (g *rgGen) inputValue(dt ir.DType) float64 {
	return rgInputValue(g.r, dt)
}

func rgInputValue(r *rand.Rand, dt ir.DType) float64 {
	switch {
	case dt == ir.Bool:
		return float64(r.IntN(2))
	case dt == ir.U8:
		return float64(r.IntN(9))
	case dt.IsInt():
		return float64(r.IntN(9) - 4)
	}
	return r.Float64()*2 - 1
}

// constValue draws a constant element: often one of the values the
// simplification rules look for.
func (g *rgGen) constValue(dt ir.DType) float64 {
	if dt == ir.Bool {
		return float64(g.r.IntN(2))
	}
	if dt == ir.U8 {
		return float64(g.r.IntN(9))
	}
	if g.coin(0.4) {
		special := []float64{0, 1, -1, 2, -4}
		if dt.IsFloat() {
			special = append(special, 0.5, 0.25, math.Copysign(0, -1), 0.1, 3)
		}
		return special[g.r.IntN(len(special))]
	}
	return g.inputValue(dt)
}

// pick returns a value of the pool satisfying ok, preferring recent ones
// (so that graphs grow deep, not only wide), or nil.
func (g *rgGen) pick(ok func(v *ir.Value) bool) *ir.Value {
	var cands []*ir.Value
	for _, v := range g.pool {
		if !v.Type.IsTuple() && ok(v) {
			cands = append(cands, v)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	if g.opts.train && g.coin(0.5) {
		// Prefer values that depend on a trainable weight: the paths the
		// gradients take.
		var dep []*ir.Value
		for _, v := range cands {
			if g.dep[v] {
				dep = append(dep, v)
			}
		}
		if len(dep) > 0 {
			cands = dep
		}
	}
	if g.coin(0.5) {
		return cands[len(cands)-1-g.r.IntN(min(3, len(cands)))]
	}
	return cands[g.r.IntN(len(cands))]
}

func (g *rgGen) isMain(v *ir.Value) bool { return v.Type.DType == g.opts.dtype }

// pickFloat returns a float value of the pool (mostly of the main dtype),
// making a leaf if there is none.
func (g *rgGen) pickFloat() *ir.Value {
	ok := g.isMain
	if g.coin(0.2) {
		ok = func(v *ir.Value) bool { return v.Type.DType.IsFloat() }
	}
	if v := g.pick(ok); v != nil {
		return v
	}
	return g.leaf(ir.Type{DType: g.opts.dtype, Shape: g.randShape(true)}, "")
}

// pickNumeric returns a float or, now and then, an integer value.
func (g *rgGen) pickNumeric() *ir.Value {
	if !g.opts.smooth && g.coin(0.25) {
		if v := g.pick(func(v *ir.Value) bool { return v.Type.DType.IsInt() }); v != nil {
			return v
		}
	}
	return g.pickFloat()
}

// partner returns a value of dtype dt whose shape broadcasts with s (to a
// rank of at most 4): from the pool, or a new leaf.
func (g *rgGen) partner(s ir.Shape, dt ir.DType) *ir.Value {
	if g.coin(0.6) {
		v := g.pick(func(v *ir.Value) bool {
			if v.Type.DType != dt {
				return false
			}
			bs, err := ir.BroadcastShapes(s, v.Type.Shape)
			return err == nil && len(bs) <= 4
		})
		if v != nil {
			return v
		}
	}
	return g.leaf(ir.Type{DType: dt, Shape: g.partnerShape(s, false)}, "")
}

// squash returns x, or tanh x when x's bound exceeds 1 (for float x).
func (g *rgGen) squash(x *ir.Value) *ir.Value {
	if g.bound[x].abs() <= 1 || !x.Type.DType.IsFloat() {
		return x
	}
	return g.unary(ir.OpTanh, x)
}

// positive returns a float value derived from x whose elements are at
// least 0.3: x itself when it already is, else exp(tanh x), sigmoid(x)+c
// or exp(tanh x)+1.
func (g *rgGen) positive(x *ir.Value) *ir.Value {
	if b := g.bound[x]; b.lo >= 0.3 && b.hi <= 100 {
		return x
	}
	switch g.r.IntN(3) {
	case 0:
		return g.unary(ir.OpExp, g.unary(ir.OpTanh, x))
	case 1:
		return g.arith(ir.OpAdd, g.unary(ir.OpSigmoid, x), g.scalar(x.Type.DType, 0.5))
	}
	return g.arith(ir.OpAdd, g.unary(ir.OpExp, g.unary(ir.OpTanh, x)), g.scalar(x.Type.DType, 1))
}

// nonzero returns a divisor derived from x: bounded away from 0, of
// either sign.
func (g *rgGen) nonzero(x *ir.Value) *ir.Value {
	if x.Type.DType.IsInt() {
		// An integer divisor: a constant from {1, 2, 3, -2} or a size.
		if g.coin(0.3) {
			return g.emit(ir.OpSize, ir.Attrs{"axes": []int64{}, "dtype": x.Type.DType}, rgBound{1, 1}, x)
		}
		vals := []float64{1, 2, 3, -2}
		if x.Type.DType == ir.U8 {
			vals[3] = 4
		}
		v := vals[g.r.IntN(4)]
		return g.record(g.b.Const(ir.Type{DType: x.Type.DType, Shape: g.partnerShape(x.Type.Shape, true)}, v), rgBound{v, v}, nil)
	}
	if b := g.bound[x]; b.hi <= -0.3 && b.lo >= -100 {
		return x
	}
	p := g.positive(x)
	if g.coin(0.3) {
		return g.unary(ir.OpNeg, p)
	}
	return p
}

func (g *rgGen) scalar(dt ir.DType, v float64) *ir.Value {
	return g.record(g.b.Scalar(dt, v), rgBound{v, v}, nil)
}

// unary emits op(x) with its bound; x must suit op (the callers see to it).
func (g *rgGen) unary(op string, x *ir.Value) *ir.Value {
	b := g.bound[x]
	var r rgBound
	switch op {
	case ir.OpNeg:
		r = rgBound{-b.hi, -b.lo}
	case ir.OpExp:
		r = rgBound{math.Exp(b.lo), math.Exp(b.hi)}
	case ir.OpLog:
		r = rgBound{math.Log(b.lo), math.Log(b.hi)}
	case ir.OpSqrt:
		r = rgBound{math.Sqrt(b.lo), math.Sqrt(b.hi)}
	case ir.OpRelu:
		r = rgBound{math.Max(b.lo, 0), math.Max(b.hi, 0)}
	case ir.OpSigmoid:
		r = rgBound{0, 1}
	case ir.OpTanh, ir.OpCos, ir.OpSin:
		r = rgBound{-1, 1}
	case ir.OpFloor:
		r = rgBound{math.Floor(b.lo), math.Floor(b.hi)}
	default:
		panic("randgraph: unary " + op)
	}
	return g.emit(op, nil, r, x)
}

// arithBound is the bound of x op y by interval arithmetic.
func arithBound(op string, a, b rgBound) rgBound {
	switch op {
	case ir.OpAdd:
		return rgBound{a.lo + b.lo, a.hi + b.hi}
	case ir.OpSub:
		return rgBound{a.lo - b.hi, a.hi - b.lo}
	case ir.OpMul:
		p := []float64{a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi}
		return rgBound{slices.Min(p), slices.Max(p)}
	case ir.OpDiv: // b does not contain 0
		p := []float64{a.lo / b.lo, a.lo / b.hi, a.hi / b.lo, a.hi / b.hi}
		return rgBound{slices.Min(p), slices.Max(p)}
	}
	panic("randgraph: arith " + op)
}

// arith emits x op y, squashing the operands first when the result could
// grow beyond rgCap. For div, y must already be bounded away from 0.
func (g *rgGen) arith(op string, x, y *ir.Value) *ir.Value {
	b := arithBound(op, g.bound[x], g.bound[y])
	if b.abs() > rgCap && x.Type.DType.IsFloat() {
		x = g.squash(x)
		if op != ir.OpDiv {
			y = g.squash(y)
		}
		b = arithBound(op, g.bound[x], g.bound[y])
	}
	if x.Type.DType.IsInt() {
		// Integer division truncates toward zero: within the real bound.
		if op == ir.OpDiv {
			b = rgBound{math.Min(b.lo, 0), math.Max(b.hi, 0)}
		}
		if b.abs() > 1e6 { // keep integers far from wrapping around
			return x
		}
	}
	return g.emit(op, nil, b, x, y)
}

// step generates one op (or a small pattern of ops).
func (g *rgGen) step() {
	type choice struct {
		weight int
		fn     func()
	}
	choices := []choice{
		{6, g.genUnary}, {8, g.genBinary}, {3, g.genMatMul}, {3, g.genReduce}, {2, g.genRowwise},
		{2, g.genReshape}, {2, g.genTranspose}, {2, g.genBroadcast}, {1, g.genSize}, {1, g.genLeaf},
		{5, g.genPattern}, {6, g.genElem}, {5, g.genIndex},
	}
	if !g.opts.smooth {
		choices = append(choices, choice{3, g.genSelect}, choice{2, g.genCast})
	}
	total := 0
	for _, c := range choices {
		total += c.weight
	}
	k := g.r.IntN(total)
	for _, c := range choices {
		if k < c.weight {
			c.fn()
			return
		}
		k -= c.weight
	}
}

func (g *rgGen) genLeaf() {
	g.leaf(ir.Type{DType: g.opts.dtype, Shape: g.randShape(true)}, "")
}

func (g *rgGen) genUnary() {
	ops := []string{ir.OpNeg, ir.OpExp, ir.OpLog, ir.OpSqrt, ir.OpSigmoid, ir.OpTanh, ir.OpCos, ir.OpSin}
	if !g.opts.smooth {
		ops = append(ops, ir.OpRelu, ir.OpFloor)
	}
	op := ops[g.r.IntN(len(ops))]
	if op == ir.OpNeg || op == ir.OpRelu {
		g.unary(op, g.pickNumeric())
		return
	}
	if op == ir.OpFloor {
		// Discontinuous (as a cast to an integer): only of a parameter,
		// which no pass changes, so that no last-bit difference flips it.
		g.unary(op, g.leaf(ir.Type{DType: g.opts.dtype, Shape: g.randShape(true)}, "param"))
		return
	}
	x := g.pickFloat()
	switch op {
	case ir.OpExp:
		if g.bound[x].hi > 3 {
			x = g.unary(ir.OpTanh, x)
		}
	case ir.OpLog, ir.OpSqrt:
		x = g.positive(x)
	}
	g.unary(op, x)
}

func (g *rgGen) genBinary() {
	ops := []string{ir.OpAdd, ir.OpSub, ir.OpMul, ir.OpDiv}
	op := ops[g.r.IntN(len(ops))]
	x := g.pickNumeric()
	y := g.partner(x.Type.Shape, x.Type.DType)
	if op == ir.OpDiv {
		y = g.nonzero(y)
	}
	if g.coin(0.5) && op != ir.OpDiv {
		x, y = y, x
	}
	g.arith(op, x, y)
}

// genSelect emits a comparison and a select on it.
func (g *rgGen) genSelect() {
	var c *ir.Value
	a := g.pickNumeric()
	b := g.partner(a.Type.Shape, a.Type.DType)
	switch g.r.IntN(6) {
	case 0: // a bool leaf: a parameter or a constant (a splat now and then)
		c = g.leaf(ir.Type{DType: ir.Bool, Shape: g.partnerShape(a.Type.Shape, false)}, "")
	default:
		ops := []string{ir.OpGreater, ir.OpGreaterEqual, ir.OpLess, ir.OpLessEqual, ir.OpEqual}
		c = g.emit(ops[g.r.IntN(len(ops))], nil, rgBound{0, 1}, a, b)
	}
	x, y := a, b
	if g.coin(0.4) {
		x = g.partner(c.Type.Shape, a.Type.DType)
		y = g.partner(c.Type.Shape, a.Type.DType)
		if _, err := ir.InferType(ir.OpSelect, []*ir.Value{c, x, y}, nil, nil); err != nil {
			x, y = a, b
		}
	}
	if t, err := ir.InferType(ir.OpSelect, []*ir.Value{c, x, y}, nil, nil); err != nil || len(t.Shape) > 4 {
		return
	}
	g.emit(ir.OpSelect, nil, rgUnion(g.bound[x], g.bound[y]), c, x, y)
}

// genCast converts between dtypes, never from a float to an integer or a
// bool: that conversion is discontinuous, and a pass that changed a value
// in its last bit could flip it.
func (g *rgGen) genCast() {
	x := g.pick(func(v *ir.Value) bool { return true })
	if x == nil {
		return
	}
	from := x.Type.DType
	var to []ir.DType
	switch {
	case from.IsFloat():
		if !g.opts.train { // train_step stays F32: the optimizer's state is F32
			to = []ir.DType{ir.F32, ir.F64}
		}
		to = append(to, from)
	case from == ir.Bool:
		to = []ir.DType{g.opts.dtype, ir.I32, ir.I64, ir.Bool}
	default:
		to = []ir.DType{g.opts.dtype, ir.I32, ir.I64, ir.I8, ir.U8, from}
	}
	dt := to[g.r.IntN(len(to))]
	b := g.bound[x]
	switch dt {
	case ir.I8:
		b = rgUnion(b, rgBound{-128, 127}) // may wrap around
	case ir.U8:
		b = rgUnion(b, rgBound{0, 255})
	}
	if from == ir.Bool && dt == ir.Bool {
		b = rgBound{0, 1}
	}
	g.emit(ir.OpCast, ir.Attrs{"to": dt}, b, x)
}

func (g *rgGen) genMatMul() {
	a := g.pick(func(v *ir.Value) bool {
		return v.Type.DType.IsFloat() && len(v.Type.Shape) >= 2 && len(v.Type.Shape) <= 4
	})
	if a == nil {
		s := ir.Shape{g.randDim(true), g.randDim(false)}
		if g.coin(0.3) {
			s = append(ir.Shape{g.randDim(false)}, s...)
		}
		a = g.leaf(ir.Type{DType: g.opts.dtype, Shape: s}, "")
	}
	ta, tb := g.coin(0.3), g.coin(0.3)
	r := len(a.Type.Shape)
	k := a.Type.Shape[r-1]
	if ta {
		k = a.Type.Shape[r-2]
	}
	n := g.randDim(false)
	batch := a.Type.Shape[:r-2]
	switch g.r.IntN(3) {
	case 0:
		batch = nil
	case 1:
		batch = g.partnerShape(batch, false)
	}
	bs := append(batch.Clone(), k, n)
	if tb {
		bs = append(batch.Clone(), n, k)
	}
	bt := ir.Type{DType: a.Type.DType, Shape: bs}
	b := g.pick(func(v *ir.Value) bool { return v.Type.Equal(bt) })
	if b == nil || g.coin(0.3) {
		b = g.leaf(bt, "")
	}
	kk := float64(rgConcrete(ir.Shape{k})[0])
	if kk*g.bound[a].abs()*g.bound[b].abs() > rgCap {
		a, b = g.squash(a), g.squash(b)
	}
	m := kk * g.bound[a].abs() * g.bound[b].abs()
	attrs := ir.Attrs{}
	if ta {
		attrs["transpose_a"] = true
	}
	if tb {
		attrs["transpose_b"] = true
	} else if g.coin(0.1) {
		attrs["transpose_b"] = false // spelled out, yet the default
	}
	if len(attrs) == 0 {
		attrs = nil
	}
	g.emit(ir.OpMatMul, attrs, rgBound{-m, m}, a, b)
}

// randAxes returns a random non-empty subset of the axes of rank r (some
// written negative), or, rarely, none.
func (g *rgGen) randAxes(r int) []int64 {
	var axes []int64
	for i := 0; i < r; i++ {
		if g.coin(0.5) {
			ax := int64(i)
			if g.coin(0.3) {
				ax -= int64(r)
			}
			axes = append(axes, ax)
		}
	}
	if len(axes) == 0 && r > 0 && g.coin(0.8) {
		axes = []int64{int64(g.r.IntN(r))}
	}
	g.r.Shuffle(len(axes), func(i, j int) { axes[i], axes[j] = axes[j], axes[i] })
	if axes == nil {
		axes = []int64{}
	}
	return axes
}

// reduceBound is the bound of a reduction of x over count elements.
func (g *rgGen) reduceBound(op string, x *ir.Value, none bool, count int) rgBound {
	b := g.bound[x]
	if op == ir.OpReduceSum && !none {
		c := float64(count)
		return rgBound{math.Min(c*b.lo, b.lo), math.Max(c*b.hi, b.hi)}
	}
	return b
}

func (g *rgGen) genReduce() {
	ops := []string{ir.OpReduceSum, ir.OpReduceMean}
	if !g.opts.smooth {
		ops = append(ops, ir.OpReduceMax)
	}
	op := ops[g.r.IntN(len(ops))]
	x := g.pick(func(v *ir.Value) bool { return v.Type.DType != ir.Bool && len(v.Type.Shape) > 0 })
	if x == nil || (g.opts.smooth && !x.Type.DType.IsFloat()) {
		x = g.pickFloat()
	}
	axes := g.randAxes(len(x.Type.Shape))
	norm, _ := ir.NormalizeAxes(axes, len(x.Type.Shape))
	count := 1
	dims := rgConcrete(x.Type.Shape)
	for _, ax := range norm {
		count *= dims[ax]
	}
	if op == ir.OpReduceSum && float64(count)*g.bound[x].abs() > rgCap {
		x = g.squash(x)
	}
	attrs := ir.Attrs{"axes": axes}
	if g.coin(0.5) {
		attrs["keepdims"] = g.coin(0.7)
	}
	g.emit(op, attrs, g.reduceBound(op, x, len(norm) == 0, count), x)
}

func (g *rgGen) genRowwise() {
	x := g.pick(func(v *ir.Value) bool { return v.Type.DType.IsFloat() && len(v.Type.Shape) > 0 })
	if x == nil {
		return
	}
	r := len(x.Type.Shape)
	ax := int64(g.r.IntN(2*r) - r)
	if g.coin(0.5) {
		g.emit(ir.OpSoftmax, ir.Attrs{"axis": ax}, rgBound{0, 1}, x)
		return
	}
	n := float64(rgConcrete(x.Type.Shape)[(int(ax)+r)%r])
	b := g.bound[x]
	g.emit(ir.OpLogSoftmax, ir.Attrs{"axis": ax}, rgBound{-(b.hi - b.lo) - math.Log(n) - 1e-9, 0}, x)
}

// randReshape returns another shape with x's elements: the static count
// factored into random dims, the symbols placed anywhere.
func (g *rgGen) randReshape(s ir.Shape) ir.Shape {
	n, syms := s.NumElements()
	var factors []int64
	for p := int64(2); n > 1; {
		if n%p == 0 {
			factors = append(factors, p)
			n /= p
			continue
		}
		p++
	}
	g.r.Shuffle(len(factors), func(i, j int) { factors[i], factors[j] = factors[j], factors[i] })
	var out ir.Shape
	for i := 0; i < len(factors); {
		j := i + 1 + g.r.IntN(len(factors)-i)
		d := int64(1)
		for _, f := range factors[i:j] {
			d *= f
		}
		out = append(out, ir.C(d))
		i = j
	}
	for _, sym := range syms {
		at := g.r.IntN(len(out) + 1)
		out = slices.Insert(out, at, ir.S(sym))
	}
	for len(out) < 4 && g.coin(0.2) {
		out = slices.Insert(out, g.r.IntN(len(out)+1), ir.C(1))
	}
	return out
}

func (g *rgGen) genReshape() {
	x := g.pick(func(v *ir.Value) bool { return true })
	if x == nil {
		return
	}
	s := g.randReshape(x.Type.Shape)
	if len(s) > 4 {
		return
	}
	g.emit(ir.OpReshape, ir.Attrs{"shape": s}, g.bound[x], x)
}

func (g *rgGen) randPerm(r int) []int64 {
	p := make([]int64, r)
	for i := range p {
		p[i] = int64(i)
	}
	g.r.Shuffle(r, func(i, j int) { p[i], p[j] = p[j], p[i] })
	return p
}

func (g *rgGen) genTranspose() {
	x := g.pick(func(v *ir.Value) bool { return len(v.Type.Shape) >= 2 })
	if x == nil {
		return
	}
	g.emit(ir.OpTranspose, ir.Attrs{"perm": g.randPerm(len(x.Type.Shape))}, g.bound[x], x)
}

// randBroadcast returns a shape s broadcasts to: 1-dims stretched, a
// leading dim added now and then.
func (g *rgGen) randBroadcast(s ir.Shape) ir.Shape {
	out := s.Clone()
	for i, d := range out {
		if d == ir.C(1) && g.coin(0.6) {
			out[i] = g.randDim(true)
		}
	}
	if len(out) < 4 && g.coin(0.4) {
		out = append(ir.Shape{g.randDim(true)}, out...)
	}
	return out
}

func (g *rgGen) genBroadcast() {
	x := g.pick(func(v *ir.Value) bool { return len(v.Type.Shape) < 4 })
	if x == nil {
		return
	}
	g.emit(ir.OpBroadcast, ir.Attrs{"shape": g.randBroadcast(x.Type.Shape)}, g.bound[x], x)
}

func (g *rgGen) genSize() {
	x := g.pick(func(v *ir.Value) bool { return true })
	if x == nil {
		return
	}
	axes := g.randAxes(len(x.Type.Shape))
	norm, _ := ir.NormalizeAxes(axes, len(x.Type.Shape))
	dims := rgConcrete(x.Type.Shape)
	c := 1
	for _, ax := range norm {
		c *= dims[ax]
	}
	dt := g.opts.dtype
	if !g.opts.smooth && g.coin(0.3) {
		dt = ir.I32
	}
	g.emit(ir.OpSize, ir.Attrs{"axes": axes, "dtype": dt}, rgBound{float64(c), float64(c)}, x)
}

// genPattern emits one of the shapes the simplification rules and CSE look
// for, or one that they must leave alone.
func (g *rgGen) genPattern() {
	x := g.pickNumeric()
	dt := x.Type.DType
	b := g.bound[x]
	splat := func(v float64) *ir.Value {
		t := ir.Type{DType: dt, Shape: g.partnerShape(x.Type.Shape, false)}
		if g.coin(0.5) {
			t.Shape = ir.Shape{}
		}
		vals := []float64{v}
		if t.Shape.IsStatic() && g.coin(0.3) {
			vals = make([]float64, rgCount(t.Shape))
			for i := range vals {
				vals[i] = v
			}
		}
		return g.record(g.b.Const(t, vals...), rgBound{v, v}, nil)
	}
	swap := func(p, q *ir.Value) (*ir.Value, *ir.Value) {
		if g.coin(0.5) {
			return q, p
		}
		return p, q
	}
	switch g.r.IntN(16) {
	case 0: // x * 1
		p, q := swap(x, splat(1))
		g.emit(ir.OpMul, nil, b, p, q)
	case 1: // x + ±0, x - ±0, ±0 - x
		z := splat(0)
		if dt.IsFloat() && g.coin(0.5) {
			z = splat(math.Copysign(0, -1))
		}
		switch g.r.IntN(3) {
		case 0:
			p, q := swap(x, z)
			g.emit(ir.OpAdd, nil, b, p, q)
		case 1:
			g.emit(ir.OpSub, nil, b, x, z)
		default:
			g.emit(ir.OpSub, nil, rgBound{-b.hi, -b.lo}, z, x)
		}
	case 2: // x / 1, x / a power of two (or not), x * -1
		vals := []float64{1, 2, -0.5, 4, 3, 0.1, -1}
		if dt.IsInt() {
			vals = []float64{1, 2, 3}
		}
		c := splat(vals[g.r.IntN(len(vals))])
		g.arith(ir.OpDiv, x, c)
	case 3: // x * -1
		if dt == ir.U8 {
			return
		}
		p, q := swap(x, splat(-1))
		g.emit(ir.OpMul, nil, rgBound{-b.hi, -b.lo}, p, q)
	case 4: // neg neg x
		g.unary(ir.OpNeg, g.unary(ir.OpNeg, x))
	case 5: // x + neg y, x - neg y
		y := g.unary(ir.OpNeg, g.partner(x.Type.Shape, dt))
		op := ir.OpAdd
		if g.coin(0.5) {
			op = ir.OpSub
		}
		p, q := x, y
		if op == ir.OpAdd {
			p, q = swap(x, y)
		}
		g.arith(op, p, q)
	case 6: // transpose of transpose, sometimes back to the identity
		r := len(x.Type.Shape)
		p := g.randPerm(r)
		t := g.emit(ir.OpTranspose, ir.Attrs{"perm": p}, b, x)
		q := g.randPerm(r)
		if g.coin(0.5) {
			for i, pi := range p {
				q[pi] = int64(i)
			}
		}
		g.emit(ir.OpTranspose, ir.Attrs{"perm": q}, b, t)
	case 7: // reshape of reshape, reshape to the same shape
		y := g.emit(ir.OpReshape, ir.Attrs{"shape": g.randReshape(x.Type.Shape)}, b, x)
		s := x.Type.Shape
		if g.coin(0.6) {
			s = g.randReshape(s)
		}
		if len(y.Type.Shape) <= 4 && len(s) <= 4 {
			g.emit(ir.OpReshape, ir.Attrs{"shape": s.Clone()}, b, y)
		}
	case 8: // broadcast to the same shape, broadcast of broadcast
		if len(x.Type.Shape) >= 4 {
			return
		}
		y := g.emit(ir.OpBroadcast, ir.Attrs{"shape": x.Type.Shape.Clone()}, b, x)
		if len(y.Type.Shape) < 3 {
			y = g.emit(ir.OpBroadcast, ir.Attrs{"shape": g.randBroadcast(y.Type.Shape)}, b, y)
			g.emit(ir.OpBroadcast, ir.Attrs{"shape": g.randBroadcast(y.Type.Shape)}, b, y)
		}
	case 9: // cast to the same dtype
		g.emit(ir.OpCast, ir.Attrs{"to": dt}, b, x)
	case 10: // select on a splat constant, select of one value
		y := g.partner(x.Type.Shape, dt)
		if g.coin(0.5) {
			y = x
		}
		c := g.record(g.b.Const(ir.Type{DType: ir.Bool, Shape: g.partnerShape(x.Type.Shape, false)}, float64(g.r.IntN(2))), rgBound{0, 1}, nil)
		if g.opts.smooth {
			return
		}
		g.emit(ir.OpSelect, nil, rgUnion(b, g.bound[y]), c, x, y)
	case 11: // a duplicate of an earlier node, commutative operands swapped
		v := g.pick(func(v *ir.Value) bool { return v.Op != ir.OpParam })
		if v == nil {
			return
		}
		args := append([]*ir.Value(nil), v.Args...)
		if cseCommutative[v.Op] && g.coin(0.5) {
			args[0], args[1] = args[1], args[0]
		}
		var d *ir.Value
		switch v.Op {
		case ir.OpConstant:
			d = g.b.Declared(ir.OpConstant, v.Attrs.Clone(), v.Type)
		case ir.OpWeight:
			d = g.b.Weight(v.Attrs.String("name", ""))
		default:
			d = g.b.Op(v.Op, v.Attrs.Clone(), args...)
		}
		g.record(d, g.bound[v], args)
		g.dep[d] = g.dep[v]
	case 12: // a transposed operand of a matmul
		if !dt.IsFloat() || len(x.Type.Shape) < 2 {
			return
		}
		r := len(x.Type.Shape)
		perm := g.randPerm(r)
		if g.coin(0.7) {
			for i := range perm {
				perm[i] = int64(i)
			}
			perm[r-2], perm[r-1] = perm[r-1], perm[r-2]
		}
		t := g.emit(ir.OpTranspose, ir.Attrs{"perm": perm}, b, x)
		// x @ transpose(x) has matching inner dims when the transpose swaps
		// the last two; otherwise multiply t by a fresh operand.
		ts := t.Type.Shape
		y := g.leaf(ir.Type{DType: dt, Shape: ir.Shape{ts[len(ts)-1], g.randDim(false)}}, "")
		x2, y2 := g.squash(t), g.squash(y)
		k := float64(rgConcrete(ts)[len(ts)-1])
		g.emit(ir.OpMatMul, nil, rgBound{-k, k}, x2, y2)
	case 13: // x - x: folded for integers only
		g.emit(ir.OpSub, nil, rgBound{b.lo - b.hi, b.hi - b.lo}, x, x)
	case 14: // a broadcast scalar constant feeding an elementwise op
		c := g.scalar(dt, float64(1+g.r.IntN(3)))
		bc := g.emit(ir.OpBroadcast, ir.Attrs{"shape": x.Type.Shape.Clone()}, g.bound[c], c)
		p, q := swap(x, bc)
		g.arith(ir.OpMul, p, q)
	case 15: // a constant and a weight read twice
		if dt.IsFloat() && x.Type.Shape.IsStatic() {
			w := g.leaf(x.Type, "weight")
			g.weightRead(w.Attrs.String("name", ""))
		}
		v := g.constValue(dt)
		g.scalar(dt, v)
		g.scalar(dt, v)
	}
}
