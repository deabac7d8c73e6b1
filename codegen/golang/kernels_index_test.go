package golang

import (
	"strings"
	"testing"

	"github.com/dlc-project/dlc/ir"
)

// TestIntegerValues: integer values (indices, argmax's result) are stored
// as whole float32 values, so only ops that compute them exactly may make
// one; integer arithmetic and integers beyond 2^24 are refused, naming
// the node.
func TestIntegerValues(t *testing.T) {
	ok := `module "m"
func @predict(%x: f32[N,4]) -> (f32[N,2]) {
  %0 = argmax %x {axis=1, keepdims=true} : i64[N,1]
  %1 = concat %0, %0 {axis=1} : i64[N,2]
  %2 = gather_elements %x, %1 {axis=1} : f32[N,2]
  %3 = cast %1 {to=f32} : f32[N,2]
  %4 = add %2, %3 : f32[N,2]
  return %4
}`
	m, err := ir.ParseModule(ok)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(m, Options{Package: "model"}); err != nil {
		t.Fatalf("integers that ops compute exactly: %v", err)
	}
	for _, c := range []struct{ src, want string }{
		{`module "m"
func @predict(%x: f32[N,4]) -> (f32[N]) {
  %0 = argmax %x {axis=1, keepdims=true} : i64[N,1]
  %1 = reduce_sum %0 {axes=[1]} : i64[N]
  %2 = cast %1 {to=f32} : f32[N]
  return %2
}`, "func @predict: %1 = reduce_sum: dtype i64 for reduce_sum is not supported by the Go backend"},
		{`module "m"
func @predict(%x: f32[N,4]) -> (f32[N,4]) {
  %0 = constant {value=[16777217]} : i64[1]
  %1 = gather %x, %0 {axis=1} : f32[N,1]
  %2 = broadcast %1 {shape=<N,4>} : f32[N,4]
  return %2
}`, "func @predict: %0 = constant: integer constant 1.6777217e+07"},
		{`module "m"
func @predict(%x: f32[N,0]) -> (f32[N]) {
  %0 = argmax %x {axis=1} : i64[N]
  %1 = cast %0 {to=f32} : f32[N]
  return %1
}`, "func @predict: %0 = argmax: the axis 1 of [N,0] holds no elements"},
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
