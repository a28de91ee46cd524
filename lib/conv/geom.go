package conv

import "unsafe"

// geom is the implicit-GEMM view of one image of a stride/dilation/padding
// convolution.
//
// The zero-padded input is split into sh*sw phase planes per channel (plane
// (a, b) holds padded rows a, a+sh, ... and columns b, b+sw, ...), each hq×wq.
// Output pixel (oh, ow) is computed at position p = oh*wq + ow, and tap
// (ci, kh, kw) reads the packed input at off[tap] + p: for a fixed tap the
// pixels of a tile are contiguous in memory, so the micro-kernel loads them as
// plain vectors (columns ow >= wo are junk and dropped when the result is
// copied out). With stride 1 there is a single phase: the padded image itself.
type geom struct {
	c, h, w        int // input image
	kh, kw         int
	sh, sw, dh, dw int
	pt, pl         int // top/left padding; negative crops (BackwardData)
	ho, wo         int
	hq, wq, plane  int
	k              int // taps: c*kh*kw
	p              int // computed positions: ho*wq
	na, nb         int // phases used (rows, columns); only those are stored
	data           int // c*na*nb*plane
}

func newGeom(c, h, w, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr int) geom {
	g := geom{c: c, h: h, w: w, kh: kh, kw: kw, sh: sh, sw: sw, dh: dh, dw: dw, pt: pt, pl: pl}
	hp, wp := h+pt+pb, w+pl+pr
	g.ho = (hp-dh*(kh-1)-1)/sh + 1
	g.wo = (wp-dw*(kw-1)-1)/sw + 1
	g.hq = (hp + sh - 1) / sh
	g.wq = (wp + sw - 1) / sw
	g.plane = g.hq * g.wq
	g.k = c * kh * kw
	g.p = g.ho * g.wq
	g.na = phaseRank(sh, sh, dh, kh)
	g.nb = phaseRank(sw, sw, dw, kw)
	g.data = c * g.na * g.nb * g.plane
	return g
}

// xlen is the length of a packed image whose kernels read up to reach
// positions past off[tap].
func (g *geom) xlen(reach int) int { return g.data + reach }

// offsets writes the packed-input offset of every tap (ci, kh, kw).
func (g *geom) offsets(dst []int32) {
	i := 0
	for ci := 0; ci < g.c; ci++ {
		for kh := 0; kh < g.kh; kh++ {
			a, qh := (g.dh*kh)%g.sh, (g.dh*kh)/g.sh
			for kw := 0; kw < g.kw; kw++ {
				b, qw := (g.dw*kw)%g.sw, (g.dw*kw)/g.sw
				ra, rb := phaseRank(a, g.sh, g.dh, g.kh), phaseRank(b, g.sw, g.dw, g.kw)
				dst[i] = int32(((ci*g.na+ra)*g.nb+rb)*g.plane + qh*g.wq + qw)
				i++
			}
		}
	}
}

// phaseUsed reports whether some tap t < k of dilation d reads phase a of
// stride s.
func phaseUsed(a, s, d, k int) bool {
	for t := 0; t < k; t++ {
		if (d*t)%s == a {
			return true
		}
	}
	return false
}

// phaseRank is the number of used phases below a.
func phaseRank(a, s, d, k int) int {
	n := 0
	for i := 0; i < a; i++ {
		if phaseUsed(i, s, d, k) {
			n++
		}
	}
	return n
}

// pack writes the phase planes of one image src (c×h×w) into dst
// (length >= g.data) and zeroes dst[g.data:].
func pack[E float32 | float64](g *geom, dst, src []E) {
	if g.sw > 1 {
		// The strided gathers below stall on cache misses (their stores
		// fill the store buffer): load every line of the image first, with
		// many misses in flight.
		touch(src)
	}
	if g.sh == 1 && g.sw == 1 && packStride1(g, dst, src) {
		clear(dst[g.data:])
		return
	}
	ra := 0
	for a := 0; a < g.sh; a++ {
		if !phaseUsed(a, g.sh, g.dh, g.kh) {
			continue
		}
		if g.sw == 2 && g.nb == 2 {
			for ci := 0; ci < g.c; ci++ {
				p0 := dst[((ci*g.na+ra)*2)*g.plane:][:g.plane]
				p1 := dst[((ci*g.na+ra)*2+1)*g.plane:][:g.plane]
				packPlanePair(g, p0, p1, src[ci*g.h*g.w:][:g.h*g.w], a)
			}
			ra++
			continue
		}
		rb := 0
		for b := 0; b < g.sw; b++ {
			if !phaseUsed(b, g.sw, g.dw, g.kw) {
				continue
			}
			for ci := 0; ci < g.c; ci++ {
				pl := dst[((ci*g.na+ra)*g.nb+rb)*g.plane:][:g.plane]
				packPlane(g, pl, src[ci*g.h*g.w:][:g.h*g.w], a, b)
			}
			rb++
		}
		ra++
	}
	clear(dst[g.data:])
}

// packStride1 packs all the planes of a stride-1 image in one kernel call
// (false if there is none for this geometry).
func packStride1[E float32 | float64](g *geom, dst, src []E) bool {
	// Columns j with iw = j - pl in [0, w) and rows i with ih = i - pt in
	// [0, h) come from the image.
	jlo, jhi := max(0, g.pl), min(g.wq, g.w+g.pl)
	ilo, ihi := max(0, g.pt), min(g.hq, g.h+g.pt)
	if jhi <= jlo || ihi <= ilo {
		return false
	}
	return padPlanes(unsafe.Pointer(&dst[0]), unsafe.Pointer(&src[(ilo-g.pt)*g.w+jlo-g.pl]),
		g.c, g.hq, ilo, ihi, g.wq, jlo, jhi-jlo, g.w, g.h*g.w, unsafe.Sizeof(E(0)))
}

func packPlane[E float32 | float64](g *geom, pl, src []E, a, b int) {
	h, w, wq, sw := g.h, g.w, g.wq, g.sw
	// Columns j with iw = j*sw + o in [0, w) come from the image.
	o := b - g.pl
	jlo := 0
	if o < 0 {
		jlo = (-o + sw - 1) / sw
	}
	jhi := 0
	if w-1-o >= 0 {
		jhi = (w-1-o)/sw + 1
	}
	jlo, jhi = min(jlo, wq), min(jhi, wq)
	if jhi < jlo {
		jhi = jlo
	}
	if sw == 1 && jhi > jlo {
		// Rows i with ih = i*sh + a - pt in [0, h) are consecutive: one
		// kernel call for the plane (a loop of small copies and clears
		// per row cost a tenth of ResNet-20's inference time).
		ilo := max(0, ceilDiv(g.pt-a, g.sh))
		ihi := min(g.hq, ceilDiv(h+g.pt-a, g.sh))
		if ihi > ilo && padPlanes(unsafe.Pointer(&pl[0]), unsafe.Pointer(&src[(ilo*g.sh+a-g.pt)*w+jlo+o]),
			1, g.hq, ilo, ihi, wq, jlo, jhi-jlo, g.sh*w, 0, unsafe.Sizeof(E(0))) {
			return
		}
	}
	for i := 0; i < g.hq; i++ {
		row := pl[i*wq : (i+1)*wq]
		ih := i*g.sh + a - g.pt
		if ih < 0 || ih >= h || jhi == jlo {
			clear(row)
			continue
		}
		srow := src[ih*w : (ih+1)*w]
		for j := 0; j < jlo; j++ {
			row[j] = 0
		}
		switch sw {
		case 1:
			copy(row[jlo:jhi], srow[jlo+o:jhi+o])
		case 2:
			gather2(row[jlo:jhi], srow[jlo*2+o:])
		default:
			for j := jlo; j < jhi; j++ {
				row[j] = srow[j*sw+o]
			}
		}
		for j := jhi; j < wq; j++ {
			row[j] = 0
		}
	}
}

// packPlanePair packs both column phases of a stride-2 plane pair in one
// pass over each source row.
func packPlanePair[E float32 | float64](g *geom, p0, p1, src []E, a int) {
	h, w, wq, pl := g.h, g.w, g.wq, g.pl
	// Phase b takes columns j with 0 <= 2j + b - pl < w.
	var lo, hi [2]int
	for b := 0; b < 2; b++ {
		o := b - pl
		lo[b] = max(0, (-o+1)/2)
		hi[b] = max(lo[b], min(wq, (w-o+1)/2))
	}
	for i := 0; i < g.hq; i++ {
		r0 := p0[i*wq : (i+1)*wq]
		r1 := p1[i*wq : (i+1)*wq]
		ih := i*g.sh + a - g.pt
		if ih < 0 || ih >= h {
			clear(r0)
			clear(r1)
			continue
		}
		srow := src[ih*w : (ih+1)*w]
		for j := 0; j < lo[0]; j++ {
			r0[j] = 0
		}
		for j := hi[0]; j < wq; j++ {
			r0[j] = 0
		}
		for j := 0; j < lo[1]; j++ {
			r1[j] = 0
		}
		for j := hi[1]; j < wq; j++ {
			r1[j] = 0
		}
		// srow[t] goes to phase (t+pl)&1, column (t+pl)>>1.
		var ev, od []E
		if pl&1 == 0 {
			ev, od = r0[pl>>1:], r1[pl>>1:]
		} else {
			ev, od = r1[(pl-1)>>1:], r0[(pl+1)>>1:]
		}
		n := w / 2
		m := 0
		if unsafe.Sizeof(E(0)) == 4 && n >= 8 {
			if deint32(unsafe.Pointer(&srow[0]), unsafe.Pointer(&ev[0]), unsafe.Pointer(&od[0]), n/8) {
				m = n &^ 7
			}
		}
		for ; m+4 <= n; m += 4 {
			s := (*[8]E)(srow[2*m:])
			e := (*[4]E)(ev[m:])
			d := (*[4]E)(od[m:])
			e[0], d[0], e[1], d[1] = s[0], s[1], s[2], s[3]
			e[2], d[2], e[3], d[3] = s[4], s[5], s[6], s[7]
		}
		for ; m < n; m++ {
			ev[m] = srow[2*m]
			od[m] = srow[2*m+1]
		}
		if w&1 == 1 {
			ev[n] = srow[2*n]
		}
	}
}

// unpack copies the computed positions c (rows of ldc, position oh*wq+ow)
// of rows channels into the image dst (rows×ho×wo): dst = c + bias + beta*dst.
func unpack[E float32 | float64](g *geom, dst, c []E, ldc, rows int, bias []E, beta E) {
	ho, wo, wq := g.ho, g.wo, g.wq
	for r := 0; r < rows; r++ {
		var bv E
		if bias != nil {
			bv = bias[r]
		}
		d := dst[r*ho*wo : (r+1)*ho*wo]
		cr := c[r*ldc:]
		for oh := 0; oh < ho; oh++ {
			dr := d[oh*wo : (oh+1)*wo]
			sr := cr[oh*wq : oh*wq+wo]
			switch {
			case beta == 0 && bv == 0:
				copy(dr, sr)
			case beta == 0:
				for j, v := range sr {
					dr[j] = v + bv
				}
			default:
				for j, v := range sr {
					dr[j] = v + bv + beta*dr[j]
				}
			}
		}
	}
}

// gather2 sets dst[j] = src[2*j].
func gather2[E float32 | float64](dst, src []E) {
	n := len(dst)
	j := 0
	for ; j+8 <= n; j += 8 {
		s := (*[15]E)(src[2*j:])
		d := (*[8]E)(dst[j:])
		d[0], d[1], d[2], d[3] = s[0], s[2], s[4], s[6]
		d[4], d[5], d[6], d[7] = s[8], s[10], s[12], s[14]
	}
	for ; j < n; j++ {
		dst[j] = src[2*j]
	}
}

var touchSink float64

// touch loads one element of every 64-byte line of s.
func touch[E float32 | float64](s []E) {
	var z E
	step := 64 / int(unsafe.Sizeof(z))
	var a, b, c, d E
	i := 0
	for ; i+4*step <= len(s); i += 4 * step {
		a += s[i]
		b += s[i+step]
		c += s[i+2*step]
		d += s[i+3*step]
	}
	for ; i < len(s); i += step {
		a += s[i]
	}
	if float64(a+b+c+d) == touchSink+1.5 { // practically never; keeps the loads
		touchSink++
	}
}
