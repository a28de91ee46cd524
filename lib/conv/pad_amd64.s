//go:build !noasm

#include "textflag.h"

// func padRowsAVX512(dst, src unsafe.Pointer, rows, n, wq, lpad, srcStride int)
//
// For r < rows (all counts in 4-byte words): row r of dst (wq words at
// dst + 4*r*wq) becomes lpad zeros, the n words at src + 4*r*srcStride,
// then zeros up to wq (lpad + n <= wq). Bit copies: any element type.
TEXT ·padRowsAVX512(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), R8
	MOVQ n+24(FP), R9
	MOVQ wq+32(FP), R10
	MOVQ lpad+40(FP), R11
	MOVQ srcStride+48(FP), R12
	SHLQ $2, R10
	SHLQ $2, R12
	VPXORD Z0, Z0, Z0
	// K1: the last (partial) chunk of a row of wq words; K2: of n words
	MOVQ R10, CX
	SHRQ $2, CX
	ANDQ $15, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	MOVQ R9, CX
	ANDQ $15, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K2
	LEAQ (DI)(R11*4), R11 // where the copied words start in row 0
row:
	TESTQ R8, R8
	JZ done
	// zero the row: full chunks, then the tail under K1
	MOVQ DI, AX
	MOVQ R10, CX
	SHRQ $6, CX
	JZ ztail
zloop:
	VMOVUPS Z0, (AX)
	ADDQ $64, AX
	DECQ CX
	JNZ zloop
ztail:
	VMOVUPS Z0, K1, (AX)
	// copy n words
	MOVQ SI, AX
	MOVQ R11, BX
	MOVQ R9, CX
	SHRQ $4, CX
	JZ ctail
cloop:
	VMOVUPS (AX), Z1
	VMOVUPS Z1, (BX)
	ADDQ $64, AX
	ADDQ $64, BX
	DECQ CX
	JNZ cloop
ctail:
	VMOVUPS.Z (AX), K2, Z1
	VMOVUPS Z1, K2, (BX)
	ADDQ R10, DI
	ADDQ R10, R11
	ADDQ R12, SI
	DECQ R8
	JMP row
done:
	VZEROUPPER
	RET
