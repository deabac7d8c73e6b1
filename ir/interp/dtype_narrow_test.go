package interp

import (
	"math"
	"strings"
	"testing"

	"github.com/dlc-project/dlc/ir"
)

// TestNarrowDTypeArith checks that every op's result is rounded to the
// narrow dtypes (f16, bf16) and wrapped to the integer ones (i16, u16, u32,
// u64) as the arithmetic of those types gives it.
func TestNarrowDTypeArith(t *testing.T) {
	p := math.Ldexp
	cases := []struct {
		name string
		op   string
		args []*Tensor
		want *Tensor
	}{
		// 1 + 2^-11 is the midpoint of 1 and 1+2^-10 in f16: ties to
		// even give 1; 1 + 3·2^-11 lies between 1+2^-10 and 1+2^-9: even
		// is 1+2^-9.
		{"f16 add ties to even", ir.OpAdd, []*Tensor{tt(ir.F16, sh(2), 1, 1), tt(ir.F16, sh(2), p(1, -11), p(3, -11))},
			tt(ir.F16, sh(2), 1, 1+p(1, -9))},
		{"f16 mul overflows to inf", ir.OpMul, []*Tensor{tt(ir.F16, sh(2), 256, -256), tt(ir.F16, sh(2), 256, 256)},
			tt(ir.F16, sh(2), math.Inf(1), math.Inf(-1))},
		{"f16 subnormal", ir.OpMul, []*Tensor{tt(ir.F16, sh(2), p(1, -14), p(1, -14)), tt(ir.F16, sh(2), p(1, -10), p(1, -11))},
			tt(ir.F16, sh(2), p(1, -24), 0)},
		{"bf16 add ties to even", ir.OpAdd, []*Tensor{tt(ir.BF16, sh(2), 1, 1), tt(ir.BF16, sh(2), p(1, -8), p(3, -8))},
			tt(ir.BF16, sh(2), 1, 1+p(1, -6))},
		{"bf16 max", ir.OpMaximum, []*Tensor{tt(ir.BF16, sh(2), 1, math.NaN()), tt(ir.BF16, sh(2), 2, 0)},
			tt(ir.BF16, sh(2), 2, math.NaN())},
		{"i16 add wraps", ir.OpAdd, []*Tensor{tt(ir.I16, sh(2), 32767, -32768), tt(ir.I16, sh(2), 1, -1)},
			tt(ir.I16, sh(2), -32768, 32767)},
		{"u32 sub wraps", ir.OpSub, []*Tensor{tt(ir.U32, sh(2), 0, 5), tt(ir.U32, sh(2), 1, 3)},
			tt(ir.U32, sh(2), math.MaxUint32, 2)},
		{"u32 mul wraps", ir.OpMul, []*Tensor{tt(ir.U32, sh(1), 65536), tt(ir.U32, sh(1), 65537)}, tt(ir.U32, sh(1), 65536)},
		{"u64 add", ir.OpAdd, []*Tensor{tt(ir.U64, sh(2), p(1, 63), 7), tt(ir.U64, sh(2), 4096, 8)},
			tt(ir.U64, sh(2), p(1, 63)+4096, 15)},
		{"u64 pow wraps", ir.OpPow, []*Tensor{tt(ir.U64, sh(2), 2, 3), tt(ir.U64, sh(2), 64, 4)}, tt(ir.U64, sh(2), 0, 81)},
		{"u16 mod", ir.OpMod, []*Tensor{tt(ir.U16, sh(3), 7, 65535, 4), tt(ir.U16, sh(3), 3, 10, 5)}, tt(ir.U16, sh(3), 1, 5, 4)},
		{"i16 mod python", ir.OpMod, []*Tensor{tt(ir.I16, sh(2), -7, 7), tt(ir.I16, sh(2), 3, -3)}, tt(ir.I16, sh(2), 2, -2)},
		{"u32 minimum", ir.OpMinimum, []*Tensor{tt(ir.U32, sh(2), 4294967295, 3), tt(ir.U32, sh(2), 1, 4)}, tt(ir.U32, sh(2), 1, 3)},
		{"u64 neg wraps", ir.OpNeg, []*Tensor{tt(ir.U64, sh(2), p(1, 63), 0)}, tt(ir.U64, sh(2), p(1, 63), 0)},
		{"u16 neg wraps", ir.OpNeg, []*Tensor{tt(ir.U16, sh(1), 1)}, tt(ir.U16, sh(1), 65535)},
	}
	for _, c := range cases {
		got, err := evalOp(c.op, nil, c.args...)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if d := sameTensor(got, c.want, 0); d != "" {
			t.Errorf("%s: %s", c.name, d)
		}
		for i, x := range got.Data {
			if c.want.DType.IsInt() && x == 0 && math.Signbit(x) {
				t.Errorf("%s: element %d is -0, which no integer is", c.name, i)
			}
		}
	}
}

// TestNarrowDTypeErrors: what the interpreter's float64 cannot hold, or
// Go leaves undefined, is an error naming the value.
func TestNarrowDTypeErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		op   string
		args []*Tensor
		want string
	}{
		{"u64 wraps below 0", ir.OpSub, []*Tensor{tt(ir.U64, sh(1), 1), tt(ir.U64, sh(1), 2)}, "wraps to the u64 2^64-1"},
		{"u64 overflows 2^64", ir.OpAdd, []*Tensor{tt(ir.U64, sh(1), p63()), tt(ir.U64, sh(1), p63())}, "overflows u64"},
		{"u16 input out of range", ir.OpNeg, []*Tensor{tt(ir.U16, sh(1), 65536)}, "not a valid u16"},
		{"u32 input negative", ir.OpNeg, []*Tensor{tt(ir.U32, sh(1), -1)}, "not a valid u32"},
		{"u64 input of 2^64", ir.OpNeg, []*Tensor{tt(ir.U64, sh(1), math.Ldexp(1, 64))}, "not a valid u64"},
		{"i16 input fraction", ir.OpNeg, []*Tensor{tt(ir.I16, sh(1), 0.5)}, "not a valid i16"},
		{"u32 modulo by zero", ir.OpMod, []*Tensor{tt(ir.U32, sh(1), 1), tt(ir.U32, sh(1), 0)}, "integer modulo by zero"},
	} {
		_, err := evalOp(c.op, nil, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error = %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func p63() float64 { return math.Ldexp(1, 63) }

// TestNarrowDTypeInputsRound: f16 and bf16 inputs are rounded to their
// dtype when bound, as F32 inputs are to float32.
func TestNarrowDTypeInputsRound(t *testing.T) {
	got, err := evalOp(ir.OpNeg, nil, tt(ir.F16, sh(3), 0.1, 70000, 1e-9))
	if err != nil {
		t.Fatal(err)
	}
	if d := sameTensor(got, tt(ir.F16, sh(3), -0.0999755859375, math.Inf(-1), 0), 0); d != "" {
		t.Error(d)
	}
	got, err = evalOp(ir.OpNeg, nil, tt(ir.BF16, sh(1), 0.1))
	if err != nil {
		t.Fatal(err)
	}
	if d := sameTensor(got, tt(ir.BF16, sh(1), -0.10009765625), 0); d != "" { // 0x3dcd
		t.Error(d)
	}
}

// TestCastPairs casts between every pair of dtypes. Values every dtype
// holds (0, 1, 7, 100) survive any cast; bool gives and takes 0 and 1.
func TestCastPairs(t *testing.T) {
	all := append(append([]ir.DType{ir.Bool}, ir.FloatDTypes...), ir.IntDTypes...)
	for _, from := range all {
		for _, to := range all {
			in := []float64{0, 1, 7, 100}
			want := []float64{0, 1, 7, 100}
			switch {
			case from == ir.Bool:
				in, want = []float64{0, 1}, []float64{0, 1}
			case to == ir.Bool:
				want = []float64{0, 1, 1, 1}
			}
			got, err := evalOp(ir.OpCast, ir.Attrs{"to": to}, tt(from, sh(len(in)), in...))
			if err != nil {
				t.Errorf("%s to %s: %v", from, to, err)
				continue
			}
			if d := sameTensor(got, tt(to, sh(len(want)), want...), 0); d != "" {
				t.Errorf("%s to %s: %s", from, to, d)
			}
		}
	}
}

// TestCastValues checks casts against what Go's conversions (and NumPy's
// astype, and ONNX's Cast where it defines one) give: float to integer
// truncates toward zero, integer to integer wraps, to a float rounds to
// nearest even, overflowing to ±Inf.
func TestCastValues(t *testing.T) {
	p := math.Ldexp
	for _, c := range []struct {
		from, to ir.DType
		in, want []float64
	}{
		{ir.F32, ir.F16, []float64{f32(0.1), 65504, 65520, -1e6, p(1, -25), p(3, -25), math.NaN()},
			[]float64{0.0999755859375, 65504, math.Inf(1), math.Inf(-1), 0, p(1, -23), math.NaN()}},
		{ir.F64, ir.F16, []float64{1 + p(1, -11) + p(1, -40)}, []float64{1 + p(1, -10)}}, // once from f64: no double rounding
		// bf16's subnormals are spaced 2^-133 apart: 2^-134 is a tie, to even 0.
		{ir.F32, ir.BF16, []float64{f32(math.Pi), math.MaxFloat32, math.NaN(), p(3, -133), p(1, -134), p(3, -134)},
			[]float64{3.140625, math.Inf(1), math.NaN(), p(3, -133), 0, p(2, -133)}},
		{ir.F16, ir.F32, []float64{65504, p(1, -24), math.Inf(-1)}, []float64{65504, p(1, -24), math.Inf(-1)}},
		{ir.BF16, ir.F16, []float64{p(1, 20), 3.140625}, []float64{math.Inf(1), 3.140625}},
		{ir.F16, ir.BF16, []float64{1 + p(1, -10)}, []float64{1}}, // 1+2^-10 lies below bf16's 1+2^-7's midpoint
		{ir.F32, ir.U16, []float64{65535.9, -0.9, 2.5}, []float64{65535, 0, 2}},
		{ir.F32, ir.I16, []float64{-32768.5, 32767.5}, []float64{-32768, 32767}},
		{ir.F64, ir.U64, []float64{p(1, 63), p(1, 64) - 2048}, []float64{p(1, 63), p(1, 64) - 2048}},
		{ir.F16, ir.U32, []float64{65504}, []float64{65504}},
		{ir.I32, ir.U16, []float64{-1, 65536, 70000}, []float64{65535, 0, 4464}},
		{ir.I32, ir.I16, []float64{32768, -32769}, []float64{-32768, 32767}},
		{ir.I64, ir.U32, []float64{-1, p(1, 32) + 5}, []float64{math.MaxUint32, 5}},
		{ir.U32, ir.I32, []float64{math.MaxUint32, p(1, 31)}, []float64{-1, math.MinInt32}},
		{ir.U64, ir.I64, []float64{p(1, 63), p(1, 64) - 2048}, []float64{-p(1, 63), -2048}},
		{ir.U64, ir.U8, []float64{p(1, 53) - 1}, []float64{255}},
		{ir.U16, ir.I8, []float64{65535, 200}, []float64{-1, -56}},
		{ir.I16, ir.F16, []float64{2049, 32767}, []float64{2048, 32768}},
		{ir.U32, ir.F32, []float64{16777217}, []float64{16777216}},
		{ir.U16, ir.Bool, []float64{0, 256}, []float64{0, 1}},
	} {
		got, err := evalOp(ir.OpCast, ir.Attrs{"to": c.to}, tt(c.from, sh(len(c.in)), c.in...))
		if err != nil {
			t.Errorf("%s to %s: %v", c.from, c.to, err)
			continue
		}
		if d := sameTensor(got, tt(c.to, sh(len(c.want)), c.want...), 0); d != "" {
			t.Errorf("%s to %s: %s", c.from, c.to, d)
		}
		for i, x := range got.Data {
			if c.to.IsInt() && math.Signbit(x) != (c.want[i] < 0) {
				t.Errorf("%s to %s: element %d is %v (an integer has no -0)", c.from, c.to, i, x)
			}
		}
	}
	for _, c := range []struct {
		from, to ir.DType
		in       float64
		want     string
	}{
		{ir.F32, ir.U16, 65536, "does not fit u16"},
		{ir.F32, ir.U32, -1, "does not fit u32"},
		{ir.F16, ir.I16, math.Inf(1), "does not fit i16"},
		{ir.BF16, ir.U64, math.NaN(), "does not fit u64"},
		{ir.I64, ir.U64, -1, "wraps to the u64 2^64-1"},
	} {
		_, err := evalOp(ir.OpCast, ir.Attrs{"to": c.to}, tt(c.from, sh(1), c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v to %s: error = %v, want one containing %q", c.from, c.in, c.to, err, c.want)
		}
	}
}
