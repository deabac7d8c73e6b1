package ir

// resize and its adjoint resize_grad (the op contract's "resize").

import (
	"fmt"
	"math"
)

func init() {
	resizeAttrs := []AttrSpec{{"mode", AttrString, true}, {"coordinate_transformation_mode", AttrString, false},
		{"nearest_mode", AttrString, false}, {"cubic_coeff_a", AttrFloat, false}, {"exclude_outside", AttrBool, false},
		{"extrapolation_value", AttrFloat, false}, {"scales", AttrFloats, true}, {"shape", AttrShape, true}}
	register(&OpDef{Name: OpResize, Doc: "arg0 resampled to shape (ONNX Resize: mode nearest|linear|cubic, one scale per dim; " +
		"extrapolation_value is unused, as tf_crop_and_resize, which needs roi, is refused)",
		Kind: KindLayout, NumArgs: 1, Attrs: resizeAttrs, Infer: inferResize(false)})
	register(&OpDef{Name: OpResizeGrad, Doc: "the adjoint of resize: arg0 (resize's result) spread back onto shape (resize's operand)",
		Kind: KindLayout, NumArgs: 1, Attrs: resizeAttrs, Infer: inferResize(true)})
}

// Resize attribute values.
var (
	ResizeModes          = []string{"nearest", "linear", "cubic"}
	ResizeCoordModes     = []string{"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize"}
	ResizeNearestModes   = []string{"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"}
	resizeDefaultCoord   = "half_pixel"
	resizeDefaultNearest = "round_prefer_floor"
)

// ResizeCoordMode returns the coordinate_transformation_mode (ONNX's
// default half_pixel when absent).
func ResizeCoordMode(a Attrs) string {
	return a.String("coordinate_transformation_mode", resizeDefaultCoord)
}

// ResizeNearestMode returns the nearest_mode (ONNX's default
// round_prefer_floor when absent).
func ResizeNearestMode(a Attrs) string { return a.String("nearest_mode", resizeDefaultNearest) }

func oneOf(what, v string, known []string) error {
	for _, k := range known {
		if k == v {
			return nil
		}
	}
	return fmt.Errorf("unknown %s %q (known: %v)", what, v, known)
}

// inferResize checks resize (grad=false: operand is the input, shape the
// output) or resize_grad (grad=true: operand is resize's output, shape
// resize's input, which is the result).
func inferResize(grad bool) func([]Type, Attrs) (Type, error) {
	return func(args []Type, a Attrs) (Type, error) {
		if !args[0].DType.IsFloat() {
			return Type{}, fmt.Errorf("operand must be a float type, is %s", args[0].DType)
		}
		if err := oneOf("mode", a.String("mode", ""), ResizeModes); err != nil {
			return Type{}, err
		}
		if err := oneOf("coordinate_transformation_mode", ResizeCoordMode(a), ResizeCoordModes); err != nil {
			return Type{}, err
		}
		if ResizeCoordMode(a) == "tf_crop_and_resize" {
			return Type{}, fmt.Errorf("coordinate_transformation_mode tf_crop_and_resize needs roi, which resize does not take")
		}
		if err := oneOf("nearest_mode", ResizeNearestMode(a), ResizeNearestModes); err != nil {
			return Type{}, err
		}
		shape, _ := a.ShapeAttr("shape")
		in, out := args[0].Shape, shape
		if grad {
			in, out = shape, args[0].Shape
		}
		scales := a.Floats("scales")
		if len(scales) != len(in) || len(out) != len(in) {
			return Type{}, fmt.Errorf("scales has %d entries and shape %s has rank %d, for an operand of rank %d", len(scales), shape, len(shape), len(args[0].Shape))
		}
		for i := range in {
			if !(scales[i] > 0) || math.IsInf(scales[i], 0) {
				return Type{}, fmt.Errorf("scale %d is %v, want > 0", i, scales[i])
			}
			if in[i].IsConst() != out[i].IsConst() || (!in[i].IsConst() && (in[i] != out[i] || scales[i] != 1)) {
				return Type{}, fmt.Errorf("dim %d: a symbolic dim (%s -> %s) must be kept with scale 1", i, in[i], out[i])
			}
			if in[i].IsConst() && (in[i].Size < 1 || out[i].Size < 0) {
				return Type{}, fmt.Errorf("dim %d: cannot resize %s to %s", i, in[i], out[i])
			}
		}
		return Type{DType: args[0].DType, Shape: shape.Clone()}, nil
	}
}

// ResizeTaps are the input positions and weights that make each result
// index along one dim of a resize, in the compressed form both the
// interpreter and the Go backend use: result index o reads Idx[t] with
// weight W[t] for t in [Ptr[o], Ptr[o+1]). Taps of weight 0 are left out.
// Identity is set when the dim is not resampled (each o reads o with
// weight 1); Ptr, Idx and W are then nil.
type ResizeTaps struct {
	Ptr, Idx []int
	W        []float64
	Identity bool
}

// Taps computes the taps of dim d of resize (or resize_grad) with
// attributes a, from an operand dim of inLen to a result dim of outLen, as
// the ONNX reference implementation (onnx/reference/ops/op_resize.py)
// does: the result coordinate o maps to x in the operand by
// coordinate_transformation_mode, with the resized length taken as
// scale·inLen (not outLen); x's fraction r, in (0, 1] (1 when x is whole),
// gives the coefficients of the n neighbours of x (nearest: 2, one of them
// 0, by nearest_mode; linear: 1-r, r; cubic: Keys' kernel with
// cubic_coeff_a over 4), the n integers nearest x, ties to the smaller,
// kept within the operand padded by n/2 on each side; a neighbour beyond
// the edge reads the edge, or, with exclude_outside, is dropped and the
// coefficients renormalised.
func Taps(a Attrs, d, inLen, outLen int) ResizeTaps {
	scale := a.Floats("scales")[d]
	mode := a.String("mode", "")
	coord := ResizeCoordMode(a)
	nearest := ResizeNearestMode(a)
	cubicA := a.Float("cubic_coeff_a", -0.75)
	exclude := a.Bool("exclude_outside", false)
	if inLen == outLen && scale == 1 {
		// Every mode maps o to o exactly, with coefficient 1 (cubic's
		// others are 0): the dim is kept, as a symbolic one must be.
		return ResizeTaps{Identity: true}
	}
	inF := float64(inLen)
	length := scale * inF // the resized length, as the reference takes it
	t := ResizeTaps{Ptr: []int{0}}
	for o := 0; o < outLen; o++ {
		of := float64(o)
		var x float64
		switch coord {
		case "asymmetric":
			x = of / scale
		case "pytorch_half_pixel":
			x = -0.5
			if length != 1 {
				x = (of+0.5)/scale - 0.5
			}
		case "align_corners":
			if length != 1 {
				x = of * (inF - 1) / (length - 1)
			}
		case "half_pixel_symmetric":
			adj := float64(outLen) / length
			center := inF / 2
			x = center*(1-adj) + (of+0.5)/scale - 0.5
		default: // half_pixel
			x = (of+0.5)/scale - 0.5
		}
		x0 := math.Floor(x)
		r := x - x0
		if r == 0 {
			r = 1 // the neighbour below x weighs r: x itself
		}
		var w []float64
		switch mode {
		case "nearest":
			up := true
			if r != 1 {
				switch nearest {
				case "round_prefer_ceil":
					up = r >= 0.5
				case "floor":
					up = false
				case "ceil":
				default: // round_prefer_floor
					up = r > 0.5
				}
			}
			w = []float64{0, 1}
			if !up {
				w = []float64{1, 0}
			}
		case "linear":
			w = []float64{1 - r, r}
		default: // cubic
			A, s := cubicA, 1-r
			w = []float64{
				((A*(r+1)-5*A)*(r+1)+8*A)*(r+1) - 4*A,
				((A+2)*r-(A+3))*r*r + 1,
				((A+2)*s-(A+3))*s*s + 1,
				((A*(s+1)-5*A)*(s+1)+8*A)*(s+1) - 4*A,
			}
		}
		n := len(w)
		// The n integers nearest x, ties to the smaller, are those from
		// ceil(x) - n/2 (x's floor - n/2 + 1, or x - n/2 when whole);
		// the window stays inside the operand padded by n/2.
		start := int(x0) - n/2 + 1
		if r == 1 {
			start = int(x0) - n/2
		}
		start = max(-n/2, min(start, inLen+n/2-n))
		if exclude {
			total := 0.0
			for i := range w {
				if j := start + i; j < 0 || j >= inLen {
					w[i] = 0
				}
				total += w[i]
			}
			for i := range w {
				w[i] /= total
			}
		}
		for i := range w {
			if w[i] == 0 {
				continue
			}
			j := max(0, min(start+i, inLen-1))
			t.Idx, t.W = append(t.Idx, j), append(t.W, w[i])
		}
		t.Ptr = append(t.Ptr, len(t.Idx))
	}
	return t
}
