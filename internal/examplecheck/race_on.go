//go:build race

package examplecheck

// raceEnabled: built with -race. The race detector's sync.Pool drops a
// random share of the items put back (to expose code relying on reuse), so
// the GEMM's pooled scratch for concurrent serial products is reallocated
// now and then: allocation counts are only meaningful without -race.
const raceEnabled = true
