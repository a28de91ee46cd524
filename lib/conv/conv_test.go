package conv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"repdyn/lib/internal/cpu"
	"repdyn/lib/internal/parallel"
)

// naive* are the 7-loop references in float64.

func naiveForward(p Params, x, w, bias []float64) []float64 {
	n, co, ho, wo := p.OutputShape()
	y := make([]float64, n*co*ho*wo)
	for b := 0; b < n; b++ {
		for o := 0; o < co; o++ {
			for oh := 0; oh < ho; oh++ {
				for ow := 0; ow < wo; ow++ {
					s := 0.0
					if bias != nil {
						s = bias[o]
					}
					for ci := 0; ci < p.Cin; ci++ {
						for kh := 0; kh < p.KH; kh++ {
							ih := oh*p.StrideH + kh*p.DilationH - p.PadTop
							if ih < 0 || ih >= p.H {
								continue
							}
							for kw := 0; kw < p.KW; kw++ {
								iw := ow*p.StrideW + kw*p.DilationW - p.PadLeft
								if iw < 0 || iw >= p.W {
									continue
								}
								s += w[((o*p.Cin+ci)*p.KH+kh)*p.KW+kw] * x[((b*p.Cin+ci)*p.H+ih)*p.W+iw]
							}
						}
					}
					y[((b*co+o)*ho+oh)*wo+ow] = s
				}
			}
		}
	}
	return y
}

// naiveBackward returns dx and dw (and db) by the same loops.
func naiveBackward(p Params, x, w, dy []float64) (dx, dw, db []float64) {
	n, co, ho, wo := p.OutputShape()
	dx = make([]float64, len(x))
	dw = make([]float64, len(w))
	db = make([]float64, co)
	for b := 0; b < n; b++ {
		for o := 0; o < co; o++ {
			for oh := 0; oh < ho; oh++ {
				for ow := 0; ow < wo; ow++ {
					g := dy[((b*co+o)*ho+oh)*wo+ow]
					db[o] += g
					for ci := 0; ci < p.Cin; ci++ {
						for kh := 0; kh < p.KH; kh++ {
							ih := oh*p.StrideH + kh*p.DilationH - p.PadTop
							if ih < 0 || ih >= p.H {
								continue
							}
							for kw := 0; kw < p.KW; kw++ {
								iw := ow*p.StrideW + kw*p.DilationW - p.PadLeft
								if iw < 0 || iw >= p.W {
									continue
								}
								wi := ((o*p.Cin+ci)*p.KH+kh)*p.KW + kw
								xi := ((b*p.Cin+ci)*p.H+ih)*p.W + iw
								dx[xi] += w[wi] * g
								dw[wi] += x[xi] * g
							}
						}
					}
				}
			}
		}
	}
	return
}

func randSlice(r *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = r.Float64()*2 - 1
	}
	return s
}

func absSlice(s []float64) []float64 {
	a := make([]float64, len(s))
	for i, v := range s {
		a[i] = math.Abs(v)
	}
	return a
}

func conv64to[T Float](s []float64) []T {
	d := make([]T, len(s))
	for i, v := range s {
		d[i] = T(v)
	}
	return d
}

// testShapes covers kernel sizes, strides, paddings (also asymmetric),
// dilations, odd sizes and the channel counts of the fast paths.
func testShapes(short bool) []Params {
	ps := []Params{
		New(2, 16, 8, 8, 16, 3, 1, 1),
		New(2, 16, 16, 16, 16, 3, 1, 1),
		New(34, 3, 5, 5, 4, 3, 1, 1),
		New(21, 2, 8, 8, 5, 3, 2, 1),
		New(1, 8, 32, 32, 8, 3, 1, 1),
		New(1, 8, 6, 64, 8, 3, 1, 1),
		New(1, 4, 5, 48, 8, 3, 1, 1),
		New(1, 8, 32, 32, 16, 3, 2, 1),
		New(1, 3, 33, 32, 8, 1, 1, 0),
		New(2, 16, 8, 8, 32, 3, 2, 1),
		New(1, 32, 6, 6, 32, 3, 1, 1),
		New(1, 64, 4, 4, 64, 3, 1, 1),
		New(2, 32, 16, 16, 64, 3, 2, 1),
		New(2, 64, 8, 8, 64, 3, 1, 1),
		New(3, 32, 16, 16, 32, 1, 1, 0),
		New(2, 64, 8, 8, 32, 1, 2, 0),
		New(5, 16, 32, 32, 16, 3, 1, 1),
		New(20, 64, 4, 4, 70, 3, 1, 1),
		New(2, 16, 8, 8, 32, 1, 2, 0),
		New(3, 20, 5, 7, 13, 1, 1, 0),
		New(1, 3, 11, 9, 16, 3, 1, 1),
		New(2, 5, 9, 9, 7, 5, 1, 2),
		New(1, 4, 13, 11, 6, 7, 2, 3),
		New(1, 2, 10, 10, 3, 2, 1, 0),
		New(2, 3, 9, 8, 4, 3, 3, 2),
		New(1, 3, 12, 12, 5, 3, 1, 2).WithDilation(2),
		New(1, 3, 12, 11, 5, 3, 2, 1).WithDilation(2),
		New(1, 1, 1, 1, 1, 1, 1, 0),
		New(1, 1, 3, 3, 1, 3, 1, 3),
		New(5, 1, 4, 4, 1, 2, 2, 0),
		{N: 2, Cin: 3, H: 7, W: 9, Cout: 5, KH: 3, KW: 2, StrideH: 2, StrideW: 1,
			PadTop: 0, PadBottom: 2, PadLeft: 3, PadRight: 1, DilationH: 1, DilationW: 2},
		{N: 1, Cin: 4, H: 6, W: 5, Cout: 9, KH: 1, KW: 3, StrideH: 1, StrideW: 3,
			PadTop: 1, PadBottom: 0, PadLeft: 0, PadRight: 2, DilationH: 2, DilationW: 1},
	}
	r := rand.New(rand.NewPCG(7, 11))
	nrand := 150
	if short {
		nrand = 10
	}
	ks := []int{1, 2, 3, 5, 7}
	for len(ps) < 32+nrand {
		k := ks[r.IntN(len(ks))]
		p := Params{N: 1 + r.IntN(5), Cin: 1 + r.IntN(20), H: 1 + r.IntN(13), W: 1 + r.IntN(13),
			Cout: 1 + r.IntN(20), KH: k, KW: k, StrideH: 1 + r.IntN(3), StrideW: 1 + r.IntN(3),
			PadTop: r.IntN(4), PadBottom: r.IntN(4), PadLeft: r.IntN(4), PadRight: r.IntN(4),
			DilationH: 1 + r.IntN(2), DilationW: 1 + r.IntN(2)}
		if r.IntN(3) == 0 {
			p.KW = ks[r.IntN(len(ks))]
		}
		if r.IntN(2) == 0 {
			p.StrideW = p.StrideH
		}
		if p.Validate() != nil {
			continue
		}
		ps = append(ps, p)
	}
	return ps
}

type refResult struct {
	x, w, bias, dy    []float64
	y, dx, dw, db     []float64
	ay, adx, adw, adb []float64 // magnitude bounds (same loops on |.|)
}

func reference(p Params, seed uint64) refResult {
	r := rand.New(rand.NewPCG(seed, 3))
	var rr refResult
	rr.x = randSlice(r, p.InputLen())
	rr.w = randSlice(r, p.WeightLen())
	rr.bias = randSlice(r, p.Cout)
	rr.dy = randSlice(r, p.OutputLen())
	rr.y = naiveForward(p, rr.x, rr.w, rr.bias)
	rr.dx, rr.dw, rr.db = naiveBackward(p, rr.x, rr.w, rr.dy)
	ax, aw, ady := absSlice(rr.x), absSlice(rr.w), absSlice(rr.dy)
	rr.ay = naiveForward(p, ax, aw, absSlice(rr.bias))
	rr.adx, rr.adw, rr.adb = naiveBackward(p, ax, aw, ady)
	return rr
}

func checkClose[T Float](t *testing.T, what string, got []T, want, bound []float64, eps float64) {
	t.Helper()
	bad := 0
	for i := range want {
		d := math.Abs(float64(got[i]) - want[i])
		if !(d <= eps*(bound[i]+1e-30)) {
			if bad < 3 {
				t.Errorf("%s[%d] = %v, want %v (bound %g)", what, i, got[i], want[i], eps*bound[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d elements wrong", what, bad, len(want))
	}
}

func runAll[T Float](t *testing.T, p Params, rr refResult, eps float64) {
	x, w, bias, dy := conv64to[T](rr.x), conv64to[T](rr.w), conv64to[T](rr.bias), conv64to[T](rr.dy)
	y := make([]T, p.OutputLen())
	for i := range y {
		y[i] = T(math.NaN()) // beta == 0 must not read y
	}
	if err := Forward(p, y, x, w, bias, 0); err != nil {
		t.Fatal(err)
	}
	checkClose(t, "y", y, rr.y, rr.ay, eps)
	dx := make([]T, p.InputLen())
	for i := range dx {
		dx[i] = T(math.NaN())
	}
	if err := BackwardData(p, dx, dy, w, 0); err != nil {
		t.Fatal(err)
	}
	checkClose(t, "dx", dx, rr.dx, rr.adx, eps)
	dw := make([]T, p.WeightLen())
	db := make([]T, p.Cout)
	for i := range dw {
		dw[i] = T(math.NaN())
	}
	if err := BackwardWeights(p, dw, db, dy, x, 0); err != nil {
		t.Fatal(err)
	}
	checkClose(t, "dw", dw, rr.dw, rr.adw, eps)
	checkClose(t, "db", db, rr.db, rr.adb, eps)
}

func forLevels(t *testing.T, f func(t *testing.T)) {
	saved := cpu.Selected
	defer cpu.Set(saved)
	for _, l := range cpu.Levels() {
		cpu.Set(l)
		t.Run(l.String(), f)
	}
}

func TestAgainstNaive(t *testing.T) {
	for i, p := range testShapes(testing.Short()) {
		rr := reference(p, uint64(i))
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			forLevels(t, func(t *testing.T) {
				t.Run("f32", func(t *testing.T) { runAll[float32](t, p, rr, 1e-5) })
				t.Run("f64", func(t *testing.T) { runAll[float64](t, p, rr, 1e-13) })
			})
			if t.Failed() {
				t.Logf("shape: %v", p)
			}
		})
	}
}

type myFloat float32

// TestBetaAndNamedType checks accumulation (beta != 0) and named element types.
func TestBetaAndNamedType(t *testing.T) {
	for _, p := range []Params{New(2, 5, 6, 7, 3, 3, 2, 1), New(2, 4, 7, 6, 9, 1, 2, 0), New(1, 16, 8, 32, 16, 3, 1, 1),
		New(3, 64, 4, 4, 66, 3, 1, 1)} {
		testBeta(t, p)
	}
}

func testBeta(t *testing.T, p Params) {
	rr := reference(p, 99)
	forLevels(t, func(t *testing.T) {
		x, w, bias, dy := conv64to[myFloat](rr.x), conv64to[myFloat](rr.w), conv64to[myFloat](rr.bias), conv64to[myFloat](rr.dy)
		const beta = 0.5
		y := make([]myFloat, p.OutputLen())
		wantY := make([]float64, len(y))
		for i := range y {
			y[i] = myFloat(i % 7)
			wantY[i] = rr.y[i] + beta*float64(i%7)
		}
		if err := Forward(p, y, x, w, bias, beta); err != nil {
			t.Fatal(err)
		}
		checkClose(t, "y", y, wantY, addConst(rr.ay, 4), 1e-5)
		dx := make([]myFloat, p.InputLen())
		wantDX := make([]float64, len(dx))
		for i := range dx {
			dx[i] = 1
			wantDX[i] = rr.dx[i] + beta
		}
		if err := BackwardData(p, dx, dy, w, beta); err != nil {
			t.Fatal(err)
		}
		checkClose(t, "dx", dx, wantDX, addConst(rr.adx, 1), 1e-5)
		dw := make([]myFloat, p.WeightLen())
		db := make([]myFloat, p.Cout)
		wantDW := make([]float64, len(dw))
		wantDB := make([]float64, len(db))
		for i := range dw {
			dw[i] = 2
			wantDW[i] = rr.dw[i] + 2*beta
		}
		for i := range db {
			db[i] = -2
			wantDB[i] = rr.db[i] - 2*beta
		}
		if err := BackwardWeights(p, dw, db, dy, x, beta); err != nil {
			t.Fatal(err)
		}
		checkClose(t, "dw", dw, wantDW, addConst(rr.adw, 2), 1e-5)
		checkClose(t, "db", db, wantDB, addConst(rr.adb, 2), 1e-5)
	})
}

func addConst(s []float64, c float64) []float64 {
	d := make([]float64, len(s))
	for i, v := range s {
		d[i] = v + c
	}
	return d
}

// TestAdjoint checks <dy, conv(x)> == <conv^T(dy), x> and
// <dy, conv_w(x)> == <dW(dy, x), w> in float64.
func TestAdjoint(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for i, p := range testShapes(true) {
		x, w, dy := randSlice(r, p.InputLen()), randSlice(r, p.WeightLen()), randSlice(r, p.OutputLen())
		forLevels(t, func(t *testing.T) {
			y := make([]float64, p.OutputLen())
			dx := make([]float64, p.InputLen())
			dw := make([]float64, p.WeightLen())
			if err := Forward(p, y, x, w, nil, 0); err != nil {
				t.Fatal(err)
			}
			if err := BackwardData(p, dx, dy, w, 0); err != nil {
				t.Fatal(err)
			}
			if err := BackwardWeights(p, dw, nil, dy, x, 0); err != nil {
				t.Fatal(err)
			}
			a, b, c := dotf(dy, y), dotf(dx, x), dotf(dw, w)
			tol := 1e-10 * (1 + math.Abs(a))
			if math.Abs(a-b) > tol || math.Abs(a-c) > tol {
				t.Errorf("shape %d %v: <dy,y> = %v, <dx,x> = %v, <dw,w> = %v", i, p, a, b, c)
			}
		})
	}
}

func dotf(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// TestDeterministic checks bit-identical results for 1, 2 and 3 threads.
func TestDeterministic(t *testing.T) {
	defer parallel.SetThreads(parallel.SetThreads(0))
	for _, p := range []Params{New(37, 16, 8, 8, 16, 3, 1, 1), New(3, 8, 9, 9, 12, 3, 2, 1), New(20, 4, 5, 5, 6, 1, 1, 0),
		New(40, 64, 4, 4, 72, 3, 1, 1)} {
		r := rand.New(rand.NewPCG(1, 2))
		x := conv64to[float32](randSlice(r, p.InputLen()))
		w := conv64to[float32](randSlice(r, p.WeightLen()))
		dy := conv64to[float32](randSlice(r, p.OutputLen()))
		forLevels(t, func(t *testing.T) {
			var ref [4][]float32
			for th := 1; th <= 3; th++ {
				parallel.SetThreads(th)
				y := make([]float32, p.OutputLen())
				dx := make([]float32, p.InputLen())
				dw := make([]float32, p.WeightLen())
				db := make([]float32, p.Cout)
				_ = Forward(p, y, x, w, nil, 0)
				_ = BackwardData(p, dx, dy, w, 0)
				_ = BackwardWeights(p, dw, db, dy, x, 0)
				res := [4][]float32{y, dx, dw, db}
				if th == 1 {
					ref = res
					continue
				}
				for j := range res {
					for i := range res[j] {
						if math.Float32bits(res[j][i]) != math.Float32bits(ref[j][i]) {
							t.Fatalf("%v: threads=%d output %d differs at %d: %v vs %v", p, th, j, i, res[j][i], ref[j][i])
						}
					}
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	p := New(1, 3, 8, 8, 4, 3, 1, 1)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		mod  func(*Params)
		want string
	}{
		{func(p *Params) { p.Cin = 0 }, "conv: Cin = 0: must be at least 1"},
		{func(p *Params) { p.StrideW = 0 }, "conv: StrideW = 0: must be at least 1"},
		{func(p *Params) { p.PadLeft = -1 }, "conv: PadLeft = -1: must not be negative"},
		{func(p *Params) { p.KH = 11 }, "conv: H = 8 with PadTop = 1 and PadBottom = 1 is smaller than the dilated kernel height 11 (KH = 11, DilationH = 1)"},
	} {
		q := p
		c.mod(&q)
		err := q.Validate()
		if err == nil || err.Error() != c.want {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
	if n, c, h, w := New(128, 64, 32, 32, 128, 3, 2, 1).OutputShape(); n != 128 || c != 128 || h != 16 || w != 16 {
		t.Errorf("OutputShape = %d %d %d %d", n, c, h, w)
	}
	y := make([]float32, 3)
	if err := Forward(p, y, make([]float32, p.InputLen()), make([]float32, p.WeightLen()), nil, 0); err == nil {
		t.Error("short y accepted")
	}
}

// TestBackwardDataCol checks the col2im path (used for strides with more
// than maxPhases phases) on the strided test shapes.
func TestBackwardDataCol(t *testing.T) {
	for i, p := range testShapes(true) {
		if p.StrideH == 1 && p.StrideW == 1 {
			continue
		}
		rr := reference(p, uint64(i))
		forLevels(t, func(t *testing.T) {
			dx := make([]float64, p.InputLen())
			backwardDataCol(p, dx, rr.dy, rr.w, 0)
			checkClose(t, "dx", dx, rr.dx, rr.adx, 1e-13)
			dx32 := make([]float32, p.InputLen())
			backwardDataCol(p, dx32, conv64to[float32](rr.dy), conv64to[float32](rr.w), 0)
			checkClose(t, "dx32", dx32, rr.dx, rr.adx, 1e-5)
		})
	}
}

// TestConcurrent runs convolutions of different shapes from several
// goroutines at once (shared free lists, per-call state).
func TestConcurrent(t *testing.T) {
	shapes := []Params{New(3, 8, 8, 8, 8, 3, 1, 1), New(2, 4, 9, 9, 6, 3, 2, 1), New(4, 16, 16, 16, 16, 1, 1, 0)}
	refs := make([]refResult, len(shapes))
	for i, p := range shapes {
		refs[i] = reference(p, uint64(100+i))
	}
	done := make(chan bool)
	for g := 0; g < 6; g++ {
		go func(g int) {
			defer func() { done <- true }()
			for it := 0; it < 5; it++ {
				i := (g + it) % len(shapes)
				p, rr := shapes[i], refs[i]
				y := make([]float64, p.OutputLen())
				dw := make([]float64, p.WeightLen())
				if err := Forward(p, y, rr.x, rr.w, rr.bias, 0); err != nil {
					t.Error(err)
					return
				}
				if err := BackwardWeights(p, dw, nil, rr.dy, rr.x, 0); err != nil {
					t.Error(err)
					return
				}
				checkClose(t, "y", y, rr.y, rr.ay, 1e-13)
				checkClose(t, "dw", dw, rr.dw, rr.adw, 1e-13)
			}
		}(g)
	}
	for g := 0; g < 6; g++ {
		<-done
	}
}

// TestSmallBlocks runs the blocked loops (used for large images) with tiny
// blocks.
func TestSmallBlocks(t *testing.T) {
	defer func(b, d int) { blockBytes, dotBlockBytes = b, d }(blockBytes, dotBlockBytes)
	blockBytes, dotBlockBytes = 1<<10, 1<<10
	for i, p := range testShapes(true)[:20] {
		rr := reference(p, uint64(i))
		forLevels(t, func(t *testing.T) {
			runAll[float32](t, p, rr, 1e-5)
			runAll[float64](t, p, rr, 1e-13)
		})
	}
}

// TestPathsSelected checks that the test shapes reach the special paths
// (row mode, the narrow row kernel, the transposed small-image kernel) on
// AVX-512.
func TestPathsSelected(t *testing.T) {
	if cpu.Best != cpu.AVX512 {
		t.Skip("no AVX-512")
	}
	saved := cpu.Selected
	defer cpu.Set(saved)
	cpu.Set(cpu.AVX512)
	geomOf := func(p Params) geom {
		return newGeom(p.Cin, p.H, p.W, p.KH, p.KW, p.StrideH, p.StrideW, p.DilationH, p.DilationW,
			p.PadTop, p.PadBottom, p.PadLeft, p.PadRight)
	}
	k32 := kernelsFor(4)
	g := geomOf(New(1, 8, 32, 32, 8, 3, 1, 1))
	if rk := rowKernels(&g, k32, 8, float32(0)); rk != k32 {
		t.Error("32-wide rows: no row mode")
	}
	g = geomOf(New(2, 16, 8, 8, 16, 3, 1, 1))
	if rk := rowKernels(&g, k32, 16, float32(0)); rk == nil || rk == k32 {
		t.Error("8-wide rows: no narrow row mode")
	}
	g = geomOf(New(1, 64, 4, 4, 64, 3, 1, 1))
	if rowKernels(&g, k32, 64, float32(0)) != nil || !useSmall(&g, k32, 64) {
		t.Error("4x4 with 64 channels: no small-image kernel")
	}
	if !useSmallW(&g, k32, 64) || !useSmallW(&g, kernelsFor(8), 64) {
		t.Error("4x4 with 64 channels: BackwardWeights does not use the small-image kernel")
	}
	if !useSmall(&g, kernelsFor(8), 64) {
		t.Error("4x4 with 64 channels, float64: no small-image kernel")
	}
}

// TestWinograd runs the Winograd forward pass and BackwardData (normally
// only for many channels) on every eligible test shape and on odd and tiny images, in
// groups of several sizes, against the naive convolution.
func TestWinograd(t *testing.T) {
	defer func(c, hw, n int) { winoMinC, winoMinHW, winoTiles = c, hw, n }(winoMinC, winoMinHW, winoTiles)
	winoMinC, winoMinHW = 1, 0
	shapes := []Params{New(3, 5, 7, 9, 6, 3, 1, 1), New(2, 3, 1, 1, 4, 3, 1, 1), New(5, 8, 8, 8, 16, 3, 1, 1),
		New(3, 300, 4, 4, 9, 3, 1, 1), // two k blocks
		New(4, 17, 4, 4, 9, 3, 1, 1), New(1, 2, 2, 3, 2, 3, 1, 1)}
	for _, p := range testShapes(true) {
		if useWinograd(p, 4) {
			shapes = append(shapes, p)
		}
	}
	for _, tiles := range []int{1, 7, 128, 1 << 20} {
		winoTiles = tiles
		for i, p := range shapes {
			if !useWinograd(p, 4) {
				t.Fatalf("shape %v not eligible", p)
			}
			rr := reference(p, uint64(500+i))
			forLevels(t, func(t *testing.T) {
				x, w, bias := conv64to[float32](rr.x), conv64to[float32](rr.w), conv64to[float32](rr.bias)
				y := make([]float32, p.OutputLen())
				for i := range y {
					y[i] = float32(math.NaN()) // beta == 0 must not read y
				}
				if err := Forward(p, y, x, w, bias, 0); err != nil {
					t.Fatal(err)
				}
				checkClose(t, "y32", y, rr.y, rr.ay, 1e-5)
				y64 := make([]float64, p.OutputLen())
				for i := range y64 {
					y64[i] = 1
				}
				if err := Forward(p, y64, rr.x, rr.w, nil, 0.5); err != nil {
					t.Fatal(err)
				}
				want := naiveForward(p, rr.x, rr.w, nil)
				for i := range want {
					want[i] += 0.5
				}
				checkClose(t, "y64 (beta 0.5, no bias)", y64, want, rr.ay, 1e-13)
				y32b := make([]float32, p.OutputLen())
				for i := range y32b {
					y32b[i] = 1
				}
				if err := Forward(p, y32b, x, w, nil, 0.5); err != nil {
					t.Fatal(err)
				}
				checkClose(t, "y32 (beta 0.5, no bias)", y32b, want, rr.ay, 1e-5)
				dx := make([]float32, p.InputLen())
				for i := range dx {
					dx[i] = float32(math.NaN())
				}
				if err := BackwardData(p, dx, conv64to[float32](rr.dy), w, 0); err != nil {
					t.Fatal(err)
				}
				checkClose(t, "dx32", dx, rr.dx, rr.adx, 1e-5)
				dx64 := make([]float64, p.InputLen())
				if err := BackwardData(p, dx64, rr.dy, rr.w, 0); err != nil {
					t.Fatal(err)
				}
				checkClose(t, "dx64", dx64, rr.dx, rr.adx, 1e-13)
			})
			if t.Failed() {
				t.Fatalf("tiles %d, shape %d: %v", tiles, i, p)
			}
		}
	}
	winoMinC, winoMinHW = 256, 64
	r18 := []Params{New(128, 64, 32, 32, 64, 3, 1, 1), New(128, 128, 16, 16, 128, 3, 1, 1),
		New(128, 256, 8, 8, 256, 3, 1, 1), New(128, 512, 4, 4, 512, 3, 1, 1)}
	for _, p := range []Params{New(128, 16, 32, 32, 16, 3, 1, 1), New(128, 128, 16, 16, 256, 3, 2, 1),
		New(128, 64, 32, 32, 128, 1, 1, 0), New(128, 8, 8, 8, 8, 3, 1, 1), New(128, 8, 16, 16, 8, 3, 1, 1)} {
		if useWinograd(p, 4) || useWinograd(p, 8) {
			t.Errorf("Winograd should not take %v", p)
		}
	}
	// 8x8 and 16x16 images (ResNet-20's last two stages): the whole-plane
	// transforms (float32, AVX-512) from 16 channels on
	for _, p := range []Params{New(128, 32, 16, 16, 32, 3, 1, 1), New(128, 64, 8, 8, 64, 3, 1, 1), New(128, 16, 8, 8, 16, 3, 1, 1)} {
		if got, want := useWinograd(p, 4), winoRowKernels(); got != want || useWinograd(p, 8) {
			t.Errorf("%v: Winograd float32 %v (want %v), float64 %v (want false)", p, got, want, useWinograd(p, 8))
		}
	}
	for _, p := range r18 {
		scalar := p.Cin >= 256 && p.H*p.W >= 64
		if got := useWinograd(p, 8); got != scalar {
			t.Errorf("float64 %v: Winograd %v, want %v (scalar transforms: 256+ channels, 8x8+)", p, got, scalar)
		}
		if got, want := useWinograd(p, 4), scalar || winoRowKernels(); got != want {
			t.Errorf("float32 %v: Winograd %v, want %v", p, got, want)
		}
	}
}

// TestWinogradVecBitIdentical checks that the vector row transforms give
// exactly the scalar transforms' results.
func TestWinogradVecBitIdentical(t *testing.T) {
	if !winoRowKernels() {
		t.Skip("no vector Winograd transforms at this level")
	}
	defer func(c, hw int) { winoMinC, winoMinHW = c, hw }(winoMinC, winoMinHW)
	winoMinC, winoMinHW = 1, 0
	for i, p := range []Params{New(3, 5, 7, 9, 6, 3, 1, 1), New(2, 16, 32, 32, 8, 3, 1, 1), New(4, 17, 4, 4, 9, 3, 1, 1),
		New(2, 8, 31, 30, 4, 3, 1, 1), New(5, 8, 8, 8, 16, 3, 1, 1), New(3, 6, 16, 16, 5, 3, 1, 1), New(1, 2, 2, 3, 2, 3, 1, 1), New(3, 300, 4, 4, 9, 3, 1, 1)} {
		rr := reference(p, uint64(700+i))
		x, w, bias := conv64to[float32](rr.x), conv64to[float32](rr.w), conv64to[float32](rr.bias)
		for _, beta := range []float32{0, 0.5} {
			vecY := winoForward(t, p, x, w, bias, beta, false)
			scalarY := winoForward(t, p, x, w, bias, beta, true)
			if !slices.Equal(vecY, scalarY) {
				t.Errorf("%v beta %v: vector transforms differ from the scalar ones", p, beta)
			}
		}
	}
}

// winoForward runs Forward (Winograd) on a fixed starting y, with the
// scalar transforms when scalar is set.
func winoForward(t *testing.T, p Params, x, w, bias []float32, beta float32, scalar bool) []float32 {
	defer func() { winoScalar = false }()
	winoScalar = scalar
	y := make([]float32, p.OutputLen())
	for j := range y {
		y[j] = float32(j%7) * 0.25
	}
	if err := Forward(p, y, x, w, bias, beta); err != nil {
		t.Fatal(err)
	}
	return y
}
