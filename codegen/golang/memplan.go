package golang

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Memory planning.
//
// Every arena buffer of a function (parameters, node results, scratch,
// staging slots) has a lifetime over the function's schedule, the body
// order: it is written at body index def (-1: before the body, as the
// parameters are copied in; len(body): after it, as staging slots are)
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
// Without reuse (Options.NoFuse, the baseline) every buffer gets space of
// its own.

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
// and copies the updates before returning, and a Model is not used
// concurrently. Without reuse the functions follow one another.
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
			if b.persist && !b.size.isZero() {
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
			if b.size.isZero() {
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
		if b.size.isZero() {
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
				if d.kind == inArena && d.last == b.def && d.size == b.size && !donated[d] && isLive(live, d) {
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
// type, offset (in MaxBatch: mb), size (in the batch: N) and lifetime (body
// indices; "in" and "out" for before and after the body), then the values
// that are another value's buffer, and last the arena's size. It is what the
// memory planner's golden tests compare.
func (g *gen) planText() string {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	for _, fp := range g.fns() {
		fmt.Fprintf(tw, "func @%s\n", fp.f.Name)
		for _, vp := range fp.bufs {
			t := vp.typ.String()
			live := fmt.Sprintf("%s..%s", stepName(vp.def, fp), stepName(vp.last, fp))
			note := ""
			if vp.inPlaceOf != nil {
				note = "in place of " + vp.inPlaceOf.name
			}
			if vp.persist {
				note = "kept after the call"
			}
			fmt.Fprintf(tw, "  %s\t%s\toff %s\tsize %s\tlive %s\t%s\n", vp.name, t, polyString(vp.off), monoString(vp.size, "N"), live, note)
		}
		// Values that are another's buffer: extracts, reshapes.
		for i, v := range fp.f.Body {
			name := "%" + strconv.Itoa(i)
			if vp := fp.vals[v]; vp != nil && vp.kind == inArena && vp.name != name {
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
