package passes

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
)

// The random-graph differential test: random modules (randgraph_test.go)
// go through the passes one at a time; after each the module must verify,
// print and parse back to the same text, and give the results and updates
// it gave before the pass, by ir/interp, on the same random inputs and
// weights with N bound to rgN.

// rgSkip leaves passes out of the differential test, to isolate one
// pass's finding from another's: go test ./passes -run RandomGraphs
// -args -rgskip=fuse.
var rgSkip = flag.String("rgskip", "", "comma-separated passes the random-graph test leaves out")

// rgPasses returns the passes to check, in order: the pipeline's, with
// simplify and cse placed (before constant folding, and before dce) until
// the pipeline lists them itself.
func rgPasses() []Pass {
	has := map[string]bool{}
	for _, p := range Pipeline {
		has[p.Name] = true
	}
	mine := []struct {
		pass   Pass
		before string
	}{
		{Pass{Name: "simplify", Fn: Simplify}, "constfold"},
		{Pass{Name: "cse", Fn: CSE}, "dce"},
	}
	var out []Pass
	placed := map[string]bool{}
	for _, name := range strings.Split(*rgSkip, ",") {
		placed[name] = true // neither mine to place nor the pipeline's to keep
	}
	for _, p := range Pipeline {
		if placed[p.Name] {
			continue
		}
		for _, x := range mine {
			if !has[x.pass.Name] && x.before == p.Name && !placed[x.pass.Name] {
				out = append(out, x.pass)
				placed[x.pass.Name] = true
			}
		}
		out = append(out, p)
	}
	for _, x := range mine {
		if !has[x.pass.Name] && !placed[x.pass.Name] {
			out = append(out, x.pass)
		}
	}
	return out
}

// rgChangesResults names the passes that add results or updates (the
// gradients, the optimizer step): only the results and updates the module
// had before them are compared.
var rgChangesResults = map[string]bool{"autodiff": true, "optimizer": true}

// rgTol returns the tolerance for comparing values of dtype dt: the passes
// are meant to be exact, the margin is for a pass (a fused kernel) that
// rounds differently. Integers and bools must be equal.
func rgTol(dt ir.DType) (abs, rel float64) {
	switch dt {
	case ir.F64:
		return 1e-6, 1e-5
	case ir.F32:
		return 1e-5, 1e-4
	}
	return 0, 0
}

// rgCase is one generated module with its inputs and weights.
type rgCase struct {
	name    string
	m       *ir.Module
	cfg     *Config
	inputs  map[string][]*interp.Tensor // by function
	weights map[string]*interp.Tensor
}

// rgOptimizers are the optimizer settings train_step graphs cycle through.
var rgOptimizers = []*Optimizer{
	{Kind: "sgd", LearningRate: 0.1},
	{Kind: "sgd", LearningRate: 0.05, Momentum: 0.9},
	{Kind: "sgd", LearningRate: 0.05, Momentum: 0.9, Nesterov: true},
	Adam(0.01),
	{Kind: "adam", LearningRate: 0.01, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7, EpsilonStyle: "keras"},
	{Kind: "adagrad", LearningRate: 0.01, Epsilon: 1e-10, InitialAccumulator: 0.1, LRDecay: 0.01, WeightDecay: 0.001},
	{Kind: "rmsprop", LearningRate: 0.01, Alpha: 0.9, Epsilon: 1e-7, ClipValue: 0.5,
		Schedule: Schedule{Kind: "cosine", TMax: 5, EtaMin: 0.001, WarmupSteps: 1}},
	{Kind: "rmsprop", LearningRate: 0.01, Alpha: 0.9, Epsilon: 1e-7, Momentum: 0.9, Centered: true, EpsilonStyle: "keras",
		Schedule: Schedule{Kind: "exponential", Gamma: 0.9}},
	{Kind: "adamw", LearningRate: 0.01, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7, WeightDecay: 0.01, ClipNorm: 1,
		Schedule: Schedule{Kind: "step", StepSize: 2, Gamma: 0.5}},
	{Kind: "sgd", LearningRate: 0.1, Momentum: 0.9, WeightDecay: 0.01, ClipNorm: 0.5, ClipValue: 0.1},
}

// rgNewCase generates the module of seed: its kind (f64, f32, or a
// train_step) and optimizer follow from the seed, its size from steps.
func rgNewCase(seed uint64, steps int) *rgCase {
	r := rand.New(rand.NewPCG(seed, 0xd1c))
	opts := rgOptions{dtype: ir.F64, steps: steps}
	cfg := &Config{}
	switch seed % 8 {
	case 5:
		opts.dtype = ir.F32
	case 6, 7:
		// The optimizer pass makes F32 state and scalars: train_step is F32.
		opts.dtype, opts.train = ir.F32, true
		cfg.Optimizer = rgOptimizers[(seed/8)%uint64(len(rgOptimizers))]
	}
	m := rgGenerate(r, opts)
	return &rgCase{name: fmt.Sprintf("seed=%d steps=%d", seed, steps), m: m, cfg: cfg,
		inputs: rgInputs(r, m), weights: map[string]*interp.Tensor{}}
}

// rgInputs draws the inputs of every function of m, within the bounds
// the generator assumed.
func rgInputs(r *rand.Rand, m *ir.Module) map[string][]*interp.Tensor {
	in := map[string][]*interp.Tensor{}
	for _, f := range m.Funcs {
		for _, p := range f.Params {
			dims := rgConcrete(p.Type.Shape)
			data := make([]float64, rgCount(p.Type.Shape))
			for i := range data {
				data[i] = rgInputValue(r, p.Type.DType)
			}
			in[f.Name] = append(in[f.Name], interp.New(p.Type.DType, dims, data))
		}
	}
	return in
}

// addWeights gives every weight of m that has no value yet its initial
// value (its data, or its initializer: the optimizer's state).
func (c *rgCase) addWeights(m *ir.Module) error {
	missing := false
	for _, w := range m.Weights {
		if c.weights[w.Name] == nil {
			missing = true
		}
	}
	if !missing {
		return nil
	}
	mc, err := interp.NewMachine(m, 1)
	if err != nil {
		return err
	}
	for name, t := range mc.Weights {
		if c.weights[name] == nil {
			c.weights[name] = t
		}
	}
	return nil
}

// rgRoundTrip checks that m prints, parses back, verifies and prints the
// same again.
func rgRoundTrip(m *ir.Module) (*ir.Module, error) {
	text := m.String()
	back, err := ir.ParseModule(text)
	if err != nil {
		return nil, fmt.Errorf("printed module does not parse: %v", err)
	}
	if err := ir.Verify(back); err != nil {
		return nil, fmt.Errorf("parsed module does not verify: %v", err)
	}
	if again := back.String(); again != text {
		return nil, fmt.Errorf("print/parse round trip differs:\nprinted:\n%s\nreprinted:\n%s", text, again)
	}
	return back, nil
}

// run evaluates every function of m (but regions, which fused nodes call).
func (c *rgCase) run(m *ir.Module) (map[string][]*interp.Tensor, map[string]map[string]*interp.Tensor, error) {
	if err := c.addWeights(m); err != nil {
		return nil, nil, err
	}
	res := map[string][]*interp.Tensor{}
	upd := map[string]map[string]*interp.Tensor{}
	for _, f := range m.Funcs {
		if f.Region {
			continue
		}
		r, u, err := interp.Run(m, f.Name, c.inputs[f.Name], c.weights)
		if err != nil {
			return nil, nil, err
		}
		res[f.Name], upd[f.Name] = r, u
	}
	return res, upd, nil
}

// rgClose compares two tensors within the tolerance of their dtype.
func rgClose(a, b *interp.Tensor) error {
	if b == nil {
		return errors.New("missing after the pass")
	}
	if a.DType != b.DType || fmt.Sprint(a.Shape) != fmt.Sprint(b.Shape) {
		return fmt.Errorf("%s%v before, %s%v after", a.DType, a.Shape, b.DType, b.Shape)
	}
	abs, rel := rgTol(a.DType)
	for i := range a.Data {
		x, y := a.Data[i], b.Data[i]
		if x == y || (math.IsNaN(x) && math.IsNaN(y)) {
			continue
		}
		if d := math.Abs(x - y); !(d <= abs+rel*math.Max(math.Abs(x), math.Abs(y))) {
			return fmt.Errorf("element %d: %.17g before, %.17g after", i, x, y)
		}
	}
	return nil
}

// check runs the passes over the case's module one at a time.
func (c *rgCase) check() error {
	m := c.m
	if err := ir.Verify(m); err != nil {
		return fmt.Errorf("generated module does not verify (generator bug): %v\n%s", err, m)
	}
	if _, err := rgRoundTrip(m); err != nil {
		return fmt.Errorf("generated module: %v", err)
	}
	res, _, err := c.run(m)
	if err != nil {
		return fmt.Errorf("generated module does not run (generator bug): %v\n%s", err, m)
	}
	for fn, rs := range res {
		for i, t := range rs {
			for j, x := range t.Data {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return fmt.Errorf("generated module gives @%s result %d element %d = %g (generator bug: values must stay finite)\n%s", fn, i, j, x, m)
				}
			}
		}
	}
	for _, p := range rgPasses() {
		before := m.String()
		if kind, err := c.checkPass(p, m); err != nil {
			small := rgReduce(before, func(x *ir.Module) bool {
				k, _ := c.checkPass(p, x)
				return k == kind
			})
			return fmt.Errorf("pass %s: %v\nbefore the pass:\n%s\nafter:\n%s\nreduced reproducer (the module before pass %s):\n%s", p.Name, err, before, m, p.Name, small)
		}
	}
	return nil
}

// checkPass runs pass p over m and checks the module after it. On failure
// it returns the kind of failure, for the reducer to keep, and the error.
func (c *rgCase) checkPass(p Pass, m *ir.Module) (kind string, err error) {
	before, err := ir.ParseModule(m.String())
	if err != nil {
		return "parse", err
	}
	// A panicking pass is a finding like any other, to be reduced.
	defer func() {
		if r := recover(); r != nil {
			kind, err = "panic", fmt.Errorf("panic: %v", r)
		}
	}()
	if err := p.Fn(m, c.cfg); err != nil {
		return "error", err
	}
	if err := ir.Verify(m); err != nil {
		return "verify", fmt.Errorf("after the pass: %v", err)
	}
	if _, err := rgRoundTrip(m); err != nil {
		return "round trip", fmt.Errorf("after the pass: %v", err)
	}
	if kind, err := c.compare(p.Name, before, m); err != nil {
		return kind, fmt.Errorf("the pass changed the results: %v", err)
	}
	if rgIdempotent[p.Name] {
		again, _ := ir.ParseModule(m.String())
		if err := p.Fn(again, c.cfg); err != nil {
			return "again", fmt.Errorf("the pass run again: %v", err)
		}
		if again.String() != m.String() {
			return "again", fmt.Errorf("the pass run again changed the module:\nonce:\n%s\ntwice:\n%s", m, again)
		}
	}
	return "", nil
}

// rgIdempotent names the passes that must leave their own output alone:
// simplify stops at a fixed point, and cse leaves no two nodes alike.
var rgIdempotent = map[string]bool{"simplify": true, "cse": true}

// rgReduce shrinks the module text src while fails holds: it drops
// updates and results, short-circuits nodes to an operand of the same
// type, and drops what no longer has a use, for a small reproducer.
func rgReduce(src string, fails func(*ir.Module) bool) string {
	cur := src
	try := func(mut func(m *ir.Module) bool) bool {
		m, err := ir.ParseModule(cur)
		if err != nil || !mut(m) {
			return false
		}
		rgPrune(m)
		text := m.String() // fails may change m: it runs the pass
		if ir.Verify(m) != nil || !fails(m) {
			return false
		}
		cur = text
		return true
	}
	for progress, rounds := true, 0; progress && rounds < 20; rounds++ {
		progress = false
		m, err := ir.ParseModule(cur)
		if err != nil {
			return fmt.Sprintf("(does not parse: %v)\n%s", err, cur)
		}
		for fi, f := range m.Funcs {
			if f.Region {
				continue
			}
			for ui := len(f.Updates) - 1; ui >= 0; ui-- {
				progress = try(func(m *ir.Module) bool {
					g := m.Funcs[fi]
					if ui >= len(g.Updates) {
						return false
					}
					g.Updates = append(g.Updates[:ui], g.Updates[ui+1:]...)
					return true
				}) || progress
			}
			for ri := len(f.Results) - 1; ri >= 0 && len(f.Results) > 1; ri-- {
				progress = try(func(m *ir.Module) bool {
					g := m.Funcs[fi]
					if ri >= len(g.Results) || len(g.Results) < 2 {
						return false
					}
					g.Results = append(g.Results[:ri], g.Results[ri+1:]...)
					if len(g.ResultNames) > ri {
						g.ResultNames = append(g.ResultNames[:ri], g.ResultNames[ri+1:]...)
					}
					return true
				}) || progress
			}
			for vi := len(f.Body) - 1; vi >= 0; vi-- {
				for ai := 0; ai < 3; ai++ {
					progress = try(func(m *ir.Module) bool {
						g := m.Funcs[fi]
						if vi >= len(g.Body) || ai >= len(g.Body[vi].Args) {
							return false
						}
						v := g.Body[vi]
						if a := v.Args[ai]; a.Type.Equal(v.Type) {
							g.ReplaceUses(v, a)
							return true
						}
						return false
					}) || progress
				}
			}
		}
	}
	return cur
}

// rgPrune removes the nodes and weights nothing uses.
func rgPrune(m *ir.Module) {
	_ = DCE(m, nil)
	used := map[string]bool{}
	for _, f := range m.Funcs {
		for _, v := range f.Body {
			if v.Op == ir.OpWeight {
				used[v.Attrs.String("name", "")] = true
			}
		}
		for _, u := range f.Updates {
			used[u.Weight] = true
		}
	}
	ws := m.Weights[:0]
	for _, w := range m.Weights {
		if used[w.Name] {
			ws = append(ws, w)
		}
	}
	m.Weights = ws
}

// compare runs both modules and compares their results and updates: all
// of them, or for a pass that adds results or updates, those before had.
func (c *rgCase) compare(pass string, before, after *ir.Module) (string, error) {
	rb, ub, err := c.run(before)
	if err != nil {
		return "before", fmt.Errorf("before: %v", err)
	}
	ra, ua, err := c.run(after)
	if err != nil {
		return "run", fmt.Errorf("after: %v", err)
	}
	grows := rgChangesResults[pass]
	for _, fb := range before.Funcs {
		if fb.Region {
			continue
		}
		fa := after.Func(fb.Name)
		if fa == nil {
			return "shape", fmt.Errorf("@%s is gone", fb.Name)
		}
		if !grows && len(fa.Results) != len(fb.Results) {
			return "shape", fmt.Errorf("@%s has %d results, had %d", fb.Name, len(fa.Results), len(fb.Results))
		}
		name := func(f *ir.Func, i int) string {
			if i < len(f.ResultNames) {
				return f.ResultNames[i]
			}
			return ""
		}
		for i, t := range rb[fb.Name] {
			if grows && (i >= len(fa.Results) || name(fa, i) != name(fb, i)) {
				continue // a gradient result the optimizer consumed
			}
			if name(fa, i) != name(fb, i) {
				return "shape", fmt.Errorf("@%s result %d is named %q, was %q", fb.Name, i, name(fa, i), name(fb, i))
			}
			if err := rgClose(t, ra[fb.Name][i]); err != nil {
				return "values", fmt.Errorf("@%s result %d: %v", fb.Name, i, err)
			}
		}
		if !grows && len(ua[fb.Name]) != len(ub[fb.Name]) {
			return "shape", fmt.Errorf("@%s has %d updates, had %d", fb.Name, len(ua[fb.Name]), len(ub[fb.Name]))
		}
		for w, t := range ub[fb.Name] {
			if err := rgClose(t, ua[fb.Name][w]); err != nil {
				return "values", fmt.Errorf("@%s update %q: %v", fb.Name, w, err)
			}
		}
	}
	return "", nil
}

// rgTableSize is how many fixed seeds the CI test runs.
const rgTableSize = 200

func rgTableSteps(seed uint64) int { return 2 + int(seed*7%59) }

// TestPipelineRandomGraphs runs the differential test over fixed seeds.
func TestPipelineRandomGraphs(t *testing.T) {
	for seed := uint64(1); seed <= rgTableSize; seed++ {
		c := rgNewCase(seed, rgTableSteps(seed))
		if err := c.check(); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// FuzzPipeline is the differential test with the seed and size from the
// fuzzer: go test ./passes -run XXX -fuzz FuzzPipeline.
func FuzzPipeline(f *testing.F) {
	for seed := uint64(1); seed <= 16; seed++ {
		f.Add(seed, uint8(rgTableSteps(seed)))
	}
	f.Fuzz(func(t *testing.T, seed uint64, size uint8) {
		c := rgNewCase(seed, 1+int(size)%48)
		if err := c.check(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	})
}

// TestRandGraphCoversOps checks that the fixed-seed graphs hold every op
// of the op table the generator is meant to make.
func TestRandGraphCoversOps(t *testing.T) {
	seen := map[string]int{}
	for seed := uint64(1); seed <= rgTableSize; seed++ {
		c := rgNewCase(seed, rgTableSteps(seed))
		for _, f := range c.m.Funcs {
			for _, v := range f.Body {
				seen[v.Op]++
			}
		}
	}
	for _, d := range ir.Ops() {
		_, skip := rgNotGenerated[d.Name]
		switch {
		case skip && seen[d.Name] > 0:
			t.Errorf("op %s is listed as not generated, but was", d.Name)
		case !skip && seen[d.Name] == 0:
			t.Errorf("op %s is never generated: teach randgraph_test.go to make it, or list it in rgNotGenerated with the reason", d.Name)
		}
	}
	if testing.Verbose() {
		t.Logf("ops generated: %v", seen)
	}
}

// TestRandGraphGradients checks the autodiff pass on random smooth f64
// graphs against central differences of the loss in each weight.
func TestRandGraphGradients(t *testing.T) {
	for seed := uint64(1); seed <= 25; seed++ {
		if err := rgCheckGradients(seed, 4+int(seed*5%21)); err != nil {
			t.Errorf("seed=%d: %v", seed, err)
		}
	}
}

func rgCheckGradients(seed uint64, steps int) error {
	r := rand.New(rand.NewPCG(seed, 0x9ad))
	m := rgGenerate(r, rgOptions{dtype: ir.F64, steps: steps, smooth: true, train: true})
	c := &rgCase{m: m, inputs: rgInputs(r, m), weights: map[string]*interp.Tensor{}}
	if err := c.addWeights(m); err != nil {
		return err
	}
	d, err := ir.ParseModule(m.String())
	if err != nil {
		return err
	}
	if err := Autodiff(d, &Config{Optimizer: &Optimizer{Kind: "sgd", LearningRate: 0.1}}); err != nil {
		return fmt.Errorf("autodiff: %v\n%s", err, m)
	}
	x := c.inputs[TrainStep]
	res, _, err := interp.Run(d, TrainStep, x, c.weights)
	if err != nil {
		return err
	}
	lossAt := func() float64 {
		out, _, err := interp.Run(m, TrainStep, x, c.weights)
		if err != nil {
			panic(err)
		}
		return out[0].Data[0]
	}
	loss := res[0].Data[0]
	for i, name := range d.Func(TrainStep).ResultNames {
		wname, ok := strings.CutPrefix(name, GradPrefix)
		if !ok {
			continue
		}
		w := c.weights[wname]
		for _, j := range r.Perm(len(w.Data))[:min(6, len(w.Data))] {
			orig := w.Data[j]
			h := 1e-6 * math.Max(1, math.Abs(orig))
			w.Data[j] = orig + h
			up := lossAt()
			w.Data[j] = orig - h
			down := lossAt()
			w.Data[j] = orig
			fd := (up - down) / (2 * h)
			got := res[i].Data[j]
			// Central differences err by h²·f''' (tiny here) and by the
			// rounding of the loss, about ε·|loss|/h with some growth.
			tol := 1e-6 + 1e-4*math.Max(math.Abs(got), math.Abs(fd)) + 1e-7*math.Abs(loss)
			if math.Abs(fd-got) > tol {
				return fmt.Errorf("d loss/d %s[%d] = %.10g by autodiff, %.10g by finite differences\n%s", wname, j, got, fd, m)
			}
		}
	}
	return nil
}
