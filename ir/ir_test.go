package ir

import (
	"strings"
	"testing"
)

const sample = `module "m"

weight "dense/kernel" : f32[784,64] {fan_in=784, fan_out=64, init="glorot_uniform"}
weight "dense/bias" : f32[64] {init="zeros"}
state "t" : f32[] {data=[0.0]}

func @predict(%x: f32[N,784]) -> (probs: f32[N,64], f32[]) {
  %0 = weight {name="dense/kernel"} : f32[784,64]
  %1 = matmul %x, %0 : f32[N,64]
  %2 = weight {name="dense/bias"} : f32[64]
  %3 = add %1, %2 : f32[N,64]
  %4 = softmax %3 {axis=-1} : f32[N,64]
  %5 = reduce_sum %4 {axes=[0, 1], keepdims=false} : f32[]
  %6 = constant {value=[1.5, -inf, nan]} : f32[3]
  %7 = reshape %3 {shape=<N,8,8>} : f32[N,8,8]
  %8 = transpose %7 {perm=[0, 2, 1]} : f32[N,8,8]
  %9 = cast %8 {to=f64} : f64[N,8,8]
  %10 = size %9 {axes=[0], dtype=f32} : f32[]
  %11 = weight {name="t"} : f32[]
  %12 = add %11, %10 : f32[]
  update "t" = %12
  return %4, %5
}
`

func TestRoundTrip(t *testing.T) {
	m, err := ParseModule(sample)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(m); err != nil {
		t.Fatal(err)
	}
	if got := m.String(); got != sample {
		t.Fatalf("round trip differs:\n%s", got)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{`module "m" func @f(%x: f32[2]) -> (f32[2]) { %0 = frob %x : f32[2] return %0 }`, `unknown op "frob"`},
		{`module "m" func @f(%x: f32[2]) -> (f32[3]) { %0 = neg %x : f32[2] return %0 }`, "signature says"},
		{`module "m" func @f(%x: f32[2]) -> (f32[2]) { %0 = neg %y : f32[2] return %0 }`, "not defined"},
		{`module "m" func @f(%x: f32[2], %y: f32[3]) -> (f32[2]) { %0 = add %x, %y : f32[2] return %0 }`, "do not broadcast"},
		{`module "m" func @f(%x: f32[2]) -> (f32[2]) { %0 = neg %x : f32[3] return %0 }`, "infers type"},
		{`module "m" weight "a" : f32[2] {init="zeros"} weight "a" : f32[2]`, "defined twice"},
		{`module "m" func @f(%x: f32[2]) -> (f32[2]) { %0 = neg %x : f32[2] update "w" = %0 return %0 }`, "undefined weight"},
		{`module "m" func @f(%x: f32[2]) -> (f32[2]) { %0 = neg %x : f32[2] "`, "unterminated"},
	}
	for _, c := range cases {
		_, err := ParseModule(c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseModule(%q) = %v, want error containing %q", c.src, err, c.want)
		}
	}
}

func TestVerifyNamesNodeAndRule(t *testing.T) {
	m := &Module{Name: "m"}
	b := NewFunc(m, "f")
	x := b.Param("x", TensorOf(F32, S("N"), C(4)))
	y := b.Unary(OpNeg, x)
	b.Return(nil, y)
	y.Type = TensorOf(F32, C(3))
	err := Verify(m)
	if err == nil || !strings.Contains(err.Error(), "func @f: %0 = neg: has type f32[3], but its op infers f32[N,4]") {
		t.Fatalf("got %v", err)
	}
	// Use before definition.
	z := &Value{Op: OpNeg, Args: []*Value{{Op: OpNeg, Args: []*Value{x}, Type: x.Type}}, Type: x.Type}
	m.Funcs[0].Body = []*Value{z}
	m.Funcs[0].Results = []*Value{z}
	if err := Verify(m); err == nil || !strings.Contains(err.Error(), "operand 0 is not defined before its use") {
		t.Fatalf("got %v", err)
	}
}

func FuzzParseModule(f *testing.F) {
	f.Add(sample)
	f.Add(`module "m" func @f(%x: f32[2]) -> (f32[2]) { return %x }`)
	f.Fuzz(func(t *testing.T, src string) {
		m, err := ParseModule(src)
		if err != nil {
			return
		}
		// Whatever parses must print and parse back to the same text.
		text := m.String()
		m2, err := ParseModule(text)
		if err != nil {
			t.Fatalf("printed module does not parse: %v\n%s", err, text)
		}
		if m2.String() != text {
			t.Fatalf("round trip differs:\n%s\n---\n%s", text, m2.String())
		}
	})
}
