//go:build !(amd64 || arm64) || noasm

package gemm

import "repdyn/lib/internal/cpu"

// Without assembly every level uses the portable Go micro-kernel.
func initAsmParams() {}

// transposeBlocks has no assembly here: packPanel does all columns in Go.
func transposeBlocks[T Float](dst []T, w, rows, kc int, x []T, ldx int) int { return 0 }

// skinnyKernel: no assembly, no skinny kernel.
func skinnyKernel[T Float](l cpu.Level) func(kc int, a0, a1, b *T, ldb int, c *T, ldc int, alpha, beta T, flags int, pf uintptr, pfStride int) {
	return nil
}
