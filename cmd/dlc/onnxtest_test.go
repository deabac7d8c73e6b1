package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlc-project/dlc/codegen/golang"
	"github.com/dlc-project/dlc/compile"
	"github.com/dlc-project/dlc/frontend/onnx"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
)

// onnxTestsDir is the ONNX project's test cases (node/ and simple/):
// $DLC_ONNX_TESTS, else ../shared/onnx-node-tests beside the repository.
func onnxTestsDir(t *testing.T) string {
	dir := os.Getenv("DLC_ONNX_TESTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "onnx-node-tests")
	}
	if st, err := os.Stat(filepath.Join(dir, "node")); err != nil || !st.IsDir() {
		t.Skipf("no ONNX node tests at %s (set DLC_ONNX_TESTS to the folder holding node/ and simple/)", dir)
	}
	return dir
}

// The conformance test: every case of the ONNX suite whose ops this build
// supports passes on both backends; unsupported ones are counted, never
// silently dropped.
func TestONNXConformance(t *testing.T) {
	dir := onnxTestsDir(t)
	cases, err := onnx.FindCases([]string{filepath.Join(dir, "node"), filepath.Join(dir, "simple")})
	if err != nil {
		t.Fatal(err)
	}
	for _, backend := range []string{"interp", "go"} {
		t.Run(backend, func(t *testing.T) {
			sum, err := runONNXCases(cases, backend, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range sum.Cases {
				if r.Status == "fail" {
					t.Errorf("%s: %s", r.Name, r.Detail)
				}
			}
			t.Logf("%s backend: %d cases: %d passed, %d failed, %d unsupported", backend, len(sum.Cases), sum.Passed, sum.Failed, sum.Unsupported)
		})
	}
}

// Models exported by PyTorch (testdata/export_torch.py) match PyTorch's
// outputs on both backends and compile with dlc compile.
func TestTorchModels(t *testing.T) {
	root := filepath.Join("..", "..", "frontend", "onnx", "testdata", "torch")
	cases, err := onnx.FindCases([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 5 {
		t.Fatalf("want 5 PyTorch cases, have %v", cases)
	}
	for _, backend := range []string{"interp", "go"} {
		sum, err := runONNXCases(cases, backend, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range sum.Cases {
			switch r.Status {
			case "fail":
				t.Errorf("%s backend: %s: %s", backend, r.Name, r.Detail)
			case "unsupported":
				t.Logf("%s backend: %s: unsupported in this build: %s", backend, r.Name, r.Detail)
			}
		}
	}
	for _, c := range cases {
		path := filepath.Join(c, "model.onnx")
		if _, err := onnx.LoadFile(path); err != nil {
			t.Logf("%s: not importable in this build: %v", path, err)
			continue
		}
		files, _, err := compile.PackageONNX(path, golang.Options{Package: "model"}, compile.Options{})
		if err != nil {
			t.Errorf("dlc compile %s: %v", path, err)
			continue
		}
		if !bytes.Contains(files["model.go"], []byte("func (m *Model) Predict(")) {
			t.Errorf("dlc compile %s: no Predict", path)
		}
	}
}

func TestONNXTestCommand(t *testing.T) {
	mlp := filepath.Join("..", "..", "frontend", "onnx", "testdata", "torch", "mlp")
	var out, errb bytes.Buffer
	if code := run([]string{"onnx-test", "--json", mlp}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s%s", code, out.String(), errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var sum struct {
		Passed, Failed, Unsupported int
		Cases                       []map[string]any
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, out.String())
	}
	if sum.Passed != 1 || len(sum.Cases) != 1 || sum.Cases[0]["status"] != "pass" || sum.Cases[0]["name"] != "mlp" {
		t.Fatalf("summary %+v", sum)
	}
	for _, k := range []string{"name", "status", "max_abs_err", "max_rel_err", "detail"} {
		if _, ok := sum.Cases[0][k]; !ok {
			t.Errorf("case has no %q", k)
		}
	}
}

// A test folder whose inputs do not match the model fails with a clear
// error; so do a truncated model and a model with an unsupported op.
func TestONNXTestBadCases(t *testing.T) {
	src := filepath.Join("..", "..", "frontend", "onnx", "testdata", "torch", "mlp")
	model, err := os.ReadFile(filepath.Join(src, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mk := func(name string, model []byte, input *interp.Tensor) {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Join(d, "test_data_set_0"), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d, "model.onnx"), model, 0o644)
		b, _ := os.ReadFile(filepath.Join(src, "test_data_set_0", "output_0.pb"))
		os.WriteFile(filepath.Join(d, "test_data_set_0", "output_0.pb"), b, 0o644)
		in, _ := proto2bytes(input)
		os.WriteFile(filepath.Join(d, "test_data_set_0", "input_0.pb"), in, 0o644)
	}
	mk("wrong_shape", model, interp.Zeros(ir.F32, []int{3, 7}))
	mk("wrong_dtype", model, interp.Zeros(ir.I64, []int{3, 20}))
	mk("truncated", model[:len(model)/2], interp.Zeros(ir.F32, []int{3, 20}))
	cases, err := onnx.FindCases([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := runONNXCases(cases, "interp", "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"wrong_shape": "the model wants f32[3,20]", "wrong_dtype": "the model wants f32[3,20]", "truncated": "truncated or corrupted"}
	for _, r := range sum.Cases {
		if r.Status != "fail" || !strings.Contains(r.Detail, want[r.Name]) {
			t.Errorf("%s: %s %q, want a failure saying %q", r.Name, r.Status, r.Detail, want[r.Name])
		}
	}
}

func proto2bytes(t *interp.Tensor) ([]byte, error) {
	return onnx.MarshalTensor("x", t)
}

// TestTorchModelsCompiled compiles each PyTorch-exported model with dlc
// compile's code path (compile.PackageONNX: the real batch dim, weights
// embedded), builds the packages into one program, runs Predict on
// the test set's input at its batch size and compares with PyTorch's
// output (rtol 1e-3, atol 1e-5).
func TestTorchModelsCompiled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	root := filepath.Join("..", "..", "frontend", "onnx", "testdata", "torch")
	cases, err := onnx.FindCases([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pkgs := map[string]map[string][]byte{}
	var imports, table strings.Builder
	type run struct {
		name string
		n    int
		want *interp.Tensor
	}
	var runs []run
	for _, c := range cases {
		name := filepath.Base(c)
		_, sets, err := onnx.LoadCase(c)
		if err != nil {
			t.Fatal(err)
		}
		files, _, err := compile.PackageONNX(filepath.Join(c, "model.onnx"), golang.Options{Package: name}, compile.Options{})
		if err != nil {
			t.Fatalf("dlc compile %s: %v", c, err)
		}
		pkgs[name] = files
		in := sets[0].Inputs[0]
		var raw []byte
		for _, x := range in.Data {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(x)))
		}
		if err := os.WriteFile(filepath.Join(dir, name+".in"), raw, 0o644); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, run{name, in.Shape[0], sets[0].Outputs[0]})
		fmt.Fprintf(&imports, "\t%q\n", "dlcgen/"+name)
		fmt.Fprintf(&table, "\t{%q, %d, func(x []float32, n int) []float32 {\n\t\tm := %s.New(%s.Options{MaxBatch: n})\n\t\tdefer m.Close()\n\t\tout := make([]float32, n*m.OutputSize())\n\t\tm.Predict(out, x, n)\n\t\treturn out\n\t}},\n",
			name, in.Shape[0], name, name)
	}
	main := fmt.Sprintf(`package main

import (
	"encoding/binary"
	"math"
	"os"

%s)

var models = []struct {
	name string
	n    int
	run  func(x []float32, n int) []float32
}{
%s}

func main() {
	for _, m := range models {
		raw, err := os.ReadFile(m.name + ".in")
		if err != nil {
			panic(err)
		}
		x := make([]float32, len(raw)/4)
		for i := range x {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		var out []byte
		for _, v := range m.run(x, m.n) {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
		if err := os.WriteFile(m.name+".out", out, 0o644); err != nil {
			panic(err)
		}
	}
}
`, imports.String(), table.String())
	if err := writeModule(dir, pkgs, main); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "torch.bin")
	if err := buildModule(dir, bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("running: %v\n%s", err, out)
	}
	for _, r := range runs {
		raw, err := os.ReadFile(filepath.Join(dir, r.name+".out"))
		if err != nil {
			t.Fatal(err)
		}
		got := &interp.Tensor{DType: ir.F32, Shape: r.want.Shape, Data: make([]float64, len(raw)/4)}
		for i := range got.Data {
			got.Data[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
		}
		if mm := onnx.Compare(got, r.want, 1e-3, 1e-5); mm.Detail != "" {
			t.Errorf("%s (batch %d): %s", r.name, r.n, mm.Detail)
		} else {
			t.Logf("%s (batch %d): matches PyTorch, max abs err %.3g", r.name, r.n, mm.MaxAbs)
		}
	}
}
