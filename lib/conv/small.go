package conv

import (
	"unsafe"

	"repdyn/lib/internal/parallel"
)

// Small images (e.g. 4×4 or 8×8 with many channels): the pixel-vector
// kernels would waste most lanes on padding columns, so the tile is
// transposed: mrT output pixels (from a table of positions, several images
// per task) × nrT output channels, broadcasting the input pixels and loading
// the packed weights as vectors. The tile is transposed back when stored.

type smallConv[E float32 | float64] struct {
	g                geom
	kern             *kernels
	n, rows, rowsPad int
	cpanels          int
	group, nchunks   int // images per task
	csplit           int // tasks per chunk (groups of channel panels)
	apack            []E // cpanels × k × nrT
	off              []int32
	in, out, bias    []E
	beta             E
	ep               Epilogue
	ximg, npos       int
	scratch          int
}

// smallPositions is the number of output pixels (of several images) a task
// computes per channel panel.
var smallPositions = 256

var smallConvs32 freeList[smallConv[float32]]
var smallConvs64 freeList[smallConv[float64]]

// useSmall reports whether the transposed kernel wastes less than the pixel
// one for this geometry.
func useSmall(g *geom, kern *kernels, rows int) bool {
	if kern.gemmT == nil {
		return false
	}
	effStd := float64(g.ho*g.wo) / float64(ceilDiv(g.p, kern.nr)*kern.nr) *
		float64(rows) / float64(roundUp(rows, kern.mr))
	effT := float64(rows) / float64(roundUp(rows, kern.nrT))
	return effT > effStd+0.1
}

func runSmallConv[E float32 | float64](g geom, kern *kernels, n, rows int, in, out, bias []E, beta E, ep Epilogue,
	fill func(apack []E, mr int)) {
	size := unsafe.Sizeof(E(0))
	nrT, mrT := kern.nrT, kern.mrT
	cpanels := ceilDiv(rows, nrT)
	hw := g.ho * g.wo
	group := max(1, min(n, smallPositions/hw))
	nchunks := ceilDiv(n, group)
	csplit := 1
	if th := parallel.Threads(); nchunks < th {
		csplit = min(cpanels, ceilDiv(th, nchunks))
	}
	shared := getBuf(alignedBytes(cpanels*g.k*nrT, size) + alignedBytes(g.k, 4))
	apack := take[E](shared, cpanels*g.k*nrT)
	off := take[int32](shared, g.k)
	fill(apack, nrT)
	g.offsets(off)
	ximg := roundUp(g.data, 16)
	npos := roundUp(group*hw, mrT)
	rowsPad := cpanels * nrT
	list := pick[*freeList[smallConv[E]]](&smallConvs32, &smallConvs64)
	t := list.get()
	*t = smallConv[E]{g: g, kern: kern, n: n, rows: rows, rowsPad: rowsPad, cpanels: cpanels,
		group: group, nchunks: nchunks, csplit: csplit, apack: apack, off: off,
		in: in, out: out, bias: bias, beta: beta, ep: ep, ximg: ximg, npos: npos,
		scratch: alignedBytes(group*ximg, size) + alignedBytes(npos, 4) + alignedBytes(npos*rowsPad, size)}
	parallel.Run(nchunks*csplit, t)
	*t = smallConv[E]{}
	list.put(t)
	putBuf(shared)
}

func (t *smallConv[E]) Do(i int) {
	g, kern := &t.g, t.kern
	chunk, part := i/t.csplit, i%t.csplit
	cp0 := part * t.cpanels / t.csplit
	cp1 := (part + 1) * t.cpanels / t.csplit
	img0 := chunk * t.group
	gn := min(t.group, t.n-img0)
	b := getBuf(t.scratch)
	xb := take[E](b, t.group*t.ximg)
	pos := take[int32](b, t.npos)
	ct := take[E](b, t.npos*t.rowsPad)
	isz := g.c * g.h * g.w
	q := 0
	for gi := 0; gi < gn; gi++ {
		pack(g, xb[gi*t.ximg:][:t.ximg], t.in[(img0+gi)*isz:][:isz])
		for oh := 0; oh < g.ho; oh++ {
			for ow := 0; ow < g.wo; ow++ {
				pos[q] = int32(gi*t.ximg + oh*g.wq + ow)
				q++
			}
		}
	}
	np := roundUp(q, kern.mrT)
	for ; q < np; q++ {
		pos[q] = pos[0]
	}
	nrT := kern.nrT
	for cp := cp0; cp < cp1; cp++ {
		a := unsafe.Pointer(&t.apack[cp*g.k*nrT])
		for pt := 0; pt < np; pt += kern.mrT {
			kern.gemmT(g.k, a, unsafe.Pointer(&xb[0]), &t.off[0], &pos[pt],
				unsafe.Pointer(&ct[pt*t.rowsPad+cp*nrT]), t.rowsPad)
		}
	}
	hw := g.ho * g.wo
	for gi := 0; gi < gn; gi++ {
		for co := cp0 * nrT; co < min(cp1*nrT, t.rows); co++ {
			dst := t.out[((img0+gi)*t.rows+co)*hw:][:hw]
			src := ct[gi*hw*t.rowsPad+co:]
			var bv E
			if t.bias != nil {
				bv = t.bias[co]
			}
			if t.beta == 0 {
				for j := range dst {
					dst[j] = src[j*t.rowsPad] + bv
				}
			} else {
				for j := range dst {
					dst[j] = src[j*t.rowsPad] + bv + t.beta*dst[j]
				}
			}
		}
		if t.ep != nil {
			t.ep.Apply(img0+gi, cp0*nrT, min(cp1*nrT, t.rows))
		}
	}
	putBuf(b)
}
