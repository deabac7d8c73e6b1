package golang

import (
	"strconv"

	"github.com/dave/jennifer/jen"
	"github.com/dlc-project/dlc/ir"
)

// Vector-wide fused loops.
//
// Go does not vectorise loops, so a fused elementwise loop whose innermost
// dim is long and contiguous is emitted as a loop over chunks of that dim:
// per chunk, every member that has a runtime.Vec* function is one call of
// it (AVX-512 where the CPU has it), writing a chunk buffer on the stack;
// members without one (exp, log, …) run as a scalar loop over the chunk.
// The region's results are copied out after the chunk's last member, so an
// output may share its buffer with an operand read at the same index, as
// in the scalar loop. The Vec* functions compute each op's float32 result
// exactly as the scalar expression does, so both forms give the same bits.

// vecChunk is the longest chunk: with a dozen live members the buffers
// stay well inside L1, and a call covers 32 AVX-512 vectors.
const vecChunk = 512

// vecMinInner is the shortest innermost dim worth chunking: below it the
// calls cost more than the scalar loop.
const vecMinInner = 32

// operand kinds within a chunk.
const (
	vkScalar = iota // one float32 for the whole chunk
	vkVector        // a slice of w elements
)

type vecVal struct {
	kind int
	name string
}

// vecPlan reports whether l can run vector-wide over the merged dims ds,
// and with which chunk length.
func vecPlan(l fusedLoop, ds []ldim) (chunk int64, ok bool) {
	last := ds[len(ds)-1]
	if !last.out.isOne() {
		return 0, false
	}
	for j := range l.inputs {
		if st := last.in[j]; !st.isZero() && !st.isOne() {
			return 0, false
		}
	}
	if last.size.p == 0 {
		if last.size.c < vecMinInner {
			return 0, false
		}
		chunk = min(last.size.c, vecChunk)
	} else {
		chunk = vecChunk
	}
	prims := 0
	for _, m := range l.members {
		if !vecDType(m.Type.DType) {
			return 0, false
		}
		for _, a := range m.Args {
			if !vecDType(a.Type.DType) {
				return 0, false
			}
		}
		if vecFunc(m, []int{vkVector, vkVector, vkVector}) != "" {
			prims++
		}
	}
	return chunk, prims > 0
}

// vecDType: values a chunk buffer holds (bools are stored as 0 or 1).
func vecDType(dt ir.DType) bool { return dt == ir.F32 || dt == ir.Bool }

// vecFunc names the runtime function computing member m from operands of
// the given kinds, with its operands reordered as the function takes
// them (see vecCall), or "" when m has none and runs as a scalar loop.
func vecFunc(m *ir.Value, kinds []int) string {
	name, _ := vecCallOrder(m, kinds)
	return name
}

// vecCallOrder gives the runtime function for m and the order in which it
// takes m's operands.
func vecCallOrder(m *ir.Value, kinds []int) (string, []int) {
	k := func(i int) int { return kinds[i] }
	binary := func(base string, commutative bool) (string, []int) {
		switch {
		case k(0) == vkVector && k(1) == vkVector:
			return base, []int{0, 1}
		case k(0) == vkVector:
			return base + "S", []int{0, 1}
		case commutative:
			return base + "S", []int{1, 0}
		default:
			return "S" + base, []int{0, 1}
		}
	}
	compare := func(base, flipped string) (string, []int) {
		switch {
		case k(0) == vkVector && k(1) == vkVector:
			return base, []int{0, 1}
		case k(0) == vkVector:
			return base + "S", []int{0, 1}
		default: // s op b[i] is b[i] flipped-op s, exactly (NaN: both false)
			return flipped + "S", []int{1, 0}
		}
	}
	switch m.Op {
	case ir.OpAdd:
		return binary("Add", true)
	case ir.OpMul:
		return binary("Mul", true)
	case ir.OpSub:
		return binary("Sub", false)
	case ir.OpDiv:
		return binary("Div", false)
	case ir.OpNeg:
		return "Neg", []int{0}
	case ir.OpSqrt:
		return "Sqrt", []int{0}
	case ir.OpRelu:
		return "Relu", []int{0}
	case ir.OpExp:
		return "Exp", []int{0}
	case ir.OpSigmoid:
		return "Sigmoid", []int{0}
	case ir.OpTanh:
		return "Tanh", []int{0}
	case ir.OpLog:
		return "Log", []int{0}
	case ir.OpErf:
		return "Erf", []int{0}
	case ir.OpGreater:
		return compare("GT", "LT")
	case ir.OpGreaterEqual:
		return compare("GE", "LE")
	case ir.OpLess:
		return compare("LT", "GT")
	case ir.OpLessEqual:
		return compare("LE", "GE")
	case ir.OpEqual:
		return compare("EQ", "EQ")
	case ir.OpSelect:
		if k(0) != vkVector {
			return "", nil
		}
		switch {
		case k(1) == vkVector && k(2) == vkVector:
			return "Select", []int{0, 1, 2}
		case k(1) == vkVector:
			return "SelectVS", []int{0, 1, 2}
		case k(2) == vkVector:
			return "SelectSV", []int{0, 1, 2}
		default:
			return "SelectSS", []int{0, 1, 2}
		}
	case ir.OpCast:
		if m.Type.DType == ir.Bool && m.Args[0].Type.DType != ir.Bool {
			return "NonZero", []int{0}
		}
	}
	return "", nil
}

// emitFusedLoopVec emits l chunked over the innermost of the merged dims
// ds (vecPlan said it can).
func (k *kernel) emitFusedLoopVec(l fusedLoop, ds []ldim, chunk int64) {
	d := len(ds)
	sizes := make([]mono, d)
	vars := make([]string, d)
	outStrides := make([]mono, d)
	for i := range ds {
		sizes[i], vars[i], outStrides[i] = ds[i].size, "i"+strconv.Itoa(i), ds[i].out
	}
	vars[d-1] = "c"
	k.rows, k.work = ds[0].size, product(sizes)

	vals := map[*ir.Value]vecVal{}
	var pre, body []jen.Code
	pre = append(pre, k.declConsts(l.fn, l.members)...)
	for c, name := range constNames(l.fn, l.members) {
		vals[c] = vecVal{vkScalar, name}
	}
	w := jen.Id("w")
	for j, in := range l.inputs {
		st := make([]mono, d)
		scalar := true
		for i := range ds {
			st[i] = ds[i].in[j]
			scalar = scalar && st[i].isZero()
		}
		name := "a" + strconv.Itoa(j)
		switch {
		case scalar:
			name = "s" + strconv.Itoa(j)
			pre = append(pre, jen.Id(name).Op(":=").Add(k.x(in.buf)).Index(jen.Lit(0)))
			vals[in.val] = vecVal{vkScalar, name}
		case st[d-1].isZero(): // constant along the chunk: one element per row
			body = append(body, jen.Id(name).Op(":=").Add(k.x(in.buf)).Index(k.index(vars, st)))
			vals[in.val] = vecVal{vkScalar, name}
		default:
			from := k.index(vars, st)
			body = append(body, jen.Id(name).Op(":=").Add(k.x(in.buf)).Index(from.Clone().Op(":").Add(from.Clone()).Op("+").Add(w)))
			vals[in.val] = vecVal{vkVector, name}
		}
	}

	// Chunk buffers, reused once a member's last reader has run (a
	// result is kept to the end for its store). An alias member (a
	// broadcast, a cast that keeps the values) reads its operand's
	// buffer: readers and stores of an alias count as its root's.
	rootOf := aliasRoots(l.members)
	lastUse := map[*ir.Value]int{}
	for i, m := range l.members {
		for _, a := range m.Args {
			lastUse[rootOf(a)] = i
		}
	}
	for _, s := range l.stores {
		lastUse[rootOf(s.val)] = len(l.members)
	}
	slotOf := map[*ir.Value]int{}
	var free []int
	nslots := 0
	// The last member, when exactly one store writes it, is computed
	// straight into that store's output rows instead of a chunk buffer
	// then copied: no member after it reads an operand, so an operand
	// that shares the output's space (in place) is read before it is
	// overwritten, element for element at the index written.
	// Stores of operands themselves, or of aliases of them (copied after
	// the members), rule it out: such an operand could share the output's
	// space.
	direct, directDone := -1, false
	isMember := map[*ir.Value]bool{}
	for _, m := range l.members {
		isMember[m] = true
	}
	if len(l.members) > 0 {
		last := l.members[len(l.members)-1]
		for si, st := range l.stores {
			if !isMember[rootOf(st.val)] {
				direct = -2
				break
			}
			if st.val == last {
				if direct >= 0 {
					direct = -2
					break
				}
				direct = si
			}
		}
	}
	storeDst := func(si int) *jen.Statement {
		from := k.index(vars, outStrides)
		return k.out(l.stores[si].out).Index(from.Clone().Op(":").Add(from.Clone()).Op("+").Add(w))
	}
	for i, m := range l.members {
		kinds := make([]int, len(m.Args))
		allScalar := true
		for a, arg := range m.Args {
			kinds[a] = vals[arg].kind
			allScalar = allScalar && kinds[a] == vkScalar
		}
		name := "v" + strconv.Itoa(l.fn.index[m])
		switch {
		case isAliasMember(m):
			vals[m] = vals[m.Args[0]]
			continue
		case allScalar:
			xs := make([]*jen.Statement, len(m.Args))
			for a, arg := range m.Args {
				xs[a] = jen.Id(vals[arg].name)
			}
			body = append(body, jen.Id(name).Op(":=").Add(k.memberExpr(m, xs)))
			vals[m] = vecVal{vkScalar, name}
			continue
		}
		// Free the slots whose last reader is this member before taking
		// one: the result may overwrite an operand at the same index.
		for _, arg := range m.Args {
			arg = rootOf(arg)
			if s, ok := slotOf[arg]; ok && lastUse[arg] == i {
				free = append(free, s)
				delete(slotOf, arg)
			}
		}
		if i == len(l.members)-1 && direct >= 0 {
			body = append(body, jen.Id(name).Op(":=").Add(storeDst(direct)))
			directDone = true
		} else {
			var slot int
			if len(free) > 0 {
				slot, free = free[len(free)-1], free[:len(free)-1]
			} else {
				slot = nslots
				nslots++
			}
			if lastUse[m] > i {
				slotOf[m] = slot
			} else {
				free = append(free, slot) // unused result (cannot happen for needed members)
			}
			buf := "vb" + strconv.Itoa(slot)
			body = append(body, jen.Id(name).Op(":=").Id(buf).Index(jen.Op(":").Add(w)))
		}
		vals[m] = vecVal{vkVector, name}
		if fn, order := vecCallOrder(m, kinds); fn != "" {
			args := []jen.Code{jen.Id(name)}
			for _, a := range order {
				args = append(args, jen.Id(vals[m.Args[a]].name))
			}
			body = append(body, jen.Qual(runtimePath, "Vec"+fn).Call(args...))
			continue
		}
		xs := make([]*jen.Statement, len(m.Args))
		for a, arg := range m.Args {
			xs[a] = jen.Id(vals[arg].name)
			if vals[arg].kind == vkVector {
				xs[a] = xs[a].Index(jen.Id("j"))
			}
		}
		body = append(body, jen.For(jen.Id("j").Op(":=").Range().Id(name)).Block(
			jen.Id(name).Index(jen.Id("j")).Op("=").Add(k.memberExpr(m, xs))))
	}
	for si, s := range l.stores {
		if si == direct && directDone {
			continue // computed in place above
		}
		dst := storeDst(si)
		v := vals[s.val]
		if v.kind == vkVector {
			body = append(body, jen.Copy(dst, jen.Id(v.name)))
			continue
		}
		// A value constant over the chunk: fill (a block keeps dst local).
		body = append(body, jen.Block(
			jen.Id("dst").Op(":=").Add(dst),
			jen.For(jen.Id("j").Op(":=").Range().Id("dst")).Block(jen.Id("dst").Index(jen.Id("j")).Op("=").Id(v.name))))
	}

	for s := 0; s < nslots; s++ {
		pre = append(pre, jen.Var().Id("vb"+strconv.Itoa(s)).Index(jen.Lit(int(chunk))).Float32())
	}
	// The chunk loop over the innermost dim; for one merged dim it is the
	// dim the pool splits.
	from, to := jen.Code(jen.Id("lo")), jen.Code(jen.Id("hi"))
	if d > 1 {
		from, to = jen.Lit(0), k.n(ds[d-1].size)
	}
	inner := append([]jen.Code{jen.Id("w").Op(":=").Min(jen.Lit(int(chunk)), jen.Add(to).Op("-").Id("c"))}, body...)
	stmt := jen.For(jen.Id("c").Op(":=").Add(from), jen.Id("c").Op("<").Add(to), jen.Id("c").Op("+=").Lit(int(chunk))).Block(inner...)
	for i := d - 2; i >= 0; i-- {
		lf, lt := jen.Code(jen.Id("lo")), jen.Code(jen.Id("hi"))
		if i > 0 {
			lf, lt = jen.Lit(0), k.n(ds[i].size)
		}
		stmt = loop(vars[i], lf, lt, stmt)
	}
	goLoop := append(pre, stmt)
	if asm, ok := k.fusedLoopAsm(l, ds); ok {
		k.body = append(k.body, jen.If(jen.Id("fusedAsm").Op("&&").Qual(runtimePath, "FusedAsm").Call()).Block(asm...).Else().Block(goLoop...))
		return
	}
	k.body = append(k.body, goLoop...)
}

// emitMapVec emits an unfused elementwise node as runtime.Vec* calls, one
// per run of its innermost merged dim, when that dim is contiguous and
// long and the op has a vector function: the unfused baseline then
// dispatches vectorised kernels, one op at a time, as a framework does.
// It reports false (emitting nothing) otherwise.
func (k *kernel) emitMapVec(dims []mono, strides [][]mono) bool {
	if k.g.noVector || !vecDType(k.v.Type.DType) {
		return false
	}
	for _, a := range k.v.Args {
		if !vecDType(a.Type.DType) {
			return false
		}
	}
	ds := mergeDims(dims, strides)
	d := len(ds)
	last := ds[d-1]
	if !last.out.isOne() || (last.size.p == 0 && last.size.c < vecMinInner) {
		return false
	}
	kinds := make([]int, len(strides))
	for j := range strides {
		switch st := last.in[j]; {
		case st.isOne():
			kinds[j] = vkVector
		case st.isZero():
			kinds[j] = vkScalar
		default:
			return false
		}
	}
	fn, order := vecCallOrder(k.v, kinds)
	if fn == "" {
		return false
	}
	sizes := make([]mono, d)
	vars := make([]string, d)
	outStrides := make([]mono, d)
	for i := range ds {
		sizes[i], vars[i], outStrides[i] = ds[i].size, "i"+strconv.Itoa(i), ds[i].out
	}
	vars[d-1] = "c"
	k.rows, k.work = ds[0].size, product(sizes)
	// The innermost dim is either the whole [lo, hi) (one merged dim) or
	// [0, size) at c = 0.
	from, to := jen.Code(jen.Id("lo")), jen.Code(jen.Id("hi"))
	if d > 1 {
		from, to = jen.Lit(0), k.n(last.size)
	}
	span := func(x *jen.Statement, st []mono) *jen.Statement {
		if d == 1 {
			return x.Index(jen.Add(from).Op(":").Add(to))
		}
		outer := append(append([]mono(nil), st[:d-1]...), mono{}) // the run starts at c = 0
		zero := true
		for _, m := range outer {
			zero = zero && m.isZero()
		}
		if zero {
			return x.Index(jen.Op(":").Add(to))
		}
		at := k.index(vars, outer)
		return x.Index(at.Clone().Op(":").Add(at.Clone()).Op("+").Add(to))
	}
	var pre []jen.Code
	args := []jen.Code{span(k.o(), outStrides)}
	vals := make([]jen.Code, len(strides))
	for j := range strides {
		st := make([]mono, d)
		scalar := true
		for i := range ds {
			st[i] = ds[i].in[j]
			scalar = scalar && st[i].isZero()
		}
		switch {
		case scalar:
			s := "s" + strconv.Itoa(j)
			pre = append(pre, jen.Id(s).Op(":=").Add(k.x(j)).Index(jen.Lit(0)))
			vals[j] = jen.Id(s)
		case kinds[j] == vkScalar:
			vals[j] = k.x(j).Index(k.index(vars, st))
		default:
			vals[j] = span(k.x(j), st)
		}
	}
	for _, a := range order {
		args = append(args, vals[a])
	}
	var stmt jen.Code = jen.Qual(runtimePath, "Vec"+fn).Call(args...)
	if d > 1 {
		for i := d - 2; i >= 0; i-- {
			lf, lt := jen.Code(jen.Id("lo")), jen.Code(jen.Id("hi"))
			if i > 0 {
				lf, lt = jen.Lit(0), k.n(ds[i].size)
			}
			stmt = loop(vars[i], lf, lt, stmt)
		}
	}
	k.body = append(k.body, pre...)
	k.body = append(k.body, stmt)
	return true
}

// isAliasMember reports whether fused-loop member m only renames its
// operand's values (a broadcast, a cast that keeps the values), so that a
// loop reads the operand's chunk or register for it.
func isAliasMember(m *ir.Value) bool {
	return m.Op == ir.OpBroadcast || (m.Op == ir.OpCast && castElem(m.Args[0].Type.DType, m.Type.DType) == nil)
}

// aliasRoots maps each value of a fused loop to the value whose storage
// it reads: an alias member's root operand, anything else itself.
func aliasRoots(members []*ir.Value) func(*ir.Value) *ir.Value {
	root := map[*ir.Value]*ir.Value{}
	rootOf := func(v *ir.Value) *ir.Value {
		if r, ok := root[v]; ok {
			return r
		}
		return v
	}
	for _, m := range members {
		if isAliasMember(m) {
			root[m] = rootOf(m.Args[0])
		}
	}
	return rootOf
}
