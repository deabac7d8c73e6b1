package ir

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/ops.md from the op table")

const opsDocPath = "../docs/ops.md"

// TestOpsDoc keeps docs/ops.md, the list of every op, in step with the op
// table: a new op or a changed Doc fails here until
// "go test ./ir -run TestOpsDoc -update" rewrites it.
func TestOpsDoc(t *testing.T) {
	want := opsDoc()
	if *update {
		if err := os.WriteFile(opsDocPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(opsDocPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is out of date with the op table; rewrite it with: go test ./ir -run TestOpsDoc -update", opsDocPath)
	}
}

const opsDocIntro = `# The ops

Every op of the IR, generated from the op table (` + "`ir.Ops()`" + `) by
` + "`go test ./ir -run TestOpsDoc -update`" + `; a test fails when this page and
the table disagree. Each op also has a reference kernel in ir/interp, a
gradient rule (or a reason it has none) in passes/autodiff*.go and an
emitter in codegen/golang: tests walk the table for each.

Elementwise ops broadcast their operands with NumPy's rules. *dtypes* gives
the operand dtypes an elementwise op accepts (all operands of one dtype,
but for select's bool condition and cast's result), found by asking the
op's type inference: *float* is f16, bf16, f32 and f64, *int* is i8, u8,
i16, u16, i32, u32, i64 and u64.
Operands holds the number of operands. Attributes marked * are required.

Semantics follow NumPy and ONNX where they say something: round rounds
halves to even; mod without fmod has the sign of the divisor (Python's %),
with fmod the sign of the dividend (C fmod); pow of a negative base is
defined for integral exponents only (NaN otherwise, as C pow); minimum and
maximum give NaN when either operand is NaN; is_inf detects both
infinities unless told otherwise. Every result is rounded to its dtype:
f32, f16 and bf16 to the nearest value, ties to even. Integer arithmetic
wraps around as Go's does, and an integer division or modulo by zero is an
error. The Go backend
(codegen/golang) stores f32 and bool tensors only: integer and f64 values
are the interpreter's (and constant folding's) alone for now.

| op | kind | operands | dtypes | result | attributes | meaning |
|----|------|----------|--------|--------|------------|---------|
`

// opsDoc renders docs/ops.md.
func opsDoc() string {
	var b strings.Builder
	b.WriteString(opsDocIntro)
	for _, d := range Ops() {
		args := "any"
		if d.NumArgs >= 0 {
			args = fmt.Sprint(d.NumArgs)
		}
		dtypes, result := probeDTypes(d)
		var attrs []string
		for _, a := range d.Attrs {
			s := "`" + a.Name + "`: " + attrKindNames[a.Kind]
			if a.Required {
				s += "*"
			}
			attrs = append(attrs, s)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s |\n",
			d.Name, kindNames[d.Kind], args, dtypes, result, strings.Join(attrs, ", "), strings.ReplaceAll(d.Doc, "|", `\|`))
	}
	return b.String()
}

var kindNames = map[Kind]string{
	KindLeaf: "leaf", KindElementwise: "elementwise", KindReduction: "reduction", KindMatMul: "matmul",
	KindRowwise: "rowwise", KindLayout: "layout", KindShape: "shape", KindFused: "fused",
}

var attrKindNames = map[AttrKind]string{
	AttrInt: "int", AttrInts: "ints", AttrFloat: "float", AttrFloats: "floats", AttrString: "string",
	AttrBool: "bool", AttrDType: "dtype", AttrShape: "shape",
}

// probeDTypes names the operand dtypes an elementwise op with one or two
// operands and no required attribute accepts, and its result dtype
// ("same" or one dtype); "" for other ops.
func probeDTypes(d *OpDef) (dtypes, result string) {
	if d.Kind != KindElementwise || d.NumArgs < 1 || d.NumArgs > 2 || slices.ContainsFunc(d.Attrs, func(a AttrSpec) bool { return a.Required }) {
		return "", ""
	}
	ok := map[DType]bool{}
	results := map[string]bool{}
	for _, dt := range append(append([]DType{Bool}, FloatDTypes...), IntDTypes...) {
		args := make([]Type, d.NumArgs)
		for i := range args {
			args[i] = Type{DType: dt, Shape: ShapeOf(2)}
		}
		t, err := d.Infer(args, nil)
		if err != nil {
			continue
		}
		ok[dt] = true
		if t.DType == dt && dt != Bool {
			results["same"] = true
		} else {
			results[t.DType.String()] = true
		}
	}
	var parts []string
	all := func(dts []DType) bool { return !slices.ContainsFunc(dts, func(dt DType) bool { return !ok[dt] }) }
	if all(FloatDTypes) {
		parts = append(parts, "float")
	} else {
		for _, dt := range FloatDTypes {
			if ok[dt] {
				parts = append(parts, dt.String())
			}
		}
	}
	if all(IntDTypes) {
		parts = append(parts, "int")
	} else {
		for _, dt := range IntDTypes {
			if ok[dt] {
				parts = append(parts, dt.String())
			}
		}
	}
	if ok[Bool] {
		parts = append(parts, "bool")
	}
	return strings.Join(parts, ", "), strings.Join(slices.Sorted(maps.Keys(results)), ", ")
}
