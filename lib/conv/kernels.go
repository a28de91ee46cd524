package conv

import "unsafe"

// kernels is one set of micro-kernels (one element type, one CPU level).
//
// gemm computes, for each of nt pixel tiles t and each of its nv vectors v,
//
//	C[r*ldc + t*cts + v*cvs + j] = sum_{i<k} A[i*mr + r] * B[off[i] + t*bts + v*bvs + j]
//
// (r < mr, j < vl; strides in elements),
// overwriting C: A is a packed panel (k rows of mr values), B is addressed
// through a table of k element offsets, so one kernel serves plain GEMM
// (off[i] = i*ldb) and implicit im2col (off[i] = the input offset of tap i).
//
// dot computes, for r < dr and j < dk,
//
//	dw[r*ldw + j] += sum_{g < nimg} sum_{s < n*vl} dy[g*dyImg + r*ldd + s] * x[g*xImg + off[j] + s]
//
// (dyImg and xImg in bytes)
// (the weight-gradient reduction over pixels).
type gemmFunc func(k int, a, b unsafe.Pointer, off *int32, c unsafe.Pointer, ldc, nt, bts, bvs, cts, cvs int)

type kernels struct {
	mr, nr int
	dr, dk int
	vl     int
	gemm   gemmFunc // nr = nv*vl positions per tile, vectors nv
	// gemmRow is gemm with 2 vectors per tile (nr = 2*vl), for tiles that
	// map onto output rows.
	gemmRow gemmFunc
	// narrow, if not nil, is a set with a shorter vector (same mr) whose
	// gemmRow serves output rows too short for this one.
	narrow *kernels
	// gemmT, if not nil, computes the transposed tile (mrT output pixels ×
	// nrT channels) for small images:
	//
	//	C[r*ldc + j] = sum_{i<k} B[i*nrT + j] * x[off[i] + pos[r]]
	//
	// with the pixels given by a position table: no junk columns.
	gemmT    func(k int, b, x unsafe.Pointer, off, pos *int32, c unsafe.Pointer, ldc int)
	mrT, nrT int
	dot      func(n int, dy unsafe.Pointer, ldd int, x unsafe.Pointer, off *int32, dw unsafe.Pointer, ldw, nimg, dyImg, xImg int)
}

var (
	k32Go = &kernels{mr: 4, nr: 16, dr: 2, dk: 4, vl: 8, gemm: gemmGo[float32], gemmRow: gemmGo[float32], dot: dotGo[float32]}
	k64Go = &kernels{mr: 4, nr: 16, dr: 2, dk: 4, vl: 8, gemm: gemmGo[float64], gemmRow: gemmGo[float64], dot: dotGo[float64]}
)

const goMR, goNR, goDR, goDK = 4, 16, 2, 4

// gemmGo is the portable gemm kernel for mr = goMR, nv = 2, vl = 8.
func gemmGo[E float32 | float64](k int, ap, bp unsafe.Pointer, offp *int32, cp unsafe.Pointer, ldc, nt, bts, bvs, cts, cvs int) {
	const vl = goNR / 2
	a := unsafe.Slice((*E)(ap), k*goMR)
	off := unsafe.Slice(offp, k)
	c := unsafe.Slice((*E)(cp), (goMR-1)*ldc+(nt-1)*cts+cvs+vl)
	maxOff := 0
	for _, o := range off {
		maxOff = max(maxOff, int(o))
	}
	b := unsafe.Slice((*E)(bp), maxOff+(nt-1)*bts+bvs+vl)
	// 2×4 register blocks (8 accumulators fit the 15 usable XMM registers
	// of amd64's Go ABI as well as arm64's 32).
	for t := 0; t < nt; t++ {
		for q := 0; q < goNR/4; q++ {
			v, jo := q/(vl/4), (q%(vl/4))*4
			boff := t*bts + v*bvs + jo
			coff := t*cts + v*cvs + jo
			for r := 0; r < goMR; r += 2 {
				var c00, c01, c02, c03, c10, c11, c12, c13 E
				for i := 0; i < k; i++ {
					bb := (*[4]E)(b[int(off[i])+boff:])
					aa := (*[2]E)(a[i*goMR+r:])
					a0, a1 := aa[0], aa[1]
					b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
					c00 += a0 * b0
					c01 += a0 * b1
					c02 += a0 * b2
					c03 += a0 * b3
					c10 += a1 * b0
					c11 += a1 * b1
					c12 += a1 * b2
					c13 += a1 * b3
				}
				d0 := (*[4]E)(c[r*ldc+coff:])
				d1 := (*[4]E)(c[(r+1)*ldc+coff:])
				d0[0], d0[1], d0[2], d0[3] = c00, c01, c02, c03
				d1[0], d1[1], d1[2], d1[3] = c10, c11, c12, c13
			}
		}
	}
}

// dotGo is the portable dot kernel for dr = goDR, dk = goDK, vl = 8.
func dotGo[E float32 | float64](n int, dyp unsafe.Pointer, ldd int, xp unsafe.Pointer, offp *int32, dwp unsafe.Pointer, ldw, nimg, dyImg, xImg int) {
	ln := n * 8
	var z E
	size := int(unsafe.Sizeof(z))
	dyImg /= size
	xImg /= size
	dy := unsafe.Slice((*E)(dyp), (nimg-1)*dyImg+(goDR-1)*ldd+ln)
	off := unsafe.Slice(offp, goDK)
	maxOff := 0
	for _, o := range off {
		maxOff = max(maxOff, int(o))
	}
	x := unsafe.Slice((*E)(xp), (nimg-1)*xImg+maxOff+ln)
	dw := unsafe.Slice((*E)(dwp), (goDR-1)*ldw+goDK)
	for r := 0; r < goDR; r++ {
		for j := 0; j < goDK; j++ {
			var s0, s1, s2, s3 E
			for g := 0; g < nimg; g++ {
				d := dy[g*dyImg+r*ldd:][:ln]
				xx := x[g*xImg+int(off[j]):][:ln]
				for s := 0; s+4 <= ln; s += 4 {
					s0 += d[s] * xx[s]
					s1 += d[s+1] * xx[s+1]
					s2 += d[s+2] * xx[s+2]
					s3 += d[s+3] * xx[s+3]
				}
			}
			dw[r*ldw+j] += (s0 + s1) + (s2 + s3)
		}
	}
}
