package passes

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/ir/interp"
)

// gradCase builds f(params) for one op; the test takes loss = Σ f ⊙ R for a
// fixed random R, so every output element weighs in differently.
type gradCase struct {
	name   string
	op     string // the op whose rule this checks
	params []ir.Shape
	// positive makes inputs lie in [0.5, 2] (log, sqrt, div's divisor).
	positive bool
	build    func(b *ir.Builder, p []*ir.Value) *ir.Value

	// input, when set, draws each element of parameter p instead, for ops
	// with another domain (acosh, atanh) or kinks elsewhere (mod).
	input func(r *rand.Rand, p int) float64
}

func sh(d ...int64) ir.Shape { return ir.ShapeOf(d...) }

func unary(op string) func(b *ir.Builder, p []*ir.Value) *ir.Value {
	return func(b *ir.Builder, p []*ir.Value) *ir.Value { return b.Unary(op, p[0]) }
}

func binary(op string) func(b *ir.Builder, p []*ir.Value) *ir.Value {
	return func(b *ir.Builder, p []*ir.Value) *ir.Value { return b.Op(op, nil, p[0], p[1]) }
}

func withAttrs(op string, attrs ir.Attrs) func(b *ir.Builder, p []*ir.Value) *ir.Value {
	return func(b *ir.Builder, p []*ir.Value) *ir.Value { return b.Op(op, attrs, p...) }
}

var gradCases = []gradCase{
	{name: "add", op: ir.OpAdd, params: []ir.Shape{sh(2, 3), sh(2, 3)}, build: binary(ir.OpAdd)},
	{name: "add_bcast_row", op: ir.OpAdd, params: []ir.Shape{sh(2, 3), sh(3)}, build: binary(ir.OpAdd)},
	{name: "add_bcast_outer", op: ir.OpAdd, params: []ir.Shape{sh(2, 1), sh(1, 3)}, build: binary(ir.OpAdd)},
	{name: "sub_bcast", op: ir.OpSub, params: []ir.Shape{sh(3), sh(2, 3)}, build: binary(ir.OpSub)},
	{name: "mul_bcast_scalar", op: ir.OpMul, params: []ir.Shape{sh(2, 3), sh()}, build: binary(ir.OpMul)},
	{name: "div", op: ir.OpDiv, params: []ir.Shape{sh(2, 3), sh(2, 1)}, positive: true, build: binary(ir.OpDiv)},
	{name: "neg", op: ir.OpNeg, params: []ir.Shape{sh(2, 3)}, build: unary(ir.OpNeg)},
	{name: "exp", op: ir.OpExp, params: []ir.Shape{sh(2, 3)}, build: unary(ir.OpExp)},
	{name: "log", op: ir.OpLog, params: []ir.Shape{sh(2, 3)}, positive: true, build: unary(ir.OpLog)},
	{name: "sqrt", op: ir.OpSqrt, params: []ir.Shape{sh(2, 3)}, positive: true, build: unary(ir.OpSqrt)},
	{name: "relu", op: ir.OpRelu, params: []ir.Shape{sh(3, 4)}, build: unary(ir.OpRelu)},
	{name: "sigmoid", op: ir.OpSigmoid, params: []ir.Shape{sh(2, 3)}, build: unary(ir.OpSigmoid)},
	{name: "tanh", op: ir.OpTanh, params: []ir.Shape{sh(2, 3)}, build: unary(ir.OpTanh)},
	{name: "cos", op: ir.OpCos, params: []ir.Shape{sh(2, 3)}, build: unary(ir.OpCos)},
	{name: "sin", op: ir.OpSin, params: []ir.Shape{sh(2, 3)}, build: unary(ir.OpSin)},
	{name: "select", op: ir.OpSelect, params: []ir.Shape{sh(2, 3), sh(3)}, build: func(b *ir.Builder, p []*ir.Value) *ir.Value {
		c := b.Op(ir.OpGreater, nil, b.Const(ir.TensorOf(ir.F64, ir.C(2), ir.C(3)), 1, -1, 1, -1, -1, 1), b.Scalar(ir.F64, 0))
		return b.Op(ir.OpSelect, nil, c, p[0], p[1])
	}},
	{name: "cast", op: ir.OpCast, params: []ir.Shape{sh(2, 3)}, build: withAttrs(ir.OpCast, ir.Attrs{"to": ir.F64})},
	{name: "matmul", op: ir.OpMatMul, params: []ir.Shape{sh(3, 4), sh(4, 2)}, build: binary(ir.OpMatMul)},
	{name: "matmul_ta", op: ir.OpMatMul, params: []ir.Shape{sh(4, 3), sh(4, 2)}, build: withAttrs(ir.OpMatMul, ir.Attrs{"transpose_a": true})},
	{name: "matmul_tb", op: ir.OpMatMul, params: []ir.Shape{sh(3, 4), sh(2, 4)}, build: withAttrs(ir.OpMatMul, ir.Attrs{"transpose_b": true})},
	{name: "matmul_ta_tb", op: ir.OpMatMul, params: []ir.Shape{sh(4, 3), sh(2, 4)}, build: withAttrs(ir.OpMatMul, ir.Attrs{"transpose_a": true, "transpose_b": true})},
	{name: "matmul_batched", op: ir.OpMatMul, params: []ir.Shape{sh(2, 3, 4), sh(2, 4, 2)}, build: binary(ir.OpMatMul)},
	{name: "matmul_batch_bcast", op: ir.OpMatMul, params: []ir.Shape{sh(2, 3, 4), sh(4, 2)}, build: binary(ir.OpMatMul)},
	{name: "reduce_sum", op: ir.OpReduceSum, params: []ir.Shape{sh(2, 3, 4)}, build: withAttrs(ir.OpReduceSum, ir.Attrs{"axes": []int64{0, 2}})},
	{name: "reduce_sum_keep", op: ir.OpReduceSum, params: []ir.Shape{sh(2, 3)}, build: withAttrs(ir.OpReduceSum, ir.Attrs{"axes": []int64{-1}, "keepdims": true})},
	{name: "reduce_mean", op: ir.OpReduceMean, params: []ir.Shape{sh(2, 3, 4)}, build: withAttrs(ir.OpReduceMean, ir.Attrs{"axes": []int64{1}})},
	{name: "reduce_max", op: ir.OpReduceMax, params: []ir.Shape{sh(3, 4)}, build: withAttrs(ir.OpReduceMax, ir.Attrs{"axes": []int64{1}, "keepdims": true})},
	{name: "softmax", op: ir.OpSoftmax, params: []ir.Shape{sh(2, 5)}, build: withAttrs(ir.OpSoftmax, ir.Attrs{"axis": int64(-1)})},
	{name: "softmax_axis0", op: ir.OpSoftmax, params: []ir.Shape{sh(3, 2)}, build: withAttrs(ir.OpSoftmax, ir.Attrs{"axis": int64(0)})},
	{name: "log_softmax", op: ir.OpLogSoftmax, params: []ir.Shape{sh(2, 5)}, build: withAttrs(ir.OpLogSoftmax, ir.Attrs{"axis": int64(1)})},
	{name: "reshape", op: ir.OpReshape, params: []ir.Shape{sh(2, 6)}, build: withAttrs(ir.OpReshape, ir.Attrs{"shape": sh(3, 4)})},
	{name: "transpose", op: ir.OpTranspose, params: []ir.Shape{sh(2, 3, 4)}, build: withAttrs(ir.OpTranspose, ir.Attrs{"perm": []int64{2, 0, 1}})},
	{name: "broadcast", op: ir.OpBroadcast, params: []ir.Shape{sh(3, 1)}, build: withAttrs(ir.OpBroadcast, ir.Attrs{"shape": sh(2, 3, 4)})},
	// A chain mixing several rules, as the loss of a classifier does.
	{name: "mlp_chain", op: "", params: []ir.Shape{sh(4, 3), sh(3, 5), sh(5)}, build: func(b *ir.Builder, p []*ir.Value) *ir.Value {
		h := b.Unary(ir.OpTanh, b.Add(b.Op(ir.OpMatMul, nil, p[0], p[1]), p[2]))
		return b.Op(ir.OpLogSoftmax, ir.Attrs{"axis": int64(-1)}, h)
	}},
}

// buildGradModule returns a module whose function "f" returns the loss and
// the gradient of the loss for each parameter, and "loss" the loss alone.
func buildGradModule(t *testing.T, c gradCase, r *rand.Rand) *ir.Module {
	m := &ir.Module{Name: c.name}
	for _, fn := range []string{"loss", "f"} {
		b := ir.NewFunc(m, fn)
		var ps []*ir.Value
		for i, s := range c.params {
			ps = append(ps, b.Param(fmt.Sprintf("p%d", i), ir.Type{DType: ir.F64, Shape: s}))
		}
		out := c.build(b, ps)
		n, _ := out.Type.Shape.NumElements()
		weights := make([]float64, n)
		rr := rand.New(rand.NewPCG(7, 7))
		for i := range weights {
			weights[i] = rr.Float64()*2 - 1
		}
		rw := b.Const(out.Type, weights...)
		axes := make([]int64, len(out.Type.Shape))
		for i := range axes {
			axes[i] = int64(i)
		}
		loss := b.ReduceSum(b.Mul(out, rw), axes, false)
		if err := b.Err(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if fn == "loss" {
			b.Return(nil, loss)
			continue
		}
		grads, err := Gradients(m, b.Fn, loss, ps)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		b.Return(nil, append([]*ir.Value{loss}, grads...)...)
	}
	if err := ir.Verify(m); err != nil {
		t.Fatalf("%s: %v\n%s", c.name, err, m)
	}
	return m
}

// TestGradientsFiniteDifferences checks every gradient rule against central
// differences in float64 through ir/interp.
func TestGradientsFiniteDifferences(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range gradCases {
		covered[c.op] = true
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(len(c.name))))
			m := buildGradModule(t, c, r)
			var inputs []*interp.Tensor
			for pi, s := range c.params {
				dims, _ := s.Resolve(nil)
				n := 1
				for _, d := range dims {
					n *= d
				}
				data := make([]float64, n)
				for i := range data {
					if c.input != nil {
						data[i] = c.input(r, pi)
					} else if c.positive {
						data[i] = 0.5 + 1.5*r.Float64()
					} else {
						// Keep away from 0, where relu has a kink.
						data[i] = (0.2 + r.Float64()) * float64(1-2*(r.IntN(2)))
					}
				}
				inputs = append(inputs, &interp.Tensor{DType: ir.F64, Shape: dims, Data: data})
			}
			res, _, err := interp.Run(m, "f", inputs, nil)
			if err != nil {
				t.Fatal(err)
			}
			lossAt := func() float64 {
				out, _, err := interp.Run(m, "loss", inputs, nil)
				if err != nil {
					t.Fatal(err)
				}
				return out[0].Data[0]
			}
			const h = 1e-6
			for pi, in := range inputs {
				for i := range in.Data {
					orig := in.Data[i]
					in.Data[i] = orig + h
					up := lossAt()
					in.Data[i] = orig - h
					down := lossAt()
					in.Data[i] = orig
					fd := (up - down) / (2 * h)
					got := res[1+pi].Data[i]
					if math.Abs(fd-got) > 1e-6+1e-5*math.Abs(fd) {
						t.Errorf("d loss / d p%d[%d] = %.9g by autodiff, %.9g by finite differences", pi, i, got, fd)
					}
				}
			}
		})
	}
	for op := range GradRules {
		if !covered[op] {
			t.Errorf("gradient rule of %s has no finite-difference case", op)
		}
	}
}

// TestEveryOpHasGradientFact walks the op table: each op has a gradient
// rule or is listed as not differentiable, never both.
func TestEveryOpHasGradientFact(t *testing.T) {
	for _, d := range ir.Ops() {
		_, rule := GradRules[d.Name]
		_, nd := NotDifferentiable[d.Name]
		if rule == nd {
			t.Errorf("op %s: has rule %v, listed not differentiable %v; want exactly one", d.Name, rule, nd)
		}
	}
}
