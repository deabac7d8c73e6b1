package golang

import (
	"fmt"
	"os"
	"testing"

	"github.com/dlc-project/dlc/passes"
)

func TestZZPlan(t *testing.T) {
	p := os.Getenv("PLANIR")
	if p == "" {
		t.Skip()
	}
	m := parseFile(t, p)
	if os.Getenv("FUSE") != "" {
		if err := passes.Fuse(m, &passes.Config{}); err != nil {
			t.Fatal(err)
		}
		fmt.Println(m.String())
	}
	g := planModule(t, m, false)
	fmt.Println(g.planText())
}
