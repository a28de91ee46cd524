//go:build !noasm

#include "textflag.h"

// BNSTEP computes one vector of the output under mask K:
// Z0 = relu?(fma(fma(x, 1, -mean)*invstd, gamma, beta) + res?), with the
// instructions (and so the roundings) of axpb, scale, axpb, add and relu
// at this level one after the other.
#define BNSTEP(K) \
	VMOVUPS.Z (SI), K, Z0; \
	VFMADD213PS Z10, Z14, Z0; \
	VMULPS Z11, Z0, Z0; \
	VFMADD213PS Z13, Z12, Z0; \
	TESTQ $1, R8; \
	JEQ 3(PC); \
	VMOVUPS.Z (DX), K, Z1; \
	VADDPS Z1, Z0, Z0; \
	TESTQ $2, R8; \
	JEQ 2(PC); \
	VMAXPS Z0, Z15, Z0; \
	VMOVUPS Z0, K, (DI);

// func bnApplyRows32AVX512(dst, x, res *float32, hw, rows int, mean, invstd, gamma, beta *float32, flags int)
//
// For r < rows and i < hw, with o = r*hw + i:
// dst[o] = relu?(((x[o]-mean[r])*invstd[r])*gamma[r] + beta[r] + res?[o]),
// rounded as BNSTEP says. flags&1: add res; flags&2: ReLU.
TEXT ·bnApplyRows32AVX512(SB), NOSPLIT, $0-80
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ res+16(FP), DX
	MOVQ hw+24(FP), R9
	MOVQ rows+32(FP), R10
	MOVQ mean+40(FP), R11
	MOVQ invstd+48(FP), R12
	MOVQ gamma+56(FP), R13
	MOVQ beta+64(FP), BX
	MOVQ flags+72(FP), R8
	MOVL $1, AX
	VPBROADCASTD AX, Z1
	VCVTDQ2PS Z1, Z14 // 1.0
	VXORPS Z15, Z15, Z15
	MOVL $0x80000000, AX
	VPBROADCASTD AX, Z9 // sign bit
	MOVQ $-1, AX
	KMOVW AX, K1 // full vectors
	MOVQ R9, CX
	ANDQ $15, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K2 // the tail of each row
	MOVQ CX, R14
	SHLQ $2, R14 // tail bytes
	SHRQ $4, R9  // full vectors per row
row:
	TESTQ R10, R10
	JEQ done
	VBROADCASTSS (R11), Z10
	VXORPS Z9, Z10, Z10 // -mean
	VBROADCASTSS (R12), Z11
	VBROADCASTSS (R13), Z12
	VBROADCASTSS (BX), Z13
	MOVQ R9, CX
full:
	TESTQ CX, CX
	JEQ tail
	BNSTEP(K1)
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, DX
	DECQ CX
	JMP full
tail:
	TESTQ R14, R14
	JEQ next
	BNSTEP(K2)
	ADDQ R14, SI
	ADDQ R14, DI
	ADDQ R14, DX
next:
	ADDQ $4, R11
	ADDQ $4, R12
	ADDQ $4, R13
	ADDQ $4, BX
	DECQ R10
	JMP row
done:
	VZEROUPPER
	RET
