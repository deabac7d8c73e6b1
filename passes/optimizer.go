package passes

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dlc-project/dlc/ir"
)

// Optimizer describes the update rule that the optimizer pass lowers into
// train_step. Definitions follow PyTorch's (torch.optim); where Keras
// differs (where epsilon sits in Adam) both are offered, see EpsilonStyle.
type Optimizer struct {
	// Kind is "sgd" or "adam".
	Kind         string
	LearningRate float64
	// SGD: Momentum μ ≥ 0 and Nesterov. With momentum, as torch.optim.SGD:
	// b ← μb + g; w ← w - lr·b (Nesterov: w ← w - lr·(g + μb)).
	Momentum float64
	Nesterov bool
	// Adam: Beta1, Beta2 in [0,1), Epsilon > 0.
	Beta1, Beta2, Epsilon float64
	// EpsilonStyle is where Adam adds epsilon: "pytorch" (the default):
	// w ← w - lr/(1-β1ᵗ) · m / (√v/√(1-β2ᵗ) + ε); or "keras":
	// w ← w - lr·√(1-β2ᵗ)/(1-β1ᵗ) · m / (√v + ε).
	EpsilonStyle string
}

// Adam returns Adam with Keras's defaults (β1 0.9, β2 0.999, ε 1e-7).
func Adam(lr float64) *Optimizer {
	return &Optimizer{Kind: "adam", LearningRate: lr, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7, EpsilonStyle: "pytorch"}
}

// Validate reports the first bad setting, naming it.
func (o *Optimizer) Validate() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("optimizer %s: %s is %v, want %s", o.Kind, field, v, want)
	}
	if !(o.LearningRate > 0) || math.IsInf(o.LearningRate, 0) {
		return bad("learning_rate", o.LearningRate, "a positive number")
	}
	switch o.Kind {
	case "sgd":
		if o.Momentum < 0 || o.Momentum >= 1 || math.IsNaN(o.Momentum) {
			return bad("momentum", o.Momentum, "a number in [0, 1)")
		}
		if o.Nesterov && o.Momentum == 0 {
			return fmt.Errorf("optimizer sgd: nesterov needs a momentum > 0")
		}
	case "adam":
		if o.Beta1 < 0 || o.Beta1 >= 1 || math.IsNaN(o.Beta1) {
			return bad("beta_1", o.Beta1, "a number in [0, 1)")
		}
		if o.Beta2 < 0 || o.Beta2 >= 1 || math.IsNaN(o.Beta2) {
			return bad("beta_2", o.Beta2, "a number in [0, 1)")
		}
		if !(o.Epsilon > 0) {
			return bad("epsilon", o.Epsilon, "a positive number")
		}
		switch o.EpsilonStyle {
		case "", "pytorch", "keras":
		default:
			return bad("epsilon_style", fmt.Sprintf("%q", o.EpsilonStyle), `"pytorch" or "keras"`)
		}
	default:
		return fmt.Errorf("unknown optimizer %q (known: sgd, adam)", o.Kind)
	}
	return nil
}

// LowerOptimizer is the pipeline pass that turns the "grad:<weight>"
// results of train_step into the optimizer's update of each weight, adding
// the optimizer's state to the module (zero-initialised, not trainable) and
// the update of every weight and state tensor to train_step.
func LowerOptimizer(m *ir.Module, cfg *Config) error {
	f := m.Func(TrainStep)
	if f == nil || cfg.Optimizer == nil || !hasGradResults(f) {
		return nil
	}
	o := cfg.Optimizer
	if err := o.Validate(); err != nil {
		return err
	}
	b := ir.BuilderFor(m, f)
	var keepRes []*ir.Value
	var keepNames []string
	type grad struct {
		w *ir.Weight
		g *ir.Value
	}
	var grads []grad
	for i, r := range f.Results {
		name := f.ResultNames[i]
		if !strings.HasPrefix(name, GradPrefix) {
			keepRes = append(keepRes, r)
			keepNames = append(keepNames, name)
			continue
		}
		w := m.Weight(strings.TrimPrefix(name, GradPrefix))
		if w == nil {
			return fmt.Errorf("optimizer: result %q names no weight", name)
		}
		grads = append(grads, grad{w, r})
	}
	f.Results, f.ResultNames = keepRes, keepNames

	state := func(name string, t ir.Type, init float64) (*ir.Value, error) {
		if m.Weight(name) != nil {
			return nil, fmt.Errorf("optimizer: state %q clashes with a weight of the model", name)
		}
		attrs := ir.Attrs{"init": "zeros"}
		if init != 0 {
			attrs = ir.Attrs{"init": "constant", "value": init}
		}
		_ = m.AddWeight(&ir.Weight{Name: name, Type: t, Init: attrs})
		return b.Weight(name), nil
	}
	// 1-β printed as 0.1, not 0.09999999999999998: round to 15 digits.
	scalar := func(v float64) *ir.Value {
		v, _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', 15, 64), 64)
		return b.Scalar(ir.F32, v)
	}
	// Reuse the forward pass's read of each weight.
	reads := map[string]*ir.Value{}
	for _, v := range f.Body {
		if v.Op == ir.OpWeight {
			if _, ok := reads[v.Attrs.String("name", "")]; !ok {
				reads[v.Attrs.String("name", "")] = v
			}
		}
	}
	read := func(name string) *ir.Value {
		if v, ok := reads[name]; ok {
			return v
		}
		return b.Weight(name)
	}
	// Hyperparameters in a weight's own dtype (f32 or f64); the shared
	// scalars of Adam are computed in f32 and cast once per other dtype.
	scalarAs := func(dt ir.DType, v float64) *ir.Value {
		v, _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', 15, 64), 64)
		return b.Scalar(dt, v)
	}
	casts := map[*ir.Value]map[ir.DType]*ir.Value{}
	as := func(x *ir.Value, dt ir.DType) *ir.Value {
		if x.Type.DType == dt {
			return x
		}
		if casts[x] == nil {
			casts[x] = map[ir.DType]*ir.Value{}
		}
		if c, ok := casts[x][dt]; ok {
			return c
		}
		c := b.Op(ir.OpCast, ir.Attrs{"to": dt}, x)
		casts[x][dt] = c
		return c
	}
	for _, gr := range grads {
		if !gr.w.Type.DType.IsFloat() {
			return fmt.Errorf("optimizer: trainable weight %q has dtype %s: only float weights can be trained", gr.w.Name, gr.w.Type.DType)
		}
	}
	lr := scalar(o.LearningRate)

	switch o.Kind {
	case "sgd":
		for _, gr := range grads {
			w := read(gr.w.Name)
			dt := gr.w.Type.DType
			step := gr.g
			if o.Momentum > 0 {
				buf, err := state("sgd/momentum/"+gr.w.Name, gr.w.Type, 0)
				if err != nil {
					return err
				}
				nb := b.Add(b.Mul(scalarAs(dt, o.Momentum), buf), gr.g)
				b.Update("sgd/momentum/"+gr.w.Name, nb)
				step = nb
				if o.Nesterov {
					step = b.Add(gr.g, b.Mul(scalarAs(dt, o.Momentum), nb))
				}
			}
			b.Update(gr.w.Name, b.Sub(w, b.Mul(as(lr, dt), step)))
		}
	case "adam":
		p1, err := state("adam/beta1_power", ir.TensorOf(ir.F32), 1)
		if err != nil {
			return err
		}
		p2, err := state("adam/beta2_power", ir.TensorOf(ir.F32), 1)
		if err != nil {
			return err
		}
		np1, np2 := b.Mul(p1, scalar(o.Beta1)), b.Mul(p2, scalar(o.Beta2))
		b.Update("adam/beta1_power", np1)
		b.Update("adam/beta2_power", np2)
		one := scalar(1)
		c1, c2 := b.Sub(one, np1), b.Sub(one, np2) // bias corrections 1-β1ᵗ, 1-β2ᵗ
		var stepSize, sqrtC2 *ir.Value
		if o.EpsilonStyle == "keras" {
			stepSize = b.Div(b.Mul(lr, b.Unary(ir.OpSqrt, c2)), c1)
		} else {
			stepSize = b.Div(lr, c1)
			sqrtC2 = b.Unary(ir.OpSqrt, c2)
		}
		for _, gr := range grads {
			w := read(gr.w.Name)
			dt := gr.w.Type.DType
			eps := scalarAs(dt, o.Epsilon)
			mName, vName := "adam/m/"+gr.w.Name, "adam/v/"+gr.w.Name
			mo, err := state(mName, gr.w.Type, 0)
			if err != nil {
				return err
			}
			vo, err := state(vName, gr.w.Type, 0)
			if err != nil {
				return err
			}
			nm := b.Add(b.Mul(scalarAs(dt, o.Beta1), mo), b.Mul(scalarAs(dt, 1-o.Beta1), gr.g))
			nv := b.Add(b.Mul(scalarAs(dt, o.Beta2), vo), b.Mul(scalarAs(dt, 1-o.Beta2), b.Mul(gr.g, gr.g)))
			denom := b.Unary(ir.OpSqrt, nv)
			if sqrtC2 != nil {
				denom = b.Div(denom, as(sqrtC2, dt))
			}
			denom = b.Add(denom, eps)
			b.Update(gr.w.Name, b.Sub(w, b.Mul(as(stepSize, dt), b.Div(nm, denom))))
			b.Update(mName, nm)
			b.Update(vName, nv)
		}
	}
	return b.Err()
}
