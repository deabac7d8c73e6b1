package golang

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/dave/jennifer/jen"
	"github.com/dlc-project/dlc/ir"
)

// Rows regions.
//
// A rows region works over a domain [rows..., cols]: softmax and
// log_softmax along the last axis, reductions over the last axis, and
// elementwise work whose values are either over the whole domain (a row
// vector per row: ctxVec) or one per row ([rows..., 1] or [rows...]:
// ctxRow). Its kernel makes one pass per row, rows split over the pool:
// row scalars are locals, row vectors are computed in loops over the
// columns (consecutive ones in one loop, reductions accumulated in the loop
// that computes their operand), and a row vector that a later loop or a
// softmax reads is kept in a row buffer: the output row when it is a
// result, else a stack array (or, for long or batch-sized rows, a slice of
// an arena scratch buffer). Softmax and log_softmax subtract the row max
// and accumulate in float64 exactly as the unfused kernels do.

// rowCtx says how a member of a rows region is laid over the domain.
type rowCtx int

const (
	ctxVec rowCtx = iota + 1 // the domain's shape: a row vector per row
	ctxRow                   // one value per row
)

// rowStackMax is the most float32s of row buffers a rows kernel keeps on
// its stack; longer rows go to arena scratch space.
const rowStackMax = 1 << 13

func isRowwise(n *ir.Value) bool { return n.Op == ir.OpSoftmax || n.Op == ir.OpLogSoftmax }

func isReduce(n *ir.Value) bool {
	return n.Op == ir.OpReduceSum || n.Op == ir.OpReduceMean || n.Op == ir.OpReduceMax
}

// analyzeRows finds the domain, gives each member its context and checks
// that every member reads the others as the row pass computes them.
func (fn *fusedNode) analyzeRows(members []*ir.Value) error {
	for _, n := range members {
		if isRowwise(n) || isReduce(n) {
			fn.domain = n.Args[0].Type.Shape
			break
		}
	}
	d := fn.domain
	if len(d) == 0 {
		return errors.New("no row op over a domain of rank >= 1")
	}
	last := len(d) - 1
	rows := d[:last]
	kept := append(rows.Clone(), ir.C(1))
	fn.ctx = map[*ir.Value]rowCtx{}
	for _, n := range members {
		switch {
		case isRowwise(n):
			axes, err := ir.NormalizeAxes([]int64{n.Attrs.Int("axis", -1)}, len(n.Type.Shape))
			if err != nil || axes[0] != last || !n.Args[0].Type.Shape.Equal(d) {
				return fmt.Errorf("%s is not along the last axis of %s", n.Op, d)
			}
			fn.ctx[n] = ctxVec
		case isReduce(n):
			axes, err := ir.NormalizeAxes(n.Attrs.Ints("axes"), len(n.Args[0].Type.Shape))
			if err != nil || len(axes) != 1 || axes[0] != last || !n.Args[0].Type.Shape.Equal(d) ||
				!(n.Type.Shape.Equal(kept) || n.Type.Shape.Equal(rows)) {
				return fmt.Errorf("%s is not over the last axis of %s", n.Op, d)
			}
			fn.ctx[n] = ctxRow
		case elementwiseLike(n):
			switch {
			case n.Type.Shape.Equal(d):
				fn.ctx[n] = ctxVec
			case n.Type.Shape.Equal(kept) || n.Type.Shape.Equal(rows):
				fn.ctx[n] = ctxRow
			default:
				return fmt.Errorf("%s has shape %s, neither the domain %s nor one value per row", n.Op, n.Type.Shape, d)
			}
		default:
			return fmt.Errorf("%s cannot run in a row pass", n.Op)
		}
	}
	rs := contiguous(shapeMonos(rows))
	cols := dimMono(d[last])
	for _, b := range members {
		for _, a := range b.Args {
			ca, ok := fn.ctx[a]
			if !ok {
				continue // operands of the fused node and constants: read by index
			}
			if isRowwise(b) || isReduce(b) {
				if ca != ctxVec {
					return fmt.Errorf("%s reads a row scalar", b.Op)
				}
				continue
			}
			cb := fn.ctx[b]
			if ca == ctxVec && cb == ctxRow {
				return fmt.Errorf("%s, one value per row, reads a row vector", b.Op)
			}
			// The broadcast NumPy does must be the one the row pass does:
			// row r of b reads row r of a, column j column j (or the
			// row's one value).
			st := broadcastStrides(a.Type.Shape, b.Type.Shape)
			for i := range rows {
				if rows[i] == ir.C(1) {
					continue
				}
				want := rs[i]
				if ca == ctxVec {
					want = want.mul(cols)
				}
				if st[i] != want {
					return fmt.Errorf("%s reads %s across rows", b.Op, a.Op)
				}
			}
			if cb == ctxVec && !cols.isOne() {
				want := mono{}
				if ca == ctxVec {
					want = one
				}
				if st[last] != want {
					return fmt.Errorf("%s reads %s across columns", b.Op, a.Op)
				}
			}
		}
	}
	return nil
}

// rowStage is one step of the pass over a row.
type rowStage struct {
	loop bool        // a loop over the columns
	pre  []*ir.Value // loop: row scalars computed before the loop
	body []*ir.Value // loop: row vectors and reductions; else one member
}

// rowsEmitter holds the state of one rows kernel's emission.
type rowsEmitter struct {
	k       *kernel
	fn      *fusedNode
	d       ir.Shape
	cols    mono
	rowVars []string
	rowDims []int // the row dims the loops run over (non-unit)
	rowSt   []mono
	rUsed   bool
	stageOf map[*ir.Value]*rowStage
	mat     map[*ir.Value]bool   // row vectors kept in a row buffer
	stack   map[*ir.Value]bool   // ... a stack array (else a slice of an output or scratch buffer)
	rowBuf  map[*ir.Value]string // the buffer the row slice comes from
	outIdx  map[*ir.Value]int
	consts  map[*ir.Value]string
	// rowLoaded lists the operands (one value per row) loaded before a
	// loop, in the row's scope.
	rowLoaded map[int]bool
	// softmaxStats names the max and the sum of exp(x - max) of each
	// operand whose softmax an earlier stage of the row computed: a
	// log_softmax of the same operand reuses them (same values, same
	// order, so the same bits) instead of a second pass of exp.
	softmaxStats map[*ir.Value][2]string
	// blk is the state of the block form (rows_block.go), nil in the
	// per-row form.
	blk *blockState
}

// emitRows emits the kernel of a rows region.
func (k *kernel) emitRows(fn *fusedNode) {
	r := fn.region
	need := needed(r.Results)
	var members []*ir.Value
	for _, n := range r.Body {
		if n.Op != ir.OpConstant && need[n] {
			members = append(members, n)
		}
	}
	e := &rowsEmitter{k: k, fn: fn, d: fn.domain, stageOf: map[*ir.Value]*rowStage{}, mat: map[*ir.Value]bool{},
		stack: map[*ir.Value]bool{}, rowBuf: map[*ir.Value]string{}, outIdx: map[*ir.Value]int{}, rowLoaded: map[int]bool{}}
	last := len(e.d) - 1
	e.cols = dimMono(e.d[last])
	rows := e.d[:last]
	rs := contiguous(shapeMonos(rows))
	var sizes []mono
	for i, dim := range rows {
		if dim != ir.C(1) {
			e.rowDims = append(e.rowDims, i)
			e.rowVars = append(e.rowVars, "i"+strconv.Itoa(len(e.rowVars)))
			e.rowSt = append(e.rowSt, rs[i])
			sizes = append(sizes, dimMono(dim))
		}
	}
	if len(sizes) == 0 {
		e.rowVars, sizes = []string{"i0"}, []mono{one}
	}
	k.rows, k.work = sizes[0], product(shapeMonos(e.d))
	for j, res := range r.Results {
		e.outIdx[res] = j
	}

	// Schedule: consecutive row vectors share a loop; a reduction joins
	// the loop that computes its operand and its value is known after
	// it; a row scalar that needs no such value is computed before the
	// open loop; softmax and log_softmax close the loop.
	var stages []*rowStage
	var cur *rowStage
	pending := map[*ir.Value]bool{}
	closeLoop := func() { cur, pending = nil, map[*ir.Value]bool{} }
	open := func() *rowStage {
		if cur == nil {
			cur = &rowStage{loop: true}
			stages = append(stages, cur)
		}
		return cur
	}
	readsPending := func(m *ir.Value) bool {
		for _, a := range m.Args {
			if pending[a] {
				return true
			}
		}
		return false
	}
	for _, m := range members {
		switch {
		case isRowwise(m):
			closeLoop()
			s := &rowStage{body: []*ir.Value{m}}
			stages = append(stages, s)
			e.stageOf[m] = s
		case isReduce(m):
			s := open()
			s.body = append(s.body, m)
			pending[m] = true
			e.stageOf[m] = s
		case fn.ctx[m] == ctxVec:
			if readsPending(m) {
				closeLoop()
			}
			s := open()
			s.body = append(s.body, m)
			e.stageOf[m] = s
		default:
			if readsPending(m) {
				closeLoop()
			}
			if cur != nil {
				cur.pre = append(cur.pre, m)
				e.stageOf[m] = cur
			} else {
				s := &rowStage{body: []*ir.Value{m}}
				stages = append(stages, s)
				e.stageOf[m] = s
			}
		}
	}

	// Row buffers: results over the domain, softmax results and
	// operands, row vectors read in another stage, and every row vector
	// of a stage that runs vector-wide (rows_vec.go).
	e.consts = constNames(fn, members)
	if e.emitRowsBlock(stages, members) {
		return
	}
	markRows := func(vec map[*rowStage]bool) int64 {
		e.mat = map[*ir.Value]bool{}
		for _, m := range members {
			if _, ok := e.outIdx[m]; ok && fn.ctx[m] == ctxVec {
				e.mat[m] = true
			}
			if isRowwise(m) || (vec[e.stageOf[m]] && fn.ctx[m] == ctxVec && !isReduce(m)) {
				e.mat[m] = true
			}
			for _, a := range m.Args {
				if fn.ctx[a] == ctxVec && (isRowwise(m) || e.stageOf[a] != e.stageOf[m]) {
					e.mat[a] = true
				}
			}
		}
		kept := int64(0)
		for m := range e.mat {
			if _, ok := e.outIdx[m]; !ok {
				kept++
			}
		}
		return kept
	}
	vecStages := e.vecRowStages(stages, markRows)
	markRows(vecStages)
	var decls []jen.Code
	stackUsed := int64(0)
	for _, m := range members {
		if !e.mat[m] {
			continue
		}
		if j, ok := e.outIdx[m]; ok {
			e.rowBuf[m] = k.outName(j)
			k.uses[k.outName(j)] = true
			continue
		}
		if e.cols.p == 0 && stackUsed+e.cols.c <= rowStackMax {
			stackUsed += e.cols.c
			e.stack[m] = true
			decls = append(decls, jen.Var().Id(e.name("buf", m)).Index(jen.Lit(int(e.cols.c))).Add(goElemType(m.Type.DType)))
			continue
		}
		t := len(k.tmpSizes)
		k.tmpSizes = append(k.tmpSizes, product(shapeMonos(e.d)))
		k.setTmpDType(t, m.Type.DType)
		e.rowBuf[m] = "tmp" + strconv.Itoa(t)
		k.uses[e.rowBuf[m]] = true
	}
	decls = append(decls, k.declConsts(fn, members)...)

	var row []jen.Code
	for _, m := range members {
		if e.mat[m] && !e.stack[m] {
			row = append(row, jen.Id(e.name("row", m)).Op(":=").Id(e.rowBuf[m]).Index(e.rowBase().Op(":").Add(e.rowBase().Op("+").Add(k.n(e.cols)))))
		}
	}
	for _, s := range stages {
		switch {
		case s.loop && vecStages[s]:
			row = append(row, e.loopStageVec(s)...)
		case s.loop:
			row = append(row, e.loopStage(s)...)
		case isRowwise(s.body[0]):
			row = append(row, e.rowwiseStage(s.body[0])...)
		default:
			row = append(row, e.scalar(s.body[0])...)
		}
	}
	if e.rUsed && len(e.rowDims) > 1 {
		row = append([]jen.Code{jen.Id("r").Op(":=").Add(k.index(e.rowVars, e.rowSt))}, row...)
	}
	var stmt jen.Code
	inner := row
	for i := len(e.rowVars) - 1; i >= 0; i-- {
		from, to := jen.Code(jen.Id("lo")), jen.Code(jen.Id("hi"))
		if i > 0 {
			from, to = jen.Lit(0), k.n(sizes[i])
		}
		stmt = loop(e.rowVars[i], from, to, inner...)
		inner = []jen.Code{stmt}
	}
	k.body = append(k.body, decls...)
	k.body = append(k.body, stmt)
}

func (e *rowsEmitter) name(prefix string, m *ir.Value) string {
	return prefix + strconv.Itoa(e.fn.index[m])
}

// rowIndex renders the index of the current row.
func (e *rowsEmitter) rowIndex() *jen.Statement {
	e.rUsed = true
	if len(e.rowDims) > 1 {
		return jen.Id("r")
	}
	return jen.Id(e.rowVars[0])
}

// rowBase renders the index of the current row's first element.
func (e *rowsEmitter) rowBase() *jen.Statement {
	if e.cols.isOne() {
		return e.rowIndex()
	}
	return e.rowIndex().Op("*").Add(e.k.n(e.cols))
}

// elem renders element j of row vector m's row buffer.
func (e *rowsEmitter) elem(m *ir.Value) *jen.Statement {
	if e.stack[m] {
		return jen.Id(e.name("buf", m)).Index(jen.Id("j"))
	}
	if e.blk != nil {
		e.blk.used[m] = true
	}
	return jen.Id(e.name("row", m)).Index(jen.Id("j"))
}

// rowSlice renders the current row of a (a row vector) as a slice, or
// nil where it is not contiguous: a fused-node operand broadcast along the
// columns.
func (e *rowsEmitter) rowSlice(a *ir.Value) *jen.Statement {
	if j, ok := e.fn.param[a]; ok {
		st := broadcastStrides(a.Type.Shape, e.d)
		if st[len(st)-1] != one {
			return nil
		}
		var vars []string
		var sts []mono
		for i, d := range e.rowDims {
			vars, sts = append(vars, e.rowVars[i]), append(sts, st[d])
		}
		zero := true
		for _, s := range sts {
			zero = zero && s.isZero()
		}
		if zero { // one row broadcast over the rows
			return e.k.x(j).Index(jen.Op(":").Add(e.k.n(e.cols)))
		}
		at := e.k.index(vars, sts)
		return e.k.x(j).Index(at.Clone().Op(":").Add(at).Op("+").Add(e.k.n(e.cols)))
	}
	if e.stack[a] {
		return jen.Id(e.name("buf", a)).Index(jen.Op(":"))
	}
	return jen.Id(e.name("row", a))
}

// param renders the element of fused-node operand p that a member of
// shape ctx reads in the current row (at column j when vec).
func (e *rowsEmitter) param(p *ir.Value, ctx ir.Shape, vec bool) *jen.Statement {
	if e.blk != nil && vec {
		if x := e.blockParam(p); x != nil {
			return x
		}
	}
	st := broadcastStrides(p.Type.Shape, ctx)
	var vars []string
	var sts []mono
	for i, d := range e.rowDims {
		vars, sts = append(vars, e.rowVars[i]), append(sts, st[d])
	}
	if vec {
		vars, sts = append(vars, "j"), append(sts, st[len(st)-1])
	}
	return e.k.x(e.fn.param[p]).Index(e.k.index(vars, sts))
}

// operand renders operand a of member m computed in stage s; loads lists
// the operands loaded at the top of the loop (by operand index).
func (e *rowsEmitter) operand(a, m *ir.Value, s *rowStage, loads map[int]bool) *jen.Statement {
	if name, ok := e.consts[a]; ok {
		return jen.Id(name)
	}
	if j, ok := e.fn.param[a]; ok {
		if e.fn.ctx[m] == ctxVec || isReduce(m) {
			loads[j] = true
			return jen.Id("a" + strconv.Itoa(j))
		}
		return e.param(a, m.Type.Shape, false)
	}
	if e.blk != nil && e.fn.ctx[a] == ctxRow && e.blk.group[a] != e.blk.cur {
		e.blk.loads[a] = true // computed in another step of the block
	}
	if e.fn.ctx[a] == ctxRow || (e.stageOf[a] == s && !isRowwise(a)) {
		return jen.Id(e.name("v", a))
	}
	return e.elem(a)
}

// store renders the store of row scalar m when it is a result.
func (e *rowsEmitter) store(m *ir.Value) []jen.Code {
	j, ok := e.outIdx[m]
	if !ok {
		return nil
	}
	return []jen.Code{e.k.out(j).Index(e.rowIndex()).Op("=").Id(e.name("v", m))}
}

// scalar computes row scalar m.
func (e *rowsEmitter) scalar(m *ir.Value) []jen.Code {
	xs := make([]*jen.Statement, len(m.Args))
	for i, a := range m.Args {
		xs[i] = e.operand(a, m, nil, nil)
	}
	out := []jen.Code{jen.Id(e.name("v", m)).Op(":=").Add(e.k.memberExpr(m, xs))}
	return append(out, e.store(m)...)
}

// loopStage emits one loop over the columns with the row scalars before
// it and the reductions' values after it.
func (e *rowsEmitter) loopStage(s *rowStage) []jen.Code {
	k := e.k
	var pre, body, post []jen.Code
	for _, m := range s.pre {
		pre = append(pre, e.scalar(m)...)
	}
	loads := map[int]bool{}
	for _, m := range s.body {
		if !isReduce(m) {
			xs := make([]*jen.Statement, len(m.Args))
			for i, a := range m.Args {
				xs[i] = e.operand(a, m, s, loads)
			}
			v := e.name("v", m)
			body = append(body, jen.Id(v).Op(":=").Add(k.memberExpr(m, xs)))
			if e.mat[m] {
				body = append(body, e.elem(m).Op("=").Id(v))
			}
			continue
		}
		x := e.operand(m.Args[0], m, s, loads)
		acc := e.name("acc", m)
		v := e.name("v", m)
		switch {
		case m.Op == ir.OpReduceMax:
			pre = append(pre, jen.Id(acc).Op(":=").Add(roundTo(m.Type.DType, jen.Qual(mathPath, "Inf").Call(jen.Lit(-1)))))
			body = append(body, jen.Id(acc).Op("=").Max(jen.Id(acc), x))
			post = append(post, jen.Id(v).Op(":=").Id(acc))
		case m.Type.DType == ir.F32: // sum, mean: see reduceLanes
			decl, add, total := reduceLanes(acc, "j", x)
			if m.Op == ir.OpReduceMean {
				total = total.Op("/").Float64().Call(k.n(e.cols))
			}
			pre = append(pre, decl)
			body = append(body, add)
			post = append(post, jen.Id(v).Op(":=").Add(roundTo(m.Type.DType, total)))
		case m.Op == ir.OpReduceSum:
			pre = append(pre, jen.Id(acc).Op(":=").Lit(0.0))
			body = append(body, jen.Id(acc).Op("+=").Float64().Call(x))
			post = append(post, jen.Id(v).Op(":=").Add(roundTo(m.Type.DType, jen.Id(acc))))
		default: // mean
			pre = append(pre, jen.Id(acc).Op(":=").Lit(0.0))
			body = append(body, jen.Id(acc).Op("+=").Float64().Call(x))
			post = append(post, jen.Id(v).Op(":=").Add(roundTo(m.Type.DType, jen.Id(acc).Op("/").Float64().Call(k.n(e.cols)))))
		}
		post = append(post, e.store(m)...)
	}
	// Operands are loaded at the top of the loop, or before it when they
	// hold one value per row.
	var ld []jen.Code
	for j, p := range e.fn.region.Params {
		if !loads[j] {
			continue
		}
		load := jen.Id("a" + strconv.Itoa(j)).Op(":=").Add(e.param(p, e.d, true))
		if st := broadcastStrides(p.Type.Shape, e.d); st[len(st)-1].isZero() {
			if !e.rowLoaded[j] { // once per row, for every loop
				e.rowLoaded[j] = true
				pre = append(pre, load)
			}
		} else {
			ld = append(ld, load)
		}
	}
	out := pre
	out = append(out, loop("j", jen.Lit(0), k.n(e.cols), append(ld, body...)...))
	return append(out, post...)
}

// rowwiseStage emits softmax or log_softmax of one row as the unfused
// kernel does: the max, then the sum of exp(x - max) in float64.
func (e *rowsEmitter) rowwiseStage(m *ir.Value) []jen.Code {
	k := e.k
	xj := func() *jen.Statement {
		a := m.Args[0]
		if _, ok := e.fn.param[a]; ok {
			return e.param(a, e.d, true)
		}
		return e.elem(a)
	}
	oj := func() *jen.Statement { return e.elem(m) }
	if st, ok := e.softmaxStats[m.Args[0]]; ok && m.Op == ir.OpLogSoftmax {
		mx, sum, lse := st[0], st[1], e.name("lse", m)
		diff := jen.Float64().Call(xj()).Op("-").Float64().Call(jen.Id(mx))
		return []jen.Code{
			jen.Id(lse).Op(":=").Qual(mathPath, "Log").Call(jen.Id(sum)),
			loop("j", jen.Lit(0), k.n(e.cols), oj().Op("=").Add(roundTo(m.Type.DType, diff.Op("-").Id(lse)))),
		}
	}
	mx, sum := e.name("mx", m), e.name("sum", m)
	if m.Op == ir.OpSoftmax {
		if e.softmaxStats == nil {
			e.softmaxStats = map[*ir.Value][2]string{}
		}
		e.softmaxStats[m.Args[0]] = [2]string{mx, sum}
	}
	c := k.n(e.cols)
	out := []jen.Code{
		jen.Id(mx).Op(":=").Add(roundTo(m.Type.DType, jen.Qual(mathPath, "Inf").Call(jen.Lit(-1)))),
		loop("j", jen.Lit(0), c, jen.Id(mx).Op("=").Max(jen.Id(mx), xj())),
	}
	if m.Type.DType == ir.F32 { // see rows_exp.go
		var xrow, orow *jen.Statement
		if !k.g.noVector {
			orow = e.rowSlice(m)
			if wideRow(e.cols) {
				xrow = e.rowSlice(m.Args[0])
			}
		}
		out = rowMaxF32(xj, c, xrow, mx)
		if m.Op == ir.OpLogSoftmax {
			lse := e.name("lse", m)
			out = append(out, logSoftmaxSumF32(xj, k.n(e.cols), mx, sum)...)
			return append(out,
				jen.Id(lse).Op(":=").Qual(mathPath, "Log").Call(jen.Id(sum)),
				loop("j", jen.Lit(0), k.n(e.cols), oj().Op("=").Add(roundTo(m.Type.DType,
					jen.Float64().Call(xj()).Op("-").Float64().Call(jen.Id(mx)).Op("-").Id(lse)))),
			)
		}
		return append(out, softmaxRowF32(xj, oj, k.n(e.cols), xrow, orow, mx, sum, e.name("inv", m))...)
	}
	out = append(out, jen.Id(sum).Op(":=").Lit(0.0))
	diff := func() *jen.Statement { return jen.Float64().Call(xj()).Op("-").Float64().Call(jen.Id(mx)) }
	if m.Op == ir.OpLogSoftmax {
		lse := e.name("lse", m)
		out = append(out,
			loop("j", jen.Lit(0), k.n(e.cols), jen.Id(sum).Op("+=").Qual(mathPath, "Exp").Call(diff())),
			jen.Id(lse).Op(":=").Qual(mathPath, "Log").Call(jen.Id(sum)),
			loop("j", jen.Lit(0), k.n(e.cols), oj().Op("=").Add(roundTo(m.Type.DType, diff().Op("-").Id(lse)))),
		)
		return out
	}
	return append(out,
		loop("j", jen.Lit(0), k.n(e.cols),
			jen.Id("e").Op(":=").Qual(mathPath, "Exp").Call(diff()),
			jen.Id(sum).Op("+=").Id("e"),
			oj().Op("=").Add(roundTo(m.Type.DType, jen.Id("e")))),
		loop("j", jen.Lit(0), k.n(e.cols), oj().Op("=").Add(roundTo(m.Type.DType, jen.Float64().Call(oj()).Op("/").Id(sum)))),
	)
}
