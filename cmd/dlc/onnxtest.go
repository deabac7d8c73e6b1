package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/dlc-project/dlc/frontend/onnx"
	"github.com/dlc-project/dlc/ir/interp"
)

// Tolerance of the comparison with a case's expected outputs: float32's,
// as onnxruntime's onnx_test_runner uses by default.
const (
	onnxRTol = 1e-3
	onnxATol = 1e-5
)

// caseResult is one case's outcome; the JSON field names are the
// command's documented output.
type caseResult struct {
	Name      string  `json:"name"`
	Status    string  `json:"status"` // pass, fail or unsupported
	MaxAbsErr float64 `json:"max_abs_err"`
	MaxRelErr float64 `json:"max_rel_err"`
	Detail    string  `json:"detail"`
	// Ops lists the unsupported op types (status unsupported).
	Ops []string `json:"-"`
}

type onnxSummary struct {
	Passed      int          `json:"passed"`
	Failed      int          `json:"failed"`
	Unsupported int          `json:"unsupported"`
	Cases       []caseResult `json:"cases"`
}

func runONNXTest(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("onnx-test", "[--backend interp|go] [--json] PATH...",
		"Run ONNX test cases (a folder with model.onnx and test_data_set_*/input_*.pb, output_*.pb, or a folder of such folders) and compare the outputs", stderr)
	backend := fs.String("backend", "interp", "interp (the reference interpreter) or go (generated Go code, all cases built into one binary)")
	asJSON := fs.Bool("json", false, `print, as the last line of stdout, one JSON object {"passed", "failed", "unsupported", "cases": [{"name", "status", "max_abs_err", "max_rel_err", "detail"}]}`)
	verbose := fs.Bool("v", false, "print passing cases too")
	keep := fs.String("keep", "", "go backend: build in this directory and keep it")
	doc := fs.String("doc", "", "run the cases on both backends and write the support table (docs/onnx-support.md) to this file")
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		fmt.Fprintf(stderr, "dlc onnx-test: want at least one PATH\n")
		fs.Usage()
		return errUsage
	}
	if *backend != "interp" && *backend != "go" {
		return fmt.Errorf("unknown backend %q (known: interp, go)", *backend)
	}
	cases, err := onnx.FindCases(paths)
	if err != nil {
		return err
	}
	if *doc != "" {
		return writeONNXDoc(*doc, cases)
	}
	sum, err := runONNXCases(cases, *backend, *keep)
	if err != nil {
		return err
	}
	for _, r := range sum.Cases {
		switch r.Status {
		case "pass":
			if *verbose {
				fmt.Fprintf(stdout, "PASS        %s\n", r.Name)
			}
		case "fail":
			fmt.Fprintf(stdout, "FAIL        %s: %s\n", r.Name, r.Detail)
		case "unsupported":
			fmt.Fprintf(stdout, "UNSUPPORTED %s: %s\n", r.Name, r.Detail)
		}
	}
	fmt.Fprintf(stdout, "onnx-test (%s): %d cases: %d passed, %d failed, %d unsupported\n", *backend, len(sum.Cases), sum.Passed, sum.Failed, sum.Unsupported)
	if *asJSON {
		for i := range sum.Cases {
			sum.Cases[i].MaxAbsErr = finite(sum.Cases[i].MaxAbsErr)
			sum.Cases[i].MaxRelErr = finite(sum.Cases[i].MaxRelErr)
		}
		b, err := json.Marshal(sum)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", b)
	}
	if sum.Failed > 0 {
		return fmt.Errorf("%d of %d cases failed", sum.Failed, len(sum.Cases))
	}
	return nil
}

// finite keeps JSON valid: an infinite or NaN error is the largest float.
func finite(x float64) float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return math.MaxFloat64
	}
	return x
}

// loadedCase is a case read from disk, or the reason it cannot run.
type loadedCase struct {
	name   string
	dir    string
	model  *onnx.Model
	sets   []onnx.TestSet
	result *caseResult // set when the case is decided before running
}

func loadCase(dir string) *loadedCase {
	lc := &loadedCase{name: filepath.Base(dir), dir: dir}
	m, sets, err := onnx.LoadCase(dir)
	if err != nil {
		var un *onnx.UnsupportedError
		if errors.As(err, &un) {
			lc.result = &caseResult{Name: lc.name, Status: "unsupported", Detail: strings.Join(un.OpTypes(), ", "), Ops: un.OpTypes()}
			return lc
		}
		lc.result = &caseResult{Name: lc.name, Status: "fail", Detail: "import: " + err.Error()}
		return lc
	}
	lc.model, lc.sets = m, sets
	return lc
}

// judge compares a case's outputs per test set.
func judge(lc *loadedCase, outs [][]*interp.Tensor) caseResult {
	r := caseResult{Name: lc.name, Status: "pass"}
	for si, set := range lc.sets {
		got := outs[si]
		for oi, want := range set.Outputs {
			mm := onnx.Compare(got[oi], want, onnxRTol, onnxATol)
			r.MaxAbsErr = math.Max(r.MaxAbsErr, mm.MaxAbs)
			r.MaxRelErr = math.Max(r.MaxRelErr, mm.MaxRel)
			if mm.Detail != "" && r.Status == "pass" {
				r.Status = "fail"
				r.Detail = fmt.Sprintf("%s: output %d (%q): max abs err %.3g, max rel err %.3g: %s",
					set.Name, oi, lc.model.Outputs[oi].Name, mm.MaxAbs, mm.MaxRel, mm.Detail)
			}
		}
	}
	return r
}

func runONNXCases(dirs []string, backend, keep string) (*onnxSummary, error) {
	loaded := make([]*loadedCase, len(dirs))
	for i, d := range dirs {
		loaded[i] = loadCase(d)
	}
	results := make([]caseResult, len(dirs))
	switch backend {
	case "interp":
		for i, lc := range loaded {
			if lc.result != nil {
				results[i] = *lc.result
				continue
			}
			outs := make([][]*interp.Tensor, len(lc.sets))
			var err error
			for si, set := range lc.sets {
				if outs[si], err = onnx.RunInterp(lc.model, set.Inputs); err != nil {
					break
				}
			}
			if err != nil {
				results[i] = caseResult{Name: lc.name, Status: "fail", Detail: "run: " + err.Error()}
				continue
			}
			results[i] = judge(lc, outs)
		}
	case "go":
		var err error
		if results, err = runGoCases(loaded, keep); err != nil {
			return nil, err
		}
	}
	sum := &onnxSummary{Cases: results}
	for _, r := range results {
		switch r.Status {
		case "pass":
			sum.Passed++
		case "fail":
			sum.Failed++
		default:
			sum.Unsupported++
		}
	}
	return sum, nil
}
