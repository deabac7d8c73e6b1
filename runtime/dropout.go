package runtime

// Counter-based random numbers for dropout. A mask element is a pure
// function of (seed, step, element index), so ir/interp and generated code
// draw identical bits however the work is split over workers, and a run
// resumed from a checkpoint (which holds the step counter) draws what the
// uninterrupted run draws. The mixer is SplitMix64's finaliser (Steele,
// Lea and Flood, "Fast splittable pseudorandom number generators",
// OOPSLA 2014), applied to a Weyl sequence of the key: the construction of
// SplitMix64 itself, with the element index as the sequence position.

const golden = 0x9e3779b97f4a7c15

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// DropoutKey is the stream key of one dropout op at one training step: the
// op's seed and the step counter (an f32 state weight counting from 0).
func DropoutKey(seed uint64, step float32) uint64 {
	s := float64(step)
	if !(s >= 0) || s >= 1<<63 {
		s = 0 // a corrupt counter still draws a valid mask
	}
	return mix64(mix64(seed*golden+1) ^ uint64(s)*0xd1b54a32d192ed03)
}

// DropoutUniform is the uniform number in [0, 1) of element i of the
// stream key: 24 random bits, so that it is exact in float32 too.
func DropoutUniform(key, i uint64) float64 {
	return float64(mix64(key+(i+1)*golden)>>40) * (1.0 / (1 << 24))
}

// DropoutScale is the factor of a kept element: inverted dropout scales
// the kept activations by 1/(1-rate), as torch.nn.Dropout, so that the
// expected activation is unchanged and inference is the identity.
func DropoutScale(rate float64) float32 { return float32(1 / (1 - rate)) }

// DropoutMask writes elements first, first+1, … of the mask of stream key
// into out: DropoutScale(rate) where the element's uniform number is at
// least rate (kept), else 0 (dropped).
func DropoutMask(out []float32, first int, key uint64, rate float64) {
	scale := DropoutScale(rate)
	for i := range out {
		if DropoutUniform(key, uint64(first+i)) >= rate {
			out[i] = scale
		} else {
			out[i] = 0
		}
	}
}
