package interp

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/dlc-project/dlc/ir"
)

// Reference kernels of the data-movement, indexing and reduction ops
// (ir/ops_index.go). Each is the textbook loop over row-major indices;
// indices read from a tensor are checked, and one out of range is an error
// naming it, as ONNX leaves that case undefined.

func init() {
	bodies := map[string]kernelFunc{
		ir.OpReduceMin:       reduceMinProd(true),
		ir.OpReduceProd:      reduceMinProd(false),
		ir.OpArgMax:          argKernel(true),
		ir.OpArgMin:          argKernel(false),
		ir.OpConcat:          concatKernel,
		ir.OpSlice:           sliceKernel,
		ir.OpSliceGrad:       sliceGradKernel,
		ir.OpPad:             padKernel,
		ir.OpPadGrad:         padGradKernel,
		ir.OpGather:          gatherKernel,
		ir.OpScatterAdd:      scatterAddKernel,
		ir.OpGatherElements:  gatherElementsKernel,
		ir.OpScatterElements: scatterElementsKernel,
		ir.OpGatherND:        gatherNDKernel,
		ir.OpScatterND:       scatterNDKernel,
		ir.OpCumSum:          cumsumKernel,
		ir.OpTrilu:           triluKernel,
	}
	for op, body := range bodies {
		Kernels[op] = checked(op, body)
	}
	Kernels[ir.OpTopK] = checkedTuple(ir.OpTopK, topKKernel)
}

// checkedTuple is checked for an op whose result is a tuple: the same
// checks of the node and operands, then each element the body returns is
// compared with its element type and rounded to its dtype.
func checkedTuple(op string, body func(v *ir.Value, args []*Tensor, env *Env) ([]*Tensor, error)) Kernel {
	return func(v *ir.Value, args []*Tensor, env *Env) (*Tensor, error) {
		if v == nil {
			return nil, errors.New("nil node")
		}
		if v.Op != op {
			return nil, fmt.Errorf("the %s kernel was given a %s node", op, v.Op)
		}
		if env == nil {
			env = &Env{}
		}
		if len(args) != len(v.Args) {
			return nil, fmt.Errorf("%d operand values for %d operands", len(args), len(v.Args))
		}
		for i, a := range v.Args {
			if a == nil {
				return nil, fmt.Errorf("operand %d is a nil node", i)
			}
		}
		t, err := ir.InferType(op, v.Args, v.Attrs, nil)
		if err != nil {
			return nil, err
		}
		if !t.Equal(v.Type) {
			return nil, fmt.Errorf("node has type %s, but its op infers %s", v.Type, t)
		}
		for i, a := range args {
			if a == nil {
				return nil, fmt.Errorf("operand %d: nil tensor", i)
			}
			if err := a.check(); err != nil {
				return nil, fmt.Errorf("operand %d: %v", i, err)
			}
			if a.DType != v.Args[i].Type.DType {
				return nil, fmt.Errorf("operand %d: tensor is %s, the operand's type is %s", i, a.DType, v.Args[i].Type)
			}
		}
		elems, err := body(v, args, env)
		if err != nil {
			return nil, err
		}
		if len(elems) != len(v.Type.Elems) {
			return nil, fmt.Errorf("computed %d results for %s", len(elems), v.Type)
		}
		for i, e := range elems {
			shape, err := resolveShape(v.Type.Elems[i], env)
			if err != nil {
				return nil, err
			}
			if e.DType != v.Type.Elems[i].DType || !sameShape(e.Shape, shape) {
				return nil, fmt.Errorf("computed %s%s for result %d, but the node's type %s resolves to %s", e.DType, fmtShape(e.Shape), i, v.Type.Elems[i], fmtShape(shape))
			}
			if err := normalize(e.DType, e.Data); err != nil {
				return nil, fmt.Errorf("result %d %v", i, err)
			}
		}
		return &Tensor{Elems: elems}, nil
	}
}

// axisParts splits shape at axis into outer (dims before), n (the axis) and
// inner (dims after), so that element i along the axis of row (o, c) is at
// o*n*inner + i*inner + c.
func axisParts(shape []int, ax int) (outer, n, inner int) {
	outer, n, inner = 1, shape[ax], 1
	for _, d := range shape[:ax] {
		outer *= d
	}
	for _, d := range shape[ax+1:] {
		inner *= d
	}
	return outer, n, inner
}

// reduceMinProd is reduce_min (min=true) or reduce_prod over the axes, as
// reduce is for sum and max: a NaN wins a min, and the min over no
// elements is an error (the product over none is 1).
func reduceMinProd(min bool) kernelFunc {
	return func(v *ir.Value, args []*Tensor, _ *Env, shape []int) (*Tensor, error) {
		in := args[0]
		axes, err := ir.NormalizeAxes(v.Attrs.Ints("axes"), len(in.Shape))
		if err != nil {
			return nil, err
		}
		kept := append([]int{}, in.Shape...)
		count := 1
		for _, ax := range axes {
			count *= kept[ax]
			kept[ax] = 1
		}
		ost := strides(kept)
		for _, ax := range axes {
			ost[ax] = 0
		}
		out := Zeros(v.Type.DType, shape)
		if min && count == 0 && len(out.Data) > 0 {
			return nil, fmt.Errorf("min over axes %v of shape %s, which hold no elements", axes, fmtShape(in.Shape))
		}
		for i := range out.Data {
			out.Data[i] = 1
			if min {
				out.Data[i] = math.Inf(1)
			}
		}
		k := 0
		forEachIndex(in.Shape, func(idx []int) {
			x, o := in.Data[k], dot(idx, ost)
			k++
			switch {
			case !min:
				out.Data[o] *= x
			case x < out.Data[o] || math.IsNaN(x):
				out.Data[o] = x
			}
		})
		return out, nil
	}
}

// argBetter reports whether x replaces best as the max (or min) found so
// far: NaN beats any number, as in NumPy; on a tie the first index stays
// unless last is set.
func argBetter(x, best float64, max, last bool) bool {
	xn, bn := math.IsNaN(x), math.IsNaN(best)
	switch {
	case xn || bn:
		return xn && (!bn || last)
	case x == best:
		return last
	case max:
		return x > best
	}
	return x < best
}

// argKernel is argmax (max=true) or argmin along axis.
func argKernel(max bool) kernelFunc {
	return func(v *ir.Value, args []*Tensor, _ *Env, shape []int) (*Tensor, error) {
		in := args[0]
		ax, err := normAxisKernel(v, len(in.Shape))
		if err != nil {
			return nil, err
		}
		outer, n, inner := axisParts(in.Shape, ax)
		out := Zeros(ir.I64, shape)
		if n == 0 && outer*inner > 0 {
			return nil, fmt.Errorf("axis %d of shape %s holds no elements", ax, fmtShape(in.Shape))
		}
		last := v.Attrs.Bool("select_last_index", false)
		for o := 0; o < outer; o++ {
			for c := 0; c < inner; c++ {
				base := o*n*inner + c
				best, bi := in.Data[base], 0
				for i := 1; i < n; i++ {
					if x := in.Data[base+i*inner]; argBetter(x, best, max, last) {
						best, bi = x, i
					}
				}
				out.Data[o*inner+c] = float64(bi)
			}
		}
		return out, nil
	}
}

func normAxisKernel(v *ir.Value, rank int) (int, error) {
	axes, err := ir.NormalizeAxes([]int64{v.Attrs.Int("axis", 0)}, rank)
	if err != nil {
		return 0, err
	}
	return axes[0], nil
}

func concatKernel(v *ir.Value, args []*Tensor, _ *Env, shape []int) (*Tensor, error) {
	ax, err := normAxisKernel(v, len(shape))
	if err != nil {
		return nil, err
	}
	out := Zeros(v.Type.DType, shape)
	outer, _, inner := axisParts(shape, ax)
	k := 0
	for o := 0; o < outer; o++ {
		for _, a := range args {
			if len(a.Shape) != len(shape) {
				return nil, fmt.Errorf("operand of shape %s for a result of shape %s", fmtShape(a.Shape), fmtShape(shape))
			}
			m := a.Shape[ax] * inner
			k += copy(out.Data[k:], a.Data[o*m:(o+1)*m])
		}
	}
	if k != len(out.Data) {
		return nil, fmt.Errorf("operands hold %d elements for a result of shape %s", k, fmtShape(shape))
	}
	return out, nil
}

// sliceEntries resolves slice's attributes for an operand of concrete
// shape in: a symbolic dim's whole-dim entry (end ir.SliceWhole) gets the
// dim's size as its end.
func sliceEntries(v *ir.Value, in []int) (starts, steps, outShape []int, err error) {
	s, e, st := v.Attrs.Ints("starts"), v.Attrs.Ints("ends"), v.Attrs.Ints("steps")
	if len(s) != len(in) || len(e) != len(in) || len(st) != len(in) {
		return nil, nil, nil, fmt.Errorf("slice entries for rank %d", len(in))
	}
	for i, n := range in {
		end := e[i]
		if end == ir.SliceWhole && s[i] == 0 && st[i] == 1 {
			end = int64(n)
		}
		d, err := ir.SliceDim(ir.C(int64(n)), s[i], end, st[i])
		if err != nil {
			return nil, nil, nil, fmt.Errorf("dim %d (%d): %v", i, n, err)
		}
		starts, steps, outShape = append(starts, int(s[i])), append(steps, int(st[i])), append(outShape, int(d.Size))
	}
	return starts, steps, outShape, nil
}

// sliceOffsets calls fn with each element of the slice: its index in the
// (row-major) slice and the offset it reads in the operand of shape in.
func sliceOffsets(v *ir.Value, in []int, fn func(k, off int)) ([]int, error) {
	starts, steps, shape, err := sliceEntries(v, in)
	if err != nil {
		return nil, err
	}
	ist := strides(in)
	k := 0
	forEachIndex(shape, func(idx []int) {
		off := 0
		for d, i := range idx {
			off += (starts[d] + i*steps[d]) * ist[d]
		}
		fn(k, off)
		k++
	})
	return shape, nil
}

func sliceKernel(v *ir.Value, args []*Tensor, _ *Env, shape []int) (*Tensor, error) {
	in := args[0]
	out := Zeros(in.DType, shape)
	got, err := sliceOffsets(v, in.Shape, func(k, off int) { out.Data[k] = in.Data[off] })
	if err == nil && !sameShape(got, shape) {
		err = fmt.Errorf("the slice of %s is %s, the node's type says %s", fmtShape(in.Shape), fmtShape(got), fmtShape(shape))
	}
	return out, err
}

func sliceGradKernel(v *ir.Value, args []*Tensor, _ *Env, shape []int) (*Tensor, error) {
	g := args[0]
	out := Zeros(g.DType, shape)
	got, err := sliceOffsets(v, shape, func(k, off int) { out.Data[off] = g.Data[k] })
	if err == nil && !sameShape(got, g.Shape) {
		err = fmt.Errorf("the slice of %s is %s, the operand is %s", fmtShape(shape), fmtShape(got), fmtShape(g.Shape))
	}
	return out, err
}

// PadSource gives, for position p of a padded dim (counted from the
// padded start), the position it copies in the operand dim of size n,
// which pads begin and end pad (negative: crop) with mode; ok is false
// where mode is constant and p lies in the padding.
func PadSource(p, n, begin, end int, mode string) (src int, ok bool) {
	lo := -min(begin, 0)                    // first operand position kept
	kept := n + min(begin, 0) + min(end, 0) // positions kept after cropping
	q := p - max(begin, 0)                  // position within the kept part
	if q >= 0 && q < kept {
		return lo + q, true
	}
	switch mode {
	case "edge":
		q = max(0, min(q, kept-1))
	case "reflect":
		if q < 0 {
			q = -q
		} else {
			q = 2*(kept-1) - q
		}
	default:
		return 0, false
	}
	return lo + q, true
}

// padOffsets calls fn for each element of the padded shape out with the
// offset it copies in the operand of shape in, or -1 for a constant.
func padOffsets(v *ir.Value, in, out []int, fn func(k, off int)) error {
	pads := v.Attrs.Ints("pads")
	r := len(in)
	if len(pads) != 2*r || len(out) != r {
		return fmt.Errorf("pads %v for shapes %s and %s", pads, fmtShape(in), fmtShape(out))
	}
	for d := range in {
		if out[d] != in[d]+int(pads[d]+pads[r+d]) {
			return fmt.Errorf("pads %v take %s to %s, not %s", pads, fmtShape(in), "another shape", fmtShape(out))
		}
	}
	mode := ir.PadMode(v.Attrs)
	ist := strides(in)
	k := 0
	forEachIndex(out, func(idx []int) {
		off := 0
		for d, p := range idx {
			src, ok := PadSource(p, in[d], int(pads[d]), int(pads[r+d]), mode)
			if !ok {
				off = -1
				break
			}
			off += src * ist[d]
		}
		fn(k, off)
		k++
	})
	return nil
}

func padKernel(v *ir.Value, args []*Tensor, _ *Env, shape []int) (*Tensor, error) {
	in := args[0]
	out := Zeros(in.DType, shape)
	value := v.Attrs.Float("value", 0)
	err := padOffsets(v, in.Shape, shape, func(k, off int) {
		if off < 0 {
			out.Data[k] = value
		} else {
			out.Data[k] = in.Data[off]
		}
	})
	return out, err
}

func padGradKernel(v *ir.Value, args []*Tensor, _ *Env, shape []int) (*Tensor, error) {
	g := args[0]
	out := Zeros(g.DType, shape)
	err := padOffsets(v, shape, g.Shape, func(k, off int) {
		if off >= 0 {
			out.Data[off] += g.Data[k]
		}
	})
	return out, err
}

// index reads index element x for a dim of size n: negative counts from
// the end; out of range is an error.
func index(x float64, n int) (int, error) {
	j := int(x)
	if j < 0 {
		j += n
	}
	if j < 0 || j >= n {
		return 0, fmt.Errorf("index %v out of range for a dim of size %d", x, n)
	}
	return j, nil
}

// gatherOffsets calls fn with each element of gather's result (index k)
// and the offset it reads in data.
func gatherOffsets(v *ir.Value, data, indices *Tensor, fn func(k, off int)) ([]int, error) {
	s, ax, err := ir.GatherShape(irShape(data.Shape), irShape(indices.Shape), v.Attrs.Int("axis", 0))
	if err != nil {
		return nil, err
	}
	shape := intShape(s)
	q := len(indices.Shape)
	dst := strides(data.Shape)
	ist := strides(indices.Shape)
	k := 0
	forEachIndex(shape, func(idx []int) {
		if err != nil {
			return
		}
		var j int
		if j, err = index(indices.Data[dot(idx[ax:ax+q], ist)], data.Shape[ax]); err != nil {
			return
		}
		off := j * dst[ax]
		for d := 0; d < ax; d++ {
			off += idx[d] * dst[d]
		}
		for d := ax + 1; d < len(data.Shape); d++ {
			off += idx[d-1+q] * dst[d]
		}
		fn(k, off)
		k++
	})
	return shape, err
}

func gatherKernel(v *ir.Value, args []*Tensor, _ *Env, shape []int) (*Tensor, error) {
	data := args[0]
	out := Zeros(data.DType, shape)
	_, err := gatherOffsets(v, data, args[1], func(k, off int) { out.Data[k] = data.Data[off] })
	return out, err
}

func scatterAddKernel(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
	out, upd := args[0].Clone(), args[2]
	got, err := gatherOffsets(v, args[0], args[1], func(k, off int) { out.Data[off] += upd.Data[k] })
	if err == nil && !sameShape(got, upd.Shape) {
		err = fmt.Errorf("updates of shape %s, gather gives %s", fmtShape(upd.Shape), fmtShape(got))
	}
	return out, err
}

// elementsOffsets calls fn with each element of indices (index k) and the
// offset in data its position, with dim axis replaced by the index, names.
func elementsOffsets(v *ir.Value, data, indices *Tensor, fn func(k, off int)) error {
	ax, err := normAxisKernel(v, len(data.Shape))
	if err != nil {
		return err
	}
	if len(indices.Shape) != len(data.Shape) {
		return fmt.Errorf("indices of shape %s for data of shape %s", fmtShape(indices.Shape), fmtShape(data.Shape))
	}
	dst := strides(data.Shape)
	k := 0
	forEachIndex(indices.Shape, func(idx []int) {
		if err != nil {
			return
		}
		var j int
		if j, err = index(indices.Data[k], data.Shape[ax]); err != nil {
			return
		}
		off := 0
		for d, i := range idx {
			if d == ax {
				i = j
			}
			if i >= data.Shape[d] {
				err = fmt.Errorf("index %v out of range for shape %s", idx, fmtShape(data.Shape))
				return
			}
			off += i * dst[d]
		}
		fn(k, off)
		k++
	})
	return err
}

func gatherElementsKernel(v *ir.Value, args []*Tensor, _ *Env, shape []int) (*Tensor, error) {
	data := args[0]
	out := Zeros(data.DType, shape)
	err := elementsOffsets(v, data, args[1], func(k, off int) { out.Data[k] = data.Data[off] })
	return out, err
}

// ScatterReduce combines the element old of scatter's data with an update
// x under reduction r.
func ScatterReduce(r string, old, x float64) float64 {
	switch r {
	case "add":
		return old + x
	case "mul":
		return old * x
	case "max":
		if x > old || math.IsNaN(x) {
			return x
		}
		return old
	case "min":
		if x < old || math.IsNaN(x) {
			return x
		}
		return old
	}
	return x
}

func scatterElementsKernel(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
	out, upd := args[0].Clone(), args[2]
	if !sameShape(upd.Shape, args[1].Shape) {
		return nil, fmt.Errorf("updates of shape %s for indices of shape %s", fmtShape(upd.Shape), fmtShape(args[1].Shape))
	}
	r := ir.ScatterReduction(v.Attrs)
	err := elementsOffsets(v, args[0], args[1], func(k, off int) { out.Data[off] = ScatterReduce(r, out.Data[off], upd.Data[k]) })
	return out, err
}

// ndOffsets calls fn for each index tuple of gather_nd (number p) with the
// offset of the block of data it selects; inner is the block's size.
func ndOffsets(v *ir.Value, data, indices *Tensor, fn func(p, off, inner int)) (shape []int, err error) {
	b := int(v.Attrs.Int("batch_dims", 0))
	s, m, err := ir.GatherNDShape(irShape(data.Shape), irShape(indices.Shape), int64(b))
	if err != nil {
		return nil, err
	}
	dst := strides(data.Shape)
	q := len(indices.Shape)
	inner := 1
	for _, d := range data.Shape[b+m:] {
		inner *= d
	}
	p := 0
	forEachIndex(indices.Shape[:q-1], func(idx []int) {
		if err != nil {
			return
		}
		off := 0
		for d := 0; d < b; d++ {
			off += idx[d] * dst[d]
		}
		for t := 0; t < m; t++ {
			var j int
			if j, err = index(indices.Data[p*m+t], data.Shape[b+t]); err != nil {
				return
			}
			off += j * dst[b+t]
		}
		fn(p, off, inner)
		p++
	})
	return intShape(s), err
}

func gatherNDKernel(v *ir.Value, args []*Tensor, _ *Env, shape []int) (*Tensor, error) {
	data := args[0]
	out := Zeros(data.DType, shape)
	_, err := ndOffsets(v, data, args[1], func(p, off, inner int) {
		copy(out.Data[p*inner:(p+1)*inner], data.Data[off:off+inner])
	})
	return out, err
}

func scatterNDKernel(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
	out, upd := args[0].Clone(), args[2]
	r := ir.ScatterReduction(v.Attrs)
	got, err := ndOffsets(v, args[0], args[1], func(p, off, inner int) {
		for i := 0; i < inner; i++ {
			out.Data[off+i] = ScatterReduce(r, out.Data[off+i], upd.Data[p*inner+i])
		}
	})
	if err == nil && !sameShape(got, upd.Shape) {
		err = fmt.Errorf("updates of shape %s, gather_nd gives %s", fmtShape(upd.Shape), fmtShape(got))
	}
	return out, err
}

func cumsumKernel(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
	in := args[0]
	ax, err := normAxisKernel(v, len(in.Shape))
	if err != nil {
		return nil, err
	}
	excl, rev := v.Attrs.Bool("exclusive", false), v.Attrs.Bool("reverse", false)
	outer, n, inner := axisParts(in.Shape, ax)
	out := Zeros(in.DType, in.Shape)
	for o := 0; o < outer; o++ {
		for c := 0; c < inner; c++ {
			acc := 0.0
			for t := 0; t < n; t++ {
				i := t
				if rev {
					i = n - 1 - t
				}
				at := o*n*inner + i*inner + c
				if excl {
					out.Data[at] = acc
					acc += in.Data[at]
				} else {
					acc += in.Data[at]
					out.Data[at] = acc
				}
			}
		}
	}
	return out, nil
}

// TopKOrder reports whether element x at index i comes before y at index
// j in top_k's order: larger (or smaller) first, NaN before any number
// when largest (after when smallest), ties by lower index.
func TopKOrder(x float64, i int, y float64, j int, largest bool) bool {
	xn, yn := math.IsNaN(x), math.IsNaN(y)
	switch {
	case xn && yn, x == y:
		return i < j
	case xn:
		return largest
	case yn:
		return !largest
	case largest:
		return x > y
	}
	return x < y
}

func topKKernel(v *ir.Value, args []*Tensor, _ *Env) ([]*Tensor, error) {
	in := args[0]
	ax, err := normAxisKernel(v, len(in.Shape))
	if err != nil {
		return nil, err
	}
	k := int(v.Attrs.Int("k", 0))
	largest, sorted := v.Attrs.Bool("largest", false), v.Attrs.Bool("sorted", false)
	outer, n, inner := axisParts(in.Shape, ax)
	if k < 0 || k > n {
		return nil, fmt.Errorf("k = %d for a dim of %d", k, n)
	}
	shape := append([]int{}, in.Shape...)
	shape[ax] = k
	vals, idxs := Zeros(in.DType, shape), Zeros(ir.I64, shape)
	order := make([]int, n)
	for o := 0; o < outer; o++ {
		for c := 0; c < inner; c++ {
			at := func(i int) float64 { return in.Data[o*n*inner+i*inner+c] }
			for i := range order {
				order[i] = i
			}
			sort.SliceStable(order, func(a, b int) bool { return TopKOrder(at(order[a]), order[a], at(order[b]), order[b], largest) })
			top := order[:k]
			if !sorted {
				sort.Ints(top)
			}
			for t, i := range top {
				vals.Data[o*k*inner+t*inner+c] = at(i)
				idxs.Data[o*k*inner+t*inner+c] = float64(i)
			}
		}
	}
	return []*Tensor{vals, idxs}, nil
}

func triluKernel(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
	in := args[0]
	r := len(in.Shape)
	if r < 2 {
		return nil, fmt.Errorf("rank %d, want >= 2", r)
	}
	rows, cols := in.Shape[r-2], in.Shape[r-1]
	upper, k := v.Attrs.Bool("upper", false), int(v.Attrs.Int("k", 0))
	out := in.Clone()
	for i := range out.Data {
		row, col := i/cols%max(rows, 1), i%cols
		if (upper && col-row < k) || (!upper && col-row > k) {
			out.Data[i] = 0
		}
	}
	return out, nil
}
