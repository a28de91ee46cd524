package conv

import (
	"unsafe"

	"repdyn/lib/internal/gemm"
	"repdyn/lib/internal/parallel"
)

// Small output images with many taps (ResNet-18's 8×8 and 4×4 stages: k =
// Cin*KH*KW of 1152 to 4608): the convolution of a group of images is one
// GEMM, weights (Cout×k) times the explicit im2col matrix (k × images*Ho*Wo),
// run by lib/internal/gemm's blocked kernels. Each group is one task on one
// goroutine; the im2col matrix of a group is a few MB, and the GEMM re-packs
// it block by block into L2 as it does for any B.

// colMaxHW and colMinK bound the geometries that take this path (output
// pixels per image, taps); colCols is the number of GEMM columns per group.
var (
	colMaxHW = 0
	colMinK  = 1024
	colCols  = 256
)

// useCols reports whether Forward runs as im2col GEMMs.
func useCols(p Params, hw int) bool {
	return colMaxHW > 0 && hw <= colMaxHW && p.Cin*p.KH*p.KW >= colMinK
}

type colConv[E float32 | float64] struct {
	p              Params
	ho, wo, hw, k  int
	group, ngroups int
	gemmThreads    int
	pa             *gemm.PackedA[E]
	x, y, bias     []E
	beta           E
	scratch        int
}

var (
	colConvs32  freeList[colConv[float32]]
	colConvs64  freeList[colConv[float64]]
	colPacked32 freeList[gemm.PackedA[float32]]
	colPacked64 freeList[gemm.PackedA[float64]]
)

func runColConv[E float32 | float64](p Params, ho, wo int, y, x, w, bias []E, beta E) {
	size := unsafe.Sizeof(E(0))
	pool := pick[*freeList[gemm.PackedA[E]]](&colPacked32, &colPacked64)
	pa := pool.get()
	k := p.Cin * p.KH * p.KW
	pa.Pack(false, p.Cout, k, w, k)
	hw := ho * wo
	group := max(1, min(p.N, colCols/hw))
	ngroups := ceilDiv(p.N, group)
	threads := parallel.Threads()
	list := pick[*freeList[colConv[E]]](&colConvs32, &colConvs64)
	t := list.get()
	*t = colConv[E]{p: p, ho: ho, wo: wo, hw: hw, k: k, group: group, ngroups: ngroups, gemmThreads: 1,
		pa: pa, x: x, y: y, bias: bias, beta: beta,
		scratch: alignedBytes(k*group*hw, size) + alignedBytes(p.Cout*group*hw, size)}
	if ngroups < threads {
		// Too few groups to go round: one at a time, each GEMM on every thread.
		t.gemmThreads = threads
		for i := 0; i < ngroups; i++ {
			t.Do(i)
		}
	} else {
		parallel.Run(ngroups, t)
	}
	*t = colConv[E]{}
	list.put(t)
	pool.put(pa)
}

func (t *colConv[E]) Do(gi int) {
	p := &t.p
	img0 := gi * t.group
	gn := min(t.group, p.N-img0)
	ncol := gn * t.hw
	b := getBuf(t.scratch)
	cols := take[E](b, t.k*t.group*t.hw)[:t.k*ncol]
	c := take[E](b, p.Cout*t.group*t.hw)[:p.Cout*ncol]
	t.im2col(cols, img0, gn, ncol)
	gemm.GemmPackedAThreads(t.pa, false, ncol, 1, cols, ncol, 0, c, ncol, t.gemmThreads)
	// Scatter C (Cout × images*hw) into the NCHW output, adding bias and
	// beta*y.
	for g := 0; g < gn; g++ {
		for co := 0; co < p.Cout; co++ {
			dst := t.y[((img0+g)*p.Cout+co)*t.hw:][:t.hw]
			src := c[co*ncol+g*t.hw:][:t.hw]
			var bv E
			if t.bias != nil {
				bv = t.bias[co]
			}
			switch {
			case t.beta == 0 && bv == 0:
				copy(dst, src)
			case t.beta == 0:
				for j, v := range src {
					dst[j] = v + bv
				}
			default:
				for j, v := range src {
					dst[j] = v + bv + t.beta*dst[j]
				}
			}
		}
	}
	putBuf(b)
}

// im2col writes the k × ncol matrix of the images img0..img0+gn-1: row
// (ci, kh, kw), column (image, oh, ow) holds the input pixel that tap reads
// for that output pixel (0 in the padding).
func (t *colConv[E]) im2col(cols []E, img0, gn, ncol int) {
	p := &t.p
	isz := p.Cin * p.H * p.W
	r := 0
	for ci := 0; ci < p.Cin; ci++ {
		for kh := 0; kh < p.KH; kh++ {
			for kw := 0; kw < p.KW; kw++ {
				row := cols[r*ncol:][:ncol]
				r++
				// Output columns [ow0, ow1) read inside the image.
				off := kw*p.DilationW - p.PadLeft
				ow0 := min(t.wo, max(0, ceilDiv(-off, p.StrideW)))
				ow1 := min(t.wo, ceilDiv(p.W-off, p.StrideW))
				if ow1 < ow0 {
					ow1 = ow0
				}
				for g := 0; g < gn; g++ {
					plane := t.x[(img0+g)*isz+ci*p.H*p.W:][:p.H*p.W]
					for oh := 0; oh < t.ho; oh++ {
						seg := row[(g*t.ho+oh)*t.wo:][:t.wo]
						ih := oh*p.StrideH + kh*p.DilationH - p.PadTop
						if ih < 0 || ih >= p.H {
							clear(seg)
							continue
						}
						clear(seg[:ow0])
						clear(seg[ow1:])
						src := plane[ih*p.W:][:p.W]
						if p.StrideW == 1 {
							copy(seg[ow0:ow1], src[ow0+off:])
							continue
						}
						for ow := ow0; ow < ow1; ow++ {
							seg[ow] = src[ow*p.StrideW+off]
						}
					}
				}
			}
		}
	}
}
