package gemm

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"repdyn/lib/internal/parallel"
)

var (
	benchLong   = flag.Bool("long", false, "also benchmark the heavy shapes (> 50 GFLOP or > 512 MiB of operands per call)")
	benchShapes = flag.String("shapes", "../../../../shared/bench/shapes.txt", "shapes file (`name M N K transA transB`); REPDYN_SHAPES overrides")
)

type benchShape struct {
	name           string
	m, n, k        int
	transA, transB bool
}

// loadShapes reads the shapes file; without it, two representative shapes.
func loadShapes(b *testing.B) []benchShape {
	path := *benchShapes
	if v := os.Getenv("REPDYN_SHAPES"); v != "" {
		path = v
	}
	f, err := os.Open(path)
	if err != nil {
		b.Logf("no shapes file (%v): using sq1024 and r20s1_fwd", err)
		return []benchShape{{"sq1024", 1024, 1024, 1024, false, false}, {"r20s1_fwd", 16, 131072, 144, false, false}}
	}
	defer f.Close()
	var list []benchShape
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		var s benchShape
		var ta, tb int
		if _, err := fmt.Sscan(line, &s.name, &s.m, &s.n, &s.k, &ta, &tb); err != nil {
			b.Fatalf("%s: %q: %v", path, line, err)
		}
		s.transA, s.transB = ta != 0, tb != 0
		list = append(list, s)
	}
	return list
}

func fillBench[T Float](n int) []T {
	x := make([]T, n)
	for i := range x {
		x[i] = T(float64(uint32(i)*2654435761%1000)*1e-3 - 0.5)
	}
	return x
}

func benchGemm[T Float](b *testing.B, s benchShape) {
	lda, ldb := s.k, s.n
	if s.transA {
		lda = s.m
	}
	if s.transB {
		ldb = s.k
	}
	a, bb, c := fillBench[T](s.m*s.k), fillBench[T](s.k*s.n), fillBench[T](s.m*s.n)
	Gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		Gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
	}
	reportFlops(b, 2*float64(s.m)*float64(s.n)*float64(s.k), processCPU()-cpu0)
}

// reportFlops reports GFLOP/s (wall) and GFLOP/cpu-s: flops per second of
// process CPU time, which on a shared, loaded machine shows what the code
// does with the CPU it actually got (meaningful for one thread).
func reportFlops(b *testing.B, flopPerOp float64, cpu time.Duration) {
	b.ReportMetric(flopPerOp*float64(b.N)/b.Elapsed().Seconds()*1e-9, "GFLOP/s")
	if cpu > 0 {
		b.ReportMetric(flopPerOp*float64(b.N)/cpu.Seconds()*1e-9, "GFLOP/cpu-s")
	}
}

// BenchmarkSgemm runs every shape of shapes.txt at 1 and 2 threads:
// BenchmarkSgemm/<shape>/T<threads>.
func BenchmarkSgemm(b *testing.B) {
	defer parallel.SetThreads(0)
	for _, s := range loadShapes(b) {
		flop := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		bytes := 4 * float64(s.m*s.k+s.k*s.n+s.m*s.n)
		heavy := flop > 50e9 || bytes > 512<<20
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/T%d", s.name, th), func(b *testing.B) {
				if heavy && !*benchLong && os.Getenv("REPDYN_BENCH_LONG") == "" {
					b.Skipf("%.0f GFLOP, %.0f MiB per call: run with -long or REPDYN_BENCH_LONG=1", flop*1e-9, bytes/(1<<20))
				}
				parallel.SetThreads(th)
				benchGemm[float32](b, s)
			})
		}
	}
}

// BenchmarkDgemm1024 is float64 1024³ at 1 and 2 threads.
func BenchmarkDgemm1024(b *testing.B) {
	defer parallel.SetThreads(0)
	for _, th := range []int{1, 2} {
		b.Run(fmt.Sprintf("T%d", th), func(b *testing.B) {
			parallel.SetThreads(th)
			benchGemm[float64](b, benchShape{"sq1024", 1024, 1024, 1024, false, false})
		})
	}
}

// BenchmarkGonumSgemm1024 is gonum's pure-Go Sgemm at 1024³ for comparison
// (it uses GOMAXPROCS goroutines).
func BenchmarkGonumSgemm1024(b *testing.B) {
	const n = 1024
	a, bb, c := fillBench[float32](n*n), fillBench[float32](n*n), fillBench[float32](n*n)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, n, n, n, 1, a, n, bb, n, 0, c, n)
	}
	reportFlops(b, 2*float64(n*n*n), processCPU()-cpu0)
}

// BenchmarkSmallLatency times every call of small square products back to
// back and reports the median and 90th percentile call times: for products
// of tens of microseconds, how the worker pool hands out work shows in the
// spread (a worker that is not running when a call starts leaves the call
// to the caller alone).
func BenchmarkSmallLatency(b *testing.B) {
	defer parallel.SetThreads(0)
	for _, n := range []int{128, 256} {
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("sq%d/T%d", n, th), func(b *testing.B) {
				parallel.SetThreads(th)
				a, bb, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
				for i := range a {
					a[i], bb[i] = float32(i%7)*0.1, float32(i%5)*0.1
				}
				Gemm(false, false, n, n, n, 1, a, n, bb, n, 0, c, n)
				ts := make([]time.Duration, b.N)
				b.ResetTimer()
				for i := range ts {
					t0 := time.Now()
					Gemm(false, false, n, n, n, 1, a, n, bb, n, 0, c, n)
					ts[i] = time.Since(t0)
				}
				b.StopTimer()
				slices.Sort(ts)
				flop := 2 * float64(n*n*n)
				b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()*1e-9, "GFLOP/s")
				b.ReportMetric(float64(ts[len(ts)/2].Nanoseconds())/1e3, "p50-us")
				b.ReportMetric(float64(ts[len(ts)*9/10].Nanoseconds())/1e3, "p90-us")
			})
		}
	}
}
