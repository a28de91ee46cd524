//go:build !noasm

package conv

import (
	"unsafe"

	"repdyn/lib/internal/cpu"
)

//go:generate go run gen_asm.go
//go:generate go run gen_wino.go

//go:noescape
func gemmF32AVX512(k int, a, b unsafe.Pointer, off *int32, c unsafe.Pointer, ldc, nt, bts, bvs, cts, cvs int)

//go:noescape
func gemmF32AVX512Row(k int, a, b unsafe.Pointer, off *int32, c unsafe.Pointer, ldc, nt, bts, bvs, cts, cvs int)

//go:noescape
func dotF32AVX512(n int, dy unsafe.Pointer, ldd int, x unsafe.Pointer, off *int32, dw unsafe.Pointer, ldw, nimg, dyImg, xImg int)

//go:noescape
func gemmF64AVX512(k int, a, b unsafe.Pointer, off *int32, c unsafe.Pointer, ldc, nt, bts, bvs, cts, cvs int)

//go:noescape
func gemmF64AVX512Row(k int, a, b unsafe.Pointer, off *int32, c unsafe.Pointer, ldc, nt, bts, bvs, cts, cvs int)

//go:noescape
func dotF64AVX512(n int, dy unsafe.Pointer, ldd int, x unsafe.Pointer, off *int32, dw unsafe.Pointer, ldw, nimg, dyImg, xImg int)

//go:noescape
func gemmF32AVX2(k int, a, b unsafe.Pointer, off *int32, c unsafe.Pointer, ldc, nt, bts, bvs, cts, cvs int)

//go:noescape
func gemmF32AVX2Row(k int, a, b unsafe.Pointer, off *int32, c unsafe.Pointer, ldc, nt, bts, bvs, cts, cvs int)

//go:noescape
func dotF32AVX2(n int, dy unsafe.Pointer, ldd int, x unsafe.Pointer, off *int32, dw unsafe.Pointer, ldw, nimg, dyImg, xImg int)

//go:noescape
func gemmF64AVX2(k int, a, b unsafe.Pointer, off *int32, c unsafe.Pointer, ldc, nt, bts, bvs, cts, cvs int)

//go:noescape
func gemmF64AVX2Row(k int, a, b unsafe.Pointer, off *int32, c unsafe.Pointer, ldc, nt, bts, bvs, cts, cvs int)

//go:noescape
func dotF64AVX2(n int, dy unsafe.Pointer, ldd int, x unsafe.Pointer, off *int32, dw unsafe.Pointer, ldw, nimg, dyImg, xImg int)

//go:noescape
func gemmF32AVX512YRow(k int, a, b unsafe.Pointer, off *int32, c unsafe.Pointer, ldc, nt, bts, bvs, cts, cvs int)

//go:noescape
func deintF32AVX512(src, even, odd unsafe.Pointer, n int)

// deint32 splits n blocks of 16 floats into their even and odd elements
// (false if no kernel at this level).
func deint32(src, even, odd unsafe.Pointer, n int) bool {
	if cpu.Selected != cpu.AVX512 {
		return false
	}
	deintF32AVX512(src, even, odd, n)
	return true
}

//go:noescape
func gemmTF32AVX512(k int, b, x unsafe.Pointer, off, pos *int32, c unsafe.Pointer, ldc int)

//go:noescape
func gemmTF64AVX512(k int, b, x unsafe.Pointer, off, pos *int32, c unsafe.Pointer, ldc int)

var (
	k32AVX512Y = &kernels{mr: 8, nr: 16, vl: 8, gemmRow: gemmF32AVX512YRow}
	k32AVX512  = &kernels{mr: 8, nr: 48, dr: 4, dk: 6, vl: 16, gemm: gemmF32AVX512, gemmRow: gemmF32AVX512Row, narrow: k32AVX512Y, dot: dotF32AVX512,
		mrT: 6, nrT: 64, gemmT: gemmTF32AVX512}
	k64AVX512 = &kernels{mr: 8, nr: 24, dr: 4, dk: 6, vl: 8, gemm: gemmF64AVX512, gemmRow: gemmF64AVX512Row, dot: dotF64AVX512,
		mrT: 6, nrT: 32, gemmT: gemmTF64AVX512}
	k32AVX2 = &kernels{mr: 4, nr: 24, dr: 3, dk: 4, vl: 8, gemm: gemmF32AVX2, gemmRow: gemmF32AVX2Row, dot: dotF32AVX2}
	k64AVX2 = &kernels{mr: 4, nr: 12, dr: 3, dk: 4, vl: 4, gemm: gemmF64AVX2, gemmRow: gemmF64AVX2Row, dot: dotF64AVX2}
)

// kernelsFor returns the micro-kernels for elements of the given size at the
// selected CPU level.
func kernelsFor(size uintptr) *kernels {
	switch cpu.Selected {
	case cpu.AVX512:
		if size == 4 {
			return k32AVX512
		}
		return k64AVX512
	case cpu.AVX2:
		if size == 4 {
			return k32AVX2
		}
		return k64AVX2
	}
	if size == 4 {
		return k32Go
	}
	return k64Go
}

//go:noescape
func winoInF32AVX512(src unsafe.Pointer, ld, tw int, dst unsafe.Pointer, stride int)

//go:noescape
func winoOutF32AVX512(src unsafe.Pointer, stride, tw int, bias float32, dst unsafe.Pointer, ldy, n, two int)

//go:noescape
func winoIn8F32AVX512(src, dst unsafe.Pointer, stride int)

//go:noescape
func winoOut8F32AVX512(src unsafe.Pointer, stride int, bias float32, dst unsafe.Pointer)

//go:noescape
func winoIn16F32AVX512(src unsafe.Pointer, pair int, dst unsafe.Pointer, stride int)

//go:noescape
func winoOut16F32AVX512(src unsafe.Pointer, stride int, bias float32, dst unsafe.Pointer)

// winoRowKernels reports whether the vector Winograd row transforms
// (winograd_amd64.s) run at this level.
func winoRowKernels() bool { return cpu.Selected == cpu.AVX512 }

//go:noescape
func padPlanesAVX512(dst, src unsafe.Pointer, planes, hq, ilo, ihi, wq, lpad, srcStride, srcPlane int, masks *uint16, nch int)

// padChunks bounds the row length (in 16-word chunks) of padPlanes.
const padChunks = 64

// padPlanes writes planes planes (one after the other in dst) of hq rows
// of wq elements: rows i < ilo and i >= ihi are zeros; row i in [ilo, ihi)
// is lpad zeros, the n elements at src + (i-ilo)*srcStride + p*srcPlane
// (plane p), then zeros up to wq. It returns false, having written
// nothing, if this level has no kernel for it or the rows are too long.
// Counts in elements of the given size.
func padPlanes(dst, src unsafe.Pointer, planes, hq, ilo, ihi, wq, lpad, n, srcStride, srcPlane int, size uintptr) bool {
	wpe := int(size / 4) // 4-byte words per element
	wq, lpad, n = wq*wpe, lpad*wpe, n*wpe
	nch := (wq + 15) / 16
	if cpu.Selected != cpu.AVX512 || nch > padChunks {
		return false
	}
	var masks [2 * padChunks]uint16
	for j := 0; j < nch; j++ {
		for b := 0; b < 16; b++ {
			q := 16*j + b
			if q >= lpad && q < lpad+n && q < wq {
				masks[2*j] |= 1 << b
			}
			if q < wq {
				masks[2*j+1] |= 1 << b
			}
		}
	}
	padPlanesAVX512(dst, src, planes, hq, ilo, ihi, wq, lpad, srcStride*wpe, srcPlane*wpe, &masks[0], nch)
	return true
}
