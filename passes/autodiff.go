package passes

import (
	"fmt"
	"strings"

	"github.com/dlc-project/dlc/ir"
)

// GradRule appends to b the nodes computing the gradients of v's operands
// given g, the gradient of the loss with respect to v. It returns one value
// per operand, nil for an operand that gets no gradient.
type GradRule func(b *ir.Builder, v, g *ir.Value) []*ir.Value

// GradRules holds the gradient rule of every differentiable op.
var GradRules = map[string]GradRule{}

// NotDifferentiable lists the ops with no gradient rule, and why. Leaves
// (constant, weight) are here too: they have no operands.
var NotDifferentiable = map[string]string{
	ir.OpConstant:     "a leaf: no operands",
	ir.OpWeight:       "a leaf: no operands (its gradient is what autodiff returns)",
	ir.OpGreater:      "piecewise constant: zero gradient almost everywhere",
	ir.OpGreaterEqual: "piecewise constant: zero gradient almost everywhere",
	ir.OpLess:         "piecewise constant: zero gradient almost everywhere",
	ir.OpLessEqual:    "piecewise constant: zero gradient almost everywhere",
	ir.OpEqual:        "piecewise constant: zero gradient almost everywhere",
	ir.OpFloor:        "piecewise constant: zero gradient almost everywhere",
	ir.OpSize:         "depends on the operand's shape only",
	ir.OpFused:        "fusion runs after autodiff: the backward graph is made of unfused ops",
	ir.OpExtract:      "fusion runs after autodiff: the backward graph is made of unfused ops",
}

// GradPrefix starts the names of the results that the autodiff pass adds
// to train_step, one per trainable weight: "grad:dense/kernel".
const GradPrefix = "grad:"

// Gradients appends to f the reverse-mode derivative of the scalar loss
// with respect to each of wrt (values of f) and returns the gradient values,
// of the same types as wrt. A value that loss does not depend on gets a
// zero gradient.
func Gradients(m *ir.Module, f *ir.Func, loss *ir.Value, wrt []*ir.Value) ([]*ir.Value, error) {
	if len(loss.Type.Shape) != 0 || !loss.Type.DType.IsFloat() {
		return nil, fmt.Errorf("autodiff: the loss must be a float scalar, is %s", loss.Type)
	}
	b := ir.BuilderFor(m, f)
	pos := map[*ir.Value]int{}
	for i, v := range f.Body {
		pos[v] = i
	}
	lossPos, ok := pos[loss]
	if !ok {
		return nil, fmt.Errorf("autodiff: the loss is not a node of @%s", f.Name)
	}
	// Only nodes that lie on a path from some wrt value to the loss need
	// gradients: mark those that depend on wrt.
	depends := map[*ir.Value]bool{}
	for _, w := range wrt {
		depends[w] = true
	}
	for _, v := range f.Body[:lossPos+1] {
		if _, nd := NotDifferentiable[v.Op]; nd {
			continue
		}
		for _, a := range v.Args {
			if depends[a] {
				depends[v] = true
			}
		}
	}
	grads := map[*ir.Value]*ir.Value{loss: b.Scalar(loss.Type.DType, 1)}
	for i := lossPos; i >= 0; i-- {
		v := f.Body[i]
		g, ok := grads[v]
		if !ok || !depends[v] || len(v.Args) == 0 {
			continue
		}
		if _, nd := NotDifferentiable[v.Op]; nd {
			continue
		}
		rule, ok := GradRules[v.Op]
		if !ok {
			return nil, fmt.Errorf("autodiff: no gradient rule for op %s", v.Op)
		}
		argGrads := rule(b, v, g)
		if err := b.Err(); err != nil {
			return nil, fmt.Errorf("autodiff: gradient of %s: %w", v.Op, err)
		}
		for j, a := range v.Args {
			ag := argGrads[j]
			if ag == nil || !depends[a] {
				continue
			}
			if !ag.Type.Equal(a.Type) {
				return nil, fmt.Errorf("autodiff: gradient rule of %s gave operand %d type %s, want %s", v.Op, j, ag.Type, a.Type)
			}
			if prev, ok := grads[a]; ok {
				grads[a] = b.Add(prev, ag)
			} else {
				grads[a] = ag
			}
		}
	}
	out := make([]*ir.Value, len(wrt))
	for i, w := range wrt {
		if g, ok := grads[w]; ok {
			out[i] = g
		} else {
			out[i] = b.Const(w.Type, 0)
		}
	}
	return out, b.Err()
}

// Autodiff is the pipeline pass that derives the backward graph of
// train_step: for every trainable weight it reads, it adds the gradient of
// the "loss" result as a result named "grad:<weight>". Reads of the same
// weight are summed. The optimizer pass turns these results into updates.
func Autodiff(m *ir.Module, cfg *Config) error {
	f := m.Func(TrainStep)
	if f == nil || cfg.Optimizer == nil {
		return nil
	}
	if hasGradResults(f) || updatesTrainable(m, f) {
		return nil // already differentiated
	}
	loss := f.Result("loss")
	if loss == nil {
		return fmt.Errorf("autodiff: @%s has no result named loss", TrainStep)
	}
	var wrt []*ir.Value
	var names []string
	for _, v := range f.Body {
		if v.Op != ir.OpWeight {
			continue
		}
		name := v.Attrs.String("name", "")
		if w := m.Weight(name); w != nil && w.Trainable {
			wrt = append(wrt, v)
			names = append(names, name)
		}
	}
	grads, err := Gradients(m, f, loss, wrt)
	if err != nil {
		return err
	}
	b := ir.BuilderFor(m, f)
	seen := map[string]int{}
	resultNames := f.ResultNames
	if len(resultNames) == 0 {
		resultNames = make([]string, len(f.Results))
	}
	for i, name := range names {
		if j, ok := seen[name]; ok {
			f.Results[j] = b.Add(f.Results[j], grads[i])
			continue
		}
		seen[name] = len(f.Results)
		f.Results = append(f.Results, grads[i])
		resultNames = append(resultNames, GradPrefix+name)
	}
	f.ResultNames = resultNames
	return b.Err()
}

// updatesTrainable reports whether f updates a trainable weight: the
// optimizer has been lowered into it. Updates of other state (a dropout
// step counter, batch norm's running statistics) come from the frontend.
func updatesTrainable(m *ir.Module, f *ir.Func) bool {
	for _, u := range f.Updates {
		if w := m.Weight(u.Weight); w != nil && w.Trainable {
			return true
		}
	}
	return false
}

func hasGradResults(f *ir.Func) bool {
	for _, n := range f.ResultNames {
		if strings.HasPrefix(n, GradPrefix) {
			return true
		}
	}
	return false
}

// sumTo sums g over the dims that broadcasting added or stretched, so that
// the result has shape target: the adjoint of NumPy broadcasting.
func sumTo(b *ir.Builder, g *ir.Value, target ir.Shape) *ir.Value {
	if g.Type.Shape.Equal(target) {
		return g
	}
	gr, tr := len(g.Type.Shape), len(target)
	var axes []int64
	for i := 0; i < gr; i++ {
		j := i - (gr - tr)
		if j < 0 || (target[j] == ir.C(1) && g.Type.Shape[i] != ir.C(1)) {
			axes = append(axes, int64(i))
		}
	}
	s := g
	if len(axes) > 0 {
		s = b.ReduceSum(g, axes, true)
	}
	if !s.Type.Shape.Equal(target) {
		s = b.Reshape(s, target)
	}
	return s
}

func zeroLike(b *ir.Builder, v *ir.Value) *ir.Value { return b.ScalarLike(v, 0) }

func init() {
	r := GradRules
	r[ir.OpAdd] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		return []*ir.Value{sumTo(b, g, v.Args[0].Type.Shape), sumTo(b, g, v.Args[1].Type.Shape)}
	}
	r[ir.OpSub] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		return []*ir.Value{sumTo(b, g, v.Args[0].Type.Shape), sumTo(b, b.Unary(ir.OpNeg, g), v.Args[1].Type.Shape)}
	}
	r[ir.OpMul] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		x, y := v.Args[0], v.Args[1]
		return []*ir.Value{sumTo(b, b.Mul(g, y), x.Type.Shape), sumTo(b, b.Mul(g, x), y.Type.Shape)}
	}
	r[ir.OpDiv] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		x, y := v.Args[0], v.Args[1]
		gx := b.Div(g, y)
		// d(x/y)/dy = -x/y² = -(x/y)/y
		gy := b.Unary(ir.OpNeg, b.Div(b.Mul(g, v), y))
		return []*ir.Value{sumTo(b, gx, x.Type.Shape), sumTo(b, gy, y.Type.Shape)}
	}
	r[ir.OpNeg] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value { return []*ir.Value{b.Unary(ir.OpNeg, g)} }
	r[ir.OpExp] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value { return []*ir.Value{b.Mul(g, v)} }
	r[ir.OpLog] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value { return []*ir.Value{b.Div(g, v.Args[0])} }
	r[ir.OpSqrt] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		return []*ir.Value{b.Div(b.Mul(g, b.ScalarLike(g, 0.5)), v)}
	}
	r[ir.OpRelu] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		x := v.Args[0]
		mask := b.Op(ir.OpGreater, nil, x, zeroLike(b, x))
		return []*ir.Value{b.Op(ir.OpSelect, nil, mask, g, zeroLike(b, g))}
	}
	r[ir.OpSigmoid] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		// σ' = σ(1-σ)
		return []*ir.Value{b.Mul(g, b.Mul(v, b.Sub(b.ScalarLike(v, 1), v)))}
	}
	r[ir.OpTanh] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		// tanh' = 1 - tanh²
		return []*ir.Value{b.Mul(g, b.Sub(b.ScalarLike(v, 1), b.Mul(v, v)))}
	}
	r[ir.OpCos] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		// cos' = -sin
		return []*ir.Value{b.Unary(ir.OpNeg, b.Mul(g, b.Unary(ir.OpSin, v.Args[0])))}
	}
	r[ir.OpSin] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		// sin' = cos
		return []*ir.Value{b.Mul(g, b.Unary(ir.OpCos, v.Args[0]))}
	}
	r[ir.OpSelect] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		c, x, y := v.Args[0], v.Args[1], v.Args[2]
		z := zeroLike(b, g)
		gx := b.Op(ir.OpSelect, nil, c, g, z)
		gy := b.Op(ir.OpSelect, nil, c, z, g)
		return []*ir.Value{nil, sumTo(b, gx, x.Type.Shape), sumTo(b, gy, y.Type.Shape)}
	}
	r[ir.OpCast] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		x := v.Args[0]
		if !x.Type.DType.IsFloat() || !v.Type.DType.IsFloat() {
			return []*ir.Value{nil}
		}
		return []*ir.Value{b.Op(ir.OpCast, ir.Attrs{"to": x.Type.DType}, g)}
	}
	r[ir.OpMatMul] = gradMatMul
	r[ir.OpReduceSum] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		return []*ir.Value{expandReduced(b, v, g)}
	}
	r[ir.OpReduceMean] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		x := v.Args[0]
		count := b.Op(ir.OpSize, ir.Attrs{"axes": v.Attrs.Ints("axes"), "dtype": x.Type.DType}, x)
		return []*ir.Value{b.Div(expandReduced(b, v, g), count)}
	}
	r[ir.OpReduceMax] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		// The gradient flows to the elements equal to the maximum.
		x := v.Args[0]
		mx := expandReduced(b, v, v)
		mask := b.Op(ir.OpEqual, nil, x, mx)
		return []*ir.Value{b.Op(ir.OpSelect, nil, mask, expandReduced(b, v, g), zeroLike(b, g))}
	}
	r[ir.OpSoftmax] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		// dx = y ⊙ (g - Σ g⊙y)
		axis := v.Attrs.Int("axis", -1)
		s := b.ReduceSum(b.Mul(g, v), []int64{axis}, true)
		return []*ir.Value{b.Mul(v, b.Sub(g, s))}
	}
	r[ir.OpLogSoftmax] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		// dx = g - softmax(x) Σ g, with softmax(x) = exp(y)
		axis := v.Attrs.Int("axis", -1)
		s := b.ReduceSum(g, []int64{axis}, true)
		return []*ir.Value{b.Sub(g, b.Mul(b.Unary(ir.OpExp, v), s))}
	}
	r[ir.OpReshape] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		return []*ir.Value{b.Reshape(g, v.Args[0].Type.Shape)}
	}
	r[ir.OpTranspose] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		perm := v.Attrs.Ints("perm")
		inv := make([]int64, len(perm))
		for i, p := range perm {
			inv[p] = int64(i)
		}
		return []*ir.Value{b.Op(ir.OpTranspose, ir.Attrs{"perm": inv}, g)}
	}
	r[ir.OpBroadcast] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		return []*ir.Value{sumTo(b, g, v.Args[0].Type.Shape)}
	}
}

// expandReduced broadcasts g, shaped like the result of reduction v, back to
// the shape of v's operand.
func expandReduced(b *ir.Builder, v, g *ir.Value) *ir.Value {
	x := v.Args[0]
	axes, _ := ir.NormalizeAxes(v.Attrs.Ints("axes"), len(x.Type.Shape))
	kept := ir.ReducedShape(x.Type.Shape, axes, true)
	if !g.Type.Shape.Equal(kept) {
		g = b.Reshape(g, kept)
	}
	if !kept.Equal(x.Type.Shape) {
		g = b.BroadcastTo(g, x.Type.Shape)
	}
	return g
}

// gradMatMul: with Y = op(A) op(B), dop(A) = G op(B)ᵀ and dop(B) = op(A)ᵀ G;
// each case below folds the transposes into matmul's flags so that no
// transpose is materialised.
func gradMatMul(b *ir.Builder, v, g *ir.Value) []*ir.Value {
	a, x := v.Args[0], v.Args[1]
	ta, tb := v.Attrs.Bool("transpose_a", false), v.Attrs.Bool("transpose_b", false)
	mm := func(p, q *ir.Value, tp, tq bool) *ir.Value {
		attrs := ir.Attrs{}
		if tp {
			attrs["transpose_a"] = true
		}
		if tq {
			attrs["transpose_b"] = true
		}
		if len(attrs) == 0 {
			attrs = nil
		}
		return b.Op(ir.OpMatMul, attrs, p, q)
	}
	var ga, gb *ir.Value
	switch {
	case !ta && !tb:
		ga, gb = mm(g, x, false, true), mm(a, g, true, false)
	case ta && !tb:
		ga, gb = mm(x, g, false, true), mm(a, g, false, false)
	case !ta && tb:
		ga, gb = mm(g, x, false, false), mm(g, a, true, false)
	default:
		ga, gb = mm(x, g, true, true), mm(g, a, true, true)
	}
	return []*ir.Value{sumTo(b, ga, a.Type.Shape), sumTo(b, gb, x.Type.Shape)}
}
