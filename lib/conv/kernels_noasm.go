//go:build noasm || !amd64

package conv

import "unsafe"

func deint32(src, even, odd unsafe.Pointer, n int) bool { return false }

// kernelsFor returns the portable micro-kernels (this build has no assembly).
func kernelsFor(size uintptr) *kernels {
	if size == 4 {
		return k32Go
	}
	return k64Go
}

func winoRowKernels() bool { return false }

func winoInF32AVX512(src unsafe.Pointer, ld, tw int, dst unsafe.Pointer, stride int) {
	panic("conv: no Winograd assembly in this build")
}

func winoOutF32AVX512(src unsafe.Pointer, stride, tw int, bias float32, dst unsafe.Pointer, ldy, n, two int) {
	panic("conv: no Winograd assembly in this build")
}

func winoIn8F32AVX512(src, dst unsafe.Pointer, stride int) {
	panic("conv: no Winograd assembly in this build")
}

func winoOut8F32AVX512(src unsafe.Pointer, stride int, bias float32, dst unsafe.Pointer) {
	panic("conv: no Winograd assembly in this build")
}

func winoIn16F32AVX512(src unsafe.Pointer, pair int, dst unsafe.Pointer, stride int) {
	panic("conv: no Winograd assembly in this build")
}

func winoOut16F32AVX512(src unsafe.Pointer, stride int, bias float32, dst unsafe.Pointer) {
	panic("conv: no Winograd assembly in this build")
}

func padPlanes(dst, src unsafe.Pointer, planes, hq, ilo, ihi, wq, lpad, n, srcStride, srcPlane int, size uintptr) bool {
	return false
}
