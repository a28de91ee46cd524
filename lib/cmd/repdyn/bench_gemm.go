package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"repdyn/lib/internal/cpu"
	"repdyn/lib/internal/gemm"
	"repdyn/lib/internal/parallel"
)

func init() {
	registerBench("gemm", "matrix multiply C = A*B (sgemm/dgemm) on one shape or a shapes file", benchGemm)
}

type gemmShape struct {
	name           string
	m, n, k        int
	transA, transB bool
}

// gemmResult is one JSON line of `repdyn bench gemm`.
type gemmResult struct {
	Name    string  `json:"name"`
	M       int     `json:"m"`
	N       int     `json:"n"`
	K       int     `json:"k"`
	TransA  bool    `json:"transa"`
	TransB  bool    `json:"transb"`
	Threads int     `json:"threads"`
	Dtype   string  `json:"dtype"`
	Level   string  `json:"level"`
	Reps    int     `json:"reps"`
	Ms      float64 `json:"ms"`     // median wall time per call
	MinMs   float64 `json:"min_ms"` // fastest call
	GFlops  float64 `json:"gflops"` // 2*M*N*K / median
	// CPUMs is the median process CPU time per call (all threads), and
	// GFlopsPerCPU = 2*M*N*K / CPUMs: on a shared, loaded machine it shows
	// what the code does per CPU-second it actually got (single-thread runs).
	CPUMs        float64 `json:"cpu_ms"`
	GFlopsPerCPU float64 `json:"gflops_per_cpu_s"`
	// GFlopsBest3 is measured the way ../shared/bench/gemm_openblas.c
	// measures: three windows of back-to-back calls lasting at least
	// --window each, the best window's rate (0 with --window 0).
	GFlopsBest3 float64 `json:"gflops_best3,omitempty"`
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchGemm(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench gemm", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = flagUsage(fs, stdout, `usage: repdyn bench gemm [flags]

Times C = A*B (M x K times K x N, row-major) with lib/blas's assembly
kernels and prints one JSON line per thread count and dtype: "gflops" and
"ms" (median of the timed calls) and "gflops_best3" (the best of three
windows of back-to-back calls, measured as ../shared/bench/gemm_openblas.c
measures). The kernel level follows REPDYN_NOASM / REPDYN_CPU.

flags:
`, "")
	m := fs.Int("m", 1024, "rows of op(A) and C")
	n := fs.Int("n", 1024, "columns of op(B) and C")
	k := fs.Int("k", 1024, "columns of op(A), rows of op(B)")
	boundInts(fs, 1, maxBenchDim, "m", "n", "k")
	ta := fs.Bool("transa", false, "A is stored k×m (C = Aᵀ B)")
	tb := fs.Bool("transb", false, "B is stored n×k (C = A Bᵀ)")
	threads := fs.String("threads", "", "goroutines, or a comma list (default parallel.Threads())")
	dtype := fs.String("dtype", "f32", "f32 or f64")
	reps := fs.Int("reps", 0, "timed calls per shape (default: enough for ~0.5 s, 3..500)")
	boundInts(fs, 0, maxBenchReps, "reps")
	window := fs.Duration("window", 600*time.Millisecond, "length of each of the three windows behind gflops_best3 (0: skip)")
	shapes := fs.String("shapes", "", "`file` of shapes, one \"name M N K transA transB\" per line (e.g. ../shared/bench/shapes.txt)")
	only := fs.String("only", "", "with --shapes: comma list of shape names to run")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	list := []gemmShape{{fmt.Sprintf("%dx%dx%d", *m, *n, *k), *m, *n, *k, *ta, *tb}}
	if *shapes != "" {
		var err error
		if list, err = readGemmShapes(*shapes); err != nil {
			return err
		}
		if *only != "" {
			keep := map[string]bool{}
			for _, s := range strings.Split(*only, ",") {
				keep[strings.TrimSpace(s)] = true
			}
			var sel []gemmShape
			for _, s := range list {
				if keep[s.name] {
					sel = append(sel, s)
				}
			}
			list = sel
		}
	}
	for _, s := range list {
		if err := checkGemmShape(s); err != nil {
			return err
		}
	}
	ths := []int{parallel.Threads()}
	if *threads != "" {
		ths = ths[:0]
		for _, f := range strings.Split(*threads, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || !checkThreadList(v) {
				return fmt.Errorf("bad --threads %q (want integers in 1..%d)", *threads, maxBenchThreads)
			}
			ths = append(ths, v)
		}
	}
	prev := parallel.SetThreads(0)
	defer parallel.SetThreads(prev)
	for _, s := range list {
		for _, th := range ths {
			parallel.SetThreads(th)
			var r gemmResult
			switch *dtype {
			case "f32":
				r = timeGemm[float32](s, *reps, *window)
			case "f64":
				r = timeGemm[float64](s, *reps, *window)
			default:
				return fmt.Errorf("bad --dtype %q (f32 or f64)", *dtype)
			}
			r.Threads, r.Dtype = th, *dtype
			if err := emit(stdout, r); err != nil {
				return err
			}
		}
	}
	return nil
}

func timeGemm[T gemm.Float](s gemmShape, reps int, window time.Duration) gemmResult {
	lda, ldb := s.k, s.n
	if s.transA {
		lda = s.m
	}
	if s.transB {
		ldb = s.k
	}
	fill := func(n int) []T {
		x := make([]T, n)
		for i := range x {
			x[i] = T(float64(uint32(i)*2654435761%1000)*1e-3 - 0.5)
		}
		return x
	}
	a, b, c := fill(s.m*s.k), fill(s.k*s.n), fill(s.m*s.n)
	var lastCPU time.Duration
	call := func() time.Duration {
		c0, t0 := cpuTime(), time.Now()
		gemm.Gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, s.n)
		d := time.Since(t0)
		lastCPU = cpuTime() - c0
		return d
	}
	first := call() // warm-up (pools, pages)
	if reps <= 0 {
		reps = int(500*time.Millisecond/max(first, time.Microsecond)) + 1
		reps = min(max(reps, 3), 500)
	}
	times := make([]time.Duration, reps)
	cpus := make([]time.Duration, reps)
	for i := range times {
		times[i] = call()
		cpus[i] = lastCPU
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	sort.Slice(cpus, func(i, j int) bool { return cpus[i] < cpus[j] })
	med := times[reps/2]
	cpuMed := max(cpus[reps/2], time.Microsecond)
	flop := 2 * float64(s.m) * float64(s.n) * float64(s.k)
	best := 0.0
	for w := 0; w < 3 && window > 0; w++ {
		calls, t0 := 0, time.Now()
		for time.Since(t0) < window {
			gemm.Gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, s.n)
			calls++
		}
		best = max(best, flop*float64(calls)/float64(time.Since(t0)))
	}
	return gemmResult{
		GFlopsBest3: best,
		Name:        s.name, M: s.m, N: s.n, K: s.k, TransA: s.transA, TransB: s.transB,
		Level: cpu.Selected.String(), Reps: reps,
		Ms: float64(med) / 1e6, MinMs: float64(times[0]) / 1e6,
		GFlops: flop / float64(med),
		CPUMs:  float64(cpuMed) / 1e6, GFlopsPerCPU: flop / float64(cpuMed),
	}
}

// checkGemmShape bounds a shape (from the flags or a shapes file) before
// its matrices are allocated.
func checkGemmShape(s gemmShape) error {
	for _, d := range []struct {
		name string
		v    int
	}{{"M", s.m}, {"N", s.n}, {"K", s.k}} {
		if d.v < 1 || d.v > maxBenchDim {
			return fmt.Errorf("shape %s: %s = %d, want 1..%d", s.name, d.name, d.v, maxBenchDim)
		}
	}
	return benchElements(fmt.Sprintf("shape %s (M %d, N %d, K %d)", s.name, s.m, s.n, s.k), []int{s.m, s.k}, []int{s.k, s.n}, []int{s.m, s.n})
}

func readGemmShapes(path string) ([]gemmShape, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var list []gemmShape
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		var s gemmShape
		var ta, tb int
		if _, err := fmt.Sscan(line, &s.name, &s.m, &s.n, &s.k, &ta, &tb); err != nil {
			return nil, fmt.Errorf("%s: bad line %q: %v", path, line, err)
		}
		s.transA, s.transB = ta != 0, tb != 0
		list = append(list, s)
	}
	return list, sc.Err()
}
