package passes

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dlc-project/dlc/ir"
)

// CSE is common-subexpression elimination by value numbering: in each
// function, in order, a node that computes what an earlier node computes
// (the same op, the same operands after earlier replacements, equal
// attributes and the same type) is replaced by the earlier node and
// removed. Constants of equal values and type are one node, and so are
// reads of the same weight (every read sees the state as it was on entry).
// The operands of add, mul and equal count in either order.
//
// Every op of the IR is a pure function of its operands and attributes,
// which is what makes this sound; an op with effects or randomness (a
// dropout drawing its mask) would have to be listed in cseImpure.
func CSE(m *ir.Module, _ *Config) error {
	for _, f := range m.Funcs {
		if err := cseFunc(f); err != nil {
			return fmt.Errorf("cse @%s: %w", f.Name, err)
		}
	}
	return nil
}

// cseImpure lists the ops CSE must never merge. None of today's ops.
var cseImpure = map[string]bool{}

// cseCommutative lists the ops whose two operands may be swapped without
// changing a single bit of the result: IEEE addition, multiplication and
// equality commute, NaN operands and signed zeros included.
var cseCommutative = map[string]bool{ir.OpAdd: true, ir.OpMul: true, ir.OpEqual: true}

func cseFunc(f *ir.Func) error {
	// id numbers the values by position, parameters first: the canonical
	// order of commutative operands, and the operands' part of a key.
	id := make(map[*ir.Value]int, len(f.Params)+len(f.Body))
	for i, p := range f.Params {
		id[p] = i
	}
	repl := map[*ir.Value]*ir.Value{}
	seen := map[string]*ir.Value{}
	out := make([]*ir.Value, 0, len(f.Body))
	for _, v := range f.Body {
		for i, a := range v.Args {
			if r, ok := repl[a]; ok {
				v.Args[i] = r // r is never itself replaced: it was kept when met
			}
		}
		if !cseImpure[v.Op] {
			key, err := cseKey(v, id)
			if err != nil {
				return err
			}
			if u, ok := seen[key]; ok {
				repl[v] = u
				continue // v is dropped: every use of it is now a use of u
			}
			seen[key] = v
		}
		id[v] = len(f.Params) + len(out)
		out = append(out, v)
	}
	for i := len(out); i < len(f.Body); i++ {
		f.Body[i] = nil // let the dropped nodes go
	}
	f.Body = out
	for i, r := range f.Results {
		if u, ok := repl[r]; ok {
			f.Results[i] = u
		}
	}
	for i, u := range f.Updates {
		if w, ok := repl[u.Value]; ok {
			f.Updates[i].Value = w
		}
	}
	return nil
}

// cseKey is the value number of v: its op, its operands' ids (sorted for
// commutative ops), its attributes in a canonical text and its type.
func cseKey(v *ir.Value, id map[*ir.Value]int) (string, error) {
	var b strings.Builder
	b.WriteString(v.Op)
	ids := make([]int, len(v.Args))
	for i, a := range v.Args {
		n, ok := id[a]
		if !ok {
			return "", fmt.Errorf("%s: operand %d is not defined before its use", v.Op, i)
		}
		ids[i] = n
	}
	if cseCommutative[v.Op] && len(ids) == 2 && ids[0] > ids[1] {
		ids[0], ids[1] = ids[1], ids[0]
	}
	b.WriteByte('(')
	for i, n := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(n))
	}
	b.WriteString(") {")
	attrs := cseAttrs(v)
	for i, k := range attrs.Keys() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(ir.FormatAttr(attrs[k]))
	}
	b.WriteString("} : ")
	b.WriteString(v.Type.String())
	return b.String(), nil
}

// cseAttrs returns v's attributes in a canonical form, so that spellings
// of the same node print alike: a false bool attribute is the default and
// left out (every bool attribute of the op table defaults to false), axes
// are normalised against the operand's rank (sorted, non-negative), an
// integer list given for a shape is a shape, and a constant's value is
// rounded to its dtype and written once when every element is the same.
func cseAttrs(v *ir.Value) ir.Attrs {
	if len(v.Attrs) == 0 {
		return v.Attrs
	}
	def, _ := ir.LookupOp(v.Op)
	kinds := map[string]ir.AttrKind{}
	if def != nil {
		for _, s := range def.Attrs {
			kinds[s.Name] = s.Kind
		}
	}
	out := make(ir.Attrs, len(v.Attrs))
	for k, a := range v.Attrs {
		switch x := a.(type) {
		case bool:
			if !x {
				continue
			}
		case []int64:
			if kinds[k] == ir.AttrShape {
				a = ir.ShapeOf(x...)
			}
		}
		out[k] = a
	}
	rank := -1
	if len(v.Args) > 0 && !v.Args[0].Type.IsTuple() {
		rank = len(v.Args[0].Type.Shape)
	}
	if axes, ok := out["axes"].([]int64); ok && rank >= 0 {
		if norm, err := ir.NormalizeAxes(axes, rank); err == nil {
			n := make([]int64, len(norm))
			for i, ax := range norm {
				n[i] = int64(ax)
			}
			out["axes"] = n
		}
	}
	if ax, ok := out["axis"].(int64); ok && rank >= 0 && ax < 0 {
		out["axis"] = ax + int64(rank)
	}
	if v.Op == ir.OpConstant {
		out["value"] = cseConstValues(v.Type.DType, v.Attrs.Floats("value"))
	}
	return out
}

// cseConstValues rounds a constant's values to dtype dt, as evaluation
// does, and folds a list of equal values to one (a splat). Values are
// compared bit for bit, so that +0 and -0 stay apart; NaNs are all alike.
func cseConstValues(dt ir.DType, vals []float64) []float64 {
	out := make([]float64, len(vals))
	for i, x := range vals {
		out[i] = simpRound(dt, x)
	}
	if len(out) == 0 { // a constant with no elements
		return out
	}
	same := func(a, b float64) bool {
		return math.Float64bits(a) == math.Float64bits(b) || (math.IsNaN(a) && math.IsNaN(b))
	}
	for _, x := range out[1:] {
		if !same(x, out[0]) {
			return out
		}
	}
	if len(out) > 1 {
		out = out[:1]
	}
	return out
}
