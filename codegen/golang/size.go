package golang

import (
	"github.com/dave/jennifer/jen"
	"github.com/dlc-project/dlc/ir"
)

// mono is a size that may depend on the batch: c·n^p, where n is the batch
// size the generated code receives at run time. Because N is the only
// symbol the backend accepts and every other dim is a constant, every dim,
// stride and element count of an IR value is such a monomial, so kernels can
// be emitted with constant sizes wherever the batch does not enter.
type mono struct {
	c int64 // 0 for the zero size (p is then 0 too, so zeros compare equal)
	p int
}

// one is the size 1, the identity of mul.
var one = mono{c: 1}

// constMono is the constant size c.
func constMono(c int64) mono {
	if c == 0 {
		return mono{}
	}
	return mono{c: c}
}

// dimMono is the size of one dim: its constant, or n for the batch symbol.
func dimMono(d ir.Dim) mono {
	if d.IsConst() {
		return constMono(d.Size)
	}
	return mono{c: 1, p: 1}
}

func (a mono) mul(b mono) mono {
	if a.c == 0 || b.c == 0 {
		return mono{}
	}
	return mono{c: a.c * b.c, p: a.p + b.p}
}

func (a mono) isZero() bool { return a.c == 0 }
func (a mono) isOne() bool  { return a.c == 1 && a.p == 0 }

// shapeMonos gives the size of each dim of s.
func shapeMonos(s ir.Shape) []mono {
	out := make([]mono, len(s))
	for i, d := range s {
		out[i] = dimMono(d)
	}
	return out
}

// product multiplies sizes; the empty product is one.
func product(ms []mono) mono {
	p := one
	for _, m := range ms {
		p = p.mul(m)
	}
	return p
}

// contiguous gives the row-major strides of dims.
func contiguous(dims []mono) []mono {
	st := make([]mono, len(dims))
	s := one
	for i := len(dims) - 1; i >= 0; i-- {
		st[i] = s
		s = s.mul(dims[i])
	}
	return st
}

// code renders a as a Go expression in the integer variable named n.
func (a mono) code(n string) *jen.Statement {
	if a.p == 0 {
		return jen.Lit(int(a.c))
	}
	s := jen.Null()
	if a.c != 1 {
		s.Lit(int(a.c)).Op("*")
	}
	for i := 0; i < a.p; i++ {
		if i > 0 {
			s.Op("*")
		}
		s.Id(n)
	}
	return s
}

// poly is a polynomial in MaxBatch (coefficient i of mb^i), the form that
// arena offsets take: a sum of value sizes, each a monomial in the batch,
// evaluated at the largest batch the arena must hold.
type poly []int64

// plus returns p + a (a copy; p is not modified).
func (p poly) plus(a mono) poly {
	n := max(len(p), a.p+1)
	q := make(poly, n)
	copy(q, p)
	q[a.p] += a.c
	return q
}

// code renders p as a Go expression in the integer variable named mb,
// highest power first.
func (p poly) code(mb string) *jen.Statement {
	s := jen.Null()
	first := true
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == 0 {
			continue
		}
		if !first {
			s.Op("+")
		}
		first = false
		s.Add(mono{c: p[i], p: i}.code(mb))
	}
	if first {
		return jen.Lit(0)
	}
	return s
}

// sum joins terms with +; the empty sum is 0.
func sum(terms []jen.Code) *jen.Statement {
	if len(terms) == 0 {
		return jen.Lit(0)
	}
	s := jen.Null()
	for i, t := range terms {
		if i > 0 {
			s.Op("+")
		}
		s.Add(t)
	}
	return s
}
