package passes

import (
	"fmt"

	"github.com/dlc-project/dlc/ir"
)

// Gradient rules of the data-movement, indexing and reduction ops
// (ir/ops_index.go). Most are adjoint pairs: the gradient of a gather is a
// scatter-add, of a slice a slice_grad (the slice written into zeros), of a
// pad a crop (constant mode) or a pad_grad, and each adjoint's gradient is
// the op it is the adjoint of.

func init() {
	nd := NotDifferentiable
	nd[ir.OpArgMax] = "integer result: piecewise constant"
	nd[ir.OpArgMin] = "integer result: piecewise constant"
	// top_k's values have a gradient, but autodiff has no tuple-valued
	// gradients to carry it from an extract to top_k: a loss that depends
	// on them through the values is an error (never a silent zero), on the
	// indices alone a zero (they are integers). Frontends read the values
	// as gather_elements(x, indices), which is differentiable.
	delete(nd, ir.OpTopK)
	delete(nd, ir.OpExtract)

	r := GradRules
	r[ir.OpExtract] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		switch t := v.Args[0]; {
		case t.Op == ir.OpTopK && v.Attrs.Int("index", 0) == 1:
			return []*ir.Value{nil} // the indices: integers
		case t.Op == ir.OpTopK:
			b.Fail(fmt.Errorf("top_k: no gradient through its values (a tuple element); " +
				"read them as gather_elements(x, indices) with top_k's indices, which has one"))
		default:
			b.Fail(fmt.Errorf("extract of %s: fusion runs after autodiff, so the backward graph has no tuples", t.Op))
		}
		return []*ir.Value{nil}
	}
	r[ir.OpTopK] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		// Unreachable: the extract rule gives top_k no gradient or fails.
		b.Fail(fmt.Errorf("top_k: no gradient through its values"))
		return []*ir.Value{nil}
	}
	r[ir.OpReduceMin] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		// As for reduce_max: the gradient flows to the elements equal to
		// the minimum (to each of them on a tie).
		x := v.Args[0]
		mask := b.Op(ir.OpEqual, nil, x, expandReduced(b, v, v))
		return []*ir.Value{b.Op(ir.OpSelect, nil, mask, expandReduced(b, v, g), zeroLike(b, g))}
	}
	r[ir.OpReduceProd] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		// d(Πx)/dx_i = Πx / x_i: exact for non-zero x_i; at an x_i = 0 it
		// is 0/0 (NaN), where the product of the others is meant.
		x := v.Args[0]
		return []*ir.Value{b.Div(b.Mul(expandReduced(b, v, g), expandReduced(b, v, v)), x)}
	}
	r[ir.OpConcat] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		axes, _ := ir.NormalizeAxes([]int64{v.Attrs.Int("axis", 0)}, len(v.Type.Shape))
		ax := axes[0]
		out := make([]*ir.Value, len(v.Args))
		off := int64(0)
		for i, a := range v.Args {
			if len(v.Args) == 1 {
				out[i] = g
				break
			}
			starts, ends, steps := wholeSlice(g.Type.Shape)
			n := a.Type.Shape[ax].Size
			starts[ax], ends[ax] = off, off+n
			off += n
			out[i] = b.Op(ir.OpSlice, ir.Attrs{"starts": starts, "ends": ends, "steps": steps}, g)
		}
		return out
	}
	r[ir.OpSlice] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		a := sliceAttrs(v)
		a["shape"] = v.Args[0].Type.Shape.Clone()
		return []*ir.Value{b.Op(ir.OpSliceGrad, a, g)}
	}
	r[ir.OpSliceGrad] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		return []*ir.Value{b.Op(ir.OpSlice, sliceAttrs(v), g)}
	}
	r[ir.OpPad] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		pads := v.Attrs.Ints("pads")
		if ir.PadMode(v.Attrs) == "constant" {
			// The adjoint of padding with a constant is cropping, and of
			// cropping padding with zeros: pad by the negated pads.
			neg := make([]int64, len(pads))
			for i, p := range pads {
				neg[i] = -p
			}
			return []*ir.Value{b.Op(ir.OpPad, ir.Attrs{"pads": neg}, g)}
		}
		return []*ir.Value{b.Op(ir.OpPadGrad, ir.Attrs{"pads": append([]int64(nil), pads...), "mode": ir.PadMode(v.Attrs)}, g)}
	}
	r[ir.OpPadGrad] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		// pad_grad is the adjoint of pad's linear part (pad with value 0).
		return []*ir.Value{b.Op(ir.OpPad, ir.Attrs{"pads": append([]int64(nil), v.Attrs.Ints("pads")...), "mode": ir.PadMode(v.Attrs)}, g)}
	}
	r[ir.OpGather] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		x, idx := v.Args[0], v.Args[1]
		return []*ir.Value{b.Op(ir.OpScatterAdd, axisAttr(v), zerosOf(b, x), idx, g), nil}
	}
	r[ir.OpScatterAdd] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		return []*ir.Value{g, nil, b.Op(ir.OpGather, axisAttr(v), g, v.Args[1])}
	}
	r[ir.OpGatherElements] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		x, idx := v.Args[0], v.Args[1]
		a := axisAttr(v)
		a["reduction"] = "add"
		return []*ir.Value{b.Op(ir.OpScatterElements, a, zerosOf(b, x), idx, g), nil}
	}
	r[ir.OpScatterElements] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		gather := func(x *ir.Value) *ir.Value { return b.Op(ir.OpGatherElements, axisAttr(v), x, v.Args[1]) }
		scatter := func(x, u *ir.Value, red string) *ir.Value {
			a := axisAttr(v)
			if red != "none" {
				a["reduction"] = red
			}
			return b.Op(ir.OpScatterElements, a, x, v.Args[1], u)
		}
		return scatterGrad(b, v, g, gather, scatter)
	}
	r[ir.OpGatherND] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		x, idx := v.Args[0], v.Args[1]
		a := ir.Attrs{"reduction": "add"}
		if bd := v.Attrs.Int("batch_dims", 0); bd != 0 {
			a["batch_dims"] = bd
		}
		return []*ir.Value{b.Op(ir.OpScatterND, a, zerosOf(b, x), idx, g), nil}
	}
	r[ir.OpScatterND] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		bd := v.Attrs.Int("batch_dims", 0)
		gather := func(x *ir.Value) *ir.Value {
			a := ir.Attrs{}
			if bd != 0 {
				a["batch_dims"] = bd
			}
			return b.Op(ir.OpGatherND, a, x, v.Args[1])
		}
		scatter := func(x, u *ir.Value, red string) *ir.Value {
			a := ir.Attrs{}
			if red != "none" {
				a["reduction"] = red
			}
			if bd != 0 {
				a["batch_dims"] = bd
			}
			return b.Op(ir.OpScatterND, a, x, v.Args[1], u)
		}
		return scatterGrad(b, v, g, gather, scatter)
	}
	r[ir.OpCumSum] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		// Element j of the sum adds x_i for i before j: x_i's gradient sums
		// g_j over j after i, a cumsum the other way round.
		a := v.Attrs.Clone()
		if v.Attrs.Bool("reverse", false) {
			delete(a, "reverse")
		} else {
			a["reverse"] = true
		}
		return []*ir.Value{b.Op(ir.OpCumSum, a, g)}
	}
	r[ir.OpTrilu] = func(b *ir.Builder, v, g *ir.Value) []*ir.Value {
		return []*ir.Value{b.Op(ir.OpTrilu, v.Attrs.Clone(), g)}
	}
}

// scatterGrad is the gradient rule of scatter_elements and scatter_nd (v:
// data, indices, updates), given the matching gather (the elements of a
// data-shaped value at the indices) and scatter (with the same indices):
//
//   - none: data's gradient is g with the overwritten elements zeroed,
//     the updates' is g at the indices (indices must be distinct, as ONNX
//     requires for none);
//   - add: g, and g at the indices;
//   - mul: g times the product of the updates that hit each element, and
//     g·out/u at the indices (NaN where an update is 0, as reduce_prod's);
//   - max, min: g where data (an update) is the result, as reduce_max's
//     rule does: each of tied winners gets all of g.
func scatterGrad(b *ir.Builder, v, g *ir.Value, gather func(x *ir.Value) *ir.Value, scatter func(x, u *ir.Value, red string) *ir.Value) []*ir.Value {
	x, u := v.Args[0], v.Args[2]
	switch red := ir.ScatterReduction(v.Attrs); red {
	case "add":
		return []*ir.Value{g, nil, gather(g)}
	case "none":
		return []*ir.Value{scatter(g, zerosOf(b, u), "none"), nil, gather(g)}
	case "mul":
		hit := scatter(b.Const(x.Type, 1), u, "mul")
		return []*ir.Value{b.Mul(g, hit), nil, b.Div(gather(b.Mul(g, v)), u)}
	default: // max, min
		zx, zu := zerosOf(b, x), zerosOf(b, u)
		gx := b.Op(ir.OpSelect, nil, b.Op(ir.OpEqual, nil, x, v), g, zx)
		gu := b.Op(ir.OpSelect, nil, b.Op(ir.OpEqual, nil, u, gather(v)), gather(g), zu)
		return []*ir.Value{gx, nil, gu}
	}
}

// wholeSlice gives slice entries that keep every dim of s whole.
func wholeSlice(s ir.Shape) (starts, ends, steps []int64) {
	for _, d := range s {
		end := int64(ir.SliceWhole)
		if d.IsConst() {
			end = d.Size
		}
		starts, ends, steps = append(starts, 0), append(ends, end), append(steps, 1)
	}
	return starts, ends, steps
}

func sliceAttrs(v *ir.Value) ir.Attrs {
	return ir.Attrs{"starts": append([]int64(nil), v.Attrs.Ints("starts")...),
		"ends": append([]int64(nil), v.Attrs.Ints("ends")...), "steps": append([]int64(nil), v.Attrs.Ints("steps")...)}
}

func axisAttr(v *ir.Value) ir.Attrs { return ir.Attrs{"axis": v.Attrs.Int("axis", 0)} }

// zerosOf is a zero constant of v's type (one splatted value).
func zerosOf(b *ir.Builder, v *ir.Value) *ir.Value { return b.Const(v.Type, 0) }
