//go:build !noasm

#include "textflag.h"

// Winograd F(2x2, 3x3) transforms of one row of tiles, float32, AVX-512;
// the vector lanes are the tiles of the row (tw <= 16). Scalar reference:
// winoConv.inputTransform and outputTransform in winograd.go.

// func winoInF32AVX512(src unsafe.Pointer, ld, tw int, dst unsafe.Pointer, stride int)
//
// src holds the 4 input rows of the tile row, each as E (ld floats) then O
// (ld floats), E[t] = row[2t-1], O[t] = row[2t] (zero outside the image).
// For tile t (< tw) and xi = 4k+l it stores V_xi[t] = (B^T d B)[k][l] at
// dst + xi*stride + 4t (stride in bytes).
TEXT ·winoInF32AVX512(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ ld+8(FP), BX
	SHLQ $2, BX
	MOVQ tw+16(FP), CX
	MOVQ dst+24(FP), DI
	MOVQ stride+32(FP), DX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	LEAQ (SI)(BX*2), R8
	LEAQ (R8)(BX*2), R9
	LEAQ (R9)(BX*2), R10
	// row pass on E: s0 = d0-d2, s1 = d1+d2, s2 = d2-d1, s3 = d1-d3
	VMOVUPS.Z 0(SI), K1, Z0
	VMOVUPS.Z 0(R8), K1, Z1
	VMOVUPS.Z 0(R9), K1, Z2
	VMOVUPS.Z 0(R10), K1, Z3
	VSUBPS Z2, Z0, Z4
	VADDPS Z2, Z1, Z5
	VSUBPS Z1, Z2, Z6
	VSUBPS Z3, Z1, Z7
	// row pass on E1: s0 = d0-d2, s1 = d1+d2, s2 = d2-d1, s3 = d1-d3
	VMOVUPS.Z 4(SI), K1, Z0
	VMOVUPS.Z 4(R8), K1, Z1
	VMOVUPS.Z 4(R9), K1, Z2
	VMOVUPS.Z 4(R10), K1, Z3
	VSUBPS Z2, Z0, Z8
	VADDPS Z2, Z1, Z9
	VSUBPS Z1, Z2, Z10
	VSUBPS Z3, Z1, Z11
	// row pass on O: s0 = d0-d2, s1 = d1+d2, s2 = d2-d1, s3 = d1-d3
	VMOVUPS.Z (SI)(BX*1), K1, Z0
	VMOVUPS.Z (R8)(BX*1), K1, Z1
	VMOVUPS.Z (R9)(BX*1), K1, Z2
	VMOVUPS.Z (R10)(BX*1), K1, Z3
	VSUBPS Z2, Z0, Z12
	VADDPS Z2, Z1, Z13
	VSUBPS Z1, Z2, Z14
	VSUBPS Z3, Z1, Z15
	// row pass on O1: s0 = d0-d2, s1 = d1+d2, s2 = d2-d1, s3 = d1-d3
	VMOVUPS.Z 4(SI)(BX*1), K1, Z0
	VMOVUPS.Z 4(R8)(BX*1), K1, Z1
	VMOVUPS.Z 4(R9)(BX*1), K1, Z2
	VMOVUPS.Z 4(R10)(BX*1), K1, Z3
	VSUBPS Z2, Z0, Z16
	VADDPS Z2, Z1, Z17
	VSUBPS Z1, Z2, Z18
	VSUBPS Z3, Z1, Z19
	// column pass: o0 = sE-sE1, o1 = sO+sE1, o2 = sE1-sO, o3 = sO-sO1
	VSUBPS Z8, Z4, Z20
	VADDPS Z8, Z12, Z21
	VSUBPS Z12, Z8, Z22
	VSUBPS Z16, Z12, Z23
	VMOVUPS Z20, K1, (DI)
	ADDQ DX, DI
	VMOVUPS Z21, K1, (DI)
	ADDQ DX, DI
	VMOVUPS Z22, K1, (DI)
	ADDQ DX, DI
	VMOVUPS Z23, K1, (DI)
	ADDQ DX, DI
	VSUBPS Z9, Z5, Z20
	VADDPS Z9, Z13, Z21
	VSUBPS Z13, Z9, Z22
	VSUBPS Z17, Z13, Z23
	VMOVUPS Z20, K1, (DI)
	ADDQ DX, DI
	VMOVUPS Z21, K1, (DI)
	ADDQ DX, DI
	VMOVUPS Z22, K1, (DI)
	ADDQ DX, DI
	VMOVUPS Z23, K1, (DI)
	ADDQ DX, DI
	VSUBPS Z10, Z6, Z20
	VADDPS Z10, Z14, Z21
	VSUBPS Z14, Z10, Z22
	VSUBPS Z18, Z14, Z23
	VMOVUPS Z20, K1, (DI)
	ADDQ DX, DI
	VMOVUPS Z21, K1, (DI)
	ADDQ DX, DI
	VMOVUPS Z22, K1, (DI)
	ADDQ DX, DI
	VMOVUPS Z23, K1, (DI)
	ADDQ DX, DI
	VSUBPS Z11, Z7, Z20
	VADDPS Z11, Z15, Z21
	VSUBPS Z15, Z11, Z22
	VSUBPS Z19, Z15, Z23
	VMOVUPS Z20, K1, (DI)
	ADDQ DX, DI
	VMOVUPS Z21, K1, (DI)
	ADDQ DX, DI
	VMOVUPS Z22, K1, (DI)
	ADDQ DX, DI
	VMOVUPS Z23, K1, (DI)
	VZEROUPPER
	RET

// Lane i of the low (high) half of an interleave takes E[i/2] for even i
// and O[i/2] for odd i (offset 8 for the high half; 16+ selects O).
DATA winoIlv<>+0(SB)/4, $0
DATA winoIlv<>+4(SB)/4, $16
DATA winoIlv<>+8(SB)/4, $1
DATA winoIlv<>+12(SB)/4, $17
DATA winoIlv<>+16(SB)/4, $2
DATA winoIlv<>+20(SB)/4, $18
DATA winoIlv<>+24(SB)/4, $3
DATA winoIlv<>+28(SB)/4, $19
DATA winoIlv<>+32(SB)/4, $4
DATA winoIlv<>+36(SB)/4, $20
DATA winoIlv<>+40(SB)/4, $5
DATA winoIlv<>+44(SB)/4, $21
DATA winoIlv<>+48(SB)/4, $6
DATA winoIlv<>+52(SB)/4, $22
DATA winoIlv<>+56(SB)/4, $7
DATA winoIlv<>+60(SB)/4, $23
DATA winoIlv<>+64(SB)/4, $8
DATA winoIlv<>+68(SB)/4, $24
DATA winoIlv<>+72(SB)/4, $9
DATA winoIlv<>+76(SB)/4, $25
DATA winoIlv<>+80(SB)/4, $10
DATA winoIlv<>+84(SB)/4, $26
DATA winoIlv<>+88(SB)/4, $11
DATA winoIlv<>+92(SB)/4, $27
DATA winoIlv<>+96(SB)/4, $12
DATA winoIlv<>+100(SB)/4, $28
DATA winoIlv<>+104(SB)/4, $13
DATA winoIlv<>+108(SB)/4, $29
DATA winoIlv<>+112(SB)/4, $14
DATA winoIlv<>+116(SB)/4, $30
DATA winoIlv<>+120(SB)/4, $15
DATA winoIlv<>+124(SB)/4, $31
GLOBL winoIlv<>(SB), RODATA|NOPTR, $128

// func winoOutF32AVX512(src unsafe.Pointer, stride, tw int, bias float32, dst unsafe.Pointer, ldy, n, two int)
//
// src holds M_xi for the tw tiles of a tile row at src + xi*stride (bytes).
// It stores the first n (<= 2*tw) values of output row 2*ty at dst and,
// when two != 0, of row 2*ty+1 at dst + ldy (bytes): Y = A^T M A + bias.
TEXT ·winoOutF32AVX512(SB), NOSPLIT, $0-64
	MOVQ src+0(FP), SI
	MOVQ stride+8(FP), DX
	MOVQ tw+16(FP), CX
	VBROADCASTSS bias+24(FP), Z30
	MOVQ dst+32(FP), DI
	MOVQ ldy+40(FP), BX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	// K2: first min(n, 16) lanes; K3: the n-16 lanes after them
	MOVQ n+48(FP), R8
	MOVQ R8, CX
	CMPQ CX, $16
	JLE lo
	MOVQ $16, CX
lo:
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K2
	MOVQ R8, CX
	SUBQ $16, CX
	XORQ AX, AX
	CMPQ CX, $0
	JLE hi
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
hi:
	KMOVW AX, K3
	// q rows: qE_r = m_r0+m_r1+m_r2 (even output column), qO_r = m_r1-m_r2-m_r3
	VMOVUPS.Z (SI), K1, Z0
	ADDQ DX, SI
	VMOVUPS.Z (SI), K1, Z1
	ADDQ DX, SI
	VMOVUPS.Z (SI), K1, Z2
	ADDQ DX, SI
	VMOVUPS.Z (SI), K1, Z3
	ADDQ DX, SI
	VADDPS Z1, Z0, Z4
	VADDPS Z2, Z4, Z4
	VSUBPS Z2, Z1, Z8
	VSUBPS Z3, Z8, Z8
	VMOVUPS.Z (SI), K1, Z0
	ADDQ DX, SI
	VMOVUPS.Z (SI), K1, Z1
	ADDQ DX, SI
	VMOVUPS.Z (SI), K1, Z2
	ADDQ DX, SI
	VMOVUPS.Z (SI), K1, Z3
	ADDQ DX, SI
	VADDPS Z1, Z0, Z5
	VADDPS Z2, Z5, Z5
	VSUBPS Z2, Z1, Z9
	VSUBPS Z3, Z9, Z9
	VMOVUPS.Z (SI), K1, Z0
	ADDQ DX, SI
	VMOVUPS.Z (SI), K1, Z1
	ADDQ DX, SI
	VMOVUPS.Z (SI), K1, Z2
	ADDQ DX, SI
	VMOVUPS.Z (SI), K1, Z3
	ADDQ DX, SI
	VADDPS Z1, Z0, Z6
	VADDPS Z2, Z6, Z6
	VSUBPS Z2, Z1, Z10
	VSUBPS Z3, Z10, Z10
	VMOVUPS.Z (SI), K1, Z0
	ADDQ DX, SI
	VMOVUPS.Z (SI), K1, Z1
	ADDQ DX, SI
	VMOVUPS.Z (SI), K1, Z2
	ADDQ DX, SI
	VMOVUPS.Z (SI), K1, Z3
	ADDQ DX, SI
	VADDPS Z1, Z0, Z7
	VADDPS Z2, Z7, Z7
	VSUBPS Z2, Z1, Z11
	VSUBPS Z3, Z11, Z11
	// y0 = q0+q1+q2+bias, y1 = q1-q2-q3+bias (E: Z12, Z13; O: Z14, Z15)
	VADDPS Z5, Z4, Z12
	VADDPS Z6, Z12, Z12
	VADDPS Z30, Z12, Z12
	VSUBPS Z6, Z5, Z13
	VSUBPS Z7, Z13, Z13
	VADDPS Z30, Z13, Z13
	VADDPS Z9, Z8, Z14
	VADDPS Z10, Z14, Z14
	VADDPS Z30, Z14, Z14
	VSUBPS Z10, Z9, Z15
	VSUBPS Z11, Z15, Z15
	VADDPS Z30, Z15, Z15
	VMOVUPS winoIlv<>+0(SB), Z28
	VMOVUPS winoIlv<>+64(SB), Z29
	// row 2ty: interleave E (Z12) and O (Z14)
	VMOVAPS Z12, Z16
	VPERMT2PS Z14, Z28, Z16
	VMOVAPS Z12, Z17
	VPERMT2PS Z14, Z29, Z17
	VMOVUPS Z16, K2, (DI)
	VMOVUPS Z17, K3, 64(DI)
	MOVQ two+56(FP), AX
	TESTQ AX, AX
	JZ done
	VMOVAPS Z13, Z18
	VPERMT2PS Z15, Z28, Z18
	VMOVAPS Z13, Z19
	VPERMT2PS Z15, Z29, Z19
	VMOVUPS Z18, K2, (DI)(BX*1)
	VMOVUPS Z19, K3, 64(DI)(BX*1)
done:
	VZEROUPPER
	RET
