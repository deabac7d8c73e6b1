package interp

import (
	"errors"
	"fmt"
	"math"

	"github.com/dlc-project/dlc/ir"
)

// Kernel evaluates one node v on its operand values args (in the order of
// v.Args), with symbols and weights from env. It returns a new tensor and
// never modifies args.
type Kernel func(v *ir.Value, args []*Tensor, env *Env) (*Tensor, error)

// Kernels holds the reference kernel of every op in the IR's op table,
// keyed by op name. Each entry checks the node (operand count, attribute
// kinds, and that its declared type is what its op infers), the operand
// tensors (well formed, of the operands' dtypes), computes the result, checks
// the result's shape against the node's type resolved with env.Syms, and
// rounds the result to the node's dtype. A kernel called on its own (as
// constant folding does) therefore gives exactly what Run gives.
var Kernels = map[string]Kernel{}

// kernelFunc is a kernel body: shape is the node's type resolved with
// env.Syms, for the few ops (constant) whose result shape comes from the
// type alone. Others compute their shape from their operands and leave the
// comparison to checked.
type kernelFunc func(v *ir.Value, args []*Tensor, env *Env, shape []int) (*Tensor, error)

func init() {
	bodies := map[string]kernelFunc{
		ir.OpConstant: constantKernel,
		ir.OpWeight:   weightKernel,

		ir.OpAdd: arith(func(a, b float64) float64 { return a + b }),
		ir.OpSub: arith(func(a, b float64) float64 { return a - b }),
		ir.OpMul: arith(func(a, b float64) float64 { return a * b }),
		ir.OpDiv: divKernel,

		ir.OpNeg:     unary(func(x float64) float64 { return -x }),
		ir.OpExp:     unary(math.Exp),
		ir.OpLog:     unary(math.Log),
		ir.OpSqrt:    unary(math.Sqrt),
		ir.OpRelu:    unary(relu),
		ir.OpSigmoid: unary(sigmoid),
		ir.OpTanh:    unary(math.Tanh),
		ir.OpCos:     unary(math.Cos),
		ir.OpSin:     unary(math.Sin),
		ir.OpFloor:   unary(math.Floor),

		ir.OpGreater:      compare(func(a, b float64) bool { return a > b }),
		ir.OpGreaterEqual: compare(func(a, b float64) bool { return a >= b }),
		ir.OpLess:         compare(func(a, b float64) bool { return a < b }),
		ir.OpLessEqual:    compare(func(a, b float64) bool { return a <= b }),
		ir.OpEqual:        compare(func(a, b float64) bool { return a == b }),
		ir.OpSelect:       selectKernel,
		ir.OpCast:         castKernel,

		ir.OpMatMul:     matmulKernel,
		ir.OpReduceSum:  reduce(ir.OpReduceSum),
		ir.OpReduceMean: reduce(ir.OpReduceMean),
		ir.OpReduceMax:  reduce(ir.OpReduceMax),
		ir.OpSoftmax:    rowwise(false),
		ir.OpLogSoftmax: rowwise(true),
		ir.OpReshape:    reshapeKernel,
		ir.OpTranspose:  transposeKernel,
		ir.OpBroadcast:  broadcastKernel,
		ir.OpSize:       sizeKernel,
	}
	for op, body := range bodies {
		Kernels[op] = checked(op, body)
	}
}

// checked wraps a kernel body with the checks every kernel shares, so that
// no body has to trust its node or operands and none can return a result
// that disagrees with the node's type.
func checked(op string, body kernelFunc) Kernel {
	return func(v *ir.Value, args []*Tensor, env *Env) (*Tensor, error) {
		if v == nil {
			return nil, errors.New("nil node")
		}
		if v.Op != op {
			return nil, fmt.Errorf("the %s kernel was given a %s node", op, v.Op)
		}
		if env == nil {
			env = &Env{}
		}
		if len(args) != len(v.Args) {
			return nil, fmt.Errorf("%d operand values for %d operands", len(args), len(v.Args))
		}
		for i, a := range v.Args {
			if a == nil {
				return nil, fmt.Errorf("operand %d is a nil node", i)
			}
		}
		// Re-inferring the type catches a malformed node (operand count,
		// attribute kinds, a type its op does not infer) before a body
		// misreads it: the body may then rely on the attributes' kinds.
		def, ok := ir.LookupOp(op)
		if !ok {
			return nil, fmt.Errorf("unknown op %q", op)
		}
		var declared *ir.Type
		if def.Infer == nil {
			t := v.Type
			declared = &t
		}
		t, err := ir.InferType(op, v.Args, v.Attrs, declared)
		if err != nil {
			return nil, err
		}
		if !t.Equal(v.Type) {
			return nil, fmt.Errorf("node has type %s, but its op infers %s", v.Type, t)
		}
		for i, a := range args {
			if a == nil {
				return nil, fmt.Errorf("operand %d: nil tensor", i)
			}
			if err := a.check(); err != nil {
				return nil, fmt.Errorf("operand %d: %v", i, err)
			}
			if a.DType != v.Args[i].Type.DType {
				return nil, fmt.Errorf("operand %d: tensor is %s, the operand's type is %s", i, a.DType, v.Args[i].Type)
			}
		}
		shape, err := resolveShape(v.Type, env)
		if err != nil {
			return nil, err
		}
		out, err := body(v, args, env, shape)
		if err != nil {
			return nil, err
		}
		if out.DType != v.Type.DType || !sameShape(out.Shape, shape) {
			return nil, fmt.Errorf("computed %s%s, but the node's type %s resolves to %s%s",
				out.DType, fmtShape(out.Shape), v.Type, v.Type.DType, fmtShape(shape))
		}
		if err := normalize(out.DType, out.Data); err != nil {
			return nil, fmt.Errorf("result %s", err)
		}
		return out, nil
	}
}

// resolveShape gives the concrete shape of type t under env's symbols. It
// is the one place where a node's symbolic type meets the run's sizes.
func resolveShape(t ir.Type, env *Env) ([]int, error) {
	var syms map[string]int
	if env != nil {
		syms = env.Syms
	}
	s, err := t.Shape.Resolve(syms)
	if err != nil {
		return nil, err
	}
	if _, err := numElements(s); err != nil {
		return nil, fmt.Errorf("type %s: %v", t, err)
	}
	return s, nil
}

func constantKernel(v *ir.Value, _ []*Tensor, _ *Env, shape []int) (*Tensor, error) {
	vals := v.Attrs.Floats("value")
	if err := checkValues(v.Type.DType, vals); err != nil {
		return nil, fmt.Errorf("value: %v", err)
	}
	out := Zeros(v.Type.DType, shape)
	switch {
	case len(vals) == 1:
		for i := range out.Data {
			out.Data[i] = vals[0]
		}
	case len(vals) == len(out.Data):
		copy(out.Data, vals)
	default:
		return nil, fmt.Errorf("%d values for shape %s", len(vals), fmtShape(shape))
	}
	return out, nil
}

func weightKernel(v *ir.Value, _ []*Tensor, env *Env, shape []int) (*Tensor, error) {
	name := v.Attrs.String("name", "")
	w, ok := env.Weights[name]
	if !ok || w == nil {
		return nil, fmt.Errorf("weight %q has no value (not in the weights given)", name)
	}
	if err := w.check(); err != nil {
		return nil, fmt.Errorf("weight %q: %v", name, err)
	}
	if w.DType != v.Type.DType || !sameShape(w.Shape, shape) {
		return nil, fmt.Errorf("weight %q is %s%s, the node reads it as %s", name, w.DType, fmtShape(w.Shape), v.Type)
	}
	if err := checkValues(w.DType, w.Data); err != nil {
		return nil, fmt.Errorf("weight %q: %v", name, err)
	}
	return w.Clone(), nil
}

// elementwise applies f to the operands broadcast together (NumPy rules),
// giving a tensor of dtype dt. f sees one element of each operand.
func elementwise(dt ir.DType, args []*Tensor, f func(xs []float64) (float64, error)) (*Tensor, error) {
	s := irShape(args[0].Shape)
	for _, a := range args[1:] {
		var err error
		if s, err = ir.BroadcastShapes(s, irShape(a.Shape)); err != nil {
			return nil, err
		}
	}
	shape := intShape(s)
	bs := make([][]int, len(args))
	for i, a := range args {
		bs[i] = broadcastStrides(a.Shape, shape)
	}
	out := Zeros(dt, shape)
	xs := make([]float64, len(args))
	var err error
	k := 0
	forEachIndex(shape, func(idx []int) {
		if err != nil {
			return
		}
		for i, a := range args {
			xs[i] = a.Data[dot(idx, bs[i])]
		}
		out.Data[k], err = f(xs)
		k++
	})
	return out, err
}

func arith(f func(a, b float64) float64) kernelFunc {
	return func(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
		return elementwise(v.Type.DType, args, func(xs []float64) (float64, error) { return f(xs[0], xs[1]), nil })
	}
}

// divKernel divides; an integer division truncates toward zero (by the
// rounding that follows every integer node), as Go's does, and an integer
// division by zero, which panics in Go, is an error.
func divKernel(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
	isInt := v.Type.DType.IsInt()
	return elementwise(v.Type.DType, args, func(xs []float64) (float64, error) {
		if isInt && xs[1] == 0 {
			return 0, errors.New("integer division by zero")
		}
		return xs[0] / xs[1], nil
	})
}

func unary(f func(float64) float64) kernelFunc {
	return func(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
		return elementwise(v.Type.DType, args, func(xs []float64) (float64, error) { return f(xs[0]), nil })
	}
}

// relu keeps NaN (a comparison with NaN is false), as the generated
// "if x < 0 { x = 0 }" does.
func relu(x float64) float64 {
	if x < 0 {
		return 0
	}
	return x
}

// sigmoid is 1/(1+e^-x) written so that e^ is only taken of a non-positive
// number: no overflow to Inf for large |x|, and no 1-ε cancellation for
// very negative x, where the result is e^x/(1+e^x) ≈ e^x.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func compare(f func(a, b float64) bool) kernelFunc {
	return func(_ *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
		return elementwise(ir.Bool, args, func(xs []float64) (float64, error) { return b2f(f(xs[0], xs[1])), nil })
	}
}

func selectKernel(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
	return elementwise(v.Type.DType, args, func(xs []float64) (float64, error) {
		if xs[0] != 0 {
			return xs[1], nil
		}
		return xs[2], nil
	})
}

func castKernel(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
	from, to := args[0].DType, v.Type.DType
	return elementwise(to, args, func(xs []float64) (float64, error) { return castValue(from, to, xs[0]) })
}

// matmulKernel is the textbook triple loop per batch matrix. Operand batch
// dims broadcast against each other; within a matrix, a transposed operand
// is read with its row and column indices swapped.
func matmulKernel(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
	a, b := args[0], args[1]
	ta, tb := v.Attrs.Bool("transpose_a", false), v.Attrs.Bool("transpose_b", false)
	batchDims, md, kd, nd, err := ir.MatMulDims(ir.Type{DType: a.DType, Shape: irShape(a.Shape)},
		ir.Type{DType: b.DType, Shape: irShape(b.Shape)}, ta, tb)
	if err != nil {
		return nil, err
	}
	batch := intShape(batchDims)
	m, k, n := int(md.Size), int(kd.Size), int(nd.Size)
	ra, rb := len(a.Shape), len(b.Shape)
	// Strides over the batch dims, counted in whole matrices.
	aStr, bStr := broadcastStrides(a.Shape[:ra-2], batch), broadcastStrides(b.Shape[:rb-2], batch)
	out := Zeros(v.Type.DType, append(append([]int{}, batch...), m, n))
	mat := 0
	forEachIndex(batch, func(idx []int) {
		ao, bo, oo := dot(idx, aStr)*m*k, dot(idx, bStr)*k*n, mat*m*n
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				s := 0.0
				for p := 0; p < k; p++ {
					var x, y float64
					if ta { // stored as [k, m]
						x = a.Data[ao+p*m+i]
					} else { // stored as [m, k]
						x = a.Data[ao+i*k+p]
					}
					if tb { // stored as [n, k]
						y = b.Data[bo+j*k+p]
					} else { // stored as [k, n]
						y = b.Data[bo+p*n+j]
					}
					// The conversion forbids fusing into an FMA, so that
					// the oracle gives the same bits on every platform.
					s += float64(x * y)
				}
				out.Data[oo+i*n+j] = s
			}
		}
		mat++
	})
	return out, nil
}

// reduce sums, averages or takes the max over the axes in one pass over the
// operand: each input element goes to the output element whose index is
// its own with the reduced axes set to 0.
func reduce(op string) kernelFunc {
	return func(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
		in := args[0]
		axes, err := ir.NormalizeAxes(v.Attrs.Ints("axes"), len(in.Shape))
		if err != nil {
			return nil, err
		}
		kept := append([]int{}, in.Shape...) // the shape with keepdims
		count := 1
		for _, ax := range axes {
			count *= kept[ax]
			kept[ax] = 1
		}
		ost := strides(kept)
		for _, ax := range axes {
			ost[ax] = 0
		}
		shape := kept
		if !v.Attrs.Bool("keepdims", false) {
			shape = nil
			for i, d := range kept {
				if !isIn(axes, i) {
					shape = append(shape, d)
				}
			}
		}
		out := Zeros(v.Type.DType, shape)
		if op == ir.OpReduceMax {
			if count == 0 && len(out.Data) > 0 {
				return nil, fmt.Errorf("max over axes %v of shape %s, which hold no elements", axes, fmtShape(in.Shape))
			}
			for i := range out.Data {
				out.Data[i] = math.Inf(-1)
			}
		}
		k := 0
		forEachIndex(in.Shape, func(idx []int) {
			x, o := in.Data[k], dot(idx, ost)
			k++
			if op == ir.OpReduceMax {
				if x > out.Data[o] || math.IsNaN(x) { // NaN wins and stays
					out.Data[o] = x
				}
				return
			}
			out.Data[o] += x
		})
		if op == ir.OpReduceMean {
			for i := range out.Data {
				out.Data[i] /= float64(count) // 0/0 is NaN, as in NumPy
			}
		}
		return out, nil
	}
}

func isIn(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// rowwise is softmax (log=false) or log_softmax (log=true) along one axis,
// subtracting the row's max before exponentiating so that no exp overflows
// (softmax is invariant under that shift).
func rowwise(log bool) kernelFunc {
	return func(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
		in := args[0]
		axes, err := ir.NormalizeAxes([]int64{v.Attrs.Int("axis", -1)}, len(in.Shape))
		if err != nil {
			return nil, err
		}
		ax := axes[0]
		outer, n, inner := 1, in.Shape[ax], 1
		for _, d := range in.Shape[:ax] {
			outer *= d
		}
		for _, d := range in.Shape[ax+1:] {
			inner *= d
		}
		out := Zeros(v.Type.DType, in.Shape)
		for o := 0; o < outer; o++ {
			for c := 0; c < inner; c++ {
				at := func(i int) int { return o*n*inner + i*inner + c }
				mx := math.Inf(-1)
				for i := 0; i < n; i++ {
					if x := in.Data[at(i)]; x > mx || math.IsNaN(x) {
						mx = x
					}
				}
				sum := 0.0
				for i := 0; i < n; i++ {
					sum += math.Exp(in.Data[at(i)] - mx)
				}
				for i := 0; i < n; i++ {
					d := in.Data[at(i)] - mx
					if log {
						out.Data[at(i)] = d - math.Log(sum)
					} else {
						out.Data[at(i)] = math.Exp(d) / sum
					}
				}
			}
		}
		return out, nil
	}
}

// resolveShapeAttr reads a shape attribute and resolves its symbols.
func resolveShapeAttr(v *ir.Value, env *Env) ([]int, error) {
	s, ok := v.Attrs.ShapeAttr("shape")
	if !ok {
		return nil, errors.New("attribute shape is missing or not a shape")
	}
	return resolveShape(ir.Type{DType: v.Type.DType, Shape: s}, env)
}

func reshapeKernel(v *ir.Value, args []*Tensor, env *Env, _ []int) (*Tensor, error) {
	shape, err := resolveShapeAttr(v, env)
	if err != nil {
		return nil, err
	}
	in := args[0]
	if n, _ := numElements(shape); n != len(in.Data) {
		return nil, fmt.Errorf("cannot reshape %s (%d elements) to %s (%d elements)", fmtShape(in.Shape), len(in.Data), fmtShape(shape), n)
	}
	return New(in.DType, shape, in.Data), nil
}

func transposeKernel(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
	in := args[0]
	perm := v.Attrs.Ints("perm")
	if len(perm) != len(in.Shape) {
		return nil, fmt.Errorf("perm %v for rank %d", perm, len(in.Shape))
	}
	ist := strides(in.Shape)
	shape, pst := make([]int, len(perm)), make([]int, len(perm))
	seen := make([]bool, len(perm))
	for i, p := range perm {
		if p < 0 || int(p) >= len(perm) || seen[p] {
			return nil, fmt.Errorf("perm %v is not a permutation of 0..%d", perm, len(perm)-1)
		}
		seen[p] = true
		shape[i], pst[i] = in.Shape[p], ist[p]
	}
	out := Zeros(in.DType, shape)
	k := 0
	forEachIndex(shape, func(idx []int) {
		out.Data[k] = in.Data[dot(idx, pst)]
		k++
	})
	return out, nil
}

func broadcastKernel(v *ir.Value, args []*Tensor, env *Env, _ []int) (*Tensor, error) {
	shape, err := resolveShapeAttr(v, env)
	if err != nil {
		return nil, err
	}
	in := args[0]
	b, err := ir.BroadcastShapes(irShape(in.Shape), irShape(shape))
	if err != nil {
		return nil, err
	}
	if !sameShape(intShape(b), shape) {
		return nil, fmt.Errorf("cannot broadcast %s to %s", fmtShape(in.Shape), fmtShape(shape))
	}
	bs := broadcastStrides(in.Shape, shape)
	out := Zeros(in.DType, shape)
	k := 0
	forEachIndex(shape, func(idx []int) {
		out.Data[k] = in.Data[dot(idx, bs)]
		k++
	})
	return out, nil
}

func sizeKernel(v *ir.Value, args []*Tensor, _ *Env, _ []int) (*Tensor, error) {
	in := args[0]
	axes, err := ir.NormalizeAxes(v.Attrs.Ints("axes"), len(in.Shape))
	if err != nil {
		return nil, err
	}
	n := 1
	for _, ax := range axes {
		n *= in.Shape[ax]
	}
	return New(v.Type.DType, nil, []float64{float64(n)}), nil
}
