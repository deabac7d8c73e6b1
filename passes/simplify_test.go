package passes

import (
	"path/filepath"
	"testing"

	"github.com/dlc-project/dlc/ir"
)

// runGoldenDir runs pass over testdata/<name>/*.ir with the golden harness
// of TestGolden. TestGolden walks Pipeline only; this covers the pass
// before it is wired in, and steps aside once it is.
func runGoldenDir(t *testing.T, p Pass) {
	for _, q := range Pipeline {
		if q.Name == p.Name {
			t.Skipf("pass %s is in the pipeline: TestGolden runs its golden files", p.Name)
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", p.Name, "*.ir"))
	if len(files) == 0 {
		t.Fatalf("no golden files in testdata/%s", p.Name)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) { runGolden(t, p, file) })
	}
}

func TestSimplifyGolden(t *testing.T) {
	runGoldenDir(t, Pass{Name: "simplify", Fn: Simplify})
}

// TestSimplifyExactReciprocal checks the power-of-two test behind
// x / c → x * (1/c) at the edges of each dtype's range.
func TestSimplifyExactReciprocal(t *testing.T) {
	for _, c := range []struct {
		dt   ir.DType
		x    float64
		want float64 // 0: no exact reciprocal
	}{
		{ir.F32, 2, 0.5}, {ir.F32, -0.25, -4}, {ir.F32, 1, 1},
		{ir.F32, 3, 0}, {ir.F32, 0, 0}, {ir.F32, 0.1, 0},
		{ir.F32, 0x1p127, 0x1p-127},   // a subnormal reciprocal is still exact
		{ir.F32, 0x1p-127, 0x1p127},   // a subnormal divisor
		{ir.F32, 0x1p-149, 0},         // 2^149 overflows float32
		{ir.F64, 0x1p1023, 0x1p-1023}, // subnormal reciprocal
		{ir.F64, 0x1p-1074, 0},        // 2^1074 overflows float64
		{ir.F64, 0x1p-1022, 0x1p1022},
	} {
		got, ok := simpExactRecip(c.dt, c.x)
		if (c.want != 0) != ok || (ok && got != c.want) {
			t.Errorf("simpExactRecip(%s, %g) = %g, %v; want %g", c.dt, c.x, got, ok, c.want)
		}
	}
}
