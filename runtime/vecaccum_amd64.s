//go:build amd64 && !purego

// VecAccumRows64's body; see vecaccum.go for what it computes.

#include "textflag.h"

// func vecAccumRows64AVX512(acc *float64, x *float32, n, rows, stride int)
// The columns go in blocks of 32 (four zmm accumulators), then of 8, then
// one masked block (the masked-off lanes are neither read nor written);
// each block loads its accumulators, adds the rows in order and stores
// them. The accumulator is VADDPD's first source, as acc is the left
// operand of the scalar acc += float64(x). rows >= 1 and n >= 1.
TEXT ·vecAccumRows64AVX512(SB), NOSPLIT, $0-40
	MOVQ acc+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ rows+24(FP), DX
	MOVQ stride+32(FP), BX
	SHLQ $2, BX               // the stride in bytes

blk32:
	CMPQ    CX, $32
	JLT     blk8
	VMOVUPD (DI), Z0
	VMOVUPD 64(DI), Z1
	VMOVUPD 128(DI), Z2
	VMOVUPD 192(DI), Z3
	MOVQ    SI, R8
	MOVQ    DX, R9

row32:
	VCVTPS2PD (R8), Z4
	VCVTPS2PD 32(R8), Z5
	VCVTPS2PD 64(R8), Z6
	VCVTPS2PD 96(R8), Z7
	VADDPD    Z4, Z0, Z0
	VADDPD    Z5, Z1, Z1
	VADDPD    Z6, Z2, Z2
	VADDPD    Z7, Z3, Z3
	ADDQ      BX, R8
	DECQ      R9
	JNZ       row32
	VMOVUPD   Z0, (DI)
	VMOVUPD   Z1, 64(DI)
	VMOVUPD   Z2, 128(DI)
	VMOVUPD   Z3, 192(DI)
	ADDQ      $128, SI
	ADDQ      $256, DI
	SUBQ      $32, CX
	JMP       blk32

blk8:
	CMPQ    CX, $8
	JLT     tail
	VMOVUPD (DI), Z0
	MOVQ    SI, R8
	MOVQ    DX, R9

row8:
	VCVTPS2PD (R8), Z4
	VADDPD    Z4, Z0, Z0
	ADDQ      BX, R8
	DECQ      R9
	JNZ       row8
	VMOVUPD   Z0, (DI)
	ADDQ      $32, SI
	ADDQ      $64, DI
	SUBQ      $8, CX
	JMP       blk8

tail:
	TESTQ     CX, CX
	JZ        done
	MOVL      $1, AX
	SHLL      CX, AX
	DECL      AX
	KMOVW     AX, K1
	VMOVUPD.Z (DI), K1, Z0
	MOVQ      SI, R8
	MOVQ      DX, R9

rowtail:
	VCVTPS2PD.Z (R8), K1, Z4
	VADDPD      Z4, Z0, Z0
	ADDQ        BX, R8
	DECQ        R9
	JNZ         rowtail
	VMOVUPD     Z0, K1, (DI)

done:
	VZEROUPPER
	RET
