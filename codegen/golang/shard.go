package golang

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/dave/jennifer/jen"
	"github.com/dlc-project/dlc/ir"
)

// Batch-sharded Predict.
//
// Splitting each kernel over the pool costs one dispatch (and, on a VM,
// often a wake-up) per kernel, and every layer's activations move between
// the cores' caches. When every node of predict is row-local along the
// batch (rows b of its result depend only on rows b of the batched
// operands; weights and constants carry no batch dim), the batch can be
// split instead: one contiguous range of rows per worker, each running
// the whole predict graph serially on it (nil pool inside), with one pool
// dispatch per call and no synchronisation between layers. A call shards
// only while a worker is awake (runtime.Pool.Awake), as runtime.Sgemm
// splits a product only then; the caller runs the larger range.
// (Handing out the rows dynamically, a big group per shard then single
// tiles, measured 1-2 µs slower on the MLP at batch 128 and no more robust
// once the awake check is there.)
//
// Each shard has its own copy of predict's tasks over its own slice of a
// second arena, laid out by the memory planner for predict alone at the
// capacity of its largest range: so the per-sample scratch of conv
// kernels, batch-free values computed from weights, and whatever space the
// planner shares between values are all private to a shard, and no two
// shards ever touch the same arena element. The shard tasks are built once
// in New, so a sharded Predict allocates nothing.
//
// Ranges start at multiples of runtime.SgemmRowTile(), the GEMM's register
// tile height: a GEMM row's sum is ordered by the height of the tile it
// falls in, which is then the same as unsharded (as when the pool splits a
// GEMM), and every other kernel computes each row the same way whatever
// the rows it runs; so a sharded Predict computes exactly the unsharded
// one's bits (TestShardedPredict).

// defaultShardMin is the smallest batch Predict shards when
// Options.ShardMin is 0; batch 1 keeps the per-kernel path, unchanged. Up
// to one tile the sharded path runs one range on the caller without the
// pool, which measured as fast as or faster than the per-kernel path at
// every batch from 2 to 128 on the MNIST MLP (2 vCPUs, 2 workers).
const defaultShardMin = 2

// shardPlan is predict's sharded layout.
type shardPlan struct {
	min   int               // smallest batch that is sharded
	arena poly              // one shard's arena, in its capacity
	off   map[*valPlan]poly // each predict arena buffer's offset in a shard's arena
	tasks int               // number of predict tasks (they are m.tasks[0:tasks])
	cols  []int             // columns per sample of the batched GEMMs of convolutions (runtime.SgemmShardAlign)
}

// planShards decides whether predict can be sharded and, if so, plans one
// shard's arena. It runs before the joint plan of predict and train_step,
// which overwrites the buffers' offsets.
func (g *gen) planShards(reuse bool) {
	if g.shardMin < 0 {
		return
	}
	fp := g.predict
	cols := map[int]bool{}
	if err := rowLocal(g.mod, fp.f, map[*ir.Value]bool{}, cols); err != nil {
		g.shardWhy = err.Error()
		return
	}
	for _, k := range fp.kernels {
		if k.task >= len(fp.kernels) {
			// predict's tasks are planned first; anything else is a bug.
			g.shardWhy = "internal error: predict's tasks are not the first"
			return
		}
	}
	sp := &shardPlan{min: g.shardMin, tasks: len(fp.kernels), off: map[*valPlan]poly{}, cols: slices.Sorted(maps.Keys(cols))}
	if sp.min == 0 {
		sp.min = defaultShardMin
	}
	sp.arena = planArena([]*fnPlan{fp}, reuse)
	batchedArena := false
	for p, c := range sp.arena {
		batchedArena = batchedArena || p > 0 && c != 0
	}
	if len(fp.kernels) == 0 || !batchedArena {
		// No kernel, or no batched value in the arena: nothing to split.
		g.shardWhy = "no batched work"
		return
	}
	for _, b := range fp.bufs {
		sp.off[b] = b.off
	}
	g.shard = sp
}

// isBatched reports whether t has the batch dim, which must then be its
// first dim and its only symbolic one for the function to be sharded.
func isBatched(t ir.Type) (bool, error) {
	if t.IsTuple() {
		b := false
		for i, e := range t.Elems {
			eb, err := isBatched(e)
			if err != nil {
				return false, err
			}
			if i > 0 && eb != b {
				return false, fmt.Errorf("tuple %s mixes batched and batch-free elements", t)
			}
			b = eb
		}
		return b, nil
	}
	b := false
	for i, d := range t.Shape {
		if !d.IsConst() {
			if i != 0 {
				return false, fmt.Errorf("type %s has the batch dim at position %d, not first", t, i)
			}
			b = true
		}
	}
	return b, nil
}

// rowLocal returns nil if every node of f (a function or a fused region)
// is row-local along the batch, else why not. batched holds what is known
// of f's parameters (a region's: its operands'); it is filled for the body.
// cols gets the columns per sample of every convolution, whose GEMM may
// run over the whole batch's columns (see runtime.SgemmShardAlign).
func rowLocal(mod *ir.Module, f *ir.Func, batched map[*ir.Value]bool, cols map[int]bool) error {
	for i, p := range f.Params {
		b, err := isBatched(p.Type)
		if err != nil {
			return fmt.Errorf("func @%s: parameter %d: %w", f.Name, i, err)
		}
		if pb, ok := batched[p]; ok && pb != b {
			return fmt.Errorf("func @%s: parameter %d: batched operand for a batch-free parameter", f.Name, i)
		}
		batched[p] = b
	}
	for i, v := range f.Body {
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%s: %s", where(f, i, v), fmt.Sprintf(format, args...))
		}
		b, err := isBatched(v.Type)
		if err != nil {
			return fail("%v", err)
		}
		batched[v] = b
		anyArg := false
		for _, a := range v.Args {
			anyArg = anyArg || batched[a]
		}
		if !b {
			if anyArg {
				// A reduction over the batch, or size reading n.
				return fail("a batch-free result of a batched operand")
			}
			if v.Op == ir.OpDropoutMask {
				return fail("random bits depend on the flat index")
			}
			continue // computed from weights and constants alone: each shard computes it
		}
		// Rows of a batched argument of rank r line up with the result's
		// when r is the result's rank (NumPy broadcasting aligns the last
		// dims): the batch dims coincide.
		sameRank := func(args []*ir.Value) bool {
			for _, a := range args {
				if batched[a] && len(a.Type.Shape) != len(v.Type.Shape) {
					return false
				}
			}
			return true
		}
		axisNot0 := func() bool {
			axes, err := ir.NormalizeAxes([]int64{v.Attrs.Int("axis", -1)}, len(v.Args[0].Type.Shape))
			return err == nil && axes[0] != 0
		}
		ok := false
		switch {
		case ir.IsElementwise(v.Op) || v.Op == ir.OpBroadcast:
			ok = sameRank(v.Args)
		case v.Op == ir.OpConstant:
			ok = true // a splat: every row the same
		case v.Op == ir.OpExtract:
			ok = true
		case v.Op == ir.OpMatMul:
			// x [N, ..., K] × w [K, M]; or per-sample products of
			// operands of equal rank >= 3.
			x, w := v.Args[0], v.Args[1]
			ok = batched[x] && !batched[w] ||
				batched[x] && batched[w] && len(x.Type.Shape) >= 3 && len(w.Type.Shape) == len(x.Type.Shape)
		case v.Op == ir.OpReduceSum || v.Op == ir.OpReduceMean || v.Op == ir.OpReduceMax ||
			v.Op == ir.OpReduceMin || v.Op == ir.OpReduceProd || v.Op == ir.OpArgMax || v.Op == ir.OpArgMin:
			// The batch dim survives only if not reduced (checked above:
			// a reduced or kept-as-1 batch dim makes a batch-free result).
			ok = batched[v.Args[0]]
		case v.Op == ir.OpSoftmax || v.Op == ir.OpLogSoftmax || v.Op == ir.OpCumSum || v.Op == ir.OpConcat:
			ok = axisNot0()
		case v.Op == ir.OpReshape:
			// Both [N, ...]: the same elements per sample, in order.
			ok = batched[v.Args[0]]
		case v.Op == ir.OpTranspose:
			perm := v.Attrs.Ints("perm")
			ok = len(perm) > 0 && perm[0] == 0
		case v.Op == ir.OpConv || v.Op == ir.OpConvTranspose || v.Op == ir.OpMaxPool || v.Op == ir.OpAvgPool:
			// Per-sample kernels over [N, C, spatial...].
			ok = batched[v.Args[0]]
			for _, a := range v.Args[1:] {
				ok = ok && !batched[a]
			}
			if (v.Op == ir.OpConv || v.Op == ir.OpConvTranspose) && mayBatchConv(v) {
				// The positions of the input and of the output: either
				// may be the columns of the GEMM.
				for _, t := range []ir.Type{v.Args[0].Type, v.Type} {
					if n, syms := t.Shape[2:].NumElements(); len(syms) == 0 && len(t.Shape) > 2 {
						cols[int(n)] = true
					}
				}
			}
		case v.Op == ir.OpGather:
			// An embedding lookup (batch-free table, batched indices,
			// axis 0), or a gather within each sample.
			data, idx := v.Args[0], v.Args[1]
			axes, err := ir.NormalizeAxes([]int64{v.Attrs.Int("axis", 0)}, len(data.Type.Shape))
			if err == nil {
				ok = !batched[data] && batched[idx] && axes[0] == 0 ||
					batched[data] && !batched[idx] && axes[0] != 0
			}
		case v.Op == ir.OpFused:
			r := mod.Func(v.Attrs.String("region", ""))
			if r == nil || len(r.Params) != len(v.Args) {
				return fail("no region")
			}
			rb := map[*ir.Value]bool{}
			for j, p := range r.Params {
				rb[p] = batched[v.Args[j]]
			}
			if err := rowLocal(mod, r, rb, cols); err != nil {
				return fail("region: %v", err)
			}
			ok = true
		}
		if !ok {
			return fail("not known to be row-local along the batch")
		}
	}
	return nil
}

// mayBatchConv reports whether conv or conv_transpose v may run as one
// GEMM over the whole batch's columns rather than sample by sample (see
// emitConv: per sample below perSampleConvMAC multiply-adds a sample,
// which is the weight's size times the output positions, for a transposed
// conv the input positions). A margin keeps the shards aligned for the
// batched form should that threshold move; aligning for a conv that runs
// per sample only costs balance.
func mayBatchConv(v *ir.Value) bool {
	w, _ := v.Args[1].Type.Shape.NumElements()
	pos := v.Type
	if v.Op == ir.OpConvTranspose {
		pos = v.Args[0].Type
	}
	p, _ := pos.Shape[2:].NumElements()
	return w*p >= perSampleConvMAC/4
}

// shardBuf renders, inside New's shard loop, the buffer of vp for the
// shard whose arena is sa, of capacity rows samples.
func (g *gen) shardBuf(vp *valPlan) *jen.Statement {
	if vp.kind != inArena {
		return buf(vp)
	}
	off := g.shard.off[vp]
	end := off.plus(mono{c: vp.size.c, p: vp.size.p})
	if vp.size.isZero() {
		end = off
	}
	return jen.Id("sa").Index(off.code("rows").Op(":").Add(end.code("rows")))
}

// emitShardTypes emits the shard types and their run method.
func (g *gen) emitShardTypes(f *jen.File) {
	if g.shard == nil {
		return
	}
	fp := g.predict
	f.Comment("predictShards runs Predict on one contiguous range of the batch per shard,")
	f.Comment("each shard running the whole graph serially in its own arena: one pool")
	f.Comment("dispatch per call and no synchronisation between layers.")
	f.Type().Id("predictShards").Struct(
		jen.Id("shards").Index().Id("predictShard"),
		jen.Comment("x, out and n are Predict's arguments during a sharded call."),
		jen.List(jen.Id("x"), jen.Id("out")).Index().Float32(),
		jen.Id("n").Int(),
		jen.Comment("align is runtime.SgemmRowTile() or SgemmShardAlign(...): ranges start at"),
		jen.Comment("multiples of it, so that every GEMM computes each element"),
		jen.Comment("in a tile of the same shape as unsharded, and so the same bits."),
		jen.Id("align").Int(),
		jen.Comment("k is the number of shards a call runs."),
		jen.Id("k").Int(),
	)
	f.Line()
	shardFields := []jen.Code{
		jen.Comment("tasks are predict's tasks over the shard's arena, without a pool."),
		jen.Id("tasks").Index(jen.Lit(g.shard.tasks)).Id("task"),
		jen.Comment("result is the shard's buffer of predict's result."),
		jen.Id("result").Index().Float32(),
	}
	if fp.params[0].kind == inArena {
		shardFields = append(shardFields, jen.Comment("x is the shard's copy of its rows of x."), jen.Id("x").Index().Float32())
	}
	f.Comment("predictShard is one shard's tasks and buffers.")
	f.Type().Id("predictShard").Struct(shardFields...)
	f.Line()

	f.Comment("RunRange runs shards [lo, hi).")
	f.Func().Params(jen.Id("s").Op("*").Id("predictShards")).Id("RunRange").Params(jen.List(jen.Id("lo"), jen.Id("hi")).Int()).Block(
		jen.For(jen.Id("i").Op(":=").Id("lo"), jen.Id("i").Op("<").Id("hi"), jen.Id("i").Op("++")).Block(
			jen.Id("s").Dot("run").Call(jen.Id("i")),
		),
	)
	f.Line()

	// The rows of shard i: part p of the tiles of align rows split
	// evenly, as the pool splits a GEMM. The parts at the end have a tile
	// more when the tiles do not divide evenly, but the last one's may be
	// short: shard 0, which the caller runs while the workers start, takes
	// whichever of the first and the last part has more rows.
	sd := func(f string) *jen.Statement { return jen.Id("s").Dot(f) }
	part := func(p jen.Code) *jen.Statement {
		return jen.Min(sd("n"), jen.Add(p).Op("*").Id("tiles").Op("/").Id("k").Op("*").Add(sd("align")))
	}
	body := []jen.Code{
		jen.Id("k").Op(":=").Add(sd("k")),
		jen.Id("tiles").Op(":=").Parens(sd("n").Op("+").Add(sd("align")).Op("-").Lit(1)).Op("/").Add(sd("align")),
		jen.Id("p").Op(":=").Id("i"),
		jen.If(sd("n").Op("-").Add(part(jen.Parens(jen.Id("k").Op("-").Lit(1)))).Op(">=").Add(part(jen.Lit(1)))).Block(
			jen.Id("p").Op("=").Id("k").Op("-").Lit(1).Op("-").Id("i"),
		),
		jen.List(jen.Id("r0"), jen.Id("r1")).Op(":=").List(part(jen.Id("p")), part(jen.Parens(jen.Id("p").Op("+").Lit(1)))),
		jen.Id("n").Op(":=").Id("r1").Op("-").Id("r0"),
		jen.If(jen.Id("n").Op("==").Lit(0)).Block(jen.Return()),
		jen.Id("sh").Op(":=").Op("&").Id("s").Dot("shards").Index(jen.Id("i")),
	}
	bind := func(clear bool) []jen.Code {
		var out []jen.Code
		p := fp.params[0]
		if p.kind == inArena {
			if !clear {
				out = append(out, jen.Copy(jen.Id("sh").Dot("x").Index(jen.Op(":").Id("n").Op("*").Id("inputSize")), jen.Id("x")))
			}
			return out
		}
		for _, k := range fp.kernels {
			for j, in := range k.ins {
				if in != p || !k.uses["x"+strconv.Itoa(j)] {
					continue
				}
				val := jen.Code(jen.Nil())
				if !clear {
					val = jen.Id("x")
				}
				out = append(out, jen.Id("sh").Dot("tasks").Index(jen.Lit(k.task)).Dot("in").Index(jen.Lit(j)).Op("=").Add(val))
			}
		}
		return out
	}
	resX := fp.vals[fp.f.Results[0]].kind == inParam
	if len(bind(false)) > 0 || resX {
		body = append(body, jen.Id("x").Op(":=").Id("s").Dot("x").Index(jen.Id("r0").Op("*").Id("inputSize").Op(":").Id("r1").Op("*").Id("inputSize")))
	}
	body = append(body, bind(false)...)
	for _, k := range fp.kernels {
		if k.inGemm {
			continue // its GEMM runs it
		}
		t := jen.Op("&").Id("sh").Dot("tasks").Index(jen.Lit(k.task))
		body = append(body,
			jen.Id("sh").Dot("tasks").Index(jen.Lit(k.task)).Dot("n").Op("=").Id("n"),
			jen.Id(k.name).Call(t, jen.Lit(0), k.rows.code("n")),
		)
	}
	var res jen.Code = jen.Id("sh").Dot("result").Index(jen.Op(":").Id("n").Op("*").Id("outputSize"))
	if resX {
		res = jen.Id("x")
	}
	body = append(body, jen.Copy(jen.Id("s").Dot("out").Index(jen.Id("r0").Op("*").Id("outputSize").Op(":").Id("r1").Op("*").Id("outputSize")), res))
	body = append(body, bind(true)...)
	f.Comment("run runs shard i: predict's kernels, serially, on its rows of the batch.")
	f.Func().Params(jen.Id("s").Op("*").Id("predictShards")).Id("run").Params(jen.Id("i").Int()).Block(body...)
	f.Line()
}

// shardNew renders the part of New that allocates the shards' arena and
// builds their tasks, when the pool has several workers.
func (g *gen) shardNew() []jen.Code {
	if g.shard == nil {
		return nil
	}
	fp := g.predict
	bufs := func(vps []*valPlan) jen.Code {
		list := make([]jen.Code, len(vps))
		for i, vp := range vps {
			list[i] = g.shardBuf(vp)
		}
		return jen.Index().Index().Float32().Values(list...)
	}
	loop := []jen.Code{
		jen.Id("sa").Op(":=").Id("all").Index(jen.Id("i").Op("*").Id("size").Op(":").Parens(jen.Id("i").Op("+").Lit(1)).Op("*").Id("size")),
		jen.Id("sh").Op(":=").Op("&").Id("m").Dot("shards").Dot("shards").Index(jen.Id("i")),
	}
	if x := fp.params[0]; x.kind == inArena {
		loop = append(loop, jen.Id("sh").Dot("x").Op("=").Add(g.shardBuf(x)))
	}
	if res := fp.vals[fp.f.Results[0]]; res.kind != inParam {
		loop = append(loop, jen.Id("sh").Dot("result").Op("=").Add(g.shardBuf(res)))
	}
	for _, k := range fp.kernels {
		d := jen.Dict{jen.Id("fn"): jen.Id(k.name)}
		if len(k.ins) > 0 {
			d[jen.Id("in")] = bufs(k.ins)
		}
		if len(k.outs) > 0 {
			d[jen.Id("out")] = bufs(k.outs)
		}
		if len(k.tmps) > 0 {
			d[jen.Id("tmp")] = bufs(k.tmps)
		}
		if k.epi != nil {
			d[jen.Id("epi")] = jen.Op("&").Id("sh").Dot("tasks").Index(jen.Lit(k.epi.task))
			d[jen.Id("epiRows")] = jen.Lit(int(k.epiRows))
		}
		loop = append(loop, jen.Id("sh").Dot("tasks").Index(jen.Lit(k.task)).Op("=").Id("task").Values(d))
	}
	return []jen.Code{
		jen.Comment("Predict's shards: each gets room for its largest range in a second arena"),
		jen.Comment("(ceil(MaxBatch/align/workers) tiles of align samples)."),
		jen.If(jen.Id("w").Op(":=").Id("m").Dot("pool").Dot("Workers").Call(), jen.Id("w").Op(">").Lit(1)).Block(
			jen.Id("a").Op(":=").Add(g.shardAlign()),
			jen.Id("m").Dot("shards").Dot("align").Op("=").Id("a"),
			jen.Id("rows").Op(":=").Min(jen.Id("mb"), jen.Parens(jen.Parens(jen.Id("mb").Op("+").Id("a").Op("-").Lit(1)).Op("/").Id("a").Op("+").Id("w").Op("-").Lit(1)).Op("/").Id("w").Op("*").Id("a")),
			jen.Id("size").Op(":=").Add(g.shard.arena.code("rows")),
			jen.Id("all").Op(":=").Make(jen.Index().Float32(), jen.Id("w").Op("*").Id("size")),
			jen.Id("m").Dot("arenaLen").Op("+=").Len(jen.Id("all")),
			jen.Id("m").Dot("shards").Dot("shards").Op("=").Make(jen.Index().Id("predictShard"), jen.Id("w")),
			jen.For(jen.Id("i").Op(":=").Range().Id("m").Dot("shards").Dot("shards")).Block(loop...),
		),
	}
}

// shardAlign renders the ranges' alignment: runtime.SgemmRowTile(), or
// runtime.SgemmShardAlign of the convolutions' columns per sample.
func (g *gen) shardAlign() *jen.Statement {
	if len(g.shard.cols) == 0 {
		return jen.Qual(runtimePath, "SgemmRowTile").Call()
	}
	args := make([]jen.Code, len(g.shard.cols))
	for i, c := range g.shard.cols {
		args[i] = jen.Lit(c)
	}
	return jen.Qual(runtimePath, "SgemmShardAlign").Call(args...)
}

// shardPredict renders Predict's sharded path.
func (g *gen) shardPredict() []jen.Code {
	if g.shard == nil {
		return nil
	}
	s := jen.Id("m").Dot("shards")
	// Only while a worker is awake (runtime.Pool.Awake): a parked one
	// takes a wake-up (tens of µs on a VM) to start its shard, and one
	// that parked because other processes hold the CPUs may be slow to
	// finish it; the per-kernel path then runs the GEMMs serially and
	// wakes the workers, as runtime.Sgemm does.
	cond := jen.Id("n").Op(">=").Id("shardMin").Op("&&").Len(jen.Id("m").Dot("shards").Dot("shards")).Op(">").Lit(1)
	if !g.shardAlways {
		cond = cond.Op("&&").Id("m").Dot("pool").Dot("Awake").Call()
	}
	// No more shards than tiles: with a single tile, the caller runs it
	// without the pool.
	return []jen.Code{
		jen.If(cond).Block(
			jen.Id("a").Op(":=").Add(s.Clone().Dot("align")),
			jen.List(s.Clone().Dot("x"), s.Clone().Dot("out"), s.Clone().Dot("n")).Op("=").List(jen.Id("x"), jen.Id("out"), jen.Id("n")),
			jen.Add(s.Clone().Dot("k")).Op("=").Min(jen.Len(s.Clone().Dot("shards")), jen.Parens(jen.Id("n").Op("+").Id("a").Op("-").Lit(1)).Op("/").Id("a")),
			jen.Id("m").Dot("pool").Dot("Run").Call(s.Clone().Dot("k"), jen.Op("&").Id("m").Dot("shards")),
			jen.List(s.Clone().Dot("x"), s.Clone().Dot("out")).Op("=").List(jen.Nil(), jen.Nil()),
			jen.Return(),
		),
	}
}
