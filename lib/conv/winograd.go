package conv

import (
	"unsafe"

	"repdyn/lib/internal/gemm"
	"repdyn/lib/internal/parallel"
)

// Winograd F(2×2, 3×3) for the forward pass and BackwardData of 3×3,
// stride-1, dilation-1, pad-1 convolutions with enough channels (see
// useWinograd): each 2×2 output tile comes from a 4×4 input tile with 16
// multiplications per (input, output) channel pair instead of 36, so 2.25×
// fewer flops. With
//
//	U = G g Gᵀ   (per output and input channel, 4×4)
//	V = Bᵀ d B   (per input channel and tile, 4×4)
//	Y = Aᵀ [Σ_ci U ⊙ V] A
//
// the sum over input channels is, for each of the 16 positions ξ of the 4×4
// transforms, one GEMM U_ξ (Cout×Cin) times V_ξ (Cin×tiles), run by
// lib/internal/gemm. Tasks are groups of whole images; each does its
// transforms and its 16 GEMMs on one goroutine. The results are
// deterministic (fixed order everywhere) and differ from direct convolution
// by round-off only.

// When Forward uses Winograd: the transforms cost memory traffic in
// proportion to (Cin + Cout) × pixels, the GEMMs save in proportion to
// Cin × Cout × pixels, so it pays from some channel count on.
// BenchmarkWinograd holds the measurements (1 and 2 threads, batch 128):
//
//   - with the vector row transforms (float32, AVX-512, images up to 32
//     wide) it wins on every ResNet-18 stage (effective GFLOP/s per thread,
//     Winograd vs direct: 64 channels at 32×32: 153-165 vs 97; 128 at
//     16×16: 159 vs 110; 256 at 8×8: 156-160 vs 106; 512 at 4×4: 123 vs 97)
//     and loses on ResNet-20's (16, 32 and 64 channels at 32×32, 16×16,
//     8×8: 75-95 vs 93-98): it runs from winoVecMinC channels on images of
//     winoVecMinHW pixels or more, and from winoVecMinCLarge channels on
//     images of winoVecLargeHW pixels or more;
//   - with the whole-plane transforms of 8×8 and 16×16 images it wins
//     from winoPlaneMinC channels on (1 thread, effective GFLOP/s,
//     Winograd vs direct; 8×8: 8 channels 49 vs 69; 16: 126 vs 73; 32: 167
//     vs 82; 64 (ResNet-20's last stage): 185-192 vs 104; 256 (ResNet-18's
//     third): 197-214 vs 107; 16×16: 8 channels 73 vs 82; 16: 111 vs 94;
//     32 (ResNet-20's middle stage): 131 vs 92; 64: 181 vs 104; 128
//     (ResNet-18's second): 202 vs 108);
//   - with the scalar Go transforms it only pays from winoMinC channels on
//     images of winoMinHW pixels or more.
//
// winoTiles is the number of tiles per task (GEMM columns).
var (
	winoMinC         = 256
	winoMinHW        = 64
	winoVecMinC      = 128
	winoVecMinHW     = 16
	winoVecMinCLarge = 64
	winoVecLargeHW   = 1024
	winoPlaneMinC    = 16
	winoTiles        = 128
)

// useWinograd reports whether Forward runs p with Winograd, for elements
// of size bytes.
func useWinograd(p Params, size uintptr) bool {
	if winoMinC <= 0 || p.KH != 3 || p.KW != 3 || p.StrideH != 1 || p.StrideW != 1 ||
		p.DilationH != 1 || p.DilationW != 1 ||
		p.PadTop != 1 || p.PadBottom != 1 || p.PadLeft != 1 || p.PadRight != 1 {
		return false
	}
	c, hw := min(p.Cin, p.Cout), p.H*p.W
	if winoPlane(p, size) && c >= winoPlaneMinC {
		return true
	}
	if winoVec(p, size) && (c >= winoVecMinC && hw >= winoVecMinHW || c >= winoVecMinCLarge && hw >= winoVecLargeHW) {
		return true
	}
	return c >= winoMinC && hw >= winoMinHW
}

// winoVec reports whether the vector row transforms run for p.
func winoVec(p Params, size uintptr) bool {
	return !winoScalar && winoRowKernels() && size == 4 && (p.W+1)/2 <= 16
}

// winoPlane reports whether the whole-plane transforms run for p: 8×8 or
// 16×16 images, 16 tiles in the 16 lanes of every call (no row loop, no
// empty lane).
func winoPlane(p Params, size uintptr) bool {
	return winoVec(p, size) && p.H == p.W && (p.W == 8 || p.W == 16)
}

// winoNR is the GEMM's column panel width for E.
func winoNR[E float32 | float64]() int {
	_, nr := gemm.Tile[E]()
	return nr
}

// winoScalar forces the scalar transforms (tests compare the two).
var winoScalar = false

type winoConv[E float32 | float64] struct {
	p              Params
	th, tw, perImg int // tiles per image: th×tw
	group, ngroups int // images per task
	gemmThreads    int
	pa             *[16]gemm.PackedA[E]
	x, y, bias     []E
	beta           E
	ep             Epilogue
	scratch        int
}

var (
	winoConvs32  freeList[winoConv[float32]]
	winoConvs64  freeList[winoConv[float64]]
	winoPacked32 freeList[[16]gemm.PackedA[float32]]
	winoPacked64 freeList[[16]gemm.PackedA[float64]]
)

func runWinograd[E float32 | float64](p Params, y, x, w, bias []E, beta E, ep Epilogue) {
	size := unsafe.Sizeof(E(0))
	pool := pick[*freeList[[16]gemm.PackedA[E]]](&winoPacked32, &winoPacked64)
	pa := pool.get()
	// U = G g Gᵀ for every (co, ci), stored as 16 matrices Cout×Cin, then
	// packed: both on the worker pool (for ResNet-18 this is 11M weights
	// per forward pass).
	cc := p.Cout * p.Cin
	ub := getBuf(alignedBytes(16*cc, size))
	u := take[E](ub, 16*cc)
	wl := pick[*freeList[winoWeights[E]]](&winoWeights32, &winoWeights64)
	wt := wl.get()
	*wt = winoWeights[E]{w: w, u: u, cc: cc, chunk: max(256, ceilDiv(cc, 4*parallel.Threads()))}
	parallel.Run(ceilDiv(cc, wt.chunk), wt)
	wt.pack, wt.pa, wt.cout, wt.cin = true, pa, p.Cout, p.Cin
	parallel.Run(16, wt)
	*wt = winoWeights[E]{}
	wl.put(wt)
	putBuf(ub)

	th, tw := (p.H+1)/2, (p.W+1)/2
	perImg := th * tw
	group := max(1, min(p.N, winoTiles/perImg))
	ngroups := ceilDiv(p.N, group)
	nt := group * perImg
	list := pick[*freeList[winoConv[E]]](&winoConvs32, &winoConvs64)
	t := list.get()
	*t = winoConv[E]{p: p, th: th, tw: tw, perImg: perImg, group: group, ngroups: ngroups, gemmThreads: 1,
		pa: pa, x: x, y: y, bias: bias, beta: beta, ep: ep,
		scratch: alignedBytes(16*p.Cin*roundUp(nt, winoNR[E]()), size) + alignedBytes(16*p.Cout*nt, size) + alignedBytes(8*(2*tw+2)+12*tw, size) +
			alignedBytes((2*th+2)*2*winoLd, size)}
	if threads := parallel.Threads(); ngroups < threads {
		t.gemmThreads = threads
		for i := 0; i < ngroups; i++ {
			t.Do(i)
		}
	} else {
		parallel.Run(ngroups, t)
	}
	*t = winoConv[E]{}
	list.put(t)
	pool.put(pa)
}

// winoWeights computes the weight transform U (items: chunks of chunk
// (co, ci) pairs), then, with pack set, packs U_ξ (items: ξ).
type winoWeights[E float32 | float64] struct {
	w, u      []E
	cc, chunk int
	pack      bool
	pa        *[16]gemm.PackedA[E]
	cout, cin int
}

var (
	winoWeights32 freeList[winoWeights[float32]]
	winoWeights64 freeList[winoWeights[float64]]
)

func (t *winoWeights[E]) Do(item int) {
	cc, u := t.cc, t.u
	if t.pack {
		t.pa[item].Pack(false, t.cout, t.cin, u[item*cc:(item+1)*cc], t.cin)
		return
	}
	for i := item * t.chunk; i < min(cc, (item+1)*t.chunk); i++ {
		g := (*[9]E)(t.w[i*9:])
		var m [4][3]E // G g
		for c := 0; c < 3; c++ {
			g0, g1, g2 := g[c], g[3+c], g[6+c]
			m[0][c] = g0
			m[1][c] = (g0 + g1 + g2) / 2
			m[2][c] = (g0 - g1 + g2) / 2
			m[3][c] = g2
		}
		for r := 0; r < 4; r++ {
			g0, g1, g2 := m[r][0], m[r][1], m[r][2]
			u[(r*4+0)*cc+i] = g0
			u[(r*4+1)*cc+i] = (g0 + g1 + g2) / 2
			u[(r*4+2)*cc+i] = (g0 - g1 + g2) / 2
			u[(r*4+3)*cc+i] = g2
		}
	}
}

func (t *winoConv[E]) Do(gi int) {
	p := &t.p
	img0 := gi * t.group
	gn := min(t.group, p.N-img0)
	nt := gn * t.perImg
	b := getBuf(t.scratch)
	nr := winoNR[E]()
	ncp := roundUp(nt, nr)
	v := take[E](b, 16*p.Cin*roundUp(t.group*t.perImg, nr))
	m := take[E](b, 16*p.Cout*t.group*t.perImg)[:16*p.Cout*nt]
	rows := take[E](b, 8*(2*t.tw+2)+12*t.tw)
	eo := take[E](b, (2*t.th+2)*2*winoLd)
	vec := winoVec(*p, unsafe.Sizeof(E(0)))
	plane := winoPlane(*p, unsafe.Sizeof(E(0)))
	// With the vector transforms on one goroutine, V_ξ is written straight
	// in the GEMM's packed-B layout (a row of tiles, or the 16 tiles of a
	// whole-plane call, never straddles an NR-column panel when their count
	// divides NR): no packing pass.
	if vec && t.gemmThreads == 1 && nr%t.tw == 0 && (!plane || nr%16 == 0) {
		if plane {
			t.inputTransformPlane(asE[float32](v), img0, gn, nt, ncp)
		} else {
			t.inputTransformVec(asE[float32](v), img0, gn, nt, asE[float32](eo), ncp)
		}
		for e := 0; e < 16; e++ {
			pa := &t.pa[e]
			ve := v[e*p.Cin*ncp:][:p.Cin*ncp]
			me := m[e*p.Cout*nt:][:p.Cout*nt]
			for blk := 0; blk < pa.KBlocks(); blk++ {
				k0, kc := pa.KBlock(blk)
				beta := E(1)
				if blk == 0 {
					beta = 0
				}
				gemm.MacroKernel(pa, blk, 0, p.Cout, ve[k0*ncp:][:kc*ncp], nt, 1, beta, me, nt)
			}
		}
	} else {
		v = v[:16*p.Cin*nt]
		if plane {
			t.inputTransformPlane(asE[float32](v), img0, gn, nt, 0)
		} else if vec {
			t.inputTransformVec(asE[float32](v), img0, gn, nt, asE[float32](eo), 0)
		} else {
			t.inputTransform(v, img0, gn, nt, rows)
		}
		for e := 0; e < 16; e++ {
			gemm.GemmPackedAThreads(&t.pa[e], false, nt, 1, v[e*p.Cin*nt:(e+1)*p.Cin*nt], nt,
				0, m[e*p.Cout*nt:(e+1)*p.Cout*nt], nt, t.gemmThreads)
		}
	}
	if plane && t.beta == 0 {
		t.outputTransformPlane(asE[float32](m), img0, gn, nt)
	} else if vec {
		t.outputTransformVec(asE[float32](m), img0, gn, nt, asE[float32](rows))
	} else {
		t.outputTransform(m, img0, gn, nt, rows)
	}
	putBuf(b)
	if t.ep != nil {
		for g := 0; g < gn; g++ {
			t.ep.Apply(img0+g, 0, p.Cout)
		}
	}
}

// inputTransform writes V_ξ[ci][tile] = (Bᵀ d B)_ξ for the 4×4 input tile d
// of every tile (zero outside the image). Per row of tiles it copies the four
// input rows into zero-padded buffers, applies Bᵀ to whole rows (columns are
// shared by neighbouring tiles), then B to each tile.
func (t *winoConv[E]) inputTransform(v []E, img0, gn, nt int, buf []E) {
	p := &t.p
	hw := p.H * p.W
	stride := p.Cin * nt // between the planes ξ
	wp := 2*t.tw + 2     // padded row: one zero on the left, up to two on the right
	var rows [4][]E
	var sr [4][]E
	for r := range rows {
		rows[r] = buf[r*wp : (r+1)*wp]
		sr[r] = buf[(4+r)*wp : (5+r)*wp]
	}
	for g := 0; g < gn; g++ {
		for ci := 0; ci < p.Cin; ci++ {
			plane := t.x[((img0+g)*p.Cin+ci)*hw:][:hw]
			out := v[ci*nt+g*t.perImg:]
			for ty := 0; ty < t.th; ty++ {
				for r := 0; r < 4; r++ {
					clear(rows[r])
					if ih := 2*ty - 1 + r; ih >= 0 && ih < p.H {
						copy(rows[r][1:], plane[ih*p.W:(ih+1)*p.W])
					}
				}
				d0, d1, d2, d3 := rows[0], rows[1][:len(rows[0])], rows[2][:len(rows[0])], rows[3][:len(rows[0])]
				s0, s1, s2, s3 := sr[0][:len(d0)], sr[1][:len(d0)], sr[2][:len(d0)], sr[3][:len(d0)]
				for j := range d0 {
					s0[j] = d0[j] - d2[j]
					s1[j] = d1[j] + d2[j]
					s2[j] = d2[j] - d1[j]
					s3[j] = d1[j] - d3[j]
				}
				base := ty * t.tw
				for k, sk := range sr {
					o := out[k*4*stride+base:]
					o0, o1, o2, o3 := o[:t.tw], o[stride:][:t.tw], o[2*stride:][:t.tw], o[3*stride:][:t.tw]
					for tx := range o0 {
						a, b, c, d := sk[2*tx], sk[2*tx+1], sk[2*tx+2], sk[2*tx+3]
						o0[tx] = a - c
						o1[tx] = b + c
						o2[tx] = c - b
						o3[tx] = b - d
					}
				}
			}
		}
	}
}

// winoLd is the length of the even and odd halves of a deinterleaved input
// row for the vector transforms (tw+1 <= 17 values, vector loads at +1).
const winoLd = 32

// inputTransformVec is inputTransform with the vector row kernel
// (winograd_amd64.s; float32, tw <= 16): each input row is split once into
// its odd and even columns, E[t] = x[2t-1] and O[t] = x[2t] (zero outside),
// so that the four columns of tile t are E[t], O[t], E[t+1], O[t+1] and a
// row of tiles is a few vector operations. Same operations in the same
// order as inputTransform: bit-identical results.
//
// With ncp > 0, V_ξ is written in the packed-B layout of lib/internal/gemm
// for nt columns padded to ncp (see packedAt).
func (t *winoConv[E]) inputTransformVec(v []float32, img0, gn, nt int, eo []float32, ncp int) {
	p := &t.p
	hw := p.H * p.W
	x := asE[float32](t.x)
	stride := p.Cin * nt * 4 // bytes between the planes ξ
	if ncp > 0 {
		stride = p.Cin * ncp * 4
	}
	nrows := 2*t.th + 2 // input rows -1 .. 2*th
	for g := 0; g < gn; g++ {
		for ci := 0; ci < p.Cin; ci++ {
			plane := x[((img0+g)*p.Cin+ci)*hw:][:hw]
			for ri := 0; ri < nrows; ri++ {
				e := eo[ri*2*winoLd:][:t.tw+1]
				o := eo[ri*2*winoLd+winoLd:][:t.tw+1]
				ih := ri - 1
				if ih < 0 || ih >= p.H {
					clear(e)
					clear(o)
					continue
				}
				row := plane[ih*p.W : (ih+1)*p.W]
				e[0] = 0
				half := p.W / 2 // O[t] = row[2t], E[t+1] = row[2t+1] for t < half
				if p.W%16 != 0 || !deint32(unsafe.Pointer(&row[0]), unsafe.Pointer(&o[0]), unsafe.Pointer(&e[1]), p.W/16) {
					o, e := o[:half], e[1:half+1]
					for j := range o {
						o[j] = row[2*j]
						e[j] = row[2*j+1]
					}
				}
				if p.W%2 == 1 { // the last column is even: O[half] = row[W-1]
					o[half] = row[p.W-1]
				} else {
					o[half] = 0
				}
				for j := half + 1; j < len(o); j++ {
					o[j], e[j] = 0, 0
				}
			}
			if ncp > 0 {
				for ty := 0; ty < t.th; ty++ {
					o := t.packedAt(ci, g*t.perImg+ty*t.tw, ncp)
					winoInF32AVX512(unsafe.Pointer(&eo[2*ty*2*winoLd]), winoLd, t.tw, unsafe.Pointer(&v[o]), stride)
				}
				continue
			}
			out := v[ci*nt+g*t.perImg:]
			for ty := 0; ty < t.th; ty++ {
				winoInF32AVX512(unsafe.Pointer(&eo[2*ty*2*winoLd]), winoLd, t.tw, unsafe.Pointer(&out[ty*t.tw]), stride)
			}
		}
	}
}

// packedAt is where V_ξ[ci][tile] lies in the packed-B layout of
// lib/internal/gemm for ncp columns (relative to V_ξ's start): k block by k
// block (the blocking of t.pa), NR-column panels of kc rows each.
func (t *winoConv[E]) packedAt(ci, tile, ncp int) int {
	nr := winoNR[E]()
	k0, kc := t.pa[0].KBlock(ci / t.pa[0].KBlockLen())
	return k0*ncp + (ci-k0)*nr + tile/nr*kc*nr + tile%nr
}

// inputTransformPlane is inputTransform for 8×8 and 16×16 images with the
// whole-plane kernels (winoIn8F32AVX512, winoIn16F32AVX512; float32),
// bit-identical to it: each call fills the 16 lanes with 16 tiles (a
// whole 8×8 plane, or two tile rows of a 16×16 one). ncp > 0: V_ξ in the
// packed-B layout, as inputTransformVec writes it.
func (t *winoConv[E]) inputTransformPlane(v []float32, img0, gn, nt, ncp int) {
	p := &t.p
	x := asE[float32](t.x)
	hw := p.H * p.W
	stride := p.Cin * nt * 4 // bytes between the planes ξ
	if ncp > 0 {
		stride = p.Cin * ncp * 4
	}
	for g := 0; g < gn; g++ {
		for ci := 0; ci < p.Cin; ci++ {
			src := unsafe.Pointer(&x[((img0+g)*p.Cin+ci)*hw])
			for part := 0; part < t.perImg/16; part++ {
				tile := g*t.perImg + 16*part
				o := ci*nt + tile
				if ncp > 0 {
					o = t.packedAt(ci, tile, ncp)
				}
				if p.W == 8 {
					winoIn8F32AVX512(src, unsafe.Pointer(&v[o]), stride)
				} else {
					winoIn16F32AVX512(src, part, unsafe.Pointer(&v[o]), stride)
				}
			}
		}
	}
}

// outputTransformPlane is outputTransform for 8×8 and 16×16 images with
// the whole-plane kernels (float32, beta == 0), bit-identical to it.
func (t *winoConv[E]) outputTransformPlane(m []float32, img0, gn, nt int) {
	p := &t.p
	y := asE[float32](t.y)
	hw := p.H * p.W
	stride := p.Cout * nt * 4
	for g := 0; g < gn; g++ {
		for co := 0; co < p.Cout; co++ {
			var bv float32
			if t.bias != nil {
				bv = float32(t.bias[co])
			}
			plane := y[((img0+g)*p.Cout+co)*hw:][:hw]
			src := m[co*nt+g*t.perImg:]
			if p.W == 8 {
				winoOut8F32AVX512(unsafe.Pointer(&src[0]), stride, bv, unsafe.Pointer(&plane[0]))
				continue
			}
			for part := 0; part < 4; part++ { // the 4 output rows of 2 tile rows
				winoOut16F32AVX512(unsafe.Pointer(&src[16*part]), stride, bv, unsafe.Pointer(&plane[64*part]))
			}
		}
	}
}

// outputTransformVec is outputTransform with the vector row kernel
// (float32, tw <= 16), bit-identical to it. With beta != 0 the rows go
// through buf (2*W values) and are accumulated as storeRow does.
func (t *winoConv[E]) outputTransformVec(m []float32, img0, gn, nt int, buf []float32) {
	p := &t.p
	hw := p.H * p.W
	y := asE[float32](t.y)
	stride := p.Cout * nt * 4
	for g := 0; g < gn; g++ {
		for co := 0; co < p.Cout; co++ {
			plane := y[((img0+g)*p.Cout+co)*hw:][:hw]
			in := m[co*nt+g*t.perImg:]
			var bv float32
			if t.bias != nil {
				bv = float32(t.bias[co])
			}
			for ty := 0; ty < t.th; ty++ {
				two := 0
				if 2*ty+1 < p.H {
					two = 1
				}
				dst := plane[2*ty*p.W:]
				if t.beta != 0 {
					dst = buf[:2*p.W]
				}
				winoOutF32AVX512(unsafe.Pointer(&in[ty*t.tw]), stride, t.tw, bv, unsafe.Pointer(&dst[0]), 4*p.W, p.W, two)
				if t.beta != 0 {
					oh := 2 * ty
					t.storeRow(asE[E](plane[oh*p.W:(oh+1)*p.W]), asE[E](dst[:p.W]))
					if two != 0 {
						t.storeRow(asE[E](plane[(oh+1)*p.W:(oh+2)*p.W]), asE[E](dst[p.W:2*p.W]))
					}
				}
			}
		}
	}
}

// outputTransform writes the 2×2 output tiles Aᵀ M A (+ bias + beta*y).
func (t *winoConv[E]) outputTransform(m []E, img0, gn, nt int, buf []E) {
	p := &t.p
	hw := p.H * p.W
	stride := p.Cout * nt
	tw := t.tw
	// One row of tiles: M A for each of the 4 rows of the transform (2 columns
	// per tile), then Aᵀ down the rows, into two padded output rows.
	var q [4][]E
	for r := range q {
		q[r] = buf[r*2*tw : (r+1)*2*tw]
	}
	y0, y1 := buf[8*tw:10*tw], buf[10*tw:12*tw]
	for g := 0; g < gn; g++ {
		for co := 0; co < p.Cout; co++ {
			plane := t.y[((img0+g)*p.Cout+co)*hw:][:hw]
			in := m[co*nt+g*t.perImg:]
			var bv E
			if t.bias != nil {
				bv = t.bias[co]
			}
			for ty := 0; ty < t.th; ty++ {
				base := ty * tw
				for r, qr := range q {
					i := in[r*4*stride+base:]
					m0, m1, m2, m3 := i[:tw], i[stride:][:tw], i[2*stride:][:tw], i[3*stride:][:tw]
					qr = qr[:2*tw]
					for tx := range m0 {
						qr[2*tx] = m0[tx] + m1[tx] + m2[tx]
						qr[2*tx+1] = m1[tx] - m2[tx] - m3[tx]
					}
				}
				q0, q1, q2, q3 := q[0], q[1][:len(q[0])], q[2][:len(q[0])], q[3][:len(q[0])]
				y0, y1 := y0[:len(q0)], y1[:len(q0)]
				for j := range q0 {
					y0[j] = q0[j] + q1[j] + q2[j] + bv
					y1[j] = q1[j] - q2[j] - q3[j] + bv
				}
				oh := 2 * ty
				t.storeRow(plane[oh*p.W:(oh+1)*p.W], y0)
				if oh+1 < p.H {
					t.storeRow(plane[(oh+1)*p.W:(oh+2)*p.W], y1)
				}
			}
		}
	}
}

// storeRow writes (or, with beta, accumulates into) one output row.
func (t *winoConv[E]) storeRow(dst, src []E) {
	src = src[:len(dst)]
	if t.beta == 0 {
		copy(dst, src)
		return
	}
	for i, v := range src {
		dst[i] = v + t.beta*dst[i]
	}
}
