package gemm

import (
	"sync"
	"unsafe"

	"repdyn/lib/internal/cpu"
	"repdyn/lib/internal/parallel"
)

// Gemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices, where
// op(A) is m×k (A is m×k with stride lda, or k×m when transA) and op(B) is
// k×n (B is k×n with stride ldb, or n×k when transB); C is m×n with stride
// ldc. It follows BLAS semantics: beta == 0 overwrites C (NaNs included) and
// alpha == 0 or k == 0 only scales C by beta. Arguments are not checked
// (lib/blas checks them with gonum's panics).
func Gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	pa := packedAPool[T]().Get().(*PackedA[T])
	p := paramsFor[T](cpu.Selected)
	if !p.packedA && (m%p.mr == 0 || len(p.rowk) == p.mr) && ceilDiv(n, p.nr) <= rawAMaxPanels {
		// Each element of A is used by at most rawAMaxPanels column panels:
		// read A in place rather than pay a pass to pack it.
		pa.view(transA, m, k, a, lda)
	} else {
		pa.Pack(transA, m, k, a, lda)
	}
	GemmPackedA(pa, transB, n, alpha, b, ldb, beta, c, ldc)
	if pa.raw {
		pa.data = nil
	}
	packedAPool[T]().Put(pa)
}

var packedAPool32 = sync.Pool{New: func() any { return new(PackedA[float32]) }}
var packedAPool64 = sync.Pool{New: func() any { return new(PackedA[float64]) }}

func packedAPool[T Float]() *sync.Pool {
	var z T
	if _, ok := any(z).(float32); ok {
		return &packedAPool32
	}
	return &packedAPool64
}

// scaleC sets C = beta*C (C = 0 when beta == 0, whatever C held).
func scaleC[T Float](m, n int, beta T, c []T, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// GemmPackedA computes C = alpha*A*op(B) + beta*C where A (m×k) was packed
// by pa.Pack, op(B) is k×n (B is k×n with stride ldb, or n×k when transB)
// and C is pa.M()×n with stride ldc. B is packed internally (or read in place
// when that is faster). It runs on up to parallel.Threads() goroutines and
// its result does not depend on the thread count.
func GemmPackedA[T Float](pa *PackedA[T], transB bool, n int, alpha T, b []T, ldb int, beta T, c []T, ldc int) {
	GemmPackedAThreads(pa, transB, n, alpha, b, ldb, beta, c, ldc, parallel.Threads())
}

// GemmPackedAThreads is GemmPackedA on at most threads goroutines (1: on the
// calling goroutine only, for callers that parallelize over several
// products themselves). The result does not depend on threads.
func GemmPackedAThreads[T Float](pa *PackedA[T], transB bool, n int, alpha T, b []T, ldb int, beta T, c []T, ldc int, threads int) {
	m, k := pa.m, pa.k
	if m <= 0 || n <= 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	p := pa.p
	t := gemmTaskPool[T]().Get().(*gemmTask[T])
	t.pa, t.transB, t.n = pa, transB, n
	t.alpha, t.beta = alpha, beta
	t.b, t.ldb, t.c, t.ldc = b, ldb, c, ldc
	panelsM := ceilDiv(pa.mp, p.mr)
	t.direct = !transB && panelsM <= directMaxPanels
	t.skinny = nil
	if !transB && !pa.raw && p.mr == 8 && m%16 == 0 && m <= skinnyMaxM {
		t.skinny = skinnyKernel[T](p.level)
	}
	// Grid from the shape alone (never from the thread count): at least
	// minItems items when the shape allows, splitting N first (free) and M
	// only when N is too narrow (M blocks repack the same B block).
	nc := p.nc
	if nb := (n + nc - 1) / nc; nb < minItems {
		nc = max(p.nr, ceilDiv(ceilDiv(n, minItems), p.nr)*p.nr)
	}
	t.nc = nc
	t.nbn = ceilDiv(n, nc)
	t.nbm = 1
	if t.nbn < minItems/2 && !t.direct && t.skinny == nil {
		t.nbm = min(panelsM, ceilDiv(minItems/2, t.nbn))
	}
	t.mc = ceilDiv(panelsM, t.nbm) * p.mr
	t.nbm = ceilDiv(m, t.mc)
	if 2*float64(m)*float64(n)*float64(k) < serialFlops {
		threads = 1
	}
	t.threads = max(1, min(threads, t.nbm*t.nbn))
	parallel.RunThreads(t.nbm*t.nbn, threads, t)
	t.pa, t.b, t.c = nil, nil, nil
	gemmTaskPool[T]().Put(t)
}

const (
	// minItems is the number of work items a product is cut into when its
	// shape allows (enough to balance 2-4 threads).
	minItems = 8
	// serialFlops: products smaller than this run on the calling goroutine.
	serialFlops = 1 << 21
)

// directMaxPanels: when op(B) is not transposed and A has at most this many
// MR-row panels, B is read in place instead of being packed. Off by default:
// with the power-of-two row strides of conv GEMMs the kc rows of a B panel
// alias to the same cache sets, and packing (a streaming copy into an
// L2-resident block) measured faster even for M = 16. Tests exercise both.
var directMaxPanels = 0

// rawAMaxPanels: Gemm reads A in place (no packing) when op(B) has at most
// this many NR-column panels and M is a multiple of MR. Packing A is a
// serial pass before the parallel part; with few column panels it costs
// more than the strided reads it saves (measured with `repdyn bench gemm`,
// 1 and 2 threads: 128^3 2T 141 -> 156 GFLOP/s, 2048x128x2048 and
// 4096x64x1024 10-30% faster, 512x96x512 4-10%).
var rawAMaxPanels = 4

// pfDirectTiles: in direct mode the kernel prefetches B this many column
// panels ahead.
var pfDirectTiles = 4

func sizeof[T Float]() int {
	var z T
	return int(unsafe.Sizeof(z))
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

type gemmTask[T Float] struct {
	pa          *PackedA[T]
	transB      bool
	n           int
	alpha, beta T
	b           []T
	ldb         int
	c           []T
	ldc         int
	mc, nc      int
	nbm, nbn    int
	direct      bool
	threads     int
	skinny      func(kc int, a0, a1, b *T, ldb int, c *T, ldc int, alpha, beta T, flags int, pf uintptr, pfStride int)
}

var gemmTaskPool32 = sync.Pool{New: func() any { return new(gemmTask[float32]) }}
var gemmTaskPool64 = sync.Pool{New: func() any { return new(gemmTask[float64]) }}

func gemmTaskPool[T Float]() *sync.Pool {
	var z T
	if _, ok := any(z).(float32); ok {
		return &gemmTaskPool32
	}
	return &gemmTaskPool64
}

func (t *gemmTask[T]) Do(item int) {
	pa := t.pa
	p := pa.p
	bm, bn := item%t.nbm, item/t.nbm
	i0, j0 := bm*t.mc, bn*t.nc
	i1, j1 := min(i0+t.mc, pa.m), min(j0+t.nc, t.n)
	nc := j1 - j0
	ncp := ceilDiv(nc, p.nr) * p.nr
	var bf *buffer[T]
	if t.direct || t.skinny != nil {
		bf = getBuf[T](pa.kc*p.nr + p.mr*p.nr)
	} else {
		bf = getBuf[T](pa.kc*ncp + p.mr*p.nr)
	}
	for blk := 0; blk < pa.nkb; blk++ {
		k0, kc := pa.KBlock(blk)
		beta := T(1)
		if blk == 0 {
			beta = t.beta
		}
		if t.skinny != nil {
			b := t.b[k0*t.ldb+j0:]
			edge := bf.s[:kc*16]
			scratch := bf.s[pa.kc*p.nr:]
			macroSkinny(t.skinny, pa, blk, i0, i1, b, t.ldb, nc, edge, t.alpha, beta, t.c[i0*t.ldc+j0:], t.ldc, scratch, t.nextB(item, blk))
			continue
		}
		if t.direct {
			b := t.b[k0*t.ldb+j0:]
			edge := bf.s[:kc*p.nr]
			scratch := bf.s[pa.kc*p.nr:]
			macroDirect(p, pa, blk, i0, i1, b, t.ldb, nc, edge, t.alpha, beta, t.c[i0*t.ldc+j0:], t.ldc, scratch)
			continue
		}
		var b []T
		if t.transB {
			b = t.b[j0*t.ldb+k0:]
		} else {
			b = t.b[k0*t.ldb+j0:]
		}
		bp := bf.s[:kc*ncp]
		scratch := bf.s[pa.kc*ncp:]
		if p.pack != nil && !t.transB && i1-i0 >= p.mr && fusePackB {
			// The first row panel's kernels pack B as they compute.
			macroPackedFused(p, pa, blk, i0, i1, b, t.ldb, bp, nc, t.alpha, beta, t.c[i0*t.ldc+j0:], t.ldc, scratch, t.nextB(item, blk))
			continue
		}
		packB(p.nr, bp, t.transB, kc, nc, b, t.ldb)
		macroPacked(p, pa, blk, i0, i1, bp, nc, t.alpha, beta, t.c[i0*t.ldc+j0:], t.ldc, scratch, t.nextB(item, blk))
	}
	putBuf(bf)
}

// prefetchPlan tells the kernel calls of one macro-kernel which memory the
// next B block will pack, so that reading it from DRAM overlaps this block's
// arithmetic: call c prefetches rows [0, kc) at base + c*128 bytes (row
// stride bytes) while c < chunks; later calls prefetch the next packed panel.
type prefetchPlan struct {
	base   uintptr
	stride int
	chunks int
}

// nextB plans the prefetch of the B block this goroutine is likely to pack
// next: the next k block of this item or, after the last one, the first k
// block of the item `threads` further on (items are handed out in order).
// Only the non-transposed B is planned (rows of op(B) are contiguous).
func (t *gemmTask[T]) nextB(item, blk int) prefetchPlan {
	if t.transB || !prefetchB {
		return prefetchPlan{}
	}
	pa := t.pa
	next := item
	k0 := 0
	if blk+1 < pa.nkb {
		k0, _ = pa.KBlock(blk + 1)
	} else {
		next = item + t.threads
		if next >= t.nbm*t.nbn {
			return prefetchPlan{}
		}
	}
	j0 := (next / t.nbm) * t.nc
	w := min(t.nc, t.n-j0)
	es := sizeof[T]()
	return prefetchPlan{
		base:   uintptr(unsafe.Pointer(&t.b[k0*t.ldb+j0])),
		stride: t.ldb * es,
		chunks: ceilDiv(w*es, 128),
	}
}

// prefetchPanel: the kernel prefetches the next packed B panel (else its
// own, a no-op).
var prefetchPanel = true

// prefetchB switches the software prefetch of the next B block (measured no
// faster here: the hardware prefetchers follow the packing reads).
var prefetchB = true

// MacroKernel computes C[i0:i0+m, 0:nc] = alpha*A[i0:i0+m, k block blk]*Bp
// + beta*C[i0:i0+m, 0:nc] on the calling goroutine, where Bp is the k block
// blk of op(B) packed by pa.PackB (kc×nc), and c[i*ldc+j] is C(i, j) (so c
// starts at row 0 of the column block). i0 must be a multiple of MR. To
// accumulate over K, call it for every k block in order with beta for the
// first and 1 for the others. It does not allocate in steady state.
func MacroKernel[T Float](pa *PackedA[T], blk, i0, m int, bp []T, nc int, alpha, beta T, c []T, ldc int) {
	p := pa.p
	if m <= 0 || nc <= 0 {
		return
	}
	if i0%p.mr != 0 {
		panic("gemm: MacroKernel row offset is not a multiple of MR")
	}
	bf := getBuf[T](p.mr * p.nr)
	macroPacked(p, pa, blk, i0, i0+m, bp, nc, alpha, beta, c[i0*ldc:], ldc, bf.s, prefetchPlan{})
	putBuf(bf)
}

// macroPacked runs the micro-kernel over rows [i0, i1) of packed A (block
// blk) and the packed B block bp (nc columns); c points at C(i0, 0).
func macroPacked[T Float](p *params[T], pa *PackedA[T], blk, i0, i1 int, bp []T, nc int, alpha, beta T, c []T, ldc int, scratch []T, pf prefetchPlan) {
	_, kc := pa.KBlock(blk)
	mr, nr := p.mr, p.nr
	flags := 0
	if beta != 0 {
		flags = 1
	}
	panelBytes := kc * nr * sizeof[T]()
	rowBytes := nr * sizeof[T]()
	call := 0
	// Spread the prefetch of the next block evenly over this block's calls.
	every := 1
	if pf.chunks > 0 {
		every = max(1, ceilDiv(i1-i0, mr)*ceilDiv(nc, nr)/pf.chunks)
	}
	for i := i0; i < i1; i += mr {
		ap, rsa, csa := pa.panel(blk, i)
		rows := min(mr, i1-i)
		crow := c[(i-i0)*ldc:]
		for j := 0; j < nc; j += nr {
			cols := min(nr, nc-j)
			b := &bp[j*kc]
			// Default: pull the next packed panel from L2 into L1.
			pfa, pfs := uintptr(unsafe.Pointer(b))+uintptr(panelBytes), rowBytes
			if !prefetchPanel {
				pfa = uintptr(unsafe.Pointer(b))
			}
			if call%every == 0 && call/every < pf.chunks {
				pfa, pfs = pf.base+uintptr(call/every*128), pf.stride
			}
			call++
			kern, full := p.tileKernel(cols)
			if rows == mr && cols == full {
				kern(kc, ap, rsa, csa, b, nr, &crow[j], ldc, alpha, beta, flags, pfa, pfs)
			} else if rk := p.rowKernel(rows, cols); rk != nil {
				rk(kc, ap, rsa, csa, b, nr, &crow[j], ldc, alpha, beta, flags, pfa, pfs)
			} else {
				edgeTile(p.edgeKernel(kern, rows), nr, kc, ap, rsa, csa, b, nr, crow[j:], ldc, rows, cols, alpha, beta, scratch, pfa, pfs)
			}
		}
	}
}

// fusePackB switches the fused packing of B (params.pack) on the levels
// that have it; tests run both ways.
var fusePackB = true

// macroPackedFused is macroPacked for a row-major B (b, ldb, not
// transposed) that is not packed yet: the first row panel's kernel calls
// read B in place and write the packed block bp as they go (a partial last
// column panel is packed first, by packB), the other row panels read bp.
// rows i1-i0 must be at least MR. The result is bit-identical to packing
// first: the same products in the same order.
func macroPackedFused[T Float](p *params[T], pa *PackedA[T], blk, i0, i1 int, b []T, ldb int, bp []T, nc int, alpha, beta T, c []T, ldc int, scratch []T, pf prefetchPlan) {
	_, kc := pa.KBlock(blk)
	mr, nr := p.mr, p.nr
	flags := 0
	if beta != 0 {
		flags = 1
	}
	es := sizeof[T]()
	ap, rsa, csa := pa.panel(blk, i0)
	ncols := ceilDiv(nc, nr)
	every := 1
	if pf.chunks > 0 {
		every = max(1, ceilDiv(i1-i0, mr)*ncols/pf.chunks)
	}
	call := 0
	for j := 0; j < nc; j += nr {
		cols := min(nr, nc-j)
		dst := bp[j*kc:]
		// Prefetch the rows of B the next call reads.
		pfa, pfs := uintptr(unsafe.Pointer(&b[0]))+uintptr((j+nr)*es), ldb*es
		if call%every == 0 && call/every < pf.chunks {
			pfa, pfs = pf.base+uintptr(call/every*128), pf.stride
		}
		call++
		if cols < nr {
			packB(nr, dst, false, kc, cols, b[j:], ldb)
			kern, full := p.tileKernel(cols)
			if cols == full {
				kern(kc, ap, rsa, csa, &dst[0], nr, &c[j], ldc, alpha, beta, flags, pfa, pfs)
			} else {
				edgeTile(kern, nr, kc, ap, rsa, csa, &dst[0], nr, c[j:], ldc, mr, cols, alpha, beta, scratch, pfa, pfs)
			}
			continue
		}
		p.pack(kc, ap, rsa, csa, &b[j], ldb, &c[j], ldc, alpha, beta, flags, pfa, pfs, &dst[0])
	}
	if i0+mr < i1 {
		pf.chunks -= min(pf.chunks, ceilDiv(call, every))
		pf.base += uintptr(ceilDiv(call, every) * 128)
		macroPacked(p, pa, blk, i0+mr, i1, bp, nc, alpha, beta, c[mr*ldc:], ldc, scratch, pf)
	}
}

// macroDirect is macroPacked with B read in place (row-major, not
// transposed, b[p*ldb+j]); only a partial last column panel is packed, into
// edge.
func macroDirect[T Float](p *params[T], pa *PackedA[T], blk, i0, i1 int, b []T, ldb, nc int, edge []T, alpha, beta T, c []T, ldc int, scratch []T) {
	_, kc := pa.KBlock(blk)
	mr, nr := p.mr, p.nr
	flags := 0
	if beta != 0 {
		flags = 1
	}
	for j := 0; j < nc; j += nr {
		cols := min(nr, nc-j)
		bptr, ldbk := &b[j], ldb
		pfa, pfs := uintptr(unsafe.Pointer(bptr))+uintptr(pfDirectTiles*nr*sizeof[T]()), ldb*sizeof[T]()
		if cols < nr {
			packB(nr, edge, false, kc, cols, b[j:], ldb)
			bptr, ldbk = &edge[0], nr
			pfa, pfs = uintptr(unsafe.Pointer(bptr)), nr*sizeof[T]()
		}
		for i := i0; i < i1; i += mr {
			ap, rsa, csa := pa.panel(blk, i)
			rows := min(mr, i1-i)
			cp := c[(i-i0)*ldc+j:]
			kern, full := p.tileKernel(cols)
			if rows == mr && cols == full {
				kern(kc, ap, rsa, csa, bptr, ldbk, &cp[0], ldc, alpha, beta, flags, pfa, pfs)
			} else {
				edgeTile(p.edgeKernel(kern, rows), nr, kc, ap, rsa, csa, bptr, ldbk, cp, ldc, rows, cols, alpha, beta, scratch, pfa, pfs)
			}
		}
	}
}

// tileKernel returns the kernel for a column panel holding cols columns and
// the tile width it computes: the half-width kernel when cols <= NR/2.
func (p *params[T]) tileKernel(cols int) (kernelFunc[T], int) {
	if p.half != nil && cols <= p.nr/2 {
		return p.half, p.nr / 2
	}
	return p.kern, p.nr
}

// skinnyMaxM: products with M a multiple of 16 up to this, and B not
// transposed, use the 16×16 in-place-B kernel where the level has one.
var skinnyMaxM = 16

// pfSkinny: the skinny kernel prefetches B this many bytes ahead in a row.
var pfSkinny = 0

// macroSkinny is the macro-kernel of the skinny path: 16×16 tiles, B read in
// place (only a partial last panel is packed, into edge), A from packed
// panels two at a time.
func macroSkinny[T Float](kern func(kc int, a0, a1, b *T, ldb int, c *T, ldc int, alpha, beta T, flags int, pf uintptr, pfStride int),
	pa *PackedA[T], blk, i0, i1 int, b []T, ldb, nc int, edge []T, alpha, beta T, c []T, ldc int, scratch []T, pf prefetchPlan) {
	_, kc := pa.KBlock(blk)
	flags := 0
	if beta != 0 {
		flags = 1
	}
	es := sizeof[T]()
	// Spread the prefetch of the next B block over this block's tiles.
	every := 1
	if pf.chunks > 0 {
		every = max(1, ceilDiv(nc, 16)/pf.chunks)
	}
	for j := 0; j < nc; j += 16 {
		cols := min(16, nc-j)
		bptr, ldbk := &b[j], ldb
		pfa, pfs := uintptr(unsafe.Pointer(bptr))+uintptr(pfSkinny), ldb*es
		if call := j / 16; call%every == 0 && call/every < pf.chunks {
			pfa, pfs = pf.base+uintptr(call/every*128), pf.stride
		}
		if cols < 16 {
			packB(16, edge, false, kc, cols, b[j:], ldb)
			bptr, ldbk = &edge[0], 16
			pfa, pfs = uintptr(unsafe.Pointer(bptr)), 16*es
		}
		for i := i0; i < i1; i += 16 {
			a0, _, _ := pa.panel(blk, i)
			a1, _, _ := pa.panel(blk, i+8)
			cp := c[(i-i0)*ldc+j:]
			if cols == 16 {
				kern(kc, a0, a1, bptr, ldbk, &cp[0], ldc, alpha, beta, flags, pfa, pfs)
				continue
			}
			kern(kc, a0, a1, bptr, ldbk, &scratch[0], 16, 1, 0, 0, pfa, pfs)
			for r := 0; r < 16; r++ {
				s := scratch[r*16 : r*16+cols]
				d := cp[r*ldc : r*ldc+cols]
				if beta == 0 {
					for jj, v := range s {
						d[jj] = alpha * v
					}
				} else {
					for jj, v := range s {
						d[jj] = alpha*v + beta*d[jj]
					}
				}
			}
		}
	}
}

// edgeTile computes a partial tile through a scratch MR×NR tile (row
// stride nr).
func edgeTile[T Float](kern kernelFunc[T], nr, kc int, a *T, rsa, csa int, b *T, ldb int, c []T, ldc, rows, cols int, alpha, beta T, scratch []T, pf uintptr, pfStride int) {
	kern(kc, a, rsa, csa, b, ldb, &scratch[0], nr, 1, 0, 0, pf, pfStride)
	for r := 0; r < rows; r++ {
		s := scratch[r*nr : r*nr+cols]
		d := c[r*ldc : r*ldc+cols]
		if beta == 0 {
			for j, v := range s {
				d[j] = alpha * v
			}
		} else {
			for j, v := range s {
				d[j] = alpha*v + beta*d[j]
			}
		}
	}
}
