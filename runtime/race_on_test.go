//go:build race

package runtime

// raceEnabled lets slow reference checks shrink under the race detector.
const raceEnabled = true
