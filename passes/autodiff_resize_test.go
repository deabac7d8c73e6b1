package passes

import "github.com/dlc-project/dlc/ir"

func init() {
	resize := func(mode string, extra ir.Attrs, scales []float64, out ir.Shape) func(b *ir.Builder, p []*ir.Value) *ir.Value {
		a := ir.Attrs{"mode": mode, "scales": scales, "shape": out}
		for k, v := range extra {
			a[k] = v
		}
		return withAttrs(ir.OpResize, a)
	}
	gradCases = append(gradCases,
		gradCase{name: "resize_nearest", op: ir.OpResize, params: []ir.Shape{sh(2, 3, 2)},
			build: resize("nearest", nil, []float64{1, 2, 2.5}, sh(2, 6, 5))},
		gradCase{name: "resize_linear_up", op: ir.OpResize, params: []ir.Shape{sh(1, 3, 4)},
			build: resize("linear", nil, []float64{1, 1.5, 2}, sh(1, 4, 8))},
		gradCase{name: "resize_linear_down_align", op: ir.OpResize, params: []ir.Shape{sh(2, 5, 4)},
			build: resize("linear", ir.Attrs{"coordinate_transformation_mode": "align_corners"}, []float64{1, 0.6, 0.5}, sh(2, 3, 2))},
		gradCase{name: "resize_cubic_exclude", op: ir.OpResize, params: []ir.Shape{sh(4, 5)},
			build: resize("cubic", ir.Attrs{"exclude_outside": true, "cubic_coeff_a": -0.5}, []float64{1.5, 1.4}, sh(6, 7))},
		gradCase{name: "resize_grad", op: ir.OpResizeGrad, params: []ir.Shape{sh(1, 4, 8)},
			build: withAttrs(ir.OpResizeGrad, ir.Attrs{"mode": "linear", "scales": []float64{1, 1.5, 2}, "shape": sh(1, 3, 4)})},
	)
}
