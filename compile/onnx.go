package compile

import (
	"fmt"

	"github.com/dlc-project/dlc/codegen/golang"
	"github.com/dlc-project/dlc/frontend/onnx"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/passes"
)

// PackageONNX compiles an .onnx model into the files of an inference
// package: Predict over the graph's one input (whose first dim is the
// batch, symbolic in the file) and one output, with the initializers
// embedded in the package as the weights' data.
func PackageONNX(path string, gopts golang.Options, lower Options) (map[string][]byte, *ir.Module, error) {
	om, err := onnx.LoadFile(path)
	if err != nil {
		return nil, nil, err
	}
	m := om.Module
	if len(om.Inputs) != 1 || len(om.Outputs) != 1 {
		return nil, nil, fmt.Errorf("%s: the Go backend compiles models with one input and one output; this one has %d inputs (%s) and %d outputs",
			path, len(om.Inputs), onnx.DescribeTypes(om.Inputs), len(om.Outputs))
	}
	if gopts.NoFuse {
		lower.Disable = append(append([]string(nil), lower.Disable...), "fuse")
	}
	err = passes.Run(m, &passes.Config{}, passes.Options{Disable: lower.Disable, Stop: lower.Stop, Verify: lower.Verify, After: lower.After})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	files, err := golang.Generate(m, gopts)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return files, m, nil
}
