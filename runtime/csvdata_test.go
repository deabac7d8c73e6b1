package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadCSV(t *testing.T) {
	ds, err := ReadCSV(strings.NewReader("label,p0,p1,p2\n3, 0,255,51\n0,1,2,3\n"), 1.0/255)
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 2 || ds.Rows != 1 || ds.Cols != 3 || ds.Validate() != nil {
		t.Fatalf("dataset %d x %dx%d: %v", ds.N, ds.Rows, ds.Cols, ds.Validate())
	}
	if ds.Labels[0] != 3 || ds.Labels[1] != 0 || ds.Images[1] != 1 || ds.Images[2] != float32(51)*(1.0/255) {
		t.Fatalf("labels %v images %v", ds.Labels, ds.Images)
	}
	// No header.
	if ds, err := ReadCSV(strings.NewReader("1,0.5\n"), 1); err != nil || ds.N != 1 || ds.Images[0] != 0.5 {
		t.Fatalf("%v %v", ds, err)
	}
}

func TestReadCSVErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "0: no samples"},
		{"label,a\n", "0: no samples"},
		{"1,2,3\n1,2\n", "2: 1 features, the first sample has 2"},
		{"1,2\n256,1\n", `2: label "256" is not an integer in 0…255`},
		{"1,2\nx,1\n", `2: label "x" is not an integer in 0…255`},
		{"1,2\n1,abc\n", `2: feature 1: "abc" is not a number`},
		{"1\n", "1: a label but no features"},
		{"1,\"2\n", "1: extraneous or missing \" in quoted-field"},
	} {
		_, err := ReadCSV(strings.NewReader(c.in), 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadCSV(%q) = %v, want an error containing %q", c.in, err, c.want)
		}
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.csv")
	os.WriteFile(p, []byte("1,2\n1,x\n"), 0o644)
	if _, err := LoadCSV(p, 1); err == nil || !strings.Contains(err.Error(), p+":2: feature 1") {
		t.Errorf("LoadCSV: %v", err)
	}
}
