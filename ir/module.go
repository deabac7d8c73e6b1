package ir

import (
	"fmt"
	"sort"
)

// Value is an SSA value: defined once, by a node of the function body or as
// a function parameter. The node and the value it defines are one object, as
// in Go's own SSA backend: a node has one result.
type Value struct {
	Op    string   // the op name; "param" for function parameters
	Args  []*Value // operands, defined earlier in the same function
	Attrs Attrs    // op attributes
	Type  Type     // result type
	Name  string   // parameter name; empty for body nodes
}

// IsParam reports whether v is a function parameter.
func (v *Value) IsParam() bool { return v.Op == OpParam }

// Update says that, once a function returns, the module state named Weight
// takes Value. All reads in the function see the state as it was on entry.
type Update struct {
	Weight string
	Value  *Value
}

// Func is one function of a module: parameters, a body of nodes kept in a
// valid topological order, results, and the state updates it performs.
type Func struct {
	Name        string
	Params      []*Value
	Body        []*Value
	Results     []*Value
	ResultNames []string // optional names of the results ("loss", "probs"); same length as Results or empty
	Updates     []Update
	// Region marks the body of a fused node: called by fused nodes only,
	// its parameters are the fused node's operands and its results the
	// fused node's value (a tuple when several). Printed "region @name".
	Region bool
}

// Weight is a module-level named tensor shared by all functions: a trainable
// parameter, or optimizer state when Trainable is false.
type Weight struct {
	Name      string
	Type      Type
	Trainable bool
	// Init says how the weight is initialised: attribute "init" names the
	// initializer (see runtime.InitSpec), the others are its settings, and
	// "fan_in"/"fan_out" the fans a variance-scaling initializer uses.
	Init Attrs
	// Data, when not nil, is the weight's stored value (row-major), used
	// instead of Init.
	Data []float64
}

// Module is a set of functions over named weights.
type Module struct {
	Name    string
	Weights []*Weight
	Funcs   []*Func
}

// Weight returns the weight with the given name, or nil.
func (m *Module) Weight(name string) *Weight {
	for _, w := range m.Weights {
		if w.Name == name {
			return w
		}
	}
	return nil
}

// Func returns the function with the given name, or nil.
func (m *Module) Func(name string) *Func {
	for _, f := range m.Funcs {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// AddWeight adds a weight; its name must be new.
func (m *Module) AddWeight(w *Weight) error {
	if m.Weight(w.Name) != nil {
		return fmt.Errorf("weight %q defined twice", w.Name)
	}
	m.Weights = append(m.Weights, w)
	return nil
}

// Result returns the result with the given name, or nil.
func (f *Func) Result(name string) *Value {
	for i, n := range f.ResultNames {
		if n == name {
			return f.Results[i]
		}
	}
	return nil
}

// Uses counts, for each value, how many times it is used as an operand,
// result or update value.
func (f *Func) Uses() map[*Value]int {
	uses := map[*Value]int{}
	for _, v := range f.Body {
		for _, a := range v.Args {
			uses[a]++
		}
	}
	for _, r := range f.Results {
		uses[r]++
	}
	for _, u := range f.Updates {
		uses[u.Value]++
	}
	return uses
}

// ReplaceUses makes every use of old (operands, results, updates) a use of nu.
func (f *Func) ReplaceUses(old, nu *Value) {
	for _, v := range f.Body {
		for i, a := range v.Args {
			if a == old {
				v.Args[i] = nu
			}
		}
	}
	for i, r := range f.Results {
		if r == old {
			f.Results[i] = nu
		}
	}
	for i, u := range f.Updates {
		if u.Value == old {
			f.Updates[i].Value = nu
		}
	}
}

// Attrs holds an op's attributes. Values are int64, float64, string, bool,
// DType, []int64, []float64 or Shape.
type Attrs map[string]any

// Keys returns the attribute names in sorted order.
func (a Attrs) Keys() []string {
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Clone returns a shallow copy (slices are copied).
func (a Attrs) Clone() Attrs {
	if a == nil {
		return nil
	}
	b := make(Attrs, len(a))
	for k, v := range a {
		switch v := v.(type) {
		case []int64:
			b[k] = append([]int64(nil), v...)
		case []float64:
			b[k] = append([]float64(nil), v...)
		case Shape:
			b[k] = v.Clone()
		default:
			b[k] = v
		}
	}
	return b
}

// Int returns an integer attribute, or def when absent.
func (a Attrs) Int(key string, def int64) int64 {
	if v, ok := a[key].(int64); ok {
		return v
	}
	return def
}

// Float returns a float attribute (an integer one is converted), or def.
func (a Attrs) Float(key string, def float64) float64 {
	switch v := a[key].(type) {
	case float64:
		return v
	case int64:
		return float64(v)
	}
	return def
}

// String returns a string attribute, or def.
func (a Attrs) String(key string, def string) string {
	if v, ok := a[key].(string); ok {
		return v
	}
	return def
}

// Bool returns a bool attribute, or def.
func (a Attrs) Bool(key string, def bool) bool {
	if v, ok := a[key].(bool); ok {
		return v
	}
	return def
}

// Ints returns an integer-list attribute, or nil.
func (a Attrs) Ints(key string) []int64 {
	switch v := a[key].(type) {
	case []int64:
		return v
	case Shape:
		if v.IsStatic() {
			out := make([]int64, len(v))
			for i, d := range v {
				out[i] = d.Size
			}
			return out
		}
	}
	return nil
}

// Floats returns a float-list attribute (an integer list is converted), or nil.
func (a Attrs) Floats(key string) []float64 {
	switch v := a[key].(type) {
	case []float64:
		return v
	case []int64:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	}
	return nil
}

// ShapeAttr returns a shape attribute; an integer list is read as constant dims.
func (a Attrs) ShapeAttr(key string) (Shape, bool) {
	switch v := a[key].(type) {
	case Shape:
		return v, true
	case []int64:
		return ShapeOf(v...), true
	}
	return nil, false
}

// DTypeAttr returns a dtype attribute.
func (a Attrs) DTypeAttr(key string) (DType, bool) {
	v, ok := a[key].(DType)
	return v, ok
}
