package ir

import (
	"fmt"
	"math"
)

// OpDropoutMask is training-mode dropout's random mask.
const OpDropoutMask = "dropout_mask" // (x, step) -> mask of x's type: 1/(1-rate) where kept, 0 where dropped

func init() {
	register(&OpDef{Name: OpDropoutMask, Kind: KindShape, NumArgs: 2,
		Attrs: []AttrSpec{{"rate", AttrFloat, true}, {"seed", AttrInt, true}},
		Doc: "(x, step f32[]) -> the inverted-dropout mask of x's type: element i is 1/(1-rate) if " +
			"runtime.DropoutUniform(runtime.DropoutKey(seed, step), i) >= rate, else 0 (i row-major); " +
			"counter-based, so the same seed, step and shape give the same mask everywhere; x gives only the shape",
		Infer: inferDropoutMask})
}

func inferDropoutMask(args []Type, a Attrs) (Type, error) {
	x, step := args[0], args[1]
	if !x.DType.IsFloat() {
		return Type{}, fmt.Errorf("x must be f32 or f64, is %s", x.DType)
	}
	if !step.DType.IsFloat() || len(step.Shape) != 0 {
		return Type{}, fmt.Errorf("step must be a float scalar (the step counter), is %s", step)
	}
	if r := a.Float("rate", 0); !(r >= 0 && r < 1) || math.IsNaN(r) {
		return Type{}, fmt.Errorf("attribute rate = %v must be in [0, 1)", r)
	}
	if s := a.Int("seed", 0); s < 0 {
		return Type{}, fmt.Errorf("attribute seed = %d must be >= 0", s)
	}
	return Type{DType: x.DType, Shape: x.Shape.Clone()}, nil
}
