package golang_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlc-project/dlc/codegen/golang"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/runtime"
)

// colSumRed is one reduction of the column-sum test: x, f32[N,6,R],
// viewed with shape view (a reshape, or x itself), reduced over axes.
type colSumRed struct {
	op   string
	view []int // -1 is the batch
	axes []int
}

// colSumReds cover the column-sum kernel's shapes: the batch alone
// reduced (the kept run 6R, merged), the batch and the next dim (run R),
// a kept batch with an inner dim reduced (the run inside a kept outer
// dim), and two reduced dims that do not merge around a kept one.
var colSumReds = []colSumRed{
	{ir.OpReduceSum, []int{-1, 6, 0}, []int{0}},
	{ir.OpReduceMean, []int{-1, 6, 0}, []int{0}},
	{ir.OpReduceSum, []int{-1, 6, 0}, []int{0, 1}},
	{ir.OpReduceMean, []int{-1, 6, 0}, []int{0, 1}},
	{ir.OpReduceSum, []int{-1, 6, 0}, []int{1}},
	{ir.OpReduceMean, []int{-1, 6, 0}, []int{1}},
	{ir.OpReduceSum, []int{-1, 2, 3, 0}, []int{0, 2}},
	{ir.OpReduceMean, []int{-1, 2, 3, 0}, []int{0, 2}},
}

// colSumModule is the test module for the kept run r: every reduction
// of colSumReds, each made per-sample (a batch-free result broadcast over
// the batch; a copy, so its bits are the reduction's) and concatenated.
func colSumModule(r int) (src string, width int) {
	var b strings.Builder
	fmt.Fprintf(&b, "module \"colsum%d\"\n\nfunc @predict(%%x: f32[N,6,%d]) -> (f32[N,?]) {\n", r, r)
	var parts []string
	for i, c := range colSumReds {
		dims, kept, batched := make([]string, len(c.view)), []string{}, false
		keptSize := 1
		for d, v := range c.view {
			s := colSumDim(v, r)
			dims[d] = s
			if !colSumHas(c.axes, d) {
				kept = append(kept, s)
				if v == -1 {
					batched = true
				} else {
					keptSize *= colSumSize(v, r)
				}
			}
		}
		in := "%x"
		if len(c.view) != 3 {
			in = fmt.Sprintf("%%v%d", i)
			fmt.Fprintf(&b, "  %s = reshape %%x {shape=<%s>} : f32[%s]\n", in, strings.Join(dims, ","), strings.Join(dims, ","))
		}
		axes := make([]string, len(c.axes))
		for j, a := range c.axes {
			axes[j] = fmt.Sprint(a)
		}
		fmt.Fprintf(&b, "  %%r%d = %s %s {axes=[%s]} : f32[%s]\n", i, c.op, in, strings.Join(axes, ", "), strings.Join(kept, ","))
		if batched {
			fmt.Fprintf(&b, "  %%p%d = reshape %%r%d {shape=<N,%d>} : f32[N,%d]\n", i, i, keptSize, keptSize)
		} else {
			fmt.Fprintf(&b, "  %%q%d = reshape %%r%d {shape=<1,%d>} : f32[1,%d]\n", i, i, keptSize, keptSize)
			fmt.Fprintf(&b, "  %%p%d = broadcast %%q%d {shape=<N,%d>} : f32[N,%d]\n", i, i, keptSize, keptSize)
		}
		parts = append(parts, fmt.Sprintf("%%p%d", i))
		width += keptSize
	}
	fmt.Fprintf(&b, "  %%out = concat %s {axis=1} : f32[N,%d]\n  return %%out\n}\n", strings.Join(parts, ", "), width)
	return strings.Replace(b.String(), "f32[N,?]", fmt.Sprintf("f32[N,%d]", width), 1), width
}

func colSumDim(v, r int) string {
	if v == -1 {
		return "N"
	}
	return fmt.Sprint(colSumSize(v, r))
}

func colSumSize(v, r int) int {
	if v == 0 {
		return r
	}
	return v
}

func colSumHas(s []int, x int) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// colSumRef is the scalar reference: per kept element (row-major), acc
// starts at 0.0 and adds float64(x) over the reduced elements in
// row-major order (outermost reduced dim first), or in VecSum64's blocked
// order where no non-unit kept dim follows a reduced one (a row sum, not
// a column sum), then rounds to float32,
// dividing by the count first for a mean; the results of a batch-free
// reduction are repeated for each sample, as the module broadcasts them.
func colSumRef(x []float32, n, r int) []float32 {
	var parts [][]float32 // per reduction: [n][k] or [k]
	var batched []bool
	for _, c := range colSumReds {
		dims := make([]int, len(c.view))
		for d, v := range c.view {
			if v == -1 {
				dims[d] = n
			} else {
				dims[d] = colSumSize(v, r)
			}
		}
		var keptDims, redDims []int
		for d := range dims {
			if colSumHas(c.axes, d) {
				redDims = append(redDims, d)
			} else {
				keptDims = append(keptDims, d)
			}
		}
		strides := make([]int, len(dims))
		s := 1
		for d := len(dims) - 1; d >= 0; d-- {
			strides[d], s = s, s*dims[d]
		}
		count := 1
		for _, d := range redDims {
			count *= dims[d]
		}
		// Reduced dims that are the innermost non-unit ones are a row sum,
		// in runtime.VecSum64's blocked order (as before this kernel).
		lastKept, firstRed := -1, len(dims)
		for d := len(dims) - 1; d >= 0; d-- {
			switch {
			case dims[d] == 1:
			case colSumHas(c.axes, d):
				firstRed = d
			case lastKept < 0:
				lastKept = d
			}
		}
		rowSum := firstRed < len(dims) && firstRed > lastKept
		var out []float32
		colSumEach(dims, keptDims, strides, func(kOff int) {
			acc, i := 0.0, 0
			var lanes [8]float64
			colSumEach(dims, redDims, strides, func(rOff int) {
				acc += float64(x[kOff+rOff])
				lanes[i%8] += float64(x[kOff+rOff])
				i++
			})
			if rowSum {
				acc = runtime.SumLanes64(&lanes)
			}
			if c.op == ir.OpReduceMean {
				out = append(out, float32(acc/float64(count)))
			} else {
				out = append(out, float32(acc))
			}
		})
		parts = append(parts, out)
		batched = append(batched, c.view[0] == -1 && !colSumHas(c.axes, 0))
	}
	var res []float32
	for i := 0; i < n; i++ {
		for p, out := range parts {
			if batched[p] {
				k := len(out) / n
				res = append(res, out[i*k:(i+1)*k]...)
			} else {
				res = append(res, out...)
			}
		}
	}
	return res
}

// colSumEach calls f with the offset Σ idx[j]*strides[which[j]] for
// every index idx over the dims which, in row-major order.
func colSumEach(dims, which, st []int, f func(off int)) {
	idx := make([]int, len(which))
	for {
		off := 0
		for j, d := range which {
			off += idx[j] * st[d]
		}
		f(off)
		j := len(which) - 1
		for ; j >= 0; j-- {
			idx[j]++
			if idx[j] < dims[which[j]] {
				break
			}
			idx[j] = 0
		}
		if j < 0 {
			return
		}
	}
}

// colSumRuns are the kept runs R of the test modules: shorter than a
// vector, one, several, not a multiple of 8, and longer than the kernel's
// accumulator chunk (256).
var colSumRuns = []int{1, 7, 16, 64, 100, 300}

// TestColSumBits checks the column-sum reduction kernels (kernels_colsum.go)
// bit for bit against a direct scalar reference, and the NoVector build,
// which keeps the strided scalar loop, against the same reference: sums
// and means over leading axes of f32[N,6,R] for the runs of colSumRuns,
// at batch 1 and 128, with 1 and 3 workers (the pool splits the kept
// elements; the bits must not depend on how).
func TestColSumBits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs generated code; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	dir := t.TempDir()
	writeTempModule(t, goBin, dir)
	var pkgs []string
	width := map[int]int{}
	for _, r := range colSumRuns {
		src, w := colSumModule(r)
		width[r] = w
		for _, noVector := range []bool{false, true} {
			mod, err := ir.ParseModule(src)
			if err != nil {
				t.Fatalf("%v\n%s", err, src)
			}
			pkg := fmt.Sprintf("colsum%d", r)
			if noVector {
				pkg += "scalar"
			}
			files, err := golang.Generate(mod, golang.Options{Package: pkg, NoVector: noVector})
			if err != nil {
				t.Fatalf("%s: %v", pkg, err)
			}
			writePackage(t, filepath.Join(dir, pkg), files)
			calls := 0
			for _, b := range files {
				calls += strings.Count(string(b), "runtime.VecAccumRows64(")
			}
			want := len(colSumReds)
			if r == 1 {
				// The unit dim drops out: all but the two reductions over
				// the batch alone reduce the innermost dim left, row sums.
				want = 2
			}
			if noVector {
				want = 0
			}
			if calls != want {
				t.Errorf("%s: %d calls of runtime.VecAccumRows64, want %d", pkg, calls, want)
			}
			pkgs = append(pkgs, pkg)
		}
	}
	var drv strings.Builder
	drv.WriteString("package main\n\nimport (\n\t\"encoding/json\"\n\t\"os\"\n")
	for _, p := range pkgs {
		fmt.Fprintf(&drv, "\t%q\n", "gentest/"+p)
	}
	drv.WriteString(")\n\ntype model interface {\n\tPredict(out, x []float32, n int)\n\tOutputSize() int\n\tClose()\n}\n\n")
	drv.WriteString("func main() {\n\tvar in map[string][]float32\n\tb, _ := os.ReadFile(os.Args[1])\n\tif err := json.Unmarshal(b, &in); err != nil {\n\t\tpanic(err)\n\t}\n\tout := map[string][]float32{}\n")
	drv.WriteString("\trun := func(name string, x []float32, mk func(workers int) model) {\n\t\tfor _, n := range []int{1, 128} {\n\t\t\tfor _, w := range []int{1, 3} {\n\t\t\t\tm := mk(w)\n\t\t\t\tp := make([]float32, n*m.OutputSize())\n\t\t\t\tm.Predict(p, x, n)\n\t\t\t\tm.Close()\n\t\t\t\tout[name] = append(out[name], p...)\n\t\t\t}\n\t\t}\n\t}\n")
	for _, p := range pkgs {
		r := strings.TrimSuffix(strings.TrimPrefix(p, "colsum"), "scalar")
		fmt.Fprintf(&drv, "\trun(%q, in[%q], func(w int) model { return %s.New(%s.Options{MaxBatch: 128, Workers: w}) })\n", p, r, p, p)
	}
	drv.WriteString("\tb, _ = json.Marshal(out)\n\tif err := os.WriteFile(os.Args[2], b, 0o644); err != nil {\n\t\tpanic(err)\n\t}\n}\n")
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(drv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// Inputs that make the order of the float64 additions show in the
	// float32 results: values of magnitude 2^-10 to 2^10, and in the
	// even rows of dim 1, +2^45 in samples 1, 5, 9, ... and -2^45 in
	// samples 2, 6, 10, ..., which cancel down the batch after rounding
	// away the low bits of what came before them (summing each column in
	// reverse, or in VecSum64's blocked order, fails this test).
	inputs := map[string][]float32{}
	for _, r := range colSumRuns {
		x := make([]float32, 128*6*r)
		for i := range x {
			h := uint64(i)*0x9e3779b97f4a7c15 + uint64(r)
			h ^= h >> 29
			h *= 0xbf58476d1ce4e5b9
			h ^= h >> 32
			m := float64(h&(1<<24-1)) / (1 << 24)
			if h>>24&1 == 1 {
				m = -m
			}
			x[i] = float32(math.Ldexp(m, int(h>>32%21)-10))
			if sample, j := i/(6*r), i/r%6; j%2 == 0 && sample%4 == 1 {
				x[i] += 1 << 45
			} else if j%2 == 0 && sample%4 == 2 {
				x[i] -= 1 << 45
			}
		}
		inputs[fmt.Sprint(r)] = x
	}
	writeJSON(t, filepath.Join(dir, "in.json"), inputs)
	goRun(t, goBin, dir, nil, "in.json", "out.json")
	raw, err := os.ReadFile(filepath.Join(dir, "out.json"))
	if err != nil {
		t.Fatal(err)
	}
	var outputs map[string][]float32
	if err := json.Unmarshal(raw, &outputs); err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		r := 0
		fmt.Sscan(strings.TrimSuffix(strings.TrimPrefix(p, "colsum"), "scalar"), &r)
		got := outputs[p]
		off := 0
		for _, n := range []int{1, 128} {
			want := colSumRef(inputs[fmt.Sprint(r)], n, r)
			if len(want) != n*width[r] {
				t.Fatalf("%s: the reference has %d elements, want %d", p, len(want), n*width[r])
			}
			for _, w := range []int{1, 3} {
				if off+len(want) > len(got) {
					t.Fatalf("%s: %d results, fewer than expected", p, len(got))
				}
				for i, v := range want {
					if g := got[off+i]; math.Float32bits(g) != math.Float32bits(v) {
						t.Errorf("%s, n=%d, %d workers: element %d (sample %d, column %d) = %v, the scalar reference %v",
							p, n, w, i, i/width[r], i%width[r], g, v)
						break
					}
				}
				off += len(want)
			}
		}
	}
}
