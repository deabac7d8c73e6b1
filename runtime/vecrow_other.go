//go:build !amd64 || purego

package runtime

const vecRowAVX512 = false

func vecSum64AVX512(a *float32, n int) float64            { panic("unreachable") }
func vecMaxAVX512(a *float32, n int) (m float32, ok bool) { panic("unreachable") }
func vecScale64AVX512(dst, a *float32, s float64, n int)  { panic("unreachable") }
