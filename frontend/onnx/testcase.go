package onnx

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dlc-project/dlc/frontend/onnx/onnxpb"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
)

// A test case in onnxruntime's onnx_test_runner layout: a folder with
// model.onnx and test_data_set_*/ folders of input_*.pb and output_*.pb.

// TestSet is one test_data_set_* folder.
type TestSet struct {
	Name            string
	Inputs, Outputs []*interp.Tensor
}

// FindCases returns the case folders under paths: each path is a case
// folder (it has model.onnx) or a folder of case folders. The result is
// sorted and without duplicates.
func FindCases(paths []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("%s: not a folder (want a test case folder with model.onnx, or a folder of them)", p)
		}
		if isCase(p) {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		found := false
		for _, e := range ents {
			d := filepath.Join(p, e.Name())
			if e.IsDir() && isCase(d) {
				found = true
				if !seen[d] {
					seen[d] = true
					out = append(out, d)
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("%s: no model.onnx in it or in its subfolders", p)
		}
	}
	sort.Strings(out)
	return out, nil
}

func isCase(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "model.onnx"))
	return err == nil && !st.IsDir()
}

// LoadCase imports a case's model.onnx and reads its test sets. When a
// node needs as a constant an input the graph takes from outside (ONNX's
// node tests feed Reshape's shape, Tile's repeats, ... as inputs), the
// model is imported again specialised to the first test set's values of
// the graph inputs, and every test set must hold those same values.
func LoadCase(dir string) (*Model, []TestSet, error) {
	path := filepath.Join(dir, "model.onnx")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	mp, err := Parse(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	sets, err := readTestSets(dir)
	if err != nil {
		// An unsupported model is reported as such, whatever its data.
		if _, ierr := Import(mp); ierr != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, ierr)
		}
		return nil, nil, err
	}
	if err := testDataQuirks(mp, sets); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	specialise(mp, sets[0].Inputs)
	m, err := Import(mp)
	var nc *NeedsConstantError
	if err != nil && !errors.As(err, &nc) {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if err != nil {
		// Bind every graph input that is not an initializer, by position.
		inits := map[string]bool{}
		for _, t := range mp.GetGraph().GetInitializer() {
			inits[t.GetName()] = true
		}
		bind := map[string]*interp.Tensor{}
		i := 0
		for _, in := range mp.GetGraph().GetInput() {
			if inits[in.GetName()] {
				continue
			}
			if i < len(sets[0].Inputs) {
				bind[in.GetName()] = sets[0].Inputs[i]
			}
			i++
		}
		if m, err = ImportWith(mp, Options{Bind: bind}); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, set := range sets[1:] {
			for j, p := range m.Inputs {
				b := bind[p.Name]
				if b != nil && j < len(set.Inputs) && fmt.Sprint(b.Data) != fmt.Sprint(set.Inputs[j].Data) {
					return nil, nil, fmt.Errorf("%s: input %q is needed as a constant, and test sets give it different values", dir, p.Name)
				}
			}
		}
	}
	for _, set := range sets {
		if err := CheckInputs(m, set.Inputs); err != nil {
			return nil, nil, fmt.Errorf("%s: %v", filepath.Join(dir, set.Name), err)
		}
		if len(set.Outputs) != len(m.Outputs) {
			return nil, nil, fmt.Errorf("%s: %d output files for a model with %d outputs", filepath.Join(dir, set.Name), len(set.Outputs), len(m.Outputs))
		}
	}
	return m, sets, nil
}

// specialise gives the graph inputs' symbolic dims the sizes the test
// data has (test cases run with static shapes, as the Go backend's packed
// form wants them); inputs whose rank differs are left for CheckInputs.
func specialise(mp *onnxpb.ModelProto, inputs []*interp.Tensor) {
	inits := map[string]bool{}
	for _, t := range mp.GetGraph().GetInitializer() {
		inits[t.GetName()] = true
	}
	i := 0
	for _, in := range mp.GetGraph().GetInput() {
		if inits[in.GetName()] {
			continue
		}
		if i >= len(inputs) {
			return
		}
		t := inputs[i]
		i++
		dims := in.GetType().GetTensorType().GetShape().GetDim()
		if len(dims) != len(t.Shape) {
			continue
		}
		for j, d := range dims {
			if _, ok := d.GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue); !ok {
				d.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(t.Shape[j])}
			}
		}
	}
}

// readTestSets reads the test_data_set_* folders of a case.
func readTestSets(dir string) ([]TestSet, error) {
	sets, err := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	if err != nil {
		return nil, err
	}
	sort.Strings(sets)
	var out []TestSet
	for _, sd := range sets {
		ts := TestSet{Name: filepath.Base(sd)}
		for _, kind := range []string{"input", "output"} {
			for i := 0; ; i++ {
				p := filepath.Join(sd, fmt.Sprintf("%s_%d.pb", kind, i))
				if _, err := os.Stat(p); err != nil {
					break
				}
				t, _, err := ReadTensorFile(p)
				if err != nil {
					return nil, err
				}
				if kind == "input" {
					ts.Inputs = append(ts.Inputs, t)
				} else {
					ts.Outputs = append(ts.Outputs, t)
				}
			}
		}
		out = append(out, ts)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no test_data_set_* folders", dir)
	}
	return out, nil
}

// CheckInputs checks that inputs match the model's inputs in number,
// dtype, rank and constant dims, symbols binding consistently.
func CheckInputs(m *Model, inputs []*interp.Tensor) error {
	if len(inputs) != len(m.Inputs) {
		return fmt.Errorf("%d input files for a model with %d inputs", len(inputs), len(m.Inputs))
	}
	syms := map[string]int{}
	for i, p := range m.Inputs {
		t := inputs[i]
		if t.DType != p.Type.DType || len(t.Shape) != len(p.Type.Shape) {
			return fmt.Errorf("input %d (%q): the file holds %s%v, the model wants %s", i, p.Name, t.DType, t.Shape, p.Type)
		}
		for j, d := range p.Type.Shape {
			switch {
			case d.IsConst() && int64(t.Shape[j]) != d.Size:
				return fmt.Errorf("input %d (%q): the file holds %s%v, the model wants %s", i, p.Name, t.DType, t.Shape, p.Type)
			case !d.IsConst():
				if v, ok := syms[d.Sym]; ok && v != t.Shape[j] {
					return fmt.Errorf("input %d (%q): dim %d is %d, but %s is %d from an earlier input", i, p.Name, j, t.Shape[j], d.Sym, v)
				}
				syms[d.Sym] = t.Shape[j]
			}
		}
	}
	return nil
}

// Mismatch describes how an output differs from the expected one.
type Mismatch struct {
	MaxAbs, MaxRel float64
	Detail         string // empty when within tolerance
}

// Compare compares got with want under |got-want| <= atol + rtol*|want|
// (NaN matches NaN, infinities must be equal). Shapes and dtypes must match.
func Compare(got, want *interp.Tensor, rtol, atol float64) Mismatch {
	var m Mismatch
	if got.DType != want.DType && !(got.DType.IsFloat() && want.DType.IsFloat()) {
		m.Detail = fmt.Sprintf("dtype %s, want %s", got.DType, want.DType)
		return m
	}
	if fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) {
		m.Detail = fmt.Sprintf("shape %v, want %v", got.Shape, want.Shape)
		return m
	}
	bad, at := 0, -1
	for i, w := range want.Data {
		g := got.Data[i]
		if math.IsNaN(w) || math.IsNaN(g) {
			if math.IsNaN(w) != math.IsNaN(g) {
				bad++
				if at < 0 {
					at = i
				}
				m.MaxAbs = math.Inf(1)
			}
			continue
		}
		if math.IsInf(w, 0) || math.IsInf(g, 0) {
			if g != w {
				bad++
				if at < 0 {
					at = i
				}
				m.MaxAbs = math.Inf(1)
			}
			continue
		}
		d := math.Abs(g - w)
		m.MaxAbs = math.Max(m.MaxAbs, d)
		if w != 0 {
			m.MaxRel = math.Max(m.MaxRel, d/math.Abs(w))
		} else if d > 0 {
			m.MaxRel = math.Inf(1)
		}
		if d > atol+rtol*math.Abs(w) {
			bad++
			if at < 0 {
				at = i
			}
		}
	}
	if bad > 0 {
		m.Detail = fmt.Sprintf("%d of %d elements differ; first at flat index %d: got %v, want %v", bad, len(want.Data), at, got.Data[at], want.Data[at])
	}
	return m
}

// RunInterp runs the model's predict on inputs with ir/interp.
func RunInterp(m *Model, inputs []*interp.Tensor) ([]*interp.Tensor, error) {
	weights := map[string]*interp.Tensor{}
	for _, w := range m.Module.Weights {
		shape, err := w.Type.Shape.Resolve(nil)
		if err != nil {
			return nil, err
		}
		weights[w.Name] = &interp.Tensor{DType: w.Type.DType, Shape: shape, Data: w.Data}
	}
	res, _, err := interp.Run(m.Module, PredictFunc, inputs, weights)
	return res, err
}

// DescribeTypes formats the model's ports for messages.
func DescribeTypes(ps []Port) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = fmt.Sprintf("%q: %s", p.Name, p.Type)
	}
	return strings.Join(parts, ", ")
}

var _ = ir.F32
