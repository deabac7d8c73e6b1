// Package ir is dlc's intermediate representation: dtypes, shapes with
// symbolic dims, SSA values, functions, a module with named weights, the op
// table with type inference, a printer and parser for one text form, and a
// verifier. It is the data structure and nothing else: evaluation lives in
// ir/interp, transformations in passes, code emission in codegen.
package ir

import (
	"fmt"
	"strconv"
	"strings"
)

// DType is the element type of a tensor.
type DType uint8

// The element types. Float types are computed in their own precision by the
// generated code; ir/interp rounds to them after every op (F16 is IEEE
// binary16, BF16 the top half of a float32: 8 exponent bits, 7 fraction
// bits). Integers wrap around as Go's fixed-width integers do.
const (
	Invalid DType = iota
	F32
	F64
	I32
	I64
	I8
	U8
	Bool
	// The types ONNX models also use, after Bool so that the dtypes above
	// keep their numbers.
	F16
	BF16
	I16
	U16
	U32
	U64
)

var dtypeNames = [...]string{Invalid: "invalid", F32: "f32", F64: "f64", I32: "i32", I64: "i64", I8: "i8", U8: "u8", Bool: "bool",
	F16: "f16", BF16: "bf16", I16: "i16", U16: "u16", U32: "u32", U64: "u64"}

// FloatDTypes and IntDTypes list the float and integer dtypes, narrowest
// first (for tests and docs that walk them all).
var (
	FloatDTypes = []DType{F16, BF16, F32, F64}
	IntDTypes   = []DType{I8, U8, I16, U16, I32, U32, I64, U64}
)

func (d DType) String() string {
	if int(d) < len(dtypeNames) {
		return dtypeNames[d]
	}
	return "dtype(" + strconv.Itoa(int(d)) + ")"
}

// IsFloat reports whether d is a floating-point type.
func (d DType) IsFloat() bool {
	switch d {
	case F32, F64, F16, BF16:
		return true
	}
	return false
}

// IsInt reports whether d is an integer type.
func (d DType) IsInt() bool {
	switch d {
	case I8, U8, I16, U16, I32, U32, I64, U64:
		return true
	}
	return false
}

// IsUnsigned reports whether d is an unsigned integer type.
func (d DType) IsUnsigned() bool { return d == U8 || d == U16 || d == U32 || d == U64 }

// ParseDType returns the dtype named s ("f32", "i64", ...).
func ParseDType(s string) (DType, bool) {
	for i, n := range dtypeNames {
		if i != int(Invalid) && n == s {
			return DType(i), true
		}
	}
	return Invalid, false
}

// Dim is one dimension of a shape: a constant size, or a named symbol such as
// the batch dim N whose size is known only when the function runs.
type Dim struct {
	Size int64  // the size when Sym == ""
	Sym  string // a symbol name, or "" for a constant dim
}

// C returns a constant dim.
func C(n int64) Dim { return Dim{Size: n} }

// S returns a symbolic dim.
func S(name string) Dim { return Dim{Sym: name} }

// IsConst reports whether d has a known size.
func (d Dim) IsConst() bool { return d.Sym == "" }

func (d Dim) String() string {
	if d.Sym != "" {
		return d.Sym
	}
	return strconv.FormatInt(d.Size, 10)
}

// Shape is a list of dims, outermost first. A nil or empty Shape is a scalar.
type Shape []Dim

// ShapeOf builds a constant shape.
func ShapeOf(dims ...int64) Shape {
	s := make(Shape, len(dims))
	for i, d := range dims {
		s[i] = C(d)
	}
	return s
}

// Rank is the number of dims.
func (s Shape) Rank() int { return len(s) }

// Equal reports whether two shapes have the same dims.
func (s Shape) Equal(t Shape) bool {
	if len(s) != len(t) {
		return false
	}
	for i := range s {
		if s[i] != t[i] {
			return false
		}
	}
	return true
}

// IsStatic reports whether all dims are constants.
func (s Shape) IsStatic() bool {
	for _, d := range s {
		if !d.IsConst() {
			return false
		}
	}
	return true
}

// NumElements returns the product of the constant dims and the list of
// symbols (with repetition) that multiply it.
func (s Shape) NumElements() (int64, []string) {
	n := int64(1)
	var syms []string
	for _, d := range s {
		if d.IsConst() {
			n *= d.Size
		} else {
			syms = append(syms, d.Sym)
		}
	}
	return n, syms
}

// Clone returns a copy of s.
func (s Shape) Clone() Shape { return append(Shape(nil), s...) }

func (s Shape) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(d.String())
	}
	b.WriteByte(']')
	return b.String()
}

// Resolve returns the concrete sizes of s given values for its symbols.
func (s Shape) Resolve(syms map[string]int) ([]int, error) {
	out := make([]int, len(s))
	for i, d := range s {
		if d.IsConst() {
			out[i] = int(d.Size)
			continue
		}
		v, ok := syms[d.Sym]
		if !ok {
			return nil, fmt.Errorf("symbolic dim %s has no value", d.Sym)
		}
		out[i] = v
	}
	return out, nil
}

// Type is the type of a value: dtype and shape, or, for the value of a
// node with several results (a fused node), a tuple of types whose
// elements extract nodes take apart.
type Type struct {
	DType DType
	Shape Shape
	Elems []Type // non-nil for a tuple
}

// Tuple returns the tuple type of elems.
func Tuple(elems ...Type) Type { return Type{Elems: append([]Type{}, elems...)} }

// IsTuple reports whether t is a tuple type.
func (t Type) IsTuple() bool { return t.Elems != nil }

// TensorOf builds a Type.
func TensorOf(dt DType, dims ...Dim) Type { return Type{DType: dt, Shape: Shape(dims)} }

// Equal reports whether two types are the same.
func (t Type) Equal(u Type) bool {
	if t.IsTuple() || u.IsTuple() {
		if len(t.Elems) != len(u.Elems) || t.IsTuple() != u.IsTuple() {
			return false
		}
		for i := range t.Elems {
			if !t.Elems[i].Equal(u.Elems[i]) {
				return false
			}
		}
		return true
	}
	return t.DType == u.DType && t.Shape.Equal(u.Shape)
}

func (t Type) String() string {
	if t.IsTuple() {
		parts := make([]string, len(t.Elems))
		for i, e := range t.Elems {
			parts[i] = e.String()
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	return t.DType.String() + t.Shape.String()
}
