package golang_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/dlc-project/dlc/codegen/golang"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/passes"
	"github.com/dlc-project/dlc/runtime"
)

// asmFuzzCount is the number of random modules TestFusedAsmRandom builds
// (besides the register-pressure pair): by default five per inner width
// (forms rotate); more (go test -run FusedAsmRandom -asmfuzz.n 300) to search
// further.
var asmFuzzCount = flag.Int("asmfuzz.n", 30, "random modules TestFusedAsmRandom builds")

// asmFuzzCase is one generated module in the driver: fused (assembly
// where the loop allows, else Go loops) and NoVector (scalar loops).
type asmFuzzCase struct {
	Name, Fused, Scalar string
	mod                 golang.AsmFuzzModule
	asmFuncs            int // TEXT blocks in the fused package's model_amd64.s
}

// asmFuzzInput is what the driver gets for one module: x (and y) as
// float32 bits (JSON has no NaN, Inf or -0), the batches to predict, and
// for a module with train_step the training steps to run on the first
// TrainN samples.
type asmFuzzInput struct {
	X, Y          []uint32
	Batches       []int
	Steps, TrainN int
}

// asmFuzzOutput is what the driver computes for one module, as float32
// bits: the predictions at each batch, then with train_step the loss of
// each step, the prediction after them and every weight and state.
type asmFuzzOutput struct {
	Labels        []string
	Fused, Scalar [][]uint32
	Err           string
}

// TestFusedAsmRandom is a differential test of the fused loops' generated
// assembly (asmloop.go) on random modules (AsmFuzzModules,
// asmloop_gen_test.go): from fixed seeds, predict functions whose regions
// are random DAGs of up to 40 members over every op the assembly
// supports, reading full [N,W] values (x, the products of matmuls), [W]
// weights broadcast along the rows, per-row [N,1] products, f32[] and
// f32[1] weights, constants and broadcasts of all of these, at widths
// 16, 17, 31, 32, 40 and 100, some over [N,3,W] with [3,W] and [3,1]
// weights; regions with two results (one read in place by the next
// region, one by a matmul), matmul epilogues, regions with more values
// live than there are registers or more pointers than there are pointer
// registers (and their twins that just fit), and some modules with a
// train_step (autodiff and Adam: backward regions, updates in place of
// the weights and states). The modules testdata/asm_*.ir run too. Every
// module is generated after passes.Fuse (the whole pipeline for
// train_step) twice, vector-wide and NoVector, into one temporary module
// with one driver, which is built once and run with and without
// DLC_FUSED_ASM=0: the assembly, the Go chunk loops and the scalar loops
// must give the same bits (NaN: any NaN), for predictions at batches 7
// (the last sample holding NaN, infinities, signed zeros, subnormals) and
// 3, for losses, predictions and weights after three training steps. It
// also checks that the assembly is really there (most modules have some;
// the pressure and pointer modules none, their twins theirs) and that
// every op the assembly supports is in a module that has assembly.
func TestFusedAsmRandom(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs generated code; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	start := time.Now()
	dir := t.TempDir()
	writeTempModule(t, goBin, dir)
	var cases []*asmFuzzCase
	inputs := map[string]asmFuzzInput{}
	members := 0
	for i, m := range append(golang.AsmFuzzModules(*asmFuzzCount), asmTestdata(t)...) {
		c := &asmFuzzCase{Name: m.Name, Fused: fmt.Sprintf("af%d", i), Scalar: fmt.Sprintf("as%d", i), mod: m}
		members += m.Members
		for _, pkg := range []string{c.Fused, c.Scalar} {
			mod, err := ir.ParseModule(m.Src)
			if err != nil {
				t.Fatalf("%s: %v\n%s", m.Name, err, m.Src)
			}
			if m.Train {
				// The whole pipeline: autodiff and Adam complete
				// train_step, then the rest, Fuse last.
				err = passes.Run(mod, &passes.Config{Optimizer: passes.Adam(0.01)}, passes.Options{})
			} else {
				err = passes.Fuse(mod, &passes.Config{})
			}
			if err != nil {
				t.Fatalf("%s: passes: %v\n%s", m.Name, err, m.Src)
			}
			files, err := golang.Generate(mod, golang.Options{Package: pkg, NoVector: pkg == c.Scalar})
			if err != nil {
				t.Fatalf("%s: %v\n%s", m.Name, err, m.Src)
			}
			if pkg == c.Fused {
				c.asmFuncs = strings.Count(string(files["model_amd64.s"]), "TEXT ·")
			} else if _, ok := files["model_amd64.s"]; ok {
				t.Errorf("%s: NoVector generated assembly", m.Name)
			}
			writePackage(t, filepath.Join(dir, pkg), files)
		}
		cases = append(cases, c)
		in := asmFuzzInput{X: asmFuzzX(uint64(i), 7*m.Sample, m.Sample), Batches: []int{7, 3}}
		if m.Train {
			// Training on the special sample would make every weight
			// NaN: the first six samples, targets in (-1, 1).
			in.Steps, in.TrainN = 3, 6
			rng := runtime.NewRNG(2000 + uint64(i))
			in.Y = make([]uint32, len(in.X))
			for j := range in.Y {
				in.Y[j] = math.Float32bits(float32(2*rng.Float64() - 1))
			}
		}
		inputs[m.Name] = in
	}
	checkAsmPresence(t, cases)

	var driver bytes.Buffer
	if err := asmFuzzDriver.Execute(&driver, cases); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), driver.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	writeJSON(t, filepath.Join(dir, "in.json"), inputs)
	bin := buildAsmFuzzDriver(t, goBin, dir)
	built := time.Since(start)
	withAsm := runAsmFuzzDriver(t, bin, dir, "out.json")
	goLoops := runAsmFuzzDriver(t, bin, dir, "out-noasm.json", "DLC_FUSED_ASM=0")
	if !runtime.FusedAsm() {
		t.Log("no AVX-512 here (or DLC_FUSED_ASM=0): the assembly is not run, only the Go loops are compared with the scalar ones")
	}

	elems, nans := 0, 0
	for _, c := range cases {
		a, g := withAsm[c.Name], goLoops[c.Name]
		if a.Err != "" || g.Err != "" {
			t.Errorf("%s: driver: %s%s", c.Name, a.Err, g.Err)
			continue
		}
		if len(a.Scalar) != len(a.Labels) || len(a.Fused) != len(a.Labels) || len(g.Fused) != len(a.Labels) || len(g.Scalar) != len(a.Labels) {
			t.Errorf("%s: the driver's runs report different numbers of results", c.Name)
			continue
		}
		for bi, what := range a.Labels {
			ref := a.Scalar[bi]
			for _, v := range ref {
				elems++
				if math.IsNaN(float64(math.Float32frombits(v))) {
					nans++
				}
			}
			ok := compareAsmFuzzBits(t, c, what+": Go loops (DLC_FUSED_ASM=0) vs scalar loops (NoVector)", g.Fused[bi], ref)
			ok = compareAsmFuzzBits(t, c, what+": assembly vs scalar loops (NoVector)", a.Fused[bi], ref) && ok
			ok = compareAsmFuzzBits(t, c, what+": scalar loops, DLC_FUSED_ASM=0 vs not", g.Scalar[bi], ref) && ok
			if !ok {
				t.Logf("%s:\n%s", c.Name, c.mod.Src)
				break
			}
		}
	}
	// Inputs and ops are chosen so that most results are numbers: a test
	// over NaNs (compared as any NaN) would check little.
	if nans*4 > elems {
		t.Errorf("%d of %d results are NaN: the generated modules check too little", nans, elems)
	}
	t.Logf("%d modules, %d members, %d output elements (%d NaN); generated, built in %v, ran in %v",
		len(cases), members, elems, nans, built.Round(time.Millisecond), (time.Since(start) - built).Round(time.Millisecond))
}

// asmTestdata returns the modules testdata/asm_*.ir (fixed cases, among
// them what this test once found), which the test runs as it runs the
// random ones.
func asmTestdata(t *testing.T) []golang.AsmFuzzModule {
	t.Helper()
	paths, err := filepath.Glob("testdata/asm_*.ir")
	if err != nil {
		t.Fatal(err)
	}
	var out []golang.AsmFuzzModule
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		mod, err := ir.ParseModule(string(src))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		x := mod.Func("predict").Params[0].Type.Shape
		sample, syms := x[1:].NumElements()
		if len(x) < 2 || x[0].Sym == "" || len(syms) > 0 {
			t.Fatalf("%s: predict's x is %s, not [N,...]", p, x)
		}
		out = append(out, golang.AsmFuzzModule{Name: strings.TrimSuffix(filepath.Base(p), ".ir"), Src: string(src),
			W: int(x[len(x)-1].Size), Sample: int(sample), Form: "testdata"})
	}
	return out
}

// checkAsmPresence checks that the test exercises the assembly: most
// modules carry some, the pressure module none (its region needs more
// registers than there are, so it runs its Go loops) while its twin does,
// and every op that has an AVX-512 sequence appears in a module with
// assembly.
func checkAsmPresence(t *testing.T, cases []*asmFuzzCase) {
	t.Helper()
	withAsm, funcs := 0, 0
	ops := map[string]bool{}
	opRe := regexp.MustCompile(`= ([a-z_]+) [^{:]*(\{to=([a-z0-9]+)\})?`)
	var summary []string
	for _, c := range cases {
		summary = append(summary, fmt.Sprintf("%s(%s W=%d sample=%d members=%d asm=%d)", c.Name, c.mod.Form, c.mod.W, c.mod.Sample, c.mod.Members, c.asmFuncs))
		switch c.mod.Form {
		case "pressure":
			if c.asmFuncs != 0 {
				t.Errorf("%s: %d assembly functions, want none: its region has more values live than there are registers", c.Name, c.asmFuncs)
			}
			continue
		case "testdata":
			continue
		case "pressure-control":
			if c.asmFuncs != 1 {
				t.Errorf("%s: %d assembly functions, want 1", c.Name, c.asmFuncs)
			}
			continue
		case "streams", "streams-control":
			// Each region has k+1 pointers (x and k outputs; k streams
			// and an output): assembly only when they fit the 11
			// pointer registers.
			want := 0
			if c.mod.Form == "streams-control" {
				want = 2
			}
			if c.asmFuncs != want {
				t.Errorf("%s: %d assembly functions, want %d", c.Name, c.asmFuncs, want)
			}
			continue
		}
		if c.asmFuncs == 0 {
			continue
		}
		withAsm++
		funcs += c.asmFuncs
		for _, m := range opRe.FindAllStringSubmatch(c.mod.Src, -1) {
			op := m[1]
			if op == "cast" {
				op += "_to_" + m[3]
			}
			ops[op] = true
		}
	}
	t.Logf("%s", strings.Join(summary, " "))
	if *asmFuzzCount < 12 {
		return // too few random modules to expect them all
	}
	random := 0
	for _, c := range cases {
		if c.mod.Form == "single" || c.mod.Form == "row" || c.mod.Form == "full" {
			random++
		}
	}
	if withAsm*3 < random*2 {
		t.Errorf("only %d of %d random modules carry assembly: the test mostly checks the fallback", withAsm, random)
	}
	var missing []string
	for _, op := range []string{"add", "sub", "mul", "div", "neg", "sqrt", "relu", "exp", "sigmoid", "tanh", "log", "erf",
		"greater", "greater_equal", "less", "less_equal", "equal", "select", "cast_to_bool", "cast_to_f32", "broadcast"} {
		if !ops[op] {
			missing = append(missing, op)
		}
	}
	if len(missing) > 0 {
		t.Errorf("no module with assembly has %s", strings.Join(missing, ", "))
	}
	t.Logf("%d random modules of %d with assembly, %d assembly functions", withAsm, random, funcs)
}

// asmFuzzX is the input x of n elements, samples of w elements: quarters
// in [-3, 3] (so that compares with constants meet equalities), and in
// the last sample the special values (NaN, infinities, signed zeros,
// subnormals, values that overflow exp) among ordinary ones.
func asmFuzzX(seed uint64, n, w int) []uint32 {
	rng := runtime.NewRNG(1000 + seed)
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)),
		1e-40, -1e-40, 100, -100, 88.7, -104, 1e30, 0.5, -0.25}
	x := make([]uint32, n)
	for i := range x {
		v := float32(math.Round((6*rng.Float64()-3)*4) / 4)
		if i >= n-w && (i-(n-w))%3 == 0 {
			v = special[((i-(n-w))/3)%len(special)]
		}
		x[i] = math.Float32bits(v)
	}
	return x
}

// compareAsmFuzzBits requires got to be want, bit for bit, or both NaN at
// every element: NaN payloads and signs are not part of the contract
// (scalar Go code may take a binary op's operands in either order). It
// reports whether they are.
func compareAsmFuzzBits(t *testing.T, c *asmFuzzCase, what string, got, want []uint32) bool {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %s: %d elements, want %d", c.Name, what, len(got), len(want))
		return false
	}
	bad := 0
	for i := range got {
		g, w := math.Float32frombits(got[i]), math.Float32frombits(want[i])
		if got[i] == want[i] || (g != g && w != w) {
			continue
		}
		if bad < 3 {
			t.Errorf("%s (%s, W=%d, %d assembly functions): %s: element %d (sample %d, offset %d) = %v (%#08x), want %v (%#08x)",
				c.Name, c.mod.Form, c.mod.W, c.asmFuncs, what, i, i/c.mod.Sample, i%c.mod.Sample, g, got[i], w, want[i])
		}
		bad++
	}
	if bad > 3 {
		t.Errorf("%s: %s: %d elements differ in all", c.Name, what, bad)
	}
	return bad == 0
}

// buildAsmFuzzDriver builds the driver in dir once (both runs use the
// binary) and returns its path.
func buildAsmFuzzDriver(t *testing.T, goBin, dir string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	bin := filepath.Join(dir, "driver")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = goEnv()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the generated packages: %v\n%s", err, b)
	}
	return bin
}

// runAsmFuzzDriver runs the driver with extra environment variables env
// and returns what it wrote to file out.
func runAsmFuzzDriver(t *testing.T, bin, dir, out string, env ...string) map[string]asmFuzzOutput {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "in.json", out)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("running the generated packages (%s): %v\n%s", strings.Join(env, " "), err, b)
	}
	raw, err := os.ReadFile(filepath.Join(dir, out))
	if err != nil {
		t.Fatal(err)
	}
	var outputs map[string]asmFuzzOutput
	if err := json.Unmarshal(raw, &outputs); err != nil {
		t.Fatal(err)
	}
	return outputs
}

// asmFuzzDriver runs each module's two packages on its inputs.
var asmFuzzDriver = template.Must(template.New("driver").Parse(`// Command gentest runs the fused and NoVector packages of every module on
// the inputs in os.Args[1] and writes the bits they compute to os.Args[2].
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/dlc-project/dlc/runtime"
{{range .}}
	"gentest/{{.Fused}}"
	"gentest/{{.Scalar}}"
{{- end}}
)

type model interface {
	Predict(out, x []float32, n int)
	InputSize() int
	OutputSize() int
	Weights() []runtime.TensorRef
	Close()
}

type trainer interface {
	TrainStep(x, y []float32, n int) float32
}

type input struct {
	X, Y          []uint32
	Batches       []int
	Steps, TrainN int
}

type output struct {
	Labels        []string
	Fused, Scalar [][]uint32
	Err           string
}

var models = map[string][2]func() model{
{{range .}}	{{printf "%q" .Name}}: {
		func() model { return {{.Fused}}.New({{.Fused}}.Options{MaxBatch: 8, Seed: 7, Workers: 3}) },
		func() model { return {{.Scalar}}.New({{.Scalar}}.Options{MaxBatch: 8, Seed: 7, Workers: 3}) },
	},
{{end}}}

func bits(xs ...float32) []uint32 {
	out := make([]uint32, len(xs))
	for i, v := range xs {
		out[i] = math.Float32bits(v)
	}
	return out
}

func floats(bs []uint32) []float32 {
	out := make([]float32, len(bs))
	for i, b := range bs {
		out[i] = math.Float32frombits(b)
	}
	return out
}

func predict(m model, x []float32, n int) []uint32 {
	out := make([]float32, n*m.OutputSize())
	m.Predict(out, x[:n*m.InputSize()], n)
	return bits(out...)
}

func run(name string, in input) (out output, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	x, y := floats(in.X), floats(in.Y)
	fused, scalar := models[name][0](), models[name][1]()
	defer fused.Close()
	defer scalar.Close()
	add := func(label string, f, s []uint32) {
		out.Labels = append(out.Labels, label)
		out.Fused = append(out.Fused, f)
		out.Scalar = append(out.Scalar, s)
	}
	for _, n := range in.Batches {
		add(fmt.Sprintf("predict, batch %d", n), predict(fused, x, n), predict(scalar, x, n))
	}
	if in.Steps == 0 {
		return out, nil
	}
	tf, ok1 := fused.(trainer)
	ts, ok2 := scalar.(trainer)
	if !ok1 || !ok2 {
		return out, fmt.Errorf("no TrainStep")
	}
	k := in.TrainN * fused.InputSize()
	for s := 0; s < in.Steps; s++ {
		add(fmt.Sprintf("train step %d: loss", s), bits(tf.TrainStep(x[:k], y[:k], in.TrainN)), bits(ts.TrainStep(x[:k], y[:k], in.TrainN)))
	}
	add("predict after training", predict(fused, x, 7), predict(scalar, x, 7))
	fw, sw := fused.Weights(), scalar.Weights()
	if len(fw) != len(sw) {
		return out, fmt.Errorf("%d and %d weights", len(fw), len(sw))
	}
	for i := range fw {
		add("after training: "+fw[i].Name, bits(fw[i].Data...), bits(sw[i].Data...))
	}
	return out, nil
}

func main() {
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	var ins map[string]input
	if err := json.Unmarshal(raw, &ins); err != nil {
		panic(err)
	}
	outs := map[string]output{}
	for name, in := range ins {
		o, err := run(name, in)
		if err != nil {
			o.Err = err.Error()
		}
		outs[name] = o
	}
	b, err := json.Marshal(outs)
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(os.Args[2], b, 0o644); err != nil {
		panic(err)
	}
}
`))
