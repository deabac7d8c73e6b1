package passes

import (
	"math"
	"strings"
	"testing"

	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
)

func TestOptimizerValidate(t *testing.T) {
	sgd := func(f func(o *Optimizer)) *Optimizer {
		o := &Optimizer{Kind: "sgd", LearningRate: 0.1}
		f(o)
		return o
	}
	with := func(o *Optimizer, f func(o *Optimizer)) *Optimizer { f(o); return o }
	for _, c := range []struct {
		name string
		o    *Optimizer
		want string // "" for valid
	}{
		{"sgd", sgd(func(o *Optimizer) {}), ""},
		{"adam", Adam(0.001), ""},
		{"adamw", AdamW(0.001), ""},
		{"adagrad", Adagrad(0.01), ""},
		{"rmsprop", RMSprop(0.01), ""},
		{"rmsprop centered momentum keras", with(RMSprop(0.01), func(o *Optimizer) { o.Centered, o.Momentum, o.EpsilonStyle = true, 0.9, "keras" }), ""},
		{"every schedule", sgd(func(o *Optimizer) {
			o.Schedule = Schedule{Kind: "cosine", TMax: 10, EtaMin: 0.01, WarmupSteps: 3}
			o.ClipNorm, o.ClipValue, o.WeightDecay = 1, 0.5, 1e-4
		}), ""},
		{"unknown optimizer", &Optimizer{Kind: "lamb", LearningRate: 0.1}, `unknown optimizer "lamb" (known: sgd, adam, adamw, adagrad, rmsprop)`},
		{"negative learning rate", sgd(func(o *Optimizer) { o.LearningRate = -0.1 }), "optimizer sgd: learning_rate is -0.1, want a positive number"},
		{"zero learning rate", Adagrad(0), "optimizer adagrad: learning_rate is 0, want a positive number"},
		{"nan learning rate", RMSprop(math.NaN()), "learning_rate is NaN"},
		{"momentum 1", sgd(func(o *Optimizer) { o.Momentum = 1 }), "optimizer sgd: momentum is 1, want a number in [0, 1)"},
		{"momentum on adam", with(Adam(0.1), func(o *Optimizer) { o.Momentum = 0.9 }), "optimizer adam: momentum applies to sgd, rmsprop only"},
		{"nesterov on rmsprop", with(RMSprop(0.1), func(o *Optimizer) { o.Momentum, o.Nesterov = 0.9, true }), "optimizer rmsprop: nesterov applies to sgd only"},
		{"centered on adam", with(Adam(0.1), func(o *Optimizer) { o.Centered = true }), "centered applies to rmsprop only"},
		{"rho 1", with(RMSprop(0.1), func(o *Optimizer) { o.Alpha = 1 }), "optimizer rmsprop: rho is 1, want a number in [0, 1)"},
		{"rmsprop momentum negative", with(RMSprop(0.1), func(o *Optimizer) { o.Momentum = -0.5 }), "optimizer rmsprop: momentum is -0.5"},
		{"adagrad epsilon 0", with(Adagrad(0.1), func(o *Optimizer) { o.Epsilon = 0 }), "optimizer adagrad: epsilon is 0, want a positive number"},
		{"adagrad negative accumulator", with(Adagrad(0.1), func(o *Optimizer) { o.InitialAccumulator = -1 }), "initial_accumulator_value is -1, want a number >= 0"},
		{"adagrad negative lr_decay", with(Adagrad(0.1), func(o *Optimizer) { o.LRDecay = -1 }), "lr_decay is -1, want a number >= 0"},
		{"lr_decay on sgd", sgd(func(o *Optimizer) { o.LRDecay = 0.1 }), "lr_decay applies to adagrad only"},
		{"adamw beta", with(AdamW(0.1), func(o *Optimizer) { o.Beta1 = 1 }), "optimizer adamw: beta_1 is 1"},
		{"bad epsilon style", with(RMSprop(0.1), func(o *Optimizer) { o.EpsilonStyle = "tf" }), `epsilon_style is "tf", want "pytorch" or "keras"`},
		{"negative weight decay", sgd(func(o *Optimizer) { o.WeightDecay = -1 }), "optimizer sgd: weight_decay is -1, want a number >= 0"},
		{"negative clipnorm", sgd(func(o *Optimizer) { o.ClipNorm = -1 }), "optimizer sgd: clipnorm is -1, want a number >= 0"},
		{"infinite clipvalue", sgd(func(o *Optimizer) { o.ClipValue = math.Inf(1) }), "clipvalue is +Inf"},
		{"unknown schedule", sgd(func(o *Optimizer) { o.Schedule.Kind = "linear" }), `optimizer sgd: unknown schedule "linear" (known: constant, step, exponential, cosine)`},
		{"step without steps", sgd(func(o *Optimizer) { o.Schedule = Schedule{Kind: "step", Gamma: 0.5} }), "optimizer sgd: schedule step: step_size is 0, want a positive number of steps"},
		{"step bad gamma", sgd(func(o *Optimizer) { o.Schedule = Schedule{Kind: "step", StepSize: 3, Gamma: 0} }), "schedule step: gamma is 0, want a number in (0, 1]"},
		{"exponential gamma above 1", sgd(func(o *Optimizer) { o.Schedule = Schedule{Kind: "exponential", Gamma: 2} }), "schedule exponential: gamma is 2, want a number in (0, 1]"},
		{"cosine without t_max", sgd(func(o *Optimizer) { o.Schedule = Schedule{Kind: "cosine"} }), "schedule cosine: t_max is 0, want a positive number of steps"},
		{"cosine negative eta_min", sgd(func(o *Optimizer) { o.Schedule = Schedule{Kind: "cosine", TMax: 5, EtaMin: -1} }), "schedule cosine: eta_min is -1"},
		{"negative warmup", sgd(func(o *Optimizer) { o.Schedule = Schedule{WarmupSteps: -2} }), "schedule constant: warmup_steps is -2"},
		{"huge step size", sgd(func(o *Optimizer) { o.Schedule = Schedule{Kind: "step", StepSize: 1 << 25, Gamma: 0.5} }), "below 2^24"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.o.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.want != "" && err == nil:
				t.Fatalf("no error, want %q", c.want)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Fatalf("error %q, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestScheduleRates runs SGD on loss = w·x with x = 1, so that each step
// moves w by exactly the step's learning rate, and compares the rates with
// torch.optim.lr_scheduler's closed forms.
func TestScheduleRates(t *testing.T) {
	const src = `module "m"

weight "w" : f32[] {init="zeros"}

func @train_step(%x: f32[]) -> (loss: f32[], "grad:w": f32[]) {
  %0 = weight {name="w"} : f32[]
  %1 = mul %x, %0 : f32[]
  return %1, %x
}
`
	const lr = 0.1
	warm := func(w int, f func(t int) float64) func(int) float64 {
		return func(t int) float64 {
			if t < w {
				return lr * float64(t+1) / float64(w)
			}
			return f(t - w)
		}
	}
	cosine := func(tmax int, etaMin float64) func(int) float64 {
		return func(t int) float64 {
			return etaMin + (lr-etaMin)*(1+math.Cos(math.Pi*float64(t)/float64(tmax)))/2
		}
	}
	for _, c := range []struct {
		name string
		s    Schedule
		want func(t int) float64 // t: steps taken before
	}{
		{"constant", Schedule{}, func(int) float64 { return lr }},
		{"step", Schedule{Kind: "step", StepSize: 3, Gamma: 0.5}, func(t int) float64 { return lr * math.Pow(0.5, float64(t/3)) }},
		{"exponential", Schedule{Kind: "exponential", Gamma: 0.9}, func(t int) float64 { return lr * math.Pow(0.9, float64(t)) }},
		// Past t_max, CosineAnnealingLR climbs back (period 2·t_max).
		{"cosine", Schedule{Kind: "cosine", TMax: 4, EtaMin: 0.01}, cosine(4, 0.01)},
		{"constant warmup", Schedule{WarmupSteps: 4}, warm(4, func(int) float64 { return lr })},
		{"step warmup", Schedule{Kind: "step", StepSize: 2, Gamma: 0.1, WarmupSteps: 3},
			warm(3, func(t int) float64 { return lr * math.Pow(0.1, float64(t/2)) })},
		{"cosine warmup", Schedule{Kind: "cosine", TMax: 5, WarmupSteps: 2}, warm(2, cosine(5, 0))},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := ir.ParseModule(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := LowerOptimizer(m, &Config{Optimizer: &Optimizer{Kind: "sgd", LearningRate: lr, Schedule: c.s}}); err != nil {
				t.Fatal(err)
			}
			if err := ir.Verify(m); err != nil {
				t.Fatal(err)
			}
			mc, err := interp.NewMachine(m, 1)
			if err != nil {
				t.Fatal(err)
			}
			one := interp.New(ir.F32, nil, []float64{1})
			for step := 0; step < 12; step++ {
				before := mc.Weights["w"].Data[0]
				if _, err := mc.Run(TrainStep, one); err != nil {
					t.Fatal(err)
				}
				got, want := before-mc.Weights["w"].Data[0], c.want(step)
				if math.Abs(got-want) > 1e-6*lr+1e-6*math.Abs(want) {
					t.Errorf("step %d (t=%d): lr %.8g, want %.8g", step+1, step, got, want)
				}
			}
			if st, ok := mc.Weights[StepState]; c.s.IsConstant() == ok || (ok && st.Data[0] != 12) {
				t.Errorf("step state %v present %v after 12 steps", st, ok)
			}
		})
	}
}

// TestOptimizerStateClash checks that a model weight named like a state
// tensor is an error, not a silent reuse.
func TestOptimizerStateClash(t *testing.T) {
	m, err := ir.ParseModule(`module "m"

weight "w" : f32[] {init="zeros"}
weight "opt/step" : f32[] {init="zeros"}

func @train_step(%x: f32[]) -> (loss: f32[], "grad:w": f32[]) {
  %0 = weight {name="w"} : f32[]
  %1 = mul %x, %0 : f32[]
  return %1, %x
}
`)
	if err != nil {
		t.Fatal(err)
	}
	o := &Optimizer{Kind: "sgd", LearningRate: 0.1, Schedule: Schedule{Kind: "exponential", Gamma: 0.5}}
	err = LowerOptimizer(m, &Config{Optimizer: o})
	if err == nil || !strings.Contains(err.Error(), `state "opt/step" clashes`) {
		t.Fatalf("error %v, want a clash of opt/step", err)
	}
}
