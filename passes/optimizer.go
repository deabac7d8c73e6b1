package passes

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/dlc-project/dlc/ir"
)

// Optimizer describes the update rule that the optimizer pass lowers into
// train_step. Definitions follow PyTorch's (torch.optim); where Keras
// differs (where epsilon sits in Adam, RMSprop and AdaGrad) both are
// offered, see EpsilonStyle. docs/model-json.md gives every formula.
//
// One step, for the gradient g of each trainable weight w, runs in this
// order: clipping (ClipNorm over all gradients together, then ClipValue),
// L2 weight decay (g ← g + wd·w; AdamW instead decays w), then the rule of
// Kind with the learning rate of the step's Schedule.
type Optimizer struct {
	// Kind is "sgd", "adam", "adamw", "adagrad" or "rmsprop".
	Kind         string
	LearningRate float64
	// SGD and RMSprop: Momentum μ in [0, 1). SGD with momentum, as
	// torch.optim.SGD: b ← μb + g; w ← w - lr·b (Nesterov: w ← w - lr·(g + μb)).
	Momentum float64
	Nesterov bool
	// Adam, AdamW: Beta1, Beta2 in [0,1). Epsilon > 0 (Adam, AdamW, AdaGrad,
	// RMSprop).
	Beta1, Beta2, Epsilon float64
	// EpsilonStyle is where epsilon sits: "pytorch" (the default) or
	// "keras". Adam: pytorch w ← w - lr/(1-β1ᵗ) · m / (√v/√(1-β2ᵗ) + ε),
	// keras w ← w - lr·√(1-β2ᵗ)/(1-β1ᵗ) · m / (√v + ε). AdaGrad and
	// RMSprop: pytorch divides by √s + ε, keras by √(s + ε) (and Keras's
	// RMSprop keeps lr inside its momentum buffer: b ← μb + lr·g/d; w ← w - b).
	EpsilonStyle string
	// WeightDecay ≥ 0: for sgd, adam, adagrad and rmsprop the L2 term
	// torch adds to the gradient, g ← g + wd·w; for adamw torch's decoupled
	// decay w ← w·(1 - lr·wd) before the Adam step.
	WeightDecay float64
	// RMSprop: Alpha in [0, 1) is torch's smoothing constant (Keras's
	// rho): v ← αv + (1-α)g². Centered also tracks a ← αa + (1-α)g and
	// divides by √(v - a²) + ε.
	Alpha    float64
	Centered bool
	// AdaGrad: the accumulator's initial value (≥ 0) and torch's lr_decay
	// (≥ 0): step t (1-based) uses lr/(1 + (t-1)·lr_decay).
	InitialAccumulator float64
	LRDecay            float64
	// ClipNorm > 0 clips by global norm as torch.nn.utils.clip_grad_norm_:
	// n = √(Σ‖g‖²) over all gradients, g ← g·min(1, ClipNorm/(n + 1e-6)).
	// ClipValue > 0 clamps every gradient element to [-ClipValue, ClipValue].
	// Zero turns either off.
	ClipNorm, ClipValue float64
	// Schedule is the learning rate per step; the zero value is constant.
	Schedule Schedule
}

// Schedule is a learning-rate schedule, as torch.optim.lr_scheduler's,
// stepped once after every optimizer step: step t (0-based here) uses the
// rate after t scheduler steps. With WarmupSteps W > 0, steps t < W use
// lr·(t+1)/W and step t ≥ W uses the schedule at t - W (torch's
// SequentialLR of LinearLR(1/W, 1, W-1) and the schedule, milestone W).
type Schedule struct {
	// Kind is "" or "constant", "step" (StepLR: lr·γ^⌊t/StepSize⌋),
	// "exponential" (ExponentialLR: lr·γᵗ) or "cosine" (CosineAnnealingLR:
	// EtaMin + (lr - EtaMin)·(1 + cos(π·t/TMax))/2).
	Kind        string
	StepSize    int
	Gamma       float64
	TMax        int
	EtaMin      float64
	WarmupSteps int
}

// IsConstant reports whether the schedule leaves the rate alone.
func (s Schedule) IsConstant() bool {
	return (s.Kind == "" || s.Kind == "constant") && s.WarmupSteps == 0
}

// StepState is the optimizer state that counts the steps taken (an f32
// scalar, exact up to 2^24 steps), present when a schedule or AdaGrad's
// lr_decay needs it.
const StepState = "opt/step"

// Adam returns Adam with Keras's defaults (β1 0.9, β2 0.999, ε 1e-7).
func Adam(lr float64) *Optimizer {
	return &Optimizer{Kind: "adam", LearningRate: lr, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7, EpsilonStyle: "pytorch"}
}

// AdamW returns AdamW with Adam's defaults and torch's weight decay 0.01.
func AdamW(lr float64) *Optimizer {
	o := Adam(lr)
	o.Kind, o.WeightDecay = "adamw", 0.01
	return o
}

// Adagrad returns AdaGrad with torch's defaults (ε 1e-10, accumulator 0).
// Keras's are ε 1e-7 (inside the root) and accumulator 0.1.
func Adagrad(lr float64) *Optimizer {
	return &Optimizer{Kind: "adagrad", LearningRate: lr, Epsilon: 1e-10, EpsilonStyle: "pytorch"}
}

// RMSprop returns RMSprop with torch's defaults (α 0.99, ε 1e-8). Keras's
// are ρ 0.9 and ε 1e-7 (inside the root).
func RMSprop(lr float64) *Optimizer {
	return &Optimizer{Kind: "rmsprop", LearningRate: lr, Alpha: 0.99, Epsilon: 1e-8, EpsilonStyle: "pytorch"}
}

// Optimizers lists the known kinds.
var Optimizers = []string{"sgd", "adam", "adamw", "adagrad", "rmsprop"}

// Validate reports the first bad setting, naming it.
func (o *Optimizer) Validate() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("optimizer %s: %s is %v, want %s", o.Kind, field, v, want)
	}
	unit := func(field string, v float64) error { // [0, 1)
		if v < 0 || v >= 1 || math.IsNaN(v) {
			return bad(field, v, "a number in [0, 1)")
		}
		return nil
	}
	nonneg := func(field string, v float64) error {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return bad(field, v, "a number >= 0")
		}
		return nil
	}
	only := func(field string, set bool, kinds ...string) error {
		if set && !slices.Contains(kinds, o.Kind) {
			return fmt.Errorf("optimizer %s: %s applies to %s only", o.Kind, field, strings.Join(kinds, ", "))
		}
		return nil
	}
	if !slices.Contains(Optimizers, o.Kind) {
		return fmt.Errorf("unknown optimizer %q (known: %s)", o.Kind, strings.Join(Optimizers, ", "))
	}
	if !(o.LearningRate > 0) || math.IsInf(o.LearningRate, 0) {
		return bad("learning_rate", o.LearningRate, "a positive number")
	}
	for _, err := range []error{
		only("momentum", o.Momentum != 0, "sgd", "rmsprop"),
		only("nesterov", o.Nesterov, "sgd"),
		only("rho", o.Alpha != 0, "rmsprop"),
		only("centered", o.Centered, "rmsprop"),
		only("initial_accumulator_value", o.InitialAccumulator != 0, "adagrad"),
		only("lr_decay", o.LRDecay != 0, "adagrad"),
		only("epsilon_style", o.EpsilonStyle != "", "adam", "adamw", "adagrad", "rmsprop"),
		nonneg("weight_decay", o.WeightDecay),
		nonneg("clipnorm", o.ClipNorm),
		nonneg("clipvalue", o.ClipValue),
	} {
		if err != nil {
			return err
		}
	}
	switch o.Kind {
	case "sgd":
		if err := unit("momentum", o.Momentum); err != nil {
			return err
		}
		if o.Nesterov && o.Momentum == 0 {
			return fmt.Errorf("optimizer sgd: nesterov needs a momentum > 0")
		}
	case "adam", "adamw":
		if err := unit("beta_1", o.Beta1); err != nil {
			return err
		}
		if err := unit("beta_2", o.Beta2); err != nil {
			return err
		}
	case "adagrad":
		if err := nonneg("initial_accumulator_value", o.InitialAccumulator); err != nil {
			return err
		}
		if err := nonneg("lr_decay", o.LRDecay); err != nil {
			return err
		}
	case "rmsprop":
		if err := unit("momentum", o.Momentum); err != nil {
			return err
		}
		if err := unit("rho", o.Alpha); err != nil {
			return err
		}
	}
	if o.Kind != "sgd" {
		if !(o.Epsilon > 0) || math.IsInf(o.Epsilon, 0) {
			return bad("epsilon", o.Epsilon, "a positive number")
		}
		switch o.EpsilonStyle {
		case "", "pytorch", "keras":
		default:
			return bad("epsilon_style", fmt.Sprintf("%q", o.EpsilonStyle), `"pytorch" or "keras"`)
		}
	}
	if err := o.Schedule.Validate(); err != nil {
		return fmt.Errorf("optimizer %s: %w", o.Kind, err)
	}
	return nil
}

// Schedules lists the known schedule kinds.
var Schedules = []string{"constant", "step", "exponential", "cosine"}

// Validate reports the schedule's first bad setting, naming it.
func (s Schedule) Validate() error {
	bad := func(field string, v any, want string) error {
		k := s.Kind
		if k == "" {
			k = "constant"
		}
		return fmt.Errorf("schedule %s: %s is %v, want %s", k, field, v, want)
	}
	gamma := func() error {
		if !(s.Gamma > 0 && s.Gamma <= 1) {
			return bad("gamma", s.Gamma, "a number in (0, 1]")
		}
		return nil
	}
	switch s.Kind {
	case "", "constant":
	case "step":
		if s.StepSize <= 0 {
			return bad("step_size", s.StepSize, "a positive number of steps")
		}
		if err := gamma(); err != nil {
			return err
		}
	case "exponential":
		if err := gamma(); err != nil {
			return err
		}
	case "cosine":
		if s.TMax <= 0 {
			return bad("t_max", s.TMax, "a positive number of steps")
		}
		if !(s.EtaMin >= 0) || math.IsInf(s.EtaMin, 0) {
			return bad("eta_min", s.EtaMin, "a number >= 0")
		}
	default:
		return fmt.Errorf("unknown schedule %q (known: %s)", s.Kind, strings.Join(Schedules, ", "))
	}
	if s.WarmupSteps < 0 {
		return bad("warmup_steps", s.WarmupSteps, "a number of steps >= 0")
	}
	if s.WarmupSteps >= 1<<24 || s.StepSize >= 1<<24 || s.TMax >= 1<<24 {
		return fmt.Errorf("schedule %s: step counts must be below 2^24 (the step counter is an f32)", s.Kind)
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
	// The step counter: t, the number of steps taken before this one.
	var t *ir.Value
	if !o.Schedule.IsConstant() || (o.Kind == "adagrad" && o.LRDecay != 0) {
		st, err := state(StepState, ir.TensorOf(ir.F32), 0)
		if err != nil {
			return err
		}
		t = st
		b.Update(StepState, b.Add(t, scalar(1)))
	}
	lr := scheduledLR(b, o, t, scalar)

	// Gradient clipping, then L2 weight decay, in the gradients' own dtype.
	if o.ClipNorm > 0 && len(grads) > 0 {
		// torch: the 2-norm of the per-tensor 2-norms, in f32 here.
		var total *ir.Value
		for _, gr := range grads {
			n := as(b.Unary(ir.OpSqrt, b.ReduceSum(b.Mul(gr.g, gr.g), allAxes(gr.g), false)), ir.F32)
			sq := b.Mul(n, n)
			if total == nil {
				total = sq
			} else {
				total = b.Add(total, sq)
			}
		}
		total = b.Unary(ir.OpSqrt, total)
		coef := b.Div(scalar(o.ClipNorm), b.Add(total, scalar(1e-6)))
		one := scalar(1)
		coef = b.Op(ir.OpSelect, nil, b.Op(ir.OpLess, nil, coef, one), coef, one) // min(coef, 1)
		for i := range grads {
			grads[i].g = b.Mul(grads[i].g, as(coef, grads[i].g.Type.DType))
		}
	}
	if o.ClipValue > 0 {
		for i, gr := range grads {
			dt := gr.g.Type.DType
			hi, lo := scalarAs(dt, o.ClipValue), scalarAs(dt, -o.ClipValue)
			g := b.Op(ir.OpSelect, nil, b.Op(ir.OpGreater, nil, gr.g, hi), hi, gr.g)
			grads[i].g = b.Op(ir.OpSelect, nil, b.Op(ir.OpLess, nil, g, lo), lo, g)
		}
	}
	if o.WeightDecay > 0 && o.Kind != "adamw" {
		for i, gr := range grads {
			grads[i].g = b.Add(gr.g, b.Mul(scalarAs(gr.w.Type.DType, o.WeightDecay), read(gr.w.Name)))
		}
	}
	keras := o.EpsilonStyle == "keras"

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
	case "adagrad":
		clr := lr
		if o.LRDecay != 0 { // lr/(1 + (t-1)·lr_decay), t 1-based
			clr = b.Div(lr, b.Add(scalar(1), b.Mul(t, scalar(o.LRDecay))))
		}
		for _, gr := range grads {
			w := read(gr.w.Name)
			dt := gr.w.Type.DType
			name := "adagrad/accumulator/" + gr.w.Name
			acc, err := state(name, gr.w.Type, o.InitialAccumulator)
			if err != nil {
				return err
			}
			ns := b.Add(acc, b.Mul(gr.g, gr.g))
			var denom *ir.Value
			if keras {
				denom = b.Unary(ir.OpSqrt, b.Add(ns, scalarAs(dt, o.Epsilon)))
			} else {
				denom = b.Add(b.Unary(ir.OpSqrt, ns), scalarAs(dt, o.Epsilon))
			}
			b.Update(gr.w.Name, b.Sub(w, b.Mul(as(clr, dt), b.Div(gr.g, denom))))
			b.Update(name, ns)
		}
	case "rmsprop":
		for _, gr := range grads {
			w := read(gr.w.Name)
			dt := gr.w.Type.DType
			alpha, rest := scalarAs(dt, o.Alpha), scalarAs(dt, 1-o.Alpha)
			vName := "rmsprop/square_avg/" + gr.w.Name
			vo, err := state(vName, gr.w.Type, 0)
			if err != nil {
				return err
			}
			nv := b.Add(b.Mul(alpha, vo), b.Mul(rest, b.Mul(gr.g, gr.g)))
			b.Update(vName, nv)
			d := nv
			if o.Centered {
				aName := "rmsprop/grad_avg/" + gr.w.Name
				ao, err := state(aName, gr.w.Type, 0)
				if err != nil {
					return err
				}
				na := b.Add(b.Mul(alpha, ao), b.Mul(rest, gr.g))
				b.Update(aName, na)
				d = b.Sub(nv, b.Mul(na, na))
			}
			if keras {
				d = b.Unary(ir.OpSqrt, b.Add(d, scalarAs(dt, o.Epsilon)))
			} else {
				d = b.Add(b.Unary(ir.OpSqrt, d), scalarAs(dt, o.Epsilon))
			}
			step := b.Div(gr.g, d)
			if o.Momentum > 0 {
				bName := "rmsprop/momentum/" + gr.w.Name
				bo, err := state(bName, gr.w.Type, 0)
				if err != nil {
					return err
				}
				if keras { // b ← μb + lr·g/d; w ← w - b
					nb := b.Add(b.Mul(scalarAs(dt, o.Momentum), bo), b.Mul(as(lr, dt), step))
					b.Update(bName, nb)
					b.Update(gr.w.Name, b.Sub(w, nb))
					continue
				}
				nb := b.Add(b.Mul(scalarAs(dt, o.Momentum), bo), step)
				b.Update(bName, nb)
				step = nb
			}
			b.Update(gr.w.Name, b.Sub(w, b.Mul(as(lr, dt), step)))
		}
	case "adam", "adamw":
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
		// Both styles become w ← w - α·m / (√v + ε̂) with scalars computed
		// once per step: α = lr·√(1-β2ᵗ)/(1-β1ᵗ), and ε̂ = ε (Keras) or
		// ε·√(1-β2ᵗ) (PyTorch: its m/(√v/√(1-β2ᵗ) + ε) times √(1-β2ᵗ) over
		// itself). Per element that saves PyTorch's division by √(1-β2ᵗ), a
		// third of the divider's work in the update loop; the rounding
		// differs from torch's by ~1 ulp (the PyTorch reference test bounds it).
		sqrtC2 := b.Unary(ir.OpSqrt, c2)
		stepSize := b.Div(b.Mul(lr, sqrtC2), c1)
		var epsScale *ir.Value
		if !keras {
			epsScale = sqrtC2
		}
		var decay *ir.Value // AdamW: w·(1 - lr·wd)
		if o.Kind == "adamw" && o.WeightDecay > 0 {
			if lr.Op == ir.OpConstant {
				decay = scalar(1 - o.LearningRate*o.WeightDecay)
			} else {
				decay = b.Sub(one, b.Mul(lr, scalar(o.WeightDecay)))
			}
		}
		for _, gr := range grads {
			w := read(gr.w.Name)
			dt := gr.w.Type.DType
			if decay != nil {
				w = b.Mul(w, as(decay, dt))
			}
			eps := scalarAs(dt, o.Epsilon)
			if epsScale != nil {
				eps = b.Mul(eps, as(epsScale, dt))
			}
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
			denom := b.Add(b.Unary(ir.OpSqrt, nv), eps)
			b.Update(gr.w.Name, b.Sub(w, b.Mul(as(stepSize, dt), b.Div(nm, denom))))
			b.Update(mName, nm)
			b.Update(vName, nv)
		}
	}
	return b.Err()
}

// allAxes lists every axis of v.
func allAxes(v *ir.Value) []int64 {
	axes := make([]int64, len(v.Type.Shape))
	for i := range axes {
		axes[i] = int64(i)
	}
	return axes
}

// scheduledLR returns the learning rate of the step after t steps (an f32
// scalar): the constant LearningRate, or o.Schedule evaluated at t.
func scheduledLR(b *ir.Builder, o *Optimizer, t *ir.Value, scalar func(float64) *ir.Value) *ir.Value {
	s := o.Schedule
	if s.IsConstant() {
		return scalar(o.LearningRate)
	}
	lr := scalar(o.LearningRate)
	x := t // the schedule's own step: t, or t - W after a warm-up of W steps
	if w := float64(s.WarmupSteps); w > 0 {
		d := b.Sub(t, scalar(w))
		zero := scalar(0)
		x = b.Op(ir.OpSelect, nil, b.Op(ir.OpLess, nil, d, zero), zero, d)
	}
	var main *ir.Value
	switch s.Kind {
	case "", "constant":
		main = lr
	case "step": // lr·γ^⌊x/step_size⌋ = lr·exp(⌊x/step_size⌋·ln γ)
		k := b.Unary(ir.OpFloor, b.Div(x, scalar(float64(s.StepSize))))
		main = b.Mul(lr, b.Unary(ir.OpExp, b.Mul(k, scalar(math.Log(s.Gamma)))))
	case "exponential": // lr·γˣ
		main = b.Mul(lr, b.Unary(ir.OpExp, b.Mul(x, scalar(math.Log(s.Gamma)))))
	case "cosine": // η_min + (lr - η_min)·(1 + cos(π·x/T_max))/2
		c := b.Unary(ir.OpCos, b.Mul(x, scalar(math.Pi/float64(s.TMax))))
		half := b.Mul(b.Add(scalar(1), c), scalar(0.5))
		main = b.Add(scalar(s.EtaMin), b.Mul(scalar(o.LearningRate-s.EtaMin), half))
	}
	if w := float64(s.WarmupSteps); w > 0 { // t < W: lr·(t+1)/W
		warm := b.Mul(scalar(o.LearningRate/w), b.Add(t, scalar(1)))
		main = b.Op(ir.OpSelect, nil, b.Op(ir.OpLess, nil, t, scalar(w)), warm, main)
	}
	return main
}
