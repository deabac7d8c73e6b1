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
	"slices"
	"sort"
	"testing"
	"text/tabwriter"
	"time"
)

// Model is what every generated package's Model offers. Packages compiled
// from a training model (model.json, Keras) are also Trainers; packages
// compiled from an ONNX file are inference only.
type Model interface {
	Predict(out, x []float32, n int)
	InputSize() int
	OutputSize() int
}

// Trainer is a Model with a train step.
type Trainer interface {
	TrainStep(x, y []float32, n int) float32
}

// Variant is one generated package to time.
type Variant struct {
	Name string
	New  func(maxBatch int, seed uint64, workers int) Model
}

// Stats are one variant's figures (medians over the rounds). For an
// inference-only model TrainStepMS and AllocsPerStep are absent (nil) and
// SamplesPerSec is Predict's at the batch; AllocsPerPredict is Predict's
// at the batch in either case.
type Stats struct {
	TrainStepMS      *float64 `json:"train_step_ms"`
	PredictBatch1US  float64  `json:"predict_batch1_us"`
	PredictMS        float64  `json:"predict_ms"`
	SamplesPerSec    float64  `json:"samples_per_sec"`
	ArenaBytes       int      `json:"arena_bytes"`
	AllocsPerStep    *float64 `json:"allocs_per_step"`
	AllocsPerPredict float64  `json:"allocs_per_predict"`
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
		tr            Trainer // nil: inference only
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
		st.tr, _ = m.(Trainer)
		// Warm up: caches, the pool's goroutines, the branch predictors.
		for i := 0; i < 10; i++ {
			if st.tr != nil {
				st.tr.TrainStep(st.x, st.y, *batch)
			}
			m.Predict(st.out, st.x, *batch)
		}
		if st.tr != nil {
			a := testing.AllocsPerRun(10, func() { st.tr.TrainStep(st.x, st.y, *batch) })
			st.stats.AllocsPerStep = &a
		}
		st.stats.AllocsPerPredict = testing.AllocsPerRun(10, func() { m.Predict(st.out, st.x, *batch) })
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
			if st.tr != nil {
				st.train = append(st.train, timeIt(func() { st.tr.TrainStep(st.x, st.y, *batch) }))
			}
			st.p1 = append(st.p1, timeIt(func() { st.m.Predict(st.out, st.x1, 1) }))
			st.pb = append(st.pb, timeIt(func() { st.m.Predict(st.out, st.x, *batch) }))
		}
	}
	if tty {
		fmt.Fprintln(stderr)
	}
	for _, st := range states {
		st.stats.PredictBatch1US = median(st.p1) * 1e6
		st.stats.PredictMS = median(st.pb) * 1e3
		st.stats.SamplesPerSec = float64(*batch) / median(st.pb)
		if st.tr != nil {
			t := median(st.train)
			ms := t * 1e3
			st.stats.TrainStepMS = &ms
			st.stats.SamplesPerSec = float64(*batch) / t
		}
		if c, ok := st.m.(interface{ Close() }); ok {
			c.Close()
		}
	}
	training := len(states) > 0 && states[0].tr != nil
	kind := "train step and Predict"
	if !training {
		kind = "inference only (no train step): Predict"
	}
	fmt.Fprintf(stdout, "dlc bench %s: %s, batch %d, %d rounds alternating, medians\n\n", model, kind, *batch, *rounds)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "variant\ttrain step ms\tpredict b=1 µs\tpredict b="+fmt.Sprint(*batch)+" ms\tsamples/s\tarena bytes\tallocs/step\tallocs/predict\t")
	for i, st := range states {
		s := st.stats
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.3f\t%.0f\t%d\t%s\t%g\t\n", variants[i].Name, optFloat(s.TrainStepMS, "%.3f"), s.PredictBatch1US, s.PredictMS, s.SamplesPerSec, s.ArenaBytes, optFloat(s.AllocsPerStep, "%g"), s.AllocsPerPredict)
	}
	tw.Flush()
	speedups := func(a, c Stats) string {
		train := ""
		if a.TrainStepMS != nil && c.TrainStepMS != nil {
			train = fmt.Sprintf("train step %.2fx, ", *c.TrainStepMS / *a.TrainStepMS)
		}
		return fmt.Sprintf("%spredict b=1 %.2fx, predict b=%d %.2fx", train, c.PredictBatch1US/a.PredictBatch1US, *batch, c.PredictMS/a.PredictMS)
	}
	if len(states) >= 2 {
		a, b := states[0].stats, states[1].stats
		fmt.Fprintf(stdout, "\nspeedup %s/%s: %s\n", variants[0].Name, variants[1].Name, speedups(a, b))
		for i := 2; i < len(states); i++ {
			fmt.Fprintf(stdout, "speedup %s/%s: %s\n", variants[0].Name, variants[i].Name, speedups(a, states[i].stats))
		}
		// The spread over the rounds says how noisy the machine was: a
		// round times both variants back to back, so its ratio is the
		// steadiest figure when the host's speed drifts.
		var perRound []float64
		if training {
			for r := range states[0].train {
				perRound = append(perRound, states[1].train[r]/states[0].train[r])
			}
			lo0, hi0 := minMax(states[0].train)
			lo1, hi1 := minMax(states[1].train)
			lo, hi := minMax(perRound)
			fmt.Fprintf(stdout, "train step over the rounds: %s %.3f-%.3f ms, %s %.3f-%.3f ms; per-round speedup %.2f-%.2fx (median %.2fx)\n",
				variants[0].Name, lo0*1e3, hi0*1e3, variants[1].Name, lo1*1e3, hi1*1e3, lo, hi, median(perRound))
		}
		if *asJSON {
			obj := map[string]any{
				"model": model, "batch": *batch, "rounds": *rounds,
				variants[0].Name: a, variants[1].Name: b,
				"speedup_predict_batch1": b.PredictBatch1US / a.PredictBatch1US,
				"speedup_predict":        b.PredictMS / a.PredictMS,
			}
			if training {
				obj["speedup_train_step"] = *b.TrainStepMS / *a.TrainStepMS
				lo, hi := minMax(perRound)
				obj["speedup_train_step_rounds"] = map[string]float64{"min": lo, "median": median(perRound), "max": hi}
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

// optFloat formats *x, or "-" when x is nil (a figure the model has not).
func optFloat(x *float64, format string) string {
	if x == nil {
		return "-"
	}
	return fmt.Sprintf(format, *x)
}

func minMax(xs []float64) (lo, hi float64) {
	return slices.Min(xs), slices.Max(xs)
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
