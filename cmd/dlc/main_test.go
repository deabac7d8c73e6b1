package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlc-project/dlc/passes"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodModel = `{"name": "tiny", "input": {"shape": [4]},
 "layers": [{"type": "dense", "units": 3, "activation": "softmax"}],
 "loss": "categorical_crossentropy", "optimizer": {"type": "sgd", "learning_rate": 0.1},
 "train": {"epochs": 1, "batch_size": 2}}`

func TestHelp(t *testing.T) {
	code, out, _ := runCLI(t, "--help")
	if code != 0 || !strings.Contains(out, "compile") || !strings.Contains(out, "train") {
		t.Fatalf("dlc --help: %d %q", code, out)
	}
	for _, c := range []string{"compile", "train", "ir"} {
		code, out, _ := runCLI(t, "help", c)
		if code != 0 || !strings.Contains(out, "Usage: dlc "+c) || !strings.Contains(out, "-") {
			t.Errorf("dlc help %s: %d %q", c, code, out)
		}
	}
}

// TestBadInput: each kind of bad input gives one clear error naming the
// place, and a non-zero exit status.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, model string
		args        []string
		code        int
		want        string
	}{
		{"syntax", `{"name": "x", "input": {"shape": [4]},`, nil, 1, "bad.json:1:"},
		{"unknown layer", `{"input": {"shape": [4]}, "layers": [{"type": "conv9"}]}`, nil, 1, `bad.json:1:47: layers[0].type: unknown layer type "conv9"`},
		{"unknown activation", `{"input": {"shape": [4]}, "layers": [{"type": "dense", "units": 2, "activation": "relu7"}]}`, nil, 1, `layers[0].activation: unknown activation "relu7"`},
		{"units type", `{"input": {"shape": [4]}, "layers": [{"type": "dense", "units": "64"}]}`, nil, 1, `layers[0].units: want an integer, got the string "64"`},
		{"shapes", `{"input": {"shape": [4, 4]}, "layers": [{"type": "dense", "units": 2}]}`, nil, 1, `dense`},
		{"optimizer", `{"input": {"shape": [4]}, "layers": [{"type": "dense", "units": 2}], "loss": "mse", "optimizer": {"type": "lamb"}}`, nil, 1, `optimizer.type: unknown optimizer "lamb"`},
		{"loss", `{"input": {"shape": [4]}, "layers": [{"type": "dense", "units": 2}], "loss": "hinge"}`, nil, 1, `loss: unknown loss "hinge"`},
		{"unknown field", `{"input": {"shape": [4]}, "layers": [{"type": "dense", "units": 2}], "epochs": 3}`, nil, 1, `epochs: unknown field "epochs"`},
		{"missing file", "", []string{"ir", "/nonexistent/model.json"}, 1, "/nonexistent/model.json"},
		{"bad flag", goodModel, []string{"ir", "MODEL", "--frobnicate"}, 2, "flag provided but not defined: -frobnicate"},
		{"bad pass", goodModel, []string{"ir", "MODEL", "--after", "fusion9"}, 1, `no such pass`},
		{"no -o", goodModel, []string{"compile", "MODEL"}, 2, "-o DIR is required"},
		{"two models", goodModel, []string{"ir", "MODEL", "MODEL"}, 2, "exactly one MODEL"},
		{"bad data", goodModel, []string{"train", "MODEL", "--data", "/nonexistent"}, 1, "--data /nonexistent: neither an IDX folder nor a CSV file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, dir, "bad.json", c.model)
			args := c.args
			if args == nil {
				args = []string{"ir", path}
			}
			for i, a := range args {
				if a == "MODEL" {
					args[i] = path
				}
			}
			code, _, stderr := runCLI(t, args...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, stderr, c.code, c.want)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 0 && c.code == 1 {
				t.Errorf("want one line of error, got %q", stderr)
			}
		})
	}
}

func TestIRAfterPass(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "m.json", goodModel)
	code, out, stderr := runCLI(t, "ir", path, "--after", "autodiff", "--func", "train_step")
	if code != 0 {
		t.Fatal(stderr)
	}
	if !strings.Contains(out, `"grad:dense/kernel"`) || strings.Contains(out, "update") {
		t.Errorf("IR after autodiff should list gradients and no updates:\n%s", out)
	}
	code, out, _ = runCLI(t, "ir", path, "--dump-dir", filepath.Join(dir, "dump"))
	files, _ := filepath.Glob(filepath.Join(dir, "dump", "*.ir"))
	if len(files) != 1+len(passes.Pipeline) || filepath.Base(files[0]) != "00-trace.ir" {
		t.Errorf("dump dir holds %v", files)
	}
	if code != 0 || !strings.Contains(out, `update "dense/kernel"`) {
		t.Errorf("full pipeline IR lacks the weight update:\n%s", out)
	}
}

// writeIDX writes a tiny MNIST-shaped data set (gzipped IDX files).
func writeIDX(t *testing.T, dir string, nTrain, nTest int) {
	t.Helper()
	write := func(name string, dims []int, data []byte) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		code := byte(len(dims))
		zw.Write([]byte{0, 0, 0x08, code})
		for _, d := range dims {
			binary.Write(zw, binary.BigEndian, uint32(d))
		}
		zw.Write(data)
		zw.Close()
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, set := range []struct {
		prefix string
		n      int
	}{{"train", nTrain}, {"t10k", nTest}} {
		imgs := make([]byte, set.n*784)
		labels := make([]byte, set.n)
		for i := 0; i < set.n; i++ {
			labels[i] = byte(i % 10)
			// Each class lights its own band of pixels: learnable.
			for p := 0; p < 78; p++ {
				imgs[i*784+int(labels[i])*78+p] = 200
			}
		}
		write(set.prefix+"-images-idx3-ubyte.gz", []int{set.n, 28, 28}, imgs)
		write(set.prefix+"-labels-idx1-ubyte.gz", []int{set.n}, labels)
	}
}

// TestTrainEndToEnd runs dlc train on a small synthetic data set: compile
// into a temporary module, build, train, and report JSON.
func TestTrainEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	os.Mkdir(data, 0o755)
	writeIDX(t, data, 512, 100)
	model := writeFile(t, dir, "m.json", `{"name": "small", "input": {"shape": [784]},
 "layers": [{"type": "dense", "units": 16, "activation": "relu"}, {"type": "dense", "units": 10, "activation": "softmax"}],
 "loss": "categorical_crossentropy", "optimizer": {"type": "adam", "learning_rate": 0.01},
 "train": {"epochs": 3, "batch_size": 32, "dataset": "mnist"}}`)
	run := filepath.Join(dir, "run")
	code, out, stderr := runCLI(t, "train", model, "--data", data, "--json", "--save", filepath.Join(dir, "w.safetensors"), "--run-dir", run)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var rep struct {
		Epochs             int     `json:"epochs"`
		BatchSize          int     `json:"batch_size"`
		TrainSamplesPerSec float64 `json:"train_samples_per_sec"`
		TestLoss           float64 `json:"test_loss"`
		TestAccuracy       float64 `json:"test_accuracy"`
		Seconds            float64 `json:"seconds"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, out)
	}
	if rep.Epochs != 3 || rep.BatchSize != 32 || rep.TrainSamplesPerSec <= 0 || rep.Seconds <= 0 {
		t.Errorf("report %+v", rep)
	}
	if rep.TestAccuracy < 0.9 {
		t.Errorf("test accuracy %.3f on a separable data set", rep.TestAccuracy)
	}
	if !strings.Contains(stderr, "Epoch 3/3") {
		t.Errorf("no progress on stderr: %q", stderr)
	}
	if st, err := os.Stat(filepath.Join(dir, "w.safetensors")); err != nil || st.Size() == 0 {
		t.Errorf("weights not saved: %v", err)
	}
	for _, name := range []string{"checkpoint-epoch-001.safetensors", "checkpoint-epoch-003.safetensors", "log.csv", "plot.png"} {
		if st, err := os.Stat(filepath.Join(run, name)); err != nil || st.Size() == 0 {
			t.Errorf("run directory: %s: %v", name, err)
		}
	}
	// Unreadable data: a clear error and a non-zero exit.
	os.WriteFile(filepath.Join(data, "train-labels-idx1-ubyte.gz"), []byte("not gzip"), 0o644)
	code, _, stderr = runCLI(t, "train", model, "--data", data, "--epochs", "1", "--run-dir", "none")
	if code == 0 || !strings.Contains(stderr, "train-labels-idx1-ubyte") {
		t.Errorf("corrupt data: exit %d, %q", code, stderr)
	}
}

// TestTrainResume: resuming from the epoch-2 checkpoint of a 4-epoch run
// (one worker) ends with byte-identical weights and optimizer state; CSV
// data trains too; a contradicting seed is refused.
func TestTrainResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	var trainCSV, testCSV strings.Builder
	for i := 0; i < 300; i++ {
		w := &trainCSV
		if i >= 240 {
			w = &testCSV
		}
		label := i % 3
		fmt.Fprintf(w, "%d", label)
		for f := 0; f < 12; f++ {
			v := (i*7 + f*13) % 50
			if f/4 == label {
				v += 200
			}
			fmt.Fprintf(w, ",%d", v)
		}
		w.WriteString("\n")
	}
	trainPath := writeFile(t, dir, "train.csv", "label,"+strings.Repeat("f,", 11)+"f\n"+trainCSV.String())
	testPath := writeFile(t, dir, "test.csv", testCSV.String())
	model := writeFile(t, dir, "m.json", `{"name": "csv", "input": {"shape": [12]},
 "layers": [{"type": "dense", "units": 8, "activation": "relu"}, {"type": "dense", "units": 3, "activation": "softmax"}],
 "loss": "categorical_crossentropy", "optimizer": {"type": "adam", "learning_rate": 0.01},
 "train": {"epochs": 4, "batch_size": 16, "shuffle": true}}`)
	common := []string{"--data", trainPath, "--test-data", testPath, "--scale", "0.00392156862745098", "--workers", "1", "--seed", "5"}
	full, resumed := filepath.Join(dir, "full"), filepath.Join(dir, "resumed")
	code, out, stderr := runCLI(t, append([]string{"train", model, "--run-dir", full, "--json"}, common...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, `"test_accuracy":1`) {
		t.Errorf("CSV run did not learn the separable set: %s", out)
	}
	code, _, stderr = runCLI(t, "train", model, "--data", trainPath, "--test-data", testPath, "--scale", "0.00392156862745098", "--workers", "1",
		"--run-dir", resumed, "--resume", filepath.Join(full, "checkpoint-epoch-002.safetensors"))
	if code != 0 {
		t.Fatalf("resume: exit %d: %s", code, stderr)
	}
	a, _ := os.ReadFile(filepath.Join(full, "checkpoint-epoch-004.safetensors"))
	b, _ := os.ReadFile(filepath.Join(resumed, "checkpoint-epoch-004.safetensors"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("epoch-4 checkpoints of the full (%d bytes) and the resumed run (%d bytes) differ", len(a), len(b))
	}
	if _, err := os.Stat(filepath.Join(resumed, "checkpoint-epoch-002.safetensors")); err == nil {
		t.Error("the resumed run rewrote epoch 2")
	}
	logText, _ := os.ReadFile(filepath.Join(resumed, "log.csv"))
	if n := strings.Count(string(logText), "\n"); n != 3 { // header, epochs 3 and 4
		t.Errorf("resumed log.csv has %d lines:\n%s", n, logText)
	}
	// A seed other than the checkpoint's, a finished run, a non-checkpoint.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--resume", full, "--seed", "6"}, "was trained with seed 5, not -seed 6"},
		{[]string{"--resume", full, "--epochs", "4"}, "is after epoch 4 already"},
		{[]string{"--resume", model}, "safetensors"},
	} {
		args := append([]string{"train", model, "--data", trainPath, "--run-dir", "none"}, c.args...)
		code, _, stderr := runCLI(t, args...)
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, stderr, c.want)
		}
	}
}

// TestBenchJSON builds the fused and unfused packages of a small model and
// checks the report's shape (timings are not asserted: tests check values,
// benchmarks measure speed).
func TestBenchJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	model := writeFile(t, dir, "m.json", `{"name": "small", "input": {"shape": [20]},
 "layers": [{"type": "dense", "units": 8, "activation": "relu"}, {"type": "dense", "units": 4, "activation": "softmax"}],
 "loss": "categorical_crossentropy", "optimizer": {"type": "adam"}}`)
	code, out, stderr := runCLI(t, "bench", model, "--batch", "16", "--rounds", "1", "--time", "5ms", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var rep map[string]json.RawMessage
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"fused", "unfused", "speedup_train_step", "speedup_predict_batch1", "speedup_predict"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("report lacks %q: %s", k, lines[len(lines)-1])
		}
	}
	var fused, unfused struct {
		TrainStepMS   float64 `json:"train_step_ms"`
		ArenaBytes    int     `json:"arena_bytes"`
		AllocsPerStep float64 `json:"allocs_per_step"`
	}
	json.Unmarshal(rep["fused"], &fused)
	json.Unmarshal(rep["unfused"], &unfused)
	if fused.TrainStepMS <= 0 || unfused.TrainStepMS <= 0 {
		t.Errorf("no timings: %+v %+v", fused, unfused)
	}
	if fused.AllocsPerStep != 0 || unfused.AllocsPerStep != 0 {
		t.Errorf("allocations per step: fused %v, unfused %v", fused.AllocsPerStep, unfused.AllocsPerStep)
	}
	if fused.ArenaBytes <= 0 || fused.ArenaBytes > unfused.ArenaBytes {
		t.Errorf("arena bytes: fused %d, unfused %d", fused.ArenaBytes, unfused.ArenaBytes)
	}
	if code, _, stderr := runCLI(t, "bench", model, "--batch", "0"); code == 0 || !strings.Contains(stderr, "--batch") {
		t.Errorf("--batch 0: exit %d, %q", code, stderr)
	}
}

// TestBenchONNX benchmarks an ONNX file: inference only, so the report has
// Predict figures, no train step and no train-step speedup.
func TestBenchONNX(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	model := filepath.Join("..", "..", "frontend", "onnx", "testdata", "torch", "mlp", "model.onnx")
	code, out, stderr := runCLI(t, "bench", model, "--batch", "8", "--rounds", "1", "--time", "5ms", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "inference only") {
		t.Errorf("the table does not say the model is benchmarked for inference only:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var rep map[string]json.RawMessage
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"fused", "unfused", "speedup_predict_batch1", "speedup_predict"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("report lacks %q: %s", k, lines[len(lines)-1])
		}
	}
	if _, ok := rep["speedup_train_step"]; ok {
		t.Errorf("an inference-only report has speedup_train_step: %s", lines[len(lines)-1])
	}
	for _, v := range []string{"fused", "unfused"} {
		var s struct {
			TrainStepMS      *float64 `json:"train_step_ms"`
			PredictMS        float64  `json:"predict_ms"`
			PredictBatch1US  float64  `json:"predict_batch1_us"`
			SamplesPerSec    float64  `json:"samples_per_sec"`
			AllocsPerPredict float64  `json:"allocs_per_predict"`
		}
		if err := json.Unmarshal(rep[v], &s); err != nil {
			t.Fatal(err)
		}
		if s.TrainStepMS != nil || s.PredictMS <= 0 || s.PredictBatch1US <= 0 || s.SamplesPerSec <= 0 || s.AllocsPerPredict != 0 {
			t.Errorf("%s: %s", v, rep[v])
		}
	}
	if code, _, stderr := runCLI(t, "bench", model, "--optimizer", "sgd"); code == 0 || !strings.Contains(stderr, "inference only") {
		t.Errorf("--optimizer with an ONNX model: exit %d, %q", code, stderr)
	}
}
