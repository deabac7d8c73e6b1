package runtime

import (
	"fmt"
	"math"
)

// InitSpec describes a Keras weight initializer. Kind is the Keras
// initializer name in lowercase snake case; the other fields are the
// parameters of the kinds that use them (see Initialize) and are ignored by
// the others. Keras's defaults are not applied to zero fields, except that
// an empty Mode or Distribution of "variance_scaling" means Keras's
// "fan_in" and "truncated_normal".
type InitSpec struct {
	Kind         string
	Scale        float64
	Mode         string
	Distribution string
	Mean, Stddev float64
	Minval       float64
	Maxval       float64
	Value        float64
}

// truncNormalStddevCorrection is the standard deviation of a standard
// normal truncated to [-2, 2]. Keras divides by it so that a truncated
// normal variance_scaling initializer has exactly the intended variance.
const truncNormalStddevCorrection = 0.87962566103423978

// ValidateInitSpec reports whether spec names a known initializer with
// usable parameters. The error names the offending field.
func ValidateInitSpec(spec InitSpec) error {
	_, err := resolveInit(spec)
	return err
}

// resolvedInit is an InitSpec reduced to one of a few primitive
// distributions.
type resolvedInit struct {
	kind         string // "constant", "random_normal", "random_uniform", "truncated_normal", "variance_scaling"
	value        float64
	mean, stddev float64
	lo, hi       float64
	scale        float64
	mode, dist   string
}

func finite(name string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("initializer: %s = %v must be finite", name, v)
	}
	return nil
}

func resolveInit(spec InitSpec) (resolvedInit, error) {
	switch spec.Kind {
	case "zeros":
		return resolvedInit{kind: "constant", value: 0}, nil
	case "ones":
		return resolvedInit{kind: "constant", value: 1}, nil
	case "constant":
		if err := finite("Value", spec.Value); err != nil {
			return resolvedInit{}, err
		}
		return resolvedInit{kind: "constant", value: spec.Value}, nil
	case "random_normal", "truncated_normal":
		if err := finite("Mean", spec.Mean); err != nil {
			return resolvedInit{}, err
		}
		if err := finite("Stddev", spec.Stddev); err != nil {
			return resolvedInit{}, err
		}
		if spec.Stddev < 0 {
			return resolvedInit{}, fmt.Errorf("initializer %q: Stddev = %v must not be negative", spec.Kind, spec.Stddev)
		}
		return resolvedInit{kind: spec.Kind, mean: spec.Mean, stddev: spec.Stddev}, nil
	case "random_uniform":
		if err := finite("Minval", spec.Minval); err != nil {
			return resolvedInit{}, err
		}
		if err := finite("Maxval", spec.Maxval); err != nil {
			return resolvedInit{}, err
		}
		if spec.Minval > spec.Maxval {
			return resolvedInit{}, fmt.Errorf("initializer %q: Minval = %v is greater than Maxval = %v", spec.Kind, spec.Minval, spec.Maxval)
		}
		return resolvedInit{kind: spec.Kind, lo: spec.Minval, hi: spec.Maxval}, nil
	case "glorot_uniform":
		return resolvedInit{kind: "variance_scaling", scale: 1, mode: "fan_avg", dist: "uniform"}, nil
	case "glorot_normal":
		return resolvedInit{kind: "variance_scaling", scale: 1, mode: "fan_avg", dist: "truncated_normal"}, nil
	case "he_uniform":
		return resolvedInit{kind: "variance_scaling", scale: 2, mode: "fan_in", dist: "uniform"}, nil
	case "he_normal":
		return resolvedInit{kind: "variance_scaling", scale: 2, mode: "fan_in", dist: "truncated_normal"}, nil
	case "lecun_uniform":
		return resolvedInit{kind: "variance_scaling", scale: 1, mode: "fan_in", dist: "uniform"}, nil
	case "lecun_normal":
		return resolvedInit{kind: "variance_scaling", scale: 1, mode: "fan_in", dist: "truncated_normal"}, nil
	case "variance_scaling":
		if err := finite("Scale", spec.Scale); err != nil {
			return resolvedInit{}, err
		}
		if spec.Scale <= 0 {
			return resolvedInit{}, fmt.Errorf("initializer %q: Scale = %v must be positive", spec.Kind, spec.Scale)
		}
		mode := spec.Mode
		switch mode {
		case "":
			mode = "fan_in"
		case "fan_in", "fan_out", "fan_avg":
		default:
			return resolvedInit{}, fmt.Errorf("initializer %q: Mode = %q must be \"fan_in\", \"fan_out\" or \"fan_avg\"", spec.Kind, spec.Mode)
		}
		dist := spec.Distribution
		switch dist {
		case "", "normal": // Keras 2 accepted "normal" as an alias of truncated_normal
			dist = "truncated_normal"
		case "truncated_normal", "untruncated_normal", "uniform":
		default:
			return resolvedInit{}, fmt.Errorf("initializer %q: Distribution = %q must be \"truncated_normal\", \"untruncated_normal\" or \"uniform\"", spec.Kind, spec.Distribution)
		}
		return resolvedInit{kind: "variance_scaling", scale: spec.Scale, mode: mode, dist: dist}, nil
	case "":
		return resolvedInit{}, fmt.Errorf("initializer: Kind is empty")
	default:
		return resolvedInit{}, fmt.Errorf("initializer: unknown Kind %q (want zeros, ones, constant, random_normal, random_uniform, truncated_normal, glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal or variance_scaling)", spec.Kind)
	}
}

// Initialize fills dst according to spec, drawing from rng, with Keras
// semantics:
//
//   - "zeros", "ones", "constant" (Value): a constant.
//   - "random_normal": Normal(Mean, Stddev).
//   - "random_uniform": Uniform[Minval, Maxval).
//   - "truncated_normal": Normal(Mean, Stddev) with values more than two
//     standard deviations from the mean redrawn.
//   - "variance_scaling" (Scale, Mode, Distribution): with n = fanIn,
//     fanOut or (fanIn+fanOut)/2 by Mode (at least 1), a truncated normal
//     with stddev sqrt(Scale/n)/0.87962566103423978 (so the variance after
//     truncation is Scale/n), an untruncated normal with stddev
//     sqrt(Scale/n), or Uniform[-l, l) with l = sqrt(3*Scale/n).
//   - "glorot_*", "he_*", "lecun_*": variance_scaling with (1, fan_avg),
//     (2, fan_in) and (1, fan_in), "uniform" or "truncated_normal".
//
// fanIn and fanOut follow Keras: for a Dense kernel they are its input and
// output sizes, for a convolution kernel they are multiplied by the
// receptive field size. rng may be nil only for the constant kinds.
func Initialize(dst []float32, spec InitSpec, fanIn, fanOut int, rng *RNG) error {
	ri, err := resolveInit(spec)
	if err != nil {
		return err
	}
	if ri.kind == "constant" {
		v := float32(ri.value)
		for i := range dst {
			dst[i] = v
		}
		return nil
	}
	if rng == nil {
		return fmt.Errorf("initializer %q: rng is nil", spec.Kind)
	}
	switch ri.kind {
	case "random_normal":
		fillNormal(dst, ri.mean, ri.stddev, rng)
	case "truncated_normal":
		fillTruncNormal(dst, ri.mean, ri.stddev, rng)
	case "random_uniform":
		fillUniform(dst, ri.lo, ri.hi, rng)
	case "variance_scaling":
		if fanIn < 0 || fanOut < 0 {
			return fmt.Errorf("initializer %q: fan_in = %d and fan_out = %d must not be negative", spec.Kind, fanIn, fanOut)
		}
		var n float64
		switch ri.mode {
		case "fan_in":
			n = float64(fanIn)
		case "fan_out":
			n = float64(fanOut)
		default:
			n = float64(fanIn+fanOut) / 2
		}
		scale := ri.scale / max(1, n)
		switch ri.dist {
		case "truncated_normal":
			fillTruncNormal(dst, 0, math.Sqrt(scale)/truncNormalStddevCorrection, rng)
		case "untruncated_normal":
			fillNormal(dst, 0, math.Sqrt(scale), rng)
		default:
			limit := math.Sqrt(3 * scale)
			fillUniform(dst, -limit, limit, rng)
		}
	}
	return nil
}

// The fill helpers round each product explicitly (float64(x*y)) so that no
// multiply-add is fused, keeping values identical on every platform.

func fillNormal(dst []float32, mean, stddev float64, rng *RNG) {
	for i := range dst {
		dst[i] = float32(mean + float64(stddev*rng.Normal()))
	}
}

func fillTruncNormal(dst []float32, mean, stddev float64, rng *RNG) {
	for i := range dst {
		z := rng.Normal()
		for z < -2 || z > 2 {
			z = rng.Normal()
		}
		dst[i] = float32(mean + float64(stddev*z))
	}
}

func fillUniform(dst []float32, lo, hi float64, rng *RNG) {
	w := hi - lo
	for i := range dst {
		dst[i] = float32(lo + float64(w*rng.Float64()))
	}
}
