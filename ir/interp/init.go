package interp

import (
	"errors"
	"fmt"

	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/runtime"
)

// NewMachine returns a machine over m with every weight initialised, in
// module order: from its stored Data when it has some; else from its Init
// attributes (see InitSpecOf) by runtime.Initialize; else zeros. One
// runtime.NewRNG(seed) is shared by all weights in module order, and only
// initializers that draw random numbers advance it. Generated code does
// exactly the same, so that the interpreter and a generated package built
// with the same seed start from the same weights.
//
// runtime.Initialize fills float32, so every initialised weight holds
// float32 values whatever its dtype, then is converted to that dtype (for
// an integer weight, truncated toward zero).
func NewMachine(m *ir.Module, seed uint64) (*Machine, error) {
	if m == nil {
		return nil, errors.New("interp.NewMachine: nil module")
	}
	rng := runtime.NewRNG(seed)
	weights := make(map[string]*Tensor, len(m.Weights))
	for i, w := range m.Weights {
		if w == nil {
			return nil, fmt.Errorf("module %q: weight %d is nil", m.Name, i)
		}
		if _, dup := weights[w.Name]; dup {
			return nil, fmt.Errorf("weight %q: defined twice", w.Name)
		}
		t, err := initWeight(w, rng)
		if err != nil {
			return nil, err
		}
		weights[w.Name] = t
	}
	return &Machine{Module: m, Weights: weights}, nil
}

func initWeight(w *ir.Weight, rng *runtime.RNG) (*Tensor, error) {
	if !w.Type.Shape.IsStatic() {
		return nil, fmt.Errorf("weight %q: type %s has a symbolic dim; weights need constant shapes", w.Name, w.Type)
	}
	shape := intShape(w.Type.Shape)
	n, err := numElements(shape)
	if err != nil {
		return nil, fmt.Errorf("weight %q: %v", w.Name, err)
	}
	t := &Tensor{DType: w.Type.DType, Shape: shape}
	switch {
	case w.Data != nil:
		if len(w.Data) != n {
			return nil, fmt.Errorf("weight %q: data has %d values for type %s, want %d", w.Name, len(w.Data), w.Type, n)
		}
		if err := checkValues(t.DType, w.Data); err != nil {
			return nil, fmt.Errorf("weight %q: data %v", w.Name, err)
		}
		t.Data = append([]float64{}, w.Data...)
	case len(w.Init) == 0:
		t.Data = make([]float64, n)
	default:
		spec, fanIn, fanOut, err := InitSpecOf(w)
		if err != nil {
			return nil, err
		}
		buf := make([]float32, n)
		if err := runtime.Initialize(buf, spec, fanIn, fanOut, rng); err != nil {
			return nil, fmt.Errorf("weight %q: %v", w.Name, err)
		}
		t.Data = make([]float64, n)
		for i, x := range buf {
			t.Data[i] = float64(x)
		}
	}
	if err := normalize(t.DType, t.Data); err != nil {
		return nil, fmt.Errorf("weight %q: %v", w.Name, err)
	}
	return t, nil
}

// InitSpecOf maps weight w's Init attributes to the runtime's initializer
// spec and fans, so that the interpreter and the code generator read them
// identically:
//
//	init          → Kind ("glorot_uniform", "zeros", "constant", ...)
//	scale         → Scale
//	mode          → Mode
//	distribution  → Distribution
//	mean, stddev  → Mean, Stddev
//	minval/maxval → Minval, Maxval
//	value         → Value
//	fan_in/fan_out (ints) → the fans
//
// Fans not given default to Keras's Dense convention: for rank >= 2 fan_in
// is the product of all dims but the last and fan_out the last dim; for
// rank 1 both are the one dim; for a scalar both are 1. (Keras counts a
// convolution kernel's receptive field in fan_out as well; whoever builds
// such a weight sets fan_out.) A weight without Init attributes is "zeros".
// Unknown attributes, attributes of the wrong kind and specs the runtime
// rejects are errors naming the weight.
func InitSpecOf(w *ir.Weight) (spec runtime.InitSpec, fanIn, fanOut int, err error) {
	if w == nil {
		return spec, 0, 0, errors.New("interp.InitSpecOf: nil weight")
	}
	fail := func(format string, args ...any) (runtime.InitSpec, int, int, error) {
		return runtime.InitSpec{}, 0, 0, fmt.Errorf("weight %q: "+format, append([]any{w.Name}, args...)...)
	}
	if !w.Type.Shape.IsStatic() {
		return fail("type %s has a symbolic dim; weights need constant shapes", w.Type)
	}
	shape := intShape(w.Type.Shape)
	if _, err := numElements(shape); err != nil {
		return fail("%v", err)
	}
	switch r := len(shape); r {
	case 0:
		fanIn, fanOut = 1, 1
	case 1:
		fanIn, fanOut = shape[0], shape[0]
	default:
		fanIn, fanOut = 1, shape[r-1]
		for _, d := range shape[:r-1] {
			fanIn *= d
		}
	}
	if len(w.Init) == 0 {
		return runtime.InitSpec{Kind: "zeros"}, fanIn, fanOut, nil
	}
	floats := map[string]*float64{
		"scale": &spec.Scale, "mean": &spec.Mean, "stddev": &spec.Stddev,
		"minval": &spec.Minval, "maxval": &spec.Maxval, "value": &spec.Value,
	}
	strs := map[string]*string{"init": &spec.Kind, "mode": &spec.Mode, "distribution": &spec.Distribution}
	fans := map[string]*int{"fan_in": &fanIn, "fan_out": &fanOut}
	for _, k := range w.Init.Keys() { // sorted, so the first error is deterministic
		val := w.Init[k]
		if p, ok := floats[k]; ok {
			switch x := val.(type) {
			case float64:
				*p = x
			case int64:
				*p = float64(x)
			default:
				return fail("init attribute %s must be a number, is %s", k, ir.FormatAttr(val))
			}
			continue
		}
		if p, ok := strs[k]; ok {
			s, isStr := val.(string)
			if !isStr {
				return fail("init attribute %s must be a string, is %s", k, ir.FormatAttr(val))
			}
			*p = s
			continue
		}
		if p, ok := fans[k]; ok {
			x, isInt := val.(int64)
			if !isInt || x < 0 || int64(int(x)) != x {
				return fail("init attribute %s must be a non-negative integer, is %s", k, ir.FormatAttr(val))
			}
			*p = int(x)
			continue
		}
		return fail("unknown init attribute %s (want init, scale, mode, distribution, mean, stddev, minval, maxval, value, fan_in, fan_out)", k)
	}
	if spec.Kind == "" {
		return fail("init attributes without init=\"...\" naming the initializer")
	}
	if err := runtime.ValidateInitSpec(spec); err != nil {
		return fail("%v", err)
	}
	return spec, fanIn, fanOut, nil
}
