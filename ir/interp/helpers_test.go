package interp

import (
	"math"
	"strings"
	"testing"

	"github.com/dlc-project/dlc/ir"
)

// f32 rounds to float32 and back: what an F32 node holds.
func f32(x float64) float64 { return float64(float32(x)) }

// tf builds an F32 tensor, rounding the expected values as the interpreter
// rounds its results.
func tf(shape []int, data ...float64) *Tensor {
	t := New(ir.F32, shape, data)
	for i, x := range t.Data {
		t.Data[i] = f32(x)
	}
	return t
}

func tt(dt ir.DType, shape []int, data ...float64) *Tensor { return New(dt, shape, data) }

func sh(dims ...int) []int { return append([]int{}, dims...) }

// sameTensor reports how got differs from want: dtype, shape, or an
// element further than tol apart (NaN matches only NaN).
func sameTensor(got, want *Tensor, tol float64) string {
	if got == nil {
		return "got nil tensor"
	}
	if got.DType != want.DType || !sameShape(got.Shape, want.Shape) {
		return "got " + got.String() + ", want " + want.String()
	}
	for i, w := range want.Data {
		g := got.Data[i]
		if math.IsNaN(w) && math.IsNaN(g) {
			continue
		}
		if g == w {
			continue
		}
		if math.IsNaN(g) || math.IsNaN(w) || math.Abs(g-w) > tol {
			return "got " + got.String() + ", want " + want.String()
		}
	}
	return ""
}

// evalOp builds a function taking one parameter per argument (typed with
// the argument's constant shape), applying op to them, and runs it.
func evalOp(op string, attrs ir.Attrs, args ...*Tensor) (*Tensor, error) {
	m := &ir.Module{Name: "t"}
	b := ir.NewFunc(m, "f")
	params := make([]*ir.Value, len(args))
	for i, a := range args {
		params[i] = b.Param(string(rune('a'+i)), ir.Type{DType: a.DType, Shape: irShape(a.Shape)})
	}
	v := b.Op(op, attrs, params...)
	b.Return(nil, v)
	if err := b.Err(); err != nil {
		return nil, err
	}
	res, _, err := Run(m, "f", args, nil)
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

func mustParse(t *testing.T, src string) *ir.Module {
	t.Helper()
	m, err := ir.ParseModule(src)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return m
}

func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want one containing %q", err, want)
	}
}
