package ir

import (
	"math"
	"testing"
)

// Bit patterns checked by hand against IEEE 754 binary16 and bfloat16
// (sign | exponent | fraction; binary16 bias 15, bfloat16 bias 127).
func TestF16Bits(t *testing.T) {
	for _, c := range []struct {
		x    float64
		bits uint16
	}{
		{1, 0x3c00},
		{-2, 0xc000},
		{0.1, 0x2e66}, // 0.0999755859375, the nearest
		{1.0 / 3, 0x3555},
		{math.Copysign(0, -1), 0x8000},
		{65504, 0x7bff},              // largest finite
		{65519.99, 0x7bff},           // below the midpoint to 2^16
		{65520, 0x7c00},              // the midpoint: ties to even, 2^16, is Inf
		{-1e9, 0xfc00},               // overflow to -Inf
		{math.Ldexp(1, -14), 0x0400}, // smallest normal
		{math.Ldexp(1, -24), 0x0001}, // smallest subnormal
		{math.Ldexp(1, -25), 0x0000}, // half of it: ties to even, 0
		{math.Ldexp(1.0001, -25), 0x0001},
		{math.Ldexp(3, -25), 0x0002},     // 1.5 subnormal steps: ties to even, 2
		{math.Ldexp(1023, -24), 0x03ff},  // largest subnormal
		{1 + math.Ldexp(1, -11), 0x3c00}, // tie between 0x3c00 and 0x3c01: even
		{1 + math.Ldexp(3, -11), 0x3c02}, // tie between 0x3c01 and 0x3c02: even
		{1 + math.Ldexp(1.001, -11), 0x3c01},
		{math.NaN(), 0x7e00},
		{math.Inf(1), 0x7c00},
	} {
		if got := F16Bits(c.x); got != c.bits {
			t.Errorf("F16Bits(%v) = %#04x, want %#04x", c.x, got, c.bits)
		}
		if got, want := RoundF16(c.x), F16FromBits(c.bits); math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("RoundF16(%v) = %v, want %v", c.x, got, want)
		}
	}
	for b, want := range map[uint16]float64{0x7c01: math.NaN(), 0xfe00: math.NaN(), 0xfc00: math.Inf(-1), 0x8001: -math.Ldexp(1, -24), 0x3c01: 1 + math.Ldexp(1, -10)} {
		if got := F16FromBits(b); got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("F16FromBits(%#04x) = %v, want %v", b, got, want)
		}
	}
}

func TestBF16Bits(t *testing.T) {
	f32 := func(b uint32) float64 { return float64(math.Float32frombits(b)) }
	for _, c := range []struct {
		x    float64
		bits uint16
	}{
		{1, 0x3f80},
		{-2, 0xc000},
		{f32(0x40490fd0), 0x4049},       // float32(π): below the midpoint
		{1 + math.Ldexp(1, -8), 0x3f80}, // tie: even
		{1 + math.Ldexp(3, -8), 0x3f82}, // tie between 0x3f81 and 0x3f82: even
		{f32(0x3f808001), 0x3f81},       // just above the tie
		{f32(0x7f7f7fff), 0x7f7f},       // below the midpoint to 2^128
		{f32(0x7f7f8000), 0x7f80},       // the midpoint: ties to even, Inf
		{math.MaxFloat32, 0x7f80},
		{f32(0x00000001), 0x0000}, // float32's smallest subnormal
		{f32(0x00008000), 0x0000}, // a tie among the subnormals: even
		{f32(0x00018000), 0x0002}, // a tie: even
		{f32(0x00008001), 0x0001},
		{math.Copysign(0, -1), 0x8000},
		{math.Inf(-1), 0xff80},
		{math.NaN(), 0x7fc0},
	} {
		if got := BF16Bits(c.x); got != c.bits {
			t.Errorf("BF16Bits(%v) = %#04x, want %#04x", c.x, got, c.bits)
		}
	}
	if got := BF16FromBits(0x7f81); !math.IsNaN(got) {
		t.Errorf("BF16FromBits(0x7f81) = %v, want NaN", got)
	}
}

// TestNarrowFloatRounding checks every finite value of each format: it
// reads back as itself, the midpoint to its upper neighbour rounds to the
// one of the two with an even bit pattern, and anything off the midpoint
// rounds to the nearer one.
func TestNarrowFloatRounding(t *testing.T) {
	for _, f := range []struct {
		name    string
		from    func(uint16) float64
		bits    func(float64) uint16
		maxBits uint16
	}{
		{"f16", F16FromBits, F16Bits, 0x7bff},
		{"bf16", BF16FromBits, BF16Bits, 0x7f7f},
	} {
		for b := uint16(0); b <= f.maxBits; b++ {
			lo, hi := f.from(b), f.from(b+1)
			if b == f.maxBits { // b+1 is Inf, standing for the next power of two
				hi = lo + (lo - f.from(b-1))
			}
			if got := f.bits(lo); got != b {
				t.Fatalf("%s: %#04x reads back as %#04x", f.name, b, got)
			}
			if got := f.bits(-lo); got != b|0x8000 {
				t.Fatalf("%s: -%#04x reads back as %#04x", f.name, b, got)
			}
			mid := lo + (hi-lo)/2 // exact in float64
			even := b
			if b&1 == 1 {
				even = b + 1
			}
			if got := f.bits(mid); got != even {
				t.Fatalf("%s: midpoint of %#04x and %#04x gives %#04x, want %#04x", f.name, b, b+1, got, even)
			}
			if got := f.bits(math.Nextafter(mid, 0)); got != b {
				t.Fatalf("%s: just below the midpoint of %#04x and %#04x gives %#04x", f.name, b, b+1, got)
			}
			if got := f.bits(math.Nextafter(mid, math.Inf(1))); got != b+1 {
				t.Fatalf("%s: just above the midpoint of %#04x and %#04x gives %#04x", f.name, b, b+1, got)
			}
		}
	}
}

// TestBF16MatchesBitRounding compares RoundBF16 with the usual bit
// rounding of float32 patterns (round to nearest even on the low half),
// which is how ONNX and PyTorch convert float32 to bfloat16.
func TestBF16MatchesBitRounding(t *testing.T) {
	for b := uint64(0); b < 1<<32; b += 65521 { // a prime stride through all patterns
		u := uint32(b)
		x := float64(math.Float32frombits(u))
		if math.IsNaN(x) {
			continue
		}
		want := uint16((u + 0x7fff + (u>>16)&1) >> 16)
		if got := BF16Bits(x); got != want {
			t.Fatalf("float32 %#08x: BF16Bits = %#04x, want %#04x", u, got, want)
		}
	}
}

func TestDTypeNames(t *testing.T) {
	for _, dt := range append(append([]DType{Bool}, FloatDTypes...), IntDTypes...) {
		got, ok := ParseDType(dt.String())
		if !ok || got != dt {
			t.Errorf("ParseDType(%q) = %v, %v", dt.String(), got, ok)
		}
		if dt.IsFloat() == dt.IsInt() && dt != Bool {
			t.Errorf("%s: IsFloat %v, IsInt %v", dt, dt.IsFloat(), dt.IsInt())
		}
	}
	for _, dt := range []DType{U8, U16, U32, U64} {
		if !dt.IsUnsigned() {
			t.Errorf("%s is unsigned", dt)
		}
	}
}

// TestNarrowDTypesRoundTrip: the text form names the new dtypes in types
// and in dtype attributes, and a constant of f16 values prints exactly.
func TestNarrowDTypesRoundTrip(t *testing.T) {
	const src = `module "m"

func @f(%a: f16[2], %b: bf16[2], %c: i16[2], %d: u16[], %e: u32[1], %g: u64[1]) -> (f16[2], u64[1]) {
  %0 = constant {value=[0.0999755859375, 65504.0]} : f16[2]
  %1 = add %a, %0 : f16[2]
  %2 = cast %b {to=f16} : f16[2]
  %3 = maximum %1, %2 : f16[2]
  %4 = cast %c {to=u64} : u64[2]
  %5 = cast %d {to=u32} : u32[]
  %6 = cast %e {to=bf16} : bf16[1]
  %7 = mod %g, %g {fmod=false} : u64[1]
  return %3, %7
}
`
	m, err := ParseModule(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(m); err != nil {
		t.Fatal(err)
	}
	if got := m.String(); got != src {
		t.Fatalf("round trip differs:\n%s", got)
	}
}
