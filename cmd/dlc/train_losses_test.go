package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// separableCSV writes n samples of 12 features in `classes` classes (the
// features of class c lie in block c), the last fifth as a test set.
func separableCSV(t *testing.T, dir string, n, classes int) (train, test string) {
	var tr, te strings.Builder
	for i := 0; i < n; i++ {
		w := &tr
		if i >= n*4/5 {
			w = &te
		}
		label := i % classes
		fmt.Fprintf(w, "%d", label)
		for f := 0; f < 12; f++ {
			v := (i*7 + f*13) % 50
			if f*classes/12 == label {
				v += 200
			}
			fmt.Fprintf(w, ",%d", v)
		}
		w.WriteString("\n")
	}
	return writeFile(t, dir, fmt.Sprintf("train%d.csv", classes), tr.String()), writeFile(t, dir, fmt.Sprintf("test%d.csv", classes), te.String())
}

// TestTrainLossesDropoutBatchNorm runs dlc train with the losses that take
// labels other than one-hot rows (sparse categorical cross-entropy from
// logits with top-k accuracy; binary cross-entropy on one sigmoid unit),
// through dropout and batch norm in training mode, and checks that a run
// resumed from its epoch-2 checkpoint ends bit-identical: the checkpoint
// carries the dropout step counter and the moving statistics.
func TestTrainLossesDropoutBatchNorm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds modules")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	train3, test3 := separableCSV(t, dir, 300, 3)
	sparse := writeFile(t, dir, "sparse.json", `{"name": "sparse", "input": {"shape": [12]},
 "layers": [{"type": "dense", "units": 8, "activation": "relu"}, {"type": "dropout", "rate": 0.2},
            {"type": "batch_normalization"}, {"type": "dense", "units": 3}],
 "loss": {"type": "sparse_categorical_crossentropy", "from_logits": true},
 "metrics": ["accuracy", {"type": "top_k_accuracy", "k": 2}],
 "optimizer": {"type": "adam", "learning_rate": 0.01},
 "train": {"epochs": 4, "batch_size": 16}}`)
	common := []string{"--data", train3, "--test-data", test3, "--scale", "0.00392156862745098", "--workers", "1", "--seed", "3"}
	full, resumed := filepath.Join(dir, "full"), filepath.Join(dir, "resumed")
	code, out, stderr := runCLI(t, append([]string{"train", sparse, "--run-dir", full, "--json"}, common...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep struct {
		TestLoss         float64  `json:"test_loss"`
		TestAccuracy     float64  `json:"test_accuracy"`
		TestTopKAccuracy *float64 `json:"test_top_k_accuracy"`
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, out)
	}
	t.Logf("sparse CE, dropout, batch norm: %s", lines[len(lines)-1])
	if rep.TestAccuracy < 0.95 || rep.TestTopKAccuracy == nil || *rep.TestTopKAccuracy < rep.TestAccuracy || !(rep.TestLoss < 0.7) {
		t.Errorf("sparse CE: test loss %v, accuracy %v, top-2 %v on a separable set", rep.TestLoss, rep.TestAccuracy, rep.TestTopKAccuracy)
	}
	code, _, stderr = runCLI(t, append([]string{"train", sparse, "--run-dir", resumed, "--resume", filepath.Join(full, "checkpoint-epoch-002.safetensors")}, common...)...)
	if code != 0 {
		t.Fatalf("resume: exit %d: %s", code, stderr)
	}
	a, _ := os.ReadFile(filepath.Join(full, "checkpoint-epoch-004.safetensors"))
	b, _ := os.ReadFile(filepath.Join(resumed, "checkpoint-epoch-004.safetensors"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("epoch-4 checkpoints of the full (%d bytes) and the resumed run (%d bytes) differ", len(a), len(b))
	}
	for _, state := range []string{"dropout/step", "batch_normalization/moving_mean"} {
		if !bytes.Contains(a, []byte(state)) {
			t.Errorf("the checkpoint has no %s", state)
		}
	}

	train2, test2 := separableCSV(t, dir, 200, 2)
	binary := writeFile(t, dir, "binary.json", `{"name": "binary", "input": {"shape": [12]},
 "layers": [{"type": "dense", "units": 4, "activation": "relu"}, {"type": "dense", "units": 1, "activation": "sigmoid"}],
 "loss": "binary_crossentropy", "metrics": ["binary_accuracy"], "optimizer": {"type": "adam", "learning_rate": 0.02},
 "train": {"epochs": 4, "batch_size": 16}}`)
	code, out, stderr = runCLI(t, "train", binary, "--data", train2, "--test-data", test2, "--scale", "0.00392156862745098", "--run-dir", "none", "--json")
	if code != 0 {
		t.Fatalf("binary: exit %d: %s", code, stderr)
	}
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, out)
	}
	t.Logf("binary CE: %s", lines[len(lines)-1])
	if rep.TestAccuracy < 0.95 || !(rep.TestLoss < 0.6) {
		t.Errorf("binary CE: test loss %v, accuracy %v on a separable set", rep.TestLoss, rep.TestAccuracy)
	}
}
