package golang

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/passes"
)

// Random modules for TestFusedAsmRandom (asmloop_test.go): predict
// functions whose elementwise regions become fused loops over [N,W] (and
// some over [N,3,W]) that the backend compiles into assembly (asmloop.go). The test lives in the
// external package (it shares e2e_test.go's temporary module); the
// generator is here, exported to it, so that TestAsmFuzzPlan can also plan
// the modules with the package's own planner and check that the in-place
// reuse the random modules are meant to exercise really happens.

// AsmFuzzModule is one generated module.
type AsmFuzzModule struct {
	Name    string
	Src     string // IR text
	W       int    // the inner width
	Sample  int    // elements of one sample of x and of the result
	Members int    // members of its fused regions (aliases included)
	// Shape of the module: "single" (one region, its result returned),
	// "row" (two results A, B: A read in place by a second region, B by a
	// matmul to a per-row value that region reads), "full" (the same, B
	// by a matmul to [N,W], so that the second region is its epilogue;
	// over [N,3,W] the product is an ordinary operand),
	// "pressure" (more than 29 values live at once: no assembly),
	// "pressure-control" (the same form, few enough live to fit),
	// "streams" (regions with more streams and outputs than pointer
	// registers: no assembly), "streams-control" (as many as there are).
	Form string
	// Train: the module has a train_step (predict's graph, the mean
	// squared error to y as its loss), to be completed by the pipeline
	// (autodiff, Adam) before Fuse: its backward and update regions run
	// as fused loops too, the updates in place of the weights and states.
	Train bool
}

// asmFuzzWidths are the inner widths: below 32 the loop is vector-wide
// (and so assembly) only when its dims merge into one (every operand full
// or a scalar), otherwise it stays scalar.
var asmFuzzWidths = []int{16, 17, 31, 32, 40, 100}

// AsmFuzzModules returns the test's modules, the same for every call: n
// random ones from seeds 1..n (widths, forms, [N,3,W] domains and
// train_steps in turn), then the register-pressure and pointer pairs.
func AsmFuzzModules(n int) []AsmFuzzModule {
	var out []AsmFuzzModule
	forms := []string{"single", "row", "full"}
	for i := 0; i < n; i++ {
		rng := rand.New(rand.NewPCG(uint64(i+1), 0x61736d66757a7a))
		w := asmFuzzWidths[i%len(asmFuzzWidths)]
		k := 1 + rng.IntN(40)
		switch i { // the ends of the range, whatever the seeds give
		case 0:
			k = 1
		case 1:
			k = 40
		}
		// Every fourth module is over [N,3,W]: its loops call the
		// assembly per (sample, row), and it has operands of [3,W]
		// (streams that restart per sample) and [3,1] (pinned per call).
		// Every fifth has a train_step.
		g := &asmGen{rng: rng, w: w, h: i%4 == 3, train: i%5 == 2}
		out = append(out, g.module(fmt.Sprintf("asmfuzz%d", i), forms[(i/len(asmFuzzWidths)+i)%len(forms)], k))
	}
	out = append(out, pressureModule("asmfuzz_pressure", 36), pressureModule("asmfuzz_pressure_control", 16),
		streamsModule("asmfuzz_streams", 11), streamsModule("asmfuzz_streams_control", 10))
	return out
}

// Operand classes of an [N,W] loop (an [N,3,W] one: in brackets).
const (
	gcFull   = iota // [N,W] ([N,3,W]): a stream
	gcRow           // [N,1] ([N,3,1]): one value per row (pinned per call)
	gcVec           // [W]: a stream broadcast along the rows
	gcScalar        // f32[] or f32[1]: pinned
	gcMid           // ([3,W]: a stream broadcast along the samples)
	gcMidRow        // ([3,1]: pinned per call)
)

// classDims are the domain dims an operand class spans: bit 0 the
// samples, bit 1 the middle dim (3-D only), bit 2 the columns.
var classDims = map[int]int{gcFull: 7, gcRow: 3, gcVec: 4, gcScalar: 0, gcMid: 6, gcMidRow: 2}

// gVal is a value of the generated predict. What is known of its range
// (mag, nonneg, pos) steers the generator away from NaN and overflow
// (log of negatives, exp of large values), so that most results are
// numbers and their bits are compared.
type gVal struct {
	name   string
	class  int
	isBool bool
	member bool    // computed by an elementwise node (not a leaf)
	mag    float64 // a rough bound on |value| (Inf: unknown)
	nonneg bool    // never negative
	pos    bool    // positive (or underflows to 0)
	uses   int
	region int // members: the region being generated (1, 2), -1 once the first is closed
}

// asmGen generates one module.

type asmGen struct {
	rng     *rand.Rand
	w       int
	decls   []string // weights
	body    []string
	vals    []*gVal
	members int
	next    int
	scalarT string // the scalar weight's type
	h       bool   // the domain is [N,3,W]
	train   bool   // with a train_step
}

func (g *asmGen) shape(c int) string {
	mid := ""
	if g.h {
		mid = "3,"
	}
	switch c {
	case gcFull:
		return fmt.Sprintf("[N,%s%d]", mid, g.w)
	case gcRow:
		return fmt.Sprintf("[N,%s1]", mid)
	case gcVec:
		return fmt.Sprintf("[%d]", g.w)
	case gcMid:
		return fmt.Sprintf("[3,%d]", g.w)
	case gcMidRow:
		return "[3,1]"
	}
	return g.scalarT
}

func (g *asmGen) add(v *gVal) *gVal { g.vals = append(g.vals, v); return v }

// line appends a node and, when it is a member, records it.
func (g *asmGen) line(v *gVal, op string, args ...*gVal) *gVal {
	var names []string
	for _, a := range args {
		names = append(names, a.name)
		a.uses++
	}
	dt := "f32"
	if v.isBool {
		dt = "bool"
	}
	g.body = append(g.body, fmt.Sprintf("  %s = %s %s : %s%s", v.name, op, strings.Join(names, ", "), dt, g.shape(v.class)))
	if v.member {
		g.members++
	}
	return g.add(v)
}

func (g *asmGen) fresh(prefix string) string {
	g.next++
	return fmt.Sprintf("%%%s%d", prefix, g.next)
}

func (g *asmGen) weight(name string, shape string, lim float64) *gVal {
	g.decls = append(g.decls, fmt.Sprintf("weight %q : f32%s {init=\"random_uniform\", minval=%s, maxval=%s}", name, shape, fl(-lim), fl(lim)))
	g.body = append(g.body, fmt.Sprintf("  %%%s = weight {name=%q} : f32%s", name, name, shape))
	return &gVal{name: "%" + name}
}

// fl renders x as an IR float literal.
func fl(x float64) string {
	s := fmt.Sprintf("%g", x)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

// pick returns a random value among those that ok accepts, preferring
// recent members (deeper graphs) and, with probability 0.85, those that
// prefer accepts; nil when none is accepted.
func (g *asmGen) pick(ok, prefer func(*gVal) bool) *gVal {
	var cands, good []*gVal
	for _, v := range g.vals {
		if ok(v) {
			cands = append(cands, v)
			if prefer != nil && prefer(v) {
				good = append(good, v)
			}
		}
	}
	if len(good) > 0 && g.rng.Float64() < 0.85 {
		cands = good
	}
	if len(cands) == 0 {
		return nil
	}
	if g.rng.Float64() < 0.5 { // one of the last few
		lo := max(0, len(cands)-4)
		return cands[lo+g.rng.IntN(len(cands)-lo)]
	}
	return cands[g.rng.IntN(len(cands))]
}

// broadcastClass reports whether an elementwise node over operands of
// classes cs spans the whole domain.
func broadcastClass(cs ...int) bool {
	dims := 0
	for _, c := range cs {
		dims |= classDims[c]
	}
	return dims == 7
}

var (
	gBinary  = []string{"add", "sub", "mul", "div"}
	gUnary   = []string{"neg", "sqrt", "relu", "exp", "sigmoid", "tanh", "log", "erf"}
	gCompare = []string{"greater", "greater_equal", "less", "less_equal", "equal"}
)

// member adds one random member of region reg over the values so far.
func (g *asmGen) member(reg int) {
	// A later region sometimes reads members of the first: they become
	// more results of the first region (bools among them) and more
	// streams of this one.
	borrow := reg > 1 && g.rng.Float64() < 0.4
	usable := func(v *gVal) bool { return !v.member || v.region == reg || (borrow && v.region < 0) }
	f32 := func(v *gVal) bool { return usable(v) && !v.isBool }
	full := func(v *gVal) bool { return f32(v) && v.class == gcFull }
	boolFull := func(v *gVal) bool { return usable(v) && v.isBool && v.class == gcFull }
	nv := &gVal{name: g.fresh("m"), class: gcFull, member: true, region: reg, mag: math.Inf(1)}
	for {
		switch r := g.rng.Float64(); {
		case r < 0.32: // binary arithmetic
			op := gBinary[g.rng.IntN(len(gBinary))]
			a := g.pick(f32, nil)
			var b *gVal
			if op == "div" {
				b = g.pick(f32, func(v *gVal) bool { return v.pos })
			} else {
				b = g.pick(f32, func(v *gVal) bool { return v.mag < 30 })
			}
			if !broadcastClass(a.class, b.class) {
				if g.rng.IntN(2) == 0 || op == "div" {
					a = g.pick(full, nil)
				} else {
					b = g.pick(full, nil)
				}
			}
			switch op {
			case "add":
				nv.mag, nv.nonneg, nv.pos = a.mag+b.mag, a.nonneg && b.nonneg, (a.pos && b.nonneg) || (a.nonneg && b.pos)
			case "sub":
				nv.mag = a.mag + b.mag
			case "mul":
				nv.mag, nv.nonneg = a.mag*b.mag, a == b || (a.nonneg && b.nonneg)
			}
			g.line(nv, op, a, b)
		case r < 0.62: // unary
			op := gUnary[g.rng.IntN(len(gUnary))]
			var a *gVal
			switch op {
			case "sqrt":
				a = g.pick(full, func(v *gVal) bool { return v.nonneg })
				if !a.nonneg && g.rng.Float64() < 0.9 {
					// Mostly numbers: an operand that is never negative.
					a = g.line(&gVal{name: g.fresh("m"), class: gcFull, member: true, region: reg, mag: a.mag, nonneg: true}, "relu", a)
				}
			case "log":
				a = g.pick(full, func(v *gVal) bool { return v.pos })
				if !a.pos && g.rng.Float64() < 0.9 {
					a = g.line(&gVal{name: g.fresh("m"), class: gcFull, member: true, region: reg, mag: 1, nonneg: true, pos: true}, "sigmoid", a)
				}
			case "exp":
				a = g.pick(full, func(v *gVal) bool { return v.mag < 30 })
			default:
				a = g.pick(full, nil)
			}
			switch op {
			case "neg":
				nv.mag = a.mag
			case "sqrt":
				nv.mag, nv.nonneg = math.Sqrt(a.mag), true
			case "relu":
				nv.mag, nv.nonneg = a.mag, true
			case "exp":
				nv.mag, nv.nonneg, nv.pos = math.Exp(a.mag), true, true
			case "sigmoid":
				nv.mag, nv.nonneg, nv.pos = 1, true, true
			case "tanh", "erf":
				nv.mag = 1
			case "log":
				nv.mag = max(math.Log(a.mag), 104)
			}
			g.line(nv, op, a)
		case r < 0.74: // compare
			op := gCompare[g.rng.IntN(len(gCompare))]
			a, b := g.pick(f32, nil), g.pick(f32, nil)
			if !broadcastClass(a.class, b.class) {
				a = g.pick(full, nil)
			}
			if g.rng.IntN(2) == 0 {
				a, b = b, a
			}
			nv.isBool = true
			g.line(nv, op, a, b)
		case r < 0.84: // select
			c := g.pick(func(v *gVal) bool { return usable(v) && v.isBool }, nil)
			if c == nil {
				continue
			}
			a, b := g.pick(f32, nil), g.pick(f32, nil)
			if !broadcastClass(c.class, a.class, b.class) {
				a = g.pick(full, nil)
			}
			nv.mag, nv.nonneg, nv.pos = max(a.mag, b.mag), a.nonneg && b.nonneg, a.pos && b.pos
			g.line(nv, "select", c, a, b)
		case r < 0.90: // cast to bool (NonZero)
			nv.isBool = true
			g.castLine(nv, "bool", g.pick(full, nil))
		case r < 0.93: // cast a bool back to f32 (an alias)
			c := g.pick(boolFull, nil)
			if c == nil {
				continue
			}
			nv.mag, nv.nonneg = 1, true
			g.castLine(nv, "f32", c)
		default: // an explicit broadcast (an alias): of a row, vector or scalar, or of a full value to its own shape
			a := g.pick(func(v *gVal) bool { return f32(v) && v.class != gcFull }, nil)
			if g.rng.IntN(2) == 0 {
				a = g.pick(full, nil)
			}
			nv.mag, nv.nonneg, nv.pos = a.mag, a.nonneg, a.pos
			full := g.shape(gcFull)
			g.body = append(g.body, fmt.Sprintf("  %s = broadcast %s {shape=<%s>} : f32%s", nv.name, a.name, full[1:len(full)-1], full))
			a.uses++
			g.members++
			g.add(nv)
		}
		return
	}
}

func (g *asmGen) castLine(nv *gVal, to string, a *gVal) {
	dt := "f32"
	if nv.isBool {
		dt = "bool"
	}
	g.body = append(g.body, fmt.Sprintf("  %s = cast %s {to=%s} : %s%s", nv.name, a.name, to, dt, g.shape(gcFull)))
	a.uses++
	g.members++
	g.add(nv)
}

// foldCost is the number of members sinks adds to fold region reg's
// unused members into one value.
func (g *asmGen) foldCost(reg int) int {
	n := -1
	for _, v := range g.vals {
		if v.member && v.region == reg && v.uses == 0 {
			n++
			if v.isBool {
				n++
			}
		}
	}
	return max(n, 0)
}

// sinks folds the unused members of region reg into want values (one or
// two), returned: bools through a cast, the rest by adds.
func (g *asmGen) sinks(reg, want int) []*gVal {
	var open []*gVal
	for _, v := range g.vals {
		if v.member && v.region == reg && v.uses == 0 {
			if v.isBool {
				nv := &gVal{name: g.fresh("m"), class: gcFull, member: true, region: reg, mag: 1, nonneg: true}
				g.castLine(nv, "f32", v)
				v = nv
			}
			open = append(open, v)
		}
	}
	for len(open) < want { // one sink, two results wanted: a member of it
		a := open[len(open)-1]
		nv := &gVal{name: g.fresh("m"), class: gcFull, member: true, region: reg, mag: a.mag}
		open = append(open, g.line(nv, "neg", a))
	}
	groups := make([][]*gVal, want)
	for i, v := range open {
		groups[i%want] = append(groups[i%want], v)
	}
	var out []*gVal
	for _, grp := range groups {
		acc := grp[0]
		for _, v := range grp[1:] {
			nv := &gVal{name: g.fresh("m"), class: gcFull, member: true, region: reg, mag: acc.mag + v.mag}
			acc = g.line(nv, "add", acc, v)
		}
		out = append(out, acc)
	}
	return out
}

var asmFuzzConsts = []float64{0, 1, -1, 0.5, 2, -3, 0.25, 1.5}

// module generates a module of the given form with about k members in its
// first region.
func (g *asmGen) module(name, form string, k int) AsmFuzzModule {
	w := g.w
	g.scalarT = "[]"
	if g.rng.IntN(2) == 0 {
		g.scalarT = "[1]"
	}
	g.add(&gVal{name: "%x", class: gcFull, mag: 3})
	wv := g.weight("w", fmt.Sprintf("[%d]", w), 1)
	wv.class, wv.mag = gcVec, 1
	g.add(wv)
	s := g.weight("s", g.scalarT, 1)
	s.class, s.mag = gcScalar, 1
	g.add(s)
	g.weight("v", fmt.Sprintf("[%d,1]", w), 1/math.Sqrt(float64(w)))
	g.line(&gVal{name: "%r", class: gcRow, mag: 6}, "matmul", &gVal{name: "%x"}, &gVal{name: "%v"})
	if g.h {
		hv := g.weight("h", g.shape(gcMid), 1)
		hv.class, hv.mag = gcMid, 1
		g.add(hv)
		gv := g.weight("g", g.shape(gcMidRow), 1)
		gv.class, gv.mag = gcMidRow, 1
		g.add(gv)
	}
	if g.rng.IntN(3) == 0 {
		// A second full operand, the product of a matmul: the region
		// becomes its epilogue (over [N,W]).
		g.weight("p", fmt.Sprintf("[%d,%d]", w, w), 1/math.Sqrt(float64(w)))
		g.line(&gVal{name: "%xp", class: gcFull, mag: 6}, "matmul", &gVal{name: "%x"}, &gVal{name: "%p"})
	}
	nc := g.rng.IntN(5)
	for i := 0; i < nc; i++ {
		c := asmFuzzConsts[g.rng.IntN(len(asmFuzzConsts))]
		nv := &gVal{name: fmt.Sprintf("%%c%d", i), class: gcScalar, mag: math.Abs(c), nonneg: c >= 0, pos: c > 0}
		g.body = append(g.body, fmt.Sprintf("  %s = constant {value=[%s]} : f32[]", nv.name, fl(c)))
		g.add(nv)
	}
	if g.rng.IntN(4) == 0 {
		g.body = append(g.body, fmt.Sprintf("  %%cb = constant {value=[%s]} : bool[]", fl(float64(g.rng.IntN(2)))))
		g.add(&gVal{name: "%cb", class: gcScalar, isBool: true})
	}
	for g.members+g.foldCost(1) < k {
		g.member(1)
	}
	var out *gVal
	switch form {
	case "single":
		out = g.sinks(1, 1)[0]
	default:
		ab := g.sinks(1, 2)
		a, b := ab[0], ab[1]
		// B reads A, so that the product of B depends on A's region,
		// which the second region therefore cannot take in (A would
		// not be the first region's result). B's product mixes a row:
		// a NaN or an infinity there would make the whole row NaN. B is
		// made a bounded number first.
		b = g.line(&gVal{name: g.fresh("m"), class: gcFull, member: true, region: 1}, "sub", b, a)
		zero := &gVal{name: "%zero"}
		g.body = append(g.body, "  %zero = constant {value=[0.0]} : f32[]")
		eq := g.line(&gVal{name: g.fresh("m"), class: gcFull, isBool: true, member: true, region: 1}, "equal", b, b)
		b = g.line(&gVal{name: g.fresh("m"), class: gcFull, member: true, region: 1}, "select", eq, b, zero)
		b = g.line(&gVal{name: g.fresh("m"), class: gcFull, member: true, region: 1, mag: 1}, "tanh", b)
		// Later regions read only their own members, leaves and the
		// product: a member of region 1 there would join region 1.
		for _, v := range g.vals {
			if v.member {
				v.region = -1
			}
		}
		var q *gVal
		if form == "row" {
			g.weight("u", fmt.Sprintf("[%d,1]", w), 1/math.Sqrt(float64(w)))
			q = g.line(&gVal{name: "%q", class: gcRow, mag: math.Inf(1)}, "matmul", b, &gVal{name: "%u"})
		} else {
			g.weight("k", fmt.Sprintf("[%d,%d]", w, w), 1/math.Sqrt(float64(w)))
			q = g.line(&gVal{name: "%q", class: gcFull, mag: math.Inf(1)}, "matmul", b, &gVal{name: "%k"})
		}
		// The first member reads A and the product, so that it cannot
		// join region 1, and A dies there (its buffer may take the
		// result).
		op := gBinary[g.rng.IntN(3)]
		g.line(&gVal{name: g.fresh("n"), class: gcFull, member: true, region: 2, mag: math.Inf(1)}, op, a, q)
		for i, n2 := 0, g.rng.IntN(6); i < n2; i++ {
			g.member(2)
		}
		out = g.sinks(2, 1)[0]
	}
	var b strings.Builder
	full := g.shape(gcFull)
	fmt.Fprintf(&b, "// Generated by AsmFuzzModules (codegen/golang/asmloop_gen_test.go): form %s, domain %s.\nmodule %q\n\n", form, full, name)
	for _, d := range g.decls {
		b.WriteString(d + "\n")
	}
	fmt.Fprintf(&b, "\nfunc @predict(%%x: f32%s) -> (f32%s) {\n", full, full)
	for _, l := range g.body {
		b.WriteString(l + "\n")
	}
	fmt.Fprintf(&b, "  return %s\n}\n", out.name)
	if g.train {
		fmt.Fprintf(&b, "\nfunc @train_step(%%x: f32%s, %%y: f32%s) -> (loss: f32[]) {\n", full, full)
		for _, l := range g.body {
			b.WriteString(l + "\n")
		}
		axes := "0, 1"
		if g.h {
			axes = "0, 1, 2"
		}
		fmt.Fprintf(&b, "  %%dl = sub %s, %%y : f32%s\n  %%sq = mul %%dl, %%dl : f32%s\n", out.name, full, full)
		fmt.Fprintf(&b, "  %%loss = reduce_mean %%sq {axes=[%s], keepdims=false} : f32[]\n  return %%loss\n}\n", axes)
	}
	sample := w
	if g.h {
		sample *= 3
	}
	return AsmFuzzModule{Name: name, Src: b.String(), W: w, Sample: sample, Members: g.members, Form: form, Train: g.train}
}

// pressureModule is one region over [N,100]: a chain of k members, each
// of the one before (and x or a constant), all kept live to a sum at the
// end, so that k values are live at once when the last is computed.
func pressureModule(name string, k int) AsmFuzzModule {
	var b strings.Builder
	form := "pressure"
	if k <= 20 {
		form = "pressure-control"
	}
	fmt.Fprintf(&b, "// Generated by AsmFuzzModules (codegen/golang/asmloop_gen_test.go): %d values live at once.\nmodule %q\n\n", k, name)
	b.WriteString("func @predict(%x: f32[N,100]) -> (f32[N,100]) {\n  %c = constant {value=[0.75]} : f32[]\n")
	members := 0
	prev := "%x"
	for i := 0; i < k; i++ {
		op, arg := "add", "%x"
		if i%2 == 1 {
			op, arg = "mul", "%c"
		}
		fmt.Fprintf(&b, "  %%m%d = %s %s, %s : f32[N,100]\n", i, op, prev, arg)
		prev = fmt.Sprintf("%%m%d", i)
		members++
	}
	acc := "%m0"
	for i := 1; i < k; i++ {
		fmt.Fprintf(&b, "  %%s%d = add %s, %%m%d : f32[N,100]\n", i, acc, i)
		acc = fmt.Sprintf("%%s%d", i)
		members++
	}
	fmt.Fprintf(&b, "  return %s\n}\n", acc)
	return AsmFuzzModule{Name: name, Src: b.String(), W: 100, Sample: 100, Members: members, Form: form}
}

// TestAsmFuzzPlan checks that the random modules of the "row" form have
// what the form is for: the second region's result takes, in place, the
// space of the first region's result A that it reads (so that its loop
// stores over a stream it loaded at the same index). (When the second
// region is the epilogue of x's product, that product is written to its
// output instead.)
func TestAsmFuzzPlan(t *testing.T) {
	checked := 0
	for _, m := range AsmFuzzModules(30) {
		if m.Form != "row" {
			continue
		}
		mod, err := ir.ParseModule(m.Src)
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		if err := passes.Fuse(mod, &passes.Config{}); err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		g := planModule(t, mod, false)
		// The last fused node (the second region) is predict's result.
		f := g.mod.Func("predict")
		last := -1
		for i, v := range f.Body {
			if v.Op == ir.OpFused {
				last = i
			}
		}
		if f.Body[last].Attrs.String("kind", "") != ir.FuseElementwise {
			continue
		}
		checked++
		plan, _, _ := strings.Cut(g.planText(), "func @train_step")
		if !regexp.MustCompile(`(?m)^  %` + strconv.Itoa(last) + ` .* in place of %`).MatchString(plan) {
			t.Errorf("%s: the second region's result is not in place of its operand A:\n%s\n%s", m.Name, plan, mod)
		}
	}
	if checked < 3 {
		t.Fatalf("%d modules of the row form with an elementwise second region, want 3 or more", checked)
	}
}

// streamsModule is two regions over [N,40], k+1 pointers each (the
// assembly has 11 pointer registers): the first reads x and has k
// results, which the second reads, with a per-row product of the first
// (which keeps the two apart), into its one result.
func streamsModule(name string, k int) AsmFuzzModule {
	var b strings.Builder
	form := "streams"
	if k+1 <= 11 {
		form = "streams-control"
	}
	fmt.Fprintf(&b, "// Generated by AsmFuzzModules (codegen/golang/asmloop_gen_test.go): %d streams and an output.\nmodule %q\n\n", k, name)
	b.WriteString("weight \"u\" : f32[40,1] {init=\"random_uniform\", minval=-0.2, maxval=0.2}\n\n")
	b.WriteString("func @predict(%x: f32[N,40]) -> (f32[N,40]) {\n  %u = weight {name=\"u\"} : f32[40,1]\n")
	members := 0
	for i := 0; i < k; i++ {
		fmt.Fprintf(&b, "  %%c%d = constant {value=[%s]} : f32[]\n", i, fl(0.25*float64(i+1)))
		// A chain, so that all of them are in one region with the
		// product's operand (the second region cannot take any).
		prev := "%x"
		if i > 0 {
			prev = fmt.Sprintf("%%a%d", i-1)
		}
		fmt.Fprintf(&b, "  %%a%d = mul %s, %%c%d : f32[N,40]\n", i, prev, i)
		members++
	}
	fmt.Fprintf(&b, "  %%q = matmul %%a%d, %%u : f32[N,1]\n", k-1)
	b.WriteString("  %s0 = sub %a0, %q : f32[N,40]\n")
	members++
	for i := 1; i < k; i++ {
		fmt.Fprintf(&b, "  %%s%d = add %%s%d, %%a%d : f32[N,40]\n", i, i-1, i)
		members++
	}
	fmt.Fprintf(&b, "  return %%s%d\n}\n", k-1)
	return AsmFuzzModule{Name: name, Src: b.String(), W: 40, Sample: 40, Members: members, Form: form}
}
