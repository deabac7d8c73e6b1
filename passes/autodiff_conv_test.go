package passes

import "github.com/dlc-project/dlc/ir"

func init() {
	ints := func(xs ...int64) []int64 { return xs }
	gradCases = append(gradCases,
		gradCase{name: "conv2d", op: ir.OpConv, params: []ir.Shape{sh(2, 2, 5, 5), sh(3, 2, 3, 3)}, build: binary(ir.OpConv)},
		gradCase{name: "conv2d_stride_pad_dilation", op: ir.OpConv, params: []ir.Shape{sh(1, 2, 6, 5), sh(2, 2, 2, 3)},
			build: withAttrs(ir.OpConv, ir.Attrs{"strides": ints(2, 2), "pads": ints(1, 0, 2, 1), "dilations": ints(2, 1)})},
		gradCase{name: "conv1d_group", op: ir.OpConv, params: []ir.Shape{sh(2, 4, 7), sh(6, 2, 3)},
			build: withAttrs(ir.OpConv, ir.Attrs{"group": int64(2), "strides": ints(2), "pads": ints(1, 1)})},
		gradCase{name: "conv_transpose2d", op: ir.OpConvTranspose, params: []ir.Shape{sh(2, 2, 3, 3), sh(2, 3, 2, 3)},
			build: withAttrs(ir.OpConvTranspose, ir.Attrs{"strides": ints(2, 1), "pads": ints(1, 0, 0, 1), "output_padding": ints(1, 0)})},
		gradCase{name: "conv_transpose1d_group_dilation", op: ir.OpConvTranspose, params: []ir.Shape{sh(1, 4, 4), sh(4, 1, 2)},
			build: withAttrs(ir.OpConvTranspose, ir.Attrs{"group": int64(2), "dilations": ints(2), "strides": ints(3)})},
		gradCase{name: "max_pool2d", op: ir.OpMaxPool, params: []ir.Shape{sh(2, 2, 5, 5)},
			build: withAttrs(ir.OpMaxPool, ir.Attrs{"kernel_shape": ints(2, 2), "strides": ints(2, 2)})},
		gradCase{name: "max_pool2d_overlap_pad_ceil", op: ir.OpMaxPool, params: []ir.Shape{sh(1, 2, 5, 6)},
			build: withAttrs(ir.OpMaxPool, ir.Attrs{"kernel_shape": ints(3, 2), "strides": ints(2, 2), "pads": ints(1, 1, 1, 0), "ceil_mode": true})},
		gradCase{name: "max_pool1d_dilation", op: ir.OpMaxPool, params: []ir.Shape{sh(2, 1, 8)},
			build: withAttrs(ir.OpMaxPool, ir.Attrs{"kernel_shape": ints(2), "dilations": ints(3)})},
		gradCase{name: "avg_pool2d", op: ir.OpAvgPool, params: []ir.Shape{sh(2, 2, 4, 4)},
			build: withAttrs(ir.OpAvgPool, ir.Attrs{"kernel_shape": ints(2, 2), "strides": ints(2, 2)})},
		gradCase{name: "avg_pool2d_pad_ceil_include", op: ir.OpAvgPool, params: []ir.Shape{sh(1, 2, 5, 5)},
			build: withAttrs(ir.OpAvgPool, ir.Attrs{"kernel_shape": ints(3, 3), "strides": ints(2, 2), "pads": ints(1, 1, 1, 1), "ceil_mode": true, "count_include_pad": true})},
		gradCase{name: "avg_pool1d_pad_exclude", op: ir.OpAvgPool, params: []ir.Shape{sh(2, 1, 5)},
			build: withAttrs(ir.OpAvgPool, ir.Attrs{"kernel_shape": ints(3), "pads": ints(1, 2)})},
		// A small conv net's chain: conv, relu, max_pool, conv, avg_pool.
		gradCase{name: "conv_net_chain", op: "", params: []ir.Shape{sh(2, 1, 6, 6), sh(2, 1, 3, 3), sh(2, 1, 1)},
			build: func(b *ir.Builder, p []*ir.Value) *ir.Value {
				h := b.Unary(ir.OpRelu, b.Add(b.Op(ir.OpConv, ir.Attrs{"pads": ints(1, 1, 1, 1)}, p[0], p[1]), p[2]))
				h = b.Op(ir.OpMaxPool, ir.Attrs{"kernel_shape": ints(2, 2), "strides": ints(2, 2)}, h)
				return b.Op(ir.OpAvgPool, ir.Attrs{"kernel_shape": ints(3, 3)}, h)
			}},
	)
	for _, op := range []string{ir.OpConv, ir.OpConvTranspose, ir.OpConvFilterGrad, ir.OpMaxPool, ir.OpMaxPoolGrad, ir.OpAvgPool, ir.OpAvgPoolGrad} {
		rgNotGenerated[op] = "windowed ops over [N, C, spatial...]: the generator makes flat elementwise/matmul graphs; " +
			"autodiff_conv_test.go and codegen/golang/testdata/conv_*.ir cover them"
	}
}
