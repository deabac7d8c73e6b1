package passes

import "testing"

func TestCSEGolden(t *testing.T) {
	runGoldenDir(t, Pass{Name: "cse", Fn: CSE})
}
