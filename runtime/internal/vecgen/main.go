// Command vecgen writes package runtime's vector loops: the exported Vec*
// functions that generated fused kernels call once per chunk of a loop
// (dst[i] = f(a[i], b[i], ...) over a slice), their AVX-512 assembly, and
// the portable Go loops used on other CPUs, architectures and under
// -tags purego.
//
// It is run by go generate from package runtime (see vec.go):
//
//	go run ./internal/vecgen
//
// Every function computes exactly what the scalar Go expression in its
// comment computes, bit for bit (IEEE single precision, no fused
// multiply-add, NaN in compares false as in Go), so a fused loop that calls
// them produces the same bits as one kernel per op; vec_test.go checks
// each against its Go loop on special values and odd lengths. The output
// is deterministic; CI checks that the committed files equal it.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"log"
	"os"
	"strings"
)

// operand names: a, b, c are vectors ([]float32), s and t scalars.
func isVec(p string) bool { return p == "a" || p == "b" || p == "c" }

type op struct {
	name   string   // exported name, without the Vec prefix
	params []string // operand names in parameter order
	expr   string   // Go element expression over a[i], b[i], c[i], s, t
	// asm emits the computation of one vector: in maps each operand to the
	// register holding it, r is the result register, k a free opmask; the
	// temporaries are in["t0"], in["t1"], … (temps of them).
	asm func(w *writer, in map[string]string, r, k string)
	// temps is the number of scratch registers asm needs; an op with
	// temps > 0 unrolls two vectors per iteration instead of four.
	temps int
}

// unroll is the number of vectors per main-loop iteration, stride the
// registers each takes.
func (o op) unroll() int {
	if o.temps > 0 {
		return 2
	}
	return 4
}

func (o op) stride() int { return 4 + o.temps }

// Opmask predicates of VCMPPS (ordered and quiet, so a compare with NaN
// is false as in Go; NEQ_UQ is true for NaN, as Go's x != 0).
const (
	cmpEQ  = 0x00
	cmpLT  = 0x11
	cmpLE  = 0x12
	cmpNEQ = 0x04
	cmpGE  = 0x1d
	cmpGT  = 0x1e
)

// Constant registers.
const (
	regZero = "Z24"
	regOne  = "Z25"
	regSign = "Z26"
	regS    = "Z30"
	regT    = "Z31"
)

func ops() []op {
	var out []op
	// Go's assembler writes AVX operands in reverse Intel order:
	// VSUBPS b, a, r is r = a - b.
	for _, b := range []struct{ name, goOp, ins string }{
		{"Add", "+", "VADDPS"}, {"Sub", "-", "VSUBPS"}, {"Mul", "*", "VMULPS"}, {"Div", "/", "VDIVPS"},
	} {
		ins := b.ins
		out = append(out,
			op{name: b.name, params: []string{"a", "b"}, expr: "a[i] " + b.goOp + " b[i]", asm: func(w *writer, in map[string]string, r, _ string) {
				w.i("%s %s, %s, %s", ins, in["b"], in["a"], r)
			}},
			op{name: b.name + "S", params: []string{"a", "s"}, expr: "a[i] " + b.goOp + " s", asm: func(w *writer, in map[string]string, r, _ string) {
				w.i("%s %s, %s, %s", ins, in["s"], in["a"], r)
			}},
		)
		if b.name == "Sub" || b.name == "Div" {
			out = append(out, op{name: "S" + b.name, params: []string{"s", "b"}, expr: "s " + b.goOp + " b[i]", asm: func(w *writer, in map[string]string, r, _ string) {
				w.i("%s %s, %s, %s", ins, in["b"], in["s"], r)
			}})
		}
	}
	out = append(out,
		op{name: "Sqrt", params: []string{"a"}, expr: "float32(math.Sqrt(float64(a[i])))", asm: func(w *writer, in map[string]string, r, _ string) {
			w.i("VSQRTPS %s, %s", in["a"], r)
		}},
		op{name: "Neg", params: []string{"a"}, expr: "-a[i]", asm: func(w *writer, in map[string]string, r, _ string) {
			w.i("VXORPS %s, %s, %s", regSign, in["a"], r)
		}},
		// relu keeps -0 and NaN as the scalar helper (x < 0 ? 0 : x) does:
		// VMAXPS returns its second Intel source unless the first is greater.
		op{name: "Relu", params: []string{"a"}, expr: "relu32(a[i])", asm: func(w *writer, in map[string]string, r, _ string) {
			w.i("VMAXPS %s, %s, %s", in["a"], regZero, r)
		}},
		op{name: "NonZero", params: []string{"a"}, expr: "b2f32(a[i] != 0)", asm: func(w *writer, in map[string]string, r, k string) {
			w.i("VCMPPS $0x%02x, %s, %s, %s", cmpNEQ, regZero, in["a"], k)
			w.i("VMOVUPS.Z %s, %s, %s", regOne, k, r)
		}},
	)
	for _, c := range []struct {
		name, goOp string
		pred       int
	}{{"GT", ">", cmpGT}, {"GE", ">=", cmpGE}, {"LT", "<", cmpLT}, {"LE", "<=", cmpLE}, {"EQ", "==", cmpEQ}} {
		pred := c.pred
		out = append(out,
			op{name: c.name, params: []string{"a", "b"}, expr: "b2f32(a[i] " + c.goOp + " b[i])", asm: func(w *writer, in map[string]string, r, k string) {
				w.i("VCMPPS $0x%02x, %s, %s, %s", pred, in["b"], in["a"], k)
				w.i("VMOVUPS.Z %s, %s, %s", regOne, k, r)
			}},
			op{name: c.name + "S", params: []string{"a", "s"}, expr: "b2f32(a[i] " + c.goOp + " s)", asm: func(w *writer, in map[string]string, r, k string) {
				w.i("VCMPPS $0x%02x, %s, %s, %s", pred, in["s"], in["a"], k)
				w.i("VMOVUPS.Z %s, %s, %s", regOne, k, r)
			}},
		)
	}
	out = append(out,
		op{name: "Exp", params: []string{"a"}, expr: "Exp32(a[i])", temps: 2, asm: func(w *writer, in map[string]string, r, k string) {
			expCore(w, in["a"], in["t0"], in["t1"], r)
			nanThrough(w, in["a"], r, k)
		}},
		op{name: "Sigmoid", params: []string{"a"}, expr: "Sigmoid32(a[i])", temps: 3, asm: func(w *writer, in map[string]string, r, k string) {
			x, nx, t0, t1 := in["a"], in["t2"], in["t0"], in["t1"]
			w.i("VORPS %s, %s, %s", regSign, x, nx)  // -|x|
			expCore(w, nx, t0, t1, r)                // e = exp(-|x|)
			w.i("VADDPS %s, %s, %s", regOne, r, t0)  // 1 + e
			w.i("VDIVPS %s, %s, %s", t0, regOne, t1) // s = 1/(1+e)
			w.i("VMULPS %s, %s, %s", t1, r, r)       // e*s
			w.i("VCMPPS $0x%02x, %s, %s, %s", cmpGE, regZero, x, k)
			w.i("VMOVUPS %s, %s, %s", t1, k, r) // x >= 0: s
			nanThrough(w, x, r, k)
		}},
	)
	out = append(out, op{name: "Tanh", params: []string{"a"}, expr: "Tanh32(a[i])", temps: 5, asm: func(w *writer, in map[string]string, r, k string) {
		x, ax, z, big, e0, e1 := in["a"], in["t0"], in["t1"], in["t2"], in["t3"], in["t4"]
		w.i("VANDNPS %s, %s, %s", x, regSign, ax) // |x|
		// Small |x|: x·p(x²), Horner from t8 down to 1.
		w.i("VMULPS %s, %s, %s", x, x, z)
		w.i("VBROADCASTSS %s, %s", expConst("t8"), r)
		for _, c := range []string{"t7", "t6", "t5", "t4", "t3", "t2", "t1"} {
			w.i("VMULPS %s, %s, %s", z, r, r)
			w.i("VADDPS.BCST %s, %s, %s", expConst(c), r, r)
		}
		w.i("VMULPS %s, %s, %s", z, r, r)
		w.i("VADDPS %s, %s, %s", regOne, r, r)
		w.i("VMULPS %s, %s, %s", x, r, r)
		// Large |x|: 1 - 2/(e^2|x| + 1), with x's sign.
		w.i("VADDPS %s, %s, %s", ax, ax, big)
		expCore(w, big, e0, e1, big)
		w.i("VADDPS %s, %s, %s", regOne, big, big)
		w.i("VBROADCASTSS %s, %s", expConst("two"), e0)
		w.i("VDIVPS %s, %s, %s", big, e0, e0)
		w.i("VSUBPS %s, %s, %s", e0, regOne, big)
		w.i("VANDPS %s, %s, %s", regSign, x, e0)
		w.i("VORPS %s, %s, %s", e0, big, big)
		// Pick by |x| < tsmall (false for NaN), then let NaN through.
		w.i("VCMPPS.BCST $0x%02x, %s, %s, %s", cmpLT, expConst("tsmall"), ax, k)
		w.i("VMOVUPS %s, %s, %s", r, k, big)
		w.i("VMOVAPS %s, %s", big, r)
		nanThrough(w, x, r, k)
	}})
	out = append(out, op{name: "Log", params: []string{"a"}, expr: "Log32(a[i])", temps: 5, asm: func(w *writer, in map[string]string, r, k string) {
		x, xs, e, m, sd, z := in["a"], in["t0"], in["t1"], in["t2"], in["t3"], in["t4"]
		// Subnormals: scaled by 2^23, exponent corrected by 23.
		w.i("VMOVAPS %s, %s", x, xs)
		w.i("VCMPPS.BCST $0x%02x, %s, %s, %s", cmpLT, expConst("minnorm"), x, k)
		w.i("VMULPS.BCST %s, %s, %s, %s", expConst("two23"), xs, k, xs)
		w.i("VPSRLD $23, %s, %s", xs, e)
		w.i("VPANDD.BCST %s, %s, %s", expConst("ff"), e, e)
		w.i("VPSUBD.BCST %s, %s, %s", expConst("bias"), e, e)
		w.i("VPSUBD.BCST %s, %s, %s, %s", expConst("i23"), e, k, e)
		// m in [1, 2), then [sqrt(1/2), sqrt(2)).
		w.i("VPANDD.BCST %s, %s, %s", expConst("mant"), xs, m)
		w.i("VPORD.BCST %s, %s, %s", expConst("onebits"), m, m)
		w.i("VCMPPS.BCST $0x%02x, %s, %s, %s", cmpGT, expConst("sqrt2"), m, k)
		w.i("VMULPS.BCST %s, %s, %s, %s", expConst("half"), m, k, m)
		w.i("VPADDD.BCST %s, %s, %s, %s", expConst("i1"), e, k, e)
		w.i("VSUBPS %s, %s, %s", regOne, m, m) // f
		w.i("VADDPS.BCST %s, %s, %s", expConst("two"), m, sd)
		w.i("VDIVPS %s, %s, %s", sd, m, sd) // s = f/(2+f)
		w.i("VMULPS %s, %s, %s", sd, sd, z) // z = s²
		w.i("VBROADCASTSS %s, %s", expConst("l4"), r)
		for _, c := range []string{"l3", "l2", "l1"} {
			w.i("VMULPS %s, %s, %s", z, r, r)
			w.i("VADDPS.BCST %s, %s, %s", expConst(c), r, r)
		}
		w.i("VMULPS %s, %s, %s", z, r, r)    // R
		w.i("VMULPS %s, %s, %s", sd, r, r)   // s·R
		w.i("VADDPS %s, %s, %s", sd, sd, xs) // 2s
		w.i("VADDPS %s, %s, %s", r, xs, xs)  // log m
		w.i("VCVTDQ2PS %s, %s", e, e)
		w.i("VMULPS.BCST %s, %s, %s", expConst("ln2lo"), e, m)
		w.i("VADDPS %s, %s, %s", m, xs, xs) // log m + e·ln2lo
		w.i("VMULPS.BCST %s, %s, %s", expConst("ln2hi"), e, e)
		w.i("VADDPS %s, %s, %s", xs, e, r) // e·ln2hi + (…)
		// x < 0: NaN; x = ±0: -Inf; +Inf: +Inf; NaN: x.
		w.i("VCMPPS $0x%02x, %s, %s, %s", cmpLT, regZero, x, k)
		w.i("VBROADCASTSS %s, %s", expConst("qnan"), xs)
		w.i("VMOVUPS %s, %s, %s", xs, k, r)
		w.i("VCMPPS $0x%02x, %s, %s, %s", cmpEQ, regZero, x, k)
		w.i("VBROADCASTSS %s, %s", expConst("ninf"), xs)
		w.i("VMOVUPS %s, %s, %s", xs, k, r)
		w.i("VCMPPS.BCST $0x%02x, %s, %s, %s", cmpEQ, expConst("pinf"), x, k)
		w.i("VMOVUPS %s, %s, %s", x, k, r)
		nanThrough(w, x, r, k)
	}})
	out = append(out, op{name: "Erf", params: []string{"a"}, expr: "Erf32(a[i])", temps: 6, asm: func(w *writer, in map[string]string, r, k string) {
		x, ax, t, u, q, e0, e1 := in["a"], in["t0"], in["t1"], in["t2"], in["t3"], in["t4"], in["t5"]
		w.i("VANDNPS %s, %s, %s", x, regSign, ax) // |x|
		// |x| < esmall: x + x·p(x²), Horner from ep0 down.
		w.i("VMULPS %s, %s, %s", x, x, t)
		w.i("VBROADCASTSS %s, %s", expConst("ep0"), r)
		for _, c := range []string{"ep1", "ep2", "ep3", "ep4", "ep5"} {
			w.i("VMULPS %s, %s, %s", t, r, r)
			w.i("VADDPS.BCST %s, %s, %s", expConst(c), r, r)
		}
		w.i("VMULPS %s, %s, %s", x, r, r)
		w.i("VADDPS %s, %s, %s", x, r, r)
		// Otherwise 1 - e^(-t²)·R(t - ecenter), t = min(|x|, ecap), with x's sign.
		w.i("VMINPS.BCST %s, %s, %s", expConst("ecap"), ax, t)
		w.i("VSUBPS.BCST %s, %s, %s", expConst("ecenter"), t, u)
		w.i("VBROADCASTSS %s, %s", expConst("er0"), q)
		for _, c := range []string{"er1", "er2", "er3", "er4", "er5", "er6", "er7", "er8", "er9"} {
			w.i("VMULPS %s, %s, %s", u, q, q)
			w.i("VADDPS.BCST %s, %s, %s", expConst(c), q, q)
		}
		w.i("VMULPS %s, %s, %s", t, t, u)
		w.i("VXORPS %s, %s, %s", regSign, u, u) // -t²
		expCore(w, u, t, e0, e1)                // e1 = e^(-t²)
		w.i("VMULPS %s, %s, %s", e1, q, q)
		w.i("VSUBPS %s, %s, %s", q, regOne, q)
		w.i("VANDPS %s, %s, %s", regSign, x, e0)
		w.i("VORPS %s, %s, %s", e0, q, q)
		// Pick by |x| < esmall (false for NaN), then let NaN through.
		w.i("VCMPPS.BCST $0x%02x, %s, %s, %s", cmpLT, expConst("esmall"), ax, k)
		w.i("VMOVUPS %s, %s, %s", r, k, q)
		w.i("VMOVAPS %s, %s", q, r)
		nanThrough(w, x, r, k)
	}})
	sel := func(x, y string) func(w *writer, in map[string]string, r, k string) {
		return func(w *writer, in map[string]string, r, k string) {
			w.i("VCMPPS $0x%02x, %s, %s, %s", cmpNEQ, regZero, in["c"], k)
			w.i("VMOVAPS %s, %s", in[y], r)
			w.i("VMOVUPS %s, %s, %s", in[x], k, r)
		}
	}
	out = append(out,
		op{name: "Select", params: []string{"c", "a", "b"}, expr: "sel32(c[i], a[i], b[i])", asm: sel("a", "b")},
		op{name: "SelectVS", params: []string{"c", "a", "s"}, expr: "sel32(c[i], a[i], s)", asm: sel("a", "s")},
		op{name: "SelectSV", params: []string{"c", "s", "b"}, expr: "sel32(c[i], s, b[i])", asm: sel("s", "b")},
		op{name: "SelectSS", params: []string{"c", "s", "t"}, expr: "sel32(c[i], s, t)", asm: sel("s", "t")},
	)
	return out
}

// expConsts are the constants of exp32 (runtime/vecmath.go), in the
// order of the vecExp DATA block; each is read as an embedded broadcast.
var expConsts = []struct {
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

func expConst(name string) string {
	for i, c := range expConsts {
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
func expCore(w *writer, x, t0, t1, r string) {
	w.i("VMAXPS.BCST %s, %s, %s", expConst("lo"), x, t0)  // xc = x > lo ? x : lo
	w.i("VMINPS.BCST %s, %s, %s", expConst("hi"), t0, t0) // xc = xc < hi ? xc : hi
	w.i("VMULPS.BCST %s, %s, %s", expConst("log2e"), t0, t1)
	w.i("VRNDSCALEPS $0, %s, %s", t1, t1) // k, to nearest even
	w.i("VMULPS.BCST %s, %s, %s", expConst("ln2hi"), t1, r)
	w.i("VSUBPS %s, %s, %s", r, t0, t0) // xc - k·ln2hi
	w.i("VMULPS.BCST %s, %s, %s", expConst("ln2lo"), t1, r)
	w.i("VSUBPS %s, %s, %s", r, t0, t0) // rr = … - k·ln2lo
	w.i("VBROADCASTSS %s, %s", expConst("c7"), r)
	for _, c := range []string{"c6", "c5", "c4", "c3", "c2"} {
		w.i("VMULPS %s, %s, %s", t0, r, r)
		w.i("VADDPS.BCST %s, %s, %s", expConst(c), r, r)
	}
	for range 2 { // + rr·1 + 1
		w.i("VMULPS %s, %s, %s", t0, r, r)
		w.i("VADDPS %s, %s, %s", regOne, r, r)
	}
	w.i("VCVTPS2DQ %s, %s", t1, t1)      // k as int32 (exact)
	w.i("VPSRAD $1, %s, %s", t1, t0)     // k1 = k >> 1
	w.i("VPSUBD %s, %s, %s", t0, t1, t1) // k2 = k - k1
	w.i("VPADDD.BCST %s, %s, %s", expConst("bias"), t0, t0)
	w.i("VPSLLD $23, %s, %s", t0, t0) // 2^k1
	w.i("VPADDD.BCST %s, %s, %s", expConst("bias"), t1, t1)
	w.i("VPSLLD $23, %s, %s", t1, t1) // 2^k2
	w.i("VMULPS %s, %s, %s", t0, r, r)
	w.i("VMULPS %s, %s, %s", t1, r, r)
}

// nanThrough sets r to x where x is NaN (the clamps turned it into a
// number).
func nanThrough(w *writer, x, r, k string) {
	w.i("VCMPPS $0x03, %s, %s, %s", x, x, k) // unordered
	w.i("VMOVUPS %s, %s, %s", x, k, r)
}

type writer struct{ bytes.Buffer }

func (w *writer) p(format string, args ...any) {
	fmt.Fprintf(w, format, args...)
	w.WriteByte('\n')
}

func (w *writer) i(format string, args ...any) { w.p("\t"+format, args...) }

// Frame of every assembly kernel (ABI0).
const (
	frameSig  = "dst, a, b, c *float32, s, t float32, n int, mask uint64"
	frameSize = 56
)

var ptrReg = map[string]string{"dst": "DI", "a": "SI", "b": "DX", "c": "R8"}
var ptrOff = map[string]int{"dst": 0, "a": 8, "b": 16, "c": 24}

func uses(o op, p string) bool {
	for _, q := range o.params {
		if q == p {
			return true
		}
	}
	return false
}

// vector emits one vector of work for unroll slot u at byte offset off;
// masked uses opmask K1 for loads and the store.
func vector(w *writer, o op, u, off int, masked bool) {
	in := map[string]string{"s": regS, "t": regT}
	for j, p := range []string{"a", "b", "c"} {
		if !uses(o, p) {
			continue
		}
		reg := fmt.Sprintf("Z%d", u*o.stride()+j)
		in[p] = reg
		if masked {
			w.i("VMOVUPS.Z (%s), K1, %s", ptrReg[p], reg)
		} else {
			w.i("VMOVUPS %d(%s), %s", off, ptrReg[p], reg)
		}
	}
	r := fmt.Sprintf("Z%d", u*o.stride()+3)
	for t := 0; t < o.temps; t++ {
		in[fmt.Sprintf("t%d", t)] = fmt.Sprintf("Z%d", u*o.stride()+4+t)
	}
	o.asm(w, in, r, fmt.Sprintf("K%d", 2+u))
	if masked {
		w.i("VMOVUPS %s, K1, (DI)", r)
	} else {
		w.i("VMOVUPS %s, %d(DI)", r, off)
	}
}

func advance(w *writer, o op, bytes int) {
	for _, p := range []string{"dst", "a", "b", "c"} {
		if p == "dst" || uses(o, p) {
			w.i("ADDQ $%d, %s", bytes, ptrReg[p])
		}
	}
}

func asmFunc(w *writer, o op) {
	name := "vec" + o.name + "AVX512"
	w.p("// func %s(%s)", name, frameSig)
	w.p("TEXT ·%s(SB), NOSPLIT, $0-%d", name, frameSize)
	for _, p := range []string{"dst", "a", "b", "c"} {
		if p == "dst" || uses(o, p) {
			w.i("MOVQ %s+%d(FP), %s", p, ptrOff[p], ptrReg[p])
		}
	}
	if uses(o, "s") {
		w.i("VBROADCASTSS s+32(FP), %s", regS)
	}
	if uses(o, "t") {
		w.i("VBROADCASTSS t+36(FP), %s", regT)
	}
	w.i("VXORPS %s, %s, %s", regZero, regZero, regZero)
	w.i("VBROADCASTSS vecOne<>(SB), %s", regOne)
	w.i("VBROADCASTSS vecSign<>(SB), %s", regSign)
	w.i("MOVQ n+40(FP), CX")
	un := o.unroll()
	w.p("loopN:")
	w.i("CMPQ CX, $%d", 16*un)
	w.i("JLT loop16")
	for u := 0; u < un; u++ {
		vector(w, o, u, u*64, false)
	}
	advance(w, o, 64*un)
	w.i("SUBQ $%d, CX", 16*un)
	w.i("JMP loopN")
	w.p("loop16:")
	w.i("CMPQ CX, $16")
	w.i("JLT tail")
	vector(w, o, 0, 0, false)
	advance(w, o, 64)
	w.i("SUBQ $16, CX")
	w.i("JMP loop16")
	w.p("tail:")
	w.i("TESTQ CX, CX")
	w.i("JEQ done")
	w.i("MOVQ mask+48(FP), AX")
	w.i("KMOVW AX, K1")
	vector(w, o, 0, 0, true)
	w.p("done:")
	w.i("VZEROUPPER")
	w.i("RET")
	w.p("")
}

func goParams(o op) string {
	var ps []string
	for _, p := range o.params {
		if isVec(p) {
			ps = append(ps, p+" []float32")
		} else {
			ps = append(ps, p+" float32")
		}
	}
	return "dst []float32, " + strings.Join(ps, ", ")
}

func goArgs(o op) string { return "dst, " + strings.Join(o.params, ", ") }

func doc(o op) string {
	return fmt.Sprintf("// Vec%s sets dst[i] = %s for every i < len(dst); the vector\n// operands must be at least as long as dst.", o.name, o.expr)
}

// wrapper writes the exported function; asm says whether it may call the
// assembly kernel.
func wrapper(w *writer, o op, asm bool) {
	w.p("%s", doc(o))
	w.p("func Vec%s(%s) {", o.name, goParams(o))
	w.p("n := len(dst)")
	w.p("if n == 0 {\nreturn\n}")
	var reslice []string
	for _, p := range o.params {
		if isVec(p) {
			reslice = append(reslice, p)
		}
	}
	ex := make([]string, len(reslice))
	for j, p := range reslice {
		ex[j] = p + "[:n]"
	}
	w.p("%s = %s", strings.Join(reslice, ", "), strings.Join(ex, ", "))
	if asm {
		w.p("if vecAVX512 {")
		args := []string{"&dst[0]"}
		for _, p := range []string{"a", "b", "c"} {
			if uses(o, p) {
				args = append(args, "&"+p+"[0]")
			} else {
				args = append(args, "nil")
			}
		}
		for _, p := range []string{"s", "t"} {
			if uses(o, p) {
				args = append(args, p)
			} else {
				args = append(args, "0")
			}
		}
		args = append(args, "n", "vecTailMask(n)")
		w.p("vec%sAVX512(%s)", o.name, strings.Join(args, ", "))
		w.p("return")
		w.p("}")
	}
	w.p("vec%sGo(%s)", o.name, goArgs(o))
	w.p("}\n")
}

func gofmt(name string, src []byte) []byte {
	out, err := format.Source(src)
	if err != nil {
		log.Fatalf("vecgen: %s: %v\n%s", name, err, src)
	}
	return out
}

const header = "// Code generated by vecgen (runtime/internal/vecgen); DO NOT EDIT.\n\n"

func main() {
	log.SetFlags(0)
	all := ops()

	// Portable loops.
	var g writer
	g.p("%s", header+"package runtime\n\nimport \"math\"\n\nvar _ = math.Sqrt\n")
	for _, o := range all {
		g.p("func vec%sGo(%s) {", o.name, goParams(o))
		g.p("for i := range dst {\ndst[i] = %s\n}\n}\n", o.expr)
	}
	write("vec_generic.go", gofmt("vec_generic.go", g.Bytes()))

	// Exported functions with the assembly kernels.
	var a writer
	a.p("%s", header+"//go:build amd64 && !purego\n\npackage runtime\n")
	for _, o := range all {
		a.p("//go:noescape\nfunc vec%sAVX512(%s)\n", o.name, frameSig)
	}
	for _, o := range all {
		wrapper(&a, o, true)
	}
	write("vec_amd64.go", gofmt("vec_amd64.go", a.Bytes()))

	// Exported functions elsewhere.
	var p writer
	p.p("%s", header+"//go:build !amd64 || purego\n\npackage runtime\n")
	for _, o := range all {
		wrapper(&p, o, false)
	}
	write("vec_other.go", gofmt("vec_other.go", p.Bytes()))

	// Assembly.
	var s writer
	s.p("%s", strings.TrimSuffix(header, "\n"))
	s.p("//go:build amd64 && !purego\n")
	s.p("// Vector loops: each function computes dst[i] = f(operands[i]) for i < n")
	s.p("// with dst at DI and vector operands a, b, c at SI, DX, R8; scalars s and t")
	s.p("// are broadcast into Z30 and Z31. Four vectors (64 elements) per")
	s.p("// iteration (two for ops with temporaries), then single vectors, then one masked vector (mask has the")
	s.p("// low n%%16 bits set) for the tail. Z24 holds 0, Z25 1.0, Z26 the sign bit.\n")
	s.p("#include \"textflag.h\"\n")
	s.p("DATA vecOne<>+0(SB)/4, $0x3f800000")
	s.p("GLOBL vecOne<>(SB), RODATA|NOPTR, $4")
	s.p("DATA vecSign<>+0(SB)/4, $0x80000000")
	s.p("GLOBL vecSign<>(SB), RODATA|NOPTR, $4\n")
	for i, c := range expConsts {
		s.p("DATA vecExpC<>+%d(SB)/4, $0x%08x // %s", 4*i, c.bits, c.name)
	}
	s.p("GLOBL vecExpC<>(SB), RODATA|NOPTR, $%d\n", 4*len(expConsts))
	for _, o := range all {
		asmFunc(&s, o)
	}
	write("vec_amd64.s", s.Bytes())

	// The test table.
	var t writer
	t.p("%s", header+"package runtime\n")
	t.p("// vecCases calls every exported vector function and its Go loop on the")
	t.p("// same operands.")
	t.p("var vecCases = []struct {\nname string\nrun, ref func(dst, a, b, c []float32, s, t float32)\n}{")
	for _, o := range all {
		t.p("{%q, func(dst, a, b, c []float32, s, t float32) { Vec%s(%s) }, func(dst, a, b, c []float32, s, t float32) { vec%sGo(%s) }},",
			o.name, o.name, goArgs(o), o.name, goArgs(o))
	}
	t.p("}")
	write("vec_cases_test.go", gofmt("vec_cases_test.go", t.Bytes()))
}

func write(name string, b []byte) {
	if err := os.WriteFile(name, b, 0o644); err != nil {
		log.Fatal(err)
	}
}
