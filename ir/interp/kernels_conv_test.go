package interp

import (
	"testing"

	"github.com/dlc-project/dlc/ir"
)

// Hand-computed results of the conv and pooling kernels: padding, strides,
// groups, ceil_mode's dropped window, count_include_pad's divisor, and
// max_pool_grad's first-max rule.
func TestConvPoolKernels(t *testing.T) {
	ints := func(xs ...int64) []int64 { return xs }
	x9 := tf(sh(1, 1, 3, 3), 1, 2, 3, 4, 5, 6, 7, 8, 9)
	ones22 := tf(sh(1, 1, 2, 2), 1, 1, 1, 1)
	cases := []struct {
		name  string
		op    string
		attrs ir.Attrs
		args  []*Tensor
		want  *Tensor
	}{
		{"conv valid", ir.OpConv, nil, []*Tensor{x9, ones22}, tf(sh(1, 1, 2, 2), 12, 16, 24, 28)},
		{"conv pad 1 stride 2", ir.OpConv, ir.Attrs{"pads": ints(1, 1, 1, 1), "strides": ints(2, 2)},
			[]*Tensor{x9, ones22}, tf(sh(1, 1, 2, 2), 1, 5, 11, 28)},
		{"conv dilation 2", ir.OpConv, ir.Attrs{"dilations": ints(2, 2)},
			[]*Tensor{x9, ones22}, tf(sh(1, 1, 1, 1), 1+3+7+9)},
		{"conv 1-D groups", ir.OpConv, ir.Attrs{"group": int64(2)},
			[]*Tensor{tf(sh(1, 2, 2), 1, 2, 3, 4), tf(sh(2, 1, 1), 10, 100)}, tf(sh(1, 2, 2), 10, 20, 300, 400)},
		{"conv two channels", ir.OpConv, nil,
			[]*Tensor{tf(sh(1, 2, 2), 1, 2, 3, 4), tf(sh(1, 2, 2), 1, 10, 100, 1000)}, tf(sh(1, 1, 1), 1+20+300+4000)},
		{"conv_transpose stride 2", ir.OpConvTranspose, ir.Attrs{"strides": ints(2)},
			[]*Tensor{tf(sh(1, 1, 2), 1, 2), tf(sh(1, 1, 3), 1, 1, 1)}, tf(sh(1, 1, 5), 1, 1, 3, 2, 2)},
		{"conv_transpose pads output_padding", ir.OpConvTranspose, ir.Attrs{"strides": ints(2), "pads": ints(1, 0), "output_padding": ints(1)},
			[]*Tensor{tf(sh(1, 1, 2), 1, 2), tf(sh(1, 1, 3), 1, 1, 1)}, tf(sh(1, 1, 5), 1, 3, 2, 2, 0)},
		{"conv_filter_grad", ir.OpConvFilterGrad, ir.Attrs{"kernel_shape": ints(2)},
			[]*Tensor{tf(sh(1, 1, 3), 1, 2, 3), tf(sh(1, 1, 2), 10, 100)}, tf(sh(1, 1, 2), 10+200, 20+300)},
		{"max_pool", ir.OpMaxPool, ir.Attrs{"kernel_shape": ints(2, 2)}, []*Tensor{x9}, tf(sh(1, 1, 2, 2), 5, 6, 8, 9)},
		{"max_pool ceil", ir.OpMaxPool, ir.Attrs{"kernel_shape": ints(2), "strides": ints(2), "ceil_mode": true},
			[]*Tensor{tf(sh(1, 1, 5), 1, 5, 2, 4, 3)}, tf(sh(1, 1, 3), 5, 4, 3)},
		{"max_pool ceil drops a window in the end padding", ir.OpMaxPool,
			ir.Attrs{"kernel_shape": ints(2), "strides": ints(2), "pads": ints(1, 1), "ceil_mode": true},
			[]*Tensor{tf(sh(1, 1, 5), 1, 5, 2, 4, 3)}, tf(sh(1, 1, 3), 1, 5, 4)},
		{"max_pool negative with padding", ir.OpMaxPool, ir.Attrs{"kernel_shape": ints(2), "pads": ints(1, 1)},
			[]*Tensor{tf(sh(1, 1, 2), -3, -4)}, tf(sh(1, 1, 3), -3, -3, -4)},
		{"avg_pool include pad", ir.OpAvgPool, ir.Attrs{"kernel_shape": ints(3), "pads": ints(1, 1), "count_include_pad": true},
			[]*Tensor{tf(sh(1, 1, 3), 1, 2, 3)}, tf(sh(1, 1, 3), 1, 2, 5.0/3)},
		{"avg_pool exclude pad", ir.OpAvgPool, ir.Attrs{"kernel_shape": ints(3), "pads": ints(1, 1)},
			[]*Tensor{tf(sh(1, 1, 3), 1, 2, 3)}, tf(sh(1, 1, 3), 1.5, 2, 2.5)},
		{"avg_pool ceil include pad", ir.OpAvgPool, ir.Attrs{"kernel_shape": ints(2), "strides": ints(2), "ceil_mode": true, "count_include_pad": true},
			[]*Tensor{tf(sh(1, 1, 5), 1, 2, 3, 4, 5)}, tf(sh(1, 1, 3), 1.5, 3.5, 5)},
		{"max_pool_grad first max", ir.OpMaxPoolGrad, ir.Attrs{"kernel_shape": ints(2), "strides": ints(2)},
			[]*Tensor{tf(sh(1, 1, 4), 3, 3, 1, 2), tf(sh(1, 1, 2), 10, 20)}, tf(sh(1, 1, 4), 10, 0, 0, 20)},
		{"max_pool_grad overlapping", ir.OpMaxPoolGrad, ir.Attrs{"kernel_shape": ints(2)},
			[]*Tensor{tf(sh(1, 1, 3), 1, 3, 2), tf(sh(1, 1, 2), 10, 20)}, tf(sh(1, 1, 3), 0, 30, 0)},
		{"avg_pool_grad", ir.OpAvgPoolGrad, ir.Attrs{"kernel_shape": ints(3), "pads": ints(1, 1)},
			[]*Tensor{tf(sh(1, 1, 3), 1, 2, 3), tf(sh(1, 1, 3), 6, 3, 12)}, tf(sh(1, 1, 3), 3+1, 3+1+6, 1+6)},
	}
	for _, c := range cases {
		got, err := evalOp(c.op, c.attrs, c.args...)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if d := sameTensor(got, c.want, 1e-6); d != "" {
			t.Errorf("%s: %s", c.name, d)
		}
	}
}

// Bad shapes and attributes are errors naming what is wrong.
func TestConvPoolErrors(t *testing.T) {
	ints := func(xs ...int64) []int64 { return xs }
	x := tf(sh(1, 4, 5, 5), make([]float64, 100)...)
	cases := []struct {
		name  string
		op    string
		attrs ir.Attrs
		args  []*Tensor
		want  string
	}{
		{"channels", ir.OpConv, nil, []*Tensor{x, tf(sh(2, 3, 3, 3), make([]float64, 54)...)}, "want w[1] = 4"},
		{"group", ir.OpConv, ir.Attrs{"group": int64(3)}, []*Tensor{x, tf(sh(3, 1, 3, 3), make([]float64, 27)...)}, "group 3 must divide"},
		{"kernel too large", ir.OpConv, nil, []*Tensor{x, tf(sh(1, 4, 6, 1), make([]float64, 24)...)}, "larger than the padded input"},
		{"strides length", ir.OpConv, ir.Attrs{"strides": ints(1)}, []*Tensor{x, tf(sh(1, 4, 1, 1), 0, 0, 0, 0)}, "strides = [1] has 1 entries, want 2"},
		{"pads length", ir.OpMaxPool, ir.Attrs{"kernel_shape": ints(2, 2), "pads": ints(1, 1)}, []*Tensor{x}, "pads = [1 1] has 2 entries, want 4"},
		{"zero stride", ir.OpAvgPool, ir.Attrs{"kernel_shape": ints(2, 2), "strides": ints(0, 1)}, []*Tensor{x}, "entries must be >= 1"},
		{"pool pad", ir.OpMaxPool, ir.Attrs{"kernel_shape": ints(2, 2), "pads": ints(2, 0, 0, 0)}, []*Tensor{x}, "must be smaller than the kernel extent"},
		{"rank", ir.OpMaxPool, ir.Attrs{"kernel_shape": ints(2)}, []*Tensor{tf(sh(2, 2), 0, 0, 0, 0)}, "at least one spatial dim"},
		{"output_padding", ir.OpConvTranspose, ir.Attrs{"output_padding": ints(1, 1)},
			[]*Tensor{x, tf(sh(4, 1, 1, 1), 0, 0, 0, 0)}, "must be smaller than strides"},
		{"filter grad dy", ir.OpConvFilterGrad, ir.Attrs{"kernel_shape": ints(2, 2)},
			[]*Tensor{x, tf(sh(1, 1, 3, 3), make([]float64, 9)...)}, "not the conv output [4 4]"},
	}
	for _, c := range cases {
		_, err := evalOp(c.op, c.attrs, c.args...)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		wantErr(t, err, c.want)
	}
}
