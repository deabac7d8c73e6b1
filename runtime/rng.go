package runtime

import (
	"math"
	"math/bits"
)

// RNG is a deterministic pseudo-random number generator: xoshiro256** 1.0
// by David Blackman and Sebastiano Vigna (public domain reference code at
// https://prng.di.unimi.it/xoshiro256starstar.c), with its 256-bit state
// seeded from a single uint64 by SplitMix64
// (https://prng.di.unimi.it/splitmix64.c), as the authors recommend.
//
// It is used instead of math/rand so that weight initialization and data
// shuffling produce the same stream for the same seed on every platform and
// Go version: the integer generator is fully specified, and the
// floating-point transforms below use only correctly rounded operations
// (no platform-dependent math.Log, no fused multiply-add).
//
// An RNG is not safe for concurrent use. The zero value is not a valid
// generator (its all-zero state is a fixed point); use NewRNG.
type RNG struct {
	s        [4]uint64
	hasSpare bool // Normal generates pairs; the second one is cached
	spare    float64
}

// NewRNG returns a generator whose state is derived from seed by four
// SplitMix64 steps (which never yields the forbidden all-zero state).
func NewRNG(seed uint64) *RNG {
	r := &RNG{}
	for i := range r.s {
		seed += 0x9e3779b97f4a7c15
		z := seed
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		r.s[i] = z ^ (z >> 31)
	}
	return r
}

// Uint64 returns the next 64 uniformly distributed bits.
func (r *RNG) Uint64() uint64 {
	s := &r.s
	result := bits.RotateLeft64(s[1]*5, 7) * 9
	t := s[1] << 17
	s[2] ^= s[0]
	s[3] ^= s[1]
	s[1] ^= s[2]
	s[0] ^= s[3]
	s[2] ^= t
	s[3] = bits.RotateLeft64(s[3], 45)
	return result
}

// Float64 returns a uniform float64 in [0, 1) with 53 random bits: every
// value k/2^53 is equally likely.
func (r *RNG) Float64() float64 {
	return float64(r.Uint64()>>11) * 0x1p-53
}

// Intn returns a uniform integer in [0, n) without modulo bias, using
// Lemire's multiply-and-reject method ("Fast Random Integer Generation in
// an Interval", ACM TOMACS 2019). Like math/rand.Intn it panics if n <= 0,
// since that is a bug in the caller rather than bad data.
func (r *RNG) Intn(n int) int {
	if n <= 0 {
		panic("runtime.RNG.Intn: n must be positive")
	}
	un := uint64(n)
	hi, lo := bits.Mul64(r.Uint64(), un)
	if lo < un {
		thresh := -un % un
		for lo < thresh {
			hi, lo = bits.Mul64(r.Uint64(), un)
		}
	}
	return int(hi)
}

// Shuffle permutes idx in place with the Fisher–Yates algorithm (Knuth,
// TAOCP vol. 2, Algorithm P), drawing j uniformly from [0, i]. It does not
// allocate.
func (r *RNG) Shuffle(idx []int) {
	for i := len(idx) - 1; i > 0; i-- {
		j := r.Intn(i + 1)
		idx[i], idx[j] = idx[j], idx[i]
	}
}

// Normal returns a standard normal variate using Marsaglia's polar method
// (Marsaglia & Bray 1964), which needs only sqrt (correctly rounded on every
// platform) and a logarithm, for which the portable detLog is used. Values
// are produced in pairs; the second is returned by the next call.
func (r *RNG) Normal() float64 {
	if r.hasSpare {
		r.hasSpare = false
		return r.spare
	}
	for {
		u := 2*r.Float64() - 1 // exact: Float64 has 53 bits
		v := 2*r.Float64() - 1
		// Explicit conversions forbid fusing into FMA (Go spec,
		// "Floating-point operators"), keeping results bit-identical
		// across architectures.
		s := float64(u*u) + float64(v*v)
		if s >= 1 || s == 0 {
			continue
		}
		m := math.Sqrt(float64(-2*detLog(s)) / s)
		r.spare = float64(v * m)
		r.hasSpare = true
		return float64(u * m)
	}
}

// detLog is the natural logarithm for 0 < x < +Inf, as in Go's portable
// math.log (itself from FreeBSD's e_log.c), with every product rounded
// explicitly. math.Log cannot be used for determinism: on amd64 it is an
// assembly routine whose results may differ in the last bit from other
// platforms, and the compiler may fuse multiply-adds on arm64/ppc64/s390x.
func detLog(x float64) float64 {
	const (
		ln2Hi = 6.93147180369123816490e-01 // 3fe62e42 fee00000
		ln2Lo = 1.90821492927058770002e-10 // 3dea39ef 35793c76
		l1    = 6.666666666666735130e-01   // 3FE55555 55555593
		l2    = 3.999999999940941908e-01   // 3FD99999 9997FA04
		l3    = 2.857142874366239149e-01   // 3FD24924 94229359
		l4    = 2.222219843214978396e-01   // 3FCC71C5 1D8E78AF
		l5    = 1.818357216161805012e-01   // 3FC74664 96CB03DE
		l6    = 1.531383769920937332e-01   // 3FC39A09 D078C69F
		l7    = 1.479819860511658591e-01   // 3FC2F112 DF3E5244
	)
	f1, ki := math.Frexp(x)
	if f1 < math.Sqrt2/2 {
		f1 *= 2
		ki--
	}
	f := f1 - 1
	k := float64(ki)
	s := f / (2 + f)
	s2 := float64(s * s)
	s4 := float64(s2 * s2)
	t1 := float64(s2 * float64(l1+float64(s4*float64(l3+float64(s4*float64(l5+float64(s4*l7)))))))
	t2 := float64(s4 * float64(l2+float64(s4*float64(l4+float64(s4*l6)))))
	rr := t1 + t2
	hfsq := float64(0.5 * float64(f*f))
	return float64(k*ln2Hi) - ((hfsq - (float64(s*(hfsq+rr)) + float64(k*ln2Lo))) - f)
}
