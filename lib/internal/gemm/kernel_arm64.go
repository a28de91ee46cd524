//go:build !noasm

package gemm

import "repdyn/lib/internal/cpu"

//go:generate go run gen_neon.go

// NEON micro-kernels (kernel_arm64.s); contract in kernelFunc, except that
// A must be a packed panel (params.packedA).

//go:noescape
func kernF32NEON(kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, flags int, pf uintptr, pfStride int)

//go:noescape
func kernF64NEON(kc int, a *float64, rsa, csa int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64, flags int, pf uintptr, pfStride int)

func initAsmParams() {
	params32[cpu.NEON] = params[float32]{level: cpu.NEON, mr: 8, nr: 12, kc: 256, nc: 480, kern: kernF32NEON, packedA: true}
	params64[cpu.NEON] = params[float64]{level: cpu.NEON, mr: 8, nr: 6, kc: 256, nc: 240, kern: kernF64NEON, packedA: true}
}

// transposeBlocks has no NEON version: packPanel does all columns in Go.
func transposeBlocks[T Float](dst []T, w, rows, kc int, x []T, ldx int) int { return 0 }

// skinnyKernel: no skinny kernel on arm64.
func skinnyKernel[T Float](l cpu.Level) func(kc int, a0, a1, b *T, ldb int, c *T, ldc int, alpha, beta T, flags int, pf uintptr, pfStride int) {
	return nil
}
