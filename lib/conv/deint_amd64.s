//go:build !noasm

#include "textflag.h"

// func deintF32AVX512(src, even, odd unsafe.Pointer, n int)
//
// even[i] = src[2i], odd[i] = src[2i+1] for i < 8n (n blocks of 16 floats).
TEXT ·deintF32AVX512(SB), NOSPLIT, $0-32
	MOVQ src+0(FP), SI
	MOVQ even+8(FP), DI
	MOVQ odd+16(FP), DX
	MOVQ n+24(FP), CX
loop:
	VMOVUPS (SI), Z0
	VPSRLQ  $32, Z0, Z1
	VPMOVQD Z0, (DI)
	VPMOVQD Z1, (DX)
	ADDQ    $64, SI
	ADDQ    $32, DI
	ADDQ    $32, DX
	DECQ    CX
	JNZ     loop
	VZEROUPPER
	RET
