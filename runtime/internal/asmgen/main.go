// Command asmgen writes the amd64 assembly of package runtime's SGEMM:
// register-blocked micro-kernels for AVX-512 and AVX2+FMA, one function per
// tile shape (rows × vectors), and an AVX-512 panel-packing routine. It also
// writes the Go declarations and dispatch tables for them.
//
// It is run by go generate from package runtime (see sgemm_amd64.go):
//
//	go run ./internal/asmgen -asm sgemm_kernels_amd64.s -go sgemm_kernels_amd64.go
//
// The output is deterministic; CI checks that the committed files equal it.
// Plain text generation keeps the main module free of a generator
// dependency, and the asm stays readable: every kernel has the same shape,
// described in the comment written at the top of the .s file.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"strings"
)

// Tile shapes. They must match the constants in runtime/sgemm_amd64.go
// (avx512MR etc.), which the generated Go file also defines.
const (
	avx512MR = 12 // rows of C per AVX-512 tile
	avx512NV = 2  // 16-lane vectors per row: NR = 32 columns
	avx2MR   = 6  // rows of C per AVX2 tile
	avx2NV   = 2  // 8-lane vectors per row: NR = 16 columns
)

// Argument frame shared by every kernel (ABI0, see the .s header).
const (
	offK     = 0
	offA     = 8
	offARS   = 16
	offAKS   = 24
	offB     = 32
	offBKS   = 40
	offC     = 48
	offLDC   = 56
	offNR    = 64
	offMask  = 72
	offAlpha = 80
	offBeta  = 84
	offAccum = 88
	argSize  = 96
)

const kernelSig = "k int, a *float32, ars, aks int, b *float32, bks int, c *float32, ldc int, nr int, mask uint64, alpha, beta float32, accum int"

type writer struct{ bytes.Buffer }

func (w *writer) p(format string, args ...any) {
	fmt.Fprintf(w, format, args...)
	w.WriteByte('\n')
}

// i writes one tab-indented instruction.
func (w *writer) i(format string, args ...any) { w.p("\t"+format, args...) }

// rowAddr returns the address operand of row i of a matrix whose row
// pointers are kept in groups of four: group g's first row is in base[g],
// and rows are `stride` bytes apart, with stride in R8 and 3*stride in R9.
func rowAddr(base []string, i, disp int) string {
	g, r := i/4, i%4
	d := ""
	if disp != 0 {
		d = fmt.Sprint(disp)
	}
	switch r {
	case 0:
		return fmt.Sprintf("%s(%s)", d, base[g])
	case 1:
		return fmt.Sprintf("%s(%s)(R8*1)", d, base[g])
	case 2:
		return fmt.Sprintf("%s(%s)(R8*2)", d, base[g])
	default:
		return fmt.Sprintf("%s(%s)(R9*1)", d, base[g])
	}
}

var groupRegs = []string{"AX", "R10", "R11", "R12"}

// isa describes the vector flavour of a kernel.
type isa struct {
	name   string // AVX512 or AVX2
	reg    string // Z or Y
	lanes  int    // float32 lanes per vector
	nregs  int    // architectural vector registers
	zero   string // instruction that zeroes a register
	masked bool   // AVX-512 opmask loads/stores
}

var (
	isa512 = isa{name: "AVX512", reg: "Z", lanes: 16, nregs: 32, zero: "VPXORD", masked: true}
	isa256 = isa{name: "AVX2", reg: "Y", lanes: 8, nregs: 16, zero: "VPXOR"}
)

func kernelName(s isa, mr, nv int) string { return fmt.Sprintf("sgemm%sr%dv%d", s.name, mr, nv) }

// naturalSets is the number of independent accumulator sets over k that
// a tile of mr rows by nv vectors keeps: with few accumulators the FMA
// latency (4 cycles, 2 ports) and not the throughput would bound the
// loop, so small tiles split k over up to 4 sets summed at the end, as
// many as the registers allow.
func naturalSets(s isa, mr, nv int) int {
	nacc := mr * nv
	sets := 1
	for sets < 4 && nacc*sets < 8 && nacc*sets*2 <= s.nregs-2-nv {
		sets *= 2
	}
	return sets
}

// setsSuffix names a kernel that keeps fewer sets than its tile's
// natural number (see kernel): "" for the natural one.
func setsSuffix(s isa, mr, nv, sets int) string {
	if sets == naturalSets(s, mr, nv) {
		return ""
	}
	return fmt.Sprintf("s%d", sets)
}

// kmode selects how a kernel addresses its operands.
type kmode int

const (
	plain kmode = iota // A and B through strides
	idxB               // row l of B at b + boff[l] (a table), not b + l*bks
	idxA               // column l of A at a + aoff[l] (a table), rows adjacent
)

// idxKernelName names the indexed variants of a kernel (see kernel).
func idxKernelName(s isa, mr, nv int) string { return fmt.Sprintf("sgemm%sIdxr%dv%d", s.name, mr, nv) }

func idxAKernelName(s isa, mr, nv int) string {
	return fmt.Sprintf("sgemm%sIdxAr%dv%d", s.name, mr, nv)
}

// idxKernelSig is kernelSig with B's row stride replaced by a table of
// row offsets (in floats, int32).
const idxKernelSig = "k int, a *float32, ars, aks int, b *float32, boff *int32, c *float32, ldc int, nr int, mask uint64, alpha, beta float32, accum int"

// idxAKernelSig is kernelSig with A's column stride replaced by a table
// of column offsets; A's rows are adjacent (ars is not read).
const idxAKernelSig = "k int, a *float32, ars int, aoff *int32, b *float32, bks int, c *float32, ldc int, nr int, mask uint64, alpha, beta float32, accum int"

// kernel writes one micro-kernel computing an mr × (nv*lanes) tile with
// sets independent accumulator sets over k (naturalSets, or fewer). The
// indexed variants read row l of B at b + boff[l]*4 bytes instead of
// b + l*bks*4 (idxB), or element (i, l) of A at a + (aoff[l] + i)*4 bytes
// (idxA), so that a convolution can multiply by a patch matrix that is
// never built: its rows are the input plane shifted by each kernel offset
// (see runtime/conv_padded.go). The table pointer takes the stride's slot
// in the frame.
//
// Each element of the tile is summed over k the same way whatever mr and
// nv are, given sets: step l into set l mod sets (the last k mod 4 steps
// into set 0), the sets added in order at the end. The kernels with fewer
// sets than natural let a caller that cuts a product into tiles of varying
// shapes keep every element's order fixed (ConvFilterGrad: its rows are
// split over the pool, and the split must not change the bits).
func kernel(w *writer, s isa, mr, nv, sets int, mode kmode) {
	v := func(n int) string { return fmt.Sprintf("%s%d", s.reg, n) }
	// Registers: the two broadcast registers are the last two, the B
	// vectors the nv before them, accumulators from 0 up.
	bc := [2]int{s.nregs - 2, s.nregs - 1}
	breg := func(j int) int { return s.nregs - 2 - nv + j }
	nacc := mr * nv
	if sets > naturalSets(s, mr, nv) {
		log.Fatalf("%s r%d v%d: %d sets do not fit", s.name, mr, nv, sets)
	}
	acc := func(set, i, j int) int { return set*nacc + i*nv + j }
	groups := (mr + 3) / 4
	name, sig := kernelName(s, mr, nv), kernelSig
	switch mode {
	case idxB:
		name, sig = idxKernelName(s, mr, nv), idxKernelSig
	case idxA:
		name, sig = idxAKernelName(s, mr, nv), idxAKernelSig
	}
	name += setsSuffix(s, mr, nv, sets)

	w.p("// func %s(%s)", name, sig)
	w.p("TEXT ·%s(SB), NOSPLIT, $0-%d", name, argSize)
	if s.masked {
		w.i("MOVQ mask+%d(FP), DX", offMask)
		for j := range nv {
			if j > 0 {
				w.i("SHRQ $16, DX")
			}
			w.i("KMOVW DX, K%d", j+1)
		}
	}
	// Prefetch the C tile, which is read or written after the loop.
	w.i("MOVQ c+%d(FP), DI", offC)
	w.i("MOVQ ldc+%d(FP), DX", offLDC)
	w.i("SHLQ $2, DX")
	for i := range mr {
		if i > 0 {
			w.i("ADDQ DX, DI")
		}
		for off := 0; off < nv*s.lanes*4; off += 64 {
			w.i("PREFETCHT0 %d(DI)", off)
		}
		w.i("PREFETCHT0 %d(DI)", nv*s.lanes*4-4)
	}
	w.i("MOVQ k+%d(FP), CX", offK)
	w.i("MOVQ a+%d(FP), AX", offA)
	w.i("MOVQ ars+%d(FP), R8", offARS)
	w.i("SHLQ $2, R8")
	w.i("LEAQ (R8)(R8*2), R9")
	for g := 1; g < groups; g++ {
		w.i("LEAQ (%s)(R8*4), %s", groupRegs[g-1], groupRegs[g])
	}
	if mode == idxA {
		w.i("MOVQ aoff+%d(FP), DX", offAKS)
	} else {
		w.i("MOVQ aks+%d(FP), DX", offAKS)
		w.i("SHLQ $2, DX")
	}
	w.i("MOVQ b+%d(FP), BX", offB)
	if mode == idxB {
		w.i("MOVQ boff+%d(FP), SI", offBKS)
	} else {
		w.i("MOVQ bks+%d(FP), SI", offBKS)
		w.i("SHLQ $2, SI")
	}
	for n := range sets * nacc {
		w.i("%s %s, %s, %s", s.zero, v(n), v(n), v(n))
	}
	w.i("MOVQ CX, R13")
	w.i("SHRQ $2, R13")
	w.i("ANDQ $3, CX")
	w.i("TESTQ R13, R13")
	w.i("JEQ tail")

	step := func(set, u int) {
		bAddr := "(BX)"
		switch mode {
		case idxB:
			w.i("MOVLQSX (SI), DI")
			bAddr = "(BX)(DI*4)"
		case idxA:
			w.i("MOVLQSX (DX), DI")
		}
		for j := range nv {
			if s.masked {
				w.i("VMOVUPS.Z %d%s, K%d, %s", j*s.lanes*4, bAddr, j+1, v(breg(j)))
			} else {
				w.i("VMOVUPS %d(BX), %s", j*s.lanes*4, v(breg(j)))
			}
		}
		for i := range mr {
			r := v(bc[(i+u)%2])
			if mode == idxA {
				w.i("VBROADCASTSS %d(AX)(DI*4), %s", 4*i, r)
			} else {
				w.i("VBROADCASTSS %s, %s", rowAddr(groupRegs, i, 0), r)
			}
			for j := range nv {
				w.i("VFMADD231PS %s, %s, %s", v(breg(j)), r, v(acc(set, i, j)))
			}
		}
		if mode == idxA {
			w.i("ADDQ $4, DX")
		} else {
			for g := range groups {
				w.i("ADDQ DX, %s", groupRegs[g])
			}
		}
		if mode == idxB {
			w.i("ADDQ $4, SI")
		} else {
			w.i("ADDQ SI, BX")
		}
	}
	w.p("loop4:")
	for u := range 4 {
		step(u%sets, u)
	}
	w.i("DECQ R13")
	w.i("JNE loop4")
	w.p("tail:")
	w.i("TESTQ CX, CX")
	w.i("JEQ store")
	w.p("loop1:")
	step(0, 0)
	w.i("DECQ CX")
	w.i("JNE loop1")

	w.p("store:")
	for set := 1; set < sets; set++ {
		for n := range nacc {
			w.i("VADDPS %s, %s, %s", v(set*nacc+n), v(n), v(n))
		}
	}
	// C row pointers reuse the A group registers; R8/R9 become ldc, 3*ldc.
	w.i("MOVQ c+%d(FP), AX", offC)
	w.i("MOVQ ldc+%d(FP), R8", offLDC)
	w.i("SHLQ $2, R8")
	w.i("LEAQ (R8)(R8*2), R9")
	for g := 1; g < groups; g++ {
		w.i("LEAQ (%s)(R8*4), %s", groupRegs[g-1], groupRegs[g])
	}
	// After the sets are summed only the first nacc registers are live.
	alpha, beta, tmp, mreg := v(s.nregs-1), v(s.nregs-2), v(s.nregs-3), s.nregs-4
	if nacc > mreg {
		log.Fatalf("%s: no scratch registers for the store", name)
	}
	w.i("VBROADCASTSS alpha+%d(FP), %s", offAlpha, alpha)
	if s.masked {
		w.i("MOVQ accum+%d(FP), CX", offAccum)
		w.i("TESTQ CX, CX")
		w.i("JNE accum")
		for i := range mr {
			for j := range nv {
				w.i("VMULPS %s, %s, %s", alpha, v(acc(0, i, j)), v(acc(0, i, j)))
				w.i("VMOVUPS %s, K%d, %s", v(acc(0, i, j)), j+1, rowAddr(groupRegs, i, j*64))
			}
		}
		w.i("VZEROUPPER")
		w.i("RET")
		w.p("accum:")
		w.i("VBROADCASTSS beta+%d(FP), %s", offBeta, beta)
		for i := range mr {
			for j := range nv {
				a := v(acc(0, i, j))
				w.i("VMOVUPS.Z %s, K%d, %s", rowAddr(groupRegs, i, j*64), j+1, tmp)
				w.i("VMULPS %s, %s, %s", alpha, a, a)
				w.i("VFMADD231PS %s, %s, %s", beta, tmp, a)
				w.i("VMOVUPS %s, K%d, %s", a, j+1, rowAddr(groupRegs, i, j*64))
			}
		}
		w.i("VZEROUPPER")
		w.i("RET")
		w.p("")
		return
	}
	// AVX2: full-width stores unless nr < nv*8, then VMASKMOVPS column by
	// column with the lane mask (lane < nr) built from sgemmIota.
	w.i("VBROADCASTSS beta+%d(FP), %s", offBeta, beta)
	w.i("MOVQ accum+%d(FP), CX", offAccum)
	w.i("MOVQ nr+%d(FP), DX", offNR)
	w.i("CMPQ DX, $%d", nv*s.lanes)
	w.i("JLT masked")
	w.i("TESTQ CX, CX")
	w.i("JNE accum")
	for i := range mr {
		for j := range nv {
			a := v(acc(0, i, j))
			w.i("VMULPS %s, %s, %s", alpha, a, a)
			w.i("VMOVUPS %s, %s", a, rowAddr(groupRegs, i, j*32))
		}
	}
	w.i("VZEROUPPER")
	w.i("RET")
	w.p("accum:")
	for i := range mr {
		for j := range nv {
			a := v(acc(0, i, j))
			w.i("VMOVUPS %s, %s", rowAddr(groupRegs, i, j*32), tmp)
			w.i("VMULPS %s, %s, %s", alpha, a, a)
			w.i("VFMADD231PS %s, %s, %s", beta, tmp, a)
			w.i("VMOVUPS %s, %s", a, rowAddr(groupRegs, i, j*32))
		}
	}
	w.i("VZEROUPPER")
	w.i("RET")
	w.p("masked:")
	for j := range nv {
		w.i("MOVQ DX, X%d", mreg)
		w.i("VPBROADCASTD X%d, %s", mreg, v(mreg))
		w.i("VPCMPGTD sgemmIota<>+%d(SB), %s, %s", j*32, v(mreg), v(mreg))
		for i := range mr {
			a := v(acc(0, i, j))
			addr := rowAddr(groupRegs, i, j*32)
			w.i("VMULPS %s, %s, %s", alpha, a, a)
			w.i("TESTQ CX, CX")
			w.i("JEQ m%d_%d", j, i)
			w.i("VMASKMOVPS %s, %s, %s", addr, v(mreg), tmp)
			w.i("VFMADD231PS %s, %s, %s", beta, tmp, a)
			w.p("m%d_%d:", j, i)
			w.i("VMASKMOVPS %s, %s, %s", a, v(mreg), addr)
		}
	}
	w.i("VZEROUPPER")
	w.i("RET")
	w.p("")
}

// packPanels writes the AVX-512 packing routine
//
//	func sgemmPackAVX512(dst, src *float32, lds, rows, cols, width int)
//
// which copies the rows×cols block at src (row stride lds) into panels of
// `width` columns (width <= 48): panel p holds rows×width floats,
// dst[(p*rows+l)*width+j] = src[l*lds+p*width+j], zero beyond cols.
func packPanels(w *writer) {
	w.p("// func sgemmPackAVX512(dst, src *float32, lds, rows, cols, width int)")
	w.p("TEXT ·sgemmPackAVX512(SB), NOSPLIT, $0-48")
	w.i("MOVQ dst+0(FP), DI")
	w.i("MOVQ src+8(FP), SI")
	w.i("MOVQ lds+16(FP), R8")
	w.i("SHLQ $2, R8")
	w.i("MOVQ width+40(FP), R9")
	w.i("MOVQ cols+32(FP), R10")
	w.i("MOVQ R9, R13")
	w.i("SHLQ $2, R13") // panel column step in bytes
	// Store masks for the width: K4..K6, 16 lanes each.
	w.i("MOVQ $-1, DX")
	w.i("BZHIQ R9, DX, DX")
	w.i("KMOVW DX, K4")
	w.i("SHRQ $16, DX")
	w.i("KMOVW DX, K5")
	w.i("SHRQ $16, DX")
	w.i("KMOVW DX, K6")
	w.p("panel:")
	w.i("TESTQ R10, R10")
	w.i("JLE done")
	// Load masks for min(cols left, width): K1..K3.
	w.i("MOVQ R10, CX")
	w.i("CMPQ CX, R9")
	w.i("CMOVQGT R9, CX")
	w.i("MOVQ $-1, DX")
	w.i("BZHIQ CX, DX, DX")
	w.i("KMOVW DX, K1")
	w.i("SHRQ $16, DX")
	w.i("KMOVW DX, K2")
	w.i("SHRQ $16, DX")
	w.i("KMOVW DX, K3")
	w.i("MOVQ SI, AX")
	w.i("MOVQ rows+24(FP), BX")
	w.p("row:")
	for j := range 3 {
		w.i("VMOVUPS.Z %d(AX), K%d, Z%d", j*64, j+1, j)
	}
	for j := range 3 {
		w.i("VMOVUPS Z%d, K%d, %d(DI)", j, j+4, j*64)
	}
	w.i("ADDQ R8, AX")
	w.i("ADDQ R13, DI")
	w.i("DECQ BX")
	w.i("JNE row")
	w.i("ADDQ R13, SI")
	w.i("SUBQ R9, R10")
	w.i("JMP panel")
	w.p("done:")
	w.i("VZEROUPPER")
	w.i("RET")
	w.p("")
}

// transpose16 writes
//
//	func sgemmTranspose16AVX512(dst *float32, ldd int, src *float32, lds int)
//
// which transposes one 16×16 block: dst[c*ldd+r] = src[r*lds+c]. It loads
// the 16 rows into Z0-Z15 and uses the usual four shuffle stages (32-bit
// and 64-bit unpacks within 128-bit lanes, then two rounds of 128-bit lane
// shuffles), alternating between Z0-Z15 and Z16-Z31.
func transpose16(w *writer) {
	z := func(n int) string { return fmt.Sprintf("Z%d", n) }
	w.p("// func sgemmTranspose16AVX512(dst *float32, ldd int, src *float32, lds int)")
	w.p("TEXT ·sgemmTranspose16AVX512(SB), NOSPLIT, $0-32")
	w.i("MOVQ src+16(FP), SI")
	w.i("MOVQ lds+24(FP), R8")
	w.i("SHLQ $2, R8")
	w.i("LEAQ (R8)(R8*2), R9")
	w.i("MOVQ dst+0(FP), DI")
	w.i("MOVQ ldd+8(FP), R10")
	w.i("SHLQ $2, R10")
	w.i("LEAQ (R10)(R10*2), R11")
	// Row r at SI + r*lds: groups of four via AX (rows 0-3), then SI moves.
	for r := range 16 {
		if r > 0 && r%4 == 0 {
			w.i("LEAQ (SI)(R8*4), SI")
		}
		w.i("VMOVUPS %s, %s", rowAddr([]string{"SI"}, r%4, 0), z(r))
	}
	// Stage 1: t[2k], t[2k+1] = unpacklo/hi_ps(r[2k], r[2k+1]).
	for k := range 8 {
		w.i("VUNPCKLPS %s, %s, %s", z(2*k+1), z(2*k), z(16+2*k))
		w.i("VUNPCKHPS %s, %s, %s", z(2*k+1), z(2*k), z(16+2*k+1))
	}
	// Stage 2: u[4k+0..3] = unpacklo/hi_pd(t[4k], t[4k+2]), (t[4k+1], t[4k+3]).
	for k := range 4 {
		t := func(i int) string { return z(16 + 4*k + i) }
		w.i("VUNPCKLPD %s, %s, %s", t(2), t(0), z(4*k))
		w.i("VUNPCKHPD %s, %s, %s", t(2), t(0), z(4*k+1))
		w.i("VUNPCKLPD %s, %s, %s", t(3), t(1), z(4*k+2))
		w.i("VUNPCKHPD %s, %s, %s", t(3), t(1), z(4*k+3))
	}
	// u[4q+c] holds, in 128-bit lane L, rows 4q..4q+3 of column 4L+c.
	// Stage 3: for each c, v0/v1 = lanes {0,1}/{2,3} of u[c] and u[4+c];
	// w0/w1 the same of u[8+c] and u[12+c].
	for c := range 4 {
		w.i("VSHUFF32X4 $0x44, %s, %s, %s", z(4+c), z(c), z(16+4*c))
		w.i("VSHUFF32X4 $0xee, %s, %s, %s", z(4+c), z(c), z(16+4*c+1))
		w.i("VSHUFF32X4 $0x44, %s, %s, %s", z(12+c), z(8+c), z(16+4*c+2))
		w.i("VSHUFF32X4 $0xee, %s, %s, %s", z(12+c), z(8+c), z(16+4*c+3))
	}
	// Stage 4: column 4L+c = even (L=0,2) or odd (L=1,3) lanes of v, w.
	for c := range 4 {
		v0, v1, w0, w1 := z(16+4*c), z(16+4*c+1), z(16+4*c+2), z(16+4*c+3)
		w.i("VSHUFF32X4 $0x88, %s, %s, %s", w0, v0, z(c))
		w.i("VSHUFF32X4 $0xdd, %s, %s, %s", w0, v0, z(4+c))
		w.i("VSHUFF32X4 $0x88, %s, %s, %s", w1, v1, z(8+c))
		w.i("VSHUFF32X4 $0xdd, %s, %s, %s", w1, v1, z(12+c))
	}
	for r := range 16 {
		if r > 0 && r%4 == 0 {
			w.i("LEAQ (DI)(R10*4), DI")
		}
		addr := rowAddr([]string{"DI"}, r%4, 0)
		addr = strings.NewReplacer("R8", "R10", "R9", "R11").Replace(addr)
		w.i("VMOVUPS %s, %s", z(r), addr)
	}
	w.i("VZEROUPPER")
	w.i("RET")
	w.p("")
}

const asmHeader = `// Code generated by asmgen (runtime/internal/asmgen); DO NOT EDIT.

//go:build amd64 && !purego

// SGEMM micro-kernels. Each computes one tile of C, mr rows by nv vectors
// (nv*16 columns for AVX-512, nv*8 for AVX2):
//
//	acc[i][j] = sum over l < k of A(i, l) * B(l, j)
//	C(i, j)   = alpha*acc[i][j] (+ beta*C(i, j) when accum != 0)
//
// with A(i, l) at a + (i*ars + l*aks)*4 bytes, B(l, j) at b + (l*bks + j)*4
// and C(i, j) at c + (i*ldc + j)*4, so one kernel serves packed panels and
// matrices read in place (transposed or not): the caller picks the strides.
// Only columns j < nr are read from B and written to C (mask has bit j set
// for them; AVX-512 uses it as opmask, AVX2 builds a lane mask from nr).
//
// Loop body, per k step: load the nv B vectors, then for each row broadcast
// A(i, l) (alternating between two registers) and issue nv VFMADD231PS into
// that row's accumulators. Rows of A and C are addressed as base+index*scale
// from group pointers (AX, R10, R11, R12 = rows 0, 4, 8, 12) with R8 = row
// stride and R9 = 3*row stride. Tiles with fewer than 8 accumulators keep up
// to 4 independent sets over k (the FMA latency would bound them otherwise)
// and add them before the store. The loop is unrolled 4 times. Step l goes
// to set l mod sets, the last k mod 4 steps to set 0, so that an element's
// sum depends on the number of sets only, not on the tile's shape; kernels
// named ...s1 and ...s2 keep fewer sets than their shape would (for
// ConvFilterGrad, whose tiles vary with the pool's split).
//
// The AVX-512 kernels also come in two indexed forms for convolutions
// (runtime/conv_padded.go): sgemmAVX512Idx* read row l of B at
// b + boff[l]*4 (boff, an int32 table, takes bks's slot), and
// sgemmAVX512IdxA* read A(i, l) at a + (aoff[l] + i)*4 (aoff takes aks's
// slot; rows of A are adjacent). The offset of step l is loaded into DI.

#include "textflag.h"

DATA sgemmIota<>+0(SB)/8, $0x0000000100000000
DATA sgemmIota<>+8(SB)/8, $0x0000000300000002
DATA sgemmIota<>+16(SB)/8, $0x0000000500000004
DATA sgemmIota<>+24(SB)/8, $0x0000000700000006
DATA sgemmIota<>+32(SB)/8, $0x0000000900000008
DATA sgemmIota<>+40(SB)/8, $0x0000000b0000000a
DATA sgemmIota<>+48(SB)/8, $0x0000000d0000000c
DATA sgemmIota<>+56(SB)/8, $0x0000000f0000000e
GLOBL sgemmIota<>(SB), RODATA|NOPTR, $64

`

func genAsm() []byte {
	var w writer
	w.WriteString(asmHeader)
	for mr := 1; mr <= avx512MR; mr++ {
		for nv := 1; nv <= avx512NV; nv++ {
			kernel(&w, isa512, mr, nv, naturalSets(isa512, mr, nv), plain)
		}
	}
	for _, mode := range []kmode{idxB, idxA} {
		for mr := 1; mr <= avx512MR; mr++ {
			for nv := 1; nv <= avx512NV; nv++ {
				kernel(&w, isa512, mr, nv, naturalSets(isa512, mr, nv), mode)
			}
		}
	}
	for mr := 1; mr <= avx2MR; mr++ {
		for nv := 1; nv <= avx2NV; nv++ {
			kernel(&w, isa256, mr, nv, naturalSets(isa256, mr, nv), plain)
		}
	}
	// The kernels with fewer sets than natural, for the tile shapes that
	// ConvFilterGrad uses (plain, and indexed A on AVX-512).
	for _, f := range fewerSetsFamilies {
		for mr := 1; mr <= f.mr; mr++ {
			for nv := 1; nv <= f.nv; nv++ {
				for sets := 1; sets < naturalSets(f.isa, mr, nv); sets *= 2 {
					kernel(&w, f.isa, mr, nv, sets, f.mode)
				}
			}
		}
	}
	packPanels(&w)
	transpose16(&w)
	return w.Bytes()
}

func genGo() []byte {
	var w writer
	w.p("// Code generated by asmgen (runtime/internal/asmgen); DO NOT EDIT.")
	w.p("")
	w.p("//go:build amd64 && !purego")
	w.p("")
	w.p("package runtime")
	w.p("")
	w.p("// Tile shapes of the assembly kernels.")
	w.p("const (")
	w.p("avx512MR = %d", avx512MR)
	w.p("avx512NR = %d", avx512NV*16)
	w.p("avx2MR = %d", avx2MR)
	w.p("avx2NR = %d", avx2NV*8)
	w.p(")")
	w.p("")
	w.p("// asmKernel is the signature of every micro-kernel; see the .s file.")
	w.p("type asmKernel func(%s)", kernelSig)
	w.p("")
	for _, s := range []struct {
		isa    isa
		mr, nv int
	}{{isa512, avx512MR, avx512NV}, {isa256, avx2MR, avx2NV}} {
		var names [][]string
		for mr := 1; mr <= s.mr; mr++ {
			var row []string
			for nv := 1; nv <= s.nv; nv++ {
				n := kernelName(s.isa, mr, nv)
				row = append(row, n)
				w.p("//go:noescape")
				w.p("func %s(%s)", n, kernelSig)
				w.p("")
			}
			names = append(names, row)
		}
		w.p("// kernels%s[mr-1][nv-1] computes an mr-row, nv-vector tile.", s.isa.name)
		w.p("var kernels%s = [%d][%d]asmKernel{", s.isa.name, s.mr, s.nv)
		for _, row := range names {
			w.p("{%s},", strings.Join(row, ", "))
		}
		w.p("}")
		w.p("")
	}
	w.p("// asmIdxKernel is the signature of the indexed kernels.")
	w.p("type asmIdxKernel func(%s)", idxKernelSig)
	w.p("")
	var idxNames [][]string
	for mr := 1; mr <= avx512MR; mr++ {
		var row []string
		for nv := 1; nv <= avx512NV; nv++ {
			n := idxKernelName(isa512, mr, nv)
			row = append(row, n)
			w.p("//go:noescape")
			w.p("func %s(%s)", n, idxKernelSig)
			w.p("")
		}
		idxNames = append(idxNames, row)
	}
	w.p("// kernelsAVX512Idx[mr-1][nv-1] is the indexed kernel of that tile.")
	w.p("var kernelsAVX512Idx = [%d][%d]asmIdxKernel{", avx512MR, avx512NV)
	for _, row := range idxNames {
		w.p("{%s},", strings.Join(row, ", "))
	}
	w.p("}")
	w.p("")
	w.p("// asmIdxAKernel is the signature of the kernels with indexed A.")
	w.p("type asmIdxAKernel func(%s)", idxAKernelSig)
	w.p("")
	idxNames = nil
	for mr := 1; mr <= avx512MR; mr++ {
		var row []string
		for nv := 1; nv <= avx512NV; nv++ {
			n := idxAKernelName(isa512, mr, nv)
			row = append(row, n)
			w.p("//go:noescape")
			w.p("func %s(%s)", n, idxAKernelSig)
			w.p("")
		}
		idxNames = append(idxNames, row)
	}
	w.p("// kernelsAVX512IdxA[mr-1][nv-1] is the kernel of that tile with indexed A.")
	w.p("var kernelsAVX512IdxA = [%d][%d]asmIdxAKernel{", avx512MR, avx512NV)
	for _, row := range idxNames {
		w.p("{%s},", strings.Join(row, ", "))
	}
	w.p("}")
	w.p("")
	// Tables by number of sets.
	for _, f := range fewerSetsFamilies {
		typ, sig, nameOf := "asmKernel", kernelSig, kernelName
		if f.mode == idxA {
			typ, sig, nameOf = "asmIdxAKernel", idxAKernelSig, idxAKernelName
		}
		var rows []string
		for mr := 1; mr <= f.mr; mr++ {
			var row []string
			for nv := 1; nv <= f.nv; nv++ {
				var cell []string
				natural := naturalSets(f.isa, mr, nv)
				for sets := 1; sets <= 4; sets *= 2 {
					switch {
					case sets > natural:
						cell = append(cell, "nil")
					case sets == natural:
						cell = append(cell, nameOf(f.isa, mr, nv))
					default:
						n := nameOf(f.isa, mr, nv) + setsSuffix(f.isa, mr, nv, sets)
						cell = append(cell, n)
						w.p("//go:noescape")
						w.p("func %s(%s)", n, sig)
						w.p("")
					}
				}
				row = append(row, "{"+strings.Join(cell, ", ")+"}")
			}
			rows = append(rows, "{"+strings.Join(row, ", ")+"}")
		}
		w.p("// %s[mr-1][nv-1][i] is the kernel of that tile that keeps exactly", f.table)
		w.p("// 1<<i accumulator sets over k; nil beyond the tile's natural number,")
		w.p("// which is the last kernel that is not nil.")
		w.p("var %s = [%d][%d][3]%s{", f.table, f.mr, f.nv, typ)
		for _, r := range rows {
			w.p("%s,", r)
		}
		w.p("}")
		w.p("")
	}
	w.p("//go:noescape")
	w.p("func sgemmPackAVX512(dst, src *float32, lds, rows, cols, width int)")
	w.p("")
	w.p("//go:noescape")
	w.p("func sgemmTranspose16AVX512(dst *float32, ldd int, src *float32, lds int)")
	src, err := format.Source(w.Bytes())
	if err != nil {
		log.Fatalf("gofmt generated Go: %v\n%s", err, w.Bytes())
	}
	return src
}

// fewerSetsFamilies are the kernel families that also come with fewer
// accumulator sets than natural, and the tables that list them by sets.
var fewerSetsFamilies = []struct {
	isa    isa
	mr, nv int
	mode   kmode
	table  string
}{
	{isa512, avx512MR, avx512NV, plain, "kernelsAVX512Sets"},
	{isa512, avx512MR, avx512NV, idxA, "kernelsAVX512IdxASets"},
	{isa256, avx2MR, avx2NV, plain, "kernelsAVX2Sets"},
}

func main() {
	asmOut := flag.String("asm", "sgemm_kernels_amd64.s", "assembly output file")
	goOut := flag.String("go", "sgemm_kernels_amd64.go", "Go declarations output file")
	flag.Parse()
	if err := os.WriteFile(*asmOut, genAsm(), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*goOut, genGo(), 0o644); err != nil {
		log.Fatal(err)
	}
}
