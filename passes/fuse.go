package passes

import (
	"fmt"
	"sort"

	"github.com/dlc-project/dlc/ir"
)

// Fuse is the fusion pass. In every function it groups nodes into fused
// nodes, each the call of a region function that a backend runs as one
// kernel:
//
//   - elementwise: connected elementwise and broadcast nodes over one
//     shape (the domain) become one loop nest;
//   - matmul: a matmul and the elementwise work on its result (bias,
//     activation, in the backward graph the activation-derivative mask)
//     become one kernel: the product, then its epilogue;
//   - rows: softmax, log-softmax and reductions along the last axis with
//     the elementwise work around them over [rows, cols] (log-softmax +
//     cross-entropy, normalisations) run as one pass per row.
//
// The optimizer's update of a weight (the new moments and the new weight)
// is elementwise over the weight's shape and so becomes one loop with
// several results, which the fused node returns as a tuple taken apart by
// extract nodes.
//
// A node joins the region of one of its operands when the kinds fit and
// the join cannot make a cycle (no operand outside the region depends on
// the region); otherwise it starts a region. Splat constants are copied
// into the regions that use them. Every elementwise node ends up in a
// fused node, a region of one if need be.
func Fuse(m *ir.Module, _ *Config) error {
	funcs := append([]*ir.Func(nil), m.Funcs...)
	for _, f := range funcs {
		if f.Region {
			continue
		}
		if err := fuseFunc(m, f); err != nil {
			return fmt.Errorf("fuse @%s: %w", f.Name, err)
		}
	}
	// Splat constants copied into regions may have no use left outside.
	return DCE(m, nil)
}

type region struct {
	id      int
	kind    string
	domain  ir.Shape // elementwise: the loop shape; rows and matmul: the [.., cols] shape
	members []*ir.Value
	hasRow  bool // holds a row op (rows regions)
}

// rowOp reports whether v works along the last axis of its operand: the
// ops that make a region a rows region.
func rowOp(v *ir.Value) bool {
	switch v.Op {
	case ir.OpSoftmax, ir.OpLogSoftmax:
		r := len(v.Type.Shape)
		ax := v.Attrs.Int("axis", -1)
		return r > 0 && (ax == -1 || ax == int64(r-1))
	case ir.OpReduceSum, ir.OpReduceMax, ir.OpReduceMean:
		x := v.Args[0]
		r := len(x.Type.Shape)
		axes, err := ir.NormalizeAxes(v.Attrs.Ints("axes"), r)
		return err == nil && r >= 1 && len(axes) == 1 && axes[0] == r-1
	}
	return false
}

func elementwiseLike(v *ir.Value) bool {
	return ir.IsElementwise(v.Op) || v.Op == ir.OpBroadcast
}

// isSplat reports whether v is a constant holding one value.
func isSplat(v *ir.Value) bool {
	return v.Op == ir.OpConstant && len(v.Attrs.Floats("value")) == 1
}

// rowScalarShape is the shape of one value per row of domain d, with and
// without the kept axis.
func rowScalarShape(d ir.Shape, s ir.Shape) bool {
	if len(d) == 0 {
		return false
	}
	kept := append(d[:len(d)-1].Clone(), ir.C(1))
	return s.Equal(kept) || s.Equal(d[:len(d)-1])
}

// fits reports whether v may join region r (kinds and shapes; cycles are
// checked by the caller).
func fits(r *region, v *ir.Value) bool {
	switch r.kind {
	case ir.FuseElementwise, ir.FuseMatMul:
		if elementwiseLike(v) && v.Type.Shape.Equal(r.domain) {
			return true
		}
		// An elementwise region turns into a rows region when a row op over
		// its domain joins.
		return r.kind == ir.FuseElementwise && rowOp(v) && v.Args[0].Type.Shape.Equal(r.domain)
	case ir.FuseRows:
		if rowOp(v) {
			return v.Args[0].Type.Shape.Equal(r.domain)
		}
		return elementwiseLike(v) && (v.Type.Shape.Equal(r.domain) || rowScalarShape(r.domain, v.Type.Shape))
	}
	return false
}

func fuseFunc(m *ir.Module, f *ir.Func) error {
	pos := map[*ir.Value]int{}
	for i, v := range f.Body {
		pos[v] = i
	}
	regionOf := map[*ir.Value]*region{}
	var regions []*region
	// merged maps a region absorbed into another to it (union-find).
	merged := map[*region]*region{}
	find := func(r *region) *region {
		for r != nil && merged[r] != nil {
			r = merged[r]
		}
		return r
	}
	group := func(x *ir.Value) *region { return find(regionOf[x]) }
	// acyclic reports whether the regions rs together with the value extra
	// (a node about to join them; may be nil) can be one fused node: no
	// path may leave the group and come back. It walks back from every
	// operand outside the group over the graph with each region taken as
	// one node (a region depends on everything its members depend on).
	acyclic := func(extra *ir.Value, rs ...*region) bool {
		inGroup := func(x *ir.Value) bool {
			if x == extra {
				return true
			}
			g := group(x)
			for _, r := range rs {
				if g != nil && g == r {
					return true
				}
			}
			return false
		}
		seenV := map[*ir.Value]bool{}
		seenR := map[*region]bool{}
		var reaches func(x *ir.Value) bool // does x depend on the group?
		reaches = func(x *ir.Value) bool {
			if inGroup(x) {
				return true
			}
			var preds []*ir.Value
			if g := group(x); g != nil {
				if seenR[g] {
					return false
				}
				seenR[g] = true
				for _, mbr := range g.members {
					preds = append(preds, mbr.Args...)
				}
			} else {
				if seenV[x] {
					return false
				}
				seenV[x] = true
				preds = x.Args
			}
			for _, a := range preds {
				if group(a) != nil && group(a) == group(x) {
					continue
				}
				if reaches(a) {
					return true
				}
			}
			return false
		}
		var nodes []*ir.Value
		if extra != nil {
			nodes = append(nodes, extra)
		}
		for _, r := range rs {
			nodes = append(nodes, r.members...)
		}
		for _, n := range nodes {
			for _, a := range n.Args {
				if !inGroup(a) && reaches(a) {
					return false
				}
			}
		}
		return true
	}
	for _, v := range f.Body {
		if !elementwiseLike(v) && !rowOp(v) {
			continue
		}
		// Join the first operand region that fits, then absorb the other
		// operand regions that fit, as long as no cycle appears.
		var joined *region
		for _, a := range v.Args {
			r := group(a)
			if r == nil || r == joined || !fits(r, v) {
				continue
			}
			if joined == nil {
				if acyclic(v, r) {
					joined = r
				}
				continue
			}
			if r.kind == ir.FuseMatMul || joined.kind == ir.FuseMatMul || !r.domain.Equal(joined.domain) {
				continue
			}
			if acyclic(v, joined, r) {
				merged[r] = joined
				joined.members = append(joined.members, r.members...)
				sort.Slice(joined.members, func(i, j int) bool { return pos[joined.members[i]] < pos[joined.members[j]] })
				if r.kind == ir.FuseRows {
					joined.kind, joined.hasRow = ir.FuseRows, true
				}
			}
		}
		if joined == nil {
			joined = &region{id: len(regions), kind: ir.FuseElementwise, domain: v.Type.Shape.Clone()}
			if rowOp(v) {
				joined.kind, joined.domain, joined.hasRow = ir.FuseRows, v.Args[0].Type.Shape.Clone(), true
			}
			regions = append(regions, joined)
		} else if rowOp(v) && joined.kind == ir.FuseElementwise {
			joined.kind, joined.hasRow = ir.FuseRows, true
		}
		joined.members = append(joined.members, v)
		regionOf[v] = joined
	}
	live := regions[:0]
	for _, r := range regions {
		if merged[r] == nil {
			live = append(live, r)
		}
	}
	regions = live
	for _, mbr := range f.Body {
		if r := group(mbr); r != nil {
			regionOf[mbr] = r
		}
	}
	// Epilogues: a 2-D matmul feeding an elementwise region over its shape
	// becomes the region's head, unless that would make a cycle.
	for _, v := range f.Body {
		if v.Op != ir.OpMatMul || len(v.Type.Shape) != 2 || regionOf[v] != nil {
			continue
		}
		for _, r := range regions {
			if r.kind != ir.FuseElementwise || !r.domain.Equal(v.Type.Shape) || !usesValue(r, v) {
				continue
			}
			if acyclic(v, r) {
				r.kind = ir.FuseMatMul
				r.members = append([]*ir.Value{v}, r.members...)
				regionOf[v] = r
				break
			}
		}
	}
	if len(regions) == 0 {
		return nil
	}
	uses := externalUses(f)
	b := ir.BuilderFor(m, f)
	replaced := map[*ir.Value]*ir.Value{}
	var fusedNodes []*ir.Value
	for _, r := range regions {
		fn, err := buildRegion(m, f, r, regionOf, uses, replaced, b)
		if err != nil {
			return err
		}
		fusedNodes = append(fusedNodes, fn...)
	}
	// The body: the nodes left, the fused nodes and their extracts, in an
	// order that respects every use (each region sits after its inputs).
	inRegion := func(v *ir.Value) bool { return regionOf[v] != nil }
	var rest []*ir.Value
	for _, v := range f.Body {
		if !inRegion(v) {
			rest = append(rest, v)
		}
	}
	oldBody := f.Body
	f.Body = append(rest, fusedNodes...)
	// Uses of a member, by nodes left, by other fused nodes, by results
	// and updates, become uses of its fused node (or extract). Walk the
	// members in body order so the replacement is deterministic.
	for _, v := range oldBody {
		if nu, ok := replaced[v]; ok {
			f.ReplaceUses(v, nu)
		}
	}
	f.Body = topoOrder(f.Body, oldBody)
	return b.Err()
}

func usesValue(r *region, v *ir.Value) bool {
	for _, mbr := range r.members {
		for _, a := range mbr.Args {
			if a == v {
				return true
			}
		}
	}
	return false
}

// externalUses counts the uses of each value by results and updates.
func externalUses(f *ir.Func) map[*ir.Value]bool {
	out := map[*ir.Value]bool{}
	for _, r := range f.Results {
		out[r] = true
	}
	for _, u := range f.Updates {
		out[u.Value] = true
	}
	return out
}

// buildRegion makes r's region function and the fused node (and extracts)
// that replace its members, recording old → new in replaced.
func buildRegion(m *ir.Module, f *ir.Func, r *region, regionOf map[*ir.Value]*region, resultUse map[*ir.Value]bool,
	replaced map[*ir.Value]*ir.Value, b *ir.Builder) ([]*ir.Value, error) {
	name := uniqueFuncName(m, fmt.Sprintf("%s_fused%d", f.Name, r.id))
	rf := &ir.Func{Name: name, Region: true}
	rb := ir.BuilderFor(m, rf)
	inner := map[*ir.Value]*ir.Value{}
	var inputs []*ir.Value
	for _, v := range r.members {
		for _, a := range v.Args {
			if _, ok := inner[a]; ok || regionOf[a] == r {
				continue
			}
			if isSplat(a) {
				inner[a] = rb.Const(a.Type, a.Attrs.Floats("value")...)
				continue
			}
			inputs = append(inputs, a)
			inner[a] = rb.Param(fmt.Sprintf("in%d", len(inputs)-1), a.Type)
		}
		args := make([]*ir.Value, len(v.Args))
		for i, a := range v.Args {
			args[i] = inner[a]
		}
		attrs := v.Attrs.Clone()
		var nv *ir.Value
		if ir.IsElementwise(v.Op) || v.Op == ir.OpBroadcast || v.Op == ir.OpMatMul || rowOp(v) {
			nv = rb.Op(v.Op, attrs, args...)
		}
		if err := rb.Err(); err != nil {
			return nil, fmt.Errorf("region %s: %w", name, err)
		}
		inner[v] = nv
	}
	// Results: members used outside the region.
	usedOutside := map[*ir.Value]bool{}
	for _, v := range f.Body {
		if regionOf[v] == r {
			continue
		}
		for _, a := range v.Args {
			if regionOf[a] == r {
				usedOutside[a] = true
			}
		}
	}
	var outs []*ir.Value
	for _, v := range r.members {
		if usedOutside[v] || resultUse[v] {
			outs = append(outs, v)
		}
	}
	if len(outs) == 0 {
		return nil, nil // dead region: DCE's job; leave its members out
	}
	innerOuts := make([]*ir.Value, len(outs))
	for i, o := range outs {
		innerOuts[i] = inner[o]
	}
	rf.Results = innerOuts
	m.Funcs = append(m.Funcs, rf)
	var t ir.Type
	if len(outs) == 1 {
		t = outs[0].Type
	} else {
		elems := make([]ir.Type, len(outs))
		for i, o := range outs {
			elems[i] = o.Type
		}
		t = ir.Tuple(elems...)
	}
	fused := &ir.Value{Op: ir.OpFused, Args: inputs, Attrs: ir.Attrs{"region": name, "kind": r.kind}, Type: t}
	nodes := []*ir.Value{fused}
	if len(outs) == 1 {
		replaced[outs[0]] = fused
		return nodes, nil
	}
	for i, o := range outs {
		x := &ir.Value{Op: ir.OpExtract, Args: []*ir.Value{fused}, Attrs: ir.Attrs{"index": int64(i)}, Type: o.Type}
		replaced[o] = x
		nodes = append(nodes, x)
	}
	return nodes, nil
}

func uniqueFuncName(m *ir.Module, base string) string {
	name := base
	for i := 2; m.Func(name) != nil; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	return name
}

// topoOrder orders nodes so that every operand comes before its users,
// keeping, among the nodes ready at each step, the order of their first
// appearance in old (fused nodes take the place of their first member).
func topoOrder(nodes []*ir.Value, old []*ir.Value) []*ir.Value {
	pos := map[*ir.Value]int{}
	for i, v := range old {
		pos[v] = i
	}
	rank := func(v *ir.Value) int {
		if p, ok := pos[v]; ok {
			return p
		}
		// A fused node or extract: after its latest operand.
		best := -1
		for _, a := range v.Args {
			if p, ok := pos[a]; ok && p > best {
				best = p
			}
		}
		return best
	}
	in := map[*ir.Value]bool{}
	for _, v := range nodes {
		in[v] = true
	}
	sorted := append([]*ir.Value(nil), nodes...)
	sort.SliceStable(sorted, func(i, j int) bool { return rank(sorted[i]) < rank(sorted[j]) })
	var out []*ir.Value
	done := map[*ir.Value]bool{}
	var visit func(v *ir.Value)
	visit = func(v *ir.Value) {
		if done[v] {
			return
		}
		done[v] = true
		for _, a := range v.Args {
			if in[a] {
				visit(a)
			}
		}
		out = append(out, v)
	}
	for _, v := range sorted {
		visit(v)
	}
	return out
}
