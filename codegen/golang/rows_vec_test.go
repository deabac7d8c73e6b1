package golang

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/passes"
)

// rowsKernels generates testdata file p fused and returns the source of
// its rows kernels (the functions after a `kind="rows"` doc comment).
func rowsKernels(t *testing.T, p string, noVector bool) []string {
	t.Helper()
	src, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := ir.ParseModule(string(src))
	if err != nil {
		t.Fatal(err)
	}
	if err := passes.Fuse(mod, &passes.Config{}); err != nil {
		t.Fatal(err)
	}
	files, err := Generate(mod, Options{Package: "m", NoVector: noVector})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	re := regexp.MustCompile(`(?ms)^// \S+ computes [^\n]*kind="rows"[^\n]*\nfunc .*?^}\n`)
	for _, b := range files {
		for _, f := range re.FindAll(b, -1) {
			out = append(out, string(f))
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no rows kernel", p)
	}
	return out
}

// TestRowsKernelsVectorWide checks the form of the rows kernels: with
// vector loops on, wide layer-norm and softmax rows are runtime calls,
// with no loop over the columns left; with --no-vector, scalar loops that
// sum in VecSum64's lanes. (The e2e tests check that both give the same
// bits.)
func TestRowsKernelsVectorWide(t *testing.T) {
	colLoop := regexp.MustCompile(`for j := 0; j < `)
	for _, c := range []struct {
		file  string
		calls []string
	}{
		{"testdata/rows_norm.ir", []string{"runtime.VecSum64(", "runtime.VecMax(", "runtime.VecSubS(", "runtime.VecDivS(", "runtime.VecMulS("}},
		{"testdata/rows_softmax64.ir", []string{"runtime.VecMax(", "runtime.VecSubS(", "runtime.VecExp(", "runtime.VecSum64(", "runtime.VecScale64(", "runtime.VecMulS("}},
	} {
		for _, k := range rowsKernels(t, c.file, false) {
			if colLoop.MatchString(k) {
				t.Errorf("%s: a rows kernel keeps a scalar loop over the columns:\n%s", c.file, k)
			}
		}
		all := strings.Join(rowsKernels(t, c.file, false), "")
		for _, call := range c.calls {
			if !strings.Contains(all, call) {
				t.Errorf("%s: no %s in the rows kernels:\n%s", c.file, call, all)
			}
		}
		scalar := strings.Join(rowsKernels(t, c.file, true), "")
		if strings.Contains(scalar, "runtime.Vec") || !strings.Contains(scalar, "[j&7] += float64(") {
			t.Errorf("%s, --no-vector: want scalar loops summing in eight lanes:\n%s", c.file, scalar)
		}
	}
}
