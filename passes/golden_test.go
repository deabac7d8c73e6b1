package passes

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
)

var update = flag.Bool("update", false, "rewrite the expected output of golden files")

const wantMarker = "// want:\n"

// TestGolden runs each pass over testdata/<pass>/*.ir. A file holds the
// input module, a line "// want:", and the expected module; both are parsed
// and compared in their canonical printed form. A first line
// "// config: {json}" gives the pass's Config (e.g. the optimizer).
// go test ./passes -update rewrites the expected parts (review the diff).
func TestGolden(t *testing.T) {
	for _, p := range Pipeline {
		files, _ := filepath.Glob(filepath.Join("testdata", p.Name, "*.ir"))
		if len(files) == 0 {
			t.Errorf("pass %s has no golden files in testdata/%s", p.Name, p.Name)
		}
		for _, file := range files {
			p := p
			t.Run(p.Name+"/"+filepath.Base(file), func(t *testing.T) {
				runGolden(t, p, file)
			})
		}
	}
}

func runGolden(t *testing.T, p Pass, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	input, want, _ := strings.Cut(src, wantMarker)
	cfg := &Config{}
	if first, _, _ := strings.Cut(input, "\n"); strings.HasPrefix(first, "// config: ") {
		if err := json.Unmarshal([]byte(strings.TrimPrefix(first, "// config: ")), cfg); err != nil {
			t.Fatalf("config: %v", err)
		}
	}
	m, err := ir.ParseModule(input)
	if err != nil {
		t.Fatalf("input: %v", err)
	}
	if err := ir.Verify(m); err != nil {
		t.Fatalf("input: %v", err)
	}
	before, _ := ir.ParseModule(input)
	if err := p.Fn(m, cfg); err != nil {
		t.Fatalf("pass: %v", err)
	}
	if err := ir.Verify(m); err != nil {
		t.Fatalf("after the pass: %v\n%s", err, m)
	}
	got := m.String()
	if *update {
		if err := os.WriteFile(file, []byte(input+wantMarker+got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	wm, err := ir.ParseModule(want)
	if err != nil {
		t.Fatalf("expected output: %v", err)
	}
	if got != wm.String() {
		t.Errorf("got:\n%s\nwant:\n%s", got, wm.String())
	}
	// Passes that keep meaning (all but autodiff and optimizer, which add
	// results and updates) must give the same results before and after.
	if p.Name != "autodiff" && p.Name != "optimizer" {
		sameResults(t, before, m)
	}
}

// sameResults runs every function of both modules on the same random
// inputs (batch symbols bound to 3) and compares results and updates.
func sameResults(t *testing.T, a, b *ir.Module) {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	weights := map[string]*interp.Tensor{}
	for _, w := range a.Weights {
		weights[w.Name] = randomTensor(r, w.Type)
	}
	for _, fa := range a.Funcs {
		var inputs []*interp.Tensor
		for _, p := range fa.Params {
			inputs = append(inputs, randomTensor(r, p.Type))
		}
		ra, ua, err := interp.Run(a, fa.Name, inputs, weights)
		if err != nil {
			t.Fatalf("before: %v", err)
		}
		rb, ub, err := interp.Run(b, fa.Name, inputs, weights)
		if err != nil {
			t.Fatalf("after: %v", err)
		}
		for i := range ra {
			if err := closeTensors(ra[i], rb[i]); err != nil {
				t.Errorf("@%s result %d: %v", fa.Name, i, err)
			}
		}
		for k, v := range ua {
			if err := closeTensors(v, ub[k]); err != nil {
				t.Errorf("@%s update %q: %v", fa.Name, k, err)
			}
		}
	}
}

func randomTensor(r *rand.Rand, ty ir.Type) *interp.Tensor {
	dims, _ := ty.Shape.Resolve(map[string]int{"N": 3})
	n := 1
	for _, d := range dims {
		n *= d
	}
	data := make([]float64, n)
	for i := range data {
		data[i] = 0.25 + r.Float64()
		if ty.DType == ir.Bool {
			data[i] = float64(r.IntN(2))
		}
	}
	return &interp.Tensor{DType: ty.DType, Shape: dims, Data: data}
}

func closeTensors(a, b *interp.Tensor) error {
	if b == nil || fmt.Sprint(a.Shape) != fmt.Sprint(b.Shape) {
		return fmt.Errorf("shapes differ")
	}
	for i := range a.Data {
		if d := math.Abs(a.Data[i] - b.Data[i]); d > 1e-6*(1+math.Abs(a.Data[i])) {
			return fmt.Errorf("element %d: %g vs %g", i, a.Data[i], b.Data[i])
		}
	}
	return nil
}
