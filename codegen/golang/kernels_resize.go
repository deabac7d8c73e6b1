package golang

import (
	"fmt"
	"strconv"

	"github.com/dave/jennifer/jen"
	"github.com/dlc-project/dlc/ir"
)

func init() {
	emitters[ir.OpResize] = emitResize(false)
	emitters[ir.OpResizeGrad] = emitResize(true)
}

// emitResize emits resize (grad=false) or its adjoint resize_grad. The
// taps of each resampled dim (ir.Taps, which the interpreter uses too) are
// package-level tables: for result index o of dim d, taps P[o] to P[o+1]
// read index I[t] with weight W[t]. resize sums the weighted taps of each
// result element in float64, weights multiplied left to right over the
// dims, as the interpreter does; resize_grad adds each operand element,
// weighted, to its taps (one thread: taps meet).
func emitResize(grad bool) emitFunc {
	return func(k *kernel) error {
		src, dst := k.v.Args[0].Type.Shape, k.v.Type.Shape
		if grad {
			src, dst = dst, src
		}
		srcSt := contiguous(shapeMonos(src))
		dims := shapeMonos(dst)
		vars := names("i", len(dims))
		var split bool
		if grad {
			k.rows, k.work = one, product(dims)
		} else {
			split = k.split(dims)
		}
		type tapDim struct {
			d       int
			p, i, w string
		}
		var tds []tapDim
		var identity []jen.Code
		for d := range dst {
			// inferResize keeps a symbolic dim with scale 1: the identity.
			if !src[d].IsConst() || ir.Taps(k.v.Attrs, d, int(src[d].Size), int(dst[d].Size)).Identity {
				identity = append(identity, k.offset(nil, vars[d:d+1], srcSt[d:d+1]))
				continue
			}
			tp := ir.Taps(k.v.Attrs, d, int(src[d].Size), int(dst[d].Size))
			name := k.name + "Taps" + strconv.Itoa(d)
			td := tapDim{d: d, p: name + "P", i: name + "I", w: name + "W"}
			ptr, idx, w := make([]jen.Code, len(tp.Ptr)), make([]jen.Code, len(tp.Idx)), make([]jen.Code, len(tp.W))
			for j, x := range tp.Ptr {
				ptr[j] = jen.Lit(x)
			}
			for j, x := range tp.Idx {
				idx[j] = jen.Lit(x)
			}
			for j, x := range tp.W {
				w[j] = jen.Lit(x)
			}
			desc := fmt.Sprintf("%s, %s and %s are the taps of dim %d of %s.", td.p, td.i, td.w, d, k.name)
			k.g.decls = append(k.g.decls,
				jen.Comment(desc).Line().Var().Defs(
					jen.Id(td.p).Op("=").Index(jen.Op("...")).Int32().Values(ptr...),
					jen.Id(td.i).Op("=").Index(jen.Op("...")).Int32().Values(idx...),
					jen.Id(td.w).Op("=").Index(jen.Op("...")).Float64().Values(w...),
				))
			tds = append(tds, td)
		}
		o := k.offset(nil, vars, contiguous(dims))
		at := func() *jen.Statement {
			terms := append([]jen.Code{}, identity...)
			for _, td := range tds {
				tap := jen.Int().Call(jen.Id(td.i).Index(jen.Id("t" + strconv.Itoa(td.d))))
				if !srcSt[td.d].isOne() {
					tap = tap.Op("*").Add(k.n(srcSt[td.d]))
				}
				terms = append(terms, tap)
			}
			return sum(terms)
		}
		var inner jen.Code
		switch {
		case len(tds) == 0 && grad:
			inner = k.o().Index(at()).Op("+=").Float32().Call(jen.Id("g"))
		case len(tds) == 0:
			inner = jen.Id("acc").Op("+=").Float64().Call(k.x(0).Index(at()))
		case grad:
			inner = k.o().Index(at()).Op("+=").Float32().Call(jen.Id("w" + strconv.Itoa(len(tds)-1)).Op("*").Id("g"))
		default:
			// The conversion forbids fusing into an FMA, as in the
			// interpreter, so that both give the same bits everywhere.
			inner = jen.Id("acc").Op("+=").Float64().Call(jen.Id("w" + strconv.Itoa(len(tds)-1)).Op("*").Float64().Call(k.x(0).Index(at())))
		}
		for j := len(tds) - 1; j >= 0; j-- {
			td := tds[j]
			t := "t" + strconv.Itoa(td.d)
			wj := jen.Id(td.w).Index(jen.Id(t))
			if j > 0 {
				wj = jen.Id("w" + strconv.Itoa(j-1)).Op("*").Add(wj)
			}
			v := jen.Id(vars[td.d])
			inner = jen.For(jen.Id(t).Op(":=").Int().Call(jen.Id(td.p).Index(v.Clone())),
				jen.Id(t).Op("<").Int().Call(jen.Id(td.p).Index(v.Clone().Op("+").Lit(1))), jen.Id(t).Op("++")).Block(
				jen.Id("w"+strconv.Itoa(j)).Op(":=").Add(wj), inner)
		}
		var body []jen.Code
		if grad {
			body = []jen.Code{jen.Id("g").Op(":=").Float64().Call(k.x(0).Index(o)), inner}
		} else {
			body = []jen.Code{jen.Id("acc").Op(":=").Lit(0.0), inner, k.o().Index(o).Op("=").Float32().Call(jen.Id("acc"))}
		}
		if grad {
			k.body = append(k.body, k.clearOut(k.v.Type.Shape))
		}
		k.body = append(k.body, k.nest(vars, dims, split, nil, body...)...)
		return nil
	}
}
