//go:build !noasm

#include "textflag.h"

// func bnApply32AVX512(dst, x, res *float32, n int, negMean, invstd, gamma, beta float32, flags int)
//
// dst[i] = relu?(fma(fma(x[i], 1, negMean)*invstd, gamma, beta) + res?[i])
// for i < n, in one pass, with the instructions (and so the roundings) of
// axpb, scale, axpb, add and relu at this level one after the other.
// flags&1: add res; flags&2: ReLU.
TEXT ·bnApply32AVX512(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ res+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS negMean+32(FP), Z10
	VBROADCASTSS invstd+36(FP), Z11
	VBROADCASTSS gamma+40(FP), Z12
	VBROADCASTSS beta+44(FP), Z13
	MOVQ flags+48(FP), R8
	MOVL $1, AX
	VPBROADCASTD AX, Z1
	VCVTDQ2PS Z1, Z14 // 1.0
	VXORPS Z15, Z15, Z15
	MOVQ $-1, AX
	KMOVW AX, K1
loop:
	CMPQ CX, $16
	JGE body
	TESTQ CX, CX
	JEQ done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	MOVQ $16, CX
body:
	VMOVUPS.Z (SI), K1, Z0
	VFMADD213PS Z10, Z14, Z0
	VMULPS Z11, Z0, Z0
	VFMADD213PS Z13, Z12, Z0
	TESTQ $1, R8
	JEQ norres
	VMOVUPS.Z (DX), K1, Z1
	VADDPS Z1, Z0, Z0
	ADDQ $64, DX
norres:
	TESTQ $2, R8
	JEQ norelu
	VMAXPS Z0, Z15, Z0
norelu:
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP loop
done:
	VZEROUPPER
	RET
