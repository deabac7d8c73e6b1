package golang

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dlc-project/dlc/passes"
)

func TestZZDump(t *testing.T) {
	dir := os.Getenv("DUMPDIR")
	if dir == "" {
		t.Skip()
	}
	paths, _ := filepath.Glob("testdata/*.ir")
	more, _ := filepath.Glob("testdata/memplan/*.ir")
	paths = append(paths, more...)
	for _, p := range paths {
		for _, v := range []string{"base", "planned", "fused"} {
			m := parseFile(t, p)
			if v == "fused" {
				if err := passes.Fuse(m, &passes.Config{}); err != nil {
					t.Fatal(err)
				}
			}
			out, err := Generate(m, Options{Package: "model", NoFuse: v == "base"})
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Join(dir, filepath.Base(filepath.Dir(p))+"_"+filepath.Base(p)+"."+v+".go")
			os.WriteFile(name, out[fileName], 0o644)
		}
	}
}
