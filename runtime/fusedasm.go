package runtime

import "os"

// FusedAsm reports whether generated packages may run the AVX-512
// assembly they carry for fused elementwise loops (codegen/golang's
// asmloop.go): on amd64 with AVX-512 F, outside -tags purego, unless the
// environment sets DLC_FUSED_ASM=0, which keeps their Go loops (the same
// bits), to test and time those on one machine.
func FusedAsm() bool { return fusedAsm }

var fusedAsm = vecAVX512 && os.Getenv("DLC_FUSED_ASM") != "0"
