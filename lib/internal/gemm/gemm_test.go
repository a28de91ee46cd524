package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"repdyn/lib/internal/cpu"
	"repdyn/lib/internal/parallel"
)

// forEachLevel runs f once per CPU level this machine and build can run.
func forEachLevel(t *testing.T, f func(t *testing.T)) {
	saved := cpu.Selected
	defer cpu.Set(saved)
	for _, l := range cpu.Levels() {
		cpu.Set(l)
		t.Run(l.String(), f)
	}
}

type problem[T Float] struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    T
	a, b, c        []T
	lda, ldb, ldc  int
}

func randSlice[T Float](r *rand.Rand, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = T(r.Float64()*2 - 1)
	}
	return s
}

// newProblem makes random operands; pad > 0 makes the leading dimensions
// larger than needed.
func newProblem[T Float](r *rand.Rand, transA, transB bool, m, n, k, pad int, alpha, beta T) *problem[T] {
	p := &problem[T]{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta}
	ra, ca := m, k
	if transA {
		ra, ca = k, m
	}
	rb, cb := k, n
	if transB {
		rb, cb = n, k
	}
	p.lda, p.ldb, p.ldc = max(1, ca)+pad, max(1, cb)+pad*2, max(1, n)+pad*3
	p.a = randSlice[T](r, max(0, (ra-1)*p.lda+ca))
	p.b = randSlice[T](r, max(0, (rb-1)*p.ldb+cb))
	p.c = randSlice[T](r, max(0, (m-1)*p.ldc+n))
	return p
}

// reference computes the product in float64 and a bound on each element's
// rounding error scale: |alpha|*sum|a||b| + |beta*c|.
func (p *problem[T]) reference() (want, scale []float64) {
	want = make([]float64, len(p.c))
	scale = make([]float64, len(p.c))
	for i := range p.c {
		want[i] = float64(p.c[i])
	}
	for i := 0; i < p.m; i++ {
		for j := 0; j < p.n; j++ {
			var s, sa float64
			for l := 0; l < p.k; l++ {
				var av, bv T
				if p.transA {
					av = p.a[l*p.lda+i]
				} else {
					av = p.a[i*p.lda+l]
				}
				if p.transB {
					bv = p.b[j*p.ldb+l]
				} else {
					bv = p.b[l*p.ldb+j]
				}
				s += float64(av) * float64(bv)
				sa += math.Abs(float64(av) * float64(bv))
			}
			cv := float64(p.c[i*p.ldc+j])
			if p.beta == 0 {
				cv = 0
			}
			if p.alpha == 0 {
				s, sa = 0, 0
			}
			want[i*p.ldc+j] = float64(p.alpha)*s + float64(p.beta)*cv
			scale[i*p.ldc+j] = math.Abs(float64(p.alpha))*sa + math.Abs(float64(p.beta)*cv)
		}
	}
	return want, scale
}

func eps[T Float]() float64 {
	var z T
	if _, ok := any(z).(float32); ok {
		return 0x1p-23
	}
	return 0x1p-52
}

func (p *problem[T]) run() []T {
	c := append([]T(nil), p.c...)
	Gemm(p.transA, p.transB, p.m, p.n, p.k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, c, p.ldc)
	return c
}

func (p *problem[T]) check(t testing.TB, got []T) {
	t.Helper()
	want, scale := p.reference()
	tol := float64(p.k+4) * eps[T]()
	for i := range got {
		row, col := i/p.ldc, i%p.ldc
		if col >= p.n {
			// Padding between rows must be untouched.
			if got[i] != p.c[i] && !(isNaN(got[i]) && isNaN(p.c[i])) {
				t.Fatalf("%s: padding C[%d] changed: %v -> %v", p, i, p.c[i], got[i])
			}
			continue
		}
		if d := math.Abs(float64(got[i]) - want[i]); !(d <= tol*scale[i]+1e-30) {
			t.Fatalf("%s: C[%d,%d] = %v, want %v (diff %g, tol %g)", p, row, col, got[i], want[i], d, tol*scale[i])
		}
	}
}

func isNaN[T Float](v T) bool { return v != v }

func (p *problem[T]) String() string {
	return fmt.Sprintf("%s m=%d n=%d k=%d tA=%v tB=%v lda=%d ldb=%d ldc=%d alpha=%v beta=%v",
		typeName[T](), p.m, p.n, p.k, p.transA, p.transB, p.lda, p.ldb, p.ldc, p.alpha, p.beta)
}

func typeName[T Float]() string {
	var z T
	if _, ok := any(z).(float32); ok {
		return "f32"
	}
	return "f64"
}

func testSweep[T Float](t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	fixed := []int{5, 33}
	for dim := 0; dim < 3; dim++ {
		for s := 1; s <= 67; s++ {
			for fi, f := range fixed {
				d := [3]int{f, f + 2*fi + 1, f + 1}
				d[dim] = s
				tr := (s + fi + dim) % 4
				pad := (s + dim) % 2
				p := newProblem[T](r, tr&1 != 0, tr&2 != 0, d[0], d[1], d[2], pad, 1.5, 0.5)
				p.check(t, p.run())
			}
		}
	}
	for i := 0; i < 200; i++ {
		m, n, k := 1+r.IntN(67), 1+r.IntN(67), 1+r.IntN(67)
		alphas := []T{1, -0.75, 2}
		betas := []T{0, 1, -1.25}
		p := newProblem[T](r, r.IntN(2) == 1, r.IntN(2) == 1, m, n, k, r.IntN(3), alphas[r.IntN(3)], betas[r.IntN(3)])
		p.check(t, p.run())
	}
}

func TestSweepFloat32(t *testing.T) { forEachLevel(t, testSweep[float32]) }

// TestDirectB runs the sweep with B read in place (direct mode) for small
// M, and with A read in place for N up to 3 column panels.
func TestDirectB(t *testing.T) {
	defer func(d, r int) { directMaxPanels, rawAMaxPanels = d, r }(directMaxPanels, rawAMaxPanels)
	directMaxPanels, rawAMaxPanels = 8, 3
	forEachLevel(t, testSweep[float32])
	forEachLevel(t, testLarge[float64])
}
func TestSweepFloat64(t *testing.T) { forEachLevel(t, testSweep[float64]) }

// TestUnfusedPackB runs the sweep with B packed in its own pass on the
// levels whose kernels otherwise pack it as they compute (params.pack), and
// checks that both ways give bit-identical results.
func TestUnfusedPackB(t *testing.T) {
	defer func(f bool) { fusePackB = f }(fusePackB)
	fusePackB = false
	forEachLevel(t, testSweep[float32])
	forEachLevel(t, testLarge[float64])
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, s := range [][3]int{{16, 1100, 300}, {64, 530, 700}, {13, 77, 600}} {
			p := newProblem[float32](r, false, false, s[0], s[1], s[2], 1, 1.5, 0.5)
			fusePackB = false
			want := p.run()
			fusePackB = true
			got := p.run()
			for i := range got {
				if got[i] != want[i] && !(isNaN(got[i]) && isNaN(want[i])) {
					t.Fatalf("%s: fused packing C[%d] = %v, unfused %v", p, i, got[i], want[i])
				}
			}
		}
	})
}

func testLarge[T Float](t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	shapes := [][3]int{{300, 257, 513}, {16, 1100, 300}, {70, 530, 700}}
	if testing.Short() {
		shapes = shapes[:1]
	}
	for si, s := range shapes {
		for tr := 0; tr < 4; tr++ {
			if si > 0 && tr != si%4 {
				continue
			}
			p := newProblem[T](r, tr&1 != 0, tr&2 != 0, s[0], s[1], s[2], tr%2, -0.5, 0.25)
			p.check(t, p.run())
		}
	}
}

func TestLargeFloat32(t *testing.T) { forEachLevel(t, testLarge[float32]) }
func TestLargeFloat64(t *testing.T) { forEachLevel(t, testLarge[float64]) }

func testAlphaBeta[T Float](t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	nan := T(math.NaN())
	for _, s := range [][3]int{{7, 9, 5}, {40, 70, 300}, {1, 1, 1}} {
		for _, ab := range [][2]T{{1, 0}, {0, 0}, {0, 2}, {0, 1}, {2.5, 0}, {-1, 1}} {
			p := newProblem[T](r, false, true, s[0], s[1], s[2], 1, ab[0], ab[1])
			if ab[1] == 0 {
				for i := range p.c {
					p.c[i] = nan
				}
			}
			got := p.run()
			if ab[1] == 0 {
				// reference() ignores C when beta == 0; padding stays NaN.
				for i := 0; i < p.m; i++ {
					for j := 0; j < p.n; j++ {
						if isNaN(got[i*p.ldc+j]) {
							t.Fatalf("%s: beta=0 left NaN at %d,%d", p, i, j)
						}
					}
				}
			}
			p.check(t, got)
		}
		// k == 0: C = beta*C.
		p := newProblem[T](r, false, false, s[0], s[1], 0, 0, 1, 3)
		p.check(t, p.run())
	}
}

func TestAlphaBetaFloat32(t *testing.T) { forEachLevel(t, testAlphaBeta[float32]) }
func TestAlphaBetaFloat64(t *testing.T) { forEachLevel(t, testAlphaBeta[float64]) }

func testDeterminism[T Float](t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	parallel.SetThreads(1)
	defer parallel.SetThreads(0) // back to the default (GOMAXPROCS)
	for _, s := range [][4]int{{200, 700, 600, 0}, {16, 3000, 144, 0}, {90, 64, 1000, 3}, {512, 16, 700, 1}} {
		p := newProblem[T](r, s[3]&1 != 0, s[3]&2 != 0, s[0], s[1], s[2], 0, 1, 0.5)
		var first []T
		for _, th := range []int{1, 2, 3, 2, 1} {
			parallel.SetThreads(th)
			got := p.run()
			if first == nil {
				first = got
				p.check(t, got)
				continue
			}
			for i := range got {
				if got[i] != first[i] {
					t.Fatalf("%s: threads=%d differs at %d: %v vs %v", p, th, i, got[i], first[i])
				}
			}
		}
	}
}

func TestDeterminismFloat32(t *testing.T) { forEachLevel(t, testDeterminism[float32]) }
func TestDeterminismFloat64(t *testing.T) { forEachLevel(t, testDeterminism[float64]) }

// TestPackedAPI checks GemmPackedA and MacroKernel (the conv-facing API)
// against Gemm.
func TestPackedAPI(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(9, 10))
		for _, s := range [][3]int{{16, 300, 144}, {37, 101, 600}, {64, 96, 9}} {
			m, n, k := s[0], s[1], s[2]
			p := newProblem[float32](r, false, false, m, n, k, 0, 1.25, 0.5)
			want := p.run()
			var pa PackedA[float32]
			pa.Pack(false, m, k, p.a, p.lda)
			got := append([]float32(nil), p.c...)
			GemmPackedA(&pa, false, n, p.alpha, p.b, p.ldb, p.beta, got, p.ldc)
			p.check(t, got)
			// MacroKernel over column blocks of 48 (not a multiple of NR on
			// every level) and row blocks at MR multiples.
			got2 := append([]float32(nil), p.c...)
			mr, _ := pa.Tile()
			for j0 := 0; j0 < n; j0 += 48 {
				nc := min(48, n-j0)
				for blk := 0; blk < pa.KBlocks(); blk++ {
					k0, kc := pa.KBlock(blk)
					bp := make([]float32, pa.PackedBSize(kc, nc))
					pa.PackB(bp, false, kc, nc, p.b[k0*p.ldb+j0:], p.ldb)
					beta := float32(1)
					if blk == 0 {
						beta = p.beta
					}
					half := (m / 2) / mr * mr
					MacroKernel(&pa, blk, 0, half, bp, nc, p.alpha, beta, got2[j0:], p.ldc)
					MacroKernel(&pa, blk, half, m-half, bp, nc, p.alpha, beta, got2[j0:], p.ldc)
				}
			}
			p.check(t, got2)
			_ = want
		}
	})
}

func TestNoAllocs(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, s := range [][3]int{{64, 512, 64}, {16, 4096, 144}, {8, 8, 8}, {100, 100, 300}} {
			p := newProblem[float32](r, false, s[2] == 300, s[0], s[1], s[2], 0, 1, 0)
			c := append([]float32(nil), p.c...)
			call := func() { Gemm(p.transA, p.transB, p.m, p.n, p.k, 1, p.a, p.lda, p.b, p.ldb, 0, c, p.ldc) }
			// Serial path (AllocsPerRun pins GOMAXPROCS to 1): gemm's own
			// buffers must come from its pools.
			parallel.SetThreads(1)
			a := testing.AllocsPerRun(50, call)
			parallel.SetThreads(0)
			if a != 0 {
				t.Fatalf("%v: %v allocs per call on one thread", s, a)
			}
			// Parallel path: gemm's buffers and tasks are pooled per item,
			// so a leak would show as several allocations per call. The
			// worker pool itself allocates a batch when a worker still holds
			// the previous one (often, on a loaded machine): allow that.
			call()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			const calls = 100
			for i := 0; i < calls; i++ {
				call()
			}
			runtime.ReadMemStats(&after)
			if n := after.Mallocs - before.Mallocs; n > 3*calls {
				t.Fatalf("%v: %d allocations in %d calls", s, n, calls)
			}
		}
	})
}

func FuzzSgemm(f *testing.F) {
	f.Add(uint8(5), uint8(7), uint8(9), false, true, uint8(1), uint8(0), uint64(1))
	f.Add(uint8(33), uint8(65), uint8(17), true, false, uint8(2), uint8(1), uint64(2))
	f.Fuzz(func(t *testing.T, m, n, k uint8, ta, tb bool, ai, bi uint8, seed uint64) {
		saved := cpu.Selected
		defer cpu.Set(saved)
		levels := cpu.Levels()
		cpu.Set(levels[int(seed%uint64(len(levels)))])
		alphas := []float32{1, 0, -0.5, 3}
		betas := []float32{0, 1, -2, 0.5}
		r := rand.New(rand.NewPCG(seed, 99))
		p := newProblem[float32](r, ta, tb, int(m%100), int(n%100), int(k%100), int(seed>>8%3), alphas[ai%4], betas[bi%4])
		p.check(t, p.run())
	})
}
