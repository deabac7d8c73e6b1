//go:build amd64 && !purego

package runtime

import "golang.org/x/sys/cpu"

// vecAccumAVX512 selects the assembly in vecaccum_amd64.s (AVX-512 F; the
// opmask registers handle the tail).
var vecAccumAVX512 = cpu.X86.HasAVX512F

//go:noescape
func vecAccumRows64AVX512(acc *float64, x *float32, n, rows, stride int)
