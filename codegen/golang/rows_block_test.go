package golang_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"

	"github.com/dlc-project/dlc/codegen/golang"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/passes"
)

// rowsBlockModule is a predict function whose short rows (width W, rows
// [N] or [N,3]) take every path of the block form: a row vector from an
// operand broadcast along the rows (a per-row loop), softmax, a
// log_softmax reusing its max and sum, a log_softmax of the operand
// itself (RowsMax over the operand), lifted exp, mul and reductions
// (RowsSum, RowsMax, RowsMean), row scalars computed from them and read
// by a later row loop. The results are added at similar magnitudes, so
// that a last-bit difference in any of them reaches the output.
const rowsBlockModule = `module "rowsblock"

weight "b" : f32[{{.W}}] {init="random_uniform", minval=-1.0, maxval=1.0}

func @predict(%x: f32[{{.Rows}},{{.W}}]) -> (f32[{{.Rows}},{{.W}}]) {
  %b = weight {name="b"} : f32[{{.W}}]
  %0 = add %x, %b : f32[{{.Rows}},{{.W}}]
  %1 = softmax %0 {axis=-1} : f32[{{.Rows}},{{.W}}]
  %2 = log_softmax %0 {axis=-1} : f32[{{.Rows}},{{.W}}]
  %3 = log_softmax %x {axis=-1} : f32[{{.Rows}},{{.W}}]
  %4 = exp %2 : f32[{{.Rows}},{{.W}}]
  %5 = mul %x, %2 : f32[{{.Rows}},{{.W}}]
  %6 = reduce_sum %5 {axes=[-1], keepdims=true} : f32[{{.Rows}},1]
  %7 = reduce_max %x {axes=[-1], keepdims=true} : f32[{{.Rows}},1]
  %8 = reduce_mean %0 {axes=[-1], keepdims=true} : f32[{{.Rows}},1]
  %9 = sub %6, %7 : f32[{{.Rows}},1]
  %10 = mul %9, %8 : f32[{{.Rows}},1]
  %s = constant {value=[0.01]} : f32[]
  %11 = mul %10, %s : f32[{{.Rows}},1]
  %12 = add %1, %11 : f32[{{.Rows}},{{.W}}]
  %13 = mul %3, %s : f32[{{.Rows}},{{.W}}]
  %14 = add %12, %13 : f32[{{.Rows}},{{.W}}]
  %15 = add %14, %4 : f32[{{.Rows}},{{.W}}]
  return %15
}
`

// TestRowsBlockBits generates rows regions of several short widths, with
// one and two row dims, in block form (vector loops on) and in the per-row
// form (Options.NoVector), builds both into one temporary module, runs
// Predict at batch sizes below, at and above the block size, and checks
// that both compute the same bits.
func TestRowsBlockBits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs generated code; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	tmpl := template.Must(template.New("m").Parse(rowsBlockModule))
	type pkg struct{ Name, Pair string }
	var pkgs []pkg
	dir := t.TempDir()
	writeTempModule(t, goBin, dir)
	for _, c := range []struct {
		w    int
		rows string
	}{{1, "N"}, {3, "N"}, {10, "N"}, {15, "N"}, {17, "N"}, {31, "N"}, {3, "N,3"}, {10, "N,3"}} {
		var src bytes.Buffer
		if err := tmpl.Execute(&src, struct {
			W    int
			Rows string
		}{c.w, c.rows}); err != nil {
			t.Fatal(err)
		}
		mod, err := ir.ParseModule(src.String())
		if err != nil {
			t.Fatalf("width %d, rows %s: %v", c.w, c.rows, err)
		}
		if err := passes.Fuse(mod, &passes.Config{}); err != nil {
			t.Fatal(err)
		}
		pair := fmt.Sprintf("w%d_r%d", c.w, strings.Count(c.rows, ",")+1)
		for _, noVector := range []bool{false, true} {
			name := "block_" + pair
			if noVector {
				name = "row_" + pair
			}
			files, err := golang.Generate(mod, golang.Options{Package: name, NoVector: noVector})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			all := ""
			for _, f := range files {
				all += string(f)
			}
			if block := strings.Contains(all, "for blo := lo; blo < hi;"); block == noVector {
				t.Fatalf("%s: block form %v, want %v", name, block, !noVector)
			}
			if !noVector {
				for _, call := range []string{"runtime.RowsMax(", "runtime.RowsSum64(", "runtime.RowsSum(", "runtime.RowsMean(", "runtime.VecExp(", "runtime.VecMul("} {
					if !strings.Contains(all, call) {
						t.Errorf("%s: no %s in the block form", name, call)
					}
				}
			}
			writePackage(t, filepath.Join(dir, name), files)
			pkgs = append(pkgs, pkg{Name: name, Pair: pair})
		}
	}
	var driver bytes.Buffer
	if err := rowsBlockDriver.Execute(&driver, pkgs); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), driver.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out := goRun(t, goBin, dir, nil)
	// name -> batch size -> Predict's output
	var res map[string]map[string][]float32
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, p := range pkgs {
		if !strings.HasPrefix(p.Name, "block_") {
			continue
		}
		got, want := res[p.Name], res["row_"+p.Pair]
		if len(got) != len(rowsBlockBatches) || len(want) != len(rowsBlockBatches) {
			t.Fatalf("%s: %d and %d batch sizes ran, want %d", p.Pair, len(got), len(want), len(rowsBlockBatches))
		}
		for n, g := range got {
			w := want[n]
			if len(g) != len(w) || len(g) == 0 {
				t.Fatalf("%s, batch %s: %d and %d outputs", p.Pair, n, len(g), len(w))
			}
			for i := range g {
				if math.Float32bits(g[i]) != math.Float32bits(w[i]) || g[i] != g[i] {
					t.Fatalf("%s, batch %s: output %d is %v in block form, %v per row", p.Pair, n, i, g[i], w[i])
				}
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("nothing compared")
	}
}

// rowsBlockBatches: one row, a partial block, the block size of 10 columns
// (128) and a second block beyond it.
var rowsBlockBatches = []int{1, 7, 128, 130}

var rowsBlockDriver = template.Must(template.New("driver").Funcs(template.FuncMap{
	"batches": func() []int { return rowsBlockBatches },
	"maxBatch": func() int {
		return rowsBlockBatches[len(rowsBlockBatches)-1]
	},
}).Parse(`package main

import (
	"encoding/json"
	"math"
	"os"
	"strconv"
{{range .}}
	{{.Name}} "gentest/{{.Name}}"{{end}}
)

// input returns deterministic values of the size of n samples: normal
// values, large ones (exp over- and underflow), ties and signed zeros.
func input(n int) []float32 {
	x := make([]float32, n)
	s := uint64(12345)
	for i := range x {
		s = s*6364136223846793005 + 1442695040888963407
		u := float64(s>>11) / (1 << 53)
		switch s >> 60 {
		case 0:
			x[i] = float32(math.Copysign(0, u-0.5))
		case 1:
			x[i] = 1
		case 2:
			x[i] = float32(200*u - 100)
		default:
			x[i] = float32(8*u - 4)
		}
	}
	return x
}

func main() {
	out := map[string]map[string][]float32{}
	var m map[string][]float32
	run := func(name string, size int, predict func(out, x []float32, n int)) {
		m = map[string][]float32{}
		for _, n := range []int{ {{- range $i, $n := batches}}{{if $i}}, {{end}}{{$n}}{{end -}} } {
			o := make([]float32, n*size)
			predict(o, input(n*size), n)
			m[strconv.Itoa(n)] = o
		}
		out[name] = m
	}
{{range .}}	{
		p := {{.Name}}.New({{.Name}}.Options{MaxBatch: {{maxBatch}}, Seed: 3})
		run("{{.Name}}", p.InputSize(), p.Predict)
	}
{{end}}	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		panic(err)
	}
}
`))
