package passes

import (
	"testing"

	"github.com/dlc-project/dlc/ir"
)

// TestCSEEmptyConstant: a constant with no elements (an ONNX
// ConstantOfShape of shape [0], a slice folded to nothing) is a key like
// any other.
func TestCSEEmptyConstant(t *testing.T) {
	m, err := ir.ParseModule(`module "m"
func @f(%x: f32[2]) -> (f32[0], f32[0]) {
  %0 = constant {value=[.]} : f32[0]
  %1 = constant {value=[.]} : f32[0]
  return %0, %1
}`)
	if err != nil {
		t.Fatal(err)
	}
	if err := CSE(m, &Config{}); err != nil {
		t.Fatal(err)
	}
	if f := m.Func("f"); f.Results[0] != f.Results[1] {
		t.Errorf("the two empty constants were not merged:\n%s", m)
	}
}
