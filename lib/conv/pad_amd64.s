//go:build !noasm

#include "textflag.h"

// func padPlanesAVX512(dst, src unsafe.Pointer, planes, hq, ilo, ihi, wq, lpad, srcStride, srcPlane int, masks *uint16, nch int)
//
// All counts in 4-byte words (bit copies: any element type). dst holds
// planes planes of hq rows of wq words, one after the other. Rows i < ilo
// and i >= ihi of a plane become zeros; row i in [ilo, ihi) becomes lpad
// zeros, the words of source row i-ilo (src + 4*((i-ilo)*srcStride +
// p*srcPlane) in plane p), then zeros. Each row is written as nch chunks
// of 16 words: chunk j is loaded from the source under the mask masks[2j]
// (zeros elsewhere; masked-off lanes are never read, so the loads may
// start before src) and stored under masks[2j+1] (the words < wq): one
// load and one store per 64 bytes, no call per row or plane.
TEXT ·padPlanesAVX512(SB), NOSPLIT, $0-96
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ planes+16(FP), R8
	MOVQ hq+24(FP), R11
	MOVQ wq+48(FP), R10
	SHLQ $2, R10 // row bytes
	MOVQ lpad+56(FP), AX
	SHLQ $2, AX
	SUBQ AX, SI // word q of a data row is read at SI + 4q
	MOVQ srcStride+64(FP), R12
	SHLQ $2, R12
	MOVQ srcPlane+72(FP), R13
	SHLQ $2, R13
	MOVQ masks+80(FP), R14
	MOVQ nch+88(FP), BX
	VPXORD Z0, Z0, Z0
plane:
	TESTQ R8, R8
	JZ done
	MOVQ SI, DX // the source row
	XORQ R9, R9 // the row
row:
	CMPQ R9, R11
	JGE planeEnd
	CMPQ R9, ilo+32(FP)
	JLT zrow
	CMPQ R9, ihi+40(FP)
	JGE zrow
	XORQ CX, CX
dchunk:
	KMOVW (R14)(CX*4), K1
	KMOVW 2(R14)(CX*4), K2
	MOVQ CX, AX
	SHLQ $6, AX
	VMOVUPS.Z (DX)(AX*1), K1, Z1
	VMOVUPS Z1, K2, (DI)(AX*1)
	INCQ CX
	CMPQ CX, BX
	JLT dchunk
	ADDQ R12, DX
	JMP next
zrow:
	XORQ CX, CX
zchunk:
	KMOVW 2(R14)(CX*4), K2
	MOVQ CX, AX
	SHLQ $6, AX
	VMOVUPS Z0, K2, (DI)(AX*1)
	INCQ CX
	CMPQ CX, BX
	JLT zchunk
next:
	ADDQ R10, DI
	INCQ R9
	JMP row
planeEnd:
	ADDQ R13, SI
	DECQ R8
	JMP plane
done:
	VZEROUPPER
	RET
