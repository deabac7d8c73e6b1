package golang

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/passes"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/memplan")

// planModule plans m as Generate would.
func planModule(t *testing.T, m *ir.Module, noFuse bool) *gen {
	t.Helper()
	if err := ir.Verify(m); err != nil {
		t.Fatal(err)
	}
	g := &gen{mod: m, pkg: "model", noFuse: noFuse, helpers: map[string]bool{}}
	if err := g.plan(); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestMemPlanGolden plans each testdata/memplan/*.ir module and compares
// the plan (every buffer's offset, size and lifetime, and the arena size)
// with the .plan file next to it. go test -run MemPlanGolden -update
// rewrites the .plan files.
func TestMemPlanGolden(t *testing.T) {
	paths, err := filepath.Glob("testdata/memplan/*.ir")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no testdata/memplan/*.ir (%v)", err)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			g := planModule(t, parseFile(t, p), false)
			got := g.planText()
			golden := strings.TrimSuffix(p, ".ir") + ".plan"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("plan differs from %s (-want +got):\n%s", golden, diff)
			}
			checkPlan(t, g)
		})
	}
}

// checkPlan checks the planner's invariants on g's plan for several
// MaxBatch values: every arena buffer lies in the arena; two buffers of one
// function that overlap in memory are never live at the same time, except
// a result that took, in place, the space of an operand its node reads
// element for element and that dies there; a buffer that persists after
// its function's call (TrainOutput's) overlaps no buffer of another
// function. It then checks the buffers outside the arena (checkOutside).
func checkPlan(t *testing.T, g *gen) {
	t.Helper()
	type owned struct {
		fp *fnPlan
		b  *valPlan
	}
	var all []owned
	for _, fp := range g.fns() {
		for _, b := range fp.bufs {
			if b.kind == inArena {
				all = append(all, owned{fp, b})
			}
		}
	}
	for _, mb := range []int64{1, 2, 3, 8, 128} {
		size := g.arena.eval(mb)
		for _, x := range all {
			lo, n := x.b.off.eval(mb), x.b.size.eval(mb)
			if lo < 0 || lo+n > size {
				t.Fatalf("mb=%d: %s of @%s at [%d, %d) is outside the arena of %d", mb, x.b.name, x.fp.f.Name, lo, lo+n, size)
			}
		}
		for i, x := range all {
			for _, y := range all[i+1:] {
				a, b := x.b, y.b
				alo, ahi := a.off.eval(mb), a.off.eval(mb)+a.size.eval(mb)
				blo, bhi := b.off.eval(mb), b.off.eval(mb)+b.size.eval(mb)
				if alo >= bhi || blo >= ahi {
					continue
				}
				switch {
				case x.fp != y.fp && (a.persist || b.persist):
					t.Fatalf("mb=%d: %s of @%s and %s of @%s share memory", mb, a.name, x.fp.f.Name, b.name, y.fp.f.Name)
				case x.fp != y.fp:
				case a.last < b.def || b.last < a.def:
				case inPlace(a, b) || inPlace(b, a):
				default:
					t.Fatalf("mb=%d: @%s: %s (live %d..%d) and %s (live %d..%d) share memory", mb, x.fp.f.Name,
						a.name, a.def, a.last, b.name, b.def, b.last)
				}
			}
		}
	}
	for _, fp := range g.fns() {
		checkOutside(t, g, fp)
	}
}

// checkOutside checks the buffers of fp outside the arena. Kernels write
// only arena buffers and state buffers, never a parameter, a weight read
// or a constant, and only at the node of the value written. Without reuse
// (NoFuse) the parameters and every value are in the arena; with it, the
// parameters are the caller's slices. A state's buffer holds its value on
// entry from the start of the call until its last read (found here from
// the kernels, the results and the updates, independently of the
// planner), and the value written in place over it, which must be the
// state's update, from its node on: the two never overlap except at the
// node, where only the one kernel writing the new value reads the old one,
// element for element at the index it writes (as one of its donors).
func checkOutside(t *testing.T, g *gen, fp *fnPlan) {
	t.Helper()
	name := "@" + fp.f.Name
	for _, p := range fp.params {
		if want := map[bool]storage{true: inArena, false: inParam}[g.noFuse]; p.kind != want {
			t.Errorf("%s: %s has storage %d, want %d", name, p.name, p.kind, want)
		}
	}
	writers := map[*valPlan][]*kernel{}
	for _, k := range fp.kernels {
		for _, o := range append(append([]*valPlan(nil), k.outs...), k.tmps...) {
			if o.kind != inArena && o.kind != inState {
				t.Fatalf("%s: kernel %s writes %s, which is neither in the arena nor an update in place", name, k.name, o.name)
			}
			if o.def != k.at {
				t.Fatalf("%s: kernel %s at %d writes %s, made at %d", name, k.name, k.at, o.name, o.def)
			}
			writers[o] = append(writers[o], k)
		}
	}
	// After the kernels the generated code reads the weights that are
	// results, and those that updates of other weights copy.
	readAfter := map[*weightPlan]bool{}
	for _, r := range fp.f.Results {
		if vp := fp.vals[r]; vp.kind == inWeight {
			readAfter[vp.w] = true
		}
	}
	updateOf := map[*weightPlan]*valPlan{}
	for _, u := range fp.f.Updates {
		target := g.byName[u.Weight]
		vp := fp.vals[u.Value]
		updateOf[target] = vp
		if vp.kind == inWeight && vp.w != target {
			readAfter[vp.w] = true
		}
	}
	written := map[*weightPlan]*valPlan{}
	for _, b := range fp.bufs {
		if b.kind != inState {
			continue
		}
		s := b.w
		switch {
		case g.noFuse:
			t.Fatalf("%s: NoFuse: %s is written over state %q", name, b.name, s.w.Name)
		case written[s] != nil:
			t.Fatalf("%s: %s and %s are both written over state %q", name, written[s].name, b.name, s.w.Name)
		case updateOf[s] != b:
			t.Fatalf("%s: %s is written over state %q but is not its update", name, b.name, s.w.Name)
		case b.size != constMono(s.size):
			t.Fatalf("%s: %s (size %v) is written over state %q of %d elements", name, b.name, b.size, s.w.Name, s.size)
		case readAfter[s]:
			t.Fatalf("%s: %s is written over state %q, whose value on entry is read after the kernels", name, b.name, s.w.Name)
		case len(writers[b]) == 0:
			t.Fatalf("%s: no kernel writes %s", name, b.name)
		}
		written[s] = b
		for _, k := range fp.kernels {
			for _, in := range k.ins {
				if in.kind != inWeight || in.w != s || k.at < b.def {
					continue
				}
				ok := k.at == b.def && len(writers[b]) == 1 && writers[b][0] == k && slices.Contains(b.donors, in)
				if !ok {
					t.Fatalf("%s: kernel %s at %d reads the old value of state %q, which %s (written at %d) overwrites",
						name, k.name, k.at, s.w.Name, b.name, b.def)
				}
			}
		}
	}
}

// inPlace reports whether b legitimately took a's space: a is one of the
// operands b's node may overwrite and dies where b is written.
func inPlace(a, b *valPlan) bool {
	if b.inPlaceOf != a || a.last != b.def || a.size != b.size {
		return false
	}
	for _, d := range b.donors {
		if d == a {
			return true
		}
	}
	return false
}

// TestMemPlanInvariants checks the planner's invariants, and that it never
// needs more than one buffer per value, on the testdata modules (as
// written and after passes.Fuse) and on random modules.
func TestMemPlanInvariants(t *testing.T) {
	paths, _ := filepath.Glob("testdata/*.ir")
	more, _ := filepath.Glob("testdata/memplan/*.ir")
	paths = append(paths, more...)
	var mods []*ir.Module
	var names []string
	for _, p := range paths {
		mods, names = append(mods, parseFile(t, p)), append(names, p)
		fused := parseFile(t, p)
		if err := passes.Fuse(fused, &passes.Config{}); err != nil {
			t.Fatal(err)
		}
		mods, names = append(mods, fused), append(names, p+" (fused)")
	}
	for seed := range 40 {
		m := randomModule(t, uint64(seed))
		name := fmt.Sprintf("random %d", seed)
		if seed%2 == 1 {
			fused := randomModule(t, uint64(seed))
			err := passes.Fuse(fused, &passes.Config{})
			if err == nil {
				err = ir.Verify(fused)
			}
			if err != nil {
				// Not the planner's to judge: keep the module unfused.
				t.Logf("%s: passes.Fuse: %v", name, err)
			} else {
				m, name = fused, name+" fused"
			}
		}
		mods, names = append(mods, m), append(names, name)
	}
	for i, m := range mods {
		t.Run(names[i], func(t *testing.T) {
			planned := planModule(t, m, false)
			checkPlan(t, planned)
			base := planModule(t, m, true)
			checkPlan(t, base)
			for _, mb := range []int64{1, 128} {
				if p, b := planned.arena.eval(mb), base.arena.eval(mb); p > b {
					t.Errorf("mb=%d: planned arena %d > %d without reuse", mb, p, b)
				}
			}
			for _, fp := range base.fns() {
				for _, b := range fp.bufs {
					if b.inPlaceOf != nil {
						t.Errorf("NoFuse: %s shares its space", b.name)
					}
				}
			}
		})
	}
}

// randomModule builds a random predict function over x: f32[N,8]: chains
// of elementwise ops with broadcasts, reductions and softmax over the last
// axis, products with a weight and over the batch, reshapes and
// transposes, all finally summed into the result.
func randomModule(t *testing.T, seed uint64) *ir.Module {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	m := &ir.Module{Name: "random"}
	for _, w := range []struct {
		name  string
		shape []int64
	}{{"w", []int64{8, 8}}, {"b", []int64{8}}} {
		if err := m.AddWeight(&ir.Weight{Name: w.name, Type: ir.TensorOf(ir.F32, ir.ShapeOf(w.shape...)...), Trainable: true,
			Init: ir.Attrs{"init": "zeros"}}); err != nil {
			t.Fatal(err)
		}
	}
	b := ir.NewFunc(m, "predict")
	n := ir.S("N")
	x := b.Param("x", ir.TensorOf(ir.F32, n, ir.C(8)))
	full := []*ir.Value{x} // f32[N,8] values
	var rows []*ir.Value   // f32[N,1] values
	pick := func(vs []*ir.Value) *ir.Value { return vs[rng.IntN(len(vs))] }
	for range 6 + rng.IntN(14) {
		v := pick(full)
		switch rng.IntN(10) {
		case 0, 1:
			full = append(full, b.Unary([]string{ir.OpExp, ir.OpTanh, ir.OpRelu, ir.OpNeg}[rng.IntN(4)], v))
		case 2, 3:
			full = append(full, b.Op([]string{ir.OpAdd, ir.OpMul, ir.OpSub}[rng.IntN(3)], nil, v, pick(full)))
		case 4:
			full = append(full, b.Add(v, b.Weight("b")))
		case 5:
			rows = append(rows, b.ReduceSum(v, []int64{-1}, true))
		case 6:
			if len(rows) > 0 {
				full = append(full, b.Mul(v, pick(rows)))
			} else {
				full = append(full, b.Op(ir.OpSoftmax, ir.Attrs{"axis": int64(-1)}, v))
			}
		case 7:
			full = append(full, b.Op(ir.OpMatMul, nil, v, b.Weight("w")))
		case 8:
			r := b.Reshape(v, ir.Shape{n, ir.C(2), ir.C(4)})
			full = append(full, b.Reshape(b.Op(ir.OpTranspose, ir.Attrs{"perm": []int64{0, 2, 1}}, r), ir.Shape{n, ir.C(8)}))
		case 9:
			g := b.Op(ir.OpMatMul, ir.Attrs{"transpose_a": true}, v, pick(full)) // [8,8], over the batch
			full = append(full, b.Add(v, b.ReduceSum(g, []int64{0}, false)))
		}
	}
	out := full[len(full)-1]
	for _, v := range full[max(0, len(full)-4) : len(full)-1] {
		out = b.Add(out, v)
	}
	b.Return(nil, out)
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}
