package gemm

import "repdyn/lib/internal/cpu"

// Float is the element type of the matrices.
type Float interface{ float32 | float64 }

// kernelFunc is a micro-kernel. It computes the MR×NR tile
//
//	acc[r][j] = sum_{p<kc} A(r, p) * b[p*ldb+j],   A(r, p) = a[r*rsa + p*csa]
//
// and stores c[r*ldc+j] = alpha*acc[r][j] (+ beta*c[r*ldc+j] if flags&1 != 0).
// kc >= 1. A packed panel has rsa = 1, csa = MR; an unpacked row-major A has
// rsa = lda, csa = 1 (or rsa = 1, csa = lda when transposed). b points at kc
// rows of NR elements, ldb apart (ldb = NR for packed B). All MR×NR elements
// of c are written. At k step p it prefetches the two cache lines at
// pf + p*pfStride (the next B panel, or B data the next block will pack); pf
// only affects speed and is never dereferenced.
type kernelFunc[T Float] func(kc int, a *T, rsa, csa int, b *T, ldb int, c *T, ldc int, alpha, beta T, flags int, pf uintptr, pfStride int)

// params describes the blocking of one (level, dtype).
type params[T Float] struct {
	level  cpu.Level
	mr, nr int // micro-tile
	kc     int // k block (upper bound)
	nc     int // column block (upper bound), multiple of nr
	kern   kernelFunc[T]
	// half is an MR×(NR/2) kernel with the same contract (nil if none),
	// used for a last column panel that is at most half full.
	half kernelFunc[T]
	// pack is an MR×NR kernel that reads a row-major B in place (b, ldb)
	// and also stores the rows it loads into the packed panel bp (nil if
	// none): the first row panel of a block packs B as it computes.
	pack packKernelFunc[T]
	// rowk[r] (0 < r < MR) is an r×NR kernel for a partial row panel of A
	// (packed, csa = MR, or read in place); empty: such tiles go through
	// the MR×NR kernel and a scratch tile, and A is read in place only
	// when M is a multiple of MR.
	rowk []kernelFunc[T]
	// packedA: the kernels read only packed A panels (rsa = 1, csa = MR),
	// so Gemm never reads A in place.
	packedA bool
}

// packKernelFunc is kernelFunc that also writes the kc×NR panel it reads
// into bp (row stride NR).
type packKernelFunc[T Float] func(kc int, a *T, rsa, csa int, b *T, ldb int, c *T, ldc int, alpha, beta T, flags int, pf uintptr, pfStride int, bp *T)

var (
	params32 [cpu.NumLevels]params[float32]
	params64 [cpu.NumLevels]params[float64]
)

func init() {
	params32[cpu.Generic] = params[float32]{cpu.Generic, 4, 4, 256, 256, kernGo4x4[float32], nil, nil, nil, false}
	params64[cpu.Generic] = params[float64]{cpu.Generic, 4, 4, 256, 256, kernGo4x4[float64], nil, nil, nil, false}
	initAsmParams()
}

// blockCols returns the column block nc for a level whose packed B block
// (kc×nc elements of es bytes) should take at most half of the L2 cache
// (l2 bytes, 0 if unknown): at most limit, at least 4 panels of nr, a
// multiple of nr.
func blockCols(l2, kc, es, nr, limit int) int {
	if l2 <= 0 {
		return limit
	}
	nc := l2 / 2 / (kc * es) / nr * nr
	return min(limit, max(nc, 4*nr))
}

// rowKernel returns the kernel for a packed tile of rows×cols (rows < MR)
// that writes C directly, or nil.
func (p *params[T]) rowKernel(rows, cols int) kernelFunc[T] {
	if cols != p.nr || rows >= len(p.rowk) {
		return nil
	}
	return p.rowk[rows]
}

// edgeKernel returns the kernel for a tile of rows < MR through the scratch
// tile: the row kernel where the level has one (it reads only those rows of
// A, so an A read in place may end there), else kern.
func (p *params[T]) edgeKernel(kern kernelFunc[T], rows int) kernelFunc[T] {
	if rows < len(p.rowk) {
		return p.rowk[rows]
	}
	return kern
}

// paramsFor returns the blocking for level l and element type T. Levels
// without assembly kernels in this build fall back to Generic.
func paramsFor[T Float](l cpu.Level) *params[T] {
	var z T
	switch any(z).(type) {
	case float32:
		p := &params32[l]
		if p.kern == nil {
			p = &params32[cpu.Generic]
		}
		return any(p).(*params[T])
	default:
		p := &params64[l]
		if p.kern == nil {
			p = &params64[cpu.Generic]
		}
		return any(p).(*params[T])
	}
}

// Tile returns the micro-kernel tile MR×NR that the selected level
// (cpu.Selected) uses for element type T.
func Tile[T Float]() (mr, nr int) {
	p := paramsFor[T](cpu.Selected)
	return p.mr, p.nr
}

// kBlocks returns how K is cut: nb blocks of kc (the last one shorter).
func kBlocks(k, kcMax int) (nb, kc int) {
	if k <= 0 {
		return 0, 0
	}
	nb = (k + kcMax - 1) / kcMax
	kc = (k + nb - 1) / nb
	// Keep blocks a multiple of 4 (aligned panels) when that does not add a block.
	if r := kc % 4; r != 0 && kc+4-r <= kcMax {
		kc += 4 - r
	}
	nb = (k + kc - 1) / kc
	return nb, kc
}
