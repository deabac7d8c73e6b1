package golang

import (
	"bytes"
	bin "encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dave/jennifer/jen"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/runtime"
)

// TestRoundHelpersMatchIR builds the generated helpers roundF16 and
// roundBF16 into a small program and checks them bit for bit (NaN for NaN,
// the sign of zero included) against ir.RoundF16 and ir.RoundBF16 over
// every value of both formats, the exact midpoints between neighbouring
// values (the ties), the float64 neighbours of each midpoint, the
// subnormals, the overflow threshold, ±Inf, NaN and random float64s of
// every magnitude.
func TestRoundHelpersMatchIR(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs generated code; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	xs := roundCases()

	// The program reads float64s (little endian) and writes, for each,
	// the float32 bits of roundF16 and of roundBF16.
	f := jen.NewFile("main")
	opHelpers["roundF16"](f)
	opHelpers["roundBF16"](f)
	in, out, buf, x := jen.Id("in"), jen.Id("out"), jen.Id("buf"), jen.Id("x")
	le := jen.Qual("encoding/binary", "LittleEndian")
	f.Func().Id("main").Params().Block(
		jen.List(in.Clone(), jen.Err()).Op(":=").Qual("io", "ReadAll").Call(jen.Qual("os", "Stdin")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Panic(jen.Err())),
		out.Clone().Op(":=").Make(jen.Index().Byte(), jen.Lit(0), jen.Len(in.Clone())),
		jen.Var().Add(buf.Clone()).Index(jen.Lit(4)).Byte(),
		jen.For(jen.Len(in.Clone()).Op(">=").Lit(8)).Block(
			x.Clone().Op(":=").Qual("math", "Float64frombits").Call(le.Clone().Dot("Uint64").Call(in.Clone())),
			in.Clone().Op("=").Add(in.Clone()).Index(jen.Lit(8), jen.Empty()),
			le.Clone().Dot("PutUint32").Call(buf.Clone().Index(jen.Empty(), jen.Empty()), jen.Qual("math", "Float32bits").Call(jen.Id("roundF16").Call(x.Clone()))),
			out.Clone().Op("=").Append(out.Clone(), buf.Clone().Index(jen.Empty(), jen.Empty()).Op("...")),
			le.Clone().Dot("PutUint32").Call(buf.Clone().Index(jen.Empty(), jen.Empty()), jen.Qual("math", "Float32bits").Call(jen.Id("roundBF16").Call(x.Clone()))),
			out.Clone().Op("=").Append(out.Clone(), buf.Clone().Index(jen.Empty(), jen.Empty()).Op("...")),
		),
		jen.List(jen.Id("_"), jen.Err()).Op("=").Qual("os", "Stdout").Dot("Write").Call(out.Clone()),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Panic(jen.Err())),
	)
	dir := t.TempDir()
	var src bytes.Buffer
	if err := f.Render(&src); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), src.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module roundtest\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	input := make([]byte, 8*len(xs))
	for i, x := range xs {
		bin.LittleEndian.PutUint64(input[8*i:], math.Float64bits(x))
	}
	cmd := exec.Command(goBin, "run", ".")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(input)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("running the helpers: %v\n%s", err, stderr.String())
	}
	if len(got) != 8*len(xs) {
		t.Fatalf("the program wrote %d bytes, want %d", len(got), 8*len(xs))
	}
	bad := 0
	for i, x := range xs {
		for j, c := range []struct {
			name  string
			round func(float64) float64
		}{{"roundF16", ir.RoundF16}, {"roundBF16", ir.RoundBF16}} {
			g := math.Float32frombits(bin.LittleEndian.Uint32(got[8*i+4*j:]))
			w := c.round(x)
			if math.IsNaN(w) && math.IsNaN(float64(g)) || math.Float32bits(g) == math.Float32bits(float32(w)) && float64(float32(w)) == w {
				continue
			}
			if bad < 10 {
				t.Errorf("%s(%v) (bits %#x) = %v, ir has %v", c.name, x, math.Float64bits(x), g, w)
			}
			bad++
		}
	}
	if bad > 10 {
		t.Errorf("%d results differ in all (of %d)", bad, 2*len(xs))
	}
}

// roundCases are the float64s TestRoundHelpersMatchIR rounds.
func roundCases() []float64 {
	xs := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), -math.NaN(),
		math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 65504, 65519.99, 65520, 65536, -65520,
		math.MaxFloat32, (2 - 1.0/256) * (1 << 127), math.Ldexp(1, -24), math.Ldexp(1, -25), math.Ldexp(3, -25),
		math.Ldexp(1, -133), math.Ldexp(1, -134), math.Ldexp(3, -134), math.Ldexp(1, -150), 0.1, 1.0 / 3}
	// Every value of each format (from its bit patterns), the midpoint to
	// the next value up, and the float64 neighbours of that midpoint.
	add := func(v, next float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		xs = append(xs, v, -v)
		if math.IsInf(next, 0) {
			return // the overflow ties are listed on their own
		}
		mid := v + (next-v)/2 // exact: a float64 holds every such midpoint
		for _, m := range []float64{mid, math.Nextafter(mid, math.Inf(1)), math.Nextafter(mid, math.Inf(-1))} {
			xs = append(xs, m, -m)
		}
	}
	for b := range uint16(0x7c00) {
		add(ir.F16FromBits(b), ir.F16FromBits(b+1))
	}
	xs = append(xs, 65520, math.Nextafter(65520, 0), math.Nextafter(65520, math.Inf(1)))
	for b := range uint16(0x7f80) {
		add(ir.BF16FromBits(b), ir.BF16FromBits(b+1))
	}
	bfTie := (2 - 1.0/256) * math.Ldexp(1, 127)
	xs = append(xs, bfTie, math.Nextafter(bfTie, 0), math.Nextafter(bfTie, math.Inf(1)))
	// Random float64 bit patterns (every magnitude, NaN payloads) and
	// random values in the formats' ranges.
	rng := runtime.NewRNG(7)
	for range 100000 {
		xs = append(xs, math.Float64frombits(uint64(rng.Float64()*(1<<53))<<11|uint64(rng.Intn(1<<11))))
		xs = append(xs, math.Ldexp(2*rng.Float64()-1, rng.Intn(300)-150))
	}
	return xs
}
