package runtime

import (
	"fmt"
	"sort"
	"testing"
	"time"
)

type timedTask struct {
	t0     time.Time
	cstart time.Duration
	start  [2]time.Duration
	end    [2]time.Duration
	work   time.Duration
}

func (t *timedTask) RunRange(lo, hi int) {
	t.start[lo] = time.Since(t.t0)
	if lo == 0 {
		t.cstart = t.start[0]
	}
	s := time.Now()
	for time.Since(s) < t.work {
	}
	t.end[lo] = time.Since(t.t0)
}

func TestWakeLatency(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	for _, gap := range []time.Duration{0, 100 * time.Microsecond, time.Millisecond, 0, 1000 * time.Microsecond} {
		var ws, tot, ce, cs []float64
		for range 200 {
			time.Sleep(gap)
			tt := &timedTask{work: 50 * time.Microsecond}
			if gap == 1000*time.Microsecond {
				tt.work = 500 * time.Microsecond
			}
			tt.t0 = time.Now()
			p.Run(2, tt)
			d := time.Since(tt.t0)
			ws = append(ws, float64(tt.start[1].Microseconds()))
			ce = append(ce, float64(tt.end[0].Microseconds()))
			cs = append(cs, float64(tt.cstart.Microseconds()))
			tot = append(tot, float64(d.Microseconds()))
		}
		sort.Float64s(ws)
		sort.Float64s(tot)
		sort.Float64s(ce)
		sort.Float64s(cs)
		fmt.Printf("gap %v: chunk1 start median %v p90 %v | caller chunk start %v end %v | total median %v p90 %v\n", gap, ws[100], ws[180], cs[100], ce[100], tot[100], tot[180])
	}
}
