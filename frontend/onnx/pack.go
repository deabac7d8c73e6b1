package onnx

import (
	"fmt"

	"github.com/dlc-project/dlc/ir"
)

// PackedBatch is the batch symbol of a packed module.
const PackedBatch = "N"

// Pack rewrites an imported model with static input shapes into the form
// the Go backend compiles today: predict takes one f32[N, I] and returns
// one f32[N, O], where I is the total number of elements of the graph's
// inputs and O of its outputs, each flattened and converted to f32 and
// laid end to end in graph order (I is 0 for a model without inputs). It
// is meant for N = 1: the inputs are the sum over the batch (the identity
// for one sample), and every sample of the result is the same. dlc onnx-test runs the node tests on the Go
// backend this way; it needs the IR ops slice (several inputs) and concat
// (several outputs), and every value of the graph must be a float (f32, f64,
// f16, bf16), bool or an integer (the backend stores integers as float32,
// exact below 2^24, computes f64 in float64 and f16, bf16 in float64
// rounded once to the dtype; such inputs and outputs travel as f32 and are
// cast inside).
func Pack(m *Model) (*ir.Module, error) {
	f := m.Module.Func(PredictFunc)
	if f == nil {
		return nil, fmt.Errorf("no function %s", PredictFunc)
	}
	goType := func(t ir.Type, what string) error {
		// Integers travel as float32 (the Go backend's storage; it refuses
		// the integer computations it cannot do exactly), as do f64, f16
		// and bf16 inputs and outputs (cast inside the model, which
		// computes f64 in float64 and f16, bf16 in float64 rounded once to
		// the dtype).
		if !t.DType.IsFloat() && t.DType != ir.Bool && !t.DType.IsInt() {
			return fmt.Errorf("%s is %s: the Go backend stores only floats, bool and integers", what, t)
		}
		if !t.Shape.IsStatic() {
			return fmt.Errorf("%s has symbolic dims (%s)", what, t)
		}
		return nil
	}
	for i, p := range f.Params {
		if err := goType(p.Type, fmt.Sprintf("input %d", i)); err != nil {
			return nil, err
		}
	}
	for i, v := range f.Body {
		ts := []ir.Type{v.Type}
		if v.Type.IsTuple() {
			ts = v.Type.Elems
		}
		for _, t := range ts {
			if err := goType(t, fmt.Sprintf("value %%%d (%s)", i, v.Op)); err != nil {
				return nil, err
			}
		}
	}
	if _, ok := ir.LookupOp("slice"); !ok && len(f.Params) > 1 {
		return nil, fmt.Errorf("several inputs need the IR op slice, not in this build")
	}
	if _, ok := ir.LookupOp("concat"); !ok && len(f.Results) > 1 {
		return nil, fmt.Errorf("several outputs need the IR op concat, not in this build")
	}
	nm := &ir.Module{Name: m.Module.Name, Weights: m.Module.Weights}
	b := ir.NewFunc(nm, PredictFunc)
	total := int64(0)
	for _, p := range f.Params {
		n, _ := p.Type.Shape.NumElements()
		total += n
	}
	x := b.Param("x", ir.TensorOf(ir.F32, ir.S(PackedBatch), ir.C(total)))
	// A model without inputs (a Constant node) still gets x, of zero
	// elements per sample, which nothing reads.
	var flat *ir.Value
	if len(f.Params) > 0 {
		flat = b.ReduceSum(x, []int64{0}, false)
	}
	vals := map[*ir.Value]*ir.Value{}
	off := int64(0)
	for _, p := range f.Params {
		n, _ := p.Type.Shape.NumElements()
		v := flat
		if len(f.Params) > 1 {
			v = b.Op("slice", ir.Attrs{"starts": []int64{off}, "ends": []int64{off + n}, "steps": []int64{1}}, flat)
		}
		v = b.Reshape(v, p.Type.Shape)
		if p.Type.DType != ir.F32 {
			v = b.Op(ir.OpCast, ir.Attrs{"to": p.Type.DType}, v)
		}
		vals[p] = v
		off += n
	}
	for _, v := range f.Body {
		nv := &ir.Value{Op: v.Op, Attrs: v.Attrs.Clone(), Type: v.Type}
		for _, a := range v.Args {
			nv.Args = append(nv.Args, vals[a])
		}
		b.Fn.Body = append(b.Fn.Body, nv)
		vals[v] = nv
	}
	var outs []*ir.Value
	size := int64(0)
	for _, r := range f.Results {
		v := vals[r]
		if v.Type.DType != ir.F32 {
			v = b.Op(ir.OpCast, ir.Attrs{"to": ir.F32}, v)
		}
		n, _ := v.Type.Shape.NumElements()
		outs = append(outs, b.Reshape(v, ir.ShapeOf(n)))
		size += n
	}
	out := outs[0]
	if len(outs) > 1 {
		out = b.Op("concat", ir.Attrs{"axis": int64(0)}, outs...)
	}
	out = b.BroadcastTo(b.Reshape(out, ir.ShapeOf(1, size)), ir.Shape{ir.S(PackedBatch), ir.C(size)})
	b.Return([]string{"y"}, out)
	if err := b.Err(); err != nil {
		return nil, err
	}
	if err := ir.Verify(nm); err != nil {
		return nil, fmt.Errorf("the packed module does not verify: %v", err)
	}
	return nm, nil
}
