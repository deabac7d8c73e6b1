package golang_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/dlc-project/dlc/codegen/golang"
	"github.com/dlc-project/dlc/compile"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
	"github.com/dlc-project/dlc/passes"
	"github.com/dlc-project/dlc/runtime"
)

const (
	predictFunc = "predict"
	trainFunc   = "train_step"
)

// e2eCase is one module compiled, run by the driver and compared with the
// interpreter. Each module comes in variants (see loadCases) that share a
// group and their inputs.
type e2eCase struct {
	Name, Pkg string
	Group     string
	Variant   string
	mod       *ir.Module
	opts      golang.Options
	In        driverInput
}

// Variants of each module.
const (
	variantBase    = "base"    // unfused, Options.NoFuse and NoVector: one scalar kernel and one buffer per value
	variantPlanned = "planned" // unfused, with the memory planner
	variantFused   = "fused"   // after passes.Fuse, with fused kernels and the planner
)

// driverInput is what the driver gets for one model (as JSON).
type driverInput struct {
	X, Y                        []float32
	N, MaxBatch, Steps, Workers int
	Seed                        uint64
}

// driverOutput is what the driver reports for one model.
type driverOutput struct {
	Predict, PredictAfter, Reloaded []float32
	Losses                          []float32
	TrainOut                        [][]float32
	InitWeights, Weights            map[string][]float32
	AllocsPredict, AllocsTrain      float64
	LoadErr, PanicMsg, Err          string
	ArenaBytes                      int
	TrainOutAfterPredict            []float32
}

// TestEndToEnd compiles every testdata/*.ir module, in three variants (the
// NoFuse baseline, the memory planner over unfused kernels, and the module
// after passes.Fuse with fused kernels and the planner), and the reference
// MNIST model (examples/mnist/model.json through compile.Load and
// compile.Lower, with and without the fuse pass), each into its own package
// of one temporary module; it builds and runs one driver over all of them
// (one go invocation keeps the test fast), and compares what the generated
// code computes with ir/interp on the same inputs and initial weights: the
// initial weights bit for bit, predictions, losses, training outputs (3
// steps) and updated weights within 1e-4 relative (plus 1e-5 absolute).
// The driver also checks that Predict and TrainStep do not allocate, that
// TrainOutput survives a Predict, that a weights checkpoint round-trips,
// that loading an incomplete one fails naming a tensor, and that a batch
// above MaxBatch panics; the test, that every variant's arena is no larger
// than the baseline's and that every variant computes exactly the
// baseline's bits. The "names" module holds hostile names, so its
// compiling at all is a test of the escaping.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs generated code; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	cases := loadCases(t)
	dir := t.TempDir()
	writeTempModule(t, goBin, dir)
	for _, c := range cases {
		files, err := golang.Generate(c.mod, c.opts)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		writePackage(t, filepath.Join(dir, c.Pkg), files)
	}
	var driver bytes.Buffer
	if err := driverTemplate.Execute(&driver, cases); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), driver.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	inputs := map[string]driverInput{}
	for _, c := range cases {
		inputs[c.Name] = c.In
	}
	writeJSON(t, filepath.Join(dir, "in.json"), inputs)

	outputs := runDriver(t, goBin, dir, "out.json")
	// The fused loops' assembly (asmloop.go) against their Go loops: the
	// same driver with DLC_FUSED_ASM=0 must compute the same bits.
	if runtime.FusedAsm() {
		goLoops := runDriver(t, goBin, dir, "out-noasm.json", "DLC_FUSED_ASM=0")
		for _, c := range cases {
			if a, b := outputs[c.Name], goLoops[c.Name]; !sameBits(a, b) {
				t.Errorf("%s: the fused loops' assembly and their Go loops do not compute the same bits", c.Name)
			}
		}
	} else {
		t.Log("no AVX-512 here (or DLC_FUSED_ASM=0): the fused loops' assembly is not run")
	}
	base := map[string]driverOutput{}
	for _, c := range cases {
		if c.Variant == variantBase {
			base[c.Group] = outputs[c.Name]
		}
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			out, ok := outputs[c.Name]
			if !ok {
				t.Fatal("no output from the driver")
			}
			if out.Err != "" {
				t.Fatalf("driver: %s", out.Err)
			}
			checkAgainstInterp(t, c, out)
			b := base[c.Group]
			if out.ArenaBytes <= 0 && b.ArenaBytes > 0 {
				t.Errorf("ArenaBytes() = %d", out.ArenaBytes)
			}
			if out.ArenaBytes > b.ArenaBytes {
				t.Errorf("ArenaBytes() = %d, more than the NoFuse baseline's %d", out.ArenaBytes, b.ArenaBytes)
			}
			if c.Group == "mnist" {
				t.Logf("ArenaBytes at MaxBatch %d: %d (%s), %d (base)", c.In.MaxBatch, out.ArenaBytes, c.Variant, b.ArenaBytes)
			}
			if c.Variant != variantBase {
				// Fused kernels round every member as the unfused kernels
				// round its op and sum in the same order, and the planner
				// changes where values live, not what they are: every
				// variant computes the baseline's bits.
				if !sameBits(out, b) {
					t.Errorf("%s and the NoFuse baseline do not compute the same bits", c.Variant)
				}
			}
		})
	}
}

// writePackage writes the files Generate returned into the new package
// directory pdir of the temporary module.
func writePackage(t *testing.T, pdir string, files map[string][]byte) {
	t.Helper()
	if err := os.Mkdir(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(pdir, name), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// runDriver runs the driver built in dir with extra environment
// variables env and returns what it wrote to file out.
func runDriver(t *testing.T, goBin, dir, out string, env ...string) map[string]driverOutput {
	t.Helper()
	goRun(t, goBin, dir, env, "in.json", out)
	raw, err := os.ReadFile(filepath.Join(dir, out))
	if err != nil {
		t.Fatal(err)
	}
	var outputs map[string]driverOutput
	if err := json.Unmarshal(raw, &outputs); err != nil {
		t.Fatal(err)
	}
	return outputs
}

// goEnv is the environment of the go commands run on the temporary
// module: the caller's GOFLAGS (CI sets -buildvcs=false) but the module's
// requirements resolved freely, outside any workspace.
func goEnv(env ...string) []string {
	flags := []string{"-mod=mod"}
	for _, f := range strings.Fields(os.Getenv("GOFLAGS")) {
		if !strings.HasPrefix(f, "-mod=") {
			flags = append(flags, f)
		}
	}
	return append(append(os.Environ(), "GOFLAGS="+strings.Join(flags, " "), "GOWORK=off"), env...)
}

// goRun builds and runs the main package of the temporary module in dir
// (go run . args...) with extra environment variables env, and returns
// its standard output; a failure ends the test with its standard error.
func goRun(t *testing.T, goBin, dir string, env []string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, append([]string{"run", "."}, args...)...)
	cmd.Dir = dir
	cmd.Env = goEnv(env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("building or running the generated packages: %v\n%s%s", err, out, stderr.Bytes())
	}
	return out
}

// sameBits reports whether two driver outputs hold the same predictions,
// losses, training outputs and weights, bit for bit.
func sameBits(a, b driverOutput) bool {
	same := equalF32(a.Predict, b.Predict) && equalF32(a.Losses, b.Losses) &&
		equalF32(a.PredictAfter, b.PredictAfter) && len(a.TrainOut) == len(b.TrainOut) && len(a.Weights) == len(b.Weights)
	for s := range a.TrainOut {
		same = same && equalF32(a.TrainOut[s], b.TrainOut[s])
	}
	for name, w := range a.Weights {
		same = same && equalF32(w, b.Weights[name])
	}
	return same
}

// loadCases parses testdata/*.ir, makes the variants of each and of the
// reference model, and deterministic inputs for each group.
func loadCases(t *testing.T) []e2eCase {
	t.Helper()
	paths, err := filepath.Glob("testdata/*.ir")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no testdata/*.ir (%v)", err)
	}
	sort.Strings(paths)
	parse := func(p string) *ir.Module {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		mod, err := ir.ParseModule(string(src))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		return mod
	}
	var cases []e2eCase
	add := func(i int, group string, mods map[string]*ir.Module) {
		in := driverInput{N: 5, MaxBatch: 8, Workers: 3, Seed: uint64(42 + i)}
		if group == "big" {
			in.N, in.MaxBatch = 12, 16
		}
		mod := mods[variantBase]
		rng := runtime.NewRNG(uint64(1000 + i))
		xt := mod.Func(predictFunc).Params[0].Type
		xs, _ := xt.Shape[1:].NumElements()
		in.X = make([]float32, in.N*int(xs))
		for j := range in.X {
			v := float32(4*rng.Float64() - 2)
			if group == "compare" {
				v = float32(math.Round(float64(v)*4) / 4) // so that equalities occur
			}
			in.X[j] = v
		}
		if tf := mod.Func(trainFunc); tf != nil {
			in.Steps = 3
			ys, _ := tf.Params[1].Type.Shape[1:].NumElements()
			in.Y = make([]float32, in.N*int(ys))
			for s := 0; s < in.N; s++ { // one-hot rows
				in.Y[s*int(ys)+rng.Intn(int(ys))] = 1
			}
		}
		for _, variant := range []string{variantBase, variantPlanned, variantFused} {
			m, ok := mods[variant]
			if !ok {
				continue
			}
			name, pkg := group, "gen"+group
			if variant != variantBase {
				name += "_" + variant
				pkg += variant
			}
			cases = append(cases, e2eCase{Name: name, Pkg: pkg, Group: group, Variant: variant, mod: m, In: in,
				// The baseline also keeps its loops scalar, so that the
				// bit-for-bit comparison below checks the vector loops
				// (runtime.Vec*) of the other variants too.
				opts: golang.Options{Package: pkg, NoFuse: variant == variantBase, NoVector: variant == variantBase}})
		}
	}
	for i, p := range paths {
		group := strings.TrimSuffix(filepath.Base(p), ".ir")
		fused := parse(p)
		if err := passes.Fuse(fused, &passes.Config{}); err != nil {
			t.Fatalf("%s: fuse: %v", p, err)
		}
		if err := ir.Verify(fused); err != nil {
			t.Fatalf("%s: after fuse: %v", p, err)
		}
		add(i, group, map[string]*ir.Module{variantBase: parse(p), variantPlanned: parse(p), variantFused: fused})
	}
	md, err := compile.Load("../../examples/mnist/model.json", compile.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	unfused, err := compile.Lower(md, compile.Options{Disable: []string{"fuse"}})
	if err != nil {
		t.Fatal(err)
	}
	fused, err := compile.Lower(md, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	add(len(paths), "mnist", map[string]*ir.Module{variantBase: unfused, variantFused: fused})
	return cases
}

// writeTempModule writes go.mod and go.sum of a module that requires this
// repository (replaced by its checkout) and the repository's own
// requirements, so that generated packages build against the working tree.
func writeTempModule(t *testing.T, goBin, dir string) {
	t.Helper()
	out, err := exec.Command(goBin, "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Skip("not inside a module")
	}
	root := filepath.Dir(gomod)
	out, err = exec.Command(goBin, "mod", "edit", "-json", gomod).Output()
	if err != nil {
		t.Fatalf("go mod edit -json: %v", err)
	}
	var mf struct {
		Module  struct{ Path string }
		Go      string
		Require []struct{ Path, Version string }
		Replace []struct {
			Old, New struct{ Path, Version string }
		}
	}
	if err := json.Unmarshal(out, &mf); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "module gentest\n\ngo %s\n\nrequire (\n\t%s v0.0.0\n", mf.Go, mf.Module.Path)
	for _, r := range mf.Require {
		fmt.Fprintf(&b, "\t%s %s\n", r.Path, r.Version)
	}
	fmt.Fprintf(&b, ")\n\nreplace %s => %s\n", mf.Module.Path, strconv.Quote(root))
	for _, r := range mf.Replace {
		nu := r.New.Path
		if r.New.Version == "" && !filepath.IsAbs(nu) {
			nu = filepath.Join(root, nu)
		}
		old := r.Old.Path
		if r.Old.Version != "" {
			old += " " + r.Old.Version
		}
		fmt.Fprintf(&b, "replace %s => %s %s\n", old, strconv.Quote(nu), r.New.Version)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkAgainstInterp replays the driver's run on the interpreter.
func checkAgainstInterp(t *testing.T, c e2eCase, out driverOutput) {
	mc, err := interp.NewMachine(c.mod, c.In.Seed)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range c.mod.Weights {
		got, ok := out.InitWeights[w.Name]
		if !ok {
			t.Fatalf("Weights() has no tensor %q", w.Name)
		}
		want := mc.Weights[w.Name].Data
		if len(got) != len(want) {
			t.Fatalf("initial weight %q: %d elements, want %d", w.Name, len(got), len(want))
		}
		for i := range got {
			if float64(got[i]) != want[i] {
				t.Fatalf("initial weight %q[%d] = %v, interp has %v (initialisation must be identical)", w.Name, i, got[i], want[i])
			}
		}
	}
	x := batchTensor(c.mod.Func(predictFunc).Params[0].Type, c.In.N, c.In.X)
	res, err := mc.Run(predictFunc, x)
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "Predict", out.Predict, res[0].Data)
	if strings.HasPrefix(c.Group, "f64_") || strings.HasPrefix(c.Group, "f16_") {
		checkExact(t, "Predict", out.Predict, res[0].Data)
	}

	if tf := c.mod.Func(trainFunc); tf != nil {
		y := batchTensor(tf.Params[1].Type, c.In.N, c.In.Y)
		if len(out.Losses) != c.In.Steps {
			t.Fatalf("driver ran %d steps, want %d", len(out.Losses), c.In.Steps)
		}
		for s := 0; s < c.In.Steps; s++ {
			res, err := mc.Run(trainFunc, x, y)
			if err != nil {
				t.Fatal(err)
			}
			checkClose(t, fmt.Sprintf("step %d: loss", s), out.Losses[s:s+1], res[0].Data)
			if len(res) > 1 {
				checkClose(t, fmt.Sprintf("step %d: TrainOutput", s), out.TrainOut[s], res[1].Data)
			}
		}
		for _, w := range c.mod.Weights {
			checkClose(t, fmt.Sprintf("weight %q after training", w.Name), out.Weights[w.Name], mc.Weights[w.Name].Data)
		}
		if last := out.TrainOut[len(out.TrainOut)-1]; !equalF32(out.TrainOutAfterPredict, last) {
			t.Errorf("TrainOutput after a Predict = %v, want %v (what it was after the last TrainStep)", out.TrainOutAfterPredict, last)
		}
		if out.AllocsTrain != 0 {
			t.Errorf("TrainStep allocates %v times per call, want 0", out.AllocsTrain)
		}
	}
	res, err = mc.Run(predictFunc, x)
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "Predict after training", out.PredictAfter, res[0].Data)

	if out.AllocsPredict != 0 {
		t.Errorf("Predict allocates %v times per call, want 0", out.AllocsPredict)
	}
	if !equalF32(out.Reloaded, out.PredictAfter) {
		t.Errorf("Predict after SaveWeights/LoadWeights into a fresh model = %v, want %v", out.Reloaded, out.PredictAfter)
	}
	if len(c.mod.Weights) > 0 && !strings.Contains(out.LoadErr, "missing") {
		t.Errorf("LoadWeights of an empty checkpoint: error %q, want one naming a missing tensor", out.LoadErr)
	}
	if !strings.Contains(out.PanicMsg, "MaxBatch") {
		t.Errorf("Predict with n > MaxBatch: panic %q, want one about MaxBatch", out.PanicMsg)
	}
}

func batchTensor(pt ir.Type, n int, data []float32) *interp.Tensor {
	shape := []int{n}
	for _, d := range pt.Shape[1:] {
		shape = append(shape, int(d.Size))
	}
	f := make([]float64, len(data))
	for i, v := range data {
		f[i] = float64(v)
	}
	return interp.New(pt.DType, shape, f)
}

// checkClose checks got against the interpreter's want within 1e-4 relative
// plus 1e-5 absolute (for values near zero, where float32 accumulation
// order dominates).
func checkClose(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d elements, want %d", what, len(got), len(want))
		return
	}
	bad := 0
	for i := range got {
		g, w := float64(got[i]), want[i]
		if math.IsNaN(g) && math.IsNaN(w) {
			continue
		}
		if !(math.Abs(g-w) <= 1e-5+1e-4*math.Abs(w)) {
			if bad < 5 {
				t.Errorf("%s: element %d = %v, interp has %v", what, i, g, w)
			}
			bad++
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d elements differ in all", what, bad)
	}
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// driverTemplate is the main package run over all generated packages.
var driverTemplate = template.Must(template.New("driver").Parse(`// Command gentest runs every generated package on the inputs in os.Args[1]
// and writes what they compute to os.Args[2].
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/dlc-project/dlc/runtime"
{{range .}}	"gentest/{{.Pkg}}"
{{end}})

type model interface {
	Predict(out, x []float32, n int)
	MaxBatch() int
	InputSize() int
	OutputSize() int
	Weights() []runtime.TensorRef
	ArenaBytes() int
	SaveWeights(w io.Writer) error
	LoadWeights(r io.Reader) error
	Close()
}

type trainer interface {
	TrainStep(x, y []float32, n int) float32
	TrainOutput() []float32
}

type input struct {
	X, Y                        []float32
	N, MaxBatch, Steps, Workers int
	Seed                        uint64
}

type output struct {
	Predict, PredictAfter, Reloaded []float32
	Losses                          []float32
	TrainOut                        [][]float32
	InitWeights, Weights            map[string][]float32
	AllocsPredict, AllocsTrain      float64
	LoadErr, PanicMsg, Err          string
	ArenaBytes                      int
	TrainOutAfterPredict            []float32
}

var constructors = map[string]func(in input, seed uint64) model{
{{range .}}	{{printf "%q" .Name}}: func(in input, seed uint64) model {
		return {{.Pkg}}.New({{.Pkg}}.Options{MaxBatch: in.MaxBatch, Seed: seed, Workers: in.Workers})
	},
{{end}}}

func snapshot(m model) map[string][]float32 {
	out := map[string][]float32{}
	for _, w := range m.Weights() {
		out[w.Name] = append([]float32(nil), w.Data...)
	}
	return out
}

func run(name string, in input) (out output, err error) {
	newModel := constructors[name]
	m := newModel(in, in.Seed)
	defer m.Close()
	out.InitWeights = snapshot(m)
	out.ArenaBytes = m.ArenaBytes()
	if len(in.X) != in.N*m.InputSize() {
		return out, fmt.Errorf("x has %d elements for n = %d and InputSize = %d", len(in.X), in.N, m.InputSize())
	}
	p := make([]float32, in.N*m.OutputSize())
	m.Predict(p, in.X, in.N)
	out.Predict = append([]float32(nil), p...)
	tr, isTrainer := m.(trainer)
	if in.Steps > 0 && !isTrainer {
		return out, fmt.Errorf("the model has no TrainStep")
	}
	for s := 0; s < in.Steps; s++ {
		out.Losses = append(out.Losses, tr.TrainStep(in.X, in.Y, in.N))
		out.TrainOut = append(out.TrainOut, append([]float32(nil), tr.TrainOutput()...))
	}
	m.Predict(p, in.X, in.N)
	out.PredictAfter = append([]float32(nil), p...)
	if isTrainer {
		out.TrainOutAfterPredict = append([]float32(nil), tr.TrainOutput()...)
	}
	out.Weights = snapshot(m)

	var ckpt bytes.Buffer
	if err := m.SaveWeights(&ckpt); err != nil {
		return out, err
	}
	m2 := newModel(in, in.Seed+1)
	defer m2.Close()
	if err := m2.LoadWeights(bytes.NewReader(ckpt.Bytes())); err != nil {
		return out, err
	}
	p2 := make([]float32, len(p))
	m2.Predict(p2, in.X, in.N)
	out.Reloaded = p2
	var empty bytes.Buffer
	if err := runtime.WriteSafetensors(&empty, nil, nil); err != nil {
		return out, err
	}
	if err := m2.LoadWeights(&empty); err != nil {
		out.LoadErr = err.Error()
	}

	out.AllocsPredict = testing.AllocsPerRun(10, func() { m.Predict(p, in.X, in.N) })
	if isTrainer {
		out.AllocsTrain = testing.AllocsPerRun(10, func() { tr.TrainStep(in.X, in.Y, in.N) })
	}
	out.PanicMsg = func() (msg string) {
		defer func() { msg = fmt.Sprint(recover()) }()
		m.Predict(p, in.X, m.MaxBatch()+1)
		return ""
	}()
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
