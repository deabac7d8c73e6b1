package onnx

import (
	"sort"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/dlc-project/dlc/frontend/onnx/onnxpb"
)

// loadNoPanic imports mp and fails the test on a panic.
func loadNoPanic(t *testing.T, what string, mp *onnxpb.ModelProto) {
	t.Helper()
	data, err := proto.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: panic: %v", what, r)
		}
	}()
	_, _ = Load(data)
}

func sortedOps() []string {
	var ops []string
	for op := range converters {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

// Every op with its inputs named "" (omitted), required ones included,
// is an error, never a panic.
func TestEmptyInputNames(t *testing.T) {
	for _, op := range sortedOps() {
		for extra := 0; extra < 3; extra++ {
			for _, first := range []string{"", "x"} {
				ins := []string{first}
				for i := 1; i < converters[op].minIn+extra; i++ {
					ins = append(ins, "")
				}
				loadNoPanic(t, op+" "+first, shapeGraph([]any{"batch", 3}, []string{"y"}, nodeP(op, "n", ins, []string{"y"})))
			}
		}
	}
}

// Every op given a shape value of a symbolic tensor (1-D s, scalar b) in
// any of its first three inputs is converted or refused, never a panic.
func TestShapeValueInputsNoPanic(t *testing.T) {
	pre := []*onnxpb.NodeProto{
		nodeP("Shape", "shape", []string{"x"}, []string{"s"}),
		nodeP("Gather", "g", []string{"s", "i0"}, []string{"b"}, intAttr("axis", 0)),
	}
	for _, op := range sortedOps() {
		for n := 1; n <= 3; n++ {
			for pos := 0; pos < n; pos++ {
				for _, sv := range []string{"s", "b"} {
					for _, other := range []string{"x", "i1", "one1"} {
						ins := make([]string, n)
						for i := range ins {
							ins[i] = other
						}
						ins[pos] = sv
						nodes := append(append([]*onnxpb.NodeProto{}, pre...), nodeP(op, "n", ins, []string{"y"}))
						loadNoPanic(t, op, shapeGraph([]any{"batch", 3}, []string{"y"}, nodes...))
					}
				}
			}
		}
	}
}
