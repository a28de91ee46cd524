package gemm

import (
	"sync"
	"unsafe"

	"repdyn/lib/internal/cpu"
	"repdyn/lib/internal/parallel"
)

func unsafeSlice[T any](p *T, n int) []T { return unsafe.Slice(p, n) }

// buffer is a pooled, 64-byte-aligned scratch slice.
type buffer[T Float] struct{ s []T }

var bufPool32, bufPool64 sync.Pool

func bufPool[T Float]() *sync.Pool {
	var z T
	if _, ok := any(z).(float32); ok {
		return &bufPool32
	}
	return &bufPool64
}

// getBuf returns a pooled buffer of length n (contents undefined).
func getBuf[T Float](n int) *buffer[T] {
	bf, _ := bufPool[T]().Get().(*buffer[T])
	if bf == nil {
		bf = new(buffer[T])
	}
	if cap(bf.s) < n {
		bf.s = alignedMake[T](n)
	}
	bf.s = bf.s[:n]
	return bf
}

func putBuf[T Float](bf *buffer[T]) { bufPool[T]().Put(bf) }

// alignedMake returns a slice of length n whose first element is 64-byte aligned.
func alignedMake[T Float](n int) []T {
	var z T
	sz := int(unsafe.Sizeof(z))
	extra := 64 / sz
	s := make([]T, n+extra)
	off := 0
	if mis := int(uintptr(unsafe.Pointer(&s[0])) % 64); mis != 0 {
		off = (64 - mis) / sz
	}
	return s[off : off+n : off+n]
}

// PackedA is an M×K operand A packed into MR-row panels for the level that
// was selected when Pack ran (layout in the package documentation). Pack it
// once and reuse it for any number of products; it is read-only afterwards
// and may be shared between goroutines. The zero value is empty.
type PackedA[T Float] struct {
	p       *params[T]
	m, k    int
	mp      int // m rounded up to a multiple of MR
	nkb, kc int // k blocks and their (maximal) size
	data    []T
	// raw: data is the caller's A, read in place (A(i, p) = data[i*rsa +
	// p*csa]); only Gemm makes such views, for products that use each
	// element of A too few times to repay packing.
	raw      bool
	rsa, csa int
	own      []T // storage for packed data, kept across Pack calls
}

// M returns the number of rows of the packed operand.
func (pa *PackedA[T]) M() int { return pa.m }

// K returns the number of columns (the reduction length).
func (pa *PackedA[T]) K() int { return pa.k }

// Tile returns the micro-tile MR×NR this packing was made for.
func (pa *PackedA[T]) Tile() (mr, nr int) { return pa.p.mr, pa.p.nr }

// KBlocks returns how many k blocks K is cut into.
func (pa *PackedA[T]) KBlocks() int { return pa.nkb }

// KBlockLen returns the length of every k block but the last (k block blk
// starts at blk*KBlockLen()).
func (pa *PackedA[T]) KBlockLen() int { return pa.kc }

// KBlock returns the first column k0 and the length kc of k block blk.
func (pa *PackedA[T]) KBlock(blk int) (k0, kc int) {
	k0 = blk * pa.kc
	return k0, min(pa.kc, pa.k-k0)
}

// Data returns the packed elements (layout in the package documentation).
func (pa *PackedA[T]) Data() []T { return pa.data }

// panel returns A for k block blk and rows starting at i (a multiple of
// MR), with its row and column strides.
func (pa *PackedA[T]) panel(blk, i int) (a *T, rsa, csa int) {
	k0, kc := pa.KBlock(blk)
	if pa.raw {
		return &pa.data[i*pa.rsa+k0*pa.csa], pa.rsa, pa.csa
	}
	return &pa.data[k0*pa.mp+i*kc], 1, pa.p.mr
}

// view makes pa an unpacked view of op(A) (m×k); m must be a multiple of MR
// unless the level has row kernels for the partial last panel (params.rowk).
func (pa *PackedA[T]) view(trans bool, m, k int, a []T, lda int) {
	p := paramsFor[T](cpu.Selected)
	pa.p, pa.m, pa.k, pa.mp = p, m, k, m
	pa.nkb, pa.kc = kBlocks(k, p.kc)
	pa.data, pa.raw = a, true
	pa.rsa, pa.csa = lda, 1
	if trans {
		pa.rsa, pa.csa = 1, lda
	}
}

// Pack packs op(A) (m×k; A is m×k with row stride lda, or k×m when trans)
// for the currently selected level, reusing pa's storage when it is large
// enough. Large operands are packed on up to parallel.Threads() goroutines.
func (pa *PackedA[T]) Pack(trans bool, m, k int, a []T, lda int) {
	p := paramsFor[T](cpu.Selected)
	pa.raw = false
	pa.p, pa.m, pa.k = p, m, k
	pa.mp = (m + p.mr - 1) / p.mr * p.mr
	pa.nkb, pa.kc = kBlocks(k, p.kc)
	n := pa.mp * k
	if cap(pa.own) < n {
		pa.own = alignedMake[T](n)
	}
	pa.data = pa.own[:n]
	if m == 0 || k == 0 {
		return
	}
	panels := pa.mp / p.mr
	t := packATaskPool[T]().Get().(*packATask[T])
	t.pa, t.trans, t.a, t.lda = pa, trans, a, lda
	const perItem = 4 // panels per item
	items := (panels + perItem - 1) / perItem
	threads := parallel.Threads()
	if m*k < 1<<16 {
		threads = 1
	}
	parallel.RunThreads(items, threads, t)
	t.a = nil
	t.pa = nil
	packATaskPool[T]().Put(t)
}

type packATask[T Float] struct {
	pa    *PackedA[T]
	trans bool
	a     []T
	lda   int
}

var packATaskPool32 = sync.Pool{New: func() any { return new(packATask[float32]) }}
var packATaskPool64 = sync.Pool{New: func() any { return new(packATask[float64]) }}

func packATaskPool[T Float]() *sync.Pool {
	var z T
	if _, ok := any(z).(float32); ok {
		return &packATaskPool32
	}
	return &packATaskPool64
}

func (t *packATask[T]) Do(item int) {
	pa := t.pa
	mr := pa.p.mr
	for pi := item * 4; pi < min(item*4+4, pa.mp/mr); pi++ {
		i0 := pi * mr
		rows := min(mr, pa.m-i0)
		for blk := 0; blk < pa.nkb; blk++ {
			k0, kc := pa.KBlock(blk)
			dst := pa.data[k0*pa.mp+i0*kc : k0*pa.mp+i0*kc+mr*kc]
			packPanel(dst, t.trans, mr, rows, kc, t.a, t.lda, i0, k0)
		}
	}
}

// packPanel writes the w×kc panel of X (rows [r0, r0+rows), columns
// [c0, c0+kc)) into dst as dst[p*w + r], zero-padding rows up to w. X(i, j)
// is x[i*ldx+j], or x[j*ldx+i] when trans. It serves A (rows of op(A)) and
// B (columns of op(B), where op(B)ᵀ(j, p) = B(p, j)).
func packPanel[T Float](dst []T, trans bool, w, rows, kc int, x []T, ldx, r0, c0 int) {
	if trans {
		// X(i, j) = x[j*ldx+i]: rows of the panel are contiguous in x.
		if rows == w {
			// Full panel: fixed-size copies compile to straight vector moves
			// (no memmove call per row).
			switch w {
			case 32:
				for p := 0; p < kc; p++ {
					*(*[32]T)(dst[p*32:]) = *(*[32]T)(x[(c0+p)*ldx+r0:])
				}
				return
			case 16:
				for p := 0; p < kc; p++ {
					*(*[16]T)(dst[p*16:]) = *(*[16]T)(x[(c0+p)*ldx+r0:])
				}
				return
			case 8:
				for p := 0; p < kc; p++ {
					*(*[8]T)(dst[p*8:]) = *(*[8]T)(x[(c0+p)*ldx+r0:])
				}
				return
			}
		}
		for p := 0; p < kc; p++ {
			src := x[(c0+p)*ldx+r0 : (c0+p)*ldx+r0+rows]
			d := dst[p*w : p*w+w]
			copy(d, src)
			for r := rows; r < w; r++ {
				d[r] = 0
			}
		}
		return
	}
	// Gather: w rows of x are read side by side, dst is written in order.
	if rows == w {
		if done := transposeBlocks(dst, w, rows, kc, x[r0*ldx+c0:], ldx); done > 0 {
			if done == kc {
				return
			}
			// The remaining columns, in Go.
			packPanel(dst[done*w:], false, w, rows, kc-done, x, ldx, r0, c0+done)
			return
		}
	}
	r := 0
	for ; r+4 <= rows; r += 4 {
		s0 := x[(r0+r)*ldx+c0 : (r0+r)*ldx+c0+kc]
		s1 := x[(r0+r+1)*ldx+c0 : (r0+r+1)*ldx+c0+kc]
		s2 := x[(r0+r+2)*ldx+c0 : (r0+r+2)*ldx+c0+kc]
		s3 := x[(r0+r+3)*ldx+c0 : (r0+r+3)*ldx+c0+kc]
		for p := range s0 {
			d := dst[p*w+r : p*w+r+4 : p*w+r+4]
			d[0], d[1], d[2], d[3] = s0[p], s1[p], s2[p], s3[p]
		}
	}
	for ; r < rows; r++ {
		src := x[(r0+r)*ldx+c0 : (r0+r)*ldx+c0+kc]
		for p, v := range src {
			dst[p*w+r] = v
		}
	}
	for r := rows; r < w; r++ {
		for p := 0; p < kc; p++ {
			dst[p*w+r] = 0
		}
	}
}

// PackedBSize returns the length of a packed B block of kc rows and nc
// columns for the tile pa was packed for.
func (pa *PackedA[T]) PackedBSize(kc, nc int) int {
	nr := pa.p.nr
	return (nc + nr - 1) / nr * nr * kc
}

// PackB packs the kc×nc block of op(B) whose top-left element is b[0] into
// dst (length >= PackedBSize(kc, nc)) as NR-column panels (layout in the
// package documentation), for use with MacroKernel. B(p, j) is b[p*ldb+j],
// or b[j*ldb+p] when trans.
func (pa *PackedA[T]) PackB(dst []T, trans bool, kc, nc int, b []T, ldb int) {
	packB(pa.p.nr, dst, trans, kc, nc, b, ldb)
}

func packB[T Float](nr int, dst []T, trans bool, kc, nc int, b []T, ldb int) {
	if !trans {
		// Row by row, so that B is read in long sequential runs (what the
		// hardware prefetchers follow best; B usually comes from memory).
		full := nc / nr * nr
		for p := 0; p < kc; p++ {
			src := b[p*ldb : p*ldb+nc]
			switch nr {
			case 32:
				for j0 := 0; j0 < full; j0 += 32 {
					*(*[32]T)(dst[j0*kc+p*32:]) = *(*[32]T)(src[j0:])
				}
			case 16:
				for j0 := 0; j0 < full; j0 += 16 {
					*(*[16]T)(dst[j0*kc+p*16:]) = *(*[16]T)(src[j0:])
				}
			case 8:
				for j0 := 0; j0 < full; j0 += 8 {
					*(*[8]T)(dst[j0*kc+p*8:]) = *(*[8]T)(src[j0:])
				}
			default:
				for j0 := 0; j0 < full; j0 += nr {
					copy(dst[j0*kc+p*nr:j0*kc+p*nr+nr], src[j0:j0+nr])
				}
			}
			if full < nc {
				d := dst[full*kc+p*nr : full*kc+p*nr+nr]
				n := copy(d, src[full:])
				clear(d[n:])
			}
		}
		return
	}
	for j0 := 0; j0 < nc; j0 += nr {
		cols := min(nr, nc-j0)
		d := dst[j0*kc : j0*kc+nr*kc]
		// The panel is the transpose view of packPanel: op(B)ᵀ(j, p).
		packPanel(d, !trans, nr, cols, kc, b, ldb, j0, 0)
	}
}
