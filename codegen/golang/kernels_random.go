package golang

import (
	"github.com/dave/jennifer/jen"
	"github.com/dlc-project/dlc/ir"
)

func init() { emitters[ir.OpDropoutMask] = emitDropoutMask }

// emitDropoutMask fills the mask with runtime.DropoutMask: elements
// [lo, hi) of the flat result, each a function of its index, so any split
// over the pool gives the bits ir/interp gives. The step counter is
// operand 1, a one-element buffer.
func emitDropoutMask(k *kernel) error {
	total := product(shapeMonos(k.v.Type.Shape))
	k.rows, k.work = total, total
	seed := uint64(k.v.Attrs.Int("seed", 0))
	key := jen.Qual(runtimePath, "DropoutKey").Call(jen.Lit(seed), k.x(1).Index(jen.Lit(0)))
	k.body = append(k.body, jen.Qual(runtimePath, "DropoutMask").Call(
		k.o().Index(jen.Id("lo").Op(":").Id("hi")), jen.Id("lo"), key, jen.Lit(k.v.Attrs.Float("rate", 0))))
	return nil
}
