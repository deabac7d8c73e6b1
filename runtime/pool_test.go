package runtime

import (
	"strings"
	"sync/atomic"
	"testing"
)

// markTask records which indices were visited and how many RunRange calls
// were made, so tests can check coverage and chunking.
type markTask struct {
	hits  []int32
	calls atomic.Int32
}

func (t *markTask) RunRange(lo, hi int) {
	t.calls.Add(1)
	for i := lo; i < hi; i++ {
		atomic.AddInt32(&t.hits[i], 1)
	}
}

func TestPoolRunCoversEachIndexOnce(t *testing.T) {
	for _, workers := range []int{1, 2, 3, 8} {
		p := NewPool(workers)
		if p.Workers() != workers {
			t.Fatalf("Workers() = %d, want %d", p.Workers(), workers)
		}
		for _, n := range []int{0, 1, 2, 3, 7, 8, 9, 100, 1001} {
			task := &markTask{hits: make([]int32, n)}
			p.Run(n, task)
			for i, h := range task.hits {
				if h != 1 {
					t.Fatalf("workers=%d n=%d: index %d visited %d times", workers, n, i, h)
				}
			}
			wantCalls := min(workers, n)
			if n == 1 {
				wantCalls = 1
			}
			if got := int(task.calls.Load()); got != wantCalls {
				t.Errorf("workers=%d n=%d: %d chunks, want %d", workers, n, got, wantCalls)
			}
		}
		p.Close()
	}
}

// rangeTask records the chunk boundaries it was given.
type rangeTask struct{ los, his [16]int32 }

func (t *rangeTask) RunRange(lo, hi int) {
	// Each chunk is identified by its position; sizes tell us the split.
	atomic.StoreInt32(&t.los[lo%16], int32(lo))
	atomic.StoreInt32(&t.his[lo%16], int32(hi))
}

func TestPoolChunksAreBalanced(t *testing.T) {
	p := NewPool(4)
	defer p.Close()
	task := &rangeTask{}
	for i := range task.his {
		task.his[i] = -1
	}
	p.Run(10, task) // 3,3,2,2
	want := map[int32]int32{0: 3, 3: 6, 6: 8, 8: 10}
	for lo, hi := range want {
		if task.his[lo] != hi {
			t.Errorf("chunk starting at %d ends at %d, want %d", lo, task.his[lo], hi)
		}
	}
}

func TestPoolNilAndDefault(t *testing.T) {
	var p *Pool
	if p.Workers() != 1 {
		t.Fatalf("nil pool Workers() = %d", p.Workers())
	}
	task := &markTask{hits: make([]int32, 5)}
	p.Run(5, task)
	if task.calls.Load() != 1 || task.hits[4] != 1 {
		t.Fatalf("nil pool did not run inline: calls=%d", task.calls.Load())
	}
	p.Close() // must not panic

	d := NewPool(0)
	defer d.Close()
	if d.Workers() < 1 {
		t.Fatalf("NewPool(0).Workers() = %d", d.Workers())
	}
}

func TestPoolClosedRunsInline(t *testing.T) {
	p := NewPool(3)
	p.Close()
	p.Close() // idempotent
	task := &markTask{hits: make([]int32, 10)}
	p.Run(10, task)
	if task.calls.Load() != 1 {
		t.Fatalf("closed pool used %d chunks, want 1 (inline)", task.calls.Load())
	}
}

// nestedTask calls Run on the same pool from inside a task.
type nestedTask struct {
	p     *Pool
	inner []*markTask
}

func (t *nestedTask) RunRange(lo, hi int) {
	for i := lo; i < hi; i++ {
		t.p.Run(len(t.inner[i].hits), t.inner[i])
	}
}

func TestPoolNestedRunDoesNotDeadlock(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	nt := &nestedTask{p: p}
	for range 4 {
		nt.inner = append(nt.inner, &markTask{hits: make([]int32, 6)})
	}
	p.Run(4, nt)
	for i, in := range nt.inner {
		for j, h := range in.hits {
			if h != 1 {
				t.Fatalf("inner %d index %d visited %d times", i, j, h)
			}
		}
		if in.calls.Load() != 1 {
			t.Errorf("inner run %d used %d chunks, want 1 (busy pool runs inline)", i, in.calls.Load())
		}
	}
}

type panicTask struct{}

func (panicTask) RunRange(lo, hi int) {
	if lo > 0 {
		panic("boom")
	}
}

func TestPoolPropagatesWorkerPanic(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	func() {
		defer func() {
			r := recover()
			s, _ := r.(string)
			if !strings.Contains(s, "boom") {
				t.Fatalf("recovered %v, want the worker's panic", r)
			}
		}()
		p.Run(2, panicTask{})
	}()
	// The pool must still work afterwards.
	task := &markTask{hits: make([]int32, 4)}
	p.Run(4, task)
	if task.calls.Load() != 2 {
		t.Fatalf("pool unusable after panic: %d chunks", task.calls.Load())
	}
}

type sumTask struct{ out []float64 }

func (t *sumTask) RunRange(lo, hi int) {
	for i := lo; i < hi; i++ {
		t.out[i] = float64(i) * 2
	}
}

func TestPoolRunDoesNotAllocate(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	task := &sumTask{out: make([]float64, 1000)}
	var tk Task = task
	allocs := testing.AllocsPerRun(200, func() { p.Run(1000, tk) })
	if allocs != 0 {
		t.Fatalf("Pool.Run allocates %v times per call, want 0", allocs)
	}
	if task.out[999] != 1998 {
		t.Fatalf("task result %v", task.out[999])
	}
}

// TestPoolCallerTakesOverUnstartedChunks checks that Run does not wait for
// a worker that has not started its chunk: the caller runs it itself, and a
// worker that receives the job afterwards drops it.
func TestPoolCallerTakesOverUnstartedChunks(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	c := p.core
	// Set up chunk 1 of a Run as runLocked does, but send no job: as if
	// the worker were still waking up.
	task := &markTask{hits: make([]int32, 10)}
	p.mu.Lock()
	p.gen++
	gen := p.gen
	c.wg.Add(1)
	c.pending.Store(1)
	p.spans[1] = [2]int{5, 10}
	c.claims[1].Store(gen << 1)
	p.finish(task, gen, 2) // must return, having run [5, 10) itself
	p.mu.Unlock()
	for i, h := range task.hits {
		if want := int32(i / 5); h != want {
			t.Fatalf("index %d visited %d times, want %d", i, h, want)
		}
	}
	// The job, arriving late, is dropped by the worker.
	c.jobs <- job{t: task, lo: 5, hi: 10, slot: 1, gen: gen}
	for range 20 {
		p.Run(10, &markTask{hits: make([]int32, 10)})
	}
	if n := task.calls.Load(); n != 1 {
		t.Fatalf("task ran %d times, want 1", n)
	}
}

// TestPoolWake checks that wake-up jobs are harmless.
func TestPoolWake(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	for range 10 {
		p.wake()
		task := &markTask{hits: make([]int32, 7)}
		p.Run(7, task)
		for i, h := range task.hits {
			if h != 1 {
				t.Fatalf("index %d visited %d times", i, h)
			}
		}
	}
	var nilPool *Pool
	nilPool.wake()
}
