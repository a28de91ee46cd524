//go:build !noasm

package gemm

import "repdyn/lib/internal/cpu"

//go:generate go run gen_kernels.go

// Assembly micro-kernels (kernel_amd64.s); contract in kernelFunc.

//go:noescape
func kernF32AVX512(kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int, pf uintptr, pfStride int)

//go:noescape
func kernF64AVX512(kc int, a *float64, rsa, csa int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, pf uintptr, pfStride int)

//go:noescape
func kernF32AVX2(kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int, pf uintptr, pfStride int)

//go:noescape
func kernF64AVX2(kc int, a *float64, rsa, csa int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, pf uintptr, pfStride int)

//go:noescape
func kernF32AVX512Half(kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int, pf uintptr, pfStride int)

//go:noescape
func kernF64AVX512Half(kc int, a *float64, rsa, csa int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, pf uintptr, pfStride int)

//go:noescape
func kernF32AVX2Half(kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int, pf uintptr, pfStride int)

//go:noescape
func kernF64AVX2Half(kc int, a *float64, rsa, csa int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, pf uintptr, pfStride int)

//go:noescape
func kernF32AVX2Pack(kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int, pf uintptr, pfStride int, bp *float32)

//go:noescape
func kernF64AVX2Pack(kc int, a *float64, rsa, csa int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, pf uintptr, pfStride int, bp *float64)

// Kernels for the last, partial row panel of packed A on AVX2 (rows 1-5 of
// a 6-row panel): no scratch tile and no FMAs on padding rows.

//go:noescape
func kernF32AVX2R1(kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int, pf uintptr, pfStride int)

//go:noescape
func kernF32AVX2R2(kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int, pf uintptr, pfStride int)

//go:noescape
func kernF32AVX2R3(kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int, pf uintptr, pfStride int)

//go:noescape
func kernF32AVX2R4(kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int, pf uintptr, pfStride int)

//go:noescape
func kernF32AVX2R5(kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int, pf uintptr, pfStride int)

//go:noescape
func kernF64AVX2R1(kc int, a *float64, rsa, csa int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, pf uintptr, pfStride int)

//go:noescape
func kernF64AVX2R2(kc int, a *float64, rsa, csa int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, pf uintptr, pfStride int)

//go:noescape
func kernF64AVX2R3(kc int, a *float64, rsa, csa int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, pf uintptr, pfStride int)

//go:noescape
func kernF64AVX2R4(kc int, a *float64, rsa, csa int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, pf uintptr, pfStride int)

//go:noescape
func kernF64AVX2R5(kc int, a *float64, rsa, csa int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, pf uintptr, pfStride int)

func initAsmParams() {
	params32[cpu.AVX512] = params[float32]{cpu.AVX512, 8, 32, 256, 512, kernF32AVX512, kernF32AVX512Half, nil, nil, false}
	params64[cpu.AVX512] = params[float64]{cpu.AVX512, 8, 16, 256, 256, kernF64AVX512, kernF64AVX512Half, nil, nil, false}
	params32[cpu.AVX2] = params[float32]{cpu.AVX2, 6, 16, 256, 512, kernF32AVX2, kernF32AVX2Half, kernF32AVX2Pack, nil, false}
	params64[cpu.AVX2] = params[float64]{cpu.AVX2, 6, 8, 256, 256, kernF64AVX2, kernF64AVX2Half, kernF64AVX2Pack, nil, false}
	params32[cpu.AVX2].nc = blockCols(cpu.L2, 256, 4, 16, 512)
	params64[cpu.AVX2].nc = blockCols(cpu.L2, 256, 8, 8, 256)
	params32[cpu.AVX2].rowk = []kernelFunc[float32]{nil, kernF32AVX2R1, kernF32AVX2R2, kernF32AVX2R3, kernF32AVX2R4, kernF32AVX2R5}
	params64[cpu.AVX2].rowk = []kernelFunc[float64]{nil, kernF64AVX2R1, kernF64AVX2R2, kernF64AVX2R3, kernF64AVX2R4, kernF64AVX2R5}
}

// Transposing copies (transpose_amd64.s), AVX.

//go:noescape
func transpose8F32(dst *float32, ldd int, src *float32, lds int, nblk int)

//go:noescape
func transpose4F64(dst *float64, ldd int, src *float64, lds int, nblk int)

// transposeBlocks copies the rows×kc block x[r*ldx+p] (r < rows, p < kc)
// into dst[p*w+r] with the AVX transposes when the level allows, and
// returns how many columns p it did (a multiple of the block size; the
// caller does the rest). rows must be a multiple of 8 (float32) or 4
// (float64).
func transposeBlocks[T Float](dst []T, w, rows, kc int, x []T, ldx int) int {
	if cpu.Selected < cpu.AVX2 {
		return 0
	}
	switch d := any(dst).(type) {
	case []float32:
		s := any(x).([]float32)
		if rows%8 != 0 || kc < 8 {
			return 0
		}
		nb := kc / 8
		// Bounds: the last row read ends at (rows-1)*ldx + 8*nb.
		_ = s[(rows-1)*ldx+8*nb-1]
		_ = d[(8*nb-1)*w+rows-1]
		for r0 := 0; r0 < rows; r0 += 8 {
			transpose8F32(&d[r0], w, &s[r0*ldx], ldx, nb)
		}
		return 8 * nb
	case []float64:
		s := any(x).([]float64)
		if rows%4 != 0 || kc < 4 {
			return 0
		}
		nb := kc / 4
		_ = s[(rows-1)*ldx+4*nb-1]
		_ = d[(4*nb-1)*w+rows-1]
		for r0 := 0; r0 < rows; r0 += 4 {
			transpose4F64(&d[r0], w, &s[r0*ldx], ldx, nb)
		}
		return 4 * nb
	}
	return 0
}

//go:noescape
func kernF32AVX512Skinny(kc int, a0, a1, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int, pf uintptr, pfStride int)

// skinnyKernel returns the 16×16 in-place-B kernel for T at level l, if any.
func skinnyKernel[T Float](l cpu.Level) func(kc int, a0, a1, b *T, ldb int, c *T, ldc int, alpha, beta T, flags int, pf uintptr, pfStride int) {
	if l != cpu.AVX512 {
		return nil
	}
	k, _ := any(kernF32AVX512Skinny).(func(kc int, a0, a1, b *T, ldb int, c *T, ldc int, alpha, beta T, flags int, pf uintptr, pfStride int))
	return k
}
