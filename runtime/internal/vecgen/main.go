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
	"fmt"
	"go/format"
	"log"
	"os"
	"strings"

	"github.com/dlc-project/dlc/codegen/avx512"
)

// unroll is the number of vectors per main-loop iteration, stride the
// registers each takes.
func unroll(o avx512.Op) int {
	if o.Temps > 0 {
		return 2
	}
	return 4
}

func stride(o avx512.Op) int { return 4 + o.Temps }

// Frame of every assembly kernel (ABI0).
const (
	frameSig  = "dst, a, b, c *float32, s, t float32, n int, mask uint64"
	frameSize = 56
)

var ptrReg = map[string]string{"dst": "DI", "a": "SI", "b": "DX", "c": "R8"}
var ptrOff = map[string]int{"dst": 0, "a": 8, "b": 16, "c": 24}

func uses(o avx512.Op, p string) bool {
	for _, q := range o.Params {
		if q == p {
			return true
		}
	}
	return false
}

// vector emits one vector of work for unroll slot u at byte offset off;
// masked uses opmask K1 for loads and the store.
func vector(w *avx512.Writer, o avx512.Op, u, off int, masked bool) {
	in := map[string]string{"s": avx512.RegS, "t": avx512.RegT}
	for j, p := range []string{"a", "b", "c"} {
		if !uses(o, p) {
			continue
		}
		reg := fmt.Sprintf("Z%d", u*stride(o)+j)
		in[p] = reg
		if masked {
			w.I("VMOVUPS.Z (%s), K1, %s", ptrReg[p], reg)
		} else {
			w.I("VMOVUPS %d(%s), %s", off, ptrReg[p], reg)
		}
	}
	r := fmt.Sprintf("Z%d", u*stride(o)+3)
	for t := 0; t < o.Temps; t++ {
		in[fmt.Sprintf("t%d", t)] = fmt.Sprintf("Z%d", u*stride(o)+4+t)
	}
	o.Asm(w, in, r, fmt.Sprintf("K%d", 2+u))
	if masked {
		w.I("VMOVUPS %s, K1, (DI)", r)
	} else {
		w.I("VMOVUPS %s, %d(DI)", r, off)
	}
}

func advance(w *avx512.Writer, o avx512.Op, bytes int) {
	for _, p := range []string{"dst", "a", "b", "c"} {
		if p == "dst" || uses(o, p) {
			w.I("ADDQ $%d, %s", bytes, ptrReg[p])
		}
	}
}

func asmFunc(w *avx512.Writer, o avx512.Op) {
	name := "vec" + o.Name + "AVX512"
	w.P("// func %s(%s)", name, frameSig)
	w.P("TEXT ·%s(SB), NOSPLIT, $0-%d", name, frameSize)
	for _, p := range []string{"dst", "a", "b", "c"} {
		if p == "dst" || uses(o, p) {
			w.I("MOVQ %s+%d(FP), %s", p, ptrOff[p], ptrReg[p])
		}
	}
	if uses(o, "s") {
		w.I("VBROADCASTSS s+32(FP), %s", avx512.RegS)
	}
	if uses(o, "t") {
		w.I("VBROADCASTSS t+36(FP), %s", avx512.RegT)
	}
	avx512.LoadConstRegs(w)
	w.I("MOVQ n+40(FP), CX")
	un := unroll(o)
	w.P("loopN:")
	w.I("CMPQ CX, $%d", 16*un)
	w.I("JLT loop16")
	for u := 0; u < un; u++ {
		vector(w, o, u, u*64, false)
	}
	advance(w, o, 64*un)
	w.I("SUBQ $%d, CX", 16*un)
	w.I("JMP loopN")
	w.P("loop16:")
	w.I("CMPQ CX, $16")
	w.I("JLT tail")
	vector(w, o, 0, 0, false)
	advance(w, o, 64)
	w.I("SUBQ $16, CX")
	w.I("JMP loop16")
	w.P("tail:")
	w.I("TESTQ CX, CX")
	w.I("JEQ done")
	w.I("MOVQ mask+48(FP), AX")
	w.I("KMOVW AX, K1")
	vector(w, o, 0, 0, true)
	w.P("done:")
	w.I("VZEROUPPER")
	w.I("RET")
	w.P("")
}

func goParams(o avx512.Op) string {
	var ps []string
	for _, p := range o.Params {
		if avx512.IsVec(p) {
			ps = append(ps, p+" []float32")
		} else {
			ps = append(ps, p+" float32")
		}
	}
	return "dst []float32, " + strings.Join(ps, ", ")
}

func goArgs(o avx512.Op) string { return "dst, " + strings.Join(o.Params, ", ") }

func doc(o avx512.Op) string {
	return fmt.Sprintf("// Vec%s sets dst[i] = %s for every i < len(dst); the vector\n// operands must be at least as long as dst.", o.Name, o.Expr)
}

// wrapper writes the exported function; asm says whether it may call the
// assembly kernel.
func wrapper(w *avx512.Writer, o avx512.Op, asm bool) {
	w.P("%s", doc(o))
	w.P("func Vec%s(%s) {", o.Name, goParams(o))
	w.P("n := len(dst)")
	w.P("if n == 0 {\nreturn\n}")
	var reslice []string
	for _, p := range o.Params {
		if avx512.IsVec(p) {
			reslice = append(reslice, p)
		}
	}
	ex := make([]string, len(reslice))
	for j, p := range reslice {
		ex[j] = p + "[:n]"
	}
	w.P("%s = %s", strings.Join(reslice, ", "), strings.Join(ex, ", "))
	if asm {
		w.P("if vecAVX512 {")
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
		w.P("vec%sAVX512(%s)", o.Name, strings.Join(args, ", "))
		w.P("return")
		w.P("}")
	}
	w.P("vec%sGo(%s)", o.Name, goArgs(o))
	w.P("}\n")
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
	all := avx512.Ops()

	// Portable loops.
	var g avx512.Writer
	g.P("%s", header+"package runtime\n\nimport \"math\"\n\nvar _ = math.Sqrt\n")
	for _, o := range all {
		g.P("func vec%sGo(%s) {", o.Name, goParams(o))
		g.P("for i := range dst {\ndst[i] = %s\n}\n}\n", o.Expr)
	}
	write("vec_generic.go", gofmt("vec_generic.go", g.Bytes()))

	// Exported functions with the assembly kernels.
	var a avx512.Writer
	a.P("%s", header+"//go:build amd64 && !purego\n\npackage runtime\n")
	for _, o := range all {
		a.P("//go:noescape\nfunc vec%sAVX512(%s)\n", o.Name, frameSig)
	}
	for _, o := range all {
		wrapper(&a, o, true)
	}
	write("vec_amd64.go", gofmt("vec_amd64.go", a.Bytes()))

	// Exported functions elsewhere.
	var p avx512.Writer
	p.P("%s", header+"//go:build !amd64 || purego\n\npackage runtime\n")
	for _, o := range all {
		wrapper(&p, o, false)
	}
	write("vec_other.go", gofmt("vec_other.go", p.Bytes()))

	// Assembly.
	var s avx512.Writer
	s.P("%s", strings.TrimSuffix(header, "\n"))
	s.P("//go:build amd64 && !purego\n")
	s.P("// Vector loops: each function computes dst[i] = f(operands[i]) for i < n")
	s.P("// with dst at DI and vector operands a, b, c at SI, DX, R8; scalars s and t")
	s.P("// are broadcast into Z30 and Z31. Four vectors (64 elements) per")
	s.P("// iteration (two for ops with temporaries), then single vectors, then one masked vector (mask has the")
	s.P("// low n%%16 bits set) for the tail. Z24 holds 0, Z25 1.0, Z26 the sign bit.\n")
	s.P("#include \"textflag.h\"\n")
	avx512.WriteConstData(&s, true)
	for _, o := range all {
		asmFunc(&s, o)
	}
	write("vec_amd64.s", s.Bytes())

	// The test table.
	var t avx512.Writer
	t.P("%s", header+"package runtime\n")
	t.P("// vecCases calls every exported vector function and its Go loop on the")
	t.P("// same operands.")
	t.P("var vecCases = []struct {\nname string\nrun, ref func(dst, a, b, c []float32, s, t float32)\n}{")
	for _, o := range all {
		t.P("{%q, func(dst, a, b, c []float32, s, t float32) { Vec%s(%s) }, func(dst, a, b, c []float32, s, t float32) { vec%sGo(%s) }},",
			o.Name, o.Name, goArgs(o), o.Name, goArgs(o))
	}
	t.P("}")
	write("vec_cases_test.go", gofmt("vec_cases_test.go", t.Bytes()))
}

func write(name string, b []byte) {
	if err := os.WriteFile(name, b, 0o644); err != nil {
		log.Fatal(err)
	}
}
