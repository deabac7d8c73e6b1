package golang

import (
	"errors"
	"strings"
	"testing"

	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/passes"
)

// TestF64BuffersAligned plans testdata/f64_ops.ir (unfused, planned, and
// fused) and checks that every f64 buffer starts at an even float32 offset
// of an arena of even length for every MaxBatch, so that its []float64
// view is 8-byte aligned, and that a buffer has twice the slots of its
// elements.
func TestF64BuffersAligned(t *testing.T) {
	for _, v := range []struct{ fuse, noFuse bool }{{false, true}, {false, false}, {true, false}} {
		m := parseFile(t, "testdata/f64_ops.ir")
		if v.fuse {
			if err := passes.Fuse(m, &passes.Config{}); err != nil {
				t.Fatal(err)
			}
		}
		g := &gen{mod: m, pkg: "model", noFuse: v.noFuse, helpers: map[string]bool{}}
		if err := g.plan(); err != nil {
			t.Fatal(err)
		}
		even := func(p poly) bool {
			for _, c := range p {
				if c%2 != 0 {
					return false
				}
			}
			return true
		}
		if !even(g.arena) {
			t.Errorf("%+v: arena %s floats: not even for every MaxBatch", v, polyString(g.arena))
		}
		n64 := 0
		for _, fp := range g.fns() {
			for _, b := range fp.bufs {
				if b.kind != inArena || b.dtype() != ir.F64 {
					continue
				}
				n64++
				if !even(b.off) {
					t.Errorf("%+v: f64 buffer %s at offset %s: not 8-byte aligned", v, b.name, polyString(b.off))
				}
				if want := product(shapeMonos(b.typ.Shape)).mul(constMono(2)); b.size != want {
					t.Errorf("%+v: f64 buffer %s has %s slots, want %s", v, b.name, monoString(b.size, "N"), monoString(want, "N"))
				}
			}
		}
		if n64 == 0 {
			t.Errorf("%+v: no f64 buffer planned", v)
		}
	}
}

// TestF64Rejects: f64 where the float32 API meets it, and ops without
// f64 code, are refused with errors that wrap ErrUnsupported and name the
// op and the dtype.
func TestF64Rejects(t *testing.T) {
	cases := []struct{ src, want string }{
		{`module "m"
func @predict(%x: f64[N,2]) -> (f32[N,2]) {
  %0 = cast %x {to=f32} : f32[N,2]
  return %0
}`, "parameter 0: dtype f64"},
		{`module "m"
func @predict(%x: f32[N,2]) -> (f64[N,2]) {
  %0 = cast %x {to=f64} : f64[N,2]
  return %0
}`, "result 0: dtype f64"},
		{`module "m"
weight "w" : f64[2] {init="zeros"}
func @predict(%x: f32[N,2]) -> (f32[N,2]) { return %x }`, `weight "w": dtype f64`},
		{`module "m"
func @predict(%x: f32[N,1,4,4]) -> (f32[N,1,2,2]) {
  %0 = cast %x {to=f64} : f64[N,1,4,4]
  %1 = avg_pool %0 {kernel_shape=[2, 2], strides=[2, 2]} : f64[N,1,2,2]
  %2 = cast %1 {to=f32} : f32[N,1,2,2]
  return %2
}`, "%1 = avg_pool: op avg_pool on dtype f64 is not supported by the Go backend"},
	}
	for _, c := range cases {
		m, err := ir.ParseModule(c.src)
		if err != nil {
			t.Fatalf("%s\n: %v", c.src, err)
		}
		_, err = Generate(m, Options{Package: "model"})
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s\n: error %v, want one containing %q that wraps ErrUnsupported", c.src, err, c.want)
		}
	}
}
