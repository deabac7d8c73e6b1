//go:build amd64 && !purego

package runtime

// vecRowAVX512 selects the assembly in vecrow_amd64.s (AVX-512 F).
var vecRowAVX512 = vecAVX512

//go:noescape
func vecSum64AVX512(a *float32, n int) float64

//go:noescape
func vecMaxAVX512(a *float32, n int) (m float32, ok bool)

//go:noescape
func vecScale64AVX512(dst, a *float32, s float64, n int)
