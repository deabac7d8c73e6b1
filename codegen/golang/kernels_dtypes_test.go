package golang

import (
	"strings"
	"testing"

	"github.com/dlc-project/dlc/ir"
)

// TestNarrowDTypes: f16 and bf16 values are refused by name where the
// backend has no code for them (a reduction, a matmul; see kernels_f16.go)
// and at the model's float32 API; a pad value outside an unsigned dtype's
// range is refused as for u8; integer ops outside the backend's integer
// arithmetic are refused for the new integer dtypes as for the others.
func TestNarrowDTypes(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`module "m"
func @predict(%x: f32[N,4]) -> (f32[N,1]) {
  %0 = cast %x {to=f16} : f16[N,4]
  %1 = reduce_sum %0 {axes=[1], keepdims=true} : f16[N,1]
  %2 = cast %1 {to=f32} : f32[N,1]
  return %2
}`, "%1 = reduce_sum: op reduce_sum on dtype f16 is not supported by the Go backend"},
		{`module "m"
func @predict(%x: f32[N,4]) -> (f32[N,4]) {
  %w = constant {value=[1.0]} : bf16[4,4]
  %0 = cast %x {to=bf16} : bf16[N,4]
  %1 = matmul %0, %w : bf16[N,4]
  %2 = cast %1 {to=f32} : f32[N,4]
  return %2
}`, "op matmul on dtype bf16 is not supported by the Go backend"},
		{`module "m"
func @predict(%x: f16[N,4]) -> (f32[N,4]) {
  %0 = cast %x {to=f32} : f32[N,4]
  return %0
}`, "parameter 0: dtype f16 is not supported by the Go backend here"},
		{`module "m"
func @predict(%x: f32[N,4]) -> (f32[N,6]) {
  %0 = abs %x : f32[N,4]
  %1 = cast %0 {to=u32} : u32[N,4]
  %2 = pad %1 {pads=[0, 1, 0, 1], value=-1.0} : u32[N,6]
  %3 = cast %2 {to=f32} : f32[N,6]
  return %3
}`, "pad value -1 is not a u32"},
		{`module "m"
func @predict(%x: f32[N,4]) -> (f32[N,4]) {
  %0 = cast %x {to=i16} : i16[N,4]
  %1 = reduce_sum %0 {axes=[1], keepdims=true} : i16[N,1]
  %2 = cast %1 {to=f32} : f32[N,1]
  %3 = broadcast %2 {shape=<N,4>} : f32[N,4]
  return %3
}`, "%1 = reduce_sum: dtype i16 for reduce_sum is not supported by the Go backend"},
	} {
		m, err := ir.ParseModule(c.src)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Generate(m, Options{Package: "model"})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s\n: error %v, want one containing %q", c.src, err, c.want)
		}
	}
}
