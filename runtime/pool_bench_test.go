package runtime

import "testing"

type nopTask struct{}

func (nopTask) RunRange(lo, hi int) {}

// BenchmarkPoolRun measures the fixed cost of dispatching one Run.
func BenchmarkPoolRun(b *testing.B) {
	p := NewPool(2)
	defer p.Close()
	var t Task = nopTask{}
	b.ReportAllocs()
	for b.Loop() {
		p.Run(2, t)
	}
}
