package passes

import (
	"fmt"
	"math"

	"github.com/dlc-project/dlc/ir"
)

// Simplify is the canonicalisation pass: it rewrites algebraic identities
// and layout chains into simpler equivalent forms, sweeping each function
// until nothing changes. Each rewrite gives exactly the bits the original
// gives in IEEE arithmetic (and in the wrap-around integer arithmetic of
// the integer dtypes), except where a rule's comment names the one
// difference it accepts (the sign of a zero). A replaced node is left in
// place with no uses, for the dce pass to remove; the result of every
// rewrite has exactly the type of the node it replaces (a broadcast is
// inserted where the simpler form would be smaller).
//
// The rules, as (node → replacement):
//
//	x * 1, 1 * x → x                  exact
//	x * -1, -1 * x → neg x            exact
//	x + (-0), (-0) + x → x            exact
//	x + 0, 0 + x → x                  exact but for x = -0, which gives +0, not -0
//	                                  (seen only by dividing by that zero: ±Inf)
//	x - 0 → x                         exact
//	x - (-0) → x                      exact but for the sign of a zero x, as x + 0
//	0 - x, (-0) - x → neg x           exact for -0; for +0 but for the sign of a zero x
//	x + neg y → x - y; neg x + y → y - x; x - neg y → x + y
//	                                  exact: IEEE defines x - y as x + (-y), and + commutes
//	x - x → 0                         integer dtypes only (see below)
//	x / 1 → x                         exact (integers too)
//	x / c → x * (1/c)                 floats, every element of the constant c a power of two
//	                                  whose reciprocal the dtype holds: 1/c is then exact,
//	                                  so x*(1/c) and x/c are the same real number, rounded once
//	neg (neg x) → x                   exact (integers too: wrap-around is its own inverse)
//	transpose (transpose x p) q → transpose x p∘q, or x when p∘q is the identity
//	transpose x identity → x
//	reshape (reshape x) s → reshape x s; reshape x (x's shape) → x
//	broadcast (broadcast x) s → broadcast x s; broadcast x (x's shape) → x
//	elementwise op with an operand broadcast y → the op on y, when the result type is
//	                                  unchanged (elementwise ops broadcast their operands
//	                                  anyway; this takes a broadcast scalar constant
//	                                  straight into the op that uses it)
//	cast x to x's dtype → x
//	select c a b, c a splat constant → a or b; select c a a → a
//	matmul (transpose x swapping the last two dims) y → matmul x y with transpose_a
//	                                  flipped (and the same for y): the same products
//	                                  summed in the same order
//
// Deliberately not done, being wrong for some IEEE inputs:
//
//   - x - x → 0 for floats: Inf - Inf and NaN - NaN are NaN. Done for
//     integer dtypes only, where it is exact.
//   - x * 0 → 0: NaN * 0 and Inf * 0 are NaN, and -1 * 0 is -0.
//   - x / c → x * (1/c) for c not a power of two: 1/c is rounded, so the
//     product can differ from the quotient in the last place; and for
//     integer dtypes, whose division truncates.
//   - x / x → 1, exp(log x) → x, log(exp x) → x, sqrt(x)*sqrt(x) → x: wrong
//     for 0, negative, huge or non-finite x, or off by rounding.
//   - cast (cast x a) b → cast x b: an intermediate narrower dtype rounds or
//     truncates.
//
// Region functions (the bodies of fused nodes) are left alone: the fusion
// passes that make them run after this pass, and a region's shape is a
// contract with the backends.
func Simplify(m *ir.Module, _ *Config) error {
	for _, f := range m.Funcs {
		if f.Region {
			continue
		}
		if err := simplifyFunc(m, f); err != nil {
			return fmt.Errorf("simplify @%s: %w", f.Name, err)
		}
	}
	return nil
}

// simpMaxSweeps bounds the sweeps over one function. Every rule makes the
// graph strictly smaller in some measure, so a fixed point comes in a few
// sweeps; not reaching one is a bug in the rules, reported rather than
// looped on.
const simpMaxSweeps = 100

func simplifyFunc(m *ir.Module, f *ir.Func) error {
	for sweep := 0; sweep < simpMaxSweeps; sweep++ {
		changed, err := simplifySweep(m, f)
		if err != nil {
			return err
		}
		if !changed {
			return nil
		}
	}
	return fmt.Errorf("no fixed point after %d sweeps", simpMaxSweeps)
}

// simplifySweep rewrites each live node of f once, in order. The new nodes
// of a rewrite are placed right after the node they replace (they use only
// values defined before it), and the uses of a replaced node are moved to
// its replacement as the sweep reaches them: operands come before their
// users, so one pass in order sees every use.
func simplifySweep(m *ir.Module, f *ir.Func) (bool, error) {
	// Only live nodes are rewritten: a replaced node stays in the body
	// without uses until dce, and rewriting it again would never settle.
	live := simpLive(f)
	scratch := &ir.Func{Name: f.Name}
	s := &simpRewriter{b: ir.BuilderFor(m, scratch)}
	repl := map[*ir.Value]*ir.Value{}
	resolve := func(v *ir.Value) *ir.Value {
		for {
			r, ok := repl[v]
			if !ok {
				return v
			}
			v = r
		}
	}
	out := make([]*ir.Value, 0, len(f.Body))
	changed := false
	for _, v := range f.Body {
		for i, a := range v.Args {
			v.Args[i] = resolve(a)
		}
		out = append(out, v)
		if !live[v] {
			continue
		}
		scratch.Body = scratch.Body[:0]
		r := s.rewrite(v)
		if err := s.b.Err(); err != nil {
			return false, fmt.Errorf("rewriting %s: %w", v.Op, err)
		}
		if r == nil {
			continue
		}
		if !r.Type.Equal(v.Type) {
			return false, fmt.Errorf("rewriting %s gave type %s, want %s", v.Op, r.Type, v.Type)
		}
		out = append(out, scratch.Body...)
		repl[v] = r
		changed = true
	}
	f.Body = out
	for i, r := range f.Results {
		f.Results[i] = resolve(r)
	}
	for i, u := range f.Updates {
		f.Updates[i].Value = resolve(u.Value)
	}
	return changed, nil
}

// simpLive returns the values that some result or update of f depends on.
func simpLive(f *ir.Func) map[*ir.Value]bool {
	live := map[*ir.Value]bool{}
	var stack []*ir.Value
	push := func(v *ir.Value) {
		if !live[v] {
			live[v] = true
			stack = append(stack, v)
		}
	}
	for _, r := range f.Results {
		push(r)
	}
	for _, u := range f.Updates {
		push(u.Value)
	}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, a := range v.Args {
			push(a)
		}
	}
	return live
}

// simpRewriter holds the builder that rewrites append their new nodes to.
type simpRewriter struct {
	b *ir.Builder
}

// rewrite returns the replacement of v, or nil when no rule applies. A
// rule decides whether it applies before building anything, so that a
// rule that does not fire leaves no node behind.
func (s *simpRewriter) rewrite(v *ir.Value) *ir.Value {
	if v.Type.IsTuple() {
		return nil
	}
	switch v.Op {
	case ir.OpAdd:
		if r := s.add(v); r != nil {
			return r
		}
	case ir.OpSub:
		if r := s.sub(v); r != nil {
			return r
		}
	case ir.OpMul:
		if r := s.mul(v); r != nil {
			return r
		}
	case ir.OpDiv:
		if r := s.div(v); r != nil {
			return r
		}
	case ir.OpNeg:
		if x := v.Args[0]; x.Op == ir.OpNeg {
			return x.Args[0] // the same type: neg keeps it
		}
	case ir.OpTranspose:
		return s.transpose(v)
	case ir.OpReshape:
		return s.reshape(v)
	case ir.OpBroadcast:
		return s.broadcast(v)
	case ir.OpCast:
		if x := v.Args[0]; x.Type.Equal(v.Type) {
			return x
		}
	case ir.OpSelect:
		if r := s.selectRule(v); r != nil {
			return r
		}
	case ir.OpMatMul:
		return s.matmul(v)
	}
	if ir.IsElementwise(v.Op) {
		return s.dropBroadcasts(v)
	}
	return nil
}

// simpCanFit reports whether x can stand for a value of type t: the same type,
// or the same dtype and a shape that broadcasts to t's.
func simpCanFit(x *ir.Value, t ir.Type) bool {
	if x.Type.IsTuple() || t.IsTuple() || x.Type.DType != t.DType {
		return false
	}
	if x.Type.Shape.Equal(t.Shape) {
		return true
	}
	bs, err := ir.BroadcastShapes(x.Type.Shape, t.Shape)
	return err == nil && bs.Equal(t.Shape)
}

// fit returns x as a value of type t, broadcasting it if need be; the
// caller has checked simpCanFit.
func (s *simpRewriter) fit(x *ir.Value, t ir.Type) *ir.Value {
	if x.Type.Equal(t) {
		return x
	}
	return s.b.BroadcastTo(x, t.Shape)
}

// fitIf returns fit(x, t) when simpCanFit, else nil (the rule does not fire).
func (s *simpRewriter) fitIf(x *ir.Value, t ir.Type) *ir.Value {
	if !simpCanFit(x, t) {
		return nil
	}
	return s.fit(x, t)
}

// simpSplat reports whether v is a constant whose elements, as its dtype
// holds them, are all the same value (bit for bit: +0 and -0 differ), and
// returns that value.
func simpSplat(v *ir.Value) (float64, bool) {
	if v.Op != ir.OpConstant || v.Type.IsTuple() {
		return 0, false
	}
	vals := v.Attrs.Floats("value")
	if len(vals) == 0 {
		return 0, false
	}
	first := simpRound(v.Type.DType, vals[0])
	for _, x := range vals[1:] {
		if math.Float64bits(simpRound(v.Type.DType, x)) != math.Float64bits(first) {
			return 0, false
		}
	}
	return first, true
}

// simpRound returns x as dtype dt holds it (F32, F16 and BF16 round; the
// interpreter does the same to every constant of those dtypes).
func simpRound(dt ir.DType, x float64) float64 { return ir.RoundFloat(dt, x) }

// simpSplatIs reports whether v is a splat constant of exactly x (bit for bit,
// so that -0 and +0 are told apart).
func simpSplatIs(v *ir.Value, x float64) bool {
	c, ok := simpSplat(v)
	return ok && math.Float64bits(c) == math.Float64bits(x)
}

// simpSplatZero reports whether v is a splat constant of +0 or -0.
func simpSplatZero(v *ir.Value) bool {
	return simpSplatIs(v, 0) || simpSplatIs(v, math.Copysign(0, -1))
}

func (s *simpRewriter) add(v *ir.Value) *ir.Value {
	x, y := v.Args[0], v.Args[1]
	// x + (-0) is x for every x; x + (+0) differs only for x = -0 (giving
	// +0), a difference accepted here, as compilers accept it under
	// no-signed-zeros: the two zeros compare equal and every op of the IR
	// but one gives equal results for them; the exception is a division
	// by that zero, which then gives -Inf for +Inf (or the reverse), a
	// computation already outside finite arithmetic. For integers 0 is
	// simply the identity.
	if simpSplatZero(y) {
		return s.fitIf(x, v.Type)
	}
	if simpSplatZero(x) {
		return s.fitIf(y, v.Type)
	}
	// x + (-z) is x - z by IEEE's definition of subtraction; the type is
	// unchanged, neg keeping its operand's.
	if y.Op == ir.OpNeg {
		return s.b.Sub(x, y.Args[0])
	}
	if x.Op == ir.OpNeg {
		return s.b.Sub(y, x.Args[0])
	}
	return nil
}

func (s *simpRewriter) sub(v *ir.Value) *ir.Value {
	x, y := v.Args[0], v.Args[1]
	// x - (+0) is x exactly (-0 - +0 = -0); x - (-0) is x + (+0), exact
	// but for the sign of a zero x (see add).
	if simpSplatZero(y) {
		return s.fitIf(x, v.Type)
	}
	// (-0) - y is -y exactly; (+0) - y differs from -y only for y = +0.
	if simpSplatZero(x) && simpCanFit(y, v.Type) {
		return s.fit(s.b.Unary(ir.OpNeg, y), v.Type)
	}
	if y.Op == ir.OpNeg {
		return s.b.Add(x, y.Args[0])
	}
	// In the wrap-around arithmetic of the integer dtypes x - x is 0
	// whatever x is. Not for floats: Inf - Inf and NaN - NaN are NaN.
	if x == y && v.Type.DType.IsInt() {
		return s.b.Const(v.Type, 0)
	}
	return nil
}

func (s *simpRewriter) mul(v *ir.Value) *ir.Value {
	x, y := v.Args[0], v.Args[1]
	// x * 1 is x for every x, NaN and the zeros included.
	if simpSplatIs(y, 1) {
		return s.fitIf(x, v.Type)
	}
	if simpSplatIs(x, 1) {
		return s.fitIf(y, v.Type)
	}
	// x * -1 is -x for every x (for integers, both wrap the same way).
	if simpSplatIs(y, -1) && simpCanFit(x, v.Type) {
		return s.fit(s.b.Unary(ir.OpNeg, x), v.Type)
	}
	if simpSplatIs(x, -1) && simpCanFit(y, v.Type) {
		return s.fit(s.b.Unary(ir.OpNeg, y), v.Type)
	}
	return nil
}

func (s *simpRewriter) div(v *ir.Value) *ir.Value {
	x, y := v.Args[0], v.Args[1]
	if simpSplatIs(y, 1) {
		return s.fitIf(x, v.Type)
	}
	if !v.Type.DType.IsFloat() || y.Op != ir.OpConstant {
		return nil
	}
	vals := y.Attrs.Floats("value")
	inv := make([]float64, len(vals))
	for i, c := range vals {
		r, ok := simpExactRecip(y.Type.DType, simpRound(y.Type.DType, c))
		if !ok {
			return nil
		}
		inv[i] = r
	}
	return s.b.Mul(x, s.b.Const(y.Type, inv...))
}

// simpExactRecip returns 1/c when c is a power of two (of either sign)
// whose reciprocal dtype dt holds exactly (not overflowing, however small).
// Then x/c and x*(1/c) are the same real number and round to the same
// value, for every x: zeros, infinities, NaN and subnormal results alike.
func simpExactRecip(dt ir.DType, c float64) (float64, bool) {
	if c == 0 || math.IsInf(c, 0) || math.IsNaN(c) {
		return 0, false
	}
	if frac, _ := math.Frexp(c); math.Abs(frac) != 0.5 {
		return 0, false
	}
	r := 1 / c // exact in float64 for any float32 or normal float64 power of two
	if r == 0 || math.IsInf(r, 0) || r*c != 1 || simpRound(dt, r) != r {
		return 0, false
	}
	return r, true
}

func simpIdentityPerm(p []int64) bool {
	for i, x := range p {
		if x != int64(i) {
			return false
		}
	}
	return true
}

func (s *simpRewriter) transpose(v *ir.Value) *ir.Value {
	x, p := v.Args[0], v.Attrs.Ints("perm")
	if simpIdentityPerm(p) {
		return x
	}
	if x.Op != ir.OpTranspose {
		return nil
	}
	// Result dim j of v is dim p[j] of x, which is dim q[p[j]] of x's
	// operand when x = transpose(y, q).
	inner := x.Attrs.Ints("perm")
	if len(inner) != len(p) {
		return nil
	}
	comp := make([]int64, len(p))
	for j, pj := range p {
		comp[j] = inner[pj]
	}
	if simpIdentityPerm(comp) {
		return x.Args[0]
	}
	return s.b.Op(ir.OpTranspose, ir.Attrs{"perm": comp}, x.Args[0])
}

func (s *simpRewriter) reshape(v *ir.Value) *ir.Value {
	x := v.Args[0]
	if x.Type.Shape.Equal(v.Type.Shape) {
		return x
	}
	// A reshape keeps the row-major order of the elements, so a chain of
	// them is one reshape of the first operand.
	if x.Op != ir.OpReshape {
		return nil
	}
	y := x.Args[0]
	if y.Type.Shape.Equal(v.Type.Shape) {
		return y
	}
	return s.b.Reshape(y, v.Type.Shape)
}

func (s *simpRewriter) broadcast(v *ir.Value) *ir.Value {
	x := v.Args[0]
	if x.Type.Shape.Equal(v.Type.Shape) {
		return x
	}
	// NumPy broadcasting composes: what broadcasts to s1, which broadcasts
	// to s2, broadcasts to s2 directly, each element from the same source.
	if x.Op != ir.OpBroadcast {
		return nil
	}
	y := x.Args[0]
	if !simpCanFit(y, v.Type) {
		return nil
	}
	return s.fit(y, v.Type)
}

func (s *simpRewriter) selectRule(v *ir.Value) *ir.Value {
	c, x, y := v.Args[0], v.Args[1], v.Args[2]
	if k, ok := simpSplat(c); ok {
		if k != 0 {
			return s.fitIf(x, v.Type)
		}
		return s.fitIf(y, v.Type)
	}
	if x == y {
		return s.fitIf(x, v.Type)
	}
	return nil
}

// dropBroadcasts takes the broadcast operands of elementwise node v
// straight into v when v's type stays the same: the op broadcasts its
// operands itself, each element coming from the same source element.
func (s *simpRewriter) dropBroadcasts(v *ir.Value) *ir.Value {
	args := append([]*ir.Value(nil), v.Args...)
	dropped := false
	for i, a := range args {
		if a.Op != ir.OpBroadcast {
			continue
		}
		args[i] = a.Args[0]
		if t, err := ir.InferType(v.Op, args, v.Attrs, nil); err != nil || !t.Equal(v.Type) {
			args[i] = a // this one is needed for the result's shape
			continue
		}
		dropped = true
	}
	if !dropped {
		return nil
	}
	return s.b.Op(v.Op, v.Attrs.Clone(), args...)
}

// simpSwapsLastTwo reports whether perm exchanges the last two dims and keeps
// the others, as the transpose flags of matmul do.
func simpSwapsLastTwo(perm []int64) bool {
	r := len(perm)
	if r < 2 || perm[r-2] != int64(r-1) || perm[r-1] != int64(r-2) {
		return false
	}
	return simpIdentityPerm(perm[:r-2])
}

func (s *simpRewriter) matmul(v *ir.Value) *ir.Value {
	a, x := v.Args[0], v.Args[1]
	attrs := v.Attrs.Clone()
	if attrs == nil {
		attrs = ir.Attrs{}
	}
	fired := false
	// matmul reads op(A) with A's last two dims swapped when transpose_a
	// is set; reading a transposed copy is the same with the flag flipped.
	// The products and their summation order are unchanged.
	if a.Op == ir.OpTranspose && simpSwapsLastTwo(a.Attrs.Ints("perm")) {
		a = a.Args[0]
		attrs["transpose_a"] = !v.Attrs.Bool("transpose_a", false)
		fired = true
	}
	if x.Op == ir.OpTranspose && simpSwapsLastTwo(x.Attrs.Ints("perm")) {
		x = x.Args[0]
		attrs["transpose_b"] = !v.Attrs.Bool("transpose_b", false)
		fired = true
	}
	if !fired {
		return nil
	}
	// A false flag is the default: leave it out, as the printer would show
	// a node built without it.
	for _, k := range []string{"transpose_a", "transpose_b"} {
		if b, ok := attrs[k].(bool); ok && !b {
			delete(attrs, k)
		}
	}
	if len(attrs) == 0 {
		attrs = nil
	}
	return s.b.Op(ir.OpMatMul, attrs, a, x)
}
