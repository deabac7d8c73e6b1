package interp

import (
	"testing"

	"github.com/dlc-project/dlc/ir"
)

// Values of resize from the examples of the ONNX operator documentation
// (resize_upsample_scales_nearest, ..._linear, ..._linear_align_corners,
// resize_downsample_scales_linear, ..._linear_align_corners, ..._cubic).
func TestResize(t *testing.T) {
	x22 := tf(sh(1, 1, 2, 2), 1, 2, 3, 4)
	cases := []struct {
		name  string
		attrs ir.Attrs
		in    *Tensor
		want  *Tensor
	}{
		{"upsample nearest", ir.Attrs{"mode": "nearest", "scales": []float64{1, 1, 2, 3}, "shape": ir.ShapeOf(1, 1, 4, 6)}, x22,
			tf(sh(1, 1, 4, 6), 1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4)},
		{"upsample linear", ir.Attrs{"mode": "linear", "scales": []float64{1, 1, 2, 2}, "shape": ir.ShapeOf(1, 1, 4, 4)}, x22,
			tf(sh(1, 1, 4, 4), 1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4)},
		{"upsample linear align_corners", ir.Attrs{"mode": "linear", "coordinate_transformation_mode": "align_corners",
			"scales": []float64{1, 1, 2, 2}, "shape": ir.ShapeOf(1, 1, 4, 4)}, x22,
			tf(sh(1, 1, 4, 4), 1, 4.0/3, 5.0/3, 2, 5.0/3, 2, 7.0/3, 8.0/3, 7.0/3, 8.0/3, 3, 10.0/3, 3, 10.0/3, 11.0/3, 4)},
		{"downsample linear", ir.Attrs{"mode": "linear", "scales": []float64{1, 1, 0.6, 0.6}, "shape": ir.ShapeOf(1, 1, 1, 2)},
			tf(sh(1, 1, 2, 4), 1, 2, 3, 4, 5, 6, 7, 8), tf(sh(1, 1, 1, 2), 2.6666665, 4.3333331)},
		// align_corners takes the resized length as scale·length (2.4),
		// not the result's dim (2), as the ONNX reference does.
		{"downsample linear align_corners", ir.Attrs{"mode": "linear", "coordinate_transformation_mode": "align_corners",
			"scales": []float64{1, 1, 0.6, 0.6}, "shape": ir.ShapeOf(1, 1, 1, 2)},
			tf(sh(1, 1, 2, 4), 1, 2, 3, 4, 5, 6, 7, 8), tf(sh(1, 1, 1, 2), 1, 3.142857142857143)},
		{"downsample cubic", ir.Attrs{"mode": "cubic", "cubic_coeff_a": -0.75, "scales": []float64{1, 1, 0.8, 0.8}, "shape": ir.ShapeOf(1, 1, 3, 3)},
			tf(sh(1, 1, 4, 4), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16),
			tf(sh(1, 1, 3, 3), 1.47119141, 2.78125, 4.08251953, 6.71142578, 8.02148438, 9.32275391, 11.91650391, 13.2265625, 14.52783203)},
		{"nearest asymmetric floor", ir.Attrs{"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor",
			"scales": []float64{2.5}, "shape": ir.ShapeOf(5)}, tf(sh(2), 1, 2), tf(sh(5), 1, 1, 1, 2, 2)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := evalOp(ir.OpResize, c.attrs, c.in)
			if err != nil {
				t.Fatal(err)
			}
			if d := sameTensor(got, c.want, 1e-6); d != "" {
				t.Fatal(d)
			}
		})
	}
	for _, c := range []struct {
		attrs ir.Attrs
		want  string
	}{
		{ir.Attrs{"mode": "area", "scales": []float64{2}, "shape": ir.ShapeOf(4)}, `unknown mode "area"`},
		{ir.Attrs{"mode": "linear", "scales": []float64{2, 1}, "shape": ir.ShapeOf(4)}, "scales has 2 entries"},
		{ir.Attrs{"mode": "linear", "scales": []float64{0}, "shape": ir.ShapeOf(4)}, "scale 0 is 0"},
		{ir.Attrs{"mode": "linear", "coordinate_transformation_mode": "tf_crop_and_resize", "scales": []float64{2}, "shape": ir.ShapeOf(4)}, "needs roi"},
	} {
		_, err := evalOp(ir.OpResize, c.attrs, tf(sh(2), 1, 2))
		wantErr(t, err, c.want)
	}
}
