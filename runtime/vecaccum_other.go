//go:build !amd64 || purego

package runtime

const vecAccumAVX512 = false

func vecAccumRows64AVX512(acc *float64, x *float32, n, rows, stride int) { panic("unreachable") }
