package interp

import (
	"fmt"

	"github.com/dlc-project/dlc/ir"
)

func init() {
	Kernels[ir.OpResize] = checked(ir.OpResize, resizeKernel(false))
	Kernels[ir.OpResizeGrad] = checked(ir.OpResizeGrad, resizeKernel(true))
}

// resizeWalk calls fn with the offset in the resize operand (of strides
// st) and the weight of every tap of the result element at idx: the taps
// of each resampled dim combined, the weight the product of theirs (left
// to right over the dims, as the Go backend multiplies).
func resizeWalk(taps []ir.ResizeTaps, st, idx []int, fn func(off int, w float64)) {
	var walk func(d, off int, w float64, first bool)
	walk = func(d, off int, w float64, first bool) {
		if d == len(taps) {
			if first {
				w = 1
			}
			fn(off, w)
			return
		}
		tp := taps[d]
		if tp.Identity {
			walk(d+1, off+idx[d]*st[d], w, first)
			return
		}
		o := idx[d]
		for t := tp.Ptr[o]; t < tp.Ptr[o+1]; t++ {
			nw := tp.W[t]
			if !first {
				nw = w * tp.W[t]
			}
			walk(d+1, off+tp.Idx[t]*st[d], nw, false)
		}
	}
	walk(0, 0, 0, true)
}

// resizeKernel is resize (grad=false), a weighted sum of taps per result
// element in float64, or resize_grad, its adjoint: each element of the
// operand (resize's result) added to the taps it was made from.
func resizeKernel(grad bool) kernelFunc {
	return func(v *ir.Value, args []*Tensor, _ *Env, shape []int) (*Tensor, error) {
		in := args[0]
		src, dst := in.Shape, shape
		if grad {
			src, dst = shape, in.Shape
		}
		if len(src) != len(dst) {
			return nil, fmt.Errorf("rank %d to rank %d", len(src), len(dst))
		}
		taps := make([]ir.ResizeTaps, len(src))
		for d := range src {
			taps[d] = ir.Taps(v.Attrs, d, src[d], dst[d])
		}
		st := strides(src)
		out := Zeros(v.Type.DType, shape)
		k := 0
		forEachIndex(dst, func(idx []int) {
			if grad {
				g := in.Data[k]
				resizeWalk(taps, st, idx, func(off int, w float64) { out.Data[off] += float64(w * g) })
			} else {
				// The conversions forbid fusing into an FMA, so that the
				// oracle gives the same bits on every platform.
				acc := 0.0
				resizeWalk(taps, st, idx, func(off int, w float64) { acc += float64(w * in.Data[off]) })
				out.Data[k] = acc
			}
			k++
		})
		return out, nil
	}
}
