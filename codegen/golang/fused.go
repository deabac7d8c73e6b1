package golang

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/dave/jennifer/jen"
	"github.com/dlc-project/dlc/ir"
)

// Fused nodes.
//
// A fused node (made by passes.Fuse) calls a region function; ir/interp
// evaluates the region on the operands. The backend runs it as fused
// kernels, by kind:
//
//   - elementwise: one loop nest over the domain (the shape of every
//     member); each iteration loads the operands' elements, computes every
//     member into a local and stores the region's results (emitFusedLoop);
//   - matmul: runtime.Sgemm writes the product into an output buffer, then
//     one loop nest over the product's shape runs the rest of the region
//     (the epilogue) as for elementwise;
//   - rows: one pass per row of the domain [rows..., cols] (rows.go).
//
// Each member's value is rounded as the unfused kernel of its op rounds it
// (to float32, bools to 0/1), so fused and unfused code compute the same
// bits. A fused node whose region does not have the form its kind's kernel
// expects is inlined instead (lower): its members become ordinary nodes.

// fusedNode is a fused node that runs as fused kernels.
type fusedNode struct {
	region *ir.Func
	kind   string
	index  map[*ir.Value]int // region body index of each member and constant
	param  map[*ir.Value]int // operand index of each region parameter
	domain ir.Shape          // elementwise and rows: the loop domain; matmul: the product's shape
	mm     *ir.Value         // matmul: the region's product
	ctx    map[*ir.Value]rowCtx
}

// lower returns a copy of f in which every fused node that the backend
// runs fused stays (described in the map returned) and every other one
// (all of them with NoFuse) is replaced by the nodes of its region, its
// extracts by the region's results. f itself is not modified.
func (g *gen) lower(f *ir.Func) (*ir.Func, map[*ir.Value]*fusedNode) {
	nf := &ir.Func{Name: f.Name, ResultNames: f.ResultNames}
	mapped := map[*ir.Value]*ir.Value{}
	inlined := map[*ir.Value][]*ir.Value{} // inlined fused node -> its results
	fused := map[*ir.Value]*fusedNode{}
	for _, p := range f.Params {
		np := &ir.Value{Op: ir.OpParam, Name: p.Name, Type: p.Type}
		nf.Params = append(nf.Params, np)
		mapped[p] = np
	}
	args := func(vs []*ir.Value, m map[*ir.Value]*ir.Value) []*ir.Value {
		out := make([]*ir.Value, len(vs))
		for i, a := range vs {
			out[i] = m[a]
		}
		return out
	}
	for _, v := range f.Body {
		if v.Op == ir.OpExtract {
			if res, ok := inlined[v.Args[0]]; ok {
				mapped[v] = res[v.Attrs.Int("index", 0)]
				continue
			}
		}
		if v.Op == ir.OpFused {
			fn, err := analyzeFused(g.mod, v)
			if g.noFuse || err != nil {
				r := g.mod.Func(v.Attrs.String("region", ""))
				rm := map[*ir.Value]*ir.Value{}
				for i, p := range r.Params {
					rm[p] = mapped[v.Args[i]]
				}
				for _, n := range r.Body {
					nn := &ir.Value{Op: n.Op, Args: args(n.Args, rm), Attrs: n.Attrs, Type: n.Type}
					nf.Body = append(nf.Body, nn)
					rm[n] = nn
				}
				res := args(r.Results, rm)
				if len(res) == 1 && !v.Type.IsTuple() {
					mapped[v] = res[0]
				} else {
					inlined[v] = res
				}
				continue
			}
			nv := &ir.Value{Op: v.Op, Args: args(v.Args, mapped), Attrs: v.Attrs, Type: v.Type}
			nf.Body = append(nf.Body, nv)
			mapped[v] = nv
			fused[nv] = fn
			continue
		}
		nv := &ir.Value{Op: v.Op, Args: args(v.Args, mapped), Attrs: v.Attrs, Type: v.Type, Name: v.Name}
		nf.Body = append(nf.Body, nv)
		mapped[v] = nv
	}
	nf.Results = args(f.Results, mapped)
	for _, u := range f.Updates {
		nf.Updates = append(nf.Updates, ir.Update{Weight: u.Weight, Value: mapped[u.Value]})
	}
	return nf, fused
}

// elementwiseLike reports whether v is computed element by element over
// its own shape: an elementwise op or a broadcast.
func elementwiseLike(v *ir.Value) bool {
	return ir.IsElementwise(v.Op) || v.Op == ir.OpBroadcast
}

// analyzeFused checks that fused node v's region has the form the kernel
// of its kind runs; an error says why not (the node is then inlined).
func analyzeFused(m *ir.Module, v *ir.Value) (*fusedNode, error) {
	r := m.Func(v.Attrs.String("region", ""))
	if r == nil || !r.Region || len(r.Params) != len(v.Args) {
		return nil, errors.New("no such region")
	}
	fn := &fusedNode{region: r, kind: v.Attrs.String("kind", ""), index: map[*ir.Value]int{}, param: map[*ir.Value]int{}}
	for i, p := range r.Params {
		fn.param[p] = i
		if err := checkOperandType(p.Type); err != nil {
			return nil, err
		}
	}
	for i, n := range r.Body {
		fn.index[n] = i
		if err := checkValueType(n, n.Type); err != nil {
			return nil, err
		}
		if err := checkF64(n); err != nil {
			return nil, err
		}
		if n.Op == ir.OpConstant && len(n.Attrs.Floats("value")) != 1 {
			return nil, errors.New("a constant in the region holds more than one value")
		}
	}
	seen := map[*ir.Value]bool{}
	for _, res := range r.Results {
		if _, ok := fn.index[res]; !ok || res.Op == ir.OpConstant || seen[res] {
			return nil, errors.New("a result is not a member computed by the region, or appears twice")
		}
		seen[res] = true
	}
	var members []*ir.Value
	for _, n := range r.Body {
		if n.Op != ir.OpConstant {
			members = append(members, n)
		}
	}
	if len(members) == 0 {
		return nil, errors.New("the region computes nothing")
	}
	switch fn.kind {
	case ir.FuseElementwise:
		fn.domain = members[0].Type.Shape
		for _, n := range members {
			switch {
			case !elementwiseLike(n):
				return nil, fmt.Errorf("member %s is not elementwise", n.Op)
			case !n.Type.Shape.Equal(fn.domain):
				return nil, fmt.Errorf("member %s has shape %s, not the domain %s", n.Op, n.Type.Shape, fn.domain)
			}
		}
	case ir.FuseMatMul:
		for _, n := range members {
			switch {
			case n.Op == ir.OpMatMul && fn.mm == nil:
				fn.mm = n
			case !elementwiseLike(n):
				return nil, fmt.Errorf("member %s is not elementwise", n.Op)
			}
		}
		if fn.mm == nil || len(fn.mm.Type.Shape) != 2 {
			return nil, errors.New("no 2-D matmul")
		}
		for _, a := range fn.mm.Args {
			if _, ok := fn.param[a]; !ok {
				return nil, errors.New("the matmul's operands are not operands of the fused node")
			}
		}
		fn.domain = fn.mm.Type.Shape
		for _, n := range members {
			if !n.Type.Shape.Equal(fn.domain) {
				return nil, fmt.Errorf("member %s is not over the product's shape", n.Op)
			}
		}
	case ir.FuseRows:
		if err := fn.analyzeRows(members); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown fusion kind %q", fn.kind)
	}
	return fn, nil
}

// planFused emits the kernels of fused node i of fp and makes its output
// buffers (one per region result).
func (g *gen) planFused(fp *fnPlan, i int, v *ir.Value) error {
	fn := fp.fused[v]
	r := fn.region
	desc := describe(fp.f, i, v)
	name := fp.prefix + "Node" + strconv.Itoa(i)
	outs := make([]*valPlan, len(r.Results))
	for j, res := range r.Results {
		label := "%" + strconv.Itoa(i)
		if len(r.Results) > 1 {
			label += "." + strconv.Itoa(j)
		}
		outs[j] = fp.newBuf(v, label, res.Type, i)
	}
	if v.Type.IsTuple() {
		fp.tuples[v] = outs
	} else {
		fp.vals[v] = outs[0]
	}
	ins := make([]*valPlan, len(v.Args))
	for j, a := range v.Args {
		ins[j] = fp.vals[a]
	}
	// loopDonors are the operands of the domain's shape that only the
	// loop reads (element for element, at the index it writes).
	loopDonors := func(readByMatMul map[*ir.Value]bool) []*valPlan {
		var ds []*valPlan
		for j, p := range r.Params {
			if p.Type.Shape.Equal(fn.domain) && !readByMatMul[p] {
				ds = append(ds, ins[j])
			}
		}
		return ds
	}
	// donate offers the loop's donors to every output but skip.
	donate := func(skip *valPlan, readByMatMul map[*ir.Value]bool) {
		for _, o := range outs {
			if o != skip {
				o.donors = append(o.donors, loopDonors(readByMatMul)...)
			}
		}
	}
	switch fn.kind {
	case ir.FuseElementwise:
		k := g.newKernel(fp, i, v, name, desc)
		k.ins, k.outs, k.nOut = ins, outs, len(outs)
		k.emitFusedLoop(fn.elementwiseLoop())
		donate(nil, nil)
	case ir.FuseMatMul:
		// The product goes to its own output buffer if it is a result,
		// else to output 0, which the epilogue then overwrites element by
		// element (each iteration loads before it stores).
		target, isResult := outs[0], false
		for j, res := range r.Results {
			if res == fn.mm {
				target, isResult = outs[j], true
			}
		}
		ownBuf := !isResult && dtypeSlots(fn.mm.Type.DType) != dtypeSlots(target.dtype())
		if ownBuf {
			// An f64 product cannot go through an f32 output: it gets
			// a buffer of its own, which the epilogue reads.
			target = fp.newBuf(v, "%"+strconv.Itoa(i)+".mm", fn.mm.Type, i)
		}
		mk := g.newKernel(fp, i, fn.mm, name+"MatMul", "the product of "+desc)
		mk.ins = []*valPlan{ins[fn.param[fn.mm.Args[0]]], ins[fn.param[fn.mm.Args[1]]]}
		mk.outs, mk.nOut = []*valPlan{target}, 1
		if err := emitMatMul(mk); err != nil {
			return err
		}
		// The epilogue: a loop over the product, run by the GEMM on each
		// block of rows it finishes (fuseEpilogue), or after it.
		readByMatMul := map[*ir.Value]bool{fn.mm.Args[0]: true, fn.mm.Args[1]: true}
		if loop, ok := fn.epilogueLoop(len(ins)); ok {
			k := g.newKernel(fp, i, v, name, "the epilogue of "+desc)
			k.ins, k.outs, k.nOut = append(append([]*valPlan(nil), ins...), target), outs, len(outs)
			k.emitFusedLoop(loop)
			g.fuseEpilogue(mk, k)
			if !isResult && !ownBuf {
				fp.mmTargets[v] = &mmTarget{mk: mk, ek: k, donors: loopDonors(readByMatMul)}
			}
		}
		donate(target, readByMatMul)
	case ir.FuseRows:
		k := g.newKernel(fp, i, v, name, desc)
		k.ins, k.outs, k.nOut = ins, outs, len(outs)
		k.emitRows(fn)
		// Scratch rows: written and read by this kernel only.
		for j := range k.tmpSizes {
			label := "%" + strconv.Itoa(i) + ".tmp" + strconv.Itoa(j)
			k.tmps = append(k.tmps, fp.newBuf(v, label, ir.Type{DType: k.tmpDType(j), Shape: fn.domain}, i))
		}
	}
	return nil
}

// loopInput is a value a fused loop reads from a buffer: kernel operand
// buf, read with one stride per domain dim.
type loopInput struct {
	val     *ir.Value
	buf     int
	strides []mono
}

// loopStore writes a region value to kernel output out.
type loopStore struct {
	val *ir.Value
	out int
}

// fusedLoop is one elementwise loop nest of a fused node.
type fusedLoop struct {
	fn      *fusedNode
	dims    []mono
	inputs  []loopInput
	members []*ir.Value // computed in this order
	stores  []loopStore
}

// needed returns the region values the given results depend on.
func needed(results []*ir.Value) map[*ir.Value]bool {
	need := map[*ir.Value]bool{}
	var walk func(v *ir.Value)
	walk = func(v *ir.Value) {
		if need[v] {
			return
		}
		need[v] = true
		for _, a := range v.Args {
			walk(a)
		}
	}
	for _, r := range results {
		walk(r)
	}
	return need
}

// elementwiseLoop is the loop of an elementwise region: every operand read
// with its broadcast strides, every result stored.
func (fn *fusedNode) elementwiseLoop() fusedLoop {
	r := fn.region
	need := needed(r.Results)
	l := fusedLoop{fn: fn, dims: shapeMonos(fn.domain)}
	for j, p := range r.Params {
		if need[p] {
			l.inputs = append(l.inputs, loopInput{val: p, buf: j, strides: broadcastStrides(p.Type.Shape, fn.domain)})
		}
	}
	for _, n := range r.Body {
		if n.Op != ir.OpConstant && need[n] {
			l.members = append(l.members, n)
		}
	}
	for j, res := range r.Results {
		l.stores = append(l.stores, loopStore{val: res, out: j})
	}
	return l
}

// epilogueLoop is the loop after a region's product: the product is read
// from kernel operand target (its buffer, contiguous); it reports false
// when there is nothing left to compute.
func (fn *fusedNode) epilogueLoop(target int) (fusedLoop, bool) {
	r := fn.region
	need := needed(r.Results)
	l := fusedLoop{fn: fn, dims: shapeMonos(fn.domain)}
	for j, p := range r.Params {
		if need[p] && usedBesides(r, p, fn.mm) {
			l.inputs = append(l.inputs, loopInput{val: p, buf: j, strides: broadcastStrides(p.Type.Shape, fn.domain)})
		}
	}
	l.inputs = append(l.inputs, loopInput{val: fn.mm, buf: target, strides: contiguous(l.dims)})
	for _, n := range r.Body {
		if n.Op != ir.OpConstant && n != fn.mm && need[n] {
			l.members = append(l.members, n)
		}
	}
	for j, res := range r.Results {
		if res != fn.mm {
			l.stores = append(l.stores, loopStore{val: res, out: j})
		}
	}
	return l, len(l.stores) > 0
}

// usedBesides reports whether some node of r other than skip reads v.
func usedBesides(r *ir.Func, v, skip *ir.Value) bool {
	for _, n := range r.Body {
		if n == skip {
			continue
		}
		for _, a := range n.Args {
			if a == v {
				return true
			}
		}
	}
	return false
}

// emitFusedLoop emits a fused loop nest. Dims are merged as emitMap merges
// them; operands read with all-zero strides are loaded once before the
// loops, splat constants are locals set before the loops. Each iteration
// first loads every operand element it needs, then computes the members
// into locals, then stores the results: a result may therefore be written
// over an operand read at the same index (the memory planner's in-place
// reuse).
func (k *kernel) emitFusedLoop(l fusedLoop) {
	strides := make([][]mono, len(l.inputs))
	for j, in := range l.inputs {
		strides[j] = in.strides
	}
	ds := mergeDims(l.dims, strides)
	sizes := make([]mono, len(ds))
	vars := make([]string, len(ds))
	outStrides := make([]mono, len(ds))
	for d := range ds {
		sizes[d], vars[d], outStrides[d] = ds[d].size, "i"+strconv.Itoa(d), ds[d].out
	}
	k.rows, k.work = ds[0].size, product(sizes)
	if chunk, ok := vecPlan(l, ds); ok && !k.g.noVector {
		k.emitFusedLoopVec(l, ds, chunk)
		return
	}

	names := map[*ir.Value]string{}
	var pre, loads, comp, stores []jen.Code
	pre = append(pre, k.declConsts(l.fn, l.members)...)
	for c, name := range constNames(l.fn, l.members) {
		names[c] = name
	}
	for j, in := range l.inputs {
		scalar := true
		st := make([]mono, len(ds))
		for d := range ds {
			st[d] = ds[d].in[j]
			scalar = scalar && st[d].isZero()
		}
		if scalar {
			names[in.val] = "s" + strconv.Itoa(j)
			pre = append(pre, jen.Id(names[in.val]).Op(":=").Add(k.x(in.buf)).Index(jen.Lit(0)))
			continue
		}
		names[in.val] = "a" + strconv.Itoa(j)
		loads = append(loads, jen.Id(names[in.val]).Op(":=").Add(k.x(in.buf)).Index(k.index(vars, st)))
	}
	for _, m := range l.members {
		name := "v" + strconv.Itoa(l.fn.index[m])
		comp = append(comp, jen.Id(name).Op(":=").Add(k.memberExpr(m, refs(m.Args, names))))
		names[m] = name
	}
	for _, s := range l.stores {
		stores = append(stores, k.out(s.out).Index(k.index(vars, outStrides)).Op("=").Id(names[s.val]))
	}
	inner := append(append(loads, comp...), stores...)
	var stmt jen.Code
	for d := len(ds) - 1; d >= 0; d-- {
		from, to := jen.Code(jen.Id("lo")), jen.Code(jen.Id("hi"))
		if d > 0 {
			from, to = jen.Lit(0), k.n(ds[d].size)
		}
		stmt = loop(vars[d], from, to, inner...)
		inner = []jen.Code{stmt}
	}
	k.body = append(k.body, pre...)
	k.body = append(k.body, stmt)
}

// refs renders the values vs by their local names.
func refs(vs []*ir.Value, names map[*ir.Value]string) []*jen.Statement {
	out := make([]*jen.Statement, len(vs))
	for i, v := range vs {
		out[i] = jen.Id(names[v])
	}
	return out
}

// constNames names the splat constants that members read: c<index>.
func constNames(fn *fusedNode, members []*ir.Value) map[*ir.Value]string {
	out := map[*ir.Value]string{}
	for _, m := range members {
		for _, a := range m.Args {
			if a.Op == ir.OpConstant {
				out[a] = "c" + strconv.Itoa(fn.index[a])
			}
		}
	}
	return out
}

// declConsts declares, in region order, the splat constants that members
// read, as float32 locals: arithmetic on them is then float32 arithmetic
// (Go would evaluate an expression of constants exactly).
func (k *kernel) declConsts(fn *fusedNode, members []*ir.Value) []jen.Code {
	used := constNames(fn, members)
	var out []jen.Code
	for _, n := range fn.region.Body {
		name, ok := used[n]
		if !ok {
			continue
		}
		out = append(out, jen.Id(name).Op(":=").Add(typedLit(n.Type.DType, n.Attrs.Floats("value")[0])))
	}
	return out
}

// typedF32 renders x as a float32 expression.
func typedF32(x float32) jen.Code {
	if y := float64(x); math.IsNaN(y) || math.IsInf(y, 0) || (y == 0 && math.Signbit(y)) {
		return f32Lit(x) // already a float32 conversion
	}
	return jen.Float32().Call(f32Lit(x))
}

// memberExpr renders the value of an elementwise member from its operands'
// values, rounded as the unfused kernel rounds it. Arithmetic is wrapped
// in a float32 conversion, which also keeps the Go compiler from fusing a
// multiply and an add of consecutive members into one FMA (the unfused
// kernels round each op).
func (k *kernel) memberExpr(m *ir.Value, xs []*jen.Statement) *jen.Statement {
	if isIntArith(m) {
		return intArithElem(m)(k, xs)
	}
	if m.Op != ir.OpCast && m.Op != ir.OpBroadcast && isNarrowNode(m) {
		return narrowElem(m)(k, xs)
	}
	if m.Op != ir.OpCast && m.Op != ir.OpBroadcast && touchesF64(m) {
		return k.f64MemberExpr(m, xs)
	}
	if f, ok := elemNodeFuncs[m.Op]; ok {
		return f(k, m, xs)
	}
	switch m.Op {
	case ir.OpBroadcast:
		return xs[0]
	case ir.OpCast:
		if f := castElem(m.Args[0].Type.DType, m.Type.DType); f != nil {
			return f(k, xs)
		}
		return xs[0]
	case ir.OpAdd, ir.OpSub, ir.OpMul, ir.OpDiv, ir.OpNeg:
		return jen.Float32().Call(elemFuncs[m.Op](k, xs))
	}
	return elemFuncs[m.Op](k, xs)
}
