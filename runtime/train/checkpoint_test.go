package train

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dlc-project/dlc/runtime"
)

// Weights exposes the softmax model's tensors, as generated packages do.
func (m *softmaxModel) Weights() []runtime.TensorRef {
	return []runtime.TensorRef{
		{Name: "dense/kernel", Shape: []int{m.in, m.out}, Data: m.w},
		{Name: "dense/bias", Shape: []int{m.out}, Data: m.b},
	}
}

// TestResumeIsBitIdentical: resuming from the epoch-2 checkpoint of a
// 4-epoch run gives the uninterrupted run's final weights, bit for bit,
// and visits the same samples in the same order.
func TestResumeIsBitIdentical(t *testing.T) {
	trainSet, testSet := synth(70, 1), synth(20, 2)
	dir := t.TempDir()
	full := newSoftmax(6, 3, 16)
	cfg := Config{Epochs: 4, BatchSize: 16, Seed: 3, Shuffle: true, EvalEachEpoch: true}
	cfg.OnEpoch = func(st EpochStats) error {
		if st.TestLoss == nil || st.TestAccuracy == nil {
			t.Errorf("epoch %d: no test figures", st.Epoch)
		}
		return WriteCheckpoint(filepath.Join(dir, CheckpointName(st.Epoch)), full, CheckpointInfo{Model: "m", Epoch: st.Epoch, Seed: 3, BatchSize: 16})
	}
	if _, err := Fit(full, trainSet, testSet, cfg); err != nil {
		t.Fatal(err)
	}

	resumed := newSoftmax(6, 3, 16)
	info, err := ReadCheckpoint(filepath.Join(dir, CheckpointName(2)), resumed)
	if err != nil {
		t.Fatal(err)
	}
	if info != (CheckpointInfo{Model: "m", Epoch: 2, Seed: 3, BatchSize: 16}) {
		t.Fatalf("info %+v", info)
	}
	res, err := Fit(resumed, trainSet, testSet, Config{Epochs: 4, BatchSize: 16, Seed: 3, Shuffle: true, StartEpoch: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Epochs) != 2 || res.Epochs[0].Epoch != 3 {
		t.Fatalf("resumed run reported epochs %+v", res.Epochs)
	}
	if !slices.Equal(resumed.firstPix, full.firstPix[len(full.firstPix)-len(resumed.firstPix):]) {
		t.Fatal("the resumed run saw other batches than epochs 3-4 of the full run")
	}
	if !bitsEqual(resumed.w, full.w) || !bitsEqual(resumed.b, full.b) {
		t.Fatal("resumed weights differ from the uninterrupted run's")
	}
	latest, err := LatestCheckpoint(dir)
	if err != nil || filepath.Base(latest) != CheckpointName(4) {
		t.Fatalf("LatestCheckpoint = %q, %v", latest, err)
	}
}

func bitsEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// failingWriter fails after n bytes, as a full disk or a kill would.
type failingWriter struct {
	w io.Writer
	n int
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k, _ := f.w.Write(p[:f.n])
		f.n = 0
		return k, errors.New("disk full")
	}
	f.n -= len(p)
	return f.w.Write(p)
}

// TestCheckpointWriteFailureKeepsPrevious: a checkpoint write that fails
// halfway leaves the previous file intact and loadable, and no temporary
// file behind.
func TestCheckpointWriteFailureKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	m := newSoftmax(6, 3, 4)
	for i := range m.w {
		m.w[i] = float32(i)
	}
	if err := WriteCheckpoint(path, m, CheckpointInfo{Model: "m", Epoch: 1, Seed: 1, BatchSize: 4}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	for i := range m.w {
		m.w[i] = -1
	}
	err := writeCheckpoint(path, m, CheckpointInfo{Model: "m", Epoch: 2, Seed: 1, BatchSize: 4},
		func(w io.Writer) io.Writer { return &failingWriter{w: w, n: 100} })
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("failed write returned %v", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("the previous checkpoint changed")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only the checkpoint", len(entries))
	}
	fresh := newSoftmax(6, 3, 4)
	info, err := ReadCheckpoint(path, fresh)
	if err != nil || info.Epoch != 1 || fresh.w[5] != 5 {
		t.Fatalf("previous checkpoint: %+v, %v, w[5] = %v", info, err, fresh.w[5])
	}
}

// TestCheckpointSurvivesKill kills (SIGKILL) a process that rewrites a
// large checkpoint over and over, at several moments, and checks that the
// file is always a complete, loadable checkpoint.
func TestCheckpointSurvivesKill(t *testing.T) {
	if os.Getenv("DLC_CKPT_WRITER") != "" {
		checkpointWriterProcess(os.Getenv("DLC_CKPT_WRITER"))
		return
	}
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	for round, delay := range []time.Duration{3 * time.Millisecond, 17 * time.Millisecond, 40 * time.Millisecond, 90 * time.Millisecond} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCheckpointSurvivesKill$")
		cmd.Env = append(os.Environ(), "DLC_CKPT_WRITER="+path)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait for a first checkpoint, then kill at some moment of a write.
		deadline := time.Now().Add(20 * time.Second)
		for {
			if _, err := os.Stat(path); err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		time.Sleep(delay)
		cmd.Process.Kill()
		cmd.Wait()
		m := newBigModel()
		info, err := ReadCheckpoint(path, m)
		if err != nil {
			t.Fatalf("round %d: after the kill the checkpoint does not load: %v", round, err)
		}
		// The writer sets every weight to the epoch it writes.
		if m.w[0] != float32(info.Epoch) || m.w[len(m.w)-1] != float32(info.Epoch) {
			t.Fatalf("round %d: epoch %d checkpoint holds %v … %v", round, info.Epoch, m.w[0], m.w[len(m.w)-1])
		}
		t.Logf("round %d: killed after %v, checkpoint of epoch %d intact", round, delay, info.Epoch)
	}
}

func newBigModel() *softmaxModel { return newSoftmax(1000, 1000, 1) } // 4 MB of weights

func checkpointWriterProcess(path string) {
	m := newBigModel()
	for epoch := 1; ; epoch++ {
		for i := range m.w {
			m.w[i] = float32(epoch)
		}
		if err := WriteCheckpoint(path, m, CheckpointInfo{Model: "big", Epoch: epoch, Seed: 1, BatchSize: 1}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

func TestReadCheckpointErrors(t *testing.T) {
	dir := t.TempDir()
	m := newSoftmax(6, 3, 4)
	good := filepath.Join(dir, "good.safetensors")
	if err := WriteCheckpoint(good, m, CheckpointInfo{Model: "m", Epoch: 1, Seed: 1, BatchSize: 4}); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain.safetensors")
	f, _ := os.Create(plain)
	runtime.WriteSafetensors(f, m.Weights(), nil)
	f.Close()
	raw, _ := os.ReadFile(good)
	trunc := filepath.Join(dir, "trunc.safetensors")
	os.WriteFile(trunc, raw[:len(raw)-10], 0o644)
	for _, c := range []struct {
		path  string
		model *softmaxModel
		want  string
	}{
		{filepath.Join(dir, "missing"), m, "no such file"},
		{plain, m, "is not a dlc checkpoint"},
		{trunc, m, "truncated"},
		{good, newSoftmax(7, 3, 4), `tensor "dense/kernel" has shape [6 3], the model's is [7 3]`},
	} {
		before := slices.Clone(c.model.w)
		_, err := ReadCheckpoint(c.path, c.model)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadCheckpoint(%s) = %v, want an error containing %q", filepath.Base(c.path), err, c.want)
		}
		if !slices.Equal(before, c.model.w) {
			t.Errorf("ReadCheckpoint(%s) changed the model on error", filepath.Base(c.path))
		}
	}
	if _, err := LatestCheckpoint(t.TempDir()); err == nil {
		t.Error("LatestCheckpoint of an empty directory succeeded")
	}
}

func TestRunLogRoundTrip(t *testing.T) {
	dir := t.TempDir()
	l, err := openRunLog(dir, "m", 0)
	if err != nil {
		t.Fatal(err)
	}
	tl, ta := 0.5, 0.75
	for e := 1; e <= 3; e++ {
		st := EpochStats{Epoch: e, Loss: 1 / float64(e), Accuracy: 0.5 + 0.1*float64(e), Seconds: 1, SamplesPerSec: 100}
		if e != 2 {
			st.TestLoss, st.TestAccuracy = &tl, &ta
		}
		if err := l.add(st); err != nil {
			t.Fatal(err)
		}
	}
	csvText, _ := os.ReadFile(filepath.Join(dir, LogName))
	want := "epoch,loss,accuracy,test_loss,test_accuracy,seconds,samples_per_sec\n1,1,0.6,0.5,0.75,1,100\n2,0.5,0.7,,,1,100\n3,0.33333333,0.8,0.5,0.75,1,100\n"
	if string(csvText) != want {
		t.Fatalf("log.csv:\n%s\nwant\n%s", csvText, want)
	}
	png, _ := os.ReadFile(filepath.Join(dir, PlotName))
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatal("plot.png is not a PNG")
	}
	// Resuming after epoch 2 keeps rows 1-2 and drops 3.
	l2, err := openRunLog(dir, "m", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(l2.rows) != 2 || l2.rows[1].Epoch != 2 || l2.rows[1].TestLoss != nil || *l2.rows[0].TestAccuracy != 0.75 {
		t.Fatalf("resumed log rows %+v", l2.rows)
	}
}
