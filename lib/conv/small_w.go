package conv

import (
	"unsafe"

	"repdyn/lib/internal/parallel"
)

// BackwardWeights for small images with the transposed kernel: the same
// gemmT computes
//
//	dWᵀ[k][co] = Σ_{images, pixels i} dyᵀ[i][co] · x[pixel(i) + off[k]]
//
// with the roles of its tables swapped (the reduction runs over a table of
// pixel offsets, the rows are taps): no padding columns enter the sums.

type wSmall[E float32 | float64] struct {
	p               Params
	g               geom
	kern            *kernels
	chunk, nchunks  int
	csplit, cpanels int
	kpad, coutPad   int // partials are kpad × coutPad (transposed)
	group           int // images per kernel pass
	ximg            int
	tapOff          []int32 // kpad tap offsets
	parts, dbParts  []E
	dy, x           []E
	scratch         int
	dw, db          []E
	beta            E
	reduce          bool
}

// smallWGroupBytes bounds the packed x and dyᵀ of one kernel pass.
const smallWGroupBytes = 1 << 20

var wSmalls32 freeList[wSmall[float32]]
var wSmalls64 freeList[wSmall[float64]]

// useSmallW reports whether the transposed kernel wastes less than the dot
// kernel for BackwardWeights.
func useSmallW(g *geom, kern *kernels, cout int) bool {
	if kern.gemmT == nil {
		return false
	}
	pv := roundUp(g.p, kern.vl)
	effDot := float64(g.ho*g.wo) / float64(pv) * float64(cout) / float64(roundUp(cout, kern.dr))
	effT := float64(cout) / float64(roundUp(cout, kern.nrT)) * float64(g.k) / float64(roundUp(g.k, kern.mrT))
	return effT > effDot+0.1
}

func backwardWeightsSmall[E float32 | float64](p Params, g geom, kern *kernels, dw, db, dy, x []E, beta E) {
	size := unsafe.Sizeof(E(0))
	nrT, mrT := kern.nrT, kern.mrT
	kpad := roundUp(g.k, mrT)
	cpanels := ceilDiv(p.Cout, nrT)
	coutPad := cpanels * nrT
	hw := g.ho * g.wo
	partBytes := kpad * coutPad * int(size)
	minGroup := ceilDiv(minDotPixels, hw)
	nchunks := max(1, min(maxChunks, p.N/minGroup, partsBytes/partBytes))
	chunk := ceilDiv(p.N, nchunks)
	nchunks = ceilDiv(p.N, chunk)
	csplit := 1
	if nchunks < minTasks {
		csplit = min(cpanels, ceilDiv(minTasks, nchunks))
	}
	ximg := roundUp(g.data, 16)
	perImg := (ximg + hw*coutPad/csplit) * int(size)
	group := max(1, min(chunk, smallWGroupBytes/perImg))
	shared := getBuf(alignedBytes(kpad, 4) + alignedBytes(nchunks*partBytes, 1) + alignedBytes(nchunks*coutPad, size))
	tapOff := take[int32](shared, kpad)
	parts := take[E](shared, nchunks*kpad*coutPad)
	dbParts := take[E](shared, nchunks*coutPad)
	g.offsets(tapOff)
	for i := g.k; i < kpad; i++ {
		tapOff[i] = 0
	}
	list := pick[*freeList[wSmall[E]]](&wSmalls32, &wSmalls64)
	t := list.get()
	*t = wSmall[E]{p: p, g: g, kern: kern, chunk: chunk, nchunks: nchunks, csplit: csplit, cpanels: cpanels,
		kpad: kpad, coutPad: coutPad, group: group, ximg: ximg, tapOff: tapOff, parts: parts, dbParts: dbParts,
		dy: dy, x: x, dw: dw, db: db, beta: beta,
		scratch: alignedBytes(group*ximg, size) + alignedBytes(group*hw*coutPad, size) +
			alignedBytes(group*hw, 4) + alignedBytes(mrT*nrT, size)}
	parallel.Run(nchunks*csplit, t)
	t.reduce = true
	parallel.Run(p.Cout, t)
	*t = wSmall[E]{}
	list.put(t)
	putBuf(shared)
}

func (t *wSmall[E]) Do(i int) {
	if t.reduce {
		t.reduceRow(i)
		return
	}
	p, g, kern := &t.p, &t.g, t.kern
	nrT, mrT := kern.nrT, kern.mrT
	ci, s := i/t.csplit, i%t.csplit
	cp0 := s * t.cpanels / t.csplit
	cp1 := (s + 1) * t.cpanels / t.csplit
	part := t.parts[ci*t.kpad*t.coutPad:][:t.kpad*t.coutPad]
	dbp := t.dbParts[ci*t.coutPad:][:t.coutPad]
	for k := 0; k < t.kpad; k++ {
		clear(part[k*t.coutPad+cp0*nrT : k*t.coutPad+cp1*nrT])
	}
	clear(dbp[cp0*nrT : cp1*nrT])
	hw := g.ho * g.wo
	b := getBuf(t.scratch)
	xb := take[E](b, t.group*t.ximg)
	dyT := take[E](b, t.group*hw*t.coutPad)
	offP := take[int32](b, t.group*hw)
	tile := take[E](b, mrT*nrT)
	isz := p.Cin * p.H * p.W
	end := min(p.N, (ci+1)*t.chunk)
	for n0 := ci * t.chunk; n0 < end; n0 += t.group {
		gn := min(t.group, end-n0)
		npos := gn * hw
		for gi := 0; gi < gn; gi++ {
			n := n0 + gi
			pack(g, xb[gi*t.ximg:][:t.ximg], t.x[n*isz:][:isz])
			q := gi * hw
			for oh := 0; oh < g.ho; oh++ {
				for ow := 0; ow < g.wo; ow++ {
					offP[q] = int32(gi*t.ximg + oh*g.wq + ow)
					q++
				}
			}
			// dyᵀ panels: [cp][pixel][nrT]
			img := t.dy[n*p.Cout*hw:][:p.Cout*hw]
			for co := cp0 * nrT; co < cp1*nrT; co++ {
				cp, j := co/nrT, co%nrT
				dst := dyT[(cp*npos+gi*hw)*nrT+j:]
				if co >= p.Cout {
					for q := 0; q < hw; q++ {
						dst[q*nrT] = 0
					}
					continue
				}
				src := img[co*hw : (co+1)*hw]
				for q, v := range src {
					dst[q*nrT] = v
				}
				if t.db != nil {
					dbp[co] += sum(src)
				}
			}
		}
		for cp := cp0; cp < cp1; cp++ {
			bp := unsafe.Pointer(&dyT[cp*npos*nrT])
			for k0 := 0; k0 < t.kpad; k0 += mrT {
				kern.gemmT(npos, bp, unsafe.Pointer(&xb[0]), &offP[0], &t.tapOff[k0], unsafe.Pointer(&tile[0]), nrT)
				for r := 0; r < mrT; r++ {
					dst := part[(k0+r)*t.coutPad+cp*nrT:][:nrT]
					for j, v := range tile[r*nrT : (r+1)*nrT] {
						dst[j] += v
					}
				}
			}
		}
	}
	putBuf(b)
}

func (t *wSmall[E]) reduceRow(co int) {
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
		src := t.parts[c*t.kpad*t.coutPad+co:]
		for i := range dw {
			dw[i] += src[i*t.coutPad]
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
