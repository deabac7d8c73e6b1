package interp

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dlc-project/dlc/ir"
)

// Tensor is a dense row-major tensor. Every dtype is stored as float64 so
// that one set of naive kernels serves them all: floats as their value
// (F32 values are kept exactly representable as float32), integers as whole
// numbers (exact up to 2^53), bool as 0 or 1. A rank-0 tensor (scalar) has an
// empty Shape and one element.
type Tensor struct {
	DType ir.DType
	Shape []int
	Data  []float64
	// Elems holds the elements of a tuple (the value of a fused node with
	// several results); DType, Shape and Data are then unused.
	Elems []*Tensor
}

// New returns a tensor of dtype dt and the given shape holding a copy of
// data (row-major), so that the caller may keep reusing its slice; nil data
// means zeros. It panics if the shape has a negative dim or more than 2^28
// elements, or if len(data) does not match it: building a tensor from
// mismatched data is a bug in the caller, not bad input, as with gonum's
// mat.NewDense. (Run checks every tensor it is handed, however it was made,
// and reports a malformed one as an error.)
func New(dt ir.DType, shape []int, data []float64) *Tensor {
	n, err := numElements(shape)
	if err != nil {
		panic("interp.New: " + err.Error())
	}
	t := &Tensor{DType: dt, Shape: append([]int{}, shape...), Data: make([]float64, n)}
	if data != nil {
		if len(data) != n {
			panic(fmt.Sprintf("interp.New: %d values for shape %v, want %d", len(data), shape, n))
		}
		copy(t.Data, data)
	}
	return t
}

// Zeros returns a zero tensor of dtype dt and the given shape; it panics on
// a shape New rejects.
func Zeros(dt ir.DType, shape []int) *Tensor { return New(dt, shape, nil) }

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	if t.Elems != nil {
		c := &Tensor{Elems: make([]*Tensor, len(t.Elems))}
		for i, e := range t.Elems {
			c.Elems[i] = e.Clone()
		}
		return c
	}
	return &Tensor{DType: t.DType, Shape: append([]int{}, t.Shape...), Data: append([]float64{}, t.Data...)}
}

// NumElements returns the product of the dims (1 for a scalar).
func (t *Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// At returns the element at the given multi-index. Like slice indexing it
// panics when the index has the wrong rank or is out of range: it is a
// helper for tests and debugging, where that is a bug in the caller.
func (t *Tensor) At(idx ...int) float64 {
	if len(idx) != len(t.Shape) {
		panic(fmt.Sprintf("interp.Tensor.At: %d indices for shape %v", len(idx), t.Shape))
	}
	off := 0
	for i, x := range idx {
		if x < 0 || x >= t.Shape[i] {
			panic(fmt.Sprintf("interp.Tensor.At: index %v out of range for shape %v", idx, t.Shape))
		}
		off = off*t.Shape[i] + x
	}
	return t.Data[off]
}

// maxPrinted bounds how many elements String prints, so that printing a
// batch of images while debugging stays readable.
const maxPrinted = 64

// String prints t as its type and nested rows, such as
// "f32[2,2] [[1 2] [3 4]]", eliding elements after the first 64.
func (t *Tensor) String() string {
	if t == nil {
		return "<nil tensor>"
	}
	var b strings.Builder
	b.WriteString(t.DType.String())
	b.WriteString(fmtShape(t.Shape))
	b.WriteByte(' ')
	if err := t.check(); err != nil {
		fmt.Fprintf(&b, "<invalid: %v>", err)
		return b.String()
	}
	printed := 0
	var rec func(dim, off int)
	rec = func(dim, off int) {
		if dim == len(t.Shape) {
			if printed == maxPrinted {
				b.WriteString("…")
			} else if printed < maxPrinted {
				b.WriteString(formatElem(t.DType, t.Data[off]))
			}
			printed++
			return
		}
		b.WriteByte('[')
		inner := 1
		for _, d := range t.Shape[dim+1:] {
			inner *= d
		}
		for i := 0; i < t.Shape[dim]; i++ {
			if printed > maxPrinted {
				break
			}
			if i > 0 {
				b.WriteByte(' ')
			}
			rec(dim+1, off+i*inner)
		}
		b.WriteByte(']')
	}
	rec(0, 0)
	return b.String()
}

func formatElem(dt ir.DType, x float64) string {
	switch {
	case dt == ir.Bool:
		return strconv.FormatBool(x != 0)
	case dt == ir.F32:
		return strconv.FormatFloat(x, 'g', -1, 32)
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

func fmtShape(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// maxElements bounds the size of one tensor (2 GiB of float64). The
// interpreter is a test oracle; a larger shape is a malformed graph or
// input, better reported than met by the process running out of memory.
const maxElements = 1 << 28

// numElements returns the product of shape's dims, rejecting negative dims
// and more than maxElements elements.
func numElements(shape []int) (int, error) {
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dim in shape %s", fmtShape(shape))
		}
	}
	n := 1
	for _, d := range shape {
		if d == 0 {
			return 0, nil
		}
		if n > maxElements/d {
			return 0, fmt.Errorf("shape %s has more than 2^28 elements, too many for the reference interpreter", fmtShape(shape))
		}
		n *= d
	}
	return n, nil
}

// check reports whether t is well formed: non-negative dims and as many
// values as they call for.
func (t *Tensor) check() error {
	n, err := numElements(t.Shape)
	if err != nil {
		return err
	}
	if len(t.Data) != n {
		return fmt.Errorf("%d values for shape %v, want %d", len(t.Data), fmtShape(t.Shape), n)
	}
	return nil
}

// sameShape reports whether two concrete shapes are equal (a nil and an
// empty shape are both scalars).
func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// irShape turns a concrete shape into an ir.Shape of constant dims, so that
// the IR's own broadcasting and matmul rules (and their error messages)
// apply unchanged at run time.
func irShape(s []int) ir.Shape {
	out := make(ir.Shape, len(s))
	for i, d := range s {
		out[i] = ir.C(int64(d))
	}
	return out
}

// intShape is the inverse of irShape for a shape known to be static.
func intShape(s ir.Shape) []int {
	out := make([]int, len(s))
	for i, d := range s {
		out[i] = int(d.Size)
	}
	return out
}

// strides returns the row-major strides of shape.
func strides(shape []int) []int {
	st := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = acc
		acc *= shape[i]
	}
	return st
}

// broadcastStrides returns, for an operand of shape in broadcast (NumPy
// rules, aligned from the right) to shape out, the step in the operand's
// data for one step along each dim of out: 0 along dims the operand lacks
// or has as 1, so every output index reads the element it broadcasts from.
func broadcastStrides(in, out []int) []int {
	st := strides(in)
	bs := make([]int, len(out))
	off := len(out) - len(in)
	for i := range in {
		if in[i] != 1 {
			bs[off+i] = st[i]
		}
	}
	return bs
}

// forEachIndex calls fn with every multi-index of shape in row-major order
// (once with an empty index for a scalar, never for an empty shape). fn must
// not keep idx.
func forEachIndex(shape []int, fn func(idx []int)) {
	for _, d := range shape {
		if d == 0 {
			return
		}
	}
	idx := make([]int, len(shape))
	for {
		fn(idx)
		i := len(shape) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < shape[i] {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return
		}
	}
}

// dot returns the offset of idx under the given strides.
func dot(idx, st []int) int {
	off := 0
	for i, x := range idx {
		off += x * st[i]
	}
	return off
}
