package compile

import (
	"go/format"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dlc-project/dlc/frontend"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
)

// roundTrip checks that m prints, parses back, and prints the same.
func roundTrip(t *testing.T, when string, m *ir.Module) {
	t.Helper()
	text := m.String()
	back, err := ir.ParseModule(text)
	if err != nil {
		t.Fatalf("%s: printed IR does not parse: %v", when, err)
	}
	if diff := cmp.Diff(text, back.String()); diff != "" {
		t.Fatalf("%s: print/parse round trip differs (-printed +reprinted):\n%s", when, diff)
	}
}

// TestReferenceModelPipeline lowers examples/mnist/model.json with the
// verifier after every pass and checks the printer/parser round trip on
// the IR after each.
func TestReferenceModelPipeline(t *testing.T) {
	md, err := Load("../examples/mnist/model.json", Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	traced, err := md.Build()
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, "as traced", traced)
	var seen []string
	m, err := Lower(md, Options{Verify: true, After: func(pass string, m *ir.Module) error {
		seen = append(seen, pass)
		roundTrip(t, "after "+pass, m)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) == 0 {
		t.Fatal("no pass ran")
	}
	f := m.Func("train_step")
	if f == nil || len(f.Updates) != 6+12+2 {
		t.Fatalf("train_step should update 6 weights, 12 Adam moments and 2 β powers; has %v", f)
	}
}

// TestDeterministicAndSafeNames: names from a model — quotes, backticks,
// newlines, comment closers, Go keywords — compile to valid Go, and the
// output is byte-for-byte the same each time.
func TestDeterministicAndSafeNames(t *testing.T) {
	src := "{\"name\": \"evil\\\"`\\n*/ package main\", \"input\": {\"shape\": [3]},\n" +
		" \"layers\": [{\"type\": \"dense\", \"units\": 4, \"activation\": \"relu\", \"name\": \"func\"},\n" +
		"   {\"type\": \"dense\", \"units\": 2, \"activation\": \"softmax\", \"name\": \"a\\\"b`c\\nd */ e\\u00e9\"}],\n" +
		" \"loss\": \"categorical_crossentropy\", \"optimizer\": {\"type\": \"sgd\", \"learning_rate\": 0.1, \"momentum\": 0.9}}"
	md, err := frontend.Load("evil.json", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := Package(md, "evil", false, Options{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	md2, _ := frontend.Load("evil.json", []byte(src))
	b, _, err := Package(md2, "evil", false, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("generated code differs between two runs:\n%s", diff)
	}
	for name, code := range a {
		if !strings.HasSuffix(name, ".go") {
			continue // the fused loops' assembly
		}
		formatted, err := format.Source(code)
		if err != nil {
			t.Fatalf("%s does not parse: %v", name, err)
		}
		if string(formatted) != string(code) {
			t.Errorf("%s is not gofmt-clean", name)
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, code, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name.Name != "evil" {
			t.Errorf("package %s", f.Name.Name)
		}
	}
	if _, _, err := Package(md, "func", false, Options{}); err == nil {
		t.Error("package name func accepted")
	}
	dir := t.TempDir()
	if err := WriteFiles(filepath.Join(dir, "out"), a); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "model.go")); err != nil {
		t.Fatal(err)
	}
}

func TestOverrides(t *testing.T) {
	md, err := Load("../examples/mnist/model.json", Overrides{Optimizer: "sgd", LearningRate: 0.5, Epochs: 2, BatchSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	if md.Optimizer.Kind != "sgd" || md.Optimizer.LearningRate != 0.5 || md.Train.Epochs != 2 || md.Train.BatchSize != 64 {
		t.Errorf("overrides not applied: %+v %+v", md.Optimizer, md.Train)
	}
	for _, ov := range []Overrides{{Optimizer: "adagrad9"}, {Loss: "hinge"}, {LearningRate: -1}} {
		if _, err := Load("../examples/mnist/model.json", ov); err == nil {
			t.Errorf("overrides %+v accepted", ov)
		}
	}
}

// TestFusedReferenceModel: after the pipeline, the reference model's
// train_step and predict have no elementwise op outside a fused node, and
// ir/interp gives the same results fused and unfused over 3 steps.
func TestFusedReferenceModel(t *testing.T) {
	load := func() *frontend.Model {
		md, err := Load("../examples/mnist/model.json", Overrides{})
		if err != nil {
			t.Fatal(err)
		}
		return md
	}
	fused, err := Lower(load(), Options{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	unfused, err := Lower(load(), Options{Verify: true, Disable: []string{"fuse"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fused.Funcs {
		if f.Region {
			continue
		}
		for i, v := range f.Body {
			if ir.IsElementwise(v.Op) || v.Op == ir.OpBroadcast {
				t.Errorf("@%s %%%d = %s is outside any fused node", f.Name, i, v.Op)
			}
		}
	}
	ma, err := interp.NewMachine(fused, 1)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := interp.NewMachine(unfused, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	const n = 16
	x := make([]float64, n*784)
	y := make([]float64, n*10)
	for i := range x {
		x[i] = r.Float64()
	}
	for i := 0; i < n; i++ {
		y[i*10+r.IntN(10)] = 1
	}
	xt, yt := interp.New(ir.F32, []int{n, 784}, x), interp.New(ir.F32, []int{n, 10}, y)
	for step := 0; step < 3; step++ {
		ra, err := ma.Run("train_step", xt, yt)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := mb.Run("train_step", xt, yt)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(rb[0].Data, ra[0].Data); diff != "" {
			t.Fatalf("step %d: loss differs fused/unfused: %s", step, diff)
		}
	}
	for name, w := range mb.Weights {
		if diff := cmp.Diff(w.Data, ma.Weights[name].Data); diff != "" {
			t.Errorf("weight %q differs after 3 steps fused/unfused", name)
		}
	}
}
