package conv

import (
	"unsafe"

	"repdyn/lib/internal/parallel"
)

// Float is the element type of the convolutions.
type Float interface{ ~float32 | ~float64 }

func asE[E, T any](s []T) []E {
	if s == nil {
		return nil
	}
	return unsafe.Slice((*E)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
func roundUp(a, b int) int { return ceilDiv(a, b) * b }

// Forward computes y = conv(x, w) + bias + beta*y (see Params for the
// formula). bias may be nil. With beta == 0, y is overwritten and never read.
// x has length p.InputLen(), w p.WeightLen(), bias p.Cout, y p.OutputLen().
func Forward[T Float](p Params, y, x, w, bias []T, beta T) error {
	return ForwardThen(p, y, x, w, bias, beta, nil)
}

// Epilogue is work that ForwardThen runs on each part of the output as soon
// as that part holds its final value, while it is still in cache (an
// inference-mode batch norm, a residual add, a ReLU): Apply(img, c0, c1) is
// called exactly once for every image img and every channel range of a
// partition of [0, Cout), from any goroutine, possibly concurrently for
// different parts. It must only touch data of its own part.
type Epilogue interface {
	Apply(img, c0, c1 int)
}

// ForwardThen is Forward followed by ep (nil: none), part by part.
func ForwardThen[T Float](p Params, y, x, w, bias []T, beta T, ep Epilogue) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := firstErr(p.check("x", len(x), p.InputLen()), p.check("w", len(w), p.WeightLen()),
		p.check("y", len(y), p.OutputLen())); err != nil {
		return err
	}
	if bias != nil {
		if err := p.check("bias", len(bias), p.Cout); err != nil {
			return err
		}
	}
	if unsafe.Sizeof(T(0)) == 4 {
		forward(p, asE[float32](y), asE[float32](x), asE[float32](w), asE[float32](bias), float32(beta), ep)
	} else {
		forward(p, asE[float64](y), asE[float64](x), asE[float64](w), asE[float64](bias), float64(beta), ep)
	}
	return nil
}

// BackwardData computes dx = conv^T(dy, w) + beta*dx, the gradient of
// <dy, Forward(x)> with respect to x (the adjoint of Forward without bias).
// With beta == 0, dx is overwritten and never read.
func BackwardData[T Float](p Params, dx, dy, w []T, beta T) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := firstErr(p.check("dx", len(dx), p.InputLen()), p.check("w", len(w), p.WeightLen()),
		p.check("dy", len(dy), p.OutputLen())); err != nil {
		return err
	}
	if unsafe.Sizeof(T(0)) == 4 {
		backwardData(p, asE[float32](dx), asE[float32](dy), asE[float32](w), float32(beta))
	} else {
		backwardData(p, asE[float64](dx), asE[float64](dy), asE[float64](w), float64(beta))
	}
	return nil
}

// BackwardWeights computes dw = sum over the batch of the gradient of
// <dy, Forward(x)> with respect to w, plus beta*dw; and, if db is not nil,
// db[co] = sum of dy over the batch and pixels of channel co, plus beta*db.
// With beta == 0, dw and db are overwritten and never read.
//
// The batch is reduced in fixed chunks (depending on N only) whose partial
// sums are added in a fixed order: the result is bit-identical for every
// thread count.
func BackwardWeights[T Float](p Params, dw, db, dy, x []T, beta T) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := firstErr(p.check("dw", len(dw), p.WeightLen()), p.check("x", len(x), p.InputLen()),
		p.check("dy", len(dy), p.OutputLen())); err != nil {
		return err
	}
	if db != nil {
		if err := p.check("db", len(db), p.Cout); err != nil {
			return err
		}
	}
	if unsafe.Sizeof(T(0)) == 4 {
		backwardWeights(p, asE[float32](dw), asE[float32](db), asE[float32](dy), asE[float32](x), float32(beta))
	} else {
		backwardWeights(p, asE[float64](dw), asE[float64](db), asE[float64](dy), asE[float64](x), float64(beta))
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// Free lists of task structs, one per element type.
var (
	gemmConvs32 freeList[gemmConv[float32]]
	gemmConvs64 freeList[gemmConv[float64]]
	colTasks32  freeList[colTask[float32]]
	colTasks64  freeList[colTask[float64]]
	wTasks32    freeList[wTask[float32]]
	wTasks64    freeList[wTask[float64]]
)

// pick returns a if it has type T, else b.
func pick[T any](a, b any) T {
	if t, ok := a.(T); ok {
		return t
	}
	return b.(T)
}

// ---- implicit-GEMM convolution (Forward, and BackwardData at stride 1) ----

// gemmConv runs one implicit-GEMM convolution over a batch: for every image,
// out = A * im2col(in) + bias + beta*out, with A packed in mr-row panels.
type gemmConv[E float32 | float64] struct {
	g         geom
	kern      *kernels
	n         int
	rows      int // output channels
	mtiles    int
	ntile     int
	ldc       int
	apack     []E
	off       []int32
	in        []E // batch, g.c*g.h*g.w per image
	out       []E // batch, rows*ho*wo per image
	bias      []E
	beta      E
	splits    int // tasks per image (groups of m tiles)
	ep        Epilogue
	rowKern   *kernels // row mode: store straight into out
	blockRows int
	scratch   int // bytes of per-task scratch
}

func (t *gemmConv[E]) Do(i int) {
	img, part := i/t.splits, i%t.splits
	t0 := part * t.mtiles / t.splits
	t1 := (part + 1) * t.mtiles / t.splits
	g := &t.g
	b := getBuf(t.scratch)
	xb := take[E](b, g.xlen(t.ntile*t.kern.nr))
	pack(g, xb, t.in[img*g.c*g.h*g.w:][:g.c*g.h*g.w])
	mr, nr, vl := t.kern.mr, t.kern.nr, t.kern.vl
	if t.rowKern != nil {
		t.rowTiles(img, t0, t1, xb)
		putBuf(b)
		if t.ep != nil {
			t.ep.Apply(img, t0*mr, min(t1*mr, t.rows))
		}
		return
	}
	cb := take[E](b, (t1-t0)*t.kern.mr*t.ldc)
	tb := max(1, t.blockRows*g.wq/nr) // tiles per block
	for b0 := 0; b0 < t.ntile; b0 += tb {
		nt := min(tb, t.ntile-b0)
		for mt := t0; mt < t1; mt++ {
			t.kern.gemm(g.k, unsafe.Pointer(&t.apack[mt*g.k*mr]), unsafe.Pointer(&xb[b0*nr]),
				&t.off[0], unsafe.Pointer(&cb[(mt-t0)*mr*t.ldc+b0*nr]), t.ldc, nt, nr, vl, nr, vl)
		}
	}
	r0 := t0 * mr
	r1 := min(t1*mr, t.rows)
	hw := g.ho * g.wo
	var bias []E
	if t.bias != nil {
		bias = t.bias[r0:r1]
	}
	unpack(g, t.out[(img*t.rows+r0)*hw:][:(r1-r0)*hw], cb, t.ldc, r1-r0, bias, t.beta)
	putBuf(b)
	if t.ep != nil {
		t.ep.Apply(img, r0, r1)
	}
}

// canRowMode reports whether the kernel can store straight into the output
// image: whole mr-row panels, output rows made of whole vectors that tile
// evenly (two vectors per tile), and nothing to accumulate.
func canRowMode[E float32 | float64](g *geom, kern *kernels, rows int, beta E) bool {
	if beta != 0 || rows%kern.mr != 0 || g.wo%kern.vl != 0 {
		return false
	}
	s := g.wo / kern.vl
	return s%2 == 0 || (s == 1 && g.ho%2 == 0)
}

// rowKernels returns the kernel set for row mode, or nil.
func rowKernels[E float32 | float64](g *geom, kern *kernels, rows int, beta E) *kernels {
	for k := kern; k != nil; k = k.narrow {
		if canRowMode(g, k, rows, beta) {
			return k
		}
	}
	return nil
}

// rowTiles computes the m tiles [t0, t1) of image img straight into the
// output (row mode).
func (t *gemmConv[E]) rowTiles(img, t0, t1 int, xb []E) {
	g, kern := &t.g, t.rowKern
	mr, vl := kern.mr, kern.vl
	hw := g.ho * g.wo
	s := g.wo / vl
	rb := t.blockRows
	if s == 1 {
		rb = max(2, rb&^1)
	}
	for r0 := 0; r0 < g.ho; r0 += rb {
		r1 := min(g.ho, r0+rb)
		xr := unsafe.Pointer(&xb[r0*g.wq])
		for mt := t0; mt < t1; mt++ {
			a := unsafe.Pointer(&t.apack[mt*g.k*mr])
			out := t.out[(img*t.rows+mt*mr)*hw:][:mr*hw]
			switch {
			case s == 1: // two output rows per tile
				kern.gemmRow(g.k, a, xr, &t.off[0], unsafe.Pointer(&out[r0*g.wo]), hw,
					(r1-r0)/2, 2*g.wq, g.wq, 2*g.wo, g.wo)
			case s == 2: // one output row per tile
				kern.gemmRow(g.k, a, xr, &t.off[0], unsafe.Pointer(&out[r0*g.wo]), hw,
					r1-r0, g.wq, vl, g.wo, vl)
			default: // s/2 tiles per output row
				for oh := r0; oh < r1; oh++ {
					kern.gemmRow(g.k, a, unsafe.Pointer(&xb[oh*g.wq]), &t.off[0], unsafe.Pointer(&out[oh*g.wo]), hw,
						s/2, 2*vl, vl, 2*vl, vl)
				}
			}
		}
	}
	if t.bias != nil {
		for mt := t0; mt < t1; mt++ {
			out := t.out[(img*t.rows+mt*mr)*hw:][:mr*hw]
			for r := 0; r < mr; r++ {
				bv := t.bias[mt*mr+r]
				o := out[r*hw : (r+1)*hw]
				for i := range o {
					o[i] += bv
				}
			}
		}
	}
}

// blockBytes bounds the packed-input rows that one pass over the output
// channel panels reads (kept in L2 for large images).
var blockBytes = 512 << 10

// blockRows is the number of output rows per block.
func (g *geom) blockRows(size uintptr) int {
	qh := (g.dh * (g.kh - 1)) / g.sh
	perRow := g.c * g.na * g.nb * g.wq * int(size)
	return max(1, blockBytes/max(1, perRow)-qh)
}

// runGemmConv runs the convolution; fill packs A (mtiles panels of k×mr).
func runGemmConv[E float32 | float64](g geom, n, rows int, in, out, bias []E, beta E, ep Epilogue,
	fill func(apack []E, mr int)) {
	kern := kernelsFor(unsafe.Sizeof(E(0)))
	// Row mode with the full-width kernel wastes nothing; otherwise the
	// transposed small-image kernel may beat the narrow row kernel and the
	// padded-width path.
	if rowKernels(&g, kern, rows, beta) != kern && useSmall(&g, kern, rows) {
		runSmallConv(g, kern, n, rows, in, out, bias, beta, ep, fill)
		return
	}
	list := pick[*freeList[gemmConv[E]]](&gemmConvs32, &gemmConvs64)
	t := list.get()
	mr, nr := kern.mr, kern.nr
	mtiles := ceilDiv(rows, mr)
	ntile := ceilDiv(g.p, nr)
	size := unsafe.Sizeof(E(0))
	shared := getBuf(alignedBytes(mtiles*g.k*mr, size) + alignedBytes(g.k, 4))
	apack := take[E](shared, mtiles*g.k*mr)
	off := take[int32](shared, g.k)
	fill(apack, mr)
	g.offsets(off)
	threads := parallel.Threads()
	splits := 1
	if n < threads {
		splits = min(mtiles, ceilDiv(threads, n))
	}
	ldc := ntile * nr
	*t = gemmConv[E]{g: g, kern: kern, n: n, rows: rows, mtiles: mtiles, ntile: ntile, ldc: ldc,
		apack: apack, off: off, in: in, out: out, bias: bias, beta: beta, splits: splits, ep: ep,
		scratch: alignedBytes(g.xlen(ntile*nr), size) + alignedBytes(ceilDiv(mtiles, splits)*mr*ldc, size)}
	t.rowKern = rowKernels(&g, kern, rows, beta)
	t.blockRows = g.blockRows(size)
	parallel.Run(n*splits, t)
	*t = gemmConv[E]{}
	list.put(t)
	putBuf(shared)
}

func forward[E float32 | float64](p Params, y, x, w, bias []E, beta E, ep Epilogue) {
	g := newGeom(p.Cin, p.H, p.W, p.KH, p.KW, p.StrideH, p.StrideW, p.DilationH, p.DilationW,
		p.PadTop, p.PadBottom, p.PadLeft, p.PadRight)
	if useWinograd(p, unsafe.Sizeof(E(0))) {
		runWinograd(p, y, x, w, bias, beta, ep)
		return
	}
	k := g.k
	runGemmConv(g, p.N, p.Cout, x, y, bias, beta, ep, func(apack []E, mr int) {
		for co := 0; co < roundUp(p.Cout, mr); co++ {
			t, r := co/mr, co%mr
			dst := apack[t*k*mr:]
			if co >= p.Cout {
				for i := 0; i < k; i++ {
					dst[i*mr+r] = 0
				}
				continue
			}
			src := w[co*k : (co+1)*k]
			for i, v := range src {
				dst[i*mr+r] = v
			}
		}
	})
}

// ---- BackwardData ----

func backwardData[E float32 | float64](p Params, dx, dy, w []E, beta E) {
	_, _, ho, wo := p.OutputShape()
	if useWinograd(p, unsafe.Sizeof(E(0))) {
		// The same geometry (3×3, pad 1): dx = Forward(dy) with the
		// flipped, transposed kernel w'[ci][co] = w[co][ci] rotated by 180°.
		size := unsafe.Sizeof(E(0))
		b := getBuf(alignedBytes(len(w), size))
		wt := take[E](b, len(w))
		for co := 0; co < p.Cout; co++ {
			for ci := 0; ci < p.Cin; ci++ {
				src, dst := w[(co*p.Cin+ci)*9:][:9], wt[(ci*p.Cout+co)*9:][:9]
				for j := range dst {
					dst[j] = src[8-j]
				}
			}
		}
		runWinograd(New(p.N, p.Cout, ho, wo, p.Cin, 3, 1, 1), dx, dy, wt, nil, beta, nil)
		putBuf(b)
		return
	}
	if p.StrideH == 1 && p.StrideW == 1 {
		// dx = correlation of dy (padded by d*(k-1)-pad) with the flipped,
		// transposed kernel.
		eh, ew := p.DilationH*(p.KH-1), p.DilationW*(p.KW-1)
		g := newGeom(p.Cout, ho, wo, p.KH, p.KW, 1, 1, p.DilationH, p.DilationW,
			eh-p.PadTop, eh-p.PadBottom, ew-p.PadLeft, ew-p.PadRight)
		k, khw := g.k, p.KH*p.KW
		runGemmConv(g, p.N, p.Cin, dy, dx, nil, beta, nil, func(apack []E, mr int) {
			for ci := 0; ci < roundUp(p.Cin, mr); ci++ {
				t, r := ci/mr, ci%mr
				dst := apack[t*k*mr:]
				if ci >= p.Cin {
					for i := 0; i < k; i++ {
						dst[i*mr+r] = 0
					}
					continue
				}
				for co := 0; co < p.Cout; co++ {
					src := w[(co*p.Cin+ci)*khw:][:khw]
					for j := 0; j < khw; j++ {
						dst[(co*khw+j)*mr+r] = src[khw-1-j]
					}
				}
			}
		})
		return
	}
	if !backwardDataPhases(p, dx, dy, w, beta) {
		backwardDataCol(p, dx, dy, w, beta)
	}
}

// colTask computes dcol = W^T * dy per image and scatters it into dx (col2im).
type colTask[E float32 | float64] struct {
	p              Params
	kern           *kernels
	ho, wo, ntile  int
	mtiles, ldc, k int
	apack          []E
	off            []int32
	dx, dy         []E
	beta           E
	scratch        int
}

func backwardDataCol[E float32 | float64](p Params, dx, dy, w []E, beta E) {
	kern := kernelsFor(unsafe.Sizeof(E(0)))
	size := unsafe.Sizeof(E(0))
	_, _, ho, wo := p.OutputShape()
	k := p.Cin * p.KH * p.KW
	mr, nr := kern.mr, kern.nr
	mtiles := ceilDiv(k, mr)
	P := ho * wo
	ntile := ceilDiv(P, nr)
	shared := getBuf(alignedBytes(mtiles*p.Cout*mr, size) + alignedBytes(p.Cout, 4))
	apack := take[E](shared, mtiles*p.Cout*mr)
	off := take[int32](shared, p.Cout)
	for t := 0; t < mtiles; t++ {
		for co := 0; co < p.Cout; co++ {
			for r := 0; r < mr; r++ {
				var v E
				if i := t*mr + r; i < k {
					v = w[co*k+i]
				}
				apack[(t*p.Cout+co)*mr+r] = v
			}
		}
	}
	for co := range off {
		off[co] = int32(co * P)
	}
	list := pick[*freeList[colTask[E]]](&colTasks32, &colTasks64)
	t := list.get()
	ldc := ntile * nr
	*t = colTask[E]{p: p, kern: kern, ho: ho, wo: wo, ntile: ntile, mtiles: mtiles, ldc: ldc, k: k,
		apack: apack, off: off, dx: dx, dy: dy, beta: beta,
		scratch: alignedBytes(p.Cout*P+ldc, size) + alignedBytes(mtiles*mr*ldc, size)}
	parallel.Run(p.N, t)
	*t = colTask[E]{}
	list.put(t)
	putBuf(shared)
}

func (t *colTask[E]) Do(n int) {
	p := &t.p
	P := t.ho * t.wo
	b := getBuf(t.scratch)
	db := take[E](b, p.Cout*P+t.ldc)
	dcol := take[E](b, t.mtiles*t.kern.mr*t.ldc)
	copy(db, t.dy[n*p.Cout*P:][:p.Cout*P])
	clear(db[p.Cout*P:])
	mr := t.kern.mr
	for mt := 0; mt < t.mtiles; mt++ {
		t.kern.gemm(p.Cout, unsafe.Pointer(&t.apack[mt*p.Cout*mr]), unsafe.Pointer(&db[0]),
			&t.off[0], unsafe.Pointer(&dcol[mt*mr*t.ldc]), t.ldc, t.ntile, t.kern.nr, t.kern.vl, t.kern.nr, t.kern.vl)
	}
	hw := p.H * p.W
	dx := t.dx[n*p.Cin*hw:][:p.Cin*hw]
	if t.beta == 0 {
		clear(dx)
	} else if t.beta != 1 {
		for i := range dx {
			dx[i] *= t.beta
		}
	}
	// Output columns ow whose iw = ow*sw + kw*dw - pl lies in [0, W).
	var lo, hi [maxColKW]int
	sw := p.StrideW
	for kw := 0; kw < p.KW && kw < maxColKW; kw++ {
		o := kw*p.DilationW - p.PadLeft
		if o < 0 {
			lo[kw] = (-o + sw - 1) / sw
		}
		if p.W-1-o >= 0 {
			hi[kw] = (p.W-1-o)/sw + 1
		}
		lo[kw], hi[kw] = min(lo[kw], t.wo), min(hi[kw], t.wo)
	}
	i := 0
	for ci := 0; ci < p.Cin; ci++ {
		img := dx[ci*hw : (ci+1)*hw]
		for kh := 0; kh < p.KH; kh++ {
			for kw := 0; kw < p.KW; kw++ {
				row := dcol[i*t.ldc:]
				i++
				o := kw*p.DilationW - p.PadLeft
				l, h := 0, 0
				if kw < maxColKW {
					l, h = lo[kw], hi[kw]
				} else {
					if o < 0 {
						l = (-o + sw - 1) / sw
					}
					if p.W-1-o >= 0 {
						h = (p.W-1-o)/sw + 1
					}
					l, h = min(l, t.wo), min(h, t.wo)
				}
				for oh := 0; oh < t.ho; oh++ {
					ih := oh*p.StrideH + kh*p.DilationH - p.PadTop
					if ih < 0 || ih >= p.H {
						continue
					}
					drow := img[ih*p.W : (ih+1)*p.W]
					srow := row[oh*t.wo : (oh+1)*t.wo]
					if sw == 2 {
						for ow := l; ow < h; ow++ {
							drow[2*ow+o] += srow[ow]
						}
					} else {
						for ow := l; ow < h; ow++ {
							drow[ow*sw+o] += srow[ow]
						}
					}
				}
			}
		}
	}
	putBuf(b)
}

// maxColKW is the kernel width up to which col2im precomputes column ranges.
const maxColKW = 16

// ---- BackwardWeights ----

// maxChunks bounds the number of batch chunks of BackwardWeights (each has
// its own partial dW).
const maxChunks = 16

// partsBytes bounds the memory of the partial dW of the chunks; minTasks is
// the number of tasks below which chunks are split by output channels.
const (
	partsBytes = 16 << 20
	minTasks   = 8
)

// dotGroupBytes bounds the packed inputs of one BackwardWeights dot call
// that spans several (small) images; dotBlockBytes those of the pixel
// blocks of a large image.
const dotGroupBytes = 384 << 10

var dotBlockBytes = 1 << 20

// minDotPixels is the number of pixels (over the images of a group) below
// which a dot call's horizontal reductions cost too much.
const minDotPixels = 256

type wTask[E float32 | float64] struct {
	p                 Params
	g                 geom
	kern              *kernels
	chunk, nchunks    int
	coSplit           int
	coutPad, kpad, pv int
	group, ximg, dimg int // images per dot call; packed x and dy lengths per image
	blockVecs         int // pixel vectors per dot call
	off               []int32
	parts, dbParts    []E
	dy, x             []E
	scratch           int
	// final reduction
	dw, db []E
	beta   E
	reduce bool
}

func backwardWeights[E float32 | float64](p Params, dw, db, dy, x []E, beta E) {
	kern := kernelsFor(unsafe.Sizeof(E(0)))
	size := unsafe.Sizeof(E(0))
	g := newGeom(p.Cin, p.H, p.W, p.KH, p.KW, p.StrideH, p.StrideW, p.DilationH, p.DilationW,
		p.PadTop, p.PadBottom, p.PadLeft, p.PadRight)
	if useSmallW(&g, kern, p.Cout) {
		backwardWeightsSmall(p, g, kern, dw, db, dy, x, beta)
		return
	}
	coutPad := roundUp(p.Cout, kern.dr)
	kpad := roundUp(g.k, kern.dk)
	pv := roundUp(g.p, kern.vl)
	// The batch is cut into nchunks chunks with a partial dW each (bounded
	// memory); when that leaves few tasks, each chunk is also split into
	// coSplit groups of output-channel tiles. Both depend on the shape only.
	partBytes := coutPad * kpad * int(size)
	// Tiny images: at least minDotPixels pixels per dot call, so fewer,
	// larger chunks.
	minGroup := ceilDiv(minDotPixels, pv)
	nchunks := max(1, min(maxChunks, p.N/minGroup, partsBytes/partBytes))
	chunk := ceilDiv(p.N, nchunks)
	nchunks = ceilDiv(p.N, chunk)
	coSplit := 1
	if nchunks < minTasks {
		coSplit = min(coutPad/kern.dr, ceilDiv(minTasks, nchunks))
	}
	// Small images: pack several per dot call (within an L2 budget) so that
	// the kernel's horizontal reductions are amortized over more pixels.
	ximg := roundUp(g.xlen(pv), 16)
	dimg := coutPad * pv
	group := max(1, min(chunk, dotGroupBytes/((ximg+dimg)*int(size))))
	shared := getBuf(alignedBytes(kpad, 4) + alignedBytes(nchunks*coutPad*kpad, size) + alignedBytes(nchunks*coutPad, size))
	off := take[int32](shared, kpad)
	parts := take[E](shared, nchunks*coutPad*kpad)
	dbParts := take[E](shared, nchunks*coutPad)
	g.offsets(off)
	for i := g.k; i < kpad; i++ {
		off[i] = 0
	}
	list := pick[*freeList[wTask[E]]](&wTasks32, &wTasks64)
	t := list.get()
	*t = wTask[E]{p: p, g: g, kern: kern, chunk: chunk, nchunks: nchunks, coSplit: coSplit, coutPad: coutPad, kpad: kpad, pv: pv,
		off: off, parts: parts, dbParts: dbParts, dy: dy, x: x, dw: dw, db: db, beta: beta,
		group: group, ximg: ximg, dimg: dimg,
		blockVecs: max(1, dotBlockBytes/((coutPad+g.c*g.na*g.nb)*int(size)*kern.vl)),
		scratch:   alignedBytes(group*ximg, size) + alignedBytes(group*dimg, size)}
	parallel.Run(nchunks*coSplit, t)
	t.reduce = true
	parallel.Run(p.Cout, t)
	*t = wTask[E]{}
	list.put(t)
	putBuf(shared)
}

func (t *wTask[E]) Do(i int) {
	if t.reduce {
		t.reduceRow(i)
		return
	}
	p, g, kern := &t.p, &t.g, t.kern
	ci, s := i/t.coSplit, i%t.coSplit
	ntiles := t.coutPad / kern.dr
	r0 := s * ntiles / t.coSplit * kern.dr
	r1 := (s + 1) * ntiles / t.coSplit * kern.dr
	part := t.parts[ci*t.coutPad*t.kpad:][:t.coutPad*t.kpad]
	dbp := t.dbParts[ci*t.coutPad:][:t.coutPad]
	clear(part[r0*t.kpad : r1*t.kpad])
	clear(dbp[r0:r1])
	b := getBuf(t.scratch)
	xb := take[E](b, t.group*t.ximg)
	dq := take[E](b, t.group*t.dimg)
	hw := g.ho * g.wo
	size := int(unsafe.Sizeof(E(0)))
	nv := t.pv / kern.vl
	end := min(p.N, (ci+1)*t.chunk)
	for n0 := ci * t.chunk; n0 < end; n0 += t.group {
		gn := min(t.group, end-n0)
		for gi := 0; gi < gn; gi++ {
			n := n0 + gi
			pack(g, xb[gi*t.ximg:][:t.ximg], t.x[n*p.Cin*p.H*p.W:][:p.Cin*p.H*p.W])
			t.packDy(dq[gi*t.dimg:][:t.dimg], t.dy[n*p.Cout*hw:][:p.Cout*hw], dbp, r0, r1)
		}
		// Large images: sweep the pixels in blocks that keep dy and x in L2.
		for s0 := 0; s0 < nv; s0 += t.blockVecs {
			ns := min(t.blockVecs, nv-s0)
			po := s0 * kern.vl
			for ct := r0; ct < r1; ct += kern.dr {
				for kt := 0; kt < t.kpad; kt += kern.dk {
					kern.dot(ns, unsafe.Pointer(&dq[ct*t.pv+po]), t.pv, unsafe.Pointer(&xb[po]), &t.off[kt],
						unsafe.Pointer(&part[ct*t.kpad+kt]), t.kpad, gn, t.dimg*size, t.ximg*size)
				}
			}
		}
	}
	putBuf(b)
}

// packDy writes one image of dy in the positions of the packed input
// (rows of pv, zero in the junk columns and the tail) and adds its channel
// sums to dbp (rows r0 to r1 only).
func (t *wTask[E]) packDy(dq, img, dbp []E, r0, r1 int) {
	g, p := &t.g, &t.p
	hw := g.ho * g.wo
	for co := r0; co < r1; co++ {
		row := dq[co*t.pv : (co+1)*t.pv]
		if co >= p.Cout {
			clear(row)
			continue
		}
		src := img[co*hw : (co+1)*hw]
		if g.wq == g.wo {
			copy(row, src)
		} else {
			for oh := 0; oh < g.ho; oh++ {
				r := row[oh*g.wq : (oh+1)*g.wq]
				copy(r, src[oh*g.wo:(oh+1)*g.wo])
				for j := g.wo; j < len(r); j++ {
					r[j] = 0
				}
			}
		}
		clear(row[g.p:])
		if t.db != nil {
			dbp[co] += sum(src)
		}
	}
}

func (t *wTask[E]) reduceRow(co int) {
	k := t.g.k
	dw := t.dw[co*k : (co+1)*k]
	switch t.beta {
	case 0:
		clear(dw)
	case 1:
	default:
		for i := range dw {
			dw[i] *= t.beta
		}
	}
	var s E
	for c := 0; c < t.nchunks; c++ {
		src := t.parts[(c*t.coutPad+co)*t.kpad:][:k]
		for i, v := range src {
			dw[i] += v
		}
		s += t.dbParts[c*t.coutPad+co]
	}
	if t.db != nil {
		if t.beta == 0 {
			t.db[co] = s
		} else {
			t.db[co] = s + t.beta*t.db[co]
		}
	}
}

// sum adds s in a fixed order (four interleaved partial sums).
func sum[E float32 | float64](s []E) E {
	var a, b, c, d E
	i := 0
	for ; i+4 <= len(s); i += 4 {
		a += s[i]
		b += s[i+1]
		c += s[i+2]
		d += s[i+3]
	}
	for ; i < len(s); i++ {
		a += s[i]
	}
	return (a + b) + (c + d)
}
