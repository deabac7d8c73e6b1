package onnx

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dlc-project/dlc/ir"
)

// Reductions, arg-reductions, Einsum and the losses.

func init() {
	type red struct {
		name, op string
		needs    []string
		pre      func(c *ctx, x *ir.Value) *ir.Value
		post     func(c *ctx, y *ir.Value) *ir.Value
	}
	sq := func(c *ctx, x *ir.Value) *ir.Value { return c.mul(x, x) }
	for _, r := range []red{
		{name: "ReduceSum", op: ir.OpReduceSum},
		{name: "ReduceMean", op: ir.OpReduceMean},
		{name: "ReduceMax", op: ir.OpReduceMax},
		{name: "ReduceMin", op: "reduce_min", needs: []string{"reduce_min"}},
		{name: "ReduceProd", op: "reduce_prod", needs: []string{"reduce_prod"}},
		{name: "ReduceL1", op: ir.OpReduceSum, pre: func(c *ctx, x *ir.Value) *ir.Value { return c.abs(x) }},
		{name: "ReduceL2", op: ir.OpReduceSum, pre: sq, post: func(c *ctx, y *ir.Value) *ir.Value {
			if y.Type.DType.IsInt() {
				return c.cast(c.un(ir.OpSqrt, c.cast(y, ir.F64)), y.Type.DType)
			}
			return c.un(ir.OpSqrt, y)
		}},
		{name: "ReduceSumSquare", op: ir.OpReduceSum, pre: sq},
		{name: "ReduceLogSum", op: ir.OpReduceSum, post: func(c *ctx, y *ir.Value) *ir.Value { return c.un(ir.OpLog, y) }},
		{name: "ReduceLogSumExp", op: ir.OpReduceSum,
			pre:  func(c *ctx, x *ir.Value) *ir.Value { return c.un(ir.OpExp, x) },
			post: func(c *ctx, y *ir.Value) *ir.Value { return c.un(ir.OpLog, y) }},
	} {
		r := r
		reg(r.name, 1, r.needs, one(func(n *node) (*ir.Value, error) {
			c, x := n.c, n.in[0]
			axes, _, err := n.axesOf(1)
			if err != nil {
				return nil, err
			}
			keep, err := n.int("keepdims", 1)
			if err != nil {
				return nil, err
			}
			noop, err := n.int("noop_with_empty_axes", 0)
			if err != nil {
				return nil, err
			}
			if len(axes) == 0 {
				if noop != 0 {
					return x, nil
				}
				axes = iota64(rank(x))
			}
			if r.pre != nil {
				x = r.pre(c, x)
			}
			y := c.reduce(r.op, x, axes, keep != 0)
			if r.post != nil {
				y = r.post(c, y)
			}
			return y, nil
		}))
	}
	for _, a := range []struct{ name, op string }{{"ArgMax", "argmax"}, {"ArgMin", "argmin"}} {
		a := a
		reg(a.name, 1, []string{a.op}, one(func(n *node) (*ir.Value, error) {
			axis, err := n.int("axis", 0)
			if err != nil {
				return nil, err
			}
			if axis, err = normAxis(axis, rank(n.in[0])); err != nil {
				return nil, err
			}
			keep, err := n.int("keepdims", 1)
			if err != nil {
				return nil, err
			}
			last, err := n.int("select_last_index", 0)
			if err != nil {
				return nil, err
			}
			return n.c.op(a.op, ir.Attrs{"axis": axis, "keepdims": keep != 0, "select_last_index": last != 0}, n.in[0]), nil
		}))
	}
	reg("Einsum", 1, nil, one(einsum))
	reg("NegativeLogLikelihoodLoss", 2, nil, func(n *node) ([]*ir.Value, error) {
		loss, err := nll(n, n.in[0])
		return []*ir.Value{loss}, err
	})
	reg("SoftmaxCrossEntropyLoss", 2, nil, func(n *node) ([]*ir.Value, error) {
		x := n.in[0]
		if rank(x) < 2 {
			return nil, fmt.Errorf("scores must be [N, C, ...], are %s", x.Type.Shape)
		}
		lp := n.c.op(ir.OpLogSoftmax, ir.Attrs{"axis": int64(1)}, x)
		loss, err := nll(n, lp)
		return []*ir.Value{loss, lp}, err
	})
}

// nll is NegativeLogLikelihoodLoss of log-probabilities x [N, C, d...]
// against targets n.in[1] [N, d...], with optional class weights n.in[2].
func nll(n *node, x *ir.Value) (*ir.Value, error) {
	c, t := n.c, n.in[1]
	red, err := n.str("reduction", "mean")
	if err != nil {
		return nil, err
	}
	if rank(x) < 2 || rank(t) != rank(x)-1 {
		return nil, fmt.Errorf("input %s and target %s must be [N, C, d...] and [N, d...]", x.Type.Shape, t.Type.Shape)
	}
	if !t.Type.DType.IsInt() {
		return nil, fmt.Errorf("target must be integers, is %s", t.Type.DType)
	}
	cls := x.Type.Shape[1]
	if !cls.IsConst() {
		return nil, fmt.Errorf("the class dim must be constant")
	}
	r := rank(x)
	ts := make(ir.Shape, 0, r)
	ts = append(ts, t.Type.Shape[0], ir.C(1))
	ts = append(ts, t.Type.Shape[1:]...)
	ti := c.reshape(c.cast(t, ir.I64), ts)
	is := make(ir.Shape, r)
	for i := range is {
		is[i] = ir.C(1)
	}
	is[1] = cls
	iota := c.reshape(c.constInts(iota64(int(cls.Size))), is)
	mask := c.cast(c.op(ir.OpEqual, nil, ti, iota), x.Type.DType) // one-hot of the target
	picked := c.reduce(ir.OpReduceSum, c.mul(x, mask), []int64{1}, false)
	var wt *ir.Value // the weight of each element's target
	if w := n.arg(2); w != nil {
		wt = c.reduce(ir.OpReduceSum, c.mul(c.reshape(w, is), mask), []int64{1}, false)
	}
	if n.has("ignore_index") {
		ig, err := n.int("ignore_index", 0)
		if err != nil {
			return nil, err
		}
		isIg := c.op(ir.OpEqual, nil, c.cast(t, ir.I64), c.scalar(ir.I64, float64(ig)))
		ok := c.sel(isIg, c.like(x, 0), c.like(x, 1))
		if wt == nil {
			wt = ok
		} else {
			wt = c.mul(wt, ok)
		}
	}
	loss := c.un(ir.OpNeg, picked)
	if wt != nil {
		loss = c.mul(loss, wt)
	}
	all := iota64(rank(loss))
	switch red {
	case "none":
		return loss, nil
	case "sum":
		return c.reduce(ir.OpReduceSum, loss, all, false), nil
	case "mean":
		if wt == nil {
			return c.reduce(ir.OpReduceMean, loss, all, false), nil
		}
		return c.div(c.reduce(ir.OpReduceSum, loss, all, false), c.reduce(ir.OpReduceSum, wt, all, false)), nil
	}
	return nil, fmt.Errorf("reduction %q is not none, sum or mean", red)
}

// einsum handles the contraction forms models use: each operand's letters
// distinct (no diagonals), no ellipsis. Operands are laid out over all
// letters (1 where a letter is absent), multiplied with broadcasting,
// summed over the letters not in the output and transposed to its order.
func einsum(n *node) (*ir.Value, error) {
	c := n.c
	eq, err := n.str("equation", "")
	if err != nil {
		return nil, err
	}
	eq = strings.ReplaceAll(eq, " ", "")
	if strings.Contains(eq, "...") {
		return nil, unsupported("equation %q: ellipsis is not supported", eq)
	}
	lhs, out, explicit := strings.Cut(eq, "->")
	terms := strings.Split(lhs, ",")
	if len(terms) != len(n.in) {
		return nil, fmt.Errorf("equation %q has %d operands, the node %d", eq, len(terms), len(n.in))
	}
	var letters []byte
	count := map[byte]int{}
	dim := map[byte]ir.Dim{}
	for i, t := range terms {
		x := n.in[i]
		if len(t) != rank(x) {
			return nil, fmt.Errorf("equation %q: term %q for an operand of rank %d", eq, t, rank(x))
		}
		seen := map[byte]bool{}
		for j := 0; j < len(t); j++ {
			l := t[j]
			if !(l >= 'a' && l <= 'z' || l >= 'A' && l <= 'Z') {
				return nil, fmt.Errorf("equation %q: bad letter %q", eq, l)
			}
			if seen[l] {
				return nil, unsupported("equation %q: repeated index %q in one operand (diagonals) is not supported", eq, l)
			}
			seen[l] = true
			if _, ok := dim[l]; !ok {
				letters = append(letters, l)
				dim[l] = x.Type.Shape[j]
			} else if d := x.Type.Shape[j]; d != dim[l] && d != ir.C(1) && dim[l] != ir.C(1) {
				return nil, fmt.Errorf("equation %q: index %q is %s and %s", eq, l, dim[l], d)
			} else if dim[l] == ir.C(1) {
				dim[l] = d
			}
			count[l]++
		}
	}
	if !explicit {
		var once []byte
		for _, l := range letters {
			if count[l] == 1 {
				once = append(once, l)
			}
		}
		sort.Slice(once, func(i, j int) bool { return once[i] < once[j] })
		out = string(once)
	}
	for j := 0; j < len(out); j++ {
		if _, ok := dim[out[j]]; !ok || strings.Count(out, out[j:j+1]) > 1 {
			return nil, fmt.Errorf("equation %q: bad output index %q", eq, out[j])
		}
	}
	pos := map[byte]int{}
	for i, l := range letters {
		pos[l] = i
	}
	var acc *ir.Value
	for i, t := range terms {
		x := n.in[i]
		// Transpose x's letters into the global order, then insert 1s.
		idx := make([]int, len(t))
		for j := range idx {
			idx[j] = j
		}
		sort.Slice(idx, func(a, b int) bool { return pos[t[idx[a]]] < pos[t[idx[b]]] })
		perm := make([]int64, len(idx))
		for j, k := range idx {
			perm[j] = int64(k)
		}
		x = c.transpose(x, perm)
		full := make(ir.Shape, len(letters))
		for j := range full {
			full[j] = ir.C(1)
		}
		for _, k := range idx {
			full[pos[t[k]]] = n.in[i].Type.Shape[k]
		}
		x = c.reshape(x, full)
		if acc == nil {
			acc = x
		} else {
			acc = c.mul(acc, x)
		}
	}
	var sum []int64
	var kept []byte
	for i, l := range letters {
		if !strings.ContainsRune(out, rune(l)) {
			sum = append(sum, int64(i))
		} else {
			kept = append(kept, l)
		}
	}
	if len(sum) > 0 {
		acc = c.reduce(ir.OpReduceSum, acc, sum, false)
	}
	// Broadcast dims of size 1 the product left (an index present with
	// size 1 in every operand needs no change).
	want := make(ir.Shape, len(kept))
	for i, l := range kept {
		want[i] = dim[l]
	}
	acc = c.broadcast(acc, want)
	perm := make([]int64, len(out))
	for i := 0; i < len(out); i++ {
		perm[i] = int64(strings.IndexByte(string(kept), out[i]))
	}
	return c.transpose(acc, perm), nil
}
