// Package latency times the Predict method of dlc-generated packages the
// way the peer scripts in ../shared/peers time PyTorch (common.bench_infer)
// and onnxruntime (ort_bench.js): for each batch size, warm up with
// max(20, minCalls/20) calls, then time single calls, one clock reading
// before and after each, until both a minimum number of calls and a time
// budget are reached, and report the median, min, max and p90 of the call
// times. The inputs are the peers' inputs: the first n MNIST test images
// (pixels/255, file order) or the first n samples of a raw float32 file
// such as models/tblock_ref_in.bin.
//
// bench/models.sh builds a program around Main that registers the examples'
// generated packages and the packages dlc compiles from the peers' ONNX
// files, and runs it once per model, worker count and batch list, so that
// the driver can wait for a quiet machine and watch other processes' load
// around each run, as the peer scripts do around each of theirs.
package latency

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dlc-project/dlc/runtime"
)

// Model is what a generated package's Model offers for inference.
type Model interface {
	Predict(out, x []float32, n int)
	InputSize() int
	OutputSize() int
	MaxBatch() int
}

// New makes a model for batches of up to maxBatch samples that splits its
// kernels over the given number of workers.
type New func(maxBatch, workers int) Model

// Plan says how one batch size is timed.
type Plan struct {
	Batch    int
	MinCalls int
	Budget   time.Duration
}

// PeerPlan is the plan the peer scripts use for a batch size
// (common.INFER_PLAN, ort_bench.js PLAN): 3000 calls at batch 1, 10 at
// 10,000 and more, 200 otherwise; 1.5 s, or 2 s from 10,000 on.
func PeerPlan(batch int) Plan {
	switch {
	case batch == 1:
		return Plan{batch, 3000, 1500 * time.Millisecond}
	case batch >= 10000:
		return Plan{batch, 10, 2 * time.Second}
	}
	return Plan{batch, 200, 1500 * time.Millisecond}
}

// Warmup is the number of untimed calls before timing, as in the peers.
func (p Plan) Warmup() int { return max(20, p.MinCalls/20) }

// Time warms up with p.Warmup() calls of call, then times single calls
// until at least p.MinCalls were made and p.Budget has passed; it returns
// each call's time in seconds.
func Time(call func(), p Plan) []float64 {
	for range p.Warmup() {
		call()
	}
	// Preallocated so that the loop itself allocates nothing in the
	// common case: 2M calls, 16 MB, hold 1.5 s of 0.75 µs calls.
	ts := make([]float64, 0, max(p.MinCalls, 1<<21))
	start := time.Now()
	for len(ts) < p.MinCalls || time.Since(start) < p.Budget {
		t0 := time.Now()
		call()
		ts = append(ts, time.Since(t0).Seconds())
	}
	return ts
}

// Stats summarises call times in seconds as common.stats does.
type Stats struct {
	Calls  int     `json:"calls"`
	Min    float64 `json:"min_s"`
	Median float64 `json:"median_s"`
	P90    float64 `json:"p90_s"`
	Max    float64 `json:"max_s"`
}

// Summarize returns the statistics of ts (not modified). The p90 is the
// element at index round(0.9*(n-1)) of the sorted times (Python's round,
// half to even), the median the mean of the middle two for even n.
func Summarize(ts []float64) Stats {
	if len(ts) == 0 {
		return Stats{}
	}
	s := slices.Clone(ts)
	sort.Float64s(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	p90 := min(n-1, int(math.RoundToEven(0.9*float64(n-1))))
	return Stats{Calls: n, Min: s[0], Median: med, P90: s[p90], Max: s[n-1]}
}

// Result is one line of Run's output: a model's latency at one batch size.
type Result struct {
	Model         string  `json:"model"`
	Workers       int     `json:"workers"`
	Batch         int     `json:"batch"`
	SamplesPerSec float64 `json:"samples_per_s"`
	Stats
	// MaxAbsDiff is max |Predict - reference| over every sample of the
	// input, when a reference file was given.
	MaxAbsDiff *float64 `json:"max_abs_diff,omitempty"`
}

// Main runs Run on the command line and exits with its status.
func Main(models map[string]New) {
	os.Exit(Run(os.Args[1:], os.Stdout, os.Stderr, models))
}

// Run parses the flags, times the chosen model at each batch size and
// prints one JSON Result per line on stdout. It returns the exit status.
func Run(args []string, stdout, stderr io.Writer, models map[string]New) int {
	fs := flag.NewFlagSet("latency", flag.ContinueOnError)
	fs.SetOutput(stderr)
	names := slices.Sorted(maps.Keys(models))
	model := fs.String("model", "", "model to time: "+strings.Join(names, ", "))
	workers := fs.Int("workers", 1, "worker goroutines of the model")
	batches := fs.String("batches", "1,128", "comma-separated batch sizes")
	input := fs.String("input", "mnist", `"mnist" (the MNIST test images, pixels/255, in file order) or a file of little-endian float32 samples`)
	data := fs.String("data", os.Getenv("MNIST_DIR"), "folder of the MNIST IDX files for -input mnist (default: $MNIST_DIR, else the GoMNIST module)")
	ref := fs.String("ref", "", "file of little-endian float32 reference outputs for every input sample: report max |Predict - ref|")
	budget := fs.Duration("budget", 0, "time budget per batch size (default: the peers' plan, 1.5 s; 2 s from batch 10,000)")
	minCalls := fs.Int("min-calls", 0, "minimum timed calls per batch size (default: the peers' plan: 3000 at batch 1, 200 otherwise)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "latency: "+format+"\n", a...)
		return 1
	}
	newModel, ok := models[*model]
	if !ok {
		return fail("unknown -model %q (have %s)", *model, strings.Join(names, ", "))
	}
	if *workers <= 0 {
		return fail("-workers must be positive, is %d", *workers)
	}
	var plans []Plan
	maxBatch := 128 // the chunk size of the reference check
	for _, f := range strings.Split(*batches, ",") {
		b, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || b <= 0 {
			return fail("-batches: %q is not a positive batch size", f)
		}
		p := PeerPlan(b)
		if *budget > 0 {
			p.Budget = *budget
		}
		if *minCalls > 0 {
			p.MinCalls = *minCalls
		}
		plans = append(plans, p)
		maxBatch = max(maxBatch, b)
	}
	m := newModel(maxBatch, *workers)
	if c, ok := m.(interface{ Close() }); ok {
		defer c.Close()
	}
	in, outN := m.InputSize(), m.OutputSize()
	x, err := loadInput(*input, *data, in)
	if err != nil {
		return fail("%s: %v", *model, err)
	}
	samples := len(x) / in
	var diff *float64
	if *ref != "" {
		d, err := maxAbsDiff(m, x, *ref, samples, min(128, m.MaxBatch()))
		if err != nil {
			return fail("%s: %v", *model, err)
		}
		diff = &d
	}
	enc := json.NewEncoder(stdout)
	for _, p := range plans {
		if p.Batch > samples {
			return fail("%s: batch %d needs %d samples, the input has %d", *model, p.Batch, p.Batch, samples)
		}
		xb, out := x[:p.Batch*in], make([]float32, p.Batch*outN)
		st := Summarize(Time(func() { m.Predict(out, xb, p.Batch) }, p))
		r := Result{Model: *model, Workers: *workers, Batch: p.Batch, SamplesPerSec: float64(p.Batch) / st.Median, Stats: st, MaxAbsDiff: diff}
		if err := enc.Encode(r); err != nil {
			return fail("%v", err)
		}
	}
	return 0
}

// loadInput returns the input samples: the MNIST test images, or the
// float32 file's contents, whose length must be a multiple of the sample
// size.
func loadInput(input, mnistDir string, sample int) ([]float32, error) {
	if input == "mnist" {
		if sample != 28*28 {
			return nil, fmt.Errorf("-input mnist: the model takes %d values per sample, not 784", sample)
		}
		return mnistTestImages(mnistDir)
	}
	x, err := readF32(input)
	if err != nil {
		return nil, err
	}
	if len(x) == 0 || len(x)%sample != 0 {
		return nil, fmt.Errorf("%s holds %d float32 values, not a positive multiple of the model's %d per sample", input, len(x), sample)
	}
	return x, nil
}

// mnistTestImages reads t10k-images-idx3-ubyte(.gz) and scales the pixels
// as the peers do (float32(p)/255).
func mnistTestImages(dir string) ([]float32, error) {
	if dir == "" {
		d, err := runtime.LocateMNIST()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	path := filepath.Join(dir, "t10k-images-idx3-ubyte")
	if _, err := os.Stat(path); err != nil {
		path += ".gz"
	}
	dims, pix, err := runtime.ReadIDX(path)
	if err != nil {
		return nil, err
	}
	if len(dims) != 3 || dims[1]*dims[2] != 784 {
		return nil, fmt.Errorf("%s: dimensions %v, want [N 28 28]", path, dims)
	}
	x := make([]float32, len(pix))
	for i, p := range pix {
		x[i] = float32(p) / 255
	}
	return x, nil
}

// readF32 reads a file of little-endian float32 values.
func readF32(path string) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("%s: %d bytes is not a whole number of float32 values", path, len(b))
	}
	x := make([]float32, len(b)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return x, nil
}

// maxAbsDiff runs the model over the first samples of x in chunks and
// returns max |output - reference|; the reference file must hold exactly
// samples*OutputSize values.
func maxAbsDiff(m Model, x []float32, refPath string, samples, chunk int) (float64, error) {
	ref, err := readF32(refPath)
	if err != nil {
		return 0, err
	}
	outN := m.OutputSize()
	if len(ref) != samples*outN {
		return 0, fmt.Errorf("reference %s holds %d values, want %d samples × %d outputs = %d", refPath, len(ref), samples, outN, samples*outN)
	}
	in := m.InputSize()
	out := make([]float32, chunk*outN)
	var d float64
	for lo := 0; lo < samples; lo += chunk {
		n := min(chunk, samples-lo)
		m.Predict(out, x[lo*in:(lo+n)*in], n)
		for i, v := range out[:n*outN] {
			e := math.Abs(float64(v) - float64(ref[lo*outN+i]))
			if math.IsNaN(e) || math.IsInf(e, 0) {
				return 0, fmt.Errorf("output %d of sample %d is %g, the reference %g", i%outN, lo+i/outN, v, ref[lo*outN+i])
			}
			d = max(d, e)
		}
	}
	return d, nil
}
