package conv

import (
	"unsafe"

	"repdyn/lib/internal/parallel"
)

// BackwardData at stride > 1 by phase decomposition: the rows ih of dx with
// (ih + PadTop) mod StrideH = ρh only receive the taps kh with
// (kh*DilationH) mod StrideH = ρh, and for those
//
//	dx[ci][u*sh + ρh - pt][v*sw + ρw - pl] =
//	    Σ_{co, kh, kw} w[co][ci][kh][kw] · dy[co][u - qh(kh)][v - qw(kw)],  q(k) = (k*d) div s,
//
// a stride-1 correlation of dy with a sub-kernel. Each of the sh*sw phases is
// one implicit GEMM over a zero-padded copy of dy (shared by all phases),
// whose result is stored into dx with stride s: no col2im.

const maxPhases = 16

type phaseInfo struct {
	k          int // taps (co, kh, kw) of this phase
	aoff, ooff int // start of its A panels and offsets in the shared arrays
	rh, rw     int // ρh, ρw
	uLo, nU    int // output rows u in [uLo, uLo+nU)
	vLo, nV    int
	ntile      int
}

type phaseTask[E float32 | float64] struct {
	p      Params
	kern   *kernels
	g      geom // packing of one dy image (1x1 geometry with padding)
	ph     [maxPhases]phaseInfo
	nph    int
	mtiles int
	apack  []E
	off    []int32
	dx, dy []E
	beta   E
	reach  int
	cbLen  int
	empty  bool // some phase has no taps
}

var phaseTasks32 freeList[phaseTask[float32]]
var phaseTasks64 freeList[phaseTask[float64]]

// phaseRange returns the u range [lo, hi) of a phase: ih = u*s + r - pad in [0, n).
func phaseRange(r, s, pad, n int) (lo, hi int) {
	lo = 0
	if pad-r > 0 {
		lo = (pad - r + s - 1) / s
	}
	hi = 0
	if n-1+pad-r >= 0 {
		hi = (n-1+pad-r)/s + 1
	}
	return lo, max(lo, hi)
}

// backwardDataPhases returns false if the shape is not handled (too many
// phases).
func backwardDataPhases[E float32 | float64](p Params, dx, dy, w []E, beta E) bool {
	sh, sw, dh, dw := p.StrideH, p.StrideW, p.DilationH, p.DilationW
	if sh*sw > maxPhases {
		return false
	}
	kern := kernelsFor(unsafe.Sizeof(E(0)))
	size := unsafe.Sizeof(E(0))
	_, _, ho, wo := p.OutputShape()
	mr, nr := kern.mr, kern.nr
	mtiles := ceilDiv(p.Cin, mr)
	// Padding of the dy copy: top/left by the largest q, bottom/right so
	// that every phase's rows and columns exist.
	ph := ((p.KH - 1) * dh) / sh
	pw := ((p.KW - 1) * dw) / sw
	maxU, maxV := 0, 0
	var info [maxPhases]phaseInfo
	nph, ktot := 0, 0
	for rh := 0; rh < sh; rh++ {
		for rw := 0; rw < sw; rw++ {
			k := 0
			for kh := 0; kh < p.KH; kh++ {
				for kw := 0; kw < p.KW; kw++ {
					if (kh*dh)%sh == rh && (kw*dw)%sw == rw {
						k++
					}
				}
			}
			uLo, uHi := phaseRange(rh, sh, p.PadTop, p.H)
			vLo, vHi := phaseRange(rw, sw, p.PadLeft, p.W)
			maxU, maxV = max(maxU, uHi), max(maxV, vHi)
			info[nph] = phaseInfo{k: k * p.Cout, rh: rh, rw: rw, uLo: uLo, nU: uHi - uLo, vLo: vLo, nV: vHi - vLo}
			ktot += k * p.Cout
			nph++
		}
	}
	g := newGeom(p.Cout, ho, wo, 1, 1, 1, 1, 1, 1, ph, max(0, maxU-ho)+1, pw, max(0, maxV-wo))
	reach, cbLen := 0, 0
	for i := range info[:nph] {
		in := &info[i]
		in.ntile = ceilDiv(in.nU*g.wq, nr)
		reach = max(reach, in.ntile*nr)
		cbLen = max(cbLen, mtiles*mr*in.ntile*nr)
	}
	shared := getBuf(alignedBytes(mtiles*ktot*mr, size) + alignedBytes(ktot, 4))
	apack := take[E](shared, mtiles*ktot*mr)
	off := take[int32](shared, ktot)
	khw := p.KH * p.KW
	aoff, ooff := 0, 0
	for i := range info[:nph] {
		in := &info[i]
		in.aoff, in.ooff = aoff, ooff
		j := 0
		for co := 0; co < p.Cout; co++ {
			for kh := 0; kh < p.KH; kh++ {
				if (kh*dh)%sh != in.rh {
					continue
				}
				qh := (kh * dh) / sh
				for kw := 0; kw < p.KW; kw++ {
					if (kw*dw)%sw != in.rw {
						continue
					}
					qw := (kw * dw) / sw
					off[ooff+j] = int32(co*g.plane + (in.uLo-qh+ph)*g.wq + in.vLo - qw + pw)
					for ci := 0; ci < mtiles*mr; ci++ {
						var v E
						if ci < p.Cin {
							v = w[(co*p.Cin+ci)*khw+kh*p.KW+kw]
						}
						apack[aoff+((ci/mr)*in.k+j)*mr+ci%mr] = v
					}
					j++
				}
			}
		}
		aoff += mtiles * in.k * mr
		ooff += in.k
	}
	list := pick[*freeList[phaseTask[E]]](&phaseTasks32, &phaseTasks64)
	t := list.get()
	*t = phaseTask[E]{p: p, kern: kern, g: g, ph: info, nph: nph, mtiles: mtiles, apack: apack, off: off,
		dx: dx, dy: dy, beta: beta, reach: reach, cbLen: cbLen}
	for i := range info[:nph] {
		if info[i].k == 0 {
			t.empty = true
		}
	}
	parallel.Run(p.N, t)
	*t = phaseTask[E]{}
	list.put(t)
	putBuf(shared)
	return true
}

func (t *phaseTask[E]) Do(n int) {
	p, g, kern := &t.p, &t.g, t.kern
	size := unsafe.Sizeof(E(0))
	b := getBuf(alignedBytes(g.xlen(t.reach), size) + alignedBytes(t.nph*t.cbLen, size))
	xb := take[E](b, g.xlen(t.reach))
	cb := take[E](b, t.nph*t.cbLen)
	pack(g, xb, t.dy[n*g.c*g.h*g.w:][:g.c*g.h*g.w])
	hw := p.H * p.W
	dx := t.dx[n*p.Cin*hw:][:p.Cin*hw]
	mr, nr, vl := kern.mr, kern.nr, kern.vl
	for i := range t.ph[:t.nph] {
		in := &t.ph[i]
		if in.nU == 0 || in.nV == 0 || in.k == 0 {
			continue
		}
		ldc := in.ntile * nr
		for mt := 0; mt < t.mtiles; mt++ {
			kern.gemm(in.k, unsafe.Pointer(&t.apack[in.aoff+mt*in.k*mr]), unsafe.Pointer(&xb[0]),
				&t.off[in.ooff], unsafe.Pointer(&cb[i*t.cbLen+mt*mr*ldc]), ldc, in.ntile, nr, vl, nr, vl)
		}
	}
	// Write dx row by row (all column phases of a row together, so that each
	// line of dx is fetched once).
	sh, sw := p.StrideH, p.StrideW
	if t.beta == 0 && t.empty {
		clear(dx)
	}
	for ci := 0; ci < p.Cin; ci++ {
		img := dx[ci*hw : (ci+1)*hw]
		for ih := 0; ih < p.H; ih++ {
			drow := img[ih*p.W : (ih+1)*p.W]
			rh := (ih + p.PadTop) % sh
			uu := (ih + p.PadTop) / sh
			for rw := 0; rw < sw; rw++ {
				i := rh*sw + rw
				in := &t.ph[i]
				if in.nV == 0 {
					continue
				}
				iw0 := in.vLo*sw + rw - p.PadLeft
				if in.k == 0 {
					if t.beta != 0 { // with beta == 0 the image was cleared
						for j := 0; j < in.nV; j++ {
							drow[iw0+j*sw] *= t.beta
						}
					}
					continue
				}
				ldc := in.ntile * nr
				u := uu - in.uLo
				src := cb[i*t.cbLen+ci*ldc+u*g.wq:][:in.nV]
				if t.beta == 0 {
					if sw == 2 {
						d := drow[iw0:]
						for j, v := range src {
							d[2*j] = v
						}
					} else {
						for j, v := range src {
							drow[iw0+j*sw] = v
						}
					}
				} else {
					for j, v := range src {
						drow[iw0+j*sw] = v + t.beta*drow[iw0+j*sw]
					}
				}
			}
		}
	}
	putBuf(b)
}
