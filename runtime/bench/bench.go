// Package bench is the benchmark driver of `dlc bench`: it times the
// packages dlc generated for one model in different variants (fused and
// unfused) alternately in one process, so that every ratio it reports is
// measured side by side, on the same machine state.
package bench

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"testing"
	"text/tabwriter"
	"time"
)

// Model is what a generated package's Model offers.
type Model interface {
	TrainStep(x, y []float32, n int) float32
	Predict(out, x []float32, n int)
	InputSize() int
	OutputSize() int
}

// Variant is one generated package to time.
type Variant struct {
	Name string
	New  func(maxBatch int, seed uint64, workers int) Model
}

// Stats are one variant's figures (medians over the rounds).
type Stats struct {
	TrainStepMS     float64 `json:"train_step_ms"`
	PredictBatch1US float64 `json:"predict_batch1_us"`
	PredictMS       float64 `json:"predict_ms"`
	SamplesPerSec   float64 `json:"samples_per_sec"`
	ArenaBytes      int     `json:"arena_bytes"`
	AllocsPerStep   float64 `json:"allocs_per_step"`
}

// Main parses the flags of a bench program, times the variants and prints
// a table (and, with -json, one JSON object as the last line of stdout).
// The first variant is the one measured, the second the baseline.
func Main(model string, variants []Variant) {
	os.Exit(RunMain(os.Args[1:], os.Stdout, os.Stderr, model, variants))
}

// RunMain is Main with arguments and streams given; it returns the exit status.
func RunMain(args []string, stdout, stderr io.Writer, model string, variants []Variant) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	batch := fs.Int("batch", 128, "batch size of TrainStep and of the batched Predict")
	rounds := fs.Int("rounds", 7, "rounds; each times every variant once, alternating")
	minTime := fs.Duration("time", 150*time.Millisecond, "time spent per measurement in each round")
	workers := fs.Int("workers", 0, "worker goroutines (default: GOMAXPROCS)")
	asJSON := fs.Bool("json", false, "print one JSON object as the last line of stdout")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *batch <= 0 || *rounds <= 0 || *minTime <= 0 {
		fmt.Fprintln(stderr, "error: -batch, -rounds and -time must be positive")
		return 2
	}
	type state struct {
		m             Model
		x, y, x1, out []float32
		train, p1, pb []float64
		stats         Stats
	}
	r := rand.New(rand.NewPCG(1, 2))
	var states []*state
	for _, v := range variants {
		m := v.New(*batch, 1, *workers)
		in, outN := m.InputSize(), m.OutputSize()
		ty := outN
		if t, ok := m.(interface{ TargetSize() int }); ok {
			ty = t.TargetSize()
		}
		st := &state{m: m, x: make([]float32, *batch*in), y: make([]float32, *batch*ty),
			out: make([]float32, *batch*outN)}
		for i := range st.x {
			st.x[i] = float32(r.Float64())
		}
		for i := 0; i < *batch; i++ {
			st.y[i*ty+r.IntN(ty)] = 1
		}
		st.x1 = st.x[:in]
		if a, ok := m.(interface{ ArenaBytes() int }); ok {
			st.stats.ArenaBytes = a.ArenaBytes()
		}
		// Warm up: caches, the pool's goroutines, the branch predictors.
		for i := 0; i < 10; i++ {
			m.TrainStep(st.x, st.y, *batch)
			m.Predict(st.out, st.x, *batch)
		}
		st.stats.AllocsPerStep = testing.AllocsPerRun(10, func() { m.TrainStep(st.x, st.y, *batch) })
		states = append(states, st)
	}
	// timeIt runs f until minTime has passed and returns the time per call.
	timeIt := func(f func()) float64 {
		n := 0
		start := time.Now()
		for time.Since(start) < *minTime || n < 3 {
			f()
			n++
		}
		return time.Since(start).Seconds() / float64(n)
	}
	tty := false
	if f, ok := stderr.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	for round := 0; round < *rounds; round++ {
		if tty {
			fmt.Fprintf(stderr, "\rround %d/%d", round+1, *rounds)
		}
		for _, st := range states {
			st.train = append(st.train, timeIt(func() { st.m.TrainStep(st.x, st.y, *batch) }))
			st.p1 = append(st.p1, timeIt(func() { st.m.Predict(st.out, st.x1, 1) }))
			st.pb = append(st.pb, timeIt(func() { st.m.Predict(st.out, st.x, *batch) }))
		}
	}
	if tty {
		fmt.Fprintln(stderr)
	}
	for _, st := range states {
		t := median(st.train)
		st.stats.TrainStepMS = t * 1e3
		st.stats.PredictBatch1US = median(st.p1) * 1e6
		st.stats.PredictMS = median(st.pb) * 1e3
		st.stats.SamplesPerSec = float64(*batch) / t
		if c, ok := st.m.(interface{ Close() }); ok {
			c.Close()
		}
	}
	fmt.Fprintf(stdout, "dlc bench %s: batch %d, %d rounds alternating, medians\n\n", model, *batch, *rounds)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "variant\ttrain step ms\tpredict b=1 µs\tpredict b="+fmt.Sprint(*batch)+" ms\tsamples/s\tarena bytes\tallocs/step\t")
	for i, st := range states {
		s := st.stats
		fmt.Fprintf(tw, "%s\t%.3f\t%.1f\t%.3f\t%.0f\t%d\t%g\t\n", variants[i].Name, s.TrainStepMS, s.PredictBatch1US, s.PredictMS, s.SamplesPerSec, s.ArenaBytes, s.AllocsPerStep)
	}
	tw.Flush()
	if len(states) >= 2 {
		a, b := states[0].stats, states[1].stats
		fmt.Fprintf(stdout, "\nspeedup %s/%s: train step %.2fx, predict b=1 %.2fx, predict b=%d %.2fx\n",
			variants[0].Name, variants[1].Name, b.TrainStepMS/a.TrainStepMS, b.PredictBatch1US/a.PredictBatch1US, *batch, b.PredictMS/a.PredictMS)
		for i := 2; i < len(states); i++ {
			c := states[i].stats
			fmt.Fprintf(stdout, "speedup %s/%s: train step %.2fx, predict b=1 %.2fx, predict b=%d %.2fx\n",
				variants[0].Name, variants[i].Name, c.TrainStepMS/a.TrainStepMS, c.PredictBatch1US/a.PredictBatch1US, *batch, c.PredictMS/a.PredictMS)
		}
		if *asJSON {
			obj := map[string]any{
				"model": model, "batch": *batch, "rounds": *rounds,
				variants[0].Name: a, variants[1].Name: b,
				"speedup_train_step":     b.TrainStepMS / a.TrainStepMS,
				"speedup_predict_batch1": b.PredictBatch1US / a.PredictBatch1US,
				"speedup_predict":        b.PredictMS / a.PredictMS,
			}
			for i := 2; i < len(states); i++ {
				obj[variants[i].Name] = states[i].stats
			}
			line, _ := json.Marshal(obj)
			fmt.Fprintln(stdout, string(line))
		}
	}
	return 0
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
