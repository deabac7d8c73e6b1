//go:build !race

package examplecheck

const raceEnabled = false
