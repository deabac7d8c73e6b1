// Package avx512 holds the AVX-512 instruction sequences of dlc's vector
// ops, in Go assembler syntax: one table shared by the runtime's vector
// loops (runtime/internal/vecgen writes runtime/vec_amd64.s from it) and
// by the fused loops codegen/golang compiles into a model's own assembly,
// so that both compute every op with the same instructions and therefore
// the same bits.
//
// Every sequence computes exactly the scalar Go expression of its Op, bit
// for bit (IEEE single precision, no fused multiply-add, NaN in compares
// false as in Go). Sequences expect RegZero, RegOne and RegSign to hold 0,
// 1.0 and the sign bit (see WriteConstData for the DATA they load from).
package avx512

import (
	"bytes"
	"fmt"
)

// IsVec reports whether operand name p is a vector: a, b and c are
// vectors ([]float32), s and t scalars.
func IsVec(p string) bool { return p == "a" || p == "b" || p == "c" }

// Op is one vector op.
type Op struct {
	Name   string   // exported name, without the Vec prefix
	Params []string // operand names in parameter order
	Expr   string   // Go element expression over a[i], b[i], c[i], s, t
	// asm emits the computation of one vector: in maps each operand to the
	// register holding it, r is the result register, k a free opmask; the
	// temporaries are in["t0"], in["t1"], … (temps of them).
	Asm func(w *Writer, in map[string]string, r, k string)
	// temps is the number of scratch registers asm needs; an op with
	// temps > 0 unrolls two vectors per iteration instead of four.
	Temps int
}

// Opmask predicates of VCMPPS (ordered and quiet, so a compare with NaN
// is false as in Go; NEQ_UQ is true for NaN, as Go's x != 0).
const (
	CmpEQ  = 0x00
	CmpLT  = 0x11
	CmpLE  = 0x12
	CmpNEQ = 0x04
	CmpGE  = 0x1d
	CmpGT  = 0x1e
)

// Constant registers.
const (
	RegZero = "Z24"
	RegOne  = "Z25"
	RegSign = "Z26"
	RegS    = "Z30"
	RegT    = "Z31"
)

// Ops is the table of vector ops, in the runtime's order.
func Ops() []Op {
	var out []Op
	// Go's assembler writes AVX operands in reverse Intel order:
	// VSUBPS b, a, r is r = a - b.
	for _, b := range []struct{ name, goOp, ins string }{
		{"Add", "+", "VADDPS"}, {"Sub", "-", "VSUBPS"}, {"Mul", "*", "VMULPS"}, {"Div", "/", "VDIVPS"},
	} {
		ins := b.ins
		out = append(out,
			Op{Name: b.name, Params: []string{"a", "b"}, Expr: "a[i] " + b.goOp + " b[i]", Asm: func(w *Writer, in map[string]string, r, _ string) {
				w.I("%s %s, %s, %s", ins, in["b"], in["a"], r)
			}},
			Op{Name: b.name + "S", Params: []string{"a", "s"}, Expr: "a[i] " + b.goOp + " s", Asm: func(w *Writer, in map[string]string, r, _ string) {
				w.I("%s %s, %s, %s", ins, in["s"], in["a"], r)
			}},
		)
		if b.name == "Sub" || b.name == "Div" {
			out = append(out, Op{Name: "S" + b.name, Params: []string{"s", "b"}, Expr: "s " + b.goOp + " b[i]", Asm: func(w *Writer, in map[string]string, r, _ string) {
				w.I("%s %s, %s, %s", ins, in["b"], in["s"], r)
			}})
		}
	}
	out = append(out,
		Op{Name: "Sqrt", Params: []string{"a"}, Expr: "float32(math.Sqrt(float64(a[i])))", Asm: func(w *Writer, in map[string]string, r, _ string) {
			w.I("VSQRTPS %s, %s", in["a"], r)
		}},
		Op{Name: "Neg", Params: []string{"a"}, Expr: "-a[i]", Asm: func(w *Writer, in map[string]string, r, _ string) {
			w.I("VXORPS %s, %s, %s", RegSign, in["a"], r)
		}},
		// relu keeps -0 and NaN as the scalar helper (x < 0 ? 0 : x) does:
		// VMAXPS returns its second Intel source unless the first is greater.
		Op{Name: "Relu", Params: []string{"a"}, Expr: "relu32(a[i])", Asm: func(w *Writer, in map[string]string, r, _ string) {
			w.I("VMAXPS %s, %s, %s", in["a"], RegZero, r)
		}},
		Op{Name: "NonZero", Params: []string{"a"}, Expr: "b2f32(a[i] != 0)", Asm: func(w *Writer, in map[string]string, r, k string) {
			w.I("VCMPPS $0x%02x, %s, %s, %s", CmpNEQ, RegZero, in["a"], k)
			w.I("VMOVUPS.Z %s, %s, %s", RegOne, k, r)
		}},
	)
	for _, c := range []struct {
		name, goOp string
		pred       int
	}{{"GT", ">", CmpGT}, {"GE", ">=", CmpGE}, {"LT", "<", CmpLT}, {"LE", "<=", CmpLE}, {"EQ", "==", CmpEQ}} {
		pred := c.pred
		out = append(out,
			Op{Name: c.name, Params: []string{"a", "b"}, Expr: "b2f32(a[i] " + c.goOp + " b[i])", Asm: func(w *Writer, in map[string]string, r, k string) {
				w.I("VCMPPS $0x%02x, %s, %s, %s", pred, in["b"], in["a"], k)
				w.I("VMOVUPS.Z %s, %s, %s", RegOne, k, r)
			}},
			Op{Name: c.name + "S", Params: []string{"a", "s"}, Expr: "b2f32(a[i] " + c.goOp + " s)", Asm: func(w *Writer, in map[string]string, r, k string) {
				w.I("VCMPPS $0x%02x, %s, %s, %s", pred, in["s"], in["a"], k)
				w.I("VMOVUPS.Z %s, %s, %s", RegOne, k, r)
			}},
		)
	}
	out = append(out,
		Op{Name: "Exp", Params: []string{"a"}, Expr: "Exp32(a[i])", Temps: 2, Asm: func(w *Writer, in map[string]string, r, k string) {
			ExpCore(w, in["a"], in["t0"], in["t1"], r)
			NaNThrough(w, in["a"], r, k)
		}},
		Op{Name: "Sigmoid", Params: []string{"a"}, Expr: "Sigmoid32(a[i])", Temps: 3, Asm: func(w *Writer, in map[string]string, r, k string) {
			x, nx, t0, t1 := in["a"], in["t2"], in["t0"], in["t1"]
			w.I("VORPS %s, %s, %s", RegSign, x, nx)  // -|x|
			ExpCore(w, nx, t0, t1, r)                // e = exp(-|x|)
			w.I("VADDPS %s, %s, %s", RegOne, r, t0)  // 1 + e
			w.I("VDIVPS %s, %s, %s", t0, RegOne, t1) // s = 1/(1+e)
			w.I("VMULPS %s, %s, %s", t1, r, r)       // e*s
			w.I("VCMPPS $0x%02x, %s, %s, %s", CmpGE, RegZero, x, k)
			w.I("VMOVUPS %s, %s, %s", t1, k, r) // x >= 0: s
			NaNThrough(w, x, r, k)
		}},
	)
	out = append(out, Op{Name: "Tanh", Params: []string{"a"}, Expr: "Tanh32(a[i])", Temps: 5, Asm: func(w *Writer, in map[string]string, r, k string) {
		x, ax, z, big, e0, e1 := in["a"], in["t0"], in["t1"], in["t2"], in["t3"], in["t4"]
		w.I("VANDNPS %s, %s, %s", x, RegSign, ax) // |x|
		// Small |x|: x·p(x²), Horner from t8 down to 1.
		w.I("VMULPS %s, %s, %s", x, x, z)
		w.I("VBROADCASTSS %s, %s", ExpConst("t8"), r)
		for _, c := range []string{"t7", "t6", "t5", "t4", "t3", "t2", "t1"} {
			w.I("VMULPS %s, %s, %s", z, r, r)
			w.I("VADDPS.BCST %s, %s, %s", ExpConst(c), r, r)
		}
		w.I("VMULPS %s, %s, %s", z, r, r)
		w.I("VADDPS %s, %s, %s", RegOne, r, r)
		w.I("VMULPS %s, %s, %s", x, r, r)
		// Large |x|: 1 - 2/(e^2|x| + 1), with x's sign.
		w.I("VADDPS %s, %s, %s", ax, ax, big)
		ExpCore(w, big, e0, e1, big)
		w.I("VADDPS %s, %s, %s", RegOne, big, big)
		w.I("VBROADCASTSS %s, %s", ExpConst("two"), e0)
		w.I("VDIVPS %s, %s, %s", big, e0, e0)
		w.I("VSUBPS %s, %s, %s", e0, RegOne, big)
		w.I("VANDPS %s, %s, %s", RegSign, x, e0)
		w.I("VORPS %s, %s, %s", e0, big, big)
		// Pick by |x| < tsmall (false for NaN), then let NaN through.
		w.I("VCMPPS.BCST $0x%02x, %s, %s, %s", CmpLT, ExpConst("tsmall"), ax, k)
		w.I("VMOVUPS %s, %s, %s", r, k, big)
		w.I("VMOVAPS %s, %s", big, r)
		NaNThrough(w, x, r, k)
	}})
	out = append(out, Op{Name: "Log", Params: []string{"a"}, Expr: "Log32(a[i])", Temps: 5, Asm: func(w *Writer, in map[string]string, r, k string) {
		x, xs, e, m, sd, z := in["a"], in["t0"], in["t1"], in["t2"], in["t3"], in["t4"]
		// Subnormals: scaled by 2^23, exponent corrected by 23.
		w.I("VMOVAPS %s, %s", x, xs)
		w.I("VCMPPS.BCST $0x%02x, %s, %s, %s", CmpLT, ExpConst("minnorm"), x, k)
		w.I("VMULPS.BCST %s, %s, %s, %s", ExpConst("two23"), xs, k, xs)
		w.I("VPSRLD $23, %s, %s", xs, e)
		w.I("VPANDD.BCST %s, %s, %s", ExpConst("ff"), e, e)
		w.I("VPSUBD.BCST %s, %s, %s", ExpConst("bias"), e, e)
		w.I("VPSUBD.BCST %s, %s, %s, %s", ExpConst("i23"), e, k, e)
		// m in [1, 2), then [sqrt(1/2), sqrt(2)).
		w.I("VPANDD.BCST %s, %s, %s", ExpConst("mant"), xs, m)
		w.I("VPORD.BCST %s, %s, %s", ExpConst("onebits"), m, m)
		w.I("VCMPPS.BCST $0x%02x, %s, %s, %s", CmpGT, ExpConst("sqrt2"), m, k)
		w.I("VMULPS.BCST %s, %s, %s, %s", ExpConst("half"), m, k, m)
		w.I("VPADDD.BCST %s, %s, %s, %s", ExpConst("i1"), e, k, e)
		w.I("VSUBPS %s, %s, %s", RegOne, m, m) // f
		w.I("VADDPS.BCST %s, %s, %s", ExpConst("two"), m, sd)
		w.I("VDIVPS %s, %s, %s", sd, m, sd) // s = f/(2+f)
		w.I("VMULPS %s, %s, %s", sd, sd, z) // z = s²
		w.I("VBROADCASTSS %s, %s", ExpConst("l4"), r)
		for _, c := range []string{"l3", "l2", "l1"} {
			w.I("VMULPS %s, %s, %s", z, r, r)
			w.I("VADDPS.BCST %s, %s, %s", ExpConst(c), r, r)
		}
		w.I("VMULPS %s, %s, %s", z, r, r)    // R
		w.I("VMULPS %s, %s, %s", sd, r, r)   // s·R
		w.I("VADDPS %s, %s, %s", sd, sd, xs) // 2s
		w.I("VADDPS %s, %s, %s", r, xs, xs)  // log m
		w.I("VCVTDQ2PS %s, %s", e, e)
		w.I("VMULPS.BCST %s, %s, %s", ExpConst("ln2lo"), e, m)
		w.I("VADDPS %s, %s, %s", m, xs, xs) // log m + e·ln2lo
		w.I("VMULPS.BCST %s, %s, %s", ExpConst("ln2hi"), e, e)
		w.I("VADDPS %s, %s, %s", xs, e, r) // e·ln2hi + (…)
		// x < 0: NaN; x = ±0: -Inf; +Inf: +Inf; NaN: x.
		w.I("VCMPPS $0x%02x, %s, %s, %s", CmpLT, RegZero, x, k)
		w.I("VBROADCASTSS %s, %s", ExpConst("qnan"), xs)
		w.I("VMOVUPS %s, %s, %s", xs, k, r)
		w.I("VCMPPS $0x%02x, %s, %s, %s", CmpEQ, RegZero, x, k)
		w.I("VBROADCASTSS %s, %s", ExpConst("ninf"), xs)
		w.I("VMOVUPS %s, %s, %s", xs, k, r)
		w.I("VCMPPS.BCST $0x%02x, %s, %s, %s", CmpEQ, ExpConst("pinf"), x, k)
		w.I("VMOVUPS %s, %s, %s", x, k, r)
		NaNThrough(w, x, r, k)
	}})
	out = append(out, Op{Name: "Erf", Params: []string{"a"}, Expr: "Erf32(a[i])", Temps: 6, Asm: func(w *Writer, in map[string]string, r, k string) {
		x, ax, t, u, q, e0, e1 := in["a"], in["t0"], in["t1"], in["t2"], in["t3"], in["t4"], in["t5"]
		w.I("VANDNPS %s, %s, %s", x, RegSign, ax) // |x|
		// |x| < esmall: x + x·p(x²), Horner from ep0 down.
		w.I("VMULPS %s, %s, %s", x, x, t)
		w.I("VBROADCASTSS %s, %s", ExpConst("ep0"), r)
		for _, c := range []string{"ep1", "ep2", "ep3", "ep4", "ep5"} {
			w.I("VMULPS %s, %s, %s", t, r, r)
			w.I("VADDPS.BCST %s, %s, %s", ExpConst(c), r, r)
		}
		w.I("VMULPS %s, %s, %s", x, r, r)
		w.I("VADDPS %s, %s, %s", x, r, r)
		// Otherwise 1 - e^(-t²)·R(t - ecenter), t = min(|x|, ecap), with x's sign.
		w.I("VMINPS.BCST %s, %s, %s", ExpConst("ecap"), ax, t)
		w.I("VSUBPS.BCST %s, %s, %s", ExpConst("ecenter"), t, u)
		w.I("VBROADCASTSS %s, %s", ExpConst("er0"), q)
		for _, c := range []string{"er1", "er2", "er3", "er4", "er5", "er6", "er7", "er8", "er9"} {
			w.I("VMULPS %s, %s, %s", u, q, q)
			w.I("VADDPS.BCST %s, %s, %s", ExpConst(c), q, q)
		}
		w.I("VMULPS %s, %s, %s", t, t, u)
		w.I("VXORPS %s, %s, %s", RegSign, u, u) // -t²
		ExpCore(w, u, t, e0, e1)                // e1 = e^(-t²)
		w.I("VMULPS %s, %s, %s", e1, q, q)
		w.I("VSUBPS %s, %s, %s", q, RegOne, q)
		w.I("VANDPS %s, %s, %s", RegSign, x, e0)
		w.I("VORPS %s, %s, %s", e0, q, q)
		// Pick by |x| < esmall (false for NaN), then let NaN through.
		w.I("VCMPPS.BCST $0x%02x, %s, %s, %s", CmpLT, ExpConst("esmall"), ax, k)
		w.I("VMOVUPS %s, %s, %s", r, k, q)
		w.I("VMOVAPS %s, %s", q, r)
		NaNThrough(w, x, r, k)
	}})
	sel := func(x, y string) func(w *Writer, in map[string]string, r, k string) {
		return func(w *Writer, in map[string]string, r, k string) {
			w.I("VCMPPS $0x%02x, %s, %s, %s", CmpNEQ, RegZero, in["c"], k)
			w.I("VMOVAPS %s, %s", in[y], r)
			w.I("VMOVUPS %s, %s, %s", in[x], k, r)
		}
	}
	out = append(out,
		Op{Name: "Select", Params: []string{"c", "a", "b"}, Expr: "sel32(c[i], a[i], b[i])", Asm: sel("a", "b")},
		Op{Name: "SelectVS", Params: []string{"c", "a", "s"}, Expr: "sel32(c[i], a[i], s)", Asm: sel("a", "s")},
		Op{Name: "SelectSV", Params: []string{"c", "s", "b"}, Expr: "sel32(c[i], s, b[i])", Asm: sel("s", "b")},
		Op{Name: "SelectSS", Params: []string{"c", "s", "t"}, Expr: "sel32(c[i], s, t)", Asm: sel("s", "t")},
	)
	return out
}

// ExpConsts are the constants of exp32 (runtime/vecmath.go), in the
// order of the vecExp DATA block; each is read as an embedded broadcast.
var ExpConsts = []struct {
	name string
	bits uint32
}{
	{"log2e", 0x3fb8aa3b}, // 1.44269504
	{"ln2hi", 0x3f318000}, // 0.693359375
	{"ln2lo", 0xb95e8083}, // -2.12194440e-4
	{"hi", 0x42b20000},    // 89
	{"lo", 0xc2d00000},    // -104
	{"c7", 0x39500d01},    // 1/5040
	{"c6", 0x3ab60b61},    // 1/720
	{"c5", 0x3c088889},    // 1/120
	{"c4", 0x3d2aaaab},    // 1/24
	{"c3", 0x3e2aaaab},    // 1/6
	{"c2", 0x3f000000},    // 1/2
	{"bias", 0x0000007f},  // 127 (int32)
	// tanh32: |x| < tsmall uses x·p(x²), p's coefficients t1 … t8 of the
	// Taylor series (t0 = 1); above, 1 - 2/(e^2|x| + 1).
	{"tsmall", 0x3f0ccccd}, // 0.55
	{"two", 0x40000000},    // 2
	{"t1", 0xbeaaaaab},     // -1/3
	{"t2", 0x3e088889},     // 2/15
	{"t3", 0xbd5d0dd1},     // -17/315
	{"t4", 0x3cb327a4},     // 62/2835
	{"t5", 0xbc11371b},     // -1382/155925
	{"t6", 0x3b6b69e8},     // 21844/6081075
	{"t7", 0xbabed1b2},     // -929569/638512875
	{"t8", 0x3a1aac12},     // 6404582/10854718875
	// log32: x = m·2^e with m in [sqrt(1/2), sqrt(2)), f = m - 1,
	// s = f/(2+f), log m = 2s + s·z·(l1 + z·(l2 + z·(l3 + z·l4))), z = s².
	{"minnorm", 0x00800000}, // 2^-126
	{"two23", 0x4b000000},   // 2^23
	{"ff", 0x000000ff},      // int32 exponent mask
	{"i23", 0x00000017},     // int32 23
	{"mant", 0x007fffff},    // mantissa mask
	{"onebits", 0x3f800000}, // 1.0
	{"sqrt2", 0x3fb504f3},   // sqrt(2)
	{"half", 0x3f000000},    // 0.5
	{"i1", 0x00000001},      // int32 1
	{"l1", 0x3f2aaaab},      // 2/3
	{"l2", 0x3ecccccd},      // 2/5
	{"l3", 0x3e924925},      // 2/7
	{"l4", 0x3e638e39},      // 2/9
	{"ninf", 0xff800000},    // -Inf
	{"qnan", 0x7fc00000},    // NaN
	{"pinf", 0x7f800000},    // +Inf
	// erf32 (runtime/vecmath.go): |x| < esmall: x + x·p(x²), p's
	// coefficients ep0 … ep5 (highest degree first); above, 1 -
	// e^(-t²)·R(t - ecenter), t = min(|x|, ecap), R's coefficients er0 … er9.
	{"esmall", 0x3f600000},  // 0.875
	{"ecap", 0x40800000},    // 4
	{"ecenter", 0x401c0000}, // 2.4375
	{"ep0", 0xba2346de},
	{"ep1", 0x3ba511ab},
	{"ep2", 0xbcdb8214},
	{"ep3", 0x3de71130},
	{"ep4", 0xbec0938a},
	{"ep5", 0x3e0375d4},
	{"er0", 0xb8336aaa},
	{"er1", 0xb900a9b0},
	{"er2", 0xb98df6b3},
	{"er3", 0x392ccfe1},
	{"er4", 0xba37b47a},
	{"er5", 0x3b3a648d},
	{"er6", 0xbc0d0cad},
	{"er7", 0x3cd901e6},
	{"er8", 0xbd9edacf},
	{"er9", 0x3e5cb9af},
}

// ExpConst is the memory operand of the named constant (in the
// vecExpC<> block WriteConstData writes).
func ExpConst(name string) string {
	for i, c := range ExpConsts {
		if c.name == name {
			return fmt.Sprintf("vecExpC<>+%d(SB)", 4*i)
		}
	}
	panic("no exp constant " + name)
}

// expCore emits r = exp32(x) for x not NaN, as runtime's exp32 computes
// it step for step: clamp to [lo, hi], k = round(x·log2e), r = x - k·ln2hi
// - k·ln2lo, a degree-7 Taylor polynomial by Horner's rule, then two
// exact power-of-two scalings (so that subnormal results round once).
// x is kept; t0 and t1 are clobbered.
func ExpCore(w *Writer, x, t0, t1, r string) {
	w.I("VMAXPS.BCST %s, %s, %s", ExpConst("lo"), x, t0)  // xc = x > lo ? x : lo
	w.I("VMINPS.BCST %s, %s, %s", ExpConst("hi"), t0, t0) // xc = xc < hi ? xc : hi
	w.I("VMULPS.BCST %s, %s, %s", ExpConst("log2e"), t0, t1)
	w.I("VRNDSCALEPS $0, %s, %s", t1, t1) // k, to nearest even
	w.I("VMULPS.BCST %s, %s, %s", ExpConst("ln2hi"), t1, r)
	w.I("VSUBPS %s, %s, %s", r, t0, t0) // xc - k·ln2hi
	w.I("VMULPS.BCST %s, %s, %s", ExpConst("ln2lo"), t1, r)
	w.I("VSUBPS %s, %s, %s", r, t0, t0) // rr = … - k·ln2lo
	w.I("VBROADCASTSS %s, %s", ExpConst("c7"), r)
	for _, c := range []string{"c6", "c5", "c4", "c3", "c2"} {
		w.I("VMULPS %s, %s, %s", t0, r, r)
		w.I("VADDPS.BCST %s, %s, %s", ExpConst(c), r, r)
	}
	for range 2 { // + rr·1 + 1
		w.I("VMULPS %s, %s, %s", t0, r, r)
		w.I("VADDPS %s, %s, %s", RegOne, r, r)
	}
	w.I("VCVTPS2DQ %s, %s", t1, t1)      // k as int32 (exact)
	w.I("VPSRAD $1, %s, %s", t1, t0)     // k1 = k >> 1
	w.I("VPSUBD %s, %s, %s", t0, t1, t1) // k2 = k - k1
	w.I("VPADDD.BCST %s, %s, %s", ExpConst("bias"), t0, t0)
	w.I("VPSLLD $23, %s, %s", t0, t0) // 2^k1
	w.I("VPADDD.BCST %s, %s, %s", ExpConst("bias"), t1, t1)
	w.I("VPSLLD $23, %s, %s", t1, t1) // 2^k2
	w.I("VMULPS %s, %s, %s", t0, r, r)
	w.I("VMULPS %s, %s, %s", t1, r, r)
}

// nanThrough sets r to x where x is NaN (the clamps turned it into a
// number).
func NaNThrough(w *Writer, x, r, k string) {
	w.I("VCMPPS $0x03, %s, %s, %s", x, x, k) // unordered
	w.I("VMOVUPS %s, %s, %s", x, k, r)
}

// Writer collects assembly text.
type Writer struct{ bytes.Buffer }

// P writes one line.
func (w *Writer) P(format string, args ...any) {
	fmt.Fprintf(w, format, args...)
	w.WriteByte('\n')
}

// I writes one indented line (an instruction).
func (w *Writer) I(format string, args ...any) { w.P("\t"+format, args...) }

// WriteConstData writes the DATA blocks the sequences read: vecOne<> and
// vecSign<> (for RegOne and RegSign) and vecExpC<> (ExpConsts); withExp
// says whether to write vecExpC<> too (only code that reads ExpConst
// operands needs it). The
// symbols are file-local, so every assembly file that uses Ops writes them.
func WriteConstData(w *Writer, withExp bool) {
	w.P("DATA vecOne<>+0(SB)/4, $0x3f800000")
	w.P("GLOBL vecOne<>(SB), RODATA|NOPTR, $4")
	w.P("DATA vecSign<>+0(SB)/4, $0x80000000")
	w.P("GLOBL vecSign<>(SB), RODATA|NOPTR, $4\n")
	if !withExp {
		return
	}
	for i, c := range ExpConsts {
		w.P("DATA vecExpC<>+%d(SB)/4, $0x%08x // %s", 4*i, c.bits, c.name)
	}
	w.P("GLOBL vecExpC<>(SB), RODATA|NOPTR, $%d\n", 4*len(ExpConsts))
}

// LoadConstRegs sets RegZero, RegOne and RegSign.
func LoadConstRegs(w *Writer) {
	w.I("VXORPS %s, %s, %s", RegZero, RegZero, RegZero)
	w.I("VBROADCASTSS vecOne<>(SB), %s", RegOne)
	w.I("VBROADCASTSS vecSign<>(SB), %s", RegSign)
}
