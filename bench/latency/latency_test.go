package latency

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// double is a model whose outputs are twice its inputs (2 values per sample).
type double struct{ maxBatch, workers int }

func (d *double) Predict(out, x []float32, n int) {
	for i := range x[:2*n] {
		out[i] = 2 * x[i]
	}
}
func (d *double) InputSize() int  { return 2 }
func (d *double) OutputSize() int { return 2 }
func (d *double) MaxBatch() int   { return d.maxBatch }

var models = map[string]New{"double": func(mb, w int) Model { return &double{mb, w} }}

func writeF32(t *testing.T, name string, v []float32) string {
	t.Helper()
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSummarize(t *testing.T) {
	// Same definitions as the peers' common.stats: p90 at index
	// round(0.9*(n-1)) with half to even, median of the middle two.
	// n = 6: 0.9*5 = 4.5 rounds (half to even) to 4, the fifth value.
	got := Summarize([]float64{5, 1, 4, 2, 3, 6})
	want := Stats{Calls: 6, Min: 1, Median: 3.5, P90: 5, Max: 6}
	if got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
	if got := Summarize([]float64{3, 1, 2}); got != (Stats{Calls: 3, Min: 1, Median: 2, P90: 3, Max: 3}) {
		t.Errorf("odd n: %+v", got)
	}
	if got := Summarize(nil); got != (Stats{}) {
		t.Errorf("empty: %+v", got)
	}
}

func TestPeerPlan(t *testing.T) {
	for _, c := range []struct {
		batch, min, warm int
		budget           time.Duration
	}{{1, 3000, 150, 1500 * time.Millisecond}, {32, 200, 20, 1500 * time.Millisecond}, {128, 200, 20, 1500 * time.Millisecond}, {10000, 10, 20, 2 * time.Second}} {
		p := PeerPlan(c.batch)
		if p.MinCalls != c.min || p.Budget != c.budget || p.Warmup() != c.warm {
			t.Errorf("batch %d: %+v warmup %d", c.batch, p, p.Warmup())
		}
	}
}

func TestTimeCountsCalls(t *testing.T) {
	calls := 0
	ts := Time(func() { calls++ }, Plan{Batch: 1, MinCalls: 50, Budget: time.Millisecond})
	if len(ts) < 50 || calls != len(ts)+20 {
		t.Errorf("%d timed calls, %d calls in all (want >= 50 timed and 20 warm-up)", len(ts), calls)
	}
}

func TestRun(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8} // 4 samples
	ref := []float32{2, 4, 6, 8, 10, 12, 14, 16.5}
	in, rf := writeF32(t, "in.bin", x), writeF32(t, "ref.bin", ref)
	var out, errb bytes.Buffer
	code := Run([]string{"-model", "double", "-workers", "2", "-batches", "1,4", "-input", in, "-ref", rf,
		"-budget", "1ms", "-min-calls", "5"}, &out, &errb, models)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	sc := bufio.NewScanner(&out)
	var got []Result
	for sc.Scan() {
		var r Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		got = append(got, r)
	}
	if len(got) != 2 {
		t.Fatalf("%d results, want 2: %s", len(got), out.String())
	}
	for i, b := range []int{1, 4} {
		r := got[i]
		if r.Model != "double" || r.Workers != 2 || r.Batch != b || r.Calls < 5 || r.Median <= 0 || r.Min > r.Median || r.Median > r.Max {
			t.Errorf("result %d: %+v", i, r)
		}
		if r.MaxAbsDiff == nil || *r.MaxAbsDiff != 0.5 {
			t.Errorf("result %d: max_abs_diff %v, want 0.5", i, r.MaxAbsDiff)
		}
	}
}

func TestRunErrors(t *testing.T) {
	in := writeF32(t, "in.bin", []float32{1, 2, 3, 4})
	odd := writeF32(t, "odd.bin", []float32{1, 2, 3})
	short := writeF32(t, "short.bin", []float32{1, 2})
	nan := writeF32(t, "nan.bin", []float32{float32(math.NaN()), 0, 0, 0})
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-model", "nope"}, `unknown -model "nope" (have double)`},
		{[]string{"-model", "double", "-batches", "1,x"}, `-batches: "x" is not a positive batch size`},
		{[]string{"-model", "double", "-batches", "0"}, `"0" is not a positive batch size`},
		{[]string{"-model", "double", "-workers", "0"}, "-workers must be positive"},
		{[]string{"-model", "double", "-input", odd}, "not a positive multiple of the model's 2 per sample"},
		{[]string{"-model", "double", "-input", in, "-batches", "3"}, "batch 3 needs 3 samples, the input has 2"},
		{[]string{"-model", "double", "-input", in, "-ref", short}, "holds 2 values, want 2 samples × 2 outputs = 4"},
		{[]string{"-model", "double", "-input", in, "-ref", nan}, "output 0 of sample 0 is 2, the reference NaN"},
		{[]string{"-model", "double", "-input", "mnist"}, "the model takes 2 values per sample, not 784"},
	} {
		var out, errb bytes.Buffer
		if code := Run(c.args, &out, &errb, models); code == 0 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q, want it to contain %q", c.args, code, errb.String(), c.want)
		}
	}
}
