//go:build amd64 && !purego

package runtime

import "golang.org/x/sys/cpu"

// vecAVX512 selects the assembly vector loops (AVX-512 F; the opmask
// registers handle the tail).
var vecAVX512 = cpu.X86.HasAVX512F
