package ir

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The text form, one example:
//
//	module "mnist_mlp"
//
//	weight "dense/kernel" : f32[784,64] {fan_in=784, fan_out=64, init="glorot_uniform"}
//	state "adam/t" : f32[] {init="zeros"}
//
//	func @predict(%x: f32[N,784]) -> (probs: f32[N,10]) {
//	  %0 = weight {name="dense/kernel"} : f32[784,64]
//	  %1 = matmul %x, %0 : f32[N,64]
//	  update "adam/t" = %1
//	  return %1
//	}
//
// "weight" declares a trainable weight, "state" a non-trainable one. Body
// values are numbered in order by the printer, so printing is canonical: two
// functions are the same graph exactly when they print the same.

// String prints the module in the text form.
func (m *Module) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "module %s\n", strconv.Quote(m.Name))
	if len(m.Weights) > 0 {
		b.WriteByte('\n')
	}
	for _, w := range m.Weights {
		kw := "state"
		if w.Trainable {
			kw = "weight"
		}
		fmt.Fprintf(&b, "%s %s : %s", kw, strconv.Quote(w.Name), w.Type)
		attrs := w.Init.Clone()
		if w.Data != nil {
			if attrs == nil {
				attrs = Attrs{}
			}
			attrs["data"] = w.Data
		}
		if len(attrs) > 0 {
			b.WriteString(" ")
			writeAttrs(&b, attrs)
		}
		b.WriteByte('\n')
	}
	for _, f := range m.Funcs {
		b.WriteByte('\n')
		b.WriteString(f.String())
	}
	return b.String()
}

// String prints the function in the text form.
func (f *Func) String() string {
	var b strings.Builder
	names := map[*Value]string{}
	if f.Region {
		b.WriteString("region @")
	} else {
		b.WriteString("func @")
	}
	b.WriteString(ident(f.Name))
	b.WriteByte('(')
	for i, p := range f.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		names[p] = "%" + ident(p.Name)
		fmt.Fprintf(&b, "%s: %s", names[p], p.Type)
	}
	b.WriteString(") -> (")
	for i, r := range f.Results {
		if i > 0 {
			b.WriteString(", ")
		}
		if len(f.ResultNames) == len(f.Results) && f.ResultNames[i] != "" {
			b.WriteString(ident(f.ResultNames[i]))
			b.WriteString(": ")
		}
		b.WriteString(r.Type.String())
	}
	b.WriteString(") {\n")
	name := func(v *Value) string {
		if n, ok := names[v]; ok {
			return n
		}
		return "%?" // not defined before use: the verifier reports it
	}
	for i, v := range f.Body {
		names[v] = "%" + strconv.Itoa(i)
		fmt.Fprintf(&b, "  %s = %s", names[v], v.Op)
		for j, a := range v.Args {
			if j == 0 {
				b.WriteByte(' ')
			} else {
				b.WriteString(", ")
			}
			b.WriteString(name(a))
		}
		if len(v.Attrs) > 0 {
			b.WriteByte(' ')
			writeAttrs(&b, v.Attrs)
		}
		fmt.Fprintf(&b, " : %s\n", v.Type)
	}
	for _, u := range f.Updates {
		fmt.Fprintf(&b, "  update %s = %s\n", strconv.Quote(u.Weight), name(u.Value))
	}
	b.WriteString("  return")
	for i, r := range f.Results {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteString(", ")
		}
		b.WriteString(name(r))
	}
	b.WriteString("\n}\n")
	return b.String()
}

// ident prints a name bare when it is an identifier, quoted otherwise.
func ident(s string) string {
	if isIdent(s) {
		return s
	}
	return strconv.Quote(s)
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		digit := r >= '0' && r <= '9'
		if !letter && !(i > 0 && digit) {
			return false
		}
	}
	return true
}

func writeAttrs(b *strings.Builder, a Attrs) {
	b.WriteByte('{')
	for i, k := range a.Keys() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(ident(k))
		b.WriteByte('=')
		b.WriteString(FormatAttr(a[k]))
	}
	b.WriteByte('}')
}

// FormatAttr prints one attribute value in the text form.
func FormatAttr(v any) string {
	switch v := v.(type) {
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return FormatFloat(v)
	case string:
		return strconv.Quote(v)
	case bool:
		return strconv.FormatBool(v)
	case DType:
		return v.String()
	case []int64:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = strconv.FormatInt(x, 10)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []float64:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = FormatFloat(x)
		}
		if len(v) == 0 {
			return "[.]" // an empty float list, told apart from an empty int list
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case Shape:
		return "<" + strings.Trim(v.String(), "[]") + ">"
	}
	return fmt.Sprintf("?%T", v)
}

// FormatFloat prints x so that it parses back to the same float64 and is
// never mistaken for an integer.
func FormatFloat(x float64) string {
	switch {
	case math.IsNaN(x):
		return "nan"
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(x, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}
