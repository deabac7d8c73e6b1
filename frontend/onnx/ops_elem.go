package onnx

import (
	"fmt"
	"math"

	"github.com/dlc-project/dlc/ir"
)

// Elementwise ops: direct mappings and decompositions into elementwise IR.

func init() {
	for onnxOp, irOp := range map[string]string{
		"Add": ir.OpAdd, "Sub": ir.OpSub, "Mul": ir.OpMul, "Div": ir.OpDiv,
		"Equal": ir.OpEqual, "Less": ir.OpLess, "LessOrEqual": ir.OpLessEqual,
		"Greater": ir.OpGreater, "GreaterOrEqual": ir.OpGreaterEqual,
		"And": "and", "Or": "or", "Xor": "xor",
	} {
		irOp := irOp
		reg(onnxOp, 2, []string{irOp}, one(func(n *node) (*ir.Value, error) {
			return n.c.op(irOp, nil, n.in[0], n.in[1]), nil
		}))
	}
	for onnxOp, irOp := range map[string]string{
		"Neg": ir.OpNeg, "Exp": ir.OpExp, "Log": ir.OpLog, "Sqrt": ir.OpSqrt, "Relu": ir.OpRelu,
		"Sigmoid": ir.OpSigmoid, "Tanh": ir.OpTanh, "Sin": ir.OpSin, "Cos": ir.OpCos, "Floor": ir.OpFloor,
		"Abs": "abs", "Sign": "sign", "Ceil": "ceil", "Round": "round", "Erf": "erf", "Tan": "tan",
		"Asin": "asin", "Acos": "acos", "Atan": "atan", "Sinh": "sinh", "Cosh": "cosh", "Asinh": "asinh",
		"Acosh": "acosh", "Atanh": "atanh", "Not": "not", "IsNaN": "is_nan",
	} {
		irOp := irOp
		reg(onnxOp, 1, []string{irOp}, one(func(n *node) (*ir.Value, error) {
			return n.c.un(irOp, n.in[0]), nil
		}))
	}
	reg("Reciprocal", 1, nil, one(func(n *node) (*ir.Value, error) {
		return n.c.div(n.c.like(n.in[0], 1), n.in[0]), nil
	}))
	reg("IsInf", 1, []string{"is_inf"}, one(func(n *node) (*ir.Value, error) {
		pos, err := n.int("detect_positive", 1)
		if err != nil {
			return nil, err
		}
		neg, err := n.int("detect_negative", 1)
		if err != nil {
			return nil, err
		}
		return n.c.op("is_inf", ir.Attrs{"detect_positive": pos != 0, "detect_negative": neg != 0}, n.in[0]), nil
	}))
	reg("Mod", 2, []string{"mod"}, one(func(n *node) (*ir.Value, error) {
		fmod, err := n.int("fmod", 0)
		if err != nil {
			return nil, err
		}
		return n.c.op("mod", ir.Attrs{"fmod": fmod != 0}, n.in[0], n.in[1]), nil
	}))
	reg("Pow", 2, []string{"pow"}, one(func(n *node) (*ir.Value, error) {
		c, x, y := n.c, n.in[0], n.in[1]
		if x.Type.DType.IsInt() {
			// pow is a float op: compute in f64 (exact for the integer
			// results that fit) and convert back, as ONNX's Pow(T, T1) -> T.
			r := c.op("pow", nil, c.cast(x, ir.F64), c.cast(y, ir.F64))
			return c.cast(r, x.Type.DType), nil
		}
		if dt := x.Type.DType; (dt == ir.F16 || dt == ir.BF16) && y.Type.DType != dt {
			// An f32 (or integer) exponent would be rounded to the base's
			// few bits first: compute in f64 and round once.
			return c.cast(c.op("pow", nil, c.cast(x, ir.F64), c.cast(y, ir.F64)), dt), nil
		}
		return c.op("pow", nil, x, c.cast(y, x.Type.DType)), nil
	}))
	variadic := func(onnxOp, irOp string, needs []string, mean bool) {
		reg(onnxOp, 1, needs, one(func(n *node) (*ir.Value, error) {
			acc := n.in[0]
			for _, x := range n.in[1:] {
				if x == nil {
					return nil, fmt.Errorf("an input is empty")
				}
				acc = n.c.op(irOp, nil, acc, x)
			}
			if mean && len(n.in) > 1 {
				acc = n.c.div(acc, n.c.like(acc, float64(len(n.in))))
			}
			return acc, nil
		}))
	}
	variadic("Sum", ir.OpAdd, nil, false)
	variadic("Mean", ir.OpAdd, nil, true)
	variadic("Max", "maximum", []string{"maximum"}, false)
	variadic("Min", "minimum", []string{"minimum"}, false)

	reg("Where", 3, nil, one(func(n *node) (*ir.Value, error) {
		return n.c.sel(n.in[0], n.in[1], n.in[2]), nil
	}))
	reg("Clip", 1, nil, one(func(n *node) (*ir.Value, error) {
		c, x := n.c, n.in[0]
		var lo, hi *ir.Value
		if c.opset < 11 {
			mn, err := n.float("min", math.Inf(-1))
			if err != nil {
				return nil, err
			}
			mx, err := n.float("max", math.Inf(1))
			if err != nil {
				return nil, err
			}
			lo, hi = c.like(x, mn), c.like(x, mx)
		} else {
			lo, hi = n.arg(1), n.arg(2)
		}
		if lo != nil {
			x = c.maxv(x, lo)
		}
		if hi != nil {
			x = c.minv(x, hi)
		}
		return x, nil
	}))
	act := func(name string, f func(n *node, x *ir.Value) (*ir.Value, error)) {
		reg(name, 1, nil, one(func(n *node) (*ir.Value, error) { return f(n, n.in[0]) }))
	}
	act("LeakyRelu", func(n *node, x *ir.Value) (*ir.Value, error) {
		alpha, err := n.float("alpha", 0.01)
		c := n.c
		return c.sel(c.op(ir.OpLess, nil, x, c.like(x, 0)), c.mul(x, c.like(x, alpha)), x), err
	})
	act("ThresholdedRelu", func(n *node, x *ir.Value) (*ir.Value, error) {
		alpha, err := n.float("alpha", 1)
		c := n.c
		return c.sel(c.op(ir.OpGreater, nil, x, c.like(x, alpha)), x, c.like(x, 0)), err
	})
	act("Elu", func(n *node, x *ir.Value) (*ir.Value, error) {
		alpha, err := n.float("alpha", 1)
		c := n.c
		neg := c.mul(c.like(x, alpha), c.sub(c.un(ir.OpExp, x), c.like(x, 1)))
		return c.sel(c.op(ir.OpLess, nil, x, c.like(x, 0)), neg, x), err
	})
	act("Selu", func(n *node, x *ir.Value) (*ir.Value, error) {
		alpha, err := n.float("alpha", 1.67326319217681884765625)
		if err != nil {
			return nil, err
		}
		gamma, err := n.float("gamma", 1.05070102214813232421875)
		c := n.c
		neg := c.sub(c.mul(c.like(x, alpha), c.un(ir.OpExp, x)), c.like(x, alpha))
		return c.mul(c.like(x, gamma), c.sel(c.op(ir.OpLessEqual, nil, x, c.like(x, 0)), neg, x)), err
	})
	act("Celu", func(n *node, x *ir.Value) (*ir.Value, error) {
		alpha, err := n.float("alpha", 1)
		c := n.c
		a := c.like(x, alpha)
		neg := c.mul(a, c.sub(c.un(ir.OpExp, c.div(x, a)), c.like(x, 1)))
		return c.add(c.maxv(x, c.like(x, 0)), c.minv(neg, c.like(x, 0))), err
	})
	hardSigmoid := func(c *ctx, x *ir.Value, alpha, beta float64) *ir.Value {
		y := c.add(c.mul(x, c.like(x, alpha)), c.like(x, beta))
		return c.minv(c.maxv(y, c.like(x, 0)), c.like(x, 1))
	}
	act("HardSigmoid", func(n *node, x *ir.Value) (*ir.Value, error) {
		alpha, err := n.float("alpha", 0.2)
		if err != nil {
			return nil, err
		}
		beta, err := n.float("beta", 0.5)
		return hardSigmoid(n.c, x, alpha, beta), err
	})
	act("HardSwish", func(n *node, x *ir.Value) (*ir.Value, error) {
		return n.c.mul(x, hardSigmoid(n.c, x, 1.0/6, 0.5)), nil
	})
	act("Softplus", func(n *node, x *ir.Value) (*ir.Value, error) {
		c := n.c
		return c.un(ir.OpLog, c.add(c.un(ir.OpExp, x), c.like(x, 1))), nil
	})
	act("Softsign", func(n *node, x *ir.Value) (*ir.Value, error) {
		c := n.c
		return c.div(x, c.add(c.like(x, 1), c.abs(x))), nil
	})
	act("Shrink", func(n *node, x *ir.Value) (*ir.Value, error) {
		bias, err := n.float("bias", 0)
		if err != nil {
			return nil, err
		}
		lambd, err := n.float("lambd", 0.5)
		c := n.c
		lo := c.op(ir.OpLess, nil, x, c.like(x, -lambd))
		hi := c.op(ir.OpGreater, nil, x, c.like(x, lambd))
		return c.sel(lo, c.add(x, c.like(x, bias)), c.sel(hi, c.sub(x, c.like(x, bias)), c.like(x, 0))), err
	})
	reg("PRelu", 2, nil, one(func(n *node) (*ir.Value, error) {
		c, x, slope := n.c, n.in[0], n.in[1]
		return c.sel(c.op(ir.OpLess, nil, x, c.like(x, 0)), c.mul(x, slope), x), nil
	}))
	reg("Cast", 1, nil, one(func(n *node) (*ir.Value, error) {
		to, err := n.int("to", 0)
		if err != nil {
			return nil, err
		}
		dt, err := DTypeOf(int32(to))
		if err != nil {
			return nil, fmt.Errorf("to: %w", err)
		}
		return n.c.cast(n.in[0], dt), nil
	}))
	reg("CastLike", 2, nil, one(func(n *node) (*ir.Value, error) {
		return n.c.cast(n.in[0], n.in[1].Type.DType), nil
	}))
	reg("Identity", 1, nil, func(n *node) ([]*ir.Value, error) { return []*ir.Value{n.in[0]}, nil })
	reg("Dropout", 1, nil, func(n *node) ([]*ir.Value, error) {
		// Inference: the identity, and a mask of ones.
		x := n.in[0]
		if n.arg(2) != nil {
			train, err := n.constIn(2, "training_mode")
			if err != nil {
				return nil, err
			}
			ratio := 0.5
			if n.arg(1) != nil {
				r, err := n.constIn(1, "ratio")
				if err != nil {
					return nil, err
				}
				if len(r.Data) == 1 {
					ratio = r.Data[0]
				}
			}
			if len(train.Data) == 1 && train.Data[0] != 0 && ratio != 0 {
				return nil, unsupported("training mode (random dropout) is not supported; dlc imports models for inference")
			}
		}
		if len(n.p.GetOutput()) < 2 || n.p.GetOutput()[1] == "" {
			return []*ir.Value{x}, nil
		}
		mask := n.c.broadcast(n.c.scalar(ir.Bool, 1), x.Type.Shape)
		return []*ir.Value{x, mask}, nil
	})
}
