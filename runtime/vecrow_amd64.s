//go:build amd64 && !purego

// Row reductions for generated rows kernels; see vecrow.go for the order
// each one keeps (the Go twins compute the same bits).

#include "textflag.h"

// func vecSum64AVX512(a *float32, n int) float64
// Eight float64 lanes in Z0, element i into lane i%8; the tail is a
// zero-masked load: adding +0 leaves a lane unchanged, as a lane that
// starts at +0 is never -0.
TEXT ·vecSum64AVX512(SB), NOSPLIT, $0-24
	MOVQ a+0(FP), SI
	MOVQ n+8(FP), CX
	VXORPD Z0, Z0, Z0

sum8:
	CMPQ CX, $8
	JLT  sumtail
	VCVTPS2PD (SI), Z1
	VADDPD    Z1, Z0, Z0
	ADDQ      $32, SI
	SUBQ      $8, CX
	JMP       sum8

sumtail:
	TESTQ CX, CX
	JZ    sumreduce
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	KMOVW AX, K1
	VCVTPS2PD.Z (SI), K1, Z1
	VADDPD      Z1, Z0, Z0

sumreduce:
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPD        Y1, Y0, Y0 // l0+l4, l1+l5, l2+l6, l3+l7
	VEXTRACTF128  $1, Y0, X1
	VADDPD        X1, X0, X0 // (l0+l4)+(l2+l6), (l1+l5)+(l3+l7)
	VPERMILPD     $1, X0, X1
	VADDSD        X1, X0, X0
	VZEROUPPER
	MOVSD         X0, ret+16(FP)
	RET

// func vecMaxAVX512(a *float32, n int) (m float32, ok bool)
// ok is false when an element is NaN (VMAXPS would skip it).
TEXT ·vecMaxAVX512(SB), NOSPLIT, $0-21
	MOVQ         a+0(FP), SI
	MOVQ         n+8(FP), CX
	MOVL         $0xff800000, AX
	VPBROADCASTD AX, Z0   // -Inf
	VMOVAPS      Z0, Z2
	KXORW        K2, K2, K2

max16:
	CMPQ     CX, $16
	JLT      maxtail
	VMOVUPS  (SI), Z1
	VCMPPS   $3, Z1, Z1, K3 // unordered: NaN
	KORW     K3, K2, K2
	VMAXPS   Z1, Z0, Z0
	ADDQ     $64, SI
	SUBQ     $16, CX
	JMP      max16

maxtail:
	TESTQ   CX, CX
	JZ      maxreduce
	MOVL    $1, AX
	SHLL    CX, AX
	DECL    AX
	KMOVW   AX, K1
	VMOVAPS Z2, Z1
	VMOVUPS (SI), K1, Z1 // the lanes past the end stay -Inf
	VCMPPS  $3, Z1, Z1, K3
	KORW    K3, K2, K2
	VMAXPS  Z1, Z0, Z0

maxreduce:
	VSHUFF32X4 $0x4e, Z0, Z0, Z1
	VMAXPS     Z1, Z0, Z0
	VSHUFF32X4 $0xb1, Z0, Z0, Z1
	VMAXPS     Z1, Z0, Z0
	VPERMILPS  $0x4e, Z0, Z1
	VMAXPS     Z1, Z0, Z0
	VPERMILPS  $0xb1, Z0, Z1
	VMAXPS     Z1, Z0, Z0
	VMOVSS     X0, m+16(FP)
	KORTESTW   K2, K2
	SETEQ      ok+20(FP)
	VZEROUPPER
	RET

// func vecScale64AVX512(dst, a *float32, s float64, n int)
TEXT ·vecScale64AVX512(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         a+8(FP), SI
	VBROADCASTSD s+16(FP), Z2
	MOVQ         n+24(FP), CX

scale8:
	CMPQ      CX, $8
	JLT       scaletail
	VCVTPS2PD (SI), Z1
	VMULPD    Z2, Z1, Z1
	VCVTPD2PS Z1, Y1
	VMOVUPS   Y1, (DI)
	ADDQ      $32, SI
	ADDQ      $32, DI
	SUBQ      $8, CX
	JMP       scale8

scaletail:
	TESTQ CX, CX
	JZ    scaledone
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	KMOVW AX, K1
	VCVTPS2PD.Z (SI), K1, Z1
	VMULPD      Z2, Z1, Z1
	VCVTPD2PS   Z1, Y1
	VMOVUPS     Y1, K1, (DI)

scaledone:
	VZEROUPPER
	RET
