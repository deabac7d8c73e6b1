package golang_test

import (
	"bytes"
	"encoding/json"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"text/template"

	"github.com/dlc-project/dlc/codegen/golang"
	"github.com/dlc-project/dlc/compile"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/passes"
)

// shardCase is one module generated twice: sharded from batch 1 on, and
// never sharded.
type shardCase struct {
	Name, Sharded, Plain string
	IsSharded            bool // whether Generate sharded its Predict
	mod                  *ir.Module
}

// TestShardedPredict builds every testdata/*.ir module (after passes.Fuse)
// and the MNIST and LeNet examples with Predict sharded on every call from
// batch 1 (Options.ShardMin 1, ShardAlways) and never sharded (ShardMin
// -1), runs both on the same inputs at batches 1, 2, odd sizes and
// MaxBatch (128), with 2, 3 and 4 workers, and checks that they compute
// the same bits and that the sharded Predict does not allocate. Modules whose predict is not
// row-local are generated unsharded (and compared all the same); the
// examples must be sharded.
func TestShardedPredict(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs generated code; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	mods := map[string]*ir.Module{}
	paths, err := filepath.Glob("testdata/*.ir")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no testdata/*.ir (%v)", err)
	}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		mod, err := ir.ParseModule(string(src))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if err := passes.Fuse(mod, &passes.Config{}); err != nil {
			t.Fatalf("%s: fuse: %v", p, err)
		}
		mods[strings.TrimSuffix(filepath.Base(p), ".ir")] = mod
	}
	// A conv large enough for the whole-batch GEMM over n·P columns, P =
	// 31·31 not a multiple of the column tile, 16 output channels (a short
	// row tile, whose sums depend on the column tile's width).
	wide, err := ir.ParseModule(`module "wide_conv"
weight "w" : f32[16,16,3,3] {init="glorot_uniform", fan_in=144, fan_out=144}
func @predict(%x: f32[N,16,31,31]) -> (f32[N,15376]) {
  %0 = weight {name="w"} : f32[16,16,3,3]
  %1 = conv %x, %0 {pads=[1, 1, 1, 1]} : f32[N,16,31,31]
  %2 = reshape %1 {shape=<N,15376>} : f32[N,15376]
  return %2
}
`)
	if err != nil {
		t.Fatal(err)
	}
	mods["wide_conv"] = wide
	for _, ex := range []string{"mnist", "lenet"} {
		md, err := compile.Load("../../examples/"+ex+"/model.json", compile.Overrides{})
		if err != nil {
			t.Fatal(err)
		}
		mod, err := compile.Lower(md, compile.Options{})
		if err != nil {
			t.Fatal(err)
		}
		mods["example_"+ex] = mod
	}
	names := make([]string, 0, len(mods))
	for name := range mods {
		names = append(names, name)
	}
	sort.Strings(names)

	dir := t.TempDir()
	writeTempModule(t, goBin, dir)
	var cases []shardCase
	for _, name := range names {
		c := shardCase{Name: name, Sharded: "sh" + name, Plain: "pl" + name, mod: mods[name]}
		for _, v := range []struct {
			pkg string
			min int
		}{{c.Sharded, 1}, {c.Plain, -1}} {
			files, err := golang.Generate(c.mod, golang.Options{Package: v.pkg, ShardMin: v.min, ShardAlways: true})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			src := files["model.go"]
			if v.min > 0 {
				c.IsSharded = bytes.Contains(src, []byte("predictShards"))
			} else if bytes.Contains(src, []byte("predictShards")) {
				t.Fatalf("%s: ShardMin -1 generated a sharded Predict", name)
			}
			writePackage(t, filepath.Join(dir, v.pkg), files)
		}
		cases = append(cases, c)
	}
	var sharded []string
	for _, c := range cases {
		if c.IsSharded {
			sharded = append(sharded, c.Name)
		}
	}
	t.Logf("sharded: %s", strings.Join(sharded, " "))
	for _, want := range []string{"example_mnist", "example_lenet", "conv_forward", "elementwise", "vector", "wide_conv"} {
		if !strings.Contains(" "+strings.Join(sharded, " ")+" ", " "+want+" ") {
			t.Errorf("%s: Predict is not sharded", want)
		}
	}

	var driver bytes.Buffer
	if err := shardDriver.Execute(&driver, cases); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), driver.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	goRun(t, goBin, dir, nil, "out.json")
	raw, err := os.ReadFile(filepath.Join(dir, "out.json"))
	if err != nil {
		t.Fatal(err)
	}
	var problems map[string][]string
	if err := json.Unmarshal(raw, &problems); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		for _, p := range problems[c.Name] {
			t.Errorf("%s: %s", c.Name, p)
		}
	}
}

// TestShardRowLocal checks which predict functions are sharded: those
// whose every node keeps each sample's rows to itself, and no other.
func TestShardRowLocal(t *testing.T) {
	const head = "module \"m\"\nweight \"w\" : f32[4,3] {init=\"glorot_uniform\"}\n"
	for _, c := range []struct {
		name, body string
		sharded    bool
	}{
		{"dense softmax", `%0 = weight {name="w"} : f32[4,3]
  %1 = matmul %x, %0 : f32[N,3]
  %2 = softmax %1 {axis=-1} : f32[N,3]
  return %2`, true},
		{"reshape transpose", `%0 = reshape %x {shape=<N,2,2>} : f32[N,2,2]
  %1 = transpose %0 {perm=[0, 2, 1]} : f32[N,2,2]
  %2 = reshape %1 {shape=<N,4>} : f32[N,4]
  %3 = weight {name="w"} : f32[4,3]
  %4 = matmul %2, %3 : f32[N,3]
  return %4`, true},
		{"softmax over the batch", `%0 = softmax %x {axis=0} : f32[N,4]
  %1 = weight {name="w"} : f32[4,3]
  %2 = matmul %0, %1 : f32[N,3]
  return %2`, false},
		{"batch mean", `%0 = reduce_mean %x {axes=[0]} : f32[4]
  %1 = sub %x, %0 : f32[N,4]
  %2 = weight {name="w"} : f32[4,3]
  %3 = matmul %1, %2 : f32[N,3]
  return %3`, false},
		{"cumsum over the batch", `%0 = cumsum %x {axis=0} : f32[N,4]
  %1 = weight {name="w"} : f32[4,3]
  %2 = matmul %0, %1 : f32[N,3]
  return %2`, false},
	} {
		src := head + "func @predict(%x: f32[N,4]) -> (f32[N,3]) {\n  " + c.body + "\n}\n"
		mod, err := ir.ParseModule(src)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		files, err := golang.Generate(mod, golang.Options{Package: "m"})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := bytes.Contains(files["model.go"], []byte("predictShards")); got != c.sharded {
			t.Errorf("%s: sharded = %v, want %v", c.name, got, c.sharded)
		}
	}
}

// TestShardedGenerateDeterministic checks that sharded packages are
// byte-for-byte reproducible and gofmt-clean.
func TestShardedGenerateDeterministic(t *testing.T) {
	md, err := compile.Load("../../examples/lenet/model.json", compile.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	mod, err := compile.Lower(md, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var first []byte
	for i := range 3 {
		files, err := golang.Generate(mod, golang.Options{Package: "lenet"})
		if err != nil {
			t.Fatal(err)
		}
		src := files["model.go"]
		if !bytes.Contains(src, []byte("predictShards")) {
			t.Fatal("LeNet's Predict is not sharded")
		}
		if i == 0 {
			first = src
			formatted, err := format.Source(src)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(formatted, src) {
				t.Error("the generated code is not gofmt-clean")
			}
		} else if !bytes.Equal(src, first) {
			t.Fatal("Generate is not deterministic")
		}
	}
}

// shardDriver runs each pair of packages and reports, per module, what
// differs.
var shardDriver = template.Must(template.New("driver").Parse(`// Command gentest compares sharded and unsharded Predict.
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/dlc-project/dlc/runtime"
{{range .}}	"gentest/{{.Sharded}}"
	"gentest/{{.Plain}}"
{{end}})

type model interface {
	Predict(out, x []float32, n int)
	InputSize() int
	OutputSize() int
	Close()
}

type pair struct {
	sharded, plain func(workers int) model
	isSharded      bool
}

var pairs = map[string]pair{
{{range .}}	{{printf "%q" .Name}}: {
		func(w int) model { return {{.Sharded}}.New({{.Sharded}}.Options{MaxBatch: 128, Seed: 7, Workers: w}) },
		func(w int) model { return {{.Plain}}.New({{.Plain}}.Options{MaxBatch: 128, Seed: 7, Workers: w}) },
		{{.IsSharded}},
	},
{{end}}}

func check(p pair) (problems []string) {
	defer func() {
		if r := recover(); r != nil {
			problems = append(problems, fmt.Sprint("panic: ", r))
		}
	}()
	for _, w := range []int{2, 3, 4} {
		a, b := p.sharded(w), p.plain(w)
		rng := runtime.NewRNG(uint64(w))
		x := make([]float32, 128*a.InputSize())
		for i := range x {
			x[i] = float32(4*rng.Float64() - 2)
		}
		for _, n := range []int{1, 2, 5, 13, 27, 64, 127, 128} {
			oa := make([]float32, n*a.OutputSize())
			ob := make([]float32, n*b.OutputSize())
			a.Predict(oa, x, n)
			b.Predict(ob, x, n)
			for i := range oa {
				if math.Float32bits(oa[i]) != math.Float32bits(ob[i]) && !(oa[i] != oa[i] && ob[i] != ob[i]) {
					problems = append(problems, fmt.Sprintf("workers %d, n %d: element %d = %v sharded, %v not", w, n, i, oa[i], ob[i]))
					break
				}
			}
		}
		// (Only sharded calls: the per-kernel path may take a first
		// parallel GEMM, which sizes the pool's scratch, at any call.)
		out := make([]float32, 128*a.OutputSize())
		if !p.isSharded {
			a.Close()
			b.Close()
			continue
		}
		if allocs := testing.AllocsPerRun(5, func() { a.Predict(out, x, 128) }); allocs != 0 {
			problems = append(problems, fmt.Sprintf("workers %d: sharded Predict allocates %v times per call", w, allocs))
		}
		a.Close()
		b.Close()
	}
	return problems
}

func main() {
	res := map[string][]string{}
	for name, p := range pairs {
		res[name] = check(p)
	}
	raw, err := json.Marshal(res)
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(os.Args[1], raw, 0o644); err != nil {
		panic(err)
	}
}
`))
