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
	// register holding it, r is the result register, k a free opmask.
	asm func(w *writer, in map[string]string, r, k string)
}

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
			op{b.name, []string{"a", "b"}, "a[i] " + b.goOp + " b[i]", func(w *writer, in map[string]string, r, _ string) {
				w.i("%s %s, %s, %s", ins, in["b"], in["a"], r)
			}},
			op{b.name + "S", []string{"a", "s"}, "a[i] " + b.goOp + " s", func(w *writer, in map[string]string, r, _ string) {
				w.i("%s %s, %s, %s", ins, in["s"], in["a"], r)
			}},
		)
		if b.name == "Sub" || b.name == "Div" {
			out = append(out, op{"S" + b.name, []string{"s", "b"}, "s " + b.goOp + " b[i]", func(w *writer, in map[string]string, r, _ string) {
				w.i("%s %s, %s, %s", ins, in["b"], in["s"], r)
			}})
		}
	}
	out = append(out,
		op{"Sqrt", []string{"a"}, "float32(math.Sqrt(float64(a[i])))", func(w *writer, in map[string]string, r, _ string) {
			w.i("VSQRTPS %s, %s", in["a"], r)
		}},
		op{"Neg", []string{"a"}, "-a[i]", func(w *writer, in map[string]string, r, _ string) {
			w.i("VXORPS %s, %s, %s", regSign, in["a"], r)
		}},
		// relu keeps -0 and NaN as the scalar helper (x < 0 ? 0 : x) does:
		// VMAXPS returns its second Intel source unless the first is greater.
		op{"Relu", []string{"a"}, "relu32(a[i])", func(w *writer, in map[string]string, r, _ string) {
			w.i("VMAXPS %s, %s, %s", in["a"], regZero, r)
		}},
		op{"NonZero", []string{"a"}, "b2f32(a[i] != 0)", func(w *writer, in map[string]string, r, k string) {
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
			op{c.name, []string{"a", "b"}, "b2f32(a[i] " + c.goOp + " b[i])", func(w *writer, in map[string]string, r, k string) {
				w.i("VCMPPS $0x%02x, %s, %s, %s", pred, in["b"], in["a"], k)
				w.i("VMOVUPS.Z %s, %s, %s", regOne, k, r)
			}},
			op{c.name + "S", []string{"a", "s"}, "b2f32(a[i] " + c.goOp + " s)", func(w *writer, in map[string]string, r, k string) {
				w.i("VCMPPS $0x%02x, %s, %s, %s", pred, in["s"], in["a"], k)
				w.i("VMOVUPS.Z %s, %s, %s", regOne, k, r)
			}},
		)
	}
	sel := func(x, y string) func(w *writer, in map[string]string, r, k string) {
		return func(w *writer, in map[string]string, r, k string) {
			w.i("VCMPPS $0x%02x, %s, %s, %s", cmpNEQ, regZero, in["c"], k)
			w.i("VMOVAPS %s, %s", in[y], r)
			w.i("VMOVUPS %s, %s, %s", in[x], k, r)
		}
	}
	out = append(out,
		op{"Select", []string{"c", "a", "b"}, "sel32(c[i], a[i], b[i])", sel("a", "b")},
		op{"SelectVS", []string{"c", "a", "s"}, "sel32(c[i], a[i], s)", sel("a", "s")},
		op{"SelectSV", []string{"c", "s", "b"}, "sel32(c[i], s, b[i])", sel("s", "b")},
		op{"SelectSS", []string{"c", "s", "t"}, "sel32(c[i], s, t)", sel("s", "t")},
	)
	return out
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
		reg := fmt.Sprintf("Z%d", u*4+j)
		in[p] = reg
		if masked {
			w.i("VMOVUPS.Z (%s), K1, %s", ptrReg[p], reg)
		} else {
			w.i("VMOVUPS %d(%s), %s", off, ptrReg[p], reg)
		}
	}
	r := fmt.Sprintf("Z%d", u*4+3)
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
	w.p("loop64:")
	w.i("CMPQ CX, $64")
	w.i("JLT loop16")
	for u := 0; u < 4; u++ {
		vector(w, o, u, u*64, false)
	}
	advance(w, o, 256)
	w.i("SUBQ $64, CX")
	w.i("JMP loop64")
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
	s.p("// iteration, then single vectors, then one masked vector (mask has the")
	s.p("// low n%%16 bits set) for the tail. Z24 holds 0, Z25 1.0, Z26 the sign bit.\n")
	s.p("#include \"textflag.h\"\n")
	s.p("DATA vecOne<>+0(SB)/4, $0x3f800000")
	s.p("GLOBL vecOne<>(SB), RODATA|NOPTR, $4")
	s.p("DATA vecSign<>+0(SB)/4, $0x80000000")
	s.p("GLOBL vecSign<>(SB), RODATA|NOPTR, $4\n")
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
