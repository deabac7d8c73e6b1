package golang

import (
	"strconv"

	"github.com/dave/jennifer/jen"
	"github.com/dlc-project/dlc/ir"
)

// The block form of rows kernels with short rows.
//
// A row of a few columns (a 10-class softmax) costs little arithmetic and
// much overhead when every stage runs once per row: one runtime.VecExp
// call per 10 elements, or a scalar Exp32 per element. So where vector
// loops are on and the rows have fewer than vecMinInner (constant)
// columns, the kernel takes a block of rows at a time and runs each stage
// over the whole block before the next one:
//
//   - a member whose operands are all laid out [rows x cols] over the
//     block (row buffers, operands that are not broadcast along the rows)
//     or scalars is ONE runtime.Vec* call over the block's elements (the
//     rows of a block are consecutive, so are its elements);
//   - an f32 reduction of such an operand is one runtime.RowsSum, RowsMean
//     or RowsMax call, which reduces each row of the block;
//   - an f32 softmax or log_softmax is RowsMax, a loop over the rows for
//     x - max, one VecExp over the block, RowsSum64 and a loop over the
//     rows for the normalisation;
//   - everything else runs as the per-row code does (rows.go), in a loop
//     over the rows of the block.
//
// Row vectors that one step writes and another reads live in block
// buffers (stack arrays of the block's size, or the output), row scalars
// in arrays of one value per row of the block. Every element and every
// row is computed by the same expression, the reductions in the same
// order (runtime/rowsblock.go), as in the per-row form, which
// Options.NoVector keeps: the two compute the same bits
// (TestRowsBlockBits).

const (
	// blockMaxRows is the most rows of a block (of its outermost row dim).
	blockMaxRows = 128
	// blockMaxElems bounds the elements of one block buffer (8 KiB of
	// f32): a block's buffers stay in the L1 cache.
	blockMaxElems = 2048
)

// blockStep is one step of the block form: a loop over the rows of the
// block (st: a loop stage or a row scalar of the per-row form), one
// runtime call over the block (call: a lifted member), or an f32 softmax
// or log_softmax (soft).
type blockStep struct {
	st   *rowStage
	call *ir.Value
	soft *ir.Value
}

// blockState is the state of the block form's emission.
type blockState struct {
	rows   int64 // rows of the outermost row dim per block
	inner  int64 // rows per index of the outermost row dim
	lift   map[*ir.Value]bool
	carry  map[*ir.Value]bool // row scalars read by another step
	arrays map[string]bool    // per-row arrays declared
	decls  []jen.Code
	// group numbers the loops over the rows (consecutive row steps share
	// one) and the runtime calls; a row scalar read in another group is
	// carried.
	group map[*ir.Value]int
	// the row loop being emitted
	cur    int
	used   map[*ir.Value]bool // row buffers it reads or writes
	loads  map[*ir.Value]bool // carried row scalars it reads
	params map[int]bool       // operands it reads through a row pointer
	rbUsed bool
	// operands of one row broadcast over the rows, read through a pointer
	// set once per block
	bcast map[int]bool
}

// blockItem is a part of a step: statements over the block, or the body
// of a loop over the rows of the block (row), which consecutive items
// share.
type blockItem struct {
	code []jen.Code
	row  func() []jen.Code
	st   *rowStage // the row stage a row item computes, if any
}

// emitRowsBlock emits the kernel of the rows region in block form and
// reports true, or reports false (and emits nothing) when the region does
// not take it: vector loops off, long or symbolic rows, a rowwise op other
// than f32, nothing to run over a block, or block buffers that do not fit
// the stack.
func (e *rowsEmitter) emitRowsBlock(stages []*rowStage, members []*ir.Value) bool {
	k := e.k
	if k.g.noVector || e.cols.p != 0 || e.cols.c < 1 || wideRow(e.cols) {
		return false
	}
	b := &blockState{inner: 1, lift: map[*ir.Value]bool{}, carry: map[*ir.Value]bool{}, arrays: map[string]bool{},
		group: map[*ir.Value]int{}, bcast: map[int]bool{}}
	last := len(e.d) - 1
	for i, d := range e.rowDims {
		if i > 0 {
			m := dimMono(e.d[:last][d])
			if m.p != 0 {
				return false
			}
			b.inner *= m.c
		}
	}
	e.blk = b
	for _, m := range members {
		if isRowwise(m) && !(m.Type.DType == ir.F32 && m.Args[0].Type.DType == ir.F32) {
			e.blk = nil
			return false
		}
		if isRowwise(m) || isReduce(m) || e.fn.ctx[m] != ctxVec {
			continue
		}
		if kinds, ok := e.blockKinds(m); ok && vecFunc(m, kinds) != "" {
			b.lift[m] = true
		}
	}
	// Reductions are lifted once their operands are known to be block
	// buffers or operands laid out over the block.
	for _, m := range members {
		if isReduce(m) && m.Type.DType == ir.F32 && m.Args[0].Type.DType == ir.F32 {
			if kind, ok := e.blockKind(m.Args[0]); ok && kind == vkVector {
				b.lift[m] = true
			}
		}
	}

	// Steps, in the order of the per-row form's stages.
	var steps []blockStep
	gain := false
	for _, s := range stages {
		switch {
		case !s.loop && isRowwise(s.body[0]):
			steps = append(steps, blockStep{soft: s.body[0]})
			gain = true
		case !s.loop:
			steps = append(steps, blockStep{st: s})
		default:
			first := len(steps)
			var cur *rowStage
			for _, m := range s.body {
				if b.lift[m] {
					steps = append(steps, blockStep{call: m})
					cur, gain = nil, true
					continue
				}
				if cur == nil {
					cur = &rowStage{loop: true}
					steps = append(steps, blockStep{st: cur})
				}
				cur.body = append(cur.body, m)
			}
			if len(s.pre) > 0 {
				// Row scalars computed before the stage's loop: with the
				// first row loop of the stage, or in their own before it.
				placed := false
				for i := first; i < len(steps) && !placed; i++ {
					if steps[i].st != nil {
						steps[i].st.pre, placed = s.pre, true
					}
				}
				if !placed {
					steps = append(steps[:first], append([]blockStep{{st: &rowStage{loop: true, pre: s.pre}}}, steps[first:]...)...)
				}
			}
		}
	}
	if !gain {
		e.blk = nil
		return false
	}
	e.stageOf = map[*ir.Value]*rowStage{}
	for _, st := range steps {
		switch {
		case st.st != nil:
			for _, m := range st.st.pre {
				e.stageOf[m] = st.st
			}
			for _, m := range st.st.body {
				e.stageOf[m] = st.st
			}
		case st.call != nil:
			e.stageOf[st.call] = &rowStage{body: []*ir.Value{st.call}}
		default:
			e.stageOf[st.soft] = &rowStage{body: []*ir.Value{st.soft}}
		}
	}

	// Groups: a step's row loops join the loop of the step before when
	// nothing runs between them.
	open := false
	g := 0
	join := func() int {
		if !open {
			g++
			open = true
		}
		return g
	}
	for _, st := range steps {
		switch {
		case st.st != nil:
			id := join()
			for _, m := range append(append([]*ir.Value(nil), st.st.pre...), st.st.body...) {
				b.group[m] = id
			}
		case st.call != nil:
			open = false
			g++
			b.group[st.call] = g
		default:
			// An f32 softmax starts with a row loop when its max is one
			// (its operand is not laid out over the block) or when it is
			// a log_softmax reusing a softmax's max and sum (one loop);
			// it ends with one.
			if !e.softStartsWithRow(st.soft, steps) {
				open = false
			}
			b.group[st.soft] = join()
			if !e.softSingle(st.soft, steps) {
				open = false
				join()
			}
		}
	}

	// Block buffers: results over the domain, rowwise results and
	// operands, lifted row vectors, and row vectors read by another step.
	e.mat = map[*ir.Value]bool{}
	member := func(a *ir.Value) bool { _, ok := e.fn.ctx[a]; return ok }
	for _, m := range members {
		if _, ok := e.outIdx[m]; ok && e.fn.ctx[m] == ctxVec {
			e.mat[m] = true
		}
		if isRowwise(m) || (b.lift[m] && !isReduce(m)) {
			e.mat[m] = true
		}
		for _, a := range m.Args {
			if !member(a) || e.stageOf[a] == e.stageOf[m] {
				continue
			}
			if e.fn.ctx[a] == ctxVec {
				e.mat[a] = true
			} else if b.group[a] != b.group[m] {
				b.carry[a] = true
			}
		}
	}
	perRow := b.inner * e.cols.c
	slots := int64(0)
	for _, m := range members {
		if _, ok := e.outIdx[m]; e.mat[m] && !ok {
			slots += dtypeSlots(m.Type.DType)
		}
	}
	b.rows = min(blockMaxRows, blockMaxElems/perRow)
	if slots > 0 {
		b.rows = min(b.rows, rowStackMax/(slots*perRow))
	}
	if len(e.rowDims) == 0 {
		b.rows = 1
	} else if first := dimMono(e.d[e.rowDims[0]]); first.p == 0 {
		b.rows = min(b.rows, first.c)
	}
	if b.rows < 1 {
		e.blk = nil
		return false
	}

	var decls []jen.Code
	for _, m := range members {
		if !e.mat[m] {
			continue
		}
		if j, ok := e.outIdx[m]; ok {
			e.rowBuf[m] = k.outName(j)
			continue
		}
		decls = append(decls, jen.Var().Id(e.name("buf", m)).Index(jen.Lit(int(b.rows*perRow))).Add(goElemType(m.Type.DType)))
	}
	decls = append(decls, k.declConsts(e.fn, members)...)
	var items []blockItem
	for _, st := range steps {
		switch {
		case st.st != nil:
			st := st.st
			items = append(items, blockItem{st: st, row: func() []jen.Code {
				if len(st.body) == 0 {
					var out []jen.Code
					for _, m := range st.pre {
						out = append(out, e.scalar(m)...)
					}
					return out
				}
				if st.loop {
					return e.loopStage(st)
				}
				return e.scalar(st.body[0])
			}})
		case st.call != nil:
			items = append(items, blockItem{code: e.blockCall(st.call)})
		default:
			items = append(items, e.blockSoftmax(st.soft)...)
		}
	}
	var body []jen.Code
	for i := 0; i < len(items); {
		if items[i].row == nil {
			body = append(body, items[i].code...)
			i++
			continue
		}
		var group []blockItem
		for ; i < len(items) && items[i].row != nil; i++ {
			group = append(group, items[i])
		}
		body = append(body, e.blockRowLoop(group)...)
	}
	var head []jen.Code
	head = append(head, jen.Id("bhi").Op(":=").Min(jen.Id("blo").Op("+").Lit(int(b.rows)), jen.Id("hi")))
	for j, p := range e.fn.region.Params {
		if b.bcast[j] {
			head = append(head, jen.Id("xb"+strconv.Itoa(j)).Op(":=").Parens(jen.Op("*").Index(jen.Lit(int(e.cols.c))).Add(goElemType(p.Type.DType))).Call(e.k.x(j)))
		}
	}
	body = append(head, body...)
	k.body = append(k.body, decls...)
	k.body = append(k.body, b.decls...)
	k.body = append(k.body, jen.For(jen.Id("blo").Op(":=").Id("lo"), jen.Id("blo").Op("<").Id("hi"), jen.Id("blo").Op("+=").Lit(int(b.rows))).Block(body...))
	return true
}

// blockKind is how a lifted member reads a over the block: vkScalar (a
// constant or an operand broadcast to the whole domain), vkVector (a
// member, which lives in a block buffer, or an operand laid out over the
// domain's rows and columns), or not at all (ok false: a row scalar, an
// operand broadcast along some of the rows or the columns).
func (e *rowsEmitter) blockKind(a *ir.Value) (kind int, ok bool) {
	if _, ok := e.consts[a]; ok {
		return vkScalar, true
	}
	if _, ok := e.fn.param[a]; ok {
		switch {
		case e.paramZero(a):
			return vkScalar, true
		case e.paramFull(a):
			return vkVector, true
		}
		return 0, false
	}
	if ctx, ok := e.fn.ctx[a]; ok && ctx == ctxVec {
		return vkVector, true
	}
	return 0, false
}

// blockKinds gives the kinds of m's operands when m can be one runtime
// call over the block: f32 throughout, every operand readable over the
// block, at least one of them a vector.
func (e *rowsEmitter) blockKinds(m *ir.Value) ([]int, bool) {
	if m.Type.DType != ir.F32 {
		return nil, false
	}
	kinds := make([]int, len(m.Args))
	vec := false
	for i, a := range m.Args {
		kind, ok := e.blockKind(a)
		if !ok || a.Type.DType != ir.F32 {
			return nil, false
		}
		if _, ok := e.consts[a]; !ok && a.Op == ir.OpConstant {
			return nil, false
		}
		kinds[i], vec = kind, vec || kind == vkVector
	}
	return kinds, vec
}

// paramZero reports whether fused-node operand p is one value broadcast
// over the whole domain.
func (e *rowsEmitter) paramZero(p *ir.Value) bool {
	for _, s := range broadcastStrides(p.Type.Shape, e.d) {
		if !s.isZero() {
			return false
		}
	}
	return true
}

// paramFull reports whether fused-node operand p is laid out as the
// domain over its rows and columns: row r's elements at r*cols on.
func (e *rowsEmitter) paramFull(p *ir.Value) bool {
	st := broadcastStrides(p.Type.Shape, e.d)
	last := len(e.d) - 1
	rs := contiguous(shapeMonos(e.d[:last]))
	for _, d := range e.rowDims {
		if st[d] != rs[d].mul(e.cols) {
			return false
		}
	}
	return e.cols.isOne() || st[last] == one
}

// blockLit renders c·x, or x when c is 1.
func blockLit(x string, c int64) *jen.Statement {
	if c == 1 {
		return jen.Id(x)
	}
	return jen.Id(x).Op("*").Lit(int(c))
}

// blockCount renders the number of rows (per 1) or elements of the
// block: (bhi-blo)·per.
func blockCount(per int64) *jen.Statement {
	if per == 1 {
		return jen.Id("bhi").Op("-").Id("blo")
	}
	return jen.Parens(jen.Id("bhi").Op("-").Id("blo")).Op("*").Lit(int(per))
}

// blockSlice renders the block's elements of a (blockKind vkVector).
func (e *rowsEmitter) blockSlice(a *ir.Value) *jen.Statement {
	per := e.blk.inner * e.cols.c
	var buf *jen.Statement
	if j, ok := e.fn.param[a]; ok {
		buf = e.k.x(j)
	} else if j, ok := e.outIdx[a]; ok {
		buf = e.k.out(j)
	} else {
		return jen.Id(e.name("buf", a)).Index(jen.Op(":").Add(blockCount(per)))
	}
	return buf.Index(blockLit("blo", per).Op(":").Add(blockLit("bhi", per)))
}

// blockArray names a per-row array of the block (declared once).
func (e *rowsEmitter) blockArray(name string, dt *jen.Statement) string {
	if !e.blk.arrays[name] {
		e.blk.arrays[name] = true
		e.blk.decls = append(e.blk.decls, jen.Var().Id(name).Index(jen.Lit(int(e.blk.rows*e.blk.inner))).Add(dt))
	}
	return name
}

// rowScalars renders where the row scalars of m (a reduction lifted, or
// a carried row scalar) live over the block: the output when m is a
// result that a runtime call writes, else an array.
func (e *rowsEmitter) rowScalars(m *ir.Value) *jen.Statement {
	if j, ok := e.outIdx[m]; ok && e.blk.lift[m] {
		return e.k.out(j).Index(blockLit("blo", e.blk.inner).Op(":").Add(blockLit("bhi", e.blk.inner)))
	}
	return jen.Id(e.blockArray(e.name("rv", m), goElemType(m.Type.DType))).Index(jen.Op(":").Add(blockCount(e.blk.inner)))
}

// rb renders the index of the current row in the block.
func (e *rowsEmitter) rb() *jen.Statement {
	e.blk.rbUsed = true
	return jen.Id("rb")
}

// blockRowLoop emits a loop over the rows of the block around the per-row
// code gen renders for step st, with the row buffers and carried row
// scalars it reads and the carried row scalars it writes.
func (e *rowsEmitter) blockRowLoop(items []blockItem) []jen.Code {
	b := e.blk
	b.cur = -1
	for _, it := range items {
		if it.st != nil {
			for _, m := range append(append([]*ir.Value(nil), it.st.pre...), it.st.body...) {
				b.cur = b.group[m]
			}
		}
	}
	b.used, b.loads, b.params, b.rbUsed = map[*ir.Value]bool{}, map[*ir.Value]bool{}, map[int]bool{}, false
	e.rUsed, e.rowLoaded = false, map[int]bool{}
	var code, stores []jen.Code
	for _, it := range items {
		code = append(code, it.row()...)
		if it.st == nil {
			continue
		}
		for _, m := range append(append([]*ir.Value(nil), it.st.pre...), it.st.body...) {
			if b.carry[m] {
				stores = append(stores, jen.Id(e.name("rv", m)).Index(e.rb()).Op("=").Id(e.name("v", m)))
				e.blockArray(e.name("rv", m), goElemType(m.Type.DType))
			}
		}
	}
	var pre []jen.Code
	for j, p := range e.fn.region.Params {
		if b.params[j] {
			pre = append(pre, jen.Id("xr"+strconv.Itoa(j)).Op(":=").Parens(jen.Op("*").Index(jen.Lit(int(e.cols.c))).Add(goElemType(p.Type.DType))).Call(e.k.x(j).Index(e.rowBase().Op(":"))))
		}
	}
	for _, m := range e.fn.region.Body {
		switch {
		case b.used[m]:
			var src *jen.Statement
			if j, ok := e.outIdx[m]; ok {
				src = e.k.out(j).Index(e.rowBase().Op(":"))
			} else {
				src = jen.Id(e.name("buf", m)).Index(e.rb().Op("*").Lit(int(e.cols.c)).Op(":"))
				if e.cols.isOne() {
					src = jen.Id(e.name("buf", m)).Index(e.rb().Op(":"))
				}
			}
			pre = append(pre, jen.Id(e.name("row", m)).Op(":=").Parens(jen.Op("*").Index(jen.Lit(int(e.cols.c))).Add(goElemType(m.Type.DType))).Call(src))
		case b.loads[m]:
			var src *jen.Statement
			if j, ok := e.outIdx[m]; ok && b.lift[m] {
				src = e.k.out(j).Index(e.rowIndex())
			} else {
				src = jen.Id(e.name("rv", m)).Index(e.rb())
			}
			pre = append(pre, jen.Id(e.name("v", m)).Op(":=").Add(src))
		}
	}
	multi := len(e.rowDims) > 1
	var head []jen.Code
	if multi && b.rbUsed {
		e.rUsed = true
	}
	if multi && e.rUsed {
		head = append(head, jen.Id("r").Op(":=").Add(e.k.index(e.rowVars, e.rowSt)))
	}
	if b.rbUsed {
		if multi {
			head = append(head, jen.Id("rb").Op(":=").Id("r").Op("-").Add(blockLit("blo", b.inner)))
		} else {
			head = append(head, jen.Id("rb").Op(":=").Id(e.rowVars[0]).Op("-").Id("blo"))
		}
	}
	inner := append(append(append(head, pre...), code...), stores...)
	var stmt jen.Code
	for i := len(e.rowVars) - 1; i >= 0; i-- {
		from, to := jen.Code(jen.Id("blo")), jen.Code(jen.Id("bhi"))
		if i > 0 {
			from, to = jen.Lit(0), jen.Lit(int(dimMono(e.d[e.rowDims[i]]).c))
		}
		stmt = loop(e.rowVars[i], from, to, inner...)
		inner = []jen.Code{stmt}
	}
	return []jen.Code{stmt}
}

// blockCall emits lifted member m: one runtime call over the block.
func (e *rowsEmitter) blockCall(m *ir.Value) []jen.Code {
	if isReduce(m) {
		fn := map[string]string{ir.OpReduceSum: "RowsSum", ir.OpReduceMean: "RowsMean", ir.OpReduceMax: "RowsMax"}[m.Op]
		return []jen.Code{jen.Qual(runtimePath, fn).Call(e.rowScalars(m), e.blockSlice(m.Args[0]), jen.Lit(int(e.cols.c)))}
	}
	kinds, _ := e.blockKinds(m)
	fn, order := vecCallOrder(m, kinds)
	args := []jen.Code{e.blockSlice(m)}
	for _, i := range order {
		a := m.Args[i]
		switch {
		case e.consts[a] != "":
			args = append(args, jen.Id(e.consts[a]))
		case kinds[i] == vkScalar:
			args = append(args, e.k.x(e.fn.param[a]).Index(jen.Lit(0)))
		default:
			args = append(args, e.blockSlice(a))
		}
	}
	return []jen.Code{jen.Qual(runtimePath, "Vec"+fn).Call(args...)}
}

// softSingle reports whether softmax step m is one loop over the rows: a
// log_softmax whose operand's softmax an earlier step computed.
func (e *rowsEmitter) softSingle(m *ir.Value, steps []blockStep) bool {
	if m.Op != ir.OpLogSoftmax {
		return false
	}
	for _, st := range steps {
		if st.soft == m {
			return false
		}
		if st.soft != nil && st.soft.Op == ir.OpSoftmax && st.soft.Args[0] == m.Args[0] {
			return true
		}
	}
	return false
}

// softStartsWithRow reports whether softmax step m starts with a loop
// over the rows (not a runtime call).
func (e *rowsEmitter) softStartsWithRow(m *ir.Value, steps []blockStep) bool {
	kind, ok := e.blockKind(m.Args[0])
	return e.softSingle(m, steps) || !ok || kind != vkVector
}

// blockSoftmax emits an f32 softmax or log_softmax over the block, as
// rowwiseStage computes each row: the row's max (RowsMax, or Go's max in
// a loop where the operand is not laid out over the block), x - max, the
// exponentials (one VecExp), their sum in VecSum64's order (RowsSum64),
// then the scaling by the sum's reciprocal, or x - max - log(sum). A
// log_softmax of an operand whose softmax came first reuses its max and
// sum.
func (e *rowsEmitter) blockSoftmax(m *ir.Value) []blockItem {
	x := m.Args[0]
	c := jen.Lit(int(e.cols.c))
	xj := func() *jen.Statement {
		if _, ok := e.fn.param[x]; ok {
			return e.param(x, e.d, true)
		}
		return e.elem(x)
	}
	oj := func() *jen.Statement { return e.elem(m) }
	rows := blockCount(e.blk.inner)
	logSum := func(mxs, sums string) blockItem {
		lse, mx := e.name("lse", m), e.name("mx", m)
		return blockItem{row: func() []jen.Code {
			return []jen.Code{
				jen.Id(lse).Op(":=").Qual(mathPath, "Log").Call(jen.Id(sums).Index(e.rb())),
				jen.Id(mx).Op(":=").Float64().Call(jen.Id(mxs).Index(e.rb())),
				loop("j", jen.Lit(0), c, oj().Op("=").Float32().Call(jen.Float64().Call(xj()).Op("-").Id(mx).Op("-").Id(lse))),
			}
		}}
	}
	if st, ok := e.softmaxStats[x]; ok && m.Op == ir.OpLogSoftmax {
		return []blockItem{logSum(st[0], st[1])}
	}
	mxs := e.blockArray(e.name("mx", m)+"s", jen.Float32())
	sums := e.blockArray(e.name("sum", m)+"s", jen.Float64())
	var out []blockItem
	mx := e.name("mx", m)
	kind, ok := e.blockKind(x)
	if ok && kind == vkVector {
		out = append(out,
			blockItem{code: []jen.Code{jen.Qual(runtimePath, "RowsMaxSub").Call(jen.Id(mxs).Index(jen.Op(":").Add(rows)), e.blockSlice(m), e.blockSlice(x), c)}})
	} else {
		out = append(out, blockItem{row: func() []jen.Code {
			code := rowMaxF32(xj, c, nil, mx)
			return append(code,
				jen.Id(mxs).Index(e.rb()).Op("=").Id(mx),
				loop("j", jen.Lit(0), c, oj().Op("=").Add(xj()).Op("-").Id(mx)))
		}})
	}
	o := e.blockSlice(m)
	out = append(out, blockItem{code: []jen.Code{
		jen.Qual(runtimePath, "VecExp").Call(o, o.Clone()),
		jen.Qual(runtimePath, "RowsSum64").Call(jen.Id(sums).Index(jen.Op(":").Add(rows.Clone())), o.Clone(), c),
	}})
	if m.Op == ir.OpLogSoftmax {
		return append(out, logSum(mxs, sums))
	}
	if e.softmaxStats == nil {
		e.softmaxStats = map[*ir.Value][2]string{}
	}
	e.softmaxStats[x] = [2]string{mxs, sums}
	inv := e.name("inv", m)
	return append(out, blockItem{row: func() []jen.Code {
		return []jen.Code{
			jen.Id(inv).Op(":=").Lit(1).Op("/").Id(sums).Index(e.rb()),
			loop("j", jen.Lit(0), c, oj().Op("=").Float32().Call(jen.Float64().Call(oj()).Op("*").Id(inv))),
		}
	}})
}

// blockParam renders element j of fused-node operand p in the current
// row through a row pointer where p is laid out over the rows (xr, set
// per row) or is one row broadcast over them (xb, set per block), else
// returns nil.
func (e *rowsEmitter) blockParam(p *ir.Value) *jen.Statement {
	j := e.fn.param[p]
	if e.cols.isOne() {
		return nil
	}
	if e.paramFull(p) {
		e.blk.params[j] = true
		return jen.Id("xr" + strconv.Itoa(j)).Index(jen.Id("j"))
	}
	st := broadcastStrides(p.Type.Shape, e.d)
	for _, d := range e.rowDims {
		if !st[d].isZero() {
			return nil
		}
	}
	if st[len(st)-1] != one { // then p has cols elements, row j at j
		return nil
	}
	e.blk.bcast[j] = true
	return jen.Id("xb" + strconv.Itoa(j)).Index(jen.Id("j"))
}
