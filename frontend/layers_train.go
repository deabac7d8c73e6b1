package frontend

import (
	"hash/fnv"

	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/passes"
)

// DropoutStepState is the state weight counting train_step calls: the
// dropout masks' step counter (an f32 scalar, exact up to 2^24 steps).
// Checkpoints carry it like any state, so a resumed run draws the masks
// the uninterrupted run draws.
const DropoutStepState = "dropout/step"

// dropoutSeed is the seed of a dropout layer's masks: its name and the
// model's train.seed, so that layers draw independent masks, and a model
// keeps its masks when other layers are added or removed.
func dropoutSeed(name string, trainSeed uint64) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	// The seed is an int attribute, which must be >= 0.
	return int64((h.Sum64() ^ trainSeed*0x9e3779b97f4a7c15) >> 1)
}

// dropout traces a dropout layer: the identity in predict; in train_step,
// inverted dropout as torch.nn.Dropout: x·mask, where mask is 1/(1−rate)
// for kept elements and 0 for dropped ones (dropout_mask), drawn afresh at
// every step from the step counter, which train_step increments.
func (md *Model) dropout(t *Tracer, name string, l Layer, h Tensor) Tensor {
	if t.Func().Name != passes.TrainStep || l.Rate == 0 {
		return h
	}
	step := t.Weight(DropoutStepState, ir.TensorOf(ir.F32), false, ir.Attrs{"init": "zeros"})
	counted := false
	for _, u := range t.Func().Updates {
		counted = counted || u.Weight == DropoutStepState
	}
	if !counted {
		t.b.Update(DropoutStepState, step.Add(step.ScalarLike(1)).V)
	}
	mask := t.Op(ir.OpDropoutMask, ir.Attrs{"rate": l.Rate, "seed": dropoutSeed(name, md.Train.Seed)}, h, step)
	return h.Mul(mask)
}
