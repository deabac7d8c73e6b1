package golang

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Memory planning.
//
// Every arena buffer of a function (node results, scratch, staging slots;
// the parameters in the NoFuse baseline) has a lifetime over the
// function's schedule, the body order: it is written at body index def
// (-1: before the body, as the parameters are copied in; len(body): after
// it, as staging slots are)
// and last read at body index last (len(body) for values the generated
// code reads after the kernels: results, update values). Two buffers may
// share space when their lifetimes do not overlap; a node's results are
// written while its operands are read, so they never share space with
// them, except in place: a result may take the space of an operand that
// dies at the node when the node reads it element for element at the index
// it writes (an elementwise op, or a fused elementwise loop, over operands
// of the result's shape: valPlan.donors).
//
// Sizes are linear in the batch (c·N, or c·N^p in general), and the arena
// must be valid for any MaxBatch, so buffers are planned by zone: zone p
// holds the buffers of size c·N^p, planned in units of N^p elements (the
// elements of one sample for p = 1), each zone independently. A zone's
// plan is an interval packing: in schedule order, each buffer takes the
// smallest free block that fits (the lowest such on ties), the arena's end
// growing when none does, and its block is freed after its last read.
// The arena is then zone 0, zone 1 scaled by MaxBatch, and so on: an
// offset is a polynomial in MaxBatch that New evaluates.
//
// predict and train_step share the arena, except that no value of predict
// takes the space of what TrainOutput returns, which must stay valid after
// a Predict (planArena). Weights, state and constants have their own
// buffers and are not planned.
//
// Two kinds of values live outside the arena too (planned variant only):
//
//   - Parameters: the kernels read x (and y) from the caller's slices,
//     which the generated code hands to their tasks for the call; nothing
//     is copied in, and no kernel writes over a parameter (a parameter is
//     never a donor). The call is synchronous, so the caller cannot modify
//     them meanwhile.
//   - Updates in place: the new value V of a state S is written by its
//     kernel straight into S's own buffer, instead of into an arena slot
//     copied over S after the kernels (planInPlaceUpdates). The old value
//     of S lives in that buffer from the start of the call until its last
//     read, V from its write to the end: legal when every read of the old
//     value happens before V's node, or at V's node by the kernel writing
//     V, element for element at the index it writes (S is one of V's
//     donors: an elementwise op, a fused elementwise loop or a matmul
//     epilogue, which load every operand of an element before storing).
//     Reads of the old value after the kernels (a result that is a state
//     read, an update that copies another state) forbid it, as do a matmul
//     product, a transpose, a broadcast or a row kernel reading S at V's
//     node. When V is the output of a fused matmul that also receives the
//     product (the epilogue overwrites it), the product gets an arena
//     buffer of its own ("%i.mm"). The order of the nodes does not change.
//
// Without reuse (Options.NoFuse, the baseline) every buffer gets space of
// its own: the parameters are copied into the arena and every update is
// copied over its state after the kernels.

// span is a free block of a zone: [off, off+size) in the zone's units.
type span struct{ off, size int64 }

// allocator packs one zone of one function.
type allocator struct {
	free []span // sorted by offset, adjacent blocks merged
	top  int64  // the zone's size so far
}

// alloc returns the offset of a new block of n units: the smallest free
// block that holds n (the lowest on ties), else the end of the zone (taking
// a free block that ends there, if any).
func (a *allocator) alloc(n int64) int64 {
	best := -1
	for i, s := range a.free {
		if s.size >= n && (best < 0 || s.size < a.free[best].size) {
			best = i
		}
	}
	if best >= 0 {
		s := &a.free[best]
		off := s.off
		s.off, s.size = s.off+n, s.size-n
		if s.size == 0 {
			a.free = append(a.free[:best], a.free[best+1:]...)
		}
		return off
	}
	if k := len(a.free); k > 0 && a.free[k-1].off+a.free[k-1].size == a.top {
		off := a.free[k-1].off
		a.free = a.free[:k-1]
		a.top = off + n
		return off
	}
	off := a.top
	a.top += n
	return off
}

// release frees the block [off, off+n).
func (a *allocator) release(off, n int64) {
	i := sort.Search(len(a.free), func(i int) bool { return a.free[i].off > off })
	a.free = append(a.free, span{})
	copy(a.free[i+1:], a.free[i:])
	a.free[i] = span{off, n}
	// Merge with the next block, then with the previous one.
	if i+1 < len(a.free) && a.free[i].off+a.free[i].size == a.free[i+1].off {
		a.free[i].size += a.free[i+1].size
		a.free = append(a.free[:i+1], a.free[i+2:]...)
	}
	if i > 0 && a.free[i-1].off+a.free[i-1].size == a.free[i].off {
		a.free[i-1].size += a.free[i].size
		a.free = append(a.free[:i], a.free[i+1:]...)
	}
}

// reopen frees the whole zone but the reserved blocks (sorted by offset,
// disjoint), keeping its size.
func (a *allocator) reopen(reserved []span) {
	a.free = a.free[:0]
	at := int64(0)
	for _, r := range reserved {
		if r.off > at {
			a.free = append(a.free, span{at, r.off - at})
		}
		at = max(at, r.off+r.size)
	}
	if a.top > at {
		a.free = append(a.free, span{at, a.top - at})
	}
}

// planArena lays out the arena buffers of fns (reusing space when reuse is
// set), sets each buffer's offset and returns the arena's size, both as
// polynomials in MaxBatch.
//
// With reuse the functions share each zone: train_step is planned first,
// then predict in the same space, around the buffers of train_step that
// must survive the call (persist: what TrainOutput returns). Nothing else
// outlives a call: Predict copies its result out, TrainStep reads the loss
// and copies the updates it did not write in place before returning, and
// a Model is not used concurrently. Without reuse the functions follow one
// another.
func planArena(fns []*fnPlan, reuse bool) poly {
	allocs := map[int]*allocator{}
	order := fns
	if reuse {
		order = make([]*fnPlan, len(fns))
		for i, fp := range fns {
			order[len(fns)-1-i] = fp
		}
	}
	reserved := map[int][]span{} // zone -> blocks that persist
	for _, fp := range order {
		if reuse {
			for z, a := range allocs {
				rs := append([]span(nil), reserved[z]...)
				sort.Slice(rs, func(i, j int) bool { return rs[i].off < rs[j].off })
				a.reopen(rs)
			}
		}
		planFn(fp, reuse, allocs)
		for _, b := range fp.bufs {
			if b.kind == inArena && b.persist && !b.size.isZero() {
				reserved[b.size.p] = append(reserved[b.size.p], span{b.zoneOff, b.size.c})
			}
		}
	}
	maxZone := 0
	for z := range allocs {
		maxZone = max(maxZone, z)
	}
	// Zone z starts after zones 0..z-1.
	zoneBase := make([]poly, maxZone+2)
	for z := 0; z <= maxZone; z++ {
		top := int64(0)
		if a := allocs[z]; a != nil {
			top = a.top
		}
		zoneBase[z+1] = zoneBase[z].plus(mono{c: top, p: z})
	}
	for _, fp := range fns {
		for _, b := range fp.bufs {
			if b.kind != inArena || b.size.isZero() {
				b.off = nil
				continue
			}
			z := b.size.p
			b.off = zoneBase[z].plus(mono{c: b.zoneOff, p: z})
		}
	}
	return zoneBase[maxZone+1]
}

// planFn packs fp's buffers into the zones' allocators.
func planFn(fp *fnPlan, reuse bool, allocs map[int]*allocator) {
	bufs := append([]*valPlan(nil), fp.bufs...)
	sort.SliceStable(bufs, func(i, j int) bool { return bufs[i].def < bufs[j].def })
	zone := func(b *valPlan) *allocator {
		a := allocs[b.size.p]
		if a == nil {
			a = &allocator{}
			allocs[b.size.p] = a
		}
		return a
	}
	var live []*valPlan // allocated, not yet freed
	donated := map[*valPlan]bool{}
	for _, b := range bufs {
		b.inPlaceOf, b.zoneOff = nil, 0
	}
	for _, b := range bufs {
		if b.kind != inArena || b.size.isZero() {
			continue
		}
		if reuse {
			// Free what died before b is written.
			keep := live[:0]
			for _, l := range live {
				if l.last < b.def {
					zone(l).release(l.zoneOff, l.size.c)
				} else {
					keep = append(keep, l)
				}
			}
			live = keep
			for _, d := range b.donors {
				// (Same element width too: an f32 result written over an
				// f64 operand of the same (even-rounded) size would not
				// be element for element.)
				if d.kind == inArena && d.last == b.def && d.size == b.size && dtypeSlots(d.dtype()) == dtypeSlots(b.dtype()) && !donated[d] && isLive(live, d) {
					donated[d] = true
					b.inPlaceOf, b.zoneOff = d, d.zoneOff
					live = remove(live, d)
					break
				}
			}
		}
		if b.inPlaceOf == nil {
			b.zoneOff = zone(b).alloc(b.size.c)
		}
		live = append(live, b)
	}
}

// planInPlaceUpdates makes each update value of fp that may be written
// over its state's buffer (see the comment at the top) a value in that
// buffer: storage inState. It runs once fp's kernels are emitted, before
// the arena is planned, and records when each state's value on entry is
// last read (fp.stateReads).
func (g *gen) planInPlaceUpdates(fp *fnPlan) {
	if len(fp.f.Updates) == 0 {
		return
	}
	fp.stateReads = g.stateReads(fp)
	taken := map[*weightPlan]bool{}
	for _, u := range fp.f.Updates {
		s := g.byName[u.Weight]
		vp := fp.vals[u.Value]
		if s == nil || taken[s] || vp.kind != inArena || vp.def < 0 || vp.def >= len(fp.f.Body) ||
			vp.size != constMono(s.size) {
			continue
		}
		node := fp.f.Body[vp.def]
		mt := fp.mmTargets[node]
		retarget := mt != nil && mt.mk.outs[0] == vp
		donors, product := vp.donors, (*kernel)(nil)
		if retarget {
			donors, product = mt.donors, mt.mk
		}
		if !fp.mayOverwrite(vp, s, donors, product) {
			continue
		}
		if retarget {
			// The product gets a buffer of its own, which the matmul
			// kernel writes and the epilogue reads.
			mm := &valPlan{v: node, typ: mt.mk.v.Type, kind: inArena, size: vp.size,
				name: "%" + strconv.Itoa(vp.def) + ".mm", def: vp.def, last: vp.def}
			fp.insertBuf(mm)
			mt.mk.outs[0] = mm
			mt.ek.ins[len(mt.ek.ins)-1] = mm
			vp.donors = donors
			delete(fp.mmTargets, node)
		}
		vp.kind, vp.w = inState, s
		taken[s] = true
	}
}

// stateReads returns, for each weight whose value on entry fp reads, the
// last body index that reads it: the last kernel that has it as an
// operand, or len(body) when the generated code reads it after the
// kernels (a result that is a weight read, an update that copies another
// weight).
func (g *gen) stateReads(fp *fnPlan) map[*weightPlan]int {
	end := len(fp.f.Body)
	last := map[*weightPlan]int{}
	read := func(w *weightPlan, at int) {
		if cur, ok := last[w]; !ok || at > cur {
			last[w] = at
		}
	}
	for _, k := range fp.kernels {
		for _, in := range k.ins {
			if in.kind == inWeight {
				read(in.w, k.at)
			}
		}
	}
	for _, r := range fp.f.Results {
		if vp := fp.vals[r]; vp.kind == inWeight {
			read(vp.w, end)
		}
	}
	for _, u := range fp.f.Updates {
		if vp := fp.vals[u.Value]; vp.kind == inWeight && vp.w != g.byName[u.Weight] {
			read(vp.w, end)
		}
	}
	return last
}

// mayOverwrite reports whether vp, the new value of state s, may be
// written over s's buffer: no read of s's value on entry comes after vp's
// node, and at vp's node only kernels that write vp read s, as one of
// donors (element for element, at the index they write). product, if not
// nil, is the kernel that would write the node's matmul product into vp:
// it gets another buffer, so it does not count as writing vp.
func (fp *fnPlan) mayOverwrite(vp *valPlan, s *weightPlan, donors []*valPlan, product *kernel) bool {
	lr, read := fp.stateReads[s]
	switch {
	case !read || lr < vp.def:
		return true
	case lr > vp.def:
		return false
	}
	for _, k := range fp.kernels {
		if k.at != vp.def {
			continue
		}
		writes := k != product && slices.Contains(k.outs, vp)
		for _, in := range k.ins {
			if in.kind == inWeight && in.w == s && !(writes && slices.Contains(donors, in)) {
				return false
			}
		}
	}
	return true
}

// insertBuf adds b to fp's buffers after those made at or before b.def,
// keeping them in order of def.
func (fp *fnPlan) insertBuf(b *valPlan) {
	i := len(fp.bufs)
	for i > 0 && fp.bufs[i-1].def > b.def {
		i--
	}
	fp.bufs = slices.Insert(fp.bufs, i, b)
}

func isLive(live []*valPlan, b *valPlan) bool {
	for _, l := range live {
		if l == b {
			return true
		}
	}
	return false
}

func remove(live []*valPlan, b *valPlan) []*valPlan {
	out := live[:0]
	for _, l := range live {
		if l != b {
			out = append(out, l)
		}
	}
	return out
}

// planText prints the arena plan: for each function, each buffer with its
// type, place (an offset in MaxBatch: mb; the caller's slice for a
// parameter read in place; a state's buffer for an update written in
// place), size (in the batch: N) and lifetime (body indices; "in" and
// "out" for before and after the body), then the values that are another
// value's buffer, and last the arena's size. It is what the memory
// planner's golden tests compare.
func (g *gen) planText() string {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	for _, fp := range g.fns() {
		fmt.Fprintf(tw, "func @%s\n", fp.f.Name)
		for _, vp := range fp.bufs {
			t := vp.typ.String()
			live := fmt.Sprintf("%s..%s", stepName(vp.def, fp), stepName(vp.last, fp))
			place := "off " + polyString(vp.off)
			note := ""
			if vp.inPlaceOf != nil {
				note = "in place of " + vp.inPlaceOf.name
			}
			if vp.persist {
				note = "kept after the call"
			}
			switch vp.kind {
			case inParam:
				place, note = "caller's", "read in place"
			case inState:
				place = "state " + strconv.Quote(vp.w.w.Name)
				note = "over the old value, not read"
				if lr, ok := fp.stateReads[vp.w]; ok {
					note = "over the old value, last read at " + stepName(lr, fp)
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\tsize %s\tlive %s\t%s\n", vp.name, t, place, monoString(vp.size, "N"), live, note)
		}
		// Values that are another's buffer: extracts, reshapes.
		for i, v := range fp.f.Body {
			name := "%" + strconv.Itoa(i)
			if vp := fp.vals[v]; vp != nil && (vp.kind == inArena || vp.kind == inParam || vp.kind == inState) && vp.name != name {
				fmt.Fprintf(tw, "  %s\t%s\tis %s\t\t\t\n", name, v.Type, vp.name)
			}
		}
	}
	tw.Flush()
	fmt.Fprintf(&b, "arena %s floats\n", polyString(g.arena))
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

func stepName(i int, fp *fnPlan) string {
	switch {
	case i < 0:
		return "in"
	case i >= len(fp.f.Body):
		return "out"
	}
	return strconv.Itoa(i)
}

// monoString prints c·n^p as "c", "c·n" or "c·n^p".
func monoString(m mono, n string) string {
	switch m.p {
	case 0:
		return strconv.FormatInt(m.c, 10)
	case 1:
		return strconv.FormatInt(m.c, 10) + "·" + n
	}
	return strconv.FormatInt(m.c, 10) + "·" + n + "^" + strconv.Itoa(m.p)
}

// polyString prints p in MaxBatch ("mb"), highest power first.
func polyString(p poly) string {
	var parts []string
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] != 0 {
			parts = append(parts, monoString(mono{c: p[i], p: i}, "mb"))
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	s := parts[0]
	for _, q := range parts[1:] {
		s += " + " + q
	}
	return s
}

// eval returns p at MaxBatch mb.
func (p poly) eval(mb int64) int64 {
	s, x := int64(0), int64(1)
	for _, c := range p {
		s += c * x
		x *= mb
	}
	return s
}

// eval returns m at batch n.
func (m mono) eval(n int64) int64 {
	s := m.c
	for range m.p {
		s *= n
	}
	return s
}
