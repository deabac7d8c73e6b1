package passes

import (
	"math"
	"slices"

	"github.com/dlc-project/dlc/ir"
)

// The random-graph generator's part for the ops of ir/ops_index.go and
// ir/ops_resize.go. Data movement keeps its operand's bound; sums
// (cumsum, the scatter-adds, the adjoints) widen it by how many elements
// meet. Index operands are constants in range (negative ones too); where a
// shape has the batch dim N they are a static constant broadcast over it.
// The ops that jump (argmax, argmin, top_k) take only parameters, as floor
// does, so that no last-bit difference a pass makes can flip them; they
// and reduce_min (a kink at ties) and scatter's mul, max and min stay out
// of smooth graphs.

func init() {
	// top_k's tuple is taken apart by extract outside fusion too.
	delete(rgNotGenerated, ir.OpExtract)
}

// rgIndexSmooth are the ops genIndex makes in smooth graphs.
var rgIndexSmooth = []string{ir.OpReduceProd, ir.OpConcat, ir.OpSlice, ir.OpSliceGrad, ir.OpPad, ir.OpPadGrad,
	ir.OpGather, ir.OpScatterAdd, ir.OpGatherElements, ir.OpScatterElements, ir.OpGatherND, ir.OpScatterND,
	ir.OpCumSum, ir.OpTrilu, ir.OpResize, ir.OpResizeGrad}

// rgIndexOther are the ones it adds otherwise.
var rgIndexOther = []string{ir.OpReduceMin, ir.OpArgMax, ir.OpArgMin, ir.OpTopK}

// pickData returns a value of rank >= minRank for an index op: a float
// when float is set or the graph is smooth, else now and then an integer;
// a new leaf when the pool has none.
func (g *rgGen) pickData(minRank int, float bool) *ir.Value {
	ok := func(v *ir.Value) bool {
		return len(v.Type.Shape) >= minRank && v.Type.DType != ir.Bool && (v.Type.DType.IsFloat() || !(g.opts.smooth || float))
	}
	if v := g.pick(ok); v != nil {
		return v
	}
	t := ir.Type{DType: g.opts.dtype, Shape: g.randShape(true)}
	for len(t.Shape) < minRank {
		t.Shape = append(t.Shape, g.randDim(false))
	}
	return g.leaf(t, "")
}

// indexConst returns an i64 (or i32) constant of shape s holding vals
// (row-major over s with N taken as 1), broadcast over N where s has it.
func (g *rgGen) indexConst(s ir.Shape, vals []float64) *ir.Value {
	dt := ir.I64
	if g.coin(0.3) {
		dt = ir.I32
	}
	static := s.Clone()
	for i, d := range static {
		if !d.IsConst() {
			static[i] = ir.C(1)
		}
	}
	c := g.record(g.b.Const(ir.Type{DType: dt, Shape: static}, vals...), rgSpan(dt, vals), nil)
	if static.Equal(s) {
		return c
	}
	return g.emit(ir.OpBroadcast, ir.Attrs{"shape": s.Clone()}, g.bound[c], c)
}

// randIndex is an index into a dim of n, negative (from the end) now and
// then.
func (g *rgGen) randIndex(n int) float64 {
	j := g.r.IntN(n)
	if g.coin(0.3) {
		j -= n
	}
	return float64(j)
}

// staticCount is the number of elements of s with N taken as 1.
func staticCount(s ir.Shape) int {
	n := 1
	for _, d := range s {
		if d.IsConst() {
			n *= int(d.Size)
		}
	}
	return n
}

// widen is the bound of b plus k times (the part beyond 0 of) u.
func widen(b, u rgBound, k float64) rgBound {
	return rgBound{b.lo + k*math.Min(u.lo, 0), b.hi + k*math.Max(u.hi, 0)}
}

// scaled is the bound of sums of elements of b with total absolute weight
// at most k.
func scaled(b rgBound, k float64) rgBound { return rgUnion(b, rgBound{-k * b.abs(), k * b.abs()}) }

// constAxes returns the dims of s of constant size.
func constAxes(s ir.Shape) []int {
	var out []int
	for i, d := range s {
		if d.IsConst() {
			out = append(out, i)
		}
	}
	return out
}

// genIndex generates one op of ops_index.go or ops_resize.go.
func (g *rgGen) genIndex() {
	ops := rgIndexSmooth
	if !g.opts.smooth {
		ops = append(slices.Clone(ops), rgIndexOther...)
	}
	switch op := ops[g.r.IntN(len(ops))]; op {
	case ir.OpReduceProd, ir.OpReduceMin:
		x := g.pickData(1, op == ir.OpReduceProd)
		if op == ir.OpReduceProd {
			x = g.squash(x)
		}
		attrs := ir.Attrs{"axes": g.randAxes(len(x.Type.Shape)), "keepdims": g.coin(0.5)}
		b := g.bound[x]
		if op == ir.OpReduceProd {
			b = rgBound{-b.abs(), b.abs()}
		}
		g.emit(op, attrs, b, x)
	case ir.OpArgMax, ir.OpArgMin:
		x := g.leaf(ir.Type{DType: g.opts.dtype, Shape: g.randShape(true)}, "param")
		if len(x.Type.Shape) == 0 {
			return
		}
		ax := g.r.IntN(len(x.Type.Shape))
		n := rgConcrete(x.Type.Shape)[ax]
		g.emit(op, ir.Attrs{"axis": int64(ax - g.r.IntN(2)*len(x.Type.Shape)), "keepdims": g.coin(0.5),
			"select_last_index": g.coin(0.3)}, rgBound{0, float64(n - 1)}, x)
	case ir.OpTopK:
		x := g.leaf(ir.Type{DType: g.opts.dtype, Shape: g.randShape(true)}, "param")
		axes := constAxes(x.Type.Shape)
		if len(axes) == 0 {
			return
		}
		ax := axes[g.r.IntN(len(axes))]
		k := 1 + g.r.IntN(int(x.Type.Shape[ax].Size))
		tk := g.b.Op(op, ir.Attrs{"axis": int64(ax), "k": int64(k), "largest": g.coin(0.5), "sorted": g.coin(0.5)}, x)
		g.emit(ir.OpExtract, ir.Attrs{"index": int64(1)}, rgBound{0, float64(x.Type.Shape[ax].Size - 1)}, tk)
		g.emit(ir.OpExtract, ir.Attrs{"index": int64(0)}, g.bound[x], tk)
	case ir.OpConcat:
		x := g.pickData(1, false)
		axes := constAxes(x.Type.Shape)
		if len(axes) == 0 {
			g.emit(op, ir.Attrs{"axis": int64(0)}, g.bound[x], x)
			return
		}
		args := []*ir.Value{x}
		for i := 0; i < 1+g.r.IntN(2); i++ {
			args = append(args, g.squash(x))
		}
		b := g.bound[x]
		for _, a := range args {
			b = rgUnion(b, g.bound[a])
		}
		g.emit(op, ir.Attrs{"axis": int64(axes[g.r.IntN(len(axes))])}, b, args...)
	case ir.OpSlice, ir.OpSliceGrad:
		x := g.pickData(0, op == ir.OpSliceGrad)
		var starts, ends, steps []int64
		shape := x.Type.Shape.Clone() // slice_grad: the result's shape
		for i, d := range x.Type.Shape {
			if !d.IsConst() {
				starts, ends, steps = append(starts, 0), append(ends, ir.SliceWhole), append(steps, 1)
				continue
			}
			n := int64(d.Size)
			if op == ir.OpSliceGrad {
				// x is the slice; the result a dim it was cut from.
				n = d.Size + int64(g.r.IntN(3))
				shape[i] = ir.C(n)
			}
			step := []int64{1, 1, 2, -1, -2}[g.r.IntN(5)]
			count := d.Size
			if op == ir.OpSlice {
				count = 1 + int64(g.r.IntN(int((n+abs64(step)-1)/abs64(step))))
			}
			// count elements from start with step must fit in [0, n).
			span := (count-1)*abs64(step) + 1
			if span > n {
				step, span = 1, count
			}
			first := int64(g.r.IntN(int(n - span + 1)))
			if step > 0 {
				starts, ends = append(starts, first), append(ends, first+span)
			} else {
				starts, ends = append(starts, first+span-1), append(ends, first-1)
			}
			steps = append(steps, step)
		}
		attrs := ir.Attrs{"starts": starts, "ends": ends, "steps": steps}
		b := g.bound[x]
		if op == ir.OpSliceGrad {
			attrs["shape"] = shape
			b = rgUnion(b, rgBound{0, 0})
		}
		g.emit(op, attrs, b, x)
	case ir.OpPad, ir.OpPadGrad:
		x := g.pickData(0, op == ir.OpPadGrad)
		mode := ir.PadModes[g.r.IntN(3)]
		r := len(x.Type.Shape)
		pads := make([]int64, 2*r)
		weight := 1.0 // pad_grad: the most elements one result element sums
		for i, d := range x.Type.Shape {
			if !d.IsConst() {
				continue
			}
			n := d.Size
			for _, j := range []int{i, r + i} {
				p := int64(g.r.IntN(4) - 1) // -1 to 2
				if op == ir.OpPadGrad {
					p = int64(g.r.IntN(2))
				}
				pads[j] = p
			}
			kept := n + min(pads[i], 0) + min(pads[r+i], 0) // pad: what is left of x's dim
			if op == ir.OpPadGrad {
				kept = n - pads[i] - pads[r+i] // pad_grad: the result's dim
			}
			if kept < 1 || (mode == "reflect" && (max(pads[i], 0) > kept-1 || max(pads[r+i], 0) > kept-1)) {
				pads[i], pads[r+i] = 0, 0
				continue
			}
			if mode != "constant" {
				weight *= float64(1 + pads[i] + pads[r+i])
			}
		}
		attrs := ir.Attrs{"pads": pads}
		if mode != "constant" || g.coin(0.5) {
			attrs["mode"] = mode
		}
		b := g.bound[x]
		if op == ir.OpPad && mode == "constant" {
			v := 0.0
			if g.coin(0.5) {
				v = g.constValue(x.Type.DType)
				attrs["value"] = v
			}
			b = rgUnion(b, rgBound{v, v})
		}
		if op == ir.OpPadGrad {
			b = scaled(b, weight)
		}
		g.emit(op, attrs, b, x)
	case ir.OpGather, ir.OpScatterAdd:
		x := g.pickData(1, op == ir.OpScatterAdd)
		ax := g.r.IntN(len(x.Type.Shape))
		n := rgConcrete(x.Type.Shape)[ax]
		is := make(ir.Shape, g.r.IntN(3))
		for i := range is {
			is[i] = ir.C(int64(1 + g.r.IntN(3)))
		}
		vals := make([]float64, staticCount(is))
		hits := map[int]int{}
		most := 0
		for i := range vals {
			vals[i] = g.randIndex(n)
			j := (int(vals[i]) + n) % n
			hits[j]++
			most = max(most, hits[j])
		}
		idx := g.indexConst(is, vals)
		axis := int64(ax - g.r.IntN(2)*len(x.Type.Shape))
		if op == ir.OpGather {
			g.emit(op, ir.Attrs{"axis": axis}, g.bound[x], x, idx)
			return
		}
		us, _, _ := ir.GatherShape(x.Type.Shape, is, axis)
		u := g.leaf(ir.Type{DType: x.Type.DType, Shape: us}, "")
		g.emit(op, ir.Attrs{"axis": axis}, widen(g.bound[x], g.bound[u], float64(most)), x, idx, u)
	case ir.OpGatherElements, ir.OpScatterElements:
		x := g.pickData(1, false)
		axes := constAxes(x.Type.Shape)
		if len(axes) == 0 {
			return
		}
		ax := axes[g.r.IntN(len(axes))]
		n := int(x.Type.Shape[ax].Size)
		is := x.Type.Shape.Clone()
		for i, d := range is {
			if d.IsConst() && i != ax {
				is[i] = ir.C(int64(1 + g.r.IntN(int(d.Size))))
			}
		}
		m := 1 + g.r.IntN(n) // indices along the axis: distinct in each fibre
		is[ax] = ir.C(int64(m))
		st := staticCount(is[ax+1:])
		vals := make([]float64, staticCount(is))
		for f := 0; f < len(vals)/(m*st); f++ {
			for c := 0; c < st; c++ {
				perm := g.r.Perm(n)
				for t := 0; t < m; t++ {
					j := perm[t]
					if g.coin(0.3) {
						j -= n
					}
					vals[(f*m+t)*st+c] = float64(j)
				}
			}
		}
		idx := g.indexConst(is, vals)
		axis := int64(ax - g.r.IntN(2)*len(x.Type.Shape))
		if op == ir.OpGatherElements {
			g.emit(op, ir.Attrs{"axis": axis}, g.bound[x], x, idx)
			return
		}
		u := g.leaf(ir.Type{DType: x.Type.DType, Shape: is}, "")
		g.scatter(op, ir.Attrs{"axis": axis}, x, idx, u)
	case ir.OpGatherND, ir.OpScatterND:
		x := g.pickData(1, false)
		r := len(x.Type.Shape)
		b := 0
		if r >= 2 && g.coin(0.3) {
			b = 1
		}
		m := 0 // the longest tuple over constant dims after the batch dims
		for m < r-b && x.Type.Shape[b+m].IsConst() {
			m++
		}
		if m == 0 {
			return
		}
		m = 1 + g.r.IntN(m)
		dims := rgConcrete(x.Type.Shape)
		total := 1
		for t := 0; t < m; t++ {
			total *= dims[b+t]
		}
		k := 1 + g.r.IntN(min(total, 3)) // distinct tuples, so that scatter's none is well defined
		is := append(x.Type.Shape[:b:b].Clone(), ir.C(int64(k)), ir.C(int64(m)))
		if k == 1 && g.coin(0.3) {
			is = append(x.Type.Shape[:b:b].Clone(), ir.C(int64(m)))
		}
		var vals []float64
		for bb := 0; bb < staticCount(is[:b]); bb++ {
			for _, flat := range g.r.Perm(total)[:k] {
				tuple := make([]float64, m)
				for t := m - 1; t >= 0; t-- {
					j := flat % dims[b+t]
					flat /= dims[b+t]
					if g.coin(0.3) {
						j -= dims[b+t]
					}
					tuple[t] = float64(j)
				}
				vals = append(vals, tuple...)
			}
		}
		idx := g.indexConst(is, vals)
		attrs := ir.Attrs{}
		if b > 0 {
			attrs["batch_dims"] = int64(b)
		}
		if op == ir.OpGatherND {
			g.emit(op, attrs, g.bound[x], x, idx)
			return
		}
		us, _, _ := ir.GatherNDShape(x.Type.Shape, is, int64(b))
		u := g.leaf(ir.Type{DType: x.Type.DType, Shape: us}, "")
		g.scatter(op, attrs, x, idx, u)
	case ir.OpCumSum:
		x := g.pickData(1, false)
		ax := g.r.IntN(len(x.Type.Shape))
		n := float64(rgConcrete(x.Type.Shape)[ax])
		if n*g.bound[x].abs() > rgCap {
			x = g.squash(x)
		}
		g.emit(op, ir.Attrs{"axis": int64(ax), "exclusive": g.coin(0.3), "reverse": g.coin(0.3)},
			rgUnion(scaled(g.bound[x], n), rgBound{0, 0}), x)
	case ir.OpTrilu:
		x := g.pickData(2, false)
		g.emit(op, ir.Attrs{"upper": g.coin(0.5), "k": int64(g.r.IntN(5) - 2)}, rgUnion(g.bound[x], rgBound{0, 0}), x)
	case ir.OpResize, ir.OpResizeGrad:
		x := g.pickData(1, true)
		attrs := ir.Attrs{"mode": ir.ResizeModes[g.r.IntN(3)]}
		modes := ir.ResizeCoordModes[:len(ir.ResizeCoordModes)-1] // not tf_crop_and_resize
		attrs["coordinate_transformation_mode"] = modes[g.r.IntN(len(modes))]
		if attrs["mode"] == "nearest" {
			attrs["nearest_mode"] = ir.ResizeNearestModes[g.r.IntN(4)]
		}
		if attrs["mode"] == "cubic" {
			attrs["cubic_coeff_a"] = []float64{-0.75, -0.5}[g.r.IntN(2)]
			attrs["exclude_outside"] = g.coin(0.5)
		}
		shape := x.Type.Shape.Clone()
		scales := make([]float64, len(shape))
		for i, d := range shape {
			scales[i] = 1
			if d.IsConst() && g.coin(0.6) {
				shape[i] = ir.C(int64(1 + g.r.IntN(5)))
				// resize: from d to shape[i]; resize_grad: the reverse.
				scales[i] = float64(shape[i].Size) / float64(d.Size)
				if op == ir.OpResizeGrad {
					scales[i] = 1 / scales[i]
				}
			}
		}
		attrs["scales"], attrs["shape"] = scales, shape
		// The bound: the largest total |weight| one result element takes.
		weight := 1.0
		for i, d := range shape {
			if !d.IsConst() {
				continue
			}
			in, out := int(x.Type.Shape[i].Size), int(d.Size)
			if op == ir.OpResizeGrad {
				in, out = out, in
			}
			tp := ir.Taps(attrs, i, in, out)
			if tp.Identity {
				continue
			}
			sums := make([]float64, max(in, out))
			for o := 0; o < out; o++ {
				for t := tp.Ptr[o]; t < tp.Ptr[o+1]; t++ {
					if op == ir.OpResize {
						sums[o] += math.Abs(tp.W[t])
					} else {
						sums[tp.Idx[t]] += math.Abs(tp.W[t])
					}
				}
			}
			weight *= slices.Max(sums)
		}
		g.emit(op, attrs, scaled(g.bound[x], weight), x)
	}
}

// scatter emits scatter_elements or scatter_nd with a reduction: none or
// add in smooth graphs (the indices are distinct), any otherwise.
func (g *rgGen) scatter(op string, attrs ir.Attrs, x, idx, u *ir.Value) {
	reds := ir.ScatterReductions[:2]
	if !g.opts.smooth {
		reds = ir.ScatterReductions
	}
	red := reds[g.r.IntN(len(reds))]
	bx, bu := g.bound[x], g.bound[u]
	b := rgUnion(bx, bu)
	switch red {
	case "add":
		b = widen(bx, bu, 1)
	case "mul":
		p := bx.abs() * math.Max(bu.abs(), 1)
		b = rgBound{-p, p}
	}
	if red != "none" || g.coin(0.5) {
		attrs["reduction"] = red
	}
	g.emit(op, attrs, b, x, idx, u)
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
